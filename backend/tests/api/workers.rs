//! Workers: the list with every filter, the instance, a worker's channels, and the
//! workers' statistics, over the floor of [`super::queues`] (numbers worked out there and below).
//!
//! At 18:00Z: alice Available since 10 s (voice capacity 1 with T3 assigned → 0 % free;
//! chat capacity 3 → 100 %), bob on Break since 3000 s (voice capacity 2, channel
//! unavailable), carol Offline since 30 s; dave deleted. One reservation was created and
//! accepted during the day (alice's, for T3).

use reqwest::StatusCode;
use serde_json::{Value, json};
use wallboard_shared::workers::{
    Worker, WorkerChannel, WorkerChannelPage, WorkerInstanceStatistics, WorkerPage, WorkersCumulativeStatistics,
    WorkersRealTimeStatistics, WorkersStatistics,
};

use super::helpers::{Form, TestApp};
use super::queues::{
    alice, available, bob, brk, broken_q, carol, chat, counts, dave, floor_app, fw, main_wf, offline, path,
    per_activity, sales_q, sid, support_q, task, urlencode, vip_q, voice,
};
use super::scenario::{D, NOW};
use super::schema::{floor_schema, nested, validate};

fn names(page: &WorkerPage) -> Vec<&str> {
    page.workers.iter().map(|w| w.friendly_name.as_str()).collect()
}

