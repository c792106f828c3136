//! Reads of risk events.

use chrono::{DateTime, Utc};
use fq_domain::region::RegionCode;
use fq_store::{RiskEventRecord, StoreError};
use sqlx::{PgPool, Row};

fn db(e: sqlx::Error) -> StoreError {
    StoreError::backend(e)
}

pub(crate) async fn risk_events(
    pool: &PgPool,
    region: &RegionCode,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<RiskEventRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT source, source_id, occurred_at, lon, lat, region, grid, category, severity, text FROM risk_events \
         WHERE starts_with(region, $1) AND occurred_at >= $2 AND occurred_at < $3 ORDER BY occurred_at, source, source_id",
    )
    .bind(region.as_str())
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    rows.iter()
        .map(|r| {
            let region: String = r.try_get("region").map_err(db)?;
            Ok(RiskEventRecord {
                source: r.try_get("source").map_err(db)?,
                source_id: r.try_get("source_id").map_err(db)?,
                occurred_at: r.try_get("occurred_at").map_err(db)?,
                lon: r.try_get("lon").map_err(db)?,
                lat: r.try_get("lat").map_err(db)?,
                region: RegionCode::parse(&region).map_err(|e| StoreError::corrupt("risk event", e))?,
                grid: r.try_get("grid").map_err(db)?,
                category: r.try_get("category").map_err(db)?,
                severity: r.try_get("severity").map_err(db)?,
                text: r.try_get("text").map_err(db)?,
            })
        })
        .collect()
}

pub(crate) async fn risk_event_ids(pool: &PgPool, source: &str, ids: &[String]) -> Result<Vec<String>, StoreError> {
    let rows = sqlx::query("SELECT source_id FROM risk_events WHERE source = $1 AND source_id = ANY($2)")
        .bind(source)
        .bind(ids)
        .fetch_all(pool)
        .await
        .map_err(db)?;
    rows.iter().map(|r| r.try_get::<String, _>("source_id").map_err(db)).collect()
}

