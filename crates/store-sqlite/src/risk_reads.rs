//! Reads of risk events.

use chrono::{DateTime, Utc};
use fq_domain::journal::journal_time;
use fq_domain::region::RegionCode;
use fq_store::{RiskEventRecord, StoreError};
use rusqlite::{Connection, params, params_from_iter};

use crate::decode;

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::backend(e)
}

pub(crate) fn risk_events(
    conn: &Connection,
    region: &RegionCode,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<RiskEventRecord>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT source, source_id, occurred_at, lon, lat, region, grid, category, severity, text FROM risk_events \
             WHERE substr(region, 1, length(?1)) = ?1 AND occurred_at >= ?2 AND occurred_at < ?3 ORDER BY occurred_at, source, source_id",
        )
        .map_err(db)?;
    let rows = stmt
        .query_map(params![region.as_str(), journal_time(from), journal_time(to)], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<f64>>(3)?,
                r.get::<_, Option<f64>>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, i16>(8)?,
                r.get::<_, String>(9)?,
            ))
        })
        .map_err(db)?;
    let mut out = Vec::new();
    for row in rows {
        let (source, source_id, at, lon, lat, region, grid, category, severity, text) = row.map_err(db)?;
        out.push(RiskEventRecord {
            source,
            source_id,
            occurred_at: decode::time(&at).map_err(|e| StoreError::corrupt("risk event", e))?,
            lon,
            lat,
            region: RegionCode::parse(&region).map_err(|e| StoreError::corrupt("risk event", e))?,
            grid,
            category,
            severity,
            text,
        });
    }
    Ok(out)
}

pub(crate) fn risk_event_ids(conn: &Connection, source: &str, ids: &[String]) -> Result<Vec<String>, StoreError> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT source_id FROM risk_events WHERE source = ? AND source_id IN ({})",
            std::iter::repeat_n("?", chunk.len()).collect::<Vec<_>>().join(", ")
        );
        let mut stmt = conn.prepare(&sql).map_err(db)?;
        let values = std::iter::once(source.to_owned()).chain(chunk.iter().cloned());
        let rows = stmt.query_map(params_from_iter(values), |r| r.get::<_, String>(0)).map_err(db)?;
        for row in rows {
            out.push(row.map_err(db)?);
        }
    }
    Ok(out)
}

pub(crate) fn risk_event_counties(
    conn: &Connection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<RegionCode>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT DISTINCT substr(region, 1, 6) FROM risk_events WHERE occurred_at >= ?1 AND occurred_at < ?2 AND length(region) >= 6 ORDER BY 1",
        )
        .map_err(db)?;
    let codes = stmt.query_map(params![journal_time(from), journal_time(to)], |r| r.get::<_, String>(0)).map_err(db)?;
    let mut out = Vec::new();
    for code in codes {
        out.push(RegionCode::parse(&code.map_err(db)?).map_err(|e| StoreError::corrupt("risk event", e))?);
    }
    Ok(out)
}

/// The counties (as stored: six digits, or empty for reports of no county) of the feeds whose
/// reports `regions` may read: every one (None), or those under one of `regions`.
fn counties_of(conn: &Connection, regions: Option<&[RegionCode]>) -> Result<Vec<String>, StoreError> {
    let bounds: Vec<(String, Option<String>)> = match regions {
        None => vec![(String::new(), None)],
        Some(regions) => regions.iter().map(|r| (r.to_string(), Some(crate::reads::subtree_upper(r)))).collect(),
    };
    let mut counties = Vec::new();
    for (lower, upper) in &bounds {
        counties.extend(regions_between(conn, lower, upper.as_deref())?);
    }
    counties.sort_unstable();
    counties.dedup();
    Ok(counties)
}

/// A report's columns as read: subject, at, lon, lat, source.
type RawPosition = (String, String, f64, f64, String);

fn raw_position(row: &rusqlite::Row<'_>) -> rusqlite::Result<RawPosition> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?))
}

/// A report's columns and then its feed's county (column 5).
fn raw_position_and_region(row: &rusqlite::Row<'_>) -> rusqlite::Result<(RawPosition, String)> {
    Ok((raw_position(row)?, row.get(5)?))
}

/// The stored report of `raw`, from `region`'s feed.
fn position((subject, at, lon, lat, source): RawPosition, region: String) -> Result<fq_store::PositionRecord, StoreError> {
    let at = decode::time(&at).map_err(|e| StoreError::corrupt("position", e))?;
    Ok(fq_store::PositionRecord { subject, at, lon, lat, source, region })
}

