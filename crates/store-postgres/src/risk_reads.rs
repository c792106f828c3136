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

/// A read-only transaction at REPEATABLE READ: every statement in it sees one snapshot, so that
/// a file stored meanwhile is seen whole or not at all.
async fn snapshot(pool: &PgPool) -> Result<sqlx::Transaction<'_, sqlx::Postgres>, StoreError> {
    let mut tx = pool.begin().await.map_err(db)?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await.map_err(db)?;
    Ok(tx)
}

pub(crate) async fn positions_in(
    pool: &PgPool,
    areas: &[fq_store::PositionArea],
    regions: Option<&[RegionCode]>,
) -> Result<Vec<fq_store::PositionRecord>, StoreError> {
    let mut tx = snapshot(pool).await?;
    let out = read_areas(&mut tx, areas, regions).await?;
    tx.commit().await.map_err(db)?;
    Ok(out)
}

pub(crate) async fn positions_around(
    pool: &PgPool,
    subject: &str,
    window: (DateTime<Utc>, DateTime<Utc>),
    regions: Option<&[RegionCode]>,
    areas_of: &fq_store::AreasAround,
) -> Result<fq_store::PositionsAround, StoreError> {
    let mut tx = snapshot(pool).await?;
    let own = read_subject(&mut tx, subject, window, regions).await?;
    let near = read_areas(&mut tx, &areas_of(&own), regions).await?;
    tx.commit().await.map_err(db)?;
    Ok(fq_store::PositionsAround { own, near })
}

/// Keeps the reports of feeds whose county lies in one of the ranges `$2`, `$3` (codes and their
/// uppers: `county_ranges` of the regions asked for), or every report when `$1` is true.
macro_rules! readable {
    () => {
        "($1 OR EXISTS (SELECT 1 FROM UNNEST($2::text[], $3::text[]) AS r(code, upper) WHERE p.region >= r.code AND p.region < r.upper))"
    };
}

/// The reports in the areas `$4` to `$10` (one row each: a place cell, from, to, west, east,
/// south, north) whose feeds are readable (`$1` to `$3`), found by `$key` then time.
macro_rules! in_areas {
    ($key:literal) => {
        concat!(
            "SELECT p.subject, p.at, p.lon, p.lat, p.source, p.region \
             FROM UNNEST($4::bigint[], $5::timestamptz[], $6::timestamptz[], $7::float8[], $8::float8[], $9::float8[], $10::float8[]) \
             AS b(cell, f, t, w, e, s, n) \
             CROSS JOIN LATERAL (SELECT subject, at, lon, lat, source, region FROM positions WHERE ",
            $key,
            "at >= b.f AND at < b.t AND lon >= b.w AND lon <= b.e AND lat >= b.s AND lat <= b.n OFFSET 0) p WHERE ",
            readable!()
        )
    };
}

/// Binds `readable!`'s parameters for `regions` (None: every report).
fn bind_readable<'q>(
    query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    regions: Option<&[RegionCode]>,
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    let (codes, uppers) = regions.map(county_ranges).unwrap_or_default();
    query.bind(regions.is_none()).bind(codes).bind(uppers)
}

async fn read_subject(
    conn: &mut sqlx::PgConnection,
    subject: &str,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    regions: Option<&[RegionCode]>,
) -> Result<Vec<fq_store::PositionRecord>, StoreError> {
    // The primary key (subject, at, region) finds them; a subject has few, so the regions are
    // a filter.
    const SQL: &str = concat!(
        "SELECT p.subject, p.at, p.lon, p.lat, p.source, p.region FROM positions p WHERE p.subject = $4 AND p.at >= $5 AND p.at < $6 AND ",
        readable!(),
        " ORDER BY p.at, p.region"
    );
    let rows =
        bind_readable(sqlx::query(SQL), regions).bind(subject).bind(from).bind(to).fetch_all(&mut *conn).await.map_err(db)?;
    rows.iter().map(position).collect()
}

/// The columns of the areas to read, one row per (place cell, area) or per area.
#[derive(Default)]
struct AreaRows {
    cells: Vec<i64>,
    from: Vec<DateTime<Utc>>,
    to: Vec<DateTime<Utc>>,
    west: Vec<f64>,
    east: Vec<f64>,
    south: Vec<f64>,
    north: Vec<f64>,
}

impl AreaRows {
    fn push(&mut self, cell: i64, area: &fq_store::PositionArea) {
        self.cells.push(cell);
        self.from.push(area.from);
        self.to.push(area.to);
        self.west.push(area.west);
        self.east.push(area.east);
        self.south.push(area.south);
        self.north.push(area.north);
    }
}

async fn read_areas(
    conn: &mut sqlx::PgConnection,
    areas: &[fq_store::PositionArea],
    regions: Option<&[RegionCode]>,
) -> Result<Vec<fq_store::PositionRecord>, StoreError> {
    // Each area is read through the (cell, at) index, one index range per cell it covers and
    // its place filtered within; an area of too many cells through the time index. One
    // statement for each kind, the areas given as arrays: the LATERAL subquery (kept apart from
    // the join by OFFSET 0) makes the planner run one index scan per row of areas, where a plain
    // join of the arrays to the table was planned as a hash of every report of the table.
    let (mut by_cell, mut by_time) = (AreaRows::default(), AreaRows::default());
    for area in areas {
        match area.cells() {
            Some(cells) => cells.into_iter().for_each(|cell| by_cell.push(cell, area)),
            None => by_time.push(0, area),
        }
    }
    let mut out = Vec::new();
    for (rows, sql) in [(by_cell, in_areas!("cell = b.cell AND ")), (by_time, in_areas!(""))] {
        if rows.cells.is_empty() {
            continue;
        }
        let found = bind_readable(sqlx::query(sql), regions)
            .bind(rows.cells)
            .bind(rows.from)
            .bind(rows.to)
            .bind(rows.west)
            .bind(rows.east)
            .bind(rows.south)
            .bind(rows.north)
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?;
        for row in &found {
            out.push(position(row)?);
        }
    }
    fq_store::order_and_dedup_positions(&mut out);
    Ok(out)
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

pub(crate) async fn risk_checks(
    pool: &PgPool,
    county: &RegionCode,
    scope: &str,
    horizon_days: i32,
    (from, before): (chrono::NaiveDate, chrono::NaiveDate),
) -> Result<Vec<fq_store::RiskCheckRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT day, model, checked_at, figures FROM risk_checks \
         WHERE county = $1 AND scope = $2 AND horizon_days = $3 AND day >= $4 AND day < $5 ORDER BY day DESC",
    )
    .bind(county.as_str())
    .bind(scope)
    .bind(horizon_days)
    .bind(from)
    .bind(before)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    rows.iter()
        .map(|row| {
            let figures: String = row.try_get("figures").map_err(db)?;
            Ok(fq_store::RiskCheckRecord {
                county: county.clone(),
                scope: scope.to_owned(),
                day: row.try_get("day").map_err(db)?,
                horizon_days,
                model: row.try_get("model").map_err(db)?,
                checked_at: row.try_get("checked_at").map_err(db)?,
                figures: serde_json::from_str(&figures).map_err(|e| StoreError::corrupt("risk check", e))?,
            })
        })
        .collect()
}
