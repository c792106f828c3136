//! The rolling-origin backtest: every model is fitted once on the history before the end of
//! training (nothing of the scoring period is used to choose anything), then at each origin of
//! the scoring period forecasts the next horizon from the events before that origin, and is
//! scored on what happened. The study area is the set of cells with at least one event of any
//! category before the end of training; the area shares of PAI count those cells only.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::events::{Event, date_of, day_number};
use crate::grid::Grid;
use crate::metrics::{Calibration, ReliabilityBin, pai_pei_of};
use crate::model::{Cells, Forecaster, KdeForecast, Ours, PreviousPeriod};

/// Shares of the area at which PAI and PEI are reported (percent).
pub const AREAS: [u32; 3] = [1, 5, 10];

/// The forecast horizon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Horizon {
    Day,
    Week,
    Month,
}

impl Horizon {
    /// `1d`, `day`; `7d`, `1w`, `week`; `30d`, `1m`, `month`.
    pub fn parse(text: &str) -> Option<Horizon> {
        match text.trim().to_ascii_lowercase().as_str() {
            "1d" | "day" => Some(Horizon::Day),
            "7d" | "1w" | "week" => Some(Horizon::Week),
            "30d" | "1m" | "month" => Some(Horizon::Month),
            _ => None,
        }
    }

    /// The horizon a query asks for: a week when it names none (blank or absent), else what
    /// `parse` reads; the text given back when it is none of them.
    pub fn or_week(text: Option<&str>) -> Result<Horizon, String> {
        match text.map(str::trim).filter(|t| !t.is_empty()) {
            None => Ok(Horizon::Week),
            Some(text) => Horizon::parse(text).ok_or_else(|| text.to_owned()),
        }
    }

    /// The horizon as `parse` reads it back: `1d`, `7d`, `30d`.
    pub fn code(self) -> &'static str {
        match self {
            Horizon::Day => "1d",
            Horizon::Week => "7d",
            Horizon::Month => "30d",
        }
    }

    pub fn days(self) -> i32 {
        match self {
            Horizon::Day => 1,
            Horizon::Week => 7,
            Horizon::Month => 30,
        }
    }
}

/// What to backtest.
#[derive(Debug, Clone)]
pub struct Backtest {
    pub cell_metres: f64,
    pub category: String,
    pub horizon: Horizon,
    /// The last day of training (inclusive).
    pub train_until: NaiveDate,
    /// At most this many origins (all the weekly origins of the scoring period by default).
    pub origins: Option<usize>,
    /// The last day a scored horizon may reach (the data's last day by default): a validation
    /// period before an official scoring window.
    pub score_until: Option<NaiveDate>,
    /// Days of history each training origin needs before it: a year (365) normally; less only
    /// for published sets that cover weeks.
    pub min_history_days: i32,
    /// Also score the hindsight maps of [`crate::hindsight`] (a reference, not a forecast).
    pub hindsight: bool,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BacktestError {
    #[error("no event has category {wanted:?}; the file has: {known}")]
    CategoryUnknown { wanted: String, known: String },
    #[error("no event before the end of training ({0})")]
    NoTraining(NaiveDate),
    #[error("the events end before a first horizon after {0} is complete: nothing to score")]
    NothingToScore(NaiveDate),
    #[error("the cell size must be between 10 and 10,000 metres")]
    CellSize,
    #[error(
        "the events before the end of training spread too far for cells of this size (over 4,000,000 cells): check for stray points"
    )]
    TooManyCells,
    #[error("fewer than {0} days and a horizon of history before the end of training: nothing to fit on")]
    TooLittleHistory(i32),
    /// A fit that panicked (a defect), kept to its own category by the nightly run.
    #[error("the fit failed: {0}")]
    FitFailed(String),
}

/// One model's scores.
#[derive(Debug, Clone, Serialize)]
pub struct ModelScore {
    /// Mean over the origins with events, by area percent.
    pub pai: BTreeMap<String, f64>,
    pub pei: BTreeMap<String, f64>,
    pub brier: f64,
    pub reliability: Vec<ReliabilityBin>,
}

/// The backtest's report (`--json` prints it).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub models: BTreeMap<String, ModelScore>,
    pub category: String,
    pub horizon_days: i32,
    pub cell_metres: f64,
    pub train_until: NaiveDate,
    pub origins: Vec<NaiveDate>,
    pub study_cells: usize,
    pub training_events: usize,
    /// Events of the scoring horizons, and of them those outside the study cells (they count in
    /// the hit rate's denominator and can never be captured).
    pub scored_events: f64,
    pub scored_outside_study: f64,
    /// The kernel-density baseline's cross-validated window (days; null: all) and bandwidth (m).
    pub kde_window_days: Option<i32>,
    pub kde_bandwidth_metres: f64,
    /// Our model's feature set, chosen on the training origins, and its weights: background,
    /// kernel density, then half-life × spread, then every category's (see docs/RISK.md).
    pub ours_feature_set: String,
    pub ours_weights: Vec<f64>,
    /// PAI at 5% of ours ÷ kernel density's and ÷ previous period's; PEI at 5% of ours − kernel density's.
    pub pai5_over_kde: f64,
    pub pai5_over_previous: f64,
    pub pei5_minus_kde: f64,
    /// With `--hindsight`: the scores of stationary maps drawn with hindsight (see
    /// [`crate::hindsight`]), one per bandwidth; a reference for what the goals ask, never a
    /// forecast.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hindsight: Option<Vec<HindsightScore>>,
}

