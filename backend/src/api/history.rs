//! `…/HistoricalStatistics` (our extension): a scope's service level, abandonment, volume
//! and average wait per local day or hour over the last `Days` days, for the workspace
//! (`GET /v1/Workspaces/{WS}/HistoricalStatistics`, its `default` definition), a workflow
//! (`…/Workflows/{WW}/HistoricalStatistics`) or a task queue
//! (`…/TaskQueues/{WQ}/HistoricalStatistics`). Parameters and rows:
//! `wallboard_shared::history`.
//!
//! Every period is one window of the engine's cumulative index
//! ([`crate::source::Numbers::history`]: O(log) each, never a scan of events), split at the
//! scope's definition's S and T, so a period's service level is the one
//! `…/ServiceLevel?StartDate=start&EndDate=end−1ms` gives. Periods are cut at local
//! midnight in `TimeZone` (chrono-tz, as `shift.rs` cuts "today"): a day is 23, 24 or 25
//! hours long, and its hours are counted from its midnight.

use axum::extract::{Path, RawQuery, State};
use chrono::{Duration, LocalResult, NaiveDate, SecondsFormat, TimeZone, Utc};
use chrono_tz::Tz;
use wallboard_shared::history::{Granularity, HistoricalPeriod, HistoricalStatistics, HistoryQuery, Level};
use wallboard_shared::resources::{SplitByWaitTime, WaitDuration};
use wallboard_shared::service_level::{DefinitionView, Inputs, WORKSPACE_DEFAULT};
use wallboard_shared::{Window, WorkspaceSid};

use super::service_levels::stored;
use super::statistics::{Answer, answer, channel, mismatch, workflow as workflow_of};
use super::{ApiError, ApiResult, query_pairs, time_zone};
use crate::engine::{Target, View};
use crate::source::Cumulative;
use crate::state::AppState;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;

/// A period: its first instant and the next period's (ms since the epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Period {
    start_ms: i64,
    end_ms: i64,
}

/// The first instant of local `date` in `tz`: its midnight, or the first instant after a
/// gap that swallowed it; the first of two in a fold.
fn midnight(tz: Tz, date: NaiveDate) -> Option<i64> {
    let local = date.and_hms_opt(0, 0, 0)?;
    (0..=4 * 60).find_map(|skip| match tz.from_local_datetime(&(local + Duration::minutes(skip))) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Some(t.timestamp_millis()),
        LocalResult::None => None,
    })
}

/// The periods of the `days` local days up to today (the day holding `now_ms`), oldest
/// first: the days themselves, or each day's hours from its midnight (the last one of a
/// day shorter when a change of offset is not a whole hour).
fn periods(now_ms: i64, tz: Tz, days: u32, granularity: Granularity) -> Vec<Period> {
    let Some(now) = Utc.timestamp_millis_opt(now_ms).single() else { return Vec::new() };
    let today = now.with_timezone(&tz).date_naive();
    let mut out = Vec::new();
    for back in (0..i64::from(days)).rev() {
        let Some(date) = today.checked_sub_signed(Duration::days(back)) else { continue };
        let (Some(start), Some(end)) = (midnight(tz, date), date.succ_opt().and_then(|d| midnight(tz, d))) else {
            continue;
        };
        match granularity {
            Granularity::Day => out.push(Period { start_ms: start, end_ms: end }),
            Granularity::Hour => {
                let mut at = start;
                while at < end {
                    out.push(Period { start_ms: at, end_ms: (at + HOUR_MS).min(end) });
                    at += HOUR_MS;
                }
            }
        }
    }
    out
}

/// An instant as local time with its offset (`2026-10-25T00:00:00+02:00`).
fn local_time(ms: i64, tz: Tz) -> String {
    let t = Utc.timestamp_millis_opt(ms).single().unwrap_or_default();
    t.with_timezone(&tz).fixed_offset().to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// A parsed request: the query and its zone (an unknown zone is a 400).
fn parse(state: &AppState, raw: Option<&str>) -> ApiResult<(HistoryQuery, Tz)> {
    let pairs = query_pairs(raw)?;
    let retention_days = u32::try_from(state.retention_ms / DAY_MS).unwrap_or(u32::MAX).max(1);
    let query = HistoryQuery::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())), retention_days)?;
    let tz = time_zone(&query.time_zone)?;
    Ok((query, tz))
}

