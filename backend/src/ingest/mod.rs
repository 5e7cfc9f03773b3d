//! Every way events enter: the one writer that makes them durable and applies them to
//! the engine, and the importer.
//!
//! One OS thread owns the event log. Callers hand it events through a channel and wait
//! for the acknowledgement, which comes only after the batch is committed to disk and
//! applied to the engine. The thread drains whatever is queued into one transaction
//! (group commit), so many concurrent webhooks cost one fsync. It is also the engine's writer
//! once the server runs (events, other processes' events, the clock's maintenance; besides it
//! only a mirror's discovery, on an engine without events): no one waits for the engine's
//! write lock while the thread holds a read lock to write the engine snapshot, so readers
//! (REST, the hub) never queue behind such a waiter.

pub mod import;
pub mod simulator;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rustc_hash::FxHashSet;
use tokio::sync::{Notify, mpsc, oneshot, watch};

use crate::engine::{Engine, Target};
use crate::event::Event;
use crate::metrics::{Metrics, Origin};
use crate::storage::{EventLog, StorageError};

/// The engine as shared between the writer (write lock) and readers (read lock). Locks
/// are held only for synchronous work, never across an `.await`.
pub type SharedEngine = Arc<RwLock<Engine>>;

/// Most events committed in one transaction.
const MAX_BATCH_EVENTS: usize = 10_000;

#[derive(Debug, Clone, thiserror::Error)]
pub enum IngestError {
    #[error("the event log is unavailable: {0}")]
    Storage(String),
    #[error("the server is shutting down")]
    Closed,
}

enum Command {
    Write {
        events: Vec<Event>,
        ack: oneshot::Sender<Result<Vec<bool>, IngestError>>,
    },
    Purge {
        before_ms: i64,
    },
    /// Apply what other processes stored (imports, backfills, other nodes) since the last
    /// look; `done` is told when it is applied.
    Follow {
        done: Option<oneshot::Sender<()>>,
    },
    /// The clock's maintenance of the engine ([`Engine::maintain`]).
    Maintain {
        now_ms: i64,
    },
}

/// How long the database may be unreachable before the numbers are marked stale.
pub const STALE_AFTER: Duration = Duration::from_secs(3);

/// Whether the database answers: the writer and (on a shared database) the follower tell
/// what they saw; the numbers are stale once it has been unreachable for [`STALE_AFTER`].
#[derive(Debug)]
pub struct DatabaseHealth {
    /// Since when the database is unreachable (`None`: it answers).
    down_since: watch::Sender<Option<Instant>>,
}

impl Default for DatabaseHealth {
    fn default() -> Self {
        Self { down_since: watch::Sender::new(None) }
    }
}

impl DatabaseHealth {
    /// The database answered.
    pub fn up(&self) {
        self.down_since.send_if_modified(|since| {
            let was_down = since.take().is_some();
            if was_down {
                tracing::info!("the database is reachable again");
            }
            was_down
        });
    }

    /// The database could not be reached.
    pub fn down(&self) {
        self.down_since.send_if_modified(|since| {
            if since.is_some() {
                return false;
            }
            tracing::warn!("the database is unreachable; serving the last numbers");
            *since = Some(Instant::now());
            true
        });
    }

    pub fn is_up(&self) -> bool {
        self.down_since.borrow().is_none()
    }

    /// Unreachable for [`STALE_AFTER`] or longer: what this node serves may be out of date.
    pub fn stale(&self) -> bool {
        self.down_since.borrow().is_some_and(|t| t.elapsed() >= STALE_AFTER)
    }

    /// The changes: since when the database is unreachable, `None` when it answers.
    pub fn subscribe(&self) -> watch::Receiver<Option<Instant>> {
        self.down_since.subscribe()
    }

    /// Tells what a storage call's result says about the database.
    fn saw<T>(&self, result: &Result<T, StorageError>) {
        match result {
            Ok(_) => self.up(),
            Err(e) if e.is_unavailable() => self.down(),
            Err(_) => {}
        }
    }
}

