//! Query parameters of the statistics resources and their validation.
//!
//! One parser for everyone: the server validates requests with it and the dashboard
//! builds and checks its URLs with it, so both always agree on what is valid.
//! Semantics are those of docs/design.md ("Statistics semantics").

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

/// Default cumulative window when neither `Minutes` nor dates are given.
pub const DEFAULT_MINUTES: u32 = 15;
/// Largest `Minutes` accepted (30 days).
pub const MAX_MINUTES: u32 = 43_200;
/// Most `SplitByWaitTime` thresholds in one request.
pub const MAX_THRESHOLDS: usize = 20;

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;

/// A rejected parameter; the API turns it into HTTP 400 with Twilio code 20001.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError(pub String);

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for QueryError {}

fn err(msg: impl Into<String>) -> QueryError {
    QueryError(msg.into())
}

/// A `StartDate`/`EndDate` value: an instant, or a whole UTC day when given as `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DateBound {
    Day(NaiveDate),
    Instant(DateTime<Utc>),
}

impl DateBound {
    /// Parses `YYYY-MM-DD`, RFC 3339 with `Z` or an offset (fractional seconds allowed), or a
    /// date-time without zone (taken as GMT, as Twilio documents). A `+` that arrived as a
    /// space (an unencoded query string) is put back.
    pub fn parse(name: &str, raw: &str) -> Result<Self, QueryError> {
        let s = raw.trim();
        if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            return Ok(Self::Day(d));
        }
        let mut fixed = s.to_owned();
        let b = s.as_bytes();
        if b.len() > 6 && b[b.len() - 6] == b' ' && b[b.len() - 3] == b':' {
            fixed.replace_range(b.len() - 6..b.len() - 5, "+");
        }
        if let Ok(t) = DateTime::parse_from_rfc3339(&fixed) {
            return Ok(Self::Instant(t.with_timezone(&Utc)));
        }
        for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
            if let Ok(t) = NaiveDateTime::parse_from_str(&fixed, format) {
                return Ok(Self::Instant(Utc.from_utc_datetime(&t)));
            }
        }
        Err(err(format!(
            "{name} '{}' is not a valid ISO 8601 date or date-time (e.g. 2015-07-30T20:00:00Z)",
            raw.chars().take(64).collect::<String>()
        )))
    }

    /// First millisecond covered.
    pub fn start_ms(&self) -> i64 {
        match self {
            Self::Day(d) => Utc.from_utc_datetime(&d.and_time(NaiveTime::MIN)).timestamp_millis(),
            Self::Instant(t) => t.timestamp_millis(),
        }
    }

    /// Last millisecond covered (a day bound covers its whole day).
    pub fn end_ms(&self) -> i64 {
        match self {
            Self::Day(_) => self.start_ms() + DAY_MS - 1,
            Self::Instant(t) => t.timestamp_millis(),
        }
    }

    /// The bound as a `StartDate`/`EndDate` value. A day is formatted by hand: chrono's format
    /// strings would cost the dashboard's wasm about 10 KB gzip.
    pub fn to_param(self) -> String {
        use chrono::Datelike;
        match self {
            Self::Day(d) => format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day()),
            Self::Instant(t) => t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        }
    }
}

/// Which cumulative window was asked for, before it is resolved against "now".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WindowSpec {
    /// The last N minutes up to now.
    Minutes(u32),
    /// Explicit bounds; at least one is present.
    Range { start: Option<DateBound>, end: Option<DateBound> },
}

impl Default for WindowSpec {
    fn default() -> Self {
        Self::Minutes(DEFAULT_MINUTES)
    }
}

/// An effective window: inclusive bounds in milliseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window {
    pub start_ms: i64,
    pub end_ms: i64,
}

impl WindowSpec {
    /// Resolves the window at `now_ms`, refusing anything that starts before `now - retention`.
    pub fn resolve(&self, now_ms: i64, retention_ms: i64) -> Result<Window, QueryError> {
        let window = match *self {
            Self::Minutes(m) => Window { start_ms: now_ms - i64::from(m) * MINUTE_MS, end_ms: now_ms },
            Self::Range { start, end } => {
                if let (Some(s), Some(e)) = (start, end)
                    && s.start_ms() > e.end_ms()
                {
                    return Err(err("StartDate must not be after EndDate"));
                }
                let end_ms = end.map_or(now_ms, |e| e.end_ms().min(now_ms));
                let start_ms = start.map_or(end_ms - i64::from(DEFAULT_MINUTES) * MINUTE_MS, |s| s.start_ms());
                if start_ms > end_ms {
                    return Err(err("StartDate must not be in the future"));
                }
                Window { start_ms, end_ms }
            }
        };
        if window.start_ms < now_ms - retention_ms {
            let days = retention_ms / DAY_MS;
            return Err(err(format!(
                "the window starts before the retention of statistics ({days} days); ask for a later StartDate or fewer Minutes"
            )));
        }
        Ok(window)
    }
}

