//! `/cases/{number}`: a case with its fields (labels from the programme, personal data masked
//! until revealed), parties, attachments, clocks, cards, co-handling and history, and one form
//! per action the viewer may take. Revealing and acting are POSTs carrying the CSRF token.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use fq_domain::case::{Case, TIER_CLOCK};
use fq_domain::programme::{CaseKind, FieldDef, FieldType, FieldValue, Programme};
use fq_engine::{CaseView, EngineError};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::display::{self, Due, Names};
use super::forms::{self, Choices, Fault, Posted, Widget};
use super::i18n::{self, Lang};
use super::layout::{self, Page, see_other, value};
use super::timeline;
use super::viewer::{Viewer, local_path};
use crate::AppState;

#[derive(Debug, Deserialize)]
pub(crate) struct DetailQuery {
    done: Option<String>,
}

#[derive(Debug, Serialize)]
struct Link {
    href: String,
    text: String,
}

#[derive(Debug, Serialize)]
struct PartyRow {
    name: String,
    role: String,
    id_number: Option<String>,
    phone: Option<String>,
}

#[derive(Debug, Serialize)]
struct FieldRow {
    label: String,
    texts: Vec<String>,
    links: Vec<Link>,
    parties: Vec<PartyRow>,
}

#[derive(Debug, Serialize)]
struct FileRow {
    href: String,
    name: String,
    size: String,
    content_type: String,
    at: String,
}

#[derive(Debug, Serialize)]
struct ClockRow {
    name: String,
    limit: String,
    started: String,
    due: Option<Due>,
    due_at: String,
    /// running, paused or stopped.
    status: &'static str,
    status_text: String,
}

#[derive(Debug, Serialize)]
struct CardRow {
    level: &'static str,
    name: String,
    stage: String,
    at: String,
}

#[derive(Debug, Serialize)]
struct SubtaskRow {
    unit: String,
    lead: bool,
    done: bool,
    result: String,
}

/// The form of one action.
#[derive(Debug, Serialize)]
pub(crate) struct ActionForm {
    pub code: String,
    pub name: String,
    pub widgets: Vec<Widget>,
    /// Has a file input: posted as `multipart/form-data`.
    pub multipart: bool,
    pub error: Option<String>,
    /// Shown unfolded (it failed).
    pub open: bool,
}

#[derive(Debug, Serialize)]
struct Summary {
    number: String,
    title: String,
    programme: String,
    kind: String,
    state: String,
    state_code: String,
    closed: bool,
    priority: String,
    place: String,
    region_code: String,
    channel: String,
    opened: String,
    closed_at: Option<String>,
    due: Option<Due>,
    unit: Option<String>,
    person: Option<String>,
    tier: Option<String>,
    rating: Option<String>,
    reopened: u32,
    returned: u32,
    demo: bool,
    version: u64,
}

/// The case's title field as text.
pub(crate) fn title_of(case: &Case) -> String {
    match case.fields.get("title") {
        Some(FieldValue::Text(title)) => title.clone(),
        _ => String::new(),
    }
}

/// The catalogue's text for `prefix_code`, or the code itself.
fn coded(lang: Lang, prefix: &str, code: &str) -> String {
    let key = format!("{prefix}{code}");
    if i18n::has(&key) { i18n::text(lang, &key) } else { code.to_owned() }
}

