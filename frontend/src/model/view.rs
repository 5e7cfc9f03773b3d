//! All view state, and its query string: every link to the wall is shareable.
//!
//! `?page=workflow&ws=WS…&wf=WW…&win=4h&ch=voice&sla=20,60&theme=dark&sl=80,60` and so on,
//! plus the display modes `kiosk=1`, `rotate=30`, `wakelock=1`, `embed=1`, `bg=transparent`,
//! `sound=1` (beep while an alert sounds), and a kiosk's `burnin=N` and `watchdog=N`;
//! parameters at their default are left out. Reading is forgiving (a bad value falls back to
//! its default, so an edited link still opens); writing then reading gives the same state.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Timelike};
use wallboard_shared::query::{DateBound, MAX_THRESHOLDS, StatisticsQuery, WindowSpec, parse_thresholds};
use wallboard_shared::sid::is_sid;

use super::floor::Sort;
use super::kiosk::MAX_BURN_IN_STEP_SECS;
use super::levels::{Band, Levels, Metric};

/// The shortest rotation step of a kiosk (`rotate=`), in seconds.
pub const MIN_ROTATE_SECS: u32 = 5;
/// The longest rotation step kept (a day).
pub const MAX_ROTATE_SECS: u32 = 86_400;

/// The longest watchdog limit kept (a day); frontend/boot.js reads the same bound.
pub const MAX_WATCHDOG_SECS: u32 = 86_400;

/// Statistics older than this are refused by the server (docs/design.md: 30 days by default).
pub const RETENTION_MS: i64 = 30 * 86_400_000;
/// Thresholds when the URL names none.
pub const DEFAULT_THRESHOLDS: [u32; 2] = [20, 60];

/// Which page is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Page {
    /// Every workflow of the workspace as a card.
    #[default]
    Overview,
    /// One workflow in detail.
    Workflow,
    /// The queues wall: a row per task queue (`page=queues`).
    Queues,
    /// The agent board: activities and agents (`page=agents`).
    Agents,
    /// Service levels and alert rules, for admins (`page=settings`; never on a kiosk or
    /// embedded).
    Settings,
    /// Days (or hours) of a scope: the workspace, the workflow `wf`, or the queue `queue`
    /// (`page=history`, `by=hour`).
    History,
}

impl Page {
    /// Its `page` value (None: the overview, the default).
    pub fn key(self) -> Option<&'static str> {
        match self {
            Self::Overview => None,
            Self::Workflow => Some("workflow"),
            Self::Queues => Some("queues"),
            Self::Agents => Some("agents"),
            Self::Settings => Some("settings"),
            Self::History => Some("history"),
        }
    }
}

/// The cumulative window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WindowChoice {
    #[default]
    Last15m,
    Last1h,
    Last4h,
    Last8h,
    /// Since midnight in the chosen time zone.
    Today,
    /// From `from` to `to` (or now), wall-clock times in the chosen time zone.
    Custom {
        from: NaiveDateTime,
        to: Option<NaiveDateTime>,
    },
}

impl WindowChoice {
    /// The choices of the window menu (custom bounds are edited apart).
    pub const PRESETS: [WindowChoice; 5] = [Self::Last15m, Self::Last1h, Self::Last4h, Self::Last8h, Self::Today];

    /// Its `win` value.
    pub fn key(&self) -> &'static str {
        match self {
            Self::Last15m => "15m",
            Self::Last1h => "1h",
            Self::Last4h => "4h",
            Self::Last8h => "8h",
            Self::Today => "today",
            Self::Custom { .. } => "custom",
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Self::Last15m => "Last 15 min",
            Self::Last1h => "Last hour",
            Self::Last4h => "Last 4 hours",
            Self::Last8h => "Last 8 hours",
            Self::Today => "Today",
            Self::Custom { .. } => "Custom range",
        }
    }

    fn minutes(&self) -> Option<u32> {
        match self {
            Self::Last15m => Some(15),
            Self::Last1h => Some(60),
            Self::Last4h => Some(240),
            Self::Last8h => Some(480),
            _ => None,
        }
    }
}

/// Colour theme; `auto` follows the system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Theme {
    #[default]
    Auto,
    Light,
    Dark,
    Contrast,
}

impl Theme {
    pub const ALL: [Theme; 4] = [Self::Auto, Self::Light, Self::Dark, Self::Contrast];

    /// Its `theme` value, also `<html data-theme>`.
    pub fn key(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Light => "light",
            Self::Dark => "dark",
            Self::Contrast => "contrast",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Auto => "Auto",
            Self::Light => "Light",
            Self::Dark => "Dark",
            Self::Contrast => "High contrast",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.key() == key)
    }
}