/// The counts a row needs from a view's cumulative numbers: entered, the split, the wait
/// until accepted.
fn figures(c: &Cumulative) -> Option<(u64, Option<&SplitByWaitTime>, &WaitDuration)> {
    match c {
        Cumulative::Workflow(s) => {
            Some((s.tasks_entered, s.split_by_wait_time.as_ref(), &s.wait_duration_until_accepted))
        }
        Cumulative::TaskQueue(s) => {
            Some((s.tasks_entered, s.split_by_wait_time.as_ref(), &s.wait_duration_until_accepted))
        }
        Cumulative::Workspace(s) => {
            Some((s.tasks_created, s.split_by_wait_time.as_ref(), &s.wait_duration_until_accepted))
        }
        Cumulative::Workers(_) => None,
    }
}

/// The history of a resolved view: `scope` names the definition (`default`, `WW…`, `WQ…`).
async fn history(
    state: &AppState,
    sid: WorkspaceSid,
    scope: String,
    view: View,
    query: HistoryQuery,
    tz: Tz,
) -> ApiResult<Answer<HistoricalStatistics>> {
    let all = stored(state, &sid).await?;
    let channel_name =
        match query.task_channel.as_deref() {
            Some(c) => Some(state.engine().registry().channel_name(&sid, c).ok_or_else(|| {
                ApiError::invalid(format!("TaskChannel '{c}' is not a task channel of this workspace"))
            })?),
            None => None,
        };
    let (def, by) = all.definition(&scope, channel_name.as_deref());
    let now = state.clock.now_ms();
    let oldest = now - state.retention_ms;
    let spans = periods(now, tz, query.days, query.granularity);
    // Each period's window, cut at now and at the retention; None: nothing of it is kept.
    let windows: Vec<Option<Window>> = spans
        .iter()
        .map(|p| {
            let w = Window { start_ms: p.start_ms.max(oldest), end_ms: (p.end_ms - 1).min(now) };
            (w.start_ms <= w.end_ms).then_some(w)
        })
        .collect();
    let asked: Vec<Window> = windows.iter().flatten().copied().collect();
    let (numbers, fresh) = state.numbers.history(view, &asked, &def.thresholds()).ok_or_else(|| {
        ApiError::not_found(
            "HistoricalStatistics come from the local engine's events; a server mirroring an upstream \
             (--source twilio) has none",
        )
    })?;
    let mut numbers = numbers.iter();
    let mut rows = Vec::with_capacity(spans.len());
    for (p, w) in spans.iter().zip(&windows) {
        let (start, end) = (local_time(p.start_ms, tz), local_time(p.end_ms, tz));
        if w.is_none() {
            rows.push(HistoricalPeriod::new(start, end, 0, &Inputs::default(), Level::default()));
            continue;
        }
        let (entered, split, wait) = numbers.next().and_then(figures).ok_or_else(mismatch)?;
        let (inputs, outcome) = split.and_then(|s| def.of_split(s)).ok_or_else(mismatch)?;
        let level = Level {
            value: outcome.value,
            numerator: outcome.numerator,
            denominator: outcome.denominator,
            avg_wait: (inputs.answered > 0).then_some(wait.avg),
            complete: p.end_ms - 1 <= now && p.start_ms >= oldest,
        };
        rows.push(HistoricalPeriod::new(start, end, entered, &inputs, level));
    }
    let first = spans.first().map_or(now, |p| p.start_ms);
    let last = spans.last().map_or(now, |p| p.end_ms);
    let url = state.urls.historical_statistics(&sid, &scope);
    let body = HistoricalStatistics {
        account_sid: state.account_sid.clone(),
        workspace_sid: sid,
        scope,
        task_channel: query.task_channel.clone(),
        granularity: query.granularity,
        days: query.days,
        time_zone: query.time_zone.clone(),
        start_time: local_time(first, tz),
        end_time: local_time(last, tz),
        definition: DefinitionView::new(&def, by.map(|d| &d.place)),
        periods: rows,
        url,
    };
    Ok(answer(state, fresh, body))
}

