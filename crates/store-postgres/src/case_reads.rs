//! Read queries of the case projections for PostgreSQL.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use fq_domain::account::{Account, AccountId};
use fq_domain::case::CaseId;
use fq_domain::org::OrgId;
use fq_domain::region::RegionCode;
use fq_store::{
    CaseFilter, CaseKpis, CaseRecord, CaseSort, CaseSummary, HandlerProfile, HandlerTally, NotificationRecord, StoreError,
    TrendPoint,
};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use uuid::Uuid;

use crate::reads::{self, GrantRow};

fn db(err: sqlx::Error) -> StoreError {
    StoreError::backend(err)
}

fn region(row: &PgRow, what: &str) -> Result<RegionCode, StoreError> {
    let text: String = row.try_get("region").map_err(db)?;
    RegionCode::parse(&text).map_err(|e| StoreError::corrupt(what, e))
}

fn unsigned(value: i64, column: &str, what: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::corrupt(what, format!("{column} {value}")))
}

const RECORD_COLUMNS: &str = "id, number, number_series, number_seq, programme, kind, state, priority, region, unit, person, title, \
                              tier, opened_at, closed_at, due_at, next_timer_at, yellow_cards, red_cards, rating, version, snapshot";

/// A count column as the record's type; anything out of range is a corrupt row.
fn narrow<T: TryFrom<i64>>(row: &PgRow, column: &str, what: &str) -> Result<T, StoreError> {
    let value: i64 = row.try_get(column).map_err(db)?;
    T::try_from(value).map_err(|_| StoreError::corrupt(what, format!("{column} {value}")))
}

fn record(row: &PgRow) -> Result<CaseRecord, StoreError> {
    let id: Uuid = row.try_get("id").map_err(db)?;
    let what = format!("case {id}");
    let tier = row
        .try_get::<Option<i64>, _>("tier")
        .map_err(db)?
        .map(|t| u32::try_from(t).map_err(|_| StoreError::corrupt(&what, format!("tier {t}"))))
        .transpose()?;
    Ok(CaseRecord {
        id: CaseId(id),
        number: row.try_get("number").map_err(db)?,
        number_series: row.try_get("number_series").map_err(db)?,
        number_seq: unsigned(row.try_get("number_seq").map_err(db)?, "number_seq", &what)?,
        programme: row.try_get("programme").map_err(db)?,
        kind: row.try_get("kind").map_err(db)?,
        state: row.try_get("state").map_err(db)?,
        priority: row.try_get("priority").map_err(db)?,
        region: region(row, &what)?,
        unit: row.try_get::<Option<Uuid>, _>("unit").map_err(db)?.map(OrgId),
        person: row.try_get::<Option<Uuid>, _>("person").map_err(db)?.map(AccountId),
        title: row.try_get("title").map_err(db)?,
        tier,
        opened_at: row.try_get("opened_at").map_err(db)?,
        closed_at: row.try_get("closed_at").map_err(db)?,
        due_at: row.try_get("due_at").map_err(db)?,
        next_timer_at: row.try_get("next_timer_at").map_err(db)?,
        yellow_cards: narrow(row, "yellow_cards", &what)?,
        red_cards: narrow(row, "red_cards", &what)?,
        rating: row
            .try_get::<Option<i16>, _>("rating")
            .map_err(db)?
            .map(|r| u8::try_from(r).map_err(|_| StoreError::corrupt(&what, format!("rating {r}"))))
            .transpose()?,
        version: unsigned(row.try_get("version").map_err(db)?, "version", &what)?,
        snapshot: row.try_get("snapshot").map_err(db)?,
    })
}

pub(crate) async fn case_record(pool: &PgPool, id: CaseId) -> Result<Option<CaseRecord>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {RECORD_COLUMNS} FROM cases WHERE id = $1")))
        .bind(id.0)
        .fetch_optional(pool)
        .await
        .map_err(db)?
        .as_ref()
        .map(record)
        .transpose()
}

