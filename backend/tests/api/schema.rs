//! Every statistics response satisfies Twilio's OpenAPI schemas (fixtures in tests/fixtures; see docs/design.md):
//! the workflow statistics, and every task queue, worker, activity and workspace resource.

use serde_json::Value;

use super::helpers::spawn_app;
use super::queues::{self, alice, floor_app, path, sales_q, vip_q};
use super::scenario::{self, NOW, support};

const SCHEMAS: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/twilio_taskrouter_v1_workflow_statistics.json");

/// The only time format Twilio's helper libraries parse.
static HELPER_TIME_FORMAT: std::sync::LazyLock<regex::Regex> =
    std::sync::LazyLock::new(|| regex::Regex::new(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$").expect("regex"));

const FLOOR_SCHEMAS: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/twilio_taskrouter_v1_queues_workers_workspace.json");

fn read(path: &str) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    serde_json::from_str(&text).expect("the reference is JSON")
}

fn schemas() -> Value {
    read(SCHEMAS)
}

/// The queue, worker and workspace excerpt, which also resolves the `$ref`s of [`validate`].
static FLOOR: std::sync::LazyLock<Value> = std::sync::LazyLock::new(|| read(FLOOR_SCHEMAS));

/// The schema a local `$ref` (`#/components/schemas/…`) names, in the queue, worker and
/// workspace excerpt.
fn resolve(reference: &str) -> &'static Value {
    let name =
        reference.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("not a local $ref: {reference}"));
    let s = &FLOOR["components"]["schemas"][name];
    assert!(s.is_object(), "{reference} is not in the excerpt");
    s
}

fn schema<'a>(all: &'a Value, name: &str) -> &'a Value {
    &all["components"]["schemas"][format!("taskrouter.v1.workspace.workflow.{name}")]
}

/// Checks `value` against one OpenAPI 3.0 object schema: every declared property is
/// present, no undeclared one is, and each satisfies type, nullability, length, pattern
/// and format.
pub fn validate(schema: &Value, value: &Value, path: &str) {
    let props = schema["properties"].as_object().expect("object schema");
    let obj = value.as_object().unwrap_or_else(|| panic!("{path}: not an object: {value}"));
    for key in obj.keys() {
        assert!(props.contains_key(key), "{path}.{key} is not in Twilio's schema");
    }
    for (key, p) in props {
        let v = obj.get(key).unwrap_or_else(|| panic!("{path}.{key} is missing"));
        let here = format!("{path}.{key}");
        if v.is_null() {
            assert_eq!(p["nullable"], true, "{here} is null but not nullable");
            continue;
        }
        if let Some(reference) = p["$ref"].as_str() {
            let target = resolve(reference);
            if let Some(allowed) = target["enum"].as_array() {
                assert!(allowed.contains(v), "{here} = {v} is not one of {allowed:?}");
            } else {
                validate(target, v, &here);
            }
            continue;
        }
        match p["type"].as_str() {
            Some("integer") => assert!(v.is_i64() || v.is_u64(), "{here} is not an integer: {v}"),
            Some("boolean") => assert!(v.is_boolean(), "{here} is not a boolean: {v}"),
            Some("array") => assert!(v.is_array(), "{here} is not an array: {v}"),
            Some("object") => {
                let o = v.as_object().unwrap_or_else(|| panic!("{here} is not an object: {v}"));
                if p["format"] == "uri-map" {
                    for (k, url) in o {
                        let url = url.as_str().unwrap_or_else(|| panic!("{here}.{k} is not a string"));
                        assert!(url.starts_with("http://") || url.starts_with("https://"), "{here}.{k}: {url}");
                    }
                }
            }
            Some("string") => {
                let s = v.as_str().unwrap_or_else(|| panic!("{here} is not a string: {v}"));
                if let Some(min) = p["minLength"].as_u64() {
                    assert!(s.len() as u64 >= min, "{here} shorter than {min}");
                }
                if let Some(max) = p["maxLength"].as_u64() {
                    assert!(s.len() as u64 <= max, "{here} longer than {max}");
                }
                if let Some(pattern) = p["pattern"].as_str() {
                    let re = regex::Regex::new(pattern).expect("schema pattern");
                    assert!(re.is_match(s), "{here} = {s} does not match {pattern}");
                }
                match p["format"].as_str() {
                    Some("date-time") => {
                        chrono::DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("{here}: {e}"));
                        assert!(HELPER_TIME_FORMAT.is_match(s), "{here} = {s} is not YYYY-MM-DDTHH:MM:SSZ");
                    }
                    Some("uri") => assert!(s.starts_with("http://") || s.starts_with("https://"), "{here}: {s}"),
                    _ => {}
                }
            }
            Some(other) => panic!("{here}: unexpected schema type {other}"),
            None => assert!(v.is_object(), "{here}: untyped fields are objects in Twilio's examples: {v}"),
        }
    }
}

