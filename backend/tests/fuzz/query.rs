//! Query parameters: every parser of `wallboard_shared::{query, params}` on query strings
//! decoded as the API decodes them (`serde_urlencoded`, `api::query_pairs`). Arbitrary strings
//! give a query or a `QueryError`; an accepted window resolves to an ordered window inside the
//! retention, or an error; valid generated parameter sets are accepted as generated and
//! survive `to_query_string`.

use chrono::{TimeZone, Utc};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use wallboard_shared::params::{
    ActivityListQuery, BulkQueues, Paging, TaskQueueListQuery, TaskQueuesStatisticsQuery, WorkerListQuery,
    WorkersStatisticsQuery, parse_worker_statistics,
};
use wallboard_shared::query::{
    DateBound, MAX_MINUTES, MAX_THRESHOLDS, StatisticsQuery, WindowSpec, parse_realtime_query, parse_thresholds,
};

use super::callbacks::JUNK;
use super::{cases, check};

/// "Now" of the window checks: 2026-12-02T04:00:00Z.
pub const NOW_MS: i64 = 1_796_184_000_000;
/// The default retention of statistics (35 days).
pub const RETENTION_MS: i64 = 35 * 86_400_000;

/// Every parameter name a parser reads, and one it does not.
const KEYS: &[&str] = &[
    "Minutes",
    "StartDate",
    "EndDate",
    "TaskChannel",
    "SplitByWaitTime",
    "PageSize",
    "Page",
    "PageToken",
    "FriendlyName",
    "Ordering",
    "EvaluateWorkerAttributes",
    "WorkerSid",
    "ActivitySid",
    "ActivityName",
    "Available",
    "TargetWorkersExpression",
    "TaskQueueName",
    "TaskQueueSid",
    "QueueSids",
    "Unknown",
];

/// Values near what the parsers accept.
const VALUES: &[&str] = &[
    "15",
    "0",
    "43200",
    "43201",
    "4294967296",
    "2026-12-01",
    "2026-12-02T03:00:00Z",
    "2026-12-02T03:00:00+01:00",
    "2026-12-02T03:00:00 01:00",
    "2026-12-02 03:00:00.123",
    "+262143-12-31",
    "-262144-01-01",
    "262143-12-31T23:59:59",
    "1970-01-01",
    "2026-13-01",
    "5,30",
    "30,5,5",
    "0,4294967295",
    "4294967296",
    ",",
    "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21",
    "voice",
    "TC00000000000000000000000000000001",
    "DateCreated:asc",
    "FriendlyName:DESC,DateUpdated:asc",
    "DateCreated:asc,DateCreated:desc",
    ":",
    "{\"skills\":[\"en\"]}",
    "[]",
    "skills HAS 'en'",
    "WQ00000000000000000000000000000001,WQ00000000000000000000000000000001",
    "[\"WQ00000000000000000000000000000001\"]",
    "yes",
    "1000",
    "1001",
];

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(VALUES).prop_map(str::to_owned),
        2 => proptest::sample::select(JUNK).prop_map(str::to_owned),
        2 => "\\PC{0,30}",
        1 => "[0-9,:+ TZ.-]{0,30}",
    ]
}

/// An encoded query string: pairs of known or odd keys, or raw characters.
pub fn query_string() -> impl Strategy<Value = String> {
    let pair = (prop_oneof![4 => proptest::sample::select(KEYS).prop_map(str::to_owned), 1 => "\\PC{0,10}"], value());
    prop_oneof![
        3 => vec(pair, 0..6).prop_map(|pairs| serde_urlencoded::to_string(pairs).unwrap_or_default()),
        1 => "[A-Za-z0-9=&%+;,:. -]{0,120}",
        1 => vec(any::<u8>(), 0..120).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]
}

