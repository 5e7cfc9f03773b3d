//! Live fan-out over WebSockets: the [`hub`] owns one snapshot per topic, each
//! [`session`] speaks protocol v1 to one client. Only this module knows frames.

pub mod hub;
pub mod session;

pub use hub::{Hub, HubConfig};
pub use session::{Sessions, WsConfig};
