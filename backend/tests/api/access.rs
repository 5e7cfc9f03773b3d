//! Access: account credentials, viewer tokens (scope, expiry, revocation of live sockets),
//! the failed-attempt limit, and the `wallboard token` command.

use std::path::Path;
use std::process::Command;

use reqwest::StatusCode;
use serde_json::json;
use wallboard::access::Scope;
use wallboard::storage::{SqliteTokens, TokenStore as _};
use wallboard_shared::resources::{WorkflowPage, WorkflowRealTimeStatistics, WorkspacePage};
use wallboard_shared::{TwilioError, WorkflowSid, WorkspaceSid};

use std::sync::Arc;

use wallboard::clock::ManualClock;

use super::helpers::{Form, TestApp, decode, error_frame, serve_args, spawn_app, spawn_app_with};
use super::scenario::{self, NOW, SALES, SUPPORT, WS, sales, support, task_sid};

const OTHER_WS: &str = "WS00000000000000000000000000000002";
const OTHER_WF: &str = "WW000000000000000000000000000000b1";

/// The scripted day plus one task in a second workspace; `failures` failed attempts per
/// minute allowed from one address.
async fn app_with_two_workspaces(failures: u32) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut args = serve_args(dir.path());
    args.auth_failures_per_minute = failures;
    let mut app = spawn_app_with(args, Arc::new(ManualClock::new(NOW))).await;
    app.keep_dir(dir);
    scenario::load(&app).await;
    let other = Form::new("task.created", 90_001, NOW - 5_000, OTHER_WS)
        .with("WorkspaceName", "Other Center")
        .with("TaskSid", task_sid(90_001))
        .with("WorkflowSid", OTHER_WF)
        .with("WorkflowName", "Elsewhere")
        .with("TaskChannelUniqueName", "voice");
    assert_eq!(app.post_event(&other.0).await, StatusCode::NO_CONTENT);
    app
}

fn sales_only() -> Scope {
    Scope::Workspace {
        workspace: WorkspaceSid::parse(WS).expect("sid"),
        workflows: vec![WorkflowSid::parse(SALES).expect("sid")],
    }
}

fn workflow_sids(list: &WorkflowPage) -> Vec<String> {
    list.workflows.iter().map(|w| w.sid.to_string()).collect()
}

#[tokio::test]
async fn a_token_sees_its_scope_and_nothing_else() {
    let app = app_with_two_workspaces(10).await;
    let (token, _) = app.create_token("test", sales_only(), None, NOW);

    // Lists show only what the token may see.
    let list: WorkspacePage = app.get_bearer_json("/v1/Workspaces", &token).await;
    assert_eq!(list.workspaces.iter().map(|w| w.sid.to_string()).collect::<Vec<_>>(), [WS]);
    let list: WorkflowPage = app.get_bearer_json(&format!("/v1/Workspaces/{WS}/Workflows"), &token).await;
    assert_eq!(workflow_sids(&list), [SALES]);
    let all: WorkflowPage = app.get_json(&format!("/v1/Workspaces/{WS}/Workflows")).await;
    assert_eq!(workflow_sids(&all).len(), 2, "the account sees both");

    // Inside the scope: the same answers as the account credentials.
    for resource in ["Statistics", "RealTimeStatistics", "CumulativeStatistics"] {
        let (s, body) = app.get_bearer(&sales(resource), &token).await;
        assert_eq!(s, StatusCode::OK, "{resource}: {body}");
        assert_eq!(body, app.get_ok(&sales(resource)).await);
    }
    let (s, _) = app.get_bearer(&format!("/v1/Workspaces/{WS}/TaskChannels"), &token).await;
    assert_eq!(s, StatusCode::OK);

    // Outside: 403/20403, whether the resource exists or not.
    for path in [
        support("RealTimeStatistics"),
        format!("/v1/Workspaces/{WS}/Workflows/{SUPPORT}"),
        format!("/v1/Workspaces/{OTHER_WS}"),
        format!("/v1/Workspaces/{OTHER_WS}/Workflows/{OTHER_WF}/Statistics"),
        format!("/v1/Workspaces/{OTHER_WS}/TaskChannels"),
        "/v1/Workspaces/WS000000000000000000000000000000ff/Workflows".to_owned(),
    ] {
        let (s, body) = app.get_bearer(&path, &token).await;
        let body: TwilioError = decode(body, &path);
        assert_eq!((s, body.code), (StatusCode::FORBIDDEN, 20403), "{path}: {body}");
    }

    // The WebSocket: subscribe inside the scope works, outside gets 20403 and stays open.
    let mut c = app.ws_token(&token).await;
    c.send(&json!({"type": "subscribe", "id": "no", "workspace_sid": WS, "workflow_sid": SUPPORT})).await;
    let (id, code, _) = c.recv_error().await;
    assert_eq!((id.as_deref(), code), (Some("no"), 20403));
    c.send(&json!({"type": "subscribe", "id": "yes", "workspace_sid": WS, "workflow_sid": SALES})).await;
    assert_eq!(
        c.snapshot("yes").await.realtime,
        app.get_json::<WorkflowRealTimeStatistics>(&sales("RealTimeStatistics")).await.into()
    );
    app.stop().await;
}

