//! `/admin/grids`: the grids (网格) of a region in the administrator's scope, and covering a
//! county with generated demonstration cells or importing real grid polygons (GeoJSON).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use fq_domain::account::RoleCode;
use fq_domain::region::RegionCode;
use fq_engine::EngineError;
use serde::{Deserialize, Serialize};

use super::display::Names;
use super::forms::{Choice, Posted};
use super::i18n;
use super::layout::{self, Page, encode, see_other, value};
use super::scope;
use super::viewer::Viewer;
use crate::AppState;

/// Grids listed on one page.
const SHOWN: usize = 100;

#[derive(Debug, Deserialize)]
pub(crate) struct GridQuery {
    region: Option<String>,
    done: Option<String>,
    n: Option<usize>,
}

#[derive(Debug, Serialize)]
struct GridRow {
    code: String,
    name: String,
    kind: String,
    place: String,
    generated: bool,
}

struct Shown {
    region: Option<String>,
    done: Option<String>,
    error: Option<String>,
    status: StatusCode,
}

async fn draw(state: &AppState, viewer: &Viewer, shown: Shown) -> Page {
    let engine = &state.engine;
    let lang = viewer.lang;
    let fail = |e: EngineError| layout::fail(state, viewer, &e);
    let scopes = viewer.account().outermost_regions(|role| role == RoleCode::ADMIN);
    let Some(first) = scopes.first() else { return Err(layout::denied(state, viewer)) };
    let region = match shown.region.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        Some(text) => {
            RegionCode::parse(text).map_err(|e| fail(EngineError::field("region_code_invalid", "region", e.to_string())))?
        }
        None => first.clone(),
    };
    let grids = engine.grids_within(&viewer.actor, &region).await.map_err(fail)?;
    let total = grids.len();
    let generated = grids.iter().filter(|g| g.generated).count();
    let mut names = Names::new(engine);
    let mut rows = Vec::new();
    for grid in grids.iter().take(SHOWN) {
        rows.push(GridRow {
            code: grid.code.to_string(),
            name: grid.name.clone(),
            kind: i18n::text(lang, &format!("admin.grid_{}", grid.kind.as_str())),
            place: names.place(&grid.region).await,
            generated: grid.generated,
        });
    }
    let regions = scope::region_choices(engine, &scopes, Some(region.as_str())).await.map_err(fail)?;
    let counties: Vec<Choice> = scope::counties(engine, &scopes)
        .await
        .map_err(fail)?
        .into_iter()
        .map(|c| Choice { selected: region.as_str().starts_with(c.code.as_str()), value: c.code.to_string(), label: c.name })
        .collect();
    let ctx = minijinja::context! {
        region => region.to_string(),
        region_name => names.place(&region).await,
        regions => value(&regions),
        counties => value(&counties),
        grids => value(&rows),
        total => total,
        generated => generated,
        shown => rows.len(),
        done => shown.done,
        error => shown.error,
    };
    Ok(layout::page_with_status(state, viewer, shown.status, "admin_grids.html", ctx))
}

/// `GET /admin/grids?region=`.
pub(crate) async fn list(State(state): State<AppState>, viewer: Viewer, Query(q): Query<GridQuery>) -> Page {
    let lang = viewer.lang;
    let done = q
        .done
        .filter(|d| d == "generated" || d == "imported")
        .map(|d| i18n::fill(lang, &format!("flash.grids_{d}"), &[("n", &q.n.unwrap_or_default().to_string())]));
    draw(&state, &viewer, Shown { region: q.region, done, error: None, status: StatusCode::OK }).await
}

fn again(region: Option<String>, viewer: &Viewer, e: &EngineError) -> Shown {
    Shown { region, done: None, error: Some(layout::reason(viewer.lang, e)), status: StatusCode::UNPROCESSABLE_ENTITY }
}

/// `POST /admin/grids/generate`: covers a county with generated cells (replacing earlier ones).
pub(crate) async fn generate(State(state): State<AppState>, viewer: Viewer, posted: Posted) -> Page {
    if !viewer.csrf_ok(&posted) {
        return Err(layout::csrf_refused(&state, &viewer));
    }
    let county_text = posted.text("county");
    let result = match RegionCode::parse(&county_text) {
        Err(e) => Err(EngineError::field("region_code_invalid", "county", e.to_string())),
        Ok(county) => {
            let metres = posted.text("cell_metres").parse::<u32>().unwrap_or(0);
            if (100..=10_000).contains(&metres) {
                state.engine.generate_grids(&viewer.actor, &county, metres).await
            } else {
                Err(EngineError::field("cell_metres_invalid", "cell_metres", "the cell size must be 100 to 10,000 metres"))
            }
        }
    };
    match result {
        Ok(report) => Ok(see_other(&format!("/admin/grids?region={}&done=generated&n={}", encode(&county_text), report.grids))),
        Err(e @ (EngineError::Invalid { .. } | EngineError::Forbidden(_))) => {
            draw(&state, &viewer, again(Some(county_text), &viewer, &e)).await
        }
        Err(e) => Err(layout::fail(&state, &viewer, &e)),
    }
}

/// `POST /admin/grids/import` (multipart): a GeoJSON FeatureCollection of grids, all or nothing.
pub(crate) async fn import(State(state): State<AppState>, viewer: Viewer, posted: Posted) -> Page {
    if !viewer.csrf_ok(&posted) {
        return Err(layout::csrf_refused(&state, &viewer));
    }
    let region = Some(posted.text("region")).filter(|r| !r.is_empty());
    let Some(file) = posted.files.iter().find(|f| f.field == "file") else {
        let e = EngineError::field("file_missing", "file", "choose a GeoJSON file");
        return draw(&state, &viewer, again(region, &viewer, &e)).await;
    };
    match state.engine.import_grids(&viewer.actor, &file.name, &file.bytes).await {
        Ok(report) => {
            let target = region.unwrap_or_default();
            Ok(see_other(&format!("/admin/grids?region={}&done=imported&n={}", encode(&target), report.grids)))
        }
        Err(e @ (EngineError::Invalid { .. } | EngineError::Forbidden(_))) => {
            draw(&state, &viewer, again(region, &viewer, &e)).await
        }
        Err(e) => Err(layout::fail(&state, &viewer, &e)),
    }
}
