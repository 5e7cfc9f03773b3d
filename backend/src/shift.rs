//! "Today" as each contact center counts it: the start of the current day for a
//! [`Day`] (a local reset time in an IANA time zone), with the zone's daylight-saving rules
//! (chrono-tz), so a day is the local day: 23, 24 or 25 hours long, never off by the
//! offset's change. Imports nothing of the crate.

use std::str::FromStr;

use chrono::{Duration, LocalResult, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use wallboard_shared::service_level::Day;

/// Why a day setting is refused.
pub fn check(day: &Day) -> Result<(), String> {
    day.minutes().ok_or_else(|| format!("DayStartsAt must be HH:MM, got '{}'", day.starts_at))?;
    zone(day).map(drop)
}

fn zone(day: &Day) -> Result<Tz, String> {
    time_zone(&day.time_zone)
}

/// An IANA time zone by name (`TimeZone` wherever it is a parameter or a setting), or why
/// not.
pub fn time_zone(name: &str) -> Result<Tz, String> {
    Tz::from_str(name).map_err(|_| {
        let name: String = name.chars().take(64).collect();
        format!("TimeZone '{name}' is not an IANA time zone (e.g. Europe/Paris, America/New_York)")
    })
}

/// The instant (ms since the epoch) the local date `date` reaches `minutes` after midnight
/// in `tz`: the first instant after a gap, the first of two in a fold.
fn reset_on(tz: Tz, date: NaiveDate, minutes: u32) -> Option<i64> {
    let local = date.and_hms_opt(minutes / 60, minutes % 60, 0)?;
    // A gap is at most a few hours wide; step forward by minutes until the clock exists.
    for skip in 0..=(4 * 60) {
        let t = local + Duration::minutes(skip);
        match tz.from_local_datetime(&t) {
            LocalResult::Single(x) => return Some(x.timestamp_millis()),
            LocalResult::Ambiguous(first, _) => return Some(first.timestamp_millis()),
            LocalResult::None => {}
        }
    }
    None
}

/// The start of "today" at `now_ms` for `day` (ms since the epoch): the latest local reset
/// at or before now. An invalid setting counts from midnight UTC (and was refused when
/// stored).
pub fn today_start_ms(now_ms: i64, day: &Day) -> i64 {
    let utc_midnight = now_ms - now_ms.rem_euclid(86_400_000);
    let (Some(minutes), Ok(tz)) = (day.minutes(), zone(day)) else { return utc_midnight };
    let Some(now) = Utc.timestamp_millis_opt(now_ms).single() else { return utc_midnight };
    let today = now.with_timezone(&tz).date_naive();
    [Some(today), today.pred_opt(), today.pred_opt().and_then(|d| d.pred_opt())]
        .into_iter()
        .flatten()
        .filter_map(|d| reset_on(tz, d, minutes))
        .find(|start| *start <= now_ms)
        .unwrap_or(utc_midnight)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(at: &str, tz: &str) -> Day {
        Day { starts_at: at.into(), time_zone: tz.into() }
    }

    fn ms(rfc3339: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(rfc3339).expect("time").timestamp_millis()
    }

    #[test]
    fn midnight_utc_by_default() {
        assert_eq!(today_start_ms(ms("2026-12-01T13:45:00Z"), &Day::default()), ms("2026-12-01T00:00:00Z"));
        assert_eq!(today_start_ms(ms("2026-12-01T00:00:00Z"), &Day::default()), ms("2026-12-01T00:00:00Z"));
    }

    #[test]
    fn a_morning_shift_in_a_zone() {
        let d = day("06:00", "Europe/Paris");
        // 07:00 in Paris (CET, +1): the day began at 06:00 local = 05:00Z.
        assert_eq!(today_start_ms(ms("2026-12-01T06:00:00Z"), &d), ms("2026-12-01T05:00:00Z"));
        // 05:30 in Paris: still yesterday's shift day.
        assert_eq!(today_start_ms(ms("2026-12-01T04:30:00Z"), &d), ms("2026-11-30T05:00:00Z"));
        // New York (EST, −5), reset at 22:00: 01:00 local on Dec 1 belongs to the day from Nov 30 22:00.
        let ny = day("22:00", "America/New_York");
        assert_eq!(today_start_ms(ms("2026-12-01T06:00:00Z"), &ny), ms("2026-12-01T03:00:00Z"));
    }

    #[test]
    fn daylight_saving_days_are_local_days() {
        let d = day("00:00", "Europe/Paris");
        // Clocks go back on 2026-10-25 (03:00 CEST → 02:00 CET): that local day is 25 hours
        // long. Its midnight is 2026-10-24T22:00Z (CEST), and at 23:30 local (22:30Z) the
        // day is 24.5 h old, not 25.5 h (a fixed +1 offset) nor reset an hour late.
        let late = ms("2026-10-25T22:30:00Z");
        assert_eq!(today_start_ms(late, &d), ms("2026-10-24T22:00:00Z"));
        assert!(late - today_start_ms(late, &d) <= 25 * 3_600_000);
        // The next day starts at midnight CET = 23:00Z.
        assert_eq!(today_start_ms(ms("2026-10-25T23:30:00Z"), &d), ms("2026-10-25T23:00:00Z"));
        // Clocks go forward on 2026-03-29 (02:00 CET → 03:00 CEST): a 02:30 reset does not
        // exist that day; it is the first instant after the gap, 03:00 CEST = 01:00Z.
        let gap = day("02:30", "Europe/Paris");
        assert_eq!(today_start_ms(ms("2026-03-29T12:00:00Z"), &gap), ms("2026-03-29T01:00:00Z"));
        // A reset at 02:30 on the night clocks go back happens twice: the first counts.
        assert_eq!(today_start_ms(ms("2026-10-25T12:00:00Z"), &gap), ms("2026-10-25T00:30:00Z"));
    }

    #[test]
    fn bad_settings_are_refused() {
        assert!(check(&day("06:00", "Europe/Paris")).is_ok());
        assert!(check(&day("06:00", "Mars/Olympus")).is_err());
        assert!(check(&day("6am", "UTC")).is_err());
        // And count from midnight UTC if ever met.
        assert_eq!(today_start_ms(ms("2026-12-01T13:45:00Z"), &day("06:00", "Nowhere")), ms("2026-12-01T00:00:00Z"));
    }
}
