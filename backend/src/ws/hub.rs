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

use bytes::Bytes;
use rustc_hash::FxHashMap;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tungstenite::protocol::frame::FrameHeader;
use tungstenite::protocol::frame::coding::{Data, OpCode};
use wallboard_shared::TaskQueueSid;
use wallboard_shared::envelope::{Subject, TaskQueueSubject, WorkersSubject, WorkflowSubject, WorkspaceSubject};
use wallboard_shared::time::format_ms;
use wallboard_shared::ws::{Cumulative as WireCumulative, RealTime, ServerMessage, Snapshot};
use wallboard_shared::{AccountSid, Urls};

use crate::engine::{CumulativeSpec, Engine, Target, View};
use crate::ingest::ChangeFeed;
use crate::metrics::Metrics;
use crate::source::{Cumulative, Freshness, Numbers, Reader, Realtime};

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
    #[error("the subscription's target no longer exists")]
    Gone,
    #[error("the server already computes {0} distinct views (its limit); share a view others use or retry later")]
    TooManyTopics(usize),
}

/// What a subscription watches: a view and, optionally, a cumulative question about it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TopicKey {
    pub view: View,
    pub cumulative: Option<CumulativeSpec>,
}

/// A published snapshot, serialized once. The subscriber's id is spliced in front; the
/// complete WebSocket frames of the most common ids are kept, so that thousands of
/// dashboards using the same subscription id share one buffer (server frames are not
/// masked: the same bytes go to every such subscriber).
#[derive(Debug)]
pub struct Frame {
    pub rev: u64,
    /// The serialized message after its id: `,"rev":…}`, or `None` if the message does
    /// not start as expected (then each id's frame is serialized whole).
    tail: Option<String>,
    snapshot: Snapshot,
    by_id: std::sync::Mutex<Vec<(String, Bytes)>>,
}

/// Distinct ids whose complete frames are kept per snapshot.
const SHARED_IDS: usize = 8;

/// How a snapshot message with an empty id starts; the id goes between its quotes.
const SNAPSHOT_HEAD: &str = r#"{"type":"snapshot","id":"""#;

impl Frame {
    /// The frame of `snapshot` (whose `id` is ignored: each subscriber's is put in).
    pub(crate) fn new(mut snapshot: Snapshot) -> Self {
        snapshot.id.clear();
        let rev = snapshot.rev;
        let message = ServerMessage::Snapshot(Box::new(snapshot));
        let json = serde_json::to_string(&message).expect("a snapshot serializes");
        let ServerMessage::Snapshot(snapshot) = message else { unreachable!("built above") };
        let tail = json.strip_prefix(SNAPSHOT_HEAD).map(str::to_owned);
        if tail.is_none() {
            tracing::error!("a snapshot message does not start as the hub expects; serializing it per subscriber");
        }
        Self { rev, tail, snapshot: *snapshot, by_id: std::sync::Mutex::new(Vec::new()) }
    }

    /// The complete WebSocket text frame (header and payload) for the subscription `id`.
    pub fn wire(&self, id: &str) -> Bytes {
        let mut shared = self.by_id.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, bytes)) = shared.iter().find(|(i, _)| i == id) {
            return bytes.clone();
        }
        let payload = self.payload(id);
        let length = payload.len() as u64;
        let header = FrameHeader { opcode: OpCode::Data(Data::Text), ..FrameHeader::default() };
        let mut out = Vec::with_capacity(header.len(length) + payload.len());
        header.format(length, &mut out).expect("a header formats into a Vec");
        out.extend_from_slice(payload.as_bytes());
        let bytes = Bytes::from(out);
        if shared.len() < SHARED_IDS {
            shared.push((id.to_owned(), bytes.clone()));
        }
        bytes
    }

    #[cfg(test)]
    pub(crate) fn snapshot_for_tests(&self) -> &Snapshot {
        &self.snapshot
    }

    /// The snapshot message of subscription `id`.
    fn payload(&self, id: &str) -> String {
        match &self.tail {
            Some(tail) => {
                let id_json = serde_json::to_string(id).expect("a string serializes");
                let mut out = String::with_capacity(tail.len() + id_json.len() + SNAPSHOT_HEAD.len());
                out.push_str(&SNAPSHOT_HEAD[..SNAPSHOT_HEAD.len() - 2]);
                out.push_str(&id_json);
                out.push_str(tail);
                out
            }
            None => {
                let snapshot = Snapshot { id: id.to_owned(), ..self.snapshot.clone() };
                serde_json::to_string(&ServerMessage::Snapshot(Box::new(snapshot))).expect("a snapshot serializes")
            }
        }
    }
}

