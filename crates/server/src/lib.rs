//! fengqiao's HTTP server. Architecture invariant: the only crate that knows HTTP.
//!
//! The server is a library: [`serve`] takes a bound listener and a shutdown future, so tests bind
//! port 0 and the CLI binds the configured address. Handlers parse and authenticate, call one
//! engine use case, and map the result; authorization is the engine's.

mod api;
mod auth;
mod console;
mod error;
mod health;
mod landing;
mod limit;
mod open311;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use fq_engine::Engine;
use tokio::net::TcpListener;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use api::openapi::openapi_json;
pub use error::ApiError;

/// Shared by every handler.
#[derive(Clone, Debug)]
pub struct AppState {
    pub engine: Engine,
    pages: Arc<landing::Pages>,
    pub(crate) sign_ins: limit::SignInLimiter,
}

impl AppState {
    pub fn new(engine: Engine) -> AppState {
        AppState { engine, pages: Arc::new(landing::Pages::new()), sign_ins: limit::SignInLimiter::new() }
    }
}

/// Largest request body accepted (uploads get their own limit when they arrive).
const BODY_LIMIT: usize = 1024 * 1024;

/// The whole application as a router, for in-process tests.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(health::routes())
        .merge(landing::routes())
        .nest("/api/v1", api::routes(state.clone()))
        .merge(console::routes(state.clone()))
        .merge(open311::routes())
        .merge(
            utoipa_swagger_ui::SwaggerUi::new("/api/docs")
                .url("/api/openapi.json", <api::openapi::ApiDoc as utoipa::OpenApi>::openapi()),
        )
        // Bodies are capped by axum's extractors (attachments raise their own cap on their route).
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(30)))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves until `shutdown` completes, then finishes the requests in flight.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state).into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}
