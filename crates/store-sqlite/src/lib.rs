//! The SQLite backend: the default, a single file under the data directory.
//!
//! * WAL mode with `synchronous=FULL` by default: a commit returns only after the WAL is on disk.
//! * One write connection, used by one committer at a time (leader/follower group commit, see
//!   `group_commit`): whoever finds no commit in progress commits everything queued in one
//!   transaction, each change under its own savepoint, so concurrent writers share one fsync and
//!   an uncontended commit needs no thread hand-off. A change that fails rolls back to its
//!   savepoint without disturbing the others.
//! * Reads run on a small pool of read-only connections on the blocking thread pool; WAL lets
//!   them proceed while the writer commits.
//! * WAL checkpoints run on a background thread, not inside commits (see `checkpoint`).
//! * Migrations run at open.
//!
//! rusqlite is used here instead of sqlx: a commit runs several statements, and sqlx's SQLite
//! driver sends each one to a worker thread and back, which on a fast disk costs as much as the
//! fsync itself (see docs/ARCHITECTURE.md).

mod backup;
mod bare_probe;
mod case_reads;
mod checkpoint;
mod console_reads;
mod decode;
mod group_commit;
mod migrate;
mod ops;
mod reads;
mod risk_reads;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;

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
use rusqlite::{Connection, OpenFlags};

pub use bare_probe::BareCommitProbe;
pub use migrate::SCHEMA_VERSION;

/// The version of the SQLite library compiled in.
pub fn sqlite_version() -> &'static str {
    rusqlite::version()
}

/// How hard a commit waits for the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synchronous {
    /// Every commit is on disk before it is acknowledged (the default).
    Full,
    /// Commits are on disk at the next checkpoint: an acknowledged write can be lost on power
    /// failure (not on a process crash). Faster on slow disks; never the default.
    Normal,
}

/// Tuning of the SQLite backend.
#[derive(Debug, Clone, Copy)]
pub struct SqliteOptions {
    pub synchronous: Synchronous,
    /// At most this many changes share one transaction and one fsync.
    pub max_batch: usize,
}

impl Default for SqliteOptions {
    fn default() -> SqliteOptions {
        SqliteOptions { synchronous: Synchronous::Full, max_batch: 512 }
    }
}

