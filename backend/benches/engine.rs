//! Benchmarks of the statistics engine (`wallboard::engine::Engine`).
//!
//! * `apply`: how many events per second a fresh engine folds in memory, on a realistic,
//!   deterministic stream of ~1M TaskRouter events (target: ≥ 1M events/s):
//!   `1M_events_fresh_engine` is the floor's stream (2,000 workers, 50 task queues, tasks
//!   entering and moving between queues, reservations naming their worker, breaks, lunches
//!   and shifts as `worker.activity.update`); `1M_task_events_fresh_engine` is the task
//!   events alone, without queue or worker fields (the stream of the earlier figures).
//! * `query`: latency of `Engine::cumulative` on an engine holding 30 days of 10M tasks
//!   (target: p99 ≤ 1 ms for a 30-day window with 10 thresholds); `queue`: the same for
//!   `Engine::queue_cumulative` on the busiest task queue (a fifth of all tasks). Criterion reports
//!   mean/median; p50/p99/max over 2000 timed calls are printed as well. The engine is
//!   loaded once (tens of seconds), with `maintain` every simulated minute, and the load
//!   reports its rate, memory and slowest `apply`/`maintain` calls.
//! * `workers`: `Engine::workers_cumulative` on that engine, for one worker (its own
//!   reservation log and activity changes) and for the workers eligible for the busiest queue.
//! * `snapshot`: the engine's snapshot of that engine (`Engine::write_state`, what a stopping
//!   server writes; `Engine::read_state`, what a start reads instead of replaying the log),
//!   and its size (printed).
//!
//! `WALLBOARD_BENCH_TASKS` sets the number of tasks of the 30-day engine (default
//! 10_000_000); e.g. `WALLBOARD_BENCH_TASKS=200000` for a quick run. Under
//! `cargo test --benches` (criterion's test mode) both data sets are small.
//!
//! Run: `cargo bench -p wallboard --bench engine` (`-- apply`, `-- query`, `-- queue`, `-- workers` or
//! `-- snapshot` for one group).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use wallboard::engine::{ChannelId, Engine, WorkerSet, WorkflowId};
use wallboard::event::{Event, EventBuilder};
use wallboard_shared::{EventSid, ReservationSid, TaskSid, Window, WorkflowSid, WorkspaceSid};

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 60 * MINUTE_MS;
const DAY_MS: i64 = 24 * HOUR_MS;
/// 2026-01-01T00:00:00Z: the end of the 30-day data set.
const T_END: i64 = 1_767_225_600_000;

const APPLY_EVENTS: usize = 1_000_000;
const DEFAULT_TASKS: u64 = 10_000_000;
/// Sizes when criterion runs each benchmark once as a test (`cargo test --benches`).
const TEST_APPLY_EVENTS: usize = 20_000;
const TEST_TASKS: u64 = 20_000;
const THRESHOLDS: [u32; 10] = [5, 10, 15, 20, 30, 45, 60, 90, 120, 300];
const QUERY_CALLS: usize = 2_000;

const WORKSPACE_NAME: &str = "Acme Contact Center";
const WORKFLOWS: [(&str, u64); 3] = [("Support", 50), ("Sales", 30), ("Billing", 20)];
const CHANNELS: [(&str, u64); 3] = [("voice", 60), ("chat", 25), ("sms", 15)];
const PRIORITIES: [u8; 10] = [0, 0, 0, 0, 0, 0, 1, 1, 5, 10];
const DISTINCT_PRIORITIES: [u8; 4] = [0, 1, 5, 10];
const SALT_EVENT: u64 = 0xe7e7;
const SALT_TASK: u64 = 0x7a5c;
const SALT_RESERVATION: u64 = 0x2e5e;

const TASK_CREATED: u8 = 0;
const WORKFLOW_ENTERED: u8 = 1;
const RES_CREATED: u8 = 2;
const RES_ACCEPTED: u8 = 3;
const RES_REJECTED: u8 = 4;
const TASK_WRAPUP: u8 = 5;
const TASK_COMPLETED: u8 = 6;
const TASK_CANCELED: u8 = 7;
const QUEUE_ENTERED: u8 = 8;
const QUEUE_MOVED: u8 = 9;
/// Kinds below this one are task events, built from [`Templates`] during the load.
const TEMPLATE_KINDS: u8 = 10;
const ACTIVITY_UPDATE: u8 = 10;
const ACTIVITY_CREATED: u8 = 11;
const QUEUE_CREATED: u8 = 12;
const WORKER_CREATED: u8 = 13;
const EVENT_TYPES: [&str; 14] = [
    "task.created",
    "workflow.entered",
    "reservation.created",
    "reservation.accepted",
    "reservation.rejected",
    "task.wrapup",
    "task.completed",
    "task.canceled",
    "task-queue.entered",
    "task-queue.moved",
    "worker.activity.update",
    "activity.created",
    "task-queue.created",
    "worker.created",
];

