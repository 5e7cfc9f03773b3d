//! Twilio TaskRouter resources as they appear on the wire (`/v1/Workspaces/...`).
//!
//! Field names, nesting and nullability follow Twilio's OpenAPI description
//! (`twilio_taskrouter_v1.json`); the statistics objects that Twilio leaves untyped are
//! given the shapes of its published examples.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::sid::{AccountSid, TaskChannelSid, TaskSid, WorkflowSid, WorkspaceSid};
use crate::time::{twilio_format, twilio_format_opt};

/// Live tasks by status: the four keys are always present.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TasksByStatus {
    pub pending: u64,
    pub reserved: u64,
    pub assigned: u64,
    pub wrapping: u64,
}

impl TasksByStatus {
    pub fn total(&self) -> u64 {
        self.pending + self.reserved + self.assigned + self.wrapping
    }
}

/// The statistics fields of RealTimeStatistics, also the `realtime` object of Statistics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RealTimeStats {
    /// Age in whole seconds of the oldest pending task; 0 when none is pending.
    pub longest_task_waiting_age: u64,
    pub longest_task_waiting_sid: Option<TaskSid>,
    /// Priority (decimal string) to number of live tasks; only non-zero counts.
    pub tasks_by_priority: BTreeMap<String, u64>,
    pub tasks_by_status: TasksByStatus,
    pub total_tasks: u64,
}

/// `GET /v1/Workspaces/{WS}/Workflows/{WW}/RealTimeStatistics`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowRealTimeStatistics {
    pub account_sid: AccountSid,
    pub workspace_sid: WorkspaceSid,
    pub workflow_sid: WorkflowSid,
    #[serde(flatten)]
    pub stats: RealTimeStats,
    pub url: String,
}

/// avg/min/max/total of a wait, in whole seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitDuration {
    pub avg: u64,
    pub min: u64,
    pub max: u64,
    pub total: u64,
}

/// One side of a wait-time split.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitCounts {
    pub tasks_canceled: u64,
    pub reservations_accepted: u64,
}

/// Counts below (wait < T) and above (wait ≥ T) one threshold T.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Split {
    pub above: SplitCounts,
    pub below: SplitCounts,
}

/// `split_by_wait_time`: threshold in seconds to its split, in ascending threshold order.
/// On the wire an object whose keys are the thresholds as canonical decimals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SplitByWaitTime(pub Vec<(u32, Split)>);

impl Serialize for SplitByWaitTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (threshold, split) in &self.0 {
            map.serialize_entry(&threshold.to_string(), split)?;
        }
        map.end()
    }
}

/// Thresholds a `split_by_wait_time` object may hold when read.
const MAX_SPLITS: usize = 1000;

impl<'de> Deserialize<'de> for SplitByWaitTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct SplitVisitor;
        impl<'de> Visitor<'de> for SplitVisitor {
            type Value = SplitByWaitTime;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object keyed by thresholds in seconds")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                // Ascending as read (a stable insertion: a request has at most 20
                // thresholds; a body with more than 1,000 is refused rather than sorted).
                let mut out: Vec<(u32, Split)> = Vec::new();
                while let Some((k, v)) = m.next_entry::<String, Split>()? {
                    let t = k.parse::<u32>().map_err(serde::de::Error::custom)?;
                    if out.len() >= MAX_SPLITS {
                        return Err(serde::de::Error::custom("too many SplitByWaitTime thresholds"));
                    }
                    let at = out.partition_point(|(x, _)| *x <= t);
                    out.insert(at, (t, v));
                }
                Ok(SplitByWaitTime(out))
            }
        }
        d.deserialize_map(SplitVisitor)
    }
}

