//! The failed-authentication limit: an address that fails `max_failures` times within
//! `window` is refused (429) for `block`, whatever it sends, so credentials and tokens
//! cannot be guessed at speed. Time comes from the injected clock.
//!
//! It is keyed by the peer address: behind a reverse proxy every client shares one key.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// Addresses remembered at most; beyond it, forgotten entries are swept first.
const MAX_TRACKED: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Strikes {
    window_start_ms: i64,
    count: u32,
    blocked_until_ms: i64,
}

#[derive(Debug)]
pub struct FailedAuthLimiter {
    max_failures: u32,
    window_ms: i64,
    block_ms: i64,
    strikes: Mutex<HashMap<IpAddr, Strikes>>,
}

impl Default for FailedAuthLimiter {
    /// 10 failures a minute, then a minute's block.
    fn default() -> Self {
        Self::new(10, 60_000, 60_000)
    }
}

impl FailedAuthLimiter {
    pub fn new(max_failures: u32, window_ms: i64, block_ms: i64) -> Self {
        Self { max_failures: max_failures.max(1), window_ms, block_ms, strikes: Mutex::new(HashMap::new()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Strikes>> {
        self.strikes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Ok when `ip` may try to authenticate; Err(milliseconds to wait) while it is blocked.
    pub fn check(&self, ip: IpAddr, now_ms: i64) -> Result<(), i64> {
        match self.lock().get(&ip) {
            Some(s) if s.blocked_until_ms > now_ms => Err(s.blocked_until_ms - now_ms),
            _ => Ok(()),
        }
    }

    /// Counts a failed attempt of `ip`.
    pub fn fail(&self, ip: IpAddr, now_ms: i64) {
        let mut strikes = self.lock();
        if strikes.len() >= MAX_TRACKED && !strikes.contains_key(&ip) {
            let window = self.window_ms;
            strikes.retain(|_, s| s.blocked_until_ms > now_ms || s.window_start_ms + window > now_ms);
            if strikes.len() >= MAX_TRACKED {
                // Still full of live entries: refuse to grow (new addresses go untracked).
                return;
            }
        }
        let s = strikes.entry(ip).or_insert(Strikes { window_start_ms: now_ms, count: 0, blocked_until_ms: 0 });
        if now_ms - s.window_start_ms >= self.window_ms {
            s.window_start_ms = now_ms;
            s.count = 0;
        }
        s.count += 1;
        if s.count >= self.max_failures && s.blocked_until_ms <= now_ms {
            s.blocked_until_ms = now_ms + self.block_ms;
            s.count = 0;
            s.window_start_ms = now_ms;
            tracing::warn!(peer = %ip, block_secs = self.block_ms / 1000, "too many failed authentication attempts; blocking the address");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_limit_then_forgives() {
        let l = FailedAuthLimiter::new(3, 60_000, 30_000);
        let ip: IpAddr = "10.0.0.1".parse().expect("ip");
        let other: IpAddr = "10.0.0.2".parse().expect("ip");
        l.fail(ip, 0);
        l.fail(ip, 1);
        assert_eq!(l.check(ip, 2), Ok(()));
        l.fail(ip, 2);
        assert_eq!(l.check(ip, 3), Err(29_999));
        assert_eq!(l.check(other, 3), Ok(()), "other addresses are not affected");
        assert_eq!(l.check(ip, 30_002), Ok(()));
    }

    #[test]
    fn failures_spread_beyond_the_window_do_not_block() {
        let l = FailedAuthLimiter::new(3, 1000, 30_000);
        let ip: IpAddr = "::1".parse().expect("ip");
        for t in [0, 600, 1200, 1800, 2400] {
            l.fail(ip, t);
            assert_eq!(l.check(ip, t), Ok(()), "at {t}");
        }
    }
}