/// The floor: workers, queues (queue 0, "General", takes a fifth of the tasks and every
/// worker; the others share the rest, each with the ~80 workers of its skill) and
/// activities (0 is the available one).
const WORKERS: u64 = 2_000;
const QUEUES: u64 = 50;
const ACTIVITIES: [&str; 6] = ["Available", "Break", "Lunch", "Training", "Meeting", "Offline"];
/// Mean time between two absences of a worker (breaks, lunch, training, offline …): about
/// ten activity changes a worker a day.
const ABSENCE_EVERY_MS: f64 = 200.0 * 60_000.0;
const SALT_WORKER: u64 = 0x3c3c;
const SALT_QUEUE: u64 = 0x3d3d;
const SALT_ACTIVITY: u64 = 0x3e3e;

/// xorshift64: deterministic, no seed crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo) as u64) as i64
    }

    /// Exponentially distributed with the given mean.
    fn exp(&mut self, mean: f64) -> f64 {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        -mean * (1.0 - u).ln()
    }

    fn weighted<const N: usize>(&mut self, weights: [u64; N]) -> usize {
        let mut x = self.below(weights.iter().sum());
        for (i, w) in weights.into_iter().enumerate() {
            if x < w {
                return i;
            }
            x -= w;
        }
        N - 1
    }
}

/// splitmix64 twice: a random-looking 128-bit SID from a counter.
fn mix(n: u64, salt: u64) -> u128 {
    let step = |mut z: u64| {
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let a = step(n ^ salt);
    (u128::from(a) << 64) | u128::from(step(a))
}

/// One event to be, before it is built: ordered by time, then generation order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Spec {
    ts: i64,
    seq: u64,
    kind: u8,
    task: u64,
    reservation: u64,
    workflow: u8,
    channel: u8,
    priority: u8,
    /// The queue the task is in (or the queue created).
    queue: u8,
    /// The worker of a reservation, activity change or creation.
    worker: u16,
    /// The activity entered (or created), and the one left with the time spent in it.
    activity: u8,
    previous: u8,
    previous_ms: u32,
}

/// A deterministic TaskRouter event stream: `tasks` tasks created evenly over
/// `[start, start + span)`, their events interleaved in time order.
struct Stream {
    rng: Rng,
    /// Also emit `workflow.entered` (about one more event per task).
    full: bool,
    start_ms: i64,
    span_ms: i64,
    tasks: u64,
    next_task: u64,
    seq: u64,
    next_reservation: u64,
    pending: BinaryHeap<Reverse<Spec>>,
    workspace: WorkspaceSid,
    workflows: Vec<WorkflowSid>,
    /// Emit the floor: queue and worker fields, queue moves, workers' absences. Its own
    /// random numbers, so the task events are the same with or without it.
    floor: bool,
    floor_rng: Rng,
    /// Per worker, when its next absence starts and when it last became available.
    absences: BinaryHeap<Reverse<(i64, u16)>>,
    available_since: Vec<i64>,
}

impl Stream {
    fn new(tasks: u64, start_ms: i64, span_ms: i64, full: bool, floor: bool) -> Self {
        let mut stream = Self {
            floor,
            floor_rng: Rng(0x0dd_b1a5_e5ee_d5ed),
            absences: BinaryHeap::new(),
            available_since: vec![start_ms; WORKERS as usize],
            rng: Rng(0x2545_f491_4f6c_dd1d),
            full,
            start_ms,
            span_ms,
            tasks,
            next_task: 0,
            seq: 0,
            next_reservation: 0,
            pending: BinaryHeap::new(),
            workspace: workspace_sid(),
            workflows: (0..WORKFLOWS.len()).map(|i| workflow_sid(i as u8)).collect(),
        };
        if floor {
            stream.add_floor();
        }
        stream
    }

    fn push(&mut self, spec: Spec) {
        self.seq += 1;
        self.pending.push(Reverse(Spec { seq: self.seq, ..spec }));
    }

    /// Activities, queues and workers created at the start; every worker's first absence.
    fn add_floor(&mut self) {
        let at = Spec { ts: self.start_ms, ..Spec::default() };
        for activity in 0..ACTIVITIES.len() as u8 {
            self.push(Spec { kind: ACTIVITY_CREATED, activity, ..at });
        }
        for queue in 0..QUEUES as u8 {
            self.push(Spec { kind: QUEUE_CREATED, queue, ..at });
        }
        for worker in 0..WORKERS as u16 {
            self.push(Spec { kind: WORKER_CREATED, worker, ..at });
            let first = self.start_ms + self.floor_rng.exp(ABSENCE_EVERY_MS) as i64;
            self.absences.push(Reverse((first, worker)));
        }
    }

