//! Query and form parameters of the task queue, worker, activity and workspace resources,
//! and their validation.
//!
//! Same rules as [`crate::query`] (which this module reuses for `Minutes`, `StartDate`,
//! `EndDate`, `TaskChannel` and `SplitByWaitTime`): unknown parameters are ignored, as
//! Twilio does; a known one given twice is an error; every error is a [`QueryError`], which
//! the API turns into HTTP 400 with Twilio code 20001.

use serde_json::{Map, Value};

use crate::query::{QueryError, StatisticsQuery};
use crate::sid::{ActivitySid, TaskQueueSid, WorkerSid};

/// `PageSize` when none is given.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// Largest `PageSize` accepted.
pub const MAX_PAGE_SIZE: u32 = 1000;
/// Most queues in one bulk realtime request.
pub const MAX_BULK_QUEUES: usize = 50;
/// Longest name filter (`FriendlyName`, `TaskQueueName`, `ActivityName`), in characters.
pub const MAX_NAME_CHARS: usize = 256;
/// Longest `TargetWorkersExpression` and `EvaluateWorkerAttributes`, in bytes.
pub const MAX_EXPRESSION_BYTES: usize = 4096;
/// Longest `PageToken`, in characters.
pub const MAX_PAGE_TOKEN_CHARS: usize = 256;

fn err(msg: impl Into<String>) -> QueryError {
    QueryError(msg.into())
}

fn set_once<T>(slot: &mut Option<T>, key: &str, value: T) -> Result<(), QueryError> {
    if slot.is_some() {
        return Err(err(format!("{key} was given more than once")));
    }
    *slot = Some(value);
    Ok(())
}

/// The first `n` characters of `s`, for error messages that quote the input.
fn quote(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// A name filter: 1 to 256 characters, taken verbatim (names may hold spaces).
fn parse_name(key: &str, raw: &str) -> Result<String, QueryError> {
    let n = raw.chars().count();
    if n == 0 || n > MAX_NAME_CHARS {
        return Err(err(format!("{key} must be 1 to {MAX_NAME_CHARS} characters")));
    }
    Ok(raw.to_owned())
}

/// A SID parameter of one kind, with the parameter's name in the message.
fn parse_sid<T>(key: &str, raw: &str, parse: fn(&str) -> Result<T, crate::sid::SidError>) -> Result<T, QueryError> {
    parse(raw.trim()).map_err(|e| err(format!("{key} {e}")))
}

/// Twilio's `Available` filter: `true`, `1` or `yes` mean true (any case), anything else false.
pub fn parse_available(raw: &str) -> bool {
    matches!(raw.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes")
}

/// `PageSize`, `Page` and `PageToken` of every list resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paging {
    /// 1 to 1000, default 50.
    pub page_size: u32,
    /// The page index; for the client's state, as Twilio says.
    pub page: u32,
    /// Opaque token of the server's own `next_page_url`; checked by the server.
    pub page_token: Option<String>,
}

impl Default for Paging {
    fn default() -> Self {
        Self { page_size: DEFAULT_PAGE_SIZE, page: 0, page_token: None }
    }
}

impl Paging {
    /// Reads one pair if it is a paging parameter; `Ok(false)` when it is not.
    fn accept(&mut self, seen: &mut [bool; 3], key: &str, value: &str) -> Result<bool, QueryError> {
        let slot = match key {
            "PageSize" => 0,
            "Page" => 1,
            "PageToken" => 2,
            _ => return Ok(false),
        };
        if std::mem::replace(&mut seen[slot], true) {
            return Err(err(format!("{key} was given more than once")));
        }
        match slot {
            0 => {
                self.page_size = whole(value)
                    .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
                    .ok_or_else(|| err(format!("PageSize must be a whole number from 1 to {MAX_PAGE_SIZE}")))?;
            }
            1 => self.page = whole(value).ok_or_else(|| err("Page must be a non-negative whole number"))?,
            _ => {
                let n = value.chars().count();
                if n == 0 || n > MAX_PAGE_TOKEN_CHARS {
                    return Err(err(format!("PageToken must be 1 to {MAX_PAGE_TOKEN_CHARS} characters")));
                }
                self.page_token = Some(value.to_owned());
            }
        }
        Ok(true)
    }

    /// Parses the paging parameters alone (e.g. `Workers/{WK}/Channels`).
    pub fn parse<'a, I>(pairs: I) -> Result<Self, QueryError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut p = Self::default();
        let mut seen = [false; 3];
        for (k, v) in pairs {
            p.accept(&mut seen, k, v)?;
        }
        Ok(p)
    }
}

