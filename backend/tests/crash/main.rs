//! Crash consistency on SQLite: `wallboard serve` as a child process (`support/node.rs`) on
//! one data directory, killed with SIGKILL in the middle of a stream of signed callbacks
//! from several concurrent senders, then started again, cycle after cycle. After every
//! restart each acknowledged (204) event is in the log (the Events resource lists it), the
//! log holds nothing that was not sent and nothing twice, and the numbers count each event
//! once (realtime `total_tasks` and cumulative `tasks_entered` equal the events in the log:
//! each event creates a task of its own). The events a sender saw no 204 for are sent again
//! in the next cycle, as TaskRouter retries them: some are already in the log, and must
//! still count once.
//!
//! Every third cycle (the 2nd, 5th, …) stops the server gracefully (SIGTERM) instead: it
//! writes the engine's snapshot. A start that replayed the log in full writes one too, so
//! every start after the first restart begins from a snapshot (the stop's or the last full
//! replay's) and the events stored since (`wallboard::snapshot`), kills included: the
//! numbers are checked on that path.
//!
//! `WALLBOARD_CRASH_CYCLES` (default 3, for `cargo test`) and `WALLBOARD_CRASH_SEED` (the
//! moments of the kills); `scripts/crash-consistency.sh [cycles]` runs 100 in release:
//!
//!   WALLBOARD_CRASH_CYCLES=100 cargo test --release -p wallboard --test crash -- --nocapture

#[allow(dead_code)]
#[path = "../support/harness.rs"]
mod helpers;
#[allow(dead_code)]
#[path = "../support/node.rs"]
mod node;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reqwest::StatusCode;
use tokio::sync::{Mutex, watch};
use wallboard_shared::event::EventPage;

use helpers::{AUTH_TOKEN, Api, Form};
use node::{NODE_TIMEOUT, Node, NodeSpec};

const WS: &str = "WS000000000000000000000000000000d1";
const WF: &str = "WW000000000000000000000000000000d1";
const QUEUE: &str = "WQ000000000000000000000000000000d1";
const VOICE: &str = "TC000000000000000000000000000000d1";

/// Concurrent senders, as TaskRouter delivers callbacks on several connections.
const SENDERS: usize = 4;
/// A cycle's kill comes after 1 to this many acknowledgements (seeded).
const MAX_ACKS_BEFORE_KILL: usize = 120;
/// Waits on the node (acknowledgements, the senders' end) are bounded by this.
const WAIT: Duration = Duration::from_secs(60);

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v.trim().parse().unwrap_or_else(|_| panic!("{name} must be a whole number, got {v:?}")),
        Err(_) => default,
    }
}

