//! The three Workflow Statistics resources.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use wallboard_shared::query::parse_realtime_query;
use wallboard_shared::resources::{
    CumulativeStats, RealTimeStats, WorkflowCumulativeStatistics, WorkflowRealTimeStatistics, WorkflowStatistics,
};
use wallboard_shared::{StatisticsQuery, Window, WorkflowSid, WorkspaceSid};

use super::{ApiError, ApiResult, AppState, query_pairs};
use crate::engine::Engine;
use crate::source::mirror::{Freshness, Interest, Unavailable};

/// A statistics answer; from the mirror it says how fresh it is: `Age` (seconds since the
/// upstream gave it) and `X-Wallboard-Stale` (the last poll failed).
pub(super) struct Answer<T>(Option<Freshness>, i64, T);

impl<T: serde::Serialize> axum::response::IntoResponse for Answer<T> {
    fn into_response(self) -> axum::response::Response {
        let Answer(fresh, now_ms, body) = self;
        let mut response = Json(body).into_response();
        if let Some(f) = fresh {
            let headers = response.headers_mut();
            headers.insert(axum::http::header::AGE, ((now_ms - f.at_ms).max(0) / 1000).into());
            headers.insert(
                "x-wallboard-stale",
                axum::http::HeaderValue::from_static(if f.stale { "true" } else { "false" }),
            );
        }
        response
    }
}

/// With `--source twilio`: how long a request for numbers nobody watched yet waits for the
/// upstream's first answer.
pub const FIRST_ANSWER_WAIT: std::time::Duration = std::time::Duration::from_secs(12);

fn unavailable(e: Unavailable) -> ApiError {
    ApiError::unavailable(e.0)
}

/// Resolves path SIDs to the engine's workflow id, or 404.
pub(super) fn workflow(engine: &Engine, ws: &str, wf: &str) -> ApiResult<(WorkspaceSid, WorkflowSid, u32)> {
    let not_found =
        || ApiError::not_found(format!("The requested resource /Workspaces/{ws}/Workflows/{wf} was not found"));
    let ws_sid = WorkspaceSid::parse(ws).map_err(|_| not_found())?;
    let wf_sid = WorkflowSid::parse(wf).map_err(|_| not_found())?;
    let id = engine.registry().workflow_id(&ws_sid, &wf_sid).ok_or_else(not_found)?;
    Ok((ws_sid, wf_sid, id))
}

fn channel(engine: &Engine, ws: &WorkspaceSid, name: Option<&str>) -> ApiResult<Option<u32>> {
    name.map(|n| {
        engine
            .registry()
            .resolve_channel(ws, n)
            .ok_or_else(|| ApiError::invalid(format!("TaskChannel '{n}' is not a task channel of this workspace")))
    })
    .transpose()
}

fn parse_statistics_query(raw: Option<&str>) -> ApiResult<StatisticsQuery> {
    let pairs = query_pairs(raw)?;
    Ok(StatisticsQuery::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?)
}

/// A statistics request resolved against the engine: who, which channel, which window.
struct Resolved {
    workspace_sid: WorkspaceSid,
    workflow_sid: WorkflowSid,
    workflow: u32,
    channel: Option<u32>,
}

impl Resolved {
    fn new(engine: &Engine, ws: &str, wf: &str, channel_name: Option<&str>) -> ApiResult<Self> {
        let (workspace_sid, workflow_sid, workflow) = self::workflow(engine, ws, wf)?;
        let channel = channel(engine, &workspace_sid, channel_name)?;
        Ok(Self { workspace_sid, workflow_sid, workflow, channel })
    }

    /// The mirror's cumulative interest of this request.
    fn interest(&self, query: &StatisticsQuery) -> Interest {
        Interest::Cumulative {
            workflow: self.workflow,
            channel: self.channel,
            window: query.window,
            thresholds: query.split_by_wait_time.clone(),
        }
    }

    fn url(&self, state: &AppState, resource: &str) -> String {
        format!("{}/v1/Workspaces/{}/Workflows/{}/{resource}", state.public_url, self.workspace_sid, self.workflow_sid)
    }
}

