//! Service-level definitions (`…/ServiceLevels/{scope}`, admin only) and the computed
//! service level of a queue and a workflow, over a window whose waits are worked by hand.
//!
//! Workspace SW, workflow "Line", queue "Desk" (created 1 s after D). Tasks from D + 100 s,
//! each answered or abandoned after the wait given (milliseconds):
//! - answered after 2,000, 10,000, 29,999, 30,000 (exactly T = 30 s: not within), 45,000;
//! - abandoned after 1,000, 4,999, 5,000 (exactly S = 5 s: not short), 12,000, 30,000, 60,000.
//!
//! So answered = 5, answered < 30 s = 3, abandoned = 6, abandoned < 5 s = 2.
//! Pending at NOW: three tasks waiting 22 s, 25 s and 35 s.

use reqwest::StatusCode;
use serde_json::Value;
use std::sync::Arc;

use wallboard::access::Scope;
use wallboard::clock::ManualClock;
use wallboard_shared::WorkspaceSid;
use wallboard_shared::service_level::{ServiceLevel, ServiceLevelPage, ServiceLevelStatistics};

use super::helpers::{ACCOUNT_SID, AUTH_TOKEN, Form, TestApp, serve_args, spawn_app, spawn_app_with};
use super::queues::sid;
use super::scenario::{D, NOW};

fn ws() -> String {
    sid("WS", 0x5100)
}
fn wf() -> String {
    sid("WW", 0x5101)
}
fn desk() -> String {
    sid("WQ", 0x5102)
}
fn path(rest: &str) -> String {
    format!("/v1/Workspaces/{}/{rest}", ws())
}

struct Script {
    seq: u32,
    forms: Vec<Form>,
}

impl Script {
    fn ev(&mut self, event_type: &str, at_ms: i64) -> Form {
        self.seq += 1;
        Form::new(event_type, 0x5_1000 + self.seq, at_ms, &ws())
    }

    fn task(&mut self, event_type: &str, at_ms: i64, n: u32) {
        let f = self
            .ev(event_type, at_ms)
            .with("TaskSid", sid("WT", 0x5200 + n))
            .with("WorkflowSid", wf())
            .with("WorkflowName", "Line")
            .with("TaskPriority", 0)
            .with("TaskAttributes", "{}")
            .with("TaskAssignmentStatus", "pending")
            .with("TaskQueueSid", desk())
            .with("TaskChannelSid", sid("TC", 0x5300))
            .with("TaskChannelUniqueName", "voice");
        let f = if event_type.starts_with("reservation.") {
            f.with("ReservationSid", sid("WR", 0x5400 + n))
                .with("WorkerSid", sid("WK", 0x5500))
                .with("WorkerName", "ann")
        } else {
            f
        };
        self.forms.push(f);
    }
}

fn day() -> Vec<Form> {
    let mut s = Script { seq: 0, forms: Vec::new() };
    let q = s
        .ev("task-queue.created", D + 1_000)
        .with("TaskQueueSid", desk())
        .with("TaskQueueName", "Desk")
        .with("TaskQueueTargetExpression", "1==1");
    s.forms.push(q);
    let mut n = 0;
    let mut start = D + 100_000;
    for (wait, answered) in [
        (2_000, true),
        (10_000, true),
        (29_999, true),
        (30_000, true),
        (45_000, true),
        (1_000, false),
        (4_999, false),
        (5_000, false),
        (12_000, false),
        (30_000, false),
        (60_000, false),
    ] {
        n += 1;
        s.task("task.created", start, n);
        s.task("workflow.entered", start, n);
        if answered {
            s.task("reservation.created", start + wait - 500, n);
            s.task("reservation.accepted", start + wait, n);
        } else {
            s.task("task.canceled", start + wait, n);
        }
        start += 100_000;
    }
    for age_ms in [22_000, 25_000, 35_000] {
        n += 1;
        s.task("task.created", NOW - age_ms, n);
        s.task("workflow.entered", NOW - age_ms, n);
    }
    s.forms
}

async fn app() -> TestApp {
    fill(spawn_app(NOW).await).await
}

async fn fill(app: TestApp) -> TestApp {
    for f in day() {
        assert_eq!(app.post_event(&f.0).await, StatusCode::NO_CONTENT, "event {:?}", f.0);
    }
    app
}

