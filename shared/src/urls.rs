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

/// The three statistics resources of a workflow (and, later, of other targets).
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

    /// The event-callback URL TaskRouter posts to.
    pub fn event_callback(&self) -> String {
        format!("{}/webhooks/taskrouter", self.base)
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
        assert_eq!(abs.base(), "https://wall.example");
    }
}
