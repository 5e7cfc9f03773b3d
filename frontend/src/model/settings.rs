//! The settings page (admins only): service-level definitions per scope (for every task
//! channel or one) and alert rules, as forms of text fields that turn into the server's form
//! parameters (checked here with the server's own parsers from `wallboard-shared`, so the
//! page says what is wrong before it asks), the rows of the service-level table, the
//! choices of the selects, and the preview's summary sentence.

use std::collections::BTreeMap;

use serde::Deserialize;
use wallboard_shared::alerts::{
    Comparison, Level, MAX_DURATION, Measure, NoticeKind, Preview, PreviewSource, RuleTarget, RuleUpdate, number,
};
use wallboard_shared::service_level::{Abandons, BUILT_IN, Day, MAX_THRESHOLD, WORKSPACE_DEFAULT, parse_hh_mm};

use super::view::encode;

/// The message of a settings call refused with 403.
pub const NEED_ADMIN: &str = "Settings need an admin token";

/// What the page reads of `wallboard_shared::service_level::ServiceLevel` (a lean copy:
/// the shared type's flattened fields and dates would cost the wasm far more).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LevelView {
    pub scope: String,
    /// The channel's unique name; None: every channel of the scope.
    #[serde(default)]
    pub task_channel: Option<String>,
    pub threshold: u32,
    pub short_abandon: u32,
    pub abandons: Abandons,
    pub formula: String,
    pub defined_by: String,
    /// The channel of the stored definition in force; None: it is for every channel.
    #[serde(default)]
    pub defined_for_channel: Option<String>,
    pub stored: bool,
    pub day: Day,
    pub day_defined_by: String,
}

/// `GET …/ServiceLevels` as the page reads it: every stored place.
#[derive(Debug, Deserialize)]
pub struct LevelList {
    pub service_levels: Vec<LevelView>,
}

/// What the page reads of `wallboard_shared::alerts::RuleResource` (lean, as above).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RuleView {
    pub sid: String,
    pub name: String,
    pub target: String,
    #[serde(default)]
    pub task_channel: Option<String>,
    pub measure: Measure,
    pub comparison: Comparison,
    pub threshold: f64,
    #[serde(rename = "for")]
    pub for_s: u32,
    pub clear_threshold: f64,
    pub clear_for: u32,
    pub level: Level,
    pub enabled: bool,
    pub description: String,
}

/// `GET …/AlertRules` as the page reads it.
#[derive(Debug, Deserialize)]
pub struct RuleList {
    pub alert_rules: Vec<RuleView>,
}

/// One option of a select: the value sent and the words shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

impl Choice {
    fn new(value: impl Into<String>, label: impl Into<String>) -> Self {
        Self { value: value.into(), label: label.into() }
    }
}

/// `(sid, name)` pairs as the dashboard knows them.
pub type Named<'a> = &'a [(String, String)];

fn kind(prefix: &str, items: Named<'_>) -> impl Iterator<Item = Choice> {
    items.iter().map(move |(sid, name)| {
        let name = if name.is_empty() { sid.as_str() } else { name.as_str() };
        Choice::new(sid.clone(), format!("{prefix} · {name}"))
    })
}

/// The rows of the service-level table: the workspace's default, then each workflow and
/// each queue.
pub fn scopes(workflows: Named<'_>, queues: Named<'_>) -> Vec<Choice> {
    std::iter::once(Choice::new(WORKSPACE_DEFAULT, "Workspace (default)"))
        .chain(kind("Workflow", workflows))
        .chain(kind("Queue", queues))
        .collect()
}

/// The targets a rule may watch: the workspace, each workflow, queue and activity.
pub fn targets(workflows: Named<'_>, queues: Named<'_>, activities: Named<'_>) -> Vec<Choice> {
    std::iter::once(Choice::new("workspace", "Workspace"))
        .chain(kind("Workflow", workflows))
        .chain(kind("Queue", queues))
        .chain(kind("Activity", activities))
        .collect()
}