pub(crate) async fn case_id_by_number(pool: &PgPool, number: &str) -> Result<Option<CaseId>, StoreError> {
    let id: Option<Uuid> =
        sqlx::query_scalar("SELECT id FROM cases WHERE number = $1").bind(number).fetch_optional(pool).await.map_err(db)?;
    Ok(id.map(CaseId))
}

fn summary(row: &PgRow) -> Result<CaseSummary, StoreError> {
    let id: Uuid = row.try_get("id").map_err(db)?;
    let what = format!("case {id}");
    Ok(CaseSummary {
        id: CaseId(id),
        number: row.try_get("number").map_err(db)?,
        programme: row.try_get("programme").map_err(db)?,
        kind: row.try_get("kind").map_err(db)?,
        state: row.try_get("state").map_err(db)?,
        priority: row.try_get("priority").map_err(db)?,
        region: region(row, &what)?,
        unit: row.try_get::<Option<Uuid>, _>("unit").map_err(db)?.map(OrgId),
        person: row.try_get::<Option<Uuid>, _>("person").map_err(db)?.map(AccountId),
        title: row.try_get("title").map_err(db)?,
        opened_at: row.try_get("opened_at").map_err(db)?,
        closed_at: row.try_get("closed_at").map_err(db)?,
        due_at: row.try_get("due_at").map_err(db)?,
        yellow_cards: narrow(row, "yellow_cards", &what)?,
        red_cards: narrow(row, "red_cards", &what)?,
    })
}

/// Appends the conditions of `filter` (its sort, `before`, offset and limit aside) to a WHERE
/// clause. `false` (nothing appended) when it matches nothing: no scopes, and not all regions.
fn push_conditions(sql: &mut QueryBuilder<Postgres>, filter: &CaseFilter) -> bool {
    if filter.regions.is_empty() && filter.narrowed.is_empty() && !filter.all_regions {
        return false;
    }
    sql.push("(");
    if filter.all_regions {
        sql.push("TRUE");
    } else {
        let scopes = filter.regions.iter().map(|r| (r, None)).chain(filter.narrowed.iter().map(|(r, o)| (r, Some(o))));
        for (i, (code, unit)) in scopes.enumerate() {
            if i > 0 {
                sql.push(" OR ");
            }
            sql.push("(");
            // `region` and `number` use the "C" collation: a subtree is a byte range, as on
            // SQLite. City, county and town subtrees use the expressions of cases_city,
            // cases_county and cases_town (migration 0004), so that a list walks that index.
            match code.as_str().len() {
                4 => sql.push("substr(region, 1, 4) = ").push_bind(code.to_string()),
                6 => sql.push("substr(region, 1, 6) = ").push_bind(code.to_string()),
                9 => sql.push("substr(region, 1, 9) = ").push_bind(code.to_string()),
                _ => sql.push("region >= ").push_bind(code.to_string()).push(" AND region < ").push_bind(format!("{code}:")),
            };
            if let Some(unit) = unit {
                sql.push(" AND unit = ").push_bind(unit.0);
            }
            sql.push(")");
        }
    }
    sql.push(")");
    if let Some(programme) = &filter.programme {
        sql.push(" AND programme = ").push_bind(programme.clone());
    }
    if let Some(kind) = &filter.kind {
        sql.push(" AND kind = ").push_bind(kind.clone());
    }
    if let Some(unit) = filter.unit {
        sql.push(" AND unit = ").push_bind(unit.0);
    }
    if let Some(person) = filter.person {
        sql.push(" AND person = ").push_bind(person.0);
    }
    if let Some(state) = &filter.state {
        sql.push(" AND state = ").push_bind(state.clone());
    }
    if filter.open_only {
        sql.push(" AND closed_at IS NULL");
    }
    if let Some(due_before) = filter.due_before {
        sql.push(" AND closed_at IS NULL AND due_at < ").push_bind(due_before);
    }
    if filter.carded {
        sql.push(" AND yellow_cards + red_cards > 0");
    }
    if let Some(from) = filter.opened_from {
        sql.push(" AND opened_at >= ").push_bind(from);
    }
    if let Some(to) = filter.opened_to {
        sql.push(" AND opened_at < ").push_bind(to);
    }
    if let Some(text) = &filter.text {
        sql.push(" AND (number = ")
            .push_bind(text.clone())
            .push(" OR title LIKE ")
            .push_bind(format!("%{}%", escape_like(text)))
            .push(" ESCAPE '\\')");
    }
    true
}

