//! The JSON API under `/api/v1`. (Issue 4 extends it with cases, accounts and OpenAPI.)

mod json;
mod orgs;
mod regions;
mod status;

use axum::Router;

use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().merge(status::routes()).merge(regions::routes()).merge(orgs::routes())
}
