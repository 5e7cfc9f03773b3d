//! Wire types of Wallboard, shared by the server and the browser dashboard.
//!
//! Everything that crosses the network is defined here and only here: Twilio's TaskRouter
//! statistics resources (workflows, task queues, workers, the workspace), the read-only
//! TaskQueue, Worker, Activity and WorkerChannel resources, their query parameters and
//! validation, Twilio's error body, the SID newtypes, resource URLs and the WebSocket
//! protocol. The crate depends on serde and chrono only, and compiles for native targets and for `wasm32-unknown-unknown`.

pub mod alerts;
pub mod envelope;
pub mod error;
pub mod event;
pub mod export;
pub mod health;
pub mod history;
pub mod params;
pub mod query;
pub mod queues;
pub mod resources;
pub mod service_level;
pub mod sid;
pub mod time;
pub mod urls;
pub mod workers;
pub mod workspace;
pub mod ws;

#[cfg(test)]
mod openapi_tests;

pub use error::TwilioError;
pub use query::{StatisticsQuery, Window, WindowSpec};
pub use sid::{AccountSid, EventSid, ReservationSid, TaskChannelSid, TaskSid, WorkflowSid, WorkspaceSid};
pub use sid::{ActivitySid, TaskQueueSid, WorkerChannelSid, WorkerSid};
pub use urls::{StatisticsResource, Urls};
