//! Trends: samples at 10-second boundaries, by event time.

use super::trend::{History, INTERVAL_MS, Ring, SAMPLE_BYTES, SLOTS, Sample};
use super::*;
use crate::event::EventBuilder;
use wallboard_shared::sid::{EventSid, ReservationSid};
use wallboard_shared::{WorkflowSid, WorkspaceSid};

/// A boundary (divisible by 10 s).
const T0: i64 = 1_700_000_000_000;

fn ev(seq: u128, t: &str, ts: i64, task: u128, workflow: u128, channel: &str) -> Event {
    qev(seq, t, ts, task, workflow, channel, None)
}

/// [`ev`] of a task in task queue `queue`.
fn qev(seq: u128, t: &str, ts: i64, task: u128, workflow: u128, channel: &str, queue: Option<u128>) -> Event {
    let res = ReservationSid::from_u128(task).to_string();
    let mut b = EventBuilder::new(t, &EventSid::from_u128(seq), ts, &WorkspaceSid::from_u128(1))
        .field("task_sid", TaskSid::from_u128(task))
        .field("workflow_sid", WorkflowSid::from_u128(workflow))
        .field("workflow_name", format!("wf{workflow}"))
        .field("task_channel_unique_name", channel)
        .field("task_priority", "0");
    if t.starts_with("reservation.") {
        b = b.field("reservation_sid", res);
    }
    if let Some(q) = queue {
        b = b.field("task_queue_sid", format!("WQ{q:032x}")).field("task_queue_name", format!("q{q}"));
    }
    b.build().expect("valid event")
}

fn queue(e: &Engine, n: u128) -> Target {
    let space = e.registry().workspace_id(&WorkspaceSid::from_u128(1)).expect("workspace");
    let id = e.floor().queue_id_of(space.index(), &format!("WQ{n:032x}")).expect("known queue");
    Target::TaskQueue(target::QueueId::from_index(id))
}

fn s(pending: u32, reserved: u32, assigned: u32, wait: u32) -> Sample {
    Sample { by_status: [pending, reserved, assigned, 0], longest_wait_s: wait }
}

fn workflow(e: &Engine, n: u128) -> WorkflowId {
    e.registry().workflow_id(&WorkspaceSid::from_u128(1), &WorkflowSid::from_u128(n)).expect("known workflow")
}

fn channel(e: &Engine, name: &str) -> ChannelId {
    e.registry().resolve_channel(&WorkspaceSid::from_u128(1), name).expect("known channel")
}

/// Two tasks of workflow 1: task 1 (voice) created at 1 s, reserved at 25 s, accepted at
/// 41 s; task 2 (chat) created at 12 s.
fn two_tasks() -> Vec<Event> {
    vec![
        ev(1, "task.created", T0 + 1_000, 1, 1, "voice"),
        ev(2, "task.created", T0 + 12_000, 2, 1, "chat"),
        ev(3, "reservation.created", T0 + 25_000, 1, 1, "voice"),
        ev(4, "reservation.accepted", T0 + 41_000, 1, 1, "voice"),
    ]
}

#[test]
fn samples_at_boundaries_hand_worked() {
    let mut e = Engine::default();
    for event in two_tasks() {
        e.apply(&event);
    }
    let wf = workflow(&e, 1);
    let all = e.history(View::new(Target::Workflow(wf), None), T0, T0 + 60_000).expect("a workflow has a trend");
    // The trend starts at the first boundary after the first event (10 s). At 10 s task 1
    // has waited 9 s; at 20 s both wait (task 1 for 19 s); at 30 s and 40 s task 1 is
    // reserved and task 2 waits 18 s, 28 s. From 50 s on (after the newest event) the
    // current state: task 1 assigned, task 2 waiting 38 s, 48 s.
    let want = History {
        interval_ms: INTERVAL_MS,
        start_ms: T0 + 10_000,
        samples: vec![s(1, 0, 0, 9), s(2, 0, 0, 19), s(1, 1, 0, 18), s(1, 1, 0, 28), s(1, 0, 1, 38), s(1, 0, 1, 48)],
    };
    assert_eq!(all, want);
    assert_eq!(all.samples[2].total(), 2);

    let voice = View::new(Target::Workflow(wf), Some(channel(&e, "voice")));
    let h = e.history(voice, T0 + 5_000, T0 + 59_999).expect("trend");
    assert_eq!(h.start_ms, T0 + 10_000);
    assert_eq!(h.samples, [s(1, 0, 0, 9), s(1, 0, 0, 19), s(0, 1, 0, 0), s(0, 1, 0, 0), s(0, 0, 1, 0)]);

    // The workspace adds up its workflows; a second workflow appears at 55 s (after the
    // sample at 50 s was taken, so 50 s has it as nothing).
    e.apply(&ev(5, "task.created", T0 + 55_000, 3, 2, "voice"));
    let space = e.registry().workspace_id(&WorkspaceSid::from_u128(1)).expect("workspace");
    let h = e.history(View::new(Target::Workspace(space), None), T0 + 40_000, T0 + 70_000).expect("trend");
    assert_eq!(h.start_ms, T0 + 40_000);
    assert_eq!(h.samples, [s(1, 1, 0, 28), s(1, 0, 1, 38), s(2, 0, 1, 48), s(2, 0, 1, 58)]);
    let h = e.history(View::new(Target::Workflow(workflow(&e, 2)), None), T0, T0 + 70_000).expect("trend");
    assert_eq!(h.start_ms, T0 + 10_000);
    let mut want = vec![Sample::default(); 5];
    want.extend([s(1, 0, 0, 5), s(1, 0, 0, 15)]);
    assert_eq!(h.samples, want);
}