/// The realtime numbers of `r`: from the mirror (with their freshness) or the engine.
async fn realtime_of(state: &AppState, r: &Resolved, now: i64) -> ApiResult<(RealTimeStats, Option<Freshness>)> {
    match &state.mirror {
        Some(m) => {
            let (stats, fresh) = m.realtime(r.workflow, r.channel, FIRST_ANSWER_WAIT).await.map_err(unavailable)?;
            Ok((stats, Some(fresh)))
        }
        None => Ok((state.cache.get(&state.engine(), r.workflow, r.channel, now), None)),
    }
}

/// The cumulative numbers of `r` for `query`: from the mirror (with their freshness) or the engine.
async fn cumulative_of(
    state: &AppState,
    r: &Resolved,
    query: &StatisticsQuery,
    window: Window,
) -> ApiResult<(CumulativeStats, Option<Freshness>)> {
    match &state.mirror {
        Some(m) => {
            let (stats, fresh) = m.cumulative(r.interest(query), FIRST_ANSWER_WAIT).await.map_err(unavailable)?;
            Ok((stats, Some(fresh)))
        }
        None => {
            let engine = state.engine();
            Ok((engine.cumulative(r.workflow, r.channel, window, query.split_by_wait_time.as_deref()), None))
        }
    }
}

pub(super) async fn realtime(
    State(state): State<AppState>,
    Path((ws, wf)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Answer<WorkflowRealTimeStatistics>> {
    let pairs = query_pairs(raw.as_deref())?;
    let channel_name = parse_realtime_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    let now = state.clock.now_ms();
    let r = Resolved::new(&state.engine(), &ws, &wf, channel_name.as_deref())?;
    let (stats, fresh) = realtime_of(&state, &r, now).await?;
    Ok(Answer(
        fresh,
        now,
        WorkflowRealTimeStatistics {
            url: r.url(&state, "RealTimeStatistics"),
            account_sid: state.account_sid.clone(),
            workspace_sid: r.workspace_sid,
            workflow_sid: r.workflow_sid,
            stats,
        },
    ))
}

pub(super) async fn cumulative(
    State(state): State<AppState>,
    Path((ws, wf)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Answer<WorkflowCumulativeStatistics>> {
    let query = parse_statistics_query(raw.as_deref())?;
    let now = state.clock.now_ms();
    let window = query.window.resolve(now, state.retention_ms)?;
    let r = Resolved::new(&state.engine(), &ws, &wf, query.task_channel.as_deref())?;
    let (stats, fresh) = cumulative_of(&state, &r, &query, window).await?;
    Ok(Answer(
        fresh,
        now,
        WorkflowCumulativeStatistics {
            url: r.url(&state, "CumulativeStatistics"),
            account_sid: state.account_sid.clone(),
            workspace_sid: r.workspace_sid,
            workflow_sid: r.workflow_sid,
            stats,
        },
    ))
}

pub(super) async fn statistics(
    State(state): State<AppState>,
    Path((ws, wf)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Answer<WorkflowStatistics>> {
    let query = parse_statistics_query(raw.as_deref())?;
    let now = state.clock.now_ms();
    let window = query.window.resolve(now, state.retention_ms)?;
    let r = Resolved::new(&state.engine(), &ws, &wf, query.task_channel.as_deref())?;
    let (cumulative, realtime) =
        futures_util::future::join(cumulative_of(&state, &r, &query, window), realtime_of(&state, &r, now)).await;
    let ((cumulative, c), (realtime, f)) = (cumulative?, realtime?);
    // The older and the staler of the two parts.
    let fresh = c.zip(f).map(|(c, f)| Freshness { at_ms: c.at_ms.min(f.at_ms), stale: c.stale || f.stale });
    Ok(Answer(
        fresh,
        now,
        WorkflowStatistics {
            url: r.url(&state, "Statistics"),
            account_sid: state.account_sid.clone(),
            workspace_sid: r.workspace_sid,
            workflow_sid: r.workflow_sid,
            cumulative,
            realtime,
        },
    ))
}
