//! One worker's log of counted reservation events, for the workers' cumulative statistics
//! of a set of workers (`Workers/{WK}/Statistics`, a filtered `Workers/Statistics`).
//!
//! The records are kept in time order (16 bytes each: a busy month holds millions), with the
//! counts of every kind before each block of [`BLOCK`] records. The counts of a window are then
//! two binary searches and at most `2 × BLOCK` records read, whatever the window's length: a
//! 30-day question about the 700 workers eligible for a queue reads a few thousand records,
//! not the month's millions. A question narrowed to one task channel reads the window's
//! records (the blocks count all channels together).

/// Records per block of counts.
const BLOCK: usize = 64;

/// The number of reservation outcomes counted (created, accepted, rejected, timed out,
/// canceled, rescinded).
pub const KINDS: usize = 6;

/// One reservation event counted for a worker.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Record {
    ts_ms: i64,
    /// The registry's id of the task's channel, or the engine's "no channel".
    channel: u32,
    /// The outcome, below [`KINDS`].
    kind: u8,
}

const _: () = assert!(std::mem::size_of::<Record>() == 16, "a reservation record stays 16 bytes");

/// A worker's reservation events in time order, with counts per block.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Default)]
pub struct ResLog {
    records: Vec<Record>,
    /// `blocks[b]`: the counts of `records[..b * BLOCK]`; `records.len() / BLOCK + 1` of
    /// them once anything was recorded (empty before).
    blocks: Vec<[u32; KINDS]>,
    /// The counts of all records.
    total: [u32; KINDS],
}

impl ResLog {
    /// Records outcome `kind` (below [`KINDS`]; others are ignored) at `ts_ms` for a task
    /// on `channel`. Nearly always an append: events come roughly in time order.
    pub fn insert(&mut self, ts_ms: i64, channel: u32, kind: usize) {
        if kind >= KINDS {
            return;
        }
        if self.blocks.is_empty() {
            self.blocks.push([0; KINDS]);
        }
        let r = Record { ts_ms, channel, kind: kind as u8 };
        let at = self.records.partition_point(|x| *x <= r);
        self.records.insert(at, r);
        // A block starting after `at` now counts `r` and no longer the record pushed from
        // its last place to its first.
        for b in at / BLOCK + 1..self.blocks.len() {
            let pushed = self.records[b * BLOCK].kind;
            let counts = &mut self.blocks[b];
            counts[kind] += 1;
            counts[usize::from(pushed)] -= 1;
        }
        self.total[kind] += 1;
        if self.records.len().is_multiple_of(BLOCK) {
            self.blocks.push(self.total);
        }
    }

    /// Forgets the records older than `before_ms`.
    pub fn prune(&mut self, before_ms: i64) {
        let older = self.records.partition_point(|r| r.ts_ms < before_ms);
        if older == 0 {
            return;
        }
        self.records.drain(..older);
        self.rebuild();
    }

    fn rebuild(&mut self) {
        self.blocks.clear();
        self.total = [0; KINDS];
        if self.records.is_empty() {
            self.records.shrink_to_fit();
            return;
        }
        self.blocks.push([0; KINDS]);
        for (i, r) in self.records.iter().enumerate() {
            self.total[usize::from(r.kind)] += 1;
            if (i + 1).is_multiple_of(BLOCK) {
                self.blocks.push(self.total);
            }
        }
    }

    /// The counts of `records[..i]`.
    fn before(&self, i: usize) -> [u32; KINDS] {
        let b = i / BLOCK;
        let mut counts = self.blocks.get(b).copied().unwrap_or_default();
        for r in &self.records[b * BLOCK..i] {
            counts[usize::from(r.kind)] += 1;
        }
        counts
    }

    /// Adds to `out` the records with `start_ms <= time <= end_ms` (the index's bounds), of
    /// tasks on `channel` when given.
    pub fn count(&self, start_ms: i64, end_ms: i64, channel: Option<u32>, out: &mut [u64; KINDS]) {
        let v = &self.records;
        let lo = partition_near(v, |r| r.ts_ms, start_ms, |r| r.ts_ms < start_ms);
        let hi = partition_near(v, |r| r.ts_ms, end_ms, |r| r.ts_ms <= end_ms);
        if lo >= hi {
            return;
        }
        match channel {
            Some(c) => {
                for r in self.records[lo..hi].iter().filter(|r| r.channel == c) {
                    out[usize::from(r.kind)] += 1;
                }
            }
            None => {
                let (a, b) = (self.before(lo), self.before(hi));
                for k in 0..KINDS {
                    out[k] += u64::from(b[k] - a[k]);
                }
            }
        }
    }

    /// How many records are kept.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.records.len()
    }
}

