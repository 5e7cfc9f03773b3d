//! The live preview of the rule being edited: half a second after the form last changed it
//! is posted to `…/AlertRules/Preview`, and the answer drawn (`charts::preview`) with a
//! sentence saying how often the rule would have fired over the last hour.

use std::time::Duration;

use leptos::prelude::*;
use wallboard_shared::alerts::Preview;

use super::{ChartCanvas, painter};
use crate::api;
use crate::charts;
use crate::model::settings::{self, RuleForm};

/// How long the form must stay unchanged before it is previewed.
const DEBOUNCE: Duration = Duration::from_millis(500);

#[component]
pub fn RulePreview(ws: String, form: RwSignal<Option<RuleForm>>) -> impl IntoView {
    // The answer (or why there is none) and the form it is about.
    let answer = RwSignal::new(None::<Result<(Preview, RuleForm), String>>);
    let timer = StoredValue::new(None::<TimeoutHandle>);
    let asked = StoredValue::new(0u64);
    let ws = StoredValue::new(ws);
    Effect::new(move |_| {
        let Some(current) = form.get() else { return };
        if let Some(t) = timer.get_value() {
            t.clear();
        }
        let handle = set_timeout_with_handle(
            move || {
                let body = match current.preview_pairs() {
                    Ok(pairs) => settings::encode_form(&pairs),
                    Err(e) => return answer.set(Some(Err(e))),
                };
                asked.update_value(|n| *n += 1);
                let this = asked.get_value();
                let ws = ws.get_value();
                leptos::task::spawn_local(async move {
                    let result = api::preview_alert_rule(&ws, &body).await;
                    // An older answer arriving late is dropped.
                    if asked.get_value() == this {
                        answer.set(Some(result.map(|p| (p, current)).map_err(|r| r.text())));
                    }
                });
            },
            DEBOUNCE,
        );
        timer.set_value(handle.ok());
    });
    on_cleanup(move || {
        if let Some(t) = timer.get_value() {
            t.clear();
        }
    });
    let chart = Memo::new(move |_| {
        answer.with(|a| match a {
            Some(Ok((p, f))) => {
                let threshold = f.threshold.trim().parse::<f64>().ok()?;
                let clear = f.clear_threshold.trim().parse::<f64>().ok();
                charts::preview::data(p, threshold, clear)
            }
            _ => None,
        })
    });
    let summary = move || {
        answer.with(|a| match a {
            None => ("muted", "Previewing…".to_owned()),
            Some(Ok((p, _))) => ("muted", settings::preview_summary(p)),
            Some(Err(e)) => ("control-error", e.clone()),
        })
    };
    view! {
        <div class="settings-preview" data-testid="rule-preview">
            <ChartCanvas
                testid="preview-chart"
                label="The rule's measure over the last hour, its threshold and what it would have done"
                paint=painter(chart, charts::preview::draw)
                waiting="No values to show"
            />
            <p class=move || summary().0 data-testid="preview-summary">{move || summary().1}</p>
        </div>
    }
}
