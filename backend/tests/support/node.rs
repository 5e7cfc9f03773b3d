//! A Wallboard node as a real child process (`#[path]` module): `wallboard serve` on a
//! fixed loopback port (so a restart comes back at the same address), its stdout read on a
//! thread of its own (the listening address and the dashboard link; the pipe never fills),
//! its stderr in a log file shown when a test fails. Talk to it through [`Node::api`]
//! (the harness's typed REST and WebSocket clients); `kill_9`, `terminate` and `restart`
//! drive its life.

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use super::helpers::{ACCOUNT_SID, AUTH_TOKEN, Api, free_port};

/// Starting (replaying the database) and stopping a node are bounded by this.
pub const NODE_TIMEOUT: Duration = Duration::from_secs(60);

/// How a node is started (kept for restarts).
#[derive(Debug, Clone)]
pub struct NodeSpec {
    pub name: String,
    /// `--database-url`; `None`: SQLite in the node's data directory.
    pub database_url: Option<String>,
    /// `--source`: `events` unless set.
    pub source: String,
    /// More arguments of `wallboard serve`.
    pub extra_args: Vec<String>,
    pub env: Vec<(String, String)>,
}

impl NodeSpec {
    /// A node named `name` on the database `url`, scripted events only.
    pub fn new(name: &str, url: &str) -> Self {
        Self {
            name: name.to_owned(),
            database_url: Some(url.to_owned()),
            source: "events".to_owned(),
            extra_args: Vec::new(),
            env: Vec::new(),
        }
    }

    pub fn source(mut self, source: &str) -> Self {
        self.source = source.to_owned();
        self
    }

    pub fn arg(mut self, arg: &str) -> Self {
        self.extra_args.push(arg.to_owned());
        self
    }
}

/// A running (or stopped) node.
#[derive(Debug)]
pub struct Node {
    pub spec: NodeSpec,
    pub port: u16,
    pub api: Api,
    /// The admin token of the link this start printed.
    pub admin_token: String,
    child: std::sync::Mutex<Option<Child>>,
    dir: tempfile::TempDir,
}

impl std::ops::Deref for Node {
    type Target = Api;
    fn deref(&self) -> &Api {
        &self.api
    }
}

impl Node {
    /// Starts a node on a free port and a data directory of its own; returns once it printed
    /// its address (not yet ready: see [`Node::wait_ready`]).
    pub async fn start(spec: NodeSpec) -> Self {
        let dir =
            tempfile::Builder::new().prefix(&format!("wallboard-node-{}.", spec.name)).tempdir().expect("tempdir");
        let port = free_port();
        let mut node = Self {
            spec,
            port,
            api: Api::new(format!("http://127.0.0.1:{port}")),
            admin_token: String::new(),
            child: std::sync::Mutex::new(None),
            dir,
        };
        node.spawn().await;
        node
    }

    /// Starts and waits until `/ready` answers 200.
    pub async fn start_ready(spec: NodeSpec) -> Self {
        let node = Self::start(spec).await;
        node.wait_ready(NODE_TIMEOUT).await;
        node
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.lock().expect("child").as_ref().map(Child::id)
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("node.log")
    }

