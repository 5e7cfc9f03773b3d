//! The contact center itself: a discrete-event simulation that emits TaskRouter events.
//!
//! Every future happening is an action in a heap keyed by (time, sequence number). An
//! action runs at its time, may emit events stamped with that time, and may schedule
//! further actions at the same time or later. [`Simulator::advance`] runs every action
//! up to a time, so the stream of events depends only on the configuration, the seed and
//! the start time, never on how the simulation is stepped.
//!
//! The model, per task: arrivals are a Poisson process per (workflow, channel) whose
//! rate follows the time-of-day and day-of-week profiles (thinning of a peak-rate
//! process). A task is created (`task.created`, `workflow.entered`, `task-queue.entered`,
//! all at one millisecond) and waits in its workflow's queue. Pending tasks are offered,
//! highest priority first and then oldest first, to an on-shift skilled agent with free
//! capacity on the task's channel: exclusive work (voice) to the agent idle longest, other
//! work packed onto agents already busy with it. The reservation is accepted, rejected or
//! times out; a rejected or timed-out task is pending again and offered to someone else
//! (an agent who lets a reservation time out pauses). An accepted task is handled, wraps
//! up and completes. A task not yet assigned may be abandoned when the customer's
//! patience runs out or time out of its workflow (an open reservation is canceled
//! first), be moved to another queue, or be deleted.
//!
//! Randomness comes from one ChaCha8 stream, consumed in action order, turned into
//! numbers by the helpers below (not by `rand_distr`), so that a dependency upgrade does
//! not change the events of a stored seed.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeSet, BinaryHeap};

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rustc_hash::FxHashMap;
use sha2::{Digest, Sha256};
use wallboard_shared::sid::{EventSid, ReservationSid, TaskChannelSid, TaskSid, WorkflowSid, WorkspaceSid};

use super::config::{DurationSpec, SimConfig};
use crate::event::{Event, EventBuilder};

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;

/// A stable 128-bit id from names (SIDs of the workspace's fixed resources).
pub(crate) fn stable_id(parts: &[&str]) -> u128 {
    let mut h = Sha256::new();
    h.update(b"wallboard-simulator");
    for p in parts {
        h.update([0x1f]);
        h.update(p.as_bytes());
    }
    let digest = h.finalize();
    let mut n = [0u8; 16];
    n.copy_from_slice(&digest[..16]);
    u128::from_be_bytes(n)
}

/// A bijection of (seed, kind, counter): distinct counters give distinct SIDs for one
/// seed and kind, and the digits look random.
fn mix(seed: u64, kind: u8, n: u64) -> u128 {
    let mut x = (u128::from(seed) << 64 | u128::from(n)) ^ (u128::from(kind) << 120);
    x = x.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835);
    x ^= x >> 67;
    x = x.wrapping_mul(0xd6e8_feb8_6659_fd93_2b6b_2fc4_7b4e_4d2f);
    x ^= x >> 61;
    x
}

const KIND_EVENT: u8 = 1;
const KIND_TASK: u8 = 2;
const KIND_RESERVATION: u8 = 3;
const KIND_CALL: u8 = 4;

/// Uniform numbers and the distributions the model needs, from a ChaCha8 stream.
#[derive(Debug, Clone)]
struct Random(ChaCha8Rng);

impl Random {
    fn new(seed: u64) -> Self {
        let mut bytes = [0u8; 32];
        for (i, chunk) in bytes.chunks_mut(8).enumerate() {
            chunk.copy_from_slice(&(mix(seed, 0xff, i as u64) as u64).to_le_bytes());
        }
        Self(ChaCha8Rng::from_seed(bytes))
    }

    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.uniform() < p
    }

    /// Exponential with this mean.
    fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.uniform()).ln()
    }

    /// Standard normal (Box–Muller, one of the pair).
    fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    fn below(&mut self, n: usize) -> usize {
        ((self.uniform() * n as f64) as usize).min(n.saturating_sub(1))
    }
}

/// A lognormal duration with a given mean and standard deviation, in milliseconds.
#[derive(Debug, Clone, Copy)]
struct LogNormal {
    mu: f64,
    sigma: f64,
    max_s: f64,
}

impl LogNormal {
    fn new(d: DurationSpec) -> Self {
        let cv2 = (d.sd / d.mean).powi(2);
        let sigma2 = (1.0 + cv2).ln();
        Self { mu: d.mean.ln() - sigma2 / 2.0, sigma: sigma2.sqrt(), max_s: d.mean * 50.0 }
    }

    fn sample_ms(&self, rng: &mut Random) -> i64 {
        let s = if self.sigma == 0.0 { self.mu.exp() } else { (self.mu + self.sigma * rng.normal()).exp() };
        secs_to_ms(s.min(self.max_s))
    }
}

