//! The region and period of a figures page (dashboard, dispute figures) from its query: dates
//! as `YYYY-MM-DD` in Beijing time, both ends included, the end defaulting to today and the
//! start to a number of days before it.

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use fq_domain::calendar::beijing;
use fq_domain::region::RegionCode;
use fq_engine::EngineError;

/// The days shown, and the instants `[from, to)` they cover when the query was valid.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Period {
    pub from_day: NaiveDate,
    pub to_day: NaiveDate,
    /// `None`: a date was unreadable, the end before the start, or the period longer than allowed.
    pub range: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

/// A day in `YYYY-MM-DD`; far years are refused (signed years parse, and break arithmetic).
fn parse_day(text: Option<&str>) -> Result<Option<NaiveDate>, ()> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => match NaiveDate::parse_from_str(t, "%Y-%m-%d") {
            Ok(day) if fq_domain::calendar::plausible_day(day) => Ok(Some(day)),
            _ => Err(()),
        },
    }
}

fn midnight(day: NaiveDate) -> Option<DateTime<Utc>> {
    beijing().from_local_datetime(&day.and_hms_opt(0, 0, 0)?).single().map(|t| t.to_utc())
}

/// The period of `from` and `to` (either may be absent), `default_days` long by default and at
/// most `max_days`.
pub(crate) fn period(from: Option<&str>, to: Option<&str>, today: NaiveDate, default_days: u64, max_days: i64) -> Period {
    let before = |end: NaiveDate| end - Days::new(default_days - 1);
    let (from_day, to_day, readable) = match (parse_day(from), parse_day(to)) {
        (Ok(from), Ok(to)) => {
            let to = to.unwrap_or(today);
            (from.unwrap_or(before(to)), to, true)
        }
        _ => (before(today), today, false),
    };
    let span = (to_day - from_day).num_days();
    let range = match (midnight(from_day), midnight(to_day + Days::new(1))) {
        (Some(start), Some(end)) if readable && (0..max_days).contains(&span) => Some((start, end)),
        _ => None,
    };
    Period { from_day, to_day, range }
}

/// The region asked for, or `default` when none was.
pub(crate) fn region(text: Option<&str>, default: &RegionCode) -> Result<RegionCode, EngineError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        Some(text) => RegionCode::parse(text).map_err(|e| EngineError::field("region_code_invalid", "region", e.to_string())),
        None => Ok(default.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn periods_default_end_today_and_refuse_bad_dates() {
        let today = day("2026-11-27");
        let p = period(None, None, today, 30, 366);
        assert_eq!((p.from_day, p.to_day), (day("2026-10-29"), today));
        let (start, end) = p.range.unwrap();
        assert_eq!(end - start, chrono::Duration::days(30), "both ends included");
        assert!(period(Some("2026-13-01"), None, today, 30, 366).range.is_none());
        assert!(period(Some("2026-11-28"), Some("2026-11-27"), today, 30, 366).range.is_none(), "end before start");
        assert!(period(Some("2020-01-01"), None, today, 30, 366).range.is_none(), "too long");
        assert!(period(Some("2020-01-01"), None, today, 30, 3660).range.is_some());
        assert!(period(None, Some("-262143-01-01"), today, 30, 366).range.is_none(), "no panic on far years");
        assert!(period(None, Some("+262142-12-31"), today, 30, 366).range.is_none());
    }
}
