//! The dashboard's county map: the real county polygons (read once from the store, as the
//! division tree's boundaries are reference data), projected to SVG paths on the server and
//! coloured by a chosen KPI. No JavaScript and no map library.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Arc;

use fq_domain::geometry::area_from_geojson_text;
use fq_domain::region::{RegionCode, RegionLevel};
use fq_engine::EngineError;
use geo::{Area, BoundingRect, Centroid, MultiPolygon, Simplify};
use serde::Serialize;

use crate::AppState;

/// The drawing's size in SVG units.
pub(crate) const WIDTH: f64 = 600.0;
pub(crate) const HEIGHT: f64 = 480.0;
const PADDING: f64 = 8.0;

/// One county's outline, in WGS-84 degrees.
#[derive(Debug)]
pub(crate) struct CountyShape {
    pub code: RegionCode,
    pub name: String,
    pub area: MultiPolygon<f64>,
}

/// The county outlines, parsed on first use and kept (a boundary that does not parse is left out
/// and logged).
pub(crate) async fn counties(state: &AppState) -> Result<Arc<Vec<CountyShape>>, EngineError> {
    let shapes = state
        .pages
        .counties
        .get_or_try_init(|| async {
            let stored = state.engine.store().boundaries(RegionLevel::County).await?;
            let shapes = stored
                .into_iter()
                .filter_map(|b| match area_from_geojson_text(&b.geojson) {
                    Ok(area) => Some(CountyShape { code: b.code, name: b.name, area }),
                    Err(e) => {
                        tracing::warn!(county = %b.code, error = %e, "county boundary left off the map");
                        None
                    }
                })
                .collect();
            Ok::<_, EngineError>(Arc::new(shapes))
        })
        .await?;
    Ok(Arc::clone(shapes))
}

/// One county on the map.
#[derive(Debug, Serialize)]
pub(crate) struct Drawn {
    pub code: String,
    pub name: String,
    pub path: String,
    pub fill: &'static str,
    /// The value as shown in the tooltip and the table.
    pub shown: String,
    /// Where its name is written (only on maps of a few counties).
    pub label: Option<(f64, f64)>,
}

/// A legend entry.
#[derive(Debug, Serialize)]
pub(crate) struct Swatch {
    pub fill: &'static str,
    pub text: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct MapSvg {
    pub width: f64,
    pub height: f64,
    pub counties: Vec<Drawn>,
    pub legend: Vec<Swatch>,
}

/// Light to dark: more is more (cases, closures) or more is worse (overdue, cards).
pub(crate) const BLUES: [&str; 5] = ["#deebf7", "#9ecae1", "#6baed6", "#3182bd", "#08519c"];
pub(crate) const REDS: [&str; 5] = ["#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"];
/// A county outside the report, and one in it without a value (no closed case for a rate).
pub(crate) const OUTSIDE: &str = "#e4e7eb";
pub(crate) const NO_VALUE: &str = "#f7f7f7";

/// How a KPI's values are written and coloured.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scale {
    pub worse_when_high: bool,
    pub percent: bool,
    pub decimals: usize,
}

impl Scale {
    pub(crate) fn show(self, value: Option<f64>) -> String {
        match value {
            None => "—".into(),
            Some(v) if self.percent => format!("{:.1}%", v * 100.0),
            Some(v) => format!("{v:.prec$}", prec = self.decimals),
        }
    }
}

/// The `(x, y)` of a point in the drawing.
pub(crate) struct Projection {
    min_lon: f64,
    max_lat: f64,
    cos_lat: f64,
    scale: f64,
    dx: f64,
    dy: f64,
}

impl Projection {
    /// Equirectangular, shrunk by the cosine of the middle latitude, fitted to the drawing.
    fn fit(shapes: &[&CountyShape]) -> Option<Projection> {
        Projection::fit_rects(shapes.iter().filter_map(|s| s.area.bounding_rect()))
    }

    /// Fitted to the union of `rects`, in the map's frame.
    pub(crate) fn fit_rects(rects: impl Iterator<Item = geo::Rect<f64>>) -> Option<Projection> {
        Projection::fit_frame(rects, (WIDTH, HEIGHT, PADDING), 1e-9)
    }

    /// Fitted to the union of `rects`, centred in a drawing of `width` × `height` with at least
    /// `padding` on every side; a span under `least` degrees (one point, a boat at anchor) is
    /// drawn as that wide.
    pub(crate) fn fit_frame(
        mut rects: impl Iterator<Item = geo::Rect<f64>>,
        (width, height, padding): (f64, f64, f64),
        least: f64,
    ) -> Option<Projection> {
        let first = rects.next()?;
        let (mut min_x, mut min_y, mut max_x, mut max_y) = (first.min().x, first.min().y, first.max().x, first.max().y);
        for r in rects {
            min_x = min_x.min(r.min().x);
            min_y = min_y.min(r.min().y);
            max_x = max_x.max(r.max().x);
            max_y = max_y.max(r.max().y);
        }
        let cos_lat = ((min_y + max_y) / 2.0).to_radians().cos();
        // A span widened to `least` keeps its points in the middle of it.
        let (mut w, mut h) = ((max_x - min_x) * cos_lat, max_y - min_y);
        if w < least {
            min_x -= (least - w) / cos_lat / 2.0;
            w = least;
        }
        if h < least {
            max_y += (least - h) / 2.0;
            h = least;
        }
        let scale = ((width - 2.0 * padding) / w).min((height - 2.0 * padding) / h);
        Some(Projection {
            min_lon: min_x,
            max_lat: max_y,
            cos_lat,
            scale,
            dx: (width - w * scale) / 2.0,
            dy: (height - h * scale) / 2.0,
        })
    }

