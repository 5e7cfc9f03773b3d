//! The supervisor's floor: workers, activities and task queues of each workspace, folded
//! from worker, activity, task-queue and reservation events, plus which queue each live
//! task is in and the queues' realtime task counts.
//!
//! Every piece of state is a last-writer-wins register stamped with (event time, event
//! SID), and reservation states only move forward (reserved < accepted < wrapping <
//! ended), so the fold gives the same state whatever order the events arrive in.
//! Eligibility (a queue's `TargetWorkers` against a worker's attributes) is cached per
//! queue and recomputed only when the expression or a worker's attributes change.
//!
//! For the workers' cumulative statistics each worker keeps, for the retention, its
//! activity changes (the stays in each activity) and a log of the reservation events the
//! engine counted for it ([`Floor::count_reservation`], kept by `res_log::ResLog` with counts
//! per block of records): one worker's reservations over any window are two binary searches
//! and at most two blocks read, whatever the size of the workspace.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::{FxHashMap, FxHashSet};
use serde_json::Value;
use wallboard_shared::resources::TasksByStatus;
use wallboard_shared::sid::TaskSid;

use super::expression::{Expression, ParseError};
use super::index::CumKind;
use super::res_log::{self, ResLog};
use super::task::{Live, Status};
use super::trend::{Ring, Source};
use super::waiting_age;
use crate::event::Event;

/// (event time, event SID number): the later stamp wins; the SID breaks ties.
type Stamp = (i64, u128);

/// A last-writer-wins register.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Default)]
struct Reg<T> {
    value: T,
    stamp: Option<Stamp>,
}

impl<T> Reg<T> {
    /// Sets the value if `stamp` is newer; true when it was.
    fn set(&mut self, value: T, stamp: Stamp) -> bool {
        if self.stamp.is_some_and(|s| s >= stamp) {
            return false;
        }
        self.value = value;
        self.stamp = Some(stamp);
        true
    }
}

impl Reg<Option<String>> {
    /// Sets a name (up to 256 characters) without allocating when it did not change.
    fn set_name(&mut self, name: &str, stamp: Stamp) {
        if self.stamp.is_some_and(|s| s >= stamp) {
            return;
        }
        self.stamp = Some(stamp);
        if self.value.as_deref() != Some(name) {
            self.value = Some(name.chars().take(256).collect());
        }
    }
}

/// Activities whose availability was never told are available when named like one of
/// TaskRouter's default available activities (see docs/decisions-queues-workers.md).
/// A JSON value in a snapshot: as its text (the snapshot's format is not self-describing,
/// so a `Value` cannot be read back from it directly).
mod reg_json {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use serde_json::Value;

    use super::{Reg, Stamp};

    pub fn serialize<S: Serializer>(reg: &Reg<Value>, s: S) -> Result<S::Ok, S::Error> {
        (reg.value.to_string(), reg.stamp).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Reg<Value>, D::Error> {
        let (text, stamp) = <(String, Option<Stamp>)>::deserialize(d)?;
        let value = serde_json::from_str(&text).map_err(serde::de::Error::custom)?;
        Ok(Reg { value, stamp })
    }
}

fn default_available(name: Option<&str>) -> bool {
    name.is_some_and(|n| n.eq_ignore_ascii_case("available") || n.eq_ignore_ascii_case("idle"))
}

#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
struct ActivityRec {
    workspace: u32,
    sid: String,
    name: Reg<Option<String>>,
    available: Reg<Option<bool>>,
    deleted: Reg<bool>,
}

impl ActivityRec {
    fn available(&self) -> bool {
        self.available.value.unwrap_or_else(|| default_available(self.name.value.as_deref()))
    }
}

/// How far a reservation got; it only ever moves forward.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum ResState {
    Reserved,
    Accepted,
    Wrapping,
    Ended,
}

#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy)]
struct ResRec {
    task: u128,
    channel: u32,
    state: ResState,
    last_ms: i64,
}

#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Default)]
struct WorkerChannel {
    capacity: Reg<Option<u64>>,
    available: Reg<Option<bool>>,
}

#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
struct WorkerRec {
    workspace: u32,
    sid: String,
    first_ms: i64,
    name: Reg<Option<String>>,
    /// Set by `worker.created` (true) and `worker.deleted` (false); a worker only ever
    /// seen through other events exists.
    exists: Reg<bool>,
    /// The activity as set by `worker.created` and `worker.activity.update`: its stamp's
    /// time is when the worker entered it.
    activity: Reg<Option<u128>>,
    /// The activity named by any other worker event, for workers whose change was never seen.
    activity_hint: Reg<Option<u128>>,
    #[serde(with = "reg_json")]
    attributes: Reg<Value>,
    /// The text `attributes` was parsed from.
    attributes_raw: String,
    channels: BTreeMap<u32, WorkerChannel>,
    reservations: FxHashMap<u128, ResRec>,
    /// Activity changes (`worker.created`, `worker.activity.update`, `worker.deleted`) in
    /// (time, SID) order, for the time spent in each activity.
    changes: Vec<Change>,
    /// The reservation events the engine counted for this worker (duplicates never get
    /// here: an event is recorded only when it was counted in the workflow series too).
    res_log: ResLog,
}

/// The six reservation counters of the workers' cumulative statistics, in schema order.
pub const RES_KINDS: [CumKind; res_log::KINDS] = [
    CumKind::ResCreated,
    CumKind::ResAccepted,
    CumKind::ResRejected,
    CumKind::ResTimedOut,
    CumKind::ResCanceled,
    CumKind::ResRescinded,
];

