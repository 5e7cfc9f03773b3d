//! A workspace's own statistics and its activities, over the floor of [`super::queues`].
//!
//! Hand-worked at 18:00Z: live tasks T1 (voice p1, pending, created 1000 s), T2 (chat p2,
//! pending, 2000 s), T3 (voice p0, assigned), T4 (voice p0, pending, 3000 s; it timed out
//! of its queue, not of the workflow). Over the day: 5 tasks entered the workflow, T5 was
//! canceled after 100 s, T3 accepted after 110 s (1500 → 1610 s), T1 and T2 moved once each.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{Value, json};
use wallboard::clock::ManualClock;
use wallboard_shared::resources::Workspace;
use wallboard_shared::workers::{Activity, ActivityPage};
use wallboard_shared::workspace::{WorkspaceCumulativeStatistics, WorkspaceRealTimeStatistics, WorkspaceStatistics};

use super::helpers::{ACCOUNT_SID, AUTH_TOKEN, TIMEOUT, TestApp, serve_args, spawn_app_with};
use super::queues::{brk, counts, floor_app, fw, path, per_activity, sales_q, sid, support_q, task};
use super::scenario::NOW;

#[tokio::test]
async fn workspace_realtime_adds_up_every_task_and_worker() {
    let app = floor_app().await;
    let v = app.get_ok(&path("RealTimeStatistics")).await;
    let rt: WorkspaceRealTimeStatistics = serde_json::from_value(v.clone()).expect("decode");
    assert_eq!(v["tasks_by_status"], json!({"pending": 3, "reserved": 0, "assigned": 1, "wrapping": 0}));
    assert_eq!(v["tasks_by_priority"], json!({"0": 2, "1": 1, "2": 1}));
    assert_eq!((rt.stats.total_tasks, rt.stats.total_workers), (4, 3));
    assert_eq!(rt.stats.longest_task_waiting_age, 35_000);
    assert_eq!(rt.stats.longest_task_waiting_sid.map(|t| t.to_string()), Some(task(1)));
    assert_eq!(per_activity(&v["activity_statistics"]), counts(&[("Available", 1), ("Break", 1), ("Offline", 1)]));
    assert_eq!(rt.url, format!("{}{}", app.base, path("RealTimeStatistics")));

    let voice: WorkspaceRealTimeStatistics = app.get_json(&path("RealTimeStatistics?TaskChannel=voice")).await;
    let s = &voice.stats.tasks_by_status;
    assert_eq!((s.pending, s.assigned, voice.stats.total_tasks), (2, 1, 3));
    let chat: WorkspaceRealTimeStatistics = app.get_json(&path("RealTimeStatistics?TaskChannel=chat")).await;
    assert_eq!((chat.stats.total_tasks, chat.stats.longest_task_waiting_age), (1, 34_000));
    assert_eq!(chat.stats.longest_task_waiting_sid.map(|t| t.to_string()), Some(task(2)));
    app.stop().await;
}

