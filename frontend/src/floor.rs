//! Polls what of the supervisor's floor is not a statistics snapshot, over REST: the queue
//! and activity lists every half minute (names, presence, the skill filter; the plan
//! subscribes to each listed queue), the workers and a slice of their channels on the agent
//! board (a list of thousands of workers is not a snapshot), and the statistics list of the
//! queues only while the wall has more queues than its subscriptions (`Plan::overflow`).
//! The statistics of the header, the wall and the board's counts are WebSocket snapshots
//! (`crate::ws`, `model::subscriptions`).

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;

use crate::api::{self, Failure};
use crate::browser;
use crate::model::access::Access;
use crate::model::agents::{channel_slice, workers_query};
use crate::model::floor::today_query;
use crate::model::view::Page;
use crate::state::{AppState, Directory, Remote};

/// How often the statistics are asked for.
const POLL: Duration = Duration::from_secs(3);
/// How often the queue and activity lists are asked for again (ms).
const LISTS_EVERY_MS: f64 = 30_000.0;
/// Workers whose channels are fetched per poll (2,000 agents: each every ~100 s).
const CHANNELS_PER_POLL: usize = 60;

pub fn start(state: AppState) {
    let tick = RwSignal::new(0u64);
    set_interval(move || tick.update(|t| *t += 1), POLL);
    let busy = Rc::new(Cell::new(false));
    let lists_at = Rc::new(Cell::new(f64::NEG_INFINITY));
    let cursor = Rc::new(Cell::new(0usize));
    let floor = state.floor;
    Effect::new(move |_| {
        tick.track();
        let (page, filters) = state.view.with(|v| (v.page, (v.agent_queue.clone(), v.skill.clone())));
        let workspace = state.directory.with(|d| match d {
            Remote::Ready(Directory { workspace: Some((ws, _)), .. }) => Some(ws.clone()),
            _ => None,
        });
        let Some(ws) = workspace else { return };
        if state.access.get_untracked() != Access::Granted || busy.get() {
            return;
        }
        busy.set(true);
        let now = browser::now_ms();
        let (overflow, split) = state.plan.with_untracked(|p| (!p.overflow.is_empty(), p.overflow_split.clone()));
        // Split at the user's thresholds and the overflow queues' definitions' (the plan's).
        let query = state.view.with_untracked(|v| today_query(v, now as i64, &state.zone_offset())).map(|mut q| {
            q.split_by_wait_time = Some(split);
            q
        });
        let (busy, lists_at, cursor) = (busy.clone(), lists_at.clone(), cursor.clone());
        leptos::task::spawn_local(async move {
            // Why the queues are not listed yet, if a first attempt failed.
            let mut unlisted = None;
            let result: Result<(), Failure> = async {
                if now - lists_at.get() >= LISTS_EVERY_MS {
                    // Names and activity flags only refine the numbers: a failure here
                    // must not keep the statistics off the screen.
                    match api::task_queues(&ws).await {
                        Ok(list) => {
                            set_changed(floor.queue_list, list);
                            set_changed(floor.queues_listed, true);
                        }
                        Err(Failure::Refused) => return Err(Failure::Refused),
                        // Without the list the wall subscribes to no queue: say why.
                        Err(Failure::Other(e)) if !floor.queues_listed.get_untracked() => unlisted = Some(e),
                        Err(_) => {}
                    }
                    if let Ok(list) = api::activities(&ws).await {
                        set_changed(floor.activities, list);
                    }
                    // Until the queues are listed once, asked again at every poll.
                    if unlisted.is_none() {
                        lists_at.set(now);
                    }
                }
                match page {
                    Page::Queues if overflow => {
                        let Some(query) = query else { return Ok(()) };
                        floor.queues.set(Some(api::queue_statistics(&ws, &query).await?));
                    }
                    Page::Queues => set_changed(floor.queues, None),
                    Page::Agents => {
                        let q = workers_query(filters.0.as_deref(), filters.1.as_deref());
                        let workers = api::workers(&ws, &q).await?;
                        let (slice, next) = channel_slice(&workers.data, cursor.get(), CHANNELS_PER_POLL);
                        cursor.set(next);
                        floor.workers.set(Some(workers));
                        // One at a time (a browser queues parallel requests anyway), best
                        // effort: after a failure the rest waits for the next poll, and a
                        // worker keeps the channels last read.
                        let mut fetched = Vec::with_capacity(slice.len());
                        for wk in slice {
                            match api::worker_channels(&ws, &wk).await {
                                Ok(list) => fetched.push((wk, list)),
                                Err(_) => break,
                            }
                        }
                        floor.channels.update(|c| fetched.into_iter().for_each(|(wk, list)| c.set(wk, list)));
                    }
                    Page::Overview | Page::Workflow | Page::Settings | Page::History => {}
                }
                Ok(())
            }
            .await;
            match result {
                Ok(()) => set_changed(floor.problem, unlisted),
                Err(Failure::Refused) => state.access.set(Access::Refused),
                Err(Failure::RateLimited(secs)) => {
                    floor.problem.set(Some(format!("too many failed attempts; trying again in {secs} s")))
                }
                Err(Failure::Other(e)) => set_changed(floor.problem, Some(e)),
            }
            busy.set(false);
        });
    });
}

/// Sets `signal` only when the value differs (no redraw for an equal answer).
fn set_changed<T: PartialEq + Send + Sync + 'static>(signal: RwSignal<T>, value: T) {
    if signal.with_untracked(|v| *v != value) {
        signal.set(value);
    }
}
