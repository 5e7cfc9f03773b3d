//! The test harness: a real server on port 0 with a real SQLite file, a real HTTP client,
//! and a clock the test controls.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use reqwest::StatusCode;
use serde_json::Value;
use tokio::sync::oneshot;
use wallboard::Application;
use wallboard::clock::ManualClock;
use wallboard::config::{Cli, ServeArgs};
use wallboard::signature;

/// Every await on the network in tests is bounded by this.
pub const TIMEOUT: Duration = Duration::from_secs(20);

pub const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
pub const AUTH_TOKEN: &str = "test-auth-token-0123456789";

#[allow(dead_code)] // not every test reads every field
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub clock: Arc<ManualClock>,
    pub data_dir: PathBuf,
    /// The admin token this start minted (what the printed dashboard link carries).
    pub admin_token: String,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _dir: Option<tempfile::TempDir>,
}

pub fn serve_args(data_dir: &Path) -> ServeArgs {
    // Parsed like a real command line, so every default is the documented one.
    let cli = Cli::try_parse_from([
        "wallboard",
        "--bind",
        "127.0.0.1:0",
        "--data-dir",
        data_dir.to_str().expect("utf-8 path"),
        "--account-sid",
        ACCOUNT_SID,
        "--auth-token",
        AUTH_TOKEN,
        // Scripted events only; the simulator has its own tests.
        "--source",
        "events",
    ])
    .expect("valid arguments");
    cli.serve
}

/// A server on a fresh data directory, its clock at `now_ms`.
pub async fn spawn_app(now_ms: i64) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut app = spawn_app_with(serve_args(dir.path()), Arc::new(ManualClock::new(now_ms))).await;
    app._dir = Some(dir);
    app
}

/// A server on the given arguments and clock (e.g. an existing data directory).
pub async fn spawn_app_with(args: ServeArgs, clock: Arc<ManualClock>) -> TestApp {
    let app = tokio::time::timeout(TIMEOUT, Application::build(&args, clock.clone()))
        .await
        .expect("build in time")
        .expect("build");
    let base = app.public_url().to_owned();
    let admin_token = app.admin_token().to_owned();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    TestApp {
        admin_token,
        base,
        client: reqwest::Client::builder().timeout(TIMEOUT).build().expect("client"),
        clock,
        data_dir: args.data_dir.clone(),
        stop: Some(stop),
        server: Some(server),
        _dir: None,
    }
}

impl TestApp {
    /// GET with the account's Basic credentials; returns status and JSON body.
    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .basic_auth(ACCOUNT_SID, Some(AUTH_TOKEN))
            .send()
            .await
            .expect("request");
        let status = r.status();
        (status, r.json().await.expect("JSON body"))
    }

    /// GET that must succeed.
    pub async fn get_ok(&self, path: &str) -> Value {
        let (status, body) = self.get(path).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    /// POSTs an event callback signed with the account's token.
    pub async fn post_event(&self, pairs: &[(String, String)]) -> StatusCode {
        let url = format!("{}/webhooks/taskrouter", self.base);
        let sig = signature::compute(AUTH_TOKEN, &url, pairs);
        self.post_event_signed(pairs, &sig).await
    }

    pub async fn post_event_signed(&self, pairs: &[(String, String)], sig: &str) -> StatusCode {
        self.client
            .post(format!("{}/webhooks/taskrouter", self.base))
            .header("X-Twilio-Signature", sig)
            .form(pairs)
            .send()
            .await
            .expect("request")
            .status()
    }

    /// Keeps `dir` (the data directory) alive as long as the app.
    pub fn keep_dir(&mut self, dir: tempfile::TempDir) {
        self._dir = Some(dir);
    }

    /// Graceful stop; returns once every acknowledged event is on disk.
    pub async fn stop(mut self) -> Option<tempfile::TempDir> {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(h) = self.server.take() {
            tokio::time::timeout(TIMEOUT, h).await.expect("stops in time").expect("join").expect("clean stop");
        }
        self._dir.take()
    }
}

/// Builds the form of a TaskRouter event callback.
#[derive(Debug, Clone)]
pub struct Form(pub Vec<(String, String)>);

