//! The composition root: the one place that builds Wallboard's parts from the
//! configuration and wires them together. [`Application::build`] opens storage, replays
//! the log, picks where the numbers come from, starts the writer and the hub, and binds;
//! [`router`] assembles the HTTP surface; [`Application::run_until_stopped`] serves until
//! the shutdown future resolves and waits for every task it started.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::extract::ConnectInfo;
use axum::middleware::{self, AddExtension};
use axum::routing::{get, post};
use axum::{Extension, Router};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::Layer;
use wallboard_shared::Urls;

use crate::access::{Access, Credentials, FailedAuthLimiter, credentials};
use crate::alerts::evaluate::{Evaluator, StoredDeadLetters};
use crate::alerts::notify::Notifier;
use crate::alerts::{Alerts, Documents};
use crate::api::{
    self, ApiError, MAX_BODY_BYTES, alerts, assets, events, headers, queues, resources, service_levels, statistics,
    upgrade, webhook, workers, workspace,
};
use crate::clock::Clock;
use crate::config::{ServeArgs, Source};
use crate::engine::{Engine, EngineConfig};
use crate::event::Event;
use crate::ingest::simulator::SimConfig;
use crate::ingest::{Ingest, SharedEngine};
use crate::metrics::Metrics;
use crate::node::{self, Node, Role};
use crate::snapshot::{self, SnapshotError};
use crate::source::Numbers;
use crate::source::mirror::{Mirror, MirrorConfig};
use crate::source::simulated::{DemoInfo, SimulatedCenter};
use crate::source::upstream::{UpstreamClient, UpstreamConfig};
use crate::state::{AppState, StateInner};
use crate::storage::{Database, EventLog, MIRROR_CHANNEL, MirrorShare, StorageError, Store, StoredRow};
use crate::ws::hub::Identity;
use crate::ws::{Fanout, Hub, HubConfig, Sessions, conn};

const DAY_MS: i64 = 86_400_000;
/// How often the engine seals, evicts and purges in memory.
const MAINTAIN_EVERY: Duration = Duration::from_secs(5);
/// How often events stored by other processes (import, backfill) are looked for.
const FOLLOW_EVERY: Duration = Duration::from_secs(1);
/// How often old events are deleted from the log.
const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// A built server: bound, replayed, ready to serve.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    state: AppState,
    /// `Content-Security-Policy` and friends of every response.
    security: headers::SecurityHeaders,
    /// Where the dashboard's built files are.
    assets_dir: std::path::PathBuf,
    /// The engine, for housekeeping (the writer applies events to it).
    engine: SharedEngine,
    /// The writer thread; it hands its log back when it stops.
    writer: std::thread::JoinHandle<Box<dyn EventLog>>,
    /// Where the engine's snapshot is read at start and written at the end
    /// ([`crate::snapshot`]): `engine.snapshot` in the data directory; `None` with
    /// `--no-snapshot`.
    snapshot: Option<std::path::PathBuf>,
    /// Every task the server spawns (hub, housekeeping, token refresh, mirror, simulator).
    tasks: TaskTracker,
    credentials: Credentials,
    /// The admin token minted for this start (the previous start's one is revoked).
    admin_token: String,
    replayed: u64,
    center: Option<SimulatedCenter>,
    demo: Option<DemoInfo>,
    database: Database,
    /// `--backfill-gaps`: where the events of an outage are read back from.
    gap_backfill: Option<crate::backfill::BackfillOptions>,
    /// A mirror's share of the cluster (`--source twilio` on a shared database).
    mirror_share: Option<Box<dyn MirrorShare>>,
    /// The alert rules' evaluator (it runs while this node holds the alerts role).
    evaluator: Evaluator,
}

