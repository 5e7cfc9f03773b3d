//! What the dashboard relies on: loopback viewers, static files, the build id.

use std::io::Write;
use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::json;
use wallboard::clock::ManualClock;

use super::helpers::{TestApp, serve_args, spawn_app_with};
use super::scenario::{self, NOW, SALES, WS, sales};

async fn app_with(assets: &std::path::Path, loopback_viewers: bool) -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut args = serve_args(dir.path());
    args.loopback_viewers = loopback_viewers;
    args.assets_dir = assets.to_owned();
    (spawn_app_with(args, Arc::new(ManualClock::new(NOW))).await, dir)
}

#[tokio::test]
async fn loopback_viewers_read_without_credentials_when_allowed() {
    let assets = tempfile::tempdir().expect("tempdir");
    let (app, _dir) = app_with(assets.path(), true).await;
    scenario::load(&app).await;
    let r = app.client.get(format!("{}{}", app.base, sales("RealTimeStatistics"))).send().await.expect("request");
    assert_eq!(r.status(), StatusCode::OK);
    let (mut ws, _) = tokio::time::timeout(super::helpers::TIMEOUT, tokio_tungstenite::connect_async(app.ws_url()))
        .await
        .expect("in time")
        .expect("anonymous loopback viewer");
    use futures_util::{SinkExt, StreamExt};
    let sub = json!({"type": "subscribe", "id": "a", "workspace_sid": WS, "workflow_sid": SALES});
    ws.send(tokio_tungstenite::tungstenite::Message::text(sub.to_string())).await.expect("send");
    let frame =
        tokio::time::timeout(super::helpers::TIMEOUT, ws.next()).await.expect("in time").expect("open").expect("frame");
    assert!(frame.to_text().expect("text").contains("\"snapshot\""));
    // Writing still needs a signature.
    let r =
        app.client.post(format!("{}/webhooks/taskrouter", app.base)).form(&[("a", "b")]).send().await.expect("request");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    app.stop().await;
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
    let (app, _dir) = app_with(assets.path(), true).await;

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
    let body: serde_json::Value = r.json().await.expect("Twilio error");
    assert_eq!(body["code"], 20404);
    app.stop().await;
}

#[tokio::test]
async fn an_unbuilt_dashboard_says_how_to_build_it() {
    let assets = tempfile::tempdir().expect("tempdir");
    let (app, _dir) = app_with(&assets.path().join("nothing-here"), true).await;
    let r = app.client.get(format!("{}/", app.base)).send().await.expect("request");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.expect("body").contains("scripts/run.sh"));
    app.stop().await;
}
