//! A node killed mid-stream, and the database stopped under running nodes.

use std::collections::BTreeSet;
use std::sync::Arc;

use reqwest::StatusCode;
use tokio::sync::{Mutex, watch};

use super::helpers::{ACCOUNT_SID, AUTH_TOKEN, Api, Form, spawn_app};
use super::postgres::{PgCluster, on_thread, shared_database_url};
use super::{
    CLUSTER_TIMEOUT, answers_like, event_sids, eventually, now_ms, path, post_ok, serial, task_event, three_nodes,
    try_post, until_total, viewer,
};

/// What one sender saw: the SIDs acknowledged (204) and the forms to send again.
#[derive(Default)]
struct Sent {
    acked: BTreeSet<String>,
    unacked: Vec<Form>,
}

fn sid_of(form: &Form) -> String {
    form.0.iter().find(|(k, _)| k == "Sid").map(|(_, v)| v.clone()).expect("a Sid")
}

/// Posts `forms` one after the other to `api`, counting acknowledgements in `acks`.
async fn send_all(api: Api, forms: Vec<Form>, sent: Arc<Mutex<Sent>>, acks: watch::Sender<usize>) {
    for form in forms {
        let ok = matches!(try_post(&api, &form).await.map(|r| r.status()), Some(StatusCode::NO_CONTENT));
        let mut s = sent.lock().await;
        if ok {
            s.acked.insert(sid_of(&form));
            acks.send_modify(|n| *n += 1);
        } else {
            s.unacked.push(form);
        }
    }
}

#[tokio::test]
async fn a_node_killed_mid_stream_loses_no_acknowledged_event() {
    let _serial = serial().await;
    let url = shared_database_url();
    let (mut a, b, c) = three_nodes(&url, |s| s).await;
    let t0 = now_ms() - 120_000;
    // 300 tasks, one task.created each: task 1 first (so the viewers find the workflow),
    // then odd tasks to A and even tasks to B, at the same time.
    const TASKS: u32 = 300;
    post_ok(&a, &task_event("task.created", 1, 1, t0)).await;
    let mut on_b = viewer(&b).await;
    let mut on_c = viewer(&c).await;
    let form = |n: u32| task_event("task.created", n, n, t0 + i64::from(n));
    let to_a: Vec<Form> = (2..=TASKS).filter(|n| n % 2 == 1).map(form).collect();
    let to_b: Vec<Form> = (2..=TASKS).filter(|n| n % 2 == 0).map(form).collect();

    let sent = Arc::new(Mutex::new(Sent::default()));
    sent.lock().await.acked.insert(sid_of(&form(1)));
    let (a_acks, mut a_acked) = watch::channel(0usize);
    let (b_acks, _) = watch::channel(0usize);
    let sender_a = tokio::spawn(send_all(a.api.clone(), to_a, sent.clone(), a_acks));
    let sender_b = tokio::spawn(send_all(b.api.clone(), to_b, sent.clone(), b_acks));
    // A dies after acknowledging 40 of its 149 events, mid-stream.
    tokio::time::timeout(CLUSTER_TIMEOUT, a_acked.wait_for(|n| *n >= 40))
        .await
        .expect("A acknowledges 40 events in time")
        .expect("the sender lives");
    a.kill_9();
    tokio::time::timeout(CLUSTER_TIMEOUT, sender_a).await.expect("sender A ends").expect("join");
    tokio::time::timeout(CLUSTER_TIMEOUT, sender_b).await.expect("sender B ends").expect("join");

    // Every acknowledged event is in the log, as B lists it.
    let acked = sent.lock().await.acked.clone();
    let listed = event_sids(&b, "task.created").await;
    let missing: Vec<&String> = acked.difference(&listed).collect();
    assert!(missing.is_empty(), "acknowledged but not in the log: {missing:?}");
    // Twilio sends what was not acknowledged again; here to B.
    let unacked = std::mem::take(&mut sent.lock().await.unacked);
    assert!(!unacked.is_empty(), "A died before the stream's end");
    for form in &unacked {
        post_ok(&b, form).await;
    }
    // By hand: tasks 1..=300, each created once, none ended: 300 tasks on every viewer.
    until_total(&mut on_b, u64::from(TASKS), false, "the viewer on B").await;
    until_total(&mut on_c, u64::from(TASKS), false, "the viewer on C").await;
    assert_eq!(event_sids(&c, "task.created").await.len(), TASKS as usize);

    // A comes back and catches up: it answers as B does.
    a.restart().await;
    a.wait_ready(CLUSTER_TIMEOUT).await;
    answers_like(&a, &b).await;
    answers_like(&c, &b).await;
}

/// The POST's status and its Retry-After.
async fn post_status(api: &Api, form: &Form) -> (Option<StatusCode>, Option<String>) {
    match try_post(api, form).await {
        Some(r) => {
            let retry = r.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
            (Some(r.status()), retry)
        }
        None => (None, None),
    }
}

