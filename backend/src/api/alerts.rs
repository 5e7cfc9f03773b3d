//! Alert rules, webhooks and alerts (`alerts` evaluates and notifies; this module is their
//! HTTP face).
//!
//! Admin only (the account credentials or an admin token):
//! - `GET|POST …/AlertRules`, `GET|POST|DELETE …/AlertRules/{AR…}` (form: `Name`, `Target`,
//!   `TaskChannel`, `Measure`, `Comparison`, `Threshold`, `For`, `ClearThreshold`,
//!   `ClearFor`, `Level`, `Enabled`: `wallboard_shared::alerts::RuleUpdate`);
//! - `POST …/AlertRules/Preview` (the same form): what the rule would have done over the
//!   last hour (`wallboard_shared::alerts::Preview`);
//! - `GET|POST …/AlertWebhooks` (form: `Url`, `Format` = `json`|`slack`|`teams`; the answer
//!   that creates one holds its signing secret, never shown again), `GET|DELETE
//!   …/AlertWebhooks/{AW…}`, `GET …/AlertWebhooks/{AW…}/DeadLetters`.
//!
//! Whoever may read the whole workspace: `GET …/Alerts` (the history, newest first;
//! `Status=firing|cleared`, `PageSize`, `Page`), `GET …/Alerts/{AL…}`, and `POST
//! …/Alerts/{AL…}` with `Acknowledged=true`, which records who acknowledged it (the first
//! acknowledgement stands) and silences it on every wall.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::StatusCode;
use wallboard_shared::alerts::{
    AlertPage, AlertResource, AlertStatus, DeadLetterPage, MAX_RULES, MAX_WEBHOOKS, Preview, PreviewSource, Rule,
    RulePage, RuleResource, RuleTarget, RuleUpdate, Sample, WebhookFormat, WebhookPage, WebhookResource, replay,
};
use wallboard_shared::resources::PageMeta;
use wallboard_shared::sid::WorkspaceSid;
use wallboard_shared::time::to_datetime;

use super::{ApiError, ApiResult, query_pairs};
use crate::access::Principal;
use crate::alerts::store::{self, ACK, ALERT, Ack, RULE, StoredWebhook, WEBHOOK};
use crate::alerts::{measure, with_docs};
use crate::engine::Engine;
use crate::state::AppState;
use crate::storage::{DocumentStore, StorageError};

/// The longest webhook URL accepted.
const MAX_URL: usize = 2048;
/// `PageSize` of the alert history when none is given, and its largest.
const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 1000;

fn storage_error(e: StorageError) -> ApiError {
    tracing::error!(error = %e, "alerts: storage failed");
    ApiError::unavailable("the alert settings cannot be reached; retry later")
}

async fn docs<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&mut dyn DocumentStore) -> Result<T, StorageError> + Send + 'static,
) -> ApiResult<T> {
    with_docs(&state.documents, f).await.map_err(storage_error)
}

fn workspace(state: &AppState, ws: &str) -> ApiResult<WorkspaceSid> {
    Ok(super::resources::workspace_of(&state.engine(), ws)?.0)
}

fn form(body: &Bytes) -> ApiResult<Vec<(String, String)>> {
    serde_urlencoded::from_bytes(body)
        .map_err(|_| ApiError::invalid("the body must be a form (application/x-www-form-urlencoded)"))
}

fn page_meta(
    url: String,
    key: &str,
    page: u32,
    page_size: usize,
    next: Option<String>,
    previous: Option<String>,
) -> PageMeta {
    PageMeta {
        first_page_url: url.clone(),
        key: key.into(),
        next_page_url: next,
        page,
        page_size: page_size as u32,
        previous_page_url: previous,
        url,
    }
}

/// Whether a rule's target exists in the workspace now.
fn target_known(engine: &Engine, ws: &WorkspaceSid, target: &RuleTarget) -> bool {
    let registry = engine.registry();
    let Some(ws_id) = registry.workspace_id(ws) else { return false };
    match target {
        RuleTarget::Workspace => true,
        RuleTarget::Workflow(sid) => {
            wallboard_shared::WorkflowSid::parse(sid).is_ok_and(|wf| registry.workflow_id(ws, &wf).is_some())
        }
        RuleTarget::TaskQueue(sid) => engine.floor().queue_id_of(ws_id.index(), sid).is_some(),
        RuleTarget::Activity(sid) => engine.floor().activities(ws_id.index()).iter().any(|a| a.sid == *sid),
    }
}

