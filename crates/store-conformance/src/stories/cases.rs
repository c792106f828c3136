//! Stories of the case projections: cases, their lists and timers, number series, handler tallies
//! and profiles, notifications, and the accounts holding a role.

use fq_domain::account::{AccountId, RoleCode, RoleGrant, Scope};
use fq_domain::case::CaseId;
use fq_domain::journal::NewEvent;
use fq_domain::org::OrgId;
use fq_store::{CaseFilter, CaseSummary, Change, HandlerProfile, HandlerTally, Op, StoreError, TallyDelta};
use serde_json::json;
use uuid::Uuid;

use super::assert_intact;
use crate::Harness;
use crate::fixtures::{account, at, case, case_change, code, notification, org, org_change, tree_change};

fn numbers(list: &[CaseSummary]) -> Vec<&str> {
    list.iter().map(|c| c.number.as_str()).collect()
}

fn filter(regions: &[&str]) -> CaseFilter {
    CaseFilter { regions: regions.iter().map(|r| code(r)).collect(), limit: 100, ..CaseFilter::default() }
}

pub async fn case_put_and_replace(h: &dyn Harness) {
    let store = h.store();
    let mut first = case("gov", 2025, 1, "331004001001");
    first.unit = Some(OrgId(Uuid::now_v7()));
    first.tier = Some(1);
    first.due_at = Some(at(3_600));
    first.next_timer_at = Some(at(1_800));
    first.yellow_cards = 1;
    store.commit(case_change(&first)).await.unwrap();
    assert_eq!(store.case_record(first.id).await.unwrap().as_ref(), Some(&first));
    assert_eq!(store.case_id_by_number(&first.number).await.unwrap(), Some(first.id));

    // The same id again replaces the row: new state, version, snapshot and the rest.
    let mut second = first.clone();
    second.state = "closed".into();
    second.priority = "urgent".into();
    second.region = code("331004002");
    second.unit = None;
    second.person = Some(AccountId(Uuid::now_v7()));
    second.title = "改过的标题".into();
    second.tier = Some(2);
    second.closed_at = Some(at(7_200));
    second.due_at = None;
    second.next_timer_at = None;
    second.yellow_cards = 2;
    second.red_cards = 1;
    second.rating = Some(4);
    second.version = 2;
    second.snapshot = r#"{"state":"closed"}"#.into();
    store.commit(case_change(&second)).await.unwrap();
    assert_eq!(store.case_record(first.id).await.unwrap().as_ref(), Some(&second));
    assert_eq!(store.case_id_by_number(&first.number).await.unwrap(), Some(first.id));
    assert_eq!(store.cases(&filter(&["33"])).await.unwrap().len(), 1, "a replaced case is one row");

    assert_eq!(store.case_record(CaseId(Uuid::now_v7())).await.unwrap(), None);
    assert_eq!(store.case_id_by_number("GOV-2025-999999").await.unwrap(), None);
    assert_eq!(store.stream_events(&first.id.stream()).await.unwrap().len(), 2);
    assert_intact(store, 2).await;
}

