//! `…/HistoricalStatistics` (our extension of TaskRouter's API): a scope's service level,
//! abandonment, volume and average wait per local day (or hour) over the last `Days` days,
//! computed from the engine's cumulative index (never a scan of raw events).
//!
//! Resources: `GET /v1/Workspaces/{WS}/HistoricalStatistics` (scope `default`),
//! `…/Workflows/{WW}/HistoricalStatistics`, `…/TaskQueues/{WQ}/HistoricalStatistics`.
//! Parameters ([`HistoryQuery::parse`]): `Days` (1..=the retention in days; default 30, or
//! 7 by the hour, at most the retention), `Granularity` (`day` or `hour`; by the hour at most
//! [`MAX_HOURLY_DAYS`] days), `TimeZone` (an IANA name, default `UTC`: days are cut at local
//! midnight, 23, 24 or 25 hours long; the server checks the name), `TaskChannel`. Each is
//! given at most once; anything else malformed is a 400 (code 20001).
//!
//! Every period of the span is a row, in time order, so `Days=30` is always 30 day rows (a
//! period before the first event, or before the retention, counts zeros and its rates are
//! null). A period's numbers are those of the window [start, end − 1 ms] (the
//! `StartDate`/`EndDate` of the statistics resources are inclusive), cut at now for the
//! current period and at now − retention for the oldest.

use serde::{Deserialize, Serialize};

use crate::query::QueryError;
use crate::service_level::{DefinitionView, Inputs};
use crate::{AccountSid, WorkspaceSid};

/// Days when `Days` is not given (by the day).
pub const DEFAULT_DAYS: u32 = 30;
/// The most days asked for by the hour (168 rows).
pub const MAX_HOURLY_DAYS: u32 = 7;
/// The zone when `TimeZone` is not given.
pub const DEFAULT_TIME_ZONE: &str = "UTC";

/// How long each period is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Granularity {
    /// A local day, midnight to midnight.
    #[default]
    Day,
    /// An hour of a local day, from its midnight.
    Hour,
}

impl Granularity {
    /// The `Granularity` value.
    pub fn key(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Hour => "hour",
        }
    }
}

/// What a `…/HistoricalStatistics` request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryQuery {
    pub days: u32,
    pub granularity: Granularity,
    /// An IANA name (checked by the server, which knows the zones).
    pub time_zone: String,
    /// A task channel's unique name or `TC…` SID; None: every channel.
    pub task_channel: Option<String>,
}

fn err(msg: impl Into<String>) -> QueryError {
    QueryError(msg.into())
}

impl HistoryQuery {
    /// Parses the query's pairs against a retention of `retention_days`; unknown parameters
    /// are ignored (as on the statistics resources).
    pub fn parse<'a, I>(pairs: I, retention_days: u32) -> Result<Self, QueryError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let (mut days, mut granularity, mut zone, mut channel) = (None, None, None, None);
        for (key, value) in pairs {
            let slot = match key {
                "Days" => &mut days,
                "Granularity" => &mut granularity,
                "TimeZone" => &mut zone,
                "TaskChannel" => &mut channel,
                _ => continue,
            };
            if slot.replace(value).is_some() {
                return Err(err(format!("{key} was given more than once")));
            }
        }
        let granularity = match granularity.map(str::trim) {
            None | Some("day") => Granularity::Day,
            Some("hour") => Granularity::Hour,
            Some(other) => {
                return Err(err(format!(
                    "Granularity must be 'day' or 'hour', got '{}'",
                    other.chars().take(32).collect::<String>()
                )));
            }
        };
        let most = match granularity {
            Granularity::Day => retention_days,
            Granularity::Hour => retention_days.min(MAX_HOURLY_DAYS),
        };
        let days = match days {
            None => match granularity {
                Granularity::Day => DEFAULT_DAYS.min(most),
                Granularity::Hour => MAX_HOURLY_DAYS.min(most),
            },
            Some(raw) => match raw.trim().parse::<u32>() {
                Ok(n) if (1..=most).contains(&n) => n,
                _ => {
                    let why = match granularity {
                        Granularity::Hour => format!(" by the hour (at most {MAX_HOURLY_DAYS}, and the retention)"),
                        Granularity::Day => " (the retention)".to_owned(),
                    };
                    return Err(err(format!(
                        "Days must be a whole number from 1 to {most}{why}, got '{}'",
                        raw.chars().take(32).collect::<String>()
                    )));
                }
            },
        };
        let time_zone = match zone.map(str::trim) {
            None => DEFAULT_TIME_ZONE.to_owned(),
            Some(z) if !z.is_empty() && z.len() <= 64 => z.to_owned(),
            Some(_) => return Err(err("TimeZone must be an IANA time zone name (e.g. Europe/Paris)")),
        };
        let task_channel = match channel {
            None => None,
            Some(c) if !c.is_empty() && c.len() <= 256 => Some(c.to_owned()),
            Some(_) => return Err(err("TaskChannel must be a task channel's unique name or SID")),
        };
        Ok(Self { days, granularity, time_zone, task_channel })
    }

    /// The query string (without `?`) that asks for this, parameters at their default left
    /// out (`retention_days` gives the default of `Days`).
    pub fn to_query(&self) -> String {
        let mut parts = Vec::new();
        let default_days = match self.granularity {
            Granularity::Day => DEFAULT_DAYS,
            Granularity::Hour => MAX_HOURLY_DAYS,
        };
        if self.granularity != Granularity::Day {
            parts.push(format!("Granularity={}", self.granularity.key()));
        }
        if self.days != default_days {
            parts.push(format!("Days={}", self.days));
        }
        if self.time_zone != DEFAULT_TIME_ZONE {
            parts.push(format!("TimeZone={}", crate::query::encode(&self.time_zone)));
        }
        if let Some(c) = &self.task_channel {
            parts.push(format!("TaskChannel={}", crate::query::encode(c)));
        }
        parts.join("&")
    }
}

