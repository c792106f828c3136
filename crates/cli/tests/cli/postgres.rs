//! The binary on PostgreSQL: refused before `fengqiao migrate`, then serving the same regions.

use sqlx::{Connection, PgConnection};

use crate::support::{Workspace, get};

/// A database of its own on the test server, dropped when the test ends (even by a panic).
struct TestDatabase {
    admin: String,
    name: String,
    runtime: tokio::runtime::Runtime,
}

impl TestDatabase {
    fn create() -> Option<TestDatabase> {
        let admin =
            std::env::var("FENGQIAO_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let name = format!("fq_cli_{}", uuid::Uuid::now_v7().simple());
        let created = runtime.block_on(async {
            let mut conn = PgConnection::connect(&admin).await?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\""))).execute(&mut conn).await.map(|_| ())
        });
        match created {
            Ok(()) => Some(TestDatabase { admin, name, runtime }),
            Err(err) => {
                assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "PostgreSQL at {admin} unreachable under CI: {err}");
                eprintln!("skipping: PostgreSQL at {admin} unreachable ({err})");
                None
            }
        }
    }

    fn url(&self) -> String {
        format!("{}/{}", self.admin.rsplit_once('/').unwrap().0, self.name)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let _ = self.runtime.block_on(async {
            let mut conn = PgConnection::connect(&self.admin).await?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name)))
                .execute(&mut conn)
                .await
        });
    }
}

#[test]
fn serve_on_postgres_after_migrate() {
    let Some(db) = TestDatabase::create() else { return };
    let url = db.url();
    let ws = Workspace::new();
    let stderr = ws.run(&["--database", &url, "serve", "--listen", "127.0.0.1:0"]).fails(1);
    assert!(stderr.contains("fengqiao migrate"), "{stderr}");
    let out = ws.run(&["--database", &url, "migrate"]).ok().stdout();
    assert!(out.contains(&format!("schema at version {}", fq_store_postgres::SCHEMA_VERSION)), "{out}");
    ws.run(&["--database", &url, "migrate"]).ok();

    let server = ws.serve(&["--database", &url]);
    let (_, status) = get(&server.url("/api/v1/status"), None);
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(status["backend"], "PostgreSQL");
    assert_eq!(status["regions"]["towns"], 1_387);
    assert_eq!(status["regions"]["villages"], 25_547);
    assert!(status["generated_grids"].as_u64().unwrap() > 0);
    assert!(!status["location"].as_str().unwrap().contains("password"));
    // Several servers may share one PostgreSQL database.
    let second = ws.serve(&["--database", &url, "--no-demo"]);
    let (code, _) = get(&second.url("/readyz"), None);
    assert_eq!(code, 200);
    drop(server);
    drop(second);

    let out = ws.run(&["--database", &url, "audit", "verify"]).ok().stdout();
    assert!(out.contains("journal intact"), "{out}");
    let stderr = ws.run(&["--database", &url, "backup", "x.db"]).fails(1);
    assert!(stderr.contains("pg_dump"), "{stderr}");
}
