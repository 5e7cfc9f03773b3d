//! The model's parameters: what a validated [`SimConfig`] becomes once, before the first
//! step (channels and workflows with their SIDs, the roster of workers, the arrival
//! streams, the daily and weekly profiles, the duration distributions), with the
//! workspace's activities, task queues and the agents' attributes and eligibility.
//!
//! Nothing here changes while the simulation runs, and nothing depends on the seed: the
//! fixed resources of one configuration are the same in every run. What the run changes
//! (an agent's attributes and capacity, a queue's `TargetWorkers` at the peak) starts from
//! the values here and lives in the model's state.

use wallboard_shared::sid::{TaskChannelSid, WorkflowSid, WorkspaceSid};

use super::super::config::{ConfigError, DurationSpec, SimConfig};
use super::super::random::{Random, stable_id};
use crate::engine::expression::Expression;

pub(super) const HOUR_MS: i64 = 3_600_000;
pub(super) const DAY_MS: i64 = 86_400_000;

/// A lognormal duration with a given mean and standard deviation, in milliseconds.
#[derive(Debug, Clone, Copy)]
pub(super) struct LogNormal {
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

    pub(super) fn sample_ms(&self, rng: &mut Random) -> i64 {
        let s = if self.sigma == 0.0 { self.mu.exp() } else { (self.mu + self.sigma * rng.normal()).exp() };
        secs_to_ms(s.min(self.max_s))
    }
}

fn secs_to_ms(s: f64) -> i64 {
    (s * 1000.0).round().max(1.0) as i64
}

/// A task channel (voice, chat, ...), sorted by unique name.
#[derive(Debug, Clone)]
pub(super) struct Channel {
    pub(super) name: String,
    pub(super) sid: String,
    pub(super) exclusive: bool,
    pub(super) priority: i64,
    pub(super) accept: LogNormal,
    pub(super) handle: LogNormal,
    pub(super) wrapup: LogNormal,
    pub(super) patience: LogNormal,
}

/// A workflow; its task queue, of the same name, is the queue of the same index.
#[derive(Debug, Clone)]
pub(super) struct Workflow {
    pub(super) name: String,
    pub(super) sid: WorkflowSid,
    pub(super) timeout_ms: i64,
}

/// A task queue: one per workflow (same index), then the overflow queue if any.
#[derive(Debug, Clone)]
pub(super) struct Queue {
    pub(super) name: String,
    pub(super) sid: String,
    /// `TargetWorkers`.
    pub(super) expression: String,
    /// `TargetWorkers` during the daily peak, if it changes then.
    pub(super) peak_expression: Option<String>,
}

/// An activity of the workspace.
#[derive(Debug, Clone)]
pub(super) struct Activity {
    pub(super) name: String,
    pub(super) sid: String,
    pub(super) available: bool,
}

/// The activities of each role in a shift, by index in [`Params::activities`].
#[derive(Debug, Clone, Copy)]
pub(super) struct Roles {
    pub(super) available: u16,
    pub(super) offline: u16,
    pub(super) rest: u16,
    pub(super) lunch: u16,
    pub(super) training: u16,
    pub(super) timeout: u16,
}

/// A worker as configured: who it is, what it serves, how much at once (as the run
/// starts; the model's agent holds what changes).
#[derive(Debug, Clone)]
pub(super) struct Worker {
    pub(super) sid: String,
    pub(super) name: String,
    /// `WorkerAttributes` JSON.
    pub(super) attributes: String,
    /// Tasks at once, by channel index.
    pub(super) capacity: Vec<u32>,
    /// Place in its group: the first `ceil(share × group_size)` take work, a few more are
    /// logged in and rest in turns (see [`Params::planned_activity`]).
    pub(super) rank: u32,
    pub(super) group_size: u32,
}

