//! The three statistics resources (`Statistics`, `RealTimeStatistics`,
//! `CumulativeStatistics`). Numbers come from [`crate::source::Numbers`], which decides
//! between the local engine and the mirror; this module resolves paths and parameters
//! and wraps the numbers in Twilio's envelopes.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use wallboard_shared::envelope::{Subject, WorkflowSubject};
use wallboard_shared::query::parse_realtime_query;
use wallboard_shared::resources::{WorkflowCumulativeStatistics, WorkflowRealTimeStatistics, WorkflowStatistics};
use wallboard_shared::{StatisticsQuery, Window, WorkflowSid, WorkspaceSid};

use super::{ApiError, ApiResult, query_pairs};
use crate::engine::{ChannelId, CumulativeSpec, Engine, Target, View, WorkflowId};
use crate::source::{Cumulative, Freshness, Realtime, Unavailable};
use crate::state::AppState;

/// A statistics answer; from the mirror it says how fresh it is: `Age` (seconds since the
/// upstream gave it) and `X-Wallboard-Stale` (the last poll failed).
pub(crate) struct Answer<T> {
    fresh: Freshness,
    /// Whether the numbers come from an upstream (only then the headers are set).
    polled: bool,
    now_ms: i64,
    body: T,
}

impl<T> Answer<T> {
    /// The resource itself (an export writes it as rows).
    pub(crate) fn into_body(self) -> T {
        self.body
    }
}

impl<T: serde::Serialize> axum::response::IntoResponse for Answer<T> {
    fn into_response(self) -> axum::response::Response {
        let mut response = Json(self.body).into_response();
        if self.polled {
            let headers = response.headers_mut();
            headers.insert(axum::http::header::AGE, ((self.now_ms - self.fresh.at_ms).max(0) / 1000).into());
            headers.insert(
                "x-wallboard-stale",
                axum::http::HeaderValue::from_static(if self.fresh.stale { "true" } else { "false" }),
            );
        }
        response
    }
}

/// With `--source twilio`: how long a request for numbers nobody watched yet waits for the
/// upstream's first answer.
pub const FIRST_ANSWER_WAIT: std::time::Duration = std::time::Duration::from_secs(12);

pub(crate) fn unavailable(e: Unavailable) -> ApiError {
    ApiError::unavailable(e.0)
}

/// A source answered a view with numbers of another kind of target. The sources answer
/// every view with its own kind, so this does not happen; it is a 503, never a panic.
pub(crate) fn mismatch() -> ApiError {
    ApiError::unavailable("the numbers of this resource cannot be given now; retry later")
}

/// Resolves path SIDs to the engine's workflow id, or 404.
pub(crate) fn workflow(engine: &Engine, ws: &str, wf: &str) -> ApiResult<(WorkspaceSid, WorkflowSid, WorkflowId)> {
    let not_found =
        || ApiError::not_found(format!("The requested resource /Workspaces/{ws}/Workflows/{wf} was not found"));
    let ws_sid = WorkspaceSid::parse(ws).map_err(|_| not_found())?;
    let wf_sid = WorkflowSid::parse(wf).map_err(|_| not_found())?;
    let id = engine.registry().workflow_id(&ws_sid, &wf_sid).ok_or_else(not_found)?;
    Ok((ws_sid, wf_sid, id))
}

pub(crate) fn channel(engine: &Engine, ws: &WorkspaceSid, name: Option<&str>) -> ApiResult<Option<ChannelId>> {
    name.map(|n| {
        engine
            .registry()
            .resolve_channel(ws, n)
            .ok_or_else(|| ApiError::invalid(format!("TaskChannel '{n}' is not a task channel of this workspace")))
    })
    .transpose()
}

pub(crate) fn parse_statistics_query(raw: Option<&str>) -> ApiResult<StatisticsQuery> {
    let pairs = query_pairs(raw)?;
    Ok(StatisticsQuery::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?)
}

/// A view's realtime numbers, from wherever they come (any kind of target).
pub(crate) async fn realtime_of(state: &AppState, view: View) -> ApiResult<(Realtime, Freshness)> {
    state.numbers.realtime(view, FIRST_ANSWER_WAIT).await.map_err(unavailable)
}

