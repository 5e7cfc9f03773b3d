//! The command line (docs/design.md, "Command line"): every option documented and settable by
//! a `WALLBOARD_…` environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(name = "wallboard", version, about = "Live statistics wall for Twilio TaskRouter contact centers")]
#[command(long_about = "Wallboard implements TaskRouter's Workflow Statistics API from TaskRouter events \
(signed event callbacks, imports), stores them in SQLite and serves Twilio-compatible statistics.\n\n\
Without a subcommand it runs the server (`wallboard serve`).")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeArgs,
    /// Log lines (on stderr) as human-readable text, or as one JSON object per line for a
    /// log collector. Every command takes it.
    #[arg(long, env = "WALLBOARD_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default command).
    Serve(Box<ServeArgs>),
    /// Load events from NDJSON in the format of TaskRouter's Events API ("-" reads stdin).
    ///
    /// Each line is one event object: `sid`, `event_type`, `event_date_ms` (or `event_date`),
    /// `workspace_sid` and `event_data` with snake_case fields. Events already stored are
    /// skipped, so an import can be re-run safely. A server running on the same
    /// --data-dir applies the imported events within a second. Exit status 0 when every line was stored or skipped as a
    /// duplicate, 3 when some lines were rejected (they are listed with their numbers).
    Import(ImportArgs),
    /// Drive another Wallboard's signed event callbacks with the built-in contact center,
    /// or write simulated history as NDJSON (the import format).
    Simulate(SimulateArgs),
    /// Measure WebSocket fan-out: start a server, connect N clients, post events, report
    /// event-to-client latency, snapshots/s and server memory per idle client.
    Loadtest(LoadtestArgs),
    /// Read TaskRouter's Events resource (Twilio's, or another Wallboard's) into the local
    /// event log, day by day over the last N days, so the local engine starts with history.
    ///
    /// A server running on the same --data-dir applies the events within a second.
    /// Re-running stores nothing twice.
    Backfill(BackfillArgs),
    /// Viewer tokens for dashboards, TVs and embeds: create, list, revoke.
    ///
    /// Tokens are stored hashed in the database of --data-dir and scoped to one workspace
    /// (optionally some of its workflows). A running server picks up changes within a
    /// second; revoking a token closes the dashboards using it at once.
    Token(TokenArgs),
    /// A small TCP load balancer for trying several nodes on one machine: round-robin over
    /// the nodes whose `/ready` answered 200 at the last check (WebSockets pass through).
    /// In production use your load balancer, with `/ready` as its health check.
    Balance(BalanceArgs),
}

#[derive(Debug, Clone, Args)]
pub struct BalanceArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// A node (`host:port` of a `wallboard serve`); repeat for each.
    #[arg(long = "backend", required = true)]
    pub backends: Vec<SocketAddr>,
    /// How often each node's `/ready` is asked, in milliseconds.
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(50..=60_000))]
    pub check_interval_ms: u64,
}

#[derive(Debug, Clone, Args)]
pub struct BackfillArgs {
    /// Base URL of the TaskRouter API to read: Twilio's, or another Wallboard's public URL.
    #[arg(long, env = "WALLBOARD_UPSTREAM_BASE", default_value = "https://taskrouter.twilio.com")]
    pub upstream_base: String,
    /// Account SID (HTTP Basic user); an API key SID (SK…) works too.
    #[arg(long, env = "TWILIO_ACCOUNT_SID")]
    pub account_sid: String,
    /// Auth token (HTTP Basic password), or the API key's secret.
    #[arg(long, env = "TWILIO_AUTH_TOKEN", hide_env_values = true)]
    pub auth_token: String,
    /// Workspace to read (WS…); repeat for several. Default: every workspace listed.
    #[arg(long = "workspace")]
    pub workspaces: Vec<String>,
    /// Days back from now (TaskRouter keeps 30).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=30))]
    pub days: u32,
    /// Directory of the SQLite database (created if missing).
    #[arg(long, env = "WALLBOARD_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// The shared PostgreSQL database instead (the servers' --database-url).
    #[arg(long, env = "WALLBOARD_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// No progress bar (it is also hidden when stderr is not a terminal).
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// Directory of the SQLite database (the server's --data-dir).
    #[arg(long, env = "WALLBOARD_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,
    /// The shared PostgreSQL database instead (the servers' --database-url).
    #[arg(long, env = "WALLBOARD_DATABASE_URL", hide_env_values = true, global = true)]
    pub database_url: Option<String>,
    #[command(subcommand)]
    pub command: TokenCommand,
}

