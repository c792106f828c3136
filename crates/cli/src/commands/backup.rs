//! `fengqiao backup` and `fengqiao restore`.

use std::path::{Path, PathBuf};

use fq_domain::journal::RecordedHead;

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
    let head = match report.head {
        RecordedHead::At(head) => format!("journal head {head}"),
        RecordedHead::Empty => "empty journal".to_owned(),
        RecordedHead::Missing => "no journal head".to_owned(),
    };
    println!("wrote {} ({} bytes, integrity checked, {head})", dest.display(), report.bytes);
    Ok(())
}

/// Moves `path` (and its `-wal`/`-shm` files) aside as `<name>.replaced-<time>[-n]`, never over
/// an earlier one. Returns where it went, if there was anything to move.
fn set_aside(path: &Path) -> Result<Option<PathBuf>, Failure> {
    let sidecars = ["-wal", "-shm"].map(|suffix| PathBuf::from(format!("{}{suffix}", path.display())));
    if !path.exists() && sidecars.iter().all(|p| !p.exists()) {
        return Ok(None);
    }
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S");
    let mut kept = PathBuf::from(format!("{}.replaced-{stamp}", path.display()));
    let mut n = 1;
    while kept.exists() || ["-wal", "-shm"].iter().any(|s| Path::new(&format!("{}{s}", kept.display())).exists()) {
        n += 1;
        kept = PathBuf::from(format!("{}.replaced-{stamp}-{n}", path.display()));
    }
    if path.exists() {
        std::fs::rename(path, &kept)?;
    }
    // A WAL left beside the file belongs to the replaced database: it moves with it, so that it
    // is never applied to the restored one.
    for (sidecar, suffix) in sidecars.iter().zip(["-wal", "-shm"]) {
        if sidecar.exists() {
            std::fs::rename(sidecar, format!("{}{suffix}", kept.display()))?;
        }
    }
    Ok(Some(kept))
}

pub async fn restore(config: &Config, source: &Path, force: bool, checkpoints: &[String]) -> Outcome {
    let DatabaseLocation::Sqlite(target) = open::location(config)? else {
        return Err(Failure::new(
            "unsupported",
            "restore replaces a SQLite file; restore PostgreSQL with pg_restore (docs/OPERATIONS.md)",
        ));
    };
    if !source.is_file() {
        return Err(Failure::new("file_unreadable", format!("backup {} does not exist", source.display())));
    }
    let published = checkpoints.iter().map(|c| fq_engine::parse_checkpoint(c)).collect::<Result<Vec<_>, _>>()?;
    let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf();
    open::ensure_dir(&dir)?;
    if target.exists() && !force {
        return Err(Failure::new(
            "database_exists",
            format!("{} exists; pass --force to replace it (the old file is kept beside it)", target.display()),
        ));
    }
    // No server may run on this directory, and nothing at all may have the file open.
    let _server = DataDirLock::acquire(&dir)?;
    let _in_use = fq_store_sqlite::lock_for_replacement(&target)?;
    // Work on a copy beside the target, never on the backup itself: it must open (and migrate, if
    // it is older), and its journal must verify, before anything is replaced.
    let partial = target.with_extension("restoring");
    set_aside(&partial)?;
    std::fs::copy(source, &partial)?;
    let outcome = {
        let copy: std::sync::Arc<dyn fq_store::Store> =
            std::sync::Arc::new(SqliteStore::open(&partial, SqliteOptions::default()).await?);
        let outcome = fq_engine::Engine::new(copy.clone()).verify_journal(published, &|_| {}).await;
        copy.close().await;
        outcome?
    };
    if let fq_engine::AuditOutcome::Broken(found) = outcome {
        let _ = std::fs::remove_file(&partial);
        return Err(Failure::broken_journal(format!("the backup's journal is broken at {found}; not restoring it")));
    }
    if let Some(kept) = set_aside(&target)? {
        println!("kept the replaced database as {}", kept.display());
    }
    std::fs::File::open(&partial)?.sync_all()?;
    std::fs::rename(&partial, &target)?;
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", partial.display()));
    }
    std::fs::File::open(&dir)?.sync_all()?;
    println!("restored {} from {}", target.display(), source.display());
    Ok(())
}
