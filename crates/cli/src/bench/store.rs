//! `fengqiao bench store`: SQLite durable commits against the disk's own fdatasync rate.
//!
//! 1. fdatasync: 4 KiB overwrites of a preallocated file, each followed by fdatasync, in the same
//!    directory as the database: the most durable commits per second this disk allows.
//! 2. single commits: one event per change, one change at a time, `synchronous=FULL`, after a
//!    one-second warm-up.
//! 3. a bare SQLite commit (one row, one table, same settings): the best any SQLite commit can do
//!    on this disk, so that the journal's own cost can be read off.
//!
//!    1, 2 and 3 run in alternating 250 ms slices so that drift in the disk's speed (common on
//!    shared virtual disks) hits all three alike.
//! 4. concurrent: 16 writers committing one event each as fast as acknowledgements come back; the
//!    group commit lets them share fsyncs.
//! 5. import: changes of 10,000 events each (hash-chained like any other), built on one thread
//!    while the previous one commits, as an importer does.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use fq_domain::journal::NewEvent;
use fq_store::{Change, JournalStore, Store};
use fq_store_sqlite::{BareCommitProbe, SqliteOptions, SqliteStore, Synchronous};
use serde_json::json;

use super::quantile;
use crate::config::Config;
use crate::failure::{Failure, Outcome};

const WRITERS: usize = 16;
const IMPORT_BATCH: usize = 10_000;

#[derive(Debug, Default)]
struct Figures {
    fdatasync_per_s: f64,
    fdatasync_p50_us: f64,
    fdatasync_p99_us: f64,
    single_commits_per_s: f64,
    single_commit_p50_us: f64,
    single_commit_p99_us: f64,
    bare_sqlite_commits_per_s: f64,
    empty_commit_p50_us: f64,
    concurrent_events_per_s: f64,
    concurrent_mean_group: f64,
    concurrent_p99_us: f64,
    import_events_per_s: f64,
}

pub(super) fn failure(what: &str, err: impl std::fmt::Display) -> Failure {
    Failure::new("bench_failed", format!("{what}: {err}"))
}

/// 4 KiB overwrites of a preallocated file, fdatasync after each: the disk's own limit.
pub(super) struct SyncProbe {
    file: File,
    path: PathBuf,
    block: Vec<u8>,
    n: u64,
}

impl SyncProbe {
    const BLOCKS: u64 = 256;

    pub(super) fn new(dir: &Path) -> Result<SyncProbe, Failure> {
        let path = dir.join("fdatasync.probe");
        let file = File::options()
            .create(true)
            .truncate(true)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| failure("probe file", e))?;
        let block = vec![0x5au8; 4096];
        for n in 0..Self::BLOCKS {
            file.write_all_at(&block, n * 4096).map_err(|e| failure("probe write", e))?;
        }
        file.sync_all().map_err(|e| failure("probe sync", e))?;
        Ok(SyncProbe { file, path, block, n: 0 })
    }

    /// Runs for `slice`, appending each write+fdatasync latency (µs) to `latencies`.
    pub(super) fn run(&mut self, slice: Duration, latencies: &mut Vec<f64>) -> Result<(), Failure> {
        let start = Instant::now();
        while start.elapsed() < slice {
            let t = Instant::now();
            self.file.write_all_at(&self.block, (self.n % Self::BLOCKS) * 4096).map_err(|e| failure("probe write", e))?;
            self.file.sync_data().map_err(|e| failure("fdatasync", e))?;
            latencies.push(t.elapsed().as_secs_f64() * 1e6);
            self.n += 1;
        }
        Ok(())
    }
}