/// One arrival stream: a workflow on a channel.
#[derive(Debug, Clone, Copy)]
pub(super) struct Stream {
    pub(super) workflow: u16,
    pub(super) channel: u16,
    /// Cumulative share of the peak rate, for picking a stream with one uniform draw.
    pub(super) cumulative: f64,
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

/// Everything the model reads and never changes.
#[derive(Debug, Clone)]
pub(super) struct Params {
    pub(super) workspace_sid: WorkspaceSid,
    pub(super) workspace_name: String,
    pub(super) channels: Vec<Channel>,
    pub(super) workflows: Vec<Workflow>,
    pub(super) queues: Vec<Queue>,
    pub(super) activities: Vec<Activity>,
    pub(super) roles: Roles,
    /// Extra agents logged in per agent the staffing asks for (they take turns resting).
    pub(super) rest_share: f64,
    pub(super) slot_ms: i64,
    lunch_hours: [bool; 24],
    training_every: u32,
    /// The overflow queue's index and when a pending task overflows to it.
    pub(super) overflow: Option<(u16, i64)>,
    pub(super) workers: Vec<Worker>,
    pub(super) streams: Vec<Stream>,
    /// Peak arrival rate, candidates per millisecond.
    pub(super) peak_per_ms: f64,
    time_of_day: [f64; 24],
    day_of_week: [f64; 7],
    staffing: [f64; 24],
    staffing_days: [f64; 7],
    pub(super) peak_multiplier: f64,
    /// Parsed `TargetWorkers` of each queue, and during the peak.
    pub(super) expressions: Vec<Expression>,
    pub(super) peak_expressions: Vec<Option<Expression>>,
    /// The daily peak, `[start, end)` in milliseconds of the UTC day, when anything changes then.
    pub(super) peak: Option<(i64, i64)>,
    /// Extra capacity per channel (index) during the peak.
    pub(super) peak_extra: Vec<u32>,
    /// Skills a supervisor may give (the workflows' names in lower case).
    pub(super) skills: Vec<String>,
    /// Skill changes: mean gap within their hours (ms), and those hours in ms of the day.
    pub(super) skill_change_gap_ms: Option<f64>,
    pub(super) skill_change_hours: (i64, i64),
    /// (priority, cumulative probability), for drawing with one uniform number.
    pub(super) priorities: Vec<(i64, f64)>,
    pub(super) accept_p: f64,
    pub(super) reject_p: f64,
    pub(super) reservation_timeout_ms: i64,
    pub(super) reject: LogNormal,
    pub(super) timeout_pause_ms: i64,
    pub(super) move_p: f64,
    pub(super) move_after: LogNormal,
    pub(super) delete_p: f64,
    pub(super) delete_after: LogNormal,
}

impl Params {
    /// Validates `config` and derives the parameters from it.
    pub(super) fn from_config(config: &SimConfig) -> Result<Self, ConfigError> {
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
                timeout_ms: secs_to_ms(w.timeout_seconds),
            })
            .collect();
        let queue = |name: &str, expression: String, peak_expression: Option<String>| Queue {
            name: name.to_owned(),
            sid: format!("WQ{:032x}", stable_id(&[ws, "queue", name])),
            expression,
            peak_expression,
        };
        let mut queues: Vec<Queue> = config
            .workflows
            .iter()
            .map(|w| queue(&w.name, w.target_workers(), w.peak_target_workers.clone()))
            .collect();
        let overflow = (config.overflow.after_seconds > 0.0).then(|| {
            let o = &config.overflow;
            queues.push(queue(&o.name, o.target_workers.clone(), o.peak_target_workers.clone()));
            ((queues.len() - 1) as u16, secs_to_ms(config.overflow.after_seconds))
        });
        // `validate` parsed every expression.
        let parsed: Vec<Expression> = queues
            .iter()
            .map(|q| Expression::parse(&q.expression).map_err(|e| ConfigError::Invalid(e.to_string())))
            .collect::<Result<_, _>>()?;
        let peak_expressions: Vec<Option<Expression>> = queues
            .iter()
            .map(|q| q.peak_expression.as_deref().map(Expression::parse).transpose())
            .collect::<Result<_, _>>()
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        let activities: Vec<Activity> = config
            .activities
            .iter()
            .map(|a| Activity {
                name: a.name.clone(),
                sid: format!("WA{:032x}", stable_id(&[ws, "activity", &a.name])),
                available: a.available,
            })
            .collect();
        let role = |name: &str| {
            activities
                .iter()
                .position(|a| a.name == name)
                .map(|i| i as u16)
                .ok_or_else(|| ConfigError::Invalid(format!("no activity is named '{name}'")))
        };
        let sh = &config.shifts;
        let roles = Roles {
            available: role(&sh.available_activity)?,
            offline: role(&sh.offline_activity)?,
            rest: role(&sh.break_activity)?,
            lunch: role(&sh.lunch_activity)?,
            training: role(&sh.training_activity)?,
            timeout: role(&sh.timeout_activity)?,
        };
        let mut lunch_hours = [false; 24];
        for &h in &sh.lunch_hours {
            if let Some(slot) = lunch_hours.get_mut(h as usize) {
                *slot = true;
            }
        }

