//! The storage contract of fengqiao.
//!
//! Writes go through one door, [`JournalStore::commit`]: a [`Change`] carries the events to append
//! and the projection operations ([`Op`]) they imply, and the backend applies both in one
//! transaction, chaining each event onto the journal. Reads go through per-aggregate traits.
//! Backends: `fq-store-sqlite` (default) and `fq-store-postgres`; one conformance suite
//! (`fq-store-conformance`) holds both to this contract.
//!
//! Architecture invariant: only the backend crates contain SQL.

mod access;
mod attachments;
mod cases;
mod change;
mod error;
mod location;
mod risk;
mod traits;

pub use access::{LoginThrottle, SessionRecord};
pub use attachments::AttachmentRecord;
pub use cases::{
    CaseFilter, CaseKpis, CaseRecord, CaseSort, CaseSummary, HandlerProfile, HandlerTally, NotificationRecord, TallyDelta,
    TrendPoint,
};
pub use change::{Change, Committed, Expectation, Op};
pub use error::StoreError;
pub use location::{BackendKind, DatabaseLocation, LocationError, SQLITE_FILE_NAME, redact_url};
pub use risk::{
    AreasAround, CELLS_PER_DEGREE, EVERY_CATEGORY, MAX_AREA_CELLS, PositionArea, PositionRecord, PositionsAround,
    RiskCheckRecord, RiskEventRecord, RiskForecastRecord, order_and_dedup_positions, position_cell,
};
pub use traits::{
    AccountStore, AttachmentStore, BackupReport, CaseStore, GridStore, JournalExtent, JournalStore, OrgStore, RegionStore,
    RiskStore, SessionStore, Store, StoredBoundary,
};
