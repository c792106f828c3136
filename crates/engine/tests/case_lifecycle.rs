//! The demo programme end to end through the engine, on SQLite and on PostgreSQL: intake →
//! dispatch → co-handling → supervision (a yellow, then a red card as the simulated clock passes
//! the limits) → escalation → closure → failed verification → reopening → closure → rating. Also:
//! who may see and act, timers firing exactly once with two schedulers, and dispatch replay.
//!
//! PostgreSQL: FENGQIAO_TEST_POSTGRES (default `postgres://postgres@127.0.0.1:5432/postgres`);
//! skipped with a note when unreachable, a failure when CI=true.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use fq_domain::actor::Actor;
use fq_domain::calendar::beijing;
use fq_domain::case::{CaseEvent, CaseId, SupervisionLevel};
use fq_domain::region::RegionCode;
use fq_engine::{CaseQuery, Engine, EngineError, NewAccount, NewOrganisation, OpenCase};
use fq_store::Store;
use fq_store_postgres::{PgOptions, PgStore};
use fq_store_sqlite::{SqliteOptions, SqliteStore};
use serde_json::{Value as Json, json};
use support::cli;
use uuid::Uuid;

fn beijing_time(text: &str) -> DateTime<Utc> {
    beijing().from_local_datetime(&NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()).unwrap().to_utc()
}

struct World {
    engine: Engine,
    now: Arc<AtomicI64>,
    store: Arc<dyn Store>,
}

impl World {
    fn new(store: Arc<dyn Store>) -> World {
        let now = Arc::new(AtomicI64::new(beijing_time("2026-09-28 08:00").timestamp()));
        World { engine: engine_on(Arc::clone(&store), &now), now, store }
    }

    fn set(&self, text: &str) {
        self.now.store(beijing_time(text).timestamp(), Ordering::SeqCst);
    }

    async fn org(&self, name: &str, kind: &str, region: &str, parent: Option<Uuid>) -> Uuid {
        let request = NewOrganisation { name: name.into(), kind: kind.into(), region: region.into(), parent };
        self.engine.create_organisation(&cli(), request).await.unwrap().0.id.0
    }

    async fn account(&self, login: &str, org: Uuid, role: &str, region: &str) -> Actor {
        let request = NewAccount {
            login: login.into(),
            display_name: login.into(),
            org,
            password: Some("correct horse battery staple".into()),
            grants: vec![(role.into(), region.into(), None)],
        };
        self.engine.create_account(&cli(), request).await.unwrap();
        self.engine.authenticate_password(login, "correct horse battery staple").await.unwrap()
    }
}

fn engine_on(store: Arc<dyn Store>, now: &Arc<AtomicI64>) -> Engine {
    let clock = Arc::clone(now);
    Engine::new(store).with_clock(Arc::new(move || Utc.timestamp_opt(clock.load(Ordering::SeqCst), 0).unwrap()))
}

fn inputs(value: Json) -> serde_json::Map<String, Json> {
    match value {
        Json::Object(map) => map,
        other => panic!("inputs must be an object, not {other}"),
    }
}

async fn events_of(store: &dyn Store, id: CaseId) -> Vec<CaseEvent> {
    store
        .stream_events(&id.stream())
        .await
        .unwrap()
        .into_iter()
        .map(|r| serde_json::from_value(r.payload_json()).unwrap())
        .collect()
}

fn cards(events: &[CaseEvent], stage: &str) -> Vec<SupervisionLevel> {
    events
        .iter()
        .filter_map(|e| match e {
            CaseEvent::Supervised { level, stage: Some(s), .. } if s == stage => Some(*level),
            _ => None,
        })
        .collect()
}

