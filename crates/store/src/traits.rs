//! The per-aggregate storage traits. A backend implements all of them; the engine holds the
//! backend as `Arc<dyn Store>`.

use std::path::Path;

use async_trait::async_trait;
use fq_domain::account::{Account, AccountId, ApiToken, Login};
use fq_domain::grid::{Grid, GridCode};
use fq_domain::journal::{EventRecord, Hash, RecordedHead};
use fq_domain::org::{OrgId, Organisation};
use fq_domain::region::{Region, RegionCode, RegionCounts, RegionLevel};

use chrono::{DateTime, Utc};
use fq_domain::case::CaseId;

use crate::access::{LoginThrottle, SessionRecord};
use crate::attachments::AttachmentRecord;
use crate::cases::{CaseFilter, CaseKpis, CaseRecord, CaseSummary, HandlerProfile, HandlerTally, NotificationRecord, TrendPoint};
use crate::change::{Change, Committed};
use crate::error::StoreError;
use crate::location::DatabaseLocation;

type Result<T> = std::result::Result<T, StoreError>;

/// The append-only, hash-chained journal.
#[async_trait]
pub trait JournalStore: Send + Sync {
    /// Applies `change` atomically: checks its expectations, applies its projection operations,
    /// seals its events onto the chain. When this returns `Ok`, the change is durable.
    async fn commit(&self, change: Change) -> Result<Committed>;

    /// The head written with the last commit.
    async fn recorded_head(&self) -> Result<RecordedHead>;

    /// How many rows the journal table holds and the lowest and highest sequence numbers among
    /// them, whatever their content: `audit verify` compares this with the chain it walked.
    async fn journal_extent(&self) -> Result<JournalExtent>;

    /// Up to `limit` rows with `seq > after`, in `seq` order, exactly as stored.
    async fn events_after(&self, after: u64, limit: u32) -> Result<Vec<EventRecord>>;

    /// The `seq` of a row whose stored hash is `hash`. A full scan: used only to explain a break.
    async fn find_event_by_hash(&self, hash: Hash) -> Result<Option<u64>>;

    /// Every event of one stream, in order.
    async fn stream_events(&self, stream: &str) -> Result<Vec<EventRecord>>;
}

/// The raw extent of the journal table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JournalExtent {
    pub rows: u64,
    /// `None` for an empty table. Signed: a row numbered 0 or below is tampering to report.
    pub min_seq: Option<i64>,
    pub max_seq: Option<i64>,
}

/// A stored boundary: the region and its GeoJSON geometry text.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredBoundary {
    pub code: RegionCode,
    pub name: String,
    pub geojson: String,
}

/// The division tree and boundary polygons.
#[async_trait]
pub trait RegionStore: Send + Sync {
    /// Active (not retired) regions per level.
    async fn region_counts(&self) -> Result<RegionCounts>;
    async fn region(&self, code: &RegionCode) -> Result<Option<Region>>;
    /// Every region, retired ones included, sorted by code.
    async fn regions_all(&self) -> Result<Vec<Region>>;
    /// The direct children of `code`, sorted by code.
    async fn children(&self, code: &RegionCode) -> Result<Vec<Region>>;
    async fn boundary(&self, code: &RegionCode) -> Result<Option<StoredBoundary>>;
    async fn boundaries(&self, level: RegionLevel) -> Result<Vec<StoredBoundary>>;
}

/// Grids (网格).
#[async_trait]
pub trait GridStore: Send + Sync {
    async fn grid(&self, code: &GridCode) -> Result<Option<Grid>>;
    /// Grids whose region lies within `region`, sorted by code.
    async fn grids_within(&self, region: &RegionCode) -> Result<Vec<Grid>>;
    /// (all grids, generated grids).
    async fn grid_counts(&self) -> Result<(u64, u64)>;
}

/// Organisations.
#[async_trait]
pub trait OrgStore: Send + Sync {
    async fn organisation(&self, id: OrgId) -> Result<Option<Organisation>>;
    /// Organisations whose region lies within `region`, sorted by region then name.
    async fn organisations_within(&self, region: &RegionCode) -> Result<Vec<Organisation>>;
}

/// Accounts, their grants and credentials.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// The account with its grants.
    async fn account(&self, id: AccountId) -> Result<Option<Account>>;
    async fn account_by_login(&self, login: &Login) -> Result<Option<Account>>;
    /// The account's password hash (PHC string), if it has a password.
    async fn password_hash(&self, id: AccountId) -> Result<Option<String>>;
    /// The API token whose secret hashes to `secret_hash`.
    async fn api_token_by_secret_hash(&self, secret_hash: &str) -> Result<Option<ApiToken>>;
    /// Enabled accounts holding `role` (in any scope), with their grants, sorted by login.
    async fn accounts_with_role(&self, role: &str) -> Result<Vec<Account>>;
}