async fn send(app: &TestApp, method: reqwest::Method, path: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let r = app
        .client
        .request(method, format!("{}{path}", app.base))
        .basic_auth(ACCOUNT_SID, Some(AUTH_TOKEN))
        .form(form)
        .send()
        .await
        .expect("request");
    let status = r.status();
    let body = r.bytes().await.expect("body");
    (status, if body.is_empty() { Value::Null } else { serde_json::from_slice(&body).expect("JSON body") })
}

async fn post(app: &TestApp, path: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
    send(app, reqwest::Method::POST, path, form).await
}

const WINDOW: &str = "StartDate=2026-11-27T00:00:00Z";

#[tokio::test]
async fn definitions_are_inherited_stored_and_computed_by_hand() {
    let app = app().await;
    // Nothing stored: the built-in (T = S = 20 s, abandons against) everywhere.
    let d: ServiceLevel = app.get_json(&path(&format!("ServiceLevels/{}", desk()))).await;
    assert_eq!((d.definition.threshold, d.definition.short_abandon), (20, 20));
    assert_eq!(d.definition.defined_by, "built_in");
    assert!(!d.stored);
    let page: ServiceLevelPage = app.get_json(&path("ServiceLevels")).await;
    assert!(page.service_levels.is_empty());

    // Built-in on the queue: answered < 20 = 2 (2 s, 10 s); abandons ≥ 20 s: 30 s, 60 s.
    let q: ServiceLevelStatistics = app.get_json(&path(&format!("TaskQueues/{}/ServiceLevel?{WINDOW}", desk()))).await;
    assert_eq!((q.numerator, q.denominator), (2, 7));
    assert_eq!(q.definition.formula, "answered < 20 s ÷ (answered + abandoned ≥ 20 s)");

    // The queue's own definition: T = 30 s, S = 5 s, abandons against.
    let (status, body) = post(
        &app,
        &path(&format!("ServiceLevels/{}", desk())),
        &[("Threshold", "30"), ("ShortAbandon", "5"), ("Abandons", "counted_against")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let stored: ServiceLevel = serde_json::from_value(body).expect("a service level");
    assert!(stored.stored);
    assert_eq!(stored.definition.defined_by, desk());
    let q: ServiceLevelStatistics = app.get_json(&path(&format!("TaskQueues/{}/ServiceLevel?{WINDOW}", desk()))).await;
    assert_eq!((q.inputs.answered, q.inputs.answered_within_threshold), (5, 3));
    assert_eq!((q.inputs.abandoned, q.inputs.abandoned_short), (6, 2));
    // 3 ÷ (5 + 6 − 2)
    assert_eq!((q.numerator, q.denominator), (3, 9));
    assert_eq!(q.service_level, Some(3.0 / 9.0));
    assert_eq!(q.definition.formula, "answered < 30 s ÷ (answered + abandoned ≥ 5 s)");
    // At risk within 10 s of T = 30 s: ages 22 s and 25 s; 35 s is past it.
    let risk = q.at_risk.expect("local numbers have pending tasks");
    assert_eq!((risk.within, risk.tasks, risk.breached), (10, 2, 1));
    let q: ServiceLevelStatistics =
        app.get_json(&path(&format!("TaskQueues/{}/ServiceLevel?{WINDOW}&Within=6", desk()))).await;
    let risk = q.at_risk.expect("at risk");
    assert_eq!((risk.tasks, risk.breached), (1, 1), "only 25 s is within 6 s of T");

    // Short abandons counted as met: (3 + 2) ÷ 11.
    post(&app, &path(&format!("ServiceLevels/{}", desk())), &[("Abandons", "counted_as_met")]).await;
    let q: ServiceLevelStatistics = app.get_json(&path(&format!("TaskQueues/{}/ServiceLevel?{WINDOW}", desk()))).await;
    assert_eq!((q.numerator, q.denominator), (5, 11));

    // The workflow inherits the workspace's default once there is one: abandons ignored, 3 ÷ 5.
    let (status, _) = post(&app, &path("ServiceLevels/default"), &[("Threshold", "30"), ("Abandons", "ignored")]).await;
    assert_eq!(status, StatusCode::OK);
    let w: ServiceLevelStatistics = app.get_json(&path(&format!("Workflows/{}/ServiceLevel?{WINDOW}", wf()))).await;
    assert_eq!(w.definition.defined_by, "default");
    assert_eq!((w.numerator, w.denominator), (3, 5));
    assert_eq!(w.at_risk.expect("at risk").tasks, 2);

    // Listing shows both stored definitions; deleting the queue's makes it inherit the default.
    let page: ServiceLevelPage = app.get_json(&path("ServiceLevels")).await;
    let mut scopes: Vec<&str> = page.service_levels.iter().map(|s| s.scope.as_str()).collect();
    scopes.sort_unstable();
    assert_eq!(scopes, [desk().as_str(), "default"]);
    let (status, _) = send(&app, reqwest::Method::DELETE, &path(&format!("ServiceLevels/{}", desk())), &[]).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(&app, reqwest::Method::DELETE, &path(&format!("ServiceLevels/{}", desk())), &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing left to delete");
    let d: ServiceLevel = app.get_json(&path(&format!("ServiceLevels/{}", desk()))).await;
    assert_eq!((d.definition.defined_by.as_str(), d.definition.threshold, d.stored), ("default", 30, false));
}

/// A definition per task channel: calls and chats answered against different thresholds.
/// Every task of the day is a `voice` task.
#[tokio::test]
async fn a_channel_has_its_own_definition_and_inherits_the_scopes_otherwise() {
    let app = app().await;
    let voice = path(&format!("ServiceLevels/{}?TaskChannel=voice", desk()));
    // T = 10 s for the queue's calls (S follows T): answered < 10 s = 1 (2 s; 10 s is not
    // within), abandoned ≥ 10 s = 3 (12 s, 30 s, 60 s): 1 ÷ (5 + 3).
    let (status, body) = post(&app, &voice, &[("Threshold", "10")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let own: ServiceLevel = serde_json::from_value(body).expect("a service level");
    assert_eq!((own.scope.as_str(), own.task_channel.as_deref(), own.stored), (desk().as_str(), Some("voice"), true));
    assert_eq!(own.definition.defined_for_channel.as_deref(), Some("voice"));
    assert!(own.url.ends_with("?TaskChannel=voice"), "{}", own.url);
    // The channel's SID names the same place (the form may carry it too).
    let by_sid = [("TaskChannel", sid("TC", 0x5300)), ("Threshold", "10".to_owned())];
    let by_sid: Vec<(&str, &str)> = by_sid.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, body) = post(&app, &path(&format!("ServiceLevels/{}", desk())), &by_sid).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["task_channel"], "voice");

    let stats = |channel: &str| path(&format!("TaskQueues/{}/ServiceLevel?{WINDOW}{channel}", desk()));
    let q: ServiceLevelStatistics = app.get_json(&stats("&TaskChannel=voice")).await;
    assert_eq!((q.numerator, q.denominator), (1, 8));
    assert_eq!(
        (q.definition.defined_by.as_str(), q.definition.defined_for_channel.as_deref()),
        (desk().as_str(), Some("voice"))
    );
    // All channels together: the queue has no definition for every channel, the built-in.
    let q: ServiceLevelStatistics = app.get_json(&stats("")).await;
    assert_eq!((q.numerator, q.denominator, q.definition.defined_by.as_str()), (2, 7, "built_in"));

    // An alert rule on the queue's calls measures with the calls' definition: the preview's
    // last sample is today's 1 ÷ 8; on every channel, the built-in's 2 ÷ 7.
    let rule = |channel: &'static str| {
        let mut form = vec![
            ("Name", "calls"),
            ("Target", "x"),
            ("Measure", "service_level"),
            ("Comparison", "<"),
            ("Threshold", "80"),
        ];
        if !channel.is_empty() {
            form.push(("TaskChannel", channel));
        }
        form
    };
    let target = desk();
    for (channel, want) in [("voice", 100.0 / 8.0), ("", 200.0 / 7.0)] {
        let mut form = rule(channel);
        form[1].1 = target.as_str();
        let (status, body) = post(&app, &path("AlertRules/Preview"), &form).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let last = body["samples"].as_array().and_then(|s| s.last()).map(|s| s["value"].clone());
        let value = last.and_then(|v| v.as_f64()).expect("a value at the last sample");
        assert!((value - want).abs() < 1e-9, "channel {channel:?}: {value} ≠ {want}");
    }

    // The workspace's default for voice is less specific than the queue's own for every
    // channel, which is less specific than the queue's for voice.
    post(&app, &path("ServiceLevels/default?TaskChannel=voice"), &[("Threshold", "40"), ("Abandons", "ignored")]).await;
    post(&app, &path(&format!("ServiceLevels/{}", desk())), &[("Threshold", "30"), ("ShortAbandon", "5")]).await;
    let q: ServiceLevelStatistics = app.get_json(&stats("&TaskChannel=voice")).await;
    assert_eq!(q.definition.threshold, 10);
    let (status, _) = send(&app, reqwest::Method::DELETE, &voice, &[]).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let q: ServiceLevelStatistics = app.get_json(&stats("&TaskChannel=voice")).await;
    assert_eq!((q.definition.threshold, q.definition.defined_for_channel.as_deref()), (30, None), "the queue's own");
    assert_eq!((q.numerator, q.denominator), (3, 9));
    let w: ServiceLevelStatistics =
        app.get_json(&path(&format!("Workflows/{}/ServiceLevel?{WINDOW}&TaskChannel=voice", wf()))).await;
    assert_eq!(
        (w.definition.defined_by.as_str(), w.definition.defined_for_channel.as_deref()),
        ("default", Some("voice"))
    );
    // Abandons ignored at 40 s: answered < 40 s = 4 of 5.
    assert_eq!((w.numerator, w.denominator), (4, 5));

    // The list names each place once, the channel's apart.
    let page: ServiceLevelPage = app.get_json(&path("ServiceLevels")).await;
    let mut places: Vec<(String, Option<String>)> =
        page.service_levels.iter().map(|l| (l.scope.clone(), l.task_channel.clone())).collect();
    places.sort_unstable();
    assert_eq!(places, [(desk(), None), ("default".to_owned(), Some("voice".to_owned()))]);

    // A channel the workspace does not have, a day per channel, a channel given twice or
    // differently in the query and the form: 400, nothing stored.
    let before: ServiceLevelPage = app.get_json(&path("ServiceLevels")).await;
    for (url, form) in [
        (path(&format!("ServiceLevels/{}?TaskChannel=fax", desk())), vec![("Threshold", "15")]),
        (voice.clone(), vec![("DayStartsAt", "06:00"), ("TimeZone", "Europe/Paris")]),
        (format!("{voice}&TaskChannel=chat"), vec![("Threshold", "15")]),
        (voice.clone(), vec![("TaskChannel", "chat"), ("Threshold", "15")]),
    ] {
        let (status, body) = post(&app, &url, &form).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{url} {form:?}: {body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    }
    let after: ServiceLevelPage = app.get_json(&path("ServiceLevels")).await;
    assert_eq!(before.service_levels, after.service_levels);
    let (status, _) = send(&app, reqwest::Method::DELETE, &voice, &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing of its own left");
}

#[tokio::test]
async fn bad_definitions_change_nothing_and_viewers_cannot_touch_them() {
    let app = app().await;
    let target = path(&format!("ServiceLevels/{}", desk()));
    for form in [
        vec![("Threshold", "0")],
        vec![("Threshold", "x")],
        vec![("ShortAbandon", "25")],
        vec![("Abandons", "sometimes")],
        vec![("Threshold", "10"), ("Threshold", "20")],
    ] {
        let (status, body) = post(&app, &target, &form).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{form:?}");
        assert_eq!(body["status"], 400);
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    }
    let d: ServiceLevel = app.get_json(&target).await;
    assert!(!d.stored, "nothing was stored");
    // Unknown scopes are 404 in Twilio's words.
    for scope in [sid("WQ", 0xdead), sid("WW", 0xdead), "WQ12".to_owned(), "everything".to_owned()] {
        let (status, body) = post(&app, &path(&format!("ServiceLevels/{scope}")), &[("Threshold", "30")]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{scope}: {body}");
    }
    let (status, _) = app.get(&format!("/v1/Workspaces/{}/ServiceLevels", sid("WS", 0xdead))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Bad window or Within on the computed number.
    for q in ["Within=x", "Within=100000", "Minutes=-1", "StartDate=yesterday"] {
        let (status, _) = app.get(&path(&format!("TaskQueues/{}/ServiceLevel?{q}", desk()))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{q}");
    }

    // A viewer token reads the definitions (the dashboard shows their formulas) and the
    // computed number, but cannot change them.
    let whole = Scope::Workspace { workspace: WorkspaceSid::parse(&ws()).expect("sid"), workflows: vec![] };
    let (viewer, _) = app.create_token("wall", whole, None, NOW);
    let (status, _) = app.get_bearer(&target, &viewer).await;
    assert_eq!(status, StatusCode::OK);
    let r = app.client.delete(format!("{}{target}", app.base)).bearer_auth(&viewer).send().await.expect("request");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app
        .client
        .post(format!("{}{target}", app.base))
        .bearer_auth(&viewer)
        .form(&[("Threshold", "30")])
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (status, _) = app.get_bearer(&path(&format!("Workflows/{}/ServiceLevel", wf())), &viewer).await;
    assert_eq!(status, StatusCode::OK);
    // An admin token may.
    let (status, _) = app.get_bearer(&target, &app.admin_token).await;
    assert_eq!(status, StatusCode::OK);
    let d: ServiceLevel = app.get_json(&target).await;
    assert!(!d.stored, "still nothing stored");
}

#[tokio::test]
async fn definitions_survive_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = Arc::new(ManualClock::new(NOW));
    let app = fill(spawn_app_with(serve_args(dir.path()), clock.clone()).await).await;
    let target = path(&format!("ServiceLevels/{}", desk()));
    let (status, _) = post(&app, &target, &[("Threshold", "45"), ("ShortAbandon", "3")]).await;
    assert_eq!(status, StatusCode::OK);
    app.stop().await;
    let again = spawn_app_with(serve_args(dir.path()), clock).await;
    let d: ServiceLevel = again.get_json(&target).await;
    assert_eq!((d.definition.threshold, d.definition.short_abandon, d.stored), (45, 3, true));
    again.stop().await;
}

#[tokio::test]
async fn today_starts_when_the_scope_says_in_its_time_zone() {
    let app = app().await;
    let target = path(&format!("ServiceLevels/{}", desk()));
    // Without a window the computed level is today's; by default since midnight UTC.
    let q: ServiceLevelStatistics = app.get_json(&path(&format!("TaskQueues/{}/ServiceLevel", desk()))).await;
    assert_eq!(q.start_time.to_rfc3339(), "2026-11-27T00:00:00+00:00");
    assert_eq!((q.numerator, q.denominator), (2, 7), "the same day's tasks");
    // A 06:00 shift in Paris: at 18:00Z (19:00 CET) today began at 05:00Z.
    let (status, body) = post(&app, &target, &[("DayStartsAt", "06:00"), ("TimeZone", "Europe/Paris")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["day"]["time_zone"], "Europe/Paris");
    assert_eq!(body["day_defined_by"], desk().as_str());
    assert_eq!(body["stored"], false, "the definition is still inherited");
    let q: ServiceLevelStatistics = app.get_json(&path(&format!("TaskQueues/{}/ServiceLevel", desk()))).await;
    assert_eq!(q.start_time.to_rfc3339(), "2026-11-27T05:00:00+00:00");
    // An explicit window wins.
    let q: ServiceLevelStatistics =
        app.get_json(&path(&format!("TaskQueues/{}/ServiceLevel?Minutes=60", desk()))).await;
    assert_eq!(q.start_time.to_rfc3339(), "2026-11-27T17:00:00+00:00");
    // Bad zones and times are refused and change nothing.
    for form in [vec![("TimeZone", "Mars/Olympus")], vec![("DayStartsAt", "6am")]] {
        let (status, body) = post(&app, &target, &form).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{form:?}: {body}");
    }
    let d: ServiceLevel = app.get_json(&target).await;
    assert_eq!(d.day.starts_at, "06:00");
    // Both empty: inherited again (midnight UTC).
    let (status, body) = post(&app, &target, &[("DayStartsAt", ""), ("TimeZone", "")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["day_defined_by"], "built_in");
}
