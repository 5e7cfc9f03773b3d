//! The evaluator: while this node holds the `alerts` role, every rule is evaluated on every
//! change of the numbers (the `ChangeFeed`'s generation) and at least once a second (the
//! measures that move with the clock alone: longest wait, at risk, staleness); a rule's
//! [`Tracker`] turns values into *fired* and *cleared*; each transition is stored
//! (`store`) and sent to the workspace's webhooks (`notify`).
//!
//! On taking the role the evaluator reads the alerts still firing, so a restart or a
//! failover neither fires them again nor forgets to clear them. A write the store refuses
//! (the database away) is kept and retried on the next pass, before anything newer.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use wallboard_shared::alerts::{
    Alert, AlertStatus, DeadLetter, Notice, NoticeKind, Rule, RuleState, Sample, Tracker, Transition,
};
use wallboard_shared::sid::{AccountSid, WorkspaceSid};
use wallboard_shared::time::to_datetime;
use wallboard_shared::urls::Urls;

use super::notify::{DeadLetters, Notifier, WebhookConfig};
use super::store::{self, ACTIVE, ALERT, DEAD, OUTBOX, RULE, StoredWebhook};
use super::{Alerts, Documents, measure, with_docs};
use crate::clock::Clock;
use crate::service_levels::Settings;
use crate::source::Numbers;
use crate::storage::{DocumentStore, StorageError};

/// The longest time between two evaluations.
pub const TICK: Duration = Duration::from_secs(1);
/// The shortest time between two evaluations: a change right after an evaluation waits
/// this long at most, so a burst of events is a few evaluations, not one per event.
pub const MIN_GAP: Duration = Duration::from_millis(20);
/// How often the evaluator looks whether rules, definitions or webhooks changed.
pub const RELOAD_EVERY: Duration = Duration::from_millis(250);

/// What the evaluator needs.
#[derive(Debug)]
pub struct Evaluator {
    pub numbers: Numbers,
    /// Its own connection to the documents.
    pub docs: Documents,
    pub alerts: Arc<Alerts>,
    pub notifier: Notifier,
    pub clock: Arc<dyn Clock>,
    pub account_sid: AccountSid,
    pub urls: Urls,
    /// Alerts that cleared longer ago than this (the event retention) are forgotten, with
    /// their acknowledgements and dead letters.
    pub retention_ms: i64,
}

/// How often the evaluator forgets alerts past the retention.
pub const FORGET_EVERY: Duration = Duration::from_secs(3600);

/// Deletes the alerts that cleared before `before_ms`, their acknowledgements and dead
/// letters; returns how many alerts.
fn forget(d: &mut dyn DocumentStore, before_ms: i64) -> Result<usize, StorageError> {
    let old: Vec<(WorkspaceSid, String)> = store::list::<Alert>(d, ALERT, None)?
        .into_iter()
        .filter(|(_, a)| a.date_cleared.is_some_and(|c| c.timestamp_millis() < before_ms))
        .map(|(ws, a)| (ws, a.sid))
        .collect();
    for (ws, sid) in &old {
        d.delete(&store::key(ALERT, ws, sid))?;
        d.delete(&store::key(store::ACK, ws, sid))?;
    }
    let dead: Vec<String> =
        d.list(DEAD)?.into_iter().filter(|doc| doc.updated_ms < before_ms).map(|doc| doc.key).collect();
    for key in dead {
        d.delete(&key)?;
    }
    Ok(old.len())
}

/// A stored transition.
#[derive(Debug, Clone)]
enum Write {
    Fire(WorkspaceSid, Alert),
    Clear(WorkspaceSid, Alert),
}

/// What the evaluator knows between passes.
#[derive(Debug, Default)]
struct State {
    revision: Option<i64>,
    rules: Vec<(WorkspaceSid, Rule)>,
    settings: HashMap<WorkspaceSid, Settings>,
    webhooks: HashMap<WorkspaceSid, Vec<WebhookConfig>>,
    /// By rule SID: its tracker and, while it fires, its alert.
    trackers: HashMap<String, (Tracker, Option<(WorkspaceSid, Alert)>)>,
    /// Transitions not stored yet (the store refused them), oldest first.
    unsaved: Vec<Write>,
}

