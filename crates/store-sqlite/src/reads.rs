//! Read connections and read queries.

use std::path::PathBuf;
use std::sync::Mutex;

use fq_domain::account::{Account, AccountId, ApiToken, Login, RoleCode, RoleGrant, Scope};
use fq_domain::geometry::area_from_geojson_text;
use fq_domain::grid::{Grid, GridCode, GridKind};
use fq_domain::journal::{Checkpoint, EventRecord, Hash, RecordedHead};
use fq_domain::org::{OrgId, OrgKind, Organisation};
use fq_domain::region::{Region, RegionCode, RegionCounts, RegionLevel};
use fq_store::{JournalExtent, StoreError, StoredBoundary};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, params};

use crate::decode::{self, EVENT_COLUMNS};

/// Read-only connections, reused; opened on demand. At most [`MAX_READERS`] reads run at once
/// (callers wait for a turn in [`crate::SqliteStore`]), so that many concurrent requests reuse
/// warm connections instead of opening and dropping new ones.
#[derive(Debug)]
pub(crate) struct ReaderPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

/// The most reads that run at once, and so the most connections kept.
pub(crate) const MAX_READERS: usize = 16;

impl ReaderPool {
    pub(crate) fn new(path: PathBuf) -> ReaderPool {
        ReaderPool { path, idle: Mutex::new(Vec::new()) }
    }

    fn take(&self) -> Result<Connection, StoreError> {
        if let Some(conn) = self.idle.lock().expect("reader pool lock").pop() {
            return Ok(conn);
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags).map_err(StoreError::backend)?;
        // Memory-mapped reads: pages come from the OS page cache without a read() call each
        // (`fengqiao bench http` spent a tenth of its CPU copying pages in pread). The writer
        // keeps ordinary I/O, so a failed disk shows up as an error on write, not a signal.
        conn.execute_batch(
            "PRAGMA query_only=ON; PRAGMA busy_timeout=10000; PRAGMA cache_size=-4000; PRAGMA mmap_size=1073741824;",
        )
        .map_err(StoreError::backend)?;
        Ok(conn)
    }

    /// Runs `f` on a pooled connection (blocking; call from the blocking pool).
    pub(crate) fn with<T>(&self, f: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let conn = self.take()?;
        let result = f(&conn);
        let mut idle = self.idle.lock().expect("reader pool lock");
        if idle.len() < MAX_READERS {
            idle.push(conn);
        }
        result
    }
}

fn db(err: rusqlite::Error) -> StoreError {
    StoreError::backend(err)
}

/// `region >= code AND region < code || ':'` selects every code that starts with `code`: codes
/// are digits, and ':' sorts right after '9'.
pub(crate) fn subtree_upper(code: &RegionCode) -> String {
    format!("{code}:")
}

pub(crate) fn recorded_head(conn: &Connection) -> Result<RecordedHead, StoreError> {
    let row: Option<(i64, String)> = conn
        .query_row("SELECT seq, hash FROM journal_head WHERE id = 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .map_err(db)?;
    let Some((seq, hash)) = row else {
        return Ok(RecordedHead::Missing);
    };
    let hash = Hash::parse(&hash).map_err(|e| StoreError::corrupt("journal head", e))?;
    match u64::try_from(seq) {
        Ok(0) => Ok(RecordedHead::Empty),
        Ok(seq) => Ok(RecordedHead::At(Checkpoint { seq, hash })),
        Err(_) => Err(StoreError::corrupt("journal head", format!("sequence number {seq}"))),
    }
}

pub(crate) fn journal_extent(conn: &Connection) -> Result<JournalExtent, StoreError> {
    conn.query_row("SELECT COUNT(*), MIN(seq), MAX(seq) FROM journal", [], |r| {
        Ok(JournalExtent { rows: r.get::<_, i64>(0)? as u64, min_seq: r.get(1)?, max_seq: r.get(2)? })
    })
    .map_err(db)
}

fn collect_events(
    rows: rusqlite::MappedRows<'_, impl FnMut(&Row<'_>) -> rusqlite::Result<Result<EventRecord, StoreError>>>,
) -> Result<Vec<EventRecord>, StoreError> {
    let mut out = Vec::new();
    for row in rows {
        out.push(row.map_err(db)??);
    }
    Ok(out)
}