/// The statistics fields of CumulativeStatistics, also the `cumulative` object of Statistics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CumulativeStats {
    pub avg_task_acceptance_time: u64,
    #[serde(with = "twilio_format")]
    pub start_time: DateTime<Utc>,
    #[serde(with = "twilio_format")]
    pub end_time: DateTime<Utc>,
    pub reservations_created: u64,
    pub reservations_accepted: u64,
    pub reservations_rejected: u64,
    pub reservations_timed_out: u64,
    pub reservations_canceled: u64,
    pub reservations_rescinded: u64,
    pub split_by_wait_time: Option<SplitByWaitTime>,
    pub wait_duration_until_accepted: WaitDuration,
    pub wait_duration_until_canceled: WaitDuration,
    pub tasks_canceled: u64,
    pub tasks_completed: u64,
    pub tasks_entered: u64,
    pub tasks_deleted: u64,
    pub tasks_moved: u64,
    pub tasks_timed_out_in_workflow: u64,
}

/// `GET /v1/Workspaces/{WS}/Workflows/{WW}/CumulativeStatistics`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowCumulativeStatistics {
    pub account_sid: AccountSid,
    pub workspace_sid: WorkspaceSid,
    pub workflow_sid: WorkflowSid,
    #[serde(flatten)]
    pub stats: CumulativeStats,
    pub url: String,
}

/// `GET /v1/Workspaces/{WS}/Workflows/{WW}/Statistics`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowStatistics {
    pub account_sid: AccountSid,
    pub workspace_sid: WorkspaceSid,
    pub workflow_sid: WorkflowSid,
    pub cumulative: CumulativeStats,
    pub realtime: RealTimeStats,
    pub url: String,
}

/// A workspace (`GET /v1/Workspaces/{WS}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workspace {
    pub account_sid: AccountSid,
    #[serde(with = "twilio_format_opt")]
    pub date_created: Option<DateTime<Utc>>,
    #[serde(with = "twilio_format_opt")]
    pub date_updated: Option<DateTime<Utc>>,
    pub default_activity_name: Option<String>,
    pub default_activity_sid: Option<String>,
    pub event_callback_url: Option<String>,
    pub events_filter: Option<String>,
    pub friendly_name: String,
    pub multi_task_enabled: bool,
    pub prioritize_queue_order: String,
    pub sid: WorkspaceSid,
    pub timeout_activity_name: Option<String>,
    pub timeout_activity_sid: Option<String>,
    pub url: String,
    pub links: BTreeMap<String, String>,
}

/// A workflow (`GET /v1/Workspaces/{WS}/Workflows/{WW}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workflow {
    pub account_sid: AccountSid,
    pub assignment_callback_url: Option<String>,
    pub configuration: String,
    #[serde(with = "twilio_format_opt")]
    pub date_created: Option<DateTime<Utc>>,
    #[serde(with = "twilio_format_opt")]
    pub date_updated: Option<DateTime<Utc>>,
    pub document_content_type: Option<String>,
    pub fallback_assignment_callback_url: Option<String>,
    pub friendly_name: String,
    pub sid: WorkflowSid,
    pub task_reservation_timeout: u32,
    pub workspace_sid: WorkspaceSid,
    pub url: String,
    pub links: BTreeMap<String, String>,
}

/// A task channel (`GET /v1/Workspaces/{WS}/TaskChannels`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskChannel {
    pub account_sid: AccountSid,
    #[serde(with = "twilio_format_opt")]
    pub date_created: Option<DateTime<Utc>>,
    #[serde(with = "twilio_format_opt")]
    pub date_updated: Option<DateTime<Utc>>,
    pub friendly_name: String,
    pub sid: TaskChannelSid,
    pub unique_name: String,
    pub workspace_sid: WorkspaceSid,
    pub channel_optimized_routing: Option<bool>,
    pub url: String,
    pub links: BTreeMap<String, String>,
}