/// What a reload read.
struct Loaded {
    revision: i64,
    rules: Vec<(WorkspaceSid, Rule)>,
    settings: HashMap<WorkspaceSid, Settings>,
    webhooks: HashMap<WorkspaceSid, Vec<WebhookConfig>>,
    active: Option<Vec<(WorkspaceSid, Alert)>>,
    /// With the active alerts: the deliveries a previous evaluator left (key, notice).
    outbox: Vec<(String, Notice)>,
}

/// A notice for one webhook, kept in the outbox under `key` until settled.
#[derive(Debug, Clone)]
struct Outgoing {
    key: String,
    webhook: WebhookConfig,
    notice: Notice,
}

fn load(d: &mut dyn DocumentStore, seen: Option<i64>, with_active: bool) -> Result<Option<Loaded>, StorageError> {
    let revision = d.revision()?;
    if seen == Some(revision) && !with_active {
        return Ok(None);
    }
    let rules = store::list::<Rule>(d, RULE, None)?;
    let settings = crate::service_levels::load_all(d)?;
    let mut webhooks: HashMap<WorkspaceSid, Vec<WebhookConfig>> = HashMap::new();
    for (ws, w) in store::list::<StoredWebhook>(d, store::WEBHOOK, None)? {
        webhooks.entry(ws).or_default().push(w.config());
    }
    let active = if with_active { Some(store::list::<Alert>(d, ACTIVE, None)?) } else { None };
    let mut outbox = Vec::new();
    if with_active {
        for doc in d.list(OUTBOX)? {
            match serde_json::from_str::<Notice>(&doc.body) {
                Ok(notice) => outbox.push((doc.key, notice)),
                Err(e) => tracing::warn!(key = %doc.key, error = %e, "ignoring an alert outbox entry"),
            }
        }
    }
    Ok(Some(Loaded { revision, rules, settings, webhooks, active, outbox }))
}

/// Stores the transitions, then the deliveries they make (after: a notice is never kept
/// for an alert that is not stored).
fn save(d: &mut dyn DocumentStore, writes: &[Write], outgoing: &[Outgoing], now_ms: i64) -> Result<(), StorageError> {
    for w in writes {
        match w {
            Write::Fire(ws, a) => {
                store::put(d, ALERT, ws, &a.sid, a, now_ms)?;
                store::put(d, ACTIVE, ws, &a.sid, a, now_ms)?;
            }
            Write::Clear(ws, a) => {
                store::put(d, ALERT, ws, &a.sid, a, now_ms)?;
                d.delete(&store::key(ACTIVE, ws, &a.sid))?;
            }
        }
    }
    for o in outgoing {
        let body = serde_json::to_string(&o.notice).map_err(|e| StorageError::Corrupt(e.to_string()))?;
        d.put(&o.key, &body, now_ms)?;
    }
    Ok(())
}

