//! `/dispatch`: the dispatch board. Cases waiting for a handler (待受理, 待派单) in the viewer's
//! scope, oldest first, each with the forms of the actions the viewer may take on it (accept,
//! assign, transfer...), beside the units' current load.

use axum::extract::{Query, State};
use fq_engine::EngineError;
use serde::{Deserialize, Serialize};

use super::cases::listable;
use super::detail::{ActionForm, action_forms, needs_orgs, title_of};
use super::display::{self, Due, Names};
use super::forms::{Choice, Choices};
use super::i18n;
use super::layout::{self, Page, encode, value};
use super::viewer::Viewer;
use crate::AppState;

/// Waiting cases shown per state.
const LIMIT: u32 = 50;

#[derive(Debug, Deserialize)]
pub(crate) struct BoardQuery {
    programme: Option<String>,
}

#[derive(Debug, Serialize)]
struct Waiting {
    number: String,
    title: String,
    kind: String,
    state: String,
    place: String,
    opened: String,
    due: Option<Due>,
    demo: bool,
    version: u64,
    forms: Vec<ActionForm>,
}

#[derive(Debug, Serialize)]
struct UnitLoad {
    name: String,
    kind: String,
    place: String,
    open_cases: i64,
    open_load: String,
    /// The load as a share of the most loaded unit's, 0 to 100, for the bar.
    bar: u32,
    yellow: i64,
    red: i64,
    points: i64,
    returns: i64,
    closed: i64,
    rating: Option<String>,
    demo: bool,
}

/// `GET /dispatch`.
pub(crate) async fn board(State(state): State<AppState>, viewer: Viewer, Query(q): Query<BoardQuery>) -> Page {
    let engine = &state.engine;
    let lang = viewer.lang;
    let fail = |e: EngineError| layout::fail(&state, &viewer, &e);
    let programmes = listable(engine, &viewer);
    let wanted = q.programme.as_deref().filter(|p| !p.is_empty());
    let Some(programme) = programmes.iter().find(|p| wanted.is_none_or(|w| w == p.code)).cloned() else {
        return Err(layout::denied(&state, &viewer));
    };
    let board = engine.dispatch_board(&viewer.actor, &programme.code, LIMIT).await.map_err(fail)?;
    let any_org = board.waiting.iter().any(|v| programme.kind(&v.case.kind).is_some_and(|k| needs_orgs(v, k)));
    let orgs = if any_org { engine.organisations_in_scope(&viewer.actor).await.map_err(fail)? } else { Vec::new() };
    let choices = Choices { programme: &programme, orgs: &orgs, lang };
    let mut names = Names::new(engine);
    let mut waiting = Vec::new();
    for view in &board.waiting {
        let Some(kind) = programme.kind(&view.case.kind) else { continue };
        let case = &view.case;
        let title = title_of(case);
        waiting.push(Waiting {
            number: case.number.clone(),
            demo: display::is_demo(&title),
            title,
            kind: view.kind_name.clone(),
            state: view.state_name.clone(),
            place: names.place(&case.region).await,
            opened: display::when(case.opened_at),
            due: case.next_due().map(|at| display::due(engine, lang, &case.region, at)),
            version: case.version,
            forms: action_forms(view, kind, &choices, None),
        });
    }
    let heaviest = board.units.iter().map(|(_, t)| t.open_load).fold(0.0_f64, f64::max);
    let mut units = Vec::new();
    for (org, tally) in &board.units {
        units.push(UnitLoad {
            name: org.name.clone(),
            kind: i18n::text(lang, &format!("admin.kind_{}", org.kind.as_str())),
            place: names.place(&org.region).await,
            open_cases: tally.open_cases,
            open_load: format!("{:.1}", tally.open_load),
            bar: if heaviest > 0.0 { (tally.open_load / heaviest * 100.0).round().clamp(0.0, 100.0) as u32 } else { 0 },
            yellow: tally.yellow_cards,
            red: tally.red_cards,
            points: tally.points,
            returns: tally.returns,
            closed: tally.closed,
            rating: (tally.rating_count > 0).then(|| format!("{:.1}", tally.rating_sum as f64 / tally.rating_count as f64)),
            demo: org.demo,
        });
    }
    let programme_choices: Vec<Choice> = programmes
        .iter()
        .map(|p| Choice { value: p.code.clone(), label: p.name.clone(), selected: p.code == programme.code })
        .collect();
    let ctx = minijinja::context! {
        programmes => value(&programme_choices),
        waiting => value(&waiting),
        units => value(&units),
        back => format!("/dispatch?programme={}", encode(&programme.code)),
    };
    Ok(layout::page(&state, &viewer, "dispatch.html", ctx))
}
