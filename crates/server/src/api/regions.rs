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
    Router::new().route("/regions/{code}", get(region))
}

#[derive(Debug, Serialize)]
struct RegionView {
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

#[derive(Debug, Serialize)]
struct RegionWithChildren {
    #[serde(flatten)]
    region: RegionView,
    children: Vec<RegionView>,
}

async fn region(State(state): State<AppState>, Path(code): Path<String>) -> Result<Json<RegionWithChildren>, ApiError> {
    let code = RegionCode::parse(&code)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "region_code_invalid", e.to_string()).with_field("code"))?;
    let region = state.engine.region(&code).await?;
    let children = state.engine.region_children(&code).await?;
    Ok(Json(RegionWithChildren { region: RegionView::from(&region), children: children.iter().map(RegionView::from).collect() }))
}
