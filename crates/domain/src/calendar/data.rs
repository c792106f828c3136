//! Reading a calendar file (`data/calendar/cn-workdays.toml` layout). Every problem names the file
//! and line.

use std::collections::{BTreeMap, HashSet};

use chrono::{Days, NaiveDate, NaiveTime};
use serde::Deserialize;
use toml::Spanned;

use super::{CalendarSet, Coverage, OfficeHours, WorkCalendar};
use crate::Coded;
use crate::region::RegionCode;

/// A problem in a calendar file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file} line {line}: {reason}")]
pub struct CalendarError {
    pub file: String,
    pub line: usize,
    pub reason: String,
}

impl Coded for CalendarError {
    fn code(&self) -> &'static str {
        "calendar_invalid"
    }
    fn field(&self) -> Option<String> {
        Some(format!("{}:{}", self.file, self.line))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    hours: RawHours,
    #[serde(default)]
    years: Vec<RawYear>,
    #[serde(default)]
    regions: Vec<RawRegion>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHours {
    periods: Spanned<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawYear {
    year: Spanned<i32>,
    status: Spanned<String>,
    /// The notice the year is transcribed from (for readers of the file).
    #[serde(rename = "source")]
    _source: String,
    #[serde(default)]
    holidays: Vec<RawHoliday>,
    #[serde(default)]
    workdays: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHoliday {
    /// The holiday's name (for readers of the file).
    #[serde(rename = "name")]
    _name: String,
    dates: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegion {
    code: Spanned<String>,
    /// The region's name (for readers of the file).
    #[serde(default, rename = "name")]
    _name: Option<String>,
    #[serde(default)]
    holidays: Vec<RawHoliday>,
    #[serde(default)]
    workdays: Vec<Spanned<String>>,
    #[serde(default)]
    hours: Option<Spanned<Vec<String>>>,
}

/// Turns byte offsets into 1-based line numbers.
struct Lines<'a> {
    file: &'a str,
    text: &'a str,
}

impl Lines<'_> {
    fn line_of(&self, offset: usize) -> usize {
        self.text[..offset.min(self.text.len())].bytes().filter(|b| *b == b'\n').count() + 1
    }

    fn error<T>(&self, span: std::ops::Range<usize>, reason: impl Into<String>) -> Result<T, CalendarError> {
        Err(CalendarError { file: self.file.to_owned(), line: self.line_of(span.start), reason: reason.into() })
    }

    fn date(&self, text: &Spanned<String>) -> Result<NaiveDate, CalendarError> {
        NaiveDate::parse_from_str(text.get_ref(), "%Y-%m-%d")
            .or_else(|_| self.error(text.span(), format!("{:?} is not a date (YYYY-MM-DD)", text.get_ref())))
    }

    /// `"2026-02-15"` or `"2026-02-15..2026-02-23"` (inclusive).
    fn dates(&self, text: &Spanned<String>) -> Result<Vec<NaiveDate>, CalendarError> {
        let value = text.get_ref();
        let Some((a, b)) = value.split_once("..") else {
            return Ok(vec![self.date(text)?]);
        };
        let parse = |part: &str| {
            NaiveDate::parse_from_str(part, "%Y-%m-%d")
                .or_else(|_| self.error(text.span(), format!("{part:?} in {value:?} is not a date (YYYY-MM-DD)")))
        };
        let (start, end) = (parse(a)?, parse(b)?);
        if end < start || (end - start).num_days() > 31 {
            return self.error(text.span(), format!("range {value:?} must run forwards and span at most a month"));
        }
        let mut out = Vec::new();
        let mut day = start;
        while day <= end {
            out.push(day);
            day = day + Days::new(1);
        }
        Ok(out)
    }

    fn hours(&self, periods: &Spanned<Vec<String>>) -> Result<OfficeHours, CalendarError> {
        let mut parsed = Vec::new();
        for period in periods.get_ref() {
            let bad = || self.error(periods.span(), format!("office-hour period {period:?} is not HH:MM-HH:MM"));
            let Some((a, b)) = period.split_once('-') else { return bad() };
            let (Ok(start), Ok(end)) = (NaiveTime::parse_from_str(a, "%H:%M"), NaiveTime::parse_from_str(b, "%H:%M")) else {
                return bad();
            };
            parsed.push((start, end));
        }
        OfficeHours::new(parsed).or_else(|reason| self.error(periods.span(), reason))
    }
}

fn add_days(
    lines: &Lines<'_>,
    holidays: &[RawHoliday],
    workdays: &[Spanned<String>],
    rest: &mut HashSet<NaiveDate>,
    work: &mut HashSet<NaiveDate>,
    year: Option<i32>,
) -> Result<(), CalendarError> {
    use chrono::Datelike;
    for holiday in holidays {
        for text in &holiday.dates {
            for date in lines.dates(text)? {
                if year.is_some_and(|y| y != date.year()) {
                    return lines.error(text.span(), format!("{date} is not in the year {}", year.unwrap_or_default()));
                }
                rest.insert(date);
            }
        }
    }
    for text in workdays {
        let date = lines.date(text)?;
        if year.is_some_and(|y| y != date.year()) {
            return lines.error(text.span(), format!("{date} is not in the year {}", year.unwrap_or_default()));
        }
        if rest.contains(&date) {
            return lines.error(text.span(), format!("{date} is listed both as a holiday and as a working day"));
        }
        work.insert(date);
    }
    Ok(())
}

/// Parses a calendar file. `file` names it in errors.
pub fn parse_calendar(file: &str, bytes: &[u8]) -> Result<CalendarSet, CalendarError> {
    let text = std::str::from_utf8(bytes).map_err(|e| CalendarError {
        file: file.to_owned(),
        line: 1,
        reason: format!("not UTF-8: {e}"),
    })?;
    let lines = Lines { file, text };
    let raw: RawFile = toml::from_str(text).map_err(|e| CalendarError {
        file: file.to_owned(),
        line: e.span().map_or(1, |span| lines.line_of(span.start)),
        reason: e.message().to_owned(),
    })?;
    let hours = lines.hours(&raw.hours.periods)?;
    let (mut rest, mut work) = (HashSet::new(), HashSet::new());
    let mut years = BTreeMap::new();
    for year in &raw.years {
        let coverage = match year.status.get_ref().as_str() {
            "official" => Coverage::Official,
            "provisional" => Coverage::Provisional,
            other => return lines.error(year.status.span(), format!("status {other:?} is not official or provisional")),
        };
        if years.insert(*year.year.get_ref(), coverage).is_some() {
            return lines.error(year.year.span(), format!("year {} appears twice", year.year.get_ref()));
        }
        add_days(&lines, &year.holidays, &year.workdays, &mut rest, &mut work, Some(*year.year.get_ref()))?;
    }
    let national = WorkCalendar::new(rest, work, hours, years);
    let mut regional = Vec::new();
    for region in &raw.regions {
        let code = RegionCode::parse(region.code.get_ref()).or_else(|e| lines.error(region.code.span(), e.to_string()))?;
        let mut calendar = national.clone();
        add_days(&lines, &region.holidays, &region.workdays, &mut calendar.rest, &mut calendar.work, None)?;
        // A regional holiday may fall on a national make-up working day: the region's word wins.
        for holiday in &region.holidays {
            for text in &holiday.dates {
                for date in lines.dates(text)? {
                    calendar.work.remove(&date);
                }
            }
        }
        if let Some(hours) = &region.hours {
            calendar.hours = lines.hours(hours)?;
        }
        if regional.iter().any(|(c, _): &(RegionCode, WorkCalendar)| *c == code) {
            return lines.error(region.code.span(), format!("region {code} appears twice"));
        }
        regional.push((code, calendar));
    }
    Ok(CalendarSet::new(national, regional))
}
