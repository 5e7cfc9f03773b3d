//! The client of the upstream TaskRouter API (Twilio's, or another Wallboard's): one request
//! at a time through a global budget, with the upstream's own signals honoured.
//!
//! It makes single attempts and classifies failures; the mirror decides when to try again
//! (per topic backoff, `Retry-After`). `X-Rate-Limit-Remaining: 0` pauses every request
//! for a second.

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use wallboard_shared::queues::{TaskQueue, TaskQueuePage};
use wallboard_shared::resources::{TaskChannel, TaskChannelPage, Workflow, WorkflowPage, Workspace, WorkspacePage};
use wallboard_shared::workers::{Activity, ActivityPage};

use crate::metrics::{Metrics, UpstreamOutcome};

/// How the mirror reaches the upstream.
#[derive(Debug, Clone)]
pub struct UpstreamConfig {
    /// e.g. `https://taskrouter.twilio.com`, without a trailing slash.
    pub base_url: String,
    /// HTTP Basic user: the account SID or an API key SID.
    pub user: String,
    /// HTTP Basic password: the auth token or the API key's secret.
    pub password: String,
    /// Requests per second at most, all topics together.
    pub requests_per_second: u32,
    pub timeout: Duration,
}

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamError {
    #[error("the upstream refused the credentials ({0})")]
    Unauthorized(u16),
    #[error("the upstream is rate limiting (429){}", .retry_after.map(|d| format!(", retry after {} s", d.as_secs())).unwrap_or_default())]
    RateLimited { retry_after: Option<Duration> },
    #[error("the upstream failed ({0})")]
    Server(u16),
    #[error("the upstream answered {status}: {message}")]
    Refused { status: u16, message: String },
    #[error("no answer from the upstream within {0:?}")]
    Timeout(Duration),
    #[error("cannot reach the upstream: {0}")]
    Network(String),
    #[error("the upstream's answer is not what TaskRouter sends: {0}")]
    Malformed(String),
}

impl UpstreamError {
    /// The wait the upstream asked for, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }
}

/// A Twilio list page: its items and the link to the next page.
pub trait Paged: DeserializeOwned {
    type Item;
    fn into_parts(self) -> (Vec<Self::Item>, Option<String>);
}

macro_rules! paged {
    ($page:ty, $item:ty, $field:ident) => {
        impl Paged for $page {
            type Item = $item;
            fn into_parts(self) -> (Vec<$item>, Option<String>) {
                (self.$field, self.meta.next_page_url)
            }
        }
    };
}
paged!(WorkspacePage, Workspace, workspaces);
paged!(WorkflowPage, Workflow, workflows);
paged!(TaskChannelPage, TaskChannel, channels);
paged!(TaskQueuePage, TaskQueue, task_queues);
paged!(ActivityPage, Activity, activities);

#[derive(Debug)]
pub struct UpstreamClient {
    http: reqwest::Client,
    config: UpstreamConfig,
    budget: DefaultDirectRateLimiter,
    /// Set when the upstream said no requests remain: nobody asks before this.
    paused_until: Mutex<Option<Instant>>,
    /// Counts every request by outcome (the server's; `backfill` counts nothing).
    metrics: Option<Arc<Metrics>>,
}

