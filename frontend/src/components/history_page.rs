//! The history page (`page=history`): a scope's last 30 days (or 7 days by the hour) from
//! `…/HistoricalStatistics`, as a chart (volume bars, service level and abandonment lines)
//! and a table. The scope (the workspace, a workflow, a queue), the channel and day/hour
//! are in the URL; the answer is read again every minute and whenever they change.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;

use super::{ChartCanvas, ExportButton, Legend, Notice, painter};
use crate::api::{self, Failure};
use crate::browser;
use crate::charts::history::{self as chart, LEGEND};
use crate::model::format;
use crate::model::history::{self, History, label, scope};
use crate::state::{Remote, use_state};

/// How often the shown history is read again.
const REFRESH: Duration = Duration::from_secs(60);

#[component]
pub fn HistoryPage() -> impl IntoView {
    let state = use_state();
    let answer = RwSignal::new(Remote::<History>::Loading);
    let tick = RwSignal::new(0u32);
    if let Ok(handle) = set_interval_with_handle(move || tick.update(|t| *t += 1), REFRESH) {
        on_cleanup(move || handle.clear());
    }
    let latest = Rc::new(Cell::new(0u32));
    Effect::new(move |_| {
        tick.track();
        let Some(ws) = state.workspace() else { return };
        let path = state.view.with(|v| history::path(&ws, v, browser::browser_zone()));
        let seq = latest.get() + 1;
        latest.set(seq);
        let latest = latest.clone();
        leptos::task::spawn_local(async move {
            let result = api::history(&path).await;
            if latest.get() == seq {
                answer.set(match result {
                    Ok(h) => Remote::Ready(h),
                    Err(Failure::Other(e)) => Remote::Failed(e),
                    Err(_) => Remote::Failed("the link's token is refused".to_owned()),
                });
            }
        });
    });

    // The export of what the page shows: the same request, as CSV.
    let export = Signal::derive(move || {
        state.workspace().map(|ws| state.view.with(|v| history::path(&ws, v, browser::browser_zone())))
    });
    let hourly = move || state.view.with(|v| v.hourly);
    let current = move || state.view.with(|v| scope(v).to_owned());
    let pick_scope = move |ev: leptos::ev::Event| {
        let sid = event_target_value(&ev);
        state.navigate(true, |v| {
            v.workflow = sid.starts_with("WW").then(|| sid.clone());
            v.agent_queue = sid.starts_with("WQ").then_some(sid);
        });
    };
    let pick_channel = move |ev: leptos::ev::Event| {
        let ch = event_target_value(&ev);
        state.navigate(false, |v| v.channel = (!ch.is_empty()).then_some(ch));
    };
    let channel = move || state.view.with(|v| v.channel.clone().unwrap_or_default());
    // The workspace, its workflows and (for a token of the whole workspace) its queues.
    let scopes = move || {
        let mut out = vec![("default".to_owned(), "Whole workspace".to_owned())];
        state.directory.with(|d| {
            if let Remote::Ready(d) = d {
                out.extend(d.workflows.iter().map(|w| (w.sid.clone(), format!("Workflow · {}", w.name))));
            }
        });
        state.floor.queue_list.with(|q| {
            out.extend(q.iter().map(|q| (q.sid.clone(), format!("Queue · {}", q.friendly_name))));
        });
        out
    };
    let channels = move || {
        state.directory.with(|d| match d {
            Remote::Ready(d) => d.channels.iter().map(|c| (c.unique_name.clone(), c.name.clone())).collect(),
            _ => Vec::new(),
        })
    };
    let options = |list: Vec<(String, String)>, chosen: String| {
        list.into_iter()
            .map(|(value, text)| {
                let selected = value == chosen;
                view! { <option value=value selected=selected>{text}</option> }
            })
            .collect_view()
    };
    let granularity = move |by_hour: bool, text: &'static str| {
        view! {
            <button
                type="button"
                class="seg"
                class:active=move || hourly() == by_hour
                aria-pressed=move || (hourly() == by_hour).to_string()
                data-testid={if by_hour { "history-hours" } else { "history-days" }}
                on:click=move |_| state.navigate(false, |v| v.hourly = by_hour)
            >
                {text}
            </button>
        }
    };

    let chart_data = Memo::new(move |_| {
        let hourly = hourly();
        answer.with(|a| match a {
            Remote::Ready(h) => Some(chart::data(h, hourly)),
            _ => None,
        })
    });
    let body = move || {
        answer.with(|a| match a {
            Remote::Loading => view! { <Notice title="Loading…"/> }.into_any(),
            Remote::Failed(e) => view! { <Notice title="The history cannot be read" detail=e.clone()/> }.into_any(),
            Remote::Ready(h) => table(h, hourly()).into_any(),
        })
    };
    view! {
        <section class="history" data-testid="history-page">
            <div class="page-head">
                <h1>"History"</h1>
                <div class="controls">
                    <label class="control">
                        <span class="control-label">"Scope"</span>
                        <select class="select" data-testid="history-scope" on:change=pick_scope prop:value=current>
                            {move || options(scopes(), current())}
                        </select>
                    </label>
                    <label class="control">
                        <span class="control-label">"Task channel"</span>
                        <select class="select" on:change=pick_channel prop:value=channel>
                            {move || {
                                let mut list = vec![(String::new(), "All channels".to_owned())];
                                list.extend(channels());
                                options(list, channel())
                            }}
                        </select>
                    </label>
                    <div class="control">
                        <span class="control-label" id="history-by">"Periods"</span>
                        <div class="segmented" role="group" aria-labelledby="history-by">
                            {granularity(false, "Days (30)")}
                            {granularity(true, "Hours (7 days)")}
                        </div>
                    </div>
                    <ExportButton resource=export testid="export-history"/>
                </div>
            </div>
            <figure class="chart-card chart-wide">
                <figcaption class="chart-title">
                    "Per period"
                    <span class="chart-sub">"tasks entered, service level and abandonment"</span>
                </figcaption>
                <ChartCanvas
                    testid="history-chart"
                    label="Tasks entered, service level and abandonment per period"
                    paint=painter(chart_data, chart::draw)
                />
                <Legend items=LEGEND.to_vec()/>
            </figure>
            {body}
        </section>
    }
}

