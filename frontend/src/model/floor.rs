//! The supervisor's floor: what the workspace header, the queues wall and the agent board
//! read of TaskRouter's workspace, task queue, worker and activity resources, and the
//! figures they show.
//!
//! The statistics come from WebSocket snapshots of the `workspace`, `task_queue` and
//! `workers` targets (the plan of [`super::subscriptions`]); the lists (queues, activities,
//! workers and their channels) and the queues beyond the plan's limit are REST answers.
//! Either is read with the server's time of its numbers ([`Stamp`]: a snapshot's `at`, an
//! answer's `Date`), so ages tick from it as the workflow tiles do. The structs here read
//! only the fields shown: the full shared types would cost the wasm a deserializer each for
//! fields the page never reads (a test checks that these read what the shared types write).

use serde::Deserialize;
use wallboard_shared::resources::{SplitByWaitTime, TasksByStatus};

use super::age;
use super::alerts::Mark;
use super::figure::{Figure, Now};
use super::levels::{Level, Levels, Metric};
use super::service_levels::{self, Definitions};
use super::snapshots::{Entry, Snapshots};
use super::subscriptions::Plan;
use super::view::{ViewState, WindowChoice};
use wallboard_shared::StatisticsQuery;
use wallboard_shared::service_level::Definition;

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

/// A bottom-up merge sort, stable (on a tie the earlier run's position goes first):
/// O(n log n) comparisons for the agent board's thousands of rows, in a few hundred bytes of
/// wasm where the standard library's stable sort costs kilobytes.
fn sort_positions(order: &mut Vec<usize>, cmp: &dyn Fn(usize, usize) -> std::cmp::Ordering) {
    let n = order.len();
    let mut merged = vec![0usize; n];
    let mut width = 1;
    while width < n {
        let mut start = 0;
        while start < n {
            let (mid, end) = ((start + width).min(n), (start + 2 * width).min(n));
            let (mut a, mut b) = (start, mid);
            for slot in &mut merged[start..end] {
                let left = a < mid && (b >= end || cmp(order[a], order[b]).is_le());
                *slot = if left { order[a] } else { order[b] };
                if left {
                    a += 1;
                } else {
                    b += 1;
                }
            }
            start = end;
        }
        std::mem::swap(order, &mut merged);
        width *= 2;
    }
}

/// One cell of a table row as shown: its text, `data-value`, and level (`data-level`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cell {
    pub text: String,
    pub value: String,
    pub level: Option<Level>,
    /// The `title` attribute (a service level's formula).
    pub title: Option<String>,
}

impl Cell {
    pub fn text(text: String) -> Self {
        Self { text, ..Self::default() }
    }

    /// A count, with its value.
    pub fn count(n: u64) -> Self {
        Self { text: super::format::count(n), value: n.to_string(), ..Self::default() }
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
    /// The firing alerts on the row (`data-alert`, a flashing outline and a badge).
    pub alert: Option<Mark>,
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
    pub fn stamp(&self) -> Stamp {
        Stamp { at_ms: self.at_ms, received_ms: self.received_ms }
    }
}

/// When numbers were computed (server clock) and arrived (client clock).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stamp {
    /// Server clock (ms); None when unknown.
    pub at_ms: Option<i64>,
    /// Client clock (ms).
    pub received_ms: f64,
}

impl Stamp {
    /// The stamp of a snapshot (its `at`).
    pub fn of(entry: &Entry) -> Self {
        Self { at_ms: age::parse_at(&entry.snapshot.at), received_ms: entry.received_ms }
    }

    /// `secs` as the numbers said it, ticking on to `now` (0 stays 0: nothing waiting).
    pub fn age_now(&self, secs: u64, now: Now) -> u64 {
        age::waiting_age_now(secs, self.at_ms, self.received_ms, now.ms, now.skew_ms)
    }
}

/// The workspace header's numbers: the snapshot of the plan's `header` subscription.
pub fn header_stats<'a>(plan: &Plan, snapshots: &'a Snapshots) -> Option<(Stamp, &'a WorkspaceStats)> {
    let entry = snapshots.get(plan.header.as_deref()?)?;
    Some((Stamp::of(entry), entry.snapshot.workspace()?))
}

