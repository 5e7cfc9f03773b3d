//! `wallboard loadtest`: measures the WebSocket fan-out from the outside.
//!
//! It starts a real server as a child process (so its memory and CPU are measured alone),
//! opens N WebSocket clients that subscribe to one workflow, then posts signed event
//! callbacks one at a time and records, for every client, the time from posting the event to
//! receiving the snapshot that carries it (each event creates a task, so a client knows a
//! snapshot carries event k when its workflow counts k more live tasks than its first one).
//! It reports latency percentiles over all (client, event) pairs, snapshots delivered per
//! second, the server's resident memory per idle client, and the CPU per delivered snapshot
//! of the server and of the load tool itself (`/proc`, over the events phase), next to the
//! kernel's own cost of a loopback write of the same size measured in the same run
//! ([`floor`]), with receivers idle and with receivers waiting as clients do, and the
//! server's ratio to each.
//!
//! The clients ([`client`]) are made cheap so the shared machine's time goes to the server:
//! one reused buffer per connection, the live-task count read straight from the frame's
//! bytes, one atomic per event seen.

pub mod client;
pub mod floor;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde::Serialize;
use tokio::sync::{Notify, Semaphore};
use wallboard_shared::sid::{EventSid, TaskSid, WorkflowSid, WorkspaceSid};

use crate::{cputime, signature};
use client::{Client, Markers};
use floor::{Floor, FloorOptions};

const ACCOUNT_SID: &str = "AC00000000000000000000000000000100";
const AUTH_TOKEN: &str = "loadtest-token-0123456789";

/// Rounds of the floor measurement (the first warms up and is not counted).
const FLOOR_ROUNDS: usize = 5;
/// The floor's connections at most (`tcp_floor`'s default).
const FLOOR_MAX_CONNECTIONS: usize = 9_000;
/// Descriptors left alone when sizing the floor (runtime, HTTP client, stdio).
const SPARE_DESCRIPTORS: u64 = 512;

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

/// The kernel's floor as the report shows it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FloorFigures {
    pub connections: usize,
    pub bytes: usize,
    pub write_cpu_us: f64,
    pub write_wall_us: f64,
    pub read_cpu_us: f64,
}

impl From<&Floor> for FloorFigures {
    fn from(f: &Floor) -> Self {
        Self {
            connections: f.connections,
            bytes: f.bytes,
            write_cpu_us: f.write_cpu_us(),
            write_wall_us: f.write_wall_us(),
            read_cpu_us: f.read_cpu_us(),
        }
    }
}

/// What was measured (`--json` prints it as is; NaN, for a figure with nothing to divide, is `null`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoadReport {
    pub clients: usize,
    pub events: usize,
    pub connect_secs: f64,
    pub latency_p50_ms: f64,
    pub latency_p99_ms: f64,
    pub latency_max_ms: f64,
    /// (client, event) pairs never seen.
    pub missed: usize,
    /// Snapshot frames the clients received during the events phase.
    pub deliveries: u64,
    pub snapshots_per_sec: f64,
    pub rss_before_kib: u64,
    pub rss_idle_kib: u64,
    pub kib_per_idle_client: f64,
    /// The server's CPU (utime + stime) over the events phase.
    pub server_cpu_secs: f64,
    pub server_cpu_us_per_delivery: f64,
    /// This process's CPU over the same phase: the clients' side (and the driver's posts).
    pub client_cpu_secs: f64,
    pub client_cpu_us_per_delivery: f64,
    pub floor: FloorFigures,
    /// Server CPU per delivery over the floor's CPU per write (the target: ≤ 1.5).
    pub server_to_floor: f64,
    /// The floor with each receiver waiting for its message, as the clients do: each write
    /// also wakes the receiver ([`floor::measure_waiting`]).
    pub floor_waiting: FloorFigures,
    pub server_to_floor_waiting: f64,
}

/// The raw readings a report is computed from.
#[derive(Debug, Clone)]
struct Measured {
    clients: usize,
    events: usize,
    connect: Duration,
    /// Every (client, event) latency in µs, in any order.
    latencies_us: Vec<u64>,
    deliveries: u64,
    events_phase: Duration,
    rss_before_kib: u64,
    rss_idle_kib: u64,
    /// CPU of the server and of this process, before and after the events phase.
    server_cpu: (Duration, Duration),
    client_cpu: (Duration, Duration),
    floor: FloorFigures,
    floor_waiting: FloorFigures,
}

