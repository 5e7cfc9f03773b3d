//! A workflow's card on the overview: pending, longest waiting, total, service level.

use leptos::prelude::*;

use super::{Tile, href, is_modified_click};
use crate::browser;
use crate::model::age;
use crate::model::format;
use crate::model::levels::{Level, Metric};
use crate::model::sla;
use crate::model::subscriptions::OVERVIEW_MINUTES;
use crate::model::view::Page;
use crate::state::{WorkflowInfo, use_state};

/// What a card shows of its snapshot.
#[derive(Debug, Clone, PartialEq)]
struct CardNumbers {
    total: u64,
    pending: u64,
    age: u64,
    at_ms: Option<i64>,
    received_ms: f64,
    service_level: Option<f64>,
}

#[component]
pub fn WorkflowCard(workflow: WorkflowInfo) -> impl IntoView {
    let state = use_state();
    let kiosk = state.view.with_untracked(|v| v.kiosk);
    let sid = workflow.sid.clone();
    let numbers = {
        let sid = sid.clone();
        Memo::new(move |_| {
            let id = state.plan.with(|p| p.card(&sid).map(str::to_owned))?;
            let threshold = state.view.with(|v| v.headline_threshold());
            state.snapshots.with(|s| {
                let entry = s.get(&id)?;
                let rt = &entry.snapshot.realtime;
                Some(CardNumbers {
                    total: rt.total_tasks,
                    pending: rt.tasks_by_status.pending,
                    age: rt.longest_task_waiting_age,
                    at_ms: age::parse_at(&entry.snapshot.at),
                    received_ms: entry.received_ms,
                    service_level: entry.snapshot.cumulative.as_ref().and_then(|c| sla::service_level_at(c, threshold)),
                })
            })
        })
    };
    let levels = move || state.view.with(|v| v.levels);
    let age_now = move || {
        numbers.with(|n| {
            n.as_ref().map(|n| {
                age::waiting_age_now(n.age, n.at_ms, n.received_ms, state.now_ms.get(), browser::clock_skew_ms())
            })
        })
    };
    let count = move |pick: fn(&CardNumbers) -> u64| {
        (
            Signal::derive(move || {
                numbers.with(|n| n.as_ref().map_or(format::NONE.to_owned(), |n| format::count(pick(n))))
            }),
            Signal::derive(move || numbers.with(|n| n.as_ref().map(|n| pick(n).to_string()).unwrap_or_default())),
        )
    };
    let (pending, pending_raw) = count(|n| n.pending);
    let (total, total_raw) = count(|n| n.total);
    let pending_level = Signal::derive(move || {
        let v = numbers.with(|n| n.as_ref().map(|n| n.pending as f64));
        levels().classify(Metric::Pending, v)
    });
    let longest = Signal::derive(move || age_now().map_or(format::NONE.to_owned(), format::duration));
    let longest_raw = Signal::derive(move || age_now().map(|a| a.to_string()).unwrap_or_default());
    let longest_level = Signal::derive(move || levels().classify(Metric::LongestWait, age_now().map(|a| a as f64)));
    let sl = move || numbers.with(|n| n.as_ref().and_then(|n| n.service_level));
    let sl_text = Signal::derive(move || format::percent(sl()));
    let sl_raw = Signal::derive(move || format::percent_value(sl()).unwrap_or_default());
    let sl_level = Signal::derive(move || levels().classify_share(Metric::ServiceLevel, sl()));
    let worst = move || {
        let all = [pending_level.get(), longest_level.get(), sl_level.get()];
        if all.contains(&Level::Bad) {
            "bad"
        } else if all.contains(&Level::Warn) {
            "warn"
        } else if all.contains(&Level::Good) {
            "good"
        } else {
            "unknown"
        }
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
    let sl_hint = Signal::derive(move || {
        format!("at {} s · {OVERVIEW_MINUTES} min", state.view.with(|v| v.headline_threshold()))
    });
    view! {
        <article
            class=move || format!("card card-{}", worst())
            data-testid="workflow-card"
            data-workflow-sid=sid.clone()
            data-loaded=move || if numbers.with(Option::is_some) { "1" } else { "0" }
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
                <Tile testid="card-pending" label="Pending" value=pending raw=pending_raw level=pending_level compact=true/>
                <Tile
                    testid="card-longest"
                    label="Longest waiting"
                    value=longest
                    raw=longest_raw
                    level=longest_level
                    compact=true
                />
                <Tile testid="card-total" label="Total tasks" value=total raw=total_raw compact=true/>
                <Tile
                    testid="card-sla"
                    label="Service level"
                    value=sl_text
                    raw=sl_raw
                    level=sl_level
                    hint=sl_hint
                    compact=true
                />
            </div>
        </article>
    }
}
