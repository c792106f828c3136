//! The heat map's forecast layer (预测图层): our model fitted on the county's events stored before
//! a day forecasts the day, week or month from that day on square cells (the whistle's cells);
//! each cell's expected count goes to the grid under its centre. A week's probability of at least
//! one event is coloured by the warning level it would reach (without the trend) in the level
//! table, whose thresholds are a week's, the whistle's horizon; a day's or a month's is shaded by
//! its share of the highest.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use fq_domain::calendar::local_date;
use fq_domain::grid::Grid;
use fq_domain::region::RegionCode;
use fq_risk::backtest::Horizon;
use fq_risk::check::ForecastCheck;
use fq_risk::levels::Thresholds;
use fq_risk::whistle::CellForecast;
use fq_store::{Change, Op, RiskForecastRecord};
use serde::Serialize;

use crate::Engine;
use crate::error::EngineError;
use crate::heatmap::{HeatCell, HeatQuery};
use crate::risk_ingest::grid_index;
use crate::risk_record::{CACHED_ROWS, PastForecast, RecordKey};
use crate::risk_track::RecordSummary;
use crate::risk_whistle::{NIGHTLY_CELL_METRES, level_table, require_risk_category, risk_categories};

/// What a forecast depends on: the county, the category, the first day, the horizon, and how
/// many of the county's events were stored before that day (an event ingested later for an
/// earlier day makes a new forecast).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ForecastKey {
    pub county: RegionCode,
    pub category: String,
    pub day: NaiveDate,
    pub horizon_days: i32,
    pub stored: usize,
}

impl ForecastKey {
    pub(crate) fn new(county: &RegionCode, category: &str, day: NaiveDate, horizon: Horizon, stored: usize) -> ForecastKey {
        ForecastKey { county: county.clone(), category: category.to_owned(), day, horizon_days: horizon.days(), stored }
    }
}

/// One category's forecast and when it was fitted.
#[derive(Debug)]
pub(crate) struct Fitted {
    made_at: DateTime<Utc>,
    pub(crate) cells: Vec<CellForecast>,
}

/// A map shared by the threads that serve requests, of at most `limit` entries: emptied whole
/// when it is full (a crude bound that needs no LRU).
pub(crate) struct Bounded<K, V> {
    map: std::sync::Mutex<std::collections::HashMap<K, V>>,
    limit: usize,
}

impl<K: Eq + std::hash::Hash, V: Clone> Bounded<K, V> {
    fn new(limit: usize) -> Bounded<K, V> {
        Bounded { map: std::sync::Mutex::default(), limit }
    }

    pub(crate) fn get(&self, key: &K) -> Option<V> {
        self.map.lock().ok()?.get(key).cloned()
    }

    pub(crate) fn put(&self, key: K, value: V) {
        if let Ok(mut map) = self.map.lock() {
            if map.len() >= self.limit {
                map.clear();
            }
            map.insert(key, value);
        }
    }
}

/// This process's caches in front of the stored forecasts: the recent forecasts, so that a page
/// read again (or drawn as SVG and PNG after it) neither fits nor reads them again, and the
/// checks of past forecasts that today's forecasts list ([`crate::risk_record`]).
pub(crate) struct ForecastCache {
    fitted: Bounded<ForecastKey, Arc<Fitted>>,
    pub(crate) checks: Bounded<RecordKey, PastForecast>,
}

impl Default for ForecastCache {
    fn default() -> ForecastCache {
        ForecastCache { fitted: Bounded::new(CACHED_FORECASTS), checks: Bounded::new(CACHED_ROWS) }
    }
}

/// One category's cells, or why it was not forecast.
pub(crate) type Forecast = Result<Arc<Fitted>, String>;

/// How many forecasts the cache holds before it starts again.
const CACHED_FORECASTS: usize = 256;

/// How long the database keeps forecasts (days before the nightly run's day): the heat map of
/// the last month reads them; older maps are fitted again when asked for.
pub(crate) const KEPT_FORECAST_DAYS: i64 = 31;

