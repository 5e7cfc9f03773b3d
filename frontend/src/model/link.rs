//! The WebSocket connection's state machine: connecting, live, reconnecting, stale, and
//! refused (the server does not accept the link's token: no more attempts).
//!
//! It owns no socket and no timer: the WebSocket client feeds it what happened (`opened`,
//! `heard`, `closed`) with the time, asks it what to do on each tick, and shows its
//! [`Badge`]. The random source of the jitter is passed in, so all of it is testable.

use super::format;

/// Exponential backoff with jitter ("equal jitter": half fixed, half random), so a server
/// restart does not see every wall reconnect in the same millisecond.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    pub base_ms: f64,
    pub cap_ms: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Self { base_ms: 500.0, cap_ms: 30_000.0 }
    }
}

impl Backoff {
    /// The delay before retry number `attempt` (0-based), `random` in `[0, 1)`.
    pub fn delay_ms(&self, attempt: u32, random: f64) -> f64 {
        let ceiling = (self.base_ms * 2f64.powi(attempt.min(30) as i32)).min(self.cap_ms);
        ceiling / 2.0 + ceiling / 2.0 * random.clamp(0.0, 1.0)
    }
}

/// Ping when the server has been silent this long (a pong proves the numbers are current:
/// the server pushes every change, so silence means "no change", if the socket is alive).
pub const PING_EVERY_MS: f64 = 5_000.0;
/// Show "stale" when nothing was heard for this long on an open socket.
pub const STALE_AFTER_MS: f64 = 12_000.0;
/// Give up on an open socket whose ping stays unanswered this long. Counted from the
/// ping, not from the last frame: a background tab whose timers the browser slows down
/// pings late, and must not take that for a dead server.
pub const PONG_TIMEOUT_MS: f64 = 15_000.0;
/// Give up on a connection attempt that neither opens nor fails in this time.
pub const CONNECT_TIMEOUT_MS: f64 = 10_000.0;

/// The least wait before the next attempt after the server said "too many failed attempts"
/// (or closed for a policy reason without saying why).
pub const RATE_LIMIT_WAIT_MS: f64 = 60_000.0;
/// A kiosk reloads the page after this long without a live connection.
pub const RELOAD_AFTER_MS: f64 = 5.0 * 60_000.0;
/// A kiosk whose token was refused tries again (by reloading) this rarely.
pub const REFUSED_RELOAD_MS: f64 = 10.0 * 60_000.0;
/// While a due reload waits for the server to be reachable, it is tried this often.
pub const RELOAD_RETRY_MS: f64 = 60_000.0;

/// Where the connection is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Phase {
    /// A socket is being opened.
    Connecting { since_ms: f64 },
    /// The socket is open.
    Open,
    /// The socket closed; the next attempt is due at `retry_at_ms`.
    Waiting { retry_at_ms: f64 },
    /// The server refused the token: no further attempt.
    Refused { since_ms: f64 },
}

/// What the client should do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Nothing,
    /// Send `{"type":"ping"}`.
    Ping,
    /// Close the socket: it is dead or never opened (then [`Link::closed`] follows).
    Drop,
}

/// The badge's state, also its `data-state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadgeState {
    /// First connection, nothing shown yet.
    Connecting,
    Live,
    Reconnecting,
    /// Connected, but the numbers may be old: silence on the socket, or the server says its
    /// source is failing.
    Stale,
    /// The server refused the link's token.
    Refused,
}

impl BadgeState {
    pub fn key(self) -> &'static str {
        match self {
            Self::Connecting => "connecting",
            Self::Live => "live",
            Self::Reconnecting => "reconnecting",
            Self::Stale => "stale",
            Self::Refused => "refused",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Connecting => "Connecting",
            Self::Live => "Live",
            Self::Reconnecting => "Reconnecting",
            Self::Stale => "Stale",
            Self::Refused => "Access refused",
        }
    }
}

/// What the badge shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Badge {
    pub state: BadgeState,
    /// Seconds since the server was last heard from, when it ever was.
    pub heard_secs_ago: Option<u64>,
    /// Seconds until the next attempt, while waiting.
    pub retry_in_secs: Option<u64>,
    /// When the server was last heard from, while the numbers shown are not live (see
    /// [`Link::stale_since`]): the stale banner says since when.
    pub stale_since_ms: Option<i64>,
}

