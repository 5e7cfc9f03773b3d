//! The mirror of a cluster ([`Mirror::run_shared`]): several nodes mirror one upstream
//! through one database, and the upstream is polled once per topic per interval for all.
//!
//! * Every node tells the [`MirrorShare`] the upstream URLs of its live interests (the
//!   key: internal ids differ between nodes), wanted until three intervals from now and
//!   renewed every realtime interval.
//! * The node holding the mirror role polls the union of what every node wants, each URL
//!   at the interval of its kind with the usual budget, backoff and `Retry-After`, fills
//!   its own slots and publishes every outcome, failures included.
//! * The other nodes never ask the upstream for statistics: they read the published
//!   outcomes of their interests (every half realtime interval, at most a second apart,
//!   at once for a new interest, and at the next tick after [`Mirror::published_elsewhere`],
//!   which the node's LISTEN connection calls on a notification) and decode them into
//!   their slots. An answer counts
//!   as fetched when this node first sees it, so numbers go stale when the polling node
//!   stops publishing, whatever the clocks say.
//! * Discovery stays per node (at start and every `discover_every`).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::{Interest, Mirror, Payload, Rediscovery, SharedPoll, decode};
use crate::storage::{Fetched, MirrorShare, StorageError};

/// The shared state, used from blocking threads one call at a time.
type Share = Arc<Mutex<Box<dyn MirrorShare>>>;

/// One round trip to the share: what to tell it and what to ask.
#[derive(Debug, Default)]
struct Plan {
    publish: Vec<Fetched>,
    /// Keys wanted, each batch until its time.
    want: Vec<(Vec<(String, bool)>, i64)>,
    /// Read what the cluster wants (the polling node), at this wall-clock time.
    wanted_at: Option<i64>,
    /// Read the published outcomes of these keys after these sequence numbers (the other
    /// nodes).
    read: Vec<(Vec<String>, i64)>,
}

/// A round trip running: the keys it tells the share about, and its outcome.
type Job = tokio::task::JoinHandle<(Vec<String>, Result<Synced, StorageError>)>;

#[derive(Debug, Default)]
struct Synced {
    wanted: Option<Vec<(String, bool)>>,
    /// The outcomes read, by read of the plan.
    fetched: Vec<Vec<Fetched>>,
}

fn sync(share: &Share, plan: Plan) -> Result<Synced, StorageError> {
    let mut share = share.lock().unwrap_or_else(|p| p.into_inner());
    share.publish(&plan.publish)?;
    for (keys, until) in &plan.want {
        share.want(keys, *until)?;
    }
    let wanted = plan.wanted_at.map(|now| share.wanted(now)).transpose()?;
    let fetched = plan.read.iter().map(|(keys, after)| share.fetched(keys, *after)).collect::<Result<_, _>>()?;
    Ok(Synced { wanted, fetched })
}

/// The pause after a failed round trip to the share.
const SHARE_RETRY: Duration = Duration::from_millis(500);

