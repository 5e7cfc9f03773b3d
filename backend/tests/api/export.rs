//! Exports (`<resource>/Export`): CSV parsed back with the `csv` crate and JSON, compared
//! with the JSON API's answers for the same parameters; quoting of names holding a comma, a
//! quote and a newline; the time zone applied to every time column and stated; a token
//! limited to some workflows; bad parameters.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;
use wallboard::access::Scope;
use wallboard_shared::alerts::AlertPage;
use wallboard_shared::workers::{WorkerChannelPage, WorkerPage};
use wallboard_shared::{TwilioError, WorkflowSid, WorkspaceSid};

use super::helpers::{ACCOUNT_SID, AUTH_TOKEN, Form, TestApp, decode, spawn_app};
use super::queues::{alice, available, floor_app, fw, path, sid, support_q};
use super::scenario::{self, NOW, SALES, WS, sales, support};

/// A name that needs every kind of CSV quoting.
const TRICKY: &str = "Sales, \"EU\"\nnorth";

/// An export: status, headers and body text, with the account's credentials or a token.
async fn download(app: &TestApp, path: &str, token: Option<&str>) -> (StatusCode, HeaderMap, String) {
    let r = app.client.get(format!("{}{path}", app.base));
    let r = match token {
        Some(t) => r.bearer_auth(t),
        None => r.basic_auth(ACCOUNT_SID, Some(AUTH_TOKEN)),
    };
    let r = r.send().await.expect("request");
    let (status, headers) = (r.status(), r.headers().clone());
    (status, headers, r.text().await.expect("body"))
}

/// A CSV export that must succeed: its header row and records.
pub(super) async fn csv_rows(app: &TestApp, path: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let (status, headers, body) = download(app, path, None).await;
    assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    parse_csv(&body)
}

fn parse_csv(body: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let header = reader.headers().expect("a header row").iter().map(str::to_owned).collect();
    let rows = reader.records().map(|r| r.expect("a record").iter().map(str::to_owned).collect()).collect();
    (header, rows)
}

/// The cell of `column` in `row`.
pub(super) fn cell<'a>(header: &[String], row: &'a [String], column: &str) -> &'a str {
    let i = header.iter().position(|h| h == column).unwrap_or_else(|| panic!("no column {column} in {header:?}"));
    &row[i]
}

/// A Twilio time (`2026-11-27T08:00:00Z`) as the export writes it in `zone`.
fn local(twilio: &str, zone: chrono_tz::Tz) -> String {
    let t = chrono::DateTime::parse_from_rfc3339(twilio).expect("a Twilio time");
    t.with_timezone(&zone).format("%Y-%m-%d %H:%M:%S").to_string()
}

fn number(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Number(n) => n.to_string(),
        other => panic!("not a number: {other}"),
    }
}

