//! End-to-end tests of the `fengqiao` binary: one test binary, one module per theme.

mod audit;
mod backup;
mod cases;
mod config;
mod durability;
mod first_start;
mod grids;
mod http_access;
mod inspections;
mod postgres;
mod risk;
mod support;
