//! Workers, queues, eligibility and workspace numbers on a scripted day, checked by hand,
//! and their independence of arrival order.

use serde_json::json;
use wallboard_shared::WorkspaceSid;
use wallboard_shared::sid::EventSid;

use super::floor::WorkerChannelState;
use super::*;
use crate::event::EventBuilder;

const T0: i64 = 1_700_000_000_000;
const S: i64 = 1_000;

fn sid(prefix: &str, n: u128) -> String {
    format!("{prefix}{n:032x}")
}

/// Builds events with increasing SIDs.
#[derive(Default)]
struct Script {
    seq: u128,
    events: Vec<Event>,
}

impl Script {
    fn push(&mut self, t: &str, ts: i64, fields: &[(&str, String)]) {
        self.seq += 1;
        let mut b = EventBuilder::new(t, &EventSid::from_u128(self.seq), ts, &WorkspaceSid::from_u128(1));
        for (k, v) in fields {
            b = b.field(k, v);
        }
        self.events.push(b.build().expect("valid event"));
    }

    fn activity(&mut self, ts: i64, n: u128, name: &str, available: bool) {
        self.push(
            "activity.created",
            ts,
            &[
                ("activity_sid", sid("WA", n)),
                ("activity_name", name.into()),
                ("activity_available", available.to_string()),
            ],
        );
    }

    fn queue(&mut self, t: &str, ts: i64, n: u128, name: &str, expr: &str) {
        self.push(
            t,
            ts,
            &[
                ("task_queue_sid", sid("WQ", n)),
                ("task_queue_name", name.into()),
                ("task_queue_target_expression", expr.into()),
            ],
        );
    }

    fn worker(&mut self, t: &str, ts: i64, n: u128, activity: u128, attrs: &serde_json::Value) {
        self.push(
            t,
            ts,
            &[
                ("worker_sid", sid("WK", n)),
                ("worker_name", format!("agent{n}")),
                ("worker_activity_sid", sid("WA", activity)),
                ("worker_attributes", attrs.to_string()),
            ],
        );
    }

    fn task(&mut self, t: &str, ts: i64, task: u128, queue: u128, channel: &str, extra: &[(&str, String)]) {
        let mut f = vec![
            ("task_sid", sid("WT", task)),
            ("workflow_sid", sid("WW", 1)),
            ("task_channel_unique_name", channel.to_owned()),
            ("task_queue_sid", sid("WQ", queue)),
            ("task_priority", "1".to_owned()),
        ];
        f.extend(extra.iter().cloned());
        self.push(t, ts, &f);
    }

    /// `who`: (worker, reservation).
    fn reservation(&mut self, t: &str, ts: i64, task: u128, queue: u128, channel: &str, who: (u128, u128)) {
        let (worker, res) = who;
        self.task(
            t,
            ts,
            task,
            queue,
            channel,
            &[("worker_sid", sid("WK", worker)), ("reservation_sid", sid("WR", res))],
        );
    }
}

fn run(events: &[Event]) -> Engine {
    let mut e = Engine::default();
    for ev in events {
        e.apply(ev);
    }
    e
}

fn qid(e: &Engine, n: u128) -> u32 {
    e.floor().queue_id_of(0, &sid("WQ", n)).expect("known queue")
}

fn counts(v: &[floor::ActivityCount]) -> Vec<(String, u64)> {
    v.iter().map(|a| (a.friendly_name.clone().unwrap_or_default(), a.workers)).collect()
}

/// The day: three activities, three queues (one malformed), three workers.
fn setup() -> Script {
    let mut s = Script::default();
    s.activity(T0, 1, "Available", true);
    s.activity(T0, 2, "Break", false);
    s.activity(T0, 3, "Offline", false);
    s.queue("task-queue.created", T0, 1, "Support", "skills HAS 'support'");
    s.queue("task-queue.created", T0, 2, "Billing", "routing.levels.billing >= 3");
    s.queue("task-queue.created", T0, 3, "Broken", "skills HAS");
    s.worker("worker.created", T0, 1, 1, &json!({"skills": ["support"], "routing": {"levels": {"billing": 4}}}));
    s.worker("worker.created", T0 + S, 2, 2, &json!({"skills": ["sales"]}));
    s.worker("worker.created", T0 + 2 * S, 3, 3, &json!({"skills": ["support", "sales"]}));
    s
}

