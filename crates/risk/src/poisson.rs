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
    let by_feature = blocks_by_feature(design);
    let mut numerator = vec![0.0; j];
    for _ in 0..iterations {
        numerator.iter_mut().for_each(|n| *n = 0.0);
        em_numerator(design, &by_feature, &beta, &mut numerator);
        for k in 0..j {
            if design.column_sums[k] > 0.0 {
                beta[k] *= numerator[k] / design.column_sums[k];
            }
        }
    }
    beta
}

/// Rows whose expected counts are summed side by side in [`em_numerator`].
const BLOCK: usize = 16;

/// The rows with events in whole blocks of [`BLOCK`], each block laid out feature by feature
/// (the block's values of the first feature, then of the second…), for [`em_numerator`]'s
/// expected counts. The rows left over after the last whole block are not in it.
fn blocks_by_feature(design: &Design) -> Vec<f64> {
    let j = design.features;
    let mut out = Vec::with_capacity(design.positive.len());
    for block in design.positive.chunks_exact(j * BLOCK) {
        for k in 0..j {
            out.extend((0..BLOCK).map(|row| block[row * j + k]));
        }
    }
    out
}

/// Adds Σᵢ xᵢ·yᵢ/λᵢ over the rows with events (λᵢ = xᵢ·β; rows with λᵢ ≤ 0 left out) to
/// `numerator`, a block of [`BLOCK`] rows at a time, read from `by_feature`
/// ([`blocks_by_feature`]). The fits spend most of their time here.
///
/// - Each λᵢ is summed feature by feature in order, the block's rows side by side: one row's
///   sum is a chain of dependent additions, and sixteen independent chains, two to a vector
///   instruction, keep the processor busy where one waits on each addition.
/// - Each feature's numerator then takes the block's rows in order, their products computed
///   side by side. A row left out (λᵢ ≤ 0) adds a ratio of zero, which changes nothing: its
///   features are finite (an infinite or NaN one makes λᵢ NaN, and that row is not left out),
///   so each product is ±0.0, and the sum started at +0.0 and never becomes −0.0.
/// - The block is read once, from one layout. Reading the rows again row by row for the
///   numerator (as an earlier version did) doubles what the fit reads on every iteration, and
///   a month's fit of thousands of rows then waits on memory.
/// - The results are those of one row at a time to the last bit: the same additions in the
///   same order. (The sums start at +0.0, where `Iterator::sum` starts at −0.0; they differ
///   only when every product is −0.0, and a λ of zero either way is left out.)
fn em_numerator(design: &Design, by_feature: &[f64], beta: &[f64], numerator: &mut [f64]) {
    let j = design.features;
    for (columns, y) in by_feature.chunks_exact(j * BLOCK).zip(design.counts.chunks_exact(BLOCK)) {
        let mut lambda = [0.0; BLOCK];
        for (column, b) in columns.chunks_exact(BLOCK).zip(beta) {
            for (l, v) in lambda.iter_mut().zip(column) {
                *l += v * b;
            }
        }
        let ratio: [f64; BLOCK] = std::array::from_fn(|row| if lambda[row] <= 0.0 { 0.0 } else { y[row] / lambda[row] });
        for (column, n) in columns.chunks_exact(BLOCK).zip(numerator.iter_mut()) {
            let mut sum = *n;
            for (v, r) in column.iter().zip(&ratio) {
                sum += v * r;
            }
            *n = sum;
        }
    }
    let done = design.counts.len() / BLOCK * BLOCK;
    for (x, y) in design.positive[done * j..].chunks_exact(j).zip(&design.counts[done..]) {
        let lambda = x.iter().zip(beta).fold(0.0, |sum, (a, b)| sum + a * b);
        add_row(x, lambda, *y, numerator);
    }
}

/// One row's share of the EM numerator: xᵢ·yᵢ/λᵢ, nothing when λᵢ ≤ 0.
fn add_row(x: &[f64], lambda: f64, y: f64, numerator: &mut [f64]) {
    if lambda <= 0.0 {
        return;
    }
    let ratio = y / lambda;
    for (n, v) in numerator.iter_mut().zip(x) {
        *n += v * ratio;
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The EM fit one row at a time, as it is written in the formula.
    fn fit_row_by_row(design: &Design, iterations: usize, share: usize) -> Vec<f64> {
        let j = design.features;
        let mut beta: Vec<f64> =
            design.column_sums.iter().map(|s| if *s > 0.0 { design.total_count / (share as f64 * s) } else { 0.0 }).collect();
        for _ in 0..iterations {
            let mut numerator = vec![0.0; j];
            for (x, y) in design.positive.chunks_exact(j).zip(&design.counts) {
                let lambda: f64 = x.iter().zip(&beta).map(|(a, b)| a * b).sum();
                if lambda <= 0.0 {
                    continue;
                }
                for (n, v) in numerator.iter_mut().zip(x) {
                    *n += v * (y / lambda);
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

    proptest! {
        /// The fit with rows summed side by side is the fit row by row to the last bit, for
        /// any number of rows (whole blocks and a remainder), rows and columns of zeros.
        #[test]
        fn the_fit_is_the_row_by_row_fit(
            features in 1usize..9,
            rows in proptest::collection::vec(
                (proptest::collection::vec(prop_oneof![Just(0.0), 0.0f64..4.0], 8), 0u32..4),
                0..70,
            ),
            iterations in 0usize..30,
        ) {
            let mut design = Design::new(features);
            for (x, y) in &rows {
                design.add(&x[..features], f64::from(*y));
            }
            let fast = fit_from(&design, iterations, features);
            let reference = fit_row_by_row(&design, iterations, features);
            for (a, b) in fast.iter().zip(&reference) {
                prop_assert!(a.to_bits() == b.to_bits(), "{:?} against {:?}", fast, reference);
            }
        }
    }

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
