//! TaskQueues: the list and instance, each queue's statistics, the paged statistics list
//! and the bulk realtime POST, over a scripted floor ([`floor_day`]) whose numbers are
//! worked out by hand below; errors, paging and token scope.
//!
//! The floor (workspace FW, one workflow "Main"; day D from 08:00Z, now 18:00Z = D+36000 s):
//! - Activities: Available (available), Break, Offline (unavailable).
//! - Queues (created in this order, 5–9 s): Sales `skills HAS 'sales'`, Support
//!   `skills HAS 'support'`, Broken `skills HAS` (malformed), VIP `level > 4`, Old (deleted at 9 s).
//! - Workers: alice {sales,support; level 3} Available, voice capacity 1 and chat 3;
//!   bob {support; level 1} Available, voice capacity 2 (unavailable channel), Break at 3000 s,
//!   attributes {support,sales; level 1} at 4000 s; carol {sales; level 5} Offline;
//!   dave created at 40 s and deleted at 500 s.
//! - Tasks: T1 voice p1 created 1000 s in Support, moved to Sales at 2700 s (pending);
//!   T2 chat p2 created 2000 s in Support, moved to Sales at 2500 s (pending);
//!   T3 voice p0 created 1500 s in Support, reserved for alice 1600 s, accepted 1610 s (assigned);
//!   T4 voice p0 created 3000 s in Sales, task-queue.timeout 3500 s (pending, in no queue);
//!   T5 chat p0 created 100 s in Support, canceled 200 s.
//!
//! Hand-worked realtime numbers at 18:00Z:
//! - Sales: T1 and T2 pending; by priority {1: 1, 2: 1}; longest waiting T1 (created 1000 s:
//!   36000 − 1000 = 35000 s); longest in queue T2 (entered 2500 s: 33500 s); eligible alice,
//!   bob (after 4000 s), carol = 3, available alice = 1; per activity Available 1, Break 1, Offline 1.
//!   Chat only: T2, waiting 34000 s, in queue 33500 s.
//! - Support: T3 assigned; eligible alice, bob = 2, available 1; Available 1, Break 1, Offline 0.
//! - Broken: no eligible workers, every activity 0. VIP: carol, eligible 1, available 0.

use reqwest::StatusCode;
use serde_json::{Value, json};
use wallboard::access::Scope;
use wallboard_shared::queues::{
    TaskQueue, TaskQueueBulkRealTimeStatistics, TaskQueueCumulativeStatistics, TaskQueuePage,
    TaskQueueRealTimeStatistics, TaskQueueStatistics, TaskQueuesStatisticsPage,
};
use wallboard_shared::ws::Snapshot;
use wallboard_shared::{WorkflowSid, WorkspaceSid};

use super::helpers::{ACCOUNT_SID, AUTH_TOKEN, Form, TestApp, spawn_app};
use super::scenario::{D, NOW};

pub fn sid(prefix: &str, n: u32) -> String {
    format!("{prefix}{n:032x}")
}

pub fn fw() -> String {
    sid("WS", 0xf00)
}
pub fn main_wf() -> String {
    sid("WW", 0xf01)
}
pub fn voice() -> String {
    sid("TC", 0xf11)
}
pub fn chat() -> String {
    sid("TC", 0xf12)
}
pub fn available() -> String {
    sid("WA", 0xa1)
}
pub fn brk() -> String {
    sid("WA", 0xa2)
}
pub fn offline() -> String {
    sid("WA", 0xa3)
}
pub fn sales_q() -> String {
    sid("WQ", 0xb1)
}
pub fn support_q() -> String {
    sid("WQ", 0xb2)
}
pub fn broken_q() -> String {
    sid("WQ", 0xb3)
}
pub fn vip_q() -> String {
    sid("WQ", 0xb4)
}
pub fn old_q() -> String {
    sid("WQ", 0xb5)
}
pub fn alice() -> String {
    sid("WK", 0xc1)
}
pub fn bob() -> String {
    sid("WK", 0xc2)
}
pub fn carol() -> String {
    sid("WK", 0xc3)
}
pub fn dave() -> String {
    sid("WK", 0xc4)
}
pub fn task(n: u32) -> String {
    sid("WT", 0xd0 + n)
}

/// `/v1/Workspaces/{FW}/{rest}`
pub fn path(rest: &str) -> String {
    format!("/v1/Workspaces/{}/{rest}", fw())
}

struct Day {
    seq: u32,
    forms: Vec<Form>,
}

impl Day {
    fn ev(&mut self, event_type: &str, at_s: u32) -> Form {
        self.seq += 1;
        Form::new(event_type, 0xf000 + self.seq, D + i64::from(at_s) * 1000, &fw())
    }