#[test]
fn eligibility_and_availability_follow_attributes_and_expressions() {
    let mut s = setup();
    let e = run(&s.events);
    let (q1, q2, q3) = (qid(&e, 1), qid(&e, 2), qid(&e, 3));
    let rt = |e: &Engine, q| e.floor().queue_realtime(q, None, T0 + 200 * S);
    // Support: W1 (Available) and W3 (Offline).
    assert_eq!((rt(&e, q1).total_eligible_workers, rt(&e, q1).total_available_workers), (2, 1));
    assert_eq!(
        counts(&rt(&e, q1).activity_statistics),
        [("Available".into(), 1), ("Break".into(), 0), ("Offline".into(), 1)]
    );
    // Billing: W1 only (levels.billing 4 >= 3).
    assert_eq!((rt(&e, q2).total_eligible_workers, rt(&e, q2).total_available_workers), (1, 1));
    // Broken: no workers, and the error says where.
    assert_eq!((rt(&e, q3).total_eligible_workers, rt(&e, q3).total_available_workers), (0, 0));
    assert_eq!(e.floor().queue(q3).and_then(|q| q.expression_error).map(|err| err.pos), Some(10));

    // W3 becomes available: Support has two available workers.
    s.push(
        "worker.activity.update",
        T0 + 60 * S,
        &[
            ("worker_sid", sid("WK", 3)),
            ("worker_activity_sid", sid("WA", 1)),
            ("worker_activity_name", "Available".into()),
            ("worker_previous_activity_sid", sid("WA", 3)),
            ("worker_time_in_previous_activity", "58".into()),
        ],
    );
    let e = run(&s.events);
    assert_eq!((rt(&e, q1).total_eligible_workers, rt(&e, q1).total_available_workers), (2, 2));
    let w3 = e.floor().worker(0, &sid("WK", 3)).expect("W3");
    assert_eq!(
        (w3.activity_name.as_deref(), w3.available, w3.activity_since_ms),
        (Some("Available"), true, Some(T0 + 60 * S))
    );

    // W2 learns support: three eligible for Support.
    s.worker("worker.attributes.update", T0 + 70 * S, 2, 2, &json!({"skills": ["support"]}));
    let e = run(&s.events);
    assert_eq!(rt(&e, q1).total_eligible_workers, 3);
    // An attributes update does not move W2's activity start (still creation).
    assert_eq!(e.floor().worker(0, &sid("WK", 2)).and_then(|w| w.activity_since_ms), Some(T0 + S));

    // Support now targets sales: only W3 (W1 and W2 are support only).
    s.queue("task-queue.expression.updated", T0 + 80 * S, 1, "Support", "skills HAS 'sales'");
    // The broken queue is fixed to match everybody.
    s.queue("task-queue.expression.updated", T0 + 80 * S, 3, "Broken", "1==1");
    let e = run(&s.events);
    assert_eq!((rt(&e, q1).total_eligible_workers, rt(&e, q1).total_available_workers), (1, 1));
    assert_eq!(rt(&e, q3).total_eligible_workers, 3);
    assert_eq!(e.floor().queue(q3).and_then(|q| q.expression_error), None);

    // Workers statistics, per workspace and per queue.
    let all = e.floor().workers_realtime(0, None);
    assert_eq!(all.total_workers, 3);
    assert_eq!(counts(&all.activity_statistics), [("Available".into(), 2), ("Break".into(), 1), ("Offline".into(), 0)]);
    assert_eq!(e.floor().workers_realtime(0, Some(q2)).total_workers, 1);

    // W2 is deleted: gone from every count.
    s.push("worker.deleted", T0 + 90 * S, &[("worker_sid", sid("WK", 2))]);
    let e = run(&s.events);
    assert_eq!(e.floor().workers_realtime(0, None).total_workers, 2);
    assert_eq!(rt(&e, q3).total_eligible_workers, 2);
    assert!(e.floor().worker(0, &sid("WK", 2)).is_none());
}

/// Tasks entering, moving and timing out of queues, and reservations on two channels.
fn day() -> Script {
    let mut s = setup();
    s.push(
        "worker.capacity.update",
        T0 + 5 * S,
        &[
            ("worker_sid", sid("WK", 1)),
            ("task_channel_unique_name", "chat".into()),
            ("worker_channel_capacity", "3".into()),
        ],
    );
    // A in Support from 100 s; B in Support from 110 s, moved to Billing at 130 s; C in
    // Billing from 120 s, timed out of it at 150 s.
    s.task("task.created", T0 + 100 * S, 1, 1, "voice", &[]);
    s.task("task-queue.entered", T0 + 100 * S, 1, 1, "voice", &[]);
    s.task("task.created", T0 + 110 * S, 2, 1, "voice", &[("task_priority", "5".into())]);
    s.task("task-queue.entered", T0 + 110 * S, 2, 1, "voice", &[("task_priority", "5".into())]);
    s.task("task-queue.moved", T0 + 130 * S, 2, 2, "voice", &[("task_priority", "5".into())]);
    s.task("task-queue.entered", T0 + 130 * S, 2, 2, "voice", &[("task_priority", "5".into())]);
    s.task("task.created", T0 + 120 * S, 3, 2, "voice", &[]);
    s.task("task-queue.entered", T0 + 120 * S, 3, 2, "voice", &[]);
    s.task("task-queue.timeout", T0 + 150 * S, 3, 2, "voice", &[]);
    s
}

