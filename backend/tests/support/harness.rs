//! The test harness shared by the API and end-to-end binaries (`#[path]` module): a real
//! server on a real port with a real SQLite directory, the account's credentials, a clock
//! the test controls, typed HTTP and WebSocket clients, and a graceful stop.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::oneshot;
use wallboard::Application;
use wallboard::access::{NewToken, Scope};
use wallboard::clock::ManualClock;
use wallboard::config::{Cli, ServeArgs};
use wallboard::signature;
use wallboard::source::simulated::DemoInfo;
use wallboard::storage::{SqliteTokens, TokenStore as _};
use wallboard_shared::TwilioError;
use wallboard_shared::ws::{ServerMessage, Snapshot};

/// Every await on the network in tests is bounded by this.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// Building (replaying, prefilling a simulated history) and stopping a server are bounded
/// by this; longer than [`TIMEOUT`] because a busy machine builds slowly.
const LIFECYCLE_TIMEOUT: Duration = Duration::from_secs(30);

pub const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
pub const AUTH_TOKEN: &str = "test-auth-token-0123456789";

/// The means to talk to a server at `base` (an in-process [`TestApp`] or a node child
/// process): typed REST, signed callbacks, WebSockets.
#[derive(Debug, Clone)]
pub struct Api {
    pub base: String,
    pub client: reqwest::Client,
}

impl Api {
    pub fn new(base: impl Into<String>) -> Self {
        Self { base: base.into(), client: reqwest::Client::builder().timeout(TIMEOUT).build().expect("client") }
    }
}

/// A running server and the means to talk to it (its [`Api`] through `Deref`).
pub struct TestApp {
    pub api: Api,
    pub clock: Arc<ManualClock>,
    pub data_dir: PathBuf,
    /// The admin token this start minted (what the printed dashboard link carries).
    pub admin_token: String,
    /// The simulated center's identity, when the simulator is the source.
    demo: Option<DemoInfo>,
    /// Events this start replayed from the log (only those after the engine's snapshot
    /// when it started from one).
    pub replayed: u64,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _dir: Option<tempfile::TempDir>,
}

/// Waits until `f` holds, looking every 20 ms, for at most [`TIMEOUT`].
pub async fn until(what: &str, mut f: impl FnMut() -> bool) {
    tokio::time::timeout(TIMEOUT, async {
        while !f() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("timed out waiting until {what}"));
}

/// The arguments of `wallboard serve` on `data_dir`: port 0, the test account, and scripted
/// events only (the simulator has its own tests; set `source` to use it).
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
        "--source",
        "events",
    ])
    .expect("valid arguments");
    cli.serve
}

/// A port free at the time of asking (for a server that must come back on the same port,
/// or an origin that must be known before the server starts).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// A server on a fresh data directory, its clock at `now_ms`.
pub async fn spawn_app(now_ms: i64) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut app = spawn_app_with(serve_args(dir.path()), Arc::new(ManualClock::new(now_ms))).await;
    app.keep_dir(dir);
    app
}

/// A server on the given arguments and clock (e.g. an existing data directory).
pub async fn spawn_app_with(args: ServeArgs, clock: Arc<ManualClock>) -> TestApp {
    let app = tokio::time::timeout(LIFECYCLE_TIMEOUT, Application::build(&args, clock.clone()))
        .await
        .expect("build in time")
        .expect("build");
    let base = app.public_url().to_owned();
    let admin_token = app.admin_token().to_owned();
    let demo = app.demo().cloned();
    let replayed = app.replayed();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    TestApp {
        admin_token,
        api: Api::new(base),
        clock,
        data_dir: args.data_dir.clone(),
        demo,
        replayed,
        stop: Some(stop),
        server: Some(server),
        _dir: None,
    }
}

/// Creates a token in the database of `data_dir`, as `wallboard token create` does (it
/// outlives restarts, unlike the admin token printed at startup). Returns (token, id).
pub fn create_token(data_dir: &Path, label: &str, scope: Scope, ttl_ms: Option<i64>, now_ms: i64) -> (String, String) {
    let mut store = SqliteTokens::open_dir(data_dir).expect("token store");
    let (plain, record) =
        store.create(&NewToken { label: label.into(), scope, ttl_ms }, now_ms).expect("create a token");
    (plain, record.id)
}

impl std::ops::Deref for TestApp {
    type Target = Api;
    fn deref(&self) -> &Api {
        &self.api
    }
}

impl Api {
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

    /// GET that must succeed, its body decoded into the wire type `T`.
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> T {
        let body = self.get_ok(path).await;
        decode(body, &format!("GET {path}"))
    }

    /// GET that must fail, its body decoded into Twilio's error.
    pub async fn get_error(&self, path: &str) -> (StatusCode, TwilioError) {
        let (status, body) = self.get(path).await;
        assert!(!status.is_success(), "GET {path} must fail: {body}");
        (status, decode(body, &format!("GET {path}")))
    }

    /// GET with a bearer token; returns status and JSON body.
    pub async fn get_bearer(&self, path: &str, token: &str) -> (StatusCode, Value) {
        let r = self.client.get(format!("{}{path}", self.base)).bearer_auth(token).send().await.expect("request");
        let status = r.status();
        (status, r.json().await.expect("JSON body"))
    }

    /// GET with a bearer token that must succeed, its body decoded into the wire type `T`.
    pub async fn get_bearer_json<T: DeserializeOwned>(&self, path: &str, token: &str) -> T {
        let (status, body) = self.get_bearer(path, token).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        decode(body, &format!("GET {path}"))
    }