/// Nested `cumulative`/`realtime` carry the statistics fields of their own resource,
/// without the SIDs and URL.
pub fn nested(schema: &Value) -> Value {
    let mut s = schema.clone();
    let props = s["properties"].as_object_mut().expect("properties");
    for key in ["account_sid", "workspace_sid", "workflow_sid", "task_queue_sid", "worker_sid", "url"] {
        props.remove(key);
    }
    s
}

#[tokio::test]
async fn responses_validate_against_twilio_schemas() {
    let all = schemas();
    let app = spawn_app(NOW).await;
    scenario::load(&app).await;
    let cumulative = schema(&all, "workflow_cumulative_statistics");
    let realtime = schema(&all, "workflow_real_time_statistics");
    let statistics = schema(&all, "workflow_statistics");
    for q in ["", "?SplitByWaitTime=5,30", "?StartDate=2026-11-27&TaskChannel=voice", "?Minutes=1"] {
        for wf in [scenario::sales(""), support("")] {
            let v = app.get_ok(&format!("{wf}CumulativeStatistics{q}")).await;
            validate(cumulative, &v, "CumulativeStatistics");
            let v = app.get_ok(&format!("{wf}Statistics{q}")).await;
            validate(statistics, &v, "Statistics");
            validate(&nested(cumulative), &v["cumulative"], "Statistics.cumulative");
            validate(&nested(realtime), &v["realtime"], "Statistics.realtime");
        }
    }
    for q in ["", "?TaskChannel=chat"] {
        let v = app.get_ok(&format!("{}{q}", scenario::sales("RealTimeStatistics"))).await;
        validate(realtime, &v, "RealTimeStatistics");
    }
    app.stop().await;
}

/// A component schema of the queue, worker and workspace excerpt, by its short name.
pub fn floor_schema(name: &str) -> &'static Value {
    resolve(&format!("#/components/schemas/taskrouter.v1.workspace.{name}"))
}

/// Checks a list answer against its path's inline envelope: every item against the item
/// schema, and `meta`.
fn validate_list(path_key: &str, value: &Value, what: &str) {
    let schema = &FLOOR["paths"][path_key]["get"]["responses"]["200"]["content"]["application/json"]["schema"];
    let props = schema["properties"].as_object().unwrap_or_else(|| panic!("no list schema for {path_key}"));
    for (key, p) in props {
        if key == "meta" {
            validate(p, &value["meta"], &format!("{what}.meta"));
            continue;
        }
        let items = value[key].as_array().unwrap_or_else(|| panic!("{what}.{key} is not an array: {value}"));
        assert!(!items.is_empty(), "{what}.{key}: an empty list proves nothing");
        let item = resolve(p["items"]["$ref"].as_str().expect("items are a $ref"));
        for (i, v) in items.iter().enumerate() {
            validate(item, v, &format!("{what}.{key}[{i}]"));
        }
    }
}

