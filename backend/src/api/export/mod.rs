//! Exports: CSV and JSON downloads of what a view shows, at `<resource>/Export` (the URL
//! scheme and the columns are `wallboard_shared::export`'s):
//!
//! - `…/Workflows/{WW}/CumulativeStatistics/Export`, `…/TaskQueues/{WQ}/CumulativeStatistics/Export`
//!   and `…/Workspaces/{WS}/CumulativeStatistics/Export`: one row, the window's numbers;
//! - `…/Workers/Export`: the agents table, one row per worker of the Workers list;
//! - `…/Alerts/Export`: the alert history, one row per alert, newest first;
//! - `…/HistoricalStatistics/Export` of the workspace, a workflow or a task queue: the daily
//!   (or hourly) history, one row per period.
//!
//! Each export calls the handler of its resource with the same parameters, so it answers
//! exactly what the JSON API answers (the same numbers, the same 400s and 404s), and is
//! routed beside it behind the same middleware (`authorize`, and `require_whole_workspace`
//! for the workspace-wide ones): a token limited to some workflows exports only their
//! statistics. [`table`] streams the rows.
//!
//! A resource of statistics rows (the daily or hourly history) is exported the same way:
//! [`history_rows`] calls its handler and hands each period's numbers to [`statistics_table`],
//! which flattens every row alike (one row per period). The history's `TimeZone` both cuts
//! its days and is the zone every time column is written in.

pub(crate) mod table;

use axum::Json;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use axum::routing::get;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::Value;
use wallboard_shared::alerts::Alert;
use wallboard_shared::export::{
    AGENT_COLUMNS, ALERT_COLUMNS, DEFAULT_TIME_ZONE, FORMAT, Format, TARGET, TARGET_SID, TASK_CHANNEL, TIME_ZONE,
    TIME_ZONE_HEADER, split_column,
};
use wallboard_shared::workers::{Worker, WorkerChannel};

use self::table::{Cell, Table};
use super::statistics::parse_statistics_query;
use super::{
    ApiError, ApiResult, alerts, at_most_once, history, query_pairs, queues, resources, statistics, time_zone, workers,
    workspace,
};
use crate::state::AppState;

/// The exports of one workflow's numbers (behind `authorize`, like the workflow's resources).
pub fn workflow_routes() -> Router<AppState> {
    Router::new()
        .route("/Workspaces/{ws}/Workflows/{wf}/CumulativeStatistics/Export", get(workflow_cumulative))
        .route("/Workspaces/{ws}/Workflows/{wf}/HistoricalStatistics/Export", get(workflow_history))
}

/// The exports of workspace-wide resources (behind `require_whole_workspace`, like them).
pub fn workspace_wide_routes() -> Router<AppState> {
    Router::new()
        .route("/Workspaces/{ws}/CumulativeStatistics/Export", get(workspace_cumulative))
        .route("/Workspaces/{ws}/TaskQueues/{wq}/CumulativeStatistics/Export", get(queue_cumulative))
        .route("/Workspaces/{ws}/Workers/Export", get(agents))
        .route("/Workspaces/{ws}/Alerts/Export", get(alert_history))
        .route("/Workspaces/{ws}/HistoricalStatistics/Export", get(workspace_history))
        .route("/Workspaces/{ws}/TaskQueues/{wq}/HistoricalStatistics/Export", get(queue_history))
}

/// `Format` and `TimeZone`; the resource's own parameters are its handler's.
#[derive(Debug, Clone, Copy)]
struct Params {
    format: Format,
    zone: Tz,
}

impl Params {
    fn parse(raw: Option<&str>) -> ApiResult<Self> {
        let pairs = query_pairs(raw)?;
        let format = match at_most_once(&pairs, FORMAT)? {
            None => Format::Csv,
            Some(raw) => Format::parse(raw)
                .ok_or_else(|| ApiError::invalid(format!("{FORMAT} must be csv or json, got '{}'", clip(raw))))?,
        };
        let zone = time_zone(at_most_once(&pairs, TIME_ZONE)?.unwrap_or(DEFAULT_TIME_ZONE))?;
        Ok(Self { format, zone })
    }

