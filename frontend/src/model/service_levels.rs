//! The service-level definitions in force on the dashboard: which definition each headline
//! number uses, and which `SplitByWaitTime` thresholds its subscription must ask for.
//!
//! The workspace's stored definitions are read over REST (`GET …/ServiceLevels`, with the
//! directory, every 30 s) into [`Definitions`]. A scope's definition is resolved as the
//! server resolves it (`wallboard_shared::service_level::lookup_order`): for a task channel
//! (the workflow page's, by unique name) the scope's for that channel, then the scope's own
//! (a workflow `WW…`, a task queue `WQ…`), the workspace's `default` for the channel, the
//! workspace's `default`, else [`Definition::BUILT_IN`] (T = 20 s, S = T, abandons against:
//! the number the dashboard showed before definitions existed). Headlines of all channels
//! (cards, header, queues wall) use the every-channel places only. Until the list is read, or when it
//! cannot be (a link limited to some workflows gets 403), the last one read stays in force
//! (initially none: the built-in everywhere). The formulas themselves are
//! `wallboard_shared::service_level`'s, the code the server runs.
//!
//! A headline's subscription asks for the definition's thresholds (S and T) besides the
//! user's SLA thresholds ([`thresholds`]); the SLA table applies the workflow's definition
//! at each of its thresholds ([`at_threshold`]).

use wallboard_shared::query::MAX_THRESHOLDS;
use wallboard_shared::resources::SplitByWaitTime;
use wallboard_shared::service_level::{Abandons, Definition, MAX_THRESHOLD, Place, WORKSPACE_DEFAULT, lookup_order};

use super::floor::Listed;

/// The stored definitions of one workspace, by scope (`default`, `WW…`, `WQ…`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Definitions {
    /// The workspace they belong to (None: none read yet).
    pub workspace: Option<String>,
    /// (place: scope and channel, its own definition), only the places that have one.
    pub stored: Vec<(Place, Definition)>,
}

/// Where the definition in force for a scope comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The scope's own.
    Own,
    /// The workspace's `default`.
    Workspace,
    BuiltIn,
}

impl Definitions {
    /// The definitions of `workspace` from `GET …/ServiceLevels` (read as [`Listed`], whose
    /// `sid` is the scope): each scope with a stored definition of its own (a scope listed
    /// only for its day inherits; an invalid definition is skipped, as the server skips it).
    pub fn new(workspace: &str, listed: &[Listed]) -> Self {
        let stored = listed
            .iter()
            .filter(|l| l.stored)
            .filter_map(|l| {
                let abandons = Abandons::parse(l.abandons.as_deref()?)?;
                let d = Definition { threshold: l.threshold, short_abandon: l.short_abandon, abandons };
                // `Definition::validated`'s checks, without its messages (wasm size).
                let valid = (1..=MAX_THRESHOLD).contains(&d.threshold) && d.short_abandon <= d.threshold;
                valid.then(|| (Place { scope: l.sid.clone(), task_channel: l.task_channel.clone() }, d))
            })
            .collect();
        Self { workspace: Some(workspace.to_owned()), stored }
    }

    /// The definition in force for `scope` (a workflow or task queue SID, or `default`) and
    /// `channel` (a task channel's unique name; None: all channels), and where it comes
    /// from: the scope's (for the channel or all), else the workspace's, else the built-in.
    pub fn in_force_for(&self, scope: &str, channel: Option<&str>) -> (Definition, Source) {
        let found = lookup_order(scope, channel).into_iter().find_map(|want| {
            let (place, d) = self.stored.iter().find(|(p, _)| *p == want)?;
            Some((*d, if place.scope == WORKSPACE_DEFAULT { Source::Workspace } else { Source::Own }))
        });
        found.unwrap_or((Definition::BUILT_IN, Source::BuiltIn))
    }

    /// [`Definitions::in_force_for`] all channels.
    pub fn in_force(&self, scope: &str) -> (Definition, Source) {
        self.in_force_for(scope, None)
    }

