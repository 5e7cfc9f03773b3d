//! The settings page's alert rules: the list, a create/edit form whose selects offer only
//! what fits (the measures of the chosen target), delete, and the form's live preview.

use leptos::prelude::*;
use wallboard_shared::alerts::{Comparison, Level, Measure};

use super::{ExportButton, RulePreview};
use crate::api;
use crate::model::settings::{self, Choice, RuleForm, RuleView};
use crate::state::{Remote, use_state};

#[component]
pub fn AlertRulesPanel(ws: String) -> impl IntoView {
    let state = use_state();
    let ws = StoredValue::new(ws);
    let targets = Memo::new(move |_| {
        let workflows: Vec<(String, String)> = state.directory.with(|d| match d {
            Remote::Ready(d) => d.workflows.iter().map(|w| (w.sid.clone(), w.name.clone())).collect(),
            _ => Vec::new(),
        });
        let named = |l: &Vec<crate::api::Listed>| {
            l.iter().map(|x| (x.sid.clone(), x.friendly_name.clone())).collect::<Vec<(String, String)>>()
        };
        let queues = state.floor.queue_list.with(named);
        let activities = state.floor.activities.with(named);
        settings::targets(&workflows, &queues, &activities)
    });
    let channels = Memo::new(move |_| {
        let mut list = vec![Choice { value: String::new(), label: "All channels".to_owned() }];
        state.directory.with(|d| {
            if let Remote::Ready(d) = d {
                list.extend(d.channels.iter().map(|c| Choice { value: c.unique_name.clone(), label: c.name.clone() }));
            }
        });
        list
    });
    let rules = RwSignal::new(Remote::<Vec<RuleView>>::Loading);
    let reload = RwSignal::new(0u32);
    let form = RwSignal::new(None::<RuleForm>);
    Effect::new(move |_| {
        reload.track();
        let ws = ws.get_value();
        leptos::task::spawn_local(async move {
            rules.set(match api::alert_rules(&ws).await {
                Ok(list) => Remote::Ready(list),
                Err(r) => Remote::Failed(r.text()),
            });
        });
    });
    let list = move || {
        let all = targets.get();
        rules.with(|r| match r {
            Remote::Loading => view! { <p class="muted">"Loading the rules…"</p> }.into_any(),
            Remote::Failed(e) => {
                view! { <p class="control-error" data-testid="rules-error">{e.clone()}</p> }.into_any()
            }
            Remote::Ready(list) if list.is_empty() => view! { <p class="muted">"No alert rules yet."</p> }.into_any(),
            Remote::Ready(list) => {
                let rows = list
                    .iter()
                    .map(|r| {
                        let rule = r.clone();
                        let sid = rule.sid.clone();
                        let target = settings::label_of(&rule.target, &all);
                        let edit = {
                            let rule = rule.clone();
                            move |_| form.set(Some(RuleForm::of(&rule)))
                        };
                        let delete = {
                            let (sid, name) = (sid.clone(), rule.name.clone());
                            move |_| {
                                let asked = window().confirm_with_message(&format!("Delete the rule {name}?"));
                                if !asked.unwrap_or(false) {
                                    return;
                                }
                                let (ws, sid) = (ws.get_value(), sid.clone());
                                leptos::task::spawn_local(async move {
                                    if let Err(e) = api::delete_alert_rule(&ws, &sid).await {
                                        rules.set(Remote::Failed(e.text()));
                                    }
                                    reload.update(|n| *n += 1);
                                });
                            }
                        };
                        view! {
                            <tr data-testid=format!("rule-{sid}")>
                                <th>{rule.name.clone()}</th>
                                <td>{r.description.clone()}</td>
                                <td>{rule.level.name()}</td>
                                <td>{if rule.enabled { "enabled" } else { "paused" }}</td>
                                <td>{target}</td>
                                <td class="settings-actions">
                                    <button type="button" class="seg" on:click=edit>"Edit"</button>
                                    <button type="button" class="seg" on:click=delete>"Delete"</button>
                                </td>
                            </tr>
                        }
                    })
                    .collect_view();
                view! {
                    <div class="settings-scroll">
                        <table class="sla-table settings-table" data-testid="rules">
                            <thead>
                                <tr>
                                    <th>"Name"</th>
                                    <th>"Condition"</th>
                                    <th>"Level"</th>
                                    <th>"State"</th>
                                    <th>"Target"</th>
                                    <th></th>
                                </tr>
                            </thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </div>
                }
                .into_any()
            }
        })
    };
    // The editor is built when it opens (not on every keystroke).
    let open = Memo::new(move |_| form.with(|f| f.as_ref().map(|f| f.sid.clone())));
    let editor = move || {
        open.get()?;
        Some(view! { <RuleEditor ws=ws.get_value() form targets channels reload/> })
    };
    // The export of the alert history (every alert of the workspace, newest first).
    let history = Signal::derive(move || Some(format!("/v1/Workspaces/{}/Alerts", ws.get_value())));
    view! {
        <section class="panel settings-section" data-testid="alert-rules">
            <div class="panel-head">
                <h2 class="section-title">"Alert rules"</h2>
                <button type="button" class="seg" data-testid="rule-new" on:click=move |_| form.set(Some(RuleForm::default()))>
                    "New rule"
                </button>
                <ExportButton resource=history testid="export-alerts"/>
            </div>
            {list}
            {editor}
        </section>
    }
}

