//! The URLs of TaskRouter's resources (`/v1/Workspaces/…`), built in one place.
//!
//! Twilio's JSON carries absolute `url`s and `links`; clients (the dashboard, the mirror,
//! backfill) ask for relative paths. [`Urls::new`] builds the former from the server's
//! public base, [`Urls::relative`] the latter, with the same functions.

use std::fmt::Display;

/// Builds resource URLs under one base (`https://host`, or empty for paths).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Urls {
    base: String,
}

/// The three statistics resources of a workflow, a task queue, the workers and the workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatisticsResource {
    Statistics,
    RealTime,
    Cumulative,
}

impl StatisticsResource {
    /// The last path segment.
    pub fn segment(self) -> &'static str {
        match self {
            Self::Statistics => "Statistics",
            Self::RealTime => "RealTimeStatistics",
            Self::Cumulative => "CumulativeStatistics",
        }
    }
}

impl Urls {
    /// Absolute URLs under `base` (a trailing slash is dropped).
    pub fn new(base: impl Into<String>) -> Self {
        let mut base = base.into();
        while base.ends_with('/') {
            base.pop();
        }
        Self { base }
    }

    /// Paths (`/v1/…`), for requests to the server itself.
    pub fn relative() -> Self {
        Self::default()
    }

    /// The base, without a trailing slash (empty for [`Urls::relative`]).
    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn workspaces(&self) -> String {
        format!("{}/v1/Workspaces", self.base)
    }

    pub fn workspace(&self, ws: impl Display) -> String {
        format!("{}/v1/Workspaces/{ws}", self.base)
    }

    pub fn workflows(&self, ws: impl Display) -> String {
        format!("{}/Workflows", self.workspace(ws))
    }

    pub fn workflow(&self, ws: impl Display, wf: impl Display) -> String {
        format!("{}/Workflows/{wf}", self.workspace(ws))
    }

    /// A workflow's `Statistics`, `RealTimeStatistics` or `CumulativeStatistics`.
    pub fn workflow_statistics(&self, ws: impl Display, wf: impl Display, resource: StatisticsResource) -> String {
        format!("{}/{}", self.workflow(ws, wf), resource.segment())
    }

    pub fn task_channels(&self, ws: impl Display) -> String {
        format!("{}/TaskChannels", self.workspace(ws))
    }

    pub fn task_channel(&self, ws: impl Display, tc: impl Display) -> String {
        format!("{}/TaskChannels/{tc}", self.workspace(ws))
    }

    pub fn events(&self, ws: impl Display) -> String {
        format!("{}/Events", self.workspace(ws))
    }

    pub fn event(&self, ws: impl Display, ev: impl Display) -> String {
        format!("{}/Events/{ev}", self.workspace(ws))
    }

    /// A workspace's own `Statistics`, `RealTimeStatistics` or `CumulativeStatistics`.
    pub fn workspace_statistics(&self, ws: impl Display, resource: StatisticsResource) -> String {
        format!("{}/{}", self.workspace(ws), resource.segment())
    }

    /// The stored service-level definitions of a workspace.
    pub fn service_levels(&self, ws: impl Display) -> String {
        format!("{}/ServiceLevels", self.workspace(ws))
    }

    /// The service-level definition of a scope (`default`, `WW…`, `WQ…`).
    pub fn service_level(&self, ws: impl Display, scope: impl Display) -> String {
        format!("{}/ServiceLevels/{scope}", self.workspace(ws))
    }

    /// A scope's service-level definition for one task channel (`None`: every channel).
    pub fn service_level_for(&self, ws: impl Display, scope: impl Display, channel: Option<&str>) -> String {
        match channel {
            Some(ch) => format!("{}?TaskChannel={}", self.service_level(ws, scope), crate::query::encode(ch)),
            None => self.service_level(ws, scope),
        }
    }

    /// A workspace's alert rules.
    pub fn alert_rules(&self, ws: impl Display) -> String {
        format!("{}/AlertRules", self.workspace(ws))
    }

    pub fn alert_rule(&self, ws: impl Display, sid: impl Display) -> String {
        format!("{}/AlertRules/{sid}", self.workspace(ws))
    }

    /// A workspace's alerts (the history, newest first).
    pub fn alerts(&self, ws: impl Display) -> String {
        format!("{}/Alerts", self.workspace(ws))
    }