    /// The absences starting before `until_ms`: one activity change away from Available
    /// and one back, with the time spent in the previous activity.
    fn add_absences(&mut self, until_ms: i64) {
        let end = self.start_ms + self.span_ms;
        while let Some(&Reverse((t, worker))) = self.absences.peek() {
            if t >= until_ms || t >= end {
                break;
            }
            self.absences.pop();
            let r = &mut self.floor_rng;
            let (activity, minutes) = match r.below(100) {
                0..50 => (1, r.range(5, 20)),
                50..65 => (2, r.range(30, 60)),
                65..75 => (3, r.range(30, 90)),
                75..85 => (4, r.range(15, 60)),
                _ => (5, r.range(20, 120)),
            };
            let back = t + minutes * MINUTE_MS;
            let w = usize::from(worker);
            let away = Spec {
                ts: t,
                kind: ACTIVITY_UPDATE,
                worker,
                activity,
                previous: 0,
                previous_ms: (t - self.available_since[w]).clamp(0, i64::from(u32::MAX)) as u32,
                ..Spec::default()
            };
            self.push(away);
            self.push(Spec { ts: back, activity: 0, previous: activity, previous_ms: (back - t) as u32, ..away });
            self.available_since[w] = back;
            let next = back + self.floor_rng.exp(ABSENCE_EVERY_MS) as i64;
            self.absences.push(Reverse((next, worker)));
        }
    }

    fn done(&self) -> bool {
        self.next_task >= self.tasks && self.pending.is_empty()
    }

    /// A queue for a new task: "General" for a fifth of them, else one of the others.
    fn pick_queue(&mut self) -> u8 {
        let r = &mut self.floor_rng;
        if r.below(5) == 0 { 0 } else { 1 + r.below(QUEUES - 1) as u8 }
    }

    fn task_base(&self, i: u64) -> i64 {
        self.start_ms + (i128::from(i) * i128::from(self.span_ms) / i128::from(self.tasks)) as i64
    }

    /// Every event before `until_ms`, in time order, appended to `out`. Tasks are created
    /// in order of their slot, so no later batch can hold an event before `until_ms`.
    fn specs(&mut self, until_ms: i64, out: &mut Vec<Spec>) {
        while self.next_task < self.tasks && self.task_base(self.next_task) < until_ms {
            self.add_task(self.next_task);
            self.next_task += 1;
        }
        if self.floor {
            self.add_absences(until_ms);
        }
        while let Some(Reverse(s)) = self.pending.peek().copied() {
            if s.ts >= until_ms {
                break;
            }
            self.pending.pop();
            out.push(s);
        }
    }

    /// Every event before `until_ms`, built with [`EventBuilder`].
    fn batch(&mut self, until_ms: i64) -> Vec<Event> {
        let mut specs = Vec::new();
        self.specs(until_ms, &mut specs);
        specs.iter().map(|s| self.build(s)).collect()
    }

    fn add_task(&mut self, i: u64) {
        let slot = (self.span_ms / self.tasks as i64).max(1);
        let base = self.task_base(i);
        let r = &mut self.rng;
        let t0 = base + r.range(0, slot);
        let workflow = r.weighted(WORKFLOWS.map(|w| w.1)) as u8;
        let channel = r.weighted(CHANNELS.map(|c| c.1)) as u8;
        let priority = PRIORITIES[r.below(PRIORITIES.len() as u64) as usize];
        let wait = (r.exp(45_000.0) as i64).clamp(500, 20 * MINUTE_MS);
        let canceled = r.below(10) == 0;
        let rejections = match r.below(100) {
            0..15 => 1,
            15..18 => 2,
            _ => 0,
        };
        let accept_delay = r.range(1_000, 10_000);
        let talk = 30_000 + (r.exp(240_000.0) as i64).min(HOUR_MS);
        let wrap = r.range(5_000, 90_000);

        // (time, kind, reservation)
        let mut evs: Vec<(i64, u8, u64)> = Vec::with_capacity(12);
        let mut t = t0;
        evs.push((t, TASK_CREATED, 0));
        if self.full {
            t += 1 + self.rng.range(0, 40);
            evs.push((t, WORKFLOW_ENTERED, 0));
        }
        if canceled {
            // Abandoned while waiting; a third had been offered to an agent who refused.
            if self.rng.below(3) == 0 {
                self.next_reservation += 1;
                t = t.max(t0 + wait / 3) + 1;
                evs.push((t, RES_CREATED, self.next_reservation));
                t += self.rng.range(2_000, 15_000);
                evs.push((t, RES_REJECTED, self.next_reservation));
            }
            t = t.max(t0 + wait) + 1;
            evs.push((t, TASK_CANCELED, 0));
        } else {
            for _ in 0..rejections {
                self.next_reservation += 1;
                t += 1 + self.rng.range(0, 5_000);
                evs.push((t, RES_CREATED, self.next_reservation));
                t += self.rng.range(2_000, 15_000);
                evs.push((t, RES_REJECTED, self.next_reservation));
            }
            self.next_reservation += 1;
            t = t.max(t0 + wait - accept_delay) + 1;
            evs.push((t, RES_CREATED, self.next_reservation));
            t += accept_delay;
            evs.push((t, RES_ACCEPTED, self.next_reservation));
            t += talk;
            evs.push((t, TASK_WRAPUP, 0));
            t += wrap;
            evs.push((t, TASK_COMPLETED, 0));
        }
        // The floor: the task enters a queue just after it is created; one in twenty
        // moves to another queue halfway through its wait; each reservation names a worker.
        let mut queue = 0;
        let mut moved = None;
        if self.floor {
            queue = self.pick_queue();
            evs.insert(1, (t0 + 1, QUEUE_ENTERED, 0));
            if self.floor_rng.below(20) == 0 {
                moved = Some((t0 + wait / 2, self.pick_queue()));
            }
        }
        let mut all: Vec<(i64, u8, u64, u8)> = evs
            .into_iter()
            .map(|(ts, kind, reservation)| {
                let q = match moved {
                    Some((at, to)) if ts > at => to,
                    _ => queue,
                };
                (ts, kind, reservation, q)
            })
            .collect();
        if let Some((at, to)) = moved {
            all.push((at, QUEUE_MOVED, 0, to));
            all.push((at, QUEUE_ENTERED, 0, to));
        }
        for (ts, kind, reservation, queue) in all {
            let worker = if reservation != 0 && self.floor { self.floor_rng.below(WORKERS) as u16 } else { 0 };
            self.push(Spec {
                ts,
                kind,
                task: i,
                reservation,
                workflow,
                channel,
                priority,
                queue,
                worker,
                ..Spec::default()
            });
        }
    }