#[tokio::test]
async fn cumulative_export_equals_the_json_api_with_thresholds_and_zone() {
    let app = spawn_app(NOW).await;
    scenario::load(&app).await;
    let query = "StartDate=2026-11-27T08:00:00Z&EndDate=2026-11-27T18:00:00Z&SplitByWaitTime=60,20&TaskChannel=voice";
    let json = app.get_ok(&sales(&format!("CumulativeStatistics?{query}"))).await;
    let export = sales(&format!("CumulativeStatistics/Export?{query}&TimeZone=Europe/Paris"));
    let (status, headers, body) = download(&app, &export, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers["x-wallboard-time-zone"], "Europe/Paris");
    assert_eq!(
        headers["content-disposition"],
        format!("attachment; filename=\"{SALES}-cumulative-20261127T0900-20261127T1900.csv\"").as_str()
    );
    let (header, rows) = parse_csv(&body);
    assert_eq!(rows.len(), 1, "one window, one row");
    let row = &rows[0];
    assert_eq!(
        header[..5],
        ["target", "target_sid", "task_channel", "start_time (Europe/Paris)", "end_time (Europe/Paris)"]
    );
    assert_eq!((cell(&header, row, "target"), cell(&header, row, "target_sid")), ("Sales", SALES));
    assert_eq!(cell(&header, row, "task_channel"), "voice");
    assert_eq!(cell(&header, row, "start_time (Europe/Paris)"), "2026-11-27 09:00:00");
    assert_eq!(cell(&header, row, "end_time (Europe/Paris)"), "2026-11-27 19:00:00");

    // Every number of the JSON answer is in its column, and every column is one of them.
    let mut expected: Vec<(String, String)> = Vec::new();
    for (key, value) in json.as_object().expect("an object") {
        match (key.as_str(), value) {
            ("account_sid" | "workspace_sid" | "workflow_sid" | "url" | "start_time" | "end_time", _) => {}
            ("split_by_wait_time", Value::Object(splits)) => {
                assert_eq!(splits.len(), 2);
                for (t, split) in splits {
                    for field in ["reservations_accepted", "tasks_canceled"] {
                        for side in ["below", "above"] {
                            expected.push((format!("{field}_{side}_{t}s"), number(&split[side][field])));
                        }
                    }
                }
            }
            (_, Value::Object(inner)) => {
                expected.extend(inner.iter().map(|(k, v)| (format!("{key}_{k}"), number(v))));
            }
            _ => expected.push((key.clone(), number(value))),
        }
    }
    assert_eq!(expected.len() + 5, header.len(), "{header:?}");
    for (column, value) in &expected {
        assert_eq!(cell(&header, row, column), value, "{column}");
    }
    // The thresholds come in ascending order.
    let at = |c: &str| header.iter().position(|h| h == c).expect(c);
    assert!(at("reservations_accepted_below_20s") < at("reservations_accepted_below_60s"));
    assert_eq!(cell(&header, row, "reservations_accepted_below_20s"), "0", "T1 waited exactly 20 s");
    assert_eq!(cell(&header, row, "reservations_accepted_above_20s"), "1");

    // JSON: the same row, keyed by the same names.
    let (status, headers, body) = download(&app, &export.replace("TimeZone=", "Format=json&TimeZone="), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers["content-type"], "application/json");
    assert!(headers["content-disposition"].to_str().expect("ascii").ends_with(".json\""));
    let items: Vec<Value> = serde_json::from_str(&body).expect("a JSON array");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["start_time (Europe/Paris)"], "2026-11-27 09:00:00");
    assert_eq!(items[0]["target"], "Sales");
    for (column, value) in &expected {
        assert_eq!(&number(&items[0][column.as_str()]), value, "{column}");
    }

    // The default zone is UTC.
    let (header, rows) = csv_rows(&app, &sales(&format!("CumulativeStatistics/Export?{query}"))).await;
    assert_eq!(
        cell(&header, &rows[0], "start_time (UTC)"),
        local(json["start_time"].as_str().expect("time"), chrono_tz::UTC)
    );
    app.stop().await;
}

#[tokio::test]
async fn names_with_commas_quotes_and_newlines_survive_the_round_trip() {
    let app = floor_app().await;
    let odd_wf = sid("WW", 0xe1);
    let task = Form::new("task.created", 0x7001, NOW - 60_000, &fw())
        .with("TaskSid", sid("WT", 0x7001))
        .with("WorkflowSid", &odd_wf)
        .with("WorkflowName", TRICKY)
        .with("TaskPriority", 0)
        .with("TaskAttributes", "{}")
        .with("TaskAssignmentStatus", "pending")
        .with("TaskChannelUniqueName", "voice");
    let worker = Form::new("worker.created", 0x7002, NOW - 60_000, &fw())
        .with("WorkerSid", sid("WK", 0xe2))
        .with("WorkerName", TRICKY)
        .with("WorkerActivitySid", available())
        .with("WorkerActivityName", "Available")
        .with("WorkerAttributes", "{}");
    for f in [task, worker] {
        assert_eq!(app.post_event(&f.0).await, StatusCode::NO_CONTENT);
    }
    let (header, rows) =
        csv_rows(&app, &path(&format!("Workflows/{odd_wf}/CumulativeStatistics/Export?Minutes=60"))).await;
    assert_eq!(cell(&header, &rows[0], "target"), TRICKY);
    assert_eq!(cell(&header, &rows[0], "tasks_entered"), "1");
    let (header, rows) = csv_rows(&app, &path("Workers/Export")).await;
    let names: Vec<&str> = rows.iter().map(|r| cell(&header, r, "friendly_name")).collect();
    assert_eq!(names, ["alice", "bob", "carol", TRICKY]);
    app.stop().await;
}

