//! End-to-end: the real server with the simulator, the built dashboard, headless Chromium.
//!
//! Needs `frontend/dist` (scripts/build-frontend.sh; scripts/test.sh builds it first) and
//! Chromium with ChromeDriver (`/usr/bin/chromium`, `/usr/bin/chromedriver`; override with
//! `CHROME_BIN` and `CHROMEDRIVER`). Screenshots go to `target/e2e/`.

use std::net::TcpListener as StdListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use fantoccini::error::{CmdError, ErrorStatus};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use wallboard::access::Scope;
use wallboard::clock::ManualClock;
use wallboard::config::{ServeArgs, Source};
use wallboard_shared::queues::{TaskQueuePage, TaskQueueRealTimeStatistics};
use wallboard_shared::resources::{WorkflowCumulativeStatistics, WorkflowRealTimeStatistics};
use wallboard_shared::service_level::{Definition, ServiceLevelStatistics};
use wallboard_shared::workers::{ActivityPage, Worker, WorkersRealTimeStatistics};
use wallboard_shared::workspace::WorkspaceRealTimeStatistics;

/// The server harness, shared with the API tests; this binary uses only part of it.
#[allow(dead_code)]
#[path = "../support/harness.rs"]
mod harness;
/// Shared with the API tests; this binary uses only part of it.
#[allow(dead_code)]
#[path = "../support/proxy.rs"]
mod proxy;
/// The soak (ignored: scripts/soak.sh runs it).
mod soak;
/// Burn-in protection and the watchdog of a kiosk left alone.
mod unattended;

/// Downloads of the Export buttons.
mod export;

mod history;

use harness::{ACCOUNT_SID, AUTH_TOKEN, Form, TestApp, free_port, serve_args, spawn_app_with};

/// Bounds every wait on the browser.
const TIMEOUT: Duration = Duration::from_secs(30);

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn assets_dir() -> PathBuf {
    let dir = repo_root().join("frontend/dist");
    assert!(
        dir.join("index.html").is_file(),
        "the dashboard is not built: run scripts/build-frontend.sh (scripts/test.sh does) before the e2e tests"
    );
    dir
}

/// The built dashboard and the simulated center (seed 11, four hours of history) on `port`.
fn args(data_dir: &Path, port: u16, frame_ancestors: &str) -> ServeArgs {
    let mut args = serve_args(data_dir);
    args.bind = format!("127.0.0.1:{port}").parse().expect("address");
    args.source = Source::Simulator;
    args.assets_dir = assets_dir();
    args.frame_ancestors = [frame_ancestors].into_iter().filter(|a| !a.is_empty()).map(str::to_owned).collect();
    args.sim_seed = Some(11);
    args.sim_history_hours = 4;
    args
}

async fn start(data_dir: &Path, port: u16, clock: Arc<ManualClock>) -> TestApp {
    spawn_app_with(args(data_dir, port, ""), clock).await
}

async fn start_with(data_dir: &Path, port: u16, clock: Arc<ManualClock>, frame_ancestors: &str) -> TestApp {
    spawn_app_with(args(data_dir, port, frame_ancestors), clock).await
}

/// A viewer token for the demo workspace, made as `wallboard token create` does (it
/// outlives restarts, unlike the admin link printed at startup).
fn viewer_token(app: &TestApp, label: &str, now_ms: i64) -> String {
    let scope = Scope::Workspace { workspace: app.demo().workspace_sid.clone(), workflows: Vec::new() };
    app.create_token(label, scope, None, now_ms).0
}

/// Posts a signed `task.created` for a new pending task of `workflow`.
async fn new_task(app: &TestApp, workflow: &str, n: u32, now: i64) {
    let form = Form::new("task.created", 0xe2e0_0000 + n, now, app.demo().workspace_sid.as_ref())
        .without("WorkspaceName")
        .with("TaskSid", format!("WT{:032x}", 0xe2e0_0000 + n))
        .with("WorkflowSid", workflow)
        .with("TaskChannelUniqueName", "voice")
        .with("TaskPriority", "0");
    assert_eq!(app.post_event(&form.0).await, 204);
}

/// Posts a signed `task.created` for a new pending task of `workflow` in `queue`, created
/// `age_ms` before `now`.
async fn new_queued_task(app: &TestApp, workflow: &str, queue: &str, n: u32, now: i64, age_ms: i64) {
    let form = Form::new("task.created", 0xe2e1_0000 + n, now - age_ms, app.demo().workspace_sid.as_ref())
        .without("WorkspaceName")
        .with("TaskSid", format!("WT{:032x}", 0xe2e1_0000 + n))
        .with("WorkflowSid", workflow)
        .with("TaskQueueSid", queue)
        .with("TaskChannelUniqueName", "voice")
        .with("TaskPriority", "0")
        .with("TaskAssignmentStatus", "pending");
    assert_eq!(app.post_event(&form.0).await, 204);
}

/// Posts a signed `worker.activity.update`: `worker` (named `name`) in `activity` since `at`.
async fn activity_update(app: &TestApp, worker: &Worker, activity: (&str, &str), n: u32, at: i64) {
    let form = Form::new("worker.activity.update", 0xe2e2_0000 + n, at, app.demo().workspace_sid.as_ref())
        .without("WorkspaceName")
        .with("WorkerSid", &worker.sid)
        .with("WorkerName", &worker.friendly_name)
        .with("WorkerActivitySid", activity.0)
        .with("WorkerActivityName", activity.1);
    assert_eq!(app.post_event(&form.0).await, 204);
}

/// Pins the page's clock to `ms`, as the `ManualClock` pins the server's: the dashboard
/// reads `Date.now()` at every call (wasm-bindgen looks it up each time), for its ticking
/// ages and to measure its skew against the server's `Date` (`browser::clock_skew_ms`).
async fn pin_page_clock(c: &Client, ms: i64) {
    c.execute("const t = arguments[0]; Date.now = () => t;", vec![json!(ms)]).await.expect("script");
}

/// The cells of the table row `[data-testid=testid][data-sid=sid]` of the given classes, as
/// (`data-value`, text); None while the row is not drawn.
async fn row_cells(c: &Client, testid: &str, sid: &str, classes: &[&str]) -> Option<Vec<(String, String)>> {
    let v = c
        .execute(
            "const row = document.querySelector(`[data-testid=\"${arguments[0]}\"][data-sid=\"${arguments[1]}\"]`);
             if (!row) return null;
             return arguments[2].map(k => {
               const e = row.querySelector('.' + k);
               return e ? [e.dataset.value || '', e.textContent] : null;
             });",
            vec![json!(testid), json!(sid), json!(classes)],
        )
        .await
        .ok()?;
    v.as_array()?.iter().map(|cell| Some((cell[0].as_str()?.to_owned(), cell[1].as_str()?.to_owned()))).collect()
}

/// The `data-value`s of a queue row, in the order of [`QUEUE_CELLS`].
async fn queue_values(c: &Client, sid: &str) -> Option<Vec<u64>> {
    row_cells(c, "queue-row", sid, &QUEUE_CELLS).await?.iter().map(|(v, _)| v.parse().ok()).collect()
}

/// The queues wall's cells the tests read: waiting, longest wait (s), agents available,
/// busy, unavailable, offline.
const QUEUE_CELLS: [&str; 6] = ["q-waiting", "q-longest", "q-available", "q-busy", "q-unavailable", "q-offline"];

/// What a queue's row must show, from its RealTimeStatistics (in [`QUEUE_CELLS`] order):
/// busy is the tasks agents hold (reserved, assigned, wrapping), at most the available
/// agents; unavailable and offline count the eligible workers per activity, "Offline"
/// being the offline one.
fn queue_expected(rt: &TaskQueueRealTimeStatistics, activities: &ActivityPage) -> Vec<u64> {
    let s = &rt.stats;
    let by = &s.tasks_by_status;
    let (mut unavailable, mut offline) = (0, 0);
    for a in &s.activity_statistics {
        let available = activities.activities.iter().any(|x| x.sid == a.sid && x.available);
        match (available, a.friendly_name.eq_ignore_ascii_case("offline")) {
            (true, _) => {}
            (false, true) => offline += a.workers,
            (false, false) => unavailable += a.workers,
        }
    }
    let busy = (by.reserved + by.assigned + by.wrapping).min(s.total_available_workers);
    vec![by.pending, s.longest_task_waiting_age, s.total_available_workers, busy, unavailable, offline]
}

/// The agent board's bars: activity name → agents.
async fn activity_bars(c: &Client) -> Option<std::collections::BTreeMap<String, u64>> {
    let v = c
        .execute(
            "return Array.from(document.querySelectorAll('[data-testid=activity-bars] [data-activity]'))
               .map(e => [e.dataset.activity, e.dataset.value]);",
            vec![],
        )
        .await
        .ok()?;
    v.as_array()?.iter().map(|b| Some((b[0].as_str()?.to_owned(), b[1].as_str()?.parse().ok()?))).collect()
}