    fn build(&self, s: &Spec) -> Event {
        let sid = EventSid::from_u128(mix(s.seq, SALT_EVENT));
        let b = EventBuilder::new(EVENT_TYPES[usize::from(s.kind)], &sid, s.ts, &self.workspace)
            .field("workspace_name", WORKSPACE_NAME);
        let mut b = match s.kind {
            ACTIVITY_CREATED => {
                return b
                    .field("activity_sid", activity_sid(s.activity))
                    .field("activity_name", ACTIVITIES[usize::from(s.activity)])
                    .field("activity_available", s.activity == 0)
                    .build()
                    .expect("generated events are valid");
            }
            QUEUE_CREATED => {
                return b
                    .field("task_queue_sid", queue_sid(s.queue))
                    .field("task_queue_name", queue_name(s.queue))
                    .field("task_queue_target_expression", queue_expression(s.queue))
                    .build()
                    .expect("generated events are valid");
            }
            WORKER_CREATED | ACTIVITY_UPDATE => {
                let mut b = b
                    .field("worker_sid", worker_sid(s.worker))
                    .field("worker_name", format!("agent{}", s.worker))
                    .field("worker_attributes", worker_attributes(s.worker))
                    .field("worker_activity_sid", activity_sid(s.activity))
                    .field("worker_activity_name", ACTIVITIES[usize::from(s.activity)]);
                if s.kind == ACTIVITY_UPDATE {
                    b = b
                        .field("worker_previous_activity_sid", activity_sid(s.previous))
                        .field("worker_previous_activity_name", ACTIVITIES[usize::from(s.previous)])
                        .field("worker_time_in_previous_activity_ms", s.previous_ms);
                }
                return b.build().expect("generated events are valid");
            }
            _ => b,
        };
        b = b
            .field("task_sid", TaskSid::from_u128(mix(s.task, SALT_TASK)))
            .field("workflow_sid", &self.workflows[usize::from(s.workflow)])
            .field("workflow_name", WORKFLOWS[usize::from(s.workflow)].0)
            .field("task_channel_unique_name", CHANNELS[usize::from(s.channel)].0)
            .field("task_priority", s.priority);
        if s.reservation != 0 {
            b = b.field("reservation_sid", ReservationSid::from_u128(mix(s.reservation, SALT_RESERVATION)));
        }
        if self.floor {
            b = b.field("task_queue_sid", queue_sid(s.queue));
            if s.reservation != 0 {
                b = b
                    .field("worker_sid", worker_sid(s.worker))
                    .field("worker_attributes", worker_attributes(s.worker))
                    .field("worker_activity_sid", activity_sid(0));
            }
        }
        b.build().expect("generated events are valid")
    }
}

/// One reusable event per (type, workflow, channel, priority), built and validated by
/// [`EventBuilder`] once; each event of the stream then overwrites its SID, timestamp,
/// task and reservation in place. The result equals what [`Stream::build`] makes (checked
/// on a sample), without its ~20 allocations per event, so that loading 50M events is
/// bound by the engine rather than by building events.
struct Templates(Vec<Event>);

impl Templates {
    fn new(stream: &Stream) -> Self {
        let mut all = Vec::new();
        for kind in 0..TEMPLATE_KINDS {
            for workflow in 0..WORKFLOWS.len() as u8 {
                for channel in 0..CHANNELS.len() as u8 {
                    for &priority in &DISTINCT_PRIORITIES {
                        let reservation = matches!(kind, RES_CREATED | RES_ACCEPTED | RES_REJECTED);
                        all.push(stream.build(&Spec {
                            ts: T_END,
                            seq: 0,
                            kind,
                            task: 0,
                            reservation: u64::from(reservation),
                            workflow,
                            channel,
                            priority,
                            ..Spec::default()
                        }));
                    }
                }
            }
        }
        Self(all)
    }

