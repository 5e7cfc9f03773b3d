//! Alert rules, their state machine and the alerts they raise: pure code and wire types,
//! shared by the server (which evaluates rules and sends notifications) and the dashboard
//! (which shows the banner and plays the sound).
//!
//! A [`Rule`] names a **target** (the workspace, a workflow `WW…`, a task queue `WQ…` or an
//! agent activity `WA…`, optionally one task channel), a [`Measure`], a [`Comparison`], a
//! threshold and a duration: "longest wait > 60 for 30 s". A [`Tracker`] follows one rule's
//! values: the rule **fires** once the condition has held for the whole duration (`for`),
//! and **clears** once the *clear* condition (the value back past `clear_threshold`, the
//! threshold by default) has held for `clear_for` (the duration by default). A value that
//! hovers at the threshold therefore neither fires nor, once fired, clears: hysteresis in
//! time, and in value when `clear_threshold` is set apart from the threshold.
//!
//! A value of `None` (no number: a service level without answered or abandoned tasks)
//! never breaches and always satisfies the clear condition.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::query::QueryError;
use crate::service_level::once;
use crate::sid::{AccountSid, WorkspaceSid};
use crate::time::{twilio_format, twilio_format_opt};

/// The longest `For`/`ClearFor`: one day, in seconds.
pub const MAX_DURATION: u32 = 86_400;
/// The most rules a workspace may hold.
pub const MAX_RULES: usize = 200;
/// The most webhooks a workspace may hold.
pub const MAX_WEBHOOKS: usize = 20;
/// The longest rule name, in characters.
pub const MAX_NAME: usize = 100;

/// What a rule measures. Each has a stable wire name ([`Measure::name`]) and a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Tasks waiting (pending) now.
    Waiting,
    /// Age of the longest-waiting task now, in seconds.
    LongestWait,
    /// Today's service level in percent (0–100), under the definition in force.
    ServiceLevel,
    /// Today's abandoned tasks in percent of offered (answered + abandoned).
    Abandonment,
    /// Agents available now (for a queue: its eligible available workers).
    AgentsAvailable,
    /// Tasks waiting ÷ agents available (waiting when none is available: ∞ is not a number).
    WaitingPerAvailable,
    /// Tasks waiting that will breach the service-level threshold within the next 10 s,
    /// plus those already past it.
    AtRisk,
    /// Agents in the target activity now (activity targets only).
    Agents,
    /// 1 while the numbers are stale (the database or the upstream is away), else 0.
    Stale,
}

impl Measure {
    pub const ALL: [Self; 9] = [
        Self::Waiting,
        Self::LongestWait,
        Self::ServiceLevel,
        Self::Abandonment,
        Self::AgentsAvailable,
        Self::WaitingPerAvailable,
        Self::AtRisk,
        Self::Agents,
        Self::Stale,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::LongestWait => "longest_wait",
            Self::ServiceLevel => "service_level",
            Self::Abandonment => "abandonment",
            Self::AgentsAvailable => "agents_available",
            Self::WaitingPerAvailable => "waiting_per_available",
            Self::AtRisk => "at_risk",
            Self::Agents => "agents",
            Self::Stale => "stale",
        }
    }

    /// The words shown in a banner or a notification.
    pub fn label(self) -> &'static str {
        match self {
            Self::Waiting => "tasks waiting",
            Self::LongestWait => "longest wait",
            Self::ServiceLevel => "service level",
            Self::Abandonment => "abandonment",
            Self::AgentsAvailable => "agents available",
            Self::WaitingPerAvailable => "waiting per available agent",
            Self::AtRisk => "tasks at risk",
            Self::Agents => "agents in activity",
            Self::Stale => "stale data",
        }
    }

    /// The unit appended to a value: `s`, `%` or nothing.
    pub fn unit(self) -> &'static str {
        match self {
            Self::LongestWait => " s",
            Self::ServiceLevel | Self::Abandonment => " %",
            _ => "",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name() == raw.trim())
    }

    /// Whether the measure has a value for a kind of target.
    pub fn applies_to(self, target: &RuleTarget) -> bool {
        match target {
            RuleTarget::Activity(_) => matches!(self, Self::Agents | Self::Stale),
            RuleTarget::Workspace => !matches!(self, Self::Agents | Self::ServiceLevel | Self::AtRisk),
            RuleTarget::Workflow(_) => {
                !matches!(self, Self::Agents | Self::AgentsAvailable | Self::WaitingPerAvailable)
            }
            RuleTarget::TaskQueue(_) => self != Self::Agents,
        }
    }
}

