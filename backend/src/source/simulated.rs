//! The built-in contact center as a live source.
//!
//! The simulation is a pure function of (configuration, seed, epoch). The seed and epoch
//! are stored in the database on first start (epoch = now − history), so every later start
//! re-runs the same simulation from the epoch and submits only what the log lacks: a
//! restart, even after downtime, continues the same contact center without ghosts or gaps.
//! Settling them is first-writer-wins ([`Settings::compare_and_set`]), so two servers
//! starting at once on one database run the same simulation.

use std::time::{Duration, Instant};

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use wallboard_shared::{WorkflowSid, WorkspaceSid};

use crate::clock::Clock;
use crate::event::Event;
use crate::ingest::Ingest;
use crate::ingest::simulator::{SimConfig, Simulator};
use crate::storage::{EventLog, Settings};

/// Simulated time submitted per batch while catching up.
const CATCH_UP_CHUNK_MS: i64 = 3_600_000;
/// How often the live simulation steps.
const TICK: Duration = Duration::from_millis(200);
/// Settings keys of the seed and the epoch.
const SEED_KEY: &str = "sim_seed";
const EPOCH_KEY: &str = "sim_epoch_ms";

/// A simulator positioned at its epoch, ready to catch up.
#[derive(Debug)]
pub struct SimulatedCenter {
    sim: Simulator,
    seed: u64,
    epoch_ms: i64,
    /// Events at or before this are already in the log.
    stored_until_ms: Option<i64>,
    /// Simulated events not stored yet: they leave only once the writer acknowledged them,
    /// so a failed write is retried by the next step, in order.
    pending: Vec<Event>,
}

/// What the user needs to find the demo.
#[derive(Debug, Clone)]
pub struct DemoInfo {
    pub workspace_sid: WorkspaceSid,
    pub workspace_name: String,
    pub workflows: Vec<(WorkflowSid, String)>,
    pub seed: u64,
    pub epoch_ms: i64,
}

impl SimulatedCenter {
    /// Settles seed and epoch (stored on first start) and builds the simulator.
    pub fn prepare<S: EventLog + Settings + ?Sized>(
        store: &S,
        config: SimConfig,
        seed: Option<u64>,
        history_ms: i64,
        retention_ms: i64,
        now_ms: i64,
    ) -> anyhow::Result<Self> {
        // Read both before writing either: the epoch read belongs to the seed read.
        let seed_raw = store.get(SEED_KEY)?;
        let epoch_raw = store.get(EPOCH_KEY)?;
        let stored_seed = seed_raw.as_deref().and_then(|s| s.parse::<u64>().ok());
        let stored_epoch = epoch_raw.as_deref().and_then(|s| s.parse::<i64>().ok());
        let newest = store.newest_ms()?;
        let wanted = seed.or(stored_seed).unwrap_or_else(rand::random);
        let seed = if stored_seed == Some(wanted) {
            wanted
        } else {
            // Replace exactly what was read: when another process starting at the same
            // moment already did, its seed is the one in force.
            let in_force = store.compare_and_set(SEED_KEY, seed_raw.as_deref(), &wanted.to_string())?;
            let in_force = in_force.as_deref().and_then(|s| s.parse::<u64>().ok());
            match (seed, in_force) {
                (_, Some(s)) if s == wanted => s,
                (None, Some(s)) => s,
                _ => anyhow::bail!("another process changed the simulator seed while this one started; start again"),
            }
        };
        // A stored epoch is kept while its simulation is still within the retention;
        // otherwise (or when the seed changed) the center starts afresh.
        let epoch = match stored_epoch {
            Some(e) if stored_seed == Some(seed) && e >= now_ms - retention_ms - 86_400_000 => e,
            _ => store
                .compare_and_set(EPOCH_KEY, epoch_raw.as_deref(), &(now_ms - history_ms).to_string())?
                .and_then(|s| s.parse::<i64>().ok())
                .context("the stored simulator epoch is not a number")?,
        };
        let sim = Simulator::try_new(config, seed, epoch).context("invalid simulator configuration")?;
        Ok(Self {
            sim,
            seed,
            epoch_ms: epoch,
            stored_until_ms: if stored_epoch == Some(epoch) { newest } else { None },
            pending: Vec::new(),
        })
    }

