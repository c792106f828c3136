//! Leader/follower group commit over the single write connection.
//!
//! A caller queues its change. If no commit is in progress it becomes the leader: it takes every
//! queued change (up to `max_batch`), commits them in one transaction on its own thread and hands
//! each follower its result. Callers that arrive meanwhile wait on a condition variable and form
//! the next group; one of them leads it. An uncontended commit therefore runs on the caller's own
//! thread with no hand-off (on a 2-core VM a thread wake-up costs tens of microseconds, a fifth of
//! a fast disk's flush), and concurrent callers still share one fsync.
//!
//! Async callers enter through [`GroupCommit::commit`]. On a multi-threaded runtime a follower
//! waits asynchronously (its worker thread goes on serving other tasks) and only a leader blocks,
//! through `block_in_place`, while it commits; when it is done it wakes its group's members and
//! the first change still queued, whose caller leads next. With every follower parked on a
//! condition variable instead, 16 concurrent callers kept 16 threads blocked and the runtime
//! replaced each one, and thread switches took a sixth of the CPU (`fengqiao bench engine`).
//! Elsewhere (a current-thread runtime, plain threads) callers wait on the condition variable.

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
    /// Wakes an async caller: its outcome is in, or it is first in the queue and may lead. A
    /// wake-up sent before the caller waits is kept (a `Notify` permit), so none is lost.
    ready: tokio::sync::Notify,
}

impl Slot {
    fn new(change: Change) -> Arc<Slot> {
        Arc::new(Slot { change: Mutex::new(Some(change)), outcome: Mutex::new(None), ready: tokio::sync::Notify::new() })
    }
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
            Ok(RuntimeFlavor::MultiThread) => shared.commit_async(change).await,
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

/// An async caller's place in the queue. If its future is dropped (the request was cancelled)
/// before a leader took its change, the change is withdrawn, uncommitted, and the caller next in
/// line is woken in its place, so that the lead is never handed to no one.
struct Queued<'a> {
    shared: &'a Shared,
    slot: Arc<Slot>,
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        let mut queue = lock(&self.shared.queue);
        let Some(at) = queue.waiting.iter().position(|s| Arc::ptr_eq(s, &self.slot)) else { return };
        queue.waiting.remove(at);
        if !queue.leading
            && let Some(next) = queue.waiting.front()
        {
            next.ready.notify_one();
        }
        drop(queue);
        self.shared.turn.notify_all();
    }
}

impl Shared {
    /// The blocking caller's way: wait on the condition variable, lead when no one does.
    fn commit(&self, change: Change) -> Outcome {
        let slot = Slot::new(change);
        let mut queue = lock(&self.queue);
        if queue.closed {
            return Err(StoreError::Closed);
        }
        queue.waiting.push_back(Arc::clone(&slot));
        loop {
            if let Some(outcome) = lock(&slot.outcome).take() {
                return outcome;
            }
            if let Some(group) = self.take_lead(&mut queue) {
                drop(queue);
                self.lead_group(&group);
                queue = lock(&self.queue);
                continue;
            }
            queue = self.turn.wait(queue).unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }

    /// The async caller's way (multi-threaded runtime): wait without holding a thread, lead
    /// in `block_in_place` when no one does.
    async fn commit_async(&self, change: Change) -> Outcome {
        let slot = Slot::new(change);
        {
            let mut queue = lock(&self.queue);
            if queue.closed {
                return Err(StoreError::Closed);
            }
            queue.waiting.push_back(Arc::clone(&slot));
        }
        let _queued = Queued { shared: self, slot: Arc::clone(&slot) };
        loop {
            if let Some(outcome) = lock(&slot.outcome).take() {
                return outcome;
            }
            let group = self.take_lead(&mut lock(&self.queue));
            match group {
                Some(group) => tokio::task::block_in_place(|| self.lead_group(&group)),
                None => slot.ready.notified().await,
            }
        }
    }

    /// Becomes the leader if no one is, taking the queued changes of the next group.
    fn take_lead(&self, queue: &mut Queue) -> Option<Vec<Arc<Slot>>> {
        if queue.leading || queue.waiting.is_empty() {
            return None;
        }
        queue.leading = true;
        let take = queue.waiting.len().min(self.max_batch);
        Some(queue.waiting.drain(..take).collect())
    }

    /// Commits `group` as its leader, answers its members, and hands the lead on: blocking
    /// waiters are woken all at once, the first async one still queued is woken to lead.
    fn lead_group(&self, group: &[Arc<Slot>]) {
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.lead(group))).is_err() {
            self.recover_from_panic(group);
        }
        for slot in group {
            slot.ready.notify_one();
        }
        let mut queue = lock(&self.queue);
        queue.leading = false;
        if let Some(next) = queue.waiting.front() {
            next.ready.notify_one();
        }
        drop(queue);
        self.turn.notify_all();
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    async fn queued(gc: &GroupCommit, n: usize) {
        for _ in 0..1_000 {
            if lock(&gc.shared.queue).waiting.len() == n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        panic!("the queue never held {n} changes");
    }

    /// A follower whose request is dropped while a leader works must not be handed the lead:
    /// the next follower leads, and shutdown does not wait for the dropped one.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_dropped_follower_hands_the_lead_on() {
        let gc = GroupCommit::new(Connection::open_in_memory().unwrap(), 64);
        lock(&gc.shared.queue).leading = true; // a leader at work

        let dropped = tokio::spawn({
            let gc = gc.clone();
            async move { gc.commit(Change::new()).await }
        });
        queued(&gc, 1).await;
        dropped.abort();
        assert!(dropped.await.unwrap_err().is_cancelled());
        assert_eq!(lock(&gc.shared.queue).waiting.len(), 0, "the dropped change is withdrawn");

        let patient = tokio::spawn({
            let gc = gc.clone();
            async move { gc.commit(Change::new()).await }
        });
        queued(&gc, 1).await;
        gc.shared.lead_group(&[]); // the leader finishes
        let answer = tokio::time::timeout(Duration::from_secs(10), patient).await;
        assert!(answer.is_ok(), "the patient follower was never woken to lead");
        tokio::time::timeout(Duration::from_secs(10), gc.shutdown()).await.expect("shutdown waits for no one");
    }
}
