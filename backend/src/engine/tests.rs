//! Engine behaviour on whole event streams: order independence, duplicates, eviction.

use super::*;
use crate::event::EventBuilder;
use wallboard_shared::sid::{EventSid, ReservationSid};
use wallboard_shared::{WindowSpec, WorkflowSid, WorkspaceSid};

const T0: i64 = 1_700_000_000_000;

fn ws() -> WorkspaceSid {
    WorkspaceSid::from_u128(1)
}

fn wf(n: u128) -> WorkflowSid {
    WorkflowSid::from_u128(n)
}

/// A task event with a deterministic event SID.
fn ev(seq: u128, t: &str, ts: i64, task: u128, workflow: u128, channel: &str, extra: &[(&str, &str)]) -> Event {
    let mut b = EventBuilder::new(t, &EventSid::from_u128(seq), ts, &ws())
        .field("task_sid", TaskSid::from_u128(task))
        .field("workflow_sid", wf(workflow))
        .field("workflow_name", format!("wf{workflow}"))
        .field("task_channel_unique_name", channel);
    for (k, v) in extra {
        b = b.field(k, v);
    }
    b.build().expect("valid event")
}

/// A small pseudo-random stream: tasks created, reserved, accepted or rejected,
/// canceled or completed, spread over a few hours.
fn stream(tasks: u128) -> Vec<Event> {
    let mut out = Vec::new();
    let mut seq = 0u128;
    let mut next = || {
        seq += 1;
        seq
    };
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut rnd = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    for task in 1..=tasks {
        let workflow = 1 + (task % 2);
        let channel = ["voice", "chat", "sms"][(task % 3) as usize];
        let prio = (rnd(3) * 5).to_string();
        let start = T0 + rnd(4 * 3_600_000) as i64;
        let extra = [("task_priority", prio.as_str())];
        out.push(ev(next(), "task.created", start, task, workflow, channel, &extra));
        out.push(ev(next(), "workflow.entered", start, task, workflow, channel, &extra));
        let res = ReservationSid::from_u128(task).to_string();
        let r = [("reservation_sid", res.as_str())];
        let wait = rnd(120_000) as i64;
        match rnd(5) {
            0 => out.push(ev(next(), "task.canceled", start + wait, task, workflow, channel, &[])),
            1 => {
                out.push(ev(next(), "reservation.created", start + wait / 2, task, workflow, channel, &r));
                out.push(ev(next(), "reservation.rejected", start + wait, task, workflow, channel, &r));
            }
            2 => {} // still pending
            _ => {
                out.push(ev(next(), "reservation.created", start + wait / 2, task, workflow, channel, &r));
                out.push(ev(next(), "reservation.accepted", start + wait, task, workflow, channel, &r));
                if rnd(2) == 0 {
                    out.push(ev(next(), "task.wrapup", start + wait + 60_000, task, workflow, channel, &[]));
                    out.push(ev(next(), "task.completed", start + wait + 90_000, task, workflow, channel, &[]));
                }
            }
        }
    }
    out
}

fn answers(e: &Engine, now: i64) -> Vec<String> {
    let mut out = Vec::new();
    for w in 1..=2u128 {
        let id = e.registry().workflow_id(&ws(), &wf(w)).expect("known workflow");
        for ch in [None, e.registry().resolve_channel(&ws(), "chat")] {
            out.push(format!("{:?}", e.realtime(id, ch, now)));
            for minutes in [15, 60, 240, 600] {
                let window = WindowSpec::Minutes(minutes).resolve(now, 30 * DAY_MS).expect("valid");
                out.push(format!("{:?}", e.cumulative(id, ch, window, Some(&[0, 10, 30, 60]))));
            }
        }
    }
    out
}

#[test]
fn any_arrival_order_with_duplicates_gives_the_same_answers() {
    let events = stream(2_000);
    let now = T0 + 5 * 3_600_000;
    let mut sorted = events.clone();
    sorted.sort_by_key(|e| e.ts_ms);
    let mut a = Engine::default();
    a.maintain(now);
    for e in &sorted {
        a.apply(e);
    }
    let mut b = Engine::default();
    b.maintain(now);
    // Reverse order, every event twice: nothing is in time order and nothing is unique.
    for e in events.iter().rev() {
        b.apply(e);
        assert!(!b.apply(e).changed, "a duplicate changes nothing");
    }
    a.maintain(now);
    b.maintain(now);
    assert_eq!(answers(&a, now), answers(&b, now));
}

