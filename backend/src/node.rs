//! This node among others on a shared database: its name, whether it has caught up, the
//! singleton roles it holds, and the follower that applies other nodes' commits.
//!
//! On SQLite a node is alone: it holds every role and is ready once replayed. On
//! PostgreSQL:
//! - **Follower.** A thread `LISTEN`s (the [`Doorbell`](crate::storage::Doorbell)) and asks
//!   the writer to follow the log on each notification; the housekeeping's one-second
//!   follow catches what a lost notification missed. The doorbell's connection is also how
//!   the node sees that the database is gone or back ([`DatabaseHealth`]).
//! - **Roles.** The simulator, the retention purge and the mirror's poller run on one node
//!   of the cluster: the holder of a session advisory lock per role, tried every second
//!   by every node, so a role moves within seconds when its holder dies.
//! - **Staleness.** When the database has been unreachable for
//!   [`STALE_AFTER`](crate::ingest::STALE_AFTER), every snapshot is republished as stale
//!   (and fresh again when it is back).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use wallboard_shared::health::NodeHealth;

use crate::ingest::{DatabaseHealth, Ingest};
use crate::storage::{Database, EVENTS_CHANNEL};

/// What the follower calls when a channel's notification arrives.
pub type OnRing = Arc<dyn Fn() + Send + Sync>;

/// How often a node tries to take the roles it does not hold, and checks those it holds.
const ROLE_EVERY: Duration = Duration::from_secs(1);
/// How long the follower waits for a notification before looking again at the shutdown.
const DOORBELL_WAIT: Duration = Duration::from_millis(500);
/// Pause before reconnecting to an unreachable database.
const RECONNECT_EVERY: Duration = Duration::from_secs(1);

/// A job exactly one node of the cluster does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The built-in contact center (`--source simulator`).
    Simulator,
    /// Deleting events past the retention.
    Purge,
    /// Polling the upstream (`--source twilio`).
    Mirror,
    /// Re-reading the upstream's events missed while the database was unreachable
    /// (`--backfill-gaps`).
    Backfill,
    /// Evaluating alert rules and sending their notifications.
    Alerts,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Simulator, Role::Purge, Role::Mirror, Role::Backfill, Role::Alerts];

    pub fn name(self) -> &'static str {
        match self {
            Self::Simulator => "simulator",
            Self::Purge => "purge",
            Self::Mirror => "mirror",
            Self::Backfill => "backfill",
            Self::Alerts => "alerts",
        }
    }
}

/// This node: see the module's documentation.
#[derive(Debug)]
pub struct Node {
    name: String,
    database: Database,
    health: Arc<DatabaseHealth>,
    ready: AtomicBool,
    /// Per role (in [`Role::ALL`] order): whether this node holds it now.
    roles: [watch::Sender<bool>; Role::ALL.len()],
}