    pub fn alert(&self, ws: impl Display, sid: impl Display) -> String {
        format!("{}/Alerts/{sid}", self.workspace(ws))
    }

    /// A workspace's alert webhooks.
    pub fn alert_webhooks(&self, ws: impl Display) -> String {
        format!("{}/AlertWebhooks", self.workspace(ws))
    }

    pub fn alert_webhook(&self, ws: impl Display, sid: impl Display) -> String {
        format!("{}/AlertWebhooks/{sid}", self.workspace(ws))
    }

    /// The notifications a webhook gave up on.
    pub fn dead_letters(&self, ws: impl Display, sid: impl Display) -> String {
        format!("{}/AlertWebhooks/{sid}/DeadLetters", self.workspace(ws))
    }

    /// A workflow's computed service level.
    pub fn workflow_service_level(&self, ws: impl Display, wf: impl Display) -> String {
        format!("{}/ServiceLevel", self.workflow(ws, wf))
    }

    /// A task queue's computed service level.
    pub fn task_queue_service_level(&self, ws: impl Display, wq: impl Display) -> String {
        format!("{}/ServiceLevel", self.task_queue(ws, wq))
    }

    /// The history (per day or hour) of a scope: `default` (the workspace), `WW…` or `WQ…`.
    pub fn historical_statistics(&self, ws: impl Display, scope: &str) -> String {
        if scope.starts_with("WW") {
            format!("{}/HistoricalStatistics", self.workflow(ws, scope))
        } else if scope.starts_with("WQ") {
            format!("{}/HistoricalStatistics", self.task_queue(ws, scope))
        } else {
            format!("{}/HistoricalStatistics", self.workspace(ws))
        }
    }

    pub fn task_queues(&self, ws: impl Display) -> String {
        format!("{}/TaskQueues", self.workspace(ws))
    }

    pub fn task_queue(&self, ws: impl Display, wq: impl Display) -> String {
        format!("{}/TaskQueues/{wq}", self.workspace(ws))
    }

    /// A task queue's `Statistics`, `RealTimeStatistics` or `CumulativeStatistics`.
    pub fn task_queue_statistics(&self, ws: impl Display, wq: impl Display, resource: StatisticsResource) -> String {
        format!("{}/{}", self.task_queue(ws, wq), resource.segment())
    }

    /// The statistics of every queue, paged (`TaskQueues/Statistics`).
    pub fn task_queues_statistics(&self, ws: impl Display) -> String {
        format!("{}/Statistics", self.task_queues(ws))
    }

    /// The bulk realtime statistics of chosen queues (`POST TaskQueues/RealTimeStatistics`).
    pub fn task_queues_real_time_statistics(&self, ws: impl Display) -> String {
        format!("{}/RealTimeStatistics", self.task_queues(ws))
    }

    pub fn workers(&self, ws: impl Display) -> String {
        format!("{}/Workers", self.workspace(ws))
    }

    pub fn worker(&self, ws: impl Display, wk: impl Display) -> String {
        format!("{}/Workers/{wk}", self.workspace(ws))
    }

    /// All workers' `Statistics`, `RealTimeStatistics` or `CumulativeStatistics`.
    pub fn workers_statistics(&self, ws: impl Display, resource: StatisticsResource) -> String {
        format!("{}/{}", self.workers(ws), resource.segment())
    }

    /// One worker's `Statistics` (the only statistics resource of a worker).
    pub fn worker_statistics(&self, ws: impl Display, wk: impl Display) -> String {
        format!("{}/Statistics", self.worker(ws, wk))
    }

    pub fn worker_channels(&self, ws: impl Display, wk: impl Display) -> String {
        format!("{}/Channels", self.worker(ws, wk))
    }

    pub fn worker_channel(&self, ws: impl Display, wk: impl Display, wc: impl Display) -> String {
        format!("{}/Channels/{wc}", self.worker(ws, wk))
    }

    pub fn activities(&self, ws: impl Display) -> String {
        format!("{}/Activities", self.workspace(ws))
    }

    pub fn activity(&self, ws: impl Display, wa: impl Display) -> String {
        format!("{}/Activities/{wa}", self.workspace(ws))
    }

    /// The event-callback URL TaskRouter posts to.
    pub fn event_callback(&self) -> String {
        format!("{}/webhooks/taskrouter", self.base)
    }