/// The callback of event `n`: the `task.created` of task `n`.
fn event(n: u32, t0: i64) -> Form {
    Form::new("task.created", n, t0 + i64::from(n), WS)
        .with("TaskSid", format!("WT{n:032x}"))
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

fn sid_of(form: &Form) -> String {
    form.0.iter().find(|(k, _)| k == "Sid").map(|(_, v)| v.clone()).expect("a Sid")
}

/// What the senders saw, over all cycles.
#[derive(Default)]
struct Ledger {
    /// Every SID posted at least once.
    sent: BTreeSet<String>,
    /// Every SID acknowledged with a 204 (at least once).
    acked: BTreeSet<String>,
    /// Posted without a 204 in this cycle: sent again in the next one.
    unacked: Vec<Form>,
    /// Answers other than 204 and "not stored, retry" (503), with the SID.
    unexpected: Vec<(String, StatusCode)>,
}

/// One sender: takes the retries first, then fresh events, until the node stops answering.
async fn sender(
    api: Api,
    retries: Arc<Mutex<VecDeque<Form>>>,
    next: Arc<AtomicU32>,
    t0: i64,
    ledger: Arc<Mutex<Ledger>>,
    acks: watch::Sender<usize>,
) {
    let url = api.webhook_url();
    loop {
        let retry = retries.lock().await.pop_front();
        let form = retry.unwrap_or_else(|| event(next.fetch_add(1, Ordering::SeqCst), t0));
        let sid = sid_of(&form);
        ledger.lock().await.sent.insert(sid.clone());
        let sig = wallboard::signature::compute(AUTH_TOKEN, &url, &form.0);
        let answer = api.client.post(&url).header("X-Twilio-Signature", sig).form(&form.0).send().await;
        let mut l = ledger.lock().await;
        match answer.map(|r| r.status()) {
            Ok(StatusCode::NO_CONTENT) => {
                l.acked.insert(sid);
                acks.send_modify(|n| *n += 1);
            }
            Ok(status) => {
                if status != StatusCode::SERVICE_UNAVAILABLE {
                    l.unexpected.push((sid, status));
                }
                l.unacked.push(form);
            }
            // The node is gone (killed mid-request): this one is unknown, the sender stops.
            Err(_) => {
                l.unacked.push(form);
                return;
            }
        }
    }
}

/// Every event the node's Events resource lists since `since_ms`, in listing order (a SID
/// listed twice shows up twice).
async fn listed(node: &Node, since_ms: i64) -> Vec<String> {
    let start = wallboard_shared::time::format_ms(since_ms);
    let mut out = Vec::new();
    let mut next = Some(format!("/v1/Workspaces/{WS}/Events?StartDate={start}&PageSize=1000"));
    while let Some(path) = next.take() {
        let page: EventPage = node.get_json(&path).await;
        out.extend(page.events.into_iter().filter_map(|e| e.sid));
        next = page.meta.next_page_url.map(|u| u.strip_prefix(&node.base).map_or(u.clone(), str::to_owned));
    }
    out
}

/// The workflow's (realtime `total_tasks`, cumulative `tasks_entered` since `since_ms`), or
/// zeros before the node knows the workflow.
async fn counted(node: &Node, since_ms: i64) -> (u64, u64) {
    let (status, realtime) = node.get(&format!("/v1/Workspaces/{WS}/Workflows/{WF}/RealTimeStatistics")).await;
    if status == StatusCode::NOT_FOUND {
        return (0, 0);
    }
    assert_eq!(status, StatusCode::OK, "{realtime}");
    let start = wallboard_shared::time::format_ms(since_ms);
    let cumulative =
        node.get_ok(&format!("/v1/Workspaces/{WS}/Workflows/{WF}/CumulativeStatistics?StartDate={start}")).await;
    let total = realtime["total_tasks"].as_u64().unwrap_or_else(|| panic!("total_tasks in {realtime}"));
    let entered = cumulative["tasks_entered"].as_u64().unwrap_or_else(|| panic!("tasks_entered in {cumulative}"));
    (total, entered)
}

/// After a restart: every acknowledged event is listed, nothing unsent is, nothing twice, and
/// the numbers count each listed event once. Returns how many events the log holds.
async fn check_log(node: &Node, ledger: &Ledger, since_ms: i64, cycle: u64) -> usize {
    let list = listed(node, since_ms).await;
    let set: BTreeSet<String> = list.iter().cloned().collect();
    let mut seen = BTreeMap::<&String, usize>::new();
    for s in &list {
        *seen.entry(s).or_default() += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "cycle {cycle}: listed more than once: {twice:?}");
    let lost: Vec<&String> = ledger.acked.difference(&set).collect();
    assert!(lost.is_empty(), "cycle {cycle}: {} acknowledged events are not in the log: {lost:?}", lost.len());
    let invented: Vec<&String> = set.difference(&ledger.sent).collect();
    assert!(invented.is_empty(), "cycle {cycle}: the log holds events never sent: {invented:?}");
    let n = set.len() as u64;
    assert_eq!(counted(node, since_ms).await, (n, n), "cycle {cycle}: (total_tasks, tasks_entered) of {n} events");
    set.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_a_stream_of_callbacks_loses_no_acknowledged_event() {
    let cycles = env_u64("WALLBOARD_CRASH_CYCLES", 3);
    let seed = env_u64("WALLBOARD_CRASH_SEED", 15);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let began = Instant::now();
    let spec = NodeSpec {
        name: "crash".to_owned(),
        database_url: None,
        source: "events".to_owned(),
        extra_args: Vec::new(),
        env: Vec::new(),
    };
    let mut node = Node::start_ready(spec).await;
    // Event n happens n ms after t0: a stream of events in the last hour, none in the future.
    let t0 = chrono::Utc::now().timestamp_millis() - 30 * 60_000;
    let since = t0 - 60_000;
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let next = Arc::new(AtomicU32::new(1));
    let mut unacked_in_log = 0usize;
    let mut stops = 0u64;
    for cycle in 1..=cycles {
        // Last cycle's unacknowledged events first, spread over the senders, then new ones.
        let retried: Vec<Form> = std::mem::take(&mut ledger.lock().await.unacked);
        let retries = Arc::new(Mutex::new(retried.into_iter().collect::<VecDeque<_>>()));
        let kill_after = rng.random_range(1..=MAX_ACKS_BEFORE_KILL);
        let (acks, mut acked) = watch::channel(0usize);
        let senders: Vec<_> = (0..SENDERS)
            .map(|_| {
                tokio::spawn(sender(node.api.clone(), retries.clone(), next.clone(), t0, ledger.clone(), acks.clone()))
            })
            .collect();
        drop(acks);
        tokio::time::timeout(WAIT, acked.wait_for(|n| *n >= kill_after))
            .await
            .unwrap_or_else(|_| panic!("cycle {cycle}: {kill_after} acknowledgements within {WAIT:?}"))
            .expect("the senders live");
        let graceful = cycle % 3 == 2;
        if graceful {
            node.terminate().await;
            stops += 1;
        } else {
            node.kill_9();
        }
        for s in senders {
            tokio::time::timeout(WAIT, s).await.expect("a sender stops once the node is gone").expect("join");
        }
        // Whatever was not handed out stays to be sent again.
        let left: Vec<Form> = retries.lock().await.drain(..).collect();
        ledger.lock().await.unacked.extend(left);

        node.restart().await;
        node.wait_ready(NODE_TIMEOUT).await;
        // The first restart replays the log in full (the first start found it empty, so wrote
        // no snapshot) and saves its engine; every later one, after a kill or a stop, starts
        // from a snapshot.
        let from_snapshot = node.log().matches("started from the engine snapshot").count() as u64;
        assert_eq!(from_snapshot, cycle - 1, "cycle {cycle}: starts from a snapshot");
        let saved_at_start =
            node.log().matches("wrote the engine snapshot (the replayed engine, at start)").count() as u64;
        assert_eq!(saved_at_start, 1, "cycle {cycle}: only the full replay saves the engine at start");
        let l = ledger.lock().await;
        let in_log = check_log(&node, &l, since, cycle).await;
        unacked_in_log = in_log - l.acked.len();
        if cycle % 10 == 0 {
            println!("cycle {cycle}: {} acknowledged, {in_log} in the log", l.acked.len());
        }
        assert!(l.unexpected.is_empty(), "answers other than 204 and 503: {:?}", l.unexpected);
    }
    // TaskRouter retries what was never acknowledged: then every event is there, once.
    let retried: Vec<Form> = std::mem::take(&mut ledger.lock().await.unacked);
    let acknowledged = ledger.lock().await.acked.len();
    for form in &retried {
        let status = node.api.post_event(&form.0).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "the retry of {}", sid_of(form));
        ledger.lock().await.acked.insert(sid_of(form));
    }
    let l = ledger.lock().await;
    let in_log = check_log(&node, &l, since, cycles + 1).await;
    assert_eq!(in_log, l.sent.len(), "every event sent is in the log once");
    println!(
        "crash consistency: {cycles} cycles ({} kill -9, {stops} graceful stops), {} events sent, {acknowledged} acknowledged, 0 lost, \
         0 counted twice; {unacked_in_log} in the log without a 204 after the last kill, {} retried at the end; \
         {:.1} s (seed {seed})",
        cycles - stops,
        l.sent.len(),
        retried.len(),
        began.elapsed().as_secs_f64()
    );
}
