//! Risk events from the ten shipped sources at once, on SQLite and PostgreSQL: each file mapped
//! onto events (categories through the source's table), placed in the grid its point falls in or
//! by its region code, events outside every grid without a region reported and not stored; the
//! same files again store nothing twice; a file with a bad row stores nothing; only a source's
//! feed account may push to it.
//!
//! PostgreSQL: FENGQIAO_TEST_POSTGRES (default `postgres://postgres@127.0.0.1:5432/postgres`);
//! skipped with a note when unreachable, a failure when CI=true.

mod support;

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use fq_domain::Coded;
use fq_domain::actor::Actor;
use fq_domain::region::RegionCode;
use fq_engine::Engine;
use fq_risk::sources::{Format, SourceDef};
use fq_store::Store;
use fq_store_postgres::{PgOptions, PgStore};
use fq_store_sqlite::{SqliteOptions, SqliteStore};
use geo::Centroid;
use serde_json::{Map, Value as Json};
use support::cli;

fn object(value: Json) -> Map<String, Json> {
    match value {
        Json::Object(map) => map,
        other => panic!("an object, not {other}"),
    }
}

/// Three events of a source: one at a point in a 路桥 grid, one at a point far from any grid, one
/// placed by region code only (when the source has a region column).
fn file(def: &SourceDef, inside: (f64, f64)) -> Vec<u8> {
    let c = &def.columns;
    let category = def.categories.keys().next().unwrap().clone();
    let mut rows: Vec<Map<String, Json>> = Vec::new();
    for i in 0..3 {
        let mut row = Map::new();
        row.insert(c.id.clone(), Json::from(format!("{}-{i}", def.code)));
        row.insert(c.time.clone(), Json::from("2026-11-26 09:00"));
        row.insert(c.category.clone(), Json::from(category.clone()));
        if let Some(s) = &c.severity {
            row.insert(s.clone(), Json::from("2"));
        }
        if let Some(t) = &c.text {
            row.insert(t.clone(), Json::from("演示事件"));
        }
        let point = match i {
            0 => Some(inside),
            1 => Some((100.0, 10.0)),
            _ => None,
        };
        if let (Some((x, y)), Some(lon), Some(lat)) = (point, &c.lon, &c.lat) {
            row.insert(lon.clone(), Json::from(x.to_string()));
            row.insert(lat.clone(), Json::from(y.to_string()));
        }
        if let Some(region) = &c.region {
            row.insert(region.clone(), Json::from("331004"));
        }
        // A row with neither place would be bad: only sources with a region column get the third.
        let placed = row.contains_key(c.region.as_deref().unwrap_or("-")) || (point.is_some() && c.lon.is_some());
        if placed {
            rows.push(row);
        }
    }
    match def.format {
        Format::Json => serde_json::to_vec(&rows).unwrap(),
        Format::Csv => {
            let mut columns: Vec<String> = rows.iter().flat_map(|r| r.keys().cloned()).collect();
            columns.sort();
            columns.dedup();
            let mut out = columns.join(",") + "\n";
            for r in &rows {
                let cells: Vec<String> =
                    columns.iter().map(|k| r.get(k).and_then(Json::as_str).unwrap_or("").to_owned()).collect();
                out += &(cells.join(",") + "\n");
            }
            out.into_bytes()
        }
    }
}

