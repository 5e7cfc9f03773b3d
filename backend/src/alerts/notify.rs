//! Delivery of alert notifications to webhooks.
//!
//! A [`Notice`] (a rule fired or cleared) goes to each of the workspace's webhooks as one
//! **delivery**: a POST of [`body`] in the webhook's [`WebhookFormat`], signed with the
//! webhook's secret ([`signature`]; receivers check it with [`verify`]), retried with
//! exponential backoff ([`RetryPolicy`]) and, when given up on, recorded as a
//! [`DeadLetter`] through [`DeadLetters`].
//!
//! [`Notifier::send`] never blocks: it takes a slot of a bounded queue (a notice that finds
//! the queue full is dead-lettered at once) and hands the delivery to a background task.
//! Each delivery runs on its own task, so one slow receiver never delays the others; at
//! most [`MAX_CONCURRENT`] HTTP requests are in flight at once (a delivery waiting out its
//! backoff holds no request slot).
//!
//! Headers of every request:
//!
//! - `X-Wallboard-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`
//!   (Stripe's scheme: the timestamp is signed, so a receiver can refuse replays);
//! - `X-Wallboard-Event: alert.fired` or `alert.cleared`;
//! - `X-Wallboard-Delivery: <32 hex digits>`, the same for every attempt of one delivery
//!   (a receiver that got an attempt whose answer was lost can drop the repeat);
//! - `Content-Type: application/json`, `User-Agent: wallboard/<version>`.
//!
//! Webhook URLs of Slack and Teams carry their credentials in the path and the query:
//! nothing here logs or records more of a URL than its host.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use reqwest::{StatusCode, Url};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use wallboard_shared::alerts::{Alert, DeadLetter, Level, Notice, NoticeKind, WebhookFormat, number};
use wallboard_shared::sid::WorkspaceSid;
use wallboard_shared::time::to_datetime;

use crate::clock::Clock;

/// Deliveries accepted and not finished (queued, in flight or waiting to retry) at most;
/// [`Notifier::send`] dead-letters what finds them all taken ("queue full").
pub const QUEUE_CAPACITY: usize = 4096;
/// HTTP requests in flight at most, over all webhooks.
pub const MAX_CONCURRENT: usize = 32;
/// The time allowed to open a connection to a receiver.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

const SIGNATURE_HEADER: &str = "X-Wallboard-Signature";
const EVENT_HEADER: &str = "X-Wallboard-Event";
const DELIVERY_HEADER: &str = "X-Wallboard-Delivery";
const USER_AGENT: &str = concat!("wallboard/", env!("CARGO_PKG_VERSION"));

/// One webhook as configured (stored by the API elsewhere).
///
/// `Debug` shows the URL's host only and hides the secret: the path and query of Slack and
/// Teams webhook URLs are credentials.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WebhookConfig {
    pub sid: String,
    pub url: String,
    pub format: WebhookFormat,
    pub secret: String,
}

impl fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("sid", &self.sid)
            .field("host", &host_of_raw(&self.url))
            .field("format", &self.format)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// How a delivery is retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (0 counts as 1).
    pub attempts: u32,
    /// The wait after the first failed attempt; doubled after each further one.
    pub first_backoff: Duration,
    /// The longest wait between attempts (a receiver's `Retry-After` included).
    pub max_backoff: Duration,
    /// The time one attempt may take, connection and answer included.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    /// 6 attempts, 1 s doubling (1, 2, 4, 8, 16 s), capped at 60 s, 10 s per attempt.
    fn default() -> Self {
        Self {
            attempts: 6,
            first_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
            timeout: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// The wait after failed attempt `n` (1-based): `first_backoff · 2ⁿ⁻¹`, capped.
    pub fn backoff(&self, n: u32) -> Duration {
        let factor = 1u32.checked_shl(n.saturating_sub(1)).unwrap_or(u32::MAX);
        self.first_backoff.saturating_mul(factor).min(self.max_backoff)
    }
}

/// Where given-up notices go (the evaluator stores them durably; tests collect them), and
/// what becomes of a delivery kept in an outbox ([`Notifier::send_kept`]).
pub trait DeadLetters: Send + Sync + fmt::Debug {
    fn record(&self, workspace: &WorkspaceSid, letter: DeadLetter);

    /// The delivery kept under `outbox` is over (delivered, or dead-lettered): its entry
    /// can go. Not called when it stops for a shutdown: the entry stays for the next
    /// evaluator to send.
    fn settled(&self, _outbox: &str) {}
}

// ---------------------------------------------------------------------------------------
// Bodies
// ---------------------------------------------------------------------------------------

/// The body sent for a format.
///
/// - `Json`: the [`Notice`] itself.
/// - `Slack`: `{"text": headline, "blocks": [section]}`, the section in mrkdwn: the status
///   word, the level, the rule and its condition, the value, the target, the times in UTC
///   and a link to the alert.
/// - `Teams`: a message with one Adaptive Card 1.4 attachment (what a Teams Workflows
///   "incoming webhook" accepts): a title coloured by level and status, a FactSet (rule,
///   condition, value, target, fired, cleared) and an "Open" action.
///
/// Fired and cleared notices differ in words (`FIRING`, `CLEARED`), never in colour alone.
pub fn body(format: WebhookFormat, notice: &Notice) -> Value {
    match format {
        WebhookFormat::Json => serde_json::to_value(notice).unwrap_or(Value::Null),
        WebhookFormat::Slack => slack(notice),
        WebhookFormat::Teams => teams(notice),
    }
}

fn status_word(kind: NoticeKind) -> &'static str {
    match kind {
        NoticeKind::Fired => "FIRING",
        NoticeKind::Cleared => "CLEARED",
    }
}

fn event_name(kind: NoticeKind) -> &'static str {
    match kind {
        NoticeKind::Fired => "alert.fired",
        NoticeKind::Cleared => "alert.cleared",
    }
}

fn level_word(level: Level) -> &'static str {
    match level {
        Level::Warning => "Warning",
        Level::Critical => "Critical",
    }
}

fn value_text(alert: &Alert) -> String {
    alert.value.map_or_else(|| "no value".to_owned(), |v| format!("{}{}", number(v), alert.measure.unit()))
}

fn target_text(alert: &Alert) -> String {
    match &alert.task_channel {
        Some(channel) => format!("{} (channel {channel})", alert.target.as_str()),
        None => alert.target.as_str().to_owned(),
    }
}

