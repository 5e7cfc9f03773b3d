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
    Router::new().route("/build-id", build).fallback_service(files).layer(middleware::from_fn(cache_headers))
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
