//! Reading the server's frames (WebSocket protocol v1, `wallboard_shared::ws::ServerMessage`).
//!
//! The shared types define the protocol; this reader takes from a frame only what the
//! dashboard shows, straight into the statistics types (`RealTimeStats`, `CumulativeStats`),
//! skipping the sids and urls around them. Deserializing `ServerMessage` itself (an
//! internally tagged enum holding `#[serde(flatten)]` structs) goes through serde's
//! buffering `Content` path, which would cost the wasm a second copy of every statistics
//! deserializer. The tests check this reader against frames written by the shared types.

use serde::Deserialize;
use wallboard_shared::resources::{CumulativeStats, RealTimeStats};

/// One subscription's state, as a `snapshot` frame carries it.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub id: String,
    pub rev: u64,
    /// When the numbers were computed (`YYYY-MM-DDTHH:MM:SSZ`).
    pub at: String,
    pub stale: bool,
    pub realtime: RealTimeStats,
    /// None when the subscription asked for no cumulative statistics.
    pub cumulative: Option<CumulativeStats>,
}

/// A frame from the server.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    Snapshot(Box<Snapshot>),
    Error { id: Option<String>, code: u32, message: String },
    Pong,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Snapshot,
    Error,
    Pong,
}

/// Every field of every frame type, flat.
#[derive(Deserialize)]
struct Raw {
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
    realtime: Option<RealTimeStats>,
    #[serde(default)]
    cumulative: Option<CumulativeStats>,
    #[serde(default)]
    code: u32,
    #[serde(default)]
    message: String,
}

/// Reads a text frame.
pub fn parse(text: &str) -> Result<Frame, String> {
    let raw: Raw = serde_json::from_str(text).map_err(|e| e.to_string())?;
    Ok(match raw.kind {
        Kind::Snapshot => Frame::Snapshot(Box::new(Snapshot {
            id: raw.id.ok_or("a snapshot without id")?,
            rev: raw.rev,
            at: raw.at,
            stale: raw.stale,
            realtime: raw.realtime.ok_or("a snapshot without realtime statistics")?,
            cumulative: raw.cumulative,
        })),
        Kind::Error => Frame::Error { id: raw.id, code: raw.code, message: raw.message },
        Kind::Pong => Frame::Pong,
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
            assert_eq!(Some(&got.realtime), sent.realtime.as_workflow().map(|r| &r.stats));
            assert_eq!(got.cumulative, c);
        }
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
}
