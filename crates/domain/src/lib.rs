//! fengqiao's domain model.
//!
//! Architecture invariant: this crate does no IO, has no async code, and depends on nothing that
//! does (CI checks it with `cargo tree -i`). Every function is pure: the current time, the calendar
//! and any randomness arrive as arguments. Parsers here take bytes, never paths.

pub mod account;
pub mod actor;
pub mod boundary;
pub mod calendar;
pub mod case;
pub mod coded;
pub mod dispatch;
pub mod geometry;
pub mod grid;
pub mod grid_generator;
pub mod inspection;
pub mod journal;
pub mod org;
pub mod programme;
pub mod region;
pub mod region_dataset;

pub use coded::Coded;