fn secs_to_ms(s: f64) -> i64 {
    (s * 1000.0).round().max(1.0) as i64
}

#[derive(Debug, Clone)]
struct Channel {
    name: String,
    sid: String,
    exclusive: bool,
    priority: i64,
    accept: LogNormal,
    handle: LogNormal,
    wrapup: LogNormal,
    patience: LogNormal,
}

#[derive(Debug, Clone)]
struct Workflow {
    name: String,
    sid: WorkflowSid,
    queue_sid: String,
    timeout_ms: i64,
}

#[derive(Debug, Clone)]
struct Agent {
    sid: String,
    name: String,
    /// Bit `q` set: serves queue `q`.
    skills: u64,
    capacity: Vec<u32>,
    load: Vec<u32>,
    total: u32,
    exclusive: u32,
    available_at_ms: i64,
    last_assigned_ms: i64,
    /// Place in its group: the first `ceil(share × group_size)` are on shift.
    rank: u32,
    group_size: u32,
}

impl Agent {
    fn can_take(&self, channel: usize, exclusive: bool) -> bool {
        let cap = self.capacity[channel];
        if cap == 0 || self.exclusive > 0 {
            return false;
        }
        if exclusive { self.total == 0 } else { self.load[channel] < cap }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Pending,
    Reserved,
    Assigned,
    Wrapping,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Reserved => "reserved",
            Self::Assigned => "assigned",
            Self::Wrapping => "wrapping",
        }
    }
}

#[derive(Debug, Clone)]
struct Reservation {
    id: u64,
    sid: ReservationSid,
    agent: u32,
}

#[derive(Debug, Clone)]
struct Task {
    sid: TaskSid,
    workflow: u16,
    channel: u16,
    queue: u16,
    priority: i64,
    created_ms: i64,
    attributes: String,
    status: Status,
    reservation: Option<Reservation>,
    /// The agent handling it once accepted.
    agent: Option<u32>,
    /// The last agent who rejected it or let it time out: not offered it again at once.
    declined: Option<u32>,
}

impl Task {
    fn pending_key(&self, id: u64) -> PendingKey {
        (Reverse(self.priority), self.created_ms, id)
    }
}

/// Routing order: highest priority first, then oldest, then first created.
type PendingKey = (Reverse<i64>, i64, u64);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Accept,
    Reject,
    Timeout,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    /// A candidate arrival of the thinned Poisson process.
    Arrival,
    Outcome {
        task: u64,
        reservation: u64,
        outcome: Outcome,
    },
    Wrapup {
        task: u64,
    },
    Complete {
        task: u64,
    },
    Abandon {
        task: u64,
    },
    WorkflowTimeout {
        task: u64,
    },
    Move {
        task: u64,
    },
    Delete {
        task: u64,
    },
    AgentBack,
    /// The top of an hour: agents come on and go off shift.
    ShiftChange,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Scheduled {
    at_ms: i64,
    seq: u64,
    action: Action,
}

impl Ord for Scheduled {
    /// Reversed: the heap's top is the earliest (time, sequence).
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at_ms, other.seq).cmp(&(self.at_ms, self.seq))
    }
}

impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Live tasks of one workflow by status, from the simulator's own state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LiveCounts {
    pub pending: u64,
    pub reserved: u64,
    pub assigned: u64,
    pub wrapping: u64,
}

impl LiveCounts {
    pub fn total(&self) -> u64 {
        self.pending + self.reserved + self.assigned + self.wrapping
    }
}

/// One arrival stream: a workflow on a channel.
#[derive(Debug, Clone, Copy)]
struct Stream {
    workflow: u16,
    channel: u16,
    /// Cumulative share of the peak rate, for picking a stream with one uniform draw.
    cumulative: f64,
}

const FIRST_NAMES: [&str; 48] = [
    "Ava", "Liam", "Noah", "Emma", "Olivia", "Mateo", "Sofia", "Lucas", "Amara", "Yuki", "Priya", "Diego", "Chloe",
    "Omar", "Hannah", "Ethan", "Zara", "Leo", "Maya", "Kenji", "Isla", "Ravi", "Nina", "Jonas", "Lena", "Samuel",
    "Aisha", "Felix", "Grace", "Hugo", "Ines", "Jack", "Kira", "Luca", "Mila", "Nora", "Oscar", "Paula", "Quinn",
    "Rosa", "Theo", "Uma", "Victor", "Wendy", "Xavier", "Yara", "Zoe", "Adam",
];
const LAST_NAMES: [&str; 16] = [
    "Garcia", "Smith", "Nguyen", "Kowalski", "Okafor", "Tanaka", "Rossi", "Müller", "Dubois", "Silva", "Khan",
    "Larsen", "Cohen", "Patel", "Moreau", "Brown",
];
const TOPICS: [&str; 4] = ["new_order", "account", "technical", "billing"];
const LANGUAGES: [(&str, f64); 3] = [("en", 0.85), ("es", 0.10), ("fr", 0.05)];

