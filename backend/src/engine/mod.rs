//! The statistics engine: realtime state and the cumulative index, computed from events.
//!
//! Pure and synchronous: no I/O, no async, no clock of its own. Time comes in through
//! the events' timestamps and through [`Engine::maintain`], so the same events always give
//! the same numbers, whatever order they arrived in, and tests are plain `#[test]`s.
//!
//! Data flow: an event names a task; the task keeps its events in time order and is
//! re-folded ([`task::fold`]) on every new event; the difference between its old and new
//! contribution is applied to the per-series [`index::CumIndex`] and [`Realtime`] counts.
//! A *series* is one workflow, or one task queue, on one task channel; workflow-wide and
//! queue-wide answers add up their series. Queue series have a cumulative index only (the
//! queues' realtime counts live in the [`Floor`]). Workflow series, and the floor's queues,
//! also keep a [`trend`]: their realtime numbers at every 10-second boundary of the last day,
//! sampled by event time.

pub mod expression;
pub mod floor;
pub mod index;
pub mod registry;
mod res_log;
pub mod target;
pub mod task;
pub mod trend;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use rustc_hash::{FxHashMap, FxHashSet};
use wallboard_shared::Window;
use wallboard_shared::resources::{
    CumulativeStats, RealTimeStats, Split, SplitByWaitTime, SplitCounts, TasksByStatus, WaitDuration,
};
use wallboard_shared::sid::TaskSid;
use wallboard_shared::time::to_datetime;

use crate::event::Event;
pub use floor::{Floor, WorkerSet};
use index::{Agg, CumIndex, CumKind, Entry, MINUTE_MS, NO_WAIT, WaitAgg};
pub use registry::{ChannelId, Registry, WorkflowId, WorkspaceId};
use target::QueueId;
pub use target::{CumulativeSpec, Target, View};
use task::{Folded, Kind, Live, NO_CHANNEL, NO_QUEUE, QUEUE_SERIES, TaskEv};
use wallboard_shared::queues::TaskQueueCumulativeStats;

const DAY_MS: i64 = 86_400_000;
const FLOOR_PRUNE_EVERY_MS: i64 = 15 * MINUTE_MS;
const PURGE_EVERY_MINUTES: i64 = 15;

/// Tuning of the engine; the defaults suit a real contact center.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineConfig {
    /// How long cumulative statistics are kept (and the oldest window one may ask for).
    pub retention_ms: i64,
    /// How long an ended task's events are kept in memory so that a late event for it is
    /// folded exactly. Later than that, the event still counts but is not re-folded.
    pub late_horizon_ms: i64,
    /// How far behind the newest event the index seals minutes (builds tree nodes).
    pub seal_grace_ms: i64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self { retention_ms: 30 * DAY_MS, late_horizon_ms: DAY_MS, seal_grace_ms: 2 * MINUTE_MS }
    }
}

#[derive(serde::Serialize, serde::Deserialize, Debug, Default)]
struct Task {
    events: Vec<TaskEv>,
    /// The current cumulative contribution: (series, entry), sorted.
    contrib: Vec<(u32, Entry)>,
    live: Option<(u32, Live)>,
    ended: bool,
}

/// What is left of an evicted task: enough to give a very late event its wait.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy)]
struct Tomb {
    created_ms: Option<i64>,
    channel: u32,
    last_ms: i64,
}

/// Tombstones, split into shards by task number: a month of a busy center holds millions,
/// and one map that size would stall `maintain` for a second whenever it grows (rehash).
/// A shard is 1/64 of that work.
#[derive(serde::Serialize, serde::Deserialize, Debug)]
struct Tombs {
    shards: Vec<FxHashMap<u128, Tomb>>,
}

impl Tombs {
    const SHARDS: usize = 64;

    fn new() -> Self {
        Self { shards: (0..Self::SHARDS).map(|_| FxHashMap::default()).collect() }
    }

    fn shard(key: u128) -> usize {
        // Task SIDs are random; mix anyway so sequential numbers spread too.
        let folded = (key as u64) ^ ((key >> 64) as u64);
        (folded.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 58) as usize
    }

    fn get(&self, key: u128) -> Option<&Tomb> {
        self.shards[Self::shard(key)].get(&key)
    }

    fn insert(&mut self, key: u128, tomb: Tomb) {
        self.shards[Self::shard(key)].insert(key, tomb);
    }

    fn remove(&mut self, key: u128) {
        self.shards[Self::shard(key)].remove(&key);
    }

    fn len(&self) -> usize {
        self.shards.iter().map(|s| s.len()).sum()
    }

    fn capacity(&self) -> usize {
        self.shards.iter().map(|s| s.capacity()).sum()
    }
}

/// Live tasks of one series.
#[derive(serde::Serialize, serde::Deserialize, Debug, Default)]
struct Realtime {
    by_status: [u64; 4],
    by_priority: BTreeMap<i64, u64>,
    /// Pending tasks by (creation time, task): the first is the longest waiting.
    pending: BTreeSet<(i64, u128)>,
}

impl Realtime {
    fn add(&mut self, l: &Live, task: u128) {
        self.by_status[l.status as usize] += 1;
        *self.by_priority.entry(l.priority).or_default() += 1;
        if l.status == task::Status::Pending {
            self.pending.insert((l.created_ms, task));
        }
    }

    fn remove(&mut self, l: &Live, task: u128) {
        self.by_status[l.status as usize] -= 1;
        if let Some(n) = self.by_priority.get_mut(&l.priority) {
            *n -= 1;
            if *n == 0 {
                self.by_priority.remove(&l.priority);
            }
        }
        if l.status == task::Status::Pending {
            self.pending.remove(&(l.created_ms, task));
        }
    }
}

