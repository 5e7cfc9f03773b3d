//! The root component: state, the WebSocket client, the directory, timers, and the page.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;

use crate::api;
use crate::browser;
use crate::components::{Header, Overview, WorkflowPage};
use crate::model::view::{Page, ViewState};
use crate::state::{AppState, Directory, Remote};
use crate::ws;

/// How often the page asks whether a new build is served.
const BUILD_CHECK_EVERY: Duration = Duration::from_secs(180);
/// How often the workflows and channels are listed again (new ones appear with events).
const DIRECTORY_EVERY: Duration = Duration::from_secs(30);
/// Retry delay while the server lists nothing or cannot be reached.
const DIRECTORY_RETRY: Duration = Duration::from_secs(3);

#[component]
pub fn App() -> impl IntoView {
    browser::install_test_hook();
    let state = AppState::new();
    provide_context(state);
    browser::set_document_theme(state.view.with_untracked(|v| v.theme.key()));

    let _client = ws::Client::start(state);
    follow_directory(state);
    mark_first_data(state);

    set_interval(move || leptos::task::spawn_local(ws::check_build()), BUILD_CHECK_EVERY);
    set_interval(move || state.directory_epoch.update(|e| *e += 1), DIRECTORY_EVERY);
    let resize = window_event_listener(leptos::ev::resize, move |_| state.resized.update(|r| *r += 1));
    let back = window_event_listener(leptos::ev::popstate, move |_| {
        let view = ViewState::from_query(&browser::location_search());
        browser::set_document_theme(view.theme.key());
        state.view.set(view);
    });
    on_cleanup(move || {
        resize.remove();
        back.remove();
    });

    let page = move || state.view.with(|v| v.page);
    view! {
        <Header/>
        <main class="main">
            {move || match page() {
                Page::Overview => view! { <Overview/> }.into_any(),
                Page::Workflow => view! { <WorkflowPage/> }.into_any(),
            }}
        </main>
        <footer class="footer">
            <span>"Wallboard · TaskRouter workflow statistics"</span>
            <span class="footer-build">{browser::page_build_id().map(|id| format!("build {id}"))}</span>
        </footer>
    }
}

/// Lists the workspace's workflows and channels whenever the workspace in the URL changes
/// and on every `directory_epoch` bump; retries while there is nothing to show.
fn follow_directory(state: AppState) {
    let latest = Rc::new(Cell::new(0u64));
    Effect::new(move |_| {
        let wanted = state.view.with(|v| v.workspace.clone());
        state.directory_epoch.track();
        let seq = latest.get() + 1;
        latest.set(seq);
        let latest = latest.clone();
        leptos::task::spawn_local(async move {
            let result = load_directory(wanted).await;
            if latest.get() != seq {
                return; // a newer load is under way
            }
            let retry = !matches!(&result, Ok(d) if d.workspace.is_some());
            match result {
                Ok(directory) => {
                    let next = Remote::Ready(directory);
                    if state.directory.with_untracked(|d| *d != next) {
                        state.directory.set(next);
                    }
                }
                // Keep showing what was listed before a failed refresh.
                Err(e) if !matches!(state.directory.get_untracked(), Remote::Ready(_)) => {
                    state.directory.set(Remote::Failed(e))
                }
                Err(_) => {}
            }
            if retry {
                set_timeout(move || state.directory_epoch.update(|e| *e += 1), DIRECTORY_RETRY);
            }
        });
    });
}

async fn load_directory(wanted: Option<String>) -> Result<Directory, String> {
    let workspaces = api::workspaces().await?;
    let workspace = match &wanted {
        Some(sid) => Some(
            workspaces
                .iter()
                .find(|w| w.sid == *sid)
                .ok_or_else(|| format!("workspace {sid} is not known to this server"))?,
        ),
        None => workspaces.first(),
    };
    let Some(workspace) = workspace else { return Ok(Directory::default()) };
    let sid = workspace.sid.clone();
    let (workflows, channels) = futures_util::future::join(api::workflows(&sid), api::task_channels(&sid)).await;
    Ok(Directory::new(Some(workspace), workflows?, channels.unwrap_or_default()))
}

/// Sets `window.__wallboard.firstDataMs` once the first snapshot is on screen (after the
/// frame that shows it).
fn mark_first_data(state: AppState) {
    let done = Rc::new(Cell::new(false));
    Effect::new(move |_| {
        if done.get() || state.snapshots.with(|s| s.is_empty()) {
            return;
        }
        done.set(true);
        request_animation_frame(browser::mark_first_data);
    });
}
