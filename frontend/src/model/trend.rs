//! A bounded ring buffer of the last hour of realtime numbers, for the trend chart.
//!
//! The server pushes on change only, so samples are irregular: the chart holds each value
//! until the next sample (a step line) and extends the last one to "now". A subscription's
//! `history` frame (the server's samples every 10 s of the last hour) seeds the trend
//! first, so a page that just opened shows a full hour ([`Trend::seed`]).

use std::collections::VecDeque;

use wallboard_shared::resources::RealTimeStats;

/// How far back the trend reaches.
pub const SPAN_MS: i64 = 60 * 60 * 1000;
/// Samples closer together than this replace each other (at most one per second).
pub const RESOLUTION_MS: i64 = 1000;
/// Hard bound on memory, whatever the clock does.
pub const CAPACITY: usize = 3600;

/// The realtime numbers at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    pub at_ms: i64,
    pub total: u64,
    pub pending: u64,
    pub assigned: u64,
    pub longest_wait: u64,
}

impl Sample {
    pub fn from_stats(at_ms: i64, stats: &RealTimeStats) -> Self {
        Self {
            at_ms,
            total: stats.total_tasks,
            pending: stats.tasks_by_status.pending,
            assigned: stats.tasks_by_status.assigned,
            longest_wait: stats.longest_task_waiting_age,
        }
    }
}

impl Sample {
    /// A `history` frame's rows (`[pending, reserved, assigned, wrapping, longest_wait_s]`,
    /// row i at `start_ms + i × interval_ms`, on the page's clock) as samples.
    pub fn from_history(start_ms: i64, interval_ms: i64, rows: &[[u64; 5]]) -> Vec<Sample> {
        (0..)
            .zip(rows)
            .map(|(i, &[pending, reserved, assigned, wrapping, longest_wait])| Sample {
                at_ms: start_ms + i * interval_ms,
                total: pending + reserved + assigned + wrapping,
                pending,
                assigned,
                longest_wait,
            })
            .collect()
    }
}

/// The buffer; samples are kept in time order. It takes its whole capacity at once (144 KiB
/// for an hour): a page left open for weeks holds the same block all along instead of
/// growing it in steps, which would leave holes in the wasm heap that never shrinks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trend {
    samples: VecDeque<Sample>,
    span_ms: i64,
    capacity: usize,
    /// Moves with every change: the chart redraws on it and reads the samples in place.
    revision: u64,
}

impl Default for Trend {
    fn default() -> Self {
        Self::new(SPAN_MS, CAPACITY)
    }
}

impl Trend {
    pub fn new(span_ms: i64, capacity: usize) -> Self {
        Self { samples: VecDeque::with_capacity(capacity.max(1)), span_ms, capacity: capacity.max(1), revision: 0 }
    }

    /// Adds a sample. One that is not after the last is merged into it (same second) or
    /// dropped (older: the clock went back); old samples beyond the span fall out, and the
    /// oldest goes when the buffer is full.
    pub fn push(&mut self, sample: Sample) {
        self.revision += 1;
        if let Some(last) = self.samples.back_mut() {
            if sample.at_ms < last.at_ms {
                return;
            }
            if sample.at_ms - last.at_ms < RESOLUTION_MS {
                *last = Sample { at_ms: last.at_ms, ..sample };
                return;
            }
        }
        if self.samples.len() == self.capacity {
            self.samples.pop_front();
        }
        self.samples.push_back(sample);
        self.expire(sample.at_ms);
    }

    /// Puts the server's earlier samples (oldest first) before the ones this page collected:
    /// only those older than the first held are taken (what the page saw itself wins, and
    /// no point goes back in time), the newest of them when the buffer would overflow.
    pub fn seed(&mut self, history: &[Sample]) {
        self.revision += 1;
        let first = self.samples.front().map(|s| s.at_ms);
        let older = history.iter().rev().filter(|s| first.is_none_or(|f| s.at_ms < f));
        let mut next = first;
        for s in older {
            if self.samples.len() == self.capacity {
                break;
            }
            // Oldest first on the wire; anything out of order is skipped.
            if next.is_none_or(|n| s.at_ms < n) {
                self.samples.push_front(*s);
                next = Some(s.at_ms);
            }
        }
        if let Some(last) = self.samples.back().map(|s| s.at_ms) {
            self.expire(last);
        }
    }

