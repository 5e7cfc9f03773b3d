//! The root component: state, the WebSocket client, the directory, timers, the display
//! modes (kiosk, rotation, wake lock, embedding), the kiosk's burn-in protection and the
//! watchdog's heartbeat, and the page.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;

use crate::api::{self, Failure};
use crate::browser;
#[cfg(feature = "admin")]
use crate::components::HistoryPage;
#[cfg(not(feature = "admin"))]
use crate::components::Notice;
#[cfg(feature = "admin")]
use crate::components::SettingsPage;
use crate::components::{
    AccessNotice, AgentBoard, AlertBanner, Header, Overview, QueuesWall, StaleBanner, WorkflowPage, WorkspaceHeader,
};
use crate::model::access::{Access, Stop, next_page};
use crate::model::alerts::{BEEP_EVERY_MS, BEEP_TONE_S, BEEP_TONES_HZ, Sound};
use crate::model::kiosk::{self, BURN_IN_STEP_SECS};
use crate::model::service_levels::Definitions;
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
    show_modes(&state.view.get_untracked());

    // Without a token nothing is asked of the server (it would only count failures).
    if state.access.get_untracked() == Access::Granted {
        ws::Client::start(state);
        crate::floor::start(state);
    }
    follow_directory(state);
    mark_first_data(state);
    rotate(state);
    burn_in(state);
    heartbeat(state);
    daily_refresh(state);
    keep_awake(state);
    report_height(state);
    sound(state);

    set_interval(move || leptos::task::spawn_local(ws::check_build()), BUILD_CHECK_EVERY);
    set_interval(move || state.directory_epoch.update(|e| *e += 1), DIRECTORY_EVERY);
    let resize = window_event_listener(leptos::ev::resize, move |_| state.resized.update(|r| *r += 1));
    // A new link pasted over this one may differ only in its token (the fragment): the
    // browser then does not load the page again, so it is done here.
    let _ = window_event_listener(leptos::ev::hashchange, |_| browser::reload());
    let back = window_event_listener(leptos::ev::popstate, move |_| {
        let view = ViewState::from_query(&browser::location_search());
        show_modes(&view);
        state.view.set(view);
    });
    on_cleanup(move || {
        resize.remove();
        back.remove();
    });

    // Only a change of page mounts another page (a view change within it, e.g. another
    // workflow or a filter, is the page's own business).
    let page = Memo::new(move |_| state.view.with(|v| v.page));
    // Kiosk and embedding are what the link says: decided once.
    let chrome = state.view.with_untracked(ViewState::chrome);
    let content = move || match (state.access.get(), page.get()) {
        (Access::Granted, Page::Overview) => view! { <Overview/> }.into_any(),
        (Access::Granted, Page::Workflow) => view! { <WorkflowPage/> }.into_any(),
        (Access::Granted, Page::Queues) => view! { <QueuesWall/> }.into_any(),
        (Access::Granted, Page::Agents) => view! { <AgentBoard/> }.into_any(),
        #[cfg(feature = "admin")]
        (Access::Granted, Page::Settings) => view! { <SettingsPage/> }.into_any(),
        // Not in this bundle: the page loads again with the admin bundle.
        #[cfg(not(feature = "admin"))]
        (Access::Granted, Page::Settings) => {
            state.view.with_untracked(crate::settings::open_admin_bundle);
            view! { <Notice title="Opening the settings…"/> }.into_any()
        }
        // The history is in the admin bundle too (no wall needs it), for every viewer.
        #[cfg(feature = "admin")]
        (Access::Granted, Page::History) => view! { <HistoryPage/> }.into_any(),
        #[cfg(not(feature = "admin"))]
        (Access::Granted, Page::History) => {
            state.view.with_untracked(crate::settings::open_admin_bundle);
            view! { <Notice title="Opening the history…"/> }.into_any()
        }
        (access, _) => view! { <AccessNotice access=access/> }.into_any(),
    };
    view! {
        {chrome.then(|| view! { <Header/> })}
        <StaleBanner/>
        <AlertBanner/>
        <main class="main">
            // The workspace's headline numbers on every page (not inside another page's frame).
            {move || (state.access.get() == Access::Granted && !state.view.with_untracked(|v| v.embed))
                .then(|| view! { <WorkspaceHeader/> })}
            {content}
        </main>
        {chrome
            .then(|| {
                view! {
                    <footer class="footer">
                        <span>"Wallboard · TaskRouter workflow statistics"</span>
                        <span class="footer-build">{browser::page_build_id().map(|id| format!("build {id}"))}</span>
                    </footer>
                }
            })}
    }
}

/// The theme and the display modes as `<html>` attributes, for the stylesheet.
fn show_modes(view: &ViewState) {
    browser::set_document_theme(view.theme.key());
    browser::set_document_flag("data-kiosk", view.kiosk);
    browser::set_document_flag("data-embed", view.embed);
    browser::set_document_flag("data-bg-transparent", view.transparent);
}