/// The queues of the wall with numbers: each subscribed queue that has a snapshot, then
/// each overflow queue found in the REST statistics list `rest`.
pub fn wall_stats<'a>(
    plan: &Plan,
    snapshots: &'a Snapshots,
    rest: Option<&'a Answer<Vec<QueueStats>>>,
) -> Vec<(Stamp, &'a QueueStats)> {
    let mut out: Vec<(Stamp, &QueueStats)> = plan
        .queues
        .iter()
        .filter_map(|(_, id)| snapshots.get(id).and_then(|e| Some((Stamp::of(e), e.snapshot.queue()?))))
        .collect();
    if let Some(rest) = rest {
        let listed = rest.data.iter().filter(|q| plan.overflow.contains(&q.task_queue_sid));
        out.extend(listed.map(|q| (rest.stamp(), q)));
    }
    out
}

/// Whether the wall has something to show: the queues are listed, and there are none, or
/// some have numbers.
pub fn wall_loaded(listed: bool, plan: &Plan, shown: usize) -> bool {
    listed && (shown > 0 || (plan.queues.is_empty() && plan.overflow.is_empty()))
}

/// Why the floor's numbers are missing: the server's refusal of the header's or a queue's
/// subscription (a link limited to some workflows gets 20403 for them), said for the page.
pub fn refusal(plan: &Plan, snapshots: &Snapshots) -> Option<String> {
    let ids = plan.header.iter().chain(plan.queues.iter().map(|(_, id)| id)).chain(plan.workers.iter());
    ids.filter_map(|id| snapshots.refusal(id)).next().map(|r| format!("{}: {}", r.code, r.message))
}

/// The agent board's counts: (agents per activity, agents). From the `workers` snapshot
/// when the plan has one (no filter); else counted over the listed `workers`, which the
/// filters select. None until either has arrived.
pub fn board_counts(
    plan: &Plan,
    snapshots: &Snapshots,
    workers: Option<&[WorkerInfo]>,
) -> Option<(Vec<ActivityCount>, u64)> {
    if let Some(id) = &plan.workers {
        let w = snapshots.get(id)?.snapshot.workers()?;
        return Some((w.activity_statistics.clone(), w.total_workers));
    }
    let workers = workers?;
    let mut counts: Vec<ActivityCount> = Vec::new();
    for w in workers {
        let (Some(sid), Some(name)) = (&w.activity_sid, &w.activity_name) else { continue };
        match counts.iter_mut().find(|c| c.sid == *sid) {
            Some(c) => c.workers += 1,
            None => counts.push(ActivityCount { sid: sid.clone(), friendly_name: name.clone(), workers: 1 }),
        }
    }
    Some((counts, workers.len() as u64))
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
    /// The service level under `definition` (None: not split at its S and T, or nothing to
    /// divide by).
    pub fn service_level(&self, definition: &Definition) -> Option<f64> {
        service_levels::level(definition, self.split_by_wait_time.as_ref())
    }
}

/// `realtime` of `GET …/Workspaces/{WS}/Statistics`, and of a `workspace` snapshot.
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

/// `realtime` of one entry of `GET …/TaskQueues/Statistics`, and of a `task_queue` snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct QueueRealtime {
    /// The snapshot's resource names its queue (the list entry names it beside `realtime`).
    #[serde(default)]
    pub task_queue_sid: String,
    /// Eligible workers per activity.
    pub activity_statistics: Vec<ActivityCount>,
    pub longest_task_waiting_age: u64,
    pub tasks_by_status: TasksByStatus,
    pub total_available_workers: u64,
    pub total_eligible_workers: u64,
}

/// `realtime` of a `workers` snapshot (`GET …/Workers/RealTimeStatistics`): every activity
/// of the workspace with its workers, zeros included.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct WorkersRealtime {
    pub activity_statistics: Vec<ActivityCount>,
    pub total_workers: u64,
}

