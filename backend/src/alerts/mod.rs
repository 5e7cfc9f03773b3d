//! Alert rules at work: their evaluation on every change of the numbers (`evaluate`), the
//! value of a rule's measure (`measure`), the alerts they raise (stored, acknowledged,
//! shown on every wall: [`Alerts`] and its [`Board`]) and the notifications sent to
//! webhooks (`notify`). Everything is kept in the [`DocumentStore`] (`store`), so rules and
//! alerts survive a restart and are shared by every node of a cluster.
//!
//! In a cluster one node evaluates (the `alerts` role) and notifies; every node's board
//! reads the firing alerts from the store when its revision moves (at once after a write
//! on this node, else within [`BOARD_POLL`]) and pushes them to its viewers.

pub mod evaluate;
pub mod measure;
pub mod notify;
pub mod store;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;
use wallboard_shared::alerts::{Alert, RuleState, Sample};
use wallboard_shared::sid::WorkspaceSid;

use crate::storage::{DocumentStore, StorageError};

/// How often a node looks whether another node changed the alerts.
pub const BOARD_POLL: Duration = Duration::from_millis(250);

/// The alerts firing now, for every viewer of this node.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Board {
    /// (workspace, alert), oldest first, acknowledgements filled in.
    pub alerts: Vec<(WorkspaceSid, Alert)>,
}

impl Board {
    /// The firing alerts of one workspace.
    pub fn of(&self, ws: &WorkspaceSid) -> Vec<Alert> {
        self.alerts.iter().filter(|(w, _)| w == ws).map(|(_, a)| a.clone()).collect()
    }
}

/// A shared connection to the documents (service levels, alert rules, alerts).
pub type Documents = Arc<Mutex<Box<dyn DocumentStore>>>;

/// Runs `f` on the documents, off the async runtime.
pub async fn with_docs<T: Send + 'static>(
    docs: &Documents,
    f: impl FnOnce(&mut dyn DocumentStore) -> Result<T, StorageError> + Send + 'static,
) -> Result<T, StorageError> {
    let docs = docs.clone();
    tokio::task::spawn_blocking(move || {
        let mut store = docs.lock().unwrap_or_else(|p| p.into_inner());
        f(store.as_mut())
    })
    .await
    .map_err(|e| StorageError::Unavailable(format!("the documents' task failed: {e}")))?
}

/// This node's view of the alerts: the board its viewers see.
#[derive(Debug)]
pub struct Alerts {
    docs: Documents,
    board: watch::Sender<Arc<Board>>,
    refresh: Notify,
    /// Each rule's last evaluation on this node, by rule SID (empty unless this node
    /// evaluates).
    states: Mutex<HashMap<String, RuleState>>,
    /// The values recorded for each series (`measure::series_key`) over the last
    /// [`RECORD_FOR`]: every change, and every [`RECORD_EVERY`] while the value stays; for
    /// previews.
    recorded: Mutex<HashMap<String, VecDeque<Sample>>>,
}

/// How long recorded values are kept (a preview's span), and how close they may be.
pub const RECORD_FOR: Duration = Duration::from_secs(3600);
pub const RECORD_EVERY: Duration = Duration::from_secs(5);
/// The most values kept per series (the evaluator runs at most 10 times a second).
pub const MAX_RECORDED: usize = 10_000;

impl Alerts {
    pub fn new(docs: Documents) -> Arc<Self> {
        Arc::new(Self {
            docs,
            board: watch::Sender::new(Arc::new(Board::default())),
            refresh: Notify::new(),
            states: Mutex::new(HashMap::new()),
            recorded: Mutex::new(HashMap::new()),
        })
    }

    /// Records a series' value (kept for [`RECORD_FOR`], at most one per [`RECORD_EVERY`]).
    pub fn record(&self, key: String, sample: Sample) {
        let mut recorded = self.recorded.lock().unwrap_or_else(|p| p.into_inner());
        let series = recorded.entry(key).or_default();
        // Every change, and the value every RECORD_EVERY while it stays: the tracker's
        // durations replay exactly, at the evaluator's resolution.
        if series.back().is_some_and(|last| {
            last.value == sample.value && sample.at_ms - last.at_ms < RECORD_EVERY.as_millis() as i64
        }) {
            return;
        }
        series.push_back(sample);
        if series.len() > MAX_RECORDED {
            series.pop_front();
        }
        let oldest = sample.at_ms - RECORD_FOR.as_millis() as i64;
        while series.front().is_some_and(|s| s.at_ms < oldest) {
            series.pop_front();
        }
        // Series nobody records any more fade out with their last value.
        recorded.retain(|_, s| s.back().is_some_and(|last| last.at_ms >= oldest));
    }

    /// A series' recorded values, oldest first.
    pub fn recorded(&self, key: &str) -> Vec<Sample> {
        let recorded = self.recorded.lock().unwrap_or_else(|p| p.into_inner());
        recorded.get(key).map(|s| s.iter().copied().collect()).unwrap_or_default()
    }

    /// A rule's last evaluation on this node.
    pub fn state(&self, rule: &str) -> Option<RuleState> {
        self.states.lock().unwrap_or_else(|p| p.into_inner()).get(rule).cloned()
    }

    /// Records a pass of the evaluator (every rule's state), or forgets them all (`None`:
    /// this node stopped evaluating).
    pub fn set_states(&self, states: Option<HashMap<String, RuleState>>) {
        *self.states.lock().unwrap_or_else(|p| p.into_inner()) = states.unwrap_or_default();
    }

    pub fn docs(&self) -> &Documents {
        &self.docs
    }

    /// The board now and its changes.
    pub fn board(&self) -> watch::Receiver<Arc<Board>> {
        self.board.subscribe()
    }

    /// Asks the board to read the store again now (after a write on this node).
    pub fn refresh(&self) {
        self.refresh.notify_one();
    }

    /// Keeps the board current until `stop`: reads the firing alerts whenever the store's
    /// revision moved, looking every [`BOARD_POLL`] and at once on [`Alerts::refresh`].
    pub async fn run_board(self: Arc<Self>, stop: CancellationToken) {
        let mut seen = None;
        let mut told = false;
        loop {
            let read = with_docs(&self.docs, move |d| {
                let revision = d.revision()?;
                if seen == Some(revision) {
                    return Ok((revision, None));
                }
                Ok((revision, Some(store::active(d)?)))
            })
            .await;
            match read {
                Ok((revision, fresh)) => {
                    seen = Some(revision);
                    told = false;
                    if let Some(alerts) = fresh {
                        let board = Board { alerts };
                        self.board.send_if_modified(|b| {
                            let changed = **b != board;
                            if changed {
                                *b = Arc::new(board);
                            }
                            changed
                        });
                    }
                }
                Err(e) => {
                    if !told {
                        tracing::warn!(error = %e, "cannot read the alerts; the walls keep the last ones");
                        told = true;
                    }
                }
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = self.refresh.notified() => {}
                () = tokio::time::sleep(BOARD_POLL) => {}
            }
        }
    }
}
