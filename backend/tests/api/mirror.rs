//! `--source twilio`: a Wallboard mirroring another through a proxy on loopback that counts
//! the upstream requests and can be told to fail in every way an upstream fails.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use wallboard::clock::ManualClock;
use wallboard_shared::resources::{WorkflowCumulativeStatistics, WorkflowRealTimeStatistics, WorkspacePage};
use wallboard_shared::ws::Snapshot;

use super::helpers::{
    ACCOUNT_SID, AUTH_TOKEN, Form, TIMEOUT, TestApp, free_port, serve_args, spawn_app, spawn_app_with,
};
use super::proxy::{FAILING, HANGING, MALFORMED, OK, RATE_LIMITED, UNAUTHORIZED, start_proxy};
use super::scenario::{self, NOW, SALES, WS, sales, support, task_sid};

/// A mirror of `upstream`, polling realtime every `poll_ms` and cumulative every 2×.
async fn mirror_of(upstream: &str, poll_ms: u64, timeout_ms: u64) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut args = serve_args(dir.path());
    args.source = wallboard::config::Source::Twilio;
    args.upstream_base = upstream.to_owned();
    args.twilio_account_sid = Some(ACCOUNT_SID.into());
    args.twilio_auth_token = Some(AUTH_TOKEN.into());
    args.poll_realtime_ms = poll_ms;
    args.poll_cumulative_ms = poll_ms * 2;
    args.upstream_timeout_ms = timeout_ms;
    args.upstream_requests_per_second = 1000;
    let mut app = spawn_app_with(args, Arc::new(ManualClock::new(NOW))).await;
    app.keep_dir(dir);
    app
}

/// `v` without the fields that name the server (URLs, account).
fn numbers(mut v: Value) -> Value {
    if let Value::Object(map) = &mut v {
        map.retain(|k, _| !k.ends_with("url") && k != "links" && k != "account_sid");
        for value in map.values_mut() {
            *value = numbers(value.take());
        }
    }
    v
}

fn subscribe(id: &str, workflow: &str, cumulative: Option<Value>) -> Value {
    let mut v = json!({"type": "subscribe", "id": id, "workspace_sid": WS, "workflow_sid": workflow});
    if let Some(c) = cumulative {
        v["cumulative"] = c;
    }
    v
}

#[tokio::test]
async fn a_mirror_answers_what_its_source_answers() {
    let source = spawn_app(NOW).await;
    scenario::load(&source).await;
    let mirror = mirror_of(&source.base, 100, 2000).await;

    // Discovery: the same workspaces, workflows and channels, by SID and name.
    for path in [
        "/v1/Workspaces".to_owned(),
        format!("/v1/Workspaces/{WS}/Workflows"),
        format!("/v1/Workspaces/{WS}/TaskChannels"),
    ] {
        let names = |v: &Value| -> Vec<(String, String)> {
            let key = v["meta"]["key"].as_str().expect("key").to_owned();
            v[&key]
                .as_array()
                .expect("list")
                .iter()
                .map(|r| (r["sid"].as_str().expect("sid").into(), r["friendly_name"].as_str().expect("name").into()))
                .collect()
        };
        let (mut mine, mut theirs) = (names(&mirror.get_ok(&path).await), names(&source.get_ok(&path).await));
        mine.sort();
        theirs.sort();
        assert_eq!(mine, theirs, "{path}");
    }
    // Statistics over REST.
    for path in [
        sales("RealTimeStatistics"),
        format!("{}?TaskChannel=voice", sales("RealTimeStatistics")),
        format!("{}?StartDate=2026-11-26&SplitByWaitTime=20,60", sales("CumulativeStatistics")),
        format!("{}?Minutes=120", support("CumulativeStatistics")),
        format!("{}?StartDate=2026-11-27T08:00:00Z&TaskChannel=voice", sales("Statistics")),
    ] {
        assert_eq!(numbers(mirror.get_ok(&path).await), numbers(source.get_ok(&path).await), "{path}");
    }
    // And over the WebSocket, then live: an event at the source reaches the mirror's viewer.
    let mut c = mirror.ws().await;
    c.send(&subscribe("s", SALES, Some(json!({"minutes": 60, "split_by_wait_time": [20]})))).await;
    let snap = c.snapshot("s").await;
    assert!(!snap.stale);
    let theirs: WorkflowRealTimeStatistics = source.get_json(&sales("RealTimeStatistics")).await;
    let mine = snap.realtime.as_workflow().expect("a workflow snapshot");
    assert_eq!(
        (&mine.workspace_sid, &mine.workflow_sid, &mine.stats),
        (&theirs.workspace_sid, &theirs.workflow_sid, &theirs.stats)
    );
    let theirs: WorkflowCumulativeStatistics =
        source.get_json(&format!("{}?Minutes=60&SplitByWaitTime=20", sales("CumulativeStatistics"))).await;
    let mine = snap.cumulative.as_ref().and_then(|c| c.as_workflow()).expect("the cumulative part");
    assert_eq!(
        (&mine.workspace_sid, &mine.workflow_sid, &mine.stats),
        (&theirs.workspace_sid, &theirs.workflow_sid, &theirs.stats)
    );
    let total = snap.realtime.as_workflow().expect("a workflow snapshot").stats.total_tasks;
    let new_task = Form::new("task.created", 77_001, NOW - 500, WS)
        .with("TaskSid", task_sid(77_001))
        .with("WorkflowSid", SALES)
        .with("WorkflowName", "Sales")
        .with("TaskChannelUniqueName", "voice");
    assert_eq!(source.post_event(&new_task.0).await, StatusCode::NO_CONTENT);
    let live = c.snapshot_with_total("s", total + 1).await;
    assert!(!live.stale);
    mirror.stop().await;
    source.stop().await;
}

