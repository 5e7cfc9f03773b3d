//! The alerts on the wall: the latest `alerts` frame per workspace, which places of the page
//! they mark (and how loud), the banner, and whether the wall sounds.
//!
//! The server evaluates the rules and pushes the firing alerts of the watched workspace
//! (`wallboard_shared::ws::ServerMessage::Alerts`, oldest first); this module only reads
//! them. A rule's target marks a place on the page: a task queue its row on the queues
//! wall, a workflow its card and its page's tiles, the workspace the header strip, an
//! activity its bar on the agent board (and only the banner elsewhere).
//!
//! An alert is read into [`AlertInfo`], the fields the wall shows, as plain strings and
//! numbers, by [`parse_alerts`]: an alert is a flat JSON object, and a serde deserializer
//! (the shared `Alert`'s, or even a lean struct's) and `Alert::headline` (float formatting)
//! would cost the wasm several times these few lines. The tests check that it reads what
//! the shared type writes and says the same headline.

use wallboard_shared::alerts::{Level, Measure, RuleTarget};

use super::json::{Reader, Scalar};
use super::{age, format};

/// A firing (or cleared) alert as the wall reads it from an `alerts` frame
/// (`wallboard_shared::alerts::Alert`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertInfo {
    pub sid: String,
    pub rule_name: String,
    /// `workspace`, or the SID of a workflow, task queue or activity.
    pub target: String,
    pub measure: String,
    /// `warning` or `critical`.
    pub level: String,
    /// The rule's condition ("longest wait > 60 s for 30 s").
    pub description: String,
    /// `firing` or `cleared`.
    pub status: String,
    /// The value that fired the rule.
    pub value: Option<f64>,
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    pub date_fired: String,
    pub date_acknowledged: Option<String>,
    /// `account`, or the label of the token that acknowledged it.
    pub acknowledged_by: Option<String>,
}

impl AlertInfo {
    pub fn level(&self) -> Level {
        Level::parse(&self.level).unwrap_or_default()
    }

    pub fn firing(&self) -> bool {
        self.status == "firing"
    }

    pub fn acknowledged(&self) -> bool {
        self.date_acknowledged.is_some()
    }

    /// Whether the wall sounds for it: firing and not acknowledged (`Alert::sounding`).
    pub fn sounding(&self) -> bool {
        self.firing() && !self.acknowledged()
    }

    /// `Alert::headline` without its level: "Sales — longest wait > 60 s for 30 s (value 75 s)".
    pub fn headline(&self) -> String {
        let unit = Measure::parse(&self.measure).map_or("", Measure::unit);
        let value = self.value.map(|v| format!(" (value {}{unit})", number(v))).unwrap_or_default();
        format!("{} — {}{value}", self.rule_name, self.description)
    }
}

/// Reads the `alerts` of an `alerts` frame: a JSON array of flat objects (unknown keys are
/// skipped, whatever their value).
pub fn parse_alerts(json: &str) -> Result<Vec<AlertInfo>, String> {
    let mut r = Reader::new(json, "alerts");
    let mut alerts = Vec::new();
    r.array(|r| {
        alerts.push(alert(r)?);
        Ok(())
    })?;
    Ok(alerts)
}