#[tokio::test]
async fn no_endpoint_answers_without_valid_auth() {
    // Every refusal below counts as a failed attempt from 127.0.0.1.
    let app = app_with_two_workspaces(1000).await;
    let paths = [
        "/v1/Workspaces".to_owned(),
        format!("/v1/Workspaces/{WS}"),
        format!("/v1/Workspaces/{WS}/Workflows"),
        format!("/v1/Workspaces/{WS}/Workflows/{SALES}"),
        format!("/v1/Workspaces/{WS}/TaskChannels"),
        format!("/v1/Workspaces/{WS}/TaskChannels/{}", scenario::VOICE),
        sales("Statistics"),
        sales("RealTimeStatistics"),
        sales("CumulativeStatistics"),
        "/v1/Workspaces/WS000000000000000000000000000000ff".to_owned(),
    ];
    for path in &paths {
        let url = format!("{}{path}", app.base);
        for (how, request) in [
            ("no credentials", app.client.get(&url)),
            ("wrong password", app.client.get(&url).basic_auth(super::helpers::ACCOUNT_SID, Some("nope"))),
            ("unknown token", app.client.get(&url).bearer_auth("wbt_not-a-token")),
        ] {
            let r = request.send().await.expect("request");
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path} with {how}");
            let challenge = r.headers()["www-authenticate"].to_str().expect("ascii").to_owned();
            assert!(challenge.starts_with(if how == "unknown token" { "Bearer" } else { "Basic" }), "{challenge}");
            let body: TwilioError = r.json().await.expect("Twilio error");
            assert_eq!(body.code, 20003, "{path} with {how}: {body}");
            assert_eq!(body.status, 401);
        }
        // The admin token printed at startup opens everything.
        let (s, body) = app.get_bearer(path, &app.admin_token).await;
        let want = if path.ends_with("ff") { StatusCode::NOT_FOUND } else { StatusCode::OK };
        assert_eq!(s, want, "{path}: {body}");
    }

    // The WebSocket: any frame before `auth` gets 20003 and the connection closes (1008).
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    for first in [
        json!({"type": "subscribe", "id": "s", "workspace_sid": WS, "workflow_sid": SALES}).to_string(),
        json!({"type": "ping"}).to_string(),
        "not json".to_owned(),
        json!({"type": "auth", "token": "wbt_wrong"}).to_string(),
    ] {
        let mut c = app.ws_request(app.ws_url().into_client_request().expect("url")).await;
        c.send_text(&first).await;
        let (last, code) = c.until_closed().await;
        let (_, code_sent, _) = error_frame(last, &format!("before the close, after {first}"));
        assert_eq!(code_sent, 20003, "{first}");
        assert_eq!(code, Some(1008), "{first}");
    }
    // A wrong Basic header on the upgrade itself is refused before any WebSocket exists.
    let mut request = app.ws_url().into_client_request().expect("url");
    request.headers_mut().insert("authorization", "Basic bm86cGU=".parse().expect("header"));
    let err = tokio_tungstenite::connect_async(request).await.expect_err("refused");
    assert!(err.to_string().contains("401"), "{err}");
    app.stop().await;
}