#[tokio::test]
async fn a_hundred_viewers_cost_one_upstream_poll_per_interval() {
    let source = spawn_app(NOW).await;
    scenario::load(&source).await;
    let (proxy, url) = start_proxy(&source.base).await;
    let poll = Duration::from_millis(150);
    let mirror = mirror_of(&url, poll.as_millis() as u64, 2000).await;
    let mut viewers = Vec::new();
    for i in 0..100 {
        let mut c = mirror.ws().await;
        c.send(&subscribe(&format!("v{i}"), SALES, None)).await;
        c.snapshot(&format!("v{i}")).await;
        viewers.push(c);
    }
    // Ten more polls of the topic, however many viewers: they are an interval apart.
    let before = proxy.count("RealTimeStatistics");
    tokio::time::timeout(TIMEOUT, async {
        while proxy.count("RealTimeStatistics") < before + 10 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the mirror keeps polling");
    let times = proxy.times("RealTimeStatistics");
    let polls = &times[before..before + 10];
    for pair in polls.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(gap >= poll.mul_f64(0.8), "two polls {gap:?} apart with a {poll:?} interval: one per viewer?");
    }
    // Nothing else was asked: no cumulative topic is watched.
    assert_eq!(proxy.count("CumulativeStatistics"), 0);
    drop(viewers);
    mirror.stop().await;
    source.stop().await;
}

/// The next snapshot of `id` whose `stale` is `stale`.
async fn until_stale(c: &mut super::helpers::WsClient, id: &str, stale: bool) -> Snapshot {
    loop {
        let s = c.snapshot(id).await;
        if s.stale == stale {
            return s;
        }
    }
}

#[tokio::test]
async fn upstream_faults_mark_numbers_stale_and_the_mirror_recovers() {
    let source = spawn_app(NOW).await;
    scenario::load(&source).await;
    let (proxy, url) = start_proxy(&source.base).await;
    let mirror = mirror_of(&url, 100, 300).await;
    let mut c = mirror.ws().await;
    c.send(&subscribe("s", SALES, None)).await;
    let good = until_stale(&mut c, "s", false).await;

    let phases = [(FAILING, "500"), (HANGING, "hang"), (MALFORMED, "malformed JSON"), (UNAUTHORIZED, "401")];
    for (minutes, (mode, name)) in (10..).zip(phases) {
        proxy.mode.store(mode, Ordering::SeqCst);
        let stale = until_stale(&mut c, "s", true).await;
        assert_eq!(stale.realtime, good.realtime, "{name}: the last numbers are kept");
        // REST answers from the same cache and says how fresh it is.
        let stale_header = |mirror: &TestApp| {
            let url = format!("{}{}", mirror.base, sales("RealTimeStatistics"));
            let request = mirror.client.get(url).basic_auth(ACCOUNT_SID, Some(AUTH_TOKEN));
            async move {
                let r = request.send().await.expect("get");
                assert_eq!(r.status(), StatusCode::OK);
                assert!(r.headers().contains_key("age"));
                r.headers()["x-wallboard-stale"].to_str().expect("ascii").to_owned()
            }
        };
        assert_eq!(stale_header(&mirror).await, "true", "{name}");
        // A REST request for numbers never fetched (a new parameter set each time) cannot be
        // answered: 503, not a hang.
        let url = format!("{}{}?Minutes={minutes}", mirror.base, support("CumulativeStatistics"));
        let r = mirror.client.get(url).basic_auth(ACCOUNT_SID, Some(AUTH_TOKEN)).send().await.expect("get");
        assert_eq!(r.headers().get("retry-after").map(|v| v.to_str().ok()), Some(Some("5")), "{name}: retry soon");
        let (status, body) = (r.status(), r.json::<wallboard_shared::TwilioError>().await.expect("an error body"));
        assert_eq!((status, body.code), (StatusCode::SERVICE_UNAVAILABLE, 20503), "{name}: {body}");
        proxy.mode.store(OK, Ordering::SeqCst);
        until_stale(&mut c, "s", false).await;
        assert_eq!(stale_header(&mirror).await, "false", "{name}: recovered");
    }

    // 429 with Retry-After: 1 — the next request comes a second later, not a poll later.
    proxy.mode.store(RATE_LIMITED, Ordering::SeqCst);
    let limited_from = proxy.count("RealTimeStatistics");
    until_stale(&mut c, "s", true).await;
    tokio::time::timeout(TIMEOUT, async {
        while proxy.count("RealTimeStatistics") < limited_from + 2 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the mirror asks again");
    let times = proxy.times("RealTimeStatistics");
    let gap = times[limited_from + 1] - times[limited_from];
    assert!(gap >= Duration::from_millis(950), "Retry-After: 1 honoured, got {gap:?}");
    proxy.mode.store(OK, Ordering::SeqCst);
    until_stale(&mut c, "s", false).await;

    // The server itself never went down.
    assert_eq!(mirror.client.get(format!("{}/healthz", mirror.base)).send().await.expect("up").status(), 200);
    mirror.stop().await;
    source.stop().await;
}

#[tokio::test]
async fn a_mirror_starts_without_its_upstream_and_catches_up() {
    // The upstream's data, made beforehand (discovery lists what exists when it runs).
    let dir = tempfile::tempdir().expect("tempdir");
    let filler = spawn_app_with(serve_args(dir.path()), Arc::new(ManualClock::new(NOW))).await;
    scenario::load(&filler).await;
    filler.stop().await;

    // Nothing listens there yet: discovery fails, the server starts anyway.
    let port = free_port();
    let mirror = mirror_of(&format!("http://127.0.0.1:{port}"), 100, 300).await;
    let listed: WorkspacePage = mirror.get_json("/v1/Workspaces").await;
    assert_eq!(listed.workspaces, []);

    // The upstream appears: the mirror finds it by itself.
    let mut args = serve_args(dir.path());
    args.bind = format!("127.0.0.1:{port}").parse().expect("addr");
    let source = spawn_app_with(args, Arc::new(ManualClock::new(NOW))).await;
    tokio::time::timeout(TIMEOUT, async {
        loop {
            if !mirror.get_json::<WorkspacePage>("/v1/Workspaces").await.workspaces.is_empty() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("discovered once the upstream is up");
    assert_eq!(
        numbers(mirror.get_ok(&sales("RealTimeStatistics")).await),
        numbers(source.get_ok(&sales("RealTimeStatistics")).await)
    );
    mirror.stop().await;
    source.stop().await;
}

/// The upstream client spreads requests over its budget and pauses when the upstream says
/// no requests remain (`X-Rate-Limit-Remaining: 0`).
#[tokio::test]
async fn the_upstream_client_keeps_to_its_budget_and_the_upstreams_limit() {
    use wallboard::source::upstream::{UpstreamClient, UpstreamConfig};
    let seen: Arc<std::sync::Mutex<Vec<std::time::Instant>>> = Arc::default();
    let log = seen.clone();
    let app = axum::Router::new().route(
        "/v1/Workspaces",
        axum::routing::get(move || {
            let log = log.clone();
            async move {
                let n = {
                    let mut log = log.lock().expect("log");
                    log.push(std::time::Instant::now());
                    log.len()
                };
                let remaining = if n == 1 { "0" } else { "100" };
                ([("x-rate-limit-remaining", remaining)], axum::Json(json!({"ok": n})))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let client = UpstreamClient::new(UpstreamConfig {
        base_url: base,
        user: ACCOUNT_SID.into(),
        password: AUTH_TOKEN.into(),
        requests_per_second: 10,
        timeout: Duration::from_secs(5),
    })
    .expect("client");
    for _ in 0..6 {
        let _: Value = client.get("/v1/Workspaces").await.expect("answer");
    }
    let times = seen.lock().expect("log").clone();
    assert!(times[1] - times[0] >= Duration::from_millis(950), "paused after Remaining: 0: {:?}", times[1] - times[0]);
    for pair in times[1..].windows(2) {
        assert!(pair[1] - pair[0] >= Duration::from_millis(90), "10 requests/s at most: {:?}", pair[1] - pair[0]);
    }
    server.abort();
}

/// REST clients cannot make the mirror poll without end: distinct views are capped.
#[tokio::test]
async fn the_mirror_polls_a_bounded_number_of_views() {
    let source = spawn_app(NOW).await;
    scenario::load(&source).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut args = serve_args(dir.path());
    args.source = wallboard::config::Source::Twilio;
    args.upstream_base = source.base.clone();
    args.twilio_account_sid = Some(ACCOUNT_SID.into());
    args.twilio_auth_token = Some(AUTH_TOKEN.into());
    args.ws_max_topics = 1; // two interests
    let mirror = spawn_app_with(args, Arc::new(ManualClock::new(NOW))).await;
    for minutes in [10, 20] {
        mirror.get_ok(&format!("{}?Minutes={minutes}", sales("CumulativeStatistics"))).await;
    }
    let (status, body) = mirror.get_error(&format!("{}?Minutes=30", sales("CumulativeStatistics"))).await;
    assert_eq!((status, body.code), (StatusCode::SERVICE_UNAVAILABLE, 20503), "{body}");
    // Views already polled are still served.
    mirror.get_ok(&format!("{}?Minutes=10", sales("CumulativeStatistics"))).await;
    mirror.stop().await;
    source.stop().await;
}
