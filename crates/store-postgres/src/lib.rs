//! The PostgreSQL backend, for deployments with several `fengqiao serve` processes.
//!
//! Journal design: one global chain, serialised by a row lock. Every writing transaction takes
//! `journal_head` `FOR UPDATE` before it appends, so appends from all processes form one
//! gap-free sequence; the lock is held through the commit. Each process still groups its own
//! concurrent changes into one transaction (savepoint per change), so one lock acquisition and
//! one WAL flush serve many writers. See docs/ARCHITECTURE.md for why this design was chosen over
//! per-stream chains.
//!
//! The schema is created by `fengqiao migrate`, never implicitly: [`PgStore::connect`] refuses a
//! database whose schema is not this build's.

mod case_reads;
mod console_reads;
mod ops;
mod reads;
mod risk_reads;
pub mod scratch;
mod writer;

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use fq_domain::account::{Account, AccountId, ApiToken, Login};
use fq_domain::case::CaseId;
use fq_domain::grid::{Grid, GridCode};
use fq_domain::journal::{EventRecord, Hash, RecordedHead};
use fq_domain::org::{OrgId, Organisation};
use fq_domain::region::{Region, RegionCode, RegionCounts, RegionLevel};
use fq_store::{
    AccountStore, AttachmentRecord, AttachmentStore, BackupReport, CaseFilter, CaseKpis, CaseRecord, CaseStore, CaseSummary,
    Change, Committed, DatabaseLocation, GridStore, HandlerProfile, HandlerTally, JournalExtent, JournalStore, LoginThrottle,
    NotificationRecord, OrgStore, RegionStore, SessionRecord, SessionStore, Store, StoreError, StoredBoundary, TrendPoint,
};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::PgPoolOptions;
use sqlx::{AssertSqlSafe, SqlSafeStr};
use sqlx::{Connection, PgConnection, PgPool};

/// (version, name, SQL), in order.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "foundation", include_str!("../migrations/0001_foundation.sql")),
    (2, "cases", include_str!("../migrations/0002_cases.sql")),
    (3, "console", include_str!("../migrations/0003_console.sql")),
    (4, "region_lists", include_str!("../migrations/0004_region_lists.sql")),
    (5, "risk_events", include_str!("../migrations/0005_risk_events.sql")),
    (6, "positions", include_str!("../migrations/0006_positions.sql")),
    (7, "position_regions", include_str!("../migrations/0007_position_regions.sql")),
    (8, "risk_forecasts", include_str!("../migrations/0008_risk_forecasts.sql")),
    (9, "position_cells", include_str!("../migrations/0009_position_cells.sql")),
    (10, "risk_checks", include_str!("../migrations/0010_risk_checks.sql")),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS[MIGRATIONS.len() - 1].0;

fn migrator() -> Migrator {
    Migrator::with_migrations(
        MIGRATIONS
            .iter()
            .map(|&(version, name, sql)| {
                Migration::new(version, name.into(), MigrationType::Simple, AssertSqlSafe(sql).into_sql_str(), false)
            })
            .collect(),
    )
}

/// The PostgreSQL store.
#[derive(Debug)]
pub struct PgStore {
    location: DatabaseLocation,
    pool: PgPool,
    writer: writer::Writer,
}

/// Tuning of the PostgreSQL backend.
#[derive(Debug, Clone, Copy)]
pub struct PgOptions {
    pub max_connections: u32,
    pub max_batch: usize,
}

impl Default for PgOptions {
    fn default() -> PgOptions {
        PgOptions { max_connections: 16, max_batch: 512 }
    }
}