struct Driver {
    process: Child,
    _profile: tempfile::TempDir,
    client: Client,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // ChromeDriver leads its own process group: end Chromium with it, even when a
        // failed assertion left the session open.
        let _ = Command::new("kill").arg("-TERM").arg("--").arg(format!("-{}", self.process.id())).status();
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

async fn browser() -> Driver {
    browser_with(&[]).await
}

/// A browser launched with Chromium's `extra` arguments too.
async fn browser_with(extra: &[&str]) -> Driver {
    browser_with_prefs(extra, serde_json::Value::Null).await
}

/// A browser launched with Chromium's `extra` arguments and profile `prefs` (an object, or
/// null for none: e.g. the download directory).
async fn browser_with_prefs(extra: &[&str], prefs: serde_json::Value) -> Driver {
    // reqwest and fantoccini both bring rustls; pick its provider once for the process.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let port = free_port();
    let chromedriver = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    let process = Command::new(&chromedriver)
        .process_group(0)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {chromedriver}: {e} (scripts/setup.sh installs it)"));
    let profile = tempfile::tempdir().expect("profile dir");
    let chrome = std::env::var("CHROME_BIN").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let mut args = vec![
        "--headless=new".to_owned(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-quic".into(),
        "--no-first-run".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--disable-dev-shm-usage".into(),
        "--window-size=1400,1000".into(),
        format!("--user-data-dir={}", profile.path().display()),
    ];
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    let mut caps = serde_json::Map::new();
    let mut options = json!({ "binary": chrome, "args": args });
    if !prefs.is_null() {
        options["prefs"] = prefs;
    }
    caps.insert("goog:chromeOptions".into(), options);
    let url = format!("http://127.0.0.1:{port}");
    let client = tokio::time::timeout(TIMEOUT, async {
        loop {
            match ClientBuilder::rustls().expect("TLS roots").capabilities(caps.clone()).connect(&url).await {
                Ok(c) => return c,
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await, // chromedriver starting
            }
        }
    })
    .await
    .expect("chromedriver answers");
    Driver { process, _profile: profile, client }
}

/// Waits (bounded) until `check` returns Some.
async fn until<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    tokio::time::timeout(TIMEOUT, async {
        loop {
            if let Some(v) = check().await {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// Clicks the element `css` once it takes the click. A page still laying out (a section
/// above growing as its list arrives) can move the element between WebDriver's scrolling
/// it into view and its click, which Chromium reports as intercepted (or the element as
/// stale or not interactable): then nothing was clicked, so the click is tried again,
/// within the timeout. Any other error fails at once; a timeout names the last refusal.
async fn click(c: &Client, css: &str, what: &str) {
    let mut last = String::from("never found");
    let tried = tokio::time::timeout(TIMEOUT, async {
        loop {
            match c.find(Locator::Css(css)).await {
                Err(e) => last = e.to_string(),
                Ok(el) => match el.click().await {
                    Ok(()) => return,
                    Err(CmdError::Standard(e))
                        if matches!(
                            e.error,
                            ErrorStatus::ElementClickIntercepted
                                | ErrorStatus::StaleElementReference
                                | ErrorStatus::ElementNotInteractable
                        ) =>
                    {
                        last = e.to_string()
                    }
                    Err(e) => panic!("click {what}: {e}"),
                },
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    if tried.is_err() {
        panic!("timed out clicking {what}: {last}");
    }
}

async fn text_of(c: &Client, testid: &str) -> Option<String> {
    let el = c.find(Locator::Css(&format!("[data-testid={testid}]"))).await.ok()?;
    el.text().await.ok()
}

/// The first integer in a tile's text.
fn number(text: &str) -> Option<u64> {
    let digits: String = text
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(|c| c.is_ascii_digit() || *c == ',')
        .filter(|c| *c != ',')
        .collect();
    digits.parse().ok()
}

async fn attr(c: &Client, css: &str, name: &str) -> Option<String> {
    c.find(Locator::Css(css)).await.ok()?.attr(name).await.ok()?
}

async fn screenshot(c: &Client, name: &str) {
    let dir = repo_root().join("target/e2e");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(dir.join(name), png).expect("write screenshot");
}

async fn console_errors(c: &Client) -> Vec<String> {
    let v = c.execute("return (window.__wallboard && window.__wallboard.errors) || [];", vec![]).await.expect("script");
    v.as_array().map(|a| a.iter().map(|e| e.to_string()).collect()).unwrap_or_default()
}

#[tokio::test]
async fn dashboard_end_to_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    let now = chrono::Utc::now().timestamp_millis();
    let clock = Arc::new(ManualClock::new(now));
    let port = free_port();
    let server = start(dir.path(), port, clock.clone()).await;
    let token = viewer_token(&server, "e2e", now);
    let driver = browser().await;
    let c = &driver.client;

    // Overview: every workflow as a card.
    c.goto(&format!("{}/#token={token}", server.base)).await.expect("open the dashboard");
    // The texts are read in the same look as the cards are found: a card drawn again in
    // between would be a stale element.
    let names = until("three workflow cards", || async {
        let cards = c.find_all(Locator::Css("[data-testid=workflow-card]")).await.ok()?;
        if cards.len() != 3 {
            return None;
        }
        let mut names = Vec::new();
        for card in &cards {
            names.push(card.text().await.ok()?);
        }
        Some(names)
    })
    .await;
    let first_ms =
        c.execute("return window.__wallboard && window.__wallboard.firstDataMs;", vec![]).await.expect("script");
    println!("first numbers on screen after {first_ms} ms (from navigation start)");
    for wf in ["Sales", "Support", "Billing"] {
        assert!(names.iter().any(|t| t.contains(wf)), "{wf} card in {names:?}");
    }
    screenshot(c, "overview.png").await;

    // Workflow page: same numbers as the REST API.
    let (sales, _) = server.demo().workflows.iter().find(|(_, n)| n == "Sales").expect("Sales").clone();
    let sales = sales.to_string();
    click(c, &format!("[data-testid=workflow-card][data-workflow-sid='{sales}'] a"), "the Sales card's link").await;
    let rt_path = format!("/v1/Workspaces/{}/Workflows/{sales}/RealTimeStatistics", server.demo().workspace_sid);
    let rest: WorkflowRealTimeStatistics = server.get_json(&rt_path).await;
    let by_status = rest.stats.tasks_by_status;
    for (tile, value) in [
        ("tile-total", rest.stats.total_tasks),
        ("tile-pending", by_status.pending),
        ("tile-reserved", by_status.reserved),
        ("tile-assigned", by_status.assigned),
        ("tile-wrapping", by_status.wrapping),
    ] {
        let want = Some(value);
        until(&format!("{tile} = {want:?}"), || async {
            (text_of(c, tile).await.and_then(|t| number(&t)) == want).then_some(())
        })
        .await;
    }
    for chart in ["chart-task-outcomes", "chart-reservation-outcomes", "chart-waits", "chart-sla", "chart-trend"] {
        until(&format!("{chart} drawn"), || async {
            (attr(c, &format!("[data-testid={chart}]"), "data-drawn").await.as_deref() == Some("1")).then_some(())
        })
        .await;
    }
    until("badge live", || async {
        (attr(c, "[data-testid=connection-badge]", "data-state").await.as_deref() == Some("live")).then_some(())
    })
    .await;
    screenshot(c, "workflow.png").await;

    // A new event changes the tiles without a reload.
    let pending = by_status.pending;
    new_task(&server, &sales, 1, now).await;
    until("pending + 1", || async {
        (text_of(c, "tile-pending").await.and_then(|t| number(&t)) == Some(pending + 1)).then_some(())
    })
    .await;

    // Drop the server: reconnecting; restore it on the same port: live again.
    server.stop().await;
    until("badge reconnecting", || async {
        let s = attr(c, "[data-testid=connection-badge]", "data-state").await?;
        (s == "reconnecting" || s == "stale").then_some(())
    })
    .await;
    screenshot(c, "reconnecting.png").await;
    let server = start(dir.path(), port, clock.clone()).await;
    let restarted = std::time::Instant::now();
    until("badge live again", || async {
        (attr(c, "[data-testid=connection-badge]", "data-state").await.as_deref() == Some("live")).then_some(())
    })
    .await;
    println!("live again {:?} after the server came back", restarted.elapsed());
    until("numbers after reconnect", || async {
        (text_of(c, "tile-pending").await.and_then(|t| number(&t)) == Some(pending + 1)).then_some(())
    })
    .await;

    let errors = console_errors(c).await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    driver.client.clone().close().await.expect("close the browser");
    server.stop().await;
}

/// The queues wall and the agent board show the server's numbers at the same clock time,
/// and follow events without a reload: a queue's waiting count and longest wait, the agents
/// per activity, and an agent's time in state, ticking with the clocks.
#[tokio::test]
async fn supervisor_views_show_the_servers_numbers_live() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A whole second: the server's `Date` header (whole seconds) is then its clock exactly.
    let t0 = chrono::Utc::now().timestamp_millis() / 1000 * 1000;
    let clock = Arc::new(ManualClock::new(t0));
    let server = start(dir.path(), free_port(), clock.clone()).await;
    let token = viewer_token(&server, "e2e", t0);
    let ws = server.demo().workspace_sid.to_string();
    let driver = browser().await;
    let c = &driver.client;
    let api = |rest: &str| format!("/v1/Workspaces/{ws}/{rest}");
    let activities: ActivityPage = server.get_json(&api("Activities?PageSize=100")).await;
    let queues: TaskQueuePage = server.get_json(&api("TaskQueues?PageSize=100")).await;
    let queue = |name: &str| {
        queues
            .task_queues
            .iter()
            .find(|q| q.friendly_name == name)
            .unwrap_or_else(|| panic!("queue {name}"))
            .sid
            .to_string()
    };
    let (sales_q, support_q) = (queue("Sales"), queue("Support"));

    // The queues wall, the page's clock on the server's (which stands still: the simulator
    // moves only with it).
    c.goto(&format!("{}/?page=queues&ws={ws}#token={token}", server.base)).await.expect("open the queues wall");
    pin_page_clock(c, t0).await;
    let mut shown = std::collections::BTreeMap::new();
    for sid in [&sales_q, &support_q] {
        let rt: TaskQueueRealTimeStatistics =
            server.get_json(&api(&format!("TaskQueues/{sid}/RealTimeStatistics"))).await;
        let want = queue_expected(&rt, &activities);
        let total: u64 = want[2..].iter().sum::<u64>() - want[3];
        assert_eq!(total, rt.stats.total_eligible_workers, "available + unavailable + offline = eligible agents");
        until(&format!("queue {sid} showing {want:?}"), || async {
            (queue_values(c, sid).await.as_ref() == Some(&want)).then_some(())
        })
        .await;
        shown.insert(sid.clone(), want);
    }
    let rows = c.find_all(Locator::Css("[data-testid=queue-row]")).await.expect("rows");
    assert_eq!(rows.len(), queues.task_queues.len(), "a row per queue");
    let header: WorkspaceRealTimeStatistics = server.get_json(&api("RealTimeStatistics")).await;
    let waiting = header.stats.tasks_by_status.pending;
    until("the header's waiting tasks", || async {
        (text_of(c, "ws-waiting").await.and_then(|t| number(&t)) == Some(waiting)).then_some(())
    })
    .await;

    // A task waiting for 95 s enters Sales: one more waiting there and in the header, and
    // the longest wait is at least 95 s; Support does not change.
    let (sales_wf, _) = server.demo().workflows.iter().find(|(_, n)| n == "Sales").expect("Sales").clone();
    new_queued_task(&server, sales_wf.as_ref(), &sales_q, 1, t0, 95_000).await;
    let before = &shown[&sales_q];
    let mut want = before.clone();
    want[0] += 1;
    want[1] = want[1].max(95);
    until(&format!("Sales showing {want:?}"), || async {
        (queue_values(c, &sales_q).await.as_ref() == Some(&want)).then_some(())
    })
    .await;
    let rt: TaskQueueRealTimeStatistics =
        server.get_json(&api(&format!("TaskQueues/{sales_q}/RealTimeStatistics"))).await;
    assert_eq!(queue_expected(&rt, &activities), want, "the server agrees");
    until("the header's waiting + 1", || async {
        (text_of(c, "ws-waiting").await.and_then(|t| number(&t)) == Some(waiting + 1)).then_some(())
    })
    .await;
    assert_eq!(queue_values(c, &support_q).await.as_ref(), Some(&shown[&support_q]));
    screenshot(c, "queues-wall.png").await;

    // The agent board: agents per activity as Workers/RealTimeStatistics counts them.
    c.goto(&format!("{}/?page=agents&ws={ws}#token={token}", server.base)).await.expect("open the agent board");
    pin_page_clock(c, t0).await;
    let stats: WorkersRealTimeStatistics = server.get_json(&api("Workers/RealTimeStatistics")).await;
    let want: std::collections::BTreeMap<String, u64> =
        stats.stats.activity_statistics.iter().map(|a| (a.friendly_name.clone(), a.workers)).collect();
    assert_eq!(want.values().sum::<u64>(), stats.stats.total_workers);
    until(&format!("activity bars {want:?}"), || async {
        (activity_bars(c).await.as_ref() == Some(&want)).then_some(())
    })
    .await;
    until("the agents tile", || async {
        (text_of(c, "agents-total").await.and_then(|t| number(&t)) == Some(stats.stats.total_workers)).then_some(())
    })
    .await;

    // An agent on screen, in an activity other than Break since a minute or more, goes on
    // a break 42 s ago.
    let on_screen = c
        .execute(
            "return Array.from(document.querySelectorAll('[data-testid=agent-row]')).map(r => r.dataset.sid);",
            vec![],
        )
        .await
        .expect("script");
    let mut agent = None;
    for sid in on_screen.as_array().expect("rows").iter().filter_map(|v| v.as_str()) {
        let w: Worker = server.get_json(&api(&format!("Workers/{sid}"))).await;
        let since = w.date_status_changed.map(|d| d.timestamp_millis());
        if w.activity_name.as_deref() != Some("Break") && since.is_some_and(|s| s <= t0 - 60_000) {
            agent = Some(w);
            break;
        }
    }
    let agent = agent.expect("an agent on screen in another activity for a minute");
    let was = agent.activity_name.clone().expect("an activity");
    let brk = activities.activities.iter().find(|a| a.friendly_name == "Break").expect("Break");
    activity_update(&server, &agent, (brk.sid.as_ref(), "Break"), 1, t0 - 42_000).await;
    let mut want = want;
    *want.get_mut(&was).expect("its activity has a bar") -= 1;
    *want.get_mut("Break").expect("a Break bar") += 1;
    until(&format!("activity bars {want:?}"), || async {
        (activity_bars(c).await.as_ref() == Some(&want)).then_some(())
    })
    .await;
    let stats: WorkersRealTimeStatistics = server.get_json(&api("Workers/RealTimeStatistics")).await;
    let server_bars: std::collections::BTreeMap<String, u64> =
        stats.stats.activity_statistics.iter().map(|a| (a.friendly_name.clone(), a.workers)).collect();
    assert_eq!(server_bars, want, "the server agrees");
    // In Break since t0 - 42 s, at t0: 42 s, as the server says.
    let w: Worker = server.get_json(&api(&format!("Workers/{}", agent.sid))).await;
    let since = w.date_status_changed.expect("since").timestamp_millis();
    assert_eq!(since, t0 - 42_000);
    let time_cells = ["a-activity", "a-time"];
    let want_cells = vec![("".to_owned(), "Break".to_owned()), ("42".to_owned(), "42 s".to_owned())];
    until("the agent on a break for 42 s", || async {
        (row_cells(c, "agent-row", agent.sid.as_ref(), &time_cells).await.as_ref() == Some(&want_cells)).then_some(())
    })
    .await;

    // 65 s later on both clocks (the simulator runs them): the time in state follows, from
    // the server's `date_status_changed` (42 + 65 = 107 s unless the simulator moved the agent).
    clock.advance(65_000);
    pin_page_clock(c, t0 + 65_000).await;
    let w: Worker = server.get_json(&api(&format!("Workers/{}", agent.sid))).await;
    let since = w.date_status_changed.expect("since").timestamp_millis();
    let secs = ((t0 + 65_000 - since) / 1000) as u64;
    if since == t0 - 42_000 {
        assert_eq!(secs, 107);
    }
    let want_value = secs.to_string();
    until(&format!("the agent's time in state at {secs} s"), || async {
        let cells = row_cells(c, "agent-row", agent.sid.as_ref(), &time_cells).await?;
        (cells[1].0 == want_value && cells[0].1 == w.activity_name.clone().unwrap_or_default()).then_some(())
    })
    .await;
    screenshot(c, "agent-board.png").await;

    let errors = console_errors(c).await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    driver.client.clone().close().await.expect("close the browser");
    server.stop().await;
}

/// A share as the dashboard writes it in `data-value` (`model::format::percent_value`): a
/// percentage rounded to one decimal, without a trailing `.0`.
fn percent_value(share: f64) -> String {
    let t = (share * 100.0 * 10.0).round() as i64;
    if t % 10 == 0 { format!("{}", t / 10) } else { format!("{}.{}", t / 10, t % 10) }
}

/// A workflow's own service-level definition, stored through the REST API, is the one its
/// overview card and its workflow page compute with, and both show its formula; another
/// workflow keeps the built-in. The tasks are posted, so the number is worked by hand, and
/// it is the server's `…/Workflows/{WW}/ServiceLevel` over the same window (the last 15
/// minutes) at the same clock (a manual one: the simulated center stands still).
#[tokio::test]
async fn a_workflows_service_level_definition_is_the_one_shown() {
    let dir = tempfile::tempdir().expect("tempdir");
    let now = chrono::Utc::now().timestamp_millis();
    let server = start(dir.path(), free_port(), Arc::new(ManualClock::new(now))).await;
    let token = viewer_token(&server, "e2e", now);
    let ws = server.demo().workspace_sid.to_string();
    let (support, _) = server.demo().workflows.iter().find(|(_, n)| n == "Support").expect("Support").clone();
    let support = support.to_string();

    // A workflow of its own, "Checks": five tasks in the last ten minutes, answered after 2,
    // 10 and 40 s, abandoned after 3 and 25 s.
    let wf = format!("WW{:032x}", 0xe2e5_0000u32);
    let mut n = 0xe2e5_0000u32;
    for (i, (wait_ms, answered)) in
        [(2_000, true), (3_000, false), (10_000, true), (25_000, false), (40_000, true)].into_iter().enumerate()
    {
        let task = format!("WT{:032x}", 0xe2e5_0000 + i);
        let created = now - 600_000 + i as i64 * 60_000;
        let event = |event_type: &str, at: i64, n: u32| {
            Form::new(event_type, n, at, &ws)
                .without("WorkspaceName")
                .with("TaskSid", &task)
                .with("WorkflowSid", &wf)
                .with("WorkflowName", "Checks")
                .with("TaskChannelUniqueName", "voice")
                .with("TaskPriority", "0")
        };
        let mut forms = vec![event("task.created", created, n + 1), event("workflow.entered", created, n + 2)];
        if answered {
            let reservation = |f: Form| {
                f.with("ReservationSid", format!("WR{:032x}", 0xe2e5_0000 + i))
                    .with("WorkerSid", format!("WK{:032x}", 0xe2e5_0000u32))
                    .with("WorkerName", "checker")
            };
            forms.push(reservation(event("reservation.created", created + wait_ms - 500, n + 3)));
            forms.push(reservation(event("reservation.accepted", created + wait_ms, n + 4)));
        } else {
            forms.push(event("task.canceled", created + wait_ms, n + 3));
        }
        n += 10;
        for form in forms {
            assert_eq!(server.post_event(&form.0).await, 204);
        }
    }

    // Its own definition: T = 30 s, S = 5 s, short abandons met (no workspace default). By
    // hand: (answered < 30 s: 2 + abandoned < 5 s: 1) ÷ (answered 3 + abandoned 2) = 60 %;
    // the built-in would say 2 ÷ (3 + 1 abandoned at or after 20 s) = 50 %.
    let stored = server
        .client
        .post(format!("{}/v1/Workspaces/{ws}/ServiceLevels/{wf}", server.base))
        .basic_auth(ACCOUNT_SID, Some(AUTH_TOKEN))
        .form(&[("Threshold", "30"), ("ShortAbandon", "5"), ("Abandons", "counted_as_met")])
        .send()
        .await
        .expect("store the definition");
    assert!(stored.status().is_success(), "store the definition: {}", stored.text().await.unwrap_or_default());
    let formula = "(answered < 30 s + abandoned < 5 s) ÷ (answered + abandoned)";
    let level: ServiceLevelStatistics =
        server.get_json(&format!("/v1/Workspaces/{ws}/Workflows/{wf}/ServiceLevel?Minutes=15")).await;
    assert_eq!((level.definition.defined_by.as_str(), level.definition.formula.as_str()), (wf.as_str(), formula));
    assert_eq!((level.numerator, level.denominator), (3, 5), "the server agrees with the hand count");
    let cumulative: WorkflowCumulativeStatistics = server
        .get_json(&format!("/v1/Workspaces/{ws}/Workflows/{wf}/CumulativeStatistics?Minutes=15&SplitByWaitTime=20"))
        .await;
    let split = cumulative.stats.split_by_wait_time.expect("split at 20 s");
    let built_in = Definition::BUILT_IN.of_split(&split).and_then(|(_, o)| o.value);
    assert_eq!(built_in, Some(0.5));
    let want = percent_value(level.service_level.expect("a number"));
    assert_eq!(want, "60");

    // The overview: the card of Checks under its definition, its formula as the tile's title
    // and its T in the hint; the Support card under the built-in.
    let driver = browser().await;
    let c = &driver.client;
    c.goto(&format!("{}/?ws={ws}#token={token}", server.base)).await.expect("open the overview");
    let tile = |wf: &str| format!("[data-testid=workflow-card][data-workflow-sid='{wf}'] [data-testid=card-sla]");
    until(&format!("the card of Checks at {want} %"), || async {
        (attr(c, &tile(&wf), "data-value").await.as_deref() == Some(want.as_str())).then_some(())
    })
    .await;
    assert_eq!(attr(c, &tile(&wf), "title").await.as_deref(), Some(formula));
    let hint_css = format!("{} .tile-hint", tile(&wf));
    let hint =
        until("the tile's hint", || async { c.find(Locator::Css(&hint_css)).await.ok()?.text().await.ok() }).await;
    assert_eq!(hint, "at 30 s · 15 min");
    assert_eq!(attr(c, &tile(&support), "title").await.as_deref(), Some(Definition::BUILT_IN.formula().as_str()));
    screenshot(c, "service-level-overview.png").await;

    // The workflow page: the same number in the panel, the formula under the SLA table, and
    // the table's row at T = 30 s is the figure.
    c.goto(&format!("{}/?page=workflow&ws={ws}&wf={wf}#token={token}", server.base))
        .await
        .expect("open the workflow page");
    until(&format!("the panel at {want} %"), || async {
        (attr(c, "[data-testid=kpi-service-level]", "data-value").await.as_deref() == Some(want.as_str())).then_some(())
    })
    .await;
    assert_eq!(attr(c, "[data-testid=kpi-service-level]", "title").await.as_deref(), Some(formula));
    assert_eq!(text_of(c, "sl-formula").await.as_deref(), Some(formula));
    let row = until("the SLA table's row at 30 s", || async {
        let row = c.find(Locator::Css("[data-testid=sla-table] tr[data-threshold='30']")).await.ok()?;
        row.find(Locator::Css(".sla-percent")).await.ok()?.text().await.ok()
    })
    .await;
    assert_eq!(row, format!("{want} %"));
    c.execute("document.querySelector('[data-testid=sla-table]').scrollIntoView();", vec![]).await.expect("scroll");
    screenshot(c, "service-level-workflow.png").await;

    let errors = console_errors(c).await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    driver.client.clone().close().await.expect("close the browser");
    server.stop().await;
}

/// A workflow page opened fresh shows a full last hour at once: the server's history (one
/// sample per 10 s, rebuilt from the simulator's four hours of events) seeds the trend
/// before the first snapshot, instead of a chart that starts when the page opened.
#[tokio::test]
async fn a_freshly_opened_workflow_page_shows_a_filled_last_hour() {
    let dir = tempfile::tempdir().expect("tempdir");
    let now = chrono::Utc::now().timestamp_millis();
    let clock = Arc::new(ManualClock::new(now));
    let server = start(dir.path(), free_port(), clock.clone()).await;
    let token = viewer_token(&server, "trend", now);
    let ws = server.demo().workspace_sid.clone();
    let (sales, _) = server.demo().workflows.iter().find(|(_, n)| n == "Sales").expect("Sales").clone();
    let driver = browser().await;
    let c = &driver.client;
    c.goto(&format!("{}/?page=workflow&ws={ws}&wf={sales}#token={token}", server.base))
        .await
        .expect("open the workflow page");
    // The first numbers on screen: the history came before them.
    until("the first snapshot's tiles", || async { text_of(c, "tile-total").await.and_then(|t| number(&t)) }).await;
    let trend = c
        .execute(
            "const f = document.querySelector('[data-testid=trend-panel]');
             return f && [Number(f.dataset.samples), Number(f.dataset.oldestMs), Date.now()];",
            vec![],
        )
        .await
        .expect("script");
    let [samples, oldest, page_now] = serde_json::from_value::<[f64; 3]>(trend.clone())
        .unwrap_or_else(|e| panic!("the trend panel's data ({e}): {trend}"));
    println!(
        "trend at the first snapshot: {samples} samples, the oldest {:.1} min ago",
        (page_now - oldest) / 60_000.0
    );
    // An hour at one per 10 s is 360 (and the one before it); the first snapshot adds one.
    assert!(samples >= 355.0, "{samples} samples: the hour is not filled");
    assert!(page_now - oldest >= 55.0 * 60_000.0, "the oldest sample is {} s old", (page_now - oldest) / 1000.0);
    until("the trend drawn", || async {
        (attr(c, "[data-testid=chart-trend]", "data-drawn").await.as_deref() == Some("1")).then_some(())
    })
    .await;
    screenshot(c, "trend-fresh-page.png").await;
    let errors = console_errors(c).await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    driver.client.clone().close().await.expect("close the browser");
    server.stop().await;
}

/// The `data-sound` of the page's root element (`playing`, `blocked`, `silent`).
async fn sound_state(c: &Client) -> Option<String> {
    let v = c.execute("return document.documentElement.dataset.sound || null;", vec![]).await.ok()?;
    v.as_str().map(str::to_owned)
}

/// An alert rule fires on the simulated center: two walls with `sound=1` show it in their
/// banner, flash the queue's row and beep; one acknowledges it, and the other falls silent
/// and says who acknowledged it, without a reload.
#[tokio::test]
async fn an_alert_sounds_on_every_wall_until_one_acknowledges_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let now = chrono::Utc::now().timestamp_millis();
    let server = start(dir.path(), free_port(), Arc::new(ManualClock::new(now))).await;
    let token = viewer_token(&server, "Floor manager", now);
    let ws = server.demo().workspace_sid.to_string();
    let queues: TaskQueuePage = server.get_json(&format!("/v1/Workspaces/{ws}/TaskQueues?PageSize=100")).await;
    let sales =
        queues.task_queues.iter().find(|q| q.friendly_name == "Sales").expect("the Sales queue").sid.to_string();

    // Two walls; Chromium may play sound without a click, so the beep runs.
    let walls = [
        browser_with(&["--autoplay-policy=no-user-gesture-required"]).await,
        browser_with(&["--autoplay-policy=no-user-gesture-required"]).await,
    ];
    let url = format!("{}/?page=queues&ws={ws}&sound=1#token={token}", server.base);
    for wall in &walls {
        let c = &wall.client;
        c.goto(&url).await.expect("open the queues wall");
        until("a row per queue", || async {
            (c.find_all(Locator::Css("[data-testid=queue-row]")).await.ok()?.len() == queues.task_queues.len())
                .then_some(())
        })
        .await;
        assert_eq!(sound_state(c).await.as_deref(), Some("silent"), "nothing fires yet");
    }

    // A rule that holds at once: Sales has waiting tasks or none, always >= 0.
    let rule = [
        ("Name", "Sales is busy"),
        ("Target", sales.as_str()),
        ("Measure", "waiting"),
        ("Comparison", ">="),
        ("Threshold", "0"),
        ("Level", "critical"),
    ];
    let created = server
        .client
        .post(format!("{}/v1/Workspaces/{ws}/AlertRules", server.base))
        .basic_auth(ACCOUNT_SID, Some(AUTH_TOKEN))
        .form(&rule)
        .send()
        .await
        .expect("create the rule");
    assert!(created.status().is_success(), "create the rule: {}", created.text().await.unwrap_or_default());

    let row = format!("[data-testid=queue-row][data-sid='{sales}']");
    for (n, wall) in walls.iter().enumerate() {
        let c = &wall.client;
        let line = until(&format!("wall {n}: the alert in the banner"), || async {
            let text = c.find(Locator::Css("[data-testid=alert-item]")).await.ok()?.text().await.ok()?;
            text.contains("Sales is busy").then_some(text)
        })
        .await;
        assert!(line.contains("Critical") && line.contains("⛔"), "level in icon and words: {line}");
        assert!(line.contains("tasks waiting >= 0"), "the condition: {line}");
        until(&format!("wall {n}: the Sales row marked critical"), || async {
            (attr(c, &row, "data-alert").await.as_deref() == Some("critical")).then_some(())
        })
        .await;
        let flashing = attr(c, &row, "class").await.unwrap_or_default();
        assert!(flashing.contains("alert-flash"), "an unacknowledged alert flashes: {flashing}");
        until(&format!("wall {n}: sound playing"), || async {
            (sound_state(c).await.as_deref() == Some("playing")).then_some(())
        })
        .await;
        assert!(c.find(Locator::Css("[data-testid=alert-ack]")).await.is_ok(), "an Acknowledge button");
    }
    screenshot(&walls[0].client, "alert-firing.png").await;

    // Wall 0 acknowledges; wall 1 learns it from the server and falls silent.
    let first = &walls[0].client;
    click(first, "[data-testid=alert-ack]", "Acknowledge").await;
    for (n, wall) in walls.iter().enumerate().rev() {
        let c = &wall.client;
        until(&format!("wall {n}: silent"), || async {
            (sound_state(c).await.as_deref() == Some("silent")).then_some(())
        })
        .await;
        let acked = until(&format!("wall {n}: who acknowledged"), || async { text_of(c, "alert-acked").await }).await;
        assert_eq!(acked, "Acknowledged by Floor manager");
        assert!(c.find(Locator::Css("[data-testid=alert-ack]")).await.is_err(), "no button once acknowledged");
        // Still firing: still marked, no longer flashing.
        until(&format!("wall {n}: marked, steady"), || async {
            let class = attr(c, &row, "class").await?;
            (attr(c, &row, "data-alert").await.as_deref() == Some("critical") && !class.contains("alert-flash"))
                .then_some(())
        })
        .await;
    }
    screenshot(&walls[1].client, "alert-acknowledged.png").await;

    for wall in &walls {
        let errors = console_errors(&wall.client).await;
        assert!(errors.is_empty(), "console errors: {errors:?}");
    }
    for wall in walls {
        wall.client.clone().close().await.expect("close the browser");
    }
    server.stop().await;
}

/// Sizes the window so that the page's viewport is `width` x `height` CSS pixels.
async fn set_viewport(c: &Client, width: u32, height: u32) {
    c.set_window_size(width, height).await.expect("resize");
    let inner = c.execute("return [window.innerWidth, window.innerHeight];", vec![]).await.expect("script");
    let (iw, ih) = (inner[0].as_u64().expect("width") as u32, inner[1].as_u64().expect("height") as u32);
    if (iw, ih) != (width, height) {
        c.set_window_size(width + width.saturating_sub(iw), height + height.saturating_sub(ih)).await.expect("resize");
    }
    until(&format!("a {width}x{height} viewport"), || async {
        let inner = c.execute("return [window.innerWidth, window.innerHeight];", vec![]).await.ok()?;
        (inner[0].as_u64() == Some(u64::from(width)) && inner[1].as_u64() == Some(u64::from(height))).then_some(())
    })
    .await;
}

/// Controls a kiosk must not have.
const INTERACTIVE: &str = "a, button, input, select, textarea, [tabindex], [contenteditable]";

/// What overflows the viewport, if anything: `[scrollWidth, clientWidth, scrollHeight, clientHeight]`.
async fn overflow(c: &Client) -> Option<Vec<i64>> {
    let v = c
        .execute(
            "const e = document.scrollingElement || document.documentElement;
             return [e.scrollWidth, e.clientWidth, e.scrollHeight, e.clientHeight];",
            vec![],
        )
        .await
        .expect("script");
    let n: Vec<i64> = v.as_array().expect("array").iter().map(|x| x.as_i64().expect("number")).collect();
    (n[0] > n[1] || n[2] > n[3]).then_some(n)
}

#[tokio::test]
async fn kiosk_has_no_controls_fits_the_screen_and_rotates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let now = chrono::Utc::now().timestamp_millis();
    let server = start(dir.path(), free_port(), Arc::new(ManualClock::new(now))).await;
    let token = viewer_token(&server, "e2e", now);
    let driver = browser().await;
    let c = &driver.client;
    let ws = server.demo().workspace_sid.to_string();
    let (sales, _) = server.demo().workflows.iter().find(|(_, n)| n == "Sales").expect("Sales").clone();
    let pages = [
        ("overview", format!("{}/?kiosk=1&ws={ws}#token={token}", server.base)),
        ("workflow", format!("{}/?kiosk=1&page=workflow&ws={ws}&wf={sales}#token={token}", server.base)),
        ("queues", format!("{}/?kiosk=1&page=queues&ws={ws}#token={token}", server.base)),
        ("agents", format!("{}/?kiosk=1&page=agents&ws={ws}#token={token}", server.base)),
    ];
    let queues: TaskQueuePage = server.get_json(&format!("/v1/Workspaces/{ws}/TaskQueues?PageSize=100")).await;
    let agents: WorkersRealTimeStatistics =
        server.get_json(&format!("/v1/Workspaces/{ws}/Workers/RealTimeStatistics")).await;
    for (width, height) in [(1920, 1080), (1280, 720)] {
        set_viewport(c, width, height).await;
        for (name, url) in &pages {
            c.goto(url).await.expect("open the kiosk");
            if *name == "overview" {
                until("three workflow cards", || async {
                    (c.find_all(Locator::Css("[data-testid=workflow-card]")).await.ok()?.len() == 3).then_some(())
                })
                .await;
            } else if *name == "queues" {
                // Every queue of the simulated center (Sales, Support, Billing, Overflow).
                until("a row per queue", || async {
                    let rows = c.find_all(Locator::Css("[data-testid=queue-row]")).await.ok()?;
                    (rows.len() == queues.task_queues.len()).then_some(())
                })
                .await;
                until("the header's numbers", || async {
                    (attr(c, "[data-testid=workspace-header]", "data-loaded").await.as_deref() == Some("1"))
                        .then_some(())
                })
                .await;
            } else if *name == "agents" {
                until("every agent", || async {
                    (text_of(c, "agents-total").await.and_then(|t| number(&t)) == Some(agents.stats.total_workers))
                        .then_some(())
                })
                .await;
                until("agent rows", || async {
                    (!c.find_all(Locator::Css("[data-testid=agent-row]")).await.ok()?.is_empty()).then_some(())
                })
                .await;
            } else {
                until("tiles with numbers", || async { text_of(c, "tile-total").await.and_then(|t| number(&t)) }).await;
                until("charts drawn", || async {
                    let drawn = c.find_all(Locator::Css("canvas[data-drawn='1']")).await.ok()?;
                    let all = c.find_all(Locator::Css("canvas")).await.ok()?;
                    (!all.is_empty() && drawn.len() == all.len()).then_some(())
                })
                .await;
            }
            let controls = c
                .execute(&format!("return Array.from(document.querySelectorAll('{INTERACTIVE}')).map(e => e.outerHTML.slice(0, 120));"), vec![])
                .await
                .expect("script");
            assert_eq!(controls, json!([]), "kiosk {name} has controls");
            let cursor = c.execute("return getComputedStyle(document.body).cursor;", vec![]).await.expect("script");
            assert_eq!(cursor, "none", "the cursor is hidden");
            let theme = c.execute("return document.documentElement.dataset.theme;", vec![]).await.expect("script");
            assert_eq!(theme, "dark", "kiosks default to the dark theme");
            assert_eq!(overflow(c).await, None, "kiosk {name} at {width}x{height} has scrollbars");
            if *name == "queues" || *name == "agents" {
                // Every number whole: no cell cut short, no figure wider than its tile.
                let clipped = c
                    .execute(
                        "return Array.from(document.querySelectorAll(
                           '.qrow:not(.qhead) .qcell, .agents-kpi .tile-label, .agents-kpi .tile-value, .arow .acell'))
                           .filter(e => e.scrollWidth > e.clientWidth + 1)
                           .map(e => e.className + ': ' + e.textContent);",
                        vec![],
                    )
                    .await
                    .expect("script");
                assert_eq!(clipped, json!([]), "kiosk {name} at {width}x{height} cuts text");
            }
            screenshot(c, &format!("kiosk-{name}-{width}x{height}.png")).await;
        }
    }

    // Rotation: from the overview through every workflow page, the queues wall and the
    // agent board, by itself, in that order.
    set_viewport(c, 1280, 720).await;
    c.goto(&format!("{}/?kiosk=1&rotate=5&ws={ws}#token={token}", server.base)).await.expect("open");
    let mut seen: Vec<String> = Vec::new();
    tokio::time::timeout(Duration::from_secs(45), async {
        while seen.len() < 6 {
            let now = if let Some(sid) = attr(c, "[data-testid=workflow-page]", "data-workflow-sid").await {
                Some(sid)
            } else if c.find(Locator::Css("[data-testid=queues-wall]")).await.is_ok() {
                Some("queues".to_owned())
            } else if c.find(Locator::Css("[data-testid=agent-board]")).await.is_ok() {
                Some("agents".to_owned())
            } else {
                c.find(Locator::Css("[data-testid=overview]")).await.ok().map(|_| "overview".to_owned())
            };
            if let Some(page) = now.filter(|p| seen.last() != Some(p)) {
                seen.push(page);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the kiosk did not rotate through every page (saw {seen:?})"));
    let workflows: std::collections::BTreeSet<&String> = seen[1..4].iter().collect();
    assert_eq!(seen[0], "overview", "{seen:?}");
    assert_eq!(workflows.len(), 3, "three workflows after the overview: {seen:?}");
    assert_eq!(&seen[4..], ["queues", "agents"], "{seen:?}");
    let hash = c.execute("return location.hash;", vec![]).await.expect("script");
    assert_eq!(hash, format!("#token={token}"), "rotation keeps the token in the fragment");

    let errors = console_errors(c).await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    driver.client.clone().close().await.expect("close the browser");
    server.stop().await;
}

/// A page on another loopback port that frames `src` and records the heights it is sent.
async fn outer_page(listener: tokio::net::TcpListener, src: &str) -> (String, tokio::task::JoinHandle<()>) {
    let html = format!(
        "<!doctype html><meta charset=utf-8><title>outer</title>
         <script>
           window.heights = [];
           window.frameLoaded = false;
           addEventListener('message', function (e) {{
             if (e.data && e.data.type === 'wallboard:height') window.heights.push(e.data.height);
           }});
         </script>
         <iframe id=wall src=\"{src}\" style=\"width:900px;height:200px;border:0\" onload=\"window.frameLoaded = true\"></iframe>"
    );
    let app = axum::Router::new().route("/", axum::routing::get(move || async move { axum::response::Html(html) }));
    let url = format!("http://{}/", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, task)
}

#[tokio::test]
async fn embed_posts_its_height_and_only_allowed_origins_frame_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let now = chrono::Utc::now().timestamp_millis();
    // The allowed outer page must be on a port known before the server starts.
    let allowed_listener = StdListener::bind("127.0.0.1:0").expect("bind");
    let allowed_port = allowed_listener.local_addr().expect("addr").port();
    drop(allowed_listener);
    let server = start_with(
        dir.path(),
        free_port(),
        Arc::new(ManualClock::new(now)),
        &format!("http://127.0.0.1:{allowed_port}"),
    )
    .await;
    let token = viewer_token(&server, "e2e", now);
    let ws = server.demo().workspace_sid.to_string();
    let src = format!("{}/?embed=1&bg=transparent&theme=dark&ws={ws}#token={token}", server.base);

    let bind = |port: u16| async move { tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind") };
    let (allowed_url, allowed_task) = outer_page(bind(allowed_port).await, &src).await;
    let (denied_url, denied_task) = outer_page(bind(0).await, &src).await;

    let driver = browser().await;
    let c = &driver.client;
    c.goto(&allowed_url).await.expect("open the allowed outer page");
    let height = until("a height message from the embedded dashboard", || async {
        let h = c
            .execute("return window.heights.length ? window.heights[window.heights.length - 1] : null;", vec![])
            .await
            .ok()?;
        h.as_u64().filter(|h| *h > 100)
    })
    .await;
    println!("the embedded dashboard reported a height of {height} px");
    c.execute(
        "document.getElementById('wall').style.height = window.heights[window.heights.length - 1] + 'px';",
        vec![],
    )
    .await
    .expect("script");
    screenshot(c, "embed.png").await;

    // The queues wall and the agent board embed too: their own numbers without the
    // workspace header, and their height told to the outer page.
    for (page, testid, rows) in [("queues", "queues-wall", "queue-row"), ("agents", "agent-board", "agent-row")] {
        let src = format!("{}/?embed=1&theme=dark&page={page}&ws={ws}#token={token}", server.base);
        c.execute("window.heights = []; document.getElementById('wall').src = arguments[0];", vec![json!(src)])
            .await
            .expect("script");
        until(&format!("a height message from the embedded {page}"), || async {
            let h = c
                .execute("return window.heights.length ? window.heights[window.heights.length - 1] : null;", vec![])
                .await
                .ok()?;
            h.as_u64().filter(|h| *h > 100)
        })
        .await;
        let frame = c.find(Locator::Id("wall")).await.expect("the frame");
        frame.enter_frame().await.expect("into the frame");
        until(&format!("{page} rows in the frame"), || async {
            let found = c.find_all(Locator::Css(&format!("[data-testid={testid}] [data-testid={rows}]"))).await.ok()?;
            (!found.is_empty()).then_some(())
        })
        .await;
        assert!(c.find(Locator::Css("[data-testid=workspace-header]")).await.is_err(), "no header in a frame");
        c.enter_parent_frame().await.expect("back to the outer page");
    }

    c.goto(&denied_url).await.expect("open the other outer page");
    until("the framed navigation to finish", || async {
        (c.execute("return window.frameLoaded;", vec![]).await.ok()? == json!(true)).then_some(())
    })
    .await;
    // The frame finished loading (an error page): nothing of ours ran in it. Allow the
    // dashboard the time it took above to speak, had it loaded.
    let quiet = tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            let n = c.execute("return window.heights.length;", vec![]).await.expect("script");
            if n.as_u64() != Some(0) {
                return n;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(quiet.is_err(), "a page from a non-allowed origin framed the dashboard: {quiet:?}");

    driver.client.clone().close().await.expect("close the browser");
    allowed_task.abort();
    denied_task.abort();
    server.stop().await;
}

#[tokio::test]
async fn a_mirror_with_a_failing_upstream_shows_stale_numbers_then_recovers() {
    let now = chrono::Utc::now().timestamp_millis();
    let clock = Arc::new(ManualClock::new(now));
    let source_dir = tempfile::tempdir().expect("tempdir");
    let source = start(source_dir.path(), free_port(), clock.clone()).await;
    let (upstream, upstream_url) = proxy::start_proxy(&source.base).await;

    let dir = tempfile::tempdir().expect("tempdir");
    let mut args = serve_args(dir.path());
    args.assets_dir = assets_dir();
    args.source = Source::Twilio;
    args.upstream_base = upstream_url;
    args.twilio_account_sid = Some(ACCOUNT_SID.into());
    args.twilio_auth_token = Some(AUTH_TOKEN.into());
    args.poll_realtime_ms = 200;
    args.upstream_timeout_ms = 500;
    let mirror = spawn_app_with(args, clock).await;
    let base = mirror.base.clone();
    // The viewer signs in at the mirror, for the source's workspace.
    let scope = Scope::Workspace { workspace: source.demo().workspace_sid.clone(), workflows: Vec::new() };
    let (token, _) = mirror.create_token("wall", scope, None, now);

    let driver = browser().await;
    let c = &driver.client;
    let (sales, _) = source.demo().workflows.iter().find(|(_, n)| n == "Sales").expect("Sales").clone();
    let ws = source.demo().workspace_sid.to_string();
    c.goto(&format!("{base}/?page=workflow&ws={ws}&wf={sales}#token={token}")).await.expect("open the mirror");
    let badge = |want: &'static str| async move {
        until(&format!("badge {want}"), || async {
            (attr(c, "[data-testid=connection-badge]", "data-state").await.as_deref() == Some(want)).then_some(())
        })
        .await;
    };
    badge("live").await;
    let rest: WorkflowRealTimeStatistics =
        source.get_json(&format!("/v1/Workspaces/{ws}/Workflows/{sales}/RealTimeStatistics")).await;
    until("the source's numbers", || async {
        (text_of(c, "tile-total").await.and_then(|t| number(&t)) == Some(rest.stats.total_tasks)).then_some(())
    })
    .await;

    upstream.mode.store(proxy::FAILING, std::sync::atomic::Ordering::SeqCst);
    badge("stale").await;
    until("the stale banner", || async { text_of(c, "stale-banner").await }).await;
    screenshot(c, "mirror-stale.png").await;
    upstream.mode.store(proxy::OK, std::sync::atomic::Ordering::SeqCst);
    badge("live").await;

    let errors = console_errors(c).await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    driver.client.clone().close().await.expect("close the browser");
    mirror.stop().await;
    source.stop().await;
}

/// p50, p95 and max of `samples` (nearest rank).
fn percentiles(samples: &mut [f64]) -> (f64, f64, f64) {
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| samples[((q * samples.len() as f64).ceil() as usize).clamp(1, samples.len()) - 1];
    (at(0.50), at(0.95), samples[samples.len() - 1])
}

/// The agent board's frame time with 2,000 agents (BENCHMARKS.md, "Agent board"): run by
/// hand, in release for a server like the real one:
///
/// `cargo test --release -p wallboard --test e2e agent_board_frame_time -- --ignored --nocapture`
///
/// The simulated center scaled to 2,000 agents (`scale` in simulator.toml), one hour of
/// history, then live on a clock that follows the real one; the agent board at 1920x1080 in
/// headless Chromium. The dashboard's frame probe (`window.__wallboard.frames`) records,
/// for each update of the board (a clock tick every second, a poll of the workers every
/// 3 s, channels), the main thread's time from the start of the update to the end of the
/// frame that paints it (`browser::probe_update`); `parses` the time to read each answer; a `PerformanceObserver` counts long
/// animation frames (50 ms and more) and `requestAnimationFrame` the gaps between frames.
/// Prints figures; asserts nothing about time.
#[tokio::test]
#[ignore = "a measurement, run by hand (BENCHMARKS.md)"]
async fn agent_board_frame_time_with_2000_agents() {
    let samples: usize = std::env::var("FRAME_SAMPLES").ok().and_then(|v| v.parse().ok()).unwrap_or(60);
    let dir = tempfile::tempdir().expect("tempdir");
    // 36 agents × 55.5556 = 444 + 556 + 278 + 389 + 333 = 2,000 (each group rounded).
    let config = std::fs::read_to_string(repo_root().join("simulator.toml")).expect("simulator.toml");
    assert!(config.contains("\nscale = 1.0\n"), "simulator.toml sets scale = 1.0");
    let sim = dir.path().join("sim-2000.toml");
    std::fs::write(&sim, config.replace("\nscale = 1.0\n", "\nscale = 55.5556\n")).expect("write the config");
    let now = chrono::Utc::now().timestamp_millis();
    let clock = Arc::new(ManualClock::new(now));
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    let mut args = args(&data, free_port(), "");
    args.sim_config = Some(sim);
    args.sim_history_hours = 1;
    let server = spawn_app_with(args, clock.clone()).await;
    // The center lives on: the clock follows the real one.
    let follow = {
        let clock = clock.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(200)).await;
                clock.set(chrono::Utc::now().timestamp_millis());
            }
        })
    };
    let token = viewer_token(&server, "bench", now);
    let ws = server.demo().workspace_sid.to_string();
    let stats: WorkersRealTimeStatistics =
        server.get_json(&format!("/v1/Workspaces/{ws}/Workers/RealTimeStatistics")).await;
    assert_eq!(stats.stats.total_workers, 2000, "the scaled center has 2,000 agents");

    let driver = browser().await;
    let c = &driver.client;
    set_viewport(c, 1920, 1080).await;
    c.goto(&format!("{}/?page=agents&ws={ws}#token={token}", server.base)).await.expect("open the agent board");
    // The total comes with the `workers` snapshot; the table with the REST list after it.
    let rows = until("2,000 agents on the board and their table drawn", || async {
        let total = text_of(c, "agents-total").await.and_then(|t| number(&t));
        let rows = c.find_all(Locator::Css("[data-testid=agent-row]")).await.ok()?.len();
        (total == Some(2000) && rows > 0).then_some(rows)
    })
    .await;
    c.execute(
        "const h = window.__wallboard;
         h.frames = []; h.parses = []; h.loaf = []; h.gaps = [];
         new PerformanceObserver(l => l.getEntries().forEach(e => h.loaf.push(e.duration)))
           .observe({type: 'long-animation-frame'});
         let last = null;
         const frame = t => { if (last !== null) h.gaps.push(t - last); last = t; requestAnimationFrame(frame); };
         requestAnimationFrame(frame);",
        vec![],
    )
    .await
    .expect("install the probes");
    let long = Duration::from_secs(samples as u64 * 2 + 60);
    let started = std::time::Instant::now();
    tokio::time::timeout(long, async {
        loop {
            let n = c.execute("return window.__wallboard.frames.length;", vec![]).await.expect("script");
            if n.as_u64().unwrap_or(0) >= samples as u64 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("fewer than {samples} updates in {long:?}"));
    let elapsed = started.elapsed();
    let h = c.execute("return window.__wallboard;", vec![]).await.expect("script");
    let list = |key: &str| -> Vec<f64> {
        h[key].as_array().map(|a| a.iter().filter_map(|v| v.as_f64()).collect()).unwrap_or_default()
    };
    let (mut loaf, mut gaps) = (list("loaf"), list("gaps"));
    // [busy, update, render] per update.
    let part = |i: usize| -> Vec<f64> {
        h["frames"].as_array().map(|a| a.iter().filter_map(|f| f[i].as_f64()).collect()).unwrap_or_default()
    };
    let (mut frames, mut update, mut render) = (part(0), part(1), part(2));
    // Answers of 100 kB and more: the pages of the workers list (1,000 each).
    let mut big: Vec<f64> = h["parses"]
        .as_array()
        .map(|a| a.iter().filter(|p| p[1].as_f64().unwrap_or(0.0) >= 100_000.0).filter_map(|p| p[0].as_f64()).collect())
        .unwrap_or_default();
    let (n, nb) = (frames.len(), big.len());
    let (f50, f95, fmax) = percentiles(&mut frames);
    println!("agent board, 2,000 agents, {rows} rows drawn, 1920x1080, {elapsed:.1?}:");
    println!("  update and paint (main thread): {n} updates, p50 {f50:.1} ms, p95 {f95:.1} ms, max {fmax:.1} ms");
    let (u50, u95, umax) = percentiles(&mut update);
    println!("    the update's task: p50 {u50:.1} ms, p95 {u95:.1} ms, max {umax:.1} ms");
    let (r50, r95, rmax) = percentiles(&mut render);
    println!("    the frame (style, layout, paint): p50 {r50:.1} ms, p95 {r95:.1} ms, max {rmax:.1} ms");
    if !big.is_empty() {
        let (p50, p95, max) = percentiles(&mut big);
        println!("  reading a workers page (1,000): {nb} pages, p50 {p50:.1} ms, p95 {p95:.1} ms, max {max:.1} ms");
    }
    let over = gaps.iter().filter(|g| **g > 17.0).count();
    let (g50, g95, gmax) = if gaps.is_empty() { (0.0, 0.0, 0.0) } else { percentiles(&mut gaps) };
    println!(
        "  frames: {} (gap p50 {g50:.1} ms, p95 {g95:.1} ms, max {gmax:.1} ms; {over} gaps over 17 ms)",
        gaps.len()
    );
    let lmax = loaf.iter().copied().fold(0.0, f64::max);
    println!("  long animation frames (>= 50 ms): {}, longest {lmax:.0} ms", loaf.len());
    loaf.clear();

    follow.abort();
    driver.client.clone().close().await.expect("close the browser");
    server.stop().await;
}

/// The paths the page fetched (its resource timing entries: files and REST calls, once
/// answered), without the leading `/`.
async fn fetched(c: &Client) -> Vec<String> {
    let v = c
        .execute("return performance.getEntriesByType('resource').map(e => new URL(e.name).pathname.slice(1));", vec![])
        .await
        .expect("script");
    v.as_array().map(|a| a.iter().filter_map(|n| n.as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

/// Whether the header shows the settings tab (the tab stays hidden until the token is
/// known to be an admin's).
async fn settings_tab_shown(c: &Client) -> bool {
    match c.find(Locator::Css("[data-testid=tab-settings]")).await {
        Ok(tab) => tab.is_displayed().await.expect("displayed?"),
        Err(_) => false,
    }
}

/// Marks the page's document, to tell a new page load (the mark is gone) from a change made
/// in the app (it stays).
async fn mark_document(c: &Client) {
    c.execute("window.__e2eDocument = 'marked';", vec![]).await.expect("script");
}

async fn document_marked(c: &Client) -> bool {
    c.execute("return window.__e2eDocument === 'marked';", vec![]).await.expect("script").as_bool() == Some(true)
}

/// The settings page, the admin bundle's: a viewer who opens it is told it needs an admin
/// token and has no settings tab; an admin who opens it gets the admin bundle, changes the
/// workspace's service level, then its definition for the voice channel alone, and creates
/// an alert rule through the forms (each stored, as the REST API says), sees the rule's
/// preview drawn while editing and the rule listed once saved, and goes back to a wall in
/// the app. The default bundle never loads the admin one; its settings tab (admins only)
/// loads the page again, with the admin bundle. A kiosk has no settings and never asks
/// whether its token is an admin's.
#[tokio::test]
async fn settings_page_is_the_admin_bundle_and_stores_service_levels_and_rules() {
    let dir = tempfile::tempdir().expect("tempdir");
    let now = chrono::Utc::now().timestamp_millis();
    let clock = Arc::new(ManualClock::new(now));
    let server = start(dir.path(), free_port(), clock).await;
    let ws = server.demo().workspace_sid.to_string();
    let viewer = viewer_token(&server, "e2e", now);
    let (admin, _) = server.create_token("e2e admin", Scope::Admin, None, now);
    let build = server.client.get(format!("{}/build-id", server.base)).send().await.expect("build id");
    let build = build.text().await.expect("build id").trim().to_owned();
    let (default_wasm, admin_wasm) = (format!("wallboard-{build}_bg.wasm"), format!("wallboard-admin-{build}_bg.wasm"));
    let driver = browser().await;
    let c = &driver.client;

    // A viewer: the admin bundle (chosen by the link), which says the token is not enough,
    // and no settings tab.
    c.goto(&format!("{}/?page=settings&ws={ws}#token={viewer}", server.base)).await.expect("open as a viewer");
    until("the refusal", || async {
        text_of(c, "settings-refused").await.filter(|t| t.contains("Settings need an admin token"))
    })
    .await;
    assert!(fetched(c).await.contains(&admin_wasm), "the admin bundle: {:?}", fetched(c).await);
    assert!(!settings_tab_shown(c).await, "no settings tab for a viewer");
    assert!(c.find(Locator::Css("[data-testid=service-levels]")).await.is_err(), "no panel for a viewer");
    let errors = console_errors(c).await;
    assert!(errors.is_empty(), "console errors (viewer): {errors:?}");

    // An admin opens the settings: the admin bundle, its tab current.
    c.goto(&format!("{}/?page=settings&ws={ws}#token={admin}", server.base)).await.expect("open as an admin");
    until("the workspace's service level", || async {
        text_of(c, "sl-row-default").await.filter(|t| t.contains("T = 20 s") && t.contains("answered"))
    })
    .await;
    assert!(fetched(c).await.contains(&admin_wasm), "the admin bundle: {:?}", fetched(c).await);
    until("the settings tab", || async { settings_tab_shown(c).await.then_some(()) }).await;
    assert_eq!(attr(c, "[data-testid=tab-settings]", "aria-current").await.as_deref(), Some("page"));
    mark_document(c).await;

    // The workspace's service level: T from 20 s to 30 s, stored as its own.
    click(c, "[data-testid=sl-row-default] .settings-actions button", "the Edit button").await;
    let t = until("the service-level form", || async {
        c.find(Locator::Css("[data-testid=sl-form] [name=Threshold]")).await.ok()
    })
    .await;
    t.clear().await.expect("clear T");
    t.send_keys("30").await.expect("type T");
    click(c, "[data-testid=sl-form] button[type=submit]", "save").await;
    let row = until("the new service level", || async {
        text_of(c, "sl-row-default").await.filter(|t| t.contains("T = 30 s"))
    })
    .await;
    assert!(row.contains("this scope"), "the workspace's own definition: {row}");
    assert!(c.find(Locator::Css("[data-testid=sl-form]")).await.is_err(), "the form closes once saved");
    let (status, sl) = server.get(&format!("/v1/Workspaces/{ws}/ServiceLevels/default")).await;
    assert_eq!(status, 200, "{sl}");
    assert_eq!((sl["threshold"].as_u64(), sl["stored"].as_bool()), (Some(30), Some(true)), "{sl}");

    // One channel's definition: the workspace's default for voice, from 30 s (inherited
    // from every channel's) to 45 s, stored for voice alone; a channel has no day fields
    // (the day is the scope's), and a workflow's voice says whose definition it inherits.
    let choose = |value: &'static str| async move {
        let css = format!("[data-testid=sl-channel] option[value='{value}']");
        click(c, &css, &format!("the channel choice '{value}'")).await;
    };
    choose("voice").await;
    let row = until("the workspace's definition for voice", || async {
        text_of(c, "sl-row-default-voice").await.filter(|t| t.contains("T = 30 s"))
    })
    .await;
    assert!(row.contains("inherited from this scope, all channels"), "{row}");
    click(c, "[data-testid=sl-row-default-voice] .settings-actions button", "the Edit button of voice").await;
    let t =
        until("the voice form", || async { c.find(Locator::Css("[data-testid=sl-form] [name=Threshold]")).await.ok() })
            .await;
    assert!(c.find(Locator::Css("[data-testid=sl-form] [name=DayStartsAt]")).await.is_err(), "no day for a channel");
    t.clear().await.expect("clear T");
    t.send_keys("45").await.expect("type T");
    click(c, "[data-testid=sl-form] button[type=submit]", "save").await;
    let row = until("the voice definition", || async {
        text_of(c, "sl-row-default-voice").await.filter(|t| t.contains("T = 45 s"))
    })
    .await;
    assert!(row.contains("this scope for voice"), "the channel's own definition: {row}");
    let workflow = until("a workflow's voice, inherited", || async {
        let el = c.find(Locator::Css("[data-testid^=sl-row-WW][data-testid$=-voice]")).await.ok()?;
        el.text().await.ok().filter(|t| t.contains("T = 45 s"))
    })
    .await;
    assert!(workflow.contains("inherited from Workspace (default) for voice"), "{workflow}");
    let (status, sl) = server.get(&format!("/v1/Workspaces/{ws}/ServiceLevels/default?TaskChannel=voice")).await;
    assert_eq!(status, 200, "{sl}");
    assert_eq!(
        (sl["threshold"].as_u64(), sl["stored"].as_bool(), sl["task_channel"].as_str()),
        (Some(45), Some(true), Some("voice")),
        "{sl}"
    );
    let (_, every) = server.get(&format!("/v1/Workspaces/{ws}/ServiceLevels/default")).await;
    assert_eq!(every["threshold"].as_u64(), Some(30), "every channel keeps its own: {every}");
    // All channels again: the voice definition is a row of its own under the workspace's.
    choose("").await;
    until("the voice row under every channel's", || async {
        let all = text_of(c, "sl-row-default").await.filter(|t| t.contains("T = 30 s"))?;
        text_of(c, "sl-row-default-voice").await.filter(|t| t.contains("T = 45 s")).map(|v| (all, v))
    })
    .await;

    // A new rule on the workspace's abandonment (computed for each past minute): previewed
    // (chart and sentence) while edited, listed and stored once saved.
    click(c, "[data-testid=rule-new]", "the new-rule button").await;
    let field = |name: &'static str| async move {
        until(&format!("the rule form's {name}"), || async {
            c.find(Locator::Css(&format!("[data-testid=rule-form] [name={name}]"))).await.ok()
        })
        .await
    };
    field("Name").await.send_keys("Abandonment high").await.expect("type the name");
    let pick = |select: &'static str, value: &'static str| async move {
        let css = format!("[data-testid=rule-form] select[name={select}] option[value='{value}']");
        click(c, &css, &format!("the option {value} of {select}")).await;
    };
    pick("Measure", "abandonment").await;
    pick("Comparison", ">=").await;
    field("Threshold").await.send_keys("10").await.expect("type the threshold");
    let summary = until("the preview's sentence", || async {
        text_of(c, "preview-summary").await.filter(|t| t.starts_with("Over the last hour this rule"))
    })
    .await;
    assert!(summary.contains("computed per minute"), "{summary}");
    until("the preview drawn", || async {
        (attr(c, "[data-testid=preview-chart]", "data-drawn").await.as_deref() == Some("1")).then_some(())
    })
    .await;
    screenshot(c, "settings.png").await;
    click(c, "[data-testid=rule-save]", "save").await;
    let listed = until("the rule listed", || async {
        text_of(c, "rules")
            .await
            .filter(|t| t.contains("Abandonment high") && t.contains("abandonment >= 10 % for 60 s"))
    })
    .await;
    assert!(listed.contains("Workspace"), "{listed}");
    let (status, rules) = server.get(&format!("/v1/Workspaces/{ws}/AlertRules")).await;
    assert_eq!(status, 200, "{rules}");
    let stored = rules["alert_rules"].as_array().expect("a list");
    assert_eq!(stored.len(), 1, "{rules}");
    let rule = &stored[0];
    assert_eq!(
        (rule["name"].as_str(), rule["target"].as_str(), rule["measure"].as_str(), rule["comparison"].as_str()),
        (Some("Abandonment high"), Some("workspace"), Some("abandonment"), Some(">=")),
        "{rule}"
    );
    assert_eq!(rule["threshold"].as_f64(), Some(10.0), "{rule}");

    // Back to a wall, in the app (the admin bundle is the whole app).
    click(c, "[data-testid=tab-queues]", "the queues tab").await;
    until("the queues wall", || async { c.find(Locator::Css("[data-testid=queue-row]")).await.ok() }).await;
    assert!(document_marked(c).await, "the wall is shown without loading the page again");
    let errors = console_errors(c).await;
    assert!(errors.is_empty(), "console errors (admin bundle): {errors:?}");

    // The default bundle: without the admin one; its settings tab loads the page again,
    // which then runs the admin bundle.
    c.goto(&format!("{}/?ws={ws}#token={admin}", server.base)).await.expect("open the dashboard");
    until("the settings tab", || async { settings_tab_shown(c).await.then_some(()) }).await;
    let paths = fetched(c).await;
    assert!(paths.contains(&default_wasm) && !paths.contains(&admin_wasm), "only the default bundle: {paths:?}");
    // The admin question's entry comes once its answer's body is in (the page never reads it).
    until("the admin question among the fetched paths", || async {
        fetched(c).await.iter().any(|p| p.ends_with("/AlertRules")).then_some(())
    })
    .await;
    let errors = console_errors(c).await;
    assert!(errors.is_empty(), "console errors (default bundle): {errors:?}");
    mark_document(c).await;
    click(c, "[data-testid=tab-settings]", "the tab").await;
    until("the rule, listed by the admin bundle", || async {
        text_of(c, "rules").await.filter(|t| t.contains("Abandonment high"))
    })
    .await;
    assert!(!document_marked(c).await, "the settings are a new page load");
    assert!(fetched(c).await.contains(&admin_wasm), "the admin bundle: {:?}", fetched(c).await);
    let url = c.current_url().await.expect("url");
    assert!(url.query().unwrap_or_default().contains("page=settings"), "{url}");
    assert_eq!(url.fragment(), Some(format!("token={admin}").as_str()), "the token is kept");
    let errors = console_errors(c).await;
    assert!(errors.is_empty(), "console errors: {errors:?}");

    // A kiosk has no settings, even for `page=settings` and an admin's token: the default
    // bundle and the overview, and it never asks whether the token is an admin's.
    c.goto(&format!("{}/?kiosk=1&page=settings&ws={ws}#token={admin}", server.base)).await.expect("open a kiosk");
    until("three workflow cards", || async {
        (c.find_all(Locator::Css("[data-testid=workflow-card]")).await.ok()?.len() == 3).then_some(())
    })
    .await;
    let paths = fetched(c).await;
    assert!(paths.contains(&default_wasm) && !paths.contains(&admin_wasm), "the default bundle: {paths:?}");
    assert!(!paths.iter().any(|p| p.contains("AlertRules")), "a kiosk never asks: {paths:?}");

    let errors = console_errors(c).await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    driver.client.clone().close().await.expect("close the browser");
    server.stop().await;
}