/// The table of a history: a row per period, newest first.
fn table(h: &History, hourly: bool) -> impl IntoView + use<> {
    let caption = format!(
        "Service level: {} ({} definition). Abandonment: abandoned ÷ (answered + abandoned). Times in {}.",
        h.definition.formula,
        match h.definition.defined_by.as_str() {
            "built_in" => "the built-in".to_owned(),
            "default" => "the workspace's".to_owned(),
            by => format!("{by}'s"),
        },
        h.time_zone
    );
    // One cell type for every column (less wasm than a view per column).
    let rows = h
        .periods
        .iter()
        .rev()
        .map(|p| {
            let wait = p.avg_wait_until_accepted.map_or_else(|| format::NONE.to_owned(), format::duration);
            let cells = [
                (Some(p.tasks_entered.to_string()), format::count(p.tasks_entered)),
                (Some(p.tasks_answered.to_string()), format::count(p.tasks_answered)),
                (Some(p.tasks_abandoned.to_string()), format::count(p.tasks_abandoned)),
                (format::percent_value(p.abandonment()), format::percent(p.abandonment())),
                (format::percent_value(p.service_level()), format::percent(p.service_level())),
                (p.avg_wait_until_accepted.map(|w| w.to_string()), wait),
            ];
            view! {
                <tr data-testid="history-row" data-start={p.start_time.clone()} data-complete={p.complete.to_string()}>
                    <th scope="row">{label(&p.start_time, hourly)}</th>
                    {cells.into_iter().map(|(value, text)| view! { <td data-value=value>{text}</td> }).collect_view()}
                </tr>
            }
        })
        .collect_view();
    let first = if hourly { "Hour" } else { "Day" };
    let heads = [first, "Entered", "Answered", "Abandoned", "Abandonment", "Service level", "Avg wait"];
    view! {
        <table class="sla-table history-table" data-testid="history-table">
            <caption>{caption}</caption>
            <thead>
                <tr>{heads.into_iter().map(|h| view! { <th scope="col">{h}</th> }).collect_view()}</tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
