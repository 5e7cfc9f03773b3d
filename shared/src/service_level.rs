//! Service levels the way each contact center defines them: pure code, so the server and
//! the dashboard compute the same number from the same cumulative statistics.
//!
//! A [`Definition`] is a threshold **T** (whole seconds, ≥ 1), a short-abandon time **S**
//! (whole seconds, 0 ≤ S ≤ T) and the treatment of abandons ([`Abandons`]). Its inputs come
//! from `split_by_wait_time` at S and T ([`Definition::thresholds`]), with TaskRouter's
//! semantics of a split (`docs/design.md`, "Statistics semantics"): *below* T is a wait
//! strictly shorter than T, measured in milliseconds from the task's creation; a wait of
//! exactly T is *above* (not within T).
//!
//! Words (the counts of the window's events):
//! - **answered** = `reservations_accepted` (below + above any split);
//! - **answered < T** = `split[T].below.reservations_accepted`;
//! - **abandoned** = `tasks_canceled` (below + above any split);
//! - **abandoned < S** ("short abandons") = `split[S].below.tasks_canceled` (0 when S = 0);
//! - **offered** = answered + abandoned: every wait that ended in the window, short
//!   abandons included.
//!
//! The three treatments, each a stable name ([`Abandons::name`]) with its formula:
//!
//! | `abandons` | service level | the industry's name |
//! | --- | --- | --- |
//! | `ignored` | answered < T ÷ answered | abandons ignored |
//! | `counted_against` | answered < T ÷ (answered + abandoned ≥ S) = answered < T ÷ (offered − abandoned < S) | abandons against, short abandons excluded (S = 0: answered < T ÷ offered) |
//! | `counted_as_met` | (answered < T + abandoned < S) ÷ offered | short abandons counted as met (S = T: every abandon within T is met) |
//!
//! The built-in definition ([`Definition::BUILT_IN`]: T = 20 s, S = T, `counted_against`) is
//! the number the dashboard has always shown: accepted < T ÷ (accepted + canceled ≥ T).
//! An empty denominator gives no number (`None`), never 0 % or 100 %.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::query::QueryError;
use crate::resources::SplitByWaitTime;
use crate::sid::{AccountSid, WorkspaceSid};
use crate::time::{twilio_format, twilio_format_opt};

/// The longest threshold accepted: one day, in seconds.
pub const MAX_THRESHOLD: u32 = 86_400;
/// `Within` of the at-risk count when none is given, in seconds.
pub const DEFAULT_AT_RISK_WITHIN: u32 = 10;
/// The scope of a workspace's own default definition in paths and answers.
pub const WORKSPACE_DEFAULT: &str = "default";
/// `defined_by` when no stored definition applies.
pub const BUILT_IN: &str = "built_in";

/// What abandoned tasks (`task.canceled`) do to the service level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Abandons {
    /// Only answered tasks count: answered < T ÷ answered. S has no effect.
    Ignored,
    /// An abandon after S counts as a miss; short abandons (before S) count for nothing:
    /// answered < T ÷ (answered + abandoned ≥ S).
    CountedAgainst,
    /// A short abandon (before S) counts as met, a later one as a miss:
    /// (answered < T + abandoned < S) ÷ (answered + abandoned).
    CountedAsMet,
}

impl Abandons {
    pub const ALL: [Self; 3] = [Self::Ignored, Self::CountedAgainst, Self::CountedAsMet];

    /// The stable name (the wire value and the form parameter's value).
    pub fn name(self) -> &'static str {
        match self {
            Self::Ignored => "ignored",
            Self::CountedAgainst => "counted_against",
            Self::CountedAsMet => "counted_as_met",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == raw.trim())
    }
}

/// Why a definition is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefinitionError(pub String);

impl std::fmt::Display for DefinitionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DefinitionError {}

/// A service-level definition (see the module documentation); valid by construction
/// through [`Definition::new`] (the fields are public for reading and for the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Definition {
    /// T, in whole seconds (1..=[`MAX_THRESHOLD`]).
    pub threshold: u32,
    /// S, in whole seconds (0..=T).
    pub short_abandon: u32,
    pub abandons: Abandons,
}

impl Default for Definition {
    fn default() -> Self {
        Self::BUILT_IN
    }
}

/// The counts a service level is computed from (see the module documentation).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inputs {
    /// answered: reservations accepted in the window.
    pub answered: u64,
    /// answered < T.
    pub answered_within_threshold: u64,
    /// abandoned: tasks canceled in the window.
    pub abandoned: u64,
    /// abandoned < S (0 when S = 0 or abandons are ignored).
    pub abandoned_short: u64,
}

