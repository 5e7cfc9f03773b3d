//! The discrete-event model: the contact center's state (tasks, reservations, what each
//! agent holds) and its step, the actions of the heap run in (time, sequence) order.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeSet, BinaryHeap};

use rustc_hash::FxHashMap;
use wallboard_shared::sid::{ReservationSid, TaskChannelSid, TaskSid, WorkflowSid, WorkspaceSid};

use super::super::config::{ConfigError, SimConfig};
use super::super::random::{IdKind, Random, mix};
use super::emit::{Emitter, TaskFacts};
use super::params::{Channel, DAY_MS, Params, time_of_day_ms};
use crate::engine::expression::Expression;
use crate::event::{Event, EventBuilder};

/// What an agent holds now; who it is is the [`super::params::Worker`] of the same index.
#[derive(Debug, Clone)]
struct Agent {
    /// `WorkerAttributes` now (a supervisor changes them), as sent.
    attributes: String,
    /// Bit `q` set: queue `q`'s `TargetWorkers` matches the attributes now.
    queues: u128,
    /// Tasks at once, by channel index, now (more during the peak).
    capacity: Vec<u32>,
    /// Tasks held, by channel index.
    load: Vec<u32>,
    total: u32,
    exclusive: u32,
    available_at_ms: i64,
    last_assigned_ms: i64,
    /// The activity it is in (index in `Params::activities`) and since when.
    activity: u16,
    since_ms: i64,
    /// The activity its shift plan wants now; an agent leaves an available activity for
    /// an unavailable one only once it holds no task.
    target: u16,
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
    /// Timed out of its queue, entering the overflow queue a millisecond later (so that
    /// the two events do not share a time): not offered to anyone meanwhile.
    between_queues: bool,
}

impl Task {
    fn pending_key(&self, id: u64) -> PendingKey {
        (Reverse(self.priority), self.created_ms, id)
    }

