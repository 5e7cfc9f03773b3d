//! The queues wall: a row per task queue with waiting tasks, the longest wait (ticking),
//! today's service level (under the queue's definition, its formula as the cell's title),
//! agents available / busy / unavailable / offline and waiting per available agent, sortable
//! by each column (not on a kiosk), coloured by the model's levels.
//! Rows are keyed by queue: a tick or a new snapshot updates their texts, a new order moves them.
//! Each queue's numbers are the snapshots of its `task_queue` subscription; the queues beyond
//! the plan's limit come from the REST statistics list (`crate::floor`). A queue that a
//! firing alert targets is marked (`data-alert`, flashing, a badge).

use leptos::prelude::*;

use super::{ConnectionBadge, Lines, Notice};
use crate::browser;
use crate::model::figure::Now;
use crate::model::floor::{Column, queue_rows, refusal, wall_loaded, wall_stats};
use crate::state::use_state;

#[component]
pub fn QueuesWall() -> impl IntoView {
    let state = use_state();
    let floor = state.floor;
    let kiosk = state.view.with_untracked(|v| v.kiosk);
    let names = Memo::new(move |_| {
        floor.queue_list.with(|l| l.iter().map(|q| (q.sid.clone(), q.friendly_name.clone())).collect::<Vec<_>>())
    });
    // None until the first answer; the rows as the wall draws them, in order.
    let lines = Memo::new(move |_| {
        let now = Now { ms: state.now_ms.get(), skew_ms: browser::clock_skew_ms() };
        let (levels, sort) = state.view.with(|v| (v.levels, v.sort));
        state.plan.with(|plan| {
            state.snapshots.with(|snapshots| {
                floor.queues.with(|rest| {
                    let queues = wall_stats(plan, snapshots, rest.as_ref());
                    if !wall_loaded(floor.queues_listed.get(), plan, queues.len()) {
                        return None;
                    }
                    let rows = floor.activities.with(|a| {
                        names.with(|n| state.definitions.with(|d| queue_rows(&queues, n, a, &levels, d, sort, now)))
                    });
                    let lines = state.marks.with(|marks| {
                        rows.iter()
                            .map(|q| {
                                let mut line = q.line();
                                line.alert = marks.of_sid(&q.sid);
                                line
                            })
                            .collect::<Vec<_>>()
                    });
                    Some(lines)
                })
            })
        })
    });
    // A refused subscription (error 20403 for a link limited to some workflows) or a failed poll.
    let problem = Memo::new(move |_| {
        state.plan.with(|p| state.snapshots.with(|s| refusal(p, s))).or_else(|| floor.problem.get())
    });
    let loaded = Memo::new(move |_| lines.with(Option::is_some));
    let lines = Memo::new(move |_| lines.get().unwrap_or_default());
    let count = move || lines.with(Vec::len);
    let notice = move || match (loaded.get(), problem.get()) {
        (false, Some(problem)) => {
            Some(view! { <Notice title="The queues cannot be shown" detail=problem/> }.into_any())
        }
        (false, None) => Some(view! { <Notice title="Loading queues…"/> }.into_any()),
        (true, _) if count() == 0 => Some(view! { <Notice title="This workspace has no task queues yet"/> }.into_any()),
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
                            "{} queues · service level today by each queue's definition · agents eligible for each queue",
                            count(),
                        )
                    }}
                </p>
            </div>
            {notice}
            <div class="qtable" role="table" aria-label="Task queues" style:grid-template-rows=grid_rows>
                <div class="qrow qhead" role="row">{heads}</div>
                <Lines lines=lines testid="queue-row" columns=&COLUMNS/>
            </div>
        </section>
    }
}

/// The cell classes of the wall's columns, in [`Column::ALL`] order.
const COLUMNS: [&str; 9] = [
    "qcell q-name",
    "qcell q-waiting",
    "qcell q-longest",
    "qcell q-sl",
    "qcell q-available",
    "qcell q-busy",
    "qcell q-unavailable",
    "qcell q-offline",
    "qcell q-ratio",
];
