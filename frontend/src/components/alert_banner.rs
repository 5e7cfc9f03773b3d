//! The alert banner over the page: one line per firing alert of the shown workspace (level
//! icon and word, the rule's headline, when it fired) with an "Acknowledge" button, or who
//! acknowledged it; and, while `sound=1` waits for the browser, "click to enable sound".
//! Kept on a kiosk too: a wall may be a touch screen. New alerts are announced
//! (`role="alert"`), the ones already shown are not announced again when the list changes.
//! The content is the model's escaped HTML (`model::alerts::banner_html`), its buttons
//! handled by one click listener.

use leptos::prelude::*;

use crate::api::{self, Failure};
use crate::browser;
use crate::model::alerts::{ACK_ATTRIBUTE, SOUND_ATTRIBUTE, Sound, banner_html};
use crate::state::use_state;

#[component]
pub fn AlertBanner() -> impl IntoView {
    let state = use_state();
    let enabled = state.view.with_untracked(|v| v.sound);
    let html = move || {
        let Some(ws) = state.workspace() else { return String::new() };
        let sounding = state.marks.with(|m| m.sounding);
        let blocked = Sound::of(enabled, sounding, state.audio_blocked.get()) == Sound::Blocked;
        state.alerts.with(|a| banner_html(a, &ws, &state.zone_offset(), blocked))
    };
    let acknowledge = move |sid: String| {
        let Some(ws) = state.workspace_untracked() else { return };
        let mut start = false;
        state.alerts.update(|a| start = a.acknowledging(&sid));
        if !start {
            return;
        }
        leptos::task::spawn_local(async move {
            // On success every dashboard gets an `alerts` frame saying who acknowledged it.
            let failure = match api::acknowledge(&ws, &sid).await {
                Ok(()) => None,
                Err(Failure::Refused) => Some("the link's token is refused".to_owned()),
                Err(Failure::RateLimited(secs)) => Some(format!("too many failed attempts; try again in {secs} s")),
                Err(Failure::Other(e)) => Some(e),
            };
            state.alerts.update(|a| a.acknowledged(&sid, failure));
        });
    };
    let click = move |ev: leptos::ev::MouseEvent| {
        if let Some(sid) = browser::clicked_attribute(&ev, ACK_ATTRIBUTE) {
            acknowledge(sid);
        } else if browser::clicked_attribute(&ev, SOUND_ATTRIBUTE).is_some() {
            browser::audio_resume();
        }
    };
    view! { <section class="alert-banner" data-testid="alert-banner" aria-label="Alerts" inner_html=html on:click=click></section> }
}
