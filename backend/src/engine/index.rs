//! The cumulative index of one series (a workflow or a task queue on one task channel).
//!
//! It answers "what happened between `start_ms` and `end_ms`" without visiting the
//! window's events. Time is cut into one-minute leaves; above them sits a tree with
//! fan-out 8 (8 minutes, 64 minutes, ~8.5 hours, ~2.8 days, ~22.8 days). Each tree node
//! keeps the counts of its minutes and the *sorted* waits (until accepted, until
//! canceled) with their sums, so a node answers count, sum, min, max and "how many
//! waits are below T" by binary search. A window is decomposed into O(8·levels) nodes
//! plus the two partial minutes at its edges, so the cost grows with the number of
//! thresholds and the log of the data, never with the number of events in the window.
//!
//! Nodes are built only once their minutes are *sealed* (older than the engine's
//! watermark, which trails the newest event by a grace period): building a node is a
//! merge of its children, so every wait is copied once per level over its lifetime,
//! not once per insert. Until then queries descend to the leaves, which are few because
//! only the last grace period is unsealed. A late event below the watermark is inserted
//! into the sealed nodes above it (a sorted insert), which keeps the answer independent
//! of arrival order.

use std::collections::BTreeMap;

/// What a cumulative entry counts.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum CumKind {
    Entered = 0,
    Canceled,
    Completed,
    Deleted,
    Moved,
    TimedOut,
    ResCreated,
    ResAccepted,
    ResRejected,
    ResTimedOut,
    ResCanceled,
    ResRescinded,
    /// An accepted reservation of a task queue's series, its wait measured from the
    /// task's entry into the queue (the queue series also hold a `ResAccepted` with the
    /// wait from creation; this kind only carries the second wait and is not a count).
    AcceptedInQueue,
}

pub const KINDS: usize = 13;

impl CumKind {
    fn from_u8(k: u8) -> Self {
        use CumKind::*;
        [
            Entered,
            Canceled,
            Completed,
            Deleted,
            Moved,
            TimedOut,
            ResCreated,
            ResAccepted,
            ResRejected,
            ResTimedOut,
            ResCanceled,
            ResRescinded,
            AcceptedInQueue,
        ][usize::from(k)]
    }
}

/// Wait stored in a leaf when the task's creation time is unknown.
pub const NO_WAIT: u32 = u32::MAX;
/// Minutes per leaf, leaves per node and number of node levels.
pub const MINUTE_MS: i64 = 60_000;
const FAN_BITS: u32 = 3;
const FAN: i64 = 1 << FAN_BITS;
pub const LEVELS: usize = 5;

/// One cumulative contribution of a task: an event at `ts_ms` of `kind`, with the wait
/// from task creation in milliseconds for canceled and accepted (from queue entry for
/// `AcceptedInQueue`).
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Entry {
    pub ts_ms: i64,
    pub kind: CumKind,
    pub wait_ms: u32,
}

#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct LeafEntry {
    off_ms: u16,
    kind: u8,
    wait_ms: u32,
}

#[derive(serde::Serialize, serde::Deserialize, Debug, Default)]
struct Leaf {
    /// Sorted by offset inside the minute, then kind and wait.
    entries: Vec<LeafEntry>,
    counts: [u32; KINDS],
}

#[derive(serde::Serialize, serde::Deserialize, Debug, Default, Clone)]
struct Waits {
    sorted: Vec<u32>,
    sum: u64,
}

impl Waits {
    fn insert(&mut self, w: u32) {
        let at = self.sorted.partition_point(|&x| x < w);
        self.sorted.insert(at, w);
        self.sum += u64::from(w);
    }

    fn remove(&mut self, w: u32) {
        let at = self.sorted.partition_point(|&x| x < w);
        if self.sorted.get(at) == Some(&w) {
            self.sorted.remove(at);
            self.sum -= u64::from(w);
        }
    }
}

