//! A workspace's own statistics (`Statistics`, `RealTimeStatistics`,
//! `CumulativeStatistics`, over all its workflows, queues and workers) and its Activities
//! (list and instance), as known from the events. Numbers come from
//! [`crate::source::Numbers`]; activities from the engine's floor.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use wallboard_shared::WorkspaceSid;
use wallboard_shared::envelope::{Subject, WorkspaceSubject};
use wallboard_shared::params::ActivityListQuery;
use wallboard_shared::query::parse_realtime_query;
use wallboard_shared::sid::ActivitySid;
use wallboard_shared::workers::{Activity, ActivityPage};
use wallboard_shared::workspace::{WorkspaceCumulativeStatistics, WorkspaceRealTimeStatistics, WorkspaceStatistics};

use super::resources::{list_page_in_order, workspace_of};
use super::statistics::{Answer, answer, channel, cumulative_of, mismatch, parse_statistics_query, realtime_of};
use super::{ApiError, ApiResult, query_pairs};
use crate::engine::floor::ActivityCount;
use crate::engine::{Target, View};
use crate::source::{Cumulative, Realtime};
use crate::state::AppState;

/// Who the workspace's statistics are about.
fn subject(state: &AppState, workspace_sid: WorkspaceSid) -> WorkspaceSubject {
    WorkspaceSubject { account_sid: state.account_sid.clone(), workspace_sid }
}

/// The workspace's view through an optional task channel (by name or SID).
fn view_of(state: &AppState, ws: &str, channel_name: Option<&str>) -> ApiResult<(WorkspaceSid, View)> {
    let engine = state.engine();
    let (sid, id) = workspace_of(&engine, ws)?;
    let channel = channel(&engine, &sid, channel_name)?;
    Ok((sid, View::new(Target::Workspace(id), channel)))
}

pub(crate) async fn realtime(
    State(state): State<AppState>,
    Path(ws): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Answer<WorkspaceRealTimeStatistics>> {
    let pairs = query_pairs(raw.as_deref())?;
    let channel_name = parse_realtime_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    let (sid, view) = view_of(&state, &ws, channel_name.as_deref())?;
    let (Realtime::Workspace(stats), fresh) = realtime_of(&state, view).await? else { return Err(mismatch()) };
    Ok(answer(&state, fresh, subject(&state, sid).realtime(&state.urls, stats)))
}

pub(crate) async fn cumulative(
    State(state): State<AppState>,
    Path(ws): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Answer<WorkspaceCumulativeStatistics>> {
    let query = parse_statistics_query(raw.as_deref())?;
    let window = query.window.resolve(state.clock.now_ms(), state.retention_ms)?;
    let (sid, view) = view_of(&state, &ws, query.task_channel.as_deref())?;
    let (Cumulative::Workspace(stats), fresh) = cumulative_of(&state, view, &query, window).await? else {
        return Err(mismatch());
    };
    Ok(answer(&state, fresh, subject(&state, sid).cumulative(&state.urls, stats)))
}

pub(crate) async fn statistics(
    State(state): State<AppState>,
    Path(ws): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Answer<WorkspaceStatistics>> {
    let query = parse_statistics_query(raw.as_deref())?;
    let window = query.window.resolve(state.clock.now_ms(), state.retention_ms)?;
    let (sid, view) = view_of(&state, &ws, query.task_channel.as_deref())?;
    let (c, r) =
        futures_util::future::join(cumulative_of(&state, view, &query, window), realtime_of(&state, view)).await;
    let ((Cumulative::Workspace(cumulative), c), (Realtime::Workspace(realtime), f)) = (c?, r?) else {
        return Err(mismatch());
    };
    let body = subject(&state, sid).statistics(&state.urls, cumulative, realtime);
    Ok(answer(&state, c.combine(f), body))
}

fn activity_resource(state: &AppState, ws: &WorkspaceSid, sid: ActivitySid, a: &ActivityCount) -> Activity {
    Activity {
        account_sid: state.account_sid.clone(),
        available: a.available,
        // The events do not say when an activity was created or changed.
        date_created: None,
        date_updated: None,
        friendly_name: a.friendly_name.clone().unwrap_or_else(|| a.sid.clone()),
        url: state.urls.activity(ws, &sid),
        links: BTreeMap::from([("workspace".to_owned(), state.urls.workspace(ws))]),
        sid,
        workspace_sid: ws.clone(),
    }
}

/// The workspace's activities with valid SIDs, in the floor's order (name, then SID).
fn activities(state: &AppState, ws: &str) -> ApiResult<(WorkspaceSid, Vec<(ActivitySid, ActivityCount)>)> {
    let engine = state.engine();
    let (sid, id) = workspace_of(&engine, ws)?;
    let all = engine.floor().activities(id.index());
    Ok((sid, all.into_iter().filter_map(|a| Some((ActivitySid::parse(&a.sid).ok()?, a))).collect()))
}

pub(crate) async fn list_activities(
    State(state): State<AppState>,
    Path(ws): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<ActivityPage>> {
    let pairs = query_pairs(raw.as_deref())?;
    let q = ActivityListQuery::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    let (sid, all) = activities(&state, &ws)?;
    let visible: Vec<_> = all
        .into_iter()
        .filter(|(_, a)| q.friendly_name.as_ref().is_none_or(|n| a.friendly_name.as_ref() == Some(n)))
        .filter(|(_, a)| q.available.is_none_or(|v| a.available == v))
        .collect();
    let resource = |(s, a): (ActivitySid, ActivityCount)| activity_resource(&state, &sid, s, &a);
    let (activities, meta) =
        list_page_in_order(visible, resource, (&q.paging).into(), &state.urls.activities(&sid), &pairs, "activities");
    Ok(Json(ActivityPage { activities, meta }))
}

pub(crate) async fn fetch_activity(
    State(state): State<AppState>,
    Path((ws, wa)): Path<(String, String)>,
) -> ApiResult<Json<Activity>> {
    let not_found =
        || ApiError::not_found(format!("The requested resource /Workspaces/{ws}/Activities/{wa} was not found"));
    let wanted = ActivitySid::parse(&wa).map_err(|_| not_found())?;
    let (sid, all) = activities(&state, &ws)?;
    let (s, a) = all.into_iter().find(|(s, _)| *s == wanted).ok_or_else(not_found)?;
    Ok(Json(activity_resource(&state, &sid, s, &a)))
}
