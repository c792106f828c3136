//! The stories. Each starts from an empty, migrated database.

mod case_figures;
mod cases;
mod console;
mod risk;

pub use case_figures::{case_kpis_whole_and_per_county, case_lists_filter_sort_and_count, case_trend_by_beijing_day};
pub use cases::{
    a_taken_case_number_is_a_conflict, accounts_with_a_role, case_lists_filter_and_page, case_put_and_replace,
    due_cases_come_earliest_first, handler_profiles_are_replaced, last_case_number_per_series, notifications_newest_first,
    tallies_add_up,
};
pub use console::{attachments_round_trip_and_attach, login_throttles_replace_and_clear, sessions_insert_revoke_and_conflict};
pub use risk::{
    positions_read_by_place_in_one_snapshot, positions_read_by_time_and_county, risk_checks_read_by_span_latest_first,
    risk_forecasts_replace_only_with_more_events,
};

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use fq_domain::account::{ApiToken, RoleCode, RoleGrant, Scope};
use fq_domain::boundary::Boundary;
use fq_domain::journal::{BreakKind, Checkpoint, Hash, NewEvent, RecordedHead};
use fq_domain::region::{RegionCounts, RegionLevel};
use fq_engine::{AuditOutcome, Engine};
use fq_store::{Change, Expectation, Op, Store, StoreError};
use serde_json::json;
use uuid::Uuid;

use crate::Harness;
use crate::fixtures::{account, code, event, grid, org, org_change, regions, tree_change};

async fn verify(store: Arc<dyn Store>) -> AuditOutcome {
    Engine::new(store).verify_journal(Vec::new(), &|_| {}).await.expect("the journal can be read")
}

async fn assert_intact(store: Arc<dyn Store>, events: u64) {
    match verify(store).await {
        AuditOutcome::Intact(summary) => assert_eq!(summary.events, events),
        AuditOutcome::Broken(found) => panic!("the journal should verify, but {found}"),
    }
}

async fn assert_broken(h: &dyn Harness, seq: u64, kind: BreakKind) {
    match verify(h.store()).await {
        AuditOutcome::Intact(summary) => panic!("tampering went unnoticed ({} events verified)", summary.events),
        AuditOutcome::Broken(found) => assert_eq!((found.seq, found.kind), (seq, kind), "{found}"),
    }
}

pub async fn empty_store(h: &dyn Harness) {
    let store = h.store();
    assert_eq!(store.recorded_head().await.unwrap(), RecordedHead::Empty);
    assert_eq!(store.region_counts().await.unwrap(), RegionCounts::default());
    assert!(store.events_after(0, 10).await.unwrap().is_empty());
    assert_eq!(store.grid_counts().await.unwrap(), (0, 0));
    store.ping().await.unwrap();
    assert_intact(store, 0).await;
}

pub async fn regions_round_trip(h: &dyn Harness) {
    let store = h.store();
    store.commit(tree_change()).await.unwrap();
    let counts = store.region_counts().await.unwrap();
    assert_eq!((counts.provinces, counts.cities, counts.counties, counts.towns, counts.villages), (1, 1, 2, 2, 2));
    let luqiao = store.region(&code("331004")).await.unwrap().unwrap();
    assert_eq!(luqiao.name, "路桥区");
    let children: Vec<String> = store.children(&code("331004")).await.unwrap().into_iter().map(|r| r.code.to_string()).collect();
    assert_eq!(children, ["331004001", "331004002"]);
    assert!(store.region(&code("331003")).await.unwrap().is_none());

    let change = Change::new()
        .op(Op::RenameRegion { code: code("331004002"), name: "新街道".into() })
        .op(Op::RetireRegions(vec![code("331004001002")]))
        .op(Op::UpsertBoundaries(vec![Boundary {
            code: code("331004"),
            name: "路桥区".into(),
            area: grid("1", "331004001", false, 121.4).area,
        }]))
        .event(NewEvent::new("region_tree", "region_tree.imported", "system", json!({})));
    store.commit(change).await.unwrap();
    assert_eq!(store.region(&code("331004002")).await.unwrap().unwrap().name, "新街道");
    assert!(store.region(&code("331004001002")).await.unwrap().unwrap().retired);
    assert_eq!(store.region_counts().await.unwrap().villages, 1, "retired regions are not counted");
    assert_eq!(store.regions_all().await.unwrap().len(), regions().len(), "retired regions are kept");
    let boundaries = store.boundaries(RegionLevel::County).await.unwrap();
    assert_eq!(boundaries.len(), 1);
    assert_eq!(store.boundary(&code("331004")).await.unwrap().unwrap().geojson, boundaries[0].geojson);
    assert!(boundaries[0].geojson.contains("MultiPolygon"));

    let missing = store.commit(Change::new().op(Op::RenameRegion { code: code("339999"), name: "x".into() })).await;
    assert!(matches!(missing, Err(StoreError::Missing { entity: "region", .. })), "{missing:?}");
    assert_intact(store, 2).await;
}