    pub(crate) fn point(&self, lon: f64, lat: f64) -> (f64, f64) {
        (self.dx + (lon - self.min_lon) * self.cos_lat * self.scale, self.dy + (self.max_lat - lat) * self.scale)
    }

    /// The SVG path of an area, simplified to about half a unit of the drawing.
    pub(crate) fn path(&self, area: &MultiPolygon<f64>) -> String {
        let simple = area.simplify(0.5 / self.scale);
        let mut out = String::new();
        for polygon in &simple {
            for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
                for (idx, c) in ring.coords().enumerate() {
                    let (x, y) = self.point(c.x, c.y);
                    let _ = write!(out, "{}{x:.1},{y:.1}", if idx == 0 { "M" } else { "L" });
                }
                out.push('Z');
            }
        }
        out
    }
}

/// The part of the province a map of `region` shows: its city's counties, or all the
/// province's for a province.
pub(crate) fn frame_of(region: &RegionCode) -> RegionCode {
    match region.level() {
        RegionLevel::Province => region.clone(),
        _ => region.at_level(RegionLevel::City).unwrap_or_else(|| region.clone()),
    }
}

/// The map of the counties within `frame`, each coloured by its value in `values` (counties
/// missing from `values` lie outside the report).
pub(crate) fn draw(shapes: &[CountyShape], frame: &RegionCode, values: &HashMap<String, Option<f64>>, scale: Scale) -> MapSvg {
    let shown: Vec<&CountyShape> = shapes.iter().filter(|s| frame.contains(&s.code)).collect();
    let present: Vec<f64> = values.values().filter_map(|v| *v).collect();
    let (low, high) = present.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(*v), b.max(*v)));
    let palette = if scale.worse_when_high { REDS } else { BLUES };
    let class = |v: f64| -> usize {
        if high <= low {
            return 2;
        }
        (((v - low) / (high - low) * 5.0).floor() as usize).min(4)
    };
    let Some(projection) = Projection::fit(&shown) else {
        return MapSvg { width: WIDTH, height: HEIGHT, counties: Vec::new(), legend: Vec::new() };
    };
    let labelled = shown.len() <= 20;
    let counties = shown
        .iter()
        .map(|s| {
            let value = values.get(s.code.as_str());
            let fill = match value {
                None => OUTSIDE,
                Some(None) => NO_VALUE,
                Some(Some(v)) => palette[class(*v)],
            };
            let biggest = s.area.iter().max_by(|a, b| a.unsigned_area().total_cmp(&b.unsigned_area()));
            let label = biggest.and_then(|p| p.centroid()).filter(|_| labelled).map(|c| {
                let (x, y) = projection.point(c.x(), c.y());
                ((x * 10.0).round() / 10.0, (y * 10.0).round() / 10.0)
            });
            Drawn {
                code: s.code.to_string(),
                name: s.name.clone(),
                path: projection.path(&s.area),
                fill,
                shown: value.map_or_else(|| "—".to_owned(), |v| scale.show(*v)),
                label,
            }
        })
        .collect();
    let legend = if present.is_empty() {
        Vec::new()
    } else if high <= low {
        vec![Swatch { fill: palette[2], text: scale.show(Some(low)) }]
    } else {
        (0..5)
            .map(|i| {
                let a = low + (high - low) * i as f64 / 5.0;
                let b = low + (high - low) * (i + 1) as f64 / 5.0;
                Swatch { fill: palette[i], text: format!("{} – {}", scale.show(Some(a)), scale.show(Some(b))) }
            })
            .collect()
    };
    MapSvg { width: WIDTH, height: HEIGHT, counties, legend }
}

#[cfg(test)]
mod tests {
    use geo::polygon;

    use super::*;

    fn square(code: &str, lon: f64, lat: f64) -> CountyShape {
        let p = polygon![(x: lon, y: lat), (x: lon + 0.5, y: lat), (x: lon + 0.5, y: lat + 0.5), (x: lon, y: lat + 0.5), (x: lon, y: lat)];
        CountyShape { code: RegionCode::parse(code).unwrap(), name: code.into(), area: MultiPolygon(vec![p]) }
    }

    #[test]
    fn counties_fit_the_drawing_and_take_their_colour() {
        let shapes = vec![square("331002", 121.0, 28.5), square("331004", 121.5, 28.5), square("330102", 120.0, 30.0)];
        let values: HashMap<String, Option<f64>> =
            [("331002".to_owned(), Some(1.0)), ("331004".to_owned(), Some(9.0))].into_iter().collect();
        let scale = Scale { worse_when_high: false, percent: false, decimals: 0 };
        let map = draw(&shapes, &RegionCode::parse("3310").unwrap(), &values, scale);
        assert_eq!(map.counties.len(), 2, "only the city's counties are drawn");
        assert_eq!((map.counties[0].fill, map.counties[1].fill), (BLUES[0], BLUES[4]));
        for county in &map.counties {
            assert!(county.path.starts_with('M') && county.path.ends_with('Z'));
            for pair in county.path.trim_matches(|c| c == 'M' || c == 'Z').split(['L', 'M', 'Z']).filter(|p| !p.is_empty()) {
                let (x, y) = pair.split_once(',').unwrap();
                let (x, y): (f64, f64) = (x.parse().unwrap(), y.parse().unwrap());
                assert!((0.0..=WIDTH).contains(&x) && (0.0..=HEIGHT).contains(&y), "{x},{y}");
            }
        }
        assert_eq!(map.legend.len(), 5);
        assert_eq!(frame_of(&RegionCode::parse("331004001").unwrap()).as_str(), "3310");
    }
}
