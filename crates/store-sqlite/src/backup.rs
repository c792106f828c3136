//! Online backup: `VACUUM INTO` copies a consistent snapshot (one read transaction) while the
//! writer keeps committing. The copy is written beside the target, checked, synced, and only then
//! renamed into place, so a target file that exists is always a complete, verified backup.

use std::fs::File;
use std::path::Path;

use fq_store::{BackupReport, StoreError};
use rusqlite::{Connection, OpenFlags};

use crate::reads;

pub(crate) fn online_copy(source: &Path, dest: &Path) -> Result<BackupReport, StoreError> {
    if dest.exists() {
        return Err(StoreError::Unsupported(format!("{} already exists: choose a new file for the backup", dest.display())));
    }
    let partial = dest.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    let result = copy_and_check(source, &partial);
    let report = match result {
        Ok(report) => report,
        Err(err) => {
            let _ = std::fs::remove_file(&partial);
            return Err(err);
        }
    };
    std::fs::rename(&partial, dest).map_err(|e| StoreError::Backend(format!("cannot move the backup into place: {e}")))?;
    if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir).and_then(|d| d.sync_all()).map_err(StoreError::backend)?;
    }
    Ok(report)
}

fn copy_and_check(source: &Path, partial: &Path) -> Result<BackupReport, StoreError> {
    let conn = Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_WRITE).map_err(StoreError::backend)?;
    conn.execute_batch("PRAGMA busy_timeout=10000;").map_err(StoreError::backend)?;
    let target = partial.to_str().ok_or_else(|| StoreError::Unsupported("the backup path must be valid UTF-8".into()))?;
    conn.execute("VACUUM INTO ?1", [target]).map_err(|e| StoreError::Backend(format!("VACUUM INTO failed: {e}")))?;
    drop(conn);
    // SQLite does not sync the file VACUUM INTO writes.
    File::open(partial).and_then(|f| f.sync_all()).map_err(StoreError::backend)?;
    let copy = Connection::open_with_flags(partial, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(StoreError::backend)?;
    let check: String = copy.query_row("PRAGMA integrity_check", [], |r| r.get(0)).map_err(StoreError::backend)?;
    if check != "ok" {
        return Err(StoreError::Backend(format!("the copy failed its integrity check: {check}")));
    }
    let head = reads::recorded_head(&copy)?;
    drop(copy);
    let bytes = std::fs::metadata(partial).map_err(StoreError::backend)?.len();
    Ok(BackupReport { bytes, head })
}
