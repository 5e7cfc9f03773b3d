//! The settings page (`page=settings`, admins only): service levels and alert rules.

use leptos::prelude::*;

use super::{AlertRulesPanel, Notice, ServiceLevelsPanel};
use crate::model::settings::NEED_ADMIN;
use crate::state::{Directory, Remote, use_state};

#[component]
pub fn SettingsPage() -> impl IntoView {
    let state = use_state();
    let workspace = Memo::new(move |_| {
        state.directory.with(|d| match d {
            Remote::Ready(Directory { workspace: Some((ws, _)), .. }) => Some(ws.clone()),
            _ => None,
        })
    });
    // Until the probe answers, the panels say what their calls answer.
    let refused = Memo::new(move |_| state.admin.get() == Some(false));
    let body = move || {
        match (workspace.get(), refused.get()) {
        (_, true) => view! {
            <div data-testid="settings-refused">
                <Notice title=NEED_ADMIN detail="Open the dashboard with an admin token (wallboard token) or the account's."/>
            </div>
        }
        .into_any(),
        (None, _) => view! { <Notice title="Waiting for the workspace…"/> }.into_any(),
        (Some(ws), false) => view! {
            <ServiceLevelsPanel ws=ws.clone()/>
            <AlertRulesPanel ws/>
        }
        .into_any(),
    }
    };
    view! {
        <section class="settings-page" data-testid="settings-page">
            <div class="page-head">
                <h1 class="section-title">"Settings"</h1>
            </div>
            {body}
        </section>
    }
}
