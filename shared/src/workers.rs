//! Workers on the wire: the read-only Worker, Activity and WorkerChannel instances and lists,
//! and the Workers statistics resources (all workers, and one worker).
//!
//! Field names and nullability follow Twilio's OpenAPI description
//! (`backend/tests/fixtures/twilio_taskrouter_v1_queues_workers_workspace.json`); the
//! elements of `activity_statistics` and `activity_durations`, which Twilio leaves untyped,
//! take the shapes of its published examples.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::resources::PageMeta;
use crate::sid::{AccountSid, ActivitySid, TaskChannelSid, WorkerChannelSid, WorkerSid, WorkspaceSid};
use crate::time::{twilio_format, twilio_format_opt};

/// Workers currently in one activity (an element of `activity_statistics`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityStatistic {
    pub friendly_name: String,
    pub sid: ActivitySid,
    pub workers: u64,
}

/// Time workers spent in one activity over the window, in whole seconds (an element of
/// `activity_durations`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityDuration {
    pub friendly_name: String,
    pub sid: ActivitySid,
    pub avg: u64,
    pub min: u64,
    pub max: u64,
    pub total: u64,
}

/// A worker (`GET /v1/Workspaces/{WS}/Workers/{WK}`).
///
/// `links` holds `channels`, `activity`, `workspace`, `statistics`, `real_time_statistics`,
/// `cumulative_statistics`, `worker_statistics`, `worker_channels` and `reservations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Worker {
    pub account_sid: AccountSid,
    /// Null until an event names the worker's activity.
    pub activity_name: Option<String>,
    pub activity_sid: Option<ActivitySid>,
    /// The attributes as a JSON string. Twilio shows them only when fetching one worker;
    /// lists carry null.
    pub attributes: Option<String>,
    pub available: bool,
    #[serde(with = "twilio_format_opt")]
    pub date_created: Option<DateTime<Utc>>,
    #[serde(with = "twilio_format_opt")]
    pub date_status_changed: Option<DateTime<Utc>>,
    #[serde(with = "twilio_format_opt")]
    pub date_updated: Option<DateTime<Utc>>,
    pub friendly_name: String,
    pub sid: WorkerSid,
    pub workspace_sid: WorkspaceSid,
    pub url: String,
    pub links: BTreeMap<String, String>,
}

/// `GET /v1/Workspaces/{WS}/Workers`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerPage {
    pub workers: Vec<Worker>,
    pub meta: PageMeta,
}

/// An activity (`GET /v1/Workspaces/{WS}/Activities/{WA}`); `links` holds `workspace`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    pub account_sid: AccountSid,
    /// Whether workers in this activity can take tasks.
    pub available: bool,
    #[serde(with = "twilio_format_opt")]
    pub date_created: Option<DateTime<Utc>>,
    #[serde(with = "twilio_format_opt")]
    pub date_updated: Option<DateTime<Utc>>,
    pub friendly_name: String,
    pub sid: ActivitySid,
    pub workspace_sid: WorkspaceSid,
    pub url: String,
    pub links: BTreeMap<String, String>,
}

/// `GET /v1/Workspaces/{WS}/Activities`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityPage {
    pub activities: Vec<Activity>,
    pub meta: PageMeta,
}

/// One task channel of one worker (`GET /v1/Workspaces/{WS}/Workers/{WK}/Channels/{WC}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerChannel {
    pub account_sid: AccountSid,
    pub assigned_tasks: u32,
    pub available: bool,
    /// Free capacity as a whole percentage of the configured capacity (0 when none).
    pub available_capacity_percentage: u32,
    pub configured_capacity: u32,
    #[serde(with = "twilio_format_opt")]
    pub date_created: Option<DateTime<Utc>>,
    #[serde(with = "twilio_format_opt")]
    pub date_updated: Option<DateTime<Utc>>,
    pub sid: WorkerChannelSid,
    pub task_channel_sid: TaskChannelSid,
    pub task_channel_unique_name: String,
    pub worker_sid: WorkerSid,
    pub workspace_sid: WorkspaceSid,
    pub url: String,
}

/// `GET /v1/Workspaces/{WS}/Workers/{WK}/Channels` (key `channels`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerChannelPage {
    pub channels: Vec<WorkerChannel>,
    pub meta: PageMeta,
}

/// The statistics fields of Workers/RealTimeStatistics, also the `realtime` object of
/// Workers/Statistics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkersRealTimeStats {
    /// Every activity of the workspace with its number of workers, zeros included.
    pub activity_statistics: Vec<ActivityStatistic>,
    pub total_workers: u64,
}

