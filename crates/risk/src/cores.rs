//! Independent jobs on every core of the machine (a nightly run's fits, thousands of trends):
//! as many threads as cores, each taking the next job until none is left, the results in the
//! jobs' order. Plain scoped threads: the jobs are few and long, no pool is worth keeping. Jobs
//! that hand out jobs of their own (a nightly fit's trends) run those on their own thread: the
//! cores are busy already.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

thread_local! {
    /// Whether this thread is one of [`run`]'s.
    static WORKER: Cell<bool> = const { Cell::new(false) };
}

/// The cores this process may use (one when the system cannot say).
pub fn available() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// `job(0)`, …, `job(jobs − 1)`, on up to [`available`] threads; a job that panics panics here.
pub fn run<T: Send>(jobs: usize, job: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let threads = if WORKER.get() { 1 } else { available().min(jobs) };
    if threads <= 1 {
        return (0..jobs).map(job).collect();
    }
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, T)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    WORKER.set(true);
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= jobs {
                            return mine;
                        }
                        mine.push((i, job(i)));
                    }
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
    });
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, result)| result).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_job_runs_once_and_results_keep_the_jobs_order() {
        let calls = AtomicUsize::new(0);
        let out = run(1000, |i| {
            calls.fetch_add(1, Ordering::Relaxed);
            i * i
        });
        assert_eq!(calls.load(Ordering::Relaxed), 1000);
        assert_eq!(out, (0..1000).map(|i| i * i).collect::<Vec<_>>());
        assert!(run(0, |i| i).is_empty());
        assert_eq!(run(1, |i| i + 7), [7]);
    }

    #[test]
    fn jobs_of_a_job_run_on_its_thread() {
        let outer = run(4, |i| {
            let me = std::thread::current().id();
            let inner = run(8, |k| (std::thread::current().id(), i * 10 + k));
            assert!(inner.iter().all(|(id, _)| *id == me), "no second level of threads");
            inner.into_iter().map(|(_, v)| v).sum::<usize>()
        });
        assert_eq!(outer, (0..4).map(|i| (0..8).map(|k| i * 10 + k).sum::<usize>()).collect::<Vec<_>>());
    }

    #[test]
    #[should_panic(expected = "job 3")]
    fn a_job_that_panics_panics_the_caller() {
        run(8, |i| assert!(i != 3, "job 3"));
    }
}
