//! The app's state: one `Copy` struct of signals, provided as context by `App`.

use leptos::prelude::*;

use crate::api::Listed;
use crate::browser;
use crate::model::access::Access;
use crate::model::agents::Channels;
use crate::model::alerts::{AlertsState, Marks};
use crate::model::floor::{ActivityInfo, Answer, QueueStats, WorkerInfo};
use crate::model::link::{Badge, BadgeState};
use crate::model::service_levels::Definitions;
use crate::model::snapshots::Snapshots;
use crate::model::subscriptions::{self, Plan};
use crate::model::trend::Trends;
use crate::model::view::{Page, Theme, ViewState};

/// Something fetched over REST.
#[derive(Debug, Clone, PartialEq)]
pub enum Remote<T> {
    Loading,
    Ready(T),
    Failed(String),
}

/// A workflow as the dashboard lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowInfo {
    pub sid: String,
    pub name: String,
}

/// A task channel of the channel filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelInfo {
    pub unique_name: String,
    pub name: String,
}

/// The workspace being shown, its workflows (by name) and task channels.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Directory {
    /// None when the server knows no workspace yet (no events so far).
    pub workspace: Option<(String, String)>,
    pub workflows: Vec<WorkflowInfo>,
    pub channels: Vec<ChannelInfo>,
}

impl Directory {
    /// Workflows are shown by name.
    pub fn new(workspace: Option<&Listed>, workflows: Vec<Listed>, channels: Vec<Listed>) -> Self {
        let mut by_name: Vec<WorkflowInfo> = Vec::with_capacity(workflows.len());
        for w in workflows {
            let w = WorkflowInfo { sid: w.sid, name: w.friendly_name };
            // An insertion sort by (name, sid): short lists, and less wasm than a sort.
            let at = by_name.partition_point(|x| (&x.name, &x.sid) < (&w.name, &w.sid));
            if by_name.get(at) != Some(&w) {
                by_name.insert(at, w);
            }
        }
        Self {
            workspace: workspace.map(|w| (w.sid.clone(), w.friendly_name.clone())),
            workflows: by_name,
            channels: channels
                .into_iter()
                .map(|c| ChannelInfo {
                    unique_name: c.unique_name.unwrap_or_else(|| c.sid.clone()),
                    name: c.friendly_name,
                })
                .collect(),
        }
    }

    pub fn workflow(&self, sid: &str) -> Option<&WorkflowInfo> {
        self.workflows.iter().find(|w| w.sid == sid)
    }
}

/// All signals of the app.
#[derive(Debug, Clone, Copy)]
pub struct AppState {
    /// What the URL says.
    pub view: RwSignal<ViewState>,
    pub directory: RwSignal<Remote<Directory>>,
    /// Bumped to fetch the directory again (reconnects, a timer).
    pub directory_epoch: RwSignal<u64>,
    /// The workspace's service-level definitions, read with the directory (the last known
    /// ones while a read fails; none known: the built-in).
    pub definitions: RwSignal<Definitions>,
    /// The latest snapshot per subscription.
    pub snapshots: RwSignal<Snapshots>,
    /// The last hour of the realtime numbers of the shown workflow (of every workflow on a
    /// rotating kiosk).
    pub trends: RwSignal<Trends>,
    /// Whether the link's token lets the page ask the server.
    pub access: RwSignal<Access>,
    pub badge: RwSignal<Badge>,
    /// The client clock, updated every second (ticking ages, "N s ago").
    pub now_ms: RwSignal<f64>,
    /// Bumped when the window is resized (charts redraw at the new size).
    pub resized: RwSignal<u64>,
    /// The subscriptions of the current view.
    pub plan: Memo<Plan>,
    /// The workflow shown on the workflow page (from the URL, or the first one).
    pub workflow: Memo<Option<WorkflowInfo>>,
    /// The theme alone (charts redraw when it changes, not on every view change).
    pub theme: Memo<Theme>,
    /// The supervisor's floor: what is read over REST (`crate::floor`); its statistics are
    /// snapshots of the plan's subscriptions.
    pub floor: Floor,
    /// The latest `alerts` frame per workspace, and the acknowledgements under way.
    pub alerts: RwSignal<AlertsState>,
    /// The places the shown workspace's firing alerts mark, and whether one fires
    /// unacknowledged (`sound=1` beeps then).
    pub marks: Memo<Marks>,
    /// Whether the browser keeps the page's audio suspended until a click.
    pub audio_blocked: RwSignal<bool>,
    /// Whether the link's token is an admin's (`settings::ask`): None until known, and on a
    /// kiosk or an embedded page, which never ask. The header links to the settings for admins.
    pub admin: RwSignal<Option<bool>>,
}

/// The floor's REST answers, one signal each: the wall does not redraw when the workers change.
#[derive(Debug, Clone, Copy)]
pub struct Floor {
    /// The statistics list of every queue (realtime, and today's service level), polled only
    /// while the wall has queues beyond its subscriptions (`Plan::overflow`).
    pub queues: RwSignal<Option<Answer<Vec<QueueStats>>>>,
    /// The queues' names and TargetWorkers expressions (the wall subscribes to each).
    pub queue_list: RwSignal<Vec<Listed>>,
    /// Whether `queue_list` has been read once (an empty list then means no queues).
    pub queues_listed: RwSignal<bool>,
    pub activities: RwSignal<Vec<ActivityInfo>>,
    /// The workers the agent board's filters select.
    pub workers: RwSignal<Option<Answer<Vec<WorkerInfo>>>>,
    pub channels: RwSignal<Channels>,
    /// Why the last poll failed, if it did.
    pub problem: RwSignal<Option<String>>,
}

