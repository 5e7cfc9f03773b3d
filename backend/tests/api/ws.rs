//! The WebSocket fan-out: protocol v1 against the real server.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wallboard_shared::resources::{WorkflowCumulativeStatistics, WorkflowRealTimeStatistics};
use wallboard_shared::ws::ServerMessage;

use super::helpers::{Form, TIMEOUT, TestApp, basic_auth, serve_args, spawn_app, spawn_app_with};
use super::scenario::{self, NOW, SALES, WS, sales, task_sid};

fn subscribe(id: &str, cumulative: Option<Value>) -> Value {
    let mut v = json!({"type": "subscribe", "id": id, "workspace_sid": WS, "workflow_sid": SALES});
    if let Some(c) = cumulative {
        v["cumulative"] = c;
    }
    v
}

/// The subscription a frame is about, if any.
fn id_of(m: &ServerMessage) -> Option<&str> {
    match m {
        ServerMessage::Snapshot(s) => Some(&s.id),
        ServerMessage::Error { id, .. } => id.as_deref(),
        _ => None,
    }
}

/// A new pending task in Sales, now.
fn new_task(n: u32) -> Form {
    Form::new("task.created", 10_000 + n, NOW - 1_000, WS)
        .with("TaskSid", task_sid(1_000 + n))
        .with("WorkflowSid", SALES)
        .with("WorkflowName", "Sales")
        .with("TaskChannelUniqueName", "voice")
}

#[tokio::test]
async fn subscribe_gives_the_rest_answer_at_once() {
    let app = spawn_app(NOW).await;
    scenario::load(&app).await;
    let mut c = app.ws().await;
    c.send(&subscribe("s1", Some(json!({"start_date": "2026-11-27", "split_by_wait_time": [60, 20, 300]})))).await;
    let snap = c.snapshot("s1").await;
    assert!(snap.rev >= 1);
    assert!(!snap.stale);
    assert_eq!(snap.at, "2026-11-27T18:00:00Z");
    assert_eq!(snap.realtime, app.get_json::<WorkflowRealTimeStatistics>(&sales("RealTimeStatistics")).await.into());
    let rest: WorkflowCumulativeStatistics = app
        .get_json(&format!("{}?StartDate=2026-11-27&SplitByWaitTime=20,60,300", sales("CumulativeStatistics")))
        .await;
    assert_eq!(snap.cumulative, Some(rest.into()));
    // Without a cumulative part, `cumulative` is null.
    c.send(&subscribe("s2", None)).await;
    assert_eq!(c.snapshot("s2").await.cumulative, None);
    app.stop().await;
}

#[tokio::test]
async fn an_event_reaches_every_subscriber_with_a_higher_rev() {
    let app = spawn_app(NOW).await;
    scenario::load(&app).await;
    let mut clients = Vec::new();
    for _ in 0..5 {
        let mut c = app.ws().await;
        c.send(&subscribe("live", None)).await;
        let first = c.snapshot("live").await;
        assert_eq!(first.realtime.as_workflow().expect("a workflow snapshot").stats.total_tasks, 4);
        clients.push((c, first.rev));
    }
    assert_eq!(app.post_event(&new_task(1).0).await, reqwest::StatusCode::NO_CONTENT);
    for (c, rev) in &mut clients {
        let next = c.snapshot_with_total("live", 5).await;
        assert!(next.rev > *rev);
        assert_eq!(next.realtime.as_workflow().expect("a workflow snapshot").stats.tasks_by_status.pending, 3);
    }
    // REST reads the same (refreshed) cache.
    let rest: WorkflowRealTimeStatistics = app.get_json(&sales("RealTimeStatistics")).await;
    assert_eq!(rest.stats.total_tasks, 5);
    app.stop().await;
}

#[tokio::test]
async fn a_client_that_stops_reading_does_not_delay_the_others() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut args = serve_args(dir.path());
    args.snapshot_interval_ms = 1; // publish as fast as possible: the stuck client's buffers fill up
    let app = spawn_app_with(args, std::sync::Arc::new(wallboard::clock::ManualClock::new(NOW))).await;
    scenario::load(&app).await;
    // The stuck client: many subscriptions with large cumulative snapshots, never read.
    let mut stuck = app.ws().await;
    for i in 0..32 {
        let thresholds: Vec<u32> = (0..20).map(|t| t * 10 + i).collect();
        stuck.send(&subscribe(&format!("s{i}"), Some(json!({"minutes": 600, "split_by_wait_time": thresholds})))).await;
    }
    let mut fast = app.ws().await;
    fast.send(&subscribe("f", None)).await;
    fast.snapshot("f").await;
    let mut worst = Duration::ZERO;
    for n in 1..=200u32 {
        let sent = Instant::now();
        assert_eq!(app.post_event(&new_task(n).0).await, reqwest::StatusCode::NO_CONTENT);
        fast.snapshot_with_total("f", 4 + u64::from(n)).await;
        worst = worst.max(sent.elapsed());
    }
    // A hub that waited on the stuck client would stall for the send timeout (10 s).
    println!("slowest update of the reading client next to a stuck one: {worst:?}");
    assert!(worst < Duration::from_secs(5), "updates were delayed: {worst:?}");
    drop(stuck);
    app.stop().await;
}

