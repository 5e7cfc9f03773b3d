//! A wall screen left alone for weeks: burn-in protection and the watchdog's heartbeat.
//!
//! **Burn-in.** A kiosk's layout never stands still for long: every step (`burnin=N`
//! seconds, [`BURN_IN_STEP_SECS`] by default, `burnin=0` off) it moves one CSS pixel along
//! the outline of a square [`BURN_IN_PX`] from its place, so static edges (card borders,
//! labels) do not mark an OLED or plasma panel. The offset is a padding moved from one side
//! to the other (the stylesheet's `--burn-x`/`--burn-y`), so nothing grows: no scrollbar, no
//! cut text. The position follows the wall clock, so a reload continues the orbit.
//!
//! **Daily fresh start.** A kiosk loads itself again once a day, at [`REFRESH_HOUR`] of
//! the browser's local time (`refresh=H`, `refresh=off`), once the server answers: whatever a
//! long-lived page accumulates (the wasm heap never shrinks; Leptos 0.8 keeps an entry per
//! disposed effect in the signals it read, about 2 KiB per page a rotation mounts) starts
//! from zero every day. The last-hour charts come back full from the server's history.
//!
//! **Heartbeat.** `frontend/boot.js` (not the wasm it watches) reloads a kiosk whose app
//! stopped beating; the app beats from an animation frame each second while its connection
//! is not lost for good ([`connection_lost`]).

use super::link::{Badge, BadgeState};

/// Default seconds between two steps of the burn-in orbit (a full orbit: 24 steps, 72 min).
pub const BURN_IN_STEP_SECS: u32 = 180;
/// How far the layout moves from its place, at most, in CSS pixels on each axis.
pub const BURN_IN_PX: i32 = 3;
/// The longest step a link may ask for (a day).
pub const MAX_BURN_IN_STEP_SECS: u32 = 86_400;
/// Without a word from the server for this long (and not refused), the app stops beating,
/// so the watchdog loads the page again once the server answers.
pub const LOST_AFTER_SECS: u64 = 600;

/// The browser's local hour at which a kiosk loads itself again each day, by default.
pub const REFRESH_HOUR: u8 = 4;

/// Milliseconds from `now_ms` (UTC) to the next `hour`:00 local time, the local time being
/// UTC + `offset_minutes`; a full day when it is that moment now.
pub fn ms_until_hour(now_ms: f64, offset_minutes: i32, hour: u8) -> f64 {
    const DAY_MS: f64 = 86_400_000.0;
    let local = now_ms + f64::from(offset_minutes) * 60_000.0;
    let target = (local / DAY_MS).floor() * DAY_MS + f64::from(hour.min(23)) * 3_600_000.0;
    let wait = target - local;
    if wait > 0.0 { wait } else { wait + DAY_MS }
}

/// Steps in one orbit: the outline of the square, one pixel per step.
pub const ORBIT_STEPS: u64 = 8 * BURN_IN_PX as u64;

/// The offset `(x, y)` in CSS pixels at step `step` of the orbit: the outline of the square
/// of half-size [`BURN_IN_PX`] around the layout's place, clockwise from its top-left
/// corner, one pixel per step; periodic with [`ORBIT_STEPS`].
pub fn burn_in_offset(step: u64) -> (i32, i32) {
    let r = BURN_IN_PX;
    let side = 2 * r;
    // Below ORBIT_STEPS: fits an i32.
    let k = (step % ORBIT_STEPS) as i32;
    let t = k % side;
    match k / side {
        0 => (-r + t, -r),
        1 => (r, -r + t),
        2 => (r - t, r),
        _ => (-r, r - t),
    }
}

/// The orbit's step at wall-clock time `now_ms` with steps of `step_secs`.
pub fn burn_in_step(now_ms: f64, step_secs: u32) -> u64 {
    let step_ms = f64::from(step_secs.max(1)) * 1000.0;
    (now_ms.max(0.0) / step_ms).floor() as u64
}