impl LoadReport {
    fn from_measured(mut m: Measured) -> Self {
        m.latencies_us.sort_unstable();
        let lat = &m.latencies_us;
        let pct = |p: f64| -> f64 {
            if lat.is_empty() {
                return f64::NAN;
            }
            let i = ((lat.len() as f64 - 1.0) * p).round() as usize;
            lat[i] as f64 / 1000.0
        };
        let server_us = cputime::micros_per(m.server_cpu.0, m.server_cpu.1, m.deliveries);
        LoadReport {
            clients: m.clients,
            events: m.events,
            connect_secs: m.connect.as_secs_f64(),
            latency_p50_ms: pct(0.50),
            latency_p99_ms: pct(0.99),
            latency_max_ms: lat.last().map_or(f64::NAN, |&v| v as f64 / 1000.0),
            missed: (m.clients * m.events).saturating_sub(lat.len()),
            deliveries: m.deliveries,
            snapshots_per_sec: m.deliveries as f64 / m.events_phase.as_secs_f64(),
            rss_before_kib: m.rss_before_kib,
            rss_idle_kib: m.rss_idle_kib,
            kib_per_idle_client: m.rss_idle_kib.saturating_sub(m.rss_before_kib) as f64 / m.clients.max(1) as f64,
            server_cpu_secs: m.server_cpu.1.saturating_sub(m.server_cpu.0).as_secs_f64(),
            server_cpu_us_per_delivery: server_us,
            client_cpu_secs: m.client_cpu.1.saturating_sub(m.client_cpu.0).as_secs_f64(),
            client_cpu_us_per_delivery: cputime::micros_per(m.client_cpu.0, m.client_cpu.1, m.deliveries),
            floor: m.floor,
            server_to_floor: server_us / m.floor.write_cpu_us,
            floor_waiting: m.floor_waiting,
            server_to_floor_waiting: server_us / m.floor_waiting.write_cpu_us,
        }
    }
}

impl std::fmt::Display for LoadReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "clients: {}  events: {}  (connected in {:.1} s)", self.clients, self.events, self.connect_secs)?;
        writeln!(
            f,
            "event-to-client latency: p50 {:.1} ms  p99 {:.1} ms  max {:.1} ms  (missed updates: {})",
            self.latency_p50_ms, self.latency_p99_ms, self.latency_max_ms, self.missed
        )?;
        writeln!(f, "snapshots delivered: {} ({:.0}/s)", self.deliveries, self.snapshots_per_sec)?;
        writeln!(
            f,
            "server CPU: {:.1} µs per delivered snapshot ({:.2} s over the events phase)",
            self.server_cpu_us_per_delivery, self.server_cpu_secs
        )?;
        let fl = &self.floor;
        writeln!(
            f,
            "kernel floor, same run: {:.1} µs CPU per {}-byte loopback write ({:.1} µs wall, {:.1} µs CPU per read; {} connections)",
            fl.write_cpu_us, fl.bytes, fl.write_wall_us, fl.read_cpu_us, fl.connections
        )?;
        writeln!(f, "server / floor: {:.2}×", self.server_to_floor)?;
        let fw = &self.floor_waiting;
        writeln!(
            f,
            "floor with waiting receivers: {:.1} µs CPU per write ({:.1} µs wall; the receivers' runtime {:.1} µs CPU per message)",
            fw.write_cpu_us, fw.write_wall_us, fw.read_cpu_us
        )?;
        writeln!(f, "server / floor with waiting receivers: {:.2}×", self.server_to_floor_waiting)?;
        writeln!(
            f,
            "load tool CPU: {:.1} µs per delivery ({:.2} s; the clients' side)",
            self.client_cpu_us_per_delivery, self.client_cpu_secs
        )?;
        writeln!(
            f,
            "server RSS: {} KiB before, {} KiB with {} idle clients: {:.1} KiB per idle client",
            self.rss_before_kib, self.rss_idle_kib, self.clients, self.kib_per_idle_client
        )
    }
}

