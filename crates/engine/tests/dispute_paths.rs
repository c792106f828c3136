//! The financial-dispute programme (programmes/finance), and at the end the maritime one
//! (programmes/maritime), through the engine, on SQLite and on PostgreSQL: one case across the mechanisms, keeping one file. Paths: the institution settles
//! its own complaint; the institution fails, the mediation committee reaches an agreement, the
//! court confirms it and it is performed; a small claim on the fast track (and one too large for
//! it); the 30-day window for judicial confirmation running out (a yellow card); mediation ended
//! without agreement; a case handed over to litigation; a mediation session held at sea entered
//! later with its original time. Also: an institution account acts only on its own
//! organisation's cases.
//!
//! PostgreSQL: FENGQIAO_TEST_POSTGRES (default `postgres://postgres@127.0.0.1:5432/postgres`);
//! skipped with a note when unreachable, a failure when CI=true.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use fq_domain::Coded;
use fq_domain::actor::Actor;
use fq_domain::calendar::beijing;
use fq_domain::case::{CaseEvent, CaseId, SupervisionLevel};
use fq_domain::org::OrgId;
use fq_domain::region::RegionCode;
use fq_engine::{CaseView, Engine, EngineError, NewOrganisation, OpenCase};
use fq_store::{HandlerProfile, Store};
use fq_store_postgres::{PgOptions, PgStore};
use fq_store_sqlite::{SqliteOptions, SqliteStore};
use serde_json::{Value as Json, json};
use support::cli;
use uuid::Uuid;

fn beijing_time(text: &str) -> DateTime<Utc> {
    beijing().from_local_datetime(&NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()).unwrap().to_utc()
}

/// The outcome a case reached (the kind's outcome code), with the time it was recorded.
fn outcome(view: &CaseView) -> &str {
    let reached = view.case.outcome.as_ref().expect("an outcome was recorded");
    assert!(reached.at.is_some(), "an outcome reached by an action has its time");
    &reached.code
}

fn object(value: Json) -> serde_json::Map<String, Json> {
    match value {
        Json::Object(map) => map,
        other => panic!("an object, not {other}"),
    }
}

struct World {
    engine: Engine,
    now: Arc<AtomicI64>,
    store: Arc<dyn Store>,
}

impl World {
    fn set(&self, text: &str) {
        self.now.store(beijing_time(text).timestamp(), Ordering::SeqCst);
    }

    async fn org(&self, name: &str, kind: &str, region: &str) -> Uuid {
        let request = NewOrganisation { name: name.into(), kind: kind.into(), region: region.into(), parent: None };
        self.engine.create_organisation(&cli(), request).await.unwrap().0.id.0
    }

    /// An account of Yuecheng district (330602), its grant maybe narrowed to one organisation.
    async fn account(&self, login: &str, org: Uuid, role: &str, narrowed_to: Option<Uuid>) -> Actor {
        self.account_in("330602", login, org, role, narrowed_to).await
    }

    async fn account_in(&self, region: &str, login: &str, org: Uuid, role: &str, narrowed_to: Option<Uuid>) -> Actor {
        support::narrowed_account(&self.engine, &self.store, login, org, (role, region, narrowed_to)).await
    }

    async fn open(&self, intake: &Actor, region: &str, title: &str, amount: u32) -> CaseId {
        let request = OpenCase {
            programme: "finance".into(),
            kind: "dispute".into(),
            priority: None,
            region: region.into(),
            grid: None,
            channel: "station".into(),
            intake_org: None,
            fields: object(json!({
                "title": title,
                "category": "credit_card",
                "institution_name": "某银行绍兴分行",
                "amount": amount,
                "applicant": {"name": "王五", "role": "申请人", "phone": "13900001111"},
                "respondent": {"name": "某银行绍兴分行", "role": "被申请人"},
            })),
        };
        self.engine.open_case(intake, request).await.unwrap().case.id
    }

    async fn act(&self, actor: &Actor, id: CaseId, action: &str, inputs: Json) -> CaseView {
        self.engine.act_on_case(actor, id, action, object(inputs), None).await.unwrap_or_else(|e| panic!("{action}: {e}"))
    }

    async fn refused(&self, actor: &Actor, id: CaseId, action: &str, inputs: Json) -> EngineError {
        self.engine.act_on_case(actor, id, action, object(inputs), None).await.expect_err(action)
    }

    async fn events(&self, id: CaseId) -> Vec<CaseEvent> {
        let records = self.store.stream_events(&id.stream()).await.unwrap();
        records.into_iter().map(|r| serde_json::from_value(r.payload_json()).unwrap()).collect()
    }
}

