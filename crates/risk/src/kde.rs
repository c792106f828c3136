//! The kernel-density baseline: the events of a window before the origin, binned to cells and
//! spread with a Gaussian kernel (σ in cells), as a density over the study cells. The window
//! and σ are chosen by likelihood cross-validation on the training origins only: the choice
//! that gives the events of each next horizon the highest log-density.

use crate::model::Cells;

/// Candidate windows (days; `None`: all the history) and bandwidths (cells).
const WINDOWS: [Option<i32>; 4] = [Some(90), Some(365), Some(730), None];
const SIGMAS: [f64; 7] = [0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0];

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Kde {
    pub window: Option<i32>,
    pub sigma: f64,
}

impl Kde {
    /// The density per study cell at `origin` (summing to one, with a floor so that no cell is
    /// impossible).
    pub fn density(&self, cells: &Cells, origin: i32) -> Vec<f64> {
        self.density_of(cells, &cells.counts(window_start(self.window, origin), origin))
    }

    /// The density from the window's counts per grid cell.
    fn density_of(&self, cells: &Cells, counts: &[f64]) -> Vec<f64> {
        let spread = cells.grid.blur(counts, self.sigma);
        let values: Vec<f64> = cells.study.iter().map(|&c| spread[c]).collect();
        let total: f64 = values.iter().sum();
        let floor = 1e-3 / values.len().max(1) as f64;
        if total <= 0.0 {
            return vec![1.0 / values.len().max(1) as f64; values.len()];
        }
        let scale = (1.0 - 1e-3) / total;
        values.iter().map(|v| v * scale + floor).collect()
    }

    /// The window and bandwidth with the best held-out log-likelihood over `origins`. Each
    /// window's counts and each horizon's outcome are read once and shared by the bandwidths,
    /// and a window that starts before the history does (or with the same first event as the
    /// shorter window before it) has that window's counts: its densities are not blurred again.
    /// Each score still adds the same terms in the same order (origin by origin, cell by cell).
    pub fn cross_validated(cells: &Cells, origins: &[i32], horizon: i32) -> Kde {
        let scores = Kde::scores(cells, origins, horizon);
        let mut best = (f64::MIN, Kde { window: Some(365), sigma: 2.0 });
        for (window, row) in WINDOWS.into_iter().zip(&scores) {
            for (sigma, score) in SIGMAS.into_iter().zip(row) {
                if *score > best.0 {
                    best = (*score, Kde { window, sigma });
                }
            }
        }
        best.1
    }

    /// The held-out log-likelihood of each window (rows, [`WINDOWS`]) and bandwidth (columns,
    /// [`SIGMAS`]) over `origins`.
    fn scores(cells: &Cells, origins: &[i32], horizon: i32) -> [[f64; SIGMAS.len()]; WINDOWS.len()] {
        let mut scores = [[0.0; SIGMAS.len()]; WINDOWS.len()];
        for &t in origins {
            let outcome = cells.outcome(t, horizon);
            // The first event the last window blurred takes (none yet: past every event), and its
            // densities at each bandwidth.
            let (mut blurred_from, mut densities) = (usize::MAX, Vec::new());
            for (window, row) in WINDOWS.into_iter().zip(&mut scores) {
                let first = cells.first_event(window_start(window, t));
                if first != blurred_from {
                    let counts = cells.counts_after(first, t);
                    densities = SIGMAS.into_iter().map(|sigma| Kde { window, sigma }.density_of(cells, &counts)).collect();
                    blurred_from = first;
                }
                for (density, score) in densities.iter().zip(row.iter_mut()) {
                    for (d, y) in density.iter().zip(&outcome) {
                        if *y > 0.0 {
                            *score += y * d.ln();
                        }
                    }
                }
            }
        }
        scores
    }
}

/// The first day of a window (`None`: all the history) before `origin`.
fn window_start(window: Option<i32>, origin: i32) -> i32 {
    window.map_or(i32::MIN, |w| origin - w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::Grid;
    use crate::projection::Local;

    /// The scores with every window's densities blurred afresh, window after window.
    fn scores_blurring_every_window(cells: &Cells, origins: &[i32], horizon: i32) -> [[f64; SIGMAS.len()]; WINDOWS.len()] {
        let mut scores = [[0.0; SIGMAS.len()]; WINDOWS.len()];
        for (window, row) in WINDOWS.into_iter().zip(&mut scores) {
            for &t in origins {
                let outcome = cells.outcome(t, horizon);
                let counts = cells.counts(window_start(window, t), t);
                for (sigma, score) in SIGMAS.into_iter().zip(row.iter_mut()) {
                    let density = Kde { window, sigma }.density_of(cells, &counts);
                    for (d, y) in density.iter().zip(&outcome) {
                        if *y > 0.0 {
                            *score += y * d.ln();
                        }
                    }
                }
            }
        }
        scores
    }

    #[test]
    fn windows_with_the_same_counts_score_as_if_blurred_afresh() {
        // Two years of events on a small grid, origins from day 400: the 730-day window and
        // all the history hold the same events at every origin, and the 365-day window the
        // same as them at none but the first (the first event is on day 3).
        let grid = Grid { local: Local::about(121.4, 28.6), x0: 0.0, y0: 0.0, cell: 150.0, cols: 9, rows: 7 };
        let mut events: Vec<(i32, usize)> =
            (0..900).map(|i: usize| (3 + (i * 37 % 700) as i32, (i * i * 7 + i) % grid.len())).collect();
        events.sort_unstable();
        let cells = Cells { study: (0..grid.len()).collect(), all_events: events.clone(), events, first_day: 0, grid };
        let origins: Vec<i32> = (0..30).map(|k| 368 + 7 * k).collect();
        let fast = Kde::scores(&cells, &origins, 7);
        let afresh = scores_blurring_every_window(&cells, &origins, 7);
        for (a, b) in fast.iter().flatten().zip(afresh.iter().flatten()) {
            assert_eq!(a.to_bits(), b.to_bits(), "{fast:?} against {afresh:?}");
        }
        // The windows that share their counts score alike; the year's does not.
        assert_eq!(fast[2], fast[3]);
        assert_ne!(fast[1], fast[2]);
        let chosen = Kde::cross_validated(&cells, &origins, 7);
        assert!(WINDOWS.contains(&chosen.window) && SIGMAS.contains(&chosen.sigma));
    }
}