/// What the forecast layer covers.
#[derive(Debug, Clone, Serialize)]
pub struct ForecastLayer {
    /// The first day of the forecast.
    pub day: NaiveDate,
    /// The days it covers (1, 7 or 30).
    pub horizon_days: i32,
    /// The categories summed (one when the map names one).
    pub categories: Vec<String>,
    /// Categories not forecast, with the reason (too little history).
    pub skipped: Vec<String>,
    /// The probability thresholds the grids' levels are read by (the category's, or the
    /// default): a week's forecast only, the horizon the level table is set for; None for a
    /// day's or a month's, which reach no level.
    pub thresholds: Option<Thresholds>,
    /// Model cells with some expectation whose centre is in no grid.
    pub outside_grids: usize,
    /// How many of the county's events, stored before the first day, the model was fitted on.
    pub events: usize,
    /// When the oldest of the categories' forecasts was fitted (by the nightly run or by the
    /// first map that asked for it, in any server process); None when none was.
    pub fitted_at: Option<DateTime<Utc>>,
    /// Whether its horizon is over (it ended by today).
    pub over: bool,
    /// How the forecast did (预测检验), once its horizon has passed: its cells, all categories
    /// summed, against the located events of those categories stored for the horizon. None for
    /// a horizon not yet over, or one with no such event.
    pub check: Option<ForecastCheck>,
    /// Whether its probabilities held over the horizon, quiet or not (with `check`).
    pub calibration: Option<fq_risk::check::Calibrated>,
    /// With a forecast from today: the checks of the last forecasts of the same horizon that
    /// are over, latest first: the recent ones checked now (see [`crate::risk_record`]), then
    /// those the nightly run stored (see [`crate::risk_track`]).
    pub record: Vec<PastForecast>,
    /// How the record's forecasts did together; None with no check in it.
    pub record_summary: Option<RecordSummary>,
}

impl Engine {
    /// Adds each grid's expected count over the horizon from the day `query.to` falls on to
    /// `cells` (the grids of `query.county`, in the order of `grids`); with `query.checks`, the
    /// forecast's check once its horizon is over and, from today, the record.
    pub(crate) async fn forecast_grids(
        &self,
        query: &HeatQuery,
        horizon: Horizon,
        grids: &[Grid],
        cells: &mut [HeatCell],
    ) -> Result<ForecastLayer, EngineError> {
        let (county, category) = (&query.county, query.category.as_deref());
        // A forecast starts today at the latest: the days after it have not happened, and a
        // model fitted with them would read them as quiet. From today it is also the nightly
        // run's forecast (fitted on the whole days before it), which the warnings quote.
        let today = local_date(self.now());
        let day = local_date(query.to).min(today);
        let programme = self.programme("risk")?;
        // A horizon already over is checked against the events stored for it: read with the
        // history, once. The fit takes the events before the day only.
        let horizon_end = day + chrono::Duration::days(i64::from(horizon.days()));
        let over = horizon_end <= today;
        let checkable = query.checks && over;
        let mut events = self.stored_events(county, if checkable { horizon_end } else { day }).await?;
        let first_day = fq_risk::events::day_number(day);
        let later: Vec<fq_risk::Event> = if checkable {
            let (before, later) = events.into_iter().partition(|e| e.day < first_day);
            events = before;
            later
        } else {
            Vec::new()
        };
        let categories: Vec<String> = match category {
            Some(c) => {
                require_risk_category(&programme, c)?;
                vec![c.to_owned()]
            }
            None => risk_categories(&programme, &events),
        };
        let table = level_table()?;
        let thresholds =
            (horizon == Horizon::Week).then(|| category.and_then(|c| table.categories.get(c)).copied().unwrap_or(table.default));
        let index = grid_index(grids);
        let position: std::collections::HashMap<String, usize> =
            cells.iter().enumerate().map(|(i, c)| (c.code.clone(), i)).collect();
        let mut layer = ForecastLayer {
            day,
            horizon_days: horizon.days(),
            categories: Vec::new(),
            skipped: Vec::new(),
            thresholds,
            outside_grids: 0,
            events: events.len(),
            fitted_at: None,
            over,
            check: None,
            calibration: None,
            record: Vec::new(),
            record_summary: None,
        };
        // Fitting takes seconds on a big county: off the async threads that serve requests,
        // and once per county, category, day and stored events across every process.
        let stored = events.len();
        let key = |category: &str| ForecastKey::new(county, category, day, horizon, stored);
        let mut forecasts: Vec<(String, Forecast)> = Vec::new();
        let mut missing = Vec::new();
        for c in categories {
            match self.known_forecast(&key(&c)).await? {
                Some(hit) => forecasts.push((c, Ok(hit))),
                None => missing.push(c),
            }
        }
        let events = Arc::new(events);
        forecasts.extend(self.fit_forecasts(county, &events, missing, day, horizon, true).await?);
        forecasts.sort_by(|a, b| a.0.cmp(&b.0));
        // Each study cell's expected count, every category's summed (they share the cells).
        let mut summed: Vec<f64> = Vec::new();
        for (category, forecast) in forecasts {
            match forecast {
                Ok(forecast) => {
                    layer.fitted_at = Some(layer.fitted_at.map_or(forecast.made_at, |t| t.min(forecast.made_at)));
                    add_cells(&mut summed, &forecast.cells);
                    for cell in forecast.cells.iter().filter(|c| c.expected > 0.0) {
                        match index.locate(cell.lon, cell.lat).and_then(|i| position.get(index.code(i)).copied()) {
                            Some(i) => cells[i].expected += cell.expected,
                            None => layer.outside_grids += 1,
                        }
                    }
                    layer.categories.push(category);
                }
                Err(e) => layer.skipped.push(format!("{category}: {e}")),
            }
        }
        if query.checks && day == today {
            // A side table: a failure to read it is logged, and the forecast shown without it.
            layer.record = self.record(county, category, horizon, day, &events).await.unwrap_or_else(|e| {
                tracing::warn!(%county, error = %e, "the record of past forecasts could not be read");
                Vec::new()
            });
            layer.record_summary = crate::risk_track::summarise_record(&layer.record);
        }
        if checkable && !layer.categories.is_empty() {
            let mut events = Arc::unwrap_or_clone(events);
            events.extend(later);
            let categories = layer.categories.clone();
            let outcome = tokio::task::spawn_blocking(move || {
                fq_risk::check::check(&events, &categories, NIGHTLY_CELL_METRES, horizon, day, &summed)
            })
            .await
            .map_err(join_failed)?;
            (layer.check, layer.calibration) = fq_risk::check::Outcome::split(outcome);
        }
        Ok(layer)
    }

