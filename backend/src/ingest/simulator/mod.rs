//! The built-in contact center: a deterministic simulator of a TaskRouter workspace.
//!
//! - [`config`]: [`SimConfig`], the parameters (`simulator.toml` at the repository root is
//!   the documented default, embedded in the binary);
//! - [`model`]: [`Simulator`], the discrete-event simulation that emits TaskRouter events
//!   (tasks, reservations, and the floor: activities, workers, task queues);
//! - `random`: the seeded random stream and SID derivation, shared by `config` (the
//!   workspace SID) and `model`, so that `config` does not import `model`;
//! - [`history`]: history as NDJSON in the import format (`wallboard simulate --out`);
//! - [`drive`]: a client of another Wallboard's signed event callback endpoint
//!   (`wallboard simulate --to`), also the ingest load generator.
//!
//! Same configuration, seed and start time: same events, whatever the step sizes of
//! [`Simulator::advance`].

pub mod config;
pub mod drive;
pub mod history;
pub mod model;
mod random;

pub use config::{ConfigError, SimConfig};
pub use drive::{DriveOptions, DriveReport, drive, to_pairs};
pub use history::write_ndjson;
pub use model::{LiveCounts, Simulator};

#[cfg(test)]
mod tests;
