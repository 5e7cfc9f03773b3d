//! TaskRouter's Events list resource, served from the event log: what `wallboard backfill`
//! reads from Twilio, so one Wallboard can also backfill from another.
//!
//! Parameters as Twilio's: `Minutes` or `StartDate`/`EndDate` (default: the last 15
//! minutes), `EventType`, `TaskSid`, `WorkflowSid`, `ReservationSid`, `TaskChannel`,
//! `PageSize` (1–1000, default 50). Pages follow `meta.next_page_url`, which carries a
//! `PageToken` naming the last event of the page (keyset paging: every page costs the same).

use axum::extract::{Path, RawQuery, State};
use axum::{Extension, Json};
use wallboard_shared::WorkspaceSid;
use wallboard_shared::event::EventPage;
use wallboard_shared::resources::PageMeta;
use wallboard_shared::sid::is_sid;

use super::{ApiError, ApiResult, query_pairs};
use crate::access::Principal;
use crate::state::AppState;
use crate::storage::EventFilter;

/// Where a page starts: after the event with this time and SID.
fn parse_token(raw: &str) -> ApiResult<(i64, String)> {
    let bad = || ApiError::invalid("PageToken is not a token of this server (use meta.next_page_url)");
    let (ts, sid) = raw.split_once('_').ok_or_else(bad)?;
    let ts = ts.parse::<i64>().map_err(|_| bad())?;
    if !is_sid("EV", sid) {
        return Err(bad());
    }
    Ok((ts, sid.to_owned()))
}

pub(crate) async fn list_events(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(ws): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<EventPage>> {
    let pairs = query_pairs(raw.as_deref())?;
    let query = wallboard_shared::StatisticsQuery::parse(
        pairs.iter().filter(|(k, _)| k != "TaskChannel").map(|(k, v)| (k.as_str(), v.as_str())),
    )?;
    let window = query.window.resolve(state.clock.now_ms(), state.retention_ms)?;
    let not_found = || ApiError::not_found(format!("The requested resource /Workspaces/{ws}/Events was not found"));
    let sid = WorkspaceSid::parse(&ws).map_err(|_| not_found())?;
    if state.engine().registry().workspace_id(&sid).is_none() {
        return Err(not_found());
    }
    if !principal.allows_all_workflows(sid.as_str()) {
        return Err(ApiError::forbidden(
            "Events need access to the whole workspace; this token is limited to workflows",
        ));
    }
    let mut filter = EventFilter {
        workspace_sid: sid.to_string(),
        start_ms: window.start_ms,
        end_ms: window.end_ms,
        ..EventFilter::default()
    };
    let paging = super::resources::paging(raw.as_deref())?;
    let (page_size, page, mut after) = (u64::from(paging.page_size), paging.page, None);
    for (k, v) in &pairs {
        let value = || Some(v.clone()).filter(|v| !v.is_empty());
        match k.as_str() {
            "EventType" => filter.event_type = value(),
            "TaskSid" => filter.task_sid = value(),
            "WorkflowSid" => filter.workflow_sid = value(),
            "ReservationSid" => filter.reservation_sid = value(),
            "TaskChannel" => filter.task_channel = value(),
            "PageToken" => after = Some(parse_token(v)?),
            _ => {}
        }
    }
    // One more than a page says whether there is a next one.
    let reader = state.events.clone();
    let f = filter.clone();
    let a = after.clone();
    let mut events = tokio::task::spawn_blocking(move || {
        let log = reader.lock().unwrap_or_else(|p| p.into_inner());
        log.list(&f, a.as_ref().map(|(t, s)| (*t, s.as_str())), page_size + 1)
    })
    .await
    .map_err(|_| ApiError::unavailable("the event log could not be read"))?
    .map_err(|e| {
        tracing::error!(error = %e, "cannot list events");
        ApiError::unavailable("the event log could not be read; retry later")
    })?;
    let more = events.len() as u64 > page_size;
    events.truncate(page_size as usize);

    let list_url = state.urls.events(&sid);
    // The query without paging parameters, kept on every page link.
    let kept: Vec<(String, String)> =
        pairs.iter().filter(|(k, _)| !matches!(k.as_str(), "PageSize" | "Page" | "PageToken")).cloned().collect();
    let url_of = |page: u32, token: Option<&str>| {
        let mut q: Vec<(String, String)> = kept.clone();
        q.push(("PageSize".into(), page_size.to_string()));
        q.push(("Page".into(), page.to_string()));
        if let Some(t) = token {
            q.push(("PageToken".into(), t.to_owned()));
        }
        format!("{list_url}?{}", serde_urlencoded::to_string(&q).unwrap_or_default())
    };
    let next_token = events.last().filter(|_| more).map(|e| format!("{}_{}", e.ts_ms, e.sid));
    let this_token = after.as_ref().map(|(t, s)| format!("{t}_{s}"));
    let meta = PageMeta {
        first_page_url: url_of(0, None),
        key: "events".into(),
        next_page_url: next_token.map(|t| url_of(page + 1, Some(&t))),
        page,
        page_size: page_size as u32,
        // Keyset pages only link forward (as Twilio's do for most lists).
        previous_page_url: None,
        url: url_of(page, this_token.as_deref()),
    };
    let account = state.account_sid.to_string();
    let events = events.iter().map(|e| e.to_resource(&account, &state.public_url)).collect();
    Ok(Json(EventPage { events, meta }))
}
