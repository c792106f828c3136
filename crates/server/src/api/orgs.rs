//! Organisations: create (admin), read and list (within the caller's scope).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use fq_domain::org::{OrgId, Organisation};
use fq_domain::region::RegionCode;
use fq_engine::NewOrganisation;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::AppState;
use crate::api::json::ApiJson;
use crate::api::query::ApiQuery;
use crate::auth::Caller;
use crate::error::ApiError;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/organisations", get(list).post(create)).route("/organisations/{id}", get(one))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct OrganisationView {
    id: Uuid,
    name: String,
    kind: &'static str,
    region: String,
    parent: Option<Uuid>,
    demo: bool,
}

impl From<Organisation> for OrganisationView {
    fn from(org: Organisation) -> OrganisationView {
        OrganisationView {
            id: org.id.0,
            name: org.name,
            kind: org.kind.as_str(),
            region: org.region.to_string(),
            parent: org.parent.map(|p| p.0),
            demo: org.demo,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Created {
    organisation: OrganisationView,
    /// The journal sequence number of the `organisation.created` event.
    journal_seq: u64,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateBody {
    name: String,
    kind: String,
    region: String,
    #[serde(default)]
    parent: Option<Uuid>,
}

/// Creates an organisation (admin over its region).
#[utoipa::path(post, path = "/api/v1/organisations", tag = "organisations", request_body = CreateBody,
    responses((status = 201, body = Created), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let request = NewOrganisation { name: body.name, kind: body.kind, region: body.region, parent: body.parent };
    let (org, journal_seq) = state.engine.create_organisation(&actor, request).await?;
    Ok((StatusCode::CREATED, Json(Created { organisation: org.into(), journal_seq })))
}

/// One organisation within your scope.
#[utoipa::path(get, path = "/api/v1/organisations/{id}", tag = "organisations", params(("id" = Uuid, Path)),
    responses((status = 200, body = OrganisationView), (status = 404, body = crate::error::ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub(crate) async fn one(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<Uuid>,
) -> Result<Json<OrganisationView>, ApiError> {
    Ok(Json(state.engine.organisation(&actor, OrgId(id)).await?.into()))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    region: String,
}

/// Organisations within a region (and your scope).
#[utoipa::path(get, path = "/api/v1/organisations", tag = "organisations", params(ListQuery),
    responses((status = 200, body = [OrganisationView]), (status = 422, body = crate::error::ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Vec<OrganisationView>>, ApiError> {
    let region = RegionCode::parse(&query.region).map_err(|e| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "region_code_invalid", e.to_string()).with_field("region")
    })?;
    let orgs = state.engine.organisations_within(&actor, &region).await?;
    Ok(Json(orgs.into_iter().map(OrganisationView::from).collect()))
}
