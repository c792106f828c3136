//! Whistles from the stored events (吹哨): for a county and a category, the whistle list of the
//! events stored before a day (our model and the level table), and for each cell that reaches
//! orange or red a warning case of the risk programme, opened by the system through the model
//! channel in the town of the grid under the cell's centre, and dispatched with the category's
//! response plan to that place's responsible centre. A grid with an open model warning of the
//! category is not whistled again until that one is cleared.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use fq_domain::actor::Actor;
use fq_domain::calendar::{local_date, start_of_day};
use fq_domain::journal::NewEvent;
use fq_domain::region::RegionCode;
use fq_risk::Event;
use fq_risk::backtest::Horizon;
use fq_risk::levels::{Level, LevelTable};
use fq_store::{CaseFilter, Change, Expectation, Op, StoreError};
use serde::Serialize;
use serde_json::{Map, Value as Json, json};

use crate::Engine;
use crate::cases::OpenCase;
use crate::error::EngineError;
use crate::risk_forecast::ForecastKey;
use crate::risk_ingest::grid_index;

/// The shipped level table.
const LEVELS: &str = include_str!("../../../data/risk/levels-v1.toml");

/// What a whistle run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct WhistleRun {
    pub cells: usize,
    /// Warning cases opened now (numbers), and cells whose grid has an open model warning.
    pub opened: Vec<String>,
    pub known: usize,
    /// Open model warnings raised to a higher level by this forecast (numbers).
    pub raised: Vec<String>,
    /// Cells at orange or red whose centre is in no grid (no responsible place to send to).
    pub unplaced: usize,
}

/// What the nightly whistle did: every county with stored events, every category among them.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NightlyRun {
    pub day: NaiveDate,
    pub runs: Vec<CountyWhistle>,
    /// Counties whose whistle or checks failed, with what failed and why.
    pub failed: Vec<(String, String)>,
    /// Checks of the forecasts whose horizon ended by the day, stored in the track record.
    pub checked: usize,
}

/// One county's whistle for one category.
#[derive(Debug, Clone, Serialize)]
pub struct CountyWhistle {
    pub county: String,
    pub category: String,
    #[serde(flatten)]
    pub run: WhistleRun,
    /// Why the category was not forecast (too little history), when it was not.
    pub skipped: Option<String>,
}

/// The risk categories (of the programme's catalog) among `events`, each once, in order.
pub(crate) fn risk_categories(programme: &fq_domain::programme::Programme, events: &[Event]) -> Vec<String> {
    first_days(programme, events).into_keys().map(str::to_owned).collect()
}

/// The risk categories among `events`, each with the day number of its first event: a forecast
/// from a day covers those first seen before it, as [`risk_categories`] over the events before
/// the day would pick them.
pub(crate) fn first_days<'a>(programme: &fq_domain::programme::Programme, events: &'a [Event]) -> BTreeMap<&'a str, i32> {
    let mut first: BTreeMap<&str, i32> = BTreeMap::new();
    for e in events {
        first.entry(e.category.as_str()).and_modify(|d| *d = (*d).min(e.day)).or_insert(e.day);
    }
    first.retain(|c, _| programme.in_catalog("risk_category", c));
    first
}

/// Refuses a category that is not in the risk programme's catalogue.
pub(crate) fn require_risk_category(programme: &fq_domain::programme::Programme, category: &str) -> Result<(), EngineError> {
    if programme.in_catalog("risk_category", category) {
        Ok(())
    } else {
        Err(EngineError::field("category_unknown", "category", format!("{category} is not a risk category")))
    }
}

/// Refuses a region that is not a county: whistles, forecasts and their checks are per county.
pub(crate) fn require_county(county: &RegionCode) -> Result<(), EngineError> {
    if county.level() == fq_domain::region::RegionLevel::County {
        Ok(())
    } else {
        Err(EngineError::field("region_not_county", "county", format!("{county} is not a county")))
    }
}

/// The journal stream that claims a day's nightly run: its first event is the claim.
fn nightly_stream(day: NaiveDate) -> String {
    format!("risk_nightly:{day}")
}

/// How long a claim of a night holds before another process may take the night over.
pub const NIGHTLY_LEASE_MINUTES: i64 = 30;

/// The cell size of the nightly whistle, in metres: a walkable block, the size of the backtests.
pub const NIGHTLY_CELL_METRES: f64 = 300.0;

/// The shipped level table, read.
pub(crate) fn level_table() -> Result<LevelTable, EngineError> {
    LevelTable::load(LEVELS).map_err(|e| EngineError::field("levels_invalid", "levels", e))
}