#[test]
fn queue_realtime_follows_moves_and_timeouts() {
    let e = run(&day().events);
    let (q1, q2) = (qid(&e, 1), qid(&e, 2));
    let now = T0 + 160 * S;
    let support = e.floor().queue_realtime(q1, None, now);
    assert_eq!((support.total_tasks, support.tasks_by_status.pending), (1, 1));
    assert_eq!((support.longest_task_waiting_age, support.longest_relative_task_age_in_queue), (60, 60));
    assert_eq!(support.longest_task_waiting_sid.map(|s| s.to_string()), Some(sid("WT", 1)));
    assert_eq!(support.tasks_by_priority, [("1".to_owned(), 1)].into_iter().collect());
    let billing = e.floor().queue_realtime(q2, None, now);
    // B only (C timed out): 50 s old, 30 s in Billing.
    assert_eq!(billing.total_tasks, 1);
    assert_eq!((billing.longest_task_waiting_age, billing.longest_relative_task_age_in_queue), (50, 30));
    assert_eq!(billing.longest_relative_task_age_in_queue_sid.map(|s| s.to_string()), Some(sid("WT", 2)));
    assert_eq!(billing.tasks_by_priority, [("5".to_owned(), 1)].into_iter().collect());
    // Channel filter.
    assert_eq!(
        e.floor()
            .queue_realtime(
                q2,
                e.registry().resolve_channel(&WorkspaceSid::from_u128(1), "chat").map(ChannelId::index),
                now
            )
            .total_tasks,
        0
    );
    // The workspace adds up every workflow: A, B and C (C left its queue but is still pending).
    let ws = e.workspace_realtime(0, None, now);
    assert_eq!((ws.total_tasks, ws.tasks_by_status.pending, ws.longest_task_waiting_age), (3, 3, 60));
    assert_eq!((ws.total_workers, ws.tasks_by_priority.get("5").copied()), (3, Some(1)));
}

#[test]
fn reservations_use_multi_channel_capacity() {
    let mut s = day();
    // A (voice) reserved for and accepted by W1; D and E (chat) reserved for W1, D accepted.
    s.reservation("reservation.created", T0 + 170 * S, 1, 1, "voice", (1, 1));
    s.reservation("reservation.accepted", T0 + 175 * S, 1, 1, "voice", (1, 1));
    s.task("task.created", T0 + 171 * S, 4, 1, "chat", &[]);
    s.reservation("reservation.created", T0 + 172 * S, 4, 1, "chat", (1, 2));
    s.reservation("reservation.accepted", T0 + 173 * S, 4, 1, "chat", (1, 2));
    s.task("task.created", T0 + 176 * S, 5, 1, "chat", &[]);
    s.reservation("reservation.created", T0 + 177 * S, 5, 1, "chat", (1, 3));
    let e = run(&s.events);
    let q1 = qid(&e, 1);
    let support = e.floor().queue_realtime(q1, None, T0 + 180 * S);
    assert_eq!(
        (support.tasks_by_status.pending, support.tasks_by_status.reserved, support.tasks_by_status.assigned),
        (0, 1, 2)
    );
    assert_eq!(support.longest_task_waiting_age, 0);
    let w1 = e.floor().worker(0, &sid("WK", 1)).expect("W1");
    let ch = |w: &floor::WorkerState, n: &str| {
        let id = e.registry().resolve_channel(&WorkspaceSid::from_u128(1), n).expect("channel");
        w.channels.iter().find(|c| c.channel == id.index()).cloned().expect("worker channel")
    };
    let (voice, chat) = (ch(&w1, "voice"), ch(&w1, "chat"));
    assert_eq!((voice.configured_capacity, voice.assigned_tasks, voice.available_capacity_percentage), (1, 1, 0));
    assert_eq!((chat.configured_capacity, chat.assigned_tasks, chat.reserved_tasks), (3, 1, 1));
    assert_eq!(chat.available_capacity_percentage, 33);
    assert_eq!(w1.assigned_tasks.len(), 2);

    // A completes (no reservation.completed: the task's end ends its reservation).
    s.task("task.completed", T0 + 200 * S, 1, 1, "voice", &[]);
    s.reservation("reservation.rejected", T0 + 201 * S, 5, 1, "chat", (1, 3));
    let e = run(&s.events);
    let w1 = e.floor().worker(0, &sid("WK", 1)).expect("W1");
    let (voice, chat) = (ch(&w1, "voice"), ch(&w1, "chat"));
    assert_eq!((voice.assigned_tasks, voice.available_capacity_percentage), (0, 100));
    assert_eq!((chat.assigned_tasks, chat.reserved_tasks, chat.available_capacity_percentage), (1, 0, 66));
    let support = e.floor().queue_realtime(q1, None, T0 + 210 * S);
    // D assigned, E pending again since 176 s.
    assert_eq!((support.total_tasks, support.tasks_by_status.pending, support.longest_task_waiting_age), (2, 1, 34));
}

/// Everything the floor answers, for comparing two engines.
fn snapshot(e: &Engine, now: i64) -> String {
    let f = e.floor();
    // Channel ids depend on which event named a channel first: compare by name.
    let workers: Vec<_> = f
        .workers(0)
        .into_iter()
        .map(|mut w| {
            let mut named: Vec<_> = w
                .channels
                .drain(..)
                .map(|c| {
                    (
                        e.registry().channel(ChannelId::from_index(c.channel)).known.name.clone(),
                        WorkerChannelState { channel: 0, ..c },
                    )
                })
                .collect();
            named.sort_by(|a, b| a.0.cmp(&b.0));
            (w, named)
        })
        .collect();
    let mut out = format!("{workers:?}\n{:?}\n", f.workers_realtime(0, None));
    for q in f.queues(0) {
        // Queue ids, too, depend on arrival order.
        out += &format!("{:?}\n{:?}\n", floor::QueueInfo { id: 0, ..q.clone() }, f.queue_realtime(q.id, None, now));
    }
    out += &format!("{:?}", e.workspace_realtime(0, None, now));
    out
}

