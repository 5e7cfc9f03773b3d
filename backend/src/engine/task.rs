//! One task's events and what they contribute: its live status and its cumulative entries.
//!
//! A task's contribution is a pure function of the *set* of its events, folded in time
//! order. The engine keeps the previous contribution and applies only the difference,
//! so late, out-of-order and repeated events converge to the same numbers.

use super::index::{CumKind, Entry, NO_WAIT};

/// Channel id meaning "the events never named a channel".
pub const NO_CHANNEL: u32 = u32::MAX;
/// Queue id meaning "the event names no task queue" (or "the task is in none").
pub const NO_QUEUE: u32 = u32::MAX;
/// `TaskEv::queue_entered_ms` when the event does not carry `TaskQueueEnteredDate`.
pub const NO_TIME: i64 = i64::MIN;
/// Set on the owner of a folded entry when it belongs to a task queue's series rather
/// than a workflow's (queue ids stay far below it).
pub const QUEUE_SERIES: u32 = 1 << 31;

/// TaskRouter event types that concern a task, in the order they take effect when they
/// share a millisecond.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    TaskCreated,
    WorkflowEntered,
    /// Before reservations: a task enters a queue before it is offered from it.
    QueueEntered,
    ResCreated,
    ResAccepted,
    ResRejected,
    ResTimeout,
    ResCanceled,
    ResRescinded,
    Moved,
    Other,
    QueueTimeout,
    WorkflowTimeout,
    Wrapup,
    Completed,
    Canceled,
    Deleted,
    SystemDeleted,
}

impl Kind {
    /// `None` for events that are not about a task (worker, activity, queue …).
    pub fn from_type(t: &str) -> Option<Self> {
        Some(match t {
            "task.created" => Self::TaskCreated,
            "workflow.entered" => Self::WorkflowEntered,
            "reservation.created" => Self::ResCreated,
            "reservation.accepted" => Self::ResAccepted,
            "reservation.rejected" => Self::ResRejected,
            "reservation.timeout" => Self::ResTimeout,
            "reservation.canceled" => Self::ResCanceled,
            "reservation.rescinded" => Self::ResRescinded,
            "task-queue.entered" => Self::QueueEntered,
            "task-queue.moved" => Self::Moved,
            "task-queue.timeout" => Self::QueueTimeout,
            "workflow.timeout" => Self::WorkflowTimeout,
            "task.wrapup" => Self::Wrapup,
            "task.completed" => Self::Completed,
            "task.canceled" => Self::Canceled,
            "task.deleted" => Self::Deleted,
            "task.system-deleted" => Self::SystemDeleted,
            t if crate::event::is_task_event(t) => Self::Other,
            _ => return None,
        })
    }

    /// The cumulative counter this kind feeds, if any (entered is decided per task).
    pub fn counter(self) -> Option<CumKind> {
        Some(match self {
            Self::Canceled => CumKind::Canceled,
            Self::Completed => CumKind::Completed,
            Self::Deleted => CumKind::Deleted,
            Self::Moved => CumKind::Moved,
            Self::WorkflowTimeout => CumKind::TimedOut,
            Self::ResCreated => CumKind::ResCreated,
            Self::ResAccepted => CumKind::ResAccepted,
            Self::ResRejected => CumKind::ResRejected,
            Self::ResTimeout => CumKind::ResTimedOut,
            Self::ResCanceled => CumKind::ResCanceled,
            Self::ResRescinded => CumKind::ResRescinded,
            _ => return None,
        })
    }

    fn has_wait(self) -> bool {
        matches!(self, Self::Canceled | Self::ResAccepted)
    }

    /// Events that end the task (or its time in the workflow): they are counted in the
    /// queue they name without making the task enter it.
    fn ends(self) -> bool {
        matches!(self, Self::Completed | Self::Canceled | Self::Deleted | Self::SystemDeleted | Self::WorkflowTimeout)
    }
}

/// Live status of a task (the four keys of `tasks_by_status`).
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    Pending = 0,
    Reserved = 1,
    Assigned = 2,
    Wrapping = 3,
}