pub async fn real_reference_data_loads(h: &dyn Harness) {
    let engine = Engine::new(h.store());
    let (regions, boundaries) = engine.ensure_reference_data().await.unwrap().expect("a fresh store loads the tree");
    assert_eq!(regions.added, 1 + 11 + 90 + 1_387 + 25_547);
    assert_eq!(boundaries.iter().map(|b| b.boundaries).sum::<usize>(), 1 + 11 + 90);
    let counts = h.store().region_counts().await.unwrap();
    assert_eq!((counts.provinces, counts.cities, counts.counties, counts.towns, counts.villages), (1, 11, 90, 1_387, 25_547));
    assert!(engine.ensure_reference_data().await.unwrap().is_none(), "the second start loads nothing");
    let qiantang = h.store().children(&code("330114")).await.unwrap();
    assert_eq!(qiantang.len(), 7, "钱塘区 has 7 streets");
    assert_intact(h.store(), 4).await;
}

pub async fn organisations_accounts_and_tokens(h: &dyn Harness) {
    let store = h.store();
    store.commit(tree_change()).await.unwrap();
    let centre = org("路桥区社会治理中心", "331004");
    let mut station = org("路桥街道工作站", "331004001");
    station.parent = Some(centre.id);
    store.commit(org_change(&centre)).await.unwrap();
    store.commit(org_change(&station)).await.unwrap();
    assert_eq!(store.organisation(station.id).await.unwrap().unwrap(), station);
    let within: Vec<_> = store.organisations_within(&code("331004")).await.unwrap().into_iter().map(|o| o.id).collect();
    assert_eq!(within, [centre.id, station.id]);
    assert!(store.organisations_within(&code("331002")).await.unwrap().is_empty());

    let unknown_region = org("无处", "331003");
    let err = store.commit(org_change(&unknown_region)).await.unwrap_err();
    assert!(matches!(err, StoreError::Missing { .. }), "{err:?}");
    assert!(store.organisation(unknown_region.id).await.unwrap().is_none());

    let mut mediator = account("li.si", centre.id, "mediator", "331004");
    mediator.grants.push(RoleGrant {
        role: RoleCode::parse("staff").unwrap(),
        scope: Scope { region: code("331004001"), org: Some(station.id) },
    });
    store
        .commit(Change::new().op(Op::InsertAccount { account: mediator.clone(), password_hash: Some("$argon2id$x".into()) }))
        .await
        .unwrap();
    let loaded = store.account_by_login(&mediator.login).await.unwrap().unwrap();
    assert_eq!(loaded.grants.len(), 2);
    assert_eq!(store.account(mediator.id).await.unwrap().unwrap().login, mediator.login);
    assert_eq!(store.password_hash(mediator.id).await.unwrap().as_deref(), Some("$argon2id$x"));

    let twin = account("li.si", centre.id, "staff", "331004");
    let err = store.commit(Change::new().op(Op::InsertAccount { account: twin, password_hash: None })).await.unwrap_err();
    assert!(matches!(&err, StoreError::Conflict { entity: "account", key } if key == "li.si"), "{err:?}");

    let grant = RoleGrant { role: RoleCode::parse("leader").unwrap(), scope: Scope { region: code("3310"), org: None } };
    store.commit(Change::new().op(Op::AddRoleGrant { account: mediator.id, grant: grant.clone() })).await.unwrap();
    let err = store.commit(Change::new().op(Op::AddRoleGrant { account: mediator.id, grant })).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "a grant is given once: {err:?}");

    let token = ApiToken {
        id: Uuid::now_v7(),
        account: mediator.id,
        label: "集成".into(),
        secret_hash: "ab".repeat(32),
        created_at: Utc.timestamp_opt(1_795_000_000, 123_456_000).unwrap(),
        expires_at: Some(Utc.timestamp_opt(1_800_000_000, 0).unwrap()),
        revoked: false,
    };
    store.commit(Change::new().op(Op::InsertApiToken(token.clone()))).await.unwrap();
    assert_eq!(store.api_token_by_secret_hash(&token.secret_hash).await.unwrap().unwrap(), token);
    store.commit(Change::new().op(Op::RevokeApiToken { token: token.id })).await.unwrap();
    assert!(store.api_token_by_secret_hash(&token.secret_hash).await.unwrap().unwrap().revoked);
    // All of an account's tokens at once (disabling it); another account's stay as they are.
    let colleague = account("zhang.san", centre.id, "staff", "331004");
    store.commit(Change::new().op(Op::InsertAccount { account: colleague.clone(), password_hash: None })).await.unwrap();
    let second = ApiToken { id: Uuid::now_v7(), secret_hash: "ef".repeat(32), ..token.clone() };
    let others = ApiToken { id: Uuid::now_v7(), account: colleague.id, secret_hash: "12".repeat(32), ..token.clone() };
    store.commit(Change::new().op(Op::InsertApiToken(second.clone())).op(Op::InsertApiToken(others.clone()))).await.unwrap();
    store.commit(Change::new().op(Op::RevokeAccountTokens { account: mediator.id })).await.unwrap();
    assert!(store.api_token_by_secret_hash(&second.secret_hash).await.unwrap().unwrap().revoked);
    assert!(!store.api_token_by_secret_hash(&others.secret_hash).await.unwrap().unwrap().revoked);
    store.commit(Change::new().op(Op::SetAccountDisabled { account: mediator.id, disabled: true })).await.unwrap();
    assert!(store.account(mediator.id).await.unwrap().unwrap().disabled);
    assert!(store.api_token_by_secret_hash("cd").await.unwrap().is_none());
}

