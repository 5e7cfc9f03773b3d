//! Wallboard: a live statistics wall for Twilio TaskRouter contact centers.
//!
//! The server implements TaskRouter's Workflow Statistics API from events it stores
//! itself. Events come in through [`api`] (signed event callbacks) or [`ingest`] (the
//! writer thread and imports); [`storage`] makes them durable and [`engine`] folds them
//! into numbers. [`Application`] wires it together: `build` binds and replays, and
//! `run_until_stopped` serves until the shutdown future resolves.

pub mod access;
pub mod api;
pub mod backfill;
pub mod cache;
pub mod clock;
pub mod config;
pub mod engine;
pub mod event;
pub mod ingest;
pub mod loadtest;
pub mod source;
pub mod storage;
pub mod ws;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::access::{Access, FailedAuthLimiter};
use crate::api::{AppState, StateInner};
use crate::cache::RealtimeCache;
use crate::clock::Clock;
use crate::config::{ServeArgs, Source};
use crate::engine::{Engine, EngineConfig};
use crate::ingest::Ingest;
use crate::ingest::simulator::SimConfig;
use crate::source::mirror::{Mirror, MirrorConfig};
use crate::source::simulated::{DemoInfo, SimulatedCenter};
use crate::source::upstream::{UpstreamClient, UpstreamConfig};
use crate::storage::{EventLog, SqliteLog, SqliteTokens};
use crate::ws::hub::HubSources;
use crate::ws::hub::Identity;
use crate::ws::{Hub, HubConfig};

const DAY_MS: i64 = 86_400_000;
/// How often the engine seals, evicts and purges in memory.
const MAINTAIN_EVERY: Duration = Duration::from_secs(5);
/// How often events stored by other processes (import, backfill) are looked for.
const FOLLOW_EVERY: Duration = Duration::from_secs(1);
/// How often old events are deleted from the log.
const PURGE_EVERY: Duration = Duration::from_secs(3600);

pub use crate::access::Credentials;

/// A built server: bound, replayed, ready to serve.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    state: AppState,
    writer: std::thread::JoinHandle<()>,
    hub_task: tokio::task::JoinHandle<()>,
    credentials: Credentials,
    /// The admin token minted for this start (the previous start's one is revoked).
    admin_token: String,
    replayed: u64,
    center: Option<SimulatedCenter>,
    demo: Option<DemoInfo>,
}

