//! WebSocket client frames: the session decodes a text frame as a `ClientMessage` and checks
//! a subscription with `ws::session::check_subscription` before it looks names up in the
//! engine. Arbitrary and mutated frames give a message or an error, and a refused
//! subscription is an `invalid parameter` error frame; generated valid subscriptions, in
//! every form the protocol allows, are accepted as what they ask for.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{Map, Value, json};
use wallboard::ws::session::check_subscription;
use wallboard_shared::error::codes;
use wallboard_shared::query::MAX_THRESHOLDS;
use wallboard_shared::ws::{ClientMessage, CumulativeRequest, Target, TargetKind, TargetRequest};

use super::callbacks::JUNK;
use super::query::{NOW_MS, RETENTION_MS};
use super::{cases, check};

/// The names a client frame may hold, and one it may not.
const KEYS: &[&str] = &[
    "type",
    "id",
    "workspace_sid",
    "workflow_sid",
    "task_channel",
    "cumulative",
    "target",
    "kind",
    "sid",
    "token",
    "minutes",
    "start_date",
    "end_date",
    "split_by_wait_time",
    "extra",
];

const STRINGS: &[&str] = &[
    "subscribe",
    "unsubscribe",
    "ping",
    "auth",
    "watch_alerts",
    "workflow",
    "task_queue",
    "workspace",
    "workers",
    "WS00000000000000000000000000000001",
    "WW00000000000000000000000000000001",
    "WQ00000000000000000000000000000001",
    "voice",
    "2026-11-30",
    "2026-12-02T03:00:00Z",
    "1970-01-01",
];

/// Arbitrary JSON made of the protocol's names and values and of junk.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u32>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        proptest::sample::select(STRINGS).prop_map(Value::from),
        proptest::sample::select(JUNK).prop_map(Value::from),
        "\\PC{0,70}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            vec((proptest::sample::select(KEYS), inner), 0..7)
                .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    })
}

/// What the session does with a frame's text before the engine: decode, then check a
/// subscription. Refusals are typed: an error, or (code, message) with `invalid parameter`.
fn handle(text: &str) -> Result<(), TestCaseError> {
    let Ok(message) = serde_json::from_str::<ClientMessage>(text) else { return Ok(()) };
    if let ClientMessage::Subscribe { workspace_sid, workflow_sid, cumulative, target, .. } = message
        && let Err((code, message)) = check_subscription(
            &workspace_sid,
            &workflow_sid,
            target.as_ref(),
            cumulative.as_ref(),
            NOW_MS,
            RETENTION_MS,
        )
    {
        prop_assert_eq!(code, codes::INVALID_PARAMETER, "{}", message);
        prop_assert!(!message.is_empty());
    }
    Ok(())
}

/// Arbitrary text: JSON of the protocol's names and values, JSON-ish characters, any text.
fn arbitrary_frame() -> BoxedStrategy<String> {
    prop_oneof![
        3 => json_value().prop_map(|v| v.to_string()),
        1 => "[\\[\\]{}\",:a-z0-9_. -]{0,120}",
        1 => "\\PC{0,120}",
    ]
    .boxed()
}

#[test]
fn arbitrary_frames_give_a_message_or_an_error() {
    check("ws_frames::arbitrary_frames", cases(), arbitrary_frame(), |text| handle(&text));
}

/// A valid subscribe frame: the message the client means and the JSON it writes.
fn valid_subscribe() -> impl Strategy<Value = (ClientMessage, Value)> {
    let target = prop_oneof![
        Just(None),
        "[0-9a-f]{32}".prop_map(|h| Some(TargetRequest::Workflow { sid: format!("WW{h}") })),
        "[0-9a-f]{32}".prop_map(|h| Some(TargetRequest::TaskQueue { sid: format!("WQ{h}") })),
        Just(Some(TargetRequest::Workspace)),
        Just(Some(TargetRequest::Workers)),
    ];
    let days = (NOW_MS - RETENTION_MS) / 86_400_000 + 1..=NOW_MS / 86_400_000;
    let window = prop_oneof![
        (1u32..=43_200).prop_map(|m| (Some(m), None, None)),
        (days.clone(), proptest::option::of(days)).prop_map(|(a, b)| {
            let day = |d: i64| {
                chrono::DateTime::from_timestamp(d * 86_400, 0).unwrap_or_default().format("%Y-%m-%d").to_string()
            };
            let (start, end) = match b {
                Some(b) => (a.min(b), Some(day(a.max(b)))),
                None => (a, None),
            };
            (None, Some(day(start)), end)
        }),
    ];
    // An empty split (`[]`) is refused, as an empty `SplitByWaitTime` is on REST.
    let cumulative = proptest::option::of((window, proptest::option::of(vec(0u32..=3600, 1..=MAX_THRESHOLDS))));
    ("[A-Za-z0-9_.:-]{1,64}", "[0-9a-f]{32}", "[0-9a-f]{32}", target, proptest::option::of("[a-z]{1,12}"), cumulative)
        .prop_map(|(id, ws, wf, target, task_channel, cumulative)| {
            let cumulative = cumulative.map(|((minutes, start_date, end_date), split)| CumulativeRequest {
                minutes,
                start_date,
                end_date,
                // The workers' statistics take no split.
                split_by_wait_time: split.filter(|_| target != Some(TargetRequest::Workers)),
            });
            let workflow_sid = if target.is_none() { format!("WW{wf}") } else { String::new() };
            let message = ClientMessage::Subscribe {
                id: id.clone(),
                workspace_sid: format!("WS{ws}"),
                workflow_sid: workflow_sid.clone(),
                task_channel: task_channel.clone(),
                cumulative: cumulative.clone(),
                target: target.clone(),
                history_minutes: None,
            };
            // As a client writes it by hand: only the fields it uses.
            let mut frame = Map::new();
            frame.insert("type".into(), json!("subscribe"));
            frame.insert("id".into(), json!(id));
            frame.insert("workspace_sid".into(), json!(format!("WS{ws}")));
            if !workflow_sid.is_empty() {
                frame.insert("workflow_sid".into(), json!(workflow_sid));
            }
            if let Some(c) = task_channel {
                frame.insert("task_channel".into(), json!(c));
            }
            if let Some(c) = &cumulative {
                frame.insert("cumulative".into(), serde_json::to_value(c).unwrap_or_default());
            }
            if let Some(t) = &target {
                frame.insert("target".into(), serde_json::to_value(t).unwrap_or_default());
            }
            (message, Value::Object(frame))
        })
}