pub async fn grids_round_trip(h: &dyn Harness) {
    let store = h.store();
    store.commit(tree_change()).await.unwrap();
    let grids = vec![
        grid("01", "331004001", false, 121.40),
        grid("02", "331004001001", false, 121.41),
        grid("G001", "331004002", true, 121.42),
    ];
    store.commit(Change::new().op(Op::InsertGrids(grids.clone()))).await.unwrap();
    assert_eq!(store.grid_counts().await.unwrap(), (3, 1));
    let loaded = store.grid(&grids[1].code).await.unwrap().unwrap();
    assert_eq!(loaded, grids[1]);
    assert_eq!(store.grids_within(&code("331004001")).await.unwrap().len(), 2);
    assert_eq!(store.grids_within(&code("3310")).await.unwrap().len(), 3);
    assert!(store.grids_within(&code("331002")).await.unwrap().is_empty());

    // A taken code is reported by name and the whole change is refused.
    let again = vec![grid("03", "331004001", false, 121.43), grids[0].clone()];
    let err = store.commit(Change::new().op(Op::InsertGrids(again))).await.unwrap_err();
    assert!(matches!(&err, StoreError::Conflict { entity: "grid", key } if key == grids[0].code.as_str()), "{err:?}");
    assert_eq!(store.grid_counts().await.unwrap(), (3, 1));

    // Only generated grids can be deleted that way.
    let err = store.commit(Change::new().op(Op::DeleteGeneratedGrids(vec![grids[0].code.clone()]))).await.unwrap_err();
    assert!(matches!(err, StoreError::Missing { .. }), "{err:?}");
    store.commit(Change::new().op(Op::DeleteGeneratedGrids(vec![grids[2].code.clone()]))).await.unwrap();
    assert_eq!(store.grid_counts().await.unwrap(), (2, 0));
}

