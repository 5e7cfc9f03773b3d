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

use super::queues::{
    alice, available, bob, brk, broken_q, counts, dave, floor_app, offline, path, per_activity, sid, support_q,
    urlencode, vip_q, voice,
};
use super::scenario::{D, NOW};

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
    let rows: Vec<(&str, u32, u32, u32, bool)> = list
        .channels
        .iter()
        .map(|c| {
            let name = c.task_channel_unique_name.as_str();
            (name, c.configured_capacity, c.assigned_tasks, c.available_capacity_percentage, c.available)
        })
        .collect();
    assert_eq!(rows, [("voice", 1, 1, 0, true), ("chat", 3, 0, 100, true)]);
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
