//! The banner over the page while the numbers are not live: since when they are stale.

use leptos::prelude::*;

use crate::model::format;
use crate::model::link::BadgeState;
use crate::state::use_state;

#[component]
pub fn StaleBanner() -> impl IntoView {
    let state = use_state();
    let text = move || {
        let (since, stale) = state.badge.with(|b| (b.stale_since_ms, b.state == BadgeState::Stale));
        Some(match since {
            // Only over numbers on screen.
            Some(t) if !state.snapshots.with(|s| s.is_empty()) => {
                let offset = state.zone_offset()(t);
                let ago = ((state.now_ms.get() as i64 - t).max(0) / 1000) as u64;
                format::stale_since(&format::clock(t, offset), ago)
            }
            // Live, but the server says its source is failing.
            None if stale => "The server's data source is failing: these numbers may be old.".to_owned(),
            _ => return None,
        })
    };
    move || text().map(|t| view! { <div class="stale-banner" data-testid="stale-banner" role="alert">{t}</div> })
}
