//! The last hour of the workflow's realtime numbers: the server's history (one sample per
//! 10 s, sent when the page subscribes), then every snapshot since.

use leptos::prelude::*;

use super::chart_canvas::Painter;
use super::{ChartCanvas, Legend};
use crate::charts::{self, Tone};
use crate::state::use_state;

/// What the chart shows, without its samples: they are read in place from the page's trends
/// when it draws (a copy of an hour, 144 KiB, per update would churn the wasm heap).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Shown {
    workflow: String,
    now_ms: i64,
    revision: u64,
    samples: usize,
    oldest_ms: i64,
}

#[component]
pub fn TrendPanel() -> impl IntoView {
    let state = use_state();
    let shown = Memo::new(move |_| {
        // The time axis moves in 5 s steps: a redraw per second would be wasted on a 1 h span.
        let now_ms = (state.now_ms.get() / 5000.0).ceil() as i64 * 5000;
        let workflow = state.workflow.with(|w| w.as_ref().map(|w| w.sid.clone()))?;
        let (revision, samples, oldest_ms) =
            state.trends.with(|t| t.get(&workflow).and_then(|t| Some((t.revision(), t.len(), t.first()?.at_ms))))?;
        Some(Shown { workflow, now_ms, revision, samples, oldest_ms })
    });
    let paint: Painter = Box::new(move |canvas, palette| {
        shown.with(|s| {
            let s = s.as_ref()?;
            state
                .trends
                .with_untracked(|t| t.get(&s.workflow).map(|t| charts::trend::draw(canvas, t, s.now_ms, palette)))
        })
    });
    // For the end-to-end tests: how many samples, and when the oldest was (page clock).
    let count = move || shown.with(|s| s.as_ref().map_or(0, |s| s.samples));
    let oldest = move || shown.with(|s| s.as_ref().map(|s| s.oldest_ms));
    view! {
        <figure class="chart-card chart-wide" data-testid="trend-panel" data-samples=count data-oldest-ms=oldest>
            <figcaption class="chart-title">
                "Last hour"
                <span class="chart-sub">"live tasks: the server's samples, then every update"</span>
            </figcaption>
            <ChartCanvas testid="chart-trend" label="Total, pending and assigned tasks over the last hour" paint=paint/>
            <Legend items=vec![("Total", Tone::Accent), ("Pending", Tone::Warn), ("Assigned", Tone::Good)]/>
        </figure>
    }
}