/// A computed service level: the fraction and its two sides.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    pub numerator: u64,
    pub denominator: u64,
    /// numerator ÷ denominator in 0..=1; `None` when the denominator is 0.
    pub value: Option<f64>,
}

impl Definition {
    /// Today's number: T = 20 s, short abandons below T excluded, later abandons against.
    pub const BUILT_IN: Self = Self { threshold: 20, short_abandon: 20, abandons: Abandons::CountedAgainst };

    /// A definition, or why not: T must be 1..=86400 and S at most T (an abandon that waited
    /// past T is never "short").
    pub fn new(threshold: u32, short_abandon: u32, abandons: Abandons) -> Result<Self, DefinitionError> {
        if threshold == 0 || threshold > MAX_THRESHOLD {
            return Err(DefinitionError(format!("Threshold must be 1 to {MAX_THRESHOLD} seconds, got {threshold}")));
        }
        if short_abandon > threshold {
            return Err(DefinitionError(format!(
                "ShortAbandon ({short_abandon} s) must not exceed Threshold ({threshold} s)"
            )));
        }
        Ok(Self { threshold, short_abandon, abandons })
    }

    /// Checks a definition read from elsewhere (a stored document, a wire value).
    pub fn validated(self) -> Result<Self, DefinitionError> {
        Self::new(self.threshold, self.short_abandon, self.abandons)
    }

    /// The formula with this definition's numbers, as shown next to the number.
    pub fn formula(&self) -> String {
        let (t, s) = (self.threshold, self.short_abandon);
        match (self.abandons, s) {
            (Abandons::Ignored, _) => format!("answered < {t} s ÷ answered"),
            (Abandons::CountedAgainst | Abandons::CountedAsMet, 0) => {
                format!("answered < {t} s ÷ (answered + abandoned)")
            }
            (Abandons::CountedAgainst, s) => format!("answered < {t} s ÷ (answered + abandoned ≥ {s} s)"),
            (Abandons::CountedAsMet, s) => {
                format!("(answered < {t} s + abandoned < {s} s) ÷ (answered + abandoned)")
            }
        }
    }

    /// The `SplitByWaitTime` thresholds the inputs need, ascending: T, and S when it is
    /// neither 0 nor T and abandons are not ignored.
    pub fn thresholds(&self) -> Vec<u32> {
        let s = self.short_abandon;
        if self.abandons == Abandons::Ignored || s == 0 || s == self.threshold {
            vec![self.threshold]
        } else {
            vec![s, self.threshold]
        }
    }

    /// The inputs, from a split that holds [`Definition::thresholds`]; `None` when one is missing.
    pub fn inputs(&self, split: &SplitByWaitTime) -> Option<Inputs> {
        let at = |t: u32| split.0.iter().find(|(x, _)| *x == t).map(|(_, s)| s);
        let t = at(self.threshold)?;
        let abandoned_short = match (self.abandons, self.short_abandon) {
            (Abandons::Ignored, _) | (_, 0) => 0,
            (_, s) => at(s)?.below.tasks_canceled,
        };
        Some(Inputs {
            answered: t.below.reservations_accepted + t.above.reservations_accepted,
            answered_within_threshold: t.below.reservations_accepted,
            abandoned: t.below.tasks_canceled + t.above.tasks_canceled,
            abandoned_short,
        })
    }

    /// The service level of `inputs` under this definition.
    pub fn compute(&self, i: &Inputs) -> Outcome {
        let (numerator, denominator) = match self.abandons {
            Abandons::Ignored => (i.answered_within_threshold, i.answered),
            Abandons::CountedAgainst => {
                (i.answered_within_threshold, i.answered + i.abandoned.saturating_sub(i.abandoned_short))
            }
            Abandons::CountedAsMet => (i.answered_within_threshold + i.abandoned_short, i.answered + i.abandoned),
        };
        let value = (denominator > 0).then(|| numerator as f64 / denominator as f64);
        Outcome { numerator, denominator, value }
    }

    /// [`Definition::inputs`] then [`Definition::compute`].
    pub fn of_split(&self, split: &SplitByWaitTime) -> Option<(Inputs, Outcome)> {
        let inputs = self.inputs(split)?;
        Some((inputs, self.compute(&inputs)))
    }
}

/// Where a stored definition applies: a scope (`default`, a workflow `WW…`, a task queue
/// `WQ…`) and, optionally, one task channel (its unique name, e.g. `voice`): a center whose
/// calls must be answered in 20 s and chats in 60 s stores one definition per channel.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Place {
    pub scope: String,
    /// `None`: every channel of the scope.
    pub task_channel: Option<String>,
}

