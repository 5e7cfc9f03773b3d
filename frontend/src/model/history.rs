//! The history page's logic: which `…/HistoricalStatistics` to ask for (the scope of the
//! URL: the queue `queue`, else the workflow `wf`, else the workspace; by the day for 30 days
//! or by the hour for 7, in the view's zone, on its channel), the lean reading of the answer
//! (only what the page shows: the shared `HistoricalStatistics` type's strings and
//! definition would cost the wasm more), and the labels of its periods.

use wallboard_shared::Urls;
use wallboard_shared::history::{DEFAULT_DAYS, Granularity, HistoryQuery, MAX_HOURLY_DAYS};

use super::json::{Reader, Scalar};
use super::view::ViewState;

/// The definition the service levels are computed with, as the page names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Formula {
    pub formula: String,
    pub defined_by: String,
}

/// One period's numbers (see `wallboard_shared::history::HistoricalPeriod`). Only its
/// whole numbers are read: the rates are computed from them as the server does, so the
/// wasm needs no float parser (as `model::alerts` avoids one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub start_time: String,
    pub tasks_entered: u64,
    pub tasks_answered: u64,
    pub tasks_abandoned: u64,
    pub service_level_numerator: u64,
    pub service_level_denominator: u64,
    pub avg_wait_until_accepted: Option<u64>,
    pub complete: bool,
}

impl Period {
    /// The service level, 0..=1: numerator ÷ denominator (the server's `service_level`).
    pub fn service_level(&self) -> Option<f64> {
        let (n, d) = (self.service_level_numerator, self.service_level_denominator);
        (d > 0).then(|| n as f64 / d as f64)
    }

    /// abandoned ÷ (answered + abandoned) (the server's `abandonment_rate`).
    pub fn abandonment(&self) -> Option<f64> {
        let ended = self.tasks_answered + self.tasks_abandoned;
        (ended > 0).then(|| self.tasks_abandoned as f64 / ended as f64)
    }
}

/// A history answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct History {
    pub scope: String,
    pub time_zone: String,
    pub definition: Formula,
    pub periods: Vec<Period>,
}

impl History {
    /// Reads a `HistoricalStatistics` answer with the lean reader of [`super::json`] (serde's
    /// code for another type would cost the wasm more). None when it is not one.
    pub fn parse(json: &str) -> Option<Self> {
        Self::read(json).ok()
    }

    fn read(json: &str) -> Result<Self, String> {
        let mut r = Reader::new(json, "history");
        let (mut scope, mut time_zone, mut formula, mut defined_by) = (None, None, None, None);
        let mut periods = Vec::new();
        r.object(|key, r| match key {
            "scope" => {
                scope = r.value()?.into_text();
                Ok(())
            }
            "time_zone" => {
                time_zone = r.value()?.into_text();
                Ok(())
            }
            "definition" => r.object(|key, r| {
                let value = r.value()?;
                match key {
                    "formula" => formula = value.into_text(),
                    "defined_by" => defined_by = value.into_text(),
                    _ => {}
                }
                Ok(())
            }),
            "periods" => r.array(|r| {
                periods.push(period(r)?);
                Ok(())
            }),
            _ => r.value().map(drop),
        })?;
        r.end()?;
        let missing = |what: &str| format!("history: no {what}");
        Ok(Self {
            scope: scope.ok_or_else(|| missing("scope"))?,
            time_zone: time_zone.ok_or_else(|| missing("time_zone"))?,
            definition: Formula {
                formula: formula.ok_or_else(|| missing("definition.formula"))?,
                defined_by: defined_by.ok_or_else(|| missing("definition.defined_by"))?,
            },
            periods,
        })
    }
}

/// One period: its whole numbers and start (the rates are computed from them).
fn period(r: &mut Reader<'_>) -> Result<Period, String> {
    let mut start_time = None;
    let mut whole: [Option<u64>; 6] = [None; 6];
    let mut complete = None;
    r.object(|key, r| {
        let value = r.value()?;
        let slot = match key {
            "start_time" => {
                start_time = value.into_text();
                return Ok(());
            }
            "complete" => {
                complete = Some(value == Scalar::Bool(true));
                return Ok(());
            }
            "tasks_entered" => 0,
            "tasks_answered" => 1,
            "tasks_abandoned" => 2,
            "service_level_numerator" => 3,
            "service_level_denominator" => 4,
            "avg_wait_until_accepted" => 5,
            _ => return Ok(()),
        };
        whole[slot] = value.whole();
        Ok(())
    })?;
    let need = |n: Option<u64>, what: &str| n.ok_or_else(|| format!("history: a period without {what}"));
    Ok(Period {
        start_time: start_time.ok_or("history: a period without start_time")?,
        tasks_entered: need(whole[0], "tasks_entered")?,
        tasks_answered: need(whole[1], "tasks_answered")?,
        tasks_abandoned: need(whole[2], "tasks_abandoned")?,
        service_level_numerator: need(whole[3], "service_level_numerator")?,
        service_level_denominator: need(whole[4], "service_level_denominator")?,
        avg_wait_until_accepted: whole[5],
        complete: complete.ok_or("history: a period without complete")?,
    })
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
            format!(
                "/v1/Workspaces/{ws}/TaskQueues/WQ2/HistoricalStatistics?Granularity=hour&TimeZone=America%2FNew_York"
            )
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
        let h = History::parse(json).expect("a history");
        let p = &h.periods[0];
        assert_eq!(
            (h.periods.len(), p.tasks_entered, p.service_level(), p.abandonment()),
            (1, 3, Some(0.5), Some(1.0 / 3.0))
        );
        assert_eq!(h.definition.defined_by, "built_in");
        assert_eq!(
            (h.scope.as_str(), h.time_zone.as_str(), h.definition.formula.as_str()),
            ("default", "UTC", "answered < 20 s")
        );
        assert_eq!(
            (p.start_time.as_str(), p.avg_wait_until_accepted, p.complete),
            ("2026-10-25T00:00:00+00:00", Some(18), false)
        );
        // The JSON as serde writes it (another key order, escapes) reads the same.
        let mut wire: serde_json::Value = serde_json::from_str(json).expect("json");
        wire["periods"][0]["avg_wait_until_accepted"] = serde_json::Value::Null;
        wire["definition"]["formula"] = "a \"b\" / c".into();
        let h = History::parse(&wire.to_string()).expect("a history");
        assert_eq!((h.periods[0].avg_wait_until_accepted, h.definition.formula.as_str()), (None, "a \"b\" / c"));
        // Keys and braces inside strings are text, not structure (a reader that searched
        // the text for keys was misled by them).
        wire["url"] = r#"x","scope":"WQ1","periods":[{"#.into();
        wire["definition"]["formula"] = "{\"defined_by\":\"me\"}".into();
        let h = History::parse(&wire.to_string()).expect("a history");
        assert_eq!((h.scope.as_str(), h.periods.len()), ("default", 1));
        assert_eq!(
            (h.definition.formula.as_str(), h.definition.defined_by.as_str()),
            ("{\"defined_by\":\"me\"}", "built_in")
        );
        assert!(History::parse("{}").is_none());
        assert!(History::parse(&format!("{json} trailing")).is_none());
        assert!(History::parse(r#"{"periods":[{"start_time":"x"}]}"#).is_none());
    }
}
