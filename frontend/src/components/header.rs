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
    // The workspace's pages: workflows (the overview), the queues wall, the agent board.
    let tabs = [(Page::Overview, "Workflows"), (Page::Queues, "Queues"), (Page::Agents, "Agents")]
        .into_iter()
        .map(|(page, label)| {
            let link = move || {
                href(&state.view.with(|v| {
                    let mut v = v.clone();
                    v.page = page;
                    v
                }))
            };
            let go = move |ev: leptos::ev::MouseEvent| {
                if !is_modified_click(&ev) {
                    ev.prevent_default();
                    state.navigate(true, |v| v.page = page);
                }
            };
            let current =
                move || state.view.with(|v| v.page == page || (page == Page::Overview && v.page == Page::Workflow));
            view! {
                <a
                    class="tab"
                    class:active=current
                    aria-current=move || current().then_some("page")
                    data-testid=format!("tab-{}", page.key().unwrap_or("overview"))
                    href=link
                    on:click=go
                >
                    {label}
                </a>
            }
        })
        .collect_view();
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
            <nav class="tabs" aria-label="Views">
                {tabs}
                {move || (crate::settings::admin() == Some(true)).then(|| settings_tab(state))}
            </nav>
            <div class="header-tools">
                <ConnectionBadge/>
                <ThemeSwitch/>
            </div>
        </header>
    }
}

/// The settings page's tab, for admins.
fn settings_tab(state: crate::state::AppState) -> impl IntoView {
    let current = move || state.view.with(|v| v.page == Page::Settings);
    let link = move || {
        href(&state.view.with(|v| {
            let mut v = v.clone();
            v.page = Page::Settings;
            v
        }))
    };
    let go = move |ev: leptos::ev::MouseEvent| {
        if !is_modified_click(&ev) {
            ev.prevent_default();
            state.navigate(true, |v| v.page = Page::Settings);
        }
    };
    view! {
        <a
            class="tab"
            class:active=current
            aria-current=move || current().then_some("page")
            data-testid="tab-settings"
            href=link
            on:click=go
        >
            "Settings"
        </a>
    }
}