struct Server {
    child: Child,
    addr: SocketAddr,
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
            // No ping round (a write and a pong per client) inside the measured phase.
            "--ws-ping-interval-secs",
            "3600",
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
            addr = Some(a.trim().parse::<SocketAddr>().with_context(|| format!("the server's address {a:?}"))?);
        } else if let Some((_, t)) = line.split_once("#token=") {
            token = Some(t.trim().to_owned());
        }
    }
    // Keep draining stdout so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    let (addr, token) = (addr.context("no address")?, token.unwrap_or_default());
    Ok(Server { child, addr, base: format!("http://{addr}"), token, _dir: dir })
}

fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    crate::cputime::resident_kib(Some(pid)).with_context(|| format!("no VmRSS in /proc/{pid}/status"))
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

/// Shared between the driver and the client tasks; indexed by event number (1-based).
struct Tally {
    clients: usize,
    /// When event k was posted, in µs since `origin`; `u64::MAX` before.
    sent_us: Vec<AtomicU64>,
    /// Clients that have seen event k.
    seen: Vec<AtomicUsize>,
    /// Rung by the client that completes an event's count.
    all_seen: Notify,
    deliveries: AtomicU64,
    latencies_us: Mutex<Vec<u64>>,
}

/// How many loopback connections the floor may open next to `clients` open ones.
fn floor_connections(clients: usize, nofile: u64) -> usize {
    let free = nofile.saturating_sub(clients as u64 + SPARE_DESCRIPTORS) / 2;
    clients.min(FLOOR_MAX_CONNECTIONS).min(usize::try_from(free).unwrap_or(usize::MAX)).max(1)
}

/// One client: connects, subscribes, reports the first snapshot, then records each event's
/// latency until it has seen them all.
async fn client_task(
    addr: SocketAddr,
    hello: Arc<[String; 2]>,
    markers: Arc<Markers>,
    tally: Arc<Tally>,
    origin: Instant,
    gate: Arc<Semaphore>,
    ready: tokio::sync::mpsc::Sender<anyhow::Result<usize>>,
) {
    let permit = gate.acquire_owned().await;
    let connected = async {
        let mut c = Client::connect(addr, "/ws").await?;
        c.send_text(&hello[0]).await?;
        c.send_text(&hello[1]).await?;
        // The first message is the first snapshot: subscribed. Its live tasks are the count
        // the events add to.
        let (base, size) = match c.next_message().await? {
            Some(f) if markers.is_snapshot(f) => {
                (markers.total_tasks(f).context("a snapshot without total_tasks")?, f.len())
            }
            Some(f) => bail!("the server answered {}", String::from_utf8_lossy(f)),
            None => bail!("closed before the first snapshot"),
        };
        Ok::<_, anyhow::Error>((c, base, size))
    }
    .await;
    drop(permit);
    let (mut c, base, size) = match connected {
        Ok(c) => c,
        Err(e) => {
            let _ = ready.send(Err(e)).await;
            return;
        }
    };
    let _ = ready.send(Ok(size)).await;
    drop(ready);
    let events = tally.seen.len() as u64 - 1;
    let mut mine = Vec::with_capacity(events as usize);
    let (mut next, mut deliveries) = (1u64, 0u64);
    while next <= events {
        let Ok(Some(frame)) = c.next_message().await else { break };
        let Some(total) = markers.total_tasks(frame) else { continue };
        deliveries += 1;
        let carried = total.saturating_sub(base).min(events);
        if carried < next {
            continue;
        }
        let now = origin.elapsed().as_micros() as u64;
        for k in next..=carried {
            let k = k as usize;
            let sent = tally.sent_us[k].load(Ordering::Acquire);
            mine.push(now.saturating_sub(sent));
            if tally.seen[k].fetch_add(1, Ordering::AcqRel) + 1 == tally.clients {
                tally.all_seen.notify_one();
            }
        }
        next = carried + 1;
    }
    tally.deliveries.fetch_add(deliveries, Ordering::Relaxed);
    tally.latencies_us.lock().unwrap_or_else(|p| p.into_inner()).extend(mine);
}