#[test]
fn scripted_task_numbers() {
    let mut e = Engine::default();
    let ch = "voice";
    let r1 = ReservationSid::from_u128(1).to_string();
    let r = [("reservation_sid", r1.as_str())];
    for event in [
        ev(1, "task.created", T0, 10, 1, ch, &[("task_priority", "5")]),
        ev(2, "workflow.entered", T0, 10, 1, ch, &[]),
        ev(3, "reservation.created", T0 + 2_000, 10, 1, ch, &r),
        ev(4, "reservation.accepted", T0 + 20_500, 10, 1, ch, &r),
        ev(5, "task.created", T0 + 1_000, 11, 1, ch, &[]),
        ev(6, "task.canceled", T0 + 31_000, 11, 1, ch, &[]),
        ev(7, "task.created", T0 + 5_000, 12, 1, ch, &[("task_priority", "1")]),
    ] {
        e.apply(&event);
    }
    let id = e.registry().workflow_id(&ws(), &wf(1)).expect("known");
    let now = T0 + 65_000;
    let rt = e.realtime(id, None, now);
    assert_eq!(rt.tasks_by_status, TasksByStatus { pending: 1, reserved: 0, assigned: 1, wrapping: 0 });
    assert_eq!(rt.total_tasks, 2);
    assert_eq!(rt.longest_task_waiting_sid, Some(TaskSid::from_u128(12)));
    assert_eq!(rt.longest_task_waiting_age, 60);
    assert_eq!(rt.tasks_by_priority.get("5"), Some(&1));
    assert_eq!(rt.tasks_by_priority.get("1"), Some(&1));

    let c = e.cumulative(id, None, Window { start_ms: T0, end_ms: now }, Some(&[20, 30]));
    assert_eq!(c.tasks_entered, 3);
    assert_eq!(c.tasks_canceled, 1);
    assert_eq!(c.reservations_accepted, 1);
    assert_eq!(c.wait_duration_until_accepted, WaitDuration { avg: 21, min: 21, max: 21, total: 21 });
    assert_eq!(c.avg_task_acceptance_time, 21);
    assert_eq!(c.wait_duration_until_canceled, WaitDuration { avg: 30, min: 30, max: 30, total: 30 });
    let split = c.split_by_wait_time.expect("asked for");
    // Accepted after 20.5 s: above 20, below 30. Canceled after exactly 30 s: above 30.
    assert_eq!(split.0[0].1.above.reservations_accepted, 1);
    assert_eq!(split.0[1].1.below.reservations_accepted, 1);
    assert_eq!(split.0[1].1.above.tasks_canceled, 1);
    assert_eq!(split.0[1].1.below.tasks_canceled, 0);
}

#[test]
fn evicted_tasks_still_count_late_events_with_their_wait() {
    let mut e = Engine::default();
    let r1 = ReservationSid::from_u128(1).to_string();
    let r = [("reservation_sid", r1.as_str())];
    e.apply(&ev(1, "task.created", T0, 10, 1, "voice", &[]));
    e.apply(&ev(2, "reservation.created", T0 + 1_000, 10, 1, "voice", &r));
    e.apply(&ev(3, "task.canceled", T0 + 10_000, 10, 1, "voice", &[]));
    let now = T0 + 2 * DAY_MS;
    e.maintain(now);
    assert_eq!(e.tasks_in_memory(), 0, "ended task evicted after the late horizon");
    // A very late reservation.canceled for it.
    e.apply(&ev(4, "reservation.canceled", T0 + 10_001, 10, 1, "voice", &r));
    let id = e.registry().workflow_id(&ws(), &wf(1)).expect("known");
    let c = e.cumulative(id, None, Window { start_ms: T0, end_ms: now }, None);
    assert_eq!((c.tasks_entered, c.tasks_canceled, c.reservations_canceled), (1, 1, 1));
    assert_eq!(e.realtime(id, None, now).total_tasks, 0, "no phantom live task");
}

#[test]
fn retention_drops_old_statistics() {
    let mut e = Engine::new(EngineConfig { retention_ms: DAY_MS, ..EngineConfig::default() });
    e.apply(&ev(1, "task.created", T0, 10, 1, "voice", &[]));
    e.apply(&ev(2, "task.completed", T0 + 1_000, 10, 1, "voice", &[]));
    let id = e.registry().workflow_id(&ws(), &wf(1)).expect("known");
    let all = Window { start_ms: T0 - 1, end_ms: T0 + 3 * DAY_MS };
    assert_eq!(e.cumulative(id, None, all, None).tasks_entered, 1);
    e.maintain(T0 + 2 * DAY_MS);
    assert_eq!(e.cumulative(id, None, all, None).tasks_entered, 0);
    // Events older than the retention are ignored once the clock is known.
    e.apply(&ev(3, "task.created", T0, 11, 1, "voice", &[]));
    assert_eq!(e.cumulative(id, None, all, None).tasks_entered, 0);
}