/// The label of `value` among `choices`; the value itself when the dashboard does not know it.
pub fn label_of(value: &str, choices: &[Choice]) -> String {
    choices.iter().find(|c| c.value == value).map_or_else(|| value.to_owned(), |c| c.label.clone())
}

/// Who defines the setting of `scope` for `channel` (empty: every channel), in words:
/// `by` is `defined_by` (or `day_defined_by`), `by_channel` its `defined_for_channel`.
pub fn defined_by(scope: &str, channel: &str, by: &str, by_channel: Option<&str>, scopes: &[Choice]) -> String {
    if by == BUILT_IN {
        return "built-in".to_owned();
    }
    let whose = if by == scope { "this scope".to_owned() } else { label_of(by, scopes) };
    let whose = match by_channel {
        Some(c) => format!("{whose} for {c}"),
        None if !channel.is_empty() => format!("{whose}, all channels"),
        None => whose,
    };
    if by == scope && by_channel.unwrap_or_default() == channel { whose } else { format!("inherited from {whose}") }
}

/// The choices of the channel select: every channel (`""`), then each task channel by its
/// unique name.
pub fn channel_choices<'a>(unique_names: impl IntoIterator<Item = &'a str>) -> Vec<Choice> {
    std::iter::once(Choice::new("", "All channels"))
        .chain(unique_names.into_iter().map(|n| Choice::new(n, n)))
        .collect()
}

/// The path of a place under the workspace: `ServiceLevels/{scope}`, and
/// `?TaskChannel=…` (percent-encoded) for one channel (`channel` not empty).
pub fn level_path(scope: &str, channel: &str) -> String {
    if channel.is_empty() {
        format!("ServiceLevels/{scope}")
    } else {
        format!("ServiceLevels/{scope}?TaskChannel={}", encode(channel))
    }
}

/// The definitions in force read for each scope (for the chosen channel), or why not.
pub type Levels = BTreeMap<String, Result<LevelView, String>>;

/// One row of the service-level table: a place (a scope, for every channel or one) and
/// what is read of it (None: not yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelRow {
    pub scope: String,
    /// A channel's unique name; empty: every channel.
    pub channel: String,
    pub label: String,
    pub level: Option<Result<LevelView, String>>,
}

impl LevelRow {
    /// `sl-row-{scope}`, `sl-row-{scope}-{channel}` for one channel.
    pub fn testid(&self) -> String {
        if self.channel.is_empty() {
            format!("sl-row-{}", self.scope)
        } else {
            format!("sl-row-{}-{}", self.scope, self.channel)
        }
    }

    /// Whether the place has a definition of its own (it may inherit again).
    pub fn stored(&self) -> bool {
        matches!(&self.level, Some(Ok(sl)) if sl.stored)
    }
}

/// The rows of the service-level table: each scope for the chosen `channel` (empty: every
/// channel; `read` holds what is read for it), each followed by the scope's stored
/// definitions for other channels (from `GET …/ServiceLevels`); then stored channel
/// definitions of scopes the dashboard does not list.
pub fn level_rows(scopes: &[Choice], channel: &str, read: &Levels, stored: &[LevelView]) -> Vec<LevelRow> {
    let row = |scope: &str, label: &str, ch: &str, level: Option<Result<LevelView, String>>| LevelRow {
        scope: scope.to_owned(),
        channel: ch.to_owned(),
        label: if ch.is_empty() { label.to_owned() } else { format!("{label} · {ch}") },
        level,
    };
    let mut rows = Vec::new();
    for scope in scopes {
        rows.push(row(&scope.value, &scope.label, channel, read.get(&scope.value).cloned()));
        for sl in stored.iter().filter(|sl| sl.scope == scope.value) {
            if let Some(ch) = sl.task_channel.as_deref().filter(|c| *c != channel) {
                rows.push(row(&scope.value, &scope.label, ch, Some(Ok(sl.clone()))));
            }
        }
    }
    for sl in stored.iter().filter(|sl| sl.task_channel.is_some() && !scopes.iter().any(|s| s.value == sl.scope)) {
        let ch = sl.task_channel.as_deref().unwrap_or_default();
        rows.push(row(&sl.scope, &sl.scope, ch, Some(Ok(sl.clone()))));
    }
    rows
}

