//! The same data directory after a restart gives identical answers.

use std::sync::Arc;

use wallboard::clock::ManualClock;

use super::helpers::{serve_args, spawn_app_with};
use super::scenario::{self, NOW, WS, sales, support};

async fn snapshot(app: &super::helpers::TestApp) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for path in [
        format!("{}?StartDate=2026-11-27&SplitByWaitTime=20,60,300", sales("Statistics")),
        format!("{}?Minutes=600&TaskChannel=chat", sales("CumulativeStatistics")),
        sales("RealTimeStatistics"),
        format!("{}?TaskChannel=voice", sales("RealTimeStatistics")),
        support("Statistics"),
        "/v1/Workspaces".to_owned(),
        format!("/v1/Workspaces/{WS}/Workflows"),
        format!("/v1/Workspaces/{WS}/TaskChannels"),
    ] {
        out.push(app.get_ok(&path).await);
    }
    out
}

#[tokio::test]
async fn restart_on_the_same_file_gives_identical_answers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(ManualClock::new(NOW));
    let app = spawn_app_with(serve_args(dir.path()), clock.clone()).await;
    scenario::load(&app).await;
    let before = snapshot(&app).await;
    let base = app.base.clone();
    app.stop().await;

    let app = spawn_app_with(serve_args(dir.path()), clock).await;
    // The port differs; URLs are built from the new public URL.
    let after: Vec<serde_json::Value> = snapshot(&app)
        .await
        .into_iter()
        .map(|v| serde_json::from_str(&v.to_string().replace(&app.base, &base)).expect("json"))
        .collect();
    assert_eq!(before, after);
    app.stop().await;
}

#[tokio::test]
async fn generated_credentials_are_stored_and_reused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut args = serve_args(dir.path());
    args.account_sid = None;
    args.auth_token = None;
    let first = wallboard::Application::build(&args, Arc::new(ManualClock::new(NOW))).await.expect("build");
    let c1 = first.credentials().clone();
    assert!(c1.generated);
    assert!(c1.auth_token.len() >= 32);
    drop(first);
    let second = wallboard::Application::build(&args, Arc::new(ManualClock::new(NOW))).await.expect("build");
    let c2 = second.credentials().clone();
    assert!(!c2.generated);
    assert_eq!((c1.account_sid, c1.auth_token), (c2.account_sid, c2.auth_token));
}