/// Which workers a workers statistic is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerSet<'a> {
    /// Every worker of the workspace, deleted ones included (their past counts).
    All,
    /// The workers eligible for a queue (the floor's id) now.
    Eligible(u32),
    /// These workers, by their SID's number; unknown ones and those of other workspaces
    /// count nothing, and one listed twice counts once.
    Only(&'a [u128]),
}

/// Activity number meaning "none" (a deleted worker; a change that named no activity).
const NO_ACTIVITY: u32 = u32::MAX;

/// One activity change of a worker; activities are numbered by [`Floor::activity_no`] to
/// keep the record small (a busy month holds millions).
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Change {
    ts_ms: i64,
    /// The event SID's low 64 bits: the order of changes in one millisecond, and the
    /// duplicate check.
    tie: u64,
    activity: u32,
    /// The activity left, and how long the worker had been in it (first change seen only).
    previous: u32,
    previous_ms: i64,
}

impl WorkerRec {
    fn alive(&self) -> bool {
        self.exists.stamp.is_none() || self.exists.value
    }

    fn activity(&self) -> Option<u128> {
        if self.activity.stamp.is_some() { self.activity.value } else { self.activity_hint.value }
    }
}

/// Realtime task counts of one queue on one channel.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Default)]
struct QueueRt {
    by_status: [u64; 4],
    by_priority: BTreeMap<i64, u64>,
    /// Pending tasks by (creation time, task).
    pending: BTreeSet<(i64, u128)>,
    /// Pending tasks by (queue entry time, task).
    pending_entered: BTreeSet<(i64, u128)>,
    /// The counts at past trend boundaries (see [`super::trend`]).
    trend: Ring,
}

/// A task's realtime contribution to a queue.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
struct QueueLive {
    queue: u32,
    channel: u32,
    status: Status,
    priority: i64,
    created_ms: i64,
    entered_ms: i64,
}

impl QueueRt {
    /// The queue's part of a history on this channel.
    fn trend_source(&self) -> Source<'_> {
        let oldest_ms = self.pending.first().map(|&(created, _)| created);
        Source { ring: &self.trend, by_status: &self.by_status, oldest_ms }
    }

    fn add(&mut self, l: &QueueLive, task: u128) {
        self.by_status[l.status as usize] += 1;
        *self.by_priority.entry(l.priority).or_default() += 1;
        if l.status == Status::Pending {
            self.pending.insert((l.created_ms, task));
            self.pending_entered.insert((l.entered_ms, task));
        }
    }

    fn remove(&mut self, l: &QueueLive, task: u128) {
        self.by_status[l.status as usize] = self.by_status[l.status as usize].saturating_sub(1);
        if let Some(n) = self.by_priority.get_mut(&l.priority) {
            *n -= 1;
            if *n == 0 {
                self.by_priority.remove(&l.priority);
            }
        }
        if l.status == Status::Pending {
            self.pending.remove(&(l.created_ms, task));
            self.pending_entered.remove(&(l.entered_ms, task));
        }
    }
}

#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
struct QueueRec {
    workspace: u32,
    sid: String,
    first_ms: i64,
    name: Reg<Option<String>>,
    exists: Reg<bool>,
    expression: Reg<Option<String>>,
    /// The parsed expression; `None` while it was never told. Not in a snapshot: parsed
    /// again from `expression` when one is loaded ([`Floor::loaded`]).
    #[serde(skip)]
    parsed: Option<Result<Expression, ParseError>>,
    eligible: FxHashSet<u128>,
    /// Realtime counts per channel.
    rt: Vec<(u32, QueueRt)>,
}

impl QueueRec {
    fn alive(&self) -> bool {
        self.exists.stamp.is_none() || self.exists.value
    }

    fn rt_mut(&mut self, channel: u32) -> &mut QueueRt {
        let at = match self.rt.iter().position(|(c, _)| *c == channel) {
            Some(at) => at,
            None => {
                self.rt.push((channel, QueueRt::default()));
                self.rt.len() - 1
            }
        };
        &mut self.rt[at].1
    }
}

/// A live task's queue membership.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Default)]
struct TaskRec {
    /// The queue named by the task's newest event that names one; `None` after a
    /// `task-queue.timeout` (the task left the queue).
    queue: Reg<Option<u32>>,
    entered_ms: i64,
    /// (worker, reservation) pairs, to end them when the task ends.
    reservations: Vec<(u128, u128)>,
    contrib: Option<QueueLive>,
}

/// An activity of a workspace with the number of workers in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityCount {
    pub sid: String,
    pub friendly_name: Option<String>,
    pub available: bool,
    pub workers: u64,
}

/// Time the workers spent in one activity over a window, in whole seconds (rounded half
/// up): an element of `activity_durations`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityDurationStat {
    pub sid: String,
    pub friendly_name: Option<String>,
    /// Number of stays in the activity that overlap the window.
    pub stays: u64,
    pub avg: u64,
    pub min: u64,
    pub max: u64,
    pub total: u64,
}

/// One channel of a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerChannelState {
    /// The registry's channel id.
    pub channel: u32,
    pub configured_capacity: u64,
    pub available: bool,
    /// Reservations not yet accepted.
    pub reserved_tasks: u64,
    /// Accepted or wrapping tasks.
    pub assigned_tasks: u64,
    /// Capacity left, in percent of the configured capacity (floored; 0 when none is configured).
    pub available_capacity_percentage: u64,
}

