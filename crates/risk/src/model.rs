//! The events of one category on the grid, and the forecasters: each, once fitted on the
//! history before the end of training, gives for an origin day the expected count of events per
//! study cell over the horizon (the probability of at least one is 1 − e^(−λ), the Poisson's).
//!
//! - `previous_period`: the count in the last horizon before the origin, scaled (with a
//!   background rate) by a Poisson fit on the training origins.
//! - `kde`: kernel density of the events in a window before the origin, the window and the
//!   bandwidth chosen by likelihood cross-validation on the training origins (`kde.rs`).
//! - `ours`: a background rate plus the exponentially decayed past counts of the category in the
//!   cell at five time scales (half-lives of 7, 30, 90, 365 and 1,460 days), each also spread
//!   over the neighbourhood (Gaussian σ of 250, 600 and 1,200 m), and those of every category
//!   (half-lives of 30 and 365 days, in the cell and over 600 m): a discrete multi-scale
//!   self-exciting process whose 26 non-negative weights are fitted by Poisson maximum
//!   likelihood (`poisson.rs`).

use crate::grid::Grid;
use crate::kde::Kde;
use crate::poisson::{Design, fit, fit_from};

/// The events of the forecast category on the grid, and the study area.
#[derive(Debug, Clone)]
pub struct Cells {
    pub grid: Grid,
    /// The study cells (grid indices): those with at least one event of any category before the
    /// end of training.
    pub study: Vec<usize>,
    /// (day, cell) of each event of the category, by day.
    pub events: Vec<(i32, usize)>,
    /// (day, cell) of the events of every category, by day.
    pub all_events: Vec<(i32, usize)>,
    /// The first day of the data.
    pub first_day: i32,
}

impl Cells {
    /// Per grid cell, the events in days `[from, to)`.
    pub fn counts(&self, from: i32, to: i32) -> Vec<f64> {
        self.counts_after(self.first_event(from), to)
    }

    /// The index of the first event on or after day `from`.
    pub fn first_event(&self, from: i32) -> usize {
        self.events.partition_point(|(d, _)| *d < from)
    }

    /// Per grid cell, the events from the one at index `start` up to day `to` (exclusive).
    pub fn counts_after(&self, start: usize, to: i32) -> Vec<f64> {
        let mut out = vec![0.0; self.grid.len()];
        for (_, cell) in self.events[start..].iter().take_while(|(d, _)| *d < to) {
            out[*cell] += 1.0;
        }
        out
    }

    /// Actual counts per study cell over `[origin, origin + horizon)`.
    pub fn outcome(&self, origin: i32, horizon: i32) -> Vec<f64> {
        let counts = self.counts(origin, origin + horizon);
        self.study.iter().map(|&c| counts[c]).collect()
    }

    /// Origins for fitting: every `stride` days back from the last one whose horizon ends by
    /// `train_end` (exclusive), over at most `span` days, each with `history` days of events
    /// before it (a year normally; less for short published sets, whose yearly features then
    /// see only what there is).
    pub fn training_origins(&self, train_end: i32, horizon: i32, stride: i32, span: i32, history: i32) -> Vec<i32> {
        let last = train_end - horizon;
        let first = (last - span).max(self.first_day + history);
        let mut out: Vec<i32> = (0..).map(|k| last - k * stride).take_while(|t| *t >= first).collect();
        out.reverse();
        out
    }
}

/// The decayed counts of a list of events (by day) per grid cell, Σ 2^(−(origin − day)/half-life)
/// over the events before an origin, carried forward through ascending origins: the sums at T₂
/// are those at T₁ scaled by 2^(−(T₂ − T₁)/half-life), plus the events of [T₁, T₂). A fit reads
/// them at a hundred weekly origins; this way the history is read once, not once per origin (the
/// same sums as afresh at each origin but for rounding in the last bits; at the first origin,
/// exactly those). `events` must be by day, as [`Cells`] keeps them.
#[derive(Debug)]
pub struct Decaying<'a> {
    events: &'a [(i32, usize)],
    rate: f64,
    origin: Option<i32>,
    /// The first event not yet counted.
    next: usize,
    sums: Vec<f64>,
}

