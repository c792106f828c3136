//! The single writer thread and its group commit.
//!
//! Callers queue a change and wait for its reply. The thread takes the first queued change and
//! everything else already waiting (up to `max_batch`), applies each under a savepoint inside one
//! `BEGIN IMMEDIATE` transaction, writes the new journal head, commits (one fsync for the whole
//! group), and only then replies. A change that fails is rolled back to its savepoint and answered
//! with its error; the others still commit. If the commit itself fails, every change in the group
//! is answered with the error and none is acknowledged.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};
use std::thread::JoinHandle;

use chrono::{DateTime, Utc};
use fq_domain::journal::{Hash, seal};
use fq_store::{Change, Committed, Expectation, StoreError};
use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::oneshot;

use crate::ops;

type Reply = oneshot::Sender<Result<Committed, StoreError>>;

enum Job {
    Commit(Change, Reply),
    Shutdown,
}

/// Handle to the writer thread.
#[derive(Debug)]
pub(crate) struct Writer {
    queue: Sender<Job>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Job::Commit(..) => "Commit",
            Job::Shutdown => "Shutdown",
        })
    }
}

impl Writer {
    pub(crate) fn start(conn: Connection, max_batch: usize) -> Result<Writer, StoreError> {
        let (queue, jobs) = channel();
        let thread = std::thread::Builder::new()
            .name("fq-sqlite-writer".into())
            .spawn(move || run(&conn, &jobs, max_batch.max(1)))
            .map_err(StoreError::backend)?;
        Ok(Writer { queue, thread: Mutex::new(Some(thread)) })
    }

    pub(crate) async fn commit(&self, change: Change) -> Result<Committed, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.queue.send(Job::Commit(change, reply)).map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Lets queued changes finish, then stops the thread and closes the write connection.
    pub(crate) async fn shutdown(&self) {
        let _ = self.queue.send(Job::Shutdown);
        let thread = self.thread.lock().expect("writer handle lock").take();
        if let Some(thread) = thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

fn run(conn: &Connection, jobs: &Receiver<Job>, max_batch: usize) {
    let mut group: Vec<(Change, Reply)> = Vec::with_capacity(max_batch);
    loop {
        match jobs.recv() {
            Ok(Job::Commit(change, reply)) => group.push((change, reply)),
            Ok(Job::Shutdown) | Err(_) => return,
        }
        let mut stop = false;
        while group.len() < max_batch {
            match jobs.try_recv() {
                Ok(Job::Commit(change, reply)) => group.push((change, reply)),
                Ok(Job::Shutdown) => {
                    stop = true;
                    break;
                }
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        commit_group(conn, &mut group);
        if stop {
            return;
        }
    }
}

/// The chain position after the last committed event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Head {
    seq: u64,
    hash: Hash,
}

fn commit_group(conn: &Connection, group: &mut Vec<(Change, Reply)>) {
    let now = Utc::now();
    let outcome = apply_group(conn, group, now);
    match outcome {
        Ok(results) => {
            for ((_, reply), result) in group.drain(..).zip(results) {
                let _ = reply.send(result);
            }
        }
        Err(err) => {
            let _ = conn.execute_batch("ROLLBACK");
            tracing::error!(error = %err, changes = group.len(), "SQLite commit failed; nothing in the group was written");
            let reason = err.to_string();
            for (_, reply) in group.drain(..) {
                let _ = reply.send(Err(StoreError::Backend(format!("commit failed: {reason}"))));
            }
        }
    }
}

fn apply_group(conn: &Connection, group: &[(Change, Reply)], now: DateTime<Utc>) -> Result<Vec<Result<Committed, StoreError>>, StoreError> {
    conn.execute_batch("BEGIN IMMEDIATE").map_err(StoreError::backend)?;
    // Read the head inside the transaction: another process (an import from the CLI) may have
    // appended since our last commit.
    let start = read_head(conn)?;
    let mut head = start;
    let mut results = Vec::with_capacity(group.len());
    for (change, _) in group {
        conn.execute_batch("SAVEPOINT change").map_err(StoreError::backend)?;
        let before = head;
        match apply_change(conn, change, &mut head, now) {
            Ok(committed) => {
                conn.execute_batch("RELEASE change").map_err(StoreError::backend)?;
                results.push(Ok(committed));
            }
            Err(err) => {
                conn.execute_batch("ROLLBACK TO change; RELEASE change").map_err(StoreError::backend)?;
                head = before;
                results.push(Err(err));
            }
        }
    }
    if head != start {
        conn.prepare_cached(
            "INSERT INTO journal_head (id, seq, hash) VALUES (1, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
        )
        .and_then(|mut stmt| stmt.execute(params![head.seq as i64, head.hash.to_hex()]))
        .map_err(StoreError::backend)?;
    }
    conn.execute_batch("COMMIT").map_err(StoreError::backend)?;
    Ok(results)
}

fn read_head(conn: &Connection) -> Result<Head, StoreError> {
    let row: Option<(i64, String)> = conn
        .prepare_cached("SELECT seq, hash FROM journal_head WHERE id = 1")
        .and_then(|mut stmt| stmt.query_row([], |row| Ok((row.get(0)?, row.get(1)?))).optional())
        .map_err(StoreError::backend)?;
    match row {
        None => Ok(Head { seq: 0, hash: Hash::GENESIS }),
        Some((seq, hash)) => Ok(Head {
            seq: seq as u64,
            hash: Hash::parse(&hash).map_err(|e| StoreError::corrupt("journal head", e))?,
        }),
    }
}

fn stream_version(conn: &Connection, stream: &str) -> Result<u64, StoreError> {
    conn.prepare_cached("SELECT COALESCE(MAX(stream_seq), 0) FROM journal WHERE stream = ?1")
        .and_then(|mut stmt| stmt.query_row([stream], |row| row.get::<_, i64>(0)))
        .map(|v| v as u64)
        .map_err(StoreError::backend)
}

fn apply_change(conn: &Connection, change: &Change, head: &mut Head, now: DateTime<Utc>) -> Result<Committed, StoreError> {
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
    let mut versions: HashMap<&str, u64> = HashMap::new();
    let mut insert = conn
        .prepare_cached(
            "INSERT INTO journal (seq, stream, stream_seq, kind, actor, recorded_at, occurred_at, payload, prev_hash, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )
        .map_err(StoreError::backend)?;
    for event in &change.events {
        let version = match versions.get_mut(event.stream.as_str()) {
            Some(version) => version,
            None => versions.entry(event.stream.as_str()).or_insert(stream_version(conn, &event.stream)?),
        };
        *version += 1;
        let record = seal(event, head.seq + 1, *version, now, head.hash);
        insert
            .execute(params![
                record.seq as i64,
                record.stream,
                record.stream_seq as i64,
                record.kind,
                record.actor,
                fq_domain::journal::journal_time(record.recorded_at),
                record.occurred_at.map(fq_domain::journal::journal_time),
                record.payload,
                record.prev_hash.to_hex(),
                record.hash.to_hex(),
            ])
            .map_err(StoreError::backend)?;
        *head = Head { seq: record.seq, hash: record.hash };
    }
    let first_seq = if change.events.is_empty() { head.seq } else { first_seq };
    Ok(Committed { first_seq, last_seq: head.seq, head: head.hash })
}
