//! Exports: CSV and JSON downloads of what a view shows (`GET <resource>/Export`).
//!
//! An export is the twin of a resource the dashboard reads, at that resource's URL plus
//! `/Export`, with that resource's own parameters (window, `TaskChannel`,
//! `SplitByWaitTime`, list filters) and its authorization, and two more:
//! `Format=csv|json` (CSV by default) and `TimeZone` (an IANA name, `UTC` by default), the
//! zone of every time column. A time column's name states it: `start_time (Europe/Paris)`;
//! so does the `X-Wallboard-Time-Zone` response header. A JSON export is the same rows as
//! an array of objects keyed by the same column names. The column names are the wire format
//! and live here; the server writes the rows (`backend/src/api/export/`).

use std::fmt::Display;

/// The path segment that turns a resource's URL into its export's.
pub const EXPORT: &str = "Export";
/// The parameter naming the format, and the one naming the time zone.
pub const FORMAT: &str = "Format";
pub const TIME_ZONE: &str = "TimeZone";
/// The response header that says the zone of the time columns.
pub const TIME_ZONE_HEADER: &str = "x-wallboard-time-zone";
/// The zone of the time columns when none is asked for.
pub const DEFAULT_TIME_ZONE: &str = "UTC";

/// A cumulative statistics row begins with these, then `start_time (zone)`,
/// `end_time (zone)`, then the resource's numbers under their Twilio names (nested ones
/// joined with `_`: `wait_duration_until_accepted_avg`), then per `SplitByWaitTime`
/// threshold the four [`split_column`]s.
pub const TARGET: &str = "target";
pub const TARGET_SID: &str = "target_sid";
pub const TASK_CHANNEL: &str = "task_channel";

/// The column of one side of one threshold of `split_by_wait_time`:
/// `reservations_accepted_below_20s`.
pub fn split_column(field: &str, side: &str, threshold: impl Display) -> String {
    format!("{field}_{side}_{threshold}s")
}

/// The agents table: one row per worker of the Workers list (same filters).
pub const AGENT_COLUMNS: [&str; 8] =
    ["sid", "friendly_name", "activity", "available", "since", "seconds_in_state", "tasks", "channels"];
/// The alert history: one row per alert of the Alerts list (same `Status` filter), newest first.
pub const ALERT_COLUMNS: [&str; 13] = [
    "sid",
    "rule",
    "target",
    "task_channel",
    "measure",
    "level",
    "status",
    "value",
    "description",
    "fired",
    "cleared",
    "acknowledged",
    "acknowledged_by",
];
/// The columns above that are times (stated in the zone).
pub const TIME_COLUMNS: [&str; 6] = ["start_time", "end_time", "since", "fired", "cleared", "acknowledged"];

/// The header of a column: a time column states its zone (`since (Europe/Paris)`).
pub fn column_header(name: &str, zone: &str) -> String {
    if TIME_COLUMNS.contains(&name) { format!("{name} ({zone})") } else { name.to_owned() }
}

/// An export's format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    Csv,
    Json,
}

impl Format {
    /// `csv` or `json` (the parameter's values, and the file's extension).
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "csv" => Some(Self::Csv),
            "json" => Some(Self::Json),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Json => "json",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Json => "application/json",
        }
    }
}

/// The export of a resource path (`/v1/…/CumulativeStatistics?Minutes=15`): the same path
/// plus `/Export`, its query kept, with `Format` and `TimeZone` added.
pub fn export_path(resource: &str, format: Format, time_zone: &str) -> String {
    let (path, query) = resource.split_once('?').unwrap_or((resource, ""));
    let sep = if query.is_empty() { "" } else { "&" };
    // A resource whose own query names the zone (the history cuts its days in it) keeps it:
    // the parameter may be given once.
    let zone = if query.split('&').any(|p| p.split('=').next() == Some(TIME_ZONE)) {
        String::new()
    } else {
        format!("&{TIME_ZONE}={}", time_zone.replace('+', "%2B"))
    };
    format!("{path}/{EXPORT}?{query}{sep}{FORMAT}={}{zone}", format.extension())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_export_is_the_resource_plus_export_with_its_query() {
        assert_eq!(
            export_path("/v1/Workspaces/WS1/Workers?TaskQueueSid=WQ1", Format::Csv, "Etc/GMT+5"),
            "/v1/Workspaces/WS1/Workers/Export?TaskQueueSid=WQ1&Format=csv&TimeZone=Etc/GMT%2B5"
        );
        assert_eq!(
            export_path("/v1/Workspaces/WS1/Alerts", Format::Json, "UTC"),
            "/v1/Workspaces/WS1/Alerts/Export?Format=json&TimeZone=UTC"
        );
        assert_eq!(
            export_path("/v1/Workspaces/WS1/HistoricalStatistics?Days=30&TimeZone=Europe%2FParis", Format::Csv, "UTC"),
            "/v1/Workspaces/WS1/HistoricalStatistics/Export?Days=30&TimeZone=Europe%2FParis&Format=csv"
        );
    }

    #[test]
    fn time_columns_state_their_zone() {
        assert_eq!(column_header("fired", "Europe/Paris"), "fired (Europe/Paris)");
        assert_eq!(column_header("rule", "Europe/Paris"), "rule");
        assert_eq!(split_column("tasks_canceled", "above", 20), "tasks_canceled_above_20s");
        assert_eq!(Format::parse("json"), Some(Format::Json));
        assert_eq!(Format::parse("CSV"), None);
    }
}
