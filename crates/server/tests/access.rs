//! Access control over HTTP, on SQLite and on PostgreSQL: what each caller may and may not see or
//! do. Denials covered: anonymous, wrong role, other county, other organisation, assignment-only
//! lists, personal data without the right, expired session, tampered cookie, missing CSRF token,
//! token of a disabled account, login lockout.
//!
//! PostgreSQL: FENGQIAO_TEST_POSTGRES (default `postgres://postgres@127.0.0.1:5432/postgres`);
//! skipped with a note when unreachable, a failure when CI=true.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use chrono::{TimeZone, Utc};
use fq_domain::actor::Actor;
use fq_engine::{Engine, NewAccount, NewOrganisation};
use fq_server::AppState;
use fq_store::Store;
use serde_json::{Value, json};
use tower::ServiceExt;
use uuid::Uuid;

struct World {
    app: axum::Router,
    engine: Engine,
    now: Arc<AtomicI64>,
}

struct Reply {
    status: StatusCode,
    body: Value,
    set_cookie: Option<String>,
}

impl World {
    async fn new(store: Arc<dyn Store>) -> World {
        let now = Arc::new(AtomicI64::new(Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap().timestamp()));
        let clock = Arc::clone(&now);
        let engine = Engine::new(store).with_clock(Arc::new(move || Utc.timestamp_opt(clock.load(Ordering::SeqCst), 0).unwrap()));
        engine.ensure_reference_data().await.unwrap();
        let app = fq_server::router(AppState::new(engine.clone()));
        World { app, engine, now }
    }

    async fn call(&self, method: Method, uri: &str, auth: Auth<'_>, body: Option<Value>) -> Reply {
        let mut request = Request::builder().method(method).uri(uri);
        match auth {
            Auth::None => {}
            Auth::Token(token) => request = request.header(header::AUTHORIZATION, format!("Bearer {token}")),
            Auth::Cookie(cookie, csrf) => {
                request = request.header(header::COOKIE, format!("fq_session={cookie}"));
                if let Some(csrf) = csrf {
                    request = request.header("x-csrf-token", csrf);
                }
            }
        }
        let request = match body {
            Some(json) => request.header(header::CONTENT_TYPE, "application/json").body(Body::from(json.to_string())).unwrap(),
            None => request.body(Body::empty()).unwrap(),
        };
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let set_cookie = response.headers().get(header::SET_COOKIE).map(|v| v.to_str().unwrap().to_owned());
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 24).await.unwrap();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply { status, body, set_cookie }
    }

    async fn org(&self, name: &str, kind: &str, region: &str, parent: Option<Uuid>) -> Uuid {
        let request = NewOrganisation { name: name.into(), kind: kind.into(), region: region.into(), parent };
        self.engine.create_organisation(&cli(), request).await.unwrap().0.id.0
    }

    /// An account with one grant and a token for it.
    async fn account(&self, login: &str, org: Uuid, role: &str, region: &str) -> String {
        let request = NewAccount {
            login: login.into(),
            display_name: login.into(),
            org,
            password: Some("correct horse battery staple".into()),
            grants: vec![(role.into(), region.into(), None)],
        };
        self.engine.create_account(&cli(), request).await.unwrap();
        self.engine.issue_token(&cli(), login, "test", Some(30)).await.unwrap().secret
    }
}

#[derive(Clone, Copy)]
enum Auth<'a> {
    None,
    Token(&'a str),
    Cookie(&'a str, Option<&'a str>),
}

fn cli() -> Actor {
    Actor::Cli { os_user: "test".into() }
}

fn code(reply: &Reply) -> &str {
    reply.body["error"]["code"].as_str().unwrap_or("")
}

