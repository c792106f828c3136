//! Square cells over a local metric projection, and the arrays the models work on: one value
//! per cell, blurred with a Gaussian kernel by two one-dimensional passes.

use crate::projection::Local;

/// The most cells a grid may have (a city at 50 m cells is about a million).
pub const MAX_CELLS: usize = 4_000_000;

/// A grid of square cells covering the events, with a margin.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    pub local: Local,
    /// South-west corner (metres) and cell size.
    pub x0: f64,
    pub y0: f64,
    pub cell: f64,
    pub cols: usize,
    pub rows: usize,
}

impl Grid {
    /// A grid of `cell`-metre squares over the points (`lon`, `lat`), two cells of margin.
    pub fn covering(points: impl Iterator<Item = (f64, f64)> + Clone, cell: f64) -> Option<Grid> {
        let n = points.clone().count();
        if n == 0 || cell.is_nan() || cell <= 0.0 {
            return None;
        }
        let (sum_lon, sum_lat) = points.clone().fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
        let local = Local::about(sum_lon / n as f64, sum_lat / n as f64);
        let (mut min_x, mut min_y, mut max_x, mut max_y) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for (lon, lat) in points {
            let (x, y) = local.metres(lon, lat);
            (min_x, min_y, max_x, max_y) = (min_x.min(x), min_y.min(y), max_x.max(x), max_y.max(y));
        }
        let margin = 2.0 * cell;
        let cols = ((max_x - min_x + 2.0 * margin) / cell).ceil() + 1.0;
        let rows = ((max_y - min_y + 2.0 * margin) / cell).ceil() + 1.0;
        // A stray point (a failed geocode at 0, 0) must not ask for billions of cells.
        if (cols * rows).is_nan() || cols * rows > MAX_CELLS as f64 {
            return None;
        }
        let (cols, rows) = (cols as usize, rows as usize);
        Some(Grid { local, x0: min_x - margin, y0: min_y - margin, cell, cols, rows })
    }

