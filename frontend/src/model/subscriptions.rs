//! Which WebSocket subscriptions a view needs, and the equivalent REST paths.
//!
//! A subscription's id is derived from its content (`rt-…`, `cu-…`, `ov-…` plus a hash of
//! the request), so the same request always has the same id: the client diffs the wanted
//! ids against those it has, and a changed window or channel is a new id whose revisions
//! never mix with the old one's.

use wallboard_shared::StatisticsQuery;
use wallboard_shared::ws::{ClientMessage, CumulativeRequest};

use super::view::{Page, ViewState};

/// The overview cards' window, in minutes.
pub const OVERVIEW_MINUTES: u32 = 15;
/// A rotating kiosk keeps the realtime numbers of this many workflows subscribed (for
/// their trends), well inside the server's 32 subscriptions per connection.
pub const MAX_ROTATION_TRENDS: usize = 12;

/// One wanted subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub id: String,
    /// A `ClientMessage::Subscribe` carrying `id`.
    pub message: ClientMessage,
}

/// Everything a view subscribes to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub subscriptions: Vec<Subscription>,
    /// Workflow page: the subscription of the realtime tiles (all channels).
    pub realtime: Option<String>,
    /// (workflow sid, subscription id) of the realtime subscriptions that feed trends: the
    /// shown workflow's, and on a rotating kiosk every workflow's (so a trend goes on while
    /// other pages are shown).
    pub trends: Vec<(String, String)>,
    /// Workflow page: the subscription of the cumulative panel (window, channel, thresholds).
    pub cumulative: Option<String>,
    /// Overview: (workflow sid, subscription id) per card.
    pub cards: Vec<(String, String)>,
    /// Why the cumulative panel has no subscription (an invalid custom window).
    pub problem: Option<String>,
    /// The cumulative panel's query, for its REST link.
    pub query: Option<StatisticsQuery>,
}

impl Plan {
    /// The subscription id of the card of `workflow`.
    pub fn card(&self, workflow: &str) -> Option<&str> {
        self.cards.iter().find(|(wf, _)| wf == workflow).map(|(_, id)| id.as_str())
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.subscriptions.iter().map(|s| s.id.as_str())
    }
}

/// The subscriptions of `view` in `workspace`. `workflows` are the workspace's workflows in
/// display order; on the workflow page `workflow` is the one shown. `now_ms` and `offset`
/// resolve "today" and custom windows (see [`ViewState::statistics_query`]).
pub fn plan(
    view: &ViewState,
    workspace: &str,
    workflows: &[String],
    workflow: Option<&str>,
    now_ms: i64,
    offset: &dyn Fn(i64) -> i32,
) -> Plan {
    let mut plan = Plan::default();
    match view.page {
        Page::Overview => {
            let cumulative = CumulativeRequest {
                minutes: Some(OVERVIEW_MINUTES),
                split_by_wait_time: Some(vec![view.headline_threshold()]),
                ..Default::default()
            };
            for wf in workflows {
                let sub = subscription("ov", workspace, wf, None, Some(cumulative.clone()));
                plan.cards.push((wf.clone(), sub.id.clone()));
                plan.subscriptions.push(sub);
            }
        }
        Page::Workflow => {
            let Some(wf) = workflow else { return plan };
            let realtime = subscription("rt", workspace, wf, None, None);
            plan.realtime = Some(realtime.id.clone());
            plan.trends.push((wf.to_owned(), realtime.id.clone()));
            plan.subscriptions.push(realtime);
            match view.statistics_query(now_ms, offset) {
                Ok(query) => {
                    let request = CumulativeRequest::from_query(&query);
                    let sub = subscription("cu", workspace, wf, query.task_channel.clone(), Some(request));
                    plan.cumulative = Some(sub.id.clone());
                    plan.subscriptions.push(sub);
                    plan.query = Some(query);
                }
                Err(problem) => plan.problem = Some(problem),
            }
        }
        // Polled over REST until the WebSocket targets carry queues and workers.
        Page::Queues | Page::Agents => {}
    }
    if view.rotate.is_some() {
        // After the page's own subscriptions: should the server refuse some, only trends miss.
        for wf in workflows.iter().take(MAX_ROTATION_TRENDS) {
            if plan.trends.iter().all(|(w, _)| w != wf) {
                let sub = subscription("rt", workspace, wf, None, None);
                plan.trends.push((wf.clone(), sub.id.clone()));
                plan.subscriptions.push(sub);
            }
        }
    }
    plan
}

