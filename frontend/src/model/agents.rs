//! The agent board: workers per activity (one bar each), busy against idle, occupancy over
//! multi-channel capacity, and the table of agents with their ticking time in state,
//! filtered by queue and skill, highlighted past the configured times, and cut to the rows
//! on screen (2,000 agents stay smooth).
//!
//! The queue and skill filters are TaskRouter's own Workers list filters (`TaskQueueSid`,
//! `TargetWorkersExpression`), so eligibility is the server's, computed with its expression
//! language; this module writes the query. Tasks and channels come from each worker's
//! `Channels` list, fetched a slice at a time: a worker whose channels are not known yet
//! shows `—` and does not count in busy, idle and occupancy (the hints say how many do).

use super::age;
use super::figure::{Figure, Now};
use super::floor::{ActivityCount, ActivityInfo, Cell, Line, Presence, WorkerInfo, presence, sort_with};
use super::format;
use super::levels::{Level, Levels, Metric};
use super::view::encode;

/// One channel of a worker (`GET …/Workers/{WK}/Channels`): `task_channel_unique_name`,
/// `assigned_tasks`, `configured_capacity`, `available`.
pub type ChannelLoad = super::floor::Listed;

/// The channels known per worker sid (sorted by sid, for binary search).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Channels(Vec<(String, Vec<ChannelLoad>)>);

impl Channels {
    pub fn get(&self, worker: &str) -> Option<&[ChannelLoad]> {
        self.0.binary_search_by(|(w, _)| w.as_str().cmp(worker)).ok().map(|i| self.0[i].1.as_slice())
    }

    pub fn set(&mut self, worker: String, channels: Vec<ChannelLoad>) {
        match self.0.binary_search_by(|(w, _)| w.cmp(&worker)) {
            Ok(i) => self.0[i].1 = channels,
            Err(i) => self.0.insert(i, (worker, channels)),
        }
    }

    /// Forgets workers no longer listed.
    pub fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        self.0.retain(|(w, _)| keep(w));
    }
}

/// The next `n` workers (from `cursor`, wrapping) whose channels to fetch, and the cursor
/// after them: each poll refreshes a slice, every worker in turn.
pub fn channel_slice(workers: &[WorkerInfo], cursor: usize, n: usize) -> (Vec<String>, usize) {
    if workers.is_empty() {
        return (Vec::new(), 0);
    }
    let start = cursor % workers.len();
    let take = n.min(workers.len());
    let sids = (0..take).map(|i| workers[(start + i) % workers.len()].sid.clone()).collect();
    (sids, (start + take) % workers.len())
}

/// The Workers list query of the board's filters: `TaskQueueSid` for a queue, and for a
/// skill an expression over Flex's `routing.skills` and the plain `skills` array.
pub fn workers_query(queue: Option<&str>, skill: Option<&str>) -> String {
    let mut q = "PageSize=1000".to_owned();
    if let Some(queue) = queue {
        q.push_str(&format!("&TaskQueueSid={}", encode(queue)));
    }
    if let Some(skill) = skill {
        let quoted = format!("'{}'", skill.replace('\\', "\\\\").replace('\'', "\\'"));
        let expr = format!("routing.skills HAS {quoted} OR skills HAS {quoted}");
        q.push_str(&format!("&TargetWorkersExpression={}", encode(&expr)));
    }
    q
}

/// The skills named in queues' TargetWorkers expressions (`… HAS 'billing'`), sorted and
/// without duplicates: the choices of the skill filter.
pub fn skills_of<'a>(expressions: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut skills: Vec<String> = Vec::new();
    for expr in expressions {
        let mut rest = expr;
        while let Some(i) = rest.to_ascii_uppercase().find("HAS") {
            rest = rest[i + 3..].trim_start();
            let Some(quote) = rest.chars().next().filter(|c| *c == '\'' || *c == '"') else { continue };
            let body = &rest[1..];
            let Some(end) = body.find(quote) else { break };
            let skill = &body[..end];
            if !skill.is_empty() && !skills.iter().any(|s| s == skill) {
                let at = skills.partition_point(|s| s.as_str() < skill);
                skills.insert(at, skill.to_owned());
            }
            rest = &body[end + 1..];
        }
    }
    skills
}

/// Whole seconds since `since_ms` (server clock) at `now` (browser clock and skew).
fn secs_since(since_ms: i64, now: Now) -> Option<u64> {
    Some(((now.ms - now.skew_ms - since_ms as f64).max(0.0) / 1000.0).floor() as u64)
}