impl Node {
    /// A node named `name` on `database`, holding no role until [`Node::start`].
    pub fn new(name: String, database: Database, health: Arc<DatabaseHealth>) -> Arc<Self> {
        let roles = std::array::from_fn(|_| watch::Sender::new(false));
        Arc::new(Self { name, database, health, ready: AtomicBool::new(false), roles })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether this node has replayed the log and caught up with the database.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    fn sender(&self, role: Role) -> &watch::Sender<bool> {
        &self.roles[Role::ALL.iter().position(|r| *r == role).unwrap_or(0)]
    }

    /// Whether this node holds `role`, and its changes.
    pub fn role(&self, role: Role) -> watch::Receiver<bool> {
        self.sender(role).subscribe()
    }

    pub fn holds(&self, role: Role) -> bool {
        *self.sender(role).borrow()
    }

    /// What `/health` and `/ready` answer.
    pub fn health(&self) -> NodeHealth {
        NodeHealth {
            status: "alive".into(),
            node: self.name.clone(),
            database: if self.health.is_up() { "up" } else { "down" }.into(),
            ready: self.is_ready(),
            roles: Role::ALL.iter().filter(|r| self.holds(**r)).map(|r| r.name().to_owned()).collect(),
        }
    }

    /// Starts following the cluster (on a shared database), taking the `wanted` roles and
    /// telling viewers when the numbers turn stale. Alone (SQLite), the node takes its
    /// roles at once and is ready (it replayed the whole log); on a shared database it is
    /// ready once it has caught up.
    /// `on_ring` is called on the follower's thread when a notification arrives on its
    /// channel (the mirror's fetched answers).
    pub fn start(
        self: &Arc<Self>,
        ingest: &Ingest,
        wanted: &[Role],
        on_ring: Vec<(&'static str, OnRing)>,
        tasks: &TaskTracker,
        stop: &CancellationToken,
    ) {
        tasks.spawn(self.clone().watch_staleness(ingest.clone(), stop.clone()));
        if !self.database.is_shared() {
            for role in wanted {
                self.sender(*role).send_replace(true);
            }
            self.ready.store(true, Ordering::Release);
            return;
        }
        let (node, follower, stopping) = (self.clone(), ingest.clone(), stop.clone());
        tasks.spawn_blocking(move || node.follow(&follower, &on_ring, &stopping));
        let (node, wanted, stopping) = (self.clone(), wanted.to_vec(), stop.clone());
        tasks.spawn_blocking(move || node.hold_roles(&wanted, &stopping));
    }

    /// The follower: a `LISTEN` connection whose notifications make the writer follow the
    /// log. Runs on a blocking thread until `stop`.
    fn follow(&self, ingest: &Ingest, on_ring: &[(&'static str, OnRing)], stop: &CancellationToken) {
        let mut bell = None;
        let mut told = false;
        while !stop.is_cancelled() {
            let Some(b) = &mut bell else {
                match self.database.doorbell() {
                    Some(Ok(b)) => {
                        bell = Some(b);
                        self.health.up();
                        // Whatever was committed while nobody listened.
                        if !ingest.follow_blocking() {
                            return;
                        }
                        if !self.ready.swap(true, Ordering::AcqRel) {
                            tracing::info!(node = %self.name, "caught up with the database; ready");
                        }
                        told = false;
                    }
                    Some(Err(e)) => {
                        self.health.down();
                        if !told {
                            tracing::warn!(error = %e, "cannot listen for other nodes' events; retrying every second");
                            told = true;
                        }
                        pause(stop, RECONNECT_EVERY);
                    }
                    None => return,
                }
                continue;
            };
            match b.wait(DOORBELL_WAIT) {
                Ok(true) => {
                    for (channel, hook) in on_ring {
                        if b.rang_on(channel) {
                            hook();
                        }
                    }
                    if b.rang_on(EVENTS_CHANNEL) && !ingest.follow_blocking() {
                        return;
                    }
                }
                Ok(false) => {}
                Err(e) => {
                    tracing::debug!(error = %e, "the doorbell's connection was lost");
                    self.health.down();
                    bell = None;
                }
            }
        }
    }

    /// Tries every second to hold the `wanted` roles' locks; publishes who holds what.
    fn hold_roles(&self, wanted: &[Role], stop: &CancellationToken) {
        let mut locks: Vec<_> =
            wanted.iter().filter_map(|&role| self.database.singleton(role.name()).map(|l| (role, l))).collect();
        while !stop.is_cancelled() {
            for (role, lock) in &mut locks {
                let held = lock.try_hold().unwrap_or_else(|e| {
                    tracing::debug!(role = role.name(), error = %e, "cannot check a role's lock");
                    false
                });
                let changed = self.sender(*role).send_if_modified(|h| std::mem::replace(h, held) != held);
                if changed {
                    tracing::info!(node = %self.name, role = role.name(), held, "role {}", if held { "taken" } else { "lost" });
                }
            }
            pause(stop, ROLE_EVERY);
        }
        for (role, lock) in &mut locks {
            lock.release();
            self.sender(*role).send_replace(false);
        }
    }

    /// Republishes every snapshot when the numbers turn stale or fresh again.
    async fn watch_staleness(self: Arc<Self>, ingest: Ingest, stop: CancellationToken) {
        let changes = ingest.changes();
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut stale = false;
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            let now = self.health.stale();
            if now != stale {
                stale = now;
                changes.mark_all();
            }
        }
    }
}

/// Sleeps `d` on a blocking thread, waking early on `stop`.
fn pause(stop: &CancellationToken, d: Duration) {
    let step = Duration::from_millis(50);
    let mut left = d;
    while !stop.is_cancelled() && !left.is_zero() {
        let s = step.min(left);
        std::thread::sleep(s);
        left -= s;
    }
}

/// Waits until `role` is held (true) or `stop` (false).
pub async fn until_held(role: &mut watch::Receiver<bool>, stop: &CancellationToken) -> bool {
    tokio::select! {
        () = stop.cancelled() => false,
        held = role.wait_for(|h| *h) => held.is_ok(),
    }
}

/// Waits until `role` is lost (or its sender is gone).
pub async fn until_lost(role: &mut watch::Receiver<bool>) {
    let _ = role.wait_for(|h| !*h).await;
}

/// The default name of a node: the host's name and the port it listens on.
pub fn default_name(port: u16) -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok().map(|h| h.trim().to_owned()))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "wallboard".to_owned());
    format!("{host}:{port}")
}