impl Application {
    /// Opens the database, settles the credentials, replays the event log into a fresh
    /// engine, starts the writer and binds the listener.
    pub async fn build(args: &ServeArgs, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let database = Database::new(&args.data_dir, args.database_url.as_deref())?;
        // Storage calls block (and PostgreSQL's client may not run inside the runtime).
        let opened = {
            let (args, database, clock) = (args.clone(), database.clone(), clock.clone());
            tokio::task::spawn_blocking(move || open_storage(&args, &database, clock.as_ref())).await??
        };
        let Opened {
            log,
            reader,
            credentials,
            engine,
            replayed,
            from_snapshot,
            replay_seconds,
            mut center,
            snapshot,
            newest_snapshot_ms,
        } = opened;
        let metrics = Arc::new(Metrics::new());
        metrics.replay_events.set(i64::try_from(replayed).unwrap_or(i64::MAX));
        metrics.replay_seconds.set(replay_seconds);
        metrics.replay_from_snapshot.set(i64::from(from_snapshot));
        let retention_ms = i64::from(args.retention_days) * DAY_MS;
        let engine: SharedEngine = Arc::new(RwLock::new(engine));
        let periodic = snapshot.clone().filter(|_| args.engine_snapshot_hours > 0).map(|path| {
            let every_ms = i64::from(args.engine_snapshot_hours) * 3_600_000;
            periodic_snapshot(path, every_ms, newest_snapshot_ms, clock.clone())
        });
        let (ingest, writer) = Ingest::start_with(log, engine.clone(), metrics.clone(), periodic);
        // Alone, the node runs the simulator from the start, so it serves its history at
        // once; on a shared database the node holding the simulator's role catches up.
        if let Some(c) = center.as_mut().filter(|_| !database.is_shared()) {
            c.catch_up(&ingest, clock.now_ms()).await?;
        }
        let demo = center.as_ref().map(SimulatedCenter::info);
        let listener = TcpListener::bind(args.bind).await.with_context(|| format!("cannot listen on {}", args.bind))?;
        let bound = listener.local_addr()?;
        let node_name = args.node_name.clone().unwrap_or_else(|| node::default_name(bound.port()));
        let node = Node::new(node_name, database.clone(), ingest.health());
        let public_url = args.public_url_for(bound);
        let urls = Urls::new(public_url.clone());
        let numbers = numbers(args, &engine, &ingest, clock.clone(), retention_ms, &metrics).await?;
        let mirror_share = if numbers.mirror().is_some() && database.is_shared() {
            let database = database.clone();
            tokio::task::spawn_blocking(move || database.mirror_share())
                .await?
                .transpose()
                .context("cannot open the mirror's share of the database")?
        } else {
            None
        };
        let tasks = TaskTracker::new();
        let stop = CancellationToken::new();
        let identity = Identity { account_sid: credentials.account_sid.clone(), urls: urls.clone() };
        let hub = Hub::start(
            numbers.clone(),
            ingest.changes(),
            identity,
            hub_config(args),
            &tasks,
            stop.clone(),
            metrics.clone(),
        );
        let (access, admin_token) = {
            let (args, database, credentials, clock) =
                (args.clone(), database.clone(), credentials.clone(), clock.clone());
            let label_node = database.is_shared().then(|| node.name().to_owned());
            tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
                let access = access(&args, &database, &credentials, clock)?;
                let token =
                    access.mint_startup_token(label_node.as_deref()).context("cannot store the startup token")?;
                Ok((access, token))
            })
            .await??
        };
        let (documents, evaluator_documents) = {
            let database = database.clone();
            tokio::task::spawn_blocking(move || {
                let open = || {
                    database
                        .open_documents()
                        .with_context(|| format!("cannot open the settings and alerts ({database})"))
                };
                anyhow::Ok((open()?, open()?))
            })
            .await??
        };
        let documents: Documents = Arc::new(Mutex::new(documents));
        let alerts = Alerts::new(documents.clone());
        let evaluator = {
            let evaluator_documents: Documents = Arc::new(Mutex::new(evaluator_documents));
            let dead = Arc::new(StoredDeadLetters { docs: evaluator_documents.clone(), clock: clock.clone() });
            Evaluator {
                numbers: numbers.clone(),
                docs: evaluator_documents,
                alerts: alerts.clone(),
                notifier: Notifier::spawn(args.webhook_policy(), clock.clone(), dead, &tasks, stop.clone()),
                clock: clock.clone(),
                account_sid: credentials.account_sid.clone(),
                urls: urls.clone(),
                retention_ms,
            }
        };
        let ws_config = args.ws_config();
        let sessions = Sessions {
            config: ws_config,
            hub,
            fanout: Fanout::start(ws_config.fanout_workers, &tasks, stop.clone(), metrics.clone()),
            numbers: numbers.clone(),
            access: access.clone(),
            clock: clock.clone(),
            retention_ms,
            alerts: alerts.clone(),
            stop: stop.clone(),
            metrics: metrics.clone(),
        };
        let state = AppState::new(StateInner {
            numbers,
            ingest,
            clock,
            account_sid: credentials.account_sid.clone(),
            auth_token: credentials.auth_token.clone(),
            public_url,
            urls,
            retention_ms,
            sessions: Arc::new(sessions),
            ws_permits: Arc::new(tokio::sync::Semaphore::new(ws_config.max_connections)),
            events: Arc::new(Mutex::new(reader)),
            documents,
            alerts,
            node,
            trusted_proxies: args.trusted_proxies.clone(),
            access,
            stop,
            metrics,
            metrics_token: args.metrics_token.as_deref().map(|t| Sha256::digest(t.as_bytes()).into()),
        });
        let ancestors = headers::FrameAncestors::parse(&args.frame_ancestors)
            .map_err(|e| anyhow::anyhow!("--frame-ancestors: {e}"))?;
        Ok(Self {
            listener,
            state,
            security: headers::SecurityHeaders::new(&ancestors),
            assets_dir: args.assets_dir.clone(),
            engine,
            writer,
            snapshot,
            tasks,
            credentials,
            admin_token,
            replayed,
            center,
            demo,
            database,
            gap_backfill: args.gap_backfill()?,
            mirror_share,
            evaluator,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    pub fn public_url(&self) -> &str {
        &self.state.public_url
    }

    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// This start's admin token: everything, until the next start replaces it.
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// A ready dashboard link with the admin token in its fragment (never sent to servers).
    pub fn dashboard_url(&self) -> String {
        format!("{}/#token={}", self.state.public_url, self.admin_token)
    }

    /// The simulated contact center, when it is the source.
    pub fn demo(&self) -> Option<&DemoInfo> {
        self.demo.as_ref()
    }

    /// Where this node stores (named without a password).
    pub fn database(&self) -> String {
        self.database.to_string()
    }

    pub fn node_name(&self) -> &str {
        self.state.node.name()
    }

    /// Events replayed from the log at start.
    pub fn replayed(&self) -> u64 {
        self.replayed
    }

    /// Serves until `shutdown` resolves, then stops every task, waits for them, and waits
    /// until every acknowledged event is on disk.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let Self {
            listener,
            state,
            security,
            assets_dir,
            engine,
            writer,
            snapshot,
            tasks,
            center,
            gap_backfill,
            mirror_share,
            evaluator,
            ..
        } = self;
        let stop = state.stop.clone();
        let state_clock = state.clock.clone();
        let roles = wanted_roles(&state, center.is_some(), gap_backfill.is_some());
        let mut on_ring: Vec<(&'static str, node::OnRing)> = Vec::new();
        if let Some(m) = state.numbers.mirror().filter(|_| mirror_share.is_some()) {
            let m = m.clone();
            on_ring.push((MIRROR_CHANNEL, Arc::new(move || m.published_elsewhere())));
        }
        state.node.start(&state.ingest, &roles, on_ring, &tasks, &stop);
        tasks.spawn(housekeeping(state.clone(), stop.clone()));
        tasks.spawn(state.access.clone().follow(stop.clone()));
        match (state.numbers.mirror(), mirror_share) {
            (Some(m), Some(share)) => {
                let role = state.node.role(Role::Mirror);
                tasks.spawn(m.clone().run_shared(share, role, tasks.clone(), stop.clone()));
            }
            (Some(m), None) => {
                tasks.spawn(m.clone().run(tasks.clone(), stop.clone()));
            }
            (None, _) => {}
        }
        if let Some(c) = center {
            let role = state.node.role(Role::Simulator);
            tasks.spawn(simulate(c, role, state.ingest.clone(), state.clock.clone(), stop.clone()));
        }
        if let Some(opts) = gap_backfill {
            tasks.spawn(backfill_gaps(opts, state.clone(), stop.clone()));
        }
        tasks.spawn(state.alerts.clone().run_board(stop.clone()));
        let (role, changes) = (state.node.role(Role::Alerts), state.ingest.changes().generation());
        tasks.spawn(evaluator.run(role, changes, stop.clone()));
        tasks.close();
        let app = Connections(router(state, security, assets_dir));
        // Cancelling the token first lets WebSocket sessions send their Close frames, so
        // the graceful shutdown does not wait on them.
        let stopping = stop.clone();
        let result = axum::serve(conn::Listener(listener), app)
            .with_graceful_shutdown(async move {
                shutdown.await;
                stopping.cancel();
            })
            .await;
        stop.cancel();
        tasks.wait().await;
        // The router and every task are gone, so the writer's queue closes: it drains
        // what is left and stops.
        let log = tokio::task::spawn_blocking(move || writer.join())
            .await?
            .map_err(|_| anyhow::anyhow!("the event writer panicked"))?;
        if let Some(path) = snapshot {
            let clock = state_clock;
            tokio::task::spawn_blocking(move || write_snapshot(&path, &engine, log, clock.as_ref())).await?;
        }
        result.context("the HTTP server failed")
    }
}

