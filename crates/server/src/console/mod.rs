//! The web console: server-rendered pages (minijinja templates embedded in the binary), forms
//! that work without JavaScript, a small hand-written script that only enhances, SVG charts and
//! maps drawn on the server. Simplified Chinese by default, English on request, from one
//! message catalogue. docs/CONSOLE.md describes the pages and who sees them.
//!
//! Every page needs a session (else 303 to `/login`); every form that changes something carries
//! the session's CSRF token. Handlers only parse, call one engine use case and draw: the engine
//! authorizes every read and action.

mod admin;
mod cases;
mod chart;
mod coins;
mod dashboard;
mod detail;
mod dispatch;
mod display;
mod documents;
mod export;
mod figures;
mod forms;
mod governance;
mod grids;
mod heatmap;
pub(crate) mod i18n;
mod inspection;
mod intake;
mod layout;
mod login;
pub(crate) mod map;
mod open311;
mod period;
mod raster;
mod registry;
mod scope;
mod sheets;
pub(crate) mod templates;
mod timeline;
mod trace;
mod trace_export;
mod track_record;
mod track_record_export;
mod viewer;
mod warnings;
mod work;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use axum::routing::{get, post};

use crate::AppState;

/// Headers of every console answer: no framing, scripts and styles only from this site, and no
/// caching of pages that may hold personal data.
async fn harden(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    response
}

/// Forms that may carry files take one file of the largest size accepted, plus the fields.
const FORM_WITH_FILES: usize = fq_engine::MAX_ATTACHMENT_BYTES + 1024 * 1024;

pub(crate) fn routes(state: AppState) -> Router<AppState> {
    // The API's per-address limit on sign-in attempts covers the console's sign-in too.
    let sign_ins = axum::middleware::from_fn_with_state(state, crate::limit::sign_ins);
    let files = || axum::extract::DefaultBodyLimit::max(FORM_WITH_FILES);
    Router::new()
        .route("/", get(work::page))
        .route("/login", get(login::form).post(login::sign_in).layer(sign_ins))
        .route("/logout", post(login::sign_out))
        .route("/lang/{code}", get(login::switch))
        .route("/cases", get(cases::list))
        .route("/cases/{number}", get(detail::show))
        .route("/cases/{number}/reveal", post(detail::reveal))
        .route("/cases/{number}/documents/{code}", post(documents::produce))
        .route("/cases/{number}/actions/{action}", post(detail::act).layer(files()))
        .route("/export/cases.csv", get(export::csv))
        .route("/export/cases.xlsx", get(export::xlsx))
        .route("/intake", get(intake::index))
        .route("/intake/{programme}/{kind}", get(intake::form).post(intake::open).layer(files()))
        .route("/dispatch", get(dispatch::board))
        .route("/dashboard", get(dashboard::page))
        .route("/figures", get(figures::page))
        .route("/registry", get(registry::page))
        .route("/warnings", get(warnings::page))
        .route("/index", get(governance::page))
        .route("/trace", get(trace::page).post(trace::run))
        .route("/trace/export.xlsx", post(trace_export::xlsx))
        .route("/coins", get(coins::page))
        .route("/coins/lookup", post(coins::lookup))
        .route("/coins/award", post(coins::award))
        .route("/coins/redeem", post(coins::redeem))
        .route("/heatmap", get(heatmap::page))
        .route("/heatmap.svg", get(heatmap::svg))
        .route("/heatmap.png", get(heatmap::png))
        .route("/heatmap/record", get(track_record::page))
        .route("/heatmap/record.xlsx", get(track_record::xlsx))
        .route("/inspection/ranking", get(inspection::ranking))
        .route("/inspection/evaluation", get(inspection::evaluation))
        .route("/admin", get(admin::index))
        .route("/admin/orgs", post(admin::create_org))
        .route("/admin/orgs/{id}", get(admin::org))
        .route("/admin/orgs/{id}/accounts", post(admin::create_account))
        .route("/admin/accounts/disabled", post(admin::set_disabled))
        .route("/admin/grids", get(grids::list))
        .route("/admin/grids/generate", post(grids::generate))
        .route("/admin/grids/import", post(grids::import).layer(files()))
        .route("/admin/open311", get(open311::page))
        .route("/admin/open311/add", post(open311::add))
        .route("/admin/open311/remove", post(open311::remove))
        .route("/static/{file}", get(templates::asset))
        .layer(axum::middleware::map_response(harden))
}

/// The console's sources, for the test that every message key they name exists.
#[cfg(test)]
pub(crate) const RUST_SOURCES: [&str; 21] = [
    include_str!("admin.rs"),
    include_str!("cases.rs"),
    include_str!("chart.rs"),
    include_str!("dashboard.rs"),
    include_str!("detail.rs"),
    include_str!("dispatch.rs"),
    include_str!("display.rs"),
    include_str!("export.rs"),
    include_str!("forms.rs"),
    include_str!("grids.rs"),
    include_str!("i18n.rs"),
    include_str!("intake.rs"),
    include_str!("layout.rs"),
    include_str!("login.rs"),
    include_str!("map.rs"),
    include_str!("mod.rs"),
    include_str!("scope.rs"),
    include_str!("templates.rs"),
    include_str!("timeline.rs"),
    include_str!("viewer.rs"),
    include_str!("work.rs"),
];