pub async fn journal_numbering_and_streams(h: &dyn Harness) {
    let store = h.store();
    let first = store.commit(event(1)).await.unwrap();
    assert_eq!((first.first_seq, first.last_seq), (1, 1));
    let many = Change::new()
        .event(NewEvent::new("case:7", "case.created", "account:x", json!({"title": "一"})))
        .event(NewEvent::new("case:7", "case.assigned", "account:x", json!({"to": "y"})))
        .event(NewEvent::new("case:8", "case.created", "account:x", json!({"amount": 12.5})));
    let committed = store.commit(many).await.unwrap();
    assert_eq!((committed.first_seq, committed.last_seq), (2, 4));
    let quiet = store.commit(Change::new().op(Op::PutSetting { key: "k".into(), value: "v".into() })).await.unwrap();
    assert_eq!((quiet.first_seq, quiet.last_seq, quiet.head), (4, 4, committed.head), "a change without events appends nothing");

    let rows = store.events_after(0, 100).await.unwrap();
    assert_eq!(rows.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2, 3, 4]);
    assert_eq!(rows[0].prev_hash, Hash::GENESIS);
    assert_eq!(rows[3].hash, committed.head);
    assert_eq!(rows[3].payload, r#"{"amount":12.5}"#);
    for pair in rows.windows(2) {
        assert_eq!(pair[1].prev_hash, pair[0].hash);
        assert!(pair[1].recorded_at >= pair[0].recorded_at);
    }
    let case7 = store.stream_events("case:7").await.unwrap();
    assert_eq!(case7.iter().map(|r| (r.seq, r.stream_seq)).collect::<Vec<_>>(), [(2, 1), (3, 2)]);
    assert_eq!(store.events_after(2, 1).await.unwrap()[0].seq, 3, "paging");
    assert_eq!(store.find_event_by_hash(rows[2].hash).await.unwrap(), Some(3));
    assert_eq!(store.find_event_by_hash(Hash([9; 32])).await.unwrap(), None);
    assert_eq!(store.recorded_head().await.unwrap(), RecordedHead::At(Checkpoint { seq: 4, hash: committed.head }));
    assert_intact(store, 4).await;
}

pub async fn failed_change_writes_nothing(h: &dyn Harness) {
    let store = h.store();
    store.commit(tree_change()).await.unwrap();
    let existing = org("已有", "331004");
    store.commit(org_change(&existing)).await.unwrap();
    let head = store.recorded_head().await.unwrap();
    let fresh = org("新的", "331004");
    // The second op conflicts: the first must be undone and no event appended.
    let change = Change::new()
        .op(Op::InsertOrganisation(fresh.clone()))
        .op(Op::InsertOrganisation(existing.clone()))
        .event(NewEvent::new("organisation:x", "organisation.created", "system", json!({})));
    assert!(matches!(store.commit(change).await, Err(StoreError::Conflict { .. })));
    assert!(store.organisation(fresh.id).await.unwrap().is_none());
    assert_eq!(store.recorded_head().await.unwrap(), head);
    // The store still works afterwards.
    store.commit(org_change(&fresh)).await.unwrap();
    assert_intact(store, 3).await;
}

