//! TaskQueues on the wire: the read-only TaskQueue instance and list, and every TaskQueue
//! statistics resource (instance, realtime, cumulative, the paged list, the bulk realtime POST).
//!
//! Field names and nullability follow Twilio's OpenAPI description
//! (`backend/tests/fixtures/twilio_taskrouter_v1_queues_workers_workspace.json`); the
//! statistics objects Twilio leaves untyped take the shapes of its published examples.
//! As for workflows, the nested `realtime`/`cumulative` objects of `Statistics` carry the
//! statistics fields of their own resource without the SIDs and URL.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::resources::{PageMeta, SplitByWaitTime, TasksByStatus, WaitDuration};
use crate::sid::{AccountSid, ActivitySid, TaskQueueSid, TaskSid, WorkspaceSid};
use crate::time::{twilio_format, twilio_format_opt};
use crate::workers::ActivityStatistic;

/// The order in which a queue hands out tasks of equal priority.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TaskOrder {
    /// Oldest task first (Twilio's default).
    #[default]
    #[serde(rename = "FIFO")]
    Fifo,
    /// Newest task first.
    #[serde(rename = "LIFO")]
    Lifo,
}

/// A task queue (`GET /v1/Workspaces/{WS}/TaskQueues/{WQ}`).
///
/// `links` holds `assignment_activity`, `reservation_activity`, `workspace`, `statistics`,
/// `real_time_statistics`, `cumulative_statistics`, `list_statistics` and
/// `bulk_real_time_statistics`, all absolute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskQueue {
    pub account_sid: AccountSid,
    pub assignment_activity_sid: Option<ActivitySid>,
    pub assignment_activity_name: Option<String>,
    #[serde(with = "twilio_format_opt")]
    pub date_created: Option<DateTime<Utc>>,
    #[serde(with = "twilio_format_opt")]
    pub date_updated: Option<DateTime<Utc>>,
    pub friendly_name: String,
    pub max_reserved_workers: u32,
    pub reservation_activity_sid: Option<ActivitySid>,
    pub reservation_activity_name: Option<String>,
    pub sid: TaskQueueSid,
    /// The TargetWorkers expression; null when the events never told it.
    pub target_workers: Option<String>,
    pub task_order: TaskOrder,
    pub url: String,
    pub workspace_sid: WorkspaceSid,
    pub links: BTreeMap<String, String>,
}

/// `GET /v1/Workspaces/{WS}/TaskQueues`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskQueuePage {
    pub task_queues: Vec<TaskQueue>,
    pub meta: PageMeta,
}

/// The statistics fields of a queue's RealTimeStatistics, also the `realtime` object of its
/// Statistics and of each entry of the statistics list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskQueueRealTimeStats {
    /// Workers eligible for the queue, counted per activity (every activity, zeros included).
    pub activity_statistics: Vec<ActivityStatistic>,
    /// Age in whole seconds of the oldest pending task, measured from its creation.
    pub longest_task_waiting_age: u64,
    pub longest_task_waiting_sid: Option<TaskSid>,
    /// Age in whole seconds of the pending task that entered this queue first.
    pub longest_relative_task_age_in_queue: u64,
    pub longest_relative_task_sid_in_queue: Option<TaskSid>,
    /// Priority (decimal string) to number of live tasks; only non-zero counts.
    pub tasks_by_priority: BTreeMap<String, u64>,
    pub tasks_by_status: TasksByStatus,
    /// Eligible workers whose activity is available.
    pub total_available_workers: u64,
    /// Workers matching the queue's TargetWorkers expression, whatever their activity.
    pub total_eligible_workers: u64,
    pub total_tasks: u64,
}

/// `GET /v1/Workspaces/{WS}/TaskQueues/{WQ}/RealTimeStatistics`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskQueueRealTimeStatistics {
    pub account_sid: AccountSid,
    pub workspace_sid: WorkspaceSid,
    pub task_queue_sid: TaskQueueSid,
    #[serde(flatten)]
    pub stats: TaskQueueRealTimeStats,
    pub url: String,
}

