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

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use wallboard::access::Scope;
use wallboard::clock::ManualClock;
use wallboard::config::{ServeArgs, Source};
use wallboard_shared::resources::WorkflowRealTimeStatistics;

/// The server harness, shared with the API tests; this binary uses only part of it.
#[allow(dead_code)]
#[path = "../support/harness.rs"]
mod harness;
/// Shared with the API tests; this binary uses only part of it.
#[allow(dead_code)]
#[path = "../support/proxy.rs"]
mod proxy;

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
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chrome,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1400,1000",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        }),
    );
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
    let cards = until("three workflow cards", || async {
        let cards = c.find_all(Locator::Css("[data-testid=workflow-card]")).await.ok()?;
        (cards.len() == 3).then_some(cards)
    })
    .await;
    let first_ms =
        c.execute("return window.__wallboard && window.__wallboard.firstDataMs;", vec![]).await.expect("script");
    println!("first numbers on screen after {first_ms} ms (from navigation start)");
    let mut names = Vec::new();
    for card in &cards {
        names.push(card.text().await.expect("text"));
    }
    for wf in ["Sales", "Support", "Billing"] {
        assert!(names.iter().any(|t| t.contains(wf)), "{wf} card in {names:?}");
    }
    screenshot(c, "overview.png").await;

    // Workflow page: same numbers as the REST API.
    let (sales, _) = server.demo().workflows.iter().find(|(_, n)| n == "Sales").expect("Sales").clone();
    let sales = sales.to_string();
    let card = c
        .find(Locator::Css(&format!("[data-testid=workflow-card][data-workflow-sid='{sales}']")))
        .await
        .expect("Sales card");
    card.find(Locator::Css("a")).await.expect("the card links to its workflow").click().await.expect("open Sales");
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
    ];
    for (width, height) in [(1920, 1080), (1280, 720)] {
        set_viewport(c, width, height).await;
        for (name, url) in &pages {
            c.goto(url).await.expect("open the kiosk");
            if *name == "overview" {
                until("three workflow cards", || async {
                    (c.find_all(Locator::Css("[data-testid=workflow-card]")).await.ok()?.len() == 3).then_some(())
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
            screenshot(c, &format!("kiosk-{name}-{width}x{height}.png")).await;
        }
    }

    // Rotation: from the overview through every workflow page, by itself.
    set_viewport(c, 1280, 720).await;
    c.goto(&format!("{}/?kiosk=1&rotate=5&ws={ws}#token={token}", server.base)).await.expect("open");
    let mut seen = std::collections::BTreeSet::new();
    tokio::time::timeout(TIMEOUT, async {
        while seen.len() < 3 {
            if let Some(sid) = attr(c, "[data-testid=workflow-page]", "data-workflow-sid").await {
                seen.insert(sid);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the kiosk did not rotate through the three workflows (saw {seen:?})"));
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