/// `rotate=N`: every N seconds the next page of the workspace (the overview, each
/// workflow in order, the queues wall, the agent board), replacing the history entry (no
/// reload, no back-button trail).
fn rotate(state: AppState) {
    let Some(secs) = state.view.with_untracked(|v| v.rotate) else { return };
    // The last workflow shown, so the rotation goes on after it when it disappears.
    let last = RefCell::new(None::<(String, String)>);
    set_interval(
        move || {
            let Remote::Ready(directory) = state.directory.get_untracked() else { return };
            let page = state.view.with_untracked(|v| v.page);
            let current = match state.workflow.get_untracked() {
                Some(w) if page == Page::Workflow => Some((w.name, w.sid)),
                _ if page == Page::Workflow => last.borrow().clone(),
                _ => None,
            };
            let list = directory.workflows.iter().map(|w| (w.name.as_str(), w.sid.as_str()));
            let next = next_page(page, current.as_ref().map(|(n, s)| (n.as_str(), s.as_str())), list);
            let next = match next {
                Stop::Workflow(sid) => directory.workflow(sid).map_or(Stop::Queues, |w| Stop::Workflow(&w.sid)),
                other => other,
            };
            if let Stop::Workflow(sid) = next {
                *last.borrow_mut() = directory.workflow(sid).map(|w| (w.name.clone(), w.sid.clone()));
            }
            state.navigate(false, |v| match next {
                Stop::Workflow(sid) => {
                    v.page = Page::Workflow;
                    v.workflow = Some(sid.to_owned());
                }
                Stop::Overview => v.page = Page::Overview,
                Stop::Queues => v.page = Page::Queues,
                Stop::Agents => v.page = Page::Agents,
            });
        },
        Duration::from_secs(u64::from(secs)),
    );
}

/// A kiosk's burn-in protection (`model::kiosk`): the layout's offset on the orbit, from the
/// wall clock, set now and at every step.
fn burn_in(state: AppState) {
    let step = state.view.with_untracked(|v| v.kiosk.then(|| v.burn_in.unwrap_or(BURN_IN_STEP_SECS)));
    let Some(step) = step.filter(|s| *s > 0) else { return };
    let place = move || browser::set_burn_in(kiosk::burn_in_offset(kiosk::burn_in_step(browser::now_ms(), step)));
    place();
    set_interval(place, Duration::from_secs(u64::from(step)));
}

/// A kiosk's daily fresh start (`model::kiosk`): at the hour of `refresh=H` (4 by default;
/// `refresh=off` never) the page loads itself again if its server answers, or waits for the
/// next day.
fn daily_refresh(state: AppState) {
    let hour = state.view.with_untracked(|v| v.kiosk.then(|| v.refresh.unwrap_or(Some(kiosk::REFRESH_HOUR))));
    let Some(Some(hour)) = hour else { return };
    let now = browser::now_ms();
    let wait = kiosk::ms_until_hour(now, browser::zone_offset_minutes(None, now as i64), hour);
    set_timeout(
        move || {
            leptos::task::spawn_local(async move {
                ws::reload_when_reachable().await;
                // Still here: the server did not answer. Tomorrow, then.
                daily_refresh(state);
            });
        },
        Duration::from_millis(wait as u64),
    );
}

/// The watchdog's heartbeat (frontend/boot.js loads a kiosk again when it stops): every
/// second a timer asks for an animation frame, which beats unless the connection is lost
/// for good. A panic, a main loop that stopped, frames that stopped or a server gone for
/// ten minutes all stop it.
fn heartbeat(state: AppState) {
    let loaded = browser::performance_now();
    set_interval(
        move || {
            request_animation_frame(move || {
                let since_load = ((browser::performance_now() - loaded) / 1000.0) as u64;
                if !state.badge.with_untracked(|b| kiosk::connection_lost(b, since_load)) {
                    browser::heartbeat();
                }
            });
        },
        Duration::from_secs(1),
    );
}

/// `wakelock=1`: keeps the screen on, asking again whenever the page is shown again (the
/// browser releases the lock when it is hidden).
fn keep_awake(state: AppState) {
    if !state.view.with_untracked(|v| v.wakelock) {
        return;
    }
    browser::request_wake_lock();
    let _ = window_event_listener(leptos::ev::visibilitychange, |_| browser::request_wake_lock());
}

