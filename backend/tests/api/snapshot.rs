//! The engine's snapshot (`wallboard::snapshot`): a server that stopped starts again from it,
//! replaying only the events stored after it, and answers exactly as a full replay of the
//! log does; a snapshot that does not fit (damaged, other settings, a log that moved on
//! without it) is not used.

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;
use wallboard::clock::ManualClock;
use wallboard::config::Source;

use super::helpers::{ACCOUNT_SID, AUTH_TOKEN, TestApp, serve_args, spawn_app_with, until};
use super::scenario::NOW;

const MINUTE: i64 = 60_000;

/// A server running the built-in center (three hours of history), the snapshot on or off.
async fn center(dir: &Path, now_ms: i64, snapshot: bool) -> TestApp {
    let mut args = serve_args(dir);
    args.source = Source::Simulator;
    args.sim_seed = Some(11);
    args.sim_history_hours = 3;
    args.no_snapshot = !snapshot;
    spawn_app_with(args, Arc::new(ManualClock::new(now_ms))).await
}

/// What a supervisor sees, across every kind of statistics the engine answers: each
/// workflow, the workspace, the task queues, the workers and their activities. URLs carry
/// the server's port, which changes with each start: it is taken out.
async fn answers(app: &TestApp) -> Vec<Value> {
    let demo = app.demo();
    let ws = demo.workspace_sid.to_string();
    let mut paths = vec![
        format!("/v1/Workspaces/{ws}/Statistics?Minutes=240"),
        format!("/v1/Workspaces/{ws}/RealTimeStatistics"),
        format!("/v1/Workspaces/{ws}/TaskQueues/Statistics?Minutes=240&PageSize=1000"),
        format!("/v1/Workspaces/{ws}/Workers/Statistics?Minutes=240"),
        format!("/v1/Workspaces/{ws}/Workers?PageSize=1000"),
        format!("/v1/Workspaces/{ws}/Activities"),
    ];
    for (wf, _) in &demo.workflows {
        paths.push(format!("/v1/Workspaces/{ws}/Workflows/{wf}/Statistics?Minutes=240&SplitByWaitTime=20,60,300"));
    }
    let mut out = Vec::new();
    for path in paths {
        let body = app.get_ok(&path).await.to_string().replace(&app.base, "BASE");
        out.push(serde_json::from_str(&body).expect("json"));
    }
    out
}

/// `wallboard_replay_from_snapshot` on `/metrics`.
async fn from_snapshot(app: &TestApp) -> bool {
    let body = app
        .client
        .get(format!("{}/metrics", app.base))
        .basic_auth(ACCOUNT_SID, Some(AUTH_TOKEN))
        .send()
        .await
        .expect("scrape")
        .text()
        .await
        .expect("a body");
    let line = body.lines().find(|l| l.starts_with("wallboard_replay_from_snapshot ")).expect("the gauge");
    line.ends_with(" 1")
}

fn events_stored(dir: &Path) -> u64 {
    let db = rusqlite::Connection::open(dir.join(wallboard::storage::DB_FILE)).expect("open the database");
    db.query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0)).expect("count")
}

#[tokio::test]
async fn a_start_from_the_snapshot_replays_only_the_tail_and_answers_as_a_full_replay() {
    let dir = tempfile::tempdir().expect("tempdir");
    let snapshot = dir.path().join(wallboard::snapshot::FILE);
    let first = center(dir.path(), NOW, true).await;
    assert_eq!(first.replayed, 0, "a new database");
    assert!(!from_snapshot(&first).await);
    first.stop().await;
    assert!(snapshot.exists(), "a stopped server leaves its engine's snapshot");
    let older = std::fs::read(&snapshot).expect("read the snapshot");

    // Half an hour later: the start reads the snapshot and nothing after it; the center then
    // catches up on the half hour, as it always does.
    let later = NOW + 30 * MINUTE;
    let second = center(dir.path(), later, true).await;
    assert_eq!(second.replayed, 0, "every stored event was in the snapshot");
    assert!(from_snapshot(&second).await, "the start says it read the snapshot");
    let want = answers(&second).await;
    second.stop().await;
    let stored = events_stored(dir.path());

    // As if the server had been killed after the first snapshot: the half hour's events
    // are the tail, replayed after the snapshot.
    std::fs::write(&snapshot, &older).expect("put the older snapshot back");
    let third = center(dir.path(), later, true).await;
    assert!(third.replayed > 0 && third.replayed < stored, "only the tail is replayed: {} of {stored}", third.replayed);
    assert_eq!(answers(&third).await, want, "the older snapshot and its tail");
    third.stop().await;

    // And the whole log, without a snapshot.
    let fourth = center(dir.path(), later, false).await;
    assert_eq!(fourth.replayed, stored, "a full replay");
    assert!(!from_snapshot(&fourth).await);
    assert_eq!(answers(&fourth).await, want, "a full replay");
    fourth.stop().await;
}

