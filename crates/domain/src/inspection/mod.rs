//! Vehicle-inspection review (P2, Jinhua 全市随机交叉审核): the allocation of inspection records
//! to reviewers in other counties, synthetic records for tests, demos and benchmarks, and
//! the unified review standard as versioned rule sets, supervision anomaly checks and the
//! re-check sample. The review workflow on the case engine and station points are not here yet
//! (issue 6).

mod allocate;
mod rules;
mod simulate;
mod supervision;

pub use allocate::{Allocation, Decision, Item, Ratios, Reviewer};
pub use rules::{Fired, Review, Rule, RuleSet, RuleSetError, Verdict, facts};
pub use simulate::{CountyWeight, Insurance, ItemResult, Photo, SimulatedRecord, VEHICLE_CLASSES, plate_letter, simulate};
pub use supervision::{Anomaly, AnomalyKind, Recheck, ReviewDone, anomalies, disagreements, recheck_sample};

#[cfg(test)]
mod tests;

#[cfg(test)]
mod rule_tests;

#[cfg(test)]
mod supervision_tests;
