//! The hub: one cached, revisioned snapshot per topic, pushed to every subscriber.
//!
//! One task owns all topic state. Sessions ask it for a topic through a channel and get a
//! `watch` receiver: a watch holds only the newest value, so a slow subscriber skips to
//! the latest snapshot and never builds a backlog, and publishing never waits for anyone.
//! A topic is (workflow, channel, cumulative window and thresholds); its snapshot is
//! serialized once per revision and shared by all its subscribers. Changes are coalesced
//! (leading edge: the first change after a quiet period is pushed at once, then at most
//! one snapshot per `coalesce` per topic). Cumulative parts are recomputed at most once
//! per `cumulative_refresh`. Topics nobody watches are dropped and cost nothing.

use std::collections::hash_map::Entry;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use rustc_hash::FxHashMap;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use wallboard_shared::resources::{
    CumulativeStats, RealTimeStats, WorkflowCumulativeStatistics, WorkflowRealTimeStatistics,
};
use wallboard_shared::time::format_ms;
use wallboard_shared::{AccountSid, Window, WindowSpec};

use crate::cache::RealtimeCache;
use crate::clock::Clock;
use crate::engine::Engine;
use crate::ingest::{ChangeFeed, SharedEngine};
use crate::source::mirror::{Freshness, Interest, Mirror};

/// Timing of the hub.
#[derive(Debug, Clone, Copy)]
pub struct HubConfig {
    /// At most one snapshot per topic per this interval.
    pub coalesce: Duration,
    /// Cumulative statistics are recomputed at most this often.
    pub cumulative_refresh: Duration,
    /// Distinct topics at most: every cumulative window and threshold set is one, and each
    /// costs a computation per refresh, so clients cannot make the server compute without end.
    pub max_topics: usize,
}

impl Default for HubConfig {
    fn default() -> Self {
        Self { coalesce: Duration::from_millis(100), cumulative_refresh: Duration::from_secs(1), max_topics: 10_000 }
    }
}

/// Why a subscription was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubscribeError {
    #[error("the server is shutting down")]
    Stopped,
    #[error("the server already computes {0} distinct views (its limit); share a view others use or retry later")]
    TooManyTopics(usize),
}

/// What a subscription watches.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TopicKey {
    pub workflow: u32,
    pub channel: Option<u32>,
    pub cumulative: Option<CumulativeKey>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CumulativeKey {
    pub window: WindowSpec,
    pub thresholds: Option<Vec<u32>>,
}

/// A published snapshot, serialized once. The subscriber's id is spliced in front; the
/// complete frames of the most common ids are kept, so that thousands of dashboards
/// using the same subscription id share one buffer.
#[derive(Debug)]
pub struct Frame {
    pub rev: u64,
    /// `"rev":…,"at":…,"stale":…,"realtime":{…},"cumulative":…}`
    tail: String,
    by_id: std::sync::Mutex<Vec<(String, Utf8Bytes)>>,
}

/// Distinct ids whose complete frames are kept per snapshot.
const SHARED_IDS: usize = 8;

impl Frame {
    fn new(rev: u64, tail: String) -> Self {
        Self { rev, tail, by_id: std::sync::Mutex::new(Vec::new()) }
    }

    /// The complete text frame for the subscription `id`.
    pub fn text(&self, id: &str) -> Utf8Bytes {
        let mut shared = self.by_id.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, bytes)) = shared.iter().find(|(i, _)| i == id) {
            return bytes.clone();
        }
        let id_json = serde_json::to_string(id).expect("a string serializes");
        let mut out = String::with_capacity(self.tail.len() + id_json.len() + 32);
        out.push_str(r#"{"type":"snapshot","id":"#);
        out.push_str(&id_json);
        out.push(',');
        out.push_str(&self.tail);
        let bytes = Utf8Bytes::from(out);
        if shared.len() < SHARED_IDS {
            shared.push((id.to_owned(), bytes.clone()));
        }
        bytes
    }
}

pub type FrameRx = watch::Receiver<Arc<Frame>>;

/// Where the hub's numbers and changes come from.
#[derive(Debug, Clone)]
pub struct HubSources {
    pub engine: SharedEngine,
    pub cache: Arc<RealtimeCache>,
    /// Workflows whose numbers changed (the writer after each batch, the mirror after each poll).
    pub feed: Arc<ChangeFeed>,
    pub clock: Arc<dyn Clock>,
    /// With `--source twilio`, numbers come from the mirror's cache, not the engine.
    pub mirror: Option<Arc<Mirror>>,
}