#[derive(Debug, Clone, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it alone on stdout (a dashboard link goes to stderr).
    Create(TokenCreateArgs),
    /// List tokens (active ones; --all adds revoked and expired).
    List {
        /// Also list revoked and expired tokens.
        #[arg(long)]
        all: bool,
    },
    /// Revoke a token by its id (TK…, from `token list`); live dashboards using it close.
    Revoke {
        /// The token's id.
        id: String,
    },
}

#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("scope").required(true).args(["workspace", "admin"])))]
pub struct TokenCreateArgs {
    /// Workspace SID (WS…) the token may see.
    #[arg(long)]
    pub workspace: Option<String>,
    /// Limit the token to this workflow (WW…) of the workspace; repeat for several.
    #[arg(long = "workflow", requires = "workspace")]
    pub workflows: Vec<String>,
    /// An admin token: everything, like the account credentials.
    #[arg(long)]
    pub admin: bool,
    /// Lifetime, e.g. 12h, 30d, 1y; "never" for no expiry.
    #[arg(long, default_value = "30d", value_parser = parse_ttl)]
    pub ttl: Ttl,
    /// What the token is for (shown by `token list`), e.g. "lobby TV".
    #[arg(long, default_value = "")]
    pub label: String,
    /// Base URL of the server, for the dashboard link printed on stderr.
    #[arg(long, env = "WALLBOARD_PUBLIC_URL", default_value = "http://127.0.0.1:8080")]
    pub public_url: String,
}

/// A token lifetime; None: it never expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ttl(pub Option<std::time::Duration>);

fn parse_ttl(raw: &str) -> Result<Ttl, String> {
    if raw.eq_ignore_ascii_case("never") {
        return Ok(Ttl(None));
    }
    let d = humantime::parse_duration(raw).map_err(|e| format!("{e} (e.g. 12h, 30d, never)"))?;
    if d.as_secs() < 60 {
        return Err("a token must live at least 1 minute".into());
    }
    Ok(Ttl(Some(d)))
}

