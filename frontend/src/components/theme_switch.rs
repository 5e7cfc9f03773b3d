//! The theme menu: auto (the system's), light, dark, high contrast.

use leptos::prelude::*;

use crate::browser;
use crate::model::view::Theme;
use crate::state::use_state;

#[component]
pub fn ThemeSwitch() -> impl IntoView {
    let state = use_state();
    let current = move || state.view.with(|v| v.theme);
    let choose = move |ev: leptos::ev::Event| {
        if let Some(theme) = Theme::from_key(&event_target_value(&ev)) {
            browser::set_document_theme(theme.key());
            state.navigate(false, |v| v.theme = theme);
        }
    };
    view! {
        <label class="control control-inline">
            <span class="control-label">"Theme"</span>
            <select class="select" on:change=choose prop:value=move || current().key()>
                {Theme::ALL
                    .into_iter()
                    .map(|t| {
                        view! {
                            <option value=t.key() selected=move || current() == t>
                                {t.label()}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </label>
    }
}
