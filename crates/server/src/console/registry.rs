//! `/registry`: the registry of intake points in the viewer's scope — consumer-protection
//! service stations (消保服务站) and shared court points (共享法庭), with the institution that
//! hosts each (its parent organisation) and its region. Administrators register them on the
//! administration pages; intake staff pick them as a case's intake unit.

use axum::extract::State;
use fq_domain::org::OrgKind;
use serde::Serialize;

use super::display::Names;
use super::i18n;
use super::layout::{self, Page, value};
use super::viewer::Viewer;
use crate::AppState;

#[derive(Debug, Serialize)]
struct Entry {
    id: String,
    name: String,
    kind: String,
    host: Option<String>,
    place: String,
    region: String,
    demo: bool,
}

/// `GET /registry`.
pub(crate) async fn page(State(state): State<AppState>, viewer: Viewer) -> Page {
    if !(viewer.nav.intake || viewer.nav.figures || viewer.nav.admin) {
        return Err(layout::denied(&state, &viewer));
    }
    let engine = &state.engine;
    let fail = |e| layout::fail(&state, &viewer, &e);
    let orgs = engine.organisations_in_scope(&viewer.actor).await.map_err(fail)?;
    let mut names = Names::new(engine);
    let mut entries = Vec::new();
    for org in orgs.iter().filter(|o| matches!(o.kind, OrgKind::Station | OrgKind::Court)) {
        let host = match org.parent {
            Some(parent) => Some(names.org(parent.0).await),
            None => None,
        };
        entries.push(Entry {
            id: org.id.0.to_string(),
            name: org.name.clone(),
            kind: i18n::text(viewer.lang, &format!("admin.kind_{}", org.kind.as_str())),
            host,
            place: names.place(&org.region).await,
            region: org.region.to_string(),
            demo: org.demo,
        });
    }
    let ctx = minijinja::context! {
        entries => value(&entries),
        figures => viewer.nav.figures,
    };
    Ok(layout::page(&state, &viewer, "registry.html", ctx))
}
