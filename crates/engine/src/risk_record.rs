//! The record of recent forecasts (近几期预测检验): beside a forecast from today, the last few
//! forecasts of the same horizon that are over (today less one horizon, two, ... while the
//! database still keeps them), each checked against what happened (`fq_risk::check`), then the
//! older checks the nightly run stored ([`crate::risk_track`]). Only forecasts already held are
//! checked, in this process or stored by the nightly run or a map: a record never fits, so the
//! forecast page costs a few reads, not fits. A recent row not held takes the nightly run's
//! check of its day when there is one; otherwise it links to its own map, which fits and checks
//! it.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use fq_domain::region::RegionCode;
use fq_risk::Event;
use fq_risk::backtest::Horizon;
use fq_risk::check::{Calibrated, ForecastCheck};
use serde::{Deserialize, Serialize};

use crate::Engine;
use crate::error::EngineError;
use crate::risk_forecast::{KEPT_FORECAST_DAYS, add_cells, join_failed};
use crate::risk_track::{successive, track_length};
use crate::risk_whistle::{NIGHTLY_CELL_METRES, first_days};

/// How many recent forecasts, checked on the page, a forecast from today lists at most (fewer
/// for a month: the database keeps forecasts for [`KEPT_FORECAST_DAYS`]); the track record's
/// stored checks follow them ([`crate::risk_track::track_length`] in all).
pub const RECENT_ROWS: i32 = 4;

/// A past forecast of the record, and its check when it is held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PastForecast {
    /// Its first day.
    pub day: NaiveDate,
    /// The categories whose forecasts from that day are held (fitted then by the nightly run or
    /// a map, on the events stored now before the day), and those asked for but not held.
    pub categories: Vec<String>,
    pub missing: Vec<String>,
    /// The check of the held categories' summed forecast; None with no category held or no
    /// located event of theirs in the horizon.
    pub check: Option<ForecastCheck>,
    /// Whether the probabilities of the held categories' summed forecast held; a horizon
    /// without an event is calibrated too. None with no category held.
    #[serde(default)]
    pub calibration: Option<Calibrated>,
    /// When a check read from the track record was made (the night its horizon ended, or a
    /// backfill; events stored after it are not counted); None for a check made now.
    #[serde(default)]
    pub checked_at: Option<DateTime<Utc>>,
}

/// What a row of the record depends on: the county, the category asked for (None: every one),
/// the day, the horizon, and how many of the county's events are stored before today (an event
/// stored later for any earlier day may change the check, or the forecast held).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct RecordKey {
    county: RegionCode,
    category: Option<String>,
    day: NaiveDate,
    horizon_days: i32,
    events: usize,
}

/// How many rows of the record, every category of them held and checked, this process keeps
/// (a page read again reads and checks nothing).
pub(crate) const CACHED_ROWS: usize = 1024;

/// The days of the record before `today`'s forecast of `horizon`, latest first.
fn record_days(today: NaiveDate, horizon: Horizon) -> Vec<NaiveDate> {
    (1..=RECENT_ROWS)
        .map(|k| i64::from(k * horizon.days()))
        .take_while(|back| *back <= KEPT_FORECAST_DAYS)
        .map(|back| today - chrono::Duration::days(back))
        .collect()
}

