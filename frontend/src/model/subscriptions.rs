//! Which WebSocket subscriptions a view needs, and the equivalent REST paths.
//!
//! A subscription's id is derived from its content (`rt-…`, `cu-…`, `ov-…`, `ws-…`, `tq-…`,
//! `wk-…` plus a hash of the request), so the same request always has the same id: the
//! client diffs the wanted ids against those it has, and a changed window or channel is a
//! new id whose revisions never mix with the old one's.
//!
//! Every page but an embedded one subscribes to the workspace (the header) first; the page's
//! own subscriptions follow (the queues wall: one per task queue; the agent board: the
//! workers), then the trends of a rotating kiosk, all within the server's default
//! [`MAX_SUBSCRIPTIONS`] per connection.
//!
//! A subscription that feeds a service-level headline splits at its scope's definition's
//! S and T ([`service_levels::thresholds`]): the overview's cards at those alone, the header,
//! the wall's queues and the workflow page's panel at those and the user's SLA thresholds.
//! Equal definitions give equal requests, so equal ids: reloading them resubscribes nothing.

use wallboard_shared::StatisticsQuery;
use wallboard_shared::service_level::WORKSPACE_DEFAULT;
use wallboard_shared::ws::{ClientMessage, CumulativeRequest, TargetRequest};

use super::floor::today_query;
use super::service_levels::{self, Definitions};
use super::view::{Page, ViewState};

/// The overview cards' window, in minutes.
pub const OVERVIEW_MINUTES: u32 = 15;
/// The server's default `--ws-max-subscriptions`: no plan holds more.
pub const MAX_SUBSCRIPTIONS: usize = 64;
/// Queues of the wall with a subscription of their own (after the header's); the others are
/// read from the REST statistics list ([`Plan::overflow`]). A wall is meant for 50.
pub const MAX_QUEUE_SUBSCRIPTIONS: usize = 60;
/// A rotating kiosk keeps the realtime numbers of up to this many workflows subscribed (for
/// their trends), in what the page's own subscriptions leave of [`MAX_SUBSCRIPTIONS`].
pub const MAX_ROTATION_TRENDS: usize = 12;

/// How much history a trend's subscription asks for: the trend chart's span.
pub const TREND_HISTORY_MINUTES: u32 = 60;

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
    /// The workspace header's subscription (the workspace target, today at the thresholds).
    pub header: Option<String>,
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
    /// Queues wall: (queue sid, subscription id) per queue, in the list's order.
    pub queues: Vec<(String, String)>,
    /// Queues wall: the queues beyond [`MAX_QUEUE_SUBSCRIPTIONS`], read from the REST
    /// statistics list instead.
    pub overflow: Vec<String>,
    /// The `SplitByWaitTime` of that list: the user's thresholds and the overflow queues'
    /// definitions' (empty without overflow).
    pub overflow_split: Vec<u32>,
    /// Agent board without filters: the workers target (agents per activity, the total).
    pub workers: Option<String>,
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

    fn room(&self) -> usize {
        MAX_SUBSCRIPTIONS.saturating_sub(self.subscriptions.len())
    }
}

