//! The agent board: agents per activity (a bar each), busy against idle, occupancy over
//! multi-channel capacity, and the agents table (activity, ticking time in state, tasks,
//! channels), filtered by queue and skill and highlighted past the configured times. Only
//! the rows on screen are drawn, keyed by agent, so 2,000 agents scroll smoothly.
//! The agents per activity and in all are the `workers` subscription's snapshots (without
//! filters; filtered, they are counted over the listed agents); the table is the REST list.

use leptos::html::Div;
use leptos::prelude::*;

use super::tile::figure_of;
use super::{ConnectionBadge, ExportButton, Lines, Notice, Tile};
use crate::browser;
use crate::model::agents::{BoardFigures, ROW_PX, activity_bars, agent_rows, skills_of, visible_range, workers_query};
use crate::model::alerts::Mark;
use crate::model::figure::Now;
use crate::model::floor::board_counts;
use crate::model::format;
use crate::state::use_state;

#[component]
pub fn AgentBoard() -> impl IntoView {
    let state = use_state();
    let floor = state.floor;
    let kiosk = state.view.with_untracked(|v| v.kiosk);
    // The rows as the answers say them (a new answer rebuilds them); what ticks is
    // computed for the rows on screen only (`shown`).
    let rows = Memo::new(move |_| {
        browser::probe_update();
        floor
            .workers
            .with(|w| w.as_ref().map(|w| floor.activities.with(|a| floor.channels.with(|c| agent_rows(&w.data, a, c)))))
    });
    let counts = Memo::new(move |_| {
        state.plan.with(|p| {
            state.snapshots.with(|s| floor.workers.with(|w| board_counts(p, s, w.as_ref().map(|w| w.data.as_slice()))))
        })
    });
    let figures = Memo::new(move |_| {
        let agents = counts.with(|c| c.as_ref().map(|c| c.1));
        rows.with(|r| floor.channels.with(|c| BoardFigures::new(r.as_deref().unwrap_or_default(), c, agents)))
    });
    let bars = Memo::new(move |_| {
        counts.with(|c| {
            let (counts, total) = c.as_ref().map_or((&[][..], 0), |c| (c.0.as_slice(), c.1));
            floor.activities.with(|a| activity_bars(counts, total, a))
        })
    });
    let total = move || rows.with(|r| r.as_ref().map_or(0, Vec::len));

    // The scrolled window of the table.
    let scroller = NodeRef::<Div>::new();
    let scroll = RwSignal::new((0.0f64, 800.0f64));
    let measure = move || {
        if let Some(el) = scroller.get_untracked() {
            let next = (f64::from(el.scroll_top()), f64::from(el.client_height()));
            if scroll.get_untracked() != next {
                scroll.set(next);
            }
        }
    };
    Effect::new(move |_| {
        state.resized.track();
        if scroller.get().is_some() {
            request_animation_frame(measure);
        }
    });
    let range = Memo::new(move |_| {
        let (top, height) = scroll.get();
        visible_range(total(), top, height)
    });
    let shown = Memo::new(move |_| {
        browser::probe_update();
        let now = Now { ms: state.now_ms.get(), skew_ms: browser::clock_skew_ms() };
        let levels = state.view.with(|v| v.levels);
        let (start, end) = range.get();
        rows.with(|r| {
            r.as_ref()
                .map(|r| r[start.min(r.len())..end.min(r.len())].iter().map(|a| a.line(&levels, now)).collect())
                .unwrap_or_default()
        })
    });

    let notice = move || match (rows.with(Option::is_none), floor.problem.get()) {
        (true, Some(problem)) => Some(view! { <Notice title="The agents cannot be shown" detail=problem/> }.into_any()),
        (true, None) => Some(view! { <Notice title="Loading agents…"/> }.into_any()),
        (false, _) if total() == 0 => Some(view! { <Notice title="No agent matches"/> }.into_any()),
        _ => None,
    };
    let filters = (!kiosk).then(|| view! { <Filters/> });
    // The export of the table: the Workers list with the board's filters.
    let export = Signal::derive(move || {
        let ws = state.workspace()?;
        let query = state.view.with(|v| workers_query(v.agent_queue.as_deref(), v.skill.as_deref()));
        Some(format!("/v1/Workspaces/{ws}/Workers?{query}"))
    });
    let export = (!kiosk).then(|| view! { <ExportButton resource=export testid="export-agents"/> });
    view! {
        <section class="agents" data-testid="agent-board">
            <div class="page-head">
                {kiosk.then(|| view! { <ConnectionBadge/> })}
                <h1>"Agents"</h1>
                {filters}
                {export}
            </div>
            <div class="agents-top">
                <div class="tiles agents-kpi">
                    <Tile testid="agents-total" label="Agents" figure=figure_of(figures, |f| &f.agents) compact=true/>
                    <Tile testid="agents-busy" label="Busy" figure=figure_of(figures, |f| &f.busy) compact=true/>
                    <Tile testid="agents-idle" label="Idle" figure=figure_of(figures, |f| &f.idle) compact=true/>
                    <Tile
                        testid="agents-occupancy"
                        label="Occupancy"
                        figure=figure_of(figures, |f| &f.occupancy)
                        compact=true
                    />
                </div>
                <ul class="activity-bars" data-testid="activity-bars" aria-label="Agents per activity">
                    {move || {
                        let marks = state.marks.get();
                        bars.get()
                            .into_iter()
                            .map(|b| {
                                // An alert on the activity's agent count marks its bar.
                                let mark = marks.of_sid(&b.sid);
                                let class = Mark::classes(mark, &format!("activity presence-{}", b.presence.key()));
                                view! {
                                    <li
                                        class=class
                                        data-activity=b.name.clone()
                                        data-value=b.count.to_string()
                                        data-alert=mark.map(|m| m.key())
                                    >
                                        <span class="activity-name">{b.name.clone()}</span>
                                        <span class="activity-bar">
                                            <span class="activity-fill" style:width=b.width></span>
                                        </span>
                                        <span class="activity-count">{format::count(b.count)}</span>
                                    </li>
                                }
                            })
                            .collect_view()
                    }}
                </ul>
            </div>
            {notice}
            <div class="atable" role="table" aria-label="Agents" aria-rowcount=move || total().to_string()>
                <div class="arow ahead" role="row">
                    <div class="acell" role="columnheader">"Agent"</div>
                    <div class="acell" role="columnheader">"Activity"</div>
                    <div class="acell a-num" role="columnheader">"In state"</div>
                    <div class="acell a-num" role="columnheader">"Tasks"</div>
                    <div class="acell" role="columnheader">"Channels"</div>
                </div>
                <div class="ascroll" node_ref=scroller on:scroll=move |_| measure()>
                    <div class="aspace" style:height=move || format!("{}px", total() as f64 * ROW_PX)>
                        <div class="awindow" style:transform=move || format!("translateY({}px)", range.get().0 as f64 * ROW_PX)>
                            <Lines lines=shown testid="agent-row" columns=&COLUMNS/>
                        </div>
                    </div>
                </div>
            </div>
        </section>
    }
}