impl Drop for SyncProbe {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Single commits for `slice`, appending latencies (µs).
async fn single_commits(store: &SqliteStore, slice: Duration, next: &mut u64, latencies: &mut Vec<f64>) -> Result<(), Failure> {
    let start = Instant::now();
    while start.elapsed() < slice {
        let t = Instant::now();
        store.commit(Change::new().event(small_event("bench:single", *next))).await.map_err(|e| failure("commit", e))?;
        latencies.push(t.elapsed().as_secs_f64() * 1e6);
        *next += 1;
    }
    Ok(())
}

fn small_event(stream: &str, n: u64) -> NewEvent {
    NewEvent::new(stream, "bench.noted", "system", json!({ "n": n, "note": "基准测试事件 benchmark event" }))
}

async fn measure(dir: &Path, budget: Duration, max_batch: usize) -> Result<Figures, Failure> {
    let mut figures = Figures::default();
    let options = SqliteOptions { synchronous: Synchronous::Full, max_batch };
    let store = Arc::new(SqliteStore::open(&dir.join("bench.db"), options).await.map_err(|e| failure("open", e))?);
    let mut probe = SyncProbe::new(dir)?;
    let mut bare = BareCommitProbe::open(dir).map_err(|e| failure("bare SQLite probe", e))?;
    let mut next = 0u64;

    // Warm up: the first cycle of a new WAL grows the file, which a long-running server has
    // behind it.
    single_commits(&store, Duration::from_secs(1), &mut next, &mut Vec::new()).await?;

    // Disk speed drifts on shared machines, so the two figures are taken in alternating slices.
    let slice = Duration::from_millis(250);
    let rounds = (budget.as_millis() / slice.as_millis()).max(1);
    let (mut sync_lat, mut commit_lat, mut bare_lat) = (Vec::new(), Vec::new(), Vec::new());
    let (mut sync_time, mut commit_time, mut bare_time) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    tokio::task::block_in_place(|| bare.run(Duration::from_millis(500), &mut Vec::new()))
        .map_err(|e| failure("bare SQLite", e))?;
    for _ in 0..rounds {
        let t = Instant::now();
        tokio::task::block_in_place(|| probe.run(slice, &mut sync_lat))?;
        sync_time += t.elapsed();
        let t = Instant::now();
        tokio::task::block_in_place(|| bare.run(slice, &mut bare_lat)).map_err(|e| failure("bare SQLite", e))?;
        bare_time += t.elapsed();
        let t = Instant::now();
        single_commits(&store, slice, &mut next, &mut commit_lat).await?;
        commit_time += t.elapsed();
    }
    drop(probe);
    figures.fdatasync_per_s = sync_lat.len() as f64 / sync_time.as_secs_f64();
    figures.single_commits_per_s = commit_lat.len() as f64 / commit_time.as_secs_f64();
    figures.bare_sqlite_commits_per_s = bare_lat.len() as f64 / bare_time.as_secs_f64();
    sync_lat.sort_by(f64::total_cmp);
    commit_lat.sort_by(f64::total_cmp);
    figures.fdatasync_p50_us = quantile(&sync_lat, 0.5);
    figures.fdatasync_p99_us = quantile(&sync_lat, 0.99);
    figures.single_commit_p50_us = quantile(&commit_lat, 0.5);
    figures.single_commit_p99_us = quantile(&commit_lat, 0.99);

    // The fixed cost of a commit without the disk: queue hop, transaction control, reply.
    let mut empty = Vec::new();
    for _ in 0..2_000 {
        let t = Instant::now();
        store.commit(Change::new()).await.map_err(|e| failure("empty commit", e))?;
        empty.push(t.elapsed().as_secs_f64() * 1e6);
    }
    empty.sort_by(f64::total_cmp);
    figures.empty_commit_p50_us = quantile(&empty, 0.5);

    // Concurrent writers sharing fsyncs.
    let (groups_before, changes_before) = store.commit_counters();
    let total = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + budget;
    let mut tasks = Vec::new();
    for writer in 0..WRITERS {
        let store = Arc::clone(&store);
        let total = Arc::clone(&total);
        tasks.push(tokio::spawn(async move {
            let stream = format!("bench:writer{writer}");
            let mut latencies = Vec::new();
            let mut n = 0u64;
            while Instant::now() < deadline {
                let t = Instant::now();
                store.commit(Change::new().event(small_event(&stream, n))).await?;
                latencies.push(t.elapsed().as_secs_f64() * 1e6);
                n += 1;
            }
            total.fetch_add(n, Ordering::Relaxed);
            Ok::<_, fq_store::StoreError>(latencies)
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.map_err(|e| failure("writer", e))?.map_err(|e| failure("commit", e))?);
    }
    let elapsed = start.elapsed().as_secs_f64();
    let (groups_after, changes_after) = store.commit_counters();
    figures.concurrent_events_per_s = total.load(Ordering::Relaxed) as f64 / elapsed;
    figures.concurrent_mean_group = (changes_after - changes_before) as f64 / (groups_after - groups_before).max(1) as f64;
    all.sort_by(f64::total_cmp);
    figures.concurrent_p99_us = quantile(&all, 0.99);

    // Batched import, as an importer runs it: one thread turns rows into events while the
    // previous batch commits.
    let (batches, ready) = std::sync::mpsc::sync_channel::<Change>(2);
    let producer_deadline = Instant::now() + budget;
    let producer = std::thread::spawn(move || {
        let mut row = 0u64;
        while Instant::now() < producer_deadline || row < 3 * IMPORT_BATCH as u64 {
            let mut change = Change::new();
            change.events.reserve(IMPORT_BATCH);
            for _ in 0..IMPORT_BATCH {
                change.events.push(NewEvent::new(
                    "bench:import",
                    "bench.imported",
                    "system",
                    json!({ "row": row, "category": "金融纠纷/银行卡", "amount": 1_234.5 + row as f64, "channel": "hotline", "region": "331004001002" }),
                ));
                row += 1;
            }
            if batches.send(change).is_err() {
                break;
            }
        }
    });
    let start = Instant::now();
    let mut events = 0u64;
    while let Ok(change) = tokio::task::block_in_place(|| ready.recv()) {
        events += change.events.len() as u64;
        store.commit(change).await.map_err(|e| failure("import commit", e))?;
    }
    producer.join().map_err(|_| failure("import", "the producer thread panicked"))?;
    figures.import_events_per_s = events as f64 / start.elapsed().as_secs_f64();
    store.close().await;
    Ok(figures)
}

pub async fn run(config: &Config, seconds: u64, dir: Option<PathBuf>, json: bool) -> Outcome {
    let budget = Duration::from_secs(seconds.max(1));
    let (dir, scratch) = match dir {
        Some(dir) => (dir, false),
        None => (config.storage.data_dir.join(format!("bench-{}", std::process::id())), true),
    };
    std::fs::create_dir_all(&dir).map_err(|e| failure(&format!("cannot create {}", dir.display()), e))?;
    if !json {
        eprintln!("measuring in {} ({} s per figure)...", dir.display(), budget.as_secs());
    }
    let result = measure(&dir, budget, config.storage.group_commit_max).await;
    if scratch {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let f = result?;
    let ratio = f.single_commits_per_s / f.fdatasync_per_s;
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    if json {
        println!(
            "{}",
            json!({
                "dir": dir.display().to_string(),
                "cores": cores,
                "sqlite_version": fq_store_sqlite::sqlite_version(),
                "seconds_per_figure": budget.as_secs(),
                "fdatasync_per_s": f.fdatasync_per_s.round(),
                "fdatasync_p50_us": f.fdatasync_p50_us.round(),
                "fdatasync_p99_us": f.fdatasync_p99_us.round(),
                "single_commits_per_s": f.single_commits_per_s.round(),
                "single_commit_p50_us": f.single_commit_p50_us.round(),
                "single_commit_p99_us": f.single_commit_p99_us.round(),
                "single_vs_fdatasync": (ratio * 1000.0).round() / 1000.0,
                "bare_sqlite_commits_per_s": f.bare_sqlite_commits_per_s.round(),
                "bare_sqlite_vs_fdatasync": (f.bare_sqlite_commits_per_s / f.fdatasync_per_s * 1000.0).round() / 1000.0,
                "single_vs_bare_sqlite": (f.single_commits_per_s / f.bare_sqlite_commits_per_s * 1000.0).round() / 1000.0,
                "empty_commit_p50_us": f.empty_commit_p50_us.round(),
                "concurrent_writers": WRITERS,
                "concurrent_events_per_s": f.concurrent_events_per_s.round(),
                "concurrent_mean_group": (f.concurrent_mean_group * 10.0).round() / 10.0,
                "concurrent_p99_us": f.concurrent_p99_us.round(),
                "import_batch_events": IMPORT_BATCH,
                "import_events_per_s": f.import_events_per_s.round(),
            })
        );
    } else {
        println!("SQLite {} in {} on {cores} cores (synchronous=FULL, WAL)", fq_store_sqlite::sqlite_version(), dir.display());
        println!(
            "  disk fdatasync (4 KiB)        {:>10.0} /s   p50 {:>6.0} µs  p99 {:>6.0} µs",
            f.fdatasync_per_s, f.fdatasync_p50_us, f.fdatasync_p99_us
        );
        println!(
            "  single durable commits        {:>10.0} /s   p50 {:>6.0} µs  p99 {:>6.0} µs   = {ratio:.2}x fdatasync (target >= 0.9x)",
            f.single_commits_per_s, f.single_commit_p50_us, f.single_commit_p99_us
        );
        println!(
            "  bare SQLite commit (its limit) {:>10.0} /s   = {:.2}x fdatasync; ours = {:.2}x of it",
            f.bare_sqlite_commits_per_s,
            f.bare_sqlite_commits_per_s / f.fdatasync_per_s,
            f.single_commits_per_s / f.bare_sqlite_commits_per_s
        );
        println!(
            "  commit overhead without disk   p50 {:>6.0} µs (queue hop, transaction control, reply)",
            f.empty_commit_p50_us
        );
        println!(
            "  {WRITERS} concurrent writers         {:>10.0} events/s   mean group {:.1} changes per fsync, p99 {:.0} µs",
            f.concurrent_events_per_s, f.concurrent_mean_group, f.concurrent_p99_us
        );
        println!("  batched import ({IMPORT_BATCH}/commit)  {:>10.0} events/s (target >= 200,000)", f.import_events_per_s);
    }
    Ok(())
}
