//! The risk engine's computations, with no IO: events read from CSV bytes, mapped to square
//! cells of a local metric grid, forecast per cell by the baselines (previous-period counts,
//! kernel density with a cross-validated bandwidth) and by our model (a penalised Poisson
//! regression over multi-scale, self-exciting recency features), and scored by a rolling-origin
//! backtest (PAI and PEI at 1%, 5% and 10% of the area, Brier score, reliability table).
//! docs/RISK.md has the formulas and the results on real data.

pub mod backtest;
pub mod check;
pub mod cores;
pub mod events;
pub mod grid;
pub mod hindsight;
pub mod kde;
pub mod levels;
pub mod locate;
pub mod metrics;
pub mod model;
pub mod nij;
pub mod poisson;
pub mod projection;
pub mod sources;
pub mod trace;
pub mod trend;
pub mod whistle;

pub use backtest::{Backtest, BacktestError, Horizon, ModelScore, Report, run};
pub use events::{Event, EventError, Layout, read_events, read_events_as};