pub async fn run(opts: LoadOptions) -> anyhow::Result<LoadReport> {
    let nofile = rlimit::increase_nofile_limit(u64::from(u32::MAX)).unwrap_or(1024);
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

    let auth = serde_json::json!({"type": "auth", "token": server.token}).to_string();
    let subscribe = serde_json::json!({
        "type": "subscribe", "id": "load",
        "workspace_sid": WorkspaceSid::from_u128(1), "workflow_sid": WorkflowSid::from_u128(1),
    })
    .to_string();
    let hello = Arc::new([auth, subscribe]);
    let markers = Arc::new(Markers::default());
    let origin = Instant::now();
    let tally = Arc::new(Tally {
        clients: opts.clients,
        sent_us: (0..=opts.events).map(|_| AtomicU64::new(u64::MAX)).collect(),
        seen: (0..=opts.events).map(|_| AtomicUsize::new(0)).collect(),
        all_seen: Notify::new(),
        deliveries: AtomicU64::new(0),
        latencies_us: Mutex::new(Vec::with_capacity(opts.clients * opts.events)),
    });
    let gate = Arc::new(Semaphore::new(opts.connect_concurrency.max(1)));
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<anyhow::Result<usize>>(opts.clients.max(1));
    let connect_started = Instant::now();
    let mut tasks = Vec::with_capacity(opts.clients);
    for _ in 0..opts.clients {
        let t = client_task(
            server.addr,
            hello.clone(),
            markers.clone(),
            tally.clone(),
            origin,
            gate.clone(),
            ready_tx.clone(),
        );
        tasks.push(tokio::spawn(t));
    }
    drop(ready_tx);
    let mut snapshot_bytes = 0;
    for _ in 0..opts.clients {
        match ready_rx.recv().await {
            Some(Ok(size)) => snapshot_bytes = size,
            Some(Err(e)) => bail!("a client failed to connect: {e:#}"),
            None => bail!("clients ended early"),
        }
    }
    let connect = connect_started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_idle_kib = rss_kib(pid)?;

    // The kernel's floor, on this machine in this state (server and clients connected and
    // idle), with the snapshot's size on the wire (its payload and a 4-byte header).
    let floor_opts = FloorOptions {
        connections: floor_connections(opts.clients, nofile),
        bytes: snapshot_bytes + 4,
        rounds: FLOOR_ROUNDS,
    };
    let floor = tokio::task::spawn_blocking(move || floor::measure(floor_opts))
        .await
        .context("the floor measurement panicked")?
        .context("the floor measurement failed")?;
    let floor_waiting = tokio::task::spawn_blocking(move || floor::measure_waiting(floor_opts))
        .await
        .context("the floor measurement panicked")?
        .context("the floor measurement (waiting receivers) failed")?;

    let server_cpu_before = cputime::process(pid)?;
    let client_cpu_before = cputime::this_process()?;
    let events_started = Instant::now();
    for k in 1..=opts.events {
        tally.sent_us[k].store(origin.elapsed().as_micros() as u64, Ordering::Release);
        post_event(&http, &server.base, k as u64).await?;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while tally.seen[k].load(Ordering::Acquire) < opts.clients {
            if tokio::time::timeout_at(deadline, tally.all_seen.notified()).await.is_err() {
                break;
            }
        }
        if k < opts.events {
            tokio::time::sleep(opts.gap).await;
        }
    }
    let events_phase = events_started.elapsed();
    let server_cpu_after = cputime::process(pid)?;
    let client_cpu_after = cputime::this_process()?;
    // Clients stop by themselves after the last event; those that missed one are cut off.
    let _ = tokio::time::timeout(Duration::from_secs(5), futures_util::future::join_all(tasks.iter_mut())).await;
    for t in &tasks {
        t.abort();
    }
    let latencies_us = std::mem::take(&mut *tally.latencies_us.lock().unwrap_or_else(|p| p.into_inner()));
    Ok(LoadReport::from_measured(Measured {
        clients: opts.clients,
        events: opts.events,
        connect,
        latencies_us,
        deliveries: tally.deliveries.load(Ordering::Relaxed),
        events_phase,
        rss_before_kib,
        rss_idle_kib,
        server_cpu: (server_cpu_before, server_cpu_after),
        client_cpu: (client_cpu_before, client_cpu_after),
        floor: FloorFigures::from(&floor),
        floor_waiting: FloorFigures::from(&floor_waiting),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured() -> Measured {
        Measured {
            clients: 4,
            events: 5,
            connect: Duration::from_millis(1_500),
            // 19 of the 20 (client, event) pairs, out of order: 1..=19 ms.
            latencies_us: (1..=19u64).rev().map(|ms| ms * 1_000).collect(),
            deliveries: 20,
            events_phase: Duration::from_secs(4),
            rss_before_kib: 10_000,
            rss_idle_kib: 10_036,
            server_cpu: (Duration::from_millis(1_000), Duration::from_millis(1_000) + Duration::from_micros(420)),
            client_cpu: (Duration::from_millis(300), Duration::from_millis(300) + Duration::from_micros(140)),
            floor: FloorFigures {
                connections: 4,
                bytes: 1_204,
                write_cpu_us: 8.4,
                write_wall_us: 9.0,
                read_cpu_us: 2.0,
            },
            floor_waiting: FloorFigures {
                connections: 4,
                bytes: 1_204,
                write_cpu_us: 16.8,
                write_wall_us: 18.0,
                read_cpu_us: 3.0,
            },
        }
    }

    #[test]
    fn the_report_is_worked_out_from_the_readings() {
        let r = LoadReport::from_measured(measured());
        // Sorted 1..=19 ms: p50 at index round(18 × 0.5) = 9 → 10 ms; p99 at round(17.82) = 18 → 19 ms.
        assert_eq!((r.latency_p50_ms, r.latency_p99_ms, r.latency_max_ms), (10.0, 19.0, 19.0));
        assert_eq!(r.missed, 1);
        // 20 deliveries in 4 s; 36 KiB over 4 idle clients.
        assert_eq!((r.deliveries, r.snapshots_per_sec, r.kib_per_idle_client), (20, 5.0, 9.0));
        // 420 µs of server CPU over 20 deliveries: 21 µs each, 2.5 × the floor's 8.4 µs;
        // 140 µs of the tool's: 7 µs each.
        assert!((r.server_cpu_us_per_delivery - 21.0).abs() < 1e-9, "{}", r.server_cpu_us_per_delivery);
        assert!((r.server_to_floor - 2.5).abs() < 1e-9, "{}", r.server_to_floor);
        assert!((r.client_cpu_us_per_delivery - 7.0).abs() < 1e-9, "{}", r.client_cpu_us_per_delivery);
        assert!((r.server_cpu_secs - 0.000_42).abs() < 1e-12);
        let text = r.to_string();
        assert!(text.contains("server CPU: 21.0 µs per delivered snapshot"), "{text}");
        assert!(text.contains("server / floor: 2.50×"), "{text}");
        // Against the floor that also wakes its receivers: 21 / 16.8.
        assert!((r.server_to_floor_waiting - 1.25).abs() < 1e-9, "{}", r.server_to_floor_waiting);
        assert!(text.contains("server / floor with waiting receivers: 1.25×"), "{text}");
        assert!(text.contains("load tool CPU: 7.0 µs per delivery"), "{text}");
    }

    #[test]
    fn nothing_delivered_gives_no_figure_rather_than_a_wrong_one() {
        let r = LoadReport::from_measured(Measured { latencies_us: vec![], deliveries: 0, ..measured() });
        assert_eq!(r.missed, 20);
        assert!(r.latency_p50_ms.is_nan() && r.server_cpu_us_per_delivery.is_nan() && r.server_to_floor.is_nan());
        // In JSON a figure with nothing to divide is null.
        let json = serde_json::to_value(&r).expect("json");
        assert_eq!(json["server_cpu_us_per_delivery"], serde_json::Value::Null);
        assert_eq!(json["floor"]["write_cpu_us"], 8.4);
    }

    #[test]
    fn the_floor_shares_the_descriptors_with_the_clients() {
        // 20,000 descriptors, 10,000 held by clients, 512 spare: (20,000 − 10,512) / 2 = 4,744.
        assert_eq!(floor_connections(10_000, 20_000), 4_744);
        assert_eq!(floor_connections(2_000, 20_000), 2_000);
        assert_eq!(floor_connections(50_000, 1 << 20), FLOOR_MAX_CONNECTIONS);
        assert_eq!(floor_connections(100, 600), 1);
    }
}
