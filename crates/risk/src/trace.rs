//! The 72-hour trace (P6): from position reports (AIS, Beidou terminals, checkpoint logs), the
//! track of one person or vessel over the hours before a given time, and who was within a given
//! distance of it at the same time. A contact compares each report of another with the
//! subject's position at that moment, interpolated between the subject's two nearest reports
//! when they are at most `MAX_GAP_MINUTES` apart. Across a longer silence nobody knows where the
//! subject was, except within a few minutes of one of its reports (5 by default, at most 30):
//! two people passing the same checkpoint three minutes apart were there together.

mod feeds;
mod search;

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use serde::Serialize;

pub use feeds::{DISAGREE_METRES, Disagreement, FeedCopy, FeedReport, disagreements};
pub use search::{SearchBox, search_boxes};

/// The longest silence between two reports across which the subject's position is interpolated.
pub const MAX_GAP_MINUTES: i64 = 30;

/// Where the subject cannot be interpolated (a checkpoint log's single pass, a silence), a
/// report of another within this many minutes of one of the subject's is at the same time: by
/// default, and at most (the search boxes reach half an hour around each slice, no further).
pub const DEFAULT_SAME_TIME_MINUTES: i64 = 5;
pub const MAX_SAME_TIME_MINUTES: i64 = MAX_GAP_MINUTES;

/// The longest identity of a subject (an MMSI is 9 digits, a plate or terminal code a few more).
pub const MAX_ID_CHARS: usize = 64;

/// The longest trace (hours back; a month) and the widest distance counted as together (metres).
pub const MAX_HOURS: i64 = 24 * 30;
pub const MAX_WITHIN_METRES: f64 = 100_000.0;

/// True if a trace may reach `hours` back: 1 to [`MAX_HOURS`].
pub fn valid_hours(hours: i64) -> bool {
    (1..=MAX_HOURS).contains(&hours)
}

/// True if `within` metres is a distance contacts are counted within: above 0, at most the limit.
pub fn valid_within(within: f64) -> bool {
    within > 0.0 && within <= MAX_WITHIN_METRES
}

/// True if reports `minutes` apart may count as at the same time: 0 to [`MAX_SAME_TIME_MINUTES`].
pub fn valid_same_time(minutes: i64) -> bool {
    (0..=MAX_SAME_TIME_MINUTES).contains(&minutes)
}

/// One position report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Position {
    pub id: String,
    pub at: DateTime<Utc>,
    pub lon: f64,
    pub lat: f64,
}

/// Someone within the distance of the subject.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contact {
    pub id: String,
    /// The closest they came (metres), and when.
    pub closest_metres: f64,
    pub closest_at: DateTime<Utc>,
    /// Their reports within the distance.
    pub reports: usize,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
}

/// Why a file was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TraceError {
    #[error("the header has no column for {0} (accepted: {1})")]
    MissingColumn(&'static str, &'static str),
    #[error("line {line}, {column}: {message}")]
    BadRow { line: u64, column: &'static str, message: String },
    #[error("the file is not CSV: {0}")]
    Unreadable(String),
}

/// Mean Earth radius (metres): the distances' and the search boxes' (which are exact only if
/// both use the same).
const EARTH_RADIUS: f64 = 6_371_008.8;

/// Great-circle distance in metres (haversine, mean Earth radius).
pub fn distance_metres(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lon1, lat1, lon2, lat2) = (a.0.to_radians(), a.1.to_radians(), b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS * h.sqrt().asin()
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    DateTime::parse_from_rfc3339(text).map(|t| t.to_utc()).ok().or_else(|| {
        // AIS (MarineCadastre) times are UTC without a zone.
        ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M"]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
            .map(|t| t.and_utc())
    })
}