impl UpstreamClient {
    pub fn new(mut config: UpstreamConfig) -> anyhow::Result<Self> {
        config.base_url = config.base_url.trim_end_matches('/').to_owned();
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .user_agent(concat!("wallboard/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let rate = NonZeroU32::new(config.requests_per_second.max(1)).unwrap_or(NonZeroU32::MIN);
        // A burst of one: requests are spread evenly, never fired together.
        let budget = RateLimiter::direct(Quota::per_second(rate).allow_burst(NonZeroU32::MIN));
        Ok(Self { http, config, budget, paused_until: Mutex::new(None), metrics: None })
    }

    /// Counts every request in `metrics` (`wallboard_upstream_requests_total`).
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    pub fn base_url(&self) -> &str {
        &self.config.base_url
    }

    /// Every item of a list resource, following `meta.next_page_url` from `first`.
    pub async fn get_all<P: Paged>(&self, first: &str) -> Result<Vec<P::Item>, UpstreamError> {
        let mut items = Vec::new();
        let mut next = Some(first.to_owned());
        while let Some(url) = next.take() {
            let (page, link) = self.get::<P>(&url).await?.into_parts();
            items.extend(page);
            next = link;
        }
        Ok(items)
    }

    /// GET `path_and_query` (starting with `/v1/`) or an absolute URL of the upstream
    /// (paging links), parsed as JSON.
    pub async fn get<T: DeserializeOwned>(&self, path_or_url: &str) -> Result<T, UpstreamError> {
        let body = self.get_bytes(path_or_url).await?;
        serde_json::from_slice(&body).map_err(|e| UpstreamError::Malformed(e.to_string()))
    }

    /// GET `path_or_url` as [`UpstreamClient::get`] does, the body unparsed.
    pub async fn get_bytes(&self, path_or_url: &str) -> Result<Vec<u8>, UpstreamError> {
        let result = self.request(path_or_url).await;
        if let Some(m) = &self.metrics {
            m.upstream(match &result {
                Ok(_) => UpstreamOutcome::Ok,
                Err(UpstreamError::Unauthorized(_)) => UpstreamOutcome::Unauthorized,
                Err(UpstreamError::RateLimited { .. }) => UpstreamOutcome::RateLimited,
                Err(UpstreamError::Server(_)) => UpstreamOutcome::ServerError,
                Err(UpstreamError::Refused { .. } | UpstreamError::Malformed(_)) => UpstreamOutcome::Refused,
                Err(UpstreamError::Timeout(_)) => UpstreamOutcome::Timeout,
                Err(UpstreamError::Network(_)) => UpstreamOutcome::Network,
            });
        }
        result
    }

    /// One GET, its failure classified.
    async fn request(&self, path_or_url: &str) -> Result<Vec<u8>, UpstreamError> {
        let url = if path_or_url.starts_with("http://") || path_or_url.starts_with("https://") {
            path_or_url.to_owned()
        } else {
            format!("{}{path_or_url}", self.config.base_url)
        };
        let pause = *self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(until) = pause {
            tokio::time::sleep_until(until).await;
        }
        self.budget.until_ready().await;
        let sent = self.http.get(&url).basic_auth(&self.config.user, Some(&self.config.password)).send().await;
        let response = match sent {
            Ok(r) => r,
            Err(e) if e.is_timeout() => return Err(UpstreamError::Timeout(self.config.timeout)),
            Err(e) => return Err(UpstreamError::Network(e.to_string())),
        };
        let remaining = response
            .headers()
            .get("x-rate-limit-remaining")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if remaining == Some(0) {
            *self.paused_until.lock().unwrap_or_else(|p| p.into_inner()) =
                Some(Instant::now() + Duration::from_secs(1));
        }
        let status = response.status();
        if status.is_success() {
            let body = response.bytes().await.map_err(|e| {
                if e.is_timeout() {
                    UpstreamError::Timeout(self.config.timeout)
                } else {
                    UpstreamError::Network(e.to_string())
                }
            })?;
            return Ok(body.to_vec());
        }
        Err(match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => UpstreamError::Unauthorized(status.as_u16()),
            StatusCode::TOO_MANY_REQUESTS => UpstreamError::RateLimited {
                retry_after: response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs),
            },
            s if s.is_server_error() => UpstreamError::Server(s.as_u16()),
            s => {
                let text = response.text().await.unwrap_or_default();
                let message = serde_json::from_str::<wallboard_shared::TwilioError>(&text)
                    .map(|e| e.message)
                    .unwrap_or_else(|_| text.chars().take(200).collect());
                UpstreamError::Refused { status: s.as_u16(), message }
            }
        })
    }
}