fn alert(r: &mut Reader<'_>) -> Result<AlertInfo, String> {
    let mut a = AlertInfo::default();
    r.object(|key, r| {
        match (key, r.value()?) {
            ("value", Scalar::Number(n)) => a.value = Some(n),
            ("date_acknowledged", Scalar::Text(t)) => a.date_acknowledged = Some(t),
            ("acknowledged_by", Scalar::Text(t)) => a.acknowledged_by = Some(t),
            (key, Scalar::Text(t)) => {
                let slot = match key {
                    "sid" => Some(&mut a.sid),
                    "rule_name" => Some(&mut a.rule_name),
                    "target" => Some(&mut a.target),
                    "measure" => Some(&mut a.measure),
                    "level" => Some(&mut a.level),
                    "description" => Some(&mut a.description),
                    "status" => Some(&mut a.status),
                    "date_fired" => Some(&mut a.date_fired),
                    _ => None,
                };
                if let Some(slot) = slot {
                    *slot = t;
                }
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(a)
}

/// A number as `wallboard_shared::alerts::number` writes it (`60`, `0.5`, `92.35`), with
/// integer arithmetic only: float formatting is a sizeable part of a wasm binary.
pub fn number(v: f64) -> String {
    let h = (v * 100.0).round() as i64;
    let sign = if h < 0 { "-" } else { "" };
    let (whole, cents) = (h.abs() / 100, h.abs() % 100);
    match cents {
        0 => format!("{sign}{whole}"),
        c if c % 10 == 0 => format!("{sign}{whole}.{}", c / 10),
        c => format!("{sign}{whole}.{c:02}"),
    }
}

/// The latest alerts per workspace (the page watches one at a time; another one's list is
/// kept until [`AlertsState::retain`] drops it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertsState {
    lists: Vec<(String, Vec<AlertInfo>)>,
    /// The sids of the alerts first seen in the latest frame of their workspace: only those
    /// are announced (`role="alert"`), not every alert again at each change.
    fresh: Vec<String>,
    /// The alerts whose acknowledgement is under way (their buttons wait).
    pub pending: Vec<String>,
    /// Why the last acknowledgement failed.
    pub failure: Option<String>,
}

impl AlertsState {
    /// Takes an `alerts` frame: the whole list of `workspace` now.
    pub fn set(&mut self, workspace: &str, alerts: Vec<AlertInfo>) {
        let before = self.list(workspace);
        self.fresh = alerts.iter().filter(|a| !before.iter().any(|b| b.sid == a.sid)).map(|a| a.sid.clone()).collect();
        match self.lists.iter_mut().find(|(ws, _)| ws == workspace) {
            Some((_, list)) => *list = alerts,
            None => self.lists.push((workspace.to_owned(), alerts)),
        }
    }

    /// Forgets every workspace but `workspace` (the page moved to another one).
    pub fn retain(&mut self, workspace: Option<&str>) {
        self.lists.retain(|(ws, _)| Some(ws.as_str()) == workspace);
    }

    /// The alerts of `workspace`, oldest first (empty when unknown).
    pub fn list(&self, workspace: &str) -> &[AlertInfo] {
        self.lists.iter().find(|(ws, _)| ws == workspace).map_or(&[], |(_, l)| l.as_slice())
    }

    /// Notes that the acknowledgement of `sid` starts; false when it is already under way.
    pub fn acknowledging(&mut self, sid: &str) -> bool {
        if self.pending.iter().any(|s| s == sid) {
            return false;
        }
        self.pending.push(sid.to_owned());
        self.failure = None;
        // The banner is drawn again: what it announced, it does not announce again.
        self.fresh.clear();
        true
    }

    /// Notes that the acknowledgement of `sid` ended, and why it failed if it did (the
    /// success shows in the next `alerts` frame).
    pub fn acknowledged(&mut self, sid: &str, failure: Option<String>) {
        self.pending.retain(|s| s != sid);
        self.failure = failure.map(|f| format!("The alert cannot be acknowledged: {f}"));
    }

    /// Whether the alert was first seen in the latest frame.
    pub fn is_fresh(&self, sid: &str) -> bool {
        self.fresh.iter().any(|s| s == sid)
    }
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
/// whether one of them is still unacknowledged (then the place flashes). The stylesheet
/// draws the badge ("⚠ alert", "⛔ alert") from `data-alert`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    pub level: Level,
    pub sounding: bool,
}

impl Mark {
    /// `data-alert`: `warning` or `critical`.
    pub fn key(self) -> &'static str {
        self.level.name()
    }

    /// The marked element's own classes (`alerting alert-flash`): an outline in the level's
    /// colour, flashing while unacknowledged.
    pub fn class(self) -> &'static str {
        if self.sounding { "alerting alert-flash" } else { "alerting" }
    }

    /// `base` and the mark's classes.
    pub fn classes(mark: Option<Self>, base: &str) -> String {
        match mark {
            Some(m) => format!("{base} {}", m.class()),
            None => base.to_owned(),
        }
    }

    fn join(this: Option<Self>, alert: &AlertInfo) -> Self {
        let (level, sounding) = (alert.level(), alert.sounding());
        match this {
            None => Self { level, sounding },
            Some(m) => {
                Self { level: if level == Level::Critical { level } else { m.level }, sounding: m.sounding || sounding }
            }
        }
    }
}

/// The places the firing alerts of a workspace mark, and whether the wall sounds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Marks {
    /// An alert fires unacknowledged: `sound=1` beeps.
    pub sounding: bool,
    pub workspace: Option<Mark>,
    /// (SID of a workflow, task queue or activity, its mark).
    pub sids: Vec<(String, Mark)>,
}