/// How a value is compared with the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Comparison {
    #[serde(rename = ">")]
    Above,
    #[serde(rename = ">=")]
    AtLeast,
    #[serde(rename = "<")]
    Below,
    #[serde(rename = "<=")]
    AtMost,
}

impl Comparison {
    pub const ALL: [Self; 4] = [Self::Above, Self::AtLeast, Self::Below, Self::AtMost];

    pub fn symbol(self) -> &'static str {
        match self {
            Self::Above => ">",
            Self::AtLeast => ">=",
            Self::Below => "<",
            Self::AtMost => "<=",
        }
    }

    /// Accepts the symbols and the words `gt`, `ge`, `lt`, `le` (handy in URLs).
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim() {
            ">" | "gt" => Some(Self::Above),
            ">=" | "ge" => Some(Self::AtLeast),
            "<" | "lt" => Some(Self::Below),
            "<=" | "le" => Some(Self::AtMost),
            _ => None,
        }
    }

    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Self::Above => value > threshold,
            Self::AtLeast => value >= threshold,
            Self::Below => value < threshold,
            Self::AtMost => value <= threshold,
        }
    }

    /// Whether the bad side is upwards (`>`, `>=`).
    pub fn upwards(self) -> bool {
        matches!(self, Self::Above | Self::AtLeast)
    }
}

/// How loud an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    #[default]
    Warning,
    Critical,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim() {
            "warning" => Some(Self::Warning),
            "critical" => Some(Self::Critical),
            _ => None,
        }
    }
}

/// What a rule watches: `workspace`, a workflow, a task queue or an activity by SID. The
/// wire form is that one string.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RuleTarget {
    Workspace,
    Workflow(String),
    TaskQueue(String),
    Activity(String),
}

impl RuleTarget {
    /// `workspace`, or a SID with its prefix (`WW`, `WQ`, `WA`) and 32 hex digits.
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        if raw == "workspace" {
            return Some(Self::Workspace);
        }
        let sid_ok = raw.len() == 34 && raw.is_char_boundary(2) && raw[2..].bytes().all(|b| b.is_ascii_hexdigit());
        if !sid_ok {
            return None;
        }
        match &raw[..2] {
            "WW" => Some(Self::Workflow(raw.to_owned())),
            "WQ" => Some(Self::TaskQueue(raw.to_owned())),
            "WA" => Some(Self::Activity(raw.to_owned())),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Workspace => "workspace",
            Self::Workflow(s) | Self::TaskQueue(s) | Self::Activity(s) => s,
        }
    }
}

impl Serialize for RuleTarget {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for RuleTarget {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).ok_or_else(|| serde::de::Error::custom(format!("not a rule target: {raw}")))
    }
}

/// The condition part of a rule (what [`Tracker`] needs), valid by construction through
/// [`RuleUpdate::apply`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    pub measure: Measure,
    pub comparison: Comparison,
    pub threshold: f64,
    /// Seconds the condition must hold before the rule fires.
    #[serde(rename = "for")]
    pub for_s: u32,
    /// The value past which a fired rule starts to clear (the threshold unless set apart).
    pub clear_threshold: f64,
    /// Seconds the clear condition must hold before the rule clears.
    pub clear_for: u32,
}

impl Condition {
    /// Whether `value` breaches the threshold.
    pub fn breached(&self, value: Option<f64>) -> bool {
        value.is_some_and(|v| self.comparison.holds(v, self.threshold))
    }

    /// Whether `value` is back on the good side of the clear threshold.
    pub fn cleared(&self, value: Option<f64>) -> bool {
        value.is_none_or(|v| !self.comparison.holds(v, self.clear_threshold))
    }

    /// "longest wait > 60 s for 30 s".
    pub fn describe(&self) -> String {
        let m = self.measure;
        format!(
            "{} {} {}{} for {} s",
            m.label(),
            self.comparison.symbol(),
            number(self.threshold),
            m.unit(),
            self.for_s
        )
    }
}

/// A number without a useless fraction: 60, 0.5, 92.3.
pub fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 { format!("{v:.0}") } else { format!("{}", (v * 100.0).round() / 100.0) }
}

/// An alert rule as stored and shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub sid: String,
    pub name: String,
    pub target: RuleTarget,
    /// One task channel's numbers (its unique name), or all channels.
    pub task_channel: Option<String>,
    #[serde(flatten)]
    pub condition: Condition,
    pub level: Level,
    pub enabled: bool,
    #[serde(with = "twilio_format")]
    pub date_created: DateTime<Utc>,
    #[serde(with = "twilio_format")]
    pub date_updated: DateTime<Utc>,
}

