//! A rule's value now: its target resolved in the engine's registry, its measure read from
//! [`Numbers`] (the local engine or the mirror, like every other reader).

use wallboard_shared::WorkflowSid;
use wallboard_shared::alerts::{Measure, Rule, RuleTarget};
use wallboard_shared::query::{DateBound, WindowSpec};
use wallboard_shared::service_level::{Day, Definition, WORKSPACE_DEFAULT};
use wallboard_shared::sid::WorkspaceSid;

use crate::engine::target::QueueId;
use crate::engine::{CumulativeSpec, Target, View};
use crate::service_levels::Settings;
use crate::source::{Cumulative, Reader, Realtime};

/// The key of a rule's series of values: its workspace, target, channel and measure (rules
/// that share them share the series).
pub fn series_key(ws: &WorkspaceSid, rule: &Rule) -> String {
    format!(
        "{ws}|{}|{}|{}",
        rule.target.as_str(),
        rule.task_channel.as_deref().unwrap_or(""),
        rule.condition.measure.name()
    )
}

/// `N` of the at-risk measure: tasks that breach T within this many seconds.
pub const AT_RISK_WITHIN_S: u32 = 10;

/// "Today" up to `at_ms`: from the day's start before `at_ms` to `at_ms`.
fn today(thresholds: Option<Vec<u32>>, day: &Day, at_ms: i64) -> CumulativeSpec {
    let instant = |ms: i64| DateBound::Instant(chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default());
    let start = instant(crate::shift::today_start_ms(at_ms, day));
    CumulativeSpec { window: WindowSpec::Range { start: Some(start), end: Some(instant(at_ms)) }, thresholds }
}

/// The rule's view, or `None` when its target (or channel) is unknown to the engine.
fn view(reader: &Reader<'_>, ws: &WorkspaceSid, rule: &Rule) -> Option<View> {
    let engine = reader.engine();
    let registry = engine.registry();
    let ws_id = registry.workspace_id(ws)?;
    let channel = match &rule.task_channel {
        Some(name) => Some(registry.resolve_channel(ws, name)?),
        None => None,
    };
    let target = match &rule.target {
        RuleTarget::Workspace | RuleTarget::Activity(_) => Target::Workspace(ws_id),
        RuleTarget::Workflow(sid) => Target::Workflow(registry.workflow_id(ws, &WorkflowSid::parse(sid).ok()?)?),
        RuleTarget::TaskQueue(sid) => {
            Target::TaskQueue(QueueId::from_index(engine.floor().queue_id_of(ws_id.index(), sid)?))
        }
    };
    Some(View::new(target, channel))
}

/// The scope name of a rule's service-level definition.
fn scope(rule: &Rule) -> &str {
    match &rule.target {
        RuleTarget::Workflow(s) | RuleTarget::TaskQueue(s) => s,
        RuleTarget::Workspace | RuleTarget::Activity(_) => WORKSPACE_DEFAULT,
    }
}

/// The service-level definition of a rule: its scope's, for its channel (named by SID or
/// unique name in the rule; definitions name it by unique name).
fn definition(reader: &Reader<'_>, ws: &WorkspaceSid, settings: &Settings, rule: &Rule) -> Definition {
    // An unknown channel (not seen yet) is looked up as given.
    let channel = rule
        .task_channel
        .as_deref()
        .map(|c| reader.engine().registry().channel_name(ws, c).unwrap_or_else(|| c.to_owned()));
    settings.definition(scope(rule), channel.as_deref()).0
}

