//! The envelopes of the statistics resources, built in one place: a statistics answer is
//! its numbers plus who they are about (account, workspace, workflow) and its `url`.

use crate::resources::{
    CumulativeStats, RealTimeStats, WorkflowCumulativeStatistics, WorkflowRealTimeStatistics, WorkflowStatistics,
};
use crate::sid::{AccountSid, WorkflowSid, WorkspaceSid};
use crate::urls::{StatisticsResource, Urls};

/// Who a workflow's statistics are about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowSubject {
    pub account_sid: AccountSid,
    pub workspace_sid: WorkspaceSid,
    pub workflow_sid: WorkflowSid,
}

impl WorkflowSubject {
    fn url(&self, urls: &Urls, resource: StatisticsResource) -> String {
        urls.workflow_statistics(&self.workspace_sid, &self.workflow_sid, resource)
    }

    /// `RealTimeStatistics`
    pub fn realtime(&self, urls: &Urls, stats: RealTimeStats) -> WorkflowRealTimeStatistics {
        WorkflowRealTimeStatistics {
            account_sid: self.account_sid.clone(),
            workspace_sid: self.workspace_sid.clone(),
            workflow_sid: self.workflow_sid.clone(),
            stats,
            url: self.url(urls, StatisticsResource::RealTime),
        }
    }

    /// `CumulativeStatistics`
    pub fn cumulative(&self, urls: &Urls, stats: CumulativeStats) -> WorkflowCumulativeStatistics {
        WorkflowCumulativeStatistics {
            account_sid: self.account_sid.clone(),
            workspace_sid: self.workspace_sid.clone(),
            workflow_sid: self.workflow_sid.clone(),
            stats,
            url: self.url(urls, StatisticsResource::Cumulative),
        }
    }

    /// `Statistics`: both parts.
    pub fn statistics(&self, urls: &Urls, cumulative: CumulativeStats, realtime: RealTimeStats) -> WorkflowStatistics {
        WorkflowStatistics {
            account_sid: self.account_sid.clone(),
            workspace_sid: self.workspace_sid.clone(),
            workflow_sid: self.workflow_sid.clone(),
            cumulative,
            realtime,
            url: self.url(urls, StatisticsResource::Statistics),
        }
    }
}