/// Makes each accepted connection's service: the router, with the peer's address (as
/// `ConnectInfo`) and the connection itself (the WebSocket upgrade hands it to the fan-out).
#[derive(Clone)]
struct Connections(Router);

impl<'a> tower::Service<axum::serve::IncomingStream<'a, conn::Listener>> for Connections {
    type Response = AddExtension<AddExtension<Router, ConnectInfo<SocketAddr>>, Arc<conn::Conn>>;
    type Error = std::convert::Infallible;
    type Future = std::future::Ready<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, incoming: axum::serve::IncomingStream<'a, conn::Listener>) -> Self::Future {
        let with_peer = Extension(ConnectInfo(*incoming.remote_addr())).layer(self.0.clone());
        std::future::ready(Ok(Extension(incoming.io().conn().clone()).layer(with_peer)))
    }
}

/// The whole HTTP surface.
pub fn router(state: AppState, security: headers::SecurityHeaders, assets_dir: std::path::PathBuf) -> Router {
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
        .route("/Workspaces/{ws}/Workflows/{wf}/ServiceLevel", get(service_levels::workflow_level))
        .merge(api::export::workflow_routes())
        .route("/Workspaces/{ws}/Workflows/{wf}/HistoricalStatistics", get(api::history::workflow))
        .merge(workspace_wide())
        .merge(settings())
        .route_layer(middleware::from_fn_with_state(state.clone(), api::authorize))
        .fallback(|| async { ApiError::not_found("The requested resource was not found") });
    Router::new()
        .nest("/v1", v1)
        .route("/webhooks/taskrouter", post(webhook::taskrouter))
        .route("/webhooks/eventstreams", post(api::eventstreams::eventstreams))
        .route("/ws", get(upgrade::upgrade))
        .route("/healthz", get(|| async { "ok" }))
        .route("/health", get(api::health::health))
        .route("/ready", get(api::health::ready))
        .route("/metrics", get(api::metrics::metrics))
        .merge(assets::router(assets_dir))
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::map_response_with_state(security, headers::set_security_headers))
        .layer(middleware::map_response_with_state(state.clone(), headers::set_date))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// The resources about a whole workspace (its queues, workers, activities and own
