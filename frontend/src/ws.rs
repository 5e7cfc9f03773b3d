//! The WebSocket client (protocol v1): connects, authenticates with the link's token (the
//! first frame), keeps the wanted subscriptions on the server, reduces snapshots into the
//! state (a trend's subscription asks for the last hour's `history`, which seeds its trend), watches the shown workspace's alerts (`watch_alerts`, again after every reconnect
//! and for each new workspace) into `AppState::alerts`, and reconnects with backoff and
//! jitter, except after the server refused the token (then never) or limited the rate
//! (then after a minute at least).
//!
//! Its decisions are made by `model::link::Link` (when to ping, retry, give up) and
//! `model::snapshots::Snapshots` (which snapshot wins); this module owns the socket, the
//! timers and the browser callbacks.

use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::time::Duration;

use leptos::prelude::*;
use wallboard_shared::ws::ClientMessage;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{CloseEvent, Event, MessageEvent, WebSocket};

use crate::browser;
use crate::model::access::{Access, CODE_RATE_LIMITED, CODE_REFUSED};
use crate::model::frame::{self, Frame};
use crate::model::link::{Action, Backoff, Link, Phase};
use crate::model::subscriptions::Subscription;
use crate::model::trend::Sample;
use crate::state::AppState;

/// A cheap handle on the client.
#[derive(Clone)]
pub struct Client {
    inner: Rc<RefCell<Inner>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").finish_non_exhaustive()
    }
}

/// The closures of one socket: kept alive while it may call them.
struct Handlers {
    _open: Closure<dyn FnMut(Event)>,
    _message: Closure<dyn FnMut(MessageEvent)>,
    _close: Closure<dyn FnMut(CloseEvent)>,
    _error: Closure<dyn FnMut(Event)>,
}

struct Inner {
    state: AppState,
    link: Link,
    socket: Option<WebSocket>,
    /// Identifies the current socket; callbacks of older sockets are ignored.
    generation: u64,
    handlers: Option<Handlers>,
    /// Handlers of closed sockets, dropped at the next connect (never inside their own call).
    retired: Vec<Handlers>,
    wanted: Vec<Subscription>,
    /// Subscribed on the current socket. (A few dozen at most: plain lists are cheaper in
    /// the wasm than sets.)
    sent: Vec<String>,
    /// (workflow sid, subscription id) of the subscriptions that feed trends.
    trend_ids: Vec<(String, String)>,
    /// The workspace whose alerts the page watches (`watch_alerts`).
    alerts_wanted: Option<String>,
    /// The workspace whose alerts are watched on the current socket.
    alerts_sent: Option<String>,
}

impl Client {
    /// Starts connecting, and follows the state's subscription plan from now on.
    pub fn start(state: AppState) -> Self {
        let inner = Rc::new(RefCell::new(Inner {
            state,
            link: Link::new(Backoff::default(), browser::now_ms()),
            socket: None,
            generation: 0,
            handlers: None,
            retired: Vec::new(),
            wanted: Vec::new(),
            sent: Vec::new(),
            trend_ids: Vec::new(),
            alerts_wanted: None,
            alerts_sent: None,
        }));
        let client = Self { inner };
        client.connect();

        let ticking = client.clone();
        set_interval(move || ticking.tick(), Duration::from_millis(1000));

        let following = client.clone();
        Effect::new(move |_| {
            let plan = state.plan.get();
            following.want(plan.subscriptions, plan.trends);
        });
        let watching = client.clone();
        Effect::new(move |_| {
            let workspace = state.workspace();
            state.alerts.update(|a| a.retain(workspace.as_deref()));
            let mut inner = watching.inner.borrow_mut();
            inner.alerts_wanted = workspace;
            inner.sync();
        });
        client
    }

    fn weak(&self) -> Weak<RefCell<Inner>> {
        Rc::downgrade(&self.inner)
    }

