//! Twilio Event Streams' webhook sink (`POST /webhooks/eventstreams`): the scripted day
//! delivered as shuffled CloudEvent batches (with repeats, a malformed event and the sink's
//! test event) gives the numbers of the same day delivered as callbacks; forged batches
//! store nothing; the same event through both doors counts once.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use reqwest::StatusCode;
use serde_json::{Value, json};
use wallboard::event::Event;
use wallboard::eventstreams::{TEST_EVENT_TYPE, to_cloud_event};
use wallboard::signature;
use wallboard_shared::event::BatchReport;

use super::helpers::{ACCOUNT_SID, AUTH_TOKEN, TestApp, spawn_app};
use super::scenario::{self, CHAT, NOW, SALES, SUPPORT, VOICE, WS};

fn sink(app: &TestApp) -> String {
    format!("{}/webhooks/eventstreams", app.base)
}

/// POSTs `body` to the sink as Twilio does: `bodySHA256` in the URL, the URL signed.
async fn post_signed(app: &TestApp, body: &[u8]) -> reqwest::Response {
    let url = signature::with_body_sha256(&sink(app), body);
    let sig = signature::compute(AUTH_TOKEN, &url, &[]);
    app.client
        .post(&url)
        .header("Content-Type", "application/json")
        .header("X-Twilio-Signature", sig)
        .body(body.to_vec())
        .send()
        .await
        .expect("request")
}

async fn report(r: reqwest::Response) -> BatchReport {
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.expect("a batch report")
}

/// The scripted day's distinct events as CloudEvents.
fn day_as_cloud_events() -> Vec<Value> {
    let mut seen = std::collections::HashSet::new();
    scenario::events()
        .iter()
        .map(|f| Event::from_form(&f.0).expect("a valid event"))
        .filter(|e| seen.insert(e.sid.clone()))
        .map(|e| to_cloud_event(&e, ACCOUNT_SID))
        .collect()
}

/// What a server answers for the numbers of the day, with its own address taken out.
async fn numbers(app: &TestApp) -> Vec<String> {
    let window = "StartDate=2026-11-27T00:00:00Z";
    let mut paths = Vec::new();
    for wf in [SALES, SUPPORT] {
        for r in ["Statistics", "CumulativeStatistics", "RealTimeStatistics"] {
            paths.push(format!("/v1/Workspaces/{WS}/Workflows/{wf}/{r}?{window}&SplitByWaitTime=10,30,60"));
        }
        for ch in [VOICE, CHAT] {
            paths.push(format!("/v1/Workspaces/{WS}/Workflows/{wf}/CumulativeStatistics?{window}&TaskChannel={ch}"));
        }
    }
    paths.push(format!("/v1/Workspaces/{WS}/Statistics?{window}"));
    paths.push(format!("/v1/Workspaces/{WS}/Workers/Statistics?{window}"));
    let mut out = Vec::new();
    for p in paths {
        let (status, body) = app.get(&p).await;
        assert_eq!(status, StatusCode::OK, "{p}: {body}");
        out.push(body.to_string().replace(&app.base, ""));
    }
    out
}

#[tokio::test]
async fn a_day_through_event_streams_equals_the_same_day_through_callbacks() {
    let callbacks = spawn_app(NOW).await;
    scenario::load(&callbacks).await;

    let streams = spawn_app(NOW).await;
    let day = day_as_cloud_events();
    let distinct = day.len();
    // At least once, in no order: shuffled, five events twice, a malformed event (no
    // workspace) and the sink's test event among them.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(16);
    let mut items = day.clone();
    items.extend(day.iter().step_by(distinct / 5).take(5).cloned());
    let mut malformed = day[0].clone();
    malformed["id"] = json!("NObad");
    malformed["data"]["payload"]["sid"] = json!("EV000000000000000000000000000000ff");
    malformed["data"]["payload"]["workspace_sid"] = Value::Null;
    items.push(malformed);
    items.push(json!({"specversion": "1.0", "type": TEST_EVENT_TYPE, "id": "NOtest", "data": {"test_id": "t-1"}}));
    items.shuffle(&mut rng);
    let mut total = BatchReport::default();
    for chunk in items.chunks(7) {
        let body = serde_json::to_vec(chunk).expect("json");
        let r = report(post_signed(&streams, &body).await).await;
        assert_eq!(r.received, chunk.len());
        total.received += r.received;
        total.stored += r.stored;
        total.duplicates += r.duplicates;
        total.tests += r.tests;
        total.refused.extend(r.refused);
    }
    assert_eq!((total.received, total.stored, total.duplicates, total.tests), (items.len(), distinct, 5, 1));
    let [refused] = total.refused.as_slice() else { panic!("one refused: {:?}", total.refused) };
    assert_eq!(refused.id.as_deref(), Some("NObad"));
    assert!(refused.reason.contains("workspace_sid"), "{}", refused.reason);

    assert_eq!(numbers(&streams).await, numbers(&callbacks).await);
    // The Events resource lists each event once.
    assert_eq!(listed(&streams).await, distinct);
    assert_eq!(listed(&callbacks).await, distinct);
}

