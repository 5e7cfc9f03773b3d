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
    Subscribe { topic: u64, rx: FrameRx, sub: Sub },
    Unsubscribe { conn: u64, slot: u32 },
    Forget { conn: u64 },
}

/// One subscription of one connection.
#[derive(Debug)]
struct Sub {
    conn: Arc<Conn>,
    slot: u32,
    id: Arc<str>,
    /// The revision last handed to the connection.
    last_rev: u64,
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
        let sub = Sub { conn: conn.clone(), slot, id: id.into(), last_rev: 0 };
        self.send(conn.id(), Command::Subscribe { topic: subscribed.topic, rx: subscribed.rx, sub });
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
    subs: Vec<Sub>,
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
            Command::Subscribe { topic, mut rx, mut sub } => {
                let newest = rx.borrow_and_update().clone();
                let entry = match self.topics.entry(topic) {
                    Entry::Occupied(o) => o.into_mut(),
                    Entry::Vacant(v) => {
                        let generation = self.next_gen;
                        self.next_gen += 1;
                        let (alive, alive_rx) = oneshot::channel();
                        self.changes.push(watch(topic, generation, rx, alive_rx));
                        v.insert(ShardTopic { generation, current: newest.clone(), subs: Vec::new(), _alive: alive })
                    }
                };
                // This shard may not have seen the newest revision yet; it goes out when it does.
                let first = if newest.rev > entry.current.rev { newest } else { entry.current.clone() };
                self.by_conn.entry(sub.conn.id()).or_default().push((topic, sub.slot));
                let bytes = first.wire(&sub.id);
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
                entry.subs.push(sub);
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
            o.get_mut().subs.retain(|s| s.conn.id() != conn || slot.is_some_and(|slot| s.slot != slot));
            if o.get().subs.is_empty() {
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
        deliver(&mut entry.subs, &frame, &self.metrics).await;
        if entry.subs.is_empty() {
            o.remove();
        }
    }
}

/// Hands `frame` to every subscriber that has not had it; drops those whose connection
/// or subscription ended.
async fn deliver(subs: &mut Vec<Sub>, frame: &Frame, metrics: &Metrics) {
    // Most subscribers of a topic use the same id: its frame is looked up once.
    let mut shared: Option<(Arc<str>, Bytes)> = None;
    let (mut sent, mut dropped) = (0, 0);
    let (mut i, mut since_yield) = (0, 0);
    while i < subs.len() {
        let sub = &mut subs[i];
        if frame.rev <= sub.last_rev {
            i += 1;
            continue;
        }
        let bytes = match &shared {
            Some((id, bytes)) if **id == *sub.id => bytes.clone(),
            _ => {
                let bytes = frame.wire(&sub.id);
                shared = Some((sub.id.clone(), bytes.clone()));
                bytes
            }
        };
        // Revisions published while this worker was busy.
        dropped += frame.rev - sub.last_rev - 1;
        sub.last_rev = frame.rev;
        match sub.conn.push_snapshot(sub.slot, &bytes) {
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
