//! Event sources: each maps its rows (CSV with a header, or a JSON list of objects) onto our
//! event schema (the source's id, time, a point or a region code, category, severity, text) and
//! its categories onto ours. Reading a file gives every row it could read and every bad row by
//! line (CSV) or position (JSON) and column; the caller stores nothing when any row is bad.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::Deserialize;
use serde_json::Value as Json;

/// The sources file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceFile {
    pub version: u32,
    pub sources: Vec<SourceDef>,
}

/// One source.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceDef {
    pub code: String,
    pub name: String,
    pub format: Format,
    pub feed_login: String,
    pub columns: Columns,
    pub categories: BTreeMap<String, String>,
    /// Our category for the source's values not listed (none: such a row is bad).
    #[serde(default)]
    pub other: Option<String>,
    /// The region a row without a place is in (a county's own portal), when the source covers one.
    #[serde(default)]
    pub area: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Csv,
    Json,
}

/// The source's column for each of our fields.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Columns {
    pub id: String,
    pub time: String,
    #[serde(default)]
    pub lon: Option<String>,
    #[serde(default)]
    pub lat: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    pub category: String,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
}

/// A row read from a source.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRow {
    /// Line (CSV) or 1-based position (JSON).
    pub line: u64,
    pub id: String,
    pub at: DateTime<Utc>,
    pub point: Option<(f64, f64)>,
    pub region: Option<String>,
    pub category: String,
    pub severity: i16,
    pub text: String,
}

/// A row refused, by line and column, with a stable code a feed's system can act on
/// (`time_invalid`, `category_unmapped`, `id_duplicate`...) and a message for people.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RowError {
    pub line: u64,
    pub code: &'static str,
    pub column: String,
    pub message: String,
}

impl RowError {
    pub fn new(line: u64, code: &'static str, column: impl Into<String>, message: impl Into<String>) -> RowError {
        RowError { line, code, column: column.into(), message: message.into() }
    }
}

impl SourceFile {
    /// Reads the sources file; `known` says whether a category code is ours.
    pub fn load(text: &str, known: impl Fn(&str) -> bool) -> Result<SourceFile, String> {
        let file: SourceFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut codes = std::collections::BTreeSet::new();
        for s in &file.sources {
            if !codes.insert(&s.code) {
                return Err(format!("source {} appears twice", s.code));
            }
            if s.columns.region.is_none() && s.area.is_none() && (s.columns.lon.is_none() || s.columns.lat.is_none()) {
                return Err(format!("source {}: a place needs lon and lat columns, or a region column", s.code));
            }
            if let Some(bad) = s.categories.values().chain(s.other.iter()).find(|c| !known(c)) {
                return Err(format!("source {}: {bad} is not a risk category", s.code));
            }
        }
        Ok(file)
    }

    pub fn source(&self, code: &str) -> Option<&SourceDef> {
        self.sources.iter().find(|s| s.code == code)
    }
}

/// An instant: RFC 3339, or a date-time or date without a zone read as Beijing time (how the
/// sources' files and Open311 servers write them).
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.to_utc());
    }
    let beijing = chrono::FixedOffset::east_opt(8 * 3600)?;
    let local = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .or_else(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)))?;
    local.and_local_timezone(beijing).single().map(|t| t.to_utc())
}

impl SourceDef {
    /// Reads a file of this source: the rows, or every bad row.
    pub fn read(&self, bytes: &[u8]) -> Result<Vec<SourceRow>, Vec<RowError>> {
        let records: Vec<(u64, BTreeMap<String, String>)> = match self.format {
            Format::Csv => {
                let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
                let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
                let headers =
                    reader.headers().map_err(|e| vec![RowError::new(1, "header_invalid", "header", e.to_string())])?.clone();
                let mut out = Vec::new();
                for row in reader.records() {
                    let row = row.map_err(|e| vec![RowError::new(0, "file_invalid", "file", e.to_string())])?;
                    let line = row.position().map_or(0, |p| p.line());
                    out.push((
                        line,
                        headers.iter().zip(row.iter()).map(|(h, v)| (h.trim().to_owned(), v.trim().to_owned())).collect(),
                    ));
                }
                out
            }
            Format::Json => {
                let list: Vec<Json> = serde_json::from_slice(bytes)
                    .map_err(|e| vec![RowError::new(0, "file_invalid", "file", format!("not a JSON list: {e}"))])?;
                list.into_iter()
                    .enumerate()
                    .map(|(i, v)| {
                        let fields = match v {
                            Json::Object(map) => map
                                .into_iter()
                                .map(|(k, v)| (k, if let Json::String(s) = v { s } else { v.to_string() }))
                                .collect(),
                            _ => BTreeMap::new(),
                        };
                        (i as u64 + 1, fields)
                    })
                    .collect()
            }
        };
        let (mut rows, mut bad) = (Vec::new(), Vec::new());
        for (line, fields) in records {
            match self.row(line, &fields) {
                Ok(row) => rows.push(row),
                Err(e) => bad.push(e),
            }
        }
        if bad.is_empty() { Ok(rows) } else { Err(bad) }
    }

