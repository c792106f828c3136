//! Embedded migrations, applied at open. Each applied migration is recorded with a checksum; a
//! shipped migration that was later edited, or a database written by a newer build, is refused.

use chrono::Utc;
use fq_store::StoreError;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

/// (version, name, SQL), in order.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "foundation", include_str!("../migrations/0001_foundation.sql")),
    (2, "cases", include_str!("../migrations/0002_cases.sql")),
    (3, "console", include_str!("../migrations/0003_console.sql")),
    (4, "region_lists", include_str!("../migrations/0004_region_lists.sql")),
    (5, "risk_events", include_str!("../migrations/0005_risk_events.sql")),
    (6, "positions", include_str!("../migrations/0006_positions.sql")),
    (7, "position_regions", include_str!("../migrations/0007_position_regions.sql")),
    (8, "risk_forecasts", include_str!("../migrations/0008_risk_forecasts.sql")),
    (9, "positions_by_place", include_str!("../migrations/0009_positions_by_place.sql")),
    (10, "positions_by_subject", include_str!("../migrations/0010_positions_by_subject.sql")),
    (11, "position_cells", include_str!("../migrations/0011_position_cells.sql")),
    (12, "risk_checks", include_str!("../migrations/0012_risk_checks.sql")),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS[MIGRATIONS.len() - 1].0;

/// BLAKE3 of the migration text, recorded when it is applied.
fn checksum(sql: &str) -> String {
    blake3::hash(sql.as_bytes()).to_hex().to_string()
}

/// Brings the schema up to date.
pub fn run(conn: &mut Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)",
    )
    .map_err(StoreError::backend)?;
    let newest: Option<i64> =
        conn.query_row("SELECT MAX(version) FROM schema_migrations", [], |row| row.get(0)).map_err(StoreError::backend)?;
    if let Some(newest) = newest
        && newest > SCHEMA_VERSION
    {
        return Err(StoreError::Schema(format!(
            "the database has schema version {newest}, but this build of fengqiao knows only up to {SCHEMA_VERSION}: use a newer fengqiao"
        )));
    }
    for (version, name, sql) in MIGRATIONS {
        let applied: Option<String> = conn
            .query_row("SELECT checksum FROM schema_migrations WHERE version = ?1", [version], |row| row.get(0))
            .optional()
            .map_err(StoreError::backend)?;
        match applied {
            Some(sum) if sum == checksum(sql) => continue,
            Some(_) => {
                return Err(StoreError::Schema(format!(
                    "migration {version} ({name}) differs from the one applied to this database: migrations must never be edited"
                )));
            }
            None => {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(StoreError::backend)?;
                tx.execute_batch(sql).map_err(|e| StoreError::Schema(format!("migration {version} ({name}) failed: {e}")))?;
                tx.execute(
                    "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?1, ?2, ?3, ?4)",
                    rusqlite::params![version, name, checksum(sql), Utc::now().to_rfc3339()],
                )
                .map_err(StoreError::backend)?;
                tx.commit().map_err(StoreError::backend)?;
                tracing::info!(version, name, "applied SQLite migration");
            }
        }
    }
    Ok(())
}
