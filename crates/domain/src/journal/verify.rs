//! Walking the chain and naming the first row that breaks it.
//!
//! Rows are fed in stored `seq` order. Each row is checked against its own hash (was its content
//! changed?) and against its predecessor (does it follow the row before it?). When a check fails,
//! the verifier looks one row ahead to tell the four kinds of tampering apart:
//!
//! * **edited**: the row follows its predecessor but its content no longer matches its hash, or
//!   it was rewritten and re-hashed so that the next row no longer follows it;
//! * **deleted**: a sequence number is missing, or the row's predecessor is nowhere in the table;
//! * **inserted**: skipping the row restores the chain, or the row lies beyond the recorded head;
//! * **reordered**: the row's predecessor sits after it.
//!
//! Finding where a stray predecessor sits needs a look-up over the whole table, which only storage
//! can do; the verifier then returns [`Verdict::Unlinked`] and [`resolve_unlinked`] finishes the
//! diagnosis with the look-up's answer.

use std::collections::HashMap;
use std::fmt;

use super::hash::Hash;
use super::record::EventRecord;

/// What kind of tampering a break shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakKind {
    Edited,
    Deleted,
    Inserted,
    Reordered,
    /// The hashes agree but the per-stream numbering does not: a writer bug, not tampering.
    Inconsistent,
}

impl BreakKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BreakKind::Edited => "edited",
            BreakKind::Deleted => "deleted",
            BreakKind::Inserted => "inserted",
            BreakKind::Reordered => "reordered",
            BreakKind::Inconsistent => "inconsistent",
        }
    }
}

/// The first row at which the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    /// The sequence number of the first row found wrong (for a deletion, the first missing one).
    pub seq: u64,
    pub kind: BreakKind,
    pub detail: String,
}

impl fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "row {} {}: {}", self.seq, self.kind.as_str(), self.detail)
    }
}

/// A (sequence, hash) pair: the recorded head of the journal, or a head published earlier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    pub seq: u64,
    pub hash: Hash,
}

impl fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

/// What the store recorded as the head with its last commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordedHead {
    /// The head record itself is gone: someone deleted it (the schema creates it).
    Missing,
    /// Nothing has been committed yet.
    Empty,
    At(Checkpoint),
}

impl RecordedHead {
    /// The sequence number the head names (0 for an empty journal).
    pub fn seq(&self) -> Option<u64> {
        match self {
            RecordedHead::Missing => None,
            RecordedHead::Empty => Some(0),
            RecordedHead::At(cp) => Some(cp.seq),
        }
    }
}

/// An intact chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainSummary {
    pub events: u64,
    pub head: Option<Checkpoint>,
}

/// A row that does not follow the row before it, and whose explanation needs a look-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unlinked {
    pub seq: u64,
    /// The row's content matches its own hash.
    pub self_consistent: bool,
    /// The hash the row names as its predecessor.
    pub predecessor_hash: Hash,
    /// The row's hash also matches its content at `seq + 1`: it was moved down one place.
    pub renumbered_down: bool,
}

/// The outcome of feeding rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Intact(ChainSummary),
    Broken(ChainBreak),
    Unlinked(Unlinked),
}

/// Streams rows through the checks, holding one row back for look-ahead.
///
/// The recorded head is given only at [`ChainVerifier::finish`], and must be read *after* the rows:
/// a commit writes its rows and the head together, so every genuine row the walk saw is covered by
/// a head read afterwards, and a row beyond it was added behind the writer's back. (A head read
/// before the walk would make every row committed during an online audit look forged.)
#[derive(Debug)]
pub struct ChainVerifier {
    prev_hash: Hash,
    expected_seq: u64,
    pending: Option<EventRecord>,
    streams: HashMap<String, u64>,
    events: u64,
    published: Vec<Checkpoint>,
}

impl ChainVerifier {
    /// `published` are heads printed by `audit checkpoint` earlier, which catch a rewrite of the
    /// whole tail.
    pub fn new(published: Vec<Checkpoint>) -> ChainVerifier {
        ChainVerifier { prev_hash: Hash::GENESIS, expected_seq: 1, pending: None, streams: HashMap::new(), events: 0, published }
    }

    /// The sequence number of the last row fed (0 before any).
    pub fn last_seq(&self) -> u64 {
        self.pending.as_ref().map_or(self.expected_seq - 1, |row| row.seq)
    }

