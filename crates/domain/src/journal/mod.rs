//! The journal: every change is an event, and every event carries the hash of its predecessor,
//! so that an edited, deleted, inserted or reordered row is detected and named.
//!
//! The pieces here are pure: canonical encoding, hashing, sealing a new event onto a chain, and
//! walking a chain. Storage appends and reads the rows; the engine drives verification.

mod canonical;
mod hash;
mod record;
mod verify;

pub use canonical::canonical_json;
pub use hash::{Hash, HashParseError};
pub use record::{EventRecord, NewEvent, Seal, journal_time, seal, seal_event};
pub use verify::{
    BreakKind, ChainBreak, ChainSummary, ChainVerifier, Checkpoint, RecordedHead, Unlinked, Verdict, beyond_head,
    resolve_unlinked,
};
