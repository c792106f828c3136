//! Risk events (风险事件) as stored: one row per event of a source, unique by the source's own id,
//! so that ingesting the same file again stores nothing twice.

use chrono::{DateTime, Utc};
use fq_domain::region::RegionCode;
use serde::{Deserialize, Serialize};

/// One position report as stored: a subject (an MMSI, a terminal, a checkpoint id) at a time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PositionRecord {
    pub subject: String,
    pub at: DateTime<Utc>,
    pub lon: f64,
    pub lat: f64,
    /// Where it came from (`ais`, `beidou`, `checkpoint`...).
    pub source: String,
    /// The county the feed serves (whose risk analysts may trace with it); empty for reports
    /// stored before counties were recorded (operators only).
    pub region: String,
}

/// Puts reports read area by area in the order [`RiskStore::positions_in`](crate::RiskStore::positions_in)
/// promises, by time then subject then county: one report seen by several counties' feeds comes
/// out as neighbours, and one read in two areas as twins, kept once.
pub fn order_and_dedup_positions(records: &mut Vec<PositionRecord>) {
    records.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.subject.cmp(&b.subject)).then_with(|| a.region.cmp(&b.region)));
    records.dedup_by(|a, b| a.at == b.at && a.subject == b.subject && a.region == b.region);
}

/// A time window `[from, to)` and an area (degrees, bounds included) of position reports to
/// read: a trace reads its companions' reports in the boxes around its subject's track.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PositionArea {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub west: f64,
    pub east: f64,
    pub south: f64,
    pub north: f64,
}

impl PositionArea {
    /// Every report of the window, wherever it is.
    pub fn window(from: DateTime<Utc>, to: DateTime<Utc>) -> Self {
        Self { from, to, west: -180.0, east: 180.0, south: -90.0, north: 90.0 }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskEventRecord {
    /// The source's code and its own id for the event.
    pub source: String,
    pub source_id: String,
    pub occurred_at: DateTime<Utc>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    /// The grid's town when the point fell in a grid, else the region the source gave.
    pub region: RegionCode,
    pub grid: Option<String>,
    /// A code of the risk categories (after the source's mapping).
    pub category: String,
    /// 1 (low) to 4 (high).
    pub severity: i16,
    pub text: String,
}

/// A stored forecast (预测): our model's expected count for each study cell of a county and a
/// category over `horizon_days` from `day`, fitted on the `stored_events` events of the county
/// stored before that day. Derived data: fitted again whenever it is missing or stale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskForecastRecord {
    pub county: RegionCode,
    pub category: String,
    pub day: chrono::NaiveDate,
    pub horizon_days: i32,
    /// The model that fitted it (`fq_risk::whistle::MODEL`).
    pub model: String,
    /// How many of the county's events (of every category) were stored before `day` when it
    /// was fitted: a reader takes the row only while the count is still the same.
    pub stored_events: u64,
    pub made_at: DateTime<Utc>,
    /// Each study cell's centre and expected count: `[lon, lat, expected]`.
    pub cells: Vec<[f64; 3]>,
}
