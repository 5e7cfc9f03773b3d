//! The top bar: brand, workspace, where we are, the connection badge and the theme.

use leptos::prelude::*;

use super::{ConnectionBadge, ThemeSwitch, href, is_modified_click};
use crate::model::view::Page;
use crate::state::{Remote, use_state};

#[component]
pub fn Header() -> impl IntoView {
    let state = use_state();
    let workspace = move || {
        state.directory.with(|d| match d {
            Remote::Ready(d) => d.workspace.as_ref().map(|(_, name)| name.clone()),
            _ => None,
        })
    };
    let overview_href = move || {
        href(&state.view.with(|v| {
            let mut v = v.clone();
            v.page = Page::Overview;
            v
        }))
    };
    let to_overview = move |ev: leptos::ev::MouseEvent| {
        if !is_modified_click(&ev) {
            ev.prevent_default();
            state.navigate(true, |v| v.page = Page::Overview);
        }
    };
    let crumb = move || state.workflow.get().map(|w| w.name);
    view! {
        <header class="header">
            <a class="brand" href=overview_href on:click=to_overview>
                <span class="brand-mark" aria-hidden="true"></span>
                <span class="brand-name">"Wallboard"</span>
            </a>
            <nav class="crumbs" aria-label="Location">
                <a class="crumb" href=overview_href on:click=to_overview>
                    {move || workspace().unwrap_or_else(|| "Overview".to_owned())}
                </a>
                {move || {
                    crumb()
                        .map(|name| {
                            view! {
                                <span class="crumb-sep" aria-hidden="true">"/"</span>
                                <span class="crumb crumb-current">{name}</span>
                            }
                        })
                }}
            </nav>
            <div class="header-tools">
                <ConnectionBadge/>
                <ThemeSwitch/>
            </div>
        </header>
    }
}