#[tokio::test]
async fn agents_export_equals_the_workers_and_channels_lists() {
    let app = floor_app().await;
    let zone = chrono_tz::America::New_York;
    for filter in [String::new(), format!("TaskQueueSid={}&", support_q()), "Available=false&".to_owned()] {
        let list: WorkerPage = app.get_json(&path(&format!("Workers?{filter}PageSize=1000"))).await;
        let (header, rows) = csv_rows(&app, &path(&format!("Workers/Export?{filter}TimeZone=America/New_York"))).await;
        assert_eq!(
            header,
            [
                "sid",
                "friendly_name",
                "activity",
                "available",
                "since (America/New_York)",
                "seconds_in_state",
                "tasks",
                "channels"
            ]
        );
        assert_eq!(rows.len(), list.workers.len(), "{filter}");
        for (row, w) in rows.iter().zip(&list.workers) {
            let channels: WorkerChannelPage = app.get_json(&path(&format!("Workers/{}/Channels", w.sid))).await;
            let since = w.date_status_changed.expect("every floor worker changed activity");
            assert_eq!(cell(&header, row, "sid"), w.sid.as_str());
            assert_eq!(cell(&header, row, "friendly_name"), w.friendly_name);
            assert_eq!(cell(&header, row, "activity"), w.activity_name.as_deref().unwrap_or_default());
            assert_eq!(cell(&header, row, "available"), w.available.to_string());
            assert_eq!(
                cell(&header, row, "since (America/New_York)"),
                since.with_timezone(&zone).format("%Y-%m-%d %H:%M:%S").to_string()
            );
            assert_eq!(cell(&header, row, "seconds_in_state"), ((NOW - since.timestamp_millis()) / 1000).to_string());
            let tasks: u32 = channels.channels.iter().map(|c| c.assigned_tasks).sum();
            assert_eq!(cell(&header, row, "tasks"), tasks.to_string());
            for c in &channels.channels {
                let text = format!("{} {}/{}", c.task_channel_unique_name, c.assigned_tasks, c.configured_capacity);
                assert!(cell(&header, row, "channels").contains(&text), "{text} in {row:?}");
            }
        }
    }
    // alice: Available since 08:00:10Z (10 s into the day: 35,990 s before 18:00Z), T3 in hand.
    let (header, rows) = csv_rows(&app, &path("Workers/Export?FriendlyName=alice")).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(cell(&header, &rows[0], "sid"), alice());
    assert_eq!((cell(&header, &rows[0], "seconds_in_state"), cell(&header, &rows[0], "tasks")), ("35990", "1"));
    app.stop().await;
}