pub(crate) fn events_after(conn: &Connection, after: u64, limit: u32) -> Result<Vec<EventRecord>, StoreError> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {EVENT_COLUMNS} FROM journal WHERE seq > ?1 ORDER BY seq LIMIT ?2")).map_err(db)?;
    collect_events(stmt.query_map(params![after as i64, limit], decode::event).map_err(db)?)
}

pub(crate) fn find_event_by_hash(conn: &Connection, hash: Hash) -> Result<Option<u64>, StoreError> {
    conn.query_row("SELECT seq FROM journal WHERE hash = ?1 ORDER BY seq LIMIT 1", [hash.to_hex()], |r| r.get::<_, i64>(0))
        .optional()
        .map(|seq| seq.map(|s| s as u64))
        .map_err(db)
}

pub(crate) fn stream_events(conn: &Connection, stream: &str) -> Result<Vec<EventRecord>, StoreError> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {EVENT_COLUMNS} FROM journal WHERE stream = ?1 ORDER BY stream_seq")).map_err(db)?;
    collect_events(stmt.query_map([stream], decode::event).map_err(db)?)
}

fn region_row(row: &Row<'_>) -> rusqlite::Result<(String, String, bool)> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
}

fn to_region((code, name, retired): (String, String, bool)) -> Result<Region, StoreError> {
    let code = RegionCode::parse(&code).map_err(|e| StoreError::corrupt("region", e))?;
    Ok(Region { code, name, retired })
}

pub(crate) fn region_counts(conn: &Connection) -> Result<RegionCounts, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT level, COUNT(*) FROM regions WHERE retired = 0 GROUP BY level").map_err(db)?;
    let mut counts = RegionCounts::default();
    for row in stmt.query_map([], |r| Ok((r.get::<_, u8>(0)?, r.get::<_, i64>(1)?))).map_err(db)? {
        let (rank, count) = row.map_err(db)?;
        let level = RegionLevel::from_rank(rank).ok_or_else(|| StoreError::corrupt("region level", rank))?;
        counts.set(level, count as u64);
    }
    Ok(counts)
}

pub(crate) fn region(conn: &Connection, code: &RegionCode) -> Result<Option<Region>, StoreError> {
    conn.prepare_cached("SELECT code, name, retired FROM regions WHERE code = ?1")
        .and_then(|mut s| s.query_row([code.as_str()], region_row).optional())
        .map_err(db)?
        .map(to_region)
        .transpose()
}

pub(crate) fn regions_all(conn: &Connection) -> Result<Vec<Region>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT code, name, retired FROM regions ORDER BY code").map_err(db)?;
    let rows = stmt.query_map([], region_row).map_err(db)?;
    rows.map(|r| to_region(r.map_err(db)?)).collect()
}

pub(crate) fn children(conn: &Connection, code: &RegionCode) -> Result<Vec<Region>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT code, name, retired FROM regions WHERE parent = ?1 ORDER BY code").map_err(db)?;
    let rows = stmt.query_map([code.as_str()], region_row).map_err(db)?;
    rows.map(|r| to_region(r.map_err(db)?)).collect()
}

fn boundary_row(row: &Row<'_>) -> rusqlite::Result<(String, String, String)> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
}

fn to_boundary((code, name, geojson): (String, String, String)) -> Result<StoredBoundary, StoreError> {
    let code = RegionCode::parse(&code).map_err(|e| StoreError::corrupt("boundary", e))?;
    Ok(StoredBoundary { code, name, geojson })
}

pub(crate) fn boundary(conn: &Connection, code: &RegionCode) -> Result<Option<StoredBoundary>, StoreError> {
    conn.prepare_cached("SELECT code, name, geojson FROM region_boundaries WHERE code = ?1")
        .and_then(|mut s| s.query_row([code.as_str()], boundary_row).optional())
        .map_err(db)?
        .map(to_boundary)
        .transpose()
}

