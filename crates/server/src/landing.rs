//! The landing page at `/`: what is running, on which database, with the region counts. (The
//! console replaces it when it arrives; this page stays its first panel.)

use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use minijinja::value::Serde;
use minijinja::{Environment, Value, context};

use crate::AppState;
use crate::error::ApiError;

/// Templates compiled once at start.
#[derive(Debug)]
pub(crate) struct Pages {
    env: Environment<'static>,
}

/// `25547` → `25,547`.
fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (idx, ch) in digits.chars().enumerate() {
        if idx > 0 && (digits.len() - idx).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

impl Pages {
    pub(crate) fn new() -> Pages {
        let mut env = Environment::new();
        env.add_filter("thousands", thousands);
        env.add_template("landing.html", include_str!("../templates/landing.html")).expect("the landing template parses");
        Pages { env }
    }

    fn render(&self, name: &str, ctx: Value) -> Result<String, ApiError> {
        self.env.get_template(name).and_then(|t| t.render(ctx)).map_err(|e| {
            tracing::error!(error = %e, template = name, "template failed");
            ApiError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, "template_failed", "the page could not be drawn")
        })
    }
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/", get(landing))
}

async fn landing(State(state): State<AppState>) -> Result<Html<String>, ApiError> {
    let status = state.engine.status().await?;
    let page = state.pages.render("landing.html", context! { status => Value::from(Serde(&status)) })?;
    Ok(Html(page))
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn groups_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_387), "1,387");
        assert_eq!(thousands(25_547), "25,547");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
