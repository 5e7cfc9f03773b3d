//! Where alert rules, alerts, acknowledgements, webhooks and dead letters live: documents
//! of the [`DocumentStore`] (so they are durable and shared by every node on PostgreSQL),
//! under these keys:
//!
//! | key | body |
//! | --- | --- |
//! | `alert_rule/{WS}/{AR…}` | [`Rule`] |
//! | `alert/{WS}/{AL…}` | [`Alert`], the history (written when it fires and when it clears) |
//! | `alert_active/{WS}/{AL…}` | [`Alert`], present while it fires |
//! | `alert_ack/{WS}/{AL…}` | [`Ack`] (a document of its own, so an acknowledgement never races the evaluator's writes) |
//! | `alert_webhook/{WS}/{AW…}` | [`StoredWebhook`] |
//! | `alert_dead/{WS}/{AW…}/{ms:013}-{AL…}` | [`DeadLetter`] |
//! | `alert_outbox/{WS}/{AW…}/{AL…}-{fired\|cleared}` | [`wallboard_shared::alerts::Notice`] not yet delivered nor dead-lettered |
//!
//! A document that does not parse (written by a newer version, or by hand) is skipped and
//! logged, never an error for the reader.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wallboard_shared::alerts::{Alert, DeadLetter, WebhookFormat};
use wallboard_shared::sid::WorkspaceSid;
use wallboard_shared::time::twilio_format;

use super::notify::WebhookConfig;
use crate::storage::{Document, DocumentStore, StorageError};

pub const RULE: &str = "alert_rule/";
pub const ALERT: &str = "alert/";
pub const ACTIVE: &str = "alert_active/";
pub const ACK: &str = "alert_ack/";
pub const WEBHOOK: &str = "alert_webhook/";
pub const DEAD: &str = "alert_dead/";
pub const OUTBOX: &str = "alert_outbox/";

/// The outbox key of the delivery of `alert`'s `kind` notice to webhook `hook`.
pub fn outbox_key(ws: &WorkspaceSid, hook: &str, alert: &str, kind: wallboard_shared::alerts::NoticeKind) -> String {
    let kind = match kind {
        wallboard_shared::alerts::NoticeKind::Fired => "fired",
        wallboard_shared::alerts::NoticeKind::Cleared => "cleared",
    };
    format!("{OUTBOX}{ws}/{hook}/{alert}-{kind}")
}

/// The webhook SID of an outbox key.
pub fn outbox_webhook(key: &str) -> Option<&str> {
    key.strip_prefix(OUTBOX)?.split('/').nth(1)
}

/// Who acknowledged an alert, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    pub by: String,
    #[serde(with = "twilio_format")]
    pub at: DateTime<Utc>,
}

/// A webhook as stored: its configuration and when it was created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredWebhook {
    pub sid: String,
    pub url: String,
    pub format: WebhookFormat,
    pub secret: String,
    #[serde(with = "twilio_format")]
    pub date_created: DateTime<Utc>,
}

impl StoredWebhook {
    pub fn config(&self) -> WebhookConfig {
        WebhookConfig { sid: self.sid.clone(), url: self.url.clone(), format: self.format, secret: self.secret.clone() }
    }
}

pub fn key(kind: &str, ws: &WorkspaceSid, sid: &str) -> String {
    format!("{kind}{ws}/{sid}")
}

fn parse<T: DeserializeOwned>(d: &Document) -> Option<T> {
    match serde_json::from_str(&d.body) {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::warn!(key = %d.key, error = %e, "ignoring a stored alert document");
            None
        }
    }
}

/// The workspace SID of a key `{kind}{WS}/…`.
fn workspace_of(kind: &str, key: &str) -> Option<WorkspaceSid> {
    let rest = key.strip_prefix(kind)?;
    WorkspaceSid::parse(rest.split('/').next()?).ok()
}

/// Every document of a kind (optionally of one workspace), parsed, with its workspace.
pub fn list<T: DeserializeOwned>(
    store: &dyn DocumentStore,
    kind: &str,
    ws: Option<&WorkspaceSid>,
) -> Result<Vec<(WorkspaceSid, T)>, StorageError> {
    let prefix = match ws {
        Some(ws) => format!("{kind}{ws}/"),
        None => kind.to_owned(),
    };
    Ok(store.list(&prefix)?.iter().filter_map(|d| Some((workspace_of(kind, &d.key)?, parse(d)?))).collect())
}

pub fn get<T: DeserializeOwned>(
    store: &dyn DocumentStore,
    kind: &str,
    ws: &WorkspaceSid,
    sid: &str,
) -> Result<Option<T>, StorageError> {
    Ok(store.get(&key(kind, ws, sid))?.as_ref().and_then(parse))
}

pub fn put<T: Serialize>(
    store: &mut dyn DocumentStore,
    kind: &str,
    ws: &WorkspaceSid,
    sid: &str,
    value: &T,
    now_ms: i64,
) -> Result<(), StorageError> {
    let body = serde_json::to_string(value).map_err(|e| StorageError::Corrupt(e.to_string()))?;
    store.put(&key(kind, ws, sid), &body, now_ms)?;
    Ok(())
}

/// An alert with its acknowledgement (if any) filled in.
pub fn with_ack(mut alert: Alert, ack: Option<Ack>) -> Alert {
    if let Some(a) = ack {
        alert.date_acknowledged = Some(a.at);
        alert.acknowledged_by = Some(a.by);
    }
    alert
}

/// The alerts firing now (every workspace), acknowledgements filled in, oldest first.
pub fn active(store: &dyn DocumentStore) -> Result<Vec<(WorkspaceSid, Alert)>, StorageError> {
    let mut out = Vec::new();
    for (ws, alert) in list::<Alert>(store, ACTIVE, None)? {
        let ack = get::<Ack>(store, ACK, &ws, &alert.sid)?;
        out.push((ws, with_ack(alert, ack)));
    }
    out.sort_by(|a, b| (a.1.date_fired, &a.1.sid).cmp(&(b.1.date_fired, &b.1.sid)));
    Ok(out)
}

/// A workspace's alert history, newest first, acknowledgements filled in.
pub fn history(store: &dyn DocumentStore, ws: &WorkspaceSid) -> Result<Vec<Alert>, StorageError> {
    let acks: Vec<(String, Ack)> = store
        .list(&format!("{ACK}{ws}/"))?
        .iter()
        .filter_map(|d| Some((d.key.rsplit('/').next()?.to_owned(), parse::<Ack>(d)?)))
        .collect();
    let mut out: Vec<Alert> = list::<Alert>(store, ALERT, Some(ws))?
        .into_iter()
        .map(|(_, a)| {
            let ack = acks.iter().find(|(sid, _)| *sid == a.sid).map(|(_, ack)| ack.clone());
            with_ack(a, ack)
        })
        .collect();
    out.sort_by(|a, b| (b.date_fired, &b.sid).cmp(&(a.date_fired, &a.sid)));
    Ok(out)
}

/// The dead letters of a webhook, oldest first.
pub fn dead_letters(
    store: &dyn DocumentStore,
    ws: &WorkspaceSid,
    webhook: &str,
) -> Result<Vec<DeadLetter>, StorageError> {
    Ok(store.list(&format!("{DEAD}{ws}/{webhook}/"))?.iter().filter_map(parse).collect())
}

/// A new SID with `prefix` and 32 hex digits from the operating system's randomness.
pub fn new_sid(prefix: &str) -> String {
    format!("{prefix}{:032x}", rand::random::<u128>())
}
