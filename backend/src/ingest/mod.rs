//! Every way events enter: the one writer that makes them durable and applies them to
//! the engine, and the importer.
//!
//! One OS thread owns the event log. Callers hand it events through a channel and wait
//! for the acknowledgement, which comes only after the batch is committed to disk and
//! applied to the engine. The thread drains whatever is queued into one transaction
//! (group commit), so many concurrent webhooks cost one fsync.

pub mod import;
pub mod simulator;

use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;

use tokio::sync::{mpsc, oneshot, watch};

use crate::engine::Engine;
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
}

/// Cheap, cloneable handle to the writer thread.
#[derive(Debug, Clone)]
pub struct Ingest {
    tx: mpsc::Sender<Command>,
    /// Counts committed batches that changed the engine; watchers wake on every change.
    changes: watch::Receiver<u64>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Write { events, .. } => write!(f, "Write({} events)", events.len()),
            Self::Purge { before_ms } => write!(f, "Purge({before_ms})"),
        }
    }
}

impl Ingest {
    /// Starts the writer thread. It stops once every handle is dropped and the queue is
    /// drained, so nothing acknowledged is lost on shutdown.
    pub fn start(mut log: Box<dyn EventLog>, engine: SharedEngine) -> (Self, JoinHandle<()>) {
        let (tx, mut rx) = mpsc::channel::<Command>(4096);
        let (changes_tx, changes) = watch::channel(0u64);
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
                    if changed {
                        changes_tx.send_modify(|n| *n += 1);
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
        self.tx
            .send(Command::Write { events, ack })
            .await
            .map_err(|_| IngestError::Closed)?;
        done.await.map_err(|_| IngestError::Closed)?
    }

    /// Asks the writer to delete events older than `before_ms`.
    pub async fn purge(&self, before_ms: i64) {
        let _ = self.tx.send(Command::Purge { before_ms }).await;
    }

    /// A receiver that changes whenever committed events changed the engine.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changes.clone()
    }
}

/// Commits all queued writes in one transaction, applies the new events, acknowledges.
fn write_batch(log: &mut dyn EventLog, engine: &SharedEngine, pending: &mut Vec<Command>) -> bool {
    let mut events: Vec<Event> = Vec::new();
    let mut acks = Vec::new();
    for cmd in pending.drain(..) {
        match cmd {
            Command::Write {
                events: mut batch,
                ack,
            } => {
                acks.push((ack, events.len(), batch.len()));
                events.append(&mut batch);
            }
            Command::Purge { before_ms } => match log.purge(before_ms) {
                Ok(n) if n > 0 => tracing::info!(deleted = n, "purged events past the retention"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "purge failed"),
            },
        }
    }
    if events.is_empty() {
        return false;
    }
    let result = log.append(&events).map_err(|e: StorageError| {
        tracing::error!(error = %e, events = events.len(), "cannot store events");
        IngestError::Storage(e.to_string())
    });
    let mut changed = false;
    if let Ok(fresh) = &result {
        let mut engine = engine.write().unwrap_or_else(|p| p.into_inner());
        for (e, &new) in events.iter().zip(fresh) {
            if new {
                changed |= engine.apply(e).changed;
            }
        }
    }
    for (ack, start, len) in acks {
        let _ = ack.send(
            result
                .as_ref()
                .map(|f| f[start..start + len].to_vec())
                .map_err(Clone::clone),
        );
    }
    changed
}