/// The simulated contact center. See the module documentation.
#[derive(Debug, Clone)]
pub struct Simulator {
    seed: u64,
    workspace_sid: WorkspaceSid,
    workspace_name: String,
    channels: Vec<Channel>,
    workflows: Vec<Workflow>,
    agents: Vec<Agent>,
    streams: Vec<Stream>,
    /// Peak arrival rate, candidates per millisecond.
    peak_per_ms: f64,
    time_of_day: [f64; 24],
    day_of_week: [f64; 7],
    staffing: [f64; 24],
    staffing_days: [f64; 7],
    peak_multiplier: f64,
    priorities: Vec<(i64, f64)>,
    accept_p: f64,
    reject_p: f64,
    reservation_timeout_ms: i64,
    reject: LogNormal,
    timeout_pause_ms: i64,
    move_p: f64,
    move_after: LogNormal,
    delete_p: f64,
    delete_after: LogNormal,

    rng: Random,
    heap: BinaryHeap<Scheduled>,
    seq: u64,
    now_ms: i64,
    tasks: FxHashMap<u64, Task>,
    pending: BTreeSet<PendingKey>,
    next_task: u64,
    next_reservation: u64,
    next_event: u64,
    next_call: u64,
    scratch: Vec<PendingKey>,
    free: Vec<u32>,
}

impl Simulator {
    /// A center with no tasks at `start_ms`, whose first arrival follows.
    ///
    /// # Panics
    /// When `config` does not validate; use [`Simulator::try_new`] for untrusted input.
    pub fn new(config: SimConfig, seed: u64, start_ms: i64) -> Self {
        match Self::try_new(config, seed, start_ms) {
            Ok(sim) => sim,
            Err(e) => panic!("invalid simulator configuration: {e}"),
        }
    }

