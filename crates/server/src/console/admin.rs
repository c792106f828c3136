//! `/admin`: organisations in the administrator's scope (list, create) and the accounts of an
//! organisation (list, create with a role grant, disable and enable). Pages of accounts without
//! the admin role answer 403 with no data; the engine checks every read and write again.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use fq_domain::account::{Account, RoleCode};
use fq_domain::org::{OrgId, OrgKind, Organisation};
use fq_engine::{Engine, EngineError, NewAccount, NewOrganisation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::display::Names;
use super::forms::{Choice, Fault, Posted};
use super::i18n::{self, Lang};
use super::layout::{self, Page, encode, see_other, value};
use super::scope;
use super::viewer::Viewer;
use crate::AppState;

#[derive(Debug, Deserialize)]
pub(crate) struct Done {
    done: Option<String>,
    login: Option<String>,
}

#[derive(Debug, Serialize)]
struct OrgRow {
    href: String,
    name: String,
    kind: String,
    place: String,
    parent: Option<String>,
    demo: bool,
}

#[derive(Debug, Serialize)]
struct AccountRow {
    login: String,
    display_name: String,
    grants: Vec<String>,
    demo: bool,
    myself: bool,
}

/// A form shown again: what was posted and the fault by field.
#[derive(Debug, Default, Serialize)]
struct Again {
    values: BTreeMap<String, String>,
    errors: BTreeMap<String, String>,
    error: Option<String>,
}

impl Again {
    fn of(posted: &Posted, fault: &Fault, fields: &[&str]) -> Again {
        let values = fields.iter().map(|f| ((*f).to_owned(), posted.text(f))).collect();
        let mut errors = BTreeMap::new();
        if let Some(field) = fault.field.as_deref().filter(|f| fields.contains(f)) {
            errors.insert(field.to_owned(), fault.message.clone());
        }
        Again { values, errors, error: Fault::general(Some(fault), fields) }
    }
}

fn admin_regions(viewer: &Viewer) -> Vec<fq_domain::region::RegionCode> {
    viewer.account().outermost_regions(|role| role == RoleCode::ADMIN)
}

fn kind_name(lang: Lang, kind: OrgKind) -> String {
    i18n::text(lang, &format!("admin.kind_{}", kind.as_str()))
}

/// The role choices: the core roles and every programme's roles.
fn role_choices(engine: &Engine, lang: Lang, current: &str) -> Vec<Choice> {
    let mut out: Vec<Choice> = [RoleCode::ADMIN, RoleCode::LEADER, RoleCode::STAFF]
        .iter()
        .map(|r| Choice { value: (*r).to_owned(), label: i18n::text(lang, &format!("admin.role_{r}")), selected: current == *r })
        .collect();
    for programme in engine.programmes().all() {
        for role in programme.roles.values() {
            if out.iter().any(|c| c.value == role.code.as_str()) {
                continue;
            }
            let label = format!("{} · {}", programme.name, role.name);
            out.push(Choice { value: role.code.to_string(), label, selected: current == role.code.as_str() });
        }
    }
    out
}

fn role_name(engine: &Engine, lang: Lang, role: &str) -> String {
    let key = format!("admin.role_{role}");
    if i18n::has(&key) {
        return i18n::text(lang, &key);
    }
    engine.programmes().all().find_map(|p| p.roles.get(role).map(|r| r.name.clone())).unwrap_or_else(|| role.to_owned())
}

async fn orgs_page(state: &AppState, viewer: &Viewer, done: Option<String>, again: Again, status: StatusCode) -> Page {
    let engine = &state.engine;
    let lang = viewer.lang;
    let fail = |e: EngineError| layout::fail(state, viewer, &e);
    let regions = admin_regions(viewer);
    if regions.is_empty() {
        return Err(layout::denied(state, viewer));
    }
    let mut names = Names::new(engine);
    let mut orgs: Vec<Organisation> = Vec::new();
    for region in &regions {
        orgs.extend(engine.organisations_within(&viewer.actor, region).await.map_err(fail)?);
    }
    let mut rows = Vec::new();
    for org in &orgs {
        rows.push(OrgRow {
            href: format!("/admin/orgs/{}", org.id),
            name: org.name.clone(),
            kind: kind_name(lang, org.kind),
            place: names.place(&org.region).await,
            parent: match org.parent {
                Some(parent) => Some(names.org(parent.0).await),
                None => None,
            },
            demo: org.demo,
        });
    }
    let kind_now = again.values.get("kind").cloned().unwrap_or_default();
    let kinds: Vec<Choice> = OrgKind::ALL
        .iter()
        .map(|k| Choice { value: k.as_str().to_owned(), label: kind_name(lang, *k), selected: kind_now == k.as_str() })
        .collect();
    let region_now = again.values.get("region").cloned();
    let region_choices =
        scope::region_choices(engine, &regions, region_now.as_deref().filter(|r| !r.is_empty())).await.map_err(fail)?;
    let parent_now = again.values.get("parent").cloned().unwrap_or_default();
    let parents: Vec<Choice> = orgs
        .iter()
        .map(|o| Choice { value: o.id.to_string(), label: o.name.clone(), selected: parent_now == o.id.to_string() })
        .collect();
    let ctx = minijinja::context! {
        orgs => value(&rows),
        kinds => value(&kinds),
        regions => value(&region_choices),
        parents => value(&parents),
        again => value(&again),
        done => done.map(|d| i18n::text(lang, &format!("flash.{d}"))),
    };
    Ok(layout::page_with_status(state, viewer, status, "admin.html", ctx))
}

/// `GET /admin`.
pub(crate) async fn index(State(state): State<AppState>, viewer: Viewer, Query(q): Query<Done>) -> Page {
    orgs_page(&state, &viewer, q.done.filter(|d| d == "org_created"), Again::default(), StatusCode::OK).await
}

/// `POST /admin/orgs`.
pub(crate) async fn create_org(State(state): State<AppState>, viewer: Viewer, posted: Posted) -> Page {
    if !viewer.csrf_ok(&posted) {
        return Err(layout::csrf_refused(&state, &viewer));
    }
    let request = NewOrganisation {
        name: posted.text("name"),
        kind: posted.text("kind"),
        region: posted.text("region"),
        parent: Uuid::parse_str(&posted.text("parent")).ok(),
    };
    match state.engine.create_organisation(&viewer.actor, request).await {
        Ok((org, _)) => Ok(see_other(&format!("/admin/orgs/{}?done=org_created", org.id))),
        Err(e @ (EngineError::Invalid { .. } | EngineError::Forbidden(_))) => {
            let fault = Fault::of(viewer.lang, &e);
            let again = Again::of(&posted, &fault, &["name", "kind", "region", "parent"]);
            orgs_page(&state, &viewer, None, again, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(layout::fail(&state, &viewer, &e)),
    }
}

async fn org_page(state: &AppState, viewer: &Viewer, id: Uuid, done: Option<String>, again: Again, status: StatusCode) -> Page {
    let engine = &state.engine;
    let lang = viewer.lang;
    let fail = |e: EngineError| layout::fail(state, viewer, &e);
    if admin_regions(viewer).is_empty() {
        return Err(layout::denied(state, viewer));
    }
    let org = engine.organisation(&viewer.actor, OrgId(id)).await.map_err(fail)?;
    let accounts: Vec<Account> = engine.organisation_accounts(&viewer.actor, org.id).await.map_err(fail)?;
    let mut names = Names::new(engine);
    let mut rows = Vec::new();
    for account in &accounts {
        let mut grants = Vec::new();
        for g in &account.grants {
            grants.push(format!("{} @ {}", role_name(engine, lang, g.role.as_str()), names.place(&g.scope.region).await));
        }
        rows.push(AccountRow {
            login: account.login.to_string(),
            display_name: account.display_name.clone(),
            grants,
            demo: account.demo,
            myself: account.id == viewer.account().id,
        });
    }
    let role_now = again.values.get("role").cloned().unwrap_or_else(|| RoleCode::STAFF.to_owned());
    let region_now = again.values.get("region").filter(|r| !r.is_empty()).cloned().unwrap_or_else(|| org.region.to_string());
    let region_choices =
        scope::region_choices(engine, std::slice::from_ref(&org.region), Some(&region_now)).await.map_err(fail)?;
    let done = done.map(|d| {
        let login = again.values.get("done_login").cloned().unwrap_or_default();
        i18n::fill(lang, &format!("flash.{d}"), &[("login", &login)])
    });
    let ctx = minijinja::context! {
        org => minijinja::context! {
            id => org.id.to_string(),
            name => org.name.clone(),
            kind => kind_name(lang, org.kind),
            place => names.place(&org.region).await,
            demo => org.demo,
        },
        accounts => value(&rows),
        roles => value(&role_choices(engine, lang, &role_now)),
        regions => value(&region_choices),
        again => value(&again),
        done => done,
    };
    Ok(layout::page_with_status(state, viewer, status, "admin_org.html", ctx))
}

/// `GET /admin/orgs/{id}`.
pub(crate) async fn org(State(state): State<AppState>, viewer: Viewer, Path(id): Path<Uuid>, Query(q): Query<Done>) -> Page {
    let mut again = Again::default();
    if let Some(login) = q.login {
        again.values.insert("done_login".into(), login);
    }
    let done = q.done.filter(|d| ["org_created", "account_created", "disabled", "enabled"].contains(&d.as_str()));
    org_page(&state, &viewer, id, done, again, StatusCode::OK).await
}

/// `POST /admin/orgs/{id}/accounts`: a new account with one role grant.
pub(crate) async fn create_account(State(state): State<AppState>, viewer: Viewer, Path(id): Path<Uuid>, posted: Posted) -> Page {
    if !viewer.csrf_ok(&posted) {
        return Err(layout::csrf_refused(&state, &viewer));
    }
    let login = posted.text("login");
    let request = NewAccount {
        login: login.clone(),
        display_name: posted.text("display_name"),
        org: id,
        password: Some(posted.first("password").unwrap_or_default().to_owned()),
        grants: vec![(posted.text("role"), posted.text("region"), None)],
    };
    match state.engine.create_account(&viewer.actor, request).await {
        Ok(_) => Ok(see_other(&format!("/admin/orgs/{id}?done=account_created&login={}", encode(&login)))),
        Err(e @ (EngineError::Invalid { .. } | EngineError::Forbidden(_) | EngineError::Conflict { .. })) => {
            let mut fault = Fault::of(viewer.lang, &e);
            if fault.field.as_deref().is_some_and(|f| f.starts_with("grants")) {
                fault.field = Some("role".into());
            }
            let again = Again::of(&posted, &fault, &["login", "display_name", "password", "role", "region"]);
            org_page(&state, &viewer, id, None, again, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(layout::fail(&state, &viewer, &e)),
    }
}

/// `POST /admin/accounts/disabled`: disables (or enables again) the account named in `login`.
pub(crate) async fn set_disabled(State(state): State<AppState>, viewer: Viewer, posted: Posted) -> Page {
    if !viewer.csrf_ok(&posted) {
        return Err(layout::csrf_refused(&state, &viewer));
    }
    let login = posted.text("login");
    let disabled = posted.text("disabled") != "false";
    let org = Uuid::parse_str(&posted.text("org")).map_err(|_| layout::not_found(&state, &viewer))?;
    match state.engine.set_account_disabled(&viewer.actor, &login, disabled).await {
        Ok(_) => {
            let done = if disabled { "disabled" } else { "enabled" };
            Ok(see_other(&format!("/admin/orgs/{org}?done={done}&login={}", encode(&login))))
        }
        Err(e @ (EngineError::Invalid { .. } | EngineError::NotFound { .. })) => {
            let fault = Fault::on("enable_login", layout::reason(viewer.lang, &e));
            let again = Again::of(&posted, &fault, &["enable_login"]);
            org_page(&state, &viewer, org, None, again, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(layout::fail(&state, &viewer, &e)),
    }
}
