//! `/intake`: registering a case. The form is generated from the kind's fields, for holders of
//! one of its intake roles; the place is picked county first, then town (the town list follows
//! the county, with a small script or with the county form's own button).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use fq_domain::org::OrgKind;
use fq_domain::programme::{CaseKind, FieldDef, FieldType, Programme};
use fq_domain::region::RegionCode;
use fq_engine::{Engine, EngineError, OpenCase};
use serde::{Deserialize, Serialize};

use super::forms::{self, Choice, Choices, Fault, Posted};
use super::i18n;
use super::layout::{self, Page, see_other, value};
use super::scope;
use super::viewer::Viewer;
use crate::AppState;

/// How a matter came in (the engine takes any short code; these are the usual ones).
const CHANNELS: [&str; 5] = ["station", "online", "hotline", "referral", "grid"];

/// The kinds of unit that receive cases besides the clerk's own: service stations (消保服务站),
/// courts and shared court points (共享法庭), centres, mediation committees.
const INTAKE_UNIT_KINDS: [OrgKind; 4] = [OrgKind::Station, OrgKind::Court, OrgKind::Centre, OrgKind::MediationCommittee];

#[derive(Debug, Serialize)]
struct KindLink {
    href: String,
    programme: String,
    kind: String,
}

/// The kinds the viewer may register, with the regions of its intake roles for each.
fn intake_kinds(engine: &Engine, viewer: &Viewer) -> Vec<(Arc<Programme>, CaseKind, Vec<RegionCode>)> {
    let account = viewer.account();
    let mut out = Vec::new();
    for programme in engine.programmes().all() {
        // Kinds with their own intake (inspection records, ledger entries) have no form here.
        for kind in programme.kinds.iter().filter(|k| !k.engine_intake) {
            let mut regions: Vec<RegionCode> =
                account.grants.iter().filter(|g| kind.intake_roles.contains(&g.role)).map(|g| g.scope.region.clone()).collect();
            regions.sort();
            regions.dedup();
            if !regions.is_empty() {
                out.push((Arc::clone(programme), kind.clone(), regions));
            }
        }
    }
    out
}

/// `GET /intake`.
pub(crate) async fn index(State(state): State<AppState>, viewer: Viewer) -> Page {
    let kinds: Vec<KindLink> = intake_kinds(&state.engine, &viewer)
        .into_iter()
        .map(|(p, k, _)| KindLink { href: format!("/intake/{}/{}", p.code, k.code), programme: p.name.clone(), kind: k.name })
        .collect();
    if kinds.is_empty() {
        return Err(layout::denied(&state, &viewer));
    }
    Ok(layout::page(&state, &viewer, "intake_index.html", minijinja::context! { kinds => value(&kinds) }))
}

#[derive(Debug, Deserialize)]
pub(crate) struct IntakeQuery {
    county: Option<String>,
}

struct Shown<'a> {
    county: Option<String>,
    posted: Option<&'a Posted>,
    fault: Option<&'a Fault>,
    status: StatusCode,
}