/// statistics): a token limited to some workflows may not read them.
fn workspace_wide() -> Router<AppState> {
    Router::new()
        .route("/Workspaces/{ws}/Statistics", get(workspace::statistics))
        .route("/Workspaces/{ws}/RealTimeStatistics", get(workspace::realtime))
        .route("/Workspaces/{ws}/CumulativeStatistics", get(workspace::cumulative))
        .route("/Workspaces/{ws}/Activities", get(workspace::list_activities))
        .route("/Workspaces/{ws}/Activities/{wa}", get(workspace::fetch_activity))
        .route("/Workspaces/{ws}/TaskQueues", get(queues::list_queues))
        .route("/Workspaces/{ws}/TaskQueues/Statistics", get(queues::list_statistics))
        .route("/Workspaces/{ws}/TaskQueues/RealTimeStatistics", post(queues::bulk_realtime))
        .route("/Workspaces/{ws}/TaskQueues/{wq}", get(queues::fetch_queue))
        .route("/Workspaces/{ws}/TaskQueues/{wq}/Statistics", get(queues::statistics))
        .route("/Workspaces/{ws}/TaskQueues/{wq}/RealTimeStatistics", get(queues::realtime))
        .route("/Workspaces/{ws}/TaskQueues/{wq}/CumulativeStatistics", get(queues::cumulative))
        .route("/Workspaces/{ws}/TaskQueues/{wq}/ServiceLevel", get(service_levels::task_queue))
        .route("/Workspaces/{ws}/TaskQueues/{wq}/HistoricalStatistics", get(api::history::task_queue))
        .route("/Workspaces/{ws}/HistoricalStatistics", get(api::history::workspace))
        .route("/Workspaces/{ws}/Alerts", get(alerts::list_alerts))
        .route("/Workspaces/{ws}/ServiceLevels", get(service_levels::list))
        .route(
            "/Workspaces/{ws}/ServiceLevels/{scope}",
            get(service_levels::fetch).post(service_levels::update).delete(service_levels::delete),
        )
        .route("/Workspaces/{ws}/Alerts/{al}", get(alerts::fetch_alert).post(alerts::acknowledge))
        .route("/Workspaces/{ws}/Workers", get(workers::list_workers))
        .route("/Workspaces/{ws}/Workers/Statistics", get(workers::statistics))
        .route("/Workspaces/{ws}/Workers/RealTimeStatistics", get(workers::realtime))
        .route("/Workspaces/{ws}/Workers/CumulativeStatistics", get(workers::cumulative))
        .route("/Workspaces/{ws}/Workers/{wk}", get(workers::fetch_worker))
        .route("/Workspaces/{ws}/Workers/{wk}/Statistics", get(workers::worker_statistics))
        .route("/Workspaces/{ws}/Workers/{wk}/Channels", get(workers::list_channels))
        .route("/Workspaces/{ws}/Workers/{wk}/Channels/{wc}", get(workers::fetch_channel))
        .merge(api::export::workspace_wide_routes())
        .route_layer(middleware::from_fn(api::require_whole_workspace))
}

/// Settings (alert rules and webhooks): the account credentials and admin tokens only.
/// (Service-level definitions are read by every viewer of the workspace and changed by
/// admins only: `service_levels::update` and `delete` check.)
fn settings() -> Router<AppState> {
    Router::new()
        .route("/Workspaces/{ws}/AlertRules", get(alerts::list_rules).post(alerts::create_rule))
        .route("/Workspaces/{ws}/AlertRules/Preview", post(alerts::preview))
        .route(
            "/Workspaces/{ws}/AlertRules/{ar}",
            get(alerts::fetch_rule).post(alerts::update_rule).delete(alerts::delete_rule),
        )
        .route("/Workspaces/{ws}/AlertWebhooks", get(alerts::list_webhooks).post(alerts::create_webhook))
        .route("/Workspaces/{ws}/AlertWebhooks/{aw}", get(alerts::fetch_webhook).delete(alerts::delete_webhook))
        .route("/Workspaces/{ws}/AlertWebhooks/{aw}/DeadLetters", get(alerts::dead_letters))
        .route_layer(middleware::from_fn(api::require_admin))
}

/// What the blocking part of the start opened and computed.
struct Opened {
    /// The writer's connection (it also follows other processes' and nodes' rows).
    log: Box<dyn Store>,
    /// A connection for the Events resource.
    reader: Box<dyn Store>,
    credentials: Credentials,
    engine: Engine,
    replayed: u64,
    /// Whether the start read the engine snapshot.
    from_snapshot: bool,
    /// How long the replay took.
    replay_seconds: f64,
    center: Option<SimulatedCenter>,
    /// Where the engine's snapshot is (see [`Application`]).
    snapshot: Option<std::path::PathBuf>,
    /// When the newest snapshot was written (the one the start read, or wrote), by the clock.
    newest_snapshot_ms: Option<i64>,
}

/// Opens the database, settles the credentials and the simulator's seed, replays the log.
/// Blocking.
fn open_storage(args: &ServeArgs, database: &Database, clock: &dyn Clock) -> anyhow::Result<Opened> {
    let mut log = database.open().with_context(|| format!("cannot open the database ({database})"))?;
    // What this server writes is applied as it is written; what others write is followed.
    log.track_own_appends();
    let credentials = credentials::resolve(args.account_sid.as_deref(), args.auth_token.as_deref(), log.as_ref())?;
    let retention_ms = i64::from(args.retention_days) * DAY_MS;
    let snapshot = (!args.no_snapshot).then(|| args.data_dir.join(snapshot::FILE));
    let started = Instant::now();
    let Replayed { engine, events: replayed, snapshot_ms } =
        replay(log.as_ref(), retention_ms, clock, snapshot.as_deref())?;
    let from_snapshot = snapshot_ms.is_some();
    let replay_seconds = started.elapsed().as_secs_f64();
    let mut newest_snapshot_ms = snapshot_ms;
    if let Some(path) = snapshot.as_deref()
        && (!from_snapshot || replayed >= RESNAPSHOT_TAIL)
        && snapshot_at_start(path, &engine, log.as_ref(), clock)
    {
        newest_snapshot_ms = Some(clock.now_ms());
    }
    let center = simulated_center(args, log.as_ref(), retention_ms, clock.now_ms())?;
    let reader = database.open().context("cannot open a reader of the event log")?;
    Ok(Opened {
        log,
        reader,
        credentials,
        engine,
        replayed,
        from_snapshot,
        replay_seconds,
        center,
        snapshot,
        newest_snapshot_ms,
    })
}

