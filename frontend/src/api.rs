//! The REST calls of the dashboard: the workspace's workflows and task channels, and the
//! server's build id. Statistics themselves come over the WebSocket.
//!
//! Requests go to the page's own origin and carry no credentials: until viewer tokens
//! exist the server answers them from loopback (see DESIGN.md and issue 5).

use gloo_net::http::Request;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use wallboard_shared::TwilioError;
use web_sys::RequestCache;

/// Most list pages followed (a guard against a `next_page_url` loop).
const MAX_PAGES: usize = 50;

/// The fields the dashboard reads of a listed Workspace, Workflow or TaskChannel
/// (`wallboard_shared::resources`); the others are skipped. Reading the full shared types
/// would cost the wasm three large deserializers for fields it never shows.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Listed {
    pub sid: String,
    pub friendly_name: String,
    /// Task channels only.
    #[serde(default)]
    pub unique_name: Option<String>,
}

/// A Twilio list page (`WorkspacePage`, `WorkflowPage`, `TaskChannelPage`): its items under
/// the resource's key, and `meta.next_page_url`.
#[derive(Debug, Deserialize)]
struct Page {
    #[serde(alias = "workspaces", alias = "workflows", alias = "channels")]
    items: Vec<Listed>,
    meta: PageMeta,
}

#[derive(Debug, Deserialize)]
struct PageMeta {
    next_page_url: Option<String>,
}

/// The path and query of an absolute URL, so paging stays on this page's origin even when
/// the server's public URL names another host (`http://127.0.0.1:8080/v1/…` → `/v1/…`).
pub fn same_origin_path(url: &str) -> String {
    match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or_else(|| "/".to_owned(), |i| rest[i..].to_owned()),
        None => url.to_owned(),
    }
}

async fn get_json<T: DeserializeOwned>(path: &str) -> Result<T, String> {
    let response = Request::get(path)
        .cache(RequestCache::NoStore)
        .send()
        .await
        .map_err(|e| format!("the server cannot be reached ({e})"))?;
    if let Some(date) = response.headers().get("date") {
        crate::browser::note_server_date(&date);
    }
    if !response.ok() {
        let status = response.status();
        return Err(match response.json::<TwilioError>().await {
            Ok(e) => format!("{status}: {}", e.message),
            Err(_) => format!("{status}: {}", response.status_text()),
        });
    }
    response.json::<T>().await.map_err(|e| format!("unexpected answer from {path}: {e}"))
}

async fn list(first: String) -> Result<Vec<Listed>, String> {
    let mut items = Vec::new();
    let mut next = Some(first);
    for _ in 0..MAX_PAGES {
        let Some(path) = next.take() else { break };
        let page = get_json::<Page>(&path).await?;
        items.extend(page.items);
        next = page.meta.next_page_url.map(|l| same_origin_path(&l));
    }
    Ok(items)
}

pub async fn workspaces() -> Result<Vec<Listed>, String> {
    list("/v1/Workspaces?PageSize=100".to_owned()).await
}

pub async fn workflows(workspace: &str) -> Result<Vec<Listed>, String> {
    list(format!("/v1/Workspaces/{workspace}/Workflows?PageSize=100")).await
}

pub async fn task_channels(workspace: &str) -> Result<Vec<Listed>, String> {
    list(format!("/v1/Workspaces/{workspace}/TaskChannels?PageSize=100")).await
}

/// The build the server serves now (`GET /build-id`), None when it cannot say.
pub async fn server_build_id() -> Option<String> {
    let response = Request::get("/build-id").cache(RequestCache::NoStore).send().await.ok()?;
    if !response.ok() {
        return None;
    }
    let text = response.text().await.ok()?;
    let id = text.trim();
    (!id.is_empty() && id.len() <= 64).then(|| id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let page: Page = serde_json::from_value(serde_json::to_value(&workflows).expect("ser")).expect("de");
        assert_eq!(
            page.items,
            [Listed { sid: WorkflowSid::from_u128(7).to_string(), friendly_name: "Sales".into(), unique_name: None }]
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
        let page: Page = serde_json::from_value(serde_json::to_value(&channels).expect("ser")).expect("de");
        assert_eq!(page.items[0].unique_name.as_deref(), Some("voice"));
        assert!(page.meta.next_page_url.is_none());
    }
}
