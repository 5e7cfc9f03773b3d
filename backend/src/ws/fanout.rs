//! The fan-out: a topic's new snapshot written to every subscriber's socket by a few
//! workers, without waking one task per client.
//!
//! The connections are split into shards (by connection id), one worker each, about one
//! per core. A worker watches each topic that any of its subscribers follows (one `watch`
//! receiver per topic and shard, not per client). When the hub publishes a revision, the
//! worker takes the frame (built once per id and shared, [`Frame::wire`]) and hands it to
//! each subscriber's connection ([`Conn::push_snapshot`]): one non-blocking `write` when
//! the socket has room, else the frame waits in the connection's outbox in place of its
//! older one and the session writes it as the socket drains. A slow client never holds
//! the worker up, and skips to the newest snapshot.

use std::collections::hash_map::Entry;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;
use rustc_hash::FxHashMap;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::conn::{Conn, Pushed};
use super::hub::{Frame, FrameRx, Subscribed};
use crate::metrics::Metrics;

/// Handle to the fan-out workers; cheap to clone.
#[derive(Debug, Clone)]
pub struct Fanout {
    shards: Arc<[mpsc::UnboundedSender<Command>]>,
}

#[derive(Debug)]
enum Command {
    Subscribe { topic: u64, rx: FrameRx, id: Arc<str>, sub: Sub },
    Unsubscribe { conn: u64, slot: u32 },
    Forget { conn: u64 },
}

/// One subscription of one connection.
#[derive(Debug)]
struct Sub {
    conn: Arc<Conn>,
    slot: u32,
    /// The revision last handed to the connection.
    last_rev: u64,
}

/// A topic's subscribers here that use the same subscription id: one frame for them all.
#[derive(Debug)]
struct Group {
    id: Arc<str>,
    subs: Vec<Sub>,
}

/// A worker writes this many frames, then lets other tasks run.
const YIELD_EVERY: usize = 1024;

impl Fanout {
    /// Starts `workers` fan-out workers (at least one) on `tasks`.
    pub fn start(workers: usize, tasks: &TaskTracker, stop: CancellationToken, metrics: Arc<Metrics>) -> Self {
        let shards = (0..workers.max(1))
            .map(|_| {
                let (tx, rx) = mpsc::unbounded_channel();
                let shard = Shard {
                    topics: FxHashMap::default(),
                    by_conn: FxHashMap::default(),
                    changes: FuturesUnordered::new(),
                    next_gen: 0,
                    metrics: metrics.clone(),
                };
                tasks.spawn(shard.run(rx, stop.clone()));
                tx
            })
            .collect();
        Self { shards }
    }

    fn send(&self, conn: u64, command: Command) {
        let shard = &self.shards[(conn % self.shards.len() as u64) as usize];
        // Fails only when the server stops: the session ends then too.
        let _ = shard.send(command);
    }

    /// Sends the topic's snapshots to `conn` as subscription `id` (open in `slot`), the
    /// current one at once.
    pub fn subscribe(&self, subscribed: Subscribed, conn: &Arc<Conn>, slot: u32, id: &str) {
        let sub = Sub { conn: conn.clone(), slot, last_rev: 0 };
        self.send(conn.id(), Command::Subscribe { topic: subscribed.topic, rx: subscribed.rx, id: id.into(), sub });
    }

    /// Ends a subscription; call [`Conn::end_slot`] first, which stops its frames at once.
    pub fn unsubscribe(&self, conn: &Conn, slot: u32) {
        self.send(conn.id(), Command::Unsubscribe { conn: conn.id(), slot });
    }

    /// Ends every subscription of a connection that closed.
    pub fn forget(&self, conn: &Conn) {
        self.send(conn.id(), Command::Forget { conn: conn.id() });
    }
}

/// What a shard's topic watch yields: the topic, the generation of its entry, and the
/// receiver and liveness token to watch again (`None`: the hub dropped the topic, or the
/// shard did).
type Change = (u64, u64, Option<(FrameRx, oneshot::Receiver<()>)>);

struct ShardTopic {
    /// Tells a late change of an earlier entry of the same topic from this one's.
    generation: u64,
    current: Arc<Frame>,
    /// Most topics have one group, a few a handful (dashboards use fixed ids).
    groups: Vec<Group>,
    /// Dropped with the entry: ends its watch, which drops the receiver.
    _alive: oneshot::Sender<()>,
}