/// `<option>`s of `choices`, `selected` by `current`.
fn options(choices: Vec<Choice>, current: impl Fn() -> String + Copy + Send + Sync + 'static) -> impl IntoView {
    choices
        .into_iter()
        .map(|c| {
            let value = c.value.clone();
            view! {
                <option value=c.value prop:selected=move || current() == value>
                    {c.label}
                </option>
            }
        })
        .collect_view()
}

#[component]
fn RuleEditor(
    ws: String,
    form: RwSignal<Option<RuleForm>>,
    targets: Memo<Vec<Choice>>,
    channels: Memo<Vec<Choice>>,
    reload: RwSignal<u32>,
) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let get = move |pick: fn(&RuleForm) -> String| move || form.with(|f| f.as_ref().map(pick).unwrap_or_default());
    let edit = move |change: &dyn Fn(&mut RuleForm)| {
        form.update(|f| {
            if let Some(f) = f {
                change(f);
            }
        })
    };
    let text = move |pick: fn(&RuleForm) -> String, put: fn(&mut RuleForm, String)| {
        (get(pick), move |ev: leptos::ev::Event| {
            let v = event_target_value(&ev);
            edit(&|f| put(f, v.clone()));
        })
    };
    let (name, set_name) = text(|f| f.name.clone(), |f, v| f.name = v);
    let (threshold, set_threshold) = text(|f| f.threshold.clone(), |f, v| f.threshold = v);
    let (for_s, set_for) = text(|f| f.for_s.clone(), |f, v| f.for_s = v);
    let (clear, set_clear) = text(|f| f.clear_threshold.clone(), |f, v| f.clear_threshold = v);
    let (clear_for, set_clear_for) = text(|f| f.clear_for.clone(), |f, v| f.clear_for = v);
    let target = get(|f| f.target.clone());
    let channel = get(|f| f.task_channel.clone());
    let measure = get(|f| f.measure.name().to_owned());
    let comparison = get(|f| f.comparison.symbol().to_owned());
    let level = get(|f| f.level.name().to_owned());
    let measures = move || {
        let choices = settings::measures_for(&target())
            .into_iter()
            .map(|m| Choice { value: m.name().to_owned(), label: m.label().to_owned() })
            .collect();
        options(choices, measure)
    };
    let comparisons =
        Comparison::ALL.map(|c| Choice { value: c.symbol().to_owned(), label: c.symbol().to_owned() }).to_vec();
    let levels = [Level::Warning, Level::Critical]
        .map(|l| Choice { value: l.name().to_owned(), label: l.name().to_owned() })
        .to_vec();
    let enabled = move || form.with(|f| f.as_ref().is_some_and(|f| f.enabled));
    let editing_sid = move || form.with(|f| f.as_ref().and_then(|f| f.sid.clone()));
    let preview_ws = ws.clone();
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(current) = form.get_untracked() else { return };
        let body = match current.pairs() {
            Ok(pairs) => settings::encode_form(&pairs),
            Err(e) => return error.set(Some(e)),
        };
        let ws = ws.clone();
        leptos::task::spawn_local(async move {
            match api::save_alert_rule(&ws, current.sid.as_deref(), &body).await {
                Ok(_) => {
                    form.set(None);
                    reload.update(|n| *n += 1);
                }
                Err(r) => error.set(Some(r.text())),
            }
        });
    };
    view! {
        <form class="settings-form" data-testid="rule-form" on:submit=save>
            <h3 class="section-title">{move || if editing_sid().is_some() { "Edit rule" } else { "New rule" }}</h3>
            <label class="control">
                <span class="control-label">"Name"</span>
                <input class="input" name="Name" prop:value=name on:input=set_name/>
            </label>
            <label class="control">
                <span class="control-label">"Target"</span>
                <select
                    class="select"
                    name="Target"
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        edit(&|f| f.set_target(&v));
                    }
                >
                    {move || options(targets.get(), target)}
                </select>
            </label>
            <label class="control">
                <span class="control-label">"Channel"</span>
                <select
                    class="select"
                    name="TaskChannel"
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        edit(&|f| f.task_channel = v.clone());
                    }
                >
                    {move || options(channels.get(), channel)}
                </select>
            </label>
            <label class="control">
                <span class="control-label">"Measure"</span>
                <select
                    class="select"
                    name="Measure"
                    on:change=move |ev| {
                        if let Some(m) = Measure::parse(&event_target_value(&ev)) {
                            edit(&|f| f.measure = m);
                        }
                    }
                >
                    {measures}
                </select>
            </label>
            <label class="control">
                <span class="control-label">"Comparison"</span>
                <select
                    class="select"
                    name="Comparison"
                    on:change=move |ev| {
                        if let Some(c) = Comparison::parse(&event_target_value(&ev)) {
                            edit(&|f| f.comparison = c);
                        }
                    }
                >
                    {options(comparisons, comparison)}
                </select>
            </label>
            <label class="control">
                <span class="control-label">"Threshold"</span>
                <input class="input input-narrow" name="Threshold" inputmode="decimal" prop:value=threshold on:input=set_threshold/>
            </label>
            <label class="control">
                <span class="control-label">"For (s)"</span>
                <input class="input input-narrow" name="For" inputmode="numeric" prop:value=for_s on:input=set_for/>
            </label>
            <label class="control">
                <span class="control-label">"Clear threshold (optional)"</span>
                <input class="input input-narrow" name="ClearThreshold" inputmode="decimal" prop:value=clear on:input=set_clear/>
            </label>
            <label class="control">
                <span class="control-label">"Clear for (s, optional)"</span>
                <input class="input input-narrow" name="ClearFor" inputmode="numeric" prop:value=clear_for on:input=set_clear_for/>
            </label>
            <label class="control">
                <span class="control-label">"Level"</span>
                <select
                    class="select"
                    name="Level"
                    on:change=move |ev| {
                        if let Some(l) = Level::parse(&event_target_value(&ev)) {
                            edit(&|f| f.level = l);
                        }
                    }
                >
                    {options(levels, level)}
                </select>
            </label>
            <label class="control control-inline">
                <input
                    type="checkbox"
                    name="Enabled"
                    prop:checked=enabled
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        edit(&|f| f.enabled = on);
                    }
                />
                <span class="control-label">"Enabled"</span>
            </label>
            <div class="settings-actions">
                <button type="submit" class="seg active" data-testid="rule-save">"Save"</button>
                <button type="button" class="seg" on:click=move |_| form.set(None)>"Cancel"</button>
            </div>
            {move || error.get().map(|e| view! { <p class="control-error" data-testid="rule-error">{e}</p> })}
            <RulePreview ws=preview_ws form/>
        </form>
    }
}