/// Reads position reports: columns `id` (or `mmsi`, `device`), `time` (or `basedatetime`; RFC
/// 3339, or UTC without a zone), `lat`, `lon`; others ignored. The first bad row refuses the file.
pub fn read_positions(bytes: &[u8]) -> Result<Vec<Position>, TraceError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let headers = reader.headers().map_err(|e| TraceError::Unreadable(e.to_string()))?.clone();
    let find = |names: &[&str], what: &'static str, accepted: &'static str| {
        headers
            .iter()
            .position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n)))
            .ok_or(TraceError::MissingColumn(what, accepted))
    };
    let id = find(&["id", "mmsi", "device"], "the identity", "id, mmsi, device")?;
    let time = find(&["time", "basedatetime"], "the time", "time, basedatetime")?;
    let lat = find(&["lat"], "the latitude", "lat")?;
    let lon = find(&["lon"], "the longitude", "lon")?;
    let mut out = Vec::new();
    for row in reader.records() {
        let row = row.map_err(|e| TraceError::Unreadable(e.to_string()))?;
        let line = row.position().map_or(0, |p| p.line());
        let cell = |i: usize| row.get(i).unwrap_or("").trim();
        let bad = |column: &'static str, message: String| TraceError::BadRow { line, column, message };
        if cell(id).is_empty() {
            return Err(bad("id", "the identity is empty".into()));
        }
        // As a traced subject's: an identity is a code (MMSI, terminal, plate), not a text.
        if cell(id).chars().count() > MAX_ID_CHARS {
            return Err(bad("id", format!("the identity is longer than {MAX_ID_CHARS} characters")));
        }
        let at = parse_time(cell(time)).ok_or_else(|| bad("time", format!("{:?} is not a date-time", cell(time))))?;
        let y = cell(lat).parse::<f64>().ok().filter(|v| (-90.0..=90.0).contains(v));
        let x = cell(lon).parse::<f64>().ok().filter(|v| (-180.0..=180.0).contains(v));
        let (Some(x), Some(y)) = (x, y) else {
            return Err(bad("lat/lon", format!("{:?}, {:?} is not a WGS-84 point", cell(lat), cell(lon))));
        };
        out.push(Position { id: cell(id).to_owned(), at, lon: x, lat: y });
    }
    Ok(out)
}

/// The subject's reports in `(at − hours, at]`, by time.
pub fn track<'p>(positions: &'p [Position], id: &str, at: DateTime<Utc>, hours: i64) -> Vec<&'p Position> {
    reports_of(positions, id, at - Duration::hours(hours), at)
}

/// The reports of `id` in `(after, until]`, by time.
fn reports_of<'p>(positions: &'p [Position], id: &str, after: DateTime<Utc>, until: DateTime<Utc>) -> Vec<&'p Position> {
    let mut out: Vec<&Position> = positions.iter().filter(|p| p.id == id && p.at > after && p.at <= until).collect();
    out.sort_by_key(|p| p.at);
    out
}

/// Where the subject was at `t`: between two of its reports at most [`MAX_GAP_MINUTES`]
/// apart; else, across a longer silence or at the end of its reports, at its report within
/// `same_time` of `t` (the nearer one), as at a checkpoint passed once.
fn where_at(track: &[&Position], t: DateTime<Utc>, same_time: Duration) -> Option<(f64, f64)> {
    let i = track.partition_point(|p| p.at < t);
    if let Some(p) = track.get(i).filter(|p| p.at == t) {
        return Some((p.lon, p.lat));
    }
    let before = i.checked_sub(1).and_then(|b| track.get(b));
    let after = track.get(i);
    if let (Some(before), Some(after)) = (before, after)
        && after.at - before.at <= Duration::minutes(MAX_GAP_MINUTES)
    {
        return Some(interpolate((before.at, before.lon, before.lat), (after.at, after.lon, after.lat), t));
    }
    let off = |p: &&&Position| (p.at - t).abs();
    [before, after].into_iter().flatten().filter(|p| off(p) <= same_time).min_by_key(off).map(|p| (p.lon, p.lat))
}

/// Where a subject going steadily from `a` to `b` (time, lon, lat) was at `t`.
fn interpolate(a: (DateTime<Utc>, f64, f64), b: (DateTime<Utc>, f64, f64), t: DateTime<Utc>) -> (f64, f64) {
    let f = (t - a.0).num_milliseconds() as f64 / (b.0 - a.0).num_milliseconds().max(1) as f64;
    (a.1 + f * (b.1 - a.1), a.2 + f * (b.2 - a.2))
}

