//! Generated demonstration grids: square cells covering a county, clipped to its real boundary.
//!
//! No licensed town (乡镇) polygons exist for Zhejiang, so the cells are shared out among the
//! county's towns as contiguous sectors around the county centroid. The result looks like a grid
//! layer and exercises every code path, but it is not the real grid division: every cell is
//! marked `generated` and named "（生成）" so that no one mistakes it for one.

use geo::{Area, BooleanOps, BoundingRect, Centroid, Coord, MultiPolygon, Rect};

use crate::grid::{Grid, GridCode, GridKind};
use crate::region::{Region, RegionCode, RegionLevel};

/// Metres per degree of latitude (mean; good to 0.5% for cell sizing).
const METRES_PER_DEGREE: f64 = 111_320.0;

/// Why cells cannot be generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenerateError {
    #[error("cell size must be between 100 and 20000 metres, got {0}")]
    CellSize(u32),
    #[error("{0} is not a county code (6 digits)")]
    NotCounty(RegionCode),
    #[error("county {0} has no towns to attach the cells to")]
    NoTowns(RegionCode),
    #[error("the boundary of county {0} is empty")]
    EmptyBoundary(RegionCode),
}

impl crate::Coded for GenerateError {
    fn code(&self) -> &'static str {
        "grid_generation_invalid"
    }
}

/// Covers `county` with square cells of `cell_metres`, clipped to `boundary`, each attached to one
/// of `towns` (the county's 9-digit children). Cells that keep less than 5% of their area after
/// clipping are dropped as slivers.
pub fn generate_cells(
    county: &RegionCode,
    boundary: &MultiPolygon<f64>,
    towns: &[Region],
    cell_metres: u32,
) -> Result<Vec<Grid>, GenerateError> {
    if !(100..=20_000).contains(&cell_metres) {
        return Err(GenerateError::CellSize(cell_metres));
    }
    if county.level() != RegionLevel::County {
        return Err(GenerateError::NotCounty(county.clone()));
    }
    let mut towns: Vec<&Region> =
        towns.iter().filter(|t| county.contains(&t.code) && t.level() == RegionLevel::Town && !t.retired).collect();
    if towns.is_empty() {
        return Err(GenerateError::NoTowns(county.clone()));
    }
    towns.sort_by(|a, b| a.code.cmp(&b.code));
    let bounds = boundary.bounding_rect().ok_or_else(|| GenerateError::EmptyBoundary(county.clone()))?;
    let centre = boundary.centroid().ok_or_else(|| GenerateError::EmptyBoundary(county.clone()))?;

    let dlat = f64::from(cell_metres) / METRES_PER_DEGREE;
    let dlon = dlat / centre.y().to_radians().cos();
    let cols = ((bounds.width() / dlon).ceil() as usize).max(1);
    let rows = ((bounds.height() / dlat).ceil() as usize).max(1);

    // Clip every cell to the county and keep the pieces that matter.
    let mut pieces: Vec<(f64, MultiPolygon<f64>)> = Vec::new();
    for row in 0..rows {
        for col in 0..cols {
            let min = Coord { x: bounds.min().x + col as f64 * dlon, y: bounds.min().y + row as f64 * dlat };
            let cell = Rect::new(min, Coord { x: min.x + dlon, y: min.y + dlat }).to_polygon();
            let clipped = MultiPolygon::new(vec![cell.clone()]).intersection(boundary);
            if clipped.0.is_empty() || clipped.unsigned_area() < 0.05 * cell.unsigned_area() {
                continue;
            }
            let c = clipped.centroid().expect("non-empty piece");
            let angle = (c.y() - centre.y()).atan2(c.x() - centre.x());
            pieces.push((angle, clipped));
        }
    }
    // Contiguous sectors: order by angle around the centre and cut into one run per town.
    pieces.sort_by(|a, b| a.0.total_cmp(&b.0));
    let per_town = pieces.len().div_ceil(towns.len()).max(1);
    let mut grids = Vec::with_capacity(pieces.len());
    for (idx, (_, area)) in pieces.into_iter().enumerate() {
        let town = towns[(idx / per_town).min(towns.len() - 1)];
        let local = idx % per_town + 1;
        let code = GridCode::parse(&format!("{}-G{local:03}", town.code)).expect("generated codes are valid");
        grids.push(Grid {
            code,
            name: format!("{}演示网格{local:03}（生成）", town.name),
            region: town.code.clone(),
            kind: GridKind::Comprehensive,
            generated: true,
            area,
        });
    }
    Ok(grids)
}