pub type FrameRx = watch::Receiver<Arc<Frame>>;

/// A topic's snapshots: its current frame at once, then each new revision.
#[derive(Debug)]
pub struct Subscribed {
    /// The topic, unique in this process.
    pub topic: u64,
    pub rx: FrameRx,
}

/// Fixed facts every snapshot carries.
#[derive(Debug, Clone)]
pub struct Identity {
    pub account_sid: AccountSid,
    /// Absolute URLs of the resources.
    pub urls: Urls,
}

enum Command {
    Subscribe { key: TopicKey, reply: oneshot::Sender<Result<Subscribed, SubscribeError>> },
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
    /// Starts the hub task on `tasks`; it republishes topics whose targets `feed` names.
    pub fn start(
        numbers: Numbers,
        feed: Arc<ChangeFeed>,
        identity: Identity,
        config: HubConfig,
        tasks: &TaskTracker,
        stop: CancellationToken,
        metrics: Arc<Metrics>,
    ) -> Self {
        let (tx, rx) = mpsc::channel(1024);
        let state = HubState { numbers, identity, config, topics: FxHashMap::default(), next_topic: 1, metrics };
        tasks.spawn(state.run(rx, feed, stop));
        Self { tx }
    }

    /// Subscribes to a topic; the receiver holds the current snapshot at once.
    pub async fn subscribe(&self, key: TopicKey) -> Result<Subscribed, SubscribeError> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(Command::Subscribe { key, reply }).await.map_err(|_| SubscribeError::Stopped)?;
        rx.await.map_err(|_| SubscribeError::Stopped)?
    }
}

/// What a topic last published, without what moves with the clock alone (the waiting
/// age, which clients derive from `at`, and the window's bounds): a new revision only
/// when this changes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Content {
    stale: bool,
    realtime: Realtime,
    cumulative: Option<Cumulative>,
}

struct Topic {
    id: u64,
    tx: watch::Sender<Arc<Frame>>,
    rev: u64,
    content: Content,
    last_publish: Instant,
    dirty: bool,
    cumulative: Option<(Cumulative, Freshness)>,
    last_cumulative: Instant,
}

