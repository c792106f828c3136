//! Drawing a console page: the page's own data plus what every page shows (the account, the
//! navigation, the language switch, the CSRF token for the sign-out form), and the error pages.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use fq_domain::Coded;
use fq_engine::EngineError;
use fq_store::StoreError;
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::Serialize;

use super::i18n::{self, Lang};
use super::viewer::Viewer;
use crate::AppState;

/// A console handler's answer: a page or a redirect, or an error page.
pub(crate) type Page = Result<Response, Response>;

#[derive(Debug, Serialize)]
struct UserChrome<'a> {
    display_name: &'a str,
    login: &'a str,
    demo: bool,
}

/// Percent-encodes a query value.
pub(crate) fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// A 303 redirect (after a form, or to sign in).
pub(crate) fn see_other(path: &str) -> Response {
    Redirect::to(path).into_response()
}

fn draw(state: &AppState, template: &str, ctx: Value, status: StatusCode) -> Response {
    match state.pages.render(template, ctx) {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "页面无法显示 / the page could not be drawn").into_response(),
    }
}

/// The template's name without `.html`, set on `<body data-page>`.
fn stem(template: &str) -> &str {
    template.trim_end_matches(".html")
}

/// A page for a signed-in viewer.
pub(crate) fn page(state: &AppState, viewer: &Viewer, template: &str, ctx: Value) -> Response {
    page_with_status(state, viewer, StatusCode::OK, template, ctx)
}

pub(crate) fn page_with_status(state: &AppState, viewer: &Viewer, status: StatusCode, template: &str, ctx: Value) -> Response {
    let account = viewer.account();
    let user = UserChrome { display_name: &account.display_name, login: account.login.as_str(), demo: account.demo };
    let chrome = context! {
        lang => viewer.lang.as_str(),
        csrf => viewer.csrf.as_deref(),
        user => value(&user),
        nav => value(&viewer.nav),
        here => encode(&viewer.here),
        page => stem(template),
    };
    draw(state, template, context! { ..ctx, ..chrome }, status)
}

/// A page for someone not signed in (the sign-in page).
pub(crate) fn public_page(state: &AppState, lang: Lang, here: &str, status: StatusCode, template: &str, ctx: Value) -> Response {
    let chrome = context! { lang => lang.as_str(), here => encode(here), page => stem(template) };
    draw(state, template, context! { ..ctx, ..chrome }, status)
}

/// The error page: a status, a title and a message, never data.
pub(crate) fn error_page(state: &AppState, viewer: &Viewer, status: StatusCode, title: &str, message: &str) -> Response {
    let ctx = context! { status => status.as_u16(), title => title, message => message };
    page_with_status(state, viewer, status, "error.html", ctx)
}

/// 403: the viewer's roles do not open this page.
pub(crate) fn denied(state: &AppState, viewer: &Viewer) -> Response {
    let lang = viewer.lang;
    error_page(state, viewer, StatusCode::FORBIDDEN, &i18n::text(lang, "err.denied_title"), &i18n::text(lang, "err.denied"))
}

/// 404: nothing here, or nothing the viewer may see (the same answer, so existence does not leak).
pub(crate) fn not_found(state: &AppState, viewer: &Viewer) -> Response {
    let lang = viewer.lang;
    error_page(state, viewer, StatusCode::NOT_FOUND, &i18n::text(lang, "err.not_found_title"), &i18n::text(lang, "err.not_found"))
}

/// 403: a form without the session's CSRF token.
pub(crate) fn csrf_refused(state: &AppState, viewer: &Viewer) -> Response {
    let lang = viewer.lang;
    error_page(state, viewer, StatusCode::FORBIDDEN, &i18n::text(lang, "err.csrf_title"), &i18n::text(lang, "err.csrf"))
}

/// The engine's reason in the viewer's language: the catalogue's text for its code when there
/// is one, the engine's own message otherwise.
pub(crate) fn reason(lang: Lang, err: &EngineError) -> String {
    let key = format!("err.{}", err.code());
    let known = i18n::has(&key);
    match err {
        EngineError::Store(StoreError::Unavailable { .. } | StoreError::Closed) => i18n::text(lang, "err.unavailable"),
        EngineError::Store(StoreError::Missing { .. }) => i18n::text(lang, "err.not_found"),
        EngineError::Store(_) => i18n::text(lang, "err.internal"),
        _ if known && lang == Lang::Zh => format!("{}（{}）", i18n::text(lang, &key), err),
        _ => err.to_string(),
    }
}

/// The page for an engine error that no form can show next to a field.
pub(crate) fn fail(state: &AppState, viewer: &Viewer, err: &EngineError) -> Response {
    let lang = viewer.lang;
    match err {
        EngineError::NotFound { .. } | EngineError::Store(StoreError::Missing { .. }) => not_found(state, viewer),
        EngineError::Forbidden(_) | EngineError::Denied { .. } => {
            let message = format!("{} {}", i18n::text(lang, "err.denied"), reason(lang, err));
            error_page(state, viewer, StatusCode::FORBIDDEN, &i18n::text(lang, "err.denied_title"), &message)
        }
        EngineError::Unauthenticated => see_other("/login"),
        EngineError::Invalid { .. } | EngineError::Refused { .. } | EngineError::Conflict { .. } => {
            let status =
                if matches!(err, EngineError::Invalid { .. }) { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::CONFLICT };
            error_page(state, viewer, status, &i18n::text(lang, "err.refused_title"), &reason(lang, err))
        }
        EngineError::Store(StoreError::Unavailable { .. } | StoreError::Closed) => error_page(
            state,
            viewer,
            StatusCode::SERVICE_UNAVAILABLE,
            &i18n::text(lang, "err.internal_title"),
            &reason(lang, err),
        ),
        EngineError::Store(_) => {
            tracing::error!(error = %err, "console page failed");
            error_page(
                state,
                viewer,
                StatusCode::INTERNAL_SERVER_ERROR,
                &i18n::text(lang, "err.internal_title"),
                &reason(lang, err),
            )
        }
    }
}

/// A value for a template from anything serializable.
pub(crate) fn value<T: Serialize>(data: &T) -> Value {
    Value::from(Serde(data))
}

/// 500 for a failure that is ours (a file that could not be written), logged; the viewer reads
/// the general apology, never the detail.
pub(crate) fn internal(state: &AppState, viewer: &Viewer, error: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %error, "a console request failed");
    let lang = viewer.lang;
    let status = StatusCode::INTERNAL_SERVER_ERROR;
    error_page(state, viewer, status, &i18n::text(lang, "err.internal_title"), &i18n::text(lang, "err.internal"))
}

/// A file to download.
pub(crate) fn attachment(body: Vec<u8>, content_type: &'static str, name: &str) -> Response {
    use axum::http::{HeaderValue, header};
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}
