//! The dashboard's trend chart, drawn on the server as SVG coordinates: cases opened per day as
//! bars, cases closed per day as a line, with a few axis ticks.

use chrono::{Days, NaiveDate};
use fq_store::TrendPoint;
use serde::Serialize;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 36.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 24.0;

#[derive(Debug, Serialize)]
pub(crate) struct Bar {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    pub day: String,
    pub opened: u64,
    pub closed: u64,
}

#[derive(Debug, Serialize)]
pub(crate) struct Tick {
    pub at: f64,
    pub text: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct Chart {
    pub width: f64,
    pub height: f64,
    pub left: f64,
    pub right: f64,
    pub baseline: f64,
    pub bars: Vec<Bar>,
    /// The closed-per-day line, as SVG polyline points.
    pub line: String,
    pub y_ticks: Vec<Tick>,
    pub x_ticks: Vec<Tick>,
    pub opened_total: u64,
    pub closed_total: u64,
}

/// A round upper bound for the axis: 1, 2, 5, 10, 20, 50...
fn nice(max: u64) -> u64 {
    let mut step = 1;
    loop {
        for m in [1, 2, 5] {
            if step * m >= max {
                return step * m;
            }
        }
        step *= 10;
    }
}

/// The chart of the days `from..=to` (days missing from `points` had nothing).
pub(crate) fn trend(points: &[TrendPoint], from: NaiveDate, to: NaiveDate) -> Chart {
    let mut days = Vec::new();
    let mut day = from;
    while day <= to && days.len() < 400 {
        let found = points.iter().find(|p| p.day == day);
        days.push((day, found.map_or(0, |p| p.opened), found.map_or(0, |p| p.closed)));
        day = day + Days::new(1);
    }
    let top = nice(days.iter().map(|(_, o, c)| (*o).max(*c)).max().unwrap_or(0).max(1));
    let baseline = HEIGHT - BOTTOM;
    let plot_h = baseline - TOP;
    let slot = (WIDTH - LEFT - RIGHT) / days.len().max(1) as f64;
    let y_of = |v: u64| baseline - v as f64 / top as f64 * plot_h;
    let round = |v: f64| (v * 10.0).round() / 10.0;
    let bars = days
        .iter()
        .enumerate()
        .map(|(i, (day, opened, closed))| Bar {
            x: round(LEFT + i as f64 * slot + slot * 0.15),
            y: round(y_of(*opened)),
            w: round((slot * 0.7).max(0.5)),
            h: round(baseline - y_of(*opened)),
            day: day.format("%Y-%m-%d").to_string(),
            opened: *opened,
            closed: *closed,
        })
        .collect();
    let line = days
        .iter()
        .enumerate()
        .map(|(i, (_, _, closed))| format!("{},{}", round(LEFT + (i as f64 + 0.5) * slot), round(y_of(*closed))))
        .collect::<Vec<_>>()
        .join(" ");
    let y_ticks = [0, top / 2, top].iter().map(|v| Tick { at: round(y_of(*v)), text: v.to_string() }).collect();
    let every = (days.len() / 6).max(1);
    let x_ticks = days
        .iter()
        .enumerate()
        .filter(|(i, _)| i % every == 0)
        .map(|(i, (day, _, _))| Tick { at: round(LEFT + (i as f64 + 0.5) * slot), text: day.format("%m-%d").to_string() })
        .collect();
    Chart {
        width: WIDTH,
        height: HEIGHT,
        left: LEFT,
        right: WIDTH - RIGHT,
        baseline,
        bars,
        line,
        y_ticks,
        x_ticks,
        opened_total: days.iter().map(|d| d.1).sum(),
        closed_total: days.iter().map(|d| d.2).sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_without_cases_are_zero_and_bars_fit() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
        let points = [TrendPoint { day: day(2), opened: 7, closed: 3 }];
        let chart = trend(&points, day(1), day(10));
        assert_eq!(chart.bars.len(), 10);
        assert_eq!((chart.bars[0].opened, chart.bars[1].opened), (0, 7));
        assert_eq!(chart.y_ticks.last().unwrap().text, "10");
        assert!(chart.bars.iter().all(|b| b.y >= TOP - 0.1 && b.y + b.h <= chart.baseline + 0.1));
        assert_eq!((chart.opened_total, chart.closed_total), (7, 3));
        assert_eq!(nice(0), 1);
        assert_eq!(nice(11), 20);
    }
}
