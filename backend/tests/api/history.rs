//! `…/HistoricalStatistics`: days cut at local midnight across a change of offset, worked
//! by hand; the hours of a 25-hour day; the service level of each day equal to
//! `…/ServiceLevel` over the same window; bad parameters, unknown SIDs, tokens.
//!
//! Workspace HS, workflow "Line", queue "Desk". Paris goes back an hour on Sunday
//! 2026-10-25 (03:00 CEST → 02:00 CET), so that local day runs 2026-10-24T22:00Z to
//! 2026-10-25T23:00Z (25 hours). Now is Monday 2026-10-26T10:00Z. Tasks (created at, UTC;
//! outcome after the wait):
//! 1. 10-24T21:30Z (Sat 23:30 CEST): answered after 10 s;
//! 2. 10-24T22:30Z (Sun 00:30 CEST; still Saturday in UTC): answered after 30 s;
//! 3. 10-25T10:00Z (Sun): answered after 5 s;
//! 4. 10-25T22:30Z (Sun 23:30 CET; Monday for a fixed +2): abandoned after 5 s;
//! 5. 10-25T23:30Z (Mon 00:30 CET): answered after 25 s;
//! 6. 10-26T09:00Z (Mon): abandoned after 40 s.
//!
//! Built-in definition (T = S = 20 s, abandons ≥ S against), in Paris:
//! - Sat: entered 1, answered 1 (1 within 20 s), abandoned 0: SL 1/1, abandonment 0, wait 10 s;
//! - Sun: entered 3, answered 2 (1 within: 5 s), abandoned 1 (short: 5 s < S):
//!   SL 1 ÷ (2 + 1 − 1) = 1/2, abandonment 1/3, wait (30 + 5) ÷ 2 = 17.5 → 18 s;
//! - Mon (so far): entered 2, answered 1 (0 within), abandoned 1 (40 s ≥ S): SL 0/2,
//!   abandonment 1/2, wait 25 s.
//!
//! In UTC the same tasks make 2, 3 and 1 entered.

use chrono::DateTime;
use reqwest::StatusCode;

use wallboard::access::Scope;
use wallboard_shared::history::{Granularity, HistoricalStatistics};
use wallboard_shared::service_level::ServiceLevelStatistics;
use wallboard_shared::{WorkflowSid, WorkspaceSid};

use super::helpers::{ACCOUNT_SID, AUTH_TOKEN, Form, TestApp, serve_args, spawn_app, spawn_app_with};
use super::queues::sid;

fn ms(rfc3339: &str) -> i64 {
    DateTime::parse_from_rfc3339(rfc3339).expect("time").timestamp_millis()
}

fn now() -> i64 {
    ms("2026-10-26T10:00:00Z")
}

fn ws() -> String {
    sid("WS", 0x4800)
}
fn wf() -> String {
    sid("WW", 0x4801)
}
fn desk() -> String {
    sid("WQ", 0x4802)
}
fn path(rest: &str) -> String {
    format!("/v1/Workspaces/{}/{rest}", ws())
}

fn events() -> Vec<Form> {
    let mut seq = 0;
    let mut ev = |event_type: &str, at: i64| {
        seq += 1;
        Form::new(event_type, 0x4_8000 + seq, at, &ws())
    };
    let mut forms = vec![
        ev("task-queue.created", ms("2026-10-20T00:00:00Z"))
            .with("TaskQueueSid", desk())
            .with("TaskQueueName", "Desk")
            .with("TaskQueueTargetExpression", "1==1"),
    ];
    let tasks = [
        ("2026-10-24T21:30:00Z", 10_000, true),
        ("2026-10-24T22:30:00Z", 30_000, true),
        ("2026-10-25T10:00:00Z", 5_000, true),
        ("2026-10-25T22:30:00Z", 5_000, false),
        ("2026-10-25T23:30:00Z", 25_000, true),
        ("2026-10-26T09:00:00Z", 40_000, false),
    ];
    for (n, (created, wait, answered)) in (1u32..).zip(tasks) {
        let task = |f: Form| {
            f.with("TaskSid", sid("WT", 0x4900 + n))
                .with("WorkflowSid", wf())
                .with("WorkflowName", "Line")
                .with("TaskPriority", 0)
                .with("TaskAttributes", "{}")
                .with("TaskAssignmentStatus", "pending")
                .with("TaskQueueSid", desk())
                .with("TaskChannelSid", sid("TC", 0x4a00))
                .with("TaskChannelUniqueName", "voice")
        };
        let reservation = |f: Form| {
            task(f)
                .with("ReservationSid", sid("WR", 0x4b00 + n))
                .with("WorkerSid", sid("WK", 0x4c00))
                .with("WorkerName", "ann")
        };
        let at = ms(created);
        forms.push(task(ev("task.created", at)));
        forms.push(task(ev("workflow.entered", at)));
        forms.push(task(ev("task-queue.entered", at)));
        if answered {
            forms.push(reservation(ev("reservation.created", at + wait - 500)));
            forms.push(reservation(ev("reservation.accepted", at + wait)));
        } else {
            forms.push(task(ev("task.canceled", at + wait)));
        }
    }
    forms
}