pub async fn a_taken_case_number_is_a_conflict(h: &dyn Harness) {
    let store = h.store();
    let taken = case("gov", 2025, 1, "331004");
    store.commit(case_change(&taken)).await.unwrap();
    let head = store.recorded_head().await.unwrap();

    // Another case with the same number, after ops that would succeed alone: nothing is written.
    let fresh = case("gov", 2025, 2, "331004");
    let mut twin = case("gov", 2025, 3, "331004");
    twin.number = taken.number.clone();
    let change = Change::new()
        .op(Op::PutCase(Box::new(fresh.clone())))
        .op(Op::InsertNotifications(vec![notification("unit:a", &fresh, "assigned", 1)]))
        .op(Op::AdjustTallies(vec![TallyDelta { open_cases: 1, ..TallyDelta::new("unit-a") }]))
        .op(Op::PutCase(Box::new(twin.clone())))
        .event(NewEvent::new(fresh.id.stream(), "case.saved", "system", json!({})))
        .event(NewEvent::new(twin.id.stream(), "case.saved", "system", json!({})));
    let err = store.commit(change).await.unwrap_err();
    assert!(matches!(&err, StoreError::Conflict { entity: "case number", key } if *key == taken.number), "{err:?}");
    assert_eq!(store.case_record(fresh.id).await.unwrap(), None);
    assert_eq!(store.case_record(twin.id).await.unwrap(), None);
    assert_eq!(store.case_id_by_number(&taken.number).await.unwrap(), Some(taken.id));
    assert_eq!(store.case_id_by_number(&fresh.number).await.unwrap(), None);
    assert!(store.notifications(&["unit:a".into()], 10).await.unwrap().is_empty());
    assert!(store.handler_tallies(&["unit-a".into()]).await.unwrap().is_empty());
    assert!(store.stream_events(&fresh.id.stream()).await.unwrap().is_empty());
    assert!(store.stream_events(&twin.id.stream()).await.unwrap().is_empty());
    assert_eq!(store.recorded_head().await.unwrap(), head);
    assert_eq!(store.last_case_number("gov:2025").await.unwrap(), 1);

    // A new number that repeats a series position is refused too, and named by its number.
    let mut repeat = case("gov", 2025, 1, "331004");
    repeat.number = "GOV-2025-A00001".into();
    let err = store.commit(case_change(&repeat)).await.unwrap_err();
    assert!(matches!(&err, StoreError::Conflict { entity: "case number", key } if *key == repeat.number), "{err:?}");
    assert_eq!(store.case_record(repeat.id).await.unwrap(), None);

    // The store still works, and the fresh case goes in on its own.
    store.commit(case_change(&fresh)).await.unwrap();
    assert_eq!(store.case_record(fresh.id).await.unwrap(), Some(fresh));
    assert_intact(store, 2).await;
}

