//! The 72-hour trace from stored position reports, on SQLite and PostgreSQL: the shipped AIS
//! reports (lower Mississippi, 2022-01-03) stored once (a second file of the same reports
//! stores nothing), a bad file stores nothing, the trace from the store equals the trace from
//! the file, every trace is journaled, and an account (not an operator) may not trace.
//!
//! PostgreSQL: FENGQIAO_TEST_POSTGRES (default `postgres://postgres@127.0.0.1:5432/postgres`);
//! skipped with a note when unreachable, a failure when CI=true.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use fq_domain::Coded;
use fq_domain::actor::Actor;
use fq_engine::Engine;
use fq_store::Store;
use fq_store_postgres::{PgOptions, PgStore};
use fq_store_sqlite::{SqliteOptions, SqliteStore};

const AIS: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../data/samples/ais-marinecadastre/ais_2022-01-03_lower_mississippi.csv"
));

fn cli() -> Actor {
    Actor::Cli { os_user: "test".into() }
}

async fn traces(store: Arc<dyn Store>) {
    let engine = Engine::new(Arc::clone(&store));
    let rows = fq_risk::trace::read_positions(AIS).unwrap();
    let report = engine.ingest_positions(&cli(), "ais", AIS).await.unwrap();
    assert_eq!((report.rows, report.stored + report.duplicates), (rows.len(), rows.len()));
    assert!(report.stored > 1000 && report.subjects > 10, "{report:?}");
    let again = engine.ingest_positions(&cli(), "ais", AIS).await.unwrap();
    assert_eq!((again.stored, again.duplicates), (0, rows.len()), "the same reports are stored once");

    // A bad row refuses the whole file: nothing of it is stored.
    let day = (Utc.with_ymd_and_hms(2022, 1, 3, 0, 0, 0).unwrap(), Utc.with_ymd_and_hms(2022, 1, 4, 0, 0, 0).unwrap());
    let before = store.positions_between(day.0, day.1).await.unwrap().len();
    let bad = b"mmsi,time,lat,lon\n1,2022-01-03T00:00:00Z,29.9,-90.1\n2,2022-01-03T00:01:00Z,95,-90.1\n";
    let err = engine.ingest_positions(&cli(), "ais", bad).await.unwrap_err();
    assert_eq!((err.code(), err.field().as_deref()), ("positions_invalid", Some("file")));
    assert_eq!(store.positions_between(day.0, day.1).await.unwrap().len(), before);
    let err = engine.ingest_positions(&cli(), "AIS feed", AIS).await.unwrap_err();
    assert_eq!(err.code(), "source_invalid");

    // The trace from the store is the trace from the file.
    let at = Utc.with_ymd_and_hms(2022, 1, 3, 0, 25, 0).unwrap();
    let trace = engine.trace(&cli(), "311050800", at, 72, 1000.0).await.unwrap();
    let from_file: Vec<_> = fq_risk::trace::track(&rows, "311050800", at, 72).into_iter().cloned().collect();
    assert_eq!(trace.track, from_file);
    assert_eq!(trace.track.len(), 21);
    assert_eq!(trace.contacts, fq_risk::trace::contacts(&rows, "311050800", at, 72, 1000.0));
    assert!(!trace.contacts.is_empty());
    let head = store.recorded_head().await.unwrap().seq();
    let traced = store.stream_events("access:trace").await.unwrap();
    assert_eq!(traced.last().map(|e| e.seq), head, "the trace is journaled");
    assert!(traced.last().unwrap().payload.contains("311050800"));

    // Limits and who may trace.
    assert_eq!(engine.trace(&cli(), "311050800", at, 0, 1000.0).await.unwrap_err().code(), "hours_invalid");
    assert_eq!(engine.trace(&cli(), "311050800", at, 72, -1.0).await.unwrap_err().code(), "within_invalid");
    let nobody = engine.trace(&cli(), "000000000", at, 72, 1000.0).await.unwrap();
    assert!(nobody.track.is_empty() && nobody.contacts.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_positions_trace_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("fengqiao.db"), SqliteOptions::default()).await.unwrap());
    traces(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_positions_trace_on_postgres() {
    let Some(db) = fq_store_postgres::scratch::ScratchDatabase::create().await else { return };
    let store: Arc<dyn Store> = Arc::new(PgStore::connect(&db.url, PgOptions::default()).await.unwrap());
    traces(Arc::clone(&store)).await;
    store.close().await;
    db.drop_now().await;
}
