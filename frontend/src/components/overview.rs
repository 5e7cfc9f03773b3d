//! The overview: every workflow of the workspace as a card.

use leptos::prelude::*;

use super::{ConnectionBadge, Notice, WorkflowCard};
use crate::model::figure::kiosk_columns;
use crate::model::subscriptions::OVERVIEW_MINUTES;
use crate::state::{Remote, WorkflowInfo, use_state};

#[component]
pub fn Overview() -> impl IntoView {
    let state = use_state();
    let workflows = Memo::new(move |_| {
        state.directory.with(|d| match d {
            Remote::Ready(d) => d.workflows.clone(),
            _ => Vec::<WorkflowInfo>::new(),
        })
    });
    let notice = move || {
        state.directory.with(|d| match d {
            Remote::Loading => Some(view! { <Notice title="Loading workflows…"/> }),
            Remote::Failed(e) => Some(view! { <Notice title="The workflows cannot be listed" detail=e.clone()/> }),
            Remote::Ready(d) if d.workspace.is_none() => Some(view! {
                <Notice
                    title="No data yet"
                    detail="Workflows appear here as soon as the first TaskRouter events arrive."
                />
            }),
            Remote::Ready(d) if d.workflows.is_empty() => {
                Some(view! { <Notice title="This workspace has no workflows yet"/> })
            }
            Remote::Ready(_) => None,
        })
    };
    let kiosk = state.view.with_untracked(|v| v.kiosk);
    // A kiosk fits every card on the screen: columns by count, rows share the height.
    let grid = move || format!("card-grid cols-{}", kiosk_columns(workflows.with(Vec::len)));
    view! {
        <section class="overview" data-testid="overview">
            <div class="page-head">
                {kiosk.then(|| view! { <ConnectionBadge/> })}
                <h1>"Workflows"</h1>
                <p class="page-sub">
                    {format!(
                        "Live tasks now · service level of the last {OVERVIEW_MINUTES} min by each workflow's definition"
                    )}
                </p>
            </div>
            {notice}
            // The list changes only when a workflow appears (the memo keeps it otherwise), so
            // the cards are simply rebuilt then: no keyed diffing needed.
            <div class=grid>
                {move || {
                    workflows.get().into_iter().map(|w| view! { <WorkflowCard workflow=w/> }).collect_view()
                }}
            </div>
        </section>
    }
}
