//! The built-in contact center as a live source.
//!
//! The simulation is a pure function of (configuration, seed, epoch). The seed and epoch
//! are stored in the database on first start (epoch = now − history), so every later start
//! re-runs the same simulation from the epoch and submits only what the log lacks: a
//! restart, even after downtime, continues the same contact center without ghosts or gaps.

use std::time::{Duration, Instant};

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use wallboard_shared::{WorkflowSid, WorkspaceSid};

use crate::clock::Clock;
use crate::event::Event;
use crate::ingest::Ingest;
use crate::ingest::simulator::{SimConfig, Simulator};
use crate::storage::{EventLog, SqliteLog};

/// Simulated time submitted per batch while catching up.
const CATCH_UP_CHUNK_MS: i64 = 3_600_000;
/// How often the live simulation steps.
const TICK: Duration = Duration::from_millis(200);

/// A simulator positioned at its epoch, ready to catch up.
#[derive(Debug)]
pub struct SimulatedCenter {
    sim: Simulator,
    seed: u64,
    epoch_ms: i64,
    /// Events at or before this are already in the log.
    stored_until_ms: Option<i64>,
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
    pub fn prepare(
        log: &SqliteLog,
        config: SimConfig,
        seed: Option<u64>,
        history_ms: i64,
        retention_ms: i64,
        now_ms: i64,
    ) -> anyhow::Result<Self> {
        let stored_seed = log.setting("sim_seed")?.and_then(|s| s.parse::<u64>().ok());
        let stored_epoch = log.setting("sim_epoch_ms")?.and_then(|s| s.parse::<i64>().ok());
        let newest = log.newest_ms()?;
        let seed = match (seed, stored_seed) {
            (Some(s), _) => s,
            (None, Some(s)) => s,
            (None, None) => rand::random(),
        };
        // A stored epoch is kept while its simulation is still within the retention;
        // otherwise (or when the seed changed) the center starts afresh.
        let epoch = match stored_epoch {
            Some(e) if stored_seed == Some(seed) && e >= now_ms - retention_ms - 86_400_000 => e,
            _ => now_ms - history_ms,
        };
        log.set_setting("sim_seed", &seed.to_string())?;
        log.set_setting("sim_epoch_ms", &epoch.to_string())?;
        let sim = Simulator::try_new(config, seed, epoch).context("invalid simulator configuration")?;
        Ok(Self {
            sim,
            seed,
            epoch_ms: epoch,
            stored_until_ms: if stored_epoch == Some(epoch) { newest } else { None },
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
    /// number of events submitted.
    pub async fn catch_up(&mut self, ingest: &Ingest, now_ms: i64) -> anyhow::Result<u64> {
        let started = Instant::now();
        let mut submitted = 0u64;
        let mut buf = Vec::new();
        let mut t = self.sim.now_ms();
        while t < now_ms {
            t = (t + CATCH_UP_CHUNK_MS).min(now_ms);
            self.sim.advance(t, &mut buf);
            submitted += self.submit(ingest, &mut buf).await?;
        }
        tracing::info!(
            events = submitted,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "simulated history caught up"
        );
        Ok(submitted)
    }

    async fn submit(&mut self, ingest: &Ingest, buf: &mut Vec<Event>) -> anyhow::Result<u64> {
        if let Some(until) = self.stored_until_ms {
            buf.retain(|e| e.ts_ms > until);
        }
        if buf.is_empty() {
            return Ok(0);
        }
        let events = std::mem::take(buf);
        let n = events.len() as u64;
        ingest.submit(events).await.context("cannot store simulated events")?;
        Ok(n)
    }

    /// Steps the simulation with the clock until `stop`.
    pub async fn run(mut self, ingest: Ingest, clock: std::sync::Arc<dyn Clock>, stop: CancellationToken) {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut buf = Vec::new();
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            self.sim.advance(clock.now_ms(), &mut buf);
            // On a storage error the events stay in the buffer and go with the next tick.
            let mut pending = std::mem::take(&mut buf);
            if let Err(e) = self.submit(&ingest, &mut pending).await {
                tracing::warn!(error = %format!("{e:#}"), "simulated events not stored yet; retrying");
                buf = pending;
            }
        }
    }
}
