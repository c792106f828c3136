//! Ingesting risk events from the sources of `data/risk/sources-v1.toml`: a file (or a pushed
//! body) is read whole; any bad row refuses it all, every bad row named; each event is placed in
//! the grid its point falls in (the grid's town becomes its region), or by the region code the
//! source gave; events with a point outside every grid and no region code are reported and not
//! stored; an id the source sent before is skipped, so ingesting the same file twice stores
//! nothing twice.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use fq_domain::actor::Actor;
use fq_domain::calendar::{local_date, start_of_day};
use fq_domain::grid::Grid;
use fq_domain::journal::NewEvent;
use fq_domain::region::RegionCode;
use fq_risk::locate::{Polygon, PolygonIndex};
use fq_risk::sources::{RowError, SourceFile};
use fq_store::{Change, Op, RiskEventRecord};
use serde::Serialize;
use serde_json::json;

use crate::Engine;
use crate::error::EngineError;
use crate::risk_whistle::earliest_event_day;

/// The shipped sources file.
const SOURCES: &str = include_str!("../../../data/risk/sources-v1.toml");

/// What an ingest did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IngestReport {
    pub source: String,
    pub rows: usize,
    /// Stored now.
    pub stored: usize,
    /// Sent before (by the source's id), skipped.
    pub duplicates: usize,
    /// Placed by their point in a grid, or by the region code the source gave.
    pub in_grids: usize,
    pub by_region: usize,
    /// (line, id) of events whose point is outside every grid and that carry no region code.
    pub outside: Vec<(u64, String)>,
    /// Every bad row; when there is one, nothing is stored.
    pub bad: Vec<RowError>,
}

/// The point-to-polygon index of `grids` (every part of each grid, its rings with holes),
/// whose polygon codes are the grid codes.
pub(crate) fn grid_index(grids: &[Grid]) -> PolygonIndex {
    PolygonIndex::new(
        grids
            .iter()
            .flat_map(|g| {
                g.area.0.iter().map(|p| Polygon {
                    code: g.code.to_string(),
                    rings: std::iter::once(p.exterior())
                        .chain(p.interiors())
                        .map(|ring| ring.coords().map(|c| [c.x, c.y]).collect())
                        .collect(),
                })
            })
            .collect(),
    )
}

impl Engine {
    /// The event sources, checked against the risk programme's categories.
    pub fn risk_sources(&self) -> Result<Arc<SourceFile>, EngineError> {
        static LOADED: OnceLock<Result<Arc<SourceFile>, String>> = OnceLock::new();
        let programme = self.programme("risk")?;
        LOADED
            .get_or_init(|| SourceFile::load(SOURCES, |c| programme.in_catalog("risk_category", c)).map(Arc::new))
            .clone()
            .map_err(|e| EngineError::field("sources_invalid", "data/risk/sources-v1.toml", e))
    }

    /// Ingests a file of `source`. Operators may ingest any source; an account only the source
    /// whose feed it is (`feed_login`).
    pub async fn ingest_risk_events(&self, actor: &Actor, source: &str, bytes: &[u8]) -> Result<IngestReport, EngineError> {
        let sources = self.risk_sources()?;
        let def = sources
            .source(source)
            .ok_or_else(|| EngineError::field("source_unknown", "source", format!("{source} is not an event source")))?;
        if let Some(account) = actor.account()
            && (account.disabled || account.login.as_str() != def.feed_login)
        {
            return Err(EngineError::forbidden(format!("only the feed account of {source} pushes its events")));
        }
        let mut report = IngestReport { source: source.to_owned(), ..IngestReport::default() };
        let rows = match def.read(bytes) {
            Ok(rows) => rows,
            Err(bad) => {
                report.bad = bad;
                return Ok(report);
            }
        };
        report.rows = rows.len();
        let mut seen: HashMap<&str, u64> = HashMap::new();
        for row in &rows {
            if let Some(first) = seen.insert(row.id.as_str(), row.line) {
                let message = format!("{} is also on line {first}", row.id);
                report.bad.push(RowError::new(row.line, "id_duplicate", def.columns.id.clone(), message));
            }
        }
        // A time no forecast, map or check would ever read (before the history they read, or a
        // typo's year ahead) would be stored and silently never counted: refused instead. A
        // feed's clock may run a little ahead; a day is allowed.
        let (earliest, latest) = (start_of_day(earliest_event_day()), self.now() + chrono::Duration::days(1));
        for row in rows.iter().filter(|r| r.at < earliest || r.at > latest) {
            let message = format!(
                "{} is outside the times events are read for ({} to a day from now)",
                local_date(row.at),
                earliest_event_day()
            );
            report.bad.push(RowError::new(row.line, "time_out_of_range", def.columns.time.clone(), message));
        }
        // Region codes must be real regions.
        let mut regions: HashMap<String, Option<RegionCode>> = HashMap::new();
        for row in &rows {
            let Some(text) = &row.region else { continue };
            if !regions.contains_key(text) {
                let found = match RegionCode::parse(text) {
                    Ok(code) => self.store.region(&code).await?.filter(|r| !r.retired).map(|_| code),
                    Err(_) => None,
                };
                regions.insert(text.clone(), found);
            }
            if regions[text].is_none() {
                let column = def.columns.region.clone().unwrap_or_default();
                let message = format!("{text:?} is not a region of the division tree");
                report.bad.push(RowError::new(row.line, "region_unknown", column, message));
            }
        }
        if !report.bad.is_empty() {
            report.bad.sort_by_key(|e| e.line);
            return Ok(report);
        }
        let grids = self.store.grids_within(&RegionCode::parse("33").expect("the province")).await?;
        let index = grid_index(&grids);
        let region_of_grid: HashMap<String, RegionCode> = grids.iter().map(|g| (g.code.to_string(), g.region.clone())).collect();
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let known: std::collections::HashSet<String> = self.store.risk_event_ids(source, &ids).await?.into_iter().collect();
        let mut records = Vec::new();
        for row in rows {
            if known.contains(&row.id) {
                report.duplicates += 1;
                continue;
            }
            let grid = row.point.and_then(|(x, y)| index.locate(x, y)).map(|i| index.code(i).to_owned());
            let region = match (&grid, &row.region) {
                (Some(g), _) => {
                    report.in_grids += 1;
                    region_of_grid[g].clone()
                }
                (None, Some(text)) => {
                    report.by_region += 1;
                    regions[text].clone().expect("checked above")
                }
                (None, None) => {
                    report.outside.push((row.line, row.id));
                    continue;
                }
            };
            records.push(RiskEventRecord {
                source: source.to_owned(),
                source_id: row.id,
                occurred_at: row.at,
                lon: row.point.map(|p| p.0),
                lat: row.point.map(|p| p.1),
                region,
                grid,
                category: row.category,
                severity: row.severity,
                text: row.text,
            });
        }
        report.stored = records.len();
        if !records.is_empty() {
            let summary = json!({ "source": source, "stored": report.stored, "duplicates": report.duplicates, "outside": report.outside.len() });
            let change = Change::new().op(Op::InsertRiskEvents(records)).event(NewEvent::new(
                format!("risk_source:{source}"),
                "risk.events_ingested",
                actor.journal_name(),
                summary,
            ));
            self.store.commit(change).await?;
        }
        Ok(report)
    }
}
