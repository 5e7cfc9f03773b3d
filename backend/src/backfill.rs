//! `wallboard backfill`: reads TaskRouter's Events resource (Twilio's, or another
//! Wallboard's) day by day into the local event log, so that switching from polling to the
//! local engine keeps the history.
//!
//! Per workspace and day: `GET /v1/Workspaces/{WS}/Events?StartDate&EndDate&PageSize=1000`,
//! following `meta.next_page_url`. Storing is idempotent on the event SID, so overlapping
//! days and re-runs store nothing twice. Requests go through the mirror's
//! [`UpstreamClient`] (budget, rate-limit signals); 429 and 5xx answers and timeouts are
//! retried with exponential backoff and jitter (honouring `Retry-After`); 401/403 stop at once.

use std::time::Duration;

use anyhow::{Context, bail};
use indicatif::ProgressBar;
use rand::Rng;
use wallboard_shared::Urls;
use wallboard_shared::event::EventPage;
use wallboard_shared::resources::WorkspacePage;
use wallboard_shared::time::format_ms;

use crate::event::Event;
use crate::source::upstream::{UpstreamClient, UpstreamConfig, UpstreamError};
use crate::storage::EventLog;

const DAY_MS: i64 = 86_400_000;
/// Attempts per request before giving up.
const MAX_ATTEMPTS: u32 = 8;
const PAGE_SIZE: u32 = 1000;
/// Requests per second at most (TaskRouter's own limits are of this order).
const REQUESTS_PER_SECOND: u32 = 20;

#[derive(Debug, Clone)]
pub struct BackfillOptions {
    /// e.g. `https://taskrouter.twilio.com` or another Wallboard's public URL.
    pub base_url: String,
    /// Basic user: the account SID (or an API key SID).
    pub user: String,
    /// Basic password: the auth token (or the API key's secret).
    pub password: String,
    /// Workspaces to read; empty: every workspace the account lists.
    pub workspaces: Vec<String>,
    /// Days back from now (at most 30, what TaskRouter keeps).
    pub days: u32,
    pub request_timeout: Duration,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackfillReport {
    pub workspaces: usize,
    pub requests: u64,
    pub retries: u64,
    pub read: u64,
    pub stored: u64,
    pub duplicates: u64,
    /// Events that are not valid TaskRouter events (sid and reason), first 20.
    pub rejected: Vec<(String, String)>,
    pub rejected_count: u64,
}

impl std::fmt::Display for BackfillReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "workspaces: {}  requests: {} ({} retried)  events read: {}  stored: {}  already stored: {}  rejected: {}",
            self.workspaces, self.requests, self.retries, self.read, self.stored, self.duplicates, self.rejected_count
        )?;
        for (sid, why) in &self.rejected {
            writeln!(f, "  rejected {sid}: {why}")?;
        }
        Ok(())
    }
}

struct Client {
    upstream: UpstreamClient,
    report: BackfillReport,
}

impl Client {
    /// GET through the upstream client, retried as the upstream tells (429 `Retry-After`)
    /// or with backoff and jitter (5xx, timeouts, network); refusals stop at once.
    async fn get<T: serde::de::DeserializeOwned>(&mut self, url: &str) -> anyhow::Result<T> {
        let mut delay = Duration::from_millis(500);
        for attempt in 1..=MAX_ATTEMPTS {
            self.report.requests += 1;
            let e = match self.upstream.get(url).await {
                Ok(v) => return Ok(v),
                Err(e @ UpstreamError::Malformed(_)) => {
                    return Err(e).with_context(|| format!("unexpected answer from {url}"));
                }
                Err(e @ (UpstreamError::Unauthorized(_) | UpstreamError::Refused { .. })) => {
                    return Err(e).with_context(|| format!("reading {url}"));
                }
                Err(e) => e,
            };
            tracing::warn!(error = %e, attempt, "request failed; retrying");
            if attempt == MAX_ATTEMPTS {
                break;
            }
            self.report.retries += 1;
            // Jitter on our own backoff; the upstream's Retry-After is honoured as is.
            let wait = e.retry_after().unwrap_or_else(|| delay.mul_f64(rand::rng().random_range(0.5..1.0)));
            tokio::time::sleep(wait.max(Duration::from_millis(50))).await;
            delay = (delay * 2).min(Duration::from_secs(30));
        }
        bail!("{url} kept failing after {MAX_ATTEMPTS} attempts")
    }

    async fn workspaces(&mut self) -> anyhow::Result<Vec<String>> {
        let mut out = Vec::new();
        let mut next = Some(format!("{}?PageSize=100", Urls::relative().workspaces()));
        while let Some(url) = next.take() {
            let page: WorkspacePage = self.get(&url).await?;
            out.extend(page.workspaces.into_iter().map(|w| w.sid.to_string()));
            next = page.meta.next_page_url;
        }
        Ok(out)
    }
}

/// The day windows `[start, end)` covering the last `days` days up to `now_ms`, oldest
/// first, cut at UTC midnights (the first starts a minute inside the retention).
pub fn day_windows(now_ms: i64, days: u32) -> Vec<(i64, i64)> {
    let from = now_ms - i64::from(days) * DAY_MS + 60_000;
    let mut out = Vec::new();
    let mut start = from;
    while start < now_ms {
        let end = ((start.div_euclid(DAY_MS) + 1) * DAY_MS).min(now_ms);
        out.push((start, end));
        start = end;
    }
    out
}

