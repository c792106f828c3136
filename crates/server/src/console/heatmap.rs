//! `/heatmap` 热力图: a county's grids coloured by the number of cases located in each over a
//! period (optionally one programme and one category), or a density layer of the cases' points
//! (a Gaussian kernel on a raster), drawn over the grid polygons as SVG with a legend and the
//! values on hover (`<title>`), and the busiest grids as a table.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use chrono::NaiveDate;
use fq_domain::calendar::beijing;
use fq_domain::region::{RegionCode, RegionLevel};
use fq_engine::{EngineError, HeatQuery, Horizon};
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
    /// The forecast layer's horizon: 1d, 7d (the default) or 30d.
    horizon: Option<String>,
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

/// The longest period a map may show (days, both ends included).
const MAX_PERIOD_DAYS: u64 = 3 * 366;

/// The warning levels' colours (蓝 黄 橙 红) for the forecast layer, and below blue.
const LEVEL_FILLS: [&str; 4] = ["#3b7dd8", "#f2c94c", "#f2994a", "#d7263d"];
const BELOW_BLUE: &str = "#f7f7f7";

/// The colour of a forecast probability by the thresholds: below blue, or a level's.
fn level_fill(probability: f64, t: &fq_risk::levels::Thresholds) -> &'static str {
    t.level(probability).map_or(BELOW_BLUE, |level| LEVEL_FILLS[level as usize])
}

/// `GET /heatmap`.
pub(crate) async fn page(State(state): State<AppState>, viewer: Viewer, Query(q): Query<HeatParams>) -> Page {
    let (status, ctx) = view(&state, &viewer, &q, true).await?;
    Ok(layout::page_with_status(&state, &viewer, status, "heatmap.html", ctx))
}

/// `GET /heatmap.svg`: the map as a standalone drawing with its title and legend.
pub(crate) async fn svg(State(state): State<AppState>, viewer: Viewer, Query(q): Query<HeatParams>) -> Page {
    let drawing = drawing(&state, &viewer, &q).await?;
    Ok(layout::attachment(drawing.into_bytes(), "image/svg+xml", "heatmap.svg"))
}

/// `GET /heatmap.png`: the same drawing rasterised (twice its size), for reports and slides.
pub(crate) async fn png(State(state): State<AppState>, viewer: Viewer, Query(q): Query<HeatParams>) -> Page {
    let drawing = drawing(&state, &viewer, &q).await?;
    let bytes = tokio::task::spawn_blocking(move || super::raster::png(&drawing, 2.0))
        .await
        .map_err(|e| layout::internal(&state, &viewer, &e))?
        .map_err(|e| layout::internal(&state, &viewer, &e))?;
    Ok(layout::attachment(bytes, "image/png", "heatmap.png"))
}

/// The standalone drawing of the map the query asks for; a refused query answers with the page
/// naming the reason (422), a template failure with the general apology.
async fn drawing(state: &AppState, viewer: &Viewer, q: &HeatParams) -> Result<String, axum::response::Response> {
    let (status, ctx) = view(state, viewer, q, false).await?;
    if status != StatusCode::OK {
        return Err(layout::page_with_status(state, viewer, status, "heatmap.html", ctx));
    }
    let ctx = minijinja::context! { lang => viewer.lang.as_str(), ..ctx };
    state.pages.render("heatmap.svg", ctx).map_err(|_| layout::internal(state, viewer, &"the heat map drawing failed"))
}

/// The risk categories' names in their catalog (the code when it has none).
pub(crate) fn risk_category_names(engine: &fq_engine::Engine, codes: &[String]) -> Vec<String> {
    let risk = engine.programmes().get("risk");
    codes.iter().map(|code| risk.map_or(code.as_str(), |p| p.catalog_name("risk_category", code)).to_owned()).collect()
}

/// The county a risk page shows: the one asked for, the reader's own (`scope`), or the first
/// county below the reader's region (路桥区 for the province: the demo's county).
pub(crate) async fn county_of(
    engine: &fq_engine::Engine,
    asked: Option<&str>,
    scope: &RegionCode,
) -> Result<RegionCode, EngineError> {
    match asked.map(str::trim).filter(|r| !r.is_empty()) {
        Some(text) => RegionCode::parse(text).map_err(|e| EngineError::field("region_code_invalid", "region", e.to_string())),
        None if scope.level() == RegionLevel::County => Ok(scope.clone()),
        None if scope.contains(&RegionCode::parse("331004").expect("路桥区")) => {
            Ok(RegionCode::parse("331004").expect("路桥区"))
        }
        None => Ok(engine.region_children(scope).await?.first().map_or(scope.clone(), |r| r.code.clone())),
    }
}

