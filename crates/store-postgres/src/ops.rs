//! Projection writes for PostgreSQL, one arm per [`Op`]. Bulk operations send arrays through
//! `UNNEST` so that loading the division tree takes a handful of round trips, not 27,000.

use fq_domain::geometry::area_to_geojson_text;
use std::collections::HashMap;

use fq_store::{CaseRecord, Op, StoreError, TallyDelta};
use sqlx::PgConnection;

const CHUNK: usize = 5_000;

/// Maps a constraint failure to a domain-level conflict or missing reference.
fn constraint(entity: &'static str, key: impl Into<String>) -> impl FnOnce(sqlx::Error) -> StoreError {
    let key = key.into();
    move |err| match err.as_database_error() {
        Some(db) if db.is_unique_violation() => StoreError::Conflict { entity, key },
        Some(db) if db.is_foreign_key_violation() => {
            StoreError::Missing { entity: "a row referenced by", key: format!("{entity} {key}") }
        }
        _ => StoreError::backend(err),
    }
}

fn must_touch(rows: u64, entity: &'static str, key: &str) -> Result<(), StoreError> {
    if rows == 0 { Err(StoreError::Missing { entity, key: key.to_owned() }) } else { Ok(()) }
}

pub(crate) async fn apply(conn: &mut PgConnection, op: &Op) -> Result<(), StoreError> {
    match op {
        Op::UpsertRegions(regions) => {
            for chunk in regions.chunks(CHUNK) {
                let codes: Vec<&str> = chunk.iter().map(|r| r.code.as_str()).collect();
                let names: Vec<&str> = chunk.iter().map(|r| r.name.as_str()).collect();
                let levels: Vec<i16> = chunk.iter().map(|r| i16::from(r.level().rank())).collect();
                let parents: Vec<Option<String>> = chunk.iter().map(|r| r.code.parent().map(String::from)).collect();
                let retired: Vec<bool> = chunk.iter().map(|r| r.retired).collect();
                sqlx::query(
                    "INSERT INTO regions (code, name, level, parent, retired)
                     SELECT * FROM UNNEST($1::text[], $2::text[], $3::smallint[], $4::text[], $5::boolean[])
                     ON CONFLICT (code) DO UPDATE SET name = excluded.name, retired = excluded.retired",
                )
                .bind(codes)
                .bind(names)
                .bind(levels)
                .bind(parents)
                .bind(retired)
                .execute(&mut *conn)
                .await
                .map_err(constraint("region", chunk[0].code.as_str()))?;
            }
        }
        Op::RenameRegion { code, name } => {
            let done = sqlx::query("UPDATE regions SET name = $2 WHERE code = $1")
                .bind(code.as_str())
                .bind(name)
                .execute(&mut *conn)
                .await
                .map_err(StoreError::backend)?;
            must_touch(done.rows_affected(), "region", code.as_str())?;
        }
        Op::RetireRegions(codes) => {
            let texts: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
            let done = sqlx::query("UPDATE regions SET retired = TRUE WHERE code = ANY($1)")
                .bind(&texts)
                .execute(&mut *conn)
                .await
                .map_err(StoreError::backend)?;
            if done.rows_affected() != codes.len() as u64 {
                return Err(StoreError::Missing { entity: "region", key: texts.join(",") });
            }
        }
        Op::UpsertBoundaries(boundaries) => {
            for chunk in boundaries.chunks(CHUNK) {
                let codes: Vec<&str> = chunk.iter().map(|b| b.code.as_str()).collect();
                let names: Vec<&str> = chunk.iter().map(|b| b.name.as_str()).collect();
                let shapes: Vec<String> = chunk.iter().map(|b| area_to_geojson_text(&b.area)).collect();
                sqlx::query(
                    "INSERT INTO region_boundaries (code, name, geojson)
                     SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[])
                     ON CONFLICT (code) DO UPDATE SET name = excluded.name, geojson = excluded.geojson",
                )
                .bind(codes)
                .bind(names)
                .bind(shapes)
                .execute(&mut *conn)
                .await
                .map_err(constraint("boundary", chunk[0].code.as_str()))?;
            }
        }
        Op::InsertGrids(grids) => {
            // One row at a time: a taken code must be reported by name.
            for grid in grids {
                let [min_lon, min_lat, max_lon, max_lat] = grid.bbox();
                sqlx::query(
                    "INSERT INTO grids (code, name, region, kind, generated, min_lon, min_lat, max_lon, max_lat, geojson)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(grid.code.as_str())
                .bind(&grid.name)
                .bind(grid.region.as_str())
                .bind(grid.kind.as_str())
                .bind(grid.generated)
                .bind(min_lon)
                .bind(min_lat)
                .bind(max_lon)
                .bind(max_lat)
                .bind(area_to_geojson_text(&grid.area))
                .execute(&mut *conn)
                .await
                .map_err(constraint("grid", grid.code.as_str()))?;
            }
        }
        Op::DeleteGeneratedGrids(codes) => {
            for code in codes {
                let done = sqlx::query("DELETE FROM grids WHERE code = $1 AND generated")
                    .bind(code.as_str())
                    .execute(&mut *conn)
                    .await
                    .map_err(StoreError::backend)?;
                must_touch(done.rows_affected(), "generated grid", code.as_str())?;
            }
        }
        Op::InsertOrganisation(org) => {
            sqlx::query("INSERT INTO organisations (id, name, kind, region, parent, demo) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(org.id.0)
                .bind(&org.name)
                .bind(org.kind.as_str())
                .bind(org.region.as_str())
                .bind(org.parent.map(|p| p.0))
                .bind(org.demo)
                .execute(&mut *conn)
                .await
                .map_err(constraint("organisation", org.id.to_string()))?;
        }
        Op::InsertAccount { account, password_hash } => {
            sqlx::query(
                "INSERT INTO accounts (id, login, display_name, org, disabled, demo, password_hash) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(account.id.0)
            .bind(account.login.as_str())
            .bind(&account.display_name)
            .bind(account.org.0)
            .bind(account.disabled)
            .bind(account.demo)
            .bind(password_hash)
            .execute(&mut *conn)
            .await
            .map_err(constraint("account", account.login.as_str()))?;
            for grant in &account.grants {
                insert_grant(conn, account.id.0, grant).await?;
            }
        }
        Op::AddRoleGrant { account, grant } => insert_grant(conn, account.0, grant).await?,
        Op::SetAccountDisabled { account, disabled } => {
            let done = sqlx::query("UPDATE accounts SET disabled = $2 WHERE id = $1")
                .bind(account.0)
                .bind(disabled)
                .execute(&mut *conn)
                .await
                .map_err(StoreError::backend)?;
            must_touch(done.rows_affected(), "account", &account.to_string())?;
        }
        Op::InsertApiToken(token) => {
            sqlx::query(
                "INSERT INTO api_tokens (id, account, label, secret_hash, created_at, expires_at, revoked) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(token.id)
            .bind(token.account.0)
            .bind(&token.label)
            .bind(&token.secret_hash)
            .bind(token.created_at)
            .bind(token.expires_at)
            .bind(token.revoked)
            .execute(&mut *conn)
            .await
            .map_err(constraint("API token", token.id.to_string()))?;
        }
        Op::RevokeApiToken { token } => {
            let done = sqlx::query("UPDATE api_tokens SET revoked = TRUE WHERE id = $1")
                .bind(token)
                .execute(&mut *conn)
                .await
                .map_err(StoreError::backend)?;
            must_touch(done.rows_affected(), "API token", &token.to_string())?;
        }
        Op::InsertPositions(reports) => {
            // One statement per 10,000 reports: an AIS day is millions of rows.
            for chunk in reports.chunks(10_000) {
                let subjects: Vec<&str> = chunk.iter().map(|p| p.subject.as_str()).collect();
                let times: Vec<chrono::DateTime<chrono::Utc>> = chunk.iter().map(|p| p.at).collect();
                let lons: Vec<f64> = chunk.iter().map(|p| p.lon).collect();
                let lats: Vec<f64> = chunk.iter().map(|p| p.lat).collect();
                let sources: Vec<&str> = chunk.iter().map(|p| p.source.as_str()).collect();
                let regions: Vec<&str> = chunk.iter().map(|p| p.region.as_str()).collect();
                sqlx::query(
                    "INSERT INTO positions (subject, at, lon, lat, source, region) \
                     SELECT * FROM UNNEST($1::text[], $2::timestamptz[], $3::float8[], $4::float8[], $5::text[], $6::text[]) \
                     ON CONFLICT (subject, at, region) DO NOTHING",
                )
                .bind(&subjects)
                .bind(&times)
                .bind(&lons)
                .bind(&lats)
                .bind(&sources)
                .bind(&regions)
                .execute(&mut *conn)
                .await
                .map_err(StoreError::backend)?;
            }
        }
        Op::PutRiskForecast(f) => {
            let cells = serde_json::to_string(&f.cells).map_err(StoreError::backend)?;
            sqlx::query(
                "INSERT INTO risk_forecasts (county, category, day, horizon_days, model, stored_events, made_at, cells) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (county, category, day, horizon_days) DO UPDATE SET \
                 model = excluded.model, stored_events = excluded.stored_events, made_at = excluded.made_at, \
                 cells = excluded.cells \
                 WHERE excluded.stored_events > risk_forecasts.stored_events OR excluded.model <> risk_forecasts.model",
            )
            .bind(f.county.as_str())
            .bind(&f.category)
            .bind(f.day)
            .bind(f.horizon_days)
            .bind(&f.model)
            .bind(i64::try_from(f.stored_events).unwrap_or(i64::MAX))
            .bind(f.made_at)
            .bind(cells)
            .execute(&mut *conn)
            .await
            .map_err(StoreError::backend)?;
        }
        Op::PutRiskCheck(c) => {
            sqlx::query(
                "INSERT INTO risk_checks (county, scope, day, horizon_days, model, checked_at, figures) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (county, scope, horizon_days, day) DO UPDATE SET \
                 model = excluded.model, checked_at = excluded.checked_at, figures = excluded.figures",
            )
            .bind(c.county.as_str())
            .bind(&c.scope)
            .bind(c.day)
            .bind(c.horizon_days)
            .bind(&c.model)
            .bind(c.checked_at)
            .bind(c.figures.to_string())
            .execute(&mut *conn)
            .await
            .map_err(StoreError::backend)?;
        }
        Op::PruneRiskForecasts { before } => {
            sqlx::query("DELETE FROM risk_forecasts WHERE day < $1")
                .bind(before)
                .execute(&mut *conn)
                .await
                .map_err(StoreError::backend)?;
        }
        Op::InsertRiskEvents(events) => {
            for e in events {
                sqlx::query(
                    "INSERT INTO risk_events (source, source_id, occurred_at, lon, lat, region, grid, category, severity, text) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (source, source_id) DO NOTHING",
                )
                .bind(&e.source)
                .bind(&e.source_id)
                .bind(e.occurred_at)
                .bind(e.lon)
                .bind(e.lat)
                .bind(e.region.as_str())
                .bind(&e.grid)
                .bind(&e.category)
                .bind(e.severity)
                .bind(&e.text)
                .execute(&mut *conn)
                .await
                .map_err(StoreError::backend)?;
            }
        }
        Op::PutSetting { key, value } => {
            sqlx::query(
                "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(key)
            .bind(value)
            .execute(&mut *conn)
            .await
            .map_err(StoreError::backend)?;
        }
        Op::PutCase(case) => put_case(conn, case).await?,
        Op::InsertNotifications(notes) => {
            for chunk in notes.chunks(CHUNK) {
                let recipients: Vec<&str> = chunk.iter().map(|n| n.recipient.as_str()).collect();
                let cases: Vec<uuid::Uuid> = chunk.iter().map(|n| n.case_id.0).collect();
                let numbers: Vec<&str> = chunk.iter().map(|n| n.case_number.as_str()).collect();
                let reasons: Vec<&str> = chunk.iter().map(|n| n.reason.as_str()).collect();
                let ats: Vec<chrono::DateTime<chrono::Utc>> = chunk.iter().map(|n| n.at).collect();
                // Ids follow the list's order: the last notification of a list is the newest.
                sqlx::query(
                    "INSERT INTO notifications (recipient, case_id, case_number, reason, at)
                     SELECT recipient, case_id, case_number, reason, at
                     FROM UNNEST($1::text[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[])
                          WITH ORDINALITY AS n (recipient, case_id, case_number, reason, at, ord)
                     ORDER BY ord",
                )
                .bind(recipients)
                .bind(cases)
                .bind(numbers)
                .bind(reasons)
                .bind(ats)
                .execute(&mut *conn)
                .await
                .map_err(StoreError::backend)?;
            }
        }
        Op::AdjustTallies(deltas) => adjust_tallies(conn, deltas).await?,
        Op::PutHandlerProfile(p) => {
            sqlx::query(
                "INSERT INTO handler_profiles (handler, on_duty, capacity, qualified, skills, conflicts) VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (handler) DO UPDATE SET on_duty = excluded.on_duty, capacity = excluded.capacity,
                     qualified = excluded.qualified, skills = excluded.skills, conflicts = excluded.conflicts",
            )
            .bind(&p.handler)
            .bind(p.on_duty)
            .bind(p.capacity)
            .bind(p.qualified)
            .bind(&p.skills)
            .bind(&p.conflicts)
            .execute(&mut *conn)
            .await
            .map_err(StoreError::backend)?;
        }
        Op::InsertSession(session) => {
            sqlx::query(
                "INSERT INTO sessions (id_hash, account, csrf, created_at, expires_at, revoked) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&session.id_hash)
            .bind(session.account.0)
            .bind(&session.csrf)
            .bind(session.created_at)
            .bind(session.expires_at)
            .bind(session.revoked)
            .execute(&mut *conn)
            .await
            .map_err(constraint("session", session.id_hash.as_str()))?;
        }
        Op::RevokeSession { id_hash } => {
            let done = sqlx::query("UPDATE sessions SET revoked = TRUE WHERE id_hash = $1")
                .bind(id_hash)
                .execute(&mut *conn)
                .await
                .map_err(StoreError::backend)?;
            must_touch(done.rows_affected(), "session", id_hash)?;
        }
        Op::RevokeAccountTokens { account } => {
            sqlx::query("UPDATE api_tokens SET revoked = TRUE WHERE account = $1 AND NOT revoked")
                .bind(account.0)
                .execute(&mut *conn)
                .await
                .map_err(StoreError::backend)?;
        }
        Op::RevokeAccountSessions { account } => {
            sqlx::query("UPDATE sessions SET revoked = TRUE WHERE account = $1 AND NOT revoked")
                .bind(account.0)
                .execute(&mut *conn)
                .await
                .map_err(StoreError::backend)?;
        }
        Op::PutLoginThrottle(t) => {
            sqlx::query(
                "INSERT INTO login_throttles (login, failures, window_start, locked_until) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (login) DO UPDATE SET failures = excluded.failures, window_start = excluded.window_start,
                     locked_until = excluded.locked_until",
            )
            .bind(&t.login)
            .bind(i64::from(t.failures))
            .bind(t.window_start)
            .bind(t.locked_until)
            .execute(&mut *conn)
            .await
            .map_err(StoreError::backend)?;
        }
        Op::ClearLoginThrottle { login } => {
            sqlx::query("DELETE FROM login_throttles WHERE login = $1")
                .bind(login)
                .execute(&mut *conn)
                .await
                .map_err(StoreError::backend)?;
        }
        Op::InsertAttachment { record, bytes } => {
            let size =
                i64::try_from(record.size).map_err(|_| StoreError::Backend(format!("attachment {} is too large", record.id)))?;
            sqlx::query(
                "INSERT INTO attachments (id, case_id, name, content_type, size, blake3, uploaded_by, uploaded_at, bytes)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(record.id)
            .bind(record.case_id.map(|c| c.0))
            .bind(&record.name)
            .bind(&record.content_type)
            .bind(size)
            .bind(&record.blake3)
            .bind(&record.uploaded_by)
            .bind(record.uploaded_at)
            .bind(bytes.as_slice())
            .execute(&mut *conn)
            .await
            .map_err(constraint("attachment", record.id.to_string()))?;
        }
        Op::AttachToCase { attachments, case } => {
            for id in attachments {
                let done = sqlx::query("UPDATE attachments SET case_id = $2 WHERE id = $1")
                    .bind(id)
                    .bind(case.0)
                    .execute(&mut *conn)
                    .await
                    .map_err(StoreError::backend)?;
                must_touch(done.rows_affected(), "attachment", &id.to_string())?;
            }
        }
    }
    Ok(())
}

/// Inserts a case or replaces the row with the same id (its number, series, programme, kind and
/// opening time stay). A number used by another case is a conflict.
async fn put_case(conn: &mut PgConnection, case: &CaseRecord) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO cases (id, number, number_series, number_seq, programme, kind, state, priority, region, unit, person, title,
             tier, opened_at, closed_at, due_at, next_timer_at, yellow_cards, red_cards, rating, version, snapshot)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)
         ON CONFLICT (id) DO UPDATE SET state = excluded.state, priority = excluded.priority, region = excluded.region,
             unit = excluded.unit, person = excluded.person, title = excluded.title, tier = excluded.tier,
             closed_at = excluded.closed_at, due_at = excluded.due_at, next_timer_at = excluded.next_timer_at,
             yellow_cards = excluded.yellow_cards, red_cards = excluded.red_cards, rating = excluded.rating,
             version = excluded.version, snapshot = excluded.snapshot",
    )
    .bind(case.id.0)
    .bind(&case.number)
    .bind(&case.number_series)
    .bind(case.number_seq as i64)
    .bind(&case.programme)
    .bind(&case.kind)
    .bind(&case.state)
    .bind(&case.priority)
    .bind(case.region.as_str())
    .bind(case.unit.map(|u| u.0))
    .bind(case.person.map(|p| p.0))
    .bind(&case.title)
    .bind(case.tier.map(i64::from))
    .bind(case.opened_at)
    .bind(case.closed_at)
    .bind(case.due_at)
    .bind(case.next_timer_at)
    .bind(i64::from(case.yellow_cards))
    .bind(i64::from(case.red_cards))
    .bind(case.rating.map(i16::from))
    .bind(case.version as i64)
    .bind(&case.snapshot)
    .execute(&mut *conn)
    .await
    .map_err(constraint("case number", case.number.as_str()))?;
    Ok(())
}

/// Adds deltas to handlers' tallies. Deltas for the same handler are summed first (in list
/// order): one `INSERT ... ON CONFLICT` cannot touch a row twice.
async fn adjust_tallies(conn: &mut PgConnection, deltas: &[TallyDelta]) -> Result<(), StoreError> {
    let mut sums: Vec<TallyDelta> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for d in deltas {
        let at = *index.entry(d.handler.as_str()).or_insert_with(|| {
            sums.push(TallyDelta::new(d.handler.clone()));
            sums.len() - 1
        });
        sums[at].add(d);
    }
    for chunk in sums.chunks(CHUNK) {
        let column = |f: fn(&TallyDelta) -> i64| chunk.iter().map(f).collect::<Vec<i64>>();
        sqlx::query(
            "INSERT INTO handler_tallies (handler, open_load, open_cases, assigned_total, reminders, yellow_cards, red_cards,
                 points, returns, closed, rating_sum, rating_count)
             SELECT * FROM UNNEST($1::text[], $2::float8[], $3::int8[], $4::int8[], $5::int8[], $6::int8[], $7::int8[],
                 $8::int8[], $9::int8[], $10::int8[], $11::int8[], $12::int8[])
             ON CONFLICT (handler) DO UPDATE SET
                 open_load = handler_tallies.open_load + excluded.open_load,
                 open_cases = handler_tallies.open_cases + excluded.open_cases,
                 assigned_total = handler_tallies.assigned_total + excluded.assigned_total,
                 reminders = handler_tallies.reminders + excluded.reminders,
                 yellow_cards = handler_tallies.yellow_cards + excluded.yellow_cards,
                 red_cards = handler_tallies.red_cards + excluded.red_cards,
                 points = handler_tallies.points + excluded.points,
                 returns = handler_tallies.returns + excluded.returns,
                 closed = handler_tallies.closed + excluded.closed,
                 rating_sum = handler_tallies.rating_sum + excluded.rating_sum,
                 rating_count = handler_tallies.rating_count + excluded.rating_count",
        )
        .bind(chunk.iter().map(|d| d.handler.as_str()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|d| d.open_load).collect::<Vec<f64>>())
        .bind(column(|d| d.open_cases))
        .bind(column(|d| d.assigned_total))
        .bind(column(|d| d.reminders))
        .bind(column(|d| d.yellow_cards))
        .bind(column(|d| d.red_cards))
        .bind(column(|d| d.points))
        .bind(column(|d| d.returns))
        .bind(column(|d| d.closed))
        .bind(column(|d| d.rating_sum))
        .bind(column(|d| d.rating_count))
        .execute(&mut *conn)
        .await
        .map_err(StoreError::backend)?;
    }
    Ok(())
}

async fn insert_grant(
    conn: &mut PgConnection,
    account: uuid::Uuid,
    grant: &fq_domain::account::RoleGrant,
) -> Result<(), StoreError> {
    let key = format!("{account} {} {}", grant.role, grant.scope.region);
    sqlx::query("INSERT INTO role_grants (account, role, region, org) VALUES ($1, $2, $3, $4)")
        .bind(account)
        .bind(grant.role.as_str())
        .bind(grant.scope.region.as_str())
        .bind(grant.scope.org.map(|o| o.0))
        .execute(&mut *conn)
        .await
        .map_err(constraint("role grant", key))?;
    Ok(())
}
