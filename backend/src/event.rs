//! A TaskRouter event as Wallboard stores and replays it, whatever door it came in by
//! (signed event callback, simulator, import, backfill).
//!
//! Callback forms use PascalCase (`TaskChannelUniqueName`), the Events API uses snake_case
//! in `event_data` (`task_channel_unique_name`); both normalise to snake_case here so the
//! engine reads one vocabulary.

use std::collections::BTreeMap;

use serde_json::Value;
use wallboard_shared::event::EventResource;
use wallboard_shared::sid::{EventSid, WorkspaceSid};
use wallboard_shared::time::format_ms;

mod fields;

pub use fields::Fields;

/// Why an event was refused (HTTP 400 on the webhook, a rejected line on import).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EventError(pub String);

fn err(msg: impl Into<String>) -> EventError {
    EventError(msg.into())
}

/// A well-formed TaskRouter event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub sid: EventSid,
    pub event_type: String,
    pub ts_ms: i64,
    pub workspace_sid: WorkspaceSid,
    /// Every other field, snake_case, as strings.
    data: Fields,
    /// The fields the engine reads on every event, parsed once when the event is built.
    keys: Keys,
}

/// The numbers of an event's SIDs and its numeric task fields, parsed and checked once
/// when the event is built, so that applying it parses nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Keys {
    pub sid: u128,
    pub workspace: u128,
    pub task: Option<u128>,
    pub workflow: Option<u128>,
    /// `ReservationSid`, or a `WR…` `ResourceSid`.
    pub reservation: Option<u128>,
    pub channel_sid: Option<u128>,
    pub priority: Option<i64>,
    /// `TaskDateCreated`, in milliseconds.
    pub date_created_ms: Option<i64>,
    /// Worker, activity and task-queue fields; empty on events of other kinds.
    pub floor: FloorKeys,
}

/// The worker, activity and task-queue fields of an event, parsed once at build. Only
/// events whose type can carry them are looked at (`worker.*`, `reservation.*`,
/// `activity.*` for the worker group; `task-queue.*` and task events for the queue), so
/// task events pay one more lookup (`TaskQueueSid`) and no allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FloorKeys {
    /// `WorkerSid`, or a `WK…` `ResourceSid` on `worker.*` events.
    pub worker: Option<u128>,
    /// `WorkerActivitySid` (the new activity); on `activity.*` events `ActivitySid` or a
    /// `WA…` `ResourceSid`.
    pub activity: Option<u128>,
    pub previous_activity: Option<u128>,
    /// `WorkerTimeInPreviousActivityMs`, else `WorkerTimeInPreviousActivity` (seconds) × 1000.
    pub time_in_previous_activity_ms: Option<i64>,
    /// `ActivityAvailable` of `activity.*` events.
    pub activity_available: Option<bool>,
    /// `WorkerChannelCapacity` (configured capacity).
    pub channel_capacity: Option<i64>,
    /// `WorkerChannelAvailableCapacity`.
    pub channel_available_capacity: Option<i64>,
    /// `WorkerChannelAvailable`.
    pub channel_available: Option<bool>,
    /// `WorkerChannelTaskCount`.
    pub channel_task_count: Option<i64>,
    /// `TaskQueueSid`, or a `WQ…` `ResourceSid` on `task-queue.*` events.
    pub queue: Option<u128>,
    /// `TaskQueueEnteredDate` in milliseconds, when it reads as epoch seconds,
    /// milliseconds or RFC 3339 (an undocumented field: anything else is ignored, not refused).
    pub queue_entered_ms: Option<i64>,
}

/// Parses an optional SID field: (snake_case key, name for errors, prefix).
type SidOf<'a> = dyn Fn(&str, &str, &str) -> Result<Option<u128>, EventError> + 'a;