#[derive(serde::Serialize, serde::Deserialize, Debug)]
struct Series {
    channel: u32,
    index: CumIndex,
    realtime: Realtime,
    /// Workflow series only: the realtime numbers at past boundaries.
    trend: Option<trend::Ring>,
}

impl Series {
    /// The series' part of a history, when it keeps a trend (workflow series).
    fn trend_source(&self) -> Option<trend::Source<'_>> {
        let ring = self.trend.as_ref()?;
        let oldest_ms = self.realtime.pending.first().map(|&(created, _)| created);
        Some(trend::Source { ring, by_status: &self.realtime.by_status, oldest_ms })
    }
}

/// All series, addressable by (owner, channel): the owner is a workflow id, or a queue id
/// with [`QUEUE_SERIES`] set.
#[derive(serde::Serialize, serde::Deserialize, Debug, Default)]
struct SeriesSet {
    all: Vec<Series>,
    ids: FxHashMap<(u32, u32), u32>,
    by_workflow: Vec<Vec<u32>>,
    by_queue: Vec<Vec<u32>>,
}

impl SeriesSet {
    fn id(&mut self, owner: u32, channel: u32) -> u32 {
        if let Some(&id) = self.ids.get(&(owner, channel)) {
            return id;
        }
        let id = self.all.len() as u32;
        let trend = (owner & QUEUE_SERIES == 0).then(trend::Ring::default);
        self.all.push(Series { channel, index: CumIndex::default(), realtime: Realtime::default(), trend });
        self.ids.insert((owner, channel), id);
        let (list, at) = if owner & QUEUE_SERIES != 0 {
            (&mut self.by_queue, (owner & !QUEUE_SERIES) as usize)
        } else {
            (&mut self.by_workflow, owner as usize)
        };
        if list.len() <= at {
            list.resize(at + 1, Vec::new());
        }
        list[at].push(id);
        id
    }

    fn of(&self, workflow: u32, channel: Option<u32>) -> impl Iterator<Item = &Series> {
        Self::pick(&self.all, &self.by_workflow, workflow, channel)
    }

    fn of_queue(&self, queue: u32, channel: Option<u32>) -> impl Iterator<Item = &Series> {
        Self::pick(&self.all, &self.by_queue, queue, channel)
    }

    fn pick<'a>(
        all: &'a [Series],
        by: &'a [Vec<u32>],
        owner: u32,
        channel: Option<u32>,
    ) -> impl Iterator<Item = &'a Series> {
        by.get(owner as usize)
            .into_iter()
            .flatten()
            .map(move |&id| &all[id as usize])
            .filter(move |s| channel.is_none_or(|c| s.channel == c))
    }
}

/// What an applied event touched, for whoever caches or pushes statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Applied {
    /// The workflow the event belongs to, when it is about a task.
    pub workflow: Option<WorkflowId>,
    /// The workspace the event belongs to.
    pub workspace: Option<WorkspaceId>,
    /// The task queues whose realtime numbers a task event changed (left, joined).
    pub queues: [Option<QueueId>; 2],
    /// A worker, activity or task-queue event: the floor changed.
    pub floor: bool,
    /// False when the event was a duplicate or older than the retention.
    pub changed: bool,
}

impl Applied {
    /// The targets whose numbers the event changed (none when it changed nothing): its
    /// workflow, its workspace, the queues a task left or joined, and for a floor event the
    /// workspace's workers, which [`Engine::widen`] widens to every queue of the workspace
    /// (a worker's availability counts in each queue it is eligible for) once per batch.
    pub fn changed_targets(&self) -> impl Iterator<Item = Target> {
        let workflow = self.workflow.map(Target::Workflow);
        let workspace = self.workspace.map(Target::Workspace);
        let workers = self.workspace.filter(|_| self.floor).map(Target::Workers);
        let [left, joined] = self.queues.map(|q| q.map(Target::TaskQueue));
        [workflow, workspace, workers, left, joined].into_iter().flatten().filter(|_| self.changed)
    }
}

/// What the engine holds ([`Engine::footprint`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Footprint {
    /// Tasks in memory (live, or ended within the late horizon).
    pub tasks: usize,
    /// Evicted tasks remembered for very late events.
    pub tombstones: usize,
    /// Series: a workflow or a task queue on one channel.
    pub series: usize,
    /// An estimate of the bytes held by the above.
    pub estimated_bytes: usize,
}

/// The statistics engine. See the module documentation.
#[derive(serde::Serialize, serde::Deserialize, Debug)]
pub struct Engine {
    config: EngineConfig,
    registry: Registry,
    tasks: FxHashMap<u128, Task>,
    tombs: Tombs,
    /// (last event time, task) of ended tasks, roughly in time order, for eviction.
    ended: VecDeque<(i64, u128)>,
    /// (last event time, task) of tombstones, for their purge after the retention.
    tomb_queue: VecDeque<(i64, u128)>,
    series: SeriesSet,
    /// Minutes before this one are sealed in every index.
    sealed_minute: i64,
    newest_ms: i64,
    /// The clock as last told by [`Engine::maintain`]; caps sealing and refuses history
    /// beyond the retention.
    now_ms: Option<i64>,
    #[serde(skip)]
    scratch: Folded,
    #[serde(skip)]
    scratch_contrib: Vec<(u32, Entry)>,
    events_applied: u64,
    /// Per workflow id: how many applied events changed it (cache validation).
    workflow_versions: Vec<u64>,
    /// Workers, activities, task queues and queue membership.
    floor: Floor,
    /// Events that may have changed the floor's numbers (cache validation).
    floor_version: u64,
    /// When the floor last forgot old reservations.
    floor_pruned_ms: i64,
    /// The cutoff minute of the last purge of the index.
    purged_minute: Option<i64>,
    /// The first trend boundary not sampled yet (see [`trend`]); `i64::MIN` before the
    /// first task event.
    trend_next: i64,
    /// Its time: a task event at or after it samples first.
    trend_next_ms: i64,
    /// The first boundary ever sampled: earlier ones are unknown, not empty.
    trend_first: i64,
}

