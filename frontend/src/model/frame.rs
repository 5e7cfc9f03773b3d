//! Reading the server's frames (WebSocket protocol v1 with targets,
//! `wallboard_shared::ws::ServerMessage`).
//!
//! The shared types define the protocol; this reader takes from a frame only what the
//! dashboard shows, skipping the sids and urls around it: a workflow's statistics into the
//! statistics types (`RealTimeStats`, `CumulativeStats`), a task queue's, the workspace's
//! and the workers' into the floor's lean structs ([`super::floor`]). Deserializing
//! `ServerMessage` itself (an internally tagged enum holding `#[serde(flatten)]` structs)
//! goes through serde's buffering `Content` path, which would cost the wasm a second copy of
//! every statistics deserializer. `realtime` and `cumulative` are kept raw until the whole
//! object is read, then decoded by `target` (absent: a workflow), wherever `target` sits.
//! An `alerts` frame (sent only after `watch_alerts`, so never by an old server) is read
//! into the wall's lean [`AlertInfo`]s. A `history` frame (sent only to a subscription that
//! asked for it) keeps its samples as the wire's rows of five numbers.
//! The tests check this reader against frames written by the shared types.

use serde::Deserialize;
use serde_json::value::RawValue;
use wallboard_shared::resources::{CumulativeStats, RealTimeStats};

use super::alerts::AlertInfo;
use super::floor::{QueueRealtime, QueueStats, WindowCounts, WorkersRealtime, WorkspaceRealtime, WorkspaceStats};

/// One subscription's state, as a `snapshot` frame carries it.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub id: String,
    pub rev: u64,
    /// When the numbers were computed (`YYYY-MM-DDTHH:MM:SSZ`).
    pub at: String,
    pub stale: bool,
    pub stats: Stats,
}

/// The statistics of a snapshot, by its target.
#[derive(Debug, Clone, PartialEq)]
pub enum Stats {
    /// `cumulative` is None when the subscription asked for no cumulative statistics.
    Workflow { realtime: RealTimeStats, cumulative: Option<CumulativeStats> },
    /// A task queue's realtime statistics and (default when not asked for) its window's.
    TaskQueue(QueueStats),
    /// The workspace's realtime statistics and (default when not asked for) its window's.
    Workspace(WorkspaceStats),
    /// The workers per activity.
    Workers(WorkersRealtime),
}

impl Snapshot {
    /// A workflow's realtime statistics (None for other targets).
    pub fn realtime(&self) -> Option<&RealTimeStats> {
        match &self.stats {
            Stats::Workflow { realtime, .. } => Some(realtime),
            _ => None,
        }
    }

    /// A workflow's cumulative statistics, when asked for (None for other targets).
    pub fn cumulative(&self) -> Option<&CumulativeStats> {
        match &self.stats {
            Stats::Workflow { cumulative, .. } => cumulative.as_ref(),
            _ => None,
        }
    }

    pub fn queue(&self) -> Option<&QueueStats> {
        match &self.stats {
            Stats::TaskQueue(q) => Some(q),
            _ => None,
        }
    }

    pub fn workspace(&self) -> Option<&WorkspaceStats> {
        match &self.stats {
            Stats::Workspace(w) => Some(w),
            _ => None,
        }
    }

    pub fn workers(&self) -> Option<&WorkersRealtime> {
        match &self.stats {
            Stats::Workers(w) => Some(w),
            _ => None,
        }
    }
}

/// A frame from the server.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    Snapshot(Box<Snapshot>),
    Error {
        id: Option<String>,
        code: u32,
        message: String,
    },
    Pong,
    /// The alerts firing now in a workspace (after `watch_alerts`), oldest first.
    Alerts {
        workspace_sid: String,
        alerts: Vec<AlertInfo>,
    },
    /// A subscription's realtime numbers every `interval_ms` from `start` (server clock),
    /// oldest first: `[pending, reserved, assigned, wrapping, longest_wait_s]` each.
    History {
        id: String,
        interval_ms: i64,
        start: String,
        samples: Vec<[u64; 5]>,
    },
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Snapshot,
    Error,
    Pong,
    Alerts,
    History,
}