#[test]
fn nothing_before_the_first_event_and_no_trend_for_workers() {
    let mut e = Engine::default();
    let view = |e: &Engine| View::new(Target::Workflow(workflow(e, 1)), None);
    e.apply(&ev(1, "task.created", T0 + 1_000, 1, 1, "voice"));
    // Before the first boundary after the first event: no sample at all (not zeros).
    let h = e.history(view(&e), T0 - 3_600_000, T0 + 9_999).expect("trend");
    assert!(h.samples.is_empty(), "{h:?}");
    let h = e.history(view(&e), T0 - 3_600_000, T0 + 10_000).expect("trend");
    assert_eq!((h.start_ms, h.samples.as_slice()), (T0 + 10_000, &[s(1, 0, 0, 9)][..]));
    let space = e.registry().workspace_id(&WorkspaceSid::from_u128(1)).expect("workspace");
    assert!(e.history(View::new(Target::Workers(space), None), T0, T0 + 10_000).is_none());
    assert_eq!(
        Engine::default().history(view(&e), T0, T0 + 10_000),
        Some(History { interval_ms: INTERVAL_MS, ..History::default() })
    );
}

#[test]
fn a_late_event_changes_the_samples_after_it_not_those_taken() {
    let mut e = Engine::default();
    let events = two_tasks();
    for event in &events[..3] {
        e.apply(event);
    }
    // Task 2's reservation at 15 s arrives after the sample at 20 s was taken.
    e.apply(&ev(6, "reservation.created", T0 + 15_000, 2, 1, "chat"));
    let wf = workflow(&e, 1);
    let h = e.history(View::new(Target::Workflow(wf), None), T0, T0 + 30_000).expect("trend");
    assert_eq!(h.samples, [s(1, 0, 0, 9), s(2, 0, 0, 19), s(0, 2, 0, 0)]);
}

/// Applies `events` in order to a fresh engine.
fn engine_of<'a>(events: impl IntoIterator<Item = &'a Event>) -> Engine {
    let mut e = Engine::default();
    for event in events {
        e.apply(event);
    }
    e
}

/// Tasks of two workflows on three channels over two hours, each created, then reserved,
/// accepted, wrapped up and completed, or still pending, at pseudo-random times.
fn stream(tasks: u128) -> Vec<Event> {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut rnd = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % n) as i64
    };
    let mut out = Vec::new();
    for task in 1..=tasks {
        let (wf, channel) = (1 + task % 2, ["voice", "chat", "sms"][(task % 3) as usize]);
        let q = Some(1 + (task / 3) % 2);
        let ev = |seq, t, ts, task, wf, channel| qev(seq, t, ts, task, wf, channel, q);
        let start = T0 + rnd(2 * 3_600_000);
        let seq = task * 10;
        out.push(ev(seq, "task.created", start, task, wf, channel));
        if rnd(4) == 0 {
            continue;
        }
        let reserved = start + rnd(300_000);
        out.push(ev(seq + 1, "reservation.created", reserved, task, wf, channel));
        out.push(ev(seq + 2, "reservation.accepted", reserved + rnd(20_000), task, wf, channel));
        if rnd(3) > 0 {
            out.push(ev(seq + 3, "task.wrapup", reserved + 200_000 + rnd(400_000), task, wf, channel));
            out.push(ev(seq + 4, "task.completed", reserved + 700_000, task, wf, channel));
        }
    }
    out
}

