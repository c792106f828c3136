//! Read queries for PostgreSQL.

use chrono::{DateTime, Utc};
use fq_domain::account::{Account, AccountId, ApiToken, Login, RoleCode, RoleGrant, Scope};
use fq_domain::geometry::area_from_geojson_text;
use fq_domain::grid::{Grid, GridCode, GridKind};
use fq_domain::journal::{Checkpoint, EventRecord, Hash, RecordedHead};
use fq_domain::org::{OrgId, OrgKind, Organisation};
use fq_domain::region::{Region, RegionCode, RegionCounts, RegionLevel};
use fq_store::{JournalExtent, StoreError, StoredBoundary};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};
use uuid::Uuid;

fn db(err: sqlx::Error) -> StoreError {
    StoreError::backend(err)
}

pub(crate) fn subtree_upper(code: &RegionCode) -> String {
    format!("{code}:")
}

pub(crate) async fn recorded_head(pool: &PgPool) -> Result<RecordedHead, StoreError> {
    let row: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM journal_head WHERE id = 1").fetch_optional(pool).await.map_err(db)?;
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

pub(crate) async fn journal_extent(pool: &PgPool) -> Result<JournalExtent, StoreError> {
    let (rows, min_seq, max_seq): (i64, Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT COUNT(*), MIN(seq), MAX(seq) FROM journal").fetch_one(pool).await.map_err(db)?;
    Ok(JournalExtent { rows: rows as u64, min_seq, max_seq })
}

const EVENT_COLUMNS: &str = "seq, stream, stream_seq, kind, actor, recorded_at, occurred_at, payload, prev_hash, hash";

/// Decodes a journal row; an undecodable hash is reported by the row's sequence number.
fn event(row: &PgRow) -> Result<EventRecord, StoreError> {
    let seq = row.try_get::<i64, _>("seq").map_err(db)? as u64;
    let corrupt = |reason: String| StoreError::CorruptEvent { seq, reason };
    let hash_at = |column: &str| -> Result<Hash, StoreError> {
        let text: String = row.try_get(column).map_err(db)?;
        Hash::parse(&text).map_err(|e| corrupt(e.to_string()))
    };
    Ok(EventRecord {
        seq,
        stream: row.try_get("stream").map_err(db)?,
        stream_seq: row.try_get::<i64, _>("stream_seq").map_err(db)? as u64,
        kind: row.try_get("kind").map_err(db)?,
        actor: row.try_get("actor").map_err(db)?,
        recorded_at: row.try_get::<DateTime<Utc>, _>("recorded_at").map_err(db)?,
        occurred_at: row.try_get::<Option<DateTime<Utc>>, _>("occurred_at").map_err(db)?,
        payload: row.try_get("payload").map_err(db)?,
        prev_hash: hash_at("prev_hash")?,
        hash: hash_at("hash")?,
    })
}

pub(crate) async fn events_after(pool: &PgPool, after: u64, limit: u32) -> Result<Vec<EventRecord>, StoreError> {
    let rows =
        sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {EVENT_COLUMNS} FROM journal WHERE seq > $1 ORDER BY seq LIMIT $2")))
            .bind(after as i64)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
            .map_err(db)?;
    rows.iter().map(event).collect()
}

pub(crate) async fn find_event_by_hash(pool: &PgPool, hash: Hash) -> Result<Option<u64>, StoreError> {
    let seq: Option<i64> = sqlx::query_scalar("SELECT seq FROM journal WHERE hash = $1 ORDER BY seq LIMIT 1")
        .bind(hash.to_hex())
        .fetch_optional(pool)
        .await
        .map_err(db)?;
    Ok(seq.map(|s| s as u64))
}

pub(crate) async fn stream_events(pool: &PgPool, stream: &str) -> Result<Vec<EventRecord>, StoreError> {
    let rows =
        sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {EVENT_COLUMNS} FROM journal WHERE stream = $1 ORDER BY stream_seq")))
            .bind(stream)
            .fetch_all(pool)
            .await
            .map_err(db)?;
    rows.iter().map(event).collect()
}

fn decode_region(row: &PgRow) -> Result<Region, StoreError> {
    let code: String = row.try_get("code").map_err(db)?;
    Ok(Region {
        code: RegionCode::parse(&code).map_err(|e| StoreError::corrupt("region", e))?,
        name: row.try_get("name").map_err(db)?,
        retired: row.try_get("retired").map_err(db)?,
    })
}

pub(crate) async fn region_counts(pool: &PgPool) -> Result<RegionCounts, StoreError> {
    let rows: Vec<(i16, i64)> = sqlx::query_as("SELECT level, COUNT(*) FROM regions WHERE NOT retired GROUP BY level")
        .fetch_all(pool)
        .await
        .map_err(db)?;
    let mut counts = RegionCounts::default();
    for (rank, count) in rows {
        let level =
            u8::try_from(rank).ok().and_then(RegionLevel::from_rank).ok_or_else(|| StoreError::corrupt("region level", rank))?;
        counts.set(level, count as u64);
    }
    Ok(counts)
}

pub(crate) async fn region(pool: &PgPool, code: &RegionCode) -> Result<Option<Region>, StoreError> {
    sqlx::query("SELECT code, name, retired FROM regions WHERE code = $1")
        .bind(code.as_str())
        .fetch_optional(pool)
        .await
        .map_err(db)?
        .as_ref()
        .map(decode_region)
        .transpose()
}

pub(crate) async fn regions_all(pool: &PgPool) -> Result<Vec<Region>, StoreError> {
    let rows = sqlx::query("SELECT code, name, retired FROM regions ORDER BY code").fetch_all(pool).await.map_err(db)?;
    rows.iter().map(decode_region).collect()
}

pub(crate) async fn children(pool: &PgPool, code: &RegionCode) -> Result<Vec<Region>, StoreError> {
    let rows = sqlx::query("SELECT code, name, retired FROM regions WHERE parent = $1 ORDER BY code")
        .bind(code.as_str())
        .fetch_all(pool)
        .await
        .map_err(db)?;
    rows.iter().map(decode_region).collect()
}

fn decode_boundary(row: &PgRow) -> Result<StoredBoundary, StoreError> {
    let code: String = row.try_get("code").map_err(db)?;
    Ok(StoredBoundary {
        code: RegionCode::parse(&code).map_err(|e| StoreError::corrupt("boundary", e))?,
        name: row.try_get("name").map_err(db)?,
        geojson: row.try_get("geojson").map_err(db)?,
    })
}

pub(crate) async fn boundary(pool: &PgPool, code: &RegionCode) -> Result<Option<StoredBoundary>, StoreError> {
    sqlx::query("SELECT code, name, geojson FROM region_boundaries WHERE code = $1")
        .bind(code.as_str())
        .fetch_optional(pool)
        .await
        .map_err(db)?
        .as_ref()
        .map(decode_boundary)
        .transpose()
}

pub(crate) async fn boundaries(pool: &PgPool, level: RegionLevel) -> Result<Vec<StoredBoundary>, StoreError> {
    let rows = sqlx::query(
        "SELECT b.code, b.name, b.geojson FROM region_boundaries b JOIN regions r ON r.code = b.code WHERE r.level = $1 ORDER BY b.code",
    )
    .bind(i16::from(level.rank()))
    .fetch_all(pool)
    .await
    .map_err(db)?;
    rows.iter().map(decode_boundary).collect()
}

fn decode_grid(row: &PgRow) -> Result<Grid, StoreError> {
    let code: String = row.try_get("code").map_err(db)?;
    let what = format!("grid {code}");
    let region: String = row.try_get("region").map_err(db)?;
    let kind: String = row.try_get("kind").map_err(db)?;
    let geojson: String = row.try_get("geojson").map_err(db)?;
    Ok(Grid {
        code: GridCode::parse(&code).map_err(|e| StoreError::corrupt(&what, e))?,
        name: row.try_get("name").map_err(db)?,
        region: RegionCode::parse(&region).map_err(|e| StoreError::corrupt(&what, e))?,
        kind: GridKind::parse(&kind).ok_or_else(|| StoreError::corrupt(&what, format!("kind {kind:?}")))?,
        generated: row.try_get("generated").map_err(db)?,
        area: area_from_geojson_text(&geojson).map_err(|e| StoreError::corrupt(&what, e))?,
    })
}

pub(crate) async fn grid(pool: &PgPool, code: &GridCode) -> Result<Option<Grid>, StoreError> {
    sqlx::query("SELECT code, name, region, kind, generated, geojson FROM grids WHERE code = $1")
        .bind(code.as_str())
        .fetch_optional(pool)
        .await
        .map_err(db)?
        .as_ref()
        .map(decode_grid)
        .transpose()
}

pub(crate) async fn grids_within(pool: &PgPool, region: &RegionCode) -> Result<Vec<Grid>, StoreError> {
    let rows = sqlx::query(
        "SELECT code, name, region, kind, generated, geojson FROM grids WHERE region >= $1 AND region < $2 ORDER BY code",
    )
    .bind(region.as_str())
    .bind(subtree_upper(region))
    .fetch_all(pool)
    .await
    .map_err(db)?;
    rows.iter().map(decode_grid).collect()
}

pub(crate) async fn grid_counts(pool: &PgPool) -> Result<(u64, u64), StoreError> {
    let (all, generated): (i64, i64) =
        sqlx::query_as("SELECT COUNT(*), COUNT(*) FILTER (WHERE generated) FROM grids").fetch_one(pool).await.map_err(db)?;
    Ok((all as u64, generated as u64))
}

fn decode_organisation(row: &PgRow) -> Result<Organisation, StoreError> {
    let id: Uuid = row.try_get("id").map_err(db)?;
    let what = format!("organisation {id}");
    let kind: String = row.try_get("kind").map_err(db)?;
    let region: String = row.try_get("region").map_err(db)?;
    Ok(Organisation {
        id: OrgId(id),
        name: row.try_get("name").map_err(db)?,
        kind: OrgKind::parse(&kind).ok_or_else(|| StoreError::corrupt(&what, format!("kind {kind:?}")))?,
        region: RegionCode::parse(&region).map_err(|e| StoreError::corrupt(&what, e))?,
        parent: row.try_get::<Option<Uuid>, _>("parent").map_err(db)?.map(OrgId),
        demo: row.try_get("demo").map_err(db)?,
    })
}

pub(crate) async fn organisation(pool: &PgPool, id: OrgId) -> Result<Option<Organisation>, StoreError> {
    sqlx::query("SELECT id, name, kind, region, parent, demo FROM organisations WHERE id = $1")
        .bind(id.0)
        .fetch_optional(pool)
        .await
        .map_err(db)?
        .as_ref()
        .map(decode_organisation)
        .transpose()
}

pub(crate) async fn organisations_within(pool: &PgPool, region: &RegionCode) -> Result<Vec<Organisation>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, name, kind, region, parent, demo FROM organisations WHERE region >= $1 AND region < $2 ORDER BY region, name, id",
    )
    .bind(region.as_str())
    .bind(subtree_upper(region))
    .fetch_all(pool)
    .await
    .map_err(db)?;
    rows.iter().map(decode_organisation).collect()
}

