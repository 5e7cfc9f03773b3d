//! The three statistics resources on the scripted day, every field checked by hand.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use wallboard_shared::resources::{
    CumulativeStats, Split, SplitByWaitTime, SplitCounts, TaskChannelPage, TasksByStatus, WaitDuration,
    WorkflowCumulativeStatistics, WorkflowPage, WorkflowRealTimeStatistics, Workspace, WorkspacePage,
};

use super::helpers::{TestApp, spawn_app};
use super::scenario::{self, CHAT, NOW, SALES, SUPPORT, VOICE, WS, sales, support, task_sid};

fn split(below_acc: u64, below_can: u64, above_acc: u64, above_can: u64) -> Value {
    json!({
        "below": {"reservations_accepted": below_acc, "tasks_canceled": below_can},
        "above": {"reservations_accepted": above_acc, "tasks_canceled": above_can},
    })
}

/// Sales over the whole day (StartDate=2026-11-27, up to now).
fn sales_day_cumulative() -> Value {
    json!({
        "avg_task_acceptance_time": 15,
        "start_time": "2026-11-27T00:00:00Z",
        "end_time": "2026-11-27T18:00:00Z",
        "reservations_created": 7,
        "reservations_accepted": 2,
        "reservations_rejected": 1,
        "reservations_timed_out": 1,
        "reservations_canceled": 1,
        "reservations_rescinded": 1,
        // accepted after 20 s (exactly the threshold: above) and 10.5 s;
        // canceled after 90 s and 300.4 s (300: above).
        "split_by_wait_time": {
            "20": split(1, 0, 1, 2),
            "60": split(2, 0, 0, 2),
            "300": split(2, 1, 0, 1),
        },
        // 20 s and 10.5 s: avg 15.25 → 15, min 10.5 → 11 (half away from zero), total 30.5 → 31.
        "wait_duration_until_accepted": {"avg": 15, "min": 11, "max": 20, "total": 31},
        // 90 s and 300.4 s: avg 195.2 → 195, max 300, total 390.4 → 390.
        "wait_duration_until_canceled": {"avg": 195, "min": 90, "max": 300, "total": 390},
        "tasks_canceled": 2,
        "tasks_completed": 1,
        "tasks_entered": 8,
        "tasks_deleted": 1,
        "tasks_moved": 1,
        "tasks_timed_out_in_workflow": 1,
    })
}

/// Sales live at 18:00: T3 assigned, T4 pending since 09:00, T6 reserved, T8 pending.
fn sales_realtime() -> Value {
    json!({
        "longest_task_waiting_age": 32_400,
        "longest_task_waiting_sid": task_sid(4),
        "tasks_by_priority": {"0": 1, "2": 1, "5": 2},
        "tasks_by_status": {"pending": 2, "reserved": 1, "assigned": 1, "wrapping": 0},
        "total_tasks": 4,
    })
}

/// The realtime numbers of `path`.
async fn realtime(app: &TestApp, path: &str) -> WorkflowRealTimeStatistics {
    app.get_json(path).await
}

/// The cumulative numbers of `path`.
async fn cumulative(app: &TestApp, path: &str) -> CumulativeStats {
    app.get_json::<WorkflowCumulativeStatistics>(path).await.stats
}

fn by_status(pending: u64, reserved: u64, assigned: u64, wrapping: u64) -> TasksByStatus {
    TasksByStatus { pending, reserved, assigned, wrapping }
}

fn wait(avg: u64, min: u64, max: u64, total: u64) -> WaitDuration {
    WaitDuration { avg, min, max, total }
}

