//! Poisson regression with an identity link and non-negative coefficients, fitted by maximum
//! likelihood with the EM (multiplicative) update: λᵢ = Σⱼ βⱼ xᵢⱼ with xᵢⱼ ≥ 0 and βⱼ ≥ 0. Each
//! feature is a source of expected events (a background rate, the decayed past counts of a
//! cell and its neighbourhood), so the fitted model is a discrete self-exciting process whose
//! weights say how much each time scale and spatial reach contributes. The update increases the
//! likelihood at every step and keeps the coefficients non-negative; rows without events only
//! enter through the column sums, so an iteration costs the rows with events.

/// Rows of features with their observed counts.
#[derive(Debug, Clone, Default)]
pub struct Design {
    pub features: usize,
    /// Column sums over every row.
    pub column_sums: Vec<f64>,
    /// The rows with at least one event, one after another (`features` values each), and their
    /// counts: the iterations read them in order, so they are kept together.
    pub positive: Vec<f64>,
    pub counts: Vec<f64>,
    pub total_count: f64,
    pub rows: usize,
}

impl Design {
    pub fn new(features: usize) -> Design {
        Design { features, column_sums: vec![0.0; features], ..Design::default() }
    }

    pub fn add(&mut self, x: &[f64], y: f64) {
        debug_assert_eq!(x.len(), self.features);
        for (sum, v) in self.column_sums.iter_mut().zip(x) {
            *sum += v;
        }
        if y > 0.0 {
            self.positive.extend_from_slice(x);
            self.counts.push(y);
            self.total_count += y;
        }
        self.rows += 1;
    }
}

/// The maximum-likelihood coefficients (after `iterations` EM steps).
pub fn fit(design: &Design, iterations: usize) -> Vec<f64> {
    fit_from(design, iterations, design.features)
}

/// [`fit`], starting from the total spread evenly over `share` features: a model's feature set
/// fitted on its own columns starts where the whole model's fit with the other columns left at
/// zero starts, and so ends at the same coefficients.
pub fn fit_from(design: &Design, iterations: usize, share: usize) -> Vec<f64> {
    let j = design.features;
    let mut beta: Vec<f64> =
        design.column_sums.iter().map(|s| if *s > 0.0 { design.total_count / (share as f64 * s) } else { 0.0 }).collect();
    if j == 0 {
        return beta;
    }
    let mut numerator = vec![0.0; j];
    for _ in 0..iterations {
        numerator.iter_mut().for_each(|n| *n = 0.0);
        for (x, y) in design.positive.chunks_exact(j).zip(&design.counts) {
            let lambda: f64 = x.iter().zip(&beta).map(|(a, b)| a * b).sum();
            if lambda <= 0.0 {
                continue;
            }
            let ratio = y / lambda;
            for (n, v) in numerator.iter_mut().zip(x) {
                *n += v * ratio;
            }
        }
        for k in 0..j {
            if design.column_sums[k] > 0.0 {
                beta[k] *= numerator[k] / design.column_sums[k];
            }
        }
    }
    beta
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fit_recovers_the_rates_and_keeps_them_non_negative() {
        // y ~ 0.2 + 1.5·x₁ (x₂ irrelevant), in expectation: counts equal to their means.
        let mut design = Design::new(3);
        for i in 0..400 {
            let x1 = (i % 10) as f64 / 10.0;
            let x2 = ((i * 7) % 13) as f64 / 13.0;
            design.add(&[1.0, x1, x2], 0.2 + 1.5 * x1);
        }
        let beta = fit(&design, 2000);
        assert!((beta[0] - 0.2).abs() < 0.02 && (beta[1] - 1.5).abs() < 0.05 && beta[2] < 0.05, "{beta:?}");
        assert!(beta.iter().all(|b| *b >= 0.0));
        // The expected total equals the observed total (a constant column).
        let expected: f64 =
            (0..400).map(|i| beta[0] + beta[1] * ((i % 10) as f64 / 10.0) + beta[2] * (((i * 7) % 13) as f64 / 13.0)).sum();
        assert!((expected - design.total_count).abs() / design.total_count < 0.01);
    }
}