/// A non-negative decimal without sign, spaces or fraction.
fn whole(raw: &str) -> Option<u32> {
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse().ok()
}

/// A sort key of the `Ordering` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderField {
    DateCreated,
    DateUpdated,
    /// Workers only.
    DateStatusChanged,
    FriendlyName,
    /// Workers only.
    ActivityName,
}

impl OrderField {
    fn name(self) -> &'static str {
        match self {
            Self::DateCreated => "DateCreated",
            Self::DateUpdated => "DateUpdated",
            Self::DateStatusChanged => "DateStatusChanged",
            Self::FriendlyName => "FriendlyName",
            Self::ActivityName => "ActivityName",
        }
    }
}

/// The fields TaskQueues sort by.
pub const TASK_QUEUE_ORDER_FIELDS: &[OrderField] =
    &[OrderField::DateCreated, OrderField::DateUpdated, OrderField::FriendlyName];
/// The fields Workers sort by.
pub const WORKER_ORDER_FIELDS: &[OrderField] = &[
    OrderField::DateCreated,
    OrderField::DateUpdated,
    OrderField::DateStatusChanged,
    OrderField::FriendlyName,
    OrderField::ActivityName,
];

/// `Ordering`: comma-separated `Field:asc` / `Field:desc` keys, most significant first.
///
/// Twilio documents the parameter only as "Sorting parameter"; Wallboard takes Twilio's
/// `Attribute:Order` syntax of the Tasks list with the fields each resource has (see
/// [`TASK_QUEUE_ORDER_FIELDS`], [`WORKER_ORDER_FIELDS`]). Ties keep the default order (by sid).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ordering(pub Vec<(OrderField, Direction)>);

/// Ascending or descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Asc,
    Desc,
}

impl Ordering {
    /// Parses `raw` against the fields `allowed` for the resource; field names and
    /// directions are case-insensitive, a field may appear once.
    pub fn parse(raw: &str, allowed: &[OrderField]) -> Result<Self, QueryError> {
        let names: Vec<&str> = allowed.iter().map(|f| f.name()).collect();
        let bad = || {
            err(format!(
                "Ordering must be Field:asc or Field:desc, comma-separated, with Field one of {}; got '{}'",
                names.join(", "),
                quote(raw, 64)
            ))
        };
        let mut out: Vec<(OrderField, Direction)> = Vec::new();
        for item in raw.split(',') {
            let (field, dir) = item.trim().split_once(':').ok_or_else(bad)?;
            let field =
                allowed.iter().copied().find(|f| f.name().eq_ignore_ascii_case(field.trim())).ok_or_else(bad)?;
            let dir = match dir.trim().to_ascii_lowercase().as_str() {
                "asc" => Direction::Asc,
                "desc" => Direction::Desc,
                _ => return Err(bad()),
            };
            if out.iter().any(|(f, _)| *f == field) {
                return Err(err(format!("Ordering names {} more than once", field.name())));
            }
            out.push((field, dir));
        }
        Ok(Self(out))
    }
}

/// Statistics parameters of the Workers resources (`Minutes`, `StartDate`, `EndDate`,
/// `TaskChannel`): they take no `SplitByWaitTime`, so it is ignored like any unknown one.
pub fn parse_worker_statistics<'a, I>(pairs: I) -> Result<StatisticsQuery, QueryError>
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    StatisticsQuery::parse(pairs.into_iter().filter(|(k, _)| *k != "SplitByWaitTime"))
}

