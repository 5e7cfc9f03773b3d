//! Service levels: the definitions of a workspace's scopes (admin only) and the computed
//! service level of a task queue or a workflow.
//!
//! - `GET …/ServiceLevels`: the stored definitions and days, by scope and channel (every
//!   viewer of the whole workspace may read them; only admins may change them);
//! - `GET …/ServiceLevels/{scope}[?TaskChannel=…]`: the definition in force for `default`
//!   (the workspace's), a workflow `WW…` or a task queue `WQ…`, for every channel or one
//!   (the first stored of: the scope for the channel, the scope, the workspace's for the
//!   channel, the workspace's; else the built-in); `POST` (form: `Threshold`,
//!   `ShortAbandon`, `Abandons`, each optional; `DayStartsAt`, `TimeZone` for the scope's
//!   day, not per channel) stores that place's own; `DELETE` removes it (it inherits again);
//! - `GET …/TaskQueues/{WQ}/ServiceLevel` and `…/Workflows/{WW}/ServiceLevel` (window
//!   parameters as `CumulativeStatistics`, and `Within` for the at-risk count): the number
//!   under the definition in force for the scope and the `TaskChannel` asked for, its
//!   formula and inputs, from [`crate::source::Numbers`] with `SplitByWaitTime` at S and T.
//!
//! The settings are read and keyed by [`crate::service_levels`]; the formulas are
//! `wallboard_shared::service_level`'s, the same code the dashboard runs.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::StatusCode;
use wallboard_shared::query::{DateBound, WindowSpec};
use wallboard_shared::resources::{PageMeta, SplitByWaitTime};
use wallboard_shared::service_level::{
    AtRisk, DEFAULT_AT_RISK_WITHIN, DayUpdate, Definition, DefinitionUpdate, DefinitionView, Place, ServiceLevel,
    ServiceLevelPage, ServiceLevelStatistics, WORKSPACE_DEFAULT, parse_within,
};
use wallboard_shared::time::to_datetime;
use wallboard_shared::{StatisticsQuery, TaskQueueSid, Window, WorkflowSid, WorkspaceSid};

use super::statistics::{Answer, answer, channel, cumulative_of, mismatch, workflow};
use super::{ApiError, ApiResult, at_most_once, query_pairs};
use crate::access::Principal;
use crate::engine::{Engine, Target, View};
use crate::service_levels::{self as settings, Settings, day_key, definition_key};
use crate::source::Cumulative;
use crate::state::AppState;
use crate::storage::{DocumentStore, StorageError};

/// Definitions are read by every viewer of the workspace, changed by admins only.
fn admin_only(principal: &Principal) -> ApiResult<()> {
    if principal.is_admin() {
        Ok(())
    } else {
        Err(ApiError::forbidden("Only the account credentials or an admin token may change a service-level definition"))
    }
}

/// What a definition is about.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Scope {
    /// The workspace's default.
    Workspace,
    Workflow(WorkflowSid),
    TaskQueue(TaskQueueSid),
}

impl Scope {
    fn name(&self) -> String {
        match self {
            Self::Workspace => WORKSPACE_DEFAULT.to_owned(),
            Self::Workflow(wf) => wf.to_string(),
            Self::TaskQueue(wq) => wq.to_string(),
        }
    }
}

/// The workspace and scope of a path, or 404 (an unknown workspace, workflow or queue, or
/// anything else).
fn scope_of(engine: &Engine, ws: &str, raw: &str) -> ApiResult<(WorkspaceSid, Scope)> {
    let (sid, _) = super::resources::workspace_of(engine, ws)?;
    let scope = if raw == WORKSPACE_DEFAULT {
        Scope::Workspace
    } else if raw.starts_with("WW") {
        let (_, wf, _) = workflow(engine, ws, raw)?;
        Scope::Workflow(wf)
    } else if raw.starts_with("WQ") {
        let (_, q) = super::queues::queue_of(engine, ws, raw)?;
        Scope::TaskQueue(TaskQueueSid::parse(&q.sid).map_err(|_| not_found(ws, raw))?)
    } else {
        return Err(not_found(ws, raw));
    };
    Ok((sid, scope))
}

/// The unique name of a workspace's task channel given by unique name or `TC…` SID (the
/// name definitions are stored under), or 400.
fn channel_name(engine: &Engine, ws: &WorkspaceSid, raw: &str) -> ApiResult<String> {
    engine
        .registry()
        .channel_name(ws, raw)
        .ok_or_else(|| ApiError::invalid(format!("TaskChannel '{raw}' is not a task channel of this workspace")))
}

