//! The connection badge: live, reconnecting or stale, and when the server was last heard.

use leptos::prelude::*;

use crate::state::use_state;

#[component]
pub fn ConnectionBadge() -> impl IntoView {
    let state = use_state();
    let badge = state.badge;
    let detail = move || badge.with(|b| b.detail());
    view! {
        <div
            class=move || format!("badge badge-{}", badge.with(|b| b.state.key()))
            data-testid="connection-badge"
            data-state=move || badge.with(|b| b.state.key())
        >
            <span class="badge-dot" aria-hidden="true"></span>
            // Only the state is announced, not the seconds counting up beside it.
            <span class="badge-label" role="status">{move || badge.with(|b| b.state.label())}</span>
            <span class="badge-detail">{detail}</span>
        </div>
    }
}
