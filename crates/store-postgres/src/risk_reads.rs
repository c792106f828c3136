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

pub(crate) async fn positions_between(
    pool: &PgPool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    regions: Option<&[RegionCode]>,
) -> Result<Vec<fq_store::PositionRecord>, StoreError> {
    // Every region: the time range alone (the `at` index). Some regions: each one's codes are a
    // range (`subtree_upper`) joined to the table, so that the (region, at) index is scanned over
    // each range (the time filtered within it); a filter over the time range's rows instead runs
    // a subquery on every report of every county (a county's 72 hours took over a second at a
    // province's scale). Reports of one subject at one time from two feeds come by county, as
    // SQLite's do.
    let rows = match regions {
        None => sqlx::query(
            "SELECT subject, at, lon, lat, source, region FROM positions WHERE at >= $1 AND at < $2 ORDER BY at, subject, region",
        )
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await,
        Some(regions) => {
            // Only the outermost regions, each once: a report in two of the ranges would be
            // read twice.
            let mut outer: Vec<&RegionCode> =
                regions.iter().filter(|r| !regions.iter().any(|o| o != *r && o.contains(r))).collect();
            outer.sort_unstable();
            outer.dedup();
            let codes: Vec<String> = outer.iter().map(ToString::to_string).collect();
            let uppers: Vec<String> = outer.iter().map(|r| crate::reads::subtree_upper(r)).collect();
            sqlx::query(
                "SELECT p.subject, p.at, p.lon, p.lat, p.source, p.region \
                 FROM UNNEST($3::text[], $4::text[]) AS r(code, upper) \
                 JOIN positions p ON p.region >= r.code AND p.region < r.upper AND p.at >= $1 AND p.at < $2 \
                 ORDER BY p.at, p.subject, p.region",
            )
            .bind(from)
            .bind(to)
            .bind(codes)
            .bind(uppers)
            .fetch_all(pool)
            .await
        }
    }
    .map_err(db)?;
    rows.iter()
        .map(|r| {
            Ok(fq_store::PositionRecord {
                subject: r.try_get("subject").map_err(db)?,
                at: r.try_get("at").map_err(db)?,
                lon: r.try_get("lon").map_err(db)?,
                lat: r.try_get("lat").map_err(db)?,
                source: r.try_get("source").map_err(db)?,
                region: r.try_get("region").map_err(db)?,
            })
        })
        .collect()
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
