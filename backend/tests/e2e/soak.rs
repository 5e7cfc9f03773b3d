//! The soak (scripts/soak.sh runs it; ignored otherwise): the release server as a child
//! process with the simulator at a high `--sim-speed` (days of simulated traffic in an hour),
//! WebSocket viewers that come and go, and a kiosk page (`?kiosk=1&rotate=…`) in headless
//! Chromium, sampled every interval: the server's RSS, the page's JS heap (after a forced
//! garbage collection), its WebAssembly memory (the heap's high-water mark: it never shrinks)
//! and the bytes the app holds on that heap now, its DOM nodes, the browser's RSS. After the
//! warm-up each series gets a least-squares line; the run fails when a line rises beyond
//! noise (see [`Trend::verdict`]), when the page stopped showing numbers, or when the
//! watchdog had to reload it.
//!
//! Configured by environment variables (scripts/soak.sh sets them): `SOAK_SERVER_BIN` (the
//! `wallboard` binary, required), `SOAK_MINUTES` (150), `SOAK_SIM_DAYS` (7: the speed is
//! chosen so the run covers them), `SOAK_VIEWERS` (50), `SOAK_ROTATE` (30 s),
//! `SOAK_SAMPLE_SECS` (60), `SOAK_WARMUP_MINUTES` ([`default_warmup`]),
//! `SOAK_RETENTION_DAYS` (1), `SOAK_OUT` (a directory: `soak.csv`, `summary.md`, the server's
//! log), `SOAK_ASSETS_DIR` (the dashboard to serve: `frontend/dist`; the script serves a copy).

use std::io::{BufRead, BufReader, Write as _};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use super::{browser_with, repo_root};

const ACCOUNT_SID: &str = "AC5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";
const AUTH_TOKEN: &str = "soak-auth-token-0123456789";

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v.parse().unwrap_or_else(|_| panic!("{name}={v} is not a valid value")),
        Err(_) => default,
    }
}

/// The warm-up when none is given: 70 minutes, at most half the run and at least a quarter.
/// The server needs two simulated days (tasks stay a day past their end, their tombstones a
/// retention); the page needs an hour of wall time, since the rotating kiosk's trends keep
/// the last hour of samples, one a second per workflow (`model::trend`: its buffers grow,
/// by doubling, for that hour, then stay).
fn default_warmup(minutes: f64) -> f64 {
    70f64.min(minutes / 2.0).max(minutes / 4.0)
}

/// What the run does, from the environment.
struct Plan {
    server_bin: PathBuf,
    minutes: f64,
    sim_days: f64,
    viewers: usize,
    rotate_secs: u32,
    sample: Duration,
    warmup_minutes: f64,
    retention_days: u32,
    out: PathBuf,
    /// The dashboard the server serves (a copy, so that a build meanwhile changes nothing).
    assets_dir: PathBuf,
}

impl Plan {
    fn from_env() -> Self {
        let server_bin: PathBuf = std::env::var("SOAK_SERVER_BIN")
            .expect("SOAK_SERVER_BIN: the release `wallboard` binary (scripts/soak.sh sets it)")
            .into();
        let minutes: f64 = env_or("SOAK_MINUTES", 150.0);
        assert!(minutes > 0.0, "SOAK_MINUTES must be positive");
        Self {
            server_bin,
            minutes,
            sim_days: env_or("SOAK_SIM_DAYS", 7.0),
            viewers: env_or("SOAK_VIEWERS", 50),
            rotate_secs: env_or("SOAK_ROTATE", 30),
            sample: Duration::from_secs_f64(env_or("SOAK_SAMPLE_SECS", 60.0)),
            warmup_minutes: env_or("SOAK_WARMUP_MINUTES", default_warmup(minutes)),
            retention_days: env_or("SOAK_RETENTION_DAYS", 1),
            out: std::env::var("SOAK_OUT").map_or_else(|_| repo_root().join("target/soak"), PathBuf::from),
            assets_dir: std::env::var("SOAK_ASSETS_DIR")
                .map_or_else(|_| repo_root().join("frontend/dist"), PathBuf::from),
        }
    }