impl Place {
    pub fn new(scope: impl Into<String>, task_channel: Option<&str>) -> Self {
        Self { scope: scope.into(), task_channel: task_channel.map(str::to_owned) }
    }

    /// The place's name in a stored key: `scope` or `scope/channel`.
    pub fn key(&self) -> String {
        match &self.task_channel {
            Some(ch) => format!("{}/{ch}", self.scope),
            None => self.scope.clone(),
        }
    }

    /// The place of a stored key's name ([`Place::key`]); `None` for an empty scope or channel.
    pub fn from_key(raw: &str) -> Option<Self> {
        let (scope, channel) = match raw.split_once('/') {
            Some((scope, channel)) => (scope, Some(channel)),
            None => (raw, None),
        };
        (!scope.is_empty() && channel != Some("")).then(|| Self::new(scope, channel))
    }
}

/// The places whose stored definition applies to `scope` for `channel`, most specific
/// first: the scope for the channel, the scope for every channel, the workspace's default
/// for the channel, the workspace's default. The first one stored is in force; none
/// stored means [`Definition::BUILT_IN`]. The server, its alert evaluator and the
/// dashboard all resolve through this one order.
pub fn lookup_order(scope: &str, channel: Option<&str>) -> Vec<Place> {
    let mut order = Vec::with_capacity(4);
    for s in [scope, WORKSPACE_DEFAULT] {
        if let Some(ch) = channel {
            order.push(Place::new(s, Some(ch)));
        }
        order.push(Place::new(s, None));
        if s == WORKSPACE_DEFAULT {
            break;
        }
    }
    order
}

/// A workspace's stored definitions by place, resolved in [`lookup_order`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Definitions(pub Vec<(Place, Definition)>);

impl Definitions {
    /// The stored definitions listed in a `GET …/ServiceLevels` page (entries without a
    /// definition of their own, a day only, are left out).
    pub fn from_page(page: &ServiceLevelPage) -> Self {
        Self(
            page.service_levels
                .iter()
                .filter(|l| l.stored)
                .map(|l| {
                    (Place { scope: l.scope.clone(), task_channel: l.task_channel.clone() }, l.definition.definition())
                })
                .collect(),
        )
    }

    /// The definition in force for `scope` and `channel`, and the place that defines it
    /// (`None`: the built-in).
    pub fn in_force(&self, scope: &str, channel: Option<&str>) -> (Definition, Option<&Place>) {
        lookup_order(scope, channel)
            .iter()
            .find_map(|want| self.0.iter().find(|(p, _)| p == want))
            .map_or((Definition::BUILT_IN, None), |(p, d)| (*d, Some(p)))
    }
}

/// The form of `POST …/ServiceLevels/{scope}`: each parameter optional (an absent one keeps
/// the value in force for the scope).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DefinitionUpdate {
    pub threshold: Option<u32>,
    pub short_abandon: Option<u32>,
    pub abandons: Option<Abandons>,
}

impl DefinitionUpdate {
    /// Parses `Threshold`, `ShortAbandon` (whole seconds) and `Abandons` (`ignored`,
    /// `counted_against`, `counted_as_met`). Unknown parameters are ignored; a known one
    /// given twice is an error.
    pub fn parse<'a, I>(pairs: I) -> Result<Self, QueryError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut out = Self::default();
        for (key, value) in pairs {
            match key {
                "Threshold" => once(&mut out.threshold, key, seconds(key, value)?)?,
                "ShortAbandon" => once(&mut out.short_abandon, key, seconds(key, value)?)?,
                "Abandons" => {
                    let a = Abandons::parse(value).ok_or_else(|| {
                        QueryError(format!(
                            "Abandons must be one of ignored, counted_against, counted_as_met, got '{}'",
                            value.chars().take(64).collect::<String>()
                        ))
                    })?;
                    once(&mut out.abandons, key, a)?;
                }
                _ => {}
            }
        }
        Ok(out)
    }

    /// `base` with the given parameters applied, validated. When only `Threshold` is given
    /// and the base's S equals its T, S follows the new T (the built-in keeps S = T).
    pub fn apply(&self, base: Definition) -> Result<Definition, DefinitionError> {
        let threshold = self.threshold.unwrap_or(base.threshold);
        let short_abandon = match (self.short_abandon, self.threshold) {
            (Some(s), _) => s,
            (None, Some(t)) if base.short_abandon == base.threshold => t,
            (None, _) => base.short_abandon,
        };
        Definition::new(threshold, short_abandon, self.abandons.unwrap_or(base.abandons))
    }

    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Fills `slot` from a form parameter, or refuses a parameter given twice.