/// The whistle's fits of `categories` (`fq_risk::whistle::nightly`: the week, and the day and
/// the month when `day_and_month`), on every core and off the async threads that serve requests
/// (seconds on a big county).
async fn fits(
    events: Arc<Vec<Event>>,
    categories: Vec<String>,
    cell_metres: f64,
    day: NaiveDate,
    day_and_month: bool,
) -> Result<Vec<fq_risk::whistle::NightlyFit>, EngineError> {
    let table = level_table()?;
    tokio::task::spawn_blocking(move || fq_risk::whistle::nightly(&events, &categories, cell_metres, day, &table, day_and_month))
        .await
        .map_err(crate::risk_forecast::join_failed)
}

/// The first day of the history the forecasts, maps and checks read: an event before it is
/// refused at ingest (it would never be counted).
pub(crate) fn earliest_event_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(1990, 1, 1).expect("a valid day")
}

impl Engine {
    /// Runs the whistle for `county` and `category` at `day` (the forecast's first day), over
    /// the events stored before it, and opens warning cases for the orange and red cells.
    pub async fn whistle(
        &self,
        actor: &Actor,
        county: &RegionCode,
        category: &str,
        cell_metres: f64,
        day: NaiveDate,
    ) -> Result<WhistleRun, EngineError> {
        crate::access::require_operator(actor, "running the whistle")?;
        let programme = self.programme("risk")?;
        require_risk_category(&programme, category)?;
        let stored = Arc::new(self.stored_events(county, day).await?);
        let events = stored.len();
        let (list, cells) = fits(stored, vec![category.to_owned()], cell_metres, day, false)
            .await?
            .into_iter()
            .next()
            .map_or_else(|| Err(fq_risk::BacktestError::FitFailed("not fitted".into())), |fit| fit.week)
            .map_err(|e| EngineError::field("whistle_invalid", "events", e.to_string()))?;
        self.act_on_whistles(county, category, cell_metres, day, events, list, cells).await
    }

    /// The whistle for every risk category among the county's stored events.
    pub async fn whistle_all(
        &self,
        actor: &Actor,
        county: &RegionCode,
        cell_metres: f64,
        day: NaiveDate,
    ) -> Result<Vec<CountyWhistle>, EngineError> {
        crate::access::require_operator(actor, "running the whistle")?;
        require_county(county)?;
        let stored = Arc::new(self.stored_events(county, day).await?);
        self.whistle_county(county, cell_metres, day, stored).await
    }

    /// [`Engine::whistle_all`] over `stored`, the county's events stored before `day` (read
    /// once by the nightly run for its whistles and its checks).
    async fn whistle_county(
        &self,
        county: &RegionCode,
        cell_metres: f64,
        day: NaiveDate,
        stored: Arc<Vec<Event>>,
    ) -> Result<Vec<CountyWhistle>, EngineError> {
        let programme = self.programme("risk")?;
        let events = stored.len();
        let categories = risk_categories(&programme, &stored);
        // Every category's week, and its day and month where they are kept (the nightly cell
        // size).
        let kept = cell_metres == NIGHTLY_CELL_METRES;
        let mut runs = Vec::new();
        for fit in fits(stored, categories, cell_metres, day, kept).await? {
            // The day's and the month's forecasts are the heat map's and the API's: kept, so
            // that no process fits them on a first request.
            for (horizon, cells) in [(Horizon::Day, fit.day), (Horizon::Month, fit.month)] {
                if let Some(Ok(cells)) = cells {
                    self.keep_forecast(ForecastKey::new(county, &fit.category, day, horizon, events), cells).await;
                }
            }
            let (run, skipped) = match fit.week {
                Ok((list, cells)) => {
                    (self.act_on_whistles(county, &fit.category, cell_metres, day, events, list, cells).await?, None)
                }
                // Too little history for one category leaves the others to run.
                Err(e) => (WhistleRun::default(), Some(e.to_string())),
            };
            runs.push(CountyWhistle { county: county.to_string(), category: fit.category, run, skipped });
        }
        Ok(runs)
    }

    /// The counties the nightly whistle of `day` reads: those with events stored in the three
    /// years before it.
    pub async fn nightly_counties(&self, day: NaiveDate) -> Result<Vec<RegionCode>, EngineError> {
        let from = start_of_day(day - chrono::Duration::days(3 * 366));
        Ok(self.store.risk_event_counties(from, start_of_day(day)).await?)
    }