        let mut workers = Vec::new();
        for g in &config.agents {
            let capacity: Vec<u32> = channels.iter().map(|c| g.capacity.get(&c.name).copied().unwrap_or(0)).collect();
            let count = (f64::from(g.count) * config.scale).round() as usize;
            for rank in 0..count {
                let i = workers.len();
                let first = FIRST_NAMES[i % FIRST_NAMES.len()];
                let last = LAST_NAMES[(i / FIRST_NAMES.len() + i * 5) % LAST_NAMES.len()];
                let round = i / (FIRST_NAMES.len() * LAST_NAMES.len());
                let name = if round == 0 { format!("{first} {last}") } else { format!("{first} {last} {}", round + 1) };
                let attributes = g.attributes(rank as u32);
                workers.push(Worker {
                    sid: format!("WK{:032x}", stable_id(&[ws, "worker", &i.to_string()])),
                    name,
                    attributes: attributes.to_string(),
                    capacity: capacity.clone(),
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
        let peak_extra: Vec<u32> =
            channels.iter().map(|c| config.peak.extra_capacity.get(&c.name).copied().unwrap_or(0)).collect();
        let hours = |h: &[u32]| (i64::from(h[0]) * HOUR_MS, i64::from(h[1]) * HOUR_MS);
        let peak_changes = peak_extra.iter().any(|&x| x > 0) || peak_expressions.iter().any(Option::is_some);
        let sc = &config.skill_changes;
        let skill_change_hours = hours(&sc.hours);
        let skill_change_gap_ms = (sc.per_day > 0.0 && !workers.is_empty())
            .then(|| (skill_change_hours.1 - skill_change_hours.0) as f64 / sc.per_day);

        Ok(Self {
            workspace_name: config.workspace.name.clone(),
            workspace_sid,
            channels,
            workflows,
            queues,
            activities,
            roles,
            rest_share: sh.rest_share,
            slot_ms: i64::from(sh.slot_minutes) * 60_000,
            lunch_hours,
            training_every: sh.training_every,
            overflow,
            workers,
            streams,
            peak_per_ms: peak_per_hour * peak_multiplier / HOUR_MS as f64,
            time_of_day,
            day_of_week,
            staffing,
            staffing_days,
            peak_multiplier,
            expressions: parsed,
            peak_expressions,
            peak: peak_changes.then(|| hours(&config.peak.hours)),
            peak_extra,
            skills: config.workflows.iter().map(|w| w.name.to_lowercase()).collect(),
            skill_change_gap_ms,
            skill_change_hours,
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
        })
    }

    /// Arrival-rate multiplier at `t`.
    pub(super) fn multiplier(&self, t: i64) -> f64 {
        let (hour, weekday) = hour_and_weekday(t);
        self.time_of_day[hour] * self.day_of_week[weekday]
    }

    /// Share of every agent group taking work (in the available activity) at `t`.
    pub(super) fn staffing_share(&self, t: i64) -> f64 {
        let (hour, weekday) = hour_and_weekday(t);
        self.staffing[hour] * self.staffing_days[weekday]
    }
}

impl Params {
    /// The activity `worker` should be in during the turn that holds `t` (turns start at
    /// multiples of `slot_ms`): the staffing share of its group is available, `rest_share`
    /// more are logged in and take turns resting, the rest of the group is offline.
    pub(super) fn planned_activity(&self, worker: &Worker, t: i64) -> u16 {
        let size = f64::from(worker.group_size);
        let needed = (size * self.staffing_share(t) - 1e-9).ceil();
        let logged = (needed * (1.0 + self.rest_share) - 1e-9).ceil().min(size);
        let (rank, needed, logged) = (i64::from(worker.rank), needed as i64, logged as i64);
        if rank >= logged {
            return self.roles.offline;
        }
        let extra = logged - needed;
        if extra == 0 {
            return self.roles.available;
        }
        // A block of `extra` ranks rests, moving on by `extra` every turn: each logged-in
        // agent rests one turn in `logged / extra`.
        let turn = t.div_euclid(self.slot_ms);
        if (rank + turn * extra).rem_euclid(logged) >= extra {
            return self.roles.available;
        }
        let (hour, _) = hour_and_weekday(t);
        if self.lunch_hours[hour] {
            self.roles.lunch
        } else if (rank + turn).rem_euclid(i64::from(self.training_every)) == 0 {
            self.roles.training
        } else {
            self.roles.rest
        }
    }
}

/// Milliseconds since the start of the UTC day of `t`.
pub(super) fn time_of_day_ms(t: i64) -> i64 {
    t.rem_euclid(DAY_MS)
}

/// UTC hour of the day and day of the week (Monday 0) of `t`.
fn hour_and_weekday(t: i64) -> (usize, usize) {
    let hour = t.div_euclid(HOUR_MS).rem_euclid(24) as usize;
    // 1970-01-01 was a Thursday: day 0 is index 3 with Monday first.
    let weekday = (t.div_euclid(DAY_MS) + 3).rem_euclid(7) as usize;
    (hour, weekday)
}
