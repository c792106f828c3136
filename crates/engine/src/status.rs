//! What is running: for the landing page, `/readyz` and the CLI.

use fq_domain::journal::RecordedHead;
use fq_domain::region::RegionCounts;
use serde::Serialize;

use crate::Engine;
use crate::demo::DEMO_SEEDED_KEY;
use crate::error::EngineError;

/// A snapshot of the instance.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub version: &'static str,
    /// "SQLite" or "PostgreSQL".
    pub backend: &'static str,
    /// Where the data lives, password redacted.
    pub location: String,
    pub regions: RegionCounts,
    pub grids: u64,
    pub generated_grids: u64,
    pub journal_events: u64,
    pub journal_head: Option<String>,
    /// When demo data was seeded, if it was.
    pub demo_seeded_at: Option<String>,
}

impl Engine {
    pub async fn status(&self) -> Result<Status, EngineError> {
        let location = self.store.location();
        let (grids, generated_grids) = self.store.grid_counts().await?;
        let head = match self.store.recorded_head().await? {
            RecordedHead::At(head) => Some(head),
            RecordedHead::Empty | RecordedHead::Missing => None,
        };
        Ok(Status {
            version: env!("CARGO_PKG_VERSION"),
            backend: location.kind().as_str(),
            location: location.to_string(),
            regions: self.store.region_counts().await?,
            grids,
            generated_grids,
            journal_events: head.map_or(0, |h| h.seq),
            journal_head: head.map(|h| h.to_string()),
            demo_seeded_at: self.store.setting(DEMO_SEEDED_KEY).await?,
        })
    }

    /// Ready to serve: the database answers and the division tree is loaded.
    pub async fn readiness(&self) -> Result<(), String> {
        self.store.ping().await.map_err(|e| format!("database: {e}"))?;
        let counts = self.store.region_counts().await.map_err(|e| format!("database: {e}"))?;
        if counts.total() == 0 {
            return Err("the division tree is not loaded yet".into());
        }
        Ok(())
    }
}
