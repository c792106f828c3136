//! `/index` 治理指数: the governance index of a region over a period (five dimensions, 0 to 100,
//! and their weighted mean; docs/RISK.md has the formulas), and of each region below it, whose
//! names drill down.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use fq_domain::calendar::beijing;
use fq_domain::region::RegionCode;
use fq_engine::{EngineError, GOVERNANCE_DIMENSIONS, IndexRow};
use serde::{Deserialize, Serialize};

use super::dashboard::readable_programmes;
use super::display::Names;
use super::i18n::{self, Lang};
use super::layout::{self, Page, value};
use super::period;
use super::viewer::Viewer;
use crate::AppState;

/// The longest period one page reads, in days.
const MAX_DAYS: i64 = 3 * 366;

#[derive(Debug, Deserialize)]
pub(crate) struct IndexParams {
    region: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

#[derive(Debug, Serialize)]
struct Bar {
    key: String,
    name: String,
    weight: String,
    value: Option<String>,
    width: f64,
}

#[derive(Debug, Serialize)]
struct Line {
    href: String,
    name: String,
    cases: u64,
    index: String,
    values: Vec<String>,
}

fn shown(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_owned(), |v| format!("{v:.1}"))
}

fn bars(lang: Lang, row: &IndexRow) -> Vec<Bar> {
    row.dimensions
        .iter()
        .zip(GOVERNANCE_DIMENSIONS)
        .map(|((key, v), (_, weight))| Bar {
            key: key.clone(),
            name: i18n::text(lang, &format!("gi.{key}")),
            weight: format!("{:.0}%", weight * 100.0),
            value: v.map(|v| format!("{v:.1}")),
            width: v.unwrap_or(0.0).clamp(0.0, 100.0),
        })
        .collect()
}

/// `GET /index`.
pub(crate) async fn page(State(state): State<AppState>, viewer: Viewer, Query(q): Query<IndexParams>) -> Page {
    let engine = &state.engine;
    let lang = viewer.lang;
    let fail = |e: EngineError| layout::fail(&state, &viewer, &e);
    let readable = readable_programmes(engine, viewer.account());
    let Some((_, scopes)) = readable.first() else { return Err(layout::denied(&state, &viewer)) };
    let region = period::region(q.region.as_deref(), &scopes[0]).map_err(fail)?;
    let today = engine.current_time().with_timezone(&beijing()).date_naive();
    let period = period::period(q.from.as_deref(), q.to.as_deref(), today, 365, MAX_DAYS);
    let Some((from, to)) = period.range else {
        let ctx = minijinja::context! { error => i18n::text(lang, "fig.bad_period_3y"), from => q.from, to => q.to };
        return Ok(layout::page_with_status(&state, &viewer, StatusCode::UNPROCESSABLE_ENTITY, "governance.html", ctx));
    };
    let index = engine.governance_index(&viewer.actor, &region, from, to).await.map_err(fail)?;
    let mut names = Names::new(engine);
    let (from_day, to_day) = (period.from_day.format("%Y-%m-%d").to_string(), period.to_day.format("%Y-%m-%d").to_string());
    let mut lines = Vec::new();
    for row in &index.children {
        let Ok(code) = RegionCode::parse(&row.region) else { continue };
        lines.push(Line {
            href: format!("/index?region={code}&from={from_day}&to={to_day}"),
            name: names.region(&code).await,
            cases: row.cases,
            index: shown(row.index),
            values: row.dimensions.iter().map(|(_, v)| shown(*v)).collect(),
        });
    }
    // Up only as far as the reader's scope reaches.
    let up = region
        .parent()
        .filter(|p| scopes.iter().any(|s| s.contains(p)))
        .map(|p| format!("/index?region={p}&from={from_day}&to={to_day}"));
    let ctx = minijinja::context! {
        place => names.region(&region).await,
        region => region.to_string(),
        from => from_day,
        to => to_day,
        index => shown(index.total.index),
        cases => index.total.cases,
        bars => value(&bars(lang, &index.total)),
        heads => value(&GOVERNANCE_DIMENSIONS.iter().map(|(k, _)| i18n::text(lang, &format!("gi.{k}"))).collect::<Vec<_>>()),
        lines => value(&lines),
        up => up,
        error => Option::<String>::None,
    };
    Ok(layout::page(&state, &viewer, "governance.html", ctx))
}
