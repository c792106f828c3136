//! `/dashboard?programme=&region=&from=&to=&kpi=`: a programme's KPIs in a region over a period
//! (the engine's report: totals, on-time rate, mean rating, cards), the daily trend, and the
//! county map coloured by the chosen KPI. Aggregates only: no case is named.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;

use std::sync::Arc;

use fq_domain::account::{Account, RoleCode};
use fq_domain::calendar::beijing;
use fq_domain::programme::Programme;
use fq_domain::region::RegionCode;
use fq_engine::{EngineError, KpiReport};
use fq_store::CaseKpis;
use serde::{Deserialize, Serialize};

use super::chart;
use super::display::Names;
use super::forms::Choice;
use super::i18n;
use super::layout::{self, Page, value};
use super::map::{self, Scale};
use super::period;
use super::scope;
use super::viewer::Viewer;
use crate::AppState;

/// The default period, in days up to today.
const DEFAULT_DAYS: u64 = 30;
/// The longest period drawn day by day.
const MAX_DAYS: i64 = 366;

#[derive(Debug, Deserialize)]
pub(crate) struct DashQuery {
    programme: Option<String>,
    region: Option<String>,
    from: Option<String>,
    to: Option<String>,
    kpi: Option<String>,
}

/// The KPIs a map can be coloured by.
const KPIS: [&str; 8] = ["opened", "open", "closed", "overdue_open", "on_time_rate", "mean_rating", "yellow_cards", "red_cards"];

fn kpi_value(kpi: &str, k: &CaseKpis) -> Option<f64> {
    match kpi {
        "open" => Some(k.open as f64),
        "closed" => Some(k.closed as f64),
        "overdue_open" => Some(k.overdue_open as f64),
        "on_time_rate" => (k.closed > 0).then(|| k.closed_on_time as f64 / k.closed as f64),
        "mean_rating" => (k.rated > 0).then(|| k.rating_sum as f64 / k.rated as f64),
        "yellow_cards" => Some(k.yellow_cards as f64),
        "red_cards" => Some(k.red_cards as f64),
        _ => Some(k.opened as f64),
    }
}

fn kpi_scale(kpi: &str) -> Scale {
    Scale {
        worse_when_high: matches!(kpi, "overdue_open" | "yellow_cards" | "red_cards"),
        percent: kpi == "on_time_rate",
        decimals: if kpi == "mean_rating" { 2 } else { 0 },
    }
}

#[derive(Debug, Serialize)]
struct Card {
    key: &'static str,
    value: String,
    tone: &'static str,
}

#[derive(Debug, Serialize)]
struct CountyRow {
    name: String,
    opened: u64,
    open: u64,
    closed: u64,
    overdue: u64,
    on_time: String,
    rating: String,
    yellow: u64,
    red: u64,
}

fn cards(report: &KpiReport) -> Vec<Card> {
    let t = &report.totals;
    let percent = Scale { worse_when_high: false, percent: true, decimals: 0 };
    let rating = Scale { worse_when_high: false, percent: false, decimals: 2 };
    vec![
        Card { key: "dash.opened", value: t.opened.to_string(), tone: "plain" },
        Card { key: "dash.open", value: t.open.to_string(), tone: "plain" },
        Card { key: "dash.closed", value: t.closed.to_string(), tone: "plain" },
        Card {
            key: "dash.overdue_open",
            value: t.overdue_open.to_string(),
            tone: if t.overdue_open > 0 { "bad" } else { "good" },
        },
        Card { key: "dash.on_time_rate", value: percent.show(report.on_time_rate), tone: "plain" },
        Card { key: "dash.mean_rating", value: rating.show(report.mean_rating), tone: "plain" },
        Card {
            key: "dash.yellow_cards",
            value: t.yellow_cards.to_string(),
            tone: if t.yellow_cards > 0 { "warn" } else { "good" },
        },
        Card { key: "dash.red_cards", value: t.red_cards.to_string(), tone: if t.red_cards > 0 { "bad" } else { "good" } },
    ]
}

/// Programmes whose figures `account` may read, with the outermost regions it reads them over
/// (the engine checks again).
pub(crate) fn readable_programmes(engine: &fq_engine::Engine, account: &Account) -> Vec<(Arc<Programme>, Vec<RegionCode>)> {
    engine
        .programmes()
        .all()
        .filter_map(|p| {
            let reads = |role: &str| role == RoleCode::LEADER || (p.roles.contains_key(role) && !p.assignment_only(role));
            let regions: Vec<RegionCode> = account
                .outermost_regions(reads)
                .into_iter()
                .filter(|r| {
                    account.grants.iter().any(|g| reads(g.role.as_str()) && &g.scope.region == r && g.scope.org.is_none())
                })
                .collect();
            (!regions.is_empty()).then(|| (p.clone(), regions))
        })
        .collect()
}

