//! `wallboard balance` in front of two real nodes: connections go to ready nodes only,
//! callbacks and WebSockets pass through, a dead node is left out.

use std::collections::BTreeSet;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::helpers::Api;
use super::node::{Node, NodeSpec};
use super::postgres::shared_database_url;
use super::{CLUSTER_TIMEOUT, eventually, now_ms, post_ok, serial, task_event, until_total, viewer, workflow_path};

/// The node names that answer `n` fresh connections to `/health` through `at`.
async fn answering(at: &str, n: usize) -> BTreeSet<String> {
    let http =
        reqwest::Client::builder().pool_max_idle_per_host(0).timeout(Duration::from_secs(5)).build().expect("client");
    let mut names = BTreeSet::new();
    for _ in 0..n {
        if let Ok(r) = http.get(format!("{at}/health")).send().await
            && let Ok(v) = r.json::<serde_json::Value>().await
            && let Some(name) = v["node"].as_str()
        {
            names.insert(name.to_owned());
        }
    }
    names
}

#[tokio::test]
async fn the_balancer_spreads_over_ready_nodes_and_leaves_a_dead_one_out() {
    let _serial = serial().await;
    let url = shared_database_url();
    // The balancer's address first: it is the nodes' public URL (callbacks are signed for it).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let front = format!("http://{}", listener.local_addr().expect("addr"));
    let spec = |name: &str| NodeSpec::new(name, &url).arg("--public-url").arg(&front);
    let mut a = Node::start_ready(spec("a")).await;
    let b = Node::start_ready(spec("b")).await;
    let stop = CancellationToken::new();
    let backends = [a.port, b.port].map(|port| std::net::SocketAddr::from(([127, 0, 0, 1], port))).to_vec();
    tokio::spawn(wallboard::balance::serve(listener, backends, Duration::from_millis(200), stop.clone()));
    let lb = Api::new(front.clone());

    // Both nodes answer, in turn.
    let both: BTreeSet<String> = ["a", "b"].map(String::from).into();
    eventually("both nodes answer through the balancer", CLUSTER_TIMEOUT, || async {
        answering(&front, 4).await == both
    })
    .await;
    // A callback and a WebSocket viewer through the balancer.
    let t0 = now_ms() - 60_000;
    post_ok(&lb, &task_event("task.created", 1, 1, t0)).await;
    // The viewer's REST check and its socket may reach different nodes: both must know
    // the workflow first (the other node follows the database within a moment).
    for node in [&a, &b] {
        eventually(&format!("{} knows the workflow", node.name()), CLUSTER_TIMEOUT, || async {
            node.get(&workflow_path("RealTimeStatistics")).await.0 == reqwest::StatusCode::OK
        })
        .await;
    }
    let mut v = viewer(&lb).await;
    until_total(&mut v, 1, false, "through the balancer").await;
    post_ok(&lb, &task_event("task.created", 2, 2, t0 + 1)).await;
    until_total(&mut v, 2, false, "a second callback through the balancer").await;

    // A dies: after the next check every connection goes to B.
    a.kill_9();
    let only_b: BTreeSet<String> = ["b"].map(String::from).into();
    eventually("only B answers", CLUSTER_TIMEOUT, || async { answering(&front, 4).await == only_b }).await;
    post_ok(&lb, &task_event("task.created", 3, 3, t0 + 2)).await;
    let mut v = viewer(&lb).await;
    until_total(&mut v, 3, false, "after A died").await;
    stop.cancel();
}
