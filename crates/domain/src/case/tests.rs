//! Table-driven tests of the case engine on the demo programme, with the shipped calendar.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde_json::{Map, Value as Json, json};
use uuid::Uuid;

use super::*;
use crate::Coded;
use crate::account::{Account, Login, RoleCode, RoleGrant, Scope};
use crate::actor::Actor;
use crate::calendar::{CalendarSet, beijing, end_of_day, parse_calendar};
use crate::dispatch::Candidate;
use crate::org::OrgKind;
use crate::programme::{DispatchPolicy, Programme};

const SHIPPED: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/calendar/cn-workdays.toml"));

/// A Beijing-time instant.
fn at(text: &str) -> DateTime<Utc> {
    beijing().from_local_datetime(&NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()).unwrap().to_utc()
}

fn day_end(text: &str) -> DateTime<Utc> {
    end_of_day(chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap())
}

fn region(code: &str) -> RegionCode {
    RegionCode::parse(code).unwrap()
}

fn org(n: u128) -> OrgId {
    OrgId(Uuid::from_u128(n))
}

// Units: the county centre of 诸暨 (330681) above two town centres, a department, and a
// centre of another county.
const COUNTY: u128 = 1;
const TOWN1: u128 = 2;
const TOWN2: u128 = 3;
const DEPT: u128 = 4;
const OTHER_COUNTY: u128 = 5;

struct Fixture {
    programme: Programme,
    calendars: CalendarSet,
    orgs: BTreeMap<OrgId, OrgFacts>,
    pools: Vec<CandidatePool>,
}

fn person(login: &str, unit: u128, role: &str, scope: &str) -> Actor {
    Actor::Account(Box::new(Account {
        id: AccountId(Uuid::from_u128(login.bytes().map(u128::from).sum::<u128>() + 1000 * unit)),
        login: Login::parse(login).unwrap(),
        display_name: login.into(),
        org: org(unit),
        grants: vec![RoleGrant { role: RoleCode::parse(role).unwrap(), scope: Scope { region: region(scope), org: None } }],
        disabled: false,
        demo: false,
    }))
}

impl Fixture {
    fn new() -> Fixture {
        Fixture::of(crate::programme::tests::demo())
    }

    fn of(programme: Programme) -> Fixture {
        let facts = [
            (COUNTY, "330681", OrgKind::Centre, None),
            (TOWN1, "330681001", OrgKind::Centre, Some(COUNTY)),
            (TOWN2, "330681002", OrgKind::MediationCommittee, Some(COUNTY)),
            (DEPT, "330681", OrgKind::Department, Some(COUNTY)),
            (OTHER_COUNTY, "330682", OrgKind::Centre, None),
        ];
        let orgs: BTreeMap<OrgId, OrgFacts> = facts
            .iter()
            .map(|&(id, code, kind, parent)| {
                (org(id), OrgFacts { id: org(id), region: region(code), kind, parent: parent.map(org) })
            })
            .collect();
        let candidates: Vec<Candidate> = orgs
            .values()
            .map(|o| Candidate {
                unit: o.id,
                person: None,
                region: o.region.clone(),
                unit_kind: o.kind,
                load: 0.0,
                capacity: None,
                on_duty: true,
                qualified: true,
                skills: Vec::new(),
                conflicts: Vec::new(),
                assigned_total: 0,
            })
            .collect();
        let kind = programme.kind("dispute").unwrap();
        let mut defs = vec![kind.dispatch.clone()];
        defs.extend(kind.tiers.iter().filter_map(|t| t.dispatch.clone()));
        let pools = defs.into_iter().map(|def| CandidatePool { def, candidates: candidates.clone() }).collect();
        Fixture { programme, calendars: parse_calendar("cn-workdays.toml", SHIPPED.as_bytes()).unwrap(), orgs, pools }
    }