pub(crate) fn once<T>(slot: &mut Option<T>, key: &str, value: T) -> Result<(), QueryError> {
    if slot.is_some() {
        return Err(QueryError(format!("{key} was given more than once")));
    }
    *slot = Some(value);
    Ok(())
}

/// Whole seconds of a form parameter.
pub(crate) fn seconds(key: &str, raw: &str) -> Result<u32, QueryError> {
    let s = raw.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(QueryError(format!(
            "{key} must be whole seconds, got '{}'",
            raw.chars().take(64).collect::<String>()
        )));
    }
    s.parse::<u32>().map_err(|_| QueryError(format!("{key} {s} is too large")))
}

/// Parses `Within` (seconds) of the computed service level; `None` when absent.
pub fn parse_within<'a, I>(pairs: I) -> Result<Option<u32>, QueryError>
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut within = None;
    for (key, value) in pairs {
        if key == "Within" {
            let w = seconds(key, value)?;
            if w > MAX_THRESHOLD {
                return Err(QueryError(format!("Within must be at most {MAX_THRESHOLD} seconds")));
            }
            once(&mut within, key, w)?;
        }
    }
    Ok(within)
}

/// When "today" starts for a scope: a local time of day (`HH:MM`, 24-hour) in an IANA
/// time zone (`Europe/Paris`). The default is midnight UTC. A start that a daylight-saving
/// change skips (02:30 on the night clocks go forward) is the first instant after the gap;
/// one that happens twice is the first of the two.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Day {
    pub starts_at: String,
    pub time_zone: String,
}

impl Default for Day {
    fn default() -> Self {
        Self { starts_at: "00:00".into(), time_zone: "UTC".into() }
    }
}

impl Day {
    /// Minutes after local midnight, or `None` when `starts_at` is not `HH:MM`.
    pub fn minutes(&self) -> Option<u32> {
        parse_hh_mm(&self.starts_at)
    }
}

/// `HH:MM` (00:00 to 23:59) as minutes after midnight.
pub fn parse_hh_mm(raw: &str) -> Option<u32> {
    let (h, m) = raw.trim().split_once(':')?;
    if h.len() != 2 || m.len() != 2 || !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m) = (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

/// `DayStartsAt` and `TimeZone` of `POST …/ServiceLevels/{scope}`: each optional; both
/// empty remove the scope's own day (it inherits again).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayUpdate {
    pub starts_at: Option<String>,
    pub time_zone: Option<String>,
}

impl DayUpdate {
    /// Parses the two parameters (the zone's name is checked by the server, which knows
    /// the zones).
    pub fn parse<'a, I>(pairs: I) -> Result<Self, QueryError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut out = Self::default();
        for (key, value) in pairs {
            match key {
                "DayStartsAt" => {
                    let v = value.trim();
                    if !v.is_empty() && parse_hh_mm(v).is_none() {
                        return Err(QueryError(format!(
                            "DayStartsAt must be HH:MM (00:00 to 23:59), got '{}'",
                            value.chars().take(64).collect::<String>()
                        )));
                    }
                    once(&mut out.starts_at, key, v.to_owned())?;
                }
                "TimeZone" => {
                    let v = value.trim();
                    if v.len() > 64 || v.chars().any(|c| c.is_control() || c.is_whitespace()) {
                        return Err(QueryError("TimeZone must be an IANA time zone name such as Europe/Paris".into()));
                    }
                    once(&mut out.time_zone, key, v.to_owned())?;
                }
                _ => {}
            }
        }
        Ok(out)
    }

    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Whether the form removes the scope's own day (both given empty).
    pub fn removes(&self) -> bool {
        self.starts_at.as_deref() == Some("") && self.time_zone.as_deref() == Some("")
    }

    /// `base` with the given values (an empty one keeps the base's).
    pub fn apply(&self, base: &Day) -> Day {
        let pick = |new: &Option<String>, old: &str| new.as_deref().filter(|v| !v.is_empty()).unwrap_or(old).to_owned();
        Day { starts_at: pick(&self.starts_at, &base.starts_at), time_zone: pick(&self.time_zone, &base.time_zone) }
    }
}