    /// Feeds the next row. Returns a verdict as soon as one row is found wrong; stop feeding then.
    pub fn push(&mut self, row: EventRecord) -> Option<Verdict> {
        let Some(current) = self.pending.take() else {
            self.pending = Some(row);
            return None;
        };
        if let Err(verdict) = self.check(&current, Some(&row)) {
            return Some(verdict);
        }
        if let Err(verdict) = self.accept(&current) {
            return Some(verdict);
        }
        self.pending = Some(row);
        None
    }

    /// Checks the last row and the end of the chain against `recorded_head`, read after the rows.
    pub fn finish(mut self, recorded_head: RecordedHead) -> Verdict {
        if let (Some(last), Some(head_seq)) = (&self.pending, recorded_head.seq())
            && last.seq > head_seq
        {
            return Verdict::Broken(beyond_head(head_seq + 1, head_seq));
        }
        if let Some(last) = self.pending.take() {
            if let Err(verdict) = self.check(&last, None) {
                return verdict;
            }
            if let Err(verdict) = self.accept(&last) {
                return verdict;
            }
        }
        let last_seq = self.expected_seq - 1;
        match recorded_head {
            RecordedHead::Missing => {
                return Verdict::Broken(ChainBreak {
                    seq: last_seq + 1,
                    kind: BreakKind::Deleted,
                    detail: "the head recorded with every commit (the journal_head row) is missing".into(),
                });
            }
            RecordedHead::Empty => {}
            RecordedHead::At(head) if last_seq < head.seq => {
                return Verdict::Broken(missing_tail(last_seq, head.seq, "the head recorded at the last commit"));
            }
            RecordedHead::At(head) if self.prev_hash != head.hash => {
                return Verdict::Broken(ChainBreak {
                    seq: head.seq,
                    kind: BreakKind::Edited,
                    detail: format!(
                        "the chain ends with hash {} but the head recorded at the last commit is {}",
                        self.prev_hash.short(),
                        head.hash.short()
                    ),
                });
            }
            RecordedHead::At(_) => {}
        }
        if let Some(cp) = self.published.iter().filter(|cp| cp.seq > last_seq).min_by_key(|cp| cp.seq) {
            return Verdict::Broken(missing_tail(last_seq, cp.seq, "a published checkpoint"));
        }
        let head = (last_seq > 0).then_some(Checkpoint { seq: last_seq, hash: self.prev_hash });
        Verdict::Intact(ChainSummary { events: self.events, head })
    }

    fn check(&self, row: &EventRecord, next: Option<&EventRecord>) -> Result<(), Verdict> {
        let broken = |seq, kind, detail: String| Err(Verdict::Broken(ChainBreak { seq, kind, detail }));
        if row.seq > self.expected_seq {
            let detail = if row.seq == self.expected_seq + 1 {
                format!("row {} is missing: the sequence jumps from {} to {}", self.expected_seq, self.expected_seq - 1, row.seq)
            } else {
                format!("rows {} to {} are missing", self.expected_seq, row.seq - 1)
            };
            return broken(self.expected_seq, BreakKind::Deleted, detail);
        }
        if row.seq < self.expected_seq {
            return broken(
                row.seq,
                BreakKind::Reordered,
                format!("the sequence goes back from {} to {}", self.expected_seq - 1, row.seq),
            );
        }
        let self_ok = row.computed_hash() == row.hash;
        let link_ok = row.prev_hash == self.prev_hash;
        if self_ok && link_ok {
            return Ok(());
        }
        if let Some(next) = next {
            if row.prev_hash == next.hash {
                return broken(
                    row.seq,
                    BreakKind::Reordered,
                    format!("rows {} and {} are in each other's place", row.seq, next.seq),
                );
            }
            if next.prev_hash == self.prev_hash {
                return broken(
                    row.seq,
                    BreakKind::Inserted,
                    format!("the row is not part of the chain: row {} follows row {} directly", next.seq, row.seq - 1),
                );
            }
        }
        if link_ok {
            return broken(row.seq, BreakKind::Edited, "the row's content does not match its hash".into());
        }
        Err(Verdict::Unlinked(Unlinked {
            seq: row.seq,
            self_consistent: self_ok,
            predecessor_hash: row.prev_hash,
            renumbered_down: row.computed_hash_at(row.seq + 1) == row.hash,
        }))
    }