    /// [`Simulator::new`] for a configuration that may be invalid.
    pub fn try_new(config: SimConfig, seed: u64, start_ms: i64) -> Result<Self, super::config::ConfigError> {
        config.validate()?;
        let workspace_sid = config.workspace_sid();
        let ws = workspace_sid.as_str();
        let channels: Vec<Channel> = config
            .channels
            .iter()
            .map(|(name, c)| Channel {
                name: name.clone(),
                sid: TaskChannelSid::from_u128(stable_id(&[ws, "channel", name])).to_string(),
                exclusive: c.exclusive,
                priority: c.priority,
                accept: LogNormal::new(c.accept_seconds),
                handle: LogNormal::new(c.handle_seconds),
                wrapup: LogNormal::new(c.wrapup_seconds),
                patience: LogNormal::new(c.patience_seconds),
            })
            .collect();
        let channel_index = |name: &str| channels.iter().position(|c| c.name == name);
        let workflows: Vec<Workflow> = config
            .workflows
            .iter()
            .map(|w| Workflow {
                name: w.name.clone(),
                sid: WorkflowSid::from_u128(stable_id(&[ws, "workflow", &w.name])),
                queue_sid: format!("WQ{:032x}", stable_id(&[ws, "queue", &w.name])),
                timeout_ms: secs_to_ms(w.timeout_seconds),
            })
            .collect();

        let mut agents = Vec::new();
        for g in &config.agents {
            let skills = g
                .skills
                .iter()
                .filter_map(|s| workflows.iter().position(|w| &w.name == s))
                .fold(0u64, |m, q| m | 1 << q);
            let capacity: Vec<u32> = channels.iter().map(|c| g.capacity.get(&c.name).copied().unwrap_or(0)).collect();
            let count = (f64::from(g.count) * config.scale).round() as usize;
            for rank in 0..count {
                let i = agents.len();
                let first = FIRST_NAMES[i % FIRST_NAMES.len()];
                let last = LAST_NAMES[(i / FIRST_NAMES.len() + i * 5) % LAST_NAMES.len()];
                let round = i / (FIRST_NAMES.len() * LAST_NAMES.len());
                let name = if round == 0 { format!("{first} {last}") } else { format!("{first} {last} {}", round + 1) };
                agents.push(Agent {
                    sid: format!("WK{:032x}", stable_id(&[ws, "worker", &i.to_string()])),
                    name,
                    skills,
                    capacity: capacity.clone(),
                    load: vec![0; channels.len()],
                    total: 0,
                    exclusive: 0,
                    available_at_ms: i64::MIN,
                    last_assigned_ms: i64::MIN,
                    rank: rank as u32,
                    group_size: count as u32,
                });
            }
        }

        let mut streams = Vec::new();
        let mut peak_per_hour = 0.0;
        for (wi, w) in config.workflows.iter().enumerate() {
            for (ch, &rate) in &w.arrivals {
                let rate = rate * config.scale;
                if rate <= 0.0 {
                    continue;
                }
                let Some(ci) = channel_index(ch) else { continue };
                peak_per_hour += rate;
                streams.push(Stream { workflow: wi as u16, channel: ci as u16, cumulative: peak_per_hour });
            }
        }
        for s in &mut streams {
            s.cumulative /= peak_per_hour;
        }
        let mut time_of_day = [0.0; 24];
        time_of_day.copy_from_slice(&config.arrivals.time_of_day);
        let mut day_of_week = [0.0; 7];
        day_of_week.copy_from_slice(&config.arrivals.day_of_week);
        let mut staffing = [0.0; 24];
        staffing.copy_from_slice(&config.staffing.time_of_day);
        let mut staffing_days = [0.0; 7];
        staffing_days.copy_from_slice(&config.staffing.day_of_week);
        let peak_multiplier =
            time_of_day.iter().copied().fold(0.0, f64::max) * day_of_week.iter().copied().fold(0.0, f64::max);
        let total_weight: f64 = config.priorities.iter().map(|p| p.weight).sum();
        let mut acc = 0.0;
        let priorities = config
            .priorities
            .iter()
            .map(|p| {
                acc += p.weight / total_weight;
                (p.value, acc)
            })
            .collect();
        let r = &config.reservations;

        let mut sim = Self {
            seed,
            workspace_name: config.workspace.name.clone(),
            workspace_sid,
            channels,
            workflows,
            agents,
            streams,
            peak_per_ms: peak_per_hour * peak_multiplier / HOUR_MS as f64,
            time_of_day,
            day_of_week,
            staffing,
            staffing_days,
            peak_multiplier,
            priorities,
            accept_p: r.accept,
            reject_p: r.reject,
            reservation_timeout_ms: secs_to_ms(r.timeout_seconds),
            reject: LogNormal::new(r.reject_seconds),
            timeout_pause_ms: (r.timeout_pause_seconds * 1000.0).round() as i64,
            move_p: config.moves.probability,
            move_after: LogNormal::new(config.moves.after_seconds),
            delete_p: config.deletions.probability,
            delete_after: LogNormal::new(config.deletions.after_seconds),
            rng: Random::new(seed),
            heap: BinaryHeap::new(),
            seq: 0,
            now_ms: start_ms,
            tasks: FxHashMap::default(),
            pending: BTreeSet::new(),
            next_task: 0,
            next_reservation: 0,
            next_event: 0,
            next_call: 0,
            scratch: Vec::new(),
            free: Vec::new(),
        };
        sim.schedule_next_arrival(start_ms);
        sim.schedule((start_ms.div_euclid(HOUR_MS) + 1) * HOUR_MS, Action::ShiftChange);
        Ok(sim)
    }

    pub fn workspace_sid(&self) -> &WorkspaceSid {
        &self.workspace_sid
    }

    pub fn workspace_name(&self) -> &str {
        &self.workspace_name
    }

    /// The workflows, in configuration order.
    pub fn workflows(&self) -> Vec<(WorkflowSid, String)> {
        self.workflows.iter().map(|w| (w.sid.clone(), w.name.clone())).collect()
    }

    /// The task channels (SID, unique name), sorted by name.
    pub fn task_channels(&self) -> Vec<(TaskChannelSid, String)> {
        self.channels
            .iter()
            .map(|c| (TaskChannelSid::parse(&c.sid).expect("built from a u128"), c.name.clone()))
            .collect()
    }

    /// Number of agents (workers).
    pub fn agent_count(&self) -> usize {
        self.agents.len()
    }

    /// The simulated time reached: every event up to it has been emitted.
    pub fn now_ms(&self) -> i64 {
        self.now_ms
    }

    /// When the next scheduled action runs (it may emit nothing).
    pub fn next_action_ms(&self) -> Option<i64> {
        self.heap.peek().map(|s| s.at_ms)
    }

    /// Tasks created and not yet ended.
    pub fn live_task_count(&self) -> usize {
        self.tasks.len()
    }

    /// Live tasks by status for every workflow, in configuration order.
    pub fn live_counts(&self) -> Vec<(WorkflowSid, LiveCounts)> {
        let mut counts = vec![LiveCounts::default(); self.workflows.len()];
        for t in self.tasks.values() {
            let c = &mut counts[t.workflow as usize];
            match t.status {
                Status::Pending => c.pending += 1,
                Status::Reserved => c.reserved += 1,
                Status::Assigned => c.assigned += 1,
                Status::Wrapping => c.wrapping += 1,
            }
        }
        self.workflows.iter().map(|w| w.sid.clone()).zip(counts).collect()
    }

