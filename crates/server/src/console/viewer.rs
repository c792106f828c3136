//! Who is looking at a console page: the signed-in account, its CSRF token and language, and
//! which parts of the console its roles open. Without a valid session a page answers with a
//! redirect to `/login` (303), clearing a cookie that no longer works.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use fq_domain::account::{Account, RoleCode};
use fq_domain::actor::Actor;
use fq_domain::programme::{Effect, FieldType};
use fq_engine::Engine;
use serde::Serialize;

use super::forms::Posted;
use super::i18n::Lang;
use crate::AppState;
use crate::api::accounts::session_cookie;
use crate::auth::{Credentials, SESSION_COOKIE, cookie, same_secret, signed};

/// The parts of the console an account's roles open. Links only: the engine authorizes every
/// read and action again.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Nav {
    pub cases: bool,
    pub intake: bool,
    pub dispatch: bool,
    pub dashboard: bool,
    /// Dispute resolution figures: a dashboard reader where some programme declares outcomes.
    pub figures: bool,
    /// The inspection review's station ranking and sub-centre dashboard: supervisors and leaders
    /// where the programme is installed.
    pub inspection: bool,
    /// The risk programme's warnings board: its roles and leaders.
    pub warnings: bool,
    /// Safety coins: the coins programme's roles and leaders.
    pub coins: bool,
    /// The 72-hour trace: the risk programme's trace analysts, as the engine decides.
    pub trace: bool,
    pub admin: bool,
    /// The nightly run's Open311 servers: the province's administrators, where the risk
    /// programme is installed.
    pub open311: bool,
}

impl Nav {
    pub(crate) fn of(engine: &Engine, actor: &Actor) -> Nav {
        let Some(account) = actor.account() else { return Nav::default() };
        let holds = |role: &str| account.grants.iter().any(|g| g.role.as_str() == role);
        let mut nav = Nav { admin: holds(RoleCode::ADMIN), dashboard: holds(RoleCode::LEADER), ..Nav::default() };
        nav.inspection = engine.programmes().get("inspection").is_some() && (holds("supervisor") || holds(RoleCode::LEADER));
        nav.warnings = engine
            .programmes()
            .get("risk")
            .is_some_and(|p| p.roles.keys().any(|r| holds(r) && !p.assignment_only(r)) || holds(RoleCode::LEADER));
        nav.trace = engine.programmes().get("risk").is_some() && !fq_engine::trace_scopes(account).is_empty();
        nav.open311 = engine.programmes().get("risk").is_some() && fq_engine::chooses_open311_pulls(actor);
        nav.coins = engine.programmes().get("coins").is_some_and(|p| p.roles.keys().any(|r| holds(r)) || holds(RoleCode::LEADER));
        for programme in engine.programmes().all() {
            let broad = programme.roles.keys().any(|r| holds(r) && !programme.assignment_only(r));
            nav.cases |= broad;
            nav.dashboard |= broad;
            let outcomes = programme.kinds.iter().any(|k| !k.outcomes.is_empty());
            nav.figures |= outcomes && (broad || holds(RoleCode::LEADER));
            for kind in &programme.kinds {
                nav.intake |= !kind.engine_intake && kind.intake_roles.iter().any(|r| holds(r.as_str()));
                // Dispatching: actions on waiting cases that choose a unit or draw one.
                nav.dispatch |= kind.actions.iter().any(|a| {
                    let waiting = a.from.iter().any(|s| s == "dispatching" || s == "submitted");
                    let chooses = a.inputs.iter().any(|i| i.kind == FieldType::Org)
                        || a.effects.iter().any(|e| matches!(e, Effect::Dispatch { .. }));
                    waiting && chooses && a.roles.iter().any(|r| holds(r.as_str()))
                });
            }
        }
        nav
    }
}

/// A signed-in account looking at the console.
#[derive(Debug)]
pub(crate) struct Viewer {
    pub actor: Actor,
    /// The session's CSRF token (`None` for a bearer token, which a browser never sends by itself).
    pub csrf: Option<String>,
    pub lang: Lang,
    pub nav: Nav,
    /// The path and query of this request (for the language switch).
    pub here: String,
}

impl Viewer {
    pub(crate) fn account(&self) -> &Account {
        self.actor.account().expect("a viewer is an account")
    }

    /// Checks the form's `csrf` field against the session's token.
    pub(crate) fn csrf_ok(&self, posted: &Posted) -> bool {
        match &self.csrf {
            None => true,
            Some(expected) => posted.first("csrf").is_some_and(|sent| same_secret(sent, expected)),
        }
    }
}

/// A path of this site to go back to (`/cases?x=1`), never another site's.
pub(crate) fn local_path(next: &str) -> Option<&str> {
    let ok = next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') && !next.chars().any(char::is_control);
    ok.then_some(next)
}

/// The answer for a request without a usable session: to the sign-in page, back here afterwards.
fn to_login(parts: &Parts) -> Response {
    let here = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let target = if parts.method == Method::GET && here != "/" {
        format!("/login?next={}", super::layout::encode(here))
    } else {
        "/login".to_owned()
    };
    let mut response = Redirect::to(&target).into_response();
    if cookie(&parts.headers, SESSION_COOKIE).is_some() {
        response.headers_mut().insert(header::SET_COOKIE, session_cookie("", 0, &parts.headers));
    }
    response
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Viewer, Response> {
        let lang = Lang::of(&parts.headers);
        let signed = match signed(parts, state).await {
            Ok(signed) if signed.actor.account().is_some() => signed,
            Ok(_) => return Err(StatusCode::FORBIDDEN.into_response()),
            Err(_) => return Err(to_login(parts)),
        };
        let csrf = match signed.credentials {
            Credentials::Session { csrf } => Some(csrf),
            Credentials::Bearer => None,
        };
        let nav = Nav::of(&state.engine, &signed.actor);
        let here = parts.uri.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "/".into());
        Ok(Viewer { actor: signed.actor, csrf, lang, nav, here })
    }
}