/// The part of an event a task needs.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskEv {
    pub ts_ms: i64,
    pub kind: Kind,
    /// The event SID as a number: the tie-breaker and the duplicate check.
    pub sid: u128,
    pub reservation: u128,
    pub workflow: u32,
    pub channel: u32,
    pub priority: Option<i64>,
    pub date_created_ms: Option<i64>,
    /// The floor's id of the queue the event names (`TaskQueueSid`), or [`NO_QUEUE`].
    pub queue: u32,
    /// `TaskQueueEnteredDate`, or [`NO_TIME`] (a plain `i64` keeps the event at 96 bytes:
    /// a task's events are copied on every insert and read on every fold).
    pub queue_entered_ms: i64,
}

impl TaskEv {
    fn key(&self) -> (i64, Kind, u128) {
        (self.ts_ms, self.kind, self.sid)
    }
}

/// A task's realtime contribution.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Live {
    pub workflow: u32,
    pub channel: u32,
    pub status: Status,
    pub priority: i64,
    /// Creation time, or the first event's time when creation was never seen: the
    /// ordering key of "longest waiting".
    pub created_ms: i64,
}

/// The result of folding a task's events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Folded {
    /// (owner, channel, entry), sorted; the owner is a workflow id, or a queue id with
    /// [`QUEUE_SERIES`] set.
    pub entries: Vec<(u32, u32, Entry)>,
    pub live: Option<Live>,
    pub ended: bool,
    pub created_ms: Option<i64>,
    pub channel: u32,
}

/// Inserts `ev` in time order; `false` when an event with the same SID is already there.
pub fn insert_event(events: &mut Vec<TaskEv>, ev: TaskEv) -> bool {
    if events.iter().any(|x| x.sid == ev.sid) {
        return false;
    }
    let at = events.partition_point(|x| x.key() <= ev.key());
    events.insert(at, ev);
    true
}

/// The wait from `created` to `ts`, in milliseconds, clamped to what an entry can hold.
pub fn wait_between(created: Option<i64>, ts: i64) -> u32 {
    match created {
        Some(c) => (ts - c).clamp(0, i64::from(NO_WAIT - 1)) as u32,
        None => NO_WAIT,
    }
}

/// Creation time per docs/design.md: `task.created`, else `workflow.entered`, else `TaskDateCreated`.
pub fn creation_time(events: &[TaskEv]) -> Option<i64> {
    let first = |k: Kind| events.iter().find(|e| e.kind == k).map(|e| e.ts_ms);
    first(Kind::TaskCreated)
        .or_else(|| first(Kind::WorkflowEntered))
        .or_else(|| events.iter().find_map(|e| e.date_created_ms))
}

