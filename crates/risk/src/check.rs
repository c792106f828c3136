//! A forecast checked once its horizon has passed (预测检验): the study cells it ranked highest,
//! a share of them flagged, against the events that happened. These are the backtest's PAI and
//! PEI on the stored events of one county and one horizon. Beside them, the same number of cells
//! ranked by the counts of the horizon before (previous-period counts, the simplest baseline),
//! so that a reader can tell a good week of the model from a week that was easy to forecast.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::backtest::{Horizon, cells_for};
use crate::events::{Event, day_number};
use crate::metrics::{Calibration, ReliabilityBin, flag};

/// The share of the study cells a check flags: 5%, the share the backtest's goals are set at.
pub const CHECK_SHARE: f64 = 0.05;

/// How a forecast did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ForecastCheck {
    /// Located events of the forecast's categories over its horizon, those outside the study
    /// cells included (they count against the hit rate and can never be captured).
    pub events: usize,
    /// Of them, in the study cells.
    pub in_study: usize,
    /// The study cells, the share of them asked to be flagged, and how many cells are (at
    /// least one: with fewer than 20 study cells that is more than the share).
    pub study_cells: usize,
    pub share: f64,
    pub flagged_cells: f64,
    /// Events in the flagged cells (in part for cells tied at the boundary); the PAI, their
    /// share of `events` (the hit rate) over the flagged cells' share of the study cells; and
    /// the PEI (1 is the most the same number of cells could have held).
    pub captured: f64,
    pub pai: f64,
    pub pei: f64,
    /// The same for the cells with the most events in the horizon before the forecast's.
    pub previous_captured: f64,
    pub previous_pai: f64,
}

impl ForecastCheck {
    /// The share of the horizon's events the flagged cells held, in percent (0 with no event).
    pub fn hit_rate_percent(&self) -> f64 {
        if self.events > 0 { self.captured / self.events as f64 * 100.0 } else { 0.0 }
    }
}

/// Whether a forecast's probabilities held: over its study cells, the probability of at least
/// one event (1 − e^(−λ)) against whether one happened, as the backtest's Brier score and
/// reliability table (its bins; only those with a cell). A quiet horizon is calibrated too:
/// every cell's outcome was none, which tells as much about the probabilities as a busy one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Calibrated {
    pub cells: usize,
    pub brier: f64,
    pub reliability: Vec<ReliabilityBin>,
}

impl Calibrated {
    /// The Brier score of forecasting every cell at the share of the cells that had an event
    /// (known only afterwards): the reference a forecast worth reading scores below.
    pub fn reference_brier(&self) -> f64 {
        let happened = self.reliability.iter().map(|b| b.observed * b.cells as f64).sum::<f64>() / self.cells.max(1) as f64;
        happened * (1.0 - happened)
    }
}

/// A past forecast set against what happened: its check when the horizon held an event of its
/// categories, and the calibration of its probabilities in any case.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub check: Option<ForecastCheck>,
    pub calibration: Calibrated,
}

impl Outcome {
    /// The check and the calibration of a [`check`]'s outcome, each None without one.
    pub fn split(outcome: Option<Outcome>) -> (Option<ForecastCheck>, Option<Calibrated>) {
        outcome.map_or((None, None), |o| (o.check, Some(o.calibration)))
    }
}

/// Checks `expected` (per study cell, in the order of the cells the forecast of `categories`
/// from `at` was fitted on, with cells of `cell_metres`) against the events of `categories`
/// over the horizon, and calibrates its probabilities, in one pass over the events. `events`
/// must hold every located event before the horizon's end: those before `at` lay the grid and
/// the study cells as the fit did. The check is None when the horizon held no event of the
/// categories; the whole is None when `expected` is not a forecast on those cells (fitted on
/// other events).
pub fn check(
    events: &[Event],
    categories: &[String],
    cell_metres: f64,
    horizon: Horizon,
    at: NaiveDate,
    expected: &[f64],
) -> Option<Outcome> {
    let origin = day_number(at);
    // Every category's forecast has the same cells: the grid and the study cells are laid over
    // the events of every category before the origin.
    let cells = cells_for(events, categories.first()?, cell_metres, origin).ok()?;
    if expected.is_empty() || expected.len() != cells.study.len() {
        return None;
    }
    let h = horizon.days();
    let mut actual = vec![0.0; cells.study.len()];
    let mut previous = vec![0.0; cells.study.len()];
    let mut total = 0;
    for event in events.iter().filter(|e| categories.contains(&e.category)) {
        let during = (origin..origin + h).contains(&event.day);
        let before = (origin - h..origin).contains(&event.day);
        total += usize::from(during);
        let study = cells.grid.cell_of(event.lon, event.lat).and_then(|c| cells.study.binary_search(&c).ok());
        match (study, during, before) {
            (Some(i), true, _) => actual[i] += 1.0,
            (Some(i), _, true) => previous[i] += 1.0,
            _ => {}
        }
    }
    let mut calibration = Calibration::default();
    for (lambda, happened) in expected.iter().zip(&actual) {
        // A NaN expectation (none is fitted so) would count as a probability of zero.
        calibration.add(1.0 - (-lambda.max(0.0)).exp(), *happened > 0.0);
    }
    let calibration = Calibrated { cells: expected.len(), brier: calibration.brier(), reliability: calibration.table() };
    if total == 0 {
        return Some(Outcome { check: None, calibration });
    }
    let (model, baseline) = (flag(expected, &actual, CHECK_SHARE), flag(&previous, &actual, CHECK_SHARE));
    let (pai, pei) = model.pai_pei(total as f64, expected.len());
    let check = ForecastCheck {
        events: total,
        in_study: actual.iter().sum::<f64>() as usize,
        study_cells: expected.len(),
        share: CHECK_SHARE,
        flagged_cells: model.cells,
        captured: model.captured,
        pai,
        pei,
        previous_captured: baseline.captured,
        previous_pai: baseline.pai_pei(total as f64, expected.len()).0,
    };
    Some(Outcome { check: Some(check), calibration })
}