/// One entry of `GET …/TaskQueues/Statistics`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct QueueStats {
    pub task_queue_sid: String,
    pub realtime: QueueRealtime,
    pub cumulative: WindowCounts,
}

/// An item of any list the dashboard reads (Workspace, Workflow, TaskChannel, TaskQueue,
/// Activity, Worker, WorkerChannel, ServiceLevel): the fields it shows, each absent from
/// the resources that lack it. One type for every list: each deserializer and list loop
/// costs the wasm its own code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Listed {
    /// A service level's `scope` (`default`, `WW…`, `WQ…`).
    #[serde(alias = "scope")]
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
    /// Service levels: whether the scope has a definition of its own, and the one in force
    /// (`abandons` by its name: `Abandons::parse`).
    #[serde(default)]
    pub stored: bool,
    #[serde(default)]
    pub threshold: u32,
    #[serde(default)]
    pub short_abandon: u32,
    pub abandons: Option<String>,
    /// Service levels: the task channel of the place (None: every channel of the scope).
    pub task_channel: Option<String>,
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
/// today under the workspace's definition.
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
        stats: Option<(Stamp, &WorkspaceStats)>,
        activities: &[ActivityInfo],
        levels: &Levels,
        definition: &Definition,
        now: Now,
    ) -> Self {
        let rt = stats.map(|(_, s)| &s.realtime);
        let waiting = rt.map(|r| r.tasks_by_status.pending);
        let longest = stats.map(|(at, s)| at.age_now(s.realtime.longest_task_waiting_age, now));
        let available = rt.map(|r| by_presence(&r.activity_statistics, activities).0);
        let split = stats.and_then(|(_, s)| s.cumulative.split_by_wait_time.as_ref());
        Self {
            loaded: stats.is_some(),
            waiting: Figure::count(waiting).level(levels.classify(Metric::Pending, waiting.map(|n| n as f64))),
            longest: Figure::duration(longest).level(levels.classify(Metric::LongestWait, longest.map(|a| a as f64))),
            available: Figure::count(available).hint(match rt {
                Some(r) => format!("of {} agents", super::format::count(r.total_workers)),
                None => String::new(),
            }),
            service_level: Figure::service_level(
                definition,
                split,
                levels,
                format!("within {} s", definition.threshold),
            ),
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
    /// The queue's service-level definition (its formula is the cell's title).
    pub definition: Definition,
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
            alert: None,
            cells: vec![
                Cell::text(self.name.clone()),
                Cell::count(self.waiting).level(l.waiting),
                Cell {
                    text: format::duration(self.longest),
                    value: self.longest.to_string(),
                    level: Some(l.longest),
                    title: None,
                },
                Cell {
                    text: format::percent(self.service_level),
                    value: format::percent_value(self.service_level).unwrap_or_default(),
                    level: Some(l.service_level),
                    title: Some(self.definition.formula()),
                },
                Cell::count(self.available),
                Cell::count(self.busy),
                Cell::count(self.unavailable),
                Cell::count(self.offline),
                Cell::text(ratio_text(self.ratio)).level(l.ratio),
            ],
        }
    }

    /// The row of queue `stats` (computed at `stamp`) named `name`, at `now`, with the
    /// service level under the queue's `definition`.
    pub fn new(
        stamp: Stamp,
        stats: &QueueStats,
        name: &str,
        activities: &[ActivityInfo],
        levels: &Levels,
        definition: &Definition,
        now: Now,
    ) -> Self {
        let rt = &stats.realtime;
        let (_, unavailable, offline) = by_presence(&rt.activity_statistics, activities);
        let status = &rt.tasks_by_status;
        let available = rt.total_available_workers;
        let busy = (status.reserved + status.assigned + status.wrapping).min(available);
        let waiting = status.pending;
        let longest = stamp.age_now(rt.longest_task_waiting_age, now);
        let service_level = stats.cumulative.service_level(definition);
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
            definition: *definition,
        }
    }
}