impl Default for Engine {
    fn default() -> Self {
        Self::new(EngineConfig::default())
    }
}

impl Engine {
    pub fn new(config: EngineConfig) -> Self {
        Self {
            config,
            registry: Registry::default(),
            tasks: FxHashMap::default(),
            tombs: Tombs::new(),
            ended: VecDeque::new(),
            tomb_queue: VecDeque::new(),
            series: SeriesSet::default(),
            sealed_minute: i64::MIN,
            newest_ms: i64::MIN,
            now_ms: None,
            scratch: Folded::default(),
            scratch_contrib: Vec::new(),
            events_applied: 0,
            workflow_versions: Vec::new(),
            floor: Floor::default(),
            floor_version: 0,
            floor_pruned_ms: i64::MIN,
            purged_minute: None,
            trend_next: i64::MIN,
            trend_next_ms: i64::MIN,
            trend_first: i64::MIN,
        }
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The registry, for sources that learn resources without events (the mirror).
    pub fn registry_mut(&mut self) -> &mut Registry {
        &mut self.registry
    }

    /// Number of events that changed something since start.
    pub fn events_applied(&self) -> u64 {
        self.events_applied
    }

    /// Changes so far to a workflow's numbers: equal versions mean equal answers (at the
    /// same time).
    pub fn workflow_version(&self, workflow: WorkflowId) -> u64 {
        self.workflow_versions.get(workflow.index() as usize).copied().unwrap_or(0)
    }

    /// Workers, activities and task queues (see [`floor`]).
    pub fn floor(&self) -> &Floor {
        &self.floor
    }

    /// Changes so far to anything the floor answers (workers, queues, workspace): equal
    /// versions mean equal answers at the same time.
    pub fn floor_version(&self) -> u64 {
        self.floor_version
    }

    /// Live tasks held in memory (for metrics and tests).
    pub fn tasks_in_memory(&self) -> usize {
        self.tasks.len()
    }

    /// What the engine holds, without the memory estimate (`estimated_bytes` is 0):
    /// constant time, for every scrape.
    pub fn sizes(&self) -> Footprint {
        Footprint {
            tasks: self.tasks.len(),
            tombstones: self.tombs.len(),
            series: self.series.all.len(),
            estimated_bytes: 0,
        }
    }

    /// What the engine holds and an estimate of its memory (`/metrics`): the tasks and their
    /// events, the tombstones, every series' cumulative index and the trends, from their
    /// sizes and capacities (allocator and tree-node overheads, and the rest of the floor,
    /// are not counted). Linear in the tasks in memory and the index's minutes: not for a
    /// hot path (`/metrics` takes it at most every [`crate::metrics::MEMORY_ESTIMATE_EVERY_MS`]).
    pub fn footprint(&self) -> Footprint {
        use std::mem::size_of;
        let tasks: usize = self
            .tasks
            .values()
            .map(|t| t.events.capacity() * size_of::<TaskEv>() + t.contrib.capacity() * size_of::<(u32, Entry)>())
            .sum::<usize>()
            + self.tasks.capacity() * (size_of::<(u128, Task)>() + 1);
        let tombs = self.tombs.capacity() * (size_of::<(u128, Tomb)>() + 1)
            + (self.tomb_queue.capacity() + self.ended.capacity()) * size_of::<(i64, u128)>();
        let series: usize = self
            .series
            .all
            .iter()
            .map(|s| size_of::<Series>() + s.index.approx_bytes() + s.realtime.pending.len() * size_of::<(i64, u128)>())
            .sum();
        Footprint { estimated_bytes: tasks + tombs + series + self.trend_bytes(), ..self.sizes() }
    }

    /// Writes the engine's whole state to `out`, in a compact binary form ([`postcard`])
    /// that only [`Engine::read_state`] of the same build reads back (`crate::snapshot`
    /// adds the checks around it).
    pub fn write_state<W: std::io::Write>(&self, out: W) -> Result<W, postcard::Error> {
        postcard::to_io(self, out)
    }

    /// An engine from what [`Engine::write_state`] wrote, and the bytes after it: the same
    /// answers to every question as the engine that wrote it.
    pub fn read_state(bytes: &[u8]) -> Result<(Self, &[u8]), postcard::Error> {
        let (mut engine, rest): (Self, _) = postcard::take_from_bytes(bytes)?;
        engine.floor.loaded();
        Ok((engine, rest))
    }

    /// Applies one event. Duplicates (same event SID for a task in memory) change nothing.
    pub fn apply(&mut self, e: &Event) -> Applied {
        let seen = self.registry.observe(e);
        self.floor.observe(e, seen.workspace, seen.channel);
        let Some(kind) = Kind::from_type(&e.event_type) else {
            self.floor_version += 1;
            let workspace = Some(WorkspaceId::from_index(seen.workspace));
            return Applied { workspace, floor: true, changed: true, ..Applied::default() };
        };
        let keys = e.keys();
        let workspace = Some(WorkspaceId::from_index(seen.workspace));
        let (Some(workflow), Some(task)) = (seen.workflow, keys.task) else {
            return Applied::default();
        };
        if let Some(now) = self.now_ms
            && e.ts_ms < now - self.config.retention_ms
        {
            return Applied { workflow: Some(WorkflowId::from_index(workflow)), workspace, ..Applied::default() };
        }
        if e.ts_ms >= self.trend_next_ms {
            self.sample_trends(e.ts_ms);
        }
        if e.ts_ms > self.newest_ms {
            self.newest_ms = e.ts_ms;
            self.advance_seal();
        }
        let queue = keys.floor.queue.map(|q| self.floor.queue_id(seen.workspace, q, e));
        let ev = TaskEv {
            ts_ms: e.ts_ms,
            kind,
            sid: keys.sid,
            reservation: keys.reservation.unwrap_or(0),
            workflow,
            channel: seen.channel.unwrap_or(NO_CHANNEL),
            priority: keys.priority,
            date_created_ms: keys.date_created_ms,
            queue: queue.unwrap_or(NO_QUEUE),
            queue_entered_ms: keys.floor.queue_entered_ms.unwrap_or(task::NO_TIME),
        };
        let key = task;
        // The channel the event counts on, once counted: the task's (as in its series).
        let mut queues = [None; 2];
        let (changed, task_channel) = match self.tombs.get(key).copied() {
            Some(tomb) => (self.apply_to_tomb(tomb, ev), tomb.channel),
            None => {
                if let Some(q) = queue {
                    self.floor.task_event(e, q, key);
                }
                let changed = self.apply_to_task(key, ev);
                if changed {
                    // `scratch` holds the fold apply_to_task just made.
                    let moved = self.floor.task_refresh(key, self.scratch.live.as_ref(), self.scratch.ended);
                    queues = moved.map(|q| q.map(QueueId::from_index));
                }
                (changed, self.scratch.channel)
            }
        };
        if changed && let (Some(counter), Some(worker)) = (kind.counter(), keys.floor.worker) {
            // The worker's own log of the reservation events counted in the series.
            let channel = if ev.channel == NO_CHANNEL { task_channel } else { ev.channel };
            self.floor.count_reservation(worker, ev.ts_ms, counter, channel);
        }
        if changed {
            self.floor_version += 1;
            self.events_applied += 1;
            let w = workflow as usize;
            if self.workflow_versions.len() <= w {
                self.workflow_versions.resize(w + 1, 0);
            }
            self.workflow_versions[w] += 1;
        }
        Applied { workflow: Some(WorkflowId::from_index(workflow)), workspace, queues, floor: false, changed }
    }

    /// Widens a set of changed targets: changed workers of a workspace (a worker, activity
    /// or task-queue event) may have changed every one of its task queues' numbers (a
    /// worker's availability counts in each queue it is eligible for; an expression changes
    /// who is). Whoever pushes numbers recomputes the watched ones and sends only what differs.
    pub fn widen(&self, changed: &mut FxHashSet<Target>) {
        let workspaces: Vec<WorkspaceId> = changed
            .iter()
            .filter_map(|t| match t {
                Target::Workers(ws) => Some(*ws),
                _ => None,
            })
            .collect();
        for ws in workspaces {
            changed.extend(self.floor.queue_ids(ws.index()).map(|q| Target::TaskQueue(QueueId::from_index(q))));
        }
    }

    fn apply_to_task(&mut self, key: u128, ev: TaskEv) -> bool {
        let task = self.tasks.entry(key).or_default();
        if !task::insert_event(&mut task.events, ev) {
            return false;
        }
        task::fold(&task.events, &mut self.scratch);
        let folded = &self.scratch;

        // Cumulative: apply the difference between the old and the new contribution.
        let new = &mut self.scratch_contrib;
        new.clear();
        for &(wf, ch, entry) in &folded.entries {
            new.push((self.series.id(wf, ch), entry));
        }
        new.sort_unstable();
        let sealed = self.sealed_minute;
        let (mut i, mut j) = (0, 0);
        let old = &task.contrib;
        while i < old.len() || j < new.len() {
            match (old.get(i), new.get(j)) {
                (Some(a), Some(b)) if a == b => {
                    i += 1;
                    j += 1;
                }
                (Some(a), Some(b)) if a < b => {
                    self.series.all[a.0 as usize].index.remove(a.1, sealed);
                    i += 1;
                }
                (Some(a), None) => {
                    self.series.all[a.0 as usize].index.remove(a.1, sealed);
                    i += 1;
                }
                (_, Some(b)) => {
                    self.series.all[b.0 as usize].index.insert(b.1, sealed);
                    j += 1;
                }
                (None, None) => unreachable!("loop condition"),
            }
        }
        std::mem::swap(&mut task.contrib, new);

        // Realtime: swap the old live record for the new one.
        let live = folded.live.map(|l| (self.series.id(l.workflow, l.channel), l));
        if live != task.live {
            if let Some((s, l)) = task.live {
                self.series.all[s as usize].realtime.remove(&l, key);
            }
            if let Some((s, l)) = live {
                self.series.all[s as usize].realtime.add(&l, key);
            }
            task.live = live;
        }
        if folded.ended && !task.ended {
            let last = task.events.last().map_or(ev.ts_ms, |e| e.ts_ms);
            self.ended.push_back((last, key));
        }
        task.ended = folded.ended;
        true
    }

    /// A late event for a task evicted from memory: counted, with the wait from the
    /// remembered creation time, but not re-folded (its entry was counted long ago).
    fn apply_to_tomb(&mut self, tomb: Tomb, ev: TaskEv) -> bool {
        let Some(counter) = ev.kind.counter() else {
            return false;
        };
        let wait_ms = match counter {
            CumKind::Canceled | CumKind::ResAccepted => task::wait_between(tomb.created_ms, ev.ts_ms),
            _ => NO_WAIT,
        };
        let channel = if ev.channel == NO_CHANNEL { tomb.channel } else { ev.channel };
        let entry = Entry { ts_ms: ev.ts_ms, kind: counter, wait_ms };
        let s = self.series.id(ev.workflow, channel);
        self.series.all[s as usize].index.insert(entry, self.sealed_minute);
        // The queue it names, if any: its entry into the queue is long forgotten, so an
        // accepted reservation gets no wait from queue entry.
        if ev.queue != NO_QUEUE && counter != CumKind::TimedOut {
            let s = self.series.id(ev.queue | QUEUE_SERIES, channel);
            self.series.all[s as usize].index.insert(entry, self.sealed_minute);
        }
        true
    }

    /// Before a task event at `ts_ms` is applied: records every workflow series' and every
    /// queue's numbers at each boundary up to `ts_ms` not sampled yet (the state as of the
    /// boundary: every event before it applied). The first event starts the trends at the
    /// next boundary.
    fn sample_trends(&mut self, ts_ms: i64) {
        let last = trend::boundary_at_or_before(ts_ms);
        if self.trend_next == i64::MIN {
            self.trend_next = last + 1;
            self.trend_first = last + 1;
        } else if last >= self.trend_next {
            // After a long quiet spell only the last day's boundaries can be kept.
            let from = self.trend_next.max(last - trend::SLOTS as i64 + 1);
            for s in &mut self.series.all {
                let Some(ring) = s.trend.as_mut() else { continue };
                let oldest = s.realtime.pending.first().map(|&(created, _)| created);
                ring.record_state(from, last, &s.realtime.by_status, oldest);
            }
            self.floor.sample_trends(from, last);
            self.trend_next = last + 1;
        }
        self.trend_next_ms = self.trend_next.saturating_mul(trend::INTERVAL_MS);
    }

    /// A workflow's, a workspace's or a task queue's realtime numbers (optionally of one
    /// channel) at every trend boundary from `from_ms` to `now_ms` (both included) that the
    /// engine knows: the samples taken, then, for the boundaries after the newest event, the
    /// current numbers (nothing has happened since). None for workers targets (no trend).
    pub fn history(&self, view: View, from_ms: i64, now_ms: i64) -> Option<trend::History> {
        let channel = view.channel.map(ChannelId::index);
        let sources: Vec<trend::Source<'_>> = match view.target {
            Target::Workflow(wf) => self.series.of(wf.index(), channel).filter_map(Series::trend_source).collect(),
            Target::Workspace(ws) => self
                .workflows_of(ws.index())
                .flat_map(|wf| self.series.of(wf, channel))
                .filter_map(Series::trend_source)
                .collect(),
            Target::TaskQueue(q) => self.floor.trend_sources(q.index(), channel),
            Target::Workers(_) => return None,
        };
        let sampled = trend::Sampled { first: self.trend_first, next: self.trend_next };
        Some(trend::read(&sources, sampled, from_ms, now_ms))
    }

