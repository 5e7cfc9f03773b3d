//! The local engine's numbers for each kind of [`Target`], in the wire types the REST
//! resources and the hub serve. [`super::Numbers`] calls these when the numbers come from
//! events; the mirror decodes the same types from its upstream.
//!
//! The cumulative statistics of one worker (`Workers/{WK}/Statistics`) and of a filtered set
//! of workers (`Workers/Statistics?TaskQueueSid=…`) come from [`chosen_workers_cumulative`]:
//! the same engine query as all workers', over the chosen ones (each worker's reservation
//! events and activity stays, added up). The mirror polls no upstream equivalent of those,
//! so they are answered only locally (see `api::workers`).

use wallboard_shared::Window;
use wallboard_shared::queues::TaskQueueRealTimeStats;
use wallboard_shared::resources::CumulativeStats;
use wallboard_shared::sid::ActivitySid;
use wallboard_shared::time::to_datetime;
use wallboard_shared::workers::{ActivityDuration, ActivityStatistic, WorkersCumulativeStats, WorkersRealTimeStats};
use wallboard_shared::workspace::{WorkspaceCumulativeStats, WorkspaceRealTimeStats};

use super::answer::{Cumulative, Realtime};
use super::cache::RealtimeCache;
use crate::engine::floor::ActivityCount;
use crate::engine::{ChannelId, CumulativeSpec, Engine, Target, View, WorkerSet, WorkspaceId};

/// A view's realtime numbers from the engine at `at_ms` (workflows through the shared cache).
pub(super) fn realtime(engine: &Engine, cache: &RealtimeCache, view: View, at_ms: i64) -> Realtime {
    let channel = view.channel.map(|c| c.index());
    match view.target {
        Target::Workflow(wf) => Realtime::Workflow(cache.get(engine, wf, view.channel, at_ms)),
        Target::TaskQueue(q) => {
            let r = engine.floor().queue_realtime(q.index(), channel, at_ms);
            Realtime::TaskQueue(TaskQueueRealTimeStats {
                activity_statistics: activity_statistics(&r.activity_statistics),
                longest_task_waiting_age: r.longest_task_waiting_age,
                longest_task_waiting_sid: r.longest_task_waiting_sid,
                longest_relative_task_age_in_queue: r.longest_relative_task_age_in_queue,
                longest_relative_task_sid_in_queue: r.longest_relative_task_age_in_queue_sid,
                tasks_by_priority: r.tasks_by_priority,
                tasks_by_status: r.tasks_by_status,
                total_available_workers: r.total_available_workers,
                total_eligible_workers: r.total_eligible_workers,
                total_tasks: r.total_tasks,
            })
        }
        Target::Workspace(ws) => {
            let r = engine.workspace_realtime(ws.index(), channel, at_ms);
            Realtime::Workspace(WorkspaceRealTimeStats {
                activity_statistics: activity_statistics(&r.activity_statistics),
                longest_task_waiting_age: r.longest_task_waiting_age,
                longest_task_waiting_sid: r.longest_task_waiting_sid,
                tasks_by_priority: r.tasks_by_priority,
                tasks_by_status: r.tasks_by_status,
                total_tasks: r.total_tasks,
                total_workers: r.total_workers,
            })
        }
        // A worker is in one activity whatever the channel: `TaskChannel` does not narrow
        // the realtime counts of workers.
        Target::Workers(ws) => {
            let r = engine.floor().workers_realtime(ws.index(), None);
            Realtime::Workers(WorkersRealTimeStats {
                activity_statistics: activity_statistics(&r.activity_statistics),
                total_workers: r.total_workers,
            })
        }
    }
}

/// A view's cumulative numbers from the engine over `window`.
pub(super) fn cumulative(engine: &Engine, view: View, window: Window, spec: &CumulativeSpec) -> Cumulative {
    let channel = view.channel.map(|c| c.index());
    let thresholds = spec.thresholds.as_deref();
    match view.target {
        Target::Workflow(wf) => Cumulative::Workflow(engine.cumulative(wf, view.channel, window, thresholds)),
        Target::TaskQueue(q) => {
            Cumulative::TaskQueue(engine.queue_cumulative(q.index(), view.channel, window, thresholds))
        }
        Target::Workspace(ws) => Cumulative::Workspace(workspace_cumulative(engine.workspace_cumulative(
            ws.index(),
            channel,
            window,
            thresholds,
        ))),
        // `TaskChannel` keeps the reservations of tasks on that channel; the time in each
        // activity is per worker, not per channel.
        Target::Workers(ws) => Cumulative::Workers(workers_cumulative(engine.workers_cumulative(
            ws.index(),
            WorkerSet::All,
            view.channel,
            window,
        ))),
    }
}

