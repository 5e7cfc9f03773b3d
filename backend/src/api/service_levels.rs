//! Service levels: the definitions of a workspace's scopes (admin only) and the computed
//! service level of a task queue or a workflow.
//!
//! - `GET …/ServiceLevels`: the stored definitions, by scope (every viewer of the whole
//!   workspace may read them; only admins may change them);
//! - `GET …/ServiceLevels/{scope}`: the definition in force for `default` (the workspace's),
//!   a workflow `WW…` or a task queue `WQ…` (its own, else the workspace's, else the
//!   built-in); `POST` (form: `Threshold`, `ShortAbandon`, `Abandons`, each optional) stores
//!   the scope's own; `DELETE` removes it (the scope inherits again);
//! - `GET …/TaskQueues/{WQ}/ServiceLevel` and `…/Workflows/{WW}/ServiceLevel` (window
//!   parameters as `CumulativeStatistics`, and `Within` for the at-risk count): the number
//!   under the definition in force, its formula and inputs, from [`crate::source::Numbers`]
//!   with `SplitByWaitTime` at S and T.
//!
//! Definitions are documents of the [`crate::storage::DocumentStore`] under
//! `service_level/{WS}/{scope}`, their bodies [`Definition`]'s JSON. The formulas are
//! `wallboard_shared::service_level`'s, the same code the dashboard runs.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::StatusCode;
use wallboard_shared::query::{DateBound, WindowSpec};
use wallboard_shared::resources::{PageMeta, SplitByWaitTime};
use wallboard_shared::service_level::{
    AtRisk, BUILT_IN, DEFAULT_AT_RISK_WITHIN, Day, DayUpdate, Definition, DefinitionUpdate, DefinitionView,
    ServiceLevel, ServiceLevelPage, ServiceLevelStatistics, WORKSPACE_DEFAULT, parse_within,
};
use wallboard_shared::time::to_datetime;
use wallboard_shared::{StatisticsQuery, TaskQueueSid, Window, WorkflowSid, WorkspaceSid};

use super::statistics::{Answer, answer, channel, cumulative_of, mismatch, workflow};
use super::{ApiError, ApiResult, query_pairs};
use crate::access::Principal;
use crate::engine::{Target, View};
use crate::source::Cumulative;
use crate::state::AppState;
use crate::storage::{Document, DocumentStore, StorageError};

/// Definitions are read by every viewer of the workspace, changed by admins only.
fn admin_only(principal: &Principal) -> ApiResult<()> {
    if principal.is_admin() {
        Ok(())
    } else {
        Err(ApiError::forbidden("Only the account credentials or an admin token may change a service-level definition"))
    }
}

/// The documents' key prefix of the days ("today" starts) of every workspace.
pub const DAY_PREFIX: &str = crate::alerts::evaluate::SERVICE_DAY;

