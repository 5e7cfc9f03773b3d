//! Service level and abandonment, computed from the cumulative statistics.
//!
//! Definitions (shown in the UI next to the numbers):
//! - **service level at T** = tasks accepted with a wait below T ÷ (tasks accepted + tasks
//!   canceled with a wait of T or more). Tasks abandoned before T ("short abandons") count
//!   neither for nor against it. The counts are those of `split_by_wait_time[T]`
//!   (`below.reservations_accepted` over `below.reservations_accepted +
//!   above.reservations_accepted + above.tasks_canceled`).
//! - **abandonment** = `tasks_canceled` ÷ `tasks_entered` of the window. Both are counted by
//!   their own events inside the window, so a task that entered before the window and was
//!   canceled inside it counts in the numerator only: the share can exceed 100 % on short
//!   windows; it is shown as computed.
//!
//! A zero denominator has no value (shown as "—"), never 0 % or 100 %.

use wallboard_shared::resources::{CumulativeStats, Split};

/// The formula of [`service_level`], as shown on the page.
pub const SERVICE_LEVEL_FORMULA: &str = "service level = accepted < T ÷ (accepted + canceled ≥ T)";
/// The formula of [`abandonment`], as shown on the page.
pub const ABANDONMENT_FORMULA: &str = "abandonment = canceled ÷ entered";

/// One threshold's counts and service level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlaRow {
    pub threshold: u32,
    pub accepted_below: u64,
    pub accepted_above: u64,
    pub canceled_below: u64,
    pub canceled_above: u64,
    /// Share in 0..=1; None when nothing was accepted and nothing canceled at or after T.
    pub service_level: Option<f64>,
}

/// Service level of one split (see the module documentation).
pub fn service_level(split: &Split) -> Option<f64> {
    let within = split.below.reservations_accepted;
    let denominator = within + split.above.reservations_accepted + split.above.tasks_canceled;
    ratio(within, denominator)
}

/// Abandonment of a window (see the module documentation).
pub fn abandonment(stats: &CumulativeStats) -> Option<f64> {
    ratio(stats.tasks_canceled, stats.tasks_entered)
}

/// One row per threshold, ascending; empty when the statistics carry no split.
pub fn rows(stats: &CumulativeStats) -> Vec<SlaRow> {
    let Some(split) = &stats.split_by_wait_time else { return Vec::new() };
    split
        .0
        .iter()
        .map(|(threshold, s)| SlaRow {
            threshold: *threshold,
            accepted_below: s.below.reservations_accepted,
            accepted_above: s.above.reservations_accepted,
            canceled_below: s.below.tasks_canceled,
            canceled_above: s.above.tasks_canceled,
            service_level: service_level(s),
        })
        .collect()
}

/// The service level at `threshold`, when the statistics have a split for it.
pub fn service_level_at(stats: &CumulativeStats, threshold: u32) -> Option<f64> {
    let split = stats.split_by_wait_time.as_ref()?;
    split.0.iter().find(|(t, _)| *t == threshold).and_then(|(_, s)| service_level(s))
}

fn ratio(numerator: u64, denominator: u64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use wallboard_shared::resources::{SplitByWaitTime, SplitCounts, WaitDuration};

    pub(crate) fn split(accepted_below: u64, canceled_below: u64, accepted_above: u64, canceled_above: u64) -> Split {
        Split {
            below: SplitCounts { reservations_accepted: accepted_below, tasks_canceled: canceled_below },
            above: SplitCounts { reservations_accepted: accepted_above, tasks_canceled: canceled_above },
        }
    }

    pub(crate) fn stats(entered: u64, canceled: u64, splits: Option<Vec<(u32, Split)>>) -> CumulativeStats {
        CumulativeStats {
            avg_task_acceptance_time: 0,
            start_time: Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap(),
            end_time: Utc.with_ymd_and_hms(2026, 11, 27, 9, 15, 0).unwrap(),
            reservations_created: 0,
            reservations_accepted: 0,
            reservations_rejected: 0,
            reservations_timed_out: 0,
            reservations_canceled: 0,
            reservations_rescinded: 0,
            split_by_wait_time: splits.map(SplitByWaitTime),
            wait_duration_until_accepted: WaitDuration::default(),
            wait_duration_until_canceled: WaitDuration::default(),
            tasks_canceled: canceled,
            tasks_completed: 0,
            tasks_entered: entered,
            tasks_deleted: 0,
            tasks_moved: 0,
            tasks_timed_out_in_workflow: 0,
        }
    }

    #[test]
    fn service_level_ignores_short_abandons() {
        // 8 answered within T, 2 after; 5 abandoned before T (ignored), 2 after T.
        let s = split(8, 5, 2, 2);
        assert_eq!(service_level(&s), Some(8.0 / 12.0));
    }

    #[test]
    fn zero_denominators_have_no_value() {
        assert_eq!(service_level(&split(0, 0, 0, 0)), None);
        assert_eq!(service_level(&split(0, 3, 0, 0)), None, "only short abandons");
        assert_eq!(service_level(&split(0, 0, 0, 1)), Some(0.0));
        assert_eq!(abandonment(&stats(0, 0, None)), None);
        assert_eq!(abandonment(&stats(0, 2, None)), None);
    }

    #[test]
    fn abandonment_is_canceled_over_entered() {
        assert_eq!(abandonment(&stats(40, 4, None)), Some(0.1));
        assert_eq!(abandonment(&stats(2, 3, None)), Some(1.5), "shown as computed");
    }

    #[test]
    fn rows_follow_thresholds() {
        let st = stats(10, 1, Some(vec![(20, split(5, 0, 3, 1)), (60, split(8, 0, 0, 1))]));
        let r = rows(&st);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].threshold, 20);
        assert_eq!(r[0].service_level, Some(5.0 / 9.0));
        assert_eq!((r[1].accepted_below, r[1].canceled_above), (8, 1));
        assert_eq!(service_level_at(&st, 60), Some(8.0 / 9.0));
        assert_eq!(service_level_at(&st, 30), None);
        assert!(rows(&stats(1, 0, None)).is_empty());
    }
}
