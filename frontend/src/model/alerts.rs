//! The alerts on the wall: the latest `alerts` frame per workspace, which tiles they mark
//! (and how loud), the banner's lines, and whether the wall sounds.
//!
//! The server evaluates the rules and pushes the firing alerts of the watched workspace
//! (`wallboard_shared::ws::ServerMessage::Alerts`, oldest first); this module only reads
//! them. A rule's target marks a place on the page: a task queue its row on the queues
//! wall, a workflow its card and its page's tiles, the workspace the header strip, an
//! activity its bar on the agent board (and only the banner elsewhere).

use wallboard_shared::alerts::{Alert, AlertStatus, Level, RuleTarget};

use super::format;

/// The latest alerts per workspace (the page watches one at a time; another one's list is
/// kept until [`AlertsState::retain`] drops it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertsState {
    lists: Vec<(String, Vec<Alert>)>,
    /// The sids of the alerts first seen in the latest frame of their workspace: only those
    /// are announced (`role="alert"`), not every alert again at each change.
    fresh: Vec<String>,
}

impl AlertsState {
    /// Takes an `alerts` frame: the whole list of `workspace` now.
    pub fn set(&mut self, workspace: &str, alerts: Vec<Alert>) {
        let before = self.list(workspace);
        self.fresh = alerts.iter().filter(|a| !before.iter().any(|b| b.sid == a.sid)).map(|a| a.sid.clone()).collect();
        match self.lists.iter_mut().find(|(ws, _)| ws == workspace) {
            Some((_, list)) => *list = alerts,
            None => self.lists.push((workspace.to_owned(), alerts)),
        }
    }

    /// Takes the answer to an acknowledgement (the alert as it is now), ahead of the frame
    /// that will say the same. False when the alert is not (or no longer) listed.
    pub fn update(&mut self, workspace: &str, alert: Alert) -> bool {
        let slot = self
            .lists
            .iter_mut()
            .find(|(ws, _)| ws == workspace)
            .and_then(|(_, list)| list.iter_mut().find(|a| a.sid == alert.sid));
        match slot {
            Some(a) if *a != alert => {
                *a = alert;
                true
            }
            _ => false,
        }
    }

    /// Forgets every workspace but `workspace` (the page moved to another one).
    pub fn retain(&mut self, workspace: Option<&str>) {
        self.lists.retain(|(ws, _)| Some(ws.as_str()) == workspace);
    }

    /// The firing alerts of `workspace`, oldest first (empty when unknown).
    pub fn list(&self, workspace: &str) -> &[Alert] {
        self.lists.iter().find(|(ws, _)| ws == workspace).map_or(&[], |(_, l)| l.as_slice())
    }

    /// Whether the alert was first seen in the latest frame.
    pub fn is_fresh(&self, sid: &str) -> bool {
        self.fresh.iter().any(|s| s == sid)
    }
}

/// How loud a level is: critical over warning.
fn rank(level: Level) -> u8 {
    match level {
        Level::Warning => 1,
        Level::Critical => 2,
    }
}

/// The `data-alert` value and CSS suffix of a level.
pub fn level_key(level: Level) -> &'static str {
    level.name()
}

/// The icon shown with a level (never colour alone).
pub fn level_icon(level: Level) -> &'static str {
    match level {
        Level::Warning => "⚠",
        Level::Critical => "⛔",
    }
}

/// The words shown with a level.
pub fn level_label(level: Level) -> &'static str {
    match level {
        Level::Warning => "Warning",
        Level::Critical => "Critical",
    }
}

/// How a place on the page is marked: the highest level of the firing alerts on it, and
/// whether one of them is still unacknowledged (then the place flashes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    pub level: Level,
    pub sounding: bool,
}

impl Mark {
    /// `data-alert`.
    pub fn key(self) -> &'static str {
        level_key(self.level)
    }

    /// The small badge: icon and text.
    pub fn badge(self) -> String {
        format!("{} alert", level_icon(self.level))
    }

    /// The badge's classes.
    pub fn badge_class(self) -> String {
        format!("alert-badge alert-{}", self.key())
    }

    /// The marked element's classes (`alerting alert-critical alert-flash`).
    pub fn class(self) -> String {
        format!("alerting alert-{}{}", self.key(), if self.sounding { " alert-flash" } else { "" })
    }

    fn join(this: Option<Self>, alert: &Alert) -> Option<Self> {
        let mine = Self { level: alert.level, sounding: alert.sounding() };
        Some(match this {
            None => mine,
            Some(m) => Self {
                level: if rank(mine.level) > rank(m.level) { mine.level } else { m.level },
                sounding: m.sounding || mine.sounding,
            },
        })
    }
}