    /// What its events say of it.
    fn facts<'a>(&'a self, params: &'a Params) -> TaskFacts<'a> {
        TaskFacts {
            sid: &self.sid,
            attributes: &self.attributes,
            priority: self.priority,
            created_ms: self.created_ms,
            status: self.status.as_str(),
            workflow: &params.workflows[self.workflow as usize],
            queue: &params.queues[self.queue as usize],
            channel: &params.channels[self.channel as usize],
        }
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
    /// An agent's pause after a reservation timeout ends.
    AgentBack {
        agent: u32,
    },
    /// A turn of the shift plan starts: agents come on and go off shift, and take breaks.
    Turn,
    /// The run starts: the workspace's activities, queues and workers are created.
    Open,
    /// The daily peak starts (`on`) or ends: capacities and queues change.
    Peak {
        on: bool,
    },
    /// A supervisor changes an agent's attributes.
    SkillChange,
    /// A task still pending in its workflow's queue times out of it.
    Overflow {
        task: u64,
    },
    /// ... and enters the overflow queue.
    EnterOverflow {
        task: u64,
    },
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

/// The simulated contact center. See the documentation of [`super`].
#[derive(Debug, Clone)]
pub struct Simulator {
    seed: u64,
    params: Params,
    emitter: Emitter,
    /// Index-parallel to `params.workers`.
    agents: Vec<Agent>,
    rng: Random,
    heap: BinaryHeap<Scheduled>,
    seq: u64,
    now_ms: i64,
    tasks: FxHashMap<u64, Task>,
    pending: BTreeSet<PendingKey>,
    next_task: u64,
    next_reservation: u64,
    scratch: Vec<PendingKey>,
    free: Vec<u32>,
    /// Each queue's `TargetWorkers` now (text, parsed): the peak widens some.
    expressions: Vec<(String, Expression)>,
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
    pub fn try_new(config: SimConfig, seed: u64, start_ms: i64) -> Result<Self, ConfigError> {
        let params = Params::from_config(&config)?;
        let channels = params.channels.len();
        // A run that starts within the peak starts with the peak's capacities and queues.
        let in_peak = params.peak.is_some_and(|(a, b)| (a..b).contains(&time_of_day_ms(start_ms)));
        let expressions: Vec<(String, Expression)> = params
            .queues
            .iter()
            .zip(params.expressions.iter().zip(&params.peak_expressions))
            .map(|(q, (normal, peak))| match (in_peak, &q.peak_expression, peak) {
                (true, Some(text), Some(e)) => (text.clone(), e.clone()),
                _ => (q.expression.clone(), normal.clone()),
            })
            .collect();
        let agents = params
            .workers
            .iter()
            .map(|w| {
                let activity = params.planned_activity(w, start_ms);
                let capacity =
                    if in_peak { peak_capacity(&w.capacity, &params.peak_extra) } else { w.capacity.clone() };
                let attributes: serde_json::Value =
                    serde_json::from_str(&w.attributes).expect("the attributes are built as JSON");
                Agent {
                    queues: eligibility(&expressions, &attributes),
                    attributes: w.attributes.clone(),
                    capacity,
                    load: vec![0; channels],
                    total: 0,
                    exclusive: 0,
                    available_at_ms: i64::MIN,
                    last_assigned_ms: i64::MIN,
                    activity,
                    since_ms: start_ms,
                    target: activity,
                }
            })
            .collect();
        let mut sim = Self {
            seed,
            params,
            emitter: Emitter::new(seed),
            agents,
            rng: Random::new(seed),
            heap: BinaryHeap::new(),
            seq: 0,
            now_ms: start_ms,
            tasks: FxHashMap::default(),
            pending: BTreeSet::new(),
            next_task: 0,
            next_reservation: 0,
            scratch: Vec::new(),
            free: Vec::new(),
            expressions,
        };
        // Scheduled first, so it runs before anything else at `start_ms`.
        sim.schedule(start_ms, Action::Open);
        sim.schedule_next_arrival(start_ms);
        let slot = sim.params.slot_ms;
        sim.schedule((start_ms.div_euclid(slot) + 1) * slot, Action::Turn);
        if let Some((from, to)) = sim.params.peak {
            let day = start_ms - time_of_day_ms(start_ms);
            let (at, on) = match time_of_day_ms(start_ms) {
                tod if tod < from => (day + from, true),
                tod if tod < to => (day + to, false),
                _ => (day + DAY_MS + from, true),
            };
            sim.schedule(at, Action::Peak { on });
        }
        if let Some(at) = sim.next_skill_change(start_ms) {
            sim.schedule(at, Action::SkillChange);
        }
        Ok(sim)
    }

    pub fn workspace_sid(&self) -> &WorkspaceSid {
        &self.params.workspace_sid
    }

    pub fn workspace_name(&self) -> &str {
        &self.params.workspace_name
    }

    /// The workflows, in configuration order.
    pub fn workflows(&self) -> Vec<(WorkflowSid, String)> {
        self.params.workflows.iter().map(|w| (w.sid.clone(), w.name.clone())).collect()
    }

    /// The task channels (SID, unique name), sorted by name.
    pub fn task_channels(&self) -> Vec<(TaskChannelSid, String)> {
        self.params
            .channels
            .iter()
            .map(|c| (TaskChannelSid::parse(&c.sid).expect("built from a u128"), c.name.clone()))
            .collect()
    }

    /// The workspace's activities (SID, name, available), in configuration order.
    pub fn activities(&self) -> Vec<(String, String, bool)> {
        self.params.activities.iter().map(|a| (a.sid.clone(), a.name.clone(), a.available)).collect()
    }

    /// The task queues (SID, name, `TargetWorkers`): one per workflow in configuration
    /// order, then the overflow queue if any.
    pub fn task_queues(&self) -> Vec<(String, String, String)> {
        self.params.queues.iter().map(|q| (q.sid.clone(), q.name.clone(), q.expression.clone())).collect()
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
        let mut counts = vec![LiveCounts::default(); self.params.workflows.len()];
        for t in self.tasks.values() {
            let c = &mut counts[t.workflow as usize];
            match t.status {
                Status::Pending => c.pending += 1,
                Status::Reserved => c.reserved += 1,
                Status::Assigned => c.assigned += 1,
                Status::Wrapping => c.wrapping += 1,
            }
        }
        self.params.workflows.iter().map(|w| w.sid.clone()).zip(counts).collect()
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

    /// When the next skill change happens after `from_ms`: a Poisson process running only
    /// within the change hours of each day (none when they are off).
    fn next_skill_change(&mut self, from_ms: i64) -> Option<i64> {
        let gap = self.params.skill_change_gap_ms?;
        let (open, close) = self.params.skill_change_hours;
        let mut from = from_ms;
        loop {
            let day = from - time_of_day_ms(from);
            let start = from.max(day + open);
            if start < day + close {
                let at = start + self.rng.exp(gap).round() as i64;
                if at < day + close {
                    return Some(at.max(from_ms + 1));
                }
            }
            // Nothing in today's hours: the process goes on in tomorrow's (memoryless).
            from = day + DAY_MS + open;
        }
    }

    fn schedule_next_arrival(&mut self, from_ms: i64) {
        if self.params.peak_per_ms > 0.0 {
            let gap = self.rng.exp(1.0 / self.params.peak_per_ms);
            self.schedule(from_ms + gap.round() as i64, Action::Arrival);
        }
    }

    fn run(&mut self, t: i64, action: Action, out: &mut Vec<Event>) {
        match action {
            Action::Arrival => {
                let pick = self.rng.uniform();
                let keep = self.rng.uniform() * self.params.peak_multiplier < self.params.multiplier(t);
                if keep {
                    let s = self
                        .params
                        .streams
                        .iter()
                        .find(|s| pick < s.cumulative)
                        .or(self.params.streams.last())
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
                let wrapup = self.params.channels[tk.channel as usize].wrapup;
                self.emit_task(out, "task.wrapup", t, task, |b| b);
                let d = wrapup.sample_ms(&mut self.rng);
                self.schedule(t + d, Action::Complete { task });
            }
            Action::Complete { task } => {
                self.emit_task(out, "task.completed", t, task, |b| b.field("task_completed_reason", "Task completed"));
                if let Some(tk) = self.tasks.remove(&task)
                    && let Some(a) = tk.agent
                {
                    self.release(t, a, tk.channel as usize, out);
                }
                self.dispatch(t, out);
            }
            Action::Abandon { task } => self.cancel(t, task, false, out),
            Action::WorkflowTimeout { task } => self.cancel(t, task, true, out),
            Action::Move { task } => {
                let Some(tk) = self.tasks.get(&task) else { return };
                let n = self.params.workflows.len();
                // Tasks are moved between workflows' queues only (not out of the overflow).
                if tk.status != Status::Pending || tk.between_queues || tk.queue as usize >= n {
                    return;
                }
                let from = tk.queue as usize;
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
            Action::AgentBack { agent } => {
                self.settle(t, agent, out);
                self.dispatch(t, out);
            }
            Action::Turn => {
                for i in 0..self.agents.len() {
                    self.agents[i].target = self.params.planned_activity(&self.params.workers[i], t);
                    self.settle(t, i as u32, out);
                }
                self.dispatch(t, out);
                self.schedule(t + self.params.slot_ms, Action::Turn);
            }
            Action::Open => self.open(t, out),
            Action::Peak { on } => {
                self.set_peak(t, on, out);
                self.dispatch(t, out);
                if let Some((from, to)) = self.params.peak {
                    let day = t - time_of_day_ms(t);
                    self.schedule(if on { day + to } else { day + DAY_MS + from }, Action::Peak { on: !on });
                }
            }
            Action::SkillChange => {
                self.change_skills(t, out);
                self.dispatch(t, out);
                if let Some(at) = self.next_skill_change(t) {
                    self.schedule(at, Action::SkillChange);
                }
            }
            Action::Overflow { task } => {
                let Some(tk) = self.tasks.get(&task) else { return };
                if tk.status != Status::Pending || tk.between_queues || tk.queue != tk.workflow {
                    return;
                }
                self.pending.remove(&tk.pending_key(task));
                self.emit_task(out, "task-queue.timeout", t, task, |b| b);
                self.tasks.get_mut(&task).expect("present").between_queues = true;
                self.schedule(t + 1, Action::EnterOverflow { task });
            }
            Action::EnterOverflow { task } => {
                let Some((queue, _)) = self.params.overflow else { return };
                let Some(tk) = self.tasks.get_mut(&task).filter(|tk| tk.between_queues) else { return };
                tk.between_queues = false;
                tk.queue = queue;
                let key = tk.pending_key(task);
                if tk.status == Status::Pending {
                    self.pending.insert(key);
                }
                self.emit_task(out, "task-queue.entered", t, task, |b| b);
                self.dispatch(t, out);
            }
        }
    }

    fn arrive(&mut self, t: i64, workflow: u16, channel: u16, out: &mut Vec<Event>) {
        let id = self.next_task;
        self.next_task += 1;
        let ch = &self.params.channels[channel as usize];
        let (patience, ch_priority, exclusive) = (ch.patience, ch.priority, ch.exclusive);
        let u = self.rng.uniform();
        let priorities = &self.params.priorities;
        let drawn = priorities.iter().find(|p| u < p.1).or(priorities.last()).map_or(0, |p| p.0);
        let priority = (drawn + ch_priority).max(0);
        let attributes = self.emitter.attributes(
            &mut self.rng,
            &self.params.workflows[workflow as usize],
            &self.params.channels[channel as usize],
            exclusive,
        );
        let task = Task {
            sid: TaskSid::from_u128(mix(self.seed, IdKind::Task, id)),
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
            between_queues: false,
        };
        self.pending.insert(task.pending_key(id));
        self.tasks.insert(id, task);
        self.emit_task(out, "task.created", t, id, |b| b);
        self.emit_task(out, "workflow.entered", t, id, |b| b);
        self.emit_task(out, "task-queue.entered", t, id, |b| b);

        let timeout_ms = self.params.workflows[workflow as usize].timeout_ms;
        let patience_ms = patience.sample_ms(&mut self.rng);
        if patience_ms < timeout_ms {
            self.schedule(t + patience_ms, Action::Abandon { task: id });
        }
        self.schedule(t + timeout_ms, Action::WorkflowTimeout { task: id });
        if self.params.workflows.len() > 1 && self.rng.chance(self.params.move_p) {
            let d = self.params.move_after.sample_ms(&mut self.rng);
            self.schedule(t + d, Action::Move { task: id });
        }
        if self.rng.chance(self.params.delete_p) {
            let d = self.params.delete_after.sample_ms(&mut self.rng);
            self.schedule(t + d, Action::Delete { task: id });
        }
        if let Some((_, after_ms)) = self.params.overflow
            && after_ms < timeout_ms
        {
            self.schedule(t + after_ms, Action::Overflow { task: id });
        }
    }

    /// Whether agent `i` can take any more work on some channel.
    fn has_room(&self, i: usize) -> bool {
        let agent = &self.agents[i];
        self.params.channels.iter().enumerate().any(|(c, ch)| agent.can_take(c, ch.exclusive))
    }

    /// Offers pending tasks, in priority then age order, to free skilled agents.
    fn dispatch(&mut self, t: i64, out: &mut Vec<Event>) {
        if self.pending.is_empty() {
            return;
        }
        self.free.clear();
        let activities = &self.params.activities;
        for (i, a) in self.agents.iter().enumerate() {
            // Only agents in an available activity and staying in one get reservations.
            let taking = activities[a.activity as usize].available && activities[a.target as usize].available;
            if taking && a.available_at_ms <= t && a.exclusive == 0 && self.has_room(i) {
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
            let (channel, exclusive) = (task.channel as usize, self.params.channels[task.channel as usize].exclusive);
            let eligible = 1u128 << task.queue;
            let best = self
                .free
                .iter()
                .copied()
                .filter(|&a| {
                    let ag = &self.agents[a as usize];
                    ag.queues & eligible != 0 && Some(a) != task.declined && ag.can_take(channel, exclusive)
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
            if self.agents[agent as usize].exclusive > 0 || !self.has_room(agent as usize) {
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
        let sid = ReservationSid::from_u128(mix(self.seed, IdKind::Reservation, rid));
        let tk = self.tasks.get_mut(&task).expect("pending tasks exist");
        let key = tk.pending_key(task);
        tk.status = Status::Reserved;
        tk.reservation = Some(Reservation { id: rid, sid, agent });
        let channel = tk.channel as usize;
        self.pending.remove(&key);
        let exclusive = self.params.channels[channel].exclusive;
        let ag = &mut self.agents[agent as usize];
        ag.load[channel] += 1;
        ag.total += 1;
        ag.exclusive += u32::from(exclusive);
        ag.last_assigned_ms = t;
        self.emit_reservation(out, "reservation.created", t, task);

        let u = self.rng.uniform();
        let limit = self.params.reservation_timeout_ms - 1;
        let (outcome, delay) = if u < self.params.accept_p {
            (Outcome::Accept, self.params.channels[channel].accept.sample_ms(&mut self.rng).min(limit))
        } else if u < self.params.accept_p + self.params.reject_p {
            (Outcome::Reject, self.params.reject.sample_ms(&mut self.rng).min(limit))
        } else {
            (Outcome::Timeout, self.params.reservation_timeout_ms)
        };
        self.schedule(t + delay.max(0), Action::Outcome { task, reservation: rid, outcome });
    }

    /// Frees the capacity a task held; an agent waiting to leave its activity may now.
    fn release(&mut self, t: i64, agent: u32, channel: usize, out: &mut Vec<Event>) {
        let exclusive = self.params.channels[channel].exclusive;
        let ag = &mut self.agents[agent as usize];
        ag.load[channel] -= 1;
        ag.total -= 1;
        ag.exclusive -= u32::from(exclusive);
        self.settle(t, agent, out);
    }

    /// Moves an agent to the activity it should be in, if it may: into an available
    /// activity at once, out of one only once it holds no task (it finishes its work
    /// first; it takes no new work meanwhile, see `dispatch`).
    fn settle(&mut self, t: i64, agent: u32, out: &mut Vec<Event>) {
        let ag = &self.agents[agent as usize];
        let want = if ag.available_at_ms > t { self.params.roles.timeout } else { ag.target };
        if want == ag.activity {
            return;
        }
        // TaskRouter moves a worker who let a reservation time out at once, tasks or not.
        let timed_out = want == self.params.roles.timeout && ag.available_at_ms > t;
        if !self.params.activities[want as usize].available && ag.total > 0 && !timed_out {
            return;
        }
        self.change_activity(t, agent, want, out);
    }

    fn change_activity(&mut self, t: i64, agent: u32, to: u16, out: &mut Vec<Event>) {
        let ag = &mut self.agents[agent as usize];
        let (from, since) = (ag.activity, ag.since_ms);
        ag.activity = to;
        ag.since_ms = t;
        let params = &self.params;
        let (prev, next) = (&params.activities[from as usize], &params.activities[to as usize]);
        let in_previous_ms = t - since;
        out.push(self.emitter.worker(
            params,
            "worker.activity.update",
            t,
            &params.workers[agent as usize],
            &self.agents[agent as usize].attributes,
            next,
            |b| {
                b.field("worker_previous_activity_sid", &prev.sid)
                    .field("worker_previous_activity_name", &prev.name)
                    .field("worker_time_in_previous_activity", in_previous_ms.div_euclid(1000))
                    .field("worker_time_in_previous_activity_ms", in_previous_ms)
            },
        ));
        // Logging in and out turns the agent's channels on and off (as a softphone or chat
        // client connecting does); channels without capacity stay off.
        let offline = params.roles.offline;
        if (from == offline) != (to == offline) {
            let (worker, ag) = (&params.workers[agent as usize], &self.agents[agent as usize]);
            for (c, ch) in params.channels.iter().enumerate().filter(|(c, _)| ag.capacity[*c] > 0) {
                let ty = "worker.channel.availability.update";
                out.push(self.emitter.worker(params, ty, t, worker, &ag.attributes, next, |b| {
                    channel_fields(b, ch, ag.capacity[c], ag.load[c]).field("worker_channel_available", to != offline)
                }));
            }
        }
    }

    /// The workspace as it is when the run starts: its activities, task queues and
    /// workers, each worker's channels with their capacity and availability.
    fn open(&mut self, t: i64, out: &mut Vec<Event>) {
        let params = &self.params;
        for a in &params.activities {
            out.push(self.emitter.activity_created(params, t, a));
        }
        for (q, (expression, _)) in params.queues.iter().zip(&self.expressions) {
            out.push(self.emitter.queue(params, "task-queue.created", t, q, expression));
        }
        for (w, ag) in params.workers.iter().zip(&self.agents) {
            let activity = &params.activities[ag.activity as usize];
            let attributes = &ag.attributes;
            out.push(self.emitter.worker(params, "worker.created", t, w, attributes, activity, |b| b));
            let logged_in = ag.activity != params.roles.offline;
            for (c, ch) in params.channels.iter().enumerate() {
                let capacity = ag.capacity[c];
                let channel = |b: EventBuilder| channel_fields(b, ch, capacity, 0);
                out.push(self.emitter.worker(params, "worker.capacity.update", t, w, attributes, activity, |b| {
                    // A new channel starts with capacity 1 (TaskRouter's default).
                    channel(b).field("worker_channel_previous_capacity", 1)
                }));
                let ty = "worker.channel.availability.update";
                out.push(self.emitter.worker(params, ty, t, w, attributes, activity, |b| {
                    channel(b).field("worker_channel_available", capacity > 0 && logged_in)
                }));
            }
        }
    }

    /// The peak starts (`on`) or ends: the agents' capacity on the channels with extra
    /// capacity, and the queues with a peak `TargetWorkers`, change (an agent holding more
    /// than its capacity after the peak keeps its tasks and takes no new one meanwhile).
    fn set_peak(&mut self, t: i64, on: bool, out: &mut Vec<Event>) {
        let params = &self.params;
        for (c, ch) in params.channels.iter().enumerate().filter(|(c, _)| params.peak_extra[*c] > 0) {
            for (w, ag) in params.workers.iter().zip(&mut self.agents) {
                let base = w.capacity[c];
                let now = if on && base > 0 { base + params.peak_extra[c] } else { base };
                let previous = ag.capacity[c];
                if now == previous {
                    continue;
                }
                ag.capacity[c] = now;
                let activity = &params.activities[ag.activity as usize];
                out.push(self.emitter.worker(params, "worker.capacity.update", t, w, &ag.attributes, activity, |b| {
                    channel_fields(b, ch, now, ag.load[c]).field("worker_channel_previous_capacity", previous)
                }));
            }
        }
        for (q, queue) in params.queues.iter().enumerate() {
            let (Some(peak_text), Some(peak)) = (&queue.peak_expression, &params.peak_expressions[q]) else {
                continue;
            };
            let (text, expression) = if on { (peak_text, peak) } else { (&queue.expression, &params.expressions[q]) };
            if &self.expressions[q].0 == text {
                continue;
            }
            self.expressions[q] = (text.clone(), expression.clone());
            out.push(self.emitter.queue(params, "task-queue.expression.updated", t, queue, text));
            for ag in &mut self.agents {
                let attributes: serde_json::Value =
                    serde_json::from_str(&ag.attributes).expect("the attributes are built as JSON");
                ag.queues = (ag.queues & !(1u128 << q)) | (u128::from(expression.matches(&attributes)) << q);
            }
        }
    }

    /// A supervisor changes one agent's attributes: an agent whose attributes differ from
    /// its group's gets them back; any other gets a skill it lacks, loses one of two or
    /// more, or moves one level (1 to 5). Its queues follow their `TargetWorkers`.
    fn change_skills(&mut self, t: i64, out: &mut Vec<Event>) {
        let i = self.rng.below(self.agents.len());
        let base = &self.params.workers[i].attributes;
        let mut attributes: serde_json::Value =
            serde_json::from_str(&self.agents[i].attributes).expect("the attributes are built as JSON");
        if &self.agents[i].attributes != base {
            attributes = serde_json::from_str(base).expect("the attributes are built as JSON");
        } else {
            let skills: Vec<String> = attributes["skills"]
                .as_array()
                .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
                .unwrap_or_default();
            let missing: Vec<&String> = self.params.skills.iter().filter(|s| !skills.contains(s)).collect();
            let u = self.rng.uniform();
            if u < 0.4 && !missing.is_empty() {
                let add = missing[self.rng.below(missing.len())].clone();
                // Kept in the order of the workflows.
                let mut now: Vec<String> =
                    self.params.skills.iter().filter(|s| **s == add || skills.contains(s)).cloned().collect();
                now.dedup();
                attributes["skills"] = serde_json::json!(now);
            } else if u < 0.7 && skills.len() >= 2 {
                let drop = self.rng.below(skills.len());
                let now: Vec<&String> = skills.iter().enumerate().filter(|(k, _)| *k != drop).map(|(_, s)| s).collect();
                attributes["skills"] = serde_json::json!(now);
            } else {
                let level = attributes["level"].as_u64().unwrap_or(1);
                let up = match level {
                    0 | 1 => true,
                    5.. => false,
                    _ => self.rng.chance(0.5),
                };
                attributes["level"] = serde_json::json!(if up { level + 1 } else { level - 1 });
            }
        }
        let text = attributes.to_string();
        let ag = &mut self.agents[i];
        ag.queues = eligibility(&self.expressions, &attributes);
        ag.attributes = text;
        let params = &self.params;
        let activity = &params.activities[ag.activity as usize];
        out.push(self.emitter.worker(
            params,
            "worker.attributes.update",
            t,
            &params.workers[i],
            &ag.attributes,
            activity,
            |b| b,
        ));
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
                let d = self.params.channels[channel].handle.sample_ms(&mut self.rng);
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
                if outcome == Outcome::Timeout && self.params.timeout_pause_ms > 0 {
                    // TaskRouter moves the worker to the timeout activity at once.
                    self.agents[agent as usize].available_at_ms = t + self.params.timeout_pause_ms;
                    self.schedule(t + self.params.timeout_pause_ms, Action::AgentBack { agent });
                }
                self.release(t, agent, channel, out);
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
            self.release(t, agent, channel, out);
            self.dispatch(t, out);
        }
    }

    fn emit_task(
        &mut self,
        out: &mut Vec<Event>,
        ty: &str,
        t: i64,
        task: u64,
        extra: impl FnOnce(EventBuilder) -> EventBuilder,
    ) {
        let facts = self.tasks[&task].facts(&self.params);
        out.push(self.emitter.task(&self.params, ty, t, &facts, extra));
    }

    fn emit_reservation(&mut self, out: &mut Vec<Event>, ty: &str, t: i64, task: u64) {
        let tk = &self.tasks[&task];
        let res = tk.reservation.as_ref().expect("reservation events have a reservation");
        let worker = &self.params.workers[res.agent as usize];
        let agent = &self.agents[res.agent as usize];
        let activity = &self.params.activities[agent.activity as usize];
        let facts = tk.facts(&self.params);
        out.push(self.emitter.reservation(&self.params, ty, t, &facts, &res.sid, worker, &agent.attributes, activity));
    }
}

/// Bit `q` set when queue `q`'s `TargetWorkers` matches `attributes`.
fn eligibility(expressions: &[(String, Expression)], attributes: &serde_json::Value) -> u128 {
    expressions.iter().enumerate().filter(|(_, (_, e))| e.matches(attributes)).fold(0, |m, (q, _)| m | 1 << q)
}

/// Capacities during the peak: `extra` more on every channel with some.
fn peak_capacity(base: &[u32], extra: &[u32]) -> Vec<u32> {
    base.iter().zip(extra).map(|(&b, &x)| if b > 0 { b + x } else { b }).collect()
}

/// The Worker Channel fields of a channel with `capacity`, `tasks` of which are taken.
fn channel_fields(b: EventBuilder, channel: &Channel, capacity: u32, tasks: u32) -> EventBuilder {
    b.field("task_channel_sid", &channel.sid)
        .field("task_channel_unique_name", &channel.name)
        .field("worker_channel_capacity", capacity)
        .field("worker_channel_available_capacity", capacity.saturating_sub(tasks))
        .field("worker_channel_task_count", tasks)
}
