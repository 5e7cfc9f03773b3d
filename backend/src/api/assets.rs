//! The dashboard's static files: `index.html` never cached, everything else (file names
//! carry the build id) cached for a year; precompressed `.gz` siblings used when present.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use tower_http::services::ServeDir;

use super::ApiError;

/// File holding the build id inside the assets directory.
pub const BUILD_ID_FILE: &str = "build-id.txt";

/// The build id of the dashboard in `dir`, if it is built.
pub fn build_id(dir: &Path) -> Option<String> {
    std::fs::read_to_string(dir.join(BUILD_ID_FILE)).ok().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// Routes serving the dashboard from `dir` (falls back to a help page when not built).
pub fn router<S: Clone + Send + Sync + 'static>(dir: PathBuf) -> Router<S> {
    let built = dir.join("index.html").is_file();
    let id = build_id(&dir).unwrap_or_else(|| "unbuilt".into());
    let build = get(move || {
        let id = id.clone();
        async move { ([(header::CACHE_CONTROL, "no-cache"), (header::CONTENT_TYPE, "text/plain")], id) }
    });
    if !built {
        tracing::warn!(dir = %dir.display(), "the dashboard is not built; run scripts/build-frontend.sh");
        return Router::new()
            .route("/build-id", build)
            .route("/", get(not_built))
            .fallback(|| async { ApiError::not_found("The requested resource was not found") });
    }
    let files = ServeDir::new(&dir).precompressed_gzip().not_found_service(axum::routing::any(|| async {
        ApiError::not_found("The requested resource was not found")
    }));
    Router::new()
        .route("/build-id", build)
        .fallback_service(files)
        .layer(middleware::from_fn(cache_headers))
        .layer(middleware::from_fn(only_nameable_paths))
}

/// Longest file name a file system takes (`NAME_MAX` on Linux and macOS), in bytes.
const NAME_MAX: usize = 255;

/// Turns away paths that cannot name a file before the file service opens anything:
/// the operating system would refuse them with errors (`ENAMETOOLONG`, a NUL byte that
/// no C string can hold) that the file service reports as 500, when the honest answer
/// is that no such file exists.
async fn only_nameable_paths(request: Request, next: Next) -> Response {
    if nameable(request.uri().path()) {
        next.run(request).await
    } else {
        ApiError::not_found("The requested resource was not found").into_response()
    }
}

/// Whether `path` (as sent, percent-encoded) can name a file under the assets directory:
/// every decoded segment is at most [`NAME_MAX`] bytes and holds no control character.
/// Anything else (`..`, invalid UTF-8) the file service already answers with 404.
fn nameable(path: &str) -> bool {
    let decoded = percent_decode(path.as_bytes());
    decoded.split(|b| *b == b'/').all(|segment| segment.len() <= NAME_MAX && !segment.iter().any(u8::is_ascii_control))
}

/// Percent-decodes `raw` as the file service does: `%XY` with two hex digits is a byte,
/// anything else (a lone `%` included) stands for itself.
fn percent_decode(raw: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok());
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let pair =
            (raw[i] == b'%').then(|| raw.get(i + 1).copied().and_then(hex).zip(raw.get(i + 2).copied().and_then(hex)));
        match pair.flatten() {
            Some((high, low)) => {
                out.push(high << 4 | low);
                i += 3;
            }
            None => {
                out.push(raw[i]);
                i += 1;
            }
        }
    }
    out
}

async fn cache_headers(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    if response.status() == StatusCode::OK && !response.headers().contains_key(header::CACHE_CONTROL) {
        let value =
            if path == "/" || path.ends_with(".html") { "no-cache" } else { "public, max-age=31536000, immutable" };
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    response
}

async fn not_built() -> impl IntoResponse {
    Html(
        "<!doctype html><meta charset=utf-8><link rel=icon href=\"data:,\"><title>Wallboard</title>\
         <p>The dashboard is not built. Run <code>scripts/run.sh</code> (or <code>scripts/build-frontend.sh</code>) \
         and restart. The API is at <a href=\"/v1/Workspaces\">/v1/Workspaces</a>.</p>",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_follows_percent_escapes_only_when_complete() {
        assert_eq!(percent_decode(b"/a%20b"), b"/a b");
        assert_eq!(percent_decode(b"/%00"), b"/\0");
        assert_eq!(percent_decode(b"/%C3%28"), b"/\xC3(");
        assert_eq!(percent_decode(b"/100%"), b"/100%");
        assert_eq!(percent_decode(b"/%zz%4"), b"/%zz%4");
    }

    #[test]
    fn names_a_file_system_refuses_are_not_nameable() {
        assert!(nameable("/"));
        assert!(nameable("/wallboard-abc123.js"));
        assert!(nameable(&format!("/{}", "a".repeat(NAME_MAX))));
        assert!(!nameable(&format!("/{}", "a".repeat(NAME_MAX + 1))));
        assert!(!nameable(&format!("/{}", "%61".repeat(NAME_MAX + 1))));
        assert!(!nameable("/%00"));
        assert!(!nameable("/a%0Ab"));
        assert!(!nameable("/a%7Fb"));
        // Left to the file service, which answers 404 for them by itself.
        assert!(nameable("/%2e%2e/etc/passwd"));
        assert!(nameable("/%FF"));
    }
}