/// Everything the URL says.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewState {
    pub page: Page,
    /// `WS…`; None: the first workspace the server lists.
    pub workspace: Option<String>,
    /// `WW…`; None on the workflow page: the first workflow.
    pub workflow: Option<String>,
    pub window: WindowChoice,
    /// IANA name (`Europe/Berlin`); None: the browser's zone.
    pub time_zone: Option<String>,
    /// Task channel unique name (or `TC…`) of the cumulative panel; None: all channels.
    pub channel: Option<String>,
    /// SLA thresholds in seconds, ascending, 1 to 20 of them.
    pub thresholds: Vec<u32>,
    pub theme: Theme,
    pub levels: Levels,
    /// `kiosk=1`: a wall screen, no controls at all, large type, dark unless `theme` says.
    pub kiosk: bool,
    /// `embed=1`: inside another page's iframe, no header and footer.
    pub embed: bool,
    /// `rotate=N`: show the overview and each workflow in turn, N seconds each.
    pub rotate: Option<u32>,
    /// `wakelock=1`: keep the screen on.
    pub wakelock: bool,
    /// `sound=1`: beep while an alert fires unacknowledged.
    pub sound: bool,
    /// `bg=transparent`: no page background (embedding).
    pub transparent: bool,
    /// `sort=-waiting`: the queues wall's order.
    pub sort: Sort,
    /// `queue=WQ…`: the agent board shows the agents eligible for this queue.
    pub agent_queue: Option<String>,
    /// `skill=…`: the agent board shows the agents with this skill.
    pub skill: Option<String>,
    /// `burnin=N`: a kiosk's burn-in step in seconds (`model::kiosk`), 0 off; None: the default.
    pub burn_in: Option<u32>,
    /// `watchdog=N`: seconds without a heartbeat before frontend/boot.js reloads a kiosk, 0
    /// off; None: the default. Read by the boot script, kept here so the link keeps it.
    pub watchdog: Option<u32>,
    /// `refresh=H`: the browser's local hour (0–23) at which a kiosk loads itself again
    /// each day, `refresh=off` never (`Some(None)`); None: the default
    /// ([`super::kiosk::REFRESH_HOUR`]).
    pub refresh: Option<Option<u8>>,
    /// `by=hour`: the history page by the hour (the last 7 days) instead of by the day.
    pub hourly: bool,
}

impl Default for ViewState {
    fn default() -> Self {
        Self {
            page: Page::Overview,
            workspace: None,
            workflow: None,
            window: WindowChoice::default(),
            time_zone: None,
            channel: None,
            thresholds: DEFAULT_THRESHOLDS.to_vec(),
            theme: Theme::Auto,
            levels: Levels::default(),
            kiosk: false,
            embed: false,
            rotate: None,
            wakelock: false,
            sound: false,
            transparent: false,
            sort: Sort::default(),
            agent_queue: None,
            skill: None,
            burn_in: None,
            watchdog: None,
            refresh: None,
            hourly: false,
        }
    }
}

/// Reads a wall-clock time as `<input type="datetime-local">` gives it:
/// `YYYY-MM-DDTHH:MM`, seconds optional. (Parsed by hand: chrono's format-string parser
/// would add a lot to the wasm.)
pub fn parse_local(raw: &str) -> Option<NaiveDateTime> {
    let (date, time) = raw.trim().split_once('T')?;
    let numbers = |s: &str, sep: char| -> Option<Vec<u32>> {
        s.split(sep).map(|p| (!p.is_empty() && p.len() <= 4).then(|| p.parse().ok()).flatten()).collect()
    };
    let (d, t) = (numbers(date, '-')?, numbers(time, ':')?);
    let (&[y, mo, day], &[h, mi, ref s @ ..]) = (d.as_slice(), t.as_slice()) else { return None };
    if s.len() > 1 || date.len() != 10 {
        return None;
    }
    let year = i32::try_from(y).ok()?;
    NaiveDate::from_ymd_opt(year, mo, day)?.and_hms_opt(h, mi, s.first().copied().unwrap_or(0))
}

/// The value `<input type="datetime-local">` takes (`YYYY-MM-DDTHH:MM`).
pub fn format_local(t: &NaiveDateTime) -> String {
    format!("{:04}-{:02}-{:02}T{:02}:{:02}", t.year(), t.month(), t.day(), t.hour(), t.minute())
}

