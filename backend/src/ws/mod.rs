//! Live fan-out over WebSockets: the [`hub`] owns one snapshot per topic, the [`fanout`]
//! workers write each new one to every subscriber's [`conn`], each [`session`] speaks
//! protocol v1 to one client. Only this module knows frames.

pub mod conn;
pub mod fanout;
pub mod hub;
pub mod session;

pub use fanout::Fanout;
pub use hub::{Hub, HubConfig};
pub use session::{Sessions, WsConfig};
