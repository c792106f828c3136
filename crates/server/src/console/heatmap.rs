//! `/heatmap` 热力图: a county's grids coloured by the number of cases located in each over a
//! period (optionally one programme and one category), or a density layer of the cases' points
//! (a Gaussian kernel on a raster), drawn over the grid polygons as SVG with a legend and the
//! values on hover (`<title>`), and the busiest grids as a table.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use fq_domain::calendar::beijing;
use fq_domain::region::{RegionCode, RegionLevel};
use fq_engine::{EngineError, HeatQuery};
use geo::BoundingRect;
use serde::{Deserialize, Serialize};

use super::dashboard::readable_programmes;
use super::display::Names;
use super::i18n;
use super::layout::{self, Page, value};
use super::map::{HEIGHT, Projection, REDS, WIDTH};
use super::period;
use super::viewer::Viewer;
use crate::AppState;

/// The density raster's size (cells across and down the drawing) and the kernel's σ in cells.
const RASTER: (usize, usize) = (75, 60);
const SIGMA: f64 = 2.0;

#[derive(Debug, Deserialize)]
pub(crate) struct HeatParams {
    region: Option<String>,
    programme: Option<String>,
    category: Option<String>,
    from: Option<String>,
    to: Option<String>,
    layer: Option<String>,
}

#[derive(Debug, Serialize)]
struct Shape {
    path: String,
    fill: &'static str,
    title: String,
}

#[derive(Debug, Serialize)]
struct Dot {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
    fill: &'static str,
    opacity: f64,
}

/// The colour class (0 to 4) of a value against the highest.
fn class(v: f64, high: f64) -> usize {
    if high <= 0.0 { 0 } else { ((v / high * 5.0).ceil() as usize).clamp(1, 5) - 1 }
}