struct Shard {
    topics: FxHashMap<u64, ShardTopic>,
    /// Each connection's (topic, slot) pairs.
    by_conn: FxHashMap<u64, Vec<(u64, u32)>>,
    changes: FuturesUnordered<BoxFuture<'static, Change>>,
    next_gen: u64,
    metrics: Arc<Metrics>,
}

fn watch(topic: u64, generation: u64, mut rx: FrameRx, mut alive: oneshot::Receiver<()>) -> BoxFuture<'static, Change> {
    Box::pin(async move {
        let changed = tokio::select! {
            changed = rx.changed() => changed.is_ok(),
            _ = &mut alive => false,
        };
        (topic, generation, changed.then_some((rx, alive)))
    })
}

impl Shard {
    async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>, stop: CancellationToken) {
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                command = commands.recv() => match command {
                    Some(command) => self.command(command),
                    None => return,
                },
                Some(change) = self.changes.next(), if !self.changes.is_empty() => self.changed(change).await,
            }
        }
    }

    fn command(&mut self, command: Command) {
        match command {
            Command::Subscribe { topic, mut rx, id, mut sub } => {
                let newest = rx.borrow_and_update().clone();
                let entry = match self.topics.entry(topic) {
                    Entry::Occupied(o) => o.into_mut(),
                    Entry::Vacant(v) => {
                        let generation = self.next_gen;
                        self.next_gen += 1;
                        let (alive, alive_rx) = oneshot::channel();
                        self.changes.push(watch(topic, generation, rx, alive_rx));
                        v.insert(ShardTopic { generation, current: newest.clone(), groups: Vec::new(), _alive: alive })
                    }
                };
                // This shard may not have seen the newest revision yet; it goes out when it does.
                let first = if newest.rev > entry.current.rev { newest } else { entry.current.clone() };
                self.by_conn.entry(sub.conn.id()).or_default().push((topic, sub.slot));
                let bytes = first.wire(&id);
                sub.last_rev = first.rev;
                match sub.conn.push_snapshot(sub.slot, &bytes) {
                    Pushed::Written | Pushed::Queued { replaced: false } => {
                        self.metrics.ws_frames_sent.inc();
                    }
                    Pushed::Queued { replaced: true } => {
                        self.metrics.ws_frames_dropped.inc();
                    }
                    Pushed::Ended | Pushed::Closed => {}
                }
                match entry.groups.iter_mut().find(|g| g.id == id) {
                    Some(group) => group.subs.push(sub),
                    None => entry.groups.push(Group { id, subs: vec![sub] }),
                }
            }
            Command::Unsubscribe { conn, slot } => {
                if let Some(pairs) = self.by_conn.get_mut(&conn) {
                    let mut ended = Vec::new();
                    pairs.retain(|&(topic, s)| {
                        let keep = s != slot;
                        if !keep {
                            ended.push(topic);
                        }
                        keep
                    });
                    if pairs.is_empty() {
                        self.by_conn.remove(&conn);
                    }
                    for topic in ended {
                        self.remove(topic, conn, Some(slot));
                    }
                }
            }
            Command::Forget { conn } => {
                for (topic, _) in self.by_conn.remove(&conn).unwrap_or_default() {
                    self.remove(topic, conn, None);
                }
            }
        }
    }

    /// Removes a connection's subscriptions (of `slot`, or all) from a topic; the topic
    /// goes when nobody here follows it.
    fn remove(&mut self, topic: u64, conn: u64, slot: Option<u32>) {
        if let Entry::Occupied(mut o) = self.topics.entry(topic) {
            let groups = &mut o.get_mut().groups;
            for group in groups.iter_mut() {
                group.subs.retain(|s| s.conn.id() != conn || slot.is_some_and(|slot| s.slot != slot));
            }
            groups.retain(|g| !g.subs.is_empty());
            if groups.is_empty() {
                o.remove();
            }
        }
    }

    async fn changed(&mut self, (topic, generation, watched): Change) {
        let Entry::Occupied(mut o) = self.topics.entry(topic) else { return };
        if o.get().generation != generation {
            return;
        }
        let Some((mut rx, alive)) = watched else {
            // The hub dropped the topic (it stops): nothing more will come.
            o.remove();
            return;
        };
        let frame = rx.borrow_and_update().clone();
        self.changes.push(watch(topic, generation, rx, alive));
        let entry = o.get_mut();
        entry.current = frame.clone();
        for group in &mut entry.groups {
            deliver(group, &frame, &self.metrics).await;
        }
        entry.groups.retain(|g| !g.subs.is_empty());
        if entry.groups.is_empty() {
            o.remove();
        }
    }
}