    fn activity(&mut self, at_s: u32, sid: String, name: &str, is_available: bool) {
        let f = self
            .ev("activity.created", at_s)
            .with("ActivitySid", sid)
            .with("ActivityName", name)
            .with("ActivityAvailable", is_available);
        self.forms.push(f);
    }

    fn queue(&mut self, event_type: &str, at_s: u32, sid: String, name: &str, expression: &str) {
        let f = self
            .ev(event_type, at_s)
            .with("TaskQueueSid", sid)
            .with("TaskQueueName", name)
            .with("TaskQueueTargetExpression", expression);
        self.forms.push(f);
    }

    fn worker(&mut self, event_type: &str, at_s: u32, sid: String, name: &str, activity: (String, &str), attrs: &str) {
        let f = self
            .ev(event_type, at_s)
            .with("WorkerSid", sid)
            .with("WorkerName", name)
            .with("WorkerActivitySid", activity.0)
            .with("WorkerActivityName", activity.1)
            .with("WorkerAttributes", attrs);
        self.forms.push(f);
    }

    fn capacity(&mut self, at_s: u32, worker: String, channel: (String, &str), capacity: u32, is_available: bool) {
        let f = self
            .ev("worker.channel.capacity.update", at_s)
            .with("WorkerSid", worker)
            .with("TaskChannelSid", channel.0)
            .with("TaskChannelUniqueName", channel.1)
            .with("WorkerChannelCapacity", capacity)
            .with("WorkerChannelAvailable", is_available);
        self.forms.push(f);
    }

    #[allow(clippy::too_many_arguments)]
    fn task(
        &mut self,
        event_type: &str,
        at_s: u32,
        n: u32,
        queue: String,
        channel: (String, &str),
        priority: u32,
    ) -> Form {
        self.ev(event_type, at_s)
            .with("TaskSid", task(n))
            .with("WorkflowSid", main_wf())
            .with("WorkflowName", "Main")
            .with("TaskPriority", priority)
            .with("TaskAttributes", "{}")
            .with("TaskAssignmentStatus", "pending")
            .with("TaskQueueSid", queue)
            .with("TaskChannelSid", channel.0)
            .with("TaskChannelUniqueName", channel.1)
    }

    fn push_task(
        &mut self,
        event_type: &str,
        at_s: u32,
        n: u32,
        queue: String,
        channel: (String, &str),
        priority: u32,
    ) {
        let f = self.task(event_type, at_s, n, queue, channel, priority);
        self.forms.push(f);
    }
}