/// Which targets changed since the last look: the writer (or the mirror) adds, the hub takes.
#[derive(Debug, Default)]
pub struct ChangeFeed {
    dirty: Mutex<FxHashSet<Target>>,
    /// Every target changed (the numbers became stale, or fresh again).
    all: AtomicBool,
    notify: Notify,
    /// Moves on every change: for readers other than the hub (the alert evaluator), which
    /// look at everything and need only to know that something changed.
    generation: tokio::sync::watch::Sender<u64>,
}

/// What changed since the last look.
#[derive(Debug, Default)]
pub struct Changed {
    pub targets: FxHashSet<Target>,
    /// Every target, whatever `targets` holds.
    pub all: bool,
}

impl Changed {
    pub fn contains(&self, target: &Target) -> bool {
        self.all || self.targets.contains(target)
    }
}

impl ChangeFeed {
    /// Records changed targets and wakes the waiter.
    pub fn mark(&self, targets: impl IntoIterator<Item = Target>) {
        let mut dirty = self.dirty.lock().unwrap_or_else(|p| p.into_inner());
        let before = dirty.len();
        dirty.extend(targets);
        let grew = dirty.len() > before;
        drop(dirty);
        if grew {
            self.notify.notify_one();
            self.generation.send_modify(|g| *g = g.wrapping_add(1));
        }
    }

    /// Changes when anything changes (see `generation`).
    pub fn generation(&self) -> tokio::sync::watch::Receiver<u64> {
        self.generation.subscribe()
    }

    /// Records that every target changed (what all numbers carry, their staleness).
    pub fn mark_all(&self) {
        self.all.store(true, Ordering::Release);
        self.notify.notify_one();
        self.generation.send_modify(|g| *g = g.wrapping_add(1));
    }

    /// Waits until something changed, then takes what changed.
    pub async fn next(&self) -> Changed {
        loop {
            let targets = std::mem::take(&mut *self.dirty.lock().unwrap_or_else(|p| p.into_inner()));
            let all = self.all.swap(false, Ordering::AcqRel);
            if all || !targets.is_empty() {
                return Changed { targets, all };
            }
            self.notify.notified().await;
        }
    }
}

/// Cheap, cloneable handle to the writer thread.
#[derive(Debug, Clone)]
pub struct Ingest {
    tx: mpsc::Sender<Command>,
    changes: Arc<ChangeFeed>,
    health: Arc<DatabaseHealth>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Write { events, .. } => write!(f, "Write({} events)", events.len()),
            Self::Purge { before_ms } => write!(f, "Purge({before_ms})"),
            Self::Follow { .. } => write!(f, "Follow"),
            Self::Maintain { now_ms } => write!(f, "Maintain({now_ms})"),
        }
    }
}

/// Work the writer does between batches: see [`Ingest::start_with`].
pub type Between = Box<dyn FnMut(&mut dyn EventLog, &SharedEngine) -> FxHashSet<Target> + Send>;

impl Ingest {
    /// Starts the writer thread. It stops once every handle is dropped and the queue is
    /// drained, so nothing acknowledged is lost on shutdown.
    /// `metrics` counts commits (their latency and size) and applied events.
    pub fn start(
        log: Box<dyn EventLog>,
        engine: SharedEngine,
        metrics: Arc<Metrics>,
    ) -> (Self, JoinHandle<Box<dyn EventLog>>) {
        Self::start_with(log, engine, metrics, None)
    }

