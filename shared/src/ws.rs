//! WebSocket protocol v1 (`GET /ws`, JSON text frames), as specified in docs/design.md.

use serde::{Deserialize, Serialize};

use crate::query::{DateBound, QueryError, StatisticsQuery, WindowSpec};
use crate::resources::{WorkflowCumulativeStatistics, WorkflowRealTimeStatistics};

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
    Subscribe {
        id: String,
        workspace_sid: String,
        workflow_sid: String,
        #[serde(default)]
        task_channel: Option<String>,
        #[serde(default)]
        cumulative: Option<CumulativeRequest>,
    },
    Unsubscribe {
        id: String,
    },
    Ping,
    Auth {
        token: String,
    },
}

/// A snapshot: the whole current state of one subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub id: String,
    pub rev: u64,
    /// When the numbers were computed (`YYYY-MM-DDTHH:MM:SSZ`).
    pub at: String,
    pub stale: bool,
    pub realtime: WorkflowRealTimeStatistics,
    pub cumulative: Option<WorkflowCumulativeStatistics>,
}

/// Frames from the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    Snapshot(Box<Snapshot>),
    Error { id: Option<String>, code: u32, message: String },
    Pong,
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
    fn server_frames_round_trip() {
        let e = ServerMessage::Error { id: None, code: 20001, message: "bad".into() };
        let json = serde_json::to_string(&e).expect("ser");
        assert_eq!(json, r#"{"type":"error","id":null,"code":20001,"message":"bad"}"#);
        assert_eq!(serde_json::to_string(&ServerMessage::Pong).expect("ser"), r#"{"type":"pong"}"#);
        let back: ServerMessage = serde_json::from_str(&json).expect("de");
        assert_eq!(back, e);
    }
}