/// The measures that have a value for `target` (none for an unknown target).
pub fn measures_for(target: &str) -> Vec<Measure> {
    match RuleTarget::parse(target) {
        Some(t) => Measure::ALL.into_iter().filter(|m| m.applies_to(&t)).collect(),
        None => Vec::new(),
    }
}

/// What the user sees of a refused settings call (status 0: no answer at all).
pub fn refusal(status: u16, message: &str) -> String {
    match status {
        403 => NEED_ADMIN.to_owned(),
        0 => "the server cannot be reached".to_owned(),
        _ if message.trim().is_empty() => format!("the server answered {status}"),
        _ => message.trim().to_owned(),
    }
}

/// A form body (`application/x-www-form-urlencoded`).
pub fn encode_form(pairs: &[(&str, String)]) -> String {
    pairs.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect::<Vec<_>>().join("&")
}

/// The edit form of one place's service level (a scope, for every channel or one), as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelForm {
    /// The place's channel (its unique name); empty: every channel, the only place with a day.
    pub channel: String,
    pub threshold: String,
    pub short_abandon: String,
    pub abandons: Abandons,
    pub starts_at: String,
    pub time_zone: String,
}

impl LevelForm {
    /// The form of the definition in force.
    pub fn of(sl: &LevelView) -> Self {
        let d = sl;
        Self {
            channel: sl.task_channel.clone().unwrap_or_default(),
            threshold: d.threshold.to_string(),
            short_abandon: d.short_abandon.to_string(),
            abandons: d.abandons,
            starts_at: sl.day.starts_at.clone(),
            time_zone: sl.day.time_zone.clone(),
        }
    }

    /// The parameters of `POST …/ServiceLevels/{scope}`: the definition, and the day only
    /// when it differs from `loaded`'s (an inherited day stays inherited) and the place is
    /// for every channel (a day is the scope's), or why not.
    pub fn pairs(&self, loaded: &LevelForm) -> Result<Vec<(&'static str, String)>, String> {
        let secs = |what: &str, raw: &str| -> Result<u32, String> {
            match raw.trim().parse::<u32>() {
                Ok(v) if v <= MAX_THRESHOLD => Ok(v),
                _ => Err(format!("{what} must be a whole number of seconds from 0 to {MAX_THRESHOLD}")),
            }
        };
        let t = secs("T", &self.threshold)?;
        let s = secs("S", &self.short_abandon)?;
        if s > t {
            return Err("S (short abandon) must not exceed T".to_owned());
        }
        let mut pairs = vec![("Threshold", t.to_string()), ("ShortAbandon", s.to_string())];
        pairs.push(("Abandons", self.abandons.name().to_owned()));
        let (start, zone) = (self.starts_at.trim(), self.time_zone.trim());
        if self.channel.is_empty() && (start, zone) != (loaded.starts_at.trim(), loaded.time_zone.trim()) {
            if parse_hh_mm(start).is_none() {
                return Err("The day starts at HH:MM (00:00 to 23:59)".to_owned());
            }
            if zone.is_empty() || zone.len() > 64 || zone.chars().any(char::is_whitespace) {
                return Err("The time zone is an IANA name such as Europe/Paris".to_owned());
            }
            pairs.push(("DayStartsAt", start.to_owned()));
            pairs.push(("TimeZone", zone.to_owned()));
        }
        Ok(pairs)
    }
}

/// The words of an `Abandons` choice.
pub fn abandons_label(a: Abandons) -> &'static str {
    match a {
        Abandons::Ignored => "ignored",
        Abandons::CountedAgainst => "counted against",
        Abandons::CountedAsMet => "short ones count as met",
    }
}