    /// Claims `day`'s nightly run for this process: true for one process at a time across
    /// every server and worker on the database. A claim is a lease: the day's stream holds
    /// claims and, once the run is over, its `risk.nightly_done`; a day whose last claim is
    /// older than [`NIGHTLY_LEASE_MINUTES`] without a done (its process failed or died) is
    /// claimed again. Each claim commits against the stream's length, so two claimants never
    /// both win.
    pub async fn claim_nightly(&self, day: NaiveDate) -> Result<bool, EngineError> {
        // A night after today would whistle on days that have not happened, and being done
        // would stop the real night from running.
        if day > local_date(self.now()) {
            return Err(EngineError::field("day_in_future", "day", format!("the night of {day} has not come yet")));
        }
        let stream = nightly_stream(day);
        let events = self.store.stream_events(&stream).await?;
        if events.iter().any(|e| e.kind == "risk.nightly_done") {
            return Ok(false);
        }
        let lease = chrono::Duration::minutes(NIGHTLY_LEASE_MINUTES);
        if events.last().is_some_and(|last| self.now() - last.recorded_at < lease) {
            return Ok(false);
        }
        let version = events.len() as u64;
        let change = Change::new().expect(Expectation::StreamVersion { stream: stream.clone(), version }).event(NewEvent::new(
            stream,
            "risk.nightly_claimed",
            Actor::System.journal_name(),
            json!({ "day": day, "claim": version + 1 }),
        ));
        match self.store.commit(change).await {
            Ok(_) => Ok(true),
            Err(StoreError::StreamMoved { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The nightly whistle (after [`Engine::claim_nightly`]): every county with events stored
    /// in the last three years, every category among them, forecasting from `day`; the
    /// summary is journaled on the day's stream.
    pub async fn nightly_whistle(&self, day: NaiveDate) -> Result<NightlyRun, EngineError> {
        let system = Actor::System;
        let mut run = NightlyRun { day, runs: Vec::new(), failed: Vec::new(), checked: 0 };
        for county in self.nightly_counties(day).await? {
            // One county's failure (a store error mid-way) leaves the others to run; it is
            // named in the summary and the log. Its events are read once, for the whistle and
            // the checks.
            let events = match self.stored_events(&county, day).await {
                Ok(events) => Arc::new(events),
                Err(e) => {
                    tracing::error!(%county, error = %e, "the nightly run could not read a county's events");
                    run.failed.push((county.to_string(), format!("reading the events failed: {e}")));
                    continue;
                }
            };
            match self.whistle_county(&county, NIGHTLY_CELL_METRES, day, Arc::clone(&events)).await {
                Ok(runs) => run.runs.extend(runs),
                Err(e) => {
                    tracing::error!(%county, error = %e, "the nightly whistle of a county failed");
                    run.failed.push((county.to_string(), format!("the whistle failed: {e}")));
                }
            }
            // The forecasts whose horizon ended tonight go to the track record, after the
            // whistle kept tonight's (a failure here costs the record a night, not the warnings).
            let (checked, failed) = self.keep_checks(&county, day, &events).await;
            run.checked += checked;
            for (horizon, e) in failed {
                let days = horizon.days();
                tracing::error!(%county, days, error = %e, "the nightly checks of a county's past forecasts failed");
                run.failed.push((county.to_string(), format!("checking past forecasts of {days} days failed: {e}")));
            }
        }
        let opened: usize = run.runs.iter().map(|r| r.run.opened.len()).sum();
        let raised: usize = run.runs.iter().map(|r| r.run.raised.len()).sum();
        let summary = json!({
            "day": day, "whistles": run.runs.len(), "opened": opened, "raised": raised, "checked": run.checked, "failed": run.failed
        });
        // The night also forgets the stored forecasts older than a month (fitted again if a map
        // of those days is asked for).
        let prune = Op::PruneRiskForecasts { before: day - chrono::Duration::days(crate::risk_forecast::KEPT_FORECAST_DAYS) };
        let change = Change::new().op(prune).event(NewEvent::new(
            nightly_stream(day),
            "risk.nightly_done",
            system.journal_name(),
            summary,
        ));
        self.store.commit(change).await?;
        Ok(run)
    }

    /// The county's events with a point stored before `day`, as the forecasts read them.
    pub(crate) async fn stored_events(&self, county: &RegionCode, day: NaiveDate) -> Result<Vec<Event>, EngineError> {
        let (from, to) = (start_of_day(earliest_event_day()), start_of_day(day));
        Ok(self
            .store
            .risk_events(county, from, to)
            .await?
            .into_iter()
            .filter_map(|e| {
                let (lon, lat) = (e.lon?, e.lat?);
                Some(Event { day: fq_risk::events::day_number(local_date(e.occurred_at)), lon, lat, category: e.category })
            })
            .collect())
    }

    /// Keeps the week's forecast a whistle list was read from and opens or raises the warning
    /// cases of its orange and red cells.
    #[allow(clippy::too_many_arguments)]
    async fn act_on_whistles(
        &self,
        county: &RegionCode,
        category: &str,
        cell_metres: f64,
        day: NaiveDate,
        stored: usize,
        list: Vec<fq_risk::whistle::Whistle>,
        cells: Vec<fq_risk::whistle::CellForecast>,
    ) -> Result<WhistleRun, EngineError> {
        // The week's forecast the whistle read is the heat map's week from the same day: kept,
        // so that no process fits it again for the map.
        if cell_metres == NIGHTLY_CELL_METRES {
            self.keep_forecast(ForecastKey::new(county, category, day, Horizon::Week, stored), cells).await;
        }
        let grids = self.store.grids_within(county).await?;
        let index = grid_index(&grids);
        let filter = CaseFilter {
            programme: Some("risk".into()),
            kind: Some("warning".into()),
            regions: vec![county.clone()],
            open_only: true,
            ..CaseFilter::default()
        };
        // The open model warnings: grid, category, the case, its level and number; kept up to
        // date as this run raises and opens, so that a grid's second cell sees its first's.
        let mut already: Vec<(String, String, fq_domain::case::CaseId, String, String)> = self
            .cases_matching(&filter)
            .await?
            .iter()
            .filter(|c| c.channel == "model")
            .filter_map(|c| {
                let (grid, category) = (c.grid.as_ref()?.to_string(), c.text("category")?.to_owned());
                Some((grid, category, c.id, c.priority.clone(), c.number.clone()))
            })
            .collect();
        let mut run = WhistleRun { cells: list.len(), ..WhistleRun::default() };
        let system = Actor::System;
        for w in list.iter().filter(|w| w.level >= Level::Orange) {
            let Some(i) = index.locate(w.lon, w.lat) else {
                run.unplaced += 1;
                continue;
            };
            let code = index.code(i).to_owned();
            let level = w.level.code();
            if let Some((_, _, id, priority, number)) = already.iter_mut().find(|(g, c, ..)| *g == code && c == category) {
                run.known += 1;
                // A forecast higher than the open warning's level raises it (never lowers it:
                // lowering is a person's call, with the handling in view).
                // A priority that is no level (none today) ranks below blue.
                if Some(w.level) > Level::parse(priority) {
                    let mut inputs = Map::new();
                    inputs.insert("priority".into(), Json::from(level));
                    let reason = format!("模型复算：{day} 起 7 天内概率 {:.1}%", w.probability * 100.0);
                    inputs.insert("reason".into(), Json::from(reason));
                    self.act_on_case(&system, *id, "relevel", inputs, None).await?;
                    *priority = level.to_owned();
                    if !run.raised.contains(number) {
                        run.raised.push(number.clone());
                    }
                }
                continue;
            }
            let Some(grid) = grids.iter().find(|g| g.code.to_string() == code) else { continue };
            let fields = json!({
                "title": format!("模型预警：{}（概率 {:.0}%）", grid.name, w.probability * 100.0),
                "category": category,
                "description": format!(
                    "{day} 起 7 天内至少发生一起的概率 {:.1}%，期望 {:.2} 起；近 26 周趋势斜率 {:+.2}{}",
                    w.probability * 100.0, w.expected, w.slope, if w.rising { "（上升）" } else { "" }
                ),
                "location": { "lon": w.lon, "lat": w.lat },
            });
            let Json::Object(fields) = fields else { continue };
            let request = OpenCase {
                programme: "risk".into(),
                kind: "warning".into(),
                priority: Some(level.into()),
                region: grid.region.to_string(),
                grid: Some(code.clone()),
                channel: "model".into(),
                intake_org: None,
                fields,
            };
            let opened = self.open_case(&system, request).await?;
            let mut plan = Map::new();
            plan.insert("plan".into(), Json::from(category));
            // Dispatch may find nobody (no centre in the place): the warning stays issued, visible on the board.
            let _ = self.act_on_case(&system, opened.case.id, "dispatch", plan, None).await;
            already.push((code.clone(), category.to_owned(), opened.case.id, level.to_owned(), opened.case.number.clone()));
            run.opened.push(opened.case.number);
        }
        Ok(run)
    }
}
