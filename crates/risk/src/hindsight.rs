//! Hindsight maps: a reference for how much of the backtest's goals any stationary map could
//! reach, never a forecast. For a scored horizon [T, T + h), the map is every event of the
//! category in the whole file (years after the horizon included) except the horizon's own,
//! spread with a Gaussian of a few bandwidths. It knows where the category happens over the
//! long run better than anything fitted before T can, but not which of those places this
//! horizon's events fall in; a forecast that beats it has found something that changes from
//! week to week. docs/RISK.md compares the goals with these maps' scores.

use crate::model::Cells;

/// The bandwidths (Gaussian σ, in cells; 0 is the cell itself).
pub const SIGMAS: [f64; 7] = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0];

/// The hindsight map per study cell for the horizon `[origin, origin + horizon)`.
pub fn surface(cells: &Cells, origin: i32, horizon: i32, sigma: f64) -> Vec<f64> {
    let all = cells.counts(i32::MIN, i32::MAX);
    let own = cells.counts(origin, origin + horizon);
    let rest: Vec<f64> = all.iter().zip(&own).map(|(a, b)| a - b).collect();
    let spread = cells.grid.blur(&rest, sigma);
    cells.study.iter().map(|&c| spread[c]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backtest::cells_for;
    use crate::events::{Event, day_number};

    fn event(day: i32, lon: f64) -> Event {
        Event { day, lon, lat: 45.5, category: "burglary".into() }
    }

    #[test]
    fn the_map_leaves_out_the_scored_horizon_and_keeps_the_years_after_it() {
        let start = day_number(chrono::NaiveDate::from_ymd_opt(2016, 1, 1).unwrap());
        // Cell A: events before and after the horizon; cell B: only inside the horizon.
        let events = vec![event(start, -122.60), event(start + 400, -122.60), event(start + 100, -122.70)];
        let cells = cells_for(&events, "burglary", 200.0, start + 500).unwrap();
        let a = cells.study.iter().position(|&c| Some(c) == cells.grid.cell_of(-122.60, 45.5)).unwrap();
        let b = cells.study.iter().position(|&c| Some(c) == cells.grid.cell_of(-122.70, 45.5)).unwrap();
        let map = surface(&cells, start + 100, 7, 0.0);
        assert_eq!((map[a], map[b]), (2.0, 0.0), "the horizon's own event is left out, later ones are kept");
        assert_eq!(surface(&cells, start + 200, 7, 0.0)[b], 1.0, "outside its horizon the event counts");
    }
}