    /// Bytes held by the trends of all series and queues.
    pub fn trend_bytes(&self) -> usize {
        self.series.all.iter().filter_map(|s| s.trend.as_ref()).map(trend::Ring::heap_bytes).sum::<usize>()
            + self.floor.trend_bytes()
    }

    fn advance_seal(&mut self) {
        let horizon = self.now_ms.map_or(self.newest_ms, |n| n.min(self.newest_ms));
        let target = (horizon - self.config.seal_grace_ms).div_euclid(MINUTE_MS);
        if self.sealed_minute == i64::MIN {
            // Nothing was stored before the first event: start sealing from there.
            self.sealed_minute = target;
            return;
        }
        if target > self.sealed_minute {
            for s in &mut self.series.all {
                s.index.seal(self.sealed_minute, target);
            }
            self.sealed_minute = target;
        }
    }

    /// The clock's time of the last [`Engine::maintain`], if any.
    pub fn maintained_at(&self) -> Option<i64> {
        self.now_ms
    }

    /// Housekeeping at `now_ms`: seal the index, evict ended tasks past the late horizon,
    /// drop statistics past the retention. Cheap when there is nothing to do.
    pub fn maintain(&mut self, now_ms: i64) {
        self.now_ms = Some(now_ms);
        if self.newest_ms != i64::MIN {
            self.advance_seal();
        }
        let evict_before = now_ms - self.config.late_horizon_ms;
        while let Some(&(last, key)) = self.ended.front() {
            if last >= evict_before {
                break;
            }
            self.ended.pop_front();
            let Some(task) = self.tasks.get(&key) else {
                continue;
            };
            if !task.ended {
                continue; // revived by a late event; it will be queued again when it ends
            }
            let newest = task.events.last().map_or(last, |e| e.ts_ms);
            if newest >= evict_before {
                self.ended.push_back((newest, key));
                continue;
            }
            let tomb = Tomb {
                created_ms: task::creation_time(&task.events),
                channel: task.events.iter().rev().map(|e| e.channel).find(|&c| c != NO_CHANNEL).unwrap_or(NO_CHANNEL),
                last_ms: newest,
            };
            self.tasks.remove(&key);
            self.tombs.insert(key, tomb);
            self.tomb_queue.push_back((newest, key));
        }
        // The floor's pruning visits every worker: every quarter of an hour is soon enough
        // for records kept a day (live reservations) or the retention (activity changes,
        // counted reservation events).
        if now_ms >= self.floor_pruned_ms.saturating_add(FLOOR_PRUNE_EVERY_MS) {
            self.floor_pruned_ms = now_ms;
            self.floor.prune(evict_before);
            self.floor.prune_history(now_ms - self.config.retention_ms);
        }
        let retain_from = now_ms - self.config.retention_ms;
        while let Some(&(last, key)) = self.tomb_queue.front() {
            if last >= retain_from {
                break;
            }
            self.tomb_queue.pop_front();
            if self.tombs.get(key).is_some_and(|t| t.last_ms == last) {
                self.tombs.remove(key);
            }
        }
        // Every series' maps are split at the cutoff: with a series per queue and channel
        // that is worth doing every quarter of an hour, not every minute. The minutes kept
        // meanwhile lie before the retention, where no window may start.
        let cutoff_minute = retain_from.div_euclid(MINUTE_MS);
        if self.purged_minute.is_none_or(|p| cutoff_minute >= p + PURGE_EVERY_MINUTES) {
            self.purged_minute = Some(cutoff_minute);
            for s in &mut self.series.all {
                s.index.purge(cutoff_minute);
            }
        }
    }