impl<'a> Decaying<'a> {
    pub fn new(events: &'a [(i32, usize)], half_life: f64, cells: usize) -> Decaying<'a> {
        Decaying { events, rate: std::f64::consts::LN_2 / half_life, origin: None, next: 0, sums: vec![0.0; cells] }
    }

    /// The decayed counts at `origin`, which is not before the last one asked for.
    pub fn at(&mut self, origin: i32) -> &[f64] {
        if let Some(last) = self.origin {
            assert!(origin >= last, "origins go forward: {origin} after {last}");
            let scale = (-f64::from(origin - last) * self.rate).exp();
            self.sums.iter_mut().for_each(|s| *s *= scale);
        }
        let end = self.next + self.events[self.next..].partition_point(|(d, _)| *d < origin);
        for (day, cell) in &self.events[self.next..end] {
            self.sums[*cell] += (-(f64::from(origin - day) - 0.5) * self.rate).exp();
        }
        (self.next, self.origin) = (end, Some(origin));
        &self.sums
    }
}

/// A fitted forecaster.
pub trait Forecaster {
    fn name(&self) -> &'static str;
    /// Expected events per study cell over `[origin, origin + horizon)`.
    fn expected(&self, cells: &Cells, origin: i32, horizon: i32) -> Vec<f64>;
}

/// Scales a score by a Poisson fit of λ = a + b·score over the training origins.
fn calibrate(cells: &Cells, origins: &[i32], horizon: i32, score: impl Fn(i32) -> Vec<f64>) -> (f64, f64) {
    let mut design = Design::new(2);
    for &t in origins {
        let s = score(t);
        for (v, y) in s.iter().zip(cells.outcome(t, horizon)) {
            design.add(&[1.0, *v], y);
        }
    }
    let beta = fit(&design, 300);
    (beta[0], beta[1])
}

/// Previous-period counts.
#[derive(Debug, Clone)]
pub struct PreviousPeriod {
    a: f64,
    b: f64,
}

impl PreviousPeriod {
    fn score(cells: &Cells, origin: i32, horizon: i32) -> Vec<f64> {
        let counts = cells.counts(origin - horizon, origin);
        cells.study.iter().map(|&c| counts[c]).collect()
    }

    pub fn fit(cells: &Cells, origins: &[i32], horizon: i32) -> PreviousPeriod {
        let (a, b) = calibrate(cells, origins, horizon, |t| PreviousPeriod::score(cells, t, horizon));
        PreviousPeriod { a, b }
    }
}

impl Forecaster for PreviousPeriod {
    fn name(&self) -> &'static str {
        "previous_period"
    }
    fn expected(&self, cells: &Cells, origin: i32, horizon: i32) -> Vec<f64> {
        PreviousPeriod::score(cells, origin, horizon).iter().map(|s| self.a + self.b * s).collect()
    }
}

/// Kernel density, calibrated.
#[derive(Debug, Clone)]
pub struct KdeForecast {
    pub kde: Kde,
    a: f64,
    b: f64,
}

impl KdeForecast {
    pub fn fit(cells: &Cells, origins: &[i32], horizon: i32) -> KdeForecast {
        let kde = Kde::cross_validated(cells, origins, horizon);
        let (a, b) = calibrate(cells, origins, horizon, |t| kde.density(cells, t));
        KdeForecast { kde, a, b }
    }
}

impl Forecaster for KdeForecast {
    fn name(&self) -> &'static str {
        "kde"
    }
    fn expected(&self, cells: &Cells, origin: i32, _horizon: i32) -> Vec<f64> {
        self.kde.density(cells, origin).iter().map(|s| self.a + self.b * s).collect()
    }
}

/// Half-lives (days) of the recency features of the category.
pub const HALF_LIVES: [f64; 5] = [7.0, 30.0, 90.0, 365.0, 1460.0];
/// Neighbourhood spreads (metres, Gaussian σ) of each recency feature; 0 is the cell itself.
pub const SPREADS: [f64; 4] = [0.0, 250.0, 600.0, 1200.0];
/// Half-lives and spreads of the recency features of every category together.
pub const ALL_HALF_LIVES: [f64; 2] = [30.0, 365.0];
pub const ALL_SPREADS: [f64; 2] = [0.0, 600.0];