#[test]
fn any_order_gives_the_same_samples_after_the_last_event_and_the_same_order_the_same_history() {
    let mut events = stream(400);
    events.sort_by_key(|e| e.ts_ms);
    let newest = events.last().map(|e| e.ts_ms).expect("events");
    let in_order = engine_of(&events);
    let again = engine_of(&events);
    let reversed = engine_of(events.iter().rev());
    let mut shuffled = events.clone();
    shuffled.sort_by_key(|e| (e.ts_ms / 7_000) % 13);
    let shuffled = engine_of(&shuffled);
    let now = newest + 3_600_000;
    let after = newest + INTERVAL_MS;
    let views = |e: &Engine| {
        let space = e.registry().workspace_id(&WorkspaceSid::from_u128(1)).expect("workspace");
        [
            View::new(Target::Workflow(workflow(e, 1)), None),
            View::new(Target::Workflow(workflow(e, 2)), Some(channel(e, "chat"))),
            View::new(Target::Workspace(space), None),
            View::new(queue(e, 1), None),
            View::new(queue(e, 2), Some(channel(e, "voice"))),
        ]
    };
    // Registry ids follow the order resources were first seen: each engine names its own.
    for ((a, b), c) in views(&in_order).into_iter().zip(views(&reversed)).zip(views(&shuffled)) {
        let want = in_order.history(a, after, now).expect("trend");
        assert!(want.samples.len() >= 359, "an hour: {}", want.samples.len());
        assert!(want.samples.iter().any(|s| s.total() > 0), "some tasks still live: {want:?}");
        assert_eq!(reversed.history(b, after, now), Some(want.clone()));
        assert_eq!(shuffled.history(c, after, now), Some(want.clone()));
        // Replaying the same log (a restart) gives the whole day the same.
        let day = in_order.history(a, now - 86_400_000, now).expect("trend");
        assert_eq!(again.history(a, now - 86_400_000, now), Some(day.clone()));
        assert!(day.samples.len() > 1000, "{} samples", day.samples.len());
    }
    // The in-order history is the state at each boundary: pending at a boundary counts the
    // tasks created before it and not reserved or ended before it.
    let wf1 = View::new(Target::Workflow(workflow(&in_order, 1)), None);
    let h = in_order.history(wf1, T0, newest).expect("trend");
    for (i, sample) in h.samples.iter().enumerate() {
        let at = h.start_ms + i as i64 * INTERVAL_MS;
        let upto: Vec<&Event> = events.iter().filter(|e| e.ts_ms < at).collect();
        let state = engine_of(upto.iter().copied());
        let known = state.registry().workflow_id(&WorkspaceSid::from_u128(1), &WorkflowSid::from_u128(1));
        let rt = known.map(|w| state.realtime(w, None, at)).unwrap_or_default();
        assert_eq!(u64::from(sample.by_status[0]), rt.tasks_by_status.pending, "pending at {at}");
        assert_eq!(sample.total(), rt.total_tasks, "total at {at}");
        assert_eq!(u64::from(sample.longest_wait_s), rt.longest_task_waiting_age, "longest wait at {at}");
        if i > 40 {
            break; // the first few minutes are enough (and cheap)
        }
    }
    // The same for a queue, against the floor's realtime numbers.
    let q1 = View::new(queue(&in_order, 1), None);
    let h = in_order.history(q1, T0, newest).expect("a queue has a trend");
    let mut live = 0;
    for (i, sample) in h.samples.iter().enumerate().step_by(7).take(40) {
        let at = h.start_ms + i as i64 * INTERVAL_MS;
        let state = engine_of(events.iter().filter(|e| e.ts_ms < at));
        let space = state.registry().workspace_id(&WorkspaceSid::from_u128(1));
        let id = space.and_then(|ws| state.floor().queue_id_of(ws.index(), &format!("WQ{:032x}", 1)));
        let rt = id.map(|q| state.floor().queue_realtime(q, None, at));
        let (pending, total, wait) =
            rt.map_or((0, 0, 0), |rt| (rt.tasks_by_status.pending, rt.total_tasks, rt.longest_task_waiting_age));
        assert_eq!(
            (u64::from(sample.by_status[0]), sample.total(), u64::from(sample.longest_wait_s)),
            (pending, total, wait),
            "queue 1 at {at}"
        );
        live += total;
    }
    assert!(live > 0, "the queue had tasks at some of the boundaries checked");
}

