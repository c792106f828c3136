//! Vehicle-inspection review (P2, Jinhua 全市随机交叉审核), as pure functions: the allocation
//! of inspection records to reviewers in other counties, synthetic records for tests, demos and
//! benchmarks, the unified review standard as versioned rule sets, supervision anomaly checks and
//! the re-check sample, the station points ledger with its monthly ranking, and the sub-centre
//! evaluation. The review workflow on the case engine and the console are not here yet (issue 6;
//! docs/INSPECTION.md).

mod allocate;
mod codes;
mod evaluation;
mod points;
mod record;
mod rules;
mod simulate;
mod supervision;

pub use allocate::{Allocation, Decision, Item, Ratios, Reviewer};
pub use codes::{item_name, photo_name};
pub use evaluation::{Evaluation, EvaluationReport, evaluate};
pub use points::{Appeal, Entry, PointsError, PointsRule, Ranked, appeal, award, decide_appeal, default_rules, monthly_ranking};
pub use record::{InspectionRecord, Insurance, ItemResult, Photo, RecordError, Report, VEHICLE_CLASSES, check_digit};
pub use rules::{Fired, Review, Rule, RuleSet, RuleSetError, Verdict, facts};
pub use simulate::{CountyWeight, plate_letter, simulate};
pub use supervision::{Anomaly, AnomalyKind, Recheck, ReviewDone, anomalies, disagreements, recheck_sample};

#[cfg(test)]
mod tests;

#[cfg(test)]
mod rule_tests;

#[cfg(test)]
mod supervision_tests;

#[cfg(test)]
mod points_tests;
