//! The track record of forecasts (预测检验档案). Every night the forecasts whose horizon ended
//! that night (yesterday's day, the week from seven days ago, the month from thirty days ago)
//! are checked against the events stored by then (`fq_risk::check`), every category's summed
//! and each category's, and the checks are stored for good (`risk_checks`): the forecasts
//! themselves are forgotten after a month, and a county needs months of checks to know how far
//! to trust them. Today's forecast lists, after the recent rows checked on the page
//! ([`crate::risk_record`]), the stored checks before them, and sums up how the model did
//! against previous-period counts over them all. `fengqiao risk check-forecasts` fills the
//! record for the periods before the nightly run began, fitting each forecast on the events
//! stored before its day.

use std::sync::Arc;

use chrono::NaiveDate;
use fq_domain::actor::Actor;
use fq_domain::calendar::local_date;
use fq_domain::region::RegionCode;
use fq_risk::Event;
use fq_risk::backtest::Horizon;
use fq_risk::check::ForecastCheck;
use fq_risk::metrics::ReliabilityBin;
use fq_store::{Change, EVERY_CATEGORY, Op, RiskCheckRecord};
use serde::{Deserialize, Serialize};

use crate::Engine;
use crate::error::EngineError;
use crate::risk_forecast::{KEPT_FORECAST_DAYS, add_cells, join_failed};
use crate::risk_record::PastForecast;
use crate::risk_whistle::{NIGHTLY_CELL_METRES, risk_categories};

/// How many periods today's forecast lists at most, recent rows and stored checks together:
/// two weeks of days, a quarter of weeks, a year of months.
pub fn track_length(horizon: Horizon) -> usize {
    match horizon {
        Horizon::Day => 14,
        Horizon::Week => 13,
        Horizon::Month => 12,
    }
}

/// The most periods one backfill checks: a year of weeks (each period fits every category).
pub const MAX_BACKFILL_PERIODS: usize = 53;

/// How the listed forecasts did together: the periods with a check, their events, the events
/// the model's flagged cells held and those the same number of cells picked by the previous
/// period's counts held, and in how many periods the model held more (or fewer) than those;
/// and whether the probabilities held over every study cell of those periods (the Brier score
/// and the reliability table, each period's study cells counted once).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordSummary {
    pub periods: usize,
    pub events: usize,
    pub captured: f64,
    pub previous_captured: f64,
    pub ahead: usize,
    pub behind: usize,
    pub brier: f64,
    pub reliability: Vec<ReliabilityBin>,
}

/// The summary of the record's `rows`; None when none of them has a check.
pub fn summarise_record(rows: &[PastForecast]) -> Option<RecordSummary> {
    let checks: Vec<_> = rows.iter().filter_map(|r| r.check.as_ref()).collect();
    if checks.is_empty() {
        return None;
    }
    // Both sides flag the same number of cells, so the events they hold compare as the PAIs do;
    // a difference below a millionth of an event (shares of tied cells) is a tie.
    let margin = |c: &&ForecastCheck| c.captured - c.previous_captured;
    Some(RecordSummary {
        periods: checks.len(),
        events: checks.iter().map(|c| c.events).sum(),
        captured: checks.iter().map(|c| c.captured).sum(),
        previous_captured: checks.iter().map(|c| c.previous_captured).sum(),
        ahead: checks.iter().filter(|c| margin(c) > 1e-6).count(),
        behind: checks.iter().filter(|c| margin(c) < -1e-6).count(),
        brier: {
            let cells: usize = checks.iter().map(|c| c.study_cells).sum();
            checks.iter().map(|c| c.brier * c.study_cells as f64).sum::<f64>() / cells.max(1) as f64
        },
        reliability: pooled(checks.iter().flat_map(|c| &c.reliability)),
    })
}