    /// Drops samples older than the span before `now_ms`, keeping the newest of them so the
    /// step line still starts at the left edge.
    pub fn expire(&mut self, now_ms: i64) {
        self.revision += 1;
        let cutoff = now_ms - self.span_ms;
        while self.samples.len() > 1 && self.samples.get(1).is_some_and(|s| s.at_ms <= cutoff) {
            self.samples.pop_front();
        }
    }

    pub fn clear(&mut self) {
        self.revision += 1;
        self.samples.clear();
    }

    pub fn len(&self) -> usize {
        self.samples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Changes whenever the samples may have (see `revision`).
    pub fn revision(&self) -> u64 {
        self.revision
    }

    pub fn first(&self) -> Option<&Sample> {
        self.samples.front()
    }

    pub fn span_ms(&self) -> i64 {
        self.span_ms
    }

    pub fn samples(&self) -> impl Iterator<Item = &Sample> {
        self.samples.iter()
    }

    pub fn last(&self) -> Option<&Sample> {
        self.samples.back()
    }

    /// The largest count (total, pending or assigned) in the buffer, for the y axis.
    pub fn max_count(&self) -> u64 {
        self.samples.iter().map(|s| s.total.max(s.pending).max(s.assigned)).max().unwrap_or(0)
    }
}

/// One trend per workflow (the shown one; on a rotating kiosk all of them), pruned to those
/// still subscribed, so memory stays bounded by the plan. (A short list: a map's code would
/// cost the wasm more.)
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trends(Vec<(String, Trend)>);

impl Trends {
    pub fn push(&mut self, workflow: &str, sample: Sample) {
        match self.0.iter_mut().find(|(wf, _)| wf == workflow) {
            Some((_, trend)) => trend.push(sample),
            None => {
                let mut trend = Trend::default();
                trend.push(sample);
                self.0.push((workflow.to_owned(), trend));
            }
        }
    }

    /// Seeds the trend of `workflow` with the server's history ([`Trend::seed`]).
    pub fn seed(&mut self, workflow: &str, history: &[Sample]) {
        match self.0.iter_mut().find(|(wf, _)| wf == workflow) {
            Some((_, trend)) => trend.seed(history),
            None => {
                let mut trend = Trend::default();
                trend.seed(history);
                self.0.push((workflow.to_owned(), trend));
            }
        }
    }

    pub fn get(&self, workflow: &str) -> Option<&Trend> {
        self.0.iter().find(|(wf, _)| wf == workflow).map(|(_, t)| t)
    }

    /// Forgets the trends of workflows no longer subscribed.
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.0.retain(|(wf, _)| keep(wf));
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(at_ms: i64, total: u64) -> Sample {
        Sample { at_ms, total, pending: total / 2, assigned: 0, longest_wait: 0 }
    }

    #[test]
    fn keeps_an_hour() {
        let mut t = Trend::default();
        for i in 0..7200 {
            t.push(s(i * 1000, i as u64));
        }
        assert!(t.len() <= CAPACITY);
        let first = t.samples().next().expect("not empty").at_ms;
        assert!(first >= 7199 * 1000 - SPAN_MS, "first {first}");
        assert_eq!(t.last().map(|x| x.total), Some(7199));
    }

    #[test]
    fn the_newest_sample_before_the_window_is_kept_for_the_left_edge() {
        let mut t = Trend::new(10_000, 100);
        t.push(s(0, 1));
        t.push(s(30_000, 2));
        let v: Vec<_> = t.samples().map(|x| x.total).collect();
        assert_eq!(v, [1, 2], "0 still tells what the value was at 20 s");
        t.push(s(45_000, 3));
        let v: Vec<_> = t.samples().map(|x| x.total).collect();
        assert_eq!(v, [2, 3]);
    }

