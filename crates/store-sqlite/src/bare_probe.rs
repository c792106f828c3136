//! A reference for benchmarks: the cheapest durable SQLite commit on this disk, one row into a
//! one-column table with the same WAL and `synchronous=FULL` settings as the store. The store's
//! own commits cannot beat it; the distance between the two is what the journal costs.

use std::path::Path;
use std::time::{Duration, Instant};

use fq_store::StoreError;
use rusqlite::Connection;

/// An open scratch database for the probe.
#[derive(Debug)]
pub struct BareCommitProbe {
    conn: Connection,
    next: i64,
}

impl BareCommitProbe {
    /// Creates `bare-probe.db` in `dir`.
    pub fn open(dir: &Path) -> Result<BareCommitProbe, StoreError> {
        let path = dir.join("bare-probe.db");
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        let conn = Connection::open(&path).map_err(StoreError::backend)?;
        conn.query_row("PRAGMA journal_mode=WAL", [], |_| Ok(())).map_err(StoreError::backend)?;
        conn.execute_batch("PRAGMA synchronous=FULL; CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL);")
            .map_err(StoreError::backend)?;
        Ok(BareCommitProbe { conn, next: 0 })
    }

    /// Commits one row at a time for `slice`, appending each latency (µs) to `latencies`.
    pub fn run(&mut self, slice: Duration, latencies: &mut Vec<f64>) -> Result<(), StoreError> {
        let start = Instant::now();
        while start.elapsed() < slice {
            let t = Instant::now();
            self.conn.execute_batch("BEGIN IMMEDIATE").map_err(StoreError::backend)?;
            self.conn
                .prepare_cached("INSERT INTO t (id, v) VALUES (?1, 'bench')")
                .and_then(|mut s| s.execute([self.next]))
                .map_err(StoreError::backend)?;
            self.conn.execute_batch("COMMIT").map_err(StoreError::backend)?;
            latencies.push(t.elapsed().as_secs_f64() * 1e6);
            self.next += 1;
        }
        Ok(())
    }
}
