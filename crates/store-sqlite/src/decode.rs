//! Turning SQLite rows back into domain values. A value that cannot be decoded is reported as
//! corrupt, naming the row.

use chrono::{DateTime, Utc};
use fq_domain::journal::{EventRecord, Hash};
use fq_store::StoreError;
use rusqlite::Row;

pub(crate) fn time(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc)).map_err(|e| format!("time {text:?}: {e}"))
}

pub(crate) fn uuid(text: &str, what: &str) -> Result<uuid::Uuid, StoreError> {
    uuid::Uuid::parse_str(text).map_err(|e| StoreError::corrupt(what, format!("id {text:?}: {e}")))
}

/// The journal columns, in the order `EVENT_COLUMNS` lists them.
pub(crate) const EVENT_COLUMNS: &str = "seq, stream, stream_seq, kind, actor, recorded_at, occurred_at, payload, prev_hash, hash";

/// Decodes a journal row. The raw values are read first so that a row whose hash or time was
/// overwritten with garbage is still reported by its sequence number.
pub(crate) fn event(row: &Row<'_>) -> rusqlite::Result<Result<EventRecord, StoreError>> {
    let seq: i64 = row.get(0)?;
    let stream: String = row.get(1)?;
    let stream_seq: i64 = row.get(2)?;
    let kind: String = row.get(3)?;
    let actor: String = row.get(4)?;
    let recorded_at: String = row.get(5)?;
    let occurred_at: Option<String> = row.get(6)?;
    let payload: String = row.get(7)?;
    let prev_hash: String = row.get(8)?;
    let hash: String = row.get(9)?;
    let seq = seq as u64;
    let corrupt = |reason: String| StoreError::CorruptEvent { seq, reason };
    let decoded = (|| {
        Ok(EventRecord {
            seq,
            stream,
            stream_seq: u64::try_from(stream_seq).map_err(|_| corrupt(format!("stream_seq {stream_seq}")))?,
            kind,
            actor,
            recorded_at: time(&recorded_at).map_err(corrupt)?,
            occurred_at: occurred_at.as_deref().map(time).transpose().map_err(corrupt)?,
            payload,
            prev_hash: Hash::parse(&prev_hash).map_err(|e| corrupt(e.to_string()))?,
            hash: Hash::parse(&hash).map_err(|e| corrupt(e.to_string()))?,
        })
    })();
    Ok(decoded)
}
