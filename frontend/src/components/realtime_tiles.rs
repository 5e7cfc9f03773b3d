//! The realtime tiles of a workflow: total, pending, reserved, assigned, wrapping, longest
//! waiting (ticking every second in the browser), and tasks by priority.

use leptos::prelude::*;
use wallboard_shared::resources::RealTimeStats;

use super::Tile;
use crate::browser;
use crate::model::age;
use crate::model::format;
use crate::model::levels::Metric;
use crate::state::use_state;

#[derive(Debug, Clone, PartialEq)]
struct Realtime {
    stats: RealTimeStats,
    at_ms: Option<i64>,
    received_ms: f64,
}

#[component]
pub fn RealtimeTiles() -> impl IntoView {
    let state = use_state();
    let realtime = Memo::new(move |_| {
        let id = state.plan.with(|p| p.realtime.clone())?;
        state.snapshots.with(|s| {
            s.get(&id).map(|e| Realtime {
                stats: e.snapshot.realtime.clone(),
                at_ms: age::parse_at(&e.snapshot.at),
                received_ms: e.received_ms,
            })
        })
    });
    let levels = move || state.view.with(|v| v.levels);
    let number = move |pick: fn(&RealTimeStats) -> u64| {
        let shown = Signal::derive(move || {
            realtime.with(|r| r.as_ref().map_or(format::NONE.to_owned(), |r| format::count(pick(&r.stats))))
        });
        let raw = Signal::derive(move || {
            realtime.with(|r| r.as_ref().map(|r| pick(&r.stats).to_string()).unwrap_or_default())
        });
        (shown, raw)
    };
    let (total, total_raw) = number(|s| s.total_tasks);
    let (pending, pending_raw) = number(|s| s.tasks_by_status.pending);
    let (reserved, reserved_raw) = number(|s| s.tasks_by_status.reserved);
    let (assigned, assigned_raw) = number(|s| s.tasks_by_status.assigned);
    let (wrapping, wrapping_raw) = number(|s| s.tasks_by_status.wrapping);
    let pending_level = Signal::derive(move || {
        levels()
            .classify(Metric::Pending, realtime.with(|r| r.as_ref().map(|r| r.stats.tasks_by_status.pending as f64)))
    });
    let age_now = move || {
        let now = state.now_ms.get();
        realtime.with(|r| {
            r.as_ref().map(|r| {
                age::waiting_age_now(
                    r.stats.longest_task_waiting_age,
                    r.at_ms,
                    r.received_ms,
                    now,
                    browser::clock_skew_ms(),
                )
            })
        })
    };
    let longest = Signal::derive(move || age_now().map_or(format::NONE.to_owned(), format::duration));
    let longest_raw = Signal::derive(move || age_now().map(|a| a.to_string()).unwrap_or_default());
    let longest_level = Signal::derive(move || levels().classify(Metric::LongestWait, age_now().map(|a| a as f64)));
    let longest_hint = Signal::derive(move || {
        realtime.with(|r| match r.as_ref().and_then(|r| r.stats.longest_task_waiting_sid.as_ref()) {
            Some(sid) => format!("task …{}", &sid.as_str()[sid.as_str().len().saturating_sub(6)..]),
            None => "no task pending".to_owned(),
        })
    });
    let priorities = move || {
        realtime.with(|r| {
            // Highest priority first (priorities are decimal strings on the wire); an
            // insertion sort of a few entries costs the wasm less than a sort.
            let mut list: Vec<(i64, String, u64)> = Vec::new();
            for (p, n) in r.as_ref().map(|r| &r.stats.tasks_by_priority).into_iter().flatten() {
                let key = p.parse::<i64>().unwrap_or(0);
                let at = list.partition_point(|(k, _, _)| *k >= key);
                list.insert(at, (key, p.clone(), *n));
            }
            list.into_iter().map(|(_, p, n)| (p, n)).collect::<Vec<_>>()
        })
    };
    let priority_total = move || priorities().iter().map(|(_, n)| *n).sum::<u64>().max(1);
    view! {
        <div class="tiles">
            <Tile testid="tile-total" label="Total tasks" value=total raw=total_raw/>
            <Tile testid="tile-pending" label="Pending" value=pending raw=pending_raw level=pending_level/>
            <Tile testid="tile-reserved" label="Reserved" value=reserved raw=reserved_raw/>
            <Tile testid="tile-assigned" label="Assigned" value=assigned raw=assigned_raw/>
            <Tile testid="tile-wrapping" label="Wrapping" value=wrapping raw=wrapping_raw/>
            <Tile
                testid="tile-longest"
                label="Longest waiting"
                value=longest
                raw=longest_raw
                level=longest_level
                hint=longest_hint
            />
        </div>
        <div class="priorities" data-testid="tasks-by-priority">
            <span class="priorities-title">"Tasks by priority"</span>
            {move || {
                let list = priorities();
                if list.is_empty() {
                    view! { <span class="muted">"no live tasks"</span> }.into_any()
                } else {
                    let total = priority_total();
                    list.into_iter()
                        .map(|(p, n)| {
                            // Through the CSSOM (`style:`), which the page's CSP allows, unlike `style=""`.
                            let width = format!("{}%", n * 100 / total);
                            view! {
                                <span class="priority" data-priority=p.clone() data-value=n.to_string()>
                                    <span class="priority-name">{format!("P{p}")}</span>
                                    <span class="priority-bar">
                                        <span class="priority-fill" style:width=width></span>
                                    </span>
                                    <span class="priority-count">{format::count(n)}</span>
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
