//! The top bar: brand, workspace, where we are, the connection badge and the theme.

use leptos::prelude::*;

use super::{ConnectionBadge, ThemeSwitch, href, is_modified_click};
use crate::model::view::Page;
use crate::state::{AppState, Remote, use_state};

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
    // The workspace's pages: workflows (the overview), the queues wall, the agent board; the
    // settings, hidden until the server said the token is an admin's (a tab like the others
    // costs the default bundle less than one added when known).
    let tabs = [
        (Page::Overview, "Workflows"),
        (Page::Queues, "Queues"),
        (Page::Agents, "Agents"),
        (Page::History, "History"),
        (Page::Settings, "Settings"),
    ]
    .into_iter()
    .map(|(page, label)| tab(state, page, label))
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
            </nav>
            <div class="header-tools">
                <ConnectionBadge/>
                <ThemeSwitch/>
            </div>
        </header>
    }
}

/// The tab of `page`: a real link, followed in the app (for the settings, the default bundle
/// then loads the page again: `settings::open_admin_bundle`).
fn tab(state: AppState, page: Page, label: &'static str) -> impl IntoView {
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
    let current = move || state.view.with(|v| v.page == page || (page == Page::Overview && v.page == Page::Workflow));
    view! {
        <a
            class="tab"
            class:active=current
            aria-current=move || current().then_some("page")
            data-testid=format!("tab-{}", page.key().unwrap_or("overview"))
            hidden=move || page == Page::Settings && state.admin.get() != Some(true)
            href=link
            on:click=go
        >
            {label}
        </a>
    }
}