/// The statistics fields of a queue's CumulativeStatistics, also the `cumulative` object of
/// its Statistics and of each entry of the statistics list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskQueueCumulativeStats {
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
    /// Waits measured from task creation (a transfer keeps its first creation time).
    pub wait_duration_until_accepted: WaitDuration,
    pub wait_duration_until_canceled: WaitDuration,
    /// Waits measured from the moment the task entered this queue.
    pub wait_duration_in_queue_until_accepted: WaitDuration,
    pub tasks_canceled: u64,
    pub tasks_completed: u64,
    pub tasks_deleted: u64,
    pub tasks_entered: u64,
    pub tasks_moved: u64,
}

/// `GET /v1/Workspaces/{WS}/TaskQueues/{WQ}/CumulativeStatistics`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskQueueCumulativeStatistics {
    pub account_sid: AccountSid,
    pub workspace_sid: WorkspaceSid,
    pub task_queue_sid: TaskQueueSid,
    #[serde(flatten)]
    pub stats: TaskQueueCumulativeStats,
    pub url: String,
}

/// `GET /v1/Workspaces/{WS}/TaskQueues/{WQ}/Statistics`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskQueueStatistics {
    pub account_sid: AccountSid,
    pub workspace_sid: WorkspaceSid,
    pub task_queue_sid: TaskQueueSid,
    pub cumulative: TaskQueueCumulativeStats,
    pub realtime: TaskQueueRealTimeStats,
    pub url: String,
}

/// One entry of `GET /v1/Workspaces/{WS}/TaskQueues/Statistics`: like
/// [`TaskQueueStatistics`] but without `url`, as Twilio's schema has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskQueuesStatistics {
    pub account_sid: AccountSid,
    pub workspace_sid: WorkspaceSid,
    pub task_queue_sid: TaskQueueSid,
    pub cumulative: TaskQueueCumulativeStats,
    pub realtime: TaskQueueRealTimeStats,
}

/// `GET /v1/Workspaces/{WS}/TaskQueues/Statistics` (key `task_queues_statistics`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskQueuesStatisticsPage {
    pub task_queues_statistics: Vec<TaskQueuesStatistics>,
    pub meta: PageMeta,
}

/// One queue of the bulk realtime answer: the attributes Twilio's `task_queue_data`
/// description lists (no relative-age fields, no SIDs of account and workspace, no URL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkTaskQueueData {
    pub task_queue_sid: TaskQueueSid,
    pub longest_task_waiting_age: u64,
    pub longest_task_waiting_sid: Option<TaskSid>,
    pub total_tasks: u64,
    pub total_eligible_workers: u64,
    pub total_available_workers: u64,
    pub tasks_by_status: TasksByStatus,
    pub tasks_by_priority: BTreeMap<String, u64>,
    pub activity_statistics: Vec<ActivityStatistic>,
}

impl BulkTaskQueueData {
    /// The bulk entry of one queue's realtime statistics.
    pub fn from_stats(task_queue_sid: TaskQueueSid, s: TaskQueueRealTimeStats) -> Self {
        Self {
            task_queue_sid,
            longest_task_waiting_age: s.longest_task_waiting_age,
            longest_task_waiting_sid: s.longest_task_waiting_sid,
            total_tasks: s.total_tasks,
            total_eligible_workers: s.total_eligible_workers,
            total_available_workers: s.total_available_workers,
            tasks_by_status: s.tasks_by_status,
            tasks_by_priority: s.tasks_by_priority,
            activity_statistics: s.activity_statistics,
        }
    }
}

