//! Read queries of the console's tables: sessions, sign-in throttling and attachments.

use fq_domain::account::AccountId;
use fq_domain::case::CaseId;
use fq_store::{AttachmentRecord, LoginThrottle, SessionRecord, StoreError};
use rusqlite::{Connection, OptionalExtension, Row};
use uuid::Uuid;

use crate::decode;

fn db(err: rusqlite::Error) -> StoreError {
    StoreError::backend(err)
}

fn time(text: &str, what: &str) -> Result<chrono::DateTime<chrono::Utc>, StoreError> {
    decode::time(text).map_err(|e| StoreError::corrupt(what, e))
}

pub(crate) fn session(conn: &Connection, id_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
    let row = conn
        .prepare_cached("SELECT id_hash, account, csrf, created_at, expires_at, revoked FROM sessions WHERE id_hash = ?1")
        .and_then(|mut s| {
            s.query_row([id_hash], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, bool>(5)?,
                ))
            })
            .optional()
        })
        .map_err(db)?;
    let Some((id_hash, account, csrf, created_at, expires_at, revoked)) = row else {
        return Ok(None);
    };
    let what = "session";
    Ok(Some(SessionRecord {
        account: AccountId(decode::uuid(&account, what)?),
        csrf,
        created_at: time(&created_at, what)?,
        expires_at: time(&expires_at, what)?,
        revoked,
        id_hash,
    }))
}

pub(crate) fn login_throttle(conn: &Connection, login: &str) -> Result<Option<LoginThrottle>, StoreError> {
    let row = conn
        .prepare_cached("SELECT login, failures, window_start, locked_until FROM login_throttles WHERE login = ?1")
        .and_then(|mut s| {
            s.query_row([login], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?, r.get::<_, Option<String>>(3)?))
            })
            .optional()
        })
        .map_err(db)?;
    let Some((login, failures, window_start, locked_until)) = row else {
        return Ok(None);
    };
    let what = format!("login throttle of {login}");
    Ok(Some(LoginThrottle {
        failures: u32::try_from(failures).map_err(|_| StoreError::corrupt(&what, format!("failures {failures}")))?,
        window_start: time(&window_start, &what)?,
        locked_until: locked_until.map(|t| time(&t, &what)).transpose()?,
        login,
    }))
}

/// The metadata columns (never the bytes).
const ATTACHMENT_COLUMNS: &str = "id, case_id, name, content_type, size, blake3, uploaded_by, uploaded_at";

type RawAttachment = (String, Option<String>, String, String, i64, String, String, String);

fn attachment_row(r: &Row<'_>) -> rusqlite::Result<RawAttachment> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?))
}

fn to_attachment(raw: RawAttachment) -> Result<AttachmentRecord, StoreError> {
    let (id, case_id, name, content_type, size, blake3, uploaded_by, uploaded_at) = raw;
    let what = format!("attachment {id}");
    Ok(AttachmentRecord {
        id: decode::uuid(&id, &what)?,
        case_id: case_id.map(|c| decode::uuid(&c, &what).map(CaseId)).transpose()?,
        name,
        content_type,
        size: u64::try_from(size).map_err(|_| StoreError::corrupt(&what, format!("size {size}")))?,
        blake3,
        uploaded_by,
        uploaded_at: time(&uploaded_at, &what)?,
    })
}

pub(crate) fn attachment(conn: &Connection, id: Uuid) -> Result<Option<AttachmentRecord>, StoreError> {
    conn.prepare_cached(&format!("SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE id = ?1"))
        .and_then(|mut s| s.query_row([id.to_string()], attachment_row).optional())
        .map_err(db)?
        .map(to_attachment)
        .transpose()
}

pub(crate) fn attachment_bytes(conn: &Connection, id: Uuid) -> Result<Option<Vec<u8>>, StoreError> {
    conn.prepare_cached("SELECT bytes FROM attachments WHERE id = ?1")
        .and_then(|mut s| s.query_row([id.to_string()], |r| r.get::<_, Vec<u8>>(0)).optional())
        .map_err(db)
}

pub(crate) fn case_attachments(conn: &Connection, case: CaseId) -> Result<Vec<AttachmentRecord>, StoreError> {
    let mut stmt = conn
        .prepare_cached(&format!("SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE case_id = ?1 ORDER BY uploaded_at, id"))
        .map_err(db)?;
    let rows = stmt.query_map([case.to_string()], attachment_row).map_err(db)?;
    rows.map(|r| to_attachment(r.map_err(db)?)).collect()
}
