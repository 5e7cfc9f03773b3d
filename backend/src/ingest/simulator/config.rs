//! The simulator's parameters: `simulator.toml` at the repository root is both the
//! documentation and the embedded default.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::OnceLock;

use serde::Deserialize;
use wallboard_shared::sid::WorkspaceSid;

use super::random::stable_id;
use crate::engine::expression::Expression;

/// The default configuration, as shipped (`simulator.toml` at the repository root).
pub const DEFAULT_TOML: &str = include_str!("../../../../simulator.toml");

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read simulator config {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("simulator config is not valid TOML for this schema: {0}")]
    Parse(String),
    #[error("simulator config: {0}")]
    Invalid(String),
}

fn invalid(msg: impl Into<String>) -> ConfigError {
    ConfigError::Invalid(msg.into())
}

/// Everything the simulated contact center is made of. See `simulator.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimConfig {
    /// Multiplies every arrival rate and every agent group's head count.
    #[serde(default = "default_scale")]
    pub scale: f64,
    #[serde(default = "defaults::workspace")]
    pub workspace: WorkspaceConfig,
    #[serde(default = "defaults::arrivals")]
    pub arrivals: ArrivalsConfig,
    #[serde(default = "defaults::staffing")]
    pub staffing: StaffingConfig,
    #[serde(default = "defaults::priorities")]
    pub priorities: Vec<PriorityWeight>,
    #[serde(default = "defaults::reservations")]
    pub reservations: ReservationsConfig,
    #[serde(default = "defaults::moves")]
    pub moves: DelayedChance,
    #[serde(default = "defaults::deletions")]
    pub deletions: DelayedChance,
    /// By TaskChannelUniqueName.
    #[serde(default = "defaults::channels")]
    pub channels: BTreeMap<String, ChannelConfig>,
    #[serde(default = "defaults::workflows")]
    pub workflows: Vec<WorkflowConfig>,
    #[serde(default = "defaults::agents")]
    pub agents: Vec<AgentGroup>,
    /// The workspace's activities (`activity.created` at the start of a run).
    #[serde(default = "defaults::activities")]
    pub activities: Vec<ActivityConfig>,
    /// Which activity agents are in, and when (shifts, breaks, lunch, training).
    #[serde(default = "defaults::shifts")]
    pub shifts: ShiftsConfig,
    /// The queue a task still waiting in its workflow's queue overflows to.
    #[serde(default = "defaults::overflow")]
    pub overflow: OverflowConfig,
    /// The daily peak: extra channel capacity, widened task queues.
    #[serde(default = "defaults::peak")]
    pub peak: PeakConfig,
    /// A supervisor's changes to a few agents' skills and levels during the day.
    #[serde(default = "defaults::skill_changes")]
    pub skill_changes: SkillChangesConfig,
}

fn default_scale() -> f64 {
    1.0
}

/// Lazy per-section defaults taken from the embedded file. The embedded file has every
/// section, so parsing it never calls these (no recursion).
mod defaults {
    use super::*;

