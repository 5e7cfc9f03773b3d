//! The `wallboard` command: parse the command line, set up logging, run.

use std::io::{BufReader, IsTerminal};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use wallboard::clock::SystemClock;
use wallboard::config::{
    BackfillArgs, BalanceArgs, Cli, Command, ImportArgs, LoadtestArgs, LogFormat, ServeArgs, SimulateArgs, TokenArgs,
    TokenCommand,
};
use wallboard::ingest::import::import;
use wallboard::storage::Database;

/// mimalloc rather than glibc's malloc: a signed callback's many small allocations cost
/// about a fifth less server CPU (BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let result = match cli.command {
        None => serve(cli.serve),
        Some(Command::Serve(args)) => serve(*args),
        Some(Command::Import(args)) => run_import(&args),
        Some(Command::Loadtest(args)) => run_loadtest(args),
        Some(Command::Simulate(args)) => run_simulate(args),
        Some(Command::Token(args)) => run_token(&args),
        Some(Command::Backfill(args)) => run_backfill(args),
        Some(Command::Balance(args)) => run_balance(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs to stderr (`RUST_LOG`, default `info,tower_http=warn`), as text or JSON lines.
fn init_logging(format: LogFormat) {
    let builder = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        // One object per line, the event's fields beside `message` (what collectors index).
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).with_span_list(false).init(),
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    // Every WebSocket viewer is a file descriptor: allow as many as the system does.
    let _ = rlimit::increase_nofile_limit(u64::from(u32::MAX));
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        anyhow::ensure!(args.sim_speed.is_finite() && args.sim_speed > 0.0, "--sim-speed must be a positive number");
        let clock: Arc<dyn wallboard::clock::Clock> = if args.sim_speed == 1.0 {
            Arc::new(SystemClock)
        } else {
            Arc::new(wallboard::clock::ScaledClock::new(SystemClock, args.sim_speed))
        };
        let app = wallboard::Application::build(&args, clock).await?;
        let c = app.credentials();
        println!("Wallboard is listening on {}", app.local_addr());
        println!("  dashboard:      {}", app.dashboard_url());
        println!(
            "                  (admin link, valid until the next start; `wallboard token create` makes lasting ones)"
        );
        let urls = wallboard_shared::Urls::new(app.public_url());
        println!("  API base:       {}", urls.workspaces());
        println!("  event callback: {}", urls.event_callback());
        println!("  account sid:    {}", c.account_sid);
        let database = app.database();
        if c.generated {
            println!("  auth token:     {}   (generated and stored in {database})", c.auth_token);
        } else {
            println!("  auth token:     (as configured or stored in {database})");
        }
        println!("  node:           {} on {database}", app.node_name());
        println!("  events replayed from the log: {}", app.replayed());
        if args.source == wallboard::config::Source::Twilio {
            println!(
                "  mirroring {} (realtime every {} ms, cumulative every {} ms, at most {} requests/s)",
                args.upstream_base, args.poll_realtime_ms, args.poll_cumulative_ms, args.upstream_requests_per_second
            );
        }
        if let Some(demo) = app.demo() {
            println!("  simulated contact center \"{}\": workspace {}", demo.workspace_name, demo.workspace_sid);
            for (sid, name) in &demo.workflows {
                println!("    workflow {sid}  {name}");
                let statistics = wallboard_shared::StatisticsResource::Statistics;
                println!("      {}", urls.workflow_statistics(&demo.workspace_sid, sid, statistics));
            }
        }
        app.run_until_stopped(shutdown_signal()).await?;
        Ok(ExitCode::SUCCESS)
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutting down");
}