/// How a field value reads, with names for catalog codes, organisations, regions and files.
async fn field_row(
    def: &FieldDef,
    value: Option<&FieldValue>,
    programme: &Programme,
    files: &HashMap<Uuid, String>,
    names: &mut Names<'_>,
    lang: Lang,
) -> FieldRow {
    let mut row = FieldRow { label: def.label.clone(), texts: Vec::new(), links: Vec::new(), parties: Vec::new() };
    let items: Vec<&FieldValue> = match value {
        Some(FieldValue::List(items)) => items.iter().collect(),
        Some(one) => vec![one],
        None => Vec::new(),
    };
    for item in items {
        match item {
            FieldValue::Text(t) => row.texts.push(t.clone()),
            FieldValue::Number(n) => row.texts.push(if n.fract() == 0.0 { format!("{n:.0}") } else { n.to_string() }),
            FieldValue::Money(fen) => row.texts.push(format!("¥{}", display::yuan(*fen))),
            FieldValue::Date(d) => row.texts.push(d.to_string()),
            FieldValue::DateTime(t) => row.texts.push(display::when(*t)),
            FieldValue::Enum(code) => {
                row.texts.push(programme.enum_name(def, code).to_owned());
            }
            FieldValue::Bool(b) => row.texts.push(i18n::text(lang, if *b { "form.yes" } else { "form.no" })),
            FieldValue::Region(code) => row.texts.push(format!("{}（{code}）", names.place(code).await)),
            FieldValue::Location { lon, lat } => row.texts.push(format!("{lon:.5}, {lat:.5}")),
            FieldValue::Party(p) => row.parties.push(PartyRow {
                name: p.name.clone(),
                role: p.role.clone(),
                id_number: p.id_number.clone(),
                phone: p.phone.clone(),
            }),
            FieldValue::Attachment(id) => row.links.push(Link {
                href: format!("/api/v1/attachments/{id}"),
                text: files.get(id).cloned().unwrap_or_else(|| id.to_string()),
            }),
            FieldValue::Org(id) => row.texts.push(names.org(*id).await),
            // Shown by the programme's own panel (the inspection record), not as a line.
            FieldValue::Json(_) | FieldValue::List(_) => {}
        }
    }
    row
}

/// The forms of the actions the viewer may take on the case. `failed` is the action whose form
/// comes back with what was posted and the engine's reason.
pub(crate) fn action_forms(
    view: &CaseView,
    kind: &CaseKind,
    choices: &Choices<'_>,
    failed: Option<(&str, &Posted, &Fault)>,
) -> Vec<ActionForm> {
    view.actions
        .iter()
        .filter_map(|offer| kind.action(&offer.code))
        .map(|action| {
            let (posted, fault) = match failed {
                Some((code, posted, fault)) if code == action.code => (Some(posted), Some(fault)),
                _ => (None, None),
            };
            let form = format!("{}-{}", view.case.number, action.code);
            let fields: Vec<&str> = action.inputs.iter().map(|i| i.code.as_str()).collect();
            ActionForm {
                code: action.code.clone(),
                name: action.name.clone(),
                widgets: forms::widgets(&form, &action.inputs, choices, posted, fault),
                multipart: action.inputs.iter().any(|i| i.kind == FieldType::Attachment),
                error: Fault::general(fault, &fields),
                open: fault.is_some(),
            }
        })
        .collect()
}

/// True if an action offered on the case chooses an organisation (its select needs the list).
pub(crate) fn needs_orgs(view: &CaseView, kind: &CaseKind) -> bool {
    view.actions.iter().filter_map(|offer| kind.action(&offer.code)).any(|a| a.inputs.iter().any(|i| i.kind == FieldType::Org))
}

struct Shown<'a> {
    done: Option<String>,
    revealed: bool,
    failed: Option<(&'a str, &'a Posted, &'a Fault)>,
    status: StatusCode,
}