/// The cell classes of the agents table.
const COLUMNS: [&str; 5] =
    ["acell a-name", "acell a-activity", "acell a-num a-time", "acell a-num a-tasks", "acell a-channels"];

/// The queue and skill filters (kept in the URL).
#[component]
fn Filters() -> impl IntoView {
    let state = use_state();
    let floor = state.floor;
    let queue = move || state.view.with(|v| v.agent_queue.clone()).unwrap_or_default();
    let skill = move || state.view.with(|v| v.skill.clone()).unwrap_or_default();
    let skills =
        Memo::new(move |_| floor.queue_list.with(|l| skills_of(l.iter().filter_map(|q| q.target_workers.as_deref()))));
    view! {
        <label class="control control-inline">
            <span class="control-label">"Queue"</span>
            <select
                class="select"
                prop:value=queue
                on:change=move |ev| {
                    let raw = event_target_value(&ev);
                    state.navigate(false, |v| v.agent_queue = (!raw.is_empty()).then_some(raw));
                }
            >
                <option value="">"All queues"</option>
                {move || {
                    floor
                        .queue_list
                        .get()
                        .into_iter()
                        .map(|q| {
                            let sid = q.sid.clone();
                            view! { <option value=q.sid.clone() selected=move || queue() == sid>{q.friendly_name.clone()}</option> }
                        })
                        .collect_view()
                }}
            </select>
        </label>
        <label class="control control-inline">
            <span class="control-label">"Skill"</span>
            <select
                class="select"
                prop:value=skill
                on:change=move |ev| {
                    let raw = event_target_value(&ev);
                    state.navigate(false, |v| v.skill = (!raw.is_empty()).then_some(raw));
                }
            >
                <option value="">"All skills"</option>
                {move || {
                    skills
                        .get()
                        .into_iter()
                        .map(|s| {
                            let name = s.clone();
                            view! { <option value=s.clone() selected=move || skill() == name>{s.clone()}</option> }
                        })
                        .collect_view()
                }}
            </select>
        </label>
    }
}
