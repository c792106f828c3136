//! Grids (网格): areas inside a town (乡镇/街道) or a village (村/社区) with their own codes, the
//! smallest unit that events, grid workers and risk forecasts are mapped to.
//!
//! Import format: a GeoJSON FeatureCollection; each feature is a Polygon or MultiPolygon with
//! properties
//!
//! | property | required | meaning |
//! |----------|----------|---------|
//! | `code`   | yes | grid code: the town or village code, then `-` and 1 to 8 letters or digits, e.g. `331004001-07` |
//! | `name`   | yes | display name |
//! | `region` | yes | the 9-digit town or 12-digit village code the grid lies in |
//! | `kind`   | no  | `comprehensive` (综合网格, the default) or `dedicated` (专属网格) |

use std::collections::HashSet;
use std::fmt;

use geo::{BoundingRect, MultiPolygon};
use serde::{Deserialize, Serialize};

use crate::Coded;
use crate::geometry::area_from_geojson;
use crate::region::{RegionCode, RegionLevel};

/// A grid's code: its region's code, a dash, and a local sequence of 1 to 8 letters or digits.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct GridCode(String);

/// Why a text is not a grid code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("grid code {text:?} {reason}")]
pub struct GridCodeError {
    pub text: String,
    pub reason: &'static str,
}

impl Coded for GridCodeError {
    fn code(&self) -> &'static str {
        "grid_code_invalid"
    }
}

impl GridCode {
    /// Parses a grid code such as `331004001-07` or `331004001001-A3`.
    pub fn parse(text: &str) -> Result<GridCode, GridCodeError> {
        let fail = |reason| GridCodeError { text: text.to_owned(), reason };
        let (region, local) = text.split_once('-').ok_or_else(|| fail("must be a region code, a dash and a local number"))?;
        let region = RegionCode::parse(region).map_err(|_| fail("must start with a 9- or 12-digit region code"))?;
        if !matches!(region.level(), RegionLevel::Town | RegionLevel::Village) {
            return Err(fail("must start with a 9-digit town or 12-digit village code"));
        }
        if local.is_empty() || local.len() > 8 || !local.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(fail("must end with 1 to 8 letters or digits after the dash"));
        }
        Ok(GridCode(text.to_owned()))
    }

    /// The region the code names.
    pub fn region(&self) -> RegionCode {
        let prefix = self.0.split_once('-').expect("checked at construction").0;
        RegionCode::parse(prefix).expect("checked at construction")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for GridCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for GridCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GridCode({})", self.0)
    }
}

impl TryFrom<String> for GridCode {
    type Error = GridCodeError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        GridCode::parse(&value)
    }
}

impl From<GridCode> for String {
    fn from(code: GridCode) -> String {
        code.0
    }
}

/// 综合网格 or 专属网格.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GridKind {
    /// 综合网格: a residential area of a community or village.
    Comprehensive,
    /// 专属网格: the premises of one organisation (a park, a school, an enterprise).
    Dedicated,
}

impl GridKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GridKind::Comprehensive => "comprehensive",
            GridKind::Dedicated => "dedicated",
        }
    }

    /// Accepts the English identifier or the Chinese term.
    pub fn parse(text: &str) -> Option<GridKind> {
        match text {
            "comprehensive" | "综合网格" | "综合" => Some(GridKind::Comprehensive),
            "dedicated" | "专属网格" | "专属" => Some(GridKind::Dedicated),
            _ => None,
        }
    }
}

/// One grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    pub code: GridCode,
    pub name: String,
    pub region: RegionCode,
    pub kind: GridKind,
    /// Generated cells for demonstrations are labelled so that nobody mistakes them for real grids.
    pub generated: bool,
    pub area: MultiPolygon<f64>,
}

impl Grid {
    /// `[min_lon, min_lat, max_lon, max_lat]`, stored beside the geometry for spatial look-ups.
    pub fn bbox(&self) -> [f64; 4] {
        let rect = self.area.bounding_rect().expect("grids are non-empty");
        [rect.min().x, rect.min().y, rect.max().x, rect.max().y]
    }
}

