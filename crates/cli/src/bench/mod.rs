//! `fengqiao bench ...`: figures measured beside this machine's own limits, in the same run.

pub mod allocate;
pub mod engine;
pub mod http;
pub mod risk;
pub mod store;
mod trace;
pub mod wrk;

/// A scratch SQLite database (synchronous=full) with the reference data loaded, and an engine on
/// it, in a temporary directory removed when it is dropped.
pub(crate) struct Scratch {
    dir: std::path::PathBuf,
    pub store: std::sync::Arc<dyn fq_store::Store>,
    pub engine: fq_engine::Engine,
}

impl Scratch {
    pub(crate) async fn open(name: &str) -> Result<Scratch, crate::failure::Failure> {
        use store::failure;
        let dir = std::env::temp_dir().join(format!("fengqiao-bench-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| failure("scratch directory", e))?;
        let store = fq_store_sqlite::SqliteStore::open(&dir.join("bench.db"), fq_store_sqlite::SqliteOptions::default())
            .await
            .map_err(|e| failure("open", e))?;
        let store: std::sync::Arc<dyn fq_store::Store> = std::sync::Arc::new(store);
        let engine = fq_engine::Engine::new(std::sync::Arc::clone(&store));
        let scratch = Scratch { dir, store, engine };
        scratch.engine.ensure_reference_data().await.map_err(|e| failure("reference data", e))?;
        Ok(scratch)
    }

    /// Closes the store (its last commits written) before the directory goes.
    pub(crate) async fn close(self) {
        self.store.close().await;
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The `q`-quantile of sorted microsecond latencies.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

#[cfg(test)]
mod tests {
    use super::quantile;

    #[test]
    fn quantiles_of_sorted_samples() {
        let samples: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&samples, 0.5), 51.0);
        assert_eq!(quantile(&samples, 0.99), 99.0);
        assert_eq!(quantile(&samples, 1.0), 100.0);
        assert_eq!(quantile(&[], 0.5), 0.0);
    }
}
