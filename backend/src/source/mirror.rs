//! `--source twilio`: mirror a TaskRouter account by polling its statistics, as Twilio
//! advises: the backend polls and caches, viewers never call the upstream.
//!
//! * Discovery lists the workspaces, workflows and task channels (following paging) into
//!   the engine's registry, and the task queues and activities into its floor (as the
//!   events that create them), so list resources and id lookups work as in local mode;
//!   it runs at start and every `discover_every`. Workers are not discovered yet.
//! * An *interest* is a realtime topic (workflow, channel) or a cumulative one (with its
//!   window and thresholds). Interests exist while a WebSocket topic watches them or a REST
//!   request asked for them recently; each is polled once per interval (realtime 2 s,
//!   cumulative 15 s by default) however many viewers share it, and dropped when nobody
//!   looks. New interests are fetched at once; the upstream client's global budget spreads
//!   them, so a crowd of viewers arriving together never makes a burst.
//! * A failed poll keeps the last numbers, marks them stale and retries after the
//!   upstream's `Retry-After`, else with exponential backoff and jitter. The mirror logs one
//!   line when the upstream becomes unavailable (or fails differently) and one when it
//!   recovers.
//! * In a cluster ([`Mirror::run_shared`], in `mirror/cluster.rs`) only the node holding the mirror
//!   role polls, for every node; the others serve what it publishes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use serde::de::DeserializeOwned;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use wallboard_shared::WorkspaceSid;
use wallboard_shared::queues::{TaskQueue, TaskQueueCumulativeStatistics, TaskQueuePage, TaskQueueRealTimeStatistics};
use wallboard_shared::resources::{
    TaskChannelPage, WorkflowCumulativeStatistics, WorkflowPage, WorkflowRealTimeStatistics, WorkspacePage,
};
use wallboard_shared::workers::{Activity, ActivityPage, WorkersCumulativeStatistics, WorkersRealTimeStatistics};
use wallboard_shared::workspace::{WorkspaceCumulativeStatistics, WorkspaceRealTimeStatistics};
use wallboard_shared::{StatisticsQuery, StatisticsResource, Urls};

use super::answer::{Cumulative, Freshness, Realtime, Unavailable};
use super::upstream::{UpstreamClient, UpstreamError};
use crate::clock::Clock;
use crate::engine::{CumulativeSpec, Target, View, WorkspaceId};
use crate::event::Event;
use crate::ingest::{ChangeFeed, SharedEngine};
use crate::storage::Fetched;

mod cluster;

/// Longest wait between discovery attempts while the upstream cannot be listed.
const DISCOVERY_MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Timing of the mirror.
#[derive(Debug, Clone, Copy)]
pub struct MirrorConfig {
    pub realtime_every: Duration,
    pub cumulative_every: Duration,
    pub discover_every: Duration,
    /// How long one REST request keeps its topic polled.
    pub rest_interest: Duration,
    /// Longest wait between attempts after failures.
    pub max_backoff: Duration,
    /// Distinct interests at most: REST requests for new parameter sets beyond it are
    /// refused, so clients cannot make the mirror poll without end.
    pub max_interests: usize,
}

impl Default for MirrorConfig {
    fn default() -> Self {
        Self {
            realtime_every: Duration::from_secs(2),
            cumulative_every: Duration::from_secs(15),
            discover_every: Duration::from_secs(300),
            rest_interest: Duration::from_secs(60),
            max_backoff: Duration::from_secs(60),
            max_interests: 10_000,
        }
    }
}

/// What is polled.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Interest {
    Realtime(View),
    Cumulative(View, CumulativeSpec),
}

impl Interest {
    pub fn view(&self) -> View {
        match self {
            Self::Realtime(view) | Self::Cumulative(view, _) => *view,
        }
    }
}

#[derive(Debug, Clone)]
enum Payload {
    Realtime(Realtime),
    Cumulative(Cumulative),
}

#[derive(Debug)]
struct Slot {
    value: Option<Payload>,
    fetched_at_ms: i64,
    fetched_at: Option<Instant>,
    last_ok: bool,
    failures: u32,
    last_error: Option<String>,
    next_poll: Instant,
    in_flight: bool,
    rest_until: Option<Instant>,
    hub: bool,
    /// Counts finished attempts; REST requests wait on it for a first answer.
    attempts: watch::Sender<u64>,
    /// In a cluster: the upstream URL (the shared key), once it resolves.
    url: Option<String>,
    /// In a cluster: the last shared answer applied (its [`Fetched::seq`]).
    seq: i64,
}

