//! Whether the dashboard runs with admin rights, and the way to the settings page.
//!
//! `ask` is called after each listing of the workspace (`app::follow_directory`) until the
//! server said yes or no: `GET …/AlertRules` (admins only; a 403 does not count as a failed
//! attempt), reading only the answer's status (`api::is_admin`). The header shows the
//! settings link only to admins; kiosks and embedded pages never ask.
//!
//! The settings page itself is in the admin bundle (feature `admin`). The default bundle
//! loads the page again for `page=settings` ([`open_admin_bundle`]), and the boot script then
//! loads the admin bundle (`frontend/boot.js`), which is the whole app plus that page.

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

/// The default bundle has no settings page: when the page becomes `page=settings` (the
/// header's link, the history), the address bar gets the canonical query of `view` and the
/// page is loaded again, and the boot script loads the admin bundle for it. A reload, not a
/// new location: a URL that differs only by its fragment (the token) would not load.
#[cfg(not(feature = "admin"))]
pub fn open_admin_bundle(view: &crate::model::view::ViewState) {
    crate::browser::set_location_query(&view.to_query(), false);
    crate::browser::reload();
}
