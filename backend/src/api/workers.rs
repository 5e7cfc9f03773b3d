//! Workers: the read-only list and instance, a worker's Channels (list and instance), the
//! statistics of all workers (`Workers/Statistics`, `RealTimeStatistics`,
//! `CumulativeStatistics`) and of one worker (`Workers/{WK}/Statistics`). Workers are the
//! engine floor's; unfiltered numbers come from [`crate::source::Numbers`].
//!
//! `Workers/Statistics` filtered by `TaskQueueSid`, `TaskQueueName` or `FriendlyName`
//! answers for the matching workers of the floor (a queue's workers are those its
//! TargetWorkers match now): their realtime counts, and their cumulative statistics added
//! up (their reservations and their time in each activity), as one worker's
//! (`Workers/{WK}/Statistics`) are; see [`crate::source::local::chosen_workers_cumulative`].
//! `TaskChannel` keeps the reservations of tasks on that channel; it narrows neither the
//! time in each activity nor the realtime counts (a worker is in one activity whatever the
//! channel). `Workers/CumulativeStatistics` takes no worker filter (Twilio's reference has
//! none): like any unknown parameter, `TaskQueueSid`, `FriendlyName`… are ignored there.
//!
//! In mirror mode, the filtered statistics and one worker's have no upstream equivalent
//! polled: the first are 503, the second 404 (the mirror discovers no workers).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use serde_json::Value;
use wallboard_shared::envelope::{Subject, WorkersSubject};
use wallboard_shared::params::{
    Direction, OrderField, Ordering, Paging, WorkerListQuery, WorkersStatisticsQuery, parse_worker_statistics,
};
use wallboard_shared::query::parse_realtime_query;
use wallboard_shared::sid::{ActivitySid, WorkerChannelSid, WorkerSid, sid_number};
use wallboard_shared::time::to_datetime;
use wallboard_shared::workers::{
    ActivityStatistic, Worker, WorkerChannel, WorkerChannelPage, WorkerInstanceStatistics, WorkerPage,
    WorkersCumulativeStatistics, WorkersCumulativeStats, WorkersRealTimeStatistics, WorkersRealTimeStats,
    WorkersStatistics,
};
use wallboard_shared::{StatisticsResource, WorkspaceSid};

use super::resources::{list_page_in_order, workspace_of};
use super::statistics::{Answer, answer, channel, cumulative_of, mismatch, realtime_of};
use super::{ApiError, ApiResult, query_pairs};
use crate::engine::expression::Expression;
use crate::engine::floor::{QueueInfo, WorkerChannelState, WorkerState};
use crate::engine::{ChannelId, Engine, Target, View, WorkspaceId};
use crate::source::local::{activity_statistics, chosen_workers_cumulative};
use crate::source::{Cumulative, Freshness, Realtime};
use crate::state::AppState;

/// A worker of the path, or 404 in Twilio's words.
fn worker_of(engine: &Engine, ws: &str, wk: &str) -> ApiResult<(WorkspaceSid, WorkspaceId, WorkerSid, WorkerState)> {
    let not_found =
        || ApiError::not_found(format!("The requested resource /Workspaces/{ws}/Workers/{wk} was not found"));
    let (sid, id) = workspace_of(engine, ws)?;
    let wk_sid = WorkerSid::parse(wk).map_err(|_| not_found())?;
    let worker = engine.floor().worker(id.index(), wk).ok_or_else(not_found)?;
    Ok((sid, id, wk_sid, worker))
}

/// The date of a worker's last known change: its activity change, else when first seen.
fn updated_ms(w: &WorkerState) -> i64 {
    w.activity_since_ms.unwrap_or(w.first_seen_ms).max(w.first_seen_ms)
}