pub(crate) fn boundaries(conn: &Connection, level: RegionLevel) -> Result<Vec<StoredBoundary>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT b.code, b.name, b.geojson FROM region_boundaries b JOIN regions r ON r.code = b.code WHERE r.level = ?1 ORDER BY b.code")
        .map_err(db)?;
    let rows = stmt.query_map([level.rank()], boundary_row).map_err(db)?;
    rows.map(|r| to_boundary(r.map_err(db)?)).collect()
}

const GRID_COLUMNS: &str = "code, name, region, kind, generated, geojson";

fn grid_row(row: &Row<'_>) -> rusqlite::Result<(String, String, String, String, bool, String)> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?))
}

fn to_grid(
    (code, name, region, kind, generated, geojson): (String, String, String, String, bool, String),
) -> Result<Grid, StoreError> {
    let what = format!("grid {code}");
    Ok(Grid {
        code: GridCode::parse(&code).map_err(|e| StoreError::corrupt(&what, e))?,
        name,
        region: RegionCode::parse(&region).map_err(|e| StoreError::corrupt(&what, e))?,
        kind: GridKind::parse(&kind).ok_or_else(|| StoreError::corrupt(&what, format!("kind {kind:?}")))?,
        generated,
        area: area_from_geojson_text(&geojson).map_err(|e| StoreError::corrupt(&what, e))?,
    })
}

pub(crate) fn grid(conn: &Connection, code: &GridCode) -> Result<Option<Grid>, StoreError> {
    conn.prepare_cached(&format!("SELECT {GRID_COLUMNS} FROM grids WHERE code = ?1"))
        .and_then(|mut s| s.query_row([code.as_str()], grid_row).optional())
        .map_err(db)?
        .map(to_grid)
        .transpose()
}

pub(crate) fn grids_within(conn: &Connection, region: &RegionCode) -> Result<Vec<Grid>, StoreError> {
    let mut stmt = conn
        .prepare_cached(&format!("SELECT {GRID_COLUMNS} FROM grids WHERE region >= ?1 AND region < ?2 ORDER BY code"))
        .map_err(db)?;
    let rows = stmt.query_map(params![region.as_str(), subtree_upper(region)], grid_row).map_err(db)?;
    rows.map(|r| to_grid(r.map_err(db)?)).collect()
}

pub(crate) fn grid_counts(conn: &Connection) -> Result<(u64, u64), StoreError> {
    conn.query_row("SELECT COUNT(*), COALESCE(SUM(generated), 0) FROM grids", [], |r| {
        Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64))
    })
    .map_err(db)
}

const ORG_COLUMNS: &str = "id, name, kind, region, parent, demo";

fn org_row(row: &Row<'_>) -> rusqlite::Result<(String, String, String, String, Option<String>, bool)> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?))
}

fn to_org(
    (id, name, kind, region, parent, demo): (String, String, String, String, Option<String>, bool),
) -> Result<Organisation, StoreError> {
    let what = format!("organisation {id}");
    Ok(Organisation {
        id: OrgId(decode::uuid(&id, &what)?),
        name,
        kind: OrgKind::parse(&kind).ok_or_else(|| StoreError::corrupt(&what, format!("kind {kind:?}")))?,
        region: RegionCode::parse(&region).map_err(|e| StoreError::corrupt(&what, e))?,
        parent: parent.map(|p| decode::uuid(&p, &what).map(OrgId)).transpose()?,
        demo,
    })
}

pub(crate) fn organisation(conn: &Connection, id: OrgId) -> Result<Option<Organisation>, StoreError> {
    conn.prepare_cached(&format!("SELECT {ORG_COLUMNS} FROM organisations WHERE id = ?1"))
        .and_then(|mut s| s.query_row([id.to_string()], org_row).optional())
        .map_err(db)?
        .map(to_org)
        .transpose()
}

