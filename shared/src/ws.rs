//! WebSocket protocol v1 (`GET /ws`, JSON text frames), as specified in docs/design.md,
//! with its additions: targets, alerts and (v1.1) a subscription's history.

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::query::{DateBound, QueryError, StatisticsQuery, WindowSpec};
use crate::queues::{TaskQueueCumulativeStatistics, TaskQueueRealTimeStatistics};
use crate::resources::{WorkflowCumulativeStatistics, WorkflowRealTimeStatistics};
use crate::sid::{TaskQueueSid, WorkflowSid};
use crate::workers::{WorkersCumulativeStatistics, WorkersRealTimeStatistics};
use crate::workspace::{WorkspaceCumulativeStatistics, WorkspaceRealTimeStatistics};

/// The cumulative part of a subscription: `minutes`, or `start_date`/`end_date`, and thresholds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CumulativeRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split_by_wait_time: Option<Vec<u32>>,
}

impl CumulativeRequest {
    /// The same validation as the REST parameters (Minutes, StartDate, EndDate, SplitByWaitTime).
    pub fn to_query(&self, task_channel: Option<&str>) -> Result<StatisticsQuery, QueryError> {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(m) = self.minutes {
            pairs.push(("Minutes", m.to_string()));
        }
        if let Some(s) = &self.start_date {
            pairs.push(("StartDate", s.clone()));
        }
        if let Some(e) = &self.end_date {
            pairs.push(("EndDate", e.clone()));
        }
        if let Some(t) = &self.split_by_wait_time {
            let list: Vec<String> = t.iter().map(u32::to_string).collect();
            pairs.push(("SplitByWaitTime", list.join(",")));
        }
        if let Some(c) = task_channel {
            pairs.push(("TaskChannel", c.to_owned()));
        }
        StatisticsQuery::parse(pairs.iter().map(|(k, v)| (*k, v.as_str())))
    }

    /// [`CumulativeRequest::to_query`] for a target: the workers' statistics take no
    /// `SplitByWaitTime`, so asking for a split there is an error rather than ignored.
    pub fn to_target_query(&self, kind: TargetKind, task_channel: Option<&str>) -> Result<StatisticsQuery, QueryError> {
        if kind == TargetKind::Workers && self.split_by_wait_time.is_some() {
            return Err(QueryError("split_by_wait_time does not apply to the workers target".into()));
        }
        self.to_query(task_channel)
    }

    /// The request that [`CumulativeRequest::to_query`] turns back into `query`'s window
    /// and thresholds (the dashboard builds subscriptions from its URL state this way).
    pub fn from_query(query: &StatisticsQuery) -> Self {
        let bound = |b: &DateBound| b.to_param();
        let (minutes, start_date, end_date) = match &query.window {
            WindowSpec::Minutes(m) => (Some(*m), None, None),
            WindowSpec::Range { start, end } => (None, start.as_ref().map(bound), end.as_ref().map(bound)),
        };
        Self { minutes, start_date, end_date, split_by_wait_time: query.split_by_wait_time.clone() }
    }
}

/// Frames from the client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    /// Names what to watch with `workflow_sid` (protocol v1, still the way to watch a
    /// workflow) or with `target` (any target); [`resolve_target`] checks and combines them.
    Subscribe {
        id: String,
        workspace_sid: String,
        /// Empty (and absent on the wire) when `target` names the subject instead.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        workflow_sid: String,
        #[serde(default)]
        task_channel: Option<String>,
        #[serde(default)]
        cumulative: Option<CumulativeRequest>,
        /// Absent in protocol v1 frames, and left out when serializing a workflow
        /// subscription made with `workflow_sid`, so those frames stay byte-identical.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        target: Option<TargetRequest>,
        /// Asks for a `history` frame (the last N minutes, 1 to [`MAX_HISTORY_MINUTES`])
        /// before the first snapshot. Absent: no history frame (protocol v1 clients).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        history_minutes: Option<u32>,
    },
    Unsubscribe {
        id: String,
    },
    Ping,
    Auth {
        token: String,
    },
    /// Asks for the alerts firing in a workspace: an `alerts` frame now and whenever they
    /// change (fired, acknowledged, cleared). Protocol v1 clients never send it, so they
    /// never receive `alerts` frames.
    WatchAlerts {
        workspace_sid: String,
    },
}

