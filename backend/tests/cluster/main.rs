//! Several Wallboard nodes on one PostgreSQL database, each a real `wallboard serve` child
//! process with a real clock (`support/node.rs`).
//!
//! Needs PostgreSQL: run under `scripts/with-postgres.sh` (`WALLBOARD_TEST_DATABASE_URL`);
//! the tests that stop the database start a cluster of their own (`support/postgres.rs`).
//!
//!   scripts/with-postgres.sh cargo test -p wallboard --test cluster
//!   scripts/with-postgres.sh cargo test -p wallboard --test cluster -- --ignored cross_node_latency --nocapture
//!
//! Event timestamps are a minute or two before now, so the numbers checked are realtime
//! counts (tasks pending, reserved, …) and cumulative counts over the last hour, which do
//! not depend on when exactly a request is answered.

#[allow(dead_code)]
#[path = "../support/harness.rs"]
mod helpers;
#[allow(dead_code)]
#[path = "../support/node.rs"]
mod node;
#[allow(dead_code)]
#[path = "../support/postgres.rs"]
mod postgres;
#[allow(dead_code)]
#[path = "../support/proxy.rs"]
mod proxy;

mod alerts;
mod balance;
mod failover;
mod flow;
mod singletons;
mod support_tests;

use std::future::Future;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use helpers::{AUTH_TOKEN, Api, Form, WsClient};
use node::{Node, NodeSpec};

pub const WS: &str = "WS000000000000000000000000000000c1";
pub const WF: &str = "WW000000000000000000000000000000c1";
pub const QUEUE: &str = "WQ000000000000000000000000000000c1";
pub const VOICE: &str = "TC000000000000000000000000000000c1";
pub const WORKER: &str = "WK000000000000000000000000000000c1";

/// Every wait on the cluster (propagation, failover, recovery) is bounded by this.
pub const CLUSTER_TIMEOUT: Duration = Duration::from_secs(30);

/// The nodes of one test at a time: each test starts three processes (the machine is small).
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    SERIAL.lock().await
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

pub fn task_sid(n: u32) -> String {
    format!("WT{n:032x}")
}

pub fn reservation_sid(n: u32) -> String {
    format!("WR{n:032x}")
}

/// A task event of the test's workflow and queue (voice, priority 0).
pub fn task_event(event_type: &str, seq: u32, task: u32, at_ms: i64) -> Form {
    Form::new(event_type, seq, at_ms, WS)
        .with("TaskSid", task_sid(task))
        .with("WorkflowSid", WF)
        .with("WorkflowName", "Main")
        .with("TaskQueueSid", QUEUE)
        .with("TaskQueueName", "Main queue")
        .with("TaskChannelSid", VOICE)
        .with("TaskChannelUniqueName", "voice")
        .with("TaskPriority", 0)
        .with("TaskAttributes", "{}")
        .with("TaskAssignmentStatus", "pending")
}

/// A reservation event of `task` (reservation number = task number).
pub fn reservation_event(event_type: &str, seq: u32, task: u32, at_ms: i64) -> Form {
    task_event(event_type, seq, task, at_ms)
        .with("ReservationSid", reservation_sid(task))
        .with("WorkerSid", WORKER)
        .with("WorkerName", "alice")
}

/// `/v1/Workspaces/{WS}/{rest}`
pub fn path(rest: &str) -> String {
    format!("/v1/Workspaces/{WS}/{rest}")
}

pub fn workflow_path(rest: &str) -> String {
    path(&format!("Workflows/{WF}/{rest}"))
}

pub fn queue_path(rest: &str) -> String {
    path(&format!("TaskQueues/{QUEUE}/{rest}"))
}

/// Three nodes `a`, `b`, `c` on the database `url`, ready.
pub async fn three_nodes(url: &str, spec: impl Fn(NodeSpec) -> NodeSpec) -> (Node, Node, Node) {
    // Started one after the other: the first creates the schema, the others find it.
    let a = Node::start_ready(spec(NodeSpec::new("a", url))).await;
    let (b, c) = tokio::join!(
        Node::start_ready(spec(NodeSpec::new("b", url))),
        Node::start_ready(spec(NodeSpec::new("c", url)))
    );
    (a, b, c)
}

/// Posts a signed callback; `None` when the node does not answer (dead, refused).
pub async fn try_post(api: &Api, form: &Form) -> Option<reqwest::Response> {
    let url = api.webhook_url();
    let sig = wallboard::signature::compute(AUTH_TOKEN, &url, &form.0);
    api.client.post(&url).header("X-Twilio-Signature", sig).form(&form.0).send().await.ok()
}