pub async fn case_lists_filter_and_page(h: &dyn Harness) {
    let store = h.store();
    let (unit_a, unit_b) = (OrgId(Uuid::now_v7()), OrgId(Uuid::now_v7()));
    let person = AccountId(Uuid::now_v7());
    let mut all = Vec::new();
    // seq, region, unit, state, closed
    let plan: [(u64, &str, Option<OrgId>, &str, bool); 8] = [
        (1, "331004001001", Some(unit_a), "registered", false),
        (2, "331004", Some(unit_b), "handling", false),
        (3, "331002", Some(unit_a), "handling", false),
        (4, "331004002", Some(unit_a), "closed", true),
        (5, "3502", None, "registered", false),
        (6, "331004001", Some(unit_a), "handling", false),
        (7, "33", None, "registered", false),
        (8, "331004001002", Some(unit_b), "closed", true),
    ];
    for (seq, region, unit, state, closed) in plan {
        let mut c = case("gov", 2025, seq, region);
        c.unit = unit;
        c.state = state.into();
        c.closed_at = closed.then(|| at(10_000 + seq as i64));
        if seq == 6 {
            c.person = Some(person);
            c.yellow_cards = 2;
            c.red_cards = 1;
            c.due_at = Some(at(50_000));
        }
        store.commit(case_change(&c)).await.unwrap();
        all.push(c);
    }
    let mut med = case("med", 2025, 1, "331004001");
    med.unit = Some(unit_a);
    store.commit(case_change(&med)).await.unwrap();

    // Regions: a subtree, newest number first; unrelated regions and parents stay out.
    let luqiao = store.cases(&filter(&["331004"])).await.unwrap();
    assert_eq!(
        numbers(&luqiao),
        ["MED-2025-000001", "GOV-2025-000008", "GOV-2025-000006", "GOV-2025-000004", "GOV-2025-000002", "GOV-2025-000001"]
    );
    let six = &luqiao[2];
    let c6 = &all[5];
    assert_eq!(
        six,
        &CaseSummary {
            id: c6.id,
            number: c6.number.clone(),
            programme: c6.programme.clone(),
            kind: c6.kind.clone(),
            state: c6.state.clone(),
            priority: c6.priority.clone(),
            region: c6.region.clone(),
            unit: c6.unit,
            person: c6.person,
            title: c6.title.clone(),
            opened_at: c6.opened_at,
            closed_at: c6.closed_at,
            due_at: c6.due_at,
            yellow_cards: c6.yellow_cards,
            red_cards: c6.red_cards,
        }
    );
    let street = store.cases(&filter(&["331004001"])).await.unwrap();
    assert_eq!(numbers(&street), ["MED-2025-000001", "GOV-2025-000008", "GOV-2025-000006", "GOV-2025-000001"]);
    let village = store.cases(&filter(&["331004001001"])).await.unwrap();
    assert_eq!(numbers(&village), ["GOV-2025-000001"]);
    let two = store.cases(&filter(&["331002", "3502"])).await.unwrap();
    assert_eq!(numbers(&two), ["GOV-2025-000005", "GOV-2025-000003"]);
    assert!(store.cases(&filter(&["331003"])).await.unwrap().is_empty(), "a region without cases");
    assert!(store.cases(&filter(&[])).await.unwrap().is_empty(), "no regions: nothing");
    assert_eq!(
        store.cases(&CaseFilter { all_regions: true, ..filter(&[]) }).await.unwrap().len(),
        9,
        "all regions: Xiamen's too"
    );
    assert_eq!(store.cases(&CaseFilter { all_regions: true, ..filter(&["331003"]) }).await.unwrap().len(), 9, "all regions wins");
    assert_eq!(store.cases(&filter(&["33"])).await.unwrap().len(), 8, "the province holds all but Xiamen's");
    assert_eq!(store.cases(&filter(&["33", "331004"])).await.unwrap().len(), 8, "overlapping scopes list a case once");
    // Scopes narrowed to one unit: that unit's cases within the subtree, beside whole subtrees.
    let narrowed = CaseFilter { narrowed: vec![(code("331004"), unit_b)], ..filter(&[]) };
    assert_eq!(numbers(&store.cases(&narrowed).await.unwrap()), ["GOV-2025-000008", "GOV-2025-000002"]);
    let mixed = CaseFilter { narrowed: vec![(code("331004001"), unit_b)], ..filter(&["331002"]) };
    assert_eq!(numbers(&store.cases(&mixed).await.unwrap()), ["GOV-2025-000008", "GOV-2025-000003"]);
    assert_eq!(store.count_cases(&mixed).await.unwrap(), 2);

    // Programme, unit, person, state and open cases.
    let only = |f: CaseFilter| listed(h, f);
    assert_eq!(only(CaseFilter { programme: Some("med".into()), ..filter(&["33"]) }).await, ["MED-2025-000001"]);
    assert_eq!(
        only(CaseFilter { unit: Some(unit_a), ..filter(&["3310"]) }).await,
        ["MED-2025-000001", "GOV-2025-000006", "GOV-2025-000004", "GOV-2025-000003", "GOV-2025-000001"]
    );
    assert_eq!(only(CaseFilter { person: Some(person), ..filter(&["33"]) }).await, ["GOV-2025-000006"]);
    assert_eq!(
        only(CaseFilter { state: Some("handling".into()), ..filter(&["33"]) }).await,
        ["GOV-2025-000006", "GOV-2025-000003", "GOV-2025-000002"]
    );
    assert_eq!(
        only(CaseFilter { open_only: true, ..filter(&["331004"]) }).await,
        ["MED-2025-000001", "GOV-2025-000006", "GOV-2025-000002", "GOV-2025-000001"]
    );
    assert_eq!(
        only(CaseFilter { unit: Some(unit_a), state: Some("closed".into()), open_only: false, ..filter(&["331004"]) }).await,
        ["GOV-2025-000004"]
    );
    assert!(
        only(CaseFilter { unit: Some(unit_a), state: Some("closed".into()), open_only: true, ..filter(&["331004"]) })
            .await
            .is_empty()
    );

    // Pages: `limit` rows, then the rows numbered below the last one seen.
    let page = |before: Option<&str>| CaseFilter {
        programme: Some("gov".into()),
        before: before.map(String::from),
        limit: 3,
        ..filter(&["33"])
    };
    let first = store.cases(&page(None)).await.unwrap();
    assert_eq!(numbers(&first), ["GOV-2025-000008", "GOV-2025-000007", "GOV-2025-000006"]);
    let second = store.cases(&page(Some(&first[2].number))).await.unwrap();
    assert_eq!(numbers(&second), ["GOV-2025-000004", "GOV-2025-000003", "GOV-2025-000002"]);
    let third = store.cases(&page(Some(&second[2].number))).await.unwrap();
    assert_eq!(numbers(&third), ["GOV-2025-000001"]);
    assert!(store.cases(&page(Some(&third[0].number))).await.unwrap().is_empty());
    assert!(store.cases(&CaseFilter { limit: 0, ..filter(&["33"]) }).await.unwrap().is_empty());
}

