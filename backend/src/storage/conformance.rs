//! The storage contract as tests: every implementation of [`EventLog`], [`Settings`] and
//! [`TokenStore`] runs these same checks, unchanged, through a [`Harness`] that makes a
//! fresh store and opens connections to it. SQLite runs them in `storage::sqlite`; a
//! second implementation adds a harness and one `conformance::suite!(ItsHarness);`.
//!
//! Checks are deterministic: they use fixed times and SIDs, and the concurrent ones assert
//! what must hold whatever the interleaving.

use std::sync::Barrier;

use wallboard_shared::sid::{EventSid, WorkspaceSid};
use wallboard_shared::{WorkflowSid, WorkspaceSid as Ws};

use super::documents::DocumentStore;
use super::tokens::{NewToken, STARTUP_LABEL, Scope, Standing, TOKEN_PREFIX, TokenError, TokenStore, hash};
use super::{EventFilter, EventLog, Settings};
use crate::event::{Event, EventBuilder};

/// Makes stores for the suite.
pub(crate) trait Harness: Sized {
    /// A new, empty store, shared by every connection opened from it.
    fn fresh() -> Self;
    /// A new connection to this store's event log (a second call: another process).
    fn events(&self) -> Box<dyn EventLog>;
    /// A new connection to this store's settings.
    fn settings(&self) -> Box<dyn Settings + Send>;
    /// A new connection to this store's tokens.
    fn tokens(&self) -> Box<dyn TokenStore>;
    /// A new connection to this store's documents.
    fn documents(&self) -> Box<dyn DocumentStore>;
}

/// One `#[test]` per check, for the harness `$h`.
macro_rules! suite {
    ($h:ty) => {
        $crate::storage::conformance::suite!(@each $h;
            append_is_idempotent_on_sid,
            batches_are_atomic,
            follow_sees_other_connections_once_and_not_its_own,
            replay_after_a_position_reads_what_came_after,
            replay_is_in_time_order_from_a_time,
            events_read_back_field_for_field,
            purge_deletes_past_retention,
            purge_and_replay_keep_the_floor,
            list_pages_and_filters,
            newest_and_count,
            settings_first_writer_wins,
            settings_compare_and_set,
            settings_first_writer_wins_across_racing_connections,
            tokens_create_and_list,
            tokens_revoke_and_revision,
            tokens_revoke_label,
            documents_put_get_list_delete,
            documents_are_shared_between_connections,
        );
    };
    (@each $h:ty; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                $crate::storage::conformance::$name::<$h>();
            }
        )*
    };
}
pub(crate) use suite;

fn ws() -> WorkspaceSid {
    WorkspaceSid::from_u128(1)
}

/// A worker event (no task fields) numbered `n` at `ts`.
pub(crate) fn event(n: u128, ts: i64, event_type: &str) -> Event {
    EventBuilder::new(event_type, &EventSid::from_u128(n), ts, &ws())
        .field("worker_sid", "WK00000000000000000000000000000001")
        .build()
        .expect("a valid worker event")
}

/// A task event numbered `n` at `ts`, of task `task` in workflow `wf` on `channel`.
fn task_event(n: u128, ts: i64, event_type: &str, task: u128, wf: u128, channel: &str) -> Event {
    EventBuilder::new(event_type, &EventSid::from_u128(n), ts, &ws())
        .field("task_sid", format!("WT{task:032x}"))
        .field("workflow_sid", WorkflowSid::from_u128(wf))
        .field("task_channel_unique_name", channel)
        .field("reservation_sid", format!("WR{n:032x}"))
        .build()
        .expect("a valid task event")
}

fn sids(events: &[Event]) -> Vec<u128> {
    events.iter().map(|e| e.sid.to_u128()).collect()
}

fn replayed(log: &dyn EventLog, since_ms: i64) -> Vec<(i64, u128)> {
    let mut out = Vec::new();
    let n = log.replay(since_ms, &mut |e| out.push((e.ts_ms, e.sid.to_u128()))).expect("replay");
    assert_eq!(n as usize, out.len(), "replay counts what it delivers");
    out
}

