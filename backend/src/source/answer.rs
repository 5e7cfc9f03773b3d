//! What a source answers: a view's numbers by the kind of its target, and how fresh they are.

use wallboard_shared::queues::{TaskQueueCumulativeStats, TaskQueueRealTimeStats};
use wallboard_shared::resources::{CumulativeStats, RealTimeStats};
use wallboard_shared::workers::{WorkersCumulativeStats, WorkersRealTimeStats};
use wallboard_shared::workspace::{WorkspaceCumulativeStats, WorkspaceRealTimeStats};

/// How current an answer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freshness {
    /// When the numbers were computed, or given by the upstream (ms since the epoch).
    pub at_ms: i64,
    /// The numbers may be out of date: the upstream's last poll failed, its answer is
    /// older than three intervals, or it never answered yet.
    pub stale: bool,
}

impl Freshness {
    /// Numbers computed now from the local engine.
    pub fn current(at_ms: i64) -> Self {
        Self { at_ms, stale: false }
    }

    /// The older and the staler of two parts of one answer.
    pub fn combine(self, other: Self) -> Self {
        Self { at_ms: self.at_ms.min(other.at_ms), stale: self.stale || other.stale }
    }
}

/// Why numbers cannot be given (the mirror has no answer from its upstream).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unavailable(pub String);

/// The realtime numbers of a view, by the kind of its target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Realtime {
    Workflow(RealTimeStats),
    TaskQueue(TaskQueueRealTimeStats),
    Workspace(WorkspaceRealTimeStats),
    Workers(WorkersRealTimeStats),
}

/// The cumulative numbers of a view over a window, by the kind of its target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cumulative {
    Workflow(CumulativeStats),
    TaskQueue(TaskQueueCumulativeStats),
    Workspace(WorkspaceCumulativeStats),
    Workers(WorkersCumulativeStats),
}

impl Realtime {
    /// The same numbers without the age of the longest waiting task, which moves every
    /// second and which clients derive from the snapshot's time: equal when nothing but
    /// the clock changed.
    pub fn ageless(&self) -> Self {
        match self {
            Self::Workflow(s) => {
                let mut s = s.clone();
                s.longest_task_waiting_age = 0;
                Self::Workflow(s)
            }
            Self::TaskQueue(s) => {
                let mut s = s.clone();
                s.longest_task_waiting_age = 0;
                s.longest_relative_task_age_in_queue = 0;
                Self::TaskQueue(s)
            }
            Self::Workspace(s) => {
                let mut s = s.clone();
                s.longest_task_waiting_age = 0;
                Self::Workspace(s)
            }
            Self::Workers(s) => Self::Workers(s.clone()),
        }
    }
}

impl Cumulative {
    /// The same numbers without the window's bounds, which slide with the clock.
    pub fn unbounded(&self) -> Self {
        // Every variant has the same two bounds; a macro keeps the arms from drifting.
        macro_rules! unbound {
            ($variant:ident, $s:expr) => {{
                let mut s = $s.clone();
                s.start_time = chrono::DateTime::UNIX_EPOCH;
                s.end_time = chrono::DateTime::UNIX_EPOCH;
                Self::$variant(s)
            }};
        }
        match self {
            Self::Workflow(s) => unbound!(Workflow, s),
            Self::TaskQueue(s) => unbound!(TaskQueue, s),
            Self::Workspace(s) => unbound!(Workspace, s),
            Self::Workers(s) => unbound!(Workers, s),
        }
    }
}
