//! `POST /webhooks/eventstreams`: Twilio Event Streams' webhook sink, a JSON array of
//! CloudEvents (`crate::eventstreams` maps them to events).
//!
//! Authenticated either way a sink can be: `X-Twilio-Signature` over the sink URL, whose
//! `bodySHA256` parameter is the body's SHA-256 ([`signature::is_valid_json`]), or HTTP
//! Basic credentials written into the sink URL (the account SID and auth token, or an admin
//! token's; failed attempts count like the API's). Anything else: 401/403, nothing stored.
//!
//! The good events of a batch are stored together (one submit, one transaction of the
//! writer) and the answer (200, a [`BatchReport`]) comes once they are durable; malformed
//! ones are reported and logged with their ids, never a 5xx. A batch the store cannot take
//! is 503 with `Retry-After` as a whole (Event Streams delivers it again).

use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use wallboard_shared::event::{BatchReport, RefusedEvent};

use super::{ApiError, ApiResult};
use crate::eventstreams::{self, Item};
use crate::metrics::{CallbackOutcome, Door};
use crate::signature;
use crate::state::AppState;

/// Events stamped further in the future than this are refused (as callbacks are).
const MAX_FUTURE_MS: i64 = 5 * 60_000;

pub(crate) async fn eventstreams(
    State(state): State<AppState>,
    connect: Option<Extension<ConnectInfo<std::net::SocketAddr>>>,
    RawQuery(raw_query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<BatchReport>, Response> {
    let refused = |outcome: CallbackOutcome| state.metrics.callback(Door::Eventstreams, outcome);
    let body = body.map_err(|e| {
        refused(CallbackOutcome::TooLarge);
        ApiError::too_large(format!("cannot read the request body: {e}")).into_response()
    })?;
    authenticate(&state, connect.map(|c| c.0.0), raw_query.as_deref(), &headers, &body).await?;
    batch(&state, &body).await.map(Json).map_err(IntoResponse::into_response)
}

/// The signature, else Basic credentials; refusals are logged.
async fn authenticate(
    state: &AppState,
    peer: Option<std::net::SocketAddr>,
    raw_query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), Response> {
    let refused = |outcome: CallbackOutcome| state.metrics.callback(Door::Eventstreams, outcome);
    if let Some(sig) = headers.get("x-twilio-signature") {
        let url = match raw_query {
            Some(q) => format!("{}?{q}", state.urls.event_streams()),
            None => state.urls.event_streams(),
        };
        let valid = sig.to_str().is_ok_and(|sig| signature::is_valid_json(&state.auth_token, &url, body, sig));
        if valid {
            return Ok(());
        }
        tracing::warn!("refused an Event Streams batch with an invalid X-Twilio-Signature (or bodySHA256)");
        let error = ApiError::forbidden("X-Twilio-Signature or the URL's bodySHA256 does not match the body");
        refused(CallbackOutcome::BadSignature);
        return Err(error.into_response());
    }
    if headers.contains_key(header::AUTHORIZATION) {
        let peer = peer.map(|p| super::client_ip(state, p.ip(), headers));
        return match state.access.authenticate_headers(headers, peer).await {
            Ok(p) if p.is_admin() => Ok(()),
            Ok(_) => {
                tracing::warn!("refused an Event Streams batch: the credentials are not the account's");
                let error = ApiError::forbidden("Event Streams needs the account credentials (or an admin token's)");
                refused(CallbackOutcome::Unauthorized);
                Err(error.into_response())
            }
            Err(denied) => {
                tracing::warn!("refused an Event Streams batch with wrong Basic credentials");
                refused(CallbackOutcome::Unauthorized);
                Err(super::denied_response(&denied, headers))
            }
        };
    }
    tracing::warn!("refused an Event Streams batch with neither X-Twilio-Signature nor credentials");
    let error = ApiError::forbidden("X-Twilio-Signature (or Basic credentials in the sink URL) is missing");
    refused(CallbackOutcome::BadSignature);
    Err(error.into_response())
}

/// Maps, stores and reports one authenticated batch.
async fn batch(state: &AppState, body: &[u8]) -> ApiResult<BatchReport> {
    let door = Door::Eventstreams;
    let items = eventstreams::parse_batch(body).map_err(|e| {
        state.metrics.callback(door, CallbackOutcome::Malformed);
        ApiError::invalid(e)
    })?;
    let mut report = BatchReport { received: items.len(), ..BatchReport::default() };
    let now_ms = state.clock.now_ms();
    let mut events = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let refuse = |reason: String| {
            let (id, event_type) = eventstreams::id_and_type(item);
            RefusedEvent { index, id, event_type, reason }
        };
        match eventstreams::from_cloud_event(item) {
            Ok(Item::Event(e)) if e.ts_ms > now_ms + MAX_FUTURE_MS => {
                state.metrics.callback(door, CallbackOutcome::Future);
                report.refused.push(refuse("the event's timestamp is in the future".into()));
            }
            Ok(Item::Event(e)) => events.push(*e),
            Ok(Item::Test { test_id }) => {
                report.tests += 1;
                tracing::info!(
                    %test_id,
                    "Event Streams sink test received; validate the sink with \
                     `twilio api:events:v1:sinks:validate:create --sid DG… --test-id {test_id}`"
                );
            }
            Err(e) => {
                state.metrics.callback(door, CallbackOutcome::Malformed);
                report.refused.push(refuse(e.0));
            }
        }
    }
    for r in &report.refused {
        tracing::warn!(
            index = r.index,
            id = r.id.as_deref().unwrap_or("-"),
            event_type = r.event_type.as_deref().unwrap_or("-"),
            reason = %r.reason,
            "refused a CloudEvent of an Event Streams batch"
        );
    }
    if !events.is_empty() {
        let offered = events.len() as u64;
        let fresh = state.ingest.submit(events).await.map_err(|e| {
            state.metrics.callbacks(door, CallbackOutcome::Unavailable, offered);
            ApiError::unavailable(format!("the batch was not stored, retry later: {e}"))
        })?;
        report.stored = fresh.iter().filter(|f| **f).count();
        report.duplicates = fresh.len() - report.stored;
        state.metrics.callbacks(door, CallbackOutcome::Accepted, report.stored as u64);
        state.metrics.callbacks(door, CallbackOutcome::Duplicate, report.duplicates as u64);
    }
    Ok(report)
}