    fn connect(&self) {
        let now = browser::now_ms();
        let mut inner = self.inner.borrow_mut();
        inner.retired.clear();
        if inner.state.access.get_untracked() != Access::Granted {
            // Refused over REST meanwhile: the socket would be refused too.
            inner.link.refused(now);
            drop(inner);
            self.show_badge();
            return;
        }
        inner.generation += 1;
        inner.link.connecting(now);
        let generation = inner.generation;
        let socket = browser::websocket_url().and_then(|url| WebSocket::new(&url).ok());
        let Some(socket) = socket else {
            drop(inner);
            self.closed(generation);
            return;
        };
        let weak = self.weak();
        let on = move |f: fn(&Client, u64, Option<String>)| {
            let weak = weak.clone();
            move |text: Option<String>| {
                if let Some(inner) = weak.upgrade() {
                    f(&Client { inner }, generation, text);
                }
            }
        };
        let open = on(|c, g, _| c.opened(g));
        let message = on(|c, g, t| c.message(g, t.unwrap_or_default()));
        // `Some` for a close with code 1008 (policy violation).
        let close = on(|c, g, policy| {
            if policy.is_some() {
                c.inner.borrow_mut().link.rate_limited();
            }
            c.closed(g)
        });
        let error = on(|c, g, _| c.closed(g));
        let handlers = Handlers {
            _open: Closure::new(move |_: Event| open(None)),
            _message: Closure::new(move |e: MessageEvent| message(e.data().as_string())),
            _close: Closure::new(move |e: CloseEvent| close((e.code() == 1008).then(String::new))),
            _error: Closure::new(move |_: Event| error(None)),
        };
        socket.set_onopen(Some(handlers._open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(handlers._message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(handlers._close.as_ref().unchecked_ref()));
        socket.set_onerror(Some(handlers._error.as_ref().unchecked_ref()));
        inner.socket = Some(socket);
        inner.handlers = Some(handlers);
        inner.sent.clear();
        inner.alerts_sent = None;
        drop(inner);
        self.show_badge();
    }

    fn opened(&self, generation: u64) {
        let now = browser::now_ms();
        let mut inner = self.inner.borrow_mut();
        if inner.generation != generation {
            return;
        }
        let again = inner.link.opened(now);
        let state = inner.state;
        if again {
            // Revisions start over on a new connection (the server may have restarted).
            state.snapshots.update(|s| s.reconnected());
        }
        // The token first; the server answers only a refusal.
        if let Some(token) = browser::token() {
            inner.send(&ClientMessage::Auth { token });
        }
        inner.sync();
        drop(inner);
        if again {
            state.directory_epoch.update(|e| *e += 1);
            leptos::task::spawn_local(check_build());
        }
        self.show_badge();
    }

    fn message(&self, generation: u64, text: String) {
        let now = browser::now_ms();
        let mut inner = self.inner.borrow_mut();
        if inner.generation != generation {
            return;
        }
        inner.link.heard(now);
        let state = inner.state;
        drop(inner);
        self.refresh_badge(now);
        let inner = self.inner.borrow();
        match frame::parse(&text) {
            Ok(Frame::Snapshot(snapshot)) => {
                if !inner.wanted.iter().any(|s| s.id == snapshot.id) {
                    return; // an answer to a subscription given up since
                }
                let sample = inner
                    .trend_ids
                    .iter()
                    .find(|(_, id)| *id == snapshot.id)
                    .and_then(|(wf, _)| Some((wf.clone(), Sample::from_stats(now as i64, snapshot.realtime()?))));
                drop(inner);
                let mut applied = false;
                state.snapshots.update(|s| applied = s.apply(*snapshot, now));
                if applied && let Some((wf, sample)) = sample {
                    state.trends.update(|t| t.push(&wf, sample));
                }
                // The snapshot may say the server's source is stale.
                self.refresh_badge(now);
            }
            Ok(Frame::Error { id: Some(id), code, message }) => {
                drop(inner);
                state.snapshots.update(|s| s.refuse(&id, code, &message));
            }
            Ok(Frame::Error { id: None, code, message }) => {
                drop(inner);
                let refused = code == CODE_REFUSED;
                match code {
                    CODE_REFUSED => self.inner.borrow_mut().link.refused(now),
                    CODE_RATE_LIMITED => self.inner.borrow_mut().link.rate_limited(),
                    _ => leptos::logging::warn!("wallboard: server error {code}: {message}"),
                }
                if refused {
                    state.access.set(Access::Refused);
                }
                self.show_badge();
            }
            Ok(Frame::Alerts { workspace_sid, alerts }) => {
                if inner.alerts_wanted.as_deref() != Some(workspace_sid.as_str()) {
                    return; // a workspace the page has left since
                }
                drop(inner);
                state.alerts.update(|a| a.set(&workspace_sid, alerts));
            }
            Ok(Frame::History { id, interval_ms, start, samples }) => {
                let Some(wf) = inner.trend_ids.iter().find(|(_, i)| *i == id).map(|(wf, _)| wf.clone()) else {
                    return; // not (or no longer) a trend's subscription
                };
                drop(inner);
                let Some(start_ms) = crate::model::age::parse_at(&start) else { return };
                let skew_ms = browser::clock_skew_ms() as i64;
                let history = Sample::from_history(start_ms + skew_ms, interval_ms, &samples);
                state.trends.update(|t| t.seed(&wf, &history));
            }
            Ok(Frame::Pong) => {}
            Err(e) => leptos::logging::warn!("wallboard: unreadable frame ({e})"),
        }
    }

    fn closed(&self, generation: u64) {
        let now = browser::now_ms();
        let mut inner = self.inner.borrow_mut();
        if inner.generation != generation {
            return;
        }
        if let Some(socket) = inner.socket.take() {
            socket.set_onopen(None);
            socket.set_onmessage(None);
            socket.set_onclose(None);
            socket.set_onerror(None);
            let _ = socket.close();
        }
        if let Some(handlers) = inner.handlers.take() {
            inner.retired.push(handlers);
        }
        inner.sent.clear();
        inner.alerts_sent = None;
        let delay = inner.link.closed(now, &mut browser::random);
        // A later close of the same socket must not schedule a second attempt.
        inner.generation += 1;
        drop(inner);
        if let Some(delay) = delay {
            let client = self.clone();
            set_timeout(move || client.connect(), Duration::from_millis(delay.max(0.0) as u64));
        }
        self.show_badge();
    }

    fn tick(&self) {
        let now = browser::now_ms();
        let mut inner = self.inner.borrow_mut();
        let action = inner.link.tick(now);
        let generation = inner.generation;
        if action == Action::Ping {
            inner.send(&ClientMessage::Ping);
        }
        // A kiosk recovers by itself from a long outage (or tries a refused link again, rarely).
        if inner.state.view.with_untracked(|v| v.kiosk) && inner.link.reload_due(now) {
            leptos::task::spawn_local(reload_when_reachable());
        }
        drop(inner);
        if action == Action::Drop {
            self.closed(generation);
        }
        self.show_badge();
    }

    /// Makes `subscriptions` the wanted set; `trend_ids` feed the trends of their workflows.
    fn want(&self, subscriptions: Vec<Subscription>, trend_ids: Vec<(String, String)>) {
        let mut inner = self.inner.borrow_mut();
        let state = inner.state;
        inner.trend_ids = trend_ids;
        inner.wanted = subscriptions;
        inner.sync();
        drop(inner);
        let inner = self.inner.borrow();
        state.snapshots.update(|s| s.retain(|id| inner.wanted.iter().any(|w| w.id == id)));
        state.trends.update(|t| t.retain(|wf| inner.trend_ids.iter().any(|(w, _)| w == wf)));
    }

    /// Shows the link's state in the badge and moves the page's clock (ages, "N s ago").
    fn show_badge(&self) {
        let now = browser::now_ms();
        self.inner.borrow().state.now_ms.set(now);
        self.refresh_badge(now);
    }

    fn refresh_badge(&self, now: f64) {
        let inner = self.inner.borrow();
        let state = inner.state;
        let stale = state.snapshots.with_untracked(|s| s.any_stale());
        let badge = inner.link.badge(now, stale);
        drop(inner);
        if state.badge.with_untracked(|b| *b != badge) {
            state.badge.set(badge);
        }
    }
}

impl Inner {
    /// Brings the server's subscriptions on this socket in line with `wanted`, and the
    /// watched alerts with `alerts_wanted` (again after every reconnect: a new socket
    /// watches nothing).
    fn sync(&mut self) {
        if self.link.phase() != Phase::Open {
            return;
        }
        let (keep, gone): (Vec<String>, Vec<String>) =
            std::mem::take(&mut self.sent).into_iter().partition(|id| self.wanted.iter().any(|w| w.id == *id));
        self.sent = keep;
        for id in gone {
            self.send(&ClientMessage::Unsubscribe { id });
        }
        for i in 0..self.wanted.len() {
            let sub = &self.wanted[i];
            if !self.sent.contains(&sub.id) {
                self.sent.push(sub.id.clone());
                self.send(&self.wanted[i].message);
            }
        }
        if self.alerts_wanted.is_some() && self.alerts_sent != self.alerts_wanted {
            self.alerts_sent = self.alerts_wanted.clone();
            if let Some(workspace_sid) = self.alerts_sent.clone() {
                self.send(&ClientMessage::WatchAlerts { workspace_sid });
            }
        }
    }

    fn send(&self, message: &ClientMessage) {
        let Some(socket) = &self.socket else { return };
        if let Ok(text) = serde_json::to_string(message) {
            // A failed send shows up as a close event; nothing to do here.
            let _ = socket.send_with_str(&text);
        }
    }
}

/// Reloads the page once the server answers (a reload while it is down would leave the
/// wall on the browser's error page).
pub async fn reload_when_reachable() {
    if crate::api::server_build_id().await.is_some() {
        browser::reload();
    }
}

/// Reloads the page when the server serves another build than this page's.
pub async fn check_build() {
    let Some(mine) = browser::page_build_id() else { return };
    if let Some(theirs) = crate::api::server_build_id().await
        && theirs != mine
    {
        browser::reload();
    }
}
