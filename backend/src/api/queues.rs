//! TaskQueues: the read-only list and instance, a queue's three statistics resources, the
//! paged statistics of every queue (`GET TaskQueues/Statistics`) and the bulk realtime
//! statistics of chosen queues (`POST TaskQueues/RealTimeStatistics`). Queues are the
//! engine floor's; numbers come from [`crate::source::Numbers`].

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, header};
use serde_json::Value;
use wallboard_shared::envelope::{Subject, TaskQueueSubject};
use wallboard_shared::params::{
    BulkQueues, Direction, OrderField, Ordering, TaskQueueListQuery, TaskQueuesStatisticsQuery,
};
use wallboard_shared::query::parse_realtime_query;
use wallboard_shared::queues::{
    BulkTaskQueueData, TaskOrder, TaskQueue, TaskQueueBulkRealTimeStatistics, TaskQueueCumulativeStatistics,
    TaskQueueCumulativeStats, TaskQueuePage, TaskQueueRealTimeStatistics, TaskQueueRealTimeStats, TaskQueueStatistics,
    TaskQueuesStatistics, TaskQueuesStatisticsPage,
};
use wallboard_shared::time::to_datetime;
use wallboard_shared::{StatisticsQuery, StatisticsResource, TaskQueueSid, Window, WorkspaceSid};

use super::resources::{list_page_in_order, workspace_of};
use super::statistics::{Answer, answer, channel, cumulative_of, mismatch, parse_statistics_query, realtime_of};
use super::{ApiError, ApiResult, query_pairs};
use crate::engine::expression::Expression;
use crate::engine::floor::QueueInfo;
use crate::engine::target::QueueId;
use crate::engine::{ChannelId, Engine, Target, View, WorkspaceId};
use crate::source::{Cumulative, Freshness, Realtime};
use crate::state::AppState;

/// A queue of the path, or 404 in Twilio's words.
pub(crate) fn queue_of(engine: &Engine, ws: &str, wq: &str) -> ApiResult<(WorkspaceSid, QueueInfo)> {
    let not_found =
        || ApiError::not_found(format!("The requested resource /Workspaces/{ws}/TaskQueues/{wq} was not found"));
    let (sid, id) = workspace_of(engine, ws)?;
    TaskQueueSid::parse(wq).map_err(|_| not_found())?;
    let floor = engine.floor();
    let queue = floor.queue_id_of(id.index(), wq).and_then(|q| floor.queue(q)).ok_or_else(not_found)?;
    Ok((sid, queue))
}

/// The queue's SID as the wire type (the floor keeps only well-formed `WQ…` SIDs of
/// queues it was told about, so a malformed one is skipped where lists are built).
fn queue_sid(q: &QueueInfo) -> Option<TaskQueueSid> {
    TaskQueueSid::parse(&q.sid).ok()
}

/// Who a queue's statistics are about.
fn subject(state: &AppState, workspace_sid: WorkspaceSid, task_queue_sid: TaskQueueSid) -> TaskQueueSubject {
    TaskQueueSubject { account_sid: state.account_sid.clone(), workspace_sid, task_queue_sid }
}

fn view(q: &QueueInfo, channel: Option<ChannelId>) -> View {
    View::new(Target::TaskQueue(QueueId::from_index(q.id)), channel)
}

fn queue_resource(state: &AppState, ws: &WorkspaceSid, sid: TaskQueueSid, q: &QueueInfo) -> TaskQueue {
    let stats = |r| state.urls.task_queue_statistics(ws, &sid, r);
    let links = BTreeMap::from([
        ("workspace".to_owned(), state.urls.workspace(ws)),
        ("statistics".to_owned(), stats(StatisticsResource::Statistics)),
        ("real_time_statistics".to_owned(), stats(StatisticsResource::RealTime)),
        ("cumulative_statistics".to_owned(), stats(StatisticsResource::Cumulative)),
        ("list_statistics".to_owned(), state.urls.task_queues_statistics(ws)),
        ("bulk_real_time_statistics".to_owned(), state.urls.task_queues_real_time_statistics(ws)),
    ]);
    TaskQueue {
        account_sid: state.account_sid.clone(),
        // The events do not name the queue's assignment and reservation activities.
        assignment_activity_sid: None,
        assignment_activity_name: None,
        date_created: Some(to_datetime(q.first_seen_ms)),
        date_updated: Some(to_datetime(q.first_seen_ms)),
        friendly_name: q.friendly_name.clone().unwrap_or_else(|| q.sid.clone()),
        // TaskRouter's default; the events do not carry it.
        max_reserved_workers: 1,
        reservation_activity_sid: None,
        reservation_activity_name: None,
        target_workers: q.target_workers.clone(),
        task_order: TaskOrder::Fifo,
        url: state.urls.task_queue(ws, &sid),
        workspace_sid: ws.clone(),
        links,
        sid,
    }
}