/// The places the firing alerts of a workspace mark.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Marks {
    pub workspace: Option<Mark>,
    pub workflows: Vec<(String, Mark)>,
    pub queues: Vec<(String, Mark)>,
    pub activities: Vec<(String, Mark)>,
}

impl Marks {
    /// The marks of `alerts` (cleared ones mark nothing).
    pub fn of(alerts: &[Alert]) -> Self {
        fn add(list: &mut Vec<(String, Mark)>, sid: &str, alert: &Alert) {
            match list.iter_mut().find(|(s, _)| s == sid) {
                Some((_, m)) => *m = Mark::join(Some(*m), alert).unwrap_or(*m),
                None => list.extend(Mark::join(None, alert).map(|m| (sid.to_owned(), m))),
            }
        }
        let mut marks = Self::default();
        for alert in alerts.iter().filter(|a| a.status == AlertStatus::Firing) {
            match &alert.target {
                RuleTarget::Workspace => marks.workspace = Mark::join(marks.workspace, alert),
                RuleTarget::Workflow(sid) => add(&mut marks.workflows, sid, alert),
                RuleTarget::TaskQueue(sid) => add(&mut marks.queues, sid, alert),
                RuleTarget::Activity(sid) => add(&mut marks.activities, sid, alert),
            }
        }
        marks
    }

    pub fn workflow(&self, sid: &str) -> Option<Mark> {
        find(&self.workflows, sid)
    }

    pub fn queue(&self, sid: &str) -> Option<Mark> {
        find(&self.queues, sid)
    }

    pub fn activity(&self, sid: &str) -> Option<Mark> {
        find(&self.activities, sid)
    }
}

fn find(list: &[(String, Mark)], sid: &str) -> Option<Mark> {
    list.iter().find(|(s, _)| s == sid).map(|(_, m)| *m)
}

/// Whether the wall should sound: an alert fires and nobody acknowledged it.
pub fn sounding(alerts: &[Alert]) -> bool {
    alerts.iter().any(Alert::sounding)
}

/// What the wall's sound does, also `<html data-sound>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sound {
    /// No `sound=1`, or nothing sounding.
    Silent,
    /// `sound=1` and an alert sounding, and the browser lets the page play.
    Playing,
    /// `sound=1` and an alert sounding, but the browser holds the audio until a click.
    Blocked,
}

impl Sound {
    /// `enabled`: the link's `sound=1`; `sounding`: see [`sounding`]; `blocked`: the
    /// browser keeps the audio context suspended.
    pub fn of(enabled: bool, sounding: bool, blocked: bool) -> Self {
        match (enabled && sounding, blocked) {
            (false, _) => Self::Silent,
            (true, false) => Self::Playing,
            (true, true) => Self::Blocked,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Self::Silent => "silent",
            Self::Playing => "playing",
            Self::Blocked => "blocked",
        }
    }
}

/// The beep: two tones of `BEEP_TONE_S` each (Hz), one after the other.
pub const BEEP_TONES_HZ: [f32; 2] = [880.0, 660.0];
/// Each tone's length in seconds (the beep lasts twice that).
pub const BEEP_TONE_S: f64 = 0.15;
/// A beep starts this often while the wall sounds (ms).
pub const BEEP_EVERY_MS: u32 = 2_500;

/// One line of the banner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BannerLine {
    pub sid: String,
    /// `data-level`.
    pub level: &'static str,
    /// "⛔ Critical".
    pub level_text: String,
    /// The rule's name, condition and value ("Busy — tasks waiting >= 0 for 0 s (value 5)").
    pub headline: String,
    /// "since 14:03:22".
    pub fired: String,
    /// "Acknowledged by Floor manager" once acknowledged.
    pub acknowledged: Option<String>,
    /// First seen in the latest frame: announced (`role="alert"`).
    pub fresh: bool,
}

