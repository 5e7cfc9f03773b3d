//! Exports from the dashboard: the workflow page's cumulative panel, the agent board and
//! the settings page's alert history each download a CSV through their Export button
//! (Chromium saves it into a directory of the test's), whose rows equal the REST API's
//! numbers for the same view. The server's clock stands still, so the page, the export
//! and the API's answer are about the same moment.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use fantoccini::{Client, Locator};
use serde_json::{Value, json};
use wallboard::clock::ManualClock;
use wallboard_shared::workers::WorkerPage;

use super::harness::free_port;
use super::{attr, browser_with_prefs, click, start, until, viewer_token};

/// The CSV file whose name starts with `prefix` in `dir`, once Chromium has finished it.
fn finished(dir: &Path, prefix: &str) -> Option<PathBuf> {
    let entries = std::fs::read_dir(dir).ok()?;
    let mut found = None;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".crdownload") {
            return None; // still being written
        }
        if name.starts_with(prefix) && name.ends_with(".csv") {
            found = Some(entry.path());
        }
    }
    found
}

/// Clicks the Export button `testid` and waits (bounded) for its file; returns the header
/// and records, parsed with the csv crate.
async fn export(c: &Client, testid: &str, dir: &Path, prefix: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let css = format!("[data-testid={testid}]:not([disabled])");
    until(&format!("{testid} enabled"), || async { c.find(Locator::Css(&css)).await.ok() }).await;
    click(c, &css, testid).await;
    let file = until(&format!("the file {prefix}….csv"), || async { finished(dir, prefix) }).await;
    let text = std::fs::read_to_string(&file).expect("the downloaded file");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().expect("a header row").iter().map(str::to_owned).collect();
    let rows = reader.records().map(|r| r.expect("a record").iter().map(str::to_owned).collect()).collect();
    (header, rows)
}

fn cell<'a>(header: &[String], row: &'a [String], column: &str) -> &'a str {
    let i = header.iter().position(|h| h == column).unwrap_or_else(|| panic!("no column {column} in {header:?}"));
    &row[i]
}

fn number(v: &Value) -> String {
    match v {
        Value::Number(n) => n.to_string(),
        other => panic!("not a number: {other}"),
    }
}

#[tokio::test]
async fn exports_download_the_apis_numbers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let downloads = tempfile::tempdir().expect("download dir");
    let t0 = chrono::Utc::now().timestamp_millis() / 1000 * 1000;
    let server = start(dir.path(), free_port(), Arc::new(ManualClock::new(t0))).await;
    let token = viewer_token(&server, "e2e", t0);
    let ws = server.demo().workspace_sid.to_string();
    let (sales, _) = server.demo().workflows.iter().find(|(_, n)| n == "Sales").expect("Sales").clone();
    let prefs = json!({
        "download.default_directory": downloads.path().to_str().expect("utf-8 path"),
        "download.prompt_for_download": false,
        "profile.default_content_setting_values.automatic_downloads": 1,
    });
    let driver = browser_with_prefs(&[], prefs).await;
    let c = &driver.client;

    // The workflow page's cumulative panel, in Paris time: the row is the numbers of the
    // panel's own REST twin (its "REST" link: the same window and thresholds).
    c.goto(&format!("{}/?page=workflow&ws={ws}&wf={sales}&tz=Europe/Paris#token={token}", server.base))
        .await
        .expect("open the workflow page");
    let rest = until("the panel's REST link", || async { attr(c, ".rest-link", "href").await }).await;
    let rest = format!("/v1/{}", rest.split_once("/v1/").expect("a /v1 link").1);
    let (header, rows) = export(c, "export-cumulative", downloads.path(), &format!("{sales}-cumulative-")).await;
    let api = server.get_ok(&rest).await;
    let cumulative = &api["cumulative"];
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(cell(&header, row, "target"), "Sales");
    let start = chrono::DateTime::parse_from_rfc3339(cumulative["start_time"].as_str().expect("start")).expect("time");
    let paris = start.with_timezone(&chrono_tz::Europe::Paris).format("%Y-%m-%d %H:%M:%S").to_string();
    assert_eq!(cell(&header, row, "start_time (Europe/Paris)"), paris);
    let mut compared = 0;
    for (key, value) in cumulative.as_object().expect("an object") {
        match (key.as_str(), value) {
            ("split_by_wait_time", Value::Object(splits)) => {
                assert!(!splits.is_empty(), "the panel splits at its thresholds");
                for (t, split) in splits {
                    for field in ["reservations_accepted", "tasks_canceled"] {
                        for side in ["below", "above"] {
                            let column = format!("{field}_{side}_{t}s");
                            assert_eq!(cell(&header, row, &column), number(&split[side][field]), "{column}");
                            compared += 1;
                        }
                    }
                }
            }
            (_, Value::Object(inner)) => {
                for (k, v) in inner {
                    assert_eq!(cell(&header, row, &format!("{key}_{k}")), number(v), "{key}_{k}");
                    compared += 1;
                }
            }
            (_, Value::Number(_)) => {
                assert_eq!(cell(&header, row, key), number(value), "{key}");
                compared += 1;
            }
            _ => {}
        }
    }
    assert!(compared > 20, "{compared} numbers compared");

    // The agent board: one row per worker of the Workers list, as the API says them.
    c.goto(&format!("{}/?page=agents&ws={ws}&tz=UTC#token={token}", server.base)).await.expect("open the agent board");
    until("agent rows", || async { c.find(Locator::Css("[data-testid=agent-row]")).await.ok() }).await;
    let (header, rows) = export(c, "export-agents", downloads.path(), &format!("{ws}-agents-")).await;
    let list: WorkerPage = server.get_json(&format!("/v1/Workspaces/{ws}/Workers?PageSize=1000")).await;
    assert_eq!(rows.len(), list.workers.len());
    assert!(!rows.is_empty());
    for (row, w) in rows.iter().zip(&list.workers) {
        assert_eq!(cell(&header, row, "sid"), w.sid.as_str());
        assert_eq!(cell(&header, row, "friendly_name"), w.friendly_name);
        assert_eq!(cell(&header, row, "activity"), w.activity_name.as_deref().unwrap_or_default());
        assert_eq!(cell(&header, row, "available"), w.available.to_string());
        let since = w.date_status_changed.map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_default();
        assert_eq!(cell(&header, row, "since (UTC)"), since);
    }

    // The settings page (an admin's link): the alert history, as many rows as the list.
    c.goto(&format!("{}/?page=settings&ws={ws}#token={}", server.base, server.admin_token))
        .await
        .expect("open the settings page");
    let (header, rows) = export(c, "export-alerts", downloads.path(), &format!("{ws}-alerts-")).await;
    assert_eq!(header[0], "sid");
    let alerts = server.get_ok(&format!("/v1/Workspaces/{ws}/Alerts?PageSize=1000")).await;
    assert_eq!(rows.len(), alerts["alerts"].as_array().expect("alerts").len());

    driver.client.clone().close().await.expect("close the browser");
    server.stop().await;
}
