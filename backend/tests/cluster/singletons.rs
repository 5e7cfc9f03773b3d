//! Singletons (the simulator, the mirror's poller) run on exactly one node and move when
//! it dies.

use std::time::{Duration, Instant};

use wallboard::ingest::simulator::{SimConfig, Simulator};

use super::helpers::{ACCOUNT_SID, AUTH_TOKEN, spawn_app};
use super::node::Node;
use super::postgres::{on_thread, shared_database_url};
use super::proxy::start_proxy;
use super::{CLUSTER_TIMEOUT, WF, now_ms, post_ok, serial, task_event, three_nodes, until_total, viewer};

const SEED: u64 = 11;
/// The simulated center of these tests: the default one, 30 times as busy, so that a few
/// seconds of real time hold events at any hour of the day (the default center is quiet
/// at night, UTC: a 30 s wait for its next event could see none).
const SCALE: &str = "scale = 30.0";

/// The simulator configuration of these tests, as TOML and parsed.
fn busy_center() -> (String, SimConfig) {
    let default = wallboard::ingest::simulator::config::DEFAULT_TOML;
    assert!(default.contains("\nscale = 1.0\n"), "simulator.toml sets scale = 1.0");
    let raw = default.replacen("\nscale = 1.0\n", &format!("\n{SCALE}\n"), 1);
    let config = toml::from_str(&raw).expect("the busy center's configuration parses");
    (raw, config)
}

/// The nodes that hold `role` now; fails if more than one does.
async fn holders(nodes: &[&Node], role: &str) -> Vec<String> {
    let mut out = Vec::new();
    for node in nodes {
        if node.roles().await.iter().any(|r| r == role) {
            out.push(node.name().to_owned());
        }
    }
    assert!(out.len() <= 1, "{role} runs on more than one node: {out:?}");
    out
}

