//! The REST calls of the dashboard: the workspace's workflows, task channels and
//! service-level definitions, the server's build id, and the floor's lists: task queues,
//! activities, workers and their channels, and the queues' statistics list (only for the
//! queues beyond the wall's subscriptions); and the one write, acknowledging an alert;
//! whether the token is an admin's. Every other statistic comes over the WebSocket. The
//! settings page's calls (`api/settings.rs`) are in the admin bundle only.
//!
//! Requests go to the page's own origin with the link's viewer token as
//! `Authorization: Bearer` (`/build-id` is public). They use `fetch` directly: a request
//! library would cost the wasm more than these few lines.

use js_sys::futures::JsFuture;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use wallboard_shared::TwilioError;
use wasm_bindgen::JsCast;
use web_sys::{Headers, RequestCache, RequestInit, Response};

use wallboard_shared::{StatisticsQuery, Urls};

use crate::model::floor::{Answer, QueueStats};
use crate::model::link::RATE_LIMIT_WAIT_MS;
use crate::model::service_levels::Definitions;

/// Most list pages followed (a guard against a `next_page_url` loop).
const MAX_PAGES: usize = 50;

pub use crate::model::floor::Listed;

/// A Twilio list page (`WorkspacePage`, `WorkflowPage`, `TaskChannelPage`, …): its items
/// under the resource's key, and `meta.next_page_url`.
#[derive(Debug, Deserialize)]
struct Page<T> {
    #[serde(
        alias = "workspaces",
        alias = "workflows",
        alias = "channels",
        alias = "task_queues",
        alias = "task_queues_statistics",
        alias = "activities",
        alias = "workers",
        alias = "service_levels"
    )]
    items: Vec<T>,
    meta: PageMeta,
}

#[derive(Debug, Deserialize)]
struct PageMeta {
    next_page_url: Option<String>,
}

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// 401: the token is missing, invalid, expired or revoked (Twilio code 20003).
    Refused,
    /// 429: too many failed attempts; try again in this many seconds (at least a minute).
    RateLimited(u64),
    /// Anything else, said for the page.
    Other(String),
}

impl Failure {
    /// The failure of an answer with HTTP `status`, its Twilio error body (when it has
    /// one) and its `Retry-After` header.
    pub fn of(status: u16, body: Option<TwilioError>, retry_after: Option<&str>) -> Self {
        let least = (RATE_LIMIT_WAIT_MS / 1000.0) as u64;
        match status {
            401 => Self::Refused,
            429 => Self::RateLimited(retry_after.and_then(|s| s.trim().parse().ok()).unwrap_or(0).max(least)),
            _ => Self::Other(match body {
                Some(e) => format!("{status}: {}", e.message),
                None => format!("the server answered {status}"),
            }),
        }
    }
}

/// The path and query of an absolute URL, so paging stays on this page's origin even when
/// the server's public URL names another host (`http://127.0.0.1:8080/v1/…` → `/v1/…`).
pub fn same_origin_path(url: &str) -> String {
    match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or_else(|| "/".to_owned(), |i| rest[i..].to_owned()),
        None => url.to_owned(),
    }
}

/// `GET path`, never from the cache; with the token when given.
async fn get(path: &str, token: Option<&str>) -> Option<Response> {
    request(path, token, None).await
}

/// `GET path`, or `POST path` with the form `form`, never from the cache; with the token
/// when given.
async fn request(path: &str, token: Option<&str>, form: Option<&str>) -> Option<Response> {
    let init = RequestInit::new();
    init.set_cache(RequestCache::NoStore);
    let headers = Headers::new().ok()?;
    if let Some(token) = token {
        headers.append("Authorization", &format!("Bearer {token}")).ok()?;
    }
    if let Some(form) = form {
        init.set_method("POST");
        headers.append("Content-Type", "application/x-www-form-urlencoded").ok()?;
        init.set_body(&form.into());
    }
    init.set_headers(&headers);
    let promise = web_sys::window()?.fetch_with_str_and_init(path, &init);
    JsFuture::from(promise).await.ok()?.dyn_into().ok()
}

async fn text(response: &Response) -> Option<String> {
    JsFuture::from(response.text().ok()?).await.ok()?.as_string()
}