fn run_simulate(args: SimulateArgs) -> anyhow::Result<ExitCode> {
    use wallboard::ingest::simulator::{DriveOptions, SimConfig, drive, write_ndjson};
    let config = match &args.sim_config {
        Some(path) => SimConfig::load(path)?,
        None => SimConfig::default(),
    };
    if let Some(out) = &args.out {
        let end = chrono::Utc::now().timestamp_millis();
        let start = end - i64::from(args.days) * 86_400_000;
        let started = std::time::Instant::now();
        let written = if out == "-" {
            write_ndjson(std::io::stdout().lock(), &config, args.seed, start, end, &args.account_sid)?
        } else {
            let file = std::fs::File::create(out).with_context(|| format!("cannot create {out}"))?;
            write_ndjson(file, &config, args.seed, start, end, &args.account_sid)?
        };
        eprintln!("wrote {written} events ({} days) in {:.1} s", args.days, started.elapsed().as_secs_f64());
        return Ok(ExitCode::SUCCESS);
    }
    let to = args.to.clone().context("--to or --out is required")?;
    let auth_token = args.auth_token.clone().context("--auth-token is required with --to")?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let server_cpu = |pid| wallboard::cputime::process(pid).context("the server's CPU time (--server-pid)");
    let cpu_before = args.server_pid.map(server_cpu).transpose()?;
    let report = runtime.block_on(drive(
        DriveOptions {
            base_url: to.trim_end_matches('/').to_owned(),
            auth_token,
            rate: args.rate,
            duration: args.duration,
            seed: args.seed,
            concurrency: args.concurrency.max(1),
            config,
            format: args.format,
            batch: args.batch_size as usize,
        },
        Arc::new(SystemClock),
    ))?;
    print!("{report}");
    if let (Some(pid), Some(before)) = (args.server_pid, cpu_before) {
        let after = server_cpu(pid)?;
        println!(
            "server CPU: {:.1} µs per accepted event ({:.2} s for {} events; pid {pid})",
            wallboard::cputime::micros_per(before, after, report.accepted),
            after.saturating_sub(before).as_secs_f64(),
            report.accepted
        );
    }
    Ok(if report.rejected == 0 { ExitCode::SUCCESS } else { ExitCode::from(3) })
}

fn run_loadtest(args: LoadtestArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let report = runtime.block_on(wallboard::loadtest::run(wallboard::loadtest::LoadOptions {
        clients: args.clients,
        events: args.events,
        gap: std::time::Duration::from_millis(args.gap_ms),
        connect_concurrency: args.connect_concurrency,
        server_bin: args.server_bin,
    }))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report).context("the report as JSON")?);
    } else {
        print!("{report}");
    }
    Ok(if report.missed == 0 { ExitCode::SUCCESS } else { ExitCode::from(4) })
}

fn run_import(args: &ImportArgs) -> anyhow::Result<ExitCode> {
    let database = Database::new(&args.data_dir, args.database_url.as_deref())?;
    let mut log = database.open().with_context(|| format!("cannot open the database ({database})"))?;
    let show = !args.quiet && std::io::stderr().is_terminal();
    let (input, total): (Box<dyn std::io::BufRead>, Option<u64>) = if args.file == "-" {
        (Box::new(BufReader::new(std::io::stdin().lock())), None)
    } else {
        let f = std::fs::File::open(&args.file).with_context(|| format!("cannot open {}", args.file))?;
        let len = f.metadata().ok().map(|m| m.len());
        (Box::new(BufReader::with_capacity(1 << 20, f)), len)
    };
    let bar = show.then(|| {
        let bar = total.map_or_else(ProgressBar::new_spinner, ProgressBar::new);
        let template = if total.is_some() {
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})"
        } else {
            "{spinner} [{elapsed_precise}] {bytes} ({bytes_per_sec})"
        };
        bar.set_style(ProgressStyle::with_template(template).expect("the template is valid"));
        bar
    });
    let started = std::time::Instant::now();
    let summary = import(input, log.as_mut(), args.batch_size as usize, bar.as_ref())?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let secs = started.elapsed().as_secs_f64();
    print!("{summary}");
    println!("took {secs:.1} s ({:.0} events/s) into {database}", summary.read as f64 / secs.max(1e-9));
    Ok(if summary.rejected > 0 { ExitCode::from(3) } else { ExitCode::SUCCESS })
}