    #[test]
    fn same_second_merges_and_going_back_is_dropped() {
        let mut t = Trend::default();
        t.push(s(10_000, 1));
        t.push(s(10_400, 2));
        assert_eq!(t.len(), 1);
        assert_eq!(t.last().map(|x| (x.at_ms, x.total)), Some((10_000, 2)));
        t.push(s(9_000, 9));
        assert_eq!(t.last().map(|x| x.total), Some(2));
        t.push(s(11_000, 3));
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn capacity_bounds_memory() {
        let mut t = Trend::new(i64::MAX / 4, 5);
        for i in 0..50 {
            t.push(s(i * 2000, i as u64));
        }
        assert_eq!(t.len(), 5);
        assert_eq!(t.samples().next().map(|x| x.total), Some(45));
        assert_eq!(t.max_count(), 49);
        t.clear();
        assert!(t.is_empty());
        assert_eq!(t.max_count(), 0);
    }

    #[test]
    fn history_seeds_before_what_the_page_saw() {
        let mut t = Trend::default();
        let history: Vec<Sample> = (0..360).map(|i| s(i * 10_000, i as u64)).collect();
        t.seed(&history);
        assert_eq!(t.len(), 360);
        assert_eq!(t.samples().next().map(|x| x.at_ms), Some(0));
        // Live snapshots go on after it.
        t.push(s(3_595_000, 1000));
        assert_eq!(t.last().map(|x| (x.at_ms, x.total)), Some((3_595_000, 1000)));
        assert_eq!(t.len(), 361);
        // A second history (a reconnect) adds only what is older than the first sample held.
        let mut u = Trend::default();
        u.push(s(50_000, 7));
        u.push(s(60_000, 8));
        u.seed(&[s(30_000, 1), s(40_000, 2), s(50_000, 3), s(70_000, 4)]);
        let v: Vec<_> = u.samples().map(|x| (x.at_ms, x.total)).collect();
        assert_eq!(v, [(30_000, 1), (40_000, 2), (50_000, 7), (60_000, 8)]);
        // Only the span is kept (and the sample before it, for the left edge).
        let mut w = Trend::new(20_000, 100);
        w.seed(&[s(0, 1), s(10_000, 2), s(20_000, 3), s(30_000, 4)]);
        let v: Vec<_> = w.samples().map(|x| x.total).collect();
        assert_eq!(v, [2, 3, 4]);
        // Out of order samples never make the trend go back in time.
        let mut x = Trend::default();
        x.seed(&[s(0, 1), s(10_000, 2), s(5_000, 3)]);
        let at: Vec<_> = x.samples().map(|x| x.at_ms).collect();
        assert!(at.is_sorted_by(|a, b| a < b), "{at:?}");
    }

    #[test]
    fn history_rows_become_samples_at_their_instants() {
        let got = Sample::from_history(1_000_000, 10_000, &[[1, 2, 3, 4, 50], [0, 0, 0, 0, 0]]);
        assert_eq!(
            got,
            [
                Sample { at_ms: 1_000_000, total: 10, pending: 1, assigned: 3, longest_wait: 50 },
                Sample { at_ms: 1_010_000, total: 0, pending: 0, assigned: 0, longest_wait: 0 },
            ]
        );
        assert!(Sample::from_history(0, 10_000, &[]).is_empty());
    }

    #[test]
    fn seeding_respects_the_capacity() {
        let mut t = Trend::new(i64::MAX / 4, 5);
        let history: Vec<Sample> = (0..50).map(|i| s(i * 10_000, i as u64)).collect();
        t.seed(&history);
        assert_eq!(t.samples().map(|x| x.total).collect::<Vec<_>>(), [45, 46, 47, 48, 49]);
    }

    #[test]
    fn one_trend_per_workflow_pruned_to_the_plan() {
        let mut t = Trends::default();
        for i in 0..10_000 {
            t.push("WWa", s(i * 1000, 1));
            t.push("WWb", s(i * 1000, 2));
        }
        assert_eq!(t.len(), 2);
        assert!(t.get("WWa").is_some_and(|a| a.len() <= CAPACITY && a.last().map(|x| x.total) == Some(1)));
        t.retain(|wf| wf == "WWb");
        assert!(t.get("WWa").is_none());
        assert_eq!(t.get("WWb").map(|b| b.max_count()), Some(2));
        t.retain(|_| false);
        assert!(t.is_empty());
    }
}
