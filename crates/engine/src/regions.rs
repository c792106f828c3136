//! Loading the division tree and boundary polygons, and the region look-ups everyone uses.

use std::collections::HashSet;

use fq_domain::actor::Actor;
use fq_domain::boundary::parse_boundaries;
use fq_domain::journal::NewEvent;
use fq_domain::region::{Region, RegionCode, RegionCounts};
use fq_domain::region_dataset::{DivisionFiles, diff_tree, parse_division_tree};
use fq_store::{Change, Op};
use serde_json::json;

use crate::Engine;
use crate::access::require_operator;
use crate::error::EngineError;
use crate::reference_data::{EMBEDDED_BOUNDARIES, embedded_division_files};

/// Diffs larger than this are journaled as counts plus the dataset's content hash, which pins the
/// exact files; smaller ones list every code.
const LISTED_CHANGES_MAX: usize = 5_000;

/// What a region import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionImportReport {
    pub source: String,
    pub content_hash: String,
    /// Regions in the imported files, per level.
    pub counts: RegionCounts,
    pub added: usize,
    pub renamed: usize,
    pub retired: usize,
    pub restored: usize,
    /// The journal sequence of the import event, if anything changed.
    pub journal_seq: Option<u64>,
}

/// What a boundary import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundaryImportReport {
    pub source: String,
    pub boundaries: usize,
    pub journal_seq: u64,
}

fn listed<T: serde::Serialize>(items: &[T]) -> serde_json::Value {
    if items.len() <= LISTED_CHANGES_MAX { json!(items) } else { json!(null) }
}

impl Engine {
    /// Imports a division tree: parses and checks all five files, compares them with the stored
    /// tree, and commits the difference as one change (added, renamed, retired, restored regions)
    /// with one `region_tree.imported` event. Nothing is written when any row is wrong.
    pub async fn import_regions(
        &self,
        actor: &Actor,
        source: &str,
        files: DivisionFiles<'_>,
    ) -> Result<RegionImportReport, EngineError> {
        require_operator(actor, "importing the division tree")?;
        let tree = parse_division_tree(files).map_err(|e| EngineError::invalid(&e))?;
        let existing = self.store.regions_all().await?;
        let diff = diff_tree(&existing, &tree.regions);
        let mut report = RegionImportReport {
            source: source.to_owned(),
            content_hash: tree.content_hash.clone(),
            counts: tree.counts,
            added: diff.added.len(),
            renamed: diff.renamed.len(),
            retired: diff.retired.len(),
            restored: diff.restored.len(),
            journal_seq: None,
        };
        if diff.is_empty() {
            return Ok(report);
        }
        let restored: HashSet<&RegionCode> = diff.restored.iter().collect();
        let renamed: HashSet<&RegionCode> = diff.renamed.iter().map(|(code, _, _)| code).collect();
        let upserts: Vec<Region> = tree
            .regions
            .iter()
            .filter(|r| restored.contains(&r.code) || renamed.contains(&r.code))
            .cloned()
            .chain(diff.added.iter().cloned())
            .collect();
        let added_codes: Vec<&str> = diff.added.iter().map(|r| r.code.as_str()).collect();
        let payload = json!({
            "source": source,
            "content_hash": tree.content_hash,
            "counts": tree.counts,
            "added": diff.added.len(),
            "added_codes": listed(&added_codes),
            "renamed": diff.renamed.iter().map(|(c, old, new)| json!([c, old, new])).collect::<Vec<_>>(),
            "retired": diff.retired,
            "restored": diff.restored,
        });
        let mut change = Change::new();
        if !upserts.is_empty() {
            change = change.op(Op::UpsertRegions(upserts));
        }
        if !diff.retired.is_empty() {
            change = change.op(Op::RetireRegions(diff.retired.clone()));
        }
        let change = change.event(NewEvent::new("region_tree", "region_tree.imported", actor.journal_name(), payload));
        let committed = self.store.commit(change).await?;
        self.caches.regions_changed();
        report.journal_seq = Some(committed.last_seq);
        Ok(report)
    }

    /// Imports boundary polygons from a GeoJSON FeatureCollection. Every feature's region must
    /// exist; nothing is written when any feature is wrong.
    pub async fn import_boundaries(
        &self,
        actor: &Actor,
        source: &str,
        bytes: &[u8],
    ) -> Result<BoundaryImportReport, EngineError> {
        require_operator(actor, "importing boundaries")?;
        let boundaries = parse_boundaries(source, bytes).map_err(|e| EngineError::invalid(&e))?;
        for (idx, boundary) in boundaries.iter().enumerate() {
            if self.store.region(&boundary.code).await?.is_none() {
                return Err(EngineError::Invalid {
                    code: "boundary_geojson_invalid",
                    field: Some(format!("{source}#feature{}", idx + 1)),
                    message: format!("{source}, feature {}: region {} is not in the division tree", idx + 1, boundary.code),
                });
            }
        }
        let codes: Vec<&str> = boundaries.iter().map(|b| b.code.as_str()).collect();
        let payload = json!({
            "source": source,
            "content_hash": blake3::hash(bytes).to_hex().to_string(),
            "codes": codes,
        });
        let count = boundaries.len();
        let change = Change::new().op(Op::UpsertBoundaries(boundaries)).event(NewEvent::new(
            "region_boundaries",
            "region_boundaries.imported",
            actor.journal_name(),
            payload,
        ));
        let committed = self.store.commit(change).await?;
        Ok(BoundaryImportReport { source: source.to_owned(), boundaries: count, journal_seq: committed.last_seq })
    }

    /// Loads the embedded division tree and boundaries when the store has no regions yet (first
    /// start). Returns the reports of what it loaded, or `None` when the tree was already there.
    pub async fn ensure_reference_data(&self) -> Result<Option<(RegionImportReport, Vec<BoundaryImportReport>)>, EngineError> {
        if self.store.region_counts().await?.total() > 0 {
            return Ok(None);
        }
        let regions = self.import_regions(&Actor::System, "embedded data/regions", embedded_division_files()).await?;
        let mut boundaries = Vec::new();
        for (name, bytes) in EMBEDDED_BOUNDARIES {
            boundaries.push(self.import_boundaries(&Actor::System, name, bytes).await?);
        }
        Ok(Some((regions, boundaries)))
    }

    /// One region, readable by anyone: the division tree is public reference data.
    pub async fn region(&self, code: &RegionCode) -> Result<Region, EngineError> {
        self.store.region(code).await?.ok_or_else(|| EngineError::NotFound { entity: "region", key: code.to_string() })
    }

    /// The direct children of a region.
    pub async fn region_children(&self, code: &RegionCode) -> Result<Vec<Region>, EngineError> {
        self.region(code).await?;
        Ok(self.store.children(code).await?)
    }

    /// `code` when it is in the division tree, retired or not: what reads a region's past (a map,
    /// a track record) still reads a retired one.
    pub(crate) async fn known_region(&self, code: &RegionCode, field: &str) -> Result<Region, EngineError> {
        self.store
            .region(code)
            .await?
            .ok_or_else(|| EngineError::field("region_unknown", field, format!("region {code} is not in the division tree")))
    }

    /// Checks that a region exists and is active, for use cases that attach things to it.
    pub(crate) async fn active_region(&self, code: &RegionCode, field: &str) -> Result<Region, EngineError> {
        match self.store.region(code).await? {
            Some(region) if !region.retired => Ok(region),
            Some(_) => Err(EngineError::field("region_retired", field, format!("region {code} is retired"))),
            None => Err(EngineError::field("region_unknown", field, format!("region {code} is not in the division tree"))),
        }
    }
}
