//! `GET /ws`: the HTTP half of a WebSocket upgrade. The request may authenticate itself
//! (Basic or Bearer; browsers cannot set headers and send an `auth` frame instead), the
//! connection limit answers 503, then the session ([`crate::ws::session`]) takes over.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{ConnectInfo, State, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use super::{ApiError, client_ip, denied_response};
use crate::access::Denied;
use crate::metrics::WsRefusal;
use crate::state::AppState;
use crate::ws::conn::Conn;
use crate::ws::session;

pub(crate) async fn upgrade(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Extension(conn): Extension<Arc<Conn>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    // The client's address (behind a trusted proxy, from X-Forwarded-For) for the failed-auth limit.
    let peer = SocketAddr::new(client_ip(&state, peer.ip(), &headers), peer.port());
    let principal = match state.access.authenticate_headers(&headers, Some(peer.ip())).await {
        Ok(p) => Some(p),
        Err(Denied::Missing) => None,
        Err(denied) => {
            state.metrics.ws_refused(WsRefusal::Unauthenticated);
            return denied_response(&denied, &headers).into_response();
        }
    };
    let Ok(permit) = state.ws_permits.clone().try_acquire_owned() else {
        state.metrics.ws_refused(WsRefusal::Limit);
        return ApiError::unavailable(format!(
            "too many WebSocket connections (at most {}); retry later",
            state.sessions.config.max_connections
        ))
        .into_response();
    };
    let sessions = state.sessions.clone();
    session::configure(ws).on_upgrade(move |socket| session::run(socket, conn, sessions, permit, peer, principal))
}
