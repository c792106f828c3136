//! Turning SQLite rows back into domain values. A value that cannot be decoded is reported as
//! corrupt, naming the row.

use chrono::{DateTime, Utc};
use fq_domain::journal::{EventRecord, Hash};
use fq_store::StoreError;
use rusqlite::Row;
use rusqlite::types::Value;

pub(crate) fn time(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc)).map_err(|e| format!("time {text:?}: {e}"))
}

pub(crate) fn uuid(text: &str, what: &str) -> Result<uuid::Uuid, StoreError> {
    uuid::Uuid::parse_str(text).map_err(|e| StoreError::corrupt(what, format!("id {text:?}: {e}")))
}

/// The journal columns, in the order `EVENT_COLUMNS` lists them.
pub(crate) const EVENT_COLUMNS: &str = "seq, stream, stream_seq, kind, actor, recorded_at, occurred_at, payload, prev_hash, hash";

/// Decodes a journal row. The columns are first read as whatever SQLite holds, so that a row whose
/// hash, time or payload was overwritten with garbage (even of another type) is reported by its
/// sequence number instead of failing the whole read.
pub(crate) fn event(row: &Row<'_>) -> rusqlite::Result<Result<EventRecord, StoreError>> {
    let seq: i64 = row.get(0)?;
    let values: Vec<Value> = (1..10).map(|idx| row.get::<_, Value>(idx)).collect::<rusqlite::Result<_>>()?;
    Ok(event_from_values(seq as u64, &values))
}

fn event_from_values(seq: u64, v: &[Value]) -> Result<EventRecord, StoreError> {
    let corrupt = |reason: String| StoreError::CorruptEvent { seq, reason };
    let text = |idx: usize, name: &str| match &v[idx - 1] {
        Value::Text(text) => Ok(text.clone()),
        other => Err(corrupt(format!("{name} holds {:?}, not text", other.data_type()))),
    };
    let stream_seq = match &v[1] {
        Value::Integer(n) => u64::try_from(*n).map_err(|_| corrupt(format!("stream_seq is {n}")))?,
        other => return Err(corrupt(format!("stream_seq holds {:?}, not an integer", other.data_type()))),
    };
    let occurred_at = match &v[5] {
        Value::Null => None,
        _ => Some(time(&text(6, "occurred_at")?).map_err(corrupt)?),
    };
    Ok(EventRecord {
        seq,
        stream: text(1, "stream")?,
        stream_seq,
        kind: text(3, "kind")?,
        actor: text(4, "actor")?,
        recorded_at: time(&text(5, "recorded_at")?).map_err(corrupt)?,
        occurred_at,
        payload: text(7, "payload")?,
        prev_hash: Hash::parse(&text(8, "prev_hash")?).map_err(|e| corrupt(e.to_string()))?,
        hash: Hash::parse(&text(9, "hash")?).map_err(|e| corrupt(e.to_string()))?,
    })
}