#[derive(serde::Serialize, serde::Deserialize, Debug, Default)]
struct Node {
    counts: [u64; KINDS],
    accepted: Waits,
    canceled: Waits,
    /// Empty in workflow series: only queue series have waits from queue entry.
    accepted_in_queue: Waits,
}

impl Node {
    fn waits_mut(&mut self, kind: CumKind) -> Option<&mut Waits> {
        match kind {
            CumKind::ResAccepted => Some(&mut self.accepted),
            CumKind::Canceled => Some(&mut self.canceled),
            CumKind::AcceptedInQueue => Some(&mut self.accepted_in_queue),
            _ => None,
        }
    }

    fn is_empty(&self) -> bool {
        self.counts.iter().all(|&c| c == 0)
    }
}

/// Aggregated waits of one kind over a window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WaitAgg {
    pub count: u64,
    pub sum_ms: u64,
    pub min_ms: Option<u32>,
    pub max_ms: Option<u32>,
    /// Per threshold (same order as asked): waits strictly below it.
    pub below: Vec<u64>,
}

impl WaitAgg {
    fn new(n: usize) -> Self {
        Self { below: vec![0; n], ..Self::default() }
    }

    fn add_one(&mut self, w: u32, thresholds_ms: &[u64]) {
        self.count += 1;
        self.sum_ms += u64::from(w);
        self.min_ms = Some(self.min_ms.map_or(w, |m| m.min(w)));
        self.max_ms = Some(self.max_ms.map_or(w, |m| m.max(w)));
        for (b, &t) in self.below.iter_mut().zip(thresholds_ms) {
            *b += u64::from(u64::from(w) < t);
        }
    }

    fn add_sorted(&mut self, waits: &Waits, thresholds_ms: &[u64]) {
        let (Some(&lo), Some(&hi)) = (waits.sorted.first(), waits.sorted.last()) else {
            return;
        };
        self.count += waits.sorted.len() as u64;
        self.sum_ms += waits.sum;
        self.min_ms = Some(self.min_ms.map_or(lo, |m| m.min(lo)));
        self.max_ms = Some(self.max_ms.map_or(hi, |m| m.max(hi)));
        for (b, &t) in self.below.iter_mut().zip(thresholds_ms) {
            *b += waits.sorted.partition_point(|&w| u64::from(w) < t) as u64;
        }
    }

    /// Adds another aggregate over disjoint events.
    pub fn merge(&mut self, o: &WaitAgg) {
        self.count += o.count;
        self.sum_ms += o.sum_ms;
        self.min_ms = match (self.min_ms, o.min_ms) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.max_ms = match (self.max_ms, o.max_ms) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        for (a, b) in self.below.iter_mut().zip(&o.below) {
            *a += b;
        }
    }
}

/// Everything a window query produces, before formatting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agg {
    pub counts: [u64; KINDS],
    pub accepted: WaitAgg,
    pub canceled: WaitAgg,
    /// Waits from queue entry of accepted reservations (queue series only); no thresholds:
    /// the splits are of the waits from creation, as for workflows.
    pub accepted_in_queue: WaitAgg,
}

impl Agg {
    pub fn new(thresholds: usize) -> Self {
        Self {
            counts: [0; KINDS],
            accepted: WaitAgg::new(thresholds),
            canceled: WaitAgg::new(thresholds),
            accepted_in_queue: WaitAgg::new(0),
        }
    }

    pub fn count(&self, k: CumKind) -> u64 {
        self.counts[k as usize]
    }

    pub fn merge(&mut self, o: &Agg) {
        for (a, b) in self.counts.iter_mut().zip(o.counts) {
            *a += b;
        }
        self.accepted.merge(&o.accepted);
        self.canceled.merge(&o.canceled);
        self.accepted_in_queue.merge(&o.accepted_in_queue);
    }