    /// Runs the simulation up to and including `until_ms`, appending every event stamped
    /// up to then to `out`, in non-decreasing time order. Earlier times are a no-op.
    pub fn advance(&mut self, until_ms: i64, out: &mut Vec<Event>) {
        while let Some(top) = self.heap.peek() {
            if top.at_ms > until_ms {
                break;
            }
            let Scheduled { at_ms, action, .. } = self.heap.pop().expect("peeked");
            self.now_ms = self.now_ms.max(at_ms);
            self.run(at_ms, action, out);
        }
        self.now_ms = self.now_ms.max(until_ms);
    }

    fn schedule(&mut self, at_ms: i64, action: Action) {
        self.seq += 1;
        self.heap.push(Scheduled { at_ms, seq: self.seq, action });
    }

    fn schedule_next_arrival(&mut self, from_ms: i64) {
        if self.peak_per_ms > 0.0 {
            let gap = self.rng.exp(1.0 / self.peak_per_ms);
            self.schedule(from_ms + gap.round() as i64, Action::Arrival);
        }
    }

    /// Arrival-rate multiplier at `t`.
    fn multiplier(&self, t: i64) -> f64 {
        let (hour, weekday) = hour_and_weekday(t);
        self.time_of_day[hour] * self.day_of_week[weekday]
    }

    /// Share of every agent group on shift at `t`.
    fn staffing_share(&self, t: i64) -> f64 {
        let (hour, weekday) = hour_and_weekday(t);
        self.staffing[hour] * self.staffing_days[weekday]
    }

    fn run(&mut self, t: i64, action: Action, out: &mut Vec<Event>) {
        match action {
            Action::Arrival => {
                let pick = self.rng.uniform();
                let keep = self.rng.uniform() * self.peak_multiplier < self.multiplier(t);
                if keep {
                    let s = self
                        .streams
                        .iter()
                        .find(|s| pick < s.cumulative)
                        .or(self.streams.last())
                        .copied()
                        .expect("arrivals are scheduled only with streams");
                    self.arrive(t, s.workflow, s.channel, out);
                    self.dispatch(t, out);
                }
                self.schedule_next_arrival(t);
            }
            Action::Outcome { task, reservation, outcome } => self.outcome(t, task, reservation, outcome, out),
            Action::Wrapup { task } => {
                let Some(tk) = self.tasks.get_mut(&task) else { return };
                tk.status = Status::Wrapping;
                let wrapup = self.channels[tk.channel as usize].wrapup;
                self.emit_task(out, "task.wrapup", t, task, |b| b);
                let d = wrapup.sample_ms(&mut self.rng);
                self.schedule(t + d, Action::Complete { task });
            }
            Action::Complete { task } => {
                self.emit_task(out, "task.completed", t, task, |b| b.field("task_completed_reason", "Task completed"));
                if let Some(tk) = self.tasks.remove(&task)
                    && let Some(a) = tk.agent
                {
                    self.release(a, tk.channel as usize);
                }
                self.dispatch(t, out);
            }
            Action::Abandon { task } => self.cancel(t, task, false, out),
            Action::WorkflowTimeout { task } => self.cancel(t, task, true, out),
            Action::Move { task } => {
                let Some(tk) = self.tasks.get(&task) else { return };
                if tk.status != Status::Pending {
                    return;
                }
                let from = tk.queue as usize;
                let n = self.workflows.len();
                let to = (from + 1 + self.rng.below(n - 1)) % n;
                self.tasks.get_mut(&task).expect("present").queue = to as u16;
                self.emit_task(out, "task-queue.moved", t, task, |b| b);
                self.emit_task(out, "task-queue.entered", t, task, |b| b);
                self.dispatch(t, out);
            }
            Action::Delete { task } => {
                let Some(tk) = self.tasks.get(&task) else { return };
                if tk.status != Status::Pending {
                    return;
                }
                self.pending.remove(&tk.pending_key(task));
                self.emit_task(out, "task.deleted", t, task, |b| b);
                self.tasks.remove(&task);
            }
            Action::AgentBack => self.dispatch(t, out),
            Action::ShiftChange => {
                self.dispatch(t, out);
                self.schedule(t + HOUR_MS, Action::ShiftChange);
            }
        }
    }