impl Evaluator {
    /// Evaluates while this node holds the role (`role`), until `stop`.
    pub async fn run(
        self,
        mut role: watch::Receiver<bool>,
        mut changes: watch::Receiver<u64>,
        stop: CancellationToken,
    ) {
        loop {
            while !*role.borrow_and_update() {
                tokio::select! {
                    () = stop.cancelled() => return,
                    r = role.changed() => if r.is_err() { return },
                }
            }
            tracing::info!("evaluating alert rules on this node");
            let mut state = State::default();
            let mut loaded = false;
            let mut last_reload: Option<Instant> = None;
            let mut last_forget: Option<Instant> = None;
            let mut last_pass: Option<Instant> = None;
            let mut tick = tokio::time::interval(TICK);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = stop.cancelled() => return,
                    r = role.changed() => {
                        if r.is_err() { return }
                        if !*role.borrow_and_update() {
                            tracing::info!("no longer evaluating alert rules (another node does)");
                            self.alerts.set_states(None);
                            break;
                        }
                    }
                    r = changes.changed() => if r.is_err() { return },
                    _ = tick.tick() => {}
                }
                if let Some(wait) = last_pass.and_then(|t| MIN_GAP.checked_sub(t.elapsed())) {
                    tokio::select! {
                        () = stop.cancelled() => return,
                        () = tokio::time::sleep(wait) => {}
                    }
                }
                last_pass = Some(Instant::now());
                if last_reload.is_none_or(|t| t.elapsed() >= RELOAD_EVERY) {
                    last_reload = Some(Instant::now());
                    loaded = self.reload(&mut state, !loaded).await || loaded;
                }
                if loaded {
                    self.pass(&mut state).await;
                }
                if last_forget.is_none_or(|t| t.elapsed() >= FORGET_EVERY) {
                    last_forget = Some(Instant::now());
                    let before = self.clock.now_ms() - self.retention_ms;
                    match with_docs(&self.docs, move |d| forget(d, before)).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(alerts = n, "forgot alerts past the retention"),
                        Err(e) => tracing::warn!(error = %e, "cannot forget old alerts; next hour"),
                    }
                }
            }
        }
    }

    /// Reads rules, definitions and webhooks when the store moved (and, the first time,
    /// the alerts still firing). False when the store could not be read.
    async fn reload(&self, state: &mut State, first: bool) -> bool {
        let seen = state.revision;
        match with_docs(&self.docs, move |d| load(d, seen, first)).await {
            Ok(None) => true,
            Ok(Some(l)) => {
                state.revision = Some(l.revision);
                state.rules = l.rules;
                state.settings = l.settings;
                state.webhooks = l.webhooks;
                if let Some(active) = l.active {
                    for (ws, alert) in active {
                        let fired_ms = alert.date_fired.timestamp_millis();
                        state.trackers.insert(alert.rule_sid.clone(), (Tracker::firing(fired_ms), Some((ws, alert))));
                    }
                }
                self.resend(state, l.outbox).await;
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the alert rules; retrying");
                false
            }
        }
    }

    /// Sends again what a previous evaluator left in the outbox (it stopped, or its node
    /// died, before the delivery was over); an entry whose webhook is gone is dropped.
    async fn resend(&self, state: &State, outbox: Vec<(String, Notice)>) {
        let mut gone = Vec::new();
        for (key, notice) in outbox {
            let ws = notice.workspace_sid.clone();
            let hook = store::outbox_webhook(&key)
                .and_then(|sid| state.webhooks.get(&ws)?.iter().find(|h| h.sid == sid))
                .cloned();
            match hook {
                Some(hook) => {
                    tracing::info!(alert = %notice.alert.sid, webhook = %hook.sid, "sending an alert notification a previous evaluator left");
                    self.notifier.send_kept(&ws, hook, notice, key);
                }
                None => gone.push(key),
            }
        }
        if !gone.is_empty() {
            let deleted = with_docs(&self.docs, move |d| gone.iter().try_for_each(|k| d.delete(k).map(drop))).await;
            if let Err(e) = deleted {
                tracing::warn!(error = %e, "cannot drop outbox entries of deleted webhooks");
            }
        }
    }

    /// One evaluation of every rule.
    async fn pass(&self, state: &mut State) {
        let now_ms = self.clock.now_ms();
        let no_settings = Settings::default();
        let values: Vec<Option<f64>> = {
            let reader = self.numbers.reader();
            state
                .rules
                .iter()
                .map(|(ws, r)| {
                    let settings = state.settings.get(ws).unwrap_or(&no_settings);
                    if r.enabled { measure::value(&reader, ws, r, settings) } else { None }
                })
                .collect()
        };
        for ((ws, rule), value) in state.rules.iter().zip(&values) {
            if rule.enabled {
                self.alerts.record(measure::series_key(ws, rule), Sample { at_ms: now_ms, value: *value });
            }
        }
        let mut writes = Vec::new();
        let mut states = HashMap::with_capacity(state.rules.len());
        for ((ws, rule), value) in state.rules.iter().zip(values) {
            let (tracker, firing) = state.trackers.entry(rule.sid.clone()).or_default();
            if !rule.enabled {
                if let Some((ws, alert)) = firing.take() {
                    writes.push(Write::Clear(ws, cleared(alert, now_ms)));
                }
                *tracker = Tracker::default();
                continue;
            }
            match tracker.step(&rule.condition, value, now_ms) {
                Some(Transition::Fired) => {
                    let alert = Alert {
                        sid: store::new_sid("AL"),
                        rule_sid: rule.sid.clone(),
                        rule_name: rule.name.clone(),
                        target: rule.target.clone(),
                        task_channel: rule.task_channel.clone(),
                        measure: rule.condition.measure,
                        level: rule.level,
                        description: rule.condition.describe(),
                        status: AlertStatus::Firing,
                        value,
                        date_fired: to_datetime(now_ms),
                        date_cleared: None,
                        date_acknowledged: None,
                        acknowledged_by: None,
                    };
                    tracing::info!(rule = %rule.sid, alert = %alert.sid, "alert fired: {}", alert.headline());
                    *firing = Some((ws.clone(), alert.clone()));
                    writes.push(Write::Fire(ws.clone(), alert));
                }
                Some(Transition::Cleared { .. }) => {
                    if let Some((ws, alert)) = firing.take() {
                        tracing::info!(rule = %rule.sid, alert = %alert.sid, "alert cleared");
                        writes.push(Write::Clear(ws, cleared(alert, now_ms)));
                    }
                }
                None => {}
            }
            states.insert(rule.sid.clone(), RuleState { phase: tracker.phase, value, evaluated_ms: now_ms });
        }
        self.alerts.set_states(Some(states));
        // Rules deleted while firing: their alerts clear.
        let live: std::collections::HashSet<&str> = state.rules.iter().map(|(_, r)| r.sid.as_str()).collect();
        let gone: Vec<String> = state.trackers.keys().filter(|k| !live.contains(k.as_str())).cloned().collect();
        for sid in gone {
            if let Some((_, Some((ws, alert)))) = state.trackers.remove(&sid) {
                writes.push(Write::Clear(ws, cleared(alert, now_ms)));
            }
        }
        if writes.is_empty() && state.unsaved.is_empty() {
            return;
        }
        let outgoing: Vec<Outgoing> = writes.iter().flat_map(|w| self.outgoing(state, w)).collect();
        state.unsaved.extend(writes);
        let pending = state.unsaved.clone();
        let kept = outgoing.clone();
        match with_docs(&self.docs, move |d| save(d, &pending, &kept, now_ms)).await {
            Ok(()) => {
                state.unsaved.clear();
                self.alerts.refresh();
                for o in outgoing {
                    let ws = o.notice.workspace_sid.clone();
                    self.notifier.send_kept(&ws, o.webhook, o.notice, o.key);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, pending = state.unsaved.len(), "cannot store alerts; retrying");
                // The store is away (when alerts matter most): notify now, without an outbox.
                for o in outgoing {
                    let ws = o.notice.workspace_sid.clone();
                    self.notifier.send(&ws, o.webhook, o.notice);
                }
            }
        }
    }

    /// The deliveries a transition makes: one per webhook of its workspace.
    fn outgoing(&self, state: &State, w: &Write) -> Vec<Outgoing> {
        let (ws, alert, kind) = match w {
            Write::Fire(ws, a) => (ws, a, NoticeKind::Fired),
            Write::Clear(ws, a) => (ws, a, NoticeKind::Cleared),
        };
        let Some(hooks) = state.webhooks.get(ws) else { return Vec::new() };
        let notice = Notice {
            kind,
            account_sid: self.account_sid.clone(),
            workspace_sid: ws.clone(),
            alert: alert.clone(),
            url: self.urls.alert(ws, &alert.sid),
        };
        hooks
            .iter()
            .map(|hook| Outgoing {
                key: store::outbox_key(ws, &hook.sid, &alert.sid, kind),
                webhook: hook.clone(),
                notice: notice.clone(),
            })
            .collect()
    }
}

