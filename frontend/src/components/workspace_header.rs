//! The workspace header on every page: waiting tasks, the longest wait (ticking), agents
//! available and today's service level (under the workspace's definition, its formula as
//! the tile's title), over the whole workspace: the snapshots of the plan's `workspace`
//! subscription.

use leptos::prelude::*;

use super::Tile;
use super::tile::figure_of;
use crate::browser;
use crate::model::alerts::Mark;
use crate::model::figure::Now;
use crate::model::floor::{HeaderFigures, header_stats};
use crate::state::use_state;

#[component]
pub fn WorkspaceHeader() -> impl IntoView {
    let state = use_state();
    let floor = state.floor;
    let figures = Memo::new(move |_| {
        let now = Now { ms: state.now_ms.get(), skew_ms: browser::clock_skew_ms() };
        let definition = state.definitions.with(|d| d.workspace());
        state.view.with(|v| {
            floor.activities.with(|a| {
                state.plan.with(|p| {
                    state.snapshots.with(|s| HeaderFigures::new(header_stats(p, s), a, &v.levels, &definition, now))
                })
            })
        })
    });
    // A link limited to some workflows may not read the workspace (error 20403): say so.
    let refused = Memo::new(move |_| {
        let id = state.plan.with(|p| p.header.clone())?;
        state.snapshots.with(|s| {
            s.refusal(&id).map(|r| format!("The workspace's numbers are not shown: {} ({})", r.message, r.code))
        })
    });
    // The workspace's own firing alerts mark the strip.
    let mark = move || state.marks.with(|m| m.workspace);
    view! {
        <section
            class=move || Mark::classes(mark(), "workspace-strip")
            data-testid="workspace-header"
            aria-label="Workspace"
            data-loaded=move || if figures.with(|f| f.loaded) { "1" } else { "0" }
            data-alert=move || mark().map(|m| m.key())
        >
            <Tile testid="ws-waiting" label="Waiting" figure=figure_of(figures, |f| &f.waiting) compact=true/>
            <Tile testid="ws-longest" label="Longest wait" figure=figure_of(figures, |f| &f.longest) compact=true/>
            <Tile
                testid="ws-available"
                label="Agents available"
                figure=figure_of(figures, |f| &f.available)
                compact=true
            />
            <Tile
                testid="ws-sla"
                label="SL today"
                figure=figure_of(figures, |f| &f.service_level)
                compact=true
            />
            {move || {
                refused.get().map(|note| view! { <p class="strip-note" data-testid="workspace-header-note" role="note">{note}</p> })
            }}
        </section>
    }
}
