//! Trends from the server: a subscription that asks for `history_minutes` gets its view's
//! realtime numbers at every 10-second boundary first, then its snapshots; the same after a
//! restart on the same SQLite file (the log is replayed into the trends).

use std::sync::Arc;

use serde_json::{Value, json};
use wallboard::clock::ManualClock;
use wallboard_shared::ws::{History, ServerMessage};

use super::helpers::{Form, TestApp, WsClient, serve_args, spawn_app_with};
use super::scenario::{D, SALES, WS, task_sid};

/// A boundary: 2026-11-27T10:00:00Z.
const N0: i64 = D + 2 * 3_600_000;

fn event(kind: &str, n: u32, at_s: i64, task: u32, channel: &str) -> Form {
    let mut f = Form::new(kind, 50_000 + n, N0 + at_s * 1000, WS)
        .with("TaskSid", task_sid(9_000 + task))
        .with("WorkflowSid", SALES)
        .with("WorkflowName", "Sales")
        .with("TaskChannelUniqueName", channel)
        .with("TaskPriority", 0)
        .with("TaskQueueSid", queue_of(task))
        .with("TaskQueueName", if task == 3 { "Second line" } else { "First line" });
    if kind.starts_with("reservation.") {
        f = f.with("ReservationSid", format!("WR{:032x}", 9_000 + task));
    }
    f
}

/// A and B wait in the first line's queue, C in the second's.
fn queue_of(task: u32) -> String {
    format!("WQ{:032x}", if task == 3 { 2 } else { 1 })
}

/// Five minutes of Sales, each event posted when the clock shows its time: A (voice)
/// created at 5 s, B (chat) at 65 s; A reserved at 130 s, accepted at 140 s; B canceled
/// at 200 s; C (voice) created at 250 s. The clock ends at 300 s.
async fn five_minutes(app: &TestApp, clock: &ManualClock) {
    let script = [
        ("task.created", 5, 1, "voice"),
        ("task.created", 65, 2, "chat"),
        ("reservation.created", 130, 1, "voice"),
        ("reservation.accepted", 140, 1, "voice"),
        ("task.canceled", 200, 2, "chat"),
        ("task.created", 250, 3, "voice"),
    ];
    for (n, (kind, at_s, task, channel)) in (1..).zip(script) {
        clock.set(N0 + at_s * 1000);
        assert_eq!(app.post_event(&event(kind, n, at_s, task, channel).0).await, reqwest::StatusCode::NO_CONTENT);
    }
    clock.set(N0 + 300_000);
}

/// The state at each boundary `t` (seconds after N0), worked out by hand from the script:
/// `[pending, reserved, assigned, wrapping, longest wait]`. A sample is the state before
/// the events at its instant (an event exactly at a boundary counts from the next one).
fn expected(t: i64) -> [u64; 5] {
    let t = t as u64;
    match t {
        10..=60 => [1, 0, 0, 0, t - 5],     // A waits
        70..=130 => [2, 0, 0, 0, t - 5],    // A and B wait; A is the longest
        140 => [1, 1, 0, 0, t - 65],        // A reserved, B waits
        150..=200 => [1, 0, 1, 0, t - 65],  // A assigned, B waits
        210..=250 => [0, 0, 1, 0, 0],       // B canceled
        260..=300 => [1, 0, 1, 0, t - 250], // C waits
        _ => panic!("no sample expected at {t} s"),
    }
}

fn subscribe(id: &str, history_minutes: Option<Value>, channel: Option<&str>) -> Value {
    subscribe_to(id, json!({"kind": "workflow", "sid": SALES}), history_minutes, channel)
}

fn subscribe_to(id: &str, target: Value, history_minutes: Option<Value>, channel: Option<&str>) -> Value {
    let mut v = json!({"type": "subscribe", "id": id, "workspace_sid": WS, "target": target});
    if let Some(m) = history_minutes {
        v["history_minutes"] = m;
    }
    if let Some(c) = channel {
        v["task_channel"] = c.into();
    }
    v
}

/// Subscribes with a history of `minutes`: the next frame is the history, the one after it
/// the subscription's first snapshot.
async fn history_then_snapshot(c: &mut WsClient, id: &str, minutes: u32, channel: Option<&str>) -> History {
    history_of(c, subscribe(id, Some(minutes.into()), channel), id).await
}

async fn history_of(c: &mut WsClient, subscribe: Value, id: &str) -> History {
    c.send(&subscribe).await;
    let ServerMessage::History(h) = c.recv_message().await else { panic!("the history comes first") };
    let next = c.recv_message().await;
    assert!(matches!(&next, ServerMessage::Snapshot(s) if s.id == id), "then the snapshot: {next:?}");
    assert_eq!(h.id, id);
    h
}

fn rows(h: &History) -> Vec<(i64, [u64; 5])> {
    let start = chrono::DateTime::parse_from_rfc3339(&h.start).expect("start is a time").timestamp_millis();
    (0..).zip(&h.samples).map(|(i, s)| ((start - N0) / 1000 + i * h.interval_ms / 1000, *s)).collect()
}

