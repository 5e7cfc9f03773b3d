//! Wire types of Wallboard, shared by the server and the browser dashboard.
//!
//! Everything that crosses the network is defined here and only here: Twilio's TaskRouter
//! statistics resources, their query parameters and validation, Twilio's error body, the
//! SID newtypes and the WebSocket protocol. The crate depends on serde and chrono only,
//! and compiles for native targets and for `wasm32-unknown-unknown`.

pub mod envelope;
pub mod error;
pub mod event;
pub mod query;
pub mod resources;
pub mod sid;
pub mod time;
pub mod urls;
pub mod ws;

pub use error::TwilioError;
pub use query::{StatisticsQuery, Window, WindowSpec};
pub use sid::{AccountSid, EventSid, ReservationSid, TaskChannelSid, TaskSid, WorkflowSid, WorkspaceSid};
pub use urls::{StatisticsResource, Urls};
