//! HTTP: the Twilio-compatible REST resources, the event-callback webhook, the HTTP half
//! of the WebSocket upgrade, `/metrics`, and the `authorize` middleware. The routes are assembled by
//! the composition root ([`crate::startup::router`]).
//!
//! This module and [`error`] are the only places that know HTTP status codes.

pub mod alerts;
pub mod assets;
pub mod error;
pub mod events;
pub mod eventstreams;
pub mod export;
pub mod headers;
pub mod health;
pub mod history;
pub mod metrics;
pub mod queues;
pub mod resources;
pub mod service_levels;
pub mod statistics;
pub mod upgrade;
pub mod webhook;
pub mod workers;
pub mod workspace;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use axum::extract::Path;
use axum::extract::rejection::PathRejection;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header;
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use wallboard_shared::TwilioError;
use wallboard_shared::error::codes;

use crate::access::{Denied, Principal};
use crate::state::AppState;
pub use error::{ApiError, ApiResult};

/// Largest request body accepted (event callbacks are a few KiB).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Authenticates every `/v1` request (account credentials or a token), refuses paths
/// outside a token's scope with 403, and hands the [`Principal`] to the handlers (lists
/// show only what it may see).
pub async fn authorize(
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

/// Refuses workspace-wide resources (task queues, workers, activities, the workspace's
/// statistics) to a token limited to some workflows: their numbers are about every
/// workflow of the workspace. Runs inside [`authorize`], which put the [`Principal`] in
/// the request.
pub async fn require_whole_workspace(
    params: Result<Path<HashMap<String, String>>, PathRejection>,
    request: Request,
    next: Next,
) -> Response {
    let ws = params.ok().and_then(|Path(p)| p.get("ws").cloned());
    let allowed = match (request.extensions().get::<Principal>(), ws) {
        (Some(principal), Some(ws)) => principal.allows_all_workflows(&ws),
        // Without a principal or a workspace the route is not one of these resources.
        _ => false,
    };
    if !allowed {
        return ApiError::forbidden(
            "This resource covers the whole workspace; this token is limited to some workflows",
        )
        .into_response();
    }
    next.run(request).await
}

/// Refuses settings (service-level definitions) to anyone but the account credentials and
/// admin tokens: 403 in Twilio's format. Runs inside [`authorize`].
pub async fn require_admin(request: Request, next: Next) -> Response {
    if !request.extensions().get::<Principal>().is_some_and(Principal::is_admin) {
        return ApiError::forbidden("Only the account credentials or an admin token may read or change this setting")
            .into_response();
    }
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

/// The value of parameter `name` among `pairs`, which may be given at most once (twice:
/// a 400).
pub(crate) fn at_most_once<'a>(pairs: &'a [(String, String)], name: &str) -> ApiResult<Option<&'a str>> {
    let mut values = pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let first = values.next();
    if values.next().is_some() {
        return Err(ApiError::invalid(format!("{name} was given more than once")));
    }
    Ok(first)
}

/// A `TimeZone` parameter: an IANA zone, or a 400.
pub(crate) fn time_zone(name: &str) -> ApiResult<chrono_tz::Tz> {
    crate::shift::time_zone(name).map_err(ApiError::invalid)
}

/// Decodes a raw query string into pairs, or a 400.
pub(crate) fn query_pairs(raw: Option<&str>) -> ApiResult<Vec<(String, String)>> {
    serde_urlencoded::from_str(raw.unwrap_or(""))
        .map_err(|_| ApiError::invalid("the query string is not valid URL encoding"))
}