/// Folds time-ordered events into the task's contribution, writing entries into `out`.
pub fn fold(events: &[TaskEv], out: &mut Folded) {
    out.entries.clear();
    out.live = None;
    let created = creation_time(events);
    let entered_by_workflow = events.iter().any(|e| e.kind == Kind::WorkflowEntered);
    let channel = events.iter().rev().map(|e| e.channel).find(|&c| c != NO_CHANNEL).unwrap_or(NO_CHANNEL);
    let priority = events.iter().rev().find_map(|e| e.priority).unwrap_or(0);

    let mut status: Option<Status> = None;
    let mut ended = false;
    let mut open: Vec<u128> = Vec::new();
    let mut queues = QueueWalk::new();
    // Most tasks of a center without queues (and the workflow-only streams) skip the walk.
    let in_queues = events.iter().any(|e| e.queue != NO_QUEUE);
    for e in events {
        let moved_from = if in_queues { queues.step(e, channel, &mut out.entries) } else { NO_QUEUE };
        let mut push = |kind: CumKind, wait_ms: u32| {
            out.entries.push((e.workflow, channel, Entry { ts_ms: e.ts_ms, kind, wait_ms }));
        };
        match e.kind {
            Kind::TaskCreated | Kind::WorkflowEntered => {
                if e.kind == Kind::WorkflowEntered || !entered_by_workflow {
                    push(CumKind::Entered, NO_WAIT);
                }
                status.get_or_insert(Status::Pending);
            }
            Kind::ResCreated => {
                open.push(e.reservation);
                if matches!(status, None | Some(Status::Pending)) {
                    status = Some(Status::Reserved);
                }
            }
            Kind::ResAccepted => {
                open.retain(|&r| r != e.reservation);
                status = Some(Status::Assigned);
            }
            Kind::ResRejected | Kind::ResTimeout | Kind::ResCanceled | Kind::ResRescinded => {
                open.retain(|&r| r != e.reservation);
                if status == Some(Status::Reserved) && open.is_empty() {
                    status = Some(Status::Pending);
                }
            }
            Kind::Wrapup => status = Some(Status::Wrapping),
            Kind::Completed | Kind::Canceled | Kind::Deleted | Kind::SystemDeleted => ended = true,
            Kind::QueueEntered | Kind::QueueTimeout | Kind::Moved | Kind::WorkflowTimeout | Kind::Other => {}
        }
        if let Some(counter) = e.kind.counter() {
            let wait = if e.kind.has_wait() { wait_between(created, e.ts_ms) } else { NO_WAIT };
            push(counter, wait);
            if in_queues {
                queues.count(e, counter, wait, moved_from, channel, &mut out.entries);
            }
        }
    }
    out.entries.sort_unstable();
    out.ended = ended;
    out.created_ms = created;
    out.channel = channel;
    if let (Some(status), false, Some(last)) = (status, ended, events.last()) {
        out.live = Some(Live {
            workflow: last.workflow,
            channel,
            status,
            priority,
            created_ms: created.unwrap_or(events[0].ts_ms),
        });
    }
}

/// A task's walk through task queues, in event order (see docs/decisions-queues-workers.md,
/// "Queue cumulative statistics"): which queue it is in, which one it was in before, and
/// since when.
struct QueueWalk {
    current: u32,
    previous: u32,
    entered_ms: i64,
}

impl QueueWalk {
    fn new() -> Self {
        Self { current: NO_QUEUE, previous: NO_QUEUE, entered_ms: 0 }
    }

    /// Follows `e`'s queue; pushes `Entered` for a queue the task enters. Returns, for a
    /// move, the queue the task moved out of (or [`NO_QUEUE`] when it is unknown).
    fn step(&mut self, e: &TaskEv, channel: u32, entries: &mut Vec<(u32, u32, Entry)>) -> u32 {
        let named = e.queue;
        if e.kind == Kind::QueueTimeout {
            if named == NO_QUEUE || named == self.current {
                self.previous = self.current;
                self.current = NO_QUEUE;
            }
            return NO_QUEUE;
        }
        if named == NO_QUEUE || e.kind.ends() {
            return if e.kind == Kind::Moved { self.current } else { NO_QUEUE };
        }
        let entered_ms = if e.queue_entered_ms == NO_TIME { e.ts_ms } else { e.queue_entered_ms };
        if named != self.current {
            let from = self.current;
            self.previous = self.current;
            self.current = named;
            self.entered_ms = entered_ms;
            let entry = Entry { ts_ms: e.ts_ms, kind: CumKind::Entered, wait_ms: NO_WAIT };
            entries.push((named | QUEUE_SERIES, channel, entry));
            return if e.kind == Kind::Moved { from } else { NO_QUEUE };
        }
        // Already in the named queue: `task-queue.entered`/`.moved` restate when it entered,
        // and a move seen after the entry it caused moved the task out of the queue before.
        if matches!(e.kind, Kind::QueueEntered | Kind::Moved) {
            self.entered_ms = entered_ms;
        }
        if e.kind == Kind::Moved { self.previous } else { NO_QUEUE }
    }