async fn fill(app: TestApp) -> TestApp {
    for f in events() {
        assert_eq!(app.post_event(&f.0).await, StatusCode::NO_CONTENT, "event {:?}", f.0);
    }
    app
}

async fn app() -> TestApp {
    fill(spawn_app(now()).await).await
}

/// A row's (entered, answered, abandoned, abandonment, service level, wait).
type Row = (u64, u64, u64, Option<f64>, Option<f64>, Option<u64>);

fn rows(h: &HistoricalStatistics) -> Vec<Row> {
    h.periods
        .iter()
        .map(|p| {
            (
                p.tasks_entered,
                p.tasks_answered,
                p.tasks_abandoned,
                p.abandonment_rate,
                p.service_level,
                p.avg_wait_until_accepted,
            )
        })
        .collect()
}

/// A period's window as `StartDate`/`EndDate` (inclusive: end − 1 ms), in UTC.
fn window_of(start: &str, end: &str) -> String {
    let utc = |ms: i64| {
        DateTime::from_timestamp_millis(ms).expect("time").to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    };
    format!("StartDate={}&EndDate={}", utc(ms(start)), utc(ms(end) - 1))
}

#[tokio::test]
async fn days_are_cut_at_local_midnight_and_worked_by_hand() {
    let app = app().await;
    let h: HistoricalStatistics =
        app.get_json(&path(&format!("Workflows/{}/HistoricalStatistics?Days=4&TimeZone=Europe/Paris", wf()))).await;
    assert_eq!(
        (h.scope.as_str(), h.days, h.granularity, h.time_zone.as_str()),
        (wf().as_str(), 4, Granularity::Day, "Europe/Paris")
    );
    assert_eq!(h.definition.defined_by, "built_in");
    let spans: Vec<(&str, &str)> = h.periods.iter().map(|p| (p.start_time.as_str(), p.end_time.as_str())).collect();
    assert_eq!(
        spans,
        [
            ("2026-10-23T00:00:00+02:00", "2026-10-24T00:00:00+02:00"),
            ("2026-10-24T00:00:00+02:00", "2026-10-25T00:00:00+02:00"),
            ("2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00"),
            ("2026-10-26T00:00:00+01:00", "2026-10-27T00:00:00+01:00"),
        ]
    );
    assert_eq!(
        (h.start_time.as_str(), h.end_time.as_str()),
        ("2026-10-23T00:00:00+02:00", "2026-10-27T00:00:00+01:00")
    );
    assert_eq!(
        rows(&h),
        [
            (0, 0, 0, None, None, None),
            (1, 1, 0, Some(0.0), Some(1.0), Some(10)),
            (3, 2, 1, Some(1.0 / 3.0), Some(0.5), Some(18)),
            (2, 1, 1, Some(0.5), Some(0.0), Some(25)),
        ]
    );
    let complete: Vec<bool> = h.periods.iter().map(|p| p.complete).collect();
    assert_eq!(complete, [true, true, true, false], "today is not over");
    assert!(h.url.ends_with(&format!("/Workflows/{}/HistoricalStatistics", wf())), "{}", h.url);

    // In UTC the same tasks fall on other days.
    let utc: HistoricalStatistics =
        app.get_json(&path(&format!("Workflows/{}/HistoricalStatistics?Days=3", wf()))).await;
    let entered: Vec<u64> = utc.periods.iter().map(|p| p.tasks_entered).collect();
    assert_eq!(entered, [2, 3, 1]);
    assert_eq!(utc.periods[0].start_time, "2026-10-24T00:00:00+00:00");

    // The default is 30 days: 30 rows, the days before the first event zero.
    let month: HistoricalStatistics = app.get_json(&path("HistoricalStatistics?TimeZone=Europe/Paris")).await;
    assert_eq!((month.scope.as_str(), month.periods.len()), ("default", 30));
    assert_eq!(rows(&month)[26..], rows(&h)[..]);
    assert!(month.periods[..26].iter().all(|p| p.tasks_entered == 0 && p.service_level.is_none()));
    // 29 whole days and today fit in a retention of 30 days.
    assert!(month.periods[..29].iter().all(|p| p.complete) && !month.periods[29].complete);
}

