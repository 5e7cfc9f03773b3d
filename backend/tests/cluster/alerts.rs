//! Alert rules in a cluster: one node evaluates (the `alerts` role) and notifies once;
//! every node's viewers see the alert and its acknowledgement, wherever it was made.

use std::time::Duration;

use axum::body::Bytes;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use wallboard_shared::ws::ServerMessage;

use super::helpers::{ACCOUNT_SID, AUTH_TOKEN, Api, WsClient};
use super::postgres::shared_database_url;
use super::{CLUSTER_TIMEOUT, WS, eventually, now_ms, path, post_ok, serial, task_event, three_nodes};

async fn form(node: &Api, p: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let r = node
        .client
        .post(format!("{}{p}", node.base))
        .basic_auth(ACCOUNT_SID, Some(AUTH_TOKEN))
        .form(form)
        .send()
        .await
        .expect("request");
    (r.status(), r.json().await.expect("JSON"))
}

/// The next `alerts` frame of a `watch_alerts` socket.
async fn alerts(ws: &mut WsClient) -> Vec<wallboard_shared::alerts::Alert> {
    loop {
        if let ServerMessage::Alerts { alerts, .. } = ws.recv_message().await {
            return alerts;
        }
    }
}

#[tokio::test]
async fn one_node_evaluates_and_notifies_once_and_every_node_shows_the_alert() {
    let _serial = serial().await;
    let url = shared_database_url();
    let (a, b, c) = three_nodes(&url, |s| s).await;

    let (tx, mut got) = mpsc::unbounded_channel::<Bytes>();
    let hook = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: Bytes| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(body);
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let hook_url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, hook).await });

    post_ok(&a, &task_event("task.created", 1, 1, now_ms() - 60_000)).await;
    let holders: usize = {
        let mut n = 0;
        for node in [&a, &b, &c] {
            n += usize::from(node.roles().await.iter().any(|r| r == "alerts"));
        }
        n
    };
    assert_eq!(holders, 1, "exactly one node evaluates the rules");

    let mut on_c = c.ws().await;
    on_c.send(&json!({"type": "watch_alerts", "workspace_sid": WS})).await;
    assert!(alerts(&mut on_c).await.is_empty());
    let (status, body) = form(&a, &path("AlertWebhooks"), &[("Url", hook_url.as_str())]).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // B knows the workspace once it has followed A's event.
    eventually("B knows the workspace", CLUSTER_TIMEOUT, || async {
        b.get(&path("AlertRules")).await.0 == StatusCode::OK
    })
    .await;
    let rule = [
        ("Name", "Anyone waiting"),
        ("Target", "workspace"),
        ("Measure", "waiting"),
        ("Comparison", ">="),
        ("Threshold", "1"),
    ];
    let (status, body) = form(&b, &path("AlertRules"), &rule).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let first = tokio::time::timeout(CLUSTER_TIMEOUT, got.recv()).await.expect("a notification").expect("open");
    let notice: Value = serde_json::from_slice(&first).expect("JSON");
    assert_eq!(notice["type"], "alert.fired");
    let sid = notice["alert"]["sid"].as_str().expect("sid").to_owned();
    let shown = tokio::time::timeout(CLUSTER_TIMEOUT, async {
        loop {
            let list = alerts(&mut on_c).await;
            if !list.is_empty() {
                return list;
            }
        }
    })
    .await
    .expect("C shows the alert");
    assert_eq!(shown[0].sid, sid);

    // Acknowledged on C, seen on A's viewers.
    let mut on_a = a.ws().await;
    on_a.send(&json!({"type": "watch_alerts", "workspace_sid": WS})).await;
    assert_eq!(alerts(&mut on_a).await.len(), 1);
    let (status, body) = form(&c, &path(&format!("Alerts/{sid}")), &[("Acknowledged", "true")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let acked = tokio::time::timeout(CLUSTER_TIMEOUT, async {
        loop {
            let list = alerts(&mut on_a).await;
            if list.first().is_some_and(|x| x.acknowledged()) {
                return list;
            }
        }
    })
    .await
    .expect("A shows the acknowledgement");
    assert_eq!(acked[0].acknowledged_by.as_deref(), Some("account"));
    // Meanwhile every node has evaluated many times: still one notification.
    tokio::time::timeout(Duration::from_millis(1500), got.recv()).await.expect_err("no second notification");
}