/// Tasks in hand and capacity, over a worker's available channels.
pub fn load(channels: &[ChannelLoad]) -> (u32, u32) {
    channels
        .iter()
        .filter(|c| c.available)
        .fold((0, 0), |(t, c), ch| (t + ch.assigned_tasks.min(ch.configured_capacity), c + ch.configured_capacity))
}

/// One row of the agents table, as the answers say it: what ticks (the time in state and
/// its highlight) is computed when the row is drawn ([`AgentRow::line`]), so a tick of the
/// clock costs the rows on screen, not all 2,000.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentRow {
    pub sid: String,
    pub name: String,
    pub activity: String,
    pub presence: Presence,
    /// Since when in the current activity (server clock, ms; None: the server does not know).
    pub since_ms: Option<i64>,
    /// Tasks in hand (None: channels not known yet).
    pub tasks: Option<u32>,
    /// `voice 1/1 · chat 2/3` (assigned / capacity of each available channel).
    pub channels: String,
}

impl AgentRow {
    /// Seconds in the current activity at `now`.
    pub fn secs(&self, now: Now) -> Option<u64> {
        secs_since(self.since_ms?, now)
    }

    /// The highlight of the time in state at `now`.
    pub fn level(&self, levels: &Levels, now: Now) -> Level {
        levels.classify(Metric::TimeInState, self.secs(now).map(|s| s as f64))
    }

    /// The row as the table draws it at `now`: agent, activity, time in state, tasks, channels.
    pub fn line(&self, levels: &Levels, now: Now) -> Line {
        let secs = self.secs(now);
        let level = levels.classify(Metric::TimeInState, secs.map(|s| s as f64));
        Line {
            sid: self.sid.clone(),
            class: format!("arow level-{} presence-{}", level.key(), self.presence.key()),
            alert: None,
            cells: vec![
                Cell::text(self.name.clone()),
                Cell::text(self.activity.clone()),
                Cell {
                    text: secs.map_or_else(|| format::NONE.to_owned(), format::duration),
                    value: secs.map(|s| s.to_string()).unwrap_or_default(),
                    level: Some(level),
                    title: None,
                },
                Cell::text(self.tasks.map_or_else(|| format::NONE.to_owned(), |t| t.to_string())),
                Cell::text(self.channels.clone()),
            ],
        }
    }

    pub fn new(w: &WorkerInfo, activities: &[ActivityInfo], channels: &Channels) -> Self {
        let activity = w.activity_name.clone().unwrap_or_else(|| format::NONE.to_owned());
        let presence = presence(activities, w.activity_sid.as_deref().unwrap_or_default(), &activity);
        let known = channels.get(&w.sid);
        let listed = known.map(|list| {
            list.iter()
                .filter(|c| c.available)
                .map(|c| {
                    let name = c.task_channel_unique_name.as_deref().unwrap_or_default();
                    format!("{name} {}/{}", c.assigned_tasks, c.configured_capacity)
                })
                .collect::<Vec<_>>()
                .join(" · ")
        });
        Self {
            sid: w.sid.clone(),
            name: w.friendly_name.clone(),
            activity,
            presence,
            since_ms: w.date_status_changed.as_deref().and_then(age::parse_at),
            tasks: known.map(|c| load(c).0),
            channels: listed.unwrap_or_else(|| format::NONE.to_owned()),
        }
    }
}

/// The rows of `workers` in display order: by name, then sid.
pub fn agent_rows(workers: &[WorkerInfo], activities: &[ActivityInfo], channels: &Channels) -> Vec<AgentRow> {
    let rows = workers.iter().map(|w| AgentRow::new(w, activities, channels)).collect();
    sort_with(rows, &|a: &AgentRow, b: &AgentRow| a.name.cmp(&b.name).then_with(|| a.sid.cmp(&b.sid)))
}

/// One bar of the activity chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityBar {
    pub sid: String,
    pub name: String,
    pub presence: Presence,
    pub count: u64,
    /// Its share of the agents shown (`40%`).
    pub width: String,
}

/// Agents per activity (`counts` of `total` agents, see `floor::board_counts`): every
/// listed activity (zeros included), then any counted that is not listed; available
/// activities first, then unavailable, offline last, each by name.
pub fn activity_bars(counts: &[ActivityCount], total: u64, activities: &[ActivityInfo]) -> Vec<ActivityBar> {
    let mut bars: Vec<ActivityBar> = activities
        .iter()
        .map(|a| ActivityBar {
            sid: a.sid.clone(),
            name: a.friendly_name.clone(),
            presence: presence(activities, &a.sid, &a.friendly_name),
            count: 0,
            width: String::new(),
        })
        .collect();
    for c in counts {
        match bars.iter_mut().find(|b| b.sid == c.sid) {
            Some(b) => b.count += c.workers,
            None => bars.push(ActivityBar {
                sid: c.sid.clone(),
                name: c.friendly_name.clone(),
                presence: presence(activities, &c.sid, &c.friendly_name),
                count: c.workers,
                width: String::new(),
            }),
        }
    }
    let total = total.max(1);
    for b in &mut bars {
        b.width = format!("{}%", b.count * 100 / total);
    }
    sort_with(bars, &|a: &ActivityBar, b: &ActivityBar| {
        (a.presence, &a.name, &a.sid).cmp(&(b.presence, &b.name, &b.sid))
    })
}