/// A time as the wire writes it.
fn at(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn with_ids(mut v: Value, url: &str) -> Value {
    let o = v.as_object_mut().expect("object");
    o.insert("account_sid".into(), super::helpers::ACCOUNT_SID.into());
    o.insert("workspace_sid".into(), WS.into());
    o.insert("workflow_sid".into(), SALES.into());
    o.insert("url".into(), url.into());
    v
}

#[tokio::test]
async fn scripted_day_cumulative_realtime_and_combined() {
    let app = spawn_app(NOW).await;
    scenario::load(&app).await;
    let q = "?StartDate=2026-11-27&SplitByWaitTime=60,20,300";

    let got = app.get_ok(&format!("{}{q}", sales("CumulativeStatistics"))).await;
    let url = format!("{}{}", app.base, sales("CumulativeStatistics"));
    assert_eq!(got, with_ids(sales_day_cumulative(), &url));

    let got = app.get_ok(&sales("RealTimeStatistics")).await;
    let url = format!("{}{}", app.base, sales("RealTimeStatistics"));
    assert_eq!(got, with_ids(sales_realtime(), &url));

    let got = app.get_ok(&format!("{}{q}", sales("Statistics"))).await;
    let url = format!("{}{}", app.base, sales("Statistics"));
    let expected = with_ids(json!({"cumulative": sales_day_cumulative(), "realtime": sales_realtime()}), &url);
    assert_eq!(got, expected);
    app.stop().await;
}

#[tokio::test]
async fn channel_filters_by_unique_name_and_sid() {
    let app = spawn_app(NOW).await;
    scenario::load(&app).await;
    for channel in ["voice", VOICE] {
        let rt = realtime(&app, &format!("{}?TaskChannel={channel}", sales("RealTimeStatistics"))).await.stats;
        assert_eq!(rt.tasks_by_status, by_status(1, 1, 0, 0));
        assert_eq!(rt.longest_task_waiting_sid.map(|s| s.to_string()), Some(task_sid(8)));
        assert_eq!(rt.longest_task_waiting_age, 6_000);
        assert_eq!(rt.tasks_by_priority, BTreeMap::from([("0".to_owned(), 1), ("2".to_owned(), 1)]));

        let c =
            cumulative(&app, &format!("{}?StartDate=2026-11-27&TaskChannel={channel}", sales("CumulativeStatistics")))
                .await;
        assert_eq!((c.tasks_entered, c.tasks_canceled, c.tasks_completed, c.tasks_deleted), (5, 1, 1, 1));
        assert_eq!(c.reservations_created, 5);
        assert_eq!(c.reservations_rescinded, 1);
        assert_eq!(c.wait_duration_until_accepted, wait(20, 20, 20, 20));
        assert_eq!(c.split_by_wait_time, None, "no thresholds asked");
    }
    let rt = realtime(&app, &format!("{}?TaskChannel={CHAT}", sales("RealTimeStatistics"))).await.stats;
    assert_eq!(rt.tasks_by_status, by_status(1, 0, 1, 0));
    // sms is known by name only.
    let c = cumulative(&app, &format!("{}?StartDate=2026-11-27&TaskChannel=sms", sales("CumulativeStatistics"))).await;
    assert_eq!((c.tasks_entered, c.tasks_canceled, c.tasks_timed_out_in_workflow), (1, 1, 1));
    assert_eq!(c.wait_duration_until_canceled, wait(300, 300, 300, 300));
    app.stop().await;
}

#[tokio::test]
async fn windows_minutes_and_dates() {
    let app = spawn_app(NOW).await;
    scenario::load(&app).await;
    let cum = |q: String| {
        let app = &app;
        async move { cumulative(app, &format!("{}?{q}", sales("CumulativeStatistics"))).await }
    };
    // Default: the last 15 minutes, nothing happened.
    let c = cum(String::new()).await;
    assert_eq!(at(c.start_time), "2026-11-27T17:45:00Z");
    assert_eq!(at(c.end_time), "2026-11-27T18:00:00Z");
    assert_eq!(c.tasks_entered, 0);
    assert_eq!(c.wait_duration_until_accepted, wait(0, 0, 0, 0));
    // The last two hours hold T8's entry (16:20).
    let c = cum("Minutes=120".into()).await;
    assert_eq!((c.tasks_entered, at(c.start_time).as_str()), (1, "2026-11-27T16:00:00Z"));
    // Bounds are inclusive to the millisecond: R1 accepted at exactly 08:00:20.
    let c = cum("StartDate=2026-11-27T08:00:00Z&EndDate=2026-11-27T08:00:20Z".into()).await;
    assert_eq!((c.tasks_entered, c.reservations_accepted), (1, 1));
    let c = cum("StartDate=2026-11-27T08:00:00Z&EndDate=2026-11-27T08:00:19.999Z".into()).await;
    assert_eq!(c.reservations_accepted, 0);
    // The same instant with an offset, and with the "+" arriving as a space.
    let c = cum("StartDate=2026-11-27T10:00:00%2B02:00&EndDate=2026-11-27T10:00:20+02:00".into()).await;
    assert_eq!(c.reservations_accepted, 1);
    // EndDate alone: the 15 minutes before it (R4 accepted at 08:02:10.5, inclusive).
    let c = cum("EndDate=2026-11-27T08:02:10.500Z&SplitByWaitTime=11".into()).await;
    assert_eq!(at(c.start_time), "2026-11-27T07:47:10Z");
    assert_eq!((c.tasks_entered, c.reservations_accepted), (3, 2));
    let one = |reservations_accepted, tasks_canceled| SplitCounts { tasks_canceled, reservations_accepted };
    assert_eq!(c.split_by_wait_time, Some(SplitByWaitTime(vec![(11, Split { below: one(1, 0), above: one(1, 0) })])));
    // A future EndDate is clipped to now.
    let c = cum("StartDate=2026-11-27&EndDate=2026-12-31".into()).await;
    assert_eq!((at(c.end_time).as_str(), c.tasks_entered), ("2026-11-27T18:00:00Z", 8));
    // Date-only EndDate covers its whole day.
    let c = cum("StartDate=2026-11-26&EndDate=2026-11-27".into()).await;
    assert_eq!(c.tasks_entered, 8);
    app.stop().await;
}

#[tokio::test]
async fn support_workflow_is_separate() {
    let app = spawn_app(NOW).await;
    scenario::load(&app).await;
    let rt = realtime(&app, &support("RealTimeStatistics")).await;
    assert_eq!(rt.stats.tasks_by_status, by_status(0, 0, 0, 1));
    assert_eq!(rt.stats.longest_task_waiting_sid, None);
    assert_eq!(rt.stats.longest_task_waiting_age, 0);
    assert_eq!(rt.workflow_sid.to_string(), SUPPORT);
    let c = cumulative(&app, &format!("{}?Minutes=43200", support("CumulativeStatistics"))).await;
    assert_eq!((c.tasks_entered, c.avg_task_acceptance_time), (1, 40));
    app.stop().await;
}

#[tokio::test]
async fn resources_known_from_events_with_paging() {
    let app = spawn_app(NOW).await;
    scenario::load(&app).await;
    let list: WorkspacePage = app.get_json("/v1/Workspaces").await;
    assert_eq!(list.workspaces[0].sid.to_string(), WS);
    assert_eq!(list.workspaces[0].friendly_name, "Demo Contact Center");
    assert_eq!(list.meta.key, "workspaces");
    let ws: Workspace = app.get_json(&format!("/v1/Workspaces/{WS}")).await;
    assert_eq!(ws.url, format!("{}/v1/Workspaces/{WS}", app.base));

    let page0: WorkflowPage = app.get_json(&format!("/v1/Workspaces/{WS}/Workflows?PageSize=1")).await;
    assert_eq!(page0.workflows.len(), 1);
    assert_eq!(page0.workflows[0].friendly_name, "Sales");
    let next = page0.meta.next_page_url.clone().expect("a second page");
    assert!(next.starts_with(&app.base), "absolute: {next}");
    let page1: WorkflowPage = app.get_json(next.trim_start_matches(&app.base)).await;
    assert_eq!(page1.workflows[0].friendly_name, "Support");
    assert_eq!(page1.meta.next_page_url, None);
    assert_eq!(page1.meta.previous_page_url, Some(page0.meta.url));

    let wf: wallboard_shared::resources::Workflow =
        app.get_json(&format!("/v1/Workspaces/{WS}/Workflows/{SALES}")).await;
    assert_eq!(wf.links.get("statistics"), Some(&format!("{}{}", app.base, sales("Statistics"))));

    let channels: TaskChannelPage = app.get_json(&format!("/v1/Workspaces/{WS}/TaskChannels")).await;
    let names: Vec<&str> = channels.channels.iter().map(|c| c.unique_name.as_str()).collect();
    assert_eq!(names, ["voice", "chat", "sms"]);
    let sms_sid = channels.channels[2].sid.to_string();
    assert!(sms_sid.starts_with("TC") && sms_sid.len() == 34, "synthetic but well-formed: {sms_sid}");
    let c = cumulative(&app, &format!("{}?StartDate=2026-11-27&TaskChannel={sms_sid}", sales("CumulativeStatistics")))
        .await;
    assert_eq!(c.tasks_entered, 1);
    app.stop().await;
}