/// Hands `frame` to every subscriber of a group that has not had it; drops those whose
/// connection or subscription ended.
async fn deliver(group: &mut Group, frame: &Frame, metrics: &Metrics) {
    let subs = &mut group.subs;
    let mut bytes: Option<Bytes> = None;
    let (mut sent, mut dropped) = (0, 0);
    let (mut i, mut since_yield) = (0, 0);
    while i < subs.len() {
        let sub = &mut subs[i];
        if frame.rev <= sub.last_rev {
            i += 1;
            continue;
        }
        let bytes = bytes.get_or_insert_with(|| frame.wire(&group.id));
        // Revisions published while this worker was busy.
        dropped += frame.rev - sub.last_rev - 1;
        sub.last_rev = frame.rev;
        match sub.conn.push_snapshot(sub.slot, bytes) {
            Pushed::Written | Pushed::Queued { replaced: false } => sent += 1,
            // The one it replaced was counted as sent.
            Pushed::Queued { replaced: true } => dropped += 1,
            Pushed::Ended | Pushed::Closed => {
                subs.swap_remove(i);
                continue;
            }
        }
        i += 1;
        since_yield += 1;
        if since_yield == YIELD_EVERY {
            since_yield = 0;
            tokio::task::yield_now().await;
        }
    }
    metrics.ws_frames_sent.inc_by(sent);
    metrics.ws_frames_dropped.inc_by(dropped);
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::AsyncReadExt;
    use tokio::net::{TcpListener, TcpStream};
    use tokio::sync::watch;
    use tungstenite::protocol::frame::FrameHeader;
    use wallboard_shared::resources::{RealTimeStats, TasksByStatus, WorkflowRealTimeStatistics};
    use wallboard_shared::ws::{ServerMessage, Snapshot};

    use super::*;

    fn frame(rev: u64) -> Arc<Frame> {
        let stats = RealTimeStats {
            longest_task_waiting_age: 0,
            longest_task_waiting_sid: None,
            tasks_by_priority: Default::default(),
            tasks_by_status: TasksByStatus::default(),
            total_tasks: rev,
        };
        let realtime = WorkflowRealTimeStatistics {
            account_sid: wallboard_shared::AccountSid::from_u128(1),
            workspace_sid: wallboard_shared::WorkspaceSid::from_u128(2),
            workflow_sid: wallboard_shared::WorkflowSid::from_u128(3),
            stats,
            url: "http://x/v1/Workspaces/WS/Workflows/WW/RealTimeStatistics".into(),
        };
        let snapshot = Snapshot {
            id: String::new(),
            rev,
            at: "2026-11-27T18:00:00Z".into(),
            stale: false,
            realtime: realtime.into(),
            cumulative: None,
        };
        Arc::new(Frame::new(snapshot))
    }

    /// A server connection (framed, as after an upgrade) and its client end.
    async fn pair(listener: &TcpListener) -> (Arc<Conn>, TcpStream) {
        let client = TcpStream::connect(listener.local_addr().expect("addr")).await.expect("connect");
        let (server, _) = listener.accept().await.expect("accept");
        let conn = Conn::new(server);
        conn.set_framed();
        (conn, client)
    }

    /// Reads whole frames until `n` snapshots came; returns their (id, rev).
    async fn snapshots(client: &mut TcpStream, n: usize) -> Vec<(String, u64)> {
        let mut buf = Vec::new();
        let mut out = Vec::new();
        while out.len() < n {
            let mut cursor = std::io::Cursor::new(&buf);
            if let Some((_, length)) = FrameHeader::parse(&mut cursor).expect("a frame header") {
                let start = cursor.position() as usize;
                let end = start + length as usize;
                if buf.len() >= end {
                    let m: ServerMessage = serde_json::from_slice(&buf[start..end]).expect("a server message");
                    let ServerMessage::Snapshot(s) = m else { panic!("not a snapshot: {m:?}") };
                    out.push((s.id, s.rev));
                    buf.drain(..end);
                    continue;
                }
            }
            let mut chunk = [0; 4096];
            let read = tokio::time::timeout(Duration::from_secs(10), client.read(&mut chunk)).await;
            let n = read.expect("a frame within 10 s").expect("read");
            assert!(n > 0, "the connection closed");
            buf.extend_from_slice(&chunk[..n]);
        }
        out
    }

    fn start(workers: usize) -> (Fanout, Arc<Metrics>, TaskTracker, CancellationToken) {
        let (tasks, stop, metrics) = (TaskTracker::new(), CancellationToken::new(), Arc::new(Metrics::default()));
        (Fanout::start(workers, &tasks, stop.clone(), metrics.clone()), metrics, tasks, stop)
    }

    /// Every subscriber, whatever its shard, gets the current snapshot at once and then each
    /// revision once, in order, under its own id.
    #[tokio::test]
    async fn every_subscriber_gets_each_revision_once_in_order() {
        let (fanout, metrics, _tasks, stop) = start(2);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let (tx, _) = watch::channel(frame(1));
        let mut clients = Vec::new();
        for i in 0..20 {
            let (conn, client) = pair(&listener).await;
            let id = if i % 2 == 0 { "w" } else { "other" };
            let slot = conn.open_slot();
            fanout.subscribe(Subscribed { topic: 7, rx: tx.subscribe() }, &conn, slot, id);
            clients.push((conn, client, id));
        }
        for (_, client, id) in &mut clients {
            assert_eq!(snapshots(client, 1).await, [(id.to_string(), 1)]);
        }
        for rev in 2..=4 {
            tx.send_replace(frame(rev));
            for (_, client, id) in &mut clients {
                assert_eq!(snapshots(client, 1).await, [(id.to_string(), rev)]);
            }
        }
        assert_eq!(metrics.ws_frames_sent.get(), 80);
        stop.cancel();
    }

    /// A client that reads nothing holds one waiting snapshot, the newest, and delays no one;
    /// what it skipped is counted as dropped. Ending the subscriptions drops the topic's
    /// receivers, so the hub can let the topic go.
    #[tokio::test]
    async fn a_client_that_reads_nothing_skips_to_the_newest_and_delays_no_one() {
        let (fanout, metrics, _tasks, stop) = start(1);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        // Snapshots big enough to fill the stuck client's socket buffers quickly.
        let big = |rev: u64| {
            let mut snapshot = frame(rev).snapshot_for_tests().clone();
            if let wallboard_shared::ws::RealTime::Workflow(w) = &mut snapshot.realtime {
                w.url = "u".repeat(256 * 1024);
            }
            Arc::new(Frame::new(snapshot))
        };
        let (tx, _) = watch::channel(big(1));
        let (stuck, _stuck_client) = pair(&listener).await;
        let (live, mut live_client) = pair(&listener).await;
        let (stuck_slot, live_slot) = (stuck.open_slot(), live.open_slot());
        fanout.subscribe(Subscribed { topic: 1, rx: tx.subscribe() }, &stuck, stuck_slot, "s");
        fanout.subscribe(Subscribed { topic: 1, rx: tx.subscribe() }, &live, live_slot, "s");
        assert_eq!(snapshots(&mut live_client, 1).await, [("s".to_owned(), 1)]);
        for rev in 2..=30 {
            tx.send_replace(big(rev));
            // The live client gets every revision although the other reads nothing.
            assert_eq!(snapshots(&mut live_client, 1).await, [("s".to_owned(), rev)]);
        }
        let waiting = stuck.backlog_bytes();
        assert!(waiting > 0, "the stuck client's socket is full");
        assert!(waiting < 2 * 256 * 1024 + 1024, "at most the one started and the newest wait: {waiting}");
        assert!(metrics.ws_frames_dropped.get() > 0, "the stuck client's skipped snapshots are counted");
        fanout.forget(&stuck);
        live.end_slot(live_slot);
        fanout.unsubscribe(&live, live_slot);
        tokio::time::timeout(Duration::from_secs(10), tx.closed()).await.expect("every receiver dropped");
        stop.cancel();
    }
}
