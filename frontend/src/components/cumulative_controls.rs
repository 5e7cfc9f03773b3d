//! The cumulative panel's settings: window, time zone, task channel, SLA thresholds. Each
//! change goes into the URL.

use leptos::prelude::*;

use crate::browser;
use crate::model::view::{ViewState, WindowChoice, format_local, local_day_start, parse_local};
use crate::state::{Remote, use_state};

#[component]
pub fn CumulativeControls() -> impl IntoView {
    let state = use_state();
    let window = move || state.view.with(|v| v.window);
    let is_custom = move || matches!(window(), WindowChoice::Custom { .. });
    let custom_shown = Memo::new(move |_| is_custom());

    let presets = WindowChoice::PRESETS
        .into_iter()
        .map(|w| {
            view! {
                <button
                    type="button"
                    class="seg"
                    class:active=move || window() == w
                    aria-pressed=move || (window() == w).to_string()
                    on:click=move |_| state.navigate(false, |v| v.window = w)
                >
                    {w.label()}
                </button>
            }
        })
        .collect_view();
    let start_custom = move |_| {
        if is_custom() {
            return;
        }
        // Today since midnight in the chosen zone, to be narrowed down by the user.
        if let Some(from) = local_day_start(browser::now_ms() as i64, &state.zone_offset()) {
            state.navigate(false, |v| v.window = ViewState::custom(from, None));
        }
    };
    let bound = move |pick: fn(&WindowChoice) -> Option<String>| move || pick(&window()).unwrap_or_default();
    let from_value = bound(|w| match w {
        WindowChoice::Custom { from, .. } => Some(format_local(from)),
        _ => None,
    });
    let to_value = bound(|w| match w {
        WindowChoice::Custom { to, .. } => to.as_ref().map(format_local),
        _ => None,
    });
    let set_from = move |ev: leptos::ev::Event| {
        if let (Some(from), WindowChoice::Custom { to, .. }) = (parse_local(&event_target_value(&ev)), window()) {
            state.navigate(false, |v| v.window = ViewState::custom(from, to));
        }
    };
    let set_to = move |ev: leptos::ev::Event| {
        if let WindowChoice::Custom { from, .. } = window() {
            let to = parse_local(&event_target_value(&ev));
            state.navigate(false, |v| v.window = ViewState::custom(from, to));
        }
    };

    let zone_error = RwSignal::new(None::<String>);
    let zone_value = move || state.view.with(|v| v.time_zone.clone()).unwrap_or_default();
    let browser_zone = browser::browser_zone().unwrap_or_else(|| "browser time".to_owned());
    let set_zone = move |ev: leptos::ev::Event| {
        let raw = event_target_value(&ev).trim().to_owned();
        if raw.is_empty() {
            zone_error.set(None);
            state.navigate(false, |v| v.time_zone = None);
        } else if browser::is_known_zone(&raw) {
            zone_error.set(None);
            state.navigate(false, |v| v.time_zone = Some(raw));
        } else {
            zone_error.set(Some(format!("unknown time zone '{raw}'")));
        }
    };
    let zones = browser::known_zones();

    let channels = move || {
        state.directory.with(|d| match d {
            Remote::Ready(d) => d.channels.clone(),
            _ => Vec::new(),
        })
    };
    let channel = move || state.view.with(|v| v.channel.clone()).unwrap_or_default();
    let set_channel = move |ev: leptos::ev::Event| {
        let raw = event_target_value(&ev);
        state.navigate(false, |v| v.channel = (!raw.is_empty()).then_some(raw));
    };

    let thresholds_error = RwSignal::new(None::<String>);
    let thresholds = move || state.view.with(ViewState::thresholds_text);
    let set_thresholds = move |ev: leptos::ev::Event| {
        let raw = event_target_value(&ev);
        let mut next = state.view.get_untracked();
        match next.set_thresholds(&raw) {
            Ok(()) => {
                thresholds_error.set(None);
                state.navigate(false, |v| v.thresholds = next.thresholds);
            }
            Err(e) => thresholds_error.set(Some(e)),
        }
    };

    view! {
        <div class="controls">
            <div class="control">
                <span class="control-label" id="window-label">"Window"</span>
                <div class="segmented" role="group" aria-labelledby="window-label">
                    {presets}
                    <button
                        type="button"
                        class="seg"
                        class:active=is_custom
                        aria-pressed=move || is_custom().to_string()
                        on:click=start_custom
                    >
                        "Custom"
                    </button>
                </div>
            </div>
            {move || {
                custom_shown
                    .get()
                    .then(|| {
                        view! {
                            <label class="control">
                                <span class="control-label">"From"</span>
                                <input class="input" type="datetime-local" prop:value=from_value on:change=set_from/>
                            </label>
                            <label class="control">
                                <span class="control-label">"To (empty: now)"</span>
                                <input class="input" type="datetime-local" prop:value=to_value on:change=set_to/>
                            </label>
                        }
                    })
            }}
            <label class="control">
                <span class="control-label">"Time zone"</span>
                <input
                    class="input"
                    list="wallboard-zones"
                    placeholder=browser_zone
                    prop:value=zone_value
                    on:change=set_zone
                    aria-invalid=move || zone_error.with(Option::is_some).to_string()
                />
                <datalist id="wallboard-zones">
                    {zones.into_iter().map(|z| view! { <option value=z></option> }).collect_view()}
                </datalist>
                {move || zone_error.get().map(|e| view! { <span class="control-error">{e}</span> })}
            </label>
            <label class="control">
                <span class="control-label">"Task channel"</span>
                <select class="select" on:change=set_channel prop:value=channel>
                    <option value="" selected=move || channel().is_empty()>
                        "All channels"
                    </option>
                    {move || {
                        channels()
                            .into_iter()
                            .map(|c| {
                                let selected = {
                                    let name = c.unique_name.clone();
                                    move || channel() == name
                                };
                                view! {
                                    <option value=c.unique_name.clone() selected=selected>
                                        {c.name.clone()}
                                    </option>
                                }
                            })
                            .collect_view()
                    }}
                </select>
            </label>
            <label class="control">
                <span class="control-label">"SLA thresholds (s)"</span>
                <input
                    class="input input-narrow"
                    inputmode="numeric"
                    prop:value=thresholds
                    on:change=set_thresholds
                    aria-invalid=move || thresholds_error.with(Option::is_some).to_string()
                />
                {move || thresholds_error.get().map(|e| view! { <span class="control-error">{e}</span> })}
            </label>
        </div>
    }
}
