//! The floor survives the event retention: a server over a real SQLite file whose floor
//! (the day of [`super::queues`]) was created 40 days ago is restarted, purges the log, and
//! still lists the workers with their activity, channels and queue eligibility; a second
//! restart over the purged file gives the same answers.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use wallboard::clock::ManualClock;
use wallboard::storage::{EventLog, SqliteLog};
use wallboard_shared::workers::{WorkerChannelPage, WorkerPage};

use super::helpers::{Form, TestApp, serve_args, spawn_app_with};
use super::queues::{
    alice, available, bob, broken_q, carol, counts, floor_day, fw, offline, path, per_activity, sales_q, support_q,
    vip_q,
};
use super::scenario::{D, NOW};

const DAY_MS: i64 = 86_400_000;
/// 40 days after the floor's day (the retention is the default 30 days).
const LATER: i64 = NOW + 40 * DAY_MS;

/// Waits (bounded) until the log holds `n` events: the purge runs on the server's first
/// housekeeping tick.
async fn log_holds(app: &TestApp, n: u64) {
    let log = SqliteLog::open_dir(&app.data_dir).expect("open a reader of the log");
    let wait = async {
        while log.count().expect("count") != n {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    if tokio::time::timeout(Duration::from_secs(10), wait).await.is_err() {
        panic!("the log holds {} events, not {n}", log.count().expect("count"));
    }
}

/// The answers about the floor, for comparing two starts.
async fn floor_answers(app: &TestApp) -> Vec<Value> {
    let mut out = Vec::new();
    for p in [
        path("Workers"),
        path(&format!("Workers/{}", alice())),
        path(&format!("Workers/{}/Channels", alice())),
        path(&format!("Workers/{}/Channels", bob())),
        path("Workers/RealTimeStatistics"),
        path("Workers/CumulativeStatistics?Minutes=600"),
        path("TaskQueues"),
        path(&format!("TaskQueues/{}/RealTimeStatistics", sales_q())),
        path(&format!("TaskQueues/{}/RealTimeStatistics", support_q())),
        path("Activities"),
    ] {
        let v = app.get_ok(&p).await;
        out.push(serde_json::from_str(&v.to_string().replace(&app.base, "BASE")).expect("json"));
    }
    out
}

#[tokio::test]
async fn the_floor_outlives_the_retention_across_restarts_and_purges() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = spawn_app_with(serve_args(dir.path()), Arc::new(ManualClock::new(NOW))).await;
    for f in floor_day() {
        assert_eq!(app.post_event(&f.0).await, StatusCode::NO_CONTENT, "event {:?}", f.0);
    }
    app.stop().await;

    // 40 days later: the replay takes the floor events before the retention, then the
    // purge deletes every other old event. What stays (by hand, from `floor_day`): the 3
    // activities' `activity.created`; the `task-queue.created` of Sales, Support, Broken
    // and VIP (Old was deleted); alice's created and her voice and chat capacities (3);
    // bob's created, voice capacity, activity change and attributes change (4); carol's
    // created (1); nothing of dave (deleted); no task or reservation event. 3+4+3+4+1 = 15.
    let app = spawn_app_with(serve_args(dir.path()), Arc::new(ManualClock::new(LATER))).await;
    log_holds(&app, 15).await;

    let workers: WorkerPage = app.get_json(&path("Workers")).await;
    let rows: Vec<(&str, Option<&str>, bool, Option<i64>)> = workers
        .workers
        .iter()
        .map(|w| {
            let since = w.date_status_changed.map(|d| d.timestamp_millis());
            (w.friendly_name.as_str(), w.activity_name.as_deref(), w.available, since)
        })
        .collect();
    // Each in the activity of its last change, since then (40 days ago).
    assert_eq!(
        rows,
        [
            ("alice", Some("Available"), true, Some(D + 10_000)),
            ("bob", Some("Break"), false, Some(D + 3_000_000)),
            ("carol", Some("Offline"), false, Some(D + 30_000)),
        ]
    );
    let (status, _) = app.get_error(&path(&format!("Workers/{}", super::queues::dave()))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "dave was deleted before the retention");

    // Channels as configured 40 days ago; T3's reservation is long gone, so nothing is assigned.
    let channels: WorkerChannelPage = app.get_json(&path(&format!("Workers/{}/Channels", alice()))).await;
    assert_eq!(super::workers::channel_rows(&channels), [("voice", 1, 0, 100, true), ("chat", 3, 0, 100, true)]);
    let bobs: WorkerChannelPage = app.get_json(&path(&format!("Workers/{}/Channels", bob()))).await;
    assert_eq!((bobs.channels[0].configured_capacity, bobs.channels[0].available), (2, false));

    // Queue eligibility from the kept expressions and attributes: Sales `skills HAS
    // 'sales'` = alice, bob (attributes changed at 4000 s), carol; Support = alice, bob;
    // VIP `level > 4` = carol; Broken none. Available: alice only. No task is live.
    let queues: Value = app.get_ok(&path("TaskQueues")).await;
    let mut names: Vec<&str> =
        queues["task_queues"].as_array().expect("a list").iter().filter_map(|q| q["friendly_name"].as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["Broken", "Sales", "Support", "VIP"]);
    for (q, eligible, available_workers) in
        [(sales_q(), 3, 1), (support_q(), 2, 1), (vip_q(), 1, 0), (broken_q(), 0, 0)]
    {
        let v = app.get_ok(&path(&format!("TaskQueues/{q}/RealTimeStatistics"))).await;
        let got =
            (v["total_eligible_workers"].as_u64(), v["total_available_workers"].as_u64(), v["total_tasks"].as_u64());
        assert_eq!(got, (Some(eligible), Some(available_workers), Some(0)), "{q}");
    }
    let support: WorkerPage = app.get_json(&path("Workers?TaskQueueName=Support")).await;
    let names: Vec<&str> = support.workers.iter().map(|w| w.friendly_name.as_str()).collect();
    assert_eq!(names, ["alice", "bob"]);

    let v = app.get_ok(&path("Workers/RealTimeStatistics")).await;
    assert_eq!(v["total_workers"].as_u64(), Some(3));
    assert_eq!(per_activity(&v["activity_statistics"]), counts(&[("Available", 1), ("Break", 1), ("Offline", 1)]));
    // The last 600 minutes: each worker one stay of the whole window in its activity
    // (36000 s), nothing of the activities they left 40 days ago.
    let v = app.get_ok(&path("Workers/CumulativeStatistics?Minutes=600")).await;
    let durations: Vec<(&str, u64, u64)> = v["activity_durations"]
        .as_array()
        .expect("durations")
        .iter()
        .map(|a| {
            (
                a["friendly_name"].as_str().unwrap_or_default(),
                a["total"].as_u64().unwrap_or(0),
                a["max"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(durations, [("Available", 36_000, 36_000), ("Break", 36_000, 36_000), ("Offline", 36_000, 36_000)]);

    // An event within the retention joins the kept floor: carol goes Available an hour ago.
    let change = Form::new("worker.activity.update", 0xfa01, LATER - 3_600_000, &fw())
        .with("WorkerSid", carol())
        .with("WorkerName", "carol")
        .with("WorkerActivitySid", available())
        .with("WorkerActivityName", "Available")
        .with("WorkerPreviousActivitySid", offline())
        .with("WorkerPreviousActivityName", "Offline");
    assert_eq!(app.post_event(&change.0).await, StatusCode::NO_CONTENT);
    let before = floor_answers(&app).await;
    // Offline: carol 36000 − 3600 = 32400 s; Available: alice 36000 + carol 3600 s.
    let d = &before[5]["activity_durations"];
    assert_eq!((d[0]["total"].as_u64(), d[2]["total"].as_u64()), (Some(39_600), Some(32_400)));
    app.stop().await;

    // A restart over the purged file rebuilds the same floor.
    let app = spawn_app_with(serve_args(dir.path()), Arc::new(ManualClock::new(LATER))).await;
    log_holds(&app, 16).await;
    assert_eq!(floor_answers(&app).await, before);
    app.stop().await;
}