/// `GET|POST …/AlertRules/{sid}`: a rule with its workspace and URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleResource {
    pub account_sid: AccountSid,
    pub workspace_sid: WorkspaceSid,
    #[serde(flatten)]
    pub rule: Rule,
    /// [`Condition::describe`], for people.
    pub description: String,
    /// Where the rule stands now: null when this node does not evaluate the rules (another
    /// node of the cluster does) or has not evaluated it yet.
    pub state: Option<RuleState>,
    pub url: String,
}

/// A rule's last evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleState {
    #[serde(flatten)]
    pub phase: Phase,
    /// The measure's value then (null: no number).
    pub value: Option<f64>,
    /// When it was evaluated (ms since the epoch).
    pub evaluated_ms: i64,
}

/// `GET …/AlertRules`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RulePage {
    pub alert_rules: Vec<RuleResource>,
    pub meta: crate::resources::PageMeta,
}

/// The form of `POST …/AlertRules` (create: `Name`, `Target`, `Measure`, `Comparison`,
/// `Threshold` required) and `POST …/AlertRules/{sid}` (update: any subset).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleUpdate {
    pub name: Option<String>,
    pub target: Option<RuleTarget>,
    /// `Some(None)`: all channels (an empty `TaskChannel`).
    pub task_channel: Option<Option<String>>,
    pub measure: Option<Measure>,
    pub comparison: Option<Comparison>,
    pub threshold: Option<f64>,
    pub for_s: Option<u32>,
    pub clear_threshold: Option<f64>,
    pub clear_for: Option<u32>,
    pub level: Option<Level>,
    pub enabled: Option<bool>,
}

fn shown(raw: &str) -> String {
    raw.chars().take(64).collect()
}

fn seconds(key: &str, raw: &str) -> Result<u32, QueryError> {
    match crate::service_level::seconds(key, raw)? {
        v if v <= MAX_DURATION => Ok(v),
        _ => Err(QueryError(format!("{key} must be at most {MAX_DURATION} seconds"))),
    }
}

fn finite(key: &str, raw: &str) -> Result<f64, QueryError> {
    match raw.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v.abs() <= 1e12 => Ok(v),
        _ => Err(QueryError(format!("{key} must be a number, got '{}'", shown(raw)))),
    }
}

