//! The cumulative panel: window, channel and thresholds; key figures; the four charts; the
//! SLA table.

use leptos::prelude::*;
use wallboard_shared::resources::CumulativeStats;

use super::{ChartCanvas, CumulativeControls, Legend, Notice, SlaTable, Tile, painter};
use crate::charts::{self, Tone};
use crate::model::format;
use crate::model::levels::Metric;
use crate::model::sla;
use crate::model::subscriptions;
use crate::state::{Remote, use_state};

#[component]
pub fn CumulativePanel() -> impl IntoView {
    let state = use_state();
    // A kiosk shows no controls nor links, and the two charts that read best from afar.
    let kiosk = state.view.with_untracked(|v| v.kiosk);
    let stats = Memo::new(move |_| {
        let id = state.plan.with(|p| p.cumulative.clone())?;
        state.snapshots.with(|s| s.get(&id).and_then(|e| e.snapshot.cumulative.clone()))
    });
    let refusal = move || {
        let id = state.plan.with(|p| p.cumulative.clone())?;
        state.snapshots.with(|s| s.refusal(&id).map(|r| r.message.clone()))
    };
    let problem = move || state.plan.with(|p| p.problem.clone()).or_else(refusal);
    let levels = move || state.view.with(|v| v.levels);
    let threshold = move || state.view.with(|v| v.headline_threshold());

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

    let figure = move |pick: fn(&CumulativeStats) -> u64| {
        (
            Signal::derive(move || {
                stats.with(|s| s.as_ref().map_or(format::NONE.to_owned(), |s| format::count(pick(s))))
            }),
            Signal::derive(move || stats.with(|s| s.as_ref().map(|s| pick(s).to_string()).unwrap_or_default())),
        )
    };
    let (entered, entered_raw) = figure(|s| s.tasks_entered);
    let (completed, completed_raw) = figure(|s| s.tasks_completed);
    let (canceled, canceled_raw) = figure(|s| s.tasks_canceled);
    let abandonment = move || stats.with(|s| s.as_ref().and_then(sla::abandonment));
    let abandonment_text = Signal::derive(move || format::percent(abandonment()));
    let abandonment_raw = Signal::derive(move || format::percent_value(abandonment()).unwrap_or_default());
    let abandonment_level = Signal::derive(move || levels().classify_share(Metric::Abandonment, abandonment()));
    let acceptance = Signal::derive(move || {
        stats.with(|s| s.as_ref().map_or(format::NONE.to_owned(), |s| format::duration(s.avg_task_acceptance_time)))
    });
    let acceptance_raw = Signal::derive(move || {
        stats.with(|s| s.as_ref().map(|s| s.avg_task_acceptance_time.to_string()).unwrap_or_default())
    });
    let service_level = move || stats.with(|s| s.as_ref().and_then(|s| sla::service_level_at(s, threshold())));
    let service_text = Signal::derive(move || format::percent(service_level()));
    let service_raw = Signal::derive(move || format::percent_value(service_level()).unwrap_or_default());
    let service_level_level = Signal::derive(move || levels().classify_share(Metric::ServiceLevel, service_level()));
    let service_hint = Signal::derive(move || format!("at {} s", threshold()));

    let task_outcomes = Memo::new(move |_| stats.with(|s| s.as_ref().map(charts::task_outcomes::data)));
    let reservation_outcomes = Memo::new(move |_| stats.with(|s| s.as_ref().map(charts::reservation_outcomes::data)));
    let waits = Memo::new(move |_| stats.with(|s| s.as_ref().map(charts::waits::data)));
    let splits = Memo::new(move |_| stats.with(|s| s.as_ref().map(charts::sla::data)));

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
            </div>
            {(!kiosk).then(|| view! { <CumulativeControls/> })}
            {move || problem().map(|p| view! { <Notice title="This window cannot be shown" detail=p/> })}
            <div class="tiles tiles-kpi">
                <Tile testid="kpi-entered" label="Tasks entered" value=entered raw=entered_raw/>
                <Tile testid="kpi-completed" label="Completed" value=completed raw=completed_raw/>
                <Tile testid="kpi-canceled" label="Canceled" value=canceled raw=canceled_raw/>
                <Tile
                    testid="kpi-abandonment"
                    label="Abandonment"
                    value=abandonment_text
                    raw=abandonment_raw
                    level=abandonment_level
                />
                <Tile testid="kpi-acceptance" label="Avg time to accept" value=acceptance raw=acceptance_raw/>
                <Tile
                    testid="kpi-service-level"
                    label="Service level"
                    hint=service_hint
                    value=service_text
                    raw=service_raw
                    level=service_level_level
                />
            </div>
            <div class="chart-grid">
                <figure class="chart-card">
                    <figcaption class="chart-title">"Task outcomes"</figcaption>
                    <ChartCanvas
                        testid="chart-task-outcomes"
                        label="Tasks entered, completed, canceled, deleted, moved and timed out in the window"
                        paint=painter(task_outcomes, charts::task_outcomes::draw)
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
                                    paint=painter(reservation_outcomes, charts::reservation_outcomes::draw)
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
                            {move || format!("abandonment {}", format::percent(abandonment()))}
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
            <SlaTable stats=stats.into()/>
        </section>
    }
}