/// `GET path` as JSON, with the answer's `Date` (ms) when it has one.
async fn get_json<T: DeserializeOwned>(path: &str) -> Result<(T, Option<i64>), Failure> {
    let (body, date) = get_body(path).await?;
    let start = crate::browser::performance_now();
    let value =
        serde_json::from_str(&body).map_err(|e| Failure::Other(format!("unexpected answer from {path}: {e}")))?;
    crate::browser::probe_parse(start, body.len());
    Ok((value, date))
}

/// The body of a successful `GET path` and its `Date` (ms). Not generic: the fetch is in
/// the wasm once, whatever the answer is read into.
async fn get_body(path: &str) -> Result<(String, Option<i64>), Failure> {
    call(path, None).await
}

/// The body of a successful `GET path` (or `POST path` with `form`) and its `Date` (ms).
async fn call(path: &str, form: Option<&str>) -> Result<(String, Option<i64>), Failure> {
    let token = crate::browser::token().ok_or(Failure::Refused)?;
    let response = request(path, Some(&token), form)
        .await
        .ok_or_else(|| Failure::Other("the server cannot be reached".to_owned()))?;
    let headers = response.headers();
    let date = headers.get("date").ok().flatten();
    if let Some(date) = &date {
        crate::browser::note_server_date(date);
    }
    let body = text(&response).await.unwrap_or_default();
    if !response.ok() {
        let retry_after = headers.get("retry-after").ok().flatten();
        return Err(Failure::of(response.status(), serde_json::from_str(&body).ok(), retry_after.as_deref()));
    }
    Ok((body, date.as_deref().and_then(crate::model::age::parse_http_date)))
}

/// Every page of a list, and the first page's `Date`.
async fn list_dated<T: DeserializeOwned>(first: String) -> Result<Answer<Vec<T>>, Failure> {
    let received_ms = crate::browser::now_ms();
    let mut items = Vec::new();
    let mut at_ms = None;
    let mut next = Some(first);
    for n in 0..MAX_PAGES {
        let Some(path) = next.take() else { break };
        let (page, date) = get_json::<Page<T>>(&path).await?;
        if n == 0 {
            at_ms = date;
        }
        items.extend(page.items);
        next = page.meta.next_page_url.map(|l| same_origin_path(&l));
    }
    Ok(Answer { data: items, at_ms, received_ms })
}

async fn list<T: DeserializeOwned>(first: String) -> Result<Vec<T>, Failure> {
    list_dated(first).await.map(|a| a.data)
}

pub async fn workspaces() -> Result<Vec<Listed>, Failure> {
    list("/v1/Workspaces?PageSize=100".to_owned()).await
}

pub async fn workflows(workspace: &str) -> Result<Vec<Listed>, Failure> {
    list(format!("/v1/Workspaces/{workspace}/Workflows?PageSize=100")).await
}

pub async fn task_channels(workspace: &str) -> Result<Vec<Listed>, Failure> {
    list(format!("/v1/Workspaces/{workspace}/TaskChannels?PageSize=100")).await
}

/// `GET …/ServiceLevels`: the workspace's stored service-level definitions (one page: the
/// server lists them all).
pub async fn service_levels(workspace: &str) -> Result<Definitions, Failure> {
    let listed = list(Urls::relative().service_levels(workspace)).await?;
    Ok(Definitions::new(workspace, &listed))
}

#[cfg(feature = "admin")]
/// `GET path`: a scope's `…/HistoricalStatistics` (the history page; `model::history::path`).
pub async fn history(path: &str) -> Result<crate::model::history::History, Failure> {
    let (body, _) = get_body(path).await?;
    crate::model::history::History::parse(&body).ok_or_else(|| Failure::Other(format!("unexpected answer from {path}")))
}

/// `GET …/TaskQueues/Statistics` for `query`: every queue, realtime and cumulative (read
/// for the wall's queues beyond its subscriptions).
pub async fn queue_statistics(workspace: &str, query: &StatisticsQuery) -> Result<Answer<Vec<QueueStats>>, Failure> {
    let base = Urls::relative().workspace(workspace);
    list_dated(format!("{base}/TaskQueues/Statistics?PageSize=1000&{}", query.to_query_string())).await
}

pub async fn task_queues(workspace: &str) -> Result<Vec<Listed>, Failure> {
    list(format!("{}/TaskQueues?PageSize=1000", Urls::relative().workspace(workspace))).await
}

pub async fn activities(workspace: &str) -> Result<Vec<Listed>, Failure> {
    list(format!("{}/Activities?PageSize=1000", Urls::relative().workspace(workspace))).await
}

