//! The settings page's service levels: each scope's definition in force (formula, who
//! defines it, the day), an edit form per scope and "Inherit".

use std::collections::BTreeMap;

use leptos::prelude::*;
use wallboard_shared::service_level::Abandons;

use crate::api;
use crate::model::settings::{self, LevelForm, LevelView, abandons_label};
use crate::state::{Remote, use_state};

type Levels = BTreeMap<String, Result<LevelView, String>>;

#[component]
pub fn ServiceLevelsPanel(ws: String) -> impl IntoView {
    let state = use_state();
    let scopes = Memo::new(move |_| {
        let workflows = state.directory.with(|d| match d {
            Remote::Ready(d) => d.workflows.iter().map(|w| (w.sid.clone(), w.name.clone())).collect(),
            _ => Vec::new(),
        });
        let queues: Vec<(String, String)> =
            state.floor.queue_list.with(|l| l.iter().map(|q| (q.sid.clone(), q.friendly_name.clone())).collect());
        settings::scopes(&workflows, &queues)
    });
    let levels = RwSignal::new(Levels::new());
    let reload = RwSignal::new(0u32);
    let editing = RwSignal::new(None::<String>);
    let ws = StoredValue::new(ws);
    Effect::new(move |_| {
        reload.track();
        let scopes = scopes.get();
        let ws = ws.get_value();
        leptos::task::spawn_local(async move {
            let mut read = Levels::new();
            for scope in scopes {
                let answer = api::service_level(&ws, &scope.value).await.map_err(|r| r.text());
                read.insert(scope.value, answer);
            }
            levels.set(read);
        });
    });
    let rows = move || {
        let all = scopes.get();
        levels.with(|read| {
            all.iter()
                .map(|scope| {
                    let value = scope.value.clone();
                    let testid = format!("sl-row-{value}");
                    let cells = match read.get(&value) {
                        None => view! { <td colspan="4" class="muted">"…"</td> }.into_any(),
                        Some(Err(e)) => view! { <td colspan="4" class="control-error">{e.clone()}</td> }.into_any(),
                        Some(Ok(sl)) => {
                            let d = sl;
                            let definition = format!(
                                "T = {} s, S = {} s, abandons {}",
                                d.threshold,
                                d.short_abandon,
                                abandons_label(d.abandons)
                            );
                            let by = settings::defined_by(&value, &d.defined_by, &all);
                            let day = format!(
                                "from {} {} ({})",
                                sl.day.starts_at,
                                sl.day.time_zone,
                                settings::defined_by(&value, &sl.day_defined_by, &all)
                            );
                            view! {
                                <td>{definition}</td>
                                <td class="formula">{d.formula.clone()}</td>
                                <td>{by}</td>
                                <td>{day}</td>
                            }
                                .into_any()
                        }
                    };
                    let stored = matches!(read.get(&value), Some(Ok(sl)) if sl.stored);
                    let (edit_scope, inherit_scope) = (value.clone(), value.clone());
                    let inherit = move |_| {
                        let (ws, scope) = (ws.get_value(), inherit_scope.clone());
                        leptos::task::spawn_local(async move {
                            if let Err(r) = api::inherit_service_level(&ws, &scope).await {
                                levels.update(|l| {
                                    l.insert(scope, Err(r.text()));
                                });
                            }
                            reload.update(|n| *n += 1);
                        });
                    };
                    view! {
                        <tr data-testid=testid>
                            <th>{scope.label.clone()}</th>
                            {cells}
                            <td class="settings-actions">
                                <button type="button" class="seg" on:click=move |_| editing.set(Some(edit_scope.clone()))>
                                    "Edit"
                                </button>
                                {stored
                                    .then(|| {
                                        view! {
                                            <button type="button" class="seg" on:click=inherit>
                                                "Inherit"
                                            </button>
                                        }
                                    })}
                            </td>
                        </tr>
                    }
                })
                .collect_view()
        })
    };
    let editor = move || {
        let scope = editing.get()?;
        let label = settings::label_of(&scope, &scopes.get_untracked());
        let sl = levels.with_untracked(|l| l.get(&scope).and_then(|r| r.as_ref().ok()).cloned())?;
        Some(view! { <LevelEditor ws=ws.get_value() scope label sl editing reload/> })
    };
    view! {
        <section class="panel settings-section" data-testid="service-levels">
            <div class="panel-head">
                <h2 class="section-title">"Service levels"</h2>
                <span class="section-sub">"The definition in force for each scope; a scope without its own inherits the workspace's."</span>
            </div>
            <div class="settings-scroll">
                <table class="sla-table settings-table">
                    <thead>
                        <tr>
                            <th>"Scope"</th>
                            <th>"Definition"</th>
                            <th>"Formula"</th>
                            <th>"Defined by"</th>
                            <th>"Day"</th>
                            <th></th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            {editor}
        </section>
    }
}

