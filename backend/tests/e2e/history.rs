//! The history page shows 30 days of the simulator's history (`--sim-history-hours 720`),
//! each day's numbers equal to `…/HistoricalStatistics`, and 7 days of hours when asked.
//!
//! Simulating and storing 720 hours of the full demo center takes minutes in a debug build
//! (888 s on the 2-core machine loaded by five other builds; BENCHMARKS.md), so the test
//! runs it at a tenth of its volume (`scale = 0.1`), and starts the application
//! itself, without the harness's 30 s bound on a start; everything after the start is
//! bounded as elsewhere.

use std::sync::Arc;
use std::time::Instant;

use fantoccini::Client;
use wallboard::clock::ManualClock;
use wallboard_shared::history::HistoricalStatistics;

use wallboard::Application;
use wallboard::access::Scope;

use super::harness::{Api, create_token, free_port};
use super::{args, attr, browser, click, console_errors, percent_value, screenshot, until};

/// The table's rows, oldest first: (start, entered, answered, abandoned, abandonment,
/// service level, wait), each cell's `data-value` (None when the cell has none).
type Cells = Vec<(String, Vec<Option<String>>)>;

async fn table(c: &Client) -> Option<Cells> {
    let script = "return [...document.querySelectorAll('[data-testid=history-row]')].map(r => \
                  [r.dataset.start, [...r.querySelectorAll('td')].map(td => td.dataset.value ?? null)]);";
    let v = c.execute(script, vec![]).await.ok()?;
    let rows = v.as_array()?;
    let mut out: Cells = rows
        .iter()
        .filter_map(|r| {
            let start = r.get(0)?.as_str()?.to_owned();
            let cells = r.get(1)?.as_array()?.iter().map(|c| c.as_str().map(str::to_owned)).collect();
            Some((start, cells))
        })
        .collect();
    out.reverse();
    Some(out)
}

/// What the table should show for the server's answer.
fn expected(h: &HistoricalStatistics) -> Cells {
    h.periods
        .iter()
        .map(|p| {
            let cells = vec![
                Some(p.tasks_entered.to_string()),
                Some(p.tasks_answered.to_string()),
                Some(p.tasks_abandoned.to_string()),
                p.abandonment_rate.map(percent_value),
                p.service_level.map(percent_value),
                p.avg_wait_until_accepted.map(|w| w.to_string()),
            ];
            (p.start_time.clone(), cells)
        })
        .collect()
}

#[tokio::test]
async fn the_history_page_shows_30_days_of_the_simulators_history() {
    let dir = tempfile::tempdir().expect("tempdir");
    let now = chrono::Utc::now().timestamp_millis();
    let mut serve = args(dir.path(), free_port(), "");
    serve.sim_history_hours = 720;
    // The demo center at a tenth of its volume (at 0.05 a queue loses its last chat
    // agent): 30 days in seconds rather than the minutes the full center takes in a debug
    // build, still tasks every day.
    let default = wallboard::ingest::simulator::config::DEFAULT_TOML;
    assert!(default.contains("\nscale = 1.0\n"), "simulator.toml sets scale = 1.0");
    let config = dir.path().join("quiet.toml");
    std::fs::write(&config, default.replacen("\nscale = 1.0\n", "\nscale = 0.1\n", 1)).expect("sim config");
    serve.sim_config = Some(config);
    let started = Instant::now();
    let app = Application::build(&serve, Arc::new(ManualClock::new(now))).await.expect("build");
    eprintln!("30 days of simulated history stored in {:.1} s", started.elapsed().as_secs_f64());
    let demo = app.demo().cloned().expect("the simulated center");
    let server = Api::new(app.public_url());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let scope = Scope::Workspace { workspace: demo.workspace_sid.clone(), workflows: Vec::new() };
    let (token, _) = create_token(dir.path(), "e2e", scope, None, now);
    let ws = demo.workspace_sid.to_string();
    let (support, _) = demo.workflows.iter().find(|(_, n)| n == "Support").expect("Support").clone();

    // The server's answer: 30 days in UTC, every one with tasks (the history began 720 h ago).
    let rest = format!("/v1/Workspaces/{ws}/Workflows/{support}/HistoricalStatistics");
    let h: HistoricalStatistics = server.get_json(&format!("{rest}?TimeZone=UTC")).await;
    assert_eq!(h.periods.len(), 30);
    assert!(h.periods.iter().all(|p| p.tasks_entered > 0), "every day of the history has tasks");
    assert!(h.periods.iter().filter(|p| p.service_level.is_some()).count() >= 29);
    let want = expected(&h);

    let driver = browser().await;
    let c = &driver.client;
    c.goto(&format!("{}/?page=history&ws={ws}&wf={support}&tz=UTC#token={token}", server.base))
        .await
        .expect("open the history page");
    let shown = until("30 day rows", || async { table(c).await.filter(|t| t.len() == 30) }).await;
    assert_eq!(shown, want, "the table shows the server's numbers");
    until("the chart drawn", || async {
        (attr(c, "[data-testid=history-chart]", "data-drawn").await.as_deref() == Some("1")).then_some(())
    })
    .await;
    screenshot(c, "history-days.png").await;

    // By the hour: the last 7 days, 168 rows in UTC, equal to the server's.
    click(c, "[data-testid=history-hours]", "the hours button").await;
    let hourly: HistoricalStatistics = server.get_json(&format!("{rest}?TimeZone=UTC&Granularity=hour")).await;
    assert_eq!(hourly.periods.len(), 7 * 24);
    let want = expected(&hourly);
    let shown = until("168 hour rows", || async { table(c).await.filter(|t| t.len() == 7 * 24) }).await;
    assert_eq!(shown, want);
    assert!(c.current_url().await.expect("url").as_str().contains("by=hour"));

    // The workflow page links to its history.
    c.goto(&format!("{}/?page=workflow&ws={ws}&wf={support}#token={token}", server.base)).await.expect("open");
    click(c, "[data-testid=workflow-history]", "the history link").await;
    until("the history page of the workflow", || async {
        let url = c.current_url().await.ok()?;
        (url.as_str().contains("page=history") && url.as_str().contains(&support.to_string())).then_some(())
    })
    .await;
    until("its rows", || async { table(c).await.filter(|t| t.len() == 30) }).await;

    let errors = console_errors(c).await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    driver.client.clone().close().await.expect("close the browser");
    let _ = stop.send(());
    tokio::time::timeout(std::time::Duration::from_secs(30), running)
        .await
        .expect("stopped in time")
        .expect("the server task")
        .expect("the server");
}
