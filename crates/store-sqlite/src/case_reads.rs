//! Read queries of the case projections.

use chrono::{DateTime, Utc};
use fq_domain::account::AccountId;
use fq_domain::case::CaseId;
use fq_domain::journal::journal_time;
use fq_domain::org::OrgId;
use fq_domain::region::RegionCode;
use fq_store::{CaseFilter, CaseRecord, CaseSummary, HandlerProfile, HandlerTally, NotificationRecord, StoreError};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};

use crate::decode;

fn db(err: rusqlite::Error) -> StoreError {
    StoreError::backend(err)
}

fn time(text: Option<String>, what: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
    text.map(|t| decode::time(&t).map_err(|e| StoreError::corrupt(what, e))).transpose()
}

fn org(text: Option<String>, what: &str) -> Result<Option<OrgId>, StoreError> {
    text.map(|t| decode::uuid(&t, what).map(OrgId)).transpose()
}

fn account(text: Option<String>, what: &str) -> Result<Option<AccountId>, StoreError> {
    text.map(|t| decode::uuid(&t, what).map(AccountId)).transpose()
}

const RECORD_COLUMNS: &str = "id, number, number_series, number_seq, programme, kind, state, priority, region, unit, person, title, \
                              tier, opened_at, closed_at, due_at, next_timer_at, version, snapshot";

type RawRecord = (
    (String, String, String, i64, String, String, String, String, String, Option<String>),
    (Option<String>, String, Option<u32>, String, Option<String>, Option<String>, Option<String>, i64, String),
);

fn record_row(r: &Row<'_>) -> rusqlite::Result<RawRecord> {
    Ok((
        (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?),
        (r.get(10)?, r.get(11)?, r.get(12)?, r.get(13)?, r.get(14)?, r.get(15)?, r.get(16)?, r.get(17)?, r.get(18)?),
    ))
}

fn to_record(raw: RawRecord) -> Result<CaseRecord, StoreError> {
    let ((id, number, number_series, number_seq, programme, kind, state, priority, region, unit), rest) = raw;
    let (person, title, tier, opened_at, closed_at, due_at, next_timer_at, version, snapshot) = rest;
    let what = format!("case {id}");
    Ok(CaseRecord {
        id: CaseId(decode::uuid(&id, &what)?),
        number,
        number_series,
        number_seq: number_seq as u64,
        programme,
        kind,
        state,
        priority,
        region: RegionCode::parse(&region).map_err(|e| StoreError::corrupt(&what, e))?,
        unit: org(unit, &what)?,
        person: account(person, &what)?,
        title,
        tier,
        opened_at: decode::time(&opened_at).map_err(|e| StoreError::corrupt(&what, e))?,
        closed_at: time(closed_at, &what)?,
        due_at: time(due_at, &what)?,
        next_timer_at: time(next_timer_at, &what)?,
        version: version as u64,
        snapshot,
    })
}

pub(crate) fn case_record(conn: &Connection, id: CaseId) -> Result<Option<CaseRecord>, StoreError> {
    conn.prepare_cached(&format!("SELECT {RECORD_COLUMNS} FROM cases WHERE id = ?1"))
        .and_then(|mut s| s.query_row([id.to_string()], record_row).optional())
        .map_err(db)?
        .map(to_record)
        .transpose()
}

pub(crate) fn case_id_by_number(conn: &Connection, number: &str) -> Result<Option<CaseId>, StoreError> {
    let id: Option<String> = conn
        .prepare_cached("SELECT id FROM cases WHERE number = ?1")
        .and_then(|mut s| s.query_row([number], |r| r.get(0)).optional())
        .map_err(db)?;
    id.map(|id| decode::uuid(&id, "case").map(CaseId)).transpose()
}

pub(crate) fn cases(conn: &Connection, filter: &CaseFilter) -> Result<Vec<CaseSummary>, StoreError> {
    if filter.regions.is_empty() && !filter.all_regions {
        return Ok(Vec::new());
    }
    let mut sql = String::from(
        "SELECT id, number, programme, kind, state, priority, region, unit, person, title, opened_at, closed_at, due_at FROM cases WHERE (",
    );
    let mut args: Vec<Value> = Vec::new();
    if filter.all_regions {
        sql.push_str("1 = 1");
    }
    for (i, region) in filter.regions.iter().enumerate().filter(|_| !filter.all_regions) {
        if i > 0 {
            sql.push_str(" OR ");
        }
        sql.push_str("(region >= ? AND region < ?)");
        args.push(Value::Text(region.to_string()));
        args.push(Value::Text(format!("{region}:")));
    }
    sql.push(')');
    let mut and = |clause: &str, value: Value| {
        sql.push_str(" AND ");
        sql.push_str(clause);
        args.push(value);
    };
    if let Some(programme) = &filter.programme {
        and("programme = ?", Value::Text(programme.clone()));
    }
    if let Some(unit) = filter.unit {
        and("unit = ?", Value::Text(unit.to_string()));
    }
    if let Some(person) = filter.person {
        and("person = ?", Value::Text(person.to_string()));
    }
    if let Some(state) = &filter.state {
        and("state = ?", Value::Text(state.clone()));
    }
    if let Some(before) = &filter.before {
        and("number < ?", Value::Text(before.clone()));
    }
    if filter.open_only {
        sql.push_str(" AND closed_at IS NULL");
    }
    sql.push_str(" ORDER BY number DESC LIMIT ?");
    args.push(Value::Integer(i64::from(filter.limit)));
    let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
    let rows = stmt
        .query_map(params_from_iter(args), |r| {
            Ok((
                (
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ),
                (r.get::<_, String>(5)?, r.get::<_, String>(6)?, r.get::<_, Option<String>>(7)?, r.get::<_, Option<String>>(8)?),
                (
                    r.get::<_, String>(9)?,
                    r.get::<_, String>(10)?,
                    r.get::<_, Option<String>>(11)?,
                    r.get::<_, Option<String>>(12)?,
                ),
            ))
        })
        .map_err(db)?;
    let mut out = Vec::new();
    for row in rows {
        let ((id, number, programme, kind, state), (priority, region, unit, person), (title, opened_at, closed_at, due_at)) =
            row.map_err(db)?;
        let what = format!("case {id}");
        out.push(CaseSummary {
            id: CaseId(decode::uuid(&id, &what)?),
            number,
            programme,
            kind,
            state,
            priority,
            region: RegionCode::parse(&region).map_err(|e| StoreError::corrupt(&what, e))?,
            unit: org(unit, &what)?,
            person: account(person, &what)?,
            title,
            opened_at: decode::time(&opened_at).map_err(|e| StoreError::corrupt(&what, e))?,
            closed_at: time(closed_at, &what)?,
            due_at: time(due_at, &what)?,
        });
    }
    Ok(out)
}

