//! Twilio Event Streams as a door for events: a webhook sink receives a JSON array of
//! CloudEvents, `type` `com.twilio.taskrouter.<event type>`, the TaskRouter event in
//! `data.payload` with snake_case fields (the vocabulary [`Event`] already keeps).
//!
//! One mapping table, both ways ([`to_cloud_event`] for the simulator's driver and the
//! tests, [`from_cloud_event`] for the webhook):
//!
//! | CloudEvent | [`Event`] |
//! | --- | --- |
//! | `type` `com.twilio.taskrouter.task.created` (and `payload.eventtype`, which must agree) | `event_type` `task.created` |
//! | `payload.sid` (else `data.sid`): the TaskRouter event SID `EV…`, the same as a callback's `Sid` | `sid` |
//! | `payload.workspace_sid` | `workspace_sid` |
//! | `payload.timestamp_ms`, else `payload.timestamp` (RFC 3339, or epoch seconds), else the envelope's `time` | `ts_ms` |
//! | `payload.task_date_created` (RFC 3339, or epoch seconds) | `task_date_created` (epoch seconds, as callbacks send it) |
//! | every other `payload` field: strings as they are, numbers and booleans as text, objects and arrays as JSON text, `null` left out | the field of the same name |
//!
//! The event SID is how a delivery is recognised: the same event arriving as a callback and
//! through Event Streams (or twice through either) is stored once (the log is idempotent on
//! the SID). The sink's test event (`com.twilio.eventstreams.test-event`) maps to
//! [`Item::Test`].

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use wallboard_shared::time::to_datetime;

use crate::event::{Event, EventError};

/// The CloudEvents `type` prefix of TaskRouter events.
pub const TYPE_PREFIX: &str = "com.twilio.taskrouter.";
/// The `type` of the test event Twilio sends to a new sink.
pub const TEST_EVENT_TYPE: &str = "com.twilio.eventstreams.test-event";
/// The `dataschema` this module writes; it reads fields by name, so versions 1 to 4 of the
/// TaskRouter schema are understood alike (`worker_time_in_previous_activity_ms` is read
/// when present, version 2 on).
pub const DATASCHEMA: &str = "https://events-schemas.twilio.com/TaskRouter.WDSEvent/4";
/// Events in one batch at most (a bigger body is refused as a whole).
pub const MAX_BATCH: usize = 10_000;

/// Payload fields that are numbers in Event Streams (text in callback forms).
const NUMBERS: &[&str] = &[
    "task_age",
    "task_priority",
    "worker_time_in_previous_activity",
    "worker_time_in_previous_activity_ms",
    "worker_channel_capacity",
    "worker_channel_available_capacity",
    "worker_channel_task_count",
    "worker_channel_previous_capacity",
];
/// Payload fields that are booleans in Event Streams.
const BOOLEANS: &[&str] = &["worker_channel_available", "activity_available", "worker_activity_available"];
/// Payload fields that are RFC 3339 dates in Event Streams and epoch seconds in callbacks.
const DATES: &[&str] = &["task_date_created"];
/// Payload fields that make the event's own parts, not its data.
const OWN: &[&str] = &["sid", "eventtype", "event_type", "workspace_sid", "timestamp", "timestamp_ms"];

/// One CloudEvent of a batch, understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Event(Box<Event>),
    /// The sink's test event: its `test_id` validates the sink.
    Test {
        test_id: String,
    },
}

/// The CloudEvents of a body: a JSON array of them (a single object is taken as one).
pub fn parse_batch(body: &[u8]) -> Result<Vec<Value>, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let items = match value {
        Value::Array(items) => items,
        item @ Value::Object(_) => vec![item],
        _ => return Err("the body must be a JSON array of CloudEvents".into()),
    };
    if items.len() > MAX_BATCH {
        return Err(format!("{} events in one batch; at most {MAX_BATCH}", items.len()));
    }
    Ok(items)
}

/// The `id` and `type` of a CloudEvent, as far as they are strings (for reports and logs).
pub fn id_and_type(v: &Value) -> (Option<String>, Option<String>) {
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(|s| s.chars().take(100).collect());
    (text("id"), text("type"))
}

