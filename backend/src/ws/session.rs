//! One WebSocket connection: protocol v1 of docs/design.md. The HTTP half of the upgrade
//! (authentication of the request, the connection limit) is the api's; this module
//! knows frames and sessions only.
//!
//! The session task reads client frames, answers them, pings, and closes dead or stuck
//! peers. It does not forward snapshots: the [`fanout`](super::fanout) writes them to the
//! connection's socket without waking the session. The session wakes only to write out
//! what a slow socket did not take ([`Conn::flush`]); a peer that takes nothing for the
//! send timeout is closed, and nobody else ever waits for it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::WebSocketUpgrade;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, close_code};
use rustc_hash::FxHashMap;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use wallboard_shared::WorkspaceSid;
use wallboard_shared::error::codes;
use wallboard_shared::query::StatisticsQuery;
use wallboard_shared::time::format_ms;
use wallboard_shared::ws::{
    ClientMessage, CumulativeRequest, History, MAX_HISTORY_MINUTES, ServerMessage, Target as WireTarget, TargetRequest,
    resolve_target,
};

use super::conn::Conn;
use super::fanout::Fanout;
use super::hub::{Hub, SubscribeError, Subscribed, TopicKey};
use crate::access::{Access, Denied, Principal};
use crate::clock::Clock;
use crate::engine::target::QueueId;
use crate::engine::{CumulativeSpec, Target, View};
use crate::metrics::{Held, Metrics};
use crate::source::Numbers;

/// Limits and timings of WebSocket sessions.
#[derive(Debug, Clone, Copy)]
pub struct WsConfig {
    pub max_connections: usize,
    pub max_subscriptions: usize,
    /// Largest client message handled; larger ones get an error frame.
    pub max_message_bytes: usize,
    pub ping_interval: Duration,
    /// A connection whose socket takes nothing for this long while frames wait is closed
    /// (the peer stopped reading).
    pub send_timeout: Duration,
    /// A connection that has not authenticated by then is closed.
    pub auth_timeout: Duration,
    /// Fan-out workers, each writing the snapshots of a shard of the connections.
    pub fanout_workers: usize,
}