async fn pool(url: &str, options: PgOptions) -> Result<PgPool, StoreError> {
    let location = DatabaseLocation::Postgres(url.to_owned()).to_string();
    let unavailable = |reason: String| StoreError::Unavailable { location: location.clone(), reason };
    // One plain connection first: a refused or misnamed database fails at once with the server's
    // own message, where the pool would retry until its acquire timeout.
    let probe = tokio::time::timeout(Duration::from_secs(10), PgConnection::connect(url))
        .await
        .map_err(|_| unavailable("no answer within 10 s".into()))?
        .map_err(|e| unavailable(e.to_string()))?;
    let _ = probe.close().await;
    PgPoolOptions::new()
        .max_connections(options.max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .connect(url)
        .await
        .map_err(|e| unavailable(e.to_string()))
}

/// Applies every pending migration (`fengqiao migrate`). Safe to run from several processes at
/// once: the migrator takes an advisory lock.
pub async fn migrate(url: &str) -> Result<i64, StoreError> {
    let pool = pool(url, PgOptions { max_connections: 2, ..PgOptions::default() }).await?;
    migrator().run(&pool).await.map_err(|e| StoreError::Schema(format!("migration failed: {e}")))?;
    let version = schema_version(&pool).await?;
    pool.close().await;
    Ok(version)
}

/// Creates the database `name` (dropping one of that name first) on the server `admin_url`
/// connects to, with a role allowed to create databases, and migrates it: its URL. For scratch
/// databases (test suites, `fengqiao bench risk --postgres`): the name must be of lower-case
/// letters, digits and underscores.
pub async fn create_database(admin_url: &str, name: &str) -> Result<String, StoreError> {
    scratch_name(name)?;
    let mut admin = admin(admin_url).await?;
    for sql in [format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"), format!("CREATE DATABASE \"{name}\"")] {
        sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut admin).await.map_err(StoreError::backend)?;
    }
    let base = admin_url.rsplit_once('/').map_or(admin_url, |(base, _)| base);
    let url = format!("{base}/{name}");
    migrate(&url).await?;
    Ok(url)
}

/// Drops the database `name` on the server `admin_url` connects to, closing its connections.
pub async fn drop_database(admin_url: &str, name: &str) -> Result<(), StoreError> {
    scratch_name(name)?;
    let mut admin = admin(admin_url).await?;
    let sql = format!("DROP DATABASE \"{name}\" WITH (FORCE)");
    sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut admin).await.map_err(StoreError::backend)?;
    Ok(())
}

/// A scratch database's name: lower-case letters, digits and underscores only (it is put into
/// the statement, quoted, where no parameter may stand).
fn scratch_name(name: &str) -> Result<(), StoreError> {
    if !name.is_empty() && name.len() < 64 && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
        Ok(())
    } else {
        Err(StoreError::Unsupported(format!("{name:?} is not a scratch database's name (a-z, 0-9, _)")))
    }
}

/// A plain connection to the server `url` names, for creating and dropping databases.
async fn admin(url: &str) -> Result<PgConnection, StoreError> {
    let location = DatabaseLocation::Postgres(url.to_owned()).to_string();
    PgConnection::connect(url).await.map_err(|e| StoreError::Unavailable { location, reason: e.to_string() })
}

async fn schema_version(pool: &PgPool) -> Result<i64, StoreError> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(pool)
        .await
        .map_err(StoreError::backend)?;
    if !exists {
        return Ok(0);
    }
    sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success")
        .fetch_one(pool)
        .await
        .map_err(StoreError::backend)
}

impl PgStore {
    /// Connects to a migrated database.
    pub async fn connect(url: &str, options: PgOptions) -> Result<PgStore, StoreError> {
        let location = DatabaseLocation::Postgres(url.to_owned());
        let pool = pool(url, options).await?;
        let version = schema_version(&pool).await?;
        if version != SCHEMA_VERSION {
            pool.close().await;
            return Err(StoreError::Schema(if version < SCHEMA_VERSION {
                format!(
                    "the PostgreSQL schema at {location} is at version {version}, this build needs {SCHEMA_VERSION}: run `fengqiao migrate --database URL` first"
                )
            } else {
                format!(
                    "the PostgreSQL schema at {location} is at version {version}, newer than this build ({SCHEMA_VERSION}): use a newer fengqiao"
                )
            }));
        }
        let writer = writer::Writer::start(pool.clone(), options.max_batch);
        Ok(PgStore { location, pool, writer })
    }

    /// The connection pool (for tests that inspect the tables directly).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

#[async_trait]
impl JournalStore for PgStore {
    async fn commit(&self, change: Change) -> Result<Committed, StoreError> {
        self.writer.commit(change).await
    }

    async fn recorded_head(&self) -> Result<RecordedHead, StoreError> {
        reads::recorded_head(&self.pool).await
    }

    async fn journal_extent(&self) -> Result<JournalExtent, StoreError> {
        reads::journal_extent(&self.pool).await
    }

    async fn events_after(&self, after: u64, limit: u32) -> Result<Vec<EventRecord>, StoreError> {
        reads::events_after(&self.pool, after, limit).await
    }

    async fn find_event_by_hash(&self, hash: Hash) -> Result<Option<u64>, StoreError> {
        reads::find_event_by_hash(&self.pool, hash).await
    }

