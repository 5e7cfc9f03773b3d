//! Wallboard: a live statistics wall for Twilio TaskRouter contact centers.
//!
//! The server implements TaskRouter's Workflow Statistics API from events it stores
//! itself. Events come in through [`api`] (signed event callbacks) or [`ingest`] (imports);
//! they are made durable by [`storage`] and folded into numbers by [`engine`].

pub mod engine;
pub mod event;
