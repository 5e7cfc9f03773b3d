//! [`AppState`]: what request handlers share, assembled by the composition root
//! ([`crate::startup`]). Cheap to clone.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;
use wallboard_shared::{AccountSid, Urls};

use crate::access::Access;
use crate::alerts::{Alerts, Documents};
use crate::clock::Clock;
use crate::ingest::Ingest;
use crate::metrics::Metrics;
use crate::node::Node;
use crate::source::Numbers;
use crate::storage::Store;
use crate::ws::Sessions;

/// Everything a request handler may need; cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState(Arc<StateInner>);

#[derive(Debug)]
pub struct StateInner {
    /// The statistics of any view, and the engine's resources (local or mirrored).
    pub numbers: Numbers,
    pub ingest: Ingest,
    pub clock: Arc<dyn Clock>,
    pub account_sid: AccountSid,
    pub auth_token: String,
    /// Base of absolute URLs, without a trailing slash.
    pub public_url: String,
    /// Absolute URLs of the resources, under `public_url`.
    pub urls: Urls,
    pub retention_ms: i64,
    /// What WebSocket sessions share (hub, limits, access); one pointer per session.
    pub sessions: Arc<Sessions>,
    /// One per open WebSocket (`--ws-max-connections`).
    pub ws_permits: Arc<tokio::sync::Semaphore>,
    /// A reading connection to the event log (the Events resource).
    pub events: Arc<Mutex<Box<dyn Store>>>,
    /// A connection to the keyed documents (service-level definitions, alert rules, alerts).
    pub documents: Documents,
    /// The alerts firing now, as this node's viewers see them.
    pub alerts: Arc<Alerts>,
    /// This node: its name, readiness and roles (`/health`, `/ready`).
    pub node: Arc<Node>,
    /// Reverse proxies whose `X-Forwarded-For` names the client (`--trusted-proxy`).
    pub trusted_proxies: Vec<IpAddr>,
    /// Account credentials, tokens and the failed-attempt limit.
    pub access: Arc<Access>,
    /// Cancelled when the server shuts down; long-lived sessions watch it.
    pub stop: CancellationToken,
    /// What `GET /metrics` serves; the parts that count hold the same `Arc`.
    pub metrics: Arc<Metrics>,
    /// SHA-256 of `--metrics-token`, the scraper's Bearer token for `/metrics` only.
    pub metrics_token: Option<[u8; 32]>,
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

    /// Reads the engine (resources and ids). The lock is never held across an `.await`.
    pub fn engine(&self) -> std::sync::RwLockReadGuard<'_, crate::engine::Engine> {
        self.numbers.engine()
    }
}
