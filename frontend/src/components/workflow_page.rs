//! A workflow in detail: realtime tiles and trend, the cumulative panel, colour settings.

use leptos::prelude::*;

use super::{
    ConnectionBadge, CumulativePanel, LevelSettings, Notice, RealtimeTiles, TrendPanel, href, is_modified_click,
};
use crate::model::view::Page;
use crate::state::{Remote, use_state};

#[component]
pub fn WorkflowPage() -> impl IntoView {
    let state = use_state();
    // A kiosk has no controls at all: no workflow picker, no colour settings.
    let kiosk = state.view.with_untracked(|v| v.kiosk);
    let workflows = move || {
        state.directory.with(|d| match d {
            Remote::Ready(d) => d.workflows.clone(),
            _ => Vec::new(),
        })
    };
    let current = move || state.workflow.get().map(|w| w.sid).unwrap_or_default();
    let pick = move |ev: leptos::ev::Event| {
        let sid = event_target_value(&ev);
        state.navigate(true, |v| {
            v.page = Page::Workflow;
            v.workflow = Some(sid);
        });
    };
    // This workflow's days (`page=history`).
    let history_href = move || {
        href(&state.view.with(|v| {
            let mut v = v.clone();
            v.page = Page::History;
            v.workflow = state.workflow.with(|w| w.as_ref().map(|w| w.sid.clone()));
            v.agent_queue = None;
            v
        }))
    };
    let to_history = move |ev: leptos::ev::MouseEvent| {
        if !is_modified_click(&ev) {
            ev.prevent_default();
            let wf = state.workflow.with_untracked(|w| w.as_ref().map(|w| w.sid.clone()));
            state.navigate(true, |v| {
                v.page = Page::History;
                v.workflow = wf;
                v.agent_queue = None;
            });
        }
    };
    // Built once while a workflow is shown (a plain `Option` view: `<Show>` costs more wasm).
    let shown = Memo::new(move |_| state.workflow.with(Option::is_some));
    let missing =
        move || {
            if state.workflow.with(Option::is_some) {
                return None;
            }
            Some(state.directory.with(|d| {
                match d {
            Remote::Loading => view! { <Notice title="Loading…"/> }.into_any(),
            Remote::Failed(e) => view! { <Notice title="The workflows cannot be listed" detail=e.clone()/> }.into_any(),
            Remote::Ready(_) => view! {
                <Notice title="This workflow is not known" detail="Pick another one, or go back to the overview."/>
            }
            .into_any(),
        }
            }))
        };
    view! {
        <section
            class="workflow"
            data-testid="workflow-page"
            data-workflow-sid=move || state.workflow.with(|w| w.as_ref().map(|w| w.sid.clone()))
        >
            <div class="page-head">
                <h1>{move || state.workflow.get().map(|w| w.name).unwrap_or_default()}</h1>
                {if kiosk {
                    view! { <ConnectionBadge/> }.into_any()
                } else {
                    view! {
                        <label class="control control-inline">
                            <span class="control-label">"Workflow"</span>
                            <select class="select" on:change=pick prop:value=current>
                                {move || {
                                    workflows()
                                        .into_iter()
                                        .map(|w| {
                                            let selected = {
                                                let sid = w.sid.clone();
                                                move || current() == sid
                                            };
                                            view! {
                                                <option value=w.sid.clone() selected=selected>
                                                    {w.name.clone()}
                                                </option>
                                            }
                                        })
                                        .collect_view()
                                }}
                            </select>
                        </label>
                        <a class="tab" data-testid="workflow-history" href=history_href on:click=to_history>
                            "History · 30 days"
                        </a>
                    }
                        .into_any()
                }}
            </div>
            {missing}
            {move || {
                shown
                    .get()
                    .then(|| {
                        view! {
                            <h2 class="section-title">"Now" <span class="section-sub">"all channels"</span></h2>
                            <RealtimeTiles/>
                            <TrendPanel/>
                            <CumulativePanel/>
                            {(!kiosk).then(|| view! { <LevelSettings/> })}
                        }
                    })
            }}
        </section>
    }
}
