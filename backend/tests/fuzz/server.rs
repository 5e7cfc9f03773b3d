//! The same generators at the real server (`spawn_app`: port 0, a SQLite file, a manual
//! clock): signed near-valid callback forms are acknowledged or refused with a 400, unsigned
//! bodies are refused, random statistics query strings are answered or refused, never with
//! a 5xx; on one authenticated WebSocket every frame is answered with protocol frames
//! and the session lives on (a ping after each frame gets its pong).
//! (`backend/tests/api/paths.rs` does the same for request paths and methods.)

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use reqwest::StatusCode;
use wallboard_shared::ws::ServerMessage;

use super::callbacks::{near_valid_form, valid_form};
use super::helpers::{TestApp, spawn_app};
use super::query::NOW_MS;
use super::ws_frames::any_frame;
use super::{check, server_cases};

const WS: &str = "WS000000000000000000000000000000f1";
const WF: &str = "WW000000000000000000000000000000f1";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
}

/// A server that knows one workflow, queue and channel (so that lookups reach real resources).
async fn app() -> TestApp {
    let app = spawn_app(NOW_MS).await;
    let form: Vec<(String, String)> = [
        ("EventType", "task.created"),
        ("Sid", "EV000000000000000000000000000000f1"),
        ("WorkspaceSid", WS),
        ("TimestampMs", &(NOW_MS - 60_000).to_string()),
        ("TaskSid", "WT000000000000000000000000000000f1"),
        ("WorkflowSid", WF),
        ("TaskQueueSid", "WQ000000000000000000000000000000f1"),
        ("TaskChannelSid", "TC000000000000000000000000000000f1"),
        ("TaskChannelUniqueName", "voice"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    assert_eq!(app.post_event(&form).await, StatusCode::NO_CONTENT);
    app
}

#[test]
fn signed_forms_are_acknowledged_or_refused_never_5xx() {
    let rt = runtime();
    let app = rt.block_on(app());
    let forms = prop_oneof![
        3 => near_valid_form(),
        // Valid events, moved near "now" so that none is in the future.
        1 => valid_form().prop_map(|v| {
            let mut form: Vec<(String, String)> =
                v.form.into_iter().filter(|(k, _)| k != "Timestamp" && k != "TimestampMs").collect();
            form.push(("TimestampMs".to_owned(), (NOW_MS - 1000).to_string()));
            form
        }),
    ];
    check("server::signed_forms", server_cases(), forms, |form| {
        let status = rt.block_on(app.post_event(&form));
        prop_assert!(
            matches!(status, StatusCode::NO_CONTENT | StatusCode::BAD_REQUEST | StatusCode::PAYLOAD_TOO_LARGE),
            "{status} for {form:?}"
        );
        Ok(())
    });
    check("server::unsigned_bodies", server_cases(), proptest::collection::vec(any::<u8>(), 0..300), |body| {
        let status = rt.block_on(async {
            app.client
                .post(app.webhook_url())
                .header("X-Twilio-Signature", "bm90IGEgc2lnbmF0dXJl")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .map(|r| r.status())
        });
        let status = status.map_err(|e| TestCaseError::fail(format!("no answer: {e}")))?;
        prop_assert!(matches!(status, StatusCode::FORBIDDEN | StatusCode::BAD_REQUEST), "{status}");
        Ok(())
    });
    rt.block_on(app.stop());
}

#[test]
fn statistics_query_strings_are_answered_or_refused_never_5xx() {
    let rt = runtime();
    let app = rt.block_on(app());
    let paths: Vec<String> = [
        format!("Workflows/{WF}/Statistics"),
        format!("Workflows/{WF}/CumulativeStatistics"),
        format!("Workflows/{WF}/RealTimeStatistics"),
        "TaskQueues/WQ000000000000000000000000000000f1/Statistics".to_owned(),
        "TaskQueues/Statistics".to_owned(),
        "TaskQueues".to_owned(),
        "Workers/Statistics".to_owned(),
        "Workers/CumulativeStatistics".to_owned(),
        "Workers".to_owned(),
        "Activities".to_owned(),
        "Statistics".to_owned(),
        "Events".to_owned(),
    ]
    .iter()
    .map(|p| format!("/v1/Workspaces/{WS}/{p}"))
    .collect();
    let strategy = (proptest::sample::select(paths), super::query::query_string());
    check("server::statistics_query_strings", server_cases(), strategy, |(path, query)| {
        let (status, body) = rt.block_on(app.get(&format!("{path}?{query}")));
        prop_assert!(
            matches!(status, StatusCode::OK | StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND),
            "{status} for {path}?{query}: {body}"
        );
        if status != StatusCode::OK {
            // Twilio's error body.
            prop_assert!(body.get("code").is_some() && body.get("message").is_some(), "{body}");
        }
        Ok(())
    });
    rt.block_on(app.stop());
}

#[test]
fn every_client_frame_is_answered_and_the_session_lives() {
    let rt = runtime();
    let app = rt.block_on(app());
    let ws = std::cell::RefCell::new(rt.block_on(app.ws()));
    check("server::ws_frames", server_cases(), any_frame(), |text| {
        let mut ws = ws.borrow_mut();
        // `sync` decodes every frame before the pong as a protocol message, and fails if the
        // server closes the connection.
        let before = rt.block_on(async {
            ws.send_text(&text).await;
            ws.sync().await
        });
        for frame in before {
            if let ServerMessage::Error { code, message, .. } = frame {
                prop_assert!(code < 20_500 && !message.is_empty(), "{code} {message} for {text}");
            }
        }
        Ok(())
    });
    rt.block_on(app.stop());
}