#[tokio::test]
async fn a_subscription_gets_the_last_minutes_first_and_the_same_after_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(ManualClock::new(N0));
    let app = spawn_app_with(serve_args(dir.path()), clock.clone()).await;
    five_minutes(&app, &clock).await;

    let mut c = app.ws().await;
    let h = history_then_snapshot(&mut c, "s1", 5, None).await;
    assert_eq!(h.interval_ms, 10_000);
    // Nothing before the first boundary after the first event (5 s): the trend starts at 10 s.
    assert_eq!(h.start, "2026-11-27T10:00:10Z");
    let got = rows(&h);
    let want: Vec<(i64, [u64; 5])> = (1..=30).map(|i| (i * 10, expected(i * 10))).collect();
    assert_eq!(got, want);

    // Asked for two minutes: the last 12 boundaries (180 s … 300 s, both ends included).
    let h = history_then_snapshot(&mut c, "s2", 2, None).await;
    assert_eq!(rows(&h), (18..=30).map(|i| (i * 10, expected(i * 10))).collect::<Vec<_>>());

    // One channel: chat is B alone (created 65 s, canceled 200 s).
    let h = history_then_snapshot(&mut c, "s3", 5, Some("chat")).await;
    let chat: Vec<(i64, [u64; 5])> = rows(&h).into_iter().filter(|(_, s)| *s != [0; 5]).collect();
    assert_eq!(chat, (7..=20).map(|i| (i * 10, [1, 0, 0, 0, (i * 10 - 65) as u64])).collect::<Vec<_>>());

    // A task queue's trend: the first line holds A and B (C waits in the second line).
    let first_line = json!({"kind": "task_queue", "sid": queue_of(1)});
    let h = history_of(&mut c, subscribe_to("q1", first_line.clone(), Some(json!(5)), None), "q1").await;
    let first: Vec<(i64, [u64; 5])> = (1..=30)
        .map(|i| {
            let t = i * 10;
            (t, if t >= 260 { [0, 0, 1, 0, 0] } else { expected(t) })
        })
        .collect();
    assert_eq!(rows(&h), first);
    let second = json!({"kind": "task_queue", "sid": queue_of(3)});
    let h = history_of(&mut c, subscribe_to("q2", second, Some(json!(5)), Some("voice")), "q2").await;
    let waiting: Vec<(i64, [u64; 5])> = rows(&h).into_iter().filter(|(_, s)| *s != [0; 5]).collect();
    assert_eq!(waiting, (26..=30).map(|i| (i * 10, [1, 0, 0, 0, (i * 10 - 250) as u64])).collect::<Vec<_>>());
    // Workers have no trend: their numbers are agents, not tasks.
    let h = history_of(&mut c, subscribe_to("w", json!({"kind": "workers"}), Some(json!(5)), None), "w").await;
    assert!(h.samples.is_empty(), "{h:?}");

    // Without `history_minutes` there is no history frame: v1 clients see what they knew.
    c.send(&subscribe("plain", None, None)).await;
    assert!(matches!(c.recv_message().await, ServerMessage::Snapshot(s) if s.id == "plain"));

    // The same history after a restart on the same file: the log is replayed into it.
    app.stop().await;
    let app = spawn_app_with(serve_args(dir.path()), clock.clone()).await;
    let mut c = app.ws().await;
    let again = history_then_snapshot(&mut c, "s1", 5, None).await;
    assert_eq!(rows(&again), want);
    let again = history_of(&mut c, subscribe_to("q1", first_line, Some(json!(5)), None), "q1").await;
    assert_eq!(rows(&again), first, "the queue's trend is replayed too");
    app.stop().await;
}

#[tokio::test]
async fn a_bad_history_request_is_refused_and_subscribes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(ManualClock::new(N0));
    let app = spawn_app_with(serve_args(dir.path()), clock.clone()).await;
    five_minutes(&app, &clock).await;
    let mut c = app.ws().await;
    for bad in [json!(0), json!(1441)] {
        c.send(&subscribe("bad", Some(bad.clone()), None)).await;
        let (id, code, message) = c.recv_error().await;
        assert_eq!((id.as_deref(), code), (Some("bad"), 20001), "{bad}: {message}");
        assert!(message.contains("history_minutes must be 1 to 1440"), "{message}");
    }
    for bad in [json!(-5), json!("60"), json!(1.5)] {
        c.send(&subscribe("bad", Some(bad.clone()), None)).await;
        let (id, code, _) = c.recv_error().await;
        assert_eq!((id.as_deref(), code), (Some("bad"), 20001), "{bad}");
    }
    // Nothing was subscribed: no snapshot for "bad" arrives before the pong.
    assert!(c.sync().await.is_empty());
    // A whole day is allowed (the trend holds what it has: five minutes here).
    let h = history_then_snapshot(&mut c, "day", 1440, None).await;
    assert_eq!(h.samples.len(), 30);
    app.stop().await;
}