/// The wire form of the floor's activity counts. An activity whose SID is not a valid
/// `WA…` SID (only a malformed event could name one) is left out rather than invented.
pub fn activity_statistics(counts: &[ActivityCount]) -> Vec<ActivityStatistic> {
    counts
        .iter()
        .filter_map(|a| {
            let sid = ActivitySid::parse(&a.sid).ok()?;
            Some(ActivityStatistic {
                friendly_name: a.friendly_name.clone().unwrap_or_else(|| a.sid.clone()),
                sid,
                workers: a.workers,
            })
        })
        .collect()
}

/// The workspace's cumulative statistics from the sum of its workflows' series
/// (`tasks_created` is the workflows' `tasks_entered`, see docs/decisions-queues-workers.md).
fn workspace_cumulative(c: CumulativeStats) -> WorkspaceCumulativeStats {
    WorkspaceCumulativeStats {
        avg_task_acceptance_time: c.avg_task_acceptance_time,
        start_time: c.start_time,
        end_time: c.end_time,
        reservations_created: c.reservations_created,
        reservations_accepted: c.reservations_accepted,
        reservations_rejected: c.reservations_rejected,
        reservations_timed_out: c.reservations_timed_out,
        reservations_canceled: c.reservations_canceled,
        reservations_rescinded: c.reservations_rescinded,
        split_by_wait_time: c.split_by_wait_time,
        wait_duration_until_accepted: c.wait_duration_until_accepted,
        wait_duration_until_canceled: c.wait_duration_until_canceled,
        tasks_canceled: c.tasks_canceled,
        tasks_completed: c.tasks_completed,
        tasks_created: c.tasks_entered,
        tasks_deleted: c.tasks_deleted,
        tasks_moved: c.tasks_moved,
        tasks_timed_out_in_workflow: c.tasks_timed_out_in_workflow,
    }
}

/// The wire form of workers' cumulative statistics (all workers: the workspace's
/// reservations, every reservation being some worker's; or the chosen ones').
pub fn workers_cumulative(c: crate::engine::WorkersCumulative) -> WorkersCumulativeStats {
    let activity_durations = c
        .activity_durations
        .into_iter()
        .filter_map(|a| {
            let sid = ActivitySid::parse(&a.sid).ok()?;
            let friendly_name = a.friendly_name.unwrap_or_else(|| a.sid.clone());
            Some(ActivityDuration { friendly_name, sid, avg: a.avg, min: a.min, max: a.max, total: a.total })
        })
        .collect();
    WorkersCumulativeStats {
        start_time: to_datetime(c.start_ms),
        end_time: to_datetime(c.end_ms),
        activity_durations,
        reservations_created: c.reservations_created,
        reservations_accepted: c.reservations_accepted,
        reservations_rejected: c.reservations_rejected,
        reservations_timed_out: c.reservations_timed_out,
        reservations_canceled: c.reservations_canceled,
        reservations_rescinded: c.reservations_rescinded,
    }
}

/// The cumulative statistics of the chosen workers of a workspace (one worker, or a
/// filtered set) over `window`: their reservations (of tasks on `channel` when given) and
/// their time in each activity, added up (see [`Engine::workers_cumulative`]).
pub fn chosen_workers_cumulative(
    engine: &Engine,
    workspace: WorkspaceId,
    workers: &[u128],
    channel: Option<ChannelId>,
    window: Window,
) -> WorkersCumulativeStats {
    workers_cumulative(engine.workers_cumulative(workspace.index(), WorkerSet::Only(workers), channel, window))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(sid: &str, name: Option<&str>, workers: u64) -> ActivityCount {
        ActivityCount { sid: sid.into(), friendly_name: name.map(Into::into), available: true, workers }
    }

    #[test]
    fn activities_keep_their_order_and_skip_malformed_sids() {
        let good = format!("WA{:032x}", 1);
        let nameless = format!("WA{:032x}", 2);
        let counts =
            [count(&good, Some("Available"), 3), count("WAnot-hex", Some("Bad"), 1), count(&nameless, None, 0)];
        let out = activity_statistics(&counts);
        let rows: Vec<(&str, u64)> = out.iter().map(|a| (a.friendly_name.as_str(), a.workers)).collect();
        // An activity never named shows its SID, as lists of unnamed resources do.
        assert_eq!(rows, [("Available", 3), (nameless.as_str(), 0)]);
    }

    #[test]
    fn an_unknown_worker_counts_nothing_within_the_window() {
        let engine = Engine::default();
        let window = Window { start_ms: 60_000, end_ms: 120_000 };
        let w = chosen_workers_cumulative(&engine, WorkspaceId::from_index(0), &[7], None, window);
        assert_eq!((w.start_time.timestamp_millis(), w.end_time.timestamp_millis()), (60_000, 120_000));
        assert_eq!((w.reservations_created, w.activity_durations.len()), (0, 0));
    }
}
