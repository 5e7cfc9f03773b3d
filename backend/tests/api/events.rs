//! The Events resource (served from the log) and `backfill` from one Wallboard into another.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::Value;
use wallboard::access::Scope;
use wallboard::backfill::{BackfillOptions, backfill};
use wallboard::clock::ManualClock;
use wallboard::storage::{EventLog, SqliteLog};
use wallboard_shared::event::{EventPage, EventResource};
use wallboard_shared::{WorkflowSid, WorkspaceSid};

use super::helpers::{ACCOUNT_SID, AUTH_TOKEN, serve_args, spawn_app, spawn_app_with};
use super::scenario::{self, NOW, SALES, WS, sales, support};

/// `v` without its absolute URLs (the two servers listen on different ports).
fn without_urls(mut v: Value) -> Value {
    match &mut v {
        Value::Object(map) => {
            map.retain(|k, _| !k.ends_with("url") && k != "links");
            for value in map.values_mut() {
                *value = without_urls(value.take());
            }
        }
        Value::Array(items) => {
            for value in items.iter_mut() {
                *value = without_urls(value.take());
            }
        }
        _ => {}
    }
    v
}

/// A field of an event's `event_data`, as text.
fn data<'a>(e: &'a EventResource, key: &str) -> Option<&'a str> {
    e.event_data.as_ref().and_then(|d| d.get(key)).and_then(Value::as_str)
}

fn events_path(query: &str) -> String {
    format!("/v1/Workspaces/{WS}/Events?{query}")
}

#[tokio::test]
async fn events_page_in_time_order_with_filters() {
    let app = spawn_app(NOW).await;
    scenario::load(&app).await;
    let whole_day = "StartDate=2026-11-26&EndDate=2026-11-27";
    // Every page of 7, following next_page_url, gives every event once, in time order.
    let mut all = Vec::new();
    let mut next = Some(format!("{}{}", app.base, events_path(&format!("{whole_day}&PageSize=7"))));
    let mut pages = 0;
    while let Some(url) = next.take() {
        let path = url.strip_prefix(&app.base).expect("absolute URL on this server").to_owned();
        let page: EventPage = app.get_json(&path).await;
        assert_eq!(page.meta.key, "events");
        assert!(page.events.len() <= 7);
        all.extend(page.events);
        next = page.meta.next_page_url;
        pages += 1;
    }
    let unique: std::collections::BTreeSet<&str> = all.iter().map(|e| e.sid.as_deref().expect("sid")).collect();
    assert_eq!(unique.len(), all.len(), "no event twice");
    assert_eq!(all.len(), scenario::events().len() - scenario::DUPLICATES, "every stored event");
    assert!(pages > 2);
    let times: Vec<i64> = all.iter().map(|e| e.event_date_ms.expect("ms")).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "time order");
    let first = &all[0];
    assert_eq!(first.workspace_sid.as_deref(), Some(WS));
    assert_eq!(first.account_sid.as_deref(), Some(ACCOUNT_SID));
    assert!(first.url.as_deref().expect("url").starts_with(&format!("{}/v1/Workspaces/{WS}/Events/EV", app.base)));

    // Filters.
    let page: EventPage =
        app.get_json(&events_path(&format!("{whole_day}&EventType=task.canceled&PageSize=1000"))).await;
    let canceled = &page.events;
    assert!(!canceled.is_empty() && canceled.iter().all(|e| e.event_type.as_deref() == Some("task.canceled")));
    let page: EventPage = app.get_json(&events_path(&format!("{whole_day}&WorkflowSid={SALES}&PageSize=1000"))).await;
    assert!(page.events.iter().all(|e| data(e, "workflow_sid") == Some(SALES)));
    let task = all.iter().find(|e| e.event_type.as_deref() == Some("reservation.accepted")).expect("an acceptance");
    let task_sid = data(task, "task_sid").expect("task");
    let page: EventPage = app.get_json(&events_path(&format!("{whole_day}&TaskSid={task_sid}&PageSize=1000"))).await;
    let of_task = &page.events;
    assert!(of_task.len() >= 2 && of_task.iter().all(|e| data(e, "task_sid") == Some(task_sid)));

    // Errors.
    for (query, status, code) in [
        ("PageSize=0", 400, 20001),
        ("PageSize=1001", 400, 20001),
        ("PageToken=garbage", 400, 20001),
        ("Minutes=15&StartDate=2026-11-27", 400, 20001),
        ("StartDate=2026-09-01", 400, 20001),
    ] {
        let (s, body) = app.get_error(&events_path(query)).await;
        assert_eq!((s.as_u16(), body.code), (status, code), "{query}: {body}");
    }
    let (s, _) = app.get("/v1/Workspaces/WS000000000000000000000000000000ff/Events").await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // A token limited to some workflows may not read the workspace's events.
    let scope = Scope::Workspace {
        workspace: WorkspaceSid::parse(WS).expect("sid"),
        workflows: vec![WorkflowSid::parse(SALES).expect("sid")],
    };
    let (limited, _) = app.create_token("t", scope, None, NOW);
    let r = app.client.get(format!("{}{}", app.base, events_path(""))).bearer_auth(limited).send().await.expect("get");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    app.stop().await;
}