/// The create/edit form of an alert rule, as typed. Empty clear fields follow the
/// threshold and the duration.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleForm {
    /// The rule being edited; None: a new one.
    pub sid: Option<String>,
    pub name: String,
    pub target: String,
    /// A channel's unique name; empty: all channels.
    pub task_channel: String,
    pub measure: Measure,
    pub comparison: Comparison,
    pub threshold: String,
    pub for_s: String,
    pub clear_threshold: String,
    pub clear_for: String,
    pub level: Level,
    pub enabled: bool,
}

impl Default for RuleForm {
    fn default() -> Self {
        Self {
            sid: None,
            name: String::new(),
            target: "workspace".to_owned(),
            task_channel: String::new(),
            measure: Measure::Waiting,
            comparison: Comparison::Above,
            threshold: String::new(),
            for_s: "60".to_owned(),
            clear_threshold: String::new(),
            clear_for: String::new(),
            level: Level::Warning,
            enabled: true,
        }
    }
}

impl RuleForm {
    /// The form of a stored rule.
    pub fn of(rule: &RuleView) -> Self {
        let c = rule;
        Self {
            sid: Some(rule.sid.clone()),
            name: rule.name.clone(),
            target: rule.target.clone(),
            task_channel: rule.task_channel.clone().unwrap_or_default(),
            measure: c.measure,
            comparison: c.comparison,
            threshold: number(c.threshold),
            for_s: c.for_s.to_string(),
            clear_threshold: if c.clear_threshold == c.threshold { String::new() } else { number(c.clear_threshold) },
            clear_for: if c.clear_for == c.for_s { String::new() } else { c.clear_for.to_string() },
            level: rule.level,
            enabled: rule.enabled,
        }
    }

    /// Another target; the measure becomes the first that applies to it if it no longer
    /// does, and an activity counts agents of every channel.
    pub fn set_target(&mut self, target: &str) {
        self.target = target.to_owned();
        let fits = measures_for(target);
        if !fits.contains(&self.measure)
            && let Some(&first) = fits.first()
        {
            self.measure = first;
        }
        if target.starts_with("WA") {
            self.task_channel.clear();
        }
    }

    /// The form parameters of a create, an update (all of them: an emptied clear field
    /// follows the threshold again) or a preview, checked by the server's parser.
    pub fn pairs(&self) -> Result<Vec<(&'static str, String)>, String> {
        let (threshold, for_s) = (self.threshold.trim(), self.for_s.trim());
        if threshold.is_empty() {
            return Err("Give a threshold".to_owned());
        }
        let for_s = if for_s.is_empty() { "0" } else { for_s };
        let or = |raw: &str, default: &str| {
            let raw = raw.trim();
            if raw.is_empty() { default.to_owned() } else { raw.to_owned() }
        };
        let pairs = vec![
            ("Name", self.name.trim().to_owned()),
            ("Target", self.target.clone()),
            ("TaskChannel", self.task_channel.trim().to_owned()),
            ("Measure", self.measure.name().to_owned()),
            ("Comparison", self.comparison.symbol().to_owned()),
            ("Threshold", threshold.to_owned()),
            ("For", for_s.to_owned()),
            ("ClearThreshold", or(&self.clear_threshold, threshold)),
            ("ClearFor", or(&self.clear_for, for_s)),
            ("Level", self.level.name().to_owned()),
            ("Enabled", self.enabled.to_string()),
        ];
        let update = RuleUpdate::parse(pairs.iter().map(|(k, v)| (*k, v.as_str()))).map_err(|e| e.0)?;
        update.create(String::new(), chrono::DateTime::UNIX_EPOCH).map_err(|e| e.0)?;
        Ok(pairs)
    }

