//! What operations watch (`GET /metrics`): every metric family of the server, registered
//! once here and encoded in the Prometheus/OpenMetrics text format.
//!
//! One [`Metrics`] is made by the composition root and shared (`Arc`) with the parts that
//! count: the callback handlers, the writer, the hub and the sessions, the upstream client,
//! the start's replay. Gauges about state owned elsewhere (the engine's size, the node's
//! readiness and roles) are set by the scrape handler (`api::metrics`) just before encoding.
//!
//! Every label value comes from a closed enum of this module (never from a request), so
//! the number of series is bounded whatever the traffic. Imports nothing of the crate, so
//! any module may count without an import cycle.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The `Content-Type` of [`Metrics::encode`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// A label value in snake_case, from a closed enum.
macro_rules! label_values {
    ($ty:ty { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name),+
                }
            }
        }
        impl EncodeLabelValue for $ty {
            fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> std::fmt::Result {
                encoder.write_str(self.as_str())
            }
        }
    };
}

/// Which door an event came in by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Door {
    /// TaskRouter's signed form callbacks (`/webhooks/taskrouter`), one event each.
    Taskrouter,
    /// Event Streams' batches (`/webhooks/eventstreams`), counted per CloudEvent.
    Eventstreams,
}

/// What became of a callback (a TaskRouter callback, or one CloudEvent of a batch; a batch
/// refused as a whole counts once).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallbackOutcome {
    /// Stored and applied (acknowledged).
    Accepted,
    /// Already stored (same event SID): acknowledged, counted once.
    Duplicate,
    /// `X-Twilio-Signature` (or `bodySHA256`) missing or wrong.
    BadSignature,
    /// Credentials given instead of a signature, but refused (or not the account's).
    Unauthorized,
    /// Not a valid event (or batch).
    Malformed,
    /// Stamped too far in the future.
    Future,
    /// The body could not be read (too large).
    TooLarge,
    /// The event log could not take it (503; the sender retries).
    Unavailable,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct CallbackLabels {
    pub door: Door,
    pub outcome: CallbackOutcome,
}

/// Where an applied event was written from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Origin {
    /// Appended by this node's writer (callbacks, the simulator, a mirror's floor).
    Own,
    /// Stored by another process or node and followed (`import`, `backfill`, a cluster).
    Followed,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct OriginLabels {
    pub origin: Origin,
}

/// Why a WebSocket connection was refused at the upgrade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WsRefusal {
    /// `--ws-max-connections` reached (503).
    Limit,
    /// The upgrade's credentials were refused (401/429).
    Unauthenticated,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct WsRefusalLabels {
    pub reason: WsRefusal,
}

/// How one request to the upstream TaskRouter API ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UpstreamOutcome {
    Ok,
    Unauthorized,
    RateLimited,
    ServerError,
    /// Another 4xx.
    Refused,
    Timeout,
    Network,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct UpstreamLabels {
    pub outcome: UpstreamOutcome,
}

/// The mirror's view of the upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UpstreamState {
    /// The last request succeeded.
    Up,
    /// The last request failed (or none was answered yet).
    Down,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct UpstreamStateLabels {
    pub state: UpstreamState,
}

/// A singleton job's role (the names of `node::Role`, a closed set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoleLabel {
    Simulator,
    Purge,
    Mirror,
    Backfill,
    Alerts,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct RoleLabels {
    pub role: RoleLabel,
}

label_values!(Door { Taskrouter => "taskrouter", Eventstreams => "eventstreams" });
label_values!(CallbackOutcome {
    Accepted => "accepted",
    Duplicate => "duplicate",
    BadSignature => "bad_signature",
    Unauthorized => "unauthorized",
    Malformed => "malformed",
    Future => "future",
    TooLarge => "too_large",
    Unavailable => "unavailable",
});
label_values!(Origin { Own => "own", Followed => "followed" });
label_values!(WsRefusal { Limit => "limit", Unauthenticated => "unauthenticated" });
label_values!(UpstreamOutcome {
    Ok => "ok",
    Unauthorized => "unauthorized",
    RateLimited => "rate_limited",
    ServerError => "server_error",
    Refused => "refused",
    Timeout => "timeout",
    Network => "network",
});
label_values!(UpstreamState { Up => "up", Down => "down" });
label_values!(RoleLabel {
    Simulator => "simulator",
    Purge => "purge",
    Mirror => "mirror",
    Backfill => "backfill",
    Alerts => "alerts",
});

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

