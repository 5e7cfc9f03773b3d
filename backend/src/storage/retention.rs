//! What the retention keeps of the floor: the events older than the cutoff that still
//! define the state of a worker, an activity or a task queue.
//!
//! Workers, activities and task queues are announced by events that happen once
//! (`worker.created`, `task-queue.created`, a channel's capacity, the last activity
//! change…). Deleting them with the task events past the retention would make a restart
//! forget the floor. So, of the events before the cutoff, [`EventLog::purge`] keeps and
//! [`EventLog::replay`] replays, per *key*, the newest one (by event time, then event SID,
//! the engine's order):
//!
//! - a worker's events (`worker.*`), per worker and event type, and per task channel for
//!   the channel's events (capacity, availability);
//! - an activity's events (`activity.*`), per activity and event type;
//! - a task queue's own events (`task-queue.*` but `entered`, `moved`, `timeout`, which
//!   are about tasks), per queue and event type;
//! - per activity, the newest worker event naming it (the activity's name when the log
//!   has no `activity.*` events).
//!
//! A subject whose newest existence event before the cutoff is a deletion
//! (`worker.deleted`, `activity.deleted`, `task-queue.deleted`) keeps nothing. Every other
//! event before the cutoff (tasks, reservations, workflows, queue movements, superseded
//! floor events) goes. The engine's floor is a newest-wins fold of these same kinds of
//! events, so replaying the kept ones rebuilds it; the newest activity change before the
//! cutoff is the one the engine keeps too (the activity a worker was in when a window
//! opens).
//!
//! [`EventLog::purge`]: super::EventLog::purge
//! [`EventLog::replay`]: super::EventLog::replay

use rustc_hash::{FxHashMap, FxHashSet};

use crate::event::Event;

/// (event time, event SID number): the engine's order of events.
pub(crate) type Stamp = (i64, u128);

/// What a floor event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Subject {
    Worker(u128),
    Activity(u128),
    Queue(u128),
}

/// One piece of state, of which only the newest event is kept.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    /// A subject's events of one type (and, for a worker's channel events, one channel).
    Kind { subject: Subject, event_type: String, channel: Option<String> },
    /// The worker events naming an activity.
    Names(u128),
}

/// Whether events of this type may define the floor (workers, activities, task queues).
pub(crate) fn is_floor_type(event_type: &str) -> bool {
    (event_type.starts_with("worker.") || event_type.starts_with("activity.") || event_type.starts_with("task-queue."))
        && !matches!(event_type, "task-queue.entered" | "task-queue.moved" | "task-queue.timeout")
}

/// Collects the floor events before a cutoff (in any order) and tells which to keep.
#[derive(Debug, Default)]
pub(crate) struct FloorKeeper {
    /// Per key: the newest event's stamp, its row and its subject.
    newest: FxHashMap<Key, (Stamp, i64, Subject)>,
    /// Per subject: the newest existence event's stamp and whether it is a deletion.
    existence: FxHashMap<Subject, (Stamp, bool)>,
}

impl FloorKeeper {
    /// Offers the event stored in row `row`; events that define no floor state are ignored.
    pub(crate) fn offer(&mut self, row: i64, e: &Event) {
        let t = e.event_type.as_str();
        if !is_floor_type(t) {
            return;
        }
        let f = e.keys().floor;
        let subject = if t.starts_with("worker.") {
            f.worker.map(Subject::Worker)
        } else if t.starts_with("activity.") {
            f.activity.map(Subject::Activity)
        } else {
            f.queue.map(Subject::Queue)
        };
        let Some(subject) = subject else { return };
        let stamp = (e.ts_ms, e.keys().sid);
        let deleted = match t {
            "worker.created" | "task-queue.created" => Some(false),
            "worker.deleted" | "task-queue.deleted" => Some(true),
            // Every activity event says whether the activity exists (the engine's register).
            _ if t.starts_with("activity.") => Some(t == "activity.deleted"),
            _ => None,
        };
        if let Some(deleted) = deleted {
            let slot = self.existence.entry(subject).or_insert((stamp, deleted));
            if slot.0 < stamp {
                *slot = (stamp, deleted);
            }
        }
        let channel = match subject {
            Subject::Worker(_) => channel_key(e),
            _ => None,
        };
        self.put(Key::Kind { subject, event_type: t.to_owned(), channel }, stamp, row, subject);
        if let (Subject::Worker(_), Some(a)) = (subject, f.activity) {
            self.put(Key::Names(a), stamp, row, subject);
        }
    }

    fn put(&mut self, key: Key, stamp: Stamp, row: i64, subject: Subject) {
        let slot = self.newest.entry(key).or_insert((stamp, row, subject));
        if slot.0 < stamp {
            *slot = (stamp, row, subject);
        }
    }

    /// The rows to keep, each once, in (time, SID) order.
    pub(crate) fn kept(self) -> Vec<(Stamp, i64)> {
        let deleted: FxHashSet<Subject> =
            self.existence.into_iter().filter(|(_, (_, deleted))| *deleted).map(|(s, _)| s).collect();
        let mut rows: Vec<(Stamp, i64)> = self
            .newest
            .into_iter()
            .filter(|(key, (_, _, subject))| {
                !deleted.contains(subject) && !matches!(key, Key::Names(a) if deleted.contains(&Subject::Activity(*a)))
            })
            .map(|(_, (stamp, row, _))| (stamp, row))
            .collect();
        rows.sort_unstable();
        rows.dedup();
        rows
    }
}

/// The task channel a worker channel event is about: its SID and unique name, as told.
fn channel_key(e: &Event) -> Option<String> {
    match (e.get("task_channel_sid"), e.get("task_channel_unique_name")) {
        (None, None) => None,
        (sid, name) => Some(format!("{}|{}", sid.unwrap_or_default(), name.unwrap_or_default())),
    }
}
