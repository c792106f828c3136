//! Signing in and out of the console, and switching its language. The sign-in page also shows
//! the instance's public facts (regions loaded, database, demo data).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fq_engine::EngineError;
use minijinja::context;
use serde::Deserialize;

use super::forms::Posted;
use super::i18n::{self, LANG_COOKIE, Lang};
use super::layout::{self, Page, see_other};
use super::viewer::{Viewer, local_path};
use crate::AppState;
use crate::api::accounts::session_cookie;
use crate::auth::{ClientAddr, SESSION_COOKIE, cookie, same_secret};

#[derive(Debug, Deserialize)]
pub(crate) struct NextParam {
    next: Option<String>,
}

fn next_or_home(next: Option<&str>) -> String {
    next.and_then(local_path).filter(|n| !n.starts_with("/login")).unwrap_or("/").to_owned()
}

async fn login_page(
    state: &AppState,
    lang: Lang,
    status: StatusCode,
    login: &str,
    next: &str,
    error: Option<String>,
) -> Response {
    let facts = match crate::landing::facts(state).await {
        Ok(facts) => facts,
        Err(e) => return e.into_response(),
    };
    let token = match state.engine.new_form_token() {
        Ok(token) => token,
        Err(e) => return crate::error::ApiError::from(e).into_response(),
    };
    let ctx = context! { login => login, next => next, error => error, status => facts, csrf => token.clone() };
    let mut response = layout::public_page(state, lang, "/login", status, "login.html", ctx);
    let cookie = format!("{LOGIN_COOKIE}={token}; Path=/login; Max-Age=3600; HttpOnly; SameSite=Strict");
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The cookie that carries the sign-in form's token (see `Engine::new_form_token`).
const LOGIN_COOKIE: &str = "fq_login";

/// True if the posted sign-in form carries the token of the cookie set with it.
fn form_token_ok(headers: &HeaderMap, posted: &Posted) -> bool {
    match (cookie(headers, LOGIN_COOKIE), posted.first("csrf")) {
        (Some(expected), Some(given)) => !expected.is_empty() && same_secret(&expected, given),
        _ => false,
    }
}

/// `GET /login`.
pub(crate) async fn form(State(state): State<AppState>, headers: HeaderMap, Query(p): Query<NextParam>) -> Response {
    let lang = Lang::of(&headers);
    login_page(&state, lang, StatusCode::OK, "", &next_or_home(p.next.as_deref()), None).await
}

/// `POST /login`: signs in with the client's address journaled; the session cookie is set exactly
/// as the API's sign-in sets it.
pub(crate) async fn sign_in(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    posted: Posted,
) -> Response {
    let lang = Lang::of(&headers);
    let login = posted.text("login");
    let next = next_or_home(posted.first("next"));
    if !form_token_ok(&headers, &posted) {
        // A form from another site, or one older than its cookie: nothing is tried or counted.
        let error = Some(i18n::text(lang, "login.expired"));
        return login_page(&state, lang, StatusCode::FORBIDDEN, &login, &next, error).await;
    }
    match state.engine.sign_in(&login, posted.first("password").unwrap_or_default(), &client).await {
        Ok(session) => {
            let max_age = (session.expires_at - state.engine.current_time()).num_seconds().max(0);
            let mut response = see_other(&next);
            response.headers_mut().insert(header::SET_COOKIE, session_cookie(&session.secret, max_age, &headers));
            response
        }
        Err(EngineError::Unauthenticated) => {
            let error = Some(i18n::text(lang, "login.failed"));
            login_page(&state, lang, StatusCode::UNAUTHORIZED, &login, &next, error).await
        }
        Err(err @ EngineError::Refused { .. }) => {
            let error = Some(layout::reason(lang, &err));
            login_page(&state, lang, StatusCode::TOO_MANY_REQUESTS, &login, &next, error).await
        }
        Err(err) => {
            tracing::error!(error = %err, "sign-in failed");
            let error = Some(layout::reason(lang, &err));
            login_page(&state, lang, StatusCode::SERVICE_UNAVAILABLE, &login, &next, error).await
        }
    }
}

/// `POST /logout` (with the CSRF token).
pub(crate) async fn sign_out(State(state): State<AppState>, viewer: Viewer, headers: HeaderMap, posted: Posted) -> Page {
    if !viewer.csrf_ok(&posted) {
        return Err(layout::csrf_refused(&state, &viewer));
    }
    if let Some(secret) = cookie(&headers, SESSION_COOKIE) {
        state.engine.sign_out(&secret).await.map_err(|e| layout::fail(&state, &viewer, &e))?;
    }
    let mut response = see_other("/login");
    response.headers_mut().insert(header::SET_COOKIE, session_cookie("", 0, &headers));
    Ok(response)
}

/// `GET /lang/{zh|en}?next=`: remembers the language in a cookie and goes back.
pub(crate) async fn switch(Path(code): Path<String>, Query(p): Query<NextParam>) -> Response {
    let lang = Lang::parse(&code).unwrap_or_default();
    let mut response = see_other(p.next.as_deref().and_then(local_path).unwrap_or("/"));
    let cookie = format!("{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax", lang.as_str());
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}