    /// Fits the forecasts of `categories` from `day` over `horizon` on `before` (the county's
    /// located events stored before the day): seconds on a big county, so each category on its
    /// own core, as the nightly run's, off the async threads that serve requests. Each fit is
    /// kept in this process and the database for every process when `keep`. A category that
    /// cannot be fitted (too little history) comes with why.
    pub(crate) async fn fit_forecasts(
        &self,
        county: &RegionCode,
        before: &Arc<Vec<fq_risk::Event>>,
        categories: Vec<String>,
        day: NaiveDate,
        horizon: Horizon,
        keep: bool,
    ) -> Result<Vec<(String, Forecast)>, EngineError> {
        if categories.is_empty() {
            return Ok(Vec::new());
        }
        let events = Arc::clone(before);
        let fitted = tokio::task::spawn_blocking(move || {
            let forecasts = fq_risk::cores::run(categories.len(), |i| {
                fq_risk::whistle::forecast_cells(&events, &categories[i], NIGHTLY_CELL_METRES, horizon, day)
            })
            .into_iter()
            .map(|f| f.map_err(|e| e.to_string()));
            categories.into_iter().zip(forecasts).collect::<Vec<_>>()
        })
        .await
        .map_err(join_failed)?;
        let mut forecasts = Vec::new();
        for (c, forecast) in fitted {
            let forecast = match forecast {
                Ok(cells) if keep => {
                    Ok(self.keep_forecast(ForecastKey::new(county, &c, day, horizon, before.len()), cells).await)
                }
                Ok(cells) => Ok(Arc::new(Fitted { made_at: self.now(), cells })),
                Err(e) => Err(e),
            };
            forecasts.push((c, forecast));
        }
        Ok(forecasts)
    }

