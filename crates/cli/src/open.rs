//! Opening the configured store, and the data-directory lock that keeps two servers off one
//! SQLite file.

use std::fs::{File, OpenOptions};
use std::path::Path;
use std::sync::Arc;

use fq_engine::{Engine, Programmes};
use fq_store::{DatabaseLocation, Store};
use fq_store_postgres::{PgOptions, PgStore};
use fq_store_sqlite::{SqliteOptions, SqliteStore, Synchronous};

use crate::config::{Config, SynchronousSetting};
use crate::failure::{Failure, Outcome};

/// Where the configured database is.
pub fn location(config: &Config) -> Result<DatabaseLocation, Failure> {
    Ok(DatabaseLocation::parse(&config.storage.database, &config.storage.data_dir)?)
}

/// Creates the data directory (for SQLite) with a clear error when it cannot.
pub fn ensure_dir(dir: &Path) -> Result<(), Failure> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::new("data_dir_unusable", format!("cannot create the data directory {}: {e}", dir.display())))
}

/// Opens the store: SQLite (creating and migrating the file) or PostgreSQL (which must have
/// been migrated with `fengqiao migrate`).
pub async fn store(config: &Config) -> Result<Arc<dyn Store>, Failure> {
    match location(config)? {
        DatabaseLocation::Sqlite(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                ensure_dir(dir)?;
            }
            let options = SqliteOptions {
                synchronous: match config.storage.synchronous {
                    SynchronousSetting::Full => Synchronous::Full,
                    SynchronousSetting::Normal => Synchronous::Normal,
                },
                max_batch: config.storage.group_commit_max,
            };
            Ok(Arc::new(SqliteStore::open(&path, options).await?))
        }
        DatabaseLocation::Postgres(url) => {
            let options = PgOptions { max_batch: config.storage.group_commit_max, ..PgOptions::default() };
            Ok(Arc::new(PgStore::connect(&url, options).await?))
        }
    }
}

/// The programmes to run: the embedded ones, or the configured directory's. A broken definition
/// stops the command here, before the database is opened.
pub fn programmes(config: &Config) -> Result<Programmes, Failure> {
    let loaded = match &config.programmes.dir {
        Some(dir) => Programmes::from_directory(dir),
        None => Programmes::embedded(),
    };
    loaded.map_err(|e| Failure::new("programme_invalid", format!("programme definition refused: {e}")))
}

pub async fn engine(config: &Config) -> Result<Engine, Failure> {
    let programmes = programmes(config)?;
    Ok(Engine::new(store(config).await?).with_programmes(programmes))
}

/// Opens the engine, runs `work` with it, and closes the store whatever the outcome, so that
/// queued writes finish before the command exits.
pub async fn with_engine<Fut: Future<Output = Outcome>>(config: &Config, work: impl FnOnce(Engine) -> Fut) -> Outcome {
    let engine = engine(config).await?;
    let result = work(engine.clone()).await;
    engine.store().close().await;
    result
}

/// An exclusive lock on `<data_dir>/fengqiao.lock`, held while a server runs on a SQLite file.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

impl DataDirLock {
    pub fn acquire(dir: &Path) -> Result<DataDirLock, Failure> {
        let path = dir.join("fengqiao.lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Failure::new("data_dir_unusable", format!("cannot open {}: {e}", path.display())))?;
        match file.try_lock() {
            Ok(()) => Ok(DataDirLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(Failure::new(
                "data_dir_in_use",
                format!("another fengqiao server is running on {} (it holds {}); stop it first", dir.display(), path.display()),
            )),
            Err(std::fs::TryLockError::Error(e)) => {
                Err(Failure::new("data_dir_unusable", format!("cannot lock {}: {e}", path.display())))
            }
        }
    }
}