/// Runs `read` in one transaction: one snapshot of the database, so that a file stored meanwhile
/// is seen whole or not at all.
fn in_one_snapshot<T>(conn: &Connection, read: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
    let tx = conn.unchecked_transaction().map_err(db)?;
    let out = read(&tx)?;
    tx.commit().map_err(db)?;
    Ok(out)
}

pub(crate) fn positions_in(
    conn: &Connection,
    areas: &[fq_store::PositionArea],
    regions: Option<&[RegionCode]>,
) -> Result<Vec<fq_store::PositionRecord>, StoreError> {
    in_one_snapshot(conn, |c| read_areas(c, areas, &counties_of(c, regions)?))
}

pub(crate) fn positions_around(
    conn: &Connection,
    subject: &str,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    regions: Option<&[RegionCode]>,
    areas_of: &fq_store::AreasAround,
) -> Result<fq_store::PositionsAround, StoreError> {
    in_one_snapshot(conn, |c| {
        let counties = counties_of(c, regions)?;
        let own = read_subject(c, subject, (from, to), &counties)?;
        let near = read_areas(c, &areas_of(&own), &counties)?;
        Ok(fq_store::PositionsAround { own, near })
    })
}

/// The reports in `areas` of the feeds of `counties` (`counties_of`, sorted).
fn read_areas(
    conn: &Connection,
    areas: &[fq_store::PositionArea],
    counties: &[String],
) -> Result<Vec<fq_store::PositionRecord>, StoreError> {
    // An area is read through the (cell, at) index, one index range per place cell it covers,
    // its place filtered within, then the reports of feeds outside `counties` left out. An area
    // of too many cells is read by its time window instead, county by county: the table is
    // ordered by county, time and subject, so each is one range of it.
    let mut by_cell = conn
        .prepare_cached(
            "SELECT subject, at, lon, lat, source, region FROM positions WHERE cell = ?1 AND at >= ?2 AND at < ?3 \
             AND lon >= ?4 AND lon <= ?5 AND lat >= ?6 AND lat <= ?7",
        )
        .map_err(db)?;
    let mut by_time = conn
        .prepare_cached(
            "SELECT subject, at, lon, lat, source FROM positions WHERE region = ?1 AND at >= ?2 AND at < ?3 \
             AND lon >= ?4 AND lon <= ?5 AND lat >= ?6 AND lat <= ?7",
        )
        .map_err(db)?;
    let mut out = Vec::new();
    for area in areas {
        let (from, to) = (journal_time(area.from), journal_time(area.to));
        match area.cells() {
            Some(cells) => {
                for cell in cells {
                    let bounds = params![cell, from, to, area.west, area.east, area.south, area.north];
                    for row in by_cell.query_map(bounds, raw_position_and_region).map_err(db)? {
                        let (raw, region) = row.map_err(db)?;
                        if counties.binary_search(&region).is_ok() {
                            out.push(position(raw, region)?);
                        }
                    }
                }
            }
            None => {
                for region in counties {
                    let bounds = params![region, from, to, area.west, area.east, area.south, area.north];
                    for row in by_time.query_map(bounds, raw_position).map_err(db)? {
                        out.push(position(row.map_err(db)?, region.clone())?);
                    }
                }
            }
        }
    }
    fq_store::order_and_dedup_positions(&mut out);
    Ok(out)
}

/// The reports of `subject` in `[from, to)` of the feeds of `counties` (`counties_of`, sorted).
fn read_subject(
    conn: &Connection,
    subject: &str,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    counties: &[String],
) -> Result<Vec<fq_store::PositionRecord>, StoreError> {
    // By the (subject, at) index: the subject's reports of every county, those of feeds outside
    // `counties` left out here (a subject has few reports; a county's window has many).
    let mut stmt = conn
        .prepare_cached(
            "SELECT subject, at, lon, lat, source, region FROM positions WHERE subject = ?1 AND at >= ?2 AND at < ?3 ORDER BY at, region",
        )
        .map_err(db)?;
    let mut out = Vec::new();
    let rows = stmt.query_map(params![subject, journal_time(from), journal_time(to)], raw_position_and_region).map_err(db)?;
    for row in rows {
        let (raw, region) = row.map_err(db)?;
        if counties.binary_search(&region).is_ok() {
            out.push(position(raw, region)?);
        }
    }
    Ok(out)
}