async fn listed(h: &dyn Harness, f: CaseFilter) -> Vec<String> {
    h.store().cases(&f).await.unwrap().into_iter().map(|c| c.number).collect()
}

pub async fn due_cases_come_earliest_first(h: &dyn Harness) {
    let store = h.store();
    let mut timed = Vec::new();
    for (seq, timer) in [(1, Some(20)), (2, Some(10)), (3, None), (4, Some(5)), (5, Some(30))] {
        let mut c = case("gov", 2025, seq, "331004");
        c.next_timer_at = timer.map(at);
        store.commit(case_change(&c)).await.unwrap();
        timed.push(c.id);
    }
    let [c1, c2, _, c4, c5] = timed[..] else { unreachable!() };
    assert!(store.due_cases(at(4), 10).await.unwrap().is_empty());
    assert_eq!(store.due_cases(at(5), 10).await.unwrap(), [c4], "a timer exactly at now is due");
    assert_eq!(store.due_cases(at(19), 10).await.unwrap(), [c4, c2]);
    assert_eq!(store.due_cases(at(20), 10).await.unwrap(), [c4, c2, c1]);
    assert_eq!(store.due_cases(at(1_000), 10).await.unwrap(), [c4, c2, c1, c5], "a case without a timer is never due");
    assert_eq!(store.due_cases(at(1_000), 2).await.unwrap(), [c4, c2]);
    // One microsecond before the timer is not yet due.
    assert_eq!(store.due_cases(at(5) - chrono::TimeDelta::microseconds(1), 10).await.unwrap(), Vec::<CaseId>::new());
}

pub async fn last_case_number_per_series(h: &dyn Harness) {
    let store = h.store();
    assert_eq!(store.last_case_number("gov:2025").await.unwrap(), 0);
    for (programme, year, seq) in [("gov", 2025, 1), ("gov", 2025, 2), ("gov", 2025, 9), ("gov", 2026, 3), ("med", 2025, 4)] {
        store.commit(case_change(&case(programme, year, seq, "331004"))).await.unwrap();
    }
    assert_eq!(store.last_case_number("gov:2025").await.unwrap(), 9);
    assert_eq!(store.last_case_number("gov:2026").await.unwrap(), 3);
    assert_eq!(store.last_case_number("med:2025").await.unwrap(), 4);
    assert_eq!(store.last_case_number("med:2026").await.unwrap(), 0);
    assert_eq!(store.last_case_number("gov").await.unwrap(), 0, "a series is matched whole");
}