/// What a subscription watches. Workflows and task queues are named by SID; the workspace
/// and its workers are those of the subscription's `workspace_sid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    Workflow,
    TaskQueue,
    Workspace,
    Workers,
}

/// The `target` of a subscribe frame, as the client writes it:
/// `{"kind":"workflow","sid":"WW…"}`, `{"kind":"task_queue","sid":"WQ…"}`,
/// `{"kind":"workspace"}` or `{"kind":"workers"}`. SIDs stay strings here so that a bad one
/// is answered with an error naming the subscription, not a refused frame.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum TargetRequest {
    Workflow { sid: String },
    TaskQueue { sid: String },
    Workspace,
    Workers,
}

/// A checked subscription target.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    Workflow(WorkflowSid),
    TaskQueue(TaskQueueSid),
    Workspace,
    Workers,
}

impl Target {
    pub fn kind(&self) -> TargetKind {
        match self {
            Self::Workflow(_) => TargetKind::Workflow,
            Self::TaskQueue(_) => TargetKind::TaskQueue,
            Self::Workspace => TargetKind::Workspace,
            Self::Workers => TargetKind::Workers,
        }
    }

    /// The `target` field that names this target in a subscribe frame.
    pub fn to_request(&self) -> TargetRequest {
        match self {
            Self::Workflow(sid) => TargetRequest::Workflow { sid: sid.to_string() },
            Self::TaskQueue(sid) => TargetRequest::TaskQueue { sid: sid.to_string() },
            Self::Workspace => TargetRequest::Workspace,
            Self::Workers => TargetRequest::Workers,
        }
    }
}

/// Checks a subscribe frame's `workflow_sid` and `target` (exactly one of them names the
/// subject; an empty `workflow_sid` counts as absent) and returns the target.
pub fn resolve_target(workflow_sid: &str, target: Option<&TargetRequest>) -> Result<Target, QueryError> {
    let invalid = |field: &str, e: crate::sid::SidError| QueryError(format!("{field}: {e}"));
    match (workflow_sid.is_empty(), target) {
        (false, Some(_)) => Err(QueryError("give workflow_sid or target, not both".into())),
        (true, None) => Err(QueryError("a subscription needs workflow_sid or target".into())),
        (false, None) => WorkflowSid::parse(workflow_sid).map(Target::Workflow).map_err(|e| invalid("workflow_sid", e)),
        (true, Some(TargetRequest::Workflow { sid })) => {
            WorkflowSid::parse(sid).map(Target::Workflow).map_err(|e| invalid("target.sid", e))
        }
        (true, Some(TargetRequest::TaskQueue { sid })) => {
            TaskQueueSid::parse(sid).map(Target::TaskQueue).map_err(|e| invalid("target.sid", e))
        }
        (true, Some(TargetRequest::Workspace)) => Ok(Target::Workspace),
        (true, Some(TargetRequest::Workers)) => Ok(Target::Workers),
    }
}