/// The value of `rule` now (`None`: no number, e.g. an unknown target or no answered task).
pub fn value(reader: &Reader<'_>, ws: &WorkspaceSid, rule: &Rule, settings: &Settings) -> Option<f64> {
    let measure = rule.condition.measure;
    let Some(view) = view(reader, ws, rule) else {
        // A target not seen yet (or deleted) has no numbers; only staleness is known.
        return (measure == Measure::Stale).then_some(0.0);
    };
    let now_ms = reader.at();
    let (realtime, fresh) = reader.realtime(view);
    let (pending, longest, available) = match &realtime {
        Realtime::Workflow(s) => (s.tasks_by_status.pending, s.longest_task_waiting_age, None),
        Realtime::TaskQueue(s) => {
            (s.tasks_by_status.pending, s.longest_task_waiting_age, Some(s.total_available_workers))
        }
        Realtime::Workspace(s) => (s.tasks_by_status.pending, s.longest_task_waiting_age, None),
        Realtime::Workers(_) => return None,
    };
    let workspace_available = || {
        let ws_id = reader.engine().registry().workspace_id(ws)?;
        Some(reader.engine().floor().activities(ws_id.index()).iter().filter(|a| a.available).map(|a| a.workers).sum())
    };
    let available = || available.or_else(workspace_available);
    Some(match measure {
        Measure::Stale => f64::from(u8::from(fresh.stale)),
        Measure::Waiting => pending as f64,
        Measure::LongestWait => longest as f64,
        Measure::AgentsAvailable => available()? as f64,
        Measure::WaitingPerAvailable => pending as f64 / available()?.max(1) as f64,
        Measure::Agents => {
            let RuleTarget::Activity(sid) = &rule.target else { return None };
            let ws_id = reader.engine().registry().workspace_id(ws)?;
            reader.engine().floor().activities(ws_id.index()).iter().find(|a| a.sid == *sid)?.workers as f64
        }
        Measure::AtRisk => {
            let near = definition(reader, ws, settings, rule).threshold.saturating_sub(AT_RISK_WITHIN_S);
            let counts = reader.engine().pending_aged(view, &[near], now_ms)?;
            counts.first().copied().unwrap_or(0) as f64
        }
        Measure::ServiceLevel | Measure::Abandonment => cumulative(reader, ws, view, rule, settings, now_ms)?,
    })
}

/// Whether a measure comes from the cumulative statistics (so it can be computed for any
/// past instant of the retention).
pub fn is_cumulative(m: Measure) -> bool {
    matches!(m, Measure::ServiceLevel | Measure::Abandonment)
}

/// A cumulative measure's value for "today" as it stood at `at_ms`.
pub fn cumulative_at(
    reader: &Reader<'_>,
    ws: &WorkspaceSid,
    rule: &Rule,
    settings: &Settings,
    at_ms: i64,
) -> Option<f64> {
    cumulative(reader, ws, view(reader, ws, rule)?, rule, settings, at_ms)
}

fn cumulative(
    reader: &Reader<'_>,
    ws: &WorkspaceSid,
    view: View,
    rule: &Rule,
    settings: &Settings,
    at_ms: i64,
) -> Option<f64> {
    let (day, _) = settings.day(scope(rule));
    match rule.condition.measure {
        Measure::ServiceLevel => {
            let def = definition(reader, ws, settings, rule);
            let (cumulative, _) = reader.cumulative(view, &today(Some(def.thresholds()), &day, at_ms));
            let split = match cumulative {
                Cumulative::Workflow(s) => s.split_by_wait_time,
                Cumulative::TaskQueue(s) => s.split_by_wait_time,
                _ => None,
            }?;
            Some(def.of_split(&split)?.1.value? * 100.0)
        }
        Measure::Abandonment => {
            let (cumulative, _) = reader.cumulative(view, &today(None, &day, at_ms));
            let (answered, abandoned) = match cumulative {
                Cumulative::Workflow(s) => (s.reservations_accepted, s.tasks_canceled),
                Cumulative::TaskQueue(s) => (s.reservations_accepted, s.tasks_canceled),
                Cumulative::Workspace(s) => (s.reservations_accepted, s.tasks_canceled),
                Cumulative::Workers(_) => return None,
            };
            let offered = answered + abandoned;
            (offered > 0).then(|| abandoned as f64 * 100.0 / offered as f64)
        }
        _ => None,
    }
}