pub async fn tallies_add_up(h: &dyn Harness) {
    let store = h.store();
    let unit = "0197a1b2-0000-7000-8000-000000000001".to_string();
    let person = format!("{unit}/0197a1b2-0000-7000-8000-0000000000aa");
    store
        .commit(Change::new().op(Op::AdjustTallies(vec![
            TallyDelta { open_load: 1.5, open_cases: 1, assigned_total: 1, ..TallyDelta::new(&unit) },
            TallyDelta { open_load: 1.0, open_cases: 1, assigned_total: 1, ..TallyDelta::new(&person) },
        ])))
        .await
        .unwrap();
    // A second commit adds to the rows, and two deltas for one handler in one op both count.
    store
        .commit(Change::new().op(Op::AdjustTallies(vec![
            TallyDelta { open_load: -0.5, open_cases: -1, closed: 1, rating_sum: 4, rating_count: 1, ..TallyDelta::new(&unit) },
            TallyDelta { open_load: 2.25, open_cases: 1, assigned_total: 1, reminders: 2, ..TallyDelta::new(&unit) },
            TallyDelta { yellow_cards: 1, red_cards: 1, points: -3, returns: 1, ..TallyDelta::new(&unit) },
            TallyDelta::new("unit-zero"),
        ])))
        .await
        .unwrap();
    let wanted = [unit.clone(), "nobody".into(), person.clone(), "unit-zero".into()];
    let tallies = store.handler_tallies(&wanted).await.unwrap();
    assert_eq!(
        tallies,
        [
            HandlerTally {
                handler: unit.clone(),
                open_load: 3.25,
                open_cases: 1,
                assigned_total: 2,
                reminders: 2,
                yellow_cards: 1,
                red_cards: 1,
                points: -3,
                returns: 1,
                closed: 1,
                rating_sum: 4,
                rating_count: 1,
            },
            HandlerTally { handler: person.clone(), open_load: 1.0, open_cases: 1, assigned_total: 1, ..HandlerTally::default() },
            HandlerTally { handler: "unit-zero".into(), ..HandlerTally::default() },
        ],
        "existing handlers only, sorted by handler"
    );
    assert!(store.handler_tallies(&[]).await.unwrap().is_empty());
    assert!(store.handler_tallies(&["nobody".into()]).await.unwrap().is_empty());
}

pub async fn handler_profiles_are_replaced(h: &dyn Harness) {
    let store = h.store();
    let first = HandlerProfile {
        handler: "unit-b".into(),
        on_duty: true,
        capacity: Some(12.5),
        qualified: true,
        skills: vec!["婚姻家庭".into(), "邻里纠纷".into()],
        conflicts: Vec::new(),
    };
    let other = HandlerProfile { handler: "unit-a/person-1".into(), ..HandlerProfile::default_for("x") };
    store.commit(Change::new().op(Op::PutHandlerProfile(first.clone())).op(Op::PutHandlerProfile(other.clone()))).await.unwrap();
    assert_eq!(store.handler_profiles(&["unit-b".into()]).await.unwrap(), [first]);

    let replaced = HandlerProfile {
        handler: "unit-b".into(),
        on_duty: false,
        capacity: None,
        qualified: false,
        skills: Vec::new(),
        conflicts: vec!["case-party:张三".into()],
    };
    store.commit(Change::new().op(Op::PutHandlerProfile(replaced.clone()))).await.unwrap();
    let both = store.handler_profiles(&["unit-b".into(), "missing".into(), "unit-a/person-1".into()]).await.unwrap();
    assert_eq!(both, [other, replaced], "existing handlers only, sorted by handler");
    assert!(store.handler_profiles(&[]).await.unwrap().is_empty());
}

