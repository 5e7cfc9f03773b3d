//! What the dashboard relies on: a public shell with guarded data, static files, the build
//! id, and the security headers.

use std::io::Write;
use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::json;
use wallboard::clock::ManualClock;
use wallboard_shared::TwilioError;
use wallboard_shared::resources::WorkflowRealTimeStatistics;

use super::helpers::{TestApp, serve_args, spawn_app_with};
use super::scenario::{self, NOW, SALES, WS, sales};

async fn app_with(assets: &std::path::Path, frame_ancestors: &[&str]) -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut args = serve_args(dir.path());
    args.assets_dir = assets.to_owned();
    args.frame_ancestors = frame_ancestors.iter().map(|s| (*s).to_owned()).collect();
    (spawn_app_with(args, Arc::new(ManualClock::new(NOW))).await, dir)
}

/// The page itself is public (it holds no data); every number needs credentials or a token.
#[tokio::test]
async fn the_dashboard_shell_is_public_and_its_data_is_not() {
    let assets = tempfile::tempdir().expect("tempdir");
    std::fs::write(assets.path().join("index.html"), b"<!doctype html><title>Wallboard</title>").expect("write");
    let (app, _dir) = app_with(assets.path(), &[]).await;
    scenario::load(&app).await;
    let r = app.client.get(format!("{}/", app.base)).send().await.expect("request");
    assert_eq!(r.status(), StatusCode::OK);
    let r = app.client.get(format!("{}{}", app.base, sales("RealTimeStatistics"))).send().await.expect("request");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // Writing still needs a signature.
    let r =
        app.client.post(format!("{}/webhooks/taskrouter", app.base)).form(&[("a", "b")]).send().await.expect("request");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The dashboard's way in: the token of the printed link in the WebSocket's first frame.
    let mut c = app.ws_token(&app.admin_token).await;
    c.send(&json!({"type": "subscribe", "id": "a", "workspace_sid": WS, "workflow_sid": SALES})).await;
    assert_eq!(
        c.snapshot("a").await.realtime,
        app.get_json::<WorkflowRealTimeStatistics>(&sales("RealTimeStatistics")).await.into()
    );
    app.stop().await;
}

/// `Date` is the server's clock (the one its numbers are computed at), also a manual one:
/// the dashboard measures its skew and ticks ages against it.
#[tokio::test]
async fn the_date_header_is_the_servers_clock() {
    let assets = tempfile::tempdir().expect("tempdir");
    std::fs::write(assets.path().join("index.html"), b"<!doctype html><title>Wallboard</title>").expect("write");
    let (app, _dir) = app_with(assets.path(), &[]).await;
    // NOW is 2026-11-27T18:00:00Z (scenario: D is that day's 08:00 UTC, NOW ten hours later).
    let date = |path: &'static str| {
        let app = &app;
        async move {
            let r = app.client.get(format!("{}{path}", app.base)).send().await.expect("request");
            r.headers()["date"].to_str().expect("ascii").to_owned()
        }
    };
    assert_eq!(date("/healthz").await, "Fri, 27 Nov 2026 18:00:00 GMT");
    assert_eq!(date("/v1/Workspaces").await, "Fri, 27 Nov 2026 18:00:00 GMT", "401 answers too");
    app.clock.advance(61_999);
    assert_eq!(date("/").await, "Fri, 27 Nov 2026 18:01:01 GMT", "whole seconds, truncated");
    app.stop().await;
}

/// Every response carries the security headers; `frame-ancestors` is the allowlist.
#[tokio::test]
async fn security_headers_on_every_response() {
    let assets = tempfile::tempdir().expect("tempdir");
    std::fs::write(assets.path().join("index.html"), b"<!doctype html><title>Wallboard</title>").expect("write");
    for (allow, ancestors, frame_options) in [
        (&[][..], "frame-ancestors 'none'", Some("DENY")),
        (
            &["http://127.0.0.1:9", "https://crm.example.com"][..],
            "frame-ancestors http://127.0.0.1:9 https://crm.example.com",
            None,
        ),
    ] {
        let (app, _dir) = app_with(assets.path(), allow).await;
        for path in ["/", "/index.html", "/build-id", "/v1/Workspaces", "/missing.js", "/healthz"] {
            let r = app.client.get(format!("{}{path}", app.base)).send().await.expect("request");
            let h = r.headers();
            let csp = h["content-security-policy"].to_str().expect("ascii");
            assert!(csp.starts_with("default-src 'none'; script-src 'self' 'wasm-unsafe-eval'"), "{path}: {csp}");
            assert!(csp.ends_with(ancestors), "{path}: {csp}");
            assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
            assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
            assert_eq!(h.get("x-frame-options").map(|v| v.to_str().expect("ascii")), frame_options, "{path}");
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn static_files_with_cache_headers_and_precompression() {
    let assets = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, body: &[u8]| std::fs::write(assets.path().join(name), body).expect("write");
    write("index.html", b"<!doctype html><title>Wallboard</title>");
    write("build-id.txt", b"abc123\n");
    let js = "console.log('wallboard');".repeat(50);
    write("wallboard-abc123.js", js.as_bytes());
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(js.as_bytes()).expect("gzip");
    write("wallboard-abc123.js.gz", &gz.finish().expect("gzip"));
    let (app, _dir) = app_with(assets.path(), &[]).await;

    let r = app.client.get(format!("{}/", app.base)).send().await.expect("request");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-cache");
    assert!(r.text().await.expect("body").contains("Wallboard"));

    let r = app
        .client
        .get(format!("{}/wallboard-abc123.js", app.base))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(r.headers()["content-encoding"], "gzip");
    let mut decoded = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&r.bytes().await.expect("body")[..]), &mut decoded)
        .expect("gunzip");
    assert_eq!(decoded, js);

    let r = app.client.get(format!("{}/build-id", app.base)).send().await.expect("request");
    assert_eq!(r.headers()["cache-control"], "no-cache");
    assert_eq!(r.text().await.expect("body"), "abc123");

    let r = app.client.get(format!("{}/missing.js", app.base)).send().await.expect("request");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let body: TwilioError = r.json().await.expect("Twilio error");
    assert_eq!(body.code, 20404);
    app.stop().await;
}

#[tokio::test]
async fn an_unbuilt_dashboard_says_how_to_build_it() {
    let assets = tempfile::tempdir().expect("tempdir");
    let (app, _dir) = app_with(&assets.path().join("nothing-here"), &[]).await;
    let r = app.client.get(format!("{}/", app.base)).send().await.expect("request");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.expect("body").contains("scripts/run.sh"));
    app.stop().await;
}
