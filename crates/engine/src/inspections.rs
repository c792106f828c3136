//! Inspection review (P2) inputs the engine can give without a database: the counties of a city
//! with their weights for the simulator, from the embedded division tree.

use fq_domain::inspection::{CountyWeight, RuleSet};
use fq_domain::region::{RegionCode, RegionLevel};
use fq_domain::region_dataset::parse_division_tree;

use crate::error::EngineError;
use crate::reference_data::embedded_division_files;

/// The review standard shipped with fengqiao (`data/inspection/rules-v1.toml`).
pub const SHIPPED_RULES: (&str, &str) = ("data/inspection/rules-v1.toml", include_str!("../../../data/inspection/rules-v1.toml"));

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