/// `text` as a LIKE pattern matching exactly itself (the escape character is the backslash).
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub(crate) async fn cases(pool: &PgPool, filter: &CaseFilter) -> Result<Vec<CaseSummary>, StoreError> {
    let mut sql: QueryBuilder<Postgres> = QueryBuilder::new(
        "SELECT id, number, programme, kind, state, priority, region, unit, person, title, opened_at, closed_at, due_at, \
         yellow_cards, red_cards FROM cases WHERE ",
    );
    if !push_conditions(&mut sql, filter) {
        return Ok(Vec::new());
    }
    if let Some(before) = &filter.before {
        sql.push(" AND number < ").push_bind(before.clone());
    }
    sql.push(match filter.sort {
        CaseSort::NumberDesc => " ORDER BY number DESC",
        CaseSort::OpenedAsc => " ORDER BY opened_at, number",
        // The order of cases_due_open: no deadline last.
        CaseSort::DueAsc => " ORDER BY due_at ASC NULLS LAST, number DESC",
    });
    sql.push(" LIMIT ").push_bind(i64::from(filter.limit)).push(" OFFSET ").push_bind(i64::from(filter.offset));
    let rows = sql.build().fetch_all(pool).await.map_err(db)?;
    rows.iter().map(summary).collect()
}

pub(crate) async fn count_cases(pool: &PgPool, filter: &CaseFilter) -> Result<u64, StoreError> {
    let mut sql: QueryBuilder<Postgres> = QueryBuilder::new("SELECT COUNT(*) FROM cases WHERE ");
    if !push_conditions(&mut sql, filter) {
        return Ok(0);
    }
    let n: i64 = sql.build_query_scalar().fetch_one(pool).await.map_err(db)?;
    unsigned(n, "count", "case count")
}

pub(crate) async fn case_snapshots(pool: &PgPool, filter: &CaseFilter) -> Result<Vec<String>, StoreError> {
    let mut sql: QueryBuilder<Postgres> = QueryBuilder::new("SELECT snapshot FROM cases WHERE ");
    if !push_conditions(&mut sql, filter) {
        return Ok(Vec::new());
    }
    sql.build_query_scalar().fetch_all(pool).await.map_err(db)
}