fn check_rule(state: &AppState, ws: &WorkspaceSid, rule: &Rule) -> ApiResult<()> {
    let engine = state.engine();
    if !target_known(&engine, ws, &rule.target) {
        return Err(ApiError::invalid(format!("Target {} is not known in workspace {ws}", rule.target.as_str())));
    }
    if let Some(c) = &rule.task_channel
        && engine.registry().resolve_channel(ws, c).is_none()
    {
        return Err(ApiError::invalid(format!("TaskChannel {c} is not known in workspace {ws}")));
    }
    Ok(())
}

fn rule_resource(state: &AppState, ws: &WorkspaceSid, rule: Rule) -> RuleResource {
    RuleResource {
        account_sid: state.account_sid.clone(),
        workspace_sid: ws.clone(),
        description: rule.condition.describe(),
        state: state.alerts.state(&rule.sid),
        url: state.urls.alert_rule(ws, &rule.sid),
        rule,
    }
}

fn rule_not_found(ws: &str, sid: &str) -> ApiError {
    ApiError::not_found(format!("The requested resource /Workspaces/{ws}/AlertRules/{sid} was not found"))
}

pub(crate) async fn list_rules(State(state): State<AppState>, Path(ws): Path<String>) -> ApiResult<Json<RulePage>> {
    let sid = workspace(&state, &ws)?;
    let rules = docs(&state, {
        let sid = sid.clone();
        move |d| store::list::<Rule>(d, RULE, Some(&sid))
    })
    .await?;
    let mut alert_rules: Vec<RuleResource> = rules.into_iter().map(|(_, r)| rule_resource(&state, &sid, r)).collect();
    alert_rules.sort_by(|a, b| (a.rule.date_created, &a.rule.sid).cmp(&(b.rule.date_created, &b.rule.sid)));
    let n = alert_rules.len();
    Ok(Json(RulePage { alert_rules, meta: page_meta(state.urls.alert_rules(&sid), "alert_rules", 0, n, None, None) }))
}

pub(crate) async fn create_rule(
    State(state): State<AppState>,
    Path(ws): Path<String>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<RuleResource>)> {
    let pairs = form(&body)?;
    let update = RuleUpdate::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    let sid = workspace(&state, &ws)?;
    let now = state.clock.now_ms();
    let rule = update.create(store::new_sid("AR"), to_datetime(now))?;
    check_rule(&state, &sid, &rule)?;
    let stored = rule.clone();
    let ws_sid = sid.clone();
    let created = docs(&state, move |d| {
        if store::list::<Rule>(d, RULE, Some(&ws_sid))?.len() >= MAX_RULES {
            return Ok(false);
        }
        store::put(d, RULE, &ws_sid, &stored.sid, &stored, now)?;
        Ok(true)
    })
    .await?;
    if !created {
        return Err(ApiError::invalid(format!("A workspace holds at most {MAX_RULES} alert rules")));
    }
    Ok((StatusCode::CREATED, Json(rule_resource(&state, &sid, rule))))
}

async fn stored_rule(state: &AppState, ws: &str, rule: &str) -> ApiResult<(WorkspaceSid, Rule)> {
    let sid = workspace(state, ws)?;
    let (ws_sid, key) = (sid.clone(), rule.to_owned());
    let found = docs(state, move |d| store::get::<Rule>(d, RULE, &ws_sid, &key)).await?;
    found.map(|r| (sid, r)).ok_or_else(|| rule_not_found(ws, rule))
}

pub(crate) async fn fetch_rule(
    State(state): State<AppState>,
    Path((ws, rule)): Path<(String, String)>,
) -> ApiResult<Json<RuleResource>> {
    let (sid, r) = stored_rule(&state, &ws, &rule).await?;
    Ok(Json(rule_resource(&state, &sid, r)))
}

