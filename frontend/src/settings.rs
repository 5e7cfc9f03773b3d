//! Whether the dashboard runs with admin rights: asked once per workspace with
//! `GET …/AlertRules` (admins only; a 403 does not count as a failed attempt). The header
//! shows the settings link only to admins; kiosks and embedded pages never ask.

use leptos::prelude::*;

use crate::api;
use crate::model::access::Access;
use crate::state::{AppState, Directory, Remote};

/// The answer, provided as context by `App`: None until known.
#[derive(Debug, Clone, Copy)]
pub struct Admin(pub RwSignal<Option<bool>>);

/// The admin context (None when `App` did not provide one).
pub fn admin() -> Option<bool> {
    use_context::<Admin>().and_then(|a| a.0.get())
}

pub fn start(state: AppState) {
    let admin = RwSignal::new(None);
    provide_context(Admin(admin));
    if !state.view.with_untracked(|v| v.chrome()) || state.access.get_untracked() != Access::Granted {
        return;
    }
    let workspace = Memo::new(move |_| {
        state.directory.with(|d| match d {
            Remote::Ready(Directory { workspace: Some((ws, _)), .. }) => Some(ws.clone()),
            _ => None,
        })
    });
    Effect::new(move |_| {
        let Some(ws) = workspace.get() else { return };
        leptos::task::spawn_local(async move {
            match api::alert_rules(&ws).await {
                Ok(_) => admin.set(Some(true)),
                Err(r) if r.status == 403 => admin.set(Some(false)),
                // Unknown (the server away): the settings page says what a call answers.
                Err(_) => {}
            }
        });
    });
}