/// Pushes the figures of [`CaseKpis`] (named as its fields) for cases overdue at `now`.
fn push_kpi_columns(sql: &mut QueryBuilder<Postgres>, now: DateTime<Utc>) {
    sql.push(
        "COUNT(*) AS opened,
         COUNT(*) FILTER (WHERE closed_at IS NULL) AS open,
         COUNT(*) FILTER (WHERE closed_at IS NOT NULL) AS closed,
         COUNT(*) FILTER (WHERE closed_at IS NULL AND due_at < ",
    )
    .push_bind(now)
    .push(
        ") AS overdue_open,
         COUNT(*) FILTER (WHERE closed_at IS NOT NULL AND yellow_cards = 0 AND red_cards = 0) AS closed_on_time,
         COALESCE(SUM(yellow_cards), 0)::bigint AS yellow_cards,
         COALESCE(SUM(red_cards), 0)::bigint AS red_cards,
         COUNT(rating) AS rated,
         COALESCE(SUM(rating), 0)::bigint AS rating_sum",
    );
}

fn kpis(row: &PgRow, what: &str) -> Result<CaseKpis, StoreError> {
    let n = |column: &str| unsigned(row.try_get(column).map_err(db)?, column, what);
    Ok(CaseKpis {
        opened: n("opened")?,
        open: n("open")?,
        closed: n("closed")?,
        overdue_open: n("overdue_open")?,
        closed_on_time: n("closed_on_time")?,
        yellow_cards: n("yellow_cards")?,
        red_cards: n("red_cards")?,
        rated: n("rated")?,
        rating_sum: n("rating_sum")?,
    })
}

pub(crate) async fn case_kpis(pool: &PgPool, filter: &CaseFilter, now: DateTime<Utc>) -> Result<CaseKpis, StoreError> {
    let mut sql: QueryBuilder<Postgres> = QueryBuilder::new("SELECT ");
    push_kpi_columns(&mut sql, now);
    sql.push(" FROM cases WHERE ");
    if !push_conditions(&mut sql, filter) {
        return Ok(CaseKpis::default());
    }
    let row = sql.build().fetch_one(pool).await.map_err(db)?;
    kpis(&row, "case figures")
}

pub(crate) async fn case_kpis_by_county(
    pool: &PgPool,
    filter: &CaseFilter,
    now: DateTime<Utc>,
) -> Result<Vec<(RegionCode, CaseKpis)>, StoreError> {
    let mut sql: QueryBuilder<Postgres> = QueryBuilder::new("SELECT substr(region, 1, 6) AS county, ");
    push_kpi_columns(&mut sql, now);
    sql.push(" FROM cases WHERE length(region) >= 6 AND ");
    if !push_conditions(&mut sql, filter) {
        return Ok(Vec::new());
    }
    sql.push(" GROUP BY county ORDER BY county");
    let rows = sql.build().fetch_all(pool).await.map_err(db)?;
    rows.iter()
        .map(|row| {
            let county: String = row.try_get("county").map_err(db)?;
            let what = format!("figures of county {county}");
            let code = RegionCode::parse(&county).map_err(|e| StoreError::corrupt(&what, e))?;
            Ok((code, kpis(row, &what)?))
        })
        .collect()
}

pub(crate) async fn case_trend(
    pool: &PgPool,
    filter: &CaseFilter,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<TrendPoint>, StoreError> {
    // The Beijing day: UTC+8, no daylight saving (a fixed offset, not a zone name).
    let mut sql: QueryBuilder<Postgres> = QueryBuilder::new(
        "SELECT day, SUM(opened)::bigint AS opened, SUM(closed)::bigint AS closed FROM (
             SELECT (opened_at AT TIME ZONE 'UTC' + INTERVAL '8 hours')::date AS day, 1 AS opened, 0 AS closed FROM cases WHERE ",
    );
    if !push_conditions(&mut sql, filter) {
        return Ok(Vec::new());
    }
    sql.push(" AND opened_at >= ").push_bind(from).push(" AND opened_at < ").push_bind(to);
    sql.push(" UNION ALL SELECT (closed_at AT TIME ZONE 'UTC' + INTERVAL '8 hours')::date, 0, 1 FROM cases WHERE ");
    push_conditions(&mut sql, filter);
    sql.push(" AND closed_at >= ").push_bind(from).push(" AND closed_at < ").push_bind(to);
    sql.push(") AS t GROUP BY day ORDER BY day");
    let rows = sql.build().fetch_all(pool).await.map_err(db)?;
    rows.iter()
        .map(|row| {
            let day: NaiveDate = row.try_get("day").map_err(db)?;
            let what = format!("trend day {day}");
            Ok(TrendPoint {
                day,
                opened: unsigned(row.try_get("opened").map_err(db)?, "opened", &what)?,
                closed: unsigned(row.try_get("closed").map_err(db)?, "closed", &what)?,
            })
        })
        .collect()
}

pub(crate) async fn due_cases(pool: &PgPool, now: DateTime<Utc>, limit: u32) -> Result<Vec<CaseId>, StoreError> {
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM cases WHERE next_timer_at IS NOT NULL AND next_timer_at <= $1 ORDER BY next_timer_at LIMIT $2",
    )
    .bind(now)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db)?;
    Ok(ids.into_iter().map(CaseId).collect())
}

pub(crate) async fn last_case_number(pool: &PgPool, series: &str) -> Result<u64, StoreError> {
    let last: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(number_seq), 0)::bigint FROM cases WHERE number_series = $1")
        .bind(series)
        .fetch_one(pool)
        .await
        .map_err(db)?;
    unsigned(last, "number_seq", &format!("case number series {series}"))
}

