//! `GET /metrics`: who may scrape it, that the body is the Prometheus text format (read by a
//! real parser), and that its counters move with traffic by exactly what was sent; and
//! `--log-format json` of the built binary.

use std::collections::HashMap;
use std::io::BufRead;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use wallboard::access::Scope;
use wallboard::clock::ManualClock;
use wallboard::event::Event;
use wallboard::eventstreams::to_cloud_event;
use wallboard::signature;
use wallboard_shared::TwilioError;
use wallboard_shared::WorkspaceSid;
use wallboard_shared::ws::ServerMessage;

use super::helpers::{ACCOUNT_SID, AUTH_TOKEN, Form, TIMEOUT, TestApp, serve_args, spawn_app_with};
use super::scenario::{NOW, SALES, WS, task_sid};

const SCRAPE_TOKEN: &str = "scrape-token-0123456789abcdef";

/// A server with a scrape token and no server pings during the test (they are frames too).
async fn app() -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut args = serve_args(dir.path());
    args.metrics_token = Some(SCRAPE_TOKEN.into());
    args.ws_ping_interval_secs = 3600;
    let mut app = spawn_app_with(args, Arc::new(ManualClock::new(NOW))).await;
    app.keep_dir(dir);
    app
}

/// A new pending task in Sales.
fn new_task(n: u32) -> Form {
    Form::new("task.created", 20_000 + n, NOW - 1_000, WS)
        .with("TaskSid", task_sid(2_000 + n))
        .with("WorkflowSid", SALES)
        .with("WorkflowName", "Sales")
        .with("TaskChannelUniqueName", "voice")
}

/// One scrape, parsed by a Prometheus text-format parser: (name, labels) → value.
#[derive(Debug)]
struct Scrape(HashMap<(String, Vec<(String, String)>), f64>);

impl Scrape {
    fn parse(body: &str) -> Self {
        // OpenMetrics: the exposition ends with `# EOF`, and every other line is a comment
        // or a sample the parser understands.
        assert!(body.ends_with("# EOF\n"), "no # EOF at the end:\n{body}");
        for line in body.lines().filter(|l| !l.starts_with('#')) {
            assert!(
                matches!(prometheus_parse::LineInfo::parse(line), prometheus_parse::LineInfo::Sample { .. }),
                "not a sample line: {line:?}"
            );
        }
        let lines = body.lines().map(|l| Ok(l.to_owned()));
        let scrape = prometheus_parse::Scrape::parse(lines).expect("the Prometheus text format");
        let mut values = HashMap::new();
        for sample in scrape.samples {
            let mut labels: Vec<(String, String)> = sample.labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            labels.sort();
            let value = match sample.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                prometheus_parse::Value::Histogram(buckets) => {
                    // The +Inf bucket: every observation.
                    buckets.iter().map(|b| b.count).fold(0.0, f64::max)
                }
                prometheus_parse::Value::Summary(_) => continue,
            };
            values.insert((sample.metric, labels), value);
        }
        Self(values)
    }

    /// The sample `name{labels}`, 0 when absent (a labelled counter not counted yet).
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let mut key: Vec<(String, String)> = labels.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        key.sort();
        self.0.get(&(name.to_owned(), key)).copied().unwrap_or(0.0)
    }

    fn has(&self, name: &str) -> bool {
        self.0.keys().any(|(n, _)| n == name)
    }

    fn callbacks(&self, door: &str, outcome: &str) -> f64 {
        self.get("wallboard_callbacks_total", &[("door", door), ("outcome", outcome)])
    }
}

async fn scrape_with(app: &TestApp, request: reqwest::RequestBuilder) -> Scrape {
    let r = request.send().await.expect("request");
    assert_eq!(r.status(), StatusCode::OK);
    let content_type = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert!(content_type.starts_with("application/openmetrics-text"), "{content_type} ({})", app.base);
    Scrape::parse(&r.text().await.expect("a body"))
}

async fn scrape(app: &TestApp) -> Scrape {
    scrape_with(app, app.client.get(format!("{}/metrics", app.base)).bearer_auth(SCRAPE_TOKEN)).await
}