impl Slot {
    fn new(now: Instant) -> Self {
        Self {
            value: None,
            fetched_at_ms: 0,
            fetched_at: None,
            last_ok: false,
            failures: 0,
            last_error: None,
            next_poll: now,
            in_flight: false,
            rest_until: None,
            hub: false,
            attempts: watch::Sender::new(0),
            url: None,
            seq: 0,
        }
    }

    fn wanted(&self, now: Instant) -> bool {
        self.hub || self.rest_until.is_some_and(|t| t > now)
    }
}

/// The upstream's state, for the one log line per change.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Health {
    Unknown,
    Up,
    Down { kind: String, since: Instant },
}

#[derive(Debug)]
pub struct Mirror {
    client: UpstreamClient,
    config: MirrorConfig,
    clock: Arc<dyn Clock>,
    engine: SharedEngine,
    feed: Arc<ChangeFeed>,
    slots: Mutex<HashMap<Interest, Slot>>,
    health: Mutex<Health>,
    /// In a cluster, while this node polls: every URL the cluster wants.
    shared_polls: Mutex<HashMap<String, SharedPoll>>,
    /// In a cluster: outcomes of polls not yet published.
    pending: Mutex<Vec<Fetched>>,
    /// In a cluster: another node published outcomes since the last look.
    news: std::sync::atomic::AtomicBool,
}

/// An upstream URL polled for the whole cluster.
#[derive(Debug)]
struct SharedPoll {
    realtime: bool,
    next_poll: Instant,
    in_flight: bool,
    failures: u32,
}

