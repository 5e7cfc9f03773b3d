//! The settings page's service levels: each scope's definition in force (formula, who
//! defines it, the day) for every channel or the chosen task channel, the stored
//! definitions of other channels as their own rows, an edit form per place and "Inherit".

use leptos::prelude::*;
use wallboard_shared::service_level::Abandons;

use crate::api;
use crate::model::settings::{self, LevelForm, LevelView, Levels, abandons_label};
use crate::state::{Remote, use_state};

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
    let channels = Memo::new(move |_| {
        state.directory.with(|d| match d {
            Remote::Ready(d) => settings::channel_choices(d.channels.iter().map(|c| c.unique_name.as_str())),
            _ => settings::channel_choices([]),
        })
    });
    // The channel whose places the scopes' rows show and edit; empty: every channel.
    let channel = RwSignal::new(String::new());
    // What is read for each scope, and the channel it was read for.
    let levels = RwSignal::new((String::new(), Levels::new()));
    let stored = RwSignal::new(Vec::<LevelView>::new());
    let reload = RwSignal::new(0u32);
    // The place being edited: (scope, channel).
    let editing = RwSignal::new(None::<(String, String)>);
    let ws = StoredValue::new(ws);
    Effect::new(move |_| {
        reload.track();
        let (scopes, asked) = (scopes.get(), channel.get());
        let ws = ws.get_value();
        leptos::task::spawn_local(async move {
            let list = api::stored_service_levels(&ws).await.unwrap_or_default();
            let mut read = Levels::new();
            for scope in scopes {
                let answer = api::service_level(&ws, &scope.value, &asked).await.map_err(|r| r.text());
                read.insert(scope.value, answer);
            }
            // A choice made meanwhile has its own reading under way; a panel gone meanwhile
            // (a viewer's page) reads nothing.
            if channel.try_get_untracked().as_ref() == Some(&asked) {
                stored.set(list);
                levels.set((asked, read));
            }
        });
    });
    let rows = Memo::new(move |_| {
        let (all, chosen) = (scopes.get(), channel.get());
        let stored = stored.read();
        levels.with(|(read_for, read)| {
            let none = Levels::new();
            settings::level_rows(&all, &chosen, if *read_for == chosen { read } else { &none }, &stored)
        })
    });
    let table = move || {
        let all = scopes.get();
        rows.get()
            .into_iter()
            .map(|row| {
                let testid = row.testid();
                let stored = row.stored();
                let cells = match &row.level {
                    None => view! { <td colspan="4" class="muted">"…"</td> }.into_any(),
                    Some(Err(e)) => view! { <td colspan="4" class="control-error">{e.clone()}</td> }.into_any(),
                    Some(Ok(sl)) => {
                        let definition = format!(
                            "T = {} s, S = {} s, abandons {}",
                            sl.threshold,
                            sl.short_abandon,
                            abandons_label(sl.abandons)
                        );
                        let (scope, ch) = (row.scope.as_str(), row.channel.as_str());
                        let by =
                            settings::defined_by(scope, ch, &sl.defined_by, sl.defined_for_channel.as_deref(), &all);
                        let day = format!(
                            "from {} {} ({})",
                            sl.day.starts_at,
                            sl.day.time_zone,
                            settings::defined_by(scope, "", &sl.day_defined_by, None, &all)
                        );
                        view! {
                            <td>{definition}</td>
                            <td class="formula">{sl.formula.clone()}</td>
                            <td>{by}</td>
                            <td>{day}</td>
                        }
                        .into_any()
                    }
                };
                let place = (row.scope, row.channel);
                let edit_place = place.clone();
                let inherit = move |_| {
                    let ws = ws.get_value();
                    let (scope, ch) = place.clone();
                    leptos::task::spawn_local(async move {
                        if let Err(r) = api::inherit_service_level(&ws, &scope, &ch).await {
                            levels.update(|(_, l)| {
                                l.insert(scope, Err(r.text()));
                            });
                        }
                        reload.update(|n| *n += 1);
                    });
                };
                view! {
                    <tr data-testid=testid>
                        <th>{row.label}</th>
                        {cells}
                        <td class="settings-actions">
                            <button type="button" class="seg" on:click=move |_| editing.set(Some(edit_place.clone()))>
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
    };
    let editor = move || {
        let (scope, ch) = editing.get()?;
        let row = rows.with_untracked(|r| r.iter().find(|r| r.scope == scope && r.channel == ch).cloned())?;
        let sl = row.level?.ok()?;
        Some(view! { <LevelEditor ws=ws.get_value() scope label=row.label sl editing reload/> })
    };
    let options = move || {
        channels
            .get()
            .into_iter()
            .map(|c| {
                let value = c.value.clone();
                view! {
                    <option value=c.value prop:selected=move || channel.with(|ch| *ch == value)>
                        {c.label}
                    </option>
                }
            })
            .collect_view()
    };
    let choose = move |ev| {
        editing.set(None);
        channel.set(event_target_value(&ev));
    };
    view! {
        <section class="panel settings-section" data-testid="service-levels">
            <div class="panel-head">
                <h2 class="section-title">"Service levels"</h2>
                <span class="section-sub">"The definition in force for each scope; a scope without its own inherits the workspace's, a channel without its own the scope's."</span>
                <label class="control control-inline">
                    <span class="control-label">"Task channel"</span>
                    <select class="select" name="TaskChannel" data-testid="sl-channel" on:change=choose>
                        {options}
                    </select>
                </label>
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
                    <tbody>{table}</tbody>
                </table>
            </div>
            {editor}
        </section>
    }
}

/// The form of one place: a scope, for every channel (with its day) or one channel.
#[component]
fn LevelEditor(
    ws: String,
    scope: String,
    label: String,
    sl: LevelView,
    editing: RwSignal<Option<(String, String)>>,
    reload: RwSignal<u32>,
) -> impl IntoView {
    let loaded = LevelForm::of(&sl);
    let every_channel = loaded.channel.is_empty();
    let channel = loaded.channel.clone();
    let form = RwSignal::new(loaded.clone());
    let error = RwSignal::new(None::<String>);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = match form.with_untracked(|f| f.pairs(&loaded)) {
            Ok(pairs) => settings::encode_form(&pairs),
            Err(e) => return error.set(Some(e)),
        };
        let (ws, scope, channel) = (ws.clone(), scope.clone(), channel.clone());
        leptos::task::spawn_local(async move {
            match api::set_service_level(&ws, &scope, &channel, &body).await {
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
            {every_channel
                .then(|| {
                    view! {
                        <label class="control">
                            <span class="control-label">"Day starts at"</span>
                            <input class="input input-narrow" name="DayStartsAt" placeholder="HH:MM" prop:value=start on:input=set_start/>
                        </label>
                        <label class="control">
                            <span class="control-label">"Time zone"</span>
                            <input class="input" name="TimeZone" placeholder="Europe/Paris" prop:value=zone on:input=set_zone/>
                        </label>
                    }
                })}
            <div class="settings-actions">
                <button type="submit" class="seg active">"Save"</button>
                <button type="button" class="seg" on:click=move |_| editing.set(None)>"Cancel"</button>
            </div>
            {move || error.get().map(|e| view! { <p class="control-error" data-testid="sl-error">{e}</p> })}
        </form>
    }
}