/// Our model: the multi-scale self-exciting Poisson model.
#[derive(Debug, Clone)]
pub struct Ours {
    pub weights: Vec<f64>,
    /// The feature set chosen on the training origins (see [`FEATURE_SETS`]).
    pub feature_set: &'static str,
    /// The cross-validated kernel density, one more feature (the long-run smooth surface).
    pub kde: Kde,
}

impl Ours {
    pub const FEATURES: usize = 2 + HALF_LIVES.len() * SPREADS.len() + ALL_HALF_LIVES.len() * ALL_SPREADS.len();

    /// The features of every study cell at `origin`: a constant; each half-life × spread of the
    /// category's events; each of the all-category ones.
    pub fn features(cells: &Cells, kde: &Kde, origin: i32) -> Vec<Vec<f64>> {
        Ours::features_at(cells, kde, &[origin]).pop().unwrap_or_default()
    }

    /// [`Ours::features`] at each of `origins` (ascending), the decayed counts carried from one
    /// origin to the next ([`Decaying`]) rather than summed afresh over the whole history.
    pub fn features_at(cells: &Cells, kde: &Kde, origins: &[i32]) -> Vec<Vec<Vec<f64>>> {
        let mut own: Vec<Decaying> = HALF_LIVES.iter().map(|h| Decaying::new(&cells.events, *h, cells.grid.len())).collect();
        let mut all: Vec<Decaying> =
            ALL_HALF_LIVES.iter().map(|h| Decaying::new(&cells.all_events, *h, cells.grid.len())).collect();
        origins
            .iter()
            .map(|&t| {
                let own: Vec<Vec<f64>> = own.iter_mut().map(|d| d.at(t).to_vec()).collect();
                let all: Vec<Vec<f64>> = all.iter_mut().map(|d| d.at(t).to_vec()).collect();
                Ours::features_from(cells, kde, t, &own, &all)
            })
            .collect()
    }

    /// The features from the decayed counts of the category (per [`HALF_LIVES`]) and of every
    /// category (per [`ALL_HALF_LIVES`]) at `origin`.
    fn features_from(cells: &Cells, kde: &Kde, origin: i32, own: &[Vec<f64>], all: &[Vec<f64>]) -> Vec<Vec<f64>> {
        let mut columns: Vec<Vec<f64>> = Vec::with_capacity(Ours::FEATURES);
        columns.push(vec![1.0; cells.study.len()]);
        // The density sums to one over the study cells: scaled to events per cell on average.
        let n = cells.study.len() as f64;
        columns.push(kde.density(cells, origin).iter().map(|d| d * n).collect());
        let mut spread_out = |decayed: &[f64], spreads: &[f64]| {
            for metres in spreads {
                let spread = cells.grid.blur(decayed, metres / cells.grid.cell);
                columns.push(cells.study.iter().map(|&c| spread[c]).collect());
            }
        };
        for decayed in own {
            spread_out(decayed, &SPREADS);
        }
        for decayed in all {
            spread_out(decayed, &ALL_SPREADS);
        }
        (0..cells.study.len()).map(|i| columns.iter().map(|col| col[i]).collect()).collect()
    }