/// Event types whose statistics need a task and a workflow.
pub fn is_task_event(event_type: &str) -> bool {
    event_type.starts_with("task.")
        || event_type.starts_with("reservation.")
        || event_type.starts_with("workflow.")
        || matches!(event_type, "task-queue.entered" | "task-queue.moved" | "task-queue.timeout")
}

/// Longest accepted field value; TaskAttributes of real accounts can be large JSON.
const MAX_FIELD_LEN: usize = 64 * 1024;
const MAX_FIELDS: usize = 200;

impl Event {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.data.get(key).filter(|s| !s.is_empty())
    }

    /// Every field besides sid, type, time and workspace (snake_case names).
    pub fn data(&self) -> &Fields {
        &self.data
    }

    /// The parsed SIDs and numbers (see [`Keys`]).
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// Sets a field and checks the event again; on error the event is unchanged.
    pub fn set_field(&mut self, key: &str, value: impl Into<String>) -> Result<(), EventError> {
        let old = self.data.insert(key, value.into());
        match self.validate() {
            Ok(keys) => {
                self.keys = keys;
                Ok(())
            }
            Err(e) => {
                match old {
                    Some(v) => self.data.insert(key, v),
                    None => self.data.remove(key),
                };
                Err(e)
            }
        }
    }

    /// Sets several fields and checks the event once (reused events in benchmarks); on
    /// error the event is unchanged.
    pub fn set_fields(&mut self, fields: &[(&str, String)]) -> Result<(), EventError> {
        let old: Vec<(&str, Option<String>)> =
            fields.iter().map(|(k, v)| (*k, self.data.insert(k, v.clone()))).collect();
        match self.validate() {
            Ok(keys) => {
                self.keys = keys;
                Ok(())
            }
            Err(e) => {
                for (k, v) in old.into_iter().rev() {
                    match v {
                        Some(v) => self.data.insert(k, v),
                        None => self.data.remove(k),
                    };
                }
                Err(e)
            }
        }
    }

    /// From the form fields of a TaskRouter event callback, in document order (the last of
    /// a repeated name wins). The pairs are borrowed: the fields are copied once, into
    /// the event's buffer.
    pub fn from_form<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> Result<Self, EventError> {
        if pairs.len() > MAX_FIELDS {
            return Err(err(format!("too many fields ({}; at most {MAX_FIELDS})", pairs.len())));
        }
        if let Some((k, _)) = pairs.iter().find(|(_, v)| v.as_ref().len() > MAX_FIELD_LEN) {
            return Err(err(format!("field {} is longer than {MAX_FIELD_LEN} bytes", k.as_ref())));
        }
        // The SID, type and workspace are the event's own, not fields.
        let (mut sid, mut event_type, mut workspace_sid) = (None, None, None);
        let data = Fields::from_form(pairs.iter().map(|(k, v)| (k.as_ref(), v.as_ref())).filter(|&(k, v)| {
            let own = if fields::snake_case_is(k, "sid") {
                &mut sid
            } else if fields::snake_case_is(k, "event_type") {
                &mut event_type
            } else if fields::snake_case_is(k, "workspace_sid") {
                &mut workspace_sid
            } else {
                return true;
            };
            *own = Some(v);
            false
        }));
        let ts_ms = match (data.get("timestamp_ms"), data.get("timestamp")) {
            (Some(ms), _) => parse_i64("TimestampMs", ms)?,
            (None, Some(s)) => {
                parse_i64("Timestamp", s)?.checked_mul(1000).ok_or_else(|| err("Timestamp is out of range"))?
            }
            (None, None) => return Err(err("missing TimestampMs (or Timestamp)")),
        };
        let sid = given(sid, "Sid")?;
        let event_type = given(event_type, "EventType")?.to_owned();
        let workspace_sid = given(workspace_sid, "WorkspaceSid")?;
        Self::from_fields(sid, event_type, ts_ms, workspace_sid, data)
    }

    /// From a line of the import format (TaskRouter's Events API resource).
    pub fn from_resource(r: EventResource) -> Result<Self, EventError> {
        let sid = r.sid.ok_or_else(|| err("missing sid"))?;
        let event_type = r.event_type.ok_or_else(|| err("missing event_type"))?;
        let workspace_sid = r.workspace_sid.ok_or_else(|| err("missing workspace_sid"))?;
        let mut data = BTreeMap::new();
        for (k, v) in r.event_data.unwrap_or_default() {
            let s = match v {
                Value::Null => continue,
                Value::String(s) => s,
                other => other.to_string(),
            };
            if s.len() > MAX_FIELD_LEN {
                return Err(err(format!("event_data.{k} is longer than {MAX_FIELD_LEN} bytes")));
            }
            data.insert(snake_case(&k), s);
        }
        let ts_ms = match (r.event_date_ms, r.event_date.as_deref(), data.get("timestamp_ms")) {
            (Some(ms), _, _) => ms,
            (None, _, Some(ms)) => parse_i64("event_data.timestamp_ms", ms)?,
            (None, Some(date), None) => chrono::DateTime::parse_from_rfc3339(date)
                .map_err(|e| err(format!("event_date '{date}' is not RFC 3339: {e}")))?
                .timestamp_millis(),
            (None, None, None) => return Err(err("missing event_date_ms (or event_date)")),
        };
        if let Some(d) = r.description {
            data.entry("event_description".into()).or_insert(d);
        }
        if let Some(s) = r.resource_sid {
            data.entry("resource_sid".into()).or_insert(s);
        }
        if let Some(s) = r.resource_type {
            data.entry("resource_type".into()).or_insert(s);
        }
        Self::from_parts(sid, event_type, ts_ms, workspace_sid, data)
    }

    /// From its parts: the event's SID, type, time, workspace, and every other field under
    /// its snake_case name, as text (every door ends here; Event Streams' payloads come
    /// straight to it, `crate::eventstreams`).
    pub fn from_parts(
        sid: String,
        event_type: String,
        ts_ms: i64,
        workspace_sid: String,
        data: BTreeMap<String, String>,
    ) -> Result<Self, EventError> {
        // Checked before the fields are copied into one buffer, as well as after.
        if data.len() > MAX_FIELDS {
            return Err(err(format!("too many fields ({}; at most {MAX_FIELDS})", data.len())));
        }
        if let Some((k, _)) = data.iter().find(|(_, v)| v.len() > MAX_FIELD_LEN) {
            return Err(err(format!("field {k} is longer than {MAX_FIELD_LEN} bytes")));
        }
        Self::from_fields(&sid, event_type, ts_ms, &workspace_sid, Fields::from(&data))
    }

    /// [`Event::from_parts`] with the fields already in a [`Fields`].
    fn from_fields(
        sid: &str,
        event_type: String,
        ts_ms: i64,
        workspace_sid: &str,
        data: Fields,
    ) -> Result<Self, EventError> {
        if data.len() > MAX_FIELDS {
            return Err(err(format!("too many fields ({}; at most {MAX_FIELDS})", data.len())));
        }
        if let Some((k, _)) = data.iter().find(|(_, v)| v.len() > MAX_FIELD_LEN) {
            return Err(err(format!("field {k} is longer than {MAX_FIELD_LEN} bytes")));
        }
        let sid = EventSid::parse(sid).map_err(|e| err(format!("Sid: {e}")))?;
        let workspace_sid = WorkspaceSid::parse(workspace_sid).map_err(|e| err(format!("WorkspaceSid: {e}")))?;
        if event_type.is_empty() || event_type.len() > 64 || !event_type.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(err("EventType must be a TaskRouter event type such as task.created"));
        }
        // Year 1970 to 9999: anything else is a unit mistake, not a real event.
        if !(0..=253_402_300_799_999).contains(&ts_ms) {
            return Err(err(format!("timestamp {ts_ms} ms is out of range")));
        }
        let mut event = Self { sid, event_type, ts_ms, workspace_sid, data, keys: Keys::default() };
        event.keys = event.validate()?;
        Ok(event)
    }

    /// Checks the fields and parses the [`Keys`].
    fn validate(&self) -> Result<Keys, EventError> {
        let sid_of = |key: &str, name: &str, prefix: &str| -> Result<Option<u128>, EventError> {
            self.get(key)
                .map(|v| {
                    sid_number(prefix, v).ok_or_else(|| {
                        let shown: String = v.chars().take(40).collect();
                        err(format!("{name} '{shown}' is not a {prefix} sid ({prefix} and 32 hex digits)"))
                    })
                })
                .transpose()
        };
        let mut keys = Keys {
            sid: sid_number(EventSid::PREFIX, self.sid.as_str()).unwrap_or_default(),
            workspace: sid_number(WorkspaceSid::PREFIX, self.workspace_sid.as_str()).unwrap_or_default(),
            task: sid_of("task_sid", "TaskSid", "WT")?,
            workflow: sid_of("workflow_sid", "WorkflowSid", "WW")?,
            reservation: sid_of("reservation_sid", "ReservationSid", "WR")?,
            channel_sid: sid_of("task_channel_sid", "TaskChannelSid", "TC")?,
            priority: self.get("task_priority").map(|v| parse_i64("TaskPriority", v)).transpose()?,
            date_created_ms: self
                .get("task_date_created")
                .map(|v| parse_i64("TaskDateCreated", v))
                .transpose()?
                .map(|s| s.checked_mul(1000).ok_or_else(|| err("TaskDateCreated is out of range")))
                .transpose()?,
            floor: FloorKeys::default(),
        };
        keys.floor = self.floor_keys(&sid_of)?;
        if let Some(v) = self.get("task_age") {
            parse_i64("TaskAge", v)?;
        }
        if keys.reservation.is_none() {
            // Events API lines name the reservation as their resource.
            keys.reservation = self.get("resource_sid").and_then(|v| sid_number("WR", v));
        }
        if is_task_event(&self.event_type) {
            if keys.task.is_none() {
                return Err(err(format!("{} needs TaskSid", self.event_type)));
            }
            if keys.workflow.is_none() {
                return Err(err(format!("{} needs WorkflowSid", self.event_type)));
            }
        }
        if self.event_type.starts_with("reservation.") && keys.reservation.is_none() {
            return Err(err(format!("{} needs ReservationSid", self.event_type)));
        }
        Ok(keys)
    }

    /// The worker, activity and queue fields, for the event types that carry them.
    fn floor_keys(&self, sid_of: &SidOf<'_>) -> Result<FloorKeys, EventError> {
        let t = self.event_type.as_str();
        let mut f = FloorKeys::default();
        let resource = |prefix: &str| self.get("resource_sid").and_then(|v| sid_number(prefix, v));
        if is_task_event(t) || t.starts_with("task-queue.") {
            f.queue = sid_of("task_queue_sid", "TaskQueueSid", "WQ")?;
            if f.queue.is_none() && t.starts_with("task-queue.") {
                f.queue = resource("WQ");
            }
            f.queue_entered_ms = self.get("task_queue_entered_date").and_then(parse_date_ms);
        }
        let worker_group = t.starts_with("worker.") || t.starts_with("reservation.");
        if worker_group {
            f.worker = sid_of("worker_sid", "WorkerSid", "WK")?;
            if f.worker.is_none() && t.starts_with("worker.") {
                f.worker = resource("WK");
            }
            f.activity = sid_of("worker_activity_sid", "WorkerActivitySid", "WA")?;
            f.previous_activity = sid_of("worker_previous_activity_sid", "WorkerPreviousActivitySid", "WA")?;
            f.time_in_previous_activity_ms =
                match (self.get("worker_time_in_previous_activity_ms"), self.get("worker_time_in_previous_activity")) {
                    (Some(ms), _) => Some(parse_i64("WorkerTimeInPreviousActivityMs", ms)?),
                    (None, Some(s)) => Some(
                        parse_i64("WorkerTimeInPreviousActivity", s)?
                            .checked_mul(1000)
                            .ok_or_else(|| err("WorkerTimeInPreviousActivity is out of range"))?,
                    ),
                    (None, None) => None,
                };
            let int = |key: &str, name: &str| self.get(key).map(|v| parse_i64(name, v)).transpose();
            f.channel_capacity = int("worker_channel_capacity", "WorkerChannelCapacity")?;
            f.channel_available_capacity = int("worker_channel_available_capacity", "WorkerChannelAvailableCapacity")?;
            f.channel_task_count = int("worker_channel_task_count", "WorkerChannelTaskCount")?;
            f.channel_available =
                self.get("worker_channel_available").map(|v| parse_bool("WorkerChannelAvailable", v)).transpose()?;
        }
        if t.starts_with("activity.") {
            f.activity = sid_of("activity_sid", "ActivitySid", "WA")?.or_else(|| resource("WA"));
            f.activity_available =
                self.get("activity_available").map(|v| parse_bool("ActivityAvailable", v)).transpose()?;
        }
        Ok(f)
    }

    /// As a TaskRouter Event resource (the import format and the Events API).
    pub fn to_resource(&self, account_sid: &str, base_url: &str) -> EventResource {
        let mut data: serde_json::Map<String, Value> =
            self.data.iter().map(|(k, v)| (k.to_owned(), Value::String(v.to_owned()))).collect();
        let description = data.remove("event_description").and_then(|v| v.as_str().map(str::to_owned));
        let resource_sid = data.get("resource_sid").and_then(Value::as_str).map(str::to_owned);
        let resource_type = data.get("resource_type").and_then(Value::as_str).map(str::to_owned);
        EventResource {
            account_sid: Some(account_sid.to_owned()),
            description,
            event_data: Some(data),
            event_date: Some(format_ms(self.ts_ms)),
            event_date_ms: Some(self.ts_ms),
            event_type: Some(self.event_type.clone()),
            resource_sid,
            resource_type,
            sid: Some(self.sid.to_string()),
            source: Some("wallboard".into()),
            url: Some(format!("{base_url}/v1/Workspaces/{}/Events/{}", self.workspace_sid, self.sid)),
            workspace_sid: Some(self.workspace_sid.to_string()),
            ..EventResource::default()
        }
    }

    /// The stored representation of `data`.
    pub fn data_json(&self) -> String {
        serde_json::to_string(&self.data).expect("a map of strings always serializes")
    }

    /// Rebuilds an event from its stored columns (already validated when it was stored, and
    /// checked again). The fields are decoded straight into one buffer ([`Fields::from_json`]),
    /// the replay's hot path: the same event as decoding them into a map and
    /// [`Event::from_parts`], which `backend/tests/api/replay.rs` checks on stored rows.
    pub fn from_stored(
        sid: &str,
        event_type: String,
        ts_ms: i64,
        workspace_sid: &str,
        data_json: &str,
    ) -> Result<Self, EventError> {
        let data = Fields::from_json(data_json).map_err(|e| err(format!("stored event {sid} has bad data: {e}")))?;
        Self::from_fields(sid, event_type, ts_ms, workspace_sid, data)
    }
}

