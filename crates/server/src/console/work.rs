//! `/`, my work: per programme the account has roles in, the open cases assigned to its unit,
//! earliest deadline first and coloured by how close it is; for assignment-only roles, the next
//! case assigned to the person; and the latest notifications.

use axum::extract::State;
use fq_engine::{CaseQuery, Engine};
use serde::Serialize;

use super::display::{self, CaseRow, Due, Names};
use super::i18n::{self, Lang};
use super::layout::{self, Page, value};
use super::viewer::Viewer;
use crate::AppState;

/// How many of a unit's open cases the page lists.
const LIMIT: u32 = 50;

#[derive(Debug, Serialize)]
struct Section {
    code: String,
    name: String,
    /// The unit's open cases (roles that may list).
    rows: Option<Vec<CaseRow>>,
    /// The next case assigned to the person (assignment-only roles).
    next: Option<NextCase>,
    assignment_only: bool,
}

#[derive(Debug, Serialize)]
struct NextCase {
    number: String,
    title: String,
    kind: String,
    state: String,
    due: Option<Due>,
}

#[derive(Debug, Serialize)]
struct Notice {
    number: String,
    reason: String,
    at: String,
}

/// A notification's reason for people: the action's name, or the supervision level.
pub(crate) fn reason_text(engine: &Engine, lang: Lang, reason: &str) -> String {
    if let Some(level) = reason.strip_prefix("supervision:") {
        return i18n::text(lang, &format!("tl.level_{level}"));
    }
    engine
        .programmes()
        .all()
        .flat_map(|p| p.kinds.iter())
        .flat_map(|k| k.actions.iter())
        .find(|a| a.code == reason)
        .map_or_else(|| reason.to_owned(), |a| a.name.clone())
}

/// `GET /`.
pub(crate) async fn page(State(state): State<AppState>, viewer: Viewer) -> Page {
    let engine = &state.engine;
    let fail = |e: fq_engine::EngineError| layout::fail(&state, &viewer, &e);
    let mut names = Names::new(engine);
    let mut sections = Vec::new();
    for programme in engine.programmes().all() {
        let roles = engine.programme_roles(&viewer.actor, programme);
        if roles.is_empty() {
            continue;
        }
        let broad = roles.iter().any(|r| !r.assignment_only);
        let assigned_only = roles.iter().any(|r| r.assignment_only);
        let rows = if broad {
            let query = CaseQuery {
                programme: programme.code.clone(),
                mine: true,
                open_only: true,
                sort: Some("due".into()),
                limit: Some(LIMIT),
                ..CaseQuery::default()
            };
            let cases = engine.list_cases(&viewer.actor, query).await.map_err(fail)?;
            Some(display::rows(engine, viewer.lang, &mut names, cases).await)
        } else {
            None
        };
        let next = if assigned_only {
            engine.next_assigned_case(&viewer.actor, &programme.code).await.map_err(fail)?.map(|view| NextCase {
                due: view.case.next_due().map(|at| display::due(engine, viewer.lang, &view.case.region, at)),
                number: view.case.number.clone(),
                title: view
                    .case
                    .fields
                    .get("title")
                    .map(|v| v.to_json().as_str().unwrap_or_default().to_owned())
                    .unwrap_or_default(),
                kind: view.kind_name,
                state: view.state_name,
            })
        } else {
            None
        };
        sections.push(Section {
            code: programme.code.clone(),
            name: programme.name.clone(),
            rows,
            next,
            assignment_only: !broad,
        });
    }
    let notices: Vec<Notice> = engine
        .my_notifications(&viewer.actor, 10)
        .await
        .map_err(fail)?
        .into_iter()
        .map(|n| Notice { reason: reason_text(engine, viewer.lang, &n.reason), at: display::when(n.at), number: n.case_number })
        .collect();
    let ctx = minijinja::context! { sections => value(&sections), notices => value(&notices) };
    Ok(layout::page(&state, &viewer, "work.html", ctx))
}
