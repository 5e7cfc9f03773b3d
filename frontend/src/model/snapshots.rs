//! The latest snapshot of every subscription: the reducer of `snapshot` and `error` frames.
//!
//! Within one connection a subscription's `rev` only grows, so an older or equal revision is
//! dropped (frames can be reordered by the reconnect logic, never by the server). A
//! restarted server starts counting again, so after a reconnect the first snapshot of each
//! subscription is taken whatever its revision: the old numbers stay on screen until then
//! ("show the latest snapshot at once").

use super::frame::Snapshot;

/// What the reducer keeps of one subscription.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub snapshot: Snapshot,
    /// Client clock (ms) when it arrived.
    pub received_ms: f64,
    /// False after a reconnect until the new connection delivered this subscription again.
    pub confirmed: bool,
}

/// A refusal of a subscription by the server (`{"type":"error","id":…}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: u32,
    pub message: String,
}

/// The reducer state: one entry per subscription (a few dozen at most, pruned to the
/// wanted ones by `retain`; plain lists cost the wasm less than maps).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshots {
    entries: Vec<Entry>,
    refusals: Vec<(String, Refusal)>,
}

impl Snapshots {
    /// Applies a snapshot; true when it replaced what was shown.
    pub fn apply(&mut self, snapshot: Snapshot, received_ms: f64) -> bool {
        self.refusals.retain(|(id, _)| *id != snapshot.id);
        let entry = Entry { snapshot, received_ms, confirmed: true };
        match self.entries.iter_mut().find(|e| e.snapshot.id == entry.snapshot.id) {
            Some(old) if old.confirmed && entry.snapshot.rev <= old.snapshot.rev => return false,
            Some(old) => *old = entry,
            None => self.entries.push(entry),
        }
        true
    }

    /// Records the server's refusal of subscription `id`.
    pub fn refuse(&mut self, id: &str, code: u32, message: &str) {
        self.refusals.retain(|(i, _)| i != id);
        self.refusals.push((id.to_owned(), Refusal { code, message: message.to_owned() }));
    }

    /// A new connection: revisions start over, the numbers stay until replaced.
    pub fn reconnected(&mut self) {
        for entry in &mut self.entries {
            entry.confirmed = false;
        }
        self.refusals.clear();
    }

    /// Forgets subscriptions that are no longer wanted.
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.entries.retain(|e| keep(&e.snapshot.id));
        self.refusals.retain(|(id, _)| keep(id));
    }

    pub fn get(&self, id: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.snapshot.id == id)
    }

    pub fn refusal(&self, id: &str) -> Option<&Refusal> {
        self.refusals.iter().find(|(i, _)| i == id).map(|(_, r)| r)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether the server marks any shown snapshot stale (its source is failing).
    pub fn any_stale(&self) -> bool {
        self.entries.iter().any(|e| e.snapshot.stale)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::frame::Stats;
    use wallboard_shared::resources::RealTimeStats;

    pub(crate) fn snapshot(id: &str, rev: u64, total: u64) -> Snapshot {
        let mut realtime = RealTimeStats::default();
        realtime.tasks_by_status.pending = total;
        realtime.total_tasks = total;
        Snapshot {
            id: id.to_owned(),
            rev,
            at: "2026-11-27T09:00:00Z".to_owned(),
            stale: false,
            stats: Stats::Workflow { realtime, cumulative: None },
        }
    }

    fn total(s: &Snapshots, id: &str) -> Option<u64> {
        s.get(id).and_then(|e| e.snapshot.realtime()).map(|r| r.total_tasks)
    }

    #[test]
    fn keeps_only_newer_revisions_per_subscription() {
        let mut s = Snapshots::default();
        assert!(s.apply(snapshot("a", 5, 1), 0.0));
        assert!(!s.apply(snapshot("a", 4, 2), 1.0), "older");
        assert!(!s.apply(snapshot("a", 5, 3), 2.0), "same");
        assert_eq!(total(&s, "a"), Some(1));
        assert!(s.apply(snapshot("a", 9, 4), 3.0));
        assert_eq!(total(&s, "a"), Some(4));
        assert!(s.apply(snapshot("b", 1, 7), 3.0), "revisions are per subscription");
        assert_eq!(total(&s, "a"), Some(4));
        assert_eq!(total(&s, "b"), Some(7));
    }

    #[test]
    fn after_a_reconnect_the_first_snapshot_wins_whatever_its_revision() {
        let mut s = Snapshots::default();
        s.apply(snapshot("a", 40, 1), 0.0);
        s.reconnected();
        assert_eq!(total(&s, "a"), Some(1), "old numbers stay until replaced");
        assert!(!s.get("a").expect("kept").confirmed);
        assert!(s.apply(snapshot("a", 2, 5), 1.0), "restarted server");
        assert!(!s.apply(snapshot("a", 1, 6), 2.0));
        assert_eq!(total(&s, "a"), Some(5));
    }

    #[test]
    fn one_entry_per_subscription_whatever_the_traffic() {
        let mut s = Snapshots::default();
        for rev in 0..10_000 {
            s.apply(snapshot(if rev % 2 == 0 { "a" } else { "b" }, rev, rev), 0.0);
            s.refuse("c", 20403, "outside the token's scope");
        }
        assert_eq!(s.len(), 2);
        s.retain(|id| id == "a");
        assert_eq!(s.len(), 1);
        assert!(s.refusal("c").is_none());
    }

    #[test]
    fn refusals_and_retain() {
        let mut s = Snapshots::default();
        s.apply(snapshot("a", 1, 1), 0.0);
        s.refuse("b", 20001, "bad window");
        assert_eq!(s.refusal("b").map(|r| r.code), Some(20001));
        s.retain(|id| id == "b");
        assert!(s.is_empty());
        assert!(s.refusal("b").is_some());
        s.apply(snapshot("b", 1, 1), 0.0);
        assert!(s.refusal("b").is_none(), "a snapshot clears the refusal");
    }

    #[test]
    fn stale_flag() {
        let mut s = Snapshots::default();
        s.apply(snapshot("a", 1, 1), 0.0);
        assert!(!s.any_stale());
        let mut st = snapshot("b", 1, 1);
        st.stale = true;
        s.apply(st, 0.0);
        assert!(s.any_stale());
    }
}