    /// The public URL of the event-callback webhook.
    pub fn webhook_url(&self) -> String {
        format!("{}/webhooks/taskrouter", self.base)
    }

    /// POSTs an event callback signed with the account's token.
    pub async fn post_event(&self, pairs: &[(String, String)]) -> StatusCode {
        let sig = signature::compute(AUTH_TOKEN, &self.webhook_url(), pairs);
        self.post_event_signed(pairs, &sig).await
    }

    pub async fn post_event_signed(&self, pairs: &[(String, String)], sig: &str) -> StatusCode {
        self.client
            .post(self.webhook_url())
            .header("X-Twilio-Signature", sig)
            .form(pairs)
            .send()
            .await
            .expect("request")
            .status()
    }
}

impl TestApp {
    /// A token made as `wallboard token create` makes it, in this server's database.
    pub fn create_token(&self, label: &str, scope: Scope, ttl_ms: Option<i64>, now_ms: i64) -> (String, String) {
        create_token(&self.data_dir, label, scope, ttl_ms, now_ms)
    }

    /// Keeps `dir` (the data directory) alive as long as the app.
    pub fn keep_dir(&mut self, dir: tempfile::TempDir) {
        self._dir = Some(dir);
    }

    /// The simulated center's identity (the simulator must be the source).
    pub fn demo(&self) -> &DemoInfo {
        self.demo.as_ref().expect("the simulator is the source")
    }

    /// Graceful stop; returns once every acknowledged event is on disk. Hands back the
    /// data directory if the app kept it.
    pub async fn stop(mut self) -> Option<tempfile::TempDir> {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(h) = self.server.take() {
            tokio::time::timeout(LIFECYCLE_TIMEOUT, h)
                .await
                .expect("stops in time")
                .expect("join")
                .expect("clean stop");
        }
        self._dir.take()
    }
}

/// `body` as `T`, or a failure that shows the body.
pub fn decode<T: DeserializeOwned>(body: Value, what: &str) -> T {
    match serde_json::from_value(body.clone()) {
        Ok(v) => v,
        Err(e) => panic!("{what}: the body is not a {}: {e}: {body}", std::any::type_name::<T>()),
    }
}

/// The (id, code, message) of an error frame; anything else fails the test.
pub fn error_frame(frame: Option<ServerMessage>, what: &str) -> (Option<String>, u32, String) {
    match frame {
        Some(ServerMessage::Error { id, code, message }) => (id, code, message),
        other => panic!("{what}: expected an error frame, got {other:?}"),
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
#[derive(Debug)]
pub struct WsClient {
    pub stream: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
}

impl Api {
    pub fn ws_url(&self) -> String {
        format!("{}/ws", self.base.replacen("http://", "ws://", 1))
    }

    /// A WebSocket client authenticated with the account's Basic credentials.
    pub async fn ws(&self) -> WsClient {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = self.ws_url().into_client_request().expect("valid URL");
        request.headers_mut().insert("authorization", basic_auth().parse().expect("header value"));
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

/// The `Authorization` header value of the account's Basic credentials.
pub fn basic_auth() -> String {
    use base64::Engine as _;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT_SID}:{AUTH_TOKEN}")))
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

    /// The next text frame as JSON (pings are answered by the library and skipped); for
    /// tests of the frame's shape itself. Others use [`WsClient::recv_message`].
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

    /// The next frame, decoded as the protocol defines it.
    pub async fn recv_message(&mut self) -> ServerMessage {
        let v = self.recv().await;
        decode(v, "a server frame")
    }

    /// The next error frame's (id, code, message); any other frame fails the test.
    pub async fn recv_error(&mut self) -> (Option<String>, u32, String) {
        error_frame(Some(self.recv_message().await), "the next frame")
    }

    /// Reads until the pong that answers a ping sent now; returns the frames before it.
    /// (The server handles a connection's frames in order, so everything sent before has
    /// been handled once the pong arrives.)
    pub async fn sync(&mut self) -> Vec<ServerMessage> {
        self.send(&serde_json::json!({"type": "ping"})).await;
        let mut before = Vec::new();
        loop {
            match self.recv_message().await {
                ServerMessage::Pong => return before,
                other => before.push(other),
            }
        }
    }

    /// Reads until the server closes the connection; returns the last frame before the
    /// close and the close code.
    pub async fn until_closed(&mut self) -> (Option<ServerMessage>, Option<u16>) {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        let mut last = None;
        loop {
            match tokio::time::timeout(TIMEOUT, self.stream.next()).await.expect("closed in time") {
                Some(Ok(Message::Text(t))) => {
                    last = Some(decode(serde_json::from_str(&t).expect("JSON frame"), "a server frame"))
                }
                Some(Ok(Message::Close(c))) => return (last, c.map(|c| u16::from(c.code))),
                Some(Ok(_)) => {}
                None | Some(Err(_)) => return (last, None),
            }
        }
    }

    /// The next snapshot frame for `id` (other frames are skipped).
    pub async fn snapshot(&mut self, id: &str) -> Snapshot {
        loop {
            match self.recv_message().await {
                ServerMessage::Snapshot(s) if s.id == id => return *s,
                _ => {}
            }
        }
    }

    /// The first snapshot for `id` whose realtime `total_tasks` equals `total`.
    pub async fn snapshot_with_total(&mut self, id: &str, total: u64) -> Snapshot {
        loop {
            let s = self.snapshot(id).await;
            if s.realtime.as_workflow().expect("a workflow snapshot").stats.total_tasks == total {
                return s;
            }
        }
    }
}
