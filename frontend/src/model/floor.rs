//! The supervisor's floor: what the workspace header, the queues wall and the agent board
//! read of TaskRouter's workspace, task queue, worker and activity resources, and the
//! figures they show.
//!
//! The answers are REST answers (the dashboard polls them until WebSocket targets carry
//! them), so each is kept with the server's time of the answer ([`Answer`]): ages tick from
//! it as the workflow tiles tick from a snapshot's `at`. The structs here read only the
//! fields shown: the full shared types would cost the wasm a deserializer each for fields
//! the page never reads (a test checks that these read what the shared types write).

use serde::Deserialize;
use wallboard_shared::resources::{SplitByWaitTime, TasksByStatus};

use super::age;
use super::figure::{Figure, Now};
use super::levels::{Level, Levels, Metric};
use super::sla;
use super::view::{ViewState, WindowChoice};
use wallboard_shared::StatisticsQuery;

/// The statistics query of the floor's cumulative numbers: today (since midnight in the
/// view's zone), all channels, split at the view's thresholds.
pub fn today_query(view: &ViewState, now_ms: i64, offset: &dyn Fn(i64) -> i32) -> Option<StatisticsQuery> {
    let today = ViewState { window: WindowChoice::Today, channel: None, ..view.clone() };
    today.statistics_query(now_ms, offset).ok()
}

/// Sorts `items` by `cmp`, stably. Positions are sorted, not the items, so the wasm holds
/// one sort for every type (a sort per row type costs kilobytes).
pub fn sort_with<T>(items: Vec<T>, cmp: &dyn Fn(&T, &T) -> std::cmp::Ordering) -> Vec<T> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    sort_positions(&mut order, &|a, b| cmp(&items[a], &items[b]));
    let mut slots: Vec<Option<T>> = items.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

fn sort_positions(order: &mut [usize], cmp: &dyn Fn(usize, usize) -> std::cmp::Ordering) {
    order.sort_by(|a, b| cmp(*a, *b));
}

/// One cell of a table row as shown: its text, `data-value`, and level (`data-level`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cell {
    pub text: String,
    pub value: String,
    pub level: Option<Level>,
}

impl Cell {
    pub fn text(text: String) -> Self {
        Self { text, ..Self::default() }
    }

    /// A count, with its value.
    pub fn count(n: u64) -> Self {
        Self { text: super::format::count(n), value: n.to_string(), level: None }
    }

    pub fn level(self, level: Level) -> Self {
        Self { level: Some(level), ..self }
    }
}

/// A table row as the queues wall and the agent board draw it: keyed by sid, with its
/// classes and cells (one component draws both tables).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub sid: String,
    pub class: String,
    pub cells: Vec<Cell>,
}

/// A REST answer and when the server gave it.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer<T> {
    pub data: T,
    /// The answer's `Date` header (server clock, ms); None when it had none.
    pub at_ms: Option<i64>,
    /// Client clock (ms) when it arrived.
    pub received_ms: f64,
}

impl<T> Answer<T> {
    /// `secs` as the answer said it, ticking on to `now` (0 stays 0: nothing waiting).
    pub fn age_now(&self, secs: u64, now: Now) -> u64 {
        age::waiting_age_now(secs, self.at_ms, self.received_ms, now.ms, now.skew_ms)
    }
}

/// One element of `activity_statistics`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ActivityCount {
    pub sid: String,
    pub friendly_name: String,
    pub workers: u64,
}

/// The cumulative part the floor shows: the service level splits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct WindowCounts {
    #[serde(default)]
    pub split_by_wait_time: Option<SplitByWaitTime>,
}

impl WindowCounts {
    /// The service level at `threshold` (None: not split there, or nothing to divide by).
    pub fn service_level(&self, threshold: u32) -> Option<f64> {
        let splits = self.split_by_wait_time.as_ref()?;
        splits.0.iter().find(|(t, _)| *t == threshold).and_then(|(_, s)| sla::service_level(s))
    }
}

/// `realtime` of `GET …/Workspaces/{WS}/Statistics`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct WorkspaceRealtime {
    pub activity_statistics: Vec<ActivityCount>,
    pub longest_task_waiting_age: u64,
    pub tasks_by_status: TasksByStatus,
    pub total_workers: u64,
}

/// `GET …/Workspaces/{WS}/Statistics`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct WorkspaceStats {
    pub realtime: WorkspaceRealtime,
    pub cumulative: WindowCounts,
}