    /// Realtime statistics of a workflow, optionally of one channel, at `now_ms`.
    pub fn realtime(&self, workflow: WorkflowId, channel: Option<ChannelId>, now_ms: i64) -> RealTimeStats {
        self.realtime_detail(workflow, channel, now_ms).0
    }

    /// [`Engine::realtime`] and the creation time of the longest waiting task, from
    /// which its age can be derived at any later instant.
    pub fn realtime_detail(
        &self,
        workflow: WorkflowId,
        channel: Option<ChannelId>,
        now_ms: i64,
    ) -> (RealTimeStats, Option<i64>) {
        let (workflow, channel) = (workflow.index(), channel.map(ChannelId::index));
        let mut by_status = [0u64; 4];
        let mut by_priority: BTreeMap<i64, u64> = BTreeMap::new();
        let mut oldest: Option<(i64, u128)> = None;
        for s in self.series.of(workflow, channel) {
            for (a, b) in by_status.iter_mut().zip(s.realtime.by_status) {
                *a += b;
            }
            for (&p, &n) in &s.realtime.by_priority {
                *by_priority.entry(p).or_default() += n;
            }
            if let Some(&first) = s.realtime.pending.first() {
                oldest = Some(oldest.map_or(first, |o| o.min(first)));
            }
        }
        let tasks_by_status = TasksByStatus {
            pending: by_status[0],
            reserved: by_status[1],
            assigned: by_status[2],
            wrapping: by_status[3],
        };
        let stats = RealTimeStats {
            longest_task_waiting_age: oldest.map_or(0, |(c, _)| waiting_age(c, now_ms)),
            longest_task_waiting_sid: oldest.map(|(_, t)| TaskSid::from_u128(t)),
            tasks_by_priority: by_priority
                .into_iter()
                .filter(|&(_, n)| n > 0)
                .map(|(p, n)| (p.to_string(), n))
                .collect(),
            total_tasks: tasks_by_status.total(),
            tasks_by_status,
        };
        (stats, oldest.map(|(c, _)| c))
    }

