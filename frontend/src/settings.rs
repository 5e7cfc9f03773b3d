//! Whether the dashboard runs with admin rights, and the way to the settings page.
//!
//! `ask` is called after each listing of the workspace (`app::follow_directory`) until the
//! server said yes or no: `GET …/AlertRules` (admins only; a 403 does not count as a failed
//! attempt), reading only the answer's status (`api::is_admin`). The header shows the
//! settings link only to admins; kiosks and embedded pages never ask.

use leptos::prelude::*;

use crate::api;
use crate::state::AppState;

/// Asks the server whether the token is an admin's (with workspace `ws`, which the token
/// reads), unless it is known or the page is a kiosk or embedded.
pub async fn ask(state: AppState, ws: &str) {
    if state.admin.get_untracked().is_some() || !state.view.with_untracked(|v| v.chrome()) {
        return;
    }
    // None (the server away, another answer): asked again after the next listing.
    if let Some(answer) = api::is_admin(ws).await {
        state.admin.set(Some(answer));
    }
}
