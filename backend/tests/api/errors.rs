//! Every rejection answers in Twilio's error format and changes nothing.

use reqwest::StatusCode;
use serde_json::Value;
use wallboard_shared::TwilioError;

use super::helpers::{ACCOUNT_SID, decode, spawn_app};
use super::scenario::{self, NOW, SALES, SUPPORT, WS, sales};

/// `body` is Twilio's error with `status` and `code`, and nothing else (the raw keys are
/// counted: decoding alone would ignore extra ones).
fn assert_twilio_error(body: &Value, status: u16, code: u32) {
    let keys: Vec<&String> = body.as_object().expect("object").keys().collect();
    assert_eq!(keys.len(), 4, "only Twilio's keys: {body}");
    let e: TwilioError = decode(body.clone(), "an error body");
    assert_eq!(e.status, status, "{body}");
    assert_eq!(e.code, code, "{body}");
    assert_eq!(e.more_info, format!("https://www.twilio.com/docs/errors/{code}"));
    assert!(!e.message.is_empty());
}

#[tokio::test]
async fn malformed_parameters_are_400_20001() {
    let app = spawn_app(NOW).await;
    scenario::load(&app).await;
    for q in [
        "Minutes=0",
        "Minutes=43201",
        "Minutes=abc",
        "Minutes=1.5",
        "Minutes=-5",
        "Minutes=",
        "Minutes=5&StartDate=2026-11-27",
        "Minutes=5&EndDate=2026-11-27",
        "StartDate=2026-11-27T10:00:00Z&EndDate=2026-11-27T09:00:00Z",
        "StartDate=2026-10-01",
        "StartDate=2026-11-28T00:00:00Z",
        "StartDate=yesterday",
        "EndDate=2026-02-30",
        "SplitByWaitTime=-1",
        "SplitByWaitTime=1.5",
        "SplitByWaitTime=5,,6",
        "SplitByWaitTime=",
        "SplitByWaitTime=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20",
        "TaskChannel=fax",
        "TaskChannel=TC00000000000000000000000000000999",
        "Minutes=5&Minutes=6",
    ] {
        for resource in ["CumulativeStatistics", "Statistics"] {
            let (status, body) = app.get(&format!("{}?{q}", sales(resource))).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{resource}?{q}: {body}");
            assert_twilio_error(&body, 400, 20001);
        }
    }
    let (status, body) = app.get(&format!("{}?TaskChannel=fax", sales("RealTimeStatistics"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_twilio_error(&body, 400, 20001);
    let (status, body) = app.get(&format!("/v1/Workspaces/{WS}/Workflows?PageSize=0")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_twilio_error(&body, 400, 20001);
    app.stop().await;
}

#[tokio::test]
async fn unknown_or_malformed_sids_are_404_20404() {
    let app = spawn_app(NOW).await;
    scenario::load(&app).await;
    let other_ws = "WS00000000000000000000000000000999";
    let other_wf = "WW00000000000000000000000000000999";
    for path in [
        format!("/v1/Workspaces/{other_ws}"),
        format!("/v1/Workspaces/{other_ws}/Workflows"),
        format!("/v1/Workspaces/{other_ws}/TaskChannels"),
        format!("/v1/Workspaces/{WS}/Workflows/{other_wf}"),
        format!("/v1/Workspaces/{WS}/Workflows/{other_wf}/Statistics"),
        format!("/v1/Workspaces/{WS}/Workflows/{other_wf}/RealTimeStatistics"),
        format!("/v1/Workspaces/{WS}/Workflows/{other_wf}/CumulativeStatistics"),
        format!("/v1/Workspaces/{other_ws}/Workflows/{SALES}/Statistics"),
        format!("/v1/Workspaces/{WS}/Workflows/not-a-sid/Statistics"),
        format!("/v1/Workspaces/{WS}/TaskChannels/TC00000000000000000000000000000999"),
        "/v1/Nothing".to_owned(),
        "/nothing".to_owned(),
    ] {
        let (status, body) = app.get(&path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert_twilio_error(&body, 404, 20404);
    }
    // A workflow is only found under its own workspace.
    assert_eq!(app.get(&format!("/v1/Workspaces/{WS}/Workflows/{SUPPORT}")).await.0, StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn every_api_route_needs_the_account_credentials() {
    // 21 failed attempts from one address: above the default limit (tested in access.rs).
    let dir = tempfile::tempdir().expect("tempdir");
    let mut args = super::helpers::serve_args(dir.path());
    args.auth_failures_per_minute = 1000;
    let app = super::helpers::spawn_app_with(args, std::sync::Arc::new(wallboard::clock::ManualClock::new(NOW))).await;
    scenario::load(&app).await;
    for path in [
        "/v1/Workspaces".to_owned(),
        format!("/v1/Workspaces/{WS}"),
        format!("/v1/Workspaces/{WS}/Workflows"),
        format!("/v1/Workspaces/{WS}/TaskChannels"),
        sales("Statistics"),
        sales("RealTimeStatistics"),
        sales("CumulativeStatistics"),
    ] {
        let url = format!("{}{path}", app.base);
        for request in [
            app.client.get(&url),
            app.client.get(&url).basic_auth(ACCOUNT_SID, Some("wrong-token")),
            app.client.get(&url).basic_auth("AC00000000000000000000000000000000", Some(super::helpers::AUTH_TOKEN)),
            app.client.get(&url).header("Authorization", "Basic !!!"),
        ] {
            let r = request.send().await.expect("request");
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path}");
            assert!(r.headers().contains_key("www-authenticate"));
            let body: Value = r.json().await.expect("json");
            assert_twilio_error(&body, 401, 20003);
        }
    }
    app.stop().await;
}
