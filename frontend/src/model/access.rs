//! Viewer access: the token a dashboard link carries in its fragment
//! (`…?page=workflow#token=wbt_…`), and whether the server accepts it.
//!
//! The fragment is never sent by the browser, so the token stays out of server logs and
//! `Referer`s; the dashboard sends it itself, as `Authorization: Bearer` on REST calls and
//! as the first WebSocket frame.

use wallboard_shared::error::codes;

use super::view::{Page, decode};

/// Twilio error code: the token is missing, invalid, expired or revoked (HTTP 401).
pub const CODE_REFUSED: u32 = codes::AUTHENTICATION;
/// Twilio error code: too many failed attempts from this address (HTTP 429).
pub const CODE_RATE_LIMITED: u32 = codes::TOO_MANY_REQUESTS;

/// Whether the page may ask the server for data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The link has a token and the server has not refused it.
    Granted,
    /// The link has no `#token=…`: nothing is asked of the server.
    Missing,
    /// The server refused the token (invalid, expired or revoked): nothing more is asked,
    /// every attempt would count towards the server's failed-attempt limit.
    Refused,
}

impl Access {
    /// The access of a page whose link carries `token`.
    pub fn of(token: Option<&str>) -> Self {
        if token.is_some() { Self::Granted } else { Self::Missing }
    }
}

/// The token of a URL fragment (`#token=wbt_…&other=…`, read like a query string); None
/// when there is none or it is empty.
pub fn token_from_fragment(fragment: &str) -> Option<String> {
    fragment
        .trim_start_matches('#')
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == "token")
        .map(|(_, raw)| decode(raw).trim().to_owned())
        .filter(|token| !token.is_empty())
}

/// The workflow the rotation shows after `current` (name and sid; None: the overview);
/// None means the overview. Workflows go in (name, sid) order, the dashboard's order; one
/// that disappeared is skipped, also when it is the one on screen.
pub fn next_stop<'a>(
    current: Option<(&str, &str)>,
    workflows: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Option<&'a str> {
    let mut next: Option<(&str, &str)> = None;
    for w in workflows {
        if current.is_none_or(|c| w > c) && next.is_none_or(|n| w < n) {
            next = Some(w);
        }
    }
    next.map(|(_, sid)| sid)
}

/// A stop of a kiosk's rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop<'a> {
    Overview,
    Workflow(&'a str),
    Queues,
    Agents,
}

/// The rotation after `page` (on the workflow page showing `current`): the overview, each
/// workflow (see [`next_stop`]), the queues wall, the agent board, and round again.
pub fn next_page<'a>(
    page: Page,
    current: Option<(&str, &str)>,
    workflows: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Stop<'a> {
    match page {
        Page::Queues => Stop::Agents,
        Page::Agents | Page::Settings | Page::History => Stop::Overview,
        Page::Overview => next_stop(None, workflows).map_or(Stop::Queues, Stop::Workflow),
        Page::Workflow => next_stop(current, workflows).map_or(Stop::Queues, Stop::Workflow),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_from_fragments() {
        assert_eq!(token_from_fragment("#token=wbt_abc123").as_deref(), Some("wbt_abc123"));
        assert_eq!(token_from_fragment("token=wbt_abc").as_deref(), Some("wbt_abc"));
        assert_eq!(token_from_fragment("#x=1&token=wbt_a%2Fb%3D&y=2").as_deref(), Some("wbt_a/b="));
        assert_eq!(token_from_fragment("#tokens=1&mytoken=2&token=t").as_deref(), Some("t"), "other keys ignored");
        assert_eq!(token_from_fragment("#token=a&token=b").as_deref(), Some("a"), "the first one");
        for none in ["", "#", "#token=", "#token", "#token=%20", "#other=wbt_x", "#tok=wbt_x"] {
            assert_eq!(token_from_fragment(none), None, "{none}");
        }
    }

    #[test]
    fn access_of_a_link() {
        assert_eq!(Access::of(Some("wbt_x")), Access::Granted);
        assert_eq!(Access::of(None), Access::Missing);
    }

    #[test]
    fn rotation_goes_overview_then_each_workflow() {
        let wfs = [("Billing", "WW2"), ("Sales", "WW1"), ("Support", "WW3")];
        let list = || wfs.iter().map(|&(n, s)| (n, s));
        let mut stops = Vec::new();
        let mut current: Option<(&str, &str)> = None;
        for _ in 0..5 {
            let next = next_stop(current, list());
            stops.push(next.unwrap_or("overview"));
            current = next.and_then(|sid| wfs.iter().copied().find(|w| w.1 == sid));
        }
        assert_eq!(stops, ["WW2", "WW1", "WW3", "overview", "WW2"]);
        assert_eq!(next_stop(None, []), None, "no workflows: the overview stays");
    }

    #[test]
    fn the_rotation_covers_the_queues_wall_and_the_agent_board() {
        let wfs = [("Billing", "WW2"), ("Sales", "WW1")];
        let list = || wfs.iter().copied();
        let mut stops = Vec::new();
        let (mut page, mut current) = (Page::Overview, None);
        for _ in 0..6 {
            let stop = next_page(page, current, list());
            stops.push(stop);
            (page, current) = match stop {
                Stop::Overview => (Page::Overview, None),
                Stop::Workflow(sid) => (Page::Workflow, wfs.iter().copied().find(|w| w.1 == sid)),
                Stop::Queues => (Page::Queues, None),
                Stop::Agents => (Page::Agents, None),
            };
        }
        use Stop::*;
        assert_eq!(stops, [Workflow("WW2"), Workflow("WW1"), Queues, Agents, Overview, Workflow("WW2")]);
        assert_eq!(next_page(Page::Overview, None, []), Queues, "no workflows: straight to the queues");
    }

    #[test]
    fn a_workflow_that_disappears_is_skipped() {
        let wfs = [("Billing", "WW2"), ("Support", "WW3")];
        let list = || wfs.iter().map(|&(n, s)| (n, s));
        // Sales vanished while shown: the next one after it in order.
        assert_eq!(next_stop(Some(("Sales", "WW1")), list()), Some("WW3"));
        // Billing is shown; Sales vanished from between Billing and Support.
        assert_eq!(next_stop(Some(("Billing", "WW2")), list()), Some("WW3"));
        assert_eq!(next_stop(Some(("Zoo", "WW9")), list()), None, "past the last: the overview");
        // Same names are told apart by sid.
        let twins = [("Sales", "WWa"), ("Sales", "WWb")];
        assert_eq!(next_stop(Some(("Sales", "WWa")), twins.iter().copied()), Some("WWb"));
    }
}