impl Badge {
    /// The text beside the badge's label: when the server was last heard from, and while
    /// waiting to reconnect, when the next attempt is.
    pub fn detail(&self) -> Option<String> {
        let heard = self.heard_secs_ago.map(|s| format!("updated {}", format::ago(s)));
        match (self.state, self.retry_in_secs) {
            (BadgeState::Connecting, _) => None,
            (BadgeState::Reconnecting, Some(r)) if r > 0 => {
                Some(format!("retry in {r} s{}", heard.map(|h| format!(" · {h}")).unwrap_or_default()))
            }
            _ => heard,
        }
    }

    /// The stale banner's text at `now_ms`, None when there is no banner. Over numbers on
    /// screen (`showing`) that are not live it says since when (a wall-clock time in the
    /// zone `offset` gives, see `ViewState::statistics_query`); on a live link it says the
    /// server's own source is failing, when the server marks its numbers stale.
    pub fn banner(&self, showing: bool, now_ms: f64, offset: &dyn Fn(i64) -> i32) -> Option<String> {
        match self.stale_since_ms {
            Some(t) if showing => {
                let ago = ((now_ms as i64 - t).max(0) / 1000) as u64;
                Some(format::stale_since(&format::clock(t, offset(t)), ago))
            }
            None if self.state == BadgeState::Stale => {
                Some("The server's data source is failing: these numbers may be old.".to_owned())
            }
            _ => None,
        }
    }
}

/// The state machine.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    phase: Phase,
    /// Failed attempts since the server was last heard from.
    attempt: u32,
    ever_open: bool,
    last_heard_ms: Option<f64>,
    /// A ping sent since the last frame, waiting for its pong.
    ping_sent_ms: Option<f64>,
    opened_ms: f64,
    backoff: Backoff,
    /// The next retry waits at least this long (after a rate limit).
    min_delay_ms: f64,
    /// Since when no frame arrived on a working connection (None while live).
    down_since_ms: Option<f64>,
    /// A reload is not tried again before this time.
    next_reload_ms: f64,
}

