//! One big number with its label, and its level (colour plus a text label) when it has one.

use leptos::prelude::*;

use crate::model::levels::Level;

#[component]
pub fn Tile(
    /// `data-testid` of the tile.
    testid: &'static str,
    #[prop(into)] label: String,
    /// The number as shown.
    value: Signal<String>,
    /// The number as data (`data-value`): whole units, empty when unknown.
    raw: Signal<String>,
    /// None for numbers without a band.
    #[prop(optional)]
    level: Option<Signal<Level>>,
    /// A line under the number.
    #[prop(optional)]
    hint: Option<Signal<String>>,
    /// Smaller, for cards.
    #[prop(optional)]
    compact: bool,
) -> impl IntoView {
    let class = move || {
        let level = level.map_or("none", |l| l.get().key());
        format!("tile level-{level}{}", if compact { " tile-compact" } else { "" })
    };
    view! {
        <div class=class data-testid=testid data-value=move || raw.get()>
            <div class="tile-label">{label}</div>
            <div class="tile-value">{move || value.get()}</div>
            <div class="tile-foot">
                {level
                    .map(|l| {
                        view! {
                            <span class=move || format!("level-pill level-{}", l.get().key())>
                                {move || l.get().label()}
                            </span>
                        }
                    })}
                {hint.map(|h| view! { <span class="tile-hint">{move || h.get()}</span> })}
            </div>
        </div>
    }
}