fn utc(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// Slack's control characters in text: `&`, `<` and `>` (a condition's `>` included).
fn slack_escape(raw: &str) -> String {
    raw.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn slack(notice: &Notice) -> Value {
    let a = &notice.alert;
    let word = status_word(notice.kind);
    let level = level_word(a.level);
    let name = slack_escape(&a.rule_name);
    let condition = slack_escape(&a.description);
    let text = format!("{word}: {level} — {name}: {condition}");
    let mut lines = vec![
        format!("*{word}:* *{level}* — {name}: {condition}"),
        format!("*Value:* {}", slack_escape(&value_text(a))),
        format!("*Target:* {}", slack_escape(&target_text(a))),
        format!("*Fired:* {}", utc(&a.date_fired)),
    ];
    if let Some(cleared) = &a.date_cleared {
        lines.push(format!("*Cleared:* {}", utc(cleared)));
    }
    lines.push(format!("<{}|Open the alert>", slack_escape(&notice.url).replace('|', "%7C")));
    json!({
        "text": text,
        "blocks": [
            { "type": "section", "text": { "type": "mrkdwn", "text": lines.join("\n") } }
        ]
    })
}

fn teams(notice: &Notice) -> Value {
    let a = &notice.alert;
    let color = match (notice.kind, a.level) {
        (NoticeKind::Cleared, _) => "good",
        (NoticeKind::Fired, Level::Critical) => "attention",
        (NoticeKind::Fired, Level::Warning) => "warning",
    };
    let title = format!("{}: {} — {}", status_word(notice.kind), level_word(a.level), a.rule_name);
    let cleared = a.date_cleared.as_ref().map_or_else(|| "not yet".to_owned(), utc);
    let fact = |title: &str, value: String| json!({ "title": title, "value": value });
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": [
                    {
                        "type": "TextBlock",
                        "text": title,
                        "weight": "Bolder",
                        "size": "Medium",
                        "wrap": true,
                        "color": color
                    },
                    {
                        "type": "FactSet",
                        "facts": [
                            fact("Rule", a.rule_name.clone()),
                            fact("Condition", a.description.clone()),
                            fact("Value", value_text(a)),
                            fact("Target", target_text(a)),
                            fact("Fired", utc(&a.date_fired)),
                            fact("Cleared", cleared),
                        ]
                    }
                ],
                "actions": [{ "type": "Action.OpenUrl", "title": "Open", "url": notice.url }]
            }
        }]
    })
}

// ---------------------------------------------------------------------------------------
// Signatures
// ---------------------------------------------------------------------------------------