    fn add_leaf_entry(&mut self, e: &LeafEntry, thresholds_ms: &[u64]) {
        self.counts[usize::from(e.kind)] += 1;
        if e.wait_ms == NO_WAIT {
            return;
        }
        match CumKind::from_u8(e.kind) {
            CumKind::ResAccepted => self.accepted.add_one(e.wait_ms, thresholds_ms),
            CumKind::Canceled => self.canceled.add_one(e.wait_ms, thresholds_ms),
            CumKind::AcceptedInQueue => self.accepted_in_queue.add_one(e.wait_ms, &[]),
            _ => {}
        }
    }

    fn add_node(&mut self, n: &Node, thresholds_ms: &[u64]) {
        for (a, b) in self.counts.iter_mut().zip(n.counts) {
            *a += b;
        }
        self.accepted.add_sorted(&n.accepted, thresholds_ms);
        self.canceled.add_sorted(&n.canceled, thresholds_ms);
        self.accepted_in_queue.add_sorted(&n.accepted_in_queue, &[]);
    }
}

fn node_span(level: usize) -> i64 {
    1 << (FAN_BITS as usize * level)
}

/// The index of one series. `sealed` (a minute, exclusive) is passed in by the engine,
/// which keeps one watermark for all series.
#[derive(serde::Serialize, serde::Deserialize, Debug, Default)]
pub struct CumIndex {
    leaves: BTreeMap<i64, Leaf>,
    /// `levels[k - 1]` holds the sealed, non-empty nodes of level k.
    levels: [BTreeMap<i64, Node>; LEVELS],
}

impl CumIndex {
    /// An estimate of the bytes this index holds: its leaves' entries and its nodes' waits
    /// (tree-node overheads not counted). Linear in its minutes; for `/metrics`.
    pub fn approx_bytes(&self) -> usize {
        use std::mem::size_of;
        let leaves: usize = self
            .leaves
            .values()
            .map(|l| size_of::<(i64, Leaf)>() + l.entries.capacity() * size_of::<LeafEntry>())
            .sum();
        let nodes: usize = self
            .levels
            .iter()
            .flat_map(|level| level.values())
            .map(|n| {
                let waits = n.accepted.sorted.capacity() + n.canceled.sorted.capacity();
                size_of::<(i64, Node)>() + (waits + n.accepted_in_queue.sorted.capacity()) * size_of::<u32>()
            })
            .sum();
        leaves + nodes
    }

    pub fn insert(&mut self, e: Entry, sealed: i64) {
        let minute = e.ts_ms.div_euclid(MINUTE_MS);
        let le = LeafEntry { off_ms: e.ts_ms.rem_euclid(MINUTE_MS) as u16, kind: e.kind as u8, wait_ms: e.wait_ms };
        let leaf = self.leaves.entry(minute).or_default();
        let at = leaf.entries.partition_point(|x| *x <= le);
        leaf.entries.insert(at, le);
        leaf.counts[e.kind as usize] += 1;
        for level in 1..=LEVELS {
            let idx = minute >> (FAN_BITS as usize * level);
            if (idx + 1) * node_span(level) > sealed {
                break; // this node and every one above it are not built yet
            }
            let node = self.levels[level - 1].entry(idx).or_default();
            node.counts[e.kind as usize] += 1;
            if e.wait_ms != NO_WAIT
                && let Some(w) = node.waits_mut(e.kind)
            {
                w.insert(e.wait_ms);
            }
        }
    }