/// Reliability bins of several checks pooled bin by bin (the bins are the same edges), the
/// means weighted by the cells.
fn pooled<'a>(bins: impl Iterator<Item = &'a ReliabilityBin>) -> Vec<ReliabilityBin> {
    let mut pooled: Vec<ReliabilityBin> = Vec::new();
    for bin in bins {
        let at = match pooled.iter().position(|p| p.from == bin.from) {
            Some(at) => at,
            None => {
                pooled.push(ReliabilityBin { from: bin.from, to: bin.to, ..ReliabilityBin::default() });
                pooled.len() - 1
            }
        };
        let p = &mut pooled[at];
        let (n, m) = (p.cells as f64, bin.cells as f64);
        if n + m > 0.0 {
            p.mean_forecast = (p.mean_forecast * n + bin.mean_forecast * m) / (n + m);
            p.observed = (p.observed * n + bin.observed * m) / (n + m);
        }
        p.cells += bin.cells;
    }
    pooled.sort_by(|a, b| a.from.total_cmp(&b.from));
    pooled
}

/// A checked forecast of one scope: a category, or None for every category summed.
type ScopedCheck = (Option<String>, PastForecast);

/// What a row of the track record keeps (`risk_checks.figures`), its own format: the table is
/// kept for good, so every field has a default (a row written before a field was added still
/// reads) and unknown fields are ignored. The day and when it was checked are the row's columns.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
struct StoredCheck {
    categories: Vec<String>,
    check: Option<StoredFigures>,
}

/// [`ForecastCheck`]'s figures as the track record keeps them.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
struct StoredFigures {
    events: usize,
    in_study: usize,
    study_cells: usize,
    share: f64,
    flagged_cells: f64,
    captured: f64,
    pai: f64,
    pei: f64,
    previous_captured: f64,
    previous_pai: f64,
    brier: f64,
    reliability: Vec<StoredBin>,
}

/// A bin of [`ReliabilityBin`] as the track record keeps it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
struct StoredBin {
    from: f64,
    to: f64,
    cells: u64,
    mean_forecast: f64,
    observed: f64,
}

impl From<&ForecastCheck> for StoredFigures {
    fn from(c: &ForecastCheck) -> StoredFigures {
        StoredFigures {
            events: c.events,
            in_study: c.in_study,
            study_cells: c.study_cells,
            share: c.share,
            flagged_cells: c.flagged_cells,
            captured: c.captured,
            pai: c.pai,
            pei: c.pei,
            previous_captured: c.previous_captured,
            previous_pai: c.previous_pai,
            brier: c.brier,
            reliability: c
                .reliability
                .iter()
                .map(|b| StoredBin {
                    from: b.from,
                    to: b.to,
                    cells: b.cells,
                    mean_forecast: b.mean_forecast,
                    observed: b.observed,
                })
                .collect(),
        }
    }
}

impl From<StoredFigures> for ForecastCheck {
    fn from(c: StoredFigures) -> ForecastCheck {
        ForecastCheck {
            events: c.events,
            in_study: c.in_study,
            study_cells: c.study_cells,
            share: c.share,
            flagged_cells: c.flagged_cells,
            captured: c.captured,
            pai: c.pai,
            pei: c.pei,
            previous_captured: c.previous_captured,
            previous_pai: c.previous_pai,
            brier: c.brier,
            reliability: c
                .reliability
                .into_iter()
                .map(|b| ReliabilityBin {
                    from: b.from,
                    to: b.to,
                    cells: b.cells,
                    mean_forecast: b.mean_forecast,
                    observed: b.observed,
                })
                .collect(),
        }
    }
}