impl Floor {
    fn new() -> Self {
        Self {
            queues: RwSignal::new(None),
            queue_list: RwSignal::new(Vec::new()),
            queues_listed: RwSignal::new(false),
            activities: RwSignal::new(Vec::new()),
            workers: RwSignal::new(None),
            channels: RwSignal::new(Channels::default()),
            problem: RwSignal::new(None),
        }
    }
}

impl AppState {
    pub fn new() -> Self {
        let view = RwSignal::new(ViewState::from_query(&browser::location_search()));
        let directory = RwSignal::new(Remote::<Directory>::Loading);
        let now_ms = RwSignal::new(browser::now_ms());
        let workflow = Memo::new(move |_| {
            let wanted = view.with(|v| (v.page == Page::Workflow).then(|| v.workflow.clone()))?;
            directory.with(|d| match d {
                Remote::Ready(d) => match wanted {
                    Some(sid) => d.workflow(&sid).cloned(),
                    None => d.workflows.first().cloned(),
                },
                _ => None,
            })
        });
        // Recomputed each minute at most ("today" moves at midnight); equal plans do not
        // notify, so a sliding window never resubscribes.
        let minute = Memo::new(move |_| (now_ms.get() / 60_000.0).floor() as i64);
        let floor = Floor::new();
        let definitions = RwSignal::new(Definitions::default());
        let queue_sids =
            Memo::new(move |_| floor.queue_list.with(|l| l.iter().map(|q| q.sid.clone()).collect::<Vec<_>>()));
        let plan = Memo::new(move |_| {
            let minute = minute.get();
            let wf = workflow.get();
            let queues = queue_sids.get();
            view.with(|v| {
                directory.with(|d| {
                    let Remote::Ready(Directory { workspace: Some((ws, _)), workflows, .. }) = d else {
                        return Plan::default();
                    };
                    let sids: Vec<String> = workflows.iter().map(|w| w.sid.clone()).collect();
                    let zone = v.time_zone.clone();
                    let offset = move |at: i64| browser::zone_offset_minutes(zone.as_deref(), at);
                    let now = (minute * 60_000).max(browser::now_ms() as i64);
                    let wf = wf.as_ref().map(|w| w.sid.as_str());
                    definitions.with(|defs| subscriptions::plan(v, ws.as_str(), &sids, wf, &queues, defs, now, &offset))
                })
            })
        });
        let alerts = RwSignal::new(AlertsState::default());
        let marks = Memo::new(move |_| {
            let ws = shown_workspace(directory);
            alerts.with(|a| ws.map(|ws| Marks::of(a.list(&ws))).unwrap_or_default())
        });
        Self {
            view,
            directory,
            directory_epoch: RwSignal::new(0),
            definitions,
            snapshots: RwSignal::new(Snapshots::default()),
            trends: RwSignal::new(Trends::default()),
            access: RwSignal::new(Access::of(browser::token().as_deref())),
            badge: RwSignal::new(Badge {
                state: BadgeState::Connecting,
                heard_secs_ago: None,
                retry_in_secs: None,
                stale_since_ms: None,
            }),
            now_ms,
            resized: RwSignal::new(0),
            plan,
            workflow,
            theme: Memo::new(move |_| view.with(|v| v.theme)),
            floor,
            alerts,
            marks,
            audio_blocked: RwSignal::new(false),
            admin: RwSignal::new(None),
        }
    }

    /// Changes the view and the address bar with it. `push` for a new page (back returns),
    /// otherwise the current history entry is replaced.
    pub fn navigate(&self, push: bool, change: impl FnOnce(&mut ViewState)) {
        let mut next = self.view.get_untracked();
        change(&mut next);
        if next != self.view.get_untracked() {
            browser::set_location_query(&next.to_query(), push);
            self.view.set(next);
        }
    }

    /// The workspace shown (`WS…`), once the directory names one (tracked).
    pub fn workspace(&self) -> Option<String> {
        shown_workspace(self.directory)
    }

    /// [`AppState::workspace`], untracked.
    pub fn workspace_untracked(&self) -> Option<String> {
        leptos::prelude::untrack(|| self.workspace())
    }

    /// The chosen zone's UTC offset function (see `ViewState::statistics_query`).
    pub fn zone_offset(&self) -> impl Fn(i64) -> i32 + use<> {
        let zone = self.view.with_untracked(|v| v.time_zone.clone());
        move |at| browser::zone_offset_minutes(zone.as_deref(), at)
    }
}

fn shown_workspace(directory: RwSignal<Remote<Directory>>) -> Option<String> {
    directory.with(|d| match d {
        Remote::Ready(Directory { workspace: Some((ws, _)), .. }) => Some(ws.clone()),
        _ => None,
    })
}

impl Default for AppState {
    fn default() -> Self {
        Self::new()
    }
}

/// The state provided by `App`.
pub fn use_state() -> AppState {
    expect_context::<AppState>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflows_by_name_then_sid_without_duplicates() {
        let listed =
            |sid: &str, name: &str| Listed { sid: sid.into(), friendly_name: name.into(), ..Default::default() };
        let d = Directory::new(
            None,
            vec![listed("WW3", "Support"), listed("WW2", "Sales"), listed("WW1", "Sales"), listed("WW2", "Sales")],
            Vec::new(),
        );
        let order: Vec<_> = d.workflows.iter().map(|w| (w.name.as_str(), w.sid.as_str())).collect();
        assert_eq!(order, [("Sales", "WW1"), ("Sales", "WW2"), ("Support", "WW3")]);
    }
}
