//! `wallboard import` as a user runs it: the real binary on a real file, then the server.

use std::io::Write;
use std::process::Command;
use std::sync::Arc;

use wallboard::clock::ManualClock;
use wallboard_shared::resources::{
    WorkflowCumulativeStatistics, WorkflowRealTimeStatistics, WorkflowStatistics, Workspace,
};

use super::helpers::{TIMEOUT, serve_args, spawn_app_with};
use super::scenario::{self, NOW, WS, sales};

/// The scripted day as Events API NDJSON.
fn ndjson() -> String {
    let mut out = String::new();
    for form in scenario::events() {
        let event = wallboard::event::Event::from_form(&form.0).expect("valid");
        let resource = event.to_resource(super::helpers::ACCOUNT_SID, "https://taskrouter.twilio.com");
        out.push_str(&serde_json::to_string(&resource).expect("json"));
        out.push('\n');
    }
    out
}

#[tokio::test]
async fn imported_history_gives_the_same_numbers_as_callbacks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("day.ndjson");
    let mut text = ndjson();
    text.push_str("{\"sid\": \"EVbad\"}\n\nnot json\n");
    std::fs::File::create(&file).and_then(|mut f| f.write_all(text.as_bytes())).expect("write");
    let data_dir = dir.path().join("data");
    let data_dir_for_run = data_dir.clone();
    let run = move |file: &std::path::Path| {
        let output = Command::new(env!("CARGO_BIN_EXE_wallboard"))
            .args(["import", file.to_str().expect("utf-8"), "--data-dir", data_dir_for_run.to_str().expect("utf-8")])
            .output()
            .expect("run wallboard import");
        (output.status.code(), String::from_utf8_lossy(&output.stdout).into_owned())
    };
    let total = scenario::events().len();
    let (code, out) = tokio::time::timeout(
        TIMEOUT,
        tokio::task::spawn_blocking({
            let file = file.clone();
            let run = run.clone();
            move || run(&file)
        }),
    )
    .await
    .expect("in time")
    .expect("join");
    assert_eq!(code, Some(3), "rejected lines give exit status 3: {out}");
    // One duplicate (T2's cancel is in the script twice); lines 43 and 45 are bad.
    let bad1 = total + 1;
    let bad2 = total + 3;
    assert!(
        out.contains(&format!("read {} events: {} stored, 1 duplicates, 2 rejected", total + 2, total - 1)),
        "{out}"
    );
    assert!(out.contains(&format!("line {bad1}:")) && out.contains(&format!("line {bad2}:")), "{out}");

    let app = spawn_app_with(serve_args(&data_dir), Arc::new(ManualClock::new(NOW))).await;
    let c: WorkflowCumulativeStatistics =
        app.get_json(&format!("{}?StartDate=2026-11-27&SplitByWaitTime=20", sales("CumulativeStatistics"))).await;
    assert_eq!((c.stats.tasks_entered, c.stats.tasks_canceled), (8, 2));
    assert_eq!(c.stats.wait_duration_until_accepted.total, 31);
    let rt: WorkflowRealTimeStatistics = app.get_json(&sales("RealTimeStatistics")).await;
    assert_eq!(rt.stats.total_tasks, 4);
    assert_eq!(app.get_json::<Workspace>(&format!("/v1/Workspaces/{WS}")).await.friendly_name, "Demo Contact Center");
    app.stop().await;

    // Re-running the import stores nothing new.
    let (code, out) = tokio::task::spawn_blocking(move || run(&file)).await.expect("join");
    assert_eq!(code, Some(3));
    assert!(out.contains(" 0 stored, "), "{out}");
}

/// A server that is running applies what `wallboard import` stores meanwhile, each event
/// once, and the numbers equal a server that got them as callbacks.
#[tokio::test]
async fn a_running_server_applies_events_imported_meanwhile() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = spawn_app_with(serve_args(dir.path()), Arc::new(ManualClock::new(NOW))).await;
    // Half of the day by callbacks, the other half imported while the server runs.
    let forms = scenario::events();
    let (live, imported) = forms.split_at(forms.len() / 2);
    for f in live {
        assert_eq!(app.post_event(&f.0).await, reqwest::StatusCode::NO_CONTENT);
    }
    let file = dir.path().join("rest.ndjson");
    let mut text = String::new();
    for form in imported {
        let event = wallboard::event::Event::from_form(&form.0).expect("valid");
        text.push_str(&serde_json::to_string(&event.to_resource(super::helpers::ACCOUNT_SID, "x")).expect("json"));
        text.push('\n');
    }
    std::fs::write(&file, text).expect("write");
    let data_dir = dir.path().to_owned();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_wallboard"))
            .args(["import", file.to_str().expect("utf-8"), "--data-dir", data_dir.to_str().expect("utf-8")])
            .output()
            .expect("run wallboard import")
    })
    .await
    .expect("join");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stdout));

    let reference_dir = tempfile::tempdir().expect("tempdir");
    let reference = spawn_app_with(serve_args(reference_dir.path()), Arc::new(ManualClock::new(NOW))).await;
    scenario::load(&reference).await;
    let path = format!("{}?StartDate=2026-11-27&SplitByWaitTime=20,60", sales("Statistics"));
    let want: WorkflowStatistics = reference.get_json(&path).await;
    let strip = |mut v: WorkflowStatistics| {
        v.url.clear();
        v
    };
    tokio::time::timeout(TIMEOUT, async {
        loop {
            if strip(app.get_json(&path).await) == strip(want.clone()) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("the imported half is applied");
    reference.stop().await;
    app.stop().await;
}
