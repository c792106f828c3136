//! `fengqiao backup` and `fengqiao restore`.

use std::path::Path;

use fq_store::DatabaseLocation;
use fq_store_sqlite::{SqliteOptions, SqliteStore};

use crate::config::Config;
use crate::failure::{Failure, Outcome};
use crate::open::{self, DataDirLock};

pub async fn backup(config: &Config, dest: &Path) -> Outcome {
    let store = open::store(config).await?;
    let result = store.backup(dest).await;
    store.close().await;
    let report = result?;
    let head = report.head.map_or_else(|| "empty journal".to_owned(), |h| format!("journal head {h}"));
    println!("wrote {} ({} bytes, integrity checked, {head})", dest.display(), report.bytes);
    Ok(())
}

pub async fn restore(config: &Config, source: &Path, force: bool) -> Outcome {
    let DatabaseLocation::Sqlite(target) = open::location(config)? else {
        return Err(Failure::new(
            "unsupported",
            "restore replaces a SQLite file; restore PostgreSQL with pg_restore (docs/OPERATIONS.md)",
        ));
    };
    if !source.is_file() {
        return Err(Failure::new("file_unreadable", format!("backup {} does not exist", source.display())));
    }
    let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf();
    open::ensure_dir(&dir)?;
    if target.exists() && !force {
        return Err(Failure::new(
            "database_exists",
            format!("{} exists; pass --force to replace it (the old file is kept beside it)", target.display()),
        ));
    }
    // Holding the server's lock proves no server is using the file.
    let _lock = DataDirLock::acquire(&dir)?;
    // Work on a copy beside the target, never on the backup itself: it must open (and migrate, if
    // it is older), and its journal must verify, before anything is replaced.
    let partial = target.with_extension("restoring");
    std::fs::copy(source, &partial)?;
    let outcome = {
        let copy: std::sync::Arc<dyn fq_store::Store> =
            std::sync::Arc::new(SqliteStore::open(&partial, SqliteOptions::default()).await?);
        let outcome = fq_engine::Engine::new(copy.clone()).verify_journal(Vec::new(), &|_| {}).await;
        copy.close().await;
        outcome?
    };
    if let fq_engine::AuditOutcome::Broken(found) = outcome {
        let _ = std::fs::remove_file(&partial);
        return Err(Failure::broken_journal(format!("the backup's journal is broken at {found}; not restoring it")));
    }
    if target.exists() {
        let kept = target.with_extension(format!("db.replaced-{}", chrono::Utc::now().format("%Y%m%dT%H%M%S")));
        std::fs::rename(&target, &kept)?;
        // A WAL left behind belongs to the replaced file: it moves with it.
        for suffix in ["-wal", "-shm"] {
            let side = format!("{}{suffix}", target.display());
            if Path::new(&side).exists() {
                std::fs::rename(&side, format!("{}{suffix}", kept.display()))?;
            }
        }
        println!("kept the replaced database as {}", kept.display());
    }
    std::fs::File::open(&partial)?.sync_all()?;
    std::fs::rename(&partial, &target)?;
    std::fs::File::open(&dir)?.sync_all()?;
    println!("restored {} from {}", target.display(), source.display());
    Ok(())
}