    fn env(&self, now: DateTime<Utc>) -> DecideEnv<'_> {
        DecideEnv { now, calendar: self.calendars.national(), seed: 42, orgs: &self.orgs, pools: &self.pools }
    }

    fn create(&self, now: &str, fields: &Json) -> Case {
        let new = NewCase {
            id: CaseId(Uuid::from_u128(99)),
            number: "YS2026-000001".into(),
            kind: "dispute".into(),
            priority: None,
            region: region("330681001"),
            grid: None,
            channel: "station".into(),
            intake_org: Some(org(TOWN1)),
            fields: fields.as_object().unwrap().clone(),
        };
        let events = decide_create(&self.programme, new, &intake(), &self.env(at(now))).expect("the case opens");
        Case::replay(&events).unwrap()
    }

    fn act(&self, case: &mut Case, now: &str, actor: &Actor, action: &str, inputs: &Json) -> Result<Vec<CaseEvent>, CaseError> {
        let request = ActionRequest { action: action.into(), inputs: inputs.as_object().cloned().unwrap_or_default() };
        let events = decide_action(&self.programme, case, &request, actor, &self.env(at(now)))?;
        for event in &events {
            case.apply(event);
        }
        Ok(events)
    }

    fn tick(&self, case: &mut Case, now: &str) -> Vec<CaseEvent> {
        let events = decide_time(&self.programme, case, &self.env(at(now)));
        for event in &events {
            case.apply(event);
        }
        events
    }
}

fn intake() -> Actor {
    person("intake", TOWN1, "intake", "330681")
}
fn handler(unit: u128) -> Actor {
    person("handler", unit, "handler", "330681")
}
fn leader() -> Actor {
    person("leader", COUNTY, "leader", "330681")
}
fn verifier() -> Actor {
    person("verifier", COUNTY, "verifier", "330681")
}

fn basic() -> Json {
    json!({"title": "邻里漏水纠纷", "category": "neighbour", "applicant": {"name": "张三", "role": "申请人"}})
}