/// A view's cumulative numbers for `query`, whose window resolved to `window`.
pub(crate) async fn cumulative_of(
    state: &AppState,
    view: View,
    query: &StatisticsQuery,
    window: Window,
) -> ApiResult<(Cumulative, Freshness)> {
    let spec = CumulativeSpec { window: query.window, thresholds: query.split_by_wait_time.clone() };
    state.numbers.cumulative(view, &spec, window, FIRST_ANSWER_WAIT).await.map_err(unavailable)
}

/// Wraps a body in an [`Answer`] with its freshness headers.
pub(crate) fn answer<T>(state: &AppState, fresh: Freshness, body: T) -> Answer<T> {
    Answer { fresh, polled: state.numbers.polled(), now_ms: state.clock.now_ms(), body }
}

/// A statistics request resolved against the engine: whose numbers, through which channel.
struct Resolved {
    subject: WorkflowSubject,
    view: View,
}

impl Resolved {
    fn new(state: &AppState, ws: &str, wf: &str, channel_name: Option<&str>) -> ApiResult<Self> {
        let engine = state.engine();
        let (workspace_sid, workflow_sid, id) = workflow(&engine, ws, wf)?;
        let channel = channel(&engine, &workspace_sid, channel_name)?;
        let subject = WorkflowSubject { account_sid: state.account_sid.clone(), workspace_sid, workflow_sid };
        Ok(Self { subject, view: View::new(Target::Workflow(id), channel) })
    }

    /// The realtime numbers of this view.
    async fn realtime(&self, state: &AppState) -> ApiResult<(Realtime, Freshness)> {
        realtime_of(state, self.view).await
    }

    /// The cumulative numbers of this view for `query`, whose window resolved to `window`.
    async fn cumulative(
        &self,
        state: &AppState,
        query: &StatisticsQuery,
        window: Window,
    ) -> ApiResult<(Cumulative, Freshness)> {
        cumulative_of(state, self.view, query, window).await
    }

    fn answer<T>(&self, state: &AppState, fresh: Freshness, body: T) -> Answer<T> {
        answer(state, fresh, body)
    }
}

pub(crate) async fn realtime(
    State(state): State<AppState>,
    Path((ws, wf)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Answer<WorkflowRealTimeStatistics>> {
    let pairs = query_pairs(raw.as_deref())?;
    let channel_name = parse_realtime_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    let r = Resolved::new(&state, &ws, &wf, channel_name.as_deref())?;
    let (Realtime::Workflow(stats), fresh) = r.realtime(&state).await? else { return Err(mismatch()) };
    Ok(r.answer(&state, fresh, r.subject.realtime(&state.urls, stats)))
}

pub(crate) async fn cumulative(
    State(state): State<AppState>,
    Path((ws, wf)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Answer<WorkflowCumulativeStatistics>> {
    let query = parse_statistics_query(raw.as_deref())?;
    let window = query.window.resolve(state.clock.now_ms(), state.retention_ms)?;
    let r = Resolved::new(&state, &ws, &wf, query.task_channel.as_deref())?;
    let (Cumulative::Workflow(stats), fresh) = r.cumulative(&state, &query, window).await? else {
        return Err(mismatch());
    };
    Ok(r.answer(&state, fresh, r.subject.cumulative(&state.urls, stats)))
}

pub(crate) async fn statistics(
    State(state): State<AppState>,
    Path((ws, wf)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Answer<WorkflowStatistics>> {
    let query = parse_statistics_query(raw.as_deref())?;
    let window = query.window.resolve(state.clock.now_ms(), state.retention_ms)?;
    let r = Resolved::new(&state, &ws, &wf, query.task_channel.as_deref())?;
    let (cumulative, realtime) =
        futures_util::future::join(r.cumulative(&state, &query, window), r.realtime(&state)).await;
    let ((Cumulative::Workflow(cumulative), c), (Realtime::Workflow(realtime), f)) = (cumulative?, realtime?) else {
        return Err(mismatch());
    };
    Ok(r.answer(&state, c.combine(f), r.subject.statistics(&state.urls, cumulative, realtime)))
}