#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["to", "out"])))]
pub struct SimulateArgs {
    /// Base URL of the Wallboard to drive (its --public-url), e.g. http://127.0.0.1:8080.
    #[arg(long)]
    pub to: Option<String>,
    /// Auth token of that Wallboard (signs the callbacks).
    #[arg(long, env = "WALLBOARD_AUTH_TOKEN", hide_env_values = true, requires = "to")]
    pub auth_token: Option<String>,
    /// Events per second to send (default: the simulated center's real-time pace).
    #[arg(long, requires = "to")]
    pub rate: Option<f64>,
    /// How long to send, e.g. 30s, 5m, 1h.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration, requires = "to")]
    pub duration: std::time::Duration,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 32, requires = "to")]
    pub concurrency: usize,

    /// With --to: the door to send through: `callbacks` (TaskRouter's signed form
    /// callbacks, /webhooks/taskrouter) or `eventstreams` (Twilio Event Streams' signed JSON
    /// batches of CloudEvents, /webhooks/eventstreams).
    #[arg(long, value_enum, default_value_t = crate::ingest::simulator::drive::Format::Callbacks, requires = "to")]
    pub format: crate::ingest::simulator::drive::Format,

    /// With --format eventstreams: CloudEvents per batch at most (one connection sends
    /// what its queue holds, up to this many, per request).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000), requires = "to")]
    pub batch_size: u32,
    /// With --to: the server's process id on this machine; its CPU time (`/proc/PID/stat`)
    /// is read before and after the run and reported per accepted event.
    #[arg(long, requires = "to")]
    pub server_pid: Option<u32>,
    /// Write NDJSON history to this file ("-" for stdout) instead of sending.
    #[arg(long)]
    pub out: Option<String>,
    /// Days of history to write, ending now.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=3650), requires = "out")]
    pub days: u32,
    /// Account SID written into the events.
    #[arg(long, default_value = "AC00000000000000000000000000000000", requires = "out")]
    pub account_sid: String,
    /// Simulator seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Simulator configuration (TOML). Default: built in.
    #[arg(long, env = "WALLBOARD_SIM_CONFIG")]
    pub sim_config: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct LoadtestArgs {
    /// WebSocket clients to connect.
    #[arg(long, default_value_t = 1000)]
    pub clients: usize,
    /// Events to post, one at a time.
    #[arg(long, default_value_t = 20)]
    pub events: usize,
    /// Milliseconds between events (longer than the coalescing interval).
    #[arg(long, default_value_t = 300)]
    pub gap_ms: u64,
    /// Clients connecting at once.
    #[arg(long, default_value_t = 200)]
    pub connect_concurrency: usize,
    /// Server binary to start (default: this executable).
    #[arg(long)]
    pub server_bin: Option<PathBuf>,
    /// Print the report as one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Where statistics come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Source {
    /// The local engine fed by the built-in contact center (and callbacks and imports).
    Simulator,
    /// The local engine, fed by TaskRouter event callbacks and imports only.
    Events,
    /// Mirror a TaskRouter account (or another Wallboard) by polling its statistics:
    /// --upstream-base with --twilio-account-sid/--twilio-auth-token (or an API key).
    Twilio,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "WALLBOARD_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// Directory of the SQLite database (created if missing), and of the engine's snapshot
    /// (with --database-url too).
    #[arg(long, env = "WALLBOARD_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// A PostgreSQL database shared by several nodes (postgres://user:password@host/db);
    /// default: SQLite in --data-dir (one node).
    #[arg(long, env = "WALLBOARD_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// This node's name in logs, `/health` and the label of its startup link. Default:
    /// the host name and the port.
    #[arg(long, env = "WALLBOARD_NODE_NAME")]
    pub node_name: Option<String>,

    /// Base of every absolute URL we emit and of webhook signatures, as clients and
    /// Twilio reach this server (e.g. https://wallboard.example.com). Default: http://<bind>.
    #[arg(long, env = "WALLBOARD_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Account SID of our Twilio-compatible API (HTTP Basic user name). Generated, stored
    /// and printed on first start when not given.
    #[arg(long, env = "WALLBOARD_ACCOUNT_SID")]
    pub account_sid: Option<String>,

    /// Auth token: HTTP Basic password of the API and key of event-callback signatures.
    /// Generated, stored and printed on first start when not given.
    #[arg(long, env = "WALLBOARD_AUTH_TOKEN", hide_env_values = true)]
    pub auth_token: Option<String>,

    /// Where statistics come from.
    #[arg(long, env = "WALLBOARD_SOURCE", value_enum, default_value_t = Source::Simulator)]
    pub source: Source,

    /// Simulator configuration (TOML; see simulator.toml in the repository). Default: built in.
    #[arg(long, env = "WALLBOARD_SIM_CONFIG")]
    pub sim_config: Option<PathBuf>,

    /// Simulator seed. Default: random on first start, then stored.
    #[arg(long, env = "WALLBOARD_SIM_SEED")]
    pub sim_seed: Option<u64>,

    /// Hours of history the simulator pre-fills on first start (at most the retention).
    #[arg(long, env = "WALLBOARD_SIM_HISTORY_HOURS", default_value_t = 24, value_parser = clap::value_parser!(u32).range(0..=87_600))]
    pub sim_history_hours: u32,

    /// Speed of simulated time (and of the server's clock) relative to real time.
    #[arg(long, env = "WALLBOARD_SIM_SPEED", default_value_t = 1.0)]
    pub sim_speed: f64,

    /// Days of events and cumulative statistics to keep.
    #[arg(long, env = "WALLBOARD_RETENTION_DAYS", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub retention_days: u32,

    /// With --source twilio: base URL of the TaskRouter API to mirror (Twilio's, or another
    /// Wallboard's public URL).
    #[arg(long, env = "WALLBOARD_UPSTREAM_BASE", default_value = "https://taskrouter.twilio.com")]
    pub upstream_base: String,

    /// With --source twilio: the Twilio account SID.
    #[arg(long, env = "TWILIO_ACCOUNT_SID")]
    pub twilio_account_sid: Option<String>,

    /// With --source twilio: the account's auth token.
    #[arg(long, env = "TWILIO_AUTH_TOKEN", hide_env_values = true)]
    pub twilio_auth_token: Option<String>,

    /// With --source twilio: an API key SID (SK…) to use instead of the auth token.
    #[arg(long, env = "TWILIO_API_KEY", requires = "twilio_api_secret")]
    pub twilio_api_key: Option<String>,

    /// The API key's secret.
    #[arg(long, env = "TWILIO_API_SECRET", hide_env_values = true, requires = "twilio_api_key")]
    pub twilio_api_secret: Option<String>,

    /// Start by replaying the whole event log, and write no engine snapshot when stopping.
    /// By default a server writes the engine's state to
    /// `engine.snapshot` in the data directory when it stops, and its next start reads it and
    /// replays only the events stored after it (seconds instead of minutes for a month of
    /// events); with --database-url the node keeps its own in its --data-dir.
    #[arg(long, env = "WALLBOARD_NO_SNAPSHOT")]
    pub no_snapshot: bool,

    /// Hours between engine snapshots written while the server runs, counted from the newest
    /// (the one the start read or wrote; 0: only at start and stop). A server killed (or cut off by a power loss) starts from the newest one and
    /// the events stored since; writing one holds callbacks for its length (about 0.15 s
    /// for a million events). Under 24: a snapshot older than a day is not used.
    #[arg(long, env = "WALLBOARD_ENGINE_SNAPSHOT_HOURS", default_value_t = 6, value_parser = clap::value_parser!(u32).range(0..=23))]
    pub engine_snapshot_hours: u32,

    /// After the database was unreachable, re-read the missed events from the upstream's
    /// Events resource (--upstream-base, with the Twilio credentials above; TaskRouter does
    /// not resend a callback we refused). One node of a cluster does it.
    #[arg(long, env = "WALLBOARD_BACKFILL_GAPS")]
    pub backfill_gaps: bool,

    /// Alert notifications: attempts per webhook before a notice goes to the dead letters.
    #[arg(long, env = "WALLBOARD_WEBHOOK_ATTEMPTS", default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub webhook_attempts: u32,

    /// Alert notifications: the wait before the first retry (ms); it doubles up to a minute.
    #[arg(long, env = "WALLBOARD_WEBHOOK_BACKOFF_MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub webhook_backoff_ms: u64,

    /// With --source twilio: each watched RealTimeStatistics topic is polled this often (ms).
    #[arg(long, env = "WALLBOARD_POLL_REALTIME_MS", default_value_t = 2000, value_parser = clap::value_parser!(u64).range(50..=3_600_000))]
    pub poll_realtime_ms: u64,

    /// With --source twilio: each watched Statistics/CumulativeStatistics parameter set is
    /// polled this often (ms).
    #[arg(long, env = "WALLBOARD_POLL_CUMULATIVE_MS", default_value_t = 15_000, value_parser = clap::value_parser!(u64).range(50..=3_600_000))]
    pub poll_cumulative_ms: u64,

    /// With --source twilio: requests per second to the upstream at most, all together.
    #[arg(long, env = "WALLBOARD_UPSTREAM_REQUESTS_PER_SECOND", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub upstream_requests_per_second: u32,

    /// With --source twilio: an upstream request without an answer by then has failed (ms).
    #[arg(long, env = "WALLBOARD_UPSTREAM_TIMEOUT_MS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(100..=120_000))]
    pub upstream_timeout_ms: u64,

    /// Origins that may embed the dashboard in an iframe (comma-separated, e.g.
    /// https://crm.example.com,http://127.0.0.1:9000); sent as the CSP `frame-ancestors`.
    /// Default: none, nobody may frame it.
    #[arg(long, env = "WALLBOARD_FRAME_ANCESTORS", value_delimiter = ',')]
    pub frame_ancestors: Vec<String>,

    /// Reverse proxies in front of Wallboard (exact addresses, comma-separated): for
    /// requests from them the client's address is taken from X-Forwarded-For (used by the
    /// failed-authentication limit). Default: none, the header is ignored.
    #[arg(long = "trusted-proxy", env = "WALLBOARD_TRUSTED_PROXY", value_delimiter = ',')]
    pub trusted_proxies: Vec<std::net::IpAddr>,

    /// Failed authentication attempts one address may make per minute before it is
    /// refused (429) for a minute.
    #[arg(long, env = "WALLBOARD_AUTH_FAILURES_PER_MINUTE", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub auth_failures_per_minute: u32,

    /// Directory of the built dashboard (scripts/build-frontend.sh writes it).
    #[arg(long, env = "WALLBOARD_ASSETS_DIR", default_value = "frontend/dist")]
    pub assets_dir: PathBuf,

    /// At most one WebSocket snapshot per topic per this many milliseconds.
    #[arg(long, env = "WALLBOARD_SNAPSHOT_INTERVAL_MS", default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub snapshot_interval_ms: u64,

    /// Cumulative statistics of live subscriptions are recomputed at most this often (ms).
    #[arg(long, env = "WALLBOARD_CUMULATIVE_REFRESH_MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(10..=600_000))]
    pub cumulative_refresh_ms: u64,

    /// Most concurrent WebSocket connections; more are refused with 503.
    #[arg(long, env = "WALLBOARD_WS_MAX_CONNECTIONS", default_value_t = 20_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub ws_max_connections: u32,

    /// Most distinct topics (workflow, channel, cumulative window and thresholds) watched
    /// at once, all connections together; a subscription to a new one beyond gets an error.
    #[arg(long, env = "WALLBOARD_WS_MAX_TOPICS", default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub ws_max_topics: u32,

    /// Most subscriptions on one WebSocket connection.
    #[arg(long, env = "WALLBOARD_WS_MAX_SUBSCRIPTIONS", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub ws_max_subscriptions: u32,

    /// Largest WebSocket message from a client, in bytes (larger ones get an error frame;
    /// beyond 64 KiB the connection is closed).
    #[arg(long, env = "WALLBOARD_WS_MAX_MESSAGE_BYTES", default_value_t = 4096, value_parser = clap::value_parser!(u32).range(256..=65_536))]
    pub ws_max_message_bytes: u32,

    /// Seconds between server pings; a client silent for two intervals is closed.
    #[arg(long, env = "WALLBOARD_WS_PING_INTERVAL_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub ws_ping_interval_secs: u64,

    /// Fan-out workers: each writes every new snapshot to its share of the WebSocket
    /// connections (default: one per core).
    #[arg(long, env = "WALLBOARD_WS_FANOUT_WORKERS", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub ws_fanout_workers: Option<u16>,

    /// A token that may read `GET /metrics` (as `Authorization: Bearer <token>`) besides the
    /// account credentials, for a Prometheus scraper; it gives access to nothing else.
    /// At least 16 characters.
    #[arg(long, env = "WALLBOARD_METRICS_TOKEN", hide_env_values = true, value_parser = parse_metrics_token)]
    pub metrics_token: Option<String>,
}