/// Fixed facts every snapshot carries.
#[derive(Debug, Clone)]
pub struct Identity {
    pub account_sid: AccountSid,
    pub public_url: String,
    pub retention_ms: i64,
}

enum Command {
    Subscribe { key: TopicKey, reply: oneshot::Sender<Result<FrameRx, SubscribeError>> },
}

/// Handle to the hub task.
#[derive(Debug, Clone)]
pub struct Hub {
    tx: mpsc::Sender<Command>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Subscribe { key, .. } => write!(f, "Subscribe({key:?})"),
        }
    }
}

impl Hub {
    pub fn start(
        sources: HubSources,
        identity: Identity,
        config: HubConfig,
        stop: CancellationToken,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(1024);
        let HubSources { engine, cache, feed, clock, mirror } = sources;
        let state = HubState { engine, cache, clock, identity, config, mirror, topics: FxHashMap::default() };
        let task = tokio::spawn(state.run(rx, feed, stop));
        (Self { tx }, task)
    }

    /// Subscribes to a topic; the receiver holds the current snapshot at once.
    pub async fn subscribe(&self, key: TopicKey) -> Result<FrameRx, SubscribeError> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(Command::Subscribe { key, reply }).await.map_err(|_| SubscribeError::Stopped)?;
        rx.await.map_err(|_| SubscribeError::Stopped)?
    }
}

struct Topic {
    tx: watch::Sender<Arc<Frame>>,
    rev: u64,
    /// What was last published, without the waiting age (which moves every second and is
    /// derived by clients from `at`): a new revision only when this changes.
    content: String,
    last_publish: Instant,
    dirty: bool,
    cumulative: Option<(CumulativeStats, Freshness)>,
    last_cumulative: Instant,
}

struct HubState {
    engine: SharedEngine,
    cache: Arc<RealtimeCache>,
    clock: Arc<dyn Clock>,
    identity: Identity,
    config: HubConfig,
    /// With `--source twilio`, numbers come from the mirror's cache, not the engine.
    mirror: Option<Arc<Mirror>>,
    topics: FxHashMap<TopicKey, Topic>,
}

/// What the mirror must poll for a topic.
pub fn interests_of(key: &TopicKey) -> Vec<Interest> {
    let mut out = vec![Interest::Realtime { workflow: key.workflow, channel: key.channel }];
    if let Some(c) = &key.cumulative {
        out.push(Interest::Cumulative {
            workflow: key.workflow,
            channel: key.channel,
            window: c.window,
            thresholds: c.thresholds.clone(),
        });
    }
    out
}

const GC_EVERY: Duration = Duration::from_secs(2);

impl HubState {
    async fn run(mut self, mut rx: mpsc::Receiver<Command>, feed: Arc<ChangeFeed>, stop: CancellationToken) {
        let mut next_gc = Instant::now() + GC_EVERY;
        loop {
            let deadline = self.next_deadline().map_or(next_gc, |d| d.min(next_gc));
            tokio::select! {
                () = stop.cancelled() => return,
                cmd = rx.recv() => match cmd {
                    Some(Command::Subscribe { key, reply }) => {
                        let rx = self.subscribe(key);
                        let _ = reply.send(rx);
                    }
                    None => return,
                },
                changed = feed.next() => {
                    for (key, topic) in &mut self.topics {
                        if changed.contains(&key.workflow) {
                            topic.dirty = true;
                        }
                    }
                }
                () = tokio::time::sleep_until(deadline) => {}
            }
            let now = Instant::now();
            if now >= next_gc {
                self.topics.retain(|_, t| t.tx.receiver_count() > 0);
                self.tell_mirror();
                next_gc = now + GC_EVERY;
            }
            self.publish_due(now);
        }
    }

    /// The mirror polls exactly what the live topics need.
    fn tell_mirror(&self) {
        if let Some(m) = &self.mirror {
            m.set_hub_interests(self.topics.keys().flat_map(interests_of));
        }
    }

