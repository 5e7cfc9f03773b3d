//! TaskRouter's Event resource (`GET /v1/Workspaces/{WS}/Events`), also the line format of
//! `wallboard import` (one JSON object per line).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// An event as TaskRouter's Events API returns it. Every field is optional on input so
/// that the importer can say exactly which one is missing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EventResource {
    pub account_sid: Option<String>,
    pub actor_sid: Option<String>,
    pub actor_type: Option<String>,
    pub actor_url: Option<String>,
    pub description: Option<String>,
    /// snake_case fields such as `task_sid`, `workflow_sid`, `task_channel_unique_name`.
    pub event_data: Option<Map<String, Value>>,
    pub event_date: Option<String>,
    pub event_date_ms: Option<i64>,
    pub event_type: Option<String>,
    pub resource_sid: Option<String>,
    pub resource_type: Option<String>,
    pub resource_url: Option<String>,
    pub sid: Option<String>,
    pub source: Option<String>,
    pub source_ip_address: Option<String>,
    pub url: Option<String>,
    pub workspace_sid: Option<String>,
}

/// A page of the Events list resource (`GET /v1/Workspaces/{WS}/Events`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventPage {
    pub events: Vec<EventResource>,
    pub meta: crate::resources::PageMeta,
}

/// The answer to a batch of Event Streams CloudEvents (`POST /webhooks/eventstreams`):
/// how many were received, newly stored, already stored (the same event SID came before,
/// by either door), and which were refused and why. The good events of a batch are stored
/// even when others are refused.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BatchReport {
    pub received: usize,
    pub stored: usize,
    pub duplicates: usize,
    /// Sink test events (`com.twilio.eventstreams.test-event`), logged with their test id.
    pub tests: usize,
    pub refused: Vec<RefusedEvent>,
}

/// A CloudEvent of a batch that was not stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedEvent {
    /// Its position in the batch, from 0.
    pub index: usize,
    /// Its CloudEvents `id` and `type`, when they are strings.
    pub id: Option<String>,
    #[serde(rename = "type")]
    pub event_type: Option<String>,
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_events_api_json() {
        let line = r#"{"sid":"EV00000000000000000000000000000001","event_type":"task.created",
            "event_date_ms":1700000000000,"workspace_sid":"WS00000000000000000000000000000001",
            "event_data":{"task_sid":"WT00000000000000000000000000000001","task_priority":"5"}}"#;
        let e: EventResource = serde_json::from_str(line).expect("parse");
        assert_eq!(e.event_type.as_deref(), Some("task.created"));
        assert_eq!(e.event_data.as_ref().and_then(|d| d.get("task_priority")), Some(&Value::from("5")));
        let back: EventResource = serde_json::from_str(&serde_json::to_string(&e).expect("ser")).expect("de");
        assert_eq!(back, e);
    }
}