    /// How many of a workflow's pending tasks (optionally of one channel) were created at or
    /// before each of `cutoffs_ms`; see [`Floor::queue_pending_created_by`] for a queue's.
    pub fn workflow_pending_created_by(
        &self,
        workflow: WorkflowId,
        channel: Option<ChannelId>,
        cutoffs_ms: &[i64],
    ) -> Vec<u64> {
        let mut out = vec![0; cutoffs_ms.len()];
        for s in self.series.of(workflow.index(), channel.map(ChannelId::index)) {
            for (n, &cutoff) in out.iter_mut().zip(cutoffs_ms) {
                *n += created_by(&s.realtime.pending, cutoff);
            }
        }
        out
    }

    /// How many pending tasks of a queue's or workflow's view have waited at least each of
    /// `ages_s` (whole seconds, floored, from creation) at `now_ms`; `None` for the other
    /// targets (the at-risk counts of a service level).
    pub fn pending_aged(&self, view: View, ages_s: &[u32], now_ms: i64) -> Option<Vec<u64>> {
        // age ≥ A ⇔ created ≤ now − A·1000; A = 0 takes every pending task.
        let cutoffs: Vec<i64> =
            ages_s.iter().map(|&a| if a == 0 { i64::MAX } else { now_ms - i64::from(a) * 1000 }).collect();
        match view.target {
            Target::TaskQueue(q) => {
                Some(self.floor().queue_pending_created_by(q.index(), view.channel.map(ChannelId::index), &cutoffs))
            }
            Target::Workflow(wf) => Some(self.workflow_pending_created_by(wf, view.channel, &cutoffs)),
            Target::Workspace(_) | Target::Workers(_) => None,
        }
    }

    /// Cumulative statistics of a workflow over `window`, with splits at `thresholds`
    /// (seconds) when given.
    pub fn cumulative(
        &self,
        workflow: WorkflowId,
        channel: Option<ChannelId>,
        window: Window,
        thresholds: Option<&[u32]>,
    ) -> CumulativeStats {
        let (workflow, channel) = (workflow.index(), channel.map(ChannelId::index));
        self.cumulative_of(self.series.of(workflow, channel), window, thresholds)
    }

    /// Cumulative statistics of a whole workspace (all its workflows), optionally of one
    /// channel: the workflow numbers added up, `tasks_entered` being the workspace's
    /// `tasks_created`.
    pub fn workspace_cumulative(
        &self,
        workspace: u32,
        channel: Option<u32>,
        window: Window,
        thresholds: Option<&[u32]>,
    ) -> CumulativeStats {
        let series = self.workflows_of(workspace).flat_map(|wf| self.series.of(wf, channel));
        self.cumulative_of(series, window, thresholds)
    }

