//! Programme KPIs for a region (aggregates only).

// utoipa's `path` macro names each IntoParams type with its module path, which this lint flags.
#![allow(unused_qualifications)]

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use fq_domain::region::RegionCode;
use fq_engine::KpiReport;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::api::query::ApiQuery;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/kpis", get(kpis))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct KpiParams {
    programme: String,
    /// Region code (default: the province, 33).
    region: Option<String>,
    /// Start of the period (RFC 3339; default 30 days ago).
    from: Option<DateTime<Utc>>,
    /// End of the period (default now).
    to: Option<DateTime<Utc>>,
}

/// The KPI report: totals, on-time rate, mean rating, per county, daily trend.
#[derive(Debug, serde::Serialize, ToSchema)]
pub(crate) struct KpiBody {
    #[schema(value_type = Object)]
    report: serde_json::Value,
}

/// KPIs of a programme in a region over a period.
#[utoipa::path(get, path = "/api/v1/kpis", tag = "kpis", params(KpiParams),
    responses((status = 200, body = KpiBody), (status = 403, body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub(crate) async fn kpis(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiQuery(p): ApiQuery<KpiParams>,
) -> Result<Json<KpiReport>, ApiError> {
    let region = RegionCode::parse(p.region.as_deref().unwrap_or("33").trim()).map_err(|e| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "region_code_invalid", e.to_string()).with_field("region")
    })?;
    let to = p.to.unwrap_or_else(Utc::now);
    let from = p.from.unwrap_or(to - Duration::days(30));
    Ok(Json(state.engine.kpi_report(&actor, &p.programme, &region, from, to).await?))
}
