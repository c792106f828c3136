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

pub(crate) fn positions_between(
    conn: &Connection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    regions: Option<&[RegionCode]>,
) -> Result<Vec<fq_store::PositionRecord>, StoreError> {
    let mut sql = String::from("SELECT subject, at, lon, lat, source, region FROM positions WHERE at >= ?1 AND at < ?2");
    let mut values = vec![journal_time(from), journal_time(to)];
    if let Some(regions) = regions {
        // A region's codes are a range (`subtree_upper`), which the (region, at) index serves.
        let terms: Vec<String> =
            (0..regions.len()).map(|k| format!("(region >= ?{} AND region < ?{})", 3 + 2 * k, 4 + 2 * k)).collect();
        sql += &format!(" AND ({})", if terms.is_empty() { "0".to_owned() } else { terms.join(" OR ") });
        for region in regions {
            values.push(region.to_string());
            values.push(crate::reads::subtree_upper(region));
        }
    }
    sql += " ORDER BY at, subject";
    let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
    let rows = stmt
        .query_map(params_from_iter(values.iter()), |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, f64>(2)?,
                r.get::<_, f64>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
            ))
        })
        .map_err(db)?;
    let mut out = Vec::new();
    for row in rows {
        let (subject, at, lon, lat, source, region) = row.map_err(db)?;
        let at = decode::time(&at).map_err(|e| StoreError::corrupt("position", e))?;
        out.push(fq_store::PositionRecord { subject, at, lon, lat, source, region });
    }
    Ok(out)
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
            "SELECT stored_events, made_at, cells FROM risk_forecasts \
             WHERE county = ?1 AND category = ?2 AND day = ?3 AND horizon_days = ?4",
        )
        .map_err(db)?;
    let mut rows = stmt.query(params![county.as_str(), category, day.to_string(), horizon_days]).map_err(db)?;
    let Some(row) = rows.next().map_err(db)? else { return Ok(None) };
    let (stored, made_at, cells): (i64, String, String) =
        (row.get(0).map_err(db)?, row.get(1).map_err(db)?, row.get(2).map_err(db)?);
    Ok(Some(fq_store::RiskForecastRecord {
        county: county.clone(),
        category: category.to_owned(),
        day,
        horizon_days,
        stored_events: u64::try_from(stored).map_err(|e| StoreError::corrupt("risk forecast", e))?,
        made_at: decode::time(&made_at).map_err(|e| StoreError::corrupt("risk forecast", e))?,
        cells: serde_json::from_str(&cells).map_err(|e| StoreError::corrupt("risk forecast", e))?,
    }))
}
