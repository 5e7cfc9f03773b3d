//! Workspaces, workflows and task channels, as known from the events, in Twilio's
//! instance and list formats (with Twilio's paging).

use std::collections::BTreeMap;

use axum::extract::{Path, RawQuery, State};
use axum::{Extension, Json};
use wallboard_shared::WorkspaceSid;
use wallboard_shared::resources::{
    PageMeta, TaskChannel, TaskChannelPage, Workflow, WorkflowPage, Workspace, WorkspacePage,
};
use wallboard_shared::sid::TaskChannelSid;
use wallboard_shared::time::to_datetime;

use super::{ApiError, ApiResult, AppState, query_pairs};
use crate::access::Principal;
use crate::engine::Engine;
use crate::engine::registry::{ChannelRec, Known, WorkflowRec};

const DEFAULT_PAGE_SIZE: u32 = 50;
const MAX_PAGE_SIZE: u32 = 1000;

/// `PageSize` and `Page` of a list request.
#[derive(Debug, Clone, Copy)]
pub(super) struct Paging {
    pub page: u32,
    pub page_size: u32,
}

/// `PageSize` (1–1000, default 50) and `Page` of a list request (every list resource).
pub(super) fn paging(raw: Option<&str>) -> ApiResult<Paging> {
    let mut p = Paging { page: 0, page_size: DEFAULT_PAGE_SIZE };
    for (k, v) in query_pairs(raw)? {
        match k.as_str() {
            "PageSize" => {
                p.page_size = v.parse().ok().filter(|n| (1..=MAX_PAGE_SIZE).contains(n)).ok_or_else(|| {
                    ApiError::invalid(format!("PageSize must be a whole number from 1 to {MAX_PAGE_SIZE}"))
                })?;
            }
            "Page" => {
                p.page = v.parse().map_err(|_| ApiError::invalid("Page must be a non-negative whole number"))?;
            }
            _ => {}
        }
    }
    Ok(p)
}

/// Cuts one page out of `items` and describes it with absolute URLs.
fn page<T>(items: Vec<T>, p: Paging, list_url: &str, key: &str) -> (Vec<T>, PageMeta) {
    let start = (p.page as usize).saturating_mul(p.page_size as usize);
    let total = items.len();
    let page_items: Vec<T> = items.into_iter().skip(start).take(p.page_size as usize).collect();
    let url_of = |page: u32| format!("{list_url}?PageSize={}&Page={page}", p.page_size);
    let meta = PageMeta {
        first_page_url: url_of(0),
        key: key.to_owned(),
        next_page_url: (start + (p.page_size as usize) < total).then(|| url_of(p.page + 1)),
        page: p.page,
        page_size: p.page_size,
        previous_page_url: (p.page > 0).then(|| url_of(p.page - 1)),
        url: url_of(p.page),
    };
    (page_items, meta)
}

fn workspace_of(engine: &Engine, ws: &str) -> ApiResult<(WorkspaceSid, u32)> {
    let not_found = || ApiError::not_found(format!("The requested resource /Workspaces/{ws} was not found"));
    let sid = WorkspaceSid::parse(ws).map_err(|_| not_found())?;
    let id = engine.registry().workspace_id(&sid).ok_or_else(not_found)?;
    Ok((sid, id))
}

fn workspace_resource(state: &AppState, k: &Known<WorkspaceSid>) -> Workspace {
    let url = format!("{}/v1/Workspaces/{}", state.public_url, k.sid);
    let links = BTreeMap::from([
        ("workflows".to_owned(), format!("{url}/Workflows")),
        ("task_channels".to_owned(), format!("{url}/TaskChannels")),
    ]);
    Workspace {
        account_sid: state.account_sid.clone(),
        date_created: Some(to_datetime(k.first_ms)),
        date_updated: Some(to_datetime(k.last_ms)),
        default_activity_name: None,
        default_activity_sid: None,
        event_callback_url: Some(format!("{}/webhooks/taskrouter", state.public_url)),
        events_filter: None,
        friendly_name: k.name.clone().unwrap_or_else(|| k.sid.to_string()),
        multi_task_enabled: true,
        prioritize_queue_order: "FIFO".into(),
        sid: k.sid.clone(),
        timeout_activity_name: None,
        timeout_activity_sid: None,
        url,
        links,
    }
}

fn workflow_resource(state: &AppState, ws: &WorkspaceSid, w: &WorkflowRec) -> Workflow {
    let url = format!("{}/v1/Workspaces/{ws}/Workflows/{}", state.public_url, w.known.sid);
    let links = BTreeMap::from([
        ("statistics".to_owned(), format!("{url}/Statistics")),
        ("real_time_statistics".to_owned(), format!("{url}/RealTimeStatistics")),
        ("cumulative_statistics".to_owned(), format!("{url}/CumulativeStatistics")),
    ]);
    Workflow {
        account_sid: state.account_sid.clone(),
        assignment_callback_url: None,
        configuration: "{}".into(),
        date_created: Some(to_datetime(w.known.first_ms)),
        date_updated: Some(to_datetime(w.known.last_ms)),
        document_content_type: Some("application/json".into()),
        fallback_assignment_callback_url: None,
        friendly_name: w.known.name.clone().unwrap_or_else(|| w.known.sid.to_string()),
        sid: w.known.sid.clone(),
        task_reservation_timeout: 120,
        workspace_sid: ws.clone(),
        url,
        links,
    }
}

