//! Workspaces, workflows and task channels, as known from the events, in Twilio's
//! instance and list formats (with Twilio's paging).

use std::collections::BTreeMap;

use axum::extract::{Path, RawQuery, State};
use axum::{Extension, Json};
use wallboard_shared::resources::{
    PageMeta, TaskChannel, TaskChannelPage, Workflow, WorkflowPage, Workspace, WorkspacePage,
};
use wallboard_shared::sid::TaskChannelSid;
use wallboard_shared::time::to_datetime;
use wallboard_shared::{StatisticsResource, WorkspaceSid};

use super::{ApiError, ApiResult, query_pairs};
use crate::access::Principal;
use crate::engine::registry::{ChannelRec, Known, WorkflowRec};
use crate::engine::{Engine, WorkspaceId};
use crate::state::AppState;

const DEFAULT_PAGE_SIZE: u32 = 50;
const MAX_PAGE_SIZE: u32 = 1000;

/// `PageSize` and `Page` of a list request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Paging {
    pub page: u32,
    pub page_size: u32,
}

impl From<&wallboard_shared::params::Paging> for Paging {
    /// The page of a request parsed by `wallboard_shared::params` (its `PageToken`, when
    /// given, names the page this server's own links point at, so `Page` says it all).
    fn from(p: &wallboard_shared::params::Paging) -> Self {
        Self { page: p.page, page_size: p.page_size }
    }
}