/// `GET …/TaskQueues/Statistics`: the statistics window, a `FriendlyName` filter and paging.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskQueuesStatisticsQuery {
    pub statistics: StatisticsQuery,
    /// Only the queue with exactly this name.
    pub friendly_name: Option<String>,
    pub paging: Paging,
}

impl TaskQueuesStatisticsQuery {
    pub fn parse<'a, I>(pairs: I) -> Result<Self, QueryError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let pairs: Vec<(&str, &str)> = pairs.into_iter().collect();
        let mut q = Self { statistics: StatisticsQuery::parse(pairs.iter().copied())?, ..Self::default() };
        let mut seen = [false; 3];
        for (k, v) in pairs {
            if q.paging.accept(&mut seen, k, v)? {
                continue;
            }
            if k == "FriendlyName" {
                set_once(&mut q.friendly_name, k, parse_name(k, v)?)?;
            }
        }
        Ok(q)
    }
}

/// `GET …/Workers/Statistics`: the window (no `SplitByWaitTime`) and which workers count.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkersStatisticsQuery {
    pub statistics: StatisticsQuery,
    /// Only workers eligible for this queue.
    pub task_queue_sid: Option<TaskQueueSid>,
    /// Only workers eligible for the queue of this name (with `task_queue_sid`, both must hold).
    pub task_queue_name: Option<String>,
    /// Only workers of exactly this name.
    pub friendly_name: Option<String>,
}

impl WorkersStatisticsQuery {
    pub fn parse<'a, I>(pairs: I) -> Result<Self, QueryError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let pairs: Vec<(&str, &str)> = pairs.into_iter().collect();
        let mut q = Self { statistics: parse_worker_statistics(pairs.iter().copied())?, ..Self::default() };
        for (k, v) in pairs {
            match k {
                "TaskQueueSid" => set_once(&mut q.task_queue_sid, k, parse_sid(k, v, TaskQueueSid::parse)?)?,
                "TaskQueueName" => set_once(&mut q.task_queue_name, k, parse_name(k, v)?)?,
                "FriendlyName" => set_once(&mut q.friendly_name, k, parse_name(k, v)?)?,
                _ => {}
            }
        }
        Ok(q)
    }
}

/// `GET …/TaskQueues`: filters and paging of the queue list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskQueueListQuery {
    pub friendly_name: Option<String>,
    /// Only queues whose TargetWorkers match a worker with these attributes (a JSON object).
    pub evaluate_worker_attributes: Option<Map<String, Value>>,
    /// Only queues this worker is eligible for.
    pub worker_sid: Option<WorkerSid>,
    pub ordering: Option<Ordering>,
    pub paging: Paging,
}

impl TaskQueueListQuery {
    pub fn parse<'a, I>(pairs: I) -> Result<Self, QueryError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut q = Self::default();
        let mut seen = [false; 3];
        for (k, v) in pairs {
            if q.paging.accept(&mut seen, k, v)? {
                continue;
            }
            match k {
                "FriendlyName" => set_once(&mut q.friendly_name, k, parse_name(k, v)?)?,
                "EvaluateWorkerAttributes" => set_once(&mut q.evaluate_worker_attributes, k, parse_attributes(k, v)?)?,
                "WorkerSid" => set_once(&mut q.worker_sid, k, parse_sid(k, v, WorkerSid::parse)?)?,
                "Ordering" => set_once(&mut q.ordering, k, Ordering::parse(v, TASK_QUEUE_ORDER_FIELDS)?)?,
                _ => {}
            }
        }
        Ok(q)
    }
}

/// Worker attributes given as a parameter: a JSON object of at most 4096 bytes.
fn parse_attributes(key: &str, raw: &str) -> Result<Map<String, Value>, QueryError> {
    let bad =
        || err(format!("{key} must be a JSON object of worker attributes (at most {MAX_EXPRESSION_BYTES} bytes)"));
    if raw.len() > MAX_EXPRESSION_BYTES {
        return Err(bad());
    }
    match serde_json::from_str::<Value>(raw) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(bad()),
    }
}