/// Whether a queue's TargetWorkers match `attributes` (an unknown or malformed expression
/// matches nobody, as for eligibility).
fn matches(q: &QueueInfo, attributes: &Value) -> bool {
    q.target_workers.as_deref().and_then(|t| Expression::parse(t).ok()).is_some_and(|e| e.matches(attributes))
}

/// Sorts `queues` by `Ordering` (ties keep their current order).
fn sort_queues(queues: &mut [QueueInfo], ordering: &Ordering) {
    queues.sort_by(|a, b| {
        ordering
            .0
            .iter()
            .map(|(field, dir)| {
                let o = match field {
                    OrderField::FriendlyName => a.friendly_name.cmp(&b.friendly_name),
                    // Creation is the first event seen; nothing tells a later update.
                    _ => a.first_seen_ms.cmp(&b.first_seen_ms),
                };
                if *dir == Direction::Desc { o.reverse() } else { o }
            })
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
}

/// The queues of a workspace in Twilio's list order (first seen, then SID).
fn queues_in_order(engine: &Engine, id: WorkspaceId) -> Vec<QueueInfo> {
    let mut queues = engine.floor().queues(id.index());
    queues.sort_by(|a, b| (a.first_seen_ms, &a.sid).cmp(&(b.first_seen_ms, &b.sid)));
    queues
}

pub(crate) async fn list_queues(
    State(state): State<AppState>,
    Path(ws): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<TaskQueuePage>> {
    let pairs = query_pairs(raw.as_deref())?;
    let q = TaskQueueListQuery::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    let engine = state.engine();
    let (sid, id) = workspace_of(&engine, &ws)?;
    let mut queues = queues_in_order(&engine, id);
    if let Some(name) = &q.friendly_name {
        queues.retain(|x| x.friendly_name.as_ref() == Some(name));
    }
    if let Some(attrs) = &q.evaluate_worker_attributes {
        let attrs = Value::Object(attrs.clone());
        queues.retain(|x| matches(x, &attrs));
    }
    if let Some(worker) = &q.worker_sid {
        // An unknown worker is eligible for nothing.
        let attrs = engine.floor().worker(id.index(), worker.as_str()).map(|w| w.attributes);
        queues.retain(|x| attrs.as_ref().is_some_and(|a| matches(x, a)));
    }
    if let Some(ordering) = &q.ordering {
        sort_queues(&mut queues, ordering);
    }
    let records: Vec<_> = queues.into_iter().filter_map(|x| Some((queue_sid(&x)?, x))).collect();
    let resource = |(s, x): (TaskQueueSid, QueueInfo)| queue_resource(&state, &sid, s, &x);
    let (task_queues, meta) =
        list_page_in_order(records, resource, (&q.paging).into(), &state.urls.task_queues(&sid), &pairs, "task_queues");
    Ok(Json(TaskQueuePage { task_queues, meta }))
}

pub(crate) async fn fetch_queue(
    State(state): State<AppState>,
    Path((ws, wq)): Path<(String, String)>,
) -> ApiResult<Json<TaskQueue>> {
    let engine = state.engine();
    let (sid, q) = queue_of(&engine, &ws, &wq)?;
    let qs = queue_sid(&q).ok_or_else(|| ApiError::not_found(format!("TaskQueue {wq} was not found")))?;
    Ok(Json(queue_resource(&state, &sid, qs, &q)))
}

/// A queue's statistics request resolved: the workspace, the queue's SID and its view.
pub(crate) fn resolve(
    state: &AppState,
    ws: &str,
    wq: &str,
    channel_name: Option<&str>,
) -> ApiResult<(WorkspaceSid, TaskQueueSid, View)> {
    let engine = state.engine();
    let (sid, q) = queue_of(&engine, ws, wq)?;
    let qs = queue_sid(&q).ok_or_else(|| ApiError::not_found(format!("TaskQueue {wq} was not found")))?;
    let channel = channel(&engine, &sid, channel_name)?;
    Ok((sid, qs, view(&q, channel)))
}

async fn queue_realtime(state: &AppState, view: View) -> ApiResult<(TaskQueueRealTimeStats, Freshness)> {
    match realtime_of(state, view).await? {
        (Realtime::TaskQueue(s), f) => Ok((s, f)),
        _ => Err(mismatch()),
    }
}

async fn queue_cumulative(
    state: &AppState,
    view: View,
    query: &StatisticsQuery,
    window: Window,
) -> ApiResult<(TaskQueueCumulativeStats, Freshness)> {
    match cumulative_of(state, view, query, window).await? {
        (Cumulative::TaskQueue(s), f) => Ok((s, f)),
        _ => Err(mismatch()),
    }
}

pub(crate) async fn realtime(
    State(state): State<AppState>,
    Path((ws, wq)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Answer<TaskQueueRealTimeStatistics>> {
    let pairs = query_pairs(raw.as_deref())?;
    let channel_name = parse_realtime_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    let (sid, qs, view) = resolve(&state, &ws, &wq, channel_name.as_deref())?;
    let (stats, fresh) = queue_realtime(&state, view).await?;
    Ok(answer(&state, fresh, subject(&state, sid, qs).realtime(&state.urls, stats)))
}

pub(crate) async fn cumulative(
    State(state): State<AppState>,
    Path((ws, wq)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Answer<TaskQueueCumulativeStatistics>> {
    let query = parse_statistics_query(raw.as_deref())?;
    let window = query.window.resolve(state.clock.now_ms(), state.retention_ms)?;
    let (sid, qs, view) = resolve(&state, &ws, &wq, query.task_channel.as_deref())?;
    let (stats, fresh) = queue_cumulative(&state, view, &query, window).await?;
    Ok(answer(&state, fresh, subject(&state, sid, qs).cumulative(&state.urls, stats)))
}

pub(crate) async fn statistics(
    State(state): State<AppState>,
    Path((ws, wq)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Answer<TaskQueueStatistics>> {
    let query = parse_statistics_query(raw.as_deref())?;
    let window = query.window.resolve(state.clock.now_ms(), state.retention_ms)?;
    let (sid, qs, view) = resolve(&state, &ws, &wq, query.task_channel.as_deref())?;
    let (c, r) =
        futures_util::future::join(queue_cumulative(&state, view, &query, window), queue_realtime(&state, view)).await;
    let ((cumulative, c), (realtime, f)) = (c?, r?);
    let body = subject(&state, sid, qs).statistics(&state.urls, cumulative, realtime);
    Ok(answer(&state, c.combine(f), body))
}

/// `GET TaskQueues/Statistics`: every queue's statistics, paged, optionally only the
/// queue of one `FriendlyName`.
pub(crate) async fn list_statistics(
    State(state): State<AppState>,
    Path(ws): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Answer<TaskQueuesStatisticsPage>> {
    let pairs = query_pairs(raw.as_deref())?;
    let q = TaskQueuesStatisticsQuery::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    let window = q.statistics.window.resolve(state.clock.now_ms(), state.retention_ms)?;
    let (sid, page, meta) = {
        let engine = state.engine();
        let (sid, id) = workspace_of(&engine, &ws)?;
        let channel = channel(&engine, &sid, q.statistics.task_channel.as_deref())?;
        let mut queues = queues_in_order(&engine, id);
        if let Some(name) = &q.friendly_name {
            queues.retain(|x| x.friendly_name.as_ref() == Some(name));
        }
        let records: Vec<_> = queues.into_iter().filter_map(|x| Some((queue_sid(&x)?, view(&x, channel)))).collect();
        let url = state.urls.task_queues_statistics(&sid);
        let (page, meta) =
            list_page_in_order(records, |r| r, (&q.paging).into(), &url, &pairs, "task_queues_statistics");
        (sid, page, meta)
    };
    // Every queue of the page at once: from a mirror, each may wait for a first answer.
    let answers = futures_util::future::join_all(page.into_iter().map(|(qs, view)| {
        let (state, statistics) = (&state, &q.statistics);
        async move {
            let (c, r) = futures_util::future::join(
                queue_cumulative(state, view, statistics, window),
                queue_realtime(state, view),
            )
            .await;
            Ok::<_, ApiError>((qs, c?, r?))
        }
    }))
    .await;
    let mut fresh = Freshness::current(state.clock.now_ms());
    let mut task_queues_statistics = Vec::with_capacity(answers.len());
    for answer in answers {
        let (qs, (cumulative, c), (realtime, f)) = answer?;
        fresh = fresh.combine(c).combine(f);
        task_queues_statistics.push(TaskQueuesStatistics {
            account_sid: state.account_sid.clone(),
            workspace_sid: sid.clone(),
            task_queue_sid: qs,
            cumulative,
            realtime,
        });
    }
    Ok(answer(&state, fresh, TaskQueuesStatisticsPage { task_queues_statistics, meta }))
}

/// Reads `QueueSids` from a JSON body (when the request says it is JSON, or looks like
/// it) or from a form.
fn bulk_queues(headers: &HeaderMap, body: &[u8]) -> ApiResult<BulkQueues> {
    let text = std::str::from_utf8(body).map_err(|_| ApiError::invalid("the body is not UTF-8"))?;
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/json"))
        || text.trim_start().starts_with(['{', '[']);
    if json {
        return Ok(BulkQueues::from_json(text)?);
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(text)
        .map_err(|_| ApiError::invalid("the body is not application/x-www-form-urlencoded"))?;
    Ok(BulkQueues::from_form(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?)
}

/// `POST TaskQueues/RealTimeStatistics`: the realtime statistics of 1 to 50 queues, in
/// the order asked. An unknown queue makes the whole request 404.
pub(crate) async fn bulk_realtime(
    State(state): State<AppState>,
    Path(ws): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Answer<TaskQueueBulkRealTimeStatistics>> {
    let body = body.map_err(|e| ApiError::too_large(format!("cannot read the request body: {e}")))?;
    let pairs = query_pairs(raw.as_deref())?;
    let channel_name = parse_realtime_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    let wanted = bulk_queues(&headers, &body)?;
    let (sid, views) = {
        let engine = state.engine();
        let (sid, id) = workspace_of(&engine, &ws)?;
        let channel = channel(&engine, &sid, channel_name.as_deref())?;
        let mut views = Vec::with_capacity(wanted.0.len());
        for qs in wanted.0 {
            let floor = engine.floor();
            let q = floor.queue_id_of(id.index(), qs.as_str()).and_then(|q| floor.queue(q)).ok_or_else(|| {
                ApiError::not_found(format!("The requested resource /Workspaces/{ws}/TaskQueues/{qs} was not found"))
            })?;
            views.push((qs, view(&q, channel)));
        }
        (sid, views)
    };
    // Every queue at once: from a mirror, each may wait for a first answer.
    let answers = futures_util::future::join_all(views.into_iter().map(|(qs, view)| {
        let state = &state;
        async move { queue_realtime(state, view).await.map(|(stats, f)| (qs, stats, f)) }
    }))
    .await;
    let mut fresh = Freshness::current(state.clock.now_ms());
    let mut task_queue_data = Vec::with_capacity(answers.len());
    for answer in answers {
        let (qs, stats, f) = answer?;
        fresh = fresh.combine(f);
        task_queue_data.push(BulkTaskQueueData::from_stats(qs, stats));
    }
    let body = TaskQueueBulkRealTimeStatistics {
        account_sid: state.account_sid.clone(),
        url: state.urls.task_queues_real_time_statistics(&sid),
        workspace_sid: sid,
        task_queue_response_count: task_queue_data.len() as u64,
        task_queue_data,
    };
    Ok(answer(&state, fresh, body))
}