    async fn stream_events(&self, stream: &str) -> Result<Vec<EventRecord>, StoreError> {
        reads::stream_events(&self.pool, stream).await
    }
}

#[async_trait]
impl RegionStore for PgStore {
    async fn region_counts(&self) -> Result<RegionCounts, StoreError> {
        reads::region_counts(&self.pool).await
    }

    async fn region(&self, code: &RegionCode) -> Result<Option<Region>, StoreError> {
        reads::region(&self.pool, code).await
    }

    async fn regions_all(&self) -> Result<Vec<Region>, StoreError> {
        reads::regions_all(&self.pool).await
    }

    async fn children(&self, code: &RegionCode) -> Result<Vec<Region>, StoreError> {
        reads::children(&self.pool, code).await
    }

    async fn boundary(&self, code: &RegionCode) -> Result<Option<StoredBoundary>, StoreError> {
        reads::boundary(&self.pool, code).await
    }

    async fn boundaries(&self, level: RegionLevel) -> Result<Vec<StoredBoundary>, StoreError> {
        reads::boundaries(&self.pool, level).await
    }
}

#[async_trait]
impl GridStore for PgStore {
    async fn grid(&self, code: &GridCode) -> Result<Option<Grid>, StoreError> {
        reads::grid(&self.pool, code).await
    }

    async fn grids_within(&self, region: &RegionCode) -> Result<Vec<Grid>, StoreError> {
        reads::grids_within(&self.pool, region).await
    }

    async fn grid_counts(&self) -> Result<(u64, u64), StoreError> {
        reads::grid_counts(&self.pool).await
    }
}

#[async_trait]
impl OrgStore for PgStore {
    async fn organisation(&self, id: OrgId) -> Result<Option<Organisation>, StoreError> {
        reads::organisation(&self.pool, id).await
    }

    async fn organisations_within(&self, region: &RegionCode) -> Result<Vec<Organisation>, StoreError> {
        reads::organisations_within(&self.pool, region).await
    }
}

#[async_trait]
impl AccountStore for PgStore {
    async fn account(&self, id: AccountId) -> Result<Option<Account>, StoreError> {
        reads::account(&self.pool, id).await
    }

    async fn account_by_login(&self, login: &Login) -> Result<Option<Account>, StoreError> {
        reads::account_by_login(&self.pool, login).await
    }

    async fn password_hash(&self, id: AccountId) -> Result<Option<String>, StoreError> {
        reads::password_hash(&self.pool, id).await
    }

    async fn api_token_by_secret_hash(&self, secret_hash: &str) -> Result<Option<ApiToken>, StoreError> {
        reads::api_token_by_secret_hash(&self.pool, secret_hash).await
    }

    async fn accounts_with_role(&self, role: &str) -> Result<Vec<Account>, StoreError> {
        case_reads::accounts_with_role(&self.pool, role).await
    }
}

#[async_trait]
impl CaseStore for PgStore {
    async fn case_record(&self, id: CaseId) -> Result<Option<CaseRecord>, StoreError> {
        case_reads::case_record(&self.pool, id).await
    }

    async fn case_id_by_number(&self, number: &str) -> Result<Option<CaseId>, StoreError> {
        case_reads::case_id_by_number(&self.pool, number).await
    }

    async fn cases(&self, filter: &CaseFilter) -> Result<Vec<CaseSummary>, StoreError> {
        case_reads::cases(&self.pool, filter).await
    }

