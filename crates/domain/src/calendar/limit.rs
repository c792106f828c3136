//! Time limits: an amount and a unit, as programmes write them (`3d`, `5wd`, `4wh`, `48h`).

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::WorkCalendar;
use crate::Coded;

/// What a limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitUnit {
    /// 日: calendar days, ending at the end of the last day, extended past rest days.
    CalendarDays,
    /// 工作日: working days.
    WorkingDays,
    /// 工作时: working hours inside office hours.
    WorkingHours,
    /// 小时: wall-clock hours (emergencies).
    Hours,
}

impl LimitUnit {
    fn suffix(self) -> &'static str {
        match self {
            LimitUnit::CalendarDays => "d",
            LimitUnit::WorkingDays => "wd",
            LimitUnit::WorkingHours => "wh",
            LimitUnit::Hours => "h",
        }
    }

    /// True for units measured on the working calendar (pauses are measured in working time).
    pub fn is_working(self) -> bool {
        matches!(self, LimitUnit::WorkingDays | LimitUnit::WorkingHours)
    }
}

/// A time limit such as 5 working days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Limit {
    pub amount: u32,
    pub unit: LimitUnit,
}

/// Why a text is not a limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a time limit: write a number and d (days), wd (working days), wh (working hours) or h (hours), e.g. 5wd")]
pub struct LimitError(pub String);

impl Coded for LimitError {
    fn code(&self) -> &'static str {
        "limit_invalid"
    }
}

impl Limit {
    pub fn parse(text: &str) -> Result<Limit, LimitError> {
        let text = text.trim();
        let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(|| LimitError(text.to_owned()))?;
        let (number, suffix) = text.split_at(split);
        let amount: u32 = number.parse().map_err(|_| LimitError(text.to_owned()))?;
        let unit = match suffix {
            "d" => LimitUnit::CalendarDays,
            "wd" => LimitUnit::WorkingDays,
            "wh" => LimitUnit::WorkingHours,
            "h" => LimitUnit::Hours,
            _ => return Err(LimitError(text.to_owned())),
        };
        if amount == 0 || amount > 10_000 {
            return Err(LimitError(text.to_owned()));
        }
        Ok(Limit { amount, unit })
    }

    /// When the limit runs out for a clock started at `start`.
    pub fn due(&self, start: DateTime<Utc>, calendar: &WorkCalendar) -> DateTime<Utc> {
        match self.unit {
            LimitUnit::CalendarDays => calendar.add_calendar_days(start, self.amount),
            LimitUnit::WorkingDays => calendar.add_working_days(start, self.amount),
            LimitUnit::WorkingHours => calendar.add_working_seconds(start, i64::from(self.amount) * 3600),
            LimitUnit::Hours => start + TimeDelta::hours(i64::from(self.amount)),
        }
    }

    /// Moves a due instant later by a pause: by the paused working time for working units (on
    /// the working calendar), by the paused wall-clock time otherwise.
    pub fn extend(
        &self,
        due: DateTime<Utc>,
        paused_working_secs: i64,
        paused_wall_secs: i64,
        calendar: &WorkCalendar,
    ) -> DateTime<Utc> {
        if self.unit.is_working() {
            if paused_working_secs == 0 { due } else { calendar.add_working_seconds(due, paused_working_secs) }
        } else {
            due + TimeDelta::seconds(paused_wall_secs)
        }
    }

    /// The limit in Chinese, for people: 5个工作日.
    pub fn name_zh(&self) -> String {
        match self.unit {
            LimitUnit::CalendarDays => format!("{}日", self.amount),
            LimitUnit::WorkingDays => format!("{}个工作日", self.amount),
            LimitUnit::WorkingHours => format!("{}个工作小时", self.amount),
            LimitUnit::Hours => format!("{}小时", self.amount),
        }
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.amount, self.unit.suffix())
    }
}

impl TryFrom<String> for Limit {
    type Error = LimitError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Limit::parse(&value)
    }
}

impl From<Limit> for String {
    fn from(limit: Limit) -> String {
        limit.to_string()
    }
}
