//! The last hour of the workflow's realtime numbers: the server's history (one sample per
//! 10 s, sent when the page subscribes), then every snapshot since.

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
    // For the end-to-end tests: how many samples, and when the oldest was (page clock).
    let count = move || data.with(|d| d.as_ref().map_or(0, |d| d.samples.len()));
    let oldest = move || data.with(|d| d.as_ref().and_then(|d| d.samples.first()).map(|s| s.at_ms));
    view! {
        <figure class="chart-card chart-wide" data-testid="trend-panel" data-samples=count data-oldest-ms=oldest>
            <figcaption class="chart-title">
                "Last hour"
                <span class="chart-sub">"live tasks: the server's samples, then every update"</span>
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
