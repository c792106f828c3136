//! Forecast scores. With the study cells ranked by a forecast, flagging a share of the area:
//! - hit rate = events in the flagged cells ÷ all events;
//! - PAI (predictive accuracy index) = hit rate ÷ share of the area flagged;
//! - PEI (predictive efficiency index) = events in the flagged cells ÷ the most events any
//!   choice of as many cells could hold.
//!
//! Cells tied at the boundary are flagged in part, in proportion (the expected result of
//! breaking ties at random), so a forecast of many equal scores gains nothing from cell order.
//! Probabilities are scored by the Brier score and a reliability table.

use serde::{Deserialize, Serialize};

/// Events captured by flagging `k` cells ranked by `score` (fractional over the boundary tie).
pub fn captured(score: &[f64], actual: &[f64], k: f64) -> f64 {
    let mut order: Vec<usize> = (0..score.len()).collect();
    order.sort_by(|&a, &b| score[b].total_cmp(&score[a]));
    let mut taken = 0.0;
    let mut events = 0.0;
    let mut i = 0;
    while i < order.len() && taken < k {
        let mut j = i;
        // total_cmp, not ==: a NaN equals itself here, so the loop always moves on.
        while j < order.len() && score[order[j]].total_cmp(&score[order[i]]).is_eq() {
            j += 1;
        }
        let group = (j - i) as f64;
        let group_events: f64 = order[i..j].iter().map(|&c| actual[c]).sum();
        let share = ((k - taken) / group).min(1.0);
        events += share * group_events;
        taken += share * group;
        i = j;
    }
    events
}

/// The most events `k` cells can hold.
pub fn best_possible(actual: &[f64], k: f64) -> f64 {
    let mut sorted = actual.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let whole = k.floor() as usize;
    let mut total: f64 = sorted.iter().take(whole).sum();
    if let Some(next) = sorted.get(whole) {
        total += (k - whole as f64) * next;
    }
    total
}

/// PAI and PEI of one forecast at a share of the area; `None` without events.
pub fn pai_pei(score: &[f64], actual: &[f64], share: f64) -> Option<(f64, f64)> {
    pai_pei_of(score, actual, share, actual.iter().sum())
}

/// The same with the hit rate over `total` events, those outside the study cells included.
pub fn pai_pei_of(score: &[f64], actual: &[f64], share: f64, total: f64) -> Option<(f64, f64)> {
    if total <= 0.0 || score.is_empty() {
        return None;
    }
    Some(flag(score, actual, share).pai_pei(total, score.len()))
}

/// The cells ranked highest by a forecast, a share of them flagged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Flagged {
    /// How many cells are flagged: the share of them, at least one.
    pub cells: f64,
    /// The events they hold (in part for cells tied at the boundary).
    pub captured: f64,
    /// The most events as many cells could hold.
    pub best: f64,
}

impl Flagged {
    /// PAI (the hit rate over `total` events ÷ the share of the `of` cells flagged) and PEI.
    pub fn pai_pei(&self, total: f64, of: usize) -> (f64, f64) {
        let area = self.cells / of as f64;
        (self.captured / total / area, if self.best > 0.0 { self.captured / self.best } else { 0.0 })
    }
}

/// Flags `share` of the cells ranked by `score` (at least one) against `actual`.
pub fn flag(score: &[f64], actual: &[f64], share: f64) -> Flagged {
    let cells = (share * score.len() as f64).max(1.0);
    Flagged { cells, captured: captured(score, actual, cells), best: best_possible(actual, cells) }
}

/// One bin of a reliability table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReliabilityBin {
    pub from: f64,
    pub to: f64,
    pub cells: u64,
    pub mean_forecast: f64,
    pub observed: f64,
}

/// Bin edges of the reliability tables.
pub const BINS: [f64; 8] = [0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 1.0];

/// Accumulates Brier score and reliability over (probability, happened) pairs.
#[derive(Debug, Clone, Default)]
pub struct Calibration {
    n: u64,
    squared: f64,
    bins: Vec<(u64, f64, f64)>,
}

impl Calibration {
    pub fn add(&mut self, p: f64, happened: bool) {
        if self.bins.is_empty() {
            self.bins = vec![(0, 0.0, 0.0); BINS.len() - 1];
        }
        let o = if happened { 1.0 } else { 0.0 };
        self.n += 1;
        self.squared += (p - o) * (p - o);
        let bin = BINS.windows(2).position(|w| p < w[1]).unwrap_or(BINS.len() - 2);
        let entry = &mut self.bins[bin];
        entry.0 += 1;
        entry.1 += p;
        entry.2 += o;
    }

    pub fn brier(&self) -> f64 {
        if self.n == 0 { 0.0 } else { self.squared / self.n as f64 }
    }

    pub fn table(&self) -> Vec<ReliabilityBin> {
        self.bins
            .iter()
            .enumerate()
            .filter(|(_, b)| b.0 > 0)
            .map(|(i, b)| ReliabilityBin {
                from: BINS[i],
                to: BINS[i + 1],
                cells: b.0,
                mean_forecast: b.1 / b.0 as f64,
                observed: b.2 / b.0 as f64,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn pai_and_pei_on_a_small_case() {
        // Ten cells; the forecast ranks cell 0 then 1; events: 3 in cell 0, 1 in cell 5.
        let score = [9.0, 8.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0];
        let actual = [3.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0];
        let (pai, pei) = pai_pei(&score, &actual, 0.1).unwrap();
        assert!((pai - 7.5).abs() < 1e-9 && (pei - 1.0).abs() < 1e-9, "{pai} {pei}");
        // Three cells: 0, 1 and a third of one of the eight tied cells (1/8 of event in 5 expected).
        let got = captured(&score, &actual, 3.0);
        assert!((got - (3.0 + 1.0 / 8.0)).abs() < 1e-9, "{got}");
        assert_eq!(pai_pei(&score, &[0.0; 10], 0.1), None);
    }

    #[test]
    fn brier_and_reliability() {
        let mut c = Calibration::default();
        for i in 0..100 {
            c.add(0.3, i < 30);
        }
        assert!((c.brier() - 0.21).abs() < 1e-9);
        let table = c.table();
        assert_eq!(table.len(), 1);
        assert!((table[0].observed - 0.3).abs() < 1e-9 && (table[0].mean_forecast - 0.3).abs() < 1e-9);
    }

    proptest! {
        /// PEI is between 0 and 1; a forecast equal to the outcome has PEI 1; captured events
        /// never exceed the best possible.
        #[test]
        fn pei_is_bounded_and_perfect_forecasts_score_one(
            actual in proptest::collection::vec(0u8..5, 5..60),
            noise in proptest::collection::vec(0.0f64..1.0, 60),
            share in 0.01f64..0.5,
        ) {
            let actual: Vec<f64> = actual.iter().map(|a| f64::from(*a)).collect();
            let score: Vec<f64> = noise[..actual.len()].to_vec();
            if let Some((pai, pei)) = pai_pei(&score, &actual, share) {
                prop_assert!(pai >= 0.0);
                prop_assert!((-1e-9..=1.0 + 1e-9).contains(&pei), "{pei}");
            }
            if let Some((_, pei)) = pai_pei(&actual, &actual, share) {
                prop_assert!((pei - 1.0).abs() < 1e-9, "{pei}");
            }
            let k = (share * actual.len() as f64).max(1.0);
            prop_assert!(captured(&score, &actual, k) <= best_possible(&actual, k) + 1e-9);
        }
    }
}