/// A gauge of seconds (or other fractions).
pub type FloatGauge = Gauge<f64, AtomicU64>;

/// The engine's memory estimate is taken at most this often (see
/// [`Metrics::memory_estimate_due`]): a scrape interval.
pub const MEMORY_ESTIMATE_EVERY_MS: i64 = 15_000;

/// Every metric family of the server. Counting is lock-free (atomics); encoding takes the
/// families' read locks only.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Event callbacks by door and outcome.
    pub callbacks: Family<CallbackLabels, Counter>,
    /// Seconds from the start of a batch's append to its commit (group commit: one per batch).
    pub commit_seconds: Histogram,
    /// Events per committed batch.
    pub commit_events: Histogram,
    /// Batches the event log refused (the database unreachable or failing).
    pub commit_failures: Counter,
    /// Events applied to the engine after the start's replay.
    pub events_applied: Family<OriginLabels, Counter>,
    /// Live tasks held in memory (set at scrape time).
    pub engine_tasks: Gauge,
    /// Evicted tasks remembered for very late events (set at scrape time).
    pub engine_tombstones: Gauge,
    /// Series (a workflow or task queue on one channel) (set at scrape time).
    pub engine_series: Gauge,
    /// An estimate of the engine's memory: tasks, tombstones, the cumulative index.
    pub engine_memory_bytes: Gauge,
    /// When [`Self::engine_memory_bytes`] was last estimated (ms since the epoch; see
    /// [`Self::memory_estimate_due`]).
    memory_estimated_ms: AtomicI64,
    /// Resident memory of the process (Linux; set at scrape time).
    pub resident_memory_bytes: Gauge,
    /// Open WebSocket connections.
    pub ws_clients: Gauge,
    /// Topics the hub publishes (distinct views with subscribers).
    pub ws_topics: Gauge,
    /// Snapshot revisions the hub published (each goes to every subscriber of its topic).
    pub ws_revisions: Counter,
    /// Frames sent to WebSocket clients (snapshots, alerts, replies, pings).
    pub ws_frames_sent: Counter,
    /// Snapshot revisions a slow client skipped (it gets the newest one only).
    pub ws_frames_dropped: Counter,
    /// Upgrades refused, by reason.
    pub ws_refused: Family<WsRefusalLabels, Counter>,
    /// Requests to the upstream (mirror, discovery), by outcome.
    pub upstream_requests: Family<UpstreamLabels, Counter>,
    /// 1 for the mirror's current view of the upstream (mirror mode only).
    pub upstream_state: Family<UpstreamStateLabels, Gauge>,
    /// How long the start's replay of the event log took.
    pub replay_seconds: FloatGauge,
    /// Events the start replayed.
    pub replay_events: Gauge,
    /// 1 when the start read the engine's snapshot (and replayed only what followed it).
    pub replay_from_snapshot: Gauge,
    /// 1 once the node has caught up (`/ready`).
    pub node_ready: Gauge,
    /// 1 for each singleton role this node holds.
    pub roles: Family<RoleLabels, Gauge>,
    /// 1 while the database answers the writer and the follower.
    pub database_up: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let build: Family<BuildLabels, Gauge> = Family::default();
        build.get_or_create(&BuildLabels { version: env!("CARGO_PKG_VERSION") }).set(1);
        let m = Self {
            registry: Registry::default(),
            callbacks: Family::default(),
            // 0.5 ms … ~4 s: an fsync on a good disk to a struggling database.
            commit_seconds: Histogram::new(exponential_buckets(0.0005, 2.0, 14)),
            commit_events: Histogram::new(exponential_buckets(1.0, 4.0, 8)),
            commit_failures: Counter::default(),
            events_applied: Family::default(),
            engine_tasks: Gauge::default(),
            engine_tombstones: Gauge::default(),
            engine_series: Gauge::default(),
            engine_memory_bytes: Gauge::default(),
            memory_estimated_ms: AtomicI64::new(i64::MIN),
            resident_memory_bytes: Gauge::default(),
            ws_clients: Gauge::default(),
            ws_topics: Gauge::default(),
            ws_revisions: Counter::default(),
            ws_frames_sent: Counter::default(),
            ws_frames_dropped: Counter::default(),
            ws_refused: Family::default(),
            upstream_requests: Family::default(),
            upstream_state: Family::default(),
            replay_seconds: FloatGauge::default(),
            replay_events: Gauge::default(),
            replay_from_snapshot: Gauge::default(),
            node_ready: Gauge::default(),
            roles: Family::default(),
            database_up: Gauge::default(),
        };
        let r = &mut registry;
        r.register("wallboard_build_info", "The running version (always 1)", build);
        r.register("wallboard_callbacks", "Event callbacks by door and outcome", m.callbacks.clone());
        r.register("wallboard_commit_duration_seconds", "Time to commit one batch of events", m.commit_seconds.clone());
        r.register("wallboard_commit_batch_events", "Events per committed batch", m.commit_events.clone());
        r.register("wallboard_commit_failures", "Batches the event log refused", m.commit_failures.clone());
        r.register(
            "wallboard_events_applied",
            "Events applied to the engine since the start",
            m.events_applied.clone(),
        );
        r.register("wallboard_engine_tasks", "Live tasks held in memory", m.engine_tasks.clone());
        r.register(
            "wallboard_engine_tombstones",
            "Evicted tasks remembered for late events",
            m.engine_tombstones.clone(),
        );
        r.register("wallboard_engine_series", "Series (workflow or queue on one channel)", m.engine_series.clone());
        r.register(
            "wallboard_engine_memory_estimate_bytes",
            "Estimated memory of the engine's tasks, tombstones and cumulative index",
            m.engine_memory_bytes.clone(),
        );
        r.register("process_resident_memory_bytes", "Resident memory of the process", m.resident_memory_bytes.clone());
        r.register("wallboard_ws_clients", "Open WebSocket connections", m.ws_clients.clone());
        r.register("wallboard_ws_topics", "Topics with subscribers", m.ws_topics.clone());
        r.register("wallboard_ws_revisions_published", "Snapshot revisions published", m.ws_revisions.clone());
        r.register("wallboard_ws_frames_sent", "Frames sent to WebSocket clients", m.ws_frames_sent.clone());
        r.register(
            "wallboard_ws_frames_dropped",
            "Snapshot revisions slow clients skipped (they get the newest only)",
            m.ws_frames_dropped.clone(),
        );
        r.register("wallboard_ws_connections_refused", "WebSocket upgrades refused by reason", m.ws_refused.clone());
        r.register("wallboard_upstream_requests", "Requests to the upstream by outcome", m.upstream_requests.clone());
        r.register(
            "wallboard_upstream_state",
            "The mirror's view of the upstream (1 = current)",
            m.upstream_state.clone(),
        );
        r.register("wallboard_replay_duration_seconds", "Time the start's replay took", m.replay_seconds.clone());
        r.register("wallboard_replay_events", "Events the start replayed", m.replay_events.clone());
        r.register(
            "wallboard_replay_from_snapshot",
            "1 when the start read the engine snapshot and replayed only the events after it",
            m.replay_from_snapshot.clone(),
        );
        r.register("wallboard_node_ready", "1 once the node has caught up", m.node_ready.clone());
        r.register("wallboard_node_role", "1 for each singleton role this node holds", m.roles.clone());
        r.register("wallboard_database_up", "1 while the database answers", m.database_up.clone());
        Self { registry, ..m }
    }

    /// Counts one callback (or CloudEvent) of `door` with `outcome`.
    pub fn callback(&self, door: Door, outcome: CallbackOutcome) {
        self.callbacks.get_or_create(&CallbackLabels { door, outcome }).inc();
    }

    /// Counts `n` callbacks of `door` with `outcome`.
    pub fn callbacks(&self, door: Door, outcome: CallbackOutcome, n: u64) {
        if n > 0 {
            self.callbacks.get_or_create(&CallbackLabels { door, outcome }).inc_by(n);
        }
    }

    /// Counts `n` events applied from `origin`.
    pub fn applied(&self, origin: Origin, n: u64) {
        if n > 0 {
            self.events_applied.get_or_create(&OriginLabels { origin }).inc_by(n);
        }
    }

    /// Counts an upgrade refused for `reason`.
    pub fn ws_refused(&self, reason: WsRefusal) {
        self.ws_refused.get_or_create(&WsRefusalLabels { reason }).inc();
    }

    /// Counts one upstream request that ended with `outcome`.
    pub fn upstream(&self, outcome: UpstreamOutcome) {
        self.upstream_requests.get_or_create(&UpstreamLabels { outcome }).inc();
    }

    /// Sets the mirror's view of the upstream: 1 for `up`'s state, 0 for the other.
    pub fn set_upstream_up(&self, up: bool) {
        self.upstream_state.get_or_create(&UpstreamStateLabels { state: UpstreamState::Up }).set(i64::from(up));
        self.upstream_state.get_or_create(&UpstreamStateLabels { state: UpstreamState::Down }).set(i64::from(!up));
    }

    /// Sets whether this node holds `role`.
    pub fn set_role(&self, role: RoleLabel, held: bool) {
        self.roles.get_or_create(&RoleLabels { role }).set(i64::from(held));
    }

    /// Whether the engine's memory estimate (a walk of every task under the engine's read
    /// lock) should be taken again at `now_ms`: at most once every
    /// [`MEMORY_ESTIMATE_EVERY_MS`] however often `/metrics` is scraped. True for the caller
    /// that claims the slot.
    pub fn memory_estimate_due(&self, now_ms: i64) -> bool {
        let last = self.memory_estimated_ms.load(Ordering::Relaxed);
        if last != i64::MIN && now_ms.saturating_sub(last) < MEMORY_ESTIMATE_EVERY_MS && now_ms >= last {
            return false;
        }
        self.memory_estimated_ms.compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed).is_ok()
    }

    /// Sets the process's resident memory from `/proc/self/status` (Linux; elsewhere 0).
    pub fn refresh_process(&self) {
        let bytes = crate::cputime::resident_kib(None).map_or(0, |kib| kib.saturating_mul(1024));
        self.resident_memory_bytes.set(i64::try_from(bytes).unwrap_or(i64::MAX));
    }

    /// The whole exposition in the OpenMetrics text format (which Prometheus reads), ending
    /// with `# EOF`.
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(8 * 1024);
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            // Writing into a String cannot fail; keep the format valid if it ever did.
            out.clear();
            let _ = writeln!(out, "# EOF");
        }
        out
    }
}