impl RuleUpdate {
    /// Parses the form. Unknown parameters are ignored; a known one given twice is an error.
    pub fn parse<'a, I>(pairs: I) -> Result<Self, QueryError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut u = Self::default();
        for (key, value) in pairs {
            match key {
                "Name" => {
                    let name = value.trim();
                    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
                        return Err(QueryError(format!(
                            "Name must be 1 to {MAX_NAME} characters without control characters"
                        )));
                    }
                    once(&mut u.name, key, name.to_owned())?;
                }
                "Target" => {
                    let t = RuleTarget::parse(value).ok_or_else(|| {
                        QueryError(format!(
                            "Target must be 'workspace' or a workflow (WW…), task queue (WQ…) or activity (WA…) SID, got '{}'",
                            shown(value)
                        ))
                    })?;
                    once(&mut u.target, key, t)?;
                }
                "TaskChannel" => {
                    let c = value.trim();
                    if c.len() > 64 || c.chars().any(char::is_control) {
                        return Err(QueryError("TaskChannel must be a channel's unique name".into()));
                    }
                    once(&mut u.task_channel, key, (!c.is_empty()).then(|| c.to_owned()))?;
                }
                "Measure" => {
                    let m = Measure::parse(value).ok_or_else(|| {
                        let names: Vec<&str> = Measure::ALL.iter().map(|m| m.name()).collect();
                        QueryError(format!("Measure must be one of {}, got '{}'", names.join(", "), shown(value)))
                    })?;
                    once(&mut u.measure, key, m)?;
                }
                "Comparison" => {
                    let c = Comparison::parse(value).ok_or_else(|| {
                        QueryError(format!(
                            "Comparison must be one of >, >=, <, <= (or gt, ge, lt, le), got '{}'",
                            shown(value)
                        ))
                    })?;
                    once(&mut u.comparison, key, c)?;
                }
                "Threshold" => once(&mut u.threshold, key, finite(key, value)?)?,
                "For" => once(&mut u.for_s, key, seconds(key, value)?)?,
                "ClearThreshold" => once(&mut u.clear_threshold, key, finite(key, value)?)?,
                "ClearFor" => once(&mut u.clear_for, key, seconds(key, value)?)?,
                "Level" => {
                    let l = Level::parse(value).ok_or_else(|| {
                        QueryError(format!("Level must be warning or critical, got '{}'", shown(value)))
                    })?;
                    once(&mut u.level, key, l)?;
                }
                "Enabled" => {
                    let e = match value.trim() {
                        "true" => true,
                        "false" => false,
                        _ => return Err(QueryError(format!("Enabled must be true or false, got '{}'", shown(value)))),
                    };
                    once(&mut u.enabled, key, e)?;
                }
                _ => {}
            }
        }
        Ok(u)
    }

    /// A new rule from this form, or why not. `sid` and `now` come from the server.
    pub fn create(&self, sid: String, now: DateTime<Utc>) -> Result<Rule, QueryError> {
        let missing = |what: &str| QueryError(format!("Missing required parameter {what}"));
        let measure = self.measure.ok_or_else(|| missing("Measure"))?;
        let comparison = self.comparison.ok_or_else(|| missing("Comparison"))?;
        let threshold = self.threshold.ok_or_else(|| missing("Threshold"))?;
        let base = Rule {
            sid,
            name: self.name.clone().ok_or_else(|| missing("Name"))?,
            target: self.target.clone().ok_or_else(|| missing("Target"))?,
            task_channel: None,
            condition: Condition { measure, comparison, threshold, for_s: 0, clear_threshold: threshold, clear_for: 0 },
            level: Level::Warning,
            enabled: true,
            date_created: now,
            date_updated: now,
        };
        self.apply(&base, now)
    }

    /// `base` with the given parameters, validated. A new `Threshold` moves the clear
    /// threshold with it unless `ClearThreshold` is given or was set apart; a new `For`
    /// moves `ClearFor` with it unless given or set apart.
    pub fn apply(&self, base: &Rule, now: DateTime<Utc>) -> Result<Rule, QueryError> {
        let mut r = base.clone();
        let c = &mut r.condition;
        if let Some(n) = &self.name {
            r.name = n.clone();
        }
        if let Some(t) = &self.target {
            r.target = t.clone();
        }
        if let Some(ch) = &self.task_channel {
            r.task_channel = ch.clone();
        }
        if let Some(m) = self.measure {
            c.measure = m;
        }
        if let Some(x) = self.comparison {
            c.comparison = x;
        }
        let clear_followed = base.condition.clear_threshold == base.condition.threshold;
        if let Some(t) = self.threshold {
            c.threshold = t;
            if clear_followed {
                c.clear_threshold = t;
            }
        }
        if let Some(t) = self.clear_threshold {
            c.clear_threshold = t;
        }
        let clear_for_followed = base.condition.clear_for == base.condition.for_s;
        if let Some(f) = self.for_s {
            c.for_s = f;
            if clear_for_followed {
                c.clear_for = f;
            }
        }
        if let Some(f) = self.clear_for {
            c.clear_for = f;
        }
        if let Some(l) = self.level {
            r.level = l;
        }
        if let Some(e) = self.enabled {
            r.enabled = e;
        }
        r.date_updated = now;
        validate(&r)?;
        Ok(r)
    }
}

/// Checks what the form parser cannot see alone: the measure fits the target, the clear
/// threshold lies on the good side.
pub fn validate(r: &Rule) -> Result<(), QueryError> {
    let c = &r.condition;
    if !c.measure.applies_to(&r.target) {
        return Err(QueryError(format!(
            "Measure {} does not apply to the target {}",
            c.measure.name(),
            r.target.as_str()
        )));
    }
    if matches!(r.target, RuleTarget::Activity(_)) && r.task_channel.is_some() {
        return Err(QueryError("An activity rule counts agents of every channel: TaskChannel must be empty".into()));
    }
    let good_side =
        if c.comparison.upwards() { c.clear_threshold <= c.threshold } else { c.clear_threshold >= c.threshold };
    if !good_side {
        return Err(QueryError(format!(
            "ClearThreshold ({}) must lie on the good side of Threshold ({}) for {}",
            number(c.clear_threshold),
            number(c.threshold),
            c.comparison.symbol()
        )));
    }
    Ok(())
}

/// Where a rule's [`Tracker`] stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Phase {
    /// The condition does not hold.
    Ok,
    /// The condition holds since `since_ms`; fires at `since_ms + for`.
    Pending { since_ms: i64 },
    /// Fired at `fired_ms`.
    Firing { fired_ms: i64 },
    /// Fired at `fired_ms`; the clear condition holds since `since_ms`.
    Clearing { fired_ms: i64, since_ms: i64 },
}

/// What a step of a [`Tracker`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Fired,
    Cleared { fired_ms: i64 },
}