pub async fn stream_expectation_guards_concurrent_edits(h: &dyn Harness) {
    let store = h.store();
    let expect = |version| Expectation::StreamVersion { stream: "case:1".into(), version };
    let note = || NewEvent::new("case:1", "case.noted", "system", json!({}));
    store.commit(Change::new().expect(expect(0)).event(note())).await.unwrap();
    store.commit(Change::new().expect(expect(1)).event(note())).await.unwrap();
    let stale = store.commit(Change::new().expect(expect(1)).event(note())).await.unwrap_err();
    assert!(matches!(stale, StoreError::StreamMoved { expected: 1, actual: 2, .. }), "{stale:?}");
    assert_eq!(store.stream_events("case:1").await.unwrap().len(), 2);
    assert_intact(store, 2).await;
}

pub async fn concurrent_writers_share_commits(h: &dyn Harness) {
    let store = h.store();
    store.commit(tree_change()).await.unwrap();
    let taken = org("重复", "331004");
    store.commit(org_change(&taken)).await.unwrap();
    let mut tasks = Vec::new();
    for writer in 0..16u64 {
        let store = Arc::clone(&store);
        let taken = taken.clone();
        tasks.push(tokio::spawn(async move {
            let mut ok = Vec::new();
            let mut refused = 0;
            for n in 0..40u64 {
                // Every fifth change conflicts and must fail alone, without harming its group.
                let result = if n % 5 == 4 {
                    store.commit(org_change(&taken)).await
                } else {
                    let o = org(&format!("并发{writer}-{n}"), "331004");
                    store.commit(org_change(&o)).await.inspect(|_| ok.push(o.id))
                };
                match result {
                    Ok(_) => {}
                    Err(StoreError::Conflict { .. }) => refused += 1,
                    Err(other) => panic!("unexpected {other}"),
                }
            }
            (ok, refused)
        }));
    }
    let mut created = HashSet::new();
    let mut refused = 0;
    for task in tasks {
        let (ok, r) = task.await.unwrap();
        created.extend(ok);
        refused += r;
    }
    assert_eq!(created.len(), 16 * 32);
    assert_eq!(refused, 16 * 8);
    let stored: HashSet<_> = store.organisations_within(&code("331004")).await.unwrap().into_iter().map(|o| o.id).collect();
    assert_eq!(stored.len(), created.len() + 1);
    assert!(created.is_subset(&stored));
    assert_intact(store, 2 + 16 * 32).await;
}

/// Writers whose requests are cancelled while their change waits in the queue (a client that
/// hangs up) must not stall the writers behind them, and what lands keeps one intact chain:
/// a cancelled change either committed whole or not at all.
pub async fn cancelled_writers_do_not_stall_the_queue(h: &dyn Harness) {
    let store = h.store();
    store.commit(tree_change()).await.unwrap();
    let mut tasks = Vec::new();
    for writer in 0..16u64 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let mut answered = 0u64;
            for n in 0..30u64 {
                let o = org(&format!("取消{writer}-{n}"), "331004");
                if writer % 2 == 0 {
                    // Half the writers give up almost at once: most of these are dropped queued.
                    let wait = std::time::Duration::from_micros(20 * (n % 5));
                    let _ = tokio::time::timeout(wait, store.commit(org_change(&o))).await;
                } else {
                    store.commit(org_change(&o)).await.expect("a patient writer is answered");
                    answered += 1;
                }
            }
            answered
        }));
    }
    let all = async {
        let mut answered = 0;
        for task in tasks {
            answered += task.await.unwrap();
        }
        answered
    };
    let answered = tokio::time::timeout(std::time::Duration::from_secs(60), all).await.expect("no writer is left waiting");
    assert_eq!(answered, 8 * 30);
    let stored = store.organisations_within(&code("331004")).await.unwrap().len() as u64;
    assert!(stored >= answered, "every answered change is stored ({stored} < {answered})");
    // One event per stored organisation, plus the region tree: nothing half-written.
    assert_intact(store, 1 + stored).await;
}

