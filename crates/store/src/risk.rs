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

    /// The place cells ([`position_cell`]) the area covers, west to east then south to north;
    /// None when they are more than [`MAX_AREA_CELLS`] (the area is read by time alone).
    pub fn cells(&self) -> Option<Vec<i64>> {
        let (west, south) = cell_indices(self.west, self.south);
        let (east, north) = cell_indices(self.east, self.north);
        if east < west || north < south || (east - west + 1) * (north - south + 1) > MAX_AREA_CELLS as i64 {
            return None;
        }
        Some((west..=east).flat_map(|x| (south..=north).map(move |y| x * CELL_ROW + y)).collect())
    }
}

/// How many place cells a degree holds each way: cells of 0.05° (in Zhejiang about 4.8 km east
/// to west and 5.6 km north to south). A trace's hourly box around a slow subject covers one to
/// four of them; an hour of a province's reports is thousands of times more.
pub const CELLS_PER_DEGREE: f64 = 20.0;

/// An area covering more cells than this is read by its time window alone: past it, probing
/// each cell costs more than reading the hour.
pub const MAX_AREA_CELLS: usize = 256;

/// Longitude cells are numbered this many apart (more than the 3,600 latitude rows).
const CELL_ROW: i64 = 10_000;

fn cell_indices(lon: f64, lat: f64) -> (i64, i64) {
    // Truncation is floor here: both sums are ≥ 0 for a WGS-84 point. Bounds beyond the globe
    // (an area's, never a stored report's) are held to its edge cells, so no area's count of
    // cells can overflow.
    let index = |degrees: f64, edge: f64| ((degrees + edge) * CELLS_PER_DEGREE).clamp(0.0, 2.0 * edge * CELLS_PER_DEGREE) as i64;
    (index(lon, 180.0), index(lat, 90.0))
}

/// The place cell of a report, the key of the stores' (cell, time) index through which a trace
/// reads only the reports near its subject. The stores compute it from `lon` and `lat` in a
/// generated column with the same arithmetic (degrees plus 180 or 90, times 20, floored; in
/// IEEE doubles in SQLite, PostgreSQL and here alike), so an area's [`cells`](PositionArea::cells)
/// hold every report inside it: the cell of a point is monotone in each coordinate.
pub fn position_cell(lon: f64, lat: f64) -> i64 {
    let (x, y) = cell_indices(lon, lat);
    x * CELL_ROW + y
}

/// Draws the areas to read around a subject's own reports (a trace: the boxes around its
/// track, `fq_risk::trace::search_boxes`). Called by the store between its two reads of
/// [`RiskStore::positions_around`](crate::RiskStore::positions_around), inside their snapshot.
pub type AreasAround = std::sync::Arc<dyn Fn(&[PositionRecord]) -> Vec<PositionArea> + Send + Sync>;

/// The two reads of a trace, from one snapshot: the subject's own reports, and the reports in
/// the areas drawn around them (the subject's among them).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PositionsAround {
    pub own: Vec<PositionRecord>,
    pub near: Vec<PositionRecord>,
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

/// A checked forecast of the track record (预测检验档案): how the forecast of `county` over
/// `horizon_days` from `day` did once its horizon was over, for one category or for every
/// category summed (`scope` [`EVERY_CATEGORY`]). Derived data, but kept for good: the forecast
/// it checked is forgotten after a month, and the record is what tells a county over months how
/// far the forecasts can be trusted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskCheckRecord {
    pub county: RegionCode,
    pub scope: String,
    pub day: chrono::NaiveDate,
    pub horizon_days: i32,
    /// The model whose forecast was checked (`fq_risk::whistle::MODEL`).
    pub model: String,
    pub checked_at: DateTime<Utc>,
    /// The check as the engine writes it: the categories checked and the figures.
    pub figures: serde_json::Value,
}

/// The scope of a checked forecast of every category summed.
pub const EVERY_CATEGORY: &str = "*";

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn area(west: f64, east: f64, south: f64, north: f64) -> PositionArea {
        let at = DateTime::<Utc>::UNIX_EPOCH;
        PositionArea { from: at, to: at, west, east, south, north }
    }

    #[test]
    fn cells_of_an_area() {
        // 122.04..122.06 crosses the cell boundary at 122.05 (302.05° east of the antimeridian,
        // cell 6041 in IEEE arithmetic); 29.91..29.92 lies in one latitude row.
        let cells = area(122.04, 122.06, 29.91, 29.92).cells().unwrap();
        assert_eq!(cells, [position_cell(122.04, 29.91), position_cell(122.06, 29.91)]);
        assert_eq!(cells[1] - cells[0], CELL_ROW, "neighbours west to east are a row apart");
        // A point is one cell; the world is too many; so is an area of 17 × 16 cells.
        assert_eq!(area(122.0, 122.0, 30.0, 30.0).cells().unwrap().len(), 1);
        assert_eq!(PositionArea::window(DateTime::<Utc>::UNIX_EPOCH, DateTime::<Utc>::UNIX_EPOCH).cells(), None);
        assert_eq!(
            area(120.0, 120.0 + 15.5 / CELLS_PER_DEGREE, 30.0, 30.0 + 15.5 / CELLS_PER_DEGREE).cells().unwrap().len(),
            256
        );
        assert_eq!(area(120.0, 120.0 + 16.5 / CELLS_PER_DEGREE, 30.0, 30.0 + 15.5 / CELLS_PER_DEGREE).cells(), None);
        // The corners of the world; bounds beyond it (or none) are too many cells, not a panic.
        assert_eq!(area(f64::NEG_INFINITY, f64::INFINITY, 29.0, 29.0).cells(), None);
        assert_eq!(area(-1e300, -1e300, 0.0, 0.0).cells().unwrap(), [position_cell(-180.0, 0.0)]);
        assert_eq!(position_cell(-180.0, -90.0), 0);
        assert_eq!(position_cell(180.0, 90.0), 7200 * CELL_ROW + 3600);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Every point inside an area lies in one of the area's cells: a read by cells misses
        /// none of its reports.
        #[test]
        fn a_point_inside_lies_in_a_cell_of_the_area(
            west in -180.0f64..180.0, width in 0.0f64..0.8,
            south in -90.0f64..90.0, height in 0.0f64..0.8,
            x in 0.0f64..=1.0, y in 0.0f64..=1.0,
        ) {
            let (east, north) = ((west + width).min(180.0), (south + height).min(90.0));
            let a = area(west, east, south, north);
            let point = (west + x * (east - west), south + y * (north - south));
            let (lon, lat) = (point.0.clamp(west, east), point.1.clamp(south, north));
            match a.cells() {
                Some(cells) => {
                    prop_assert!(cells.len() <= MAX_AREA_CELLS);
                    prop_assert!(cells.contains(&position_cell(lon, lat)), "{lon}, {lat} not in the cells of {a:?}");
                    prop_assert!(cells.windows(2).all(|w| w[0] < w[1]), "each cell once");
                }
                // Refused only past 256 cells: (w + 2)(h + 2) > 256 cells' sides with w, h ≤ 16 gives
                // w·h > 188.
                None => prop_assert!((east - west) * (north - south) * CELLS_PER_DEGREE * CELLS_PER_DEGREE > 188.0, "{a:?} refused"),
            }
        }
    }
}