#[tokio::test]
async fn backfill_from_another_wallboard_reproduces_its_numbers() {
    let source = spawn_app(NOW).await;
    scenario::load(&source).await;

    let dir = tempfile::tempdir().expect("tempdir");
    let mut log = SqliteLog::open_dir(dir.path()).expect("log");
    let opts = BackfillOptions {
        base_url: source.base.clone(),
        user: ACCOUNT_SID.into(),
        password: AUTH_TOKEN.into(),
        workspaces: Vec::new(),
        days: 2,
        request_timeout: std::time::Duration::from_secs(10),
    };
    let report = backfill(opts.clone(), &mut log, NOW, None).await.expect("backfill");
    let stored = scenario::events().len() - scenario::DUPLICATES;
    assert_eq!((report.workspaces, report.stored as usize, report.rejected_count), (1, stored, 0), "{report}");
    assert_eq!(log.count().expect("count") as usize, stored);
    // Again: nothing new.
    let again = backfill(opts.clone(), &mut log, NOW, None).await.expect("backfill again");
    assert_eq!((again.stored, again.duplicates as usize), (0, stored));
    // Wrong credentials stop at once with a clear error.
    let wrong = BackfillOptions { password: "wrong-token".into(), ..opts };
    let err = backfill(wrong, &mut log, NOW, None).await.expect_err("refused");
    assert!(format!("{err:#}").contains("refused the credentials"), "{err:#}");
    drop(log);

    let mut args = serve_args(dir.path());
    args.account_sid = Some(ACCOUNT_SID.into());
    let mirror = spawn_app_with(args, Arc::new(ManualClock::new(NOW))).await;
    for path in [
        format!("{}?StartDate=2026-11-26&SplitByWaitTime=20,60", sales("CumulativeStatistics")),
        format!("{}?Minutes=120", support("CumulativeStatistics")),
        sales("RealTimeStatistics"),
        format!("{}?StartDate=2026-11-27T08:00:00Z&TaskChannel=voice", sales("Statistics")),
        format!("/v1/Workspaces/{WS}/Workflows"),
    ] {
        let (mine, theirs) = (mirror.get_ok(&path).await, source.get_ok(&path).await);
        assert_eq!(without_urls(mine), without_urls(theirs), "{path}");
    }
    mirror.stop().await;
    source.stop().await;
}

/// A scripted upstream: the first two Events calls fail (429 with Retry-After, then 500),
/// later ones answer one page of two events; `/bad/…` answers malformed JSON.
#[tokio::test]
async fn backfill_retries_as_told_and_reports_bad_answers() {
    use axum::http::{HeaderMap, StatusCode as Status};
    use axum::response::IntoResponse;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let event = |n: u32| {
        serde_json::json!({
            "sid": format!("EV{n:032x}"), "event_type": "task.created", "event_date_ms": NOW - 1000 * i64::from(n),
            "workspace_sid": WS, "event_data": {"task_sid": format!("WT{n:032x}"), "workflow_sid": SALES}
        })
    };
    let page = serde_json::json!({
        "events": [event(1), event(2)],
        "meta": {"first_page_url": "x", "key": "events", "next_page_url": null, "page": 0, "page_size": 1000,
                 "previous_page_url": null, "url": "x"}
    });
    let app = axum::Router::new()
        .route(
            "/v1/Workspaces/{ws}/Events",
            axum::routing::get(move || {
                let (counter, page) = (counter.clone(), page.clone());
                async move {
                    match counter.fetch_add(1, Ordering::SeqCst) {
                        0 => {
                            let mut h = HeaderMap::new();
                            h.insert("retry-after", "1".parse().expect("header"));
                            (Status::TOO_MANY_REQUESTS, h, "slow down").into_response()
                        }
                        1 => (Status::INTERNAL_SERVER_ERROR, "oops").into_response(),
                        _ => axum::Json(page).into_response(),
                    }
                }
            }),
        )
        .route("/bad/v1/Workspaces/{ws}/Events", axum::routing::get(|| async { "{not json" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    let dir = tempfile::tempdir().expect("tempdir");
    let mut log = SqliteLog::open_dir(dir.path()).expect("log");
    let opts = BackfillOptions {
        base_url: base.clone(),
        user: ACCOUNT_SID.into(),
        password: AUTH_TOKEN.into(),
        workspaces: vec![WS.into()],
        days: 1,
        request_timeout: std::time::Duration::from_secs(10),
    };
    let started = std::time::Instant::now();
    let report = backfill(opts.clone(), &mut log, NOW, None).await.expect("backfill");
    assert!(started.elapsed() >= std::time::Duration::from_secs(1), "Retry-After was honoured");
    assert_eq!(report.retries, 2, "{report}");
    assert_eq!((report.stored, report.duplicates), (2, (calls.load(Ordering::SeqCst) as u64 - 3) * 2), "{report}");

    let bad = BackfillOptions { base_url: format!("{base}/bad"), ..opts };
    let err = backfill(bad, &mut log, NOW, None).await.expect_err("malformed JSON");
    assert!(format!("{err:#}").contains("unexpected answer"), "{err:#}");
    server.abort();
}