/// The board's key figures.
#[derive(Debug, Clone, PartialEq)]
pub struct BoardFigures {
    pub agents: Figure,
    /// Agents in an available activity holding at least one task.
    pub busy: Figure,
    /// Agents in an available activity holding none.
    pub idle: Figure,
    /// Tasks in hand ÷ capacity of the available channels of agents in an available
    /// activity: an agent with 1 of 3 chats counts a third busy.
    pub occupancy: Figure,
}

impl BoardFigures {
    /// The figures of the listed `rows` with their known `channels`, and `agents` in all
    /// (see `floor::board_counts`; None: not known yet).
    pub fn new(rows: &[AgentRow], channels: &Channels, agents: Option<u64>) -> Self {
        let (mut busy, mut idle, mut known, mut available) = (0u64, 0u64, 0u64, 0u64);
        let (mut tasks, mut capacity) = (0u64, 0u64);
        for r in rows.iter().filter(|r| r.presence == Presence::Available) {
            available += 1;
            let Some(list) = channels.get(&r.sid) else { continue };
            known += 1;
            let (t, c) = load(list);
            if t > 0 {
                busy += 1
            } else {
                idle += 1
            }
            tasks += u64::from(t);
            capacity += u64::from(c);
        }
        let occupancy = (capacity > 0).then(|| tasks as f64 / capacity as f64);
        // Out of the available agents; while some of their channels are still being read,
        // how many count so far.
        let basis = if known == available {
            format!("of {available} available agents")
        } else {
            format!("channels known for {known} of {available} available agents")
        };
        Self {
            agents: Figure::count(agents),
            busy: Figure::count(Some(busy)).hint(basis.clone()),
            idle: Figure::count(Some(idle)).hint(basis),
            occupancy: Figure::percent(occupancy).hint(format!("{tasks} tasks in {capacity} slots")),
        }
    }
}

/// Height of one table row in pixels, as the stylesheet sets it (`.agent-row`).
pub const ROW_PX: f64 = 28.0;
/// Rows drawn above and below the visible ones (scrolling shows no blank rows).
pub const OVERSCAN: usize = 10;