fn wall_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Mirror {
    /// How often a node reads the share: what the cluster wants (the polling node), or
    /// the outcomes of its interests (the others).
    fn sync_every(&self) -> Duration {
        (self.config.realtime_every / 2).clamp(Duration::from_millis(20), Duration::from_secs(1))
    }

    /// Tells a node of a cluster that outcomes were published (a notification on
    /// [`MIRROR_CHANNEL`](crate::storage::MIRROR_CHANNEL)): a node that does not poll reads
    /// them at its next tick instead of within a second.
    pub fn published_elsewhere(&self) {
        self.news.store(true, Ordering::Relaxed);
    }

    /// Like [`Mirror::run`], for a node of a cluster sharing `share`: this node polls the
    /// upstream (for every node) while `role` is true, and otherwise serves what the
    /// polling node publishes. Every request runs as a task of `tasks`.
    pub async fn run_shared(
        self: Arc<Self>,
        share: Box<dyn MirrorShare>,
        role: watch::Receiver<bool>,
        tasks: TaskTracker,
        stop: CancellationToken,
    ) {
        let share: Share = Arc::new(Mutex::new(share));
        let mut tick = tokio::time::interval(Duration::from_millis(50));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut discovery = Rediscovery::new(&self);
        let mut job: Option<Job> = None;
        let mut leading = false;
        let mut share_ok = true;
        // After a failed round trip, the next waits a little (a database that refuses
        // connections is not asked twenty times a second).
        let mut retry_at = Instant::now();
        let mut next_sync = Instant::now();
        let mut next_refresh = Instant::now();
        // Own keys the share was told about; others' wanted keys (while polling).
        let mut registered: HashSet<String> = HashSet::new();
        let mut others: Vec<(String, bool)> = Vec::new();
        // The newest outcome this node read of the keys it knew (a follower re-reads only
        // what was published since; one node publishes at a time, in order).
        let mut seen_seq = 0i64;
        loop {
            tokio::select! {
                () = stop.cancelled() => {
                    discovery.abort();
                    return;
                }
                _ = tick.tick() => {}
            }
            let now = Instant::now();
            discovery.step(&self, &tasks, now).await;
            let lead = *role.borrow();
            if lead != leading {
                leading = lead;
                if lead {
                    tracing::info!("this node now polls the upstream for the cluster");
                } else {
                    tracing::info!("another node polls the upstream; serving what it publishes");
                    self.shared_polls.lock().unwrap_or_else(|p| p.into_inner()).clear();
                    others.clear();
                }
                next_sync = now;
            }
            if let Some(done) = job.take_if(|j| j.is_finished()) {
                match done.await {
                    Ok((_, Ok(synced))) => {
                        if !share_ok {
                            tracing::info!("the shared mirror state is reachable again");
                            share_ok = true;
                        }
                        if let Some(w) = synced.wanted
                            && leading
                        {
                            others = w;
                        }
                        for (i, read) in synced.fetched.iter().enumerate() {
                            for f in read {
                                self.apply_shared(f, Some(f.seq));
                                // The first read is of the known keys, after `seen_seq`.
                                if i == 0 {
                                    seen_seq = seen_seq.max(f.seq);
                                }
                            }
                        }
                    }
                    Ok((told, Err(e))) => {
                        if share_ok {
                            tracing::warn!(error = %e, "cannot reach the shared mirror state; retrying");
                            share_ok = false;
                        }
                        for key in told {
                            registered.remove(&key);
                        }
                        retry_at = Instant::now() + SHARE_RETRY;
                    }
                    Err(e) => tracing::error!(error = %e, "a call to the shared mirror state failed"),
                }
            }
            let own = self.own_keys(now);
            {
                let own: HashSet<&str> = own.iter().map(|(k, _)| k.as_str()).collect();
                registered.retain(|k| own.contains(k.as_str()));
            }
            if leading {
                self.schedule_shared(&own, &others, now, &tasks, &stop);
            }
            if job.is_some() || now < retry_at {
                continue;
            }
            let mut plan = Plan {
                publish: std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner())),
                ..Plan::default()
            };
            let refresh = now >= next_refresh;
            // Keys the share has not heard of from this node; with the others at a refresh.
            let new: HashSet<&str> = own.iter().map(|(k, _)| k.as_str()).filter(|k| !registered.contains(*k)).collect();
            let fresh: Vec<(String, bool)> =
                own.iter().filter(|(k, _)| refresh || new.contains(k.as_str())).cloned().collect();
            let news = !leading && self.news.swap(false, Ordering::Relaxed);
            let sync_due = news || now >= next_sync;
            if plan.publish.is_empty() && fresh.is_empty() && !sync_due {
                continue;
            }
            if refresh {
                next_refresh = now + self.config.realtime_every;
            }
            let wall = wall_ms();
            let (realtime, cumulative): (Vec<_>, Vec<_>) = fresh.iter().cloned().partition(|(_, rt)| *rt);
            for (keys, every) in [(realtime, self.config.realtime_every), (cumulative, self.config.cumulative_every)] {
                if !keys.is_empty() {
                    plan.want.push((keys, wall.saturating_add(ms(3 * every))));
                }
            }
            if leading {
                plan.wanted_at = sync_due.then_some(wall);
            } else {
                // The known keys: what changed since the last look. New interests: their
                // answers may be there already, however old.
                let known = |k: &&(String, bool)| !new.contains(k.0.as_str());
                let read = |keys: Vec<&(String, bool)>| keys.into_iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
                let known_keys = if sync_due { read(own.iter().filter(known).collect()) } else { Vec::new() };
                plan.read.push((known_keys, seen_seq));
                plan.read.push((read(own.iter().filter(|k| !known(k)).collect()), 0));
            }
            let told: Vec<String> = fresh.into_iter().map(|(k, _)| k).collect();
            registered.extend(told.iter().cloned());
            if sync_due {
                next_sync = now + self.sync_every();
            }
            let share = share.clone();
            job = Some(tokio::task::spawn_blocking(move || (told, sync(&share, plan))));
        }
    }

    /// The upstream URLs of this node's live interests, with whether they are realtime.
    fn own_keys(&self, now: Instant) -> Vec<(String, bool)> {
        let unresolved: Vec<Interest> = {
            let mut slots = self.slots();
            slots.retain(|_, s| s.in_flight || s.wanted(now));
            slots.iter().filter(|(_, s)| s.url.is_none()).map(|(k, _)| k.clone()).collect()
        };
        // URLs read the engine: not under the slots' lock (readers take the engine first).
        let resolved: Vec<(Interest, String)> =
            unresolved.into_iter().filter_map(|i| self.upstream_url(&i).ok().map(|u| (i, u))).collect();
        let mut slots = self.slots();
        for (interest, url) in resolved {
            if let Some(slot) = slots.get_mut(&interest) {
                slot.url = Some(url);
            }
        }
        let mut keys: Vec<(String, bool)> =
            slots.iter().filter_map(|(i, s)| s.url.clone().map(|u| (u, matches!(i, Interest::Realtime(_))))).collect();
        keys.sort();
        keys.dedup();
        keys
    }

    /// The polling node: polls every URL some node wants that is due.
    fn schedule_shared(
        self: &Arc<Self>,
        own: &[(String, bool)],
        others: &[(String, bool)],
        now: Instant,
        tasks: &TaskTracker,
        stop: &CancellationToken,
    ) {
        let wanted: HashMap<&str, bool> = own.iter().chain(others).map(|(k, rt)| (k.as_str(), *rt)).collect();
        let due: Vec<String> = {
            let mut polls = self.shared_polls.lock().unwrap_or_else(|p| p.into_inner());
            polls.retain(|k, p| p.in_flight || wanted.contains_key(k.as_str()));
            for (key, realtime) in &wanted {
                polls.entry((*key).to_owned()).or_insert(SharedPoll {
                    realtime: *realtime,
                    next_poll: now,
                    in_flight: false,
                    failures: 0,
                });
            }
            polls
                .iter_mut()
                .filter(|(_, p)| !p.in_flight && p.next_poll <= now)
                .map(|(k, p)| {
                    p.in_flight = true;
                    k.clone()
                })
                .collect()
        };
        for key in due {
            let me = self.clone();
            let stop = stop.clone();
            tasks.spawn(async move {
                tokio::select! {
                    () = stop.cancelled() => {}
                    () = me.poll_shared(key) => {}
                }
            });
        }
    }

    /// One upstream request for the cluster: the outcome fills this node's slots and is
    /// published for the others.
    async fn poll_shared(&self, key: String) {
        let result = self.client.get_bytes(&key).await.and_then(|body| {
            // Published as text; a body that is not JSON is a failure for everyone.
            let text = String::from_utf8(body).map_err(|e| super::UpstreamError::Malformed(e.to_string()))?;
            serde_json::from_str::<serde::de::IgnoredAny>(&text)
                .map_err(|e| super::UpstreamError::Malformed(e.to_string()))?;
            Ok(text)
        });
        let now = Instant::now();
        self.note(result.as_ref().map(|_| ()));
        {
            let mut polls = self.shared_polls.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(p) = polls.get_mut(&key) {
                p.in_flight = false;
                let interval = if p.realtime { self.config.realtime_every } else { self.config.cumulative_every };
                match &result {
                    Ok(_) => {
                        p.failures = 0;
                        p.next_poll = now + interval;
                    }
                    Err(e) => {
                        p.failures += 1;
                        p.next_poll = now + e.retry_after().unwrap_or_else(|| self.backoff(p.failures, interval));
                    }
                }
            }
        }
        let fetched = match result {
            Ok(body) => {
                Fetched { key, body: Some(body), fetched_at_ms: self.clock.now_ms(), ok: true, error: None, seq: 0 }
            }
            Err(e) => Fetched {
                key,
                body: None,
                fetched_at_ms: self.clock.now_ms(),
                ok: false,
                error: Some(e.to_string()),
                seq: 0,
            },
        };
        self.apply_shared(&fetched, None);
        self.pending.lock().unwrap_or_else(|p| p.into_inner()).push(fetched);
    }

    /// Applies an outcome to the slots of its URL: those not yet at `seq` when it comes
    /// from the share, every one when this node fetched it.
    fn apply_shared(&self, f: &Fetched, seq: Option<i64>) {
        let now = Instant::now();
        let mut changed = Vec::new();
        let mut slots = self.slots();
        for (interest, slot) in slots.iter_mut().filter(|(_, s)| s.url.as_deref() == Some(f.key.as_str())) {
            if let Some(seq) = seq {
                if seq <= slot.seq {
                    continue;
                }
                slot.seq = seq;
            }
            let decoded: Option<Result<Payload, String>> =
                f.body.as_deref().map(|b| decode(interest, b.as_bytes()).map_err(|e| e.to_string()));
            match (f.ok, decoded) {
                (true, Some(Ok(payload))) => {
                    slot.value = Some(payload);
                    slot.fetched_at_ms = f.fetched_at_ms;
                    slot.fetched_at = Some(now);
                    slot.last_ok = true;
                    slot.last_error = None;
                }
                (true, Some(Err(e))) => {
                    slot.last_ok = false;
                    slot.last_error = Some(e);
                }
                (_, decoded) => {
                    // A failure: the last body (if this node has none yet) is shown stale.
                    if slot.value.is_none()
                        && let Some(Ok(payload)) = decoded
                    {
                        slot.value = Some(payload);
                        slot.fetched_at_ms = f.fetched_at_ms;
                    }
                    slot.last_ok = false;
                    slot.last_error = Some(f.error.clone().unwrap_or_else(|| "the upstream cannot be read".into()));
                }
            }
            slot.attempts.send_modify(|n| *n += 1);
            changed.push(interest.view().target);
        }
        drop(slots);
        self.feed.mark(changed);
    }
}
