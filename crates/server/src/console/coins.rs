//! `/coins` 平安金币: a county's safety-coin ledgers for the coins programme's roles and leaders.
//! A resident's ledger is found by ID number (posted, never in the address) or by one of its
//! entries (`?entry=JB…`, where an award or a redemption lands, so a reload does not post twice);
//! awards by rule and redemptions within the balance go through the engine, which checks the
//! reader's scope, the rule and the balance again.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use fq_domain::programme::Party;
use fq_domain::region::{RegionCode, RegionLevel};
use fq_engine::{CoinLedger, EngineError};
use serde::{Deserialize, Serialize};

use super::dashboard::readable_programmes;
use super::display::{self, Names};
use super::forms::{Fault, Posted};
use super::i18n;
use super::layout::{self, Page, encode, see_other, value};
use super::viewer::Viewer;
use crate::AppState;

#[derive(Debug, Deserialize)]
pub(crate) struct CoinParams {
    region: Option<String>,
    entry: Option<String>,
    done: Option<String>,
}

#[derive(Debug, Serialize)]
struct Line {
    number: String,
    rule: String,
    /// Signed: +20, -50.
    coins: String,
    at: String,
    counted: bool,
    title: String,
}

/// The form fields, shown again after a refusal.
const FIELDS: [&str; 6] = ["name", "id_number", "rule", "coins", "note", "source"];

/// The county of the page: the one asked for, or the reader's first county of the programme.
async fn county(state: &AppState, viewer: &Viewer, asked: Option<&str>) -> Result<RegionCode, axum::response::Response> {
    let readable = readable_programmes(&state.engine, viewer.account());
    let Some((_, scopes)) = readable.iter().find(|(p, _)| p.code == "coins") else {
        return Err(layout::denied(state, viewer));
    };
    let fail = |e: EngineError| layout::fail(state, viewer, &e);
    match asked.map(str::trim).filter(|r| !r.is_empty()) {
        Some(text) => {
            let region =
                RegionCode::parse(text).map_err(|e| fail(EngineError::field("region_code_invalid", "region", e.to_string())))?;
            // Only counties within the reader's scope (the engine checks every ledger read again).
            if !scopes.iter().any(|s| s.contains(&region)) {
                return Err(fail(EngineError::forbidden(format!("the coin ledgers of {region} are outside your scope"))));
            }
            Ok(region)
        }
        None if scopes[0].level() == RegionLevel::County => Ok(scopes[0].clone()),
        None => Ok(state
            .engine
            .region_children(&scopes[0])
            .await
            .map_err(fail)?
            .first()
            .map_or(scopes[0].clone(), |r| r.code.clone())),
    }
}

/// `GET /coins`.
pub(crate) async fn page(State(state): State<AppState>, viewer: Viewer, Query(q): Query<CoinParams>) -> Page {
    let county = county(&state, &viewer, q.region.as_deref()).await?;
    let Some(number) = q.entry.as_deref().map(str::trim).filter(|e| !e.is_empty()) else {
        return draw(&state, &viewer, &county, Found::Nobody, q.done, None, None).await;
    };
    let (resident, region, ledger) =
        state.engine.coin_ledger_of_entry(&viewer.actor, number).await.map_err(|e| layout::fail(&state, &viewer, &e))?;
    let label = (resident.name.clone(), resident.id_number.clone().unwrap_or_default());
    draw(&state, &viewer, &region, Found::Ledger(label, ledger), q.done, None, None).await
}

/// The resident shown on the page: nobody, a ledger (name and ID as shown), or a lookup's fault.
enum Found {
    Nobody,
    Ledger((String, String), CoinLedger),
    Refused(String),
}

/// Looks a resident's ledger up by the ID number given (masked on screen).
async fn ledger_of(
    state: &AppState,
    viewer: &Viewer,
    county: &RegionCode,
    name: String,
    id: &str,
) -> Result<Found, axum::response::Response> {
    match state.engine.coin_ledger(&viewer.actor, county, id).await {
        Ok(ledger) => Ok(Found::Ledger((name, fq_domain::case::mask_id_number(id)), ledger)),
        Err(e @ EngineError::Invalid { .. }) => Ok(Found::Refused(layout::reason(viewer.lang, &e))),
        Err(e) => Err(layout::fail(state, viewer, &e)),
    }
}

/// `POST /coins/lookup`: a resident's ledger by ID number.
pub(crate) async fn lookup(State(state): State<AppState>, viewer: Viewer, posted: Posted) -> Page {
    if !viewer.csrf_ok(&posted) {
        return Err(layout::csrf_refused(&state, &viewer));
    }
    let county = county(&state, &viewer, posted.first("region")).await?;
    let found = ledger_of(&state, &viewer, &county, String::new(), &posted.text("id_number")).await?;
    draw(&state, &viewer, &county, found, None, None, Some(&posted)).await
}