/// The engine holding the log's events within the retention, how many events were replayed
/// and whether the snapshot was read: from the snapshot at `snapshot` and the events stored
/// after it when it can be used, from the whole log otherwise.
fn replay(
    log: &dyn Store,
    retention_ms: i64,
    clock: &dyn Clock,
    snapshot: Option<&std::path::Path>,
) -> anyhow::Result<Replayed> {
    let config = EngineConfig { retention_ms, ..EngineConfig::default() };
    let started = Instant::now();
    if let Some(path) = snapshot {
        let swept = snapshot::sweep_temporaries(path);
        if swept > 0 {
            tracing::info!(files = swept, "deleted what killed snapshot writers left");
        }
        match snapshot::load(path, &config, clock.now_ms()) {
            Ok(snapshot::Loaded { mut engine, position: at, written_ms }) => {
                let loaded_ms = started.elapsed().as_millis() as u64;
                engine.maintain(clock.now_ms());
                let (mut engine, tail) = replay_with(engine, |f| log.replay_rows_after(&at, f))?;
                if let Some(replayed) = tail {
                    engine.maintain(clock.now_ms());
                    tracing::info!(
                        events = replayed,
                        loaded_ms,
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        "started from the engine snapshot and the events stored after it"
                    );
                    return Ok(Replayed { engine, events: replayed, snapshot_ms: Some(written_ms) });
                }
                tracing::info!(path = %path.display(), "the engine snapshot does not match the event log: replaying it in full");
            }
            Err(SnapshotError::Missing) => {}
            Err(e) => {
                tracing::info!(path = %path.display(), reason = %e, "not using the engine snapshot: replaying the event log in full")
            }
        }
    }
    let mut engine = Engine::new(config);
    let now = clock.now_ms();
    engine.maintain(now);
    let started = Instant::now();
    let (mut engine, replayed) = replay_into(log, now - retention_ms, engine)?;
    engine.maintain(clock.now_ms());
    tracing::info!(events = replayed, elapsed_ms = started.elapsed().as_millis() as u64, "replayed the event log");
    Ok(Replayed { engine, events: replayed, snapshot_ms: None })
}

/// What a start's replay gave.
struct Replayed {
    engine: Engine,
    /// Events replayed (after the snapshot, when it started from one).
    events: u64,
    /// When the snapshot it started from was written, if it started from one.
    snapshot_ms: Option<i64>,
}

/// A start that read this many events after the snapshot writes a new one (see
/// [`snapshot_at_start`]); a full replay always does.
const RESNAPSHOT_TAIL: u64 = 100_000;

/// Logs what became of writing the snapshot (`what`: which one). A failure costs a later
/// start a longer replay, nothing else.
fn report_snapshot(path: &std::path::Path, what: &str, started: Instant, written: Result<u64, SnapshotError>) {
    match written {
        Ok(bytes) => tracing::info!(
            path = %path.display(),
            bytes,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "wrote the engine snapshot ({what})"
        ),
        Err(SnapshotError::NoPosition) => tracing::debug!("no engine snapshot ({what}): the event log is empty"),
        Err(e) => tracing::warn!(path = %path.display(), error = %e, "cannot write the engine snapshot ({what})"),
    }
}

/// Writes the snapshot of the engine a start just replayed, before it serves: a kill -9 or a
/// power loss before the next snapshot then starts from it and the events stored since,
/// not from the whole log. It costs the start the write (about 0.15 s for a million events;
/// BENCHMARKS.md) and nobody else, as nothing runs yet. Returns whether it was written.
fn snapshot_at_start(path: &std::path::Path, engine: &Engine, log: &dyn EventLog, clock: &dyn Clock) -> bool {
    let started = Instant::now();
    let written = snapshot::save_at_position(path, engine, log, clock.now_ms());
    let ok = written.is_ok();
    report_snapshot(path, "the replayed engine, at start", started, written);
    ok
}

/// The writer's periodic snapshot: every `every_ms` by the clock, counted from the newest
/// snapshot (`newest_ms`: the one the start read or wrote; else from the start), so a kill
/// finds one about `every_ms` old at most, however often the server restarts;
/// after a batch, it applies what other processes stored (so the log position covers exactly
/// what the engine holds; the targets that changed are returned for the hub), then writes
/// the engine under a read lock: readers go on, callbacks and maintenance wait in the
/// writer's queue (no one waits for the write lock meanwhile, so readers never queue behind).
fn periodic_snapshot(
    path: std::path::PathBuf,
    every_ms: i64,
    newest_ms: Option<i64>,
    clock: Arc<dyn Clock>,
) -> crate::ingest::Between {
    let mut last = newest_ms.unwrap_or_else(|| clock.now_ms());
    Box::new(move |log, engine| {
        let mut changed = rustc_hash::FxHashSet::default();
        let now = clock.now_ms();
        if now - last < every_ms {
            return changed;
        }
        last = now;
        let started = Instant::now();
        let followed = {
            let mut engine = engine.write().unwrap_or_else(|p| p.into_inner());
            log.follow(&mut |e| changed.extend(engine.apply(&e).changed_targets()))
        };
        let written = followed.map_err(SnapshotError::from).and_then(|_| {
            snapshot::save_at_position(&path, &engine.read().unwrap_or_else(|p| p.into_inner()), log, now)
        });
        report_snapshot(&path, "periodic", started, written);
        changed
    })
}

/// Writes the snapshot of a stopping server (after its writer stopped and handed back its
/// log), once it applied what other processes stored.
fn write_snapshot(path: &std::path::Path, engine: &SharedEngine, mut log: Box<dyn EventLog>, clock: &dyn Clock) {
    let started = Instant::now();
    let mut engine = engine.write().unwrap_or_else(|p| p.into_inner());
    let written = snapshot::save_after_follow(path, &mut engine, log.as_mut(), clock.now_ms());
    report_snapshot(path, "at stop", started, written);
}

/// Rows per batch handed from the thread reading the log to a decoder.
const REPLAY_BATCH: usize = 4_096;
/// ... or fewer, when their text reaches this many bytes (fields may be large).
const REPLAY_BATCH_BYTES: usize = 16 << 20;
/// Batches each decoder holds ahead, on either side: bounds what waits in memory.
const REPLAY_AHEAD: usize = 2;
/// Decoding threads at most (one per core up to this).
const MAX_DECODERS: usize = 4;