pub(crate) async fn update_rule(
    State(state): State<AppState>,
    Path((ws, rule)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Json<RuleResource>> {
    let pairs = form(&body)?;
    let update = RuleUpdate::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    let (sid, base) = stored_rule(&state, &ws, &rule).await?;
    let now = state.clock.now_ms();
    let r = update.apply(&base, to_datetime(now))?;
    check_rule(&state, &sid, &r)?;
    let (ws_sid, stored) = (sid.clone(), r.clone());
    docs(&state, move |d| store::put(d, RULE, &ws_sid, &stored.sid, &stored, now)).await?;
    Ok(Json(rule_resource(&state, &sid, r)))
}

pub(crate) async fn delete_rule(
    State(state): State<AppState>,
    Path((ws, rule)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let sid = workspace(&state, &ws)?;
    let key = store::key(RULE, &sid, &rule);
    if docs(&state, move |d| d.delete(&key)).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(rule_not_found(&ws, &rule))
    }
}

/// `POST …/AlertRules/Preview` (the form of a new rule, or of a changed one): what the rule
/// would have done over the last hour. Service level and abandonment are computed for each
/// minute from the cumulative statistics; the other measures come from the values the
/// evaluator recorded for rules on the same target, channel and measure (on the node that
/// evaluates), else there is nothing to show (`source: none`).
pub(crate) async fn preview(
    State(state): State<AppState>,
    Path(ws): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Preview>> {
    let pairs = form(&body)?;
    let update = RuleUpdate::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    let sid = workspace(&state, &ws)?;
    let now = state.clock.now_ms();
    let rule = update.create("preview".into(), to_datetime(now))?;
    check_rule(&state, &sid, &rule)?;
    let ws_sid = sid.clone();
    let settings = docs(&state, move |d| crate::service_levels::load(d, &ws_sid)).await?;
    let (source, samples): (PreviewSource, Vec<Sample>) = if measure::is_cumulative(rule.condition.measure) {
        let reader = state.numbers.reader();
        let samples = (0..=PREVIEW_MINUTES)
            .map(|i| {
                let at_ms = now - (PREVIEW_MINUTES - i) * 60_000;
                Sample { at_ms, value: measure::cumulative_at(&reader, &sid, &rule, &settings, at_ms) }
            })
            .collect();
        (PreviewSource::Computed, samples)
    } else {
        let mut recorded = state.alerts.recorded(&measure::series_key(&sid, &rule));
        let source = if recorded.is_empty() { PreviewSource::None } else { PreviewSource::Recorded };
        // The last value holds until now (it is recorded again only when it changes).
        if let Some(last) = recorded.last().copied().filter(|l| l.at_ms < now) {
            recorded.push(Sample { at_ms: now, value: last.value });
        }
        (source, recorded)
    };
    let (transitions, firing) = replay(&rule.condition, &samples);
    Ok(Json(Preview { description: rule.condition.describe(), source, samples, transitions, firing }))
}

/// The span of a preview, in minutes.
const PREVIEW_MINUTES: i64 = 60;

fn webhook_resource(state: &AppState, ws: &WorkspaceSid, w: StoredWebhook, show_secret: bool) -> WebhookResource {
    WebhookResource {
        account_sid: state.account_sid.clone(),
        workspace_sid: ws.clone(),
        url: state.urls.alert_webhook(ws, &w.sid),
        sid: w.sid,
        webhook_url: redact(&w.url),
        format: w.format,
        secret: show_secret.then_some(w.secret),
        date_created: w.date_created,
    }
}

/// A webhook URL as listed: scheme and host only once created (Slack's and Teams' URLs are
/// secrets in their paths).
fn redact(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => format!("{}://{}/…", u.scheme(), u.host_str().unwrap_or("")),
        Err(_) => "…".into(),
    }
}

fn webhook_not_found(ws: &str, sid: &str) -> ApiError {
    ApiError::not_found(format!("The requested resource /Workspaces/{ws}/AlertWebhooks/{sid} was not found"))
}

pub(crate) async fn list_webhooks(
    State(state): State<AppState>,
    Path(ws): Path<String>,
) -> ApiResult<Json<WebhookPage>> {
    let sid = workspace(&state, &ws)?;
    let ws_sid = sid.clone();
    let hooks = docs(&state, move |d| store::list::<StoredWebhook>(d, WEBHOOK, Some(&ws_sid))).await?;
    let alert_webhooks: Vec<WebhookResource> =
        hooks.into_iter().map(|(_, w)| webhook_resource(&state, &sid, w, false)).collect();
    let n = alert_webhooks.len();
    Ok(Json(WebhookPage {
        alert_webhooks,
        meta: page_meta(state.urls.alert_webhooks(&sid), "alert_webhooks", 0, n, None, None),
    }))
}

pub(crate) async fn create_webhook(
    State(state): State<AppState>,
    Path(ws): Path<String>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<WebhookResource>)> {
    let pairs = form(&body)?;
    let (mut url, mut format) = (None, None);
    for (k, v) in &pairs {
        match k.as_str() {
            "Url" => {
                let parsed = reqwest::Url::parse(v.trim())
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some() && v.len() <= MAX_URL)
                    .ok_or_else(|| ApiError::invalid("Url must be an http(s) URL of at most 2048 characters"))?;
                if url.replace(parsed.to_string()).is_some() {
                    return Err(ApiError::invalid("Url was given more than once"));
                }
            }
            "Format" => {
                let f = WebhookFormat::parse(v)
                    .ok_or_else(|| ApiError::invalid("Format must be one of json, slack, teams"))?;
                if format.replace(f).is_some() {
                    return Err(ApiError::invalid("Format was given more than once"));
                }
            }
            _ => {}
        }
    }
    let url = url.ok_or_else(|| ApiError::invalid("Missing required parameter Url"))?;
    let sid = workspace(&state, &ws)?;
    let now = state.clock.now_ms();
    let hook = StoredWebhook {
        sid: store::new_sid("AW"),
        url,
        format: format.unwrap_or_default(),
        secret: format!("whsec_{:032x}{:032x}", rand::random::<u128>(), rand::random::<u128>()),
        date_created: to_datetime(now),
    };
    let (ws_sid, stored) = (sid.clone(), hook.clone());
    let created = docs(&state, move |d| {
        if store::list::<StoredWebhook>(d, WEBHOOK, Some(&ws_sid))?.len() >= MAX_WEBHOOKS {
            return Ok(false);
        }
        store::put(d, WEBHOOK, &ws_sid, &stored.sid, &stored, now)?;
        Ok(true)
    })
    .await?;
    if !created {
        return Err(ApiError::invalid(format!("A workspace holds at most {MAX_WEBHOOKS} alert webhooks")));
    }
    Ok((StatusCode::CREATED, Json(webhook_resource(&state, &sid, hook, true))))
}

pub(crate) async fn fetch_webhook(
    State(state): State<AppState>,
    Path((ws, hook)): Path<(String, String)>,
) -> ApiResult<Json<WebhookResource>> {
    let sid = workspace(&state, &ws)?;
    let (ws_sid, key) = (sid.clone(), hook.clone());
    let found = docs(&state, move |d| store::get::<StoredWebhook>(d, WEBHOOK, &ws_sid, &key)).await?;
    let w = found.ok_or_else(|| webhook_not_found(&ws, &hook))?;
    Ok(Json(webhook_resource(&state, &sid, w, false)))
}

pub(crate) async fn delete_webhook(
    State(state): State<AppState>,
    Path((ws, hook)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let sid = workspace(&state, &ws)?;
    let key = store::key(WEBHOOK, &sid, &hook);
    if docs(&state, move |d| d.delete(&key)).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(webhook_not_found(&ws, &hook))
    }
}

pub(crate) async fn dead_letters(
    State(state): State<AppState>,
    Path((ws, hook)): Path<(String, String)>,
) -> ApiResult<Json<DeadLetterPage>> {
    let sid = workspace(&state, &ws)?;
    let (ws_sid, key) = (sid.clone(), hook.clone());
    let (exists, letters) = docs(&state, move |d| {
        let exists = store::get::<StoredWebhook>(d, WEBHOOK, &ws_sid, &key)?.is_some();
        Ok((exists, store::dead_letters(d, &ws_sid, &key)?))
    })
    .await?;
    if !exists && letters.is_empty() {
        return Err(webhook_not_found(&ws, &hook));
    }
    let n = letters.len();
    Ok(Json(DeadLetterPage {
        dead_letters: letters,
        meta: page_meta(state.urls.dead_letters(&sid, &hook), "dead_letters", 0, n, None, None),
    }))
}

fn alert_resource(state: &AppState, ws: &WorkspaceSid, alert: wallboard_shared::alerts::Alert) -> AlertResource {
    AlertResource {
        account_sid: state.account_sid.clone(),
        workspace_sid: ws.clone(),
        url: state.urls.alert(ws, &alert.sid),
        alert,
    }
}

fn alert_not_found(ws: &str, sid: &str) -> ApiError {
    ApiError::not_found(format!("The requested resource /Workspaces/{ws}/Alerts/{sid} was not found"))
}

/// `Status`, `PageSize` and `Page` of the history.
fn history_query(raw: Option<&str>) -> ApiResult<(Option<AlertStatus>, usize, usize)> {
    let (mut status, mut size, mut page) = (None, DEFAULT_PAGE, 0);
    for (k, v) in query_pairs(raw)? {
        match k.as_str() {
            "Status" => {
                status = Some(match v.as_str() {
                    "firing" => AlertStatus::Firing,
                    "cleared" => AlertStatus::Cleared,
                    _ => return Err(ApiError::invalid("Status must be firing or cleared")),
                })
            }
            "PageSize" => {
                size = v
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=MAX_PAGE).contains(n))
                    .ok_or_else(|| ApiError::invalid(format!("PageSize must be 1 to {MAX_PAGE}")))?;
            }
            "Page" => {
                page = v
                    .parse::<usize>()
                    .ok()
                    .filter(|p| *p <= 1_000_000)
                    .ok_or_else(|| ApiError::invalid("Page must be a whole number"))?;
            }
            _ => {}
        }
    }
    Ok((status, size, page))
}

