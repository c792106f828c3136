//! A dispute programme's figures, drillable by region, channel, station, category and month:
//! cases and amounts, success, first-line and online resolution, time to resolution, on-time
//! handling, agreement performance and the year-on-year change in volume.
//!
//! They are computed from the cases' snapshots (outcomes, amounts and performance live there,
//! read through the kind's `[kinds.figures]` map), so any breakdown is the same fold. The
//! definitions are in docs/PROGRAMMES.md, "Outcomes and figures".

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Months, NaiveDate, TimeZone, Utc};
use fq_domain::actor::Actor;
use fq_domain::calendar::{beijing, local_date};
use fq_domain::case::Case;
use fq_domain::org::OrgId;
use fq_domain::programme::{CaseKind, FieldValue, Programme};
use fq_domain::region::RegionCode;
use fq_store::CaseFilter;
use serde::Serialize;

use crate::Engine;
use crate::error::EngineError;

/// What the rows of a report break the figures down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Breakdown {
    /// The region's next level down (counties of a city, towns of a county).
    Region,
    Channel,
    /// The intake unit (service station, shared court point, committee).
    Station,
    Category,
    /// The Beijing-time month the case was received.
    Month,
}

impl Breakdown {
    pub const ALL: [Breakdown; 5] =
        [Breakdown::Region, Breakdown::Channel, Breakdown::Station, Breakdown::Category, Breakdown::Month];

    pub fn as_str(self) -> &'static str {
        match self {
            Breakdown::Region => "region",
            Breakdown::Channel => "channel",
            Breakdown::Station => "station",
            Breakdown::Category => "category",
            Breakdown::Month => "month",
        }
    }

    pub fn parse(text: &str) -> Option<Breakdown> {
        Breakdown::ALL.into_iter().find(|b| b.as_str() == text)
    }
}

/// Which cases: a programme's, received in a region over `[from, to)`, optionally narrowed to
/// one channel, station or category (a drill-down).
#[derive(Debug, Clone)]
pub struct FigureQuery {
    pub programme: String,
    pub region: RegionCode,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub channel: Option<String>,
    pub station: Option<OrgId>,
    pub category: Option<String>,
    pub by: Breakdown,
}

/// The counts behind the figures of one set of cases. Amounts are in fen.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Figures {
    pub cases: u64,
    pub open: u64,
    pub amount_fen: i64,
    pub agreed_fen: i64,
    pub paid_fen: i64,
    /// Cases that reached an outcome.
    pub ended: u64,
    pub resolved: u64,
    pub first_line: u64,
    /// Resolved cases received through an online channel.
    pub online_resolved: u64,
    /// Resolved cases whose resolution time is known, and their days from receipt.
    pub timed: u64,
    pub days_sum: f64,
    #[serde(skip)]
    days: Vec<f64>,
    pub median_days: Option<f64>,
    /// Closed cases whose timeliness is known, and those handled in time.
    pub closed_judged: u64,
    pub on_time: u64,
    pub agreements: u64,
    /// Agreements whose performance deadline has passed (or that were performed), and those
    /// performed.
    pub performance_due: u64,
    pub performed: u64,
}

impl Figures {
    fn ratio(n: u64, of: u64) -> Option<f64> {
        (of > 0).then(|| n as f64 / of as f64)
    }

    /// Resolved among the cases that ended.
    pub fn success_rate(&self) -> Option<f64> {
        Figures::ratio(self.resolved, self.ended)
    }

    /// Resolved at the first line among the cases that ended.
    pub fn first_line_rate(&self) -> Option<f64> {
        Figures::ratio(self.first_line, self.ended)
    }

    /// Received online among the resolved.
    pub fn online_rate(&self) -> Option<f64> {
        Figures::ratio(self.online_resolved, self.resolved)
    }

    pub fn mean_days(&self) -> Option<f64> {
        (self.timed > 0).then(|| self.days_sum / self.timed as f64)
    }

    pub fn on_time_rate(&self) -> Option<f64> {
        Figures::ratio(self.on_time, self.closed_judged)
    }

    pub fn performance_rate(&self) -> Option<f64> {
        Figures::ratio(self.performed, self.performance_due)
    }