/// What an engine snapshot relies on: `position` names the last row a connection has read
/// (its own appends included once followed), and `replay_after` hands out, in storage order,
/// exactly the rows stored after it, whoever stored them; a position whose row is gone or
/// holds another event is refused.
pub(crate) fn replay_after_a_position_reads_what_came_after<H: Harness>() {
    let h = H::fresh();
    let mut log = h.events();
    log.track_own_appends();
    assert_eq!(log.position().expect("position"), None, "an empty log");
    let e = |n: u128| event(n, 1_000 - n as i64, "worker.activity.update");
    log.append(&[e(1), e(2)]).expect("append");
    h.events().append(&[e(3)]).expect("another connection");
    log.follow(&mut |_| {}).expect("follow");
    let at = log.position().expect("position").expect("rows were read");
    assert_eq!(at.sid, EventSid::from_u128(3).to_string(), "the last row stored");

    // After it: an import and this connection's own appends, in the order they were stored
    // (not in time order: these go back in time).
    h.events().append(&[e(4), e(5)]).expect("another connection");
    log.append(&[e(6)]).expect("append");
    let reader = h.events();
    let mut after = Vec::new();
    let n = reader.replay_after(&at, &mut |e| after.push(e.sid.to_u128())).expect("replay after");
    assert_eq!(n, Some(3));
    assert_eq!(after, [4, 5, 6]);
    // And the reader follows on from there.
    h.events().append(&[e(7)]).expect("another connection");
    let mut reader = reader;
    let mut followed = Vec::new();
    reader.follow(&mut |e| followed.push(e.sid.to_u128())).expect("follow");
    assert_eq!(followed, [7]);
    assert_eq!(reader.position().expect("position").map(|p| p.sid), Some(EventSid::from_u128(7).to_string()));

    // A position that is not where it was.
    let moved = super::LogPosition { sid: EventSid::from_u128(2).to_string(), ..at.clone() };
    assert_eq!(h.events().replay_after(&moved, &mut |_| panic!("nothing is handed out")).expect("replay"), None);
    let gone = super::LogPosition { row: at.row + 1_000_000, ..at };
    assert_eq!(h.events().replay_after(&gone, &mut |_| panic!("nothing is handed out")).expect("replay"), None);
}

pub(crate) fn append_is_idempotent_on_sid<H: Harness>() {
    let h = H::fresh();
    let mut log = h.events();
    let e = |n| event(n, 10 * n as i64, "worker.activity.update");
    assert_eq!(log.append(&[]).expect("an empty batch"), Vec::<bool>::new());
    assert_eq!(log.append(&[e(1), e(2)]).expect("append"), [true, true]);
    assert_eq!(log.append(&[e(2), e(3), e(1)]).expect("append"), [false, true, false], "across batches");
    assert_eq!(log.append(&[e(4), e(4)]).expect("append"), [true, false], "within one batch");
    // Another connection (an import) sees the same SIDs as stored.
    assert_eq!(h.events().append(&[e(3), e(5)]).expect("append"), [false, true]);
    assert_eq!(log.count().expect("count"), 5);
    // A duplicate SID keeps the first version.
    log.append(&[event(1, 999, "worker.activity.update")]).expect("append");
    assert_eq!(replayed(log.as_ref(), 0)[0], (10, 1));
}

pub(crate) fn batches_are_atomic<H: Harness>() {
    const BATCH: u128 = 200;
    const BATCHES: u128 = 10;
    let h = H::fresh();
    let reader = h.events();
    let mut writer = h.events();
    let done = &std::sync::atomic::AtomicBool::new(false);
    let seen = std::thread::scope(|s| {
        let watcher = s.spawn(move || {
            // Another connection never sees part of a batch.
            let mut seen = Vec::new();
            while !done.load(std::sync::atomic::Ordering::Acquire) {
                seen.push(reader.count().expect("count"));
            }
            seen.push(reader.count().expect("count"));
            seen
        });
        for b in 0..BATCHES {
            let batch: Vec<Event> = (0..BATCH)
                .map(|i| event(b * BATCH + i + 1, (b * BATCH + i) as i64, "worker.activity.update"))
                .collect();
            assert!(writer.append(&batch).expect("append").iter().all(|&new| new));
        }
        done.store(true, std::sync::atomic::Ordering::Release);
        watcher.join().expect("the watcher does not panic")
    });
    assert!(seen.iter().all(|&n| u128::from(n).is_multiple_of(BATCH)), "a partial batch was visible: {seen:?}");
    assert_eq!(seen.last().copied(), Some((BATCH * BATCHES) as u64));
}

