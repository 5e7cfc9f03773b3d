//! The dashboard's logic as plain Rust types: no signals, no DOM, no clock of their own.
//!
//! Everything here is tested natively with `cargo test -p wallboard-frontend`; the components
//! only wire these types to signals and the browser. What a number shows (text, raw value,
//! level, hint) is decided in [`figure`], not in a component.

pub mod access;
pub mod age;
pub mod agents;
pub mod alerts;
pub mod figure;
pub mod floor;
pub mod format;
pub mod frame;
pub mod json;
pub mod kiosk;
// The history page's model: admin bundle (tests in every native test build).
#[cfg(any(feature = "admin", test))]
pub mod history;
pub mod levels;
pub mod link;
pub mod service_levels;
// The settings page's model is in the admin bundle only; its tests run in every native test build.
#[cfg(any(feature = "admin", test))]
pub mod settings;
pub mod sla;
pub mod snapshots;
pub mod subscriptions;
pub mod trend;
pub mod view;