    pub fn info(&self) -> DemoInfo {
        DemoInfo {
            workspace_sid: self.sim.workspace_sid().clone(),
            workspace_name: self.sim.workspace_name().to_owned(),
            workflows: self.sim.workflows(),
            seed: self.seed,
            epoch_ms: self.epoch_ms,
        }
    }

    /// Runs the simulation up to `now_ms`, submitting what the log lacks. Returns the
    /// number of events submitted. A failure here fails the start, so the chunks move to
    /// the writer without the copy [`SimulatedCenter::step`] keeps.
    pub async fn catch_up(&mut self, ingest: &Ingest, now_ms: i64) -> anyhow::Result<u64> {
        let started = Instant::now();
        let mut submitted = 0u64;
        let mut t = self.sim.now_ms();
        while t < now_ms {
            t = (t + CATCH_UP_CHUNK_MS).min(now_ms);
            self.sim.advance(t, &mut self.pending);
            submitted += self.flush(ingest, false).await?;
        }
        tracing::info!(
            events = submitted,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "simulated history caught up"
        );
        Ok(submitted)
    }

    /// Runs the simulation up to `now_ms` and stores what it produced, with whatever an
    /// earlier step could not store. Returns the number of events stored. On an error the
    /// events stay pending and go with the next step: none is lost, and none is stored
    /// twice (the log is idempotent on the SID anyway).
    pub async fn step(&mut self, ingest: &Ingest, now_ms: i64) -> anyhow::Result<u64> {
        self.sim.advance(now_ms, &mut self.pending);
        self.flush(ingest, true).await
    }

    /// Submits the pending events the log lacks. With `keep`, a copy goes to the writer and
    /// the events leave `pending` only once stored; without it they move (no copy).
    async fn flush(&mut self, ingest: &Ingest, keep: bool) -> anyhow::Result<u64> {
        if let Some(until) = self.stored_until_ms {
            self.pending.retain(|e| e.ts_ms > until);
        }
        if self.pending.is_empty() {
            return Ok(0);
        }
        let n = self.pending.len() as u64;
        let events = if keep { self.pending.clone() } else { std::mem::take(&mut self.pending) };
        ingest.submit(events).await.context("cannot store simulated events")?;
        self.pending.clear();
        Ok(n)
    }