/// The page's own query, for the download links.
fn query_string(
    region: &RegionCode,
    programme: Option<&str>,
    category: Option<&str>,
    shown: &period::Period,
    layer: Option<&str>,
    horizon: Option<&str>,
) -> String {
    let (from, to) = (shown.from_day.format("%Y-%m-%d").to_string(), shown.to_day.format("%Y-%m-%d").to_string());
    let pairs = [
        ("region", Some(region.as_str())),
        ("programme", programme),
        ("category", category),
        ("from", Some(from.as_str())),
        ("to", Some(to.as_str())),
        ("layer", layer),
        ("horizon", horizon),
    ];
    let present: Vec<(&str, &str)> = pairs.iter().filter_map(|(k, v)| v.map(|v| (*k, v))).collect();
    serde_urlencoded::to_string(present).unwrap_or_default()
}

/// The query of `county`'s heat map over the days `shown` with the forecast layer of `horizon`
/// (of `category`, or every risk category): the forecast from the day after them.
pub(crate) fn forecast_query(
    county: &RegionCode,
    category: Option<&str>,
    (from_day, to_day): (NaiveDate, NaiveDate),
    horizon: Horizon,
) -> String {
    let shown = period::Period { from_day, to_day, range: None };
    query_string(county, Some(fq_engine::RISK_EVENTS), category, &shown, Some("forecast"), Some(horizon.code()))
}

