//! Durable ingest: events per second appended to the SQLite event log in batches, as
//! `wallboard import` and the webhook writer do (WAL, synchronous=FULL, one transaction
//! per batch). Run: `cargo bench -p wallboard --bench ingest`.
//!
//! The same on PostgreSQL, and the replay rate of 1 M stored events (what a node's start
//! costs), when `WALLBOARD_BENCH_DATABASE_URL` names a server (each run creates and drops
//! its own database): on a throwaway cluster with fsync on,
//! `scripts/with-postgres.sh sh -c 'WALLBOARD_BENCH_DATABASE_URL=$WALLBOARD_TEST_DATABASE_URL cargo bench -p wallboard --bench ingest -- postgres'`.
//!
//! `sqlite_replay`: what a start costs on SQLite, for 1 M stored events (issue 14), in parts:
//! `rows` (the replay's query, every column read, nothing decoded), `replay` (rows decoded
//! into `Event`s: `EventLog::replay`), `replay_apply` (and applied to a fresh engine: a
//! start's replay, `startup::replay_into`, reading on one thread and applying on another),
//! `replay_apply_one_thread` (the same on one thread, as before issue 14). Before the timed
//! runs one replay prints how its time splits between reading + decoding and `Engine::apply`
//! (the dropping of the events counted in the latter). `WALLBOARD_BENCH_EVENTS` sets the
//! number of events (e.g. 20000 under callgrind:
//! `valgrind --tool=callgrind <ingest bench binary> --test sqlite_replay`, each part run once).

#![allow(clippy::unwrap_used)]

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use wallboard::engine::{Engine, EngineConfig};
use wallboard::event::{Event, EventBuilder};
use wallboard::storage::{EventLog, PgLog, SqliteLog};
use wallboard_shared::sid::{EventSid, ReservationSid, TaskSid, WorkflowSid, WorkspaceSid};

const T0: i64 = 1_795_766_400_000;

/// Callback-sized events (about the fields TaskRouter sends), six per task.
fn events(n: usize, offset: u128) -> Vec<Event> {
    events_from(n, offset, T0)
}