/// Paging metadata of every Twilio list resource; URLs are absolute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageMeta {
    pub first_page_url: String,
    pub key: String,
    pub next_page_url: Option<String>,
    pub page: u32,
    pub page_size: u32,
    pub previous_page_url: Option<String>,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspacePage {
    pub workspaces: Vec<Workspace>,
    pub meta: PageMeta,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowPage {
    pub workflows: Vec<Workflow>,
    pub meta: PageMeta,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskChannelPage {
    pub channels: Vec<TaskChannel>,
    pub meta: PageMeta,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn sample_cumulative() -> CumulativeStats {
        let split = Split {
            above: SplitCounts { tasks_canceled: 1, reservations_accepted: 2 },
            below: SplitCounts { tasks_canceled: 3, reservations_accepted: 4 },
        };
        CumulativeStats {
            avg_task_acceptance_time: 12,
            start_time: Utc.with_ymd_and_hms(2015, 7, 30, 20, 0, 0).unwrap(),
            end_time: Utc.with_ymd_and_hms(2015, 7, 30, 20, 15, 0).unwrap(),
            reservations_created: 5,
            reservations_accepted: 6,
            reservations_rejected: 0,
            reservations_timed_out: 0,
            reservations_canceled: 0,
            reservations_rescinded: 0,
            split_by_wait_time: Some(SplitByWaitTime(vec![(5, split), (30, split)])),
            wait_duration_until_accepted: WaitDuration { avg: 1, min: 0, max: 3, total: 6 },
            wait_duration_until_canceled: WaitDuration::default(),
            tasks_canceled: 4,
            tasks_completed: 3,
            tasks_entered: 9,
            tasks_deleted: 0,
            tasks_moved: 1,
            tasks_timed_out_in_workflow: 0,
        }
    }

    #[test]
    fn cumulative_round_trip_with_twilio_times_and_string_keys() {
        let stats = WorkflowCumulativeStatistics {
            account_sid: AccountSid::from_u128(1),
            workspace_sid: WorkspaceSid::from_u128(2),
            workflow_sid: WorkflowSid::from_u128(3),
            stats: sample_cumulative(),
            url: "http://x/v1".into(),
        };
        let v = serde_json::to_value(&stats).expect("serialize");
        assert_eq!(v["start_time"], "2015-07-30T20:00:00Z");
        assert_eq!(v["split_by_wait_time"]["30"]["below"]["reservations_accepted"], 4);
        assert!(v.get("stats").is_none(), "flattened");
        let back: WorkflowCumulativeStatistics = serde_json::from_value(v).expect("deserialize");
        assert_eq!(back, stats);
    }

    #[test]
    fn realtime_round_trip_and_null_sid() {
        let rt = WorkflowRealTimeStatistics {
            account_sid: AccountSid::from_u128(1),
            workspace_sid: WorkspaceSid::from_u128(2),
            workflow_sid: WorkflowSid::from_u128(3),
            stats: RealTimeStats::default(),
            url: "http://x".into(),
        };
        let v = serde_json::to_value(&rt).expect("serialize");
        assert!(v["longest_task_waiting_sid"].is_null());
        assert_eq!(v["tasks_by_status"]["wrapping"], 0);
        assert_eq!(v["tasks_by_priority"], serde_json::json!({}));
        let back: WorkflowRealTimeStatistics = serde_json::from_value(v).expect("deserialize");
        assert_eq!(back, rt);
    }

    #[test]
    fn statistics_round_trip() {
        let s = WorkflowStatistics {
            account_sid: AccountSid::from_u128(1),
            workspace_sid: WorkspaceSid::from_u128(2),
            workflow_sid: WorkflowSid::from_u128(3),
            cumulative: sample_cumulative(),
            realtime: RealTimeStats::default(),
            url: "http://x".into(),
        };
        let json = serde_json::to_string(&s).expect("serialize");
        let back: WorkflowStatistics = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, s);
    }

    #[test]
    fn split_keys_sort_numerically_on_read() {
        let v = serde_json::json!({"30": {"above": {"tasks_canceled": 0, "reservations_accepted": 0},
            "below": {"tasks_canceled": 0, "reservations_accepted": 0}},
            "5": {"above": {"tasks_canceled": 0, "reservations_accepted": 0},
            "below": {"tasks_canceled": 0, "reservations_accepted": 0}}});
        let s: SplitByWaitTime = serde_json::from_value(v).expect("deserialize");
        assert_eq!(s.0.iter().map(|(t, _)| *t).collect::<Vec<_>>(), [5, 30]);
    }
}