    fn row(&self, line: u64, fields: &BTreeMap<String, String>) -> Result<SourceRow, RowError> {
        let c = &self.columns;
        let get = |name: &Option<String>| {
            name.as_ref().and_then(|n| fields.get(n)).map(|v| v.trim()).filter(|v| !v.is_empty() && *v != "null")
        };
        let bad = |code: &'static str, column: &str, message: String| RowError::new(line, code, column, message);
        let id = get(&Some(c.id.clone())).ok_or_else(|| bad("id_required", &c.id, "the event's id is empty".into()))?;
        if id.chars().count() > 100 {
            return Err(bad("id_too_long", &c.id, "the id is longer than 100 characters".into()));
        }
        let time = get(&Some(c.time.clone())).unwrap_or_default();
        let at = parse_time(time).ok_or_else(|| bad("time_invalid", &c.time, format!("{time:?} is not a date-time")))?;
        let number = |name: &Option<String>, range: std::ops::RangeInclusive<f64>| -> Result<Option<f64>, RowError> {
            match get(name) {
                None => Ok(None),
                Some(v) => v.parse::<f64>().ok().filter(|x| range.contains(x)).map(Some).ok_or_else(|| {
                    bad("number_invalid", name.as_deref().unwrap_or(""), format!("{v:?} is not a number in {range:?}"))
                }),
            }
        };
        let point = match (number(&c.lon, -180.0..=180.0)?, number(&c.lat, -90.0..=90.0)?) {
            (Some(x), Some(y)) => Some((x, y)),
            _ => None,
        };
        let region = get(&c.region).map(str::to_owned).or_else(|| if point.is_none() { self.area.clone() } else { None });
        if point.is_none() && region.is_none() {
            return Err(bad("place_required", "place", "neither a point (lon, lat) nor a region code".into()));
        }
        let theirs = get(&Some(c.category.clone())).unwrap_or_default();
        let category = self
            .categories
            .get(theirs)
            .or(self.other.as_ref())
            .cloned()
            .ok_or_else(|| bad("category_unmapped", &c.category, format!("{theirs:?} is not mapped to a risk category")))?;
        let severity = match number(&c.severity, 0.0..=1e9)? {
            None => 1,
            // Sources grade differently; anything above 4 is the highest.
            Some(v) => (v.round() as i16).clamp(1, 4),
        };
        let text = get(&c.text).unwrap_or_default().chars().take(2000).collect();
        Ok(SourceRow { line, id: id.to_owned(), at, point, region, category, severity, text })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/risk/sources-v1.toml"));

    fn sources() -> SourceFile {
        SourceFile::load(SHIPPED, |c| !c.is_empty()).unwrap()
    }

    #[test]
    fn ten_sources_ship_and_a_bad_file_is_refused() {
        assert!(sources().sources.len() >= 10);
        assert!(SourceFile::load(SHIPPED, |c| c != "fire").unwrap_err().contains("fire is not a risk category"));
        let twice = format!(
            "{SHIPPED}\n[[sources]]\ncode = \"grid_patrol\"\nname = \"x\"\nformat = \"csv\"\nfeed_login = \"x\"\ncolumns = {{ id = \"a\", time = \"b\", region = \"c\", category = \"d\" }}\ncategories = {{}}\n"
        );
        assert!(SourceFile::load(&twice, |_| true).unwrap_err().contains("twice"));
    }

    #[test]
    fn csv_and_json_rows_map_onto_events_and_bad_rows_are_named() {
        let s = sources();
        let patrol = s.source("grid_patrol").unwrap();
        let csv = "report_id,reported_at,lon,lat,village,type,level,note\nP1,2026-11-26 09:30,121.42,28.57,,欠薪,3,某厂欠薪\nP2,2026-11-26 10:00,,,331004001001,邻里纠纷,,\n";
        let rows = patrol.read(csv.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].category.as_str(), rows[0].severity, rows[0].point), ("dispute_labour", 3, Some((121.42, 28.57))));
        assert_eq!(rows[0].at, DateTime::parse_from_rfc3339("2026-11-26T01:30:00Z").unwrap().to_utc(), "Beijing time");
        assert_eq!(rows[1].region.as_deref(), Some("331004001001"));
        let bad = "report_id,reported_at,lon,lat,village,type,level,note\nP3,tomorrow,121.4,28.5,,欠薪,1,\nP4,2026-11-26,,,,欠薪,1,\nP5,2026-11-26,121.4,28.5,,打架,1,\n";
        let errors = patrol.read(bad.as_bytes()).unwrap_err();
        let named: Vec<(u64, &str, &str)> = errors.iter().map(|e| (e.line, e.code, e.column.as_str())).collect();
        assert_eq!(named, [(2, "time_invalid", "reported_at"), (3, "place_required", "place"), (4, "category_unmapped", "type")]);
        let hotline = s.source("hotline_12345").unwrap();
        let json = r#"[{"order_no": "H1", "accept_time": "2026-11-26T08:00:00+08:00", "area_code": "331004", "kind": "其他", "content": "x"}]"#;
        let rows = hotline.read(json.as_bytes()).unwrap();
        assert_eq!(rows[0].category, "dispute_neighbour", "an unmapped value takes the source's fallback");
        assert!(hotline.read(b"{}").is_err());
    }
}
