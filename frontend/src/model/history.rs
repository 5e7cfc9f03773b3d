//! The history page's logic: which `…/HistoricalStatistics` to ask for (the scope of the
//! URL: the queue `queue`, else the workflow `wf`, else the workspace; by the day for 30 days
//! or by the hour for 7, in the view's zone, on its channel), the lean reading of the answer
//! (only what the page shows: the shared `HistoricalStatistics` type's strings and
//! definition would cost the wasm more), and the labels of its periods.

use serde::Deserialize;
use wallboard_shared::Urls;
use wallboard_shared::history::{DEFAULT_DAYS, Granularity, HistoryQuery, MAX_HOURLY_DAYS};

use super::view::ViewState;

/// The definition the service levels are computed with, as the page names it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Formula {
    pub formula: String,
    pub defined_by: String,
}

/// One period's numbers (see `wallboard_shared::history::HistoricalPeriod`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Period {
    pub start_time: String,
    pub tasks_entered: u64,
    pub tasks_answered: u64,
    pub tasks_abandoned: u64,
    pub abandonment_rate: Option<f64>,
    pub service_level: Option<f64>,
    pub avg_wait_until_accepted: Option<u64>,
    pub complete: bool,
}

/// A history answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct History {
    pub scope: String,
    pub time_zone: String,
    pub definition: Formula,
    pub periods: Vec<Period>,
}

/// The scope the view's history is about: `WQ…`, `WW…` or `default` (the workspace).
pub fn scope(view: &ViewState) -> &str {
    view.agent_queue.as_deref().or(view.workflow.as_deref()).unwrap_or("default")
}

/// The path (with its query) of the view's history in `workspace`; `zone` is the view's
/// zone, else the browser's (None: UTC).
pub fn path(workspace: &str, view: &ViewState, zone: Option<String>) -> String {
    let granularity = if view.hourly { Granularity::Hour } else { Granularity::Day };
    let query = HistoryQuery {
        days: if view.hourly { MAX_HOURLY_DAYS } else { DEFAULT_DAYS },
        granularity,
        time_zone: view.time_zone.clone().or(zone).unwrap_or_else(|| "UTC".to_owned()),
        task_channel: view.channel.clone(),
    };
    let url = Urls::relative().historical_statistics(workspace, scope(view));
    match query.to_query() {
        q if q.is_empty() => url,
        q => format!("{url}?{q}"),
    }
}

/// A period's label from its local start (`2026-10-24T14:00:00+02:00`): the date
/// (`2026-10-24`), and by the hour its time (`2026-10-24 14:00`).
pub fn label(start_time: &str, hourly: bool) -> String {
    let date = start_time.get(..10).unwrap_or(start_time);
    match start_time.get(11..16).filter(|_| hourly) {
        Some(time) => format!("{date} {time}"),
        None => date.to_owned(),
    }
}

/// A short label for the chart's axis: `10-24`, by the hour `24 14h`.
pub fn short_label(start_time: &str, hourly: bool) -> String {
    match (start_time.get(5..10), start_time.get(8..10), start_time.get(11..13)) {
        (_, Some(day), Some(hour)) if hourly => format!("{day} {hour}h"),
        (Some(md), _, _) => md.to_owned(),
        _ => start_time.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scope_and_query_follow_the_view() {
        let ws = "WS0123456789abcdef0123456789abcdef";
        let mut v = ViewState::default();
        assert_eq!(path(ws, &v, None), format!("/v1/Workspaces/{ws}/HistoricalStatistics"));
        v.workflow = Some("WW1".into());
        v.time_zone = Some("Europe/Paris".into());
        v.channel = Some("voice".into());
        assert_eq!(
            path(ws, &v, Some("America/New_York".into())),
            format!("/v1/Workspaces/{ws}/Workflows/WW1/HistoricalStatistics?TimeZone=Europe%2FParis&TaskChannel=voice")
        );
        v.agent_queue = Some("WQ2".into());
        v.hourly = true;
        v.time_zone = None;
        v.channel = None;
        assert_eq!(
            path(ws, &v, Some("America/New_York".into())),
            format!("/v1/Workspaces/{ws}/TaskQueues/WQ2/HistoricalStatistics?Granularity=hour&TimeZone=America%2FNew_York")
        );
    }

    #[test]
    fn labels_are_local_dates_and_hours() {
        let t = "2026-10-25T02:00:00+01:00";
        assert_eq!(label(t, false), "2026-10-25");
        assert_eq!(label(t, true), "2026-10-25 02:00");
        assert_eq!(short_label(t, false), "10-25");
        assert_eq!(short_label(t, true), "25 02h");
        assert_eq!(label("odd", true), "odd");
    }

    #[test]
    fn reads_the_servers_answer() {
        let json = r#"{"account_sid":"AC1","workspace_sid":"WS1","scope":"default","task_channel":null,
            "granularity":"day","days":1,"time_zone":"UTC","start_time":"2026-10-25T00:00:00+00:00",
            "end_time":"2026-10-26T00:00:00+00:00","definition":{"threshold":20,"short_abandon":20,
            "abandons":"counted_against","formula":"answered < 20 s","defined_by":"built_in",
            "defined_for_channel":null},"periods":[{"start_time":"2026-10-25T00:00:00+00:00",
            "end_time":"2026-10-26T00:00:00+00:00","tasks_entered":3,"tasks_answered":2,"tasks_abandoned":1,
            "abandonment_rate":0.3333,"service_level":0.5,"service_level_numerator":1,
            "service_level_denominator":2,"avg_wait_until_accepted":18,"complete":false}],"url":"u"}"#;
        let h: History = serde_json::from_str(json).expect("a history");
        assert_eq!((h.periods.len(), h.periods[0].tasks_entered, h.periods[0].service_level), (1, 3, Some(0.5)));
        assert_eq!(h.definition.defined_by, "built_in");
    }
}