async fn paths(store: Arc<dyn Store>) {
    let now = Arc::new(AtomicI64::new(0));
    let clock = Arc::clone(&now);
    let engine =
        Engine::new(Arc::clone(&store)).with_clock(Arc::new(move || Utc.timestamp_opt(clock.load(Ordering::SeqCst), 0).unwrap()));
    let w = World { engine, now, store };
    w.set("2026-03-02 09:00");
    w.engine.ensure_reference_data().await.unwrap();
    // Yuecheng district of Shaoxing (330602) and one of its streets.
    let street = w.engine.region_children(&RegionCode::parse("330602").unwrap()).await.unwrap()[0].code.to_string();
    let centre = w.org("越城区消保服务站", "station", "330602").await;
    let committee = w.org("越城区金融纠纷人民调解委员会", "mediation_committee", "330602").await;
    let bank = w.org("某银行绍兴分行", "cooperating_unit", "330602").await;
    let other_bank = w.org("另一保险公司绍兴中心支公司", "cooperating_unit", "330602").await;
    let court = w.org("越城区人民法院", "court", "330602").await;

    let intake = w.account("fin-intake", centre, "intake", None).await;
    let bank_desk = w.account("bank-desk", bank, "institution", Some(bank)).await;
    let other_desk = w.account("insurer-desk", other_bank, "institution", Some(other_bank)).await;
    let mediator = w.account("fin-mediator", committee, "mediator", None).await;
    // A second mediator, formerly employed by the bank: declared as a conflict in their profile,
    // so never drawn for a case against it.
    let conflicted = w.account("ex-banker", committee, "mediator", None).await;
    let conflicted_id = conflicted.account().unwrap().id;
    let mut profile = HandlerProfile::default_for("");
    profile.conflicts = vec!["某银行绍兴分行".into()];
    w.engine.set_handler_profile(&cli(), OrgId(committee), Some(conflicted_id), profile).await.unwrap();
    let clerk = w.account("court-clerk", court, "court_clerk", None).await;

    // A channel the programme does not list is refused, and nothing is registered.
    let mut request = OpenCase {
        programme: "finance".into(),
        kind: "dispute".into(),
        priority: None,
        region: street.clone(),
        grid: None,
        channel: "grid".into(),
        intake_org: None,
        fields: object(json!({"title": "网格上报的金融纠纷"})),
    };
    let err = w.engine.open_case(&intake, request.clone()).await.unwrap_err();
    assert_eq!((err.code(), err.field().as_deref()), ("channel_unknown", Some("channel")), "{err:?}");
    request.channel = "shared_court".into();
    assert_eq!(w.engine.open_case(&intake, request).await.unwrap().case.channel, "shared_court");

    // 1. The institution settles its own complaint within its 15 days.
    let first = w.open(&intake, &street, "信用卡年费争议", 800).await;
    let view = w.act(&intake, first, "accept", json!({"to_unit": bank})).await;
    assert_eq!((view.case.state.as_str(), view.case.unit.map(|u| u.0)), ("institution", Some(bank)));
    let due = view.case.clocks["institution"].due_at;
    assert_eq!(due, beijing_time("2026-03-18 00:00"), "15 calendar days, to 24:00 of 17 March");
    // Another institution's desk cannot see it, let alone settle it.
    let err = w.refused(&other_desk, first, "institution_settle", json!({"note": "x"})).await;
    assert!(matches!(err, EngineError::NotFound { .. }), "{err:?}");
    let view = w.act(&bank_desk, first, "institution_settle", json!({"note": "退还年费", "agreed_amount": 800})).await;
    assert_eq!(view.case.state, "closed");
    assert_eq!(outcome(&view), "institution_settled", "settled at the first line");
    assert!(view.case.closed_at.is_some());

    // 2. The institution fails; mediation reaches an agreement; the court confirms it; it is
    //    performed. One file throughout.
    let second = w.open(&intake, &street, "贷款提前还款违约金纠纷", 12_000).await;
    w.act(&intake, second, "accept", json!({"to_unit": bank})).await;
    w.set("2026-03-10 10:00");
    let view = w.act(&bank_desk, second, "to_mediation", json!({"reason": "机构处理未果，申请人不接受"})).await;
    assert_eq!((view.case.state.as_str(), view.case.unit.map(|u| u.0)), ("mediation", Some(committee)));
    assert_eq!(view.case.person, Some(mediator.account().unwrap().id), "the mediator without a conflict is drawn");
    assert!(view.case.clocks["institution"].stopped_at.is_some());
    assert_eq!(view.case.clocks["mediation"].due_at, beijing_time("2026-04-10 00:00"), "30 calendar days");
    // Too large for the fast track (¥5,000 at most).
    let err = w.refused(&mediator, second, "fast_track", json!({})).await;
    assert_eq!(err.code(), "guard_false", "{err:?}");
    w.set("2026-03-20 15:00");
    // A session held at sea on 16 March, entered on return: the journal keeps when it was held
    // beside when it was recorded. A time in the future, before the case, or unreadable is refused.
    let session = |held_at: &str| json!({"held_at": held_at, "method": "at_sea", "participants": "调解员、申请人、银行代表（卫星电话）", "summary": "初步协商"});
    for (held_at, code) in
        [("2026-03-21T09:00", "occurred_in_future"), ("2026-02-01T09:00", "occurred_before_case"), ("16 March", "field_type")]
    {
        let err = w.refused(&mediator, second, "record_session", session(held_at)).await;
        assert_eq!(err.code(), code, "{held_at}: {err:?}");
    }
    let before = w.store.stream_events(&second.stream()).await.unwrap().len();
    w.act(&mediator, second, "record_session", session("2026-03-16T09:30")).await;
    let rows = w.store.stream_events(&second.stream()).await.unwrap();
    let entered = &rows[before..];
    assert!(!entered.is_empty());
    for row in entered {
        assert_eq!(row.occurred_at, Some(beijing_time("2026-03-16 09:30")), "{row:?}");
        assert!(row.recorded_at > beijing_time("2026-03-16 09:30"));
    }
    // Joint mediation: the court is asked to assist; its clerk gives the judge's opinion, and the
    // case is back in mediation. Nobody else answers for the court, and the mediator cannot
    // agree while the court has not answered.
    let view = w
        .act(&mediator, second, "invite_joint", json!({"units": [court.to_string()], "note": "请法官就违约金计算提供意见"}))
        .await;
    assert_eq!(view.case.state, "joint_mediation");
    let err = w.refused(&mediator, second, "joint_opinion", json!({"result": "代答"})).await;
    assert_eq!(err.code(), "forbidden_role", "{err:?}");
    let err =
        w.refused(&mediator, second, "record_agreement", json!({"agreed_amount": 6000, "performance_due": "2026-04-30"})).await;
    assert_eq!(err.code(), "action_wrong_state", "{err:?}");
    let view = w.act(&clerk, second, "joint_opinion", json!({"result": "违约金按年利率不超过24%计算"})).await;
    assert_eq!(view.case.state, "mediation", "all assisting units answered: back in mediation");
    let view =
        w.act(&mediator, second, "record_agreement", json!({"agreed_amount": 6000, "performance_due": "2026-04-30"})).await;
    assert_eq!(view.case.state, "agreed");
    assert_eq!(outcome(&view), "agreement");
    // The 30th day, 19 April, is a Sunday: the period runs to the end of Monday 20 April.
    assert_eq!(view.case.clocks["confirm_window"].due_at, beijing_time("2026-04-21 00:00"), "30 days to apply");
    // Performance is followed to its deadline (30 April): a reminder three days before it, a
    // yellow card once a day's grace has passed unperformed (that day falls in the Labour Day
    // holiday, 1 to 5 May 2026, so the grace runs to its end), red ten days after.
    let performance = &view.case.clocks["performance"];
    assert_eq!(performance.warn_at, Some(beijing_time("2026-04-28 00:00")));
    assert_eq!(performance.due_at, beijing_time("2026-05-07 00:00"));
    assert_eq!(performance.red_at, Some(beijing_time("2026-05-12 00:00")), "10 May is a Sunday: to the end of Monday");
    let view = w.act(&mediator, second, "apply_confirmation", json!({})).await;
    assert_eq!(view.case.state, "confirming");
    assert!(view.case.clocks["confirm_window"].stopped_at.is_some());
    // The mediator is not the court.
    let err = w.refused(&mediator, second, "confirm_valid", json!({"ruling_number": "(2026)浙0602民特1号"})).await;
    assert_eq!(err.code(), "forbidden_role", "{err:?}");
    let view = w.act(&clerk, second, "confirm_valid", json!({"ruling_number": "(2026)浙0602民特1号"})).await;
    assert_eq!(view.case.state, "agreed");
    let err = w.refused(&mediator, second, "apply_confirmation", json!({})).await;
    assert_eq!(err.code(), "guard_false", "confirmed once: {err:?}");
    let err = w.refused(&mediator, second, "record_performance", json!({"performed": false})).await;
    assert_eq!(err.code(), "guard_false", "{err:?}");
    // Paid in two instalments; performed only once everything agreed is paid.
    let err = w.refused(&mediator, second, "record_performance", json!({"performed": true})).await;
    assert_eq!(err.code(), "guard_false", "nothing paid yet: {err:?}");
    w.act(&mediator, second, "record_payout", json!({"paid_amount": 2500, "paid_on": "2026-04-02"})).await;
    let err = w.refused(&mediator, second, "record_performance", json!({"performed": true})).await;
    assert_eq!(err.code(), "guard_false", "partly paid: {err:?}");
    w.act(&mediator, second, "record_payout", json!({"paid_amount": 6000, "paid_on": "2026-04-20"})).await;
    let view = w.act(&mediator, second, "record_performance", json!({"performed": true})).await;
    assert_eq!(view.case.state, "closed");
    assert!(view.case.clocks["performance"].stopped_at.is_some(), "performed: the follow-up clock stops");
    let history = w.events(second).await;
    let kinds: Vec<&str> = history
        .iter()
        .filter_map(|e| if let CaseEvent::Acted { action, .. } = e { Some(action.as_str()) } else { None })
        .collect();
    assert_eq!(
        kinds,
        [
            "accept",
            "to_mediation",
            "record_session",
            "invite_joint",
            "joint_opinion",
            "joint_done",
            "record_agreement",
            "apply_confirmation",
            "confirm_valid",
            "record_payout",
            "record_payout",
            "record_performance"
        ]
    );

    // 3. A small claim goes on the fast track and the applicant accepts the opinion.
    w.set("2026-03-02 09:00");
    let small = w.open(&intake, &street, "盗刷小额赔付", 3000).await;
    w.act(&intake, small, "accept_to_mediation", json!({})).await;
    let view = w.act(&mediator, small, "fast_track", json!({})).await;
    assert_eq!(view.case.state, "fast_track");
    assert_eq!(view.case.clocks["fast_track"].due_at, beijing_time("2026-03-12 00:00"), "7 working days");
    let view = w.act(&mediator, small, "accept_opinion", json!({"agreed_amount": 3000, "performance_due": "2026-03-20"})).await;
    assert_eq!(view.case.state, "agreed");
    assert_eq!(outcome(&view), "fast_payout");
    // Another small claim whose agreement the court refuses to confirm: the agreement no longer
    // stands, the case is mediated again, and the follow-up of its performance stops.
    let refused = w.open(&intake, &street, "小额赔付协议被驳回", 2000).await;
    w.act(&intake, refused, "accept_to_mediation", json!({})).await;
    w.act(&mediator, refused, "fast_track", json!({})).await;
    w.act(&mediator, refused, "accept_opinion", json!({"agreed_amount": 2000, "performance_due": "2026-03-20"})).await;
    w.act(&mediator, refused, "apply_confirmation", json!({})).await;
    let view = w.act(&clerk, refused, "confirm_rejected", json!({"reason": "协议内容违反自愿原则"})).await;
    assert_eq!(view.case.state, "mediation");
    assert_eq!(view.case.outcome, None, "the outcome was withdrawn");
    assert!(view.case.clocks["performance"].stopped_at.is_some());

    // 4. Nobody applies for judicial confirmation: past 30 days a yellow card is raised.
    w.set("2026-04-02 09:00");
    w.engine.fire_due_timers(100).await.unwrap();
    let cards: Vec<SupervisionLevel> = w
        .events(small)
        .await
        .into_iter()
        .filter_map(|e| match e {
            CaseEvent::Supervised { level, stage: Some(stage), .. } if stage == "confirm_window" => Some(level),
            _ => None,
        })
        .collect();
    assert_eq!(cards, [SupervisionLevel::Reminder, SupervisionLevel::Yellow], "warned at 20 days, carded at 30");

    // Every draw against the bank passed over the conflicted mediator, and says so.
    for id in [second, small] {
        let draws: Vec<_> = w
            .events(id)
            .await
            .into_iter()
            .filter_map(|e| match e {
                CaseEvent::Assigned { draw: Some(draw), person: Some(person), .. } => Some((draw, person)),
                _ => None,
            })
            .collect();
        assert_eq!(draws.len(), 1, "one mediator draw");
        let (draw, person) = &draws[0];
        assert_ne!(*person, conflicted_id);
        assert!(draw.request.conflict_keys.contains(&"某银行绍兴分行".to_owned()), "{:?}", draw.request.conflict_keys);
        assert!(draw.candidates.iter().any(|c| c.person == Some(conflicted_id)), "the conflicted mediator was a candidate");
    }

    // 5. Mediation ends without agreement, with its reason; 6. a case goes to litigation.
    let failed = w.open(&intake, &street, "保险理赔金额争议", 20_000).await;
    w.act(&intake, failed, "accept_to_mediation", json!({})).await;
    let err = w.refused(&mediator, failed, "end_mediation", json!({"note": "已告知诉讼途径"})).await;
    assert_eq!(err.code(), "field_required", "{err:?}");
    let view = w.act(&mediator, failed, "end_mediation", json!({"end_reason": "too_far_apart", "note": "已告知诉讼途径"})).await;
    assert_eq!(view.case.state, "closed");
    assert_eq!(outcome(&view), "no_agreement");
    let sued = w.open(&intake, &street, "理财产品销售误导", 50_000).await;
    w.act(&intake, sued, "accept_to_mediation", json!({})).await;
    let view = w.act(&mediator, sued, "transfer_out", json!({"route": "litigation", "reason": "申请人起诉"})).await;
    assert_eq!(view.case.state, "transferred");
    assert_eq!(outcome(&view), "transferred");
    assert!(view.case.clocks["mediation"].stopped_at.is_some());

    maritime(&w).await;
}

