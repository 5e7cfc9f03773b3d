//! What a statistic is about: a [`Target`] (today a workflow; a task queue, the workspace
//! and its workers are further variants) seen through an optional task channel (a [`View`]).
//!
//! REST resources, WebSocket topics, the mirror's polls and the change feed all name
//! numbers this way, so a new kind of target is a new variant, not a new code path.

use wallboard_shared::WindowSpec;

use super::registry::{ChannelId, Registry, WorkflowId, WorkspaceId};

/// The resource whose statistics are asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    Workflow(WorkflowId),
}

impl Target {
    /// The workspace the target belongs to.
    pub fn workspace(self, registry: &Registry) -> WorkspaceId {
        match self {
            Self::Workflow(id) => registry.workflow(id).workspace,
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