/// A definition as the API shows it: its numbers, name, formula and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefinitionView {
    pub threshold: u32,
    pub short_abandon: u32,
    pub abandons: Abandons,
    /// The formula with the numbers filled in ([`Definition::formula`]).
    pub formula: String,
    /// The scope whose stored definition is in force: a queue's or workflow's SID,
    /// `default` (the workspace's), or `built_in`.
    pub defined_by: String,
    /// The task channel of the stored definition in force; null when it is for every channel.
    #[serde(default)]
    pub defined_for_channel: Option<String>,
}

impl DefinitionView {
    /// The view of `d`, defined at `place` (`None`: the built-in).
    pub fn new(d: &Definition, place: Option<&Place>) -> Self {
        Self {
            threshold: d.threshold,
            short_abandon: d.short_abandon,
            abandons: d.abandons,
            formula: d.formula(),
            defined_by: place.map_or_else(|| BUILT_IN.to_owned(), |p| p.scope.clone()),
            defined_for_channel: place.and_then(|p| p.task_channel.clone()),
        }
    }

    pub fn definition(&self) -> Definition {
        Definition { threshold: self.threshold, short_abandon: self.short_abandon, abandons: self.abandons }
    }
}

/// `GET|POST …/ServiceLevels/{scope}[?TaskChannel=…]`: the definition in force for a scope
/// (the workspace's `default`, a workflow `WW…` or a task queue `WQ…`), for every channel
/// or one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceLevel {
    pub account_sid: AccountSid,
    pub workspace_sid: WorkspaceSid,
    /// `default`, a workflow SID or a task queue SID.
    pub scope: String,
    /// The task channel's unique name; null for every channel of the scope.
    #[serde(default)]
    pub task_channel: Option<String>,
    #[serde(flatten)]
    pub definition: DefinitionView,
    /// Whether this place (scope and channel) has a definition of its own (else
    /// `defined_by` and `defined_for_channel` name the one it inherits).
    pub stored: bool,
    /// The store's revision of the scope's own definition; null when it has none.
    pub revision: Option<i64>,
    /// When "today" starts for this scope ([`Day`]: one per scope, for every channel), and
    /// the scope whose setting it is (`day_defined_by`: the scope, `default` or `built_in`).
    pub day: Day,
    pub day_defined_by: String,
    #[serde(with = "twilio_format_opt")]
    pub date_updated: Option<DateTime<Utc>>,
    pub url: String,
}

/// `GET …/ServiceLevels`: the stored definitions of a workspace, by scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceLevelPage {
    pub service_levels: Vec<ServiceLevel>,
    pub meta: crate::resources::PageMeta,
}

/// Tasks waiting now near or past T (local engine only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AtRisk {
    /// N, in seconds.
    pub within: u32,
    /// Pending tasks whose wait will reach T within N seconds: T − N ≤ age < T (age in
    /// whole seconds, floored, from the task's creation).
    pub tasks: u64,
    /// Pending tasks already waiting T or longer.
    pub breached: u64,
}