fn cleared(mut alert: Alert, now_ms: i64) -> Alert {
    alert.status = AlertStatus::Cleared;
    alert.date_cleared = Some(to_datetime(now_ms));
    alert
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::SqliteDocuments;
    use wallboard_shared::alerts::{Level, Measure, RuleTarget};

    #[test]
    fn alerts_past_the_retention_are_forgotten() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut d = SqliteDocuments::open_dir(dir.path()).expect("documents");
        let ws = WorkspaceSid::from_u128(1);
        let alert = |sid: &str, cleared: Option<i64>| Alert {
            sid: sid.into(),
            rule_sid: "AR1".into(),
            rule_name: "r".into(),
            target: RuleTarget::Workspace,
            task_channel: None,
            measure: Measure::Waiting,
            level: Level::Warning,
            description: "d".into(),
            status: if cleared.is_some() { AlertStatus::Cleared } else { AlertStatus::Firing },
            value: Some(1.0),
            date_fired: to_datetime(0),
            date_cleared: cleared.map(to_datetime),
            date_acknowledged: None,
            acknowledged_by: None,
        };
        for (sid, cleared) in [("AL1", Some(1_000)), ("AL2", Some(5_000)), ("AL3", None)] {
            store::put(&mut d, ALERT, &ws, sid, &alert(sid, cleared), 0).expect("put");
            store::put(&mut d, store::ACK, &ws, sid, &store::Ack { by: "x".into(), at: to_datetime(0) }, 0)
                .expect("put");
        }
        d.put(&format!("{DEAD}{ws}/AW1/0000000000100-AL1-fired"), "{}", 100).expect("put");
        d.put(&format!("{DEAD}{ws}/AW1/0000000009000-AL2-fired"), "{}", 9_000).expect("put");
        assert_eq!(forget(&mut d, 2_000).expect("forget"), 1, "only the alert cleared before 2 s");
        let left: Vec<String> = store::history(&d, &ws).expect("history").into_iter().map(|a| a.sid).collect();
        assert_eq!(left.len(), 2);
        assert!(!left.contains(&"AL1".to_owned()), "firing alerts are never forgotten: {left:?}");
        assert!(d.get(&store::key(store::ACK, &ws, "AL1")).expect("get").is_none());
        assert_eq!(d.list(DEAD).expect("list").len(), 1);
    }
}

