//! The figures of the page: every number as it is shown (text, raw value, level, hint),
//! computed from the snapshots and the view, so the components only render them.
//!
//! A tile shows one [`Figure`]; a workflow card is [`CardFigures`], the realtime tiles
//! [`RealtimeFigures`], the cumulative panel's key figures [`CumulativeFigures`].

use std::collections::BTreeMap;

use wallboard_shared::resources::{CumulativeStats, RealTimeStats, SplitByWaitTime};
use wallboard_shared::service_level::Definition;

use super::age;
use super::format;
use super::levels::{Level, Levels, Metric};
use super::service_levels::{self, Source};
use super::sla;
use super::snapshots::Entry;
use super::subscriptions::OVERVIEW_MINUTES;

/// One number as a tile shows it. Its kind does not change with the data: the figures of
/// this module give a banded number a level and a hinted number a hint with or without a
/// value, so a tile builds its pill and hint once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figure {
    /// As shown (`1,234`, `4:07`, `87.5 %`; `—` without a value).
    pub text: String,
    /// As data (`data-value`): whole units, empty without a value.
    pub raw: String,
    /// None for numbers without a band (no colour, no level label).
    pub level: Option<Level>,
    /// A line under the number.
    pub hint: Option<String>,
    /// What the number is (the `title` attribute): a service level's formula.
    pub title: Option<String>,
}

impl Figure {
    /// A count (`1,234`).
    pub fn count(n: Option<u64>) -> Self {
        Self::whole(n, format::count)
    }

    /// A wait in seconds (`4:07`).
    pub fn duration(secs: Option<u64>) -> Self {
        Self::whole(secs, format::duration)
    }

    /// A share in 0..=1 as a percentage (`87.5 %`, raw `87.5`).
    pub fn percent(share: Option<f64>) -> Self {
        Self { text: format::percent(share), raw: format::percent_value(share).unwrap_or_default(), ..Self::default() }
    }

    fn whole(n: Option<u64>, shown: fn(u64) -> String) -> Self {
        Self {
            text: n.map_or_else(|| format::NONE.to_owned(), shown),
            raw: n.map(|n| n.to_string()).unwrap_or_default(),
            ..Self::default()
        }
    }

    /// With the level of its band.
    pub fn level(self, level: Level) -> Self {
        Self { level: Some(level), ..self }
    }

    /// With a line under the number.
    pub fn hint(self, hint: impl Into<String>) -> Self {
        Self { hint: Some(hint.into()), ..self }
    }

    /// A service level under `definition` of a window's splits (None: not arrived): banded,
    /// its hint `hint` naming T, its formula as the title.
    pub fn service_level(
        definition: &Definition,
        split: Option<&SplitByWaitTime>,
        levels: &Levels,
        hint: String,
    ) -> Self {
        let sl = service_levels::level(definition, split);
        Self { hint: Some(hint), title: Some(definition.formula()), ..Self::percent(sl) }
            .level(levels.classify_share(Metric::ServiceLevel, sl))
    }
}

/// The clock the ticking ages are read with: the browser's now, and how far the browser's
/// clock is ahead of the server's (see [`age::clock_skew`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Now {
    pub ms: f64,
    pub skew_ms: f64,
}

/// The longest waiting task's age now, in whole seconds (ticking between snapshots).
pub fn waiting_age(entry: &Entry, now: Now) -> u64 {
    let secs = entry.snapshot.realtime().map_or(0, |r| r.longest_task_waiting_age);
    let at_ms = age::parse_at(&entry.snapshot.at);
    age::waiting_age_now(secs, at_ms, entry.received_ms, now.ms, now.skew_ms)
}

/// The longest-waiting figure of a realtime snapshot (None: no data yet).
fn longest(entry: Option<&Entry>, levels: &Levels, now: Now) -> Figure {
    let age = entry.map(|e| waiting_age(e, now));
    Figure::duration(age).level(levels.classify(Metric::LongestWait, age.map(|a| a as f64)))
}

