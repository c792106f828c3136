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
    /// window's counts and each horizon's outcome are read once and shared by the bandwidths.
    pub fn cross_validated(cells: &Cells, origins: &[i32], horizon: i32) -> Kde {
        let outcomes: Vec<Vec<f64>> = origins.iter().map(|&t| cells.outcome(t, horizon)).collect();
        let mut scores = [[0.0; SIGMAS.len()]; WINDOWS.len()];
        for (window, row) in WINDOWS.into_iter().zip(&mut scores) {
            for (&t, outcome) in origins.iter().zip(&outcomes) {
                let counts = cells.counts(window_start(window, t), t);
                for (sigma, score) in SIGMAS.into_iter().zip(row.iter_mut()) {
                    let density = Kde { window, sigma }.density_of(cells, &counts);
                    for (d, y) in density.iter().zip(outcome) {
                        if *y > 0.0 {
                            *score += y * d.ln();
                        }
                    }
                }
            }
        }
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
}

/// The first day of a window (`None`: all the history) before `origin`.
fn window_start(window: Option<i32>, origin: i32) -> i32 {
    window.map_or(i32::MIN, |w| origin - w)
}