impl Mirror {
    pub fn new(
        client: UpstreamClient,
        config: MirrorConfig,
        clock: Arc<dyn Clock>,
        engine: SharedEngine,
        feed: Arc<ChangeFeed>,
    ) -> Arc<Self> {
        Arc::new(Self {
            client,
            config,
            clock,
            engine,
            feed,
            slots: Mutex::new(HashMap::new()),
            health: Mutex::new(Health::Unknown),
            shared_polls: Mutex::new(HashMap::new()),
            pending: Mutex::new(Vec::new()),
            news: std::sync::atomic::AtomicBool::new(false),
        })
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<Interest, Slot>> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn interval(&self, interest: &Interest) -> Duration {
        match interest {
            Interest::Realtime { .. } => self.config.realtime_every,
            Interest::Cumulative { .. } => self.config.cumulative_every,
        }
    }

    /// Logs a line when the upstream's state changes.
    fn note(&self, result: Result<(), &UpstreamError>) {
        let mut health = self.health.lock().unwrap_or_else(|p| p.into_inner());
        match (result, &*health) {
            (Ok(()), Health::Up) => {}
            (Ok(()), Health::Down { since, .. }) => {
                tracing::info!(
                    upstream = self.client.base_url(),
                    down_secs = since.elapsed().as_secs(),
                    "upstream recovered; mirrored statistics are current again"
                );
                *health = Health::Up;
            }
            (Ok(()), Health::Unknown) => {
                tracing::info!(upstream = self.client.base_url(), "upstream reached; mirroring");
                *health = Health::Up;
            }
            (Err(e), Health::Down { kind, .. }) if *kind == kind_of(e) => {}
            (Err(e), _) => {
                tracing::warn!(
                    upstream = self.client.base_url(),
                    error = %e,
                    "upstream unavailable; serving the last numbers marked stale and retrying with backoff"
                );
                *health = Health::Down { kind: kind_of(e), since: Instant::now() };
            }
        }
    }

    /// Whether the last request to the upstream succeeded.
    pub fn is_up(&self) -> bool {
        *self.health.lock().unwrap_or_else(|p| p.into_inner()) == Health::Up
    }

    /// Lists workspaces, workflows and channels into the registry.
    pub async fn discover(&self) -> Result<usize, UpstreamError> {
        let urls = Urls::relative();
        let workspaces = self.client.get_all::<WorkspacePage>(&format!("{}?PageSize=100", urls.workspaces())).await?;
        let mut found = workspaces.len();
        for ws in workspaces {
            let workflows =
                self.client.get_all::<WorkflowPage>(&format!("{}?PageSize=100", urls.workflows(&ws.sid))).await?;
            let channels = self
                .client
                .get_all::<TaskChannelPage>(&format!("{}?PageSize=100", urls.task_channels(&ws.sid)))
                .await?;
            let queues = readable(
                self.client.get_all::<TaskQueuePage>(&format!("{}?PageSize=100", urls.task_queues(&ws.sid))).await,
            )?;
            let activities = readable(
                self.client.get_all::<ActivityPage>(&format!("{}?PageSize=100", urls.activities(&ws.sid))).await,
            )?;
            found += workflows.len() + channels.len() + queues.len() + activities.len();
            let now = self.clock.now_ms();
            let floor_events: Vec<Event> = queues
                .iter()
                .flat_map(|q| queue_events(&ws.sid, q, now))
                .chain(activities.iter().filter_map(|a| activity_event(&ws.sid, a, now)))
                .collect();
            let mut engine = self.engine.write().unwrap_or_else(|p| p.into_inner());
            // Queues and activities live in the engine's floor, which learns from events:
            // the mirror tells it what the upstream lists as the events would have.
            for e in &floor_events {
                engine.apply(e);
            }
            let registry = engine.registry_mut();
            let id = registry.learn_workspace(&ws.sid, &ws.friendly_name, now);
            for w in &workflows {
                registry.learn_workflow(id, &w.sid, &w.friendly_name, now);
            }
            for c in &channels {
                registry.learn_channel(id, &c.sid, &c.unique_name, now);
            }
        }
        Ok(found)
    }

    /// Discovers once and notes the upstream's state (the server's start: a failure is
    /// logged, not fatal; the poller keeps trying).
    pub async fn discover_once(&self) -> bool {
        match self.discover().await {
            Ok(n) => {
                self.note(Ok(()));
                tracing::info!(
                    resources = n,
                    upstream = self.client.base_url(),
                    "discovered the upstream's workspaces"
                );
                true
            }
            Err(e) => {
                self.note(Err(&e));
                false
            }
        }
    }

    /// Polls what viewers want until `stop`; rediscovers now and then. Every request runs
    /// as a task of `tasks`, so shutdown waits for them.
    pub async fn run(self: Arc<Self>, tasks: TaskTracker, stop: CancellationToken) {
        let mut tick = tokio::time::interval(Duration::from_millis(50));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut discovery = Rediscovery::new(&self);
        loop {
            tokio::select! {
                () = stop.cancelled() => {
                    // Shutdown does not wait for a slow upstream.
                    discovery.abort();
                    return;
                }
                _ = tick.tick() => {}
            }
            let now = Instant::now();
            discovery.step(&self, &tasks, now).await;
            let due: Vec<Interest> = {
                let mut slots = self.slots();
                slots.retain(|_, s| s.in_flight || s.wanted(now));
                slots
                    .iter_mut()
                    .filter(|(_, s)| !s.in_flight && s.next_poll <= now)
                    .map(|(k, s)| {
                        s.in_flight = true;
                        k.clone()
                    })
                    .collect()
            };
            for interest in due {
                let me = self.clone();
                let stop = stop.clone();
                tasks.spawn(async move {
                    tokio::select! {
                        () = stop.cancelled() => {}
                        () = me.poll(interest) => {}
                    }
                });
            }
        }
    }

    fn backoff(&self, failures: u32, base: Duration) -> Duration {
        let exp = base.saturating_mul(1u32 << failures.min(10).saturating_sub(1)).min(self.config.max_backoff);
        exp.mul_f64(rand::rng().random_range(0.5..1.0)).max(base.min(self.config.max_backoff))
    }

    /// One upstream request for `interest`, stored in its slot.
    async fn poll(&self, interest: Interest) {
        let result = self.fetch(&interest).await;
        let now = Instant::now();
        self.note(result.as_ref().map(|_| ()));
        let mut slots = self.slots();
        let Some(slot) = slots.get_mut(&interest) else { return };
        slot.in_flight = false;
        let interval = self.interval(&interest);
        match result {
            Ok(payload) => {
                slot.value = Some(payload);
                slot.fetched_at_ms = self.clock.now_ms();
                slot.fetched_at = Some(now);
                slot.last_ok = true;
                slot.failures = 0;
                slot.last_error = None;
                slot.next_poll = now + interval;
            }
            Err(e) => {
                slot.last_ok = false;
                slot.failures += 1;
                slot.next_poll = now + e.retry_after().unwrap_or_else(|| self.backoff(slot.failures, interval));
                slot.last_error = Some(e.to_string());
            }
        }
        slot.attempts.send_modify(|n| *n += 1);
        drop(slots);
        self.feed.mark([interest.view().target]);
    }

    async fn fetch(&self, interest: &Interest) -> Result<Payload, UpstreamError> {
        let url = self.upstream_url(interest)?;
        decode(interest, &self.client.get_bytes(&url).await?)
    }

    /// The upstream URL (path and query) that answers `interest`: what the mirror
    /// requests, and the key a cluster shares it by (internal ids differ between nodes).
    pub fn upstream_url(&self, interest: &Interest) -> Result<String, UpstreamError> {
        let urls = Urls::relative();
        let view = interest.view();
        let resource = match interest {
            Interest::Realtime(_) => StatisticsResource::RealTime,
            Interest::Cumulative(..) => StatisticsResource::Cumulative,
        };
        // Ids come from the registry and the floor, which only grow: they resolve unless a
        // queue was deleted since it was asked for.
        let (path, channel) = {
            let engine = self.engine.read().unwrap_or_else(|p| p.into_inner());
            let registry = engine.registry();
            let path = match view.target {
                Target::Workflow(id) => {
                    let wf = registry.workflow(id);
                    urls.workflow_statistics(&registry.workspace(wf.workspace).sid, &wf.known.sid, resource)
                }
                Target::TaskQueue(id) => {
                    let q = engine
                        .floor()
                        .queue(id.index())
                        .ok_or_else(|| UpstreamError::Malformed("the task queue is no longer known".into()))?;
                    let ws = &registry.workspace(WorkspaceId::from_index(q.workspace)).sid;
                    urls.task_queue_statistics(ws, &q.sid, resource)
                }
                Target::Workspace(id) => urls.workspace_statistics(&registry.workspace(id).sid, resource),
                Target::Workers(id) => urls.workers_statistics(&registry.workspace(id).sid, resource),
            };
            (path, view.channel.map(|c| registry.channel(c).known.sid.to_string()))
        };
        Ok(match interest {
            Interest::Realtime(_) => {
                format!("{path}{}", channel.map(|c| format!("?TaskChannel={c}")).unwrap_or_default())
            }
            Interest::Cumulative(view, spec) => {
                // The workers' resources take no SplitByWaitTime.
                let thresholds = if matches!(view.target, Target::Workers(_)) { None } else { spec.thresholds.clone() };
                let query =
                    StatisticsQuery { window: spec.window, task_channel: channel, split_by_wait_time: thresholds }
                        .to_query_string();
                format!("{path}?{query}")
            }
        })
    }

    fn freshness(&self, slot: &Slot, interval: Duration) -> Freshness {
        let old = slot.fetched_at.is_none_or(|t| t.elapsed() > 3 * interval);
        Freshness { at_ms: slot.fetched_at_ms, stale: !slot.last_ok || old }
    }

    /// The WebSocket hub's topics now: they are polled, everything else only while REST
    /// asks for it.
    pub fn set_hub_interests(&self, interests: impl IntoIterator<Item = Interest>) {
        let now = Instant::now();
        let mut slots = self.slots();
        for slot in slots.values_mut() {
            slot.hub = false;
        }
        for interest in interests {
            slots.entry(interest).or_insert_with(|| Slot::new(now)).hub = true;
        }
    }

    /// The cached realtime answer, if any.
    pub fn cached_realtime(&self, view: View) -> Option<(Realtime, Freshness)> {
        let slots = self.slots();
        let slot = slots.get(&Interest::Realtime(view))?;
        match &slot.value {
            Some(Payload::Realtime(s)) => Some((s.clone(), self.freshness(slot, self.config.realtime_every))),
            _ => None,
        }
    }

    /// The cached cumulative answer, if any.
    pub fn cached_cumulative(&self, interest: &Interest) -> Option<(Cumulative, Freshness)> {
        let slots = self.slots();
        let slot = slots.get(interest)?;
        match &slot.value {
            Some(Payload::Cumulative(s)) => Some((s.clone(), self.freshness(slot, self.config.cumulative_every))),
            _ => None,
        }
    }

    /// Marks `interest` wanted by a REST request (or a new WebSocket subscription) and
    /// waits, bounded, until it has an answer.
    pub async fn want(&self, interest: &Interest, wait: Duration) -> Result<(), Unavailable> {
        let now = Instant::now();
        let mut attempts = {
            let mut slots = self.slots();
            if !slots.contains_key(interest) && slots.len() >= self.config.max_interests {
                return Err(Unavailable(format!(
                    "the mirror already polls {} distinct views (its limit); retry later",
                    self.config.max_interests
                )));
            }
            let slot = slots.entry(interest.clone()).or_insert_with(|| Slot::new(now));
            slot.rest_until = Some(now + self.config.rest_interest);
            if slot.value.is_some() {
                return Ok(());
            }
            slot.attempts.subscribe()
        };
        let _ = tokio::time::timeout(wait, attempts.changed()).await;
        let slots = self.slots();
        match slots.get(interest) {
            Some(s) if s.value.is_some() => Ok(()),
            Some(Slot { last_error: Some(e), .. }) => Err(Unavailable(format!("the upstream cannot be read: {e}"))),
            _ => Err(Unavailable("no answer from the upstream yet; retry in a moment".into())),
        }
    }
}

/// Rediscovery now and then, as a task, with backoff while the upstream cannot be listed.
#[derive(Debug)]
struct Rediscovery {
    next: Instant,
    failures: u32,
    task: Option<tokio::task::JoinHandle<Result<usize, UpstreamError>>>,
}

impl Rediscovery {
    fn new(mirror: &Mirror) -> Self {
        let now = Instant::now();
        let next = if mirror.is_up() { now + mirror.config.discover_every } else { now };
        Self { next, failures: 0, task: None }
    }

