//! One big number with its label, and its level (colour plus a text label) when it has one.

use leptos::prelude::*;

use crate::model::figure::Figure;

#[component]
pub fn Tile(
    /// `data-testid` of the tile.
    testid: &'static str,
    #[prop(into)] label: String,
    /// The number: text, raw value (`data-value`), level (None: a number without a band)
    /// and hint, all from the model.
    figure: Signal<Figure>,
    /// Smaller, for cards.
    #[prop(optional)]
    compact: bool,
) -> impl IntoView {
    let class = move || {
        let level = figure.with(|f| f.level.map_or("none", |l| l.key()));
        format!("tile level-{level}{}", if compact { " tile-compact" } else { "" })
    };
    // Whether the tile has a level pill and a hint is its figure's kind, fixed for the
    // tile's life: the structure is built once, only the texts follow the figure.
    let (banded, hinted) = figure.with_untracked(|f| (f.level.is_some(), f.hint.is_some()));
    view! {
        <div
            class=class
            data-testid=testid
            data-value=move || figure.with(|f| f.raw.clone())
            title=move || figure.with(|f| f.title.clone())
        >
            <div class="tile-label">{label}</div>
            <div class="tile-value">{move || figure.with(|f| f.text.clone())}</div>
            <div class="tile-foot">
                {banded
                    .then(|| {
                        let level = move || figure.with(|f| f.level).unwrap_or(crate::model::levels::Level::Unknown);
                        view! {
                            <span class=move || format!("level-pill level-{}", level().key())>
                                {move || level().label()}
                            </span>
                        }
                    })}
                {hinted
                    .then(|| {
                        view! { <span class="tile-hint">{move || figure.with(|f| f.hint.clone().unwrap_or_default())}</span> }
                    })}
            </div>
        </div>
    }
}

/// The figure `pick` chooses of a memo of several (a card's, the tiles'), as a tile's
/// signal: a memo of its own, so a tile is redrawn only when its own figure changes.
pub fn figure_of<T: PartialEq + Send + Sync + 'static>(figures: Memo<T>, pick: fn(&T) -> &Figure) -> Signal<Figure> {
    Memo::new(move |_| figures.with(|f| pick(f).clone())).into()
}