impl Default for WsConfig {
    fn default() -> Self {
        Self {
            max_connections: 20_000,
            max_subscriptions: 64,
            max_message_bytes: 4096,
            ping_interval: Duration::from_secs(30),
            send_timeout: Duration::from_secs(10),
            auth_timeout: Duration::from_secs(10),
            fanout_workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// What every session needs; cheap to clone.
#[derive(Debug, Clone)]
pub struct Sessions {
    pub config: WsConfig,
    pub hub: Hub,
    /// Writes the topics' snapshots to the subscribed connections.
    pub fanout: Fanout,
    pub numbers: Numbers,
    pub access: Arc<Access>,
    pub clock: Arc<dyn Clock>,
    pub retention_ms: i64,
    /// The alerts firing now (`watch_alerts`).
    pub alerts: Arc<crate::alerts::Alerts>,
    /// Cancelled when the server shuts down: every session sends Close (1001).
    pub stop: CancellationToken,
    /// Clients, frames sent and revisions skipped.
    pub metrics: Arc<Metrics>,
}

/// With `--source twilio`: how long a subscription waits for the upstream's first answer.
const MIRROR_FIRST_WAIT: Duration = Duration::from_secs(3);

/// Frames beyond this are refused by the WebSocket layer itself and close the connection
/// (1009); frames up to it but over `max_message_bytes` get an error frame.
const HARD_MESSAGE_LIMIT: usize = 64 * 1024;
/// Small buffers: most connections are idle viewers. axum's defaults (128 KiB each way)
/// would cost that much per idle client.
const READ_BUFFER: usize = 4 * 1024;
const WRITE_BUFFER: usize = 0;

/// The frame limits and buffer sizes of a session, set on the upgrade before it is accepted.
pub fn configure(upgrade: WebSocketUpgrade) -> WebSocketUpgrade {
    upgrade
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_write_buffer_size(HARD_MESSAGE_LIMIT.max(1 << 20))
        .max_message_size(HARD_MESSAGE_LIMIT)
        .max_frame_size(HARD_MESSAGE_LIMIT)
}

fn error_text(id: Option<&str>, code: u32, message: impl Into<String>) -> String {
    let m = ServerMessage::Error { id: id.map(str::to_owned), code, message: message.into() };
    serde_json::to_string(&m).expect("messages serialize")
}

/// What a client frame calls for.
enum Reply {
    None,
    /// A subscription was accepted: send its history, if asked for, then its snapshots.
    Subscribed {
        id: String,
        topic: Subscribed,
        history: Option<String>,
    },
    /// Start sending the alerts of the workspace now set.
    WatchAlerts,
    Send(String),
    /// Send this error frame, then close the connection (authentication failed).
    Refuse(String),
}

/// Speaks protocol v1 on an accepted connection (`socket`, upgraded from `conn`) until
/// either side ends it. `principal` is set when the upgrade request itself authenticated;
/// `_permit` counts the connection.
pub async fn run(
    mut socket: WebSocket,
    conn: Arc<Conn>,
    state: Arc<Sessions>,
    _permit: OwnedSemaphorePermit,
    peer: SocketAddr,
    mut principal: Option<Principal>,
) {
    let config = state.config;
    let _connected = Held::new(&state.metrics.ws_clients);
    conn.set_framed();
    // However the session ends, the connection takes no more frames and the fan-out lets it go.
    let _release = Release { conn: &conn, fanout: &state.fanout };
    // Subscription ids and their slots in the connection.
    let mut subscriptions: FxHashMap<String, u32> = FxHashMap::default();
    let mut ping = tokio::time::interval_at(Instant::now() + config.ping_interval, config.ping_interval);
    let mut last_heard = Instant::now();
    let stop = state.stop.clone();
    // Registered once: re-creating it every turn would lock the token's shared waiter list
    // on every snapshot of every session.
    let cancelled = stop.cancelled();
    tokio::pin!(cancelled);
    let auth_deadline = tokio::time::sleep(config.auth_timeout);
    tokio::pin!(auth_deadline);
    let mut access_changes = state.access.changes();
    access_changes.mark_unchanged();
    // The workspace whose alerts this client watches (`watch_alerts`).
    let mut alerts_of: Option<String> = None;
    let mut board = state.alerts.board();

    macro_rules! send {
        ($msg:expr) => {
            // Never waits: a framed connection takes every byte (what the socket does not,
            // waits in its outbox for `flush`), so no timer is needed here.
            match socket.send($msg).await {
                Ok(()) => {
                    state.metrics.ws_frames_sent.inc();
                }
                _ => break, // dead or not reading: drop the connection
            }
        };
    }
    macro_rules! refuse {
        ($text:expr, $reason:expr) => {{
            let _ = socket.send(Message::Text($text.into())).await;
            let close = CloseFrame { code: close_code::POLICY, reason: Utf8Bytes::from_static($reason) };
            let _ = socket.send(Message::Close(Some(close))).await;
            let _ = conn.flush(config.send_timeout).await;
            break;
        }};
    }

    loop {
        let token_session = principal.as_ref().is_some_and(|p| p.token().is_some());
        tokio::select! {
            () = &mut cancelled => {
                let close = CloseFrame { code: close_code::AWAY, reason: Utf8Bytes::from_static("server shutting down") };
                let _ = socket.send(Message::Close(Some(close))).await;
                let _ = conn.flush(config.send_timeout).await;
                break;
            }
            () = conn.backlogged() => {
                // The socket did not take everything: write the rest as it drains.
                if let Err(e) = conn.flush(config.send_timeout).await {
                    tracing::debug!(error = %e, "closing a WebSocket whose peer does not read");
                    break;
                }
            }
            Ok(()) = board.changed(), if alerts_of.is_some() => {
                if let (Some(ws), Some(who)) = (&alerts_of, &principal) {
                    let text = alerts_text(&board.borrow_and_update(), ws, who);
                    send!(Message::Text(text.into()));
                }
            }
            () = &mut auth_deadline, if principal.is_none() => {
                let text = error_text(None, codes::AUTHENTICATION, "authenticate first: send {\"type\":\"auth\",\"token\":\"…\"}");
                refuse!(text, "authentication timeout");
            }
            Ok(()) = access_changes.changed(), if token_session => {
                if let Some(p) = &principal && !state.access.still_valid(p) {
                    tracing::info!(token = p.token().map(|t| t.id.as_str()), "closing a WebSocket whose token was revoked or expired");
                    let text = error_text(None, codes::AUTHENTICATION, "the token was revoked or has expired");
                    refuse!(text, "token revoked or expired");
                }
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
                    Message::Text(text) => {
                        let reply = handle_text(&state, text.as_str(), &conn, &mut subscriptions, &mut principal, peer, &mut alerts_of).await;
                        if matches!(reply, Reply::WatchAlerts) {
                            // The current alerts at once, through the branch above.
                            board.mark_changed();
                            Reply::None
                        } else {
                            reply
                        }
                    }
                    Message::Binary(_) if principal.is_none() => Reply::Refuse(not_authenticated()),
                    Message::Binary(_) => Reply::Send(error_text(None, codes::INVALID_PARAMETER, "binary frames are not supported; send JSON text frames")),
                    Message::Ping(_) | Message::Pong(_) => Reply::None,
                    Message::Close(_) => break,
                };
                match reply {
                    Reply::None | Reply::WatchAlerts => {}
                    Reply::Send(text) => send!(Message::Text(text.into())),
                    Reply::Refuse(text) => refuse!(text, "not authenticated"),
                    Reply::Subscribed { id, topic, history } => {
                        // The history first: a client seeds its trend, then goes on with the
                        // live numbers (the outbox keeps the order).
                        if let Some(text) = history {
                            send!(Message::Text(text.into()));
                        }
                        let slot = conn.open_slot();
                        // Replaces an existing subscription with the same id.
                        if let Some(old) = subscriptions.insert(id.clone(), slot) {
                            conn.end_slot(old);
                            state.fanout.unsubscribe(&conn, old);
                        }
                        state.fanout.subscribe(topic, &conn, slot, &id);
                    }
                }
            }
        }
    }
}

/// Closes a session's connection to the fan-out when the session ends.
struct Release<'a> {
    conn: &'a Conn,
    fanout: &'a Fanout,
}

impl Drop for Release<'_> {
    fn drop(&mut self) {
        self.conn.close();
        self.fanout.forget(self.conn);
    }
}

