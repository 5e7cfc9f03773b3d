//! Property-based fuzzing (proptest, on stable) of everything the network hands to a parser:
//! one module per target, each with arbitrary input (must give `Ok` or a typed error, never
//! a panic) and generated valid input (must be accepted, and round-trip where an encoder
//! exists).
//!
//! - `callbacks`: event callback forms and Event Streams CloudEvents → `Event` (the
//!   webhooks' parsing and validation), stored and resource forms back;
//! - `query`: every query-parameter parser of `wallboard-shared` and the windows they give;
//! - `ws_frames`: WebSocket client frames (`ClientMessage`) and the session's checks of a
//!   subscription (`ws::session::check_subscription`);
//! - `expression`: TaskRouter's expression language, parsed, printed back and evaluated;
//! - `server`: random signed forms, query strings and frames at the real server: never a 5xx,
//!   never a dead session.
//!
//! The number of cases per property comes from `WALLBOARD_FUZZ_CASES` (default small, for
//! `cargo test`), the server's from `WALLBOARD_FUZZ_SERVER_CASES`; the seed from
//! `WALLBOARD_FUZZ_SEED` (fixed by default: a run is reproducible). `scripts/fuzz.sh` runs
//! every target in release with a million cases per property and prints the counts:
//!
//!   WALLBOARD_FUZZ_CASES=1000000 cargo test --release -p wallboard --test fuzz -- --nocapture query

#[allow(dead_code)]
#[path = "../support/harness.rs"]
mod helpers;

mod callbacks;
mod expression;
mod query;
mod server;
mod ws_frames;

use std::cell::Cell;
use std::time::Instant;

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};

/// Cases per property under `cargo test` (debug build): the whole binary stays well under a
/// minute on two cores.
const DEFAULT_CASES: u32 = 2_000;
const DEFAULT_SERVER_CASES: u32 = 150;
const DEFAULT_SEED: u64 = 20_261_202;

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v.trim().parse().unwrap_or_else(|_| panic!("{name} must be a whole number, got {v:?}")),
        Err(_) => default,
    }
}

/// Cases per pure property.
pub fn cases() -> u32 {
    u32::try_from(env_u64("WALLBOARD_FUZZ_CASES", u64::from(DEFAULT_CASES))).unwrap_or(u32::MAX)
}

/// Cases per server property (each is a request or a frame on a real socket).
pub fn server_cases() -> u32 {
    u32::try_from(env_u64("WALLBOARD_FUZZ_SERVER_CASES", u64::from(DEFAULT_SERVER_CASES))).unwrap_or(u32::MAX)
}

/// Runs `test` on `cases` values of `strategy`, with a seed of its own derived from the run's
/// seed and `name` (properties do not share a random stream). On failure proptest shrinks the
/// input and the test fails with the smallest one found; on success the count and time are
/// printed (`--nocapture` shows them).
pub fn check<S: Strategy>(name: &str, cases: u32, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>) {
    let seed = env_u64("WALLBOARD_FUZZ_SEED", DEFAULT_SEED);
    let own = name.bytes().fold(seed, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    let config = Config {
        cases,
        rng_seed: RngSeed::Fixed(own),
        failure_persistence: None,
        // Shrinking a failure of a million-case run must end.
        max_shrink_iters: 10_000,
        // A few generators filter (a window needs a bound, a reference no keyword): over a
        // million cases their rejects add up past proptest's default limit.
        max_local_rejects: u32::MAX,
        max_global_rejects: u32::MAX,
        ..Config::default()
    };
    let ran = Cell::new(0u64);
    let start = Instant::now();
    let result = TestRunner::new(config).run(&strategy, |v| {
        ran.set(ran.get() + 1);
        test(v)
    });
    if let Err(e) = result {
        panic!("fuzz {name} (seed {seed}): {e}");
    }
    let secs = start.elapsed().as_secs_f64();
    println!("fuzz {name}: {} cases in {secs:.1} s (seed {seed})", ran.get());
}