async fn draw(state: &AppState, viewer: &Viewer, view: CaseView, shown: Shown<'_>) -> Page {
    let engine = &state.engine;
    let lang = viewer.lang;
    let fail = |e: EngineError| layout::fail(state, viewer, &e);
    let programme = engine.programmes().get(&view.case.programme).cloned().ok_or_else(|| layout::not_found(state, viewer))?;
    let kind = programme.kind(&view.case.kind).cloned().ok_or_else(|| layout::not_found(state, viewer))?;
    let case = &view.case;
    let mut names = Names::new(engine);
    let attachments = engine.case_attachments(&viewer.actor, case.id).await.map_err(fail)?;
    let files: HashMap<Uuid, String> = attachments.iter().map(|a| (a.id, a.name.clone())).collect();
    let mut fields = Vec::new();
    // Structured data has its own panel (the inspection record), not a line here.
    for def in kind.fields.iter().filter(|d| !matches!(d.kind, FieldType::Json { .. })) {
        fields.push(field_row(def, case.fields.get(&def.code), &programme, &files, &mut names, lang).await);
    }
    let files: Vec<FileRow> = attachments
        .iter()
        .map(|a| FileRow {
            href: format!("/api/v1/attachments/{}", a.id),
            name: a.name.clone(),
            size: display::size(a.size),
            content_type: a.content_type.clone(),
            at: display::when(a.uploaded_at),
        })
        .collect();
    let clocks: Vec<ClockRow> = case
        .clocks
        .values()
        .map(|c| {
            let status = if c.stopped_at.is_some() {
                "stopped"
            } else if c.paused_since.is_some() {
                "paused"
            } else {
                "running"
            };
            let name = if c.stage == TIER_CLOCK {
                case.tier.and_then(|t| kind.tiers.get(t)).map_or_else(|| i18n::text(lang, "tl.tier_clock"), |t| t.name.clone())
            } else {
                kind.clock(&c.stage).map_or_else(|| c.stage.clone(), |k| k.name.clone())
            };
            ClockRow {
                name,
                limit: display::limit(lang, &c.limits.limit),
                started: display::when(c.started_at),
                due: (status == "running").then(|| display::due(engine, lang, &case.region, c.due_at)),
                due_at: display::when(c.due_at),
                status,
                status_text: i18n::text(lang, &format!("case.clock_{status}")),
            }
        })
        .collect();
    let cards: Vec<CardRow> = case
        .cards
        .iter()
        .map(|c| CardRow {
            level: c.level.as_str(),
            name: i18n::text(lang, &format!("tl.level_{}", c.level.as_str())),
            stage: kind.clock(&c.stage).map_or_else(|| c.stage.clone(), |k| k.name.clone()),
            at: display::when(c.at),
        })
        .collect();
    let mut subtasks = Vec::new();
    for s in &case.subtasks {
        subtasks.push(SubtaskRow {
            unit: names.org(s.unit.0).await,
            lead: s.lead,
            done: s.done,
            result: s.result.clone().unwrap_or_default(),
        });
    }
    let entries = engine.case_timeline(&viewer.actor, case.id).await.map_err(fail)?;
    let history = timeline::lines(entries, Some(&programme), Some(&kind), &mut names, lang).await;
    let orgs =
        if needs_orgs(&view, &kind) { engine.organisations_in_scope(&viewer.actor).await.map_err(fail)? } else { Vec::new() };
    let choices = Choices { programme: &programme, orgs: &orgs, lang };
    let actions = action_forms(&view, &kind, &choices, shown.failed);
    let title = title_of(case);
    let summary = Summary {
        number: case.number.clone(),
        demo: display::is_demo(&title),
        title,
        programme: view.programme_name.clone(),
        kind: view.kind_name.clone(),
        state: view.state_name.clone(),
        state_code: case.state.clone(),
        closed: case.closed_at.is_some(),
        priority: coded(lang, "case.priority_", &case.priority),
        place: names.place(&case.region).await,
        region_code: case.region.to_string(),
        channel: coded(lang, "case.channel_", &case.channel),
        opened: display::when(case.opened_at),
        closed_at: case.closed_at.map(display::when),
        due: case.next_due().filter(|_| case.closed_at.is_none()).map(|at| display::due(engine, lang, &case.region, at)),
        unit: match case.unit {
            Some(unit) => Some(names.org(unit.0).await),
            None => None,
        },
        person: match case.person {
            Some(person) => Some(names.actor(lang, &format!("account:{person}")).await),
            None => None,
        },
        tier: case.tier.and_then(|t| kind.tiers.get(t)).map(|t| t.name.clone()),
        rating: case.rating.as_ref().map(|r| {
            let comment = r.comment.as_deref().map(|c| format!("{}{c}", timeline::colon(lang))).unwrap_or_default();
            format!("{}{comment}", i18n::fill(lang, "tl.rated", &[("score", &r.score.to_string())]))
        }),
        reopened: case.reopened,
        returned: case.returned,
        version: case.version,
    };
    let done = shown.done.map(|code| match code.as_str() {
        "opened" => i18n::text(lang, "flash.opened"),
        code => i18n::fill(lang, "flash.acted", &[("action", &kind.action(code).map_or(code.to_owned(), |a| a.name.clone()))]),
    });
    // Documents carry personal information: offered to those who may see it.
    let documents: Vec<(String, String)> = if view.may_reveal || !view.masked {
        kind.documents
            .iter()
            .filter(|d| d.states.is_empty() || d.states.contains(&case.state))
            .map(|d| (d.code.clone(), d.name.clone()))
            .collect()
    } else {
        Vec::new()
    };
    let record = super::inspection::record_panel(&programme, case);
    let ctx = minijinja::context! {
        case => value(&summary),
        record => value(&record),
        documents => value(&documents),
        fields => value(&fields),
        files => value(&files),
        clocks => value(&clocks),
        cards => value(&cards),
        subtasks => value(&subtasks),
        history => value(&history),
        actions => value(&actions),
        masked => view.masked && !shown.revealed,
        may_reveal => view.may_reveal && view.masked && !shown.revealed,
        revealed => shown.revealed,
        done => done,
    };
    Ok(layout::page_with_status(state, viewer, shown.status, "case.html", ctx))
}