    /// The parameters of a preview: a name is not needed to see what a rule would do.
    pub fn preview_pairs(&self) -> Result<Vec<(&'static str, String)>, String> {
        let mut form = self.clone();
        if form.name.trim().is_empty() {
            form.name = "preview".to_owned();
        }
        form.pairs()
    }
}

/// The hint under the duration fields.
pub fn duration_hint() -> String {
    format!("seconds, 0 to {MAX_DURATION}")
}

/// How many times the preview's rule fired.
pub fn fired_count(p: &Preview) -> usize {
    p.transitions.iter().filter(|t| t.kind == NoticeKind::Fired).count()
}

/// The sentence under the preview's chart.
pub fn preview_summary(p: &Preview) -> String {
    if p.source == PreviewSource::None {
        return "Over the last hour: no history for this measure yet (source: none).".to_owned();
    }
    let n = fired_count(p);
    let times = if n == 1 { "1 time".to_owned() } else { format!("{n} times") };
    let source = match p.source {
        PreviewSource::Computed => "computed per minute",
        _ => "recorded values",
    };
    let now = if p.firing { ", and would be firing now" } else { "" };
    format!("Over the last hour this rule would have fired {times}{now} ({source}).")
}

#[cfg(test)]
mod tests {
    use super::*;
    use wallboard_shared::alerts::{Condition, PreviewTransition, Rule, RuleResource, Sample};
    use wallboard_shared::service_level::{DefinitionView, ServiceLevel};
    use wallboard_shared::{AccountSid, WorkspaceSid};

    const WW: &str = "WW0123456789abcdef0123456789abcdef";
    const WQ: &str = "WQ0123456789abcdef0123456789abcdef";
    const WA: &str = "WA0123456789abcdef0123456789abcdef";

    fn named(sid: &str, name: &str) -> Vec<(String, String)> {
        vec![(sid.to_owned(), name.to_owned())]
    }

    #[test]
    fn scopes_and_targets_in_order() {
        let s = scopes(&named(WW, "Sales"), &named(WQ, ""));
        let labels: Vec<&str> = s.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(labels, ["Workspace (default)", "Workflow · Sales", &format!("Queue · {WQ}")]);
        assert_eq!(s[0].value, "default");
        let t = targets(&named(WW, "Sales"), &named(WQ, "EN"), &named(WA, "Break"));
        let values: Vec<&str> = t.iter().map(|c| c.value.as_str()).collect();
        assert_eq!(values, ["workspace", WW, WQ, WA]);
        assert_eq!(label_of(WA, &t), "Activity · Break");
        assert_eq!(label_of("WQ99", &t), "WQ99");
        assert_eq!(defined_by(WQ, "", "built_in", None, &s), "built-in");
        assert_eq!(defined_by(WQ, "voice", "built_in", None, &s), "built-in");
        assert_eq!(defined_by(WQ, "", WQ, None, &s), "this scope");
        assert_eq!(defined_by(WQ, "", "default", None, &s), "inherited from Workspace (default)");
    }

    #[test]
    fn who_defines_a_channels_definition() {
        let s = scopes(&named(WW, "Sales"), &named(WQ, "EN"));
        assert_eq!(defined_by(WQ, "voice", WQ, Some("voice"), &s), "this scope for voice");
        assert_eq!(defined_by(WQ, "voice", WQ, None, &s), "inherited from this scope, all channels");
        assert_eq!(
            defined_by(WQ, "voice", "default", Some("voice"), &s),
            "inherited from Workspace (default) for voice"
        );
        assert_eq!(defined_by(WQ, "voice", "default", None, &s), "inherited from Workspace (default), all channels");
        assert_eq!(defined_by(WQ, "", "default", Some("voice"), &s), "inherited from Workspace (default) for voice");
    }

