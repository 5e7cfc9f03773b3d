//! The built-in contact center as the server's source, and `simulate --to`.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::json;
use wallboard::clock::ManualClock;
use wallboard::config::Source;
use wallboard::engine::Engine;
use wallboard::event::Event;
use wallboard::ingest::simulator::drive::Format;
use wallboard::ingest::simulator::{DriveOptions, SimConfig, Simulator, drive};
use wallboard_shared::resources::{
    TaskChannelPage, TasksByStatus, WorkflowCumulativeStatistics, WorkflowPage, WorkflowRealTimeStatistics,
    WorkspacePage,
};

use super::helpers::{AUTH_TOKEN, TestApp, serve_args, spawn_app_with};
use super::scenario::NOW;

const SEED: u64 = 7;
const HOUR: i64 = 3_600_000;

async fn simulated_app(dir: &std::path::Path, clock: Arc<ManualClock>) -> TestApp {
    let mut args = serve_args(dir);
    args.source = Source::Simulator;
    args.sim_seed = Some(SEED);
    args.sim_history_hours = 2;
    spawn_app_with(args, clock).await
}

/// The reference: the same simulation run outside the server.
fn reference(until: i64) -> (Simulator, Vec<Event>) {
    let mut sim = Simulator::new(SimConfig::default(), SEED, NOW - 2 * HOUR);
    let mut events = Vec::new();
    sim.advance(until, &mut events);
    (sim, events)
}

fn expected_status(sim: &Simulator) -> BTreeMap<String, TasksByStatus> {
    sim.live_counts()
        .into_iter()
        .map(|(wf, c)| {
            let v =
                TasksByStatus { pending: c.pending, reserved: c.reserved, assigned: c.assigned, wrapping: c.wrapping };
            (wf.to_string(), v)
        })
        .collect()
}

async fn served_status(app: &TestApp, ws: &str, workflows: &[String]) -> BTreeMap<String, TasksByStatus> {
    let mut out = BTreeMap::new();
    for wf in workflows {
        let rt: WorkflowRealTimeStatistics =
            app.get_json(&format!("/v1/Workspaces/{ws}/Workflows/{wf}/RealTimeStatistics")).await;
        out.insert(wf.clone(), rt.stats.tasks_by_status);
    }
    out
}

fn entered_by_workflow(events: &[Event], from: i64, to: i64) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for e in events.iter().filter(|e| e.event_type == "workflow.entered" && (from..=to).contains(&e.ts_ms)) {
        *out.entry(e.get("workflow_sid").expect("workflow").to_owned()).or_default() += 1;
    }
    out
}

#[tokio::test]
async fn the_demo_center_prefills_history_and_matches_its_model() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = simulated_app(dir.path(), Arc::new(ManualClock::new(NOW))).await;
    let list: WorkspacePage = app.get_json("/v1/Workspaces").await;
    assert_eq!(list.workspaces[0].friendly_name, "Demo Contact Center");
    let ws = list.workspaces[0].sid.to_string();
    let wfs: WorkflowPage = app.get_json(&format!("/v1/Workspaces/{ws}/Workflows")).await;
    let names: Vec<&str> = wfs.workflows.iter().map(|w| w.friendly_name.as_str()).collect();
    for name in ["Sales", "Support", "Billing"] {
        assert!(names.contains(&name), "{names:?}");
    }
    let channels: TaskChannelPage = app.get_json(&format!("/v1/Workspaces/{ws}/TaskChannels")).await;
    assert!(channels.channels.len() >= 3);

    let (sim, events) = reference(NOW);
    let workflows: Vec<String> = sim.workflows().into_iter().map(|(s, _)| s.to_string()).collect();
    assert_eq!(served_status(&app, &ws, &workflows).await, expected_status(&sim));
    let expected = entered_by_workflow(&events, NOW - 2 * HOUR, NOW);
    for wf in &workflows {
        let c: WorkflowCumulativeStatistics =
            app.get_json(&format!("/v1/Workspaces/{ws}/Workflows/{wf}/CumulativeStatistics?Minutes=120")).await;
        assert_eq!(c.stats.tasks_entered, expected.get(wf).copied().unwrap_or(0), "{wf}");
        assert!(c.stats.tasks_entered > 10, "a busy center: {c:?}");
    }
    app.stop().await;
}