/// The pending figure of realtime statistics.
fn pending(stats: Option<&RealTimeStats>, levels: &Levels) -> Figure {
    let n = stats.map(|s| s.tasks_by_status.pending);
    Figure::count(n).level(levels.classify(Metric::Pending, n.map(|n| n as f64)))
}

/// A workflow's card on the overview.
#[derive(Debug, Clone, PartialEq)]
pub struct CardFigures {
    /// Whether a snapshot arrived (`data-loaded`).
    pub loaded: bool,
    pub pending: Figure,
    pub longest: Figure,
    pub total: Figure,
    /// Under the workflow's definition, over the overview's window.
    pub service_level: Figure,
    /// The worst level of the card's figures: the card's colour.
    pub worst: Level,
}

impl CardFigures {
    /// The card of the snapshot `entry` (None: not arrived yet), with the view's `levels`
    /// and the service level under the workflow's `definition`.
    pub fn new(entry: Option<&Entry>, levels: &Levels, definition: &Definition, now: Now) -> Self {
        let realtime = entry.and_then(|e| e.snapshot.realtime());
        let split = entry.and_then(|e| e.snapshot.cumulative()?.split_by_wait_time.as_ref());
        let pending = pending(realtime, levels);
        let longest = longest(entry, levels, now);
        let hint = format!("at {} s · {OVERVIEW_MINUTES} min", definition.threshold);
        let service_level = Figure::service_level(definition, split, levels, hint);
        let worst = Level::worst([&pending, &longest, &service_level].into_iter().filter_map(|f| f.level));
        Self {
            loaded: entry.is_some(),
            pending,
            longest,
            total: Figure::count(realtime.map(|r| r.total_tasks)),
            service_level,
            worst,
        }
    }
}

/// One priority of "tasks by priority".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorityShare {
    /// As on the wire (a decimal string).
    pub priority: String,
    pub count: u64,
    /// The bar's width: its share of all live tasks (`40%`).
    pub width: String,
}

/// Tasks by priority, highest priority first (a priority that is not a number counts as
/// 0), each with its share of all of them.
pub fn priorities(by_priority: &BTreeMap<String, u64>) -> Vec<PriorityShare> {
    // An insertion sort of a few entries costs the wasm less than a sort; equal keys keep
    // the wire's (string) order.
    let mut list: Vec<(i64, &String, u64)> = Vec::with_capacity(by_priority.len());
    for (p, n) in by_priority {
        let key = p.parse::<i64>().unwrap_or(0);
        let at = list.partition_point(|(k, _, _)| *k >= key);
        list.insert(at, (key, p, *n));
    }
    let total = list.iter().map(|(_, _, n)| *n).sum::<u64>().max(1);
    list.into_iter()
        .map(|(_, p, n)| PriorityShare { priority: p.clone(), count: n, width: format!("{}%", n * 100 / total) })
        .collect()
}

/// The realtime tiles of a workflow.
#[derive(Debug, Clone, PartialEq)]
pub struct RealtimeFigures {
    pub total: Figure,
    pub pending: Figure,
    pub reserved: Figure,
    pub assigned: Figure,
    pub wrapping: Figure,
    /// Ticking; its hint names the task.
    pub longest: Figure,
    pub priorities: Vec<PriorityShare>,
}

impl RealtimeFigures {
    pub fn new(entry: Option<&Entry>, levels: &Levels, now: Now) -> Self {
        let stats = entry.and_then(|e| e.snapshot.realtime());
        let count = |pick: fn(&RealTimeStats) -> u64| Figure::count(stats.map(pick));
        let longest_hint = match stats.and_then(|s| s.longest_task_waiting_sid.as_ref()) {
            // The end of the sid tells tasks apart; the whole of it does not fit.
            Some(sid) => format!("task …{}", &sid.as_str()[sid.as_str().len().saturating_sub(6)..]),
            None => "no task pending".to_owned(),
        };
        Self {
            total: count(|s| s.total_tasks),
            pending: pending(stats, levels),
            reserved: count(|s| s.tasks_by_status.reserved),
            assigned: count(|s| s.tasks_by_status.assigned),
            wrapping: count(|s| s.tasks_by_status.wrapping),
            longest: longest(entry, levels, now).hint(longest_hint),
            priorities: stats.map(|s| priorities(&s.tasks_by_priority)).unwrap_or_default(),
        }
    }
}

