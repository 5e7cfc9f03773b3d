//! Every way events enter: the one writer that makes them durable and applies them to
//! the engine, and the importer.
//!
//! One OS thread owns the event log. Callers hand it events through a channel and wait
//! for the acknowledgement, which comes only after the batch is committed to disk and
//! applied to the engine. The thread drains whatever is queued into one transaction
//! (group commit), so many concurrent webhooks cost one fsync.

pub mod import;
pub mod simulator;

use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;

use rustc_hash::FxHashSet;
use tokio::sync::{Notify, mpsc, oneshot};

use crate::engine::{Engine, Target};
use crate::event::Event;
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
    /// Apply what other processes stored (imports, backfills) since the last look.
    Follow,
}

/// Which targets changed since the last look: the writer (or the mirror) adds, the hub takes.
#[derive(Debug, Default)]
pub struct ChangeFeed {
    dirty: Mutex<FxHashSet<Target>>,
    notify: Notify,
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
        }
    }

    /// Waits until something changed, then takes the set of changed targets.
    pub async fn next(&self) -> FxHashSet<Target> {
        loop {
            let taken = std::mem::take(&mut *self.dirty.lock().unwrap_or_else(|p| p.into_inner()));
            if !taken.is_empty() {
                return taken;
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
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Write { events, .. } => write!(f, "Write({} events)", events.len()),
            Self::Purge { before_ms } => write!(f, "Purge({before_ms})"),
            Self::Follow => write!(f, "Follow"),
        }
    }
}

impl Ingest {
    /// Starts the writer thread. It stops once every handle is dropped and the queue is
    /// drained, so nothing acknowledged is lost on shutdown.
    pub fn start(mut log: Box<dyn EventLog>, engine: SharedEngine) -> (Self, JoinHandle<()>) {
        let (tx, mut rx) = mpsc::channel::<Command>(4096);
        let changes = Arc::new(ChangeFeed::default());
        let feed = changes.clone();
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
                    let changed = write_batch(log.as_mut(), &engine, &mut pending);
                    if !changed.is_empty() {
                        feed.mark(changed);
                    }
                }
                tracing::debug!("event writer drained and stopped");
            })
            .expect("the OS can start a thread");
        (Self { tx, changes }, thread)
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

    /// Asks the writer to apply events other processes stored (`wallboard import` or
    /// `backfill` while the server runs).
    pub async fn follow(&self) {
        let _ = self.tx.send(Command::Follow).await;
    }

    /// The feed of targets changed by committed events.
    pub fn changes(&self) -> Arc<ChangeFeed> {
        self.changes.clone()
    }
}

/// Commits all queued writes in one transaction, applies the new events, acknowledges.
/// Returns the targets whose numbers changed.
fn write_batch(log: &mut dyn EventLog, engine: &SharedEngine, pending: &mut Vec<Command>) -> FxHashSet<Target> {
    let mut events: Vec<Event> = Vec::new();
    let mut acks = Vec::new();
    let mut changed = FxHashSet::default();
    for cmd in pending.drain(..) {
        match cmd {
            Command::Write { events: mut batch, ack } => {
                acks.push((ack, events.len(), batch.len()));
                events.append(&mut batch);
            }
            Command::Purge { before_ms } => match log.purge(before_ms) {
                Ok(n) if n > 0 => tracing::info!(deleted = n, "purged events past the retention"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "purge failed"),
            },
            Command::Follow => {
                let mut engine = engine.write().unwrap_or_else(|p| p.into_inner());
                let followed = log.follow(&mut |e| {
                    let applied = engine.apply(&e);
                    changed.extend(applied.changed_targets());
                });
                match followed {
                    Ok(n) if n > 0 => tracing::info!(events = n, "applied events stored by another process"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "cannot read events stored by another process"),
                }
            }
        }
    }
    if events.is_empty() {
        engine.read().unwrap_or_else(|p| p.into_inner()).widen(&mut changed);
        return changed;
    }
    let result = log.append(&events).map_err(|e: StorageError| {
        tracing::error!(error = %e, events = events.len(), "cannot store events");
        IngestError::Storage(e.to_string())
    });
    if let Ok(fresh) = &result {
        let mut engine = engine.write().unwrap_or_else(|p| p.into_inner());
        for (e, &new) in events.iter().zip(fresh) {
            if new {
                let applied = engine.apply(e);
                changed.extend(applied.changed_targets());
            }
        }
        engine.widen(&mut changed);
    }
    for (ack, start, len) in acks {
        let _ = ack.send(result.as_ref().map(|f| f[start..start + len].to_vec()).map_err(Clone::clone));
    }
    changed
}