/// `realtime` of one entry of `GET …/TaskQueues/Statistics`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct QueueRealtime {
    /// Eligible workers per activity.
    pub activity_statistics: Vec<ActivityCount>,
    pub longest_task_waiting_age: u64,
    pub tasks_by_status: TasksByStatus,
    pub total_available_workers: u64,
    pub total_eligible_workers: u64,
}

/// One entry of `GET …/TaskQueues/Statistics`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct QueueStats {
    pub task_queue_sid: String,
    pub realtime: QueueRealtime,
    pub cumulative: WindowCounts,
}

/// An item of any list the dashboard reads (Workspace, Workflow, TaskChannel, TaskQueue,
/// Activity, Worker, WorkerChannel): the fields it shows, each absent from the resources
/// that lack it. One type for every list: each deserializer and list loop costs the wasm
/// its own code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Listed {
    pub sid: String,
    #[serde(default)]
    pub friendly_name: String,
    /// Task channels.
    pub unique_name: Option<String>,
    /// Task queues: the TargetWorkers expression (the skill filter's choices).
    pub target_workers: Option<String>,
    /// Activities (takes tasks), workers (their activity does), worker channels.
    #[serde(default)]
    pub available: bool,
    /// Workers.
    pub activity_sid: Option<String>,
    pub activity_name: Option<String>,
    /// Workers: when they entered their current activity (`YYYY-MM-DDTHH:MM:SSZ`).
    pub date_status_changed: Option<String>,
    /// Worker channels.
    pub task_channel_unique_name: Option<String>,
    #[serde(default)]
    pub assigned_tasks: u32,
    #[serde(default)]
    pub configured_capacity: u32,
}

/// An activity of `GET …/Activities` (`sid`, `friendly_name`, `available`).
pub type ActivityInfo = Listed;

/// A worker of `GET …/Workers` (`sid`, `friendly_name`, `activity_*`, `available`,
/// `date_status_changed`).
pub type WorkerInfo = Listed;

/// Where an activity puts a worker on the wall.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Presence {
    /// An activity that takes tasks.
    Available,
    /// Not taking tasks (break, lunch, training…).
    Unavailable,
    /// The activity named `Offline` (TaskRouter's default for signed-out workers).
    Offline,
}

impl Presence {
    pub fn key(self) -> &'static str {
        match self {
            Self::Available => "available",
            Self::Unavailable => "unavailable",
            Self::Offline => "offline",
        }
    }
}

/// The presence of activity `sid` (named `name`): its `available` flag from `activities`;
/// one not listed is available when named `Available` or `Idle`, as the server decides.
pub fn presence(activities: &[ActivityInfo], sid: &str, name: &str) -> Presence {
    let available = match activities.iter().find(|a| a.sid == sid) {
        Some(a) => a.available,
        None => name == "Available" || name == "Idle",
    };
    if available {
        Presence::Available
    } else if name.eq_ignore_ascii_case("offline") {
        Presence::Offline
    } else {
        Presence::Unavailable
    }
}

/// Workers per presence of an `activity_statistics` list: (available, unavailable, offline).
pub fn by_presence(counts: &[ActivityCount], activities: &[ActivityInfo]) -> (u64, u64, u64) {
    counts.iter().fold((0, 0, 0), |(a, u, o), c| match presence(activities, &c.sid, &c.friendly_name) {
        Presence::Available => (a + c.workers, u, o),
        Presence::Unavailable => (a, u + c.workers, o),
        Presence::Offline => (a, u, o + c.workers),
    })
}

/// The workspace header: waiting, longest wait (ticking), agents available, service level
/// today.
#[derive(Debug, Clone, PartialEq)]
pub struct HeaderFigures {
    pub loaded: bool,
    pub waiting: Figure,
    pub longest: Figure,
    pub available: Figure,
    pub service_level: Figure,
}

impl HeaderFigures {
    pub fn new(
        stats: Option<&Answer<WorkspaceStats>>,
        activities: &[ActivityInfo],
        levels: &Levels,
        threshold: u32,
        now: Now,
    ) -> Self {
        let rt = stats.map(|s| &s.data.realtime);
        let waiting = rt.map(|r| r.tasks_by_status.pending);
        let longest = stats.map(|s| s.age_now(s.data.realtime.longest_task_waiting_age, now));
        let available = rt.map(|r| by_presence(&r.activity_statistics, activities).0);
        let sl = stats.and_then(|s| s.data.cumulative.service_level(threshold));
        Self {
            loaded: stats.is_some(),
            waiting: Figure::count(waiting).level(levels.classify(Metric::Pending, waiting.map(|n| n as f64))),
            longest: Figure::duration(longest).level(levels.classify(Metric::LongestWait, longest.map(|a| a as f64))),
            available: Figure::count(available).hint(match rt {
                Some(r) => format!("of {} agents", super::format::count(r.total_workers)),
                None => String::new(),
            }),
            service_level: Figure::percent(sl)
                .level(levels.classify_share(Metric::ServiceLevel, sl))
                .hint(format!("today at {threshold} s")),
        }
    }
}

