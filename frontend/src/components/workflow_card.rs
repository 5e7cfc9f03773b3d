//! A workflow's card on the overview: pending, longest waiting, total, service level (under
//! the workflow's definition, its formula as the tile's title); marked while an alert on
//! the workflow fires.

use leptos::prelude::*;

use super::tile::figure_of;
use super::{Tile, href, is_modified_click};
use crate::browser;
use crate::model::alerts::Mark;
use crate::model::figure::{CardFigures, Now};
use crate::model::view::Page;
use crate::state::{WorkflowInfo, use_state};

#[component]
pub fn WorkflowCard(workflow: WorkflowInfo) -> impl IntoView {
    let state = use_state();
    let kiosk = state.view.with_untracked(|v| v.kiosk);
    let sid = workflow.sid.clone();
    let figures = {
        let sid = sid.clone();
        Memo::new(move |_| {
            let id = state.plan.with(|p| p.card(&sid).map(str::to_owned));
            let now = Now { ms: state.now_ms.get(), skew_ms: browser::clock_skew_ms() };
            let definition = state.definitions.with(|d| d.of(&sid));
            state.view.with(|v| {
                state.snapshots.with(|s| {
                    let entry = id.as_deref().and_then(|id| s.get(id));
                    CardFigures::new(entry, &v.levels, &definition, now)
                })
            })
        })
    };
    let link = {
        let sid = sid.clone();
        move || {
            href(&state.view.with(|v| {
                let mut v = v.clone();
                v.page = Page::Workflow;
                v.workflow = Some(sid.clone());
                v
            }))
        }
    };
    let open = {
        let sid = sid.clone();
        move |ev: leptos::ev::MouseEvent| {
            if !is_modified_click(&ev) {
                ev.prevent_default();
                let sid = sid.clone();
                state.navigate(true, move |v| {
                    v.page = Page::Workflow;
                    v.workflow = Some(sid);
                });
            }
        }
    };
    let mark = {
        let sid = sid.clone();
        move || state.marks.with(|m| m.of_sid(&sid))
    };
    let alert = mark.clone();
    view! {
        <article
            class=move || Mark::classes(mark(), &format!("card card-{}", figures.with(|f| f.worst.key())))
            data-testid="workflow-card"
            data-workflow-sid=sid.clone()
            data-alert=move || alert().map(|m| m.key())
            data-loaded=move || if figures.with(|f| f.loaded) { "1" } else { "0" }
        >
            {if kiosk {
                // A wall has no pointer: the card is not a link.
                view! {
                    <div class="card-head">
                        <h2 class="card-title">{workflow.name.clone()}</h2>
                    </div>
                }
                    .into_any()
            } else {
                view! {
                    <a class="card-head" href=link on:click=open>
                        <h2 class="card-title">{workflow.name.clone()}</h2>
                        <span class="card-more">"Details →"</span>
                    </a>
                }
                    .into_any()
            }}
            <div class="card-metrics">
                <Tile testid="card-pending" label="Pending" figure=figure_of(figures, |f| &f.pending) compact=true/>
                <Tile
                    testid="card-longest"
                    label="Longest waiting"
                    figure=figure_of(figures, |f| &f.longest)
                    compact=true
                />
                <Tile testid="card-total" label="Total tasks" figure=figure_of(figures, |f| &f.total) compact=true/>
                <Tile
                    testid="card-sla"
                    label="Service level"
                    figure=figure_of(figures, |f| &f.service_level)
                    compact=true
                />
            </div>
        </article>
    }
}