/// Builds events in code (simulator, tests, benchmarks) through the same validation as
/// every other door.
#[derive(Debug, Clone)]
pub struct EventBuilder {
    sid: String,
    event_type: String,
    ts_ms: i64,
    workspace_sid: String,
    data: BTreeMap<String, String>,
}

impl EventBuilder {
    pub fn new(event_type: &str, sid: &EventSid, ts_ms: i64, workspace_sid: &WorkspaceSid) -> Self {
        Self {
            sid: sid.to_string(),
            event_type: event_type.to_owned(),
            ts_ms,
            workspace_sid: workspace_sid.to_string(),
            data: BTreeMap::new(),
        }
    }

    /// Sets a field by its snake_case name (`task_sid`, `workflow_name`, …).
    pub fn field(mut self, key: &str, value: impl ToString) -> Self {
        self.data.insert(key.to_owned(), value.to_string());
        self
    }

    pub fn build(self) -> Result<Event, EventError> {
        Event::from_parts(self.sid, self.event_type, self.ts_ms, self.workspace_sid, self.data)
    }
}

/// A given, non-empty value of the form's own field `name`.
fn given<'a>(v: Option<&'a str>, name: &str) -> Result<&'a str, EventError> {
    v.filter(|v| !v.is_empty()).ok_or_else(|| err(format!("missing {name}")))
}