    fn arrive(&mut self, t: i64, workflow: u16, channel: u16, out: &mut Vec<Event>) {
        let id = self.next_task;
        self.next_task += 1;
        let ch = &self.channels[channel as usize];
        let (patience, ch_priority, exclusive) = (ch.patience, ch.priority, ch.exclusive);
        let u = self.rng.uniform();
        let drawn = self.priorities.iter().find(|p| u < p.1).or(self.priorities.last()).map_or(0, |p| p.0);
        let priority = (drawn + ch_priority).max(0);
        let attributes = self.attributes(workflow, channel, exclusive);
        let task = Task {
            sid: TaskSid::from_u128(mix(self.seed, KIND_TASK, id)),
            workflow,
            channel,
            queue: workflow,
            priority,
            created_ms: t,
            attributes,
            status: Status::Pending,
            reservation: None,
            agent: None,
            declined: None,
        };
        self.pending.insert(task.pending_key(id));
        self.tasks.insert(id, task);
        self.emit_task(out, "task.created", t, id, |b| b);
        self.emit_task(out, "workflow.entered", t, id, |b| b);
        self.emit_task(out, "task-queue.entered", t, id, |b| b);

        let timeout_ms = self.workflows[workflow as usize].timeout_ms;
        let patience_ms = patience.sample_ms(&mut self.rng);
        if patience_ms < timeout_ms {
            self.schedule(t + patience_ms, Action::Abandon { task: id });
        }
        self.schedule(t + timeout_ms, Action::WorkflowTimeout { task: id });
        if self.workflows.len() > 1 && self.rng.chance(self.move_p) {
            let d = self.move_after.sample_ms(&mut self.rng);
            self.schedule(t + d, Action::Move { task: id });
        }
        if self.rng.chance(self.delete_p) {
            let d = self.delete_after.sample_ms(&mut self.rng);
            self.schedule(t + d, Action::Delete { task: id });
        }
    }

    /// Small, realistic TaskAttributes JSON.
    fn attributes(&mut self, workflow: u16, channel: u16, voice_like: bool) -> String {
        let u = self.rng.uniform();
        let mut acc = 0.0;
        let language = LANGUAGES
            .iter()
            .find(|(_, p)| {
                acc += p;
                u < acc
            })
            .map_or("en", |l| l.0);
        let topic = TOPICS[self.rng.below(TOPICS.len())];
        let customer = 100_000 + self.rng.below(900_000);
        let department = self.workflows[workflow as usize].name.to_lowercase();
        let channel = self.channels[channel as usize].name.clone();
        let attributes = if voice_like {
            let call = mix(self.seed, KIND_CALL, self.next_call);
            self.next_call += 1;
            serde_json::json!({
                "type": "inbound",
                "channel": channel,
                "call_sid": format!("CA{call:032x}"),
                "from": format!("+1555{customer:07}"),
                "to": "+18005550100",
                "department": department,
                "topic": topic,
                "language": language,
            })
        } else {
            serde_json::json!({
                "type": "inbound",
                "channel": channel,
                "customer_id": format!("C{customer}"),
                "name": format!("Customer {customer}"),
                "department": department,
                "topic": topic,
                "language": language,
            })
        };
        attributes.to_string()
    }

    /// Offers pending tasks, in priority then age order, to free skilled agents.
    fn dispatch(&mut self, t: i64, out: &mut Vec<Event>) {
        if self.pending.is_empty() {
            return;
        }
        self.free.clear();
        let share = self.staffing_share(t);
        for (i, a) in self.agents.iter().enumerate() {
            let on_shift = f64::from(a.rank) < (f64::from(a.group_size) * share - 1e-9).ceil();
            if on_shift
                && a.available_at_ms <= t
                && a.exclusive == 0
                && self.channels.iter().enumerate().any(|(c, ch)| a.can_take(c, ch.exclusive))
            {
                self.free.push(i as u32);
            }
        }
        if self.free.is_empty() {
            return;
        }
        let mut keys = std::mem::take(&mut self.scratch);
        keys.clear();
        keys.extend(self.pending.iter().copied());
        for key in &keys {
            let id = key.2;
            let task = &self.tasks[&id];
            let (channel, exclusive) = (task.channel as usize, self.channels[task.channel as usize].exclusive);
            let skill = 1u64 << task.queue;
            let best = self
                .free
                .iter()
                .copied()
                .filter(|&a| {
                    let ag = &self.agents[a as usize];
                    ag.skills & skill != 0 && Some(a) != task.declined && ag.can_take(channel, exclusive)
                })
                .min_by_key(|&a| {
                    // Exclusive work (voice) goes to the agent idle longest; other work is
                    // packed onto agents already busy with it, keeping others free for
                    // exclusive work.
                    let ag = &self.agents[a as usize];
                    let packing = if exclusive { 0 } else { u32::MAX - ag.total };
                    (packing, ag.last_assigned_ms, a)
                });
            let Some(agent) = best else { continue };
            self.reserve(t, id, agent, out);
            let ag = &self.agents[agent as usize];
            if ag.exclusive > 0 || !self.channels.iter().enumerate().any(|(c, ch)| ag.can_take(c, ch.exclusive)) {
                self.free.retain(|&a| a != agent);
                if self.free.is_empty() {
                    break;
                }
            }
        }
        self.scratch = keys;
    }