impl Engine {
    /// Checks `county`'s forecasts over `horizon` from `day`, every category's summed and each
    /// category's, against `events` (the county's located events stored before a day at or
    /// after the horizon's end). Forecasts not held are fitted on the events before `day`, and
    /// kept while the database keeps that day's forecasts; a category with too little history
    /// then is left out, as its map leaves it out.
    async fn check_forecasts_of(
        &self,
        county: &RegionCode,
        horizon: Horizon,
        day: NaiveDate,
        events: &Arc<Vec<Event>>,
    ) -> Result<Vec<ScopedCheck>, EngineError> {
        let programme = self.programme("risk")?;
        let first = fq_risk::events::day_number(day);
        let before: Arc<Vec<Event>> = Arc::new(events.iter().filter(|e| e.day < first).cloned().collect());
        let categories = risk_categories(&programme, &before);
        let (mut held, missing) = self.held_forecasts(county, categories, day, horizon, before.len()).await?;
        let keep = day >= local_date(self.now()) - chrono::Duration::days(KEPT_FORECAST_DAYS);
        for (c, forecast) in self.fit_forecasts(county, &before, missing, day, horizon, keep).await? {
            if let Ok(forecast) = forecast {
                held.push((c, forecast));
            }
        }
        held.sort_by(|a, b| a.0.cmp(&b.0));
        if held.is_empty() {
            return Ok(Vec::new());
        }
        // Every category summed, then each alone (a map of one category reads its own row).
        let mut scopes: Vec<(Option<String>, Vec<String>, Vec<f64>)> = Vec::new();
        let mut summed = Vec::new();
        for (_, forecast) in &held {
            add_cells(&mut summed, &forecast.cells);
        }
        scopes.push((None, held.iter().map(|(c, _)| c.clone()).collect(), summed));
        for (c, forecast) in &held {
            scopes.push((Some(c.clone()), vec![c.clone()], forecast.cells.iter().map(|c| c.expected).collect()));
        }
        // Each check lays the day's grid over the county's events: off the request threads.
        let events = Arc::clone(events);
        tokio::task::spawn_blocking(move || {
            scopes
                .into_iter()
                .map(|(scope, categories, expected)| {
                    let check = fq_risk::check::check(&events, &categories, NIGHTLY_CELL_METRES, horizon, day, &expected);
                    (scope, PastForecast { day, categories, missing: Vec::new(), check, checked_at: None })
                })
                .collect()
        })
        .await
        .map_err(join_failed)
    }

    /// Stores `rows` in the track record, stamped now: a horizon without a located event of its
    /// categories too (listed as having nothing to check, so that the record has no gaps).
    /// Returns how many rows were stored.
    async fn store_checks(&self, county: &RegionCode, horizon: Horizon, rows: Vec<ScopedCheck>) -> Result<usize, EngineError> {
        let checked_at = self.now();
        let mut change = Change::new();
        let mut stored = 0;
        for (scope, row) in rows.into_iter().filter(|(_, r)| !r.categories.is_empty()) {
            let figures = StoredCheck { categories: row.categories, check: row.check.as_ref().map(StoredFigures::from) };
            let figures =
                serde_json::to_value(figures).map_err(|e| EngineError::field("forecast_failed", "check", e.to_string()))?;
            change = change.op(Op::PutRiskCheck(Box::new(RiskCheckRecord {
                county: county.clone(),
                scope: scope.unwrap_or_else(|| EVERY_CATEGORY.to_owned()),
                day: row.day,
                horizon_days: horizon.days(),
                model: fq_risk::whistle::MODEL.to_owned(),
                checked_at,
                figures,
            })));
            stored += 1;
        }
        if stored > 0 {
            self.store.commit(change).await?;
        }
        Ok(stored)
    }

    /// The nightly run's checks of `day`: `county`'s forecasts whose horizon ended by `day`
    /// (from the day before, from seven days and from thirty days before), stored in the track
    /// record (a check made again the same night replaces its row). Returns how many rows were
    /// stored.
    pub(crate) async fn keep_checks(&self, county: &RegionCode, day: NaiveDate) -> Result<usize, EngineError> {
        let events = Arc::new(self.stored_events(county, day).await?);
        let mut stored = 0;
        for horizon in [Horizon::Day, Horizon::Week, Horizon::Month] {
            let from = day - chrono::Duration::days(i64::from(horizon.days()));
            let rows = self.check_forecasts_of(county, horizon, from, &events).await?;
            stored += self.store_checks(county, horizon, rows).await?;
        }
        Ok(stored)
    }