fn parse_i64(name: &str, v: &str) -> Result<i64, EventError> {
    v.trim()
        .parse::<i64>()
        .map_err(|_| err(format!("{name} '{}' is not an integer", v.chars().take(32).collect::<String>())))
}

fn parse_bool(name: &str, v: &str) -> Result<bool, EventError> {
    match v.trim() {
        t if t.eq_ignore_ascii_case("true") || t == "1" => Ok(true),
        t if t.eq_ignore_ascii_case("false") || t == "0" => Ok(false),
        _ => Err(err(format!("{name} '{}' is not true or false", v.chars().take(32).collect::<String>()))),
    }
}

/// Epoch seconds, epoch milliseconds (13 digits or more) or RFC 3339, in milliseconds.
fn parse_date_ms(v: &str) -> Option<i64> {
    let v = v.trim();
    match v.parse::<i64>() {
        // `unsigned_abs`: `i64::MIN.abs()` overflows (a panic in debug builds).
        Ok(n) if n.unsigned_abs() >= 100_000_000_000 => Some(n),
        Ok(n) => n.checked_mul(1000),
        Err(_) => chrono::DateTime::parse_from_rfc3339(v).ok().map(|d| d.timestamp_millis()),
    }
}

/// The 128-bit number of a SID with `prefix` (two letters and 32 hex digits), `None` when
/// malformed: `wallboard_shared::sid::sid_number`, in two 64-bit halves instead of a `u128`
/// step per digit (an event has up to eight SIDs; a replay parses millions a second).
fn sid_number(prefix: &str, value: &str) -> Option<u128> {
    let b = value.as_bytes();
    if b.len() != 34 || !value.starts_with(prefix) {
        return None;
    }
    let half = |digits: &[u8]| {
        digits.iter().try_fold(0u64, |n, &d| {
            let v = match d {
                b'0'..=b'9' => d - b'0',
                b'a'..=b'f' => d - b'a' + 10,
                b'A'..=b'F' => d - b'A' + 10,
                _ => return None,
            };
            Some(n << 4 | u64::from(v))
        })
    };
    Some(u128::from(half(&b[2..18])?) << 64 | u128::from(half(&b[18..34])?))
}

