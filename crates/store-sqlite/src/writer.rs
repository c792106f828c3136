//! One group commit on the write connection: every change of the group under its own savepoint
//! inside one `BEGIN IMMEDIATE` transaction, the new journal head, one `COMMIT` (one fsync).
//!
//! A change that fails is rolled back to its savepoint and answered with its error; the others
//! still commit. If the commit itself fails, every change in the group gets the error and none is
//! acknowledged. Who calls this, and when, is `group_commit`'s business.

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::{SubsecRound, Utc};
use fq_domain::journal::{Hash, NewEvent, Seal, journal_time, seal_event};
use fq_store::{Change, Committed, Expectation, StoreError};
use rusqlite::{Connection, OptionalExtension, params};

use crate::ops;

/// The chain position after the last committed event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Head {
    seq: u64,
    hash: Hash,
}

/// What a group commit answers.
pub(crate) struct GroupOutcome {
    /// The transaction committed (some changes in it may still have been refused).
    pub(crate) committed: bool,
    /// One result per change, in order.
    pub(crate) results: Vec<Result<Committed, StoreError>>,
}

/// Commits `group` in one transaction.
pub(crate) fn commit_group(conn: &Connection, group: &[Change]) -> GroupOutcome {
    match apply_group(conn, group) {
        Ok(results) => GroupOutcome { committed: true, results },
        Err(err) => {
            let _ = conn.execute_batch("ROLLBACK");
            tracing::error!(error = %err, changes = group.len(), "SQLite commit failed; nothing in the group was written");
            let results = group.iter().map(|_| Err(err.for_each_change())).collect();
            GroupOutcome { committed: false, results }
        }
    }
}

/// Runs a transaction-control statement through the statement cache.
fn exec(conn: &Connection, sql: &str) -> Result<(), StoreError> {
    conn.prepare_cached(sql).and_then(|mut stmt| stmt.execute([])).map(|_| ()).map_err(StoreError::backend)
}

fn apply_group(conn: &Connection, group: &[Change]) -> Result<Vec<Result<Committed, StoreError>>, StoreError> {
    exec(conn, "BEGIN IMMEDIATE")?;
    // Read the head inside the transaction: another process (an import from the CLI) may have
    // appended since our last commit.
    let start = read_head(conn)?;
    // One commit time for the whole group, taken once the write lock is ours (so that times
    // follow the chain even when the lock had to be waited for), formatted once.
    let now = journal_time(Utc::now().trunc_subsecs(6));
    let now = now.as_str();
    let mut head = start;
    let mut results = Vec::with_capacity(group.len());
    if let [change] = group {
        // Alone in its group: the transaction itself is the change's boundary.
        match apply_change(conn, change, &mut head, now) {
            Ok(committed) => results.push(Ok(committed)),
            Err(err) => {
                exec(conn, "ROLLBACK")?;
                return Ok(vec![Err(err)]);
            }
        }
    } else {
        for change in group {
            exec(conn, "SAVEPOINT change")?;
            let before = head;
            match apply_change(conn, change, &mut head, now) {
                Ok(committed) => {
                    exec(conn, "RELEASE change")?;
                    results.push(Ok(committed));
                }
                Err(err) => {
                    exec(conn, "ROLLBACK TO change")?;
                    exec(conn, "RELEASE change")?;
                    head = before;
                    results.push(Err(err));
                }
            }
        }
    }
    if head != start {
        conn.prepare_cached("UPDATE journal_head SET seq = ?1, hash = ?2 WHERE id = 1")
            .and_then(|mut stmt| stmt.execute(params![head.seq as i64, &*head.hash.hex()]))
            .map_err(StoreError::backend)?;
    }
    exec(conn, "COMMIT")?;
    Ok(results)
}

/// A sealed event on its way into the journal table.
struct Row<'a> {
    event: &'a NewEvent,
    seq: u64,
    stream_seq: u64,
    prev_hash: Hash,
    seal: Seal,
}

const INSERT_ONE: &str =
    "INSERT INTO journal (seq, stream, stream_seq, kind, actor, recorded_at, occurred_at, payload, prev_hash, hash)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";

/// Rows per multi-row INSERT: fewer statement executions for imports (640 parameters, far below
/// SQLite's limit of 32,766).
const ROWS_PER_INSERT: usize = 64;

fn insert_many_sql() -> &'static str {
    static SQL: OnceLock<String> = OnceLock::new();
    SQL.get_or_init(|| {
        let values = vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"; ROWS_PER_INSERT].join(", ");
        format!("INSERT INTO journal (seq, stream, stream_seq, kind, actor, recorded_at, occurred_at, payload, prev_hash, hash) VALUES {values}")
    })
}