/// Dead letters kept in the documents (`alert_dead/{WS}/{AW}/{ms}-{AL}`).
#[derive(Debug)]
pub struct StoredDeadLetters {
    pub docs: Documents,
    pub clock: Arc<dyn Clock>,
}

impl DeadLetters for StoredDeadLetters {
    fn record(&self, workspace: &WorkspaceSid, letter: DeadLetter) {
        let (docs, now_ms, ws) = (self.docs.clone(), self.clock.now_ms(), workspace.clone());
        let write = move || {
            let mut d = docs.lock().unwrap_or_else(|p| p.into_inner());
            let kind = match letter.kind {
                NoticeKind::Fired => "fired",
                NoticeKind::Cleared => "cleared",
            };
            let key = format!("{DEAD}{ws}/{}/{now_ms:013}-{}-{kind}", letter.webhook_sid, letter.alert_sid);
            let body = serde_json::to_string(&letter).map_err(|e| StorageError::Corrupt(e.to_string()))?;
            d.put(&key, &body, now_ms).map(drop)
        };
        let done = |r: Result<(), StorageError>| {
            if let Err(e) = r {
                tracing::error!(error = %e, "cannot store a dead letter");
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(h) => drop(h.spawn_blocking(move || done(write()))),
            Err(_) => done(write()),
        }
    }

    fn settled(&self, outbox: &str) {
        let (docs, key) = (self.docs.clone(), outbox.to_owned());
        let delete = move || {
            let mut d = docs.lock().unwrap_or_else(|p| p.into_inner());
            if let Err(e) = d.delete(&key) {
                tracing::warn!(error = %e, %key, "cannot drop a settled alert outbox entry");
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(h) => drop(h.spawn_blocking(delete)),
            Err(_) => delete(),
        }
    }
}