#[tokio::test]
async fn the_database_down_makes_snapshots_stale_and_callbacks_503_and_back() {
    let _serial = serial().await;
    let mut pg = on_thread(PgCluster::start);
    let url = pg.create_database("wallboard");
    let (a, b, c) = three_nodes(&url, |s| s).await;
    let nodes = [&a, &b, &c];
    let t0 = now_ms() - 120_000;
    // Tasks 1–3 before the outage, one per node.
    for (i, node) in nodes.iter().enumerate() {
        let n = i as u32 + 1;
        post_ok(node, &task_event("task.created", n, n, t0 + i64::from(n))).await;
    }
    let mut viewers = Vec::new();
    for node in nodes {
        let mut v = viewer(node).await;
        until_total(&mut v, 3, false, &format!("before the outage, on {}", node.name())).await;
        viewers.push(v);
    }

    let mut pg = on_thread(move || {
        pg.stop();
        pg
    });
    // Every node: snapshots turn stale (the sockets stay open), callbacks are refused with
    // a 503 that says when to try again. Tasks 4–6 are refused (not acknowledged).
    for (v, node) in viewers.iter_mut().zip(nodes) {
        until_total(v, 3, true, &format!("stale during the outage, on {}", node.name())).await;
    }
    let during: Vec<Form> = (4..=6).map(|n| task_event("task.created", n, n, t0 + i64::from(n))).collect();
    for (form, node) in during.iter().zip(nodes) {
        let (status, retry) = post_status(node, form).await;
        assert_eq!(status, Some(StatusCode::SERVICE_UNAVAILABLE), "a callback on {} during the outage", node.name());
        let retry = retry.unwrap_or_else(|| panic!("a Retry-After from {}", node.name()));
        assert!(retry.parse::<u64>().is_ok(), "Retry-After in seconds: {retry}");
        let health = node.health().await;
        assert_eq!(health["database"], "down", "{health}");
    }

    let _pg = on_thread(move || {
        pg.start_again();
        pg
    });
    // Back without restarting a node: the refused callbacks, sent again, are accepted.
    for (form, node) in during.iter().zip(nodes) {
        eventually(&format!("{} accepts callbacks again", node.name()), CLUSTER_TIMEOUT, || async {
            post_status(node, form).await.0 == Some(StatusCode::NO_CONTENT)
        })
        .await;
    }
    // By hand: tasks 1–6, each created once: 6 tasks, fresh, on every node.
    for (v, node) in viewers.iter_mut().zip(nodes) {
        until_total(v, 6, false, &format!("after the outage, on {}", node.name())).await;
        assert_eq!(node.health().await["database"], "up");
        // The Events resource reads the log again (its reader connection came back too).
        let events = path("Events?Minutes=60&EventType=task.created&PageSize=1000");
        eventually(&format!("the Events resource of {} after the outage", node.name()), CLUSTER_TIMEOUT, || async {
            node.get(&events).await.0 == StatusCode::OK
        })
        .await;
        assert_eq!(event_sids(node, "task.created").await.len(), 6);
    }
    for node in nodes {
        node.wait_ready(CLUSTER_TIMEOUT).await;
    }
}

/// TaskRouter does not resend a callback that got a 503: with `--backfill-gaps`, the node
/// holding the `backfill` role reads the outage back from the upstream's Events resource
/// (here another Wallboard, which got every callback, as TaskRouter keeps every event).
#[tokio::test]
async fn events_refused_during_an_outage_are_read_back_from_the_upstream() {
    let _serial = serial().await;
    let upstream = spawn_app(now_ms()).await;
    let mut pg = on_thread(PgCluster::start);
    let url = pg.create_database("wallboard");
    let (a, b, c) = three_nodes(&url, |s| {
        s.arg("--backfill-gaps")
            .arg("--upstream-base")
            .arg(&upstream.base)
            .arg("--twilio-account-sid")
            .arg(ACCOUNT_SID)
            .arg("--twilio-auth-token")
            .arg(AUTH_TOKEN)
    })
    .await;
    let nodes = [&a, &b, &c];
    let mut holders = 0;
    for node in nodes {
        holders += usize::from(node.roles().await.iter().any(|r| r == "backfill"));
    }
    assert!(holders <= 1, "{holders} nodes hold the backfill role");
    // Tasks 1-2 before the outage: delivered to the upstream and to the cluster.
    let t0 = now_ms() - 10_000;
    for n in 1..=2 {
        let form = task_event("task.created", n, n, t0 + i64::from(n));
        post_ok(&upstream, &form).await;
        post_ok(nodes[n as usize], &form).await;
    }
    let mut viewers = Vec::new();
    for node in nodes {
        let mut v = viewer(node).await;
        until_total(&mut v, 2, false, &format!("before the outage, on {}", node.name())).await;
        viewers.push(v);
    }

    let mut pg = on_thread(move || {
        pg.stop();
        pg
    });
    for (v, node) in viewers.iter_mut().zip(nodes) {
        until_total(v, 2, true, &format!("stale during the outage, on {}", node.name())).await;
    }
    // Tasks 3-5 during the outage: the upstream has them, the cluster refuses them, and
    // nobody sends them again.
    for n in 3..=5 {
        let form = task_event("task.created", n, n, t0 + i64::from(n));
        post_ok(&upstream, &form).await;
        let (status, _) = post_status(nodes[n as usize % 3], &form).await;
        assert_eq!(status, Some(StatusCode::SERVICE_UNAVAILABLE), "task {n} during the outage");
    }
    upstream.clock.set(now_ms());

    let _pg = on_thread(move || {
        pg.start_again();
        pg
    });
    // By hand: tasks 1-5, each created once, on every node: 2 delivered, 3 read back.
    for (v, node) in viewers.iter_mut().zip(nodes) {
        until_total(v, 5, false, &format!("after the outage and the backfill, on {}", node.name())).await;
    }
    for node in nodes {
        eventually(&format!("the Events resource of {}", node.name()), CLUSTER_TIMEOUT, || async {
            node.get(&path("Events?Minutes=60&EventType=task.created&PageSize=1000")).await.0 == StatusCode::OK
        })
        .await;
        assert_eq!(event_sids(node, "task.created").await.len(), 5, "{}", node.name());
    }
    upstream.stop().await;
}