/// A switch parameter (`kiosk=1`).
fn flag(value: &str) -> bool {
    matches!(value, "1" | "true" | "yes" | "on")
}

fn valid_zone(tz: &str) -> bool {
    !tz.is_empty() && tz.len() <= 64 && tz.bytes().all(|b| b.is_ascii_alphanumeric() || b"/_+-".contains(&b))
}

impl ViewState {
    /// Reads a query string (with or without its `?`). Unknown parameters are ignored.
    pub fn from_query(query: &str) -> Self {
        let mut view = Self::default();
        let mut window = None;
        let mut theme = None;
        let (mut from, mut to) = (None, None);
        for pair in query.trim_start_matches('?').split('&').filter(|p| !p.is_empty()) {
            let (key, raw) = pair.split_once('=').unwrap_or((pair, ""));
            let value = decode(raw);
            let value = value.trim();
            match key {
                "page" => {
                    view.page = [Page::Workflow, Page::Queues, Page::Agents, Page::Settings, Page::History]
                        .into_iter()
                        .find(|p| p.key() == Some(value))
                        .unwrap_or_default()
                }
                "sort" => view.sort = Sort::parse(value).unwrap_or_default(),
                "by" => view.hourly = value == "hour",
                "queue" if is_sid("WQ", value) => view.agent_queue = Some(value.to_owned()),
                "skill" if !value.is_empty() && value.len() <= 64 => view.skill = Some(value.to_owned()),
                "ws" if is_sid("WS", value) => view.workspace = Some(value.to_owned()),
                "wf" if is_sid("WW", value) => view.workflow = Some(value.to_owned()),
                "win" => window = Some(value.to_owned()),
                "from" => from = parse_local(value),
                "to" => to = parse_local(value),
                "tz" if valid_zone(value) => view.time_zone = Some(value.to_owned()),
                "ch" if !value.is_empty() && value.len() <= 64 => view.channel = Some(value.to_owned()),
                "sla" => {
                    if let Ok(t) = parse_thresholds(value)
                        && !t.is_empty()
                    {
                        view.thresholds = t;
                    }
                }
                "theme" => theme = Theme::from_key(value),
                "kiosk" => view.kiosk = flag(value),
                "embed" => view.embed = flag(value),
                "wakelock" => view.wakelock = flag(value),
                "sound" => view.sound = flag(value),
                "bg" => view.transparent = value == "transparent",
                "burnin" => view.burn_in = value.parse::<u32>().ok().map(|n| n.min(MAX_BURN_IN_STEP_SECS)),
                "watchdog" => view.watchdog = value.parse::<u32>().ok().map(|n| n.min(MAX_WATCHDOG_SECS)),
                "refresh" if value == "off" => view.refresh = Some(None),
                "refresh" => view.refresh = value.parse::<u8>().ok().filter(|h| *h < 24).map(Some),
                "rotate" => {
                    view.rotate = match value.parse::<u32>() {
                        Ok(0) | Err(_) => None,
                        Ok(n) => Some(n.clamp(MIN_ROTATE_SECS, MAX_ROTATE_SECS)),
                    }
                }
                _ => {
                    if let Some(metric) = Metric::ALL.into_iter().find(|m| m.param() == key)
                        && let Some(band) = Band::parse(value, metric.direction())
                    {
                        *view.levels.band_mut(metric) = band;
                    }
                }
            }
        }
        view.window = match window.as_deref() {
            Some("custom") => match from {
                Some(from) => Self::custom(from, to),
                None => WindowChoice::default(),
            },
            Some(key) => WindowChoice::PRESETS.into_iter().find(|w| w.key() == key).unwrap_or_default(),
            None => WindowChoice::default(),
        };
        view.theme = theme.unwrap_or(view.default_theme());
        if matches!(view.page, Page::Settings | Page::History) && !view.chrome() {
            view.page = Page::Overview;
        }
        view
    }

    /// The theme when the URL names none: dark on a kiosk, the system's otherwise.
    pub fn default_theme(&self) -> Theme {
        if self.kiosk { Theme::Dark } else { Theme::Auto }
    }

    /// Whether the header and footer are shown (not on a kiosk, nor embedded).
    pub fn chrome(&self) -> bool {
        !self.kiosk && !self.embed
    }

    /// A custom window; an end before the start is dropped (the window then runs to now).
    pub fn custom(from: NaiveDateTime, to: Option<NaiveDateTime>) -> WindowChoice {
        WindowChoice::Custom { from, to: to.filter(|t| *t >= from) }
    }