    /// The event of `s`: a template filled in, or for the floor's own events (a few per
    /// worker a day) one built afresh into `spare`.
    fn event<'a>(&'a mut self, stream: &Stream, s: &Spec, spare: &'a mut Option<Event>) -> &'a Event {
        if s.kind < TEMPLATE_KINDS {
            return self.fill(s);
        }
        spare.insert(stream.build(s))
    }

    fn fill(&mut self, s: &Spec) -> &Event {
        let p = DISTINCT_PRIORITIES.iter().position(|&p| p == s.priority).expect("a generated priority");
        let i = ((usize::from(s.kind) * WORKFLOWS.len() + usize::from(s.workflow)) * CHANNELS.len()
            + usize::from(s.channel))
            * DISTINCT_PRIORITIES.len()
            + p;
        let e = &mut self.0[i];
        e.sid = EventSid::from_u128(mix(s.seq, SALT_EVENT));
        e.ts_ms = s.ts;
        let mut fields = vec![("task_sid", sid("WT", mix(s.task, SALT_TASK))), ("task_queue_sid", queue_sid(s.queue))];
        if s.reservation != 0 {
            fields.push(("reservation_sid", sid("WR", mix(s.reservation, SALT_RESERVATION))));
            fields.push(("worker_sid", worker_sid(s.worker)));
            fields.push(("worker_attributes", worker_attributes(s.worker)));
        }
        e.set_fields(&fields).expect("valid fields");
        e
    }
}

fn sid(prefix: &str, n: u128) -> String {
    format!("{prefix}{n:032x}")
}

fn worker_sid(worker: u16) -> String {
    sid("WK", mix(u64::from(worker), SALT_WORKER))
}

fn queue_sid(queue: u8) -> String {
    sid("WQ", mix(u64::from(queue), SALT_QUEUE))
}

fn activity_sid(activity: u8) -> String {
    sid("WA", mix(u64::from(activity), SALT_ACTIVITY))
}

fn queue_name(queue: u8) -> String {
    if queue == 0 { "General".into() } else { format!("Skill {queue}") }
}

/// General takes everybody; skill queues want the skill, half of them a level too.
fn queue_expression(queue: u8) -> String {
    match queue {
        0 => "skills HAS 'general'".into(),
        q if q % 2 == 0 => format!("skills HAS 'q{q}' AND level >= 1"),
        q => format!("'q{q}' IN skills OR languages HAS 'q{q}'"),
    }
}

/// Two skill queues per worker (~80 workers per skill queue), a level and languages.
fn worker_attributes(worker: u16) -> String {
    let w = u64::from(worker);
    let (a, b) = (1 + w % (QUEUES - 1), 1 + (w * 7 + 3) % (QUEUES - 1));
    format!(r#"{{"skills":["general","q{a}","q{b}"],"level":{},"languages":["en","es"]}}"#, w % 4)
}

fn workspace_sid() -> WorkspaceSid {
    WorkspaceSid::from_u128(mix(1, 0x3a3a))
}

fn workflow_sid(i: u8) -> WorkflowSid {
    WorkflowSid::from_u128(mix(u64::from(i), 0x3b3b))
}

/// Peak and current resident memory of this process, from /proc (Linux only).
fn memory() -> String {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return "n/a".into();
    };
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map_or("?".to_string(), |kb| format!("{} MiB", kb / 1024))
    };
    format!("RSS {}, peak {}", field("VmRSS:"), field("VmHWM:"))
}

/// `cargo test --benches` runs each benchmark once, without `--bench`: keep it small.
fn test_mode() -> bool {
    let args: Vec<String> = std::env::args().collect();
    !args.iter().any(|a| a == "--bench") || args.iter().any(|a| a == "--test")
}

fn apply_events() -> usize {
    if test_mode() { TEST_APPLY_EVENTS } else { APPLY_EVENTS }
}

fn tasks_from_env() -> u64 {
    std::env::var("WALLBOARD_BENCH_TASKS")
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(if test_mode() { TEST_TASKS } else { DEFAULT_TASKS })
}

// ---------------------------------------------------------------------------------------
// Apply rate

