//! Event callbacks (`POST /webhooks/taskrouter`: a signed form) and Event Streams batches
//! (CloudEvents) through the parsing and validation the webhooks use: the body decoded as
//! the handler decodes it, then `Event::from_form` / `eventstreams::parse_batch` and
//! `from_cloud_event`. Anything gives an `Event` or an `EventError`; a valid generated event
//! is accepted with the fields it was made of and survives every encoding the server
//! writes (the form and its signature, the stored row, the Events resource, a CloudEvent).

use std::collections::BTreeMap;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use wallboard::event::Event;
use wallboard::eventstreams::{self, Item};
use wallboard::signature;

use super::{cases, check};

pub const WEBHOOK_URL: &str = "https://wallboard.example/webhooks/taskrouter";
const AUTH_TOKEN: &str = "fuzz-auth-token";
const ACCOUNT: &str = "AC00000000000000000000000000000001";

/// Event types of every family the validation treats differently.
pub const TYPES: &[&str] = &[
    "task.created",
    "task.updated",
    "task.canceled",
    "task.completed",
    "task.wrapup",
    "task.deleted",
    "reservation.created",
    "reservation.accepted",
    "reservation.rejected",
    "reservation.timeout",
    "reservation.canceled",
    "reservation.rescinded",
    "reservation.completed",
    "reservation.wrapup",
    "workflow.target-matched",
    "workflow.entered",
    "workflow.timeout",
    "task-queue.entered",
    "task-queue.moved",
    "task-queue.timeout",
    "task-queue.created",
    "task-queue.deleted",
    "task-queue.expression.updated",
    "worker.activity.update",
    "worker.attributes.update",
    "worker.capacity.update",
    "worker.channel.availability.update",
    "worker.created",
    "worker.deleted",
    "activity.created",
    "activity.updated",
    "activity.deleted",
    "task-channel.created",
];

/// Every form field the validation reads, as TaskRouter names them.
pub const CHECKED_FIELDS: &[&str] = &[
    "EventType",
    "Sid",
    "WorkspaceSid",
    "TimestampMs",
    "Timestamp",
    "TaskSid",
    "WorkflowSid",
    "ReservationSid",
    "TaskChannelSid",
    "TaskPriority",
    "TaskDateCreated",
    "TaskAge",
    "ResourceSid",
    "TaskQueueSid",
    "TaskQueueEnteredDate",
    "WorkerSid",
    "WorkerActivitySid",
    "WorkerPreviousActivitySid",
    "WorkerTimeInPreviousActivityMs",
    "WorkerTimeInPreviousActivity",
    "WorkerChannelCapacity",
    "WorkerChannelAvailableCapacity",
    "WorkerChannelTaskCount",
    "WorkerChannelAvailable",
    "ActivitySid",
    "ActivityAvailable",
];

/// Text fields kept as they come (names, attributes, statuses).
const TEXT_FIELDS: &[&str] = &[
    "AccountSid",
    "WorkspaceName",
    "EventDescription",
    "TaskAttributes",
    "TaskAssignmentStatus",
    "TaskChannelUniqueName",
    "TaskQueueName",
    "WorkflowName",
    "WorkerName",
    "WorkerAttributes",
    "ActivityName",
    "TaskCanceledReason",
    "ResourceType",
];

/// Values that have broken parsers elsewhere: integer edges, signs, spaces, exponents,
/// other digits, SIDs of the wrong kind or length, dates in several forms.
pub const JUNK: &[&str] = &[
    "",
    " ",
    "0",
    "-0",
    "1",
    "-1",
    "+1",
    " 42 ",
    "1e3",
    "1.5",
    "0x10",
    "٣",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "-9223372036854775809",
    "99999999999999999999999",
    "253402300799999",
    "253402300800000",
    "100000000000",
    "-100000000000",
    "true",
    "false",
    "TRUE",
    "yes",
    "null",
    "NaN",
    "2023-08-21T13:45:12Z",
    "2023-08-21T13:45:12+14:00",
    "9999-12-31T23:59:59.999Z",
    "0000-01-01T00:00:00Z",
    "2023-02-30T00:00:00Z",
    "EV00000000000000000000000000000001",
    "WT00000000000000000000000000000001",
    "WTffffffffffffffffffffffffffffffff",
    "WTFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
    "WT0000000000000000000000000000000",
    "WT000000000000000000000000000000001",
    "WT0000000000000000000000000000000g",
    "WT0000000000000000000000000000000é",
    "WQ00000000000000000000000000000001",
    "WK00000000000000000000000000000001",
    "WA00000000000000000000000000000001",
    "WR00000000000000000000000000000001",
    "WW00000000000000000000000000000001",
    "TC00000000000000000000000000000001",
    "WS00000000000000000000000000000001",
    "\u{0}",
    "\u{feff}1",
    "{\"a\":[1,2,{\"b\":null}]}",
];