#[cfg(test)]
mod tests {
    use super::*;

    const AT: i32 = 20_000;

    fn event(day: i32, lon: f64, category: &str) -> Event {
        Event { day, lon, lat: 28.6, category: category.into() }
    }

    /// Forty cells along a line of longitudes 0.01° apart (about 980 m, cells of 500 m), each
    /// with an event of `theft` a year before the origin, so that every one is a study cell.
    fn history() -> Vec<Event> {
        (0..40).map(|k| event(AT - 365, 121.0 + 0.01 * f64::from(k), "theft")).collect()
    }

    fn study_index(events: &[Event], lon: f64) -> usize {
        let cells = cells_for(events, "theft", 500.0, AT).unwrap();
        cells.study.binary_search(&cells.grid.cell_of(lon, 28.6).unwrap()).unwrap()
    }

    fn categories() -> Vec<String> {
        vec!["theft".to_owned()]
    }

    /// The check alone, as most tests read it.
    fn checked(
        events: &[Event],
        categories: &[String],
        metres: f64,
        horizon: Horizon,
        expected: &[f64],
    ) -> Option<ForecastCheck> {
        check(events, categories, metres, horizon, chrono_of(AT), expected)?.check
    }

    #[test]
    fn a_forecast_that_ranks_the_cells_of_the_week_first_captures_them() {
        let mut events = history();
        // The week: three events in cell 7, one in cell 30, one outside every study cell.
        events.extend([7, 7, 7, 30].map(|k| event(AT + 2, 121.0 + 0.01 * f64::from(k), "theft")));
        events.push(event(AT + 3, 125.0, "theft"));
        // The week before: two in cell 12 on its last day and one in cell 30 on its first (what
        // previous-period counts rank first), and one in cell 7 the day before it, not counted.
        events.extend([12, 12].map(|k| event(AT - 1, 121.0 + 0.01 * f64::from(k), "theft")));
        events.push(event(AT - 7, 121.0 + 0.01 * 30.0, "theft"));
        events.push(event(AT - 8, 121.0 + 0.01 * 7.0, "theft"));
        // Another category's events in cell 12 during the week are not this check's.
        events.push(event(AT + 1, 121.12, "fraud"));
        let mut expected = vec![0.1; 40];
        expected[study_index(&events, 121.07)] = 2.0;
        let got = checked(&events, &categories(), 500.0, Horizon::Week, &expected).unwrap();
        // 5% of 40 cells is 2: cell 7 first (3 events), then one of the 39 tied cells, which hold
        // the remaining study event between them: 1/39 of it.
        assert_eq!((got.events, got.in_study, got.study_cells, got.flagged_cells), (5, 4, 40, 2.0));
        // The probabilities: 39 cells at 1 − e^(−0.1) ≈ 9.5%, one of which (cell 30) had an
        // event; cell 7 at 1 − e^(−2) ≈ 86.5%, which had. The bins are the backtest's.
        let (low, high) = (1.0 - (-0.1f64).exp(), 1.0 - (-2.0f64).exp());
        let outcome = check(&events, &categories(), 500.0, Horizon::Week, chrono_of(AT), &expected).unwrap();
        let calibrated = outcome.calibration;
        let bins: Vec<(f64, u64)> = calibrated.reliability.iter().map(|b| (b.from, b.cells)).collect();
        assert_eq!((calibrated.cells, bins), (40, vec![(0.05, 39), (0.4, 1)]));
        let (lower, upper) = (&calibrated.reliability[0], &calibrated.reliability[1]);
        assert!((lower.mean_forecast - low).abs() < 1e-12 && (lower.observed - 1.0 / 39.0).abs() < 1e-12);
        assert!((upper.mean_forecast - high).abs() < 1e-12 && upper.observed == 1.0);
        let brier = (38.0 * low * low + (1.0 - low).powi(2) + (1.0 - high).powi(2)) / 40.0;
        assert!((calibrated.brier - brier).abs() < 1e-12, "{} {brier}", calibrated.brier);
        // Two of the forty cells had an event: the mean-rate reference is 5% × 95%.
        assert!((calibrated.reference_brier() - 0.05 * 0.95).abs() < 1e-12, "{}", calibrated.reference_brier());
        assert!((got.captured - (3.0 + 1.0 / 39.0)).abs() < 1e-12, "{}", got.captured);
        assert!((got.pai - got.captured / 5.0 / 0.05).abs() < 1e-12, "{}", got.pai);
        // The best two cells hold 4 events.
        assert!((got.pei - got.captured / 4.0).abs() < 1e-12, "{}", got.pei);
        // Previous-period counts flag cell 12 (no event in the week) and cell 30 (one).
        assert_eq!(got.previous_captured, 1.0);
        assert!((got.previous_pai - 1.0 / 5.0 / 0.05).abs() < 1e-12, "{}", got.previous_pai);
    }