/// `GET …/Workers?{query}` (see `model::agents::workers_query`).
pub async fn workers(workspace: &str, query: &str) -> Result<Answer<Vec<Listed>>, Failure> {
    list_dated(format!("{}/Workers?{query}", Urls::relative().workspace(workspace))).await
}

/// `GET …/Workers/{WK}/Channels`.
pub async fn worker_channels(workspace: &str, worker: &str) -> Result<Vec<Listed>, Failure> {
    list(format!("{}/Workers/{worker}/Channels?PageSize=100", Urls::relative().workspace(workspace))).await
}

/// Acknowledges alert `alert` of `workspace` (`POST …/Alerts/{AL…}`, `Acknowledged=true`).
/// The answer (the alert) is not read: every dashboard, this one too, then gets an `alerts`
/// frame saying who acknowledged it.
pub async fn acknowledge(workspace: &str, alert: &str) -> Result<(), Failure> {
    let path = format!("{}/Alerts/{alert}", Urls::relative().workspace(workspace));
    call(&path, Some("Acknowledged=true")).await.map(drop)
}

/// Downloads the export at `path` (`wallboard_shared::export::export_path`): fetched with
/// the token in the `Authorization` header (never in a URL), then saved under the name the
/// server gives (`Content-Disposition`) or `fallback`.
pub async fn download(path: &str, fallback: &str) -> Result<(), Failure> {
    let token = crate::browser::token().ok_or(Failure::Refused)?;
    let response =
        get(path, Some(&token)).await.ok_or_else(|| Failure::Other("the server cannot be reached".to_owned()))?;
    let headers = response.headers();
    if !response.ok() {
        let body = text(&response).await.unwrap_or_default();
        let retry_after = headers.get("retry-after").ok().flatten();
        return Err(Failure::of(response.status(), serde_json::from_str(&body).ok(), retry_after.as_deref()));
    }
    let disposition = headers.get("content-disposition").ok().flatten().unwrap_or_default();
    let name = disposition.split_once("filename=\"").and_then(|(_, r)| r.split('"').next()).unwrap_or(fallback);
    let blob = match response.blob() {
        Ok(promise) => JsFuture::from(promise).await.ok(),
        Err(_) => None,
    };
    let saved = blob.is_some_and(|b| crate::browser::save_file(&b.unchecked_into(), name));
    if saved { Ok(()) } else { Err(Failure::Other("the file cannot be saved".to_owned())) }
}

/// The build the server serves now (`GET /build-id`, public), None when it cannot say.
pub async fn server_build_id() -> Option<String> {
    let response = get("/build-id", None).await.filter(Response::ok)?;
    let text = text(&response).await?;
    let id = text.trim();
    (!id.is_empty() && id.len() <= 64).then(|| id.to_owned())
}

/// Whether the link's token is an admin's: `GET …/AlertRules` (admins only) answered 200
/// (true) or 403 (false; not a failed attempt); None when the server cannot say (no
/// answer, another status). Only the status is read, not the rules.
pub async fn is_admin(ws: &str) -> Option<bool> {
    let token = crate::browser::token()?;
    let response = get(&format!("{}/AlertRules", Urls::relative().workspace(ws)), Some(&token)).await?;
    match response.status() {
        200 => Some(true),
        403 => Some(false),
        _ => None,
    }
}