    fn accept(&mut self, row: &EventRecord) -> Result<(), Verdict> {
        let stream_seq = self.streams.entry(row.stream.clone()).or_insert(0);
        if row.stream_seq != *stream_seq + 1 {
            return Err(Verdict::Broken(ChainBreak {
                seq: row.seq,
                kind: BreakKind::Inconsistent,
                detail: format!("stream {} jumps from event {} to {}", row.stream, stream_seq, row.stream_seq),
            }));
        }
        *stream_seq += 1;
        if let Some(cp) = self.published.iter().find(|cp| cp.seq == row.seq)
            && cp.hash != row.hash
        {
            return Err(Verdict::Broken(ChainBreak {
                seq: row.seq,
                kind: BreakKind::Edited,
                detail: format!(
                    "the row's hash {} differs from the published checkpoint {}: the chain was rewritten at or before it",
                    row.hash.short(),
                    cp.hash.short()
                ),
            }));
        }
        self.prev_hash = row.hash;
        self.expected_seq += 1;
        self.events += 1;
        Ok(())
    }
}

/// The break for rows found beyond the recorded head (`first` is the first such row).
pub fn beyond_head(first: u64, head_seq: u64) -> ChainBreak {
    ChainBreak {
        seq: first,
        kind: BreakKind::Inserted,
        detail: format!(
            "the row lies beyond the head recorded at the last commit (seq {head_seq}): rows were added behind the \
             writer's back, or the recorded head was moved back"
        ),
    }
}

fn missing_tail(last_seq: u64, expected_end: u64, witness: &str) -> ChainBreak {
    ChainBreak {
        seq: last_seq + 1,
        kind: BreakKind::Deleted,
        detail: format!("the journal ends at row {last_seq} but {witness} is at row {expected_end}"),
    }
}