/// `target` of a snapshot (`wallboard_shared::ws::TargetKind`).
#[derive(Deserialize, Default)]
#[serde(rename_all = "snake_case")]
enum Target {
    #[default]
    Workflow,
    TaskQueue,
    Workspace,
    Workers,
}

/// Every field of every frame type, flat.
#[derive(Deserialize)]
struct Raw<'a> {
    #[serde(rename = "type")]
    kind: Kind,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    rev: u64,
    #[serde(default)]
    at: String,
    #[serde(default)]
    stale: bool,
    #[serde(default)]
    target: Target,
    #[serde(default, borrow)]
    realtime: Option<&'a RawValue>,
    #[serde(default, borrow)]
    cumulative: Option<&'a RawValue>,
    #[serde(default)]
    code: u32,
    #[serde(default)]
    message: String,
    #[serde(default)]
    workspace_sid: String,
    #[serde(default, borrow)]
    alerts: Option<&'a RawValue>,
    #[serde(default)]
    interval_ms: i64,
    #[serde(default)]
    start: String,
    #[serde(default, borrow)]
    samples: Option<&'a RawValue>,
}

/// `raw` as a `T`; None for JSON `null`.
fn read<'a, T: Deserialize<'a>>(raw: Option<&'a RawValue>) -> Result<Option<T>, String> {
    match raw {
        Some(r) if r.get() != "null" => serde_json::from_str(r.get()).map(Some).map_err(|e| e.to_string()),
        _ => Ok(None),
    }
}