pub async fn two_stores_on_one_database_keep_one_chain(h: &dyn Harness) {
    let first = h.store();
    let second = h.second_store().await;
    first.commit(tree_change()).await.unwrap();
    let mut tasks = Vec::new();
    for (name, store) in [("一", Arc::clone(&first)), ("二", Arc::clone(&second))] {
        for writer in 0..4 {
            let store = Arc::clone(&store);
            tasks.push(tokio::spawn(async move {
                for n in 0..30 {
                    let o = org(&format!("进程{name}-{writer}-{n}"), "331004");
                    store.commit(org_change(&o)).await.expect("commit from either store");
                }
            }));
        }
    }
    for task in tasks {
        task.await.unwrap();
    }
    // Both stores see one gap-free chain with every event.
    let rows = second.events_after(0, 1_000).await.unwrap();
    assert_eq!(rows.len(), 1 + 2 * 4 * 30);
    assert!(rows.iter().enumerate().all(|(idx, row)| row.seq == idx as u64 + 1), "sequence numbers have no gaps");
    assert_eq!(first.recorded_head().await.unwrap(), second.recorded_head().await.unwrap());
    assert_intact(first, 1 + 2 * 4 * 30).await;
    second.close().await;
}

pub async fn occurred_at_is_kept_beside_recorded_at(h: &dyn Harness) {
    let store = h.store();
    let at_sea = Utc.timestamp_opt(1_790_000_000, 654_321_000).unwrap();
    let mut session = NewEvent::new("case:9", "mediation.session_held", "account:m", json!({"method": "at_sea"}));
    session.occurred_at = Some(at_sea);
    store.commit(Change::new().event(session)).await.unwrap();
    let row = &store.events_after(0, 1).await.unwrap()[0];
    assert_eq!(row.occurred_at, Some(at_sea));
    assert!(row.recorded_at > at_sea);
    assert_intact(store, 1).await;
}

pub async fn settings_round_trip(h: &dyn Harness) {
    let store = h.store();
    assert_eq!(store.setting("demo.seeded_at").await.unwrap(), None);
    store.commit(Change::new().op(Op::PutSetting { key: "demo.seeded_at".into(), value: "a".into() })).await.unwrap();
    store.commit(Change::new().op(Op::PutSetting { key: "demo.seeded_at".into(), value: "b".into() })).await.unwrap();
    assert_eq!(store.setting("demo.seeded_at").await.unwrap().as_deref(), Some("b"));
}

async fn raw(h: &dyn Harness, sql: &str) {
    if let Err(err) = h.try_raw(sql).await {
        panic!("{sql} failed: {err}");
    }
}

async fn ten_events(h: &dyn Harness) {
    for n in 1..=10 {
        h.store().commit(event(n)).await.unwrap();
    }
    assert_intact(h.store(), 10).await;
    h.unprotect_journal().await;
}