    fn add(&mut self, case: &Case, kind: &CaseKind, today: NaiveDate) {
        let figures = &kind.figures;
        let money = |field: &Option<String>| match field.as_ref().and_then(|f| case.fields.get(f)) {
            Some(FieldValue::Money(fen)) => *fen,
            _ => 0,
        };
        self.cases += 1;
        self.open += u64::from(case.closed_at.is_none());
        // Saturating: amounts are bounded per case, not per region.
        self.amount_fen = self.amount_fen.saturating_add(money(&figures.amount));
        self.agreed_fen = self.agreed_fen.saturating_add(money(&figures.agreed_amount));
        self.paid_fen = self.paid_fen.saturating_add(money(&figures.paid_amount));
        if let Some(on_time) = case.closed_on_time() {
            self.closed_judged += 1;
            self.on_time += u64::from(on_time);
        }
        let Some(outcome) = case.outcome.as_ref() else { return };
        let Some(def) = kind.outcome(&outcome.code) else { return };
        self.ended += 1;
        if def.resolved {
            self.resolved += 1;
            self.first_line += u64::from(def.first_line);
            self.online_resolved += u64::from(figures.online_channels.contains(&case.channel));
            if let Some(at) = outcome.at {
                let days = (at - case.opened_at).num_seconds().max(0) as f64 / 86_400.0;
                self.timed += 1;
                self.days_sum += days;
                self.days.push(days);
            }
        }
        if def.agreement {
            self.agreements += 1;
            let performed =
                figures.performed.as_ref().is_some_and(|f| matches!(case.fields.get(f), Some(FieldValue::Bool(true))));
            let due = match figures.performance_due.as_ref().and_then(|f| case.fields.get(f)) {
                Some(FieldValue::Date(day)) => *day < today,
                _ => false,
            };
            if performed || due {
                self.performance_due += 1;
                self.performed += u64::from(performed);
            }
        }
    }

    fn finish(&mut self) {
        self.days.sort_by(f64::total_cmp);
        let n = self.days.len();
        self.median_days = match n {
            0 => None,
            _ if n % 2 == 1 => Some(self.days[n / 2]),
            _ => Some((self.days[n / 2 - 1] + self.days[n / 2]) / 2.0),
        };
    }
}

/// One row of a breakdown.
#[derive(Debug, Clone, Serialize)]
pub struct FigureRow {
    /// The region code, channel code, station id, category code or `YYYY-MM`; empty for
    /// cases that have none (no station, no category).
    pub key: String,
    pub figures: Figures,
}

#[derive(Debug, Clone, Serialize)]
pub struct FigureReport {
    pub programme: String,
    pub kind: String,
    pub region: RegionCode,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub by: Breakdown,
    pub total: Figures,
    /// Cases received in the same period a year earlier (same narrowing), for the year-on-year
    /// change in volume.
    pub previous_year_cases: u64,
    pub rows: Vec<FigureRow>,
    /// Cases imported from historical records among `total`.
    pub imported: u64,
}

impl FigureReport {
    /// The year-on-year change in the number of cases received (0.25 = a quarter more).
    pub fn year_on_year(&self) -> Option<f64> {
        (self.previous_year_cases > 0)
            .then(|| (self.total.cases as f64 - self.previous_year_cases as f64) / self.previous_year_cases as f64)
    }
}

/// The row a case falls in.
fn row_key(case: &Case, kind: &CaseKind, by: Breakdown, region: &RegionCode) -> String {
    match by {
        Breakdown::Region => {
            let code = case.region.to_string();
            let own = region.to_string().len();
            // Region codes grow 2, 4, 6, 9, 12 digits: the next level below the region read.
            let next = [2, 4, 6, 9, 12].into_iter().find(|n| *n > own).unwrap_or(own);
            code.get(..next).unwrap_or(&code).to_owned()
        }
        Breakdown::Channel => case.channel.clone(),
        Breakdown::Station => case.intake_org.map(|o| o.0.to_string()).unwrap_or_default(),
        Breakdown::Category => kind
            .figures
            .category
            .as_ref()
            .and_then(|f| match case.fields.get(f) {
                Some(FieldValue::Enum(code)) => Some(code.clone()),
                _ => None,
            })
            .unwrap_or_default(),
        Breakdown::Month => {
            let day = local_date(case.opened_at);
            format!("{:04}-{:02}", day.year(), day.month())
        }
    }
}

