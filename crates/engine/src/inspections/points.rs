//! Station points (检验机构积分): each entry is a case of kind `points` (so its appeal and the
//! decision are in the journal like any action), with the points of its rule; the monthly
//! ranking sums the entries that count (all but upheld appeals) per station.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use fq_domain::actor::Actor;
use fq_domain::calendar::{local_date, start_of_day};
use fq_domain::case::Case;
use fq_domain::inspection::{Entry, default_rules, monthly_ranking};
use fq_domain::programme::FieldValue;
use serde::Serialize;
use serde_json::{Map, Value as Json};

use super::city_code;
use super::supervise::review_of;
use crate::Engine;
use crate::cases::CaseView;
use crate::error::EngineError;

/// One line of a station ranking.
#[derive(Debug, Clone, Serialize)]
pub struct StationRank {
    pub rank: u32,
    pub previous_rank: Option<u32>,
    pub station: String,
    pub points: i32,
    /// Ledger entries of the month that count.
    pub entries: u32,
    /// Records of the month reviewed, and of them passed.
    pub reviewed: u32,
    pub passed: u32,
}

/// The first and the day after the last of a Beijing month.
fn month_bounds(year: i32, month: u32) -> Result<(NaiveDate, NaiveDate), EngineError> {
    let first = NaiveDate::from_ymd_opt(year, month, 1)
        .ok_or_else(|| EngineError::field("month_invalid", "month", format!("{year}-{month} is not a month")))?;
    let next = first.checked_add_months(chrono::Months::new(1)).unwrap_or(first);
    Ok((first, next))
}

/// An entry of the domain's ledger from a points case.
fn entry_of(case: &Case) -> Option<Entry> {
    let Some(FieldValue::Number(points)) = case.fields.get("points") else { return None };
    let Some(FieldValue::Date(day)) = case.fields.get("occurred_on") else { return None };
    Some(Entry {
        station: case.text("station_code")?.to_owned(),
        rule: case.text("points_rule")?.to_owned(),
        points: *points as i32,
        at: start_of_day(*day) + chrono::Duration::hours(12),
        note: case.text("title").unwrap_or_default().to_owned(),
        appeal: match case.state.as_str() {
            "appealed" => Some(fq_domain::inspection::Appeal::Pending),
            "upheld" => Some(fq_domain::inspection::Appeal::Upheld),
            "final" => Some(fq_domain::inspection::Appeal::Rejected),
            _ => None,
        },
    })
}

impl Engine {
    /// Enters points for `station` (in `region`, its county) by `rule`, with the rule's points:
    /// a case of kind `points`, which the station may appeal if it is a deduction.
    #[allow(clippy::too_many_arguments)]
    pub async fn award_station_points(
        &self,
        actor: &Actor,
        region: &str,
        station: &str,
        rule: &str,
        occurred_on: NaiveDate,
        note: &str,
        source_case: Option<&str>,
    ) -> Result<CaseView, EngineError> {
        let rules = default_rules();
        let def = rules.iter().find(|r| r.code == rule).ok_or_else(|| {
            EngineError::field("points_rule_unknown", "rule", format!("points rule {rule} is not in the scheme"))
        })?;
        let mut fields = Map::new();
        let title = if note.trim().is_empty() { def.name.clone() } else { format!("{}：{}", def.name, note.trim()) };
        fields.insert("title".into(), Json::from(title.chars().take(200).collect::<String>()));
        fields.insert("station_code".into(), Json::from(station));
        fields.insert("points_rule".into(), Json::from(def.code.clone()));
        fields.insert("points".into(), Json::from(def.points));
        fields.insert("occurred_on".into(), Json::from(occurred_on.to_string()));
        if let Some(source) = source_case {
            fields.insert("source_case".into(), Json::from(source));
        }
        self.open_inspection_case(actor, "points", region, "points_rule", fields).await
    }