pub async fn notifications_newest_first(h: &dyn Harness) {
    let store = h.store();
    let c1 = case("gov", 2025, 1, "331004");
    let c2 = case("gov", 2025, 2, "331004");
    let unit = "unit:0197a1b2-0000-7000-8000-000000000001";
    let person = "account:0197a1b2-0000-7000-8000-0000000000aa";
    let role = "role:leader@331004";
    // Times deliberately out of insertion order: "newest" is the order of insertion.
    let n1 = notification(unit, &c1, "assigned", 50);
    let n2 = notification(person, &c1, "assigned", 40);
    let n3 = notification(unit, &c2, "reminded", 30);
    let n4 = notification(role, &c2, "escalated", 20);
    let n5 = notification(unit, &c1, "returned", 10);
    store.commit(Change::new().op(Op::InsertNotifications(vec![n1.clone(), n2.clone(), n3.clone()]))).await.unwrap();
    store.commit(Change::new().op(Op::InsertNotifications(vec![n4.clone(), n5.clone()]))).await.unwrap();
    store.commit(Change::new().op(Op::InsertNotifications(Vec::new()))).await.unwrap();

    assert_eq!(store.notifications(&[unit.into()], 10).await.unwrap(), [n5.clone(), n3.clone(), n1.clone()]);
    assert_eq!(store.notifications(&[unit.into()], 2).await.unwrap(), [n5.clone(), n3.clone()]);
    assert_eq!(store.notifications(&[person.into(), role.into()], 10).await.unwrap(), [n4.clone(), n2.clone()]);
    assert_eq!(store.notifications(&[unit.into(), person.into(), role.into()], 4).await.unwrap(), [n5, n4, n3, n2]);
    assert!(store.notifications(&["requester:王五".into()], 10).await.unwrap().is_empty());
    assert!(store.notifications(&[], 10).await.unwrap().is_empty());
    assert!(store.notifications(&[unit.into()], 0).await.unwrap().is_empty());
}

pub async fn accounts_with_a_role(h: &dyn Harness) {
    let store = h.store();
    store.commit(tree_change()).await.unwrap();
    let centre = org("路桥区社会治理中心", "331004");
    store.commit(org_change(&centre)).await.unwrap();
    let grant = |role: &str, region: &str| RoleGrant {
        role: RoleCode::parse(role).unwrap(),
        scope: Scope { region: code(region), org: None },
    };

    let zhang = account("zhang.san", centre.id, "mediator", "331004");
    let mut li = account("li.si", centre.id, "staff", "331004");
    li.grants.push(grant("mediator", "331004001"));
    let mut an = account("an.qi", centre.id, "mediator", "331004001");
    an.grants.push(grant("mediator", "331004002"));
    let wang = account("wang.wu", centre.id, "mediator", "331004");
    let zhao = account("zhao.liu", centre.id, "staff", "331004");
    let li_dash = account("li-er", centre.id, "mediator", "331004002");
    let mut change = Change::new();
    for a in [&zhang, &li, &an, &wang, &zhao, &li_dash] {
        change = change.op(Op::InsertAccount { account: a.clone(), password_hash: None });
    }
    store.commit(change.op(Op::SetAccountDisabled { account: wang.id, disabled: true })).await.unwrap();

    let mediators = store.accounts_with_role("mediator").await.unwrap();
    let logins: Vec<&str> = mediators.iter().map(|a| a.login.as_str()).collect();
    assert_eq!(logins, ["an.qi", "li-er", "li.si", "zhang.san"], "enabled holders, each once, bytewise by login");
    for found in &mediators {
        let stored = store.account(found.id).await.unwrap().expect("the account exists");
        assert_eq!(found, &stored, "an account comes with all its grants");
    }
    assert_eq!(mediators[2].grants.len(), 2);
    assert_eq!(mediators[0].grants.len(), 2);

    let staff: Vec<String> =
        store.accounts_with_role("staff").await.unwrap().into_iter().map(|a| a.login.as_str().to_owned()).collect();
    assert_eq!(staff, ["li.si", "zhao.liu"]);
    assert!(store.accounts_with_role("leader").await.unwrap().is_empty());

    // Enabling an account again brings it back.
    store.commit(Change::new().op(Op::SetAccountDisabled { account: wang.id, disabled: false })).await.unwrap();
    let logins: Vec<String> =
        store.accounts_with_role("mediator").await.unwrap().into_iter().map(|a| a.login.as_str().to_owned()).collect();
    assert_eq!(logins, ["an.qi", "li-er", "li.si", "wang.wu", "zhang.san"]);
}