/// The distinct counties of stored reports in `[lower, upper)` (no upper: every one from
/// `lower`), each found by one search of the table's key rather than a walk over its rows.
fn regions_between(conn: &Connection, lower: &str, upper: Option<&str>) -> Result<Vec<String>, StoreError> {
    let mut first = conn.prepare_cached("SELECT region FROM positions WHERE region >= ?1 ORDER BY region LIMIT 1").map_err(db)?;
    let mut next = conn.prepare_cached("SELECT region FROM positions WHERE region > ?1 ORDER BY region LIMIT 1").map_err(db)?;
    let mut found: Vec<String> = Vec::new();
    loop {
        let row = match found.last() {
            None => first.query_row([lower], |r| r.get::<_, String>(0)),
            Some(last) => next.query_row([last], |r| r.get::<_, String>(0)),
        };
        let region = match row {
            Ok(region) => region,
            Err(rusqlite::Error::QueryReturnedNoRows) => break,
            Err(e) => return Err(db(e)),
        };
        if upper.is_some_and(|u| region.as_str() >= u) {
            break;
        }
        found.push(region);
    }
    Ok(found)
}

pub(crate) fn positions_known(conn: &Connection, region: &str, reports: &[(String, DateTime<Utc>)]) -> Result<usize, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT 1 FROM positions WHERE subject = ?1 AND at = ?2 AND region = ?3").map_err(db)?;
    let mut known = 0;
    for (subject, at) in reports {
        known += usize::from(stmt.exists(params![subject, journal_time(*at), region]).map_err(db)?);
    }
    Ok(known)
}

pub(crate) fn risk_forecast(
    conn: &Connection,
    county: &RegionCode,
    category: &str,
    day: chrono::NaiveDate,
    horizon_days: i32,
) -> Result<Option<fq_store::RiskForecastRecord>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT model, stored_events, made_at, cells FROM risk_forecasts \
             WHERE county = ?1 AND category = ?2 AND day = ?3 AND horizon_days = ?4",
        )
        .map_err(db)?;
    let mut rows = stmt.query(params![county.as_str(), category, day.to_string(), horizon_days]).map_err(db)?;
    let Some(row) = rows.next().map_err(db)? else { return Ok(None) };
    let (model, stored, made_at, cells): (String, i64, String, String) =
        (row.get(0).map_err(db)?, row.get(1).map_err(db)?, row.get(2).map_err(db)?, row.get(3).map_err(db)?);
    Ok(Some(fq_store::RiskForecastRecord {
        county: county.clone(),
        category: category.to_owned(),
        day,
        horizon_days,
        model,
        stored_events: u64::try_from(stored).map_err(|e| StoreError::corrupt("risk forecast", e))?,
        made_at: decode::time(&made_at).map_err(|e| StoreError::corrupt("risk forecast", e))?,
        cells: serde_json::from_str(&cells).map_err(|e| StoreError::corrupt("risk forecast", e))?,
    }))
}

pub(crate) fn risk_checks(
    conn: &Connection,
    county: &RegionCode,
    scope: &str,
    horizon_days: i32,
    (from, before): (chrono::NaiveDate, chrono::NaiveDate),
) -> Result<Vec<fq_store::RiskCheckRecord>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT day, model, checked_at, figures FROM risk_checks \
             WHERE county = ?1 AND scope = ?2 AND horizon_days = ?3 AND day >= ?4 AND day < ?5 ORDER BY day DESC",
        )
        .map_err(db)?;
    let mut rows = stmt.query(params![county.as_str(), scope, horizon_days, from.to_string(), before.to_string()]).map_err(db)?;
    let mut checks = Vec::new();
    while let Some(row) = rows.next().map_err(db)? {
        let (day, model, checked_at, figures): (String, String, String, String) =
            (row.get(0).map_err(db)?, row.get(1).map_err(db)?, row.get(2).map_err(db)?, row.get(3).map_err(db)?);
        checks.push(fq_store::RiskCheckRecord {
            county: county.clone(),
            scope: scope.to_owned(),
            day: day.parse().map_err(|e| StoreError::corrupt("risk check", e))?,
            horizon_days,
            model,
            checked_at: decode::time(&checked_at).map_err(|e| StoreError::corrupt("risk check", e))?,
            figures: serde_json::from_str(&figures).map_err(|e| StoreError::corrupt("risk check", e))?,
        });
    }
    Ok(checks)
}