    /// The query string (without `?`) that [`ViewState::from_query`] reads back into `self`;
    /// empty for the default view.
    pub fn to_query(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        let mut put = |key: &str, value: &str| parts.push(format!("{key}={}", encode(value)));
        if let Some(page) = self.page.key() {
            put("page", page);
        }
        if let Some(ws) = &self.workspace {
            put("ws", ws);
        }
        if let Some(wf) = &self.workflow {
            put("wf", wf);
        }
        if self.window != WindowChoice::default() {
            put("win", self.window.key());
        }
        if let WindowChoice::Custom { from, to } = &self.window {
            put("from", &format_local(from));
            if let Some(to) = to {
                put("to", &format_local(to));
            }
        }
        if let Some(tz) = &self.time_zone {
            put("tz", tz);
        }
        if let Some(ch) = &self.channel {
            put("ch", ch);
        }
        if self.thresholds != DEFAULT_THRESHOLDS {
            let list: Vec<String> = self.thresholds.iter().map(u32::to_string).collect();
            put("sla", &list.join(","));
        }
        if self.theme != self.default_theme() {
            put("theme", self.theme.key());
        }
        let defaults = Levels::default();
        for metric in Metric::ALL {
            let band = self.levels.band(metric);
            if band != defaults.band(metric) {
                put(metric.param(), &band.to_param());
            }
        }
        for (on, key) in
            [(self.kiosk, "kiosk"), (self.embed, "embed"), (self.wakelock, "wakelock"), (self.sound, "sound")]
        {
            if on {
                put(key, "1");
            }
        }
        if let Some(n) = self.rotate {
            put("rotate", &n.to_string());
        }
        if let Some(n) = self.burn_in {
            put("burnin", &n.to_string());
        }
        if let Some(n) = self.watchdog {
            put("watchdog", &n.to_string());
        }
        match self.refresh {
            Some(Some(hour)) => put("refresh", &hour.to_string()),
            Some(None) => put("refresh", "off"),
            None => {}
        }
        if self.transparent {
            put("bg", "transparent");
        }
        if self.sort != Sort::default() {
            put("sort", &self.sort.to_param());
        }
        if let Some(q) = &self.agent_queue {
            put("queue", q);
        }
        if let Some(skill) = &self.skill {
            put("skill", skill);
        }
        if self.hourly {
            put("by", "hour");
        }
        parts.join("&")
    }

    /// The thresholds as the settings show them (`20, 60`).
    pub fn thresholds_text(&self) -> String {
        self.thresholds.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
    }

    /// Sets the thresholds from what a user typed; the message says what is wrong.
    pub fn set_thresholds(&mut self, raw: &str) -> Result<(), String> {
        let t = parse_thresholds(raw).map_err(|_| {
            format!("give 1 to {MAX_THRESHOLDS} whole numbers of seconds, separated by commas (e.g. 20, 60)")
        })?;
        if t.is_empty() || t.len() > MAX_THRESHOLDS {
            return Err(format!("give 1 to {MAX_THRESHOLDS} thresholds"));
        }
        self.thresholds = t;
        Ok(())
    }

    /// The statistics query of the cumulative panel at `now_ms`. `offset` gives the chosen
    /// zone's UTC offset in minutes (east positive) at a UTC instant in milliseconds.
    pub fn statistics_query(&self, now_ms: i64, offset: &dyn Fn(i64) -> i32) -> Result<StatisticsQuery, String> {
        let window = match self.window {
            WindowChoice::Today => {
                WindowSpec::Range { start: Some(instant(local_midnight_ms(now_ms, offset))?), end: None }
            }
            WindowChoice::Custom { from, to } => {
                let start = Some(instant(local_to_utc_ms(&from, offset))?);
                let end = match to {
                    Some(t) => Some(instant(local_to_utc_ms(&t, offset))?),
                    None => None,
                };
                WindowSpec::Range { start, end }
            }
            w => WindowSpec::Minutes(w.minutes().unwrap_or(15)),
        };
        window.resolve(now_ms, RETENTION_MS).map_err(|e| e.0)?;
        Ok(StatisticsQuery {
            window,
            task_channel: self.channel.clone(),
            split_by_wait_time: Some(self.thresholds.clone()),
        })
    }
}

fn instant(ms: i64) -> Result<DateBound, String> {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(DateBound::Instant)
        .ok_or_else(|| "the window is out of range".to_owned())
}