fn worker_resource(state: &AppState, ws: &WorkspaceSid, sid: WorkerSid, w: &WorkerState, full: bool) -> Worker {
    let links = BTreeMap::from([
        ("workspace".to_owned(), state.urls.workspace(ws)),
        ("channels".to_owned(), state.urls.worker_channels(ws, &sid)),
        ("worker_channels".to_owned(), state.urls.worker_channels(ws, &sid)),
        ("statistics".to_owned(), state.urls.worker_statistics(ws, &sid)),
        ("worker_statistics".to_owned(), state.urls.worker_statistics(ws, &sid)),
        ("real_time_statistics".to_owned(), state.urls.workers_statistics(ws, StatisticsResource::RealTime)),
        ("cumulative_statistics".to_owned(), state.urls.workers_statistics(ws, StatisticsResource::Cumulative)),
    ]);
    let activity_sid = w.activity_sid.as_deref().and_then(|a| ActivitySid::parse(a).ok());
    Worker {
        account_sid: state.account_sid.clone(),
        activity_name: w.activity_name.clone().or_else(|| w.activity_sid.clone()).filter(|_| activity_sid.is_some()),
        activity_sid,
        // Twilio shows the attributes only when one worker is fetched.
        attributes: full.then(|| w.attributes.to_string()),
        available: w.available,
        date_created: Some(to_datetime(w.first_seen_ms)),
        date_status_changed: w.activity_since_ms.map(to_datetime),
        date_updated: Some(to_datetime(updated_ms(w))),
        friendly_name: w.friendly_name.clone().unwrap_or_else(|| w.sid.clone()),
        workspace_sid: ws.clone(),
        url: state.urls.worker(ws, &sid),
        links,
        sid,
    }
}

/// What a `TargetWorkersExpression` of the Workers list sees: the worker's attributes
/// plus `sid`, `friendly_name`, `activity_sid` and `activity_name` (which win over
/// attributes of the same names).
fn expression_subject(w: &WorkerState) -> Value {
    let mut map = match &w.attributes {
        Value::Object(m) => m.clone(),
        _ => serde_json::Map::new(),
    };
    let mut put = |k: &str, v: Option<&String>| {
        map.insert(k.to_owned(), v.map_or(Value::Null, |s| Value::String(s.clone())));
    };
    put("sid", Some(&w.sid));
    put("friendly_name", w.friendly_name.as_ref());
    put("activity_sid", w.activity_sid.as_ref());
    put("activity_name", w.activity_name.as_ref());
    Value::Object(map)
}

/// The queue named by `TaskQueueSid` and/or `TaskQueueName` (both must name it), parsed.
/// `Ok(None)` when no queue filter is given; a filter naming no queue matches no worker.
fn queue_filter(
    engine: &Engine,
    id: WorkspaceId,
    sid: Option<&str>,
    name: Option<&String>,
) -> Option<Option<Expression>> {
    if sid.is_none() && name.is_none() {
        return None;
    }
    let queues = engine.floor().queues(id.index());
    let q: Option<&QueueInfo> = queues
        .iter()
        .find(|q| sid.is_none_or(|s| q.sid == s) && name.is_none_or(|n| q.friendly_name.as_ref() == Some(n)));
    Some(q.and_then(|q| q.target_workers.as_deref()).and_then(|t| Expression::parse(t).ok()))
}

fn keep_eligible(workers: &mut Vec<WorkerState>, filter: Option<Option<Expression>>) {
    match filter {
        None => {}
        Some(None) => workers.clear(),
        Some(Some(e)) => workers.retain(|w| e.matches(&w.attributes)),
    }
}