/// One rule's state machine (see the module documentation). Time comes from the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tracker {
    pub phase: Phase,
}

impl Default for Tracker {
    fn default() -> Self {
        Self { phase: Phase::Ok }
    }
}

impl Tracker {
    /// A tracker of a rule that fired at `fired_ms` and has not cleared (after a restart).
    pub fn firing(fired_ms: i64) -> Self {
        Self { phase: Phase::Firing { fired_ms } }
    }

    pub fn is_firing(&self) -> bool {
        matches!(self.phase, Phase::Firing { .. } | Phase::Clearing { .. })
    }

    /// Takes the value at `now_ms`; returns the transition it caused, if any.
    pub fn step(&mut self, c: &Condition, value: Option<f64>, now_ms: i64) -> Option<Transition> {
        let held = |since: i64, secs: u32| now_ms.saturating_sub(since) >= i64::from(secs) * 1000;
        match self.phase {
            Phase::Ok | Phase::Pending { .. } if !c.breached(value) => {
                self.phase = Phase::Ok;
                None
            }
            Phase::Ok => {
                self.phase = Phase::Pending { since_ms: now_ms };
                self.step(c, value, now_ms)
            }
            Phase::Pending { since_ms } => {
                if held(since_ms, c.for_s) {
                    self.phase = Phase::Firing { fired_ms: now_ms };
                    Some(Transition::Fired)
                } else {
                    None
                }
            }
            Phase::Firing { fired_ms } | Phase::Clearing { fired_ms, .. } if !c.cleared(value) => {
                self.phase = Phase::Firing { fired_ms };
                None
            }
            Phase::Firing { fired_ms } => {
                self.phase = Phase::Clearing { fired_ms, since_ms: now_ms };
                self.step(c, value, now_ms)
            }
            Phase::Clearing { fired_ms, since_ms } => {
                if held(since_ms, c.clear_for) {
                    self.phase = Phase::Ok;
                    Some(Transition::Cleared { fired_ms })
                } else {
                    None
                }
            }
        }
    }

    /// When, at the latest, the next step may change something without a new value: the
    /// end of a pending or clearing period.
    pub fn deadline_ms(&self, c: &Condition) -> Option<i64> {
        match self.phase {
            Phase::Pending { since_ms } => Some(since_ms + i64::from(c.for_s) * 1000),
            Phase::Clearing { since_ms, .. } => Some(since_ms + i64::from(c.clear_for) * 1000),
            Phase::Ok | Phase::Firing { .. } => None,
        }
    }
}

/// One value of a rule's measure in a [`Preview`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// When (ms since the epoch).
    pub at_ms: i64,
    pub value: Option<f64>,
}

/// A transition a rule would have made, in a [`Preview`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewTransition {
    pub at_ms: i64,
    #[serde(rename = "type")]
    pub kind: NoticeKind,
}

/// Where a preview's values come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PreviewSource {
    /// Computed now for each minute of the last hour (service level, abandonment).
    Computed,
    /// The values the evaluator recorded (every few seconds) for rules watching the same
    /// target, channel and measure.
    Recorded,
    /// Nothing to go on: no rule watched this measure in the last hour on this node.
    None,
}

/// `POST …/AlertRules/Preview`: what a rule would have done over the last hour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preview {
    pub description: String,
    pub source: PreviewSource,
    pub samples: Vec<Sample>,
    pub transitions: Vec<PreviewTransition>,
    /// Whether the rule would be firing at the last sample.
    pub firing: bool,
}

/// Replays `samples` (in time order) through a new [`Tracker`] of `condition`.
pub fn replay(condition: &Condition, samples: &[Sample]) -> (Vec<PreviewTransition>, bool) {
    let mut tracker = Tracker::default();
    let transitions = samples
        .iter()
        .filter_map(|s| {
            tracker.step(condition, s.value, s.at_ms).map(|t| PreviewTransition {
                at_ms: s.at_ms,
                kind: match t {
                    Transition::Fired => NoticeKind::Fired,
                    Transition::Cleared { .. } => NoticeKind::Cleared,
                },
            })
        })
        .collect();
    (transitions, tracker.is_firing())
}

/// Where an alert stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    Firing,
    Cleared,
}