/// The key figures of the cumulative panel.
#[derive(Debug, Clone, PartialEq)]
pub struct CumulativeFigures {
    pub entered: Figure,
    pub completed: Figure,
    pub canceled: Figure,
    pub abandonment: Figure,
    pub acceptance: Figure,
    /// Under the workflow's definition.
    pub service_level: Figure,
    /// That definition, and where it comes from (the SLA table and chart apply it too).
    pub definition: (Definition, Source),
}

impl CumulativeFigures {
    pub fn new(stats: Option<&CumulativeStats>, levels: &Levels, definition: (Definition, Source)) -> Self {
        let (definition, source) = definition;
        let definition = &definition;
        let count = |pick: fn(&CumulativeStats) -> u64| Figure::count(stats.map(pick));
        let abandonment = stats.and_then(sla::abandonment);
        let split = stats.and_then(|s| s.split_by_wait_time.as_ref());
        Self {
            entered: count(|s| s.tasks_entered),
            completed: count(|s| s.tasks_completed),
            canceled: count(|s| s.tasks_canceled),
            abandonment: Figure::percent(abandonment).level(levels.classify_share(Metric::Abandonment, abandonment)),
            acceptance: Figure::duration(stats.map(|s| s.avg_task_acceptance_time)),
            service_level: Figure::service_level(definition, split, levels, format!("at {} s", definition.threshold)),
            definition: (*definition, source),
        }
    }
}

