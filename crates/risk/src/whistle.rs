//! The whistle list (吹哨): at a day, our model fitted on everything before it forecasts each
//! study cell's next horizon; each cell's weekly counts over the last 26 weeks give its trend
//! (Mann–Kendall with Sen's slope, EWMA and CUSUM); the level table turns the probability and
//! the trend into a warning level. Cells below blue are not listed.

use chrono::NaiveDate;
use serde::Serialize;

use crate::backtest::{BacktestError, Horizon, cells_for};
use crate::events::{Event, day_number};
use crate::kde::Kde;
use crate::levels::{Level, LevelTable};
use crate::model::{Forecaster, Ours};
use crate::trend::{cusum_alarm, ewma_alarm, trends};

/// Weeks of history behind a cell's trend.
const TREND_WEEKS: i32 = 26;

/// One cell that reaches a level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Whistle {
    pub lon: f64,
    pub lat: f64,
    pub level: Level,
    pub probability: f64,
    pub expected: f64,
    /// Sen's slope of the weekly counts, and whether the trend counts as rising.
    pub slope: f64,
    pub rising: bool,
}

/// One study cell's forecast: its centre and the expected count over the horizon.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CellForecast {
    pub lon: f64,
    pub lat: f64,
    pub expected: f64,
}

/// What fitted a forecast: stored forecasts record it, and a reader takes only those of the
/// model it runs (an upgrade that changes the model fits again). The package version alone does
/// not say the model changed (it stays the same between releases), so the model has its own
/// revision, raised with every change to what a fit gives: 2 added the fifth feature set
/// (`local_long_run`, 2026-11-28).
pub const MODEL: &str = concat!("fq-risk ", env!("CARGO_PKG_VERSION"), " model 2");

/// The probability of at least one event of a Poisson count with mean `expected`.
pub fn at_least_one(expected: f64) -> f64 {
    1.0 - (-expected.max(0.0)).exp()
}

impl CellForecast {
    /// The probability of at least one event over the horizon.
    pub fn probability(&self) -> f64 {
        at_least_one(self.expected)
    }
}

/// Our model fitted on everything before `at`: the cells and each study cell's expected count
/// for the horizon starting `at`, in the order of `cells.study`.
fn fit_and_forecast(
    events: &[Event],
    category: &str,
    cell_metres: f64,
    horizon: Horizon,
    at: NaiveDate,
) -> Result<(crate::model::Cells, Vec<f64>), BacktestError> {
    let origin = day_number(at);
    let cells = cells_for(events, category, cell_metres, origin)?;
    let h = horizon.days();
    let training = cells.training_origins(origin, h, 7, 730, 365);
    if training.is_empty() {
        return Err(BacktestError::TooLittleHistory(365));
    }
    // Our model takes the cross-validated density as a feature; the baseline's own calibration
    // (`KdeForecast::fit`), which only a backtest reports, is not needed here.
    let kde = Kde::cross_validated(&cells, &training, h);
    let ours = Ours::fit(&cells, kde, &training, h);
    let expected = ours.expected(&cells, origin, h);
    Ok((cells, expected))
}

/// Every study cell's forecast of `category` for the horizon starting `at` (the heat map's
/// forecast layer).
pub fn forecast_cells(
    events: &[Event],
    category: &str,
    cell_metres: f64,
    horizon: Horizon,
    at: NaiveDate,
) -> Result<Vec<CellForecast>, BacktestError> {
    let (cells, expected) = fit_and_forecast(events, category, cell_metres, horizon, at)?;
    Ok(cell_forecasts(&cells, &expected))
}

fn cell_forecasts(cells: &crate::model::Cells, expected: &[f64]) -> Vec<CellForecast> {
    cells
        .study
        .iter()
        .zip(expected)
        .map(|(&cell, e)| {
            let (lon, lat) = cells.grid.centre(cell);
            CellForecast { lon, lat, expected: e.max(0.0) }
        })
        .collect()
}

/// The cells of `category` that reach a level for the horizon starting `at`, highest level and
/// probability first.
pub fn whistles(
    events: &[Event],
    category: &str,
    cell_metres: f64,
    horizon: Horizon,
    at: NaiveDate,
    levels: &LevelTable,
) -> Result<Vec<Whistle>, BacktestError> {
    whistles_and_forecast(events, category, cell_metres, horizon, at, levels).map(|(list, _)| list)
}

