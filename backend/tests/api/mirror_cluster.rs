//! `--source twilio` on several nodes sharing one PostgreSQL database: three mirrors in
//! this process, each behind its own counting proxy to one upstream Wallboard, and a
//! hand-made role (`watch::channel`) saying which node polls.
//!
//! Needs `WALLBOARD_TEST_DATABASE_URL` (run under `scripts/with-postgres.sh`).

use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use wallboard::clock::ManualClock;
use wallboard::engine::{Engine, Target, View};
use wallboard::ingest::ChangeFeed;
use wallboard::source::Realtime;
use wallboard::source::mirror::{Interest, Mirror, MirrorConfig};
use wallboard::source::upstream::{UpstreamClient, UpstreamConfig};
use wallboard::storage::PgMirrorShare;
use wallboard_shared::resources::WorkflowRealTimeStatistics;

use super::helpers::{ACCOUNT_SID, AUTH_TOKEN, Form, spawn_app, until};
use super::proxy::{FAILING, OK, Proxy, start_proxy};
use super::scenario::{self, NOW, SALES, WS, sales, task_sid};

const REALTIME_EVERY: Duration = Duration::from_millis(200);

/// A new, empty database of the test cluster, by its URL.
fn test_database() -> String {
    let Ok(url) = std::env::var("WALLBOARD_TEST_DATABASE_URL") else {
        panic!(
            "WALLBOARD_TEST_DATABASE_URL is not set: run the tests under scripts/with-postgres.sh \
             (e.g. `scripts/with-postgres.sh cargo test -p wallboard --test api mirror_cluster`)"
        )
    };
    let name = format!("wb_{:016x}", rand::random::<u64>());
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).expect("connect to WALLBOARD_TEST_DATABASE_URL");
    admin.batch_execute(&format!("CREATE DATABASE {name}")).expect("create a test database");
    let (base, query) = url.split_once('?').map_or((url.as_str(), None), |(b, q)| (b, Some(q)));
    let authority = base.find("://").map_or(0, |i| i + 3);
    let end = base[authority..].find('/').map_or(base.len(), |i| authority + i);
    format!("{}/{name}{}", &base[..end], query.map(|q| format!("?{q}")).unwrap_or_default())
}

struct Node {
    mirror: Arc<Mirror>,
    engine: Arc<RwLock<Engine>>,
    proxy: Arc<Proxy>,
    role: watch::Sender<bool>,
    stop: CancellationToken,
    tasks: TaskTracker,
}

impl Node {
    async fn start(upstream: &str, database: &str, leading: bool) -> Self {
        Self::start_polling_every(upstream, database, leading, REALTIME_EVERY).await
    }

    async fn start_polling_every(upstream: &str, database: &str, leading: bool, realtime_every: Duration) -> Self {
        let (proxy, url) = start_proxy(upstream).await;
        let client = UpstreamClient::new(UpstreamConfig {
            base_url: url,
            user: ACCOUNT_SID.into(),
            password: AUTH_TOKEN.into(),
            requests_per_second: 1000,
            timeout: Duration::from_secs(2),
        })
        .expect("client");
        let config = MirrorConfig { realtime_every, cumulative_every: 2 * realtime_every, ..MirrorConfig::default() };
        let engine = Arc::new(RwLock::new(Engine::default()));
        let mirror = Mirror::new(
            client,
            config,
            Arc::new(ManualClock::new(NOW)),
            engine.clone(),
            Arc::new(ChangeFeed::default()),
        );
        assert!(mirror.discover_once().await, "the upstream is listed");
        let url = database.to_owned();
        let share = tokio::task::spawn_blocking(move || PgMirrorShare::connect(&url))
            .await
            .expect("join")
            .expect("connect to the share");
        let (role, receiver) = watch::channel(leading);
        let (stop, tasks) = (CancellationToken::new(), TaskTracker::new());
        tasks.spawn(mirror.clone().run_shared(Box::new(share), receiver, tasks.clone(), stop.clone()));
        Self { mirror, engine, proxy, role, stop, tasks }
    }

    fn view(&self, channel: Option<&str>) -> View {
        let engine = self.engine.read().expect("engine");
        let ws = WS.parse().expect("sid");
        let id = engine.registry().workflow_id(&ws, &SALES.parse().expect("sid")).expect("Sales is discovered");
        View::new(Target::Workflow(id), channel.map(|c| engine.registry().resolve_channel(&ws, c).expect("channel")))
    }

    /// The Sales realtime numbers this node serves, if fresh.
    fn fresh(&self, view: View) -> Option<wallboard_shared::resources::RealTimeStats> {
        match self.mirror.cached_realtime(view) {
            Some((Realtime::Workflow(s), f)) if !f.stale => Some(s),
            _ => None,
        }
    }

