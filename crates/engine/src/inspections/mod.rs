//! Vehicle-inspection review (P2) on the engine: records received from stations and reviewed
//! against the standard (`intake`), supervision cases from the anomaly checks and the re-check
//! sample (`supervise`), station points with their monthly ranking (`points`), the sub-centre
//! evaluation (`evaluation`), and the counties of a city weighted for the simulator.

mod evaluation;
mod intake;
mod points;
mod supervise;

use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use fq_domain::account::RoleCode;
use fq_domain::actor::Actor;
use fq_domain::case::Case;
use fq_domain::inspection::{CountyWeight, RuleSet};
use fq_domain::region::{RegionCode, RegionLevel};
use fq_domain::region_dataset::parse_division_tree;
use fq_store::CaseFilter;

pub use evaluation::EvaluationView;
pub use intake::{InspectionImport, Received};
pub use points::StationRank;
pub use supervise::SupervisionRun;

use crate::Engine;
use crate::access::may;
use crate::error::EngineError;
use crate::reference_data::embedded_division_files;

/// The programme's code.
pub(crate) const PROGRAMME: &str = "inspection";

/// The shipped rule sets, loaded once.
pub(crate) fn rule_sets() -> Result<Arc<Vec<RuleSet>>, EngineError> {
    static SETS: OnceLock<Result<Arc<Vec<RuleSet>>, String>> = OnceLock::new();
    SETS.get_or_init(|| shipped_rule_sets().map(Arc::new).map_err(|e| e.to_string()))
        .clone()
        .map_err(|message| EngineError::field("rules_invalid", "rules", message))
}

/// A city code (4 digits) from a parameter.
pub(crate) fn city_code(city: &str) -> Result<RegionCode, EngineError> {
    let code = RegionCode::parse(city.trim()).map_err(|e| EngineError::field("region_code_invalid", "city", e.to_string()))?;
    if code.level() != RegionLevel::City {
        return Err(EngineError::field("region_not_city", "city", format!("{city} is not a city (4 digits)")));
    }
    Ok(code)
}

impl Engine {
    /// Opens a case of the programme (a record, a supervision or re-check case, a points entry).
    pub(crate) async fn open_inspection_case(
        &self,
        actor: &Actor,
        kind: &str,
        region: &str,
        channel: &str,
        fields: serde_json::Map<String, serde_json::Value>,
    ) -> Result<crate::cases::CaseView, EngineError> {
        let request = crate::cases::OpenCase {
            programme: PROGRAMME.into(),
            kind: kind.into(),
            priority: None,
            region: region.into(),
            grid: None,
            channel: channel.into(),
            intake_org: None,
            fields,
        };
        self.open_case_as_engine(actor, request).await
    }

    /// Supervision and evaluation read the whole city: supervisors and leaders over it.
    pub(crate) fn check_inspection_oversight(&self, actor: &Actor, city: &RegionCode) -> Result<(), EngineError> {
        if ["supervisor", RoleCode::LEADER].iter().any(|role| may(actor, role, city, None)) {
            Ok(())
        } else {
            Err(EngineError::forbidden(format!("inspection oversight needs the supervisor or leader role over {city}")))
        }
    }

    /// The inspection cases of `kind` opened in `[from, to)` within `region`.
    pub(crate) async fn inspection_cases(
        &self,
        kind: &str,
        region: &RegionCode,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Result<Vec<Case>, EngineError> {
        let filter = CaseFilter {
            programme: Some(PROGRAMME.into()),
            kind: Some(kind.into()),
            regions: vec![region.clone()],
            opened_from: from,
            opened_to: to,
            ..CaseFilter::default()
        };
        self.cases_matching(&filter).await
    }
}

/// The review standard shipped with fengqiao (`data/inspection/rules-v1.toml`).
pub const SHIPPED_RULES: (&str, &str) =
    ("data/inspection/rules-v1.toml", include_str!("../../../../data/inspection/rules-v1.toml"));

/// The shipped rule sets, loaded.
pub fn shipped_rule_sets() -> Result<Vec<RuleSet>, EngineError> {
    let (file, text) = SHIPPED_RULES;
    Ok(vec![
        RuleSet::load(file, text)
            .map_err(|e| EngineError::field("rules_invalid", &format!("{}:{}", e.file, e.line), e.reason))?,
    ])
}

/// The counties of `city` (4-digit code), each weighted by its villages and communities in the
/// division tree: the real size of its population's settlements, which inspection volumes follow
/// more closely than area.
pub fn city_county_weights(city: &str) -> Result<Vec<CountyWeight>, EngineError> {
    let code = RegionCode::parse(city).map_err(|e| EngineError::field("region_code_invalid", "city", e.to_string()))?;
    if code.level() != RegionLevel::City {
        return Err(EngineError::field("region_not_city", "city", format!("{city} is not a city (4 digits)")));
    }
    let tree = parse_division_tree(embedded_division_files())
        .map_err(|e| EngineError::field("region_dataset_invalid", "regions", e.to_string()))?;
    let mut counties: Vec<CountyWeight> = tree
        .regions
        .iter()
        .filter(|r| !r.retired && r.code.level() == RegionLevel::County && code.contains(&r.code))
        .map(|r| CountyWeight { code: r.code.to_string(), name: r.name.clone(), weight: 0.0 })
        .collect();
    for village in tree.regions.iter().filter(|r| !r.retired && r.code.level() == RegionLevel::Village) {
        if let Some(county) = counties.iter_mut().find(|c| village.code.as_str().starts_with(&c.code)) {
            county.weight += 1.0;
        }
    }
    counties.retain(|c| c.weight > 0.0);
    if counties.is_empty() {
        return Err(EngineError::field("region_unknown", "city", format!("city {city} has no counties in the division tree")));
    }
    Ok(counties)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_rules_load() {
        assert!(shipped_rule_sets().unwrap()[0].rules.len() >= 13);
    }

    #[test]
    fn jinhua_has_its_nine_counties_weighted_by_villages() {
        let counties = city_county_weights("3307").unwrap();
        assert_eq!(counties.len(), 9, "{counties:?}");
        assert!(counties.iter().any(|c| c.name == "义乌市"));
        assert!(counties.iter().all(|c| c.weight >= 50.0));
        assert!(city_county_weights("330702").unwrap_err().to_string().contains("not a city"));
    }
}