#[tokio::test]
async fn unsubscribe_stops_updates() {
    let app = spawn_app(NOW).await;
    scenario::load(&app).await;
    let mut c = app.ws().await;
    c.send(&subscribe("gone", None)).await;
    c.snapshot("gone").await;
    c.send(&subscribe("kept", None)).await;
    c.snapshot("kept").await;
    c.send(&json!({"type": "unsubscribe", "id": "gone"})).await;
    // Make sure the unsubscribe was handled before the event.
    for m in c.sync().await {
        assert_ne!(id_of(&m), Some("gone"), "no snapshot after unsubscribe: {m:?}");
    }
    assert_eq!(app.post_event(&new_task(1).0).await, reqwest::StatusCode::NO_CONTENT);
    let mut saw_kept = false;
    loop {
        let m = c.recv_message().await;
        assert_ne!(id_of(&m), Some("gone"), "no snapshot after unsubscribe: {m:?}");
        match &m {
            ServerMessage::Snapshot(s)
                if s.id == "kept" && s.realtime.as_workflow().expect("a workflow snapshot").stats.total_tasks == 5 =>
            {
                saw_kept = true;
                c.send(&json!({"type": "ping"})).await;
            }
            ServerMessage::Pong if saw_kept => break,
            _ => {}
        }
    }
    c.send(&json!({"type": "unsubscribe", "id": "never"})).await;
    assert_eq!(c.recv_error().await.1, 20404);
    app.stop().await;
}