impl Link {
    /// A link whose first connection attempt starts at `now_ms`.
    pub fn new(backoff: Backoff, now_ms: f64) -> Self {
        Self {
            phase: Phase::Connecting { since_ms: now_ms },
            attempt: 0,
            ever_open: false,
            last_heard_ms: None,
            ping_sent_ms: None,
            opened_ms: now_ms,
            backoff,
            min_delay_ms: 0.0,
            down_since_ms: Some(now_ms),
            next_reload_ms: 0.0,
        }
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// A new attempt starts.
    pub fn connecting(&mut self, now_ms: f64) {
        self.phase = Phase::Connecting { since_ms: now_ms };
    }

    /// The socket opened; true when this is a reconnection (resubscribe, check the build).
    pub fn opened(&mut self, now_ms: f64) -> bool {
        self.phase = Phase::Open;
        self.ping_sent_ms = None;
        self.opened_ms = now_ms;
        let again = self.ever_open;
        self.ever_open = true;
        again
    }

    /// A frame arrived: the server is alive, the backoff starts over.
    pub fn heard(&mut self, now_ms: f64) {
        self.last_heard_ms = Some(now_ms);
        self.ping_sent_ms = None;
        self.attempt = 0;
        self.down_since_ms = None;
    }

    /// The server refused the token (code 20003): the socket is closing, and no attempt
    /// follows (each would count towards the server's failed-attempt limit).
    pub fn refused(&mut self, now_ms: f64) {
        self.phase = Phase::Refused { since_ms: now_ms };
    }

    /// The server says too many attempts failed (code 20429), or closed for a policy
    /// reason: the next attempt waits at least [`RATE_LIMIT_WAIT_MS`].
    pub fn rate_limited(&mut self) {
        self.min_delay_ms = RATE_LIMIT_WAIT_MS;
    }

    /// The socket closed or failed; returns the delay before the next attempt, None when
    /// there is none (refused). A second close for the same failure (`error` then `close`)
    /// does not push the retry further.
    pub fn closed(&mut self, now_ms: f64, random: &mut dyn FnMut() -> f64) -> Option<f64> {
        match self.phase {
            Phase::Refused { .. } => return None,
            Phase::Waiting { retry_at_ms } => return Some((retry_at_ms - now_ms).max(0.0)),
            _ => {}
        }
        let delay = self.backoff.delay_ms(self.attempt, random()).max(self.min_delay_ms);
        self.min_delay_ms = 0.0;
        self.attempt = self.attempt.saturating_add(1);
        self.down_since_ms.get_or_insert(now_ms);
        self.phase = Phase::Waiting { retry_at_ms: now_ms + delay };
        Some(delay)
    }

    /// Since when the numbers on screen are not live: the last frame heard, while the
    /// connection is down or silent. None while live, before anything was heard, and once
    /// refused (the page says so instead).
    pub fn stale_since(&self, now_ms: f64) -> Option<f64> {
        let heard = self.last_heard_ms?;
        let live = match self.phase {
            Phase::Open => self.silence_ms(now_ms) < STALE_AFTER_MS,
            Phase::Refused { .. } => true,
            _ => false,
        };
        (!live).then_some(heard)
    }

    /// Whether a kiosk should reload the page now: after [`RELOAD_AFTER_MS`] without a
    /// working connection, or [`REFUSED_RELOAD_MS`] after a refusal (a new token may have
    /// been put in place). True at most once per [`RELOAD_RETRY_MS`], so a server that
    /// cannot be reached is not asked every second whether it is back.
    pub fn reload_due(&mut self, now_ms: f64) -> bool {
        let due = match self.phase {
            Phase::Refused { since_ms } => now_ms - since_ms >= REFUSED_RELOAD_MS,
            Phase::Open => false,
            _ => self.down_since_ms.is_some_and(|t| now_ms - t >= RELOAD_AFTER_MS),
        };
        if due && now_ms >= self.next_reload_ms {
            self.next_reload_ms = now_ms + RELOAD_RETRY_MS;
            return true;
        }
        false
    }

    /// Called every second or so.
    pub fn tick(&mut self, now_ms: f64) -> Action {
        match self.phase {
            Phase::Connecting { since_ms } if now_ms - since_ms >= CONNECT_TIMEOUT_MS => Action::Drop,
            Phase::Open => match self.ping_sent_ms {
                Some(sent) if now_ms - sent >= PONG_TIMEOUT_MS => Action::Drop,
                None if self.silence_ms(now_ms) >= PING_EVERY_MS => {
                    self.ping_sent_ms = Some(now_ms);
                    Action::Ping
                }
                _ => Action::Nothing,
            },
            _ => Action::Nothing,
        }
    }

    /// How long the open socket has been silent: since the last frame, or since it opened
    /// when it has delivered none yet.
    fn silence_ms(&self, now_ms: f64) -> f64 {
        now_ms - self.last_heard_ms.unwrap_or(f64::NEG_INFINITY).max(self.opened_ms)
    }

    /// The badge at `now_ms`; `server_stale` when a shown snapshot is marked stale.
    pub fn badge(&self, now_ms: f64, server_stale: bool) -> Badge {
        let heard_secs_ago = self.last_heard_ms.map(|t| ((now_ms - t).max(0.0) / 1000.0).floor() as u64);
        let (state, retry_in_secs) = match self.phase {
            Phase::Connecting { .. } if !self.ever_open => (BadgeState::Connecting, None),
            Phase::Connecting { .. } => (BadgeState::Reconnecting, None),
            Phase::Waiting { retry_at_ms } => {
                let secs = ((retry_at_ms - now_ms).max(0.0) / 1000.0).ceil() as u64;
                (if self.ever_open { BadgeState::Reconnecting } else { BadgeState::Connecting }, Some(secs))
            }
            Phase::Open => {
                let silent = self.silence_ms(now_ms) >= STALE_AFTER_MS;
                (if server_stale || silent { BadgeState::Stale } else { BadgeState::Live }, None)
            }
            Phase::Refused { .. } => (BadgeState::Refused, None),
        };
        Badge { state, heard_secs_ago, retry_in_secs, stale_since_ms: self.stale_since(now_ms).map(|t| t as i64) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn badge(state: BadgeState, heard: Option<u64>, retry: Option<u64>, stale_since_ms: Option<i64>) -> Badge {
        Badge { state, heard_secs_ago: heard, retry_in_secs: retry, stale_since_ms }
    }

    #[test]
    fn badge_details() {
        use BadgeState::*;
        assert_eq!(badge(Connecting, Some(3), Some(2), None).detail(), None);
        assert_eq!(badge(Live, Some(0), None, None).detail().as_deref(), Some("updated just now"));
        assert_eq!(badge(Live, None, None, None).detail(), None);
        assert_eq!(
            badge(Reconnecting, Some(12), Some(4), None).detail().as_deref(),
            Some("retry in 4 s · updated 12 s ago")
        );
        assert_eq!(badge(Reconnecting, None, Some(4), None).detail().as_deref(), Some("retry in 4 s"));
        assert_eq!(badge(Reconnecting, Some(12), Some(0), None).detail().as_deref(), Some("updated 12 s ago"));
        assert_eq!(badge(Stale, Some(180), None, None).detail().as_deref(), Some("updated 3 min ago"));
    }

    #[test]
    fn stale_banners() {
        let utc = |_: i64| 0;
        let t = 1_795_770_000_000; // 2026-11-27T09:00:00Z
        let now = t as f64 + 42_500.0;
        let down = badge(BadgeState::Reconnecting, Some(42), Some(3), Some(t));
        assert_eq!(
            down.banner(true, now, &utc).as_deref(),
            Some("Not live: these numbers are from 09:00:00 (42 s ago). Reconnecting…")
        );
        assert_eq!(
            down.banner(true, now, &|_| 60).as_deref(),
            Some("Not live: these numbers are from 10:00:00 (42 s ago). Reconnecting…"),
            "in the chosen zone"
        );
        assert_eq!(down.banner(false, now, &utc), None, "no numbers on screen: nothing to warn about");
        let failing = badge(BadgeState::Stale, Some(1), None, None);
        assert!(failing.banner(true, now, &utc).is_some_and(|b| b.contains("data source is failing")));
        assert!(failing.banner(false, now, &utc).is_some());
        assert_eq!(badge(BadgeState::Live, Some(1), None, None).banner(true, now, &utc), None);
    }

    fn fixed(r: f64) -> impl FnMut() -> f64 {
        move || r
    }

    #[test]
    fn backoff_grows_to_its_cap_with_jitter() {
        let b = Backoff::default();
        assert_eq!(b.delay_ms(0, 0.0), 250.0);
        assert_eq!(b.delay_ms(0, 1.0), 500.0);
        assert_eq!(b.delay_ms(3, 0.5), 3000.0);
        assert_eq!(b.delay_ms(10, 0.0), 15_000.0);
        assert_eq!(b.delay_ms(10, 1.0), 30_000.0);
        assert_eq!(b.delay_ms(u32::MAX, 1.0), 30_000.0);
        assert_eq!(b.delay_ms(1, 7.0), 1000.0, "random is clamped");
    }

    #[test]
    fn first_connection_then_live() {
        let mut l = Link::new(Backoff::default(), 0.0);
        assert_eq!(l.badge(0.0, false).state, BadgeState::Connecting);
        assert!(!l.opened(100.0));
        assert_eq!(l.badge(100.0, false).state, BadgeState::Live);
        l.heard(150.0);
        let b = l.badge(2_200.0, false);
        assert_eq!((b.state, b.heard_secs_ago), (BadgeState::Live, Some(2)));
    }

    #[test]
    fn drop_reconnect_and_backoff_reset() {
        let mut l = Link::new(Backoff::default(), 0.0);
        l.opened(0.0);
        l.heard(0.0);
        let mut random = fixed(0.0);
        assert_eq!(l.closed(1_000.0, &mut random), Some(250.0));
        assert_eq!(l.closed(1_010.0, &mut random), Some(240.0), "error then close: same retry");
        let b = l.badge(1_000.0, false);
        assert_eq!((b.state, b.retry_in_secs, b.heard_secs_ago), (BadgeState::Reconnecting, Some(1), Some(1)));
        l.connecting(1_250.0);
        assert_eq!(l.badge(1_250.0, false).state, BadgeState::Reconnecting);
        assert_eq!(l.closed(1_300.0, &mut random), Some(500.0), "second failure waits longer");
        l.connecting(1_800.0);
        assert_eq!(l.closed(1_900.0, &mut random), Some(1_000.0));
        l.connecting(2_900.0);
        assert!(l.opened(3_000.0), "a reconnection");
        assert_eq!(l.badge(3_000.0, false).state, BadgeState::Live);
        l.heard(3_100.0);
        assert_eq!(l.closed(4_000.0, &mut random), Some(250.0), "hearing the server resets the backoff");
    }

    #[test]
    fn jitter_comes_from_the_injected_source() {
        let mut l = Link::new(Backoff::default(), 0.0);
        let mut values = [0.25, 0.75].into_iter();
        let mut random = move || values.next().unwrap_or(0.0);
        assert_eq!(l.closed(0.0, &mut random), Some(312.5));
        l.connecting(400.0);
        assert_eq!(l.closed(500.0, &mut random), Some(875.0));
    }

    #[test]
    fn pings_on_silence_and_drops_dead_sockets() {
        let mut l = Link::new(Backoff::default(), 0.0);
        l.opened(0.0);
        assert_eq!(l.tick(PING_EVERY_MS - 1.0), Action::Nothing);
        assert_eq!(l.tick(PING_EVERY_MS), Action::Ping);
        assert_eq!(l.tick(PING_EVERY_MS + 1000.0), Action::Nothing, "one ping at a time");
        // The pong: silence starts over.
        l.heard(6_000.0);
        assert_eq!(l.tick(6_000.0 + PING_EVERY_MS - 1.0), Action::Nothing);
        assert_eq!(l.tick(6_000.0 + PING_EVERY_MS), Action::Ping);
        assert_eq!(l.badge(6_000.0 + STALE_AFTER_MS - 1.0, false).state, BadgeState::Live);
        assert_eq!(l.badge(6_000.0 + STALE_AFTER_MS, false).state, BadgeState::Stale, "silence");
        assert_eq!(l.tick(6_000.0 + PING_EVERY_MS + PONG_TIMEOUT_MS - 1.0), Action::Nothing);
        assert_eq!(l.tick(6_000.0 + PING_EVERY_MS + PONG_TIMEOUT_MS), Action::Drop, "unanswered ping");
    }

    #[test]
    fn late_ticks_of_a_background_tab_ping_before_giving_up() {
        let mut l = Link::new(Backoff::default(), 0.0);
        l.opened(0.0);
        l.heard(0.0);
        // The browser ran no timer for a minute: the first tick pings, it does not drop.
        assert_eq!(l.tick(60_000.0), Action::Ping);
        l.heard(60_010.0);
        assert_eq!(l.tick(120_000.0), Action::Ping);
        assert_eq!(l.tick(180_000.0), Action::Drop, "that ping got no answer in a minute");
    }

    #[test]
    fn server_side_staleness_and_connect_timeout() {
        let mut l = Link::new(Backoff::default(), 0.0);
        assert_eq!(l.tick(9_000.0), Action::Nothing);
        assert_eq!(l.tick(10_000.0), Action::Drop);
        let mut random = fixed(0.5);
        l.closed(10_000.0, &mut random);
        assert_eq!(l.badge(10_000.0, false).state, BadgeState::Connecting, "never connected yet");
        l.connecting(11_000.0);
        l.opened(11_100.0);
        l.heard(11_200.0);
        assert_eq!(l.badge(11_300.0, true).state, BadgeState::Stale);
        assert_eq!(l.badge(11_300.0, false).state, BadgeState::Live);
    }

    #[test]
    fn a_refused_token_is_not_tried_again() {
        let mut l = Link::new(Backoff::default(), 0.0);
        l.opened(100.0);
        // The error frame (code 20003), then the close (1008).
        l.heard(150.0);
        l.refused(150.0);
        let mut random = fixed(0.0);
        assert_eq!(l.closed(160.0, &mut random), None, "no reconnect");
        assert_eq!(l.closed(170.0, &mut random), None, "error then close: still none");
        assert_eq!(l.badge(200.0, false).state, BadgeState::Refused);
        assert_eq!(l.tick(100_000.0), Action::Nothing, "no ping, no drop");
        assert_eq!(l.stale_since(200.0), None, "the page says refused instead");
        // A kiosk reloads rarely to see whether a new token works.
        assert!(!l.reload_due(150.0 + RELOAD_AFTER_MS));
        assert!(!l.reload_due(150.0 + REFUSED_RELOAD_MS - 1.0));
        assert!(l.reload_due(150.0 + REFUSED_RELOAD_MS));
        assert!(!l.reload_due(150.0 + REFUSED_RELOAD_MS + 1_000.0), "server not reachable: wait");
        assert!(l.reload_due(150.0 + REFUSED_RELOAD_MS + RELOAD_RETRY_MS));
    }

    #[test]
    fn rate_limited_waits_a_minute_at_least() {
        let mut l = Link::new(Backoff::default(), 0.0);
        l.opened(0.0);
        l.heard(10.0);
        l.rate_limited();
        let mut random = fixed(1.0);
        assert_eq!(l.closed(20.0, &mut random), Some(RATE_LIMIT_WAIT_MS));
        let b = l.badge(20.0, false);
        assert_eq!((b.state, b.retry_in_secs), (BadgeState::Reconnecting, Some(60)));
        l.connecting(20.0 + RATE_LIMIT_WAIT_MS);
        assert_eq!(l.closed(70_000.0, &mut random), Some(1_000.0), "only the one retry waits that long");
        // Backoff beyond the minute stays.
        let mut slow = Link::new(Backoff { base_ms: 100_000.0, cap_ms: 200_000.0 }, 0.0);
        slow.rate_limited();
        assert_eq!(slow.closed(0.0, &mut random), Some(100_000.0));
    }

    #[test]
    fn stale_banner_and_reload_after_a_long_disconnect() {
        let mut l = Link::new(Backoff::default(), 0.0);
        assert_eq!(l.stale_since(1_000.0), None, "nothing shown yet");
        l.opened(1_000.0);
        l.heard(2_000.0);
        assert_eq!(l.stale_since(3_000.0), None, "live");
        assert_eq!(l.stale_since(2_000.0 + STALE_AFTER_MS), Some(2_000.0), "silent");
        l.heard(20_000.0);
        let mut random = fixed(0.0);
        l.closed(30_000.0, &mut random);
        assert_eq!(l.stale_since(30_000.0), Some(20_000.0), "since the last frame");
        assert!(!l.reload_due(30_000.0 + RELOAD_AFTER_MS - 1.0));
        l.connecting(31_000.0);
        l.closed(32_000.0, &mut random);
        assert!(l.reload_due(30_000.0 + RELOAD_AFTER_MS), "five minutes down (since the close)");
        assert!(!l.reload_due(30_000.0 + RELOAD_AFTER_MS + 1.0), "not every tick");
        l.connecting(400_000.0);
        l.opened(400_100.0);
        assert!(!l.reload_due(400_100.0 + RELOAD_AFTER_MS), "open");
        l.heard(400_200.0);
        assert_eq!(l.stale_since(400_300.0), None);
        l.closed(500_000.0, &mut random);
        assert!(!l.reload_due(500_000.0 + RELOAD_AFTER_MS - 1.0), "a new outage counts from its start");
        assert!(l.reload_due(500_000.0 + RELOAD_AFTER_MS));
    }

    #[test]
    fn never_connecting_counts_from_the_start() {
        let mut l = Link::new(Backoff::default(), 0.0);
        let mut random = fixed(0.0);
        l.closed(10.0, &mut random);
        assert!(l.reload_due(RELOAD_AFTER_MS));
    }
}
