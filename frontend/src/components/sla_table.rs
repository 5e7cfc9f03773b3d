//! The SLA splits as a table, with the formulas the numbers come from: each row is the
//! workflow's service-level definition applied at the row's threshold (`model::sla`).

use leptos::prelude::*;
use wallboard_shared::resources::CumulativeStats;
use wallboard_shared::service_level::Abandons;

use crate::model::figure::CumulativeFigures;
use crate::model::format;
use crate::model::levels::Metric;
use crate::model::service_levels::{Source, at_threshold};
use crate::model::sla::{self, ABANDONMENT_FORMULA};
use crate::state::use_state;

#[component]
pub fn SlaTable(
    stats: Signal<Option<CumulativeStats>>,
    /// The panel's figures: the shown workflow's definition and where it comes from.
    figures: Memo<CumulativeFigures>,
) -> impl IntoView {
    let state = use_state();
    let definition = move || figures.with(|f| f.definition);
    let rows = move || {
        let def = definition().0;
        state.view.with(|v| stats.with(|s| s.as_ref().map(|s| sla::rows(s, &def, &v.thresholds)).unwrap_or_default()))
    };
    let abandonment = move || stats.with(|s| s.as_ref().and_then(sla::abandonment));
    let caption = move || {
        let (d, source) = definition();
        let whose = match source {
            Source::Own => "this workflow's",
            Source::Workspace => "the workspace's",
            Source::BuiltIn => "the built-in",
        };
        let s = match (d.abandons, d.short_abandon) {
            (Abandons::Ignored, _) | (_, 0) => String::new(),
            (_, s) if s == d.threshold => " with S = T".to_owned(),
            (_, s) => format!(" with S = min({s} s, T)"),
        };
        format!(" — {whose} definition, the Service level figure above. Each row applies it at its threshold T{s}.")
    };
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
                        let def = definition().0;
                        rows()
                            .into_iter()
                            .map(|r| {
                                let level = levels.classify_share(Metric::ServiceLevel, r.service_level);
                                view! {
                                    <tr
                                        data-threshold=r.threshold.to_string()
                                        title=at_threshold(&def, r.threshold).formula()
                                    >
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
                "service level = "
                <code data-testid="sl-formula">{move || definition().0.formula()}</code>
                {caption}
            </p>
            <p class="formula">
                <code>{ABANDONMENT_FORMULA}</code>
                {move || format!(" = {} in this window.", format::percent(abandonment()))}
                " Both count events inside the window; “—” means there is nothing to divide by."
            </p>
        </div>
    }
}