/// The apply stream: ~240 tasks a minute over ~14 hours, ~6 events per task (with
/// `workflow.entered`), cut at exactly 1M events; and its last timestamp.
fn apply_stream(floor: bool) -> (Vec<Event>, i64) {
    let n = apply_events();
    let t = Instant::now();
    let span = 14 * HOUR_MS;
    let mut stream = Stream::new(200_000, T_END - span, span, true, floor);
    let mut events = Vec::with_capacity(n + 10_000);
    let mut until = T_END - span;
    while events.len() < n && !stream.done() {
        until += MINUTE_MS;
        events.extend(stream.batch(until));
    }
    events.truncate(n);
    assert_eq!(events.len(), n, "the stream is long enough");
    let end = events.last().map_or(T_END, |e| e.ts_ms);
    println!(
        "apply: built {} events of {} tasks (floor: {floor}) with EventBuilder in {:.1?} ({})",
        events.len(),
        stream.next_task,
        t.elapsed(),
        memory()
    );

    // One pass outside criterion: a sanity check and the figure of a cold first pass.
    let mut engine = Engine::default();
    engine.maintain(end);
    let t = Instant::now();
    for e in &events {
        black_box(engine.apply(e));
    }
    let took = t.elapsed();
    if !floor {
        assert_eq!(engine.events_applied(), n as u64, "every event changes something");
    }
    println!(
        "apply: first pass {n} events (floor: {floor}) in {took:.2?} = {:.0} events/s; \
         {} tasks in memory",
        n as f64 / took.as_secs_f64(),
        engine.tasks_in_memory()
    );
    (events, end)
}

fn bench_apply(c: &mut Criterion) {
    let mut g = c.benchmark_group("apply");
    g.throughput(Throughput::Elements(apply_events() as u64))
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(16));
    for (name, floor) in [("1M_events_fresh_engine", true), ("1M_task_events_fresh_engine", false)] {
        // Built on first use, so that a filter excluding this benchmark skips it too.
        let mut data: Option<(Vec<Event>, i64)> = None;
        g.bench_function(name, |b| {
            let (events, end) = data.get_or_insert_with(|| apply_stream(floor));
            let end = *end;
            b.iter_batched(
                || {
                    let mut engine = Engine::default();
                    engine.maintain(end);
                    engine
                },
                |mut engine| {
                    for e in events.iter() {
                        black_box(engine.apply(e));
                    }
                    engine // dropped outside the timed part
                },
                BatchSize::PerIteration,
            );
        });
    }
    g.finish();
}

// ---------------------------------------------------------------------------------------
// Query latency

struct Fixture {
    engine: Engine,
    end: i64,
    workflow: WorkflowId,
    voice: ChannelId,
    /// The busiest queue ("General", a fifth of the tasks).
    queue: u32,
}

static FIXTURE: OnceLock<Fixture> = OnceLock::new();

const WINDOWS: [(&str, i64); 3] = [("30d", 30 * DAY_MS - MINUTE_MS), ("4h", 4 * HOUR_MS), ("15min", 15 * MINUTE_MS)];

/// Window ends spread over the last hour: a quarter in the last two minutes (a live
/// wallboard asking "until now", partly in unsealed minutes), the rest anywhere in the
/// hour, so no call repeats the previous one.
struct Windows {
    ends: Vec<i64>,
    starts_30d: Vec<i64>,
}

impl Windows {
    const N: usize = 4096;

    fn new(end: i64) -> Self {
        let mut r = Rng(0x51f1_5eed);
        let ends = (0..Self::N)
            .map(|_| {
                let back = if r.below(4) == 0 { r.range(0, 2 * MINUTE_MS) } else { r.range(0, HOUR_MS) };
                end - back
            })
            .collect();
        // The 30-day window must start inside the retention (as the API resolves it).
        let starts_30d = (0..Self::N).map(|_| end - 30 * DAY_MS + MINUTE_MS + r.range(0, HOUR_MS)).collect();
        Self { ends, starts_30d }
    }

    fn get(&self, i: usize, len: i64) -> Window {
        let i = i % Self::N;
        let end_ms = self.ends[i];
        let start_ms = if len >= 30 * DAY_MS - MINUTE_MS { self.starts_30d[i] } else { end_ms - len };
        Window { start_ms, end_ms }
    }
}

fn fixture() -> &'static Fixture {
    FIXTURE.get_or_init(|| {
        let f = load(tasks_from_env());
        report_percentiles(&f);
        f
    })
}

/// The slowest few calls during the load, with what was going on then.
#[derive(Default)]
struct Stalls(Vec<(Duration, String)>);

impl Stalls {
    const KEEP: usize = 4;

    fn note(&mut self, took: Duration, context: impl FnOnce() -> String) {
        if took < Duration::from_millis(1) || (self.0.len() == Self::KEEP && took <= self.0[Self::KEEP - 1].0) {
            return;
        }
        self.0.push((took, context()));
        self.0.sort_by_key(|s| Reverse(s.0));
        self.0.truncate(Self::KEEP);
    }

    fn print(&self) {
        for (took, context) in &self.0 {
            println!("query:   {took:>9.1?} at {context}");
        }
    }
}