    #[test]
    fn channel_choices_and_paths() {
        let c = channel_choices(["voice", "chat"]);
        let pairs: Vec<(&str, &str)> = c.iter().map(|c| (c.value.as_str(), c.label.as_str())).collect();
        assert_eq!(pairs, [("", "All channels"), ("voice", "voice"), ("chat", "chat")]);
        assert_eq!(level_path(WQ, ""), format!("ServiceLevels/{WQ}"));
        assert_eq!(level_path("default", "voice"), "ServiceLevels/default?TaskChannel=voice");
        assert_eq!(level_path("default", "a&b c+d"), "ServiceLevels/default?TaskChannel=a%26b%20c%2Bd");
    }

    fn at(scope: &str, channel: Option<&str>, stored: bool) -> LevelView {
        LevelView { scope: scope.into(), task_channel: channel.map(Into::into), stored, ..level("built_in") }
    }

    #[test]
    fn rows_of_each_scope_and_its_stored_channels() {
        let s = scopes(&named(WW, "Sales"), &named(WQ, "EN"));
        let stored = [
            at("default", None, true),
            at("default", Some("chat"), true),
            at(WQ, Some("voice"), true),
            at("WQffffffffffffffffffffffffffffffff", Some("sms"), true),
        ];
        let mut read = Levels::new();
        read.insert("default".into(), Ok(at("default", None, true)));
        read.insert(WQ.into(), Err("refused".into()));
        let rows = level_rows(&s, "", &read, &stored);
        let ids: Vec<String> = rows.iter().map(LevelRow::testid).collect();
        assert_eq!(
            ids,
            [
                "sl-row-default".to_owned(),
                "sl-row-default-chat".to_owned(),
                format!("sl-row-{WW}"),
                format!("sl-row-{WQ}"),
                format!("sl-row-{WQ}-voice"),
                "sl-row-WQffffffffffffffffffffffffffffffff-sms".to_owned(),
            ]
        );
        let labels: Vec<&str> = rows.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(labels[..2], ["Workspace (default)", "Workspace (default) · chat"]);
        assert_eq!(labels[4], "Queue · EN · voice");
        assert_eq!(rows[2].level, None, "not read yet");
        assert_eq!(rows[3].level, Some(Err("refused".into())));
        assert!(rows[0].stored() && rows[1].stored() && !rows[2].stored() && !rows[3].stored());
        // For voice: each scope's row is its voice place; the queue's stored voice row is
        // that row, not another one.
        let mut read = Levels::new();
        read.insert(WQ.into(), Ok(at(WQ, Some("voice"), true)));
        let rows = level_rows(&s, "voice", &read, &stored);
        let ids: Vec<String> = rows.iter().map(LevelRow::testid).collect();
        assert_eq!(
            ids[..4],
            [
                "sl-row-default-voice".to_owned(),
                "sl-row-default-chat".to_owned(),
                format!("sl-row-{WW}-voice"),
                format!("sl-row-{WQ}-voice"),
            ]
        );
        assert_eq!(ids.len(), 5);
        assert!(rows[3].stored());
        assert_eq!((rows[3].scope.as_str(), rows[3].channel.as_str()), (WQ, "voice"));
    }

    #[test]
    fn measures_follow_the_target() {
        assert_eq!(measures_for(WA), [Measure::Agents, Measure::Stale]);
        assert!(!measures_for("workspace").contains(&Measure::ServiceLevel));
        assert!(measures_for(WW).contains(&Measure::ServiceLevel));
        assert!(!measures_for(WW).contains(&Measure::AgentsAvailable));
        assert_eq!(measures_for(WQ).len(), Measure::ALL.len() - 1);
        assert!(measures_for("nope").is_empty());
        let mut f = RuleForm { measure: Measure::ServiceLevel, task_channel: "voice".into(), ..Default::default() };
        f.set_target(WQ);
        assert_eq!((f.measure, f.task_channel.as_str()), (Measure::ServiceLevel, "voice"), "still fits");
        f.set_target(WA);
        assert_eq!((f.measure, f.task_channel.as_str()), (Measure::Agents, ""), "refitted");
    }

