//! Wallboard's dashboard: a Leptos (client-side rendered) app that shows TaskRouter workflow
//! statistics live from the server's WebSocket, with plotters charts on canvas.
//!
//! `model` holds the logic as plain types tested natively; `state`, `ws` and `api` connect it
//! to signals, the WebSocket and REST; `components` and `charts` draw it; `browser` is the
//! only place that asks the page for the time, the URL and the like.

pub mod api;
pub mod app;
pub mod browser;
pub mod charts;
pub mod components;
pub mod floor;
pub mod model;
pub mod settings;
pub mod state;
pub mod ws;