/// Applies the log's events from `since_ms` (see [`crate::storage::EventLog::replay`]) to
/// `engine`, in the log's order; how many. See [`replay_with`].
pub fn replay_into<L: EventLog + ?Sized>(log: &L, since_ms: i64, engine: Engine) -> anyhow::Result<(Engine, u64)> {
    let (engine, read) = replay_with(engine, |f| log.replay_rows(since_ms, f))?;
    Ok((engine, read))
}

/// Rows as the log stores them, copied out for a decoder: their text in one buffer.
#[derive(Debug, Default)]
struct RowBatch {
    text: String,
    /// Per row, where its SID, workspace SID, type and data end in `text` (each starts
    /// where the one before ends), and its time.
    rows: Vec<([usize; 4], i64)>,
}

impl RowBatch {
    fn with_capacity(text: usize) -> Self {
        Self { text: String::with_capacity(text), rows: Vec::with_capacity(REPLAY_BATCH) }
    }

    fn push(&mut self, row: StoredRow<'_>) {
        let mut ends = [0; 4];
        for (end, part) in ends.iter_mut().zip([row.sid, row.workspace_sid, row.event_type, row.data]) {
            self.text.push_str(part);
            *end = self.text.len();
        }
        self.rows.push((ends, row.ts_ms));
    }

    fn is_full(&self) -> bool {
        self.rows.len() >= REPLAY_BATCH || self.text.len() >= REPLAY_BATCH_BYTES
    }

    /// Appends the events to `out`, in the batch's order; the first row that holds none
    /// ends it.
    fn decode_into(&self, out: &mut Vec<Event>) -> Result<(), StorageError> {
        let mut start = 0;
        let part = |from: usize, to: usize| self.text.get(from..to).unwrap_or_default();
        for &([sid, ws, event_type, data], ts_ms) in &self.rows {
            let row = StoredRow {
                sid: part(start, sid),
                ts_ms,
                workspace_sid: part(sid, ws),
                event_type: part(ws, event_type),
                data: part(event_type, data),
            };
            start = data;
            out.push(row.decode()?);
        }
        Ok(())
    }

    fn clear(&mut self) {
        self.text.clear();
        self.rows.clear();
    }
}