#[tokio::test]
async fn workspace_cumulative_adds_up_every_workflow() {
    let app = floor_app().await;
    let v = app.get_ok(&path("CumulativeStatistics?StartDate=2026-11-27&SplitByWaitTime=60")).await;
    let c: WorkspaceCumulativeStatistics = serde_json::from_value(v.clone()).expect("decode");
    let s = &c.stats;
    assert_eq!((s.tasks_created, s.tasks_canceled, s.tasks_completed, s.tasks_moved), (5, 1, 0, 2));
    assert_eq!((s.tasks_deleted, s.tasks_timed_out_in_workflow), (0, 0));
    assert_eq!((s.reservations_created, s.reservations_accepted), (1, 1));
    assert_eq!(v["wait_duration_until_accepted"], json!({"avg": 110, "min": 110, "max": 110, "total": 110}));
    assert_eq!(v["wait_duration_until_canceled"], json!({"avg": 100, "min": 100, "max": 100, "total": 100}));
    assert_eq!(s.avg_task_acceptance_time, 110);
    assert_eq!(v["split_by_wait_time"]["60"]["above"], json!({"tasks_canceled": 1, "reservations_accepted": 1}));
    assert_eq!(s.end_time.timestamp_millis(), NOW);

    let quiet: WorkspaceCumulativeStatistics = app.get_json(&path("CumulativeStatistics")).await;
    assert_eq!((quiet.stats.tasks_created, quiet.stats.split_by_wait_time), (0, None));
    assert_eq!(quiet.stats.start_time.timestamp_millis(), NOW - 15 * 60_000);

    let both: WorkspaceStatistics = app.get_json(&path("Statistics?StartDate=2026-11-27&TaskChannel=chat")).await;
    // Chat: T5 (canceled) and T2 (pending, moved).
    assert_eq!((both.cumulative.tasks_created, both.cumulative.tasks_canceled), (2, 1));
    assert_eq!((both.realtime.total_tasks, both.realtime.total_workers), (1, 3));
    assert_eq!(both.url, format!("{}{}", app.base, path("Statistics")));

    for bad in ["Statistics?Minutes=-1", "CumulativeStatistics?TaskChannel=fax", "RealTimeStatistics?TaskChannel=fax"] {
        let (status, e) = app.get_error(&path(bad)).await;
        assert_eq!((status, e.code), (StatusCode::BAD_REQUEST, 20001), "{bad}");
    }
    let (status, e) = app.get_error(&format!("/v1/Workspaces/{}/Statistics", sid("WS", 0x999))).await;
    assert_eq!((status, e.code), (StatusCode::NOT_FOUND, 20404));
    app.stop().await;
}

#[tokio::test]
async fn activities_are_listed_and_fetched() {
    let app = floor_app().await;
    let all: ActivityPage = app.get_json(&path("Activities")).await;
    let rows: Vec<(&str, bool)> = all.activities.iter().map(|a| (a.friendly_name.as_str(), a.available)).collect();
    assert_eq!(rows, [("Available", true), ("Break", false), ("Offline", false)]);
    assert_eq!(all.meta.key, "activities");
    let only: ActivityPage = app.get_json(&path("Activities?Available=true")).await;
    assert_eq!(only.activities.len(), 1);
    let named: ActivityPage = app.get_json(&path("Activities?FriendlyName=Break&PageSize=1")).await;
    assert_eq!(named.activities[0].sid.to_string(), brk());
    assert_eq!(named.meta.next_page_url, None);
    let paged: ActivityPage = app.get_json(&path("Activities?PageSize=2&Page=1")).await;
    assert_eq!(paged.activities[0].friendly_name, "Offline");

    let one: Activity = app.get_json(&path(&format!("Activities/{}", brk()))).await;
    assert_eq!((one.friendly_name.as_str(), one.available), ("Break", false));
    assert_eq!(one.url, format!("{}{}", app.base, path(&format!("Activities/{}", brk()))));
    for missing in [format!("Activities/{}", sid("WA", 0x999)), "Activities/Break".into()] {
        let (status, e) = app.get_error(&path(&missing)).await;
        assert_eq!((status, e.code), (StatusCode::NOT_FOUND, 20404), "{missing}");
    }

    let ws: Workspace = app.get_json(&format!("/v1/Workspaces/{}", fw())).await;
    assert_eq!(ws.links.get("task_queues"), Some(&format!("{}{}", app.base, path("TaskQueues"))));
    assert_eq!(ws.links.get("statistics"), Some(&format!("{}{}", app.base, path("Statistics"))));
    app.stop().await;
}

/// A mirror (`--source twilio`) of `upstream`, polling every 100 ms.
async fn mirror_of(upstream: &str) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut args = serve_args(dir.path());
    args.source = wallboard::config::Source::Twilio;
    args.upstream_base = upstream.to_owned();
    args.twilio_account_sid = Some(ACCOUNT_SID.into());
    args.twilio_auth_token = Some(AUTH_TOKEN.into());
    args.poll_realtime_ms = 100;
    args.poll_cumulative_ms = 200;
    args.upstream_timeout_ms = 2000;
    args.upstream_requests_per_second = 1000;
    let mut app = spawn_app_with(args, Arc::new(ManualClock::new(NOW))).await;
    app.keep_dir(dir);
    app
}