#[tokio::test]
async fn a_snapshot_that_does_not_fit_is_not_used() {
    let dir = tempfile::tempdir().expect("tempdir");
    let snapshot = dir.path().join(wallboard::snapshot::FILE);
    let app = center(dir.path(), NOW, true).await;
    let want = answers(&app).await;
    app.stop().await;
    let all = events_stored(dir.path());

    // Damaged: one byte of the engine's state changed.
    let mut bytes = std::fs::read(&snapshot).expect("read the snapshot");
    let at = bytes.len() / 2;
    bytes[at] ^= 0x40;
    std::fs::write(&snapshot, &bytes).expect("damage the snapshot");
    let app = center(dir.path(), NOW, true).await;
    assert_eq!(app.replayed, all, "a damaged snapshot is not used");
    assert_eq!(answers(&app).await, want);
    app.stop().await;

    // Cut short.
    let bytes = std::fs::read(&snapshot).expect("read the snapshot");
    std::fs::write(&snapshot, &bytes[..bytes.len() - 100]).expect("truncate the snapshot");
    let app = center(dir.path(), NOW, true).await;
    assert_eq!(app.replayed, all, "a truncated snapshot is not used");
    app.stop().await;

    // The log moved on without it: the event the snapshot ends on is gone (a purge, a
    // restored backup). The start replays the log as it is.
    let app = center(dir.path(), NOW, true).await;
    assert_eq!(app.replayed, 0, "the snapshot fits again");
    app.stop().await;
    let db = rusqlite::Connection::open(dir.path().join(wallboard::storage::DB_FILE)).expect("open the database");
    db.execute("DELETE FROM events WHERE rowid = (SELECT MAX(rowid) FROM events)", []).expect("delete the newest row");
    drop(db);
    let app = center(dir.path(), NOW, true).await;
    assert_eq!(app.replayed, all - 1, "the log as it is, in full");
    app.stop().await;

    // Other engine settings (the retention).
    let mut args = serve_args(dir.path());
    args.source = Source::Simulator;
    args.sim_seed = Some(11);
    args.sim_history_hours = 3;
    args.retention_days = 7;
    let app = spawn_app_with(args, Arc::new(ManualClock::new(NOW))).await;
    assert_eq!(app.replayed, all - 1, "a snapshot of other settings is not used");
    app.stop().await;
}

#[tokio::test]
async fn no_snapshot_writes_none() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = center(dir.path(), NOW, false).await;
    app.stop().await;
    assert!(!dir.path().join(wallboard::snapshot::FILE).exists());
}

/// A start that replayed the log in full saves its engine at once: a server killed before its
/// next graceful stop (which would write the snapshot) starts from that one and the events
/// stored since, and answers as a full replay does. A start from a snapshot with a short
/// tail leaves the file as it is.
#[tokio::test]
async fn a_full_replay_saves_the_engine_so_a_kill_before_the_next_stop_starts_from_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let snapshot = dir.path().join(wallboard::snapshot::FILE);
    let first = center(dir.path(), NOW, true).await;
    first.stop().await;
    std::fs::remove_file(&snapshot).expect("no snapshot: the next start replays in full");
    let stored = events_stored(dir.path());

    let later = NOW + 30 * MINUTE;
    let second = center(dir.path(), later, true).await;
    assert_eq!(second.replayed, stored, "a full replay");
    let saved = std::fs::read(&snapshot).expect("the start saved its engine before serving");
    // The center catches up on the half hour; then the server "dies": its stop-time snapshot
    // is replaced by the one the start saved.
    let want = answers(&second).await;
    second.stop().await;
    let all = events_stored(dir.path());
    assert!(all > stored, "the half hour's events");
    std::fs::write(&snapshot, &saved).expect("as if killed: the start's snapshot");

    let third = center(dir.path(), later, true).await;
    assert!(from_snapshot(&third).await, "started from the start's snapshot");
    assert_eq!(third.replayed, all - stored, "only the events stored after the start");
    assert_eq!(std::fs::read(&snapshot).expect("read"), saved, "a short tail saves nothing new");
    assert_eq!(answers(&third).await, want, "as a full replay");
    third.stop().await;
}

/// A server's arguments over `dir` with a snapshot every hour while it runs.
fn hourly(dir: &Path) -> wallboard::config::ServeArgs {
    let mut args = serve_args(dir);
    args.engine_snapshot_hours = 1;
    args
}