/// `GET …/TaskQueues/{WQ}/ServiceLevel` and `…/Workflows/{WW}/ServiceLevel`: the service
/// level over a window under the definition in force, with its inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceLevelStatistics {
    pub account_sid: AccountSid,
    pub workspace_sid: WorkspaceSid,
    /// The task queue's or workflow's SID.
    pub scope: String,
    /// The `TaskChannel` asked for, as given; null for all channels.
    pub task_channel: Option<String>,
    #[serde(with = "twilio_format")]
    pub start_time: DateTime<Utc>,
    #[serde(with = "twilio_format")]
    pub end_time: DateTime<Utc>,
    pub definition: DefinitionView,
    /// numerator ÷ denominator in 0..=1; null when the denominator is 0.
    pub service_level: Option<f64>,
    pub numerator: u64,
    pub denominator: u64,
    pub inputs: Inputs,
    /// Null when the numbers come from an upstream (it has no pending tasks to look at).
    pub at_risk: Option<AtRisk>,
    pub url: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{Split, SplitCounts};

    fn split(accepted_below: u64, canceled_below: u64, accepted_above: u64, canceled_above: u64) -> Split {
        Split {
            below: SplitCounts { reservations_accepted: accepted_below, tasks_canceled: canceled_below },
            above: SplitCounts { reservations_accepted: accepted_above, tasks_canceled: canceled_above },
        }
    }

    fn def(t: u32, s: u32, a: Abandons) -> Definition {
        Definition::new(t, s, a).expect("valid")
    }

    /// The dashboard's formula before definitions existed (frontend `model::sla`), copied
    /// here to show the built-in reproduces it.
    fn todays(s: &Split) -> Option<f64> {
        let within = s.below.reservations_accepted;
        let d = within + s.above.reservations_accepted + s.above.tasks_canceled;
        (d > 0).then(|| within as f64 / d as f64)
    }

    #[test]
    fn the_built_in_reproduces_todays_number() {
        for s in [split(8, 5, 2, 2), split(0, 3, 0, 0), split(0, 0, 0, 1), split(5, 0, 3, 1), split(0, 0, 0, 0)] {
            let splits = SplitByWaitTime(vec![(20, s)]);
            let (_, out) = Definition::BUILT_IN.of_split(&splits).expect("T = 20 is there");
            assert_eq!(out.value, todays(&s), "{s:?}");
        }
        assert_eq!(Definition::BUILT_IN.thresholds(), [20]);
        assert_eq!(Definition::BUILT_IN.formula(), "answered < 20 s ÷ (answered + abandoned ≥ 20 s)");
    }

    /// One window, worked by hand (T = 30 s, S = 5 s). Waits, in seconds:
    /// answered 2, 10, 29.999, 30 (exactly T: not within), 45; abandoned 1, 4.999,
    /// 5 (exactly S: not short), 12, 30 (exactly T), 60.
    /// So answered = 5, answered < 30 = 3; abandoned = 6, abandoned < 5 = 2,
    /// abandoned < 30 = 4.
    fn window() -> SplitByWaitTime {
        SplitByWaitTime(vec![(5, split(1, 2, 4, 4)), (30, split(3, 4, 2, 2))])
    }

    #[test]
    fn inputs_come_from_the_splits_at_s_and_t() {
        let d = def(30, 5, Abandons::CountedAgainst);
        assert_eq!(d.thresholds(), [5, 30]);
        let i = d.inputs(&window()).expect("both splits");
        assert_eq!(i, Inputs { answered: 5, answered_within_threshold: 3, abandoned: 6, abandoned_short: 2 });
        // Without the split at S there is no number rather than a wrong one.
        assert_eq!(d.inputs(&SplitByWaitTime(vec![(30, split(3, 4, 2, 2))])), None);
        assert_eq!(d.inputs(&SplitByWaitTime(vec![(5, split(1, 2, 4, 4))])), None);
    }

    #[test]
    fn abandons_ignored() {
        let d = def(30, 5, Abandons::Ignored);
        assert_eq!(d.thresholds(), [30], "S plays no part");
        let (_, o) = d.of_split(&window()).expect("split");
        // 3 ÷ 5
        assert_eq!((o.numerator, o.denominator, o.value), (3, 5, Some(0.6)));
        assert_eq!(d.formula(), "answered < 30 s ÷ answered");
    }

    #[test]
    fn abandons_counted_against_without_short_abandons() {
        let d = def(30, 5, Abandons::CountedAgainst);
        let (_, o) = d.of_split(&window()).expect("split");
        // 3 ÷ (5 + 6 − 2): the abandon at exactly 5 s counts against, those at 1 and 4.999 s not.
        assert_eq!((o.numerator, o.denominator), (3, 9));
        assert_eq!(o.value, Some(3.0 / 9.0));
        assert_eq!(d.formula(), "answered < 30 s ÷ (answered + abandoned ≥ 5 s)");
    }

    #[test]
    fn abandons_counted_against_with_s_zero_is_over_offered() {
        let d = def(30, 0, Abandons::CountedAgainst);
        assert_eq!(d.thresholds(), [30]);
        let (i, o) = d.of_split(&window()).expect("split");
        assert_eq!(i.abandoned_short, 0);
        // 3 ÷ (5 + 6)
        assert_eq!((o.numerator, o.denominator), (3, 11));
        assert_eq!(d.formula(), "answered < 30 s ÷ (answered + abandoned)");
    }

    #[test]
    fn abandons_counted_against_with_s_equal_t() {
        let d = def(30, 30, Abandons::CountedAgainst);
        assert_eq!(d.thresholds(), [30]);
        let (_, o) = d.of_split(&window()).expect("split");
        // 3 ÷ (5 + 2): the abandons at 30 s (exactly T) and 60 s count against, the 4 before T not.
        assert_eq!((o.numerator, o.denominator), (3, 7));
    }

    #[test]
    fn short_abandons_counted_as_met() {
        let d = def(30, 5, Abandons::CountedAsMet);
        let (_, o) = d.of_split(&window()).expect("split");
        // (3 + 2) ÷ (5 + 6)
        assert_eq!((o.numerator, o.denominator), (5, 11));
        assert_eq!(d.formula(), "(answered < 30 s + abandoned < 5 s) ÷ (answered + abandoned)");
        // S = T: every abandon before T is met: (3 + 4) ÷ 11; the one at exactly 30 s is not.
        let (_, o) = def(30, 30, Abandons::CountedAsMet).of_split(&window()).expect("split");
        assert_eq!((o.numerator, o.denominator), (7, 11));
        // S = 0: nothing is short, so it is answered < T ÷ offered.
        let (_, o) = def(30, 0, Abandons::CountedAsMet).of_split(&window()).expect("split");
        assert_eq!((o.numerator, o.denominator), (3, 11));
    }

    #[test]
    fn empty_denominators_give_no_number() {
        let nothing = SplitByWaitTime(vec![(5, split(0, 0, 0, 0)), (30, split(0, 0, 0, 0))]);
        let only_short = SplitByWaitTime(vec![(5, split(0, 3, 0, 0)), (30, split(0, 3, 0, 0))]);
        let only_abandons = SplitByWaitTime(vec![(5, split(0, 0, 0, 2)), (30, split(0, 0, 0, 2))]);
        for a in Abandons::ALL {
            let d = def(30, 5, a);
            assert_eq!(d.of_split(&nothing).expect("split").1.value, None, "{a:?}");
        }
        assert_eq!(def(30, 5, Abandons::CountedAgainst).of_split(&only_short).expect("s").1.value, None);
        assert_eq!(def(30, 5, Abandons::Ignored).of_split(&only_abandons).expect("s").1.value, None);
        assert_eq!(def(30, 5, Abandons::CountedAgainst).of_split(&only_abandons).expect("s").1.value, Some(0.0));
        assert_eq!(def(30, 5, Abandons::CountedAsMet).of_split(&only_short).expect("s").1.value, Some(1.0));
    }

    #[test]
    fn bad_definitions_are_refused() {
        assert!(Definition::new(0, 0, Abandons::Ignored).is_err());
        assert!(Definition::new(MAX_THRESHOLD + 1, 0, Abandons::Ignored).is_err());
        let e = Definition::new(20, 21, Abandons::CountedAgainst).unwrap_err();
        assert!(e.0.contains("ShortAbandon"), "{e}");
        assert!(Definition::new(MAX_THRESHOLD, MAX_THRESHOLD, Abandons::CountedAsMet).is_ok());
        let stored = Definition { threshold: 10, short_abandon: 11, abandons: Abandons::Ignored };
        assert!(stored.validated().is_err());
    }

    #[test]
    fn the_wire_form_is_stable() {
        let d = def(30, 5, Abandons::CountedAsMet);
        let v = serde_json::to_value(d).expect("json");
        assert_eq!(v, serde_json::json!({"threshold": 30, "short_abandon": 5, "abandons": "counted_as_met"}));
        assert_eq!(serde_json::from_value::<Definition>(v).expect("back"), d);
        for a in Abandons::ALL {
            assert_eq!(Abandons::parse(a.name()), Some(a));
            assert_eq!(serde_json::to_value(a).expect("json"), serde_json::json!(a.name()));
        }
    }

    #[test]
    fn days_parse_and_apply() {
        assert_eq!(parse_hh_mm("06:30"), Some(390));
        assert_eq!(parse_hh_mm("23:59"), Some(1439));
        for bad in ["24:00", "6:30", "06:60", "0630", "", "aa:bb", "06:30:00"] {
            assert_eq!(parse_hh_mm(bad), None, "{bad}");
        }
        let u = DayUpdate::parse([("DayStartsAt", "06:00"), ("TimeZone", "Europe/Paris")]).expect("ok");
        assert_eq!(u.apply(&Day::default()), Day { starts_at: "06:00".into(), time_zone: "Europe/Paris".into() });
        let zone_only = DayUpdate::parse([("TimeZone", "America/New_York")]).expect("ok");
        assert_eq!(zone_only.apply(&Day::default()).starts_at, "00:00");
        assert!(DayUpdate::parse([("DayStartsAt", "25:00")]).is_err());
        assert!(DayUpdate::parse([("TimeZone", "Europe/ Paris")]).is_err());
        assert!(DayUpdate::parse([("DayStartsAt", ""), ("TimeZone", "")]).expect("ok").removes());
        assert!(DayUpdate::parse([("Threshold", "3")]).expect("ok").is_empty());
    }

    #[test]
    fn updates_parse_and_apply() {
        let u = DefinitionUpdate::parse([("Threshold", "30"), ("Abandons", "ignored"), ("Other", "x")]).expect("ok");
        assert_eq!(u, DefinitionUpdate { threshold: Some(30), short_abandon: None, abandons: Some(Abandons::Ignored) });
        // S followed T in the built-in, so it follows the new T.
        assert_eq!(u.apply(Definition::BUILT_IN).expect("valid"), def(30, 30, Abandons::Ignored));
        let s = DefinitionUpdate::parse([("ShortAbandon", "5")]).expect("ok");
        assert_eq!(s.apply(Definition::BUILT_IN).expect("valid"), def(20, 5, Abandons::CountedAgainst));
        let t = DefinitionUpdate::parse([("Threshold", "10")]).expect("ok");
        assert_eq!(t.apply(def(30, 5, Abandons::CountedAgainst)).expect("valid"), def(10, 5, Abandons::CountedAgainst));
        assert!(DefinitionUpdate::parse([("ShortAbandon", "25")]).expect("ok").apply(Definition::BUILT_IN).is_err());
        for bad in [("Threshold", "-1"), ("Threshold", "1.5"), ("Threshold", ""), ("Abandons", "maybe")] {
            assert!(DefinitionUpdate::parse([bad]).is_err(), "{bad:?}");
        }
        assert!(DefinitionUpdate::parse([("Threshold", "9999999999")]).is_err());
        assert!(DefinitionUpdate::parse([("Threshold", "1"), ("Threshold", "2")]).is_err());
        assert!(DefinitionUpdate::parse([]).expect("ok").is_empty());
        assert_eq!(parse_within([("Within", "15")]).expect("ok"), Some(15));
        assert_eq!(parse_within([]).expect("ok"), None);
        assert!(parse_within([("Within", "x")]).is_err());
    }

    #[test]
    fn a_place_is_named_by_its_scope_and_channel() {
        let voice = Place::new("WQ1", Some("voice"));
        assert_eq!(voice.key(), "WQ1/voice");
        assert_eq!(Place::from_key("WQ1/voice"), Some(voice));
        assert_eq!(Place::from_key("default"), Some(Place::new("default", None)));
        assert_eq!(Place::from_key(""), None);
        assert_eq!(Place::from_key("WQ1/"), None);
        assert_eq!(Place::from_key("/voice"), None);
    }

    #[test]
    fn the_most_specific_stored_place_is_in_force() {
        let order = |scope, ch| lookup_order(scope, ch).iter().map(Place::key).collect::<Vec<_>>();
        assert_eq!(order("WQ1", Some("voice")), ["WQ1/voice", "WQ1", "default/voice", "default"]);
        assert_eq!(order("WQ1", None), ["WQ1", "default"]);
        assert_eq!(order("default", Some("chat")), ["default/chat", "default"]);
        assert_eq!(order("default", None), ["default"]);

        let d = |t| def(t, 0, Abandons::Ignored);
        let stored = Definitions(vec![
            (Place::new("default", None), d(30)),
            (Place::new("default", Some("chat")), d(60)),
            (Place::new("WQ1", None), d(15)),
            (Place::new("WQ2", Some("voice")), d(10)),
        ]);
        let at = |scope, ch| {
            let (def, by) = stored.in_force(scope, ch);
            (def.threshold, by.map(Place::key))
        };
        assert_eq!(at("WQ1", Some("voice")), (15, Some("WQ1".into())), "the scope's own, every channel");
        assert_eq!(at("WQ1", Some("chat")), (15, Some("WQ1".into())), "the scope before the default's channel");
        assert_eq!(at("WQ2", Some("voice")), (10, Some("WQ2/voice".into())));
        assert_eq!(at("WQ2", Some("chat")), (60, Some("default/chat".into())));
        assert_eq!(at("WQ2", None), (30, Some("default".into())), "a channel's definition is not every channel's");
        assert_eq!(Definitions::default().in_force("WQ2", Some("voice")), (Definition::BUILT_IN, None));
    }

    #[test]
    fn a_view_names_where_its_definition_comes_from() {
        let v = DefinitionView::new(&Definition::BUILT_IN, None);
        assert_eq!((v.defined_by.as_str(), v.defined_for_channel), (BUILT_IN, None));
        let v = DefinitionView::new(&Definition::BUILT_IN, Some(&Place::new("WW1", Some("sms"))));
        assert_eq!((v.defined_by.as_str(), v.defined_for_channel.as_deref()), ("WW1", Some("sms")));
        assert_eq!(v.definition(), Definition::BUILT_IN);
    }
}