/// `v` without the fields that name the server (URLs, links, account).
fn numbers(mut v: Value) -> Value {
    if let Value::Object(map) = &mut v {
        map.retain(|k, _| !k.ends_with("url") && k != "links" && k != "account_sid");
        for value in map.values_mut() {
            *value = numbers(value.take());
        }
    }
    if let Value::Array(items) = &mut v {
        for value in items.iter_mut() {
            *value = numbers(value.take());
        }
    }
    v
}

#[tokio::test]
async fn a_mirror_answers_the_queue_worker_and_workspace_resources_of_its_source() {
    let source = floor_app().await;
    let mirror = mirror_of(&source.base).await;
    let resources = [
        "TaskQueues".to_owned(),
        "Activities".into(),
        format!("TaskQueues/{}/RealTimeStatistics", sales_q()),
        format!("TaskQueues/{}/RealTimeStatistics?TaskChannel=chat", sales_q()),
        format!("TaskQueues/{}/CumulativeStatistics?StartDate=2026-11-27", support_q()),
        format!("TaskQueues/{}/Statistics?SplitByWaitTime=30", sales_q()),
        "TaskQueues/Statistics?PageSize=2".into(),
        "Workers/RealTimeStatistics".into(),
        "Workers/CumulativeStatistics?StartDate=2026-11-27".into(),
        "Workers/Statistics".into(),
        "RealTimeStatistics?TaskChannel=voice".into(),
        "CumulativeStatistics?StartDate=2026-11-27&SplitByWaitTime=60".into(),
        "Statistics?StartDate=2026-11-27".into(),
    ];
    for r in &resources {
        let theirs = numbers(source.get_ok(&path(r)).await);
        let mine = numbers(mirror.get_ok(&path(r)).await);
        assert_eq!(mine, theirs, "{r}");
    }
    let r = mirror
        .client
        .get(format!("{}{}", mirror.base, path("RealTimeStatistics")))
        .basic_auth(ACCOUNT_SID, Some(AUTH_TOKEN))
        .send()
        .await
        .expect("request");
    assert_eq!(r.headers().get("x-wallboard-stale").and_then(|v| v.to_str().ok()), Some("false"));
    // Filters of Workers/Statistics are answered from events only.
    let (status, e) = mirror.get_error(&path("Workers/Statistics?FriendlyName=alice")).await;
    assert_eq!((status, e.code), (StatusCode::SERVICE_UNAVAILABLE, 20503));
    mirror.stop().await;
    source.stop().await;
}

/// Twilio's Python helper library parses every queue, worker, activity and workspace
/// resource of the server (`scripts/twilio-client-check.py`; `scripts/setup.sh test`
/// installs the library). Skipped only when there is no `python3`.
#[tokio::test]
async fn twilios_python_library_parses_every_new_resource() {
    if std::process::Command::new("python3").arg("--version").output().is_err() {
        eprintln!("SKIPPED: python3 is not installed, so the twilio helper library cannot be checked");
        return;
    }
    let app = floor_app().await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/twilio-client-check.py");
    let args = [script.to_owned(), app.base.clone(), ACCOUNT_SID.into(), AUTH_TOKEN.into(), fw()];
    let run = tokio::task::spawn_blocking(move || std::process::Command::new("python3").args(&args).output());
    let out = tokio::time::timeout(TIMEOUT, run).await.expect("the check ends in time").expect("joined").expect("runs");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "twilio-client-check failed ({}):\n{stdout}\n{stderr}", out.status);
    assert!(stdout.contains("4 queues, 3 workers, 3 activities parsed"), "{stdout}");
    app.stop().await;
}