/// The UTC instant of wall-clock time `local` in a zone given by `offset` (see
/// [`ViewState::statistics_query`]). Around a DST change the offset at the result is used.
pub fn local_to_utc_ms(local: &NaiveDateTime, offset: &dyn Fn(i64) -> i32) -> i64 {
    let as_utc = local.and_utc().timestamp_millis();
    let guess = as_utc - i64::from(offset(as_utc)) * 60_000;
    as_utc - i64::from(offset(guess)) * 60_000
}

/// The UTC instant of the last local midnight before `now_ms`.
pub fn local_midnight_ms(now_ms: i64, offset: &dyn Fn(i64) -> i32) -> i64 {
    let local_now = now_ms + i64::from(offset(now_ms)) * 60_000;
    let Some(local) = chrono::DateTime::from_timestamp_millis(local_now) else { return now_ms };
    let midnight = local.date_naive().and_hms_opt(0, 0, 0).unwrap_or(local.naive_utc());
    let t = local_to_utc_ms(&midnight, offset);
    // A zone whose day starts later than midnight (a DST jump at 00:00) still gives a start before now.
    if t > now_ms { t - Duration::days(1).num_milliseconds() } else { t }
}

/// The wall-clock time the local day of `now_ms` starts at: [`local_midnight_ms`] read
/// back in the zone, so a custom window started "today" begins exactly where the Today
/// window does, DST changes included.
pub fn local_day_start(now_ms: i64, offset: &dyn Fn(i64) -> i32) -> Option<NaiveDateTime> {
    let start = local_midnight_ms(now_ms, offset);
    chrono::DateTime::from_timestamp_millis(start + i64::from(offset(start)) * 60_000).map(|t| t.naive_utc())
}