#[test]
fn valid_subscriptions_are_accepted() {
    check("ws_frames::valid_subscriptions", cases(), valid_subscribe(), |(message, frame)| {
        let text = frame.to_string();
        let decoded = serde_json::from_str::<ClientMessage>(&text)
            .map_err(|e| TestCaseError::fail(format!("{text} is refused: {e}")))?;
        prop_assert_eq!(&decoded, &message);
        // The shared encoder (the dashboard's) writes a frame that decodes the same.
        let encoded = serde_json::to_string(&message).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let reread = serde_json::from_str::<ClientMessage>(&encoded).ok();
        prop_assert_eq!(reread.as_ref(), Some(&message));
        let ClientMessage::Subscribe { workspace_sid, workflow_sid, cumulative, target, .. } = message else {
            return Err(TestCaseError::fail("a subscribe message"));
        };
        let checked = check_subscription(
            &workspace_sid,
            &workflow_sid,
            target.as_ref(),
            cumulative.as_ref(),
            NOW_MS,
            RETENTION_MS,
        )
        .map_err(|(code, m)| TestCaseError::fail(format!("{text} is refused: {code} {m}")))?;
        prop_assert_eq!(checked.workspace.as_str(), workspace_sid.as_str());
        let want = match (&target, workflow_sid.as_str()) {
            (None, wf) => (TargetKind::Workflow, Some(wf.to_owned())),
            (Some(TargetRequest::Workflow { sid }), _) => (TargetKind::Workflow, Some(sid.clone())),
            (Some(TargetRequest::TaskQueue { sid }), _) => (TargetKind::TaskQueue, Some(sid.clone())),
            (Some(TargetRequest::Workspace), _) => (TargetKind::Workspace, None),
            (Some(TargetRequest::Workers), _) => (TargetKind::Workers, None),
        };
        let got_sid = match &checked.target {
            Target::Workflow(s) => Some(s.to_string()),
            Target::TaskQueue(s) => Some(s.to_string()),
            Target::Workspace | Target::Workers => None,
        };
        prop_assert_eq!((checked.target.kind(), got_sid), want);
        prop_assert_eq!(checked.query.is_some(), cumulative.is_some());
        if let Some(q) = &checked.query {
            let w = q
                .window
                .resolve(NOW_MS, RETENTION_MS)
                .map_err(|e| TestCaseError::fail(format!("{text}: the window {e}")))?;
            prop_assert!(w.start_ms <= w.end_ms && w.end_ms <= NOW_MS, "{text} gives {w:?}");
        }
        Ok(())
    });
}

/// One change to a valid frame's JSON.
#[derive(Debug, Clone)]
enum Change {
    Remove(prop::sample::Index),
    Set(prop::sample::Index, Value),
    Add(&'static str, Value),
    Nested(&'static str, &'static str, Value),
}

/// Valid subscribe frames with one to three changes: a key removed, a value replaced by
/// arbitrary JSON, a key added at the top or inside `cumulative` or `target`.
pub fn near_valid_frame() -> BoxedStrategy<String> {
    let change = prop_oneof![
        any::<prop::sample::Index>().prop_map(Change::Remove),
        (any::<prop::sample::Index>(), json_value()).prop_map(|(i, v)| Change::Set(i, v)),
        (proptest::sample::select(KEYS), json_value()).prop_map(|(k, v)| Change::Add(k, v)),
        (proptest::sample::select(&["cumulative", "target"][..]), proptest::sample::select(KEYS), json_value())
            .prop_map(|(o, k, v)| Change::Nested(o, k, v)),
    ];
    (valid_subscribe(), vec(change, 1..4))
        .prop_map(|((_, frame), changes)| {
            let Value::Object(mut frame) = frame else { return frame.to_string() };
            for c in changes {
                let keys: Vec<String> = frame.keys().cloned().collect();
                if keys.is_empty() {
                    break;
                }
                match c {
                    Change::Remove(i) => {
                        frame.remove(&keys[i.index(keys.len())]);
                    }
                    Change::Set(i, v) => {
                        frame.insert(keys[i.index(keys.len())].clone(), v);
                    }
                    Change::Add(k, v) => {
                        frame.insert(k.to_owned(), v);
                    }
                    Change::Nested(outer, k, v) => {
                        if let Some(Value::Object(inner)) = frame.get_mut(outer) {
                            inner.insert(k.to_owned(), v);
                        }
                    }
                }
            }
            Value::Object(frame).to_string()
        })
        .boxed()
}

/// Any client frame: arbitrary, near-valid or valid.
pub fn any_frame() -> BoxedStrategy<String> {
    prop_oneof![arbitrary_frame(), near_valid_frame(), valid_subscribe().prop_map(|(_, frame)| frame.to_string()),]
        .boxed()
}

#[test]
fn near_valid_subscriptions_give_a_message_or_an_error() {
    check("ws_frames::near_valid_subscriptions", cases(), near_valid_frame(), |text| handle(&text));
}