/// A worker as folded from the events.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerState {
    pub sid: String,
    pub friendly_name: Option<String>,
    pub activity_sid: Option<String>,
    pub activity_name: Option<String>,
    /// The current activity's `available` flag.
    pub available: bool,
    /// When the worker entered its current activity (`None`: the change was never seen).
    pub activity_since_ms: Option<i64>,
    pub attributes: Value,
    pub channels: Vec<WorkerChannelState>,
    /// Tasks reserved for the worker and not yet accepted, by SID.
    pub reserved_tasks: Vec<TaskSid>,
    /// Tasks accepted or wrapping, by SID.
    pub assigned_tasks: Vec<TaskSid>,
    pub first_seen_ms: i64,
}

/// `Workers/RealTimeStatistics` numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkersRealtime {
    pub total_workers: u64,
    pub activity_statistics: Vec<ActivityCount>,
}

/// A task queue as known from the events.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueInfo {
    pub id: u32,
    pub workspace: u32,
    pub sid: String,
    pub friendly_name: Option<String>,
    pub target_workers: Option<String>,
    /// Why `target_workers` does not parse (the queue then has no eligible workers).
    pub expression_error: Option<ParseError>,
    pub first_seen_ms: i64,
}

/// `TaskQueues/{WQ}/RealTimeStatistics` numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueRealtime {
    pub tasks_by_status: TasksByStatus,
    /// Priority (decimal string) to number of live tasks; only non-zero counts.
    pub tasks_by_priority: BTreeMap<String, u64>,
    pub longest_task_waiting_age: u64,
    pub longest_task_waiting_sid: Option<TaskSid>,
    pub longest_relative_task_age_in_queue: u64,
    pub longest_relative_task_age_in_queue_sid: Option<TaskSid>,
    pub total_tasks: u64,
    pub total_available_workers: u64,
    pub total_eligible_workers: u64,
    /// Eligible workers per activity.
    pub activity_statistics: Vec<ActivityCount>,
}

/// Workers, activities, queues and queue membership of every workspace.
#[derive(serde::Serialize, serde::Deserialize, Debug, Default)]
pub struct Floor {
    workers: FxHashMap<u128, WorkerRec>,
    activities: FxHashMap<u128, ActivityRec>,
    /// Activity SID number by activity number, and back (see [`Change`]).
    activity_keys: Vec<u128>,
    activity_nos: FxHashMap<u128, u32>,
    queues: Vec<QueueRec>,
    queue_ids: FxHashMap<u128, u32>,
    tasks: FxHashMap<u128, TaskRec>,
}

fn sid_string(prefix: &str, e: &Event, key: &str, n: u128) -> String {
    e.get(key).filter(|s| s.len() == 34).map_or_else(|| format!("{prefix}{n:032x}"), str::to_owned)
}

impl Floor {
    /// Rebuilds what a snapshot leaves out (the queues' parsed expressions).
    pub(super) fn loaded(&mut self) {
        for q in &mut self.queues {
            q.parsed = q.expression.value.as_deref().map(Expression::parse);
        }
    }

    /// Folds the worker, activity, queue and reservation fields of `e`. `channel` is the
    /// registry's id of the event's task channel.
    pub fn observe(&mut self, e: &Event, workspace: u32, channel: Option<u32>) {
        let f = e.keys().floor;
        let stamp = (e.ts_ms, e.keys().sid);
        let t = e.event_type.as_str();
        if t.starts_with("activity.")
            && let Some(a) = f.activity
        {
            let rec = self.activity(workspace, a, e, "activity_sid");
            if let Some(n) = e.get("activity_name") {
                rec.name.set_name(n, stamp);
            }
            if f.activity_available.is_some() {
                rec.available.set(f.activity_available, stamp);
            }
            rec.deleted.set(t == "activity.deleted", stamp);
            return;
        }
        if t.starts_with("task-queue.")
            && !matches!(t, "task-queue.entered" | "task-queue.moved" | "task-queue.timeout")
        {
            if let Some(q) = f.queue {
                self.observe_queue(e, workspace, q, stamp);
            }
            return;
        }
        if let Some(w) = f.worker {
            self.observe_worker(e, workspace, w, channel, stamp);
        }
    }

    fn activity(&mut self, workspace: u32, a: u128, e: &Event, key: &str) -> &mut ActivityRec {
        self.activities.entry(a).or_insert_with(|| ActivityRec {
            workspace,
            sid: sid_string("WA", e, key, a),
            name: Reg::default(),
            available: Reg::default(),
            deleted: Reg::default(),
        })
    }

    /// The id of the queue numbered `q` (its SID's number), known from now on.
    pub fn queue_id(&mut self, workspace: u32, q: u128, e: &Event) -> u32 {
        if let Some(&id) = self.queue_ids.get(&q) {
            return id;
        }
        let sid = e
            .get("task_queue_sid")
            .or_else(|| e.get("resource_sid"))
            .filter(|s| s.len() == 34 && s.starts_with("WQ"))
            .map_or_else(|| format!("WQ{q:032x}"), str::to_owned);
        self.queues.push(QueueRec {
            workspace,
            sid,
            first_ms: e.ts_ms,
            name: Reg::default(),
            exists: Reg::default(),
            expression: Reg::default(),
            parsed: None,
            eligible: FxHashSet::default(),
            rt: Vec::new(),
        });
        let id = (self.queues.len() - 1) as u32;
        self.queue_ids.insert(q, id);
        id
    }