/// Waiting tasks per available agent: None when there is neither (nothing to divide),
/// infinite when tasks wait and no agent is available.
pub fn ratio(waiting: u64, available: u64) -> Option<f64> {
    match (waiting, available) {
        (0, 0) => None,
        (_, 0) => Some(f64::INFINITY),
        (w, a) => Some(w as f64 / a as f64),
    }
}

/// The level of a [`ratio`]: infinite is critical (the band would call it unknown).
pub fn ratio_level(levels: &Levels, ratio: Option<f64>) -> Level {
    match ratio {
        Some(r) if r.is_infinite() => Level::Bad,
        r => levels.classify(Metric::Ratio, r),
    }
}

/// A ratio as shown: two decimals below 10, `∞`, `—`.
pub fn ratio_text(ratio: Option<f64>) -> String {
    match ratio {
        None => super::format::NONE.to_owned(),
        Some(r) if r.is_infinite() => "∞".to_owned(),
        Some(r) => {
            // Integer arithmetic: float formatting is large in the wasm.
            let hundredths = (r * 100.0).round() as u64;
            format!("{}.{:02}", hundredths / 100, hundredths % 100)
        }
    }
}

/// One queue of the wall.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueRow {
    pub sid: String,
    pub name: String,
    /// Pending tasks.
    pub waiting: u64,
    /// The oldest pending task's age now, in seconds.
    pub longest: u64,
    pub service_level: Option<f64>,
    /// Eligible agents in an available activity (Twilio's `total_available_workers`).
    pub available: u64,
    /// Of those, how many hold a task of this queue: its reserved, assigned and wrapping
    /// tasks, at most the available agents (an agent with several tasks counts once only
    /// when the tasks outnumber the agents; the statistics do not say more).
    pub busy: u64,
    pub unavailable: u64,
    pub offline: u64,
    pub ratio: Option<f64>,
    pub levels: RowLevels,
}

/// The levels of a queue row's banded numbers and the row's own (the worst of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowLevels {
    pub waiting: Level,
    pub longest: Level,
    pub service_level: Level,
    pub ratio: Level,
    pub row: Level,
}

impl QueueRow {
    /// The row as the wall draws it, cells in [`Column::ALL`] order.
    pub fn line(&self) -> Line {
        use super::format;
        let l = &self.levels;
        Line {
            sid: self.sid.clone(),
            class: format!("qrow level-{}", l.row.key()),
            cells: vec![
                Cell::text(self.name.clone()),
                Cell::count(self.waiting).level(l.waiting),
                Cell { text: format::duration(self.longest), value: self.longest.to_string(), level: Some(l.longest) },
                Cell {
                    text: format::percent(self.service_level),
                    value: format::percent_value(self.service_level).unwrap_or_default(),
                    level: Some(l.service_level),
                },
                Cell::count(self.available),
                Cell::count(self.busy),
                Cell::count(self.unavailable),
                Cell::count(self.offline),
                Cell::text(ratio_text(self.ratio)).level(l.ratio),
            ],
        }
    }

    /// The row of queue `stats` named `name`, at `now`, with the service level at `threshold`.
    pub fn new(
        answer: &Answer<Vec<QueueStats>>,
        stats: &QueueStats,
        name: &str,
        activities: &[ActivityInfo],
        levels: &Levels,
        threshold: u32,
        now: Now,
    ) -> Self {
        let rt = &stats.realtime;
        let (_, unavailable, offline) = by_presence(&rt.activity_statistics, activities);
        let status = &rt.tasks_by_status;
        let available = rt.total_available_workers;
        let busy = (status.reserved + status.assigned + status.wrapping).min(available);
        let waiting = status.pending;
        let longest = answer.age_now(rt.longest_task_waiting_age, now);
        let service_level = stats.cumulative.service_level(threshold);
        let ratio = ratio(waiting, available);
        let w = levels.classify(Metric::Pending, Some(waiting as f64));
        let l = levels.classify(Metric::LongestWait, Some(longest as f64));
        let s = levels.classify_share(Metric::ServiceLevel, service_level);
        let r = ratio_level(levels, ratio);
        Self {
            sid: stats.task_queue_sid.clone(),
            name: name.to_owned(),
            waiting,
            longest,
            service_level,
            available,
            busy,
            unavailable,
            offline,
            ratio,
            levels: RowLevels { waiting: w, longest: l, service_level: s, ratio: r, row: Level::worst([w, l, s, r]) },
        }
    }
}