fn channel_resource(state: &AppState, ws: &WorkspaceSid, c: &ChannelRec) -> TaskChannel {
    let url = format!("{}/v1/Workspaces/{ws}/TaskChannels/{}", state.public_url, c.known.sid);
    let name = c.known.name.clone().unwrap_or_else(|| c.known.sid.to_string());
    TaskChannel {
        account_sid: state.account_sid.clone(),
        date_created: Some(to_datetime(c.known.first_ms)),
        date_updated: Some(to_datetime(c.known.last_ms)),
        friendly_name: name.clone(),
        sid: c.known.sid.clone(),
        unique_name: name,
        workspace_sid: ws.clone(),
        channel_optimized_routing: None,
        url,
        links: BTreeMap::new(),
    }
}

pub(super) async fn list_workspaces(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<WorkspacePage>> {
    let p = paging(raw.as_deref())?;
    let engine = state.engine();
    let mut all: Vec<&Known<WorkspaceSid>> =
        engine.registry().workspaces.iter().filter(|k| principal.allows_workspace(k.sid.as_str())).collect();
    all.sort_by(|a, b| (a.first_ms, &a.sid).cmp(&(b.first_ms, &b.sid)));
    let items = all.into_iter().map(|k| workspace_resource(&state, k)).collect();
    let (workspaces, meta) = page(items, p, &format!("{}/v1/Workspaces", state.public_url), "workspaces");
    Ok(Json(WorkspacePage { workspaces, meta }))
}

pub(super) async fn fetch_workspace(
    State(state): State<AppState>,
    Path(ws): Path<String>,
) -> ApiResult<Json<Workspace>> {
    let engine = state.engine();
    let (_, id) = workspace_of(&engine, &ws)?;
    Ok(Json(workspace_resource(&state, &engine.registry().workspaces[id as usize])))
}

pub(super) async fn list_workflows(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(ws): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<WorkflowPage>> {
    let p = paging(raw.as_deref())?;
    let engine = state.engine();
    let (sid, id) = workspace_of(&engine, &ws)?;
    let mut all: Vec<&WorkflowRec> = engine
        .registry()
        .workflows
        .iter()
        .filter(|w| w.workspace == id && principal.allows_workflow(sid.as_str(), w.known.sid.as_str()))
        .collect();
    all.sort_by(|a, b| (a.known.first_ms, &a.known.sid).cmp(&(b.known.first_ms, &b.known.sid)));
    let items = all.into_iter().map(|w| workflow_resource(&state, &sid, w)).collect();
    let list_url = format!("{}/v1/Workspaces/{sid}/Workflows", state.public_url);
    let (workflows, meta) = page(items, p, &list_url, "workflows");
    Ok(Json(WorkflowPage { workflows, meta }))
}

pub(super) async fn fetch_workflow(
    State(state): State<AppState>,
    Path((ws, wf)): Path<(String, String)>,
) -> ApiResult<Json<Workflow>> {
    let engine = state.engine();
    let (ws_sid, _, id) = super::statistics::workflow(&engine, &ws, &wf)?;
    Ok(Json(workflow_resource(&state, &ws_sid, &engine.registry().workflows[id as usize])))
}

pub(super) async fn list_channels(
    State(state): State<AppState>,
    Path(ws): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<TaskChannelPage>> {
    let p = paging(raw.as_deref())?;
    let engine = state.engine();
    let (sid, id) = workspace_of(&engine, &ws)?;
    let mut all: Vec<&ChannelRec> = engine.registry().channels.iter().filter(|c| c.workspace == id).collect();
    all.sort_by(|a, b| (a.known.first_ms, &a.known.sid).cmp(&(b.known.first_ms, &b.known.sid)));
    let items = all.into_iter().map(|c| channel_resource(&state, &sid, c)).collect();
    let list_url = format!("{}/v1/Workspaces/{sid}/TaskChannels", state.public_url);
    let (channels, meta) = page(items, p, &list_url, "channels");
    Ok(Json(TaskChannelPage { channels, meta }))
}

pub(super) async fn fetch_channel(
    State(state): State<AppState>,
    Path((ws, tc)): Path<(String, String)>,
) -> ApiResult<Json<TaskChannel>> {
    let engine = state.engine();
    let (sid, id) = workspace_of(&engine, &ws)?;
    let not_found =
        || ApiError::not_found(format!("The requested resource /Workspaces/{ws}/TaskChannels/{tc} was not found"));
    let tc_sid = TaskChannelSid::parse(&tc).map_err(|_| not_found())?;
    let channel =
        engine.registry().channels.iter().find(|c| c.workspace == id && c.known.sid == tc_sid).ok_or_else(not_found)?;
    Ok(Json(channel_resource(&state, &sid, channel)))
}