    async fn stop(self) {
        self.stop.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }
}

fn statistics_requests(nodes: &[Node]) -> Vec<usize> {
    nodes.iter().map(|n| n.proxy.count("Statistics")).collect()
}

#[tokio::test]
async fn a_cluster_polls_each_topic_once_per_interval_and_every_node_serves_the_numbers() {
    let source = spawn_app(NOW).await;
    scenario::load(&source).await;
    let database = tokio::task::spawn_blocking(test_database).await.expect("a test database");
    let mut nodes = Vec::new();
    for i in 0..3 {
        nodes.push(Node::start(&source.base, &database, i == 0).await);
    }
    // Viewers of the Sales workflow on every node (what the hub tells the mirror).
    let views: Vec<View> = nodes.iter().map(|n| n.view(None)).collect();
    for (n, v) in nodes.iter().zip(&views) {
        n.mirror.set_hub_interests([Interest::Realtime(*v)]);
    }
    let theirs: WorkflowRealTimeStatistics = source.get_json(&sales("RealTimeStatistics")).await;
    until("every node serves the source's numbers", || nodes.iter().zip(&views).all(|(n, v)| n.fresh(*v).is_some()))
        .await;
    for (n, v) in nodes.iter().zip(&views) {
        assert_eq!(n.fresh(*v).as_ref(), Some(&theirs.stats));
    }

    // Eight more polls of the topic for the whole cluster: an interval apart, all by node 0.
    let before: Vec<usize> = nodes.iter().map(|n| n.proxy.count("RealTimeStatistics")).collect();
    until("the cluster polls eight more times", || {
        nodes.iter().map(|n| n.proxy.count("RealTimeStatistics")).sum::<usize>() >= before.iter().sum::<usize>() + 8
    })
    .await;
    let mut times: Vec<Instant> = nodes.iter().flat_map(|n| n.proxy.times("RealTimeStatistics")).collect();
    times.sort();
    let polls = &times[before.iter().sum::<usize>()..];
    for pair in polls.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(gap >= REALTIME_EVERY.mul_f64(0.8), "two polls {gap:?} apart with a {REALTIME_EVERY:?} interval");
    }
    assert_eq!(statistics_requests(&nodes)[1..], [0, 0], "followers never ask the upstream for statistics");

    // A REST request on a follower for a view nobody watched: answered from node 0's poll
    // within a few intervals, still without a request from the follower.
    let voice = nodes[2].view(Some("voice"));
    let asked = Instant::now();
    nodes[2].mirror.want(&Interest::Realtime(voice), Duration::from_secs(3)).await.expect("an answer");
    let waited = asked.elapsed();
    assert!(waited < 5 * REALTIME_EVERY, "first answer after {waited:?}");
    let theirs_voice: WorkflowRealTimeStatistics =
        source.get_json(&format!("{}?TaskChannel=voice", sales("RealTimeStatistics"))).await;
    assert_eq!(nodes[2].fresh(voice).as_ref(), Some(&theirs_voice.stats));
    assert!(nodes[0].proxy.count("TaskChannel=") >= 1, "node 0 polled it");
    assert_eq!(statistics_requests(&nodes)[1..], [0, 0]);

    // The role moves to node 1: it polls, node 0 stops.
    nodes[0].role.send_replace(false);
    nodes[1].role.send_replace(true);
    let at_move = statistics_requests(&nodes);
    until("node 1 polls", || nodes[1].proxy.count("RealTimeStatistics") >= 3).await;
    // Node 0 stops within the move (a request in flight at most per topic).
    let after_move = statistics_requests(&nodes);
    until("node 1 polls three more times", || nodes[1].proxy.count("RealTimeStatistics") >= after_move[1] + 3).await;
    let settled = statistics_requests(&nodes);
    assert!(settled[0] <= at_move[0] + 2, "node 0 stopped polling: {at_move:?} then {settled:?}");
    assert_eq!(settled[2], 0, "node 2 never polled");

    // A new task at the source reaches every node's viewers through node 1's polls:
    // Sales had `theirs.stats.total_tasks` tasks, one more now.
    let total = theirs.stats.total_tasks;
    let new_task = Form::new("task.created", 77_001, NOW - 500, WS)
        .with("TaskSid", task_sid(77_001))
        .with("WorkflowSid", SALES)
        .with("WorkflowName", "Sales")
        .with("TaskChannelUniqueName", "voice");
    assert_eq!(source.post_event(&new_task.0).await, StatusCode::NO_CONTENT);
    until("every node serves the new task", || {
        nodes.iter().zip(&views).all(|(n, v)| n.fresh(*v).is_some_and(|s| s.total_tasks == total + 1))
    })
    .await;

    // The upstream fails node 1's polls: every node keeps the last numbers, marked stale
    // (node 1 publishes the failures too), and all are fresh again once it answers.
    nodes[1].proxy.mode.store(FAILING, Ordering::SeqCst);
    until("every node marks the numbers stale", || {
        nodes.iter().zip(&views).all(|(n, v)| n.mirror.cached_realtime(*v).is_some_and(|(_, f)| f.stale))
    })
    .await;
    for (n, v) in nodes.iter().zip(&views) {
        let kept = n.mirror.cached_realtime(*v).map(|(r, _)| r);
        assert!(
            matches!(kept, Some(Realtime::Workflow(ref s)) if s.total_tasks == total + 1),
            "the last numbers are kept: {kept:?}"
        );
    }
    nodes[1].proxy.mode.store(OK, Ordering::SeqCst);
    until("every node is fresh again", || nodes.iter().zip(&views).all(|(n, v)| n.fresh(*v).is_some())).await;

    // The polling node dies and nobody holds the role yet: the numbers go stale on the
    // others (three intervals without a new answer), then are fresh again once node 2 polls.
    let dead = nodes.remove(1);
    dead.stop().await;
    until("the survivors mark the numbers stale", || {
        [(&nodes[0], views[0]), (&nodes[1], views[2])].iter().all(|(n, v)| n.fresh(*v).is_none())
    })
    .await;
    let stale_requests = statistics_requests(&nodes);
    nodes[1].role.send_replace(true);
    until("node 2 polls and both survivors are fresh", || {
        [(&nodes[0], views[0]), (&nodes[1], views[2])].iter().all(|(n, v)| n.fresh(*v).is_some())
    })
    .await;
    assert_eq!(statistics_requests(&nodes)[0], stale_requests[0], "node 0 stays a follower");
    assert!(statistics_requests(&nodes)[1] > 0, "node 2 polls");

    for n in nodes {
        n.stop().await;
    }
    source.stop().await;
}