pub(crate) fn organisations_within(conn: &Connection, region: &RegionCode) -> Result<Vec<Organisation>, StoreError> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {ORG_COLUMNS} FROM organisations WHERE region >= ?1 AND region < ?2 ORDER BY region, name, id"
        ))
        .map_err(db)?;
    let rows = stmt.query_map(params![region.as_str(), subtree_upper(region)], org_row).map_err(db)?;
    rows.map(|r| to_org(r.map_err(db)?)).collect()
}

const ACCOUNT_COLUMNS: &str = "id, login, display_name, org, disabled, demo";

fn account_from(conn: &Connection, where_clause: &str, key: &str) -> Result<Option<Account>, StoreError> {
    let row: Option<(String, String, String, String, bool, bool)> = conn
        .prepare_cached(&format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE {where_clause}"))
        .and_then(|mut s| {
            s.query_row([key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))).optional()
        })
        .map_err(db)?;
    let Some((id, login, display_name, org, disabled, demo)) = row else {
        return Ok(None);
    };
    let what = format!("account {id}");
    let grants = grants(conn, &id, &what)?;
    Ok(Some(Account {
        id: AccountId(decode::uuid(&id, &what)?),
        login: Login::parse(&login).map_err(|e| StoreError::corrupt(&what, e))?,
        display_name,
        org: OrgId(decode::uuid(&org, &what)?),
        grants,
        disabled,
        demo,
    }))
}

fn grants(conn: &Connection, account: &str, what: &str) -> Result<Vec<RoleGrant>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT role, region, org FROM role_grants WHERE account = ?1 ORDER BY role, region").map_err(db)?;
    let rows = stmt
        .query_map([account], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<String>>(2)?)))
        .map_err(db)?;
    rows.map(|row| {
        let (role, region, org) = row.map_err(db)?;
        Ok(RoleGrant {
            role: RoleCode::parse(&role).map_err(|e| StoreError::corrupt(what, e))?,
            scope: Scope {
                region: RegionCode::parse(&region).map_err(|e| StoreError::corrupt(what, e))?,
                org: org.map(|o| decode::uuid(&o, what).map(OrgId)).transpose()?,
            },
        })
    })
    .collect()
}

pub(crate) fn account(conn: &Connection, id: AccountId) -> Result<Option<Account>, StoreError> {
    account_from(conn, "id = ?1", &id.to_string())
}

pub(crate) fn account_by_login(conn: &Connection, login: &Login) -> Result<Option<Account>, StoreError> {
    account_from(conn, "login = ?1", login.as_str())
}

pub(crate) fn password_hash(conn: &Connection, id: AccountId) -> Result<Option<String>, StoreError> {
    conn.query_row("SELECT password_hash FROM accounts WHERE id = ?1", [id.to_string()], |r| r.get::<_, Option<String>>(0))
        .optional()
        .map(Option::flatten)
        .map_err(db)
}

pub(crate) fn api_token_by_secret_hash(conn: &Connection, secret_hash: &str) -> Result<Option<ApiToken>, StoreError> {
    type TokenRow = (String, String, String, String, String, Option<String>, bool);
    let row: Option<TokenRow> = conn
        .prepare_cached(
            "SELECT id, account, label, secret_hash, created_at, expires_at, revoked FROM api_tokens WHERE secret_hash = ?1",
        )
        .and_then(|mut s| {
            s.query_row([secret_hash], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)))
                .optional()
        })
        .map_err(db)?;
    let Some((id, account, label, secret_hash, created_at, expires_at, revoked)) = row else {
        return Ok(None);
    };
    let what = format!("API token {id}");
    Ok(Some(ApiToken {
        id: decode::uuid(&id, &what)?,
        account: AccountId(decode::uuid(&account, &what)?),
        label,
        secret_hash,
        created_at: decode::time(&created_at).map_err(|e| StoreError::corrupt(&what, e))?,
        expires_at: expires_at.as_deref().map(decode::time).transpose().map_err(|e| StoreError::corrupt(&what, e))?,
        revoked,
    }))
}

pub(crate) fn setting(conn: &Connection, key: &str) -> Result<Option<String>, StoreError> {
    conn.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0)).optional().map_err(db)
}