    fn observe_queue(&mut self, e: &Event, workspace: u32, q: u128, stamp: Stamp) {
        let id = self.queue_id(workspace, q, e);
        let rec = &mut self.queues[id as usize];
        rec.first_ms = rec.first_ms.min(e.ts_ms);
        if let Some(n) = e.get("task_queue_name") {
            rec.name.set_name(n, stamp);
        }
        match e.event_type.as_str() {
            "task-queue.deleted" => {
                rec.exists.set(false, stamp);
            }
            "task-queue.created" => {
                rec.exists.set(true, stamp);
            }
            _ => {}
        }
        if matches!(e.event_type.as_str(), "task-queue.created" | "task-queue.expression.updated") {
            // A queue created without TargetWorkers gets Twilio's default, `1==1`.
            let text = e.get("task_queue_target_expression").unwrap_or("1==1");
            let changed = rec.expression.value.as_deref() != Some(text);
            if rec.expression.set(Some(text.to_owned()), stamp) && changed {
                self.reparse(id);
            }
        }
    }

    /// Parses a queue's new expression and recomputes its eligible workers.
    fn reparse(&mut self, id: u32) {
        let rec = &mut self.queues[id as usize];
        let parsed = rec.expression.value.as_deref().map(Expression::parse);
        if let Some(Err(err)) = &parsed {
            // Reported once per expression text: the next report needs a new expression.
            tracing::warn!(queue = %rec.sid, expression = ?rec.expression.value, %err, "TargetWorkers does not parse; the queue has no eligible workers");
        }
        rec.parsed = parsed;
        rec.eligible.clear();
        if let Some(Ok(expr)) = &rec.parsed {
            for (&w, worker) in &self.workers {
                if worker.workspace == rec.workspace && expr.matches(&worker.attributes.value) {
                    rec.eligible.insert(w);
                }
            }
        }
    }

    fn observe_worker(&mut self, e: &Event, workspace: u32, w: u128, channel: Option<u32>, stamp: Stamp) {
        let f = e.keys().floor;
        let t = e.event_type.as_str();
        if let Some(a) = f.activity {
            let rec = self.activity(workspace, a, e, "worker_activity_sid");
            if let Some(n) = e.get("worker_activity_name") {
                rec.name.set_name(n, stamp);
            }
        }
        if let (Some(a), Some(name)) = (f.previous_activity, e.get("worker_previous_activity_name")) {
            self.activity(workspace, a, e, "worker_previous_activity_sid").name.set_name(name, stamp);
        }
        let is_new = !self.workers.contains_key(&w);
        let worker = self.workers.entry(w).or_insert_with(|| WorkerRec {
            workspace,
            sid: sid_string("WK", e, "worker_sid", w),
            first_ms: e.ts_ms,
            name: Reg::default(),
            exists: Reg::default(),
            activity: Reg::default(),
            activity_hint: Reg::default(),
            attributes: Reg { value: Value::Object(serde_json::Map::new()), stamp: None },
            attributes_raw: String::new(),
            channels: BTreeMap::new(),
            reservations: FxHashMap::default(),
            changes: Vec::new(),
            res_log: ResLog::default(),
        });
        worker.first_ms = worker.first_ms.min(e.ts_ms);
        if let Some(n) = e.get("worker_name") {
            worker.name.set_name(n, stamp);
        }
        match t {
            "worker.created" => {
                worker.exists.set(true, stamp);
            }
            "worker.deleted" => {
                worker.exists.set(false, stamp);
            }
            _ => {}
        }
        if f.activity.is_some() {
            if matches!(t, "worker.created" | "worker.activity.update") {
                worker.activity.set(f.activity, stamp);
            } else {
                worker.activity_hint.set(f.activity, stamp);
            }
        }
        if matches!(t, "worker.created" | "worker.activity.update" | "worker.deleted") {
            let activity = if t == "worker.deleted" { None } else { f.activity };
            let change = Change {
                ts_ms: e.ts_ms,
                tie: stamp.1 as u64,
                activity: activity
                    .map_or(NO_ACTIVITY, |a| Self::number(&mut self.activity_keys, &mut self.activity_nos, a)),
                previous: f
                    .previous_activity
                    .map_or(NO_ACTIVITY, |a| Self::number(&mut self.activity_keys, &mut self.activity_nos, a)),
                previous_ms: f.time_in_previous_activity_ms.unwrap_or(-1),
            };
            let at = worker.changes.partition_point(|c| (c.ts_ms, c.tie) < (change.ts_ms, change.tie));
            if worker.changes.get(at).is_none_or(|c| (c.ts_ms, c.tie) != (change.ts_ms, change.tie)) {
                worker.changes.insert(at, change);
            }
        }
        let mut attributes_changed = false;
        if let Some(raw) = e.get("worker_attributes") {
            // Attributes that are not a JSON object match nothing but `1==1`-like constants.
            if worker.attributes_raw == raw {
                // The same text again (every reservation event repeats it): no parse.
                worker.attributes.stamp = worker.attributes.stamp.max(Some(stamp));
            } else if worker.attributes.stamp.is_none_or(|s| s < stamp) {
                let value = serde_json::from_str::<Value>(raw).unwrap_or(Value::Null);
                let differs = worker.attributes.value != value;
                worker.attributes_raw = raw.to_owned();
                attributes_changed = worker.attributes.set(value, stamp) && differs;
            }
        }
        if let Some(ch) = channel
            && (t.starts_with("worker.") || f.channel_capacity.is_some())
        {
            let wc = worker.channels.entry(ch).or_default();
            // Configured capacity: WorkerChannelCapacity, else available capacity plus the
            // tasks on the channel (they add up to it).
            let capacity = f.channel_capacity.or(match (f.channel_available_capacity, f.channel_task_count) {
                (Some(a), Some(n)) => Some(a + n),
                _ => None,
            });
            if let Some(c) = capacity {
                wc.capacity.set(Some(c.max(0) as u64), stamp);
            }
            if f.channel_available.is_some() {
                wc.available.set(f.channel_available, stamp);
            }
        }
        if t.starts_with("reservation.")
            && let (Some(res), Some(task)) = (e.keys().reservation, e.keys().task)
        {
            let state = match t {
                "reservation.created" => ResState::Reserved,
                "reservation.accepted" => ResState::Accepted,
                "reservation.wrapup" => ResState::Wrapping,
                "reservation.completed"
                | "reservation.rejected"
                | "reservation.timeout"
                | "reservation.canceled"
                | "reservation.rescinded"
                | "reservation.failed" => ResState::Ended,
                _ => ResState::Reserved,
            };
            let r = worker.reservations.entry(res).or_insert(ResRec {
                task,
                channel: channel.unwrap_or(super::task::NO_CHANNEL),
                state,
                last_ms: e.ts_ms,
            });
            r.state = r.state.max(state);
            r.last_ms = r.last_ms.max(e.ts_ms);
            if let Some(ch) = channel {
                r.channel = ch;
            }
            let rec = self.tasks.entry(task).or_default();
            if !rec.reservations.contains(&(w, res)) {
                rec.reservations.push((w, res));
            }
        }
        if attributes_changed || is_new {
            // Eligibility is recomputed only here and when an expression changes.
            let attrs = &self.workers[&w].attributes.value;
            for q in &mut self.queues {
                if q.workspace != workspace {
                    continue;
                }
                match &q.parsed {
                    Some(Ok(expr)) if expr.matches(attrs) => q.eligible.insert(w),
                    _ => q.eligible.remove(&w),
                };
            }
        }
    }

