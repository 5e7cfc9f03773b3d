//! The last hour of the workflow's realtime numbers, as collected from the snapshots.

use leptos::prelude::*;

use super::{ChartCanvas, Legend, painter};
use crate::charts::{self, Tone};
use crate::state::use_state;

#[component]
pub fn TrendPanel() -> impl IntoView {
    let state = use_state();
    let data = Memo::new(move |_| {
        // The time axis moves in 5 s steps: a redraw per second would be wasted on a 1 h span.
        let now = (state.now_ms.get() / 5000.0).ceil() as i64 * 5000;
        let wf = state.workflow.with(|w| w.as_ref().map(|w| w.sid.clone()))?;
        state.trends.with(|t| t.get(&wf).filter(|t| !t.is_empty()).map(|t| charts::trend::data(t, now)))
    });
    view! {
        <figure class="chart-card chart-wide">
            <figcaption class="chart-title">
                "Last hour"
                <span class="chart-sub">"live tasks, sampled from every update since this page opened"</span>
            </figcaption>
            <ChartCanvas
                testid="chart-trend"
                label="Total, pending and assigned tasks over the last hour"
                paint=painter(data, charts::trend::draw)
            />
            <Legend items=vec![("Total", Tone::Accent), ("Pending", Tone::Warn), ("Assigned", Tone::Good)]/>
        </figure>
    }
}