#[tokio::test]
async fn bad_messages_get_error_frames_and_the_connection_stays() {
    let app = spawn_app(NOW).await;
    scenario::load(&app).await;
    let mut c = app.ws().await;
    let cases: Vec<(String, Option<&str>, u32)> = vec![
        ("not json".into(), None, 20001),
        (r#"{"type":"dance","id":"d1"}"#.into(), Some("d1"), 20001),
        (r#"{"id":"x"}"#.into(), Some("x"), 20001),
        (json!({"type": "subscribe", "id": "a", "workspace_sid": "WS1", "workflow_sid": SALES}).to_string(), Some("a"), 20001),
        (json!({"type": "subscribe", "id": "b", "workspace_sid": WS, "workflow_sid": "WW00000000000000000000000000000999"}).to_string(), Some("b"), 20404),
        (subscribe("c", Some(json!({"minutes": 0}))).to_string(), Some("c"), 20001),
        (subscribe("d", Some(json!({"minutes": 5, "start_date": "2026-11-27"}))).to_string(), Some("d"), 20001),
        (subscribe("e", Some(json!({"start_date": "2026-01-01"}))).to_string(), Some("e"), 20001),
        (json!({"type": "subscribe", "id": "f", "workspace_sid": WS, "workflow_sid": SALES, "task_channel": "fax"}).to_string(), Some("f"), 20001),
        (format!(r#"{{"type":"ping","pad":"{}"}}"#, "x".repeat(10_000)), None, 20001),
    ];
    for (text, id, code) in cases {
        c.send_text(&text).await;
        let m = c.recv_message().await;
        let ServerMessage::Error { id: got_id, code: got_code, message } = &m else { panic!("{text}: {m:?}") };
        assert_eq!(got_id.as_deref(), id, "{text}: {m:?}");
        assert_eq!(*got_code, code, "{text}: {m:?}");
        assert!(!message.is_empty());
    }
    // Binary frames too.
    {
        use futures_util::SinkExt;
        c.stream.send(tokio_tungstenite::tungstenite::Message::binary(vec![1u8, 2, 3])).await.expect("send");
    }
    c.recv_error().await;
    // Still open and working (and a pong is exactly `{"type":"pong"}`).
    c.send(&json!({"type": "ping"})).await;
    assert_eq!(c.recv().await, json!({"type": "pong"}));
    c.send(&subscribe("ok", None)).await;
    assert_eq!(c.snapshot("ok").await.realtime.as_workflow().expect("a workflow snapshot").stats.total_tasks, 4);
    app.stop().await;
}

#[tokio::test]
async fn limits_on_subscriptions_and_connections() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut args = serve_args(dir.path());
    args.ws_max_connections = 2;
    args.ws_max_subscriptions = 3;
    let app = spawn_app_with(args, std::sync::Arc::new(wallboard::clock::ManualClock::new(NOW))).await;
    scenario::load(&app).await;
    let mut a = app.ws().await;
    for i in 0..3 {
        a.send(&subscribe(&format!("s{i}"), None)).await;
        a.snapshot(&format!("s{i}")).await;
    }
    a.send(&subscribe("s3", None)).await;
    let (id, code, _) = a.recv_error().await;
    assert_eq!((id.as_deref(), code), (Some("s3"), 20001));
    // Re-subscribing an existing id replaces it and is not a new subscription.
    a.send(&subscribe("s0", Some(json!({"minutes": 60})))).await;
    assert!(a.snapshot("s0").await.cumulative.is_some());

    let _b = app.ws().await;
    let mut authed =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(app.ws_url()).expect("url");
    authed.headers_mut().insert("authorization", basic_auth().parse().expect("header"));
    let refused = tokio_tungstenite::connect_async(authed).await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status(), 503),
        other => panic!("a third connection must be refused with 503, got {other:?}"),
    }
    app.stop().await;
}

#[tokio::test]
async fn shutdown_sends_close_frames() {
    use futures_util::StreamExt;
    let app = spawn_app(NOW).await;
    scenario::load(&app).await;
    let mut c = app.ws().await;
    c.send(&subscribe("s", None)).await;
    c.snapshot("s").await;
    let stopping = tokio::spawn(app.stop());
    loop {
        let msg = tokio::time::timeout(TIMEOUT, c.stream.next()).await.expect("in time");
        match msg {
            Some(Ok(tokio_tungstenite::tungstenite::Message::Close(Some(frame)))) => {
                assert_eq!(u16::from(frame.code), 1001);
                break;
            }
            Some(Ok(_)) => continue,
            other => panic!("expected a Close frame, got {other:?}"),
        }
    }
    tokio::time::timeout(TIMEOUT, stopping).await.expect("stops in time").expect("join");
}

#[tokio::test]
async fn a_thousand_clients_all_receive_the_update() {
    let _ = rlimit::increase_nofile_limit(10_000);
    let app = spawn_app(NOW).await;
    scenario::load(&app).await;
    let app_ref: &TestApp = &app;
    let mut clients = Vec::with_capacity(1000);
    for chunk in 0..10 {
        let batch = futures_util::future::join_all((0..100).map(|i| async move {
            let mut c = app_ref.ws().await;
            c.send(&subscribe(&format!("c{}", chunk * 100 + i), None)).await;
            c
        }))
        .await;
        clients.extend(batch);
    }
    let firsts = futures_util::future::join_all(
        clients.iter_mut().enumerate().map(|(i, c)| async move { c.snapshot(&format!("c{i}")).await }),
    )
    .await;
    assert!(firsts.iter().all(|s| s.realtime.as_workflow().expect("a workflow snapshot").stats.total_tasks == 4));
    let sent = Instant::now();
    assert_eq!(app.post_event(&new_task(1).0).await, reqwest::StatusCode::NO_CONTENT);
    let updates = futures_util::future::join_all(
        clients.iter_mut().enumerate().map(|(i, c)| async move { c.snapshot_with_total(&format!("c{i}"), 5).await }),
    )
    .await;
    println!("1000 clients updated {:?} after the event", sent.elapsed());
    assert_eq!(updates.len(), 1000);
    assert!(updates.iter().zip(&firsts).all(|(u, f)| u.rev > f.rev));
    drop(clients);
    app.stop().await;
}

/// Distinct views are capped server-wide; shared ones are always served, and a view nobody
/// watches any more frees its place.
#[tokio::test]
async fn distinct_topics_are_capped_across_connections() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut args = serve_args(dir.path());
    args.ws_max_topics = 2;
    let app = spawn_app_with(args, std::sync::Arc::new(wallboard::clock::ManualClock::new(NOW))).await;
    scenario::load(&app).await;
    let mut a = app.ws().await;
    a.send(&subscribe("rt", None)).await;
    a.snapshot("rt").await;
    a.send(&subscribe("m15", Some(json!({"minutes": 15})))).await;
    a.snapshot("m15").await;
    a.send(&subscribe("m30", Some(json!({"minutes": 30})))).await;
    let (id, code, message) = a.recv_error().await;
    assert_eq!((id.as_deref(), code), (Some("m30"), 20429), "{message}");
    // Another connection may still watch an existing view.
    let mut b = app.ws().await;
    b.send(&subscribe("same", Some(json!({"minutes": 15})))).await;
    b.snapshot("same").await;
    // Once nobody watches the realtime-only view, the new one fits.
    a.send(&json!({"type": "unsubscribe", "id": "rt"})).await;
    a.sync().await;
    a.send(&subscribe("m30", Some(json!({"minutes": 30})))).await;
    assert!(a.snapshot("m30").await.cumulative.is_some());
    app.stop().await;
}