/// Reads the events of the last `opts.days` days into `log`.
pub async fn backfill(
    opts: BackfillOptions,
    log: &mut dyn EventLog,
    now_ms: i64,
    progress: Option<&ProgressBar>,
) -> anyhow::Result<BackfillReport> {
    anyhow::ensure!((1..=30).contains(&opts.days), "--days must be 1 to 30 (TaskRouter keeps 30 days of events)");
    let windows = day_windows(now_ms, opts.days);
    read_windows(&opts, &windows, &mut LogSink(log), progress).await
}

/// Where backfilled events go: the log itself (the command), or the server's writer.
pub trait EventSink: Send {
    /// Stores a page of events; says which were new.
    fn store(&mut self, batch: Vec<Event>) -> impl Future<Output = anyhow::Result<Vec<bool>>> + Send;
}

/// The event log, written directly (`wallboard backfill`).
struct LogSink<'a>(&'a mut dyn EventLog);

impl EventSink for LogSink<'_> {
    async fn store(&mut self, batch: Vec<Event>) -> anyhow::Result<Vec<bool>> {
        blocking(|| self.0.append(&batch)).context("cannot store the events")
    }
}

/// The server's writer: stored, applied and announced to the other nodes.
impl EventSink for crate::ingest::Ingest {
    async fn store(&mut self, batch: Vec<Event>) -> anyhow::Result<Vec<bool>> {
        self.submit(batch).await.context("cannot store the backfilled events")
    }
}

/// Reads the events of `[from_ms, to_ms)` (a gap, cut at UTC midnights) and hands each
/// page to `store`, which says which events were new.
pub async fn backfill_range(
    opts: &BackfillOptions,
    from_ms: i64,
    to_ms: i64,
    store: &mut impl EventSink,
) -> anyhow::Result<BackfillReport> {
    let mut windows = Vec::new();
    let mut start = from_ms;
    while start < to_ms {
        let end = ((start.div_euclid(DAY_MS) + 1) * DAY_MS).min(to_ms);
        windows.push((start, end));
        start = end;
    }
    read_windows(opts, &windows, store, None).await
}

/// Reads each workspace's events in each window, page by page, into `store`.
async fn read_windows(
    opts: &BackfillOptions,
    windows: &[(i64, i64)],
    store: &mut impl EventSink,
    progress: Option<&ProgressBar>,
) -> anyhow::Result<BackfillReport> {
    let upstream = UpstreamClient::new(UpstreamConfig {
        base_url: opts.base_url.clone(),
        user: opts.user.clone(),
        password: opts.password.clone(),
        requests_per_second: REQUESTS_PER_SECOND,
        timeout: opts.request_timeout,
    })?;
    let mut client = Client { upstream, report: BackfillReport::default() };
    let workspaces = if opts.workspaces.is_empty() { client.workspaces().await? } else { opts.workspaces.clone() };
    client.report.workspaces = workspaces.len();
    if let Some(bar) = progress {
        bar.set_length((windows.len() * workspaces.len()) as u64);
    }
    for ws in &workspaces {
        for &(start, end) in windows {
            let query = serde_urlencoded::to_string([
                ("StartDate", format_ms(start)),
                // Whole seconds on the wire: round the end up so the last moments are in.
                ("EndDate", format_ms(end + 999)),
                ("PageSize", PAGE_SIZE.to_string()),
            ])?;
            let mut next = Some(format!("{}?{query}", Urls::relative().events(ws)));
            while let Some(url) = next.take() {
                let page: EventPage = client.get(&url).await?;
                next = page.meta.next_page_url;
                let mut batch = Vec::with_capacity(page.events.len());
                for resource in page.events {
                    client.report.read += 1;
                    let sid = resource.sid.clone().unwrap_or_default();
                    match Event::from_resource(resource) {
                        Ok(e) => batch.push(e),
                        Err(e) => {
                            client.report.rejected_count += 1;
                            if client.report.rejected.len() < 20 {
                                client.report.rejected.push((sid, e.0));
                            }
                        }
                    }
                }
                let stored = if batch.is_empty() { Vec::new() } else { store.store(batch).await? };
                let new = stored.iter().filter(|s| **s).count() as u64;
                client.report.stored += new;
                client.report.duplicates += stored.len() as u64 - new;
                if let Some(bar) = progress {
                    bar.set_message(format!("{ws} {} · {} events", format_ms(start), client.report.read));
                }
            }
            if let Some(bar) = progress {
                bar.inc(1);
            }
        }
    }
    Ok(client.report)
}

/// Runs a blocking storage call from async code: outside the runtime's context on a
/// multi-threaded runtime (PostgreSQL's synchronous client starts its own), as is
/// on a current-thread one (tests, on SQLite).
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_windows_cover_the_range_at_midnights() {
        let now = 1_795_766_400_000 + 10 * 3_600_000; // 10:00 UTC
        let w = day_windows(now, 2);
        assert_eq!(w.len(), 3);
        assert_eq!(w[0].0, now - 2 * DAY_MS + 60_000);
        for pair in w.windows(2) {
            assert_eq!(pair[0].1, pair[1].0, "contiguous");
            assert_eq!(pair[0].1 % DAY_MS, 0, "cut at midnight");
        }
        assert_eq!(w[2].1, now);
    }
}
