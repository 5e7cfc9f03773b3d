//! What a statistic is about: a [`Target`] (a workflow, a task queue, the workspace, or the
//! workspace's workers) seen through an optional task channel (a [`View`]).
//!
//! REST resources, WebSocket topics, the mirror's polls and the change feed all name
//! numbers this way, so a new kind of target is a new variant, not a new code path.

use wallboard_shared::WindowSpec;

use super::Engine;
use super::registry::{ChannelId, WorkflowId, WorkspaceId};

/// A task queue known to the floor ([`super::Floor`]): an index handed out once and never
/// changed, typed so that it cannot be confused with a registry id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QueueId(u32);

impl QueueId {
    /// The id of the floor's `index`th queue (the floor's tables use the number).
    pub fn from_index(index: u32) -> Self {
        Self(index)
    }

    pub fn index(self) -> u32 {
        self.0
    }
}

/// The resource whose statistics are asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    Workflow(WorkflowId),
    /// One task queue (`TaskQueues/{WQ}/…Statistics`).
    TaskQueue(QueueId),
    /// The whole workspace (`Workspaces/{WS}/…Statistics`).
    Workspace(WorkspaceId),
    /// All workers of a workspace (`Workers/…Statistics`).
    Workers(WorkspaceId),
}

impl Target {
    /// The workspace the target belongs to; `None` only for a queue the floor does not
    /// know (ids come from the floor, so that does not happen).
    pub fn workspace(self, engine: &Engine) -> Option<WorkspaceId> {
        match self {
            Self::Workflow(id) => Some(engine.registry().workflow(id).workspace),
            Self::TaskQueue(id) => engine.floor().queue(id.index()).map(|q| WorkspaceId::from_index(q.workspace)),
            Self::Workspace(id) | Self::Workers(id) => Some(id),
        }
    }
}

/// A target's numbers, of all channels or of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct View {
    pub target: Target,
    pub channel: Option<ChannelId>,
}

impl View {
    pub fn new(target: Target, channel: Option<ChannelId>) -> Self {
        Self { target, channel }
    }
}

/// A cumulative question about a view: its window (as asked: it slides with the clock)
/// and its wait-time thresholds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CumulativeSpec {
    pub window: WindowSpec,
    pub thresholds: Option<Vec<u32>>,
}
