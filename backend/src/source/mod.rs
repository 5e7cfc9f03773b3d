//! Where statistics come from. The local engine is fed by event callbacks and imports
//! (`--source events`) or, in the embedded default, by the built-in contact center
//! ([`simulated`], `--source simulator`), through the same ingest path. With
//! `--source twilio` the numbers come from an upstream TaskRouter API instead ([`mirror`],
//! through [`upstream`]).
//!
//! [`Numbers`] is the one place that decides between the two: REST handlers and the
//! WebSocket hub ask it for a [`View`](crate::engine::View)'s numbers and get them with
//! their [`Freshness`].

mod answer;
pub mod cache;
pub mod local;
pub mod mirror;
mod numbers;
pub mod simulated;
pub mod upstream;

pub use answer::{Cumulative, Freshness, Realtime, Unavailable};
pub use numbers::{Numbers, Reader};