/// `GET /dashboard`.
pub(crate) async fn page(State(state): State<AppState>, viewer: Viewer, Query(q): Query<DashQuery>) -> Page {
    let engine = &state.engine;
    let lang = viewer.lang;
    let fail = |e: EngineError| layout::fail(&state, &viewer, &e);
    let readable = readable_programmes(engine, viewer.account());
    let wanted = q.programme.as_deref().filter(|p| !p.is_empty());
    // Without a choice: the first programme with time limits (a ledger such as the safety coins
    // has no on-time rate to show).
    let timed = |p: &Programme| p.kinds.iter().any(|k| !k.clocks.is_empty());
    let chosen = match wanted {
        Some(w) => readable.iter().find(|(p, _)| w == p.code),
        None => readable.iter().find(|(p, _)| timed(p)).or(readable.first()),
    };
    let Some((programme, scopes)) = chosen.cloned() else {
        return Err(layout::denied(&state, &viewer));
    };
    let region = period::region(q.region.as_deref(), &scopes[0]).map_err(fail)?;
    let today = engine.current_time().with_timezone(&beijing()).date_naive();
    let shown = period::period(q.from.as_deref(), q.to.as_deref(), today, DEFAULT_DAYS, MAX_DAYS);
    let (from_day, to_day) = (shown.from_day, shown.to_day);
    let kpi = q.kpi.as_deref().filter(|k| KPIS.contains(k)).unwrap_or("opened");
    let (report, error, status) = match shown.range {
        None => (None, Some(i18n::text(lang, "dash.bad_period")), StatusCode::UNPROCESSABLE_ENTITY),
        Some((from, to)) => match engine.kpi_report(&viewer.actor, &programme.code, &region, from, to).await {
            Ok(report) => (Some(report), None, StatusCode::OK),
            Err(e @ EngineError::Invalid { .. }) => (None, Some(layout::reason(lang, &e)), StatusCode::UNPROCESSABLE_ENTITY),
            Err(e) => return Err(fail(e)),
        },
    };
    let mut names = Names::new(engine);
    let mut counties = Vec::new();
    let mut map_svg = None;
    let mut trend = None;
    if let Some(report) = &report {
        let percent = Scale { worse_when_high: false, percent: true, decimals: 1 };
        let rating = Scale { worse_when_high: false, percent: false, decimals: 2 };
        for (code, k) in &report.by_county {
            counties.push(CountyRow {
                name: names.region(code).await,
                opened: k.opened,
                open: k.open,
                closed: k.closed,
                overdue: k.overdue_open,
                on_time: percent.show(kpi_value("on_time_rate", k)),
                rating: rating.show(kpi_value("mean_rating", k)),
                yellow: k.yellow_cards,
                red: k.red_cards,
            });
        }
        let shapes = map::counties(&state).await.map_err(fail)?;
        // Counties of the report's region without cases count as zero; the others lie outside it.
        let mut values: HashMap<String, Option<f64>> = shapes
            .iter()
            .filter(|s| region.contains(&s.code) || s.code.contains(&region))
            .map(|s| (s.code.to_string(), kpi_value(kpi, &CaseKpis::default())))
            .collect();
        for (code, k) in &report.by_county {
            values.insert(code.to_string(), kpi_value(kpi, k));
        }
        map_svg = Some(map::draw(&shapes, &map::frame_of(&region), &values, kpi_scale(kpi)));
        trend = Some(chart::trend(&report.trend, from_day, to_day));
    }
    let programmes: Vec<Choice> = readable
        .iter()
        .map(|(p, _)| Choice { value: p.code.clone(), label: p.name.clone(), selected: p.code == programme.code })
        .collect();
    let regions = scope::region_choices(engine, &scopes, Some(region.as_str())).await.map_err(fail)?;
    let kpis: Vec<Choice> = KPIS
        .iter()
        .map(|k| Choice { value: (*k).to_owned(), label: i18n::text(lang, &format!("dash.{k}")), selected: *k == kpi })
        .collect();
    let ctx = minijinja::context! {
        programme => programme.name.clone(),
        programmes => value(&programmes),
        regions => value(&regions),
        region_name => names.place(&region).await,
        kpis => value(&kpis),
        kpi_name => i18n::text(lang, &format!("dash.{kpi}")),
        from => from_day.format("%Y-%m-%d").to_string(),
        to => to_day.format("%Y-%m-%d").to_string(),
        cards => value(&report.as_ref().map(cards)),
        counties => value(&counties),
        map => value(&map_svg),
        trend => value(&trend),
        error => error,
        outside => map::OUTSIDE,
        no_value => map::NO_VALUE,
    };
    Ok(layout::page_with_status(&state, &viewer, status, "dashboard.html", ctx))
}
