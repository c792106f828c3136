//! Projection writes for PostgreSQL, one arm per [`Op`]. Bulk operations send arrays through
//! `UNNEST` so that loading the division tree takes a handful of round trips, not 27,000.

use fq_domain::geometry::area_to_geojson_text;
use fq_store::{Op, StoreError};
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