async fn ingest(store: Arc<dyn Store>) {
    let engine = Engine::new(Arc::clone(&store)).with_clock(Arc::new(|| Utc.with_ymd_and_hms(2026, 11, 27, 2, 0, 0).unwrap()));
    engine.ensure_reference_data().await.unwrap();
    let luqiao = RegionCode::parse("331004").unwrap();
    engine.generate_grids(&cli(), &luqiao, 1000).await.unwrap();
    let grid = store.grids_within(&luqiao).await.unwrap().into_iter().next().unwrap();
    let centre = grid.area.centroid().unwrap();
    let sources = engine.risk_sources().unwrap();
    assert!(sources.sources.len() >= 10);
    // Ten sources at once.
    let mut tasks = Vec::new();
    for def in sources.sources.clone() {
        let engine = engine.clone();
        let bytes = file(&def, (centre.x(), centre.y()));
        tasks.push(tokio::spawn(
            async move { (def.clone(), engine.ingest_risk_events(&cli(), &def.code, &bytes).await.unwrap()) },
        ));
    }
    let mut stored = 0;
    for task in tasks {
        let (def, report) = task.await.unwrap();
        assert!(report.bad.is_empty(), "{}: {:?}", def.code, report.bad);
        let has_point = def.columns.lon.is_some();
        let has_region = def.columns.region.is_some();
        assert_eq!(report.in_grids, usize::from(has_point), "{}", def.code);
        // Far from any grid: by its region when it has one, else reported.
        assert_eq!(report.outside.len(), usize::from(has_point && !has_region), "{}", def.code);
        stored += report.stored;
    }
    let day = |d| Utc.with_ymd_and_hms(2026, 11, d, 0, 0, 0).unwrap();
    let events = store.risk_events(&luqiao, day(25), day(28)).await.unwrap();
    assert_eq!(events.len(), stored);
    assert!(events.iter().any(|e| e.grid.as_deref() == Some(&grid.code.to_string()) && e.region == grid.region));
    // The same files again: nothing stored twice.
    for def in &sources.sources {
        let report = engine.ingest_risk_events(&cli(), &def.code, &file(def, (centre.x(), centre.y()))).await.unwrap();
        assert_eq!(report.stored, 0, "{}", def.code);
    }
    assert_eq!(store.risk_events(&luqiao, day(25), day(28)).await.unwrap().len(), stored);
    // A bad row refuses the whole file.
    let bad = "report_id,reported_at,lon,lat,village,type,level,note\nX1,2026-11-26 09:00,121.4,28.5,,欠薪,1,\nX2,yesterday,121.4,28.5,,欠薪,1,\nX3,2026-11-26,,,999999,欠薪,1,\n";
    let report = engine.ingest_risk_events(&cli(), "grid_patrol", bad.as_bytes()).await.unwrap();
    assert_eq!(report.stored, 0);
    assert_eq!(report.bad.iter().map(|b| b.line).collect::<Vec<_>>(), [3]);
    let unknown_region = "report_id,reported_at,lon,lat,village,type,level,note\nX3,2026-11-26,,,339999,欠薪,1,\n";
    let report = engine.ingest_risk_events(&cli(), "grid_patrol", unknown_region.as_bytes()).await.unwrap();
    assert!(report.bad[0].message.contains("not a region"), "{:?}", report.bad);
    assert_eq!(store.risk_events(&luqiao, day(25), day(28)).await.unwrap().len(), stored);
    // Only the source's feed account pushes to it.
    let org = engine
        .create_organisation(
            &cli(),
            fq_engine::NewOrganisation { name: "x".into(), kind: "centre".into(), region: "331004".into(), parent: None },
        )
        .await
        .unwrap()
        .0
        .id
        .0;
    let request = fq_engine::NewAccount {
        login: "someone".into(),
        display_name: "x".into(),
        org,
        password: None,
        grants: vec![("analyst".into(), "331004".into(), None)],
    };
    engine.create_account(&cli(), request).await.unwrap();
    let someone = Actor::Account(Box::new(
        store.account_by_login(&fq_domain::account::Login::parse("someone").unwrap()).await.unwrap().unwrap(),
    ));
    let err = engine.ingest_risk_events(&someone, "grid_patrol", b"").await.unwrap_err();
    assert_eq!(err.code(), "forbidden");

    // The nightly run's Open311 servers: chosen by operators and the province's administrators
    // (not a county's: the pulled events land in every county), kept for every process.
    let portal = "http://10.0.0.5:8080/open311/v2";
    let county_admin = support::account(&engine, &store, "county-admin", org, "admin", "331004").await;
    let province_admin = support::account(&engine, &store, "province-admin", org, "admin", "33").await;
    for outsider in [&someone, &county_admin] {
        let err = engine.add_open311_pull(outsider, "open311_portal", portal).await.unwrap_err();
        assert_eq!(err.code(), "forbidden");
        assert_eq!(engine.open311_pull_entries(outsider).await.unwrap_err().code(), "forbidden");
        assert!(!fq_engine::chooses_open311_pulls(outsider));
    }
    assert!(fq_engine::chooses_open311_pulls(&province_admin));
    let refused = engine.add_open311_pull(&province_admin, "grid_patrol", portal).await.unwrap_err();
    assert_eq!((refused.code(), refused.field().as_deref()), ("source_not_open311", Some("source")));
    let refused = engine.add_open311_pull(&province_admin, "open311_portal", "portal.example/open311").await.unwrap_err();
    assert_eq!((refused.code(), refused.field().as_deref()), ("url_invalid", Some("url")));
    assert!(store.stream_events(fq_engine::PULLS_STREAM).await.unwrap().is_empty(), "nothing changed by a refusal");
    assert!(engine.add_open311_pull(&province_admin, "open311_portal", portal).await.unwrap());
    let (entries, readers) = engine.open311_pull_entries(&province_admin).await.unwrap();
    assert_eq!(readers.iter().map(|r| r.code.as_str()).collect::<Vec<_>>(), ["open311_portal"]);
    assert_eq!(entries.len(), 1);
    assert_eq!((entries[0].url.as_str(), entries[0].source_name.as_str()), (portal, "Open311 服务请求"));
    assert_eq!(entries[0].added_by, Some(province_admin.journal_name()), "{entries:?}");
    assert!(entries[0].added_at.is_some());
    engine.remove_open311_pull(&province_admin, "open311_portal", portal).await.unwrap();
    assert!(engine.add_open311_pull(&cli(), "open311_portal", portal).await.unwrap());
    let (entries, _) = engine.open311_pull_entries(&cli()).await.unwrap();
    assert_eq!(entries[0].added_by, Some(cli().journal_name()), "the latest addition's");
    assert!(!engine.add_open311_pull(&cli(), " open311_portal ", &format!("{portal}/")).await.unwrap(), "the same server");
    let other_process = Engine::new(Arc::clone(&store));
    let listed = other_process.open311_pulls().await.unwrap();
    assert_eq!(listed, vec![fq_engine::Open311Pull { source: "open311_portal".into(), url: portal.into() }]);
    assert_eq!(store.stream_events(fq_engine::PULLS_STREAM).await.unwrap().len(), 3, "one change journaled each time");
    assert_eq!(engine.remove_open311_pull(&someone, "open311_portal", portal).await.unwrap_err().code(), "forbidden");
    other_process.remove_open311_pull(&cli(), "open311_portal", portal).await.unwrap();
    assert!(engine.open311_pulls().await.unwrap().is_empty());
    assert_eq!(engine.remove_open311_pull(&cli(), "open311_portal", portal).await.unwrap_err().code(), "not_found");

    // A year and more of wage-arrears reports around one grid: the whistle opens a red or orange
    // warning there, dispatched to the county's centre; a second run the same day opens none.
    let hot = store.grids_within(&luqiao).await.unwrap().into_iter().nth(40).unwrap();
    let c = hot.area.centroid().unwrap();
    let mut csv = String::from("report_id,reported_at,lon,lat,village,type,level,note\n");
    let first = chrono::NaiveDate::from_ymd_opt(2025, 9, 1).unwrap();
    for d in 0..450 {
        if d % 2 == 0 {
            let day = first + chrono::Duration::days(d);
            csv += &format!("W{d},{day} 09:00,{:.6},{:.6},,欠薪,2,\n", c.x(), c.y());
        }
    }
    let report = engine.ingest_risk_events(&cli(), "grid_patrol", csv.as_bytes()).await.unwrap();
    assert_eq!(report.stored, 225, "{:?}", report.bad);
    let day = first + chrono::Duration::days(450);
    let err = engine.whistle(&someone, &luqiao, "dispute_labour", 300.0, day).await.unwrap_err();
    assert_eq!(err.code(), "forbidden");
    let run = engine.whistle(&cli(), &luqiao, "dispute_labour", 300.0, day).await.unwrap();
    assert_eq!(run.opened.len(), 1, "{run:?}");
    let warning = engine.find_case(&cli(), &run.opened[0]).await.unwrap().case;
    assert_eq!((warning.channel.as_str(), warning.state.as_str()), ("model", "handling"));
    assert!(warning.priority == "red" || warning.priority == "orange");
    assert_eq!(warning.grid.map(|g| g.to_string()), Some(hot.code.to_string()));
    assert_eq!(warning.unit.map(|u| u.0), Some(org));
    let again = engine.whistle(&cli(), &luqiao, "dispute_labour", 300.0, day).await.unwrap();
    assert_eq!((again.opened.len(), again.known, again.raised.len()), (0, 1, 0));
    // Set down to blue by hand, the next forecast raises it again.
    let lowered = object(serde_json::json!({"priority": "blue", "reason": "人工研判：已有专班跟进"}));
    let view = engine.act_on_case(&cli(), warning.id, "relevel", lowered, None).await.unwrap();
    assert_eq!(view.case.priority, "blue");
    let raised = engine.whistle(&cli(), &luqiao, "dispute_labour", 300.0, day).await.unwrap();
    assert_eq!(raised.raised, vec![warning.number.clone()]);
    let now = engine.find_case(&cli(), &warning.number).await.unwrap().case;
    assert_eq!(now.priority, warning.priority, "back to the model's level");

    // The heat map's forecast layer: the hot grid expects the most in the week from the day.
    let heat = fq_engine::HeatQuery {
        county: luqiao.clone(),
        programme: Some(fq_engine::RISK_EVENTS.into()),
        category: Some("dispute_labour".into()),
        from: fq_domain::calendar::start_of_day(day - chrono::Duration::days(90)),
        to: fq_domain::calendar::start_of_day(day),
        forecast: Some(fq_engine::Horizon::Week),
        checks: true,
    };
    let map = engine.heat_map(&cli(), &heat).await.unwrap();
    let layer = map.forecast.as_ref().unwrap();
    assert_eq!((layer.day, layer.categories.as_slice()), (day, ["dispute_labour".to_owned()].as_slice()));
    let again = engine.heat_map(&cli(), &heat).await.unwrap();
    let expected = |m: &fq_engine::HeatMap| m.cells.iter().map(|c| c.expected).collect::<Vec<f64>>();
    assert_eq!(expected(&again), expected(&map), "the cached forecast is the same forecast");
    let top = map.cells.iter().max_by(|a, b| a.expected.total_cmp(&b.expected)).unwrap();
    assert_eq!(top.code, hot.code.to_string());
    assert!(top.expected > 0.5, "{}", top.expected);
    // The period's events are counted in the grid each was placed in: the hot grid holds them.
    let busiest = map.cells.iter().max_by_key(|c| c.count).unwrap();
    let counted: u32 = map.cells.iter().map(|c| c.count).sum();
    assert_eq!((busiest.code.as_str(), busiest.count), (top.code.as_str(), counted), "{} of {}", busiest.count, map.cases);
    assert!(counted > 0 && counted as usize + map.outside_grids <= map.cases, "{counted} {}", map.cases);
    assert!(engine.heat_map(&someone, &heat).await.is_ok(), "the county's risk analyst reads the forecast");
    // A day and a month from the same day: the same hot grid, each its own fit (the week's cached
    // forecast is not reused), a day expecting less than the week and a month more.
    let top_of = |m: &fq_engine::HeatMap| {
        let top = m.cells.iter().max_by(|a, b| a.expected.total_cmp(&b.expected)).unwrap();
        (top.code.clone(), top.expected)
    };
    let day_map =
        engine.heat_map(&cli(), &fq_engine::HeatQuery { forecast: Some(fq_engine::Horizon::Day), ..heat.clone() }).await.unwrap();
    let month_map = engine
        .heat_map(&cli(), &fq_engine::HeatQuery { forecast: Some(fq_engine::Horizon::Month), ..heat.clone() })
        .await
        .unwrap();
    assert_eq!(day_map.forecast.as_ref().map(|f| f.horizon_days), Some(1));
    assert_eq!(month_map.forecast.as_ref().map(|f| f.horizon_days), Some(30));
    let (week_top, week_expected) = top_of(&map);
    let ((day_top, day_expected), (month_top, month_expected)) = (top_of(&day_map), top_of(&month_map));
    assert_eq!((day_top.as_str(), month_top.as_str()), (week_top.as_str(), week_top.as_str()));
    assert!(day_expected < week_expected && week_expected < month_expected, "{day_expected} {week_expected} {month_expected}");
    // A category that is none of the risk categories is named (the track record's scope of
    // every category, "*", among them).
    for category in ["no_such", fq_store::EVERY_CATEGORY] {
        let unknown = fq_engine::HeatQuery { category: Some(category.into()), ..heat.clone() };
        let err = engine.heat_map(&cli(), &unknown).await.unwrap_err();
        assert_eq!(err.code(), "category_unknown", "{err}");
    }

    // A week of fire reports in 椒江区 (placed by village code, points kept): too little history.
    let mut fires = String::from("report_id,reported_at,lon,lat,village,type,level,note\n");
    for d in 1..=7 {
        fires += &format!("F{d},{} 20:00,121.44,28.68,331002001003,消防隐患,3,\n", day - chrono::Duration::days(d));
    }
    let report = engine.ingest_risk_events(&cli(), "grid_patrol", fires.as_bytes()).await.unwrap();
    assert_eq!(report.stored, 7, "{report:?}");

    // The nightly run: claimed once per day whoever asks; every category of every county with
    // events; a category with too little history is named, not fatal; the open warning stands.
    let from = fq_domain::calendar::start_of_day(first);
    let counties = store.risk_event_counties(from, fq_domain::calendar::start_of_day(day)).await.unwrap();
    assert!(counties.iter().any(|c| c.as_str() == "331004"), "{counties:?}");
    assert!(counties.iter().all(|c| c.as_str().len() == 6), "{counties:?}");
    let empty = store.risk_event_counties(from - chrono::Duration::days(400), from).await.unwrap();
    assert!(empty.is_empty(), "{empty:?}");
    assert!(engine.claim_nightly(day).await.unwrap());
    assert!(!engine.claim_nightly(day).await.unwrap(), "a second claim of the same day");
    let night = engine.nightly_whistle(day).await.unwrap();
    let labour = night.runs.iter().find(|r| r.county == "331004" && r.category == "dispute_labour").unwrap();
    assert_eq!((labour.run.opened.len(), labour.run.known, labour.skipped.as_deref()), (0, 1, None));
    let fire = night.runs.iter().find(|r| r.county == "331002" && r.category == "fire").unwrap();
    assert!(fire.skipped.as_deref().is_some_and(|s| s.contains("history")), "{fire:?}");
    assert!(engine.claim_nightly(day + chrono::Duration::days(1)).await.unwrap(), "the next day is free");
    // A claim whose process never finished is a lease: after half an hour another takes it.
    let next = day + chrono::Duration::days(1);
    assert!(!engine.claim_nightly(next).await.unwrap(), "claimed a moment ago");
    let later = Engine::new(Arc::clone(&store)).with_clock(Arc::new(|| Utc::now() + chrono::Duration::minutes(31)));
    assert!(later.claim_nightly(next).await.unwrap(), "the stale claim is taken over");
    assert!(!later.claim_nightly(day).await.unwrap(), "a finished night stays finished");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_sources_at_once_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("fengqiao.db"), SqliteOptions::default()).await.unwrap());
    ingest(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_sources_at_once_on_postgres() {
    let Some(db) = fq_store_postgres::scratch::ScratchDatabase::create().await else { return };
    let store: Arc<dyn Store> = Arc::new(PgStore::connect(&db.url, PgOptions::default()).await.unwrap());
    ingest(Arc::clone(&store)).await;
    store.close().await;
    db.drop_now().await;
}