pub(crate) fn follow_sees_other_connections_once_and_not_its_own<H: Harness>() {
    let h = H::fresh();
    let e = |n: u128, ts| event(n, ts, "worker.activity.update");
    let mut server = h.events();
    server.track_own_appends();
    server.append(&[e(1, 10)]).expect("append");
    assert_eq!(server.replay(0, &mut |_| {}).expect("replay"), 1);
    server.append(&[e(2, 20)]).expect("append");
    let mut import = h.events();
    assert_eq!(import.append(&[e(3, 30), e(2, 20)]).expect("append"), vec![true, false]);
    server.append(&[e(4, 40), e(5, 50)]).expect("append");
    import.append(&[e(6, 5)]).expect("append");
    let mut got = Vec::new();
    assert_eq!(server.follow(&mut |e| got.push(e.sid.to_u128())).expect("follow"), 2);
    assert_eq!(got, [3, 6], "only what the other connection stored, in storage order");
    got.clear();
    assert_eq!(server.follow(&mut |e| got.push(e.sid.to_u128())).expect("follow"), 0, "each once");
    import.append(&[e(7, 70)]).expect("append");
    server.append(&[e(8, 80)]).expect("append");
    import.append(&[e(9, 90)]).expect("append");
    server.follow(&mut |e| got.push(e.sid.to_u128())).expect("follow");
    assert_eq!(got, [7, 9]);
}

pub(crate) fn replay_is_in_time_order_from_a_time<H: Harness>() {
    let h = H::fresh();
    let mut log = h.events();
    let e = |n: u128, ts| task_event(n, ts, "task.created", n, 7, "voice");
    log.append(&[e(5, 30), e(2, 10), e(4, 20)]).expect("append");
    log.append(&[e(1, 20), e(3, 5)]).expect("append");
    assert_eq!(replayed(log.as_ref(), 0), [(5, 3), (10, 2), (20, 1), (20, 4), (30, 5)], "(time, sid) order");
    assert_eq!(replayed(log.as_ref(), 20), [(20, 1), (20, 4), (30, 5)], "from a time, inclusive");
    assert_eq!(replayed(h.events().as_ref(), 31), [], "another connection, nothing after the newest");
}