#[tokio::test]
async fn queue_worker_and_workspace_responses_validate_against_twilio_schemas() {
    let app = floor_app().await;
    let ws = "/v1/Workspaces/{WorkspaceSid}";
    let queue = format!("TaskQueues/{}", sales_q());
    let worker = format!("Workers/{}", alice());
    let lists = [
        ("TaskQueues?PageSize=2".to_owned(), format!("{ws}/TaskQueues")),
        ("TaskQueues/Statistics?SplitByWaitTime=10".into(), format!("{ws}/TaskQueues/Statistics")),
        ("Workers".into(), format!("{ws}/Workers")),
        ("Activities".into(), format!("{ws}/Activities")),
        (format!("{worker}/Channels"), format!("{ws}/Workers/{{WorkerSid}}/Channels")),
    ];
    for (rest, key) in &lists {
        let v = app.get_ok(&path(rest)).await;
        validate_list(key, &v, rest);
    }
    let queue_rt = floor_schema("task_queue.task_queue_real_time_statistics");
    let queue_cum = floor_schema("task_queue.task_queue_cumulative_statistics");
    let workers_rt = floor_schema("worker.workers_real_time_statistics");
    let workers_cum = floor_schema("worker.workers_cumulative_statistics");
    let ws_rt = floor_schema("workspace_real_time_statistics");
    let ws_cum = floor_schema("workspace_cumulative_statistics");
    let instances = [
        (queue.clone(), "task_queue"),
        (format!("{queue}/RealTimeStatistics?TaskChannel=voice"), "task_queue.task_queue_real_time_statistics"),
        (format!("{queue}/CumulativeStatistics?SplitByWaitTime=5,30"), "task_queue.task_queue_cumulative_statistics"),
        (format!("{queue}/Statistics?StartDate=2026-11-27"), "task_queue.task_queue_statistics"),
        (worker.clone(), "worker"),
        (format!("{worker}/Channels/voice"), "worker.worker_channel"),
        (format!("{worker}/Statistics"), "worker.worker_instance_statistics"),
        ("Workers/Statistics".into(), "worker.worker_statistics"),
        ("Workers/Statistics?TaskQueueName=Sales".into(), "worker.worker_statistics"),
        ("Workers/RealTimeStatistics".into(), "worker.workers_real_time_statistics"),
        ("Workers/CumulativeStatistics?StartDate=2026-11-27".into(), "worker.workers_cumulative_statistics"),
        (format!("Activities/{}", queues::available()), "activity"),
        ("Statistics?StartDate=2026-11-27&SplitByWaitTime=60".into(), "workspace_statistics"),
        ("RealTimeStatistics".into(), "workspace_real_time_statistics"),
        ("CumulativeStatistics?SplitByWaitTime=60".into(), "workspace_cumulative_statistics"),
    ];
    for (rest, name) in &instances {
        let v = app.get_ok(&path(rest)).await;
        validate(floor_schema(name), &v, rest);
        let (realtime, cumulative) = match *name {
            "task_queue.task_queue_statistics" => (Some(queue_rt), Some(queue_cum)),
            "worker.worker_statistics" => (Some(workers_rt), Some(workers_cum)),
            "worker.worker_instance_statistics" => (None, Some(workers_cum)),
            "workspace_statistics" => (Some(ws_rt), Some(ws_cum)),
            _ => (None, None),
        };
        if let Some(s) = realtime {
            validate(&nested(s), &v["realtime"], &format!("{rest}.realtime"));
        }
        if let Some(s) = cumulative {
            validate(&nested(s), &v["cumulative"], &format!("{rest}.cumulative"));
        }
    }
    let list = app.get_ok(&path("TaskQueues/Statistics")).await;
    for (i, entry) in list["task_queues_statistics"].as_array().expect("entries").iter().enumerate() {
        validate(&nested(queue_rt), &entry["realtime"], &format!("TaskQueues/Statistics[{i}].realtime"));
        validate(&nested(queue_cum), &entry["cumulative"], &format!("TaskQueues/Statistics[{i}].cumulative"));
    }
    let body = format!("QueueSids={},{}", vip_q(), sales_q());
    let (status, v) =
        queues::post(&app, &path("TaskQueues/RealTimeStatistics"), "application/x-www-form-urlencoded", body).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{v}");
    validate(floor_schema("task_queue.task_queue_bulk_real_time_statistics"), &v, "bulk");
    app.stop().await;
}
