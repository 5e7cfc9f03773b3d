//! `POST /webhooks/taskrouter`: TaskRouter's signed event callbacks.

use std::borrow::Cow;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};

use super::{ApiError, ApiResult};
use crate::event::Event;
use crate::metrics::{CallbackOutcome, Door};
use crate::signature;
use crate::state::AppState;

/// Events stamped further in the future than this are refused: a wrong clock or unit
/// would otherwise distort every window.
const MAX_FUTURE_MS: i64 = 5 * 60_000;

pub(crate) async fn taskrouter(
    State(state): State<AppState>,
    RawQuery(raw_query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<StatusCode> {
    let refused = |outcome: CallbackOutcome| state.metrics.callback(Door::Taskrouter, outcome);
    let body = body.map_err(|e| {
        refused(CallbackOutcome::TooLarge);
        ApiError::too_large(format!("cannot read the request body: {e}"))
    })?;
    // Names and values borrow the body unless they were percent-encoded (TaskRouter encodes
    // little beyond the attributes' JSON). Any body reads as a form; what it lacks, the
    // signature or the event's checks refuse.
    let pairs: Vec<(Cow<str>, Cow<str>)> = form_urlencoded::parse(&body).collect();
    let mut url = state.urls.event_callback();
    if let Some(q) = &raw_query {
        url.push('?');
        url.push_str(q);
    }
    let signed = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|sig| signature::is_valid(&state.auth_token, &url, &pairs, sig));
    if !signed {
        tracing::warn!("refused an event callback with a missing or invalid X-Twilio-Signature");
        refused(CallbackOutcome::BadSignature);
        return Err(ApiError::forbidden("X-Twilio-Signature is missing or invalid"));
    }
    let event = Event::from_form(&pairs).map_err(|e| {
        refused(CallbackOutcome::Malformed);
        ApiError::invalid(format!("malformed event: {e}"))
    })?;
    if event.ts_ms > state.clock.now_ms() + MAX_FUTURE_MS {
        refused(CallbackOutcome::Future);
        return Err(ApiError::invalid("the event's TimestampMs is in the future"));
    }
    let fresh = state.ingest.submit(vec![event]).await.map_err(|e| {
        refused(CallbackOutcome::Unavailable);
        ApiError::unavailable(format!("the event was not stored, retry later: {e}"))
    })?;
    let outcome =
        if fresh.first().copied().unwrap_or(false) { CallbackOutcome::Accepted } else { CallbackOutcome::Duplicate };
    state.metrics.callback(Door::Taskrouter, outcome);
    Ok(StatusCode::NO_CONTENT)
}