#[test]
fn floor_is_independent_of_order_and_duplicates() {
    let mut s = day();
    s.reservation("reservation.created", T0 + 170 * S, 1, 1, "voice", (1, 1));
    s.reservation("reservation.accepted", T0 + 175 * S, 1, 1, "voice", (1, 1));
    s.worker("worker.attributes.update", T0 + 176 * S, 2, 2, &json!({"skills": ["support"]}));
    s.queue("task-queue.expression.updated", T0 + 177 * S, 2, "Billing", "skills HAS 'support'");
    s.push(
        "worker.activity.update",
        T0 + 178 * S,
        &[("worker_sid", sid("WK", 3)), ("worker_activity_sid", sid("WA", 1))],
    );
    s.task("task.wrapup", T0 + 190 * S, 1, 1, "voice", &[]);
    let now = T0 + 200 * S;
    let forward = snapshot(&run(&s.events), now);
    let mut reversed = s.events.clone();
    reversed.reverse();
    assert_eq!(snapshot(&run(&reversed), now), forward);
    // A deterministic shuffle, with every event twice.
    let mut shuffled: Vec<Event> = s.events.iter().chain(&s.events).cloned().collect();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in (1..shuffled.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        shuffled.swap(i, (x % (i as u64 + 1)) as usize);
    }
    assert_eq!(snapshot(&run(&shuffled), now), forward);
    // The wrapping task keeps W1's voice channel busy, as assigned.
    let w1 = run(&s.events).floor().worker(0, &sid("WK", 1)).expect("W1");
    assert_eq!(w1.assigned_tasks.len(), 1);
}

#[test]
fn workspace_cumulative_adds_up_workflows() {
    let mut s = day();
    // A second workflow with one canceled task.
    s.push(
        "task.created",
        T0 + 100 * S,
        &[("task_sid", sid("WT", 9)), ("workflow_sid", sid("WW", 2)), ("task_channel_unique_name", "voice".into())],
    );
    s.push(
        "task.canceled",
        T0 + 140 * S,
        &[("task_sid", sid("WT", 9)), ("workflow_sid", sid("WW", 2)), ("task_channel_unique_name", "voice".into())],
    );
    let e = run(&s.events);
    let window = Window { start_ms: T0, end_ms: T0 + 3_600 * S };
    let c = e.workspace_cumulative(0, None, window, None);
    assert_eq!((c.tasks_entered, c.tasks_canceled), (4, 1));
    assert_eq!(c.wait_duration_until_canceled.avg, 40);
    // The same as the two workflows' numbers.
    let one = e.cumulative(WorkflowId::from_index(0), None, window, None);
    assert_eq!(one.tasks_entered, 3);
}

/// The day with reservations, a timeout, cancellations and a completion, for the queues'
/// cumulative numbers: A (Support) accepted by W1; B moved Support → Billing, rejected by
/// W3 there and accepted by W1; C timed out of Billing and canceled; D (chat, Support)
/// offered to W1, timed out, canceled.
fn cumulative_day() -> Script {
    let mut s = day();
    s.reservation("reservation.created", T0 + 170 * S, 1, 1, "voice", (1, 1));
    s.reservation("reservation.accepted", T0 + 175 * S, 1, 1, "voice", (1, 1));
    s.task("task.completed", T0 + 300 * S, 1, 1, "voice", &[]);
    s.reservation("reservation.created", T0 + 180 * S, 2, 2, "voice", (3, 4));
    s.reservation("reservation.rejected", T0 + 185 * S, 2, 2, "voice", (3, 4));
    s.reservation("reservation.created", T0 + 190 * S, 2, 2, "voice", (1, 5));
    s.reservation("reservation.accepted", T0 + 200 * S, 2, 2, "voice", (1, 5));
    s.task("task.canceled", T0 + 160 * S, 3, 2, "voice", &[]);
    s.task("task.created", T0 + 171 * S, 4, 1, "chat", &[]);
    s.reservation("reservation.created", T0 + 172 * S, 4, 1, "chat", (1, 2));
    s.reservation("reservation.timeout", T0 + 182 * S, 4, 1, "chat", (1, 2));
    s.task("task.canceled", T0 + 200 * S, 4, 1, "chat", &[]);
    s
}

/// The fields of a queue's cumulative statistics that tests compare, in schema order.
fn queue_numbers(c: &wallboard_shared::queues::TaskQueueCumulativeStats) -> [u64; 11] {
    [
        c.tasks_entered,
        c.tasks_moved,
        c.tasks_canceled,
        c.tasks_completed,
        c.tasks_deleted,
        c.reservations_created,
        c.reservations_accepted,
        c.reservations_rejected,
        c.reservations_timed_out,
        c.reservations_canceled,
        c.reservations_rescinded,
    ]
}