/// `TaskChannelUniqueName` → `task_channel_unique_name`; snake_case input is unchanged.
pub fn snake_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    fields::push_snake_case(&mut out, s);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = [
            ("EventType", "task.created"),
            ("Sid", "EV00000000000000000000000000000001"),
            ("WorkspaceSid", "WS00000000000000000000000000000001"),
            ("TimestampMs", "1700000000123"),
            ("TaskSid", "WT00000000000000000000000000000001"),
            ("WorkflowSid", "WW00000000000000000000000000000001"),
            ("TaskChannelUniqueName", "voice"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        v.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        v
    }

    #[test]
    fn sid_numbers_are_the_shared_crates() {
        let mut cases = vec![
            "WT00000000000000000000000000000001".to_owned(),
            "WTffffffffffffffffffffffffffffffff".to_owned(),
            "WTFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF".to_owned(),
            "WT0123456789abcdefABCDEF0123456789".to_owned(),
            "WT0123456789abcdefABCDEF012345678".to_owned(),
            "WT0123456789abcdefABCDEF01234567890".to_owned(),
            "WQ0123456789abcdefABCDEF0123456789".to_owned(),
            "WT0123456789abcdefgBCDEF0123456789".to_owned(),
            "WT+123456789abcdefABCDEF0123456789".to_owned(),
            "WT0123456789abcdefABCDEF012345678é".to_owned(),
            "WT".to_owned(),
            String::new(),
        ];
        let mut x: u128 = 0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c834;
        for _ in 0..1_000 {
            x = x.rotate_left(17).wrapping_mul(0x2545_f491_4f6c_dd1d) ^ 0x1234_5678;
            cases.push(format!("WT{x:032x}"));
            cases.push(format!("WT{x:032X}"));
        }
        for c in &cases {
            assert_eq!(sid_number("WT", c), wallboard_shared::sid::sid_number("WT", c), "{c}");
        }
    }

    #[test]
    fn snake_cases_pascal_names() {
        assert_eq!(snake_case("TaskChannelUniqueName"), "task_channel_unique_name");
        assert_eq!(snake_case("task_sid"), "task_sid");
        assert_eq!(snake_case("Sid"), "sid");
    }

    #[test]
    fn form_event_normalises() {
        let e = Event::from_form(&form(&[])).expect("valid");
        assert_eq!(e.ts_ms, 1_700_000_000_123);
        assert_eq!(e.get("task_channel_unique_name"), Some("voice"));
        assert_eq!(e.event_type, "task.created");
    }

    #[test]
    fn timestamp_seconds_fallback() {
        let mut f = form(&[("Timestamp", "1700000000")]);
        f.retain(|(k, _)| k != "TimestampMs");
        assert_eq!(Event::from_form(&f).expect("valid").ts_ms, 1_700_000_000_000);
    }

    #[test]
    fn malformed_events_are_refused() {
        let mut missing_task = form(&[]);
        missing_task.retain(|(k, _)| k != "TaskSid");
        assert!(Event::from_form(&missing_task).is_err());
        let mut bad_sid = form(&[]);
        bad_sid[1].1 = "EVnothex".into();
        assert!(Event::from_form(&bad_sid).is_err());
        assert!(Event::from_form(&form(&[("TaskPriority", "high")])).is_err());
        let mut no_ts = form(&[]);
        no_ts.retain(|(k, _)| k != "TimestampMs");
        assert!(Event::from_form(&no_ts).is_err());
        let res = form(&[("EventType", "reservation.created")]);
        let res: Vec<_> = res.into_iter().filter(|(k, v)| !(k == "EventType" && v == "task.created")).collect();
        assert!(Event::from_form(&res).is_err(), "reservation without ReservationSid");
    }

    #[test]
    fn non_task_events_need_no_task() {
        let f: Vec<(String, String)> = [
            ("EventType", "worker.activity.update"),
            ("Sid", "EV00000000000000000000000000000002"),
            ("WorkspaceSid", "WS00000000000000000000000000000001"),
            ("TimestampMs", "1700000000123"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert!(Event::from_form(&f).is_ok());
    }

    #[test]
    fn worker_and_queue_fields_are_parsed_once() {
        let worker = |extra: &[(&str, &str)]| {
            let mut f: Vec<(String, String)> = [
                ("EventType", "worker.activity.update"),
                ("Sid", "EV00000000000000000000000000000002"),
                ("WorkspaceSid", "WS00000000000000000000000000000001"),
                ("TimestampMs", "1700000000123"),
                ("WorkerSid", "WK000000000000000000000000000000aa"),
                ("WorkerActivitySid", "WA00000000000000000000000000000001"),
                ("WorkerPreviousActivitySid", "WA00000000000000000000000000000002"),
                ("WorkerTimeInPreviousActivity", "26"),
                ("WorkerChannelAvailable", "true"),
                ("WorkerChannelCapacity", "3"),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
            f.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
            Event::from_form(&f)
        };
        let e = worker(&[]).expect("valid");
        let k = e.keys().floor;
        assert_eq!(k.worker, Some(0xaa));
        assert_eq!(k.activity, Some(1));
        assert_eq!(k.previous_activity, Some(2));
        assert_eq!(k.time_in_previous_activity_ms, Some(26_000));
        assert_eq!(k.channel_available, Some(true));
        assert_eq!(k.channel_capacity, Some(3));
        let ms = worker(&[("WorkerTimeInPreviousActivityMs", "26123")]).expect("valid");
        assert_eq!(ms.keys().floor.time_in_previous_activity_ms, Some(26_123));
        assert!(worker(&[("WorkerChannelAvailable", "maybe")]).is_err());
        assert!(worker(&[("WorkerChannelCapacity", "x")]).is_err());
        assert!(worker(&[("WorkerPreviousActivitySid", "WAnothex")]).is_err());

        let q = Event::from_form(&form(&[
            ("EventType", "task-queue.entered"),
            ("TaskQueueSid", "WQ00000000000000000000000000000007"),
            ("TaskQueueEnteredDate", "1700000000"),
        ]))
        .expect("valid");
        assert_eq!(q.keys().floor.queue, Some(7));
        assert_eq!(q.keys().floor.queue_entered_ms, Some(1_700_000_000_000));
        // Task events carry the queue too, but no worker fields are looked at.
        let t =
            Event::from_form(&form(&[("TaskQueueSid", "WQ00000000000000000000000000000007"), ("WorkerSid", "bad")]))
                .expect("valid");
        assert_eq!(t.keys().floor.queue, Some(7));
        assert_eq!(t.keys().floor.worker, None);
        assert!(Event::from_form(&form(&[("TaskQueueSid", "WQ1")])).is_err());
        // Queue events name the queue as their resource.
        let created: Vec<(String, String)> = [
            ("EventType", "task-queue.created"),
            ("Sid", "EV00000000000000000000000000000003"),
            ("WorkspaceSid", "WS00000000000000000000000000000001"),
            ("Timestamp", "1692644679"),
            ("ResourceSid", "WQ00000000000000000000000000000009"),
            ("TaskQueueTargetExpression", "1==1"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(Event::from_form(&created).expect("valid").keys().floor.queue, Some(9));
        assert_eq!(parse_date_ms("2023-08-21T13:45:12Z"), Some(1_692_625_512_000));
        assert_eq!(parse_date_ms("1692625512203"), Some(1_692_625_512_203));
        assert_eq!(parse_date_ms("soon"), None);
        // Integer edges are read or ignored, never a panic.
        assert_eq!(parse_date_ms("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_date_ms("9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_date_ms("9223372036854775808"), None);
    }

    #[test]
    fn set_fields_checks_once_and_undoes_on_error() {
        let mut e = Event::from_form(&form(&[])).expect("valid");
        e.set_fields(&[("task_sid", "WT00000000000000000000000000000002".into()), ("task_priority", "3".into())])
            .expect("valid fields");
        assert_eq!((e.keys().task, e.keys().priority), (Some(2), Some(3)));
        let before = e.clone();
        assert!(e.set_fields(&[("task_priority", "4".into()), ("task_sid", "bad".into())]).is_err());
        assert_eq!(e, before);
    }

    #[test]
    fn resource_round_trip() {
        let e = Event::from_form(&form(&[("TaskPriority", "5")])).expect("valid");
        let r = e.to_resource("AC00000000000000000000000000000001", "http://127.0.0.1:8080");
        let back = Event::from_resource(r).expect("valid");
        assert_eq!(back, e);
        let stored =
            Event::from_stored(e.sid.as_str(), e.event_type.clone(), e.ts_ms, e.workspace_sid.as_str(), &e.data_json())
                .expect("valid");
        assert_eq!(stored, e);
    }
}
