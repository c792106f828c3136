//! The conformance stories on PostgreSQL: a fresh database per story.
//!
//! FENGQIAO_TEST_POSTGRES is the URL of a server to create test databases on (default
//! `postgres://postgres@127.0.0.1:5432/postgres`). When it cannot be reached the stories are
//! skipped with a note, unless CI=true, where that is a failure.

use std::sync::Arc;

use async_trait::async_trait;
use fq_store::Store;
use fq_store_conformance::{Harness, conformance_tests};
use fq_store_postgres::{PgOptions, PgStore};
use sqlx::{Connection, PgConnection};

const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

fn admin_url() -> String {
    std::env::var("FENGQIAO_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned())
}

fn with_database(url: &str, database: &str) -> String {
    let (base, _) = url.rsplit_once('/').expect("URL has a database part");
    format!("{base}/{database}")
}

struct PgHarness {
    store: Arc<PgStore>,
    database: String,
    url: String,
}

#[async_trait]
impl Harness for PgHarness {
    fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }

    async fn try_raw(&self, sql: &str) -> Result<(), String> {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned())).execute(self.store.pool()).await.map(|_| ()).map_err(|e| e.to_string())
    }

    async fn unprotect_journal(&self) {
        self.try_raw("DROP TRIGGER journal_no_change ON journal; DROP TRIGGER journal_no_truncate ON journal;")
            .await
            .expect("drop triggers");
    }

    async fn unprotect_head(&self) {
        self.try_raw("DROP TRIGGER journal_head_no_delete ON journal_head;").await.expect("drop head trigger");
    }

    async fn second_store(&self) -> Arc<dyn Store> {
        Arc::new(PgStore::connect(&self.url, PgOptions::default()).await.expect("connect a second store"))
    }
}

impl Drop for PgHarness {
    fn drop(&mut self) {
        let store = Arc::clone(&self.store);
        let database = self.database.clone();
        // Drop the test database from a thread of its own: Drop cannot await.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            runtime.block_on(async move {
                store.close().await;
                if let Ok(mut admin) = PgConnection::connect(&admin_url()).await {
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)")))
                        .execute(&mut admin)
                        .await;
                }
            });
        })
        .join();
    }
}

async fn postgres() -> Option<PgHarness> {
    let admin = admin_url();
    let mut conn = match PgConnection::connect(&admin).await {
        Ok(conn) => conn,
        Err(err) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("PostgreSQL at {admin} is unreachable and CI=true: {err}")
        }
        Err(err) => {
            eprintln!("skipping PostgreSQL conformance: {admin} is unreachable ({err}); set FENGQIAO_TEST_POSTGRES");
            return None;
        }
    };
    let database = format!("fq_test_{}", uuid::Uuid::now_v7().simple());
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{database}\"")))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let url = with_database(&admin, &database);
    fq_store_postgres::migrate(&url).await.expect("migrate");
    let store = PgStore::connect(&url, PgOptions::default()).await.expect("connect");
    Some(PgHarness { store: Arc::new(store), database, url })
}

conformance_tests!(postgres);

#[tokio::test]
async fn an_unmigrated_database_is_refused_with_the_fix() {
    let admin = admin_url();
    let Ok(mut conn) = PgConnection::connect(&admin).await else {
        assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "PostgreSQL unreachable under CI");
        return;
    };
    let database = format!("fq_test_{}", uuid::Uuid::now_v7().simple());
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{database}\""))).execute(&mut conn).await.unwrap();
    let err = PgStore::connect(&with_database(&admin, &database), PgOptions::default()).await.unwrap_err();
    assert!(err.to_string().contains("fengqiao migrate"), "{err}");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE \"{database}\" WITH (FORCE)"))).execute(&mut conn).await.unwrap();
}

#[tokio::test]
async fn a_missing_database_is_named() {
    let admin = admin_url();
    if PgConnection::connect(&admin).await.is_err() {
        assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "PostgreSQL unreachable under CI");
        return;
    }
    let err = PgStore::connect(&with_database(&admin, "fq_no_such_database"), PgOptions::default()).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("fq_no_such_database") && text.contains("does not exist"), "{text}");
}

#[tokio::test]
async fn an_unreachable_server_is_named() {
    let err = PgStore::connect("postgres://postgres:secret@127.0.0.1:1/nowhere", PgOptions::default()).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("127.0.0.1:1") && !text.contains("secret"), "{text}");
}
