//! Engine use cases on a real SQLite store: the denials first.

mod support;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};

use chrono::{TimeZone, Utc};
use fq_domain::actor::Actor;
use fq_domain::region::RegionCode;
use fq_domain::region_dataset::DivisionFiles;
use fq_engine::{Engine, EngineError, NewAccount, NewOrganisation, embedded_division_files};
use fq_store::Store;
use fq_store_sqlite::{SqliteOptions, SqliteStore};
use support::cli;
use uuid::Uuid;

/// An engine on a fresh database with the real division tree and boundaries, and a clock the test
/// moves by hand.
struct World {
    engine: Engine,
    now: Arc<AtomicI64>,
    _dir: tempfile::TempDir,
}

impl World {
    async fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(&dir.path().join("fengqiao.db"), SqliteOptions::default()).await.unwrap());
        let now = Arc::new(AtomicI64::new(1_795_000_000));
        let clock = Arc::clone(&now);
        let engine =
            Engine::new(store).with_clock(Arc::new(move || Utc.timestamp_opt(clock.load(Ordering::Relaxed), 0).unwrap()));
        engine.ensure_reference_data().await.unwrap();
        World { engine, now, _dir: dir }
    }

    fn advance_days(&self, days: i64) {
        self.now.fetch_add(days * 86_400, Ordering::Relaxed);
    }

    async fn org(&self, actor: &Actor, name: &str, region: &str, parent: Option<Uuid>) -> Result<Uuid, EngineError> {
        let request = NewOrganisation { name: name.into(), kind: "centre".into(), region: region.into(), parent };
        self.engine.create_organisation(actor, request).await.map(|(org, _)| org.id.0)
    }

    /// Creates an account with `grants` and returns the actor it becomes.
    async fn account(&self, login: &str, org: Uuid, grants: &[(&str, &str)]) -> Actor {
        let request = NewAccount {
            login: login.into(),
            display_name: login.into(),
            org,
            password: Some("correct horse battery staple".into()),
            grants: grants.iter().map(|(role, region)| ((*role).into(), (*region).into(), None)).collect(),
        };
        self.engine.create_account(&cli(), request).await.unwrap();
        self.engine.authenticate_password(login, "correct horse battery staple").await.unwrap()
    }
}