/// The map's context for the page and the drawings, with the status to answer with (422 for a
/// bad period or region, the page then showing the reason). `checks`: with the forecast's check
/// and record, which only the page shows.
async fn view(
    state: &AppState,
    viewer: &Viewer,
    q: &HeatParams,
    checks: bool,
) -> Result<(StatusCode, minijinja::Value), axum::response::Response> {
    let state = state.clone();
    let engine = &state.engine;
    let lang = viewer.lang;
    let fail = |e: EngineError| layout::fail(&state, viewer, &e);
    let readable = readable_programmes(engine, viewer.account());
    let Some((_, scopes)) = readable.first() else { return Err(layout::denied(&state, viewer)) };
    let region = county_of(engine, q.region.as_deref(), &scopes[0]).await.map_err(fail)?;
    let mut programme = q.programme.as_deref().map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned);
    let mut category = q.category.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned);
    let density = q.layer.as_deref() == Some("density");
    // The forecast is of risk events: asking for it maps them, and a category the form kept
    // from another programme is dropped (the form then shows every risk category).
    let forecast = q.layer.as_deref() == Some("forecast") && readable.iter().any(|(p, _)| p.code == "risk");
    if forecast {
        programme = Some(fq_engine::RISK_EVENTS.to_owned());
        let risk = engine.programmes().get("risk");
        category = category.filter(|c| risk.is_some_and(|p| p.in_catalog("risk_category", c)));
    }
    let horizon = match Horizon::or_week(q.horizon.as_deref()) {
        Ok(h) => h,
        Err(text) => {
            let ctx = minijinja::context! { error => i18n::text(lang, "heat.bad_horizon").replace("{value}", &text) };
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, ctx));
        }
    };
    let today = engine.current_time().with_timezone(&beijing()).date_naive();
    let shown = period::period(q.from.as_deref(), q.to.as_deref(), today, 90, MAX_PERIOD_DAYS as i64);
    let Some((from, to)) = shown.range else {
        let ctx = minijinja::context! { error => i18n::text(lang, "fig.bad_period_3y") };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, ctx));
    };
    let query = HeatQuery {
        county: region.clone(),
        programme: programme.clone(),
        category: category.clone(),
        from,
        to,
        forecast: forecast.then_some(horizon),
        checks,
    };
    let map = match engine.heat_map(&viewer.actor, &query).await {
        Ok(map) => map,
        Err(e @ EngineError::Invalid { .. }) => {
            let ctx = minijinja::context! { error => layout::reason(lang, &e) };
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, ctx));
        }
        Err(e) => return Err(fail(e)),
    };
    let projection = Projection::fit_rects(map.cells.iter().filter_map(|c| c.area.bounding_rect()));
    let high = f64::from(map.cells.iter().map(|c| c.count).max().unwrap_or(0));
    // The level thresholds are a week's (the whistle's horizon): a day's or a month's forecast
    // has none and is shaded by its share of the highest grid's instead.
    let levels = map.forecast.as_ref().and_then(|f| f.thresholds);
    let highest_expected = map.cells.iter().map(|c| c.expected).fold(0.0, f64::max);
    let mut shapes = Vec::new();
    let mut dots = Vec::new();
    let mut legend: Vec<(&str, String)> = Vec::new();
    if let Some(p) = &projection {
        for cell in &map.cells {
            let (fill, title) = match &map.forecast {
                Some(_) => {
                    let probability = cell.probability();
                    let title = i18n::text(lang, "heat.forecast_title")
                        .replace("{name}", &cell.name)
                        .replace("{p}", &format!("{:.1}", probability * 100.0))
                        .replace("{e}", &format!("{:.2}", cell.expected))
                        .replace("{n}", &cell.count.to_string());
                    let fill = if let Some(t) = &levels {
                        level_fill(probability, t)
                    } else if cell.expected > 0.0 {
                        REDS[class(cell.expected, highest_expected)]
                    } else {
                        BELOW_BLUE
                    };
                    (fill, title)
                }
                None => {
                    let fill = if density || cell.count == 0 { BELOW_BLUE } else { REDS[class(f64::from(cell.count), high)] };
                    let title =
                        i18n::text(lang, "heat.cell_title").replace("{name}", &cell.name).replace("{n}", &cell.count.to_string());
                    (fill, title)
                }
            };
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
    if let Some(t) = &levels {
        let percent = |p: f64| format!("{:.0}%", p * 100.0);
        legend.push((BELOW_BLUE, format!("< {}", percent(t.blue))));
        for (k, (name, at)) in [("blue", t.blue), ("yellow", t.yellow), ("orange", t.orange), ("red", t.red)].iter().enumerate() {
            legend.push((LEVEL_FILLS[k], format!("{} ≥ {}", i18n::text(lang, &format!("heat.level_{name}")), percent(*at))));
        }
    } else if map.forecast.is_some() {
        legend = vec![(REDS[0], i18n::text(lang, "heat.low")), (REDS[4], i18n::text(lang, "heat.high"))];
    } else if high > 0.0 && !density {
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
    // The forecast's likeliest grids: name, probability (%), expected count.
    let mut likeliest: Vec<(String, String, String)> = Vec::new();
    if map.forecast.is_some() {
        let mut ranked: Vec<&fq_engine::HeatCell> = map.cells.iter().filter(|c| c.expected > 0.0).collect();
        ranked.sort_by(|a, b| b.expected.total_cmp(&a.expected).then(a.name.cmp(&b.name)));
        likeliest = ranked
            .iter()
            .take(10)
            .map(|c| (c.name.clone(), format!("{:.1}", c.probability() * 100.0), format!("{:.2}", c.expected)))
            .collect();
    }
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
    let check = map.forecast.as_ref().and_then(|f| f.check.as_ref()).map(check_context);
    // Whether the shown forecast's probabilities held, busy horizon or quiet.
    let calibration = map.forecast.as_ref().and_then(|f| f.calibration.as_ref()).map(|c| {
        minijinja::context! { cells => c.cells, brier => format!("{:.3}", c.brier), reference => format!("{:.3}", c.reference_brier()) }
    });
    // A forecast from today is not over yet: the link shows the latest one that is. Its period
    // ends the horizon and a day before today (the forecast starts the day after the period),
    // as long as the one shown, within what a period may span.
    let forecast_from = |day: NaiveDate| {
        let to_day = day - chrono::Days::new(1);
        let from_day = (to_day - chrono::Days::new(u64::try_from((shown.to_day - shown.from_day).num_days()).unwrap_or(0)))
            .max(to_day - chrono::Days::new(MAX_PERIOD_DAYS - 1));
        forecast_query(&region, category.as_deref(), (from_day, to_day), horizon)
    };
    let check_link = map
        .forecast
        .as_ref()
        .filter(|f| f.check.is_none() && f.day >= today)
        .map(|_| forecast_from(today - chrono::Days::new(u64::try_from(horizon.days()).unwrap_or(7))));
    // The record of the last forecasts that are over (a forecast from today only), each row
    // with the link to its own map, which fits it when it was not held.
    let record: Vec<minijinja::Value> = map
        .forecast
        .as_ref()
        .map(|f| &f.record[..])
        .unwrap_or_default()
        .iter()
        .map(|past| {
            minijinja::context! {
                day => past.day.format("%Y-%m-%d").to_string(),
                held => !past.categories.is_empty(),
                missing => past.missing.len(),
                check => past.check.as_ref().map(check_context),
                checked_at => past.checked_at.map(|t| t.with_timezone(&beijing()).format("%Y-%m-%d").to_string()),
                link => forecast_from(past.day),
            }
        })
        .collect();
    let record_summary = map.forecast.as_ref().and_then(|f| f.record_summary.as_ref()).map(summary_context);
    // A forecast that is over with no located event of its categories has nothing to check.
    let check_quiet = map.forecast.as_ref().is_some_and(|f| f.over && f.check.is_none() && !f.categories.is_empty());
    let mut names = Names::new(engine);
    let ctx = minijinja::context! {
        place => names.region(&region).await,
        region => region.to_string(),
        from => shown.from_day.format("%Y-%m-%d").to_string(),
        to => shown.to_day.format("%Y-%m-%d").to_string(),
        programme => programme.clone(),
        category => category.clone(),
        density => density,
        forecast => value(&map.forecast),
        forecast_names => map.forecast.as_ref().map(|f| risk_category_names(engine, &f.categories)),
        fitted_at => map.forecast.as_ref().and_then(|f| f.fitted_at).map(|t| t.with_timezone(&beijing()).format("%Y-%m-%d %H:%M").to_string()),
        check => check,
        check_link => check_link,
        check_quiet => check_quiet,
        calibration => calibration,
        record => record,
        record_summary => record_summary,
        archive_query => super::track_record::query(&region, category.as_deref(), horizon, None),
        has_risk => readable.iter().any(|(p, _)| p.code == "risk"),
        query => query_string(&region, programme.as_deref(), category.as_deref(), &shown, q.layer.as_deref(), Some(horizon.code())),
        horizon => horizon.code(),
        by_level => levels.is_some(),
        likeliest => value(&likeliest),
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
    Ok((StatusCode::OK, ctx))
}

/// The sum of a track record as the page words it (`partials/record_summary.html`).
pub(crate) fn summary_context(s: &fq_engine::RecordSummary) -> minijinja::Value {
    minijinja::context! {
        periods => s.periods,
        events => s.events,
        captured => figure(s.captured),
        previous => figure(s.previous_captured),
        ahead => s.ahead,
        behind => s.behind,
        even => s.periods - s.ahead - s.behind,
        calibrated => s.calibrated_periods,
        brier => s.brier.map(|b| format!("{b:.3}")),
        reference => s.reference_brier.map(|b| format!("{b:.3}")),
        // Two decimals: most cells of a day's forecast are below 1%.
        reliability => s.reliability.iter().map(|b| minijinja::context! {
            range => format!("{}–{}%", figure(b.from * 100.0), figure(b.to * 100.0)),
            cells => b.cells,
            forecast => format!("{:.2}", b.mean_forecast * 100.0),
            observed => format!("{:.2}", b.observed * 100.0),
        }).collect::<Vec<_>>(),
    }
}

/// The check of a forecast whose horizon is over, as the page words it: the counts, the share
/// of the study cells flagged and of the events they held (%), the PAI and PEI, and the
/// baseline's.
pub(crate) fn check_context(c: &fq_risk::check::ForecastCheck) -> minijinja::Value {
    let area = c.flagged_cells / c.study_cells.max(1) as f64 * 100.0;
    minijinja::context! {
        events => c.events,
        outside => c.events.saturating_sub(c.in_study),
        percent => figure(area),
        cells => figure(c.flagged_cells),
        study => c.study_cells,
        captured => figure(c.captured),
        rate => figure(c.hit_rate_percent()),
        pai => format!("{:.2}", c.pai),
        pei => format!("{:.2}", c.pei),
        previous => figure(c.previous_captured),
        previous_pai => format!("{:.2}", c.previous_pai),
    }
}

/// A count or a percentage to one decimal, without a trailing ".0" (a whole number reads as one).
pub(crate) fn figure(value: f64) -> String {
    let text = format!("{value:.1}");
    match text.strip_suffix(".0") {
        Some(whole) => whole.to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_drop_a_trailing_zero() {
        assert_eq!([5.0, 5.04, 5.26, 0.0, 19.96].map(figure), ["5", "5", "5.3", "0", "20"]);
    }

    #[test]
    fn classes_split_the_range_in_fifths() {
        assert_eq!([1.0, 2.0, 3.0, 4.0, 5.0].map(|v| class(v, 5.0)), [0, 1, 2, 3, 4]);
        assert_eq!(class(1.0, 1.0), 4, "the highest is the darkest");
        assert_eq!(class(0.0, 0.0), 0);
    }

    #[test]
    fn forecast_fills_follow_the_level_thresholds() {
        let t = fq_risk::levels::Thresholds { blue: 0.1, yellow: 0.25, orange: 0.45, red: 0.7 };
        assert_eq!(
            [0.0, 0.0999, 0.1, 0.3, 0.45, 0.99].map(|p| level_fill(p, &t)),
            [BELOW_BLUE, BELOW_BLUE, LEVEL_FILLS[0], LEVEL_FILLS[1], LEVEL_FILLS[2], LEVEL_FILLS[3]]
        );
    }
}