#[tokio::test]
async fn expired_tokens_are_refused_and_live_sockets_closed() {
    let app = spawn_app(NOW).await;
    scenario::load(&app).await;
    let (token, _) = app.create_token("test", sales_only(), Some(60_000), NOW);
    assert_eq!(app.get_bearer(&sales("RealTimeStatistics"), &token).await.0, StatusCode::OK);
    let mut c = app.ws_token(&token).await;
    c.send(&json!({"type": "subscribe", "id": "s", "workspace_sid": WS, "workflow_sid": SALES})).await;
    c.snapshot("s").await;

    app.clock.advance(60_000);
    let (last, code) = c.until_closed().await;
    assert_eq!(error_frame(last, "before the close").1, 20003);
    assert_eq!(code, Some(1008));
    let (s, body) = app.get_bearer(&sales("RealTimeStatistics"), &token).await;
    let body: TwilioError = decode(body, "a refused token");
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(body.message.contains("expired"), "{body}");
    app.stop().await;
}

#[tokio::test]
async fn revoking_a_token_from_another_process_closes_its_sockets_at_once() {
    let app = spawn_app(NOW).await;
    scenario::load(&app).await;
    let (token, id) = app.create_token("test", sales_only(), None, NOW);
    let (keep, _) = app.create_token("test", sales_only(), None, NOW);
    let mut doomed = app.ws_token(&token).await;
    let mut kept = app.ws_token(&keep).await;
    for c in [&mut doomed, &mut kept] {
        c.send(&json!({"type": "subscribe", "id": "s", "workspace_sid": WS, "workflow_sid": SALES})).await;
        c.snapshot("s").await;
    }

    // The CLI's path: its own connection to the database file.
    let revoked_at = std::time::Instant::now();
    assert!(SqliteTokens::open_dir(&app.data_dir).expect("store").revoke(&id, NOW).expect("revoke"));
    let (last, code) = doomed.until_closed().await;
    println!("revoked socket closed after {:?}", revoked_at.elapsed());
    let (_, last_code, message) = error_frame(last, "before the close");
    assert_eq!(last_code, 20003);
    assert!(message.contains("revoked"), "{message}");
    assert_eq!(code, Some(1008));
    let (s, body) = app.get_bearer(&sales("RealTimeStatistics"), &token).await;
    let body: TwilioError = decode(body, "a refused token");
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(body.message.contains("revoked"), "{body}");

    // Other tokens' sockets are untouched.
    kept.sync().await;
    app.stop().await;
}

