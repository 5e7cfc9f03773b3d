//! The longest waiting task's age, ticking in the browser between snapshots.
//!
//! The server pushes on change only, not once per second, and a new subscriber gets the
//! topic's cached snapshot, which can be minutes old: a snapshot says how old the oldest
//! pending task was at `at`, and the page adds the time since `at`. That needs the server's
//! clock; the browser's is used, corrected by the server's `Date` header when the two
//! disagree by more than [`SKEW_DEADBAND_MS`] (a wall TV whose clock is off).

/// Clock differences below this are taken as measurement noise (`Date` has whole seconds).
pub const SKEW_DEADBAND_MS: f64 = 2_000.0;

/// `at` (`YYYY-MM-DDTHH:MM:SSZ`) in milliseconds since the epoch.
pub fn parse_at(at: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(at).ok().map(|t| t.timestamp_millis())
}

/// An HTTP `Date` header (`Sat, 28 Nov 2026 20:12:49 GMT`) in milliseconds since the epoch.
/// Read by hand: chrono's RFC 2822 parser would add to the wasm.
pub fn parse_http_date(value: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let parts: Vec<&str> = value.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else { return None };
    let month = MONTHS.iter().position(|m| m == month)? as u32 + 1;
    let hms: Vec<u32> = time.split(':').map(str::parse).collect::<Result<_, _>>().ok()?;
    let [h, m, s] = hms.as_slice() else { return None };
    let date = chrono::NaiveDate::from_ymd_opt(year.parse().ok()?, month, day.parse().ok()?)?;
    Some(date.and_hms_opt(*h, *m, *s)?.and_utc().timestamp_millis())
}

/// How far the browser's clock is ahead of the server's (ms), from a response `Date` of
/// `server_date_ms` received at `received_ms`; 0 within the deadband.
pub fn clock_skew(server_date_ms: i64, received_ms: f64) -> f64 {
    // `Date` is truncated to the second: its middle is the best guess.
    let skew = received_ms - (server_date_ms as f64 + 500.0);
    if skew.abs() < SKEW_DEADBAND_MS { 0.0 } else { skew }
}

/// The age in whole seconds at `now_ms` (browser clock, `skew_ms` ahead of the server's) of
/// a task that was `age_secs` old at `at_ms` (server clock); without `at`, counted from
/// when the snapshot arrived. Nothing pending (age 0) stays 0.
pub fn waiting_age_now(age_secs: u64, at_ms: Option<i64>, received_ms: f64, now_ms: f64, skew_ms: f64) -> u64 {
    if age_secs == 0 {
        return 0;
    }
    let elapsed = match at_ms {
        Some(at) => now_ms - skew_ms - at as f64,
        None => now_ms - received_ms,
    };
    age_secs + (elapsed.max(0.0) / 1000.0).floor() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    const AT: i64 = 1_795_737_600_000;

    #[test]
    fn ticks_from_at() {
        let at = Some(AT);
        let received = AT as f64 + 300.0;
        assert_eq!(waiting_age_now(42, at, received, received, 0.0), 42);
        assert_eq!(waiting_age_now(42, at, received, AT as f64 + 1000.0, 0.0), 43);
        assert_eq!(waiting_age_now(42, at, received, AT as f64 + 61_000.0, 0.0), 103);
    }

    #[test]
    fn a_cached_snapshot_counts_from_its_at_not_from_its_arrival() {
        // Nothing changed for 90 s: a new subscriber gets the snapshot of 90 s ago.
        let received = AT as f64 + 90_000.0;
        assert_eq!(waiting_age_now(10, Some(AT), received, received, 0.0), 100);
    }

    #[test]
    fn nothing_pending_stays_zero() {
        assert_eq!(waiting_age_now(0, Some(AT), AT as f64, AT as f64 + 90_000.0, 0.0), 0);
    }

    #[test]
    fn a_skewed_browser_clock_is_corrected() {
        // The browser is 10 minutes ahead of the server.
        let skew = clock_skew(AT, AT as f64 + 600_000.0 + 500.0);
        assert_eq!(skew, 600_000.0);
        let received = AT as f64 + 600_000.0;
        assert_eq!(waiting_age_now(10, Some(AT), received, received + 2_000.0, skew), 12);
        // Behind: negative skew.
        assert_eq!(clock_skew(AT, AT as f64 - 60_000.0), -60_500.0);
        // Within the deadband: no correction.
        assert_eq!(clock_skew(AT, AT as f64 + 1_900.0), 0.0);
        // No `at`: from the arrival.
        assert_eq!(waiting_age_now(10, None, received, received + 2_000.0, skew), 12);
    }

    #[test]
    fn reads_twilio_times_and_http_dates() {
        assert_eq!(parse_at("2026-11-27T00:00:00Z"), Some(AT));
        assert_eq!(parse_at("yesterday"), None);
        assert_eq!(parse_http_date("Fri, 27 Nov 2026 00:00:00 GMT"), Some(AT));
        assert_eq!(parse_http_date("Sat, 28 Nov 2026 20:12:49 GMT"), Some(AT + 86_400_000 + 72_769_000));
        for bad in ["", "Fri, 27 Nov 2026 00:00:00", "Fri, 27 Foo 2026 00:00:00 GMT", "Fri, 32 Nov 2026 00:00:00 GMT"] {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
    }
}