pub async fn tampered_payload_is_named(h: &dyn Harness) {
    ten_events(h).await;
    raw(h, r#"UPDATE journal SET payload = '{"n":500}' WHERE seq = 5"#).await;
    assert_broken(h, 5, BreakKind::Edited).await;
}

pub async fn deleted_row_is_named(h: &dyn Harness) {
    ten_events(h).await;
    raw(h, "DELETE FROM journal WHERE seq = 5").await;
    assert_broken(h, 5, BreakKind::Deleted).await;
}

pub async fn swapped_rows_are_named(h: &dyn Harness) {
    ten_events(h).await;
    raw(h, "UPDATE journal SET seq = 1000000 WHERE seq = 4").await;
    raw(h, "UPDATE journal SET seq = 4 WHERE seq = 6").await;
    raw(h, "UPDATE journal SET seq = 6 WHERE seq = 1000000").await;
    assert_broken(h, 4, BreakKind::Reordered).await;
}

pub async fn appended_row_is_named(h: &dyn Harness) {
    ten_events(h).await;
    raw(
        h,
        "INSERT INTO journal (seq, stream, stream_seq, kind, actor, recorded_at, occurred_at, payload, prev_hash, hash)
         SELECT seq + 1, 'forged', 1, kind, actor, recorded_at, occurred_at, payload, hash, hash FROM journal WHERE seq = 10",
    )
    .await;
    assert_broken(h, 11, BreakKind::Inserted).await;
}

pub async fn inserted_row_is_named(h: &dyn Harness) {
    ten_events(h).await;
    // Make room at 5 by moving rows 5..10 up by one, then slip a forged row in.
    raw(h, "UPDATE journal SET seq = seq + 1000000 WHERE seq >= 5").await;
    raw(h, "UPDATE journal SET seq = seq - 999999 WHERE seq > 1000000").await;
    raw(
        h,
        "INSERT INTO journal (seq, stream, stream_seq, kind, actor, recorded_at, occurred_at, payload, prev_hash, hash)
         SELECT 5, 'forged', 1, kind, actor, recorded_at, occurred_at, '{\"forged\":true}', hash, hash FROM journal WHERE seq = 4",
    )
    .await;
    assert_broken(h, 5, BreakKind::Inserted).await;
}

pub async fn rows_outside_the_sequence_are_refused(h: &dyn Harness) {
    ten_events(h).await;
    for seq in [0, -3] {
        let refused = h
            .try_raw(&format!(
                "INSERT INTO journal (seq, stream, stream_seq, kind, actor, recorded_at, occurred_at, payload, prev_hash, hash)
                 SELECT {seq}, 'forged', 1, kind, actor, recorded_at, occurred_at, payload, hash, hash FROM journal WHERE seq = 1"
            ))
            .await;
        assert!(refused.is_err_and(|e| e.to_lowercase().contains("check")), "a row numbered {seq} must be refused by the schema");
    }
    assert_intact(h.store(), 10).await;
}

pub async fn a_deleted_head_record_is_named(h: &dyn Harness) {
    ten_events(h).await;
    assert!(h.try_raw("DELETE FROM journal_head").await.is_err(), "the head row is protected too");
    h.unprotect_head().await;
    raw(h, "DELETE FROM journal_head").await;
    assert_broken(h, 11, BreakKind::Deleted).await;
    let refused = h.store().commit(event(11)).await;
    assert!(matches!(refused, Err(StoreError::Corrupt { .. })), "nothing is appended without a head: {refused:?}");
}

pub async fn an_emptied_journal_is_named(h: &dyn Harness) {
    ten_events(h).await;
    h.unprotect_head().await;
    raw(h, "DELETE FROM journal").await;
    raw(h, "DELETE FROM journal_head").await;
    assert_broken(h, 1, BreakKind::Deleted).await;
}

pub async fn verification_beside_a_live_writer_stays_intact(h: &dyn Harness) {
    let store = h.store();
    for n in 0..50 {
        store.commit(event(n)).await.unwrap();
    }
    let writing = {
        let store = Arc::clone(&store);
        tokio::spawn(async move {
            for n in 50..400u64 {
                store.commit(event(n)).await.unwrap();
            }
        })
    };
    // Verify again and again while commits land: the head is read after the rows, so rows
    // committed during a walk are never taken for forgeries.
    let engine = Engine::new(Arc::clone(&store));
    while !writing.is_finished() {
        match engine.verify_journal(Vec::new(), &|_| {}).await.unwrap() {
            AuditOutcome::Intact(summary) => assert!(summary.events >= 50),
            AuditOutcome::Broken(found) => panic!("an online audit reported {found}"),
        }
    }
    writing.await.unwrap();
    assert_intact(store, 400).await;
}

pub async fn append_only_triggers_refuse_edits(h: &dyn Harness) {
    for n in 1..=3 {
        h.store().commit(event(n)).await.unwrap();
    }
    let update = h.try_raw("UPDATE journal SET payload = '{}' WHERE seq = 2").await;
    assert!(update.is_err_and(|e| e.contains("append-only")), "an UPDATE on the journal must be refused by the database");
    let delete = h.try_raw("DELETE FROM journal WHERE seq = 3").await;
    assert!(delete.is_err_and(|e| e.contains("append-only")), "a DELETE on the journal must be refused by the database");
    assert_intact(h.store(), 3).await;
}
