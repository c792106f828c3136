//! The Chinese working-day calendar (工作日历): statutory holidays, make-up working days (调休) and
//! office hours, nationally and per region, and the arithmetic time limits need.
//!
//! All reasoning about days happens in Beijing time (UTC+8, fixed since 1991); instants stay UTC.
//!
//! Conventions, following the Civil Procedure Law (art. 85) and practice:
//! * a limit in days or working days does not count the day it starts on, and ends at the end
//!   (24:00) of its last day;
//! * a calendar-day limit whose last day is a rest day is extended to the end of the next working
//!   day;
//! * working hours (工作时) are counted inside the office hours of working days only.

mod data;
mod limit;

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Datelike, Days, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc, Weekday};

pub use data::{CalendarError, parse_calendar};
pub use limit::{Limit, LimitError, LimitUnit};

use crate::region::RegionCode;

/// Beijing time.
pub fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("a valid offset")
}

/// The Beijing-time date of an instant.
pub fn local_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&beijing()).date_naive()
}

fn instant(date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    NaiveDateTime::new(date, time).and_local_timezone(beijing()).single().expect("fixed offsets are unambiguous").to_utc()
}

/// The instant a day begins (00:00) in Beijing time.
pub fn start_of_day(date: NaiveDate) -> DateTime<Utc> {
    instant(date, NaiveTime::MIN)
}

/// The instant a day ends (24:00, i.e. the next day's 00:00) in Beijing time.
pub fn end_of_day(date: NaiveDate) -> DateTime<Utc> {
    instant(date + Days::new(1), NaiveTime::MIN)
}

/// The years a day read from input may fall in. A date parser takes signed and far years
/// (`-262143-01-01`), and the day arithmetic on them (a day's end, a span before it) then
/// overflows: every day a user or a system gives is checked against this first.
pub const INPUT_YEARS: std::ops::Range<i32> = 1900..2200;

/// Whether `day` is one a user or a system may ask about ([`INPUT_YEARS`]).
pub fn plausible_day(day: NaiveDate) -> bool {
    INPUT_YEARS.contains(&day.year())
}

/// How much is known about a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coverage {
    /// The State Council notice for the year is in the data.
    Official,
    /// Only the statutory holidays are known; the bridging days will change.
    Provisional,
    /// Nothing is known about the year: weekends only.
    Uncovered,
}

/// Office hours: the periods of a working day, in order, not overlapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeHours {
    periods: Vec<(NaiveTime, NaiveTime)>,
}

impl OfficeHours {
    pub fn new(mut periods: Vec<(NaiveTime, NaiveTime)>) -> Result<OfficeHours, String> {
        periods.sort();
        if periods.is_empty() {
            return Err("office hours need at least one period".into());
        }
        for window in periods.windows(2) {
            if window[0].1 > window[1].0 {
                return Err(format!("office-hour periods {:?} and {:?} overlap", window[0], window[1]));
            }
        }
        if let Some((start, end)) = periods.iter().find(|(start, end)| start >= end) {
            return Err(format!("office-hour period {start}-{end} ends before it starts"));
        }
        Ok(OfficeHours { periods })
    }

    /// Working seconds in one working day.
    pub fn seconds_per_day(&self) -> i64 {
        self.periods.iter().map(|(start, end)| (*end - *start).num_seconds()).sum()
    }
}

/// One calendar: which days are worked and when.
#[derive(Debug, Clone)]
pub struct WorkCalendar {
    rest: HashSet<NaiveDate>,
    work: HashSet<NaiveDate>,
    hours: OfficeHours,
    years: BTreeMap<i32, Coverage>,
}

impl WorkCalendar {
    /// A calendar from listed rest days (holidays), listed working days (调休), office hours and
    /// what is known about each year.
    pub fn new(
        rest: HashSet<NaiveDate>,
        work: HashSet<NaiveDate>,
        hours: OfficeHours,
        years: BTreeMap<i32, Coverage>,
    ) -> WorkCalendar {
        WorkCalendar { rest, work, hours, years }
    }

    /// A calendar that knows weekends only (for tests and for years not covered).
    pub fn weekends_only(hours: OfficeHours) -> WorkCalendar {
        WorkCalendar::new(HashSet::new(), HashSet::new(), hours, BTreeMap::new())
    }

    pub fn office_hours(&self) -> &OfficeHours {
        &self.hours
    }

