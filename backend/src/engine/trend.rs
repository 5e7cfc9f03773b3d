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
//! Memory is bounded: a ring holds at most [`SLOTS`] samples of [`SAMPLE_BYTES`] (one day
//! at one per 10 s, 169 KiB), grows only as boundaries pass, and queue series have none.

use std::collections::VecDeque;

/// The distance between samples.
pub const INTERVAL_MS: i64 = 10_000;
/// Samples kept per series: 24 hours.
pub const SLOTS: usize = 8_640;
/// The size of one stored sample.
pub const SAMPLE_BYTES: usize = std::mem::size_of::<Sample>();

/// The realtime numbers of a series (or of a view, added up) at one boundary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
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
#[derive(Debug, Default)]
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