fn matches(case: &Case, kind: &CaseKind, query: &FigureQuery) -> bool {
    query.channel.as_ref().is_none_or(|c| *c == case.channel)
        && query.station.is_none_or(|s| case.intake_org == Some(s))
        && query.category.as_ref().is_none_or(|c| row_key(case, kind, Breakdown::Category, &query.region) == *c)
}

impl Engine {
    /// The figures of `query`'s cases, broken down as it asks.
    pub async fn dispute_figures(&self, actor: &Actor, query: FigureQuery) -> Result<FigureReport, EngineError> {
        let programme = self.programme(&query.programme)?;
        if query.to <= query.from {
            return Err(EngineError::field("period_invalid", "to", "the end of the period must come after its start"));
        }
        self.check_may_read_figures(actor, &programme, &query.region)?;
        self.region(&query.region).await?;
        let kind = figure_kind(&programme)?;
        let today = local_date(self.now());
        let cases = self.cases_received(&programme, &query, query.from, query.to).await?;
        let mut total = Figures::default();
        let mut rows: BTreeMap<String, Figures> = BTreeMap::new();
        let mut imported = 0;
        for case in cases.iter().filter(|c| c.kind == kind.code && matches(c, kind, &query)) {
            total.add(case, kind, today);
            rows.entry(row_key(case, kind, query.by, &query.region)).or_default().add(case, kind, today);
            imported += u64::from(case.origin.is_some());
        }
        total.finish();
        rows.values_mut().for_each(Figures::finish);
        // Twelve months earlier on the Beijing calendar (a month starts at 16:00 UTC the day before).
        let year_ago = |t: DateTime<Utc>| {
            let local = t.with_timezone(&beijing()).naive_local();
            local
                .checked_sub_months(Months::new(12))
                .and_then(|l| beijing().from_local_datetime(&l).single())
                .map_or(t, |l| l.to_utc())
        };
        let previous = self.cases_received(&programme, &query, year_ago(query.from), year_ago(query.to)).await?;
        let previous_year_cases = previous.iter().filter(|c| c.kind == kind.code && matches(c, kind, &query)).count() as u64;
        Ok(FigureReport {
            programme: programme.code.clone(),
            kind: kind.code.clone(),
            region: query.region.clone(),
            from: query.from,
            to: query.to,
            by: query.by,
            total,
            previous_year_cases,
            rows: rows.into_iter().map(|(key, figures)| FigureRow { key, figures }).collect(),
            imported,
        })
    }

    async fn cases_received(
        &self,
        programme: &Programme,
        query: &FigureQuery,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Case>, EngineError> {
        let filter = CaseFilter {
            programme: Some(programme.code.clone()),
            regions: vec![query.region.clone()],
            opened_from: Some(from),
            opened_to: Some(to),
            ..CaseFilter::default()
        };
        self.cases_matching(&filter).await
    }
}

/// The kind whose outcomes the figures count: the first that declares any.
pub fn figure_kind(programme: &Programme) -> Result<&CaseKind, EngineError> {
    programme.kinds.iter().find(|k| !k.outcomes.is_empty()).ok_or_else(|| {
        EngineError::field(
            "figures_undefined",
            "programme",
            format!("programme {} declares no outcomes, so it has no dispute figures", programme.code),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breakdowns_round_trip_through_their_names() {
        for b in Breakdown::ALL {
            assert_eq!(Breakdown::parse(b.as_str()), Some(b));
        }
        assert_eq!(Breakdown::parse("county"), None);
    }

    #[test]
    fn rates_are_absent_without_a_denominator() {
        let f = Figures::default();
        assert_eq!(f.success_rate(), None);
        assert_eq!(f.performance_rate(), None);
        let f = Figures { ended: 4, resolved: 3, first_line: 1, ..Figures::default() };
        assert_eq!(f.success_rate(), Some(0.75));
        assert_eq!(f.first_line_rate(), Some(0.25));
    }
}