fn sort_workers(workers: &mut [WorkerState], ordering: &Ordering) {
    workers.sort_by(|a, b| {
        ordering
            .0
            .iter()
            .map(|(field, dir)| {
                let o = match field {
                    OrderField::DateCreated => a.first_seen_ms.cmp(&b.first_seen_ms),
                    OrderField::DateUpdated => updated_ms(a).cmp(&updated_ms(b)),
                    OrderField::DateStatusChanged => a.activity_since_ms.cmp(&b.activity_since_ms),
                    OrderField::FriendlyName => a.friendly_name.cmp(&b.friendly_name),
                    OrderField::ActivityName => a.activity_name.cmp(&b.activity_name),
                };
                if *dir == Direction::Desc { o.reverse() } else { o }
            })
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
}

/// The workers of a workspace in Twilio's list order (first seen, then SID).
fn workers_in_order(engine: &Engine, id: WorkspaceId) -> Vec<WorkerState> {
    let mut workers = engine.floor().workers(id.index());
    workers.sort_by(|a, b| (a.first_seen_ms, &a.sid).cmp(&(b.first_seen_ms, &b.sid)));
    workers
}

/// The workers the Workers list's filters and ordering keep (every page of them).
fn listed_workers(
    state: &AppState,
    ws: &str,
    q: &WorkerListQuery,
) -> ApiResult<(WorkspaceSid, Vec<(WorkerSid, WorkerState)>)> {
    let expression = q
        .target_workers_expression
        .as_deref()
        .map(Expression::parse)
        .transpose()
        .map_err(|e| ApiError::invalid(format!("TargetWorkersExpression is not a TaskRouter expression: {e}")))?;
    let engine = state.engine();
    let (sid, id) = workspace_of(&engine, ws)?;
    let mut workers = workers_in_order(&engine, id);
    if let Some(name) = &q.activity_name {
        workers.retain(|w| w.activity_name.as_ref() == Some(name));
    }
    if let Some(a) = &q.activity_sid {
        workers.retain(|w| w.activity_sid.as_deref() == Some(a.as_str()));
    }
    if let Some(available) = q.available {
        workers.retain(|w| w.available == available);
    }
    if let Some(name) = &q.friendly_name {
        workers.retain(|w| w.friendly_name.as_ref() == Some(name));
    }
    if let Some(e) = &expression {
        workers.retain(|w| e.matches(&expression_subject(w)));
    }
    let filter = queue_filter(&engine, id, q.task_queue_sid.as_ref().map(|s| s.as_str()), q.task_queue_name.as_ref());
    keep_eligible(&mut workers, filter);
    if let Some(ordering) = &q.ordering {
        sort_workers(&mut workers, ordering);
    }
    let records: Vec<_> = workers.into_iter().filter_map(|w| Some((WorkerSid::parse(&w.sid).ok()?, w))).collect();
    Ok((sid, records))
}

pub(crate) async fn list_workers(
    State(state): State<AppState>,
    Path(ws): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<WorkerPage>> {
    let pairs = query_pairs(raw.as_deref())?;
    let q = WorkerListQuery::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    let (sid, records) = listed_workers(&state, &ws, &q)?;
    let resource = |(s, w): (WorkerSid, WorkerState)| worker_resource(&state, &sid, s, &w, false);
    let (workers, meta) =
        list_page_in_order(records, resource, (&q.paging).into(), &state.urls.workers(&sid), &pairs, "workers");
    Ok(Json(WorkerPage { workers, meta }))
}

pub(crate) async fn fetch_worker(
    State(state): State<AppState>,
    Path((ws, wk)): Path<(String, String)>,
) -> ApiResult<Json<Worker>> {
    let engine = state.engine();
    let (sid, _, wk_sid, w) = worker_of(&engine, &ws, &wk)?;
    Ok(Json(worker_resource(&state, &sid, wk_sid, &w, true)))
}

/// A worker as the Workers list shows it, with its Channels list.
pub(crate) type WorkerRow = (Worker, Vec<WorkerChannel>);

/// Every worker the Workers list gives for `pairs` (its filters and ordering, all pages),
/// as the list and the Channels list show them: the rows of the agents table's export.
pub(crate) fn export_rows(
    state: &AppState,
    ws: &str,
    pairs: &[(String, String)],
) -> ApiResult<(WorkspaceSid, Vec<WorkerRow>)> {
    let q = WorkerListQuery::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    let (sid, records) = listed_workers(state, ws, &q)?;
    let engine = state.engine();
    let rows = records
        .into_iter()
        .map(|(wk, w)| {
            let channels = w.channels.iter().map(|c| channel_resource(state, &engine, &sid, &wk, &w, c)).collect();
            (worker_resource(state, &sid, wk, &w, false), channels)
        })
        .collect();
    Ok((sid, rows))
}

/// A worker channel's SID: made up from the worker's and the task channel's numbers (the
/// events carry no WorkerChannel SID), stable for the pair.
fn worker_channel_sid(worker: &WorkerSid, channel: &wallboard_shared::TaskChannelSid) -> WorkerChannelSid {
    WorkerChannelSid::from_u128(worker.to_u128() ^ channel.to_u128().rotate_left(64))
}

fn channel_resource(
    state: &AppState,
    engine: &Engine,
    ws: &WorkspaceSid,
    wk: &WorkerSid,
    w: &WorkerState,
    c: &WorkerChannelState,
) -> WorkerChannel {
    let rec = engine.registry().channel(ChannelId::from_index(c.channel));
    let sid = worker_channel_sid(wk, &rec.known.sid);
    let clamp = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
    WorkerChannel {
        account_sid: state.account_sid.clone(),
        assigned_tasks: clamp(c.assigned_tasks),
        available: c.available,
        available_capacity_percentage: clamp(c.available_capacity_percentage),
        configured_capacity: clamp(c.configured_capacity),
        date_created: Some(to_datetime(w.first_seen_ms)),
        date_updated: Some(to_datetime(updated_ms(w))),
        task_channel_sid: rec.known.sid.clone(),
        task_channel_unique_name: rec.known.name.clone().unwrap_or_else(|| rec.known.sid.to_string()),
        worker_sid: wk.clone(),
        workspace_sid: ws.clone(),
        url: state.urls.worker_channel(ws, wk, &sid),
        sid,
    }
}

pub(crate) async fn list_channels(
    State(state): State<AppState>,
    Path((ws, wk)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<WorkerChannelPage>> {
    let pairs = query_pairs(raw.as_deref())?;
    let paging = Paging::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    let engine = state.engine();
    let (sid, _, wk_sid, w) = worker_of(&engine, &ws, &wk)?;
    let resource = |c: &WorkerChannelState| channel_resource(&state, &engine, &sid, &wk_sid, &w, c);
    let url = state.urls.worker_channels(&sid, &wk_sid);
    let (channels, meta) =
        list_page_in_order(w.channels.iter().collect(), resource, (&paging).into(), &url, &pairs, "channels");
    Ok(Json(WorkerChannelPage { channels, meta }))
}

/// One channel of a worker, named by its WorkerChannel SID, its task channel's SID or
/// its task channel's unique name (as Twilio accepts).
pub(crate) async fn fetch_channel(
    State(state): State<AppState>,
    Path((ws, wk, wc)): Path<(String, String, String)>,
) -> ApiResult<Json<WorkerChannel>> {
    let engine = state.engine();
    let (sid, _, wk_sid, w) = worker_of(&engine, &ws, &wk)?;
    let found = w.channels.iter().find(|c| {
        let rec = engine.registry().channel(ChannelId::from_index(c.channel));
        wc == rec.known.sid.as_str()
            || rec.known.name.as_deref() == Some(wc.as_str())
            || wc == worker_channel_sid(&wk_sid, &rec.known.sid).as_str()
    });
    let c = found.ok_or_else(|| {
        ApiError::not_found(format!("The requested resource /Workspaces/{ws}/Workers/{wk}/Channels/{wc} was not found"))
    })?;
    Ok(Json(channel_resource(&state, &engine, &sid, &wk_sid, &w, c)))
}

/// Who the workers' statistics are about.
fn subject(state: &AppState, workspace_sid: WorkspaceSid) -> WorkersSubject {
    WorkersSubject { account_sid: state.account_sid.clone(), workspace_sid }
}

/// The workers' view through an optional task channel.
fn view_of(state: &AppState, ws: &str, channel_name: Option<&str>) -> ApiResult<(WorkspaceSid, View)> {
    let engine = state.engine();
    let (sid, id) = workspace_of(&engine, ws)?;
    let channel = channel(&engine, &sid, channel_name)?;
    Ok((sid, View::new(Target::Workers(id), channel)))
}

async fn workers_realtime(state: &AppState, view: View) -> ApiResult<(WorkersRealTimeStats, Freshness)> {
    match realtime_of(state, view).await? {
        (Realtime::Workers(s), f) => Ok((s, f)),
        _ => Err(mismatch()),
    }
}

pub(crate) async fn realtime(
    State(state): State<AppState>,
    Path(ws): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Answer<WorkersRealTimeStatistics>> {
    let pairs = query_pairs(raw.as_deref())?;
    let channel_name = parse_realtime_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    let (sid, view) = view_of(&state, &ws, channel_name.as_deref())?;
    let (stats, fresh) = workers_realtime(&state, view).await?;
    Ok(answer(&state, fresh, subject(&state, sid).realtime(&state.urls, stats)))
}

pub(crate) async fn cumulative(
    State(state): State<AppState>,
    Path(ws): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Answer<WorkersCumulativeStatistics>> {
    let pairs = query_pairs(raw.as_deref())?;
    let query = parse_worker_statistics(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    let window = query.window.resolve(state.clock.now_ms(), state.retention_ms)?;
    let (sid, view) = view_of(&state, &ws, query.task_channel.as_deref())?;
    let (Cumulative::Workers(stats), fresh) = cumulative_of(&state, view, &query, window).await? else {
        return Err(mismatch());
    };
    Ok(answer(&state, fresh, subject(&state, sid).cumulative(&state.urls, stats)))
}

/// Realtime counts of a chosen set of workers: every activity of the workspace with the
/// number of those workers in it.
fn filtered_realtime(engine: &Engine, id: WorkspaceId, workers: &[WorkerState]) -> WorkersRealTimeStats {
    let activity_statistics: Vec<ActivityStatistic> = activity_statistics(&engine.floor().activities(id.index()))
        .into_iter()
        .map(|mut a| {
            a.workers = workers.iter().filter(|w| w.activity_sid.as_deref() == Some(a.sid.as_str())).count() as u64;
            a
        })
        .collect();
    WorkersRealTimeStats { activity_statistics, total_workers: workers.len() as u64 }
}

/// `Workers/Statistics`: realtime and cumulative, of all workers or of those the filters
/// choose (from the floor and each chosen worker's history; local numbers only).
pub(crate) async fn statistics(
    State(state): State<AppState>,
    Path(ws): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Answer<WorkersStatistics>> {
    let pairs = query_pairs(raw.as_deref())?;
    let q = WorkersStatisticsQuery::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    let window = q.statistics.window.resolve(state.clock.now_ms(), state.retention_ms)?;
    let (sid, view) = view_of(&state, &ws, q.statistics.task_channel.as_deref())?;
    let about = subject(&state, sid);
    let filtered = q.task_queue_sid.is_some() || q.task_queue_name.is_some() || q.friendly_name.is_some();
    if filtered {
        if state.numbers.polled() {
            return Err(ApiError::unavailable(
                "Workers/Statistics with TaskQueueSid, TaskQueueName or FriendlyName is not mirrored yet",
            ));
        }
        let (realtime, cumulative) = {
            let engine = state.engine();
            let Target::Workers(id) = view.target else { return Err(mismatch()) };
            let mut workers = engine.floor().workers(id.index());
            if let Some(name) = &q.friendly_name {
                workers.retain(|w| w.friendly_name.as_ref() == Some(name));
            }
            let filter =
                queue_filter(&engine, id, q.task_queue_sid.as_ref().map(|s| s.as_str()), q.task_queue_name.as_ref());
            keep_eligible(&mut workers, filter);
            let keys: Vec<u128> = workers.iter().filter_map(|w| sid_number("WK", &w.sid)).collect();
            (
                filtered_realtime(&engine, id, &workers),
                chosen_workers_cumulative(&engine, id, &keys, view.channel, window),
            )
        };
        let body = about.statistics(&state.urls, cumulative, realtime);
        return Ok(answer(&state, Freshness::current(state.clock.now_ms()), body));
    }
    let (c, r) =
        futures_util::future::join(cumulative_of(&state, view, &q.statistics, window), workers_realtime(&state, view))
            .await;
    let ((cumulative, c), (realtime, f)) = match (c?, r?) {
        ((Cumulative::Workers(c), cf), r) => ((c, cf), r),
        _ => return Err(mismatch()),
    };
    let body = about.statistics(&state.urls, cumulative, realtime);
    Ok(answer(&state, c.combine(f), body))
}

/// `Workers/{WK}/Statistics`: one worker's cumulative statistics for the window asked: its
/// reservations (of tasks on `TaskChannel` when given) and its time in each activity.
pub(crate) async fn worker_statistics(
    State(state): State<AppState>,
    Path((ws, wk)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<WorkerInstanceStatistics>> {
    let pairs = query_pairs(raw.as_deref())?;
    let query = parse_worker_statistics(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    let window = query.window.resolve(state.clock.now_ms(), state.retention_ms)?;
    let engine = state.engine();
    let (sid, id, wk_sid, _) = worker_of(&engine, &ws, &wk)?;
    let channel = channel(&engine, &sid, query.task_channel.as_deref())?;
    if state.numbers.polled() {
        // Unreachable while the mirror discovers no workers (404 above); kept for when it does.
        return Err(ApiError::unavailable("Workers/{WorkerSid}/Statistics is not mirrored yet"));
    }
    let cumulative: WorkersCumulativeStats =
        chosen_workers_cumulative(&engine, id, &[wk_sid.to_u128()], channel, window);
    Ok(Json(WorkerInstanceStatistics {
        account_sid: state.account_sid.clone(),
        url: state.urls.worker_statistics(&sid, &wk_sid),
        workspace_sid: sid,
        worker_sid: wk_sid,
        cumulative,
    }))
}