/// Applies the rows `read` hands out to `engine`, in their order, and returns what `read`
/// returned. `read` runs on this thread and only copies each row's text out; one decoder
/// per core (up to [`MAX_DECODERS`]) turns batches of rows into events, dealt in turn, and
/// one more thread takes them back in the same turn and applies them, so the log's order
/// is kept. Reading a row from SQLite costs about a quarter of decoding it, and applying
/// about as much again (BENCHMARKS.md, "Replay"): a start keeps every core busy. A row
/// that holds no valid event ends the replay with its error, the events before it applied.
fn replay_with<T: Send>(
    mut engine: Engine,
    read: impl FnOnce(&mut dyn FnMut(StoredRow<'_>) -> Result<(), StorageError>) -> Result<T, StorageError>,
) -> anyhow::Result<(Engine, T)> {
    use std::sync::mpsc::{channel, sync_channel};
    let decoders = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, MAX_DECODERS);
    std::thread::scope(|scope| {
        // Buffers go back to the thread that made them: the row batches to the reader, the
        // applied events to their decoder, which drops them. Freed where it was allocated,
        // memory is reused at once instead of fresh pages being faulted in (and zeroed)
        // for every batch, which took a third of a start's CPU.
        let (rows_back, returned_rows) = channel::<RowBatch>();
        let (mut to_decode, mut decoded, mut spent, mut decoding) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for i in 0..decoders {
            let (batches, received) = sync_channel::<RowBatch>(REPLAY_AHEAD);
            let (events, done) = sync_channel::<Result<Vec<Event>, StorageError>>(REPLAY_AHEAD);
            let (events_back, applied) = channel::<Vec<Event>>();
            let rows_back = rows_back.clone();
            decoding.push(std::thread::Builder::new().name(format!("replay-decode-{i}")).spawn_scoped(
                scope,
                move || {
                    for mut batch in received {
                        // The newest of the applied batches back, the others dropped here.
                        let mut out = applied.try_iter().last().unwrap_or_default();
                        out.clear();
                        let decoded = batch.decode_into(&mut out).map(|()| out);
                        batch.clear();
                        let _ = rows_back.send(batch);
                        let failed = decoded.is_err();
                        if events.send(decoded).is_err() || failed {
                            break;
                        }
                    }
                },
            )?);
            to_decode.push(batches);
            decoded.push(done);
            spent.push(events_back);
        }
        drop(rows_back);
        let applier = std::thread::Builder::new().name("replay-apply".into()).spawn_scoped(scope, move || {
            // Batch k went to decoder k % decoders: a decoder that ends without batch k
            // was dealt none, so every batch was applied.
            for k in 0usize.. {
                match decoded.get(k % decoders).map(|d| d.recv()) {
                    Some(Ok(Ok(events))) => {
                        for e in &events {
                            engine.apply(e);
                        }
                        if let Some(back) = spent.get(k % decoders) {
                            let _ = back.send(events);
                        }
                    }
                    Some(Ok(Err(e))) => return (engine, Err(e)),
                    Some(Err(_)) | None => break,
                }
            }
            (engine, Ok(()))
        })?;
        let mut dealt = 0usize;
        let mut deal = |batch: RowBatch| {
            let sent = to_decode.get(dealt % decoders).is_some_and(|d| d.send(batch).is_ok());
            dealt += 1;
            sent
        };
        let mut batch = RowBatch::with_capacity(0);
        let read = read(&mut |row| {
            batch.push(row);
            if batch.is_full() {
                let next = returned_rows.try_recv().unwrap_or_else(|_| RowBatch::with_capacity(batch.text.len()));
                if !deal(std::mem::replace(&mut batch, next)) {
                    // A decoder stopped at a row it could not decode: the applier says which.
                    return Err(StorageError::Corrupt("the replay stopped at a row it could not decode".into()));
                }
            }
            Ok(())
        });
        if read.is_ok() && !batch.rows.is_empty() {
            deal(batch);
        }
        drop(to_decode);
        let panicked = |what: &str| anyhow::anyhow!("the replay's {what} thread panicked");
        let (engine, applied) = applier.join().map_err(|_| panicked("applying"))?;
        for d in decoding {
            d.join().map_err(|_| panicked("decoding"))?;
        }
        // The decoding error first: it is why the reading stopped, if it did.
        applied?;
        Ok((engine, read?))
    })
}

/// The built-in contact center, when it is the source (its seed and epoch are stored).
fn simulated_center(
    args: &ServeArgs,
    log: &dyn Store,
    retention_ms: i64,
    now_ms: i64,
) -> anyhow::Result<Option<SimulatedCenter>> {
    match args.source {
        Source::Simulator => {
            let config = match &args.sim_config {
                Some(path) => SimConfig::load(path)?,
                None => SimConfig::default(),
            };
            let history_ms = (i64::from(args.sim_history_hours) * 3_600_000).min(retention_ms);
            Ok(Some(SimulatedCenter::prepare(log, config, args.sim_seed, history_ms, retention_ms, now_ms)?))
        }
        Source::Events | Source::Twilio => Ok(None),
    }
}

/// The roles this node may take: the simulator's when it simulates, the purge and the
/// alerts always.
fn wanted_roles(state: &AppState, simulates: bool, backfills: bool) -> Vec<Role> {
    let mut roles = vec![Role::Purge, Role::Alerts];
    if simulates {
        roles.push(Role::Simulator);
    }
    if state.numbers.mirror().is_some() {
        roles.push(Role::Mirror);
    }
    if backfills {
        roles.push(Role::Backfill);
    }
    roles
}

/// Events refused while the database was unreachable are re-read from the upstream from
/// this long before the outage was noticed.
const GAP_MARGIN_MS: i64 = 60_000;
/// How long a node that saw the database come back waits for the backfill's role.
const GAP_ROLE_WAIT: Duration = Duration::from_secs(5);

/// `--backfill-gaps`: when the database is reachable again, the node holding the backfill
/// role reads the upstream's events of the outage (TaskRouter does not resend a callback
/// that got a 503) and submits them; events already stored count once.
async fn backfill_gaps(opts: crate::backfill::BackfillOptions, state: AppState, stop: CancellationToken) {
    let mut health = state.ingest.health().subscribe();
    let mut role = state.node.role(Role::Backfill);
    let mut down_from: Option<i64> = None;
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            changed = health.changed() => if changed.is_err() { return },
        }
        if health.borrow_and_update().is_some() {
            down_from.get_or_insert(state.clock.now_ms());
            continue;
        }
        let Some(from) = down_from.take() else { continue };
        // Roles are lost with the database; the first node to take it back reads the gap.
        if !matches!(tokio::time::timeout(GAP_ROLE_WAIT, node::until_held(&mut role, &stop)).await, Ok(true)) {
            continue;
        }
        let (from, to) = (from - GAP_MARGIN_MS, state.clock.now_ms());
        let mut ingest = state.ingest.clone();
        tokio::select! {
            () = stop.cancelled() => return,
            report = crate::backfill::backfill_range(&opts, from, to, &mut ingest) => match report {
                Ok(r) => tracing::info!(
                    read = r.read,
                    stored = r.stored,
                    already = r.duplicates,
                    from = %wallboard_shared::time::format_ms(from),
                    "backfilled the database's outage from the upstream"
                ),
                Err(e) => tracing::error!(
                    error = %format!("{e:#}"),
                    "cannot backfill the database's outage; run `wallboard backfill` for it"
                ),
            },
        }
    }
}

/// Runs the simulated center while this node holds the simulator's role: on taking it,
/// the simulation catches up with the clock (events already stored by the previous
/// holder are the same, by SID, and count once); on losing it, it stops.
async fn simulate(
    mut center: SimulatedCenter,
    mut role: tokio::sync::watch::Receiver<bool>,
    ingest: Ingest,
    clock: Arc<dyn Clock>,
    stop: CancellationToken,
) {
    while node::until_held(&mut role, &stop).await {
        tokio::select! {
            () = center.run(&ingest, &clock, &stop) => return,
            () = node::until_lost(&mut role) => tracing::info!("the simulator runs on another node now"),
        }
    }
}