    /// Simulated seconds per real second.
    fn speed(&self) -> f64 {
        self.sim_days * 86_400.0 / (self.minutes * 60.0)
    }
}

/// The server child process, ended when dropped.
struct Server {
    child: Child,
    base: String,
    token: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(plan: &Plan, data_dir: &std::path::Path) -> Server {
    let log = std::fs::File::create(plan.out.join("server.log")).expect("server log");
    let mut child = Command::new(&plan.server_bin)
        .args(["serve", "--bind", "127.0.0.1:0", "--source", "simulator", "--sim-seed", "7"])
        .args(["--account-sid", ACCOUNT_SID, "--auth-token", AUTH_TOKEN])
        .arg("--sim-speed")
        .arg(plan.speed().to_string())
        .arg("--retention-days")
        .arg(plan.retention_days.to_string())
        .arg("--sim-history-hours")
        .arg((plan.retention_days * 24).to_string())
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--assets-dir")
        .arg(&plan.assets_dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", plan.server_bin.display()));
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let (mut addr, mut token) = (None, None);
    while addr.is_none() || token.is_none() {
        let line = lines.next().expect("the server exited before printing its address and link").expect("stdout");
        if let Some(a) = line.strip_prefix("Wallboard is listening on ") {
            addr = Some(a.trim().to_owned());
        } else if let Some((_, t)) = line.split_once("#token=") {
            token = Some(t.trim().to_owned());
        }
    }
    std::thread::spawn(move || for _ in lines {});
    Server { child, base: format!("http://{}", addr.unwrap_or_default()), token: token.unwrap_or_default() }
}

fn rss_kib(pid: u32) -> Option<u64> {
    wallboard::cputime::resident_kib(Some(pid))
}

/// The summed RSS of every process of the process group `group` (ChromeDriver leads the
/// browser's: Chromium's browser, renderer, GPU and utility processes).
fn group_rss_kib(group: u32) -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc") else { return 0 };
    dir.filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            // stat: "pid (comm) state ppid pgrp …"; comm may hold spaces, so split after ')'.
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| s.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(2)?.parse().ok()))
                == Some(group)
        })
        .filter_map(rss_kib)
        .sum()
}

/// The demo workspace's SID and its workflows' SIDs, over REST as the account.
async fn directory(base: &str) -> (String, Vec<String>) {
    let http = reqwest::Client::new();
    let get = |path: String| {
        let http = http.clone();
        async move {
            let r = http.get(format!("{base}{path}")).basic_auth(ACCOUNT_SID, Some(AUTH_TOKEN)).send().await;
            r.expect("REST").error_for_status().expect("REST status").json::<Value>().await.expect("JSON")
        }
    };
    let workspaces = get("/v1/Workspaces".into()).await;
    let ws = workspaces["workspaces"][0]["sid"].as_str().expect("a workspace").to_owned();
    let workflows = get(format!("/v1/Workspaces/{ws}/Workflows")).await;
    let sids = workflows["workflows"]
        .as_array()
        .expect("workflows")
        .iter()
        .filter_map(|w| w["sid"].as_str().map(str::to_owned))
        .collect();
    (ws, sids)
}