    pub fn workspace() -> WorkspaceConfig {
        SimConfig::embedded().workspace.clone()
    }
    pub fn arrivals() -> ArrivalsConfig {
        SimConfig::embedded().arrivals.clone()
    }
    pub fn staffing() -> StaffingConfig {
        SimConfig::embedded().staffing.clone()
    }
    pub fn priorities() -> Vec<PriorityWeight> {
        SimConfig::embedded().priorities.clone()
    }
    pub fn reservations() -> ReservationsConfig {
        SimConfig::embedded().reservations.clone()
    }
    pub fn moves() -> DelayedChance {
        SimConfig::embedded().moves.clone()
    }
    pub fn deletions() -> DelayedChance {
        SimConfig::embedded().deletions.clone()
    }
    pub fn channels() -> BTreeMap<String, ChannelConfig> {
        SimConfig::embedded().channels.clone()
    }
    pub fn workflows() -> Vec<WorkflowConfig> {
        SimConfig::embedded().workflows.clone()
    }
    pub fn agents() -> Vec<AgentGroup> {
        SimConfig::embedded().agents.clone()
    }
    pub fn activities() -> Vec<ActivityConfig> {
        SimConfig::embedded().activities.clone()
    }
    pub fn shifts() -> ShiftsConfig {
        SimConfig::embedded().shifts.clone()
    }
    pub fn overflow() -> OverflowConfig {
        SimConfig::embedded().overflow.clone()
    }
    pub fn peak() -> PeakConfig {
        SimConfig::embedded().peak.clone()
    }
    pub fn skill_changes() -> SkillChangesConfig {
        SimConfig::embedded().skill_changes.clone()
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceConfig {
    pub name: String,
    /// Derived from the name when absent.
    #[serde(default)]
    pub sid: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArrivalsConfig {
    /// 24 multipliers, one per UTC hour.
    pub time_of_day: Vec<f64>,
    /// 7 multipliers, Monday first.
    pub day_of_week: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffingConfig {
    /// 24 shares (0 to 1) of every agent group taking work, one per UTC hour.
    pub time_of_day: Vec<f64>,
    /// 7 factors of those shares, Monday first (UTC days).
    pub day_of_week: Vec<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriorityWeight {
    pub value: i64,
    pub weight: f64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReservationsConfig {
    pub accept: f64,
    pub reject: f64,
    pub timeout: f64,
    pub timeout_seconds: f64,
    pub reject_seconds: DurationSpec,
    pub timeout_pause_seconds: f64,
}

/// Something that happens to a share of tasks some time after their creation.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DelayedChance {
    pub probability: f64,
    pub after_seconds: DurationSpec,
}

/// A lognormal duration in seconds with this mean and standard deviation.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DurationSpec {
    pub mean: f64,
    pub sd: f64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelConfig {
    #[serde(default)]
    pub exclusive: bool,
    #[serde(default)]
    pub priority: i64,
    pub accept_seconds: DurationSpec,
    pub handle_seconds: DurationSpec,
    pub wrapup_seconds: DurationSpec,
    pub patience_seconds: DurationSpec,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkflowConfig {
    /// The workflow's and its task queue's name.
    pub name: String,
    pub timeout_seconds: f64,
    /// Tasks per hour at multiplier 1.0, by channel unique name.
    pub arrivals: BTreeMap<String, f64>,
    /// Its task queue's `TargetWorkers`; absent: `skills HAS '<name in lower case>'`.
    #[serde(default)]
    pub target_workers: Option<String>,
    /// Its task queue's `TargetWorkers` during the daily peak ([`PeakConfig`]); absent: unchanged.
    #[serde(default)]
    pub peak_target_workers: Option<String>,
}

impl WorkflowConfig {
    /// The `TargetWorkers` expression of its task queue.
    pub fn target_workers(&self) -> String {
        self.target_workers.clone().unwrap_or_else(|| format!("skills HAS '{}'", self.name.to_lowercase()))
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivityConfig {
    pub name: String,
    /// `ActivityAvailable`: whether workers in it get reservations.
    pub available: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShiftsConfig {
    /// The activity of agents taking work (must be available).
    pub available_activity: String,
    /// The activity of agents off shift (the others must be unavailable).
    pub offline_activity: String,
    pub break_activity: String,
    pub lunch_activity: String,
    pub training_activity: String,
    /// Where an agent who let a reservation time out goes for `reservations.timeout_pause_seconds`.
    pub timeout_activity: String,
    /// Agents logged in on top of those the staffing share asks for, as a share of them:
    /// these take the breaks, lunches and training, in turns.
    pub rest_share: f64,
    /// Length of a turn (a break), in minutes; divides 60.
    pub slot_minutes: u32,
    /// UTC hours whose turns are lunch rather than a break.
    pub lunch_hours: Vec<u32>,
    /// One turn in this many is training rather than a break.
    pub training_every: u32,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverflowConfig {
    /// The overflow queue's name.
    pub name: String,
    /// Its `TargetWorkers` expression.
    pub target_workers: String,
    /// Seconds a task may wait pending in its workflow's queue before it times out of it
    /// (`task-queue.timeout`) and enters the overflow queue; 0 turns overflow off.
    pub after_seconds: f64,
    /// Its `TargetWorkers` during the daily peak; absent: unchanged.
    #[serde(default)]
    pub peak_target_workers: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeakConfig {
    /// UTC hours `[start, end)` of the daily peak.
    pub hours: Vec<u32>,
    /// Extra tasks at once per channel during the peak, for the agents whose capacity on
    /// it is above 0 (`worker.capacity.update` when the peak starts and when it ends).
    #[serde(default)]
    pub extra_capacity: BTreeMap<String, u32>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkillChangesConfig {
    /// Changes a day on average (a Poisson process within `hours`); 0 turns them off.
    pub per_day: f64,
    /// UTC hours `[start, end)` in which they happen.
    pub hours: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentGroup {
    pub count: u32,
    /// Names of the workflows whose queue these agents serve.
    pub skills: Vec<String>,
    /// Tasks at once per channel unique name.
    pub capacity: BTreeMap<String, u32>,
    /// The `languages` of their attributes.
    #[serde(default = "default_languages")]
    pub languages: Vec<String>,
}

fn default_languages() -> Vec<String> {
    vec!["en".to_owned()]
}

/// Levels (1 to 5) cycle with the rank in a group.
const LEVELS: u32 = 5;

impl AgentGroup {
    /// `WorkerAttributes` of the agent of this rank: skills (the workflows served, in lower
    /// case), languages and a level from 1 to 5.
    pub fn attributes(&self, rank: u32) -> serde_json::Value {
        let skills: Vec<String> = self.skills.iter().map(|s| s.to_lowercase()).collect();
        serde_json::json!({
            "skills": skills,
            "languages": self.languages,
            "level": 1 + (rank + 2) % LEVELS,
        })
    }
}

impl Default for SimConfig {
    /// The contents of `simulator.toml`.
    fn default() -> Self {
        Self::embedded().clone()
    }
}

const MAX_AGENTS: f64 = 100_000.0;
const MAX_SECONDS: f64 = 30.0 * 86_400.0;

impl SimConfig {
    fn embedded() -> &'static SimConfig {
        static CONFIG: OnceLock<SimConfig> = OnceLock::new();
        CONFIG.get_or_init(|| toml::from_str(DEFAULT_TOML).expect("the embedded simulator.toml parses (tested)"))
    }

    /// Parses and validates a configuration file's contents.
    pub fn from_toml_str(s: &str) -> Result<Self, ConfigError> {
        let config: SimConfig = toml::from_str(s).map_err(|e| ConfigError::Parse(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Reads, parses and validates a configuration file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.display().to_string(), source })?;
        Self::from_toml_str(&text).map_err(|e| match e {
            ConfigError::Parse(m) => ConfigError::Parse(format!("{}: {m}", path.display())),
            ConfigError::Invalid(m) => ConfigError::Invalid(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    /// The workspace SID in force: the configured one or one derived from the name.
    pub fn workspace_sid(&self) -> WorkspaceSid {
        match self.workspace.sid.as_deref().map(WorkspaceSid::parse) {
            Some(Ok(sid)) => sid,
            _ => WorkspaceSid::from_u128(stable_id(&["workspace", &self.workspace.name])),
        }
    }

    /// Checks every parameter; the error names the offending one.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_positive("scale", self.scale)?;
        if self.workspace.name.trim().is_empty() {
            return Err(invalid("workspace.name must not be empty"));
        }
        if let Some(sid) = &self.workspace.sid {
            WorkspaceSid::parse(sid).map_err(|e| invalid(format!("workspace.sid: {e}")))?;
        }
        check_profile("arrivals.time_of_day", &self.arrivals.time_of_day, 24)?;
        check_profile("arrivals.day_of_week", &self.arrivals.day_of_week, 7)?;
        check_profile("staffing.time_of_day", &self.staffing.time_of_day, 24)?;
        check_profile("staffing.day_of_week", &self.staffing.day_of_week, 7)?;
        let shares = self.staffing.time_of_day.iter().map(|s| ("time_of_day", s));
        for (i, (what, &share)) in
            shares.chain(self.staffing.day_of_week.iter().map(|s| ("day_of_week", s))).enumerate()
        {
            if !(share > 0.0 && share <= 1.0) {
                let i = if what == "time_of_day" { i } else { i - 24 };
                return Err(invalid(format!("staffing.{what}[{i}] must be above 0 and at most 1 (got {share})")));
            }
        }

        if self.priorities.is_empty() {
            return Err(invalid("priorities: give at least one { value, weight }"));
        }
        for (i, p) in self.priorities.iter().enumerate() {
            check_non_negative(&format!("priorities[{i}].weight"), p.weight)?;
            if !(0..=1_000_000).contains(&p.value) {
                return Err(invalid(format!("priorities[{i}].value must be between 0 and 1000000")));
            }
        }
        if self.priorities.iter().map(|p| p.weight).sum::<f64>() <= 0.0 {
            return Err(invalid("priorities: the weights must not all be zero"));
        }

        let r = &self.reservations;
        for (name, p) in [("accept", r.accept), ("reject", r.reject), ("timeout", r.timeout)] {
            check_probability(&format!("reservations.{name}"), p)?;
        }
        let sum = r.accept + r.reject + r.timeout;
        if (sum - 1.0).abs() > 1e-6 {
            return Err(invalid(format!("reservations: accept + reject + timeout must be 1 (they add up to {sum})")));
        }
        if r.accept <= 0.0 {
            return Err(invalid("reservations.accept must be above 0, or no task is ever handled"));
        }
        check_seconds("reservations.timeout_seconds", r.timeout_seconds, true)?;
        check_duration("reservations.reject_seconds", r.reject_seconds)?;
        check_seconds("reservations.timeout_pause_seconds", r.timeout_pause_seconds, false)?;

        for (name, c) in [("moves", &self.moves), ("deletions", &self.deletions)] {
            check_probability(&format!("{name}.probability"), c.probability)?;
            check_duration(&format!("{name}.after_seconds"), c.after_seconds)?;
        }

        if self.channels.is_empty() {
            return Err(invalid("channels: give at least one channel"));
        }
        for (name, c) in &self.channels {
            check_name(&format!("channels.{name}"), name)?;
            check_duration(&format!("channels.{name}.accept_seconds"), c.accept_seconds)?;
            check_duration(&format!("channels.{name}.handle_seconds"), c.handle_seconds)?;
            check_duration(&format!("channels.{name}.wrapup_seconds"), c.wrapup_seconds)?;
            check_duration(&format!("channels.{name}.patience_seconds"), c.patience_seconds)?;
            if !(-1_000_000..=1_000_000).contains(&c.priority) {
                return Err(invalid(format!("channels.{name}.priority must be between -1000000 and 1000000")));
            }
        }

        if self.workflows.is_empty() {
            return Err(invalid("workflows: give at least one workflow"));
        }
        if self.workflows.len() > 64 {
            return Err(invalid("workflows: at most 64"));
        }
        let mut names = BTreeSet::new();
        for (i, w) in self.workflows.iter().enumerate() {
            check_name(&format!("workflows[{i}].name"), &w.name)?;
            if !names.insert(w.name.as_str()) {
                return Err(invalid(format!("workflows: the name '{}' is used twice", w.name)));
            }
            check_seconds(&format!("workflows[{i}].timeout_seconds"), w.timeout_seconds, true)?;
            for (ch, &rate) in &w.arrivals {
                if !self.channels.contains_key(ch) {
                    return Err(invalid(format!("workflows[{i}].arrivals: unknown channel '{ch}'")));
                }
                check_non_negative(&format!("workflows[{i}].arrivals.{ch}"), rate)?;
                if rate > 1e7 {
                    return Err(invalid(format!("workflows[{i}].arrivals.{ch} is too large")));
                }
            }
        }
        if self.moves.probability > 0.0 && self.workflows.len() < 2 {
            return Err(invalid("moves.probability must be 0 with a single workflow (no queue to move to)"));
        }

        let mut agents = 0.0;
        for (i, g) in self.agents.iter().enumerate() {
            for s in &g.skills {
                if !names.contains(s.as_str()) {
                    return Err(invalid(format!("agents[{i}].skills: unknown workflow '{s}'")));
                }
            }
            for (ch, &cap) in &g.capacity {
                if !self.channels.contains_key(ch) {
                    return Err(invalid(format!("agents[{i}].capacity: unknown channel '{ch}'")));
                }
                if cap > 100 {
                    return Err(invalid(format!("agents[{i}].capacity.{ch} must be at most 100")));
                }
            }
            agents += (f64::from(g.count) * self.scale).round();
        }
        if agents > MAX_AGENTS {
            return Err(invalid(format!("agents: {agents} agents (after scale) is more than {MAX_AGENTS}")));
        }
        self.validate_floor()?;
        let queues: Vec<(String, Expression)> = self
            .workflows
            .iter()
            .map(|w| (w.name.clone(), w.target_workers()))
            .map(|(name, text)| {
                Expression::parse(&text)
                    .map(|e| (name.clone(), e))
                    .map_err(|e| invalid(format!("workflow '{name}' target_workers '{text}': {e}")))
            })
            .collect::<Result<_, _>>()?;
        let overflow = Expression::parse(&self.overflow.target_workers)
            .map_err(|e| invalid(format!("overflow.target_workers '{}': {e}", self.overflow.target_workers)))?;
        // Levels cycle with the rank, so the first LEVELS ranks show every attribute set.
        let eligible = |expr: &Expression, ch: &str| {
            self.agents.iter().any(|g| {
                let n = (f64::from(g.count) * self.scale).round() as u32;
                g.capacity.get(ch).copied().unwrap_or(0) > 0
                    && (0..n.min(LEVELS)).any(|rank| expr.matches(&g.attributes(rank)))
            })
        };
        for (w, (name, expr)) in self.workflows.iter().zip(&queues) {
            for (ch, &rate) in &w.arrivals {
                if rate > 0.0 && !eligible(expr, ch) {
                    return Err(invalid(format!(
                        "workflow '{name}' receives {ch} tasks but no agent serves its queue on {ch}"
                    )));
                }
            }
        }
        if self.overflow.after_seconds > 0.0 && !self.channels.keys().any(|ch| eligible(&overflow, ch)) {
            return Err(invalid("overflow.target_workers matches no agent"));
        }
        Ok(())
    }
}

impl SimConfig {
    /// Activities, shifts and overflow.
    fn validate_floor(&self) -> Result<(), ConfigError> {
        let mut names = BTreeSet::new();
        for (i, a) in self.activities.iter().enumerate() {
            check_name(&format!("activities[{i}].name"), &a.name)?;
            if !names.insert(a.name.as_str()) {
                return Err(invalid(format!("activities: the name '{}' is used twice", a.name)));
            }
        }
        let s = &self.shifts;
        let available = |name: &str| self.activities.iter().find(|a| a.name == name).map(|a| a.available);
        for (key, name, want) in [
            ("available_activity", &s.available_activity, true),
            ("offline_activity", &s.offline_activity, false),
            ("break_activity", &s.break_activity, false),
            ("lunch_activity", &s.lunch_activity, false),
            ("training_activity", &s.training_activity, false),
            ("timeout_activity", &s.timeout_activity, false),
        ] {
            match available(name) {
                None => return Err(invalid(format!("shifts.{key}: no activity is named '{name}'"))),
                Some(a) if a != want => {
                    let what = if want { "available" } else { "unavailable" };
                    return Err(invalid(format!("shifts.{key}: '{name}' must be an {what} activity")));
                }
                Some(_) => {}
            }
        }
        check_non_negative("shifts.rest_share", s.rest_share)?;
        if s.rest_share > 1.0 {
            return Err(invalid("shifts.rest_share must be at most 1"));
        }
        if s.slot_minutes == 0 || 60 % s.slot_minutes != 0 {
            return Err(invalid("shifts.slot_minutes must divide 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 or 60)"));
        }
        if let Some(h) = s.lunch_hours.iter().find(|&&h| h > 23) {
            return Err(invalid(format!("shifts.lunch_hours: {h} is not an hour (0 to 23)")));
        }
        if s.training_every == 0 {
            return Err(invalid("shifts.training_every must be at least 1"));
        }
        check_name("overflow.name", &self.overflow.name)?;
        if self.workflows.iter().any(|w| w.name == self.overflow.name) {
            return Err(invalid("overflow.name must differ from every workflow's name"));
        }
        check_seconds("overflow.after_seconds", self.overflow.after_seconds, false)?;
        check_hours("peak.hours", &self.peak.hours)?;
        for (ch, &extra) in &self.peak.extra_capacity {
            if !self.channels.contains_key(ch) {
                return Err(invalid(format!("peak.extra_capacity: unknown channel '{ch}'")));
            }
            if extra > 100 {
                return Err(invalid(format!("peak.extra_capacity.{ch} must be at most 100")));
            }
        }
        let peak_expressions = self
            .workflows
            .iter()
            .map(|w| (format!("workflow '{}' peak_target_workers", w.name), &w.peak_target_workers))
            .chain([("overflow.peak_target_workers".to_owned(), &self.overflow.peak_target_workers)]);
        for (what, text) in peak_expressions {
            if let Some(text) = text {
                Expression::parse(text).map_err(|e| invalid(format!("{what} '{text}': {e}")))?;
            }
        }
        check_non_negative("skill_changes.per_day", self.skill_changes.per_day)?;
        if self.skill_changes.per_day > 10_000.0 {
            return Err(invalid("skill_changes.per_day must be at most 10000"));
        }
        check_hours("skill_changes.hours", &self.skill_changes.hours)?;
        Ok(())
    }
}

/// `[start, end)` UTC hours: two numbers, 0 ≤ start < end ≤ 24.
fn check_hours(what: &str, hours: &[u32]) -> Result<(), ConfigError> {
    match hours {
        [start, end] if start < end && *end <= 24 => Ok(()),
        _ => Err(invalid(format!("{what} must be [start, end) in UTC hours, 0 ≤ start < end ≤ 24 (got {hours:?})"))),
    }
}

fn check_name(what: &str, name: &str) -> Result<(), ConfigError> {
    if name.trim().is_empty() || name.len() > 64 {
        return Err(invalid(format!("{what}: names must have 1 to 64 characters")));
    }
    Ok(())
}

fn check_non_negative(what: &str, v: f64) -> Result<(), ConfigError> {
    if !v.is_finite() || v < 0.0 {
        return Err(invalid(format!("{what} must be a finite number ≥ 0 (got {v})")));
    }
    Ok(())
}

fn check_positive(what: &str, v: f64) -> Result<(), ConfigError> {
    if !v.is_finite() || v <= 0.0 {
        return Err(invalid(format!("{what} must be a finite number > 0 (got {v})")));
    }
    Ok(())
}

fn check_probability(what: &str, v: f64) -> Result<(), ConfigError> {
    if !v.is_finite() || !(0.0..=1.0).contains(&v) {
        return Err(invalid(format!("{what} must be a probability between 0 and 1 (got {v})")));
    }
    Ok(())
}

fn check_seconds(what: &str, v: f64, positive: bool) -> Result<(), ConfigError> {
    if positive {
        check_positive(what, v)?
    } else {
        check_non_negative(what, v)?
    }
    if v > MAX_SECONDS {
        return Err(invalid(format!("{what} must be at most {MAX_SECONDS} seconds (got {v})")));
    }
    Ok(())
}

fn check_duration(what: &str, d: DurationSpec) -> Result<(), ConfigError> {
    check_seconds(&format!("{what}.mean"), d.mean, true)?;
    check_seconds(&format!("{what}.sd"), d.sd, false)?;
    Ok(())
}

fn check_profile(what: &str, v: &[f64], len: usize) -> Result<(), ConfigError> {
    if v.len() != len {
        return Err(invalid(format!("{what} must have exactly {len} multipliers (got {})", v.len())));
    }
    for (i, &m) in v.iter().enumerate() {
        check_non_negative(&format!("{what}[{i}]"), m)?;
        if m > 1000.0 {
            return Err(invalid(format!("{what}[{i}] must be at most 1000")));
        }
    }
    if v.iter().all(|&m| m == 0.0) {
        return Err(invalid(format!("{what}: the multipliers must not all be 0")));
    }
    Ok(())
}