    /// Fills `county`'s track record over `horizon` for the `periods` periods before today
    /// (today less one horizon, two, ...), as the nightly run would have, fitting each forecast
    /// not held on the events stored before its day: for a county whose history was imported,
    /// or whose nightly run began later. A period already in the record keeps its check (made
    /// the night the period ended, on the forecast shown then) unless `replace`. Operators
    /// only. Returns every category's summed check of each period, latest first: those kept
    /// with when they were checked (periods with no located event have no check).
    pub async fn backfill_checks(
        &self,
        actor: &Actor,
        county: &RegionCode,
        horizon: Horizon,
        periods: usize,
        replace: bool,
    ) -> Result<Vec<PastForecast>, EngineError> {
        crate::access::require_operator(actor, "filling the track record of forecasts")?;
        if county.level() != fq_domain::region::RegionLevel::County {
            return Err(EngineError::field("region_not_county", "county", format!("{county} is not a county")));
        }
        self.active_region(county, "county").await?;
        if !(1..=MAX_BACKFILL_PERIODS).contains(&periods) {
            return Err(EngineError::field(
                "periods_out_of_range",
                "periods",
                format!("{periods} periods: from 1 to {MAX_BACKFILL_PERIODS}"),
            ));
        }
        let today = local_date(self.now());
        let back = |k: usize| today - chrono::Duration::days(i64::try_from(k).unwrap_or(0) * i64::from(horizon.days()));
        let kept = if replace { Vec::new() } else { self.stored_checks(county, None, horizon, back(periods), today).await? };
        let events = Arc::new(self.stored_events(county, today).await?);
        let mut record = Vec::new();
        for k in 1..=periods {
            if let Some(check) = kept.iter().find(|c| c.day == back(k)) {
                record.push(check.clone());
                continue;
            }
            let rows = self.check_forecasts_of(county, horizon, back(k), &events).await?;
            if let Some((_, every)) = rows.iter().find(|(scope, _)| scope.is_none()) {
                record.push(every.clone());
            }
            self.store_checks(county, horizon, rows).await?;
        }
        Ok(record)
    }

    /// The stored checks of `county` and `category` (None: every category) over `horizon` whose
    /// first day is in `from..before`, latest first; a row that cannot be read is logged and
    /// left out.
    pub(crate) async fn stored_checks(
        &self,
        county: &RegionCode,
        category: Option<&str>,
        horizon: Horizon,
        from: NaiveDate,
        before: NaiveDate,
    ) -> Result<Vec<PastForecast>, EngineError> {
        let scope = category.unwrap_or(EVERY_CATEGORY);
        let rows = self.store.risk_checks(county, scope, horizon.days(), from, before).await?;
        Ok(rows.into_iter().filter_map(|row| read_stored(county, scope, row)).collect())
    }
}