/// `POST /v1/Workspaces/{WS}/TaskQueues/RealTimeStatistics`: the queues in request order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskQueueBulkRealTimeStatistics {
    pub account_sid: AccountSid,
    pub workspace_sid: WorkspaceSid,
    pub task_queue_data: Vec<BulkTaskQueueData>,
    /// Number of entries in `task_queue_data`.
    pub task_queue_response_count: u64,
    pub url: String,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::resources::{Split, SplitCounts};
    use crate::workers::tests::activity_statistics;
    use chrono::TimeZone;

    pub(crate) fn sample_realtime() -> TaskQueueRealTimeStats {
        TaskQueueRealTimeStats {
            activity_statistics: activity_statistics(),
            longest_task_waiting_age: 90,
            longest_task_waiting_sid: Some(TaskSid::from_u128(7)),
            longest_relative_task_age_in_queue: 30,
            longest_relative_task_sid_in_queue: Some(TaskSid::from_u128(8)),
            tasks_by_priority: BTreeMap::from([("0".to_owned(), 2), ("10".to_owned(), 1)]),
            tasks_by_status: TasksByStatus { pending: 2, reserved: 1, assigned: 0, wrapping: 0 },
            total_available_workers: 3,
            total_eligible_workers: 5,
            total_tasks: 3,
        }
    }

    pub(crate) fn sample_cumulative() -> TaskQueueCumulativeStats {
        let split = Split {
            above: SplitCounts { tasks_canceled: 1, reservations_accepted: 2 },
            below: SplitCounts { tasks_canceled: 0, reservations_accepted: 5 },
        };
        TaskQueueCumulativeStats {
            avg_task_acceptance_time: 14,
            start_time: Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).single().expect("valid"),
            end_time: Utc.with_ymd_and_hms(2026, 11, 27, 9, 15, 0).single().expect("valid"),
            reservations_created: 9,
            reservations_accepted: 7,
            reservations_rejected: 1,
            reservations_timed_out: 1,
            reservations_canceled: 0,
            reservations_rescinded: 0,
            split_by_wait_time: Some(SplitByWaitTime(vec![(20, split)])),
            wait_duration_until_accepted: WaitDuration { avg: 14, min: 2, max: 40, total: 98 },
            wait_duration_until_canceled: WaitDuration { avg: 50, min: 50, max: 50, total: 50 },
            wait_duration_in_queue_until_accepted: WaitDuration { avg: 10, min: 1, max: 30, total: 70 },
            tasks_canceled: 1,
            tasks_completed: 6,
            tasks_deleted: 0,
            tasks_entered: 9,
            tasks_moved: 2,
        }
    }

    #[test]
    fn task_order_is_upper_case_on_the_wire() {
        assert_eq!(serde_json::to_string(&TaskOrder::Fifo).expect("ser"), "\"FIFO\"");
        assert_eq!(serde_json::from_str::<TaskOrder>("\"LIFO\"").expect("de"), TaskOrder::Lifo);
        assert!(serde_json::from_str::<TaskOrder>("\"fifo\"").is_err());
    }

    #[test]
    fn statistics_round_trip_and_flatten() {
        let rt = TaskQueueRealTimeStatistics {
            account_sid: AccountSid::from_u128(1),
            workspace_sid: WorkspaceSid::from_u128(2),
            task_queue_sid: TaskQueueSid::from_u128(3),
            stats: sample_realtime(),
            url: "http://x/v1/Workspaces/WS/TaskQueues/WQ/RealTimeStatistics".into(),
        };
        let v = serde_json::to_value(&rt).expect("ser");
        assert_eq!(v["activity_statistics"][0]["friendly_name"], "Available");
        assert_eq!(v["tasks_by_status"]["pending"], 2);
        assert!(v.get("stats").is_none(), "flattened");
        assert_eq!(serde_json::from_value::<TaskQueueRealTimeStatistics>(v).expect("de"), rt);

        let c = TaskQueueCumulativeStatistics {
            account_sid: AccountSid::from_u128(1),
            workspace_sid: WorkspaceSid::from_u128(2),
            task_queue_sid: TaskQueueSid::from_u128(3),
            stats: sample_cumulative(),
            url: "http://x".into(),
        };
        let v = serde_json::to_value(&c).expect("ser");
        assert_eq!(v["start_time"], "2026-11-27T09:00:00Z");
        assert_eq!(v["wait_duration_in_queue_until_accepted"]["max"], 30);
        assert_eq!(serde_json::from_value::<TaskQueueCumulativeStatistics>(v).expect("de"), c);
    }

    #[test]
    fn bulk_entry_keeps_the_listed_attributes() {
        let d = BulkTaskQueueData::from_stats(TaskQueueSid::from_u128(3), sample_realtime());
        let v = serde_json::to_value(&d).expect("ser");
        assert!(v.get("longest_relative_task_age_in_queue").is_none());
        assert_eq!(v["total_eligible_workers"], 5);
        assert_eq!(serde_json::from_value::<BulkTaskQueueData>(v).expect("de"), d);
    }
}