fn not_authenticated() -> String {
    error_text(
        None,
        codes::AUTHENTICATION,
        "authenticate first: the first frame must be {\"type\":\"auth\",\"token\":\"…\"}",
    )
}

/// Handles one client frame.
async fn handle_text(
    state: &Sessions,
    text: &str,
    conn: &Conn,
    subscriptions: &mut FxHashMap<String, u32>,
    principal: &mut Option<Principal>,
    peer: SocketAddr,
    alerts_of: &mut Option<String>,
) -> Reply {
    let config = state.config;
    if text.len() > config.max_message_bytes {
        let why = format!("message too large ({} bytes; at most {})", text.len(), config.max_message_bytes);
        return match principal {
            None => Reply::Refuse(error_text(None, codes::AUTHENTICATION, why)),
            Some(_) => Reply::Send(error_text(None, codes::INVALID_PARAMETER, why)),
        };
    }
    let message = match serde_json::from_str::<ClientMessage>(text) {
        Ok(m) => m,
        Err(_) if principal.is_none() => return Reply::Refuse(not_authenticated()),
        Err(e) => {
            let value = serde_json::from_str::<serde_json::Value>(text).ok();
            let id = value.as_ref().and_then(|v| v.get("id")).and_then(|v| v.as_str()).map(str::to_owned);
            let why = match value {
                None => "not a JSON message".to_owned(),
                Some(_) => format!("not a valid message: {e}"),
            };
            return Reply::Send(error_text(id.as_deref(), codes::INVALID_PARAMETER, why));
        }
    };
    let Some(who) = principal.as_ref() else {
        let ClientMessage::Auth { token } = message else { return Reply::Refuse(not_authenticated()) };
        return match state.access.authenticate_token(&token, Some(peer.ip())).await {
            Ok(p) => {
                *principal = Some(p);
                Reply::None
            }
            Err(denied) => {
                let code = match denied {
                    Denied::RateLimited { .. } => codes::TOO_MANY_REQUESTS,
                    _ => codes::AUTHENTICATION,
                };
                Reply::Refuse(error_text(None, code, denied.message()))
            }
        };
    };
    match message {
        ClientMessage::Ping => Reply::Send(serde_json::to_string(&ServerMessage::Pong).expect("serializes")),
        ClientMessage::Auth { .. } => {
            Reply::Send(error_text(None, codes::INVALID_PARAMETER, "this connection is already authenticated"))
        }
        ClientMessage::WatchAlerts { workspace_sid } => {
            if !who.allows_workspace(&workspace_sid) || WorkspaceSid::parse(&workspace_sid).is_err() {
                return Reply::Send(error_text(
                    None,
                    codes::NOT_FOUND,
                    format!(
                        "no workspace '{}' for this connection",
                        workspace_sid.chars().take(64).collect::<String>()
                    ),
                ));
            }
            *alerts_of = Some(workspace_sid);
            Reply::WatchAlerts
        }
        ClientMessage::Unsubscribe { id } => {
            let Some(slot) = subscriptions.remove(&id) else {
                return Reply::Send(error_text(Some(&id), codes::NOT_FOUND, format!("no subscription with id '{id}'")));
            };
            // No frame of it goes out after this, not even one already waiting.
            conn.end_slot(slot);
            state.fanout.unsubscribe(conn, slot);
            Reply::None
        }
        ClientMessage::Subscribe {
            id,
            workspace_sid,
            workflow_sid,
            task_channel,
            cumulative,
            target,
            history_minutes,
        } => {
            if id.is_empty() || id.len() > 64 {
                return Reply::Send(error_text(None, codes::INVALID_PARAMETER, "id must be 1 to 64 characters"));
            }
            if let Some(m) = history_minutes
                && !(1..=MAX_HISTORY_MINUTES).contains(&m)
            {
                let msg = format!("history_minutes must be 1 to {MAX_HISTORY_MINUTES} (got {m})");
                return Reply::Send(error_text(Some(&id), codes::INVALID_PARAMETER, msg));
            }
            if !subscriptions.contains_key(&id) && subscriptions.len() >= config.max_subscriptions {
                let msg = format!("at most {} subscriptions per connection", config.max_subscriptions);
                return Reply::Send(error_text(Some(&id), codes::INVALID_PARAMETER, msg));
            }
            // A workflow is readable with a token that names it; the queues, the workspace
            // and its workers only with one for the whole workspace (as their REST resources).
            let (allowed, what) = match &target {
                None => (who.allows_workflow(&workspace_sid, &workflow_sid), format!("workflow {workflow_sid}")),
                Some(TargetRequest::Workflow { sid }) => {
                    (who.allows_workflow(&workspace_sid, sid), format!("workflow {sid}"))
                }
                Some(_) => (who.allows_all_workflows(&workspace_sid), "the whole workspace".to_owned()),
            };
            if !allowed {
                let msg = format!("this token does not give access to {what} of {workspace_sid}");
                return Reply::Send(error_text(Some(&id), codes::FORBIDDEN, msg));
            }
            let now_ms = state.clock.now_ms();
            let checked = match check_subscription(
                &workspace_sid,
                &workflow_sid,
                target.as_ref(),
                cumulative.as_ref(),
                now_ms,
                state.retention_ms,
            ) {
                Ok(c) => c,
                Err((code, msg)) => return Reply::Send(error_text(Some(&id), code, msg)),
            };
            let key = match topic(state, checked, task_channel.as_deref()) {
                Ok(k) => k,
                Err((code, msg)) => return Reply::Send(error_text(Some(&id), code, msg)),
            };
            // From a mirror, a first answer so the first snapshot holds numbers; if it is
            // slow the snapshot says stale and the real one follows when it arrives.
            state.numbers.warm_up(key.view, key.cumulative.as_ref(), MIRROR_FIRST_WAIT).await;
            let key_view = key.view;
            let topic = match state.hub.subscribe(key).await {
                Ok(topic) => topic,
                Err(e @ SubscribeError::Stopped) => {
                    return Reply::Send(error_text(Some(&id), codes::UNAVAILABLE, e.to_string()));
                }
                Err(e @ SubscribeError::TooManyTopics(_)) => {
                    return Reply::Send(error_text(Some(&id), codes::TOO_MANY_REQUESTS, e.to_string()));
                }
                Err(e @ SubscribeError::Gone) => {
                    return Reply::Send(error_text(Some(&id), codes::NOT_FOUND, e.to_string()));
                }
            };
            let history = history_minutes.map(|m| history_text(&id, &state.numbers, key_view, m));
            Reply::Subscribed { id, topic, history }
        }
    }
}