/// `PageSize` (1–1000, default 50) and `Page` of a list request (every list resource).
pub(crate) fn paging(raw: Option<&str>) -> ApiResult<Paging> {
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

/// One page of a list resource: the records a principal may see, in the order Twilio
/// lists them (first seen, then SID), cut to the page and described with absolute URLs.
/// Only the page's records are turned into resources.
pub(crate) fn list_page<R, T, O: Ord>(
    mut records: Vec<R>,
    order: impl Fn(&R) -> O,
    resource: impl Fn(R) -> T,
    p: Paging,
    list_url: &str,
    key: &str,
) -> (Vec<T>, PageMeta) {
    records.sort_by_key(|r| order(r));
    list_page_in_order(records, resource, p, list_url, &[], key)
}

/// [`list_page`] of records already in their list order; `kept` are the request's
/// filters, repeated in every page link (paging parameters are set by the page).
pub(crate) fn list_page_in_order<R, T>(
    records: Vec<R>,
    resource: impl FnMut(R) -> T,
    p: Paging,
    list_url: &str,
    kept: &[(String, String)],
    key: &str,
) -> (Vec<T>, PageMeta) {
    let start = (p.page as usize).saturating_mul(p.page_size as usize);
    let total = records.len();
    let items = records.into_iter().skip(start).take(p.page_size as usize).map(resource).collect();
    let filters: Vec<&(String, String)> =
        kept.iter().filter(|(k, _)| !matches!(k.as_str(), "PageSize" | "Page" | "PageToken")).collect();
    let filters = serde_urlencoded::to_string(&filters).unwrap_or_default();
    let url_of = |page: u32| {
        let sep = if filters.is_empty() { "" } else { "&" };
        format!("{list_url}?{filters}{sep}PageSize={}&Page={page}", p.page_size)
    };
    let meta = PageMeta {
        first_page_url: url_of(0),
        key: key.to_owned(),
        next_page_url: (start + (p.page_size as usize) < total).then(|| url_of(p.page + 1)),
        page: p.page,
        page_size: p.page_size,
        previous_page_url: (p.page > 0).then(|| url_of(p.page - 1)),
        url: url_of(p.page),
    };
    (items, meta)
}

pub(crate) fn workspace_of(engine: &Engine, ws: &str) -> ApiResult<(WorkspaceSid, WorkspaceId)> {
    let not_found = || ApiError::not_found(format!("The requested resource /Workspaces/{ws} was not found"));
    let sid = WorkspaceSid::parse(ws).map_err(|_| not_found())?;
    let id = engine.registry().workspace_id(&sid).ok_or_else(not_found)?;
    Ok((sid, id))
}

fn workspace_resource(state: &AppState, k: &Known<WorkspaceSid>) -> Workspace {
    let links = BTreeMap::from([
        ("workflows".to_owned(), state.urls.workflows(&k.sid)),
        ("task_channels".to_owned(), state.urls.task_channels(&k.sid)),
        ("task_queues".to_owned(), state.urls.task_queues(&k.sid)),
        ("workers".to_owned(), state.urls.workers(&k.sid)),
        ("activities".to_owned(), state.urls.activities(&k.sid)),
        ("events".to_owned(), state.urls.events(&k.sid)),
        ("statistics".to_owned(), state.urls.workspace_statistics(&k.sid, StatisticsResource::Statistics)),
        ("real_time_statistics".to_owned(), state.urls.workspace_statistics(&k.sid, StatisticsResource::RealTime)),
        ("cumulative_statistics".to_owned(), state.urls.workspace_statistics(&k.sid, StatisticsResource::Cumulative)),
    ]);
    Workspace {
        account_sid: state.account_sid.clone(),
        date_created: Some(to_datetime(k.first_ms)),
        date_updated: Some(to_datetime(k.last_ms)),
        default_activity_name: None,
        default_activity_sid: None,
        event_callback_url: Some(state.urls.event_callback()),
        events_filter: None,
        friendly_name: k.name.clone().unwrap_or_else(|| k.sid.to_string()),
        multi_task_enabled: true,
        prioritize_queue_order: "FIFO".into(),
        sid: k.sid.clone(),
        timeout_activity_name: None,
        timeout_activity_sid: None,
        url: state.urls.workspace(&k.sid),
        links,
    }
}

fn workflow_resource(state: &AppState, ws: &WorkspaceSid, w: &WorkflowRec) -> Workflow {
    let stats = |r| state.urls.workflow_statistics(ws, &w.known.sid, r);
    let links = BTreeMap::from([
        ("statistics".to_owned(), stats(StatisticsResource::Statistics)),
        ("real_time_statistics".to_owned(), stats(StatisticsResource::RealTime)),
        ("cumulative_statistics".to_owned(), stats(StatisticsResource::Cumulative)),
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
        url: state.urls.workflow(ws, &w.known.sid),
        links,
    }
}

fn channel_resource(state: &AppState, ws: &WorkspaceSid, c: &ChannelRec) -> TaskChannel {
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
        url: state.urls.task_channel(ws, &c.known.sid),
        links: BTreeMap::new(),
    }
}

/// Twilio's list order of resources known from events: first seen, then SID.
pub(crate) fn order<S: Ord + Clone>(k: &Known<S>) -> (i64, S) {
    (k.first_ms, k.sid.clone())
}

pub(crate) async fn list_workspaces(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<WorkspacePage>> {
    let p = paging(raw.as_deref())?;
    let engine = state.engine();
    let visible: Vec<_> =
        engine.registry().workspaces().map(|(_, k)| k).filter(|k| principal.allows_workspace(k.sid.as_str())).collect();
    let resource = |k| workspace_resource(&state, k);
    let (workspaces, meta) = list_page(visible, |k| order(k), resource, p, &state.urls.workspaces(), "workspaces");
    Ok(Json(WorkspacePage { workspaces, meta }))
}

pub(crate) async fn fetch_workspace(
    State(state): State<AppState>,
    Path(ws): Path<String>,
) -> ApiResult<Json<Workspace>> {
    let engine = state.engine();
    let (_, id) = workspace_of(&engine, &ws)?;
    Ok(Json(workspace_resource(&state, engine.registry().workspace(id))))
}

pub(crate) async fn list_workflows(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(ws): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<WorkflowPage>> {
    let p = paging(raw.as_deref())?;
    let engine = state.engine();
    let (sid, id) = workspace_of(&engine, &ws)?;
    let visible: Vec<_> = engine
        .registry()
        .workflows()
        .map(|(_, w)| w)
        .filter(|w| w.workspace == id && principal.allows_workflow(sid.as_str(), w.known.sid.as_str()))
        .collect();
    let resource = |w| workflow_resource(&state, &sid, w);
    let (workflows, meta) =
        list_page(visible, |w| order(&w.known), resource, p, &state.urls.workflows(&sid), "workflows");
    Ok(Json(WorkflowPage { workflows, meta }))
}

pub(crate) async fn fetch_workflow(
    State(state): State<AppState>,
    Path((ws, wf)): Path<(String, String)>,
) -> ApiResult<Json<Workflow>> {
    let engine = state.engine();
    let (ws_sid, _, id) = super::statistics::workflow(&engine, &ws, &wf)?;
    Ok(Json(workflow_resource(&state, &ws_sid, engine.registry().workflow(id))))
}

pub(crate) async fn list_channels(
    State(state): State<AppState>,
    Path(ws): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<TaskChannelPage>> {
    let p = paging(raw.as_deref())?;
    let engine = state.engine();
    let (sid, id) = workspace_of(&engine, &ws)?;
    let visible: Vec<_> = engine.registry().channels().map(|(_, c)| c).filter(|c| c.workspace == id).collect();
    let resource = |c| channel_resource(&state, &sid, c);
    let (channels, meta) =
        list_page(visible, |c| order(&c.known), resource, p, &state.urls.task_channels(&sid), "channels");
    Ok(Json(TaskChannelPage { channels, meta }))
}

pub(crate) async fn fetch_channel(
    State(state): State<AppState>,
    Path((ws, tc)): Path<(String, String)>,
) -> ApiResult<Json<TaskChannel>> {
    let engine = state.engine();
    let (sid, id) = workspace_of(&engine, &ws)?;
    let not_found =
        || ApiError::not_found(format!("The requested resource /Workspaces/{ws}/TaskChannels/{tc} was not found"));
    let tc_sid = TaskChannelSid::parse(&tc).map_err(|_| not_found())?;
    let (_, channel) =
        engine.registry().channels().find(|(_, c)| c.workspace == id && c.known.sid == tc_sid).ok_or_else(not_found)?;
    Ok(Json(channel_resource(&state, &sid, channel)))
}
