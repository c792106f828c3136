//! Events as the backtest and the forecasts read them: a day, a WGS-84 point and a category.
//! The CSV needs at least the columns `time` (an ISO date or date-time), `lon`, `lat` and
//! `category`; other columns are ignored. A file with any bad row is refused whole, every bad
//! row named by line and column. Published data sets name their columns otherwise (San
//! Francisco's `Date`, `X`, `Y`, `Category` with US dates): a [`Layout`] names them.

use chrono::{DateTime, NaiveDate, NaiveDateTime};

/// One event. `day` counts days from 1970-01-01 on the calendar the time was written in.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub day: i32,
    pub lon: f64,
    pub lat: f64,
    pub category: String,
}

/// Which columns hold the time, the point and the category, and how dates are written.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    pub time: String,
    pub lon: String,
    pub lat: String,
    pub category: String,
    /// A chrono format for the time column (such as `%m/%d/%Y`); ISO dates and date-times when
    /// absent. Only the date is kept.
    pub date_format: Option<String>,
}

impl Default for Layout {
    fn default() -> Layout {
        Layout { time: "time".into(), lon: "lon".into(), lat: "lat".into(), category: "category".into(), date_format: None }
    }
}

impl Layout {
    /// The default layout with some columns renamed by `ours=theirs` pairs separated by commas
    /// (`time=occ_date,category=Category`).
    pub fn with_columns(mut self, pairs: &str) -> Result<Layout, String> {
        for pair in pairs.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((ours, theirs)) = pair.split_once('=') else {
                return Err(format!("{pair:?} is not ours=theirs"));
            };
            let slot = match ours.trim() {
                "time" => &mut self.time,
                "lon" => &mut self.lon,
                "lat" => &mut self.lat,
                "category" => &mut self.category,
                other => return Err(format!("{other:?} is not one of time, lon, lat, category")),
            };
            *slot = theirs.trim().to_owned();
        }
        Ok(self)
    }
}

/// Why a file was refused: every bad row, or a missing column.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EventError {
    #[error("the header has no column {0:?} (needed: time, lon, lat, category)")]
    MissingColumn(String),
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

/// A date, or a date-time (RFC 3339 with a zone: the date there; or without a zone); or, with a
/// format, a date written that way (anything after the date, such as a time, is ignored).
fn parse_day(text: &str, format: Option<&str>) -> Option<i32> {
    let text = text.trim();
    if let Some(format) = format {
        return NaiveDate::parse_and_remainder(text, format).ok().map(|(date, _)| day_number(date));
    }
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
    let (events, bad) = read_events_as(bytes, &Layout::default())?;
    if bad.is_empty() { Ok(events) } else { Err(EventError::BadRows(bad)) }
}

/// Reads the good events of a CSV file in a layout, and names every bad row beside them: the
/// caller decides whether a bad row refuses the file (ingest, the default backtest) or is left
/// out and counted (a published data set with a few blank categories).
pub fn read_events_as(bytes: &[u8], layout: &Layout) -> Result<(Vec<Event>, Vec<BadRow>), EventError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let headers = reader.headers().map_err(|e| EventError::Unreadable(e.to_string()))?.clone();
    let column = |name: &str| {
        headers.iter().position(|h| h.trim().eq_ignore_ascii_case(name)).ok_or_else(|| EventError::MissingColumn(name.to_owned()))
    };
    let (time, lon, lat, category) =
        (column(&layout.time)?, column(&layout.lon)?, column(&layout.lat)?, column(&layout.category)?);
    let format = layout.date_format.as_deref();
    let mut events = Vec::new();
    let mut bad = Vec::new();
    for row in reader.records() {
        let row = row.map_err(|e| EventError::Unreadable(e.to_string()))?;
        let line = row.position().map_or(0, |p| p.line());
        let cell = |i: usize| row.get(i).unwrap_or("").trim();
        let Some(day) = parse_day(cell(time), format) else {
            let expected = format.map_or("an ISO date or date-time".to_owned(), |f| format!("a date in {f}"));
            bad.push(BadRow { line, column: "time", message: format!("{:?} is not {expected}", cell(time)) });
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
    Ok((events, bad))
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
        assert_eq!(read_events(b"when,lon,lat,category\n").unwrap_err(), EventError::MissingColumn("time".into()));
    }

    #[test]
    fn a_layout_renames_columns_and_reads_us_dates() {
        let text = "Category,Date,Time,X,Y\nLARCENY/THEFT,07/11/2017,14:32,-122.40,37.77\nASSAULT,07/31/2017 00:00,01:00,-122.41,37.78\nBURGLARY,2017-07-12,02:00,-122.4,37.7\n";
        let layout = Layout { date_format: Some("%m/%d/%Y".into()), ..Layout::default() }
            .with_columns("time=Date, lon=X,lat=Y,category=Category")
            .unwrap();
        let (events, bad) = read_events_as(text.as_bytes(), &layout).unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(date_of(events[0].day), NaiveDate::from_ymd_opt(2017, 7, 11).unwrap());
        assert_eq!(date_of(events[1].day), NaiveDate::from_ymd_opt(2017, 7, 31).unwrap());
        assert_eq!((bad.len(), bad[0].line, bad[0].column), (1, 4, "time"));
        assert!(bad[0].message.contains("%m/%d/%Y"), "{}", bad[0].message);
        assert!(Layout::default().with_columns("place=X").unwrap_err().contains("place"));
        assert!(Layout::default().with_columns("time").is_err());
        // Without the layout, `Time` is taken for the time (names are matched ignoring case) and X is no lon.
        let missing = read_events_as(text.as_bytes(), &Layout::default()).unwrap_err();
        assert_eq!(missing, EventError::MissingColumn("lon".into()));
    }
}