    /// [`Ingest::start`], with `between` run by the writer after each batch (the periodic
    /// engine snapshot): it may follow the log and apply what it reads, and returns the
    /// targets that changed.
    pub fn start_with(
        mut log: Box<dyn EventLog>,
        engine: SharedEngine,
        metrics: Arc<Metrics>,
        mut between: Option<Between>,
    ) -> (Self, JoinHandle<Box<dyn EventLog>>) {
        let (tx, mut rx) = mpsc::channel::<Command>(4096);
        let changes = Arc::new(ChangeFeed::default());
        let feed = changes.clone();
        let health = Arc::new(DatabaseHealth::default());
        let seen = health.clone();
        let thread = std::thread::Builder::new()
            .name("event-writer".into())
            .spawn(move || {
                let mut pending: Vec<Command> = Vec::new();
                while let Some(first) = rx.blocking_recv() {
                    pending.push(first);
                    let mut queued = 0;
                    while queued < MAX_BATCH_EVENTS {
                        match rx.try_recv() {
                            Ok(cmd) => {
                                if let Command::Write { events, .. } = &cmd {
                                    queued += events.len();
                                }
                                pending.push(cmd);
                            }
                            Err(_) => break,
                        }
                    }
                    let mut changed = write_batch(log.as_mut(), &engine, &seen, &metrics, &mut pending);
                    if let Some(between) = between.as_mut() {
                        changed.extend(between(log.as_mut(), &engine));
                    }
                    if !changed.is_empty() {
                        feed.mark(changed);
                    }
                }
                tracing::debug!("event writer drained and stopped");
                log
            })
            .expect("the OS can start a thread");
        (Self { tx, changes, health }, thread)
    }

    /// Stores `events` and applies the new ones; returns which were new.
    pub async fn submit(&self, events: Vec<Event>) -> Result<Vec<bool>, IngestError> {
        let (ack, done) = oneshot::channel();
        self.tx.send(Command::Write { events, ack }).await.map_err(|_| IngestError::Closed)?;
        done.await.map_err(|_| IngestError::Closed)?
    }

    /// Asks the writer to delete events older than `before_ms`.
    pub async fn purge(&self, before_ms: i64) {
        let _ = self.tx.send(Command::Purge { before_ms }).await;
    }

    /// Asks the writer to maintain the engine as of `now_ms` (sealing and evicting what the
    /// clock has passed). Returns once it is queued: the caller never waits for the engine.
    pub async fn maintain(&self, now_ms: i64) {
        let _ = self.tx.send(Command::Maintain { now_ms }).await;
    }

    /// Asks the writer to apply events other processes stored (`wallboard import` or
    /// `backfill` while the server runs, other nodes on a shared database).
    pub async fn follow(&self) {
        let _ = self.tx.send(Command::Follow { done: None }).await;
    }

    /// [`Ingest::follow`] from a thread that is not async; waits until it is applied.
    /// False when the writer stopped.
    pub fn follow_blocking(&self) -> bool {
        let (done, applied) = oneshot::channel();
        self.tx.blocking_send(Command::Follow { done: Some(done) }).is_ok() && applied.blocking_recv().is_ok()
    }

    /// What the writer and the follower saw of the database.
    pub fn health(&self) -> Arc<DatabaseHealth> {
        self.health.clone()
    }

    /// The feed of targets changed by committed events.
    pub fn changes(&self) -> Arc<ChangeFeed> {
        self.changes.clone()
    }
}