/// Whether the app has lost its server for good: not live (nor refused, which a reload
/// does not mend) and nothing heard for [`LOST_AFTER_SECS`], counting from the page's load
/// when the server was never heard.
pub fn connection_lost(badge: &Badge, since_load_secs: u64) -> bool {
    match badge.state {
        BadgeState::Live | BadgeState::Refused => false,
        BadgeState::Connecting | BadgeState::Reconnecting | BadgeState::Stale => {
            badge.heard_secs_ago.unwrap_or(since_load_secs) >= LOST_AFTER_SECS
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_orbit_is_bounded_gentle_and_periodic() {
        let orbit: Vec<(i32, i32)> = (0..ORBIT_STEPS).map(burn_in_offset).collect();
        for &(x, y) in &orbit {
            assert!(x.abs() <= BURN_IN_PX && y.abs() <= BURN_IN_PX, "({x}, {y}) out of bounds");
            assert!(x.abs() == BURN_IN_PX || y.abs() == BURN_IN_PX, "({x}, {y}) is on the outline");
        }
        // Every position once per orbit: the wear is spread.
        let mut distinct = orbit.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), orbit.len());
        // One pixel on one axis per step, the last step back to the first position too.
        for k in 0..ORBIT_STEPS {
            let ((x0, y0), (x1, y1)) = (burn_in_offset(k), burn_in_offset(k + 1));
            assert_eq!((x1 - x0).abs() + (y1 - y0).abs(), 1, "step {k}: ({x0}, {y0}) -> ({x1}, {y1})");
        }
        for k in [0, 5, 23, 1_000_003] {
            assert_eq!(burn_in_offset(k), burn_in_offset(k + ORBIT_STEPS), "periodic at {k}");
        }
        assert_eq!(burn_in_offset(0), (-BURN_IN_PX, -BURN_IN_PX));
    }

    #[test]
    fn the_step_follows_the_wall_clock() {
        assert_eq!(burn_in_step(0.0, 180), 0);
        assert_eq!(burn_in_step(179_999.0, 180), 0);
        assert_eq!(burn_in_step(180_000.0, 180), 1);
        assert_eq!(burn_in_step(1_764_650_000_000.0, 180), 9_803_611);
        assert_eq!(burn_in_step(5_000.0, 0), 5, "a zero step is taken as one second");
        assert_eq!(burn_in_step(-1.0, 180), 0);
    }

    fn badge(state: BadgeState, heard: Option<u64>) -> Badge {
        Badge { state, heard_secs_ago: heard, retry_in_secs: None, stale_since_ms: None }
    }

    #[test]
    fn the_connection_is_lost_after_ten_silent_minutes_unless_refused() {
        let lost = LOST_AFTER_SECS;
        assert!(!connection_lost(&badge(BadgeState::Live, Some(lost * 2)), lost * 2));
        assert!(!connection_lost(&badge(BadgeState::Refused, None), lost * 2), "a reload does not mend it");
        for state in [BadgeState::Reconnecting, BadgeState::Stale, BadgeState::Connecting] {
            assert!(!connection_lost(&badge(state, Some(lost - 1)), lost * 2), "{state:?}");
            assert!(connection_lost(&badge(state, Some(lost)), 0), "{state:?}");
        }
        // Never heard: counted from the page's load.
        assert!(!connection_lost(&badge(BadgeState::Connecting, None), lost - 1));
        assert!(connection_lost(&badge(BadgeState::Connecting, None), lost));
    }

    #[test]
    fn the_daily_refresh_is_at_the_next_local_hour() {
        const H: f64 = 3_600_000.0;
        // 2026-12-02T01:30Z.
        let now = 1_796_169_600_000.0 + 1.5 * H;
        assert_eq!(now % (24.0 * H), 1.5 * H);
        assert_eq!(ms_until_hour(now, 0, 4), 2.5 * H, "UTC: 04:00 is 2.5 h away");
        assert_eq!(ms_until_hour(now, 60, 4), 1.5 * H, "UTC+1: it is 02:30 there");
        assert_eq!(ms_until_hour(now, -300, 4), 7.5 * H, "UTC-5: it is 20:30 the day before");
        assert_eq!(ms_until_hour(now, 0, 1), 23.5 * H, "01:00 has passed: tomorrow");
        assert_eq!(ms_until_hour(now - 0.5 * H, 0, 1), 24.0 * H, "exactly 01:00: a day later, not now");
        assert_eq!(ms_until_hour(now, 0, 99), 21.5 * H, "hours beyond 23 are 23");
    }
}