    pub fn len(&self) -> usize {
        self.cols * self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The cell of a point, if it falls on the grid.
    pub fn cell_of(&self, lon: f64, lat: f64) -> Option<usize> {
        let (x, y) = self.local.metres(lon, lat);
        let (c, r) = ((x - self.x0) / self.cell, (y - self.y0) / self.cell);
        if c < 0.0 || r < 0.0 || c >= self.cols as f64 || r >= self.rows as f64 {
            return None;
        }
        Some(r as usize * self.cols + c as usize)
    }

    /// The centre of a cell in WGS-84 degrees.
    pub fn centre(&self, cell: usize) -> (f64, f64) {
        let (c, r) = (cell % self.cols, cell / self.cols);
        self.local.degrees(self.x0 + (c as f64 + 0.5) * self.cell, self.y0 + (r as f64 + 0.5) * self.cell)
    }

    /// `values` blurred with a Gaussian of `sigma` cells (truncated at 3σ, edges not wrapped).
    ///
    /// Two one-dimensional passes, along the rows and then along the columns. Each output cell
    /// adds its neighbours' shares in the order of the cells they come from (the order of
    /// the plain scatter of every cell onto its neighbours, which the tests keep as the
    /// reference, so the sums are the same to the last bit), but a pass runs over whole rows at
    /// a time with the edges worked out once per offset: no test per cell and kernel tap, and
    /// loops the compiler can vectorise. The nightly fits blur thousands of arrays.
    pub fn blur(&self, values: &[f64], sigma: f64) -> Vec<f64> {
        if sigma <= 0.0 || self.cols == 0 {
            return values.to_vec();
        }
        let kernel = gaussian(sigma);
        let reach = kernel.len() / 2;
        // The scatter gave source s's share to output c with the weight at offset c − s; the
        // loops below use the one at s − c. The same weight, to the bit: the kernel is computed
        // from d², so ±d give one value. (Adding a zero source's share changes nothing either:
        // every sum starts at +0.0 and the values are not negative.)
        debug_assert!(kernel.iter().zip(kernel.iter().rev()).all(|(a, b)| a.to_bits() == b.to_bits()));
        let (cols, rows) = (self.cols, self.rows);
        // A row of zeros adds nothing anywhere (each share is +0.0, and every sum starts at +0.0):
        // it is passed over. Most rows of a large grid are empty for a rare category or a short
        // window (a river, a park, the sea; a quarter's burglaries over a city).
        let empty = |row: &[f64]| row.iter().all(|v| *v == 0.0);
        // Along the rows: out[c] takes in[c + d]·k for every offset d, lowest source first.
        let mut across = vec![0.0; values.len()];
        for (input, out) in values.chunks_exact(cols).zip(across.chunks_exact_mut(cols)) {
            if empty(input) {
                continue;
            }
            for (k, weight) in kernel.iter().enumerate() {
                // Source column c + k − reach for output column c, both on the grid.
                let (from, to) = (reach.saturating_sub(k), (cols + reach).saturating_sub(k).min(cols));
                if from >= to {
                    continue;
                }
                let shift = from + k - reach;
                for (o, v) in out[from..to].iter_mut().zip(&input[shift..shift + (to - from)]) {
                    *o += v * weight;
                }
            }
        }
        // Along the columns: output row r takes source row r + k − reach, lowest source first.
        let filled: Vec<bool> = across.chunks_exact(cols).map(|row| !empty(row)).collect();
        let mut out = vec![0.0; values.len()];
        for r in 0..rows {
            let target = &mut out[r * cols..(r + 1) * cols];
            for (k, weight) in kernel.iter().enumerate() {
                let Some(source) = (r + k).checked_sub(reach).filter(|s| *s < rows && filled[*s]) else { continue };
                for (o, v) in target.iter_mut().zip(&across[source * cols..(source + 1) * cols]) {
                    *o += v * weight;
                }
            }
        }
        out
    }
}

/// A Gaussian kernel of `sigma` cells truncated at 3σ, summing to one: 2·reach + 1 weights.
fn gaussian(sigma: f64) -> Vec<f64> {
    let reach = (3.0 * sigma).ceil() as isize;
    let kernel: Vec<f64> = (-reach..=reach).map(|d| (-(d * d) as f64 / (2.0 * sigma * sigma)).exp()).collect();
    let total: f64 = kernel.iter().sum();
    kernel.iter().map(|k| k / total).collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The blur by its definition: every cell scattered onto its neighbours in turn, along the
    /// rows and then along the columns.
    fn scattered(grid: &Grid, values: &[f64], sigma: f64) -> Vec<f64> {
        if sigma <= 0.0 {
            return values.to_vec();
        }
        let kernel = gaussian(sigma);
        let reach = (kernel.len() / 2) as isize;
        let pass = |input: &[f64], along_rows: bool| {
            let mut out = vec![0.0; input.len()];
            for r in 0..grid.rows {
                for c in 0..grid.cols {
                    let v = input[r * grid.cols + c];
                    if v == 0.0 {
                        continue;
                    }
                    for (k, weight) in kernel.iter().enumerate() {
                        let d = k as isize - reach;
                        let (cc, rr) = if along_rows { (c as isize + d, r as isize) } else { (c as isize, r as isize + d) };
                        if cc >= 0 && rr >= 0 && (cc as usize) < grid.cols && (rr as usize) < grid.rows {
                            out[rr as usize * grid.cols + cc as usize] += v * weight;
                        }
                    }
                }
            }
            out
        };
        pass(&pass(values, true), false)
    }

    proptest! {
        /// The blur is its definition to the last bit, on grids narrower and wider than the
        /// kernel, sparse (whole rows of zeros) or dense.
        #[test]
        fn the_blur_is_the_scatter_of_every_cell(
            cols in 1usize..40,
            rows in 1usize..40,
            sigma in prop_oneof![Just(0.0), 0.1f64..8.0],
            seed in proptest::collection::vec(prop_oneof![3 => Just(0.0), 1 => 0.0f64..5.0], 1..64),
        ) {
            let grid = Grid { local: Local::about(121.4, 28.6), x0: 0.0, y0: 0.0, cell: 150.0, cols, rows };
            let values: Vec<f64> = (0..grid.len()).map(|i| seed[i * 7 % seed.len()] * (1.0 + (i % 3) as f64 * 0.37)).collect();
            let fast = grid.blur(&values, sigma);
            let reference = scattered(&grid, &values, sigma);
            prop_assert_eq!(fast.len(), reference.len());
            for (i, (a, b)) in fast.iter().zip(&reference).enumerate() {
                prop_assert!(a.to_bits() == b.to_bits(), "cell {}: {} against {}", i, a, b);
            }
        }
    }

    #[test]
    fn points_fall_in_their_cells_and_blurring_keeps_mass_inside() {
        let points = [(-122.68, 45.52), (-122.60, 45.55), (-122.55, 45.48)];
        let grid = Grid::covering(points.iter().copied(), 200.0).unwrap();
        let cells: Vec<usize> = points.iter().map(|&(x, y)| grid.cell_of(x, y).unwrap()).collect();
        assert_eq!(cells.iter().collect::<std::collections::BTreeSet<_>>().len(), 3);
        let (lon, lat) = grid.centre(cells[0]);
        assert!((lon + 122.68).abs() < 0.003 && (lat - 45.52).abs() < 0.002);
        assert_eq!(grid.cell_of(-100.0, 45.5), None);
        // A stray point at 0, 0 would ask for billions of 200 m cells: refused.
        assert!(Grid::covering(points.iter().copied().chain([(0.0, 0.0)]), 200.0).is_none());
        let mut values = vec![0.0; grid.len()];
        values[cells[1]] = 10.0;
        let blurred = grid.blur(&values, 0.6);
        assert!((blurred.iter().sum::<f64>() - 10.0).abs() < 1e-9, "a point away from the edge keeps its mass");
        assert!(blurred[cells[1]] < 10.0 && blurred[cells[1]] > blurred[cells[1] + 1]);
    }
}
