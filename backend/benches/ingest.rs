//! Durable ingest: events per second appended to the SQLite event log in batches, as
//! `wallboard import` and the webhook writer do (WAL, synchronous=FULL, one transaction
//! per batch). Run: `cargo bench -p wallboard --bench ingest`.

#![allow(clippy::unwrap_used)]

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use wallboard::event::{Event, EventBuilder};
use wallboard::storage::{EventLog, SqliteLog};
use wallboard_shared::sid::{EventSid, ReservationSid, TaskSid, WorkflowSid, WorkspaceSid};

const T0: i64 = 1_795_766_400_000;

/// Callback-sized events (about the fields TaskRouter sends), six per task.
fn events(n: usize, offset: u128) -> Vec<Event> {
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
            EventBuilder::new(t, &EventSid::from_u128(offset * 16 + i as u128), T0 + i as i64 * 10, &ws)
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
                .field("timestamp_ms", T0 + i as i64 * 10)
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

criterion_group!(benches, durable_append);
criterion_main!(benches);