    /// The definition in force for `scope`.
    pub fn of(&self, scope: &str) -> Definition {
        self.in_force(scope).0
    }

    /// The workspace's own number (the header): its `default`, else the built-in.
    pub fn workspace(&self) -> Definition {
        self.of(WORKSPACE_DEFAULT)
    }

    /// What the app keeps after a load for `workspace` (the directory's) that gave `loaded`
    /// (None: the call failed): the new list when it differs; on a failure, the last one
    /// read when it is this workspace's, else none (the built-in). None: keep the current
    /// value (so an equal reload sets no signal and resubscribes nothing).
    pub fn after_load(&self, workspace: Option<&str>, loaded: Option<Self>) -> Option<Self> {
        let next = match loaded {
            Some(d) => d,
            None if self.workspace.as_deref() == workspace => return None,
            None => Self::default(),
        };
        (next != *self).then_some(next)
    }
}

/// The `SplitByWaitTime` of a subscription that feeds headlines under `definitions`, besides
/// the user's thresholds `user`: their union, ascending, at most [`MAX_THRESHOLDS`]; the
/// definitions' thresholds (S and T) come first, so when the union is too long the user's
/// last ones are left out.
pub fn thresholds(user: &[u32], definitions: &[Definition]) -> Vec<u32> {
    let mut out: Vec<u32> = Vec::with_capacity(MAX_THRESHOLDS);
    let wanted = definitions.iter().flat_map(Definition::thresholds).chain(user.iter().copied());
    for t in wanted {
        if out.len() < MAX_THRESHOLDS
            && let Err(at) = out.binary_search(&t)
        {
            out.insert(at, t);
        }
    }
    out
}

/// The service level of a window's splits under `definition`: None without the splits at
/// S and T, or with nothing to divide by.
pub fn level(definition: &Definition, split: Option<&SplitByWaitTime>) -> Option<f64> {
    definition.of_split(split?)?.1.value
}