/// `sound=1`: a two-tone beep every 2.5 s while an alert of the workspace fires
/// unacknowledged, until it is acknowledged (on any dashboard) or clears. The browser may
/// hold the audio until a user gesture: any press on the page (or the banner's "click to
/// enable sound") resumes it. `<html data-sound>` says what the wall does.
fn sound(state: AppState) {
    let enabled = state.view.with_untracked(|v| v.sound);
    let beep = || browser::beep(&BEEP_TONES_HZ, BEEP_TONE_S);
    // Reads the audio context's state (never at once after making it: a context allowed to
    // play starts running a moment later, and is not blocked); beeps when it starts running
    // while the wall sounds. True when it beeped.
    let was_running = Rc::new(Cell::new(false));
    let check = move || {
        let running = browser::audio_running();
        let started = running && !was_running.replace(running);
        if state.audio_blocked.get_untracked() == running {
            state.audio_blocked.set(!running);
        }
        let beeped = started && state.marks.with_untracked(|m| m.sounding);
        if beeped {
            beep();
        }
        beeped
    };
    let start = check.clone();
    Effect::new(move |before: Option<bool>| {
        let sounding = state.marks.with(|m| m.sounding);
        let sound = Sound::of(enabled, sounding, state.audio_blocked.get());
        browser::set_document_attribute("data-sound", sound.key());
        if enabled && sounding && before != Some(true) {
            let changed = start.clone();
            browser::audio_start(move || {
                changed();
            });
            if !browser::audio_running() {
                let later = start.clone();
                set_timeout(
                    move || {
                        later();
                    },
                    Duration::from_millis(400),
                );
            } else if !start() {
                beep();
            }
        }
        sounding
    });
    if !enabled {
        return;
    }
    set_interval(
        move || {
            if state.marks.with_untracked(|m| m.sounding) && !check() {
                beep();
            }
        },
        Duration::from_millis(u64::from(BEEP_EVERY_MS)),
    );
    let _ = window_event_listener_untyped("pointerdown", move |_| {
        if state.audio_blocked.get_untracked() {
            browser::audio_resume();
        }
    });
}

/// `embed=1` in a frame: posts the page's height to the parent whenever it changes.
fn report_height(state: AppState) {
    if !state.view.with_untracked(|v| v.embed) || !browser::framed() {
        return;
    }
    let sent = Rc::new(Cell::new(0u32));
    let post = move || {
        let height = browser::page_height();
        if height != sent.get() {
            sent.set(height);
            browser::post_height(height);
        }
    };
    if !browser::observe_body_size(post.clone()) {
        // No ResizeObserver: look after every change of the clock, the data or the size.
        Effect::new(move |_| {
            state.now_ms.track();
            state.snapshots.track();
            state.resized.track();
            post();
        });
    }
}

/// Lists the workspace's workflows and channels whenever the workspace in the URL changes
/// and on every `directory_epoch` bump; retries while there is nothing to show. Then asks
/// whether the token is an admin's, until known (`settings::ask`).
fn follow_directory(state: AppState) {
    let latest = Rc::new(Cell::new(0u64));
    // After "too many failed attempts": no call before this time (ms).
    let quiet_until = Rc::new(Cell::new(0.0f64));
    Effect::new(move |_| {
        let wanted = state.view.with(|v| v.workspace.clone());
        state.directory_epoch.track();
        if state.access.get() != Access::Granted || browser::now_ms() < quiet_until.get() {
            return; // every call would be refused, and count as a failed attempt
        }
        let seq = latest.get() + 1;
        latest.set(seq);
        let latest = latest.clone();
        let quiet_until = quiet_until.clone();
        leptos::task::spawn_local(async move {
            let result = load_directory(wanted).await;
            if latest.get() != seq {
                return; // a newer load is under way
            }
            let mut retry = (!matches!(&result, Ok((d, _)) if d.workspace.is_some())).then_some(DIRECTORY_RETRY);
            let result = result.map_err(|failure| match failure {
                Failure::Refused => {
                    retry = None;
                    state.access.set(Access::Refused);
                    "the link's token is refused".to_owned()
                }
                Failure::RateLimited(secs) => {
                    retry = Some(Duration::from_secs(secs));
                    quiet_until.set(browser::now_ms() + secs as f64 * 1000.0 - 500.0);
                    format!("too many failed attempts from this network; trying again in {secs} s")
                }
                Failure::Other(e) => e,
            });
            let shown = result.as_ref().ok().and_then(|(d, _)| d.workspace.as_ref()).map(|(ws, _)| ws.clone());
            match result {
                Ok((directory, levels)) => {
                    // The definitions in force: the last known while they cannot be read.
                    let ws = directory.workspace.as_ref().map(|w| w.0.as_str());
                    if let Some(next) = state.definitions.with_untracked(|d| d.after_load(ws, levels)) {
                        state.definitions.set(next);
                    }
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
            if let Some(delay) = retry {
                set_timeout(move || state.directory_epoch.update(|e| *e += 1), delay);
            }
            if let Some(ws) = shown {
                crate::settings::ask(state, &ws).await;
            }
        });
    });
}

/// The directory, and the workspace's service-level definitions (None when they cannot be
/// read: a link limited to some workflows gets 403; the page goes on without them).
async fn load_directory(wanted: Option<String>) -> Result<(Directory, Option<Definitions>), Failure> {
    let workspaces = api::workspaces().await?;
    let workspace = match &wanted {
        Some(sid) => Some(
            workspaces
                .iter()
                .find(|w| w.sid == *sid)
                .ok_or_else(|| Failure::Other(format!("workspace {sid} is not known to this server")))?,
        ),
        None => workspaces.first(),
    };
    let Some(workspace) = workspace else { return Ok((Directory::default(), None)) };
    let sid = workspace.sid.clone();
    let (workflows, channels, levels) =
        futures_util::future::join3(api::workflows(&sid), api::task_channels(&sid), api::service_levels(&sid)).await;
    Ok((Directory::new(Some(workspace), workflows?, channels.unwrap_or_default()), levels.ok()))
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