#[tokio::test]
async fn failed_attempts_are_limited_per_address() {
    let app = spawn_app(NOW).await;
    scenario::load(&app).await;
    let url = format!("{}{}", app.base, sales("RealTimeStatistics"));
    for _ in 0..10 {
        let r = app.client.get(&url).bearer_auth("wbt_guess").send().await.expect("request");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    // Blocked now: even the right credentials get 429 with Retry-After, REST and WebSocket.
    let r = app.client.get(&url).bearer_auth(&app.admin_token).send().await.expect("request");
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = r.headers()["retry-after"].to_str().expect("ascii").parse().expect("seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    let body: TwilioError = r.json().await.expect("Twilio error");
    assert_eq!((body.code, body.status), (20429, 429));
    let mut c = app.ws_token(&app.admin_token).await;
    let (last, code) = c.until_closed().await;
    assert_eq!(error_frame(last, "before the close").1, 20429);
    assert_eq!(code, Some(1008));

    // A minute later (by the server's clock) the address may try again.
    app.clock.advance(60_000);
    let r = app.client.get(&url).bearer_auth(&app.admin_token).send().await.expect("request");
    assert_eq!(r.status(), StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn a_restart_replaces_the_printed_admin_token() {
    let app = spawn_app(NOW).await;
    let old = app.admin_token.clone();
    let dir = app.stop().await.expect("the data directory");
    let app = spawn_app_with(serve_args(dir.path()), Arc::new(ManualClock::new(NOW))).await;
    assert_ne!(app.admin_token, old);
    assert_eq!(app.get_bearer("/v1/Workspaces", &old).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(app.get_bearer("/v1/Workspaces", &app.admin_token).await.0, StatusCode::OK);
    app.stop().await;
}

fn wallboard(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_wallboard"))
        .arg("token")
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env_remove("WALLBOARD_DATA_DIR")
        .env_remove("WALLBOARD_PUBLIC_URL")
        .output()
        .expect("run wallboard")
}

#[tokio::test]
async fn the_token_command_creates_lists_and_revokes() {
    let app = spawn_app(NOW).await;
    scenario::load(&app).await;
    let out = wallboard(
        &app.data_dir,
        &["create", "--workspace", WS, "--workflow", SALES, "--ttl", "30d", "--label", "lobby TV"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    let token = stdout.trim_end_matches('\n');
    assert!(token.starts_with("wbt_") && !token.contains(char::is_whitespace), "stdout is the token alone: {stdout:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("#token={token}")), "a dashboard link on stderr: {stderr}");
    // The running server accepts it at once (it rereads the store on an unknown token).
    assert_eq!(app.get_bearer(&sales("RealTimeStatistics"), token).await.0, StatusCode::OK);

    let list = wallboard(&app.data_dir, &["list"]);
    assert!(list.status.success());
    let listing = String::from_utf8(list.stdout).expect("utf-8");
    let line = listing.lines().find(|l| l.contains("lobby TV")).expect("listed");
    assert!(line.contains("active") && line.contains(SALES), "{line}");
    assert!(!listing.contains(token), "the list never shows secrets");
    let id = line.split_whitespace().next().expect("id").to_owned();

    let revoke = wallboard(&app.data_dir, &["revoke", &id]);
    assert!(revoke.status.success(), "{}", String::from_utf8_lossy(&revoke.stderr));
    let refused = async {
        loop {
            if app.get_bearer(&sales("RealTimeStatistics"), token).await.0 == StatusCode::UNAUTHORIZED {
                return;
            }
        }
    };
    tokio::time::timeout(super::helpers::TIMEOUT, refused).await.expect("refused after the revoke");
    let all = String::from_utf8(wallboard(&app.data_dir, &["list", "--all"]).stdout).expect("utf-8");
    assert!(all.lines().any(|l| l.starts_with(&id) && l.contains("revoked")), "{all}");
    let unknown = wallboard(&app.data_dir, &["revoke", "TK0000"]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no token with id"));
    let bad = wallboard(&app.data_dir, &["create", "--workspace", "not-a-sid"]);
    assert!(!bad.status.success());
    app.stop().await;
}

/// Behind trusted reverse proxies the limit applies per client (X-Forwarded-For); from
/// anyone else the header is ignored, so it cannot be used to dodge the limit.
#[tokio::test]
async fn the_failed_attempt_limit_sees_through_trusted_proxies_only() {
    for trusted in [true, false] {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut args = serve_args(dir.path());
        if trusted {
            // The peer (127.0.0.1) and a proxy in front of it (10.9.9.9).
            args.trusted_proxies = vec!["127.0.0.1".parse().expect("ip"), "10.9.9.9".parse().expect("ip")];
        }
        let app = spawn_app_with(args, Arc::new(ManualClock::new(NOW))).await;
        let url = format!("{}/v1/Workspaces", app.base);
        let from = |client: &str, token: &str| {
            app.client.get(&url).header("x-forwarded-for", format!("{client}, 10.9.9.9")).bearer_auth(token)
        };
        for _ in 0..10 {
            let r = from("203.0.113.5", "wbt_guess").send().await.expect("request");
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        }
        let r = from("203.0.113.5", &app.admin_token).send().await.expect("request");
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "trusted: {trusted}");
        let other = from("198.51.100.7", &app.admin_token).send().await.expect("request").status();
        let want = if trusted { StatusCode::OK } else { StatusCode::TOO_MANY_REQUESTS };
        assert_eq!(other, want, "another client, trusted proxies: {trusted}");
        app.stop().await;
    }
}