/// The form of one scope.
#[component]
fn LevelEditor(
    ws: String,
    scope: String,
    label: String,
    sl: LevelView,
    editing: RwSignal<Option<String>>,
    reload: RwSignal<u32>,
) -> impl IntoView {
    let loaded = LevelForm::of(&sl);
    let form = RwSignal::new(loaded.clone());
    let error = RwSignal::new(None::<String>);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = match form.with_untracked(|f| f.pairs(&loaded)) {
            Ok(pairs) => settings::encode_form(&pairs),
            Err(e) => return error.set(Some(e)),
        };
        let (ws, scope) = (ws.clone(), scope.clone());
        leptos::task::spawn_local(async move {
            match api::set_service_level(&ws, &scope, &body).await {
                Ok(_) => {
                    editing.set(None);
                    reload.update(|n| *n += 1);
                }
                Err(r) => error.set(Some(r.text())),
            }
        });
    };
    let text = move |get: fn(&LevelForm) -> &String, set: fn(&mut LevelForm, String)| {
        let value = move || form.with(|f| get(f).clone());
        let input = move |ev| form.update(|f| set(f, event_target_value(&ev)));
        (value, input)
    };
    let (t, set_t) = text(|f| &f.threshold, |f, v| f.threshold = v);
    let (s, set_s) = text(|f| &f.short_abandon, |f, v| f.short_abandon = v);
    let (start, set_start) = text(|f| &f.starts_at, |f, v| f.starts_at = v);
    let (zone, set_zone) = text(|f| &f.time_zone, |f, v| f.time_zone = v);
    let abandons = Abandons::ALL
        .into_iter()
        .map(|a| {
            view! {
                <option value=a.name() prop:selected=move || form.with(|f| f.abandons == a)>
                    {abandons_label(a)}
                </option>
            }
        })
        .collect_view();
    let pick = move |ev| {
        if let Some(a) = Abandons::parse(&event_target_value(&ev)) {
            form.update(|f| f.abandons = a);
        }
    };
    view! {
        <form class="settings-form" data-testid="sl-form" on:submit=save>
            <h3 class="section-title">{format!("Service level of {label}")}</h3>
            <label class="control">
                <span class="control-label">"T, threshold (s)"</span>
                <input class="input input-narrow" name="Threshold" inputmode="numeric" prop:value=t on:input=set_t/>
            </label>
            <label class="control">
                <span class="control-label">"S, short abandon (s)"</span>
                <input class="input input-narrow" name="ShortAbandon" inputmode="numeric" prop:value=s on:input=set_s/>
            </label>
            <label class="control">
                <span class="control-label">"Abandons"</span>
                <select class="select" name="Abandons" on:change=pick>
                    {abandons}
                </select>
            </label>
            <label class="control">
                <span class="control-label">"Day starts at"</span>
                <input class="input input-narrow" name="DayStartsAt" placeholder="HH:MM" prop:value=start on:input=set_start/>
            </label>
            <label class="control">
                <span class="control-label">"Time zone"</span>
                <input class="input" name="TimeZone" placeholder="Europe/Paris" prop:value=zone on:input=set_zone/>
            </label>
            <div class="settings-actions">
                <button type="submit" class="seg active">"Save"</button>
                <button type="button" class="seg" on:click=move |_| editing.set(None)>"Cancel"</button>
            </div>
            {move || error.get().map(|e| view! { <p class="control-error" data-testid="sl-error">{e}</p> })}
        </form>
    }
}
