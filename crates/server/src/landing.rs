//! The public facts of the instance (what is running, on which database, the region counts and
//! the demo-data notice): a panel on the console's sign-in page, and the page `/about`.
//!
//! [`Pages`] also holds what every console page shares: the template environment and the county
//! outlines of the dashboard map.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use minijinja::value::Serde;
use minijinja::{Environment, Value, context};

use crate::AppState;
use crate::console::{i18n, map, templates};
use crate::error::ApiError;

/// Templates compiled once (on first use), and the county outlines read once.
#[derive(Debug)]
pub(crate) struct Pages {
    env: Environment<'static>,
    pub(crate) counties: tokio::sync::OnceCell<Arc<Vec<map::CountyShape>>>,
}

impl Pages {
    pub(crate) fn new() -> Pages {
        Pages { env: templates::environment(), counties: tokio::sync::OnceCell::new() }
    }

    /// Renders a template; a failure is logged with its detail and named by the template only.
    pub(crate) fn render(&self, name: &str, ctx: Value) -> Result<String, ApiError> {
        self.env.get_template(name).and_then(|t| t.render(ctx)).map_err(|e| {
            tracing::error!(error = %e, detail = ?e.detail(), template = name, "template failed");
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "template_failed", "the page could not be drawn")
        })
    }
}

/// The facts panel's data: the engine's status, with the demo seeding time in Beijing time.
#[derive(Debug, serde::Serialize)]
struct Facts {
    #[serde(flatten)]
    status: fq_engine::Status,
    demo_seeded: Option<String>,
}

pub(crate) async fn facts(state: &AppState) -> Result<Value, ApiError> {
    let status = state.engine.status().await?;
    let demo_seeded = status.demo_seeded_at.as_deref().map(|at| match chrono::DateTime::parse_from_rfc3339(at) {
        Ok(at) => at.with_timezone(&fq_domain::calendar::beijing()).format("%Y-%m-%d %H:%M").to_string(),
        Err(_) => at.to_owned(),
    });
    Ok(Value::from(Serde(&Facts { status, demo_seeded })))
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/about", get(about))
}

/// `GET /about`: the facts alone, public.
async fn about(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let lang = i18n::Lang::of(&headers);
    let ctx = context! { status => facts(&state).await?, lang => lang.as_str(), page => "landing", here => "/about" };
    Ok(Html(state.pages.render("landing.html", ctx)?).into_response())
}
