//! The inspection-review programme (programmes/inspection) on the case engine, on SQLite and on
//! PostgreSQL: a station in 婺城区 submits records; each goes to a reviewer of another county of
//! 金华 (never the one in its own county), drawn among the least loaded and replayable; a
//! reviewer cannot list records, only open the next one assigned to them; a rejected record goes
//! back to the station and returns to the same reviewer when resubmitted.
//!
//! PostgreSQL: FENGQIAO_TEST_POSTGRES (default `postgres://postgres@127.0.0.1:5432/postgres`);
//! skipped with a note when unreachable, a failure when CI=true.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{NaiveDate, TimeZone, Utc};
use fq_domain::Coded;
use fq_domain::inspection::{CountyWeight, simulate};
use fq_domain::programme::FieldValue;
use fq_engine::{CaseQuery, Engine, NewOrganisation, shipped_rule_sets};
use fq_store::HandlerProfile;
use fq_store::Store;
use fq_store_postgres::{PgOptions, PgStore};
use fq_store_sqlite::{SqliteOptions, SqliteStore};
use serde_json::{Value as Json, json};
use uuid::Uuid;

use support::{account, cli};

async fn org(engine: &Engine, name: &str, kind: &str, region: &str) -> Uuid {
    let request = NewOrganisation { name: name.into(), kind: kind.into(), region: region.into(), parent: None };
    engine.create_organisation(&cli(), request).await.unwrap().0.id.0
}

fn object(value: Json) -> serde_json::Map<String, Json> {
    match value {
        Json::Object(map) => map,
        other => panic!("an object, not {other}"),
    }
}