#[tokio::test]
async fn the_hours_of_a_25_hour_day() {
    let app = app().await;
    let h: HistoricalStatistics = app
        .get_json(&path(&format!(
            "Workflows/{}/HistoricalStatistics?Granularity=hour&Days=2&TimeZone=Europe/Paris",
            wf()
        )))
        .await;
    assert_eq!(h.periods.len(), 25 + 24);
    // 02:00 comes twice on Sunday: once in CEST, once in CET.
    assert_eq!(h.periods[2].start_time, "2026-10-25T02:00:00+02:00");
    assert_eq!(h.periods[3].start_time, "2026-10-25T02:00:00+01:00");
    // Task 2 at 00:30 CEST, task 3 at 11:00 CET (index 12), task 4 at 23:30 CET (the 25th hour).
    let entered: Vec<(usize, u64)> =
        h.periods.iter().enumerate().filter(|(_, p)| p.tasks_entered > 0).map(|(i, p)| (i, p.tasks_entered)).collect();
    assert_eq!(entered, [(0, 1), (12, 1), (24, 1), (25, 1), (35, 1)]);
    assert_eq!(h.periods[24].start_time, "2026-10-25T23:00:00+01:00");
    assert_eq!((h.periods[24].tasks_abandoned, h.periods[24].abandonment_rate), (1, Some(1.0)));
    let total: u64 = h.periods.iter().map(|p| p.tasks_entered).sum();
    assert_eq!(total, 5);
}

#[tokio::test]
async fn each_days_service_level_is_the_scopes_as_the_service_level_resource_gives_it() {
    let app = app().await;
    // The queue's own definition: T = 30 s, S = 10 s, abandons against; the workspace's
    // default counts short abandons as met.
    let auth = |r: reqwest::RequestBuilder| r.basic_auth(ACCOUNT_SID, Some(AUTH_TOKEN));
    for (scope, form) in [
        (desk(), vec![("Threshold", "30"), ("ShortAbandon", "10"), ("Abandons", "counted_against")]),
        ("default".to_owned(), vec![("Threshold", "15"), ("ShortAbandon", "8"), ("Abandons", "counted_as_met")]),
    ] {
        let url = format!("{}{}", app.base, path(&format!("ServiceLevels/{scope}")));
        let r = auth(app.client.post(url)).form(&form).send().await.expect("request");
        assert_eq!(r.status(), StatusCode::OK);
    }
    for (history, level) in [
        (format!("TaskQueues/{}/HistoricalStatistics", desk()), format!("TaskQueues/{}/ServiceLevel", desk())),
        (format!("Workflows/{}/HistoricalStatistics", wf()), format!("Workflows/{}/ServiceLevel", wf())),
        (
            format!("Workflows/{}/HistoricalStatistics?TaskChannel=voice", wf()),
            format!("Workflows/{}/ServiceLevel?TaskChannel=voice", wf()),
        ),
    ] {
        let sep = if history.contains('?') { '&' } else { '?' };
        let h: HistoricalStatistics = app.get_json(&path(&format!("{history}{sep}Days=3&TimeZone=Europe/Paris"))).await;
        let mut compared = 0;
        for p in h.periods.iter() {
            let sep = if level.contains('?') { '&' } else { '?' };
            let one: ServiceLevelStatistics =
                app.get_json(&path(&format!("{level}{sep}{}", window_of(&p.start_time, &p.end_time)))).await;
            assert_eq!(one.definition, h.definition, "{history}");
            assert_eq!(
                (p.service_level, p.service_level_numerator, p.service_level_denominator),
                (one.service_level, one.numerator, one.denominator),
                "{history} {}",
                p.start_time
            );
            assert_eq!((p.tasks_answered, p.tasks_abandoned), (one.inputs.answered, one.inputs.abandoned));
            compared += usize::from(one.denominator > 0);
        }
        assert_eq!(compared, 3, "{history}: every day has a service level");
    }
    // By hand, on the queue (T = 30 s, S = 10 s): Sunday is answered < 30 s = 1 (5 s; 30 s
    // is not within) of 2 + (1 − 1 short) = 1/2; Monday 1 (25 s) ÷ (1 + 1) = 1/2.
    let q: HistoricalStatistics =
        app.get_json(&path(&format!("TaskQueues/{}/HistoricalStatistics?Days=3&TimeZone=Europe/Paris", desk()))).await;
    let sl: Vec<Option<f64>> = q.periods.iter().map(|p| p.service_level).collect();
    assert_eq!(sl, [Some(1.0), Some(0.5), Some(0.5)]);
    assert_eq!(q.definition.defined_by, desk());
    // The workspace: T = 15 s, S = 8 s, short abandons as met: Sunday (1 + 1) ÷ 3.
    let w: HistoricalStatistics = app.get_json(&path("HistoricalStatistics?Days=3&TimeZone=Europe/Paris")).await;
    assert_eq!((w.periods[1].service_level_numerator, w.periods[1].service_level_denominator), (2, 3));
    assert_eq!(w.definition.defined_by, "default");
}

