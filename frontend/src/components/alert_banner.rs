//! The alert banner over the page: one line per firing alert of the shown workspace (level
//! icon and word, the rule's headline, when it fired) with an "Acknowledge" button, or who
//! acknowledged it; and, while `sound=1` waits for the browser, "click to enable sound".
//! Kept on a kiosk too: a wall may be a touch screen. New alerts are announced
//! (`role="alert"`), the ones already shown are not announced again when the list changes.

use leptos::prelude::*;

use crate::api::{self, Failure};
use crate::browser;
use crate::model::alerts::{Sound, banner_lines};
use crate::state::use_state;

#[component]
pub fn AlertBanner() -> impl IntoView {
    let state = use_state();
    let lines = Memo::new(move |_| {
        let Some(ws) = state.workspace.get() else { return Vec::new() };
        let zone = state.view.with(|v| v.time_zone.clone());
        let offset = move |at| browser::zone_offset_minutes(zone.as_deref(), at);
        state.alerts.with(|a| banner_lines(a, &ws, &offset))
    });
    // The acknowledgements under way (their buttons wait), and why the last one failed.
    let pending = RwSignal::new(Vec::<String>::new());
    let failure = RwSignal::new(None::<String>);
    let blocked = Memo::new(move |_| {
        Sound::of(state.view.with(|v| v.sound), state.sounding.get(), state.audio_blocked.get()) == Sound::Blocked
    });
    let acknowledge = move |sid: String| {
        let Some(ws) = state.workspace.get_untracked() else { return };
        if pending.with_untracked(|p| p.contains(&sid)) {
            return;
        }
        pending.update(|p| p.push(sid.clone()));
        failure.set(None);
        leptos::task::spawn_local(async move {
            let result = api::acknowledge(&ws, &sid).await;
            pending.update(|p| p.retain(|s| *s != sid));
            match result {
                // The frame that every dashboard gets says the same; this one shows it now.
                Ok(alert) => state.alerts.maybe_update(|a| a.update(&ws, alert)),
                Err(failure_) => failure.set(Some(match failure_ {
                    Failure::Refused => "The alert cannot be acknowledged: the link's token is refused".to_owned(),
                    Failure::RateLimited(secs) => {
                        format!("The alert cannot be acknowledged now: try again in {secs} s")
                    }
                    Failure::Other(e) => format!("The alert cannot be acknowledged: {e}"),
                })),
            }
        });
    };
    let items = move || {
        lines
            .get()
            .into_iter()
            .map(|l| {
                let sid = l.sid.clone();
                let waiting = {
                    let sid = sid.clone();
                    move || pending.with(|p| p.contains(&sid))
                };
                let end = match l.acknowledged {
                    Some(by) => view! { <span class="alert-acked" data-testid="alert-acked">{by}</span> }.into_any(),
                    None => view! {
                        <button
                            type="button"
                            class="alert-ack"
                            data-testid="alert-ack"
                            prop:disabled=waiting.clone()
                            on:click=move |_| acknowledge(sid.clone())
                        >
                            {let waiting = waiting.clone();
                            move || if waiting() { "Acknowledging…" } else { "Acknowledge" }}
                        </button>
                    }
                    .into_any(),
                };
                view! {
                    <li
                        class=format!("alert-item alert-{}", l.level)
                        data-testid="alert-item"
                        data-sid=l.sid.clone()
                        data-level=l.level
                        role=l.fresh.then_some("alert")
                    >
                        <span class="alert-level">{l.level_text}</span>
                        <span class="alert-headline">{l.headline}</span>
                        <span class="alert-time">{l.fired}</span>
                        {end}
                    </li>
                }
            })
            .collect_view()
    };
    let shown = Memo::new(move |_| !lines.with(Vec::is_empty));
    move || {
        shown.get().then(|| {
            view! {
                <section class="alert-banner" data-testid="alert-banner" aria-label="Alerts">
                    <ul class="alert-list">{items}</ul>
                    {move || {
                        blocked
                            .get()
                            .then(|| {
                                view! {
                                    <button
                                        type="button"
                                        class="alert-sound"
                                        data-testid="alert-sound"
                                        on:click=|_| browser::audio_resume()
                                    >
                                        "🔇 click to enable sound"
                                    </button>
                                }
                            })
                    }}
                    {move || failure.get().map(|f| view! { <p class="alert-error" role="status">{f}</p> })}
                </section>
            }
        })
    }
}