pub(crate) async fn handler_tallies(pool: &PgPool, handlers: &[String]) -> Result<Vec<HandlerTally>, StoreError> {
    if handlers.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(
        "SELECT handler, open_load, open_cases, assigned_total, reminders, yellow_cards, red_cards, points, returns, closed,
                rating_sum, rating_count
         FROM handler_tallies WHERE handler = ANY($1) ORDER BY handler",
    )
    .bind(handlers)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    rows.iter()
        .map(|r| {
            Ok(HandlerTally {
                handler: r.try_get("handler")?,
                open_load: r.try_get("open_load")?,
                open_cases: r.try_get("open_cases")?,
                assigned_total: r.try_get("assigned_total")?,
                reminders: r.try_get("reminders")?,
                yellow_cards: r.try_get("yellow_cards")?,
                red_cards: r.try_get("red_cards")?,
                points: r.try_get("points")?,
                returns: r.try_get("returns")?,
                closed: r.try_get("closed")?,
                rating_sum: r.try_get("rating_sum")?,
                rating_count: r.try_get("rating_count")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(db)
}

pub(crate) async fn handler_profiles(pool: &PgPool, handlers: &[String]) -> Result<Vec<HandlerProfile>, StoreError> {
    if handlers.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(
        "SELECT handler, on_duty, capacity, qualified, skills, conflicts FROM handler_profiles WHERE handler = ANY($1) ORDER BY handler",
    )
    .bind(handlers)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    rows.iter()
        .map(|r| {
            Ok(HandlerProfile {
                handler: r.try_get("handler")?,
                on_duty: r.try_get("on_duty")?,
                capacity: r.try_get("capacity")?,
                qualified: r.try_get("qualified")?,
                skills: r.try_get("skills")?,
                conflicts: r.try_get("conflicts")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(db)
}

pub(crate) async fn notifications(
    pool: &PgPool,
    recipients: &[String],
    limit: u32,
) -> Result<Vec<NotificationRecord>, StoreError> {
    if recipients.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(
        "SELECT recipient, case_id, case_number, reason, at FROM notifications WHERE recipient = ANY($1) ORDER BY id DESC LIMIT $2",
    )
    .bind(recipients)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db)?;
    rows.iter()
        .map(|r| {
            Ok(NotificationRecord {
                recipient: r.try_get("recipient")?,
                case_id: CaseId(r.try_get("case_id")?),
                case_number: r.try_get("case_number")?,
                reason: r.try_get("reason")?,
                at: r.try_get("at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(db)
}

/// Enabled accounts holding `role` in any grant, each once, with all their grants, sorted by login
/// (bytewise, as on SQLite). Two statements in one repeatable-read transaction: one snapshot.
pub(crate) async fn accounts_with_role(pool: &PgPool, role: &str) -> Result<Vec<Account>, StoreError> {
    let mut tx = pool.begin().await.map_err(db)?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await.map_err(db)?;
    let rows = sqlx::query(
        "SELECT a.id, a.login, a.display_name, a.org, a.disabled, a.demo FROM accounts a
         WHERE NOT a.disabled AND EXISTS (SELECT 1 FROM role_grants g WHERE g.account = a.id AND g.role = $1)
         ORDER BY a.login COLLATE \"C\"",
    )
    .bind(role)
    .fetch_all(&mut *tx)
    .await
    .map_err(db)?;
    let ids = rows.iter().map(|r| r.try_get::<Uuid, _>("id")).collect::<Result<Vec<_>, _>>().map_err(db)?;
    let grant_rows: Vec<(Uuid, String, String, Option<Uuid>)> = sqlx::query_as(
        "SELECT account, role, region, org FROM role_grants WHERE account = ANY($1) ORDER BY account, role, region",
    )
    .bind(&ids)
    .fetch_all(&mut *tx)
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)?;
    let mut grants: HashMap<Uuid, Vec<GrantRow>> = HashMap::new();
    for (account, role, region, org) in grant_rows {
        grants.entry(account).or_default().push((role, region, org));
    }
    rows.iter().zip(ids).map(|(row, id)| reads::decode_account(row, grants.remove(&id).unwrap_or_default())).collect()
}