/// The settings page's calls, in the admin bundle only.
#[cfg(feature = "admin")]
mod settings;
#[cfg(feature = "admin")]
pub use settings::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_by_status() {
        let body =
            |code: u32, status: u16| TwilioError { code, message: "no".into(), more_info: String::new(), status };
        assert_eq!(Failure::of(401, Some(body(20003, 401)), None), Failure::Refused);
        assert_eq!(Failure::of(401, None, None), Failure::Refused);
        assert_eq!(Failure::of(429, Some(body(20429, 429)), Some("120")), Failure::RateLimited(120));
        assert_eq!(Failure::of(429, None, Some("5")), Failure::RateLimited(60), "a minute at least");
        assert_eq!(Failure::of(429, None, Some("soon")), Failure::RateLimited(60));
        assert_eq!(Failure::of(403, Some(body(20403, 403)), None), Failure::Other("403: no".into()));
        assert_eq!(Failure::of(502, None, None), Failure::Other("the server answered 502".into()));
    }

    #[test]
    fn paging_links_stay_on_this_origin() {
        assert_eq!(
            same_origin_path("http://127.0.0.1:8080/v1/Workspaces?PageSize=50&Page=1&PageToken=PT1"),
            "/v1/Workspaces?PageSize=50&Page=1&PageToken=PT1"
        );
        assert_eq!(same_origin_path("https://wall.example.com"), "/");
        assert_eq!(same_origin_path("/v1/Workspaces?Page=2"), "/v1/Workspaces?Page=2");
    }

    /// The lean page reads what the server's shared types write.
    #[test]
    fn pages_of_the_shared_types_read() {
        use std::collections::BTreeMap;
        use wallboard_shared::resources::{PageMeta as Meta, TaskChannel, TaskChannelPage, Workflow, WorkflowPage};
        use wallboard_shared::{AccountSid, TaskChannelSid, WorkflowSid, WorkspaceSid};
        let meta = |next: Option<&str>| Meta {
            first_page_url: "http://h/v1/x?Page=0".into(),
            key: "k".into(),
            next_page_url: next.map(str::to_owned),
            page: 0,
            page_size: 50,
            previous_page_url: None,
            url: "http://h/v1/x".into(),
        };
        let workflows = WorkflowPage {
            workflows: vec![Workflow {
                account_sid: AccountSid::from_u128(1),
                assignment_callback_url: None,
                configuration: "{}".into(),
                date_created: None,
                date_updated: None,
                document_content_type: None,
                fallback_assignment_callback_url: None,
                friendly_name: "Sales".into(),
                sid: WorkflowSid::from_u128(7),
                task_reservation_timeout: 120,
                workspace_sid: WorkspaceSid::from_u128(2),
                url: "http://h".into(),
                links: BTreeMap::new(),
            }],
            meta: meta(Some("http://h:8080/v1/x?Page=1")),
        };
        let page: Page<Listed> = serde_json::from_value(serde_json::to_value(&workflows).expect("ser")).expect("de");
        assert_eq!(
            page.items,
            [Listed {
                sid: WorkflowSid::from_u128(7).to_string(),
                friendly_name: "Sales".into(),
                ..Default::default()
            }]
        );
        assert_eq!(page.meta.next_page_url.as_deref().map(same_origin_path).as_deref(), Some("/v1/x?Page=1"));
        let channels = TaskChannelPage {
            channels: vec![TaskChannel {
                account_sid: AccountSid::from_u128(1),
                date_created: None,
                date_updated: None,
                friendly_name: "voice".into(),
                sid: TaskChannelSid::from_u128(3),
                unique_name: "voice".into(),
                workspace_sid: WorkspaceSid::from_u128(2),
                channel_optimized_routing: None,
                url: "http://h".into(),
                links: BTreeMap::new(),
            }],
            meta: meta(None),
        };
        let page: Page<Listed> = serde_json::from_value(serde_json::to_value(&channels).expect("ser")).expect("de");
        assert_eq!(page.items[0].unique_name.as_deref(), Some("voice"));
        assert!(page.meta.next_page_url.is_none());
        use wallboard_shared::service_level::{
            Abandons, Day, Definition, DefinitionView, Place, ServiceLevel, ServiceLevelPage, WORKSPACE_DEFAULT,
        };
        let d = Definition::new(30, 5, Abandons::CountedAsMet).expect("valid");
        let levels = ServiceLevelPage {
            service_levels: vec![ServiceLevel {
                account_sid: AccountSid::from_u128(1),
                workspace_sid: WorkspaceSid::from_u128(2),
                scope: WORKSPACE_DEFAULT.into(),
                task_channel: None,
                definition: DefinitionView::new(&d, Some(&Place::new(WORKSPACE_DEFAULT, None))),
                stored: true,
                revision: Some(4),
                day: Day::default(),
                day_defined_by: "built_in".into(),
                date_updated: None,
                url: "http://h".into(),
            }],
            meta: meta(None),
        };
        let page: Page<Listed> = serde_json::from_value(serde_json::to_value(&levels).expect("ser")).expect("de");
        let l = &page.items[0];
        assert_eq!((l.sid.as_str(), l.stored), (WORKSPACE_DEFAULT, true), "the scope is read as the sid");
        assert_eq!((l.threshold, l.short_abandon, l.abandons.as_deref()), (30, 5, Some("counted_as_met")));
        let defs = Definitions::new("WS1", &page.items);
        assert_eq!(defs.workspace(), d);
    }
}