/// The PAI and PEI of one hindsight map.
#[derive(Debug, Clone, Serialize)]
pub struct HindsightScore {
    pub bandwidth_metres: f64,
    pub pai: BTreeMap<String, f64>,
    pub pei: BTreeMap<String, f64>,
}

/// The category's events on a grid laid over the events before `train_end` (exclusive day), the
/// study area being the cells with any event before it.
pub fn cells_for(events: &[Event], category: &str, cell_metres: f64, train_end: i32) -> Result<Cells, BacktestError> {
    if !events.iter().any(|e| e.category == category) {
        let mut known: Vec<&str> = events.iter().map(|e| e.category.as_str()).collect();
        known.sort_unstable();
        known.dedup();
        return Err(BacktestError::CategoryUnknown { wanted: category.to_owned(), known: known.join(", ") });
    }
    let before: Vec<&Event> = events.iter().filter(|e| e.day < train_end).collect();
    if before.is_empty() {
        return Err(BacktestError::NoTraining(date_of(train_end - 1)));
    }
    // The grid is laid over the training events only: nothing after training shapes it.
    let grid = Grid::covering(before.iter().map(|e| (e.lon, e.lat)), cell_metres).ok_or(BacktestError::TooManyCells)?;
    let mut study: Vec<usize> = before.iter().filter_map(|e| grid.cell_of(e.lon, e.lat)).collect();
    study.sort_unstable();
    study.dedup();
    let on_grid = |wanted: Option<&str>| {
        let mut out: Vec<(i32, usize)> = events
            .iter()
            .filter(|e| wanted.is_none_or(|c| e.category == c))
            .filter_map(|e| grid.cell_of(e.lon, e.lat).map(|c| (e.day, c)))
            .collect();
        out.sort_unstable();
        out
    };
    let (category_events, all_events) = (on_grid(Some(category)), on_grid(None));
    let first_day = events.iter().map(|e| e.day).min().unwrap_or(train_end);
    Ok(Cells { grid, study, events: category_events, all_events, first_day })
}

/// Runs the backtest on `events`.
pub fn run(events: &[Event], spec: &Backtest) -> Result<Report, BacktestError> {
    if !(10.0..=10_000.0).contains(&spec.cell_metres) {
        return Err(BacktestError::CellSize);
    }
    let train_end = day_number(spec.train_until) + 1;
    let horizon = spec.horizon.days();
    let cells = cells_for(events, &spec.category, spec.cell_metres, train_end).map_err(|e| match e {
        BacktestError::NoTraining(_) => BacktestError::NoTraining(spec.train_until),
        other => other,
    })?;
    // Every event of the category by day, on the grid or not: the hit rate's denominator.
    let mut category_days: Vec<i32> = events.iter().filter(|e| e.category == spec.category).map(|e| e.day).collect();
    category_days.sort_unstable();
    let in_horizon = |origin: i32| {
        (category_days.partition_point(|d| *d < origin + horizon) - category_days.partition_point(|d| *d < origin)) as f64
    };
    let last_day = events.iter().map(|e| e.day).max().unwrap_or(train_end);

    let stride = 7;
    let training = cells.training_origins(train_end, horizon, stride, 730, spec.min_history_days);
    if training.is_empty() {
        return Err(BacktestError::TooLittleHistory(spec.min_history_days));
    }
    let scoring_end = spec.score_until.map_or(last_day, |d| day_number(d).min(last_day));
    let mut scoring: Vec<i32> = (0..).map(|k| train_end + k * stride).take_while(|t| t + horizon <= scoring_end + 1).collect();
    if let Some(n) = spec.origins {
        scoring.truncate(n.max(1));
    }
    if scoring.is_empty() {
        return Err(BacktestError::NothingToScore(spec.train_until));
    }

    let previous = PreviousPeriod::fit(&cells, &training, horizon);
    let kde = KdeForecast::fit(&cells, &training, horizon);
    let ours = Ours::fit(&cells, kde.kde, &training, horizon);
    let models: [&dyn Forecaster; 3] = [&ours, &kde, &previous];

    let mut scores = BTreeMap::new();
    for model in models {
        let (pai, pei, calibration) =
            score_origins(&cells, &scoring, horizon, &in_horizon, |t| model.expected(&cells, t, horizon));
        scores.insert(
            model.name().to_owned(),
            ModelScore { pai, pei, brier: calibration.brier(), reliability: calibration.table() },
        );
    }
    let scored_events: f64 = scoring.iter().map(|&t| in_horizon(t)).sum();
    let outside_study = scored_events - scoring.iter().map(|&t| cells.outcome(t, horizon).iter().sum::<f64>()).sum::<f64>();
    let hindsight = spec.hindsight.then(|| {
        crate::hindsight::SIGMAS
            .iter()
            .map(|&sigma| {
                let (pai, pei, _) = score_origins(&cells, &scoring, horizon, &in_horizon, |t| {
                    crate::hindsight::surface(&cells, t, horizon, sigma)
                });
                HindsightScore { bandwidth_metres: sigma * spec.cell_metres, pai, pei }
            })
            .collect()
    });
    let at5 = |model: &str, table: fn(&ModelScore) -> &BTreeMap<String, f64>| {
        scores.get(model).and_then(|s| table(s).get("5").copied()).unwrap_or(0.0)
    };
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    let pai5_over_kde = ratio(at5("ours", |s| &s.pai), at5("kde", |s| &s.pai));
    let pai5_over_previous = ratio(at5("ours", |s| &s.pai), at5("previous_period", |s| &s.pai));
    let pei5_minus_kde = at5("ours", |s| &s.pei) - at5("kde", |s| &s.pei);
    Ok(Report {
        models: scores,
        category: spec.category.clone(),
        horizon_days: horizon,
        cell_metres: spec.cell_metres,
        train_until: spec.train_until,
        origins: scoring.iter().map(|&d| date_of(d)).collect(),
        study_cells: cells.study.len(),
        training_events: cells.events.iter().filter(|(d, _)| *d < train_end).count(),
        scored_events,
        scored_outside_study: outside_study,
        kde_window_days: kde.kde.window,
        kde_bandwidth_metres: kde.kde.sigma * spec.cell_metres,
        ours_feature_set: ours.feature_set.to_owned(),
        ours_weights: ours.weights.clone(),
        pai5_over_kde,
        pai5_over_previous,
        pei5_minus_kde,
        hindsight,
    })
}

