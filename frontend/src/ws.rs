//! The WebSocket client (protocol v1): connects, keeps the wanted subscriptions on the
//! server, reduces snapshots into the state, and reconnects with backoff and jitter.
//!
//! Its decisions are made by `model::link::Link` (when to ping, retry, give up) and
//! `model::snapshots::Snapshots` (which snapshot wins); this module owns the socket, the
//! timers and the browser callbacks.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::{Rc, Weak};
use std::time::Duration;

use leptos::prelude::*;
use wallboard_shared::ws::ClientMessage;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{CloseEvent, Event, MessageEvent, WebSocket};

use crate::browser;
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
    /// Subscribed on the current socket.
    sent: BTreeSet<String>,
    realtime_id: Option<String>,
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
            sent: BTreeSet::new(),
            realtime_id: None,
        }));
        let client = Self { inner };
        client.connect();

        let ticking = client.clone();
        set_interval(move || ticking.tick(), Duration::from_millis(1000));

        let following = client.clone();
        Effect::new(move |_| {
            let plan = state.plan.get();
            following.want(plan.subscriptions, plan.realtime);
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
        let close = on(|c, g, _| c.closed(g));
        let error = on(|c, g, _| c.closed(g));
        let handlers = Handlers {
            _open: Closure::new(move |_: Event| open(None)),
            _message: Closure::new(move |e: MessageEvent| message(e.data().as_string())),
            _close: Closure::new(move |_: CloseEvent| close(None)),
            _error: Closure::new(move |_: Event| error(None)),
        };
        socket.set_onopen(Some(handlers._open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(handlers._message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(handlers._close.as_ref().unchecked_ref()));
        socket.set_onerror(Some(handlers._error.as_ref().unchecked_ref()));
        inner.socket = Some(socket);
        inner.handlers = Some(handlers);
        inner.sent.clear();
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
                let sample = (inner.realtime_id.as_deref() == Some(snapshot.id.as_str()))
                    .then(|| Sample::from_stats(now as i64, &snapshot.realtime));
                drop(inner);
                let mut applied = false;
                state.snapshots.update(|s| applied = s.apply(*snapshot, now));
                if applied && let Some(sample) = sample {
                    state.trend.update(|t| t.push(sample));
                }
                // The snapshot may say the server's source is stale.
                self.refresh_badge(now);
            }
            Ok(Frame::Error { id: Some(id), code, message }) => {
                drop(inner);
                state.snapshots.update(|s| s.refuse(&id, code, &message));
            }
            Ok(Frame::Error { id: None, code, message }) => {
                leptos::logging::warn!("wallboard: server error {code}: {message}");
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
        let delay = inner.link.closed(now, &mut browser::random);
        // A later close of the same socket must not schedule a second attempt.
        inner.generation += 1;
        drop(inner);
        let client = self.clone();
        set_timeout(move || client.connect(), Duration::from_millis(delay.max(0.0) as u64));
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
        drop(inner);
        if action == Action::Drop {
            self.closed(generation);
        }
        self.show_badge();
    }

    /// Makes `subscriptions` the wanted set; `realtime_id` feeds the trend.
    fn want(&self, subscriptions: Vec<Subscription>, realtime_id: Option<String>) {
        let mut inner = self.inner.borrow_mut();
        let state = inner.state;
        if inner.realtime_id != realtime_id {
            state.trend.update(|t| t.clear());
        }
        inner.realtime_id = realtime_id;
        inner.wanted = subscriptions;
        let keep: BTreeSet<String> = inner.wanted.iter().map(|s| s.id.clone()).collect();
        inner.sync();
        drop(inner);
        state.snapshots.update(|s| s.retain(|id| keep.contains(id)));
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
    /// Brings the server's subscriptions on this socket in line with `wanted`.
    fn sync(&mut self) {
        if self.link.phase() != Phase::Open {
            return;
        }
        let wanted: BTreeSet<String> = self.wanted.iter().map(|s| s.id.clone()).collect();
        let gone: Vec<String> = self.sent.difference(&wanted).cloned().collect();
        for id in gone {
            self.send(&ClientMessage::Unsubscribe { id: id.clone() });
            self.sent.remove(&id);
        }
        let fresh: Vec<ClientMessage> =
            self.wanted.iter().filter(|s| !self.sent.contains(&s.id)).map(|s| s.message.clone()).collect();
        for message in fresh {
            if let ClientMessage::Subscribe { id, .. } = &message {
                self.sent.insert(id.clone());
            }
            self.send(&message);
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

/// Reloads the page when the server serves another build than this page's.
pub async fn check_build() {
    let Some(mine) = browser::page_build_id() else { return };
    if let Some(theirs) = crate::api::server_build_id().await
        && theirs != mine
    {
        browser::reload();
    }
}