    #[test]
    fn a_quiet_horizon_or_a_forecast_on_other_cells_is_not_checked() {
        let events = history();
        let expected = vec![0.1; 40];
        // No event of the category over the week: nothing to check, but the probabilities are
        // calibrated all the same (every cell at 9.5%, none with an event).
        assert_eq!(checked(&events, &categories(), 500.0, Horizon::Week, &expected), None);
        let quiet = check(&events, &categories(), 500.0, Horizon::Week, chrono_of(AT), &expected).unwrap();
        let p = 1.0 - (-0.1f64).exp();
        assert_eq!((quiet.check, quiet.calibration.cells, quiet.calibration.reliability.len()), (None, 40, 1));
        assert!((quiet.calibration.brier - p * p).abs() < 1e-12 && quiet.calibration.reliability[0].observed == 0.0);
        let mut events = events;
        events.push(event(AT + 1, 121.05, "theft"));
        assert!(checked(&events, &categories(), 500.0, Horizon::Week, &expected).is_some());
        // A forecast with another number of cells was fitted on other events.
        assert_eq!(checked(&events, &categories(), 500.0, Horizon::Week, &expected[1..]), None);
        // A category with no event at all.
        assert_eq!(checked(&events, &["fraud".to_owned()], 500.0, Horizon::Week, &expected), None);
    }

    #[test]
    fn events_after_the_horizon_are_not_counted() {
        let mut events = history();
        events.push(event(AT + 6, 121.05, "theft"));
        events.push(event(AT + 7, 121.05, "theft"));
        let expected = vec![0.1; 40];
        let week = checked(&events, &categories(), 500.0, Horizon::Week, &expected).unwrap();
        assert_eq!(week.events, 1);
        let month = checked(&events, &categories(), 500.0, Horizon::Month, &expected).unwrap();
        assert_eq!(month.events, 2);
    }

    fn chrono_of(day: i32) -> NaiveDate {
        crate::events::date_of(day)
    }

    proptest::proptest! {
        /// Whatever the events and the forecast: the flagged cells hold no more than the study
        /// cells, which hold no more than every event; PEI is at most 1; PAI is the hit rate over
        /// the share flagged. A forecast that knew the week's counts has a PEI of 1.
        #[test]
        fn checks_are_bounded_and_foresight_is_perfect(
            history in proptest::collection::vec((0i32..60, 0u8..30), 1..60),
            week in proptest::collection::vec((0i32..7, 0u8..40), 1..40),
            scores in proptest::collection::vec(0.0f64..3.0, 60),
        ) {
            let place = |k: u8| 121.0 + 0.004 * f64::from(k);
            let mut events: Vec<Event> = history.iter().map(|(d, k)| event(AT - 1 - d, place(*k), "theft")).collect();
            events.extend(week.iter().map(|(d, k)| event(AT + d, place(*k), "theft")));
            let cells = cells_for(&events, "theft", 300.0, AT).unwrap();
            let expected: Vec<f64> = scores.iter().cycle().take(cells.study.len()).copied().collect();
            let got = checked(&events, &categories(), 300.0, Horizon::Week, &expected).unwrap();
            proptest::prop_assert_eq!(got.events, week.len());
            proptest::prop_assert!(got.captured <= got.in_study as f64 + 1e-9 && got.in_study <= got.events, "{:?}", got);
            proptest::prop_assert!(got.pei <= 1.0 + 1e-9, "{:?}", got);
            let calibrated = check(&events, &categories(), 300.0, Horizon::Week, chrono_of(AT), &expected).unwrap().calibration;
            let binned: u64 = calibrated.reliability.iter().map(|b| b.cells).sum();
            proptest::prop_assert_eq!(binned, got.study_cells as u64);
            proptest::prop_assert!((0.0..=1.0).contains(&calibrated.brier), "{:?}", calibrated);
            let share = got.flagged_cells / got.study_cells as f64;
            proptest::prop_assert!((got.pai - got.captured / got.events as f64 / share).abs() < 1e-9, "{:?}", got);
            let foresight = cells.outcome(AT, 7);
            let perfect = checked(&events, &categories(), 300.0, Horizon::Week, &foresight).unwrap();
            if perfect.in_study > 0 {
                proptest::prop_assert!((perfect.pei - 1.0).abs() < 1e-9, "{:?}", perfect);
            }
        }
    }
}
