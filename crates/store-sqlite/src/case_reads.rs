//! Read queries of the case projections.

use chrono::{DateTime, NaiveDate, Utc};
use fq_domain::account::AccountId;
use fq_domain::case::CaseId;
use fq_domain::journal::journal_time;
use fq_domain::org::OrgId;
use fq_domain::region::RegionCode;
use fq_store::{
    CaseFilter, CaseKpis, CaseRecord, CaseSort, CaseSummary, HandlerProfile, HandlerTally, NotificationRecord, StoreError,
    TrendPoint,
};
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
                              tier, opened_at, closed_at, due_at, next_timer_at, yellow_cards, red_cards, rating, version, snapshot";

type RawRecord = (
    (String, String, String, i64, String, String, String, String),
    (String, Option<String>, Option<String>, String, Option<u32>, String, Option<String>),
    (Option<String>, Option<String>, i64, i64, Option<i64>, i64, String),
);

fn record_row(r: &Row<'_>) -> rusqlite::Result<RawRecord> {
    Ok((
        (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?),
        (r.get(8)?, r.get(9)?, r.get(10)?, r.get(11)?, r.get(12)?, r.get(13)?, r.get(14)?),
        (r.get(15)?, r.get(16)?, r.get(17)?, r.get(18)?, r.get(19)?, r.get(20)?, r.get(21)?),
    ))
}

/// A count column as the record's type; anything out of range is a corrupt row.
fn count<T: TryFrom<i64>>(value: i64, column: &str, what: &str) -> Result<T, StoreError> {
    T::try_from(value).map_err(|_| StoreError::corrupt(what, format!("{column} {value}")))
}

fn to_record(raw: RawRecord) -> Result<CaseRecord, StoreError> {
    let ((id, number, number_series, number_seq, programme, kind, state, priority), middle, rest) = raw;
    let (region, unit, person, title, tier, opened_at, closed_at) = middle;
    let (due_at, next_timer_at, yellow_cards, red_cards, rating, version, snapshot) = rest;
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
        yellow_cards: count(yellow_cards, "yellow_cards", &what)?,
        red_cards: count(red_cards, "red_cards", &what)?,
        rating: rating.map(|r| count(r, "rating", &what)).transpose()?,
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

/// The condition "in the subtree of a city, county or town" written as the expression of its
/// index; `None` for the province (the programme index serves it) and villages (few cases).
fn indexed_prefix(code: &str) -> Option<&'static str> {
    match code.len() {
        4 => Some("substr(region, 1, 4) = ?"),
        6 => Some("substr(region, 1, 6) = ?"),
        9 => Some("substr(region, 1, 9) = ?"),
        _ => None,
    }
}

/// "In the subtree of `code`".
fn push_subtree(sql: &mut String, args: &mut Vec<Value>, code: &str) {
    if let Some(prefix) = indexed_prefix(code) {
        // The expression of cases_city, cases_county or cases_town (migration 0004), so that the
        // list walks that index in number order.
        sql.push_str(prefix);
        args.push(Value::Text(code.to_owned()));
    } else {
        // A subtree is a range of codes: digits, and ':' sorts right after '9'.
        sql.push_str("region >= ? AND region < ?");
        args.push(Value::Text(code.to_owned()));
        args.push(Value::Text(format!("{code}:")));
    }
}