#[tokio::test]
async fn the_live_center_follows_the_clock_and_survives_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(ManualClock::new(NOW));
    let app = simulated_app(dir.path(), clock.clone()).await;
    let (sim, _) = reference(NOW + 10 * 60_000);
    let ws = sim.workspace_sid().to_string();
    let (sales, _) = sim.workflows().into_iter().find(|(_, n)| n == "Sales").expect("a Sales workflow");
    let want = expected_status(&sim)[&sales.to_string()];

    let mut c = app.ws().await;
    c.send(&json!({"type": "subscribe", "id": "s", "workspace_sid": ws, "workflow_sid": sales})).await;
    c.snapshot("s").await;
    clock.advance(10 * 60_000);
    // The simulation steps with the clock; wait (bounded) for the snapshot that shows it.
    loop {
        let snap = c.snapshot("s").await;
        if snap.realtime.as_workflow().expect("a workflow snapshot").stats.tasks_by_status == want
            && snap.at == "2026-11-27T18:10:00Z"
        {
            break;
        }
    }
    app.stop().await;

    // Restart half an hour later: the same center continues, nothing twice, no gap.
    clock.set(NOW + 30 * 60_000);
    let app = simulated_app(dir.path(), clock.clone()).await;
    let (sim, events) = reference(NOW + 30 * 60_000);
    let workflows: Vec<String> = sim.workflows().into_iter().map(|(s, _)| s.to_string()).collect();
    assert_eq!(served_status(&app, &ws, &workflows).await, expected_status(&sim));
    let expected = entered_by_workflow(&events, NOW - 2 * HOUR, NOW + 30 * 60_000);
    for wf in &workflows {
        let c: WorkflowCumulativeStatistics =
            app.get_json(&format!("/v1/Workspaces/{ws}/Workflows/{wf}/CumulativeStatistics?Minutes=150")).await;
        assert_eq!(Some(c.stats.tasks_entered), expected.get(wf).copied(), "{wf}");
    }
    app.stop().await;
}

#[tokio::test]
async fn simulate_to_drives_a_second_instance_and_both_agree() {
    drives_a_second_instance(Format::Callbacks).await;
}

/// The same through Event Streams' door: signed batches of CloudEvents.
#[tokio::test]
async fn simulate_to_drives_a_second_instance_through_event_streams() {
    drives_a_second_instance(Format::EventStreams).await;
}

async fn drives_a_second_instance(format: Format) {
    let dir = tempfile::tempdir().expect("tempdir");
    let now = chrono::Utc::now().timestamp_millis();
    let target = spawn_app_with(serve_args(dir.path()), Arc::new(ManualClock::new(now))).await;
    let report = drive(
        DriveOptions {
            base_url: target.base.clone(),
            auth_token: AUTH_TOKEN.into(),
            rate: Some(2_000.0),
            duration: std::time::Duration::from_millis(1_500),
            seed: 3,
            concurrency: 16,
            config: SimConfig::default(),
            format,
            batch: 100,
        },
        Arc::new(ManualClock::new(now)),
    )
    .await
    .expect("drive");
    // Enough events to cover every kind (how many depends on the machine's load: the
    // pace is a target, not a promise).
    assert!(report.sent > 100, "{report}");
    assert_eq!((report.accepted, report.rejected), (report.sent, 0), "{report}");

    // The same stream, folded locally.
    let mut sim = Simulator::new(SimConfig::default(), 3, report.sim_start_ms);
    let mut events = Vec::new();
    sim.advance(report.sim_end_ms, &mut events);
    assert_eq!(events.len() as u64, report.sent, "the driver sent exactly the simulated stream");
    let mut engine = Engine::default();
    engine.maintain(now);
    for e in &events {
        engine.apply(e);
    }
    let ws = report.workspace_sid.to_string();
    for (wf, _) in sim.workflows() {
        let id = engine.registry().workflow_id(&report.workspace_sid, &wf).expect("known");
        let served: WorkflowRealTimeStatistics =
            target.get_json(&format!("/v1/Workspaces/{ws}/Workflows/{wf}/RealTimeStatistics")).await;
        let local = engine.realtime(id, None, now);
        assert_eq!(served.stats.tasks_by_status, local.tasks_by_status, "{wf}");
        let window = wallboard_shared::Window { start_ms: report.sim_start_ms, end_ms: now };
        let start = wallboard_shared::time::format_ms(report.sim_start_ms);
        let served: WorkflowCumulativeStatistics = target
            .get_json(&format!(
                "/v1/Workspaces/{ws}/Workflows/{wf}/CumulativeStatistics?StartDate={start}&SplitByWaitTime=20"
            ))
            .await;
        let window = wallboard_shared::Window { start_ms: window.start_ms / 1000 * 1000, ..window };
        let local = engine.cumulative(id, None, window, Some(&[20]));
        let (served, local) = (&served.stats, &local);
        assert_eq!(served.tasks_entered, local.tasks_entered, "{wf} tasks_entered");
        assert_eq!(served.tasks_completed, local.tasks_completed, "{wf} tasks_completed");
        assert_eq!(served.tasks_canceled, local.tasks_canceled, "{wf} tasks_canceled");
        assert_eq!(served.reservations_accepted, local.reservations_accepted, "{wf} reservations_accepted");
        assert_eq!(served.split_by_wait_time, local.split_by_wait_time, "{wf} split_by_wait_time");
    }
    target.stop().await;
}