    /// Fits each feature set ([`FEATURE_SETS`]) on the first two thirds of the training origins, keeps the one
    /// whose forecasts rank the last third best (mean PAI at 1%, 5% and 10% of the area), and
    /// refits it on every training origin. Only training data is used: the choice of features
    /// is part of fitting, never made on a scoring window.
    pub fn fit(cells: &Cells, kde: Kde, origins: &[i32], horizon: i32) -> Ours {
        let rows: Vec<(Vec<Vec<f64>>, Vec<f64>)> = Ours::features_at(cells, &kde, origins)
            .into_iter()
            .zip(origins)
            .map(|(features, &t)| (features, cells.outcome(t, horizon)))
            .collect();
        let split = (rows.len() * 2 / 3).max(1).min(rows.len().saturating_sub(1)).max(1);
        // A feature set is fitted on its own columns only (the others' weights stay zero), from
        // the whole model's starting point: the same weights as the whole model's fit with the
        // other columns zeroed, at a fraction of the work.
        let fit_on = |set: &[bool], range: std::ops::Range<usize>| {
            let kept: Vec<usize> = (0..Ours::FEATURES).filter(|&k| set[k]).collect();
            let mut design = Design::new(kept.len());
            let mut x = vec![0.0; kept.len()];
            for (features, outcome) in &rows[range] {
                for (row, y) in features.iter().zip(outcome) {
                    for (slot, &k) in x.iter_mut().zip(&kept) {
                        *slot = row[k];
                    }
                    design.add(&x, *y);
                }
            }
            let mut weights = vec![0.0; Ours::FEATURES];
            for (w, &k) in fit_from(&design, 400, Ours::FEATURES).iter().zip(&kept) {
                weights[k] = *w;
            }
            weights
        };
        let mut best: Option<(f64, &'static str, Vec<bool>)> = None;
        for (name, select) in FEATURE_SETS {
            let set = select();
            let weights = fit_on(&set, 0..split);
            let (mut total, mut n) = (0.0, 0);
            for (features, outcome) in &rows[split..] {
                let score: Vec<f64> = features.iter().map(|x| x.iter().zip(&weights).map(|(a, b)| a * b).sum()).collect();
                for share in [0.01, 0.05, 0.10] {
                    if let Some((pai, _)) = crate::metrics::pai_pei(&score, outcome, share) {
                        total += pai;
                        n += 1;
                    }
                }
            }
            let mean = if n > 0 { total / f64::from(n) } else { 0.0 };
            if best.as_ref().is_none_or(|(b, _, _)| mean > *b) {
                best = Some((mean, name, set));
            }
        }
        let (_, feature_set, set) = best.expect("at least one feature set");
        Ours { weights: fit_on(&set, 0..rows.len()), feature_set, kde }
    }
}

/// The column mask of a feature set.
type FeatureSet = fn() -> Vec<bool>;

/// The candidate feature sets: every feature; the long-run surfaces (the kernel density and the
/// recency features of half-lives of a year and more, with every category's); the kernel
/// density alone (with the background); the medium and long half-lives (90 days and more); the
/// long-run surfaces held close (half-lives of a year and more in the cell and over 250 m, with
/// the density, without other categories).
///
/// The last was added on 2026-11-28 after runs on five quarters that no report had scored
/// (trained to 2014-05-31 … 2015-05-31): sparse burglary recurs at the same few addresses for
/// years, and a set whose wider surfaces are all offered beside the narrow ones is fitted by
/// likelihood towards the smooth ones, which rank the top cells less sharply (docs/RISK.md,
/// "The fifth feature set"; the idea came from the hindsight maps there, read off scored
/// windows, which is why it was judged on unscored ones). It is appended last, so that where it ties an earlier set the
/// earlier one is kept, as before.
pub const FEATURE_SETS: [(&str, FeatureSet); 5] = [
    ("all", || vec![true; Ours::FEATURES]),
    ("long_run", || columns(|half_life, _| half_life >= 365.0, true)),
    ("density", || columns(|_, _| false, false)),
    ("medium_and_long", || columns(|half_life, _| half_life >= 90.0, true)),
    ("local_long_run", || columns(|half_life, spread| half_life >= 365.0 && spread <= 250.0, false)),
];

/// A mask keeping the background, the density, the category's recency features for which
/// `keep(half_life, spread)` holds, and every category's when `all_categories`.
fn columns(keep: fn(f64, f64) -> bool, all_categories: bool) -> Vec<bool> {
    let mut mask = vec![true, true];
    for half_life in HALF_LIVES {
        for spread in SPREADS {
            mask.push(keep(half_life, spread));
        }
    }
    mask.extend(std::iter::repeat_n(all_categories, ALL_HALF_LIVES.len() * ALL_SPREADS.len()));
    mask
}

impl Forecaster for Ours {
    fn name(&self) -> &'static str {
        "ours"
    }
    /// The weights were fitted for the horizon asked; the features are those at the origin.
    fn expected(&self, cells: &Cells, origin: i32, _horizon: i32) -> Vec<f64> {
        Ours::features(cells, &self.kde, origin).iter().map(|x| x.iter().zip(&self.weights).map(|(a, b)| a * b).sum()).collect()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::projection::Local;

    /// The decayed counts summed afresh over the whole history (what [`Decaying`] carries).
    fn summed_afresh(cells: &Cells, origin: i32, half_life: f64) -> Vec<f64> {
        let mut out = vec![0.0; cells.grid.len()];
        let rate = std::f64::consts::LN_2 / half_life;
        for (day, cell) in cells.events.iter().take_while(|(d, _)| *d < origin) {
            out[*cell] += (-(f64::from(origin - day) - 0.5) * rate).exp();
        }
        out
    }

    fn cells(events: Vec<(i32, usize)>) -> Cells {
        let grid = Grid { local: Local::about(121.4, 28.6), x0: 0.0, y0: 0.0, cell: 150.0, cols: 4, rows: 3 };
        let study = (0..grid.len()).collect();
        Cells { grid, study, all_events: events.clone(), events, first_day: 0 }
    }

    proptest! {
        /// Carried forward through ascending origins, the decayed counts are the ones summed
        /// afresh at each origin (to rounding), whatever the gaps between origins and events.
        #[test]
        fn decayed_counts_carried_forward_are_the_counts_summed_afresh(
            mut events in proptest::collection::vec((0i32..400, 0usize..12), 0..200),
            mut origins in proptest::collection::vec(0i32..450, 1..30),
            half_life in 1.0f64..2000.0,
        ) {
            events.sort_unstable();
            origins.sort_unstable();
            let cells = cells(events);
            let mut carried = Decaying::new(&cells.events, half_life, cells.grid.len());
            for &t in &origins {
                let afresh = summed_afresh(&cells, t, half_life);
                for (a, b) in carried.at(t).iter().zip(&afresh) {
                    prop_assert!((a - b).abs() <= 1e-12 * b.abs().max(1e-300), "{a} against {b} at {t}");
                }
            }
        }
    }

    #[test]
    fn the_local_long_run_set_keeps_the_close_long_run_columns_only() {
        let (name, select) = FEATURE_SETS[4];
        assert_eq!(name, "local_long_run");
        let mask = select();
        assert_eq!(mask.len(), Ours::FEATURES);
        // The background and the kernel density.
        assert!(mask[0] && mask[1]);
        // Half-life × spread, in the order of [`HALF_LIVES`] and [`SPREADS`]: 365 and 1,460 days
        // (the fourth and fifth half-lives), in the cell and over 250 m (the first two spreads).
        let kept: Vec<(f64, f64)> = (0..HALF_LIVES.len() * SPREADS.len())
            .filter(|i| mask[2 + i])
            .map(|i| (HALF_LIVES[i / SPREADS.len()], SPREADS[i % SPREADS.len()]))
            .collect();
        assert_eq!(kept, [(365.0, 0.0), (365.0, 250.0), (1460.0, 0.0), (1460.0, 250.0)]);
        // No other category's.
        assert!(mask[2 + HALF_LIVES.len() * SPREADS.len()..].iter().all(|k| !k));
        assert_eq!(mask.iter().filter(|k| **k).count(), 2 + 2 * 2);
        // Every name differs: the report names the set chosen.
        let mut names: Vec<&str> = FEATURE_SETS.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), FEATURE_SETS.len());
    }

    #[test]
    fn features_at_many_origins_are_each_origins_features() {
        let events: Vec<(i32, usize)> = (0..600).map(|i| (i * 7 % 500, (i * 5 % 12) as usize)).collect();
        let mut events = events;
        events.sort_unstable();
        let cells = cells(events);
        let kde = Kde { window: Some(365), sigma: 1.0 };
        let origins = [380, 387, 394, 450, 499];
        let many = Ours::features_at(&cells, &kde, &origins);
        for (t, rows) in origins.iter().zip(&many) {
            let one = Ours::features(&cells, &kde, *t);
            assert_eq!(rows.len(), one.len());
            for (a, b) in rows.iter().flatten().zip(one.iter().flatten()) {
                assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{a} against {b}");
            }
        }
    }
}
