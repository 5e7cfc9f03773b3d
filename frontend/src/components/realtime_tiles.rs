//! The realtime tiles of a workflow: total, pending, reserved, assigned, wrapping, longest
//! waiting (ticking every second in the browser), and tasks by priority.

use leptos::prelude::*;

use super::Tile;
use super::tile::figure_of;
use crate::browser;
use crate::model::alerts::Mark;
use crate::model::figure::{Now, RealtimeFigures};
use crate::model::format;
use crate::state::use_state;

#[component]
pub fn RealtimeTiles() -> impl IntoView {
    let state = use_state();
    let figures = Memo::new(move |_| {
        let id = state.plan.with(|p| p.realtime.clone());
        let now = Now { ms: state.now_ms.get(), skew_ms: browser::clock_skew_ms() };
        state.view.with(|v| {
            state.snapshots.with(|s| RealtimeFigures::new(id.as_deref().and_then(|id| s.get(id)), &v.levels, now))
        })
    });
    // Apart from the ticking figures: the bars are rebuilt only when the counts change.
    let priorities = Memo::new(move |_| figures.with(|f| f.priorities.clone()));
    // An alert on the shown workflow marks its tiles.
    let mark = move || {
        let sid = state.workflow.with(|w| w.as_ref().map(|w| w.sid.clone()))?;
        state.marks.with(|m| m.of_sid(&sid))
    };
    view! {
        <div
            class=move || Mark::classes(mark(), "tiles")
            data-testid="realtime-tiles"
            data-alert=move || mark().map(|m| m.key())
        >
            <Tile testid="tile-total" label="Total tasks" figure=figure_of(figures, |f| &f.total)/>
            <Tile testid="tile-pending" label="Pending" figure=figure_of(figures, |f| &f.pending)/>
            <Tile testid="tile-reserved" label="Reserved" figure=figure_of(figures, |f| &f.reserved)/>
            <Tile testid="tile-assigned" label="Assigned" figure=figure_of(figures, |f| &f.assigned)/>
            <Tile testid="tile-wrapping" label="Wrapping" figure=figure_of(figures, |f| &f.wrapping)/>
            <Tile testid="tile-longest" label="Longest waiting" figure=figure_of(figures, |f| &f.longest)/>
        </div>
        <div class="priorities" data-testid="tasks-by-priority">
            <span class="priorities-title">"Tasks by priority"</span>
            {move || {
                let list = priorities.get();
                if list.is_empty() {
                    view! { <span class="muted">"no live tasks"</span> }.into_any()
                } else {
                    list.into_iter()
                        .map(|p| {
                            // Through the CSSOM (`style:`), which the page's CSP allows, unlike `style=""`.
                            view! {
                                <span class="priority" data-priority=p.priority.clone() data-value=p.count.to_string()>
                                    <span class="priority-name">{format!("P{}", p.priority)}</span>
                                    <span class="priority-bar">
                                        <span class="priority-fill" style:width=p.width></span>
                                    </span>
                                    <span class="priority-count">{format::count(p.count)}</span>
                                </span>
                            }
                        })
                        .collect_view()
                        .into_any()
                }
            }}
        </div>
    }
}