    /// Ids of the workflows of a workspace.
    fn workflows_of(&self, workspace: u32) -> impl Iterator<Item = u32> + '_ {
        let workspace = WorkspaceId::from_index(workspace);
        self.registry.workflows().filter(move |(_, w)| w.workspace == workspace).map(|(id, _)| id.index())
    }

    /// Realtime statistics of a workspace: its workers and its tasks over all workflows.
    pub fn workspace_realtime(&self, workspace: u32, channel: Option<u32>, now_ms: i64) -> WorkspaceRealtime {
        let mut tasks_by_status = TasksByStatus::default();
        let mut tasks_by_priority: BTreeMap<String, u64> = BTreeMap::new();
        let mut oldest: Option<(i64, TaskSid)> = None;
        for wf in self.workflows_of(workspace) {
            let (rt, created) =
                self.realtime_detail(WorkflowId::from_index(wf), channel.map(ChannelId::from_index), now_ms);
            tasks_by_status.pending += rt.tasks_by_status.pending;
            tasks_by_status.reserved += rt.tasks_by_status.reserved;
            tasks_by_status.assigned += rt.tasks_by_status.assigned;
            tasks_by_status.wrapping += rt.tasks_by_status.wrapping;
            for (p, n) in rt.tasks_by_priority {
                *tasks_by_priority.entry(p).or_default() += n;
            }
            if let (Some(c), Some(sid)) = (created, rt.longest_task_waiting_sid) {
                let better = oldest.as_ref().is_none_or(|(oc, os)| (c, sid.to_u128()) < (*oc, os.to_u128()));
                if better {
                    oldest = Some((c, sid));
                }
            }
        }
        let workers = self.floor.workers_realtime(workspace, None);
        WorkspaceRealtime {
            total_tasks: tasks_by_status.total(),
            tasks_by_status,
            tasks_by_priority,
            longest_task_waiting_age: oldest.as_ref().map_or(0, |(c, _)| waiting_age(*c, now_ms)),
            longest_task_waiting_sid: oldest.map(|(_, s)| s),
            total_workers: workers.total_workers,
            activity_statistics: workers.activity_statistics,
        }
    }

    /// Adds up `series` over `window`.
    fn aggregate<'a>(
        &self,
        series: impl Iterator<Item = &'a Series>,
        window: Window,
        thresholds: Option<&[u32]>,
    ) -> Agg {
        let t_ms: Vec<u64> = thresholds.unwrap_or(&[]).iter().map(|&t| u64::from(t) * 1000).collect();
        let mut agg = Agg::new(t_ms.len());
        for s in series {
            s.index.query(window.start_ms, window.end_ms, self.sealed_minute, &t_ms, &mut agg);
        }
        agg
    }

    fn cumulative_of<'a>(
        &self,
        series: impl Iterator<Item = &'a Series>,
        window: Window,
        thresholds: Option<&[u32]>,
    ) -> CumulativeStats {
        let agg = self.aggregate(series, window, thresholds);
        let accepted = wait_duration(&agg.accepted);
        CumulativeStats {
            avg_task_acceptance_time: accepted.avg,
            start_time: to_datetime(window.start_ms),
            end_time: to_datetime(window.end_ms),
            reservations_created: agg.count(CumKind::ResCreated),
            reservations_accepted: agg.count(CumKind::ResAccepted),
            reservations_rejected: agg.count(CumKind::ResRejected),
            reservations_timed_out: agg.count(CumKind::ResTimedOut),
            reservations_canceled: agg.count(CumKind::ResCanceled),
            reservations_rescinded: agg.count(CumKind::ResRescinded),
            split_by_wait_time: split_by_wait_time(&agg, thresholds),
            wait_duration_until_accepted: accepted,
            wait_duration_until_canceled: wait_duration(&agg.canceled),
            tasks_canceled: agg.count(CumKind::Canceled),
            tasks_completed: agg.count(CumKind::Completed),
            tasks_entered: agg.count(CumKind::Entered),
            tasks_deleted: agg.count(CumKind::Deleted),
            tasks_moved: agg.count(CumKind::Moved),
            tasks_timed_out_in_workflow: agg.count(CumKind::TimedOut),
        }
    }

    /// Cumulative statistics of a task queue (the floor's queue id), optionally of one
    /// channel, over `window`, with splits at `thresholds` (seconds) when given. Same index
    /// and cost as [`Engine::cumulative`]; see docs/decisions-queues-workers.md for what
    /// counts in which queue.
    pub fn queue_cumulative(
        &self,
        queue: u32,
        channel: Option<ChannelId>,
        window: Window,
        thresholds: Option<&[u32]>,
    ) -> TaskQueueCumulativeStats {
        let series = self.series.of_queue(queue, channel.map(ChannelId::index));
        let agg = self.aggregate(series, window, thresholds);
        let accepted = wait_duration(&agg.accepted);
        TaskQueueCumulativeStats {
            avg_task_acceptance_time: accepted.avg,
            start_time: to_datetime(window.start_ms),
            end_time: to_datetime(window.end_ms),
            reservations_created: agg.count(CumKind::ResCreated),
            reservations_accepted: agg.count(CumKind::ResAccepted),
            reservations_rejected: agg.count(CumKind::ResRejected),
            reservations_timed_out: agg.count(CumKind::ResTimedOut),
            reservations_canceled: agg.count(CumKind::ResCanceled),
            reservations_rescinded: agg.count(CumKind::ResRescinded),
            split_by_wait_time: split_by_wait_time(&agg, thresholds),
            wait_duration_until_accepted: accepted,
            wait_duration_until_canceled: wait_duration(&agg.canceled),
            wait_duration_in_queue_until_accepted: wait_duration(&agg.accepted_in_queue),
            tasks_canceled: agg.count(CumKind::Canceled),
            tasks_completed: agg.count(CumKind::Completed),
            tasks_deleted: agg.count(CumKind::Deleted),
            tasks_entered: agg.count(CumKind::Entered),
            tasks_moved: agg.count(CumKind::Moved),
        }
    }

    /// Cumulative statistics of some workers of a workspace over `window` (see
    /// docs/decisions-queues-workers.md, "Worker cumulative statistics").
    ///
    /// Reservations: of [`WorkerSet::All`], every reservation of the workspace (each has a
    /// worker) from the workflows' series, O(8·levels) nodes per series; of any other set,
    /// the sum of each chosen worker's reservation events ([`Floor::reservation_counts`]:
    /// two binary searches per worker plus its events inside the window). `channel` keeps
    /// the reservations of tasks on that channel. Activity durations: the stays of the
    /// chosen workers in each activity, clipped to the window ([`Floor::activity_durations`]);
    /// a worker's activity is not per channel, so `channel` does not narrow them.
    pub fn workers_cumulative(
        &self,
        workspace: u32,
        workers: floor::WorkerSet<'_>,
        channel: Option<ChannelId>,
        window: Window,
    ) -> WorkersCumulative {
        let channel = channel.map(ChannelId::index);
        let [created, accepted, rejected, timed_out, canceled, rescinded] = match workers {
            floor::WorkerSet::All => {
                let series = self.workflows_of(workspace).flat_map(|wf| self.series.of(wf, channel));
                let agg = self.aggregate(series, window, None);
                floor::RES_KINDS.map(|k| agg.count(k))
            }
            set => self.floor.reservation_counts(workspace, set, channel, window),
        };
        WorkersCumulative {
            start_ms: window.start_ms,
            end_ms: window.end_ms,
            reservations_created: created,
            reservations_accepted: accepted,
            reservations_rejected: rejected,
            reservations_timed_out: timed_out,
            reservations_canceled: canceled,
            reservations_rescinded: rescinded,
            activity_durations: self.floor.activity_durations(workspace, workers, window),
        }
    }
}