/// The whole story on one store. `second` is another store on the same database (another
/// process), or the same store for SQLite.
async fn lifecycle(store: Arc<dyn Store>, second: Arc<dyn Store>) {
    let w = World::new(Arc::clone(&store));
    w.engine.ensure_reference_data().await.unwrap();
    // Xinchang county (330624): its first two towns.
    let county = RegionCode::parse("330624").unwrap();
    let towns = w.engine.region_children(&county).await.unwrap();
    let (town1, town2) = (towns[0].code.to_string(), towns[1].code.to_string());

    let county_centre = w.org("县社会治理中心", "centre", "330624", None).await;
    let town_centre = w.org("镇矛调中心", "centre", &town1, Some(county_centre)).await;
    let department = w.org("县司法局", "department", "330624", Some(county_centre)).await;
    let committee = w.org("镇人民调解委员会", "mediation_committee", &town2, Some(county_centre)).await;
    let elsewhere = w.org("钱塘区社会治理中心", "centre", "330114", None).await;

    let intake = w.account("intake1", town_centre, "intake", "330624").await;
    let handler = w.account("handler1", town_centre, "handler", "330624").await;
    let dept_handler = w.account("dept1", department, "handler", "330624").await;
    let committee_handler = w.account("committee1", committee, "handler", "330624").await;
    let county_handler = w.account("county1", county_centre, "handler", "330624").await;
    let leader = w.account("leader1", county_centre, "leader", "330624").await;
    let verifier = w.account("verifier1", county_centre, "verifier", "330624").await;
    let outsider = w.account("outsider1", elsewhere, "handler", "330114").await;
    let reviewer = w.account("reviewer1", elsewhere, "reviewer", "330114").await;

    // Intake on Monday 28 September 2026, three days before National Day.
    w.set("2026-09-28 09:00");
    let open = OpenCase {
        programme: "demo".into(),
        kind: "dispute".into(),
        priority: None,
        region: town1.clone(),
        grid: None,
        channel: "station".into(),
        intake_org: Some(town_centre),
        fields: inputs(
            json!({"title": "邻里漏水纠纷", "category": "neighbour", "applicant": {"name": "张三", "role": "申请人"}}),
        ),
    };
    let view = w.engine.open_case(&intake, open.clone()).await.unwrap();
    let id = view.case.id;
    assert_eq!(view.case.number, "YS2026-000001");
    assert_eq!(view.case.state, "submitted");
    let second_case = w.engine.open_case(&intake, open.clone()).await.unwrap();
    assert_eq!(second_case.case.number, "YS2026-000002", "numbers follow each other");
    let rejected = w
        .engine
        .act_on_case(&intake, second_case.case.id, "reject_intake", inputs(json!({"reason": "已由法院受理"})), None)
        .await
        .unwrap();
    assert_eq!(rejected.case.state, "closed");
    let err = w.engine.open_case(&handler, open.clone()).await.unwrap_err();
    assert_eq!(fq_domain::Coded::code(&err), "forbidden_role", "handlers do not register cases");
    let err = w.engine.open_case(&intake, OpenCase { region: "339999".into(), ..open.clone() }).await.unwrap_err();
    assert!(matches!(err, EngineError::Invalid { .. } | EngineError::NotFound { .. }), "{err}");

    // The outsider can neither see nor act, and is told the case does not exist.
    assert!(matches!(w.engine.case_view(&outsider, id).await.unwrap_err(), EngineError::NotFound { .. }));
    let err = w.engine.act_on_case(&outsider, id, "accept", inputs(json!({})), None).await.unwrap_err();
    assert!(matches!(err, EngineError::NotFound { .. }), "{err}");
    // The reviewer's role is assignment-only: no lists.
    let err = w.engine.list_cases(&reviewer, CaseQuery { programme: "demo".into(), ..CaseQuery::default() }).await.unwrap_err();
    assert_eq!(fq_domain::Coded::code(&err), "forbidden_assignment_only");

    // Acceptance dispatches by region to the town's centre.
    w.set("2026-09-28 09:30");
    let view = w.engine.act_on_case(&intake, id, "accept", inputs(json!({})), Some(view.case.version)).await.unwrap();
    assert_eq!((view.case.state.as_str(), view.case.unit.map(|u| u.0)), ("handling", Some(town_centre)));
    assert_eq!(
        view.actions.iter().map(|a| a.code.as_str()).collect::<Vec<_>>(),
        vec!["edit"],
        "the intake clerk may only add information now"
    );
    let handler_view = w.engine.case_view(&handler, id).await.unwrap();
    let offered: Vec<&str> = handler_view.actions.iter().map(|a| a.code.as_str()).collect();
    assert!(offered.contains(&"finish") && offered.contains(&"cohandle") && !offered.contains(&"confirm"), "{offered:?}");
    // A stale form is refused.
    let err = w.engine.act_on_case(&handler, id, "edit", inputs(json!({"description": "x"})), Some(1)).await.unwrap_err();
    assert_eq!(fq_domain::Coded::code(&err), "case_changed");

    // Co-handling with the department and the other town's committee.
    let units = json!({"units": [department.to_string(), committee.to_string()]});
    w.engine.act_on_case(&handler, id, "cohandle", inputs(units), None).await.unwrap();
    let err =
        w.engine.act_on_case(&county_handler, id, "complete_subtask", inputs(json!({"result": "x"})), None).await.unwrap_err();
    assert_eq!(fq_domain::Coded::code(&err), "forbidden_no_subtask");
    w.engine.act_on_case(&dept_handler, id, "complete_subtask", inputs(json!({"result": "已核实产权"})), None).await.unwrap();
    let view = w
        .engine
        .act_on_case(&committee_handler, id, "complete_subtask", inputs(json!({"result": "同意联合调解"})), None)
        .await
        .unwrap();
    assert_eq!(view.case.state, "handling", "both sub-tasks done: back to the lead unit");

    // Supervision. The on-site tier (3 working days) ends with 8 October; the handling clock
    // warns after 4, is due after 5 and red after 7 working days, counted over National Day
    // (1-7 October) with the make-up Saturday 10 October.
    w.set("2026-10-09 08:00");
    let report = w.engine.fire_due_timers(100).await.unwrap();
    assert_eq!(report.fired, 1);
    let view = w.engine.case_view(&leader, id).await.unwrap();
    assert_eq!(view.case.tier, Some(1), "the on-site tier ran out: up to the town tier");
    w.set("2026-10-10 09:00");
    w.engine.fire_due_timers(100).await.unwrap();
    assert_eq!(cards(&events_of(w.store.as_ref(), id).await, "handle"), vec![SupervisionLevel::Reminder]);

    // The yellow card: fired by two schedulers at once (two processes on PostgreSQL), once.
    w.set("2026-10-11 09:00");
    let other = engine_on(Arc::clone(&second), &w.now);
    let (a, b) = tokio::join!(w.engine.fire_due_timers(100), other.fire_due_timers(100));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.fired + b.fired, 1, "one scheduler fires, the other finds nothing left: {a:?} {b:?}");
    assert_eq!(
        cards(&events_of(w.store.as_ref(), id).await, "handle"),
        vec![SupervisionLevel::Reminder, SupervisionLevel::Yellow]
    );
    assert_eq!(w.engine.fire_due_timers(100).await.unwrap().events, 0, "nothing fires twice");

    w.set("2026-10-14 09:00");
    w.engine.fire_due_timers(100).await.unwrap();
    let events = events_of(w.store.as_ref(), id).await;
    assert_eq!(cards(&events, "handle"), vec![SupervisionLevel::Reminder, SupervisionLevel::Yellow, SupervisionLevel::Red]);
    let tallies = w.engine.unit_tallies(&leader, &county).await.unwrap();
    let town_tally = &tallies.iter().find(|(o, _)| o.id.0 == town_centre).unwrap().1;
    assert_eq!((town_tally.reminders, town_tally.yellow_cards, town_tally.red_cards), (1, 1, 1), "cards count against the unit");
    let notices = w.engine.my_notifications(&leader, 50).await.unwrap();
    assert!(
        notices.iter().any(|n| n.reason == "supervision:red" && n.recipient == format!("unit:{county_centre}")),
        "the superior hears of the red card"
    );

    // Escalation by hand to the county tier: drawn to the county centre.
    let view = w.engine.act_on_case(&leader, id, "escalate", inputs(json!({"reason": "多部门协调"})), None).await.unwrap();
    assert_eq!((view.case.tier, view.case.unit.map(|u| u.0)), (Some(2), Some(county_centre)));
    let err = w.engine.act_on_case(&handler, id, "finish", inputs(json!({"outcome": "resolved"})), None).await.unwrap_err();
    assert_eq!(fq_domain::Coded::code(&err), "forbidden_not_assigned_unit", "the town no longer holds it");

    // Closure, failed verification, reopening, closure, rating.
    w.set("2026-10-15 10:00");
    let err =
        w.engine.act_on_case(&county_handler, id, "finish", inputs(json!({"outcome": "not_resolved"})), None).await.unwrap_err();
    assert_eq!(fq_domain::Coded::code(&err), "guard_false");
    w.engine.act_on_case(&county_handler, id, "finish", inputs(json!({"outcome": "resolved"})), None).await.unwrap();
    let view = w.engine.act_on_case(&verifier, id, "reopen", inputs(json!({"reason": "赔偿未到位"})), None).await.unwrap();
    assert_eq!((view.case.state.as_str(), view.case.reopened), ("handling", 1));
    w.set("2026-10-16 10:00");
    w.engine.act_on_case(&county_handler, id, "finish", inputs(json!({})), None).await.unwrap();
    let view = w.engine.act_on_case(&verifier, id, "confirm", inputs(json!({})), None).await.unwrap();
    assert_eq!(view.case.state, "closed");
    assert!(view.case.closed_at.is_some());
    let err = w.engine.act_on_case(&verifier, id, "rate", inputs(json!({"rating": 9})), None).await.unwrap_err();
    assert_eq!((fq_domain::Coded::code(&err), fq_domain::Coded::field(&err).as_deref()), ("field_out_of_range", Some("rating")));
    let view =
        w.engine.act_on_case(&verifier, id, "rate", inputs(json!({"rating": 4, "comment": "处理及时"})), None).await.unwrap();
    assert_eq!(view.case.rating.as_ref().map(|r| r.score), Some(4));

    // The projections agree with the journal.
    assert!(w.engine.verify_case_snapshot(&leader, id).await.unwrap(), "the stored case is the fold of its stream");
    let tallies = w.engine.unit_tallies(&leader, &county).await.unwrap();
    let county_tally = &tallies.iter().find(|(o, _)| o.id.0 == county_centre).unwrap().1;
    assert_eq!((county_tally.open_cases, county_tally.closed, county_tally.rating_sum, county_tally.rating_count), (0, 1, 4, 1));
    assert!(county_tally.open_load.abs() < 1e-9);
    let town_tally = &tallies.iter().find(|(o, _)| o.id.0 == town_centre).unwrap().1;
    assert_eq!((town_tally.open_cases, town_tally.assigned_total), (0, 2), "the case moved on; the town had it twice");
    let (_, draws) = w.engine.replay_dispatch(&cli(), "YS2026-000001").await.unwrap();
    assert_eq!(draws.len(), 3, "acceptance, the town tier and the county tier each drew");
    assert!(draws.iter().all(|d| d.identical), "{draws:?}");
    let timeline = w.engine.case_timeline(&leader, id).await.unwrap();
    assert_eq!(timeline.len() as u64, view.case.version);
    let listed = w.engine.list_cases(&leader, CaseQuery { programme: "demo".into(), ..CaseQuery::default() }).await.unwrap();
    assert_eq!(listed.iter().map(|c| c.number.as_str()).collect::<Vec<_>>(), vec!["YS2026-000002", "YS2026-000001"]);
    let open_only = w
        .engine
        .list_cases(&leader, CaseQuery { programme: "demo".into(), open_only: true, ..CaseQuery::default() })
        .await
        .unwrap();
    assert!(open_only.is_empty(), "{open_only:?}");
    assert!(
        w.engine.list_cases(&outsider, CaseQuery { programme: "demo".into(), ..CaseQuery::default() }).await.unwrap().is_empty()
    );

    // Random cross-region review: never a reviewer of the case's own county.
    let dispatcher = w.account("dispatch1", county_centre, "dispatcher", "330624").await;
    let local_reviewer = w.account("reviewer2", county_centre, "reviewer", "330624").await;
    let review = OpenCase {
        kind: "peer_review".into(),
        fields: inputs(json!({"title": "2026年第三季度调解卷宗"})),
        region: "330624".into(),
        intake_org: None,
        ..open
    };
    let view = w.engine.open_case(&dispatcher, review).await.unwrap();
    let view = w.engine.act_on_case(&dispatcher, view.case.id, "draw_reviewer", inputs(json!({})), None).await.unwrap();
    let drawn = view.case.person.expect("a reviewer is drawn");
    assert_eq!(Some(drawn), reviewer.account_id(), "the only reviewer outside Xinchang");
    assert!(matches!(w.engine.case_view(&local_reviewer, view.case.id).await.unwrap_err(), EngineError::NotFound { .. }));
    let next = w.engine.next_assigned_case(&reviewer, "demo").await.unwrap().expect("the reviewer's next case");
    assert_eq!(next.case.id, view.case.id);
    assert_eq!(next.actions.iter().map(|a| a.code.as_str()).collect::<Vec<_>>(), vec!["submit_review"]);
    let done = w.engine.act_on_case(&reviewer, view.case.id, "submit_review", inputs(json!({"score": 92})), None).await.unwrap();
    assert_eq!(done.case.state, "reviewed");
    assert!(w.engine.next_assigned_case(&reviewer, "demo").await.unwrap().is_none());
    let (_, draws) = w.engine.replay_dispatch(&cli(), &done.case.number).await.unwrap();
    assert_eq!((draws.len(), draws[0].policy.as_str(), draws[0].identical), (1, "random_balanced", true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_programme_runs_end_to_end_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("fengqiao.db"), SqliteOptions::default()).await.unwrap());
    lifecycle(Arc::clone(&store), store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_programme_runs_end_to_end_on_postgres() {
    let Some(db) = fq_store_postgres::scratch::ScratchDatabase::create().await else { return };
    let first: Arc<dyn Store> = Arc::new(PgStore::connect(&db.url, PgOptions::default()).await.unwrap());
    let second: Arc<dyn Store> = Arc::new(PgStore::connect(&db.url, PgOptions::default()).await.unwrap());
    lifecycle(Arc::clone(&first), Arc::clone(&second)).await;
    first.close().await;
    second.close().await;
    db.drop_now().await;
}

/// The governance index's effectiveness (处置成效) judges closure on time as the dispute figures
/// do: a case closed after only the reminder at its warning point is on time, one closed after
/// a yellow card is not. Two cases of Xinchang: on time 1 of 2. Another county's leader and a
/// period that ends where it starts are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_governance_index_counts_a_reminder_as_no_card() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("fengqiao.db"), SqliteOptions::default()).await.unwrap());
    let w = World::new(Arc::clone(&store));
    w.engine.ensure_reference_data().await.unwrap();
    let county = RegionCode::parse("330624").unwrap();
    let town = w.engine.region_children(&county).await.unwrap()[0].code.to_string();
    let county_centre = w.org("县社会治理中心", "centre", "330624", None).await;
    let town_centre = w.org("镇矛调中心", "centre", &town, Some(county_centre)).await;
    let intake = w.account("intake1", town_centre, "intake", "330624").await;
    let handler = w.account("handler1", town_centre, "handler", "330624").await;
    let verifier = w.account("verifier1", county_centre, "verifier", "330624").await;
    let leader = w.account("leader1", county_centre, "leader", "330624").await;

    w.set("2026-09-28 09:00");
    let open = OpenCase {
        programme: "demo".into(),
        kind: "dispute".into(),
        priority: None,
        region: town.clone(),
        grid: None,
        channel: "station".into(),
        intake_org: Some(town_centre),
        fields: inputs(
            json!({"title": "邻里漏水纠纷", "category": "neighbour", "applicant": {"name": "张三", "role": "申请人"}}),
        ),
    };
    let mut ids = Vec::new();
    for _ in 0..2 {
        let id = w.engine.open_case(&intake, open.clone()).await.unwrap().case.id;
        w.engine.act_on_case(&intake, id, "accept", inputs(json!({})), None).await.unwrap();
        ids.push(id);
    }
    let close = async |id: CaseId| {
        w.engine.act_on_case(&handler, id, "finish", inputs(json!({"outcome": "resolved"})), None).await.unwrap();
        w.engine.act_on_case(&verifier, id, "confirm", inputs(json!({})), None).await.unwrap();
    };
    // The first is closed after the reminder (its warning point), before the limit.
    w.set("2026-10-10 09:00");
    w.engine.fire_due_timers(100).await.unwrap();
    assert_eq!(cards(&events_of(store.as_ref(), ids[0]).await, "handle"), vec![SupervisionLevel::Reminder]);
    close(ids[0]).await;
    // The second after the yellow card.
    w.set("2026-10-11 09:00");
    w.engine.fire_due_timers(100).await.unwrap();
    assert_eq!(
        cards(&events_of(store.as_ref(), ids[1]).await, "handle"),
        vec![SupervisionLevel::Reminder, SupervisionLevel::Yellow]
    );
    close(ids[1]).await;

    let (from, to) = (beijing_time("2026-09-01 00:00"), beijing_time("2026-11-01 00:00"));
    // Another county's leader is refused, and a period that ends where it starts names its end.
    let elsewhere = w.account("leader2", county_centre, "leader", "330702").await;
    let err = w.engine.governance_index(&elsewhere, &county, from, to).await.unwrap_err();
    assert_eq!(fq_domain::Coded::code(&err), "forbidden");
    let err = w.engine.governance_index(&leader, &county, to, to).await.unwrap_err();
    assert_eq!((fq_domain::Coded::code(&err), fq_domain::Coded::field(&err)), ("period_invalid", Some("to".to_owned())));
    let index = w.engine.governance_index(&leader, &county, from, to).await.unwrap();
    let effectiveness = index.total.dimensions.iter().find(|(d, _)| d == "effectiveness").and_then(|(_, v)| *v);
    assert_eq!(index.total.cases, 2);
    // The demo programme records no outcome on closure (no resolved share), so effectiveness is
    // the on-time share alone: 1 of 2 (it was 0 while reminders counted as cards).
    assert_eq!(effectiveness, Some(50.0), "{:?}", index.total);
}
