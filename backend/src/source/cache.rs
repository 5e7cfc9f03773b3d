//! Realtime answers shared by the REST API and the WebSocket hub.
//!
//! An entry is valid while its workflow's version in the engine is unchanged; the waiting
//! age is re-derived from the oldest task's creation time at every read, so a cached
//! answer is always exactly what the engine would say now.

use std::sync::RwLock;

use rustc_hash::FxHashMap;
use wallboard_shared::resources::RealTimeStats;

use crate::engine::{ChannelId, Engine, WorkflowId, waiting_age};

#[derive(Debug, Clone)]
struct Cached {
    version: u64,
    stats: RealTimeStats,
    oldest_created_ms: Option<i64>,
}

#[derive(Debug, Default)]
pub struct RealtimeCache {
    entries: RwLock<FxHashMap<(WorkflowId, Option<ChannelId>), Cached>>,
}

impl RealtimeCache {
    /// The realtime statistics of (workflow, channel) at `now_ms`, from the cache when the
    /// workflow has not changed since they were computed.
    pub fn get(&self, engine: &Engine, workflow: WorkflowId, channel: Option<ChannelId>, now_ms: i64) -> RealTimeStats {
        let version = engine.workflow_version(workflow);
        let key = (workflow, channel);
        if let Some(c) = self.entries.read().unwrap_or_else(|p| p.into_inner()).get(&key)
            && c.version == version
        {
            let mut stats = c.stats.clone();
            stats.longest_task_waiting_age = c.oldest_created_ms.map_or(0, |t| waiting_age(t, now_ms));
            return stats;
        }
        let (stats, oldest_created_ms) = engine.realtime_detail(workflow, channel, now_ms);
        self.entries
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, Cached { version, stats: stats.clone(), oldest_created_ms });
        stats
    }
}