/// One firing of a rule, from fired to cleared, with its acknowledgement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// `AL` and 32 hex digits.
    pub sid: String,
    pub rule_sid: String,
    pub rule_name: String,
    pub target: RuleTarget,
    pub task_channel: Option<String>,
    pub measure: Measure,
    pub level: Level,
    /// The rule's condition, for people ("longest wait > 60 s for 30 s").
    pub description: String,
    pub status: AlertStatus,
    /// The value that fired the rule.
    pub value: Option<f64>,
    #[serde(with = "twilio_format")]
    pub date_fired: DateTime<Utc>,
    #[serde(with = "twilio_format_opt")]
    pub date_cleared: Option<DateTime<Utc>>,
    #[serde(with = "twilio_format_opt")]
    pub date_acknowledged: Option<DateTime<Utc>>,
    /// Who acknowledged it: `account`, or the token's label.
    pub acknowledged_by: Option<String>,
}

impl Alert {
    pub fn acknowledged(&self) -> bool {
        self.date_acknowledged.is_some()
    }

    /// Whether a wall should sound for it: firing and not acknowledged.
    pub fn sounding(&self) -> bool {
        self.status == AlertStatus::Firing && !self.acknowledged()
    }

    /// The banner's words: "Critical: Sales longest wait > 60 s for 30 s (now 75 s)".
    pub fn headline(&self) -> String {
        let value = self.value.map(|v| format!(" (value {}{})", number(v), self.measure.unit())).unwrap_or_default();
        let level = match self.level {
            Level::Warning => "Warning",
            Level::Critical => "Critical",
        };
        format!("{level}: {} — {}{value}", self.rule_name, self.description)
    }
}

/// `GET …/Alerts/{sid}` and the items of `GET …/Alerts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertResource {
    pub account_sid: AccountSid,
    pub workspace_sid: WorkspaceSid,
    #[serde(flatten)]
    pub alert: Alert,
    pub url: String,
}

/// `GET …/Alerts` (newest first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertPage {
    pub alerts: Vec<AlertResource>,
    pub meta: crate::resources::PageMeta,
}

/// What a notification says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NoticeKind {
    #[serde(rename = "alert.fired")]
    Fired,
    #[serde(rename = "alert.cleared")]
    Cleared,
}

/// The JSON body Wallboard POSTs to a `json` webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    #[serde(rename = "type")]
    pub kind: NoticeKind,
    pub account_sid: AccountSid,
    pub workspace_sid: WorkspaceSid,
    pub alert: Alert,
    /// The alert's resource URL.
    pub url: String,
}

/// The format of a webhook's bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum WebhookFormat {
    /// [`Notice`] as JSON.
    #[default]
    Json,
    /// A Slack incoming webhook's message (`text` and `blocks`).
    Slack,
    /// A Microsoft Teams incoming webhook's message (an Adaptive Card attachment).
    Teams,
}

impl WebhookFormat {
    pub fn name(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Slack => "slack",
            Self::Teams => "teams",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim() {
            "json" => Some(Self::Json),
            "slack" => Some(Self::Slack),
            "teams" => Some(Self::Teams),
            _ => None,
        }
    }
}

/// A webhook as shown by the API: the secret only once, when created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookResource {
    pub account_sid: AccountSid,
    pub workspace_sid: WorkspaceSid,
    /// `AW` and 32 hex digits.
    pub sid: String,
    pub webhook_url: String,
    pub format: WebhookFormat,
    /// The HMAC-SHA256 key of `X-Wallboard-Signature`; present only in the answer that
    /// created the webhook.
    pub secret: Option<String>,
    #[serde(with = "twilio_format")]
    pub date_created: DateTime<Utc>,
    pub url: String,
}

/// `GET …/AlertWebhooks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookPage {
    pub alert_webhooks: Vec<WebhookResource>,
    pub meta: crate::resources::PageMeta,
}

/// A notification given up on after its retries (`GET …/AlertWebhooks/{sid}/DeadLetters`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    pub webhook_sid: String,
    pub alert_sid: String,
    #[serde(rename = "type")]
    pub kind: NoticeKind,
    pub attempts: u32,
    /// The last attempt's outcome: an HTTP status or a transport error.
    pub last_error: String,
    #[serde(with = "twilio_format")]
    pub date_created: DateTime<Utc>,
}