/// How log lines are written (to stderr).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum LogFormat {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per line: `timestamp`, `level`, `target`, `message` and the event's
    /// fields, and the spans it happened in.
    Json,
}

fn parse_metrics_token(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    if raw.len() < 16 {
        return Err("the metrics token must be at least 16 characters".into());
    }
    if !raw.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("the metrics token must be printable ASCII without spaces".into());
    }
    Ok(raw.to_owned())
}

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// NDJSON file to read, or "-" for standard input.
    pub file: String,

    /// Directory of the SQLite database (created if missing).
    #[arg(long, env = "WALLBOARD_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// The shared PostgreSQL database instead (the servers' --database-url).
    #[arg(long, env = "WALLBOARD_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Events per transaction.
    #[arg(long, default_value_t = 5_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub batch_size: u32,

    /// No progress bar (it is also hidden when stderr is not a terminal).
    #[arg(long)]
    pub quiet: bool,
}

impl ServeArgs {
    /// The upstream's Basic credentials with --source twilio: an API key if given, else
    /// the account SID and auth token.
    pub fn upstream_credentials(&self) -> anyhow::Result<(String, String)> {
        if let (Some(key), Some(secret)) = (&self.twilio_api_key, &self.twilio_api_secret) {
            return Ok((key.clone(), secret.clone()));
        }
        match (&self.twilio_account_sid, &self.twilio_auth_token) {
            (Some(sid), Some(token)) => Ok((sid.clone(), token.clone())),
            _ => anyhow::bail!(
                "--source twilio needs --twilio-account-sid and --twilio-auth-token \
                 (TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN) or --twilio-api-key and --twilio-api-secret"
            ),
        }
    }