/// The subscriptions of `view` in `workspace`. `workflows` are the workspace's workflows in
/// display order; on the workflow page `workflow` is the one shown; `queues` are the
/// workspace's task queues as listed; `definitions` their service-level definitions.
/// `now_ms` and `offset` resolve "today" and custom windows (see
/// [`ViewState::statistics_query`]).
#[allow(clippy::too_many_arguments)]
pub fn plan(
    view: &ViewState,
    workspace: &str,
    workflows: &[String],
    workflow: Option<&str>,
    queues: &[String],
    definitions: &Definitions,
    now_ms: i64,
    offset: &dyn Fn(i64) -> i32,
) -> Plan {
    let mut plan = Plan::default();
    let split = |scopes: &[&str]| {
        let defs: Vec<_> = scopes.iter().map(|s| definitions.of(s)).collect();
        service_levels::thresholds(&view.thresholds, &defs)
    };
    // Today, all channels, at the view's thresholds and those of the scope's definition:
    // the header's and the wall's window.
    let today = today_query(view, now_ms, offset);
    let today_of = |scope: &str| {
        today.as_ref().map(|q| {
            let mut q = q.clone();
            q.split_by_wait_time = Some(split(&[scope]));
            CumulativeRequest::from_query(&q)
        })
    };
    // The header is on every page that is not inside another page's frame.
    if !view.embed
        && let Some(today) = today_of(WORKSPACE_DEFAULT)
    {
        let sub = subscription("ws", workspace, Subject::Target(TargetRequest::Workspace), None, Some(today));
        plan.header = Some(sub.id.clone());
        plan.subscriptions.push(sub);
    }
    match view.page {
        Page::Overview => {
            // Cards beyond the limit stay empty rather than be refused one by one.
            for wf in workflows.iter().take(plan.room()) {
                // A card shows only its headline: split at its definition's S and T.
                let cumulative = CumulativeRequest {
                    minutes: Some(OVERVIEW_MINUTES),
                    split_by_wait_time: Some(definitions.of(wf).thresholds()),
                    ..Default::default()
                };
                let sub = subscription("ov", workspace, Subject::Workflow(wf), None, Some(cumulative));
                plan.cards.push((wf.clone(), sub.id.clone()));
                plan.subscriptions.push(sub);
            }
        }
        Page::Workflow => {
            let Some(wf) = workflow else { return plan };
            let realtime = trend_subscription(workspace, wf);
            plan.realtime = Some(realtime.id.clone());
            plan.trends.push((wf.to_owned(), realtime.id.clone()));
            plan.subscriptions.push(realtime);
            match view.statistics_query(now_ms, offset) {
                Ok(mut query) => {
                    // The panel's channel may have a definition of its own.
                    let def = definitions.in_force_for(wf, query.task_channel.as_deref()).0;
                    query.split_by_wait_time = Some(service_levels::thresholds(&view.thresholds, &[def]));
                    let request = CumulativeRequest::from_query(&query);
                    let sub =
                        subscription("cu", workspace, Subject::Workflow(wf), query.task_channel.clone(), Some(request));
                    plan.cumulative = Some(sub.id.clone());
                    plan.subscriptions.push(sub);
                    plan.query = Some(query);
                }
                Err(problem) => plan.problem = Some(problem),
            }
        }
        Page::Queues => {
            let fit = MAX_QUEUE_SUBSCRIPTIONS.min(plan.room());
            for (i, q) in queues.iter().enumerate() {
                if i >= fit || today.is_none() {
                    plan.overflow.push(q.clone());
                    continue;
                }
                let target = TargetRequest::TaskQueue { sid: q.clone() };
                let sub = subscription("tq", workspace, Subject::Target(target), None, today_of(q));
                plan.queues.push((q.clone(), sub.id.clone()));
                plan.subscriptions.push(sub);
            }
            if !plan.overflow.is_empty() {
                let scopes: Vec<&str> = plan.overflow.iter().map(String::as_str).collect();
                plan.overflow_split = split(&scopes);
            }
        }
        Page::Agents => {
            // Filtered, the board counts the agents it lists: the workers target counts all.
            if view.agent_queue.is_none() && view.skill.is_none() {
                let sub = subscription("wk", workspace, Subject::Target(TargetRequest::Workers), None, None);
                plan.workers = Some(sub.id.clone());
                plan.subscriptions.push(sub);
            }
        }
        Page::Settings | Page::History => {}
    }
    if view.rotate.is_some() {
        // After the page's own subscriptions, in what is left of the limit.
        for wf in workflows.iter().take(MAX_ROTATION_TRENDS) {
            if plan.room() == 0 {
                break;
            }
            if plan.trends.iter().all(|(w, _)| w != wf) {
                let sub = trend_subscription(workspace, wf);
                plan.trends.push((wf.clone(), sub.id.clone()));
                plan.subscriptions.push(sub);
            }
        }
    }
    plan
}

/// What a subscription names: a workflow with protocol v1's `workflow_sid` (so its frame,
/// and its id, are those of before targets), or another `target`.
enum Subject<'a> {
    Workflow(&'a str),
    Target(TargetRequest),
}

