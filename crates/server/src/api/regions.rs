//! `GET /api/v1/regions/{code}`: a region and its children. The division tree is public
//! reference data, so no token is needed.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use fq_domain::region::{Region, RegionCode};
use serde::Serialize;

use crate::AppState;
use crate::error::ApiError;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/regions/{code}", get(region)).route("/regions/{code}/grids", get(grids))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct RegionView {
    code: String,
    name: String,
    level: &'static str,
    parent: Option<String>,
    retired: bool,
}

impl From<&Region> for RegionView {
    fn from(region: &Region) -> RegionView {
        let level = match region.level() {
            fq_domain::region::RegionLevel::Province => "province",
            fq_domain::region::RegionLevel::City => "city",
            fq_domain::region::RegionLevel::County => "county",
            fq_domain::region::RegionLevel::Town => "town",
            fq_domain::region::RegionLevel::Village => "village",
        };
        RegionView {
            code: region.code.to_string(),
            name: region.name.clone(),
            level,
            parent: region.code.parent().map(|p| p.to_string()),
            retired: region.retired,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct RegionWithChildren {
    #[serde(flatten)]
    region: RegionView,
    children: Vec<RegionView>,
}

/// A region and its children. Public reference data.
#[utoipa::path(get, path = "/api/v1/regions/{code}", tag = "regions", params(("code" = String, Path)),
    responses((status = 200, body = RegionWithChildren), (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn region(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<RegionWithChildren>, ApiError> {
    let code = RegionCode::parse(&code)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "region_code_invalid", e.to_string()).with_field("code"))?;
    let region = state.engine.region(&code).await?;
    let children = state.engine.region_children(&code).await?;
    Ok(Json(RegionWithChildren { region: RegionView::from(&region), children: children.iter().map(RegionView::from).collect() }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct GridView {
    code: String,
    name: String,
    region: String,
    kind: String,
    /// Generated demonstration cells, not real grids.
    generated: bool,
    /// The outline as a GeoJSON geometry.
    #[schema(value_type = Object)]
    geometry: serde_json::Value,
}

/// The grids (网格) within a region and your scope.
#[utoipa::path(get, path = "/api/v1/regions/{code}/grids", tag = "regions", params(("code" = String, Path)),
    responses((status = 200, body = [GridView]), (status = 422, body = crate::error::ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub(crate) async fn grids(
    State(state): State<AppState>,
    crate::auth::Caller(actor): crate::auth::Caller,
    Path(code): Path<String>,
) -> Result<Json<Vec<GridView>>, ApiError> {
    let code = RegionCode::parse(&code)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "region_code_invalid", e.to_string()).with_field("code"))?;
    let grids = state.engine.grids_within(&actor, &code).await?;
    Ok(Json(
        grids
            .into_iter()
            .map(|g| GridView {
                code: g.code.to_string(),
                name: g.name.clone(),
                region: g.region.to_string(),
                kind: g.kind.as_str().to_owned(),
                generated: g.generated,
                geometry: serde_json::from_str(&fq_domain::geometry::area_to_geojson_text(&g.area))
                    .unwrap_or(serde_json::Value::Null),
            })
            .collect(),
    ))
}