    /// Records the queue `id` named by a task event (before the task is re-folded).
    pub fn task_event(&mut self, e: &Event, id: u32, task: u128) {
        let first = &mut self.queues[id as usize].first_ms;
        *first = (*first).min(e.ts_ms);
        if self.queues[id as usize].name.value.is_none()
            && let Some(n) = e.get("task_queue_name")
        {
            self.queues[id as usize].name.set_name(n, (e.ts_ms, e.keys().sid));
        }
        let t = e.event_type.as_str();
        let value = (t != "task-queue.timeout").then_some(id);
        let rec = self.tasks.entry(task).or_default();
        let before = rec.queue.value;
        if rec.queue.set(value, (e.ts_ms, e.keys().sid))
            && (before != value || matches!(t, "task-queue.entered" | "task-queue.moved"))
        {
            rec.entered_ms = e.keys().floor.queue_entered_ms.unwrap_or(e.ts_ms);
        }
    }

    /// Updates a task's queue contribution after it was re-folded: `live` is its new
    /// realtime record, `ended` whether it ended (its reservations then end too). Returns
    /// the queues whose realtime numbers the task left and joined (both when it moved or
    /// changed within one queue, none when its contribution stayed).
    pub fn task_refresh(&mut self, task: u128, live: Option<&Live>, ended: bool) -> [Option<u32>; 2] {
        let mut moved = [None; 2];
        let Some(rec) = self.tasks.get_mut(&task) else {
            return moved;
        };
        let new = match (rec.queue.value, live) {
            (Some(queue), Some(l)) => Some(QueueLive {
                queue,
                channel: l.channel,
                status: l.status,
                priority: l.priority,
                created_ms: l.created_ms,
                entered_ms: rec.entered_ms,
            }),
            _ => None,
        };
        if new != rec.contrib {
            if let Some(old) = rec.contrib {
                self.queues[old.queue as usize].rt_mut(old.channel).remove(&old, task);
            }
            if let Some(n) = new {
                self.queues[n.queue as usize].rt_mut(n.channel).add(&n, task);
            }
            moved = [rec.contrib.map(|c| c.queue), new.map(|c| c.queue)];
            rec.contrib = new;
        }
        if ended {
            for &(w, res) in &rec.reservations {
                if let Some(r) = self.workers.get_mut(&w).and_then(|w| w.reservations.get_mut(&res)) {
                    r.state = ResState::Ended;
                }
            }
            if rec.contrib.is_none() {
                self.tasks.remove(&task);
            }
        } else if let Some(l) = live {
            // Wrapping tasks keep their accepted reservation busy, as wrapping.
            if l.status == Status::Wrapping {
                for &(w, res) in &rec.reservations {
                    if let Some(r) = self.workers.get_mut(&w).and_then(|w| w.reservations.get_mut(&res))
                        && r.state == ResState::Accepted
                    {
                        r.state = ResState::Wrapping;
                    }
                }
            }
        }
        moved
    }

    /// Forgets ended reservations whose last event is older than `before_ms`.
    pub fn prune(&mut self, before_ms: i64) {
        for w in self.workers.values_mut() {
            w.reservations.retain(|_, r| r.state != ResState::Ended || r.last_ms >= before_ms);
        }
    }

    /// Forgets the history kept for the workers' cumulative statistics that is older than
    /// `before_ms` (the retention): reservation events, and activity changes except the
    /// last of them (the activity the worker was in at `before_ms`).
    pub fn prune_history(&mut self, before_ms: i64) {
        for w in self.workers.values_mut() {
            let older = w.changes.partition_point(|c| c.ts_ms < before_ms);
            if older > 1 {
                w.changes.drain(..older - 1);
            }
            w.res_log.prune(before_ms);
        }
    }

