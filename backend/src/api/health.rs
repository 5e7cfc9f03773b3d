//! `GET /health` (the node is alive) and `GET /ready` (it has caught up and may take
//! traffic), for load balancers and orchestrators. No authentication, no statistics.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use wallboard_shared::health::NodeHealth;

use crate::state::AppState;

/// 200 while the process answers, with the node's state.
pub(crate) async fn health(State(state): State<AppState>) -> Json<NodeHealth> {
    Json(state.node.health())
}

/// 200 once the node has replayed the log and caught up with the database, else 503.
/// A node whose database went away stays ready: it serves its last numbers, marked stale.
pub(crate) async fn ready(State(state): State<AppState>) -> (StatusCode, Json<NodeHealth>) {
    let health = state.node.health();
    let status = if health.ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(health))
}
