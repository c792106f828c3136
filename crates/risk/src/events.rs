//! Events as the backtest and the forecasts read them: a day, a WGS-84 point and a category.
//! The CSV needs at least the columns `time` (an ISO date or date-time), `lon`, `lat` and
//! `category`; other columns are ignored. A file with any bad row is refused whole, every bad
//! row named by line and column.

use chrono::{DateTime, NaiveDate, NaiveDateTime};

/// One event. `day` counts days from 1970-01-01 on the calendar the time was written in.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub day: i32,
    pub lon: f64,
    pub lat: f64,
    pub category: String,
}

/// Why a file was refused: every bad row, or a missing column.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EventError {
    #[error("the header has no column {0:?} (needed: time, lon, lat, category)")]
    MissingColumn(&'static str),
    #[error("{} bad rows; the first: line {}, {}: {}", .0.len(), .0[0].line, .0[0].column, .0[0].message)]
    BadRows(Vec<BadRow>),
    #[error("the file is not CSV: {0}")]
    Unreadable(String),
}

/// A refused row.
#[derive(Debug, Clone, PartialEq)]
pub struct BadRow {
    pub line: u64,
    pub column: &'static str,
    pub message: String,
}

/// The day number of a date.
pub fn day_number(date: NaiveDate) -> i32 {
    (date - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() as i32
}

/// The date of a day number.
pub fn date_of(day: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch") + chrono::Duration::days(i64::from(day))
}

/// A date, or a date-time (RFC 3339 with a zone: the date there; or without a zone).
fn parse_day(text: &str) -> Option<i32> {
    let text = text.trim();
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(day_number(date));
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(day_number(t.date_naive()));
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .map(|t| day_number(t.date()))
}

/// Reads every event of a CSV file, or refuses it with every bad row.
pub fn read_events(bytes: &[u8]) -> Result<Vec<Event>, EventError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let headers = reader.headers().map_err(|e| EventError::Unreadable(e.to_string()))?.clone();
    let column = |name: &'static str| {
        headers.iter().position(|h| h.trim().eq_ignore_ascii_case(name)).ok_or(EventError::MissingColumn(name))
    };
    let (time, lon, lat, category) = (column("time")?, column("lon")?, column("lat")?, column("category")?);
    let mut events = Vec::new();
    let mut bad = Vec::new();
    for row in reader.records() {
        let row = row.map_err(|e| EventError::Unreadable(e.to_string()))?;
        let line = row.position().map_or(0, |p| p.line());
        let cell = |i: usize| row.get(i).unwrap_or("").trim();
        let Some(day) = parse_day(cell(time)) else {
            bad.push(BadRow { line, column: "time", message: format!("{:?} is not an ISO date or date-time", cell(time)) });
            continue;
        };
        let number = |i: usize, name: &'static str, range: std::ops::RangeInclusive<f64>| match cell(i).parse::<f64>() {
            Ok(v) if range.contains(&v) => Ok(v),
            _ => Err(BadRow { line, column: name, message: format!("{:?} is not a {name} in {range:?}", cell(i)) }),
        };
        let (x, y) = match (number(lon, "lon", -180.0..=180.0), number(lat, "lat", -90.0..=90.0)) {
            (Ok(x), Ok(y)) => (x, y),
            (Err(e), _) | (_, Err(e)) => {
                bad.push(e);
                continue;
            }
        };
        if cell(category).is_empty() {
            bad.push(BadRow { line, column: "category", message: "the category is empty".into() });
            continue;
        }
        events.push(Event { day, lon: x, lat: y, category: cell(category).to_owned() });
    }
    if bad.is_empty() { Ok(events) } else { Err(EventError::BadRows(bad)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_date_times_are_read_and_bad_rows_named() {
        let text = "time,lon,lat,category,extra\n2017-03-01,-122.6,45.5,burglary,x\n2017-03-02T23:30:00-08:00,-122.6,45.5,burglary,\n2017-03-02 08:00,-122.6,45.5,theft,\n";
        let events = read_events(text.as_bytes()).unwrap();
        assert_eq!(events.len(), 3);
        assert_eq!(date_of(events[1].day), NaiveDate::from_ymd_opt(2017, 3, 2).unwrap());
        let bad = "time,lon,lat,category\nMarch,-122.6,45.5,b\n2017-03-01,200,45.5,b\n2017-03-01,-122.6,45.5,\n";
        let EventError::BadRows(rows) = read_events(bad.as_bytes()).unwrap_err() else { panic!("bad rows") };
        let named: Vec<(u64, &str)> = rows.iter().map(|r| (r.line, r.column)).collect();
        assert_eq!(named, [(2, "time"), (3, "lon"), (4, "category")]);
        assert_eq!(read_events(b"when,lon,lat,category\n").unwrap_err(), EventError::MissingColumn("time"));
    }
}
