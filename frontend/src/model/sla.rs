//! The SLA table's rows and the abandonment, computed from the cumulative statistics.
//!
//! - **service level** (each row): the workflow's service-level definition applied at the
//!   row's threshold ([`super::service_levels::at_threshold`]: the same treatment of
//!   abandons and S, S following T when the definition has S = T). The built-in definition
//!   gives accepted below T ÷ (accepted + canceled at T or later), the dashboard's number
//!   before definitions; the row at the definition's T is the headline number.
//! - **abandonment** = `tasks_canceled` ÷ `tasks_entered` of the window. Both are counted by
//!   their own events inside the window, so a task that entered before the window and was
//!   canceled inside it counts in the numerator only: the share can exceed 100 % on short
//!   windows; it is shown as computed.
//!
//! A zero denominator has no value (shown as "—"), never 0 % or 100 %.

use wallboard_shared::resources::CumulativeStats;
use wallboard_shared::service_level::Definition;

use super::service_levels::{at_threshold, level};

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
    /// Share in 0..=1 under the definition at this threshold; None with nothing to divide by.
    pub service_level: Option<f64>,
}

/// Abandonment of a window (see the module documentation).
pub fn abandonment(stats: &CumulativeStats) -> Option<f64> {
    (stats.tasks_entered > 0).then(|| stats.tasks_canceled as f64 / stats.tasks_entered as f64)
}

/// One row per threshold of `shown` and the definition's T, ascending, under `definition`
/// (the split's other thresholds, such as S, are not rows); empty when the statistics carry
/// no split.
pub fn rows(stats: &CumulativeStats, definition: &Definition, shown: &[u32]) -> Vec<SlaRow> {
    let Some(split) = &stats.split_by_wait_time else { return Vec::new() };
    split
        .0
        .iter()
        .filter(|(t, _)| *t == definition.threshold || shown.contains(t))
        .map(|(threshold, s)| SlaRow {
            threshold: *threshold,
            accepted_below: s.below.reservations_accepted,
            accepted_above: s.above.reservations_accepted,
            canceled_below: s.below.tasks_canceled,
            canceled_above: s.above.tasks_canceled,
            service_level: level(&at_threshold(definition, *threshold), Some(split)),
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use wallboard_shared::resources::{Split, SplitByWaitTime, SplitCounts, WaitDuration};

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
    fn zero_denominators_have_no_value() {
        let row = |s| rows(&stats(1, 0, Some(vec![(20, s)])), &Definition::BUILT_IN, &[20])[0].service_level;
        assert_eq!(row(split(0, 0, 0, 0)), None);
        assert_eq!(row(split(0, 3, 0, 0)), None, "only short abandons");
        assert_eq!(row(split(0, 0, 0, 1)), Some(0.0));
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
        // The built-in: 8 answered within T, 2 after; 5 abandoned before T (ignored), 2 after.
        let st = stats(10, 1, Some(vec![(20, split(5, 0, 3, 1)), (60, split(8, 0, 0, 1))]));
        let r = rows(&st, &Definition::BUILT_IN, &[20, 60]);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].threshold, 20);
        assert_eq!(r[0].service_level, Some(5.0 / 9.0));
        assert_eq!((r[1].accepted_below, r[1].canceled_above), (8, 1));
        assert_eq!(r[1].service_level, Some(8.0 / 9.0));
        assert!(rows(&stats(1, 0, None), &Definition::BUILT_IN, &[20]).is_empty());
        let short = stats(15, 7, Some(vec![(20, split(8, 5, 2, 2))]));
        assert_eq!(rows(&short, &Definition::BUILT_IN, &[20])[0].service_level, Some(8.0 / 12.0));
    }

    #[test]
    fn rows_are_the_users_thresholds_and_t_under_the_definition() {
        use wallboard_shared::service_level::Abandons;
        // T = 30, S = 5, abandons against; the user asked for 20 and 60. Waits: answered 2,
        // 10, 29.999, 30, 45 s; abandoned 1, 4.999, 5, 12, 30, 60 s.
        let d = Definition::new(30, 5, Abandons::CountedAgainst).expect("valid");
        let st = stats(
            11,
            6,
            Some(vec![
                (5, split(1, 2, 4, 4)),
                (20, split(2, 4, 3, 2)),
                (30, split(3, 4, 2, 2)),
                (60, split(5, 5, 0, 1)),
            ]),
        );
        let r = rows(&st, &d, &[20, 60]);
        assert_eq!(r.iter().map(|r| r.threshold).collect::<Vec<_>>(), [20, 30, 60], "S is no row");
        // x ÷ (5 + 6 − 2) at each threshold; the row at T is the headline.
        let levels: Vec<_> = r.iter().map(|r| r.service_level).collect();
        assert_eq!(levels, [Some(2.0 / 9.0), Some(3.0 / 9.0), Some(5.0 / 9.0)]);
    }
}