/// Task 1 (voice) and task 2 (chat) in queue 1, task 3 (voice) in queue 2; task 1 moves
/// to queue 2 at 33 s (`task-queue.moved`), task 2 is reserved at 25 s.
#[test]
fn queue_samples_hand_worked() {
    let mut e = Engine::default();
    for event in [
        qev(1, "task.created", T0 + 1_000, 1, 1, "voice", Some(1)),
        qev(2, "task.created", T0 + 12_000, 2, 1, "chat", Some(1)),
        qev(3, "task.created", T0 + 14_000, 3, 1, "voice", Some(2)),
        qev(4, "reservation.created", T0 + 25_000, 2, 1, "chat", Some(1)),
        qev(5, "task-queue.moved", T0 + 33_000, 1, 1, "voice", Some(2)),
    ] {
        e.apply(&event);
    }
    let q1 = View::new(queue(&e, 1), None);
    let h = e.history(q1, T0, T0 + 50_000).expect("a queue has a trend");
    // 10 s: task 1 waits 9 s. 20 s: tasks 1 and 2 wait (19 s the longest). 30 s: task 2
    // reserved, task 1 waits 29 s. 40 s on (after the newest event): task 1 left for
    // queue 2, task 2 reserved.
    assert_eq!(h.start_ms, T0 + 10_000);
    assert_eq!(h.samples, [s(1, 0, 0, 9), s(2, 0, 0, 19), s(1, 1, 0, 29), s(0, 1, 0, 0), s(0, 1, 0, 0)]);
    let chat = View::new(queue(&e, 1), Some(channel(&e, "chat")));
    let h = e.history(chat, T0, T0 + 30_000).expect("trend");
    assert_eq!(h.samples, [s(0, 0, 0, 0), s(1, 0, 0, 8), s(0, 1, 0, 0)]);
    // Queue 2 appeared at 14 s: nothing at 10 s; from 40 s both of its voice tasks.
    let q2 = View::new(queue(&e, 2), None);
    let h = e.history(q2, T0, T0 + 40_000).expect("trend");
    assert_eq!(h.samples, [s(0, 0, 0, 0), s(1, 0, 0, 6), s(1, 0, 0, 16), s(2, 0, 0, 39)]);
    // The queues' rings are counted with the workflow series'.
    assert!(e.trend_bytes() > 0);
}

#[test]
fn a_ring_holds_a_day_and_grows_in_steps() {
    let mut r = Ring::default();
    for k in 0..360 {
        r.record(k, s(k as u32, 0, 0, 0));
    }
    assert_eq!(r.len(), 360);
    assert!(r.heap_bytes() < SLOTS * SAMPLE_BYTES / 10, "an hour holds about an hour: {} bytes", r.heap_bytes());
    for k in 360..30_000 {
        r.record(k, s(k as u32, 0, 0, 0));
    }
    assert_eq!(r.len(), SLOTS);
    assert_eq!(r.heap_bytes(), SLOTS * SAMPLE_BYTES);
    assert_eq!(r.get(30_000 - SLOTS as i64 - 1), None, "fell out");
    assert_eq!(r.get(29_999).map(|x| x.by_status[0]), Some(29_999));
    assert_eq!(r.get(30_000), None);
    // After a gap the ring starts over.
    r.record(90_000, s(1, 0, 0, 0));
    assert_eq!((r.len(), r.get(90_000).map(|x| x.by_status[0])), (1, Some(1)));
}

#[test]
fn the_engine_keeps_at_most_a_day_per_series() {
    let mut e = Engine::default();
    e.apply(&ev(1, "task.created", T0 + 1_000, 1, 1, "voice"));
    e.apply(&ev(2, "task.created", T0 + 1_000, 2, 1, "chat"));
    // An event every 10 s for 25 hours, then one after a two-day silence.
    let mut seq = 10u128;
    for i in 0..(25 * 360) {
        seq += 1;
        e.apply(&ev(seq, "task.created", T0 + 5_000 + i * INTERVAL_MS, 100 + seq, 1, "voice"));
    }
    let per_series = SLOTS * SAMPLE_BYTES;
    assert_eq!(e.trend_bytes(), 2 * per_series, "two workflow series, each full");
    println!("trend memory per series: {per_series} bytes ({SLOTS} samples of {SAMPLE_BYTES} bytes)");
    let wf = View::new(Target::Workflow(workflow(&e, 1)), None);
    let end = T0 + 25 * 3_600_000;
    let day = e.history(wf, end - 2 * 86_400_000, end).expect("trend");
    assert_eq!(day.samples.len(), SLOTS, "at most a day");
    e.apply(&ev(seq + 1, "task.created", end + 2 * 86_400_000, 99, 1, "voice"));
    assert_eq!(e.trend_bytes(), 2 * per_series);
    let h = e.history(wf, end + 2 * 86_400_000 - 600_000, end + 2 * 86_400_000).expect("trend");
    assert_eq!(h.samples.len(), 61);
    assert_eq!(h.samples[0].by_status[0], 2 + 25 * 360, "the state before the newest event");
}