async fn review(store: Arc<dyn Store>) {
    let engine = Engine::new(Arc::clone(&store)).with_clock(Arc::new(|| Utc.with_ymd_and_hms(2026, 11, 2, 1, 0, 0).unwrap()));
    engine.ensure_reference_data().await.unwrap();
    let rule_sets = shipped_rule_sets().unwrap();
    let station_org = org(&engine, "婺城区某机动车检测站", "station", "330702").await;
    let station = account(&engine, &store, "wucheng-station", station_org, "station", "330702").await;
    // Reviewers of the sub-centres: one in 婺城 itself (never drawn for 婺城's records), two in 金东,
    // one in 义乌; and one in 舟山's 普陀, another city (never drawn either: the review is city-wide).
    let mut reviewers = BTreeMap::new();
    for (login, county) in
        [("rev-wucheng", "330702"), ("rev-jindong-1", "330703"), ("rev-jindong-2", "330703"), ("rev-yiwu", "330782")]
    {
        let centre = org(&engine, &format!("{county}审核分中心{login}"), "centre", county).await;
        let actor = account(&engine, &store, login, centre, "reviewer", county).await;
        reviewers.insert(actor.account().unwrap().id, (login, county, actor));
    }

    // 兰溪's reviewer holds no class qualification: never drawn.
    let lanxi_centre = org(&engine, "兰溪市审核分中心", "centre", "330781").await;
    let lanxi = account(&engine, &store, "rev-lanxi", lanxi_centre, "reviewer", "330781").await;
    for (id, (_, _, actor)) in &reviewers {
        let unit = actor.account().unwrap().org;
        let profile = HandlerProfile {
            skills: vec!["k33".into(), "h31".into(), "h11".into(), "k11".into()],
            ..HandlerProfile::default_for("")
        };
        engine.set_handler_profile(&cli(), unit, Some(*id), profile).await.unwrap();
    }

    // Twelve records of 婺城's stations, pushed whole (the simulator's records).
    let wucheng = [CountyWeight { code: "330702".into(), name: "婺城区".into(), weight: 1.0 }];
    let records = simulate('G', &wucheng, NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(), 1, 12, 5);
    let cases_before =
        engine.count_cases(&cli(), CaseQuery { programme: "inspection".into(), ..CaseQuery::default() }).await.unwrap();
    // A record that cannot be reviewed is refused, naming the field, and nothing is stored.
    let mut broken = records[0].clone();
    broken.vin = "LSVAU2180N218329".into();
    let err = engine.receive_inspection(&station, broken, "station_push").await.unwrap_err();
    assert_eq!((err.code(), err.to_string().contains("record.vin")), ("vin_invalid", true), "{err}");
    // A station of another county cannot push 婺城's records.
    let yiwu_station_org = org(&engine, "义乌市某检测站", "station", "330782").await;
    let yiwu_station = account(&engine, &store, "yiwu-station", yiwu_station_org, "station", "330782").await;
    let err = engine.receive_inspection(&yiwu_station, records[0].clone(), "station_push").await.unwrap_err();
    assert_eq!(err.code(), "forbidden_region", "{err}");
    let after = engine.count_cases(&cli(), CaseQuery { programme: "inspection".into(), ..CaseQuery::default() }).await.unwrap();
    assert_eq!(after, cases_before, "nothing stored for refused records");

    let mut numbers = Vec::new();
    for record in &records {
        let received = engine.receive_inspection(&station, record.clone(), "station_push").await.unwrap();
        assert_eq!(received.state, "reviewing");
        let view = engine.find_case(&cli(), &received.number).await.unwrap();
        // The standard's verdict and the rules that fired are stored with the record.
        let expected = rule_sets[0].review(record).unwrap();
        assert_eq!(received.review, expected);
        let fired = match view.case.fields.get("rules_fired") {
            Some(FieldValue::List(items)) => items.len(),
            _ => 0,
        };
        assert_eq!(fired, expected.fired.len(), "{}", received.number);
        assert!(matches!(view.case.fields.get("record"), Some(FieldValue::Json(_))), "the whole record is kept");
        let person = view.case.person.expect("a reviewer was drawn");
        assert_ne!(person, lanxi.account().unwrap().id, "an unqualified reviewer is never drawn");
        let (_, county, _) = &reviewers[&person];
        assert_ne!(*county, "330702", "never reviewed in its own county");
        assert!(county.starts_with("3307"), "reviewed within the city");
        numbers.push(view.case.number.clone());
    }
    // The same record twice is stored once.
    let err = engine.receive_inspection(&station, records[3].clone(), "station_push").await.unwrap_err();
    assert_eq!(err.code(), "record_duplicate");
    // Least loaded, uniform among ties: 12 records over three eligible reviewers, four each.
    let mut loads: BTreeMap<&str, usize> = BTreeMap::new();
    for number in &numbers {
        let view = engine.find_case(&cli(), number).await.unwrap();
        *loads.entry(reviewers[&view.case.person.unwrap()].0).or_default() += 1;
        let (_, replays) = engine.replay_dispatch(&cli(), number).await.unwrap();
        assert!(!replays.is_empty() && replays.iter().all(|r| r.identical), "{number}: the draw replays");
    }
    assert_eq!(loads.values().copied().collect::<Vec<_>>(), [4, 4, 4], "{loads:?}");
    assert!(!loads.contains_key("rev-wucheng") && !loads.contains_key("rev-putuo"), "{loads:?}");

    // A reviewer cannot list or search; they open their next record.
    let (_, _, yiwu) = reviewers.values().find(|(l, _, _)| *l == "rev-yiwu").unwrap();
    let query = CaseQuery { programme: "inspection".into(), ..CaseQuery::default() };
    let err = engine.list_cases(yiwu, query).await.unwrap_err();
    assert_eq!(err.code(), "forbidden_assignment_only");
    let next = engine.next_assigned_case(yiwu, "inspection").await.unwrap().expect("a record assigned");
    let first = next.case.id;
    // Not theirs: another reviewer's record is not found.
    let other = numbers.iter().find(|n| **n != next.case.number).unwrap();
    let others = engine.find_case(&cli(), other).await.unwrap();
    if others.case.person != next.case.person {
        assert_eq!(engine.case_view(yiwu, others.case.id).await.unwrap_err().code(), "not_found");
    }

    // Rejected back to the station with a reason; the station fixes and resubmits; the same
    // reviewer gets it back and passes it.
    let reject = object(json!({"reject_reason": "watermark_before_start", "note": "左前45度照片水印早于检验开始"}));
    let view = engine.act_on_case(yiwu, first, "reject", reject, None).await.unwrap();
    assert_eq!(view.case.state, "rejected");
    assert!(view.case.clocks["fix"].stopped_at.is_none(), "the fix clock runs");
    let next = engine.next_assigned_case(yiwu, "inspection").await.unwrap().expect("another record");
    assert_ne!(next.case.id, first, "a record waiting for its station is not the reviewer's next");
    let view = engine.act_on_case(&station, first, "resubmit", object(json!({"note": "已重新拍摄"})), None).await.unwrap();
    assert_eq!((view.case.state.as_str(), view.case.person), ("reviewing", Some(yiwu.account().unwrap().id)));
    let view = engine.act_on_case(yiwu, first, "pass", Default::default(), None).await.unwrap();
    assert_eq!(view.case.state, "passed");
    assert!(view.case.closed_at.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_go_to_other_counties_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("fengqiao.db"), SqliteOptions::default()).await.unwrap());
    review(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_go_to_other_counties_on_postgres() {
    let Some(db) = fq_store_postgres::scratch::ScratchDatabase::create().await else { return };
    let store: Arc<dyn Store> = Arc::new(PgStore::connect(&db.url, PgOptions::default()).await.unwrap());
    review(Arc::clone(&store)).await;
    store.close().await;
    db.drop_now().await;
}