/// Where the numbers come from: the local engine, or (`--source twilio`) a mirror of an
/// upstream, whose first discovery is tried here, bounded (an unreachable upstream must
/// not keep the server from starting).
async fn numbers(
    args: &ServeArgs,
    engine: &SharedEngine,
    ingest: &Ingest,
    clock: Arc<dyn Clock>,
    retention_ms: i64,
    metrics: &Arc<Metrics>,
) -> anyhow::Result<Numbers> {
    if args.source != Source::Twilio {
        return Ok(Numbers::local(engine.clone(), clock, retention_ms).with_health(ingest.health()));
    }
    let (user, password) = args.upstream_credentials()?;
    let client = UpstreamClient::new(UpstreamConfig {
        base_url: args.upstream_base.clone(),
        user,
        password,
        requests_per_second: args.upstream_requests_per_second,
        timeout: Duration::from_millis(args.upstream_timeout_ms),
    })?
    .with_metrics(metrics.clone());
    let config = MirrorConfig {
        realtime_every: Duration::from_millis(args.poll_realtime_ms),
        cumulative_every: Duration::from_millis(args.poll_cumulative_ms),
        // A hub topic is at most two interests (realtime and cumulative).
        max_interests: 2 * args.ws_max_topics as usize,
        ..MirrorConfig::default()
    };
    let mirror = Mirror::new(client, config, clock.clone(), engine.clone(), ingest.changes());
    let first = Duration::from_millis(args.upstream_timeout_ms.saturating_mul(3));
    if tokio::time::timeout(first, mirror.discover_once()).await.is_err() {
        tracing::warn!("the upstream did not answer the first discovery in time; retrying in the background");
    }
    Ok(Numbers::mirrored(mirror, engine.clone(), clock, retention_ms))
}

fn hub_config(args: &ServeArgs) -> HubConfig {
    HubConfig {
        coalesce: Duration::from_millis(args.snapshot_interval_ms),
        cumulative_refresh: Duration::from_millis(args.cumulative_refresh_ms),
        max_topics: args.ws_max_topics as usize,
    }
}

/// Credentials, viewer tokens and the failed-attempt limit. Blocking.
fn access(
    args: &ServeArgs,
    database: &Database,
    credentials: &Credentials,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Arc<Access>> {
    let limiter = FailedAuthLimiter::new(args.auth_failures_per_minute, 60_000, 60_000);
    let tokens = database.open_tokens().context("cannot open the tokens")?;
    Access::new(credentials.account_sid.clone(), &credentials.auth_token, tokens, limiter, clock)
        .context("cannot load the tokens")
}

/// Periodic housekeeping: engine maintenance, following other processes' events, and
/// the purge of old events, each done by the writer thread (the engine's only writer).
async fn housekeeping(state: AppState, stop: CancellationToken) {
    let mut tick = tokio::time::interval(MAINTAIN_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut follow = tokio::time::interval(FOLLOW_EVERY);
    follow.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_purge: Option<Instant> = None;
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = tick.tick() => {}
            _ = follow.tick() => {
                state.ingest.follow().await;
                continue;
            }
        }
        let now = state.clock.now_ms();
        state.ingest.maintain(now).await;
        if state.node.holds(Role::Purge) && last_purge.is_none_or(|t| t.elapsed() >= PURGE_EVERY) {
            state.ingest.purge(now - state.retention_ms).await;
            last_purge = Some(Instant::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::simulator::Simulator;

    const MONDAY_MS: i64 = 1_709_510_400_000;
    const HOUR_MS: i64 = 3_600_000;

    /// A weekday morning of the demo center: several batches of rows.
    fn morning() -> Vec<Event> {
        let start = MONDAY_MS + 7 * HOUR_MS;
        let mut sim = Simulator::new(SimConfig::default(), 11, start);
        let mut events = Vec::new();
        for step in 1..=6 * 12 {
            sim.advance(start + step * 5 * 60_000, &mut events);
        }
        assert!(events.len() > 3 * REPLAY_BATCH + 1, "{} events", events.len());
        events
    }

    /// Hands out `events` as stored rows, the `bad`th one's data replaced by `{not json`.
    fn hand_out(
        events: &[Event],
        bad: Option<usize>,
        f: &mut dyn FnMut(StoredRow<'_>) -> Result<(), StorageError>,
    ) -> Result<u64, StorageError> {
        for (i, e) in events.iter().enumerate() {
            let data = if bad == Some(i) { "{not json".to_owned() } else { e.data_json() };
            f(StoredRow {
                sid: e.sid.as_ref(),
                ts_ms: e.ts_ms,
                workspace_sid: e.workspace_sid.as_str(),
                event_type: &e.event_type,
                data: &data,
            })?;
        }
        Ok(events.len() as u64)
    }

    fn state(engine: &Engine) -> Vec<u8> {
        engine.write_state(Vec::new()).expect("the engine's state")
    }

    /// Rows decoded on several threads are applied in the order they were read: the
    /// engine ends byte for byte as one fed the events one by one.
    #[test]
    fn the_replay_applies_every_row_in_the_order_read() {
        let events = morning();
        let mut one_by_one = Engine::new(EngineConfig::default());
        for e in &events {
            one_by_one.apply(e);
        }
        let (replayed, read) =
            replay_with(Engine::new(EngineConfig::default()), |f| hand_out(&events, None, f)).expect("replay");
        assert_eq!(read, events.len() as u64);
        assert!(state(&replayed) == state(&one_by_one), "the replayed engine differs");
    }

    /// A row that holds no event ends the replay with its own error, not with the
    /// reader's "stopped" that follows it.
    #[test]
    fn a_row_that_holds_no_event_ends_the_replay_with_its_error() {
        let events = morning();
        let err = replay_with(Engine::new(EngineConfig::default()), |f| hand_out(&events, Some(REPLAY_BATCH + 5), f))
            .expect_err("a corrupt row");
        let text = err.to_string();
        assert!(text.contains("corrupt") && !text.contains("the replay stopped"), "{text}");
    }

    /// The reader's own error (the database gone) is the replay's.
    #[test]
    fn a_failing_read_is_the_replays_error() {
        let events = morning();
        let err = replay_with(Engine::new(EngineConfig::default()), |f| {
            hand_out(&events[..REPLAY_BATCH + 100], None, f)?;
            Err::<u64, _>(StorageError::Unavailable("gone".into()))
        })
        .expect_err("a failing read");
        assert!(err.to_string().contains("unavailable: gone"), "{err}");
    }
}