/// A problem in a grid file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GridFileError {
    #[error("{file}: not a GeoJSON FeatureCollection: {reason}")]
    NotGeoJson { file: String, reason: String },
    #[error("{file}, feature {feature}{}: {reason}", field.as_ref().map(|f| format!(", property {f}")).unwrap_or_default())]
    Feature { file: String, feature: usize, field: Option<String>, reason: String },
}

impl Coded for GridFileError {
    fn code(&self) -> &'static str {
        "grid_geojson_invalid"
    }
    fn field(&self) -> Option<String> {
        match self {
            GridFileError::NotGeoJson { file, .. } => Some(file.clone()),
            GridFileError::Feature { file, feature, field, .. } => {
                Some(format!("{file}#feature{feature}{}", field.as_ref().map(|f| format!(".{f}")).unwrap_or_default()))
            }
        }
    }
}

/// Parses a grid FeatureCollection. Checks each feature on its own and codes for duplicates;
/// whether the regions exist and whether grids lie inside their county is checked against the
/// stored tree by the engine.
pub fn parse_grid_file(file: &str, bytes: &[u8]) -> Result<Vec<Grid>, GridFileError> {
    let not_geojson = |reason: String| GridFileError::NotGeoJson { file: file.into(), reason };
    let text = std::str::from_utf8(bytes).map_err(|e| not_geojson(format!("not UTF-8: {e}")))?;
    let collection: geojson::FeatureCollection = text.parse().map_err(|e| not_geojson(format!("{e}")))?;
    if collection.features.is_empty() {
        return Err(not_geojson("the collection has no features".into()));
    }
    let mut seen = HashSet::new();
    let mut grids = Vec::with_capacity(collection.features.len());
    for (idx, feature) in collection.features.iter().enumerate() {
        let fail = |field: Option<&str>, reason: String| GridFileError::Feature {
            file: file.into(),
            feature: idx + 1,
            field: field.map(str::to_owned),
            reason,
        };
        let props = feature.properties.as_ref().ok_or_else(|| fail(None, "the feature has no properties".into()))?;
        let text_prop = |name: &str| -> Result<Option<String>, GridFileError> {
            match props.get(name) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::String(s)) => Ok(Some(s.trim().to_owned())),
                Some(serde_json::Value::Number(n)) => Ok(Some(n.to_string())),
                Some(other) => Err(fail(Some(name), format!("expected text, found {other}"))),
            }
        };
        let required =
            |name: &str| text_prop(name)?.filter(|s| !s.is_empty()).ok_or_else(|| fail(Some(name), "is required".into()));
        let code = GridCode::parse(&required("code")?).map_err(|e| fail(Some("code"), e.to_string()))?;
        let name = required("name")?;
        let region = RegionCode::parse(&required("region")?).map_err(|e| fail(Some("region"), e.to_string()))?;
        if !matches!(region.level(), RegionLevel::Town | RegionLevel::Village) {
            return Err(fail(Some("region"), format!("{region} is a {:?}; a grid lies in a town or a village", region.level())));
        }
        if code.region() != region {
            return Err(fail(Some("code"), format!("{code} does not start with its region {region}")));
        }
        let kind = match text_prop("kind")? {
            None => GridKind::Comprehensive,
            Some(text) => {
                GridKind::parse(&text).ok_or_else(|| fail(Some("kind"), format!("{text:?} is not comprehensive or dedicated")))?
            }
        };
        let geometry = feature.geometry.as_ref().ok_or_else(|| fail(Some("geometry"), "is required".into()))?;
        let area = area_from_geojson(&geometry.value).map_err(|e| fail(Some("geometry"), e.to_string()))?;
        if !seen.insert(code.clone()) {
            return Err(fail(Some("code"), format!("{code} appears twice in the file")));
        }
        grids.push(Grid { code, name, region, kind, generated: false, area });
    }
    Ok(grids)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn feature(props: &str) -> String {
        format!(
            r#"{{"type":"Feature","properties":{props},"geometry":{{"type":"Polygon","coordinates":[[[121.40,28.55],[121.41,28.55],[121.41,28.56],[121.40,28.55]]]}}}}"#
        )
    }

    fn collection(features: &[String]) -> String {
        format!(r#"{{"type":"FeatureCollection","features":[{}]}}"#, features.join(","))
    }

    #[test]
    fn parses_grids_with_defaults() {
        let text = collection(&[
            feature(r#"{"code":"331004001-01","name":"一网格","region":"331004001"}"#),
            feature(r#"{"code":"331004001001-2","name":"二网格","region":"331004001001","kind":"专属网格"}"#),
        ]);
        let grids = parse_grid_file("g.geojson", text.as_bytes()).unwrap();
        assert_eq!(grids.len(), 2);
        assert_eq!(grids[0].kind, GridKind::Comprehensive);
        assert_eq!(grids[1].kind, GridKind::Dedicated);
        assert!(!grids[0].generated);
        let [x0, y0, x1, y1] = grids[0].bbox();
        assert!(x0 < x1 && y0 < y1);
    }

    #[test]
    fn names_the_feature_and_property_at_fault() {
        let ok = feature(r#"{"code":"331004001-01","name":"一","region":"331004001"}"#);
        let cases = [
            (feature(r#"{"name":"x","region":"331004001"}"#), "code", "is required"),
            (feature(r#"{"code":"331004001-02","name":"x","region":"331004"}"#), "region", "town or a village"),
            (feature(r#"{"code":"331004002-02","name":"x","region":"331004001"}"#), "code", "does not start"),
            (feature(r#"{"code":"331004001-02","name":"x","region":"331004001","kind":"big"}"#), "kind", "not comprehensive"),
            (feature(r#"{"code":"331004001-01","name":"x","region":"331004001"}"#), "code", "appears twice"),
            (feature(r#"{"code":"331004001-03","name":["x"],"region":"331004001"}"#), "name", "expected text"),
        ];
        for (bad, field, reason) in cases {
            let text = collection(&[ok.clone(), bad]);
            let err = parse_grid_file("g.geojson", text.as_bytes()).unwrap_err();
            match &err {
                GridFileError::Feature { feature, field: f, reason: r, .. } => {
                    assert_eq!(*feature, 2, "{err}");
                    assert_eq!(f.as_deref(), Some(field), "{err}");
                    assert!(r.contains(reason), "{err}");
                }
                other => panic!("unexpected {other}"),
            }
        }
    }

    #[test]
    fn geometry_problems_are_reported() {
        let text = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"331004001-01","name":"x","region":"331004001"},"geometry":{"type":"Point","coordinates":[121.4,28.5]}}]}"#;
        let err = parse_grid_file("g.geojson", text.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("not an area"), "{err}");
        assert!(matches!(parse_grid_file("g", b"[1,2"), Err(GridFileError::NotGeoJson { .. })));
        assert!(matches!(
            parse_grid_file("g", br#"{"type":"FeatureCollection","features":[]}"#),
            Err(GridFileError::NotGeoJson { .. })
        ));
    }

    #[test]
    fn grid_codes() {
        assert_eq!(GridCode::parse("331004001-07").unwrap().region().as_str(), "331004001");
        for bad in ["331004001", "331004-1", "331004001-", "331004001-123456789", "331004001-a b", "x-1"] {
            assert!(GridCode::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn grid_file_parser_never_panics(text in "\\PC{0,200}") {
            let _ = parse_grid_file("fuzz", text.as_bytes());
        }

        #[test]
        fn grid_code_parser_never_panics(text in "[0-9a-z-]{0,20}") {
            if let Ok(code) = GridCode::parse(&text) {
                prop_assert!(code.region().contains(&code.region()));
            }
        }
    }
}