/// The place of a path and its `TaskChannel` parameter (`None` or empty: every channel).
fn place_of(state: &AppState, ws: &str, raw: &str, channel: Option<&str>) -> ApiResult<(WorkspaceSid, Scope, Place)> {
    let engine = state.engine();
    let (sid, scope) = scope_of(&engine, ws, raw)?;
    let channel = channel.filter(|c| !c.is_empty()).map(|c| channel_name(&engine, &sid, c)).transpose()?;
    let place = Place { scope: scope.name(), task_channel: channel };
    Ok((sid, scope, place))
}

/// The one `TaskChannel` of a query string or form (given twice: 400).
fn task_channel(pairs: &[(String, String)]) -> ApiResult<Option<&str>> {
    at_most_once(pairs, "TaskChannel")
}

fn not_found(ws: &str, scope: &str) -> ApiError {
    ApiError::not_found(format!("The requested resource /Workspaces/{ws}/ServiceLevels/{scope} was not found"))
}

fn storage_error(e: StorageError) -> ApiError {
    tracing::error!(error = %e, "service-level definitions: storage failed");
    ApiError::unavailable("the service-level definitions cannot be reached; retry later")
}

/// Runs `f` on the document store, off the async runtime.
async fn with_store<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&mut dyn DocumentStore) -> Result<T, StorageError> + Send + 'static,
) -> ApiResult<T> {
    crate::alerts::with_docs(&state.documents, f).await.map_err(storage_error)
}

/// A workspace's stored settings.
pub(crate) async fn stored(state: &AppState, ws: &WorkspaceSid) -> ApiResult<Settings> {
    let ws = ws.clone();
    with_store(state, move |d| settings::load(d, &ws)).await
}

fn resource(state: &AppState, ws: &WorkspaceSid, place: &Place, all: &Settings) -> ServiceLevel {
    let (def, by) = all.definition(&place.scope, place.task_channel.as_deref());
    let (day, day_by) = all.day(&place.scope);
    let own = all.own_definition(place);
    // A day is the scope's, for every channel: it dates the every-channel place only.
    let own_day = all.own_day(&place.scope).filter(|_| place.task_channel.is_none());
    let newest =
        own.map(|d| (d.revision, d.updated_ms)).into_iter().chain(own_day.map(|d| (d.revision, d.updated_ms))).max();
    let url = state.urls.service_level_for(ws, &place.scope, place.task_channel.as_deref());
    ServiceLevel {
        account_sid: state.account_sid.clone(),
        workspace_sid: ws.clone(),
        scope: place.scope.clone(),
        task_channel: place.task_channel.clone(),
        definition: DefinitionView::new(&def, by.map(|d| &d.place)),
        stored: own.is_some(),
        revision: newest.map(|(r, _)| r),
        date_updated: newest.map(|(_, ms)| to_datetime(ms)),
        day,
        day_defined_by: day_by
            .map_or_else(|| wallboard_shared::service_level::BUILT_IN.to_owned(), |d| d.scope.clone()),
        url,
    }
}

/// Whether a stored scope name still names a scope (a document written by hand may not).
fn is_scope_name(name: &str) -> bool {
    name == WORKSPACE_DEFAULT
        || (name.starts_with("WW") && WorkflowSid::parse(name).is_ok())
        || TaskQueueSid::parse(name).is_ok()
}

pub(crate) async fn list(State(state): State<AppState>, Path(ws): Path<String>) -> ApiResult<Json<ServiceLevelPage>> {
    let sid = {
        let engine = state.engine();
        super::resources::workspace_of(&engine, &ws)?.0
    };
    let all = stored(&state, &sid).await?;
    let mut places: Vec<Place> = all
        .definitions
        .iter()
        .map(|d| d.place.clone())
        .chain(all.days.iter().map(|d| Place::new(d.scope.clone(), None)))
        .filter(|p| is_scope_name(&p.scope))
        .collect();
    places.sort_unstable();
    places.dedup();
    let service_levels: Vec<ServiceLevel> = places.iter().map(|p| resource(&state, &sid, p, &all)).collect();
    let url = state.urls.service_levels(&sid);
    let meta = PageMeta {
        first_page_url: url.clone(),
        key: "service_levels".into(),
        next_page_url: None,
        page: 0,
        page_size: service_levels.len() as u32,
        previous_page_url: None,
        url,
    };
    Ok(Json(ServiceLevelPage { service_levels, meta }))
}