#[tokio::test]
async fn bad_parameters_unknown_sids_and_tokens() {
    let app = app().await;
    let history = path(&format!("Workflows/{}/HistoricalStatistics", wf()));
    for q in [
        "Days=0",
        "Days=31",
        "Days=x",
        "Days=1.5",
        "Days=2&Days=3",
        "Granularity=week",
        "Granularity=hour&Days=8",
        "TimeZone=Mars/Olympus",
        "TimeZone=",
        "TaskChannel=fax",
        "TaskChannel=",
    ] {
        let (status, body) = app.get(&format!("{history}?{q}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{q}: {body}");
        assert_eq!((body["code"].as_u64(), body["status"].as_u64()), (Some(20001), Some(400)), "{q}: {body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()) && body["more_info"].is_string(), "{body}");
    }
    for unknown in [
        format!("/v1/Workspaces/{}/HistoricalStatistics", sid("WS", 0xdead)),
        path(&format!("Workflows/{}/HistoricalStatistics", sid("WW", 0xdead))),
        path(&format!("TaskQueues/{}/HistoricalStatistics", sid("WQ", 0xdead))),
        path("TaskQueues/WQnope/HistoricalStatistics"),
    ] {
        let (status, body) = app.get(&unknown).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{unknown}: {body}");
        assert_eq!(body["code"], 20404);
    }
    // A token for this workflow reads its history, not the workspace's or a queue's.
    let scope = Scope::Workspace {
        workspace: WorkspaceSid::parse(&ws()).expect("sid"),
        workflows: vec![WorkflowSid::parse(&wf()).expect("sid")],
    };
    let (token, _) = app.create_token("line", scope, None, now());
    let (status, _) = app.get_bearer(&history, &token).await;
    assert_eq!(status, StatusCode::OK);
    for denied in [path("HistoricalStatistics"), path(&format!("TaskQueues/{}/HistoricalStatistics", desk()))] {
        let (status, body) = app.get_bearer(&denied, &token).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{denied}: {body}");
    }
    let r = app.client.get(format!("{}{history}", app.base)).send().await.expect("request");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_longer_retention_gives_more_days() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut args = serve_args(dir.path());
    args.retention_days = 90;
    let app = fill(spawn_app_with(args, std::sync::Arc::new(wallboard::clock::ManualClock::new(now()))).await).await;
    let h: HistoricalStatistics =
        app.get_json(&path(&format!("Workflows/{}/HistoricalStatistics?Days=90", wf()))).await;
    assert_eq!(h.periods.len(), 90);
    assert_eq!(h.periods.iter().map(|p| p.tasks_entered).sum::<u64>(), 6);
    let (status, _) = app.get(&path(&format!("Workflows/{}/HistoricalStatistics?Days=91", wf()))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    app.stop().await;
}

#[tokio::test]
async fn the_history_export_has_the_apis_rows_in_its_zone() {
    use super::export::{cell, csv_rows};
    let app = app().await;
    let query = "Days=4&TimeZone=Europe/Paris";
    for scope in [format!("Workflows/{}/", wf()), format!("TaskQueues/{}/", desk()), String::new()] {
        let h: HistoricalStatistics = app.get_json(&path(&format!("{scope}HistoricalStatistics?{query}"))).await;
        let (header, records) = csv_rows(&app, &path(&format!("{scope}HistoricalStatistics/Export?{query}"))).await;
        assert_eq!(records.len(), h.periods.len(), "one row per period of {scope}");
        for (row, period) in records.iter().zip(&h.periods) {
            // Times in the history's zone, which the header states.
            let start = DateTime::parse_from_rfc3339(&period.start_time).expect("time");
            let local = start.with_timezone(&chrono_tz::Europe::Paris).format("%Y-%m-%d %H:%M:%S").to_string();
            assert_eq!(cell(&header, row, "start_time (Europe/Paris)"), local);
            assert_eq!(cell(&header, row, "tasks_entered"), period.tasks_entered.to_string());
            assert_eq!(cell(&header, row, "tasks_abandoned"), period.tasks_abandoned.to_string());
            assert_eq!(cell(&header, row, "service_level_numerator"), period.service_level_numerator.to_string());
            let level = cell(&header, row, "service_level");
            assert_eq!(level.parse::<f64>().ok(), period.service_level, "{scope}: {level}");
            let wait = cell(&header, row, "avg_wait_until_accepted");
            assert_eq!(wait.parse::<u64>().ok(), period.avg_wait_until_accepted, "{scope}: {wait}");
        }
    }
    // Bad history parameters are the resource's 400s.
    let r = app
        .client
        .get(format!("{}{}", app.base, path(&format!("Workflows/{}/HistoricalStatistics/Export?Days=0", wf()))))
        .basic_auth(ACCOUNT_SID, Some(AUTH_TOKEN))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}
