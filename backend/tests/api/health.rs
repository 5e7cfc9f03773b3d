//! `GET /health` and `GET /ready` of a node alone on SQLite, and `Retry-After` on 503s.

use std::sync::Arc;

use reqwest::StatusCode;
use wallboard::clock::ManualClock;
use wallboard::config::Source;
use wallboard_shared::health::NodeHealth;

use crate::helpers::{TIMEOUT, serve_args, spawn_app_with};

const NOW: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

async fn node_says(base: &str, path: &str) -> (StatusCode, NodeHealth) {
    // No credentials: load balancers and orchestrators probe these.
    let r = reqwest::Client::builder().timeout(TIMEOUT).build().expect("client").get(format!("{base}{path}"));
    let r = r.send().await.expect("request");
    let status = r.status();
    (status, r.json().await.expect("a NodeHealth body"))
}

#[tokio::test]
async fn a_lone_node_is_ready_and_runs_its_roles() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut args = serve_args(dir.path());
    args.node_name = Some("wall-1".into());
    let app = spawn_app_with(args, Arc::new(ManualClock::new(NOW))).await;
    let expected = NodeHealth {
        status: "alive".into(),
        node: "wall-1".into(),
        database: "up".into(),
        ready: true,
        // Scripted events only: no simulator, no mirror; the purge and the alerts are a lone node's jobs.
        roles: vec!["purge".into(), "alerts".into()],
    };
    assert_eq!(node_says(&app.base, "/health").await, (StatusCode::OK, expected.clone()));
    assert_eq!(node_says(&app.base, "/ready").await, (StatusCode::OK, expected));
    app.stop().await;

    let dir = tempfile::tempdir().expect("tempdir");
    let mut args = serve_args(dir.path());
    args.source = Source::Simulator;
    args.sim_seed = Some(7);
    args.sim_history_hours = 1;
    let app = spawn_app_with(args, Arc::new(ManualClock::new(NOW))).await;
    let (status, health) = node_says(&app.base, "/ready").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(health.roles, ["simulator", "purge", "alerts"]);
    // Named after the host and the port it listens on when no name is given.
    let port = app.base.rsplit(':').next().expect("a port");
    assert!(health.node.ends_with(&format!(":{port}")), "{}", health.node);
    app.stop().await;
}
