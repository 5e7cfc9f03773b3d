//! `GET /metrics`: the Prometheus exposition of [`crate::metrics`] for operations.
//!
//! Readable with the account credentials (Basic, as `/v1`), an admin token, or the scrape
//! token of `--metrics-token` (Bearer), which opens nothing else. A viewer token is refused
//! (403): the numbers describe the whole server, not one workspace. Anything else is 401 in
//! Twilio's error format, and failed attempts count against the address like the API's.

use std::net::SocketAddr;

use axum::Extension;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::{ApiError, client_ip, denied_response};
use crate::metrics::{CONTENT_TYPE, RoleLabel};
use crate::node::Role;
use crate::state::AppState;

pub(crate) async fn metrics(
    State(state): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
) -> Response {
    if !is_scrape_token(&state, &headers) {
        let peer = connect.map(|c| client_ip(&state, c.0.0.ip(), &headers));
        match state.access.authenticate_headers(&headers, peer).await {
            Ok(p) if p.is_admin() => {}
            Ok(_) => {
                return ApiError::forbidden(
                    "/metrics is read with the account credentials, an admin token or the metrics token",
                )
                .into_response();
            }
            Err(denied) => return denied_response(&denied, &headers),
        }
    }
    refresh(&state);
    let mut response = state.metrics.encode().into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    response
}

/// Whether the request carries `Bearer <--metrics-token>`; digests compared in constant time.
fn is_scrape_token(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(expected) = &state.metrics_token else { return false };
    let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else { return false };
    let Some((scheme, token)) = value.split_once(' ') else { return false };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return false;
    }
    let digest: [u8; 32] = Sha256::digest(token.trim().as_bytes()).into();
    digest.iter().zip(expected).fold(0u8, |diff, (a, b)| diff | (a ^ b)) == 0
}

/// Sets the gauges about state owned elsewhere: the engine's size, this node, the upstream.
fn refresh(state: &AppState) {
    let m = &state.metrics;
    let gauge = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    // The counts are exact at every scrape; the memory estimate walks every task under the
    // engine's lock, so it is taken at most once a scrape interval, whoever scrapes.
    let footprint = if m.memory_estimate_due(state.clock.now_ms()) {
        let footprint = state.engine().footprint();
        m.engine_memory_bytes.set(gauge(footprint.estimated_bytes));
        footprint
    } else {
        state.engine().sizes()
    };
    m.engine_tasks.set(gauge(footprint.tasks));
    m.engine_tombstones.set(gauge(footprint.tombstones));
    m.engine_series.set(gauge(footprint.series));
    m.refresh_process();
    m.node_ready.set(i64::from(state.node.is_ready()));
    m.database_up.set(i64::from(state.ingest.health().is_up()));
    for role in Role::ALL {
        m.set_role(role_label(role), state.node.holds(role));
    }
    if let Some(mirror) = state.numbers.mirror() {
        m.set_upstream_up(mirror.is_up());
    }
}

fn role_label(role: Role) -> RoleLabel {
    match role {
        Role::Simulator => RoleLabel::Simulator,
        Role::Purge => RoleLabel::Purge,
        Role::Mirror => RoleLabel::Mirror,
        Role::Backfill => RoleLabel::Backfill,
        Role::Alerts => RoleLabel::Alerts,
    }
}
