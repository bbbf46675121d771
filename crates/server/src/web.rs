//! The dashboard: plain HTML, CSS and JavaScript embedded in the binary (no Node at run time),
//! and the security headers every response carries.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "web/"]
struct Assets;

pub(crate) fn router() -> Router {
    Router::new()
        .route("/", get(index))
        .route("/static/{*path}", get(asset))
}

async fn index() -> Response {
    serve_file("index.html")
}

async fn asset(Path(path): Path<String>) -> Response {
    serve_file(&path)
}

/// Only embedded files exist here: a request path can never reach the disk.
fn serve_file(path: &str) -> Response {
    match Assets::get(path) {
        Some(file) => (
            [
                (header::CONTENT_TYPE, mime(path)),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            file.data.into_owned(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

fn mime(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

/// Headers for every response: no framing, no sniffing, scripts and styles only from here.
pub(crate) async fn security_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    let set = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
    ];
    for (k, v) in set {
        h.insert(k, HeaderValue::from_static(v));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dashboard_is_embedded() {
        for f in ["index.html", "app.js", "style.css"] {
            assert!(Assets::get(f).is_some(), "{f}");
        }
        assert!(Assets::get("../Cargo.toml").is_none());
    }
}
