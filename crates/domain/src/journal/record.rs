//! Journal rows and the hash that seals each one onto the chain.
//!
//! The hash of row `n` is
//!
//! ```text
//! BLAKE3( "fengqiao.journal.v1\0"
//!       ‖ prev_hash (32 bytes)
//!       ‖ canonical JSON of [seq, stream, stream_seq, kind, actor, recorded_at, occurred_at]
//!       ‖ "\n"
//!       ‖ payload (canonical JSON text) )
//! ```
//!
//! Times are UTC with exactly six fractional digits (`2026-11-26T20:28:57.123456Z`), so every
//! backend that stores microseconds reproduces the same text.

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use serde_json::Value;

use super::canonical::canonical_json;
use super::hash::Hash;

const DOMAIN_TAG: &[u8] = b"fengqiao.journal.v1\0";

/// An event before it is sealed onto the chain.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// The entity the event is about, as `type:id` (for example `organisation:0193...`); events
    /// of one stream are numbered 1, 2, 3... by `stream_seq`.
    pub stream: String,
    /// What happened, as `entity.past_tense` (for example `organisation.created`).
    pub kind: String,
    /// [`crate::actor::Actor::journal_name`] of whoever caused it.
    pub actor: String,
    /// When it really happened, if that differs from when it was recorded (a mediation session
    /// held offline at sea and entered later). The journal keeps both times.
    pub occurred_at: Option<DateTime<Utc>>,
    /// Canonical JSON text of the payload, made when the event is built: on the caller's thread,
    /// not in the single writer's critical section.
    payload: String,
}

impl NewEvent {
    #[expect(
        clippy::needless_pass_by_value,
        reason = "callers build payloads inline with json!(..); by value reads better than &json!(..)"
    )]
    pub fn new(stream: impl Into<String>, kind: impl Into<String>, actor: impl Into<String>, payload: Value) -> NewEvent {
        NewEvent {
            stream: stream.into(),
            kind: kind.into(),
            actor: actor.into(),
            occurred_at: None,
            payload: canonical_json(&payload),
        }
    }

    /// The payload as canonical JSON text.
    pub fn payload(&self) -> &str {
        &self.payload
    }
}

/// A sealed journal row, exactly as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    pub seq: u64,
    pub stream: String,
    pub stream_seq: u64,
    pub kind: String,
    pub actor: String,
    pub recorded_at: DateTime<Utc>,
    pub occurred_at: Option<DateTime<Utc>>,
    /// Canonical JSON text of the payload.
    pub payload: String,
    pub prev_hash: Hash,
    pub hash: Hash,
}

impl EventRecord {
    /// The hash this row's content calls for, given its own `prev_hash`.
    pub fn computed_hash(&self) -> Hash {
        self.computed_hash_at(self.seq)
    }

    /// The hash the row would have if it sat at `seq`: used to recognise a renumbered row.
    pub fn computed_hash_at(&self, seq: u64) -> Hash {
        let occurred = self.occurred_at.map(journal_time);
        chain_hash(&Header {
            prev_hash: &self.prev_hash,
            seq,
            stream: &self.stream,
            stream_seq: self.stream_seq,
            kind: &self.kind,
            actor: &self.actor,
            recorded_at: &journal_time(self.recorded_at),
            occurred_at: occurred.as_deref(),
            payload: &self.payload,
        })
    }

    /// The payload parsed back into JSON.
    pub fn payload_json(&self) -> Value {
        serde_json::from_str(&self.payload).unwrap_or(Value::Null)
    }
}

/// Everything the hash covers, borrowed.
struct Header<'a> {
    prev_hash: &'a Hash,
    seq: u64,
    stream: &'a str,
    stream_seq: u64,
    kind: &'a str,
    actor: &'a str,
    recorded_at: &'a str,
    occurred_at: Option<&'a str>,
    payload: &'a str,
}

/// Appends `text` as a JSON string, escaped exactly as [`canonical_json`] escapes strings.
fn push_json_str(out: &mut Vec<u8>, text: &str) {
    serde_json::to_writer(&mut *out, text).expect("writing to a Vec cannot fail");
}

/// The chain hash, with the header written straight into a buffer: the canonical JSON array
/// `[seq,stream,stream_seq,kind,actor,recorded_at,occurred_at]` (integers in decimal, strings
/// escaped as `canonical_json` does), without building a JSON value per event.
fn chain_hash(h: &Header<'_>) -> Hash {
    use std::io::Write;
    let mut header = Vec::with_capacity(128 + h.stream.len() + h.kind.len() + h.actor.len());
    write!(header, "[{},", h.seq).expect("Vec write");
    push_json_str(&mut header, h.stream);
    write!(header, ",{},", h.stream_seq).expect("Vec write");
    push_json_str(&mut header, h.kind);
    header.push(b',');
    push_json_str(&mut header, h.actor);
    header.push(b',');
    push_json_str(&mut header, h.recorded_at);
    header.push(b',');
    match h.occurred_at {
        Some(text) => push_json_str(&mut header, text),
        None => header.extend_from_slice(b"null"),
    }
    header.push(b']');
    let mut hasher = blake3::Hasher::new();
    hasher.update(DOMAIN_TAG);
    hasher.update(&h.prev_hash.0);
    hasher.update(&header);
    hasher.update(b"\n");
    hasher.update(h.payload.as_bytes());
    Hash(*hasher.finalize().as_bytes())
}

