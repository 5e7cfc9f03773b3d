//! HTTP: the Twilio-compatible REST resources, the event-callback webhook and health.
//!
//! This module and [`error`] are the only places that know HTTP status codes.

pub mod assets;
pub mod error;
mod events;
pub mod headers;
mod resources;
mod statistics;
mod webhook;

use std::sync::Arc;

use axum::Router;
use std::net::{IpAddr, SocketAddr};

use axum::extract::Path;
use axum::extract::rejection::PathRejection;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header;
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::collections::HashMap;
use wallboard_shared::error::codes;
use wallboard_shared::{AccountSid, TwilioError};

use crate::access::{Access, Denied};

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
    /// A reading connection to the event log (the Events resource).
    pub events: Arc<std::sync::Mutex<crate::storage::SqliteLog>>,
    /// With `--source twilio`: the upstream's numbers (else the local engine answers).
    pub mirror: Option<Arc<crate::source::mirror::Mirror>>,
    /// Reverse proxies whose `X-Forwarded-For` names the client (`--trusted-proxy`).
    pub trusted_proxies: Vec<IpAddr>,
    /// Account credentials, tokens and the failed-attempt limit.
    pub access: Arc<Access>,
    /// `Content-Security-Policy` of every response (with the `frame-ancestors` allowlist).
    pub security: headers::SecurityHeaders,
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
        .route("/Workspaces/{ws}/Events", get(events::list_events))
        .route("/Workspaces/{ws}/TaskChannels/{tc}", get(resources::fetch_channel))
        .route("/Workspaces/{ws}/Workflows/{wf}/Statistics", get(statistics::statistics))
        .route("/Workspaces/{ws}/Workflows/{wf}/RealTimeStatistics", get(statistics::realtime))
        .route("/Workspaces/{ws}/Workflows/{wf}/CumulativeStatistics", get(statistics::cumulative))
        .route_layer(middleware::from_fn_with_state(state.clone(), authorize))
        .fallback(|| async { ApiError::not_found("The requested resource was not found") });
    Router::new()
        .nest("/v1", v1)
        .route("/webhooks/taskrouter", post(webhook::taskrouter))
        .route("/ws", get(crate::ws::session::upgrade))
        .route("/healthz", get(|| async { "ok" }))
        .merge(assets::router(state.assets_dir.clone()))
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::map_response_with_state(state.clone(), headers::set_security_headers))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Authenticates every `/v1` request (account credentials or a token), refuses paths
/// outside a token's scope with 403, and hands the [`Principal`] to the handlers (lists
/// show only what it may see).
async fn authorize(
    State(state): State<AppState>,
    params: Result<Path<HashMap<String, String>>, PathRejection>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer =
        request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| client_ip(&state, c.0.ip(), request.headers()));
    let principal = match state.access.authenticate_headers(request.headers(), peer).await {
        Ok(p) => p,
        Err(denied) => return denied_response(&denied, request.headers()),
    };
    if let Ok(Path(params)) = &params {
        let ws = params.get("ws").map(String::as_str);
        let wf = params.get("wf").map(String::as_str);
        let allowed = match (ws, wf) {
            (Some(ws), Some(wf)) => principal.allows_workflow(ws, wf),
            (Some(ws), None) => principal.allows_workspace(ws),
            _ => true,
        };
        if !allowed {
            return ApiError::forbidden("This token does not give access to the requested resource").into_response();
        }
    }
    request.extensions_mut().insert(principal);
    next.run(request).await
}

/// The client's address: the peer, or, when the peer is a trusted reverse proxy
/// (`--trusted-proxy`), the nearest address in `X-Forwarded-For` that is not a trusted
/// proxy. Never taken from the header otherwise (anyone can write it).
pub fn client_ip(state: &AppState, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
    if !state.trusted_proxies.contains(&peer) {
        return peer;
    }
    let forwarded = headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>();
    forwarded
        .iter()
        .rev()
        .flat_map(|v| v.rsplit(','))
        .map(|a| a.trim().parse::<IpAddr>())
        .take_while(Result::is_ok)
        .flatten()
        .find(|ip| !state.trusted_proxies.contains(ip))
        .unwrap_or(peer)
}

/// The response to a refused authentication, in Twilio's error format. The challenge
/// names Bearer for token requests, so browsers never pop up a login dialog for them.
pub fn denied_response(denied: &Denied, headers: &HeaderMap) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.len() >= 7 && v[..7].eq_ignore_ascii_case("bearer "));
    match denied {
        Denied::RateLimited { retry_after_secs } => {
            let error = TwilioError::new(429, codes::TOO_MANY_REQUESTS, denied.message());
            let mut response = ApiError(error).into_response();
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            response
        }
        _ => {
            let error = TwilioError::new(401, codes::AUTHENTICATION, denied.message());
            let mut response = ApiError(error).into_response();
            let challenge = if bearer {
                "Bearer realm=\"Wallboard\", error=\"invalid_token\""
            } else {
                "Basic realm=\"Wallboard\""
            };
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
            response
        }
    }
}

/// Decodes a raw query string into pairs, or a 400.
pub(crate) fn query_pairs(raw: Option<&str>) -> ApiResult<Vec<(String, String)>> {
    serde_urlencoded::from_str(raw.unwrap_or(""))
        .map_err(|_| ApiError::invalid("the query string is not valid URL encoding"))
}