/// Parses `SplitByWaitTime`: comma-separated non-negative whole seconds, at most 20.
/// Returns the thresholds ascending and without repeats.
pub fn parse_thresholds(raw: &str) -> Result<Vec<u32>, QueryError> {
    let mut out = Vec::new();
    for item in raw.split(',') {
        let item = item.trim();
        if item.is_empty() || !item.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err(format!(
                "SplitByWaitTime must be comma-separated whole seconds (e.g. 5,30), got '{}'",
                raw.chars().take(64).collect::<String>()
            )));
        }
        let t = item.parse::<u32>().map_err(|_| err(format!("SplitByWaitTime threshold {item} is too large")))?;
        // Kept ascending as it grows (never beyond one too many): no sort, a few bytes of
        // the dashboard's wasm rather than a sort's kilobyte.
        if let Err(at) = out.binary_search(&t)
            && out.len() <= MAX_THRESHOLDS
        {
            out.insert(at, t);
        }
    }
    if out.len() > MAX_THRESHOLDS {
        return Err(err(format!("SplitByWaitTime takes at most {MAX_THRESHOLDS} thresholds")));
    }
    Ok(out)
}

/// The parameters of Statistics and CumulativeStatistics (RealTimeStatistics uses only
/// `task_channel`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatisticsQuery {
    pub window: WindowSpec,
    /// A channel's unique name or `TC…` sid; checked against known channels by the server.
    pub task_channel: Option<String>,
    /// `None` when `SplitByWaitTime` was not given: the response then has a null split.
    pub split_by_wait_time: Option<Vec<u32>>,
}

impl StatisticsQuery {
    /// Parses decoded query pairs. Unknown parameters are ignored, as Twilio does; a known
    /// one given twice is an error rather than a silent pick.
    pub fn parse<'a, I>(pairs: I) -> Result<Self, QueryError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut minutes = None;
        let mut start = None;
        let mut end = None;
        let mut query = Self::default();
        for (key, value) in pairs {
            match key {
                "Minutes" => set_once(&mut minutes, key, parse_minutes(value)?)?,
                "StartDate" => set_once(&mut start, key, DateBound::parse(key, value)?)?,
                "EndDate" => set_once(&mut end, key, DateBound::parse(key, value)?)?,
                "TaskChannel" => set_once(&mut query.task_channel, key, parse_channel(value)?)?,
                "SplitByWaitTime" => set_once(&mut query.split_by_wait_time, key, parse_thresholds(value)?)?,
                _ => {}
            }
        }
        query.window = match (minutes, start, end) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return Err(err("Minutes cannot be combined with StartDate or EndDate"));
            }
            (Some(m), None, None) => WindowSpec::Minutes(m),
            (None, None, None) => WindowSpec::default(),
            (None, start, end) => WindowSpec::Range { start, end },
        };
        Ok(query)
    }

    /// The query string that [`StatisticsQuery::parse`] reads back into `self`.
    pub fn to_query_string(&self) -> String {
        let mut parts = Vec::new();
        match self.window {
            WindowSpec::Minutes(m) => parts.push(format!("Minutes={m}")),
            WindowSpec::Range { start, end } => {
                if let Some(s) = start {
                    parts.push(format!("StartDate={}", encode(&s.to_param())));
                }
                if let Some(e) = end {
                    parts.push(format!("EndDate={}", encode(&e.to_param())));
                }
            }
        }
        if let Some(c) = &self.task_channel {
            parts.push(format!("TaskChannel={}", encode(c)));
        }
        if let Some(t) = &self.split_by_wait_time {
            let list: Vec<String> = t.iter().map(u32::to_string).collect();
            parts.push(format!("SplitByWaitTime={}", encode(&list.join(","))));
        }
        parts.join("&")
    }
}

/// Parses the only parameter of RealTimeStatistics.
pub fn parse_realtime_query<'a, I>(pairs: I) -> Result<Option<String>, QueryError>
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut channel = None;
    for (key, value) in pairs {
        if key == "TaskChannel" {
            set_once(&mut channel, key, parse_channel(value)?)?;
        }
    }
    Ok(channel)
}

fn set_once<T>(slot: &mut Option<T>, key: &str, value: T) -> Result<(), QueryError> {
    if slot.is_some() {
        return Err(err(format!("{key} was given more than once")));
    }
    *slot = Some(value);
    Ok(())
}

fn parse_minutes(raw: &str) -> Result<u32, QueryError> {
    let s = raw.trim();
    let bad = || {
        err(format!(
            "Minutes must be a whole number from 1 to {MAX_MINUTES}, got '{}'",
            s.chars().take(32).collect::<String>()
        ))
    };
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    match s.parse::<u32>() {
        Ok(m) if (1..=MAX_MINUTES).contains(&m) => Ok(m),
        _ => Err(bad()),
    }
}

fn parse_channel(raw: &str) -> Result<String, QueryError> {
    let s = raw.trim();
    if s.is_empty() || s.len() > 64 {
        return Err(err("TaskChannel must be a channel unique name or TC sid"));
    }
    Ok(s.to_owned())
}