/// [`events`] from the time `t0`, 10 ms apart.
fn events_from(n: usize, offset: u128, t0: i64) -> Vec<Event> {
    let ws = WorkspaceSid::from_u128(1);
    let types = [
        "task.created",
        "workflow.entered",
        "reservation.created",
        "reservation.accepted",
        "task.wrapup",
        "task.completed",
    ];
    (0..n)
        .map(|i| {
            let task = (i / types.len()) as u128 + offset;
            let t = types[i % types.len()];
            EventBuilder::new(t, &EventSid::from_u128(offset * 16 + i as u128), t0 + i as i64 * 10, &ws)
                .field("task_sid", TaskSid::from_u128(task))
                .field("workflow_sid", WorkflowSid::from_u128(1 + task % 3))
                .field("workflow_name", "Sales")
                .field("workspace_name", "Demo Contact Center")
                .field("task_channel_unique_name", "voice")
                .field("task_channel_sid", "TC00000000000000000000000000000001")
                .field("task_priority", task % 10)
                .field("task_queue_sid", "WQ00000000000000000000000000000001")
                .field("task_queue_name", "Sales Queue")
                .field("task_attributes", r#"{"from":"+14155550100","type":"sales","language":"en"}"#)
                .field("task_age", i % 600)
                .field("reservation_sid", ReservationSid::from_u128(task))
                .field("worker_sid", "WK00000000000000000000000000000001")
                .field("timestamp_ms", t0 + i as i64 * 10)
                .build()
                .unwrap()
        })
        .collect()
}

fn durable_append(c: &mut Criterion) {
    let mut group = c.benchmark_group("durable_ingest");
    group.sample_size(10);
    for batch in [1usize, 100, 5_000] {
        let total = if batch == 1 { 2_000 } else { 100_000 };
        group.throughput(Throughput::Elements(total as u64));
        let dir = tempfile::tempdir().unwrap();
        let mut log = SqliteLog::open_dir(dir.path()).unwrap();
        let mut round = 0u128;
        group.bench_function(format!("batch_{batch}"), |b| {
            b.iter_batched(
                || {
                    round += 1;
                    events(total, round * 10_000_000)
                },
                |evs| {
                    for chunk in evs.chunks(batch) {
                        log.append(chunk).unwrap();
                    }
                },
                BatchSize::PerIteration,
            );
        });
    }
    group.finish();
}

/// A new database on the server of `WALLBOARD_BENCH_DATABASE_URL` (dropped on drop), or
/// `None` (and a printed line) when the variable is unset.
struct BenchDb {
    server: String,
    name: String,
    url: String,
}

impl BenchDb {
    fn create() -> Option<Self> {
        let Ok(server) = std::env::var("WALLBOARD_BENCH_DATABASE_URL") else {
            println!("postgres benches skipped: WALLBOARD_BENCH_DATABASE_URL is not set (see the top of ingest.rs)");
            return None;
        };
        let name = format!("wb_bench_{:016x}", rand::random::<u64>());
        let mut admin = postgres::Client::connect(&server, postgres::NoTls).unwrap();
        admin.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        let (base, _) = server.rsplit_once('/').unwrap();
        let url = format!("{base}/{name}");
        Some(Self { server, name, url })
    }
}

impl Drop for BenchDb {
    fn drop(&mut self) {
        if let Ok(mut admin) = postgres::Client::connect(&self.server, postgres::NoTls) {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}

fn postgres_append(c: &mut Criterion) {
    let Some(db) = BenchDb::create() else { return };
    let mut group = c.benchmark_group("postgres_durable_ingest");
    group.sample_size(10);
    for batch in [1usize, 100, 5_000] {
        let total = if batch == 1 { 2_000 } else { 100_000 };
        group.throughput(Throughput::Elements(total as u64));
        let mut log = PgLog::connect(&db.url).unwrap();
        let mut round = 0u128;
        group.bench_function(format!("batch_{batch}"), |b| {
            b.iter_batched(
                || {
                    round += 1;
                    events(total, round * 10_000_000 + batch as u128 * 1_000_000_000)
                },
                |evs| {
                    for chunk in evs.chunks(batch) {
                        log.append(chunk).unwrap();
                    }
                },
                BatchSize::PerIteration,
            );
        });
    }
    group.finish();
}

/// Replaying 1 M stored events (callback-sized, in time order), as a node does on start.
fn postgres_replay(c: &mut Criterion) {
    const EVENTS: usize = 1_000_000;
    const CHUNK: usize = 5_000;
    let Some(db) = BenchDb::create() else { return };
    let mut log = PgLog::connect(&db.url).unwrap();
    let loading = std::time::Instant::now();
    for chunk in 0..EVENTS / CHUNK {
        let t0 = T0 + (chunk * CHUNK) as i64 * 10;
        log.append(&events_from(CHUNK, (chunk as u128 + 1) * 1_000_000, t0)).unwrap();
    }
    println!("postgres: stored {} events in {:?}", log.count().unwrap(), loading.elapsed());
    let mut group = c.benchmark_group("postgres_replay");
    group.sample_size(10).measurement_time(std::time::Duration::from_secs(80));
    group.throughput(Throughput::Elements(EVENTS as u64));
    group.bench_function("replay_1m", |b| {
        b.iter(|| {
            let replayed = log.replay(T0, &mut |e| drop(std::hint::black_box(e))).unwrap();
            assert_eq!(replayed, EVENTS as u64);
        });
    });
    group.finish();
}

/// Replaying stored events on SQLite (see the top of this file).
fn sqlite_replay(c: &mut Criterion) {
    const CHUNK: usize = 5_000;
    let events: usize = std::env::var("WALLBOARD_BENCH_EVENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let mut log = SqliteLog::open_dir(dir.path()).unwrap();
    let loading = std::time::Instant::now();
    for chunk in 0..events.div_ceil(CHUNK) {
        let n = CHUNK.min(events - chunk * CHUNK);
        let t0 = T0 + (chunk * CHUNK) as i64 * 10;
        log.append(&events_from(n, (chunk as u128 + 1) * 1_000_000, t0)).unwrap();
    }
    println!("sqlite: stored {} events in {:?}", log.count().unwrap(), loading.elapsed());
    let conn = rusqlite::Connection::open(log.path()).unwrap();
    let engine = || Engine::new(EngineConfig::default());

    // One replay, timed in parts: reading and decoding a batch, then applying it.
    let (mut read, mut apply, mut batch) = (std::time::Duration::ZERO, std::time::Duration::ZERO, Vec::new());
    let mut e = engine();
    let mut since = std::time::Instant::now();
    log.replay(T0, &mut |ev| {
        batch.push(ev);
        if batch.len() == 4_096 {
            let t = std::time::Instant::now();
            read += t - since;
            for ev in batch.drain(..) {
                e.apply(&ev);
            }
            since = std::time::Instant::now();
            apply += since - t;
        }
    })
    .unwrap();
    read += since.elapsed();
    let t = std::time::Instant::now();
    for ev in batch.drain(..) {
        e.apply(&ev);
    }
    apply += t.elapsed();
    let rate = |d: std::time::Duration| events as f64 / d.as_secs_f64();
    println!(
        "sqlite replay of {events}: read + decode {read:?} ({:.0} events/s), apply {apply:?} ({:.0} events/s)",
        rate(read),
        rate(apply)
    );
    drop(e);

    let mut group = c.benchmark_group("sqlite_replay");
    group.sample_size(10).measurement_time(std::time::Duration::from_secs(30));
    group.throughput(Throughput::Elements(events as u64));
    group.bench_function("rows", |b| {
        b.iter(|| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT sid, ts_ms, workspace_sid, event_type, data FROM events
                     WHERE ts_ms >= ?1 ORDER BY ts_ms, sid",
                )
                .unwrap();
            let mut rows = stmt.query([T0]).unwrap();
            let (mut n, mut bytes) = (0usize, 0usize);
            while let Some(r) = rows.next().unwrap() {
                let ts: i64 = r.get(1).unwrap();
                for i in [0, 2, 3, 4] {
                    bytes += r.get_ref(i).unwrap().as_str().unwrap().len();
                }
                std::hint::black_box(ts);
                n += 1;
            }
            assert_eq!(n, events);
            bytes
        });
    });
    group.bench_function("replay", |b| {
        b.iter(|| {
            let replayed = log.replay(T0, &mut |e| drop(std::hint::black_box(e))).unwrap();
            assert_eq!(replayed, events as u64);
        });
    });
    group.bench_function("replay_apply", |b| {
        b.iter_batched(
            engine,
            |e| {
                let (e, replayed) = wallboard::startup::replay_into(&log, T0, e).unwrap();
                assert_eq!(replayed, events as u64);
                e
            },
            BatchSize::PerIteration,
        );
    });
    group.bench_function("replay_apply_one_thread", |b| {
        b.iter_batched(
            engine,
            |mut e| {
                let replayed = log
                    .replay(T0, &mut |ev| {
                        e.apply(&ev);
                    })
                    .unwrap();
                assert_eq!(replayed, events as u64);
                e
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

criterion_group!(benches, durable_append, postgres_append, postgres_replay, sqlite_replay);
criterion_main!(benches);