    /// The Event Streams webhook sink's URL (Twilio adds `bodySHA256`).
    pub fn event_streams(&self) -> String {
        format!("{}/webhooks/eventstreams", self.base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_and_relative_urls_share_their_paths() {
        let abs = Urls::new("https://wall.example/");
        let rel = Urls::relative();
        assert_eq!(abs.workspaces(), "https://wall.example/v1/Workspaces");
        assert_eq!(rel.workspaces(), "/v1/Workspaces");
        assert_eq!(rel.workflow("WS1", "WW2"), "/v1/Workspaces/WS1/Workflows/WW2");
        assert_eq!(
            abs.workflow_statistics("WS1", "WW2", StatisticsResource::RealTime),
            "https://wall.example/v1/Workspaces/WS1/Workflows/WW2/RealTimeStatistics"
        );
        assert_eq!(rel.task_channel("WS1", "TC3"), "/v1/Workspaces/WS1/TaskChannels/TC3");
        assert_eq!(rel.events("WS1"), "/v1/Workspaces/WS1/Events");
        assert_eq!(rel.event("WS1", "EV4"), "/v1/Workspaces/WS1/Events/EV4");
        assert_eq!(abs.event_callback(), "https://wall.example/webhooks/taskrouter");
        assert_eq!(abs.event_streams(), "https://wall.example/webhooks/eventstreams");
        assert_eq!(
            rel.service_level_for("WS1", "WQ2", Some("a b")),
            "/v1/Workspaces/WS1/ServiceLevels/WQ2?TaskChannel=a%20b"
        );
        assert_eq!(rel.service_level_for("WS1", "default", None), "/v1/Workspaces/WS1/ServiceLevels/default");
        assert_eq!(abs.base(), "https://wall.example");
    }

    #[test]
    fn queue_worker_and_workspace_paths_are_twilios() {
        let rel = Urls::relative();
        let abs = Urls::new("https://wall.example");
        assert_eq!(rel.workspace_statistics("WS1", StatisticsResource::Statistics), "/v1/Workspaces/WS1/Statistics");
        assert_eq!(rel.task_queues("WS1"), "/v1/Workspaces/WS1/TaskQueues");
        assert_eq!(rel.task_queue("WS1", "WQ2"), "/v1/Workspaces/WS1/TaskQueues/WQ2");
        assert_eq!(
            abs.task_queue_statistics("WS1", "WQ2", StatisticsResource::Cumulative),
            "https://wall.example/v1/Workspaces/WS1/TaskQueues/WQ2/CumulativeStatistics"
        );
        assert_eq!(rel.task_queues_statistics("WS1"), "/v1/Workspaces/WS1/TaskQueues/Statistics");
        assert_eq!(rel.task_queues_real_time_statistics("WS1"), "/v1/Workspaces/WS1/TaskQueues/RealTimeStatistics");
        assert_eq!(rel.workers("WS1"), "/v1/Workspaces/WS1/Workers");
        assert_eq!(rel.worker("WS1", "WK3"), "/v1/Workspaces/WS1/Workers/WK3");
        assert_eq!(
            rel.workers_statistics("WS1", StatisticsResource::RealTime),
            "/v1/Workspaces/WS1/Workers/RealTimeStatistics"
        );
        assert_eq!(rel.worker_statistics("WS1", "WK3"), "/v1/Workspaces/WS1/Workers/WK3/Statistics");
        assert_eq!(rel.worker_channels("WS1", "WK3"), "/v1/Workspaces/WS1/Workers/WK3/Channels");
        assert_eq!(rel.worker_channel("WS1", "WK3", "WC4"), "/v1/Workspaces/WS1/Workers/WK3/Channels/WC4");
        assert_eq!(rel.activities("WS1"), "/v1/Workspaces/WS1/Activities");
        assert_eq!(rel.activity("WS1", "WA5"), "/v1/Workspaces/WS1/Activities/WA5");
        assert_eq!(rel.historical_statistics("WS1", "default"), "/v1/Workspaces/WS1/HistoricalStatistics");
        assert_eq!(rel.historical_statistics("WS1", "WW2"), "/v1/Workspaces/WS1/Workflows/WW2/HistoricalStatistics");
        assert_eq!(rel.historical_statistics("WS1", "WQ3"), "/v1/Workspaces/WS1/TaskQueues/WQ3/HistoricalStatistics");
    }
}