pub(crate) async fn risk_event_counties(
    pool: &PgPool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<RegionCode>, StoreError> {
    let rows = sqlx::query(
        "SELECT DISTINCT left(region, 6) AS county FROM risk_events WHERE occurred_at >= $1 AND occurred_at < $2 AND length(region) >= 6 ORDER BY 1",
    )
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    rows.iter()
        .map(|r| {
            let code: String = r.try_get("county").map_err(db)?;
            RegionCode::parse(&code).map_err(|e| StoreError::corrupt("risk event", e))
        })
        .collect()
}

/// The outermost of `regions`, each once, as (code, upper) ranges of the stored county codes:
/// a report in two of the ranges would be read twice.
fn county_ranges(regions: &[RegionCode]) -> (Vec<String>, Vec<String>) {
    let mut outer: Vec<&RegionCode> = regions.iter().filter(|r| !regions.iter().any(|o| o != *r && o.contains(r))).collect();
    outer.sort_unstable();
    outer.dedup();
    (outer.iter().map(ToString::to_string).collect(), outer.iter().map(|r| crate::reads::subtree_upper(r)).collect())
}

/// The counties of the stored reports under `regions` (as stored), each found by one search of
/// the (region, at) index, not by a walk over the reports: a skip scan PostgreSQL lacks.
async fn counties_under(conn: &mut sqlx::PgConnection, regions: &[RegionCode]) -> Result<Vec<String>, StoreError> {
    let (codes, uppers) = county_ranges(regions);
    // Two statements, not one with `$3 IS NULL OR region > $3`: in a generic plan that OR would
    // become a filter over every report of the counties found before.
    const FIRST: &str = "SELECT min(region) FROM positions WHERE region >= $1 AND region < $2";
    const NEXT: &str = "SELECT min(region) FROM positions WHERE region > $1 AND region < $2";
    let mut found: Vec<String> = Vec::new();
    for (code, upper) in codes.iter().zip(&uppers) {
        let mut after: Option<String> = None;
        loop {
            let (sql, from) = match &after {
                None => (FIRST, code),
                Some(last) => (NEXT, last),
            };
            let next: Option<String> = sqlx::query_scalar(sql).bind(from).bind(upper).fetch_one(&mut *conn).await.map_err(db)?;
            let Some(county) = next else { break };
            found.push(county.clone());
            after = Some(county);
        }
    }
    Ok(found)
}

fn position(r: &sqlx::postgres::PgRow) -> Result<fq_store::PositionRecord, StoreError> {
    Ok(fq_store::PositionRecord {
        subject: r.try_get("subject").map_err(db)?,
        at: r.try_get("at").map_err(db)?,
        lon: r.try_get("lon").map_err(db)?,
        lat: r.try_get("lat").map_err(db)?,
        source: r.try_get("source").map_err(db)?,
        region: r.try_get("region").map_err(db)?,
    })
}

pub(crate) async fn positions_in(
    pool: &PgPool,
    areas: &[fq_store::PositionArea],
    regions: Option<&[RegionCode]>,
) -> Result<Vec<fq_store::PositionRecord>, StoreError> {
    // One plain statement per area (and county), each an index range scan over the area's
    // hour, its place filtered within. Joined to the areas as an array instead, the planner
    // cannot see how narrow each hour is and chose to hash every report of the table (seconds).
    // All in one snapshot, so that a file stored meanwhile is seen whole or not at all.
    let mut tx = pool.begin().await.map_err(db)?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await.map_err(db)?;
    let counties = match regions {
        None => None,
        Some(regions) => Some(counties_under(&mut tx, regions).await?),
    };
    const EVERY_COUNTY: &str = "SELECT subject, at, lon, lat, source, region FROM positions WHERE at >= $1 AND at < $2 AND lon >= $3 AND lon <= $4 AND lat >= $5 AND lat <= $6";
    const ONE_COUNTY: &str = "SELECT subject, at, lon, lat, source, region FROM positions WHERE region = $7 AND at >= $1 AND at < $2 AND lon >= $3 AND lon <= $4 AND lat >= $5 AND lat <= $6";
    let mut out = Vec::new();
    for area in areas {
        let query = |sql| {
            sqlx::query(sql).bind(area.from).bind(area.to).bind(area.west).bind(area.east).bind(area.south).bind(area.north)
        };
        let rows = match &counties {
            None => query(EVERY_COUNTY).fetch_all(&mut *tx).await.map_err(db)?,
            Some(counties) => {
                let mut rows = Vec::new();
                for county in counties {
                    rows.extend(query(ONE_COUNTY).bind(county).fetch_all(&mut *tx).await.map_err(db)?);
                }
                rows
            }
        };
        for row in &rows {
            out.push(position(row)?);
        }
    }
    tx.commit().await.map_err(db)?;
    fq_store::order_and_dedup_positions(&mut out);
    Ok(out)
}

pub(crate) async fn positions_of(
    pool: &PgPool,
    subject: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    regions: Option<&[RegionCode]>,
) -> Result<Vec<fq_store::PositionRecord>, StoreError> {
    // The primary key (subject, at, region) finds them; a subject has few, so the regions are
    // a filter.
    let (codes, uppers) = regions.map(county_ranges).unwrap_or_default();
    let rows = sqlx::query(
        "SELECT p.subject, p.at, p.lon, p.lat, p.source, p.region FROM positions p WHERE p.subject = $1 AND p.at >= $2 AND p.at < $3 \
         AND ($4 OR EXISTS (SELECT 1 FROM UNNEST($5::text[], $6::text[]) AS r(code, upper) WHERE p.region >= r.code AND p.region < r.upper)) \
         ORDER BY p.at, p.region",
    )
    .bind(subject)
    .bind(from)
    .bind(to)
    .bind(regions.is_none())
    .bind(codes)
    .bind(uppers)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    rows.iter().map(position).collect()
}

pub(crate) async fn positions_known(
    pool: &PgPool,
    region: &str,
    reports: &[(String, DateTime<Utc>)],
) -> Result<usize, StoreError> {
    let mut known = 0usize;
    for chunk in reports.chunks(10_000) {
        let subjects: Vec<&str> = chunk.iter().map(|(s, _)| s.as_str()).collect();
        let times: Vec<DateTime<Utc>> = chunk.iter().map(|(_, t)| *t).collect();
        let row = sqlx::query(
            "SELECT count(*) AS n FROM positions p JOIN UNNEST($1::text[], $2::timestamptz[]) AS r(subject, at) \
             ON p.subject = r.subject AND p.at = r.at AND p.region = $3",
        )
        .bind(&subjects)
        .bind(&times)
        .bind(region)
        .fetch_one(pool)
        .await
        .map_err(db)?;
        known += usize::try_from(row.try_get::<i64, _>("n").map_err(db)?).unwrap_or(0);
    }
    Ok(known)
}

pub(crate) async fn risk_forecast(
    pool: &PgPool,
    county: &RegionCode,
    category: &str,
    day: chrono::NaiveDate,
    horizon_days: i32,
) -> Result<Option<fq_store::RiskForecastRecord>, StoreError> {
    let row = sqlx::query(
        "SELECT model, stored_events, made_at, cells FROM risk_forecasts \
         WHERE county = $1 AND category = $2 AND day = $3 AND horizon_days = $4",
    )
    .bind(county.as_str())
    .bind(category)
    .bind(day)
    .bind(horizon_days)
    .fetch_optional(pool)
    .await
    .map_err(db)?;
    let Some(row) = row else { return Ok(None) };
    let stored: i64 = row.try_get("stored_events").map_err(db)?;
    let cells: String = row.try_get("cells").map_err(db)?;
    Ok(Some(fq_store::RiskForecastRecord {
        county: county.clone(),
        category: category.to_owned(),
        day,
        horizon_days,
        model: row.try_get("model").map_err(db)?,
        stored_events: u64::try_from(stored).map_err(|e| StoreError::corrupt("risk forecast", e))?,
        made_at: row.try_get("made_at").map_err(db)?,
        cells: serde_json::from_str(&cells).map_err(|e| StoreError::corrupt("risk forecast", e))?,
    }))
}