    /// A topic's realtime numbers and their freshness.
    fn realtime_of(&self, engine: &Engine, key: &TopicKey, at: i64) -> (RealTimeStats, Freshness) {
        let local = || self.cache.get(engine, key.workflow, key.channel, at);
        match &self.mirror {
            None => (local(), Freshness { at_ms: at, stale: false }),
            Some(m) => m
                .cached_realtime(key.workflow, key.channel)
                .unwrap_or_else(|| (local(), Freshness { at_ms: at, stale: true })),
        }
    }

    /// A topic's cumulative numbers and their freshness.
    fn cumulative_of(
        &self,
        engine: &Engine,
        key: &TopicKey,
        c: &CumulativeKey,
        at: i64,
    ) -> (CumulativeStats, Freshness) {
        match &self.mirror {
            None => (self.compute_cumulative(engine, key, c, at), Freshness { at_ms: at, stale: false }),
            Some(m) => {
                let interest = Interest::Cumulative {
                    workflow: key.workflow,
                    channel: key.channel,
                    window: c.window,
                    thresholds: c.thresholds.clone(),
                };
                m.cached_cumulative(&interest).unwrap_or_else(|| {
                    (self.compute_cumulative(engine, key, c, at), Freshness { at_ms: at, stale: true })
                })
            }
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.topics
            .iter()
            .filter_map(|(key, t)| {
                let realtime = t.dirty.then(|| t.last_publish + self.config.coalesce);
                let cumulative = key.cumulative.as_ref().map(|_| t.last_cumulative + self.config.cumulative_refresh);
                match (realtime, cumulative) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                }
            })
            .min()
    }

    fn subscribe(&mut self, key: TopicKey) -> Result<FrameRx, SubscribeError> {
        if let Some(t) = self.topics.get(&key) {
            return Ok(t.tx.subscribe());
        }
        if self.topics.len() >= self.config.max_topics {
            // Topics nobody watches any more do not count.
            self.topics.retain(|_, t| t.tx.receiver_count() > 0);
            if self.topics.len() >= self.config.max_topics {
                tracing::warn!(topics = self.topics.len(), "refusing a subscription: too many distinct topics");
                return Err(SubscribeError::TooManyTopics(self.config.max_topics));
            }
        }
        let now = Instant::now();
        let engine = self.engine.read().unwrap_or_else(|p| p.into_inner());
        let at = self.clock.now_ms();
        let cumulative = key.cumulative.as_ref().map(|c| self.cumulative_of(&engine, &key, c, at));
        let realtime = self.realtime_of(&engine, &key, at);
        let (content, frame) = self.render(&engine, &key, 1, &realtime, cumulative.as_ref());
        drop(engine);
        let (tx, rx) = watch::channel(Arc::new(frame));
        let topic = Topic { tx, rev: 1, content, last_publish: now, dirty: false, cumulative, last_cumulative: now };
        if let Entry::Vacant(v) = self.topics.entry(key) {
            v.insert(topic);
        }
        self.tell_mirror();
        Ok(rx)
    }

    fn publish_due(&mut self, now: Instant) {
        let due: Vec<(TopicKey, bool)> = self
            .topics
            .iter()
            .filter_map(|(key, t)| {
                let realtime_due = t.dirty && now >= t.last_publish + self.config.coalesce;
                let cumulative_due =
                    key.cumulative.is_some() && now >= t.last_cumulative + self.config.cumulative_refresh;
                (realtime_due || cumulative_due).then(|| (key.clone(), cumulative_due))
            })
            .collect();
        if due.is_empty() {
            return;
        }
        let engine = self.engine.read().unwrap_or_else(|p| p.into_inner());
        let at = self.clock.now_ms();
        // Realtime numbers are shared by every topic of the same workflow and channel.
        let mut realtime: FxHashMap<(u32, Option<u32>), (RealTimeStats, Freshness)> = FxHashMap::default();
        let mut updates = Vec::with_capacity(due.len());
        for (key, cumulative_due) in due {
            let rt = realtime
                .entry((key.workflow, key.channel))
                .or_insert_with(|| self.realtime_of(&engine, &key, at))
                .clone();
            // The mirror's cache is always read afresh (it changes only by polling).
            let cumulative = match (&key.cumulative, cumulative_due || self.mirror.is_some()) {
                (Some(c), true) => Some(self.cumulative_of(&engine, &key, c, at)),
                _ => self.topics.get(&key).and_then(|t| t.cumulative.clone()),
            };
            updates.push((key, cumulative_due, rt, cumulative));
        }
        for (key, cumulative_due, rt, cumulative) in updates {
            let Some(rev) = self.topics.get(&key).map(|t| t.rev + 1) else { continue };
            let (content, frame) = self.render(&engine, &key, rev, &rt, cumulative.as_ref());
            let topic = self.topics.get_mut(&key).expect("checked above");
            topic.dirty = false;
            if cumulative_due {
                topic.last_cumulative = now;
            }
            topic.cumulative = cumulative;
            if content != topic.content {
                topic.rev = rev;
                topic.content = content;
                topic.last_publish = now;
                topic.tx.send_replace(Arc::new(frame));
            }
        }
    }

