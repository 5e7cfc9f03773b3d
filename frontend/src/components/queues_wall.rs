//! The queues wall: a row per task queue with waiting tasks, the longest wait (ticking),
//! today's service level, agents available / busy / unavailable / offline and waiting per
//! available agent, sortable by each column (not on a kiosk), coloured by the model's levels.
//! Rows are keyed by queue: a tick or a new answer updates their texts, a new order moves them.

use leptos::prelude::*;

use super::{ConnectionBadge, Notice};
use crate::browser;
use crate::model::figure::Now;
use crate::model::floor::{Column, QueueRow, queue_rows, ratio_text};
use crate::model::format;
use crate::model::levels::Level;
use crate::state::use_state;

#[component]
pub fn QueuesWall() -> impl IntoView {
    let state = use_state();
    let floor = state.floor;
    let kiosk = state.view.with_untracked(|v| v.kiosk);
    let names = Memo::new(move |_| {
        floor.queue_list.with(|l| l.iter().map(|q| (q.sid.clone(), q.friendly_name.clone())).collect::<Vec<_>>())
    });
    let rows = Memo::new(move |_| {
        let now = Now { ms: state.now_ms.get(), skew_ms: browser::clock_skew_ms() };
        let answer = floor.queues.get()?;
        let (levels, threshold, sort) = state.view.with(|v| (v.levels, v.headline_threshold(), v.sort));
        Some(floor.activities.with(|a| names.with(|n| queue_rows(&answer, n, a, &levels, threshold, sort, now))))
    });
    let order =
        Memo::new(move |_| rows.with(|r| r.as_ref().map(|r| r.iter().map(|q| q.sid.clone()).collect::<Vec<_>>())));
    let count = move || order.with(|o| o.as_ref().map_or(0, Vec::len));
    let notice = move || match (order.with(Option::is_none), floor.problem.get()) {
        (true, Some(problem)) => Some(view! { <Notice title="The queues cannot be shown" detail=problem/> }.into_any()),
        (true, None) => Some(view! { <Notice title="Loading queues…"/> }.into_any()),
        (false, _) if count() == 0 => {
            Some(view! { <Notice title="This workspace has no task queues yet"/> }.into_any())
        }
        _ => None,
    };
    let sort = move || state.view.with(|v| v.sort);
    let heads = Column::ALL
        .into_iter()
        .map(|column| {
            let aria = move || match sort() {
                s if s.column != column => "none",
                s if s.descending => "descending",
                _ => "ascending",
            };
            let label = column.label();
            let cell = if kiosk {
                view! { <span>{label}</span> }.into_any()
            } else {
                view! {
                    <button
                        type="button"
                        class="sort"
                        data-sort=column.key()
                        on:click=move |_| state.navigate(false, |v| v.sort = v.sort.clicked(column))
                    >
                        {label}
                    </button>
                }
                .into_any()
            };
            view! {
                <div class=format!("qcell qh q-{}", column.key()) role="columnheader" aria-sort=aria>
                    {cell}
                </div>
            }
        })
        .collect_view();
    // The rows share the wall's height (up to 50 on a 1080p kiosk, no scrollbar).
    // The rows share the wall's height (up to 50 on a 1080p kiosk, no scrollbar). Set
    // through the CSSOM (`style:`), which the page's CSP allows, unlike `style=""`.
    let grid_rows = move || format!("auto repeat({}, minmax(0, 1fr))", count().max(1));
    view! {
        <section class="queues" data-testid="queues-wall">
            <div class="page-head">
                {kiosk.then(|| view! { <ConnectionBadge/> })}
                <h1>"Queues"</h1>
                <p class="page-sub">
                    {move || {
                        format!(
                            "{} queues · service level today at {} s · agents eligible for each queue",
                            count(),
                            state.view.with(|v| v.headline_threshold()),
                        )
                    }}
                </p>
            </div>
            {notice}
            <div class="qtable" role="table" aria-label="Task queues" style:grid-template-rows=grid_rows>
                <div class="qrow qhead" role="row">{heads}</div>
                <For
                    each=move || order.get().unwrap_or_default()
                    key=|sid| sid.clone()
                    children=move |sid| {
                        let row = Memo::new(move |_| {
                            rows.with(|r| r.as_ref().and_then(|r| r.iter().find(|q| q.sid == sid).cloned()))
                        });
                        view! { <QueueLine row=row/> }
                    }
                />
            </div>
        </section>
    }
}

/// One queue's row; each cell follows its own part of the row.
#[component]
fn QueueLine(row: Memo<Option<QueueRow>>) -> impl IntoView {
    let pick = move |f: fn(&QueueRow) -> String| move || row.with(|r| r.as_ref().map(f).unwrap_or_default());
    let level = move |f: fn(&QueueRow) -> Level| move || row.with(|r| r.as_ref().map_or(Level::Unknown, f)).key();
    view! {
        <div
            class=move || format!("qrow level-{}", level(|r| r.levels.row)())
            role="row"
            data-testid="queue-row"
            data-queue-sid=pick(|r| r.sid.clone())
        >
            <div class="qcell q-name" role="rowheader">{pick(|r| r.name.clone())}</div>
            <div class="qcell q-waiting" role="cell" data-level=level(|r| r.levels.waiting) data-value=pick(|r| r.waiting.to_string())>
                {pick(|r| format::count(r.waiting))}
            </div>
            <div class="qcell q-longest" role="cell" data-level=level(|r| r.levels.longest) data-value=pick(|r| r.longest.to_string())>
                {pick(|r| format::duration(r.longest))}
            </div>
            <div class="qcell q-sl" role="cell" data-level=level(|r| r.levels.service_level)>
                {pick(|r| format::percent(r.service_level))}
            </div>
            <div class="qcell q-available" role="cell" data-value=pick(|r| r.available.to_string())>
                {pick(|r| format::count(r.available))}
            </div>
            <div class="qcell q-busy" role="cell">{pick(|r| format::count(r.busy))}</div>
            <div class="qcell q-unavailable" role="cell">{pick(|r| format::count(r.unavailable))}</div>
            <div class="qcell q-offline" role="cell">{pick(|r| format::count(r.offline))}</div>
            <div class="qcell q-ratio" role="cell" data-level=level(|r| r.levels.ratio)>
                {pick(|r| ratio_text(r.ratio))}
            </div>
        </div>
    }
}