/// One resource per target kind, serialized as the resource alone (no tag: the snapshot's
/// `target` names the kind), with conversions from each resource and typed accessors.
macro_rules! per_target {
    ($(#[$doc:meta])* $name:ident { $wf:ty, $tq:ty, $ws:ty, $wk:ty }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize)]
        #[serde(untagged)]
        pub enum $name {
            Workflow($wf),
            TaskQueue($tq),
            Workspace($ws),
            Workers($wk),
        }

        impl $name {
            pub fn kind(&self) -> TargetKind {
                match self {
                    Self::Workflow(_) => TargetKind::Workflow,
                    Self::TaskQueue(_) => TargetKind::TaskQueue,
                    Self::Workspace(_) => TargetKind::Workspace,
                    Self::Workers(_) => TargetKind::Workers,
                }
            }

            /// Decodes `value` as the resource of `kind`.
            fn from_value(kind: TargetKind, value: serde_json::Value) -> Result<Self, serde_json::Error> {
                Ok(match kind {
                    TargetKind::Workflow => Self::Workflow(serde_json::from_value(value)?),
                    TargetKind::TaskQueue => Self::TaskQueue(serde_json::from_value(value)?),
                    TargetKind::Workspace => Self::Workspace(serde_json::from_value(value)?),
                    TargetKind::Workers => Self::Workers(serde_json::from_value(value)?),
                })
            }

            pub fn as_workflow(&self) -> Option<&$wf> {
                if let Self::Workflow(v) = self { Some(v) } else { None }
            }

            pub fn as_task_queue(&self) -> Option<&$tq> {
                if let Self::TaskQueue(v) = self { Some(v) } else { None }
            }

            pub fn as_workspace(&self) -> Option<&$ws> {
                if let Self::Workspace(v) = self { Some(v) } else { None }
            }

            pub fn as_workers(&self) -> Option<&$wk> {
                if let Self::Workers(v) = self { Some(v) } else { None }
            }
        }

        impl From<$wf> for $name {
            fn from(v: $wf) -> Self {
                Self::Workflow(v)
            }
        }

        impl From<$tq> for $name {
            fn from(v: $tq) -> Self {
                Self::TaskQueue(v)
            }
        }

        impl From<$ws> for $name {
            fn from(v: $ws) -> Self {
                Self::Workspace(v)
            }
        }

        impl From<$wk> for $name {
            fn from(v: $wk) -> Self {
                Self::Workers(v)
            }
        }
    };
}

per_target!(
    /// A snapshot's `realtime`: the RealTimeStatistics resource of its target.
    RealTime {
        WorkflowRealTimeStatistics,
        TaskQueueRealTimeStatistics,
        WorkspaceRealTimeStatistics,
        WorkersRealTimeStatistics
    }
);

per_target!(
    /// A snapshot's `cumulative`: the CumulativeStatistics resource of its target.
    Cumulative {
        WorkflowCumulativeStatistics,
        TaskQueueCumulativeStatistics,
        WorkspaceCumulativeStatistics,
        WorkersCumulativeStatistics
    }
);

/// A snapshot: the whole current state of one subscription.
///
/// On the wire a workflow snapshot is exactly protocol v1's
/// (`id, rev, at, stale, realtime, cumulative`); any other target adds
/// `"target": "<kind>"` before `realtime`, and `realtime`/`cumulative` are that target's
/// resources. Reading decodes them by `target` (absent means workflow), never by guessing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub id: String,
    pub rev: u64,
    /// When the numbers were computed (`YYYY-MM-DDTHH:MM:SSZ`).
    pub at: String,
    pub stale: bool,
    pub realtime: RealTime,
    /// Of the same target kind as `realtime` (serializing refuses a mix).
    pub cumulative: Option<Cumulative>,
}

impl Snapshot {
    /// The kind of the subscription's target.
    pub fn target(&self) -> TargetKind {
        self.realtime.kind()
    }
}

impl Serialize for Snapshot {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let kind = self.realtime.kind();
        if let Some(c) = &self.cumulative
            && c.kind() != kind
        {
            return Err(serde::ser::Error::custom("a snapshot's realtime and cumulative are of different targets"));
        }
        // v1 frames (workflows) carry no `target`: their bytes stay what old clients know.
        let tagged = kind != TargetKind::Workflow;
        let mut m = s.serialize_map(Some(if tagged { 7 } else { 6 }))?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("rev", &self.rev)?;
        m.serialize_entry("at", &self.at)?;
        m.serialize_entry("stale", &self.stale)?;
        if tagged {
            m.serialize_entry("target", &kind)?;
        }
        m.serialize_entry("realtime", &self.realtime)?;
        m.serialize_entry("cumulative", &self.cumulative)?;
        m.end()
    }
}

impl<'de> Deserialize<'de> for Snapshot {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(SnapshotVisitor)
    }
}

