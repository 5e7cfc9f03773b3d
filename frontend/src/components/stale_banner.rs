//! The banner over the page while the numbers are not live: since when they are stale.

use leptos::prelude::*;

use crate::state::use_state;

#[component]
pub fn StaleBanner() -> impl IntoView {
    let state = use_state();
    let text = move || {
        let showing = !state.snapshots.with(|s| s.is_empty());
        let now = state.now_ms.get();
        state.badge.with(|b| b.banner(showing, now, &state.zone_offset()))
    };
    move || text().map(|t| view! { <div class="stale-banner" data-testid="stale-banner" role="alert">{t}</div> })
}