/// `GET …/Workers`: filters and paging of the worker list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkerListQuery {
    pub activity_name: Option<String>,
    pub activity_sid: Option<ActivitySid>,
    /// `Some(true)`: only available workers; `Some(false)`: only unavailable ones.
    pub available: Option<bool>,
    pub friendly_name: Option<String>,
    /// A TaskRouter expression over the workers' attributes and `sid`, `friendly_name`,
    /// `activity_sid`, `activity_name`; only its size is checked here, the server parses it.
    pub target_workers_expression: Option<String>,
    pub task_queue_name: Option<String>,
    pub task_queue_sid: Option<TaskQueueSid>,
    pub ordering: Option<Ordering>,
    pub paging: Paging,
}

impl WorkerListQuery {
    pub fn parse<'a, I>(pairs: I) -> Result<Self, QueryError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut q = Self::default();
        let mut seen = [false; 3];
        for (k, v) in pairs {
            if q.paging.accept(&mut seen, k, v)? {
                continue;
            }
            match k {
                "ActivityName" => set_once(&mut q.activity_name, k, parse_name(k, v)?)?,
                "ActivitySid" => set_once(&mut q.activity_sid, k, parse_sid(k, v, ActivitySid::parse)?)?,
                "Available" => set_once(&mut q.available, k, parse_available(v))?,
                "FriendlyName" => set_once(&mut q.friendly_name, k, parse_name(k, v)?)?,
                "TargetWorkersExpression" => set_once(&mut q.target_workers_expression, k, parse_expression(k, v)?)?,
                "TaskQueueName" => set_once(&mut q.task_queue_name, k, parse_name(k, v)?)?,
                "TaskQueueSid" => set_once(&mut q.task_queue_sid, k, parse_sid(k, v, TaskQueueSid::parse)?)?,
                "Ordering" => set_once(&mut q.ordering, k, Ordering::parse(v, WORKER_ORDER_FIELDS)?)?,
                _ => {}
            }
        }
        Ok(q)
    }
}

fn parse_expression(key: &str, raw: &str) -> Result<String, QueryError> {
    if raw.trim().is_empty() || raw.len() > MAX_EXPRESSION_BYTES {
        return Err(err(format!("{key} must be a non-empty expression of at most {MAX_EXPRESSION_BYTES} bytes")));
    }
    Ok(raw.to_owned())
}

/// `GET …/Activities`: filters and paging of the activity list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActivityListQuery {
    pub friendly_name: Option<String>,
    pub available: Option<bool>,
    pub paging: Paging,
}

impl ActivityListQuery {
    pub fn parse<'a, I>(pairs: I) -> Result<Self, QueryError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut q = Self::default();
        let mut seen = [false; 3];
        for (k, v) in pairs {
            if q.paging.accept(&mut seen, k, v)? {
                continue;
            }
            match k {
                "FriendlyName" => set_once(&mut q.friendly_name, k, parse_name(k, v)?)?,
                "Available" => set_once(&mut q.available, k, parse_available(v))?,
                _ => {}
            }
        }
        Ok(q)
    }
}

/// The queues of `POST …/TaskQueues/RealTimeStatistics`: 1 to 50 distinct `WQ…` SIDs, in
/// the order given (the answer keeps it).
///
/// Twilio's description declares a JSON body without naming its fields; Wallboard reads
/// `QueueSids` from a form (repeated keys and/or comma-separated values) or from a JSON body
/// (`{"QueueSids": [...]}` or a bare array).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkQueues(pub Vec<TaskQueueSid>);