fn cards(events: &[CaseEvent]) -> Vec<(SupervisionLevel, Option<String>)> {
    events
        .iter()
        .filter_map(|e| match e {
            CaseEvent::Supervised { level, stage, .. } => Some((*level, stage.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn a_dispute_runs_from_intake_to_rating() {
    let fx = Fixture::new();
    let mut case = fx.create("2026-03-02 09:00", &basic());
    assert_eq!(case.state, "submitted");
    assert_eq!(case.tier, None, "the first tier starts at acceptance");
    assert!(case.clocks["accept"].running());

    let events = fx.act(&mut case, "2026-03-02 10:00", &intake(), "accept", &json!({})).unwrap();
    assert_eq!(case.state, "handling");
    assert_eq!(case.unit, Some(org(TOWN1)), "by region: the town's centre");
    assert_eq!(case.tier, Some(0));
    let draw = events
        .iter()
        .find_map(|e| if let CaseEvent::Assigned { draw: Some(d), .. } = e { Some(d.clone()) } else { None })
        .expect("the draw is recorded");
    assert_eq!(draw.request.policy, DispatchPolicy::ByRegion);
    assert!(draw.replay().unwrap().0, "the draw replays identically");
    assert!(case.clocks["accept"].stopped_at.is_some());
    // 5 working days from Monday 2 March: due at the end of Monday 9 March.
    assert_eq!(case.clocks["handle"].due_at, day_end("2026-03-09"));

    // Co-handling with the department and the other town; the parent waits for both.
    let units = json!({"units": [org(DEPT).to_string(), org(TOWN2).to_string()]});
    fx.act(&mut case, "2026-03-03 09:00", &handler(TOWN1), "cohandle", &units).unwrap();
    assert_eq!(case.state, "co_handling");
    assert_eq!(case.subtasks.len(), 2);
    assert!(case.subtasks[0].lead);
    let err = fx.act(&mut case, "2026-03-03 10:00", &handler(COUNTY), "complete_subtask", &json!({"result": "x"})).unwrap_err();
    assert_eq!(err.code(), "forbidden_no_subtask");
    fx.act(&mut case, "2026-03-03 11:00", &handler(DEPT), "complete_subtask", &json!({"result": "已核实"})).unwrap();
    assert_eq!(case.state, "co_handling", "still waiting for the second unit");
    let events =
        fx.act(&mut case, "2026-03-04 11:00", &handler(TOWN2), "complete_subtask", &json!({"result": "同意调解方案"})).unwrap();
    assert_eq!(case.state, "handling", "all sub-tasks done: back to handling by itself");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, CaseEvent::Acted { action, actor, .. } if action == "cohandling_done" && actor == "system"))
    );

    // Finish needs an outcome; "not resolved" needs a note (the guard).
    let err = fx.act(&mut case, "2026-03-05 09:00", &handler(TOWN1), "finish", &json!({})).unwrap_err();
    assert_eq!((err.code(), err.field()), ("field_required", Some("outcome".into())));
    let err = fx.act(&mut case, "2026-03-05 09:00", &handler(TOWN1), "finish", &json!({"outcome": "not_resolved"})).unwrap_err();
    assert_eq!(err.code(), "guard_false");
    assert!(!case.fields.contains_key("outcome"), "a refused action changes nothing");
    fx.act(&mut case, "2026-03-05 09:00", &handler(TOWN1), "edit", &json!({"outcome": "resolved"})).unwrap();
    fx.act(&mut case, "2026-03-05 09:30", &handler(TOWN1), "finish", &json!({})).unwrap();
    assert_eq!(case.state, "verifying");

    // The verification fails: the case reopens with its history and a fresh handling clock.
    fx.act(&mut case, "2026-03-06 09:00", &verifier(), "reopen", &json!({"reason": "当事人反映未履行"})).unwrap();
    assert_eq!((case.state.as_str(), case.reopened), ("handling", 1));
    assert_eq!(case.clocks["handle"].started_at, at("2026-03-06 09:00"));
    assert!(case.clocks["handle"].running());
    fx.act(&mut case, "2026-03-09 09:00", &handler(TOWN1), "finish", &json!({})).unwrap();
    let events = fx.act(&mut case, "2026-03-10 09:00", &verifier(), "confirm", &json!({})).unwrap();
    assert_eq!(case.state, "closed");
    assert_eq!(case.closed_at, Some(at("2026-03-10 09:00")));
    assert!(case.clocks.values().all(|c| c.stopped_at.is_some()), "closing stops every clock, the tier's too");
    let points: i32 =
        events.iter().filter_map(|e| if let CaseEvent::PointsAwarded { points, .. } = e { Some(*points) } else { None }).sum();
    assert_eq!(points, 2);

    fx.act(&mut case, "2026-03-11 09:00", &verifier(), "rate", &json!({"rating": 5, "comment": "满意"})).unwrap();
    assert_eq!(case.rating.as_ref().map(|r| r.score), Some(5));
    let err = fx.act(&mut case, "2026-03-11 10:00", &verifier(), "rate", &json!({"rating": 4})).unwrap_err();
    assert_eq!(err.code(), "already_rated");
    let err = fx.act(&mut case, "2026-03-11 10:00", &verifier(), "rate", &json!({"rating": 6})).unwrap_err();
    assert_eq!((err.code(), err.field()), ("field_out_of_range", Some("rating".into())));
}

#[test]
fn denials_have_their_own_codes_and_change_nothing() {
    let fx = Fixture::new();
    let mut handling = fx.create("2026-03-02 09:00", &basic());
    fx.act(&mut handling, "2026-03-02 10:00", &intake(), "accept", &json!({})).unwrap();
    let outsider = person("far", OTHER_COUNTY, "handler", "330682");
    let other_intake = person("far-intake", OTHER_COUNTY, "intake", "330682");
    type Row<'a> = (&'a str, Actor, &'a str, Json, &'a str, Option<&'a str>);
    let cases: Vec<Row<'_>> = vec![
        ("wrong role", verifier(), "finish", json!({}), "forbidden_role", None),
        ("wrong region", outsider, "escalate", json!({"reason": "不归我管"}), "forbidden_region", None),
        ("not the assigned unit", handler(TOWN2), "return", json!({"reason": "不归我管"}), "forbidden_not_assigned_unit", None),
        ("wrong state", verifier(), "confirm", json!({}), "action_wrong_state", None),
        ("system only", handler(TOWN1), "cohandling_done", json!({}), "action_system_only", None),
        ("unknown action", handler(TOWN1), "teleport", json!({}), "action_unknown", Some("action")),
        ("missing input", handler(TOWN1), "return", json!({}), "field_required", Some("reason")),
        ("unknown input", handler(TOWN1), "return", json!({"reason": "x", "mood": "bad"}), "field_unknown", Some("mood")),
        ("missing case field", handler(TOWN1), "finish", json!({}), "field_required", Some("outcome")),
        ("guard false", handler(TOWN1), "finish", json!({"outcome": "not_resolved"}), "guard_false", None),
        (
            "unknown unit",
            leader(),
            "transfer",
            json!({"to_unit": Uuid::from_u128(777).to_string(), "reason": "x"}),
            "org_unknown",
            Some("to_unit"),
        ),
        (
            "duplicate units",
            handler(TOWN1),
            "cohandle",
            json!({"units": [org(DEPT).to_string(), org(DEPT).to_string()]}),
            "units_duplicate",
            Some("units"),
        ),
        ("another county's intake", other_intake, "edit", json!({"description": "x"}), "forbidden_region", None),
    ];
    for (what, actor, action, inputs, code, field) in cases {
        let before = handling.clone();
        let err = fx.act(&mut handling, "2026-03-03 09:00", &actor, action, &inputs).expect_err(what);
        assert_eq!(err.code(), code, "{what}: {err}");
        assert_eq!(err.field().as_deref(), field, "{what}");
        assert_eq!(handling, before, "{what}: nothing changed");
    }
    // A disabled account has no rights at all.
    let Actor::Account(mut disabled) = handler(TOWN1) else { unreachable!() };
    disabled.disabled = true;
    let err =
        fx.act(&mut handling, "2026-03-03 09:00", &Actor::Account(disabled), "return", &json!({"reason": "x"})).unwrap_err();
    assert_eq!(err.code(), "forbidden_role");
    // Intake is checked too: a verifier cannot register a case.
    let new = NewCase {
        id: CaseId(Uuid::from_u128(5)),
        number: "YS2026-000002".into(),
        kind: "dispute".into(),
        priority: Some("urgent".into()),
        region: region("330681001"),
        grid: None,
        channel: "online".into(),
        intake_org: None,
        fields: basic().as_object().unwrap().clone(),
    };
    let err = decide_create(&fx.programme, new.clone(), &verifier(), &fx.env(at("2026-03-02 09:00"))).unwrap_err();
    assert_eq!(err.code(), "forbidden_role");
    let err = decide_create(
        &fx.programme,
        NewCase { priority: Some("whenever".into()), ..new.clone() },
        &intake(),
        &fx.env(at("2026-03-02 09:00")),
    )
    .unwrap_err();
    assert_eq!((err.code(), err.field()), ("priority_unknown", Some("priority".into())));
    let mut no_title = new.fields.clone();
    no_title.remove("title");
    let err = decide_create(&fx.programme, NewCase { fields: no_title, ..new }, &intake(), &fx.env(at("2026-03-02 09:00")))
        .unwrap_err();
    assert_eq!((err.code(), err.field()), ("field_required", Some("title".into())));
}

#[test]
fn overdue_clocks_raise_reminder_yellow_and_red_once_each() {
    let fx = Fixture::new();
    // Accepted on Monday 28 September 2026, before National Day (1-7 October, make-up
    // working days Sunday 20 September and Saturday 10 October).
    let mut case = fx.create("2026-09-28 09:00", &basic());
    fx.act(&mut case, "2026-09-28 09:30", &intake(), "accept", &json!({})).unwrap();
    let handle = &case.clocks["handle"];
    // warn 4wd, limit 5wd, red 7wd counted on working days: 29, 30 Sep, 8, 9, 10 (Sat, make-up),
    // 12, 13 Oct.
    assert_eq!(handle.warn_at, Some(day_end("2026-10-09")));
    assert_eq!(handle.due_at, day_end("2026-10-10"));
    assert_eq!(handle.red_at, Some(day_end("2026-10-13")));

    assert!(cards(&fx.tick(&mut case, "2026-10-05 12:00")).is_empty(), "nothing due during the holiday");
    let events = fx.tick(&mut case, "2026-10-10 08:00");
    assert_eq!(cards(&events), vec![(SupervisionLevel::Reminder, Some("handle".into()))]);
    assert!(fx.tick(&mut case, "2026-10-10 09:00").is_empty(), "each point fires once");
    let events = fx.tick(&mut case, "2026-10-11 09:00");
    assert_eq!(cards(&events), vec![(SupervisionLevel::Yellow, Some("handle".into()))]);
    // The yellow card goes to the unit and its superior.
    let notified: Vec<&Recipient> = events
        .iter()
        .flat_map(|e| if let CaseEvent::Notified { recipients, .. } = e { recipients.iter().collect() } else { vec![] })
        .collect();
    assert!(notified.contains(&&Recipient::Unit { unit: org(TOWN1) }));
    assert!(notified.contains(&&Recipient::Unit { unit: org(COUNTY) }));
    let events = fx.tick(&mut case, "2026-10-14 09:00");
    assert!(cards(&events).contains(&(SupervisionLevel::Red, Some("handle".into()))));
    assert_eq!(case.cards.iter().filter(|c| c.level.is_card() && c.stage == "handle").count(), 2);
    assert!(pending_timers(&case).iter().all(|t| t.stage != "handle"), "no more points on the handling clock");
}

#[test]
fn a_late_scheduler_fires_missed_points_in_order() {
    let fx = Fixture::new();
    let mut case = fx.create("2026-03-02 09:00", &basic());
    fx.act(&mut case, "2026-03-02 09:30", &intake(), "accept", &json!({})).unwrap();
    let events = fx.tick(&mut case, "2026-04-01 09:00");
    let handle: Vec<SupervisionLevel> =
        cards(&events).into_iter().filter(|(_, s)| s.as_deref() == Some("handle")).map(|(l, _)| l).collect();
    assert_eq!(handle, vec![SupervisionLevel::Reminder, SupervisionLevel::Yellow, SupervisionLevel::Red]);
}

#[test]
fn suspension_pauses_clocks_and_resuming_moves_deadlines_by_working_time() {
    let fx = Fixture::new();
    let mut case = fx.create("2026-02-09 09:00", &basic());
    fx.act(&mut case, "2026-02-09 09:30", &intake(), "accept", &json!({})).unwrap();
    let due_before = case.clocks["handle"].due_at;
    assert_eq!(due_before, day_end("2026-02-14"), "5wd from Mon 9 Feb: 10-13 Feb and the make-up Saturday 14 Feb");
    fx.act(&mut case, "2026-02-10 09:00", &handler(TOWN1), "suspend", &json!({"reason": "等待伤情鉴定"})).unwrap();
    assert_eq!(case.state, "suspended");
    assert!(case.clocks["handle"].paused_since.is_some());
    assert!(pending_timers(&case).iter().all(|t| t.stage != "handle"), "a paused clock fires nothing");
    assert!(
        fx.tick(&mut case, "2026-02-20 09:00")
            .iter()
            .all(|e| !matches!(e, CaseEvent::Supervised { stage: Some(s), .. } if s == "handle"))
    );
    // Resumed after Spring Festival (15-23 Feb): the pause covered the working days of 10 to
    // 14 Feb only, so the deadline moves by exactly that working time.
    fx.act(&mut case, "2026-02-24 09:00", &handler(TOWN1), "resume", &json!({})).unwrap();
    assert_eq!(case.state, "handling", "$previous returns to where the suspension began");
    let clock = &case.clocks["handle"];
    assert!(clock.running());
    let paused_working = fx.calendars.national().working_seconds_between(at("2026-02-10 09:00"), at("2026-02-24 09:00"));
    assert_eq!(clock.due_at, fx.calendars.national().add_working_seconds(due_before, paused_working));
    assert!(clock.due_at > at("2026-02-28 00:00"));
}

#[test]
fn tiers_escalate_by_hand_and_by_themselves() {
    let fx = Fixture::new();
    let mut case = fx.create("2026-03-02 09:00", &basic());
    fx.act(&mut case, "2026-03-02 09:30", &intake(), "accept", &json!({})).unwrap();
    // The on-site tier (3wd, automatic) runs out at the end of 5 March.
    let events = fx.tick(&mut case, "2026-03-06 08:00");
    assert_eq!(case.tier, Some(1));
    assert!(events.iter().any(|e| matches!(e, CaseEvent::TierEntered { tier: 1, automatic: true, .. })));
    assert_eq!(case.unit, Some(org(TOWN1)), "the town tier draws among town centres and committees");
    assert_eq!(case.clocks[TIER_CLOCK].due_at, day_end("2026-03-13"));
    // By hand to the county tier: drawn to the county centre.
    fx.act(&mut case, "2026-03-09 09:00", &leader(), "escalate", &json!({"reason": "涉及多个部门"})).unwrap();
    assert_eq!((case.tier, case.unit), (Some(2), Some(org(COUNTY))));
    let err = fx.act(&mut case, "2026-03-09 10:00", &leader(), "escalate", &json!({"reason": "再升"})).unwrap_err();
    assert_eq!(err.code(), "escalation_top_tier");
    // The county tier is not automatic: its overrun is a yellow card instead.
    let events = fx.tick(&mut case, "2026-04-30 09:00");
    assert!(cards(&events).contains(&(SupervisionLevel::Yellow, Some(TIER_CLOCK.into()))));
    assert_eq!(case.tier, Some(2));
}

#[test]
fn a_return_sends_the_case_back_and_the_next_draw_avoids_the_returner() {
    let fx = Fixture::new();
    let mut case = fx.create("2026-03-02 09:00", &basic());
    fx.act(&mut case, "2026-03-02 09:30", &intake(), "accept", &json!({})).unwrap();
    let events = fx.act(&mut case, "2026-03-02 11:00", &handler(TOWN1), "return", &json!({"reason": "不属于本镇"})).unwrap();
    assert_eq!((case.state.as_str(), case.unit, case.returned), ("dispatching", None, 1));
    assert!(events.iter().any(|e| matches!(e, CaseEvent::PointsAwarded { points: -1, .. })));
    assert!(events.iter().any(|e| matches!(e, CaseEvent::Notified { recipients, .. } if recipients.iter().any(|r| matches!(r, Recipient::Role { role, .. } if role == "dispatcher")))));
    assert_eq!(case.returned_by, vec![org(TOWN1).to_string()]);
    // The dispatcher reassigns by hand.
    fx.act(
        &mut case,
        "2026-03-02 14:00",
        &person("dispatch", COUNTY, "dispatcher", "330681"),
        "assign",
        &json!({"to_unit": org(TOWN2).to_string()}),
    )
    .unwrap();
    assert_eq!((case.state.as_str(), case.unit), ("handling", Some(org(TOWN2))));
}

#[test]
fn supervision_notes_reach_the_unit_and_its_superior() {
    let fx = Fixture::new();
    let mut case = fx.create("2026-03-02 09:00", &basic());
    fx.act(&mut case, "2026-03-02 09:30", &intake(), "accept", &json!({})).unwrap();
    let events = fx.act(&mut case, "2026-03-03 09:00", &leader(), "supervise", &json!({"note": "请本周内办结"})).unwrap();
    assert_eq!(cards(&events), vec![(SupervisionLevel::Note, None)]);
    let recipients: Vec<Recipient> = events
        .iter()
        .flat_map(|e| if let CaseEvent::Notified { recipients, .. } = e { recipients.clone() } else { vec![] })
        .collect();
    assert_eq!(recipients, vec![Recipient::Unit { unit: org(TOWN1) }, Recipient::Unit { unit: org(COUNTY) }]);
    assert!(case.cards.is_empty(), "a note is not a card");
}

#[test]
fn the_event_stream_rebuilds_the_same_case() {
    let fx = Fixture::new();
    let new = NewCase {
        id: CaseId(Uuid::from_u128(7)),
        number: "YS2026-000007".into(),
        kind: "dispute".into(),
        priority: Some("urgent".into()),
        region: region("330681001"),
        grid: None,
        channel: "online".into(),
        intake_org: None,
        fields: basic().as_object().unwrap().clone(),
    };
    let mut stream = decide_create(&fx.programme, new, &intake(), &fx.env(at("2026-03-02 09:00"))).unwrap();
    let mut case = Case::replay(&stream).unwrap();
    for (now, actor, action, inputs) in [
        ("2026-03-02 10:00", intake(), "accept", json!({})),
        ("2026-03-02 11:00", handler(TOWN1), "suspend", json!({"reason": "等待"})),
        ("2026-03-04 11:00", handler(TOWN1), "resume", json!({})),
        ("2026-03-05 11:00", handler(TOWN1), "edit", json!({"outcome": "resolved"})),
        ("2026-03-05 12:00", handler(TOWN1), "finish", json!({})),
    ] {
        stream.extend(fx.act(&mut case, now, &actor, action, &inputs).unwrap());
    }
    stream.extend(fx.tick(&mut case, "2026-03-20 09:00"));
    // Every event survives JSON (the journal's form) and the fold gives the same case.
    let json: Vec<Json> = stream.iter().map(|e| serde_json::to_value(e).unwrap()).collect();
    let back: Vec<CaseEvent> = json.into_iter().map(|j| serde_json::from_value(j).unwrap()).collect();
    assert_eq!(back, stream);
    assert_eq!(Case::replay(&back).unwrap(), case);
    assert_eq!(case.version, stream.len() as u64);
    // Urgent cases get the urgent row of the matrix: 2 working days.
    assert_eq!(case.clocks["handle"].limits.limit, "2wd");
    let _: Map<String, Json> = Map::new();
}

#[test]
fn an_assignee_acts_wherever_the_case_is_and_nobody_else_does() {
    let fx = Fixture::new();
    let new = NewCase {
        id: CaseId(Uuid::from_u128(11)),
        number: "YS2026-000011".into(),
        kind: "peer_review".into(),
        priority: None,
        region: region("330681"),
        grid: None,
        channel: "station".into(),
        intake_org: None,
        fields: json!({"title": "卷宗评查"}).as_object().unwrap().clone(),
    };
    let dispatcher = person("dispatch", COUNTY, "dispatcher", "330681");
    let mut case =
        Case::replay(&decide_create(&fx.programme, new, &dispatcher, &fx.env(at("2026-03-02 09:00"))).unwrap()).unwrap();
    // Hand the case to a reviewer of another county directly (as a draw would).
    let far_reviewer = person("far-reviewer", OTHER_COUNTY, "reviewer", "330682");
    let assigned =
        CaseEvent::Assigned { unit: Some(org(OTHER_COUNTY)), person: far_reviewer.account_id(), draw: None, reason: None };
    case.apply(&CaseEvent::Acted {
        action: "draw_reviewer".into(),
        from: "queued".into(),
        to: "reviewing".into(),
        actor: "test".into(),
        inputs: BTreeMap::new(),
        at: at("2026-03-02 09:05"),
    });
    case.apply(&assigned);
    let other_reviewer = person("other-reviewer", OTHER_COUNTY, "reviewer", "330682");
    let err = fx.act(&mut case, "2026-03-03 09:00", &other_reviewer, "submit_review", &json!({"score": 90})).unwrap_err();
    assert_eq!(err.code(), "forbidden_not_assignee");
    let err = fx.act(&mut case, "2026-03-03 09:00", &handler(TOWN1), "submit_review", &json!({"score": 90})).unwrap_err();
    assert_eq!(err.code(), "forbidden_role");
    fx.act(&mut case, "2026-03-03 09:00", &far_reviewer, "submit_review", &json!({"score": 90})).unwrap();
    assert_eq!(case.state, "reviewed");
}

#[test]
fn a_new_priority_reprices_running_clocks_and_leaves_paused_ones() {
    let fx = Fixture::of(crate::programme::tests::demo_with_reprioritise());
    let mut case = fx.create("2026-02-09 09:00", &basic());
    fx.act(&mut case, "2026-02-09 09:30", &intake(), "accept", &json!({})).unwrap();
    let normal = case.clocks["handle"].clone();
    // Raised: the urgent limit from now, sooner than the normal one.
    fx.act(&mut case, "2026-02-10 09:00", &leader(), "reprioritise", &json!({"priority": "urgent"})).unwrap();
    assert_eq!(case.priority, "urgent");
    let urgent = case.clocks["handle"].clone();
    assert_eq!(urgent.started_at, at("2026-02-10 09:00"));
    assert!(urgent.due_at < normal.due_at, "{} against {}", urgent.due_at, normal.due_at);
    // Lowered: the normal limit from the clock's own start, not from now.
    fx.act(&mut case, "2026-02-10 15:00", &leader(), "reprioritise", &json!({"priority": "normal"})).unwrap();
    let lowered = case.clocks["handle"].clone();
    assert_eq!(lowered.started_at, at("2026-02-10 09:00"));
    assert!(lowered.due_at > urgent.due_at);
    // The same priority again changes nothing; an unknown one is refused.
    let same = fx.act(&mut case, "2026-02-10 16:00", &leader(), "reprioritise", &json!({"priority": "normal"})).unwrap();
    assert!(same.iter().all(|e| !matches!(e, CaseEvent::Reprioritised { .. } | CaseEvent::ClockStarted { .. })));
    let err = fx.act(&mut case, "2026-02-10 16:00", &leader(), "reprioritise", &json!({"priority": "whenever"})).unwrap_err();
    assert_eq!(err.field().as_deref(), Some("priority"));
    // Suspended: the paused clock keeps its limits whatever the priority.
    fx.act(&mut case, "2026-02-11 09:00", &handler(TOWN1), "suspend", &json!({"reason": "等待鉴定"})).unwrap();
    let paused = case.clocks["handle"].clone();
    let events = fx.act(&mut case, "2026-02-11 10:00", &leader(), "reprioritise", &json!({"priority": "urgent"})).unwrap();
    assert_eq!(case.priority, "urgent");
    assert_eq!(case.clocks["handle"], paused);
    assert!(events.iter().all(|e| !matches!(e, CaseEvent::ClockStarted { .. } | CaseEvent::ClockStopped { .. })));
}

#[test]
fn a_repriced_clock_keeps_the_cards_it_raised() {
    let fx = Fixture::of(crate::programme::tests::demo_with_reprioritise());
    let mut case = fx.create("2026-03-02 09:00", &basic());
    fx.act(&mut case, "2026-03-02 09:30", &intake(), "accept", &json!({})).unwrap();
    // Raised on Tuesday: urgent (warn 1wd, limit 2wd, red 3wd) from now; by Friday morning the
    // reminder and the yellow card have fired.
    fx.act(&mut case, "2026-03-03 09:00", &leader(), "reprioritise", &json!({"priority": "urgent"})).unwrap();
    let fired = cards(&fx.tick(&mut case, "2026-03-06 09:00"));
    assert_eq!(
        fired,
        vec![(SupervisionLevel::Reminder, Some("handle".into())), (SupervisionLevel::Yellow, Some("handle".into()))]
    );
    // Lowered back to normal (warn 4wd, limit 5wd, red 7wd from Tuesday): its later warning and
    // limit pass without a second reminder or yellow card; the red point, never raised, still fires.
    fx.act(&mut case, "2026-03-06 10:00", &leader(), "reprioritise", &json!({"priority": "normal"})).unwrap();
    assert_eq!(case.clocks["handle"].due_at, day_end("2026-03-10"));
    assert!(cards(&fx.tick(&mut case, "2026-03-11 09:00")).is_empty(), "no card twice for one stage");
    assert_eq!(cards(&fx.tick(&mut case, "2026-03-13 09:00")), vec![(SupervisionLevel::Red, Some("handle".into()))]);
}

#[test]
fn a_case_closed_after_only_a_reminder_is_on_time_and_an_imported_one_as_its_source_says() {
    let card = |level| Card { level, stage: "handle".into(), at: at("2026-03-05 09:00"), unit: None };
    let opened = at("2026-03-02 09:00");
    let mut case = Case { opened_at: opened, ..events::blank() };
    assert_eq!(case.closed_on_time(), None, "open");
    case.closed_at = Some(at("2026-03-06 09:00"));
    assert_eq!(case.closed_on_time(), Some(true));
    case.cards.push(card(SupervisionLevel::Reminder));
    assert_eq!(case.closed_on_time(), Some(true), "a reminder is not a card against the unit");
    case.cards.push(card(SupervisionLevel::Yellow));
    assert_eq!(case.closed_on_time(), Some(false));
    // An imported record: its source decides, cards or not; a source that does not say, no one.
    case.origin = Some(CaseOrigin { source: "cfpb".into(), external_id: "1".into(), on_time: Some(true) });
    assert_eq!(case.closed_on_time(), Some(true));
    case.origin = Some(CaseOrigin { source: "cfpb".into(), external_id: "1".into(), on_time: None });
    assert_eq!(case.closed_on_time(), None);
}