/// A junk value: from [`JUNK`], arbitrary text, or one near the field length limit.
pub fn junk() -> BoxedStrategy<String> {
    prop_oneof![
        6 => proptest::sample::select(JUNK).prop_map(str::to_owned),
        3 => "\\PC{0,40}",
        2 => "[0-9 +-]{0,24}",
        1 => (65_530usize..65_540).prop_map(|n| "x".repeat(n)),
    ]
    .boxed()
}

fn sid(prefix: &'static str) -> impl Strategy<Value = (String, u128)> {
    any::<u128>().prop_map(move |n| (format!("{prefix}{n:032x}"), n))
}

/// A valid event as its generator knows it: the form and what `Event` must read from it.
#[derive(Debug, Clone)]
pub struct Valid {
    pub form: Vec<(String, String)>,
    pub event_type: String,
    pub sid: u128,
    pub workspace: u128,
    pub ts_ms: i64,
    pub task: Option<u128>,
    pub workflow: Option<u128>,
    pub reservation: Option<u128>,
    pub priority: Option<i64>,
    pub worker: Option<u128>,
}

/// Valid callback forms of every event family, with the optional fields of their family
/// and text fields of any content.
pub fn valid_form() -> BoxedStrategy<Valid> {
    let ids = (sid("EV"), sid("WS"), sid("WT"), sid("WW"), sid("WR"), sid("WK"), sid("WQ"), sid("WA"));
    let numbers = (
        0i64..=253_402_300_799_999,
        any::<bool>(),
        proptest::option::of(any::<i64>()),
        proptest::option::of(0i64..=253_402_300_799),
        proptest::option::of(any::<i64>()),
        proptest::option::of(any::<bool>()),
    );
    let text = vec((proptest::sample::select(TEXT_FIELDS), "\\PC{0,24}"), 0..6);
    (proptest::sample::select(TYPES), ids, numbers, text, any::<bool>())
        .prop_map(|(event_type, ids, numbers, text, optional)| {
            let (
                (ev, sid),
                (ws, workspace),
                (wt, task),
                (ww, workflow),
                (wr, reservation),
                (wk, worker),
                (wq, _),
                (wa, _),
            ) = ids;
            let (ts_ms, in_seconds, priority, created, capacity, available) = numbers;
            let mut form: Vec<(String, String)> = Vec::new();
            let mut put = |k: &str, v: String| form.push((k.to_owned(), v));
            put("EventType", event_type.to_owned());
            put("Sid", ev);
            put("WorkspaceSid", ws);
            // Whole seconds may come as `Timestamp` alone (older callbacks).
            let ts_ms = if in_seconds { ts_ms - ts_ms % 1000 } else { ts_ms };
            if in_seconds {
                put("Timestamp", (ts_ms / 1000).to_string());
            } else {
                put("TimestampMs", ts_ms.to_string());
            }
            let task_family = wallboard::event::is_task_event(event_type);
            let reservation_family = event_type.starts_with("reservation.");
            let worker_family = event_type.starts_with("worker.") || reservation_family;
            let mut v = Valid {
                form: Vec::new(),
                event_type: event_type.to_owned(),
                sid,
                workspace,
                ts_ms,
                task: None,
                workflow: None,
                reservation: None,
                priority: None,
                worker: None,
            };
            if task_family || optional {
                put("TaskSid", wt);
                put("WorkflowSid", ww);
                v.task = Some(task);
                v.workflow = Some(workflow);
                if let Some(p) = priority {
                    put("TaskPriority", p.to_string());
                    v.priority = Some(p);
                }
                if let Some(c) = created {
                    put("TaskDateCreated", c.to_string());
                }
                put("TaskQueueSid", wq);
            }
            if reservation_family {
                put("ReservationSid", wr);
                v.reservation = Some(reservation);
            }
            if worker_family {
                put("WorkerSid", wk);
                v.worker = Some(worker);
                put("WorkerActivitySid", wa);
                if let Some(c) = capacity {
                    put("WorkerChannelCapacity", c.to_string());
                }
                if let Some(a) = available {
                    put("WorkerChannelAvailable", a.to_string());
                }
            }
            for (k, value) in text {
                put(k, value);
            }
            v.form = form;
            v
        })
        .boxed()
}