impl BulkQueues {
    /// Reads a form-encoded body's decoded pairs.
    pub fn from_form<'a, I>(pairs: I) -> Result<Self, QueryError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut raw = Vec::new();
        for (k, v) in pairs {
            if k == "QueueSids" {
                raw.extend(v.split(','));
            }
        }
        Self::check(raw)
    }

    /// Reads a JSON body: `{"QueueSids": ["WQ…", …]}` or `["WQ…", …]`.
    pub fn from_json(body: &str) -> Result<Self, QueryError> {
        let bad = || err("the body must be {\"QueueSids\": [\"WQ…\", …]} or a JSON array of WQ sids");
        let value: Value = serde_json::from_str(body).map_err(|_| bad())?;
        let list = match &value {
            Value::Array(a) => a,
            Value::Object(m) => match m.get("QueueSids") {
                Some(Value::Array(a)) => a,
                _ => return Err(bad()),
            },
            _ => return Err(bad()),
        };
        let raw: Vec<&str> = list.iter().map(|v| v.as_str().ok_or_else(bad)).collect::<Result<_, _>>()?;
        Self::check(raw)
    }

    fn check(raw: Vec<&str>) -> Result<Self, QueryError> {
        if raw.is_empty() {
            return Err(err("QueueSids is required: 1 to 50 TaskQueue sids"));
        }
        if raw.len() > MAX_BULK_QUEUES {
            return Err(err(format!("QueueSids takes at most {MAX_BULK_QUEUES} TaskQueue sids, got {}", raw.len())));
        }
        let mut out: Vec<TaskQueueSid> = Vec::with_capacity(raw.len());
        for r in raw {
            let sid = parse_sid("QueueSids", r, TaskQueueSid::parse)?;
            if out.contains(&sid) {
                return Err(err(format!("QueueSids lists {sid} more than once")));
            }
            out.push(sid);
        }
        Ok(Self(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::WindowSpec;

    const WQ1: &str = "WQ00000000000000000000000000000001";
    const WQ2: &str = "WQ00000000000000000000000000000002";

    #[test]
    fn paging_defaults_bounds_and_repeats() {
        assert_eq!(Paging::parse([]).expect("empty"), Paging::default());
        let p = Paging::parse([("PageSize", "1000"), ("Page", "3"), ("PageToken", "PT1")]).expect("valid");
        assert_eq!(p, Paging { page_size: 1000, page: 3, page_token: Some("PT1".into()) });
        for bad in ["0", "1001", "-1", "1.5", "", "abc", "+5", " 5"] {
            let e = Paging::parse([("PageSize", bad)]).expect_err(bad);
            assert_eq!(e.0, "PageSize must be a whole number from 1 to 1000");
        }
        for bad in ["-1", "x", "", "4294967296"] {
            assert!(Paging::parse([("Page", bad)]).is_err(), "{bad}");
        }
        assert!(Paging::parse([("PageToken", "")]).is_err());
        assert!(Paging::parse([("PageToken", "x".repeat(257).as_str())]).is_err());
        assert!(Paging::parse([("PageSize", "5"), ("PageSize", "6")]).is_err());
    }

    #[test]
    fn available_is_true_yes_or_1() {
        for t in ["true", "TRUE", "1", "yes", "Yes"] {
            assert!(parse_available(t), "{t}");
        }
        for f in ["false", "0", "no", "", "available", "2"] {
            assert!(!parse_available(f), "{f}");
        }
    }

    #[test]
    fn ordering_fields_directions_and_errors() {
        let o = Ordering::parse("DateUpdated:desc, friendlyname:ASC", TASK_QUEUE_ORDER_FIELDS).expect("valid");
        assert_eq!(o.0, vec![(OrderField::DateUpdated, Direction::Desc), (OrderField::FriendlyName, Direction::Asc)]);
        let o = Ordering::parse("DateStatusChanged:asc", WORKER_ORDER_FIELDS).expect("workers have it");
        assert_eq!(o.0, vec![(OrderField::DateStatusChanged, Direction::Asc)]);
        for bad in ["", "DateUpdated", "DateUpdated:up", "Priority:asc", "DateUpdated:asc,", ":asc"] {
            assert!(Ordering::parse(bad, TASK_QUEUE_ORDER_FIELDS).is_err(), "{bad}");
        }
        assert!(Ordering::parse("DateStatusChanged:asc", TASK_QUEUE_ORDER_FIELDS).is_err(), "queues have no status");
        let e = Ordering::parse("DateUpdated:asc,DateUpdated:desc", TASK_QUEUE_ORDER_FIELDS).expect_err("twice");
        assert_eq!(e.0, "Ordering names DateUpdated more than once");
    }

    #[test]
    fn queue_statistics_list_takes_window_name_and_paging() {
        let q = TaskQueuesStatisticsQuery::parse([
            ("Minutes", "60"),
            ("FriendlyName", "Sales EMEA"),
            ("SplitByWaitTime", "20"),
            ("PageSize", "10"),
            ("TaskChannel", "voice"),
            ("Unknown", "x"),
        ])
        .expect("valid");
        assert_eq!(q.statistics.window, WindowSpec::Minutes(60));
        assert_eq!(q.statistics.split_by_wait_time, Some(vec![20]));
        assert_eq!(q.statistics.task_channel.as_deref(), Some("voice"));
        assert_eq!(q.friendly_name.as_deref(), Some("Sales EMEA"));
        assert_eq!(q.paging.page_size, 10);
        assert!(TaskQueuesStatisticsQuery::parse([("FriendlyName", "")]).is_err());
        assert!(TaskQueuesStatisticsQuery::parse([("FriendlyName", "a"), ("FriendlyName", "b")]).is_err());
        assert!(TaskQueuesStatisticsQuery::parse([("Minutes", "0")]).is_err());
        assert!(TaskQueuesStatisticsQuery::parse([("PageSize", "0")]).is_err());
    }

    #[test]
    fn workers_statistics_filters_and_ignored_split() {
        let q = WorkersStatisticsQuery::parse([
            ("TaskQueueSid", WQ1),
            ("TaskQueueName", "Sales"),
            ("FriendlyName", "alice"),
            ("SplitByWaitTime", "not even numbers"),
            ("StartDate", "2026-11-27"),
        ])
        .expect("valid");
        assert_eq!(q.task_queue_sid, Some(TaskQueueSid::parse(WQ1).expect("sid")));
        assert_eq!(q.task_queue_name.as_deref(), Some("Sales"));
        assert_eq!(q.statistics.split_by_wait_time, None);
        let e =
            WorkersStatisticsQuery::parse([("TaskQueueSid", "WW00000000000000000000000000000001")]).expect_err("kind");
        assert!(e.0.starts_with("TaskQueueSid 'WW0"), "{}", e.0);
        assert!(WorkersStatisticsQuery::parse([("TaskQueueName", "")]).is_err());
        assert!(WorkersStatisticsQuery::parse([("Minutes", "5"), ("EndDate", "2026-11-27")]).is_err());
        assert!(parse_worker_statistics([("SplitByWaitTime", "x"), ("Minutes", "5")]).is_ok());
    }

    #[test]
    fn task_queue_list_filters() {
        let q = TaskQueueListQuery::parse([
            ("FriendlyName", "Sales"),
            ("EvaluateWorkerAttributes", r#"{"skills":["en"],"level":3}"#),
            ("WorkerSid", "WK00000000000000000000000000000009"),
            ("Ordering", "DateUpdated:asc"),
            ("Page", "1"),
        ])
        .expect("valid");
        assert_eq!(q.evaluate_worker_attributes.as_ref().map(|m| m["level"].clone()), Some(Value::from(3)));
        assert_eq!(q.worker_sid.as_ref().map(WorkerSid::to_u128), Some(9));
        assert_eq!(q.paging.page, 1);
        for bad in ["[1]", "not json", "\"s\"", ""] {
            assert!(TaskQueueListQuery::parse([("EvaluateWorkerAttributes", bad)]).is_err(), "{bad}");
        }
        assert!(TaskQueueListQuery::parse([("WorkerSid", "WK1")]).is_err());
        assert!(TaskQueueListQuery::parse([("Ordering", "Priority:desc")]).is_err());
    }

    #[test]
    fn worker_list_filters() {
        let q = WorkerListQuery::parse([
            ("ActivityName", "Available"),
            ("ActivitySid", "WA00000000000000000000000000000001"),
            ("Available", "yes"),
            ("FriendlyName", "alice"),
            ("TargetWorkersExpression", "skills HAS \"en\""),
            ("TaskQueueName", "Sales"),
            ("TaskQueueSid", WQ2),
            ("Ordering", "DateStatusChanged:desc"),
            ("PageSize", "2"),
        ])
        .expect("valid");
        assert_eq!(q.available, Some(true));
        assert_eq!(q.target_workers_expression.as_deref(), Some("skills HAS \"en\""));
        assert_eq!(q.ordering.map(|o| o.0), Some(vec![(OrderField::DateStatusChanged, Direction::Desc)]));
        assert_eq!(WorkerListQuery::parse([("Available", "nope")]).expect("any value").available, Some(false));
        assert!(WorkerListQuery::parse([("ActivitySid", WQ1)]).is_err());
        assert!(WorkerListQuery::parse([("TaskQueueSid", "")]).is_err());
        assert!(WorkerListQuery::parse([("TargetWorkersExpression", "  ")]).is_err());
        assert!(WorkerListQuery::parse([("TargetWorkersExpression", "1==1 ".repeat(1000).as_str())]).is_err());
        assert!(WorkerListQuery::parse([("ActivityName", "x".repeat(257).as_str())]).is_err());
        assert!(WorkerListQuery::parse([("Available", "true"), ("Available", "false")]).is_err());
    }

    #[test]
    fn activity_list_filters() {
        let q = ActivityListQuery::parse([("FriendlyName", "Break"), ("Available", "0")]).expect("valid");
        assert_eq!((q.friendly_name.as_deref(), q.available), (Some("Break"), Some(false)));
        assert!(ActivityListQuery::parse([("PageSize", "x")]).is_err());
    }

    #[test]
    fn bulk_queues_from_form_and_json() {
        let a = BulkQueues::from_form([("QueueSids", WQ1), ("QueueSids", WQ2)]).expect("repeated keys");
        let b = BulkQueues::from_form([("QueueSids", &*format!("{WQ1},{WQ2}"))]).expect("comma-separated");
        let c = BulkQueues::from_json(&format!(r#"{{"QueueSids":["{WQ1}","{WQ2}"]}}"#)).expect("object");
        let d = BulkQueues::from_json(&format!(r#"["{WQ1}","{WQ2}"]"#)).expect("array");
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a, d);
        assert_eq!(a.0[0].as_str(), WQ1, "request order is kept");
        let fifty: Vec<String> = (1..=50u128).map(|n| TaskQueueSid::from_u128(n).to_string()).collect();
        assert_eq!(BulkQueues::from_form([("QueueSids", fifty.join(",").as_str())]).expect("50").0.len(), 50);
    }

    #[test]
    fn bulk_queues_rejections() {
        assert_eq!(BulkQueues::from_form([]).expect_err("none").0, "QueueSids is required: 1 to 50 TaskQueue sids");
        assert!(BulkQueues::from_form([("Other", WQ1)]).is_err());
        let many: Vec<String> = (1..=51u128).map(|n| TaskQueueSid::from_u128(n).to_string()).collect();
        assert!(BulkQueues::from_form([("QueueSids", many.join(",").as_str())]).is_err());
        assert!(BulkQueues::from_form([("QueueSids", WQ1), ("QueueSids", WQ1)]).is_err(), "duplicates");
        assert!(BulkQueues::from_form([("QueueSids", "WK00000000000000000000000000000001")]).is_err());
        assert!(BulkQueues::from_form([("QueueSids", &*format!("{WQ1},"))]).is_err(), "empty item");
        for bad in ["", "{}", "[]", "[1]", r#"{"QueueSids":"WQ"}"#, r#"{"queue_sids":[]}"#, "null"] {
            assert!(BulkQueues::from_json(bad).is_err(), "{bad}");
        }
    }
}
