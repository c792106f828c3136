//! The vehicle-inspection review (programme `inspection`): stations push records one at a time
//! or as a batch (one JSON object per line); the record of a case for whoever may see that case
//! (a reviewer only their assigned ones); the station ranking and the sub-centre evaluation for
//! supervisors and leaders.

// utoipa's `path` macro names each IntoParams type with its module path, which this lint flags.
#![allow(unused_qualifications)]

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use fq_domain::inspection::InspectionRecord;
use fq_engine::{EvaluationView, InspectionImport, Received, StationRank};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::api::json::ApiJson;
use crate::api::query::ApiQuery;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};

/// The largest batch accepted in one request (a day of a large station, with room).
const MAX_BATCH_BYTES: usize = 32 * 1024 * 1024;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/inspection/records", post(push))
        .route("/inspection/batches", post(batch).layer(axum::extract::DefaultBodyLimit::max(MAX_BATCH_BYTES)))
        .route("/inspection/records/{id}", get(record))
        .route("/inspection/ranking", get(ranking))
        .route("/inspection/evaluation", get(evaluation))
}

/// Receives one inspection record: checked, reviewed against the standard, stored and drawn to
/// a reviewer of another county. Needs the station role over the record's county.
#[utoipa::path(post, path = "/api/v1/inspection/records", tag = "inspection", request_body = Object,
    responses((status = 201, body = Object), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn push(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiJson(record): ApiJson<InspectionRecord>,
) -> Result<(StatusCode, Json<Received>), ApiError> {
    let received = state.engine.receive_inspection(&actor, record, "station_push").await?;
    Ok((StatusCode::CREATED, Json(received)))
}

/// Receives a batch of records, one JSON object per line (`application/x-ndjson`). A batch
/// with any bad line stores nothing and answers 422 with every bad line named; records
/// received before are skipped. `?dry_run=true` checks without storing.
#[utoipa::path(post, path = "/api/v1/inspection/batches", tag = "inspection", params(BatchParams),
    request_body(content = String, content_type = "application/x-ndjson"),
    responses((status = 200, body = Object), (status = 422, body = Object), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn batch(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiQuery(p): ApiQuery<BatchParams>,
    body: String,
) -> Result<(StatusCode, Json<InspectionImport>), ApiError> {
    let report = state.engine.import_inspections(&actor, &body, p.dry_run.unwrap_or(false)).await?;
    let status = if report.bad.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok((status, Json(report)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct BatchParams {
    dry_run: Option<bool>,
}

/// The inspection record of a case, for those who may see the case: a reviewer only the
/// records assigned to them (404 otherwise).
#[utoipa::path(get, path = "/api/v1/inspection/records/{id}", tag = "inspection", params(("id" = String, Path, description = "case id or number")),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub(crate) async fn record(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<InspectionRecord>, ApiError> {
    let view = state.engine.find_case(&actor, &id).await?;
    let record = state.engine.inspection_record(&actor, view.case.id).await?;
    record.map(Json).ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("{id} is not an inspection record")))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RankingParams {
    /// City code (4 digits), e.g. 3307 for 金华.
    city: String,
    /// `YYYY-MM` (Beijing calendar).
    month: String,
}

/// The stations of a city ranked by the month's points, with the rank the month before.
#[utoipa::path(get, path = "/api/v1/inspection/ranking", tag = "inspection", params(RankingParams),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn ranking(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiQuery(p): ApiQuery<RankingParams>,
) -> Result<Json<Vec<StationRank>>, ApiError> {
    let first = NaiveDate::parse_from_str(&format!("{}-01", p.month.trim()), "%Y-%m-%d")
        .ok()
        .filter(|d| fq_domain::calendar::plausible_day(*d))
        .ok_or_else(|| {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "month_invalid", "month is YYYY-MM").with_field("month")
        })?;
    use chrono::Datelike as _;
    Ok(Json(state.engine.station_ranking(&actor, p.city.trim(), first.year(), first.month()).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct EvaluationParams {
    city: String,
    /// Start (RFC 3339; default 30 days ago).
    from: Option<DateTime<Utc>>,
    /// End (default now).
    to: Option<DateTime<Utc>>,
}

/// Per county of the reviewers and per reviewer: reviews, mean time, rejections by reason,
/// re-check disagreements, for the records received in the period.
#[utoipa::path(get, path = "/api/v1/inspection/evaluation", tag = "inspection", params(EvaluationParams),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub(crate) async fn evaluation(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiQuery(p): ApiQuery<EvaluationParams>,
) -> Result<Json<EvaluationView>, ApiError> {
    let to = p.to.unwrap_or_else(Utc::now);
    let from = p.from.unwrap_or(to - Duration::days(30));
    Ok(Json(state.engine.inspection_evaluation(&actor, p.city.trim(), from, to).await?))
}