    /// What `--backfill-gaps` reads: the upstream's Events resource with the Twilio credentials.
    pub fn gap_backfill(&self) -> anyhow::Result<Option<crate::backfill::BackfillOptions>> {
        if !self.backfill_gaps {
            return Ok(None);
        }
        let (user, password) = self.upstream_credentials().map_err(|_| {
            anyhow::anyhow!(
                "--backfill-gaps needs the account's API credentials: --twilio-account-sid and \
                 --twilio-auth-token (or --twilio-api-key and --twilio-api-secret)"
            )
        })?;
        Ok(Some(crate::backfill::BackfillOptions {
            base_url: self.upstream_base.clone(),
            user,
            password,
            workspaces: Vec::new(),
            days: 1,
            request_timeout: std::time::Duration::from_millis(self.upstream_timeout_ms.max(1_000)),
        }))
    }

    /// How alert notifications are retried.
    pub fn webhook_policy(&self) -> crate::alerts::notify::RetryPolicy {
        crate::alerts::notify::RetryPolicy {
            attempts: self.webhook_attempts,
            first_backoff: std::time::Duration::from_millis(self.webhook_backoff_ms),
            ..Default::default()
        }
    }

    /// Session limits from the flags.
    pub fn ws_config(&self) -> crate::ws::WsConfig {
        crate::ws::WsConfig {
            max_connections: self.ws_max_connections as usize,
            max_subscriptions: self.ws_max_subscriptions as usize,
            max_message_bytes: self.ws_max_message_bytes as usize,
            ping_interval: std::time::Duration::from_secs(self.ws_ping_interval_secs),
            fanout_workers: self
                .ws_fanout_workers
                .map_or_else(|| crate::ws::WsConfig::default().fanout_workers, usize::from),
            ..crate::ws::WsConfig::default()
        }
    }