/// What sealing computes for a new row; the rest is borrowed from the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seal {
    /// [`journal_time`] of the event's `occurred_at`.
    pub occurred_at: Option<String>,
    pub hash: Hash,
}

/// Seals `event` as row `seq` (event `stream_seq` of its stream) after `prev_hash`.
/// `recorded_at` is the [`journal_time`] text of the commit time, formatted once per commit.
pub fn seal_event(event: &NewEvent, seq: u64, stream_seq: u64, recorded_at: &str, prev_hash: &Hash) -> Seal {
    let occurred_at = event.occurred_at.map(|t| journal_time(t.trunc_subsecs(6)));
    let hash = chain_hash(&Header {
        prev_hash,
        seq,
        stream: &event.stream,
        stream_seq,
        kind: &event.kind,
        actor: &event.actor,
        recorded_at,
        occurred_at: occurred_at.as_deref(),
        payload: &event.payload,
    });
    Seal { occurred_at, hash }
}

/// Formats a journal time: UTC, six fractional digits, `Z`.
pub fn journal_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Seals `event` as row `seq` of the chain after `prev_hash`, as a full record.
pub fn seal(event: &NewEvent, seq: u64, stream_seq: u64, recorded_at: DateTime<Utc>, prev_hash: Hash) -> EventRecord {
    let recorded_at = recorded_at.trunc_subsecs(6);
    let sealed = seal_event(event, seq, stream_seq, &journal_time(recorded_at), &prev_hash);
    EventRecord {
        seq,
        stream: event.stream.clone(),
        stream_seq,
        kind: event.kind.clone(),
        actor: event.actor.clone(),
        recorded_at,
        occurred_at: event.occurred_at.map(|t| t.trunc_subsecs(6)),
        payload: event.payload.clone(),
        prev_hash,
        hash: sealed.hash,
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    fn at(secs: i64, nanos: u32) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, nanos).unwrap()
    }

    #[test]
    fn sealing_truncates_time_to_microseconds_and_chains() {
        let event = NewEvent::new("organisation:1", "organisation.created", "system", json!({"b": 2, "a": 1}));
        let first = seal(&event, 1, 1, at(1_795_000_000, 123_456_789), Hash::GENESIS);
        assert_eq!(journal_time(first.recorded_at), "2026-11-18T11:06:40.123456Z");
        assert_eq!(first.payload, r#"{"a":1,"b":2}"#);
        assert_eq!(first.computed_hash(), first.hash);
        let second = seal(&event, 2, 2, at(1_795_000_001, 0), first.hash);
        assert_eq!(second.prev_hash, first.hash);
        assert_ne!(second.hash, first.hash);
    }

    #[test]
    fn the_header_is_the_canonical_json_array() {
        // The streamed header must hash exactly like the canonical encoding of the array.
        let mut event = NewEvent::new("s:\"1\"", "k.done", "账号:张三", json!({"x": 1}));
        event.occurred_at = Some(at(1_700_000_000, 5_000));
        let row = seal(&event, 42, 7, at(1_795_000_000, 0), Hash([3; 32]));
        let header =
            json!([42, row.stream, 7, row.kind, row.actor, journal_time(row.recorded_at), row.occurred_at.map(journal_time)]);
        let mut hasher = blake3::Hasher::new();
        hasher.update(DOMAIN_TAG);
        hasher.update(&row.prev_hash.0);
        hasher.update(canonical_json(&header).as_bytes());
        hasher.update(b"\n");
        hasher.update(row.payload.as_bytes());
        assert_eq!(Hash(*hasher.finalize().as_bytes()), row.hash);
    }

    #[test]
    fn every_field_is_covered_by_the_hash() {
        let mut event = NewEvent::new("s:1", "k.done", "system", json!({"x": 1}));
        event.occurred_at = Some(at(1_700_000_000, 0));
        let base = seal(&event, 5, 1, at(1_795_000_000, 0), Hash::GENESIS);
        let edits: Vec<fn(&mut EventRecord)> = vec![
            |r| r.seq += 1,
            |r| r.stream.push('x'),
            |r| r.stream_seq += 1,
            |r| r.kind.push('x'),
            |r| r.actor.push('x'),
            |r| r.recorded_at += chrono::Duration::microseconds(1),
            |r| r.occurred_at = None,
            |r| r.payload = r#"{"x":2}"#.into(),
            |r| r.prev_hash = Hash([1; 32]),
        ];
        for (idx, edit) in edits.iter().enumerate() {
            let mut changed = base.clone();
            edit(&mut changed);
            assert_ne!(changed.computed_hash(), base.hash, "edit {idx} went unnoticed");
        }
    }
}
