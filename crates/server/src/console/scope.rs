//! The regions a viewer's roles reach, as choices for the region selects of filters and forms.
//! Only choices: the engine decides again whether a region is within the viewer's scope.

use fq_domain::region::{Region, RegionCode, RegionLevel};
use fq_engine::{Engine, EngineError};

use super::forms::Choice;

/// Each scope region and its children, named (`路桥区`, `路桥区 路桥街道`); below a province,
/// the counties of each city too. `current` is selected (and added if it is not among them).
pub(crate) async fn region_choices(
    engine: &Engine,
    scopes: &[RegionCode],
    current: Option<&str>,
) -> Result<Vec<Choice>, EngineError> {
    let choice = |value: &str, label: String| Choice { value: value.to_owned(), label, selected: current == Some(value) };
    let mut out = Vec::new();
    for scope in scopes {
        let region = engine.region(scope).await?;
        out.push(choice(scope.as_str(), region.name.clone()));
        for child in engine.region_children(scope).await? {
            if child.retired {
                continue;
            }
            out.push(choice(child.code.as_str(), format!("{} {}", region.name, child.name)));
            if scope.level() == RegionLevel::Province {
                for county in engine.region_children(&child.code).await?.into_iter().filter(|c| !c.retired) {
                    out.push(choice(county.code.as_str(), format!("{} {} {}", region.name, child.name, county.name)));
                }
            }
        }
    }
    if let Some(current) = current
        && !out.iter().any(|c| c.value == current)
    {
        let name = match RegionCode::parse(current) {
            Ok(code) => engine.region(&code).await.map_or_else(|_| current.to_owned(), |r| r.name),
            Err(_) => current.to_owned(),
        };
        out.push(choice(current, name));
    }
    Ok(out)
}

/// The counties a scope reaches: all of a province's or a city's, a county itself, and the
/// county of a town or village.
pub(crate) async fn counties(engine: &Engine, scopes: &[RegionCode]) -> Result<Vec<Region>, EngineError> {
    let mut out: Vec<Region> = Vec::new();
    for scope in scopes {
        let found = match scope.level() {
            RegionLevel::Province => {
                let mut all = Vec::new();
                for city in engine.region_children(scope).await? {
                    all.extend(engine.region_children(&city.code).await?);
                }
                all
            }
            RegionLevel::City => engine.region_children(scope).await?,
            _ => vec![engine.region(&scope.at_level(RegionLevel::County).unwrap_or_else(|| scope.clone())).await?],
        };
        for region in found {
            if !out.iter().any(|r| r.code == region.code) && region.level() == RegionLevel::County && !region.retired {
                out.push(region);
            }
        }
    }
    Ok(out)
}
