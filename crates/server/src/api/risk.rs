//! Risk events pushed by their sources (`data/risk/sources-v1.toml`), each with its own feed
//! account and that account's API tokens.

// utoipa's `path` macro names each IntoParams type with its module path, which this lint flags.
#![allow(unused_qualifications)]

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use fq_engine::IngestReport;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};

/// The largest body one push may carry.
const MAX_PUSH_BYTES: usize = 16 * 1024 * 1024;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/risk/sources/{code}/events", post(push).layer(axum::extract::DefaultBodyLimit::max(MAX_PUSH_BYTES)))
}

/// Pushes a file of events of a source (CSV or JSON, as the source is defined). All or nothing:
/// a body with a bad row stores nothing and answers 422 with every bad row; ids sent before are
/// skipped. Only the source's feed account may push.
#[utoipa::path(post, path = "/api/v1/risk/sources/{code}/events", tag = "risk", params(("code" = String, Path, description = "source code")),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = Object), (status = 422, body = Object), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn push(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(code): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<IngestReport>), ApiError> {
    let report = state.engine.ingest_risk_events(&actor, &code, &body).await?;
    let status = if report.bad.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok((status, Json(report)))
}