    pub fn remove(&mut self, e: Entry, sealed: i64) {
        let minute = e.ts_ms.div_euclid(MINUTE_MS);
        let le = LeafEntry { off_ms: e.ts_ms.rem_euclid(MINUTE_MS) as u16, kind: e.kind as u8, wait_ms: e.wait_ms };
        let Some(leaf) = self.leaves.get_mut(&minute) else {
            return;
        };
        let at = leaf.entries.partition_point(|x| *x < le);
        if leaf.entries.get(at) != Some(&le) {
            return; // never inserted (or purged): nothing to undo
        }
        leaf.entries.remove(at);
        leaf.counts[e.kind as usize] -= 1;
        if leaf.entries.is_empty() {
            self.leaves.remove(&minute);
        }
        for level in 1..=LEVELS {
            let idx = minute >> (FAN_BITS as usize * level);
            if (idx + 1) * node_span(level) > sealed {
                break;
            }
            let map = &mut self.levels[level - 1];
            if let Some(node) = map.get_mut(&idx) {
                node.counts[e.kind as usize] = node.counts[e.kind as usize].saturating_sub(1);
                if e.wait_ms != NO_WAIT
                    && let Some(w) = node.waits_mut(e.kind)
                {
                    w.remove(e.wait_ms);
                }
                if node.is_empty() {
                    map.remove(&idx);
                }
            }
        }
    }

    /// Builds the nodes that become sealed when the watermark moves from `old` to `new`
    /// (minutes, exclusive). Children are always sealed before their parent.
    pub fn seal(&mut self, old: i64, new: i64) {
        if new <= old {
            return;
        }
        for level in 1..=LEVELS {
            let span = node_span(level);
            // Nodes whose end lies in (old, new].
            let first = old.div_euclid(span);
            let end_excl = new.div_euclid(span); // nodes < end_excl end at or before `new`
            if first >= end_excl {
                continue;
            }
            let (lo_child, hi_child) = (first * FAN, end_excl * FAN); // child indices [lo, hi)
            let mut built: Vec<(i64, Node)> = Vec::new();
            if level == 1 {
                for (&minute, leaf) in self.leaves.range(lo_child..hi_child) {
                    let parent = minute.div_euclid(FAN);
                    if built.last().is_none_or(|(p, _)| *p != parent) {
                        built.push((parent, Node::default()));
                    }
                    let node = &mut built.last_mut().expect("pushed above").1;
                    for (a, &c) in node.counts.iter_mut().zip(&leaf.counts) {
                        *a += u64::from(c);
                    }
                    for e in &leaf.entries {
                        if e.wait_ms == NO_WAIT {
                            continue;
                        }
                        if let Some(w) = node.waits_mut(CumKind::from_u8(e.kind)) {
                            w.sorted.push(e.wait_ms);
                            w.sum += u64::from(e.wait_ms);
                        }
                    }
                }
            } else {
                let (below, _) = self.levels.split_at_mut(level - 1);
                let children = &below[level - 2];
                for (&idx, child) in children.range(lo_child..hi_child) {
                    let parent = idx.div_euclid(FAN);
                    if built.last().is_none_or(|(p, _)| *p != parent) {
                        built.push((parent, Node::default()));
                    }
                    let node = &mut built.last_mut().expect("pushed above").1;
                    for (a, &c) in node.counts.iter_mut().zip(&child.counts) {
                        *a += c;
                    }
                    node.accepted.sorted.extend_from_slice(&child.accepted.sorted);
                    node.accepted.sum += child.accepted.sum;
                    node.canceled.sorted.extend_from_slice(&child.canceled.sorted);
                    node.canceled.sum += child.canceled.sum;
                    node.accepted_in_queue.sorted.extend_from_slice(&child.accepted_in_queue.sorted);
                    node.accepted_in_queue.sum += child.accepted_in_queue.sum;
                }
            }
            for (idx, mut node) in built {
                // Concatenated sorted runs: the stable sort merges them in linear time.
                node.accepted.sorted.sort();
                node.canceled.sorted.sort();
                node.accepted_in_queue.sorted.sort();
                self.levels[level - 1].insert(idx, node);
            }
        }
    }