/// `GET …/AlertWebhooks/{sid}/DeadLetters`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetterPage {
    pub dead_letters: Vec<DeadLetter>,
    pub meta: crate::resources::PageMeta,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(comparison: Comparison, threshold: f64, for_s: u32) -> Condition {
        Condition {
            measure: Measure::LongestWait,
            comparison,
            threshold,
            for_s,
            clear_threshold: threshold,
            clear_for: for_s,
        }
    }

    /// Runs values at one-second steps from 0 ms; returns (second, transition).
    fn run(c: &Condition, values: &[Option<f64>]) -> Vec<(usize, Transition)> {
        let mut t = Tracker::default();
        values.iter().enumerate().filter_map(|(i, v)| t.step(c, *v, i as i64 * 1000).map(|x| (i, x))).collect()
    }

    #[test]
    fn fires_once_after_the_duration_and_clears_once() {
        let c = cond(Comparison::Above, 60.0, 3);
        let v: Vec<Option<f64>> = [50., 61., 62., 63., 64., 65., 66., 40., 40., 40., 40., 40.].map(Some).to_vec();
        // Breached from second 1; held 3 s at second 4: fires. Clear from 7; held 3 s at 10.
        assert_eq!(run(&c, &v), [(4, Transition::Fired), (10, Transition::Cleared { fired_ms: 4000 })]);
    }

    #[test]
    fn a_value_hovering_at_the_threshold_does_not_flap() {
        let c = cond(Comparison::Above, 60.0, 3);
        // Above and at the threshold by turns: never 3 s in a row, never fires.
        let hover: Vec<Option<f64>> = (0..60).map(|i| Some(if i % 2 == 0 { 60.5 } else { 60.0 })).collect();
        assert_eq!(run(&c, &hover), []);
        // Once fired, hovering does not clear it either.
        let mut v: Vec<Option<f64>> = vec![Some(70.0); 5];
        v.extend(hover);
        assert_eq!(run(&c, &v), [(3, Transition::Fired)]);
    }

    #[test]
    fn a_clear_threshold_apart_is_hysteresis_in_value() {
        let mut c = cond(Comparison::Above, 60.0, 0);
        c.clear_threshold = 50.0;
        let v: Vec<Option<f64>> = [61., 55., 59., 61., 50., 45.].map(Some).to_vec();
        // Fires at once (for 0); 55 and 59 are not past 50: stays; 50 is not > 50: clears.
        assert_eq!(run(&c, &v), [(0, Transition::Fired), (4, Transition::Cleared { fired_ms: 0 })]);
    }

    #[test]
    fn below_rules_and_missing_values() {
        let c = Condition { measure: Measure::ServiceLevel, ..cond(Comparison::Below, 80.0, 2) };
        let v = [Some(90.), Some(79.), None, Some(70.), Some(70.), Some(70.), None, None, None];
        // None breaks the pending period (no number is no breach); fires at 5; None clears.
        assert_eq!(run(&c, &v), [(5, Transition::Fired), (8, Transition::Cleared { fired_ms: 5000 })]);
        // Exactly at the threshold: < does not hold, <= does.
        assert!(!c.breached(Some(80.0)));
        assert!(Condition { comparison: Comparison::AtMost, ..c.clone() }.breached(Some(80.0)));
    }

    #[test]
    fn deadlines_tell_when_to_look_again() {
        let c = cond(Comparison::AtLeast, 5.0, 30);
        let mut t = Tracker::default();
        assert_eq!(t.step(&c, Some(5.0), 1_000), None);
        assert_eq!(t.deadline_ms(&c), Some(31_000));
        assert_eq!(t.step(&c, Some(5.0), 30_999), None);
        assert_eq!(t.step(&c, Some(5.0), 31_000), Some(Transition::Fired));
        assert_eq!(t.deadline_ms(&c), None);
        assert!(t.is_firing());
        assert_eq!(t.step(&c, Some(4.0), 40_000), None);
        assert_eq!(t.deadline_ms(&c), Some(70_000));
        let restarted = Tracker::firing(31_000);
        assert!(restarted.is_firing());
    }

    fn form(pairs: &[(&str, &str)]) -> Result<RuleUpdate, QueryError> {
        RuleUpdate::parse(pairs.iter().copied())
    }

    #[test]
    fn a_replay_tells_what_a_rule_would_have_done() {
        let c = cond(Comparison::Above, 60.0, 20);
        let samples: Vec<Sample> = [50., 70., 70., 70., 40., 40., 40., 90.]
            .iter()
            .enumerate()
            .map(|(i, v)| Sample { at_ms: i as i64 * 10_000, value: Some(*v) })
            .collect();
        let (t, firing) = replay(&c, &samples);
        // Above from 10 s, held 20 s at 30 s: fired; back from 40 s, held 20 s at 60 s: cleared.
        assert_eq!(
            t,
            [
                PreviewTransition { at_ms: 30_000, kind: NoticeKind::Fired },
                PreviewTransition { at_ms: 60_000, kind: NoticeKind::Cleared }
            ]
        );
        assert!(!firing, "90 at 70 s has not held 20 s yet");
    }

    #[test]
    fn rules_are_created_and_changed_from_forms() {
        let now = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).expect("time");
        let u = form(&[
            ("Name", " Sales wait "),
            ("Target", "WQ0123456789abcdef0123456789abcdef"),
            ("Measure", "longest_wait"),
            ("Comparison", "gt"),
            ("Threshold", "60"),
            ("For", "30"),
        ])
        .expect("parse");
        let r = u.create("AR1".into(), now).expect("valid");
        assert_eq!(r.name, "Sales wait");
        assert_eq!(r.condition.clear_threshold, 60.0);
        assert_eq!(r.condition.clear_for, 30);
        assert_eq!((r.level, r.enabled), (Level::Warning, true));
        assert_eq!(r.condition.describe(), "longest wait > 60 s for 30 s");
        // A new threshold moves the clear threshold that followed it.
        let r2 = form(&[("Threshold", "90"), ("Level", "critical")]).expect("parse").apply(&r, now).expect("valid");
        assert_eq!((r2.condition.threshold, r2.condition.clear_threshold, r2.level), (90.0, 90.0, Level::Critical));
        // One set apart stays.
        let r3 = form(&[("ClearThreshold", "80")]).expect("parse").apply(&r2, now).expect("valid");
        let r4 = form(&[("Threshold", "100")]).expect("parse").apply(&r3, now).expect("valid");
        assert_eq!(r4.condition.clear_threshold, 80.0);
        // The wire form is flat, `for` and the comparison symbol included.
        let v = serde_json::to_value(&r).expect("json");
        assert_eq!(v["for"], 30);
        assert_eq!(v["comparison"], ">");
        assert_eq!(v["target"], "WQ0123456789abcdef0123456789abcdef");
        assert_eq!(serde_json::from_value::<Rule>(v).expect("back"), r);
    }

    #[test]
    fn bad_rules_are_refused_with_reasons() {
        let now = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).expect("time");
        let base =
            [("Name", "x"), ("Target", "workspace"), ("Measure", "waiting"), ("Comparison", ">"), ("Threshold", "5")];
        assert!(form(&base).expect("parse").create("AR1".into(), now).is_ok());
        for (k, v) in [
            ("Name", ""),
            ("Name", "a\u{7}b"),
            ("Target", "WQ12"),
            ("Target", "XX0123456789abcdef0123456789abcdef"),
            ("Measure", "mood"),
            ("Comparison", "=="),
            ("Threshold", "NaN"),
            ("Threshold", "inf"),
            ("For", "-1"),
            ("For", "86401"),
            ("Level", "panic"),
            ("Enabled", "yes"),
        ] {
            assert!(form(&[(k, v)]).is_err(), "{k}={v}");
        }
        assert!(form(&[("For", "1"), ("For", "2")]).is_err());
        let missing = form(&base[..4]).expect("parse").create("AR1".into(), now).unwrap_err();
        assert!(missing.0.contains("Threshold"), "{missing}");
        // Measures that do not fit the target.
        let mut wrong = base.to_vec();
        wrong[2] = ("Measure", "service_level");
        assert!(form(&wrong).expect("parse").create("AR1".into(), now).unwrap_err().0.contains("does not apply"));
        // A clear threshold on the bad side.
        let mut bad_clear = base.to_vec();
        bad_clear.push(("ClearThreshold", "6"));
        assert!(form(&bad_clear).expect("parse").create("AR1".into(), now).unwrap_err().0.contains("good side"));
    }

    #[test]
    fn alerts_read_well() {
        let now = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).expect("time");
        let a = Alert {
            sid: "AL1".into(),
            rule_sid: "AR1".into(),
            rule_name: "Sales".into(),
            target: RuleTarget::Workspace,
            task_channel: None,
            measure: Measure::LongestWait,
            level: Level::Critical,
            description: cond(Comparison::Above, 60.0, 30).describe(),
            status: AlertStatus::Firing,
            value: Some(75.0),
            date_fired: now,
            date_cleared: None,
            date_acknowledged: None,
            acknowledged_by: None,
        };
        assert_eq!(a.headline(), "Critical: Sales — longest wait > 60 s for 30 s (value 75 s)");
        assert!(a.sounding());
        assert_eq!(number(92.346), "92.35");
        let n = Notice {
            kind: NoticeKind::Fired,
            account_sid: AccountSid::from_u128(1),
            workspace_sid: WorkspaceSid::from_u128(1),
            alert: a,
            url: "u".into(),
        };
        let v = serde_json::to_value(&n).expect("json");
        assert_eq!(v["type"], "alert.fired");
        assert_eq!(v["alert"]["status"], "firing");
        assert_eq!(serde_json::from_value::<Notice>(v).expect("back"), n);
    }
}
