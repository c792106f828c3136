//! `/cases`: the case list with filters (programme, kind, state, region, overdue, open, text),
//! sorting and paging, and links to export the same filter as CSV or XLSX.

use std::sync::Arc;

use axum::extract::{Query, State};
use fq_domain::programme::Programme;
use fq_engine::{CaseQuery, Engine, EngineError};
use serde::{Deserialize, Serialize};

use super::display::{self, Names};
use super::forms::Choice;
use super::i18n::{self, Lang};
use super::layout::{self, Page, encode, value};
use super::scope;
use super::viewer::Viewer;
use crate::AppState;

/// Rows per page.
const PAGE: u32 = 50;

/// The list's filters, as the filter form sends them (empty means "any").
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Filters {
    pub programme: Option<String>,
    pub kind: Option<String>,
    pub state: Option<String>,
    pub region: Option<String>,
    pub overdue: Option<String>,
    pub open: Option<String>,
    pub text: Option<String>,
    pub sort: Option<String>,
    pub before: Option<String>,
    pub offset: Option<u32>,
}

fn given(value: &Option<String>) -> Option<String> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
}

/// The programmes whose cases the viewer may list (a role that is not assignment-only).
pub(crate) fn listable(engine: &Engine, viewer: &Viewer) -> Vec<Arc<Programme>> {
    engine
        .programmes()
        .all()
        .filter(|p| engine.programme_roles(&viewer.actor, p).iter().any(|r| !r.assignment_only))
        .cloned()
        .collect()
}

impl Filters {
    /// The engine's query for these filters in `programme`, `limit` rows from the page asked for.
    pub(crate) fn query(&self, programme: &str, limit: u32) -> CaseQuery {
        CaseQuery {
            programme: programme.to_owned(),
            kind: given(&self.kind),
            state: given(&self.state),
            region: given(&self.region),
            overdue: given(&self.overdue).is_some(),
            open_only: given(&self.open).is_some(),
            text: given(&self.text),
            sort: given(&self.sort),
            before: given(&self.before),
            offset: self.offset,
            limit: Some(limit),
            mine: false,
            carded: false,
        }
    }

    /// The filters as a query string, without paging.
    pub(crate) fn query_string(&self, programme: &str) -> String {
        let mut pairs = vec![("programme", programme.to_owned())];
        for (name, v) in [
            ("kind", &self.kind),
            ("state", &self.state),
            ("region", &self.region),
            ("overdue", &self.overdue),
            ("open", &self.open),
            ("text", &self.text),
            ("sort", &self.sort),
        ] {
            if let Some(v) = given(v) {
                pairs.push((name, v));
            }
        }
        pairs.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect::<Vec<_>>().join("&")
    }
}

#[derive(Debug, Serialize)]
struct FilterForm {
    programmes: Vec<Choice>,
    kinds: Vec<Choice>,
    states: Vec<Choice>,
    regions: Vec<Choice>,
    sorts: Vec<Choice>,
    overdue: bool,
    open: bool,
    text: String,
}

fn choice(value: &str, label: &str, current: Option<&str>) -> Choice {
    Choice { value: value.to_owned(), label: label.to_owned(), selected: current == Some(value) }
}

fn filter_form(
    lang: Lang,
    programmes: &[Arc<Programme>],
    programme: &Programme,
    f: &Filters,
    regions: Vec<Choice>,
) -> FilterForm {
    let kind = given(&f.kind);
    let state = given(&f.state);
    let sort = given(&f.sort);
    let mut states: Vec<Choice> = Vec::new();
    for k in &programme.kinds {
        for s in &k.states {
            if !states.iter().any(|c| c.value == s.code) {
                states.push(choice(&s.code, &s.name, state.as_deref()));
            }
        }
    }
    FilterForm {
        programmes: programmes.iter().map(|p| choice(&p.code, &p.name, Some(&programme.code))).collect(),
        kinds: programme.kinds.iter().map(|k| choice(&k.code, &k.name, kind.as_deref())).collect(),
        states,
        regions,
        sorts: [("number", "cases.sort_number"), ("due", "cases.sort_due"), ("opened", "cases.sort_opened")]
            .iter()
            .map(|(code, key)| choice(code, &i18n::text(lang, key), Some(sort.as_deref().unwrap_or("number"))))
            .collect(),
        overdue: given(&f.overdue).is_some(),
        open: given(&f.open).is_some(),
        text: given(&f.text).unwrap_or_default(),
    }
}

/// `GET /cases`.
pub(crate) async fn list(State(state): State<AppState>, viewer: Viewer, Query(filters): Query<Filters>) -> Page {
    let engine = &state.engine;
    let fail = |e: EngineError| layout::fail(&state, &viewer, &e);
    let programmes = listable(engine, &viewer);
    let wanted = given(&filters.programme);
    let Some(programme) = programmes.iter().find(|p| wanted.as_deref().is_none_or(|w| w == p.code)).cloned() else {
        return Err(if programmes.is_empty() { layout::denied(&state, &viewer) } else { layout::not_found(&state, &viewer) });
    };
    let query = filters.query(&programme.code, PAGE);
    let total = engine.count_cases(&viewer.actor, query.clone()).await.map_err(fail)?;
    let cases = engine.list_cases(&viewer.actor, query.clone()).await.map_err(fail)?;
    let full = cases.len() as u32 == PAGE;
    let by_number = query.sort.as_deref().is_none_or(|s| s == "number");
    let base = filters.query_string(&programme.code);
    let next = match (full, by_number) {
        (true, true) => cases.last().map(|c| format!("/cases?{base}&before={}", encode(&c.number))),
        (true, false) => Some(format!("/cases?{base}&offset={}", filters.offset.unwrap_or(0) + PAGE)),
        _ => None,
    };
    let previous = match (by_number, filters.offset.unwrap_or(0)) {
        (true, _) if given(&filters.before).is_some() => Some(format!("/cases?{base}")),
        (false, offset) if offset > 0 => Some(format!("/cases?{base}&offset={}", offset.saturating_sub(PAGE))),
        _ => None,
    };
    let mut names = Names::new(engine);
    let rows = display::rows(engine, viewer.lang, &mut names, cases).await;
    let broad = |role: &str| programme.roles.contains_key(role) && !programme.assignment_only(role);
    let scopes = viewer.account().outermost_regions(broad);
    let regions = scope::region_choices(engine, &scopes, given(&filters.region).as_deref()).await.map_err(fail)?;
    let form = filter_form(viewer.lang, &programmes, &programme, &filters, regions);
    let ctx = minijinja::context! {
        form => value(&form),
        rows => value(&rows),
        total => total,
        next => next,
        previous => previous,
        export_query => base,
    };
    Ok(layout::page(&state, &viewer, "cases.html", ctx))
}
