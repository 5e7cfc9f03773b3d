//! Trends: the realtime numbers of every workflow series at each 10-second boundary of the
//! last 24 hours, so a page that opens (or a server that restarts) shows a full last hour
//! at once instead of one sampled since it opened.
//!
//! Sampled by *event time*, never by a clock: when the first event at or after a boundary
//! arrives, the state every series is in (every event before it applied) is recorded for
//! each boundary it crossed, before the event is applied. Replaying the log in its order
//! therefore rebuilds the same rings as the live server built, and after a restart the
//! history is the same. Boundaries after the newest event have no sample yet: nothing has
//! happened since, so they are read from the current state ([`Ring`]s only hold what events
//! closed).
//!
//! A late event (older than a boundary already sampled) does not rewrite the samples taken:
//! it changes the state, and so the samples from the next boundary on. Replayed in the
//! log's order, the same late event lands the same way, so restarts still agree.
//!
//! Every workflow series (workflow × channel) and every task queue's realtime counts per
//! channel (kept by the [`super::Floor`]) have a ring; a workflow's, a workspace's or a
//! queue's history adds up its rings ([`Source`]). Workers targets have none: their numbers
//! are agents, not tasks.
//!
//! Memory is bounded: a ring holds at most [`SLOTS`] samples of [`SAMPLE_BYTES`] (one day
//! at one per 10 s, 169 KiB), and grows only as boundaries pass.

use std::collections::VecDeque;

/// The distance between samples.
pub const INTERVAL_MS: i64 = 10_000;
/// Samples kept per series: 24 hours.
pub const SLOTS: usize = 8_640;
/// The size of one stored sample.
pub const SAMPLE_BYTES: usize = std::mem::size_of::<Sample>();

/// The realtime numbers of a series (or of a view, added up) at one boundary.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sample {
    /// Live tasks by status: pending, reserved, assigned, wrapping.
    pub by_status: [u32; 4],
    /// Age in whole seconds at the boundary of the oldest pending task (0 when none).
    pub longest_wait_s: u32,
}

impl Sample {
    /// The numbers of a series whose oldest pending task was created at `oldest_ms`, at
    /// `boundary_ms`.
    pub(super) fn of(by_status: &[u64; 4], oldest_ms: Option<i64>, boundary_ms: i64) -> Self {
        Self {
            by_status: by_status.map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
            longest_wait_s: oldest_ms
                .map_or(0, |c| u32::try_from(super::waiting_age(c, boundary_ms)).unwrap_or(u32::MAX)),
        }
    }

    /// Adds another series' numbers: counts add up, the longest wait is the longest.
    pub fn add(&mut self, other: &Sample) {
        for (a, b) in self.by_status.iter_mut().zip(other.by_status) {
            *a = a.saturating_add(b);
        }
        self.longest_wait_s = self.longest_wait_s.max(other.longest_wait_s);
    }

    pub fn total(&self) -> u64 {
        self.by_status.iter().map(|&n| u64::from(n)).sum()
    }
}

/// One series' samples: boundary number `first + i` (boundary × [`INTERVAL_MS`] since the
/// epoch) is at `samples[i]`.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Default)]
pub struct Ring {
    first: i64,
    samples: VecDeque<Sample>,
}

impl Ring {
    /// Records `sample` at boundary `k`, the one after the last recorded (the engine
    /// records every boundary of every series in order; after a gap longer than the ring,
    /// the ring starts over at `k`). The oldest sample goes when the ring is full; the
    /// buffer grows in steps, never beyond [`SLOTS`].
    pub(super) fn record(&mut self, k: i64, sample: Sample) {
        if self.samples.is_empty() || k != self.first + self.samples.len() as i64 {
            self.samples.clear();
            self.first = k;
        }
        if self.samples.len() == SLOTS {
            self.samples.pop_front();
            self.first += 1;
        } else if self.samples.len() == self.samples.capacity() {
            let grow = self.samples.len().max(16).min(SLOTS - self.samples.len());
            self.samples.reserve_exact(grow);
        }
        self.samples.push_back(sample);
    }