/// The conditions of `filter` (its sort, `before`, offset and limit aside) as a WHERE clause
/// with its arguments, or `None` when it matches nothing (no regions, and not all of them).
fn conditions(filter: &CaseFilter) -> Option<(String, Vec<Value>)> {
    if filter.regions.is_empty() && filter.narrowed.is_empty() && !filter.all_regions {
        return None;
    }
    let mut sql = String::from("(");
    let mut args: Vec<Value> = Vec::new();
    if filter.all_regions {
        sql.push_str("1 = 1");
    } else {
        let scopes = filter.regions.iter().map(|r| (r, None)).chain(filter.narrowed.iter().map(|(r, o)| (r, Some(o))));
        for (i, (region, unit)) in scopes.enumerate() {
            if i > 0 {
                sql.push_str(" OR ");
            }
            sql.push('(');
            push_subtree(&mut sql, &mut args, region.as_str());
            if let Some(unit) = unit {
                sql.push_str(" AND unit = ?");
                args.push(Value::Text(unit.to_string()));
            }
            sql.push(')');
        }
    }
    sql.push(')');
    let mut and = |clause: &str, values: Vec<Value>| {
        sql.push_str(" AND ");
        sql.push_str(clause);
        args.extend(values);
    };
    let text = |t: &String| Value::Text(t.clone());
    if let Some(programme) = &filter.programme {
        and("programme = ?", vec![text(programme)]);
    }
    if let Some(kind) = &filter.kind {
        and("kind = ?", vec![text(kind)]);
    }
    if let Some(unit) = filter.unit {
        and("unit = ?", vec![Value::Text(unit.to_string())]);
    }
    if let Some(person) = filter.person {
        and("person = ?", vec![Value::Text(person.to_string())]);
    }
    if let Some(state) = &filter.state {
        and("state = ?", vec![text(state)]);
    }
    if filter.open_only {
        and("closed_at IS NULL", vec![]);
    }
    if let Some(due_before) = filter.due_before {
        // `(due_at IS NULL) = 0` adds nothing to `due_at < ?` but lets the scan use cases_due_open.
        and("closed_at IS NULL AND (due_at IS NULL) = 0 AND due_at < ?", vec![Value::Text(journal_time(due_before))]);
    }
    if filter.carded {
        and("yellow_cards + red_cards > 0", vec![]);
    }
    if let Some(from) = filter.opened_from {
        and("opened_at >= ?", vec![Value::Text(journal_time(from))]);
    }
    if let Some(to) = filter.opened_to {
        and("opened_at < ?", vec![Value::Text(journal_time(to))]);
    }
    if let Some(needle) = &filter.text {
        // instr() is case-sensitive and knows no wildcards, as PostgreSQL's escaped LIKE: SQLite's
        // LIKE would ignore ASCII case.
        and("(number = ? OR instr(title, ?) > 0)", vec![text(needle), text(needle)]);
    }
    Some((sql, args))
}

const SUMMARY_COLUMNS: &str = "id, number, programme, kind, state, priority, region, unit, person, title, opened_at, closed_at, \
                               due_at, yellow_cards, red_cards";

pub(crate) fn cases(conn: &Connection, filter: &CaseFilter) -> Result<Vec<CaseSummary>, StoreError> {
    let Some((conditions, mut args)) = conditions(filter) else {
        return Ok(Vec::new());
    };
    let mut sql = format!("SELECT {SUMMARY_COLUMNS} FROM cases WHERE {conditions}");
    if let Some(before) = &filter.before {
        sql.push_str(" AND number < ?");
        args.push(Value::Text(before.clone()));
    }
    sql.push_str(match filter.sort {
        CaseSort::NumberDesc => " ORDER BY number DESC",
        CaseSort::OpenedAsc => " ORDER BY opened_at, number",
        // The expression and order of cases_due_open: no deadline last.
        CaseSort::DueAsc => " ORDER BY due_at IS NULL, due_at, number DESC",
    });
    sql.push_str(" LIMIT ? OFFSET ?");
    args.push(Value::Integer(i64::from(filter.limit)));
    args.push(Value::Integer(i64::from(filter.offset)));
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
                (r.get::<_, i64>(13)?, r.get::<_, i64>(14)?),
            ))
        })
        .map_err(db)?;
    let mut out = Vec::new();
    for row in rows {
        let (
            (id, number, programme, kind, state),
            (priority, region, unit, person),
            (title, opened_at, closed_at, due_at),
            (yellow_cards, red_cards),
        ) = row.map_err(db)?;
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
            yellow_cards: count(yellow_cards, "yellow_cards", &what)?,
            red_cards: count(red_cards, "red_cards", &what)?,
        });
    }
    Ok(out)
}

pub(crate) fn count_cases(conn: &Connection, filter: &CaseFilter) -> Result<u64, StoreError> {
    let Some((conditions, args)) = conditions(filter) else {
        return Ok(0);
    };
    let n: i64 = conn
        .prepare_cached(&format!("SELECT COUNT(*) FROM cases WHERE {conditions}"))
        .and_then(|mut s| s.query_row(params_from_iter(args), |r| r.get(0)))
        .map_err(db)?;
    count(n, "count", "case count")
}

pub(crate) fn case_snapshots(conn: &Connection, filter: &CaseFilter) -> Result<Vec<String>, StoreError> {
    let Some((conditions, args)) = conditions(filter) else {
        return Ok(Vec::new());
    };
    let mut stmt = conn.prepare_cached(&format!("SELECT snapshot FROM cases WHERE {conditions}")).map_err(db)?;
    let rows = stmt.query_map(params_from_iter(args), |r| r.get::<_, String>(0)).map_err(db)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(db)
}

/// The figures of [`CaseKpis`], in its order; the one argument is "now", for overdue cases.
const KPI_COLUMNS: &str = "COUNT(*),
    COALESCE(SUM(CASE WHEN closed_at IS NULL THEN 1 ELSE 0 END), 0),
    COALESCE(SUM(CASE WHEN closed_at IS NOT NULL THEN 1 ELSE 0 END), 0),
    COALESCE(SUM(CASE WHEN closed_at IS NULL AND due_at < ? THEN 1 ELSE 0 END), 0),
    COALESCE(SUM(CASE WHEN closed_at IS NOT NULL AND yellow_cards = 0 AND red_cards = 0 THEN 1 ELSE 0 END), 0),
    COALESCE(SUM(yellow_cards), 0), COALESCE(SUM(red_cards), 0), COUNT(rating), COALESCE(SUM(rating), 0)";

