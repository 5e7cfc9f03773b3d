//! The SLA splits as a table, with the formulas the numbers come from.

use leptos::prelude::*;
use wallboard_shared::resources::CumulativeStats;

use crate::model::format;
use crate::model::levels::Metric;
use crate::model::sla::{self, ABANDONMENT_FORMULA, SERVICE_LEVEL_FORMULA};
use crate::state::use_state;

#[component]
pub fn SlaTable(stats: Signal<Option<CumulativeStats>>) -> impl IntoView {
    let state = use_state();
    let rows = move || stats.with(|s| s.as_ref().map(sla::rows).unwrap_or_default());
    let abandonment = move || stats.with(|s| s.as_ref().and_then(sla::abandonment));
    view! {
        <div class="sla">
            <table class="sla-table" data-testid="sla-table">
                <thead>
                    <tr>
                        <th scope="col">"Threshold T"</th>
                        <th scope="col">"Accepted < T"</th>
                        <th scope="col">"Accepted ≥ T"</th>
                        <th scope="col">"Canceled < T"</th>
                        <th scope="col">"Canceled ≥ T"</th>
                        <th scope="col">"Service level"</th>
                    </tr>
                </thead>
                <tbody>
                    {move || {
                        let levels = state.view.with(|v| v.levels);
                        rows()
                            .into_iter()
                            .map(|r| {
                                let level = levels.classify_share(Metric::ServiceLevel, r.service_level);
                                view! {
                                    <tr data-threshold=r.threshold.to_string()>
                                        <th scope="row">{format!("{} s", r.threshold)}</th>
                                        <td>{format::count(r.accepted_below)}</td>
                                        <td>{format::count(r.accepted_above)}</td>
                                        <td>{format::count(r.canceled_below)}</td>
                                        <td>{format::count(r.canceled_above)}</td>
                                        <td class="sla-value">
                                            <span class="sla-percent">{format::percent(r.service_level)}</span>
                                            <span class=format!("level-pill level-{}", level.key())>{level.label()}</span>
                                        </td>
                                    </tr>
                                }
                            })
                            .collect_view()
                    }}
                </tbody>
            </table>
            <p class="formula">
                <code>{SERVICE_LEVEL_FORMULA}</code>
                " — tasks canceled before T (short abandons) count neither way."
            </p>
            <p class="formula">
                <code>{ABANDONMENT_FORMULA}</code>
                {move || format!(" = {} in this window.", format::percent(abandonment()))}
                " Both count events inside the window; “—” means there is nothing to divide by."
            </p>
        </div>
    }
}