/// One viewer: connects, watches a workflow (cumulative window by its number), the
/// workspace and the alerts, reads for a few minutes, leaves and comes back, until the end.
async fn viewer(
    n: usize,
    ws_url: String,
    token: String,
    workspace: String,
    workflows: Arc<Vec<String>>,
    frames: Arc<AtomicU64>,
) {
    let windows = [15, 60, 240, 1440];
    let mut round = 0usize;
    loop {
        round += 1;
        let stay = Duration::from_secs(120 + ((n * 37 + round * 11) % 240) as u64);
        let Ok((mut ws, _)) = tokio_tungstenite::connect_async(&ws_url).await else {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        };
        let workflow = &workflows[(n + round) % workflows.len()];
        let subscribe = [
            json!({"type": "auth", "token": token}),
            json!({"type": "subscribe", "id": "wf", "workspace_sid": workspace, "workflow_sid": workflow,
                   "cumulative": {"minutes": windows[(n + round) % windows.len()], "split_by_wait_time": [20, 60]}}),
            json!({"type": "subscribe", "id": "ws", "workspace_sid": workspace, "target": {"kind": "workspace"}}),
            json!({"type": "watch_alerts", "workspace_sid": workspace}),
        ];
        let mut ok = true;
        for m in subscribe {
            ok &= ws.send(Message::text(m.to_string())).await.is_ok();
        }
        let until = tokio::time::Instant::now() + stay;
        while ok {
            match tokio::time::timeout_at(until, ws.next()).await {
                Ok(Some(Ok(Message::Text(_)))) => {
                    frames.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Some(Ok(_))) => {}
                Ok(_) | Err(_) => ok = false,
            }
        }
        let _ = ws.close(None).await;
    }
}

/// The page's numbers: `[JS heap bytes, wasm memory bytes, DOM nodes, navigation start, data shown,
/// wasm heap bytes in use]`.
const PAGE_PROBE: &str = "
    if (window.gc) window.gc();
    const hook = window.__wallboard || {};
    const wasm = hook.memory && hook.memory.buffer ? hook.memory.buffer.byteLength : 0;
    const shown = document.querySelectorAll('[data-testid=workflow-card], [data-testid^=tile-], [data-testid=queue-row], [data-testid=activity-bars]').length;
    const used = hook.heapInUse ? hook.heapInUse() : NaN;
    return [performance.memory.usedJSHeapSize, wasm, document.getElementsByTagName('*').length, performance.timeOrigin, shown, used];";

/// One sample.
#[derive(Debug, Clone, Copy)]
struct Sample {
    minutes: f64,
    sim_days: f64,
    server_rss_kib: f64,
    js_heap_kib: f64,
    wasm_kib: f64,
    heap_kib: f64,
    dom_nodes: f64,
    browser_rss_kib: f64,
    frames: u64,
    reloads: u32,
}

/// A series of the samples: its name and how to read it.
type Series = (&'static str, fn(&Sample) -> f64);

/// A least-squares line through `(x, y)` after the warm-up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Trend {
    /// Per minute.
    pub slope: f64,
    /// Standard error of the slope.
    pub slope_se: f64,
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    /// The fitted rise over the span of the points.
    pub rise: f64,
}

impl Trend {
    pub(crate) fn fit(points: &[(f64, f64)]) -> Option<Self> {
        let n = points.len() as f64;
        if points.len() < 3 {
            return None;
        }
        let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
        let my = points.iter().map(|p| p.1).sum::<f64>() / n;
        let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
        if sxx == 0.0 {
            return None;
        }
        let slope = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum::<f64>() / sxx;
        let residual: f64 = points.iter().map(|p| (p.1 - (my + slope * (p.0 - mx))).powi(2)).sum();
        let slope_se = (residual / (n - 2.0) / sxx).sqrt();
        let span =
            points.iter().map(|p| p.0).fold(f64::MIN, f64::max) - points.iter().map(|p| p.0).fold(f64::MAX, f64::min);
        Some(Self {
            slope,
            slope_se,
            mean: my,
            min: points.iter().map(|p| p.1).fold(f64::MAX, f64::min),
            max: points.iter().map(|p| p.1).fold(f64::MIN, f64::max),
            rise: slope * span,
        })
    }

    /// Flat unless the line rises both significantly (slope above three standard errors:
    /// not noise) and materially (more than `tolerance` of the mean over the span: a rise
    /// that would matter over weeks).
    pub(crate) fn rising(&self, tolerance: f64) -> bool {
        self.slope > 3.0 * self.slope_se && self.rise > tolerance * self.mean.abs()
    }

