//! Small, hand-made domain values for the stories.

use chrono::{DateTime, TimeZone, Utc};
use fq_domain::account::{Account, AccountId, Login, RoleCode, RoleGrant, Scope};
use fq_domain::case::CaseId;
use fq_domain::grid::{Grid, GridCode, GridKind};
use fq_domain::journal::NewEvent;
use fq_domain::org::{OrgId, OrgKind, Organisation};
use fq_domain::region::{Region, RegionCode};
use fq_store::{CaseRecord, Change, NotificationRecord, Op};
use geo::{LineString, MultiPolygon, Polygon};
use serde_json::json;
use uuid::Uuid;

pub(crate) fn code(text: &str) -> RegionCode {
    RegionCode::parse(text).expect("fixture codes are valid")
}

/// A little tree: Zhejiang > Taizhou > Luqiao > two towns > two villages, plus Jiaojiang.
pub(crate) fn regions() -> Vec<Region> {
    [
        ("33", "浙江省"),
        ("3310", "台州市"),
        ("331002", "椒江区"),
        ("331004", "路桥区"),
        ("331004001", "路桥街道"),
        ("331004002", "路南街道"),
        ("331004001001", "甲社区"),
        ("331004001002", "乙社区"),
    ]
    .into_iter()
    .map(|(c, n)| Region { code: code(c), name: n.into(), retired: false })
    .collect()
}

pub(crate) fn tree_change() -> Change {
    Change::new().op(Op::UpsertRegions(regions())).event(NewEvent::new(
        "region_tree",
        "region_tree.imported",
        "system",
        json!({"fixture": true}),
    ))
}

pub(crate) fn org(name: &str, region: &str) -> Organisation {
    Organisation {
        id: OrgId(Uuid::now_v7()),
        name: name.into(),
        kind: OrgKind::Centre,
        region: code(region),
        parent: None,
        demo: false,
    }
}

pub(crate) fn org_change(org: &Organisation) -> Change {
    Change::new().op(Op::InsertOrganisation(org.clone())).event(NewEvent::new(
        format!("organisation:{}", org.id),
        "organisation.created",
        "system",
        json!(org),
    ))
}

pub(crate) fn account(login: &str, org: OrgId, role: &str, region: &str) -> Account {
    Account {
        id: AccountId(Uuid::now_v7()),
        login: Login::parse(login).expect("fixture login"),
        display_name: "测试".into(),
        org,
        grants: vec![RoleGrant {
            role: RoleCode::parse(role).expect("fixture role"),
            scope: Scope { region: code(region), org: None },
        }],
        disabled: false,
        demo: false,
    }
}

pub(crate) fn grid(local: &str, region: &str, generated: bool, x: f64) -> Grid {
    Grid {
        code: GridCode::parse(&format!("{region}-{local}")).expect("fixture grid code"),
        name: format!("网格{local}"),
        region: code(region),
        kind: GridKind::Comprehensive,
        generated,
        area: square(x, 28.55, 0.01),
    }
}

/// A chain of `n` small events on two streams, committed one by one.
pub(crate) fn event(n: u64) -> Change {
    Change::new().event(NewEvent::new(format!("case:{}", n % 2), "case.noted", "system", json!({"n": n})))
}

/// A square polygon with its south-west corner at (x, y).
fn square(x: f64, y: f64, side: f64) -> MultiPolygon<f64> {
    let ring = LineString::from(vec![(x, y), (x + side, y), (x + side, y + side), (x, y + side), (x, y)]);
    MultiPolygon::new(vec![Polygon::new(ring, vec![])])
}

/// A time `seconds` after a fixed instant, with microseconds (the journal's precision).
pub(crate) fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_790_000_000 + seconds, 250_001_000).single().expect("fixture time")
}

/// An open case numbered `<PREFIX>-<year>-<seq>` in the series `<programme>:<year>`.
pub(crate) fn case(programme: &str, year: u32, seq: u64, region: &str) -> CaseRecord {
    let prefix = programme.to_uppercase();
    CaseRecord {
        id: CaseId(Uuid::now_v7()),
        number: format!("{prefix}-{year}-{seq:06}"),
        number_series: format!("{programme}:{year}"),
        number_seq: seq,
        programme: programme.into(),
        kind: "dispute".into(),
        state: "registered".into(),
        priority: "normal".into(),
        region: code(region),
        unit: None,
        person: None,
        title: format!("案件{seq}"),
        tier: None,
        opened_at: at(seq as i64),
        closed_at: None,
        due_at: None,
        next_timer_at: None,
        yellow_cards: 0,
        red_cards: 0,
        rating: None,
        version: 1,
        snapshot: format!(r#"{{"number":"{prefix}-{year}-{seq:06}","state":"registered"}}"#),
    }
}

/// Stores a case with an event on its stream, as the engine does.
pub(crate) fn case_change(case: &CaseRecord) -> Change {
    Change::new().op(Op::PutCase(Box::new(case.clone()))).event(NewEvent::new(
        case.id.stream(),
        "case.saved",
        "system",
        json!({"number": case.number, "version": case.version}),
    ))
}

pub(crate) fn notification(recipient: &str, case: &CaseRecord, reason: &str, seconds: i64) -> NotificationRecord {
    NotificationRecord {
        recipient: recipient.into(),
        case_id: case.id,
        case_number: case.number.clone(),
        reason: reason.into(),
        at: at(seconds),
    }
}