struct SnapshotVisitor;

impl<'de> Visitor<'de> for SnapshotVisitor {
    type Value = Snapshot;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a snapshot object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Snapshot, A::Error> {
        fn put<T, E: de::Error>(slot: &mut Option<T>, name: &'static str, v: T) -> Result<(), E> {
            if slot.replace(v).is_some() {
                return Err(E::duplicate_field(name));
            }
            Ok(())
        }
        let (mut id, mut rev, mut at, mut stale, mut target) = (None, None, None, None, None);
        // `target` may follow the statistics in a JSON object, so they are kept as values
        // until the whole object is read.
        let (mut realtime, mut cumulative) = (None::<serde_json::Value>, None::<serde_json::Value>);
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "id" => put(&mut id, "id", map.next_value::<String>()?)?,
                "rev" => put(&mut rev, "rev", map.next_value::<u64>()?)?,
                "at" => put(&mut at, "at", map.next_value::<String>()?)?,
                "stale" => put(&mut stale, "stale", map.next_value::<bool>()?)?,
                "target" => put(&mut target, "target", map.next_value::<TargetKind>()?)?,
                "realtime" => put(&mut realtime, "realtime", map.next_value()?)?,
                "cumulative" => put(&mut cumulative, "cumulative", map.next_value()?)?,
                _ => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        let kind = target.unwrap_or(TargetKind::Workflow);
        let realtime = realtime.ok_or_else(|| de::Error::missing_field("realtime"))?;
        let cumulative = match cumulative {
            None | Some(serde_json::Value::Null) => None,
            Some(v) => Some(Cumulative::from_value(kind, v).map_err(de::Error::custom)?),
        };
        Ok(Snapshot {
            id: id.ok_or_else(|| de::Error::missing_field("id"))?,
            rev: rev.ok_or_else(|| de::Error::missing_field("rev"))?,
            at: at.ok_or_else(|| de::Error::missing_field("at"))?,
            stale: stale.ok_or_else(|| de::Error::missing_field("stale"))?,
            realtime: RealTime::from_value(kind, realtime).map_err(de::Error::custom)?,
            cumulative,
        })
    }
}

/// The most history a subscription may ask for: a day (what the server keeps).
pub const MAX_HISTORY_MINUTES: u32 = 1440;

/// A subscription's realtime numbers at regular instants of the past, sent once right after
/// a subscribe that asked for it (`history_minutes`), before its first snapshot. Snapshots
/// are shared between subscribers; a history depends on when one subscribed, so it is a
/// frame of its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    pub id: String,
    /// Between two samples (10 000).
    pub interval_ms: i64,
    /// The instant of the first sample (`YYYY-MM-DDTHH:MM:SSZ`); the i-th is
    /// `start + i × interval_ms`.
    pub start: String,
    /// Oldest first, each `[pending, reserved, assigned, wrapping, longest_wait_s]`: the
    /// live tasks by status and the longest waiting task's age in seconds at that instant.
    /// Empty when the server keeps none for the target (queues, workers, a mirror).
    pub samples: Vec<[u64; 5]>,
}

