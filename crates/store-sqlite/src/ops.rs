//! Projection writes, one function per [`Op`], run by the writer inside a change's savepoint.

use fq_domain::geometry::area_to_geojson_text;
use fq_domain::journal::journal_time;
use fq_store::{Op, StoreError};
use rusqlite::types::Value;
use rusqlite::{Connection, ErrorCode, OptionalExtension, params};

/// Maps a constraint failure to a domain-level conflict or missing reference.
fn constraint<'k>(entity: &'static str, key: &'k str) -> impl Fn(rusqlite::Error) -> StoreError + 'k {
    move |err| match &err {
        rusqlite::Error::SqliteFailure(e, _) if e.code == ErrorCode::ConstraintViolation => match e.extended_code {
            rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY => {
                StoreError::Missing { entity: "a row referenced by", key: format!("{entity} {key}") }
            }
            rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY | rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE => {
                StoreError::Conflict { entity, key: key.to_owned() }
            }
            _ => StoreError::backend(err),
        },
        _ => StoreError::backend(err),
    }
}

fn must_touch(rows: usize, entity: &'static str, key: &str) -> Result<(), StoreError> {
    if rows == 0 { Err(StoreError::Missing { entity, key: key.to_owned() }) } else { Ok(()) }
}

pub(crate) fn apply(conn: &Connection, op: &Op) -> Result<(), StoreError> {
    match op {
        Op::UpsertRegions(regions) => {
            let mut stmt = conn
                .prepare_cached(
                    "INSERT INTO regions (code, name, level, parent, retired) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (code) DO UPDATE SET name = excluded.name, retired = excluded.retired",
                )
                .map_err(StoreError::backend)?;
            for region in regions {
                let code = region.code.as_str();
                stmt.execute(params![
                    code,
                    region.name,
                    region.level().rank(),
                    region.code.parent().map(String::from),
                    region.retired
                ])
                .map_err(constraint("region", code))?;
            }
        }
        Op::RenameRegion { code, name } => {
            let rows = conn
                .prepare_cached("UPDATE regions SET name = ?2 WHERE code = ?1")
                .and_then(|mut s| s.execute(params![code.as_str(), name]))
                .map_err(StoreError::backend)?;
            must_touch(rows, "region", code.as_str())?;
        }
        Op::RetireRegions(codes) => {
            let mut stmt = conn.prepare_cached("UPDATE regions SET retired = 1 WHERE code = ?1").map_err(StoreError::backend)?;
            for code in codes {
                let rows = stmt.execute([code.as_str()]).map_err(StoreError::backend)?;
                must_touch(rows, "region", code.as_str())?;
            }
        }
        Op::UpsertBoundaries(boundaries) => {
            let mut stmt = conn
                .prepare_cached(
                    "INSERT INTO region_boundaries (code, name, geojson) VALUES (?1, ?2, ?3)
                     ON CONFLICT (code) DO UPDATE SET name = excluded.name, geojson = excluded.geojson",
                )
                .map_err(StoreError::backend)?;
            for boundary in boundaries {
                let code = boundary.code.as_str();
                stmt.execute(params![code, boundary.name, area_to_geojson_text(&boundary.area)])
                    .map_err(constraint("boundary", code))?;
            }
        }
        Op::InsertGrids(grids) => {
            let mut stmt = conn
                .prepare_cached(
                    "INSERT INTO grids (code, name, region, kind, generated, min_lon, min_lat, max_lon, max_lat, geojson)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )
                .map_err(StoreError::backend)?;
            for grid in grids {
                let [min_lon, min_lat, max_lon, max_lat] = grid.bbox();
                let code = grid.code.as_str();
                stmt.execute(params![
                    code,
                    grid.name,
                    grid.region.as_str(),
                    grid.kind.as_str(),
                    grid.generated,
                    min_lon,
                    min_lat,
                    max_lon,
                    max_lat,
                    area_to_geojson_text(&grid.area)
                ])
                .map_err(constraint("grid", code))?;
            }
        }
        Op::DeleteGeneratedGrids(codes) => {
            let mut stmt =
                conn.prepare_cached("DELETE FROM grids WHERE code = ?1 AND generated = 1").map_err(StoreError::backend)?;
            for code in codes {
                let rows = stmt.execute([code.as_str()]).map_err(StoreError::backend)?;
                must_touch(rows, "generated grid", code.as_str())?;
            }
        }
        Op::InsertOrganisation(org) => {
            let id = org.id.to_string();
            conn.prepare_cached(
                "INSERT INTO organisations (id, name, kind, region, parent, demo) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    id,
                    org.name,
                    org.kind.as_str(),
                    org.region.as_str(),
                    org.parent.map(|p| p.to_string()),
                    org.demo
                ])
            })
            .map_err(constraint("organisation", &id))?;
        }
        Op::InsertAccount { account, password_hash } => {
            let id = account.id.to_string();
            conn.prepare_cached(
                "INSERT INTO accounts (id, login, display_name, org, disabled, demo, password_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    id,
                    account.login.as_str(),
                    account.display_name,
                    account.org.to_string(),
                    account.disabled,
                    account.demo,
                    password_hash
                ])
            })
            .map_err(constraint("account", account.login.as_str()))?;
            for grant in &account.grants {
                insert_grant(conn, &id, grant)?;
            }
        }
        Op::AddRoleGrant { account, grant } => insert_grant(conn, &account.to_string(), grant)?,
        Op::SetAccountDisabled { account, disabled } => {
            let id = account.to_string();
            let rows = conn
                .prepare_cached("UPDATE accounts SET disabled = ?2 WHERE id = ?1")
                .and_then(|mut s| s.execute(params![id, disabled]))
                .map_err(StoreError::backend)?;
            must_touch(rows, "account", &id)?;
        }
        Op::InsertApiToken(token) => {
            let id = token.id.to_string();
            conn.prepare_cached(
                "INSERT INTO api_tokens (id, account, label, secret_hash, created_at, expires_at, revoked) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    id,
                    token.account.to_string(),
                    token.label,
                    token.secret_hash,
                    journal_time(token.created_at),
                    token.expires_at.map(journal_time),
                    token.revoked
                ])
            })
            .map_err(constraint("API token", &id))?;
        }
        Op::RevokeApiToken { token } => {
            let id = token.to_string();
            let rows = conn
                .prepare_cached("UPDATE api_tokens SET revoked = 1 WHERE id = ?1")
                .and_then(|mut s| s.execute([&id]))
                .map_err(StoreError::backend)?;
            must_touch(rows, "API token", &id)?;
        }
        Op::InsertPositions(reports) => {
            let mut stmt = conn
                .prepare_cached(
                    "INSERT INTO positions (subject, at, lon, lat, source, region) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                     ON CONFLICT (region, at, subject) DO NOTHING",
                )
                .map_err(StoreError::backend)?;
            for p in reports {
                stmt.execute(params![p.subject, journal_time(p.at), p.lon, p.lat, p.source, p.region])
                    .map_err(StoreError::backend)?;
            }
        }
        Op::PutRiskForecast(f) => {
            let cells = serde_json::to_string(&f.cells).map_err(StoreError::backend)?;
            conn.prepare_cached(
                "INSERT INTO risk_forecasts (county, category, day, horizon_days, model, stored_events, made_at, cells) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (county, category, day, horizon_days) DO UPDATE SET \
                 model = excluded.model, stored_events = excluded.stored_events, made_at = excluded.made_at, \
                 cells = excluded.cells \
                 WHERE excluded.stored_events > risk_forecasts.stored_events OR excluded.model <> risk_forecasts.model",
            )
            .and_then(|mut s| {
                s.execute(params![
                    f.county.as_str(),
                    f.category,
                    f.day.to_string(),
                    f.horizon_days,
                    f.model,
                    i64::try_from(f.stored_events).unwrap_or(i64::MAX),
                    journal_time(f.made_at),
                    cells
                ])
            })
            .map_err(StoreError::backend)?;
        }
        Op::PutRiskCheck(c) => {
            conn.prepare_cached(
                "INSERT INTO risk_checks (county, scope, day, horizon_days, model, checked_at, figures) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (county, scope, horizon_days, day) DO UPDATE SET \
                 model = excluded.model, checked_at = excluded.checked_at, figures = excluded.figures",
            )
            .and_then(|mut s| {
                s.execute(params![
                    c.county.as_str(),
                    c.scope,
                    c.day.to_string(),
                    c.horizon_days,
                    c.model,
                    journal_time(c.checked_at),
                    c.figures.to_string()
                ])
            })
            .map_err(StoreError::backend)?;
        }
        Op::PruneRiskForecasts { before } => {
            conn.prepare_cached("DELETE FROM risk_forecasts WHERE day < ?1")
                .and_then(|mut s| s.execute([before.to_string()]))
                .map_err(StoreError::backend)?;
        }
        Op::InsertRiskEvents(events) => {
            let mut stmt = conn
                .prepare_cached(
                    "INSERT INTO risk_events (source, source_id, occurred_at, lon, lat, region, grid, category, severity, text) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (source, source_id) DO NOTHING",
                )
                .map_err(StoreError::backend)?;
            for e in events {
                stmt.execute(params![
                    e.source,
                    e.source_id,
                    journal_time(e.occurred_at),
                    e.lon,
                    e.lat,
                    e.region.as_str(),
                    e.grid,
                    e.category,
                    e.severity,
                    e.text
                ])
                .map_err(StoreError::backend)?;
            }
        }
        Op::PutSetting { key, value } => {
            conn.prepare_cached(
                "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .and_then(|mut s| s.execute(params![key, value]))
            .map_err(StoreError::backend)?;
        }
        Op::PutCase(case) => put_case(conn, case)?,
        Op::InsertNotifications(notes) => {
            let mut stmt = conn
                .prepare_cached(
                    "INSERT INTO notifications (recipient, case_id, case_number, reason, at) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(StoreError::backend)?;
            for n in notes {
                stmt.execute(params![n.recipient, n.case_id.to_string(), n.case_number, n.reason, journal_time(n.at)])
                    .map_err(StoreError::backend)?;
            }
        }
        Op::AdjustTallies(deltas) => {
            let mut stmt = conn
                .prepare_cached(
                    "INSERT INTO handler_tallies (handler, open_load, open_cases, assigned_total, reminders, yellow_cards, red_cards,
                         points, returns, closed, rating_sum, rating_count)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                     ON CONFLICT (handler) DO UPDATE SET
                         open_load = open_load + excluded.open_load, open_cases = open_cases + excluded.open_cases,
                         assigned_total = assigned_total + excluded.assigned_total, reminders = reminders + excluded.reminders,
                         yellow_cards = yellow_cards + excluded.yellow_cards, red_cards = red_cards + excluded.red_cards,
                         points = points + excluded.points, returns = returns + excluded.returns, closed = closed + excluded.closed,
                         rating_sum = rating_sum + excluded.rating_sum, rating_count = rating_count + excluded.rating_count",
                )
                .map_err(StoreError::backend)?;
            for d in deltas {
                stmt.execute(params![
                    d.handler,
                    d.open_load,
                    d.open_cases,
                    d.assigned_total,
                    d.reminders,
                    d.yellow_cards,
                    d.red_cards,
                    d.points,
                    d.returns,
                    d.closed,
                    d.rating_sum,
                    d.rating_count
                ])
                .map_err(StoreError::backend)?;
            }
        }
        Op::PutHandlerProfile(p) => {
            let json = |v: &Vec<String>| serde_json::to_string(v).unwrap_or_else(|_| "[]".into());
            conn.prepare_cached(
                "INSERT INTO handler_profiles (handler, on_duty, capacity, qualified, skills, conflicts) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (handler) DO UPDATE SET on_duty = excluded.on_duty, capacity = excluded.capacity,
                     qualified = excluded.qualified, skills = excluded.skills, conflicts = excluded.conflicts",
            )
            .and_then(|mut s| s.execute(params![p.handler, p.on_duty, p.capacity, p.qualified, json(&p.skills), json(&p.conflicts)]))
            .map_err(StoreError::backend)?;
        }
        Op::InsertSession(session) => {
            conn.prepare_cached(
                "INSERT INTO sessions (id_hash, account, csrf, created_at, expires_at, revoked) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    session.id_hash,
                    session.account.to_string(),
                    session.csrf,
                    journal_time(session.created_at),
                    journal_time(session.expires_at),
                    session.revoked
                ])
            })
            .map_err(constraint("session", &session.id_hash))?;
        }
        Op::RevokeSession { id_hash } => {
            let rows = conn
                .prepare_cached("UPDATE sessions SET revoked = 1 WHERE id_hash = ?1")
                .and_then(|mut s| s.execute([id_hash]))
                .map_err(StoreError::backend)?;
            must_touch(rows, "session", id_hash)?;
        }
        Op::RevokeAccountTokens { account } => {
            conn.prepare_cached("UPDATE api_tokens SET revoked = 1 WHERE account = ?1 AND revoked = 0")
                .and_then(|mut s| s.execute([account.to_string()]))
                .map_err(StoreError::backend)?;
        }
        Op::RevokeAccountSessions { account } => {
            conn.prepare_cached("UPDATE sessions SET revoked = 1 WHERE account = ?1 AND revoked = 0")
                .and_then(|mut s| s.execute([account.to_string()]))
                .map_err(StoreError::backend)?;
        }
        Op::PutLoginThrottle(t) => {
            conn.prepare_cached(
                "INSERT INTO login_throttles (login, failures, window_start, locked_until) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (login) DO UPDATE SET failures = excluded.failures, window_start = excluded.window_start,
                     locked_until = excluded.locked_until",
            )
            .and_then(|mut s| {
                s.execute(params![t.login, t.failures, journal_time(t.window_start), t.locked_until.map(journal_time)])
            })
            .map_err(StoreError::backend)?;
        }
        Op::ClearLoginThrottle { login } => {
            conn.prepare_cached("DELETE FROM login_throttles WHERE login = ?1")
                .and_then(|mut s| s.execute([login]))
                .map_err(StoreError::backend)?;
        }
        Op::InsertAttachment { record, bytes } => {
            let id = record.id.to_string();
            let size = i64::try_from(record.size).map_err(|_| StoreError::Backend(format!("attachment {id} is too large")))?;
            conn.prepare_cached(
                "INSERT INTO attachments (id, case_id, name, content_type, size, blake3, uploaded_by, uploaded_at, bytes)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    id,
                    record.case_id.map(|c| c.to_string()),
                    record.name,
                    record.content_type,
                    size,
                    record.blake3,
                    record.uploaded_by,
                    journal_time(record.uploaded_at),
                    bytes
                ])
            })
            .map_err(constraint("attachment", &id))?;
        }
        Op::AttachToCase { attachments, case } => {
            let case = case.to_string();
            let mut stmt =
                conn.prepare_cached("UPDATE attachments SET case_id = ?2 WHERE id = ?1").map_err(StoreError::backend)?;
            for id in attachments {
                let id = id.to_string();
                let rows = stmt.execute(params![id, case]).map_err(StoreError::backend)?;
                must_touch(rows, "attachment", &id)?;
            }
        }
    }
    Ok(())
}