    /// True on working days: a listed make-up working day, or a weekday that is not a listed holiday.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        if self.work.contains(&date) {
            return true;
        }
        if self.rest.contains(&date) {
            return false;
        }
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
    }

    /// What the data says about `date`'s year.
    pub fn coverage(&self, date: NaiveDate) -> Coverage {
        self.years.get(&date.year()).copied().unwrap_or(Coverage::Uncovered)
    }

    /// The first working day strictly after `date`.
    pub fn next_working_day(&self, date: NaiveDate) -> NaiveDate {
        let mut day = date + Days::new(1);
        // Bounded: no real calendar has more than a few consecutive rest days, but a corrupt one
        // must not loop for ever.
        for _ in 0..366 {
            if self.is_working_day(day) {
                return day;
            }
            day = day + Days::new(1);
        }
        day
    }

    /// The end of the `n`th working day after the day `start` falls on (the start day is not
    /// counted). `n = 0` is the end of the start day if it is a working day, else of the next one.
    pub fn add_working_days(&self, start: DateTime<Utc>, n: u32) -> DateTime<Utc> {
        let mut day = local_date(start);
        if n == 0 {
            if !self.is_working_day(day) {
                day = self.next_working_day(day);
            }
            return end_of_day(day);
        }
        for _ in 0..n {
            day = self.next_working_day(day);
        }
        end_of_day(day)
    }

    /// The end of the `n`th day after the day `start` falls on; when that day is a rest day, the
    /// end of the next working day.
    pub fn add_calendar_days(&self, start: DateTime<Utc>, n: u32) -> DateTime<Utc> {
        let mut day = local_date(start) + Days::new(u64::from(n));
        if !self.is_working_day(day) {
            day = self.next_working_day(day);
        }
        end_of_day(day)
    }

    /// Working days in `(from, to]`.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        let mut count = 0;
        let mut day = from + Days::new(1);
        while day <= to {
            if self.is_working_day(day) {
                count += 1;
            }
            day = day + Days::new(1);
        }
        count
    }

    /// The office periods of `date` as instants, empty on rest days.
    fn periods_of(&self, date: NaiveDate) -> impl Iterator<Item = (DateTime<Utc>, DateTime<Utc>)> + '_ {
        let working = self.is_working_day(date);
        self.hours.periods.iter().filter(move |_| working).map(move |(start, end)| (instant(date, *start), instant(date, *end)))
    }

    /// The instant after `seconds` of working time, counted from `start`.
    pub fn add_working_seconds(&self, start: DateTime<Utc>, seconds: i64) -> DateTime<Utc> {
        let mut left = seconds.max(0);
        let mut day = local_date(start);
        loop {
            for (open, close) in self.periods_of(day) {
                let from = open.max(start);
                if from >= close {
                    continue;
                }
                let available = (close - from).num_seconds();
                if left <= available {
                    return from + TimeDelta::seconds(left);
                }
                left -= available;
            }
            day = day + Days::new(1);
            if day.year() > local_date(start).year() + 100 {
                return start; // unreachable with real office hours; guards a corrupt calendar
            }
        }
    }

    /// Working seconds in `[from, to)`.
    pub fn working_seconds_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        if to <= from {
            return 0;
        }
        let mut total = 0;
        let mut day = local_date(from);
        let last = local_date(to);
        while day <= last {
            for (open, close) in self.periods_of(day) {
                let a = open.max(from);
                let b = close.min(to);
                if b > a {
                    total += (b - a).num_seconds();
                }
            }
            day = day + Days::new(1);
        }
        total
    }
}

/// The national calendar plus regional variants.
#[derive(Debug, Clone)]
pub struct CalendarSet {
    national: WorkCalendar,
    /// Regional calendars, longest (most specific) code first.
    regional: Vec<(RegionCode, WorkCalendar)>,
}

impl CalendarSet {
    pub fn new(national: WorkCalendar, mut regional: Vec<(RegionCode, WorkCalendar)>) -> CalendarSet {
        regional.sort_by(|a, b| b.0.as_str().len().cmp(&a.0.as_str().len()).then_with(|| a.0.cmp(&b.0)));
        CalendarSet { national, regional }
    }

    /// The calendar that applies in `region`: the most specific regional one above it, else the
    /// national one.
    pub fn for_region(&self, region: &RegionCode) -> &WorkCalendar {
        self.regional.iter().find(|(code, _)| code.contains(region)).map_or(&self.national, |(_, calendar)| calendar)
    }

    pub fn national(&self) -> &WorkCalendar {
        &self.national
    }

    /// Regions with a calendar of their own.
    pub fn regions(&self) -> impl Iterator<Item = &RegionCode> {
        self.regional.iter().map(|(code, _)| code)
    }
}

#[cfg(test)]
mod tests;