/// `Workers/CumulativeStatistics` numbers (see [`Engine::workers_cumulative`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkersCumulative {
    pub start_ms: i64,
    pub end_ms: i64,
    pub reservations_created: u64,
    pub reservations_accepted: u64,
    pub reservations_rejected: u64,
    pub reservations_timed_out: u64,
    pub reservations_canceled: u64,
    pub reservations_rescinded: u64,
    /// Every activity of the workspace (deleted ones left out), by name then SID.
    pub activity_durations: Vec<floor::ActivityDurationStat>,
}

fn split_by_wait_time(agg: &Agg, thresholds: Option<&[u32]>) -> Option<SplitByWaitTime> {
    thresholds.map(|ts| {
        SplitByWaitTime(
            ts.iter()
                .enumerate()
                .map(|(i, &t)| {
                    let (acc_below, can_below) = (agg.accepted.below[i], agg.canceled.below[i]);
                    let split = Split {
                        below: SplitCounts { tasks_canceled: can_below, reservations_accepted: acc_below },
                        above: SplitCounts {
                            tasks_canceled: agg.canceled.count - can_below,
                            reservations_accepted: agg.accepted.count - acc_below,
                        },
                    };
                    (t, split)
                })
                .collect(),
        )
    })
}

/// `Workspaces/{WS}/RealTimeStatistics` numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceRealtime {
    pub total_workers: u64,
    pub activity_statistics: Vec<floor::ActivityCount>,
    pub tasks_by_status: TasksByStatus,
    pub tasks_by_priority: BTreeMap<String, u64>,
    pub longest_task_waiting_age: u64,
    pub longest_task_waiting_sid: Option<TaskSid>,
    pub total_tasks: u64,
}

/// How many pending tasks of a set ordered by (creation time, task) were created at or
/// before `cutoff_ms`: a range from the oldest, so it costs the number counted.
fn created_by(pending: &BTreeSet<(i64, u128)>, cutoff_ms: i64) -> u64 {
    pending.range(..=(cutoff_ms, u128::MAX)).count() as u64
}

/// Age in whole seconds (floored) of a task created at `created_ms`.
pub fn waiting_age(created_ms: i64, now_ms: i64) -> u64 {
    ((now_ms - created_ms).max(0) / 1000) as u64
}

/// Rounds milliseconds to whole seconds, halves away from zero (waits are never negative).
pub fn ms_to_s(ms: u64) -> u64 {
    (ms + 500) / 1000
}

fn wait_duration(w: &WaitAgg) -> WaitDuration {
    if w.count == 0 {
        return WaitDuration::default();
    }
    // avg = sum / count / 1000, rounded half up, in exact integer arithmetic.
    let avg = (u128::from(w.sum_ms) * 2 + u128::from(w.count) * 1000) / (u128::from(w.count) * 2000);
    WaitDuration {
        avg: avg as u64,
        min: ms_to_s(u64::from(w.min_ms.unwrap_or(0))),
        max: ms_to_s(u64::from(w.max_ms.unwrap_or(0))),
        total: ms_to_s(w.sum_ms),
    }
}

#[cfg(test)]
mod floor_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod trend_tests;
