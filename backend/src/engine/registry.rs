//! Workspaces, workflows and task channels known from the events, with their names.

use rustc_hash::FxHashMap;
use sha2::{Digest, Sha256};
use wallboard_shared::sid::{TaskChannelSid, WorkflowSid, WorkspaceSid, is_sid};

use crate::event::Event;

/// A resource as first and last seen in the events; the name is that of the newest event
/// that carried one.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Known<S> {
    pub sid: S,
    pub name: Option<String>,
    pub first_ms: i64,
    pub last_ms: i64,
    name_ms: i64,
}

impl<S> Known<S> {
    fn new(sid: S, ts: i64) -> Self {
        Self { sid, name: None, first_ms: ts, last_ms: ts, name_ms: i64::MIN }
    }

    /// Records a sighting; true when the name changed.
    fn seen(&mut self, ts: i64, name: Option<&str>) -> bool {
        self.first_ms = self.first_ms.min(ts);
        self.last_ms = self.last_ms.max(ts);
        let Some(n) = name.filter(|_| ts >= self.name_ms) else {
            return false;
        };
        self.name_ms = ts;
        // The hot path: the same name again costs no allocation.
        if self.name.as_deref() == Some(n) {
            return false;
        }
        self.name = Some(n.chars().take(256).collect());
        true
    }
}

/// Ids of the registry: indexes into its tables, handed out once and never changed, typed
/// so that a workflow id cannot be used as a channel id.
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub struct $name(u32);

        impl $name {
            /// The id of the `index`th entry (the engine's internal tables use the number).
            pub fn from_index(index: u32) -> Self {
                Self(index)
            }

            pub fn index(self) -> u32 {
                self.0
            }
        }
    };
}

id_type!(
    /// A workspace known to the registry.
    WorkspaceId
);
id_type!(
    /// A workflow known to the registry.
    WorkflowId
);
id_type!(
    /// A task channel known to the registry.
    ChannelId
);

#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
pub struct WorkflowRec {
    pub workspace: WorkspaceId,
    pub known: Known<WorkflowSid>,
}

#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
pub struct ChannelRec {
    pub workspace: WorkspaceId,
    pub known: Known<TaskChannelSid>,
    /// The SID was made up from the unique name because no event carried the real one.
    pub synthetic: bool,
}

/// Interned resources: ids are indexes into the vectors and never change.
#[derive(serde::Serialize, serde::Deserialize, Debug, Default)]
pub struct Registry {
    workspaces: Vec<Known<WorkspaceSid>>,
    workflows: Vec<WorkflowRec>,
    channels: Vec<ChannelRec>,
    workspace_ids: FxHashMap<u128, u32>,
    workflow_ids: FxHashMap<u128, u32>,
    channel_ids: FxHashMap<u128, u32>,
    channel_names: FxHashMap<(u32, String), u32>,
}

/// What an event names, as ids.
#[derive(Debug, Clone, Copy)]
pub struct Observed {
    pub workspace: u32,
    pub workflow: Option<u32>,
    pub channel: Option<u32>,
}

impl Registry {
    pub fn observe(&mut self, e: &Event) -> Observed {
        let ts = e.ts_ms;
        let keys = e.keys();
        let ws_key = keys.workspace;
        let workspace = *self.workspace_ids.entry(ws_key).or_insert_with(|| {
            self.workspaces.push(Known::new(e.workspace_sid.clone(), ts));
            (self.workspaces.len() - 1) as u32
        });
        self.workspaces[workspace as usize].seen(ts, e.get("workspace_name"));

        let workflow = keys.workflow.map(|n| {
            let id = match self.workflow_ids.get(&n) {
                Some(&id) => id,
                None => {
                    // Cold path: keep the SID as written (hex case included).
                    let sid = e
                        .get("workflow_sid")
                        .and_then(|s| WorkflowSid::parse(s).ok())
                        .unwrap_or_else(|| WorkflowSid::from_u128(n));
                    self.workflows.push(WorkflowRec { workspace: WorkspaceId(workspace), known: Known::new(sid, ts) });
                    let id = (self.workflows.len() - 1) as u32;
                    self.workflow_ids.insert(n, id);
                    id
                }
            };
            self.workflows[id as usize].known.seen(ts, e.get("workflow_name"));
            id
        });

        let channel = self.observe_channel(workspace, e);
        Observed { workspace, workflow, channel }
    }

