//! Wallboard: a live statistics wall for Twilio TaskRouter contact centers.
//!
//! The server implements TaskRouter's Workflow Statistics API from events it stores
//! itself. Events come in through [`api`] (signed event callbacks) or [`ingest`] (the
//! writer thread and imports); [`storage`] makes them durable and [`engine`] folds them
//! into numbers; [`source`] decides where numbers come from (the engine or a mirror);
//! [`ws`] fans them out; [`metrics`] counts what operations watch (`GET /metrics`). [`startup`] is the composition root: [`Application`]'s `build`
//! binds and replays, and `run_until_stopped` serves until the shutdown future resolves.

pub mod access;
pub mod alerts;
pub mod api;
pub mod backfill;
pub mod balance;
pub mod clock;
pub mod config;
pub mod cputime;
pub mod engine;
pub mod event;
pub mod eventstreams;
pub mod ingest;
pub mod loadtest;
pub mod metrics;
pub mod node;
pub mod service_levels;
pub mod shift;
pub mod signature;
pub mod snapshot;
pub mod source;
pub mod startup;
pub mod state;
pub mod storage;
pub mod ws;

pub use access::Credentials;
pub use startup::Application;