    /// What the node wrote on stderr (every start, appended).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    async fn spawn(&mut self) {
        assert!(self.child.lock().expect("child").is_none(), "node {} is running", self.spec.name);
        let s = &self.spec;
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_wallboard"));
        cmd.arg("serve")
            .args(["--bind", &format!("127.0.0.1:{}", self.port)])
            .arg("--data-dir")
            .arg(self.dir.path().join("data"))
            .args(["--account-sid", ACCOUNT_SID, "--auth-token", AUTH_TOKEN])
            .args(["--source", &s.source, "--node-name", &s.name]);
        if let Some(url) = &s.database_url {
            cmd.args(["--database-url", url]);
        }
        cmd.args(&s.extra_args);
        for v in ["WALLBOARD_DATA_DIR", "WALLBOARD_PUBLIC_URL", "WALLBOARD_DATABASE_URL", "WALLBOARD_NODE_NAME"] {
            cmd.env_remove(v);
        }
        cmd.env("RUST_LOG", "info").envs(s.env.iter().map(|(k, v)| (k, v)));
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.log_path()).expect("log file");
        cmd.stdout(Stdio::piped()).stderr(log).stdin(Stdio::null());
        let mut child = cmd.spawn().expect("start wallboard");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = tokio::sync::oneshot::channel::<Option<(String, String)>>();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let (mut addr, mut token) = (None, None);
            while addr.is_none() || token.is_none() {
                let Some(Ok(line)) = lines.next() else {
                    let _ = tx.send(None);
                    return;
                };
                if let Some(a) = line.strip_prefix("Wallboard is listening on ") {
                    addr = Some(a.trim().to_owned());
                } else if let Some((_, t)) = line.split_once("#token=") {
                    token = Some(t.trim().to_owned());
                }
            }
            let _ = tx.send(addr.zip(token));
            // Keep draining stdout so the child never blocks on a full pipe.
            for _ in lines {}
        });
        *self.child.lock().expect("child") = Some(child);
        let printed = tokio::time::timeout(NODE_TIMEOUT, rx).await;
        let Ok(Ok(Some((addr, token)))) = printed else {
            panic!("node {} did not print its address and link:\n{}", self.spec.name, self.log())
        };
        assert_eq!(addr, format!("127.0.0.1:{}", self.port), "node {} listens where it was told", self.spec.name);
        self.admin_token = token;
    }

    /// `GET path` without credentials: (status, JSON body or Null).
    async fn get_plain(&self, path: &str) -> Option<(StatusCode, Value)> {
        let r = self.api.client.get(format!("{}{path}", self.api.base)).send().await.ok()?;
        let status = r.status();
        Some((status, r.json().await.unwrap_or(Value::Null)))
    }

    /// `GET /health` (it must answer 200 while the process lives).
    pub async fn health(&self) -> Value {
        let Some((status, body)) = self.get_plain("/health").await else {
            panic!("node {} does not answer /health:\n{}", self.spec.name, self.log())
        };
        assert_eq!(status, StatusCode::OK, "node {} /health: {body}", self.spec.name);
        body
    }

    /// The singleton roles the node holds now (`/health`'s `roles`).
    pub async fn roles(&self) -> Vec<String> {
        let h = self.health().await;
        let roles = h["roles"].as_array().unwrap_or_else(|| panic!("roles in /health: {h}"));
        roles.iter().map(|r| r.as_str().expect("a role name").to_owned()).collect()
    }

    /// Whether `/ready` answers 200 now.
    pub async fn is_ready(&self) -> bool {
        matches!(self.get_plain("/ready").await, Some((StatusCode::OK, _)))
    }

    /// Polls `/ready` until 200.
    pub async fn wait_ready(&self, timeout: Duration) {
        let start = Instant::now();
        while !self.is_ready().await {
            if let Some(status) = self.exited() {
                panic!("node {} exited ({status}) before it was ready:\n{}", self.spec.name, self.log());
            }
            assert!(start.elapsed() < timeout, "node {} not ready within {timeout:?}:\n{}", self.spec.name, self.log());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The child's exit status if it has exited.
    pub fn exited(&self) -> Option<std::process::ExitStatus> {
        self.child.lock().expect("child").as_mut().and_then(|c| c.try_wait().ok().flatten())
    }

    /// SIGKILL: the node dies at once, mid-request.
    pub fn kill_9(&mut self) {
        let mut child = self
            .child
            .lock()
            .expect("child")
            .take()
            .unwrap_or_else(|| panic!("node {} is not running", self.spec.name));
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
    }

    /// SIGTERM and wait for a clean exit (it finishes acknowledged work first).
    pub async fn terminate(&mut self) {
        let mut child = self
            .child
            .lock()
            .expect("child")
            .take()
            .unwrap_or_else(|| panic!("node {} is not running", self.spec.name));
        let out = Command::new("kill").args(["-TERM", &child.id().to_string()]).output().expect("kill -TERM");
        assert!(out.status.success(), "kill -TERM: {}", String::from_utf8_lossy(&out.stderr));
        let start = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                break status;
            }
            assert!(start.elapsed() < NODE_TIMEOUT, "node {} did not stop within {NODE_TIMEOUT:?}", self.spec.name);
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert!(status.success(), "node {} stopped with {status}:\n{}", self.spec.name, self.log());
    }

    /// Starts the node again: same arguments, port and data directory.
    pub async fn restart(&mut self) {
        self.spawn().await;
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.get_mut().ok().and_then(Option::take) {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            let log = self.log();
            let tail: Vec<&str> = log.lines().rev().take(60).collect();
            eprintln!("---- node {} (last lines of its log) ----", self.spec.name);
            for l in tail.iter().rev() {
                eprintln!("{l}");
            }
        }
    }
}