impl Application {
    /// Opens the data directory, settles the credentials, replays the event log into a
    /// fresh engine, starts the writer and binds the listener.
    pub async fn build(args: &ServeArgs, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let mut log = SqliteLog::open_dir(&args.data_dir)
            .with_context(|| format!("cannot open the database in {}", args.data_dir.display()))?;
        // What this server writes is applied as it is written; what others write is followed.
        log.track_own_appends();
        let credentials = access::credentials::resolve(args.account_sid.as_deref(), args.auth_token.as_deref(), &log)?;

        let retention_ms = i64::from(args.retention_days) * DAY_MS;
        let mut engine = Engine::new(EngineConfig { retention_ms, ..EngineConfig::default() });
        let now = clock.now_ms();
        engine.maintain(now);
        let started = Instant::now();
        let replayed = log.replay(now - retention_ms, &mut |e| {
            engine.apply(&e);
        })?;
        engine.maintain(clock.now_ms());
        tracing::info!(events = replayed, elapsed_ms = started.elapsed().as_millis() as u64, "replayed the event log");

        let mut center = match args.source {
            Source::Simulator => {
                let config = match &args.sim_config {
                    Some(path) => SimConfig::load(path)?,
                    None => SimConfig::default(),
                };
                let history_ms = (i64::from(args.sim_history_hours) * 3_600_000).min(retention_ms);
                Some(SimulatedCenter::prepare(&log, config, args.sim_seed, history_ms, retention_ms, now)?)
            }
            Source::Events | Source::Twilio => None,
        };
        let engine = Arc::new(RwLock::new(engine));
        let (ingest, writer) = Ingest::start(Box::new(log), engine.clone());
        if let Some(c) = &mut center {
            c.catch_up(&ingest, clock.now_ms()).await?;
        }
        let demo = center.as_ref().map(SimulatedCenter::info);
        let listener = TcpListener::bind(args.bind).await.with_context(|| format!("cannot listen on {}", args.bind))?;
        let public_url = args.public_url_for(listener.local_addr()?);
        let stop = CancellationToken::new();
        let cache = Arc::new(RealtimeCache::default());
        let identity =
            Identity { account_sid: credentials.account_sid.clone(), public_url: public_url.clone(), retention_ms };
        let mirror = match args.source {
            Source::Twilio => {
                let (user, password) = args.upstream_credentials()?;
                let client = UpstreamClient::new(UpstreamConfig {
                    base_url: args.upstream_base.clone(),
                    user,
                    password,
                    requests_per_second: args.upstream_requests_per_second,
                    timeout: Duration::from_millis(args.upstream_timeout_ms),
                })?;
                let config = MirrorConfig {
                    realtime_every: Duration::from_millis(args.poll_realtime_ms),
                    cumulative_every: Duration::from_millis(args.poll_cumulative_ms),
                    // A hub topic is at most two interests (realtime and cumulative).
                    max_interests: 2 * args.ws_max_topics as usize,
                    ..MirrorConfig::default()
                };
                let mirror = Mirror::new(client, config, clock.clone(), engine.clone(), ingest.changes());
                // Bounded: an unreachable upstream must not keep the server from starting.
                let first = Duration::from_millis(args.upstream_timeout_ms.saturating_mul(3));
                if tokio::time::timeout(first, mirror.discover_once()).await.is_err() {
                    tracing::warn!(
                        "the upstream did not answer the first discovery in time; retrying in the background"
                    );
                }
                Some(mirror)
            }
            _ => None,
        };
        let hub_config = HubConfig {
            coalesce: Duration::from_millis(args.snapshot_interval_ms),
            cumulative_refresh: Duration::from_millis(args.cumulative_refresh_ms),
            max_topics: args.ws_max_topics as usize,
        };
        let sources = HubSources {
            engine: engine.clone(),
            cache: cache.clone(),
            feed: ingest.changes(),
            clock: clock.clone(),
            mirror: mirror.clone(),
        };
        let (hub, hub_task) = Hub::start(sources, identity, hub_config, stop.clone());
        let ws_config = args.ws_config();
        let ancestors = api::headers::FrameAncestors::parse(&args.frame_ancestors)
            .map_err(|e| anyhow::anyhow!("--frame-ancestors: {e}"))?;
        let limiter = FailedAuthLimiter::new(args.auth_failures_per_minute, 60_000, 60_000);
        let tokens = SqliteTokens::open_dir(&args.data_dir).context("cannot open the tokens")?;
        let access = Access::new(
            credentials.account_sid.clone(),
            &credentials.auth_token,
            Box::new(tokens),
            limiter,
            clock.clone(),
        )
        .context("cannot load the tokens")?;
        let admin_token = access.mint_startup_token().context("cannot store the startup token")?;
        let events = SqliteLog::open_dir(&args.data_dir).context("cannot open a reader of the event log")?;
        let state = AppState::new(StateInner {
            events: Arc::new(std::sync::Mutex::new(events)),
            engine,
            ingest,
            clock,
            account_sid: credentials.account_sid.clone(),
            auth_token: credentials.auth_token.clone(),
            public_url,
            retention_ms,
            cache,
            hub,
            ws_config,
            ws_permits: Arc::new(tokio::sync::Semaphore::new(ws_config.max_connections)),
            access,
            trusted_proxies: args.trusted_proxies.clone(),
            mirror,
            security: api::headers::SecurityHeaders::new(&ancestors),
            assets_dir: args.assets_dir.clone(),
            stop,
        });
        Ok(Self { listener, state, writer, hub_task, credentials, admin_token, replayed, center, demo })
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

    /// Events replayed from the log at start.
    pub fn replayed(&self) -> u64 {
        self.replayed
    }

    /// Serves until `shutdown` resolves, then stops every task and waits until every
    /// acknowledged event is on disk.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let Self { listener, state, writer, hub_task, center, .. } = self;
        let stop = state.stop.clone();
        let maintenance = tokio::spawn(maintain(state.clone(), stop.clone()));
        let tokens = tokio::spawn(state.access.clone().follow(stop.clone()));
        let mirroring = state.mirror.clone().map(|m| tokio::spawn(m.run(stop.clone())));
        let simulation = center.map(|c| tokio::spawn(c.run(state.ingest.clone(), state.clock.clone(), stop.clone())));
        let app = api::router(state).into_make_service_with_connect_info::<SocketAddr>();
        // Cancelling the token first lets WebSocket sessions send their Close frames, so
        // the graceful shutdown does not wait on them.
        let stopping = stop.clone();
        // Snapshots are small and latency matters more than packet count.
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let result = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                shutdown.await;
                stopping.cancel();
            })
            .await;
        stop.cancel();
        if let Some(s) = simulation {
            let _ = s.await;
        }
        let _ = hub_task.await;
        let _ = maintenance.await;
        let _ = tokens.await;
        if let Some(m) = mirroring {
            let _ = m.await;
        }
        // The router and every task are gone, so the writer's queue closes: it drains
        // what is left and stops.
        tokio::task::spawn_blocking(move || writer.join())
            .await?
            .map_err(|_| anyhow::anyhow!("the event writer panicked"))?;
        result.context("the HTTP server failed")
    }
}

/// Periodic housekeeping: engine maintenance and the purge of old events.
async fn maintain(state: AppState, stop: CancellationToken) {
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
        state.engine.write().unwrap_or_else(|p| p.into_inner()).maintain(now);
        if last_purge.is_none_or(|t| t.elapsed() >= PURGE_EVERY) {
            state.ingest.purge(now - state.retention_ms).await;
            last_purge = Some(Instant::now());
        }
    }
}