fn run_token(args: &TokenArgs) -> anyhow::Result<ExitCode> {
    use wallboard::storage::{NewToken, Scope, Standing};
    use wallboard_shared::{WorkflowSid, WorkspaceSid};
    let database = Database::new(&args.data_dir, args.database_url.as_deref())?;
    let mut store = database.open_tokens().with_context(|| format!("cannot open the database ({database})"))?;
    let now = chrono::Utc::now().timestamp_millis();
    let date = |ms: i64| wallboard_shared::time::format_ms(ms);
    match &args.command {
        TokenCommand::Create(c) => {
            let scope = match &c.workspace {
                None => Scope::Admin,
                Some(ws) => Scope::Workspace {
                    workspace: WorkspaceSid::parse(ws).context("--workspace")?,
                    workflows: c
                        .workflows
                        .iter()
                        .map(|w| WorkflowSid::parse(w))
                        .collect::<Result<_, _>>()
                        .context("--workflow")?,
                },
            };
            let ttl_ms = c.ttl.0.map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
            let (plain, record) = store.create(&NewToken { label: c.label.clone(), scope, ttl_ms }, now)?;
            println!("{plain}");
            let base = c.public_url.trim_end_matches('/');
            let query = match &record.scope {
                Scope::Workspace { workspace, workflows } if workflows.len() == 1 => {
                    format!("?page=workflow&ws={workspace}&wf={}", workflows[0])
                }
                Scope::Workspace { workspace, .. } => format!("?ws={workspace}"),
                Scope::Admin => String::new(),
            };
            eprintln!(
                "created token {} ({}), scope {}, {}",
                record.id,
                record.label,
                record.scope,
                match record.expires_ms {
                    Some(e) => format!("expires {}", date(e)),
                    None => "never expires".to_owned(),
                }
            );
            eprintln!("dashboard link: {base}/{query}#token={plain}");
            eprintln!("  (kiosk: add kiosk=1 to the query; embed: embed=1)");
        }
        TokenCommand::List { all } => {
            let tokens = store.all()?;
            println!("{:<34}  {:<8}  {:<20}  {:<20}  {:<20}  SCOPE", "ID", "STATUS", "LABEL", "CREATED", "EXPIRES");
            for (_, t) in tokens {
                let standing = t.standing(now);
                if !all && standing != Standing::Active {
                    continue;
                }
                let status = match standing {
                    Standing::Active => "active",
                    Standing::Expired => "expired",
                    Standing::Revoked => "revoked",
                };
                let label: String = t.label.chars().take(20).collect();
                let expires = t.expires_ms.map_or_else(|| "never".to_owned(), date);
                println!(
                    "{:<34}  {status:<8}  {label:<20}  {:<20}  {expires:<20}  {}",
                    t.id,
                    date(t.created_ms),
                    t.scope
                );
            }
        }
        TokenCommand::Revoke { id } => {
            if store.revoke(id, now)? {
                eprintln!("revoked {id}; dashboards using it are refused from now on");
            } else {
                eprintln!("{id} was already revoked");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn run_backfill(args: BackfillArgs) -> anyhow::Result<ExitCode> {
    use wallboard::backfill::{BackfillOptions, backfill};
    let database = Database::new(&args.data_dir, args.database_url.as_deref())?;
    let mut log = database.open().with_context(|| format!("cannot open the database ({database})"))?;
    let bar = (!args.quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new(0);
        let template = "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} days {msg}";
        bar.set_style(ProgressStyle::with_template(template).expect("the template is valid"));
        bar
    });
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let started = std::time::Instant::now();
    let report = runtime.block_on(backfill(
        BackfillOptions {
            base_url: args.upstream_base.clone(),
            user: args.account_sid.clone(),
            password: args.auth_token.clone(),
            workspaces: args.workspaces.clone(),
            days: args.days,
            request_timeout: std::time::Duration::from_secs(30),
        },
        log.as_mut(),
        chrono::Utc::now().timestamp_millis(),
        bar.as_ref(),
    ))?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    print!("{report}");
    println!("took {:.1} s into {database}", started.elapsed().as_secs_f64());
    Ok(if report.rejected_count > 0 { ExitCode::from(3) } else { ExitCode::SUCCESS })
}

fn run_balance(args: &BalanceArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let stop = tokio_util::sync::CancellationToken::new();
        let stopping = stop.clone();
        tokio::spawn(async move {
            shutdown_signal().await;
            stopping.cancel();
        });
        println!("balancing {} over {} nodes", args.listen, args.backends.len());
        wallboard::balance::run(
            wallboard::balance::BalanceArgs {
                listen: args.listen,
                backends: args.backends.clone(),
                check_interval: std::time::Duration::from_millis(args.check_interval_ms),
            },
            stop,
        )
        .await?;
        Ok(ExitCode::SUCCESS)
    })
}