    /// Drops every whole minute before `cutoff_minute`.
    pub fn purge(&mut self, cutoff_minute: i64) {
        self.leaves = self.leaves.split_off(&cutoff_minute);
        for level in 1..=LEVELS {
            let span = node_span(level);
            // Keep nodes that end after the cutoff.
            let first_kept = cutoff_minute.div_euclid(span);
            let map = &mut self.levels[level - 1];
            *map = map.split_off(&first_kept);
        }
    }

    /// Adds the events with `start_ms <= ts <= end_ms` to `agg`.
    pub fn query(&self, start_ms: i64, end_ms: i64, sealed: i64, thresholds_ms: &[u64], agg: &mut Agg) {
        if start_ms > end_ms {
            return;
        }
        let sm = start_ms.div_euclid(MINUTE_MS);
        let em = end_ms.div_euclid(MINUTE_MS);
        let so = start_ms.rem_euclid(MINUTE_MS) as u16;
        let eo = end_ms.rem_euclid(MINUTE_MS) as u16;
        if sm == em {
            self.partial_leaf(sm, so, eo, thresholds_ms, agg);
            return;
        }
        self.partial_leaf(sm, so, u16::MAX, thresholds_ms, agg);
        self.partial_leaf(em, 0, eo, thresholds_ms, agg);
        if sm + 1 < em {
            let (a, b) = (sm + 1, em - 1);
            let top = LEVELS;
            let shift = FAN_BITS as usize * top;
            for idx in (a >> shift)..=(b >> shift) {
                self.visit(top, idx, a, b, sealed, thresholds_ms, agg);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn visit(&self, level: usize, idx: i64, a: i64, b: i64, sealed: i64, t: &[u64], agg: &mut Agg) {
        let span = node_span(level);
        let lo = idx * span;
        let hi = lo + span - 1;
        let (ca, cb) = (lo.max(a), hi.min(b));
        if ca > cb {
            return;
        }
        if lo >= sealed || level == 0 {
            // Unsealed (only the last grace period) or a single minute: read the leaves.
            for (_, leaf) in self.leaves.range(ca..=cb) {
                for e in &leaf.entries {
                    agg.add_leaf_entry(e, t);
                }
            }
            return;
        }
        if a <= lo && hi <= b && hi < sealed {
            if let Some(node) = self.levels[level - 1].get(&idx) {
                agg.add_node(node, t);
            }
            return;
        }
        for c in 0..FAN {
            self.visit(level - 1, idx * FAN + c, a, b, sealed, t, agg);
        }
    }

    fn partial_leaf(&self, minute: i64, from: u16, to: u16, t: &[u64], agg: &mut Agg) {
        let Some(leaf) = self.leaves.get(&minute) else {
            return;
        };
        let start = leaf.entries.partition_point(|e| e.off_ms < from);
        for e in leaf.entries[start..].iter().take_while(|e| e.off_ms <= to) {
            agg.add_leaf_entry(e, t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A straightforward reference: scan every entry.
    fn naive(entries: &[Entry], start: i64, end: i64, t: &[u64]) -> Agg {
        let mut agg = Agg::new(t.len());
        for e in entries.iter().filter(|e| start <= e.ts_ms && e.ts_ms <= end) {
            let le = LeafEntry { off_ms: 0, kind: e.kind as u8, wait_ms: e.wait_ms };
            agg.add_leaf_entry(&le, t);
        }
        agg
    }

    /// Deterministic pseudo-random numbers (xorshift) so the test needs no seed crate.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    fn random_entries(rng: &mut Rng, n: usize, span_ms: i64) -> Vec<Entry> {
        (0..n)
            .map(|_| {
                let kind = CumKind::from_u8(rng.below(KINDS as u64) as u8);
                let wait_ms = match kind {
                    CumKind::ResAccepted | CumKind::Canceled | CumKind::AcceptedInQueue if rng.below(10) > 0 => {
                        rng.below(300_000) as u32
                    }
                    _ => NO_WAIT,
                };
                Entry { ts_ms: 1_000_000_000_000 + rng.below(span_ms as u64) as i64, kind, wait_ms }
            })
            .collect()
    }

    #[test]
    fn matches_a_full_scan_in_any_order_and_any_sealing() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let span = 10 * 24 * 3_600_000; // ten days
        let entries = random_entries(&mut rng, 20_000, span);
        let base_minute = 1_000_000_000_000 / MINUTE_MS;
        let t = [0, 5_000, 20_000, 60_000, 10_000_000];

        // In time order with the watermark following, as during replay.
        let mut sorted = entries.clone();
        sorted.sort();
        let mut a = CumIndex::default();
        let mut sealed = base_minute;
        for e in &sorted {
            let w = (e.ts_ms - 120_000).div_euclid(MINUTE_MS);
            if w > sealed {
                a.seal(sealed, w);
                sealed = w;
            }
            a.insert(*e, sealed);
        }
        // In random order, everything sealed up front: every insert is "late".
        let mut b = CumIndex::default();
        let sealed_b = base_minute + span / MINUTE_MS + 10;
        b.seal(base_minute - 10, sealed_b);
        let mut shuffled = entries.clone();
        for i in (1..shuffled.len()).rev() {
            shuffled.swap(i, rng.below(i as u64 + 1) as usize);
        }
        for e in &shuffled {
            b.insert(*e, sealed_b);
        }
        for _ in 0..300 {
            let s = 1_000_000_000_000 + rng.below(span as u64) as i64 - 3_600_000;
            let len = rng.below(span as u64 / 2) as i64;
            let expected = naive(&entries, s, s + len, &t);
            let mut got = Agg::new(t.len());
            a.query(s, s + len, sealed, &t, &mut got);
            assert_eq!(got, expected, "in-order index, window {s}..{}", s + len);
            let mut got = Agg::new(t.len());
            b.query(s, s + len, sealed_b, &t, &mut got);
            assert_eq!(got, expected, "late-insert index, window {s}..{}", s + len);
        }
    }

    #[test]
    fn remove_undoes_insert_and_purge_drops_old_minutes() {
        let mut rng = Rng(42);
        let entries = random_entries(&mut rng, 2_000, 3_600_000 * 24);
        let base_minute = 1_000_000_000_000 / MINUTE_MS;
        let mut idx = CumIndex::default();
        let sealed = base_minute + 24 * 60 + 5;
        idx.seal(base_minute - 1, sealed);
        for e in &entries {
            idx.insert(*e, sealed);
        }
        let (keep, drop) = entries.split_at(1_000);
        for e in drop {
            idx.remove(*e, sealed);
        }
        let t = [30_000];
        let (s, end) = (1_000_000_000_000 - 1, 1_000_000_000_000 + 3_600_000 * 25);
        let mut got = Agg::new(1);
        idx.query(s, end, sealed, &t, &mut got);
        assert_eq!(got, naive(keep, s, end, &t));

        let cutoff: i64 = 1_000_000_000_000 + 3_600_000 * 12;
        idx.purge(cutoff.div_euclid(MINUTE_MS));
        let mut got = Agg::new(1);
        idx.query(cutoff, end, sealed, &t, &mut got);
        assert_eq!(got, naive(keep, cutoff, end, &t));
    }

    #[test]
    fn inclusive_bounds_in_milliseconds() {
        let mut idx = CumIndex::default();
        let e = Entry { ts_ms: 1_000_000_030_000, kind: CumKind::Entered, wait_ms: NO_WAIT };
        idx.insert(e, 0);
        for (s, end, n) in [(e.ts_ms, e.ts_ms, 1), (e.ts_ms + 1, e.ts_ms + 5, 0), (e.ts_ms - 5, e.ts_ms - 1, 0)] {
            let mut agg = Agg::new(0);
            idx.query(s, end, 0, &[], &mut agg);
            assert_eq!(agg.count(CumKind::Entered), n);
        }
    }
}