/// `GET /v1/Workspaces/{WS}/Workers/RealTimeStatistics`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkersRealTimeStatistics {
    pub account_sid: AccountSid,
    pub workspace_sid: WorkspaceSid,
    #[serde(flatten)]
    pub stats: WorkersRealTimeStats,
    pub url: String,
}

/// The statistics fields of Workers/CumulativeStatistics, also the `cumulative` object of
/// Workers/Statistics and of Workers/{WK}/Statistics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkersCumulativeStats {
    #[serde(with = "twilio_format")]
    pub start_time: DateTime<Utc>,
    #[serde(with = "twilio_format")]
    pub end_time: DateTime<Utc>,
    pub activity_durations: Vec<ActivityDuration>,
    pub reservations_created: u64,
    pub reservations_accepted: u64,
    pub reservations_rejected: u64,
    pub reservations_timed_out: u64,
    pub reservations_canceled: u64,
    pub reservations_rescinded: u64,
}

/// `GET /v1/Workspaces/{WS}/Workers/CumulativeStatistics`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkersCumulativeStatistics {
    pub account_sid: AccountSid,
    pub workspace_sid: WorkspaceSid,
    #[serde(flatten)]
    pub stats: WorkersCumulativeStats,
    pub url: String,
}

/// `GET /v1/Workspaces/{WS}/Workers/Statistics` (Twilio's `worker_statistics` schema).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkersStatistics {
    pub account_sid: AccountSid,
    pub workspace_sid: WorkspaceSid,
    pub cumulative: WorkersCumulativeStats,
    pub realtime: WorkersRealTimeStats,
    pub url: String,
}

/// `GET /v1/Workspaces/{WS}/Workers/{WK}/Statistics`: one worker, cumulative only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerInstanceStatistics {
    pub account_sid: AccountSid,
    pub workspace_sid: WorkspaceSid,
    pub worker_sid: WorkerSid,
    pub cumulative: WorkersCumulativeStats,
    pub url: String,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::TimeZone;

    pub(crate) fn activity_statistics() -> Vec<ActivityStatistic> {
        vec![
            ActivityStatistic { friendly_name: "Available".into(), sid: ActivitySid::from_u128(1), workers: 3 },
            ActivityStatistic { friendly_name: "Offline".into(), sid: ActivitySid::from_u128(2), workers: 0 },
        ]
    }

    pub(crate) fn sample_cumulative() -> WorkersCumulativeStats {
        WorkersCumulativeStats {
            start_time: Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).single().expect("valid"),
            end_time: Utc.with_ymd_and_hms(2026, 11, 27, 9, 15, 0).single().expect("valid"),
            activity_durations: vec![ActivityDuration {
                friendly_name: "Available".into(),
                sid: ActivitySid::from_u128(1),
                avg: 300,
                min: 120,
                max: 600,
                total: 900,
            }],
            reservations_created: 4,
            reservations_accepted: 3,
            reservations_rejected: 1,
            reservations_timed_out: 0,
            reservations_canceled: 0,
            reservations_rescinded: 0,
        }
    }

    #[test]
    fn workers_statistics_round_trip() {
        let s = WorkersStatistics {
            account_sid: AccountSid::from_u128(1),
            workspace_sid: WorkspaceSid::from_u128(2),
            cumulative: sample_cumulative(),
            realtime: WorkersRealTimeStats { activity_statistics: activity_statistics(), total_workers: 3 },
            url: "http://x/v1/Workspaces/WS/Workers/Statistics".into(),
        };
        let v = serde_json::to_value(&s).expect("ser");
        assert_eq!(v["cumulative"]["activity_durations"][0]["total"], 900);
        assert_eq!(v["realtime"]["activity_statistics"][1]["workers"], 0);
        assert_eq!(serde_json::from_value::<WorkersStatistics>(v).expect("de"), s);
    }

    #[test]
    fn worker_with_null_attributes_and_activity() {
        let w = Worker {
            account_sid: AccountSid::from_u128(1),
            activity_name: None,
            activity_sid: None,
            attributes: None,
            available: false,
            date_created: None,
            date_status_changed: None,
            date_updated: None,
            friendly_name: "alice".into(),
            sid: WorkerSid::from_u128(9),
            workspace_sid: WorkspaceSid::from_u128(2),
            url: "http://x".into(),
            links: BTreeMap::new(),
        };
        let v = serde_json::to_value(&w).expect("ser");
        assert!(v["attributes"].is_null() && v["activity_sid"].is_null() && v["date_status_changed"].is_null());
        assert_eq!(serde_json::from_value::<Worker>(v).expect("de"), w);
    }
}
