//! Event callbacks: signatures, malformed events, duplicates.

use reqwest::StatusCode;
use wallboard_shared::TwilioError;
use wallboard_shared::resources::{WorkflowCumulativeStatistics, WorkflowRealTimeStatistics, WorkspacePage};

use super::helpers::{Form, decode, spawn_app};
use super::scenario::{NOW, SALES, WS, sales, task_sid};

fn created(sid: u32, task: u32, at: i64) -> Form {
    Form::new("task.created", sid, at, WS)
        .with("TaskSid", task_sid(task))
        .with("WorkflowSid", SALES)
        .with("WorkflowName", "Sales")
        .with("TaskChannelUniqueName", "voice")
}

async fn entered(app: &super::helpers::TestApp) -> Option<u64> {
    let (status, body) = app.get(&format!("{}?Minutes=60", sales("CumulativeStatistics"))).await;
    if status == StatusCode::NOT_FOUND {
        return None; // nothing stored yet: the workflow is unknown
    }
    Some(decode::<WorkflowCumulativeStatistics>(body, "CumulativeStatistics").stats.tasks_entered)
}

#[tokio::test]
async fn forged_signatures_are_refused_and_nothing_is_stored() {
    let app = spawn_app(NOW).await;
    let form = created(1, 1, NOW - 1_000);
    let url = format!("{}/webhooks/taskrouter", app.base);
    let other_token = wallboard::signature::compute("another-token", &url, &form.0);
    let other_url =
        wallboard::signature::compute(super::helpers::AUTH_TOKEN, "https://evil.example/webhooks/taskrouter", &form.0);
    let good = wallboard::signature::compute(super::helpers::AUTH_TOKEN, &url, &form.0);
    let tampered = form.clone().with("TaskPriority", "99");
    for (pairs, sig) in [
        (&form.0, other_token.as_str()),
        (&form.0, other_url.as_str()),
        (&form.0, ""),
        (&form.0, "garbage"),
        (&tampered.0, good.as_str()),
    ] {
        assert_eq!(app.post_event_signed(pairs, sig).await, StatusCode::FORBIDDEN);
    }
    // No header at all.
    let r = app.client.post(&url).form(&form.0).send().await.expect("request");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body: TwilioError = r.json().await.expect("json");
    assert_eq!(body.code, 20403);
    assert_eq!(entered(&app).await, None, "nothing stored");
    let list: WorkspacePage = app.get_json("/v1/Workspaces").await;
    assert_eq!(list.workspaces, []);

    assert_eq!(app.post_event_signed(&form.0, &good).await, StatusCode::NO_CONTENT);
    assert_eq!(entered(&app).await, Some(1));
    app.stop().await;
}

#[tokio::test]
async fn malformed_events_are_400_and_not_stored() {
    let app = spawn_app(NOW).await;
    for form in [
        created(1, 1, NOW).without("TaskSid"),
        created(2, 1, NOW).without("WorkflowSid"),
        created(3, 1, NOW).without("Sid"),
        created(4, 1, NOW).without("EventType"),
        created(5, 1, NOW).without("WorkspaceSid"),
        created(6, 1, NOW).without("TimestampMs").without("Timestamp"),
        created(7, 1, NOW).with("TimestampMs", "soon"),
        created(8, 1, NOW).with("TaskSid", "WT123"),
        created(9, 1, NOW).with("TaskPriority", "high"),
        created(10, 1, NOW + 3_600_000), // an hour in the future
        Form::new("reservation.accepted", 11, NOW, WS).with("TaskSid", task_sid(1)).with("WorkflowSid", SALES),
    ] {
        let status = app.post_event(&form.0).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{:?}", form.0);
    }
    // An empty body, correctly signed: a valid request but no event.
    let url = format!("{}/webhooks/taskrouter", app.base);
    let sig = wallboard::signature::compute(super::helpers::AUTH_TOKEN, &url, &[]);
    let r = app.client.post(&url).header("X-Twilio-Signature", sig).send().await.expect("request");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: TwilioError = r.json().await.expect("json");
    assert_eq!(body.code, 20001);
    // Oversized body.
    let big = "a".repeat(wallboard::api::MAX_BODY_BYTES + 1);
    let r =
        app.client.post(&url).header("X-Twilio-Signature", "x").form(&[("Big", big)]).send().await.expect("request");
    assert!(r.status() == StatusCode::PAYLOAD_TOO_LARGE || r.status() == StatusCode::FORBIDDEN, "{}", r.status());
    assert_eq!(entered(&app).await, None);
    let list: WorkspacePage = app.get_json("/v1/Workspaces").await;
    assert_eq!(list.workspaces, [], "nothing stored");
    app.stop().await;
}

#[tokio::test]
async fn the_same_event_twice_counts_once() {
    let app = spawn_app(NOW).await;
    let form = created(1, 1, NOW - 1_000);
    for _ in 0..3 {
        assert_eq!(app.post_event(&form.0).await, StatusCode::NO_CONTENT);
    }
    assert_eq!(entered(&app).await, Some(1));
    let rt: WorkflowRealTimeStatistics = app.get_json(&sales("RealTimeStatistics")).await;
    assert_eq!(rt.stats.total_tasks, 1);
    app.stop().await;
}

#[tokio::test]
async fn signature_covers_the_public_url_with_its_query() {
    let app = spawn_app(NOW).await;
    let form = created(1, 1, NOW - 1_000);
    let url = format!("{}/webhooks/taskrouter?source=twilio", app.base);
    let sig = wallboard::signature::compute(super::helpers::AUTH_TOKEN, &url, &form.0);
    let r = app.client.post(&url).header("X-Twilio-Signature", &sig).form(&form.0).send().await.expect("request");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // The same signature without the query string is someone else's.
    let plain = format!("{}/webhooks/taskrouter", app.base);
    let r = app.client.post(&plain).header("X-Twilio-Signature", &sig).form(&form.0).send().await.expect("request");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    app.stop().await;
}