async fn story(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    // Xinchang (330624) and Qiantang (330114): a county centre each, a town centre in Xinchang.
    let xinchang = w.org("新昌县社会治理中心", "centre", "330624", None).await;
    let town =
        w.engine.region_children(&fq_domain::region::RegionCode::parse("330624").unwrap()).await.unwrap()[0].code.to_string();
    let town_centre = w.org("镇矛调中心", "centre", &town, Some(xinchang)).await;
    let qiantang = w.org("钱塘区社会治理中心", "centre", "330114", None).await;
    let intake = w.account("intake1", town_centre, "intake", "330624").await;
    let handler = w.account("handler1", town_centre, "handler", "330624").await;
    let leader = w.account("leader1", xinchang, "leader", "330624").await;
    let outsider = w.account("handler2", qiantang, "handler", "330114").await;
    let reviewer = w.account("reviewer1", qiantang, "reviewer", "330114").await;
    let staff = w.account("staff1", town_centre, "staff", "330624").await;
    let other_org_intake = {
        // Intake narrowed to another organisation's business in the same county.
        let request = NewAccount {
            login: "intake2".into(),
            display_name: "intake2".into(),
            org: xinchang,
            password: None,
            grants: vec![("intake".into(), "330624".into(), Some(xinchang))],
        };
        w.engine.create_account(&cli(), request).await.unwrap();
        w.engine.issue_token(&cli(), "intake2", "test", Some(30)).await.unwrap().secret
    };

    // Anonymous: nothing about cases, but the public reference data.
    let reply = w.call(Method::GET, "/api/v1/cases?programme=demo", Auth::None, None).await;
    assert_eq!((reply.status, code(&reply)), (StatusCode::UNAUTHORIZED, "unauthenticated"));
    assert_eq!(w.call(Method::GET, "/api/v1/programmes", Auth::None, None).await.status, StatusCode::OK);

    // Intake files a case with personal data.
    let body = json!({"programme": "demo", "kind": "dispute", "region": town, "fields": {
        "title": "邻里纠纷", "category": "neighbour",
        "applicant": {"name": "张三", "role": "申请人", "id_number": "11010519491231002X", "phone": "13800001234"}}});
    let reply = w.call(Method::POST, "/api/v1/cases", Auth::Token(&intake), Some(body.clone())).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let id = reply.body["case"]["id"].as_str().unwrap().to_owned();
    let number = reply.body["case"]["number"].as_str().unwrap().to_owned();
    assert_eq!(reply.body["case"]["fields"]["applicant"]["v"]["phone"], "138****1234", "masked even for its author");
    // Wrong role: a leader cannot register cases, a handler cannot accept.
    let reply = w.call(Method::POST, "/api/v1/cases", Auth::Token(&leader), Some(body.clone())).await;
    assert_eq!((reply.status, code(&reply)), (StatusCode::FORBIDDEN, "forbidden_role"));
    // Other organisation: an intake grant narrowed to the county centre's business may not
    // register a case for the town centre.
    let mut for_town = body.clone();
    for_town["intake_org"] = json!(town_centre);
    let reply = w.call(Method::POST, "/api/v1/cases", Auth::Token(&other_org_intake), Some(for_town)).await;
    assert_eq!((reply.status, code(&reply)), (StatusCode::FORBIDDEN, "forbidden_region"), "{}", reply.body);
    let accept = format!("/api/v1/cases/{id}/actions/accept");
    let reply = w.call(Method::POST, &accept, Auth::Token(&handler), Some(json!({}))).await;
    assert_eq!((reply.status, code(&reply)), (StatusCode::FORBIDDEN, "forbidden_role"));
    assert_eq!(w.call(Method::POST, &accept, Auth::Token(&intake), Some(json!({}))).await.status, StatusCode::OK);

    // Other county: the case does not exist for them, by id or by number; their lists are empty.
    for uri in [format!("/api/v1/cases/{id}"), format!("/api/v1/cases/{number}")] {
        let reply = w.call(Method::GET, &uri, Auth::Token(&outsider), None).await;
        assert_eq!((reply.status, code(&reply)), (StatusCode::NOT_FOUND, "not_found"), "{uri}");
    }
    let reply = w
        .call(
            Method::POST,
            &format!("/api/v1/cases/{id}/actions/finish"),
            Auth::Token(&outsider),
            Some(json!({"inputs": {"outcome": "resolved"}})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let reply = w.call(Method::GET, "/api/v1/cases?programme=demo", Auth::Token(&outsider), None).await;
    assert_eq!(reply.body["items"].as_array().map(Vec::len), Some(0));
    let reply = w.call(Method::GET, "/api/v1/cases?programme=demo&region=330624", Auth::Token(&outsider), None).await;
    assert_eq!((reply.status, code(&reply)), (StatusCode::FORBIDDEN, "forbidden_region"));
    let reply = w.call(Method::GET, "/api/v1/kpis?programme=demo&region=330624", Auth::Token(&outsider), None).await;
    assert_eq!((reply.status, code(&reply)), (StatusCode::FORBIDDEN, "forbidden_region"));
    // The county's own people do see it.
    let reply = w.call(Method::GET, "/api/v1/cases?programme=demo&count=true", Auth::Token(&leader), None).await;
    assert_eq!(reply.body["total"], 1, "{}", reply.body);
    let reply = w
        .call(
            Method::GET,
            "/api/v1/kpis?programme=demo&region=330624&from=2026-03-01T00:00:00Z&to=2026-03-03T00:00:00Z",
            Auth::Token(&leader),
            None,
        )
        .await;
    assert_eq!((reply.status, reply.body["totals"]["opened"].as_u64()), (StatusCode::OK, Some(1)), "{}", reply.body);

    // Personal data stays masked in the history too, for everyone who reads the masked case.
    let reply = w.call(Method::GET, &format!("/api/v1/cases/{id}"), Auth::Token(&leader), None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body["timeline"].as_array().is_some_and(|t| !t.is_empty()), "{}", reply.body);
    let whole = reply.body.to_string();
    assert!(!whole.contains("13800001234") && !whole.contains("11010519491231002X"), "raw numbers in {whole}");
    assert!(whole.contains("138****1234"), "the masked number is there: {whole}");

    // A grant narrowed to one organisation lists that organisation's cases only: not the town
    // centre's case, in lists, counts or exports.
    let reply = w.call(Method::GET, "/api/v1/cases?programme=demo&count=true", Auth::Token(&other_org_intake), None).await;
    assert_eq!((reply.status, reply.body["total"].as_u64()), (StatusCode::OK, Some(0)), "{}", reply.body);
    let reply = w.call(Method::GET, "/api/v1/cases?programme=demo&region=330624", Auth::Token(&other_org_intake), None).await;
    assert_eq!(reply.body["items"].as_array().map(Vec::len), Some(0), "{}", reply.body);
    // "My unit's cases" needs a role that may list: a staff account with no programme role has none.
    let reply = w.call(Method::GET, "/api/v1/cases?programme=demo&mine=true", Auth::Token(&staff), None).await;
    assert_eq!((reply.status, code(&reply)), (StatusCode::FORBIDDEN, "forbidden_role"), "{}", reply.body);

    // Notices name cases: a unit's notices reach its members who may see the case, not an
    // assignment-only reviewer of the same unit.
    let unit_reviewer = w.account("reviewer2", town_centre, "reviewer", "330624").await;
    let as_actor = |secret: String| {
        let engine = w.engine.clone();
        async move { engine.authenticate_token(&secret).await.unwrap() }
    };
    let handler_notices = w.engine.my_notifications(&as_actor(handler.clone()).await, 50).await.unwrap();
    assert!(handler_notices.iter().any(|n| n.case_number == number), "{handler_notices:?}");
    let reviewer_notices = w.engine.my_notifications(&as_actor(unit_reviewer).await, 50).await.unwrap();
    assert!(reviewer_notices.is_empty(), "{reviewer_notices:?}");

    // A reviewer only ever receives work: no lists.
    let reply = w.call(Method::GET, "/api/v1/cases?programme=demo", Auth::Token(&reviewer), None).await;
    assert_eq!((reply.status, code(&reply)), (StatusCode::FORBIDDEN, "forbidden_assignment_only"));
    assert_eq!(
        w.call(Method::GET, "/api/v1/cases/next?programme=demo", Auth::Token(&reviewer), None).await.status,
        StatusCode::NO_CONTENT
    );

    // Personal data: the leader may read the case but not reveal; the handler may, and it is journaled.
    let reveal = format!("/api/v1/cases/{id}/reveal");
    let reply = w.call(Method::POST, &reveal, Auth::Token(&leader), None).await;
    assert_eq!((reply.status, code(&reply)), (StatusCode::FORBIDDEN, "forbidden_personal_data"));
    let reply = w.call(Method::POST, &reveal, Auth::Token(&handler), None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["case"]["fields"]["applicant"]["v"]["phone"], "13800001234");
    let views = w.engine.store().stream_events(&format!("access:case:{id}")).await.unwrap();
    assert_eq!(views.len(), 1, "each unmasked view is journaled");

    // Sessions: sign in, CSRF, tampering, expiry.
    let reply = w
        .call(
            Method::POST,
            "/api/v1/sessions",
            Auth::None,
            Some(json!({"login": "handler1", "password": "correct horse battery staple"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let cookie = reply.set_cookie.unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    let secret = cookie.split(';').next().unwrap().trim_start_matches("fq_session=").to_owned();
    let csrf = reply.body["csrf"].as_str().unwrap().to_owned();
    assert_eq!(w.call(Method::GET, "/api/v1/me", Auth::Cookie(&secret, None), None).await.body["login"], "handler1");
    let edit = format!("/api/v1/cases/{id}/actions/edit");
    let reply = w.call(Method::POST, &edit, Auth::Cookie(&secret, None), Some(json!({"inputs": {"description": "x"}}))).await;
    assert_eq!((reply.status, code(&reply)), (StatusCode::FORBIDDEN, "csrf_token_invalid"), "no CSRF token, no change");
    let reply = w
        .call(
            Method::POST,
            &edit,
            Auth::Cookie(&secret, Some("0".repeat(32).as_str())),
            Some(json!({"inputs": {"description": "x"}})),
        )
        .await;
    assert_eq!(code(&reply), "csrf_token_invalid");
    assert_eq!(
        w.call(Method::POST, &edit, Auth::Cookie(&secret, Some(&csrf)), Some(json!({"inputs": {"description": "补充"}})))
            .await
            .status,
        StatusCode::OK
    );
    let mut tampered = secret.clone();
    tampered.replace_range(0..1, if secret.starts_with('a') { "b" } else { "a" });
    assert_eq!(w.call(Method::GET, "/api/v1/me", Auth::Cookie(&tampered, None), None).await.status, StatusCode::UNAUTHORIZED);
    w.now.fetch_add(13 * 3600, Ordering::SeqCst);
    let reply = w.call(Method::GET, "/api/v1/me", Auth::Cookie(&secret, None), None).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "a session ends after 12 hours");

    // A disabled account's token and sessions stop at once.
    assert_eq!(w.call(Method::GET, "/api/v1/me", Auth::Token(&intake), None).await.status, StatusCode::OK);
    w.engine.set_account_disabled(&cli(), "intake1", true).await.unwrap();
    assert_eq!(w.call(Method::GET, "/api/v1/me", Auth::Token(&intake), None).await.status, StatusCode::UNAUTHORIZED);
    // Enabling it again does not bring the old token back.
    w.engine.set_account_disabled(&cli(), "intake1", false).await.unwrap();
    assert_eq!(w.call(Method::GET, "/api/v1/me", Auth::Token(&intake), None).await.status, StatusCode::UNAUTHORIZED);

    // Lockout: five failures lock the login; even the right password is then refused.
    for _ in 0..5 {
        let reply = w
            .call(Method::POST, "/api/v1/sessions", Auth::None, Some(json!({"login": "leader1", "password": "wrong password!!"})))
            .await;
        assert_eq!((reply.status, code(&reply)), (StatusCode::UNAUTHORIZED, "login_failed"));
    }
    let reply = w
        .call(
            Method::POST,
            "/api/v1/sessions",
            Auth::None,
            Some(json!({"login": "leader1", "password": "correct horse battery staple"})),
        )
        .await;
    assert_eq!((reply.status, code(&reply)), (StatusCode::CONFLICT, "login_locked"));
    w.now.fetch_add(16 * 60, Ordering::SeqCst);
    let reply = w
        .call(
            Method::POST,
            "/api/v1/sessions",
            Auth::None,
            Some(json!({"login": "leader1", "password": "correct horse battery staple"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "unlocked after fifteen minutes");
    let attempts = w.engine.store().stream_events("login:leader1").await.unwrap();
    assert_eq!(attempts.iter().filter(|e| e.kind == "login.failed").count(), 5, "every sign-in is journaled");
    assert!(attempts.iter().any(|e| e.kind == "login.refused_locked") && attempts.iter().any(|e| e.kind == "login.succeeded"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_is_enforced_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = fq_store_sqlite::SqliteStore::open(&dir.path().join("fengqiao.db"), fq_store_sqlite::SqliteOptions::default())
        .await
        .unwrap();
    story(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_is_enforced_on_postgres() {
    let Some(db) = fq_store_postgres::scratch::ScratchDatabase::create().await else { return };
    let store = Arc::new(fq_store_postgres::PgStore::connect(&db.url, fq_store_postgres::PgOptions::default()).await.unwrap());
    story(store.clone()).await;
    store.close().await;
    db.drop_now().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_are_limited_and_shown_only_with_their_case() {
    let dir = tempfile::tempdir().unwrap();
    let store = fq_store_sqlite::SqliteStore::open(&dir.path().join("fengqiao.db"), fq_store_sqlite::SqliteOptions::default())
        .await
        .unwrap();
    let w = World::new(Arc::new(store)).await;
    let centre = w.org("新昌县社会治理中心", "centre", "330624", None).await;
    let other = w.org("钱塘区社会治理中心", "centre", "330114", None).await;
    let intake = w.account("intake1", centre, "intake", "330624").await;
    let outsider = w.account("intake2", other, "intake", "330114").await;
    let upload = |token: String, name: &'static str, bytes: Vec<u8>| {
        let app = w.app.clone();
        async move {
            let request = Request::builder()
                .method(Method::POST)
                .uri(format!("/api/v1/attachments?name={name}"))
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::from(bytes))
                .unwrap();
            let response = app.oneshot(request).await.unwrap();
            let status = response.status();
            let body: Value = serde_json::from_slice(&axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap())
                .unwrap_or(Value::Null);
            (status, body)
        }
    };
    // Two megabytes of PDF: above the API's usual body cap, within the attachment limit.
    let mut pdf = b"%PDF-1.7\n".to_vec();
    pdf.resize(2 * 1024 * 1024, b' ');
    let (status, body) = upload(intake.clone(), "evidence.pdf", pdf.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let attachment = body["id"].as_str().unwrap().to_owned();
    assert_eq!(body["blake3"], blake3_hex(&pdf));
    let (status, body) = upload(intake.clone(), "run.exe", b"MZ\x90\x00".to_vec()).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("attachment_type_not_allowed")));
    let (status, _) = upload(intake.clone(), "huge.pdf", vec![b'%'; 21 * 1024 * 1024]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    // Someone else's unattached upload does not exist for them, and cannot be put into their case.
    let uri = format!("/api/v1/attachments/{attachment}");
    assert_eq!(w.call(Method::GET, &uri, Auth::Token(&outsider), None).await.status, StatusCode::NOT_FOUND);
    let body =
        json!({"programme": "demo", "kind": "dispute", "region": "330114", "fields": {"title": "x", "evidence": [attachment]}});
    let reply = w.call(Method::POST, "/api/v1/cases", Auth::Token(&outsider), Some(body)).await;
    assert_eq!((reply.status, code(&reply)), (StatusCode::UNPROCESSABLE_ENTITY, "attachment_unknown"));
    // Put into the uploader's case, it belongs to the case.
    let body =
        json!({"programme": "demo", "kind": "dispute", "region": "330624", "fields": {"title": "x", "evidence": [attachment]}});
    let reply = w.call(Method::POST, "/api/v1/cases", Auth::Token(&intake), Some(body)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let id = reply.body["case"]["id"].as_str().unwrap().to_owned();
    let detail = w.call(Method::GET, &format!("/api/v1/cases/{id}"), Auth::Token(&intake), None).await;
    assert_eq!(detail.body["attachments"][0]["id"], attachment.as_str());
    let request =
        Request::builder().uri(&uri).header(header::AUTHORIZATION, format!("Bearer {intake}")).body(Body::empty()).unwrap();
    let response = w.app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/pdf");
    assert_eq!(axum::body::to_bytes(response.into_body(), 1 << 24).await.unwrap().len(), pdf.len());
}

fn blake3_hex(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

/// The inspection review over HTTP: stations push records (one, or a batch file), reviewers
/// reach only the records drawn to them, supervisors read the ranking and the evaluation.
async fn inspection_story(store: Arc<dyn Store>) {
    use fq_domain::inspection::{CountyWeight, simulate};
    let world = World::new(store).await;
    let station_org = world.org("婺城区检测站", "station", "330702", None).await;
    let station = world.account("wucheng-station", station_org, "station", "330702").await;
    let mut reviewers = Vec::new();
    for (login, county) in [("rev-jindong", "330703"), ("rev-yiwu", "330782")] {
        let unit = world.org(&format!("{login}分中心"), "centre", county, None).await;
        let token = world.account(login, unit, "reviewer", county).await;
        let login = fq_domain::account::Login::parse(login).unwrap();
        let id = world.engine.store().account_by_login(&login).await.unwrap().unwrap().id.0;
        let profile = fq_store::HandlerProfile {
            skills: vec!["k33".into(), "h31".into(), "h11".into(), "k11".into()],
            ..fq_store::HandlerProfile::default_for("")
        };
        world
            .engine
            .set_handler_profile(&cli(), fq_domain::org::OrgId(unit), Some(fq_domain::account::AccountId(id)), profile)
            .await
            .unwrap();
        reviewers.push((token, id.to_string()));
    }
    let city = world.org("金华市监管中心", "centre", "3307", None).await;
    let supervisor = world.account("jinhua-supervisor", city, "supervisor", "3307").await;

    let wucheng = [CountyWeight { code: "330702".into(), name: "婺城区".into(), weight: 1.0 }];
    let records = simulate('G', &wucheng, chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(), 1, 6, 3);
    let mut pushed = Vec::new();
    for record in &records[..4] {
        let reply = world.call(Method::POST, "/api/v1/inspection/records", Auth::Token(&station), Some(json!(record))).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        assert_eq!(reply.body["state"], "reviewing");
        pushed.push((reply.body["number"].as_str().unwrap().to_owned(), reply.body["assigned"].as_str().unwrap().to_owned()));
    }
    // Denials: the same record again, a broken record, a reviewer pushing.
    let again = world.call(Method::POST, "/api/v1/inspection/records", Auth::Token(&station), Some(json!(records[0]))).await;
    assert_eq!((again.status, code(&again)), (StatusCode::CONFLICT, "record_duplicate"));
    let mut broken = json!(records[4]);
    broken["vin"] = json!("NOT-A-VIN");
    let bad = world.call(Method::POST, "/api/v1/inspection/records", Auth::Token(&station), Some(broken)).await;
    assert_eq!((bad.status, code(&bad)), (StatusCode::UNPROCESSABLE_ENTITY, "vin_invalid"));
    assert_eq!(bad.body["error"]["field"], "record.vin");
    let by_reviewer =
        world.call(Method::POST, "/api/v1/inspection/records", Auth::Token(&reviewers[0].0), Some(json!(records[4]))).await;
    assert_eq!(by_reviewer.status, StatusCode::FORBIDDEN, "{}", by_reviewer.body);

    // A reviewer cannot list, and cannot fetch a record drawn to someone else, by either path.
    for (token, me) in &reviewers {
        let list = world.call(Method::GET, "/api/v1/cases?programme=inspection", Auth::Token(token), None).await;
        assert_eq!((list.status, code(&list)), (StatusCode::FORBIDDEN, "forbidden_assignment_only"));
        for (number, assigned) in &pushed {
            let record = world.call(Method::GET, &format!("/api/v1/inspection/records/{number}"), Auth::Token(token), None).await;
            let case = world.call(Method::GET, &format!("/api/v1/cases/{number}"), Auth::Token(token), None).await;
            if assigned == me {
                assert_eq!(record.status, StatusCode::OK, "{}", record.body);
                assert!(record.body["photos"].as_array().is_some_and(|p| !p.is_empty()));
                assert_eq!(case.status, StatusCode::OK);
            } else {
                assert_eq!((record.status, case.status), (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND), "{number}");
            }
        }
    }

    // A batch with a bad line stores nothing and names the line; a good one stores both.
    let good = |r: &fq_domain::inspection::InspectionRecord| serde_json::to_string(r).unwrap();
    let text = format!("{}\n{{\"id\": \"x\"}}\n", good(&records[4]));
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/inspection/batches")
        .header(header::AUTHORIZATION, format!("Bearer {station}"))
        .header(header::CONTENT_TYPE, "application/x-ndjson");
    let reply = world.app.clone().oneshot(request.body(Body::from(text)).unwrap()).await.unwrap();
    assert_eq!(reply.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = serde_json::from_slice(&axum::body::to_bytes(reply.into_body(), 1 << 20).await.unwrap()).unwrap();
    assert_eq!(body["bad"][0][0], 2, "{body}");
    assert_eq!(body["received"].as_array().map(Vec::len), Some(0));
    let text = format!("{}\n{}\n", good(&records[4]), good(&records[5]));
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/inspection/batches")
        .header(header::AUTHORIZATION, format!("Bearer {station}"))
        .header(header::CONTENT_TYPE, "application/x-ndjson");
    let reply = world.app.clone().oneshot(request.body(Body::from(text)).unwrap()).await.unwrap();
    assert_eq!(reply.status(), StatusCode::OK);

    // Oversight: supervisors read the ranking and the evaluation; reviewers and stations do not.
    let ranking =
        world.call(Method::GET, "/api/v1/inspection/ranking?city=3307&month=2026-03", Auth::Token(&supervisor), None).await;
    assert_eq!(ranking.status, StatusCode::OK, "{}", ranking.body);
    assert!(ranking.body.as_array().is_some_and(|rows| !rows.is_empty()));
    let denied = world.call(Method::GET, "/api/v1/inspection/ranking?city=3307&month=2026-03", Auth::Token(&station), None).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let bad_month =
        world.call(Method::GET, "/api/v1/inspection/ranking?city=3307&month=March", Auth::Token(&supervisor), None).await;
    assert_eq!((bad_month.status, code(&bad_month)), (StatusCode::UNPROCESSABLE_ENTITY, "month_invalid"));
    let evaluation = world.call(Method::GET, "/api/v1/inspection/evaluation?city=3307", Auth::Token(&supervisor), None).await;
    assert_eq!(evaluation.status, StatusCode::OK, "{}", evaluation.body);
    let denied = world.call(Method::GET, "/api/v1/inspection/evaluation?city=3307", Auth::Token(&reviewers[0].0), None).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspection_records_over_http_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = fq_store_sqlite::SqliteStore::open(&dir.path().join("fengqiao.db"), fq_store_sqlite::SqliteOptions::default())
        .await
        .unwrap();
    inspection_story(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspection_records_over_http_on_postgres() {
    let Some(db) = fq_store_postgres::scratch::ScratchDatabase::create().await else { return };
    let store = Arc::new(fq_store_postgres::PgStore::connect(&db.url, fq_store_postgres::PgOptions::default()).await.unwrap());
    inspection_story(store.clone()).await;
    store.close().await;
    db.drop_now().await;
}

/// Risk events pushed over HTTP: the source's feed account may, anyone else may not; a bad row
/// refuses the body.
async fn risk_push_story(store: Arc<dyn Store>) {
    let world = World::new(store).await;
    let org = world.org("路桥区社会治理中心", "centre", "331004", None).await;
    let feed = world.account("feed-grid-patrol", org, "grid_worker", "331004").await;
    let other = world.account("somebody", org, "grid_worker", "331004").await;
    let body = "report_id,reported_at,lon,lat,village,type,level,note\nP1,2026-03-01 09:00,,,331004,欠薪,2,某厂欠薪\n";
    let push = |token: String, body: &'static str| {
        let request = Request::builder()
            .method(Method::POST)
            .uri("/api/v1/risk/sources/grid_patrol/events")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "text/csv");
        world.app.clone().oneshot(request.body(Body::from(body)).unwrap())
    };
    let reply = push(other.clone(), body).await.unwrap();
    assert_eq!(reply.status(), StatusCode::FORBIDDEN);
    let reply = push(feed.clone(), body).await.unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    let report: Value = serde_json::from_slice(&axum::body::to_bytes(reply.into_body(), 1 << 20).await.unwrap()).unwrap();
    assert_eq!((report["stored"].as_u64(), report["by_region"].as_u64()), (Some(1), Some(1)), "{report}");
    let again = push(feed.clone(), body).await.unwrap();
    let report: Value = serde_json::from_slice(&axum::body::to_bytes(again.into_body(), 1 << 20).await.unwrap()).unwrap();
    assert_eq!((report["stored"].as_u64(), report["duplicates"].as_u64()), (Some(0), Some(1)));
    let bad =
        push(feed.clone(), "report_id,reported_at,lon,lat,village,type,level,note\nP2,soon,,,331004,欠薪,2,\n").await.unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused: Value = serde_json::from_slice(&axum::body::to_bytes(bad.into_body(), 1 << 20).await.unwrap()).unwrap();
    assert_eq!(refused["error"]["code"], "events_invalid", "{refused}");
    assert_eq!(
        (refused["bad"][0]["code"].as_str(), refused["bad"][0]["column"].as_str()),
        (Some("time_invalid"), Some("reported_at"))
    );
    // Rows that read but could never be counted, or clash: each named by its line and code, and
    // nothing stored (not even the good row).
    let clash = "report_id,reported_at,lon,lat,village,type,level,note\n\
        P3,1985-06-01 09:00,,,331004,欠薪,2,\nP4,2306-11-26 09:00,,,331004,欠薪,2,\nP5,2026-03-02 09:00,,,331099,欠薪,2,\n\
        P6,2026-03-02 09:00,,,331004,欠薪,2,\nP6,2026-03-03 09:00,,,331004,欠薪,2,\n";
    let bad = push(feed.clone(), clash).await.unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused: Value = serde_json::from_slice(&axum::body::to_bytes(bad.into_body(), 1 << 20).await.unwrap()).unwrap();
    let named: Vec<(u64, &str)> =
        refused["bad"].as_array().unwrap().iter().map(|b| (b["line"].as_u64().unwrap(), b["code"].as_str().unwrap())).collect();
    assert_eq!(
        named,
        [(2, "time_out_of_range"), (3, "time_out_of_range"), (4, "region_unknown"), (6, "id_duplicate")],
        "{refused}"
    );
    assert_eq!(refused["stored"], 0);

    // The week's forecast per grid: fourteen months of wage-arrears reports at one grid put it
    // first; a reader of another county is refused; a bad county is named.
    let luqiao = fq_domain::region::RegionCode::parse("331004").unwrap();
    world.engine.generate_grids(&cli(), &luqiao, 1000).await.unwrap();
    let grids = world.engine.grids_within(&cli(), &luqiao).await.unwrap();
    let hot = &grids[grids.len() / 2];
    let c = geo::Centroid::centroid(&hot.area).unwrap();
    let mut csv = String::from("report_id,reported_at,lon,lat,village,type,level,note\n");
    let first = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    // Up to 2026-02-28, before the clock's day (a report dated days ahead is refused).
    for d in (0..424).step_by(3) {
        csv += &format!("H{d},{} 09:00,{:.6},{:.6},,欠薪,2,\n", first + chrono::Duration::days(d), c.x(), c.y());
    }
    let ingested = world.engine.ingest_risk_events(&cli(), "grid_patrol", csv.as_bytes()).await.unwrap();
    assert!(ingested.bad.is_empty() && ingested.stored == 142, "{ingested:?}");
    let uri = "/api/v1/risk/forecast?county=331004&category=dispute_labour&day=2026-02-27";
    let reply = world.call(Method::GET, uri, Auth::Token(&other), None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let body = reply.body;
    assert_eq!((body["day"].as_str(), body["horizon_days"].as_u64()), (Some("2026-02-27"), Some(7)));
    // Fitted on the 141 reports before the day (every third day from 2025-01-01), and stored
    // for every process with the time it was fitted.
    assert_eq!(body["events"].as_u64(), Some(141), "{body}");
    let stored =
        world.engine.store().risk_forecast(&luqiao, "dispute_labour", chrono::NaiveDate::from_ymd_opt(2026, 2, 27).unwrap(), 7);
    let stored = stored.await.unwrap().expect("the forecast is stored");
    assert_eq!(stored.stored_events, 141);
    assert_eq!(body["fitted_at"].as_str().map(|t| t.parse::<chrono::DateTime<Utc>>().unwrap()), Some(stored.made_at));
    // A later day than today (the clock says 2026-03-02) is forecast from today: the days after
    // it have not happened. Today is the default.
    let later = world.call(Method::GET, "/api/v1/risk/forecast?county=331004&day=2026-03-07", Auth::Token(&other), None).await;
    assert_eq!(later.body["day"].as_str(), Some("2026-03-02"), "{}", later.body);
    let default = world.call(Method::GET, "/api/v1/risk/forecast?county=331004", Auth::Token(&other), None).await;
    assert_eq!(default.body["day"].as_str(), Some("2026-03-02"), "{}", default.body);
    // Today's forecast lists the last four weeks; the week from 2026-02-23 was never fitted.
    let days: Vec<&str> = default.body["record"].as_array().unwrap().iter().filter_map(|r| r["day"].as_str()).collect();
    assert_eq!(days, ["2026-02-23", "2026-02-16", "2026-02-09", "2026-02-02"]);
    assert!(default.body["record"][0]["check"].is_null() && body["record"].as_array().unwrap().is_empty());
    assert!(default.body["record_summary"].is_null(), "no period checked: {}", default.body["record_summary"]);
    // The week from 2026-02-27 is not over, so it has no check yet; the week from 2026-02-20
    // is, and its two reports (2026-02-22 and 02-25) fell in the one cell it flags.
    assert!(body["check"].is_null(), "{}", body["check"]);
    let over = world.call(Method::GET, "/api/v1/risk/forecast?county=331004&day=2026-02-20", Auth::Token(&other), None).await;
    let check = &over.body["check"];
    assert_eq!(
        (check["events"].as_u64(), check["flagged_cells"].as_f64(), check["captured"].as_f64()),
        (Some(2), Some(1.0), Some(2.0)),
        "{check}"
    );
    assert!(over.body["calibration"]["brier"].is_number() && body["calibration"].is_null(), "{}", over.body["calibration"]);
    // The track record: six weeks backfilled by an operator, listed with today's forecast (the
    // recent four checked now, then two stored) and added up.
    let backfilled = world.engine.backfill_checks(&cli(), &luqiao, fq_engine::Horizon::Week, 6, false).await.unwrap();
    let checked = backfilled.iter().filter(|p| p.check.is_some()).count();
    let default = world.call(Method::GET, "/api/v1/risk/forecast?county=331004", Auth::Token(&other), None).await;
    let record = default.body["record"].as_array().unwrap();
    assert_eq!(record.len(), 6, "{}", default.body["record"]);
    assert!(record[4]["checked_at"].is_string() && record[0]["checked_at"].is_null(), "{}", default.body["record"]);
    assert_eq!(default.body["record_summary"]["periods"].as_u64(), Some(checked as u64), "{}", default.body["record_summary"]);
    // The track record over a span of one's choosing: the six weeks, latest first, and their
    // sum; a span that ends before the latest week ends lists the five before it.
    let span = world.call(Method::GET, "/api/v1/risk/checks?county=331004&from=2026-01-01", Auth::Token(&other), None).await;
    assert_eq!(span.status, StatusCode::OK, "{}", span.body);
    let days: Vec<&str> = span.body["record"].as_array().unwrap().iter().filter_map(|r| r["day"].as_str()).collect();
    assert_eq!(days, ["2026-02-23", "2026-02-16", "2026-02-09", "2026-02-02", "2026-01-26", "2026-01-19"]);
    assert_eq!(span.body["summary"]["periods"].as_u64(), Some(checked as u64), "{}", span.body["summary"]);
    let shorter = world
        .call(Method::GET, "/api/v1/risk/checks?county=331004&from=2026-01-20&to=2026-02-28", Auth::Token(&other), None)
        .await;
    let days: Vec<&str> = shorter.body["record"].as_array().unwrap().iter().filter_map(|r| r["day"].as_str()).collect();
    assert_eq!(days, ["2026-02-16", "2026-02-09", "2026-02-02", "2026-01-26"], "{}", shorter.body);
    for (uri, code_) in [
        ("/api/v1/risk/checks?county=331004&from=2026-03-01&to=2026-02-01", "period_invalid"),
        ("/api/v1/risk/checks?county=331004&from=2020-01-01&to=2026-02-01", "period_invalid"),
        ("/api/v1/risk/checks?county=331004&from=2026-01-01&category=*", "category_unknown"),
        ("/api/v1/risk/checks?county=331004&from=2026-01-01&horizon=14d", "horizon_invalid"),
        ("/api/v1/risk/checks?county=331004001&from=2026-01-01", "region_not_county"),
        // Signed and far years parse as dates; they are refused before any day arithmetic.
        ("/api/v1/risk/checks?county=331004&from=-262143-01-01", "period_invalid"),
        ("/api/v1/risk/checks?county=331004&from=2026-01-01&to=%2B262142-12-31", "period_invalid"),
        ("/api/v1/risk/forecast?county=331004&day=-262143-01-01", "day_invalid"),
        ("/api/v1/risk/forecast?county=331004&day=%2B262142-12-31", "day_invalid"),
        // A county code not in the division tree: named, not an empty map read as "no risk".
        ("/api/v1/risk/forecast?county=331099", "region_unknown"),
        // A parameter that does not parse: the envelope, not the framework's plain text.
        ("/api/v1/risk/checks?county=331004&from=2026-13-01", "query_invalid"),
        ("/api/v1/risk/checks?county=331004", "query_invalid"),
    ] {
        let bad = world.call(Method::GET, uri, Auth::Token(&other), None).await;
        assert_eq!((bad.status, code(&bad)), (StatusCode::UNPROCESSABLE_ENTITY, code_), "{uri}: {}", bad.body);
    }
    let listed = body["grids"].as_array().unwrap();
    assert_eq!(listed.len(), grids.len(), "every grid of the county");
    assert_eq!(listed[0]["code"].as_str(), Some(hot.code.to_string().as_str()), "the hot grid is first");
    let p = listed[0]["probability"].as_f64().unwrap();
    assert!(p > 0.5 && p < 1.0 && listed[0]["level"].is_string(), "{}", listed[0]);
    // A month ahead: the same grid first, more expected, no level (the thresholds are a week's);
    // a horizon that is none of the three is named.
    let month = world.call(Method::GET, &format!("{uri}&horizon=30d"), Auth::Token(&other), None).await;
    assert_eq!((month.status, month.body["horizon_days"].as_u64()), (StatusCode::OK, Some(30)), "{}", month.body);
    let top = &month.body["grids"][0];
    assert_eq!(top["code"].as_str(), Some(hot.code.to_string().as_str()));
    assert!(top["expected"].as_f64().unwrap() > listed[0]["expected"].as_f64().unwrap() && top["level"].is_null(), "{top}");
    assert!(month.body["thresholds"].is_null() && body["thresholds"]["red"].is_number(), "a week's thresholds only");
    let fortnight = world.call(Method::GET, &format!("{uri}&horizon=14d"), Auth::Token(&other), None).await;
    assert_eq!((fortnight.status, code(&fortnight)), (StatusCode::UNPROCESSABLE_ENTITY, "horizon_invalid"));
    let jinhua_org = world.org("金东区社会治理中心", "centre", "330703", None).await;
    let elsewhere = world.account("jindong-analyst", jinhua_org, "analyst", "330703").await;
    let refused = world.call(Method::GET, uri, Auth::Token(&elsewhere), None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let refused =
        world.call(Method::GET, "/api/v1/risk/checks?county=331004&from=2026-01-01", Auth::Token(&elsewhere), None).await;
    assert_eq!((refused.status, refused.body.get("record").is_none()), (StatusCode::FORBIDDEN, true), "{}", refused.body);
    // Today's forecast, with its track record, is refused them too.
    let refused = world.call(Method::GET, "/api/v1/risk/forecast?county=331004", Auth::Token(&elsewhere), None).await;
    assert_eq!((refused.status, refused.body.get("record").is_none()), (StatusCode::FORBIDDEN, true), "{}", refused.body);
    // The every-category scope is no category.
    let star = world.call(Method::GET, "/api/v1/risk/forecast?county=331004&category=*", Auth::Token(&other), None).await;
    assert_eq!((star.status, code(&star)), (StatusCode::UNPROCESSABLE_ENTITY, "category_unknown"), "{}", star.body);
    let bad = world.call(Method::GET, "/api/v1/risk/forecast?county=lq", Auth::Token(&other), None).await;
    assert_eq!((bad.status, code(&bad)), (StatusCode::UNPROCESSABLE_ENTITY, "region_code_invalid"));

    // The 72-hour trace: the county's trace analyst reads its feed; a grid worker is refused; the
    // subject travels in the body; a bad body is named.
    let positions = "mmsi,time,lat,lon\nboat_a,2026-03-06T01:00:00Z,28.5,121.4\nboat_a,2026-03-06T02:00:00Z,28.51,121.41\n\
                     boat_b,2026-03-06T02:00:00Z,28.5101,121.4101\n";
    world.engine.ingest_positions(&cli(), "beidou", Some(&luqiao), positions.as_bytes()).await.unwrap();
    let analyst = world.account("luqiao-tracer", org, "tracer", "331004").await;
    let ask = json!({"id": "boat_a", "at": "2026-03-06T03:00:00Z", "within": 100});
    let traced = world.call(Method::POST, "/api/v1/risk/trace", Auth::Token(&analyst), Some(ask.clone())).await;
    assert_eq!(traced.status, StatusCode::OK, "{}", traced.body);
    assert_eq!(traced.body["track"].as_array().map(Vec::len), Some(2));
    assert_eq!(traced.body["contacts"][0]["id"].as_str(), Some("boat_b"));
    assert_eq!(traced.body["regions"], json!(["331004"]));
    let refused = world.call(Method::POST, "/api/v1/risk/trace", Auth::Token(&other), Some(ask)).await;
    assert_eq!((refused.status, code(&refused)), (StatusCode::FORBIDDEN, "forbidden"));
    let bad =
        world.call(Method::POST, "/api/v1/risk/trace", Auth::Token(&analyst), Some(json!({"id": "boat_a", "hours": 0}))).await;
    assert_eq!((bad.status, code(&bad)), (StatusCode::UNPROCESSABLE_ENTITY, "hours_invalid"));
    let strict = json!({"id": "boat_a", "at": "2026-03-06T03:00:00Z", "within": 100, "same_minutes": 0});
    let strict = world.call(Method::POST, "/api/v1/risk/trace", Auth::Token(&analyst), Some(strict)).await;
    assert_eq!((strict.status, strict.body["same_time_minutes"].as_i64()), (StatusCode::OK, Some(0)), "{}", strict.body);
    let far = json!({"id": "boat_a", "at": "-262143-01-01T00:00:00Z"});
    let far = world.call(Method::POST, "/api/v1/risk/trace", Auth::Token(&analyst), Some(far)).await;
    assert_eq!(
        (far.status, code(&far), far.body["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "at_invalid", Some("at"))
    );
    let bad = json!({"id": "boat_a", "same_minutes": 45});
    let bad = world.call(Method::POST, "/api/v1/risk/trace", Auth::Token(&analyst), Some(bad)).await;
    assert_eq!((bad.status, code(&bad)), (StatusCode::UNPROCESSABLE_ENTITY, "same_minutes_invalid"));

    // A position feed pushes its county's reports: stored once, then traced; a tracer may not
    // push, nor the feed for another county; a bad row stores nothing.
    let beidou = world.account("luqiao-beidou", org, "position_feed", "331004").await;
    let push_positions = |token: String, uri: &'static str, body: &'static str| {
        let request = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "text/csv");
        world.app.clone().oneshot(request.body(Body::from(body)).unwrap())
    };
    let reports = "id,time,lat,lon\nboat_d,2026-03-06T02:30:00Z,28.5102,121.4102\n";
    let read = |reply: axum::response::Response| async move {
        serde_json::from_slice::<Value>(&axum::body::to_bytes(reply.into_body(), 1 << 20).await.unwrap()).unwrap()
    };
    let pushed = push_positions(beidou.clone(), "/api/v1/risk/positions/beidou", reports).await.unwrap();
    assert_eq!(pushed.status(), StatusCode::OK);
    let report = read(pushed).await;
    assert_eq!((report["stored"].as_u64(), report["region"].as_str()), (Some(1), Some("331004")), "{report}");
    let report = read(push_positions(beidou.clone(), "/api/v1/risk/positions/beidou", reports).await.unwrap()).await;
    assert_eq!((report["stored"].as_u64(), report["duplicates"].as_u64()), (Some(0), Some(1)));
    let ask = json!({"id": "boat_d", "at": "2026-03-06T03:00:00Z"});
    let traced = world.call(Method::POST, "/api/v1/risk/trace", Auth::Token(&analyst), Some(ask)).await;
    assert_eq!(traced.body["track"].as_array().map(Vec::len), Some(1), "{}", traced.body);
    let not_a_feed = push_positions(analyst.clone(), "/api/v1/risk/positions/beidou", reports).await.unwrap();
    assert_eq!(not_a_feed.status(), StatusCode::FORBIDDEN);
    let elsewhere = push_positions(beidou.clone(), "/api/v1/risk/positions/beidou?region=330903", reports).await.unwrap();
    assert_eq!(elsewhere.status(), StatusCode::FORBIDDEN);
    // A feed of two counties must say which one a push is for: the field is named, not a 403.
    let grants = vec![("position_feed".into(), "331004".into(), None), ("position_feed".into(), "331003".into(), None)];
    let request = NewAccount { login: "taizhou-ais".into(), display_name: "taizhou-ais".into(), org, password: None, grants };
    world.engine.create_account(&cli(), request).await.unwrap();
    let two = world.engine.issue_token(&cli(), "taizhou-ais", "test", Some(30)).await.unwrap().secret;
    let unsaid = read(push_positions(two.clone(), "/api/v1/risk/positions/ais", reports).await.unwrap()).await;
    assert_eq!((unsaid["error"]["code"].as_str(), unsaid["error"]["field"].as_str()), (Some("region_required"), Some("region")));
    let said = push_positions(two, "/api/v1/risk/positions/ais?region=331003", reports).await.unwrap();
    assert_eq!(said.status(), StatusCode::OK);
    let broken = "id,time,lat,lon\nboat_e,soon,28.5,121.4\n";
    let refused = push_positions(beidou, "/api/v1/risk/positions/beidou", broken).await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn risk_events_are_pushed_by_their_feed_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = fq_store_sqlite::SqliteStore::open(&dir.path().join("fengqiao.db"), fq_store_sqlite::SqliteOptions::default())
        .await
        .unwrap();
    risk_push_story(Arc::new(store)).await;
}
