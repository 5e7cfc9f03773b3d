//! `wallboard simulate --to URL`: the simulated center as a real client of another
//! Wallboard's signed event callback endpoint, and the load generator of ingest
//! benchmarks.
//!
//! Events are POSTed form-encoded with Twilio's PascalCase field names and an
//! `X-Twilio-Signature` ([`Format::Callbacks`]), or as Event Streams would deliver them
//! ([`Format::EventStreams`]): JSON arrays of up to `batch` CloudEvents to
//! `/webhooks/eventstreams?bodySHA256=…`, signed over that URL. Requests are spread over
//! `concurrency` connections by task, worker or other resource (an activity, a queue), so
//! that the events of each are sent one after the other, in order.
//!
//! Without a rate the center runs at the pace of the clock from an empty start at "now".
//! With a rate, simulated time runs as fast as needed: the simulation starts far enough
//! in the past for `rate × duration` events to end near now (never beyond the clock, as
//! the server refuses future events), and sends are paced to the rate.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::mpsc;
use tokio::time::Instant;
use wallboard_shared::sid::WorkspaceSid;

use super::config::SimConfig;
use super::model::Simulator;
use crate::clock::Clock;
use crate::event::Event;
use crate::signature;

const DAY_MS: i64 = 86_400_000;
/// How far back a rate-paced run may start (the server's retention is 30 days).
const MAX_LOOKBACK_MS: i64 = 28 * DAY_MS;
/// Simulated time produced per step of a rate-paced run.
const STEP_MS: i64 = 10 * 60_000;
/// Tick of a real-time run.
const TICK: Duration = Duration::from_millis(100);
/// Events queued per connection before the producer waits.
const SHARD_QUEUE: usize = 256;
/// Rejections kept in full in the report.
const MAX_SAMPLES: usize = 5;

/// The door events are sent through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// One signed form per event to `/webhooks/taskrouter` (TaskRouter's event callbacks).
    #[default]
    Callbacks,
    /// Signed JSON batches of CloudEvents to `/webhooks/eventstreams` (Twilio Event Streams).
    #[value(name = "eventstreams")]
    EventStreams,
}

/// The account SID written into simulated CloudEvents (the receiver reads none).
const SIM_ACCOUNT: &str = "AC00000000000000000000000000000000";

/// What to drive and how hard.
#[derive(Debug, Clone)]
pub struct DriveOptions {
    /// The other Wallboard's public base URL, e.g. `http://127.0.0.1:8080`. It must be the
    /// URL that server signs against (its `--public-url`).
    pub base_url: String,
    /// That server's auth token (the key of the signatures).
    pub auth_token: String,
    /// Events per second; `None`: the real-time pace of the simulated center.
    pub rate: Option<f64>,
    /// How long to produce events (wall time); what is queued is still sent after it.
    pub duration: Duration,
    pub seed: u64,
    /// Requests in flight at most (one connection each).
    pub concurrency: usize,
    pub config: SimConfig,
    pub format: Format,
    /// CloudEvents per batch at most ([`Format::EventStreams`]).
    pub batch: usize,
}

/// What a drive did.
#[derive(Debug, Clone)]
pub struct DriveReport {
    pub sent: u64,
    /// Answered 204.
    pub accepted: u64,
    /// Answered anything else, or not answered at all.
    pub rejected: u64,
    /// The first rejections: (HTTP status, or 0 for a transport error; body or error).
    pub rejections: Vec<(u16, String)>,
    pub elapsed: Duration,
    pub events_per_sec: f64,
    pub p50_latency: Duration,
    pub p99_latency: Duration,
    pub workspace_sid: WorkspaceSid,
    /// Simulated time covered: the center was empty at the start.
    pub sim_start_ms: i64,
    pub sim_end_ms: i64,
}