/// Every field comes back from the log as it went in, whatever its text (quotes, escapes,
/// control characters, any Unicode, empty, 64 KiB), through the replay, `list` and `follow`.
pub(crate) fn events_read_back_field_for_field<H: Harness>() {
    let h = H::fresh();
    let mut log = h.events();
    let mut reader = h.events();
    reader.replay(i64::MAX, &mut |_| {}).expect("replay");
    let awkward = [
        ("task_attributes", r#"{"from":"+1 \"x\" \\ /","n":[1,2.5e3,null,true]}"#.to_owned()),
        ("workflow_name", "Ventes – été ☎ 👩‍💼 \u{7f}\u{1}\t\r\n".to_owned()),
        ("task_queue_name", String::new()),
        ("task_channel_unique_name", "voice".to_owned()),
        ("a", "first by name".to_owned()),
        ("zz_large", "x".repeat(64 * 1024)),
    ];
    let events: Vec<Event> = (1..=3u128)
        .map(|n| {
            let mut b = EventBuilder::new("task.created", &EventSid::from_u128(n), 100 + n as i64, &ws())
                .field("task_sid", format!("WT{n:032x}"))
                .field("workflow_sid", WorkflowSid::from_u128(1));
            for (k, v) in &awkward[..(n as usize * 2)] {
                b = b.field(k, v);
            }
            b.build().expect("a valid event")
        })
        .collect();
    log.append(&events).expect("append");
    let mut replayed = Vec::new();
    h.events().replay(0, &mut |e| replayed.push(e)).expect("replay");
    assert_eq!(replayed, events, "replay");
    let all = EventFilter { workspace_sid: ws().to_string(), start_ms: 0, end_ms: i64::MAX, ..EventFilter::default() };
    let listed = log.list(&all, None, 10).expect("list");
    assert_eq!(listed, events, "list");
    let mut followed = Vec::new();
    reader.follow(&mut |e| followed.push(e)).expect("follow");
    assert_eq!(followed, events, "follow");
}

pub(crate) fn purge_deletes_past_retention<H: Harness>() {
    let h = H::fresh();
    let mut log = h.events();
    let e = |n: u128, ts| task_event(n, ts, "reservation.created", 1, 7, "voice");
    log.append(&[e(1, 10), e(2, 20), e(3, 30)]).expect("append");
    assert_eq!(log.purge(20).expect("purge"), 1, "strictly before");
    assert_eq!(log.purge(20).expect("purge"), 0);
    assert_eq!(replayed(h.events().as_ref(), 0), [(20, 2), (30, 3)]);
    assert_eq!(log.count().expect("count"), 2);
    assert_eq!(log.purge(i64::MAX).expect("purge"), 2);
    assert_eq!(log.newest_ms().expect("newest"), None);
}

/// An event numbered `n` at `ts` with `fields`.
fn floor_event(n: u128, ts: i64, event_type: &str, fields: &[(&str, String)]) -> Event {
    let mut b = EventBuilder::new(event_type, &EventSid::from_u128(n), ts, &ws());
    for (k, v) in fields {
        b = b.field(k, v);
    }
    b.build().expect("a valid event")
}

/// A floor whose events straddle the cutoff 100, numbered by SID (see
/// [`purge_and_replay_keep_the_floor`]).
fn floor_log() -> Vec<Event> {
    let sid = |p: &str, n: u128| format!("{p}{n:032x}");
    let activity = |n, ts, t: &str, a| floor_event(n, ts, t, &[("activity_sid", sid("WA", a))]);
    let queue = |n, ts, t: &str, q| {
        let f = [("task_queue_sid", sid("WQ", q)), ("task_queue_target_expression", format!("n > {n}"))];
        floor_event(n, ts, t, &f)
    };
    let worker = |n, ts, t: &str, w, a: Option<u128>, channel: Option<&str>| {
        let mut f = vec![("worker_sid", sid("WK", w)), ("worker_attributes", format!("{{\"n\":{n}}}"))];
        f.extend(a.map(|a| ("worker_activity_sid", sid("WA", a))));
        if let Some(c) = channel {
            f.extend([("task_channel_unique_name", c.to_owned()), ("worker_channel_capacity", "2".to_owned())]);
        }
        floor_event(n, ts, t, &f)
    };
    let task = |n, ts, t: &str| {
        let mut f = vec![("task_sid", sid("WT", 1)), ("workflow_sid", sid("WW", 1)), ("task_queue_sid", sid("WQ", 1))];
        if t.starts_with("reservation.") {
            f.extend([("reservation_sid", sid("WR", 1)), ("worker_sid", sid("WK", 1))]);
        }
        floor_event(n, ts, t, &f)
    };
    vec![
        activity(1, 1, "activity.created", 1),
        activity(2, 2, "activity.created", 2),
        activity(3, 3, "activity.updated", 1),
        activity(4, 4, "activity.deleted", 2),
        queue(5, 5, "task-queue.created", 1),
        queue(6, 5, "task-queue.created", 2),
        queue(7, 6, "task-queue.expression.updated", 1),
        queue(8, 7, "task-queue.expression.updated", 1),
        queue(9, 8, "task-queue.deleted", 2),
        queue(10, 9, "task-queue.created", 3),
        worker(11, 10, "worker.created", 1, Some(1), None),
        worker(12, 11, "worker.capacity.update", 1, None, Some("voice")),
        worker(13, 12, "worker.capacity.update", 1, None, Some("chat")),
        worker(14, 13, "worker.channel.availability.update", 1, None, Some("voice")),
        worker(15, 14, "worker.created", 2, Some(1), None),
        task(16, 15, "task.created"),
        task(17, 16, "task-queue.entered"),
        worker(18, 20, "worker.activity.update", 1, Some(3), None),
        worker(19, 25, "worker.attributes.update", 1, None, None),
        worker(20, 30, "worker.activity.update", 1, Some(1), None),
        worker(21, 35, "worker.attributes.update", 1, None, None),
        worker(22, 40, "worker.capacity.update", 1, None, Some("voice")),
        worker(23, 50, "worker.deleted", 2, None, None),
        task(24, 60, "reservation.created"),
        worker(25, 110, "worker.activity.update", 1, Some(3), None),
        queue(26, 150, "task-queue.deleted", 3),
        task(27, 120, "task.created"),
    ]
}

pub(crate) fn purge_and_replay_keep_the_floor<H: Harness>() {
    let h = H::fresh();
    let mut log = h.events();
    let mut events = floor_log();
    // Stored in an order unrelated to time, in two batches, by two connections.
    events.reverse();
    let later = events.split_off(10);
    log.append(&events).expect("append");
    h.events().append(&later).expect("append");
    let ids = |v: Vec<(i64, u128)>| v.into_iter().map(|(_, n)| n).collect::<Vec<_>>();

    // Before the cutoff 100, per subject and kind, the newest: activity A1's created (1)
    // and updated (3); queue Q1's created (5) and newest expression (8); Q3's created (10),
    // deleted only after the cutoff; worker W1's created (11), chat capacity (13), voice
    // availability (14), newest activity change (20), attributes (21) and voice capacity
    // (22); and 18, the newest worker event naming A3 (which has no activity event). Gone:
    // A2, Q2 and W2 (deleted before the cutoff: 2, 4, 6, 9, 15, 23), superseded events
    // (7, 12, 19), task, reservation and queue-movement events (16, 17, 24).
    let kept = [1, 3, 5, 8, 10, 11, 13, 14, 18, 20, 21, 22];
    let after_cutoff = [25, 27, 26];
    let expected: Vec<u128> = kept.iter().chain(&after_cutoff).copied().collect();
    let unpurged = replayed(log.as_ref(), 100);
    assert_eq!(ids(unpurged.clone()), expected, "replay from a time starts with the floor before it");
    assert!(unpurged.windows(2).all(|w| w[0] < w[1]), "in (time, sid) order: {unpurged:?}");

    assert_eq!(log.purge(100).expect("purge"), 12, "27 stored, 24 before the cutoff, 12 of them kept");
    assert_eq!(log.count().expect("count"), 15);
    assert_eq!(replayed(h.events().as_ref(), 100), unpurged, "the same replay after the purge");
    assert_eq!(replayed(log.as_ref(), 0), unpurged, "nothing else is left");
    assert_eq!(log.purge(100).expect("purge"), 0, "a second purge finds nothing to delete");

    // Later: Q3 is deleted before the cutoff (10, 26 go), W1's activity change at 110
    // supersedes 20, which stays as the newest event naming A1, while 18 no longer names
    // A3 last (25 does); the task event 27 goes.
    assert_eq!(log.purge(200).expect("purge"), 4);
    assert_eq!(ids(replayed(log.as_ref(), 0)), [1, 3, 5, 8, 11, 13, 14, 20, 21, 22, 25]);
}

pub(crate) fn list_pages_and_filters<H: Harness>() {
    let h = H::fresh();
    let mut log = h.events();
    let mut events = Vec::new();
    for n in 1..=9u128 {
        let (wf, channel) = if n % 3 == 0 { (8, "voice") } else { (7, "chat") };
        let kind = if n % 2 == 0 { "reservation.created" } else { "task.created" };
        events.push(task_event(n, 100 + (n as i64 / 2), kind, n % 4, wf, channel));
    }
    let other_ws = EventBuilder::new("worker.activity.update", &EventSid::from_u128(50), 101, &Ws::from_u128(2))
        .field("worker_sid", "WK00000000000000000000000000000001")
        .build()
        .expect("valid");
    events.push(other_ws);
    log.append(&events).expect("append");
    let all = EventFilter { workspace_sid: ws().to_string(), start_ms: 0, end_ms: i64::MAX, ..EventFilter::default() };
    let list = |f: &EventFilter, after: Option<(i64, &str)>, limit| log.list(f, after, limit).expect("list");

    // Pages in (time, sid) order, each starting after the last of the previous one.
    let mut pages = Vec::new();
    let mut after: Option<(i64, String)> = None;
    loop {
        let page = list(&all, after.as_ref().map(|(t, s)| (*t, s.as_str())), 4);
        if page.is_empty() {
            break;
        }
        let last = page.last().expect("not empty");
        after = Some((last.ts_ms, last.sid.to_string()));
        pages.push(sids(&page));
    }
    assert_eq!(pages, [vec![1, 2, 3, 4], vec![5, 6, 7, 8], vec![9]]);

    let with = |f: fn(&mut EventFilter)| {
        let mut filter = all.clone();
        f(&mut filter);
        sids(&list(&filter, None, 100))
    };
    assert_eq!(with(|f| (f.start_ms, f.end_ms) = (101, 102)), [2, 3, 4, 5], "inclusive time bounds");
    assert_eq!(with(|f| f.workspace_sid = Ws::from_u128(2).to_string()), [50]);
    assert_eq!(with(|f| f.event_type = Some("reservation.created".into())), [2, 4, 6, 8]);
    assert_eq!(with(|f| f.task_sid = Some(format!("WT{:032x}", 1))), [1, 5, 9]);
    assert_eq!(with(|f| f.workflow_sid = Some(WorkflowSid::from_u128(8).to_string())), [3, 6, 9]);
    assert_eq!(with(|f| f.reservation_sid = Some(format!("WR{:032x}", 6))), [6]);
    assert_eq!(with(|f| f.task_channel = Some("voice".into())), [3, 6, 9]);
}

pub(crate) fn newest_and_count<H: Harness>() {
    let h = H::fresh();
    let mut log = h.events();
    assert_eq!((log.newest_ms().expect("newest"), log.count().expect("count")), (None, 0));
    log.append(&[event(1, 30, "worker.activity.update"), event(2, 10, "worker.activity.update")]).expect("append");
    h.events().append(&[event(3, 20, "worker.activity.update")]).expect("append");
    assert_eq!((log.newest_ms().expect("newest"), log.count().expect("count")), (Some(30), 3));
}

pub(crate) fn settings_first_writer_wins<H: Harness>() {
    let h = H::fresh();
    let (a, b) = (h.settings(), h.settings());
    assert_eq!(a.get("seed").expect("get"), None);
    assert_eq!(a.set_if_absent("seed", "1").expect("set"), "1");
    assert_eq!(b.set_if_absent("seed", "2").expect("set"), "1", "the first writer wins, across connections");
    assert_eq!(a.set_if_absent("seed", "3").expect("set"), "1", "and on the same one");
    assert_eq!(b.get("seed").expect("get").as_deref(), Some("1"));
    assert_eq!(b.set_if_absent("epoch", "").expect("set"), "", "an empty value is a value");
    assert_eq!(a.set_if_absent("epoch", "x").expect("set"), "");
}

pub(crate) fn settings_compare_and_set<H: Harness>() {
    let h = H::fresh();
    let (a, b) = (h.settings(), h.settings());
    assert_eq!(a.compare_and_set("k", Some("old"), "new").expect("cas"), None, "nothing to replace");
    assert_eq!(a.get("k").expect("get"), None);
    a.set_if_absent("k", "v1").expect("set");
    // Both replace what they read; the first wins and the second learns its value.
    assert_eq!(a.compare_and_set("k", Some("v1"), "v2").expect("cas"), Some("v2".into()));
    assert_eq!(b.compare_and_set("k", Some("v1"), "v3").expect("cas"), Some("v2".into()));
    assert_eq!(b.compare_and_set("k", None, "v4").expect("cas"), Some("v2".into()));
    assert_eq!(a.get("k").expect("get").as_deref(), Some("v2"));
}

pub(crate) fn settings_first_writer_wins_across_racing_connections<H: Harness>() {
    const RACERS: usize = 4;
    let h = H::fresh();
    let connections: Vec<_> = (0..RACERS).map(|_| h.settings()).collect();
    let start = Barrier::new(RACERS);
    let in_force: Vec<(String, String)> = std::thread::scope(|s| {
        let racers: Vec<_> = connections
            .into_iter()
            .enumerate()
            .map(|(i, settings)| {
                let start = &start;
                s.spawn(move || {
                    start.wait();
                    let sid = settings.set_if_absent("account_sid", &format!("sid{i}")).expect("set");
                    let token = settings.set_if_absent("auth_token", &format!("token{i}")).expect("set");
                    (sid, token)
                })
            })
            .collect();
        racers.into_iter().map(|r| r.join().expect("a racer does not panic")).collect()
    });
    assert!(in_force.windows(2).all(|w| w[0] == w[1]), "every process goes on with the same values: {in_force:?}");
    let stored = h.settings();
    assert_eq!(stored.get("account_sid").expect("get"), Some(in_force[0].0.clone()));
    assert_eq!(stored.get("auth_token").expect("get"), Some(in_force[0].1.clone()));
}

fn workspace_scope() -> Scope {
    Scope::Workspace {
        workspace: Ws::from_u128(1),
        workflows: vec![WorkflowSid::from_u128(2), WorkflowSid::from_u128(3)],
    }
}

pub(crate) fn tokens_create_and_list<H: Harness>() {
    let h = H::fresh();
    let mut store = h.tokens();
    assert_eq!(store.all().expect("all"), []);
    let lobby = NewToken { label: "lobby TV".into(), scope: workspace_scope(), ttl_ms: Some(1000) };
    let (plain, record) = store.create(&lobby, 5000).expect("create");
    assert!(plain.starts_with(TOKEN_PREFIX) && plain.len() == TOKEN_PREFIX.len() + 43, "{plain}");
    assert_eq!((record.label.as_str(), &record.scope), ("lobby TV", &workspace_scope()));
    assert_eq!((record.created_ms, record.expires_ms, record.revoked_ms), (5000, Some(6000), None));
    let admin = NewToken { label: STARTUP_LABEL.into(), scope: Scope::Admin, ttl_ms: None };
    let (plain2, record2) = h.tokens().create(&admin, 4000).expect("create on another connection");
    assert_ne!(plain, plain2);
    assert_eq!(record2.expires_ms, None);
    let whole = NewToken {
        label: "ops".into(),
        scope: Scope::Workspace { workspace: Ws::from_u128(4), workflows: vec![] },
        ttl_ms: None,
    };
    let (plain3, record3) = store.create(&whole, 6000).expect("create");
    assert_eq!(
        store.all().expect("all"),
        vec![(hash(&plain2), record2), (hash(&plain), record), (hash(&plain3), record3)],
        "every token with its hash, oldest first, as created"
    );
}

pub(crate) fn tokens_revoke_and_revision<H: Harness>() {
    let h = H::fresh();
    let mut store = h.tokens();
    let rev0 = store.revision().expect("revision");
    let new = NewToken { label: "lobby TV".into(), scope: workspace_scope(), ttl_ms: None };
    let (_, record) = store.create(&new, 5000).expect("create");
    let rev1 = store.revision().expect("revision");
    assert!(rev1 > rev0, "creating moves the revision");

    // Another connection (the CLI while a server runs) revokes; the server's sees it.
    let mut cli = h.tokens();
    assert_eq!(cli.revision().expect("revision"), rev1, "one revision, whichever connection asks");
    assert!(cli.revoke(&record.id, 5500).expect("revoke"));
    let rev2 = store.revision().expect("revision");
    assert!(rev2 > rev1, "revoking moves the revision");
    assert!(!cli.revoke(&record.id, 5600).expect("again"), "already revoked");
    assert!(matches!(cli.revoke("TK00", 1), Err(TokenError::NotFound(id)) if id == "TK00"));
    assert_eq!(store.revision().expect("revision"), rev2, "nothing changed, the revision stays");
    let (_, stored) = &store.all().expect("all")[0];
    assert_eq!((stored.revoked_ms, stored.standing(0)), (Some(5500), Standing::Revoked), "the first revocation counts");
}

pub(crate) fn tokens_revoke_label<H: Harness>() {
    let h = H::fresh();
    let mut store = h.tokens();
    let startup = NewToken { label: STARTUP_LABEL.into(), scope: Scope::Admin, ttl_ms: None };
    let other = NewToken { label: "lobby TV".into(), scope: Scope::Admin, ttl_ms: None };
    store.create(&startup, 1).expect("create");
    store.create(&startup, 2).expect("create");
    store.create(&other, 3).expect("create");
    let rev = store.revision().expect("revision");
    assert_eq!(h.tokens().revoke_label(STARTUP_LABEL, 4).expect("revoke"), 2);
    let rev2 = store.revision().expect("revision");
    assert!(rev2 > rev);
    assert_eq!(store.revoke_label(STARTUP_LABEL, 5).expect("revoke"), 0, "none left active");
    assert_eq!(store.revision().expect("revision"), rev2, "nothing revoked, the revision stays");
    let standing: Vec<_> = store.all().expect("all").into_iter().map(|(_, t)| (t.label, t.revoked_ms)).collect();
    assert_eq!(
        standing,
        [(STARTUP_LABEL.to_owned(), Some(4)), (STARTUP_LABEL.to_owned(), Some(4)), ("lobby TV".to_owned(), None)]
    );
}

pub(crate) fn documents_put_get_list_delete<H: Harness>() {
    let h = H::fresh();
    let mut d = h.documents();
    assert_eq!(d.revision().expect("revision"), 0, "a new store");
    assert_eq!(d.get("sl/WS1/default").expect("get"), None);
    assert!(d.list("sl/").expect("list").is_empty());
    let a = d.put("sl/WS1/default", r#"{"t":20}"#, 1_000).expect("put");
    assert_eq!((a.key.as_str(), a.body.as_str(), a.updated_ms), ("sl/WS1/default", r#"{"t":20}"#, 1_000));
    assert_eq!(d.revision().expect("revision"), a.revision);
    let b = d.put("sl/WS1/WQ2", "{}", 2_000).expect("put");
    d.put("sl/WS10/default", "{}", 2_500).expect("put");
    d.put("other/WS1", "{}", 2_600).expect("put");
    assert!(b.revision > a.revision, "revisions grow");
    // Replacing keeps one document under the key, with the new body and a newer revision.
    let a2 = d.put("sl/WS1/default", r#"{"t":30}"#, 3_000).expect("replace");
    assert!(a2.revision > b.revision);
    assert_eq!(d.get("sl/WS1/default").expect("get"), Some(a2.clone()));
    // Listing is by prefix, in byte order of the keys ("WQ2" < "default").
    let keys: Vec<String> = d.list("sl/WS1/").expect("list").into_iter().map(|x| x.key).collect();
    assert_eq!(keys, ["sl/WS1/WQ2", "sl/WS1/default"]);
    assert_eq!(d.list("sl/").expect("list").len(), 3);
    assert_eq!(d.list("").expect("list").len(), 4);
    // A prefix is matched literally (no pattern characters).
    assert!(d.list("sl/WS1/%").expect("list").is_empty());
    assert!(d.list("sl/WS1/_").expect("list").is_empty());
    let before = d.revision().expect("revision");
    assert!(d.delete("sl/WS1/WQ2").expect("delete"));
    assert!(d.revision().expect("revision") > before, "a delete moves the revision");
    let after = d.revision().expect("revision");
    assert!(!d.delete("sl/WS1/WQ2").expect("delete again"), "nothing to delete");
    assert_eq!(d.revision().expect("revision"), after, "a delete of nothing changes nothing");
    assert_eq!(d.get("sl/WS1/WQ2").expect("get"), None);
}

pub(crate) fn documents_are_shared_between_connections<H: Harness>() {
    let h = H::fresh();
    let (mut a, b) = (h.documents(), h.documents());
    let doc = a.put("k", "v1", 5).expect("put");
    assert_eq!(b.get("k").expect("get"), Some(doc));
    assert_eq!(b.revision().expect("revision"), a.revision().expect("revision"));
    drop(a);
    // A new connection (a restart) finds what was stored.
    let mut c = h.documents();
    assert_eq!(c.get("k").expect("get").map(|d| d.body), Some("v1".to_owned()));
    assert!(c.delete("k").expect("delete"));
    assert_eq!(b.get("k").expect("get"), None);
}