/// `definition` applied at another threshold `t` (a row of the SLA table): the same
/// treatment of abandons; S follows T when it equals T (the built-in), else stays, at most
/// `t`. At `t` = T it is `definition` itself; the built-in gives the table's historical
/// numbers (accepted < t ÷ (accepted + canceled ≥ t)).
pub fn at_threshold(definition: &Definition, t: u32) -> Definition {
    let s = if definition.short_abandon == definition.threshold { t } else { definition.short_abandon.min(t) };
    Definition { threshold: t, short_abandon: s, abandons: definition.abandons }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wallboard_shared::AccountSid;
    use wallboard_shared::WorkspaceSid;
    use wallboard_shared::resources::{Split, SplitCounts};
    use wallboard_shared::service_level::{Day, DefinitionView, ServiceLevel, ServiceLevelPage};

    const WS: &str = "WS0123456789abcdef0123456789abcdef";
    const WF: &str = "WW00000000000000000000000000000001";
    const OTHER: &str = "WW00000000000000000000000000000002";
    const WQ: &str = "WQ00000000000000000000000000000003";

    fn def(t: u32, s: u32, a: Abandons) -> Definition {
        Definition::new(t, s, a).expect("valid")
    }

    fn split(accepted_below: u64, canceled_below: u64, accepted_above: u64, canceled_above: u64) -> Split {
        Split {
            below: SplitCounts { reservations_accepted: accepted_below, tasks_canceled: canceled_below },
            above: SplitCounts { reservations_accepted: accepted_above, tasks_canceled: canceled_above },
        }
    }

    /// One window, worked by hand. Waits, in seconds: answered 2, 10, 29.999, 30, 45;
    /// abandoned 1, 4.999, 5, 12, 30, 60. Below / above each threshold:
    /// - 5 s: answered 1 / 4, abandoned 2 / 4;
    /// - 20 s: answered 2 / 3, abandoned 4 / 2;
    /// - 30 s: answered 3 / 2, abandoned 4 / 2;
    /// - 60 s: answered 5 / 0, abandoned 5 / 1.
    fn window() -> SplitByWaitTime {
        SplitByWaitTime(vec![
            (5, split(1, 2, 4, 4)),
            (20, split(2, 4, 3, 2)),
            (30, split(3, 4, 2, 2)),
            (60, split(5, 5, 0, 1)),
        ])
    }

    /// The dashboard's formula before definitions: accepted < T ÷ (accepted + canceled ≥ T).
    fn todays(s: &Split) -> Option<f64> {
        let within = s.below.reservations_accepted;
        let d = within + s.above.reservations_accepted + s.above.tasks_canceled;
        (d > 0).then(|| within as f64 / d as f64)
    }

    /// A scope as the server lists it (the shared type), read back as the dashboard reads it.
    fn listed(scope: &str, d: Definition, by: &str, stored: bool) -> Listed {
        let json = serde_json::to_value(shared(scope, d, by, stored)).expect("ser");
        serde_json::from_value(json).expect("the lean type reads the shared one")
    }

    fn shared(scope: &str, d: Definition, by: &str, stored: bool) -> ServiceLevel {
        shared_for(scope, None, d, by, stored)
    }

    /// A place as the server lists it: `by` is where its definition in force is stored (for
    /// the same channel when `stored`).
    fn shared_for(scope: &str, channel: Option<&str>, d: Definition, by: &str, stored: bool) -> ServiceLevel {
        let by = (by != "built_in").then(|| Place::new(by, channel.filter(|_| stored)));
        ServiceLevel {
            account_sid: AccountSid::from_u128(1),
            workspace_sid: WS.parse::<WorkspaceSid>().expect("sid"),
            scope: scope.to_owned(),
            task_channel: channel.map(str::to_owned),
            definition: DefinitionView::new(&d, by.as_ref()),
            stored,
            revision: stored.then_some(3),
            day: Day::default(),
            day_defined_by: "built_in".into(),
            date_updated: None,
            url: String::new(),
        }
    }

    #[test]
    fn each_abandons_treatment_by_hand_with_s_not_t() {
        let w = window();
        let at = |d: Definition| level(&d, Some(&w));
        // T = 30, S = 5. answered 5, answered < 30 = 3; abandoned 6, abandoned < 5 = 2.
        assert_eq!(at(def(30, 5, Abandons::Ignored)), Some(3.0 / 5.0));
        assert_eq!(at(def(30, 5, Abandons::CountedAgainst)), Some(3.0 / 9.0), "3 ÷ (5 + 6 − 2)");
        assert_eq!(at(def(30, 5, Abandons::CountedAsMet)), Some(5.0 / 11.0), "(3 + 2) ÷ (5 + 6)");
        // T = 20, S = 5: answered < 20 = 2.
        assert_eq!(at(def(20, 5, Abandons::CountedAgainst)), Some(2.0 / 9.0));
        // Without the split at S (or T) there is no number rather than a wrong one.
        let only_t = SplitByWaitTime(vec![(30, split(3, 4, 2, 2))]);
        assert_eq!(level(&def(30, 5, Abandons::CountedAgainst), Some(&only_t)), None);
        assert_eq!(level(&def(30, 5, Abandons::Ignored), Some(&only_t)), Some(0.6), "S plays no part");
        assert_eq!(level(&Definition::BUILT_IN, None), None);
    }

    #[test]
    fn the_built_in_gives_todays_numbers() {
        let w = window();
        // At 20 s: 2 ÷ (2 + 3 + 2).
        assert_eq!(level(&Definition::BUILT_IN, Some(&w)), Some(2.0 / 7.0));
        for (t, s) in &w.0 {
            let d = at_threshold(&Definition::BUILT_IN, *t);
            assert_eq!(d.thresholds(), [*t], "S follows T");
            assert_eq!(level(&d, Some(&w)), todays(s), "at {t} s");
        }
        assert_eq!(Definitions::default().of(WF), Definition::BUILT_IN);
        assert_eq!(thresholds(&[20, 60], &[Definition::BUILT_IN]), [20, 60], "the same subscriptions as before");
        assert_eq!(thresholds(&[], &[Definition::BUILT_IN]), [20]);
    }

    #[test]
    fn a_table_row_applies_the_definition_at_its_threshold() {
        let w = window();
        let against = def(30, 5, Abandons::CountedAgainst);
        assert_eq!(at_threshold(&against, 30), against, "the headline's row");
        // 60 s: 5 ÷ (5 + 6 − 2); 20 s: 2 ÷ 9; 5 s: S = 5 still, 1 ÷ 9.
        let row = |d: &Definition, t| level(&at_threshold(d, t), Some(&w));
        assert_eq!(row(&against, 60), Some(5.0 / 9.0));
        assert_eq!(row(&against, 20), Some(2.0 / 9.0));
        assert_eq!(row(&against, 5), Some(1.0 / 9.0));
        // S is at most the row's threshold: at 2 s nothing split at 2 s is here.
        assert_eq!(at_threshold(&against, 2), def(2, 2, Abandons::CountedAgainst));
        let met = def(30, 5, Abandons::CountedAsMet);
        assert_eq!(row(&met, 60), Some(7.0 / 11.0), "(5 + 2) ÷ 11");
        assert_eq!(row(&def(30, 5, Abandons::Ignored), 20), Some(2.0 / 5.0));
        // S = T follows the row: at 60 s, 5 ÷ (5 + 6 − 5).
        assert_eq!(row(&def(30, 30, Abandons::CountedAgainst), 60), Some(5.0 / 6.0));
    }

    #[test]
    fn scopes_inherit_as_on_the_server() {
        let wf = def(30, 5, Abandons::CountedAsMet);
        let ws = def(45, 0, Abandons::Ignored);
        let page = [
            listed(WF, wf, WF, true),
            // Listed for its day only: inherits.
            listed(OTHER, Definition::BUILT_IN, "built_in", false),
        ];
        let d = Definitions::new(WS, &page);
        assert_eq!(d.workspace.as_deref(), Some(WS));
        assert_eq!(d.in_force(WF), (wf, Source::Own));
        assert_eq!(d.in_force(OTHER), (Definition::BUILT_IN, Source::BuiltIn));
        assert_eq!(d.in_force(WQ), (Definition::BUILT_IN, Source::BuiltIn));
        assert_eq!(d.workspace(), Definition::BUILT_IN);
        let page = [listed(WF, wf, WF, true), listed(WORKSPACE_DEFAULT, ws, WORKSPACE_DEFAULT, true)];
        let d = Definitions::new(WS, &page);
        assert_eq!(d.in_force(WF), (wf, Source::Own));
        assert_eq!(d.in_force(WQ), (ws, Source::Workspace));
        assert_eq!(d.in_force(WORKSPACE_DEFAULT), (ws, Source::Workspace));
        assert_eq!(d.workspace(), ws);
        // A definition the server would refuse is not used.
        let bad = Definition { threshold: 10, short_abandon: 11, abandons: Abandons::Ignored };
        let d = Definitions::new(WS, &[listed(WQ, bad, WQ, true)]);
        assert_eq!(d.of(WQ), Definition::BUILT_IN);
    }

    /// Calls in 20 s, chats in 60 s: a channel's definition is its own, never every channel's.
    #[test]
    fn a_channels_definition_is_in_force_for_that_channel_only() {
        let voice = def(20, 5, Abandons::CountedAgainst);
        let chat = def(60, 0, Abandons::Ignored);
        let page: Vec<Listed> = [
            shared_for(WF, Some("voice"), voice, WF, true),
            shared_for(WORKSPACE_DEFAULT, Some("chat"), chat, WORKSPACE_DEFAULT, true),
        ]
        .into_iter()
        .map(|l| serde_json::from_value(serde_json::to_value(l).expect("ser")).expect("de"))
        .collect();
        let d = Definitions::new(WS, &page);
        assert_eq!(d.in_force_for(WF, Some("voice")), (voice, Source::Own));
        assert_eq!(d.in_force_for(WF, Some("chat")), (chat, Source::Workspace));
        assert_eq!(d.in_force_for(WQ, Some("chat")), (chat, Source::Workspace));
        assert_eq!(d.in_force(WF), (Definition::BUILT_IN, Source::BuiltIn), "all channels: neither");
        assert_eq!(d.workspace(), Definition::BUILT_IN);
        let own = def(30, 30, Abandons::CountedAgainst);
        let mut with_own = d.clone();
        with_own.stored.push((Place::new(WF, None), own));
        assert_eq!(
            with_own.in_force_for(WF, Some("chat")),
            (own, Source::Own),
            "the scope's own before the workspace's channel"
        );
    }

    #[test]
    fn the_shared_page_reads_back() {
        let page = ServiceLevelPage {
            service_levels: vec![shared(WF, def(30, 5, Abandons::CountedAgainst), WF, true)],
            meta: wallboard_shared::resources::PageMeta {
                first_page_url: String::new(),
                key: "service_levels".into(),
                next_page_url: None,
                page: 0,
                page_size: 1,
                previous_page_url: None,
                url: String::new(),
            },
        };
        let json = serde_json::to_string(&page).expect("ser");
        // Read as every list is (`api::list`): the items under the page's key.
        let items = serde_json::from_str::<serde_json::Value>(&json).expect("json")["service_levels"].clone();
        let back: Vec<Listed> = serde_json::from_value(items).expect("de");
        assert_eq!(back[0].sid, WF, "the scope");
        assert_eq!(Definitions::new(WS, &back).of(WF), def(30, 5, Abandons::CountedAgainst));
    }

    #[test]
    fn reloads_keep_what_is_known() {
        let a = Definitions::new(WS, &[listed(WF, def(30, 5, Abandons::Ignored), WF, true)]);
        let none = Definitions::default();
        assert_eq!(none.after_load(Some(WS), Some(a.clone())), Some(a.clone()));
        // An equal reload changes nothing (no signal set, no resubscribing).
        assert_eq!(a.after_load(Some(WS), Some(a.clone())), None);
        // A failed reload (403, 404, the network) keeps the last known.
        assert_eq!(a.after_load(Some(WS), None), None);
        assert_eq!(none.after_load(Some(WS), None), None, "none known: the built-in");
        // Another workspace that cannot be read: the built-in, not the other's definitions.
        let other = "WS00000000000000000000000000000009";
        assert_eq!(a.after_load(Some(other), None), Some(Definitions::default()));
        assert_eq!(none.after_load(Some(other), None), None);
    }

    #[test]
    fn headline_thresholds_join_the_users() {
        let d = def(30, 5, Abandons::CountedAgainst);
        assert_eq!(d.thresholds(), [5, 30]);
        assert_eq!(thresholds(&[20, 60], &[d]), [5, 20, 30, 60]);
        assert_eq!(thresholds(&[5, 30], &[d]), [5, 30]);
        assert_eq!(thresholds(&[10], &[def(30, 5, Abandons::Ignored)]), [10, 30]);
        // Several definitions (the queues beyond the wall's subscriptions share one query).
        assert_eq!(thresholds(&[20], &[d, Definition::BUILT_IN, def(45, 0, Abandons::CountedAsMet)]), [5, 20, 30, 45]);
        // Too many: the definitions' stay, the user's last ones go.
        let user: Vec<u32> = (1..=20).map(|i| i * 10).collect();
        let t = thresholds(&user, &[d]);
        assert_eq!(t.len(), MAX_THRESHOLDS);
        assert!(t.contains(&5) && t.contains(&30));
        assert_eq!(t.last(), Some(&190), "200 is left out");
        assert!(t.windows(2).all(|p| p[0] < p[1]), "ascending, distinct: {t:?}");
    }
}