impl Form {
    pub fn new(event_type: &str, sid: u32, ts_ms: i64, workspace: &str) -> Self {
        Self(vec![
            ("EventType".into(), event_type.into()),
            ("Sid".into(), format!("EV{sid:032x}")),
            ("AccountSid".into(), ACCOUNT_SID.into()),
            ("WorkspaceSid".into(), workspace.into()),
            ("WorkspaceName".into(), "Demo Contact Center".into()),
            ("TimestampMs".into(), ts_ms.to_string()),
            ("Timestamp".into(), (ts_ms / 1000).to_string()),
            ("EventDescription".into(), format!("{event_type} event")),
        ])
    }

    pub fn with(mut self, key: &str, value: impl ToString) -> Self {
        self.0.retain(|(k, _)| k != key);
        self.0.push((key.into(), value.to_string()));
        self
    }

    pub fn without(mut self, key: &str) -> Self {
        self.0.retain(|(k, _)| k != key);
        self
    }
}

/// A WebSocket client of `/ws`.
pub struct WsClient {
    pub stream: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
}

impl TestApp {
    pub fn ws_url(&self) -> String {
        format!("{}/ws", self.base.replacen("http://", "ws://", 1))
    }

    /// A WebSocket client authenticated with the account's Basic credentials.
    pub async fn ws(&self) -> WsClient {
        use base64::Engine as _;
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = self.ws_url().into_client_request().expect("valid URL");
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT_SID}:{AUTH_TOKEN}"));
        request.headers_mut().insert("authorization", format!("Basic {basic}").parse().expect("header value"));
        self.ws_request(request).await
    }

    /// A WebSocket client without credentials that sends `{"type":"auth","token":…}` first,
    /// as the dashboard does.
    pub async fn ws_token(&self, token: &str) -> WsClient {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut ws = self.ws_request(self.ws_url().into_client_request().expect("valid URL")).await;
        ws.send(&serde_json::json!({"type": "auth", "token": token})).await;
        ws
    }

    /// A WebSocket client from a prepared handshake request.
    pub async fn ws_request(&self, request: tokio_tungstenite::tungstenite::handshake::client::Request) -> WsClient {
        let (stream, _) = tokio::time::timeout(TIMEOUT, tokio_tungstenite::connect_async(request))
            .await
            .expect("connect in time")
            .expect("connect");
        WsClient { stream }
    }
}

impl WsClient {
    pub async fn send(&mut self, v: &Value) {
        self.send_text(&v.to_string()).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        use futures_util::SinkExt;
        tokio::time::timeout(TIMEOUT, self.stream.send(tokio_tungstenite::tungstenite::Message::text(text)))
            .await
            .expect("send in time")
            .expect("send");
    }

    /// The next JSON text frame (pings are answered by the library and skipped).
    pub async fn recv(&mut self) -> Value {
        use futures_util::StreamExt;
        loop {
            let msg = tokio::time::timeout(TIMEOUT, self.stream.next())
                .await
                .expect("a frame in time")
                .expect("the connection is open")
                .expect("a valid frame");
            match msg {
                tokio_tungstenite::tungstenite::Message::Text(t) => {
                    return serde_json::from_str(&t).expect("JSON frame");
                }
                tokio_tungstenite::tungstenite::Message::Close(c) => panic!("closed by the server: {c:?}"),
                _ => continue,
            }
        }
    }

    /// Reads until the server closes the connection; returns the last JSON frame before
    /// the close and the close code.
    pub async fn until_closed(&mut self) -> (Option<Value>, Option<u16>) {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        let mut last = None;
        loop {
            match tokio::time::timeout(TIMEOUT, self.stream.next()).await.expect("closed in time") {
                Some(Ok(Message::Text(t))) => last = Some(serde_json::from_str(&t).expect("JSON frame")),
                Some(Ok(Message::Close(c))) => return (last, c.map(|c| u16::from(c.code))),
                Some(Ok(_)) => {}
                None | Some(Err(_)) => return (last, None),
            }
        }
    }

    /// The next snapshot frame for `id` (other frames are skipped).
    pub async fn snapshot(&mut self, id: &str) -> Value {
        loop {
            let v = self.recv().await;
            if v["type"] == "snapshot" && v["id"] == id {
                return v;
            }
        }
    }

    /// The first snapshot for `id` whose realtime `total_tasks` equals `total`.
    pub async fn snapshot_with_total(&mut self, id: &str, total: u64) -> Value {
        loop {
            let v = self.snapshot(id).await;
            if v["realtime"]["total_tasks"] == total {
                return v;
            }
        }
    }
}