    #[test]
    fn rule_forms_become_checked_parameters() {
        let mut f =
            RuleForm { name: " Long wait ".into(), threshold: "60".into(), for_s: "30".into(), ..Default::default() };
        f.set_target(WQ);
        f.measure = Measure::LongestWait;
        let pairs = f.pairs().expect("valid");
        let get = |k: &str| pairs.iter().find(|p| p.0 == k).map(|p| p.1.as_str());
        assert_eq!(get("Name"), Some("Long wait"));
        assert_eq!(get("ClearThreshold"), Some("60"), "follows the threshold");
        assert_eq!(get("ClearFor"), Some("30"));
        assert_eq!(get("Comparison"), Some(">"));
        assert_eq!(
            encode_form(&pairs[..5]),
            format!("Name=Long%20wait&Target={WQ}&TaskChannel=&Measure=longest_wait&Comparison=%3E")
        );
        assert_eq!(RuleForm { threshold: String::new(), ..f.clone() }.pairs(), Err("Give a threshold".into()));
        let err = RuleForm { threshold: "abc".into(), ..f.clone() }.pairs().expect_err("not a number");
        assert!(err.contains("Threshold must be a number"), "{err}");
        let err = RuleForm { clear_threshold: "70".into(), ..f.clone() }.pairs().expect_err("bad side");
        assert!(err.contains("good side"), "{err}");
        let err = RuleForm { name: String::new(), ..f.clone() }.pairs().expect_err("no name");
        assert!(err.contains("Name"), "{err}");
        assert!(RuleForm { name: String::new(), ..f.clone() }.preview_pairs().is_ok(), "a preview needs no name");
        let err = RuleForm { measure: Measure::Agents, ..f.clone() }.pairs().expect_err("does not apply");
        assert!(err.contains("does not apply"), "{err}");
        let err = RuleForm { for_s: "100000".into(), ..f }.pairs().expect_err("too long");
        assert!(err.contains("For"), "{err}");
    }

    #[test]
    fn a_stored_rule_reads_back_into_its_form() {
        let now = chrono::DateTime::UNIX_EPOCH;
        let rule = |clear: f64, clear_for: u32| Rule {
            sid: "AR1".into(),
            name: "x".into(),
            target: RuleTarget::TaskQueue(WQ.into()),
            task_channel: Some("voice".into()),
            condition: Condition {
                measure: Measure::Waiting,
                comparison: Comparison::AtLeast,
                threshold: 5.0,
                for_s: 10,
                clear_threshold: clear,
                clear_for,
            },
            level: Level::Critical,
            enabled: false,
            date_created: now,
            date_updated: now,
        };
        // Read from the shared type's JSON, as the page reads the server's.
        let view = |rule: Rule| -> RuleView {
            let resource = RuleResource {
                account_sid: AccountSid::from_u128(1),
                workspace_sid: WorkspaceSid::from_u128(2),
                description: rule.condition.describe(),
                state: None,
                url: String::new(),
                rule,
            };
            serde_json::from_value(serde_json::to_value(&resource).expect("ser")).expect("de")
        };
        let f = RuleForm::of(&view(rule(5.0, 10)));
        assert_eq!((f.clear_threshold.as_str(), f.clear_for.as_str()), ("", ""));
        assert_eq!((f.sid.as_deref(), f.target.as_str(), f.task_channel.as_str()), (Some("AR1"), WQ, "voice"));
        let v = view(rule(2.5, 60));
        assert_eq!(v.description, "tasks waiting >= 5 for 10 s");
        let f = RuleForm::of(&v);
        assert_eq!((f.clear_threshold.as_str(), f.clear_for.as_str()), ("2.5", "60"));
        let pairs = f.pairs().expect("valid");
        assert!(pairs.contains(&("Enabled", "false".into())) && pairs.contains(&("Level", "critical".into())));
    }