/// `POST /coins/award` and `POST /coins/redeem`.
async fn enter(state: AppState, viewer: Viewer, posted: Posted, redeem: bool) -> Page {
    if !viewer.csrf_ok(&posted) {
        return Err(layout::csrf_refused(&state, &viewer));
    }
    let county = county(&state, &viewer, posted.first("region")).await?;
    let resident = Party {
        name: posted.text("name"),
        role: "居民".into(),
        id_number: Some(posted.text("id_number")).filter(|i| !i.is_empty()),
        phone: None,
    };
    let (rule, note) = (posted.text("rule"), posted.text("note"));
    let engine = &state.engine;
    let entered = if redeem {
        match posted.text("coins").parse::<i64>() {
            Ok(coins) => engine.redeem_coins(&viewer.actor, county.as_str(), &resident, &rule, coins, &note).await,
            Err(_) => Err(EngineError::field("coins_invalid", "coins", "a redemption spends a whole number of coins")),
        }
    } else {
        let source = Some(posted.text("source")).filter(|s| !s.is_empty());
        engine.award_coins(&viewer.actor, county.as_str(), &resident, &rule, &note, source.as_deref()).await
    };
    match entered {
        Ok(view) => {
            let done = if redeem { "redeemed" } else { "awarded" };
            Ok(see_other(&format!("/coins?region={}&entry={}&done={done}", county, encode(&view.case.number))))
        }
        Err(e @ (EngineError::Invalid { .. } | EngineError::Refused { .. })) => {
            let fault = Fault::of(viewer.lang, &e);
            let found = match resident.id_number.as_deref() {
                Some(id) if fq_domain::programme::valid_id_number(id) => {
                    ledger_of(&state, &viewer, &county, resident.name.clone(), id).await?
                }
                _ => Found::Nobody,
            };
            draw(&state, &viewer, &county, found, None, Some((fault, redeem)), Some(&posted)).await
        }
        Err(e) => Err(layout::fail(&state, &viewer, &e)),
    }
}

pub(crate) async fn award(State(state): State<AppState>, viewer: Viewer, posted: Posted) -> Page {
    enter(state, viewer, posted, false).await
}

pub(crate) async fn redeem(State(state): State<AppState>, viewer: Viewer, posted: Posted) -> Page {
    enter(state, viewer, posted, true).await
}

/// The page: the forms, and the resident's ledger when one is known.
async fn draw(
    state: &AppState,
    viewer: &Viewer,
    county: &RegionCode,
    found: Found,
    done: Option<String>,
    fault: Option<(Fault, bool)>,
    posted: Option<&Posted>,
) -> Page {
    let engine = &state.engine;
    let lang = viewer.lang;
    let Some(programme) = engine.programmes().get("coins").cloned() else { return Err(layout::not_found(state, viewer)) };
    let (label, ledger, lookup_error) = match found {
        Found::Nobody => (None, None, None),
        Found::Ledger(label, ledger) => (Some(label), Some(ledger), None),
        Found::Refused(reason) => (None, None, Some(reason)),
    };
    let status = if fault.is_some() || lookup_error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let rule_name = |code: &str| programme.catalog_name("coin_rule", code).to_owned();
    let lines: Vec<Line> = ledger
        .as_ref()
        .map(|l| {
            l.entries
                .iter()
                .map(|e| Line {
                    number: e.number.clone(),
                    rule: rule_name(&e.rule),
                    coins: format!("{:+}", e.coins),
                    at: display::when(e.at),
                    counted: e.counted,
                    title: e.title.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    let rules = |earning: bool| -> Vec<(String, String)> {
        let codes: Vec<&str> =
            if earning { fq_engine::COIN_RULES.iter().map(|(c, _)| *c).collect() } else { fq_engine::COIN_REDEMPTIONS.to_vec() };
        codes.into_iter().map(|c| (c.to_owned(), rule_name(c))).collect()
    };
    let (fault, fault_redeem) = match fault {
        Some((f, r)) => (Some(f), r),
        None => (None, false),
    };
    let values: std::collections::BTreeMap<&str, String> =
        FIELDS.iter().map(|f| (*f, posted.map(|p| p.text(f)).unwrap_or_default())).collect();
    let (resident_name, resident_id) = label.map_or((None, None), |(n, i)| (Some(n).filter(|n| !n.is_empty()), Some(i)));
    let mut names = Names::new(engine);
    let ctx = minijinja::context! {
        place => names.region(county).await,
        region => county.to_string(),
        done => done.map(|d| i18n::text(lang, &format!("coins.done_{d}"))),
        resident_name => resident_name,
        resident_id => resident_id,
        ledger => ledger.as_ref().map(|l| minijinja::context! { balance => l.balance, earned => l.earned, spent => l.spent }),
        lines => value(&lines),
        earning => value(&rules(true)),
        spending => value(&rules(false)),
        values => value(&values),
        error => fault.as_ref().map(|f| f.message.clone()),
        error_redeem => fault_redeem,
        lookup_error => lookup_error,
        writes => engine.writes_coin_ledgers(&viewer.actor, county),
    };
    Ok(layout::page_with_status(state, viewer, status, "coins.html", ctx))
}