fn rfc3339_ms(ms: i64) -> String {
    to_datetime(ms).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn parse_rfc3339_ms(name: &str, v: &str) -> Result<i64, EventError> {
    chrono::DateTime::parse_from_rfc3339(v.trim())
        .map(|d| d.timestamp_millis())
        .map_err(|_| EventError(format!("{name} '{}' is not an RFC 3339 date", v.chars().take(40).collect::<String>())))
}

/// What a bare integer of a time field counts.
#[derive(Debug, Clone, Copy)]
enum Unit {
    Seconds,
    Milliseconds,
}

/// A time field as milliseconds: an RFC 3339 date (what Event Streams sends), or an
/// integer (a number or digits) in `unit` (what callbacks send: `Timestamp` in seconds,
/// `TimestampMs` in milliseconds).
fn instant_ms(name: &str, v: &Value, unit: Unit) -> Result<i64, EventError> {
    let integer = match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    match (integer, v) {
        (Some(n), _) => match unit {
            Unit::Seconds => n.checked_mul(1000).ok_or_else(|| EventError(format!("{name} is out of range"))),
            Unit::Milliseconds => Ok(n),
        },
        (None, Value::String(s)) => parse_rfc3339_ms(name, s),
        (None, _) => Err(EventError(format!("{name} is neither an RFC 3339 date nor an integer"))),
    }
}

/// The CloudEvent Event Streams would deliver for `e` (schema version 4).
pub fn to_cloud_event(e: &Event, account_sid: &str) -> Value {
    let mut payload = Map::new();
    payload.insert("sid".into(), json!(e.sid.to_string()));
    payload.insert("eventtype".into(), json!(e.event_type));
    payload.insert("account_sid".into(), json!(account_sid));
    payload.insert("workspace_sid".into(), json!(e.workspace_sid.to_string()));
    payload.insert("timestamp".into(), json!(rfc3339_ms(e.ts_ms)));
    for (k, v) in e.data() {
        if OWN.contains(&k) {
            continue;
        }
        let value = if NUMBERS.contains(&k) {
            v.parse::<i64>().map_or_else(|_| json!(v), |n| json!(n))
        } else if BOOLEANS.contains(&k) {
            v.parse::<bool>().map_or_else(|_| json!(v), |b| json!(b))
        } else if DATES.contains(&k) {
            v.parse::<i64>().ok().and_then(|s| s.checked_mul(1000)).map_or_else(|| json!(v), |ms| json!(rfc3339_ms(ms)))
        } else {
            json!(v)
        };
        payload.insert(k.to_owned(), value);
    }
    json!({
        "specversion": "1.0",
        "type": format!("{TYPE_PREFIX}{}", e.event_type),
        "source": format!("/v1/Workspaces/{}/Events/{}", e.workspace_sid, e.sid),
        "id": e.sid.to_string(),
        "dataschema": DATASCHEMA,
        "datacontenttype": "application/json",
        "time": rfc3339_ms(e.ts_ms),
        "data": {
            "sid": e.sid.to_string(),
            "account_sid": account_sid,
            "timestamp": rfc3339_ms(e.ts_ms),
            "product_name": "TaskRouter",
            "payload_type": "application/json",
            "payload": Value::Object(payload),
        },
    })
}

/// The [`Item`] of one CloudEvent, or why it cannot be one.
pub fn from_cloud_event(v: &Value) -> Result<Item, EventError> {
    let err = |m: &str| EventError(m.to_owned());
    let Value::Object(envelope) = v else { return Err(err("a CloudEvent must be a JSON object")) };
    let kind = envelope.get("type").and_then(Value::as_str).ok_or_else(|| err("missing type"))?;
    let data = envelope.get("data").and_then(Value::as_object);
    if kind == TEST_EVENT_TYPE {
        let test_id = data.and_then(|d| d.get("test_id")).and_then(Value::as_str).unwrap_or_default();
        return Ok(Item::Test { test_id: test_id.chars().take(100).collect() });
    }
    let event_type = kind.strip_prefix(TYPE_PREFIX).ok_or_else(|| {
        EventError(format!(
            "type '{}' is not a TaskRouter event ({TYPE_PREFIX}…)",
            kind.chars().take(80).collect::<String>()
        ))
    })?;
    let payload = data
        .and_then(|d| d.get("payload"))
        .and_then(Value::as_object)
        .ok_or_else(|| err("missing data.payload (the TaskRouter event)"))?;
    let text = |k: &str| payload.get(k).and_then(Value::as_str);
    if let Some(t) = text("eventtype").or_else(|| text("event_type"))
        && t != event_type
    {
        return Err(EventError(format!(
            "payload.eventtype '{}' disagrees with type {kind}",
            t.chars().take(64).collect::<String>()
        )));
    }
    let sid = text("sid")
        .or_else(|| data.and_then(|d| d.get("sid")).and_then(Value::as_str))
        .ok_or_else(|| err("missing payload.sid (the event's EV… SID)"))?;
    let workspace_sid = text("workspace_sid").ok_or_else(|| err("missing payload.workspace_sid"))?;
    let ts_ms = match (payload.get("timestamp_ms"), payload.get("timestamp"), envelope.get("time")) {
        (Some(v), _, _) => instant_ms("payload.timestamp_ms", v, Unit::Milliseconds)?,
        (None, Some(v), _) => instant_ms("payload.timestamp", v, Unit::Seconds)?,
        (None, None, Some(v)) => instant_ms("time", v, Unit::Seconds)?,
        (None, None, None) => return Err(err("missing payload.timestamp")),
    };
    let mut fields = BTreeMap::new();
    for (k, v) in payload {
        if OWN.contains(&k.as_str()) {
            continue;
        }
        let value = match v {
            Value::Null => continue,
            v if DATES.contains(&k.as_str()) => instant_ms(k, v, Unit::Seconds)?.div_euclid(1000).to_string(),
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            other => other.to_string(),
        };
        fields.insert(crate::event::snake_case(k), value);
    }
    Event::from_parts(sid.to_owned(), event_type.to_owned(), ts_ms, workspace_sid.to_owned(), fields)
        .map(|e| Item::Event(Box::new(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of Twilio's Event Streams documentation (schema version 4), trimmed.
    #[test]
    fn the_documented_example_reads() {
        let ce = json!({
            "specversion": "1.0",
            "type": "com.twilio.taskrouter.reservation.created",
            "source": "AB00000000000000000000000001",
            "id": "NO00000000000000000000000001",
            "dataschema": "https://events-schemas.twilio.com/TaskRouter.WDSEvent/4",
            "data": {
                "sid": "EV00000000000000000000000000000001",
                "account_sid": "AC00000000000000000000000000000001",
                "timestamp": "2025-01-01T00:00:00.000Z",
                "payload_type": "application/json",
                "payload": {
                    "sid": "EV00000000000000000000000000000001",
                    "eventtype": "reservation.created",
                    "account_sid": "AC00000000000000000000000000000001",
                    "timestamp": "2025-01-01T00:00:00.000Z",
                    "workspace_sid": "WS00000000000000000000000000000001",
                    "workspace_name": "Flex Task Assignment",
                    "task_sid": "WT00000000000000000000000000000001",
                    "task_attributes": "{}",
                    "task_age": 31088,
                    "task_date_created": "2025-01-01T00:00:00.000Z",
                    "task_priority": 1,
                    "task_assignment_status": "reserved",
                    "task_channel_unique_name": "voice",
                    "workflow_sid": "WW00000000000000000000000000000001",
                    "reservation_sid": "WR00000000000000000000000000000001",
                    "worker_sid": "WK00000000000000000000000000000001",
                    "worker_channel_available": true,
                    "task_queue_sid": "WQ00000000000000000000000000000001",
                    "nothing": null
                }
            }
        });
        let Item::Event(e) = from_cloud_event(&ce).expect("reads") else { panic!("not an event") };
        assert_eq!(e.event_type, "reservation.created");
        assert_eq!(e.ts_ms, 1_735_689_600_000);
        assert_eq!(e.get("task_date_created"), Some("1735689600"), "epoch seconds, as callbacks send it");
        assert_eq!(e.get("task_age"), Some("31088"));
        assert_eq!(e.get("worker_channel_available"), Some("true"));
        assert_eq!(e.get("nothing"), None);
        assert_eq!(e.keys().date_created_ms, Some(1_735_689_600_000));
        assert!(e.keys().reservation.is_some());

        // Integers where dates are expected: epoch seconds (milliseconds for `timestamp_ms`).
        let mut ce = ce;
        ce["data"]["payload"]["task_date_created"] = json!("1735689600");
        ce["data"]["payload"]["timestamp"] = json!(1_735_689_601);
        let Item::Event(e) = from_cloud_event(&ce).expect("reads") else { panic!("not an event") };
        assert_eq!((e.ts_ms, e.get("task_date_created")), (1_735_689_601_000, Some("1735689600")));
        ce["data"]["payload"]["timestamp_ms"] = json!("1735689601234");
        let Item::Event(e) = from_cloud_event(&ce).expect("reads") else { panic!("not an event") };
        assert_eq!(e.ts_ms, 1_735_689_601_234);
        ce["data"]["payload"]["timestamp_ms"] = json!(true);
        assert!(from_cloud_event(&ce).is_err());
    }
}