    /// Steps the simulation with the clock until `stop`.
    pub async fn run(&mut self, ingest: &Ingest, clock: &std::sync::Arc<dyn Clock>, stop: &CancellationToken) {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            if let Err(e) = self.step(ingest, clock.now_ms()).await {
                tracing::warn!(
                    error = %format!("{e:#}"),
                    pending = self.pending.len(),
                    "simulated events not stored yet; retrying with the next step"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, RwLock};

    use super::*;
    use crate::engine::{Engine, EngineConfig};
    use crate::storage::{EventFilter, SqliteLog, StorageError};

    const T0: i64 = 1_750_000_000_000;
    const MINUTE: i64 = 60_000;
    const HOUR: i64 = 60 * MINUTE;

    /// The real SQLite log, with a switch that makes every append fail like a full disk.
    struct FailSwitch {
        inner: SqliteLog,
        fail: Arc<AtomicBool>,
    }

    impl EventLog for FailSwitch {
        fn append(&mut self, events: &[Event]) -> Result<Vec<bool>, StorageError> {
            if self.fail.load(Ordering::SeqCst) {
                return Err(StorageError::disk_full());
            }
            self.inner.append(events)
        }
        fn replay_rows(
            &self,
            since_ms: i64,
            f: &mut dyn FnMut(crate::storage::StoredRow<'_>) -> Result<(), StorageError>,
        ) -> Result<u64, StorageError> {
            self.inner.replay_rows(since_ms, f)
        }
        fn purge(&mut self, before_ms: i64) -> Result<u64, StorageError> {
            self.inner.purge(before_ms)
        }
        fn newest_ms(&self) -> Result<Option<i64>, StorageError> {
            self.inner.newest_ms()
        }
        fn count(&self) -> Result<u64, StorageError> {
            self.inner.count()
        }
        fn list(
            &self,
            filter: &EventFilter,
            after: Option<(i64, &str)>,
            limit: u64,
        ) -> Result<Vec<Event>, StorageError> {
            self.inner.list(filter, after, limit)
        }
    }

    /// A simulated center over a fresh database in `dir`, caught up to `T0`.
    async fn center(
        dir: &std::path::Path,
        fail: Arc<AtomicBool>,
    ) -> (SimulatedCenter, Ingest, std::thread::JoinHandle<Box<dyn EventLog>>) {
        let log = SqliteLog::open_dir(dir).expect("open the log");
        let mut center =
            SimulatedCenter::prepare(&log, SimConfig::default(), Some(42), HOUR, 7 * 24 * HOUR, T0).expect("prepare");
        let engine = Arc::new(RwLock::new(Engine::new(EngineConfig::default())));
        let (ingest, writer) = Ingest::start(Box::new(FailSwitch { inner: log, fail }), engine, Default::default());
        assert!(center.catch_up(&ingest, T0).await.expect("catch up") > 0);
        (center, ingest, writer)
    }

    fn stored(dir: &std::path::Path) -> Vec<Event> {
        let mut out = Vec::new();
        SqliteLog::open_dir(dir).expect("open a reader").replay(0, &mut |e| out.push(e)).expect("replay");
        out
    }

    async fn stop(ingest: Ingest, writer: std::thread::JoinHandle<Box<dyn EventLog>>) {
        drop(ingest);
        tokio::task::spawn_blocking(move || writer.join().expect("the writer does not panic")).await.expect("join");
    }

    #[tokio::test]
    async fn a_failed_write_keeps_the_batch_for_the_next_step() {
        let steps = [T0 + 10 * MINUTE, T0 + 20 * MINUTE, T0 + 30 * MINUTE, T0 + 40 * MINUTE];

        // Without a failure.
        let reference_dir = tempfile::tempdir().expect("tempdir");
        let (mut reference, ingest, writer) = center(reference_dir.path(), Arc::default()).await;
        let mut per_step = Vec::new();
        for t in steps {
            per_step.push(reference.step(&ingest, t).await.expect("step"));
        }
        stop(ingest, writer).await;
        assert!(per_step[..2].iter().all(|&n| n > 0), "the failing steps produce events: {per_step:?}");

        // The same center, with storage failing for the first two steps.
        let dir = tempfile::tempdir().expect("tempdir");
        let fail = Arc::new(AtomicBool::new(false));
        let (mut center, ingest, writer) = center(dir.path(), fail.clone()).await;
        let before = stored(dir.path()).len();
        fail.store(true, Ordering::SeqCst);
        for t in &steps[..2] {
            assert!(center.step(&ingest, *t).await.is_err(), "the write fails");
        }
        assert_eq!(stored(dir.path()).len(), before, "nothing stored while failing");
        fail.store(false, Ordering::SeqCst);
        let retried = center.step(&ingest, steps[2]).await.expect("the failure cleared");
        assert_eq!(retried, per_step[..3].iter().sum::<u64>(), "the kept batches go with the next step");
        assert_eq!(center.step(&ingest, steps[3]).await.expect("step"), per_step[3]);
        assert_eq!(center.step(&ingest, steps[3]).await.expect("step"), 0, "nothing twice");
        stop(ingest, writer).await;

        let (got, want) = (stored(dir.path()), stored(reference_dir.path()));
        assert_eq!(got.len(), want.len());
        assert!(got == want, "exactly the events stored without a failure");
    }
}
