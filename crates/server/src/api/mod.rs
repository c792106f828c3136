//! The JSON API under `/api/v1`, described by OpenAPI at `/api/openapi.json`.

pub(crate) mod accounts;
mod attachments;
pub(crate) mod cases;
mod inspection;
pub(crate) mod json;
mod kpis;
pub(crate) mod openapi;
mod orgs;
pub(crate) mod programmes;
pub(crate) mod query;
mod regions;
mod risk;
mod status;

use axum::Router;

use crate::AppState;

pub(crate) fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .merge(status::routes())
        .merge(regions::routes())
        .merge(orgs::routes())
        .merge(programmes::routes())
        .merge(cases::routes())
        .merge(attachments::routes())
        .merge(accounts::routes(state))
        .merge(kpis::routes())
        .merge(inspection::routes())
        .merge(risk::routes())
}