/// Posts a callback that must be acknowledged (204).
pub async fn post_ok(api: &Api, form: &Form) {
    let status = try_post(api, form).await.map(|r| r.status());
    assert_eq!(status, Some(StatusCode::NO_CONTENT), "{} refused {:?}", api.base, form.0);
}

/// Polls `check` (every 50 ms) until it holds; fails after `timeout`.
pub async fn eventually<F, Fut>(what: &str, timeout: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < timeout, "not within {timeout:?}: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `v` without what names the server (URLs) or moves with the clock (ages, window bounds):
/// what is left must be the same on every node.
pub fn numbers(mut v: Value) -> Value {
    match &mut v {
        Value::Object(map) => {
            map.retain(|k, _| {
                !k.ends_with("url") && k != "links" && !k.contains("_age") && k != "start_time" && k != "end_time"
            });
            for value in map.values_mut() {
                *value = numbers(value.take());
            }
        }
        Value::Array(items) => {
            for value in items.iter_mut() {
                *value = numbers(value.take());
            }
        }
        _ => {}
    }
    v
}

/// The REST answers compared between nodes.
pub fn compared_paths() -> Vec<String> {
    vec![
        workflow_path("RealTimeStatistics"),
        workflow_path("Statistics?Minutes=60"),
        queue_path("RealTimeStatistics"),
        queue_path("Statistics?Minutes=60"),
    ]
}

/// Waits until `node` answers every compared path as `reference` does (numbers only).
pub async fn answers_like(node: &Node, reference: &Node) {
    for p in compared_paths() {
        let want = numbers(reference.get_ok(&p).await);
        let mut last = Value::Null;
        let start = Instant::now();
        loop {
            let (status, body) = node.get(&p).await;
            if status == StatusCode::OK {
                last = numbers(body);
                if last == want {
                    break;
                }
            }
            assert!(
                start.elapsed() < CLUSTER_TIMEOUT,
                "node {} answers {p} unlike node {}:\n{last}\nwanted\n{want}",
                node.name(),
                reference.name()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A viewer of the test workflow: its socket and the last snapshot's (total, stale).
#[derive(Debug)]
pub struct Viewer {
    pub ws: WsClient,
    pub last: (u64, bool),
}

/// A viewer (account credentials) of the test workflow on `node` (a node or the balancer),
/// once it knows the workflow.
pub async fn viewer(node: &Api) -> Viewer {
    eventually(&format!("{} knows the workflow", node.base), CLUSTER_TIMEOUT, || async {
        node.get(&workflow_path("RealTimeStatistics")).await.0 == StatusCode::OK
    })
    .await;
    let mut ws = node.ws().await;
    ws.send(&json!({"type": "subscribe", "id": "s", "workspace_sid": WS, "workflow_sid": WF})).await;
    let mut v = Viewer { ws, last: (0, false) };
    v.next().await;
    v
}

impl Viewer {
    /// The next snapshot's (total, stale).
    async fn next(&mut self) -> (u64, bool) {
        let s = self.ws.snapshot("s").await;
        self.last = (s.realtime.as_workflow().expect("a workflow snapshot").stats.total_tasks, s.stale);
        self.last
    }
}

/// Waits (bounded) until the viewer's latest snapshot shows `total` tasks with the given
/// staleness; returns how long that took.
pub async fn until_total(v: &mut Viewer, total: u64, stale: bool, what: &str) -> Duration {
    let start = Instant::now();
    let found = tokio::time::timeout(CLUSTER_TIMEOUT, async {
        while v.last != (total, stale) {
            v.next().await;
        }
    })
    .await;
    assert!(
        found.is_ok(),
        "{what}: no snapshot with {total} tasks (stale: {stale}) within {CLUSTER_TIMEOUT:?}; the last: {:?}",
        v.last
    );
    start.elapsed()
}

/// The SIDs of every event of `event_type` the node's Events resource lists for the last hour.
pub async fn event_sids(node: &Node, event_type: &str) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    let mut next =
        Some(format!("{}{}", node.base, path(&format!("Events?Minutes=60&EventType={event_type}&PageSize=1000"))));
    while let Some(url) = next.take() {
        let p = url.strip_prefix(&node.base).expect("a URL on this node").to_owned();
        let page: wallboard_shared::event::EventPage = node.get_json(&p).await;
        out.extend(page.events.into_iter().filter_map(|e| e.sid));
        next = page.meta.next_page_url;
    }
    out
}