/// A row of the track record as the record lists it; None (logged) for one that cannot be read.
fn read_stored(county: &RegionCode, scope: &str, row: RiskCheckRecord) -> Option<PastForecast> {
    match serde_json::from_value::<StoredCheck>(row.figures) {
        Ok(stored) => Some(PastForecast {
            day: row.day,
            categories: stored.categories,
            missing: Vec::new(),
            check: stored.check.map(ForecastCheck::from),
            checked_at: Some(row.checked_at),
        }),
        Err(e) => {
            tracing::warn!(%county, scope, day = %row.day, error = %e, "a stored check cannot be read; left out");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(captured: f64, previous_captured: f64, events: usize) -> PastForecast {
        let check = ForecastCheck {
            events,
            in_study: events,
            study_cells: 40,
            share: 0.05,
            flagged_cells: 2.0,
            captured,
            pai: captured / events as f64 * 20.0,
            pei: 1.0,
            previous_captured,
            previous_pai: previous_captured / events as f64 * 20.0,
            // 38 cells at 2%, none with an event; 2 at 50%, one with.
            brier: (38.0 * 0.02 * 0.02 + 2.0 * 0.25) / 40.0,
            reliability: vec![bin(0.02, 38, 0.02, 0.0), bin(0.4, 2, 0.5, 0.5)],
        };
        let day = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        PastForecast { day, categories: vec!["theft".into()], missing: Vec::new(), check: Some(check), checked_at: None }
    }

    fn bin(from: f64, cells: u64, mean_forecast: f64, observed: f64) -> ReliabilityBin {
        let to = fq_risk::metrics::BINS.iter().copied().find(|edge| *edge > from).unwrap_or(1.0);
        ReliabilityBin { from, to, cells, mean_forecast, observed }
    }

    #[test]
    fn a_summary_adds_up_the_checked_periods_and_counts_ties_as_neither() {
        let quiet = PastForecast { check: None, ..row(0.0, 0.0, 1) };
        assert_eq!(summarise_record(&[]), None);
        assert_eq!(summarise_record(std::slice::from_ref(&quiet)), None, "no period with a check");
        let rows = [row(3.0, 1.0, 10), quiet, row(1.0, 2.5, 6), row(2.0, 2.0 + 1e-9, 4)];
        let summary = summarise_record(&rows).unwrap();
        assert_eq!((summary.periods, summary.events, summary.ahead, summary.behind), (3, 20, 1, 1));
        assert!((summary.captured - 6.0).abs() < 1e-12 && (summary.previous_captured - 5.5).abs() < 1e-6, "{summary:?}");
        // The probabilities pooled over the three periods' cells, bin by bin.
        let mut varied = row(1.0, 1.0, 2);
        if let Some(c) = varied.check.as_mut() {
            (c.study_cells, c.brier) = (10, 0.1);
            c.reliability = vec![bin(0.4, 2, 0.8, 1.0), bin(0.1, 8, 0.15, 0.25)];
        }
        let pooled = summarise_record(&[row(3.0, 1.0, 10), varied]).unwrap();
        let brier = ((38.0 * 0.0004 + 0.5) / 40.0 * 40.0 + 0.1 * 10.0) / 50.0;
        assert!((pooled.brier - brier).abs() < 1e-12, "{pooled:?}");
        let bins: Vec<(f64, u64)> = pooled.reliability.iter().map(|b| (b.from, b.cells)).collect();
        assert_eq!(bins, [(0.02, 38), (0.1, 8), (0.4, 4)], "in the order of the bins");
        let high = &pooled.reliability[2];
        assert!((high.mean_forecast - 0.65).abs() < 1e-12 && (high.observed - 0.75).abs() < 1e-12, "{high:?}");
    }

    fn stored(figures: serde_json::Value) -> Option<PastForecast> {
        let day = NaiveDate::from_ymd_opt(2026, 10, 5).unwrap();
        let checked_at = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
        let county = RegionCode::parse("331004").unwrap();
        let row = RiskCheckRecord {
            county: county.clone(),
            scope: EVERY_CATEGORY.into(),
            day,
            horizon_days: 7,
            model: "m".into(),
            checked_at,
            figures,
        };
        read_stored(&county, EVERY_CATEGORY, row)
    }

    /// The track record is kept for good: its rows' format is pinned here, and a row written
    /// with fewer fields (before one was added) or more (by a later version) still reads.
    #[test]
    fn a_stored_check_keeps_its_format_and_reads_older_and_newer_rows() {
        let row = row(3.0, 1.0, 10);
        let figures = StoredCheck { categories: row.categories.clone(), check: row.check.as_ref().map(StoredFigures::from) };
        let pinned = serde_json::json!({
            "categories": ["theft"],
            "check": { "events": 10, "in_study": 10, "study_cells": 40, "share": 0.05, "flagged_cells": 2.0,
                       "captured": 3.0, "pai": 6.0, "pei": 1.0, "previous_captured": 1.0, "previous_pai": 2.0,
                       "brier": (38.0 * 0.02 * 0.02 + 2.0 * 0.25) / 40.0,
                       "reliability": [
                           { "from": 0.02, "to": 0.05, "cells": 38, "mean_forecast": 0.02, "observed": 0.0 },
                           { "from": 0.4, "to": 1.0, "cells": 2, "mean_forecast": 0.5, "observed": 0.5 } ] }
        });
        assert_eq!(serde_json::to_value(&figures).unwrap(), pinned);
        let read = stored(pinned).unwrap();
        assert_eq!(
            (read.day, read.check, read.checked_at.is_some()),
            (NaiveDate::from_ymd_opt(2026, 10, 5).unwrap(), row.check, true)
        );
        let older = stored(serde_json::json!({ "categories": ["theft"], "check": { "events": 4, "captured": 2.0 } })).unwrap();
        assert_eq!(older.check.as_ref().map(|c| (c.events, c.captured, c.pai)), Some((4, 2.0, 0.0)));
        let newer = stored(serde_json::json!({ "categories": ["theft"], "check": null, "model_detail": 3 })).unwrap();
        assert_eq!((newer.categories, newer.check), (vec!["theft".to_owned()], None));
        assert_eq!(stored(serde_json::json!("not an object")), None, "unreadable: left out");
    }

    #[test]
    fn the_track_record_is_a_fortnight_of_days_a_quarter_of_weeks_a_year_of_months() {
        let spans: Vec<i32> = [Horizon::Day, Horizon::Week, Horizon::Month]
            .into_iter()
            .map(|h| i32::try_from(track_length(h)).unwrap() * h.days())
            .collect();
        assert_eq!(spans, [14, 91, 360]);
    }
}