impl BannerLine {
    /// `offset`: the shown zone's UTC offset (minutes east) at an instant (ms).
    pub fn new(alert: &Alert, fresh: bool, offset: &dyn Fn(i64) -> i32) -> Self {
        let headline = alert.headline();
        let prefix = format!("{}: ", level_label(alert.level));
        let fired_ms = alert.date_fired.timestamp_millis();
        Self {
            sid: alert.sid.clone(),
            level: level_key(alert.level),
            level_text: format!("{} {}", level_icon(alert.level), level_label(alert.level)),
            headline: headline.strip_prefix(&prefix).map(str::to_owned).unwrap_or(headline),
            fired: format!("since {}", format::clock(fired_ms, offset(fired_ms))),
            acknowledged: alert
                .acknowledged()
                .then(|| format!("Acknowledged by {}", alert.acknowledged_by.as_deref().unwrap_or("someone"))),
            fresh,
        }
    }
}

/// The banner's lines for `workspace`: every firing alert, oldest first.
pub fn banner_lines(state: &AlertsState, workspace: &str, offset: &dyn Fn(i64) -> i32) -> Vec<BannerLine> {
    state
        .list(workspace)
        .iter()
        .filter(|a| a.status == AlertStatus::Firing)
        .map(|a| BannerLine::new(a, state.is_fresh(&a.sid), offset))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use wallboard_shared::alerts::Measure;

    const WS: &str = "WS00000000000000000000000000000001";
    const WQ: &str = "WQ00000000000000000000000000000001";
    const WQ2: &str = "WQ00000000000000000000000000000002";
    const WW: &str = "WW00000000000000000000000000000001";
    const WA: &str = "WA00000000000000000000000000000001";

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("valid").with_timezone(&Utc)
    }

    fn alert(n: u32, target: RuleTarget, level: Level) -> Alert {
        Alert {
            sid: format!("AL{n:032x}"),
            rule_sid: format!("AR{n:032x}"),
            rule_name: format!("Rule {n}"),
            target,
            task_channel: None,
            measure: Measure::Waiting,
            level,
            description: "tasks waiting >= 5 for 0 s".into(),
            status: AlertStatus::Firing,
            value: Some(7.0),
            date_fired: at("2026-11-27T09:15:30Z"),
            date_cleared: None,
            date_acknowledged: None,
            acknowledged_by: None,
        }
    }

    fn acknowledged(mut a: Alert, by: &str) -> Alert {
        a.date_acknowledged = Some(at("2026-11-27T09:16:00Z"));
        a.acknowledged_by = Some(by.into());
        a
    }

    #[test]
    fn the_latest_list_per_workspace() {
        let mut s = AlertsState::default();
        assert!(s.list(WS).is_empty());
        s.set(WS, vec![alert(1, RuleTarget::Workspace, Level::Warning)]);
        assert_eq!(s.list(WS).len(), 1);
        assert!(s.is_fresh(&alert(1, RuleTarget::Workspace, Level::Warning).sid));
        s.set("WS2", vec![alert(9, RuleTarget::Workspace, Level::Critical)]);
        s.set(
            WS,
            vec![alert(1, RuleTarget::Workspace, Level::Warning), alert(2, RuleTarget::Workspace, Level::Warning)],
        );
        assert_eq!(s.list(WS).len(), 2);
        assert!(!s.is_fresh(&alert(1, RuleTarget::Workspace, Level::Warning).sid), "seen before");
        assert!(s.is_fresh(&alert(2, RuleTarget::Workspace, Level::Warning).sid));
        assert_eq!(s.list("WS2").len(), 1);
        s.retain(Some(WS));
        assert!(s.list("WS2").is_empty());
        s.set(WS, Vec::new());
        assert!(s.list(WS).is_empty(), "an empty frame: nothing fires");
    }

    #[test]
    fn an_acknowledgement_answer_updates_the_listed_alert() {
        let mut s = AlertsState::default();
        let a = alert(1, RuleTarget::Workspace, Level::Critical);
        s.set(WS, vec![a.clone()]);
        assert!(sounding(s.list(WS)));
        assert!(s.update(WS, acknowledged(a.clone(), "account")));
        assert!(!sounding(s.list(WS)));
        assert!(!s.update(WS, acknowledged(a.clone(), "account")), "no change");
        assert!(!s.update(WS, alert(5, RuleTarget::Workspace, Level::Critical)), "not listed");
        assert!(!s.update("WS2", a), "another workspace");
    }

    #[test]
    fn marks_by_target_with_the_highest_level() {
        let alerts = vec![
            alert(1, RuleTarget::TaskQueue(WQ.into()), Level::Warning),
            acknowledged(alert(2, RuleTarget::TaskQueue(WQ.into()), Level::Critical), "account"),
            alert(3, RuleTarget::TaskQueue(WQ2.into()), Level::Warning),
            alert(4, RuleTarget::Workflow(WW.into()), Level::Critical),
            acknowledged(alert(5, RuleTarget::Activity(WA.into()), Level::Warning), "x"),
            alert(6, RuleTarget::Workspace, Level::Warning),
            alert(7, RuleTarget::Workspace, Level::Critical),
        ];
        let m = Marks::of(&alerts);
        assert_eq!(m.queue(WQ), Some(Mark { level: Level::Critical, sounding: true }), "highest level, any sounding");
        assert_eq!(m.queue(WQ2), Some(Mark { level: Level::Warning, sounding: true }));
        assert_eq!(m.workflow(WW), Some(Mark { level: Level::Critical, sounding: true }));
        assert_eq!(m.activity(WA), Some(Mark { level: Level::Warning, sounding: false }), "acknowledged: no flashing");
        assert_eq!(m.workspace, Some(Mark { level: Level::Critical, sounding: true }));
        assert_eq!(m.workflow("WW2"), None);
        assert_eq!(m.queue(WW), None, "a workflow's sid marks no queue");
        let mut cleared = alert(8, RuleTarget::TaskQueue(WQ.into()), Level::Critical);
        cleared.status = AlertStatus::Cleared;
        assert_eq!(Marks::of(&[cleared]), Marks::default(), "a cleared alert marks nothing");
    }

    #[test]
    fn mark_texts() {
        let m = Mark { level: Level::Critical, sounding: true };
        assert_eq!((m.key(), m.badge().as_str()), ("critical", "⛔ alert"));
        assert_eq!(m.class(), "alerting alert-critical alert-flash");
        assert_eq!(m.badge_class(), "alert-badge alert-critical");
        let m = Mark { level: Level::Warning, sounding: false };
        assert_eq!((m.key(), m.badge().as_str(), m.class().as_str()), ("warning", "⚠ alert", "alerting alert-warning"));
    }

    #[test]
    fn the_wall_sounds_until_acknowledged_or_cleared() {
        let a = alert(1, RuleTarget::Workspace, Level::Warning);
        assert!(sounding(std::slice::from_ref(&a)));
        assert!(!sounding(&[acknowledged(a.clone(), "account")]));
        let mut cleared = a;
        cleared.status = AlertStatus::Cleared;
        assert!(!sounding(&[cleared]));
        assert!(!sounding(&[]));
    }

    #[test]
    fn sound_states() {
        assert_eq!(Sound::of(false, true, false), Sound::Silent, "no sound=1");
        assert_eq!(Sound::of(true, false, true), Sound::Silent, "nothing sounding");
        assert_eq!(Sound::of(true, true, false), Sound::Playing);
        assert_eq!(Sound::of(true, true, true), Sound::Blocked);
        assert_eq!([Sound::Silent, Sound::Playing, Sound::Blocked].map(Sound::key), ["silent", "playing", "blocked"]);
        assert!(BEEP_TONE_S * 2.0 <= 0.35 && BEEP_EVERY_MS >= 2_000);
    }

    #[test]
    fn banner_lines_say_level_rule_time_and_acknowledgement() {
        let mut s = AlertsState::default();
        let mut a = alert(1, RuleTarget::TaskQueue(WQ.into()), Level::Critical);
        a.rule_name = "Busy".into();
        let b = acknowledged(alert(2, RuleTarget::Workspace, Level::Warning), "Floor manager");
        let mut c = alert(3, RuleTarget::Workspace, Level::Warning);
        c.status = AlertStatus::Cleared;
        s.set(WS, vec![a.clone(), b.clone(), c]);
        let lines = banner_lines(&s, WS, &|_| 60);
        assert_eq!(lines.len(), 2, "cleared alerts are not shown");
        let l = &lines[0];
        assert_eq!((l.level, l.level_text.as_str()), ("critical", "⛔ Critical"));
        assert_eq!(l.headline, "Busy — tasks waiting >= 5 for 0 s (value 7)");
        assert_eq!(l.fired, "since 10:15:30", "in the shown zone");
        assert_eq!((l.acknowledged.as_deref(), l.fresh), (None, true));
        let l = &lines[1];
        assert_eq!(l.level_text, "⚠ Warning");
        assert_eq!(l.acknowledged.as_deref(), Some("Acknowledged by Floor manager"));
        s.set(WS, vec![a, b]);
        assert!(banner_lines(&s, WS, &|_| 0).iter().all(|l| !l.fresh), "announced once");
        assert!(banner_lines(&s, "WS2", &|_| 0).is_empty());
    }
}
