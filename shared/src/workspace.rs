//! Workspace statistics on the wire: Statistics, RealTimeStatistics and CumulativeStatistics
//! of a whole workspace, over all its workflows, queues and workers.
//!
//! Field names and nullability follow Twilio's OpenAPI description
//! (`backend/tests/fixtures/twilio_taskrouter_v1_queues_workers_workspace.json`). The
//! workspace instance itself is [`crate::resources::Workspace`].

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::resources::{SplitByWaitTime, TasksByStatus, WaitDuration};
use crate::sid::{AccountSid, TaskSid, WorkspaceSid};
use crate::time::twilio_format;
use crate::workers::ActivityStatistic;

/// The statistics fields of the workspace's RealTimeStatistics, also the `realtime` object
/// of its Statistics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceRealTimeStats {
    /// Every activity of the workspace with its number of workers, zeros included.
    pub activity_statistics: Vec<ActivityStatistic>,
    /// Age in whole seconds of the oldest pending task; 0 when none is pending.
    pub longest_task_waiting_age: u64,
    pub longest_task_waiting_sid: Option<TaskSid>,
    /// Priority (decimal string) to number of live tasks; only non-zero counts.
    pub tasks_by_priority: BTreeMap<String, u64>,
    pub tasks_by_status: TasksByStatus,
    pub total_tasks: u64,
    pub total_workers: u64,
}

/// `GET /v1/Workspaces/{WS}/RealTimeStatistics`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceRealTimeStatistics {
    pub account_sid: AccountSid,
    pub workspace_sid: WorkspaceSid,
    #[serde(flatten)]
    pub stats: WorkspaceRealTimeStats,
    pub url: String,
}

/// The statistics fields of the workspace's CumulativeStatistics, also the `cumulative`
/// object of its Statistics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceCumulativeStats {
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
    pub tasks_created: u64,
    pub tasks_deleted: u64,
    pub tasks_moved: u64,
    pub tasks_timed_out_in_workflow: u64,
}

/// `GET /v1/Workspaces/{WS}/CumulativeStatistics`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceCumulativeStatistics {
    pub account_sid: AccountSid,
    pub workspace_sid: WorkspaceSid,
    #[serde(flatten)]
    pub stats: WorkspaceCumulativeStats,
    pub url: String,
}

/// `GET /v1/Workspaces/{WS}/Statistics`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceStatistics {
    pub account_sid: AccountSid,
    pub workspace_sid: WorkspaceSid,
    pub cumulative: WorkspaceCumulativeStats,
    pub realtime: WorkspaceRealTimeStats,
    pub url: String,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::workers::tests::activity_statistics;
    use chrono::TimeZone;

    pub(crate) fn sample_realtime() -> WorkspaceRealTimeStats {
        WorkspaceRealTimeStats {
            activity_statistics: activity_statistics(),
            longest_task_waiting_age: 75,
            longest_task_waiting_sid: Some(TaskSid::from_u128(5)),
            tasks_by_priority: BTreeMap::from([("0".to_owned(), 4)]),
            tasks_by_status: TasksByStatus { pending: 2, reserved: 0, assigned: 1, wrapping: 1 },
            total_tasks: 4,
            total_workers: 3,
        }
    }

    pub(crate) fn sample_cumulative() -> WorkspaceCumulativeStats {
        WorkspaceCumulativeStats {
            avg_task_acceptance_time: 11,
            start_time: Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).single().expect("valid"),
            end_time: Utc.with_ymd_and_hms(2026, 11, 27, 9, 15, 0).single().expect("valid"),
            reservations_created: 12,
            reservations_accepted: 10,
            reservations_rejected: 1,
            reservations_timed_out: 1,
            reservations_canceled: 0,
            reservations_rescinded: 0,
            split_by_wait_time: None,
            wait_duration_until_accepted: WaitDuration { avg: 11, min: 1, max: 40, total: 110 },
            wait_duration_until_canceled: WaitDuration::default(),
            tasks_canceled: 1,
            tasks_completed: 9,
            tasks_created: 14,
            tasks_deleted: 0,
            tasks_moved: 2,
            tasks_timed_out_in_workflow: 1,
        }
    }

    #[test]
    fn statistics_round_trip_with_null_split() {
        let s = WorkspaceStatistics {
            account_sid: AccountSid::from_u128(1),
            workspace_sid: WorkspaceSid::from_u128(2),
            cumulative: sample_cumulative(),
            realtime: sample_realtime(),
            url: "http://x/v1/Workspaces/WS/Statistics".into(),
        };
        let v = serde_json::to_value(&s).expect("ser");
        assert!(v["cumulative"]["split_by_wait_time"].is_null());
        assert_eq!(v["realtime"]["total_workers"], 3);
        assert_eq!(serde_json::from_value::<WorkspaceStatistics>(v).expect("de"), s);
    }
}
