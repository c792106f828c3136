//! The console's templates and static files, embedded in the binary, and the template
//! environment they are rendered with.

use std::borrow::Cow;

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::{Environment, UndefinedBehavior};

use super::i18n;

/// `crates/server/templates/`: pages, partials, macros and the message catalogue.
#[derive(rust_embed::RustEmbed)]
#[folder = "templates/"]
pub(crate) struct Templates;

/// `crates/server/static/`: the stylesheet and the small enhancing script.
#[derive(rust_embed::RustEmbed)]
#[folder = "static/"]
pub(crate) struct Static;

/// `25547` → `25,547`.
pub(crate) fn thousands(value: u64) -> String {
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

/// The environment every console page is rendered with. Templates are compiled on first use.
pub(crate) fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    // A misspelt variable fails the page (and the test that renders every template) instead of
    // printing nothing; `{% if x %}` on a missing `x` stays allowed.
    env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    // Drawings escape names as markup too (a grid named "<a&b>" must not break the SVG).
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".svg") { minijinja::AutoEscape::Html } else { minijinja::default_auto_escape_callback(name) }
    });
    env.set_loader(|name| Ok(Templates::get(name).map(|file| String::from_utf8_lossy(&file.data).into_owned())));
    env.add_filter("thousands", thousands);
    env.add_function("t", i18n::template_t);
    env.add_global("version", env!("CARGO_PKG_VERSION"));
    env
}

/// `GET /static/{file}`.
pub(crate) async fn asset(Path(file): Path<String>) -> Response {
    let Some(found) = Static::get(&file) else { return StatusCode::NOT_FOUND.into_response() };
    let kind = match file.rsplit_once('.').map(|(_, ext)| ext) {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    };
    let body: Cow<'static, [u8]> = found.data;
    let mut response = body.into_owned().into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
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