pub(crate) async fn fetch(
    State(state): State<AppState>,
    Path((ws, scope)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<ServiceLevel>> {
    let pairs = query_pairs(raw.as_deref())?;
    let (sid, _, place) = place_of(&state, &ws, &scope, task_channel(&pairs)?)?;
    let all = stored(&state, &sid).await?;
    Ok(Json(resource(&state, &sid, &place, &all)))
}

/// `POST …/ServiceLevels/{scope}`: `Threshold`, `ShortAbandon`, `Abandons` change the
/// place's own definition (from the one in force); `DayStartsAt`, `TimeZone` the scope's
/// own day (both empty: remove it; not with a `TaskChannel`: a day is for every channel).
/// A form with neither kind stores the definition in force as the place's own.
/// `TaskChannel` may be in the query or the form.
pub(crate) async fn update(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((ws, scope)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> ApiResult<Json<ServiceLevel>> {
    admin_only(&principal)?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
        .map_err(|_| ApiError::invalid("the body must be a form (application/x-www-form-urlencoded)"))?;
    let query = query_pairs(raw.as_deref())?;
    let channel = match (task_channel(&query)?, task_channel(&pairs)?) {
        (Some(a), Some(b)) if a != b => {
            return Err(ApiError::invalid("TaskChannel differs between the query and the form"));
        }
        (a, b) => a.or(b),
    };
    let kv = || pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    let update = DefinitionUpdate::parse(kv())?;
    let day_update = DayUpdate::parse(kv())?;
    let (sid, _, place) = place_of(&state, &ws, &scope, channel)?;
    if place.task_channel.is_some() && !day_update.is_empty() {
        return Err(ApiError::invalid(
            "DayStartsAt and TimeZone are set per scope, for every channel: send them without TaskChannel",
        ));
    }
    let all = stored(&state, &sid).await?;
    let (base, _) = all.definition(&place.scope, place.task_channel.as_deref());
    let def = update.apply(base).map_err(|e| ApiError::invalid(e.0))?;
    let day = if day_update.is_empty() || day_update.removes() {
        None
    } else {
        let day = day_update.apply(&all.day(&place.scope).0);
        crate::shift::check(&day).map_err(ApiError::invalid)?;
        Some(day)
    };
    let write_definition = !update.is_empty() || day_update.is_empty();
    let body = serde_json::to_string(&def).map_err(|_| mismatch())?;
    let day_body = day.as_ref().map(serde_json::to_string).transpose().map_err(|_| mismatch())?;
    let key = definition_key(&sid, &place);
    let day_key = day_key(&sid, &place.scope);
    let removes_day = day_update.removes();
    let now = state.clock.now_ms();
    with_store(&state, move |s| {
        if write_definition {
            s.put(&key, &body, now)?;
        }
        match day_body {
            Some(b) => drop(s.put(&day_key, &b, now)?),
            None if removes_day => drop(s.delete(&day_key)?),
            None => {}
        }
        Ok(())
    })
    .await?;
    state.alerts.refresh();
    let all = stored(&state, &sid).await?;
    Ok(Json(resource(&state, &sid, &place, &all)))
}

/// `DELETE …/ServiceLevels/{scope}[?TaskChannel=…]`: the place's own definition (and, for
/// every channel, the scope's own day) go; it inherits again.
pub(crate) async fn delete(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((ws, raw)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> ApiResult<StatusCode> {
    admin_only(&principal)?;
    let pairs = query_pairs(query.as_deref())?;
    let (sid, _, place) = place_of(&state, &ws, &raw, task_channel(&pairs)?)?;
    let key = definition_key(&sid, &place);
    let day_key = place.task_channel.is_none().then(|| day_key(&sid, &place.scope));
    let removed = with_store(&state, move |s| {
        let definition = s.delete(&key)?;
        let day = match day_key {
            Some(k) => s.delete(&k)?,
            None => false,
        };
        Ok(definition | day)
    })
    .await?;
    if removed {
        state.alerts.refresh();
        Ok(StatusCode::NO_CONTENT)
    } else {
        let what = place.task_channel.as_deref().map_or_else(String::new, |c| format!(" for TaskChannel '{c}'"));
        Err(ApiError::not_found(format!("/Workspaces/{ws}/ServiceLevels/{raw} has no definition of its own{what}")))
    }
}

/// The parameters of a computed service level: the window of `CumulativeStatistics` (its
/// `SplitByWaitTime` is replaced by the definition's S and T) and `Within`.
fn parse_query(raw: Option<&str>) -> ApiResult<(StatisticsQuery, u32, bool)> {
    let pairs = query_pairs(raw)?;
    let kv = || pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    let query = StatisticsQuery::parse(kv())?;
    let within = parse_within(kv())?.unwrap_or(DEFAULT_AT_RISK_WITHIN);
    let today = !pairs.iter().any(|(k, _)| matches!(k.as_str(), "Minutes" | "StartDate" | "EndDate"));
    Ok((query, within, today))
}

/// The at-risk counts of a view at `now_ms` from the local engine (`None` from a mirror).
fn at_risk(state: &AppState, view: View, def: &Definition, within: u32, now_ms: i64) -> Option<AtRisk> {
    if state.numbers.mirror().is_some() {
        return None;
    }
    let ages = [def.threshold.saturating_sub(within), def.threshold];
    let counts = state.engine().pending_aged(view, &ages, now_ms)?;
    let (near, breached) = (counts[0], counts[1]);
    Some(AtRisk { within, tasks: near - breached, breached })
}

/// What a computed service level was asked for: the query, its window resolved, `Within`.
struct Asked {
    query: StatisticsQuery,
    window: Window,
    within: u32,
    /// No window parameter was given: the scope's today.
    today: bool,
}

/// The computed service level of a resolved view.
async fn computed(
    state: &AppState,
    sid: WorkspaceSid,
    scope: Scope,
    view: View,
    asked: Asked,
    url: String,
) -> ApiResult<Answer<ServiceLevelStatistics>> {
    let Asked { mut query, mut window, within, today } = asked;
    let all = stored(state, &sid).await?;
    let channel = match query.task_channel.as_deref() {
        Some(c) => Some(channel_name(&state.engine(), &sid, c)?),
        None => None,
    };
    let (def, by) = all.definition(&scope.name(), channel.as_deref());
    let by = by.map(|d| d.place.clone());
    if today {
        // No window asked for: "today" as the scope counts it.
        let now = state.clock.now_ms();
        let start = crate::shift::today_start_ms(now, &all.day(&scope.name()).0);
        window = Window { start_ms: start, end_ms: now };
        let start = chrono::DateTime::from_timestamp_millis(start).unwrap_or_default();
        query.window = WindowSpec::Range { start: Some(DateBound::Instant(start)), end: None };
    }
    query.split_by_wait_time = Some(def.thresholds());
    let (numbers, fresh) = cumulative_of(state, view, &query, window).await?;
    let (split, start, end): (Option<SplitByWaitTime>, _, _) = match numbers {
        Cumulative::TaskQueue(s) => (s.split_by_wait_time, s.start_time, s.end_time),
        Cumulative::Workflow(s) => (s.split_by_wait_time, s.start_time, s.end_time),
        _ => return Err(mismatch()),
    };
    let (inputs, outcome) = split.as_ref().and_then(|s| def.of_split(s)).ok_or_else(mismatch)?;
    let body = ServiceLevelStatistics {
        account_sid: state.account_sid.clone(),
        workspace_sid: sid,
        scope: scope.name(),
        task_channel: query.task_channel.clone(),
        start_time: start,
        end_time: end,
        definition: DefinitionView::new(&def, by.as_ref()),
        service_level: outcome.value,
        numerator: outcome.numerator,
        denominator: outcome.denominator,
        inputs,
        at_risk: at_risk(state, view, &def, within, state.clock.now_ms()),
        url,
    };
    Ok(answer(state, fresh, body))
}

pub(crate) async fn task_queue(
    State(state): State<AppState>,
    Path((ws, wq)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Answer<ServiceLevelStatistics>> {
    let (query, within, today) = parse_query(raw.as_deref())?;
    let window = query.window.resolve(state.clock.now_ms(), state.retention_ms)?;
    let (sid, qs, view) = super::queues::resolve(&state, &ws, &wq, query.task_channel.as_deref())?;
    let url = state.urls.task_queue_service_level(&sid, &qs);
    computed(&state, sid, Scope::TaskQueue(qs), view, Asked { query, window, within, today }, url).await
}

pub(crate) async fn workflow_level(
    State(state): State<AppState>,
    Path((ws, wf)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Answer<ServiceLevelStatistics>> {
    let (query, within, today) = parse_query(raw.as_deref())?;
    let window = query.window.resolve(state.clock.now_ms(), state.retention_ms)?;
    let (sid, wf_sid, view) = {
        let engine = state.engine();
        let (sid, wf_sid, id) = workflow(&engine, &ws, &wf)?;
        let channel = channel(&engine, &sid, query.task_channel.as_deref())?;
        (sid, wf_sid, View::new(Target::Workflow(id), channel))
    };
    let url = state.urls.workflow_service_level(&sid, &wf_sid);
    computed(&state, sid, Scope::Workflow(wf_sid), view, Asked { query, window, within, today }, url).await
}