/// [`whistles`], and every study cell's forecast they were read from (what [`forecast_cells`]
/// gives for the same arguments), from one fit.
pub fn whistles_and_forecast(
    events: &[Event],
    category: &str,
    cell_metres: f64,
    horizon: Horizon,
    at: NaiveDate,
    levels: &LevelTable,
) -> Result<(Vec<Whistle>, Vec<CellForecast>), BacktestError> {
    let origin = day_number(at);
    let (cells, expected) = fit_and_forecast(events, category, cell_metres, horizon, at)?;
    let weekly: Vec<Vec<f64>> =
        (0..TREND_WEEKS).map(|w| cells.counts(origin - (TREND_WEEKS - w) * 7, origin - (TREND_WEEKS - w - 1) * 7)).collect();
    // Each study cell's weekly counts; their trends on every core at once.
    let series: Vec<Vec<f64>> = cells.study.iter().map(|&cell| weekly.iter().map(|week| week[cell]).collect()).collect();
    let trends = trends(&series);
    let mut out = Vec::new();
    for (((&cell, weeks), t), lambda) in cells.study.iter().zip(&series).zip(trends).zip(&expected) {
        let lambda = lambda.max(0.0);
        let probability = at_least_one(lambda);
        let rising = t.is_some_and(|t| t.p_value < 0.05 && t.slope > 0.0)
            || ewma_alarm(weeks, 20, 0.3, 3.0).is_some_and(|k| k + 2 >= weeks.len())
            || cusum_alarm(weeks, 20, 0.5, 4.0).is_some_and(|k| k + 2 >= weeks.len());
        if let Some(level) = levels.level(category, probability, rising) {
            let (lon, lat) = cells.grid.centre(cell);
            out.push(Whistle { lon, lat, level, probability, expected: lambda, slope: t.map_or(0.0, |t| t.slope), rising });
        }
    }
    out.sort_by(|a, b| b.level.cmp(&a.level).then(b.probability.total_cmp(&a.probability)));
    Ok((out, cell_forecasts(&cells, &expected)))
}

/// What the nightly run fits for one category from a day: the week's whistle list with the
/// week's forecast it was read from, and, when asked for, the day's and the month's forecasts
/// (for the heat map and the API). Each may fail on its own (a month needs a little more history
/// than a week).
#[derive(Debug)]
pub struct NightlyFit {
    pub category: String,
    pub week: Result<(Vec<Whistle>, Vec<CellForecast>), BacktestError>,
    pub day: Option<Result<Vec<CellForecast>, BacktestError>>,
    pub month: Option<Result<Vec<CellForecast>, BacktestError>>,
}

/// The nightly run's fits for each of `categories` at `at`: the week's, and the day's and the
/// month's when `day_and_month`; every (category, horizon) an independent fit, run on every core
/// at once. A fit that panics fails its own category's horizon ([`BacktestError::FitFailed`]),
/// not the others.
pub fn nightly(
    events: &[Event],
    categories: &[String],
    cell_metres: f64,
    at: NaiveDate,
    levels: &LevelTable,
    day_and_month: bool,
) -> Vec<NightlyFit> {
    // The months' fits first: the longest, they are best started early.
    let horizons: &[Horizon] = if day_and_month { &[Horizon::Month, Horizon::Week, Horizon::Day] } else { &[Horizon::Week] };
    let n = categories.len();
    if n == 0 {
        return Vec::new();
    }
    let job = |horizon: Horizon, category: &str| {
        caught(|| {
            if horizon == Horizon::Week {
                whistles_and_forecast(events, category, cell_metres, horizon, at, levels)
            } else {
                // A day's or a month's forecast has no whistles: only the week's is whistled on.
                forecast_cells(events, category, cell_metres, horizon, at).map(|cells| (Vec::new(), cells))
            }
        })
    };
    // Job h·n + c fits horizon h of category c.
    let mut fitted: Vec<Option<_>> = crate::cores::run(n * horizons.len(), |i| Some(job(horizons[i / n], &categories[i % n])));
    let mut take =
        |horizon: Horizon, c: usize| horizons.iter().position(|h| *h == horizon).and_then(|h| fitted[h * n + c].take());
    categories
        .iter()
        .enumerate()
        .map(|(c, category)| NightlyFit {
            category: category.clone(),
            week: take(Horizon::Week, c).unwrap_or_else(|| Err(BacktestError::FitFailed("the week was not fitted".into()))),
            day: take(Horizon::Day, c).map(|r| r.map(|(_, cells)| cells)),
            month: take(Horizon::Month, c).map(|r| r.map(|(_, cells)| cells)),
        })
        .collect()
}