/// Waits until exactly one of `nodes` holds `role`; returns its index.
async fn the_holder(nodes: &[&Node], role: &str) -> usize {
    let start = Instant::now();
    loop {
        if let [name] = holders(nodes, role).await.as_slice() {
            return nodes.iter().position(|n| n.name() == name).expect("a node of the list");
        }
        assert!(start.elapsed() < CLUSTER_TIMEOUT, "no node took {role} within {CLUSTER_TIMEOUT:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// (events stored, newest timestamp, simulator epoch) read from the database.
fn stored(url: &str) -> (i64, Option<i64>, Option<i64>) {
    let url = url.to_owned();
    on_thread(move || {
        let mut db = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        let row = db.query_one("SELECT count(*)::bigint, max(ts_ms) FROM events", &[]).expect("count events");
        let epoch = db
            .query_opt("SELECT value FROM settings WHERE key = 'sim_epoch_ms'", &[])
            .expect("read the epoch")
            .and_then(|r| r.get::<_, String>(0).parse::<i64>().ok());
        (row.get(0), row.get(1), epoch)
    })
}

#[tokio::test]
async fn the_simulator_runs_on_one_node_and_moves_when_it_dies() {
    let _serial = serial().await;
    let url = shared_database_url();
    let seed = SEED.to_string();
    let (raw, config) = busy_center();
    let dir = tempfile::tempdir().expect("tempdir");
    let config_path = dir.path().join("simulator.toml");
    std::fs::write(&config_path, raw).expect("write the simulator configuration");
    let config_path = config_path.to_str().expect("a UTF-8 temporary path");
    let (a, b, c) = three_nodes(&url, |s| {
        s.source("simulator")
            .arg("--sim-config")
            .arg(config_path)
            .arg("--sim-seed")
            .arg(&seed)
            .arg("--sim-history-hours")
            .arg("0")
    })
    .await;
    let mut nodes = vec![a, b, c];
    let refs: Vec<&Node> = nodes.iter().collect();
    let first = the_holder(&refs, "simulator").await;
    // For a while, still exactly that one (holders() fails on two).
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        assert_eq!(holders(&refs, "simulator").await, vec![refs[first].name().to_owned()]);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let dead = nodes.remove(first);
    let mut dead = dead;
    dead.kill_9();
    let refs: Vec<&Node> = nodes.iter().collect();
    let took_over = Instant::now();
    let second = the_holder(&refs, "simulator").await;
    println!("simulator moved from {} to {} in {:?}", dead.name(), refs[second].name(), took_over.elapsed());
    // The new holder goes on with the same center: after it stored more events, the log
    // holds exactly what one simulator run from the stored epoch makes up to the newest
    // stored event — nothing twice (a second center), nothing missing (a gap at the move).
    let (count_at_move, _, _) = stored(&url);
    let start = Instant::now();
    loop {
        let (count, newest, epoch) = stored(&url);
        if let (Some(newest), Some(epoch)) = (newest, epoch)
            && count > count_at_move
        {
            let mut sim = Simulator::new(config.clone(), SEED, epoch);
            let mut events = Vec::new();
            sim.advance(newest, &mut events);
            // A batch being written may be half visible: try again until it is whole.
            if events.len() as i64 == count {
                break;
            }
            assert!(
                start.elapsed() < CLUSTER_TIMEOUT,
                "{count} events stored, one run of the simulator makes {} up to {newest}",
                events.len()
            );
        }
        assert!(start.elapsed() < CLUSTER_TIMEOUT, "the new holder stored nothing within {CLUSTER_TIMEOUT:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The dead node comes back as a follower.
    dead.restart().await;
    dead.wait_ready(CLUSTER_TIMEOUT).await;
    let mut all: Vec<&Node> = nodes.iter().collect();
    all.push(&dead);
    let holder = the_holder(&all, "simulator").await;
    assert_ne!(all[holder].name(), dead.name(), "the holder keeps the role");
}

#[tokio::test]
async fn only_one_node_polls_the_upstream() {
    let _serial = serial().await;
    let upstream = spawn_app(now_ms()).await;
    post_ok(&upstream, &task_event("task.created", 1, 1, now_ms() - 60_000)).await;
    let (proxy, proxy_url) = start_proxy(&upstream.base).await;
    let url = shared_database_url();
    const POLL_MS: u64 = 200;
    let poll = POLL_MS.to_string();
    let (a, b, c) = three_nodes(&url, |s| {
        s.source("twilio")
            .arg("--upstream-base")
            .arg(&proxy_url)
            .arg("--twilio-account-sid")
            .arg(ACCOUNT_SID)
            .arg("--twilio-auth-token")
            .arg(AUTH_TOKEN)
            .arg("--poll-realtime-ms")
            .arg(&poll)
            .arg("--poll-cumulative-ms")
            .arg("60000")
            .arg("--upstream-requests-per-second")
            .arg("1000")
    })
    .await;
    let nodes = [&a, &b, &c];
    // A viewer of the same workflow on every node: every node watches the topic.
    let mut viewers = Vec::new();
    for node in nodes {
        let mut v = viewer(node).await;
        until_total(&mut v, 1, false, &format!("the mirror's first numbers on {}", node.name())).await;
        viewers.push(v);
    }
    let holder = the_holder(&nodes, "mirror").await;

    // One poller: about one realtime request per 200 ms over 4 s (20), where three would
    // make 60. Allow for the odd cumulative or discovery request.
    let before = proxy.count("RealTimeStatistics");
    let window = Duration::from_secs(4);
    let started = Instant::now();
    tokio::time::sleep(window).await; // a measurement window, not a wait for an event
    let polled = proxy.count("RealTimeStatistics") - before;
    let of_workflow = proxy.count(&format!("Workflows/{WF}/RealTimeStatistics"));
    let expected = started.elapsed().as_millis() as usize / POLL_MS as usize;
    assert!(
        polled <= expected * 3 / 2,
        "{polled} realtime requests in {window:?} ({of_workflow} of the workflow since the start): more than one poller"
    );
    assert!(polled >= expected / 2, "{polled} realtime requests in {window:?}: nobody polls");

    // What the one poller reads reaches the viewers of every node.
    post_ok(&upstream, &task_event("task.created", 2, 2, now_ms() - 30_000)).await;
    for (ws, node) in viewers.iter_mut().zip(nodes) {
        until_total(ws, 2, false, &format!("the upstream's new task on {}", node.name())).await;
    }

    // The poller dies: another node takes the role and the survivors' viewers go on.
    let (mut nodes, mut viewers): (Vec<Node>, Vec<_>) = (vec![a, b, c], viewers);
    let mut dead = nodes.remove(holder);
    drop(viewers.remove(holder));
    dead.kill_9();
    let refs: Vec<&Node> = nodes.iter().collect();
    the_holder(&refs, "mirror").await;
    post_ok(&upstream, &task_event("task.created", 3, 3, now_ms() - 20_000)).await;
    for (ws, node) in viewers.iter_mut().zip(&refs) {
        until_total(ws, 3, false, &format!("after the move, on {}", node.name())).await;
    }
}