/// How many events the Events resource lists for the day.
async fn listed(app: &TestApp) -> usize {
    let path = format!("/v1/Workspaces/{WS}/Events?StartDate=2026-11-27T00:00:00Z&PageSize=1000");
    app.get_ok(&path).await["events"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn forged_batches_are_refused_and_nothing_is_stored() {
    let app = spawn_app(NOW).await;
    let day = day_as_cloud_events();
    let body = serde_json::to_vec(&day[..3]).expect("json");
    let url = signature::with_body_sha256(&sink(&app), &body);
    let good = signature::compute(AUTH_TOKEN, &url, &[]);
    let other_body = serde_json::to_vec(&day[..2]).expect("json");
    let send = |url: String, body: Vec<u8>, sig: Option<String>, basic: Option<(&'static str, &'static str)>| {
        let mut rq = app.client.post(url).header("Content-Type", "application/json").body(body);
        if let Some(sig) = sig {
            rq = rq.header("X-Twilio-Signature", sig);
        }
        if let Some((user, pass)) = basic {
            rq = rq.basic_auth(user, Some(pass));
        }
        rq.send()
    };
    for (what, url, body, sig, basic, want) in [
        ("another token", url.clone(), body.clone(), Some(signature::compute("x", &url, &[])), None, 403),
        ("a tampered body", url.clone(), other_body.clone(), Some(good.clone()), None, 403),
        ("no bodySHA256", sink(&app), body.clone(), Some(signature::compute(AUTH_TOKEN, &sink(&app), &[])), None, 403),
        ("garbage", url.clone(), body.clone(), Some("garbage".to_owned()), None, 403),
        ("nothing", sink(&app), body.clone(), None, None, 403),
        ("wrong Basic credentials", sink(&app), body.clone(), None, Some((ACCOUNT_SID, "wrong-token")), 401),
    ] {
        let r = send(url, body, sig, basic).await.expect("request");
        assert_eq!(r.status().as_u16(), want, "{what}");
        let err: Value = r.json().await.expect("a Twilio error body");
        assert!(err["message"].as_str().is_some_and(|m| !m.is_empty()), "{what}: {err}");
    }
    let (status, _) = app.get(&format!("/v1/Workspaces/{WS}/Events?StartDate=2026-11-27T00:00:00Z")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing stored: the workspace is unknown");

    // Basic credentials written into the sink URL: the account's.
    let r = send(sink(&app), body.clone(), None, Some((ACCOUNT_SID, AUTH_TOKEN))).await.expect("request");
    assert_eq!(report(r).await.stored, 3);
    // Not JSON, or not CloudEvents: 400, nothing stored; a good batch twice: duplicates.
    for bad in [&b"not json"[..], b"42"] {
        let r = post_signed(&app, bad).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    }
    let again = report(post_signed(&app, &body).await).await;
    assert_eq!((again.stored, again.duplicates), (0, 3));
}

#[tokio::test]
async fn the_same_event_by_both_doors_counts_once() {
    let app = spawn_app(NOW).await;
    let forms = scenario::events();
    // The first half as callbacks, then the whole day through Event Streams.
    for f in &forms[..forms.len() / 2] {
        assert_eq!(app.post_event(&f.0).await, StatusCode::NO_CONTENT);
    }
    let day = day_as_cloud_events();
    let r = report(post_signed(&app, &serde_json::to_vec(&day).expect("json")).await).await;
    assert!(r.duplicates > 0 && r.refused.is_empty(), "{r:?}");
    let reference = spawn_app(NOW).await;
    scenario::load(&reference).await;
    assert_eq!(numbers(&app).await, numbers(&reference).await);
}