type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA256 keyed by `key` over the concatenation of `parts` (`None` never happens:
/// HMAC takes keys of any length).
fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Option<HmacSha256> {
    let mut mac = HmacSha256::new_from_slice(key).ok()?;
    for part in parts {
        mac.update(part);
    }
    Some(mac)
}

fn hex(bytes: &[u8]) -> String {
    use fmt::Write as _;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn unhex(raw: &str) -> Option<Vec<u8>> {
    let digit = |b: u8| char::from(b).to_digit(16).and_then(|d| u8::try_from(d).ok());
    raw.as_bytes()
        .chunks(2)
        .map(|pair| match pair {
            [high, low] => Some(digit(*high)? << 4 | digit(*low)?),
            _ => None,
        })
        .collect()
}

fn signed_mac(secret: &str, unix_s: i64, body: &[u8]) -> Option<HmacSha256> {
    hmac_sha256(secret.as_bytes(), &[unix_s.to_string().as_bytes(), b".", body])
}

/// The `X-Wallboard-Signature` value: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
/// "<t>.<body bytes>")>`.
pub fn signature(secret: &str, unix_s: i64, body: &[u8]) -> String {
    let v1 = signed_mac(secret, unix_s, body).map(|m| hex(&m.finalize().into_bytes())).unwrap_or_default();
    format!("t={unix_s},v1={v1}")
}

/// A receiver's check of `X-Wallboard-Signature`: the header's timestamp within
/// `tolerance_s` seconds of `now_unix_s` (either way) and one of its `v1` signatures that
/// of `"<t>.<body>"` under `secret`, compared in constant time. Unknown keys are ignored
/// (room for other schemes).
///
/// A receiver in another language does the same: split the header on `,` then `=`,
/// refuse a `t` too far from now, compute HMAC-SHA256 of `t`, `.` and the raw body bytes
/// with the secret, hex-encode it and compare it with `v1` in constant time.
pub fn verify(secret: &str, header: &str, body: &[u8], now_unix_s: i64, tolerance_s: i64) -> bool {
    let mut t = None;
    let mut candidates = Vec::new();
    for item in header.split(',') {
        match item.trim().split_once('=') {
            Some(("t", v)) => t = v.trim().parse::<i64>().ok(),
            Some(("v1", v)) => candidates.extend(unhex(v.trim())),
            _ => {}
        }
    }
    let Some(t) = t else {
        return false;
    };
    if now_unix_s.abs_diff(t) > tolerance_s.max(0).unsigned_abs() {
        return false;
    }
    let Some(mac) = signed_mac(secret, t, body) else {
        return false;
    };
    candidates.iter().any(|c| mac.clone().verify_slice(c).is_ok())
}

// ---------------------------------------------------------------------------------------
// URLs and errors, without secrets
// ---------------------------------------------------------------------------------------

/// `host` or `host:port` of a URL: all of it that may be logged.
fn host_of(url: &Url) -> String {
    let host = url.host_str().unwrap_or("?");
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

fn host_of_raw(raw: &str) -> String {
    Url::parse(raw).map_or_else(|_| "<invalid URL>".to_owned(), |u| host_of(&u))
}

/// A transport error's text: its chain of causes, without the URL (nor its path or query,
/// should a cause quote them).
fn transport_text(e: reqwest::Error, url: &Url) -> String {
    let e = e.without_url();
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        let text = cause.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        source = cause.source();
    }
    let mut text = parts.join(": ");
    let mut secrets = vec![url.as_str().to_owned()];
    if url.path().len() > 1 {
        secrets.push(url.path().to_owned());
    }
    if let Some(query) = url.query().filter(|q| !q.is_empty()) {
        secrets.push(query.to_owned());
    }
    for secret in secrets {
        text = text.replace(&secret, "<redacted>");
    }
    text
}

// ---------------------------------------------------------------------------------------
// The notifier
// ---------------------------------------------------------------------------------------

/// One (webhook, notice) to deliver, with the queue slot it holds until finished.
#[derive(Debug)]
struct Job {
    workspace: WorkspaceSid,
    webhook: WebhookConfig,
    notice: Notice,
    /// The key of its durable outbox entry, if it has one.
    outbox: Option<String>,
    _slot: OwnedSemaphorePermit,
}

/// The shutdown's reason of giving up.
const SHUTDOWN: &str = "shutdown";

/// What the deliveries share.
#[derive(Debug)]
struct Shared {
    policy: RetryPolicy,
    clock: Arc<dyn Clock>,
    dead: Arc<dyn DeadLetters>,
    /// The HTTP client, or why none could be built (every delivery is then dead-lettered).
    http: Result<reqwest::Client, String>,
    requests: Arc<Semaphore>,
}

impl Shared {
    /// Ends a delivery that was not delivered: a dead letter, and its outbox entry goes;
    /// but one kept in an outbox and stopped by the shutdown stays there, to be sent by the
    /// evaluator that comes next (here after a restart, or on another node).
    fn give_up(
        &self,
        workspace: &WorkspaceSid,
        webhook: &WebhookConfig,
        notice: &Notice,
        outbox: Option<&str>,
        attempts: u32,
        error: &str,
    ) {
        if let (Some(_), SHUTDOWN) = (outbox, error) {
            tracing::info!(
                workspace = %workspace,
                webhook = %webhook.sid,
                alert = %notice.alert.sid,
                event = event_name(notice.kind),
                "alert notification left in the outbox for the next evaluator"
            );
            return;
        }
        tracing::error!(
            workspace = %workspace,
            webhook = %webhook.sid,
            host = %host_of_raw(&webhook.url),
            alert = %notice.alert.sid,
            event = event_name(notice.kind),
            attempts,
            error,
            "alert notification dead-lettered"
        );
        let letter = DeadLetter {
            webhook_sid: webhook.sid.clone(),
            alert_sid: notice.alert.sid.clone(),
            kind: notice.kind,
            attempts,
            last_error: error.to_owned(),
            date_created: to_datetime(self.clock.now_ms()),
        };
        self.dead.record(workspace, letter);
        if let Some(key) = outbox {
            self.dead.settled(key);
        }
    }
}

/// Knobs the tests turn; production uses [`Limits::default`].
#[derive(Debug, Clone, Copy)]
struct Limits {
    queue: usize,
    concurrent: usize,
    /// Whether `HTTP(S)_PROXY` from the environment applies (not in tests: they talk to
    /// 127.0.0.1 whatever the machine's proxy).
    system_proxy: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Self { queue: QUEUE_CAPACITY, concurrent: MAX_CONCURRENT, system_proxy: true }
    }
}

/// Delivers notices to webhooks in the background; cheap to clone (clones share the
/// queue).
#[derive(Debug, Clone)]
pub struct Notifier {
    queue: mpsc::UnboundedSender<Job>,
    slots: Arc<Semaphore>,
    shared: Arc<Shared>,
    stop: CancellationToken,
}

/// The outcome of one failed attempt.
enum Failure {
    /// Worth another attempt, after the receiver's `Retry-After` if it gave one.
    Retry { error: String, retry_after: Option<Duration> },
    /// The receiver refuses it (a 4xx, a redirect): no further attempt.
    Final(String),
}

impl Notifier {
    /// Starts the dispatcher on `tracker`. Deliveries run on `tracker` too, so waiting for
    /// it after cancelling `stop` waits until every pending delivery is delivered or
    /// dead-lettered (SHUTDOWN).
    pub fn spawn(
        policy: RetryPolicy,
        clock: Arc<dyn Clock>,
        dead: Arc<dyn DeadLetters>,
        tracker: &TaskTracker,
        stop: CancellationToken,
    ) -> Self {
        Self::spawn_with(policy, clock, dead, tracker, stop, Limits::default())
    }

    fn spawn_with(
        policy: RetryPolicy,
        clock: Arc<dyn Clock>,
        dead: Arc<dyn DeadLetters>,
        tracker: &TaskTracker,
        stop: CancellationToken,
        limits: Limits,
    ) -> Self {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT.min(policy.timeout))
            .user_agent(USER_AGENT);
        if !limits.system_proxy {
            builder = builder.no_proxy();
        }
        let http = builder.build().map_err(|e| {
            let text = format!("no HTTP client: {}", e.without_url());
            tracing::error!(error = %text, "alert notifications cannot be sent");
            text
        });
        let shared = Arc::new(Shared {
            policy,
            clock,
            dead,
            http,
            requests: Arc::new(Semaphore::new(limits.concurrent.max(1))),
        });
        let (queue, rx) = mpsc::unbounded_channel();
        tracker.spawn(dispatch(rx, shared.clone(), tracker.clone(), stop.clone()));
        Self { queue, slots: Arc::new(Semaphore::new(limits.queue.max(1))), shared, stop }
    }

    /// Queues the delivery of `notice` to `webhook`; never blocks. When the queue is full
    /// or the notifier stopped, the notice is dead-lettered at once ("queue full",
    /// SHUTDOWN).
    pub fn send(&self, workspace: &WorkspaceSid, webhook: WebhookConfig, notice: Notice) {
        self.queue_job(workspace, webhook, notice, None);
    }

    /// [`Notifier::send`] for a delivery kept durably under `outbox` (a key of the
    /// documents): [`DeadLetters::settled`] tells when it is over; a shutdown leaves it
    /// there. Every attempt, here or after a restart, carries the same
    /// `X-Wallboard-Delivery` (derived from the key), so a receiver can drop a repeat.
    pub fn send_kept(&self, workspace: &WorkspaceSid, webhook: WebhookConfig, notice: Notice, outbox: String) {
        self.queue_job(workspace, webhook, notice, Some(outbox));
    }

    fn queue_job(&self, workspace: &WorkspaceSid, webhook: WebhookConfig, notice: Notice, outbox: Option<String>) {
        if self.stop.is_cancelled() {
            self.shared.give_up(workspace, &webhook, &notice, outbox.as_deref(), 0, SHUTDOWN);
            return;
        }
        let Ok(slot) = self.slots.clone().try_acquire_owned() else {
            self.shared.give_up(workspace, &webhook, &notice, outbox.as_deref(), 0, "queue full");
            return;
        };
        let job = Job { workspace: workspace.clone(), webhook, notice, outbox, _slot: slot };
        if let Err(mpsc::error::SendError(job)) = self.queue.send(job) {
            self.shared.give_up(&job.workspace, &job.webhook, &job.notice, job.outbox.as_deref(), 0, SHUTDOWN);
        }
    }
}

/// Hands each queued delivery to its own task until `stop`; then dead-letters what is
/// still queued.
async fn dispatch(
    mut rx: mpsc::UnboundedReceiver<Job>,
    shared: Arc<Shared>,
    tracker: TaskTracker,
    stop: CancellationToken,
) {
    loop {
        tokio::select! {
            biased;
            () = stop.cancelled() => break,
            job = rx.recv() => match job {
                Some(job) => {
                    tracker.spawn(deliver(shared.clone(), job, stop.clone()));
                }
                // Every Notifier is gone: nothing more can come.
                None => return,
            },
        }
    }
    rx.close();
    while let Some(job) = rx.recv().await {
        shared.give_up(&job.workspace, &job.webhook, &job.notice, job.outbox.as_deref(), 0, SHUTDOWN);
    }
}

