//! Projection writes, one function per [`Op`], run by the writer inside a change's savepoint.

use fq_domain::geometry::area_to_geojson_text;
use fq_domain::journal::journal_time;
use fq_store::{Op, StoreError};
use rusqlite::{Connection, ErrorCode, params};

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
        Op::PutSetting { key, value } => {
            conn.prepare_cached(
                "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .and_then(|mut s| s.execute(params![key, value]))
            .map_err(StoreError::backend)?;
        }
    }
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