struct HubState {
    numbers: Numbers,
    identity: Identity,
    config: HubConfig,
    topics: FxHashMap<TopicKey, Topic>,
    next_topic: u64,
    /// Topics (gauge) and published revisions.
    metrics: Arc<Metrics>,
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
                        if changed.contains(&key.view.target) {
                            topic.dirty = true;
                        }
                    }
                }
                () = tokio::time::sleep_until(deadline) => {}
            }
            let now = Instant::now();
            if now >= next_gc {
                self.topics.retain(|_, t| t.tx.receiver_count() > 0);
                self.watch();
                next_gc = now + GC_EVERY;
            }
            self.publish_due(now);
        }
    }

    /// Tells the source which views are live (a mirror polls exactly these).
    fn watch(&self) {
        self.metrics.ws_topics.set(self.topics.len() as i64);
        self.numbers.watch(self.topics.keys().map(|k| (k.view, k.cumulative.as_ref())));
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

    fn subscribe(&mut self, key: TopicKey) -> Result<Subscribed, SubscribeError> {
        if let Some(t) = self.topics.get(&key) {
            return Ok(Subscribed { topic: t.id, rx: t.tx.subscribe() });
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
        let reader = self.numbers.reader();
        let cumulative = key.cumulative.as_ref().map(|c| reader.cumulative(key.view, c));
        let realtime = reader.realtime(key.view);
        // A target that vanished since the session resolved it (a deleted queue).
        let Some((content, frame)) = render(&self.identity, &reader, &key, 1, &realtime, cumulative.as_ref()) else {
            return Err(SubscribeError::Gone);
        };
        drop(reader);
        let (tx, rx) = watch::channel(Arc::new(frame));
        let id = self.next_topic;
        self.next_topic += 1;
        let topic =
            Topic { id, tx, rev: 1, content, last_publish: now, dirty: false, cumulative, last_cumulative: now };
        if let Entry::Vacant(v) = self.topics.entry(key) {
            v.insert(topic);
        }
        self.watch();
        Ok(Subscribed { topic: id, rx })
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
        let reader = self.numbers.reader();
        // Realtime numbers are shared by every topic of the same view.
        let mut realtime: FxHashMap<View, (Realtime, Freshness)> = FxHashMap::default();
        // Polled numbers change only by polling, which marks them: always read afresh.
        let reread = self.numbers.polled();
        for (key, cumulative_due) in due {
            let rt = realtime.entry(key.view).or_insert_with(|| reader.realtime(key.view)).clone();
            let Some(topic) = self.topics.get_mut(&key) else { continue };
            let cumulative = match (&key.cumulative, cumulative_due || reread) {
                (Some(c), true) => Some(reader.cumulative(key.view, c)),
                _ => topic.cumulative.take(),
            };
            topic.dirty = false;
            if cumulative_due {
                topic.last_cumulative = now;
            }
            let next = Content {
                stale: rt.1.stale || cumulative.as_ref().is_some_and(|(_, f)| f.stale),
                realtime: rt.0.ageless(),
                cumulative: cumulative.as_ref().map(|(c, _)| c.unbounded()),
            };
            if next != topic.content {
                let rev = topic.rev + 1;
                // Only workflow topics exist yet (sessions subscribe to nothing else).
                if let Some((content, frame)) = render(&self.identity, &reader, &key, rev, &rt, cumulative.as_ref()) {
                    topic.rev = rev;
                    topic.content = content;
                    topic.last_publish = now;
                    topic.tx.send_replace(Arc::new(frame));
                    self.metrics.ws_revisions.inc();
                }
            }
            topic.cumulative = cumulative;
        }
    }
}

/// The frame of a topic at revision `rev`, and what it shows (for change detection).
/// `None` only if the numbers are not of the topic's kind of target (they always are: the
/// source answers each target with its own kind).
fn render(
    identity: &Identity,
    reader: &Reader<'_>,
    key: &TopicKey,
    rev: u64,
    (rt, rt_fresh): &(Realtime, Freshness),
    cumulative: Option<&(Cumulative, Freshness)>,
) -> Option<(Content, Frame)> {
    let stale = rt_fresh.stale || cumulative.is_some_and(|(_, f)| f.stale);
    let content = Content { stale, realtime: rt.ageless(), cumulative: cumulative.map(|(c, _)| c.unbounded()) };
    let (realtime, cumulative) = resources(identity, reader.engine(), key.view.target, rt, cumulative.map(|(c, _)| c))?;
    let snapshot = Snapshot {
        id: String::new(),
        rev,
        // The age of the numbers: when they were computed, or fetched from the upstream.
        at: format_ms(rt_fresh.at_ms),
        stale,
        realtime,
        cumulative,
    };
    Some((content, Frame::new(snapshot)))
}

/// A target's numbers in the REST resources a snapshot carries: the same SIDs and
/// absolute `url`s as the REST answers (the envelopes of `wallboard_shared::envelope`).
fn resources(
    identity: &Identity,
    engine: &Engine,
    target: Target,
    rt: &Realtime,
    cumulative: Option<&Cumulative>,
) -> Option<(RealTime, Option<WireCumulative>)> {
    let registry = engine.registry();
    let account_sid = identity.account_sid.clone();
    let urls = &identity.urls;
    let workspace_sid = registry.workspace(target.workspace(engine)?).sid.clone();
    match (target, rt, cumulative) {
        (Target::Workflow(id), Realtime::Workflow(rt), c) => {
            let workflow_sid = registry.workflow(id).known.sid.clone();
            let subject = WorkflowSubject { account_sid, workspace_sid, workflow_sid };
            wrap(&subject, urls, rt, c.map(|c| if let Cumulative::Workflow(c) = c { Some(c) } else { None }))
        }
        (Target::TaskQueue(q), Realtime::TaskQueue(rt), c) => {
            let task_queue_sid = TaskQueueSid::parse(&engine.floor().queue(q.index())?.sid).ok()?;
            let subject = TaskQueueSubject { account_sid, workspace_sid, task_queue_sid };
            wrap(&subject, urls, rt, c.map(|c| if let Cumulative::TaskQueue(c) = c { Some(c) } else { None }))
        }
        (Target::Workspace(_), Realtime::Workspace(rt), c) => {
            let subject = WorkspaceSubject { account_sid, workspace_sid };
            wrap(&subject, urls, rt, c.map(|c| if let Cumulative::Workspace(c) = c { Some(c) } else { None }))
        }
        (Target::Workers(_), Realtime::Workers(rt), c) => {
            let subject = WorkersSubject { account_sid, workspace_sid };
            wrap(&subject, urls, rt, c.map(|c| if let Cumulative::Workers(c) = c { Some(c) } else { None }))
        }
        _ => None,
    }
}

/// A subject's realtime resource and, when asked for (`Some`), its cumulative one; `None`
/// if the cumulative numbers are of another kind (`Some(None)`).
fn wrap<S: Subject>(
    subject: &S,
    urls: &Urls,
    rt: &S::RealTimeStats,
    cumulative: Option<Option<&S::CumulativeStats>>,
) -> Option<(RealTime, Option<WireCumulative>)>
where
    S::RealTimeStats: Clone,
    S::CumulativeStats: Clone,
    S::RealTime: Into<RealTime>,
    S::Cumulative: Into<WireCumulative>,
{
    let cumulative = match cumulative {
        Some(c) => Some(subject.cumulative(urls, c?.clone()).into()),
        None => None,
    };
    Some((subject.realtime(urls, rt.clone()).into(), cumulative))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wallboard_shared::resources::{RealTimeStats, TasksByStatus, WorkflowRealTimeStatistics};

    fn snapshot(rev: u64) -> Snapshot {
        let stats = RealTimeStats {
            longest_task_waiting_age: 0,
            longest_task_waiting_sid: None,
            tasks_by_priority: Default::default(),
            tasks_by_status: TasksByStatus::default(),
            total_tasks: 0,
        };
        Snapshot {
            id: "ignored".into(),
            rev,
            at: "2026-11-27T18:00:00Z".into(),
            stale: false,
            realtime: WorkflowRealTimeStatistics {
                account_sid: AccountSid::from_u128(1),
                workspace_sid: wallboard_shared::WorkspaceSid::from_u128(2),
                workflow_sid: wallboard_shared::WorkflowSid::from_u128(3),
                stats,
                url: "http://x/v1/Workspaces/WS/Workflows/WW/RealTimeStatistics".into(),
            }
            .into(),
            cumulative: None,
        }
    }

    /// The message of a complete server frame: one final, unmasked text frame.
    fn message(wire: &Bytes) -> ServerMessage {
        let mut cursor = std::io::Cursor::new(wire.as_ref());
        let (header, length) = FrameHeader::parse(&mut cursor).expect("a header").expect("a whole header");
        assert!(header.is_final && header.mask.is_none(), "{header:?}");
        assert_eq!(header.opcode, OpCode::Data(Data::Text));
        let payload = &wire[cursor.position() as usize..];
        assert_eq!(payload.len() as u64, length, "the frame is exactly its payload");
        serde_json::from_slice(payload).expect("a server message")
    }

    #[test]
    fn frame_wire_is_the_shared_snapshot_message_with_each_id() {
        let f = Frame::new(snapshot(3));
        assert!(f.tail.is_some(), "the serialized snapshot starts with {SNAPSHOT_HEAD}");
        for _ in 0..2 {
            let m = message(&f.wire("s\"1"));
            let ServerMessage::Snapshot(s) = m else { panic!("{m:?}") };
            assert_eq!(*s, Snapshot { id: "s\"1".into(), ..snapshot(3) });
        }
        assert_eq!(f.wire("a").as_ptr(), f.wire("a").as_ptr(), "one buffer per common id");
        // Many distinct ids still get their own, correct frame.
        for i in 0..20 {
            let m = message(&f.wire(&format!("x{i}")));
            let ServerMessage::Snapshot(s) = m else { panic!("{m:?}") };
            assert_eq!(s.id, format!("x{i}"));
            assert_eq!(s.rev, 3);
        }
        // A payload past 64 KiB takes the 8-byte length.
        let long = "y".repeat(70_000);
        let ServerMessage::Snapshot(s) = message(&f.wire(&long)) else { panic!("a snapshot") };
        assert_eq!(s.id, long);
    }
}