/// Cases and what hangs off them.
#[async_trait]
pub trait CaseStore: Send + Sync {
    async fn case_record(&self, id: CaseId) -> Result<Option<CaseRecord>>;
    async fn case_id_by_number(&self, number: &str) -> Result<Option<CaseId>>;
    /// Cases matching `filter`, newest number first.
    async fn cases(&self, filter: &CaseFilter) -> Result<Vec<CaseSummary>>;
    /// Up to `limit` cases whose next timer is at or before `now`, earliest first.
    async fn due_cases(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<CaseId>>;
    /// The highest sequence number used in a number series (0 if none).
    async fn last_case_number(&self, series: &str) -> Result<u64>;
    /// Tallies of the named handlers (missing ones are absent from the answer).
    async fn handler_tallies(&self, handlers: &[String]) -> Result<Vec<HandlerTally>>;
    /// Profiles of the named handlers (missing ones are absent from the answer).
    async fn handler_profiles(&self, handlers: &[String]) -> Result<Vec<HandlerProfile>>;
    /// The newest notifications for any of `recipients`, newest first.
    async fn notifications(&self, recipients: &[String], limit: u32) -> Result<Vec<NotificationRecord>>;
    /// How many cases match `filter` (its sort, paging and limit are ignored).
    async fn count_cases(&self, filter: &CaseFilter) -> Result<u64>;
    /// Figures of the cases matching `filter` (sort, paging and limit ignored); "overdue" is
    /// judged at `now`.
    async fn case_kpis(&self, filter: &CaseFilter, now: DateTime<Utc>) -> Result<CaseKpis>;
    /// The same figures per county (6-digit region code) of the cases matching `filter`.
    async fn case_kpis_by_county(&self, filter: &CaseFilter, now: DateTime<Utc>) -> Result<Vec<(RegionCode, CaseKpis)>>;
    /// Cases opened and closed per Beijing-time day in `[from, to)`, days without any omitted.
    async fn case_trend(&self, filter: &CaseFilter, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<TrendPoint>>;
    /// The snapshots (JSON text) of every case matching `filter` (sort, paging and limit
    /// ignored), for figures computed from what the cases hold (outcomes, amounts, fields).
    async fn case_snapshots(&self, filter: &CaseFilter) -> Result<Vec<String>>;
}

/// Console sessions and sign-in throttling.
#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn session(&self, id_hash: &str) -> Result<Option<SessionRecord>>;
    async fn login_throttle(&self, login: &str) -> Result<Option<LoginThrottle>>;
}

/// Uploaded files.
#[async_trait]
pub trait AttachmentStore: Send + Sync {
    async fn attachment(&self, id: uuid::Uuid) -> Result<Option<AttachmentRecord>>;
    async fn attachment_bytes(&self, id: uuid::Uuid) -> Result<Option<Vec<u8>>>;
    /// The files attached to a case, oldest first.
    async fn case_attachments(&self, case: CaseId) -> Result<Vec<AttachmentRecord>>;
}

/// Risk events.
#[async_trait]
pub trait RiskStore: Send + Sync {
    /// The events located within `region` that occurred in `[from, to)`, oldest first.
    async fn risk_events(
        &self,
        region: &RegionCode,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<crate::RiskEventRecord>>;
    /// Which of `ids` the source has stored already.
    async fn risk_event_ids(&self, source: &str, ids: &[String]) -> Result<Vec<String>>;
    /// The counties (six-digit codes) with stored events that occurred in `[from, to)`: where
    /// the nightly whistle has something to read. Events placed only by a city or province
    /// code belong to no county and are not counted.
    async fn risk_event_counties(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<RegionCode>>;
    /// The position reports lying in any of `areas`, by time then subject then county: all of
    /// them (`regions` None), or those of feeds whose county lies in one of `regions`. A report
    /// in two areas is given once.
    async fn positions_in(
        &self,
        areas: &[crate::PositionArea],
        regions: Option<&[RegionCode]>,
    ) -> Result<Vec<crate::PositionRecord>>;
    /// The position reports of `subject` in `[from, to)`, by time then county: all of them
    /// (`regions` None), or those of feeds whose county lies in one of `regions` (`own`); then
    /// [`positions_in`](Self::positions_in) the areas `areas_of` draws around those reports
    /// (`near`), with the same `regions`; both from one snapshot: a file stored meanwhile is in both reads or in
    /// neither, so a trace never shows companions of reports its track lacks.
    async fn positions_around(
        &self,
        subject: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        regions: Option<&[RegionCode]>,
        areas_of: crate::AreasAround,
    ) -> Result<crate::PositionsAround>;
    /// How many of `reports` (subject, time) are stored already from a feed of `region` (a
    /// county code, or empty for reports of no county).
    async fn positions_known(&self, region: &str, reports: &[(String, DateTime<Utc>)]) -> Result<usize>;
    /// The stored forecast of `county` and `category` over `horizon_days` from `day`, if any
    /// (whatever the number of events it was fitted on: the caller compares).
    async fn risk_forecast(
        &self,
        county: &RegionCode,
        category: &str,
        day: chrono::NaiveDate,
        horizon_days: i32,
    ) -> Result<Option<crate::RiskForecastRecord>>;
    /// The checked forecasts of `county` and `scope` over `horizon_days` whose first day is in
    /// `from..before`, latest first.
    async fn risk_checks(
        &self,
        county: &RegionCode,
        scope: &str,
        horizon_days: i32,
        from: chrono::NaiveDate,
        before: chrono::NaiveDate,
    ) -> Result<Vec<crate::RiskCheckRecord>>;
}

/// What a backup wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    pub bytes: u64,
    /// The journal head inside the copy.
    pub head: RecordedHead,
}

/// A complete backend.
#[async_trait]
pub trait Store:
    JournalStore + RegionStore + GridStore + OrgStore + AccountStore + CaseStore + SessionStore + AttachmentStore + RiskStore
{
    /// Where the data lives (never shows a password).
    fn location(&self) -> &DatabaseLocation;

    /// A cheap round trip to the database.
    async fn ping(&self) -> Result<()>;

    /// A value from the settings table.
    async fn setting(&self, key: &str) -> Result<Option<String>>;

    /// Writes an online, consistent copy of the database to `dest` (a new file).
    async fn backup(&self, dest: &Path) -> Result<BackupReport>;

    /// Stops taking writes, finishes those in flight and releases the database.
    async fn close(&self);
}