/// Where the load stands: for telling hash-map growth from index sealing in a stall.
fn context(engine: &Engine, stream: &Stream, now_ms: i64, events: u64) -> String {
    let sealed_minute = (now_ms - 2 * MINUTE_MS).div_euclid(MINUTE_MS);
    let in_memory = engine.tasks_in_memory() as u64;
    format!(
        "day {:.2}, event {events}, {in_memory} tasks in memory, ~{} evicted, \
         sealed minute % 4096 = {}, % 32768 = {}",
        (now_ms - stream.start_ms) as f64 / DAY_MS as f64,
        stream.next_task.saturating_sub(in_memory),
        sealed_minute.rem_euclid(4096),
        sealed_minute.rem_euclid(32768),
    )
}

/// Loads `tasks` tasks spread over 30 days, ~6 events each (with the queue entry, and the
/// floor's own events: 2,000 workers' absences), with `maintain` at every simulated minute
/// as the server's clock would call it.
fn load(tasks: u64) -> Fixture {
    let start = T_END - 30 * DAY_MS;
    println!("query: loading {tasks} tasks over 30 days (~6 events per task, with the floor) …");
    let mut stream = Stream::new(tasks, start, 30 * DAY_MS, false, true);
    let mut templates = Templates::new(&stream);
    let mut engine = Engine::default();
    let mut specs = Vec::new();
    let t = Instant::now();
    let (mut apply, mut maintain) = (Duration::ZERO, Duration::ZERO);
    let (mut apply_stalls, mut maintain_stalls) = (Stalls::default(), Stalls::default());
    let mut slow_applies = 0u64; // over 100 µs
    let (mut n, mut end, mut until) = (0u64, start, start);
    let mut task_events = 0u64;
    let mut spare = None;
    while !stream.done() {
        until += MINUTE_MS;
        specs.clear();
        stream.specs(until, &mut specs);
        for s in &specs {
            if n % 100_000 == 0 && s.kind < TEMPLATE_KINDS {
                assert_eq!(*templates.fill(s), stream.build(s), "template event {n}");
            }
            task_events += u64::from(s.kind < TEMPLATE_KINDS);
            let e = templates.event(&stream, s, &mut spare);
            let a = Instant::now();
            black_box(engine.apply(e));
            let took = a.elapsed();
            apply += took;
            slow_applies += u64::from(took > Duration::from_micros(100));
            apply_stalls.note(took, || context(&engine, &stream, s.ts, n));
            n += 1;
            end = s.ts;
        }
        let m = Instant::now();
        engine.maintain(until - 1);
        let took = m.elapsed();
        maintain += took;
        maintain_stalls.note(took, || context(&engine, &stream, until - 1, n));
    }
    let m = Instant::now();
    engine.maintain(end);
    maintain += m.elapsed();
    let wall = t.elapsed();
    assert_eq!(engine.events_applied(), task_events, "every task event changes something");
    println!(
        "query: loaded {n} events ({:.2} per task) in {wall:.1?} wall = {:.0} events/s \
         (generation included)",
        n as f64 / tasks as f64,
        n as f64 / wall.as_secs_f64()
    );
    println!(
        "query: engine time: apply {apply:.1?} = {:.0} events/s, maintain {maintain:.1?}; \
         {} tasks in memory; {}",
        n as f64 / apply.as_secs_f64(),
        engine.tasks_in_memory(),
        memory()
    );
    println!("query: {slow_applies} apply calls over 100 µs; slowest:");
    apply_stalls.print();
    println!("query: slowest maintain calls (one per simulated minute):");
    maintain_stalls.print();
    let ws = workspace_sid();
    let workflow = engine.registry().workflow_id(&ws, &workflow_sid(0)).expect("the workflow was seen");
    let voice = engine.registry().resolve_channel(&ws, "voice").expect("the voice channel was seen");
    let s = engine.cumulative(
        workflow,
        None,
        Window { start_ms: end - 30 * DAY_MS + MINUTE_MS, end_ms: end },
        Some(&THRESHOLDS),
    );
    println!(
        "query: workflow {} over 30 days: {} entered, {} accepted, {} canceled, {} completed",
        WORKFLOWS[0].0, s.tasks_entered, s.reservations_accepted, s.tasks_canceled, s.tasks_completed
    );
    let ws_id = engine.registry().workspace_id(&ws).expect("the workspace was seen").index();
    let queue = engine.floor().queue_id_of(ws_id, &queue_sid(0)).expect("the queue was seen");
    let q = engine.queue_cumulative(
        queue,
        None,
        Window { start_ms: end - 30 * DAY_MS + MINUTE_MS, end_ms: end },
        Some(&THRESHOLDS),
    );
    println!(
        "query: queue {} over 30 days: {} entered, {} moved, {} accepted, {} canceled, {} completed",
        queue_name(0),
        q.tasks_entered,
        q.tasks_moved,
        q.reservations_accepted,
        q.tasks_canceled,
        q.tasks_completed
    );
    Fixture { engine, end, workflow, voice, queue }
}