/// Mean PAI and PEI by area percent over the origins with events, and the calibration of the
/// probabilities, of the forecasts `expected(origin)`.
fn score_origins(
    cells: &Cells,
    scoring: &[i32],
    horizon: i32,
    in_horizon: &dyn Fn(i32) -> f64,
    expected: impl Fn(i32) -> Vec<f64>,
) -> (BTreeMap<String, f64>, BTreeMap<String, f64>, Calibration) {
    let mut pai: BTreeMap<u32, (f64, u32)> = BTreeMap::new();
    let mut pei: BTreeMap<u32, (f64, u32)> = BTreeMap::new();
    let mut calibration = Calibration::default();
    for &origin in scoring {
        let expected = expected(origin);
        let actual = cells.outcome(origin, horizon);
        let total = in_horizon(origin);
        for area in AREAS {
            if let Some((a, e)) = pai_pei_of(&expected, &actual, f64::from(area) / 100.0, total) {
                let entry = pai.entry(area).or_default();
                (entry.0, entry.1) = (entry.0 + a, entry.1 + 1);
                let entry = pei.entry(area).or_default();
                (entry.0, entry.1) = (entry.0 + e, entry.1 + 1);
            }
        }
        for (lambda, y) in expected.iter().zip(&actual) {
            calibration.add(1.0 - (-lambda.max(0.0)).exp(), *y > 0.0);
        }
    }
    let mean = |table: &BTreeMap<u32, (f64, u32)>| -> BTreeMap<String, f64> {
        table.iter().map(|(area, (sum, n))| (area.to_string(), sum / f64::from((*n).max(1)))).collect()
    };
    (mean(&pai), mean(&pei), calibration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn horizons_are_read_in_days_weeks_and_months() {
        assert_eq!(
            ["1d", "DAY", "7d", "1w", "30d", "month"].map(|t| Horizon::parse(t).map(Horizon::days)),
            [Some(1), Some(1), Some(7), Some(7), Some(30), Some(30)]
        );
        assert_eq!(Horizon::parse("2w"), None);
        assert_eq!(Horizon::or_week(None), Ok(Horizon::Week));
        assert_eq!(Horizon::or_week(Some(" ")), Ok(Horizon::Week));
        assert_eq!(Horizon::or_week(Some(" 30d ")), Ok(Horizon::Month));
        assert_eq!(Horizon::or_week(Some(" 2w ")), Err("2w".to_owned()));
        for h in [Horizon::Day, Horizon::Week, Horizon::Month] {
            assert_eq!(Horizon::parse(h.code()), Some(h), "a code reads back");
        }
    }

    #[test]
    fn a_day_ahead_backtest_scores_each_origin_for_one_day() {
        let events = crate::read_events(include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../data/samples/portland-nij/portland_nij.csv"
        )))
        .unwrap();
        let spec = Backtest {
            cell_metres: 300.0,
            category: "vehicle_theft".into(),
            horizon: Horizon::Day,
            train_until: NaiveDate::from_ymd_opt(2017, 2, 28).unwrap(),
            origins: Some(3),
            score_until: None,
            min_history_days: 365,
            hindsight: false,
        };
        let report = run(&events, &spec).unwrap();
        assert_eq!(report.horizon_days, 1);
        assert_eq!(report.origins.len(), 3);
        let ours = &report.models["ours"];
        assert!(ours.brier > 0.0 && ours.brier < 0.05, "a day's probabilities are small: {}", ours.brier);
    }
}