/// The periodic snapshot counts from the newest snapshot, not from the start: a server that
/// starts 50 minutes after its last snapshot (a short tail: it writes none at start) writes
/// the next one 10 minutes later with `--engine-snapshot-hours 1`, so a server restarted
/// often never runs on a snapshot older than the interval.
#[tokio::test]
async fn the_periodic_snapshot_counts_from_the_newest_one() {
    use super::scenario;

    let dir = tempfile::tempdir().expect("tempdir");
    let snapshot = dir.path().join(wallboard::snapshot::FILE);
    let args = || hourly(dir.path());
    let clock = Arc::new(ManualClock::new(NOW));
    let events = scenario::events();
    let (first, rest) = events.split_at(events.len() / 2);
    let app = spawn_app_with(args(), clock.clone()).await;
    for f in first {
        assert_eq!(app.post_event(&f.0).await, reqwest::StatusCode::NO_CONTENT);
    }
    app.stop().await;
    let at_stop = std::fs::read(&snapshot).expect("the stop's snapshot");

    clock.advance(50 * MINUTE);
    let again = spawn_app_with(args(), clock.clone()).await;
    assert!(from_snapshot(&again).await, "started from the stop's snapshot");
    assert_eq!(std::fs::read(&snapshot).expect("read"), at_stop, "a short tail writes none at start");
    // Each event's batch checks whether a snapshot is due; an answer comes after the check
    // of the batch before it.
    assert_eq!(again.post_event(&rest[0].0).await, reqwest::StatusCode::NO_CONTENT);
    assert_eq!(again.post_event(&rest[1].0).await, reqwest::StatusCode::NO_CONTENT);
    assert_eq!(std::fs::read(&snapshot).expect("read"), at_stop, "not due 50 minutes after the newest");

    clock.advance(10 * MINUTE);
    assert_eq!(again.post_event(&rest[2].0).await, reqwest::StatusCode::NO_CONTENT);
    assert_eq!(again.post_event(&rest[3].0).await, reqwest::StatusCode::NO_CONTENT);
    assert_ne!(
        std::fs::read(&snapshot).expect("read"),
        at_stop,
        "due an hour after the newest, 10 minutes after the start"
    );
    again.stop().await;
}

/// While it runs, a server writes a snapshot every `--engine-snapshot-hours` by its clock,
/// after the batch that finds it due. Killed later, before a graceful stop, it starts from
/// that snapshot and the events stored after it, and answers as a full replay does.
#[tokio::test]
async fn a_running_server_writes_a_snapshot_every_few_hours() {
    use super::scenario::{self, SUPPORT, WS, sales};

    let dir = tempfile::tempdir().expect("tempdir");
    let snapshot = dir.path().join(wallboard::snapshot::FILE);
    let args = || hourly(dir.path());
    let clock = Arc::new(ManualClock::new(NOW));
    let app = spawn_app_with(args(), clock.clone()).await;
    let events = scenario::events();
    let half = events.len() / 2;
    for f in &events[..half] {
        assert_eq!(app.post_event(&f.0).await, reqwest::StatusCode::NO_CONTENT);
    }
    assert!(!snapshot.exists(), "not due within the hour (a new database: none at start)");

    clock.advance(60 * MINUTE);
    // The writer's next batch finds the snapshot due. Nothing is posted until it is written:
    // the batch may be the housekeeping's (its follow every second, its maintenance), so the
    // snapshot holds exactly the events stored so far.
    // The file is whole once it exists: it is renamed into place.
    until("the periodic snapshot is written", || snapshot.exists()).await;
    let saved = std::fs::read(&snapshot).expect("the periodic snapshot");
    let at_snapshot = events_stored(dir.path());
    for f in &events[half..] {
        assert_eq!(app.post_event(&f.0).await, reqwest::StatusCode::NO_CONTENT);
    }
    let paths = [
        sales("Statistics?Minutes=600&SplitByWaitTime=20,60"),
        sales("RealTimeStatistics"),
        format!("/v1/Workspaces/{WS}/Workflows/{SUPPORT}/Statistics?Minutes=600"),
        format!("/v1/Workspaces/{WS}/Statistics?Minutes=600"),
    ];
    let mut want = Vec::new();
    for p in &paths {
        want.push(app.get_ok(p).await.to_string().replace(&app.base, "BASE"));
    }
    app.stop().await;
    let all = events_stored(dir.path());
    // As if killed: the stop's snapshot never written, the periodic one is the newest.
    std::fs::write(&snapshot, &saved).expect("put the periodic snapshot back");

    let again = spawn_app_with(args(), clock.clone()).await;
    assert!(from_snapshot(&again).await, "started from the periodic snapshot");
    assert_eq!(again.replayed, all - at_snapshot, "only the events stored after it");
    for (p, want) in paths.iter().zip(&want) {
        assert_eq!(&again.get_ok(p).await.to_string().replace(&again.base, "BASE"), want, "{p}");
    }
    again.stop().await;
}
