//! Background WAL checkpoints.
//!
//! SQLite normally checkpoints inside the commit that pushes the WAL past 1,000 pages, so every
//! few hundred commits one caller waits for the database file to be written and synced. Here a
//! thread of its own runs a PASSIVE checkpoint (which never blocks writers) ten times a second, and
//! the write connection keeps an inline checkpoint only as a backstop for a WAL that outgrows
//! `INLINE_CHECKPOINT_PAGES` under a sustained load that never leaves the background one a gap.

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use fq_store::StoreError;
use rusqlite::{Connection, OpenFlags};

/// The write connection checkpoints by itself only past this many WAL pages (64 MiB).
pub(crate) const INLINE_CHECKPOINT_PAGES: u32 = 16_384;

const INTERVAL: Duration = Duration::from_millis(100);

#[derive(Debug)]
pub(crate) struct Checkpointer {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Checkpointer {
    pub(crate) fn start(path: &Path) -> Result<Checkpointer, StoreError> {
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(StoreError::backend)?;
        conn.execute_batch("PRAGMA busy_timeout=1000;").map_err(StoreError::backend)?;
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let signal = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("fq-sqlite-checkpoint".into())
            .spawn(move || run(&conn, &signal))
            .map_err(StoreError::backend)?;
        Ok(Checkpointer { stop, thread: Mutex::new(Some(thread)) })
    }

    /// Stops the thread (blocking; call from the blocking pool).
    pub(crate) fn stop(&self) {
        let (flag, wake) = &*self.stop;
        *flag.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = true;
        wake.notify_all();
        if let Some(thread) = self.thread.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take() {
            let _ = thread.join();
        }
    }
}

fn run(conn: &Connection, stop: &(Mutex<bool>, Condvar)) {
    let (flag, wake) = stop;
    let mut stopped = flag.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    while !*stopped {
        stopped = wake.wait_timeout(stopped, INTERVAL).unwrap_or_else(std::sync::PoisonError::into_inner).0;
        if *stopped {
            break;
        }
        // A failed checkpoint (busy, or the disk) is retried at the next tick; the WAL keeps
        // every committed frame until one succeeds.
        if let Err(err) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %err, "background WAL checkpoint failed; retrying");
        }
    }
}
