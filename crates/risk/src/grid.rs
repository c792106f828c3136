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
    pub fn blur(&self, values: &[f64], sigma: f64) -> Vec<f64> {
        if sigma <= 0.0 {
            return values.to_vec();
        }
        let reach = (3.0 * sigma).ceil() as isize;
        let kernel: Vec<f64> = (-reach..=reach).map(|d| (-(d * d) as f64 / (2.0 * sigma * sigma)).exp()).collect();
        let total: f64 = kernel.iter().sum();
        let kernel: Vec<f64> = kernel.iter().map(|k| k / total).collect();
        let pass = |input: &[f64], along_rows: bool| {
            let mut out = vec![0.0; input.len()];
            for r in 0..self.rows {
                for c in 0..self.cols {
                    let v = input[r * self.cols + c];
                    if v == 0.0 {
                        continue;
                    }
                    for (k, weight) in kernel.iter().enumerate() {
                        let d = k as isize - reach;
                        let (cc, rr) = if along_rows { (c as isize + d, r as isize) } else { (c as isize, r as isize + d) };
                        if cc >= 0 && rr >= 0 && (cc as usize) < self.cols && (rr as usize) < self.rows {
                            out[rr as usize * self.cols + cc as usize] += v * weight;
                        }
                    }
                }
            }
            out
        };
        pass(&pass(values, true), false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