/// The rows to draw for a list of `total` rows scrolled by `scroll_px` in a viewport of
/// `height_px`: (first, end), end exclusive.
pub fn visible_range(total: usize, scroll_px: f64, height_px: f64) -> (usize, usize) {
    let first = (scroll_px.max(0.0) / ROW_PX).floor() as usize;
    let shown = (height_px.max(0.0) / ROW_PX).ceil() as usize + 1;
    let start = first.saturating_sub(OVERSCAN).min(total);
    let end = (first + shown + OVERSCAN).min(total);
    (start, end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::floor::board_counts;
    use crate::model::floor::tests::{AT_MS, activities};

    fn worker(sid: &str, name: &str, activity: Option<(&str, &str)>, since: Option<&str>) -> WorkerInfo {
        WorkerInfo {
            sid: sid.into(),
            friendly_name: name.into(),
            activity_sid: activity.map(|a| a.0.into()),
            activity_name: activity.map(|a| a.1.into()),
            available: false,
            date_status_changed: since.map(str::to_owned),
            ..Default::default()
        }
    }

    fn ch(name: &str, assigned: u32, capacity: u32, available: bool) -> ChannelLoad {
        ChannelLoad {
            task_channel_unique_name: Some(name.into()),
            assigned_tasks: assigned,
            configured_capacity: capacity,
            available,
            ..Default::default()
        }
    }

    fn now(after_ms: f64) -> Now {
        Now { ms: AT_MS as f64 + after_ms, skew_ms: 0.0 }
    }

    /// AT_MS is 2026-11-27T09:00:00Z.
    const AT: &str = "2026-11-27T09:00:00Z";

    /// Whole seconds since `since` (server clock, `YYYY-MM-DDTHH:MM:SSZ`) at `now`, as a
    /// row reads `date_status_changed`.
    fn time_in_state(since: Option<&str>, now: Now) -> Option<u64> {
        secs_since(age::parse_at(since?)?, now)
    }

    #[test]
    fn time_in_state_ticks_from_the_server_time() {
        assert_eq!(time_in_state(Some(AT), now(0.0)), Some(0));
        assert_eq!(time_in_state(Some(AT), now(61_999.0)), Some(61));
        // The browser 10 s ahead of the server.
        assert_eq!(time_in_state(Some(AT), Now { ms: AT_MS as f64 + 70_000.0, skew_ms: 10_000.0 }), Some(60));
        assert_eq!(time_in_state(Some(AT), now(-5_000.0)), Some(0), "never negative");
        assert_eq!(time_in_state(None, now(0.0)), None);
        assert_eq!(time_in_state(Some("soon"), now(0.0)), None);
    }

    #[test]
    fn rows_with_highlights_tasks_and_channels() {
        let workers = [
            worker("WK2", "bob", Some(("WA2", "Break")), Some("2026-11-27T08:40:00Z")),
            worker("WK1", "alice", Some(("WA1", "Available")), Some(AT)),
            worker("WK3", "carol", None, None),
        ];
        let mut channels = Channels::default();
        channels.set("WK1".into(), vec![ch("voice", 0, 1, true), ch("chat", 2, 3, true), ch("sms", 1, 1, false)]);
        let rows = agent_rows(&workers, &activities(), &channels);
        let (levels, at) = (Levels::default(), now(300_000.0));
        let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["alice", "bob", "carol"]);
        let alice = &rows[0];
        assert_eq!(
            (alice.presence, alice.secs(at), alice.level(&levels, at)),
            (Presence::Available, Some(300), Level::Good)
        );
        assert_eq!((alice.tasks, alice.channels.as_str()), (Some(2), "voice 0/1 · chat 2/3"), "sms is off");
        // bob: 20 min + 5 min on break, past the amber 10 min, before the red 30.
        let bob = &rows[1];
        assert_eq!((bob.activity.as_str(), bob.secs(at), bob.level(&levels, at)), ("Break", Some(1500), Level::Warn));
        assert_eq!((bob.tasks, bob.channels.as_str()), (None, "—"));
        // Ten more minutes: 35 min, past the red 30; the row is the same, its line ticks.
        let later = now(900_000.0);
        assert_eq!((bob.secs(later), bob.level(&levels, later)), (Some(2100), Level::Bad));
        assert_eq!(bob.line(&levels, later).cells[2].text, "35:00");
        let line = bob.line(&levels, at);
        assert_eq!(line.class, "arow level-warn presence-unavailable");
        let texts: Vec<&str> = line.cells.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(texts, ["bob", "Break", "25:00", "—", "—"]);
        assert_eq!(line.cells[2].value, "1500");
        let carol = &rows[2];
        assert_eq!((carol.activity.as_str(), carol.secs(at), carol.level(&levels, at)), ("—", None, Level::Unknown));
        assert_eq!(carol.presence, Presence::Unavailable);
    }

    #[test]
    fn occupancy_counts_capacity_across_channels() {
        let workers = [
            worker("WK1", "alice", Some(("WA1", "Available")), Some(AT)),
            worker("WK2", "bob", Some(("WA4", "Chat")), Some(AT)),
            worker("WK3", "carol", Some(("WA1", "Available")), Some(AT)),
            worker("WK4", "dan", Some(("WA1", "Available")), Some(AT)),
            worker("WK5", "eve", Some(("WA2", "Break")), Some(AT)),
        ];
        let mut channels = Channels::default();
        // alice: 1 voice of 1 and 1 chat of 3 → 2 of 4; bob: idle with 2 chat slots; carol: 0 of 1.
        channels.set("WK1".into(), vec![ch("voice", 1, 1, true), ch("chat", 1, 3, true)]);
        channels.set("WK2".into(), vec![ch("chat", 0, 2, true)]);
        channels.set("WK3".into(), vec![ch("voice", 0, 1, true)]);
        // eve is on break: her channels do not count.
        channels.set("WK5".into(), vec![ch("voice", 1, 1, true)]);
        let rows = agent_rows(&workers, &activities(), &channels);
        let f = BoardFigures::new(&rows, &channels, Some(5));
        assert_eq!(f.agents.text, "5");
        assert_eq!((f.busy.text.as_str(), f.idle.text.as_str()), ("1", "2"));
        assert_eq!(
            f.busy.hint.as_deref(),
            Some("channels known for 3 of 4 available agents"),
            "dan's channels are not known"
        );
        // 2 tasks in 4 + 2 + 1 = 7 slots.
        assert_eq!(f.occupancy.text, "28.6 %");
        assert_eq!(f.occupancy.hint.as_deref(), Some("2 tasks in 7 slots"));
        // Once dan's channels are read (idle, 0 of 1), every available agent counts.
        channels.set("WK4".into(), vec![ch("voice", 0, 1, true)]);
        let rows = agent_rows(&workers, &activities(), &channels);
        let f = BoardFigures::new(&rows, &channels, Some(5));
        assert_eq!((f.busy.text.as_str(), f.idle.text.as_str()), ("1", "3"));
        assert_eq!(f.idle.hint.as_deref(), Some("of 4 available agents"));
        let empty = BoardFigures::new(&[], &Channels::default(), None);
        assert_eq!(empty.occupancy.text, "—");
        assert_eq!(empty.agents.text, "—", "no count yet");
    }

    #[test]
    fn a_bar_per_activity_zeros_included() {
        let workers = [
            worker("WK1", "a", Some(("WA1", "Available")), None),
            worker("WK2", "b", Some(("WA2", "Break")), None),
            worker("WK3", "c", Some(("WA2", "Break")), None),
            worker("WK4", "d", Some(("WA9", "Lunch")), None),
            worker("WK5", "e", None, None),
        ];
        let plan = crate::model::subscriptions::Plan::default();
        let snapshots = crate::model::snapshots::Snapshots::default();
        let (counts, total) = board_counts(&plan, &snapshots, Some(&workers)).expect("listed");
        assert_eq!(total, 5);
        let bars = activity_bars(&counts, total, &activities());
        let got: Vec<(&str, u64, &str)> = bars.iter().map(|b| (b.name.as_str(), b.count, b.width.as_str())).collect();
        assert_eq!(
            got,
            [
                ("Available", 1, "20%"),
                ("Chat", 0, "0%"),
                ("Break", 2, "40%"),
                ("Lunch", 1, "20%"),
                ("Offline", 0, "0%")
            ]
        );
        assert!(activity_bars(&[], 0, &[]).is_empty());
    }

    #[test]
    fn filters_are_the_servers_list_filters() {
        assert_eq!(workers_query(None, None), "PageSize=1000");
        assert_eq!(workers_query(Some("WQ1"), None), "PageSize=1000&TaskQueueSid=WQ1");
        assert_eq!(
            workers_query(None, Some("o'brien")),
            "PageSize=1000&TargetWorkersExpression=routing.skills%20HAS%20%27o%5C%27brien%27%20OR%20skills%20HAS%20%27o%5C%27brien%27"
        );
        let skills = skills_of([
            "routing.skills HAS 'billing' AND level > 2",
            "skills has \"spanish\" OR skills HAS 'billing'",
            "1==1",
            "skills HAS",
            "skills HAS 'unterminated",
        ]);
        assert_eq!(skills, ["billing", "spanish"]);
    }

    #[test]
    fn channels_are_fetched_a_slice_at_a_time() {
        let workers: Vec<WorkerInfo> = (0..5).map(|i| worker(&format!("WK{i}"), "x", None, None)).collect();
        let (first, cursor) = channel_slice(&workers, 0, 3);
        assert_eq!((first, cursor), (vec!["WK0".into(), "WK1".into(), "WK2".into()], 3));
        let (next, cursor) = channel_slice(&workers, cursor, 3);
        assert_eq!((next, cursor), (vec!["WK3".into(), "WK4".into(), "WK0".into()], 1));
        assert_eq!(channel_slice(&workers, 7, 10).0.len(), 5, "never more than the list");
        assert_eq!(channel_slice(&[], 4, 3), (Vec::new(), 0));
        let mut c = Channels::default();
        c.set("WK2".into(), vec![]);
        c.set("WK1".into(), vec![ch("voice", 1, 1, true)]);
        c.set("WK2".into(), vec![ch("chat", 0, 2, true)]);
        assert_eq!(c.get("WK2").map(|l| l.len()), Some(1));
        c.retain(|w| w != "WK1");
        assert_eq!(c.get("WK1"), None);
    }

    #[test]
    fn only_the_rows_on_screen_are_drawn() {
        // 2,000 rows, 560 px high (20 rows), scrolled to row 100.
        assert_eq!(visible_range(2000, 100.0 * ROW_PX, 560.0), (90, 131));
        assert_eq!(visible_range(2000, 0.0, 560.0), (0, 31));
        assert_eq!(visible_range(5, 0.0, 560.0), (0, 5));
        assert_eq!(visible_range(2000, 1e9, 560.0), (2000, 2000));
        assert_eq!(visible_range(0, 0.0, 0.0), (0, 0));
    }
}