/// The rows of the wall: every queue of `queues` (see [`wall_stats`]), named from `names`
/// (sid, name; the sid when a queue is not listed yet), each under its definition of
/// `definitions`, sorted by `sort`.
pub fn queue_rows(
    queues: &[(Stamp, &QueueStats)],
    names: &[(String, String)],
    activities: &[ActivityInfo],
    levels: &Levels,
    definitions: &Definitions,
    sort: Sort,
    now: Now,
) -> Vec<QueueRow> {
    let rows: Vec<QueueRow> = queues
        .iter()
        .map(|(stamp, q)| {
            let name = names.iter().find(|(sid, _)| *sid == q.task_queue_sid).map_or(&q.task_queue_sid, |(_, n)| n);
            let definition = definitions.of(&q.task_queue_sid);
            QueueRow::new(*stamp, q, name, activities, levels, &definition, now)
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

    fn listed(a: &Answer<Vec<QueueStats>>) -> Vec<(Stamp, &QueueStats)> {
        a.data.iter().map(|q| (a.stamp(), q)).collect()
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
                task_queue_sid: sid.into(),
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
        let h = HeaderFigures::new(
            Some((a.stamp(), &a.data)),
            &activities(),
            &Levels::default(),
            &Definition::BUILT_IN,
            now(3_000.0),
        );
        assert!(h.loaded);
        assert_eq!((h.waiting.text.as_str(), h.waiting.level), ("6", Some(Level::Warn)));
        assert_eq!((h.longest.text.as_str(), h.longest.level), ("1:01", Some(Level::Warn)), "58 s + 3 s");
        assert_eq!((h.available.text.as_str(), h.available.hint.as_deref()), ("8", Some("of 10 agents")));
        assert_eq!((h.service_level.text.as_str(), h.service_level.level), ("80 %", Some(Level::Good)));
        assert_eq!(h.service_level.hint.as_deref(), Some("within 20 s"));
        // Another threshold than the split's: no value.
        assert_eq!(h.service_level.title.as_deref(), Some("answered < 20 s ÷ (answered + abandoned ≥ 20 s)"));
        let thirty = Definition::new(30, 30, wallboard_shared::service_level::Abandons::CountedAgainst).expect("valid");
        let h = HeaderFigures::new(Some((a.stamp(), &a.data)), &activities(), &Levels::default(), &thirty, now(0.0));
        assert_eq!((h.service_level.text.as_str(), h.service_level.level), ("—", Some(Level::Unknown)));
        let none = HeaderFigures::new(None, &[], &Levels::default(), &Definition::BUILT_IN, now(0.0));
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
        let rows = queue_rows(
            &listed(&a),
            &names,
            &activities(),
            &Levels::default(),
            &Definitions::default(),
            Sort::default(),
            now(1_500.0),
        );
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
        let rows = queue_rows(
            &listed(&a),
            &[],
            &activities(),
            &Levels::default(),
            &Definitions::default(),
            Sort::default(),
            now(0.0),
        );
        assert_eq!(rows[0].name, "WQ1");
    }

    #[test]
    fn each_queue_row_uses_its_queues_definition() {
        use wallboard_shared::resources::{Split, SplitCounts};
        use wallboard_shared::service_level::{Abandons, WORKSPACE_DEFAULT};
        // Waits: answered 2, 10, 29.999, 30, 45 s; abandoned 1, 4.999, 5, 12, 30, 60 s.
        let counts = |a_below, c_below, a_above, c_above| Split {
            below: SplitCounts { reservations_accepted: a_below, tasks_canceled: c_below },
            above: SplitCounts { reservations_accepted: a_above, tasks_canceled: c_above },
        };
        let window = WindowCounts {
            split_by_wait_time: Some(SplitByWaitTime(vec![
                (5, counts(1, 2, 4, 4)),
                (20, counts(2, 4, 3, 2)),
                (30, counts(3, 4, 2, 2)),
            ])),
        };
        let own = Definition::new(30, 5, Abandons::Ignored).expect("valid");
        let default = Definition::new(30, 5, Abandons::CountedAgainst).expect("valid");
        let defs = Definitions {
            workspace: Some("WS1".into()),
            stored: vec![
                (wallboard_shared::service_level::Place::new("WQ1", None), own),
                (wallboard_shared::service_level::Place::new(WORKSPACE_DEFAULT, None), default),
            ],
        };
        let a = answer(vec![queue("WQ1", 0, 0, 0, 1, window.clone()), queue("WQ2", 0, 0, 0, 1, window)]);
        let rows = queue_rows(&listed(&a), &[], &activities(), &Levels::default(), &defs, Sort::default(), now(0.0));
        let by_sid = |sid: &str| rows.iter().find(|r| r.sid == sid).expect("row");
        // WQ1, its own: 3 ÷ 5. WQ2, the workspace's: 3 ÷ (5 + 6 − 2).
        assert_eq!(by_sid("WQ1").service_level, Some(0.6));
        assert_eq!(by_sid("WQ2").service_level, Some(3.0 / 9.0));
        let cell = |sid: &str| by_sid(sid).line().cells[3].clone();
        assert_eq!(
            (cell("WQ1").text.as_str(), cell("WQ1").title.as_deref()),
            ("60 %", Some("answered < 30 s ÷ answered"))
        );
        assert_eq!(cell("WQ2").title.as_deref(), Some("answered < 30 s ÷ (answered + abandoned ≥ 5 s)"));
        // The built-in (none known): 2 ÷ (2 + 3 + 2) at 20 s.
        let rows = queue_rows(
            &listed(&a),
            &[],
            &activities(),
            &Levels::default(),
            &Definitions::default(),
            Sort::default(),
            now(0.0),
        );
        assert_eq!(rows[0].service_level, Some(2.0 / 7.0));
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
            queue_rows(&listed(&a), &names, &activities(), &Levels::default(), &Definitions::default(), sort, now(0.0))
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
        let rows = queue_rows(
            &listed(&a),
            &[],
            &activities(),
            &Levels::default(),
            &Definitions::default(),
            Sort::default(),
            now(0.0),
        );
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
        // The same order as the standard library's stable sort, at every length.
        let mut seed = 7u32;
        for n in 0..300usize {
            let items: Vec<(u32, usize)> = (0..n)
                .map(|i| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    (seed >> 16 & 15, i)
                })
                .collect();
            let mut want = items.clone();
            want.sort_by_key(|a| a.0);
            assert_eq!(sort_with(items, &|a, b| a.0.cmp(&b.0)), want, "{n} items");
        }
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
                start_time: t,
                end_time: t,
                split_by_wait_time: split(20, 1, 0, 0).split_by_wait_time,
                ..Default::default()
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
        assert_eq!(lean.cumulative.service_level(&Definition::BUILT_IN), Some(1.0));
        let ws = WorkspaceStatistics {
            account_sid: AccountSid::from_u128(1),
            workspace_sid: WorkspaceSid::from_u128(2),
            cumulative: WorkspaceCumulativeStats {
                start_time: t,
                end_time: t,
                split_by_wait_time: None,
                ..Default::default()
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

    mod snapshots_into_the_floor {
        use super::*;
        use crate::model::frame::{Snapshot, Stats};
        use crate::model::link::{Backoff, BadgeState, Link};
        use crate::model::snapshots::tests::snapshot as workflow_snapshot;
        use crate::model::subscriptions::{self, MAX_QUEUE_SUBSCRIPTIONS};
        use crate::model::view::Page;

        const WS: &str = "WS0123456789abcdef0123456789abcdef";

        /// A snapshot computed at 09:00:00Z (AT_MS) that arrived 200 ms later.
        fn arrive(s: &mut Snapshots, id: &str, stats: Stats, stale: bool) {
            let snapshot = Snapshot { id: id.into(), rev: 1, at: "2026-11-27T09:00:00Z".into(), stale, stats };
            assert!(s.apply(snapshot, AT_MS as f64 + 200.0));
        }

        fn queue_sids(n: usize) -> Vec<String> {
            (1..=n).map(|i| format!("WQ{i:032x}")).collect()
        }

        fn plan_of(page: Page, queues: &[String]) -> Plan {
            let view = ViewState { page, ..Default::default() };
            subscriptions::plan(&view, WS, &[], None, queues, &Definitions::default(), AT_MS, &|_| 0)
        }

        #[test]
        fn the_header_reads_the_workspace_snapshot_and_ticks_from_its_at() {
            let plan = plan_of(Page::Overview, &[]);
            let mut s = Snapshots::default();
            assert!(header_stats(&plan, &s).is_none());
            let h = HeaderFigures::new(
                header_stats(&plan, &s),
                &activities(),
                &Levels::default(),
                &Definition::BUILT_IN,
                now(0.0),
            );
            assert!(!h.loaded);
            let stats = WorkspaceStats {
                realtime: WorkspaceRealtime {
                    activity_statistics: counts(&[("WA1", "Available", 7), ("WA2", "Break", 2)]),
                    longest_task_waiting_age: 40,
                    tasks_by_status: TasksByStatus { pending: 3, reserved: 0, assigned: 1, wrapping: 0 },
                    total_workers: 9,
                },
                // 9 accepted within 20 s, 1 canceled after: 90 %.
                cumulative: split(20, 9, 0, 1),
            };
            arrive(&mut s, plan.header.as_deref().expect("header"), Stats::Workspace(stats), false);
            let (stamp, got) = header_stats(&plan, &s).expect("arrived");
            assert_eq!(stamp, Stamp { at_ms: Some(AT_MS), received_ms: AT_MS as f64 + 200.0 });
            let h = HeaderFigures::new(
                Some((stamp, got)),
                &activities(),
                &Levels::default(),
                &Definition::BUILT_IN,
                now(5_200.0),
            );
            assert!(h.loaded);
            assert_eq!(h.waiting.text, "3");
            assert_eq!(h.longest.text, "45 s", "40 s at 09:00:00, read 5 s later");
            assert_eq!((h.available.text.as_str(), h.available.hint.as_deref()), ("7", Some("of 9 agents")));
            assert_eq!(h.service_level.text, "90 %");
            // Another page has the same header subscription: the numbers stay.
            assert!(header_stats(&plan_of(Page::Agents, &[]), &s).is_some());
        }

        #[test]
        fn a_snapshot_of_another_kind_is_not_read_as_the_floors() {
            let plan = plan_of(Page::Overview, &[]);
            let mut s = Snapshots::default();
            let mut wf = workflow_snapshot(plan.header.as_deref().expect("header"), 1, 4);
            wf.at = "2026-11-27T09:00:00Z".into();
            s.apply(wf, 0.0);
            assert!(header_stats(&plan, &s).is_none());
        }

        #[test]
        fn the_wall_reads_each_queues_snapshot_and_the_overflow_from_rest() {
            let sids = queue_sids(MAX_QUEUE_SUBSCRIPTIONS + 2);
            let plan = plan_of(Page::Queues, &sids);
            assert_eq!(plan.overflow, sids[MAX_QUEUE_SUBSCRIPTIONS..]);
            let mut s = Snapshots::default();
            assert!(wall_stats(&plan, &s, None).is_empty());
            assert!(!wall_loaded(true, &plan, 0), "queues listed, no numbers yet");
            // Two subscribed queues have arrived.
            for (i, (sid, id)) in plan.queues.iter().take(2).enumerate() {
                let q = queue(sid, 2 + i as u64, 0, 30, 1, split(20, 1, 1, 0));
                arrive(&mut s, id, Stats::TaskQueue(q), false);
            }
            // REST lists every queue; only the overflow is read from it, at the answer's time.
            let rest = Answer {
                data: sids.iter().map(|q| queue(q, 100, 0, 0, 0, WindowCounts::default())).collect(),
                at_ms: Some(AT_MS + 1_000),
                received_ms: AT_MS as f64 + 1_300.0,
            };
            let got = wall_stats(&plan, &s, Some(&rest));
            let shown: Vec<(&str, u64)> =
                got.iter().map(|(_, q)| (q.task_queue_sid.as_str(), q.realtime.tasks_by_status.pending)).collect();
            let expected = [
                (sids[0].as_str(), 2),
                (sids[1].as_str(), 3),
                (sids[MAX_QUEUE_SUBSCRIPTIONS].as_str(), 100),
                (sids[MAX_QUEUE_SUBSCRIPTIONS + 1].as_str(), 100),
            ];
            assert_eq!(shown, expected, "subscribed queues never from REST");
            assert_eq!(got[0].0.at_ms, Some(AT_MS));
            assert_eq!(got[2].0, rest.stamp());
            assert!(wall_loaded(true, &plan, got.len()));
            assert!(!wall_loaded(false, &plan, got.len()), "names first");
            // Rows: the first queue waits 30 s at 09:00:00, shown 2 s after it arrived.
            let names = vec![(sids[0].clone(), "Sales".to_owned())];
            let rows = queue_rows(
                &got,
                &names,
                &activities(),
                &Levels::default(),
                &Definitions::default(),
                Sort::default(),
                now(2_200.0),
            );
            let first = rows.iter().find(|r| r.name == "Sales").expect("named");
            assert_eq!((first.waiting, first.longest, first.service_level), (2, 32, Some(0.5)));
            // A workspace without queues is loaded once listed.
            assert!(wall_loaded(true, &plan_of(Page::Queues, &[]), 0));
        }

        #[test]
        fn a_refused_subscription_is_said_and_a_stale_one_shows_stale() {
            let plan = plan_of(Page::Queues, &queue_sids(2));
            let mut s = Snapshots::default();
            assert_eq!(refusal(&plan, &s), None);
            s.refuse(&plan.queues[1].1, 20403, "this token may not read task queues");
            assert_eq!(refusal(&plan, &s).as_deref(), Some("20403: this token may not read task queues"));
            s.refuse(plan.header.as_deref().expect("header"), 20403, "whole workspace only");
            assert_eq!(refusal(&plan, &s).as_deref(), Some("20403: whole workspace only"), "the header's first");
            // The server marks a queue's numbers stale (its source is failing): the badge says so,
            // as for a workflow.
            let mut link = Link::new(Backoff::default(), 0.0);
            link.opened(100.0);
            link.heard(200.0);
            arrive(&mut s, &plan.queues[0].1, Stats::TaskQueue(QueueStats::default()), false);
            assert_eq!(link.badge(300.0, s.any_stale()).state, BadgeState::Live);
            arrive(&mut s, plan.header.as_deref().expect("header"), Stats::Workspace(WorkspaceStats::default()), true);
            assert!(s.any_stale());
            assert_eq!(link.badge(300.0, s.any_stale()).state, BadgeState::Stale);
        }

        #[test]
        fn the_boards_counts_come_from_the_workers_snapshot_unless_filtered() {
            let plan = plan_of(Page::Agents, &[]);
            let id = plan.workers.clone().expect("workers");
            let listed = [WorkerInfo {
                sid: "WK1".into(),
                activity_sid: Some("WA2".into()),
                activity_name: Some("Break".into()),
                ..Default::default()
            }];
            let mut s = Snapshots::default();
            assert_eq!(board_counts(&plan, &s, Some(&listed)), None, "the list is not the count");
            let w = WorkersRealtime {
                activity_statistics: counts(&[
                    ("WA1", "Available", 1200),
                    ("WA2", "Break", 300),
                    ("WA3", "Offline", 0),
                ]),
                total_workers: 2000,
            };
            arrive(&mut s, &id, Stats::Workers(w.clone()), false);
            assert_eq!(board_counts(&plan, &s, Some(&listed)), Some((w.activity_statistics.clone(), 2000)));
            // Filtered by a queue: the listed (filtered) agents are counted.
            let view = ViewState { page: Page::Agents, agent_queue: Some("WQ1".into()), ..Default::default() };
            let filtered = subscriptions::plan(&view, WS, &[], None, &[], &Definitions::default(), AT_MS, &|_| 0);
            let (c, total) = board_counts(&filtered, &s, Some(&listed)).expect("listed");
            assert_eq!((c, total), (counts(&[("WA2", "Break", 1)]), 1));
            assert_eq!(board_counts(&filtered, &s, None), None);
        }
    }
}