/// Percent-encodes a query value (RFC 3986 unreserved characters and `,` `:` `/` pass
/// through, which keeps links readable).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~,:/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes a query value (`+` is a space; a bad escape is kept as it is).
pub fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (bytes.get(i + 1).and_then(|&h| hex(h)), bytes.get(i + 2).and_then(|&l| hex(l))) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(digit: u8) -> Option<u8> {
    (digit as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::floor::Column;

    const WS: &str = "WS0123456789abcdef0123456789abcdef";
    const WF: &str = "WWfedcba9876543210fedcba9876543210";

    fn t(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d).and_then(|x| x.and_hms_opt(h, mi, 0)).expect("valid")
    }

    fn utc(_: i64) -> i32 {
        0
    }

    fn ms(s: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(s).expect("valid").timestamp_millis()
    }

    fn samples() -> Vec<ViewState> {
        let levels =
            Levels { service_level: Band::new(90.0, 70.5), pending: Band::new(0.0, 3.0), ..Default::default() };
        vec![
            ViewState::default(),
            ViewState {
                page: Page::Workflow,
                workspace: Some(WS.into()),
                workflow: Some(WF.into()),
                window: WindowChoice::Last4h,
                channel: Some("voice".into()),
                thresholds: vec![10, 30, 120],
                theme: Theme::Dark,
                ..Default::default()
            },
            ViewState {
                window: WindowChoice::Today,
                time_zone: Some("America/Argentina/Buenos_Aires".into()),
                theme: Theme::Contrast,
                levels,
                ..Default::default()
            },
            ViewState {
                page: Page::Workflow,
                window: WindowChoice::Custom { from: t(2026, 11, 27, 8, 0), to: Some(t(2026, 11, 27, 17, 30)) },
                time_zone: Some("Etc/GMT+5".into()),
                channel: Some("chat & sms".into()),
                ..Default::default()
            },
            ViewState { window: WindowChoice::Custom { from: t(2026, 11, 27, 8, 0), to: None }, ..Default::default() },
            ViewState { kiosk: true, theme: Theme::Dark, rotate: Some(30), wakelock: true, ..Default::default() },
            ViewState { kiosk: true, theme: Theme::Auto, ..Default::default() },
            ViewState { embed: true, transparent: true, theme: Theme::Light, ..Default::default() },
            ViewState { kiosk: true, embed: true, theme: Theme::Contrast, rotate: Some(5), ..Default::default() },
            ViewState {
                page: Page::Queues,
                sort: Sort { column: Column::ServiceLevel, descending: false },
                levels: Levels { ratio: Band::new(0.5, 3.0), ..Default::default() },
                ..Default::default()
            },
            ViewState {
                page: Page::Agents,
                agent_queue: Some("WQ0123456789abcdef0123456789abcdef".into()),
                skill: Some("spanish & billing".into()),
                levels: Levels { time_in_state: Band::new(300.0, 900.0), ..Default::default() },
                ..Default::default()
            },
            ViewState { kiosk: true, sound: true, ..Default::default() },
            ViewState { kiosk: true, burn_in: Some(0), watchdog: Some(90), ..Default::default() },
        ]
    }

    #[test]
    fn url_round_trip() {
        for view in samples() {
            let q = view.to_query();
            assert_eq!(ViewState::from_query(&q), view, "{q}");
            assert_eq!(ViewState::from_query(&format!("?{q}")), view);
        }
        assert_eq!(ViewState::default().to_query(), "");
    }

    #[test]
    fn query_strings_are_canonical_and_readable() {
        let view = &samples()[1];
        assert_eq!(view.to_query(), format!("page=workflow&ws={WS}&wf={WF}&win=4h&ch=voice&sla=10,30,120&theme=dark"));
        let custom = &samples()[3];
        assert_eq!(
            custom.to_query(),
            "page=workflow&win=custom&from=2026-11-27T08:00&to=2026-11-27T17:30&tz=Etc/GMT%2B5&ch=chat%20%26%20sms"
        );
        assert_eq!(ViewState::from_query("theme=light&sl=95,90").to_query(), "theme=light&sl=95,90");
        assert_eq!(samples()[9].to_query(), "page=queues&rt=0.5,3&sort=sl");
        assert_eq!(
            samples()[10].to_query(),
            "page=agents&tis=300,900&queue=WQ0123456789abcdef0123456789abcdef&skill=spanish%20%26%20billing"
        );
        assert_eq!(ViewState::from_query("page=settings").page, Page::Settings);
        let h = ViewState::from_query(&format!("page=history&wf={WF}&by=hour"));
        assert_eq!((h.page, h.hourly, h.workflow.as_deref()), (Page::History, true, Some(WF)));
        assert_eq!(h.to_query(), format!("page=history&wf={WF}&by=hour"));
        assert!(!ViewState::from_query("page=history&by=week").hourly);
        assert_eq!(ViewState::from_query("page=history&kiosk=1").page, Page::Overview, "not a wall's page");
        assert_eq!(ViewState::from_query("page=settings").to_query(), "page=settings");
        assert_eq!(ViewState::from_query("page=settings&kiosk=1").page, Page::Overview, "never on a kiosk");
        assert_eq!(ViewState::from_query("page=settings&embed=1").page, Page::Overview);
        let v = ViewState::from_query("page=queues&sort=bogus&queue=WW1&skill=");
        assert_eq!((v.page, v.sort, v.agent_queue, v.skill), (Page::Queues, Sort::default(), None, None));
    }

    #[test]
    fn display_modes() {
        let v = ViewState::from_query("kiosk=1&rotate=30&wakelock=1");
        assert!(v.kiosk && v.wakelock && !v.embed && !v.chrome());
        assert_eq!((v.rotate, v.theme), (Some(30), Theme::Dark), "a kiosk is dark unless the link says");
        assert_eq!(v.to_query(), "kiosk=1&wakelock=1&rotate=30");
        let v = ViewState::from_query("kiosk=1&burnin=5&watchdog=0");
        assert_eq!((v.burn_in, v.watchdog), (Some(5), Some(0)), "0 turns them off");
        assert_eq!(v.to_query(), "kiosk=1&burnin=5&watchdog=0");
        let v = ViewState::from_query("kiosk=1&refresh=3");
        assert_eq!(v.refresh, Some(Some(3)));
        assert_eq!(v.to_query(), "kiosk=1&refresh=3");
        let v = ViewState::from_query("kiosk=1&refresh=off");
        assert_eq!(v.refresh, Some(None));
        assert_eq!(v.to_query(), "kiosk=1&refresh=off");
        for bad in ["24", "-1", "4am", ""] {
            assert_eq!(ViewState::from_query(&format!("kiosk=1&refresh={bad}")).refresh, None, "{bad}: the default");
        }
        let v = ViewState::from_query("kiosk=1&burnin=-1&watchdog=99999999");
        assert_eq!((v.burn_in, v.watchdog), (None, Some(MAX_WATCHDOG_SECS)), "bad values fall back or are bounded");
        let v = ViewState::from_query("kiosk=1&theme=auto");
        assert_eq!(v.theme, Theme::Auto);
        assert_eq!(v.to_query(), "theme=auto&kiosk=1");
        assert_eq!(ViewState::from_query("kiosk=1&theme=pink").theme, Theme::Dark);
        assert_eq!(ViewState::from_query("kiosk=0").theme, Theme::Auto);
        assert_eq!(ViewState::from_query("kiosk=true").to_query(), "kiosk=1");
        let v = ViewState::from_query("embed=1&bg=transparent&theme=dark");
        assert!(v.embed && v.transparent && !v.kiosk && !v.chrome());
        assert_eq!(v.theme, Theme::Dark);
        assert_eq!(v.to_query(), "theme=dark&embed=1&bg=transparent");
        assert!(ViewState::default().chrome());
        assert_eq!(ViewState::from_query("rotate=2").rotate, Some(MIN_ROTATE_SECS), "at least 5 s");
        assert_eq!(ViewState::from_query("rotate=999999").rotate, Some(MAX_ROTATE_SECS));
        let v = ViewState::from_query("kiosk=1&sound=1&page=queues");
        assert!(v.kiosk && v.sound);
        assert_eq!(v.to_query(), "page=queues&kiosk=1&sound=1");
        assert!(ViewState::from_query("sound=yes").sound && !ViewState::from_query("sound=1").kiosk);
        for off in ["rotate=0", "rotate=x", "rotate=-5", "rotate=", "bg=red", "wakelock=no", "sound=0", "sound="] {
            assert_eq!(ViewState::from_query(off), ViewState::default(), "{off}");
        }
    }

    #[test]
    fn bad_values_fall_back_to_defaults() {
        let v = ViewState::from_query(
            "page=nope&ws=WS123&wf=WW&win=3h&sla=5,-1&theme=pink&sl=50,90&tz=../../etc&ch=&unknown=1&from=yesterday",
        );
        assert_eq!(v, ViewState::default());
        let v = ViewState::from_query("win=custom");
        assert_eq!(v.window, WindowChoice::Last15m, "custom without a start");
        let v = ViewState::from_query("win=custom&from=2026-11-27T10:00&to=2026-11-27T09:00");
        assert_eq!(v.window, WindowChoice::Custom { from: t(2026, 11, 27, 10, 0), to: None }, "end before start");
        let v = ViewState::from_query("sla=60,20,20&ch=voice+chat&tz=Europe%2FBerlin");
        assert_eq!(v.thresholds, [20, 60]);
        assert_eq!(v.channel.as_deref(), Some("voice chat"));
        assert_eq!(v.time_zone.as_deref(), Some("Europe/Berlin"));
    }

    #[test]
    fn decoding_is_forgiving() {
        assert_eq!(decode("a%2Cb+c%"), "a,b c%");
        assert_eq!(decode("%zz%41"), "%zzA");
        assert_eq!(decode("%C3%A9"), "é");
        assert_eq!(decode(&encode("Ünïcode & spaces/+")), "Ünïcode & spaces/+");
    }

    #[test]
    fn local_times() {
        assert_eq!(parse_local("2026-11-27T08:05"), Some(t(2026, 11, 27, 8, 5)));
        assert_eq!(parse_local("2026-11-27T08:05:00"), Some(t(2026, 11, 27, 8, 5)));
        for bad in ["2026-11-27", "2026-11-27T8", "2026-13-01T00:00", "2026-11-27T24:00", "26-11-27T00:00", "x", ""] {
            assert_eq!(parse_local(bad), None, "{bad}");
        }
        assert_eq!(format_local(&t(2026, 1, 2, 3, 4)), "2026-01-02T03:04");
    }

    #[test]
    fn thresholds_from_user_input() {
        let mut v = ViewState::default();
        assert!(v.set_thresholds("30, 10").is_ok());
        assert_eq!(v.thresholds, [10, 30]);
        assert_eq!(v.thresholds_text(), "10, 30");
        assert!(v.set_thresholds("10,abc").is_err());
        assert!(v.set_thresholds("").is_err());
        assert_eq!(v.thresholds, [10, 30], "unchanged on error");
    }

    #[test]
    fn minute_windows() {
        let now = ms("2026-11-27T12:00:00Z");
        for (w, m) in [
            (WindowChoice::Last15m, 15),
            (WindowChoice::Last1h, 60),
            (WindowChoice::Last4h, 240),
            (WindowChoice::Last8h, 480),
        ] {
            let view = ViewState { window: w, channel: Some("voice".into()), ..Default::default() };
            let q = view.statistics_query(now, &utc).expect("valid");
            assert_eq!(q.window, WindowSpec::Minutes(m));
            assert_eq!(q.task_channel.as_deref(), Some("voice"));
            assert_eq!(q.split_by_wait_time, Some(vec![20, 60]));
        }
    }

    #[test]
    fn today_starts_at_local_midnight() {
        let view = ViewState { window: WindowChoice::Today, ..Default::default() };
        let now = ms("2026-11-27T12:34:56Z");
        let q = view.statistics_query(now, &utc).expect("valid");
        let start = |q: &StatisticsQuery| match q.window {
            WindowSpec::Range { start: Some(s), end: None } => s.start_ms(),
            ref w => panic!("{w:?}"),
        };
        assert_eq!(start(&q), ms("2026-11-27T00:00:00Z"));
        // UTC+2: local 14:34, midnight is 22:00 UTC the day before.
        let q = view.statistics_query(now, &|_| 120).expect("valid");
        assert_eq!(start(&q), ms("2026-11-26T22:00:00Z"));
        // UTC-5 at 02:00 UTC: local 21:00 of the 26th.
        let q = view.statistics_query(ms("2026-11-27T02:00:00Z"), &|_| -300).expect("valid");
        assert_eq!(start(&q), ms("2026-11-26T05:00:00Z"));
    }

    #[test]
    fn today_across_a_dst_change() {
        // A zone at UTC+1 before 2026-03-29T01:00Z and UTC+2 after (Central Europe).
        let switch = ms("2026-03-29T01:00:00Z");
        let cet = move |at: i64| if at < switch { 60 } else { 120 };
        let view = ViewState { window: WindowChoice::Today, ..Default::default() };
        let q = view.statistics_query(ms("2026-03-29T20:00:00Z"), &cet).expect("valid");
        assert_eq!(
            q.window,
            WindowSpec::Range { start: Some(DateBound::Instant(utc_dt("2026-03-28T23:00:00Z"))), end: None }
        );
    }

    #[test]
    fn a_custom_window_started_today_begins_where_today_does() {
        let switch = ms("2026-03-29T01:00:00Z");
        let cet = move |at: i64| if at < switch { 60 } else { 120 };
        let zones: [(&str, &dyn Fn(i64) -> i32); 4] =
            [("utc", &utc), ("utc+2", &|_| 120), ("utc-5", &|_| -300), ("cet/cest", &cet)];
        for (name, offset) in zones {
            for now in [ms("2026-03-29T20:00:00Z"), ms("2026-03-29T00:30:00Z"), ms("2026-11-27T02:00:00Z")] {
                let from = local_day_start(now, offset).expect("in range");
                assert_eq!((from.hour(), from.minute()), (0, 0), "{name}: local midnight");
                let today = ViewState { window: WindowChoice::Today, ..Default::default() };
                let custom = ViewState { window: ViewState::custom(from, None), ..Default::default() };
                let start = |v: &ViewState| match v.statistics_query(now, offset).expect("valid").window {
                    WindowSpec::Range { start: Some(s), end: None } => s.start_ms(),
                    ref w => panic!("{w:?}"),
                };
                assert_eq!(start(&custom), start(&today), "{name} at {now}");
            }
        }
        // Clocks that jump from 00:00 to 01:00 (local midnight does not exist): the custom
        // window's start still reads back to the Today window's instant.
        let jump = ms("2026-11-01T03:00:00Z");
        let santiago = move |at: i64| if at < jump { -180 } else { -120 };
        let now = ms("2026-11-01T15:00:00Z");
        let from = local_day_start(now, &santiago).expect("in range");
        assert_eq!(local_to_utc_ms(&from, &santiago), local_midnight_ms(now, &santiago));
    }

    fn utc_dt(s: &str) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::parse_from_rfc3339(s).expect("valid").with_timezone(&chrono::Utc)
    }

    #[test]
    fn custom_ranges_in_the_chosen_zone() {
        let view = ViewState {
            window: WindowChoice::Custom { from: t(2026, 11, 27, 8, 0), to: Some(t(2026, 11, 27, 17, 0)) },
            ..Default::default()
        };
        let q = view.statistics_query(ms("2026-11-28T00:00:00Z"), &|_| 60).expect("valid");
        assert_eq!(
            q.window,
            WindowSpec::Range {
                start: Some(DateBound::Instant(utc_dt("2026-11-27T07:00:00Z"))),
                end: Some(DateBound::Instant(utc_dt("2026-11-27T16:00:00Z"))),
            }
        );
        assert!(view.statistics_query(ms("2026-11-27T06:00:00Z"), &utc).is_err(), "starts in the future");
        assert!(view.statistics_query(ms("2027-01-27T06:00:00Z"), &utc).is_err(), "beyond the retention");
    }
}
