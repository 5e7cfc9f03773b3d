//! One WebSocket connection: protocol v1 of DESIGN.md.
//!
//! The session task reads client frames, forwards its subscriptions' snapshots, pings,
//! and closes dead or stuck peers. It never blocks anyone else: snapshots come from
//! `watch` receivers (latest value only) and a send that stalls past the send timeout
//! closes this connection alone.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, close_code};
use axum::extract::{ConnectInfo, State, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;
use tokio_stream::StreamMap;
use tokio_stream::wrappers::WatchStream;
use wallboard_shared::error::codes;
use wallboard_shared::ws::{ClientMessage, CumulativeRequest, ServerMessage};
use wallboard_shared::{WorkflowSid, WorkspaceSid};

use super::hub::{CumulativeKey, Frame, TopicKey};
use crate::api::{ApiError, AppState};

/// Limits and timings of WebSocket sessions.
#[derive(Debug, Clone, Copy)]
pub struct WsConfig {
    pub max_connections: usize,
    pub max_subscriptions: usize,
    /// Largest client message handled; larger ones get an error frame.
    pub max_message_bytes: usize,
    pub ping_interval: Duration,
    /// A send that takes longer closes the connection (the peer stopped reading).
    pub send_timeout: Duration,
}

impl Default for WsConfig {
    fn default() -> Self {
        Self {
            max_connections: 20_000,
            max_subscriptions: 32,
            max_message_bytes: 4096,
            ping_interval: Duration::from_secs(30),
            send_timeout: Duration::from_secs(10),
        }
    }
}

/// Frames beyond this are refused by the WebSocket layer itself and close the connection
/// (1009); frames up to it but over `max_message_bytes` get an error frame.
const HARD_MESSAGE_LIMIT: usize = 64 * 1024;
/// Small buffers: most connections are idle viewers. axum's defaults (128 KiB each way)
/// would cost that much per idle client.
const READ_BUFFER: usize = 4 * 1024;
const WRITE_BUFFER: usize = 0;

pub async fn upgrade(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    // Until viewer tokens exist: the API credentials, or a loopback peer if allowed.
    if !crate::api::may_view(&state, Some(peer), &headers) {
        return ApiError::unauthorized().into_response();
    }
    let Ok(permit) = state.ws_permits.clone().try_acquire_owned() else {
        return ApiError::unavailable(format!(
            "too many WebSocket connections (at most {}); retry later",
            state.ws_config.max_connections
        ))
        .into_response();
    };
    ws.read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_write_buffer_size(HARD_MESSAGE_LIMIT.max(1 << 20))
        .max_message_size(HARD_MESSAGE_LIMIT)
        .max_frame_size(HARD_MESSAGE_LIMIT)
        .on_upgrade(move |socket| run(socket, state, permit))
}

fn error_text(id: Option<&str>, code: u32, message: impl Into<String>) -> String {
    let m = ServerMessage::Error { id: id.map(str::to_owned), code, message: message.into() };
    serde_json::to_string(&m).expect("messages serialize")
}

async fn run(mut socket: WebSocket, state: AppState, _permit: OwnedSemaphorePermit) {
    let config = state.ws_config;
    let mut subscriptions: StreamMap<String, WatchStream<Arc<Frame>>> = StreamMap::new();
    let mut ping = tokio::time::interval_at(Instant::now() + config.ping_interval, config.ping_interval);
    let mut last_heard = Instant::now();
    let stop = state.stop.clone();
    // Registered once: re-creating it every turn would lock the token's shared waiter list
    // on every snapshot of every session.
    let cancelled = stop.cancelled();
    tokio::pin!(cancelled);

    macro_rules! send {
        ($msg:expr) => {
            match tokio::time::timeout(config.send_timeout, socket.send($msg)).await {
                Ok(Ok(())) => {}
                _ => break, // dead or not reading: drop the connection
            }
        };
    }

    loop {
        tokio::select! {
            () = &mut cancelled => {
                let close = CloseFrame { code: close_code::AWAY, reason: Utf8Bytes::from_static("server shutting down") };
                let _ = tokio::time::timeout(config.send_timeout, socket.send(Message::Close(Some(close)))).await;
                break;
            }
            Some((id, frame)) = subscriptions.next(), if !subscriptions.is_empty() => {
                send!(Message::Text(frame.text(&id)));
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > config.ping_interval * 2 {
                    tracing::debug!("closing a WebSocket peer that stopped answering pings");
                    break;
                }
                send!(Message::Ping(Default::default()));
            }
            incoming = socket.recv() => {
                let Some(Ok(message)) = incoming else { break };
                last_heard = Instant::now();
                let reply = match message {
                    Message::Text(text) => handle_text(&state, text.as_str(), &mut subscriptions).await,
                    Message::Binary(_) => Some(error_text(None, codes::INVALID_PARAMETER, "binary frames are not supported; send JSON text frames")),
                    Message::Ping(_) | Message::Pong(_) => None,
                    Message::Close(_) => break,
                };
                if let Some(text) = reply {
                    send!(Message::Text(text.into()));
                }
            }
        }
    }
}

/// Handles one client frame; returns the reply frame, if any.
async fn handle_text(
    state: &AppState,
    text: &str,
    subscriptions: &mut StreamMap<String, WatchStream<Arc<Frame>>>,
) -> Option<String> {
    let config = state.ws_config;
    if text.len() > config.max_message_bytes {
        return Some(error_text(
            None,
            codes::INVALID_PARAMETER,
            format!("message too large ({} bytes; at most {})", text.len(), config.max_message_bytes),
        ));
    }
    let message = match serde_json::from_str::<ClientMessage>(text) {
        Ok(m) => m,
        Err(e) => {
            let value = serde_json::from_str::<serde_json::Value>(text).ok();
            let id = value.as_ref().and_then(|v| v.get("id")).and_then(|v| v.as_str()).map(str::to_owned);
            let why = match value {
                None => "not a JSON message".to_owned(),
                Some(_) => format!("not a valid message: {e}"),
            };
            return Some(error_text(id.as_deref(), codes::INVALID_PARAMETER, why));
        }
    };
    match message {
        ClientMessage::Ping => Some(serde_json::to_string(&ServerMessage::Pong).expect("serializes")),
        // Access control (viewer tokens) comes later; an auth frame is accepted and ignored.
        ClientMessage::Auth { .. } => None,
        ClientMessage::Unsubscribe { id } => {
            if subscriptions.remove(&id).is_none() {
                return Some(error_text(Some(&id), codes::NOT_FOUND, format!("no subscription with id '{id}'")));
            }
            None
        }
        ClientMessage::Subscribe { id, workspace_sid, workflow_sid, task_channel, cumulative } => {
            if id.is_empty() || id.len() > 64 {
                return Some(error_text(None, codes::INVALID_PARAMETER, "id must be 1 to 64 characters"));
            }
            if !subscriptions.contains_key(&id) && subscriptions.len() >= config.max_subscriptions {
                let msg = format!("at most {} subscriptions per connection", config.max_subscriptions);
                return Some(error_text(Some(&id), codes::INVALID_PARAMETER, msg));
            }
            let key = match topic(state, &workspace_sid, &workflow_sid, task_channel.as_deref(), cumulative.as_ref()) {
                Ok(k) => k,
                Err((code, msg)) => return Some(error_text(Some(&id), code, msg)),
            };
            let Some(rx) = state.hub.subscribe(key).await else {
                return Some(error_text(Some(&id), codes::UNAVAILABLE, "the server is shutting down"));
            };
            // Replaces an existing subscription with the same id.
            subscriptions.insert(id, WatchStream::new(rx));
            None
        }
    }
}

/// Validates a subscription and names its topic.
fn topic(
    state: &AppState,
    workspace: &str,
    workflow: &str,
    channel: Option<&str>,
    cumulative: Option<&CumulativeRequest>,
) -> Result<TopicKey, (u32, String)> {
    let invalid = |m: String| (codes::INVALID_PARAMETER, m);
    let ws = WorkspaceSid::parse(workspace).map_err(|e| invalid(format!("workspace_sid: {e}")))?;
    let wf = WorkflowSid::parse(workflow).map_err(|e| invalid(format!("workflow_sid: {e}")))?;
    let query = match cumulative {
        Some(c) => Some(c.to_query(None).map_err(|e| invalid(e.0))?),
        None => None,
    };
    if let Some(q) = &query {
        q.window.resolve(state.clock.now_ms(), state.retention_ms).map_err(|e| invalid(e.0))?;
    }
    let engine = state.engine();
    let id = engine
        .registry()
        .workflow_id(&ws, &wf)
        .ok_or_else(|| (codes::NOT_FOUND, format!("workflow {wf} of workspace {ws} was not found")))?;
    let channel = channel
        .map(|c| {
            engine
                .registry()
                .resolve_channel(&ws, c)
                .ok_or_else(|| invalid(format!("task_channel '{c}' is not a task channel of this workspace")))
        })
        .transpose()?;
    Ok(TopicKey {
        workflow: id,
        channel,
        cumulative: query.map(|q| CumulativeKey { window: q.window, thresholds: q.split_by_wait_time }),
    })
}