/// The rows of the wall: every queue of `answer`, named from `names` (sid, name; the sid
/// when a queue is not listed yet), sorted by `sort`.
pub fn queue_rows(
    answer: &Answer<Vec<QueueStats>>,
    names: &[(String, String)],
    activities: &[ActivityInfo],
    levels: &Levels,
    threshold: u32,
    sort: Sort,
    now: Now,
) -> Vec<QueueRow> {
    let rows: Vec<QueueRow> = answer
        .data
        .iter()
        .map(|q| {
            let name = names.iter().find(|(sid, _)| *sid == q.task_queue_sid).map_or(&q.task_queue_sid, |(_, n)| n);
            QueueRow::new(answer, q, name, activities, levels, threshold, now)
        })
        .collect();
    sort_rows(rows, sort)
}

/// A column of the queues wall.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Column {
    Name,
    #[default]
    Waiting,
    Longest,
    ServiceLevel,
    Available,
    Busy,
    Unavailable,
    Offline,
    Ratio,
}

impl Column {
    pub const ALL: [Column; 9] = [
        Self::Name,
        Self::Waiting,
        Self::Longest,
        Self::ServiceLevel,
        Self::Available,
        Self::Busy,
        Self::Unavailable,
        Self::Offline,
        Self::Ratio,
    ];

    /// Its `sort` value.
    pub fn key(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Waiting => "waiting",
            Self::Longest => "longest",
            Self::ServiceLevel => "sl",
            Self::Available => "available",
            Self::Busy => "busy",
            Self::Unavailable => "unavailable",
            Self::Offline => "offline",
            Self::Ratio => "ratio",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Name => "Queue",
            Self::Waiting => "Waiting",
            Self::Longest => "Longest",
            Self::ServiceLevel => "SL today",
            Self::Available => "Avail.",
            Self::Busy => "Busy",
            Self::Unavailable => "Unavail.",
            Self::Offline => "Offline",
            Self::Ratio => "Wait/avail.",
        }
    }

    /// The direction a first click sorts in: worst first (names A to Z).
    pub fn first_descending(self) -> bool {
        !matches!(self, Self::Name | Self::ServiceLevel | Self::Available)
    }
}

/// The wall's order (`sort=waiting`, `sort=-waiting` descending).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub column: Column,
    pub descending: bool,
}

impl Default for Sort {
    fn default() -> Self {
        Self { column: Column::Waiting, descending: true }
    }
}

impl Sort {
    pub fn to_param(self) -> String {
        format!("{}{}", if self.descending { "-" } else { "" }, self.column.key())
    }

    pub fn parse(raw: &str) -> Option<Self> {
        let (descending, key) = match raw.strip_prefix('-') {
            Some(k) => (true, k),
            None => (false, raw),
        };
        Column::ALL.into_iter().find(|c| c.key() == key).map(|column| Self { column, descending })
    }

    /// A click on `column`'s header: the other direction when it is the sort column, else
    /// that column in its first direction.
    pub fn clicked(self, column: Column) -> Self {
        if self.column == column {
            Self { column, descending: !self.descending }
        } else {
            Self { column, descending: column.first_descending() }
        }
    }
}