    fn level(day_by: &str) -> LevelView {
        let shared = ServiceLevel {
            account_sid: AccountSid::from_u128(1),
            workspace_sid: WorkspaceSid::from_u128(2),
            scope: WQ.into(),
            task_channel: None,
            definition: DefinitionView {
                threshold: 30,
                short_abandon: 5,
                abandons: Abandons::CountedAgainst,
                formula: String::new(),
                defined_by: "default".into(),
                defined_for_channel: None,
            },
            stored: false,
            revision: None,
            day: Day::default(),
            day_defined_by: day_by.into(),
            date_updated: None,
            url: String::new(),
        };
        serde_json::from_value(serde_json::to_value(&shared).expect("ser")).expect("de")
    }

    #[test]
    fn level_forms() {
        let loaded = LevelForm::of(&level("built_in"));
        assert_eq!((loaded.threshold.as_str(), loaded.short_abandon.as_str()), ("30", "5"));
        let pairs = loaded.pairs(&loaded).expect("valid");
        assert_eq!(
            encode_form(&pairs),
            "Threshold=30&ShortAbandon=5&Abandons=counted_against",
            "the day stays inherited"
        );
        let moved = LevelForm { starts_at: "06:00".into(), time_zone: "Europe/Paris".into(), ..loaded.clone() };
        assert_eq!(
            encode_form(&moved.pairs(&loaded).expect("valid")),
            "Threshold=30&ShortAbandon=5&Abandons=counted_against&DayStartsAt=06:00&TimeZone=Europe/Paris"
        );
        // A channel's definition: never a day (the server refuses one with a TaskChannel).
        let voice = LevelForm::of(&LevelView { task_channel: Some("voice".into()), ..level("built_in") });
        assert_eq!(voice.channel, "voice");
        let moved = LevelForm { threshold: "60".into(), starts_at: "06:00".into(), ..voice.clone() };
        assert_eq!(
            encode_form(&moved.pairs(&voice).expect("valid")),
            "Threshold=60&ShortAbandon=5&Abandons=counted_against"
        );
        let bad = |f: LevelForm| f.pairs(&loaded).expect_err("invalid");
        assert!(bad(LevelForm { short_abandon: "40".into(), ..loaded.clone() }).contains("must not exceed T"));
        assert!(bad(LevelForm { threshold: "-1".into(), ..loaded.clone() }).contains("whole number"));
        assert!(bad(LevelForm { starts_at: "25:00".into(), ..loaded.clone() }).contains("HH:MM"));
        assert!(bad(LevelForm { time_zone: "Europe/ Paris".into(), ..loaded.clone() }).contains("IANA"));
    }

    #[test]
    fn refusals_in_words() {
        assert_eq!(refusal(403, "Only the account credentials…"), NEED_ADMIN);
        assert_eq!(refusal(400, "Threshold must be a number, got 'x'"), "Threshold must be a number, got 'x'");
        assert_eq!(refusal(0, ""), "the server cannot be reached");
        assert_eq!(refusal(502, ""), "the server answered 502");
    }

    #[test]
    fn preview_sentences() {
        let sample = |at_ms| Sample { at_ms, value: Some(1.0) };
        let fired = |at_ms| PreviewTransition { at_ms, kind: NoticeKind::Fired };
        let cleared = |at_ms| PreviewTransition { at_ms, kind: NoticeKind::Cleared };
        let mut p = Preview {
            description: String::new(),
            source: PreviewSource::Recorded,
            samples: vec![sample(0), sample(1)],
            transitions: vec![fired(1), cleared(2), fired(3)],
            firing: true,
        };
        assert_eq!(fired_count(&p), 2);
        assert_eq!(
            preview_summary(&p),
            "Over the last hour this rule would have fired 2 times, and would be firing now (recorded values)."
        );
        p.transitions.truncate(1);
        p.firing = false;
        p.source = PreviewSource::Computed;
        assert_eq!(preview_summary(&p), "Over the last hour this rule would have fired 1 time (computed per minute).");
        p.source = PreviewSource::None;
        assert_eq!(preview_summary(&p), "Over the last hour: no history for this measure yet (source: none).");
    }
}