/// Frames from the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    Snapshot(Box<Snapshot>),
    Error {
        id: Option<String>,
        code: u32,
        message: String,
    },
    Pong,
    /// The alerts firing now in a workspace (after `watch_alerts`), oldest first, each
    /// with its acknowledgement; an empty list when none fires.
    Alerts {
        workspace_sid: String,
        alerts: Vec<crate::alerts::Alert>,
    },
    History(History),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_frames_of_the_design_parse() {
        let s = r#"{"type":"subscribe","id":"s1","workspace_sid":"WS00000000000000000000000000000001","workflow_sid":"WW00000000000000000000000000000001","task_channel":null,"cumulative":{"minutes":15,"split_by_wait_time":[20,60]}}"#;
        let m: ClientMessage = serde_json::from_str(s).expect("parse");
        let ClientMessage::Subscribe { id, cumulative: Some(c), .. } = &m else { panic!("{m:?}") };
        assert_eq!(id, "s1");
        let q = c.to_query(None).expect("valid");
        assert_eq!(q.window, WindowSpec::Minutes(15));
        assert_eq!(q.split_by_wait_time, Some(vec![20, 60]));
        assert_eq!(CumulativeRequest::from_query(&q), *c);
        let back: ClientMessage = serde_json::from_str(&serde_json::to_string(&m).expect("ser")).expect("de");
        assert_eq!(back, m);
        assert_eq!(serde_json::from_str::<ClientMessage>(r#"{"type":"ping"}"#).expect("ping"), ClientMessage::Ping);
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"dance"}"#).is_err());
        let bad = CumulativeRequest { minutes: Some(5), start_date: Some("2026-11-27".into()), ..Default::default() };
        assert!(bad.to_query(None).is_err());
    }

    #[test]
    fn history_frames_and_requests() {
        let h = ServerMessage::History(History {
            id: "s1".into(),
            interval_ms: 10_000,
            start: "2026-11-27T09:00:00Z".into(),
            samples: vec![[1, 0, 2, 0, 30]],
        });
        let json = serde_json::to_string(&h).expect("ser");
        assert_eq!(
            json,
            r#"{"type":"history","id":"s1","interval_ms":10000,"start":"2026-11-27T09:00:00Z","samples":[[1,0,2,0,30]]}"#
        );
        assert_eq!(serde_json::from_str::<ServerMessage>(&json).expect("de"), h);
        let s = r#"{"type":"subscribe","id":"s1","workspace_sid":"WS00000000000000000000000000000001","workflow_sid":"WW00000000000000000000000000000001","history_minutes":60}"#;
        let m: ClientMessage = serde_json::from_str(s).expect("parse");
        assert!(matches!(m, ClientMessage::Subscribe { history_minutes: Some(60), .. }), "{m:?}");
        assert!(serde_json::from_str::<ClientMessage>(&s.replace("60", "-1")).is_err());
    }

    #[test]
    fn server_frames_round_trip() {
        let e = ServerMessage::Error { id: None, code: 20001, message: "bad".into() };
        let json = serde_json::to_string(&e).expect("ser");
        assert_eq!(json, r#"{"type":"error","id":null,"code":20001,"message":"bad"}"#);
        assert_eq!(serde_json::to_string(&ServerMessage::Pong).expect("ser"), r#"{"type":"pong"}"#);
        let back: ServerMessage = serde_json::from_str(&json).expect("de");
        assert_eq!(back, e);
    }

    /// Protocol v1 exactly as it was before targets: the old clients' and old server's types.
    mod v1 {
        use serde::Serialize;

        use super::CumulativeRequest;
        use crate::resources::{WorkflowCumulativeStatistics, WorkflowRealTimeStatistics};

        #[derive(Serialize)]
        #[serde(tag = "type", rename_all = "snake_case")]
        pub enum ClientMessage {
            Subscribe {
                id: String,
                workspace_sid: String,
                workflow_sid: String,
                task_channel: Option<String>,
                cumulative: Option<CumulativeRequest>,
            },
        }

        #[derive(Serialize)]
        pub struct Snapshot {
            pub id: String,
            pub rev: u64,
            pub at: String,
            pub stale: bool,
            pub realtime: WorkflowRealTimeStatistics,
            pub cumulative: Option<WorkflowCumulativeStatistics>,
        }

        #[derive(Serialize)]
        #[serde(tag = "type", rename_all = "snake_case")]
        pub enum ServerMessage {
            Snapshot(Box<Snapshot>),
        }
    }

    mod targets {
        use super::super::*;
        use super::v1;
        use crate::queues::tests as q;
        use crate::resources::RealTimeStats;
        use crate::sid::{AccountSid, WorkspaceSid};
        use crate::workers::WorkersRealTimeStats;
        use crate::workers::tests as wk;
        use crate::workspace::tests as ws;

        const WS: &str = "WS00000000000000000000000000000001";
        const WW: &str = "WW00000000000000000000000000000001";
        const WQ: &str = "WQ00000000000000000000000000000001";

        fn workflow_realtime() -> WorkflowRealTimeStatistics {
            let mut stats = RealTimeStats::default();
            stats.tasks_by_status.pending = 2;
            stats.total_tasks = 2;
            WorkflowRealTimeStatistics {
                account_sid: AccountSid::from_u128(1),
                workspace_sid: WorkspaceSid::from_u128(1),
                workflow_sid: WorkflowSid::from_u128(1),
                stats,
                url: "http://127.0.0.1:8080/v1/Workspaces/WS/Workflows/WW/RealTimeStatistics".into(),
            }
        }

        fn workflow_cumulative() -> WorkflowCumulativeStatistics {
            let v = serde_json::json!({
                "account_sid": AccountSid::from_u128(1), "workspace_sid": WS, "workflow_sid": WW,
                "avg_task_acceptance_time": 3, "start_time": "2026-11-27T09:00:00Z", "end_time": "2026-11-27T09:15:00Z",
                "reservations_created": 1, "reservations_accepted": 1, "reservations_rejected": 0,
                "reservations_timed_out": 0, "reservations_canceled": 0, "reservations_rescinded": 0,
                "split_by_wait_time": null,
                "wait_duration_until_accepted": {"avg": 3, "min": 3, "max": 3, "total": 3},
                "wait_duration_until_canceled": {"avg": 0, "min": 0, "max": 0, "total": 0},
                "tasks_canceled": 0, "tasks_completed": 1, "tasks_entered": 1, "tasks_deleted": 0,
                "tasks_moved": 0, "tasks_timed_out_in_workflow": 0, "url": "http://127.0.0.1:8080/v1/c"
            });
            serde_json::from_value(v).expect("a workflow cumulative resource")
        }

        #[test]
        fn v1_subscribe_frames_are_byte_identical_both_ways() {
            let cumulative =
                Some(CumulativeRequest { minutes: Some(15), split_by_wait_time: Some(vec![20]), ..Default::default() });
            for (channel, cumulative) in [(None, None), (Some("voice".to_owned()), cumulative)] {
                let old = v1::ClientMessage::Subscribe {
                    id: "s1".into(),
                    workspace_sid: WS.into(),
                    workflow_sid: WW.into(),
                    task_channel: channel.clone(),
                    cumulative: cumulative.clone(),
                };
                let new = ClientMessage::Subscribe {
                    id: "s1".into(),
                    workspace_sid: WS.into(),
                    workflow_sid: WW.into(),
                    task_channel: channel,
                    cumulative,
                    target: None,
                    history_minutes: None,
                };
                let old_text = serde_json::to_string(&old).expect("ser");
                assert_eq!(serde_json::to_string(&new).expect("ser"), old_text);
                let read: ClientMessage = serde_json::from_str(&old_text).expect("v1 frame parses");
                assert_eq!(read, new);
                assert_eq!(serde_json::to_string(&read).expect("ser"), old_text);
                let ClientMessage::Subscribe { workflow_sid, target, .. } = &read else { panic!("{read:?}") };
                assert_eq!(
                    resolve_target(workflow_sid, target.as_ref()),
                    Ok(Target::Workflow(WorkflowSid::from_u128(1)))
                );
            }
        }

        #[test]
        fn v1_snapshot_frames_are_byte_identical_both_ways() {
            for cumulative in [Some(workflow_cumulative()), None] {
                let old = v1::ServerMessage::Snapshot(Box::new(v1::Snapshot {
                    id: "s1".into(),
                    rev: 4,
                    at: "2026-11-27T09:15:00Z".into(),
                    stale: false,
                    realtime: workflow_realtime(),
                    cumulative: cumulative.clone(),
                }));
                let new = ServerMessage::Snapshot(Box::new(Snapshot {
                    id: "s1".into(),
                    rev: 4,
                    at: "2026-11-27T09:15:00Z".into(),
                    stale: false,
                    realtime: workflow_realtime().into(),
                    cumulative: cumulative.map(Into::into),
                }));
                let old_text = serde_json::to_string(&old).expect("ser");
                assert_eq!(serde_json::to_string(&new).expect("ser"), old_text);
                let read: ServerMessage = serde_json::from_str(&old_text).expect("v1 frame parses");
                assert_eq!(read, new);
                let ServerMessage::Snapshot(s) = &read else { panic!("{read:?}") };
                assert_eq!(s.target(), TargetKind::Workflow);
                assert_eq!(s.realtime.as_workflow().map(|r| r.stats.total_tasks), Some(2));
            }
        }

        #[test]
        fn target_subscriptions_round_trip_and_resolve() {
            let cases = [
                (
                    r#"{"kind":"task_queue","sid":"WQ00000000000000000000000000000001"}"#,
                    Target::TaskQueue(TaskQueueSid::from_u128(1)),
                ),
                (
                    r#"{"kind":"workflow","sid":"WW00000000000000000000000000000001"}"#,
                    Target::Workflow(WorkflowSid::from_u128(1)),
                ),
                (r#"{"kind":"workspace"}"#, Target::Workspace),
                (r#"{"kind":"workers"}"#, Target::Workers),
            ];
            for (target, want) in cases {
                let text = format!(
                    r#"{{"type":"subscribe","id":"t","workspace_sid":"{WS}","task_channel":null,"cumulative":null,"target":{target}}}"#
                );
                let m: ClientMessage = serde_json::from_str(&text).expect("parse");
                assert_eq!(serde_json::to_string(&m).expect("ser"), text, "no workflow_sid written back");
                let ClientMessage::Subscribe { workflow_sid, target, .. } = &m else { panic!("{m:?}") };
                let got = resolve_target(workflow_sid, target.as_ref()).expect("valid");
                assert_eq!(got, want);
                assert_eq!(got.to_request(), *target.as_ref().expect("a target"));
            }
        }

        #[test]
        fn target_errors() {
            let tq = |sid: &str| TargetRequest::TaskQueue { sid: sid.into() };
            assert!(resolve_target(WW, Some(&TargetRequest::Workspace)).is_err(), "both");
            assert!(resolve_target("", None).is_err(), "neither");
            assert!(resolve_target("WW1", None).expect_err("bad").0.starts_with("workflow_sid: 'WW1'"));
            assert!(resolve_target("", Some(&tq(WW))).expect_err("kind").0.starts_with("target.sid: "));
            assert_eq!(resolve_target("", Some(&tq(WQ))), Ok(Target::TaskQueue(TaskQueueSid::from_u128(1))));
            for bad in [
                r#"{"kind":"queue","sid":"WQ00000000000000000000000000000001"}"#,
                r#"{"kind":"task_queue"}"#,
                r#"{"kind":"task_queue","sid":"x","extra":1}"#,
                r#"{"sid":"x"}"#,
            ] {
                assert!(serde_json::from_str::<TargetRequest>(bad).is_err(), "{bad}");
            }
            let workers_split = CumulativeRequest { split_by_wait_time: Some(vec![5]), ..Default::default() };
            assert!(workers_split.to_target_query(TargetKind::Workers, None).is_err());
            assert!(workers_split.to_target_query(TargetKind::TaskQueue, None).is_ok());
        }

        fn round_trip(s: Snapshot, kind: &str) {
            let text = serde_json::to_string(&ServerMessage::Snapshot(Box::new(s.clone()))).expect("ser");
            let v: serde_json::Value = serde_json::from_str(&text).expect("json");
            assert_eq!(v["target"], kind, "{text}");
            let at = |key: &str| text.find(&format!("\"{key}\":")).unwrap_or_else(|| panic!("{key} in {text}"));
            let order = ["type", "id", "rev", "at", "stale", "target", "realtime", "cumulative"].map(at);
            assert!(order.is_sorted(), "target comes before the statistics: {text}");
            let back: ServerMessage = serde_json::from_str(&text).expect("de");
            assert_eq!(back, ServerMessage::Snapshot(Box::new(s.clone())));
            // Decoding does not depend on where `target` sits: serde_json's map writes keys
            // sorted, which puts `target` after `realtime`.
            let sorted = serde_json::to_string(&v).expect("ser");
            assert!(sorted.find("\"target\"") > sorted.find("\"realtime\""), "{sorted}");
            let back: ServerMessage = serde_json::from_str(&sorted).expect("de");
            assert_eq!(back, ServerMessage::Snapshot(Box::new(s)));
        }

        fn snapshot(realtime: RealTime, cumulative: Option<Cumulative>) -> Snapshot {
            Snapshot { id: "t".into(), rev: 1, at: "2026-11-27T09:15:00Z".into(), stale: true, realtime, cumulative }
        }

        #[test]
        fn target_snapshots_round_trip() {
            let (ac, wsid, url) = (AccountSid::from_u128(1), WorkspaceSid::from_u128(1), "http://x/v1".to_owned());
            let queue_rt = TaskQueueRealTimeStatistics {
                account_sid: ac.clone(),
                workspace_sid: wsid.clone(),
                task_queue_sid: TaskQueueSid::from_u128(1),
                stats: q::sample_realtime(),
                url: url.clone(),
            };
            let queue_cu = TaskQueueCumulativeStatistics {
                account_sid: ac.clone(),
                workspace_sid: wsid.clone(),
                task_queue_sid: TaskQueueSid::from_u128(1),
                stats: q::sample_cumulative(),
                url: url.clone(),
            };
            round_trip(snapshot(queue_rt.clone().into(), Some(queue_cu.into())), "task_queue");
            round_trip(snapshot(queue_rt.into(), None), "task_queue");
            let space_rt = WorkspaceRealTimeStatistics {
                account_sid: ac.clone(),
                workspace_sid: wsid.clone(),
                stats: ws::sample_realtime(),
                url: url.clone(),
            };
            let space_cu = WorkspaceCumulativeStatistics {
                account_sid: ac.clone(),
                workspace_sid: wsid.clone(),
                stats: ws::sample_cumulative(),
                url: url.clone(),
            };
            round_trip(snapshot(space_rt.into(), Some(space_cu.into())), "workspace");
            let workers_rt = WorkersRealTimeStatistics {
                account_sid: ac.clone(),
                workspace_sid: wsid.clone(),
                stats: WorkersRealTimeStats { activity_statistics: wk::activity_statistics(), total_workers: 3 },
                url: url.clone(),
            };
            let workers_cu = WorkersCumulativeStatistics {
                account_sid: ac,
                workspace_sid: wsid,
                stats: wk::sample_cumulative(),
                url,
            };
            round_trip(snapshot(workers_rt.clone().into(), Some(workers_cu.into())), "workers");
            // A mix of targets is refused, not written.
            let mixed = snapshot(workers_rt.into(), Some(workflow_cumulative().into()));
            assert!(serde_json::to_string(&mixed).is_err());
        }

        #[test]
        fn snapshot_decoding_is_by_target_not_by_shape() {
            // A workers realtime object under a task_queue target does not decode.
            let text = format!(
                r#"{{"type":"snapshot","id":"t","rev":1,"at":"x","stale":false,"target":"task_queue","realtime":{},"cumulative":null}}"#,
                serde_json::to_string(&WorkersRealTimeStatistics {
                    account_sid: AccountSid::from_u128(1),
                    workspace_sid: WorkspaceSid::from_u128(1),
                    stats: WorkersRealTimeStats::default(),
                    url: "http://x".into(),
                })
                .expect("ser")
            );
            assert!(serde_json::from_str::<ServerMessage>(&text).is_err());
            let unknown = r#"{"type":"snapshot","id":"t","rev":1,"at":"x","stale":false,"target":"galaxy","realtime":{},"cumulative":null}"#;
            assert!(serde_json::from_str::<ServerMessage>(unknown).is_err());
            let missing = r#"{"type":"snapshot","id":"t","rev":1,"at":"x","stale":false,"cumulative":null}"#;
            assert!(serde_json::from_str::<ServerMessage>(missing).is_err());
        }
    }
}
