//! The engine's memory per day of history, for `--retention-days`: the built-in simulator
//! (`simulator.toml`, scale 1, seed 7) feeds a fresh engine day after day (in one-minute
//! steps, `maintain` after each, as the server does), and the process's resident memory
//! (`VmRSS`) is read at the end of each day. The first day is a warm-up (the floor, the
//! workers' logs, the tasks live at any time); the figure is the mean growth per day after
//! it, with the events and tasks of a day and the time of a `HistoricalStatistics`-sized
//! question (30 day windows, split at S and T) at the end.
//!
//! `WALLBOARD_BENCH_DAYS` sets the days measured after the warm-up (default 8); the
//! retention is set beyond them, so nothing is purged. Linux only (`/proc/self/status`).
//!
//! Run: `cargo bench -p wallboard --bench history_memory` (release), or
//! `cargo test -p wallboard --bench history_memory --release`.

use std::time::Instant;

use wallboard::engine::{Engine, EngineConfig};
use wallboard::ingest::simulator::{SimConfig, Simulator};
use wallboard_shared::Window;

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;
/// 2026-11-02T00:00:00Z, a Monday.
const START: i64 = 1_793_577_600_000;
const SEED: u64 = 7;

/// Resident memory of this process in KiB (0 where /proc is missing).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    // `cargo test --benches` passes `--bench`-less arguments; nothing to parse.
    let days: i64 = std::env::var("WALLBOARD_BENCH_DAYS").ok().and_then(|d| d.parse().ok()).unwrap_or(8);
    let config = SimConfig::default();
    let mut sim = Simulator::try_new(config, SEED, START).expect("the built-in simulator configuration");
    let mut engine = Engine::new(EngineConfig { retention_ms: (days + 3) * DAY_MS, ..EngineConfig::default() });
    let mut events = Vec::new();
    let mut t = START;
    let mut per_day: Vec<(u64, u64, u64)> = Vec::new(); // (rss KiB, events, tasks created)
    let started = Instant::now();
    for _ in 0..=days {
        let (mut n, mut tasks) = (0u64, 0u64);
        let end = t + DAY_MS;
        while t < end {
            t += MINUTE_MS;
            events.clear();
            sim.advance(t, &mut events);
            for e in &events {
                engine.apply(e);
                tasks += u64::from(e.event_type == "task.created");
            }
            n += events.len() as u64;
            engine.maintain(t);
        }
        per_day.push((rss_kib(), n, tasks));
        let (rss, n, tasks) = per_day[per_day.len() - 1];
        println!("day {:>2}: {n} events, {tasks} tasks, RSS {} MiB", per_day.len() - 1, rss / 1024);
    }
    let first = per_day[0].0;
    let last = per_day[per_day.len() - 1].0;
    let measured = &per_day[1..];
    let events: u64 = measured.iter().map(|d| d.1).sum();
    let tasks: u64 = measured.iter().map(|d| d.2).sum();
    let growth = last.saturating_sub(first) as f64 / days as f64;
    println!(
        "after the warm-up day: {days} days, {:.0} events and {:.0} tasks a day, RSS +{:.1} MiB a day \
         ({:.0} bytes a task); {:.1} s in all",
        events as f64 / days as f64,
        tasks as f64 / days as f64,
        growth / 1024.0,
        growth * 1024.0 / (tasks as f64 / days as f64).max(1.0),
        started.elapsed().as_secs_f64()
    );
    // A history's questions: one window per day, split at the built-in definition's T.
    let workflows: Vec<_> = engine.registry().workflows().map(|(id, _)| id).collect();
    let started = Instant::now();
    let mut answered = 0u64;
    for wf in &workflows {
        for d in 0..days.min(30) {
            let w = Window { start_ms: t - (d + 1) * DAY_MS, end_ms: t - d * DAY_MS - 1 };
            answered += engine.cumulative(*wf, None, w, Some(&[20])).reservations_accepted;
        }
    }
    println!(
        "{} day windows of {} workflows in {:.2} ms ({answered} answered)",
        days.min(30),
        workflows.len(),
        started.elapsed().as_secs_f64() * 1000.0
    );
}