/// The `history` frame of subscription `id`: its view's samples of the last `minutes`.
fn history_text(id: &str, numbers: &Numbers, view: View, minutes: u32) -> String {
    let h = numbers.trend(view, minutes);
    let samples = h
        .samples
        .iter()
        .map(|s| {
            let [p, r, a, w] = s.by_status.map(u64::from);
            [p, r, a, w, u64::from(s.longest_wait_s)]
        })
        .collect();
    let message = ServerMessage::History(History {
        id: id.to_owned(),
        interval_ms: h.interval_ms,
        start: format_ms(h.start_ms),
        samples,
    });
    serde_json::to_string(&message)
        .unwrap_or_else(|_| error_text(Some(id), codes::INVALID_PARAMETER, "history unavailable"))
}

/// A subscribe frame's subject and window, checked without the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedSubscription {
    pub workspace: WorkspaceSid,
    pub target: WireTarget,
    /// The cumulative parameters, their window valid at the time of the check.
    pub query: Option<StatisticsQuery>,
}

/// The checks of a subscribe frame that need no engine: exactly one of `workflow_sid` and
/// `target` names the subject, the workspace is a SID, the cumulative part passes the REST
/// parameters' validation and its window resolves at `now_ms` within the retention. An
/// error is (code, message) of the error frame. Public for `backend/tests/fuzz/`, which
/// throws arbitrary frames at it.
pub fn check_subscription(
    workspace_sid: &str,
    workflow_sid: &str,
    target: Option<&TargetRequest>,
    cumulative: Option<&CumulativeRequest>,
    now_ms: i64,
    retention_ms: i64,
) -> Result<CheckedSubscription, (u32, String)> {
    let invalid = |m: String| (codes::INVALID_PARAMETER, m);
    let target = resolve_target(workflow_sid, target).map_err(|e| invalid(e.0))?;
    let workspace = WorkspaceSid::parse(workspace_sid).map_err(|e| invalid(format!("workspace_sid: {e}")))?;
    let query = cumulative.map(|c| c.to_target_query(target.kind(), None)).transpose().map_err(|e| invalid(e.0))?;
    if let Some(q) = &query {
        q.window.resolve(now_ms, retention_ms).map_err(|e| invalid(e.0))?;
    }
    Ok(CheckedSubscription { workspace, target, query })
}