fn subscription(
    prefix: &str,
    workspace: &str,
    workflow: &str,
    task_channel: Option<String>,
    cumulative: Option<CumulativeRequest>,
) -> Subscription {
    let mut message = ClientMessage::Subscribe {
        id: String::new(),
        workspace_sid: workspace.to_owned(),
        workflow_sid: workflow.to_owned(),
        task_channel,
        cumulative,
        target: None,
    };
    let body = serde_json::to_string(&message).unwrap_or_default();
    let id = format!("{prefix}-{:016x}", fnv1a(body.as_bytes()));
    if let ClientMessage::Subscribe { id: slot, .. } = &mut message {
        slot.clone_from(&id);
    }
    Subscription { id, message }
}

/// 64-bit FNV-1a: stable across builds and platforms (unlike std's hasher).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

/// `GET` path of a workflow's combined Statistics for `query` (the REST twin of the panel).
pub fn statistics_path(workspace: &str, workflow: &str, query: &StatisticsQuery) -> String {
    format!("/v1/Workspaces/{workspace}/Workflows/{workflow}/Statistics?{}", query.to_query_string())
}

/// `GET` path of a workflow's RealTimeStatistics (the REST twin of the tiles).
pub fn realtime_path(workspace: &str, workflow: &str) -> String {
    format!("/v1/Workspaces/{workspace}/Workflows/{workflow}/RealTimeStatistics")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::view::WindowChoice;
    use wallboard_shared::WindowSpec;

    const WS: &str = "WS0123456789abcdef0123456789abcdef";
    const A: &str = "WW00000000000000000000000000000001";
    const B: &str = "WW00000000000000000000000000000002";
    const NOW: i64 = 1_795_766_400_000;

    fn utc(_: i64) -> i32 {
        0
    }

    fn wfs() -> Vec<String> {
        vec![A.to_owned(), B.to_owned()]
    }

    #[test]
    fn overview_subscribes_every_workflow_for_15_minutes_at_the_headline_threshold() {
        let p = plan(&ViewState::default(), WS, &wfs(), None, NOW, &utc);
        assert_eq!(p.subscriptions.len(), 2);
        assert_eq!(p.cards.len(), 2);
        let json = serde_json::to_value(&p.subscriptions[1].message).expect("serialize");
        assert_eq!(json["type"], "subscribe");
        assert_eq!(json["id"], p.card(B).expect("card"));
        assert_eq!(json["workspace_sid"], WS);
        assert_eq!(json["workflow_sid"], B);
        assert_eq!(json["cumulative"], serde_json::json!({"minutes": 15, "split_by_wait_time": [20]}));
        assert!(p.realtime.is_none() && p.cumulative.is_none());
    }

    #[test]
    fn workflow_page_has_realtime_and_cumulative_subscriptions() {
        let view = ViewState {
            page: Page::Workflow,
            window: WindowChoice::Last4h,
            channel: Some("voice".into()),
            thresholds: vec![10, 30],
            ..Default::default()
        };
        let p = plan(&view, WS, &wfs(), Some(A), NOW, &utc);
        assert_eq!(p.subscriptions.len(), 2);
        let rt = serde_json::to_value(&p.subscriptions[0].message).expect("serialize");
        assert_eq!(rt["id"], p.realtime.clone().expect("realtime"));
        assert!(rt.get("cumulative").is_none_or(|c| c.is_null()));
        assert!(rt["task_channel"].is_null(), "tiles show every channel");
        let cu = serde_json::to_value(&p.subscriptions[1].message).expect("serialize");
        assert_eq!(cu["id"], p.cumulative.clone().expect("cumulative"));
        assert_eq!(cu["task_channel"], "voice");
        assert_eq!(cu["cumulative"], serde_json::json!({"minutes": 240, "split_by_wait_time": [10, 30]}));
        // What the server will validate the request into is what the panel shows.
        let ClientMessage::Subscribe { cumulative: Some(c), task_channel, .. } = &p.subscriptions[1].message else {
            panic!("subscribe")
        };
        let q = c.to_query(task_channel.as_deref()).expect("valid");
        assert_eq!(Some(&q), p.query.as_ref());
        assert_eq!(q.window, WindowSpec::Minutes(240));
        assert_eq!(
            statistics_path(WS, A, &q),
            format!(
                "/v1/Workspaces/{WS}/Workflows/{A}/Statistics?Minutes=240&TaskChannel=voice&SplitByWaitTime=10%2C30"
            )
        );
        assert_eq!(realtime_path(WS, A), format!("/v1/Workspaces/{WS}/Workflows/{A}/RealTimeStatistics"));
    }

    #[test]
    fn ids_are_stable_and_change_with_the_request() {
        let view = ViewState { page: Page::Workflow, ..Default::default() };
        let a = plan(&view, WS, &wfs(), Some(A), NOW, &utc);
        let again = plan(&view, WS, &wfs(), Some(A), NOW + 60_000, &utc);
        assert_eq!(a, again, "a sliding window does not resubscribe");
        let other = ViewState { window: WindowChoice::Last1h, ..view.clone() };
        let b = plan(&other, WS, &wfs(), Some(A), NOW, &utc);
        assert_eq!(a.realtime, b.realtime, "realtime does not depend on the window");
        assert_ne!(a.cumulative, b.cumulative);
        let c = plan(&view, WS, &wfs(), Some(B), NOW, &utc);
        assert_ne!(a.realtime, c.realtime);
        assert!(a.realtime.as_deref().is_some_and(|id| id.starts_with("rt-") && id.len() == 19));
    }

    #[test]
    fn a_rotating_kiosk_keeps_every_trend_fed() {
        let view = ViewState { kiosk: true, rotate: Some(30), ..Default::default() };
        let p = plan(&view, WS, &wfs(), None, NOW, &utc);
        assert_eq!(p.cards.len(), 2);
        assert_eq!(p.subscriptions.len(), 4, "the cards, then one realtime per workflow");
        assert_eq!(p.ids().take(2).collect::<Vec<_>>(), [p.cards[0].1.as_str(), p.cards[1].1.as_str()]);
        assert_eq!(p.trends.iter().map(|(wf, _)| wf.as_str()).collect::<Vec<_>>(), [A, B]);
        let page = ViewState { page: Page::Workflow, ..view.clone() };
        let q = plan(&page, WS, &wfs(), Some(B), NOW, &utc);
        assert_eq!(q.subscriptions.len(), 3, "B's realtime and cumulative, and A's realtime");
        assert_eq!(q.trends[0], (B.to_owned(), q.realtime.clone().expect("realtime")));
        assert_eq!(q.trends, [p.trends[1].clone(), p.trends[0].clone()], "the same ids: no resubscribing");
        let many: Vec<String> = (0..40).map(|i| format!("WW{i:032x}")).collect();
        let r = plan(&view, WS, &many, None, NOW, &utc);
        assert_eq!(r.trends.len(), MAX_ROTATION_TRENDS);
        let still = plan(&ViewState { page: Page::Workflow, ..Default::default() }, WS, &wfs(), Some(A), NOW, &utc);
        assert_eq!(still.trends.len(), 1, "without rotation only the shown workflow");
    }

    #[test]
    fn today_resubscribes_when_the_day_changes() {
        let view = ViewState { page: Page::Workflow, window: WindowChoice::Today, ..Default::default() };
        let a = plan(&view, WS, &wfs(), Some(A), NOW + 3_600_000, &utc);
        let b = plan(&view, WS, &wfs(), Some(A), NOW + 7_200_000, &utc);
        let c = plan(&view, WS, &wfs(), Some(A), NOW + 86_400_000, &utc);
        assert_eq!(a.cumulative, b.cumulative);
        assert_ne!(a.cumulative, c.cumulative);
        let ClientMessage::Subscribe { cumulative: Some(req), .. } = &a.subscriptions[1].message else {
            panic!("subscribe")
        };
        assert_eq!(req.start_date.as_deref(), Some("2026-11-27T00:00:00Z"));
        assert_eq!(req.end_date, None);
    }

    #[test]
    fn an_invalid_custom_window_keeps_the_tiles() {
        let from = chrono::DateTime::from_timestamp_millis(NOW + 86_400_000).expect("valid").naive_utc();
        let view =
            ViewState { page: Page::Workflow, window: WindowChoice::Custom { from, to: None }, ..Default::default() };
        let p = plan(&view, WS, &wfs(), Some(A), NOW, &utc);
        assert_eq!(p.subscriptions.len(), 1);
        assert!(p.realtime.is_some());
        assert!(p.problem.is_some());
        assert!(plan(&view, WS, &wfs(), None, NOW, &utc).subscriptions.is_empty());
    }
}