    /// Collects a finished discovery; starts one when due.
    async fn step(&mut self, mirror: &Arc<Mirror>, tasks: &TaskTracker, now: Instant) {
        if let Some(task) = self.task.take_if(|t| t.is_finished()) {
            match task.await {
                Ok(Ok(n)) => {
                    mirror.note(Ok(()));
                    tracing::debug!(resources = n, "discovered the upstream's workspaces");
                    self.failures = 0;
                    self.next = now + mirror.config.discover_every;
                }
                Ok(Err(e)) => {
                    mirror.note(Err(&e));
                    self.failures += 1;
                    // Capped lower than topic polls: without discovery nothing can be shown.
                    let wait = mirror.backoff(self.failures, Duration::from_secs(1)).min(DISCOVERY_MAX_BACKOFF);
                    self.next = now + e.retry_after().unwrap_or(wait);
                }
                Err(_) => self.next = now + Duration::from_secs(1),
            }
        }
        if self.task.is_none() && now >= self.next {
            let me = mirror.clone();
            self.task = Some(tasks.spawn(async move { me.discover().await }));
        }
    }

    fn abort(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// The upstream's answer for `interest`, as the statistics of its kind.
fn decode(interest: &Interest, body: &[u8]) -> Result<Payload, UpstreamError> {
    fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, UpstreamError> {
        serde_json::from_slice(body).map_err(|e| UpstreamError::Malformed(e.to_string()))
    }
    Ok(match interest {
        Interest::Realtime(view) => Payload::Realtime(match view.target {
            Target::Workflow(_) => Realtime::Workflow(parse::<WorkflowRealTimeStatistics>(body)?.stats),
            Target::TaskQueue(_) => Realtime::TaskQueue(parse::<TaskQueueRealTimeStatistics>(body)?.stats),
            Target::Workspace(_) => Realtime::Workspace(parse::<WorkspaceRealTimeStatistics>(body)?.stats),
            Target::Workers(_) => Realtime::Workers(parse::<WorkersRealTimeStatistics>(body)?.stats),
        }),
        Interest::Cumulative(view, _) => Payload::Cumulative(match view.target {
            Target::Workflow(_) => Cumulative::Workflow(parse::<WorkflowCumulativeStatistics>(body)?.stats),
            Target::TaskQueue(_) => Cumulative::TaskQueue(parse::<TaskQueueCumulativeStatistics>(body)?.stats),
            Target::Workspace(_) => Cumulative::Workspace(parse::<WorkspaceCumulativeStatistics>(body)?.stats),
            Target::Workers(_) => Cumulative::Workers(parse::<WorkersCumulativeStatistics>(body)?.stats),
        }),
    })
}

/// A list the upstream may refuse to this mirror (a token limited to workflows cannot read
/// queues or activities): refused, it is empty; any other failure fails the discovery.
fn readable<T>(r: Result<Vec<T>, UpstreamError>) -> Result<Vec<T>, UpstreamError> {
    match r {
        Ok(items) => Ok(items),
        Err(UpstreamError::Unauthorized(_) | UpstreamError::Refused { .. }) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// The events that make the floor know an upstream queue (its SID, name and TargetWorkers):
/// its creation at the upstream's creation date, and, when it changed since, an expression
/// update at its update date, so a later change upstream wins at the next discovery. Their
/// SIDs derive from the queue's, so rediscovering an unchanged queue changes nothing.
fn queue_events(ws: &WorkspaceSid, q: &TaskQueue, now_ms: i64) -> Vec<Event> {
    let created = q.date_created.map_or(now_ms, |d| d.timestamp_millis());
    let updated = q.date_updated.map_or(created, |d| d.timestamp_millis());
    let expression = q.target_workers.clone().unwrap_or_else(|| "1==1".into());
    let mut out = Vec::new();
    for (event_type, at, n) in [
        ("task-queue.created", created, q.sid.to_u128()),
        ("task-queue.expression.updated", updated, q.sid.to_u128() ^ 1 << 127),
    ] {
        if event_type != "task-queue.created" && updated <= created {
            continue;
        }
        let mut form = floor_form(event_type, ws, n, at);
        form.push(("TaskQueueSid".into(), q.sid.to_string()));
        form.push(("TaskQueueName".into(), q.friendly_name.clone()));
        form.push(("TaskQueueTargetExpression".into(), expression.clone()));
        out.extend(Event::from_form(&form).ok());
    }
    out
}

/// The event that makes the floor know an upstream activity (its SID, name and availability).
fn activity_event(ws: &WorkspaceSid, a: &Activity, now_ms: i64) -> Option<Event> {
    // Another derivation than queues', so the two never share an event SID.
    let mut form = floor_form("activity.created", ws, a.sid.to_u128().rotate_left(64), now_ms);
    form.push(("ActivitySid".into(), a.sid.to_string()));
    form.push(("ActivityName".into(), a.friendly_name.clone()));
    form.push(("ActivityAvailable".into(), a.available.to_string()));
    Event::from_form(&form).ok()
}

fn floor_form(event_type: &str, ws: &WorkspaceSid, n: u128, now_ms: i64) -> Vec<(String, String)> {
    vec![
        ("EventType".into(), event_type.into()),
        ("Sid".into(), format!("EV{n:032x}")),
        ("WorkspaceSid".into(), ws.to_string()),
        ("TimestampMs".into(), now_ms.to_string()),
    ]
}

fn kind_of(e: &UpstreamError) -> String {
    match e {
        UpstreamError::Unauthorized(_) => "unauthorized",
        UpstreamError::RateLimited { .. } => "rate limited",
        UpstreamError::Server(_) => "server error",
        UpstreamError::Refused { .. } => "refused",
        UpstreamError::Timeout(_) => "timeout",
        UpstreamError::Network(_) => "network",
        UpstreamError::Malformed(_) => "malformed",
    }
    .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Engine;
    use crate::source::upstream::UpstreamConfig;
    use std::sync::RwLock;

    /// Captures formatted log lines.
    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("lines").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn mirror() -> Arc<Mirror> {
        let client = UpstreamClient::new(UpstreamConfig {
            base_url: "http://127.0.0.1:9".into(),
            user: "AC".into(),
            password: "x".into(),
            requests_per_second: 10,
            timeout: Duration::from_secs(1),
        })
        .expect("client");
        let clock = Arc::new(crate::clock::ManualClock::new(0));
        let engine = Arc::new(RwLock::new(Engine::default()));
        Mirror::new(client, MirrorConfig::default(), clock, engine, Arc::new(ChangeFeed::default()))
    }

    #[test]
    fn one_log_line_per_change_of_the_upstreams_state() {
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .finish();
        let m = mirror();
        tracing::subscriber::with_default(subscriber, || {
            let server = UpstreamError::Server(500);
            let timeout = UpstreamError::Timeout(Duration::from_secs(1));
            m.note(Ok(()));
            m.note(Ok(()));
            m.note(Err(&server));
            m.note(Err(&server));
            m.note(Err(&UpstreamError::Server(503)));
            m.note(Err(&timeout));
            m.note(Ok(()));
            m.note(Ok(()));
        });
        let text = String::from_utf8(lines.0.lock().expect("lines").clone()).expect("utf-8");
        let kinds: Vec<&str> = text
            .lines()
            .map(|l| {
                if l.contains("upstream reached") {
                    "reached"
                } else if l.contains("unavailable") && l.contains("500") {
                    "down 500"
                } else if l.contains("unavailable") && l.contains("no answer") {
                    "down timeout"
                } else if l.contains("recovered") {
                    "recovered"
                } else {
                    "other"
                }
            })
            .collect();
        assert_eq!(kinds, ["reached", "down 500", "down timeout", "recovered"], "{text}");
        assert!(m.is_up());
    }
}
