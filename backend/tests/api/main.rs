//! One integration-test binary: a real server on port 0 per test.

mod helpers;
#[path = "../support/proxy.rs"]
mod proxy;
mod scenario;

mod access;
mod architecture;
mod dashboard;
mod errors;
mod events;
mod import;
mod mirror;
mod restart;
mod schema;
mod simulator;
mod statistics;
mod webhooks;
mod ws;
