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
use serde_json::{Value, json};

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
    pub payload: Value,
}

impl NewEvent {
    pub fn new(stream: impl Into<String>, kind: impl Into<String>, actor: impl Into<String>, payload: Value) -> NewEvent {
        NewEvent { stream: stream.into(), kind: kind.into(), actor: actor.into(), occurred_at: None, payload }
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
        let header = json!([
            seq,
            self.stream,
            self.stream_seq,
            self.kind,
            self.actor,
            journal_time(self.recorded_at),
            self.occurred_at.map(journal_time),
        ]);
        let mut hasher = blake3::Hasher::new();
        hasher.update(DOMAIN_TAG);
        hasher.update(&self.prev_hash.0);
        hasher.update(canonical_json(&header).as_bytes());
        hasher.update(b"\n");
        hasher.update(self.payload.as_bytes());
        Hash(*hasher.finalize().as_bytes())
    }

    /// The payload parsed back into JSON.
    pub fn payload_json(&self) -> Value {
        serde_json::from_str(&self.payload).unwrap_or(Value::Null)
    }
}

/// Formats a journal time: UTC, six fractional digits, `Z`.
pub fn journal_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Seals `event` as row `seq` of the chain after `prev_hash`.
pub fn seal(event: &NewEvent, seq: u64, stream_seq: u64, recorded_at: DateTime<Utc>, prev_hash: Hash) -> EventRecord {
    let mut record = EventRecord {
        seq,
        stream: event.stream.clone(),
        stream_seq,
        kind: event.kind.clone(),
        actor: event.actor.clone(),
        recorded_at: recorded_at.trunc_subsecs(6),
        occurred_at: event.occurred_at.map(|t| t.trunc_subsecs(6)),
        payload: canonical_json(&event.payload),
        prev_hash,
        hash: Hash::GENESIS,
    };
    record.hash = record.computed_hash();
    record
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

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
