//! `wallboard loadtest`: measures the WebSocket fan-out from the outside.
//!
//! It starts a real server as a child process (so its memory is measured alone), opens
//! N WebSocket clients that subscribe to one workflow, then posts signed event callbacks
//! one at a time and records, for every client, the time from posting the event to
//! receiving the snapshot that carries it. It reports latency percentiles over all
//! (client, event) pairs, snapshots delivered per second, and the server's resident
//! memory per idle client.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;
use wallboard_shared::sid::{EventSid, TaskSid, WorkflowSid, WorkspaceSid};

use crate::signature;

const ACCOUNT_SID: &str = "AC00000000000000000000000000000100";
const AUTH_TOKEN: &str = "loadtest-token-0123456789";

/// What to measure.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub clients: usize,
    pub events: usize,
    /// Pause between events, longer than the server's coalescing interval so that each
    /// event is measured on its own.
    pub gap: Duration,
    /// Clients connecting at the same time.
    pub connect_concurrency: usize,
    /// The `wallboard` binary to start (default: this one).
    pub server_bin: Option<PathBuf>,
}

/// What was measured.
#[derive(Debug, Clone)]
pub struct LoadReport {
    pub clients: usize,
    pub events: usize,
    pub connect_secs: f64,
    pub latency_p50_ms: f64,
    pub latency_p99_ms: f64,
    pub latency_max_ms: f64,
    pub missed: usize,
    pub snapshots_per_sec: f64,
    pub rss_before_kib: u64,
    pub rss_idle_kib: u64,
    pub kib_per_idle_client: f64,
}

impl std::fmt::Display for LoadReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "clients: {}  events: {}  (connected in {:.1} s)", self.clients, self.events, self.connect_secs)?;
        writeln!(
            f,
            "event-to-client latency: p50 {:.1} ms  p99 {:.1} ms  max {:.1} ms  (missed updates: {})",
            self.latency_p50_ms, self.latency_p99_ms, self.latency_max_ms, self.missed
        )?;
        writeln!(f, "snapshots delivered: {:.0}/s", self.snapshots_per_sec)?;
        writeln!(
            f,
            "server RSS: {} KiB before, {} KiB with {} idle clients: {:.1} KiB per idle client",
            self.rss_before_kib, self.rss_idle_kib, self.clients, self.kib_per_idle_client
        )
    }
}

struct Server {
    child: Child,
    base: String,
    /// The admin token of the link the server printed: clients authenticate as browsers do.
    token: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(bin: &std::path::Path, max_connections: usize) -> anyhow::Result<Server> {
    let dir = tempfile::tempdir()?;
    let mut child = Command::new(bin)
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--source",
            "events",
            "--account-sid",
            ACCOUNT_SID,
            "--auth-token",
            AUTH_TOKEN,
        ])
        .arg("--data-dir")
        .arg(dir.path())
        .arg("--ws-max-connections")
        .arg((max_connections + 100).to_string())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot start {}", bin.display()))?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let (mut addr, mut token) = (None, None);
    while addr.is_none() || token.is_none() {
        let Some(line) = lines.next() else { bail!("the server exited before printing its address and link") };
        let line = line?;
        if let Some(a) = line.strip_prefix("Wallboard is listening on ") {
            addr = Some(a.trim().to_owned());
        } else if let Some((_, t)) = line.split_once("#token=") {
            token = Some(t.trim().to_owned());
        }
    }
    // Keep draining stdout so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    let (addr, token) = (addr.unwrap_or_default(), token.unwrap_or_default());
    Ok(Server { child, base: format!("http://{addr}"), token, _dir: dir })
}

fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS in /proc status")
}