/// `GET /heatmap`.
pub(crate) async fn page(State(state): State<AppState>, viewer: Viewer, Query(q): Query<HeatParams>) -> Page {
    let engine = &state.engine;
    let lang = viewer.lang;
    let fail = |e: EngineError| layout::fail(&state, &viewer, &e);
    let readable = readable_programmes(engine, viewer.account());
    let Some((_, scopes)) = readable.first() else { return Err(layout::denied(&state, &viewer)) };
    // A county: the one asked for, the reader's own, or the first county below the reader's region.
    let region = match q.region.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        Some(text) => {
            RegionCode::parse(text).map_err(|e| fail(EngineError::field("region_code_invalid", "region", e.to_string())))?
        }
        None if scopes[0].level() == RegionLevel::County => scopes[0].clone(),
        None if scopes[0].contains(&RegionCode::parse("331004").expect("路桥区")) => {
            RegionCode::parse("331004").expect("路桥区")
        }
        None => engine.region_children(&scopes[0]).await.map_err(fail)?.first().map_or(scopes[0].clone(), |r| r.code.clone()),
    };
    let programme = q.programme.as_deref().map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned);
    let category = q.category.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned);
    let density = q.layer.as_deref() == Some("density");
    let today = engine.current_time().with_timezone(&beijing()).date_naive();
    let shown = period::period(q.from.as_deref(), q.to.as_deref(), today, 90, 3 * 366);
    let Some((from, to)) = shown.range else {
        let ctx = minijinja::context! { error => i18n::text(lang, "fig.bad_period") };
        return Ok(layout::page_with_status(&state, &viewer, StatusCode::UNPROCESSABLE_ENTITY, "heatmap.html", ctx));
    };
    let query = HeatQuery { county: region.clone(), programme: programme.clone(), category: category.clone(), from, to };
    let map = match engine.heat_map(&viewer.actor, &query).await {
        Ok(map) => map,
        Err(e @ EngineError::Invalid { .. }) => {
            let ctx = minijinja::context! { error => layout::reason(lang, &e) };
            return Ok(layout::page_with_status(&state, &viewer, StatusCode::UNPROCESSABLE_ENTITY, "heatmap.html", ctx));
        }
        Err(e) => return Err(fail(e)),
    };
    let projection = Projection::fit_rects(map.cells.iter().filter_map(|c| c.area.bounding_rect()));
    let high = f64::from(map.cells.iter().map(|c| c.count).max().unwrap_or(0));
    let mut shapes = Vec::new();
    let mut dots = Vec::new();
    let mut legend: Vec<(&str, String)> = Vec::new();
    if let Some(p) = &projection {
        for cell in &map.cells {
            let fill = if density || cell.count == 0 { "#f7f7f7" } else { REDS[class(f64::from(cell.count), high)] };
            let title = i18n::text(lang, "heat.cell_title").replace("{name}", &cell.name).replace("{n}", &cell.count.to_string());
            shapes.push(Shape { path: p.path(&cell.area), fill, title });
        }
        if density {
            // The points binned on the raster and spread with a Gaussian kernel.
            let (cols, rows) = RASTER;
            let (cw, ch) = (WIDTH / cols as f64, HEIGHT / rows as f64);
            let mut raster = vec![0.0f64; cols * rows];
            let reach = (3.0 * SIGMA).ceil() as isize;
            for &(lon, lat) in &map.points {
                let (x, y) = p.point(lon, lat);
                let (c0, r0) = ((x / cw) as isize, (y / ch) as isize);
                for dr in -reach..=reach {
                    for dc in -reach..=reach {
                        let (c, r) = (c0 + dc, r0 + dr);
                        if c >= 0 && r >= 0 && (c as usize) < cols && (r as usize) < rows {
                            raster[r as usize * cols + c as usize] +=
                                (-((dc * dc + dr * dr) as f64) / (2.0 * SIGMA * SIGMA)).exp();
                        }
                    }
                }
            }
            let top = raster.iter().copied().fold(0.0, f64::max);
            for (i, v) in raster.iter().enumerate() {
                if top > 0.0 && *v / top >= 0.05 {
                    let k = class(*v, top);
                    dots.push(Dot {
                        x: (i % cols) as f64 * cw,
                        y: (i / cols) as f64 * ch,
                        w: cw,
                        h: ch,
                        fill: REDS[k],
                        opacity: 0.35 + 0.12 * k as f64,
                    });
                }
            }
        }
    }
    if high > 0.0 && !density {
        legend.push(("#f7f7f7", "0".to_owned()));
        // Whole counts per class: class k holds the counts whose share of the highest is in
        // (k/5, (k+1)/5]; a class no count falls in is not listed.
        for (k, fill) in REDS.iter().enumerate() {
            let lowest = (high * k as f64 / 5.0).floor() as u64 + 1;
            let highest = (high * (k + 1) as f64 / 5.0).floor() as u64;
            if lowest <= highest {
                let text = if lowest == highest { lowest.to_string() } else { format!("{lowest} – {highest}") };
                legend.push((*fill, text));
            }
        }
    } else if density && !dots.is_empty() {
        legend = vec![(REDS[0], i18n::text(lang, "heat.low")), (REDS[4], i18n::text(lang, "heat.high"))];
    }
    let mut busiest: Vec<(String, u32)> = map.cells.iter().filter(|c| c.count > 0).map(|c| (c.name.clone(), c.count)).collect();
    busiest.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    busiest.truncate(10);
    let mut programmes: Vec<(String, String)> = readable.iter().map(|(p, _)| (p.code.clone(), p.name.clone())).collect();
    if readable.iter().any(|(p, _)| p.code == "risk") {
        programmes.push((fq_engine::RISK_EVENTS.to_owned(), i18n::text(lang, "heat.risk_events")));
    }
    let catalog_of = |code: &str| if code == fq_engine::RISK_EVENTS { "risk" } else { code }.to_owned();
    let categories: Vec<(String, String)> = programme
        .as_deref()
        .map(catalog_of)
        .and_then(|code| engine.programmes().get(&code).cloned())
        .and_then(|p| {
            let catalog = p.kinds.iter().flat_map(|k| &k.fields).find_map(|f| match (&f.kind, f.code.as_str()) {
                (fq_domain::programme::FieldType::Enum { catalog }, "category") => Some(catalog.clone()),
                _ => None,
            })?;
            p.catalogs.get(&catalog).map(|c| c.items.iter().map(|i| (i.code.clone(), i.name.clone())).collect())
        })
        .unwrap_or_default();
    let generated = map.cells.iter().any(|c| c.generated);
    let events = programme.as_deref() == Some(fq_engine::RISK_EVENTS);
    let mut names = Names::new(engine);
    let ctx = minijinja::context! {
        place => names.region(&region).await,
        region => region.to_string(),
        from => shown.from_day.format("%Y-%m-%d").to_string(),
        to => shown.to_day.format("%Y-%m-%d").to_string(),
        programme => programme,
        category => category,
        density => density,
        events => events,
        programmes => value(&programmes),
        categories => value(&categories),
        width => WIDTH,
        height => HEIGHT,
        shapes => value(&shapes),
        dots => value(&dots),
        legend => value(&legend),
        busiest => value(&busiest),
        cases => map.cases,
        located => map.points.len(),
        without_location => map.without_location,
        outside => map.outside_grids,
        grids => map.cells.len(),
        generated => generated,
        error => Option::<String>::None,
    };
    Ok(layout::page(&state, &viewer, "heatmap.html", ctx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_split_the_range_in_fifths() {
        assert_eq!([1.0, 2.0, 3.0, 4.0, 5.0].map(|v| class(v, 5.0)), [0, 1, 2, 3, 4]);
        assert_eq!(class(1.0, 1.0), 4, "the highest is the darkest");
        assert_eq!(class(0.0, 0.0), 0);
    }
}