/// The SQLite store.
#[derive(Debug)]
pub struct SqliteStore {
    location: DatabaseLocation,
    path: PathBuf,
    writer: group_commit::GroupCommit,
    checkpointer: Arc<checkpoint::Checkpointer>,
    readers: Arc<reads::ReaderPool>,
    /// Turns for reads: at most `MAX_READERS` at once.
    read_turns: tokio::sync::Semaphore,
    /// A shared lock on `<file>.lock` for as long as the store is open, so that `restore` can
    /// tell that nothing (no server, no CLI command) is using the file.
    _in_use: std::fs::File,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path` and brings its schema up to date.
    /// The parent directory must exist.
    pub async fn open(path: &Path, options: SqliteOptions) -> Result<SqliteStore, StoreError> {
        let path = path.to_path_buf();
        let location = DatabaseLocation::Sqlite(path.clone());
        let in_use = in_use_lock(&path)?;
        in_use
            .lock_shared()
            .map_err(|e| StoreError::Unavailable { location: path.display().to_string(), reason: e.to_string() })?;
        let opened = {
            let path = path.clone();
            tokio::task::spawn_blocking(move || open_writer(&path, options)).await.map_err(StoreError::backend)?
        };
        let conn = opened.map_err(|e| match e {
            StoreError::Backend(reason) => StoreError::Unavailable { location: path.display().to_string(), reason },
            other => other,
        })?;
        let writer = group_commit::GroupCommit::new(conn, options.max_batch);
        let checkpointer = Arc::new(checkpoint::Checkpointer::start(&path)?);
        let readers = Arc::new(reads::ReaderPool::new(path.clone()));
        Ok(SqliteStore {
            location,
            path,
            writer,
            checkpointer,
            readers,
            read_turns: tokio::sync::Semaphore::new(reads::MAX_READERS),
            _in_use: in_use,
        })
    }

    /// (transactions committed, changes in them) since open: their ratio is the mean group size.
    pub fn commit_counters(&self) -> (u64, u64) {
        self.writer.counters()
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let _turn = self.read_turns.acquire().await.map_err(StoreError::backend)?;
        let readers = Arc::clone(&self.readers);
        tokio::task::spawn_blocking(move || readers.with(f)).await.map_err(StoreError::backend)?
    }

    /// Runs a short read by key (a row or a few dozen through an index) on the calling thread.
    ///
    /// Why not the blocking pool: such a read takes tens of microseconds from the page cache,
    /// while the hop to a pool thread and back costs two context switches; under load (128
    /// connections on 2 cores, `fengqiao bench http`) the hops took about half of the CPU.
    /// Scans, aggregates and anything whose cost grows with the data still go through
    /// [`SqliteStore::read`].
    fn point_read<T>(&self, f: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        self.readers.with(f)
    }
}

fn in_use_lock(db: &Path) -> Result<std::fs::File, StoreError> {
    let lock_path = PathBuf::from(format!("{}.lock", db.display()));
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| StoreError::Unavailable { location: lock_path.display().to_string(), reason: e.to_string() })
}

/// An exclusive lock on the database file, for replacing it: refused while any store (a server or
/// another command) has the file open. Hold the returned file until the replacement is done.
pub fn lock_for_replacement(db: &Path) -> Result<std::fs::File, StoreError> {
    let lock = in_use_lock(db)?;
    match lock.try_lock() {
        Ok(()) => Ok(lock),
        Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::Unsupported(format!(
            "{} is in use by a running server or another fengqiao command; stop it first",
            db.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(StoreError::backend(e)),
    }
}

fn open_writer(path: &Path, options: SqliteOptions) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(path, flags).map_err(StoreError::backend)?;
    let synchronous = match options.synchronous {
        Synchronous::Full => "FULL",
        Synchronous::Normal => "NORMAL",
    };
    // WAL needs a real file system with shared memory; a read-only directory fails here.
    let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0)).map_err(StoreError::backend)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Backend(format!("cannot switch to WAL mode (got {mode})")));
    }
    conn.execute_batch(&format!(
        "PRAGMA synchronous={synchronous}; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000; PRAGMA cache_size=-32000;
         PRAGMA wal_autocheckpoint={};",
        checkpoint::INLINE_CHECKPOINT_PAGES
    ))
    .map_err(StoreError::backend)?;
    migrate::run(&mut conn)?;
    Ok(conn)
}

#[async_trait]
impl JournalStore for SqliteStore {
    async fn commit(&self, change: Change) -> Result<Committed, StoreError> {
        self.writer.commit(change).await
    }

    async fn recorded_head(&self) -> Result<RecordedHead, StoreError> {
        self.read(reads::recorded_head).await
    }

    async fn journal_extent(&self) -> Result<JournalExtent, StoreError> {
        self.read(reads::journal_extent).await
    }

    async fn events_after(&self, after: u64, limit: u32) -> Result<Vec<EventRecord>, StoreError> {
        self.read(move |c| reads::events_after(c, after, limit)).await
    }

    async fn find_event_by_hash(&self, hash: Hash) -> Result<Option<u64>, StoreError> {
        self.read(move |c| reads::find_event_by_hash(c, hash)).await
    }

    async fn stream_events(&self, stream: &str) -> Result<Vec<EventRecord>, StoreError> {
        self.point_read(|c| reads::stream_events(c, stream))
    }
}

#[async_trait]
impl RegionStore for SqliteStore {
    async fn region_counts(&self) -> Result<RegionCounts, StoreError> {
        self.read(reads::region_counts).await
    }

    async fn region(&self, code: &RegionCode) -> Result<Option<Region>, StoreError> {
        self.point_read(|c| reads::region(c, code))
    }

    async fn regions_all(&self) -> Result<Vec<Region>, StoreError> {
        self.read(reads::regions_all).await
    }

    async fn children(&self, code: &RegionCode) -> Result<Vec<Region>, StoreError> {
        let code = code.clone();
        self.read(move |c| reads::children(c, &code)).await
    }

    async fn boundary(&self, code: &RegionCode) -> Result<Option<StoredBoundary>, StoreError> {
        let code = code.clone();
        self.read(move |c| reads::boundary(c, &code)).await
    }

    async fn boundaries(&self, level: RegionLevel) -> Result<Vec<StoredBoundary>, StoreError> {
        self.read(move |c| reads::boundaries(c, level)).await
    }
}

#[async_trait]
impl GridStore for SqliteStore {
    async fn grid(&self, code: &GridCode) -> Result<Option<Grid>, StoreError> {
        let code = code.clone();
        self.read(move |c| reads::grid(c, &code)).await
    }

    async fn grids_within(&self, region: &RegionCode) -> Result<Vec<Grid>, StoreError> {
        let region = region.clone();
        self.read(move |c| reads::grids_within(c, &region)).await
    }

    async fn grid_counts(&self) -> Result<(u64, u64), StoreError> {
        self.read(reads::grid_counts).await
    }
}

#[async_trait]
impl OrgStore for SqliteStore {
    async fn organisation(&self, id: OrgId) -> Result<Option<Organisation>, StoreError> {
        self.point_read(|c| reads::organisation(c, id))
    }

    async fn organisations_within(&self, region: &RegionCode) -> Result<Vec<Organisation>, StoreError> {
        let region = region.clone();
        self.read(move |c| reads::organisations_within(c, &region)).await
    }
}

#[async_trait]
impl AccountStore for SqliteStore {
    async fn account(&self, id: AccountId) -> Result<Option<Account>, StoreError> {
        self.point_read(|c| reads::account(c, id))
    }

    async fn account_by_login(&self, login: &Login) -> Result<Option<Account>, StoreError> {
        let login = login.clone();
        self.read(move |c| reads::account_by_login(c, &login)).await
    }

    async fn password_hash(&self, id: AccountId) -> Result<Option<String>, StoreError> {
        self.read(move |c| reads::password_hash(c, id)).await
    }

    async fn api_token_by_secret_hash(&self, secret_hash: &str) -> Result<Option<ApiToken>, StoreError> {
        self.point_read(|c| reads::api_token_by_secret_hash(c, secret_hash))
    }

    async fn accounts_with_role(&self, role: &str) -> Result<Vec<Account>, StoreError> {
        let role = role.to_owned();
        self.read(move |c| {
            let ids = case_reads::accounts_with_role(c, &role)?;
            let mut out = Vec::new();
            for id in ids {
                let id = AccountId(decode::uuid(&id, "account")?);
                out.extend(reads::account(c, id)?);
            }
            Ok(out)
        })
        .await
    }
}

#[async_trait]
impl CaseStore for SqliteStore {
    async fn case_record(&self, id: CaseId) -> Result<Option<CaseRecord>, StoreError> {
        self.point_read(|c| case_reads::case_record(c, id))
    }

    async fn case_id_by_number(&self, number: &str) -> Result<Option<CaseId>, StoreError> {
        self.point_read(|c| case_reads::case_id_by_number(c, number))
    }

    async fn cases(&self, filter: &CaseFilter) -> Result<Vec<CaseSummary>, StoreError> {
        // A page walks an index unless it searches text (a scan of titles).
        if filter.text.is_none() && filter.offset <= 10_000 {
            return self.point_read(|c| case_reads::cases(c, filter));
        }
        let filter = filter.clone();
        self.read(move |c| case_reads::cases(c, &filter)).await
    }

    async fn due_cases(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<CaseId>, StoreError> {
        self.read(move |c| case_reads::due_cases(c, now, limit)).await
    }

    async fn last_case_number(&self, series: &str) -> Result<u64, StoreError> {
        self.point_read(|c| case_reads::last_case_number(c, series))
    }

    async fn handler_tallies(&self, handlers: &[String]) -> Result<Vec<HandlerTally>, StoreError> {
        self.point_read(|c| case_reads::handler_tallies(c, handlers))
    }

    async fn handler_profiles(&self, handlers: &[String]) -> Result<Vec<HandlerProfile>, StoreError> {
        self.point_read(|c| case_reads::handler_profiles(c, handlers))
    }

    async fn notifications(&self, recipients: &[String], limit: u32) -> Result<Vec<NotificationRecord>, StoreError> {
        let recipients = recipients.to_vec();
        self.read(move |c| case_reads::notifications(c, &recipients, limit)).await
    }

    async fn count_cases(&self, filter: &CaseFilter) -> Result<u64, StoreError> {
        let filter = filter.clone();
        self.read(move |c| case_reads::count_cases(c, &filter)).await
    }

    async fn case_kpis(&self, filter: &CaseFilter, now: DateTime<Utc>) -> Result<CaseKpis, StoreError> {
        let filter = filter.clone();
        self.read(move |c| case_reads::case_kpis(c, &filter, now)).await
    }

    async fn case_kpis_by_county(
        &self,
        filter: &CaseFilter,
        now: DateTime<Utc>,
    ) -> Result<Vec<(RegionCode, CaseKpis)>, StoreError> {
        let filter = filter.clone();
        self.read(move |c| case_reads::case_kpis_by_county(c, &filter, now)).await
    }

    async fn case_trend(
        &self,
        filter: &CaseFilter,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<TrendPoint>, StoreError> {
        let filter = filter.clone();
        self.read(move |c| case_reads::case_trend(c, &filter, from, to)).await
    }

    async fn case_snapshots(&self, filter: &CaseFilter) -> Result<Vec<String>, StoreError> {
        let filter = filter.clone();
        self.read(move |c| case_reads::case_snapshots(c, &filter)).await
    }
}

#[async_trait]
impl SessionStore for SqliteStore {
    async fn session(&self, id_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        self.point_read(|c| console_reads::session(c, id_hash))
    }

    async fn login_throttle(&self, login: &str) -> Result<Option<LoginThrottle>, StoreError> {
        let login = login.to_owned();
        self.read(move |c| console_reads::login_throttle(c, &login)).await
    }
}

#[async_trait]
impl AttachmentStore for SqliteStore {
    async fn attachment(&self, id: uuid::Uuid) -> Result<Option<AttachmentRecord>, StoreError> {
        self.read(move |c| console_reads::attachment(c, id)).await
    }

    async fn attachment_bytes(&self, id: uuid::Uuid) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(move |c| console_reads::attachment_bytes(c, id)).await
    }

    async fn case_attachments(&self, case: CaseId) -> Result<Vec<AttachmentRecord>, StoreError> {
        self.point_read(|c| console_reads::case_attachments(c, case))
    }
}

#[async_trait]
impl fq_store::RiskStore for SqliteStore {
    async fn risk_events(
        &self,
        region: &RegionCode,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<fq_store::RiskEventRecord>, StoreError> {
        let region = region.clone();
        self.read(move |c| risk_reads::risk_events(c, &region, from, to)).await
    }

    async fn risk_event_ids(&self, source: &str, ids: &[String]) -> Result<Vec<String>, StoreError> {
        let (source, ids) = (source.to_owned(), ids.to_vec());
        self.read(move |c| risk_reads::risk_event_ids(c, &source, &ids)).await
    }

    async fn risk_event_counties(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<RegionCode>, StoreError> {
        self.read(move |c| risk_reads::risk_event_counties(c, from, to)).await
    }

    async fn positions_in(
        &self,
        areas: &[fq_store::PositionArea],
        regions: Option<&[RegionCode]>,
    ) -> Result<Vec<fq_store::PositionRecord>, StoreError> {
        let (areas, regions) = (areas.to_vec(), regions.map(<[RegionCode]>::to_vec));
        self.read(move |c| risk_reads::positions_in(c, &areas, regions.as_deref())).await
    }

    async fn positions_around(
        &self,
        subject: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        regions: Option<&[RegionCode]>,
        areas_of: fq_store::AreasAround,
    ) -> Result<fq_store::PositionsAround, StoreError> {
        let (subject, regions) = (subject.to_owned(), regions.map(<[RegionCode]>::to_vec));
        self.read(move |c| risk_reads::positions_around(c, &subject, (from, to), regions.as_deref(), &areas_of)).await
    }

    async fn positions_known(&self, region: &str, reports: &[(String, DateTime<Utc>)]) -> Result<usize, StoreError> {
        let (region, reports) = (region.to_owned(), reports.to_vec());
        self.read(move |c| risk_reads::positions_known(c, &region, &reports)).await
    }

    async fn risk_forecast(
        &self,
        county: &RegionCode,
        category: &str,
        day: chrono::NaiveDate,
        horizon_days: i32,
    ) -> Result<Option<fq_store::RiskForecastRecord>, StoreError> {
        let (county, category) = (county.clone(), category.to_owned());
        self.read(move |c| risk_reads::risk_forecast(c, &county, &category, day, horizon_days)).await
    }

    async fn risk_checks(
        &self,
        county: &RegionCode,
        scope: &str,
        horizon_days: i32,
        from: chrono::NaiveDate,
        before: chrono::NaiveDate,
    ) -> Result<Vec<fq_store::RiskCheckRecord>, StoreError> {
        let (county, scope) = (county.clone(), scope.to_owned());
        self.read(move |c| risk_reads::risk_checks(c, &county, &scope, horizon_days, (from, before))).await
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn location(&self) -> &DatabaseLocation {
        &self.location
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.read(|c| c.query_row("SELECT 1", [], |_| Ok(())).map_err(StoreError::backend)).await
    }

    async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.point_read(|c| reads::setting(c, key))
    }

    async fn backup(&self, dest: &Path) -> Result<BackupReport, StoreError> {
        let (source, dest) = (self.path.clone(), dest.to_path_buf());
        tokio::task::spawn_blocking(move || backup::online_copy(&source, &dest)).await.map_err(StoreError::backend)?
    }

    async fn close(&self) {
        self.writer.shutdown().await;
        let stopping = Arc::clone(&self.checkpointer);
        let _ = tokio::task::spawn_blocking(move || stopping.stop()).await;
    }
}