fn report_percentiles(f: &Fixture) {
    let windows = Windows::new(f.end);
    println!(
        "query: latency of cumulative() over {QUERY_CALLS} calls after 200 warm-up calls, \
         10 thresholds"
    );
    println!("| window | filter | p50 | p99 | max |");
    println!("|---|---|---|---|---|");
    for (name, len) in WINDOWS {
        for (filter, channel) in
            [("workflow", None), ("voice", Some(f.voice)), ("queue", None), ("queue voice", Some(f.voice))]
        {
            let mut lat = Vec::with_capacity(QUERY_CALLS);
            for i in 0..200 + QUERY_CALLS {
                let w = windows.get(i, len);
                let t = Instant::now();
                if filter.starts_with("queue") {
                    black_box(f.engine.queue_cumulative(f.queue, channel, w, Some(&THRESHOLDS)));
                } else {
                    black_box(f.engine.cumulative(f.workflow, channel, w, Some(&THRESHOLDS)));
                }
                if i >= 200 {
                    lat.push(t.elapsed());
                }
            }
            lat.sort_unstable();
            let pct = |p: usize| lat[(lat.len() * p / 100).min(lat.len() - 1)];
            println!("| {name} | {filter} | {:.1?} | {:.1?} | {:.1?} |", pct(50), pct(99), lat[lat.len() - 1]);
        }
    }
}

fn bench_query(c: &mut Criterion) {
    let mut g = c.benchmark_group("query");
    g.warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    for (name, len) in WINDOWS {
        for (filter, voice) in [("workflow", false), ("voice", true)] {
            g.bench_function(BenchmarkId::new(name, filter), |b| {
                let f = fixture();
                let windows = Windows::new(f.end);
                let channel = voice.then_some(f.voice);
                let mut i = 0;
                b.iter(|| {
                    i += 1;
                    f.engine.cumulative(f.workflow, channel, windows.get(i, len), Some(&THRESHOLDS))
                });
            });
        }
    }
    g.finish();
}

fn bench_queue(c: &mut Criterion) {
    let mut g = c.benchmark_group("queue");
    g.warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    for (name, len) in WINDOWS {
        for (filter, voice) in [("queue", false), ("voice", true)] {
            g.bench_function(BenchmarkId::new(name, filter), |b| {
                let f = fixture();
                let windows = Windows::new(f.end);
                let channel = voice.then_some(f.voice);
                let mut i = 0;
                b.iter(|| {
                    i += 1;
                    f.engine.queue_cumulative(f.queue, channel, windows.get(i, len), Some(&THRESHOLDS))
                });
            });
        }
    }
    g.finish();
}

/// The workers' cumulative statistics on the same engine: one worker (its own reservation
/// log and activity changes), and the workers eligible for the busiest queue (a filtered
/// `Workers/Statistics`), for the same windows.
fn bench_workers(c: &mut Criterion) {
    let mut g = c.benchmark_group("workers");
    g.warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    for (name, len) in WINDOWS {
        g.bench_function(BenchmarkId::new(name, "one_worker"), |b| {
            let f = fixture();
            let windows = Windows::new(f.end);
            let mut r = Rng(0x0b0e_55ed);
            let workers: Vec<u128> = (0..64).map(|_| mix(r.below(WORKERS), SALT_WORKER)).collect();
            let mut i = 0;
            b.iter(|| {
                i += 1;
                let one = [workers[i % workers.len()]];
                f.engine.workers_cumulative(0, WorkerSet::Only(&one), None, windows.get(i, len))
            });
        });
        g.bench_function(BenchmarkId::new(name, "eligible_for_queue"), |b| {
            let f = fixture();
            let windows = Windows::new(f.end);
            let mut i = 0;
            b.iter(|| {
                i += 1;
                f.engine.workers_cumulative(0, WorkerSet::Eligible(f.queue), None, windows.get(i, len))
            });
        });
    }
    g.finish();
}

/// The snapshot of the 30-day engine: written (a stopping server) and read back (a start).
fn bench_snapshot(c: &mut Criterion) {
    let mut g = c.benchmark_group("snapshot");
    g.sample_size(10).warm_up_time(Duration::from_millis(1)).measurement_time(Duration::from_secs(1));
    let f = fixture();
    let mut bytes = Vec::new();
    f.engine.write_state(&mut bytes).expect("write the state");
    let held = f.engine.sizes();
    println!(
        "snapshot: {} bytes ({:.1} MiB) for 30 days of {} tasks ({} in memory, {} tombstones, {} series)",
        bytes.len(),
        bytes.len() as f64 / (1 << 20) as f64,
        tasks_from_env(),
        held.tasks,
        held.tombstones,
        held.series
    );
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("write_state", |b| {
        b.iter_batched_ref(
            || Vec::with_capacity(bytes.len()),
            |out| f.engine.write_state(out).map(drop),
            BatchSize::PerIteration,
        );
    });
    g.bench_function("read_state", |b| {
        b.iter_with_large_drop(|| Engine::read_state(&bytes).map(|(engine, _)| engine));
    });
    g.finish();
}

criterion_group!(benches, bench_apply, bench_query, bench_queue, bench_workers, bench_snapshot);
criterion_main!(benches);
