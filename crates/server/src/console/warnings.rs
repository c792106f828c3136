//! `/warnings` 预警看板: the risk programme's open warnings in the reader's region, highest level
//! and oldest first, each with its place, unit and time limit, and the day's roll-up per level
//! for daily clearing (日结日清): issued, cleared, still open at the end of the day, overdue.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use chrono::NaiveDate;
use fq_domain::calendar::beijing;
use fq_domain::programme::FieldValue;
use serde::{Deserialize, Serialize};

use super::dashboard::readable_programmes;
use super::display::{self, Due, Names};
use super::i18n;
use super::layout::{self, Page, value};
use super::period;
use super::viewer::Viewer;
use crate::AppState;

#[derive(Debug, Deserialize)]
pub(crate) struct BoardParams {
    region: Option<String>,
    day: Option<String>,
    /// The library of typical cases: a category and text to look for.
    category: Option<String>,
    q: Option<String>,
}

#[derive(Debug, Serialize)]
struct Row {
    number: String,
    title: String,
    level: String,
    level_name: String,
    category: String,
    state: String,
    place: String,
    unit: Option<String>,
    due: Option<Due>,
    demo: bool,
}

/// `GET /warnings`.
pub(crate) async fn page(State(state): State<AppState>, viewer: Viewer, Query(q): Query<BoardParams>) -> Page {
    let engine = &state.engine;
    let lang = viewer.lang;
    let fail = |e| layout::fail(&state, &viewer, &e);
    let Some((programme, scopes)) = readable_programmes(engine, viewer.account()).into_iter().find(|(p, _)| p.code == "risk")
    else {
        return Err(layout::denied(&state, &viewer));
    };
    let region = period::region(q.region.as_deref(), &scopes[0]).map_err(fail)?;
    let today = engine.current_time().with_timezone(&beijing()).date_naive();
    let asked = q.day.as_deref().map(str::trim).filter(|d| !d.is_empty());
    let day = match asked {
        None => Some(today),
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d").ok().filter(|d| fq_domain::calendar::plausible_day(*d)),
    };
    let Some(day) = day else {
        let none = value(&Vec::<()>::new());
        let ctx = minijinja::context! {
            error => i18n::text(lang, "warn.bad_day"), levels => none.clone(), rows => none.clone(), library => none.clone(),
            categories => none, category => "", q => "", day => asked, place => "",
        };
        return Ok(layout::page_with_status(&state, &viewer, StatusCode::UNPROCESSABLE_ENTITY, "warnings.html", ctx));
    };
    let board = engine.warning_board(&viewer.actor, &region, day).await.map_err(fail)?;
    let kind = programme.kind("warning");
    let state_name = |code: &str| {
        kind.and_then(|k| k.states.iter().find(|s| s.code == code)).map_or_else(|| code.to_owned(), |s| s.name.clone())
    };
    let category_name = |case: &fq_domain::case::Case| match (case.fields.get("category"), kind) {
        (Some(FieldValue::Enum(code)), Some(k)) => k
            .fields
            .iter()
            .find(|f| f.code == "category")
            .map_or_else(|| code.clone(), |d| programme.enum_name(d, code).to_owned()),
        _ => String::new(),
    };
    let mut names = Names::new(engine);
    let mut rows = Vec::new();
    for case in &board.open {
        let title = match case.fields.get("title") {
            Some(FieldValue::Text(t)) => t.clone(),
            _ => case.number.clone(),
        };
        rows.push(Row {
            number: case.number.clone(),
            demo: display::is_demo(&title),
            title,
            level: case.priority.clone(),
            level_name: i18n::text(lang, &format!("warn.level_{}", case.priority)),
            category: category_name(case),
            state: state_name(&case.state),
            place: names.place(&case.region).await,
            unit: match case.unit {
                Some(unit) => Some(names.org(unit.0).await),
                None => None,
            },
            due: case.next_due().map(|at| display::due(engine, lang, &case.region, at)),
        });
    }
    let category = q.category.as_deref().map(str::trim).filter(|c| !c.is_empty());
    let library = engine.typical_warnings(&viewer.actor, &region, category, q.q.as_deref()).await.map_err(fail)?;
    let categories: Vec<(String, String)> = programme
        .catalogs
        .get("risk_category")
        .map(|c| c.items.iter().map(|i| (i.code.clone(), i.name.clone())).collect())
        .unwrap_or_default();
    let category_label =
        |code: &str| categories.iter().find(|(c, _)| c == code).map_or_else(|| code.to_owned(), |(_, n)| n.clone());
    let library: Vec<serde_json::Value> = library
        .iter()
        .take(50)
        .map(|t| {
            serde_json::json!({
                "number": t.number, "title": t.title, "category": category_label(&t.category),
                "level": t.level, "level_name": i18n::text(lang, &format!("warn.level_{}", t.level)),
                "handling": t.handling, "closed": display::when(t.closed_at),
            })
        })
        .collect();
    let levels: Vec<serde_json::Value> = board
        .levels
        .iter()
        .map(|l| {
            serde_json::json!({
                "level": l.level, "name": i18n::text(lang, &format!("warn.level_{}", l.level)),
                "issued": l.issued, "cleared": l.cleared, "open": l.open, "overdue": l.overdue,
            })
        })
        .collect();
    let ctx = minijinja::context! {
        place => names.place(&region).await,
        day => day.format("%Y-%m-%d").to_string(),
        levels => value(&levels),
        rows => value(&rows),
        library => value(&library),
        categories => value(&categories),
        category => category,
        q => q.q.as_deref().unwrap_or(""),
        error => Option::<String>::None,
    };
    Ok(layout::page(&state, &viewer, "warnings.html", ctx))
}