impl Marks {
    /// The marks of `alerts` (cleared ones mark nothing).
    pub fn of(alerts: &[AlertInfo]) -> Self {
        let mut marks = Self { sounding: sounding(alerts), ..Self::default() };
        for alert in alerts.iter().filter(|a| a.firing()) {
            match RuleTarget::parse(&alert.target) {
                Some(RuleTarget::Workspace) => marks.workspace = Some(Mark::join(marks.workspace, alert)),
                Some(target) => {
                    let sid = target.as_str();
                    match marks.sids.iter_mut().find(|(s, _)| s == sid) {
                        Some((_, m)) => *m = Mark::join(Some(*m), alert),
                        None => marks.sids.push((sid.to_owned(), Mark::join(None, alert))),
                    }
                }
                None => {}
            }
        }
        marks
    }

    /// The mark of a workflow (`WW…`), task queue (`WQ…`) or activity (`WA…`): their SIDs
    /// never collide.
    pub fn of_sid(&self, sid: &str) -> Option<Mark> {
        self.sids.iter().find(|(s, _)| s == sid).map(|(_, m)| *m)
    }
}

/// Whether the wall should sound: an alert fires and nobody acknowledged it.
pub fn sounding(alerts: &[AlertInfo]) -> bool {
    alerts.iter().any(AlertInfo::sounding)
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

/// The beep: these tones (Hz) one after the other, [`BEEP_TONE_S`] seconds each.
pub const BEEP_TONES_HZ: [f32; 2] = [880.0, 660.0];
/// Each tone's length in seconds (the beep lasts twice that).
pub const BEEP_TONE_S: f64 = 0.15;
/// A beep starts this often while the wall sounds (ms).
pub const BEEP_EVERY_MS: u32 = 2_500;

/// One line of the banner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BannerLine {
    pub sid: String,
    /// `data-level`: `warning` or `critical`.
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
    pub fn new(alert: &AlertInfo, fresh: bool, offset: &dyn Fn(i64) -> i32) -> Self {
        let level = alert.level();
        let fired = age::parse_at(&alert.date_fired)
            .map(|ms| format!("since {}", format::clock(ms, offset(ms))))
            .unwrap_or_default();
        Self {
            sid: alert.sid.clone(),
            level: level.name(),
            level_text: format!("{} {}", level_icon(level), level_label(level)),
            headline: alert.headline(),
            fired,
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
        .filter(|a| a.firing())
        .map(|a| BannerLine::new(a, state.is_fresh(&a.sid), offset))
        .collect()
}

/// The attribute of the banner's buttons that names the alert to acknowledge.
pub const ACK_ATTRIBUTE: &str = "data-ack";
/// The attribute of the banner's "click to enable sound" button.
pub const SOUND_ATTRIBUTE: &str = "data-enable-sound";

/// The banner's content as HTML (empty while nothing fires in `workspace`): the list of
/// alerts, each with its level in icon and words, headline, time and "Acknowledge" button
/// (or who acknowledged it); "click to enable sound" when `sound_blocked`; the last failure.
/// Every text is escaped. One string set as the banner's `innerHTML` costs the wasm far
/// less than a view per part; its buttons are handled by one click listener on the banner
/// (`data-ack`, `data-enable-sound`).
pub fn banner_html(state: &AlertsState, workspace: &str, offset: &dyn Fn(i64) -> i32, sound_blocked: bool) -> String {
    let lines = banner_lines(state, workspace, offset);
    if lines.is_empty() {
        return String::new();
    }
    let mut html = String::from(r#"<ul class="alert-list">"#);
    for l in &lines {
        let (sid, level) = (escape(&l.sid), l.level);
        let role = if l.fresh { r#" role="alert""# } else { "" };
        html += &format!(
            r#"<li class="alert-item alert-{level}" data-testid="alert-item" data-sid="{sid}" data-level="{level}"{role}><span class="alert-level">{}</span> <span class="alert-headline">{}</span> <span class="alert-time">{}</span> "#,
            escape(&l.level_text),
            escape(&l.headline),
            escape(&l.fired),
        );
        html += &match &l.acknowledged {
            Some(by) => format!(r#"<span class="alert-acked" data-testid="alert-acked">{}</span>"#, escape(by)),
            None if state.pending.contains(&l.sid) => format!(
                r#"<button type="button" class="alert-ack" data-testid="alert-ack" {ACK_ATTRIBUTE}="{sid}" disabled>Acknowledging…</button>"#
            ),
            None => format!(
                r#"<button type="button" class="alert-ack" data-testid="alert-ack" {ACK_ATTRIBUTE}="{sid}">Acknowledge</button>"#
            ),
        };
        html += "</li>";
    }
    html += "</ul>";
    if sound_blocked {
        html += &format!(
            r#"<button type="button" class="alert-sound" data-testid="alert-sound" {SOUND_ATTRIBUTE}>🔇 click to enable sound</button>"#
        );
    }
    if let Some(failure) = &state.failure {
        html += &format!(r#"<p class="alert-error" role="status">{}</p>"#, escape(failure));
    }
    html
}

/// `text` for HTML text and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use wallboard_shared::alerts::{Alert, AlertStatus};

    const WS: &str = "WS00000000000000000000000000000001";
    const WQ: &str = "WQ00000000000000000000000000000001";
    const WQ2: &str = "WQ00000000000000000000000000000002";
    const WW: &str = "WW00000000000000000000000000000001";
    const WA: &str = "WA00000000000000000000000000000001";

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("valid").with_timezone(&Utc)
    }

    /// A shared `Alert` as the server writes it.
    fn wire(n: u32, target: RuleTarget, level: Level) -> Alert {
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

    /// What the wall reads of it.
    fn read(a: &Alert) -> AlertInfo {
        let json = serde_json::to_string(&[a]).expect("ser");
        let mut list = parse_alerts(&json).expect("reads the shared type");
        assert_eq!(list.len(), 1);
        list.remove(0)
    }

    fn alert(n: u32, target: RuleTarget, level: Level) -> AlertInfo {
        read(&wire(n, target, level))
    }

    fn acknowledged(mut a: AlertInfo, by: &str) -> AlertInfo {
        a.date_acknowledged = Some("2026-11-27T09:16:00Z".into());
        a.acknowledged_by = Some(by.into());
        a
    }

    fn cleared(mut a: AlertInfo) -> AlertInfo {
        a.status = "cleared".into();
        a
    }

    #[test]
    fn reads_what_the_shared_alert_writes_and_says_the_same() {
        let mut a = wire(1, RuleTarget::TaskQueue(WQ.into()), Level::Critical);
        a.measure = Measure::LongestWait;
        a.description = "longest wait > 60 s for 30 s".into();
        for value in [Some(75.0), Some(0.5), Some(92.345), Some(-3.25), Some(1e6), Some(0.0), None] {
            a.value = value;
            let info = read(&a);
            assert_eq!(info.level(), Level::Critical);
            assert_eq!(RuleTarget::parse(&info.target), Some(a.target.clone()));
            assert_eq!(format!("Critical: {}", info.headline()), a.headline(), "{value:?}");
        }
        assert!(info_of(&a).sounding() && a.sounding());
        a.date_acknowledged = Some(at("2026-11-27T09:16:00Z"));
        a.acknowledged_by = Some("Floor manager".into());
        let info = info_of(&a);
        assert_eq!((info.sounding(), info.acknowledged(), a.sounding()), (false, true, false));
        assert_eq!(info.acknowledged_by.as_deref(), Some("Floor manager"));
        a.status = AlertStatus::Cleared;
        assert!(!info_of(&a).firing());
    }

    fn info_of(a: &Alert) -> AlertInfo {
        read(a)
    }

    #[test]
    fn the_reader_takes_any_json_the_server_may_write() {
        let json = r#" [ {"sid":"AL1","rule_name":"Queue \"Sales\" \\ caf\u00e9 \ud83d\ude00\n","value":-1.5e2,
            "extra":{"a":[1,"]}"],"b":{}},"level":"critical","status":"firing","flag":true,"none":null,
            "date_acknowledged":null,"acknowledged_by":"Ünï","big":12E+1,"small":25e-2} , {} ] "#;
        let list = parse_alerts(json).expect("valid");
        assert_eq!(list.len(), 2);
        let a = &list[0];
        assert_eq!(a.sid, "AL1");
        assert_eq!(a.rule_name, "Queue \"Sales\" \\ café 😀\n");
        assert_eq!(a.value, Some(-150.0));
        assert_eq!((a.level(), a.firing(), a.acknowledged()), (Level::Critical, true, false));
        assert_eq!(a.acknowledged_by.as_deref(), Some("Ünï"));
        assert_eq!(list[1], AlertInfo::default());
        assert_eq!(parse_alerts("[]"), Ok(Vec::new()));
        for bad in
            ["", "{}", "[", "[{]", r#"[{"sid":"x}]"#, r#"[{"sid" "x"}]"#, r#"[{"sid":"x"},]"#, r#"[{"v":{"a":1}"#]
        {
            assert!(parse_alerts(bad).is_err(), "{bad}");
        }
        let mut numbers = Vec::new();
        for text in ["0", "75", "0.5", "92.345", "-3.25", "1e6", "1.5E-3", "123456.78"] {
            let v = parse_alerts(&format!(r#"[{{"value":{text}}}]"#)).expect("valid")[0].value.expect("a number");
            numbers.push((v - text.parse::<f64>().expect("f64")).abs() < 1e-9);
        }
        assert!(numbers.iter().all(|ok| *ok), "{numbers:?}");
    }

    #[test]
    fn numbers_as_the_shared_code_writes_them() {
        for v in [0.0, 60.0, 0.5, 92.3, 92.35, 92.345, 1.005, -0.5, -12.0, 123456.78] {
            assert_eq!(number(v), wallboard_shared::alerts::number(v), "{v}");
        }
    }

    #[test]
    fn the_latest_list_per_workspace() {
        let mut s = AlertsState::default();
        assert!(s.list(WS).is_empty());
        let one = alert(1, RuleTarget::Workspace, Level::Warning);
        let two = alert(2, RuleTarget::Workspace, Level::Warning);
        s.set(WS, vec![one.clone()]);
        assert_eq!(s.list(WS).len(), 1);
        assert!(s.is_fresh(&one.sid));
        s.set("WS2", vec![alert(9, RuleTarget::Workspace, Level::Critical)]);
        s.set(WS, vec![one.clone(), two.clone()]);
        assert_eq!(s.list(WS).len(), 2);
        assert!(!s.is_fresh(&one.sid), "seen before");
        assert!(s.is_fresh(&two.sid));
        assert_eq!(s.list("WS2").len(), 1);
        s.retain(Some(WS));
        assert!(s.list("WS2").is_empty());
        s.set(WS, Vec::new());
        assert!(s.list(WS).is_empty(), "an empty frame: nothing fires");
        s.retain(None);
        assert_eq!(s, AlertsState::default());
    }

    #[test]
    fn marks_by_target_with_the_highest_level() {
        let alerts = vec![
            alert(1, RuleTarget::TaskQueue(WQ.into()), Level::Warning),
            acknowledged(alert(2, RuleTarget::TaskQueue(WQ.into()), Level::Critical), "account"),
            alert(3, RuleTarget::TaskQueue(WQ2.into()), Level::Warning),
            alert(4, RuleTarget::Workflow(WW.into()), Level::Critical),
            alert(5, RuleTarget::Workflow(WW.into()), Level::Warning),
            acknowledged(alert(6, RuleTarget::Activity(WA.into()), Level::Warning), "x"),
            alert(7, RuleTarget::Workspace, Level::Critical),
            alert(8, RuleTarget::Workspace, Level::Warning),
        ];
        let m = Marks::of(&alerts);
        assert!(m.sounding);
        let mark = |level, sounding| Some(Mark { level, sounding });
        assert_eq!(m.of_sid(WQ), mark(Level::Critical, true), "highest level, any unacknowledged");
        assert_eq!(m.of_sid(WQ2), mark(Level::Warning, true));
        assert_eq!(m.of_sid(WW), mark(Level::Critical, true), "a later warning does not lower it");
        assert_eq!(m.of_sid(WA), mark(Level::Warning, false), "acknowledged: no flashing");
        assert_eq!(m.workspace, mark(Level::Critical, true));
        assert_eq!(m.of_sid("WW00000000000000000000000000000009"), None);
        let gone = cleared(alert(9, RuleTarget::TaskQueue(WQ.into()), Level::Critical));
        assert_eq!(Marks::of(&[gone]), Marks::default(), "a cleared alert marks nothing");
    }

    #[test]
    fn mark_attributes() {
        let m = Mark { level: Level::Critical, sounding: true };
        assert_eq!((m.key(), m.class()), ("critical", "alerting alert-flash"));
        let m = Mark { level: Level::Warning, sounding: false };
        assert_eq!((m.key(), m.class()), ("warning", "alerting"));
        assert_eq!(Mark::classes(Some(m), "card card-good"), "card card-good alerting");
        assert_eq!(Mark::classes(None, "tiles"), "tiles");
    }

    #[test]
    fn the_wall_sounds_until_acknowledged_or_cleared() {
        let a = alert(1, RuleTarget::Workspace, Level::Warning);
        assert!(sounding(std::slice::from_ref(&a)));
        assert!(!sounding(&[acknowledged(a.clone(), "account")]));
        assert!(!sounding(&[cleared(a)]));
        assert!(!sounding(&[]));
    }

    #[test]
    fn sound_states() {
        assert_eq!(Sound::of(false, true, false), Sound::Silent, "no sound=1");
        assert_eq!(Sound::of(true, false, true), Sound::Silent, "nothing sounding");
        assert_eq!(Sound::of(true, true, false), Sound::Playing);
        assert_eq!(Sound::of(true, true, true), Sound::Blocked);
        assert_eq!([Sound::Silent, Sound::Playing, Sound::Blocked].map(Sound::key), ["silent", "playing", "blocked"]);
        const { assert!(BEEP_TONE_S * 2.0 <= 0.35 && BEEP_EVERY_MS >= 2_000) };
    }

    #[test]
    fn banner_lines_say_level_rule_time_and_acknowledgement() {
        let mut s = AlertsState::default();
        let mut a = alert(1, RuleTarget::TaskQueue(WQ.into()), Level::Critical);
        a.rule_name = "Busy".into();
        let b = acknowledged(alert(2, RuleTarget::Workspace, Level::Warning), "Floor manager");
        let c = cleared(alert(3, RuleTarget::Workspace, Level::Warning));
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

    #[test]
    fn banner_html_escapes_and_names_its_buttons() {
        let mut s = AlertsState::default();
        let utc = |_| 0;
        assert_eq!(banner_html(&s, WS, &utc, true), "", "no alert, no banner");
        let mut a = alert(1, RuleTarget::Workspace, Level::Critical);
        a.rule_name = r#"<img src=x onerror="alert(1)"> & 'co'"#.into();
        let b = acknowledged(alert(2, RuleTarget::Workspace, Level::Warning), "<b>me</b>");
        s.set(WS, vec![a.clone(), b]);
        let html = banner_html(&s, WS, &utc, false);
        assert!(!html.contains("<img") && !html.contains("<b>"), "{html}");
        assert!(html.contains("&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; &#39;co&#39;"), "{html}");
        assert!(html.contains(&format!(
            r#"data-testid="alert-item" data-sid="{}" data-level="critical" role="alert">"#,
            a.sid
        )));
        assert!(html.contains(r#"<span class="alert-level">⛔ Critical</span>"#));
        assert!(html.contains(r#"<span class="alert-time">since 09:15:30</span>"#));
        assert!(html.contains(&format!(r#"data-testid="alert-ack" data-ack="{}">Acknowledge</button>"#, a.sid)));
        assert!(html.contains(r#"data-testid="alert-acked">Acknowledged by &lt;b&gt;me&lt;/b&gt;</span>"#));
        assert_eq!(html.matches("<li").count(), 2);
        assert!(!html.contains("alert-sound") && !html.contains("alert-error"));

        assert!(s.acknowledging(&a.sid));
        assert!(!s.acknowledging(&a.sid), "already under way");
        let html = banner_html(&s, WS, &utc, true);
        assert!(!html.contains("role=\"alert\""), "announced once: {html}");
        assert!(html.contains("disabled>Acknowledging…</button>"), "{html}");
        assert!(html.contains(r#"data-enable-sound>🔇 click to enable sound</button>"#), "{html}");
        s.acknowledged(&a.sid, Some("403: <no>".into()));
        let html = banner_html(&s, WS, &utc, false);
        assert!(html.contains(">Acknowledge</button>"), "{html}");
        assert!(
            html.contains(
                r#"<p class="alert-error" role="status">The alert cannot be acknowledged: 403: &lt;no&gt;</p>"#
            ),
            "{html}"
        );
        assert!(s.acknowledging(&a.sid));
        assert_eq!(s.failure, None, "a new attempt clears the failure");
        s.acknowledged(&a.sid, None);
        assert!(s.pending.is_empty());
    }
}
