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