/// One delivery: attempts with backoff until delivered, refused, out of attempts or
/// stopped.
async fn deliver(shared: Arc<Shared>, job: Job, stop: CancellationToken) {
    let Job { workspace, webhook, notice, outbox, _slot } = job;
    let give_up =
        |attempts: u32, error: &str| shared.give_up(&workspace, &webhook, &notice, outbox.as_deref(), attempts, error);
    let http = match &shared.http {
        Ok(http) => http,
        Err(e) => return give_up(0, e),
    };
    let url = match Url::parse(&webhook.url) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => url,
        _ => return give_up(0, "invalid webhook URL"),
    };
    let host = host_of(&url);
    let body = serde_json::to_vec(&body(webhook.format, &notice)).unwrap_or_default();
    let delivery = match &outbox {
        Some(key) => delivery_id(key),
        None => format!("{:032x}", rand::random::<u128>()),
    };
    let policy = shared.policy;
    let attempts = policy.attempts.max(1);
    let mut last_error = String::new();
    for n in 1..=attempts {
        let permit = tokio::select! {
            biased;
            () = stop.cancelled() => return give_up(n - 1, SHUTDOWN),
            permit = shared.requests.clone().acquire_owned() => permit,
        };
        let Ok(permit) = permit else {
            return give_up(n - 1, SHUTDOWN);
        };
        let request = Request { http, url: &url, body: &body, delivery: &delivery, webhook: &webhook, notice: &notice };
        let outcome = tokio::select! {
            biased;
            () = stop.cancelled() => return give_up(n, SHUTDOWN),
            outcome = request.send(&shared) => outcome,
        };
        drop(permit);
        let (error, retry_after) = match outcome {
            Ok(status) => {
                if n > 1 {
                    tracing::info!(webhook = %webhook.sid, %host, alert = %notice.alert.sid, attempt = n, %status,
                        "alert notification delivered after retries");
                } else {
                    tracing::debug!(webhook = %webhook.sid, %host, alert = %notice.alert.sid, %status,
                        "alert notification delivered");
                }
                if let Some(key) = &outbox {
                    shared.dead.settled(key);
                }
                return;
            }
            Err(Failure::Final(error)) => {
                tracing::warn!(webhook = %webhook.sid, %host, alert = %notice.alert.sid, attempt = n, %error,
                    "alert notification refused");
                return give_up(n, &error);
            }
            Err(Failure::Retry { error, retry_after }) => (error, retry_after),
        };
        tracing::warn!(webhook = %webhook.sid, %host, alert = %notice.alert.sid, attempt = n, of = attempts, %error,
            "alert notification attempt failed");
        last_error = error;
        if n == attempts {
            break;
        }
        let wait = retry_after.map_or_else(|| policy.backoff(n), |d| d.min(policy.max_backoff));
        tokio::select! {
            biased;
            () = stop.cancelled() => return give_up(n, SHUTDOWN),
            () = tokio::time::sleep(wait) => {}
        }
    }
    give_up(attempts, &last_error);
}

/// The delivery id of an outbox entry: the first 128 bits of SHA-256 of its key, in hex.
fn delivery_id(key: &str) -> String {
    use sha2::Digest;
    Sha256::digest(key.as_bytes()).iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// One attempt's request.
struct Request<'a> {
    http: &'a reqwest::Client,
    url: &'a Url,
    body: &'a [u8],
    delivery: &'a str,
    webhook: &'a WebhookConfig,
    notice: &'a Notice,
}