    /// The streamed answer: the file's name says what it holds (`stem`) and its format.
    fn respond(self, table: Table, stem: &str) -> Response {
        let mut response = Response::new(table::body(table, self.format, self.zone));
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(self.format.content_type()));
        let disposition = format!("attachment; filename=\"{stem}.{}\"", self.format.extension());
        if let Ok(v) = HeaderValue::from_str(&disposition) {
            headers.insert(header::CONTENT_DISPOSITION, v);
        }
        if let Ok(v) = HeaderValue::from_str(self.zone.name()) {
            headers.insert(TIME_ZONE_HEADER, v);
        }
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }

    /// A time for a file name, in the export's zone: `20260701T0930`.
    fn stamp(self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.zone).format("%Y%m%dT%H%M").to_string()
    }
}

fn clip(s: &str) -> String {
    s.chars().take(64).collect()
}

/// Whose numbers a statistics row holds: the first three columns.
#[derive(Debug, Clone)]
struct Subject {
    name: String,
    sid: String,
    task_channel: Option<String>,
}

impl Subject {
    fn of(name: String, sid: impl ToString, raw: Option<&str>) -> ApiResult<Self> {
        Ok(Self { name, sid: sid.to_string(), task_channel: parse_statistics_query(raw)?.task_channel })
    }
}

/// The columns of a resource's statistics JSON: `start_time` and `end_time`, the other
/// fields under their names (nested objects' fields joined with `_`), then the
/// `split_by_wait_time` thresholds in ascending order, four columns each.
fn flatten(stats: &Value) -> Vec<(String, Cell)> {
    let Some(map) = stats.as_object() else { return Vec::new() };
    let mut out: Vec<(String, Cell)> = ["start_time", "end_time"]
        .into_iter()
        .filter_map(|k| Some((k.to_owned(), Cell::of_json(map.get(k)?))))
        .collect();
    for (key, value) in map {
        match (key.as_str(), value) {
            ("start_time" | "end_time" | "split_by_wait_time", _) => {}
            (_, Value::Object(inner)) => {
                out.extend(inner.iter().map(|(k, v)| (format!("{key}_{k}"), Cell::of_json(v))))
            }
            _ => out.push((key.clone(), Cell::of_json(value))),
        }
    }
    if let Some(Value::Object(splits)) = map.get("split_by_wait_time") {
        let mut thresholds: Vec<(u64, &Value)> =
            splits.iter().filter_map(|(t, s)| Some((t.parse().ok()?, s))).collect();
        thresholds.sort_by_key(|(t, _)| *t);
        for (t, split) in thresholds {
            for field in ["reservations_accepted", "tasks_canceled"] {
                for side in ["below", "above"] {
                    out.push((split_column(field, side, t), Cell::of_json(&split[side][field])));
                }
            }
        }
    }
    out
}

/// Rows of statistics of one subject (one row per window or interval), the columns those of
/// the first row.
fn statistics_table(subject: Subject, rows: Vec<Value>) -> Table {
    let flat: Vec<Vec<(String, Cell)>> = rows.iter().map(flatten).collect();
    let measures: Vec<String> = flat.first().map(|r| r.iter().map(|(k, _)| k.clone()).collect()).unwrap_or_default();
    let mut columns: Vec<String> = [TARGET, TARGET_SID, TASK_CHANNEL].map(str::to_owned).to_vec();
    columns.extend(measures.iter().cloned());
    let rows = flat.into_iter().map(move |mut row| {
        let mut cells = vec![
            Cell::Text(subject.name.clone()),
            Cell::Text(subject.sid.clone()),
            subject.task_channel.clone().map_or(Cell::Empty, Cell::Text),
        ];
        cells.extend(
            measures.iter().map(|m| row.iter().position(|(k, _)| k == m).map_or(Cell::Empty, |i| row.swap_remove(i).1)),
        );
        cells
    });
    Table { columns, rows: Box::new(rows) }
}