/// Sorts rows by `sort`; a missing value (no service level, no ratio) goes last whatever
/// the direction; ties go by name, then sid, so the order never flickers.
pub fn sort_rows(rows: Vec<QueueRow>, sort: Sort) -> Vec<QueueRow> {
    use std::cmp::Ordering;
    let number = |r: &QueueRow| -> Option<f64> {
        Some(match sort.column {
            Column::Name => return None,
            Column::Waiting => r.waiting as f64,
            Column::Longest => r.longest as f64,
            Column::ServiceLevel => return r.service_level,
            Column::Available => r.available as f64,
            Column::Busy => r.busy as f64,
            Column::Unavailable => r.unavailable as f64,
            Column::Offline => r.offline as f64,
            Column::Ratio => return r.ratio,
        })
    };
    let by_name = |a: &QueueRow, b: &QueueRow| a.name.cmp(&b.name).then_with(|| a.sid.cmp(&b.sid));
    sort_with(rows, &|a, b| {
        let primary = if sort.column == Column::Name {
            by_name(a, b)
        } else {
            match (number(a), number(b)) {
                (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
                (Some(_), None) => return Ordering::Less,
                (None, Some(_)) => return Ordering::Greater,
                (None, None) => Ordering::Equal,
            }
        };
        let primary = if sort.descending { primary.reverse() } else { primary };
        primary.then_with(|| by_name(a, b))
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const AT_MS: i64 = 1_795_770_000_000;

    pub(crate) fn activities() -> Vec<ActivityInfo> {
        let a = |sid: &str, name: &str, available: bool| ActivityInfo {
            sid: sid.into(),
            friendly_name: name.into(),
            available,
            ..Default::default()
        };
        vec![a("WA1", "Available", true), a("WA2", "Break", false), a("WA3", "Offline", false), a("WA4", "Chat", true)]
    }

    pub(crate) fn counts(list: &[(&str, &str, u64)]) -> Vec<ActivityCount> {
        list.iter()
            .map(|&(sid, name, workers)| ActivityCount { sid: sid.into(), friendly_name: name.into(), workers })
            .collect()
    }

    fn answer<T>(data: T) -> Answer<T> {
        Answer { data, at_ms: Some(AT_MS), received_ms: AT_MS as f64 + 200.0 }
    }

    fn now(after_ms: f64) -> Now {
        Now { ms: AT_MS as f64 + after_ms, skew_ms: 0.0 }
    }

    fn split(threshold: u32, below: u64, above: u64, canceled_above: u64) -> WindowCounts {
        use wallboard_shared::resources::{Split, SplitCounts};
        let s = Split {
            below: SplitCounts { tasks_canceled: 0, reservations_accepted: below },
            above: SplitCounts { tasks_canceled: canceled_above, reservations_accepted: above },
        };
        WindowCounts { split_by_wait_time: Some(SplitByWaitTime(vec![(threshold, s)])) }
    }

    fn queue(sid: &str, pending: u64, busy_tasks: u64, age: u64, available: u64, sl: WindowCounts) -> QueueStats {
        QueueStats {
            task_queue_sid: sid.into(),
            realtime: QueueRealtime {
                activity_statistics: counts(&[
                    ("WA1", "Available", available),
                    ("WA2", "Break", 2),
                    ("WA3", "Offline", 1),
                ]),
                longest_task_waiting_age: age,
                tasks_by_status: TasksByStatus { pending, reserved: 0, assigned: busy_tasks, wrapping: 0 },
                total_available_workers: available,
                total_eligible_workers: available + 3,
            },
            cumulative: sl,
        }
    }

    #[test]
    fn presence_follows_the_activity_flag_then_the_name() {
        let acts = activities();
        assert_eq!(presence(&acts, "WA4", "Chat"), Presence::Available);
        assert_eq!(presence(&acts, "WA2", "Break"), Presence::Unavailable);
        assert_eq!(presence(&acts, "WA3", "Offline"), Presence::Offline);
        // Not listed (yet): by TaskRouter's default names.
        assert_eq!(presence(&[], "WA9", "Idle"), Presence::Available);
        assert_eq!(presence(&[], "WA9", "offline"), Presence::Offline);
        assert_eq!(presence(&[], "WA9", "Lunch"), Presence::Unavailable);
        let c = counts(&[("WA1", "Available", 4), ("WA4", "Chat", 2), ("WA2", "Break", 3), ("WA3", "Offline", 5)]);
        assert_eq!(by_presence(&c, &acts), (6, 3, 5));
    }

    #[test]
    fn the_header_ticks_and_reads_today_at_the_threshold() {
        let stats = WorkspaceStats {
            realtime: WorkspaceRealtime {
                activity_statistics: counts(&[("WA1", "Available", 7), ("WA2", "Break", 2), ("WA4", "Chat", 1)]),
                longest_task_waiting_age: 58,
                tasks_by_status: TasksByStatus { pending: 6, reserved: 1, assigned: 3, wrapping: 0 },
                total_workers: 10,
            },
            // 8 accepted within 20 s, 1 after, 1 canceled after: 8 / 10.
            cumulative: split(20, 8, 1, 1),
        };
        let a = answer(stats);
        let h = HeaderFigures::new(Some(&a), &activities(), &Levels::default(), 20, now(3_000.0));
        assert!(h.loaded);
        assert_eq!((h.waiting.text.as_str(), h.waiting.level), ("6", Some(Level::Warn)));
        assert_eq!((h.longest.text.as_str(), h.longest.level), ("1:01", Some(Level::Warn)), "58 s + 3 s");
        assert_eq!((h.available.text.as_str(), h.available.hint.as_deref()), ("8", Some("of 10 agents")));
        assert_eq!((h.service_level.text.as_str(), h.service_level.level), ("80 %", Some(Level::Good)));
        assert_eq!(h.service_level.hint.as_deref(), Some("today at 20 s"));
        // Another threshold than the split's: no value.
        let h = HeaderFigures::new(Some(&a), &activities(), &Levels::default(), 30, now(0.0));
        assert_eq!((h.service_level.text.as_str(), h.service_level.level), ("—", Some(Level::Unknown)));
        let none = HeaderFigures::new(None, &[], &Levels::default(), 20, now(0.0));
        assert!(!none.loaded);
        assert_eq!(none.longest.text, "—");
    }

    #[test]
    fn the_floor_counts_today_in_the_views_zone() {
        let view = ViewState { channel: Some("voice".into()), thresholds: vec![30], ..Default::default() };
        // 09:00Z at UTC+1: since 23:00Z the day before.
        let q = today_query(&view, AT_MS, &|_| 60).expect("valid");
        assert_eq!(q.task_channel, None);
        assert_eq!(q.to_query_string(), "StartDate=2026-11-26T23%3A00%3A00Z&SplitByWaitTime=30");
    }

    #[test]
    fn ratios_divide_waiting_by_available() {
        assert_eq!(ratio(0, 0), None);
        assert_eq!(ratio(3, 0), Some(f64::INFINITY));
        assert_eq!(ratio(3, 4), Some(0.75));
        assert_eq!(ratio_text(Some(0.75)), "0.75");
        assert_eq!(ratio_text(Some(2.0 / 3.0)), "0.67");
        assert_eq!(ratio_text(Some(12.0)), "12.00");
        assert_eq!(ratio_text(Some(f64::INFINITY)), "∞");
        assert_eq!(ratio_text(None), "—");
        let levels = Levels::default();
        assert_eq!(ratio_level(&levels, Some(f64::INFINITY)), Level::Bad);
        assert_eq!(ratio_level(&levels, Some(1.0)), Level::Good);
        assert_eq!(ratio_level(&levels, Some(1.5)), Level::Warn);
        assert_eq!(ratio_level(&levels, Some(2.5)), Level::Bad);
        assert_eq!(ratio_level(&levels, None), Level::Unknown);
    }

    #[test]
    fn a_queue_row_counts_agents_by_presence() {
        // 4 waiting, 3 tasks assigned, oldest 100 s, 2 available agents; SL 3 / (3+1+0).
        let a = answer(vec![queue("WQ1", 4, 3, 100, 2, split(20, 3, 1, 0))]);
        let names = vec![("WQ1".to_owned(), "Sales".to_owned())];
        let rows = queue_rows(&a, &names, &activities(), &Levels::default(), 20, Sort::default(), now(1_500.0));
        let r = &rows[0];
        assert_eq!((r.name.as_str(), r.waiting, r.longest), ("Sales", 4, 101));
        assert_eq!((r.available, r.busy, r.unavailable, r.offline), (2, 2, 2, 1), "busy is at most the available");
        assert_eq!(r.service_level, Some(0.75));
        assert_eq!(r.ratio, Some(2.0));
        let l = r.levels;
        assert_eq!(
            (l.waiting, l.longest, l.service_level, l.ratio),
            (Level::Good, Level::Warn, Level::Warn, Level::Warn)
        );
        assert_eq!(l.row, Level::Warn);
        // A queue not listed yet is named by its sid.
        let rows = queue_rows(&a, &[], &activities(), &Levels::default(), 20, Sort::default(), now(0.0));
        assert_eq!(rows[0].name, "WQ1");
    }

    #[test]
    fn sorting_by_every_column_with_missing_values_last() {
        let a = answer(vec![
            queue("WQ1", 4, 0, 30, 2, split(20, 1, 1, 0)),
            queue("WQ2", 0, 0, 0, 0, WindowCounts::default()),
            queue("WQ3", 9, 5, 200, 4, split(20, 9, 1, 0)),
        ]);
        let names: Vec<(String, String)> = [("WQ1", "Billing"), ("WQ2", "Alpha"), ("WQ3", "Sales")]
            .iter()
            .map(|(s, n)| ((*s).into(), (*n).into()))
            .collect();
        let order = |sort: Sort| -> Vec<String> {
            queue_rows(&a, &names, &activities(), &Levels::default(), 20, sort, now(0.0))
                .into_iter()
                .map(|r| r.name)
                .collect()
        };
        assert_eq!(order(Sort::default()), ["Sales", "Billing", "Alpha"], "most waiting first");
        assert_eq!(order(Sort { column: Column::Name, descending: false }), ["Alpha", "Billing", "Sales"]);
        assert_eq!(order(Sort { column: Column::Name, descending: true }), ["Sales", "Billing", "Alpha"]);
        assert_eq!(order(Sort { column: Column::Longest, descending: true }), ["Sales", "Billing", "Alpha"]);
        // SL: Billing 50 %, Sales 90 %, Alpha none (last both ways).
        assert_eq!(order(Sort { column: Column::ServiceLevel, descending: false }), ["Billing", "Sales", "Alpha"]);
        assert_eq!(order(Sort { column: Column::ServiceLevel, descending: true }), ["Sales", "Billing", "Alpha"]);
        // Ratio: Billing 2, Sales 2.25, Alpha none.
        assert_eq!(order(Sort { column: Column::Ratio, descending: true }), ["Sales", "Billing", "Alpha"]);
        assert_eq!(order(Sort { column: Column::Ratio, descending: false }), ["Billing", "Sales", "Alpha"]);
        // Ties by name: every queue has 2 on break.
        assert_eq!(order(Sort { column: Column::Unavailable, descending: true }), ["Alpha", "Billing", "Sales"]);
        assert_eq!(order(Sort { column: Column::Busy, descending: true }), ["Sales", "Alpha", "Billing"]);
        assert_eq!(order(Sort { column: Column::Available, descending: false }), ["Alpha", "Billing", "Sales"]);
    }

    #[test]
    fn a_row_is_drawn_from_its_cells() {
        let a = answer(vec![queue("WQ1", 4, 3, 100, 2, split(20, 3, 1, 0))]);
        let rows = queue_rows(&a, &[], &activities(), &Levels::default(), 20, Sort::default(), now(0.0));
        let line = rows[0].line();
        assert_eq!((line.sid.as_str(), line.class.as_str()), ("WQ1", "qrow level-warn"));
        let texts: Vec<&str> = line.cells.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(texts, ["WQ1", "4", "1:40", "75 %", "2", "2", "2", "1", "2.00"]);
        assert_eq!(line.cells.len(), Column::ALL.len());
        assert_eq!((line.cells[2].value.as_str(), line.cells[2].level), ("100", Some(Level::Warn)));
        assert_eq!(line.cells[3].value, "75");
    }

    #[test]
    fn sorting_is_stable_for_any_type() {
        let v = vec![(2, 'a'), (1, 'b'), (2, 'c'), (0, 'd')];
        assert_eq!(sort_with(v, &|a, b| a.0.cmp(&b.0)), [(0, 'd'), (1, 'b'), (2, 'a'), (2, 'c')]);
        assert!(sort_with(Vec::<u8>::new(), &|a, b| a.cmp(b)).is_empty());
    }

    #[test]
    fn sort_params_and_clicks() {
        for column in Column::ALL {
            for descending in [false, true] {
                let s = Sort { column, descending };
                assert_eq!(Sort::parse(&s.to_param()), Some(s));
            }
        }
        assert_eq!(Sort::default().to_param(), "-waiting");
        assert_eq!(Sort::parse("nope"), None);
        assert_eq!(Sort::parse("-"), None);
        let s = Sort::default().clicked(Column::Waiting);
        assert_eq!(s, Sort { column: Column::Waiting, descending: false }, "same column: flips");
        assert_eq!(s.clicked(Column::Name), Sort { column: Column::Name, descending: false });
        assert_eq!(s.clicked(Column::Longest), Sort { column: Column::Longest, descending: true }, "worst first");
        assert_eq!(s.clicked(Column::ServiceLevel), Sort { column: Column::ServiceLevel, descending: false });
    }

    /// The lean structs read what the server's shared types write.
    #[test]
    fn the_shared_types_read() {
        use wallboard_shared::queues::{TaskQueueCumulativeStats, TaskQueueRealTimeStats, TaskQueuesStatistics};
        use wallboard_shared::workers::{Activity, ActivityStatistic, Worker};
        use wallboard_shared::workspace::{WorkspaceCumulativeStats, WorkspaceRealTimeStats, WorkspaceStatistics};
        use wallboard_shared::{AccountSid, ActivitySid, TaskQueueSid, WorkerSid, WorkspaceSid};
        let t = chrono::DateTime::from_timestamp_millis(AT_MS).expect("valid");
        let stat = ActivityStatistic { friendly_name: "Available".into(), sid: ActivitySid::from_u128(1), workers: 3 };
        let q = TaskQueuesStatistics {
            account_sid: AccountSid::from_u128(1),
            workspace_sid: WorkspaceSid::from_u128(2),
            task_queue_sid: TaskQueueSid::from_u128(3),
            cumulative: TaskQueueCumulativeStats {
                avg_task_acceptance_time: 0,
                start_time: t,
                end_time: t,
                reservations_created: 0,
                reservations_accepted: 0,
                reservations_rejected: 0,
                reservations_timed_out: 0,
                reservations_canceled: 0,
                reservations_rescinded: 0,
                split_by_wait_time: split(20, 1, 0, 0).split_by_wait_time,
                wait_duration_until_accepted: Default::default(),
                wait_duration_until_canceled: Default::default(),
                wait_duration_in_queue_until_accepted: Default::default(),
                tasks_canceled: 0,
                tasks_completed: 0,
                tasks_deleted: 0,
                tasks_entered: 0,
                tasks_moved: 0,
            },
            realtime: TaskQueueRealTimeStats {
                activity_statistics: vec![stat.clone()],
                longest_task_waiting_age: 9,
                total_available_workers: 3,
                ..Default::default()
            },
        };
        let lean: QueueStats = serde_json::from_value(serde_json::to_value(&q).expect("ser")).expect("de");
        assert_eq!(lean.task_queue_sid, TaskQueueSid::from_u128(3).to_string());
        assert_eq!((lean.realtime.longest_task_waiting_age, lean.realtime.total_available_workers), (9, 3));
        assert_eq!(lean.cumulative.service_level(20), Some(1.0));
        let ws = WorkspaceStatistics {
            account_sid: AccountSid::from_u128(1),
            workspace_sid: WorkspaceSid::from_u128(2),
            cumulative: WorkspaceCumulativeStats {
                avg_task_acceptance_time: 0,
                start_time: t,
                end_time: t,
                reservations_created: 0,
                reservations_accepted: 0,
                reservations_rejected: 0,
                reservations_timed_out: 0,
                reservations_canceled: 0,
                reservations_rescinded: 0,
                split_by_wait_time: None,
                wait_duration_until_accepted: Default::default(),
                wait_duration_until_canceled: Default::default(),
                tasks_canceled: 0,
                tasks_completed: 0,
                tasks_created: 0,
                tasks_deleted: 0,
                tasks_moved: 0,
                tasks_timed_out_in_workflow: 0,
            },
            realtime: WorkspaceRealTimeStats {
                activity_statistics: vec![stat],
                total_workers: 4,
                ..Default::default()
            },
            url: "http://h".into(),
        };
        let lean: WorkspaceStats = serde_json::from_value(serde_json::to_value(&ws).expect("ser")).expect("de");
        assert_eq!((lean.realtime.total_workers, lean.realtime.activity_statistics[0].workers), (4, 3));
        assert_eq!(lean.cumulative.split_by_wait_time, None);
        let act = Activity {
            account_sid: AccountSid::from_u128(1),
            available: true,
            date_created: None,
            date_updated: None,
            friendly_name: "Available".into(),
            sid: ActivitySid::from_u128(1),
            workspace_sid: WorkspaceSid::from_u128(2),
            url: "http://h".into(),
            links: Default::default(),
        };
        let lean: ActivityInfo = serde_json::from_value(serde_json::to_value(&act).expect("ser")).expect("de");
        assert!(lean.available);
        let w = Worker {
            account_sid: AccountSid::from_u128(1),
            activity_name: Some("Break".into()),
            activity_sid: Some(ActivitySid::from_u128(2)),
            attributes: None,
            available: false,
            date_created: None,
            date_status_changed: Some(t),
            date_updated: None,
            friendly_name: "alice".into(),
            sid: WorkerSid::from_u128(9),
            workspace_sid: WorkspaceSid::from_u128(2),
            url: "http://h".into(),
            links: Default::default(),
        };
        let lean: WorkerInfo = serde_json::from_value(serde_json::to_value(&w).expect("ser")).expect("de");
        assert_eq!(lean.activity_name.as_deref(), Some("Break"));
        assert_eq!(lean.date_status_changed.as_deref().and_then(age::parse_at), Some(AT_MS));
        let c = wallboard_shared::workers::WorkerChannel {
            account_sid: AccountSid::from_u128(1),
            assigned_tasks: 2,
            available: true,
            available_capacity_percentage: 33,
            configured_capacity: 3,
            date_created: None,
            date_updated: None,
            sid: wallboard_shared::WorkerChannelSid::from_u128(4),
            task_channel_sid: wallboard_shared::TaskChannelSid::from_u128(5),
            task_channel_unique_name: "chat".into(),
            worker_sid: WorkerSid::from_u128(9),
            workspace_sid: WorkspaceSid::from_u128(2),
            url: "http://h".into(),
        };
        let lean: Listed = serde_json::from_value(serde_json::to_value(&c).expect("ser")).expect("de");
        let got =
            (lean.task_channel_unique_name.as_deref(), lean.assigned_tasks, lean.configured_capacity, lean.available);
        assert_eq!(got, (Some("chat"), 2, 3, true));
    }
}
