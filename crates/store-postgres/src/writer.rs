//! Group commit for PostgreSQL: one task per process takes every queued change, applies each
//! under a savepoint in one transaction that holds the journal lock, and commits once.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::Utc;
use fq_domain::journal::{Hash, journal_time, seal};
use fq_store::{Change, Committed, Expectation, StoreError};
use sqlx::{PgConnection, PgPool};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::ops;

type Reply = oneshot::Sender<Result<Committed, StoreError>>;

enum Job {
    Commit(Change, Reply),
    Shutdown,
}

#[derive(Debug)]
pub(crate) struct Writer {
    queue: mpsc::UnboundedSender<Job>,
    task: Mutex<Option<JoinHandle<()>>>,
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
    pub(crate) fn start(pool: PgPool, max_batch: usize) -> Writer {
        let (queue, jobs) = mpsc::unbounded_channel();
        let task = tokio::spawn(run(pool, jobs, max_batch.max(1)));
        Writer { queue, task: Mutex::new(Some(task)) }
    }

    pub(crate) async fn commit(&self, change: Change) -> Result<Committed, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.queue.send(Job::Commit(change, reply)).map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    pub(crate) async fn shutdown(&self) {
        let _ = self.queue.send(Job::Shutdown);
        let task = self.task.lock().expect("writer handle lock").take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

async fn run(pool: PgPool, mut jobs: mpsc::UnboundedReceiver<Job>, max_batch: usize) {
    let mut group: Vec<(Change, Reply)> = Vec::with_capacity(max_batch);
    loop {
        match jobs.recv().await {
            Some(Job::Commit(change, reply)) => group.push((change, reply)),
            Some(Job::Shutdown) | None => return,
        }
        let mut stop = false;
        while group.len() < max_batch {
            match jobs.try_recv() {
                Ok(Job::Commit(change, reply)) => group.push((change, reply)),
                Ok(Job::Shutdown) => {
                    stop = true;
                    break;
                }
                Err(_) => break,
            }
        }
        match apply_group(&pool, &group).await {
            Ok(results) => {
                for ((_, reply), result) in group.drain(..).zip(results) {
                    let _ = reply.send(result);
                }
            }
            Err(err) => {
                tracing::error!(error = %err, changes = group.len(), "PostgreSQL commit failed; nothing in the group was written");
                for (_, reply) in group.drain(..) {
                    let _ = reply.send(Err(err.for_each_change()));
                }
            }
        }
        if stop {
            return;
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Head {
    seq: u64,
    hash: Hash,
}

async fn exec(conn: &mut PgConnection, sql: &'static str) -> Result<(), StoreError> {
    sqlx::query(sql).execute(conn).await.map(|_| ()).map_err(StoreError::backend)
}

async fn apply_group(pool: &PgPool, group: &[(Change, Reply)]) -> Result<Vec<Result<Committed, StoreError>>, StoreError> {
    let mut tx = pool.begin().await.map_err(StoreError::backend)?;
    // The journal lock: held until COMMIT, it orders appends across all server processes.
    let head_row: Option<(i64, String)> = sqlx::query_as("SELECT seq, hash FROM journal_head WHERE id = 1 FOR UPDATE")
        .fetch_optional(&mut *tx)
        .await
        .map_err(StoreError::backend)?;
    // The migration creates the row and a trigger keeps it; without it nothing may be appended.
    let (seq, hash) =
        head_row.ok_or_else(|| StoreError::corrupt("journal head", "the row is missing: run `fengqiao audit verify`"))?;
    let start = Head { seq: seq as u64, hash: Hash::parse(&hash).map_err(|e| StoreError::corrupt("journal head", e))? };
    // Taken after the lock, so recorded times follow the chain order across processes.
    let now = Utc::now();
    let mut head = start;
    let mut results = Vec::with_capacity(group.len());
    for (change, _) in group {
        exec(&mut tx, "SAVEPOINT change").await?;
        let before = head;
        match apply_change(&mut tx, change, &mut head, now).await {
            Ok(committed) => {
                exec(&mut tx, "RELEASE SAVEPOINT change").await?;
                results.push(Ok(committed));
            }
            Err(err) => {
                exec(&mut tx, "ROLLBACK TO SAVEPOINT change").await?;
                exec(&mut tx, "RELEASE SAVEPOINT change").await?;
                head = before;
                results.push(Err(err));
            }
        }
    }
    if head != start {
        sqlx::query("UPDATE journal_head SET seq = $1, hash = $2 WHERE id = 1")
            .bind(head.seq as i64)
            .bind(head.hash.to_hex())
            .execute(&mut *tx)
            .await
            .map_err(StoreError::backend)?;
    }
    tx.commit().await.map_err(StoreError::backend)?;
    Ok(results)
}

async fn stream_version(conn: &mut PgConnection, stream: &str) -> Result<u64, StoreError> {
    sqlx::query_scalar::<_, i64>("SELECT COALESCE(MAX(stream_seq), 0) FROM journal WHERE stream = $1")
        .bind(stream)
        .fetch_one(conn)
        .await
        .map(|v| v as u64)
        .map_err(StoreError::backend)
}

async fn apply_change(
    conn: &mut PgConnection,
    change: &Change,
    head: &mut Head,
    now: chrono::DateTime<Utc>,
) -> Result<Committed, StoreError> {
    for expectation in &change.expect {
        match expectation {
            Expectation::StreamVersion { stream, version } => {
                let actual = stream_version(conn, stream).await?;
                if actual != *version {
                    return Err(StoreError::StreamMoved { stream: stream.clone(), expected: *version, actual });
                }
            }
        }
    }
    for op in &change.ops {
        ops::apply(conn, op).await?;
    }
    let first_seq = head.seq + 1;
    let mut versions: HashMap<&str, u64> = HashMap::new();
    for event in &change.events {
        let current = match versions.get(event.stream.as_str()) {
            Some(v) => *v,
            None => stream_version(conn, &event.stream).await?,
        };
        let version = current + 1;
        versions.insert(event.stream.as_str(), version);
        let record = seal(event, head.seq + 1, version, now, head.hash);
        sqlx::query(
            "INSERT INTO journal (seq, stream, stream_seq, kind, actor, recorded_at, occurred_at, payload, prev_hash, hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(record.seq as i64)
        .bind(&record.stream)
        .bind(record.stream_seq as i64)
        .bind(&record.kind)
        .bind(&record.actor)
        .bind(record.recorded_at)
        .bind(record.occurred_at)
        .bind(&record.payload)
        .bind(record.prev_hash.to_hex())
        .bind(record.hash.to_hex())
        .execute(&mut *conn)
        .await
        .map_err(|e| {
            StoreError::Backend(format!("cannot append event {} ({}): {e}", record.seq, journal_time(record.recorded_at)))
        })?;
        *head = Head { seq: record.seq, hash: record.hash };
    }
    let first_seq = if change.events.is_empty() { head.seq } else { first_seq };
    Ok(Committed { first_seq, last_seq: head.seq, head: head.hash })
}