/// A follower told of each publication (as its LISTEN connection does) serves the new
/// numbers at once, not at its next periodic read (every second).
#[tokio::test]
async fn a_notified_follower_serves_new_numbers_at_once() {
    let source = spawn_app(NOW).await;
    scenario::load(&source).await;
    let database = tokio::task::spawn_blocking(test_database).await.expect("a test database");
    let leader = Node::start(&source.base, &database, true).await;
    // Polls every minute if it led: reads the share every second (the longest period).
    let follower = Node::start_polling_every(&source.base, &database, false, Duration::from_secs(60)).await;
    let (lv, fv) = (leader.view(None), follower.view(None));
    leader.mirror.set_hub_interests([Interest::Realtime(lv)]);
    follower.mirror.set_hub_interests([Interest::Realtime(fv)]);
    until("the follower serves numbers", || follower.fresh(fv).is_some()).await;

    // The doorbell: a LISTEN connection that tells the follower's mirror.
    let listening = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let (mirror, url, on) = (follower.mirror.clone(), database.clone(), listening.clone());
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let doorbell = std::thread::spawn(move || {
        use postgres::fallible_iterator::FallibleIterator;
        let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        c.batch_execute(&format!("LISTEN {}", wallboard::storage::MIRROR_CHANNEL)).expect("listen");
        let _ = ready_tx.send(());
        while on.load(Ordering::SeqCst) {
            if c.notifications().timeout_iter(Duration::from_millis(50)).next().expect("notifications").is_some() {
                mirror.published_elsewhere();
            }
        }
    });
    ready_rx.await.expect("listening");

    // Sales holds `total` tasks; each new one reaches the follower well within its
    // one-second reading period (the leader polls every 200 ms).
    let total = follower.fresh(fv).expect("fresh").total_tasks;
    for n in 1..=3u32 {
        let new_task = Form::new("task.created", 78_000 + n, NOW - 500, WS)
            .with("TaskSid", task_sid(78_000 + n))
            .with("WorkflowSid", SALES)
            .with("WorkflowName", "Sales")
            .with("TaskChannelUniqueName", "voice");
        assert_eq!(source.post_event(&new_task.0).await, StatusCode::NO_CONTENT);
        let posted = Instant::now();
        until("the follower serves the new task", || {
            follower.fresh(fv).is_some_and(|s| s.total_tasks == total + u64::from(n))
        })
        .await;
        let took = posted.elapsed();
        assert!(took < Duration::from_millis(700), "new numbers reached the follower after {took:?}");
    }
    assert_eq!(follower.proxy.count("Statistics"), 0);
    listening.store(false, Ordering::SeqCst);
    tokio::task::spawn_blocking(move || doorbell.join()).await.expect("join").expect("the doorbell ends");
    leader.stop().await;
    follower.stop().await;
    source.stop().await;
}