/// One change to a valid form.
#[derive(Debug, Clone)]
enum Mutation {
    Remove(prop::sample::Index),
    SetValue(prop::sample::Index, String),
    Insert(String, String),
    Duplicate(prop::sample::Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let key = prop_oneof![
        4 => proptest::sample::select(CHECKED_FIELDS).prop_map(str::to_owned),
        1 => proptest::sample::select(CHECKED_FIELDS).prop_map(wallboard::event::snake_case),
        1 => "[A-Za-z_]{1,12}",
        1 => "\\PC{0,8}",
    ];
    prop_oneof![
        any::<prop::sample::Index>().prop_map(Mutation::Remove),
        (any::<prop::sample::Index>(), junk()).prop_map(|(i, v)| Mutation::SetValue(i, v)),
        (key, junk()).prop_map(|(k, v)| Mutation::Insert(k, v)),
        any::<prop::sample::Index>().prop_map(Mutation::Duplicate),
    ]
}

/// Valid forms with one to four mutations: near the edge of what is accepted.
pub fn near_valid_form() -> BoxedStrategy<Vec<(String, String)>> {
    (valid_form(), vec(mutation(), 1..5))
        .prop_map(|(v, mutations)| {
            let mut form = v.form;
            for m in mutations {
                match m {
                    Mutation::Remove(i) if !form.is_empty() => {
                        form.remove(i.index(form.len()));
                    }
                    Mutation::SetValue(i, value) if !form.is_empty() => {
                        let at = i.index(form.len());
                        form[at].1 = value;
                    }
                    Mutation::Insert(k, value) => form.push((k, value)),
                    Mutation::Duplicate(i) if !form.is_empty() => {
                        let pair = form[i.index(form.len())].clone();
                        form.push(pair);
                    }
                    _ => {}
                }
            }
            form
        })
        .boxed()
}

/// Arbitrary bodies: raw bytes, and text made of a form's own characters.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        vec(any::<u8>(), 0..300),
        "[A-Za-z0-9_=&%+.:-]{0,300}".prop_map(String::into_bytes),
        "(([A-Z][a-z]+){1,3}=[A-Za-z0-9%+-]{0,40}&){0,12}".prop_map(String::into_bytes),
    ]
}

/// What the webhook does with a decoded form, and the round trips of an accepted event.
fn accept_or_refuse(pairs: &[(String, String)]) -> Result<Option<Event>, TestCaseError> {
    let Ok(event) = Event::from_form(pairs) else { return Ok(None) };
    round_trips(&event)?;
    Ok(Some(event))
}

/// An accepted event reads back the same from its stored row, from its Events resource and
/// (its own fields aside) from the CloudEvent Event Streams would send.
fn round_trips(e: &Event) -> Result<(), TestCaseError> {
    let stored =
        Event::from_stored(e.sid.as_str(), e.event_type.clone(), e.ts_ms, e.workspace_sid.as_str(), &e.data_json());
    prop_assert_eq!(stored.as_ref(), Ok(e), "the stored row reads back");
    let resource = Event::from_resource(e.to_resource(ACCOUNT, "http://127.0.0.1:8080"));
    prop_assert_eq!(resource.as_ref(), Ok(e), "the Events resource reads back");
    Ok(())
}

/// The CloudEvent of `e` reads back as `e`, less the payload fields that are the event's own
/// parts (`timestamp_ms`, …), which Event Streams carries elsewhere.
fn cloud_round_trip(e: &Event) -> Result<(), TestCaseError> {
    let cloud = eventstreams::to_cloud_event(e, ACCOUNT);
    let back = match eventstreams::from_cloud_event(&cloud) {
        Ok(Item::Event(b)) => *b,
        other => return Err(TestCaseError::fail(format!("the CloudEvent of {e:?} reads as {other:?}"))),
    };
    const OWN: &[&str] = &["sid", "eventtype", "event_type", "workspace_sid", "timestamp", "timestamp_ms"];
    let mut own_less: BTreeMap<&str, &str> = e.data().iter().filter(|(k, _)| !OWN.contains(k)).collect();
    // The payload names the account; the event's own `account_sid`, if any, wins.
    own_less.entry("account_sid").or_insert(ACCOUNT);
    let back_data: BTreeMap<&str, &str> = back.data().iter().collect();
    prop_assert_eq!(
        (&back.sid, &back.event_type, back.ts_ms, &back.workspace_sid),
        (&e.sid, &e.event_type, e.ts_ms, &e.workspace_sid)
    );
    prop_assert_eq!(back_data, own_less);
    Ok(())
}

