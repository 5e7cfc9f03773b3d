//! The legend of a chart, in HTML: a colour swatch and its text per series.

use leptos::prelude::*;

use crate::charts::Tone;

/// The CSS class of a tone's swatch.
fn swatch(tone: Tone) -> &'static str {
    match tone {
        Tone::Good => "swatch tone-good",
        Tone::Warn => "swatch tone-warn",
        Tone::Bad => "swatch tone-bad",
        Tone::Accent => "swatch tone-accent",
        Tone::Accent2 => "swatch tone-accent-2",
        Tone::Neutral => "swatch tone-neutral",
    }
}

#[component]
pub fn Legend(items: Vec<(&'static str, Tone)>) -> impl IntoView {
    view! {
        <ul class="legend">
            {items
                .into_iter()
                .map(|(label, tone)| {
                    view! {
                        <li>
                            <span class=swatch(tone) aria-hidden="true"></span>
                            {label}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}