/// Every parser on the pairs; an accepted statistics query resolves to an ordered window
/// within the retention, and reads back from its own query string.
fn parse_all(pairs: &[(String, String)]) -> Result<(), TestCaseError> {
    let it = || pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    if let Ok(q) = StatisticsQuery::parse(it()) {
        check_window(&q)?;
        let again: Vec<(String, String)> = serde_urlencoded::from_str(&q.to_query_string())
            .map_err(|e| TestCaseError::fail(format!("{}: {e}", q.to_query_string())))?;
        let back = StatisticsQuery::parse(again.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        prop_assert_eq!(back.as_ref(), Ok(&q), "{} reads back", q.to_query_string());
    }
    let _ = parse_realtime_query(it());
    if let Ok(q) = parse_worker_statistics(it()) {
        check_window(&q)?;
    }
    if let Ok(q) = TaskQueuesStatisticsQuery::parse(it()) {
        check_window(&q.statistics)?;
        prop_assert!((1..=1000).contains(&q.paging.page_size));
    }
    let _ = WorkersStatisticsQuery::parse(it());
    let _ = TaskQueueListQuery::parse(it());
    let _ = WorkerListQuery::parse(it());
    let _ = ActivityListQuery::parse(it());
    let _ = Paging::parse(it());
    if let Ok(b) = BulkQueues::from_form(it()) {
        prop_assert!((1..=50).contains(&b.0.len()));
    }
    for (_, v) in pairs {
        let _ = BulkQueues::from_json(v);
        if let Ok(t) = parse_thresholds(v) {
            prop_assert!(t.len() <= MAX_THRESHOLDS && t.windows(2).all(|w| w[0] < w[1]), "{t:?}");
        }
    }
    Ok(())
}

/// The window of an accepted query, at [`NOW_MS`]: an error, or ordered and within
/// (now − retention, now].
fn check_window(q: &StatisticsQuery) -> Result<(), TestCaseError> {
    if let Ok(w) = q.window.resolve(NOW_MS, RETENTION_MS) {
        prop_assert!(w.start_ms <= w.end_ms, "{q:?} gives {w:?}");
        prop_assert!(w.end_ms <= NOW_MS && w.start_ms >= NOW_MS - RETENTION_MS, "{q:?} gives {w:?}");
    }
    Ok(())
}

#[test]
fn arbitrary_query_strings_give_parameters_or_errors() {
    check("query::arbitrary_query_strings", cases(), query_string(), |raw| {
        // As the API: a query string that is not URL encoding is a 400 before any parser.
        if let Ok(pairs) = serde_urlencoded::from_str::<Vec<(String, String)>>(&raw) {
            parse_all(&pairs)?;
        }
        Ok(())
    });
}

/// A valid window: `Minutes`, or dates (days or instants, in several spellings) inside
/// the retention with the start not after the end.
#[derive(Debug, Clone)]
enum GenWindow {
    Minutes(u32),
    Range { start: Option<(i64, u8)>, end: Option<(i64, u8)> },
}

fn spell(ms: i64, how: u8) -> (String, DateBound) {
    let t = Utc.timestamp_millis_opt(ms).single().unwrap_or_default();
    match how % 4 {
        0 => (t.format("%Y-%m-%d").to_string(), DateBound::Day(t.date_naive())),
        1 => (t.format("%Y-%m-%dT%H:%M:%SZ").to_string(), DateBound::Instant(t)),
        2 => (t.format("%Y-%m-%dT%H:%M:%S%.3f+00:00").to_string(), DateBound::Instant(t)),
        _ => (t.format("%Y-%m-%d %H:%M:%S%.3f").to_string(), DateBound::Instant(t)),
    }
}

#[test]
fn valid_parameter_sets_are_accepted_with_ordered_windows() {
    // Whole seconds, so that every spelling names the same instant.
    let within = ((NOW_MS - RETENTION_MS) / 1000 + 86_400..=NOW_MS / 1000).prop_map(|s| s * 1000);
    let window = prop_oneof![
        (1..=MAX_MINUTES).prop_map(GenWindow::Minutes),
        (proptest::option::of((within.clone(), any::<u8>())), proptest::option::of((within, any::<u8>())),)
            .prop_filter("at least one bound", |(s, e)| s.is_some() || e.is_some())
            .prop_map(|(a, b)| {
                // The earlier instant starts, the later one ends.
                match (a, b) {
                    (Some(x), Some(y)) if x.0 > y.0 => GenWindow::Range { start: Some(y), end: Some(x) },
                    (start, end) => GenWindow::Range { start, end },
                }
            }),
    ];
    let channel = proptest::option::of(prop_oneof!["[a-z][a-z_-]{0,20}", "TC[0-9a-f]{32}"]);
    let thresholds = proptest::option::of(vec(0u32..=86_400, 1..=MAX_THRESHOLDS));
    let extra = vec((proptest::sample::select(&["Page", "PageSize", "Unknown"][..]), "[0-9]{1,3}"), 0..2);
    check(
        "query::valid_parameter_sets",
        cases(),
        (window, channel, thresholds, extra, any::<bool>()),
        |(window, channel, thresholds, extra, spaced)| {
            let mut pairs: Vec<(String, String)> = Vec::new();
            let spec = match window {
                GenWindow::Minutes(m) => {
                    pairs.push(("Minutes".into(), m.to_string()));
                    WindowSpec::Minutes(m)
                }
                GenWindow::Range { start, end } => {
                    let mut bound = |name: &str, b: Option<(i64, u8)>| {
                        b.map(|(ms, how)| {
                            let (text, bound) = spell(ms, how);
                            pairs.push((name.into(), text));
                            bound
                        })
                    };
                    let start = bound("StartDate", start);
                    let end = bound("EndDate", end);
                    WindowSpec::Range { start, end }
                }
            };
            if let Some(c) = &channel {
                pairs.push(("TaskChannel".into(), c.clone()));
            }
            if let Some(t) = &thresholds {
                let sep = if spaced { ", " } else { "," };
                pairs.push(("SplitByWaitTime".into(), t.iter().map(u32::to_string).collect::<Vec<_>>().join(sep)));
            }
            for (k, v) in extra {
                pairs.push((k.to_owned(), v));
            }
            // Through the wire: encoded, then decoded as the API does.
            let raw = serde_urlencoded::to_string(&pairs).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let decoded: Vec<(String, String)> =
                serde_urlencoded::from_str(&raw).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let q = StatisticsQuery::parse(decoded.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                .map_err(|e| TestCaseError::fail(format!("{raw} was refused: {e}")))?;
            prop_assert_eq!(q.window, spec);
            prop_assert_eq!(&q.task_channel, &channel);
            let mut sorted = thresholds.clone();
            if let Some(t) = sorted.as_mut() {
                t.sort_unstable();
                t.dedup();
            }
            prop_assert_eq!(&q.split_by_wait_time, &sorted);
            let w = q.window.resolve(NOW_MS, RETENTION_MS).map_err(|e| TestCaseError::fail(format!("{raw}: {e}")))?;
            prop_assert!(w.start_ms <= w.end_ms && w.end_ms <= NOW_MS, "{raw} gives {w:?}");
            if let WindowSpec::Minutes(m) = spec {
                prop_assert_eq!(w.end_ms - w.start_ms, i64::from(m) * 60_000);
            }
            parse_all(&decoded)
        },
    );
}