/// One unit of a gauge for as long as it lives (an open connection).
#[derive(Debug)]
pub struct Held(Gauge);

impl Held {
    pub fn new(gauge: &Gauge) -> Self {
        gauge.inc();
        Self(gauge.clone())
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_encode_with_their_label_values_and_eof() {
        let m = Metrics::new();
        m.callback(Door::Taskrouter, CallbackOutcome::Accepted);
        m.callbacks(Door::Eventstreams, CallbackOutcome::BadSignature, 2);
        m.commit_seconds.observe(0.003);
        m.set_role(RoleLabel::Alerts, true);
        m.ws_refused(WsRefusal::Limit);
        m.upstream(UpstreamOutcome::RateLimited);
        let text = m.encode();
        for line in [
            "wallboard_callbacks_total{door=\"taskrouter\",outcome=\"accepted\"} 1",
            "wallboard_callbacks_total{door=\"eventstreams\",outcome=\"bad_signature\"} 2",
            "wallboard_commit_duration_seconds_count 1",
            "wallboard_node_role{role=\"alerts\"} 1",
            "wallboard_ws_connections_refused_total{reason=\"limit\"} 1",
            "wallboard_upstream_requests_total{outcome=\"rate_limited\"} 1",
            "wallboard_build_info{version=\"",
        ] {
            assert!(text.contains(line), "missing {line:?} in:\n{text}");
        }
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