    /// The public URL without a trailing slash.
    pub fn public_url_for(&self, bound: SocketAddr) -> String {
        self.public_url.clone().unwrap_or_else(|| format!("http://{bound}")).trim_end_matches('/').to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_is_the_default() {
        let cli = Cli::try_parse_from(["wallboard", "--bind", "127.0.0.1:0"]).expect("parse");
        assert!(cli.command.is_none());
        assert_eq!(cli.serve.bind.port(), 0);
        let cli = Cli::try_parse_from(["wallboard", "import", "-"]).expect("parse");
        assert!(matches!(cli.command, Some(Command::Import(a)) if a.file == "-"));
    }

    #[test]
    fn log_format_is_global_and_text_by_default() {
        let cli = Cli::try_parse_from(["wallboard"]).expect("parse");
        assert_eq!(cli.log_format, LogFormat::Text);
        for args in [
            &["wallboard", "--log-format", "json"][..],
            &["wallboard", "serve", "--log-format", "json"],
            &["wallboard", "--log-format", "json", "import", "-"],
        ] {
            assert_eq!(Cli::try_parse_from(args).expect("parse").log_format, LogFormat::Json, "{args:?}");
        }
        assert!(Cli::try_parse_from(["wallboard", "--log-format", "xml"]).is_err());
    }

    #[test]
    fn a_metrics_token_is_long_and_printable() {
        let cli = Cli::try_parse_from(["wallboard", "--metrics-token", "0123456789abcdef"]).expect("parse");
        assert_eq!(cli.serve.metrics_token.as_deref(), Some("0123456789abcdef"));
        assert!(Cli::try_parse_from(["wallboard", "--metrics-token", "short"]).is_err());
        assert!(Cli::try_parse_from(["wallboard", "--metrics-token", "0123456789 abcdef"]).is_err());
        assert_eq!(Cli::try_parse_from(["wallboard"]).expect("parse").serve.metrics_token, None);
    }

    /// The dashboard's queues wall plans up to 64 subscriptions on one connection (the
    /// header, 50 queues and more, rotation trends): the default must hold them, and the
    /// command line's default and the sessions' own must agree.
    #[test]
    fn a_connection_holds_64_subscriptions_by_default() {
        let cli = Cli::try_parse_from(["wallboard"]).expect("parse");
        assert_eq!(cli.serve.ws_max_subscriptions, 64);
        assert_eq!(crate::ws::WsConfig::default().max_subscriptions, 64);
    }
}
