//! Who is calling: a bearer API token (integrations) or the console's session cookie, turned
//! into an actor by the engine.
//!
//! Cookie-authenticated requests that change anything must also carry the session's CSRF token,
//! in the `X-CSRF-Token` header (API) or the `csrf` form field (console forms); bearer requests
//! need none, because a browser never adds a bearer token by itself.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use fq_domain::actor::Actor;

use crate::AppState;
use crate::error::ApiError;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "fq_session";

/// An authenticated caller. Rejects the request with 401 when there are no valid credentials.
#[derive(Debug)]
pub struct Caller(pub Actor);

/// How the caller proved who it is.
#[derive(Debug, Clone)]
pub enum Credentials {
    Bearer,
    /// A console session, with its CSRF token.
    Session {
        csrf: String,
    },
}

/// The caller and how it signed in (for handlers that check CSRF themselves, such as forms).
#[derive(Debug)]
pub struct Signed {
    pub actor: Actor,
    pub credentials: Credentials,
}

/// The value of a cookie in the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn unauthenticated(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
}

/// Finds and checks the credentials of a request.
pub async fn signed(parts: &Parts, state: &AppState) -> Result<Signed, ApiError> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let secret = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| unauthenticated("the Authorization header must be Bearer <token>"))?;
        let actor = state.engine.authenticate_token(secret).await?;
        return Ok(Signed { actor, credentials: Credentials::Bearer });
    }
    if let Some(secret) = cookie(&parts.headers, SESSION_COOKIE) {
        let session =
            state.engine.session(&secret).await.map_err(|_| unauthenticated("your session has ended: sign in again"))?;
        return Ok(Signed { actor: session.actor, credentials: Credentials::Session { csrf: session.csrf } });
    }
    Err(unauthenticated("send Authorization: Bearer <token>, or sign in"))
}

/// Compares two secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        let signed = signed(parts, state).await?;
        if let Credentials::Session { csrf } = &signed.credentials {
            let changes = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
            let sent = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or("");
            if changes && !same_secret(sent, csrf) {
                return Err(ApiError::new(StatusCode::FORBIDDEN, "csrf_token_invalid", "send the session's X-CSRF-Token header"));
            }
        }
        Ok(Caller(signed.actor))
    }
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Signed, ApiError> {
        signed(parts, state).await
    }
}

/// The client's address, for the journal (`-` when the server was not told it, as in tests).
#[derive(Debug)]
pub struct ClientAddr(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<ClientAddr, Self::Rejection> {
        let peer = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip().to_string());
        Ok(ClientAddr(peer.unwrap_or_else(|| "-".into())))
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("lang=zh; fq_session=abc123; x=1"));
        assert_eq!(cookie(&headers, SESSION_COOKIE).as_deref(), Some("abc123"));
        assert_eq!(cookie(&headers, "missing"), None);
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }
}