fn kpi_values(r: &Row<'_>, first: usize) -> rusqlite::Result<[i64; 9]> {
    let mut out = [0; 9];
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = r.get(first + i)?;
    }
    Ok(out)
}

fn to_kpis(v: [i64; 9], what: &str) -> Result<CaseKpis, StoreError> {
    let n = |i: usize| count::<u64>(v[i], "figure", what);
    Ok(CaseKpis {
        opened: n(0)?,
        open: n(1)?,
        closed: n(2)?,
        overdue_open: n(3)?,
        closed_on_time: n(4)?,
        yellow_cards: n(5)?,
        red_cards: n(6)?,
        rated: n(7)?,
        rating_sum: n(8)?,
    })
}

pub(crate) fn case_kpis(conn: &Connection, filter: &CaseFilter, now: DateTime<Utc>) -> Result<CaseKpis, StoreError> {
    let Some((conditions, args)) = conditions(filter) else {
        return Ok(CaseKpis::default());
    };
    let args = std::iter::once(Value::Text(journal_time(now))).chain(args);
    let values = conn
        .prepare_cached(&format!("SELECT {KPI_COLUMNS} FROM cases WHERE {conditions}"))
        .and_then(|mut s| s.query_row(params_from_iter(args), |r| kpi_values(r, 0)))
        .map_err(db)?;
    to_kpis(values, "case figures")
}

pub(crate) fn case_kpis_by_county(
    conn: &Connection,
    filter: &CaseFilter,
    now: DateTime<Utc>,
) -> Result<Vec<(RegionCode, CaseKpis)>, StoreError> {
    let Some((conditions, args)) = conditions(filter) else {
        return Ok(Vec::new());
    };
    let args = std::iter::once(Value::Text(journal_time(now))).chain(args);
    let sql = format!(
        "SELECT substr(region, 1, 6) AS county, {KPI_COLUMNS} FROM cases WHERE length(region) >= 6 AND {conditions}
         GROUP BY county ORDER BY county"
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
    let rows = stmt.query_map(params_from_iter(args), |r| Ok((r.get::<_, String>(0)?, kpi_values(r, 1)?))).map_err(db)?;
    let mut out = Vec::new();
    for row in rows {
        let (county, values) = row.map_err(db)?;
        let what = format!("figures of county {county}");
        let code = RegionCode::parse(&county).map_err(|e| StoreError::corrupt(&what, e))?;
        out.push((code, to_kpis(values, &what)?));
    }
    Ok(out)
}

pub(crate) fn case_trend(
    conn: &Connection,
    filter: &CaseFilter,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<TrendPoint>, StoreError> {
    let Some((conditions, args)) = conditions(filter) else {
        return Ok(Vec::new());
    };
    // The Beijing day (UTC+8, no daylight saving) of a journal time. The fraction is cut off
    // first: date() works in milliseconds, and SQLite before 3.42 rounded 15:59:59.9996Z up to
    // the next day; without it the day is exact whatever the library.
    let day = |column: &str| format!("date(substr({column}, 1, 19), '+8 hours')");
    let sql = format!(
        "SELECT day, SUM(opened), SUM(closed) FROM (
             SELECT {} AS day, 1 AS opened, 0 AS closed FROM cases WHERE {conditions} AND opened_at >= ? AND opened_at < ?
             UNION ALL
             SELECT {}, 0, 1 FROM cases WHERE {conditions} AND closed_at >= ? AND closed_at < ?
         ) GROUP BY day ORDER BY day",
        day("opened_at"),
        day("closed_at")
    );
    let range = [Value::Text(journal_time(from)), Value::Text(journal_time(to))];
    let args: Vec<Value> = args.iter().cloned().chain(range.clone()).chain(args.iter().cloned()).chain(range).collect();
    let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
    let rows = stmt
        .query_map(params_from_iter(args), |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?)))
        .map_err(db)?;
    let mut out = Vec::new();
    for row in rows {
        let (day, opened, closed) = row.map_err(db)?;
        let what = format!("trend day {day}");
        out.push(TrendPoint {
            day: NaiveDate::parse_from_str(&day, "%Y-%m-%d").map_err(|e| StoreError::corrupt(&what, e))?,
            opened: count(opened, "opened", &what)?,
            closed: count(closed, "closed", &what)?,
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