/// Everyone whose reports in the window came within `metres` of the subject, closest first;
/// where the subject cannot be interpolated, within `same_minutes` of one of its reports. The
/// subject's place is interpolated between its reports up to half an hour outside the window
/// too: a report just before the window's start places it just after.
pub fn contacts(positions: &[Position], id: &str, at: DateTime<Utc>, hours: i64, metres: f64, same_minutes: i64) -> Vec<Contact> {
    let same_time = Duration::minutes(same_minutes.clamp(0, MAX_SAME_TIME_MINUTES));
    let (from, gap) = (at - Duration::hours(hours), Duration::minutes(MAX_GAP_MINUTES));
    let subject = reports_of(positions, id, from - gap - Duration::nanoseconds(1), at + gap);
    let mut found: BTreeMap<&str, Contact> = BTreeMap::new();
    for p in positions.iter().filter(|p| p.id != id && p.at > from && p.at <= at) {
        let Some(here) = where_at(&subject, p.at, same_time) else { continue };
        let d = distance_metres(here, (p.lon, p.lat));
        if d > metres {
            continue;
        }
        let entry = found.entry(p.id.as_str()).or_insert_with(|| Contact {
            id: p.id.clone(),
            closest_metres: d,
            closest_at: p.at,
            reports: 0,
            first_at: p.at,
            last_at: p.at,
        });
        entry.reports += 1;
        if d < entry.closest_metres {
            (entry.closest_metres, entry.closest_at) = (d, p.at);
        }
        entry.first_at = entry.first_at.min(p.at);
        entry.last_at = entry.last_at.max(p.at);
    }
    let mut out: Vec<Contact> = found.into_values().collect();
    out.sort_by(|a, b| a.closest_metres.total_cmp(&b.closest_metres).then_with(|| a.id.cmp(&b.id)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(id: &str, minute: i64, lon: f64, lat: f64) -> Position {
        let t0 = DateTime::parse_from_rfc3339("2022-01-03T00:00:00Z").unwrap().to_utc();
        Position { id: id.into(), at: t0 + Duration::minutes(minute), lon, lat }
    }

    #[test]
    fn a_contact_is_measured_against_where_the_subject_was_then() {
        // The subject sails east along the equator-ish line; A passes 100 m north of its
        // interpolated position at minute 5; B is 5 km away; C reports during a 2-hour silence.
        let positions = vec![
            p("S", 0, 0.000, 10.0),
            p("S", 10, 0.010, 10.0),
            p("S", 150, 0.020, 10.0),
            p("A", 5, 0.005, 10.0009),
            p("B", 5, 0.050, 10.0),
            p("C", 60, 0.012, 10.0),
        ];
        let at = positions[2].at;
        assert_eq!(track(&positions, "S", at, 72).len(), 3);
        let found = contacts(&positions, "S", at, 72, 500.0, DEFAULT_SAME_TIME_MINUTES);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].id, "A");
        assert!((found[0].closest_metres - 100.0).abs() < 2.0, "{found:?}");
        // Outside the window: nothing.
        assert!(contacts(&positions, "S", at, 1, 500.0, DEFAULT_SAME_TIME_MINUTES).is_empty());
    }

    #[test]
    fn a_report_just_outside_the_window_places_the_subject_at_its_edge() {
        // The window of one hour before minute 70 starts at minute 10. The subject reported at
        // minute 0 and 20; A passes 100 m north of where it was at minute 13 (seven minutes from
        // either report, so only the interpolation places it). B reports at
        // minute 70 itself, beside the subject's report then.
        let positions = vec![
            p("S", 0, 0.000, 10.0),
            p("S", 20, 0.010, 10.0),
            p("S", 70, 0.030, 10.0),
            p("S", 95, 0.030, 10.0),
            p("A", 13, 0.0065, 10.0009),
            p("B", 70, 0.030, 10.0009),
        ];
        let at = positions[2].at;
        assert_eq!(track(&positions, "S", at, 1).len(), 2, "the track is the window's own reports");
        let found = contacts(&positions, "S", at, 1, 500.0, DEFAULT_SAME_TIME_MINUTES);
        let ids: Vec<&str> = found.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["A", "B"], "{found:?}");
        assert!((found[0].closest_metres - 100.0).abs() < 2.0, "{found:?}");
        // Without the report before the window, nothing places the subject at minute 13.
        let without: Vec<Position> = positions[1..].to_vec();
        let ids: Vec<String> =
            contacts(&without, "S", at, 1, 500.0, DEFAULT_SAME_TIME_MINUTES).into_iter().map(|c| c.id).collect();
        assert_eq!(ids, ["B"]);
    }

    #[test]
    fn at_a_checkpoint_passed_once_the_same_time_is_within_a_few_minutes() {
        // Checkpoint logs: the subject passes checkpoint K at minute 60 and L four hours later.
        // P passes K three minutes after it, Q twenty minutes after it, R passes L five minutes
        // before it, T passes L six minutes after it.
        let (k, l) = ((122.30, 29.95), (122.40, 29.90));
        let positions = vec![
            p("S", 60, k.0, k.1),
            p("S", 300, l.0, l.1),
            p("P", 63, k.0, k.1),
            p("Q", 80, k.0, k.1),
            p("R", 295, l.0, l.1),
            p("T", 306, l.0, l.1),
        ];
        let at = positions[1].at + Duration::minutes(10);
        let found = contacts(&positions, "S", at, 72, 50.0, DEFAULT_SAME_TIME_MINUTES);
        let ids: Vec<&str> = found.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["P", "R"], "{found:?}");
        assert!(found.iter().all(|c| c.closest_metres < 1e-6 && c.reports == 1), "{found:?}");
        // The analyst chooses how far apart is the same time: 0 minutes, only the same
        // moment; 20 minutes, Q and T as well.
        let ids = |minutes| contacts(&positions, "S", at, 72, 50.0, minutes).into_iter().map(|c| c.id).collect::<Vec<_>>();
        assert!(ids(0).is_empty());
        assert_eq!(ids(20), ["P", "Q", "R", "T"]);
        assert!(valid_same_time(0) && valid_same_time(30) && !valid_same_time(31) && !valid_same_time(-1));
    }

    #[test]
    fn bad_rows_are_named() {
        let err =
            read_positions(b"MMSI,BaseDateTime,LAT,LON\n1,2022-01-03T00:00:00,29.9,-90.0\n2,soon,29.9,-90.0\n").unwrap_err();
        assert_eq!(err, TraceError::BadRow { line: 3, column: "time", message: "\"soon\" is not a date-time".into() });
        assert!(matches!(read_positions(b"who,when\n").unwrap_err(), TraceError::MissingColumn(..)));
        let long = format!("id,time,lat,lon\n{},2022-01-03T00:00:00Z,29.9,-90.0\n", "9".repeat(65));
        let err = read_positions(long.as_bytes()).unwrap_err();
        assert_eq!(
            err,
            TraceError::BadRow { line: 2, column: "id", message: "the identity is longer than 64 characters".into() }
        );
        assert!(read_positions(long.replacen('9', "", 1).as_bytes()).is_ok(), "64 is allowed");
    }
}

