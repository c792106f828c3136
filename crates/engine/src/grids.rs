//! Grids: importing real grid polygons, generating demonstration cells, listing.

use fq_domain::actor::Actor;
use fq_domain::geometry::area_from_geojson_text;
use fq_domain::grid::{Grid, parse_grid_file};
use fq_domain::grid_generator::generate_cells;
use fq_domain::journal::NewEvent;
use fq_domain::region::{RegionCode, RegionLevel};
use geo::Intersects;
use serde_json::json;

use crate::Engine;
use crate::access::{may_read, require_admin};
use crate::error::EngineError;
use fq_store::{Change, Op};

/// What a grid import or generation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GridImportReport {
    pub grids: usize,
    /// Generated grids replaced by a new generation.
    pub replaced: usize,
    pub journal_seq: u64,
}

fn feature_error(source: &str, idx: usize, field: &str, message: &str) -> EngineError {
    EngineError::Invalid {
        code: "grid_geojson_invalid",
        field: Some(format!("{source}#feature{}.{field}", idx + 1)),
        message: format!("{source}, feature {}, property {field}: {message}", idx + 1),
    }
}

impl Engine {
    /// Imports grids from a GeoJSON FeatureCollection (format in `fq_domain::grid`). Checks every
    /// feature: its region exists, is active and lies in the actor's admin scope; its polygon
    /// touches its county's boundary; its code is new. All grids are written, or none.
    pub async fn import_grids(&self, actor: &Actor, source: &str, bytes: &[u8]) -> Result<GridImportReport, EngineError> {
        let grids = parse_grid_file(source, bytes).map_err(|e| EngineError::invalid(&e))?;
        let mut counties = std::collections::HashMap::new();
        for (idx, grid) in grids.iter().enumerate() {
            require_admin(actor, &grid.region, None, "importing grids")?;
            match self.store.region(&grid.region).await? {
                Some(region) if !region.retired => {}
                Some(_) => return Err(feature_error(source, idx, "region", &format!("region {} is retired", grid.region))),
                None => {
                    return Err(feature_error(
                        source,
                        idx,
                        "region",
                        &format!("region {} is not in the division tree", grid.region),
                    ));
                }
            }
            let county = grid.region.at_level(RegionLevel::County).expect("towns and villages have counties");
            if !counties.contains_key(&county) {
                let boundary = match self.store.boundary(&county).await? {
                    Some(stored) => Some(
                        area_from_geojson_text(&stored.geojson)
                            .map_err(|e| EngineError::Store(fq_store::StoreError::corrupt(format!("boundary of {county}"), e)))?,
                    ),
                    None => None,
                };
                counties.insert(county.clone(), boundary);
            }
            if let Some(Some(boundary)) = counties.get(&county)
                && !boundary.intersects(&grid.area)
            {
                return Err(feature_error(source, idx, "geometry", &format!("the polygon lies outside county {county}")));
            }
            if self.store.grid(&grid.code).await?.is_some() {
                return Err(feature_error(source, idx, "code", &format!("grid {} already exists", grid.code)));
            }
        }
        let codes: Vec<&str> = grids.iter().map(|g| g.code.as_str()).collect();
        let payload = json!({
            "source": source,
            "content_hash": blake3::hash(bytes).to_hex().to_string(),
            "codes": codes,
        });
        let count = grids.len();
        let change = Change::new().op(Op::InsertGrids(grids)).event(NewEvent::new(
            "grids",
            "grids.imported",
            actor.journal_name(),
            payload,
        ));
        let committed = self.store.commit(change).await?;
        Ok(GridImportReport { grids: count, replaced: 0, journal_seq: committed.last_seq })
    }

    /// Covers a county with generated demonstration cells of `cell_metres`, replacing the
    /// county's earlier generated cells (imported grids are never touched).
    pub async fn generate_grids(
        &self,
        actor: &Actor,
        county: &RegionCode,
        cell_metres: u32,
    ) -> Result<GridImportReport, EngineError> {
        if county.level() != RegionLevel::County {
            return Err(EngineError::field("region_not_county", "county", format!("{county} is not a 6-digit county code")));
        }
        require_admin(actor, county, None, "generating grids")?;
        self.active_region(county, "county").await?;
        let boundary = self.store.boundary(county).await?.ok_or_else(|| {
            EngineError::field("boundary_missing", "county", format!("county {county} has no boundary polygon to cover"))
        })?;
        let area = area_from_geojson_text(&boundary.geojson)
            .map_err(|e| EngineError::Store(fq_store::StoreError::corrupt(format!("boundary of {county}"), e)))?;
        let towns = self.store.children(county).await?;
        let cells = generate_cells(county, &area, &towns, cell_metres).map_err(|e| EngineError::invalid(&e))?;
        let old: Vec<_> = self.store.grids_within(county).await?.into_iter().filter(|g| g.generated).map(|g| g.code).collect();
        let replaced = old.len();
        let payload = json!({
            "county": county,
            "cell_metres": cell_metres,
            "generated": cells.len(),
            "replaced": replaced,
            "note": "generated demonstration cells, not a real grid division",
        });
        let count = cells.len();
        let mut change = Change::new();
        if !old.is_empty() {
            change = change.op(Op::DeleteGeneratedGrids(old));
        }
        let change = change.op(Op::InsertGrids(cells)).event(NewEvent::new(
            format!("grids:{county}"),
            "grids.generated",
            actor.journal_name(),
            payload,
        ));
        let committed = self.store.commit(change).await?;
        Ok(GridImportReport { grids: count, replaced, journal_seq: committed.last_seq })
    }

    /// Grids within a region the actor may read.
    pub async fn grids_within(&self, actor: &Actor, region: &RegionCode) -> Result<Vec<Grid>, EngineError> {
        if !may_read(actor, region, None) {
            return Err(EngineError::forbidden(format!("reading grids of region {region}")));
        }
        Ok(self.store.grids_within(region).await?)
    }
}
