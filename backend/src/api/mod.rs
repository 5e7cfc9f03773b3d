//! HTTP: the Twilio-compatible REST resources, the event-callback webhook and health.
//!
//! This module and [`error`] are the only places that know HTTP status codes.

pub mod assets;
pub mod error;
mod resources;
pub mod signature;
mod statistics;
mod webhook;

use std::sync::Arc;

use axum::Router;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use wallboard_shared::AccountSid;

use crate::cache::RealtimeCache;
use crate::clock::Clock;
use crate::ingest::{Ingest, SharedEngine};
use crate::ws::{Hub, WsConfig};
pub use error::{ApiError, ApiResult};

/// Largest request body accepted (event callbacks are a few KiB).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Everything a request handler may need; cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState(Arc<StateInner>);

#[derive(Debug)]
pub struct StateInner {
    pub engine: SharedEngine,
    pub ingest: Ingest,
    pub clock: Arc<dyn Clock>,
    pub account_sid: AccountSid,
    pub auth_token: String,
    /// Base of absolute URLs, without a trailing slash.
    pub public_url: String,
    pub retention_ms: i64,
    pub cache: Arc<RealtimeCache>,
    pub hub: Hub,
    pub ws_config: WsConfig,
    pub ws_permits: Arc<tokio::sync::Semaphore>,
    /// Loopback peers may read without credentials.
    pub loopback_viewers: bool,
    /// Where the dashboard's built files are.
    pub assets_dir: std::path::PathBuf,
    /// Cancelled when the server shuts down; long-lived sessions watch it.
    pub stop: tokio_util::sync::CancellationToken,
}

impl std::ops::Deref for AppState {
    type Target = StateInner;
    fn deref(&self) -> &StateInner {
        &self.0
    }
}

impl AppState {
    pub fn new(inner: StateInner) -> Self {
        Self(Arc::new(inner))
    }

    /// Reads the engine. The lock is never held across an `.await`.
    pub fn engine(&self) -> std::sync::RwLockReadGuard<'_, crate::engine::Engine> {
        self.engine.read().unwrap_or_else(|p| p.into_inner())
    }
}

/// The whole HTTP surface.
pub fn router(state: AppState) -> Router {
    let v1 = Router::new()
        .route("/Workspaces", get(resources::list_workspaces))
        .route("/Workspaces/{ws}", get(resources::fetch_workspace))
        .route("/Workspaces/{ws}/Workflows", get(resources::list_workflows))
        .route("/Workspaces/{ws}/Workflows/{wf}", get(resources::fetch_workflow))
        .route("/Workspaces/{ws}/TaskChannels", get(resources::list_channels))
        .route("/Workspaces/{ws}/TaskChannels/{tc}", get(resources::fetch_channel))
        .route("/Workspaces/{ws}/Workflows/{wf}/Statistics", get(statistics::statistics))
        .route("/Workspaces/{ws}/Workflows/{wf}/RealTimeStatistics", get(statistics::realtime))
        .route("/Workspaces/{ws}/Workflows/{wf}/CumulativeStatistics", get(statistics::cumulative))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_account))
        .fallback(|| async { ApiError::not_found("The requested resource was not found") });
    Router::new()
        .nest("/v1", v1)
        .route("/webhooks/taskrouter", post(webhook::taskrouter))
        .route("/ws", get(crate::ws::session::upgrade))
        .route("/healthz", get(|| async { "ok" }))
        .merge(assets::router(state.assets_dir.clone()))
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// HTTP Basic with the account SID and auth token, as Twilio's API.
async fn require_account(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    if may_view(&state, peer, request.headers()) {
        next.run(request).await
    } else {
        ApiError::unauthorized().into_response()
    }
}

/// Reading is allowed with the account credentials, or from a loopback peer when
/// `--loopback-viewers` is on (the built-in dashboard, until viewer tokens exist).
pub fn may_view(state: &AppState, peer: Option<SocketAddr>, headers: &axum::http::HeaderMap) -> bool {
    (state.loopback_viewers && peer.is_some_and(|p| p.ip().is_loopback())) || has_account_credentials(state, headers)
}

/// True when the request carries the account's Basic credentials.
pub fn has_account_credentials(state: &AppState, headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b64| STANDARD.decode(b64.trim()).ok())
        .and_then(|raw| String::from_utf8(raw).ok())
        .is_some_and(|pair| {
            let (user, pass) = pair.split_once(':').unwrap_or((&pair, ""));
            // Compare digests so the time taken says nothing about the secret.
            user == state.account_sid.as_str() && Sha256::digest(pass) == Sha256::digest(&state.auth_token)
        })
}

/// Decodes a raw query string into pairs, or a 400.
pub(crate) fn query_pairs(raw: Option<&str>) -> ApiResult<Vec<(String, String)>> {
    serde_urlencoded::from_str(raw.unwrap_or(""))
        .map_err(|_| ApiError::invalid("the query string is not valid URL encoding"))
}
