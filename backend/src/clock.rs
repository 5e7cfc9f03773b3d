//! Where "now" comes from. Everything that needs the time takes a [`Clock`], so tests and
//! the simulator can run on a clock they control.

use std::fmt::Debug;
use std::sync::atomic::{AtomicI64, Ordering};

pub trait Clock: Send + Sync + Debug + 'static {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;
}

/// The machine's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        chrono::Utc::now().timestamp_millis()
    }
}

/// A clock that moves only when told to.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn new(now_ms: i64) -> Self {
        Self(AtomicI64::new(now_ms))
    }

    pub fn set(&self, now_ms: i64) {
        self.0.store(now_ms, Ordering::SeqCst);
    }

    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Another clock run faster (or slower) from the moment this one was made: for a
/// simulated contact center at more than real-time speed.
#[derive(Debug)]
pub struct ScaledClock<C: Clock> {
    inner: C,
    origin_ms: i64,
    speed: f64,
}

impl<C: Clock> ScaledClock<C> {
    pub fn new(inner: C, speed: f64) -> Self {
        let origin_ms = inner.now_ms();
        Self { inner, origin_ms, speed }
    }
}

impl<C: Clock> Clock for ScaledClock<C> {
    fn now_ms(&self) -> i64 {
        let elapsed = (self.inner.now_ms() - self.origin_ms) as f64;
        self.origin_ms + (elapsed * self.speed) as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[derive(Debug)]
    struct Shared(Arc<ManualClock>);
    impl Clock for Shared {
        fn now_ms(&self) -> i64 {
            self.0.now_ms()
        }
    }

    #[test]
    fn scaled_clock_runs_faster_from_its_origin() {
        let base = Arc::new(ManualClock::new(1_000));
        let fast = ScaledClock::new(Shared(base.clone()), 10.0);
        assert_eq!(fast.now_ms(), 1_000);
        base.advance(500);
        assert_eq!(fast.now_ms(), 6_000);
    }
}