/// Percent-encodes a query value (RFC 3986 unreserved characters pass through).
pub(crate) fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000_000;
    const RETENTION: i64 = 30 * DAY_MS;

    fn parse(q: &[(&str, &str)]) -> Result<StatisticsQuery, QueryError> {
        StatisticsQuery::parse(q.iter().copied())
    }

    fn window(q: &[(&str, &str)]) -> Result<Window, QueryError> {
        parse(q)?.window.resolve(NOW, RETENTION)
    }

    #[test]
    fn defaults_to_the_last_15_minutes() {
        assert_eq!(window(&[]).unwrap(), Window { start_ms: NOW - 15 * MINUTE_MS, end_ms: NOW });
        assert_eq!(window(&[("Minutes", "240")]).unwrap().start_ms, NOW - 240 * MINUTE_MS);
    }

    #[test]
    fn minutes_bounds_and_format() {
        for bad in ["0", "43201", "-5", "1.5", "", "abc", "+5", "99999999999"] {
            assert!(parse(&[("Minutes", bad)]).is_err(), "{bad}");
        }
        assert!(parse(&[("Minutes", "43200")]).is_ok());
    }

    #[test]
    fn minutes_with_dates_is_rejected() {
        assert!(parse(&[("Minutes", "5"), ("StartDate", "2023-11-14")]).is_err());
        assert!(parse(&[("Minutes", "5"), ("EndDate", "2023-11-14")]).is_err());
    }

    #[test]
    fn date_only_bounds_cover_whole_days() {
        let w = window(&[("StartDate", "2023-11-13"), ("EndDate", "2023-11-13")]).unwrap();
        assert_eq!(w.start_ms, 1_699_833_600_000);
        assert_eq!(w.end_ms, 1_699_833_600_000 + DAY_MS - 1);
    }

    #[test]
    fn start_alone_runs_to_now_and_end_alone_is_15_minutes_before_it() {
        let w = window(&[("StartDate", "2023-11-14T00:00:00Z")]).unwrap();
        assert_eq!(w, Window { start_ms: 1_699_920_000_000, end_ms: NOW });
        let w = window(&[("EndDate", "2023-11-14T10:00:00Z")]).unwrap();
        assert_eq!(w, Window { start_ms: 1_699_956_000_000 - 15 * MINUTE_MS, end_ms: 1_699_956_000_000 });
    }

    #[test]
    fn future_end_is_clipped_to_now() {
        let w = window(&[("StartDate", "2023-11-14T00:00:00Z"), ("EndDate", "2030-01-01")]).unwrap();
        assert_eq!(w.end_ms, NOW);
    }

    #[test]
    fn offsets_fractions_and_space_for_plus() {
        let a = DateBound::parse("StartDate", "2023-11-14T02:00:00+02:00").unwrap();
        let b = DateBound::parse("StartDate", "2023-11-14T02:00:00 02:00").unwrap();
        let c = DateBound::parse("StartDate", "2023-11-14T00:00:00.000Z").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.start_ms(), c.start_ms());
        assert_eq!(DateBound::parse("StartDate", "2023-11-14T00:00:00.250Z").unwrap().start_ms(), 1_699_920_000_250);
    }

    #[test]
    fn rejections() {
        assert!(window(&[("StartDate", "2023-11-14T10:00:00Z"), ("EndDate", "2023-11-14T09:00:00Z")]).is_err());
        assert!(window(&[("StartDate", "2030-01-01T00:00:00Z")]).is_err(), "start in the future");
        assert!(window(&[("StartDate", "2023-01-01")]).is_err(), "older than retention");
        assert!(parse(&[("StartDate", "yesterday")]).is_err());
        assert!(parse(&[("EndDate", "2023-13-01")]).is_err());
        assert!(parse(&[("TaskChannel", "")]).is_err());
        assert!(parse(&[("Minutes", "5"), ("Minutes", "6")]).is_err());
    }

    #[test]
    fn thresholds() {
        assert_eq!(parse_thresholds("30,5, 5").unwrap(), vec![5, 30]);
        assert_eq!(parse_thresholds("007").unwrap(), vec![7]);
        assert_eq!(parse_thresholds("0").unwrap(), vec![0]);
        for bad in ["", "5,", ",5", "-1", "1.5", "a", "5;6", "4294967296"] {
            assert!(parse_thresholds(bad).is_err(), "{bad}");
        }
        let many: Vec<String> = (0..21).map(|i| i.to_string()).collect();
        assert!(parse_thresholds(&many.join(",")).is_err());
        let twenty: Vec<String> = (0..20).map(|i| i.to_string()).collect();
        assert_eq!(parse_thresholds(&twenty.join(",")).unwrap().len(), 20);
    }

    #[test]
    fn query_string_round_trip() {
        let q = parse(&[
            ("StartDate", "2023-11-14T00:00:00.5+01:00"),
            ("EndDate", "2023-11-14"),
            ("TaskChannel", "voice"),
            ("SplitByWaitTime", "20,60"),
        ])
        .unwrap();
        let s = q.to_query_string();
        let pairs: Vec<(String, String)> = s
            .split('&')
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap();
                (k.to_owned(), decode(v))
            })
            .collect();
        let back = StatisticsQuery::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))).unwrap();
        assert_eq!(back, q);
    }

    fn decode(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    }
}
