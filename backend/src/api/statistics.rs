//! The three Workflow Statistics resources.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use wallboard_shared::query::parse_realtime_query;
use wallboard_shared::resources::{WorkflowCumulativeStatistics, WorkflowRealTimeStatistics, WorkflowStatistics};
use wallboard_shared::{StatisticsQuery, WorkflowSid, WorkspaceSid};

use super::{ApiError, ApiResult, AppState, query_pairs};
use crate::engine::Engine;
use crate::source::mirror::{Interest, Unavailable};

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

pub(super) async fn realtime(
    State(state): State<AppState>,
    Path((ws, wf)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<WorkflowRealTimeStatistics>> {
    let pairs = query_pairs(raw.as_deref())?;
    let channel_name = parse_realtime_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    let now = state.clock.now_ms();
    let stats = if let Some(m) = &state.mirror {
        let r = Resolved::new(&state.engine(), &ws, &wf, channel_name.as_deref())?;
        let (stats, _) = m.realtime(r.workflow, r.channel, FIRST_ANSWER_WAIT).await.map_err(unavailable)?;
        (r, stats)
    } else {
        let engine = state.engine();
        let r = Resolved::new(&engine, &ws, &wf, channel_name.as_deref())?;
        let stats = state.cache.get(&engine, r.workflow, r.channel, now);
        (r, stats)
    };
    let (r, stats) = stats;
    Ok(Json(WorkflowRealTimeStatistics {
        url: r.url(&state, "RealTimeStatistics"),
        account_sid: state.account_sid.clone(),
        workspace_sid: r.workspace_sid,
        workflow_sid: r.workflow_sid,
        stats,
    }))
}

pub(super) async fn cumulative(
    State(state): State<AppState>,
    Path((ws, wf)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<WorkflowCumulativeStatistics>> {
    let query = parse_statistics_query(raw.as_deref())?;
    let window = query.window.resolve(state.clock.now_ms(), state.retention_ms)?;
    let (r, stats) = if let Some(m) = &state.mirror {
        let r = Resolved::new(&state.engine(), &ws, &wf, query.task_channel.as_deref())?;
        let (stats, _) = m.cumulative(r.interest(&query), FIRST_ANSWER_WAIT).await.map_err(unavailable)?;
        (r, stats)
    } else {
        let engine = state.engine();
        let r = Resolved::new(&engine, &ws, &wf, query.task_channel.as_deref())?;
        let stats = engine.cumulative(r.workflow, r.channel, window, query.split_by_wait_time.as_deref());
        (r, stats)
    };
    Ok(Json(WorkflowCumulativeStatistics {
        url: r.url(&state, "CumulativeStatistics"),
        account_sid: state.account_sid.clone(),
        workspace_sid: r.workspace_sid,
        workflow_sid: r.workflow_sid,
        stats,
    }))
}

pub(super) async fn statistics(
    State(state): State<AppState>,
    Path((ws, wf)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<WorkflowStatistics>> {
    let query = parse_statistics_query(raw.as_deref())?;
    let now = state.clock.now_ms();
    let window = query.window.resolve(now, state.retention_ms)?;
    let (r, cumulative, realtime) = if let Some(m) = &state.mirror {
        let r = Resolved::new(&state.engine(), &ws, &wf, query.task_channel.as_deref())?;
        let (cumulative, realtime) = futures_util::future::join(
            m.cumulative(r.interest(&query), FIRST_ANSWER_WAIT),
            m.realtime(r.workflow, r.channel, FIRST_ANSWER_WAIT),
        )
        .await;
        (r, cumulative.map_err(unavailable)?.0, realtime.map_err(unavailable)?.0)
    } else {
        let engine = state.engine();
        let r = Resolved::new(&engine, &ws, &wf, query.task_channel.as_deref())?;
        let cumulative = engine.cumulative(r.workflow, r.channel, window, query.split_by_wait_time.as_deref());
        let realtime = state.cache.get(&engine, r.workflow, r.channel, now);
        (r, cumulative, realtime)
    };
    Ok(Json(WorkflowStatistics {
        url: r.url(&state, "Statistics"),
        account_sid: state.account_sid.clone(),
        workspace_sid: r.workspace_sid,
        workflow_sid: r.workflow_sid,
        cumulative,
        realtime,
    }))
}
