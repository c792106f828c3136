//! `GET /api/v1/status`: the landing page's facts as JSON.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use fq_engine::Status;

use crate::AppState;
use crate::error::ApiError;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/status", get(status))
}

/// What is running: version, backend, region and journal counts. Public.
#[utoipa::path(get, path = "/api/v1/status", tag = "status", responses((status = 200, body = Object)))]
pub(crate) async fn status(State(state): State<AppState>) -> Result<Json<Status>, ApiError> {
    Ok(Json(state.engine.status().await?))
}