/// `v.partition_point(pred)` for a `v` in time order (`ts`) and a `pred` that holds before
/// time `at` and not after: searched from the end whose time is nearer `at`, doubling the
/// step, then bisecting the last step. A window ending now, or starting at the oldest
/// record kept, touches a few neighbouring records instead of a binary search's cache
/// misses across the whole month.
pub(super) fn partition_near<T>(v: &[T], ts: impl Fn(&T) -> i64, at: i64, pred: impl Fn(&T) -> bool) -> usize {
    let (Some(first), Some(last)) = (v.first(), v.last()) else {
        return 0;
    };
    let len = v.len();
    if ts(last).saturating_sub(at) <= at.saturating_sub(ts(first)) {
        // From the end: v[len - k / 2..] fail `pred`; stop once v[len - k] holds it.
        let mut k = 1;
        while k <= len && !pred(&v[len - k]) {
            k *= 2;
        }
        let lo = if k > len { 0 } else { len - k + 1 };
        let hi = len - k / 2;
        lo + v[lo..hi].partition_point(pred)
    } else {
        // From the front: v[..b / 2] hold `pred`; stop once v[b - 1] fails it.
        let mut b = 1;
        while b <= len && pred(&v[b - 1]) {
            b *= 2;
        }
        let lo = b / 2;
        let hi = b.min(len);
        lo + v[lo..hi].partition_point(pred)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The counts by reading every record: what the blocks must agree with.
    fn naive(records: &[(i64, u32, usize)], start: i64, end: i64, channel: Option<u32>) -> [u64; KINDS] {
        let mut out = [0; KINDS];
        for &(t, c, k) in records {
            if (start..=end).contains(&t) && channel.is_none_or(|x| x == c) {
                out[k] += 1;
            }
        }
        out
    }

    fn counted(log: &ResLog, start: i64, end: i64, channel: Option<u32>) -> [u64; KINDS] {
        let mut out = [0; KINDS];
        log.count(start, end, channel, &mut out);
        out
    }

    /// xorshift: a fixed pseudo-random sequence.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    #[test]
    fn windows_agree_with_reading_every_record_through_late_inserts_and_pruning() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut log = ResLog::default();
        let mut kept: Vec<(i64, u32, usize)> = Vec::new();
        for i in 0..3_000i64 {
            // Mostly in order, one in eight late by up to 500 steps; ties on purpose.
            let t = if rng.below(8) == 0 { i * 10 - rng.below(5_000) as i64 } else { i * 10 };
            let (c, k) = (rng.below(3) as u32, rng.below(KINDS as u64) as usize);
            log.insert(t, c, k);
            kept.push((t, c, k));
            if i % 500 == 499 {
                let before = i * 10 - 8_000;
                log.prune(before);
                kept.retain(|r| r.0 >= before);
            }
            if i % 97 == 0 {
                assert_eq!(log.len(), kept.len());
                for _ in 0..20 {
                    let a = rng.below(31_000) as i64 - 500;
                    let b = a + rng.below(10_000) as i64;
                    for channel in [None, Some(0), Some(2)] {
                        assert_eq!(counted(&log, a, b, channel), naive(&kept, a, b, channel), "[{a}, {b}] {channel:?}");
                    }
                }
            }
        }
        // Whole range and empty ranges.
        assert_eq!(counted(&log, i64::MIN, i64::MAX, None), naive(&kept, i64::MIN, i64::MAX, None));
        assert_eq!(counted(&log, 10, 5, None), [0; KINDS]);
        log.prune(i64::MAX);
        assert_eq!(log.len(), 0);
        assert_eq!(counted(&log, i64::MIN, i64::MAX, None), [0; KINDS]);
    }

    #[test]
    fn searching_from_the_nearer_end_finds_the_binary_search_point() {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        for len in [0usize, 1, 2, 3, 7, 64, 65, 1000] {
            let mut v: Vec<i64> = (0..len).map(|_| rng.below(500) as i64).collect();
            v.sort_unstable();
            for at in -2..503 {
                let want = v.partition_point(|&t| t < at);
                assert_eq!(partition_near(&v, |&t| t, at, |&t| t < at), want, "len {len}, < {at}");
                let want = v.partition_point(|&t| t <= at);
                assert_eq!(partition_near(&v, |&t| t, at, |&t| t <= at), want, "len {len}, <= {at}");
            }
        }
    }

    #[test]
    fn window_bounds_are_inclusive_and_unknown_kinds_are_ignored() {
        let mut log = ResLog::default();
        log.insert(100, 1, 0);
        log.insert(200, 1, 1);
        log.insert(200, 2, 5);
        log.insert(300, 1, 6); // no such outcome
        assert_eq!(log.len(), 3);
        assert_eq!(counted(&log, 100, 200, None), [1, 1, 0, 0, 0, 1]);
        assert_eq!(counted(&log, 101, 199, None), [0; KINDS]);
        assert_eq!(counted(&log, 200, 300, Some(2)), [0, 0, 0, 0, 0, 1]);
    }
}
