//! [`Numbers`]: the statistics of a [`View`], from the local engine or from the mirror of
//! an upstream TaskRouter API. This is the one place that makes that choice; REST handlers
//! and the WebSocket hub ask here and get the numbers with their [`Freshness`].

use std::sync::{Arc, RwLockReadGuard};
use std::time::Duration;

use wallboard_shared::Window;

use super::answer::{Cumulative, Freshness, Realtime, Unavailable};
use super::cache::RealtimeCache;
use super::mirror::{Interest, Mirror};
use crate::clock::Clock;
use crate::engine::trend::{self, History};
use crate::engine::{CumulativeSpec, Engine, View};
use crate::ingest::{DatabaseHealth, SharedEngine};

/// Where the numbers come from.
#[derive(Debug, Clone)]
enum Origin {
    /// The local engine, fed by events.
    Engine,
    /// An upstream TaskRouter API, polled for what is watched (`--source twilio`).
    Mirror(Arc<Mirror>),
}

/// The statistics of any view, from wherever they come from. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Numbers {
    engine: SharedEngine,
    cache: Arc<RealtimeCache>,
    clock: Arc<dyn Clock>,
    retention_ms: i64,
    origin: Origin,
    /// The database's health: the engine's numbers are stale while it is unreachable.
    health: Option<Arc<DatabaseHealth>>,
}

impl Numbers {
    /// Numbers computed by the local engine.
    pub fn local(engine: SharedEngine, clock: Arc<dyn Clock>, retention_ms: i64) -> Self {
        Self { engine, cache: Arc::default(), clock, retention_ms, origin: Origin::Engine, health: None }
    }

    /// Marks the engine's numbers stale while `health` says the database is unreachable
    /// (other nodes' events may be missing).
    #[must_use]
    pub fn with_health(mut self, health: Arc<DatabaseHealth>) -> Self {
        self.health = Some(health);
        self
    }

    /// The engine's numbers now: stale while the database is unreachable.
    fn engine_freshness(&self, at_ms: i64) -> Freshness {
        Freshness { at_ms, stale: self.health.as_ref().is_some_and(|h| h.stale()) }
    }

    /// Numbers mirrored from an upstream; the engine only knows the resources (the
    /// mirror's discovery fills its registry).
    pub fn mirrored(mirror: Arc<Mirror>, engine: SharedEngine, clock: Arc<dyn Clock>, retention_ms: i64) -> Self {
        Self { engine, cache: Arc::default(), clock, retention_ms, origin: Origin::Mirror(mirror), health: None }
    }

    /// Reads the engine (resources, ids). The lock is never held across an `.await`.
    pub fn engine(&self) -> RwLockReadGuard<'_, Engine> {
        self.engine.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The mirror, when the numbers come from an upstream (its poller must run).
    pub fn mirror(&self) -> Option<&Arc<Mirror>> {
        match &self.origin {
            Origin::Engine => None,
            Origin::Mirror(m) => Some(m),
        }
    }

    /// True when the numbers change only when an upstream is polled, so a cached
    /// cumulative answer must be re-read at every change, not only at its refresh.
    pub fn polled(&self) -> bool {
        matches!(self.origin, Origin::Mirror(_))
    }

    /// A view's realtime numbers now. From the mirror, a view nobody watched yet waits up
    /// to `wait` for the upstream's first answer.
    pub async fn realtime(&self, view: View, wait: Duration) -> Result<(Realtime, Freshness), Unavailable> {
        if let Origin::Mirror(m) = &self.origin {
            m.want(&Interest::Realtime(view), wait).await?;
        }
        let reader = self.reader();
        match &self.origin {
            Origin::Engine => Ok(reader.realtime(view)),
            Origin::Mirror(m) => {
                m.cached_realtime(view).ok_or_else(|| Unavailable("no answer from the upstream yet".into()))
            }
        }
    }

    /// A view's cumulative numbers over `window` (the resolved `spec.window`).
    pub async fn cumulative(
        &self,
        view: View,
        spec: &CumulativeSpec,
        window: Window,
        wait: Duration,
    ) -> Result<(Cumulative, Freshness), Unavailable> {
        match &self.origin {
            Origin::Engine => {
                let at = self.clock.now_ms();
                Ok((compute_cumulative(&self.engine(), view, window, spec), self.engine_freshness(at)))
            }
            Origin::Mirror(m) => {
                let interest = Interest::Cumulative(view, spec.clone());
                m.want(&interest, wait).await?;
                m.cached_cumulative(&interest).ok_or_else(|| Unavailable("no answer from the upstream yet".into()))
            }
        }
    }

