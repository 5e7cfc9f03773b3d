//! One integration-test binary: a real server on port 0 per test.

/// The harness, shared with the end-to-end binary (which uses parts this one does not).
#[allow(dead_code)]
#[path = "../support/harness.rs"]
mod helpers;
#[path = "../support/proxy.rs"]
mod proxy;
mod scenario;
mod service_levels;

mod access;
mod alerts;
mod architecture;
mod dashboard;
mod errors;
mod events;
mod eventstreams;
mod export;
mod health;
mod history;
mod import;
mod loadtest;
mod metrics;
mod mirror;
mod mirror_cluster;
mod paths;
mod queues;
mod replay;
mod restart;
mod retention;
mod schema;
mod simulator;
mod snapshot;
mod statistics;
mod trends;
mod webhooks;
mod workers;
mod workspace;
mod ws;