/// Commits all queued writes in one transaction, applies the new events, acknowledges.
/// Returns the targets whose numbers changed.
fn write_batch(
    log: &mut dyn EventLog,
    engine: &SharedEngine,
    health: &DatabaseHealth,
    metrics: &Metrics,
    pending: &mut Vec<Command>,
) -> FxHashSet<Target> {
    let mut events: Vec<Event> = Vec::new();
    let mut acks = Vec::new();
    let mut changed = FxHashSet::default();
    for cmd in pending.drain(..) {
        match cmd {
            Command::Write { events: mut batch, ack } => {
                acks.push((ack, events.len(), batch.len()));
                events.append(&mut batch);
            }
            Command::Maintain { now_ms } => engine.write().unwrap_or_else(|p| p.into_inner()).maintain(now_ms),
            Command::Purge { before_ms } => match log.purge(before_ms) {
                Ok(n) if n > 0 => tracing::info!(deleted = n, "purged events past the retention"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "purge failed"),
            },
            Command::Follow { done } => {
                let mut engine = engine.write().unwrap_or_else(|p| p.into_inner());
                let followed = log.follow(&mut |e| {
                    let applied = engine.apply(&e);
                    changed.extend(applied.changed_targets());
                });
                drop(engine);
                health.saw(&followed);
                if let Some(done) = done {
                    let _ = done.send(());
                }
                if let Ok(n) = &followed {
                    metrics.applied(Origin::Followed, *n);
                }
                match followed {
                    Ok(n) if n > 0 => tracing::debug!(events = n, "applied events stored by another process"),
                    Ok(_) => {}
                    // An unreachable database is logged once, by `DatabaseHealth`.
                    Err(e) if e.is_unavailable() => {}
                    Err(e) => tracing::warn!(error = %e, "cannot read events stored by another process"),
                }
            }
        }
    }
    if events.is_empty() {
        engine.read().unwrap_or_else(|p| p.into_inner()).widen(&mut changed);
        return changed;
    }
    let started = Instant::now();
    let result = log.append(&events);
    health.saw(&result);
    if result.is_ok() {
        metrics.commit_seconds.observe(started.elapsed().as_secs_f64());
        metrics.commit_events.observe(events.len() as f64);
    } else {
        metrics.commit_failures.inc();
    }
    let result = result.map_err(|e: StorageError| {
        tracing::error!(error = %e, events = events.len(), "cannot store events");
        IngestError::Storage(e.to_string())
    });
    if let Ok(fresh) = &result {
        let mut engine = engine.write().unwrap_or_else(|p| p.into_inner());
        let mut applied_new = 0;
        for (e, &new) in events.iter().zip(fresh) {
            if new {
                let applied = engine.apply(e);
                changed.extend(applied.changed_targets());
                applied_new += 1;
            }
        }
        engine.widen(&mut changed);
        drop(engine);
        metrics.applied(Origin::Own, applied_new);
    }
    for (ack, start, len) in acks {
        let _ = ack.send(result.as_ref().map(|f| f[start..start + len].to_vec()).map_err(Clone::clone));
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::SqliteLog;
    use std::sync::mpsc as std_mpsc;

    const WAIT: Duration = Duration::from_secs(20);

    /// While the writer holds the engine for reading, as it does to write the engine snapshot,
    /// maintenance asked of it is queued (the caller does not wait) and readers are not made
    /// to queue behind a waiting writer; it is done once the writer is free.
    #[tokio::test]
    async fn maintenance_waits_for_the_writer_not_the_readers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = SqliteLog::open_dir(dir.path()).expect("open the log");
        let engine: SharedEngine = Arc::new(RwLock::new(Engine::default()));
        let (held_tx, held) = std_mpsc::channel::<()>();
        let (release, release_rx) = std_mpsc::channel::<()>();
        let mut first = true;
        let between: Between = Box::new(move |_log, engine| {
            if std::mem::take(&mut first) {
                let _reading = engine.read().unwrap_or_else(|p| p.into_inner());
                held_tx.send(()).expect("the test waits");
                release_rx.recv_timeout(WAIT).expect("released");
            }
            FxHashSet::default()
        });
        let (ingest, writer) = Ingest::start_with(Box::new(log), engine.clone(), Arc::default(), Some(between));
        ingest.follow().await;
        tokio::task::spawn_blocking(move || held.recv_timeout(WAIT)).await.expect("join").expect("the writer reads");

        tokio::time::timeout(WAIT, ingest.maintain(1_000)).await.expect("queued without waiting for the engine");
        assert!(engine.try_read().is_ok(), "a reader gets in while the writer is busy");
        assert_eq!(engine.read().expect("read").maintained_at(), None, "not yet: the writer is busy");

        release.send(()).expect("the writer waits");
        assert!(
            tokio::task::spawn_blocking({
                let ingest = ingest.clone();
                move || ingest.follow_blocking()
            })
            .await
            .expect("join")
        );
        assert_eq!(engine.read().expect("read").maintained_at(), Some(1_000), "done by the writer");
        drop(ingest);
        tokio::task::spawn_blocking(move || writer.join().expect("the writer does not panic")).await.expect("join");
    }
}
