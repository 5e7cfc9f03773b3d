//! How numbers look on the wall: counts, durations, percentages, "N s ago".

use chrono::{Datelike, Timelike};

/// Shown wherever a number cannot be computed (a zero denominator, no data yet).
pub const NONE: &str = "—";

/// A wait in whole seconds: `45 s`, `4:07`, `1:02:03`.
pub fn duration(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else if m > 0 {
        format!("{m}:{s:02}")
    } else {
        format!("{s} s")
    }
}

/// A share in 0..=1 (or above 1, see [`crate::model::sla::abandonment`]) as a percentage with one decimal.
pub fn percent(share: Option<f64>) -> String {
    match share.and_then(|v| percent_value(Some(v))) {
        Some(v) => format!("{v} %"),
        None => NONE.to_owned(),
    }
}

/// The number of [`percent`] without its unit (`87.5`), for `data-value`.
pub fn percent_value(share: Option<f64>) -> Option<String> {
    share.filter(|v| v.is_finite()).map(|v| tenths(v * 100.0))
}

/// A number rounded to one decimal, without a trailing `.0` (`87.5`, `80`). Integer
/// arithmetic only: float formatting is a sizeable part of a wasm binary.
pub fn tenths(v: f64) -> String {
    let t = (v * 10.0).round() as i64;
    let sign = if t < 0 { "-" } else { "" };
    let (whole, tenth) = (t.abs() / 10, t.abs() % 10);
    if tenth == 0 { format!("{sign}{whole}") } else { format!("{sign}{whole}.{tenth}") }
}

/// A count with thousands separators (`1,234`), readable from across a room.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// How long ago something was heard: `just now`, `12 s ago`, `3 min ago`, `2 h ago`.
pub fn ago(secs: u64) -> String {
    match secs {
        0 => "just now".to_owned(),
        1..=119 => format!("{secs} s ago"),
        120..=7199 => format!("{} min ago", secs / 60),
        _ => format!("{} h ago", secs / 3600),
    }
}

/// A wall-clock time `HH:MM:SS` of the instant `ms` in a zone `offset` minutes east of UTC.
pub fn clock(ms: i64, offset: i32) -> String {
    let secs = (ms.div_euclid(1000) + i64::from(offset) * 60).rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

/// The stale banner's text: since when the numbers on screen are not live. `since` is the
/// wall-clock time of the last frame, `secs_ago` how long ago that was.
pub fn stale_since(since: &str, secs_ago: u64) -> String {
    format!("Not live: these numbers are from {since} ({}). Reconnecting…", ago(secs_ago))
}

/// A window's bounds as wall-clock times: `27 Nov 09:00 – 09:15`, or with both dates when
/// it spans days. Offsets are the zone's, in minutes east of UTC, at each bound.
pub fn window(start_ms: i64, end_ms: i64, start_offset: i32, end_offset: i32) -> String {
    let local = |ms: i64, offset: i32| chrono::DateTime::from_timestamp_millis(ms + i64::from(offset) * 60_000);
    let (Some(start), Some(end)) = (local(start_ms, start_offset), local(end_ms, end_offset)) else {
        return NONE.to_owned();
    };
    // Formatted by hand: chrono's format strings would add a lot to the wasm.
    let day = |t: &chrono::DateTime<chrono::Utc>| {
        const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
        format!("{} {}", t.day(), MONTHS[t.month0() as usize % 12])
    };
    let time = |t: &chrono::DateTime<chrono::Utc>| format!("{:02}:{:02}", t.hour(), t.minute());
    if start.date_naive() == end.date_naive() {
        format!("{} {} – {}", day(&start), time(&start), time(&end))
    } else {
        format!("{} {} – {} {}", day(&start), time(&start), day(&end), time(&end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows() {
        let nine = 1_795_737_600_000 + 9 * 3_600_000;
        assert_eq!(window(nine, nine + 900_000, 0, 0), "27 Nov 09:00 – 09:15");
        assert_eq!(window(nine, nine + 900_000, 60, 60), "27 Nov 10:00 – 10:15");
        assert_eq!(window(nine - 86_400_000, nine, -300, -300), "26 Nov 04:00 – 27 Nov 04:00");
    }

    #[test]
    fn durations() {
        assert_eq!(duration(0), "0 s");
        assert_eq!(duration(45), "45 s");
        assert_eq!(duration(60), "1:00");
        assert_eq!(duration(247), "4:07");
        assert_eq!(duration(3723), "1:02:03");
    }

    #[test]
    fn percentages_and_missing_values() {
        assert_eq!(percent(Some(0.875)), "87.5 %");
        assert_eq!(percent(Some(1.0)), "100 %");
        assert_eq!(percent(None), NONE);
        assert_eq!(percent(Some(f64::NAN)), NONE);
    }

    #[test]
    fn tenths_without_float_formatting() {
        assert_eq!(tenths(87.54), "87.5");
        assert_eq!(tenths(80.0), "80");
        assert_eq!(tenths(0.04), "0");
        assert_eq!(tenths(-2.25), "-2.3");
        assert_eq!(percent_value(Some(0.8333)), Some("83.3".to_owned()));
        assert_eq!(percent_value(None), None);
        assert_eq!(percent(Some(0.0)), "0 %");
    }

    #[test]
    fn counts_group_thousands() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
    }

    #[test]
    fn ages() {
        assert_eq!(ago(0), "just now");
        assert_eq!(ago(12), "12 s ago");
        assert_eq!(ago(180), "3 min ago");
        assert_eq!(ago(7200), "2 h ago");
    }

    #[test]
    fn wall_clock_times() {
        // 2026-11-27T09:05:07Z
        let t = 1_795_770_307_000;
        assert_eq!(clock(t, 0), "09:05:07");
        assert_eq!(clock(t + 999, 60), "10:05:07");
        assert_eq!(clock(t, -600), "23:05:07", "the day before");
        assert_eq!(
            stale_since("09:05:07", 125),
            "Not live: these numbers are from 09:05:07 (2 min ago). Reconnecting…"
        );
    }
}