/// How many columns the kiosk's overview lays `cards` out in, so every card fits the
/// screen (rows share the height).
pub fn kiosk_columns(cards: usize) -> usize {
    match cards {
        0..=3 => cards.max(1),
        4 => 2,
        5 | 6 | 9 => 3,
        7 | 8 | 10..=12 => 4,
        13..=20 => 5,
        _ => 6,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::frame::Stats;
    use crate::model::sla::tests::{split, stats};
    use crate::model::snapshots::tests::snapshot;
    use wallboard_shared::service_level::Abandons;

    /// When the snapshot of `snapshots::tests::snapshot` was computed (its `at`).
    const AT_MS: f64 = 1_795_770_000_000.0;

    fn entry(pending: u64, age: u64, cumulative: Option<CumulativeStats>) -> Entry {
        let mut snapshot = snapshot("ov-1", 1, pending);
        let Stats::Workflow { realtime, cumulative: c } = &mut snapshot.stats else { unreachable!() };
        realtime.longest_task_waiting_age = age;
        *c = cumulative;
        Entry { snapshot, received_ms: AT_MS, confirmed: true }
    }

    fn now(after_ms: f64) -> Now {
        Now { ms: AT_MS + after_ms, skew_ms: 0.0 }
    }

    #[test]
    fn figures_say_what_they_are_and_none_is_a_dash() {
        assert_eq!(
            Figure::count(Some(1234)),
            Figure { text: "1,234".into(), raw: "1234".into(), ..Default::default() }
        );
        assert_eq!(Figure::duration(Some(247)).text, "4:07");
        assert_eq!(Figure::duration(Some(247)).raw, "247");
        let p = Figure::percent(Some(0.875)).level(Level::Good).hint("at 20 s");
        assert_eq!((p.text.as_str(), p.raw.as_str()), ("87.5 %", "87.5"));
        assert_eq!((p.level, p.hint.as_deref()), (Some(Level::Good), Some("at 20 s")));
        for none in [Figure::count(None), Figure::duration(None), Figure::percent(None)] {
            assert_eq!((none.text.as_str(), none.raw.as_str(), none.level), (format::NONE, "", None));
        }
    }

    #[test]
    fn a_card_is_as_bad_as_its_worst_figure() {
        let levels = Levels::default();
        // 2 pending (good), 30 s waiting (good), service level 9 / 10 (good).
        let good = stats(10, 0, Some(vec![(20, split(9, 0, 1, 0))]));
        let card = CardFigures::new(Some(&entry(2, 30, Some(good.clone()))), &levels, &Definition::BUILT_IN, now(0.0));
        assert_eq!(card.worst, Level::Good);
        assert!(card.loaded);
        assert_eq!((card.pending.text.as_str(), card.total.text.as_str()), ("2", "2"));
        assert_eq!(card.service_level.text, "90 %");
        assert_eq!(card.service_level.hint.as_deref(), Some("at 20 s · 15 min"));
        assert_eq!(card.service_level.title.as_deref(), Some("answered < 20 s ÷ (answered + abandoned ≥ 20 s)"));
        assert_eq!(card.total.level, None, "the total has no band");
        // 10 pending: amber.
        let card = CardFigures::new(Some(&entry(10, 30, Some(good))), &levels, &Definition::BUILT_IN, now(0.0));
        assert_eq!(card.worst, Level::Warn);
        // 200 s waiting: red, whatever the rest.
        let card = CardFigures::new(Some(&entry(10, 200, None)), &levels, &Definition::BUILT_IN, now(0.0));
        assert_eq!(card.worst, Level::Bad);
        assert_eq!(card.service_level.level, Some(Level::Unknown), "no cumulative statistics");
        // Nothing yet: no colour.
        let card = CardFigures::new(None, &levels, &Definition::BUILT_IN, now(0.0));
        assert_eq!((card.worst, card.loaded), (Level::Unknown, false));
        assert_eq!(card.pending.text, format::NONE);
    }

    #[test]
    fn a_card_uses_its_workflows_definition() {
        // T = 30, S = 5, short abandons met. Waits: answered 2, 10, 29.999, 30, 45 s;
        // abandoned 1, 4.999, 5, 12, 30, 60 s: (3 + 2) ÷ (5 + 6).
        let def = Definition::new(30, 5, Abandons::CountedAsMet).expect("valid");
        let st = stats(11, 6, Some(vec![(5, split(1, 2, 4, 4)), (30, split(3, 4, 2, 2))]));
        let card = CardFigures::new(Some(&entry(0, 0, Some(st.clone()))), &Levels::default(), &def, now(0.0));
        assert_eq!((card.service_level.text.as_str(), card.service_level.raw.as_str()), ("45.5 %", "45.5"));
        assert_eq!(card.service_level.hint.as_deref(), Some("at 30 s · 15 min"));
        assert_eq!(
            card.service_level.title.as_deref(),
            Some("(answered < 30 s + abandoned < 5 s) ÷ (answered + abandoned)")
        );
        let panel = CumulativeFigures::new(Some(&st), &Levels::default(), (def, Source::Own));
        assert_eq!(panel.definition, (def, Source::Own));
        assert_eq!((panel.service_level.raw.as_str(), panel.service_level.hint.as_deref()), ("45.5", Some("at 30 s")));
        // Without the split at S (a subscription of before the definition): no number.
        let only_t = stats(11, 6, Some(vec![(30, split(3, 4, 2, 2))]));
        let card = CardFigures::new(Some(&entry(0, 0, Some(only_t))), &Levels::default(), &def, now(0.0));
        assert_eq!(card.service_level.text, format::NONE);
    }

    #[test]
    fn the_longest_wait_ticks_and_changes_level() {
        let levels = Levels::default();
        let e = entry(1, 58, None);
        let at = |after_ms| RealtimeFigures::new(Some(&e), &levels, now(after_ms)).longest;
        assert_eq!((at(0.0).text.as_str(), at(0.0).level), ("58 s", Some(Level::Good)));
        assert_eq!((at(3_000.0).text.as_str(), at(3_000.0).level), ("1:01", Some(Level::Warn)));
        assert_eq!(at(3_000.0).raw, "61");
        assert_eq!(at(0.0).hint.as_deref(), Some("no task pending"), "the sample snapshot names no task");
    }

    #[test]
    fn realtime_tiles() {
        let mut e = entry(3, 0, None);
        let Stats::Workflow { realtime: rt, .. } = &mut e.snapshot.stats else { unreachable!() };
        rt.tasks_by_status.reserved = 1;
        rt.tasks_by_status.assigned = 4;
        rt.tasks_by_status.wrapping = 2;
        rt.longest_task_waiting_sid = Some("WT0123456789abcdef0123456789abcdef".parse().expect("sid"));
        rt.tasks_by_priority.insert("0".into(), 3);
        rt.tasks_by_priority.insert("10".into(), 1);
        let f = RealtimeFigures::new(Some(&e), &Levels::default(), now(0.0));
        let texts: Vec<&str> =
            [&f.total, &f.pending, &f.reserved, &f.assigned, &f.wrapping].iter().map(|x| x.text.as_str()).collect();
        assert_eq!(texts, ["3", "3", "1", "4", "2"]);
        assert_eq!(f.pending.level, Some(Level::Good));
        assert_eq!(f.longest.hint.as_deref(), Some("task …abcdef"));
        assert_eq!(f.priorities.iter().map(|p| p.priority.as_str()).collect::<Vec<_>>(), ["10", "0"]);
        let empty = RealtimeFigures::new(None, &Levels::default(), now(0.0));
        assert!(empty.priorities.is_empty());
        assert_eq!(empty.longest.hint.as_deref(), Some("no task pending"));
        assert_eq!(empty.pending.level, Some(Level::Unknown));
    }

    #[test]
    fn priorities_highest_first_with_their_share() {
        let map: BTreeMap<String, u64> =
            [("0", 5), ("10", 3), ("2", 2), ("x", 0), ("-1", 0)].into_iter().map(|(p, n)| (p.to_owned(), n)).collect();
        let list = priorities(&map);
        let order: Vec<(&str, u64, &str)> =
            list.iter().map(|p| (p.priority.as_str(), p.count, p.width.as_str())).collect();
        assert_eq!(order, [("10", 3, "30%"), ("2", 2, "20%"), ("0", 5, "50%"), ("x", 0, "0%"), ("-1", 0, "0%")]);
        assert!(priorities(&BTreeMap::new()).is_empty());
        let zero: BTreeMap<String, u64> = [("5".to_owned(), 0)].into_iter().collect();
        assert_eq!(priorities(&zero)[0].width, "0%", "no division by zero");
    }

    #[test]
    fn cumulative_key_figures() {
        let mut st = stats(40, 4, Some(vec![(20, split(6, 1, 2, 2))]));
        st.tasks_completed = 30;
        st.avg_task_acceptance_time = 75;
        let f = CumulativeFigures::new(Some(&st), &Levels::default(), (Definition::BUILT_IN, Source::BuiltIn));
        assert_eq!([&f.entered.text, &f.completed.text, &f.canceled.text], ["40", "30", "4"]);
        assert_eq!((f.abandonment.text.as_str(), f.abandonment.level), ("10 %", Some(Level::Warn)));
        assert_eq!((f.acceptance.text.as_str(), f.acceptance.raw.as_str()), ("1:15", "75"));
        assert_eq!((f.service_level.text.as_str(), f.service_level.level), ("60 %", Some(Level::Warn)));
        assert_eq!(f.service_level.hint.as_deref(), Some("at 20 s"));
        assert_eq!(f.service_level.title.as_deref(), Some("answered < 20 s ÷ (answered + abandoned ≥ 20 s)"));
        let sixty = Definition::new(60, 60, Abandons::CountedAgainst).expect("valid");
        let none = CumulativeFigures::new(None, &Levels::default(), (sixty, Source::Own));
        assert_eq!(
            (none.abandonment.level, none.service_level.hint.as_deref()),
            (Some(Level::Unknown), Some("at 60 s"))
        );
    }

    #[test]
    fn kiosk_columns_fit_the_cards() {
        let cols: Vec<usize> = [0, 1, 3, 4, 5, 7, 9, 12, 13, 20, 21, 100].into_iter().map(kiosk_columns).collect();
        assert_eq!(cols, [1, 1, 3, 2, 3, 4, 3, 4, 5, 5, 6, 6]);
    }
}
