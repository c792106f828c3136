//! Who is calling: a bearer API token becomes an actor through the engine.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use fq_domain::actor::Actor;

use crate::AppState;
use crate::error::ApiError;

/// An authenticated caller. Rejects the request with 401 when there is no valid token.
#[derive(Debug)]
pub struct Caller(pub Actor);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "send Authorization: Bearer <token>"))?;
        let secret =
            value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")).map(str::trim).filter(|s| !s.is_empty()).ok_or_else(
                || ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "the Authorization header must be Bearer <token>"),
            )?;
        let actor = state.engine.authenticate_token(secret).await?;
        Ok(Caller(actor))
    }
}