    /// The forecasts of `categories` from `day` that are held (this process's or stored, fitted
    /// on the `stored` events before the day), and the categories not held.
    pub(crate) async fn held_forecasts(
        &self,
        county: &RegionCode,
        categories: Vec<String>,
        day: NaiveDate,
        horizon: Horizon,
        stored: usize,
    ) -> Result<(Vec<(String, Arc<Fitted>)>, Vec<String>), EngineError> {
        let (mut held, mut missing) = (Vec::new(), Vec::new());
        for c in categories {
            match self.held_forecast(&ForecastKey::new(county, &c, day, horizon, stored), false).await? {
                Some(forecast) => held.push((c, forecast)),
                None => missing.push(c),
            }
        }
        Ok((held, missing))
    }

    /// The forecast `key` names: this process's, or one stored by the nightly run or by another
    /// process (kept in this process's cache).
    async fn known_forecast(&self, key: &ForecastKey) -> Result<Option<Arc<Fitted>>, EngineError> {
        self.held_forecast(key, true).await
    }

    /// [`Engine::known_forecast`]; one read from the database goes into the cache only when
    /// `keep` (a past forecast read for its check would crowd out the forecasts being shown).
    pub(crate) async fn held_forecast(&self, key: &ForecastKey, keep: bool) -> Result<Option<Arc<Fitted>>, EngineError> {
        if let Some(hit) = self.forecasts.fitted.get(key) {
            return Ok(Some(hit));
        }
        let (county, category, day) = (&key.county, key.category.as_str(), key.day);
        // A row fitted on another number of events (events were stored for earlier days
        // since), or by another model (an upgrade), is another forecast: fitted again; so is a
        // row that cannot be read.
        let record = match self.store.risk_forecast(county, category, day, key.horizon_days).await {
            Ok(Some(record)) => record,
            Ok(None) => return Ok(None),
            Err(e @ fq_store::StoreError::Corrupt { .. }) => {
                tracing::warn!(%county, category, %day, error = %e, "a stored forecast cannot be read; fitting again");
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        };
        if usize::try_from(record.stored_events).ok() != Some(key.stored) || record.model != fq_risk::whistle::MODEL {
            return Ok(None);
        }
        let cells = record.cells.iter().map(|&[lon, lat, expected]| CellForecast { lon, lat, expected }).collect();
        let fitted = Arc::new(Fitted { made_at: record.made_at, cells });
        if keep {
            self.forecasts.fitted.put(key.clone(), Arc::clone(&fitted));
        }
        Ok(Some(fitted))
    }

    /// Keeps a forecast just fitted, in this process and in the database for the others. Not
    /// being able to store it costs only fitting it again, so a failed write is logged, not
    /// raised.
    pub(crate) async fn keep_forecast(&self, key: ForecastKey, cells: Vec<CellForecast>) -> Arc<Fitted> {
        let record = RiskForecastRecord {
            county: key.county.clone(),
            category: key.category.clone(),
            day: key.day,
            horizon_days: key.horizon_days,
            model: fq_risk::whistle::MODEL.to_owned(),
            stored_events: key.stored as u64,
            made_at: self.now(),
            cells: cells.iter().map(|c| [c.lon, c.lat, c.expected]).collect(),
        };
        let fitted = Arc::new(Fitted { made_at: record.made_at, cells });
        if let Err(e) = self.store.commit(Change::new().op(Op::PutRiskForecast(Box::new(record)))).await {
            tracing::warn!(county = %key.county, category = key.category, day = %key.day, error = %e, "the forecast could not be stored; it will be fitted again");
        }
        self.forecasts.fitted.put(key, Arc::clone(&fitted));
        fitted
    }
}

/// A fit or a check that panicked on its blocking thread (by value: `map_err` hands it over): a
/// fault of ours, not of the input, so an internal failure (logged, answered without its detail)
/// rather than a refusal naming a field.
#[allow(clippy::needless_pass_by_value)]
pub(crate) fn join_failed(e: tokio::task::JoinError) -> EngineError {
    tracing::error!(error = %e, "a risk computation failed on its thread");
    EngineError::Store(fq_store::StoreError::backend(format!("a risk computation failed: {e}")))
}

/// Adds a category's expected counts to the sum over categories, cell by cell (every category's
/// forecast of a county has the same cells).
pub(crate) fn add_cells(summed: &mut Vec<f64>, cells: &[CellForecast]) {
    summed.resize(cells.len().max(summed.len()), 0.0);
    summed.iter_mut().zip(cells).for_each(|(s, c)| *s += c.expected);
}