    /// Enters the points a month's re-checks earn: a deduction for each disagreement (the
    /// re-check case is the entry's source, so it is entered once) and an award to each station
    /// re-checked that month without one. Returns the entries made.
    pub async fn settle_recheck_points(
        &self,
        actor: &Actor,
        city: &str,
        year: i32,
        month: u32,
    ) -> Result<Vec<String>, EngineError> {
        let city_code = city_code(city)?;
        self.check_inspection_oversight(actor, &city_code)?;
        let (first, next) = month_bounds(year, month)?;
        let rechecks = self.inspection_cases("recheck", &city_code, Some(start_of_day(first)), Some(start_of_day(next))).await?;
        let entries = self.inspection_cases("points", &city_code, None, None).await?;
        let sourced: BTreeSet<&str> = entries.iter().filter_map(|c| c.text("source_case")).collect();
        let month_tag = format!("{year}-{month:02}");
        let mut made = Vec::new();
        let mut stations: BTreeMap<(String, String), bool> = BTreeMap::new();
        for case in rechecks.iter().filter(|c| c.state == "agreed" || c.state == "disagreed") {
            let Some(station) = case.text("station_code") else { continue };
            let clean = stations.entry((station.to_owned(), case.region.to_string())).or_insert(true);
            if case.state == "disagreed" {
                *clean = false;
                if !sourced.contains(case.number.as_str()) {
                    let day = case.closed_at.map_or(first, local_date);
                    let note = format!("复核 {} 不一致", case.number);
                    let view = self
                        .award_station_points(
                            actor,
                            &case.region.to_string(),
                            station,
                            "rc_disagreement",
                            day,
                            &note,
                            Some(&case.number),
                        )
                        .await?;
                    made.push(view.case.number);
                }
            }
        }
        for ((station, region), clean) in stations {
            let source = format!("{month_tag}:{station}");
            if clean && !sourced.contains(source.as_str()) {
                let last = next.pred_opt().unwrap_or(first);
                let view = self
                    .award_station_points(actor, &region, &station, "rc_clean_month", last, &month_tag, Some(&source))
                    .await?;
                made.push(view.case.number);
            }
        }
        Ok(made)
    }

    /// The stations of `city` ranked by the points counted in the Beijing month, with the rank
    /// the month before and the month's reviewed and passed records.
    pub async fn station_ranking(
        &self,
        actor: &Actor,
        city: &str,
        year: i32,
        month: u32,
    ) -> Result<Vec<StationRank>, EngineError> {
        let city_code = city_code(city)?;
        self.check_inspection_oversight(actor, &city_code)?;
        let (first, next) = month_bounds(year, month)?;
        let points = self.inspection_cases("points", &city_code, None, None).await?;
        let entries: Vec<Entry> = points.iter().filter_map(entry_of).collect();
        let records = self.inspection_cases("record", &city_code, Some(start_of_day(first)), Some(start_of_day(next))).await?;
        let mut reviewed: BTreeMap<String, (u32, u32)> = BTreeMap::new();
        for case in &records {
            let Some(station) = case.text("station_code") else { continue };
            let tally = reviewed.entry(station.to_owned()).or_default();
            if let Some(review) = review_of(case) {
                tally.0 += 1;
                tally.1 += u32::from(review.passed);
            }
        }
        let stations: Vec<String> = reviewed
            .keys()
            .cloned()
            .chain(entries.iter().map(|e| e.station.clone()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let counted = |station: &str| {
            entries
                .iter()
                .filter(|e| e.station == station && e.counts())
                .filter(|e| {
                    let day = local_date(e.at);
                    day.year() == year && day.month() == month
                })
                .count() as u32
        };
        Ok(monthly_ranking(&stations, &entries, year, month)
            .into_iter()
            .map(|r| {
                let (done, passed) = reviewed.get(&r.station).copied().unwrap_or_default();
                StationRank {
                    rank: r.rank,
                    previous_rank: r.previous_rank,
                    entries: counted(&r.station),
                    reviewed: done,
                    passed,
                    points: r.points,
                    station: r.station,
                }
            })
            .collect())
    }
}