    /// A view's cumulative numbers over each of `windows`, split at `thresholds`, from the
    /// local engine's cumulative index under one read lock (each window costs O(log) of
    /// the index, never a scan of events); `None` when the numbers come from an upstream,
    /// which keeps no history of its own.
    pub fn history(&self, view: View, windows: &[Window], thresholds: &[u32]) -> Option<(Vec<Cumulative>, Freshness)> {
        if self.mirror().is_some() {
            return None;
        }
        let spec =
            CumulativeSpec { window: wallboard_shared::WindowSpec::default(), thresholds: Some(thresholds.to_vec()) };
        let engine = self.engine();
        let numbers = windows.iter().map(|w| compute_cumulative(&engine, view, *w, &spec)).collect();
        Some((numbers, self.engine_freshness(self.clock.now_ms())))
    }

    /// Before a new subscription: from the mirror, waits (bounded) for a first answer so
    /// the first snapshot holds numbers. The local engine always has them.
    pub async fn warm_up(&self, view: View, cumulative: Option<&CumulativeSpec>, wait: Duration) {
        if let Origin::Mirror(m) = &self.origin {
            let realtime = Interest::Realtime(view);
            let cumulative = cumulative.map(|c| Interest::Cumulative(view, c.clone()));
            let wanted = std::iter::once(realtime).chain(cumulative).collect::<Vec<_>>();
            futures_util::future::join_all(wanted.iter().map(|i| m.want(i, wait))).await;
        }
    }

    /// The views the WebSocket hub publishes now: the mirror polls exactly these (and,
    /// for a while, what REST asked for).
    pub fn watch<'a>(&self, views: impl IntoIterator<Item = (View, Option<&'a CumulativeSpec>)>) {
        if let Origin::Mirror(m) = &self.origin {
            m.set_hub_interests(views.into_iter().flat_map(|(view, c)| {
                std::iter::once(Interest::Realtime(view)).chain(c.map(|c| Interest::Cumulative(view, c.clone())))
            }));
        }
    }

    /// A view's realtime numbers at every trend boundary of the last `minutes` (see
    /// [`crate::engine::trend`]), read now. The local engine keeps them for workflows and
    /// workspaces; other targets, and a mirror (it polls the
    /// upstream's current numbers and keeps no log), have none: an empty history.
    pub fn trend(&self, view: View, minutes: u32) -> History {
        let now = self.clock.now_ms();
        let history = match &self.origin {
            Origin::Engine => self.engine().history(view, now - i64::from(minutes) * 60_000, now),
            Origin::Mirror(_) => None,
        };
        history.unwrap_or(History { interval_ms: trend::INTERVAL_MS, start_ms: now, samples: Vec::new() })
    }

    /// A consistent reading of many views at one instant (the hub's batch), under one
    /// read lock of the engine. Never held across an `.await`.
    pub fn reader(&self) -> Reader<'_> {
        Reader { numbers: self, engine: self.engine(), at: self.clock.now_ms() }
    }
}

/// Numbers of many views read at one instant; see [`Numbers::reader`].
#[derive(Debug)]
pub struct Reader<'a> {
    numbers: &'a Numbers,
    engine: RwLockReadGuard<'a, Engine>,
    at: i64,
}

impl Reader<'_> {
    /// The engine (resources and ids).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The instant of this reading (ms since the epoch).
    pub fn at(&self) -> i64 {
        self.at
    }

    /// A view's realtime numbers. From the mirror, before its first answer: the local
    /// (empty) numbers marked stale.
    pub fn realtime(&self, view: View) -> (Realtime, Freshness) {
        let local = || self.local_realtime(view);
        match &self.numbers.origin {
            Origin::Engine => (local(), self.numbers.engine_freshness(self.at)),
            Origin::Mirror(m) => {
                m.cached_realtime(view).unwrap_or_else(|| (local(), Freshness { at_ms: self.at, stale: true }))
            }
        }
    }

    /// A view's cumulative numbers for `spec`, its window resolved now (a fixed start that
    /// slid out of the retention is clamped to it).
    pub fn cumulative(&self, view: View, spec: &CumulativeSpec) -> (Cumulative, Freshness) {
        let retention = self.numbers.retention_ms;
        let window = spec
            .window
            .resolve(self.at, retention)
            .unwrap_or(Window { start_ms: self.at - retention, end_ms: self.at });
        let local = || compute_cumulative(&self.engine, view, window, spec);
        match &self.numbers.origin {
            Origin::Engine => (local(), self.numbers.engine_freshness(self.at)),
            Origin::Mirror(m) => m
                .cached_cumulative(&Interest::Cumulative(view, spec.clone()))
                .unwrap_or_else(|| (local(), Freshness { at_ms: self.at, stale: true })),
        }
    }

    fn local_realtime(&self, view: View) -> Realtime {
        super::local::realtime(&self.engine, &self.numbers.cache, view, self.at)
    }
}

fn compute_cumulative(engine: &Engine, view: View, window: Window, spec: &CumulativeSpec) -> Cumulative {
    super::local::cumulative(engine, view, window, spec)
}