/// `GET /v1/Workspaces/{WS}/HistoricalStatistics` (the workspace's `default` definition).
pub(crate) async fn workspace(
    State(state): State<AppState>,
    Path(ws): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Answer<HistoricalStatistics>> {
    let (query, tz) = parse(&state, raw.as_deref())?;
    let (sid, view) = {
        let engine = state.engine();
        let (sid, id) = super::resources::workspace_of(&engine, &ws)?;
        let channel = channel(&engine, &sid, query.task_channel.as_deref())?;
        (sid, View::new(Target::Workspace(id), channel))
    };
    history(&state, sid, WORKSPACE_DEFAULT.to_owned(), view, query, tz).await
}

/// `GET /v1/Workspaces/{WS}/Workflows/{WW}/HistoricalStatistics`.
pub(crate) async fn workflow(
    State(state): State<AppState>,
    Path((ws, wf)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Answer<HistoricalStatistics>> {
    let (query, tz) = parse(&state, raw.as_deref())?;
    let (sid, wf_sid, view) = {
        let engine = state.engine();
        let (sid, wf_sid, id) = workflow_of(&engine, &ws, &wf)?;
        let channel = channel(&engine, &sid, query.task_channel.as_deref())?;
        (sid, wf_sid, View::new(Target::Workflow(id), channel))
    };
    history(&state, sid, wf_sid.to_string(), view, query, tz).await
}

/// `GET /v1/Workspaces/{WS}/TaskQueues/{WQ}/HistoricalStatistics`.
pub(crate) async fn task_queue(
    State(state): State<AppState>,
    Path((ws, wq)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Answer<HistoricalStatistics>> {
    let (query, tz) = parse(&state, raw.as_deref())?;
    let (sid, qs, view) = super::queues::resolve(&state, &ws, &wq, query.task_channel.as_deref())?;
    history(&state, sid, qs.to_string(), view, query, tz).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(rfc3339: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(rfc3339).expect("time").timestamp_millis()
    }

    fn tz(name: &str) -> Tz {
        name.parse::<Tz>().expect("zone")
    }

    #[test]
    fn days_are_local_days_across_a_change_of_offset() {
        // Paris goes back an hour on 2026-10-25: that day is 25 hours long.
        let now = ms("2026-10-26T10:00:00Z");
        let p = periods(now, tz("Europe/Paris"), 3, Granularity::Day);
        let got: Vec<(i64, i64)> = p.iter().map(|p| (p.start_ms, p.end_ms)).collect();
        assert_eq!(
            got,
            [
                (ms("2026-10-23T22:00:00Z"), ms("2026-10-24T22:00:00Z")),
                (ms("2026-10-24T22:00:00Z"), ms("2026-10-25T23:00:00Z")),
                (ms("2026-10-25T23:00:00Z"), ms("2026-10-26T23:00:00Z")),
            ]
        );
        assert_eq!(local_time(p[1].start_ms, tz("Europe/Paris")), "2026-10-25T00:00:00+02:00");
        assert_eq!(local_time(p[1].end_ms, tz("Europe/Paris")), "2026-10-26T00:00:00+01:00");
        assert_eq!(local_time(p[0].start_ms, tz("UTC")), "2026-10-23T22:00:00+00:00");
        // Days=30 is 30 rows, whatever the zone.
        assert_eq!(periods(now, tz("America/New_York"), 30, Granularity::Day).len(), 30);
    }

    #[test]
    fn hours_count_from_each_local_midnight() {
        let now = ms("2026-10-25T12:00:00Z");
        let p = periods(now, tz("Europe/Paris"), 1, Granularity::Hour);
        assert_eq!(p.len(), 25, "the day clocks go back has 25 hours");
        assert_eq!(p[0].start_ms, ms("2026-10-24T22:00:00Z"));
        assert!(p.windows(2).all(|w| w[0].end_ms == w[1].start_ms && w[0].end_ms - w[0].start_ms == HOUR_MS));
        let spring = periods(ms("2026-03-29T12:00:00Z"), tz("Europe/Paris"), 1, Granularity::Hour);
        assert_eq!(spring.len(), 23);
        // Lord Howe moves by half an hour: its short day ends with a half hour.
        let lh = periods(ms("2026-10-04T12:00:00Z"), tz("Australia/Lord_Howe"), 1, Granularity::Hour);
        let last = lh.last().expect("hours");
        assert_eq!((lh.len(), last.end_ms - last.start_ms), (24, HOUR_MS / 2));
        assert_eq!(periods(ms("2026-12-01T13:00:00Z"), tz("UTC"), 7, Granularity::Hour).len(), 7 * 24);
    }
}