impl fmt::Display for DriveReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "sent {} events in {:.2} s ({:.0} events/s): {} accepted, {} rejected",
            self.sent,
            self.elapsed.as_secs_f64(),
            self.events_per_sec,
            self.accepted,
            self.rejected
        )?;
        writeln!(
            f,
            "latency p50 {:.2} ms, p99 {:.2} ms",
            self.p50_latency.as_secs_f64() * 1e3,
            self.p99_latency.as_secs_f64() * 1e3
        )?;
        writeln!(
            f,
            "workspace {} simulated from {} to {}",
            self.workspace_sid,
            wallboard_shared::time::format_ms(self.sim_start_ms),
            wallboard_shared::time::format_ms(self.sim_end_ms)
        )?;
        for (status, body) in &self.rejections {
            let body: String = body.chars().take(300).collect();
            if *status == 0 {
                writeln!(f, "  not sent: {body}")?;
            } else {
                writeln!(f, "  HTTP {status}: {body}")?;
            }
        }
        Ok(())
    }
}

/// `task_channel_unique_name` → `TaskChannelUniqueName`.
pub fn pascal_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for part in s.split('_') {
        let mut chars = part.chars();
        if let Some(c) = chars.next() {
            out.push(c.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    out
}

/// The form fields of the event callback TaskRouter would send for `e`, sorted as they are
/// signed. [`Event::from_form`] gives `e` back.
pub fn to_pairs(e: &Event) -> Vec<(String, String)> {
    let (sid, ts) = (e.sid.to_string(), e.ts_ms.to_string());
    CallbackForm::default().pairs(e, &sid, &ts).into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
}

/// Encodes events as signed callback forms without an owned copy of every name and value
/// per event (the load generator should cost less than the server it measures).
#[derive(Debug, Default)]
pub(super) struct CallbackForm {
    /// Twilio's PascalCase name of each snake_case field name seen so far.
    names: HashMap<String, Box<str>>,
}

impl CallbackForm {
    /// The form's fields, sorted by name then value (the order they are signed in),
    /// borrowing `e`, its SID and time as text, and the cached names.
    fn pairs<'a>(&'a mut self, e: &'a Event, sid: &'a str, ts: &'a str) -> Vec<(&'a str, &'a str)> {
        for (k, _) in e.data().iter() {
            if !self.names.contains_key(k) {
                self.names.insert(k.to_owned(), pascal_case(k).into());
            }
        }
        let mut pairs: Vec<(&str, &str)> = Vec::with_capacity(e.data().len() + 4);
        pairs.push(("EventType", &e.event_type));
        pairs.push(("Sid", sid));
        pairs.push(("WorkspaceSid", e.workspace_sid.as_str()));
        if !e.data().contains_key("timestamp_ms") {
            pairs.push(("TimestampMs", ts));
        }
        let names = &self.names;
        pairs.extend(e.data().iter().map(|(k, v)| (names.get(k).map_or(k, |n| &**n), v)));
        pairs.sort_unstable();
        pairs
    }

    /// `(body, signature)` of `e`'s callback to `url`: the form of [`to_pairs`], signed as
    /// [`signature::compute`] signs it.
    pub(super) fn encode(&mut self, token: &str, url: &str, e: &Event) -> (String, String) {
        let (sid, ts) = (e.sid.to_string(), e.ts_ms.to_string());
        let pairs = self.pairs(e, &sid, &ts);
        let sig = signature::compute_sorted(token, url, &pairs);
        let size = pairs.iter().map(|(k, v)| k.len() + v.len() + 2).sum::<usize>();
        let body =
            form_urlencoded::Serializer::new(String::with_capacity(size + size / 2)).extend_pairs(&pairs).finish();
        (body, sig)
    }
}

#[derive(Debug, Default)]
struct WorkerStats {
    accepted: u64,
    rejected: u64,
    samples: Vec<(u16, String)>,
    latencies: Vec<Duration>,
}

async fn form_worker(
    client: reqwest::Client,
    (url, target): (Arc<str>, reqwest::Url),
    token: Arc<str>,
    mut rx: mpsc::Receiver<Event>,
) -> WorkerStats {
    let mut stats = WorkerStats::default();
    let mut form = CallbackForm::default();
    while let Some(e) = rx.recv().await {
        // Signed over the URL as given, as before: the parsed one may be normalized.
        let (body, sig) = form.encode(&token, &url, &e);
        let sig = match reqwest::header::HeaderValue::try_from(sig) {
            Ok(sig) => sig,
            Err(err) => {
                stats.rejected += 1;
                if stats.samples.len() < MAX_SAMPLES {
                    stats.samples.push((0, format!("cannot sign event {}: {err}", e.sid)));
                }
                continue;
            }
        };
        let started = Instant::now();
        let res = client
            .post(target.clone())
            .header(
                reqwest::header::CONTENT_TYPE,
                reqwest::header::HeaderValue::from_static("application/x-www-form-urlencoded"),
            )
            .header("X-Twilio-Signature", sig)
            .body(body)
            .send()
            .await;
        match res {
            Ok(r) if r.status().as_u16() == 204 => {
                stats.latencies.push(started.elapsed());
                stats.accepted += 1;
            }
            Ok(r) => {
                let status = r.status().as_u16();
                let text = r.text().await.unwrap_or_default();
                stats.latencies.push(started.elapsed());
                stats.rejected += 1;
                if stats.samples.len() < MAX_SAMPLES {
                    stats.samples.push((status, format!("{} {}: {text}", e.event_type, e.sid)));
                }
            }
            Err(err) => {
                stats.rejected += 1;
                if stats.samples.len() < MAX_SAMPLES {
                    stats.samples.push((0, format!("{} {}: {err}", e.event_type, e.sid)));
                }
            }
        }
    }
    stats
}

/// Sends what its queue holds as Event Streams batches of up to `batch` CloudEvents.
async fn batch_worker(
    client: reqwest::Client,
    url: Arc<str>,
    token: Arc<str>,
    batch: usize,
    mut rx: mpsc::Receiver<Event>,
) -> WorkerStats {
    let mut stats = WorkerStats::default();
    let mut events = Vec::with_capacity(batch);
    while rx.recv_many(&mut events, batch.max(1)).await > 0 {
        let n = events.len() as u64;
        let cloud: Vec<serde_json::Value> =
            events.iter().map(|e| crate::eventstreams::to_cloud_event(e, SIM_ACCOUNT)).collect();
        let first = events.first().map(|e| e.sid.to_string()).unwrap_or_default();
        events.clear();
        let body = match serde_json::to_vec(&cloud) {
            Ok(b) => b,
            Err(err) => {
                stats.rejected += n;
                if stats.samples.len() < MAX_SAMPLES {
                    stats.samples.push((0, format!("cannot encode the batch from {first}: {err}")));
                }
                continue;
            }
        };
        let signed_url = signature::with_body_sha256(&url, &body);
        let sig = signature::compute(&token, &signed_url, &[]);
        let started = Instant::now();
        let res = client
            .post(&signed_url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("X-Twilio-Signature", sig)
            .body(body)
            .send()
            .await;
        let sample = |stats: &mut WorkerStats, status: u16, text: String| {
            if stats.samples.len() < MAX_SAMPLES {
                stats.samples.push((status, text));
            }
        };
        match res {
            Ok(r) if r.status().as_u16() == 200 => {
                stats.latencies.push(started.elapsed());
                match r.json::<wallboard_shared::event::BatchReport>().await {
                    Ok(report) => {
                        let refused = report.refused.len() as u64;
                        stats.accepted += n.saturating_sub(refused);
                        stats.rejected += refused;
                        for r in report.refused {
                            sample(&mut stats, 200, format!("{}: {}", r.id.unwrap_or_default(), r.reason));
                        }
                    }
                    Err(err) => {
                        stats.rejected += n;
                        sample(&mut stats, 200, format!("batch from {first}: unreadable answer: {err}"));
                    }
                }
            }
            Ok(r) => {
                let status = r.status().as_u16();
                let text = r.text().await.unwrap_or_default();
                stats.latencies.push(started.elapsed());
                stats.rejected += n;
                sample(&mut stats, status, format!("batch of {n} from {first}: {text}"));
            }
            Err(err) => {
                stats.rejected += n;
                sample(&mut stats, 0, format!("batch of {n} from {first}: {err}"));
            }
        }
    }
    stats
}

/// The connection an event goes over: the same for every event of one task, of one worker
/// (its activity, capacity and attribute changes), and of one other resource (an activity,
/// a queue), so that each of those arrives in order. The events of no task are spread by
/// their worker or resource, not all sent over one connection: the producer waits whenever
/// one connection's queue is full, so the busiest connection sets the pace of all of them.
fn shard_of(e: &Event, shards: usize) -> usize {
    use std::hash::BuildHasher;
    let key = ["task_sid", "worker_sid", "resource_sid"].iter().find_map(|k| e.get(k)).unwrap_or_default();
    let hash = std::hash::BuildHasherDefault::<std::hash::DefaultHasher>::default().hash_one(key);
    (hash % shards as u64) as usize
}

/// Where a rate-paced run starts so that about `events` events end near `now_ms`:
/// measured on the simulated day before `now_ms`, with a margin.
fn rate_start(config: &SimConfig, seed: u64, now_ms: i64, events: u64) -> i64 {
    let mut sim = Simulator::new(config.clone(), seed, now_ms - DAY_MS);
    let mut buf = Vec::new();
    let mut per_day = 0u64;
    let mut t = now_ms - DAY_MS;
    while t < now_ms {
        t = (t + STEP_MS).min(now_ms);
        buf.clear();
        sim.advance(t, &mut buf);
        per_day += buf.len() as u64;
    }
    let span =
        if per_day == 0 { DAY_MS } else { (events as f64 / per_day as f64 * DAY_MS as f64 * 1.1) as i64 + STEP_MS };
    now_ms - span.clamp(STEP_MS, MAX_LOOKBACK_MS)
}

/// Drives the Wallboard at `opts.base_url` with the simulated center. See the module
/// documentation. Simulated time is taken from `clock`; the duration and the pacing are
/// wall time.
pub async fn drive(opts: DriveOptions, clock: Arc<dyn Clock>) -> anyhow::Result<DriveReport> {
    opts.config.validate()?;
    if let Some(r) = opts.rate
        && !(r.is_finite() && r > 0.0)
    {
        anyhow::bail!("the rate must be a positive number of events per second (got {r})");
    }
    let base = opts.base_url.trim_end_matches('/');
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        anyhow::bail!("the target must be an http:// or https:// URL (got {base})");
    }
    let url: Arc<str> = Arc::from(match opts.format {
        Format::Callbacks => format!("{base}/webhooks/taskrouter"),
        Format::EventStreams => format!("{base}/webhooks/eventstreams"),
    });
    let target = reqwest::Url::parse(&url).with_context(|| format!("the target {url} is not a valid URL"))?;
    let token: Arc<str> = Arc::from(opts.auth_token.as_str());
    let shards = opts.concurrency.max(1);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(shards)
        .timeout(Duration::from_secs(30))
        .build()
        .context("cannot build the HTTP client")?;

    let now_ms = clock.now_ms();
    let start_ms = match opts.rate {
        None => now_ms,
        Some(rate) => {
            let events = (rate * opts.duration.as_secs_f64()).ceil() as u64;
            let (config, seed) = (opts.config.clone(), opts.seed);
            tokio::task::spawn_blocking(move || rate_start(&config, seed, now_ms, events))
                .await
                .context("the simulation panicked")?
        }
    };
    let mut sim = Simulator::try_new(opts.config.clone(), opts.seed, start_ms)?;

    let started = Instant::now();
    let mut senders = Vec::with_capacity(shards);
    let mut workers = Vec::with_capacity(shards);
    for _ in 0..shards {
        let (tx, rx) = mpsc::channel(SHARD_QUEUE);
        senders.push(tx);
        workers.push(match opts.format {
            Format::Callbacks => {
                tokio::spawn(form_worker(client.clone(), (url.clone(), target.clone()), token.clone(), rx))
            }
            Format::EventStreams => {
                tokio::spawn(batch_worker(client.clone(), url.clone(), token.clone(), opts.batch, rx))
            }
        });
    }

    let mut sent = 0u64;
    let mut buf: Vec<Event> = Vec::new();
    let mut queue: VecDeque<Event> = VecDeque::new();
    let mut last_sent_ms = start_ms;
    'produce: while started.elapsed() < opts.duration {
        match opts.rate {
            None => {
                sim.advance(clock.now_ms(), &mut buf);
                for e in buf.drain(..) {
                    last_sent_ms = e.ts_ms;
                    let shard = shard_of(&e, shards);
                    if senders[shard].send(e).await.is_err() {
                        break 'produce;
                    }
                    sent += 1;
                }
                let left = opts.duration.saturating_sub(started.elapsed());
                tokio::time::sleep(TICK.min(left)).await;
            }
            Some(rate) => {
                let Some(e) = queue.pop_front() else {
                    let target = (sim.now_ms() + STEP_MS).min(clock.now_ms());
                    if target <= sim.now_ms() {
                        // Caught up with the clock: continue at its pace.
                        let left = opts.duration.saturating_sub(started.elapsed());
                        tokio::time::sleep(TICK.min(left)).await;
                    } else {
                        sim.advance(target, &mut buf);
                        queue.extend(buf.drain(..));
                    }
                    continue;
                };
                let due = started + Duration::from_secs_f64(sent as f64 / rate);
                if due > Instant::now() {
                    tokio::time::sleep_until(due).await;
                }
                last_sent_ms = e.ts_ms;
                let shard = shard_of(&e, shards);
                if senders[shard].send(e).await.is_err() {
                    break 'produce;
                }
                sent += 1;
            }
        }
    }
    // Finish the last millisecond, so that what was sent is exactly the simulated stream
    // up to `sim_end_ms` (several events often share a millisecond).
    if opts.rate.is_some() && sent > 0 {
        while queue.front().is_some_and(|e| e.ts_ms == last_sent_ms) {
            let e = queue.pop_front().expect("checked above");
            let shard = shard_of(&e, shards);
            if senders[shard].send(e).await.is_err() {
                break;
            }
            sent += 1;
        }
    }
    drop(senders);

    let mut total = WorkerStats::default();
    for w in workers {
        let s = w.await.context("a sender task panicked")?;
        total.accepted += s.accepted;
        total.rejected += s.rejected;
        for sample in s.samples {
            if total.samples.len() < MAX_SAMPLES {
                total.samples.push(sample);
            }
        }
        total.latencies.extend(s.latencies);
    }
    let elapsed = started.elapsed();
    total.latencies.sort_unstable();
    let pct = |p: usize| {
        let v = &total.latencies;
        if v.is_empty() { Duration::ZERO } else { v[(v.len() * p / 100).min(v.len() - 1)] }
    };
    Ok(DriveReport {
        sent,
        accepted: total.accepted,
        rejected: total.rejected,
        rejections: total.samples,
        elapsed,
        events_per_sec: sent as f64 / elapsed.as_secs_f64().max(1e-9),
        p50_latency: pct(50),
        p99_latency: pct(99),
        workspace_sid: sim.workspace_sid().clone(),
        sim_start_ms: start_ms,
        sim_end_ms: if opts.rate.is_none() { sim.now_ms() } else { last_sent_ms },
    })
}