/// `GET /cases/{number}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(number): Path<String>,
    Query(q): Query<DetailQuery>,
) -> Page {
    let view = state.engine.find_case(&viewer.actor, &number).await.map_err(|e| layout::fail(&state, &viewer, &e))?;
    let shown = Shown { done: q.done, revealed: false, failed: None, status: StatusCode::OK };
    draw(&state, &viewer, view, shown).await
}

/// `POST /cases/{number}/reveal`: the case with personal information shown (journaled).
pub(crate) async fn reveal(State(state): State<AppState>, viewer: Viewer, Path(number): Path<String>, posted: Posted) -> Page {
    if !viewer.csrf_ok(&posted) {
        return Err(layout::csrf_refused(&state, &viewer));
    }
    let fail = |e: EngineError| layout::fail(&state, &viewer, &e);
    let id = state.engine.find_case(&viewer.actor, &number).await.map_err(fail)?.case.id;
    let view = state.engine.reveal_case(&viewer.actor, id).await.map_err(fail)?;
    let shown = Shown { done: None, revealed: true, failed: None, status: StatusCode::OK };
    draw(&state, &viewer, view, shown).await
}

/// `POST /cases/{number}/actions/{action}`: files first, then the action; back to the case (or
/// to the page in `back`), or the form again with the engine's reason next to its field.
pub(crate) async fn act(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((number, action)): Path<(String, String)>,
    mut posted: Posted,
) -> Page {
    if !viewer.csrf_ok(&posted) {
        return Err(layout::csrf_refused(&state, &viewer));
    }
    let engine = &state.engine;
    let view = engine.find_case(&viewer.actor, &number).await.map_err(|e| layout::fail(&state, &viewer, &e))?;
    let Some(def) = engine
        .programmes()
        .get(&view.case.programme)
        .and_then(|p| p.kind(&view.case.kind))
        .and_then(|k| k.action(&action))
        .cloned()
    else {
        return Err(layout::not_found(&state, &viewer));
    };
    let fault = match forms::upload(engine, &viewer.actor, viewer.lang, &def.inputs, &mut posted).await {
        Err(fault) => fault,
        Ok(()) => {
            let inputs = forms::values(&def.inputs, &posted);
            let expected = posted.text("version").parse::<u64>().ok();
            match engine.act_on_case(&viewer.actor, view.case.id, &action, inputs, expected).await {
                Ok(_) => {
                    let back = posted.first("back").and_then(local_path).map(str::to_owned);
                    let number = layout::encode(&view.case.number);
                    let target = back.unwrap_or_else(|| format!("/cases/{number}?done={}", layout::encode(&action)));
                    return Ok(see_other(&target));
                }
                Err(e @ (EngineError::Invalid { .. } | EngineError::Refused { .. })) => Fault::of(viewer.lang, &e),
                Err(e) => return Err(layout::fail(&state, &viewer, &e)),
            }
        }
    };
    // Shown again on the case as it is now (another action may have moved it).
    let now = engine.find_case(&viewer.actor, &number).await.map_err(|e| layout::fail(&state, &viewer, &e))?;
    let shown =
        Shown { done: None, revealed: false, failed: Some((&action, &posted, &fault)), status: StatusCode::UNPROCESSABLE_ENTITY };
    draw(&state, &viewer, now, shown).await
}