/// Posts a signed `task.created` callback for a new task of the test workflow.
async fn post_event(http: &reqwest::Client, base: &str, n: u64) -> anyhow::Result<()> {
    let url = format!("{base}/webhooks/taskrouter");
    let now = chrono::Utc::now().timestamp_millis();
    let pairs: Vec<(String, String)> = [
        ("EventType", "task.created".to_owned()),
        ("Sid", EventSid::from_u128(u128::from(n) + 1).to_string()),
        ("WorkspaceSid", WorkspaceSid::from_u128(1).to_string()),
        ("WorkspaceName", "Load Test".to_owned()),
        ("TimestampMs", now.to_string()),
        ("TaskSid", TaskSid::from_u128(u128::from(n) + 1).to_string()),
        ("WorkflowSid", WorkflowSid::from_u128(1).to_string()),
        ("WorkflowName", "Load".to_owned()),
        ("TaskChannelUniqueName", "voice".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let sig = signature::compute(AUTH_TOKEN, &url, &pairs);
    let r = http.post(&url).header("X-Twilio-Signature", sig).form(&pairs).send().await?;
    if !r.status().is_success() {
        bail!("the server refused the event: {}", r.status());
    }
    Ok(())
}

/// Shared between the driver and the client tasks.
struct Tally {
    /// When the current event was posted, in µs since `origin`.
    sent_us: AtomicU64,
    /// Clients that have seen the current event.
    seen: AtomicUsize,
    snapshots: AtomicUsize,
    latencies_us: Mutex<Vec<u64>>,
}

fn rev_of(text: &str) -> Option<u64> {
    let at = text.find("\"rev\":")? + 6;
    let digits: String = text[at..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

pub async fn run(opts: LoadOptions) -> anyhow::Result<LoadReport> {
    let _ = rlimit::increase_nofile_limit(u64::from(u32::MAX));
    let bin = match &opts.server_bin {
        Some(b) => b.clone(),
        None => std::env::current_exe()?,
    };
    let server = start_server(&bin, opts.clients)?;
    let pid = server.child.id();
    let http = reqwest::Client::new();
    post_event(&http, &server.base, 0).await?; // makes the workflow known
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before_kib = rss_kib(pid)?;

    let ws_url = format!("{}/ws", server.base.replacen("http://", "ws://", 1));
    let auth = serde_json::json!({"type": "auth", "token": server.token}).to_string();
    let subscribe = serde_json::json!({
        "type": "subscribe", "id": "load",
        "workspace_sid": WorkspaceSid::from_u128(1), "workflow_sid": WorkflowSid::from_u128(1),
    })
    .to_string();
    let origin = Instant::now();
    let tally = Arc::new(Tally {
        sent_us: AtomicU64::new(u64::MAX),
        seen: AtomicUsize::new(0),
        snapshots: AtomicUsize::new(0),
        latencies_us: Mutex::new(Vec::with_capacity(opts.clients * opts.events)),
    });
    let gate = Arc::new(Semaphore::new(opts.connect_concurrency.max(1)));
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<anyhow::Result<()>>(opts.clients.max(1));
    let connect_started = Instant::now();
    let mut tasks = Vec::with_capacity(opts.clients);
    let done_after = opts.events;
    for _ in 0..opts.clients {
        let (url, auth, sub, tally, gate, ready) =
            (ws_url.clone(), auth.clone(), subscribe.clone(), tally.clone(), gate.clone(), ready_tx.clone());
        tasks.push(tokio::spawn(async move {
            let permit = gate.acquire_owned().await;
            let connected = async {
                let (mut ws, _) = tokio_tungstenite::connect_async(&url).await?;
                ws.send(Message::text(auth)).await?;
                ws.send(Message::text(sub)).await?;
                // The first snapshot: subscribed.
                let first = loop {
                    match ws.next().await {
                        Some(Ok(Message::Text(t))) if t.contains("\"type\":\"snapshot\"") => {
                            break rev_of(&t).unwrap_or(0);
                        }
                        Some(Ok(Message::Text(t))) => anyhow::bail!("the server answered {t}"),
                        Some(Ok(_)) => continue,
                        _ => anyhow::bail!("closed before the first snapshot"),
                    }
                };
                Ok::<_, anyhow::Error>((ws, first))
            }
            .await;
            drop(permit);
            let (mut ws, mut last_rev) = match connected {
                Ok(c) => c,
                Err(e) => {
                    let _ = ready.send(Err(e)).await;
                    return;
                }
            };
            let _ = ready.send(Ok(())).await;
            let mut mine = Vec::new();
            while let Some(Ok(msg)) = ws.next().await {
                let Message::Text(t) = msg else { continue };
                let Some(rev) = rev_of(&t) else { continue };
                if rev <= last_rev {
                    continue;
                }
                last_rev = rev;
                tally.snapshots.fetch_add(1, Ordering::Relaxed);
                let sent = tally.sent_us.load(Ordering::Acquire);
                let now = origin.elapsed().as_micros() as u64;
                if sent != u64::MAX && now >= sent {
                    mine.push(now - sent);
                    tally.seen.fetch_add(1, Ordering::AcqRel);
                    if mine.len() >= done_after {
                        break;
                    }
                }
            }
            tally.latencies_us.lock().unwrap_or_else(|p| p.into_inner()).extend(mine);
        }));
    }
    drop(ready_tx);
    for _ in 0..opts.clients {
        match ready_rx.recv().await {
            Some(Ok(())) => {}
            Some(Err(e)) => bail!("a client failed to connect: {e:#}"),
            None => bail!("clients ended early"),
        }
    }
    let connect_secs = connect_started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_idle_kib = rss_kib(pid)?;

    let events_started = Instant::now();
    let mut missed = 0;
    for n in 1..=opts.events as u64 {
        tally.seen.store(0, Ordering::Release);
        tally.sent_us.store(origin.elapsed().as_micros() as u64, Ordering::Release);
        post_event(&http, &server.base, n).await?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while tally.seen.load(Ordering::Acquire) < opts.clients && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        missed += opts.clients.saturating_sub(tally.seen.load(Ordering::Acquire));
        tokio::time::sleep(opts.gap).await;
    }
    let events_secs = events_started.elapsed().as_secs_f64();
    // Clients stop by themselves after the last event; those that missed one are cut off.
    let _ = tokio::time::timeout(Duration::from_secs(5), futures_util::future::join_all(tasks.iter_mut())).await;
    for t in &tasks {
        t.abort();
    }
    let mut lat = std::mem::take(&mut *tally.latencies_us.lock().unwrap_or_else(|p| p.into_inner()));
    lat.sort_unstable();
    let pct = |p: f64| -> f64 {
        if lat.is_empty() {
            return f64::NAN;
        }
        let i = ((lat.len() as f64 - 1.0) * p).round() as usize;
        lat[i] as f64 / 1000.0
    };
    Ok(LoadReport {
        clients: opts.clients,
        events: opts.events,
        connect_secs,
        latency_p50_ms: pct(0.50),
        latency_p99_ms: pct(0.99),
        latency_max_ms: lat.last().map_or(f64::NAN, |&m| m as f64 / 1000.0),
        missed,
        snapshots_per_sec: tally.snapshots.load(Ordering::Relaxed) as f64 / events_secs,
        rss_before_kib,
        rss_idle_kib,
        kib_per_idle_client: (rss_idle_kib.saturating_sub(rss_before_kib)) as f64 / opts.clients.max(1) as f64,
    })
}
