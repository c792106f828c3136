//! `/admin/open311`: the Open311 servers the nightly run pulls (每晚拉取的 Open311 服务器), for
//! the province's administrators: who added each and when, adding one (a source that reads
//! GeoReport v2 requests, and the server's address), and removing one. The engine decides who
//! may (`fq_engine::chooses_open311_pulls`) and checks every address; the servers named in a
//! process's configuration file are pulled as well and are not listed here.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use fq_engine::EngineError;
use serde::{Deserialize, Serialize};

use super::display::{Names, when};
use super::forms::{Fault, Posted};
use super::i18n::{self, Lang};
use super::layout::{self, Page, see_other, value};
use super::viewer::Viewer;
use crate::AppState;

/// The form's fields, refilled when the engine refuses them.
const FIELDS: [&str; 2] = ["source", "url"];

#[derive(Debug, Deserialize)]
pub(crate) struct Done {
    done: Option<String>,
}

#[derive(Debug, Serialize)]
struct PullRow {
    source: String,
    source_name: String,
    url: String,
    added_by: String,
    added_at: String,
}

/// What the add form showed when it was refused.
#[derive(Debug, Default)]
struct Again {
    source: String,
    url: String,
    fault: Option<Fault>,
}

async fn draw(state: &AppState, viewer: &Viewer, done: Option<String>, again: Again, status: StatusCode) -> Page {
    let engine = &state.engine;
    let lang = viewer.lang;
    let (entries, sources) = engine.open311_pull_entries(&viewer.actor).await.map_err(|e| layout::fail(state, viewer, &e))?;
    let mut names = Names::new(engine);
    let mut rows = Vec::with_capacity(entries.len());
    for entry in entries {
        let unknown = || i18n::text(lang, "admin.open311_unrecorded");
        rows.push(PullRow {
            added_by: match &entry.added_by {
                Some(by) => names.actor(lang, by).await,
                None => unknown(),
            },
            added_at: entry.added_at.map_or_else(unknown, when),
            source: entry.source,
            source_name: entry.source_name,
            url: entry.url,
        });
    }
    let fault = again.fault.as_ref();
    let ctx = minijinja::context! {
        pulls => value(&rows),
        sources => value(&sources),
        chosen_source => again.source,
        url => again.url,
        source_error => Fault::for_field(fault, "source"),
        url_error => Fault::for_field(fault, "url"),
        error => Fault::general(fault, &FIELDS),
        done => done,
    };
    Ok(layout::page_with_status(state, viewer, status, "admin_open311.html", ctx))
}

/// The flash for a finished change, from the redirect's `done`.
fn flash(lang: Lang, done: Option<String>) -> Option<String> {
    done.filter(|d| ["added", "present", "removed"].contains(&d.as_str()))
        .map(|d| i18n::text(lang, &format!("flash.open311_{d}")))
}

/// `GET /admin/open311`.
pub(crate) async fn page(State(state): State<AppState>, viewer: Viewer, Query(q): Query<Done>) -> Page {
    let done = flash(viewer.lang, q.done);
    draw(&state, &viewer, done, Again::default(), StatusCode::OK).await
}

/// `POST /admin/open311/add`: a server, pulled from the next night on.
pub(crate) async fn add(State(state): State<AppState>, viewer: Viewer, posted: Posted) -> Page {
    if !viewer.csrf_ok(&posted) {
        return Err(layout::csrf_refused(&state, &viewer));
    }
    let (source, url) = (posted.text("source"), posted.text("url"));
    match state.engine.add_open311_pull(&viewer.actor, &source, &url).await {
        Ok(true) => Ok(see_other("/admin/open311?done=added")),
        Ok(false) => Ok(see_other("/admin/open311?done=present")),
        Err(e @ EngineError::Invalid { .. }) => {
            let again = Again { source, url, fault: Some(Fault::of(viewer.lang, &e)) };
            draw(&state, &viewer, None, again, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(layout::fail(&state, &viewer, &e)),
    }
}

/// `POST /admin/open311/remove`: a listed server, no longer pulled.
pub(crate) async fn remove(State(state): State<AppState>, viewer: Viewer, posted: Posted) -> Page {
    if !viewer.csrf_ok(&posted) {
        return Err(layout::csrf_refused(&state, &viewer));
    }
    match state.engine.remove_open311_pull(&viewer.actor, &posted.text("source"), &posted.text("url")).await {
        Ok(()) => Ok(see_other("/admin/open311?done=removed")),
        Err(e) => Err(layout::fail(&state, &viewer, &e)),
    }
}