#[cfg(test)]
mod tests {
    use geo::{Contains, Intersects, Polygon, polygon};

    use super::*;

    fn county() -> (RegionCode, MultiPolygon<f64>, Vec<Region>) {
        // About 10 km x 10 km around Luqiao.
        let square: Polygon<f64> = polygon![
            (x: 121.30, y: 28.50), (x: 121.40, y: 28.50), (x: 121.40, y: 28.59), (x: 121.30, y: 28.59), (x: 121.30, y: 28.50)
        ];
        let towns = (1..=3)
            .map(|i| Region {
                code: RegionCode::parse(&format!("33100400{i}")).unwrap(), name: format!("镇{i}"), retired: false
            })
            .collect();
        (RegionCode::parse("331004").unwrap(), MultiPolygon::new(vec![square]), towns)
    }

    #[test]
    fn covers_the_county_with_labelled_cells() {
        let (code, boundary, towns) = county();
        let grids = generate_cells(&code, &boundary, &towns, 1000).unwrap();
        // 10 km x 10 km at 1 km cells: about 100 cells (edges are clipped).
        assert!((90..=121).contains(&grids.len()), "{}", grids.len());
        let covered: f64 = grids.iter().map(|g| g.area.unsigned_area()).sum();
        let rel = (covered - boundary.unsigned_area()).abs() / boundary.unsigned_area();
        assert!(rel < 0.01, "cells cover {rel} off the county area");
        for grid in &grids {
            assert!(grid.generated);
            assert!(grid.name.contains("生成"));
            assert_eq!(grid.code.region(), grid.region);
            assert!(code.contains(&grid.region));
            assert!(boundary.intersects(&grid.area));
        }
        // Every town gets cells, and codes are unique.
        for town in &towns {
            assert!(grids.iter().any(|g| g.region == town.code), "{}", town.code);
        }
        let mut codes: Vec<_> = grids.iter().map(|g| g.code.clone()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), grids.len());
    }

    #[test]
    fn cells_stay_inside_a_concave_county() {
        // An L-shaped county: the missing quarter must stay empty.
        let l_shape: Polygon<f64> = polygon![
            (x: 0.0, y: 0.0), (x: 0.2, y: 0.0), (x: 0.2, y: 0.1), (x: 0.1, y: 0.1), (x: 0.1, y: 0.2), (x: 0.0, y: 0.2), (x: 0.0, y: 0.0)
        ];
        let boundary = MultiPolygon::new(vec![l_shape]);
        let (code, _, towns) = county();
        let grids = generate_cells(&code, &boundary, &towns, 2000).unwrap();
        let hole: Polygon<f64> =
            polygon![(x: 0.11, y: 0.11), (x: 0.19, y: 0.11), (x: 0.19, y: 0.19), (x: 0.11, y: 0.19), (x: 0.11, y: 0.11)];
        for grid in &grids {
            assert!(!grid.area.intersects(&hole), "{} enters the missing quarter", grid.code);
            assert!(!hole.contains(&grid.area.centroid().unwrap()));
        }
    }

    #[test]
    fn refuses_bad_requests() {
        let (code, boundary, towns) = county();
        assert_eq!(generate_cells(&code, &boundary, &towns, 50), Err(GenerateError::CellSize(50)));
        let city = RegionCode::parse("3310").unwrap();
        assert_eq!(generate_cells(&city, &boundary, &towns, 1000), Err(GenerateError::NotCounty(city)));
        let other = RegionCode::parse("331003").unwrap();
        assert_eq!(generate_cells(&other, &boundary, &towns, 1000), Err(GenerateError::NoTowns(other)));
    }
}