/// The maritime programme: a crew dispute mediated at sea (the session entered on return), and
/// one sent to labour arbitration.
async fn maritime(w: &World) {
    w.set("2026-06-01 09:00");
    let putuo = RegionCode::parse("330903").unwrap();
    let town = w.engine.region_children(&putuo).await.unwrap()[0].code.to_string();
    let committee = w.org("沈家门渔业纠纷调解委员会", "mediation_committee", &town).await;
    let intake = w.account_in("330903", "sea-intake", committee, "intake", None).await;
    let mediator = w.account_in("330903", "sea-mediator", committee, "mediator", None).await;
    let open = |title: &str, category: &str| OpenCase {
        programme: "maritime".into(),
        kind: "dispute".into(),
        priority: None,
        region: town.clone(),
        grid: None,
        channel: "station".into(),
        intake_org: None,
        fields: object(json!({
            "title": title, "category": category, "vessel_name": "浙普渔12345", "amount": 30000,
            "incident_at": "2026-05-30T22:10",
            "applicant": {"name": "赵六", "role": "船员", "phone": "13700002222"},
        })),
    };
    let pay = w.engine.open_case(&intake, open("船员工资拖欠", "crew_pay")).await.unwrap().case.id;
    let view = w.act(&intake, pay, "accept", json!({})).await;
    assert_eq!(view.case.person, Some(mediator.account().unwrap().id), "the committee's mediator is drawn");
    w.set("2026-06-05 17:00");
    let before = w.store.stream_events(&pay.stream()).await.unwrap().len();
    w.act(
        &mediator,
        pay,
        "record_session",
        json!({"held_at": "2026-06-03T06:00", "method": "at_sea", "participants": "调解员、船东、船员"}),
    )
    .await;
    let rows = w.store.stream_events(&pay.stream()).await.unwrap();
    assert!(rows[before..].iter().all(|r| r.occurred_at == Some(beijing_time("2026-06-03 06:00"))));
    let view = w.act(&mediator, pay, "record_agreement", json!({"agreed_amount": 28000, "performance_due": "2026-06-30"})).await;
    assert_eq!(view.case.state, "agreed");
    let view = w.act(&mediator, pay, "record_performance", json!({"performed": true})).await;
    assert_eq!(view.case.state, "closed");

    let advance = w.engine.open_case(&intake, open("预支工资后未上船", "crew_advance")).await.unwrap().case.id;
    w.act(&intake, advance, "accept", json!({})).await;
    let err = w.refused(&mediator, advance, "transfer_out", json!({"reason": "未上船"})).await;
    assert_eq!(err.code(), "field_required", "a route is named: {err:?}");
    let view =
        w.act(&mediator, advance, "transfer_out", json!({"route": "labour_arbitration", "reason": "未上船的劳动争议"})).await;
    assert_eq!(view.case.state, "transferred");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn financial_disputes_take_every_path_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("fengqiao.db"), SqliteOptions::default()).await.unwrap());
    paths(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn financial_disputes_take_every_path_on_postgres() {
    let Some(db) = fq_store_postgres::scratch::ScratchDatabase::create().await else { return };
    let store: Arc<dyn Store> = Arc::new(PgStore::connect(&db.url, PgOptions::default()).await.unwrap());
    paths(Arc::clone(&store)).await;
    store.close().await;
    db.drop_now().await;
}