/// Finishes the diagnosis of an [`Unlinked`] row, given where (if anywhere) the row's predecessor
/// hash is stored.
pub fn resolve_unlinked(unlinked: &Unlinked, predecessor_at: Option<u64>) -> ChainBreak {
    let seq = unlinked.seq;
    match predecessor_at {
        Some(p) if p > seq => ChainBreak {
            seq,
            kind: BreakKind::Reordered,
            detail: format!("the row belongs after row {p}, which now comes later"),
        },
        Some(p) if p + 1 < seq => ChainBreak {
            seq: p + 1,
            kind: BreakKind::Inserted,
            detail: if p + 2 == seq {
                format!("row {} is not part of the chain: row {seq} follows row {p}", p + 1)
            } else {
                format!("rows {} to {} are not part of the chain: row {seq} follows row {p}", p + 1, seq - 1)
            },
        },
        Some(_) => ChainBreak { seq, kind: BreakKind::Edited, detail: "the row does not follow its predecessor".into() },
        None if unlinked.self_consistent => ChainBreak {
            seq: seq - 1,
            kind: BreakKind::Edited,
            detail: format!("the row was rewritten and re-hashed: row {seq} still names the hash of the original"),
        },
        None => ChainBreak {
            seq,
            kind: BreakKind::Deleted,
            detail: if unlinked.renumbered_down {
                format!("the row that preceded it was deleted and the rows after it renumbered (this row was {})", seq + 1)
            } else {
                "the row's predecessor is not in the journal".into()
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use proptest::prelude::*;
    use serde_json::json;

    use super::super::record::{NewEvent, seal};
    use super::*;

    /// A chain of `n` events over three streams.
    fn chain(n: u64) -> Vec<EventRecord> {
        let mut rows = Vec::new();
        let mut prev = Hash::GENESIS;
        let mut per_stream = [0u64; 3];
        for seq in 1..=n {
            let s = (seq % 3) as usize;
            per_stream[s] += 1;
            let event = NewEvent::new(format!("case:{s}"), "case.acted", "system", json!({"n": seq}));
            let row = seal(&event, seq, per_stream[s], Utc.timestamp_opt(1_795_000_000 + seq as i64, 0).unwrap(), prev);
            prev = row.hash;
            rows.push(row);
        }
        rows
    }

    fn head(rows: &[EventRecord]) -> RecordedHead {
        rows.last().map_or(RecordedHead::Empty, |r| RecordedHead::At(Checkpoint { seq: r.seq, hash: r.hash }))
    }

    /// Runs the verifier the way the engine does, with the look-up over the stored rows.
    fn verify(rows: &[EventRecord], recorded_head: RecordedHead, published: Vec<Checkpoint>) -> Result<ChainSummary, ChainBreak> {
        let mut sorted = rows.to_vec();
        sorted.sort_by_key(|r| r.seq);
        let mut verifier = ChainVerifier::new(published);
        let locate = |hash: Hash| sorted.iter().find(|r| r.hash == hash).map(|r| r.seq);
        let resolve = |verdict: Verdict| match verdict {
            Verdict::Intact(summary) => Ok(summary),
            Verdict::Broken(b) => Err(b),
            Verdict::Unlinked(u) => Err(resolve_unlinked(&u, locate(u.predecessor_hash))),
        };
        for row in sorted.iter().cloned() {
            if let Some(verdict) = verifier.push(row) {
                // As the engine does: a break at a row beyond the recorded head is that row's insertion.
                let found = resolve(verdict).expect_err("push only returns breaks");
                return Err(match recorded_head.seq() {
                    Some(head_seq) if found.seq > head_seq => beyond_head(head_seq + 1, head_seq),
                    _ => found,
                });
            }
        }
        resolve(verifier.finish(recorded_head))
    }

    fn renumber(rows: &mut [EventRecord], from: u64, delta: i64) {
        for row in rows.iter_mut().filter(|r| r.seq >= from) {
            row.seq = (row.seq as i64 + delta) as u64;
        }
    }

    #[test]
    fn intact_chain_verifies() {
        let rows = chain(10);
        let summary = verify(&rows, head(&rows), vec![]).unwrap();
        assert_eq!(summary.events, 10);
        assert_eq!(RecordedHead::At(summary.head.unwrap()), head(&rows));
        assert_eq!(verify(&[], RecordedHead::Empty, vec![]).unwrap(), ChainSummary { events: 0, head: None });
    }

    #[test]
    fn names_each_kind_of_tampering() {
        type Tamper = fn(&mut Vec<EventRecord>);
        let cases: Vec<(&str, Tamper, u64, BreakKind)> = vec![
            ("payload changed", |r| r[4].payload = r#"{"n":999}"#.into(), 5, BreakKind::Edited),
            ("actor changed", |r| r[0].actor = "account:intruder".into(), 1, BreakKind::Edited),
            (
                "row deleted",
                |r| {
                    r.remove(4);
                },
                5,
                BreakKind::Deleted,
            ),
            (
                "first row deleted",
                |r| {
                    r.remove(0);
                },
                1,
                BreakKind::Deleted,
            ),
            (
                "two rows deleted",
                |r| {
                    r.drain(3..5);
                },
                4,
                BreakKind::Deleted,
            ),
            (
                "row deleted, rest renumbered",
                |r| {
                    r.remove(4);
                    renumber(r, 6, -1);
                },
                5,
                BreakKind::Deleted,
            ),
            (
                "adjacent rows swapped",
                |r| {
                    r[4].seq = 6;
                    r[5].seq = 5;
                },
                5,
                BreakKind::Reordered,
            ),
            (
                "distant rows swapped",
                |r| {
                    r[2].seq = 8;
                    r[7].seq = 3;
                },
                3,
                BreakKind::Reordered,
            ),
            (
                "forged row inserted, rest renumbered",
                |r| {
                    renumber(r, 5, 1);
                    let mut forged = r[3].clone();
                    forged.seq = 5;
                    forged.payload = r#"{"forged":true}"#.into();
                    r.push(forged);
                },
                5,
                BreakKind::Inserted,
            ),
            (
                "well-forged row inserted, rest renumbered",
                |r| {
                    renumber(r, 5, 1);
                    let event = NewEvent::new("case:9", "case.acted", "system", json!({"forged": true}));
                    let forged = seal(&event, 5, 1, Utc.timestamp_opt(1_795_000_004, 500).unwrap(), r[3].hash);
                    r.push(forged);
                },
                5,
                BreakKind::Inserted,
            ),
            (
                "row rewritten and re-hashed",
                |r| {
                    r[4].payload = r#"{"n":-5}"#.into();
                    r[4].hash = r[4].computed_hash();
                },
                5,
                BreakKind::Edited,
            ),
        ];
        for (name, tamper, seq, kind) in cases {
            let mut rows = chain(10);
            let recorded = head(&rows);
            tamper(&mut rows);
            let found = verify(&rows, recorded, vec![]).expect_err(name);
            assert_eq!((found.seq, found.kind), (seq, kind), "{name}: {found}");
        }
    }

    #[test]
    fn tail_changes_are_caught_by_the_recorded_head() {
        let rows = chain(10);
        let recorded = head(&rows);
        // Last row deleted.
        let found = verify(&rows[..9], recorded, vec![]).unwrap_err();
        assert_eq!((found.seq, found.kind), (10, BreakKind::Deleted), "{found}");
        // A row appended behind the writer's back.
        let mut longer = rows.clone();
        let event = NewEvent::new("case:1", "case.acted", "system", json!({}));
        longer.push(seal(&event, 11, 5, Utc::now(), rows[9].hash));
        let found = verify(&longer, recorded, vec![]).unwrap_err();
        assert_eq!((found.seq, found.kind), (11, BreakKind::Inserted), "{found}");
    }

    #[test]
    fn a_missing_head_record_is_a_deletion() {
        let rows = chain(3);
        let found = verify(&rows, RecordedHead::Missing, vec![]).unwrap_err();
        assert_eq!((found.seq, found.kind), (4, BreakKind::Deleted), "{found}");
        let found = verify(&[], RecordedHead::Missing, vec![]).unwrap_err();
        assert_eq!((found.seq, found.kind), (1, BreakKind::Deleted), "emptied journal and head: {found}");
        let found = verify(&rows, RecordedHead::Empty, vec![]).unwrap_err();
        assert_eq!((found.seq, found.kind), (1, BreakKind::Inserted), "rows behind an empty head: {found}");
    }

    #[test]
    fn published_checkpoints_catch_a_rewritten_tail() {
        let rows = chain(10);
        let published = vec![Checkpoint { seq: 6, hash: rows[5].hash }];
        // The attacker rewrites rows 6.. consistently and updates the recorded head too.
        let mut rewritten = rows[..5].to_vec();
        let mut prev = rows[4].hash;
        for seq in 6..=10u64 {
            let event = NewEvent::new(format!("case:{}", seq % 3), "case.acted", "system", json!({"n": -(seq as i64)}));
            let stream_seq = rows[seq as usize - 1].stream_seq;
            let row = seal(&event, seq, stream_seq, rows[seq as usize - 1].recorded_at, prev);
            prev = row.hash;
            rewritten.push(row);
        }
        let forged_head = head(&rewritten);
        assert!(verify(&rewritten, forged_head, vec![]).is_ok(), "without a published checkpoint the rewrite is invisible");
        let found = verify(&rewritten, forged_head, published.clone()).unwrap_err();
        assert_eq!((found.seq, found.kind), (6, BreakKind::Edited), "{found}");
        // Truncation below a published checkpoint.
        let found = verify(&rows[..4], head(&rows[..4]), published).unwrap_err();
        assert_eq!((found.seq, found.kind), (5, BreakKind::Deleted), "{found}");
    }

    #[derive(Debug, Clone)]
    enum Tamper {
        Edit(usize),
        Delete(usize),
        DeleteRenumber(usize),
        Swap(usize, usize),
        Insert(usize),
    }

    fn arb_tamper(n: usize) -> impl Strategy<Value = Tamper> {
        prop_oneof![
            (0..n).prop_map(Tamper::Edit),
            (0..n).prop_map(Tamper::Delete),
            (0..n - 1).prop_map(Tamper::DeleteRenumber),
            (0..n, 0..n).prop_filter("distinct", |(a, b)| a != b).prop_map(|(a, b)| Tamper::Swap(a, b)),
            (0..n).prop_map(Tamper::Insert),
        ]
    }

    proptest! {
        #[test]
        fn any_single_tampering_is_detected_at_or_before_its_row(t in arb_tamper(12)) {
            let mut rows = chain(12);
            let recorded = head(&rows);
            let first_touched = match t.clone() {
                Tamper::Edit(i) => { rows[i].payload = r#"{"x":0}"#.into(); i as u64 + 1 }
                Tamper::Delete(i) => { rows.remove(i); i as u64 + 1 }
                Tamper::DeleteRenumber(i) => { rows.remove(i); renumber(&mut rows, i as u64 + 2, -1); i as u64 + 1 }
                Tamper::Swap(a, b) => { let (sa, sb) = (rows[a].seq, rows[b].seq); rows[a].seq = sb; rows[b].seq = sa; a.min(b) as u64 + 1 }
                Tamper::Insert(i) => {
                    renumber(&mut rows, i as u64 + 1, 1);
                    let mut forged = rows[0].clone();
                    forged.seq = i as u64 + 1;
                    forged.payload = r#"{"forged":1}"#.into();
                    rows.push(forged);
                    i as u64 + 1
                }
            };
            let found = verify(&rows, recorded, vec![]);
            prop_assert!(found.is_err(), "{:?} went unnoticed", t);
            let found = found.unwrap_err();
            prop_assert!(found.seq <= first_touched, "{:?} reported at {} after {}", t, found.seq, first_touched);
        }
    }
}