/// Waits (bounded) until the Alerts list holds `n` alerts, advancing the clock 1 ms a poll
/// so the evaluator, which wakes every second and on every change, sees a new moment.
async fn alerts_listed(app: &TestApp, ws: &str, n: usize) -> AlertPage {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let page: AlertPage = app.get_json(&format!("/v1/Workspaces/{ws}/Alerts")).await;
        if page.alerts.len() >= n {
            return page;
        }
        assert!(tokio::time::Instant::now() < deadline, "{n} alerts within 15 s: {page:?}");
        app.clock.advance(1);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn alert_history_export_equals_the_alerts_list() {
    let app = floor_app().await;
    let target = support_q();
    let rule = [
        ("Name", "Support, \"urgent\" line"),
        ("Target", target.as_str()),
        ("Measure", "waiting"),
        ("Comparison", ">"),
        ("Threshold", "0"),
        ("For", "0"),
        ("Level", "critical"),
    ];
    let r = app
        .client
        .post(format!("{}{}", app.base, path("AlertRules")))
        .basic_auth(ACCOUNT_SID, Some(AUTH_TOKEN))
        .form(&rule)
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    // Support has a waiting task? No: its T1 and T2 moved to Sales; one more task enters it.
    let task = Form::new("task.created", 0x7101, NOW, &fw())
        .with("TaskSid", sid("WT", 0x7101))
        .with("WorkflowSid", sid("WW", 0xf01))
        .with("WorkflowName", "Main")
        .with("TaskPriority", 0)
        .with("TaskAttributes", "{}")
        .with("TaskAssignmentStatus", "pending")
        .with("TaskQueueSid", support_q())
        .with("TaskChannelUniqueName", "voice");
    assert_eq!(app.post_event(&task.0).await, StatusCode::NO_CONTENT);
    let page = alerts_listed(&app, &fw(), 1).await;
    let alert = &page.alerts[0];
    let ack = app
        .client
        .post(format!("{}{}", app.base, path(&format!("Alerts/{}", alert.alert.sid))))
        .basic_auth(ACCOUNT_SID, Some(AUTH_TOKEN))
        .form(&[("Acknowledged", "true")])
        .send()
        .await
        .expect("request");
    assert_eq!(ack.status(), StatusCode::OK);
    let list = app.get_ok(&path("Alerts")).await;
    let (header, rows) = csv_rows(&app, &path("Alerts/Export?TimeZone=Asia/Tokyo")).await;
    let zone = chrono_tz::Asia::Tokyo;
    assert_eq!(rows.len(), list["alerts"].as_array().expect("alerts").len());
    let a = &list["alerts"][0];
    let row = &rows[0];
    assert_eq!(cell(&header, row, "sid"), a["sid"]);
    assert_eq!(cell(&header, row, "rule"), "Support, \"urgent\" line");
    assert_eq!(cell(&header, row, "target"), support_q());
    assert_eq!(cell(&header, row, "measure"), a["measure"]);
    assert_eq!(cell(&header, row, "level"), "critical");
    assert_eq!(cell(&header, row, "status"), a["status"]);
    assert_eq!(cell(&header, row, "value").parse::<f64>().ok(), a["value"].as_f64());
    assert_eq!(cell(&header, row, "description"), a["description"]);
    assert_eq!(cell(&header, row, "fired (Asia/Tokyo)"), local(a["date_fired"].as_str().expect("fired"), zone));
    assert_eq!(
        cell(&header, row, "acknowledged (Asia/Tokyo)"),
        local(a["date_acknowledged"].as_str().expect("acknowledged"), zone)
    );
    assert_eq!(cell(&header, row, "acknowledged_by"), "account");
    assert_eq!(cell(&header, row, "cleared (Asia/Tokyo)"), "", "still firing");
    let (_, cleared) = csv_rows(&app, &path("Alerts/Export?Status=cleared")).await;
    assert!(cleared.is_empty());
    app.stop().await;
}

fn sales_only() -> Scope {
    Scope::Workspace {
        workspace: WorkspaceSid::parse(WS).expect("sid"),
        workflows: vec![WorkflowSid::parse(SALES).expect("sid")],
    }
}

#[tokio::test]
async fn a_token_limited_to_some_workflows_exports_exactly_what_the_api_gives_it() {
    let app = spawn_app(NOW).await;
    scenario::load(&app).await;
    let (token, _) = app.create_token("sales wall", sales_only(), None, NOW);
    let export = sales("CumulativeStatistics/Export?Minutes=600&SplitByWaitTime=20");
    let (status, _, mine) = download(&app, &export, Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    let (_, _, account) = download(&app, &export, None).await;
    assert_eq!(mine, account, "the same rows as with the account's credentials");
    for refused in [
        support("CumulativeStatistics/Export"),
        format!("/v1/Workspaces/{WS}/CumulativeStatistics/Export"),
        format!("/v1/Workspaces/{WS}/TaskQueues/WQ00000000000000000000000000000001/CumulativeStatistics/Export"),
        format!("/v1/Workspaces/{WS}/Workers/Export"),
        format!("/v1/Workspaces/{WS}/Alerts/Export"),
    ] {
        let (status, _, body) = download(&app, &refused, Some(&token)).await;
        let error: TwilioError = decode(serde_json::from_str(&body).expect("JSON error"), &refused);
        assert_eq!((status, error.code), (StatusCode::FORBIDDEN, 20403), "{refused}: {body}");
        // The JSON resource refuses it alike.
        let resource = refused.trim_end_matches("/Export").to_owned();
        let (s, _) = app.get_bearer(&resource, &token).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{resource}");
    }
    app.stop().await;
}

#[tokio::test]
async fn bad_parameters_are_400_in_twilios_format_and_unknown_targets_404() {
    let app = spawn_app(NOW).await;
    scenario::load(&app).await;
    for (query, words) in [
        ("Format=xlsx", "Format must be csv or json"),
        ("TimeZone=Mars/Olympus", "not an IANA time zone"),
        ("TimeZone=UTC&TimeZone=Europe/Paris", "TimeZone was given more than once"),
        ("Minutes=abc", "Minutes"),
        ("SplitByWaitTime=soon", "SplitByWaitTime"),
        ("TaskChannel=fax", "TaskChannel"),
    ] {
        let p = sales(&format!("CumulativeStatistics/Export?{query}"));
        let (status, body) = app.get(&p).await;
        let error: TwilioError = decode(body, &p);
        assert_eq!((status, error.status, error.code), (StatusCode::BAD_REQUEST, 400, 20001), "{query}");
        assert!(error.message.contains(words), "{query}: {}", error.message);
        assert!(!error.more_info.is_empty());
    }
    for (p, expected) in [
        (format!("/v1/Workspaces/{WS}/Alerts/Export?Status=loud"), StatusCode::BAD_REQUEST),
        (format!("/v1/Workspaces/{WS}/Workers/Export?Ordering=Height:asc"), StatusCode::BAD_REQUEST),
        (
            format!("/v1/Workspaces/{WS}/Workflows/WW000000000000000000000000000000ff/CumulativeStatistics/Export"),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("/v1/Workspaces/{WS}/TaskQueues/WQ000000000000000000000000000000ff/CumulativeStatistics/Export"),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (status, body) = app.get(&p).await;
        let error: TwilioError = decode(body, &p);
        assert_eq!((status.as_u16(), error.status), (expected.as_u16(), expected.as_u16()), "{p}");
    }
    app.stop().await;
}