    fn observe_channel(&mut self, workspace: u32, e: &Event) -> Option<u32> {
        let ts = e.ts_ms;
        let sid_number = e.keys().channel_sid;
        // Known channels are found by number, without building a SID.
        if let Some(&id) = sid_number.and_then(|n| self.channel_ids.get(&n)) {
            let name = e.get("task_channel_unique_name").or_else(|| e.get("task_channel"));
            let rec = &mut self.channels[id as usize];
            if rec.known.seen(ts, name)
                && let Some(n) = &rec.known.name
            {
                self.channel_names.insert((workspace, n.clone()), id);
            }
            return Some(id);
        }
        let sid = sid_number.map(|n| {
            e.get("task_channel_sid")
                .and_then(|s| TaskChannelSid::parse(s).ok())
                .unwrap_or_else(|| TaskChannelSid::from_u128(n))
        });
        let name = e.get("task_channel_unique_name").or_else(|| e.get("task_channel"));
        let id = match (sid, name) {
            (Some(sid), name) => match self.channel_ids.get(&sid.to_u128()) {
                Some(&id) => id,
                None => {
                    // A channel first seen by name alone gets its real SID now.
                    let by_name = name.and_then(|n| self.channel_names.get(&(workspace, n.to_owned())).copied());
                    match by_name {
                        Some(id) if self.channels[id as usize].synthetic => {
                            let rec = &mut self.channels[id as usize];
                            self.channel_ids.remove(&rec.known.sid.to_u128());
                            rec.known.sid = sid.clone();
                            rec.synthetic = false;
                            self.channel_ids.insert(sid.to_u128(), id);
                            id
                        }
                        _ => self.add_channel(workspace, sid, false, ts),
                    }
                }
            },
            (None, Some(name)) if is_sid("TC", name) => {
                return self.observe_named_sid(workspace, name, ts);
            }
            (None, Some(name)) => match self.channel_names.get(&(workspace, name.to_owned())) {
                Some(&id) => id,
                None => self.add_channel(
                    workspace,
                    synthetic_channel_sid(workspace_sid_str(self, workspace), name),
                    true,
                    ts,
                ),
            },
            (None, None) => return None,
        };
        let rec = &mut self.channels[id as usize];
        if rec.known.seen(ts, name)
            && let Some(n) = &rec.known.name
        {
            self.channel_names.insert((workspace, n.clone()), id);
        }
        Some(id)
    }

    fn observe_named_sid(&mut self, workspace: u32, sid: &str, ts: i64) -> Option<u32> {
        let sid = TaskChannelSid::parse(sid).ok()?;
        let id = match self.channel_ids.get(&sid.to_u128()) {
            Some(&id) => id,
            None => self.add_channel(workspace, sid, false, ts),
        };
        self.channels[id as usize].known.seen(ts, None);
        Some(id)
    }

    fn add_channel(&mut self, workspace: u32, sid: TaskChannelSid, synthetic: bool, ts: i64) -> u32 {
        let id = self.channels.len() as u32;
        self.channel_ids.insert(sid.to_u128(), id);
        self.channels.push(ChannelRec { workspace: WorkspaceId(workspace), known: Known::new(sid, ts), synthetic });
        id
    }

    /// Learns a workspace from a list resource (the mirror's discovery); its id.
    pub fn learn_workspace(&mut self, sid: &WorkspaceSid, name: &str, ts: i64) -> WorkspaceId {
        let id = *self.workspace_ids.entry(sid.to_u128()).or_insert_with(|| {
            self.workspaces.push(Known::new(sid.clone(), ts));
            (self.workspaces.len() - 1) as u32
        });
        self.workspaces[id as usize].seen(ts, Some(name));
        WorkspaceId(id)
    }

    /// Learns a workflow of `workspace` from a list resource; its id.
    pub fn learn_workflow(&mut self, workspace: WorkspaceId, sid: &WorkflowSid, name: &str, ts: i64) -> WorkflowId {
        let id = match self.workflow_ids.get(&sid.to_u128()) {
            Some(&id) => id,
            None => {
                self.workflows.push(WorkflowRec { workspace, known: Known::new(sid.clone(), ts) });
                let id = (self.workflows.len() - 1) as u32;
                self.workflow_ids.insert(sid.to_u128(), id);
                id
            }
        };
        self.workflows[id as usize].known.seen(ts, Some(name));
        WorkflowId(id)
    }

