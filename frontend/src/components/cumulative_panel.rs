//! The cumulative panel: window, channel and thresholds; key figures (the service level
//! under the workflow's definition); the four charts; the SLA table, whose caption says the
//! definition's formula.

use leptos::prelude::*;
use wallboard_shared::service_level::WORKSPACE_DEFAULT;

use super::tile::figure_of;
use super::{ChartCanvas, CumulativeControls, ExportButton, Legend, Notice, SlaTable, Tile, painter};
use crate::charts::{self, Tone};
use crate::model::figure::CumulativeFigures;
use crate::model::format;
use crate::model::subscriptions;
use crate::state::{Remote, use_state};

#[component]
pub fn CumulativePanel() -> impl IntoView {
    let state = use_state();
    // A kiosk shows no controls nor links, and the two charts that read best from afar.
    let kiosk = state.view.with_untracked(|v| v.kiosk);
    let stats = Memo::new(move |_| {
        let id = state.plan.with(|p| p.cumulative.clone())?;
        state.snapshots.with(|s| s.get(&id).and_then(|e| e.snapshot.cumulative().cloned()))
    });
    let refusal = move || {
        let id = state.plan.with(|p| p.cumulative.clone())?;
        state.snapshots.with(|s| s.refusal(&id).map(|r| r.message.clone()))
    };
    let problem = move || state.plan.with(|p| p.problem.clone()).or_else(refusal);

    let window_label = move || {
        stats.with(|s| {
            s.as_ref().map(|s| {
                let offset = state.zone_offset();
                let (a, b) = (s.start_time.timestamp_millis(), s.end_time.timestamp_millis());
                format::window(a, b, offset(a), offset(b))
            })
        })
    };
    let rest_link = move || {
        let (ws, query) = state.directory.with(|d| match d {
            Remote::Ready(d) => (d.workspace.as_ref().map(|w| w.0.clone()), state.plan.with(|p| p.query.clone())),
            _ => (None, None),
        });
        let wf = state.workflow.get()?;
        Some(subscriptions::statistics_path(&ws?, &wf.sid, &query?))
    };

    // The export of the panel's window (its numbers as rows, in the view's zone).
    let export = Signal::derive(move || {
        let ws = state.workspace()?;
        let query = state.plan.with(|p| p.query.clone())?;
        let wf = state.workflow.get()?;
        Some(format!("/v1/Workspaces/{ws}/Workflows/{}/CumulativeStatistics?{}", wf.sid, query.to_query_string()))
    });

    let figures = Memo::new(move |_| {
        // The shown workflow's service-level definition for the panel's channel (as its
        // subscription asks): its own, the workspace's or the built-in.
        let wf = state.workflow.with(|w| w.as_ref().map(|w| w.sid.clone()));
        let channel = state.view.with(|v| v.channel.clone());
        let def =
            state.definitions.with(|d| d.in_force_for(wf.as_deref().unwrap_or(WORKSPACE_DEFAULT), channel.as_deref()));
        state.view.with(|v| stats.with(|s| CumulativeFigures::new(s.as_ref(), &v.levels, def)))
    });

    let task_outcomes = Memo::new(move |_| stats.with(|s| s.as_ref().map(charts::outcomes::tasks)));
    let reservation_outcomes = Memo::new(move |_| stats.with(|s| s.as_ref().map(charts::outcomes::reservations)));
    let waits = Memo::new(move |_| stats.with(|s| s.as_ref().map(charts::waits::data)));
    let splits = Memo::new(move |_| {
        let def = figures.with(|f| f.definition.0);
        state.view.with(|v| stats.with(|s| s.as_ref().map(|s| charts::sla::data(s, &def, &v.thresholds))))
    });

    view! {
        <section class="panel" data-testid="cumulative-panel">
            <div class="panel-head">
                <h2>"Cumulative"</h2>
                <span class="panel-sub">{window_label}</span>
                {move || {
                    rest_link()
                        .filter(|_| !kiosk)
                        .map(|href| {
                            view! {
                                <a class="rest-link" href=href target="_blank" rel="noopener">
                                    "REST ↗"
                                </a>
                            }
                        })
                }}
                {(!kiosk).then(|| view! { <ExportButton resource=export testid="export-cumulative"/> })}
            </div>
            {(!kiosk).then(|| view! { <CumulativeControls/> })}
            {move || problem().map(|p| view! { <Notice title="This window cannot be shown" detail=p/> })}
            <div class="tiles tiles-kpi">
                <Tile testid="kpi-entered" label="Tasks entered" figure=figure_of(figures, |f| &f.entered)/>
                <Tile testid="kpi-completed" label="Completed" figure=figure_of(figures, |f| &f.completed)/>
                <Tile testid="kpi-canceled" label="Canceled" figure=figure_of(figures, |f| &f.canceled)/>
                <Tile testid="kpi-abandonment" label="Abandonment" figure=figure_of(figures, |f| &f.abandonment)/>
                <Tile testid="kpi-acceptance" label="Avg time to accept" figure=figure_of(figures, |f| &f.acceptance)/>
                <Tile
                    testid="kpi-service-level"
                    label="Service level"
                    figure=figure_of(figures, |f| &f.service_level)
                />
            </div>
            <div class="chart-grid">
                <figure class="chart-card">
                    <figcaption class="chart-title">"Task outcomes"</figcaption>
                    <ChartCanvas
                        testid="chart-task-outcomes"
                        label="Tasks entered, completed, canceled, deleted, moved and timed out in the window"
                        paint=painter(task_outcomes, charts::outcomes::draw)
                    />
                </figure>
                {(!kiosk)
                    .then(|| {
                        view! {
                            <figure class="chart-card">
                                <figcaption class="chart-title">"Reservation outcomes"</figcaption>
                                <ChartCanvas
                                    testid="chart-reservation-outcomes"
                                    label="Reservations created, accepted, rejected, timed out, canceled and rescinded in the window"
                                    paint=painter(reservation_outcomes, charts::outcomes::draw)
                                />
                            </figure>
                            <figure class="chart-card">
                                <figcaption class="chart-title">"Wait durations"</figcaption>
                                <ChartCanvas
                                    testid="chart-waits"
                                    label="Minimum, average and maximum wait until accepted and until canceled"
                                    paint=painter(waits, charts::waits::draw)
                                />
                                <Legend items=vec![("Minimum", Tone::Good), ("Average", Tone::Accent), ("Maximum", Tone::Warn)]/>
                            </figure>
                        }
                    })}
                <figure class="chart-card">
                    <figcaption class="chart-title">
                        "Service level by threshold"
                        <span class="chart-sub">
                            {move || figures.with(|f| format!("abandonment {}", f.abandonment.text))}
                        </span>
                    </figcaption>
                    <ChartCanvas
                        testid="chart-sla"
                        label="Tasks accepted and canceled below and above each wait threshold, with the service level"
                        paint=painter(splits, charts::sla::draw)
                    />
                    <Legend items=vec![
                        ("Accepted < T", Tone::Good),
                        ("Accepted ≥ T", Tone::Warn),
                        ("Canceled ≥ T", Tone::Bad),
                        ("Canceled < T", Tone::Neutral),
                    ]/>
                </figure>
            </div>
            <SlaTable stats=stats.into() figures=figures/>
        </section>
    }
}