#[test]
fn arbitrary_bodies_give_an_event_or_an_error() {
    check("callbacks::arbitrary_bodies", cases(), body(), |bytes| {
        // As the webhook: a body that is not a form is a 400 before any validation.
        if let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes) {
            accept_or_refuse(&pairs)?;
        }
        Ok(())
    });
}

#[test]
fn near_valid_forms_give_an_event_or_an_error() {
    check("callbacks::near_valid_forms", cases(), near_valid_form(), |form| {
        let accepted = accept_or_refuse(&form)?;
        // Whatever is accepted reads the SIDs the form named.
        if let Some(e) = accepted {
            prop_assert!(e.sid.as_str().starts_with("EV"));
            prop_assert!(e.workspace_sid.as_str().starts_with("WS"));
            prop_assert!((0..=253_402_300_799_999).contains(&e.ts_ms));
        }
        Ok(())
    });
}

#[test]
fn valid_forms_are_accepted_and_round_trip() {
    check("callbacks::valid_forms", cases(), valid_form(), |v| {
        // Over the wire: encoded as TaskRouter posts it, signed, decoded as the webhook does.
        let body = serde_urlencoded::to_string(&v.form).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(&body).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&pairs, &v.form);
        let sig = signature::compute(AUTH_TOKEN, WEBHOOK_URL, &v.form);
        prop_assert!(signature::is_valid(AUTH_TOKEN, WEBHOOK_URL, &pairs, &sig), "the signature survives the wire");
        let e = match Event::from_form(&pairs) {
            Ok(e) => e,
            Err(err) => return Err(TestCaseError::fail(format!("a valid form was refused: {err}"))),
        };
        let k = e.keys();
        prop_assert_eq!(&e.event_type, &v.event_type);
        prop_assert_eq!((k.sid, k.workspace, e.ts_ms), (v.sid, v.workspace, v.ts_ms));
        prop_assert_eq!(
            (k.task, k.workflow, k.reservation, k.priority),
            (v.task, v.workflow, v.reservation, v.priority)
        );
        prop_assert_eq!(k.floor.worker, v.worker);
        round_trips(&e)?;
        cloud_round_trip(&e)
    });
}

/// Arbitrary JSON bodies and CloudEvents of mutated forms at the Event Streams sink's parser.
#[test]
fn event_streams_batches_give_events_or_errors() {
    let batch = prop_oneof![
        vec(any::<u8>(), 0..200),
        "[\\[\\]{}\",:a-z0-9_. -]{0,200}".prop_map(String::into_bytes),
        vec(near_valid_form(), 0..3).prop_map(|forms| {
            // Each form's fields as a payload: strings, some as numbers or booleans.
            let items: Vec<serde_json::Value> = forms
                .iter()
                .map(|form| {
                    let payload: serde_json::Map<String, serde_json::Value> = form
                        .iter()
                        .map(|(k, v)| {
                            let value = v
                                .parse::<i64>()
                                .map(serde_json::Value::from)
                                .or_else(|_| v.parse::<bool>().map(serde_json::Value::from))
                                .unwrap_or_else(|_| serde_json::Value::from(v.as_str()));
                            (wallboard::event::snake_case(k), value)
                        })
                        .collect();
                    let kind = form.iter().find(|(k, _)| k == "EventType").map_or("", |(_, v)| v.as_str());
                    serde_json::json!({
                        "type": format!("{}{kind}", eventstreams::TYPE_PREFIX),
                        "time": "2026-12-02T04:00:00.000Z",
                        "data": {"payload": payload},
                    })
                })
                .collect();
            serde_json::to_vec(&items).unwrap_or_default()
        }),
    ];
    check("callbacks::event_streams_batches", cases(), batch, |body| {
        if let Ok(items) = eventstreams::parse_batch(&body) {
            for item in &items {
                let _ = eventstreams::id_and_type(item);
                if let Ok(Item::Event(e)) = eventstreams::from_cloud_event(item) {
                    round_trips(&e)?;
                }
            }
        }
        Ok(())
    });
}