#[tokio::test]
async fn workers_are_listed_with_every_filter() {
    let app = floor_app().await;
    let all: WorkerPage = app.get_json(&path("Workers")).await;
    assert_eq!(names(&all), ["alice", "bob", "carol"]);
    assert!(all.workers.iter().all(|w| w.attributes.is_none()), "lists carry no attributes");
    let bob_w = &all.workers[1];
    assert_eq!((bob_w.activity_name.as_deref(), bob_w.available), (Some("Break"), false));
    assert_eq!(bob_w.activity_sid.as_ref().map(|s| s.to_string()), Some(brk()));
    assert_eq!(bob_w.date_status_changed.map(|d| d.timestamp_millis()), Some(D + 3_000_000));

    let cases: Vec<(String, Vec<&str>)> = vec![
        ("Available=true".into(), vec!["alice"]),
        ("Available=0".into(), vec!["bob", "carol"]),
        ("ActivityName=Break".into(), vec!["bob"]),
        (format!("ActivitySid={}", offline()), vec!["carol"]),
        ("FriendlyName=bob".into(), vec!["bob"]),
        (format!("TaskQueueSid={}", vip_q()), vec!["carol"]),
        ("TaskQueueName=Support".into(), vec!["alice", "bob"]),
        (format!("TaskQueueSid={}", broken_q()), vec![]),
        (format!("TaskQueueSid={}", sid("WQ", 0x999)), vec![]),
        (format!("TargetWorkersExpression={}", urlencode("level >= 3")), vec!["alice", "carol"]),
        (format!("TargetWorkersExpression={}", urlencode("activity_name == 'Break'")), vec!["bob"]),
        ("Ordering=ActivityName:desc".into(), vec!["carol", "bob", "alice"]),
        ("Ordering=DateStatusChanged:desc".into(), vec!["bob", "carol", "alice"]),
    ];
    for (query, expected) in cases {
        let page: WorkerPage = app.get_json(&path(&format!("Workers?{query}"))).await;
        assert_eq!(names(&page), expected, "{query}");
    }
    let first: WorkerPage = app.get_json(&path("Workers?Available=false&PageSize=1")).await;
    assert_eq!(names(&first), ["bob"]);
    let next = first.meta.next_page_url.expect("a next page");
    assert!(next.contains("Available=false") && next.ends_with("PageSize=1&Page=1"), "{next}");

    for bad in [
        format!("Workers?TargetWorkersExpression={}", urlencode("level >=")),
        "Workers?TaskQueueSid=WQ1".into(),
        "Workers?Ordering=Color:asc".into(),
        "Workers?PageSize=1001".into(),
    ] {
        let (status, e) = app.get_error(&path(&bad)).await;
        assert_eq!((status, e.code), (StatusCode::BAD_REQUEST, 20001), "{bad}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_worker_and_its_channels() {
    let app = floor_app().await;
    let w: Worker = app.get_json(&path(&format!("Workers/{}", alice()))).await;
    let attrs: Value = serde_json::from_str(w.attributes.as_deref().expect("attributes on fetch")).expect("JSON");
    assert_eq!(attrs, json!({"skills": ["sales", "support"], "level": 3}));
    assert_eq!((w.activity_sid.map(|s| s.to_string()), w.available), (Some(available()), true));
    assert_eq!(w.date_created.map(|d| d.timestamp_millis()), Some(D + 10_000));
    let (status, e) = app.get_error(&path(&format!("Workers/{}", dave()))).await;
    assert_eq!((status, e.code), (StatusCode::NOT_FOUND, 20404));

    let list: WorkerChannelPage = app.get_json(&path(&format!("Workers/{}/Channels", alice()))).await;
    assert_eq!(channel_rows(&list), [("voice", 1, 1, 0, true), ("chat", 3, 0, 100, true)]);
    assert_eq!(list.meta.key, "channels");
    let wc = list.channels[0].sid.to_string();
    for name in [wc.clone(), voice(), "voice".into()] {
        let c: WorkerChannel = app.get_json(&path(&format!("Workers/{}/Channels/{name}", alice()))).await;
        assert_eq!((c.sid.to_string(), c.task_channel_sid.to_string()), (wc.clone(), voice()), "{name}");
        assert_eq!(c.url, format!("{}{}", app.base, path(&format!("Workers/{}/Channels/{wc}", alice()))));
    }
    let bobs: WorkerChannelPage = app.get_json(&path(&format!("Workers/{}/Channels", bob()))).await;
    let b = &bobs.channels[0];
    assert_eq!((b.configured_capacity, b.available, b.available_capacity_percentage), (2, false, 100));
    let (status, _) = app.get_error(&path(&format!("Workers/{}/Channels/sms", alice()))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.get_error(&path(&format!("Workers/{}/Channels", dave()))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn workers_statistics_are_the_hand_worked_ones() {
    let app = floor_app().await;
    let v = app.get_ok(&path("Workers/RealTimeStatistics")).await;
    let rt: WorkersRealTimeStatistics = serde_json::from_value(v.clone()).expect("decode");
    assert_eq!(rt.stats.total_workers, 3);
    assert_eq!(per_activity(&v["activity_statistics"]), counts(&[("Available", 1), ("Break", 1), ("Offline", 1)]));

    let c: WorkersCumulativeStatistics = app.get_json(&path("Workers/CumulativeStatistics?StartDate=2026-11-27")).await;
    assert_eq!((c.stats.reservations_created, c.stats.reservations_accepted), (1, 1));
    assert_eq!(c.stats.reservations_rejected + c.stats.reservations_timed_out + c.stats.reservations_canceled, 0);
    // Time in each activity from midnight to 18:00Z (stays clipped to the window), by hand:
    // Available: alice 10 s..36000 s (35990) + bob 20..3000 (2980) + dave 40..500 (460) = 39430;
    // Break: bob 3000..36000 = 33000; Offline: carol 30..36000 = 35970.
    let durations: Vec<(&str, u64, u64, u64)> =
        c.stats.activity_durations.iter().map(|a| (a.friendly_name.as_str(), a.total, a.min, a.max)).collect();
    assert_eq!(
        durations,
        [("Available", 39430, 460, 35990), ("Break", 33000, 33000, 33000), ("Offline", 35970, 35970, 35970)]
    );

    let s: WorkersStatistics = app.get_json(&path("Workers/Statistics?Minutes=600")).await;
    assert_eq!((s.realtime.total_workers, s.cumulative.reservations_accepted), (3, 1));
    assert_eq!(s.cumulative.start_time.timestamp_millis(), NOW - 36_000_000);

    let filtered = [
        (format!("TaskQueueSid={}", support_q()), 2, [("Available", 1), ("Break", 1), ("Offline", 0)]),
        ("TaskQueueName=Sales".into(), 3, [("Available", 1), ("Break", 1), ("Offline", 1)]),
        ("FriendlyName=carol".into(), 1, [("Available", 0), ("Break", 0), ("Offline", 1)]),
        (
            format!("TaskQueueSid={}&FriendlyName=alice", support_q()),
            1,
            [("Available", 1), ("Break", 0), ("Offline", 0)],
        ),
        ("TaskQueueName=Nope".into(), 0, [("Available", 0), ("Break", 0), ("Offline", 0)]),
    ];
    for (query, total, per) in filtered {
        let v = app.get_ok(&path(&format!("Workers/Statistics?{query}"))).await;
        assert_eq!(v["realtime"]["total_workers"].as_u64(), Some(total), "{query}");
        assert_eq!(per_activity(&v["realtime"]["activity_statistics"]), counts(&per), "{query}");
    }

    let one: WorkerInstanceStatistics =
        app.get_json(&path(&format!("Workers/{}/Statistics?Minutes=30", alice()))).await;
    assert_eq!(one.cumulative.start_time.timestamp_millis(), NOW - 1_800_000);
    assert_eq!(one.worker_sid.to_string(), alice());
    assert_eq!(one.url, format!("{}{}", app.base, path(&format!("Workers/{}/Statistics", alice()))));

    for bad in [
        "Workers/Statistics?TaskQueueSid=WQ1".to_owned(),
        "Workers/Statistics?FriendlyName=a&FriendlyName=b".into(),
        "Workers/CumulativeStatistics?Minutes=0".into(),
        "Workers/RealTimeStatistics?TaskChannel=fax".into(),
        format!("Workers/{}/Statistics?EndDate=yesterday", alice()),
    ] {
        let (status, e) = app.get_error(&path(&bad)).await;
        assert_eq!((status, e.code), (StatusCode::BAD_REQUEST, 20001), "{bad}");
    }
    let (status, e) = app.get_error(&path(&format!("Workers/{}/Statistics", dave()))).await;
    assert_eq!((status, e.code), (StatusCode::NOT_FOUND, 20404));
    app.stop().await;
}

/// Events added to the floor's day (times in seconds after D = 08:00Z): reservations with
/// every outcome for alice, bob and carol, and activity changes.
/// - T6 voice in Support, created 5000 s: bob's R2 created 5010, rejected 5020; alice's R3
///   created 5030, timed out 5045; bob's R4 created 5050, accepted 5060; completed 5500.
/// - T7 chat in Sales, created 6000 s: carol's R5 created 6010, canceled 6020; alice's R6
///   created 6011, rescinded 6021; alice's R7 created 6030, accepted 6040.
/// - alice Available → Break at 7000 s, back to Available at 7600 s; carol Offline →
///   Available at 8000 s.
///
/// With the day's R1 (alice, T3 voice: created 1600, accepted 1610), per worker over the
/// whole day (created, accepted, rejected, timed out, canceled, rescinded):
/// - alice: R1, R3, R6, R7 = [4, 2, 0, 1, 0, 1] (voice: R1, R3 = [2, 1, 0, 1, 0, 0];
///   chat: R6, R7 = [2, 1, 0, 0, 0, 1]);
/// - bob: R2, R4 = [2, 1, 1, 0, 0, 0] (all voice);
/// - carol: R5 = [1, 0, 0, 0, 1, 0] (chat);
/// - everybody: [7, 3, 1, 1, 1, 1]; on chat: R5, R6, R7 = [3, 1, 0, 0, 1, 1].
fn outcomes_day() -> Vec<Form> {
    let mut seq = 0x7000;
    let mut ev = |event_type: &str, at_s: i64| {
        seq += 1;
        Form::new(event_type, seq, D + at_s * 1000, &fw())
    };
    let mut forms = Vec::new();
    let tasks = [(6, support_q(), (voice(), "voice")), (7, sales_q(), (chat(), "chat"))];
    let task_ev = |f: Form, n: u32| {
        let (_, queue, channel) = tasks.iter().find(|t| t.0 == n).expect("a scripted task").clone();
        f.with("TaskSid", task(n))
            .with("WorkflowSid", main_wf())
            .with("WorkflowName", "Main")
            .with("TaskPriority", 0)
            .with("TaskAttributes", "{}")
            .with("TaskAssignmentStatus", "pending")
            .with("TaskQueueSid", queue)
            .with("TaskChannelSid", channel.0)
            .with("TaskChannelUniqueName", channel.1)
    };
    for (n, at) in [(6, 5000), (7, 6000)] {
        forms.push(task_ev(ev("task.created", at), n));
        forms.push(task_ev(ev("workflow.entered", at), n));
    }
    let reservations = [
        (6, 0xe2, bob(), "bob", [("reservation.created", 5010), ("reservation.rejected", 5020)]),
        (6, 0xe3, alice(), "alice", [("reservation.created", 5030), ("reservation.timeout", 5045)]),
        (6, 0xe4, bob(), "bob", [("reservation.created", 5050), ("reservation.accepted", 5060)]),
        (7, 0xe5, carol(), "carol", [("reservation.created", 6010), ("reservation.canceled", 6020)]),
        (7, 0xe6, alice(), "alice", [("reservation.created", 6011), ("reservation.rescinded", 6021)]),
        (7, 0xe7, alice(), "alice", [("reservation.created", 6030), ("reservation.accepted", 6040)]),
    ];
    for (n, r, worker, name, events) in reservations {
        for (t, at) in events {
            let f = task_ev(ev(t, at), n)
                .with("ReservationSid", sid("WR", r))
                .with("WorkerSid", worker.clone())
                .with("WorkerName", name);
            forms.push(f);
        }
    }
    forms.push(task_ev(ev("task.completed", 5500), 6));
    let changes = [
        (7000, alice(), (brk(), "Break"), (available(), 6990)),
        (7600, alice(), (available(), "Available"), (brk(), 600)),
        (8000, carol(), (available(), "Available"), (offline(), 7970)),
    ];
    for (at, worker, (to, to_name), (from, secs)) in changes {
        let f = ev("worker.activity.update", at)
            .with("WorkerSid", worker)
            .with("WorkerActivitySid", to)
            .with("WorkerActivityName", to_name)
            .with("WorkerPreviousActivitySid", from)
            .with("WorkerTimeInPreviousActivity", secs);
        forms.push(f);
    }
    forms
}

/// The floor's day and [`outcomes_day`], at 18:00Z.
async fn outcomes_app() -> TestApp {
    let app = floor_app().await;
    for f in outcomes_day() {
        assert_eq!(app.post_event(&f.0).await, StatusCode::NO_CONTENT, "event {:?}", f.0);
    }
    app
}

/// (created, accepted, rejected, timed out, canceled, rescinded) of a cumulative body.
fn reservations(c: &Value) -> [u64; 6] {
    ["created", "accepted", "rejected", "timed_out", "canceled", "rescinded"]
        .map(|k| c[format!("reservations_{k}")].as_u64().unwrap_or_else(|| panic!("reservations_{k} in {c}")))
}

/// (name, [avg, min, max, total]) of `activity_durations`.
fn durations(c: &Value) -> Vec<(String, [u64; 4])> {
    c["activity_durations"]
        .as_array()
        .expect("activity_durations is an array")
        .iter()
        .map(|a| {
            let n = |k: &str| a[k].as_u64().unwrap_or_else(|| panic!("{k} in {a}"));
            (a["friendly_name"].as_str().expect("name").to_owned(), [n("avg"), n("min"), n("max"), n("total")])
        })
        .collect()
}

fn row(name: &str, d: [u64; 4]) -> (String, [u64; 4]) {
    (name.to_owned(), d)
}

#[tokio::test]
async fn workers_cumulative_statistics_per_worker_and_per_set_by_hand() {
    let app = outcomes_app().await;
    let day = "StartDate=2026-11-27";
    let one_schema = floor_schema("worker.worker_instance_statistics");
    let set_schema = floor_schema("worker.worker_statistics");
    let cum_schema = floor_schema("worker.workers_cumulative_statistics");
    let rt_schema = floor_schema("worker.workers_real_time_statistics");
    let one = |v: &Value, what: &str| {
        validate(one_schema, v, what);
        validate(&nested(cum_schema), &v["cumulative"], what);
    };
    let set = |v: &Value, what: &str| {
        validate(set_schema, v, what);
        validate(&nested(cum_schema), &v["cumulative"], what);
        validate(&nested(rt_schema), &v["realtime"], what);
    };

    // alice over the day (midnight to 18:00Z = 36000 s after D): created at 10 s Available;
    // Available 10..7000 (6990 s) and 7600..36000 (28400 s): avg 35390 / 2 = 17695;
    // Break 7000..7600 (600 s).
    let rest = format!("Workers/{}/Statistics?{day}", alice());
    let v = app.get_ok(&path(&rest)).await;
    one(&v, &rest);
    assert_eq!(reservations(&v["cumulative"]), [4, 2, 0, 1, 0, 1]);
    assert_eq!(
        durations(&v["cumulative"]),
        [row("Available", [17695, 6990, 28400, 35390]), row("Break", [600; 4]), row("Offline", [0; 4])]
    );
    let typed: WorkerInstanceStatistics = serde_json::from_value(v).expect("decode");
    assert_eq!(typed.cumulative.start_time.timestamp_millis(), D - 8 * 3_600_000);
    // Her reservations by channel; the time in each activity is not per channel.
    let v = app.get_ok(&path(&format!("{rest}&TaskChannel=chat"))).await;
    assert_eq!(reservations(&v["cumulative"]), [2, 1, 0, 0, 0, 1]);
    assert_eq!(durations(&v["cumulative"])[1], row("Break", [600; 4]));
    let v = app.get_ok(&path(&format!("{rest}&TaskChannel={}", voice()))).await;
    assert_eq!(reservations(&v["cumulative"]), [2, 1, 0, 1, 0, 0]);
    // Window edges, inclusive: 09:23:50Z (5030 s, R3 created) to 09:40:21Z (6021 s, R6
    // rescinded) holds R3 created and timed out, R6 created and rescinded, not R7 (6030 s);
    // alice was Available all along: one stay of 991 s.
    let edges = format!("Workers/{}/Statistics?StartDate=2026-11-27T09:23:50Z&EndDate=2026-11-27T09:40:21Z", alice());
    let v = app.get_ok(&path(&edges)).await;
    one(&v, &edges);
    assert_eq!(reservations(&v["cumulative"]), [2, 0, 0, 1, 0, 1]);
    assert_eq!(durations(&v["cumulative"])[0], row("Available", [991; 4]));
    // One second later at the start and earlier at the end: R3's creation and R6's
    // rescission fall out.
    let inner = format!("Workers/{}/Statistics?StartDate=2026-11-27T09:23:51Z&EndDate=2026-11-27T09:40:20Z", alice());
    assert_eq!(reservations(&app.get_ok(&path(&inner)).await["cumulative"]), [1, 0, 0, 1, 0, 0]);

    // bob: R2 rejected, R4 accepted; Available 20..3000 (2980 s), Break since 3000 s (33000 s).
    let v = app.get_ok(&path(&format!("Workers/{}/Statistics?{day}", bob()))).await;
    assert_eq!(reservations(&v["cumulative"]), [2, 1, 1, 0, 0, 0]);
    assert_eq!(
        durations(&v["cumulative"]),
        [row("Available", [2980; 4]), row("Break", [33000; 4]), row("Offline", [0; 4])]
    );

    // Support's workers are alice and bob: their reservations and stays added up.
    // Available: 6990, 28400 (alice), 2980 (bob) = 38370 over 3 stays, avg 12790;
    // Break: 600 (alice), 33000 (bob) = 33600 over 2, avg 16800.
    let rest = format!("Workers/Statistics?{day}&TaskQueueSid={}", support_q());
    let v = app.get_ok(&path(&rest)).await;
    set(&v, &rest);
    assert_eq!(v["realtime"]["total_workers"].as_u64(), Some(2));
    assert_eq!(reservations(&v["cumulative"]), [6, 3, 1, 1, 0, 1]);
    assert_eq!(
        durations(&v["cumulative"]),
        [
            row("Available", [12790, 2980, 28400, 38370]),
            row("Break", [16800, 600, 33000, 33600]),
            row("Offline", [0; 4])
        ]
    );
    // carol alone: R5 canceled; Offline 30..8000 (7970 s), Available since 8000 s (28000 s).
    let rest = format!("Workers/Statistics?{day}&FriendlyName=carol");
    let v = app.get_ok(&path(&rest)).await;
    set(&v, &rest);
    assert_eq!(reservations(&v["cumulative"]), [1, 0, 0, 0, 1, 0]);
    assert_eq!(
        durations(&v["cumulative"]),
        [row("Available", [28000; 4]), row("Break", [0; 4]), row("Offline", [7970; 4])]
    );
    // Sales' workers (alice, bob, carol) on voice: alice's R1, R3 and bob's R2, R4; the
    // realtime counts are per worker, not per channel: still 3.
    let rest = format!("Workers/Statistics?{day}&TaskQueueName=Sales&TaskChannel=voice");
    let v = app.get_ok(&path(&rest)).await;
    set(&v, &rest);
    assert_eq!(v["realtime"]["total_workers"].as_u64(), Some(3));
    assert_eq!(reservations(&v["cumulative"]), [4, 2, 1, 1, 0, 0]);
    // A queue filter naming no queue: nobody, every activity at zero.
    let v = app.get_ok(&path(&format!("Workers/Statistics?{day}&TaskQueueName=Nope"))).await;
    assert_eq!(reservations(&v["cumulative"]), [0; 6]);
    assert_eq!(durations(&v["cumulative"]), [row("Available", [0; 4]), row("Break", [0; 4]), row("Offline", [0; 4])]);

    // All workers: [7, 3, 1, 1, 1, 1]; Available adds carol's 28000 s and dave's 40..500
    // (460 s) to Support's 38370 = 66830 over 5 stays (avg 13366); Offline: carol 7970.
    let v = app.get_ok(&path(&format!("Workers/Statistics?{day}"))).await;
    assert_eq!(reservations(&v["cumulative"]), [7, 3, 1, 1, 1, 1]);
    assert_eq!(
        durations(&v["cumulative"]),
        [
            row("Available", [13366, 460, 28400, 66830]),
            row("Break", [16800, 600, 33000, 33600]),
            row("Offline", [7970; 4])
        ]
    );
    // CumulativeStatistics takes no worker filter (Twilio's reference has none): TaskQueueSid
    // and FriendlyName are ignored like any unknown parameter; TaskChannel narrows the
    // reservations to chat's R5, R6, R7.
    let rest = format!("Workers/CumulativeStatistics?{day}&TaskQueueSid={}&FriendlyName=carol", support_q());
    let v = app.get_ok(&path(&rest)).await;
    validate(cum_schema, &v, &rest);
    assert_eq!(reservations(&v), [7, 3, 1, 1, 1, 1]);
    let rest = format!("Workers/CumulativeStatistics?{day}&TaskChannel=chat");
    let v = app.get_ok(&path(&rest)).await;
    validate(cum_schema, &v, &rest);
    assert_eq!(reservations(&v), [3, 1, 0, 0, 1, 1]);
    assert_eq!(durations(&v)[2], row("Offline", [7970; 4]));

    // A WebSocket workers target with a task channel means what TaskChannel means on REST:
    // chat's reservations (R5, R6, R7), every worker counted (alice, bob, carol).
    let mut ws = app.ws_token(&app.admin_token).await;
    let subscribe = json!({"type": "subscribe", "id": "k", "workspace_sid": fw(), "target": {"kind": "workers"},
        "task_channel": "chat", "cumulative": {"start_date": "2026-11-27"}});
    ws.send(&subscribe).await;
    let snap = ws.snapshot("k").await;
    assert_eq!(snap.realtime.as_workers().map(|r| r.stats.total_workers), Some(3));
    let c = snap.cumulative.as_ref().and_then(|c| c.as_workers()).expect("the cumulative part");
    let pushed = serde_json::to_value(&c.stats).expect("JSON");
    assert_eq!(reservations(&pushed), [3, 1, 0, 0, 1, 1]);

    // Errors: an unknown or malformed worker is 404, bad parameters 400, in Twilio's format.
    for wk in [sid("WK", 0x999), "WK1".into(), dave()] {
        let (status, e) = app.get_error(&path(&format!("Workers/{wk}/Statistics"))).await;
        assert_eq!((status, e.code), (StatusCode::NOT_FOUND, 20404), "{wk}");
    }
    for bad in [
        format!("Workers/{}/Statistics?TaskChannel=fax", alice()),
        format!("Workers/{}/Statistics?Minutes=0", alice()),
        format!("Workers/{}/Statistics?StartDate=2026-11-27T10:00:00Z&EndDate=2026-11-27T09:00:00Z", alice()),
        format!("Workers/{}/Statistics?StartDate=2020-01-01", alice()),
        "Workers/Statistics?TaskChannel=fax&FriendlyName=carol".into(),
        "Workers/Statistics?TaskQueueName=Sales&TaskQueueName=Support".into(),
        "Workers/CumulativeStatistics?TaskChannel=fax".into(),
    ] {
        let (status, e) = app.get_error(&path(&bad)).await;
        assert_eq!((status, e.code), (StatusCode::BAD_REQUEST, 20001), "{bad}");
    }
    app.stop().await;
}

/// (channel, configured capacity, assigned tasks, available capacity %, available) per channel.
pub fn channel_rows(page: &WorkerChannelPage) -> Vec<(&str, u32, u32, u32, bool)> {
    page.channels
        .iter()
        .map(|c| {
            let name = c.task_channel_unique_name.as_str();
            (name, c.configured_capacity, c.assigned_tasks, c.available_capacity_percentage, c.available)
        })
        .collect()
}