/// `fit()`, or a panic in it as [`BacktestError::FitFailed`] with its message.
fn caught<T>(fit: impl FnOnce() -> Result<T, BacktestError>) -> Result<T, BacktestError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(fit)).unwrap_or_else(|panic| {
        let reason = panic.downcast_ref::<&str>().map(ToString::to_string).or_else(|| panic.downcast_ref::<String>().cloned());
        Err(BacktestError::FitFailed(reason.unwrap_or_else(|| "a panic".into())))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PORTLAND: &[u8] =
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/samples/portland-nij/portland_nij.csv"));
    const LEVELS: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/risk/levels-v1.toml"));

    #[test]
    fn the_hottest_vehicle_theft_cells_of_portland_are_whistled() {
        let events = crate::read_events(PORTLAND).unwrap();
        let levels = LevelTable::load(LEVELS).unwrap();
        let at = NaiveDate::from_ymd_opt(2017, 3, 1).unwrap();
        let list = whistles(&events, "vehicle_theft", 300.0, Horizon::Month, at, &levels).unwrap();
        assert!(!list.is_empty() && list.len() < 2000, "{} cells", list.len());
        assert!(list.windows(2).all(|w| w[0].level >= w[1].level));
        for w in &list {
            assert_eq!(levels.level("vehicle_theft", w.probability, w.rising), Some(w.level));
            assert!((45.3..45.8).contains(&w.lat) && (-123.0..-122.3).contains(&w.lon));
        }
        // The forecast layer covers every study cell; the whistled ones are its likeliest.
        let all = forecast_cells(&events, "vehicle_theft", 300.0, Horizon::Month, at).unwrap();
        assert!(all.len() > list.len());
        let top = all.iter().map(CellForecast::probability).fold(0.0, f64::max);
        assert!(list.iter().all(|w| w.probability <= top + 1e-12));
        assert!(list.iter().any(|w| (w.probability - top).abs() < 1e-12), "the likeliest cell is whistled");
        assert!(all.iter().all(|c| c.expected >= 0.0 && (0.0..1.0).contains(&c.probability())));
        // The whistle's own forecast (stored by the nightly run for the heat map) is the layer's.
        let (again, cells) = whistles_and_forecast(&events, "vehicle_theft", 300.0, Horizon::Month, at, &levels).unwrap();
        assert_eq!(again.len(), list.len());
        assert_eq!(cells, all);
    }

    #[test]
    fn the_nightly_fits_are_each_horizons_own_fit() {
        let events = crate::read_events(PORTLAND).unwrap();
        let levels = LevelTable::load(LEVELS).unwrap();
        let at = NaiveDate::from_ymd_opt(2017, 3, 1).unwrap();
        // Fitted together on every core, each as fitted alone; a category the data does not
        // have fails on its own, leaving the others.
        let categories = ["vehicle_theft".to_owned(), "arson".to_owned()];
        let fits = nightly(&events, &categories, 300.0, at, &levels, true);
        assert_eq!(fits.iter().map(|f| f.category.as_str()).collect::<Vec<_>>(), ["vehicle_theft", "arson"]);
        let theft = &fits[0];
        let week = whistles_and_forecast(&events, "vehicle_theft", 300.0, Horizon::Week, at, &levels).unwrap();
        assert_eq!(theft.week.as_ref().unwrap(), &week);
        let (day, month) = (theft.day.as_ref().unwrap().as_ref().unwrap(), theft.month.as_ref().unwrap().as_ref().unwrap());
        for (fitted, horizon) in [(day, Horizon::Day), (month, Horizon::Month)] {
            let alone = forecast_cells(&events, "vehicle_theft", 300.0, horizon, at).unwrap();
            assert_eq!(fitted, &alone, "{horizon:?}");
        }
        let total = |cells: &[CellForecast]| cells.iter().map(|c| c.expected).sum::<f64>();
        assert!(total(month) > 10.0 * total(day), "a month holds many days");
        let arson = &fits[1];
        assert!(arson.week.is_err() && arson.day.as_ref().is_some_and(Result::is_err), "{arson:?}");
        assert!(arson.month.as_ref().is_some_and(Result::is_err));
        // The week alone when the day and the month are not wanted: the same week.
        let weeks = nightly(&events, &categories[..1], 300.0, at, &levels, false);
        assert!(weeks[0].day.is_none() && weeks[0].month.is_none());
        assert_eq!(weeks[0].week.as_ref().unwrap(), &week);
        assert!(nightly(&events, &[], 300.0, at, &levels, true).is_empty());
    }

    #[test]
    fn a_fit_that_panics_is_its_own_failure() {
        let failed: Result<(), _> = caught(|| panic!("boom at {}", 7));
        assert_eq!(failed, Err(BacktestError::FitFailed("boom at 7".into())));
        assert_eq!(caught(|| Ok(3)), Ok(3));
        assert_eq!(caught::<()>(|| Err(BacktestError::CellSize)), Err(BacktestError::CellSize));
    }
}