    fn compute_cumulative(&self, engine: &Engine, key: &TopicKey, c: &CumulativeKey, at: i64) -> CumulativeStats {
        let retention = self.identity.retention_ms;
        // A fixed StartDate slides out of the retention as days pass: clamp it.
        let window = c.window.resolve(at, retention).unwrap_or(Window { start_ms: at - retention, end_ms: at });
        engine.cumulative(key.workflow, key.channel, window, c.thresholds.as_deref())
    }

    /// The frame and the change-detection content of a topic.
    fn render(
        &self,
        engine: &Engine,
        key: &TopicKey,
        rev: u64,
        (rt, rt_fresh): &(RealTimeStats, Freshness),
        cumulative: Option<&(CumulativeStats, Freshness)>,
    ) -> (String, Frame) {
        let stale = rt_fresh.stale || cumulative.is_some_and(|(_, f)| f.stale);
        // The age of the numbers: when they were computed, or fetched from the upstream.
        let at = rt_fresh.at_ms;
        let cumulative = cumulative.map(|(c, _)| c);
        let wf = &engine.registry().workflows[key.workflow as usize];
        let ws = &engine.registry().workspaces[wf.workspace as usize].sid;
        let base = format!("{}/v1/Workspaces/{ws}/Workflows/{}", self.identity.public_url, wf.known.sid);
        let realtime = WorkflowRealTimeStatistics {
            account_sid: self.identity.account_sid.clone(),
            workspace_sid: ws.clone(),
            workflow_sid: wf.known.sid.clone(),
            stats: rt.clone(),
            url: format!("{base}/RealTimeStatistics"),
        };
        let cumulative = cumulative.map(|c| WorkflowCumulativeStatistics {
            account_sid: self.identity.account_sid.clone(),
            workspace_sid: ws.clone(),
            workflow_sid: wf.known.sid.clone(),
            stats: c.clone(),
            url: format!("{base}/CumulativeStatistics"),
        });
        let rt_json = serde_json::to_string(&realtime).expect("statistics serialize");
        let cum_json = serde_json::to_string(&cumulative).expect("statistics serialize");
        let mut ageless = rt.clone();
        ageless.longest_task_waiting_age = 0;
        // Cumulative start/end move with the clock; they change the content only along
        // with a change in the numbers.
        let cum_numbers = cumulative.as_ref().map(|c| {
            let mut s = c.stats.clone();
            s.start_time = chrono::DateTime::UNIX_EPOCH;
            s.end_time = chrono::DateTime::UNIX_EPOCH;
            s
        });
        let content = format!("{stale}{ageless:?}{cum_numbers:?}");
        let tail = format!(
            r#""rev":{rev},"at":"{}","stale":{stale},"realtime":{rt_json},"cumulative":{cum_json}}}"#,
            format_ms(at)
        );
        (content, Frame::new(rev, tail))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_text_is_a_snapshot_message() {
        let f = Frame::new(
            3,
            r#""rev":3,"at":"2026-11-27T18:00:00Z","stale":false,"realtime":{},"cumulative":null}"#.into(),
        );
        for _ in 0..2 {
            let v: serde_json::Value = serde_json::from_str(f.text("s\"1").as_str()).expect("valid JSON");
            assert_eq!(v["type"], "snapshot");
            assert_eq!(v["id"], "s\"1");
            assert_eq!(v["rev"], 3);
        }
        // Many distinct ids still get their own, correct frame.
        for i in 0..20 {
            let v: serde_json::Value = serde_json::from_str(f.text(&format!("x{i}")).as_str()).expect("valid JSON");
            assert_eq!(v["id"], format!("x{i}"));
        }
    }
}