    async fn due_cases(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<CaseId>, StoreError> {
        case_reads::due_cases(&self.pool, now, limit).await
    }

    async fn last_case_number(&self, series: &str) -> Result<u64, StoreError> {
        case_reads::last_case_number(&self.pool, series).await
    }

    async fn handler_tallies(&self, handlers: &[String]) -> Result<Vec<HandlerTally>, StoreError> {
        case_reads::handler_tallies(&self.pool, handlers).await
    }

    async fn handler_profiles(&self, handlers: &[String]) -> Result<Vec<HandlerProfile>, StoreError> {
        case_reads::handler_profiles(&self.pool, handlers).await
    }

    async fn notifications(&self, recipients: &[String], limit: u32) -> Result<Vec<NotificationRecord>, StoreError> {
        case_reads::notifications(&self.pool, recipients, limit).await
    }

    async fn count_cases(&self, filter: &CaseFilter) -> Result<u64, StoreError> {
        case_reads::count_cases(&self.pool, filter).await
    }

    async fn case_kpis(&self, filter: &CaseFilter, now: DateTime<Utc>) -> Result<CaseKpis, StoreError> {
        case_reads::case_kpis(&self.pool, filter, now).await
    }

    async fn case_snapshots(&self, filter: &CaseFilter) -> Result<Vec<String>, StoreError> {
        case_reads::case_snapshots(&self.pool, filter).await
    }

    async fn case_kpis_by_county(
        &self,
        filter: &CaseFilter,
        now: DateTime<Utc>,
    ) -> Result<Vec<(RegionCode, CaseKpis)>, StoreError> {
        case_reads::case_kpis_by_county(&self.pool, filter, now).await
    }

    async fn case_trend(
        &self,
        filter: &CaseFilter,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<TrendPoint>, StoreError> {
        case_reads::case_trend(&self.pool, filter, from, to).await
    }
}

#[async_trait]
impl SessionStore for PgStore {
    async fn session(&self, id_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        console_reads::session(&self.pool, id_hash).await
    }

    async fn login_throttle(&self, login: &str) -> Result<Option<LoginThrottle>, StoreError> {
        console_reads::login_throttle(&self.pool, login).await
    }
}

#[async_trait]
impl AttachmentStore for PgStore {
    async fn attachment(&self, id: uuid::Uuid) -> Result<Option<AttachmentRecord>, StoreError> {
        console_reads::attachment(&self.pool, id).await
    }

    async fn attachment_bytes(&self, id: uuid::Uuid) -> Result<Option<Vec<u8>>, StoreError> {
        console_reads::attachment_bytes(&self.pool, id).await
    }

    async fn case_attachments(&self, case: CaseId) -> Result<Vec<AttachmentRecord>, StoreError> {
        console_reads::case_attachments(&self.pool, case).await
    }
}

#[async_trait]
impl fq_store::RiskStore for PgStore {
    async fn risk_events(
        &self,
        region: &RegionCode,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<fq_store::RiskEventRecord>, StoreError> {
        risk_reads::risk_events(&self.pool, region, from, to).await
    }

    async fn risk_event_ids(&self, source: &str, ids: &[String]) -> Result<Vec<String>, StoreError> {
        risk_reads::risk_event_ids(&self.pool, source, ids).await
    }

    async fn risk_event_counties(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<RegionCode>, StoreError> {
        risk_reads::risk_event_counties(&self.pool, from, to).await
    }

    async fn positions_in(
        &self,
        areas: &[fq_store::PositionArea],
        regions: Option<&[RegionCode]>,
    ) -> Result<Vec<fq_store::PositionRecord>, StoreError> {
        risk_reads::positions_in(&self.pool, areas, regions).await
    }

    async fn positions_around(
        &self,
        subject: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        regions: Option<&[RegionCode]>,
        areas_of: fq_store::AreasAround,
    ) -> Result<fq_store::PositionsAround, StoreError> {
        risk_reads::positions_around(&self.pool, subject, (from, to), regions, &areas_of).await
    }

    async fn positions_known(&self, region: &str, reports: &[(String, DateTime<Utc>)]) -> Result<usize, StoreError> {
        risk_reads::positions_known(&self.pool, region, reports).await
    }

    async fn risk_forecast(
        &self,
        county: &RegionCode,
        category: &str,
        day: chrono::NaiveDate,
        horizon_days: i32,
    ) -> Result<Option<fq_store::RiskForecastRecord>, StoreError> {
        risk_reads::risk_forecast(&self.pool, county, category, day, horizon_days).await
    }

    async fn risk_checks(
        &self,
        county: &RegionCode,
        scope: &str,
        horizon_days: i32,
        from: chrono::NaiveDate,
        before: chrono::NaiveDate,
    ) -> Result<Vec<fq_store::RiskCheckRecord>, StoreError> {
        risk_reads::risk_checks(&self.pool, county, scope, horizon_days, (from, before)).await
    }
}

#[async_trait]
impl Store for PgStore {
    fn location(&self) -> &DatabaseLocation {
        &self.location
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map(|_| ()).map_err(StoreError::backend)
    }

    async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        reads::setting(&self.pool, key).await
    }

    async fn backup(&self, _dest: &Path) -> Result<BackupReport, StoreError> {
        Err(StoreError::Unsupported(
            "fengqiao backup copies the SQLite file; back up PostgreSQL with pg_dump or base backups (docs/OPERATIONS.md)".into(),
        ))
    }

    async fn close(&self) {
        self.writer.shutdown().await;
        self.pool.close().await;
    }
}