    /// Counts `counter` (with its wait from creation) in the queue it belongs to.
    fn count(
        &self,
        e: &TaskEv,
        counter: CumKind,
        wait_ms: u32,
        moved_from: u32,
        channel: u32,
        entries: &mut Vec<(u32, u32, Entry)>,
    ) {
        let queue = match counter {
            // Workflow timeouts are not a queue statistic.
            CumKind::TimedOut => return,
            // A move counts in the queue left; when that one is unknown, in the one entered.
            CumKind::Moved if moved_from != NO_QUEUE => moved_from,
            _ if e.kind.ends() && e.queue != NO_QUEUE => e.queue,
            _ => self.current,
        };
        if queue == NO_QUEUE {
            return;
        }
        entries.push((queue | QUEUE_SERIES, channel, Entry { ts_ms: e.ts_ms, kind: counter, wait_ms }));
        if counter == CumKind::ResAccepted && queue == self.current {
            let in_queue = wait_between(Some(self.entered_ms), e.ts_ms);
            entries.push((
                queue | QUEUE_SERIES,
                channel,
                Entry { ts_ms: e.ts_ms, kind: CumKind::AcceptedInQueue, wait_ms: in_queue },
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_stays_96_bytes() {
        assert_eq!(std::mem::size_of::<TaskEv>(), 96);
    }

    fn ev(ts: i64, kind: Kind, sid: u128) -> TaskEv {
        TaskEv {
            ts_ms: ts,
            kind,
            sid,
            reservation: 0,
            workflow: 0,
            channel: 1,
            priority: None,
            date_created_ms: None,
            queue: NO_QUEUE,
            queue_entered_ms: NO_TIME,
        }
    }

    fn folded(events: &[TaskEv]) -> Folded {
        let mut sorted = Vec::new();
        for e in events {
            insert_event(&mut sorted, *e);
        }
        let mut f = Folded::default();
        fold(&sorted, &mut f);
        f
    }

    #[test]
    fn lifecycle_statuses() {
        let created = ev(1_000, Kind::TaskCreated, 1);
        let res = TaskEv { reservation: 7, ..ev(2_000, Kind::ResCreated, 2) };
        let acc = TaskEv { reservation: 7, ..ev(5_500, Kind::ResAccepted, 3) };
        let wrap = ev(9_000, Kind::Wrapup, 4);
        let done = ev(10_000, Kind::Completed, 5);
        assert_eq!(folded(&[created]).live.map(|l| l.status), Some(Status::Pending));
        assert_eq!(folded(&[created, res]).live.map(|l| l.status), Some(Status::Reserved));
        assert_eq!(folded(&[created, res, acc]).live.map(|l| l.status), Some(Status::Assigned));
        assert_eq!(folded(&[created, res, acc, wrap]).live.map(|l| l.status), Some(Status::Wrapping));
        let f = folded(&[done, wrap, acc, res, created]);
        assert!(f.live.is_none() && f.ended);
        let accepted = f.entries.iter().find(|(_, _, e)| e.kind == CumKind::ResAccepted).unwrap();
        assert_eq!(accepted.2.wait_ms, 4_500);
    }

    #[test]
    fn rejected_reservation_returns_to_pending_only_when_none_open() {
        let created = ev(1_000, Kind::TaskCreated, 1);
        let r1 = TaskEv { reservation: 1, ..ev(2_000, Kind::ResCreated, 2) };
        let r2 = TaskEv { reservation: 2, ..ev(2_100, Kind::ResCreated, 3) };
        let rej1 = TaskEv { reservation: 1, ..ev(3_000, Kind::ResRejected, 4) };
        let rej2 = TaskEv { reservation: 2, ..ev(3_500, Kind::ResTimeout, 5) };
        assert_eq!(folded(&[created, r1, r2, rej1]).live.unwrap().status, Status::Reserved);
        assert_eq!(folded(&[created, r1, r2, rej1, rej2]).live.unwrap().status, Status::Pending);
    }

    #[test]
    fn entered_prefers_workflow_entered_and_late_creation_fixes_waits() {
        let created = ev(1_000, Kind::TaskCreated, 1);
        let entered = ev(1_000, Kind::WorkflowEntered, 2);
        let canceled = ev(31_000, Kind::Canceled, 3);
        let entries = |f: &Folded| f.entries.iter().map(|(_, _, e)| (e.kind, e.wait_ms)).collect::<Vec<_>>();
        // Cancel seen alone: counted, no wait known.
        assert_eq!(entries(&folded(&[canceled])), vec![(CumKind::Canceled, NO_WAIT)]);
        // task.created alone counts as entered; with workflow.entered, only that counts.
        assert_eq!(
            entries(&folded(&[created, canceled])),
            vec![(CumKind::Entered, NO_WAIT), (CumKind::Canceled, 30_000)]
        );
        let both = folded(&[canceled, entered, created]);
        assert_eq!(entries(&both), vec![(CumKind::Entered, NO_WAIT), (CumKind::Canceled, 30_000)]);
    }

    #[test]
    fn duplicates_are_refused() {
        let mut v = Vec::new();
        assert!(insert_event(&mut v, ev(1, Kind::TaskCreated, 9)));
        assert!(!insert_event(&mut v, ev(1, Kind::TaskCreated, 9)));
        assert_eq!(v.len(), 1);
    }

    #[test]
    fn date_created_is_the_last_resort() {
        let acc = TaskEv { date_created_ms: Some(10_000), ..ev(25_000, Kind::ResAccepted, 1) };
        let f = folded(&[acc]);
        assert_eq!(f.entries[0].2.wait_ms, 15_000);
        assert_eq!(f.live.unwrap().status, Status::Assigned);
    }

    /// (owner with the queue bit, kind, wait) of the queue entries.
    fn queue_entries(f: &Folded) -> Vec<(u32, CumKind, u32)> {
        f.entries
            .iter()
            .filter(|(o, _, _)| o & QUEUE_SERIES != 0)
            .map(|(o, _, e)| (o & !QUEUE_SERIES, e.kind, e.wait_ms))
            .collect()
    }

    #[test]
    fn a_move_counts_in_the_queue_left_whichever_event_comes_first() {
        let q = |queue: u32, e: TaskEv| TaskEv { queue, ..e };
        let created = q(1, ev(1_000, Kind::TaskCreated, 1));
        let entered = q(1, ev(1_000, Kind::QueueEntered, 2));
        let expected = vec![
            (1, CumKind::Entered, NO_WAIT),
            (1, CumKind::Moved, NO_WAIT),
            (2, CumKind::Entered, NO_WAIT),
            (2, CumKind::ResAccepted, 9_000),
            (2, CumKind::AcceptedInQueue, 4_000),
        ];
        let accepted = TaskEv { reservation: 5, ..q(2, ev(10_000, Kind::ResAccepted, 9)) };
        // The move before the entry into the new queue, with it, and a millisecond after it.
        for (moved_at, entered_at) in [(6_000, 6_001), (6_000, 6_000), (6_001, 6_000)] {
            let moved = q(2, ev(moved_at, Kind::Moved, 3));
            let entered2 = q(2, ev(entered_at, Kind::QueueEntered, 4));
            let f = folded(&[accepted, entered2, moved, entered, created]);
            let mut got = queue_entries(&f);
            got.sort_unstable();
            // The later of the two restates when the task entered.
            let mut want = expected.clone();
            want[4].2 = 10_000 - moved_at.max(entered_at) as u32;
            want.sort_unstable();
            assert_eq!(got, want, "moved at {moved_at}, entered at {entered_at}");
        }
        // A timeout takes the task out: its cancellation counts where it names, nothing enters.
        let timeout = q(1, ev(5_000, Kind::QueueTimeout, 5));
        let canceled = q(1, ev(8_000, Kind::Canceled, 6));
        let f = folded(&[created, entered, timeout, canceled]);
        assert_eq!(queue_entries(&f), vec![(1, CumKind::Entered, NO_WAIT), (1, CumKind::Canceled, 7_000)]);
    }
}