/// A grant row: (role, region, org).
pub(crate) type GrantRow = (String, String, Option<Uuid>);

async fn account_where(pool: &PgPool, row: Option<PgRow>) -> Result<Option<Account>, StoreError> {
    let Some(row) = row else {
        return Ok(None);
    };
    let id: Uuid = row.try_get("id").map_err(db)?;
    let grant_rows: Vec<GrantRow> =
        sqlx::query_as("SELECT role, region, org FROM role_grants WHERE account = $1 ORDER BY role, region")
            .bind(id)
            .fetch_all(pool)
            .await
            .map_err(db)?;
    decode_account(&row, grant_rows).map(Some)
}

/// An account from its row (id, login, display_name, org, disabled, demo) and its grant rows.
pub(crate) fn decode_account(row: &PgRow, grant_rows: Vec<GrantRow>) -> Result<Account, StoreError> {
    let id: Uuid = row.try_get("id").map_err(db)?;
    let what = format!("account {id}");
    let login: String = row.try_get("login").map_err(db)?;
    let grants = grant_rows
        .into_iter()
        .map(|(role, region, org)| {
            Ok(RoleGrant {
                role: RoleCode::parse(&role).map_err(|e| StoreError::corrupt(&what, e))?,
                scope: Scope {
                    region: RegionCode::parse(&region).map_err(|e| StoreError::corrupt(&what, e))?,
                    org: org.map(OrgId),
                },
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Account {
        id: AccountId(id),
        login: Login::parse(&login).map_err(|e| StoreError::corrupt(&what, e))?,
        display_name: row.try_get("display_name").map_err(db)?,
        org: OrgId(row.try_get("org").map_err(db)?),
        grants,
        disabled: row.try_get("disabled").map_err(db)?,
        demo: row.try_get("demo").map_err(db)?,
    })
}

pub(crate) async fn account(pool: &PgPool, id: AccountId) -> Result<Option<Account>, StoreError> {
    let row = sqlx::query("SELECT id, login, display_name, org, disabled, demo FROM accounts WHERE id = $1")
        .bind(id.0)
        .fetch_optional(pool)
        .await
        .map_err(db)?;
    account_where(pool, row).await
}

pub(crate) async fn account_by_login(pool: &PgPool, login: &Login) -> Result<Option<Account>, StoreError> {
    let row = sqlx::query("SELECT id, login, display_name, org, disabled, demo FROM accounts WHERE login = $1")
        .bind(login.as_str())
        .fetch_optional(pool)
        .await
        .map_err(db)?;
    account_where(pool, row).await
}

pub(crate) async fn password_hash(pool: &PgPool, id: AccountId) -> Result<Option<String>, StoreError> {
    let hash: Option<Option<String>> = sqlx::query_scalar("SELECT password_hash FROM accounts WHERE id = $1")
        .bind(id.0)
        .fetch_optional(pool)
        .await
        .map_err(db)?;
    Ok(hash.flatten())
}

pub(crate) async fn api_token_by_secret_hash(pool: &PgPool, secret_hash: &str) -> Result<Option<ApiToken>, StoreError> {
    let row = sqlx::query(
        "SELECT id, account, label, secret_hash, created_at, expires_at, revoked FROM api_tokens WHERE secret_hash = $1",
    )
    .bind(secret_hash)
    .fetch_optional(pool)
    .await
    .map_err(db)?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(Some(ApiToken {
        id: row.try_get("id").map_err(db)?,
        account: AccountId(row.try_get("account").map_err(db)?),
        label: row.try_get("label").map_err(db)?,
        secret_hash: row.try_get("secret_hash").map_err(db)?,
        created_at: row.try_get("created_at").map_err(db)?,
        expires_at: row.try_get("expires_at").map_err(db)?,
        revoked: row.try_get("revoked").map_err(db)?,
    }))
}

pub(crate) async fn setting(pool: &PgPool, key: &str) -> Result<Option<String>, StoreError> {
    sqlx::query_scalar("SELECT value FROM settings WHERE key = $1").bind(key).fetch_optional(pool).await.map_err(db)
}