    /// Records the state of a series (its live tasks by status, the creation time of its
    /// oldest pending task) at every boundary `from..=last` (nothing happened between them).
    pub(super) fn record_state(&mut self, from: i64, last: i64, by_status: &[u64; 4], oldest_ms: Option<i64>) {
        for k in from..=last {
            self.record(k, Sample::of(by_status, oldest_ms, k * INTERVAL_MS));
        }
    }

    /// The sample at boundary `k`, if recorded and still kept.
    pub fn get(&self, k: i64) -> Option<&Sample> {
        usize::try_from(k - self.first).ok().and_then(|i| self.samples.get(i))
    }

    pub fn len(&self) -> usize {
        self.samples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Bytes held by the ring's buffer.
    pub fn heap_bytes(&self) -> usize {
        self.samples.capacity() * SAMPLE_BYTES
    }
}

/// One series' part of a view's history: the samples its events closed, and its state now
/// (for the boundaries after the newest event).
#[derive(Debug, Clone, Copy)]
pub(super) struct Source<'a> {
    pub ring: &'a Ring,
    pub by_status: &'a [u64; 4],
    /// Creation time of the oldest pending task.
    pub oldest_ms: Option<i64>,
}

impl Source<'_> {
    /// The numbers at boundary `k`, every boundary before `next` being sampled: the sample
    /// recorded (none: the series did not exist yet, so nothing), or the state now.
    fn at(&self, k: i64, next: i64) -> Sample {
        if k < next {
            self.ring.get(k).copied().unwrap_or_default()
        } else {
            Sample::of(self.by_status, self.oldest_ms, k * INTERVAL_MS)
        }
    }
}

/// A view's samples at consecutive boundaries: `samples[i]` is at
/// `start_ms + i × interval_ms`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    pub interval_ms: i64,
    pub start_ms: i64,
    pub samples: Vec<Sample>,
}

/// The boundary number at or before `ms`.
pub fn boundary_at_or_before(ms: i64) -> i64 {
    ms.div_euclid(INTERVAL_MS)
}

/// The boundary number at or after `ms`.
pub fn boundary_at_or_after(ms: i64) -> i64 {
    ms.div_euclid(INTERVAL_MS) + i64::from(ms.rem_euclid(INTERVAL_MS) != 0)
}

/// Which boundaries the engine has sampled: `first..next` (rings keep the last [`SLOTS`]
/// of them); `next` is `i64::MIN` before the first task event.
#[derive(Debug, Clone, Copy)]
pub(super) struct Sampled {
    pub first: i64,
    pub next: i64,
}

/// The history, from `from_ms` to `now_ms` (both included), of the view made of `sources`:
/// each boundary's numbers added up over the sources. Starts at the first boundary sampled
/// and covers at most a day (what the rings keep, and what a caller may ask for).
pub(super) fn read(sources: &[Source<'_>], sampled: Sampled, from_ms: i64, now_ms: i64) -> History {
    let mut out = History { interval_ms: INTERVAL_MS, ..History::default() };
    if sampled.next == i64::MIN {
        return out;
    }
    let last = boundary_at_or_before(now_ms);
    let kept_from = sampled.first.max(sampled.next - SLOTS as i64).max(last - SLOTS as i64 + 1);
    let first = boundary_at_or_after(from_ms).max(kept_from);
    out.start_ms = first.saturating_mul(INTERVAL_MS);
    out.samples.reserve(usize::try_from(last - first + 1).unwrap_or(0).min(SLOTS));
    for k in first..=last {
        let mut sum = Sample::default();
        for source in sources {
            sum.add(&source.at(k, sampled.next));
        }
        out.samples.push(sum);
    }
    out
}