fn to_json(value: &impl serde::Serialize) -> ApiResult<Value> {
    serde_json::to_value(value).map_err(|_| ApiError::unavailable("the numbers cannot be written now; retry later"))
}

/// The file name of a window's numbers: `WW…-cumulative-20260701T0900-20260701T0915`.
fn window_stem(params: Params, sid: &str, start: DateTime<Utc>, end: DateTime<Utc>) -> String {
    format!("{sid}-cumulative-{}-{}", params.stamp(start), params.stamp(end))
}

async fn workflow_cumulative(
    State(state): State<AppState>,
    Path((ws, wf)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let params = Params::parse(raw.as_deref())?;
    let answer =
        statistics::cumulative(State(state.clone()), Path((ws.clone(), wf.clone())), RawQuery(raw.clone())).await?;
    let stats = answer.into_body().stats;
    let Json(workflow) = resources::fetch_workflow(State(state), Path((ws, wf))).await?;
    let stem = window_stem(params, workflow.sid.as_str(), stats.start_time, stats.end_time);
    let subject = Subject::of(workflow.friendly_name, &workflow.sid, raw.as_deref())?;
    Ok(params.respond(statistics_table(subject, vec![to_json(&stats)?]), &stem))
}

async fn queue_cumulative(
    State(state): State<AppState>,
    Path((ws, wq)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let params = Params::parse(raw.as_deref())?;
    let answer =
        queues::cumulative(State(state.clone()), Path((ws.clone(), wq.clone())), RawQuery(raw.clone())).await?;
    let stats = answer.into_body().stats;
    let Json(queue) = queues::fetch_queue(State(state), Path((ws, wq))).await?;
    let stem = window_stem(params, queue.sid.as_str(), stats.start_time, stats.end_time);
    let subject = Subject::of(queue.friendly_name, &queue.sid, raw.as_deref())?;
    Ok(params.respond(statistics_table(subject, vec![to_json(&stats)?]), &stem))
}

async fn workspace_cumulative(
    State(state): State<AppState>,
    Path(ws): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let params = Params::parse(raw.as_deref())?;
    let answer = workspace::cumulative(State(state.clone()), Path(ws.clone()), RawQuery(raw.clone())).await?;
    let stats = answer.into_body().stats;
    let Json(space) = resources::fetch_workspace(State(state), Path(ws)).await?;
    let stem = window_stem(params, space.sid.as_str(), stats.start_time, stats.end_time);
    let subject = Subject::of(space.friendly_name, &space.sid, raw.as_deref())?;
    Ok(params.respond(statistics_table(subject, vec![to_json(&stats)?]), &stem))
}

/// The rows of a history (one per period) of the subject `name`, and the file's name:
/// `WW…-history-day-20260601T0000-20260701T0000`, the first period's start to the last's end.
fn history_rows(
    params: Params,
    name: String,
    sid: &str,
    answer: statistics::Answer<wallboard_shared::history::HistoricalStatistics>,
) -> ApiResult<Response> {
    let h = answer.into_body();
    let granularity = serde_json::to_value(h.granularity).ok().and_then(|v| v.as_str().map(str::to_owned));
    let instant = |t: &str| DateTime::parse_from_rfc3339(t).map(|t| params.stamp(t.with_timezone(&Utc))).ok();
    let span = match (h.periods.first(), h.periods.last()) {
        (Some(first), Some(last)) => {
            format!(
                "-{}-{}",
                instant(&first.start_time).unwrap_or_default(),
                instant(&last.end_time).unwrap_or_default()
            )
        }
        _ => String::new(),
    };
    let stem = format!("{sid}-history-{}{span}", granularity.unwrap_or_default());
    let subject = Subject { name, sid: sid.to_owned(), task_channel: h.task_channel.clone() };
    let rows = h.periods.iter().map(to_json).collect::<ApiResult<Vec<_>>>()?;
    Ok(params.respond(statistics_table(subject, rows), &stem))
}

/// `…/Workflows/{WW}/HistoricalStatistics/Export`.
async fn workflow_history(
    State(state): State<AppState>,
    Path((ws, wf)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let params = Params::parse(raw.as_deref())?;
    let answer = history::workflow(State(state.clone()), Path((ws.clone(), wf.clone())), RawQuery(raw)).await?;
    let Json(workflow) = resources::fetch_workflow(State(state), Path((ws, wf))).await?;
    history_rows(params, workflow.friendly_name, workflow.sid.as_str(), answer)
}

/// `…/TaskQueues/{WQ}/HistoricalStatistics/Export`.
async fn queue_history(
    State(state): State<AppState>,
    Path((ws, wq)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let params = Params::parse(raw.as_deref())?;
    let answer = history::task_queue(State(state.clone()), Path((ws.clone(), wq.clone())), RawQuery(raw)).await?;
    let Json(queue) = queues::fetch_queue(State(state), Path((ws, wq))).await?;
    history_rows(params, queue.friendly_name, queue.sid.as_str(), answer)
}

/// `…/Workspaces/{WS}/HistoricalStatistics/Export`.
async fn workspace_history(
    State(state): State<AppState>,
    Path(ws): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let params = Params::parse(raw.as_deref())?;
    let answer = history::workspace(State(state.clone()), Path(ws.clone()), RawQuery(raw)).await?;
    let Json(space) = resources::fetch_workspace(State(state), Path(ws)).await?;
    history_rows(params, space.friendly_name, space.sid.as_str(), answer)
}

/// One worker's row: its activity, since when and for how long (at the server's clock),
/// its tasks in hand and each channel's `name assigned/capacity`.
fn agent_row(now: DateTime<Utc>, worker: &Worker, channels: &[WorkerChannel]) -> Vec<Cell> {
    let since = worker.date_status_changed;
    let channel_text: Vec<String> = channels
        .iter()
        .map(|c| {
            let off = if c.available { "" } else { " (unavailable)" };
            format!("{} {}/{}{off}", c.task_channel_unique_name, c.assigned_tasks, c.configured_capacity)
        })
        .collect();
    vec![
        Cell::Text(worker.sid.to_string()),
        Cell::Text(worker.friendly_name.clone()),
        worker.activity_name.clone().map_or(Cell::Empty, Cell::Text),
        Cell::Flag(worker.available),
        since.map_or(Cell::Empty, Cell::Time),
        since.map_or(Cell::Empty, |s| Cell::Count(u64::try_from((now - s).num_seconds()).unwrap_or(0))),
        Cell::Count(channels.iter().map(|c| u64::from(c.assigned_tasks)).sum()),
        Cell::Text(channel_text.join("; ")),
    ]
}

/// `…/Workers/Export`: the agents table, with the Workers list's filters.
async fn agents(State(state): State<AppState>, Path(ws): Path<String>, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    let params = Params::parse(raw.as_deref())?;
    let pairs = query_pairs(raw.as_deref())?;
    let (sid, rows) = workers::export_rows(&state, &ws, &pairs)?;
    let now = wallboard_shared::time::to_datetime(state.clock.now_ms());
    let stem = format!("{sid}-agents-{}", params.stamp(now));
    let rows = rows.into_iter().map(move |(w, c)| agent_row(now, &w, &c));
    let table = Table { columns: AGENT_COLUMNS.map(str::to_owned).to_vec(), rows: Box::new(rows) };
    Ok(params.respond(table, &stem))
}

/// The wire name of a value (`critical`, `longest_wait`…), as the JSON API writes it.
fn wire_name(value: &impl serde::Serialize) -> Cell {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => Cell::Text(s),
        Ok(other) => Cell::of_json(&other),
        Err(_) => Cell::Empty,
    }
}

fn alert_row(a: Alert) -> Vec<Cell> {
    vec![
        Cell::Text(a.sid),
        Cell::Text(a.rule_name),
        Cell::Text(a.target.as_str().to_owned()),
        a.task_channel.map_or(Cell::Empty, Cell::Text),
        wire_name(&a.measure),
        wire_name(&a.level),
        wire_name(&a.status),
        a.value.map_or(Cell::Empty, Cell::Number),
        Cell::Text(a.description),
        Cell::Time(a.date_fired),
        a.date_cleared.map_or(Cell::Empty, Cell::Time),
        a.date_acknowledged.map_or(Cell::Empty, Cell::Time),
        a.acknowledged_by.map_or(Cell::Empty, Cell::Text),
    ]
}

/// `…/Alerts/Export`: the alert history, with the Alerts list's `Status`.
async fn alert_history(
    State(state): State<AppState>,
    Path(ws): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let params = Params::parse(raw.as_deref())?;
    let (sid, history) = alerts::export_rows(&state, &ws, raw.as_deref()).await?;
    let now = wallboard_shared::time::to_datetime(state.clock.now_ms());
    let stem = format!("{sid}-alerts-{}", params.stamp(now));
    let table = Table {
        columns: ALERT_COLUMNS.map(str::to_owned).to_vec(),
        rows: Box::new(history.into_iter().map(alert_row)),
    };
    Ok(params.respond(table, &stem))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_are_flattened_with_the_thresholds_in_order() {
        let stats = serde_json::json!({
            "end_time": "2026-07-01T09:15:00Z",
            "start_time": "2026-07-01T09:00:00Z",
            "tasks_entered": 9,
            "wait_duration_until_accepted": {"avg": 14, "max": 40},
            "split_by_wait_time": {
                "120": {"below": {"tasks_canceled": 1, "reservations_accepted": 7}, "above": {"tasks_canceled": 0, "reservations_accepted": 0}},
                "20": {"below": {"tasks_canceled": 0, "reservations_accepted": 5}, "above": {"tasks_canceled": 1, "reservations_accepted": 2}}
            }
        });
        let names: Vec<String> = flatten(&stats).into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            names,
            [
                "start_time",
                "end_time",
                "tasks_entered",
                "wait_duration_until_accepted_avg",
                "wait_duration_until_accepted_max",
                "reservations_accepted_below_20s",
                "reservations_accepted_above_20s",
                "tasks_canceled_below_20s",
                "tasks_canceled_above_20s",
                "reservations_accepted_below_120s",
                "reservations_accepted_above_120s",
                "tasks_canceled_below_120s",
                "tasks_canceled_above_120s",
            ]
        );
        let subject = Subject { name: "Sales".into(), sid: "WW1".into(), task_channel: None };
        let table = statistics_table(subject, vec![stats.clone(), stats]);
        assert_eq!(&table.columns[..4], ["target", "target_sid", "task_channel", "start_time"]);
        let rows: Vec<Vec<Cell>> = table.rows.collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1][5], Cell::Count(9));
        assert_eq!(rows[1][8], Cell::Count(5));
    }

    #[test]
    fn parameters_are_checked() {
        let p = Params::parse(Some("Format=json&TimeZone=America%2FNew_York&Minutes=15")).expect("valid");
        assert_eq!((p.format, p.zone), (Format::Json, chrono_tz::America::New_York));
        let p = Params::parse(None).expect("defaults");
        assert_eq!((p.format, p.zone), (Format::Csv, chrono_tz::UTC));
        for bad in ["Format=xlsx", "TimeZone=Mars%2FOlympus", "Format=csv&Format=json", "TimeZone="] {
            let e = Params::parse(Some(bad)).expect_err(bad);
            assert_eq!(e.0.status, 400, "{bad}");
        }
    }
}
