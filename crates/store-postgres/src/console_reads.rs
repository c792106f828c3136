//! Read queries of the console's tables for PostgreSQL: sessions, sign-in throttling and
//! attachments.

use fq_domain::account::AccountId;
use fq_domain::case::CaseId;
use fq_store::{AttachmentRecord, LoginThrottle, SessionRecord, StoreError};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};
use uuid::Uuid;

fn db(err: sqlx::Error) -> StoreError {
    StoreError::backend(err)
}

pub(crate) async fn session(pool: &PgPool, id_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
    let row = sqlx::query("SELECT id_hash, account, csrf, created_at, expires_at, revoked FROM sessions WHERE id_hash = $1")
        .bind(id_hash)
        .fetch_optional(pool)
        .await
        .map_err(db)?;
    row.map(|r| {
        Ok(SessionRecord {
            id_hash: r.try_get("id_hash")?,
            account: AccountId(r.try_get("account")?),
            csrf: r.try_get("csrf")?,
            created_at: r.try_get("created_at")?,
            expires_at: r.try_get("expires_at")?,
            revoked: r.try_get("revoked")?,
        })
    })
    .transpose()
    .map_err(db)
}

pub(crate) async fn login_throttle(pool: &PgPool, login: &str) -> Result<Option<LoginThrottle>, StoreError> {
    let Some(row) = sqlx::query("SELECT login, failures, window_start, locked_until FROM login_throttles WHERE login = $1")
        .bind(login)
        .fetch_optional(pool)
        .await
        .map_err(db)?
    else {
        return Ok(None);
    };
    let login: String = row.try_get("login").map_err(db)?;
    let failures: i64 = row.try_get("failures").map_err(db)?;
    Ok(Some(LoginThrottle {
        failures: u32::try_from(failures)
            .map_err(|_| StoreError::corrupt(format!("login throttle of {login}"), format!("failures {failures}")))?,
        window_start: row.try_get("window_start").map_err(db)?,
        locked_until: row.try_get("locked_until").map_err(db)?,
        login,
    }))
}

/// The metadata columns (never the bytes).
const ATTACHMENT_COLUMNS: &str = "id, case_id, name, content_type, size, blake3, uploaded_by, uploaded_at";

fn attachment_row(row: &PgRow) -> Result<AttachmentRecord, StoreError> {
    let id: Uuid = row.try_get("id").map_err(db)?;
    let size: i64 = row.try_get("size").map_err(db)?;
    Ok(AttachmentRecord {
        id,
        case_id: row.try_get::<Option<Uuid>, _>("case_id").map_err(db)?.map(CaseId),
        name: row.try_get("name").map_err(db)?,
        content_type: row.try_get("content_type").map_err(db)?,
        size: u64::try_from(size).map_err(|_| StoreError::corrupt(format!("attachment {id}"), format!("size {size}")))?,
        blake3: row.try_get("blake3").map_err(db)?,
        uploaded_by: row.try_get("uploaded_by").map_err(db)?,
        uploaded_at: row.try_get("uploaded_at").map_err(db)?,
    })
}

pub(crate) async fn attachment(pool: &PgPool, id: Uuid) -> Result<Option<AttachmentRecord>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE id = $1")))
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(db)?
        .as_ref()
        .map(attachment_row)
        .transpose()
}

pub(crate) async fn attachment_bytes(pool: &PgPool, id: Uuid) -> Result<Option<Vec<u8>>, StoreError> {
    sqlx::query_scalar("SELECT bytes FROM attachments WHERE id = $1").bind(id).fetch_optional(pool).await.map_err(db)
}

pub(crate) async fn case_attachments(pool: &PgPool, case: CaseId) -> Result<Vec<AttachmentRecord>, StoreError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE case_id = $1 ORDER BY uploaded_at, id"
    )))
    .bind(case.0)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    rows.iter().map(attachment_row).collect()
}