#[cfg(test)]
mod real_tracks {
    use super::*;

    const AIS: &[u8] = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/samples/ais-marinecadastre/ais_2022-01-03_lower_mississippi.csv"
    ));

    #[test]
    fn vessels_near_a_cruise_ship_on_the_mississippi() {
        let positions = read_positions(AIS).unwrap();
        assert_eq!(positions.len(), 2792);
        // NORWEGIAN BREAKAWAY (MMSI 311050800), the 72 hours before 00:25 UTC.
        let at = DateTime::parse_from_rfc3339("2022-01-03T00:25:00Z").unwrap().to_utc();
        let ship = track(&positions, "311050800", at, 72);
        assert_eq!(ship.len(), 21);
        assert!(ship.windows(2).all(|w| w[0].at <= w[1].at));
        let near = contacts(&positions, "311050800", at, 72, 1_000.0, DEFAULT_SAME_TIME_MINUTES);
        assert!(!near.is_empty(), "a river port has neighbours within a kilometre");
        for c in &near {
            assert!(c.closest_metres <= 1_000.0 && c.first_at <= c.closest_at && c.closest_at <= c.last_at);
            assert_ne!(c.id, "311050800");
        }
        // Widening the distance only adds contacts.
        let wider = contacts(&positions, "311050800", at, 72, 3_000.0, DEFAULT_SAME_TIME_MINUTES);
        assert!(near.iter().all(|c| wider.iter().any(|w| w.id == c.id)) && wider.len() >= near.len());
        // A vessel nobody reported: no track, no contacts.
        assert!(track(&positions, "000000000", at, 72).is_empty());
        assert!(contacts(&positions, "000000000", at, 72, 1_000.0, DEFAULT_SAME_TIME_MINUTES).is_empty());
    }
}