impl Request<'_> {
    async fn send(&self, shared: &Shared) -> Result<StatusCode, Failure> {
        let timeout = shared.policy.timeout;
        // Signed at each attempt: the timestamp is the attempt's, so a late retry still
        // passes a receiver's replay window.
        let t = shared.clock.now_ms().div_euclid(1000);
        let sent = self
            .http
            .post(self.url.clone())
            .timeout(timeout)
            .header(CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature(&self.webhook.secret, t, self.body))
            .header(EVENT_HEADER, event_name(self.notice.kind))
            .header(DELIVERY_HEADER, self.delivery)
            .body(self.body.to_vec())
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(e) if e.is_timeout() && e.is_connect() => {
                let limit = CONNECT_TIMEOUT.min(timeout);
                return Err(Failure::Retry {
                    error: format!("connect timeout after {}", humantime::format_duration(limit)),
                    retry_after: None,
                });
            }
            Err(e) if e.is_timeout() => {
                return Err(Failure::Retry {
                    error: format!("timeout after {}", humantime::format_duration(timeout)),
                    retry_after: None,
                });
            }
            Err(e) => return Err(Failure::Retry { error: transport_text(e, self.url), retry_after: None }),
        };
        let status = response.status();
        if status.is_success() {
            return Ok(status);
        }
        let error = format!("HTTP {}", status.as_u16());
        match status {
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
                let retry_after = response
                    .headers()
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                Err(Failure::Retry { error, retry_after })
            }
            StatusCode::REQUEST_TIMEOUT => Err(Failure::Retry { error, retry_after: None }),
            s if s.is_server_error() => Err(Failure::Retry { error, retry_after: None }),
            s if s.is_redirection() => Err(Failure::Final(format!("{error} (redirects are not followed)"))),
            _ => Err(Failure::Final(error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use axum::extract::State;
    use axum::http::{HeaderMap, HeaderValue};
    use axum::response::{IntoResponse, Response};
    use std::collections::VecDeque;
    use std::sync::Mutex;
    use std::time::Instant;
    use tokio::time::timeout;
    use wallboard_shared::AccountSid;
    use wallboard_shared::alerts::{AlertStatus, Comparison, Condition, Measure, RuleTarget};

    const NOW_MS: i64 = 1_800_000_000_000;
    const SECRET: &str = "whsec_test";
    /// The longest any single wait of a test may take before it counts as failed.
    const WAIT: Duration = Duration::from_secs(5);

    // --- fixtures -----------------------------------------------------------------------

    fn alert(level: Level, cleared: bool) -> Alert {
        let fired = to_datetime(NOW_MS - 600_000);
        Alert {
            sid: "AL0123456789abcdef0123456789abcdef".into(),
            rule_sid: "AR0123456789abcdef0123456789abcdef".into(),
            rule_name: "Sales".into(),
            target: RuleTarget::TaskQueue("WQ0123456789abcdef0123456789abcdef".into()),
            task_channel: Some("voice".into()),
            measure: Measure::LongestWait,
            level,
            description: Condition {
                measure: Measure::LongestWait,
                comparison: Comparison::Above,
                threshold: 60.0,
                for_s: 30,
                clear_threshold: 60.0,
                clear_for: 30,
            }
            .describe(),
            status: if cleared { AlertStatus::Cleared } else { AlertStatus::Firing },
            value: Some(75.0),
            date_fired: fired,
            date_cleared: cleared.then(|| to_datetime(NOW_MS)),
            date_acknowledged: None,
            acknowledged_by: None,
        }
    }

    fn notice(level: Level, kind: NoticeKind) -> Notice {
        Notice {
            kind,
            account_sid: AccountSid::from_u128(1),
            workspace_sid: WorkspaceSid::from_u128(2),
            alert: alert(level, kind == NoticeKind::Cleared),
            url: "https://wallboard.example/v1/Workspaces/WS2/Alerts/AL0123456789abcdef0123456789abcdef".into(),
        }
    }

    fn workspace() -> WorkspaceSid {
        WorkspaceSid::from_u128(2)
    }

    fn hook(sid: &str, url: &str, format: WebhookFormat) -> WebhookConfig {
        WebhookConfig { sid: sid.into(), url: url.into(), format, secret: SECRET.into() }
    }

    /// Collects dead letters, and lets tests wait for them.
    #[derive(Debug)]
    struct Collect(mpsc::UnboundedSender<(WorkspaceSid, DeadLetter)>, Arc<Mutex<Vec<String>>>);

    impl DeadLetters for Collect {
        fn record(&self, workspace: &WorkspaceSid, letter: DeadLetter) {
            let _ = self.0.send((workspace.clone(), letter));
        }

        fn settled(&self, outbox: &str) {
            self.1.lock().expect("settled").push(outbox.to_owned());
        }
    }

    struct Harness {
        notifier: Notifier,
        dead: mpsc::UnboundedReceiver<(WorkspaceSid, DeadLetter)>,
        /// The outbox keys settled, in order.
        settled: Arc<Mutex<Vec<String>>>,
        tracker: TaskTracker,
        stop: CancellationToken,
    }

    impl Harness {
        fn new(policy: RetryPolicy) -> Self {
            Self::with_limits(policy, Limits { system_proxy: false, ..Limits::default() })
        }

        fn with_limits(policy: RetryPolicy, limits: Limits) -> Self {
            let (tx, dead) = mpsc::unbounded_channel();
            let tracker = TaskTracker::new();
            let stop = CancellationToken::new();
            let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(NOW_MS));
            let settled = Arc::new(Mutex::new(Vec::new()));
            let dead_letters = Arc::new(Collect(tx, settled.clone()));
            let notifier = Notifier::spawn_with(policy, clock, dead_letters, &tracker, stop.clone(), limits);
            Self { notifier, dead, settled, tracker, stop }
        }

        fn send(&self, webhook: WebhookConfig) {
            self.notifier.send(&workspace(), webhook, notice(Level::Critical, NoticeKind::Fired));
        }

        async fn dead_letter(&mut self) -> DeadLetter {
            let (ws, letter) = timeout(WAIT, self.dead.recv()).await.expect("a dead letter in time").expect("open");
            assert_eq!(ws, workspace());
            letter
        }

        /// Waits until `n` deliveries are unfinished.
        async fn outstanding(&self, n: usize) {
            let slots = &self.notifier.slots;
            let settled = async {
                while QUEUE_CAPACITY - slots.available_permits() != n {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            };
            timeout(WAIT, settled).await.expect("deliveries settle");
        }

        /// Lets every delivery finish (without stopping them) and returns the dead letters.
        async fn finish(mut self) -> Vec<DeadLetter> {
            drop(self.notifier);
            self.tracker.close();
            timeout(WAIT, self.tracker.wait()).await.expect("deliveries finish");
            let mut letters = Vec::new();
            while let Ok((_, letter)) = self.dead.try_recv() {
                letters.push(letter);
            }
            letters
        }
    }

    fn fast(attempts: u32) -> RetryPolicy {
        RetryPolicy {
            attempts,
            first_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(200),
            timeout: Duration::from_secs(2),
        }
    }

    // --- the receiver -------------------------------------------------------------------

    #[derive(Debug, Clone, Copy)]
    enum Reply {
        Status(u16),
        /// 429 with `Retry-After: <s>`.
        TooMany(u64),
        /// A redirect elsewhere.
        Redirect,
        /// Never answers.
        Hang,
    }

    #[derive(Debug)]
    struct Got {
        at: Instant,
        path: String,
        headers: HeaderMap,
        body: Vec<u8>,
    }

    #[derive(Clone)]
    struct Script {
        replies: Arc<Mutex<VecDeque<Reply>>>,
        got: mpsc::UnboundedSender<Got>,
    }

    async fn answer(
        State(s): State<Script>,
        uri: axum::http::Uri,
        headers: HeaderMap,
        body: axum::body::Bytes,
    ) -> Response {
        let _ = s.got.send(Got { at: Instant::now(), path: uri.path().to_owned(), headers, body: body.to_vec() });
        let reply = s.replies.lock().expect("script").pop_front().unwrap_or(Reply::Status(204));
        let code = |c: u16| axum::http::StatusCode::from_u16(c).expect("status");
        match reply {
            Reply::Status(c) => code(c).into_response(),
            Reply::TooMany(secs) => {
                let mut r = code(429).into_response();
                r.headers_mut().insert(RETRY_AFTER, HeaderValue::from(secs));
                r
            }
            Reply::Redirect => (code(302), [(axum::http::header::LOCATION, "/elsewhere")]).into_response(),
            Reply::Hang => std::future::pending::<Response>().await,
        }
    }

    /// A receiver on 127.0.0.1 answering from `script` (204 once it runs out); returns its
    /// base URL and the requests it got, as they come.
    async fn receiver(script: &[Reply]) -> (String, mpsc::UnboundedReceiver<Got>) {
        let (got, rx) = mpsc::unbounded_channel();
        let state = Script { replies: Arc::new(Mutex::new(script.iter().copied().collect())), got };
        let app = axum::Router::new().fallback(answer).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (format!("http://{addr}"), rx)
    }

    async fn next(rx: &mut mpsc::UnboundedReceiver<Got>) -> Got {
        timeout(WAIT, rx.recv()).await.expect("a request in time").expect("receiver running")
    }

    fn header<'a>(got: &'a Got, name: &str) -> &'a str {
        got.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    // --- bodies -------------------------------------------------------------------------

    #[test]
    fn json_body_is_the_notice() {
        for kind in [NoticeKind::Fired, NoticeKind::Cleared] {
            let n = notice(Level::Warning, kind);
            let v = body(WebhookFormat::Json, &n);
            assert_eq!(v["type"], event_name(kind));
            assert_eq!(v["alert"]["rule_name"], "Sales");
            assert_eq!(serde_json::from_value::<Notice>(v).expect("a notice"), n);
        }
    }

    #[test]
    fn slack_body_reads_fired_and_cleared() {
        let fired = body(WebhookFormat::Slack, &notice(Level::Critical, NoticeKind::Fired));
        assert_eq!(fired["text"], "FIRING: Critical — Sales: longest wait &gt; 60 s for 30 s");
        assert_eq!(fired["blocks"][0]["type"], "section");
        assert_eq!(fired["blocks"][0]["text"]["type"], "mrkdwn");
        let text = fired["blocks"][0]["text"]["text"].as_str().expect("text");
        assert!(text.starts_with("*FIRING:* *Critical* — Sales: longest wait &gt; 60 s for 30 s\n"), "{text}");
        assert!(text.contains("*Value:* 75 s"), "{text}");
        assert!(text.contains("*Target:* WQ0123456789abcdef0123456789abcdef (channel voice)"), "{text}");
        assert!(text.contains("*Fired:* 2027-01-15 07:50:00 UTC"), "{text}");
        assert!(!text.contains("Cleared"), "{text}");
        assert!(
            text.ends_with(
                "<https://wallboard.example/v1/Workspaces/WS2/Alerts/AL0123456789abcdef0123456789abcdef|Open the alert>"
            ),
            "{text}"
        );

        let cleared = body(WebhookFormat::Slack, &notice(Level::Warning, NoticeKind::Cleared));
        assert_eq!(cleared["text"], "CLEARED: Warning — Sales: longest wait &gt; 60 s for 30 s");
        let text = cleared["blocks"][0]["text"]["text"].as_str().expect("text");
        assert!(text.starts_with("*CLEARED:* *Warning* — Sales"), "{text}");
        assert!(text.contains("*Fired:* 2027-01-15 07:50:00 UTC\n*Cleared:* 2027-01-15 08:00:00 UTC"), "{text}");
    }

    #[test]
    fn slack_text_escapes_its_control_characters() {
        let mut n = notice(Level::Warning, NoticeKind::Fired);
        n.alert.rule_name = "<!channel> & co".into();
        let text = body(WebhookFormat::Slack, &n)["text"].as_str().expect("text").to_owned();
        assert!(text.contains("&lt;!channel&gt; &amp; co"), "{text}");
        assert!(!text.contains('<'), "{text}");
    }

    #[test]
    fn teams_body_is_an_adaptive_card() {
        let cases = [
            (Level::Critical, NoticeKind::Fired, "attention", "FIRING: Critical — Sales", "not yet"),
            (Level::Warning, NoticeKind::Fired, "warning", "FIRING: Warning — Sales", "not yet"),
            (Level::Critical, NoticeKind::Cleared, "good", "CLEARED: Critical — Sales", "2027-01-15 08:00:00 UTC"),
            (Level::Warning, NoticeKind::Cleared, "good", "CLEARED: Warning — Sales", "2027-01-15 08:00:00 UTC"),
        ];
        for (level, kind, color, title, cleared) in cases {
            let n = notice(level, kind);
            let v = body(WebhookFormat::Teams, &n);
            assert_eq!(v["type"], "message");
            let attachment = &v["attachments"][0];
            assert_eq!(v["attachments"].as_array().map(Vec::len), Some(1));
            assert_eq!(attachment["contentType"], "application/vnd.microsoft.card.adaptive");
            assert!(attachment["contentUrl"].is_null());
            let card = &attachment["content"];
            assert_eq!(card["$schema"], "http://adaptivecards.io/schemas/adaptive-card.json");
            assert_eq!(card["type"], "AdaptiveCard");
            assert_eq!(card["version"], "1.4");
            assert_eq!(card["body"][0]["type"], "TextBlock");
            assert_eq!(card["body"][0]["text"], title);
            assert_eq!(card["body"][0]["color"], color);
            assert_eq!(card["body"][1]["type"], "FactSet");
            let facts: Vec<(String, String)> = card["body"][1]["facts"]
                .as_array()
                .expect("facts")
                .iter()
                .map(|f| (f["title"].as_str().expect("t").to_owned(), f["value"].as_str().expect("v").to_owned()))
                .collect();
            let expected = [
                ("Rule", "Sales"),
                ("Condition", "longest wait > 60 s for 30 s"),
                ("Value", "75 s"),
                ("Target", "WQ0123456789abcdef0123456789abcdef (channel voice)"),
                ("Fired", "2027-01-15 07:50:00 UTC"),
                ("Cleared", cleared),
            ]
            .map(|(t, v)| (t.to_owned(), v.to_owned()));
            assert_eq!(facts, expected);
            assert_eq!(card["actions"][0]["type"], "Action.OpenUrl");
            assert_eq!(card["actions"][0]["title"], "Open");
            assert_eq!(card["actions"][0]["url"], n.url.as_str());
        }
    }

    #[test]
    fn webhook_debug_hides_the_url_path_and_the_secret() {
        let h = hook("AW1", "https://hooks.slack.com/services/T000/B000/XXXX?x=y", WebhookFormat::Slack);
        let shown = format!("{h:?}");
        assert!(shown.contains("hooks.slack.com"), "{shown}");
        assert!(!shown.contains("T000") && !shown.contains("x=y") && !shown.contains(SECRET), "{shown}");
    }

    // --- signatures ---------------------------------------------------------------------

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let mac = hmac_sha256(b"Jefe", &[b"what do ya ", b"want for nothing?"]).expect("mac");
        assert_eq!(
            hex(&mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // The signature is that HMAC over "<t>.<body>".
        let mac = hmac_sha256(b"Jefe", &[b"1800000000.{\"a\":1}"]).expect("mac");
        assert_eq!(
            signature("Jefe", 1_800_000_000, b"{\"a\":1}"),
            format!("t=1800000000,v1={}", hex(&mac.finalize().into_bytes()))
        );
    }

    #[test]
    fn signatures_round_trip_and_refuse_tampering_and_replays() {
        let body = br#"{"type":"alert.fired"}"#;
        let t = 1_800_000_000;
        let header = signature(SECRET, t, body);
        assert!(header.starts_with("t=1800000000,v1="), "{header}");
        assert!(verify(SECRET, &header, body, t, 300));
        assert!(verify(SECRET, &header, body, t + 300, 300));
        assert!(verify(SECRET, &header, body, t - 300, 300), "a receiver's clock a little behind");
        // Tampered body, wrong secret, old (replayed) timestamp, timestamp changed.
        assert!(!verify(SECRET, &header, br#"{"type":"alert.cleared"}"#, t, 300));
        assert!(!verify("other", &header, body, t, 300));
        assert!(!verify(SECRET, &header, body, t + 301, 300));
        let moved = header.replace("t=1800000000", "t=1800000100");
        assert!(!verify(SECRET, &moved, body, t + 100, 300));
        // Garbage headers; a second v1 (secret rotation) is accepted when one matches.
        for bad in ["", "t=", "v1=00", "t=abc,v1=00", &format!("t={t}"), &format!("t={t},v1=zz")] {
            assert!(!verify(SECRET, bad, body, t, 300), "{bad}");
        }
        let rotated = format!("t={t},v1={},{}", "00".repeat(32), header.split_once(',').expect(",").1);
        assert!(verify(SECRET, &rotated, body, t, 300), "{rotated}");
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = RetryPolicy::default();
        let waits: Vec<u64> = (1..=8).map(|n| p.backoff(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(p.backoff(200), Duration::from_secs(60));
        assert_eq!((p.attempts, p.timeout), (6, Duration::from_secs(10)));
    }

    // --- deliveries ---------------------------------------------------------------------

    #[tokio::test]
    async fn retries_until_success_with_growing_gaps() {
        let (base, mut got) = receiver(&[Reply::Status(500), Reply::Status(500), Reply::Status(204)]).await;
        let policy = RetryPolicy {
            attempts: 6,
            first_backoff: Duration::from_millis(150),
            max_backoff: Duration::from_secs(1),
            timeout: Duration::from_secs(2),
        };
        let h = Harness::new(policy);
        h.send(hook("AW1", &format!("{base}/hook/secret-path?token=t"), WebhookFormat::Json));
        let requests = [next(&mut got).await, next(&mut got).await, next(&mut got).await];
        assert!(h.finish().await.is_empty(), "no dead letter");
        assert!(got.try_recv().is_err(), "exactly three requests");

        let gap1 = requests[1].at - requests[0].at;
        let gap2 = requests[2].at - requests[1].at;
        // The waits are 150 ms then 300 ms (plus the requests' own time, a few ms here):
        // each gap is at least its wait and less than the next one.
        assert!(gap1 >= Duration::from_millis(145) && gap1 < Duration::from_millis(295), "{gap1:?}");
        assert!(gap2 >= Duration::from_millis(295) && gap2 < Duration::from_millis(595), "{gap2:?}");
        assert!(gap2 > gap1);

        let delivery = header(&requests[0], DELIVERY_HEADER).to_owned();
        assert_eq!(delivery.len(), 32, "{delivery}");
        for r in &requests {
            assert_eq!(r.path, "/hook/secret-path");
            assert_eq!(header(r, "content-type"), "application/json");
            assert_eq!(header(r, "user-agent"), USER_AGENT);
            assert!(USER_AGENT.starts_with("wallboard/"));
            assert_eq!(header(r, EVENT_HEADER), "alert.fired");
            assert_eq!(header(r, DELIVERY_HEADER), delivery, "one delivery id for all attempts");
            assert!(verify(SECRET, header(r, SIGNATURE_HEADER), &r.body, NOW_MS / 1000, 300));
            let sent: Notice = serde_json::from_slice(&r.body).expect("a notice");
            assert_eq!(sent, notice(Level::Critical, NoticeKind::Fired));
        }
    }

    #[tokio::test]
    async fn retry_after_overrides_the_backoff() {
        let (base, mut got) = receiver(&[Reply::TooMany(1), Reply::Status(200)]).await;
        let h = Harness::new(RetryPolicy { max_backoff: Duration::from_secs(5), ..fast(3) });
        h.send(hook("AW1", &base, WebhookFormat::Slack));
        let first = next(&mut got).await;
        let second = next(&mut got).await;
        assert!(h.finish().await.is_empty());
        let gap = second.at - first.at;
        // The policy would wait 20 ms; the receiver asked for 1 s.
        assert!(gap >= Duration::from_millis(990) && gap < Duration::from_millis(1_500), "{gap:?}");
        let slack: Value = serde_json::from_slice(&second.body).expect("json");
        assert!(slack["text"].as_str().expect("text").starts_with("FIRING: Critical"));
    }

    #[tokio::test]
    async fn retry_after_is_capped_at_max_backoff() {
        let (base, mut got) = receiver(&[Reply::TooMany(3600), Reply::Status(204)]).await;
        let h = Harness::new(fast(3));
        h.send(hook("AW1", &base, WebhookFormat::Teams));
        let first = next(&mut got).await;
        let second = next(&mut got).await;
        assert!(h.finish().await.is_empty());
        let gap = second.at - first.at;
        assert!(gap >= Duration::from_millis(195) && gap < Duration::from_millis(600), "{gap:?}");
    }

    #[tokio::test]
    async fn a_400_is_final_and_dead_lettered() {
        let (base, mut got) = receiver(&[Reply::Status(400)]).await;
        let mut h = Harness::new(fast(5));
        h.notifier.send(
            &workspace(),
            hook("AW1", &base, WebhookFormat::Json),
            notice(Level::Warning, NoticeKind::Cleared),
        );
        next(&mut got).await;
        let letter = h.dead_letter().await;
        assert_eq!(
            (letter.webhook_sid.as_str(), letter.alert_sid.as_str(), letter.kind, letter.attempts),
            ("AW1", "AL0123456789abcdef0123456789abcdef", NoticeKind::Cleared, 1)
        );
        assert_eq!(letter.last_error, "HTTP 400");
        assert_eq!(letter.date_created, to_datetime(NOW_MS));
        assert!(h.finish().await.is_empty());
        assert!(got.try_recv().is_err(), "one request only");
    }

    #[tokio::test]
    async fn a_redirect_is_not_followed() {
        let (base, mut got) = receiver(&[Reply::Redirect]).await;
        let mut h = Harness::new(fast(5));
        h.send(hook("AW1", &format!("{base}/hook"), WebhookFormat::Json));
        assert_eq!(next(&mut got).await.path, "/hook");
        let letter = h.dead_letter().await;
        assert_eq!((letter.attempts, letter.last_error.as_str()), (1, "HTTP 302 (redirects are not followed)"));
        assert!(h.finish().await.is_empty());
        assert!(got.try_recv().is_err(), "the redirect's target was not asked");
    }

    #[tokio::test]
    async fn server_errors_dead_letter_after_all_attempts() {
        let (base, mut got) = receiver(&[Reply::Status(500); 3]).await;
        let mut h = Harness::new(fast(3));
        h.send(hook("AW1", &base, WebhookFormat::Json));
        for _ in 0..3 {
            next(&mut got).await;
        }
        let letter = h.dead_letter().await;
        assert_eq!((letter.attempts, letter.last_error.as_str()), (3, "HTTP 500"));
        assert!(h.finish().await.is_empty());
        assert!(got.try_recv().is_err());
    }

    #[tokio::test]
    async fn a_receiver_that_never_answers_times_out() {
        let (base, mut got) = receiver(&[Reply::Hang, Reply::Hang]).await;
        let mut h = Harness::new(RetryPolicy { timeout: Duration::from_millis(150), ..fast(2) });
        h.send(hook("AW1", &base, WebhookFormat::Json));
        let first = next(&mut got).await;
        let second = next(&mut got).await;
        // The first attempt gave up after its timeout, then waited 20 ms.
        let gap = second.at - first.at;
        assert!(gap >= Duration::from_millis(165) && gap < Duration::from_millis(1_000), "{gap:?}");
        let letter = h.dead_letter().await;
        assert_eq!((letter.attempts, letter.last_error.as_str()), (2, "timeout after 150ms"));
    }

    #[tokio::test]
    async fn a_dead_receiver_dead_letters_with_a_transport_error_without_the_url() {
        let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = closed.local_addr().expect("addr");
        drop(closed);
        let mut h = Harness::new(fast(3));
        let started = Instant::now();
        h.send(hook(
            "AW1",
            &format!("http://{addr}/services/T0/B0/SECRETPATH?token=SECRETQUERY"),
            WebhookFormat::Slack,
        ));
        let letter = h.dead_letter().await;
        assert_eq!(letter.attempts, 3);
        // Two waits: 20 ms then 40 ms.
        assert!(started.elapsed() >= Duration::from_millis(60), "{:?}", started.elapsed());
        let e = &letter.last_error;
        assert!(e.starts_with("error sending request"), "{e}");
        assert!(e.len() > "error sending request".len(), "the cause is told: {e}");
        assert!(!e.contains("SECRET") && !e.contains("/services"), "{e}");
    }

    #[tokio::test]
    async fn an_invalid_url_is_dead_lettered_at_once() {
        let mut h = Harness::new(fast(3));
        h.send(hook("AW1", "ftp://example.com/x", WebhookFormat::Json));
        let letter = h.dead_letter().await;
        assert_eq!((letter.attempts, letter.last_error.as_str()), (0, "invalid webhook URL"));
    }

    #[tokio::test]
    async fn a_slow_receiver_does_not_delay_another_webhook() {
        let (slow, mut slow_got) = receiver(&[Reply::Hang]).await;
        let (quick, mut quick_got) = receiver(&[Reply::Status(204)]).await;
        let mut h = Harness::new(RetryPolicy { timeout: Duration::from_secs(30), ..fast(3) });
        h.send(hook("AW1", &slow, WebhookFormat::Json));
        next(&mut slow_got).await;
        let asked = Instant::now();
        h.send(hook("AW2", &quick, WebhookFormat::Json));
        next(&mut quick_got).await;
        assert!(asked.elapsed() < Duration::from_secs(1), "{:?}", asked.elapsed());
        // The quick delivery ends (its answer read): only the slow one holds a slot.
        h.outstanding(1).await;

        // Stopping ends the hanging delivery at once: dead-lettered "shutdown".
        h.stop.cancel();
        let letter = h.dead_letter().await;
        assert_eq!((letter.webhook_sid.as_str(), letter.attempts, letter.last_error.as_str()), ("AW1", 1, SHUTDOWN));
        assert!(h.finish().await.is_empty(), "the quick delivery was not dead-lettered");
    }

    #[tokio::test]
    async fn a_kept_delivery_is_settled_when_over_and_left_in_the_outbox_by_a_stop() {
        let (base, mut got) = receiver(&[Reply::Status(204), Reply::Status(400), Reply::Hang]).await;
        let mut h = Harness::new(RetryPolicy { timeout: Duration::from_secs(30), ..fast(3) });
        let notifier = h.notifier.clone();
        let kept = |key: &str| {
            let n = notice(Level::Critical, NoticeKind::Fired);
            notifier.send_kept(&workspace(), hook("AW1", &base, WebhookFormat::Json), n, key.to_owned());
        };
        kept("k1");
        let first = next(&mut got).await;
        assert_eq!(header(&first, "x-wallboard-delivery"), delivery_id("k1"), "the id comes from the key");
        assert_eq!(delivery_id("k1").len(), 32);
        h.outstanding(0).await;
        assert_eq!(*h.settled.lock().expect("settled"), ["k1"], "delivered: settled");
        kept("k2");
        next(&mut got).await;
        let letter = h.dead_letter().await;
        assert_eq!(letter.attempts, 1, "a 400 is final");
        h.outstanding(0).await;
        assert_eq!(*h.settled.lock().expect("settled"), ["k1", "k2"], "dead-lettered: settled");
        kept("k3");
        next(&mut got).await;
        drop(notifier);
        h.stop.cancel();
        let settled = h.settled.clone();
        assert!(h.finish().await.is_empty(), "a kept delivery cut by the stop is no dead letter");
        assert_eq!(*settled.lock().expect("settled"), ["k1", "k2"], "and stays in the outbox");
    }

    #[tokio::test]
    async fn stop_ends_retries_and_later_sends() {
        let (base, mut got) = receiver(&[Reply::Status(503)]).await;
        let mut h = Harness::new(RetryPolicy { first_backoff: Duration::from_secs(60), ..fast(6) });
        h.send(hook("AW1", &base, WebhookFormat::Json));
        next(&mut got).await;
        h.stop.cancel();
        let letter = h.dead_letter().await;
        assert_eq!((letter.attempts, letter.last_error.as_str()), (1, SHUTDOWN));
        h.send(hook("AW2", &base, WebhookFormat::Json));
        let letter = h.dead_letter().await;
        assert_eq!((letter.webhook_sid.as_str(), letter.attempts, letter.last_error.as_str()), ("AW2", 0, SHUTDOWN));
        assert!(h.finish().await.is_empty());
        assert!(got.try_recv().is_err());
    }

    #[tokio::test]
    async fn a_full_queue_dead_letters_at_once() {
        let (base, mut got) = receiver(&[]).await;
        let limits = Limits { queue: 1, concurrent: 1, system_proxy: false };
        let mut h = Harness::with_limits(fast(3), limits);
        // The current-thread runtime runs nothing else between these two calls: the first
        // holds the only slot.
        h.send(hook("AW1", &base, WebhookFormat::Json));
        h.send(hook("AW2", &base, WebhookFormat::Json));
        let letter = h.dead_letter().await;
        assert_eq!(
            (letter.webhook_sid.as_str(), letter.attempts, letter.last_error.as_str()),
            ("AW2", 0, "queue full")
        );
        next(&mut got).await;
        assert!(h.finish().await.is_empty());
        assert!(got.try_recv().is_err());
    }
}
