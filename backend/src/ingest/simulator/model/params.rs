//! The model's parameters: what a validated [`SimConfig`] becomes once, before the first
//! step (channels and workflows with their SIDs, the roster of workers, the arrival
//! streams, the daily and weekly profiles, the duration distributions).
//!
//! Nothing here changes while the simulation runs, and nothing depends on the seed: the
//! fixed resources of one configuration are the same in every run.

use wallboard_shared::sid::{TaskChannelSid, WorkflowSid, WorkspaceSid};

use super::super::config::{ConfigError, DurationSpec, SimConfig};
use super::super::random::{Random, stable_id};

pub(super) const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;

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

/// A workflow and its task queue (one each, of one name).
#[derive(Debug, Clone)]
pub(super) struct Workflow {
    pub(super) name: String,
    pub(super) sid: WorkflowSid,
    pub(super) queue_sid: String,
    pub(super) timeout_ms: i64,
}

/// A worker as configured: who it is, what it serves, how much at once.
#[derive(Debug, Clone)]
pub(super) struct Worker {
    pub(super) sid: String,
    pub(super) name: String,
    /// Bit `q` set: serves queue `q`.
    pub(super) skills: u64,
    /// Tasks at once, by channel index.
    pub(super) capacity: Vec<u32>,
    /// Place in its group: the first `ceil(share × group_size)` are on shift.
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
    pub(super) workers: Vec<Worker>,
    pub(super) streams: Vec<Stream>,
    /// Peak arrival rate, candidates per millisecond.
    pub(super) peak_per_ms: f64,
    time_of_day: [f64; 24],
    day_of_week: [f64; 7],
    staffing: [f64; 24],
    staffing_days: [f64; 7],
    pub(super) peak_multiplier: f64,
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
                queue_sid: format!("WQ{:032x}", stable_id(&[ws, "queue", &w.name])),
                timeout_ms: secs_to_ms(w.timeout_seconds),
            })
            .collect();

        let mut workers = Vec::new();
        for g in &config.agents {
            let skills = g
                .skills
                .iter()
                .filter_map(|s| workflows.iter().position(|w| &w.name == s))
                .fold(0u64, |m, q| m | 1 << q);
            let capacity: Vec<u32> = channels.iter().map(|c| g.capacity.get(&c.name).copied().unwrap_or(0)).collect();
            let count = (f64::from(g.count) * config.scale).round() as usize;
            for rank in 0..count {
                let i = workers.len();
                let first = FIRST_NAMES[i % FIRST_NAMES.len()];
                let last = LAST_NAMES[(i / FIRST_NAMES.len() + i * 5) % LAST_NAMES.len()];
                let round = i / (FIRST_NAMES.len() * LAST_NAMES.len());
                let name = if round == 0 { format!("{first} {last}") } else { format!("{first} {last} {}", round + 1) };
                workers.push(Worker {
                    sid: format!("WK{:032x}", stable_id(&[ws, "worker", &i.to_string()])),
                    name,
                    skills,
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

        Ok(Self {
            workspace_name: config.workspace.name.clone(),
            workspace_sid,
            channels,
            workflows,
            workers,
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
        })
    }

    /// Arrival-rate multiplier at `t`.
    pub(super) fn multiplier(&self, t: i64) -> f64 {
        let (hour, weekday) = hour_and_weekday(t);
        self.time_of_day[hour] * self.day_of_week[weekday]
    }

    /// Share of every agent group on shift at `t`.
    pub(super) fn staffing_share(&self, t: i64) -> f64 {
        let (hour, weekday) = hour_and_weekday(t);
        self.staffing[hour] * self.staffing_days[weekday]
    }
}

/// UTC hour of the day and day of the week (Monday 0) of `t`.
fn hour_and_weekday(t: i64) -> (usize, usize) {
    let hour = t.div_euclid(HOUR_MS).rem_euclid(24) as usize;
    // 1970-01-01 was a Thursday: day 0 is index 3 with Monday first.
    let weekday = (t.div_euclid(DAY_MS) + 3).rem_euclid(7) as usize;
    (hour, weekday)
}