impl Engine {
    /// The record beside `today`'s forecast of `horizon` over `events` (the county's located
    /// events stored before today).
    pub(crate) async fn record(
        &self,
        county: &RegionCode,
        category: Option<&str>,
        horizon: Horizon,
        today: NaiveDate,
        events: &Arc<Vec<Event>>,
    ) -> Result<Vec<PastForecast>, EngineError> {
        let programme = self.programme("risk")?;
        // A day's forecast covers the categories first seen before it, as its map chose them.
        let first_days = first_days(&programme, events);
        // Rows already checked, and the others with their held categories' summed cells.
        let mut rows: Vec<Option<PastForecast>> = Vec::new();
        let mut to_check: Vec<(usize, RecordKey, PastForecast, Vec<f64>)> = Vec::new();
        for day in record_days(today, horizon) {
            let key = RecordKey {
                county: county.clone(),
                category: category.map(str::to_owned),
                day,
                horizon_days: horizon.days(),
                events: events.len(),
            };
            if let Some(row) = self.forecasts.checks.get(&key) {
                rows.push(Some(row));
                continue;
            }
            let first_day = fq_risk::events::day_number(day);
            let wanted: Vec<String> = match category {
                Some(c) => vec![c.to_owned()],
                None => first_days.iter().filter(|(_, d)| **d < first_day).map(|(c, _)| (*c).to_owned()).collect(),
            };
            let stored = events.iter().filter(|e| e.day < first_day).count();
            let (held, missing) = self.held_forecasts(county, wanted, day, horizon, stored).await?;
            let mut summed = Vec::new();
            for (_, forecast) in &held {
                add_cells(&mut summed, &forecast.cells);
            }
            let categories = held.into_iter().map(|(c, _)| c).collect();
            let row = PastForecast { day, categories, missing, check: None, calibration: None, checked_at: None };
            to_check.push((rows.len(), key, row, summed));
            rows.push(None);
        }
        // Checking lays each day's grid over the county's events: off the request threads.
        let events = Arc::clone(events);
        let checked = tokio::task::spawn_blocking(move || {
            to_check
                .into_iter()
                .map(|(at, key, mut row, summed)| {
                    if !row.categories.is_empty() {
                        let outcome =
                            fq_risk::check::check(&events, &row.categories, NIGHTLY_CELL_METRES, horizon, row.day, &summed);
                        (row.check, row.calibration) = fq_risk::check::Outcome::split(outcome);
                    }
                    (at, key, row)
                })
                .collect::<Vec<_>>()
        })
        .await
        .map_err(join_failed)?;
        for (at, key, row) in checked {
            // A row with a category not held may be held later (its map fits it): read again.
            if row.missing.is_empty() {
                self.forecasts.checks.put(key, row.clone());
            }
            rows[at] = Some(row);
        }
        let mut rows: Vec<PastForecast> = rows.into_iter().flatten().collect();
        // The track record: a recent row not fully held takes its day's stored check, and the
        // stored checks before the recent rows follow them, each period after the next listed
        // one has begun (the nightly run checks a period every night, so periods overlap).
        // A failure to read it is logged, and the recent rows listed alone.
        let span = i64::try_from(track_length(horizon)).unwrap_or(0) * i64::from(horizon.days());
        let from = today - chrono::Duration::days(span);
        let stored = self.stored_checks(county, category, horizon, from, today).await.unwrap_or_else(|e| {
            tracing::warn!(%county, error = %e, "the track record of forecasts could not be read");
            Vec::new()
        });
        // A category that cannot be fitted (too little history) is never held, so a row is
        // replaced only by a stored check that covers more categories than it holds.
        for row in rows.iter_mut().filter(|r| !r.missing.is_empty()) {
            if let Some(check) = stored.iter().find(|s| s.day == row.day && s.categories.len() > row.categories.len()) {
                *row = check.clone();
            }
        }
        let next = rows.last().map_or(today, |r| r.day);
        let room = track_length(horizon).saturating_sub(rows.len());
        rows.extend(successive(stored, horizon, next, room));
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_keeps_to_the_days_the_database_keeps() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        let back = |days: &[NaiveDate]| days.iter().map(|d| (today - *d).num_days()).collect::<Vec<_>>();
        assert_eq!(back(&record_days(today, Horizon::Day)), [1, 2, 3, 4]);
        assert_eq!(back(&record_days(today, Horizon::Week)), [7, 14, 21, 28]);
        assert_eq!(back(&record_days(today, Horizon::Month)), [30]);
    }
}