/// Scrapes until `done` holds (what a session counts lands just after its frame is sent).
async fn scrape_until(app: &TestApp, what: &str, done: impl Fn(&Scrape) -> bool) -> Scrape {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let s = scrape(app).await;
        if done(&s) {
            return s;
        }
        assert!(Instant::now() < deadline, "{what}: not reached in time: {s:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn refused(app: &TestApp, request: reqwest::RequestBuilder) -> (StatusCode, TwilioError) {
    let r = request.send().await.expect("request");
    let status = r.status();
    let body: TwilioError = r.json().await.expect("Twilio's error body");
    assert_eq!(body.status, status.as_u16(), "{}", app.base);
    (status, body)
}

#[tokio::test]
async fn only_the_account_admins_and_the_scrape_token_read_metrics() {
    let app = app().await;
    let url = format!("{}/metrics", app.base);
    let (status, _) = refused(&app, app.client.get(&url)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = refused(&app, app.client.get(&url).bearer_auth("scrape-token-0123456789abcdeX")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a wrong scrape token");
    let (status, _) = refused(&app, app.client.get(&url).basic_auth(ACCOUNT_SID, Some("wrong"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let workspace = WorkspaceSid::parse(WS).expect("a workspace SID");
    let (viewer, _) = app.create_token("lobby TV", Scope::Workspace { workspace, workflows: vec![] }, None, NOW);
    let (status, body) = refused(&app, app.client.get(&url).bearer_auth(&viewer)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a viewer token: {body:?}");
    // The scrape token opens /metrics and nothing else.
    let (status, _) = app.get_bearer(&format!("/v1/Workspaces/{WS}"), SCRAPE_TOKEN).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let by_account = scrape_with(&app, app.client.get(&url).basic_auth(ACCOUNT_SID, Some(AUTH_TOKEN))).await;
    let by_admin = scrape_with(&app, app.client.get(&url).bearer_auth(&app.admin_token)).await;
    let by_token = scrape(&app).await;
    for s in [&by_account, &by_admin, &by_token] {
        assert_eq!(s.get("wallboard_node_ready", &[]), 1.0);
        assert_eq!(s.get("wallboard_database_up", &[]), 1.0);
        assert_eq!(s.get("wallboard_node_role", &[("role", "alerts")]), 1.0);
        assert_eq!(s.get("wallboard_node_role", &[("role", "mirror")]), 0.0);
        assert!(s.has("wallboard_build_info"));
        assert!(s.has("wallboard_replay_duration_seconds"));
        assert!(s.has("wallboard_engine_memory_estimate_bytes"));
    }
    app.stop().await;
}

#[tokio::test]
async fn counters_move_with_callbacks_and_websocket_frames() {
    let app = app().await;
    let before = scrape(&app).await;
    for outcome in ["accepted", "duplicate", "bad_signature", "malformed"] {
        assert_eq!(before.callbacks("taskrouter", outcome), 0.0, "{outcome} before any callback");
    }
    assert_eq!(before.get("wallboard_engine_tasks", &[]), 0.0);

    // Three new tasks, one of them sent twice, one forged, one malformed.
    for n in 1..=3 {
        assert_eq!(app.post_event(&new_task(n).0).await, StatusCode::NO_CONTENT);
    }
    assert_eq!(app.post_event(&new_task(2).0).await, StatusCode::NO_CONTENT, "a duplicate is acknowledged");
    assert_eq!(app.post_event_signed(&new_task(4).0, "forged").await, StatusCode::FORBIDDEN);
    assert_eq!(app.post_event(&new_task(5).without("EventType").0).await, StatusCode::BAD_REQUEST);
    // Event Streams: a batch of one good and one malformed CloudEvent, and a forged batch.
    let good = to_cloud_event(&Event::from_form(&new_task(6).0).expect("an event"), ACCOUNT_SID);
    let batch = serde_json::to_vec(&json!([good, {"specversion": "1.0", "id": "x"}])).expect("JSON");
    let sink = format!("{}/webhooks/eventstreams", app.base);
    let signed = signature::with_body_sha256(&sink, &batch);
    let sig = signature::compute(AUTH_TOKEN, &signed, &[]);
    let r = app.client.post(&signed).header("X-Twilio-Signature", sig).body(batch.clone()).send().await;
    assert_eq!(r.expect("request").status(), StatusCode::OK);
    let r = app.client.post(&signed).header("X-Twilio-Signature", "forged").body(batch).send().await;
    assert_eq!(r.expect("request").status(), StatusCode::FORBIDDEN);

    let after = scrape(&app).await;
    assert_eq!(after.callbacks("taskrouter", "accepted"), 3.0);
    assert_eq!(after.callbacks("taskrouter", "duplicate"), 1.0);
    assert_eq!(after.callbacks("taskrouter", "bad_signature"), 1.0);
    assert_eq!(after.callbacks("taskrouter", "malformed"), 1.0);
    assert_eq!(after.callbacks("eventstreams", "accepted"), 1.0);
    assert_eq!(after.callbacks("eventstreams", "malformed"), 1.0);
    assert_eq!(after.callbacks("eventstreams", "bad_signature"), 1.0);
    let own = [("origin", "own")];
    assert_eq!(
        after.get("wallboard_events_applied_total", &own) - before.get("wallboard_events_applied_total", &own),
        4.0
    );
    // One commit per write at least (group commit may join concurrent ones; these were not).
    let commits = after.get("wallboard_commit_duration_seconds", &[]);
    assert!((5.0..=6.0).contains(&commits), "commits: {commits}");
    assert_eq!(after.get("wallboard_engine_tasks", &[]), 4.0);
    // The memory estimate walks the engine, so it is taken at most once every 15 s
    // (of the server's clock) whoever scrapes: still the first scrape's.
    let memory = |s: &Scrape| s.get("wallboard_engine_memory_estimate_bytes", &[]);
    assert_eq!(memory(&after), memory(&before), "within 15 s the estimate is not taken again");
    app.clock.advance(15_000);
    let later = scrape(&app).await;
    assert!(memory(&later) > memory(&before), "{} then {}", memory(&before), memory(&later));

    // A WebSocket subscriber: one client, one topic, and every frame it gets is counted.
    let mut c = app.ws().await;
    c.send(&json!({"type": "subscribe", "id": "s", "workspace_sid": WS, "workflow_sid": SALES})).await;
    let mut frames = 0.0;
    let first = c.snapshot("s").await;
    frames += 1.0;
    assert_eq!(first.realtime.as_workflow().expect("a workflow snapshot").stats.total_tasks, 4);
    assert_eq!(app.post_event(&new_task(7).0).await, StatusCode::NO_CONTENT);
    loop {
        let m = c.recv_message().await;
        frames += 1.0;
        if let ServerMessage::Snapshot(s) = m
            && s.realtime.as_workflow().expect("a workflow snapshot").stats.total_tasks == 5
        {
            break;
        }
    }
    frames += c.sync().await.len() as f64 + 1.0; // anything else before the pong, and the pong
    let sent =
        |s: &Scrape| s.get("wallboard_ws_frames_sent_total", &[]) - before.get("wallboard_ws_frames_sent_total", &[]);
    let live = scrape_until(&app, "frames sent", |s| sent(s) >= frames).await;
    assert_eq!(sent(&live), frames, "frames sent");
    assert_eq!(live.get("wallboard_ws_clients", &[]), 1.0);
    assert_eq!(live.get("wallboard_ws_topics", &[]), 1.0);
    assert_eq!(live.get("wallboard_ws_frames_dropped_total", &[]), 0.0, "a reading client skips nothing");
    assert!(live.get("wallboard_ws_revisions_published_total", &[]) >= 1.0);
    assert_eq!(live.callbacks("taskrouter", "accepted"), 4.0);
    drop(c);
    scrape_until(&app, "the client gone", |s| s.get("wallboard_ws_clients", &[]) == 0.0).await;

    // An upgrade with wrong credentials is refused and counted.
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = app.ws_url().into_client_request().expect("a URL");
    request.headers_mut().insert("authorization", "Bearer not-a-token".parse().expect("a header"));
    assert!(tokio_tungstenite::connect_async(request).await.is_err());
    let after_refusal = scrape(&app).await;
    assert_eq!(after_refusal.get("wallboard_ws_connections_refused_total", &[("reason", "unauthenticated")]), 1.0);
    app.stop().await;
}

/// Runs the built binary with `args` until it writes its first log line; returns it.
fn first_log_line(args: &[&str]) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_wallboard"))
        .args(args)
        .args(["--bind", "127.0.0.1:0", "--source", "events", "--data-dir"])
        .arg(dir.path())
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the wallboard binary starts");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::BufReader::new(stderr).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(TIMEOUT);
    let _ = child.kill();
    let _ = child.wait();
    line.expect("a log line in time")
}

#[test]
fn log_format_json_writes_one_json_object_per_line() {
    let line = first_log_line(&["serve", "--log-format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    assert_eq!(v["level"], "INFO", "{line}");
    assert!(v["timestamp"].is_string() && v["target"].is_string(), "{line}");
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{line}");
    // The default stays text, and the option is global (before the subcommand too).
    let text = first_log_line(&[]);
    assert!(serde_json::from_str::<serde_json::Value>(&text).is_err(), "{text}");
    assert!(text.contains("INFO"), "{text}");
    let global = first_log_line(&["--log-format", "json", "serve"]);
    assert!(serde_json::from_str::<serde_json::Value>(&global).is_ok(), "{global}");
}