/// The floor's events (see the module documentation), in time order.
pub fn floor_day() -> Vec<Form> {
    let mut d = Day { seq: 0, forms: Vec::new() };
    let v = || (voice(), "voice");
    let c = || (chat(), "chat");
    d.activity(1, available(), "Available", true);
    d.activity(2, brk(), "Break", false);
    d.activity(3, offline(), "Offline", false);
    d.queue("task-queue.created", 5, sales_q(), "Sales", "skills HAS 'sales'");
    d.queue("task-queue.created", 6, support_q(), "Support", "skills HAS 'support'");
    d.queue("task-queue.created", 7, broken_q(), "Broken", "skills HAS");
    d.queue("task-queue.created", 8, vip_q(), "VIP", "level > 4");
    d.queue("task-queue.created", 8, old_q(), "Old", "1==1");
    d.queue("task-queue.deleted", 9, old_q(), "Old", "1==1");
    let alice_attrs = r#"{"skills":["sales","support"],"level":3}"#;
    d.worker("worker.created", 10, alice(), "alice", (available(), "Available"), alice_attrs);
    d.capacity(11, alice(), v(), 1, true);
    d.capacity(12, alice(), c(), 3, true);
    d.worker("worker.created", 20, bob(), "bob", (available(), "Available"), r#"{"skills":["support"],"level":1}"#);
    d.capacity(21, bob(), v(), 2, false);
    d.worker("worker.created", 30, carol(), "carol", (offline(), "Offline"), r#"{"skills":["sales"],"level":5}"#);
    d.worker("worker.created", 40, dave(), "dave", (available(), "Available"), r#"{"skills":["sales"],"level":2}"#);
    d.worker("worker.deleted", 500, dave(), "dave", (available(), "Available"), r#"{"skills":["sales"],"level":2}"#);

    d.push_task("task.created", 100, 5, support_q(), c(), 0);
    d.push_task("workflow.entered", 100, 5, support_q(), c(), 0);
    d.push_task("task.canceled", 200, 5, support_q(), c(), 0);

    d.push_task("task.created", 1000, 1, support_q(), v(), 1);
    d.push_task("workflow.entered", 1000, 1, support_q(), v(), 1);

    d.push_task("task.created", 1500, 3, support_q(), v(), 0);
    d.push_task("workflow.entered", 1500, 3, support_q(), v(), 0);
    for (t, at) in [("reservation.created", 1600), ("reservation.accepted", 1610)] {
        let f = d
            .task(t, at, 3, support_q(), v(), 0)
            .with("ReservationSid", sid("WR", 0xe1))
            .with("WorkerSid", alice())
            .with("WorkerName", "alice")
            .with("WorkerAttributes", alice_attrs);
        d.forms.push(f);
    }

    d.push_task("task.created", 2000, 2, support_q(), c(), 2);
    d.push_task("workflow.entered", 2000, 2, support_q(), c(), 2);
    d.push_task("task-queue.moved", 2500, 2, sales_q(), c(), 2);
    d.push_task("task-queue.moved", 2700, 1, sales_q(), v(), 1);

    d.worker("worker.activity.update", 3000, bob(), "bob", (brk(), "Break"), r#"{"skills":["support"],"level":1}"#);
    d.push_task("task.created", 3000, 4, sales_q(), v(), 0);
    d.push_task("workflow.entered", 3000, 4, sales_q(), v(), 0);
    d.push_task("task-queue.timeout", 3500, 4, sales_q(), v(), 0);
    d.worker(
        "worker.attributes.update",
        4000,
        bob(),
        "bob",
        (brk(), "Break"),
        r#"{"skills":["support","sales"],"level":1}"#,
    );
    d.forms
}

/// A server at 18:00Z holding the floor's day.
pub async fn floor_app() -> TestApp {
    let app = spawn_app(NOW).await;
    for f in floor_day() {
        assert_eq!(app.post_event(&f.0).await, StatusCode::NO_CONTENT, "event {:?}", f.0);
    }
    app
}

/// POST with the account's credentials; returns status and JSON body.
pub async fn post(app: &TestApp, path: &str, content_type: &str, body: String) -> (StatusCode, Value) {
    let r = app
        .client
        .post(format!("{}{path}", app.base))
        .basic_auth(ACCOUNT_SID, Some(AUTH_TOKEN))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("request");
    let status = r.status();
    (status, r.json().await.expect("JSON body"))
}

/// `(friendly_name, workers)` of an `activity_statistics` list.
pub fn per_activity(v: &Value) -> Vec<(String, u64)> {
    v.as_array()
        .expect("activity_statistics is an array")
        .iter()
        .map(|a| (a["friendly_name"].as_str().expect("name").to_owned(), a["workers"].as_u64().expect("count")))
        .collect()
}

pub fn counts(list: &[(&str, u64)]) -> Vec<(String, u64)> {
    list.iter().map(|(n, c)| ((*n).to_owned(), *c)).collect()
}

fn names(page: &TaskQueuePage) -> Vec<&str> {
    page.task_queues.iter().map(|q| q.friendly_name.as_str()).collect()
}

#[tokio::test]
async fn queues_are_listed_filtered_ordered_and_paged_like_twilio() {
    let app = floor_app().await;
    let list: TaskQueuePage = app.get_json(&path("TaskQueues")).await;
    // First seen, then SID; Old was deleted.
    assert_eq!(names(&list), ["Sales", "Support", "Broken", "VIP"]);
    assert_eq!(list.meta.key, "task_queues");
    assert_eq!(list.meta.next_page_url, None);
    let sales = &list.task_queues[0];
    assert_eq!(sales.sid.as_str(), sales_q());
    assert_eq!(sales.target_workers.as_deref(), Some("skills HAS 'sales'"));
    assert_eq!(sales.url, format!("{}{}", app.base, path(&format!("TaskQueues/{}", sales_q()))));
    assert_eq!(
        sales.links.get("real_time_statistics"),
        Some(&format!("{}{}", app.base, path(&format!("TaskQueues/{}/RealTimeStatistics", sales_q()))))
    );

    let by_name: TaskQueuePage = app.get_json(&path("TaskQueues?FriendlyName=Support")).await;
    assert_eq!(names(&by_name), ["Support"]);
    // A worker with only the support skill matches Support; Broken matches nobody; VIP
    // compares a missing level, which is false.
    let attrs = urlencode(r#"{"skills":["support"]}"#);
    let evaluated: TaskQueuePage = app.get_json(&path(&format!("TaskQueues?EvaluateWorkerAttributes={attrs}"))).await;
    assert_eq!(names(&evaluated), ["Support"]);
    let carols: TaskQueuePage = app.get_json(&path(&format!("TaskQueues?WorkerSid={}", carol()))).await;
    assert_eq!(names(&carols), ["Sales", "VIP"]);
    let ordered: TaskQueuePage = app.get_json(&path("TaskQueues?Ordering=FriendlyName:desc")).await;
    assert_eq!(names(&ordered), ["VIP", "Support", "Sales", "Broken"]);

    // Paging keeps the filters in absolute links.
    let first: TaskQueuePage = app.get_json(&path("TaskQueues?Ordering=FriendlyName:asc&PageSize=3")).await;
    assert_eq!(names(&first), ["Broken", "Sales", "Support"]);
    let next = first.meta.next_page_url.clone().expect("a second page");
    assert!(next.starts_with(&app.base), "{next}");
    assert!(next.contains("Ordering=FriendlyName%3Aasc") && next.contains("PageSize=3&Page=1"), "{next}");
    let second: TaskQueuePage = app.get_json(next.trim_start_matches(&app.base)).await;
    assert_eq!(names(&second), ["VIP"]);
    assert_eq!(second.meta.next_page_url, None);
    assert!(second.meta.previous_page_url.is_some());

    let one: TaskQueue = app.get_json(&path(&format!("TaskQueues/{}", vip_q()))).await;
    assert_eq!((one.friendly_name.as_str(), one.target_workers.as_deref()), ("VIP", Some("level > 4")));

    for bad in ["TaskQueues?PageSize=0", "TaskQueues?Ordering=Color:asc", "TaskQueues?WorkerSid=WK1"] {
        let (status, e) = app.get_error(&path(bad)).await;
        assert_eq!((status, e.code), (StatusCode::BAD_REQUEST, 20001), "{bad}");
    }
    for missing in
        [format!("TaskQueues/{}", old_q()), format!("TaskQueues/{}", sid("WQ", 0x999)), "TaskQueues/nope".into()]
    {
        let (status, e) = app.get_error(&path(&missing)).await;
        assert_eq!((status, e.code, e.status), (StatusCode::NOT_FOUND, 20404, 404), "{missing}");
    }
    app.stop().await;
}

pub fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("v", s)]).expect("encode").trim_start_matches("v=").to_owned()
}

#[tokio::test]
async fn queue_realtime_numbers_are_the_hand_worked_ones() {
    let app = floor_app().await;
    let rt = |q: String| path(&format!("TaskQueues/{q}/RealTimeStatistics"));
    let v = app.get_ok(&rt(sales_q())).await;
    let s: TaskQueueRealTimeStatistics = serde_json::from_value(v.clone()).expect("decode");
    assert_eq!((s.stats.tasks_by_status.pending, s.stats.total_tasks), (2, 2));
    assert_eq!(v["tasks_by_priority"], json!({"1": 1, "2": 1}));
    assert_eq!(s.stats.longest_task_waiting_age, 35_000);
    assert_eq!(s.stats.longest_task_waiting_sid.map(|t| t.to_string()), Some(task(1)));
    assert_eq!(s.stats.longest_relative_task_age_in_queue, 33_500);
    assert_eq!(s.stats.longest_relative_task_sid_in_queue.map(|t| t.to_string()), Some(task(2)));
    assert_eq!((s.stats.total_eligible_workers, s.stats.total_available_workers), (3, 1));
    assert_eq!(per_activity(&v["activity_statistics"]), counts(&[("Available", 1), ("Break", 1), ("Offline", 1)]));
    assert_eq!(s.url, format!("{}{}", app.base, rt(sales_q())));

    let chat: TaskQueueRealTimeStatistics = app.get_json(&format!("{}?TaskChannel=chat", rt(sales_q()))).await;
    assert_eq!((chat.stats.total_tasks, chat.stats.longest_task_waiting_age), (1, 34_000));
    assert_eq!(chat.stats.longest_relative_task_age_in_queue, 33_500);

    let v = app.get_ok(&rt(support_q())).await;
    assert_eq!(v["tasks_by_status"], json!({"pending": 0, "reserved": 0, "assigned": 1, "wrapping": 0}));
    assert_eq!((v["total_eligible_workers"].as_u64(), v["total_available_workers"].as_u64()), (Some(2), Some(1)));
    assert_eq!((v["longest_task_waiting_age"].as_u64(), v["longest_task_waiting_sid"].is_null()), (Some(0), true));
    assert_eq!(per_activity(&v["activity_statistics"]), counts(&[("Available", 1), ("Break", 1), ("Offline", 0)]));

    let v = app.get_ok(&rt(broken_q())).await;
    assert_eq!((v["total_eligible_workers"].as_u64(), v["total_tasks"].as_u64()), (Some(0), Some(0)));
    assert_eq!(per_activity(&v["activity_statistics"]), counts(&[("Available", 0), ("Break", 0), ("Offline", 0)]));
    let v = app.get_ok(&rt(vip_q())).await;
    assert_eq!((v["total_eligible_workers"].as_u64(), v["total_available_workers"].as_u64()), (Some(1), Some(0)));

    let (status, e) = app.get_error(&format!("{}?TaskChannel=fax", rt(sales_q()))).await;
    assert_eq!((status, e.code), (StatusCode::BAD_REQUEST, 20001));
    let (status, e) = app.get_error(&rt(sid("WQ", 0x999))).await;
    assert_eq!((status, e.code), (StatusCode::NOT_FOUND, 20404));
    app.stop().await;
}

#[tokio::test]
async fn queue_statistics_and_cumulative_keep_the_window_and_the_shape() {
    let app = floor_app().await;
    let base = path(&format!("TaskQueues/{}/", sales_q()));
    let c: TaskQueueCumulativeStatistics = app.get_json(&format!("{base}CumulativeStatistics?Minutes=60")).await;
    // Every task event of the day is in its first hour after 08:00Z: the last 60 minutes are empty.
    assert_eq!(c.stats.start_time.timestamp_millis(), NOW - 3_600_000);
    assert_eq!(c.stats.end_time.timestamp_millis(), NOW);
    assert_eq!((c.stats.tasks_entered, c.stats.split_by_wait_time), (0, None));
    // The whole day, by hand: Sales is entered by T2 (moved in at 2500 s), T1 (moved in at
    // 2700 s) and T4 (created in it at 3000 s); a move counts in the queue it leaves.
    let day = |q: String| format!("{}CumulativeStatistics?StartDate=2026-11-27", path(&format!("TaskQueues/{q}/")));
    let c: TaskQueueCumulativeStatistics = app.get_json(&day(sales_q())).await;
    assert_eq!((c.stats.tasks_entered, c.stats.tasks_moved, c.stats.tasks_canceled), (3, 0, 0));
    // Support: T5 (100 s, canceled at 200 s), T1 (1000 s), T3 (1500 s, accepted by alice at
    // 1610 s), T2 (2000 s); T1 and T2 moved out.
    let c: TaskQueueCumulativeStatistics = app.get_json(&day(support_q())).await;
    assert_eq!((c.stats.tasks_entered, c.stats.tasks_moved, c.stats.tasks_canceled), (4, 2, 1));
    assert_eq!((c.stats.reservations_created, c.stats.reservations_accepted), (1, 1));
    assert_eq!(c.stats.wait_duration_in_queue_until_accepted.total, 110);
    let v = app.get_ok(&format!("{base}CumulativeStatistics?SplitByWaitTime=30,10")).await;
    let split = &v["split_by_wait_time"];
    assert_eq!(split["10"]["below"], json!({"tasks_canceled": 0, "reservations_accepted": 0}), "{split}");
    assert!(split.get("30").is_some(), "{split}");

    let s: TaskQueueStatistics = app.get_json(&format!("{base}Statistics?StartDate=2026-11-27")).await;
    assert_eq!(s.realtime.total_tasks, 2);
    assert_eq!(s.cumulative.start_time.timestamp_millis(), D - 8 * 3_600_000);
    assert_eq!(s.task_queue_sid.as_str(), sales_q());

    for bad in ["Statistics?Minutes=abc", "CumulativeStatistics?SplitByWaitTime=-1", "Statistics?TaskChannel=fax"] {
        let (status, e) = app.get_error(&format!("{base}{bad}")).await;
        assert_eq!((status, e.code), (StatusCode::BAD_REQUEST, 20001), "{bad}");
    }
    app.stop().await;
}

#[tokio::test]
async fn the_statistics_list_pages_every_queue_and_filters_by_name() {
    let app = floor_app().await;
    let all: TaskQueuesStatisticsPage = app.get_json(&path("TaskQueues/Statistics")).await;
    let sids: Vec<String> = all.task_queues_statistics.iter().map(|q| q.task_queue_sid.to_string()).collect();
    assert_eq!(sids, [sales_q(), support_q(), broken_q(), vip_q()]);
    assert_eq!(all.meta.key, "task_queues_statistics");
    assert_eq!(all.task_queues_statistics[0].realtime.total_available_workers, 1);
    assert_eq!(all.task_queues_statistics[1].realtime.tasks_by_status.assigned, 1);

    let page: TaskQueuesStatisticsPage = app.get_json(&path("TaskQueues/Statistics?PageSize=3&Page=1")).await;
    assert_eq!(page.task_queues_statistics.len(), 1);
    assert_eq!(page.task_queues_statistics[0].task_queue_sid.as_str(), vip_q());
    assert_eq!(page.meta.url, format!("{}{}", app.base, path("TaskQueues/Statistics?PageSize=3&Page=1")));

    let vip: TaskQueuesStatisticsPage = app.get_json(&path("TaskQueues/Statistics?FriendlyName=VIP&Minutes=5")).await;
    assert_eq!(vip.task_queues_statistics.len(), 1);
    assert_eq!(vip.task_queues_statistics[0].realtime.total_eligible_workers, 1);
    assert_eq!(vip.task_queues_statistics[0].cumulative.start_time.timestamp_millis(), NOW - 300_000);

    let (status, e) = app.get_error(&path("TaskQueues/Statistics?FriendlyName=")).await;
    assert_eq!((status, e.code), (StatusCode::BAD_REQUEST, 20001));
    app.stop().await;
}

#[tokio::test]
async fn bulk_realtime_answers_the_asked_queues_in_order() {
    let app = floor_app().await;
    let url = path("TaskQueues/RealTimeStatistics");
    let form = format!("QueueSids={}&QueueSids={}", vip_q(), sales_q());
    let (status, v) = post(&app, &url, "application/x-www-form-urlencoded", form).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let bulk: TaskQueueBulkRealTimeStatistics = serde_json::from_value(v).expect("decode");
    let order: Vec<String> = bulk.task_queue_data.iter().map(|q| q.task_queue_sid.to_string()).collect();
    assert_eq!(order, [vip_q(), sales_q()]);
    assert_eq!(bulk.task_queue_response_count, 2);
    assert_eq!((bulk.task_queue_data[1].total_tasks, bulk.task_queue_data[1].longest_task_waiting_age), (2, 35_000));
    assert_eq!(bulk.url, format!("{}{url}", app.base));

    let json_body = json!({"QueueSids": [support_q()]}).to_string();
    let (status, v) = post(&app, &url, "application/json", json_body).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["task_queue_data"][0]["tasks_by_status"]["assigned"], 1);

    let too_many = (0..51).map(|n| format!("QueueSids={}", sid("WQ", 0x100 + n))).collect::<Vec<_>>().join("&");
    for (body, code) in [
        (String::new(), StatusCode::BAD_REQUEST),
        (too_many, StatusCode::BAD_REQUEST),
        ("QueueSids=WQ1".into(), StatusCode::BAD_REQUEST),
        (format!("QueueSids={}", sid("WQ", 0x999)), StatusCode::NOT_FOUND),
    ] {
        let (status, v) = post(&app, &url, "application/x-www-form-urlencoded", body.clone()).await;
        assert_eq!(status, code, "{body}: {v}");
        assert_eq!(v["status"].as_u64(), Some(u64::from(code.as_u16())), "Twilio's error body: {v}");
    }
    app.stop().await;
}

#[tokio::test]
async fn workspace_wide_resources_need_the_whole_workspace() {
    let app = floor_app().await;
    let workflow_only = Scope::Workspace {
        workspace: WorkspaceSid::parse(&fw()).expect("sid"),
        workflows: vec![WorkflowSid::parse(&main_wf()).expect("sid")],
    };
    let whole = Scope::Workspace { workspace: WorkspaceSid::parse(&fw()).expect("sid"), workflows: vec![] };
    let (limited, _) = app.create_token("limited", workflow_only, None, NOW);
    let (full, _) = app.create_token("full", whole, None, NOW);
    let resources = [
        "TaskQueues".to_owned(),
        format!("TaskQueues/{}", sales_q()),
        format!("TaskQueues/{}/Statistics", sales_q()),
        "TaskQueues/Statistics".into(),
        "Workers".into(),
        format!("Workers/{}", alice()),
        format!("Workers/{}/Channels", alice()),
        format!("Workers/{}/Statistics", alice()),
        "Workers/Statistics".into(),
        "Workers/RealTimeStatistics".into(),
        "Workers/CumulativeStatistics".into(),
        "Activities".into(),
        "Statistics".into(),
        "RealTimeStatistics".into(),
        "CumulativeStatistics".into(),
    ];
    for r in &resources {
        let (status, v) = app.get_bearer(&path(r), &limited).await;
        assert_eq!((status, v["code"].as_u64()), (StatusCode::FORBIDDEN, Some(20403)), "{r}: {v}");
        let (status, v) = app.get_bearer(&path(r), &full).await;
        assert_eq!(status, StatusCode::OK, "{r}: {v}");
    }
    // The workflow itself stays readable with the limited token.
    let (status, _) = app.get_bearer(&path(&format!("Workflows/{}/RealTimeStatistics", main_wf())), &limited).await;
    assert_eq!(status, StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn websocket_targets_snapshot_the_rest_answers_and_need_the_whole_workspace() {
    use wallboard_shared::workers::WorkersRealTimeStatistics;
    use wallboard_shared::workspace::{WorkspaceCumulativeStatistics, WorkspaceRealTimeStatistics};
    use wallboard_shared::ws::TargetKind;
    let app = floor_app().await;
    let mut c = app.ws_token(&app.admin_token).await;
    let queue = json!({"kind": "task_queue", "sid": sales_q()});
    c.send(&json!({"type": "subscribe", "id": "q", "workspace_sid": fw(), "target": queue})).await;
    let snap = c.snapshot("q").await;
    assert_eq!(snap.target(), TargetKind::TaskQueue);
    let rest: TaskQueueRealTimeStatistics =
        app.get_json(&path(&format!("TaskQueues/{}/RealTimeStatistics", sales_q()))).await;
    assert_eq!(snap.realtime.as_task_queue(), Some(&rest));
    // Sales by hand: T1 and T2 pending, eligible alice, bob and carol.
    assert_eq!((rest.stats.total_tasks, rest.stats.total_eligible_workers), (2, 3));

    let cumulative = json!({"start_date": "2026-11-27"});
    let subscribe = json!({"type": "subscribe", "id": "w", "workspace_sid": fw(), "target": {"kind": "workspace"}, "cumulative": cumulative});
    c.send(&subscribe).await;
    let snap = c.snapshot("w").await;
    let rest: WorkspaceRealTimeStatistics = app.get_json(&path("RealTimeStatistics")).await;
    assert_eq!(snap.realtime.as_workspace(), Some(&rest));
    let rest: WorkspaceCumulativeStatistics = app.get_json(&path("CumulativeStatistics?StartDate=2026-11-27")).await;
    let mine = snap.cumulative.as_ref().and_then(|c| c.as_workspace()).expect("the cumulative part");
    assert_eq!((mine.stats.tasks_created, mine.stats.tasks_moved), (rest.stats.tasks_created, rest.stats.tasks_moved));

    c.send(&json!({"type": "subscribe", "id": "k", "workspace_sid": fw(), "target": {"kind": "workers"}})).await;
    let snap = c.snapshot("k").await;
    let rest: WorkersRealTimeStatistics = app.get_json(&path("Workers/RealTimeStatistics")).await;
    assert_eq!(snap.realtime.as_workers(), Some(&rest));

    // Unknown queue: 20404; both a workflow and a target: 20001.
    let unknown = json!({"kind": "task_queue", "sid": sid("WQ", 0x999)});
    c.send(&json!({"type": "subscribe", "id": "x", "workspace_sid": fw(), "target": unknown})).await;
    assert_eq!(c.recv_error().await.1, 20404);
    let both = json!({"type": "subscribe", "id": "y", "workspace_sid": fw(), "workflow_sid": main_wf(), "target": {"kind": "workers"}});
    c.send(&both).await;
    assert_eq!(c.recv_error().await.1, 20001);

    // A token for one workflow sees that workflow, not the queues.
    let workflow_only = Scope::Workspace {
        workspace: WorkspaceSid::parse(&fw()).expect("sid"),
        workflows: vec![WorkflowSid::parse(&main_wf()).expect("sid")],
    };
    let (limited, _) = app.create_token("limited", workflow_only, None, NOW);
    let mut l = app.ws_token(&limited).await;
    let queue = json!({"kind": "task_queue", "sid": sales_q()});
    l.send(&json!({"type": "subscribe", "id": "q", "workspace_sid": fw(), "target": queue})).await;
    assert_eq!(l.recv_error().await.1, 20403);
    l.send(&json!({"type": "subscribe", "id": "m", "workspace_sid": fw(), "workflow_sid": main_wf()})).await;
    assert_eq!(l.snapshot("m").await.target(), TargetKind::Workflow);
    app.stop().await;
}

/// Reads snapshots until `done` holds for the newest one of each subscription.
async fn until_latest(
    c: &mut super::helpers::WsClient,
    latest: &mut std::collections::HashMap<String, Snapshot>,
    done: impl Fn(&std::collections::HashMap<String, Snapshot>) -> bool,
) {
    use wallboard_shared::ws::ServerMessage;
    while !done(latest) {
        if let ServerMessage::Snapshot(s) = c.recv_message().await {
            latest.insert(s.id.clone(), *s);
        }
    }
}

/// Realtime-only subscriptions to a queue, the workspace and the workers follow the events
/// that change them, as the workflow ones do (nothing waits for a cumulative refresh).
#[tokio::test]
async fn websocket_targets_follow_task_and_worker_events_live() {
    use wallboard_shared::workers::WorkersRealTimeStatistics;
    use wallboard_shared::workspace::WorkspaceRealTimeStatistics;
    let app = floor_app().await;
    let mut c = app.ws_token(&app.admin_token).await;
    let queue = json!({"kind": "task_queue", "sid": sales_q()});
    c.send(&json!({"type": "subscribe", "id": "q", "workspace_sid": fw(), "target": queue})).await;
    c.send(&json!({"type": "subscribe", "id": "w", "workspace_sid": fw(), "target": {"kind": "workspace"}})).await;
    c.send(&json!({"type": "subscribe", "id": "k", "workspace_sid": fw(), "target": {"kind": "workers"}})).await;
    let queue_of = |m: &std::collections::HashMap<String, Snapshot>| {
        m.get("q").and_then(|s| s.realtime.as_task_queue()).map(|r| r.stats.clone())
    };
    let pending = |m: &std::collections::HashMap<String, Snapshot>| {
        m.get("w").and_then(|s| s.realtime.as_workspace()).map(|r| r.stats.tasks_by_status.pending)
    };
    let workers = |m: &std::collections::HashMap<String, Snapshot>| {
        m.get("k")
            .and_then(|s| s.realtime.as_workers())
            .map(|r| per_activity(&serde_json::to_value(&r.stats.activity_statistics).expect("json")))
    };
    // By hand (module docs): Sales holds T1 and T2 with alice available (bob, eligible
    // since 4000 s, is on Break; carol Offline); the workspace has T1, T2 and T4 pending (T4
    // timed out of Sales at 3500 s but stays in its workflow); alice is Available, bob on
    // Break, carol Offline.
    let mut latest = std::collections::HashMap::new();
    until_latest(&mut c, &mut latest, |m| m.len() == 3).await;
    let q = queue_of(&latest).expect("the queue");
    assert_eq!((q.total_tasks, q.total_available_workers), (2, 1));
    assert_eq!(pending(&latest), Some(3));
    assert_eq!(workers(&latest), Some(counts(&[("Available", 1), ("Break", 1), ("Offline", 1)])));

    // carol logs in (Offline → Available): the workers and Sales (she is eligible) follow.
    let at = D + 5_000_000;
    let carol_in = Form::new("worker.activity.update", 0xfa01, at, &fw())
        .with("WorkerSid", carol())
        .with("WorkerName", "carol")
        .with("WorkerActivitySid", available())
        .with("WorkerActivityName", "Available")
        .with("WorkerAttributes", r#"{"skills":["sales"],"level":5}"#);
    assert_eq!(app.post_event(&carol_in.0).await, StatusCode::NO_CONTENT);
    let after = counts(&[("Available", 2), ("Break", 1), ("Offline", 0)]);
    until_latest(&mut c, &mut latest, |m| {
        workers(m).as_ref() == Some(&after) && queue_of(m).is_some_and(|q| q.total_available_workers == 2)
    })
    .await;
    let rest: WorkersRealTimeStatistics = app.get_json(&path("Workers/RealTimeStatistics")).await;
    assert_eq!(latest["k"].realtime.as_workers(), Some(&rest));

    // T6 enters Sales: the queue and the workspace follow.
    for (n, t) in [(0xfa02, "task.created"), (0xfa03, "workflow.entered")] {
        let f = Form::new(t, n, at + 1_000, &fw())
            .with("TaskSid", task(6))
            .with("WorkflowSid", main_wf())
            .with("WorkflowName", "Main")
            .with("TaskPriority", 0)
            .with("TaskAttributes", "{}")
            .with("TaskAssignmentStatus", "pending")
            .with("TaskQueueSid", sales_q())
            .with("TaskChannelSid", voice())
            .with("TaskChannelUniqueName", "voice");
        assert_eq!(app.post_event(&f.0).await, StatusCode::NO_CONTENT);
    }
    // The REST answers once the events are acknowledged; the snapshots must come to them.
    let rest_q: TaskQueueRealTimeStatistics =
        app.get_json(&path(&format!("TaskQueues/{}/RealTimeStatistics", sales_q()))).await;
    let rest_w: WorkspaceRealTimeStatistics = app.get_json(&path("RealTimeStatistics")).await;
    assert_eq!(rest_q.stats.total_tasks, 3, "T1, T2 and T6");
    assert_eq!(rest_w.stats.tasks_by_status.pending, 4, "T1, T2, T4 and T6");
    until_latest(&mut c, &mut latest, |m| {
        queue_of(m).as_ref() == Some(&rest_q.stats)
            && m.get("w").and_then(|s| s.realtime.as_workspace()).map(|r| &r.stats) == Some(&rest_w.stats)
    })
    .await;
    app.stop().await;
}