    /// Learns a task channel of `workspace` from a list resource; its id.
    pub fn learn_channel(
        &mut self,
        workspace: WorkspaceId,
        sid: &TaskChannelSid,
        unique_name: &str,
        ts: i64,
    ) -> ChannelId {
        let workspace = workspace.0;
        let id = match self.channel_ids.get(&sid.to_u128()) {
            Some(&id) => id,
            None => self.add_channel(workspace, sid.clone(), false, ts),
        };
        let rec = &mut self.channels[id as usize];
        rec.known.seen(ts, Some(unique_name));
        if let Some(n) = &rec.known.name {
            self.channel_names.insert((workspace, n.clone()), id);
        }
        ChannelId(id)
    }

    pub fn workspace_id(&self, sid: &WorkspaceSid) -> Option<WorkspaceId> {
        self.workspace_ids.get(&sid.to_u128()).copied().map(WorkspaceId)
    }

    /// The workflow's id, if it exists and belongs to the workspace.
    pub fn workflow_id(&self, ws: &WorkspaceSid, wf: &WorkflowSid) -> Option<WorkflowId> {
        let ws = self.workspace_id(ws)?;
        let id = *self.workflow_ids.get(&wf.to_u128())?;
        (self.workflows[id as usize].workspace == ws).then_some(WorkflowId(id))
    }

    /// Finds a channel of the workspace by unique name or `TC…` SID.
    pub fn resolve_channel(&self, ws: &WorkspaceSid, name_or_sid: &str) -> Option<ChannelId> {
        let ws = self.workspace_id(ws)?;
        if let Ok(sid) = TaskChannelSid::parse(name_or_sid)
            && let Some(&id) = self.channel_ids.get(&sid.to_u128())
        {
            return (self.channels[id as usize].workspace == ws).then_some(ChannelId(id));
        }
        self.channel_names.get(&(ws.0, name_or_sid.to_owned())).copied().map(ChannelId)
    }

    /// The unique name of a workspace's channel given by unique name or `TC…` SID (the name
    /// service-level definitions are stored under); `None` when the workspace has no such
    /// channel.
    pub fn channel_name(&self, ws: &WorkspaceSid, name_or_sid: &str) -> Option<String> {
        let id = self.resolve_channel(ws, name_or_sid)?;
        Some(self.channel(id).known.name.clone().unwrap_or_else(|| name_or_sid.to_owned()))
    }

    /// A workspace by id (ids come from this registry, so it exists).
    pub fn workspace(&self, id: WorkspaceId) -> &Known<WorkspaceSid> {
        &self.workspaces[id.0 as usize]
    }

    pub fn workflow(&self, id: WorkflowId) -> &WorkflowRec {
        &self.workflows[id.0 as usize]
    }

    pub fn channel(&self, id: ChannelId) -> &ChannelRec {
        &self.channels[id.0 as usize]
    }

    /// Every workspace, in the order first seen.
    pub fn workspaces(&self) -> impl Iterator<Item = (WorkspaceId, &Known<WorkspaceSid>)> {
        self.workspaces.iter().enumerate().map(|(i, k)| (WorkspaceId(i as u32), k))
    }

    /// Every workflow, in the order first seen.
    pub fn workflows(&self) -> impl Iterator<Item = (WorkflowId, &WorkflowRec)> {
        self.workflows.iter().enumerate().map(|(i, w)| (WorkflowId(i as u32), w))
    }

    /// Every task channel, in the order first seen.
    pub fn channels(&self) -> impl Iterator<Item = (ChannelId, &ChannelRec)> {
        self.channels.iter().enumerate().map(|(i, c)| (ChannelId(i as u32), c))
    }
}

fn workspace_sid_str(r: &Registry, ws: u32) -> &str {
    r.workspaces[ws as usize].sid.as_str()
}

/// A stable SID for a channel known only by name: the same name in the same workspace
/// always gets the same SID, across restarts and instances.
pub fn synthetic_channel_sid(workspace_sid: &str, unique_name: &str) -> TaskChannelSid {
    let digest = Sha256::digest(format!("{workspace_sid}/{unique_name}").as_bytes());
    let mut n = [0u8; 16];
    n.copy_from_slice(&digest[..16]);
    TaskChannelSid::from_u128(u128::from_be_bytes(n))
}