/// One period's numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoricalPeriod {
    /// The period's first instant, local time with its offset (`2026-10-25T00:00:00+02:00`).
    pub start_time: String,
    /// The next period's first instant (exclusive), likewise.
    pub end_time: String,
    /// Tasks that entered the scope (`tasks_entered`; the workspace's `tasks_created`).
    pub tasks_entered: u64,
    /// Answered: reservations accepted.
    pub tasks_answered: u64,
    /// Abandoned: tasks canceled.
    pub tasks_abandoned: u64,
    /// abandoned ÷ (answered + abandoned), 0..=1; null when both are 0.
    pub abandonment_rate: Option<f64>,
    /// The service level under the response's `definition`, 0..=1 (as `…/ServiceLevel`
    /// gives it for the same window); null when its denominator is 0.
    pub service_level: Option<f64>,
    pub service_level_numerator: u64,
    pub service_level_denominator: u64,
    /// Mean wait from creation until accepted, whole seconds; null when none was answered.
    pub avg_wait_until_accepted: Option<u64>,
    /// False while the period is not over, or when part of it is before the retention.
    pub complete: bool,
}

impl HistoricalPeriod {
    /// A period's row from its service-level inputs and outcome.
    pub fn new(start_time: String, end_time: String, entered: u64, inputs: &Inputs, level: Level) -> Self {
        let ended = inputs.answered + inputs.abandoned;
        Self {
            start_time,
            end_time,
            tasks_entered: entered,
            tasks_answered: inputs.answered,
            tasks_abandoned: inputs.abandoned,
            abandonment_rate: (ended > 0).then(|| inputs.abandoned as f64 / ended as f64),
            service_level: level.value,
            service_level_numerator: level.numerator,
            service_level_denominator: level.denominator,
            avg_wait_until_accepted: level.avg_wait,
            complete: level.complete,
        }
    }
}

/// The parts of a row that are not counts of [`Inputs`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Level {
    pub value: Option<f64>,
    pub numerator: u64,
    pub denominator: u64,
    pub avg_wait: Option<u64>,
    pub complete: bool,
}

/// `GET …/HistoricalStatistics`: the periods of a scope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoricalStatistics {
    pub account_sid: AccountSid,
    pub workspace_sid: WorkspaceSid,
    /// `default` (the workspace), a workflow SID or a task queue SID.
    pub scope: String,
    /// The `TaskChannel` asked for, as given; null for all channels.
    pub task_channel: Option<String>,
    pub granularity: Granularity,
    pub days: u32,
    pub time_zone: String,
    /// The first period's start and the last period's end, as in the periods.
    pub start_time: String,
    pub end_time: String,
    /// The definition the service levels are computed with: the scope's in force for the
    /// channel, as `…/ServiceLevels/{scope}` shows it.
    pub definition: DefinitionView,
    /// Every period of the span, oldest first.
    pub periods: Vec<HistoricalPeriod>,
    pub url: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &[(&str, &str)]) -> Result<HistoryQuery, QueryError> {
        HistoryQuery::parse(q.iter().copied(), 30)
    }

    #[test]
    fn defaults_and_bounds() {
        let q = parse(&[]).expect("defaults");
        assert_eq!((q.days, q.granularity, q.time_zone.as_str(), q.task_channel), (30, Granularity::Day, "UTC", None));
        assert_eq!(parse(&[("Granularity", "hour")]).expect("hourly").days, 7);
        assert_eq!(HistoryQuery::parse([], 10).expect("short retention").days, 10);
        assert_eq!(HistoryQuery::parse([("Granularity", "hour")], 3).expect("short").days, 3);
        assert_eq!(HistoryQuery::parse([("Days", "90")], 90).expect("long retention").days, 90);
        let q =
            parse(&[("Days", "2"), ("Granularity", "hour"), ("TimeZone", "Europe/Paris"), ("TaskChannel", "voice")])
                .expect("all");
        assert_eq!(q.to_query(), "Granularity=hour&Days=2&TimeZone=Europe%2FParis&TaskChannel=voice");
        assert_eq!(parse(&[]).expect("defaults").to_query(), "");
        assert_eq!(parse(&[("Unknown", "x")]).expect("ignored").days, 30);
    }

    #[test]
    fn bad_parameters_are_refused() {
        for bad in [
            vec![("Days", "0")],
            vec![("Days", "31")],
            vec![("Days", "-1")],
            vec![("Days", "1.5")],
            vec![("Days", "")],
            vec![("Days", "8"), ("Granularity", "hour")],
            vec![("Granularity", "week")],
            vec![("Granularity", "")],
            vec![("TimeZone", "")],
            vec![("TaskChannel", "")],
            vec![("Days", "1"), ("Days", "2")],
        ] {
            assert!(parse(&bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn a_row_rates_its_inputs() {
        let inputs = Inputs { answered: 3, answered_within_threshold: 2, abandoned: 1, abandoned_short: 0 };
        let level = Level { value: Some(0.5), numerator: 2, denominator: 4, avg_wait: Some(12), complete: true };
        let row = HistoricalPeriod::new("a".into(), "b".into(), 5, &inputs, level);
        assert_eq!((row.tasks_entered, row.tasks_answered, row.tasks_abandoned), (5, 3, 1));
        assert_eq!(row.abandonment_rate, Some(0.25));
        let none = HistoricalPeriod::new("a".into(), "b".into(), 0, &Inputs::default(), Level::default());
        assert_eq!((none.abandonment_rate, none.service_level, none.avg_wait_until_accepted), (None, None, None));
    }
}