#[test]
fn queue_cumulative_counts_moves_timeouts_and_cancellations_by_hand() {
    let e = run(&cumulative_day().events);
    let (q1, q2) = (qid(&e, 1), qid(&e, 2));
    let window = Window { start_ms: T0, end_ms: T0 + 3_600 * S };
    let t = [60];
    let support = e.queue_cumulative(q1, None, window, Some(&t));
    // Entered: A, B, D. Moved: B (out of Support). Canceled: D (29 s). Completed: A.
    // Reservations: A's (accepted), D's (timed out).
    assert_eq!(queue_numbers(&support), [3, 1, 1, 1, 0, 2, 1, 0, 1, 0, 0]);
    // A: created and entered at 100 s, accepted at 175 s.
    assert_eq!(support.wait_duration_until_accepted, WaitDuration { avg: 75, min: 75, max: 75, total: 75 });
    assert_eq!(support.wait_duration_in_queue_until_accepted, WaitDuration { avg: 75, min: 75, max: 75, total: 75 });
    assert_eq!(support.wait_duration_until_canceled, WaitDuration { avg: 29, min: 29, max: 29, total: 29 });
    assert_eq!(support.avg_task_acceptance_time, 75);
    let split = &support.split_by_wait_time.as_ref().expect("asked").0[0];
    assert_eq!(split.0, 60);
    assert_eq!((split.1.below.reservations_accepted, split.1.above.reservations_accepted), (0, 1));
    assert_eq!((split.1.below.tasks_canceled, split.1.above.tasks_canceled), (1, 0));

    let billing = e.queue_cumulative(q2, None, window, None);
    // Entered: B (moved in at 130 s), C. Canceled: C (named Billing, 40 s after creation,
    // after it timed out of the queue). Reservations: B's rejected one and accepted one.
    assert_eq!(queue_numbers(&billing), [2, 0, 1, 0, 0, 2, 1, 1, 0, 0, 0]);
    // B: created at 110 s, entered Billing at 130 s, accepted at 200 s.
    assert_eq!(billing.wait_duration_until_accepted, WaitDuration { avg: 90, min: 90, max: 90, total: 90 });
    assert_eq!(billing.wait_duration_in_queue_until_accepted, WaitDuration { avg: 70, min: 70, max: 70, total: 70 });
    assert_eq!(billing.wait_duration_until_canceled.total, 40);
    assert!(billing.split_by_wait_time.is_none());

    // Channels: Support's voice tasks are A and B, its chat task D.
    let ch = |n: &str| e.registry().resolve_channel(&WorkspaceSid::from_u128(1), n);
    let voice = e.queue_cumulative(q1, ch("voice"), window, None);
    let chat = e.queue_cumulative(q1, ch("chat"), window, None);
    assert_eq!((voice.tasks_entered, chat.tasks_entered, chat.reservations_timed_out), (2, 1, 1));
    // A window that ends before B moved: Support saw A and B enter, nothing else.
    let early = e.queue_cumulative(q1, None, Window { start_ms: T0, end_ms: T0 + 129 * S }, None);
    assert_eq!(queue_numbers(&early), [2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    // The queues' moves add up to the workflow's.
    let workflow = e.cumulative(WorkflowId::from_index(0), None, window, None);
    assert_eq!((workflow.tasks_moved, workflow.tasks_entered, workflow.reservations_created), (1, 4, 4));
}

#[test]
fn task_queue_entered_date_sets_the_wait_in_queue() {
    let mut s = setup();
    s.task("task.created", T0 + 10 * S, 1, 1, "voice", &[]);
    // Entered at 20 s by the undocumented field, though the event says 25 s.
    let entered = ("task_queue_entered_date", ((T0 + 20 * S) / 1000).to_string());
    s.task("task-queue.entered", T0 + 25 * S, 1, 1, "voice", &[entered]);
    s.reservation("reservation.created", T0 + 40 * S, 1, 1, "voice", (1, 1));
    s.reservation("reservation.accepted", T0 + 50 * S, 1, 1, "voice", (1, 1));
    let e = run(&s.events);
    let c = e.queue_cumulative(qid(&e, 1), None, Window { start_ms: T0, end_ms: T0 + 60 * S }, None);
    assert_eq!((c.wait_duration_until_accepted.total, c.wait_duration_in_queue_until_accepted.total), (40, 30));
}

/// Every cumulative answer about queues and workers, for comparing two engines.
fn cumulative_snapshot(e: &Engine) -> String {
    let window = Window { start_ms: T0 + 30 * S, end_ms: T0 + 3_600 * S };
    let mut out = String::new();
    for q in e.floor().queues(0) {
        out += &format!("{} {:?}\n", q.sid, e.queue_cumulative(q.id, None, window, Some(&[10, 80])));
        out += &format!("{:?}\n", e.workers_cumulative(0, WorkerSet::Eligible(q.id), None, window));
    }
    let chat = e.registry().resolve_channel(&WorkspaceSid::from_u128(1), "chat");
    for w in 1..=4 {
        for channel in [None, chat] {
            out += &format!("W{w} {:?}\n", e.workers_cumulative(0, WorkerSet::Only(&[w]), channel, window));
        }
    }
    out + &format!("{:?}", e.workers_cumulative(0, WorkerSet::All, None, window))
}

/// Activity changes over the day: W3 Offline → Available at 60 s (58 s in Offline), W1
/// Available → Break at 100 s and back at 400 s; W4, never created, Break → Available at
/// 200 s after 50 s in Break.
fn activity_day() -> Script {
    let mut s = cumulative_day();
    let update = |s: &mut Script, ts: i64, worker: u128, to: u128, from: u128, secs: &str| {
        s.push(
            "worker.activity.update",
            ts,
            &[
                ("worker_sid", sid("WK", worker)),
                ("worker_activity_sid", sid("WA", to)),
                ("worker_previous_activity_sid", sid("WA", from)),
                ("worker_time_in_previous_activity", secs.into()),
            ],
        );
    };
    update(&mut s, T0 + 60 * S, 3, 1, 3, "58");
    update(&mut s, T0 + 100 * S, 1, 2, 1, "100");
    update(&mut s, T0 + 400 * S, 1, 1, 2, "300");
    update(&mut s, T0 + 200 * S, 4, 1, 2, "50");
    s
}

fn durations(v: &[floor::ActivityDurationStat]) -> Vec<(String, [u64; 5])> {
    v.iter().map(|a| (a.friendly_name.clone().unwrap_or_default(), [a.stays, a.avg, a.min, a.max, a.total])).collect()
}

#[test]
fn workers_cumulative_activity_durations_by_hand() {
    let e = run(&activity_day().events);
    let window = Window { start_ms: T0 + 30 * S, end_ms: T0 + 500 * S };
    let all = e.workers_cumulative(0, WorkerSet::All, None, window);
    // Available: W1 30..100 and 400..500, W3 60..500, W4 200..500 = 70, 100, 440, 300 s.
    // Break: W1 100..400, W2 30..500 (since creation at 1 s), W4 150..200 = 300, 470, 50 s.
    // Offline: W3 30..60 (created at 2 s) = 30 s.
    assert_eq!(
        durations(&all.activity_durations),
        [
            ("Available".into(), [4, 228, 70, 440, 910]),
            ("Break".into(), [3, 273, 50, 470, 820]),
            ("Offline".into(), [1, 30, 30, 30, 30]),
        ]
    );
    // Every reservation of the workspace: A's, B's two, D's.
    assert_eq!(
        [
            all.reservations_created,
            all.reservations_accepted,
            all.reservations_rejected,
            all.reservations_timed_out,
            all.reservations_canceled,
            all.reservations_rescinded
        ],
        [4, 2, 1, 1, 0, 0]
    );
    // Support's eligible workers are W1 and W3; their reservations: W1's for A, B (both
    // accepted) and D (timed out), W3's for B (rejected).
    let support = e.workers_cumulative(0, WorkerSet::Eligible(qid(&e, 1)), None, window);
    assert_eq!(
        durations(&support.activity_durations),
        [
            ("Available".into(), [3, 203, 70, 440, 610]),
            ("Break".into(), [1, 300, 300, 300, 300]),
            ("Offline".into(), [1, 30, 30, 30, 30]),
        ]
    );
    assert_eq!(
        (
            support.reservations_created,
            support.reservations_accepted,
            support.reservations_rejected,
            support.reservations_timed_out
        ),
        (4, 2, 1, 1)
    );
    // A window inside W1's break: one stay, cut at both edges.
    let inside_window = Window { start_ms: T0 + 150 * S, end_ms: T0 + 250 * S };
    let inside = e.workers_cumulative(0, WorkerSet::Eligible(qid(&e, 2)), None, inside_window);
    assert_eq!(durations(&inside.activity_durations)[1], ("Break".into(), [1, 100, 100, 100, 100]));
    // A deleted worker's stays end when it is deleted.
    let mut s = activity_day();
    s.push("worker.deleted", T0 + 300 * S, &[("worker_sid", sid("WK", 2))]);
    let e = run(&s.events);
    let all = e.workers_cumulative(0, WorkerSet::All, None, window);
    assert_eq!(durations(&all.activity_durations)[1], ("Break".into(), [3, 207, 50, 300, 620]));
}

#[test]
fn queue_and_worker_cumulative_are_independent_of_order_and_duplicates() {
    let s = activity_day();
    let forward = cumulative_snapshot(&run(&s.events));
    let mut reversed = s.events.clone();
    reversed.reverse();
    assert_eq!(cumulative_snapshot(&run(&reversed)), forward);
    let mut shuffled: Vec<Event> = s.events.iter().chain(&s.events).cloned().collect();
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for i in (1..shuffled.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        shuffled.swap(i, (x % (i as u64 + 1)) as usize);
    }
    assert_eq!(cumulative_snapshot(&run(&shuffled)), forward);
}

/// [`activity_day`] plus a task E (voice, Support) at 210 s with every other outcome:
/// W2's reservation R6 created 220 s, canceled 230 s; W3's R7 created 221 s, rescinded
/// 231 s; E canceled at 240 s.
///
/// Reservation events per worker over the day, by hand:
/// - W1: R1 (A, voice) created 170, accepted 175; R2 (D, chat) created 172, timed out 182;
///   R5 (B, voice) created 190, accepted 200.
/// - W2: R6 (E, voice) created 220, canceled 230.
/// - W3: R4 (B, voice) created 180, rejected 185; R7 (E, voice) created 221, rescinded 231.
fn every_outcome_day() -> Script {
    let mut s = activity_day();
    s.task("task.created", T0 + 210 * S, 5, 1, "voice", &[]);
    s.reservation("reservation.created", T0 + 220 * S, 5, 1, "voice", (2, 6));
    s.reservation("reservation.created", T0 + 221 * S, 5, 1, "voice", (3, 7));
    s.reservation("reservation.canceled", T0 + 230 * S, 5, 1, "voice", (2, 6));
    s.reservation("reservation.rescinded", T0 + 231 * S, 5, 1, "voice", (3, 7));
    s.task("task.canceled", T0 + 240 * S, 5, 1, "voice", &[]);
    s
}

/// created, accepted, rejected, timed out, canceled, rescinded.
fn reservations(c: &WorkersCumulative) -> [u64; 6] {
    [
        c.reservations_created,
        c.reservations_accepted,
        c.reservations_rejected,
        c.reservations_timed_out,
        c.reservations_canceled,
        c.reservations_rescinded,
    ]
}

#[test]
fn one_workers_reservations_and_stays_by_hand_across_window_edges() {
    let e = run(&every_outcome_day().events);
    let day = Window { start_ms: T0 + 30 * S, end_ms: T0 + 500 * S };
    let one = |w: u128, channel: Option<ChannelId>, window: Window| {
        e.workers_cumulative(0, WorkerSet::Only(&[w]), channel, window)
    };
    assert_eq!(reservations(&one(1, None, day)), [3, 2, 0, 1, 0, 0]);
    assert_eq!(reservations(&one(2, None, day)), [1, 0, 0, 0, 1, 0]);
    assert_eq!(reservations(&one(3, None, day)), [2, 0, 1, 0, 0, 1]);
    // W4 got none; a worker never seen counts nothing.
    assert_eq!(reservations(&one(4, None, day)), [0; 6]);
    assert_eq!(reservations(&one(99, None, day)), [0; 6]);
    // Bounds are inclusive to the millisecond: 172 s..182 s holds W1's R2 created and timed
    // out and R1's acceptance at 175 s; one millisecond less at either end drops an event.
    let edges = |start: i64, end: i64| reservations(&one(1, None, Window { start_ms: start, end_ms: end }));
    assert_eq!(edges(T0 + 172 * S, T0 + 182 * S), [1, 1, 0, 1, 0, 0]);
    assert_eq!(edges(T0 + 172 * S + 1, T0 + 182 * S), [0, 1, 0, 1, 0, 0]);
    assert_eq!(edges(T0 + 172 * S, T0 + 182 * S - 1), [1, 1, 0, 0, 0, 0]);

    // W1's stays over the day: Available 30..100 and 400..500 (70 s, 100 s), Break 100..400.
    let w1 = one(1, None, day);
    assert_eq!(
        durations(&w1.activity_durations),
        [
            ("Available".into(), [2, 85, 70, 100, 170]),
            ("Break".into(), [1, 300, 300, 300, 300]),
            ("Offline".into(), [0, 0, 0, 0, 0]),
        ]
    );
    // A window inside the break: one stay cut at both edges.
    let inside = one(1, None, Window { start_ms: T0 + 150 * S, end_ms: T0 + 250 * S });
    assert_eq!(durations(&inside.activity_durations)[1], ("Break".into(), [1, 100, 100, 100, 100]));
    // W3: Offline from its creation at 2 s to 60 s (30 s in the window), then Available.
    assert_eq!(
        durations(&one(3, None, day).activity_durations),
        [
            ("Available".into(), [1, 440, 440, 440, 440]),
            ("Break".into(), [0, 0, 0, 0, 0]),
            ("Offline".into(), [1, 30, 30, 30, 30]),
        ]
    );
}

#[test]
fn a_set_of_workers_adds_up_and_a_channel_narrows_reservations_only() {
    let e = run(&every_outcome_day().events);
    let day = Window { start_ms: T0 + 30 * S, end_ms: T0 + 500 * S };
    // W1 and W3 (listed twice: counted once): 3+2 created, 2 accepted, 1 rejected,
    // 1 timed out, 1 rescinded.
    let set = e.workers_cumulative(0, WorkerSet::Only(&[3, 1, 3]), None, day);
    assert_eq!(reservations(&set), [5, 2, 1, 1, 0, 1]);
    // Stays pooled: Available W1 70 + 100, W3 440 (3 stays, 610 s); Break W1 300; Offline W3 30.
    assert_eq!(
        durations(&set.activity_durations),
        [
            ("Available".into(), [3, 203, 70, 440, 610]),
            ("Break".into(), [1, 300, 300, 300, 300]),
            ("Offline".into(), [1, 30, 30, 30, 30]),
        ]
    );
    // Every worker's log adds up to the workspace's series, on any window and channel.
    let ws = WorkspaceSid::from_u128(1);
    let (voice, chat) = (e.registry().resolve_channel(&ws, "voice"), e.registry().resolve_channel(&ws, "chat"));
    let everybody = [1, 2, 3, 4];
    for window in [day, Window { start_ms: T0 + 175 * S, end_ms: T0 + 221 * S }] {
        for channel in [None, voice, chat] {
            let all = e.workers_cumulative(0, WorkerSet::All, channel, window);
            let each = e.workers_cumulative(0, WorkerSet::Only(&everybody), channel, window);
            assert_eq!(reservations(&each), reservations(&all), "{window:?} {channel:?}");
            assert_eq!(each.activity_durations, all.activity_durations);
        }
    }
    // On chat, W1 has only R2 (created, timed out); on voice the rest. The stays stay whole.
    let w1_chat = e.workers_cumulative(0, WorkerSet::Only(&[1]), chat, day);
    assert_eq!(reservations(&w1_chat), [1, 0, 0, 1, 0, 0]);
    let w1_voice = e.workers_cumulative(0, WorkerSet::Only(&[1]), voice, day);
    assert_eq!(reservations(&w1_voice), [2, 2, 0, 0, 0, 0]);
    let w1 = e.workers_cumulative(0, WorkerSet::Only(&[1]), None, day);
    assert_eq!(w1_chat.activity_durations, w1.activity_durations);
    // The workspace on chat: R2 only.
    assert_eq!(reservations(&e.workers_cumulative(0, WorkerSet::All, chat, day)), [1, 0, 0, 1, 0, 0]);
    // An empty set counts nothing, and lists every activity with zeros.
    let none = e.workers_cumulative(0, WorkerSet::Only(&[]), None, day);
    assert_eq!(reservations(&none), [0; 6]);
    assert!(durations(&none.activity_durations).iter().all(|(_, d)| *d == [0; 5]));
    assert_eq!(none.activity_durations.len(), 3);
}

#[test]
fn a_workers_reservation_log_is_kept_for_the_retention_only() {
    let config = EngineConfig { retention_ms: 3_600 * S, ..EngineConfig::default() };
    let mut e = Engine::new(config);
    for ev in &every_outcome_day().events {
        e.apply(ev);
    }
    let since_start = |e: &Engine| {
        let w = Window { start_ms: T0, end_ms: T0 + 10 * 3_600 * S };
        reservations(&e.workers_cumulative(0, WorkerSet::Only(&[1]), None, w))
    };
    assert_eq!(since_start(&e), [3, 2, 0, 1, 0, 0]);
    // An hour after 190 s: R1's and R2's events (170–182 s) are older than the retention,
    // R5's (190 s, 200 s) are not.
    e.maintain(T0 + 3_600 * S + 188 * S);
    assert_eq!(since_start(&e), [1, 1, 0, 0, 0, 0]);
}

/// What a restart replays of a floor created 40 days ago (the events the log keeps past the
/// retention): the worker's activity and since-when are the old change's, and the windows
/// see the stay clipped to them, not the time before the change.
#[test]
fn an_old_activity_change_gives_the_activity_and_clipped_stays() {
    const DAY: i64 = 86_400_000;
    let now = T0 + 40 * DAY;
    let mut s = Script::default();
    s.activity(T0, 1, "Available", true);
    s.activity(T0, 2, "Break", false);
    s.activity(T0, 3, "Offline", false);
    s.worker("worker.created", T0, 1, 3, &json!({"skills": ["support"]}));
    // Offline → Available at T0 + 10 s, after 10 s in Offline (and "3 days" before, to
    // show that a stay before the change is not counted either).
    s.push(
        "worker.activity.update",
        T0 + 10 * S,
        &[
            ("worker_sid", sid("WK", 1)),
            ("worker_activity_sid", sid("WA", 1)),
            ("worker_previous_activity_sid", sid("WA", 3)),
            ("worker_time_in_previous_activity", "259200".into()),
        ],
    );
    let mut e = Engine::default();
    // A restart tells the engine the time before replaying (the retention is 30 days).
    e.maintain(now);
    for ev in &s.events {
        e.apply(ev);
    }
    let w = &e.floor().workers(0)[0];
    assert_eq!((w.activity_name.as_deref(), w.available), (Some("Available"), true));
    assert_eq!(w.activity_since_ms, Some(T0 + 10 * S));
    let last_hour = Window { start_ms: now - 3600 * S, end_ms: now };
    let expected = [
        ("Available".to_owned(), [1, 3600, 3600, 3600, 3600]),
        ("Break".to_owned(), [0, 0, 0, 0, 0]),
        ("Offline".to_owned(), [0, 0, 0, 0, 0]),
    ];
    assert_eq!(durations(&e.workers_cumulative(0, WorkerSet::All, None, last_hour).activity_durations), expected);
    // The window of the whole retention: one stay, from the window's start.
    let retention = Window { start_ms: now - 30 * DAY, end_ms: now };
    let all = e.workers_cumulative(0, WorkerSet::All, None, retention).activity_durations;
    assert_eq!(durations(&all)[0], ("Available".to_owned(), [1, 2_592_000, 2_592_000, 2_592_000, 2_592_000]));
    assert_eq!(durations(&all)[2].1[0], 0, "no stay in Offline within the retention");
    // Housekeeping keeps the change in effect when the retention starts.
    e.maintain(now + DAY);
    assert_eq!(e.floor().workers(0)[0].activity_since_ms, Some(T0 + 10 * S));
    assert_eq!(durations(&e.workers_cumulative(0, WorkerSet::All, None, last_hour).activity_durations), expected);
}