pub(crate) fn due_cases(conn: &Connection, now: DateTime<Utc>, limit: u32) -> Result<Vec<CaseId>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT id FROM cases WHERE next_timer_at IS NOT NULL AND next_timer_at <= ?1 ORDER BY next_timer_at LIMIT ?2",
        )
        .map_err(db)?;
    let rows = stmt.query_map(params![journal_time(now), limit], |r| r.get::<_, String>(0)).map_err(db)?;
    rows.map(|r| decode::uuid(&r.map_err(db)?, "case").map(CaseId)).collect()
}

pub(crate) fn last_case_number(conn: &Connection, series: &str) -> Result<u64, StoreError> {
    conn.prepare_cached("SELECT COALESCE(MAX(number_seq), 0) FROM cases WHERE number_series = ?1")
        .and_then(|mut s| s.query_row([series], |r| r.get::<_, i64>(0)))
        .map(|n| n as u64)
        .map_err(db)
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

pub(crate) fn handler_tallies(conn: &Connection, handlers: &[String]) -> Result<Vec<HandlerTally>, StoreError> {
    if handlers.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT handler, open_load, open_cases, assigned_total, reminders, yellow_cards, red_cards, points, returns, closed,
                rating_sum, rating_count FROM handler_tallies WHERE handler IN ({}) ORDER BY handler",
        placeholders(handlers.len())
    );
    let mut stmt = conn.prepare(&sql).map_err(db)?;
    let rows = stmt
        .query_map(params_from_iter(handlers), |r| {
            Ok(HandlerTally {
                handler: r.get(0)?,
                open_load: r.get(1)?,
                open_cases: r.get(2)?,
                assigned_total: r.get(3)?,
                reminders: r.get(4)?,
                yellow_cards: r.get(5)?,
                red_cards: r.get(6)?,
                points: r.get(7)?,
                returns: r.get(8)?,
                closed: r.get(9)?,
                rating_sum: r.get(10)?,
                rating_count: r.get(11)?,
            })
        })
        .map_err(db)?;
    rows.map(|r| r.map_err(db)).collect()
}

pub(crate) fn handler_profiles(conn: &Connection, handlers: &[String]) -> Result<Vec<HandlerProfile>, StoreError> {
    if handlers.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT handler, on_duty, capacity, qualified, skills, conflicts FROM handler_profiles WHERE handler IN ({}) ORDER BY handler",
        placeholders(handlers.len())
    );
    let mut stmt = conn.prepare(&sql).map_err(db)?;
    let rows = stmt
        .query_map(params_from_iter(handlers), |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, bool>(1)?,
                r.get::<_, Option<f64>>(2)?,
                r.get::<_, bool>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
            ))
        })
        .map_err(db)?;
    let mut out = Vec::new();
    for row in rows {
        let (handler, on_duty, capacity, qualified, skills, conflicts) = row.map_err(db)?;
        let list = |text: &str| {
            serde_json::from_str::<Vec<String>>(text).map_err(|e| StoreError::corrupt(format!("handler profile {handler}"), e))
        };
        out.push(HandlerProfile { skills: list(&skills)?, conflicts: list(&conflicts)?, handler, on_duty, capacity, qualified });
    }
    Ok(out)
}

pub(crate) fn notifications(conn: &Connection, recipients: &[String], limit: u32) -> Result<Vec<NotificationRecord>, StoreError> {
    if recipients.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT recipient, case_id, case_number, reason, at FROM notifications WHERE recipient IN ({}) ORDER BY id DESC LIMIT {limit}",
        placeholders(recipients.len())
    );
    let mut stmt = conn.prepare(&sql).map_err(db)?;
    let rows = stmt
        .query_map(params_from_iter(recipients), |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })
        .map_err(db)?;
    let mut out = Vec::new();
    for row in rows {
        let (recipient, case_id, case_number, reason, at) = row.map_err(db)?;
        out.push(NotificationRecord {
            recipient,
            case_id: CaseId(decode::uuid(&case_id, "notification")?),
            case_number,
            reason,
            at: decode::time(&at).map_err(|e| StoreError::corrupt("notification", e))?,
        });
    }
    Ok(out)
}

pub(crate) fn accounts_with_role(conn: &Connection, role: &str) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT DISTINCT a.id, a.login FROM accounts a JOIN role_grants g ON g.account = a.id
             WHERE g.role = ?1 AND a.disabled = 0 ORDER BY a.login",
        )
        .map_err(db)?;
    let rows = stmt.query_map([role], |r| r.get::<_, String>(0)).map_err(db)?;
    rows.map(|r| r.map_err(db)).collect()
}