/// Names the topic of a checked subscription: its workspace, workflow, queue and channel
/// must be known.
fn topic(state: &Sessions, checked: CheckedSubscription, channel: Option<&str>) -> Result<TopicKey, (u32, String)> {
    let invalid = |m: String| (codes::INVALID_PARAMETER, m);
    let CheckedSubscription { workspace: ws, target: wanted, query } = checked;
    let engine = state.numbers.engine();
    let registry = engine.registry();
    let workspace_id =
        || registry.workspace_id(&ws).ok_or_else(|| (codes::NOT_FOUND, format!("workspace {ws} was not found")));
    let target = match &wanted {
        WireTarget::Workflow(wf) => Target::Workflow(
            registry
                .workflow_id(&ws, wf)
                .ok_or_else(|| (codes::NOT_FOUND, format!("workflow {wf} of workspace {ws} was not found")))?,
        ),
        WireTarget::TaskQueue(wq) => {
            let id = workspace_id()?;
            let queue = engine
                .floor()
                .queue_id_of(id.index(), wq.as_str())
                .ok_or_else(|| (codes::NOT_FOUND, format!("task queue {wq} of workspace {ws} was not found")))?;
            Target::TaskQueue(QueueId::from_index(queue))
        }
        WireTarget::Workspace => Target::Workspace(workspace_id()?),
        WireTarget::Workers => Target::Workers(workspace_id()?),
    };
    let channel = channel
        .map(|c| {
            registry
                .resolve_channel(&ws, c)
                .ok_or_else(|| invalid(format!("task_channel '{c}' is not a task channel of this workspace")))
        })
        .transpose()?;
    // On a workers target the channel narrows the cumulative reservations only, as
    // `TaskChannel` does on the Workers REST resources.
    Ok(TopicKey {
        view: View::new(target, channel),
        cumulative: query.map(|q| CumulativeSpec { window: q.window, thresholds: q.split_by_wait_time }),
    })
}

/// The `alerts` frame of a workspace for a principal: the alerts it may see (a token limited
/// to some workflows sees only theirs).
fn alerts_text(board: &crate::alerts::Board, ws: &str, who: &Principal) -> String {
    use wallboard_shared::alerts::RuleTarget;
    let alerts = board
        .alerts
        .iter()
        .filter(|(w, _)| w.as_str() == ws)
        .filter(|(_, a)| match &a.target {
            RuleTarget::Workflow(wf) => who.allows_workflow(ws, wf),
            _ => who.allows_all_workflows(ws),
        })
        .map(|(_, a)| a.clone())
        .collect();
    let message = ServerMessage::Alerts { workspace_sid: ws.to_owned(), alerts };
    serde_json::to_string(&message).unwrap_or_else(|_| error_text(None, codes::INVALID_PARAMETER, "alerts unavailable"))
}