    fn reserve(&mut self, t: i64, task: u64, agent: u32, out: &mut Vec<Event>) {
        let rid = self.next_reservation;
        self.next_reservation += 1;
        let sid = ReservationSid::from_u128(mix(self.seed, KIND_RESERVATION, rid));
        let tk = self.tasks.get_mut(&task).expect("pending tasks exist");
        let key = tk.pending_key(task);
        tk.status = Status::Reserved;
        tk.reservation = Some(Reservation { id: rid, sid, agent });
        let channel = tk.channel as usize;
        self.pending.remove(&key);
        let exclusive = self.channels[channel].exclusive;
        let ag = &mut self.agents[agent as usize];
        ag.load[channel] += 1;
        ag.total += 1;
        ag.exclusive += u32::from(exclusive);
        ag.last_assigned_ms = t;
        self.emit_reservation(out, "reservation.created", t, task);

        let u = self.rng.uniform();
        let limit = self.reservation_timeout_ms - 1;
        let (outcome, delay) = if u < self.accept_p {
            (Outcome::Accept, self.channels[channel].accept.sample_ms(&mut self.rng).min(limit))
        } else if u < self.accept_p + self.reject_p {
            (Outcome::Reject, self.reject.sample_ms(&mut self.rng).min(limit))
        } else {
            (Outcome::Timeout, self.reservation_timeout_ms)
        };
        self.schedule(t + delay.max(0), Action::Outcome { task, reservation: rid, outcome });
    }

    fn release(&mut self, agent: u32, channel: usize) {
        let exclusive = self.channels[channel].exclusive;
        let ag = &mut self.agents[agent as usize];
        ag.load[channel] -= 1;
        ag.total -= 1;
        ag.exclusive -= u32::from(exclusive);
    }

    fn outcome(&mut self, t: i64, task: u64, reservation: u64, outcome: Outcome, out: &mut Vec<Event>) {
        let Some(tk) = self.tasks.get(&task) else { return };
        let Some(res) = tk.reservation.as_ref().filter(|r| r.id == reservation) else { return };
        let agent = res.agent;
        let channel = tk.channel as usize;
        match outcome {
            Outcome::Accept => {
                let tk = self.tasks.get_mut(&task).expect("present");
                tk.status = Status::Assigned;
                tk.agent = Some(agent);
                self.emit_reservation(out, "reservation.accepted", t, task);
                self.tasks.get_mut(&task).expect("present").reservation = None;
                let d = self.channels[channel].handle.sample_ms(&mut self.rng);
                self.schedule(t + d, Action::Wrapup { task });
            }
            Outcome::Reject | Outcome::Timeout => {
                let tk = self.tasks.get_mut(&task).expect("present");
                tk.status = Status::Pending;
                tk.declined = Some(agent);
                let ty = if outcome == Outcome::Reject { "reservation.rejected" } else { "reservation.timeout" };
                self.emit_reservation(out, ty, t, task);
                let tk = self.tasks.get_mut(&task).expect("present");
                tk.reservation = None;
                let key = tk.pending_key(task);
                self.pending.insert(key);
                self.release(agent, channel);
                if outcome == Outcome::Timeout && self.timeout_pause_ms > 0 {
                    self.agents[agent as usize].available_at_ms = t + self.timeout_pause_ms;
                    self.schedule(t + self.timeout_pause_ms, Action::AgentBack);
                }
                self.dispatch(t, out);
            }
        }
    }

    /// The customer gives up (`by_workflow` false) or the workflow times out: only a task
    /// not yet assigned is canceled.
    fn cancel(&mut self, t: i64, task: u64, by_workflow: bool, out: &mut Vec<Event>) {
        let Some(tk) = self.tasks.get(&task) else { return };
        let freed = match tk.status {
            Status::Pending => {
                self.pending.remove(&tk.pending_key(task));
                None
            }
            Status::Reserved => {
                let agent = tk.reservation.as_ref().map(|r| r.agent);
                let channel = tk.channel as usize;
                self.tasks.get_mut(&task).expect("present").status = Status::Pending;
                self.emit_reservation(out, "reservation.canceled", t, task);
                agent.map(|a| (a, channel))
            }
            Status::Assigned | Status::Wrapping => return,
        };
        let reason = if by_workflow {
            self.emit_task(out, "workflow.timeout", t, task, |b| b);
            "Workflow Timeout"
        } else {
            "Customer abandoned"
        };
        self.emit_task(out, "task.canceled", t, task, |b| b.field("task_canceled_reason", reason));
        self.tasks.remove(&task);
        if let Some((agent, channel)) = freed {
            self.release(agent, channel);
            self.dispatch(t, out);
        }
    }