async fn draw(state: &AppState, viewer: &Viewer, programme_code: &str, kind_code: &str, shown: Shown<'_>) -> Page {
    let engine = &state.engine;
    let lang = viewer.lang;
    let fail = |e: EngineError| layout::fail(state, viewer, &e);
    let Some((programme, kind, scopes)) =
        intake_kinds(engine, viewer).into_iter().find(|(p, k, _)| p.code == programme_code && k.code == kind_code)
    else {
        return Err(if engine.programmes().get(programme_code).and_then(|p| p.kind(kind_code)).is_some() {
            layout::denied(state, viewer)
        } else {
            layout::not_found(state, viewer)
        });
    };
    let counties = scope::counties(engine, &scopes).await.map_err(fail)?;
    let chosen_region = shown.posted.map(|p| p.text("region")).filter(|r| !r.is_empty());
    let county_code = shown
        .county
        .clone()
        .or_else(|| chosen_region.as_deref().map(|r| r.chars().take(6).collect()))
        .filter(|c| counties.iter().any(|r| r.code.as_str() == c))
        .or_else(|| counties.first().map(|c| c.code.to_string()));
    let county_choices: Vec<Choice> = counties
        .iter()
        .map(|c| Choice {
            value: c.code.to_string(),
            label: c.name.clone(),
            selected: county_code.as_deref() == Some(c.code.as_str()),
        })
        .collect();
    let mut towns = Vec::new();
    if let Some(county) = counties.iter().find(|c| county_code.as_deref() == Some(c.code.as_str())) {
        let whole = scopes.iter().any(|s| s.contains(&county.code));
        if whole {
            let label = i18n::fill(lang, "intake.whole_county", &[("county", &county.name)]);
            towns.push(Choice {
                selected: chosen_region.as_deref() == Some(county.code.as_str()),
                value: county.code.to_string(),
                label,
            });
        }
        for town in engine.region_children(&county.code).await.map_err(fail)? {
            if town.retired || !(whole || scopes.iter().any(|s| s.contains(&town.code) || town.code.contains(s))) {
                continue;
            }
            towns.push(Choice {
                selected: chosen_region.as_deref() == Some(town.code.as_str()),
                value: town.code.to_string(),
                label: town.name,
            });
        }
    }
    let posted_text = |name: &str| shown.posted.map(|p| p.text(name)).unwrap_or_default();
    let priority = posted_text("priority");
    let priorities: Vec<Choice> = kind
        .priorities
        .iter()
        .map(|p| Choice { value: p.clone(), label: i18n::text(lang, &format!("case.priority_{p}")), selected: &priority == p })
        .collect();
    let channel = posted_text("channel");
    // The kind's own channels when it lists them (Open311's is not chosen by hand).
    let offered: Vec<&str> = if kind.channels.is_empty() {
        CHANNELS.to_vec()
    } else {
        kind.channels.iter().map(String::as_str).filter(|c| *c != "open311").collect()
    };
    let channels: Vec<Choice> = offered
        .iter()
        .map(|c| Choice {
            value: (*c).to_owned(),
            label: i18n::text(lang, &format!("case.channel_{c}")),
            selected: channel == *c,
        })
        .collect();
    let orgs = engine.organisations_in_scope(&viewer.actor).await.map_err(fail)?;
    // Where the case is received: the clerk's own unit by default, or a station or shared court
    // point (a registered organisation, hosted by its parent) in the clerk's scope.
    let own = viewer.account().org.0.to_string();
    let posted_unit = Some(posted_text("intake_org")).filter(|u| !u.is_empty()).unwrap_or_else(|| own.clone());
    let intake_units: Vec<Choice> = orgs
        .iter()
        .filter(|o| o.id.0.to_string() == own || INTAKE_UNIT_KINDS.contains(&o.kind))
        .map(|o| Choice { value: o.id.0.to_string(), label: o.name.clone(), selected: o.id.0.to_string() == posted_unit })
        .collect();
    let choices = Choices { programme: &programme, orgs: &orgs, lang };
    // What is filled in later (an agreement, a ruling) is not asked at intake.
    let asked: Vec<FieldDef> = kind.fields.iter().filter(|f| f.intake).cloned().collect();
    let widgets = forms::widgets("intake", &asked, &choices, shown.posted, shown.fault);
    let mut known: Vec<&str> = asked.iter().map(|f| f.code.as_str()).collect();
    known.extend(["region", "priority", "channel", "intake_org"]);
    let ctx = minijinja::context! {
        programme => programme.name.clone(),
        kind => kind.name.clone(),
        action => format!("/intake/{}/{}", programme.code, kind.code),
        counties => value(&county_choices),
        towns => value(&towns),
        priorities => value(&priorities),
        channels => value(&channels),
        intake_units => value(&intake_units),
        widgets => value(&widgets),
        multipart => asked.iter().any(|f| f.kind == FieldType::Attachment),
        error => Fault::general(shown.fault, &known),
        region_error => Fault::for_field(shown.fault, "region"),
        priority_error => Fault::for_field(shown.fault, "priority"),
        channel_error => Fault::for_field(shown.fault, "channel"),
        intake_org_error => Fault::for_field(shown.fault, "intake_org"),
    };
    Ok(layout::page_with_status(state, viewer, shown.status, "intake.html", ctx))
}

/// `GET /intake/{programme}/{kind}`.
pub(crate) async fn form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((programme, kind)): Path<(String, String)>,
    Query(q): Query<IntakeQuery>,
) -> Page {
    let shown = Shown { county: q.county, posted: None, fault: None, status: StatusCode::OK };
    draw(&state, &viewer, &programme, &kind, shown).await
}

/// `POST /intake/{programme}/{kind}`: opens the case and goes to it.
pub(crate) async fn open(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((programme, kind)): Path<(String, String)>,
    mut posted: Posted,
) -> Page {
    if !viewer.csrf_ok(&posted) {
        return Err(layout::csrf_refused(&state, &viewer));
    }
    let engine = &state.engine;
    let Some(defs) = engine
        .programmes()
        .get(&programme)
        .and_then(|p| p.kind(&kind))
        .map(|k| k.fields.iter().filter(|f| f.intake).cloned().collect::<Vec<_>>())
    else {
        return Err(layout::not_found(&state, &viewer));
    };
    let fault = match forms::upload(engine, &viewer.actor, viewer.lang, &defs, &mut posted).await {
        Err(fault) => fault,
        Ok(()) => {
            let request = OpenCase {
                programme: programme.clone(),
                kind: kind.clone(),
                priority: Some(posted.text("priority")).filter(|p| !p.is_empty()),
                region: posted.text("region"),
                grid: None,
                channel: Some(posted.text("channel")).filter(|c| !c.is_empty()).unwrap_or_else(|| "station".into()),
                intake_org: Some(
                    posted
                        .first("intake_org")
                        .and_then(|u| uuid::Uuid::parse_str(u.trim()).ok())
                        .unwrap_or(viewer.account().org.0),
                ),
                fields: forms::values(&defs, &posted),
            };
            match engine.open_case(&viewer.actor, request).await {
                Ok(view) => return Ok(see_other(&format!("/cases/{}?done=opened", layout::encode(&view.case.number)))),
                Err(e @ (EngineError::Invalid { .. } | EngineError::Refused { .. })) => Fault::of(viewer.lang, &e),
                Err(e) => return Err(layout::fail(&state, &viewer, &e)),
            }
        }
    };
    let shown = Shown { county: None, posted: Some(&posted), fault: Some(&fault), status: StatusCode::UNPROCESSABLE_ENTITY };
    draw(&state, &viewer, &programme, &kind, shown).await
}
