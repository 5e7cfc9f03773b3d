//! The colour thresholds of each metric (green / amber / red), editable and kept in the URL.

use leptos::prelude::*;

use crate::model::format;
use crate::model::levels::{Direction, Metric, parse_limit};
use crate::state::use_state;

#[component]
pub fn LevelSettings() -> impl IntoView {
    let state = use_state();
    let error = RwSignal::new(None::<String>);
    let rows = Metric::ALL
        .into_iter()
        .map(|metric| {
            let band = move || state.view.with(|v| v.levels.band(metric));
            let (better, worse) = match metric.direction() {
                Direction::HigherIsBetter => ("green at or above", "amber at or above"),
                Direction::LowerIsBetter => ("green at or below", "amber at or below"),
            };
            let set = move |good: Option<f64>, warn: Option<f64>| {
                let mut levels = state.view.with_untracked(|v| v.levels);
                match levels.set_limit(metric, good, warn) {
                    Ok(()) => {
                        error.set(None);
                        state.navigate(false, |v| v.levels = levels);
                    }
                    Err(e) => error.set(Some(e)),
                }
            };
            let parse = |ev: &leptos::ev::Event| parse_limit(&event_target_value(ev));
            view! {
                <div class="level-row">
                    <span class="level-name">{metric.title()}</span>
                    <label class="control control-inline">
                        <span class="control-label">{better}</span>
                        <input
                            class="input input-narrow"
                            type="number"
                            min="0"
                            step="any"
                            prop:value=move || format::tenths(band().good)
                            on:change=move |ev| set(parse(&ev), None)
                        />
                    </label>
                    <label class="control control-inline">
                        <span class="control-label">{worse}</span>
                        <input
                            class="input input-narrow"
                            type="number"
                            min="0"
                            step="any"
                            prop:value=move || format::tenths(band().warn)
                            on:change=move |ev| set(None, parse(&ev))
                        />
                    </label>
                    <span class="muted">"red beyond"</span>
                </div>
            }
        })
        .collect_view();
    view! {
        <details class="panel settings">
            <summary>"Colour thresholds"</summary>
            <p class="muted">
                "Each number is shown green (OK), amber (Warning) or red (Critical) with its label. The limits are part of the link."
            </p>
            {rows}
            {move || error.get().map(|e| view! { <p class="control-error">{e}</p> })}
        </details>
    }
}
