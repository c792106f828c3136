//! The conformance stories on SQLite: a fresh database file per story.

use std::sync::Arc;

use async_trait::async_trait;
use fq_domain::journal::{Checkpoint, RecordedHead};
use fq_store::{JournalStore, Store};
use fq_store_conformance::{Harness, conformance_tests};
use fq_store_sqlite::{SqliteOptions, SqliteStore};

struct SqliteHarness {
    store: Arc<SqliteStore>,
    _dir: tempfile::TempDir,
}

#[async_trait]
impl Harness for SqliteHarness {
    fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }

    async fn try_raw(&self, sql: &str) -> Result<(), String> {
        let conn = rusqlite::Connection::open(self.store.path()).map_err(|e| e.to_string())?;
        conn.execute_batch(sql).map_err(|e| e.to_string())
    }

    async fn unprotect_journal(&self) {
        self.try_raw("DROP TRIGGER journal_no_update; DROP TRIGGER journal_no_delete;").await.expect("drop triggers");
    }

    async fn unprotect_head(&self) {
        self.try_raw("DROP TRIGGER journal_head_no_delete;").await.expect("drop head trigger");
    }

    async fn second_store(&self) -> Arc<dyn Store> {
        Arc::new(SqliteStore::open(self.store.path(), SqliteOptions::default()).await.expect("open a second store"))
    }
}

async fn sqlite() -> Option<SqliteHarness> {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("fengqiao.db"), SqliteOptions::default()).await.expect("open SQLite");
    Some(SqliteHarness { store: Arc::new(store), _dir: dir })
}

conformance_tests!(sqlite);

#[tokio::test]
async fn reopening_keeps_everything_and_migrations_are_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fengqiao.db");
    let store = SqliteStore::open(&path, SqliteOptions::default()).await.unwrap();
    let committed = store
        .commit(fq_store::Change::new().event(fq_domain::journal::NewEvent::new("s", "k.done", "system", serde_json::json!({}))))
        .await
        .unwrap();
    store.close().await;
    assert!(matches!(store.commit(fq_store::Change::new()).await, Err(fq_store::StoreError::Closed)));
    let again = SqliteStore::open(&path, SqliteOptions::default()).await.unwrap();
    assert_eq!(again.recorded_head().await.unwrap(), RecordedHead::At(Checkpoint { seq: 1, hash: committed.head }));
}

#[tokio::test]
async fn a_database_from_a_newer_build_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fengqiao.db");
    SqliteStore::open(&path, SqliteOptions::default()).await.unwrap().close().await;
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (99, 'future', 'x', 'now')", [])
        .unwrap();
    drop(conn);
    let err = SqliteStore::open(&path, SqliteOptions::default()).await.unwrap_err();
    assert!(err.to_string().contains("schema version 99"), "{err}");
}

#[tokio::test]
async fn online_backup_is_a_verified_copy() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("fengqiao.db"), SqliteOptions::default()).await.unwrap();
    for n in 0..20 {
        store
            .commit(fq_store::Change::new().event(fq_domain::journal::NewEvent::new(
                "s",
                "k.done",
                "system",
                serde_json::json!({"n": n}),
            )))
            .await
            .unwrap();
    }
    let dest = dir.path().join("copy.db");
    let report = store.backup(&dest).await.unwrap();
    assert_eq!(report.head.seq(), Some(20));
    assert!(report.bytes > 0);
    let copy = SqliteStore::open(&dest, SqliteOptions::default()).await.unwrap();
    assert_eq!(copy.events_after(0, 100).await.unwrap().len(), 20);
    let again = store.backup(&dest).await.unwrap_err();
    assert!(again.to_string().contains("already exists"), "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_in_use_cannot_be_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fengqiao.db");
    let store = SqliteStore::open(&path, SqliteOptions::default()).await.unwrap();
    let refused = fq_store_sqlite::lock_for_replacement(&path).unwrap_err();
    assert!(refused.to_string().contains("in use"), "{refused}");
    store.close().await;
    drop(store);
    // While a replacement holds the lock, a store being opened waits for it and then opens the
    // replaced file.
    let lock = fq_store_sqlite::lock_for_replacement(&path).unwrap();
    let opening = tokio::spawn(async move { SqliteStore::open(&path, SqliteOptions::default()).await.map(|_| ()) });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!opening.is_finished(), "opening waits for the replacement");
    drop(lock);
    opening.await.unwrap().unwrap();
}
