//! Area geometries (county boundaries, grids) as `geo` multipolygons in WGS-84 longitude/latitude,
//! read from and written to GeoJSON with every coordinate checked.
//!
//! The conversion is written here rather than taken from `geojson`'s `TryFrom` because outside
//! files must never panic the parser and every problem must name the ring and position.

use geo::{Coord, LineString, MultiPolygon, Polygon};
use geojson::{GeometryValue, Position};

/// Why a geometry is not a usable area.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GeometryProblem {
    #[error("geometry type {0} is not an area; expected Polygon or MultiPolygon")]
    NotAnArea(&'static str),
    #[error("the geometry has no polygons")]
    Empty,
    #[error("polygon {polygon}, ring {ring}: {reason}")]
    Ring { polygon: usize, ring: usize, reason: String },
}

fn geometry_type_name(value: &GeometryValue) -> &'static str {
    match value {
        GeometryValue::Point { .. } => "Point",
        GeometryValue::MultiPoint { .. } => "MultiPoint",
        GeometryValue::LineString { .. } => "LineString",
        GeometryValue::MultiLineString { .. } => "MultiLineString",
        GeometryValue::Polygon { .. } => "Polygon",
        GeometryValue::MultiPolygon { .. } => "MultiPolygon",
        GeometryValue::GeometryCollection { .. } => "GeometryCollection",
    }
}

/// Converts a GeoJSON Polygon or MultiPolygon into a checked multipolygon.
///
/// Checks: every position has a finite longitude in [-180, 180] and latitude in [-90, 90]; every
/// ring has at least four positions and ends where it starts.
pub fn area_from_geojson(value: &GeometryValue) -> Result<MultiPolygon<f64>, GeometryProblem> {
    let polygons: Vec<&Vec<Vec<Position>>> = match value {
        GeometryValue::Polygon { coordinates } => vec![coordinates],
        GeometryValue::MultiPolygon { coordinates } => coordinates.iter().collect(),
        other => return Err(GeometryProblem::NotAnArea(geometry_type_name(other))),
    };
    if polygons.is_empty() {
        return Err(GeometryProblem::Empty);
    }
    let mut out = Vec::with_capacity(polygons.len());
    for (p_idx, rings) in polygons.into_iter().enumerate() {
        let polygon = p_idx + 1;
        if rings.is_empty() {
            return Err(GeometryProblem::Ring { polygon, ring: 1, reason: "the polygon has no rings".into() });
        }
        let mut converted = Vec::with_capacity(rings.len());
        for (r_idx, ring) in rings.iter().enumerate() {
            let problem = |reason: String| GeometryProblem::Ring { polygon, ring: r_idx + 1, reason };
            if ring.len() < 4 {
                return Err(problem(format!("a ring needs at least 4 positions, found {}", ring.len())));
            }
            let mut coords = Vec::with_capacity(ring.len());
            for (k, position) in ring.iter().enumerate() {
                let values = position.as_slice();
                if values.len() < 2 {
                    return Err(problem(format!(
                        "position {} has {} number(s); expected [longitude, latitude]",
                        k + 1,
                        values.len()
                    )));
                }
                let (x, y) = (values[0], values[1]);
                if !x.is_finite() || !(-180.0..=180.0).contains(&x) {
                    return Err(problem(format!("position {}: longitude {x} is outside [-180, 180]", k + 1)));
                }
                if !y.is_finite() || !(-90.0..=90.0).contains(&y) {
                    return Err(problem(format!("position {}: latitude {y} is outside [-90, 90]", k + 1)));
                }
                coords.push(Coord { x, y });
            }
            if coords.first() != coords.last() {
                return Err(problem("the ring is not closed (its last position differs from its first)".into()));
            }
            converted.push(LineString::new(coords));
        }
        let exterior = converted.remove(0);
        out.push(Polygon::new(exterior, converted));
    }
    Ok(MultiPolygon::new(out))
}

/// Serialises an area as a GeoJSON geometry object (text).
pub fn area_to_geojson_text(area: &MultiPolygon<f64>) -> String {
    let geometry = geojson::Geometry::new(GeometryValue::from(area));
    serde_json::to_string(&geometry).expect("a geometry always serialises")
}

/// Reads an area stored by [`area_to_geojson_text`].
pub fn area_from_geojson_text(text: &str) -> Result<MultiPolygon<f64>, String> {
    let geometry: geojson::Geometry = text.parse().map_err(|e| format!("stored geometry is not GeoJSON: {e}"))?;
    area_from_geojson(&geometry.value).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(x: f64, y: f64) -> GeometryValue {
        GeometryValue::new_polygon(vec![vec![[x, y], [x + 1.0, y], [x + 1.0, y + 1.0], [x, y + 1.0], [x, y]]])
    }

    #[test]
    fn polygon_round_trips_through_text() {
        let area = area_from_geojson(&square(121.0, 28.5)).unwrap();
        let text = area_to_geojson_text(&area);
        assert_eq!(area_from_geojson_text(&text).unwrap(), area);
    }

    #[test]
    fn refuses_points_open_rings_and_bad_coordinates() {
        let point = GeometryValue::new_point([121.0, 28.0]);
        assert_eq!(area_from_geojson(&point), Err(GeometryProblem::NotAnArea("Point")));

        let open = GeometryValue::new_polygon(vec![vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]]);
        assert!(matches!(area_from_geojson(&open), Err(GeometryProblem::Ring { reason, .. }) if reason.contains("not closed")));

        let short = GeometryValue::new_polygon(vec![vec![[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]]]);
        assert!(matches!(area_from_geojson(&short), Err(GeometryProblem::Ring { reason, .. }) if reason.contains("at least 4")));

        let far = GeometryValue::new_polygon(vec![vec![[0.0, 0.0], [200.0, 0.0], [1.0, 1.0], [0.0, 0.0]]]);
        assert!(matches!(area_from_geojson(&far), Err(GeometryProblem::Ring { reason, .. }) if reason.contains("longitude 200")));

        let empty = GeometryValue::MultiPolygon { coordinates: vec![] };
        assert_eq!(area_from_geojson(&empty), Err(GeometryProblem::Empty));
    }

    #[test]
    fn second_ring_is_a_hole() {
        let value = GeometryValue::new_polygon(vec![
            vec![[0.0, 0.0], [4.0, 0.0], [4.0, 4.0], [0.0, 4.0], [0.0, 0.0]],
            vec![[1.0, 1.0], [2.0, 1.0], [2.0, 2.0], [1.0, 1.0]],
        ]);
        let area = area_from_geojson(&value).unwrap();
        assert_eq!(area.0[0].interiors().len(), 1);
    }
}