/// The alert history (newest first) with the `Status` of `raw`, every page of it.
async fn history_of(
    state: &AppState,
    ws: &str,
    status: Option<AlertStatus>,
) -> ApiResult<(WorkspaceSid, Vec<wallboard_shared::alerts::Alert>)> {
    let sid = workspace(state, ws)?;
    let ws_sid = sid.clone();
    let all = docs(state, move |d| store::history(d, &ws_sid)).await?;
    Ok((sid, all.into_iter().filter(|a| status.is_none_or(|s| a.status == s)).collect()))
}

/// The alerts the Alerts list gives for `raw` (its `Status`; every page): the rows of the
/// alert history's export.
pub(crate) async fn export_rows(
    state: &AppState,
    ws: &str,
    raw: Option<&str>,
) -> ApiResult<(WorkspaceSid, Vec<wallboard_shared::alerts::Alert>)> {
    let (status, _, _) = history_query(raw)?;
    history_of(state, ws, status).await
}

pub(crate) async fn list_alerts(
    State(state): State<AppState>,
    Path(ws): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<AlertPage>> {
    let (status, size, page) = history_query(raw.as_deref())?;
    let (sid, matching) = history_of(&state, &ws, status).await?;
    let total = matching.len();
    let alerts: Vec<AlertResource> =
        matching.into_iter().skip(page * size).take(size).map(|a| alert_resource(&state, &sid, a)).collect();
    let base = state.urls.alerts(&sid);
    let status_param =
        status.map(|s| format!("Status={}&", if s == AlertStatus::Firing { "firing" } else { "cleared" }));
    let link = |p: usize| format!("{base}?{}PageSize={size}&Page={p}", status_param.clone().unwrap_or_default());
    let next = ((page + 1) * size < total).then(|| link(page + 1));
    let previous = (page > 0).then(|| link(page - 1));
    Ok(Json(AlertPage { alerts, meta: page_meta(link(page), "alerts", page as u32, size, next, previous) }))
}

async fn stored_alert(
    state: &AppState,
    ws: &str,
    alert: &str,
) -> ApiResult<(WorkspaceSid, wallboard_shared::alerts::Alert)> {
    let sid = workspace(state, ws)?;
    let (ws_sid, key) = (sid.clone(), alert.to_owned());
    let found = docs(state, move |d| {
        let Some(a) = store::get(d, ALERT, &ws_sid, &key)? else { return Ok(None) };
        let ack = store::get::<Ack>(d, ACK, &ws_sid, &key)?;
        Ok(Some(store::with_ack(a, ack)))
    })
    .await?;
    found.map(|a| (sid, a)).ok_or_else(|| alert_not_found(ws, alert))
}

pub(crate) async fn fetch_alert(
    State(state): State<AppState>,
    Path((ws, alert)): Path<(String, String)>,
) -> ApiResult<Json<AlertResource>> {
    let (sid, a) = stored_alert(&state, &ws, &alert).await?;
    Ok(Json(alert_resource(&state, &sid, a)))
}

/// `POST …/Alerts/{AL}` with `Acknowledged=true`: records who acknowledged it; the first
/// acknowledgement stands, a second one changes nothing.
pub(crate) async fn acknowledge(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((ws, alert)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Json<AlertResource>> {
    let pairs = form(&body)?;
    match pairs.iter().find(|(k, _)| k == "Acknowledged").map(|(_, v)| v.as_str()) {
        Some("true") => {}
        Some(_) => return Err(ApiError::invalid("Acknowledged can only be set to true")),
        None => return Err(ApiError::invalid("Missing required parameter Acknowledged")),
    }
    let (sid, _) = stored_alert(&state, &ws, &alert).await?;
    let by = match &principal {
        Principal::Account => "account".to_owned(),
        Principal::Token(t) => t.label.clone(),
    };
    let now = state.clock.now_ms();
    let (ws_sid, key) = (sid.clone(), alert.clone());
    docs(&state, move |d| {
        if store::get::<Ack>(d, ACK, &ws_sid, &key)?.is_none() {
            store::put(d, ACK, &ws_sid, &key, &Ack { by, at: to_datetime(now) }, now)?;
        }
        Ok(())
    })
    .await?;
    state.alerts.refresh();
    let (sid, a) = stored_alert(&state, &ws, &alert).await?;
    Ok(Json(alert_resource(&state, &sid, a)))
}