fn forbidden<T: std::fmt::Debug>(result: &Result<T, EngineError>) {
    assert!(matches!(result, Err(EngineError::Forbidden(_))), "expected forbidden, got {result:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_expire_by_the_engine_clock_and_die_with_their_account() {
    let world = World::new().await;
    let org = world.org(&cli(), "中心", "331004", None).await.unwrap();
    world.account("li.si", org, &[("staff", "331004")]).await;
    let token = world.engine.issue_token(&cli(), "li.si", "对接", Some(30)).await.unwrap();
    assert!(world.engine.authenticate_token(&token.secret).await.is_ok());
    world.advance_days(29);
    assert!(world.engine.authenticate_token(&token.secret).await.is_ok(), "still valid on day 29");
    world.advance_days(2);
    assert!(matches!(world.engine.authenticate_token(&token.secret).await, Err(EngineError::Unauthenticated)), "expired");

    let forever = world.engine.issue_token(&cli(), "li.si", "长期", None).await.unwrap();
    world.engine.set_account_disabled(&cli(), "li.si", true).await.unwrap();
    assert!(matches!(world.engine.authenticate_token(&forever.secret).await, Err(EngineError::Unauthenticated)));
    assert!(matches!(world.engine.authenticate_token("fqt_guess").await, Err(EngineError::Unauthenticated)));
    let refused = world.engine.issue_token(&cli(), "li.si", "x", None).await.unwrap_err();
    assert_eq!(fq_domain::Coded::code(&refused), "account_disabled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_are_checked_and_refusals_look_alike() {
    let world = World::new().await;
    let org = world.org(&cli(), "中心", "331004", None).await.unwrap();
    world.account("zhao.liu", org, &[("staff", "331004")]).await;
    let wrong = world.engine.authenticate_password("zhao.liu", "correct horse battery stapler").await;
    let unknown = world.engine.authenticate_password("nobody", "correct horse battery staple").await;
    let malformed = world.engine.authenticate_password("Not A Login", "x").await;
    for refused in [wrong, unknown, malformed] {
        assert!(matches!(refused, Err(EngineError::Unauthenticated)), "{refused:?}");
    }
    let request =
        NewAccount { login: "no.password".into(), display_name: "无密码".into(), org, password: None, grants: vec![] };
    world.engine.create_account(&cli(), request).await.unwrap();
    assert!(matches!(world.engine.authenticate_password("no.password", "").await, Err(EngineError::Unauthenticated)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administrators_act_only_within_their_scope() {
    let world = World::new().await;
    let luqiao = world.org(&cli(), "路桥区中心", "331004", None).await.unwrap();
    let jiaojiang = world.org(&cli(), "椒江区中心", "331002", None).await.unwrap();
    let admin = world.account("luqiao.admin", luqiao, &[("admin", "331004")]).await;
    let staff = world.account("luqiao.staff", luqiao, &[("staff", "331004")]).await;

    // In scope.
    let station = world.org(&admin, "路南街道工作站", "331004001", Some(luqiao)).await.unwrap();
    // Another county, the city above, the wrong role.
    forbidden(&world.org(&admin, "椒江站", "331002001", None).await);
    forbidden(&world.org(&admin, "台州市中心", "3310", None).await);
    forbidden(&world.org(&staff, "站", "331004001", None).await);
    // A parent must contain its child's region.
    let err = world.org(&admin, "错位", "331004002", Some(station)).await.unwrap_err();
    assert_eq!(fq_domain::Coded::code(&err), "parent_outside_region");

    // Accounts: not in another county's organisation, and no grant wider than the granter's.
    let request = |login: &str, org: Uuid, grant: (&str, &str)| NewAccount {
        login: login.into(),
        display_name: "新人".into(),
        org,
        password: None,
        grants: vec![(grant.0.into(), grant.1.into(), None)],
    };
    forbidden(&world.engine.create_account(&admin, request("a.one", jiaojiang, ("staff", "331002"))).await);
    forbidden(&world.engine.create_account(&admin, request("a.two", luqiao, ("leader", "3310"))).await);
    world.engine.create_account(&admin, request("a.three", luqiao, ("mediator", "331004001"))).await.unwrap();
    forbidden(&world.engine.grant_role(&admin, "a.three", ("admin".into(), "33".into(), None)).await);
    forbidden(&world.engine.set_account_disabled(&staff, "a.three", true).await);

    // Reads: another county's organisation is not even found.
    let missing = world.engine.organisation(&admin, fq_domain::org::OrgId(jiaojiang)).await;
    assert!(matches!(missing, Err(EngineError::NotFound { .. })), "{missing:?}");
    let visible = world.engine.organisations_within(&admin, &RegionCode::parse("33").unwrap()).await.unwrap();
    assert!(visible.iter().all(|o| o.region.as_str().starts_with("331004")));
    forbidden(&world.engine.grids_within(&staff, &RegionCode::parse("331002").unwrap()).await);

    // Reference data is for the machine's operators only.
    forbidden(&world.engine.import_regions(&admin, "x", embedded_division_files()).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_division_vintage_is_applied_as_a_journaled_difference() {
    let world = World::new().await;
    let again = world.engine.import_regions(&cli(), "again", embedded_division_files()).await.unwrap();
    assert_eq!(again.journal_seq, None, "the same tree changes nothing");

    // A vintage where one village is renamed and another has gone.
    static VILLAGES: OnceLock<String> = OnceLock::new();
    let villages = VILLAGES.get_or_init(|| {
        let text = std::str::from_utf8(embedded_division_files().villages).unwrap();
        text.lines()
            .filter(|line| !line.starts_with("331004001004,"))
            .map(|line| {
                if line.starts_with("331004001002,") {
                    line.replace("方林社区居委会", "方林社区")
                } else {
                    line.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    let files = DivisionFiles { villages: villages.as_bytes(), ..embedded_division_files() };
    let report = world.engine.import_regions(&cli(), "2024 vintage", files).await.unwrap();
    assert_eq!((report.added, report.renamed, report.retired, report.restored), (0, 1, 1, 0));
    let seq = report.journal_seq.expect("journaled");
    let event = world.engine.store().events_after(seq - 1, 1).await.unwrap().remove(0);
    let payload = event.payload_json();
    assert_eq!(payload["retired"][0], "331004001004");
    assert_eq!(payload["renamed"][0][2], "方林社区");
    let gone = world.engine.region(&RegionCode::parse("331004001004").unwrap()).await.unwrap();
    assert!(gone.retired, "retired, never deleted");

    // The old vintage brings it back.
    let back = world.engine.import_regions(&cli(), "old", embedded_division_files()).await.unwrap();
    assert_eq!((back.renamed, back.restored), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grid_generation_refuses_towns_unknown_counties_and_tiny_cells() {
    let world = World::new().await;
    let town = RegionCode::parse("331004001").unwrap();
    let err = world.engine.generate_grids(&cli(), &town, 1000).await.unwrap_err();
    assert_eq!(fq_domain::Coded::code(&err), "region_not_county");
    let unknown = RegionCode::parse("339999").unwrap();
    let err = world.engine.generate_grids(&cli(), &unknown, 1000).await.unwrap_err();
    assert_eq!(fq_domain::Coded::code(&err), "region_unknown");
    let err = world.engine.generate_grids(&cli(), &RegionCode::parse("331004").unwrap(), 10).await.unwrap_err();
    assert_eq!(fq_domain::Coded::code(&err), "grid_generation_invalid");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_narrower_administrator_cannot_take_over_a_wider_account() {
    let world = World::new().await;
    // A provincial administrator whose home organisation sits in a county.
    let luqiao = world.org(&cli(), "路桥区中心", "331004", None).await.unwrap();
    world.account("province.admin", luqiao, &[("admin", "33")]).await;
    let county_admin = world.account("county.admin", luqiao, &[("admin", "331004")]).await;
    world.account("county.staff", luqiao, &[("staff", "331004")]).await;

    forbidden(&world.engine.issue_token(&county_admin, "province.admin", "夺权", None).await);
    forbidden(&world.engine.set_account_disabled(&county_admin, "province.admin", true).await);
    forbidden(&world.engine.grant_role(&county_admin, "province.admin", ("staff".into(), "331004".into(), None)).await);
    // Accounts within its reach are still its to manage.
    world.engine.issue_token(&county_admin, "county.staff", "对接", Some(30)).await.unwrap();
    world.engine.set_account_disabled(&county_admin, "county.staff", true).await.unwrap();

    // Token lifetimes are bounded.
    let err = world.engine.issue_token(&cli(), "county.admin", "永久", Some(u32::MAX)).await.unwrap_err();
    assert_eq!(fq_domain::Coded::code(&err), "token_lifetime_invalid");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parent_outside_the_administrators_sight_is_not_revealed() {
    let world = World::new().await;
    let secret = world.org(&cli(), "机密单位", "331002", None).await.unwrap();
    let province = world.org(&cli(), "省中心", "33", None).await.unwrap();
    let luqiao = world.org(&cli(), "路桥区中心", "331004", None).await.unwrap();
    let admin = world.account("luqiao.admin", luqiao, &[("admin", "331004")]).await;
    for parent in [secret, province] {
        let err = world.org(&admin, "下属站", "331004001", Some(parent)).await.unwrap_err();
        assert_eq!(fq_domain::Coded::code(&err), "parent_unknown");
        assert!(!err.to_string().contains("机密") && !err.to_string().contains("331002"), "{err}");
    }
    world.org(&admin, "下属站", "331004001", Some(luqiao)).await.unwrap();
}
