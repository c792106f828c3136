//! `fengqiao bench ...`: figures measured beside this machine's own limits, in the same run.

pub mod allocate;
pub mod engine;
mod feeds;
pub mod http;
pub mod risk;
pub mod store;
mod trace;
pub mod wrk;

/// A scratch database with the reference data loaded, and an engine on it: SQLite
/// (synchronous=full) in a temporary directory removed when it is dropped, or a database created
/// on a PostgreSQL server and dropped by [`Scratch::close`].
pub(crate) struct Scratch {
    place: Place,
    pub store: std::sync::Arc<dyn fq_store::Store>,
    pub engine: fq_engine::Engine,
}

enum Place {
    Directory(std::path::PathBuf),
    /// The server's administrative connection URL and the scratch database's name.
    Postgres {
        admin_url: String,
        name: String,
    },
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
        Scratch::with(Place::Directory(dir), std::sync::Arc::new(store)).await
    }

    /// A database `fengqiao_bench_NAME_PID` created and migrated on the server `admin_url`
    /// connects to (a role that may create databases).
    pub(crate) async fn postgres(admin_url: &str, name: &str) -> Result<Scratch, crate::failure::Failure> {
        use store::failure;
        let database = format!("fengqiao_bench_{name}_{}", std::process::id());
        let url = fq_store_postgres::create_database(admin_url, &database).await.map_err(|e| failure("scratch database", e))?;
        let store = fq_store_postgres::PgStore::connect(&url, fq_store_postgres::PgOptions::default())
            .await
            .map_err(|e| failure("open", e))?;
        Scratch::with(Place::Postgres { admin_url: admin_url.to_owned(), name: database }, std::sync::Arc::new(store)).await
    }

    async fn with(place: Place, store: std::sync::Arc<dyn fq_store::Store>) -> Result<Scratch, crate::failure::Failure> {
        let engine = fq_engine::Engine::new(std::sync::Arc::clone(&store));
        let scratch = Scratch { place, store, engine };
        scratch.engine.ensure_reference_data().await.map_err(|e| store::failure("reference data", e))?;
        Ok(scratch)
    }

    /// Closes the store (its last commits written) before the directory or the database goes.
    pub(crate) async fn close(self) {
        self.store.close().await;
        if let Place::Postgres { admin_url, name } = &self.place
            && let Err(e) = fq_store_postgres::drop_database(admin_url, name).await
        {
            tracing::warn!(database = %name, error = %e, "the bench's scratch database was not dropped");
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Place::Directory(dir) = &self.place {
            let _ = std::fs::remove_dir_all(dir);
        }
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
