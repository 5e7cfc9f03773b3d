//! Randomness and stable ids: the seeded ChaCha8 stream the model draws from, and the
//! derivation of every SID (fixed resources from their names, per-run ones from the seed).
//!
//! Both the configuration (the workspace SID) and the model use it, so it imports
//! neither. Numbers are made here from raw `u64`s (not by `rand_distr`) so that a
//! dependency upgrade does not change the events of a stored seed.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

/// A stable 128-bit id from names (SIDs of the workspace's fixed resources).
pub(super) fn stable_id(parts: &[&str]) -> u128 {
    let mut h = Sha256::new();
    h.update(b"wallboard-simulator");
    for p in parts {
        h.update([0x1f]);
        h.update(p.as_bytes());
    }
    let digest = h.finalize();
    let mut n = [0u8; 16];
    n.copy_from_slice(&digest[..16]);
    u128::from_be_bytes(n)
}

/// What a per-run id names: each kind counts from 0 without meeting the others' SIDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum IdKind {
    Event = 1,
    Task = 2,
    Reservation = 3,
    Call = 4,
    /// The words of the RNG's seed.
    RngSeed = 0xff,
}

/// A bijection of (seed, kind, counter): distinct counters give distinct SIDs for one
/// seed and kind, and the digits look random.
pub(super) fn mix(seed: u64, kind: IdKind, n: u64) -> u128 {
    let mut x = (u128::from(seed) << 64 | u128::from(n)) ^ (u128::from(kind as u8) << 120);
    x = x.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835);
    x ^= x >> 67;
    x = x.wrapping_mul(0xd6e8_feb8_6659_fd93_2b6b_2fc4_7b4e_4d2f);
    x ^= x >> 61;
    x
}

/// Uniform numbers and the distributions the model needs, from a ChaCha8 stream.
#[derive(Debug, Clone)]
pub(super) struct Random(ChaCha8Rng);

impl Random {
    pub(super) fn new(seed: u64) -> Self {
        let mut bytes = [0u8; 32];
        for (i, chunk) in bytes.chunks_mut(8).enumerate() {
            chunk.copy_from_slice(&(mix(seed, IdKind::RngSeed, i as u64) as u64).to_le_bytes());
        }
        Self(ChaCha8Rng::from_seed(bytes))
    }

    /// Uniform in [0, 1).
    pub(super) fn uniform(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    pub(super) fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.uniform() < p
    }

    /// Exponential with this mean.
    pub(super) fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.uniform()).ln()
    }

    /// Standard normal (Box–Muller, one of the pair).
    pub(super) fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    pub(super) fn below(&mut self, n: usize) -> usize {
        ((self.uniform() * n as f64) as usize).min(n.saturating_sub(1))
    }
}