/// The columns of a case that an action may change, in the order of [`changeable`].
const CHANGEABLE: [&str; 13] = [
    "state",
    "priority",
    "region",
    "unit",
    "person",
    "title",
    "tier",
    "closed_at",
    "due_at",
    "next_timer_at",
    "yellow_cards",
    "red_cards",
    "rating",
];

fn changeable(case: &fq_store::CaseRecord) -> [Value; 13] {
    let text = |t: &str| Value::Text(t.to_owned());
    let opt = |t: Option<String>| t.map_or(Value::Null, Value::Text);
    let time = |t: Option<chrono::DateTime<chrono::Utc>>| opt(t.map(journal_time));
    [
        text(&case.state),
        text(&case.priority),
        text(case.region.as_str()),
        opt(case.unit.map(|u| u.to_string())),
        opt(case.person.map(|p| p.to_string())),
        text(&case.title),
        case.tier.map_or(Value::Null, |t| Value::Integer(i64::from(t))),
        time(case.closed_at),
        time(case.due_at),
        time(case.next_timer_at),
        Value::Integer(i64::from(case.yellow_cards)),
        Value::Integer(i64::from(case.red_cards)),
        case.rating.map_or(Value::Null, |r| Value::Integer(i64::from(r))),
    ]
}

/// Inserts a new case, or updates an existing one setting only the columns whose value changed
/// (beside its version and snapshot). Why: SQLite rewrites the entries of every index on a column
/// named in SET, even to the same value, and each dirtied index page is another 4 KiB frame in
/// the WAL; an upsert naming every column wrote about three times the pages of an action.
fn put_case(conn: &Connection, case: &fq_store::CaseRecord) -> Result<(), StoreError> {
    let new = changeable(case);
    let old: Option<Vec<Value>> = conn
        .prepare_cached(&format!("SELECT {} FROM cases WHERE id = ?1", CHANGEABLE.join(", ")))
        .and_then(|mut s| {
            s.query_row([case.id.to_string()], |r| (0..CHANGEABLE.len()).map(|i| r.get::<_, Value>(i)).collect()).optional()
        })
        .map_err(StoreError::backend)?;
    let Some(old) = old else {
        let [state, priority, region, unit, person, title, tier, closed_at, due_at, next_timer_at, yellow, red, rating] = new;
        conn.prepare_cached(
            "INSERT INTO cases (id, number, number_series, number_seq, programme, kind, opened_at, version, snapshot,
                 state, priority, region, unit, person, title, tier, closed_at, due_at, next_timer_at, yellow_cards, red_cards, rating)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)",
        )
        .and_then(|mut s| {
            s.execute(params![
                case.id.to_string(),
                case.number,
                case.number_series,
                case.number_seq as i64,
                case.programme,
                case.kind,
                journal_time(case.opened_at),
                case.version as i64,
                case.snapshot,
                state,
                priority,
                region,
                unit,
                person,
                title,
                tier,
                closed_at,
                due_at,
                next_timer_at,
                yellow,
                red,
                rating
            ])
        })
        .map_err(constraint("case number", &case.number))?;
        return Ok(());
    };
    let mut sql = String::from("UPDATE cases SET version = ?1, snapshot = ?2");
    let mut args: Vec<Value> = vec![Value::Integer(case.version as i64), Value::Text(case.snapshot.clone())];
    for ((column, value), before) in CHANGEABLE.iter().zip(new).zip(old) {
        if value != before {
            args.push(value);
            sql.push_str(&format!(", {column} = ?{}", args.len()));
        }
    }
    args.push(Value::Text(case.id.to_string()));
    sql.push_str(&format!(" WHERE id = ?{}", args.len()));
    conn.prepare_cached(&sql)
        .and_then(|mut s| s.execute(rusqlite::params_from_iter(args)))
        .map_err(constraint("case number", &case.number))?;
    Ok(())
}

fn insert_grant(conn: &Connection, account: &str, grant: &fq_domain::account::RoleGrant) -> Result<(), StoreError> {
    let key = format!("{account} {} {}", grant.role, grant.scope.region);
    conn.prepare_cached("INSERT INTO role_grants (account, role, region, org) VALUES (?1, ?2, ?3, ?4)")
        .and_then(|mut s| {
            s.execute(params![account, grant.role.as_str(), grant.scope.region.as_str(), grant.scope.org.map(|o| o.to_string())])
        })
        .map_err(constraint("role grant", &key))?;
    Ok(())
}