    fn next_event_sid(&mut self) -> EventSid {
        let n = self.next_event;
        self.next_event += 1;
        EventSid::from_u128(mix(self.seed, KIND_EVENT, n))
    }

    /// The fields every task event carries, as in TaskRouter's callbacks.
    fn task_builder(&self, sid: &EventSid, ty: &str, t: i64, task: &Task) -> EventBuilder {
        let wf = &self.workflows[task.workflow as usize];
        let queue = &self.workflows[task.queue as usize];
        let ch = &self.channels[task.channel as usize];
        let status = match ty {
            "task.completed" => "completed",
            "task.canceled" => "canceled",
            _ => task.status.as_str(),
        };
        EventBuilder::new(ty, sid, t, &self.workspace_sid)
            .field("timestamp_ms", t)
            .field("timestamp", t.div_euclid(1000))
            .field("workspace_name", &self.workspace_name)
            .field("task_sid", &task.sid)
            .field("task_attributes", &task.attributes)
            .field("task_age", (t - task.created_ms) / 1000)
            .field("task_priority", task.priority)
            .field("task_assignment_status", status)
            .field("task_date_created", task.created_ms.div_euclid(1000))
            .field("task_channel_sid", &ch.sid)
            .field("task_channel_unique_name", &ch.name)
            .field("task_queue_sid", &queue.queue_sid)
            .field("task_queue_name", &queue.name)
            .field("workflow_sid", &wf.sid)
            .field("workflow_name", &wf.name)
    }

    fn emit_task(
        &mut self,
        out: &mut Vec<Event>,
        ty: &str,
        t: i64,
        task: u64,
        extra: impl FnOnce(EventBuilder) -> EventBuilder,
    ) {
        let sid = self.next_event_sid();
        let tk = &self.tasks[&task];
        let (resource_type, resource_sid) = match ty {
            "workflow.entered" | "workflow.timeout" => {
                ("workflow", self.workflows[tk.workflow as usize].sid.to_string())
            }
            "task-queue.entered" | "task-queue.moved" => {
                ("taskqueue", self.workflows[tk.queue as usize].queue_sid.clone())
            }
            _ => ("task", tk.sid.to_string()),
        };
        let b = self
            .task_builder(&sid, ty, t, tk)
            .field("event_description", describe(ty, tk.sid.as_str()))
            .field("resource_type", resource_type)
            .field("resource_sid", resource_sid);
        out.push(extra(b).build().expect("the simulator builds valid events"));
    }

    fn emit_reservation(&mut self, out: &mut Vec<Event>, ty: &str, t: i64, task: u64) {
        let sid = self.next_event_sid();
        let tk = &self.tasks[&task];
        let res = tk.reservation.as_ref().expect("reservation events have a reservation");
        let agent = &self.agents[res.agent as usize];
        let e = self
            .task_builder(&sid, ty, t, tk)
            .field("event_description", describe(ty, res.sid.as_str()))
            .field("resource_type", "reservation")
            .field("resource_sid", &res.sid)
            .field("reservation_sid", &res.sid)
            .field("worker_sid", &agent.sid)
            .field("worker_name", &agent.name)
            .build()
            .expect("the simulator builds valid events");
        out.push(e);
    }
}

/// UTC hour of the day and day of the week (Monday 0) of `t`.
fn hour_and_weekday(t: i64) -> (usize, usize) {
    let hour = t.div_euclid(HOUR_MS).rem_euclid(24) as usize;
    // 1970-01-01 was a Thursday: day 0 is index 3 with Monday first.
    let weekday = (t.div_euclid(DAY_MS) + 3).rem_euclid(7) as usize;
    (hour, weekday)
}

fn describe(ty: &str, sid: &str) -> String {
    let what = match ty {
        "task.created" => "created",
        "task.wrapup" => "wrapping up",
        "task.completed" => "completed",
        "task.canceled" => "canceled",
        "task.deleted" => "deleted",
        "workflow.entered" => "entered the workflow",
        "workflow.timeout" => "timed out in the workflow",
        "task-queue.entered" => "entered a task queue",
        "task-queue.moved" => "moved to another task queue",
        "reservation.created" => "created",
        "reservation.accepted" => "accepted",
        "reservation.rejected" => "rejected",
        "reservation.timeout" => "timed out",
        "reservation.canceled" => "canceled",
        _ => "changed",
    };
    if ty.starts_with("reservation.") { format!("Reservation {sid} {what}") } else { format!("Task {sid} {what}") }
}
