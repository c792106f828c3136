//! Leader/follower group commit over the single write connection.
//!
//! A caller queues its change. If no commit is in progress it becomes the leader: it takes every
//! queued change (up to `max_batch`), commits them in one transaction on its own thread and hands
//! each follower its result. Callers that arrive meanwhile wait on a condition variable and form
//! the next group; one of them leads it. An uncontended commit therefore runs on the caller's own
//! thread with no hand-off (on a 2-core VM a thread wake-up costs tens of microseconds, a fifth of
//! a fast disk's flush), and concurrent callers still share one fsync.
//!
//! Async callers enter through [`GroupCommit::commit`], which runs the blocking part with
//! `block_in_place` on a multi-threaded runtime (and `spawn_blocking` otherwise).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use fq_store::{Change, Committed, StoreError};
use rusqlite::Connection;
use tokio::runtime::{Handle, RuntimeFlavor};

use crate::writer;

type Outcome = Result<Committed, StoreError>;

/// One queued change and, once its group has committed, its outcome.
#[derive(Debug)]
struct Slot {
    change: Mutex<Option<Change>>,
    outcome: Mutex<Option<Outcome>>,
}

#[derive(Debug, Default)]
struct Queue {
    waiting: VecDeque<Arc<Slot>>,
    leading: bool,
    closed: bool,
}

/// Counters of the group commit, for benchmarks and metrics.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Transactions committed (one fsync each).
    pub(crate) groups: AtomicU64,
    /// Changes answered by those transactions.
    pub(crate) changes: AtomicU64,
}

#[derive(Debug)]
struct Shared {
    queue: Mutex<Queue>,
    turn: Condvar,
    /// Only the leader locks it, so it is never contended; `None` once closed.
    conn: Mutex<Option<Connection>>,
    max_batch: usize,
    counters: Counters,
}

/// The write side of the SQLite store.
#[derive(Debug, Clone)]
pub(crate) struct GroupCommit {
    shared: Arc<Shared>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these locks leaves nothing half-done that a later caller could
    // observe (the transaction rolls back when the connection is reused), so poison is ignored.
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl GroupCommit {
    pub(crate) fn new(conn: Connection, max_batch: usize) -> GroupCommit {
        GroupCommit {
            shared: Arc::new(Shared {
                queue: Mutex::new(Queue::default()),
                turn: Condvar::new(),
                conn: Mutex::new(Some(conn)),
                max_batch: max_batch.max(1),
                counters: Counters::default(),
            }),
        }
    }

    pub(crate) fn counters(&self) -> (u64, u64) {
        let c = &self.shared.counters;
        (c.groups.load(Ordering::Relaxed), c.changes.load(Ordering::Relaxed))
    }

    /// Commits `change` durably (or answers why not).
    pub(crate) async fn commit(&self, change: Change) -> Outcome {
        let shared = Arc::clone(&self.shared);
        match Handle::try_current().map(|h| h.runtime_flavor()) {
            Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(move || shared.commit(change)),
            _ => tokio::task::spawn_blocking(move || shared.commit(change)).await.map_err(StoreError::backend)?,
        }
    }

    /// Lets queued changes finish, then closes the write connection. Later commits get
    /// [`StoreError::Closed`].
    pub(crate) async fn shutdown(&self) {
        let shared = Arc::clone(&self.shared);
        let _ = tokio::task::spawn_blocking(move || shared.shutdown()).await;
    }
}

impl Shared {
    fn commit(&self, change: Change) -> Outcome {
        let slot = Arc::new(Slot { change: Mutex::new(Some(change)), outcome: Mutex::new(None) });
        let mut queue = lock(&self.queue);
        if queue.closed {
            return Err(StoreError::Closed);
        }
        queue.waiting.push_back(Arc::clone(&slot));
        loop {
            if let Some(outcome) = lock(&slot.outcome).take() {
                return outcome;
            }
            if !queue.leading {
                queue.leading = true;
                let take = queue.waiting.len().min(self.max_batch);
                let group: Vec<Arc<Slot>> = queue.waiting.drain(..take).collect();
                drop(queue);
                if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.lead(&group))).is_err() {
                    self.recover_from_panic(&group);
                }
                queue = lock(&self.queue);
                queue.leading = false;
                self.turn.notify_all();
                continue;
            }
            queue = self.turn.wait(queue).unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }

    /// Commits one group and stores every member's outcome.
    fn lead(&self, group: &[Arc<Slot>]) {
        let changes: Vec<Change> = group.iter().map(|slot| lock(&slot.change).take().expect("a queued change")).collect();
        let outcomes = match lock(&self.conn).as_ref() {
            Some(conn) => {
                let outcomes = writer::commit_group(conn, &changes);
                if outcomes.committed {
                    self.counters.groups.fetch_add(1, Ordering::Relaxed);
                    self.counters.changes.fetch_add(changes.len() as u64, Ordering::Relaxed);
                }
                outcomes.results
            }
            None => changes.iter().map(|_| Err(StoreError::Closed)).collect(),
        };
        for (slot, outcome) in group.iter().zip(outcomes) {
            *lock(&slot.outcome) = Some(outcome);
        }
    }

    /// A bug panicked inside a commit. Every member of the group still waiting gets an error (none
    /// was acknowledged), and an open transaction is rolled back so that the next group starts
    /// clean; the writers queued behind are not left waiting.
    fn recover_from_panic(&self, group: &[Arc<Slot>]) {
        tracing::error!(changes = group.len(), "a commit panicked; its group is answered with an error");
        for slot in group {
            let mut outcome = lock(&slot.outcome);
            if outcome.is_none() {
                *outcome = Some(Err(StoreError::Backend("the commit failed unexpectedly; see the server log".into())));
            }
        }
        if let Some(conn) = lock(&self.conn).as_ref()
            && !conn.is_autocommit()
        {
            let _ = conn.execute_batch("ROLLBACK");
        }
    }

    fn shutdown(&self) {
        let mut queue = lock(&self.queue);
        queue.closed = true;
        // Everything queued before the close is committed by its callers; wait for them.
        while queue.leading || !queue.waiting.is_empty() {
            queue = self.turn.wait(queue).unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        drop(queue);
        lock(&self.conn).take();
    }
}