fn subscription(
    prefix: &str,
    workspace: &str,
    subject: Subject,
    task_channel: Option<String>,
    cumulative: Option<CumulativeRequest>,
) -> Subscription {
    let (workflow_sid, target) = match subject {
        Subject::Workflow(wf) => (wf.to_owned(), None),
        Subject::Target(t) => (String::new(), Some(t)),
    };
    let message = ClientMessage::Subscribe {
        id: String::new(),
        workspace_sid: workspace.to_owned(),
        workflow_sid,
        task_channel,
        cumulative,
        target,
        history_minutes: None,
    };
    with_id(prefix, message)
}

/// A workflow's realtime numbers (all channels) for the tiles and its trend: it asks for
/// the last hour's history first, which fills the trend at once.
fn trend_subscription(workspace: &str, workflow: &str) -> Subscription {
    let mut message = subscription("rt", workspace, Subject::Workflow(workflow), None, None).message;
    if let ClientMessage::Subscribe { history_minutes, .. } = &mut message {
        *history_minutes = Some(TREND_HISTORY_MINUTES);
    }
    with_id("rt", message)
}

/// `message` with the id derived from its content (without its `id`).
fn with_id(prefix: &str, mut message: ClientMessage) -> Subscription {
    if let ClientMessage::Subscribe { id, .. } = &mut message {
        id.clear();
    }
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
    fn overview_subscribes_every_workflow_for_15_minutes_at_its_definitions_thresholds() {
        let p = plan(&ViewState::default(), WS, &wfs(), None, &[], &Definitions::default(), NOW, &utc);
        assert_eq!(p.subscriptions.len(), 3, "the header, then a card per workflow");
        assert_eq!(p.cards.len(), 2);
        let json = serde_json::to_value(&p.subscriptions[2].message).expect("serialize");
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
        let p = plan(&view, WS, &wfs(), Some(A), &[], &Definitions::default(), NOW, &utc);
        assert_eq!(p.subscriptions.len(), 3);
        assert_eq!(p.ids().next(), p.header.as_deref());
        let rt = serde_json::to_value(&p.subscriptions[1].message).expect("serialize");
        assert_eq!(rt["id"], p.realtime.clone().expect("realtime"));
        assert!(rt.get("cumulative").is_none_or(|c| c.is_null()));
        assert!(rt["task_channel"].is_null(), "tiles show every channel");
        let cu = serde_json::to_value(&p.subscriptions[2].message).expect("serialize");
        assert_eq!(cu["id"], p.cumulative.clone().expect("cumulative"));
        assert_eq!(cu["task_channel"], "voice");
        // The user's thresholds and the built-in definition's T (20 s).
        assert_eq!(cu["cumulative"], serde_json::json!({"minutes": 240, "split_by_wait_time": [10, 20, 30]}));
        // What the server will validate the request into is what the panel shows.
        let ClientMessage::Subscribe { cumulative: Some(c), task_channel, .. } = &p.subscriptions[2].message else {
            panic!("subscribe")
        };
        let q = c.to_query(task_channel.as_deref()).expect("valid");
        assert_eq!(Some(&q), p.query.as_ref());
        assert_eq!(q.window, WindowSpec::Minutes(240));
        assert_eq!(
            statistics_path(WS, A, &q),
            format!(
                "/v1/Workspaces/{WS}/Workflows/{A}/Statistics?Minutes=240&TaskChannel=voice&SplitByWaitTime=10%2C20%2C30"
            )
        );
        assert_eq!(realtime_path(WS, A), format!("/v1/Workspaces/{WS}/Workflows/{A}/RealTimeStatistics"));
    }

    #[test]
    fn ids_are_stable_and_change_with_the_request() {
        let view = ViewState { page: Page::Workflow, ..Default::default() };
        let a = plan(&view, WS, &wfs(), Some(A), &[], &Definitions::default(), NOW, &utc);
        let again = plan(&view, WS, &wfs(), Some(A), &[], &Definitions::default(), NOW + 60_000, &utc);
        assert_eq!(a, again, "a sliding window does not resubscribe");
        let other = ViewState { window: WindowChoice::Last1h, ..view.clone() };
        let b = plan(&other, WS, &wfs(), Some(A), &[], &Definitions::default(), NOW, &utc);
        assert_eq!(a.realtime, b.realtime, "realtime does not depend on the window");
        assert_ne!(a.cumulative, b.cumulative);
        let c = plan(&view, WS, &wfs(), Some(B), &[], &Definitions::default(), NOW, &utc);
        assert_ne!(a.realtime, c.realtime);
        assert!(a.realtime.as_deref().is_some_and(|id| id.starts_with("rt-") && id.len() == 19));
    }

    #[test]
    fn a_rotating_kiosk_keeps_every_trend_fed() {
        let view = ViewState { kiosk: true, rotate: Some(30), ..Default::default() };
        let p = plan(&view, WS, &wfs(), None, &[], &Definitions::default(), NOW, &utc);
        assert_eq!(p.cards.len(), 2);
        assert_eq!(p.subscriptions.len(), 5, "the header, the cards, then one realtime per workflow");
        assert_eq!(p.ids().skip(1).take(2).collect::<Vec<_>>(), [p.cards[0].1.as_str(), p.cards[1].1.as_str()]);
        assert_eq!(p.trends.iter().map(|(wf, _)| wf.as_str()).collect::<Vec<_>>(), [A, B]);
        let page = ViewState { page: Page::Workflow, ..view.clone() };
        let q = plan(&page, WS, &wfs(), Some(B), &[], &Definitions::default(), NOW, &utc);
        assert_eq!(q.subscriptions.len(), 4, "the header, B's realtime and cumulative, and A's realtime");
        assert_eq!(q.trends[0], (B.to_owned(), q.realtime.clone().expect("realtime")));
        assert_eq!(q.trends, [p.trends[1].clone(), p.trends[0].clone()], "the same ids: no resubscribing");
        let many: Vec<String> = (0..40).map(|i| format!("WW{i:032x}")).collect();
        let r = plan(&view, WS, &many, None, &[], &Definitions::default(), NOW, &utc);
        assert_eq!(r.trends.len(), MAX_ROTATION_TRENDS);
        let still = plan(
            &ViewState { page: Page::Workflow, ..Default::default() },
            WS,
            &wfs(),
            Some(A),
            &[],
            &Definitions::default(),
            NOW,
            &utc,
        );
        assert_eq!(still.trends.len(), 1, "without rotation only the shown workflow");
    }

    #[test]
    fn today_resubscribes_when_the_day_changes() {
        let view = ViewState { page: Page::Workflow, window: WindowChoice::Today, ..Default::default() };
        let a = plan(&view, WS, &wfs(), Some(A), &[], &Definitions::default(), NOW + 3_600_000, &utc);
        let b = plan(&view, WS, &wfs(), Some(A), &[], &Definitions::default(), NOW + 7_200_000, &utc);
        let c = plan(&view, WS, &wfs(), Some(A), &[], &Definitions::default(), NOW + 86_400_000, &utc);
        assert_eq!(a.cumulative, b.cumulative);
        assert_ne!(a.cumulative, c.cumulative);
        let ClientMessage::Subscribe { cumulative: Some(req), .. } = &a.subscriptions[2].message else {
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
        let p = plan(&view, WS, &wfs(), Some(A), &[], &Definitions::default(), NOW, &utc);
        assert_eq!(p.subscriptions.len(), 2, "the header and the tiles");
        assert!(p.realtime.is_some());
        assert!(p.problem.is_some());
        assert_eq!(
            plan(&view, WS, &wfs(), None, &[], &Definitions::default(), NOW, &utc).ids().collect::<Vec<_>>(),
            [p.header.as_deref().expect("header")]
        );
    }

    fn queues(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("WQ{i:032x}")).collect()
    }

    fn json(p: &Plan, id: &str) -> serde_json::Value {
        let sub = p.subscriptions.iter().find(|s| s.id == id).expect("subscribed");
        serde_json::to_value(&sub.message).expect("serialize")
    }

    #[test]
    fn every_page_but_an_embed_subscribes_to_the_workspace_today() {
        // The view's zone is UTC+1: today started at 23:00Z the day before NOW (00:00Z).
        let plus_one = |_: i64| 60;
        for page in [Page::Overview, Page::Workflow, Page::Queues, Page::Agents] {
            let view = ViewState { page, thresholds: vec![30, 60], ..Default::default() };
            let p = plan(&view, WS, &wfs(), Some(A), &queues(2), &Definitions::default(), NOW, &plus_one);
            let id = p.header.clone().expect("header");
            assert_eq!(p.ids().next(), Some(id.as_str()), "first, before the page's own");
            assert!(id.starts_with("ws-"));
            let j = json(&p, &id);
            assert_eq!(j["target"], serde_json::json!({"kind": "workspace"}));
            assert_eq!(j["workspace_sid"], WS);
            assert!(j.get("workflow_sid").is_none(), "a target frame names no workflow");
            assert_eq!(
                j["cumulative"],
                serde_json::json!({"start_date": "2026-11-26T23:00:00Z", "split_by_wait_time": [20, 30, 60]}),
                "the user's thresholds and the built-in's T"
            );
            // The same request as the REST query the header read before.
            let mut q = today_query(&view, NOW, &plus_one).expect("valid");
            q.split_by_wait_time = Some(vec![20, 30, 60]);
            assert_eq!(serde_json::to_value(CumulativeRequest::from_query(&q)).expect("ser"), j["cumulative"]);
        }
        let embed = ViewState { embed: true, page: Page::Queues, ..Default::default() };
        let p = plan(&embed, WS, &wfs(), None, &queues(2), &Definitions::default(), NOW, &utc);
        assert_eq!(p.header, None, "an embed shows no header");
        assert_eq!(p.subscriptions.len(), 2);
    }

    #[test]
    fn the_queues_wall_subscribes_each_queue_today() {
        let view = ViewState { page: Page::Queues, ..Default::default() };
        let qs = queues(3);
        let p = plan(&view, WS, &wfs(), None, &qs, &Definitions::default(), NOW, &utc);
        assert_eq!(p.subscriptions.len(), 4, "the header and three queues");
        assert_eq!(p.queues.iter().map(|(q, _)| q.clone()).collect::<Vec<_>>(), qs);
        assert!(p.overflow.is_empty());
        assert!(p.cards.is_empty() && p.realtime.is_none() && p.workers.is_none());
        let (sid, id) = &p.queues[1];
        assert!(id.starts_with("tq-") && id.len() == 19);
        let j = json(&p, id);
        assert_eq!(j["target"], serde_json::json!({"kind": "task_queue", "sid": sid}));
        assert!(j["task_channel"].is_null());
        assert_eq!(
            j["cumulative"],
            serde_json::json!({"start_date": "2026-11-27T00:00:00Z", "split_by_wait_time": [20, 60]})
        );
        // Stable: the same queues an hour later are the same subscriptions; a new queue adds one.
        let later = plan(&view, WS, &wfs(), None, &qs, &Definitions::default(), NOW + 3_600_000, &utc);
        assert_eq!(later, p);
        let more = plan(&view, WS, &wfs(), None, &queues(4), &Definitions::default(), NOW, &utc);
        assert_eq!(more.queues[..3], p.queues[..]);
        assert_ne!(more.queues[3].1, p.queues[2].1);
        // The header's id does not depend on the page.
        let other = plan(&ViewState::default(), WS, &wfs(), None, &qs, &Definitions::default(), NOW, &utc);
        assert_eq!(other.header, p.header);
        assert!(other.queues.is_empty(), "only the wall subscribes to queues");
    }

    #[test]
    fn fifty_queues_fit_with_the_header_and_the_trends() {
        let kiosk = ViewState { page: Page::Queues, kiosk: true, rotate: Some(20), ..Default::default() };
        let many: Vec<String> = (0..20).map(|i| format!("WW{i:032x}")).collect();
        let p = plan(&kiosk, WS, &many, None, &queues(50), &Definitions::default(), NOW, &utc);
        assert_eq!((p.queues.len(), p.overflow.len(), p.trends.len()), (50, 0, MAX_ROTATION_TRENDS));
        assert_eq!(p.subscriptions.len(), 1 + 50 + MAX_ROTATION_TRENDS);
        assert!(p.subscriptions.len() <= MAX_SUBSCRIPTIONS);
        // Order: header, queues, trends (a refusal would only cost trends).
        let ids: Vec<&str> = p.ids().collect();
        assert_eq!(Some(ids[0]), p.header.as_deref());
        assert!(ids[1..51].iter().all(|id| id.starts_with("tq-")));
        assert!(ids[51..].iter().all(|id| id.starts_with("rt-")));
    }

    #[test]
    fn queues_beyond_the_limit_overflow_to_rest() {
        let kiosk = ViewState { page: Page::Queues, kiosk: true, rotate: Some(20), ..Default::default() };
        let many: Vec<String> = (0..20).map(|i| format!("WW{i:032x}")).collect();
        let qs = queues(70);
        let p = plan(&kiosk, WS, &many, None, &qs, &Definitions::default(), NOW, &utc);
        assert_eq!(p.queues.len(), MAX_QUEUE_SUBSCRIPTIONS);
        assert_eq!(p.overflow, qs[MAX_QUEUE_SUBSCRIPTIONS..], "the last ten, in the list's order");
        // 1 + 60 = 61: three trends fit.
        assert_eq!(p.trends.len(), 3);
        assert_eq!(p.subscriptions.len(), MAX_SUBSCRIPTIONS);
        // Every page of every size stays within the limit.
        for page in [Page::Overview, Page::Workflow, Page::Queues, Page::Agents] {
            let view = ViewState { page, rotate: Some(20), ..Default::default() };
            let lots: Vec<String> = (0..100).map(|i| format!("WW{i:032x}")).collect();
            let p = plan(&view, WS, &lots, Some(&lots[0]), &queues(100), &Definitions::default(), NOW, &utc);
            assert!(p.subscriptions.len() <= MAX_SUBSCRIPTIONS, "{page:?}: {}", p.subscriptions.len());
            let mut ids: Vec<&str> = p.ids().collect();
            ids.sort_unstable();
            ids.dedup();
            assert_eq!(ids.len(), p.subscriptions.len(), "{page:?}: ids are distinct");
        }
    }

    #[test]
    fn the_agent_board_subscribes_to_the_workers_unless_filtered() {
        let view = ViewState { page: Page::Agents, ..Default::default() };
        let p = plan(&view, WS, &wfs(), None, &queues(3), &Definitions::default(), NOW, &utc);
        let id = p.workers.clone().expect("workers");
        assert!(id.starts_with("wk-"));
        assert_eq!(p.subscriptions.len(), 2, "the header and the workers");
        let j = json(&p, &id);
        assert_eq!(j["target"], serde_json::json!({"kind": "workers"}));
        assert!(j["cumulative"].is_null(), "the board shows no window of the workers");
        let by_queue = ViewState { agent_queue: Some("WQ1".into()), ..view.clone() };
        assert_eq!(plan(&by_queue, WS, &wfs(), None, &[], &Definitions::default(), NOW, &utc).workers, None);
        let by_skill = ViewState { skill: Some("billing".into()), ..view };
        assert_eq!(plan(&by_skill, WS, &wfs(), None, &[], &Definitions::default(), NOW, &utc).workers, None);
    }

    /// A's own definition (T = 30, S = 5), the queue WQ…2's (T = 45, S = 0) and the
    /// workspace's default (T = 15, S = 10, short abandons met).
    fn definitions() -> Definitions {
        use wallboard_shared::service_level::{Abandons, Definition, Place};
        let d = |t, s, a| Definition::new(t, s, a).expect("valid");
        Definitions {
            workspace: Some(WS.into()),
            stored: vec![
                (Place::new(A, None), d(30, 5, Abandons::CountedAgainst)),
                (Place::new(queues(2)[1].clone(), None), d(45, 0, Abandons::CountedAgainst)),
                (Place::new(WORKSPACE_DEFAULT, None), d(15, 10, Abandons::CountedAsMet)),
            ],
        }
    }

    fn split_of(p: &Plan, id: &str) -> serde_json::Value {
        json(p, id)["cumulative"]["split_by_wait_time"].clone()
    }

    #[test]
    fn headlines_split_at_their_definitions_thresholds() {
        let defs = definitions();
        let p = plan(&ViewState::default(), WS, &wfs(), None, &[], &defs, NOW, &utc);
        // Cards: the definition's S and T alone; B inherits the workspace's.
        assert_eq!(split_of(&p, p.card(A).expect("A")), serde_json::json!([5, 30]));
        assert_eq!(split_of(&p, p.card(B).expect("B")), serde_json::json!([10, 15]));
        // The header: the workspace's, and the user's thresholds (20, 60).
        assert_eq!(split_of(&p, p.header.as_deref().expect("header")), serde_json::json!([10, 15, 20, 60]));
        // The workflow page's panel: A's and the user's.
        let page = ViewState { page: Page::Workflow, thresholds: vec![10, 30], ..Default::default() };
        let w = plan(&page, WS, &wfs(), Some(A), &[], &defs, NOW, &utc);
        assert_eq!(split_of(&w, w.cumulative.as_deref().expect("panel")), serde_json::json!([5, 10, 30]));
        assert_eq!(w.query.and_then(|q| q.split_by_wait_time), Some(vec![5, 10, 30]), "the REST link too");
        // The wall: each queue's own, else the workspace's.
        let wall = ViewState { page: Page::Queues, ..Default::default() };
        let q = plan(&wall, WS, &wfs(), None, &queues(3), &defs, NOW, &utc);
        let splits: Vec<_> = q.queues.iter().map(|(_, id)| split_of(&q, id)).collect();
        assert_eq!(
            splits,
            [serde_json::json!([10, 15, 20, 60]), serde_json::json!([20, 45, 60]), serde_json::json!([10, 15, 20, 60])]
        );
        assert!(q.overflow_split.is_empty(), "no overflow");
        // The queues beyond the subscriptions share one REST query: every definition's thresholds.
        let many = queues(MAX_QUEUE_SUBSCRIPTIONS + 3);
        let mut defs_many = defs.clone();
        let last = many.last().expect("queue").clone();
        defs_many.stored.push((
            wallboard_shared::service_level::Place::new(last, None),
            wallboard_shared::service_level::Definition::BUILT_IN,
        ));
        let o = plan(&wall, WS, &wfs(), None, &many, &defs_many, NOW, &utc);
        assert_eq!(o.overflow.len(), 3);
        assert_eq!(o.overflow_split, [10, 15, 20, 60]);
    }

    #[test]
    fn equal_definitions_keep_every_subscription() {
        for page in [Page::Overview, Page::Workflow, Page::Queues] {
            let view = ViewState { page, ..Default::default() };
            let a = plan(&view, WS, &wfs(), Some(A), &queues(3), &definitions(), NOW, &utc);
            let again = plan(&view, WS, &wfs(), Some(A), &queues(3), &definitions().clone(), NOW + 60_000, &utc);
            assert_eq!(a, again, "{page:?}: a reload of the same definitions resubscribes nothing");
            // None known is the built-in everywhere: the subscriptions of before definitions.
            let none = plan(&view, WS, &wfs(), Some(A), &queues(3), &Definitions::default(), NOW, &utc);
            let built_in = Definitions { workspace: Some(WS.into()), stored: Vec::new() };
            let same = plan(&view, WS, &wfs(), Some(A), &queues(3), &built_in, NOW, &utc);
            assert_eq!(none, same);
            // Only the scopes whose definition changed get new ids.
            let changed: Vec<&str> = a.ids().filter(|id| !none.ids().any(|x| x == *id)).collect();
            assert!(!changed.is_empty());
        }
        let view = ViewState::default();
        let none = plan(&view, WS, &wfs(), None, &[], &Definitions::default(), NOW, &utc);
        let only_a = Definitions { stored: definitions().stored[..1].to_vec(), ..definitions() };
        let p = plan(&view, WS, &wfs(), None, &[], &only_a, NOW, &utc);
        assert_eq!((p.header.clone(), p.card(B)), (none.header.clone(), none.card(B)), "B and the header keep theirs");
        assert_ne!(p.card(A), none.card(A));
    }

    #[test]
    fn workflow_ids_are_those_of_protocol_v1() {
        // A workflow subscription serializes as before targets, so its id is unchanged.
        let p = plan(
            &ViewState { page: Page::Workflow, ..Default::default() },
            WS,
            &wfs(),
            Some(A),
            &[],
            &Definitions::default(),
            NOW,
            &utc,
        );
        let body = serde_json::to_string(&p.subscriptions[1].message).expect("ser");
        assert!(!body.contains("target"), "{body}");
        assert!(body.contains(&format!("\"workflow_sid\":\"{A}\"")));
    }
}