fn bind_row(stmt: &mut rusqlite::Statement<'_>, first: usize, row: &Row<'_>, now: &str) -> rusqlite::Result<()> {
    stmt.raw_bind_parameter(first, row.seq as i64)?;
    stmt.raw_bind_parameter(first + 1, row.event.stream.as_str())?;
    stmt.raw_bind_parameter(first + 2, row.stream_seq as i64)?;
    stmt.raw_bind_parameter(first + 3, row.event.kind.as_str())?;
    stmt.raw_bind_parameter(first + 4, row.event.actor.as_str())?;
    stmt.raw_bind_parameter(first + 5, now)?;
    stmt.raw_bind_parameter(first + 6, row.seal.occurred_at.as_deref())?;
    stmt.raw_bind_parameter(first + 7, row.event.payload())?;
    stmt.raw_bind_parameter(first + 8, &*row.prev_hash.hex())?;
    stmt.raw_bind_parameter(first + 9, &*row.seal.hash.hex())
}

fn insert_rows(conn: &Connection, rows: &[Row<'_>], now: &str) -> Result<(), StoreError> {
    let mut chunks = rows.chunks_exact(ROWS_PER_INSERT);
    if chunks.len() > 0 {
        let mut many = conn.prepare_cached(insert_many_sql()).map_err(StoreError::backend)?;
        for chunk in chunks.by_ref() {
            for (idx, row) in chunk.iter().enumerate() {
                bind_row(&mut many, idx * 10 + 1, row, now).map_err(StoreError::backend)?;
            }
            many.raw_execute().map_err(StoreError::backend)?;
        }
    }
    let mut one = conn.prepare_cached(INSERT_ONE).map_err(StoreError::backend)?;
    for row in chunks.remainder() {
        bind_row(&mut one, 1, row, now).map_err(StoreError::backend)?;
        one.raw_execute().map_err(StoreError::backend)?;
    }
    Ok(())
}

fn read_head(conn: &Connection) -> Result<Head, StoreError> {
    let row: Option<(i64, String)> = conn
        .prepare_cached("SELECT seq, hash FROM journal_head WHERE id = 1")
        .and_then(|mut stmt| stmt.query_row([], |row| Ok((row.get(0)?, row.get(1)?))).optional())
        .map_err(StoreError::backend)?;
    // The migration creates the row and a trigger keeps it; without it nothing may be appended.
    let (seq, hash) =
        row.ok_or_else(|| StoreError::corrupt("journal head", "the row is missing: run `fengqiao audit verify`"))?;
    Ok(Head {
        seq: u64::try_from(seq).map_err(|_| StoreError::corrupt("journal head", format!("sequence number {seq}")))?,
        hash: Hash::parse(&hash).map_err(|e| StoreError::corrupt("journal head", e))?,
    })
}

fn stream_version(conn: &Connection, stream: &str) -> Result<u64, StoreError> {
    conn.prepare_cached("SELECT COALESCE(MAX(stream_seq), 0) FROM journal WHERE stream = ?1")
        .and_then(|mut stmt| stmt.query_row([stream], |row| row.get::<_, i64>(0)))
        .map(|v| v as u64)
        .map_err(StoreError::backend)
}

fn apply_change(conn: &Connection, change: &Change, head: &mut Head, now: &str) -> Result<Committed, StoreError> {
    for expectation in &change.expect {
        match expectation {
            Expectation::StreamVersion { stream, version } => {
                let actual = stream_version(conn, stream)?;
                if actual != *version {
                    return Err(StoreError::StreamMoved { stream: stream.clone(), expected: *version, actual });
                }
            }
        }
    }
    for op in &change.ops {
        ops::apply(conn, op)?;
    }
    let first_seq = head.seq + 1;
    // Seal every event first (each hash needs the one before), then write them in bulk.
    let mut versions: HashMap<&str, u64> = HashMap::new();
    let mut sealed = Vec::with_capacity(change.events.len());
    for event in &change.events {
        let version = match versions.get_mut(event.stream.as_str()) {
            Some(version) => version,
            None => versions.entry(event.stream.as_str()).or_insert(stream_version(conn, &event.stream)?),
        };
        *version += 1;
        let seq = head.seq + 1;
        let seal = seal_event(event, seq, *version, now, &head.hash);
        let hash = seal.hash;
        sealed.push(Row { event, seq, stream_seq: *version, prev_hash: head.hash, seal });
        *head = Head { seq, hash };
    }
    insert_rows(conn, &sealed, now)?;
    let first_seq = if change.events.is_empty() { head.seq } else { first_seq };
    Ok(Committed { first_seq, last_seq: head.seq, head: head.hash })
}
