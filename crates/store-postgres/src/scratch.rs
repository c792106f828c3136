//! Scratch databases for the workspace's test suites: a fresh, migrated database on the server
//! named by `FENGQIAO_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432/postgres`),
//! dropped afterwards. Outside CI an unreachable server skips the test with a note; with
//! `CI=true` it fails it, so that CI never passes by skipping PostgreSQL.

use sqlx::{Connection, PgConnection};
use uuid::Uuid;

const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A migrated database that exists until [`ScratchDatabase::drop_now`].
#[derive(Debug)]
pub struct ScratchDatabase {
    admin_url: String,
    name: String,
    /// Its connection URL.
    pub url: String,
}

impl ScratchDatabase {
    /// Creates and migrates one; `None` when the server is unreachable outside CI.
    ///
    /// # Panics
    /// When the server is unreachable under `CI=true`, or refuses to create the database.
    pub async fn create() -> Option<ScratchDatabase> {
        let admin_url = std::env::var("FENGQIAO_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned());
        if let Err(err) = PgConnection::connect(&admin_url).await {
            assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "PostgreSQL at {admin_url} is unreachable under CI: {err}");
            eprintln!("skipping: PostgreSQL at {admin_url} is unreachable ({err})");
            return None;
        }
        let name = format!("fq_test_{}", Uuid::now_v7().simple());
        let url = crate::create_database(&admin_url, &name).await.expect("create and migrate the scratch database");
        Some(ScratchDatabase { admin_url, name, url })
    }

    /// Drops the database (its connections are closed by force).
    pub async fn drop_now(self) {
        crate::drop_database(&self.admin_url, &self.name).await.expect("drop the scratch database");
    }
}