/// Reads a text frame.
pub fn parse(text: &str) -> Result<Frame, String> {
    let raw: Raw = serde_json::from_str(text).map_err(|e| e.to_string())?;
    Ok(match raw.kind {
        Kind::Snapshot => {
            let missing = || "a snapshot without realtime statistics".to_owned();
            let stats = match raw.target {
                Target::Workflow => Stats::Workflow {
                    realtime: read(raw.realtime)?.ok_or_else(missing)?,
                    cumulative: read(raw.cumulative)?,
                },
                Target::TaskQueue => {
                    let realtime: QueueRealtime = read(raw.realtime)?.ok_or_else(missing)?;
                    Stats::TaskQueue(QueueStats {
                        task_queue_sid: realtime.task_queue_sid.clone(),
                        realtime,
                        cumulative: read::<WindowCounts>(raw.cumulative)?.unwrap_or_default(),
                    })
                }
                Target::Workspace => Stats::Workspace(WorkspaceStats {
                    realtime: read::<WorkspaceRealtime>(raw.realtime)?.ok_or_else(missing)?,
                    cumulative: read::<WindowCounts>(raw.cumulative)?.unwrap_or_default(),
                }),
                Target::Workers => Stats::Workers(read(raw.realtime)?.ok_or_else(missing)?),
            };
            Frame::Snapshot(Box::new(Snapshot {
                id: raw.id.ok_or("a snapshot without id")?,
                rev: raw.rev,
                at: raw.at,
                stale: raw.stale,
                stats,
            }))
        }
        Kind::Error => Frame::Error { id: raw.id, code: raw.code, message: raw.message },
        Kind::Pong => Frame::Pong,
        Kind::Alerts => Frame::Alerts {
            workspace_sid: raw.workspace_sid,
            alerts: super::alerts::parse_alerts(raw.alerts.ok_or("an alerts frame without alerts")?.get())?,
        },
        Kind::History => Frame::History {
            id: raw.id.ok_or("a history without id")?,
            interval_ms: raw.interval_ms,
            start: raw.start,
            samples: read(raw.samples)?.unwrap_or_default(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::sla::tests::{split, stats};
    use wallboard_shared::resources::{WorkflowCumulativeStatistics, WorkflowRealTimeStatistics};
    use wallboard_shared::ws::{ServerMessage, Snapshot as WireSnapshot};
    use wallboard_shared::{AccountSid, WorkflowSid, WorkspaceSid};

    fn wire(cumulative: Option<CumulativeStats>) -> WireSnapshot {
        let mut rt = RealTimeStats::default();
        rt.tasks_by_status.pending = 3;
        rt.tasks_by_status.assigned = 2;
        rt.total_tasks = 5;
        rt.longest_task_waiting_age = 42;
        rt.tasks_by_priority.insert("10".into(), 5);
        WireSnapshot {
            id: "cu-1".into(),
            rev: 17,
            at: "2026-11-27T09:15:00Z".into(),
            stale: true,
            realtime: WorkflowRealTimeStatistics {
                account_sid: AccountSid::from_u128(1),
                workspace_sid: WorkspaceSid::from_u128(2),
                workflow_sid: WorkflowSid::from_u128(3),
                stats: rt,
                url: "http://127.0.0.1:8080/v1/x".into(),
            }
            .into(),
            cumulative: cumulative
                .map(|stats| WorkflowCumulativeStatistics {
                    account_sid: AccountSid::from_u128(1),
                    workspace_sid: WorkspaceSid::from_u128(2),
                    workflow_sid: WorkflowSid::from_u128(3),
                    stats,
                    url: "http://127.0.0.1:8080/v1/y".into(),
                })
                .map(Into::into),
        }
    }

    #[test]
    fn snapshots_written_by_the_shared_types_read_back() {
        let cumulative = stats(12, 2, Some(vec![(20, split(5, 1, 2, 1)), (60, split(7, 1, 0, 1))]));
        for c in [Some(cumulative), None] {
            let sent = wire(c.clone());
            let text = serde_json::to_string(&ServerMessage::Snapshot(Box::new(sent.clone()))).expect("ser");
            let Frame::Snapshot(got) = parse(&text).expect("parse") else { panic!("{text}") };
            assert_eq!(got.id, sent.id);
            assert_eq!((got.rev, got.at.as_str(), got.stale), (17, "2026-11-27T09:15:00Z", true));
            assert_eq!(got.realtime(), sent.realtime.as_workflow().map(|r| &r.stats));
            assert_eq!(got.cumulative(), c.as_ref());
        }
    }

    #[test]
    fn alerts_frames_written_by_the_shared_types_read_back() {
        use wallboard_shared::alerts::{Alert, AlertStatus, Level, Measure, RuleTarget};
        let fired = chrono::DateTime::from_timestamp_millis(1_795_770_000_000).expect("valid");
        let alert = Alert {
            sid: format!("AL{:032x}", 1),
            rule_sid: format!("AR{:032x}", 1),
            rule_name: "Busy".into(),
            target: RuleTarget::TaskQueue(format!("WQ{:032x}", 3)),
            task_channel: Some("voice".into()),
            measure: Measure::LongestWait,
            level: Level::Critical,
            description: "longest wait > 60 s for 30 s".into(),
            status: AlertStatus::Firing,
            value: Some(75.0),
            date_fired: fired,
            date_cleared: None,
            date_acknowledged: Some(fired),
            acknowledged_by: Some("Floor manager".into()),
        };
        let ws = WorkspaceSid::from_u128(2).to_string();
        let sent = ServerMessage::Alerts { workspace_sid: ws.clone(), alerts: vec![alert.clone()] };
        let text = serde_json::to_string(&sent).expect("ser");
        let Ok(Frame::Alerts { workspace_sid, alerts }) = parse(&text) else { panic!("{text}") };
        assert_eq!(workspace_sid, ws);
        let want = AlertInfo {
            sid: alert.sid.clone(),
            rule_name: "Busy".into(),
            target: format!("WQ{:032x}", 3),
            measure: "longest_wait".into(),
            level: "critical".into(),
            description: alert.description.clone(),
            status: "firing".into(),
            value: Some(75.0),
            date_fired: "2026-11-27T09:00:00Z".into(),
            date_acknowledged: Some("2026-11-27T09:00:00Z".into()),
            acknowledged_by: Some("Floor manager".into()),
        };
        assert_eq!(alerts, [want]);
        let empty = serde_json::to_string(&ServerMessage::Alerts { workspace_sid: ws.clone(), alerts: Vec::new() })
            .expect("ser");
        assert_eq!(parse(&empty), Ok(Frame::Alerts { workspace_sid: ws, alerts: Vec::new() }));
        assert!(parse(r#"{"type":"alerts","workspace_sid":"WS1"}"#).is_err(), "no list");
    }

    #[test]
    fn history_frames_written_by_the_shared_types_read_back() {
        let sent = ServerMessage::History(wallboard_shared::ws::History {
            id: "rt-1".into(),
            interval_ms: 10_000,
            start: "2026-11-27T09:00:00Z".into(),
            samples: vec![[1, 0, 2, 0, 30], [0, 0, 3, 0, 0]],
        });
        let text = serde_json::to_string(&sent).expect("ser");
        assert_eq!(
            parse(&text),
            Ok(Frame::History {
                id: "rt-1".into(),
                interval_ms: 10_000,
                start: "2026-11-27T09:00:00Z".into(),
                samples: vec![[1, 0, 2, 0, 30], [0, 0, 3, 0, 0]],
            })
        );
        assert!(parse(r#"{"type":"history","interval_ms":10000,"start":"x","samples":[]}"#).is_err(), "no id");
        assert!(parse(r#"{"type":"history","id":"a","samples":[[1,2]]}"#).is_err(), "short row");
        assert!(parse(r#"{"type":"history","id":"a","samples":[[1,2,3,4,5,6]]}"#).is_err(), "long row");
        assert!(parse(r#"{"type":"history","id":"a","samples":[[1,2,3,4,-5]]}"#).is_err(), "negative");
        assert!(parse(r#"{"type":"history","id":"a","samples":[1,2,3,4,5]}"#).is_err(), "flat");
        assert!(parse(r#"{"type":"history","id":"a","samples":{}}"#).is_err(), "object");
        let spaced = r#"{"type":"history","id":"a","samples":[ [1, 2,3,4,5] ,
            [6,7,8,9,10] ]}"#;
        assert!(
            matches!(parse(spaced), Ok(Frame::History { samples, .. }) if samples == [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]])
        );
        assert!(
            matches!(parse(r#"{"type":"history","id":"a","samples":[]}"#), Ok(Frame::History { samples, .. }) if samples.is_empty())
        );
    }

    #[test]
    fn errors_and_pongs() {
        let e = ServerMessage::Error { id: Some("s1".into()), code: 20404, message: "unknown workflow".into() };
        let text = serde_json::to_string(&e).expect("ser");
        assert_eq!(
            parse(&text).expect("parse"),
            Frame::Error { id: Some("s1".into()), code: 20404, message: "unknown workflow".into() }
        );
        let text =
            serde_json::to_string(&ServerMessage::Error { id: None, code: 20001, message: "x".into() }).expect("ser");
        assert!(matches!(parse(&text), Ok(Frame::Error { id: None, code: 20001, .. })));
        assert_eq!(parse(r#"{"type":"pong"}"#), Ok(Frame::Pong));
        assert!(parse(r#"{"type":"dance"}"#).is_err());
        assert!(parse(r#"{"type":"snapshot","id":"a"}"#).is_err(), "no realtime");
        assert!(parse("not json").is_err());
    }

    /// Snapshots of the other targets, written by the shared types, read into the floor's
    /// structs by their `target`.
    #[test]
    fn target_snapshots_read_by_their_kind() {
        use wallboard_shared::queues::{
            TaskQueueCumulativeStatistics, TaskQueueCumulativeStats, TaskQueueRealTimeStatistics,
            TaskQueueRealTimeStats,
        };
        use wallboard_shared::workers::{ActivityStatistic, WorkersRealTimeStatistics, WorkersRealTimeStats};
        use wallboard_shared::workspace::{WorkspaceRealTimeStatistics, WorkspaceRealTimeStats};
        use wallboard_shared::{ActivitySid, TaskQueueSid};
        let t = chrono::DateTime::from_timestamp_millis(1_795_770_000_000).expect("valid");
        let (ac, ws, wq) = (AccountSid::from_u128(1), WorkspaceSid::from_u128(2), TaskQueueSid::from_u128(3));
        let break_ = ActivityStatistic { friendly_name: "Break".into(), sid: ActivitySid::from_u128(7), workers: 4 };
        let mut queue_rt = TaskQueueRealTimeStats {
            activity_statistics: vec![break_.clone()],
            longest_task_waiting_age: 75,
            total_available_workers: 2,
            total_eligible_workers: 6,
            ..Default::default()
        };
        queue_rt.tasks_by_status.pending = 5;
        let wire = |id: &str, stale: bool, realtime: RealTime, cumulative: Option<Cumulative>| {
            let s =
                WireSnapshot { id: id.into(), rev: 3, at: "2026-11-27T09:15:00Z".into(), stale, realtime, cumulative };
            serde_json::to_string(&ServerMessage::Snapshot(Box::new(s))).expect("ser")
        };
        use wallboard_shared::ws::{Cumulative, RealTime};
        let queue = wire(
            "tq-1",
            true,
            TaskQueueRealTimeStatistics {
                account_sid: ac.clone(),
                workspace_sid: ws.clone(),
                task_queue_sid: wq.clone(),
                stats: queue_rt,
                url: "http://h/q".into(),
            }
            .into(),
            Some(
                TaskQueueCumulativeStatistics {
                    account_sid: ac.clone(),
                    workspace_sid: ws.clone(),
                    task_queue_sid: wq.clone(),
                    stats: TaskQueueCumulativeStats {
                        start_time: t,
                        end_time: t,
                        split_by_wait_time: Some(wallboard_shared::resources::SplitByWaitTime(vec![(
                            20,
                            split(3, 0, 1, 0),
                        )])),
                        ..Default::default()
                    },
                    url: "http://h/qc".into(),
                }
                .into(),
            ),
        );
        let Frame::Snapshot(got) = parse(&queue).expect("parse") else { panic!("{queue}") };
        assert!(got.stale, "the server's staleness is kept");
        assert_eq!((got.realtime(), got.cumulative()), (None, None), "not a workflow");
        let q = got.queue().expect("a task queue");
        assert_eq!(q.task_queue_sid, wq.to_string());
        assert_eq!((q.realtime.tasks_by_status.pending, q.realtime.longest_task_waiting_age), (5, 75));
        assert_eq!((q.realtime.total_available_workers, q.realtime.total_eligible_workers), (2, 6));
        assert_eq!(q.realtime.activity_statistics[0].workers, 4);
        // 3 accepted below 20 s, 1 above: 75 %.
        assert_eq!(q.cumulative.service_level(&wallboard_shared::service_level::Definition::BUILT_IN), Some(0.75));

        let mut ws_rt = WorkspaceRealTimeStats {
            total_workers: 9,
            activity_statistics: vec![break_.clone()],
            ..Default::default()
        };
        ws_rt.tasks_by_status.pending = 8;
        let workspace = wire(
            "ws-1",
            false,
            WorkspaceRealTimeStatistics {
                account_sid: ac.clone(),
                workspace_sid: ws.clone(),
                stats: ws_rt,
                url: "http://h/w".into(),
            }
            .into(),
            None,
        );
        let Frame::Snapshot(got) = parse(&workspace).expect("parse") else { panic!("{workspace}") };
        let w = got.workspace().expect("the workspace");
        assert_eq!((w.realtime.tasks_by_status.pending, w.realtime.total_workers), (8, 9));
        assert_eq!(w.cumulative, WindowCounts::default(), "no window asked");

        let workers = wire(
            "wk-1",
            false,
            WorkersRealTimeStatistics {
                account_sid: ac.clone(),
                workspace_sid: ws.clone(),
                stats: WorkersRealTimeStats { activity_statistics: vec![break_], total_workers: 11 },
                url: "http://h/k".into(),
            }
            .into(),
            None,
        );
        let Frame::Snapshot(got) = parse(&workers).expect("parse") else { panic!("{workers}") };
        let k = got.workers().expect("the workers");
        assert_eq!((k.total_workers, k.activity_statistics[0].friendly_name.as_str()), (11, "Break"));
        assert!(got.queue().is_none() && got.workspace().is_none());

        // `target` after the statistics reads the same.
        let mut v: serde_json::Value = serde_json::from_str(&workers).expect("json");
        let target = v.as_object_mut().and_then(|o| o.remove("target")).expect("target");
        v.as_object_mut().expect("object").insert("target".into(), target);
        let moved = serde_json::to_string(&v).expect("ser");
        assert!(moved.find("\"target\"") > moved.find("\"realtime\""), "{moved}");
        assert_eq!(parse(&moved), parse(&workers));
        // A resource of the wrong kind for its target is an error, not a guess.
        assert!(parse(&workers.replace("\"target\":\"workers\"", "\"target\":\"task_queue\"")).is_err());
    }
}
