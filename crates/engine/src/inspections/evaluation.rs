//! The sub-centre evaluation (分中心考评) from the stored cases: per county of the reviewers and
//! per reviewer, review volume, mean review time, rejections by reason and the re-check
//! disagreement rate. A record counts once, by its latest decision (a record rejected, fixed and
//! then passed counts as passed; its rejection reason stays on it).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use fq_domain::actor::Actor;
use fq_domain::inspection::{EvaluationReport, Recheck, ReviewDone, evaluate};
use fq_domain::region::RegionLevel;
use serde::Serialize;

use super::city_code;
use super::supervise::review_of;
use crate::Engine;
use crate::error::EngineError;

/// The evaluation with the names to show it.
#[derive(Debug, Clone, Serialize)]
pub struct EvaluationView {
    pub report: EvaluationReport,
    /// County code → name.
    pub counties: BTreeMap<String, String>,
    /// Reviewer account id → display name.
    pub reviewers: BTreeMap<String, String>,
}

impl Engine {
    /// The evaluation of the reviews of records of `city` received in `[from, to)`.
    pub async fn inspection_evaluation(
        &self,
        actor: &Actor,
        city: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<EvaluationView, EngineError> {
        let city = city_code(city)?;
        self.check_inspection_oversight(actor, &city)?;
        let records = self.inspection_cases("record", &city, Some(from), Some(to)).await?;
        let reviews: Vec<ReviewDone> = records.iter().filter_map(review_of).collect();
        let reasons: BTreeMap<String, Vec<String>> =
            records.iter().filter_map(|c| c.text("reject_reason").map(|r| (c.number.clone(), vec![r.to_owned()]))).collect();
        let rechecks: Vec<Recheck> = self
            .inspection_cases("recheck", &city, Some(from), None)
            .await?
            .iter()
            .filter(|c| c.state == "agreed" || c.state == "disagreed")
            // Only re-checks of the period's records.
            .filter(|c| c.text("record_number").is_some_and(|n| records.iter().any(|r| r.number == n)))
            .filter_map(|c| {
                Some(Recheck {
                    record: c.text("record_number")?.to_owned(),
                    first_reviewer: c.text("first_reviewer")?.to_owned(),
                    second_passed: c.state == "agreed",
                })
            })
            .collect();
        let mut county_of = BTreeMap::new();
        let mut reviewers = BTreeMap::new();
        let mut counties = BTreeMap::new();
        for account in self.store.accounts_with_role("reviewer").await? {
            let county = account
                .grants
                .iter()
                .filter(|g| g.role.as_str() == "reviewer" && city.contains(&g.scope.region))
                .find_map(|g| g.scope.region.at_level(RegionLevel::County));
            if let Some(county) = county {
                if let Some(region) = self.store.region(&county).await? {
                    counties.insert(county.to_string(), region.name);
                }
                county_of.insert(account.id.to_string(), county.to_string());
                reviewers.insert(account.id.to_string(), account.display_name.clone());
            }
        }
        Ok(EvaluationView { report: evaluate(&reviews, &reasons, &rechecks, &county_of), counties, reviewers })
    }
}