/// The documents' key prefix of a workspace's definitions.
fn prefix(ws: &WorkspaceSid) -> String {
    format!("{}{ws}/", crate::alerts::measure::SERVICE_LEVEL)
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
fn scope_of(state: &AppState, ws: &str, raw: &str) -> ApiResult<(WorkspaceSid, Scope)> {
    let engine = state.engine();
    let (sid, _) = super::resources::workspace_of(&engine, ws)?;
    let scope = if raw == WORKSPACE_DEFAULT {
        Scope::Workspace
    } else if raw.starts_with("WW") {
        let (_, wf, _) = workflow(&engine, ws, raw)?;
        Scope::Workflow(wf)
    } else if raw.starts_with("WQ") {
        let (_, q) = super::queues::queue_of(&engine, ws, raw)?;
        Scope::TaskQueue(TaskQueueSid::parse(&q.sid).map_err(|_| not_found(ws, raw))?)
    } else {
        return Err(not_found(ws, raw));
    };
    Ok((sid, scope))
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

/// The documents' key prefix of a workspace's days ("today" starts).
fn day_prefix(ws: &WorkspaceSid) -> String {
    format!("{DAY_PREFIX}{ws}/")
}

/// A workspace's stored settings: definitions and days, by scope name.
struct Stored {
    definitions: Vec<(String, Definition, Document)>,
    days: Vec<(String, Day, Document)>,
}

/// A workspace's stored settings. A document that does not hold a valid definition or day
/// (written by a newer version, or by hand) is skipped and logged.
async fn stored(state: &AppState, ws: &WorkspaceSid) -> ApiResult<Stored> {
    let (prefix, days_prefix) = (prefix(ws), day_prefix(ws));
    let (defs, days) = with_store(state, {
        let (prefix, days_prefix) = (prefix.clone(), days_prefix.clone());
        move |s| Ok((s.list(&prefix)?, s.list(&days_prefix)?))
    })
    .await?;
    let definitions = defs
        .into_iter()
        .filter_map(|d| {
            let scope = d.key.strip_prefix(&prefix)?.to_owned();
            match serde_json::from_str::<Definition>(&d.body)
                .map_err(|e| e.to_string())
                .and_then(|x| x.validated().map_err(|e| e.to_string()))
            {
                Ok(def) => Some((scope, def, d)),
                Err(e) => {
                    tracing::warn!(key = %d.key, error = %e, "ignoring a stored service-level definition");
                    None
                }
            }
        })
        .collect();
    let days = days
        .into_iter()
        .filter_map(|d| {
            let scope = d.key.strip_prefix(&days_prefix)?.to_owned();
            match serde_json::from_str::<Day>(&d.body)
                .map_err(|e| e.to_string())
                .and_then(|x| crate::shift::check(&x).map(|()| x))
            {
                Ok(day) => Some((scope, day, d)),
                Err(e) => {
                    tracing::warn!(key = %d.key, error = %e, "ignoring a stored day setting");
                    None
                }
            }
        })
        .collect();
    Ok(Stored { definitions, days })
}

/// The definition in force for `scope` and who defines it: the scope's own, else the
/// workspace's default, else the built-in; with the scope's own document, if any.
fn in_force<'a>(all: &'a Stored, scope: &Scope) -> (Definition, String, Option<&'a Document>) {
    let find = |name: &str| all.definitions.iter().find(|(s, _, _)| s == name);
    let own = find(&scope.name());
    let chosen = own.or_else(|| find(WORKSPACE_DEFAULT));
    match chosen {
        Some((s, d, _)) => (*d, s.clone(), own.map(|(_, _, doc)| doc)),
        None => (Definition::BUILT_IN, BUILT_IN.to_owned(), None),
    }
}

/// The day in force for `scope` and whose setting it is (the same inheritance).
fn day_in_force(all: &Stored, scope: &Scope) -> (Day, String) {
    let find = |name: &str| all.days.iter().find(|(s, _, _)| s == name);
    match find(&scope.name()).or_else(|| find(WORKSPACE_DEFAULT)) {
        Some((s, d, _)) => (d.clone(), s.clone()),
        None => (Day::default(), BUILT_IN.to_owned()),
    }
}

fn resource(state: &AppState, ws: &WorkspaceSid, scope: &Scope, all: &Stored) -> ServiceLevel {
    let (def, by, own) = in_force(all, scope);
    let (day, day_by) = day_in_force(all, scope);
    let name = scope.name();
    let own_day = all.days.iter().find(|(s, _, _)| *s == name).map(|(_, _, d)| d);
    let newest = own.into_iter().chain(own_day).max_by_key(|d| d.revision);
    ServiceLevel {
        account_sid: state.account_sid.clone(),
        workspace_sid: ws.clone(),
        scope: name.clone(),
        definition: DefinitionView::new(&def, by),
        stored: own.is_some(),
        revision: newest.map(|d| d.revision),
        date_updated: newest.map(|d| to_datetime(d.updated_ms)),
        day,
        day_defined_by: day_by,
        url: state.urls.service_level(ws, &name),
    }
}

/// A stored scope name as a [`Scope`] (`default`, `WW…`, `WQ…`).
fn scope_named(name: &str) -> Option<Scope> {
    if name == WORKSPACE_DEFAULT {
        Some(Scope::Workspace)
    } else if name.starts_with("WW") {
        WorkflowSid::parse(name).ok().map(Scope::Workflow)
    } else {
        TaskQueueSid::parse(name).ok().map(Scope::TaskQueue)
    }
}

pub(crate) async fn list(State(state): State<AppState>, Path(ws): Path<String>) -> ApiResult<Json<ServiceLevelPage>> {
    let sid = {
        let engine = state.engine();
        super::resources::workspace_of(&engine, &ws)?.0
    };
    let all = stored(&state, &sid).await?;
    let mut names: Vec<&str> =
        all.definitions.iter().map(|(s, _, _)| s.as_str()).chain(all.days.iter().map(|(s, _, _)| s.as_str())).collect();
    names.sort_unstable();
    names.dedup();
    let service_levels: Vec<ServiceLevel> =
        names.into_iter().filter_map(scope_named).map(|scope| resource(&state, &sid, &scope, &all)).collect();
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
) -> ApiResult<Json<ServiceLevel>> {
    let (sid, scope) = scope_of(&state, &ws, &scope)?;
    let all = stored(&state, &sid).await?;
    Ok(Json(resource(&state, &sid, &scope, &all)))
}

/// `POST …/ServiceLevels/{scope}`: `Threshold`, `ShortAbandon`, `Abandons` change the
/// scope's own definition (from the one in force); `DayStartsAt`, `TimeZone` its own day
/// (both empty: remove it). A form with neither kind stores the definition in force as the
/// scope's own.
pub(crate) async fn update(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((ws, scope)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Json<ServiceLevel>> {
    admin_only(&principal)?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
        .map_err(|_| ApiError::invalid("the body must be a form (application/x-www-form-urlencoded)"))?;
    let kv = || pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    let update = DefinitionUpdate::parse(kv())?;
    let day_update = DayUpdate::parse(kv())?;
    let (sid, scope) = scope_of(&state, &ws, &scope)?;
    let all = stored(&state, &sid).await?;
    let (base, _, _) = in_force(&all, &scope);
    let def = update.apply(base).map_err(|e| ApiError::invalid(e.0))?;
    let day = if day_update.is_empty() || day_update.removes() {
        None
    } else {
        let day = day_update.apply(&day_in_force(&all, &scope).0);
        crate::shift::check(&day).map_err(ApiError::invalid)?;
        Some(day)
    };
    let write_definition = !update.is_empty() || day_update.is_empty();
    let body = serde_json::to_string(&def).map_err(|_| mismatch())?;
    let day_body = day.as_ref().map(serde_json::to_string).transpose().map_err(|_| mismatch())?;
    let key = format!("{}{}", prefix(&sid), scope.name());
    let day_key = format!("{}{}", day_prefix(&sid), scope.name());
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
    Ok(Json(resource(&state, &sid, &scope, &all)))
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((ws, raw)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    admin_only(&principal)?;
    let (sid, scope) = scope_of(&state, &ws, &raw)?;
    let key = format!("{}{}", prefix(&sid), scope.name());
    let day_key = format!("{}{}", day_prefix(&sid), scope.name());
    if with_store(&state, move |s| Ok(s.delete(&key)? | s.delete(&day_key)?)).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("/Workspaces/{ws}/ServiceLevels/{raw} has no definition of its own")))
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
    let (def, by, _) = in_force(&all, &scope);
    if today {
        // No window asked for: "today" as the scope counts it.
        let now = state.clock.now_ms();
        let start = crate::shift::today_start_ms(now, &day_in_force(&all, &scope).0);
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
        definition: DefinitionView::new(&def, by),
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