    /// Records a reservation event the engine counted: `worker` (its SID's number) got a
    /// reservation outcome `kind` at `ts_ms`, for a task on `channel` (the registry's id,
    /// or `NO_CHANNEL`). Other kinds, and workers never seen, are ignored.
    pub fn count_reservation(&mut self, worker: u128, ts_ms: i64, kind: CumKind, channel: u32) {
        let Some(k) = RES_KINDS.iter().position(|&x| x == kind) else {
            return;
        };
        let Some(w) = self.workers.get_mut(&worker) else {
            return;
        };
        w.res_log.insert(ts_ms, channel, k);
    }

    /// The workers of `set` in `workspace`, each once.
    fn selected<'a>(&'a self, workspace: u32, set: WorkerSet<'a>) -> Box<dyn Iterator<Item = &'a WorkerRec> + 'a> {
        let of_workspace = move |w: &&WorkerRec| w.workspace == workspace;
        match set {
            WorkerSet::All => Box::new(self.workers.values().filter(of_workspace)),
            WorkerSet::Eligible(q) => Box::new(
                self.queues
                    .get(q as usize)
                    .into_iter()
                    .flat_map(|q| &q.eligible)
                    .filter_map(|n| self.workers.get(n))
                    .filter(of_workspace),
            ),
            WorkerSet::Only(keys) => {
                let mut keys = keys.to_vec();
                keys.sort_unstable();
                keys.dedup();
                Box::new(keys.into_iter().filter_map(|n| self.workers.get(&n)).filter(of_workspace))
            }
        }
    }

    /// The reservation events of the workers of `set` with `start_ms <= time <= end_ms`
    /// (the index's bounds), on `channel` when given: one count per [`RES_KINDS`] entry.
    pub fn reservation_counts(
        &self,
        workspace: u32,
        set: WorkerSet<'_>,
        channel: Option<u32>,
        window: super::Window,
    ) -> [u64; res_log::KINDS] {
        let mut out = [0u64; res_log::KINDS];
        for w in self.selected(workspace, set) {
            w.res_log.count(window.start_ms, window.end_ms, channel, &mut out);
        }
        out
    }

    /// The number of an activity (by its SID's number), given on first sight.
    fn number(keys: &mut Vec<u128>, nos: &mut FxHashMap<u128, u32>, a: u128) -> u32 {
        *nos.entry(a).or_insert_with(|| {
            keys.push(a);
            (keys.len() - 1) as u32
        })
    }

    /// Time spent in each activity over `window` by the workers of `set` in a workspace
    /// (together: their stays are pooled). A *stay* runs from one activity change of a
    /// worker to the next; before the first change seen, the stay in the previous activity
    /// is `WorkerTimeInPreviousActivity` long; the last stay lasts until the window's end.
    /// Each stay is clipped to the window; stays of zero length are left out. Per activity:
    /// the number of stays, and their total, shortest and longest length.
    pub fn activity_durations(
        &self,
        workspace: u32,
        set: WorkerSet<'_>,
        window: super::Window,
    ) -> Vec<ActivityDurationStat> {
        let (start, end) = (window.start_ms, window.end_ms);
        // Per activity number: (stays, total, min, max) in milliseconds.
        let mut acc: Vec<(u64, u64, u64, u64)> = vec![(0, 0, u64::MAX, 0); self.activity_keys.len()];
        let mut add = |activity: u32, from: i64, to: i64| {
            let len = to.min(end) - from.max(start);
            if activity == NO_ACTIVITY || len <= 0 {
                return;
            }
            let a = &mut acc[activity as usize];
            let len = len as u64;
            *a = (a.0 + 1, a.1 + len, a.2.min(len), a.3.max(len));
        };
        for w in self.selected(workspace, set) {
            let c = &w.changes;
            // The change in effect at `start` and every later one up to `end`.
            let first = res_log::partition_near(c, |x| x.ts_ms, start, |x| x.ts_ms <= start).saturating_sub(1);
            if let Some(f) = c.first()
                && first == 0
                && f.previous_ms >= 0
            {
                add(f.previous, f.ts_ms - f.previous_ms, f.ts_ms);
            }
            for (i, x) in c.iter().enumerate().skip(first) {
                if x.ts_ms > end {
                    break;
                }
                let until = c.get(i + 1).map_or(end, |n| n.ts_ms);
                add(x.activity, x.ts_ms, until);
            }
        }
        let mut out: Vec<ActivityDurationStat> = self
            .activities
            .iter()
            .filter(|(_, a)| a.workspace == workspace && !a.deleted.value)
            .map(|(key, a)| {
                let (stays, total, min, max) = self.activity_nos.get(key).map_or((0, 0, 0, 0), |&no| acc[no as usize]);
                let ms = |x: u64| super::ms_to_s(x);
                ActivityDurationStat {
                    sid: a.sid.clone(),
                    friendly_name: a.name.value.clone(),
                    stays,
                    avg: if stays == 0 { 0 } else { (total * 2 + stays * 1000) / (stays * 2000) },
                    min: if stays == 0 { 0 } else { ms(min) },
                    max: ms(max),
                    total: ms(total),
                }
            })
            .collect();
        out.sort_by(|a, b| a.friendly_name.cmp(&b.friendly_name).then_with(|| a.sid.cmp(&b.sid)));
        out
    }

    // ------------------------------------------------------------ queries

    fn worker_state(&self, w: &WorkerRec) -> WorkerState {
        let activity = w.activity().and_then(|a| self.activities.get(&a));
        let mut channels: Vec<WorkerChannelState> = Vec::new();
        let mut seen: BTreeMap<u32, (u64, u64)> = BTreeMap::new();
        for r in w.reservations.values() {
            let e = seen.entry(r.channel).or_default();
            match r.state {
                ResState::Reserved => e.0 += 1,
                ResState::Accepted | ResState::Wrapping => e.1 += 1,
                ResState::Ended => {}
            }
        }
        let (mut reserved_tasks, mut assigned_tasks) = (Vec::new(), Vec::new());
        for r in w.reservations.values() {
            match r.state {
                ResState::Reserved => reserved_tasks.push(r.task),
                ResState::Accepted | ResState::Wrapping => assigned_tasks.push(r.task),
                ResState::Ended => {}
            }
        }
        let sids = |mut v: Vec<u128>| {
            v.sort_unstable();
            v.dedup();
            v.into_iter().map(TaskSid::from_u128).collect::<Vec<_>>()
        };
        let mut ids: BTreeSet<u32> = w.channels.keys().copied().collect();
        ids.extend(seen.keys().copied().filter(|&c| c != super::task::NO_CHANNEL));
        for ch in ids {
            let (reserved, assigned) = seen.get(&ch).copied().unwrap_or_default();
            let conf = w.channels.get(&ch);
            // A channel never told its capacity holds one task, TaskRouter's default.
            let capacity = conf.and_then(|c| c.capacity.value).unwrap_or(1);
            let available = conf.and_then(|c| c.available.value).unwrap_or(true);
            let used = reserved + assigned;
            let pct = (capacity.saturating_sub(used) * 100).checked_div(capacity).unwrap_or(0);
            channels.push(WorkerChannelState {
                channel: ch,
                configured_capacity: capacity,
                available,
                reserved_tasks: reserved,
                assigned_tasks: assigned,
                available_capacity_percentage: pct,
            });
        }
        WorkerState {
            sid: w.sid.clone(),
            friendly_name: w.name.value.clone(),
            activity_sid: activity.map(|a| a.sid.clone()),
            activity_name: activity.and_then(|a| a.name.value.clone()),
            available: activity.is_some_and(ActivityRec::available),
            activity_since_ms: w.activity.stamp.map(|s| s.0),
            attributes: w.attributes.value.clone(),
            channels,
            reserved_tasks: sids(reserved_tasks),
            assigned_tasks: sids(assigned_tasks),
            first_seen_ms: w.first_ms,
        }
    }

    /// Live workers of a workspace, by SID.
    pub fn workers(&self, workspace: u32) -> Vec<WorkerState> {
        let mut out: Vec<WorkerState> = self
            .workers
            .values()
            .filter(|w| w.workspace == workspace && w.alive())
            .map(|w| self.worker_state(w))
            .collect();
        out.sort_by(|a, b| a.sid.cmp(&b.sid));
        out
    }

    /// One live worker by SID (`WK…`).
    pub fn worker(&self, workspace: u32, sid: &str) -> Option<WorkerState> {
        let n = wallboard_shared::sid::sid_number("WK", sid)?;
        self.workers.get(&n).filter(|w| w.workspace == workspace && w.alive()).map(|w| self.worker_state(w))
    }

    /// Activities of a workspace (deleted ones left out), by name then SID.
    pub fn activities(&self, workspace: u32) -> Vec<ActivityCount> {
        self.activity_counts(workspace, |_| true)
    }

    fn activity_counts(&self, workspace: u32, include: impl Fn(&u128) -> bool) -> Vec<ActivityCount> {
        let mut counts: FxHashMap<u128, u64> = FxHashMap::default();
        for (n, w) in &self.workers {
            if w.workspace == workspace
                && w.alive()
                && include(n)
                && let Some(a) = w.activity()
            {
                *counts.entry(a).or_default() += 1;
            }
        }
        let mut out: Vec<ActivityCount> = self
            .activities
            .iter()
            .filter(|(_, a)| a.workspace == workspace && !a.deleted.value)
            .map(|(n, a)| ActivityCount {
                sid: a.sid.clone(),
                friendly_name: a.name.value.clone(),
                available: a.available(),
                workers: counts.get(n).copied().unwrap_or(0),
            })
            .collect();
        out.sort_by(|a, b| a.friendly_name.cmp(&b.friendly_name).then_with(|| a.sid.cmp(&b.sid)));
        out
    }

    /// Workers statistics of a workspace, optionally only those eligible for `queue`.
    pub fn workers_realtime(&self, workspace: u32, queue: Option<u32>) -> WorkersRealtime {
        let eligible = queue.map(|q| self.eligible(q));
        let include = |n: &u128| eligible.as_ref().is_none_or(|set| set.contains(n));
        let total =
            self.workers.iter().filter(|(n, w)| w.workspace == workspace && w.alive() && include(n)).count() as u64;
        WorkersRealtime { total_workers: total, activity_statistics: self.activity_counts(workspace, include) }
    }

    /// The eligible workers of a queue (empty when its expression is unknown or malformed).
    fn eligible(&self, queue: u32) -> FxHashSet<u128> {
        self.queues.get(queue as usize).map(|q| q.eligible.clone()).unwrap_or_default()
    }

    /// Live queues of a workspace, by SID.
    /// The ids of the live task queues of `workspace`.
    pub fn queue_ids(&self, workspace: u32) -> impl Iterator<Item = u32> + '_ {
        (0..self.queues.len() as u32)
            .filter(move |&id| self.queues[id as usize].workspace == workspace && self.queues[id as usize].alive())
    }

    pub fn queues(&self, workspace: u32) -> Vec<QueueInfo> {
        let mut out: Vec<QueueInfo> = (0..self.queues.len() as u32)
            .filter_map(|id| self.queue(id))
            .filter(|q| q.workspace == workspace)
            .collect();
        out.sort_by(|a, b| a.sid.cmp(&b.sid));
        out
    }

    /// A live queue by id.
    pub fn queue(&self, id: u32) -> Option<QueueInfo> {
        let q = self.queues.get(id as usize).filter(|q| q.alive())?;
        Some(QueueInfo {
            id,
            workspace: q.workspace,
            sid: q.sid.clone(),
            friendly_name: q.name.value.clone(),
            target_workers: q.expression.value.clone(),
            expression_error: match &q.parsed {
                Some(Err(e)) => Some(e.clone()),
                _ => None,
            },
            first_seen_ms: q.first_ms,
        })
    }

    /// A live queue's id by SID (`WQ…`), if it belongs to the workspace.
    pub fn queue_id_of(&self, workspace: u32, sid: &str) -> Option<u32> {
        let n = wallboard_shared::sid::sid_number("WQ", sid)?;
        let id = *self.queue_ids.get(&n)?;
        let q = &self.queues[id as usize];
        (q.workspace == workspace && q.alive()).then_some(id)
    }

    /// How many of a queue's pending tasks (optionally of one channel) were created at or
    /// before each of `cutoffs_ms` (ms since the epoch). Each count walks only the tasks it
    /// counts, from the oldest (the set is ordered by creation time).
    pub fn queue_pending_created_by(&self, queue: u32, channel: Option<u32>, cutoffs_ms: &[i64]) -> Vec<u64> {
        let mut out = vec![0; cutoffs_ms.len()];
        let q = self.queues.get(queue as usize);
        for (_, rt) in q.into_iter().flat_map(|q| &q.rt).filter(|(c, _)| channel.is_none_or(|x| x == *c)) {
            for (n, &cutoff) in out.iter_mut().zip(cutoffs_ms) {
                *n += super::created_by(&rt.pending, cutoff);
            }
        }
        out
    }

    /// Records every queue's counts, per channel, at boundaries `from..=last` (the engine's
    /// [`super::Engine`] sampling, before the event that crossed them is applied).
    pub(super) fn sample_trends(&mut self, from: i64, last: i64) {
        for (_, rt) in self.queues.iter_mut().flat_map(|q| &mut q.rt) {
            let oldest = rt.pending.first().map(|&(created, _)| created);
            rt.trend.record_state(from, last, &rt.by_status, oldest);
        }
    }

    /// The parts of a queue's history (optionally of one channel), see [`super::trend`].
    pub(super) fn trend_sources(&self, queue: u32, channel: Option<u32>) -> Vec<Source<'_>> {
        let q = self.queues.get(queue as usize);
        q.into_iter()
            .flat_map(|q| &q.rt)
            .filter(|(c, _)| channel.is_none_or(|x| x == *c))
            .map(|(_, rt)| rt.trend_source())
            .collect()
    }

    /// Bytes held by the queues' trends.
    pub(super) fn trend_bytes(&self) -> usize {
        self.queues.iter().flat_map(|q| &q.rt).map(|(_, rt)| rt.trend.heap_bytes()).sum()
    }

    /// Realtime statistics of a queue, optionally of one channel, at `now_ms`.
    pub fn queue_realtime(&self, queue: u32, channel: Option<u32>, now_ms: i64) -> QueueRealtime {
        let mut by_status = [0u64; 4];
        let mut by_priority: BTreeMap<i64, u64> = BTreeMap::new();
        let mut oldest: Option<(i64, u128)> = None;
        let mut oldest_in_queue: Option<(i64, u128)> = None;
        let q = self.queues.get(queue as usize);
        for (_, rt) in q.into_iter().flat_map(|q| &q.rt).filter(|(c, _)| channel.is_none_or(|x| x == *c)) {
            for (a, b) in by_status.iter_mut().zip(rt.by_status) {
                *a += b;
            }
            for (&p, &n) in &rt.by_priority {
                *by_priority.entry(p).or_default() += n;
            }
            if let Some(&f) = rt.pending.first() {
                oldest = Some(oldest.map_or(f, |o| o.min(f)));
            }
            if let Some(&f) = rt.pending_entered.first() {
                oldest_in_queue = Some(oldest_in_queue.map_or(f, |o| o.min(f)));
            }
        }
        let tasks_by_status = TasksByStatus {
            pending: by_status[0],
            reserved: by_status[1],
            assigned: by_status[2],
            wrapping: by_status[3],
        };
        let eligible = q.map(|q| &q.eligible);
        let activity_statistics = match (q, eligible) {
            (Some(q), Some(set)) => self.activity_counts(q.workspace, |n| set.contains(n)),
            _ => Vec::new(),
        };
        let workers = || eligible.into_iter().flatten().filter_map(|n| self.workers.get(n)).filter(|w| w.alive());
        let total_available_workers = workers()
            .filter(|w| w.activity().and_then(|a| self.activities.get(&a)).is_some_and(ActivityRec::available))
            .count() as u64;
        QueueRealtime {
            total_tasks: tasks_by_status.total(),
            tasks_by_status,
            tasks_by_priority: by_priority
                .into_iter()
                .filter(|&(_, n)| n > 0)
                .map(|(p, n)| (p.to_string(), n))
                .collect(),
            longest_task_waiting_age: oldest.map_or(0, |(c, _)| waiting_age(c, now_ms)),
            longest_task_waiting_sid: oldest.map(|(_, t)| TaskSid::from_u128(t)),
            longest_relative_task_age_in_queue: oldest_in_queue.map_or(0, |(c, _)| waiting_age(c, now_ms)),
            longest_relative_task_age_in_queue_sid: oldest_in_queue.map(|(_, t)| TaskSid::from_u128(t)),
            total_available_workers,
            total_eligible_workers: workers().count() as u64,
            activity_statistics,
        }
    }
}