    pub(crate) fn verdict(&self, tolerance: f64) -> &'static str {
        if self.rising(tolerance) { "RISING" } else { "flat" }
    }
}

/// Relative rise over the measured span (after warm-up) that fails the run when significant.
const TOLERANCE: f64 = 0.05;

#[tokio::test]
#[ignore = "an hour or more: scripts/soak.sh runs it"]
async fn soak() {
    let plan = Plan::from_env();
    std::fs::create_dir_all(&plan.out).expect("out dir");
    let data = tempfile::tempdir().expect("data dir");
    let server = start_server(&plan, data.path());
    let pid = server.child.id();
    println!(
        "soak: {} min, {} simulated days (--sim-speed {:.1}), {} viewers, kiosk rotate={} s, retention {} d, server {}",
        plan.minutes,
        plan.sim_days,
        plan.speed(),
        plan.viewers,
        plan.rotate_secs,
        plan.retention_days,
        server.base
    );
    let (workspace, workflows) = directory(&server.base).await;
    let workflows = Arc::new(workflows);
    let frames = Arc::new(AtomicU64::new(0));
    let ws_url = format!("{}/ws", server.base.replacen("http://", "ws://", 1));
    let viewers: Vec<_> = (0..plan.viewers)
        .map(|n| {
            tokio::spawn(viewer(
                n,
                ws_url.clone(),
                server.token.clone(),
                workspace.clone(),
                workflows.clone(),
                frames.clone(),
            ))
        })
        .collect();

    let driver =
        browser_with(&["--enable-precise-memory-info", "--js-flags=--expose-gc", "--window-size=1920,1080"]).await;
    let c = &driver.client;
    // refresh=off: the soak measures the page without its daily fresh start.
    c.goto(&format!("{}/?kiosk=1&rotate={}&refresh=off#token={}", server.base, plan.rotate_secs, server.token))
        .await
        .expect("open the kiosk");

    let csv_path = plan.out.join("soak.csv");
    let mut csv = std::fs::File::create(&csv_path).expect("csv");
    writeln!(csv, "minute,sim_days,server_rss_kib,js_heap_kib,wasm_kib,wasm_heap_in_use_kib,dom_nodes,browser_rss_kib,ws_frames,reloads")
        .expect("csv");
    let started = Instant::now();
    let mut samples = Vec::new();
    let mut origin = None::<f64>;
    let mut reloads = 0u32;
    let mut blank = 0u32;
    loop {
        tokio::time::sleep(plan.sample).await;
        let minutes = started.elapsed().as_secs_f64() / 60.0;
        let page = c.execute(PAGE_PROBE, vec![]).await.expect("probe the page");
        let num = |i: usize| page[i].as_f64().unwrap_or(f64::NAN);
        let nav = num(3);
        if origin.is_some_and(|o| o != nav) {
            reloads += 1;
        }
        origin = Some(nav);
        blank = if num(4) > 0.0 { 0 } else { blank + 1 };
        let s = Sample {
            minutes,
            sim_days: minutes * 60.0 * plan.speed() / 86_400.0,
            server_rss_kib: rss_kib(pid).expect("the server is running") as f64,
            js_heap_kib: num(0) / 1024.0,
            wasm_kib: num(1) / 1024.0,
            heap_kib: num(5) / 1024.0,
            dom_nodes: num(2),
            browser_rss_kib: group_rss_kib(driver.process.id()) as f64,
            frames: frames.load(Ordering::Relaxed),
            reloads,
        };
        writeln!(
            csv,
            "{:.1},{:.2},{:.0},{:.0},{:.0},{:.0},{:.0},{:.0},{},{}",
            s.minutes,
            s.sim_days,
            s.server_rss_kib,
            s.js_heap_kib,
            s.wasm_kib,
            s.heap_kib,
            s.dom_nodes,
            s.browser_rss_kib,
            s.frames,
            s.reloads
        )
        .expect("csv");
        println!("{s:?}");
        assert!(blank < 3, "the kiosk showed no numbers for three samples in a row");
        samples.push(s);
        if minutes >= plan.minutes {
            break;
        }
    }
    for v in &viewers {
        v.abort();
    }

    let after: Vec<&Sample> = samples.iter().filter(|s| s.minutes >= plan.warmup_minutes).collect();
    let series: [Series; 6] = [
        ("server RSS (KiB)", |s| s.server_rss_kib),
        ("page JS heap (KiB)", |s| s.js_heap_kib),
        ("page wasm memory (KiB)", |s| s.wasm_kib),
        ("page wasm heap in use (KiB)", |s| s.heap_kib),
        ("page DOM nodes", |s| s.dom_nodes),
        ("browser RSS, all processes (KiB)", |s| s.browser_rss_kib),
    ];
    let mut summary = format!(
        "{} min ({:.1} simulated days, --sim-speed {:.1}), {} viewers, kiosk rotate={} s, retention {} d, {} samples \
         ({} after the {:.0}-min warm-up), {} WebSocket frames to viewers, page reloads: {}\n\n\
         | series | first | last | min after warm-up | max after warm-up | slope / hour | rise over the span | verdict |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n",
        plan.minutes,
        plan.sim_days,
        plan.speed(),
        plan.viewers,
        plan.rotate_secs,
        plan.retention_days,
        samples.len(),
        after.len(),
        plan.warmup_minutes,
        samples.last().map_or(0, |s| s.frames),
        reloads
    );
    let mut rising = Vec::new();
    for (name, get) in series {
        let points: Vec<(f64, f64)> = after.iter().map(|s| (s.minutes, get(s))).collect();
        let (first, last) = (samples.first().map_or(0.0, get), samples.last().map_or(0.0, get));
        let Some(t) = Trend::fit(&points) else { continue };
        summary += &format!(
            "| {name} | {first:.0} | {last:.0} | {:.0} | {:.0} | {:+.1} | {:+.1} % | {} |\n",
            t.min,
            t.max,
            t.slope * 60.0,
            t.rise / t.mean * 100.0,
            t.verdict(TOLERANCE)
        );
        if t.rising(TOLERANCE) {
            rising.push(name);
        }
    }
    std::fs::write(plan.out.join("summary.md"), &summary).expect("summary");
    println!("\n{summary}\ncsv: {}", csv_path.display());
    driver.client.clone().close().await.expect("close the browser");
    drop(server);
    assert_eq!(reloads, 0, "the page was loaded again (the watchdog?) during the soak");
    assert!(rising.is_empty(), "rising after the warm-up: {rising:?}");
}

#[test]
fn a_flat_noisy_series_is_flat_and_a_leak_is_rising() {
    // Noise of ±5 % around 1000, no trend.
    let flat: Vec<(f64, f64)> =
        (0..60).map(|i| (f64::from(i), 1000.0 + if i % 2 == 0 { 50.0 } else { -50.0 })).collect();
    let t = Trend::fit(&flat).expect("a line");
    assert!(!t.rising(TOLERANCE), "{t:?}");
    // 0.2 % per minute: 12 % over the hour, plus the same noise.
    let leak: Vec<(f64, f64)> = flat.iter().map(|&(x, y)| (x, y + 2.0 * x)).collect();
    let t = Trend::fit(&leak).expect("a line");
    assert!(t.rising(TOLERANCE), "{t:?}");
    assert!((t.slope - 2.0).abs() < 0.1, "{t:?}");
    // A tiny but steady rise (0.5 % over the span) is below the tolerance.
    let slight: Vec<(f64, f64)> = (0..60).map(|i| (f64::from(i), 1000.0 + f64::from(i) * 5.0 / 59.0)).collect();
    assert!(!Trend::fit(&slight).expect("a line").rising(TOLERANCE));
    assert_eq!(Trend::fit(&flat[..2]), None, "too few points");
}
