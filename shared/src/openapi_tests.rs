//! Checks every task queue, worker and workspace wire type against Twilio's OpenAPI
//! description kept in the repository as a backend test fixture: a filled sample of each
//! type serializes to exactly the properties of its schema, with the declared types.

use std::collections::{BTreeMap, BTreeSet};

use chrono::TimeZone;
use serde::Serialize;
use serde_json::Value;

use crate::queues::tests as q;
use crate::queues::*;
use crate::resources::PageMeta;
use crate::sid::*;
use crate::workers::tests as wk;
use crate::workers::*;
use crate::workspace::tests as ws;
use crate::workspace::*;

const REFERENCE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../backend/tests/fixtures/twilio_taskrouter_v1_queues_workers_workspace.json"
);

/// Properties the nested `realtime`/`cumulative` objects leave to their parent.
const PARENT_FIELDS: [&str; 5] = ["account_sid", "workspace_sid", "task_queue_sid", "worker_sid", "url"];

struct Reference(Value);

impl Reference {
    fn load() -> Self {
        let text = std::fs::read_to_string(REFERENCE).unwrap_or_else(|e| panic!("cannot read {REFERENCE}: {e}"));
        Self(serde_json::from_str(&text).expect("the reference is JSON"))
    }

    fn schema(&self, name: &str) -> &Value {
        let s = &self.0["components"]["schemas"][format!("taskrouter.v1.workspace.{name}")];
        assert!(s.is_object(), "no schema {name}");
        s
    }

    /// The 200 answer of `method path`: its schema and its first example.
    fn answer(&self, path: &str, method: &str) -> (&Value, &Value) {
        let body = &self.0["paths"][path][method]["responses"]["200"]["content"]["application/json"];
        let example = body["examples"].as_object().and_then(|m| m.values().next()).expect("an example");
        (&body["schema"], &example["value"])
    }
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap_or_else(|| panic!("not an object: {v}")).keys().cloned().collect()
}

/// `schema` without the properties a nested object leaves to its parent.
fn nested(schema: &Value) -> Value {
    let mut s = schema.clone();
    let props = s["properties"].as_object_mut().expect("properties");
    for key in PARENT_FIELDS {
        props.remove(key);
    }
    s
}

/// The value's keys are exactly the schema's properties, and each value has the declared
/// type, nullability, SID prefix, time format and absolute URL.
fn check(schema: &Value, value: &Value, path: &str) {
    let props = schema["properties"].as_object().unwrap_or_else(|| panic!("{path}: not an object schema"));
    let declared: BTreeSet<String> = props.keys().cloned().collect();
    assert_eq!(keys(value), declared, "{path}: field names differ from Twilio's schema");
    for (key, p) in props {
        let v = &value[key];
        let here = format!("{path}.{key}");
        if v.is_null() {
            assert_eq!(p["nullable"], true, "{here} is null but not nullable");
            continue;
        }
        if let Some(r) = p["$ref"].as_str() {
            assert_eq!(r, "#/components/schemas/task_queue_enum_task_order", "{here}");
            assert!(matches!(v.as_str(), Some("FIFO" | "LIFO")), "{here} = {v}");
            continue;
        }
        match p["type"].as_str() {
            Some("integer") => assert!(v.is_u64() || v.is_i64(), "{here} is not an integer: {v}"),
            Some("boolean") => assert!(v.is_boolean(), "{here} is not a boolean: {v}"),
            Some("array") => assert!(v.is_array(), "{here} is not an array: {v}"),
            Some("object") => {
                let links = v.as_object().unwrap_or_else(|| panic!("{here} is not an object: {v}"));
                assert!(links.values().all(|u| u.as_str().is_some_and(|u| u.starts_with("http"))), "{here}: {v}");
            }
            Some("string") => {
                let s = v.as_str().unwrap_or_else(|| panic!("{here} is not a string: {v}"));
                if let Some(pattern) = p["pattern"].as_str() {
                    // Every pattern of these schemas is `^XX[0-9a-fA-F]{32}$`.
                    let prefix = &pattern[1..3];
                    assert!(is_sid(prefix, s), "{here} = {s} does not match {pattern}");
                }
                match p["format"].as_str() {
                    Some("date-time") => {
                        let t = chrono::DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("{here}: {e}"));
                        assert_eq!(t.to_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true), s, "{here}");
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

/// Each element of `ours` has exactly the keys of the first element of Twilio's example array.
fn check_elements(ours: &Value, example: &Value, path: &str) {
    let want = keys(&example[0]);
    let items = ours.as_array().unwrap_or_else(|| panic!("{path}: not an array"));
    assert!(!items.is_empty(), "{path}: the sample should have elements");
    for (i, item) in items.iter().enumerate() {
        assert_eq!(keys(item), want, "{path}[{i}]: field names differ from Twilio's example");
    }
}

fn to_value<T: Serialize>(t: &T) -> Value {
    serde_json::to_value(t).expect("serializes")
}

const BASE: &str = "https://wallboard.example/v1/Workspaces/WS00000000000000000000000000000002";

fn account() -> AccountSid {
    AccountSid::from_u128(1)
}

fn workspace() -> WorkspaceSid {
    WorkspaceSid::from_u128(2)
}

fn time() -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::Utc.with_ymd_and_hms(2026, 11, 27, 8, 30, 5).single()
}

fn links(names: &[&str]) -> BTreeMap<String, String> {
    names.iter().map(|n| ((*n).to_owned(), format!("{BASE}/{n}"))).collect()
}

fn meta(key: &str) -> PageMeta {
    let url = format!("{BASE}/{key}?PageSize=50&Page=0");
    PageMeta {
        first_page_url: url.clone(),
        key: key.to_owned(),
        next_page_url: None,
        page: 0,
        page_size: 50,
        previous_page_url: None,
        url,
    }
}

fn task_queue(filled: bool) -> TaskQueue {
    TaskQueue {
        account_sid: account(),
        assignment_activity_sid: filled.then(|| ActivitySid::from_u128(3)),
        assignment_activity_name: filled.then(|| "Busy".to_owned()),
        date_created: time().filter(|_| filled),
        date_updated: time().filter(|_| filled),
        friendly_name: "Sales".into(),
        max_reserved_workers: 1,
        reservation_activity_sid: filled.then(|| ActivitySid::from_u128(4)),
        reservation_activity_name: filled.then(|| "Reserved".to_owned()),
        sid: TaskQueueSid::from_u128(5),
        target_workers: filled.then(|| "skills HAS \"sales\"".to_owned()),
        task_order: TaskOrder::Lifo,
        url: format!("{BASE}/TaskQueues/WQ"),
        workspace_sid: workspace(),
        links: links(&["workspace", "statistics", "real_time_statistics", "cumulative_statistics"]),
    }
}

fn worker(filled: bool) -> Worker {
    Worker {
        account_sid: account(),
        activity_name: filled.then(|| "Available".to_owned()),
        activity_sid: filled.then(|| ActivitySid::from_u128(1)),
        attributes: filled.then(|| r#"{"skills":["sales"]}"#.to_owned()),
        available: filled,
        date_created: time().filter(|_| filled),
        date_status_changed: time().filter(|_| filled),
        date_updated: time().filter(|_| filled),
        friendly_name: "alice".into(),
        sid: WorkerSid::from_u128(6),
        workspace_sid: workspace(),
        url: format!("{BASE}/Workers/WK"),
        links: links(&["channels", "activity", "workspace"]),
    }
}

fn activity(filled: bool) -> Activity {
    Activity {
        account_sid: account(),
        available: filled,
        date_created: time().filter(|_| filled),
        date_updated: time().filter(|_| filled),
        friendly_name: "Break".into(),
        sid: ActivitySid::from_u128(7),
        workspace_sid: workspace(),
        url: format!("{BASE}/Activities/WA"),
        links: links(&["workspace"]),
    }
}

fn worker_channel(filled: bool) -> WorkerChannel {
    WorkerChannel {
        account_sid: account(),
        assigned_tasks: 1,
        available: filled,
        available_capacity_percentage: 50,
        configured_capacity: 2,
        date_created: time().filter(|_| filled),
        date_updated: time().filter(|_| filled),
        sid: WorkerChannelSid::from_u128(8),
        task_channel_sid: TaskChannelSid::from_u128(9),
        task_channel_unique_name: "chat".into(),
        worker_sid: WorkerSid::from_u128(6),
        workspace_sid: workspace(),
        url: format!("{BASE}/Workers/WK/Channels/WC"),
    }
}

#[test]
fn read_only_instances_and_lists_match_their_schemas() {
    let r = Reference::load();
    for filled in [true, false] {
        check(r.schema("task_queue"), &to_value(&task_queue(filled)), "TaskQueue");
        check(r.schema("worker"), &to_value(&worker(filled)), "Worker");
        check(r.schema("activity"), &to_value(&activity(filled)), "Activity");
        check(r.schema("worker.worker_channel"), &to_value(&worker_channel(filled)), "WorkerChannel");
    }
    let lists = [
        (
            "/v1/Workspaces/{WorkspaceSid}/TaskQueues",
            to_value(&TaskQueuePage { task_queues: vec![task_queue(true)], meta: meta("task_queues") }),
        ),
        (
            "/v1/Workspaces/{WorkspaceSid}/Workers",
            to_value(&WorkerPage { workers: vec![worker(true)], meta: meta("workers") }),
        ),
        (
            "/v1/Workspaces/{WorkspaceSid}/Activities",
            to_value(&ActivityPage { activities: vec![activity(true)], meta: meta("activities") }),
        ),
        (
            "/v1/Workspaces/{WorkspaceSid}/Workers/{WorkerSid}/Channels",
            to_value(&WorkerChannelPage { channels: vec![worker_channel(true)], meta: meta("channels") }),
        ),
    ];
    for (path, v) in lists {
        let (schema, example) = r.answer(path, "get");
        assert_eq!(keys(&v), keys(&schema["properties"]), "{path}");
        assert_eq!(keys(&v["meta"]), keys(&schema["properties"]["meta"]["properties"]), "{path} meta");
        assert_eq!(v["meta"]["key"], example["meta"]["key"], "{path} key");
    }
}

fn queue_realtime() -> TaskQueueRealTimeStatistics {
    TaskQueueRealTimeStatistics {
        account_sid: account(),
        workspace_sid: workspace(),
        task_queue_sid: TaskQueueSid::from_u128(5),
        stats: q::sample_realtime(),
        url: format!("{BASE}/TaskQueues/WQ/RealTimeStatistics"),
    }
}

#[test]
fn task_queue_statistics_match_their_schemas() {
    let r = Reference::load();
    let (rt_schema, cu_schema) = (
        r.schema("task_queue.task_queue_real_time_statistics"),
        r.schema("task_queue.task_queue_cumulative_statistics"),
    );
    let rt = to_value(&queue_realtime());
    check(rt_schema, &rt, "TaskQueueRealTimeStatistics");
    let (_, example) = r.answer("/v1/Workspaces/{WorkspaceSid}/TaskQueues/{TaskQueueSid}/RealTimeStatistics", "get");
    check_elements(&rt["activity_statistics"], &example["activity_statistics"], "activity_statistics");
    let cu = TaskQueueCumulativeStatistics {
        account_sid: account(),
        workspace_sid: workspace(),
        task_queue_sid: TaskQueueSid::from_u128(5),
        stats: q::sample_cumulative(),
        url: format!("{BASE}/TaskQueues/WQ/CumulativeStatistics"),
    };
    check(cu_schema, &to_value(&cu), "TaskQueueCumulativeStatistics");

    let s = to_value(&TaskQueueStatistics {
        account_sid: account(),
        workspace_sid: workspace(),
        task_queue_sid: TaskQueueSid::from_u128(5),
        cumulative: q::sample_cumulative(),
        realtime: q::sample_realtime(),
        url: format!("{BASE}/TaskQueues/WQ/Statistics"),
    });
    check(r.schema("task_queue.task_queue_statistics"), &s, "TaskQueueStatistics");
    check(&nested(cu_schema), &s["cumulative"], "TaskQueueStatistics.cumulative");
    check(&nested(rt_schema), &s["realtime"], "TaskQueueStatistics.realtime");

    let item = TaskQueuesStatistics {
        account_sid: account(),
        workspace_sid: workspace(),
        task_queue_sid: TaskQueueSid::from_u128(5),
        cumulative: q::sample_cumulative(),
        realtime: q::sample_realtime(),
    };
    let page = to_value(&TaskQueuesStatisticsPage {
        task_queues_statistics: vec![item],
        meta: meta("task_queues_statistics"),
    });
    let (schema, _) = r.answer("/v1/Workspaces/{WorkspaceSid}/TaskQueues/Statistics", "get");
    assert_eq!(keys(&page), keys(&schema["properties"]));
    let entry = &page["task_queues_statistics"][0];
    check(r.schema("task_queue.task_queues_statistics"), entry, "TaskQueuesStatistics");
    check(&nested(cu_schema), &entry["cumulative"], "TaskQueuesStatistics.cumulative");
    check(&nested(rt_schema), &entry["realtime"], "TaskQueuesStatistics.realtime");
}

#[test]
fn bulk_realtime_matches_its_schema_and_example() {
    let r = Reference::load();
    let data = vec![BulkTaskQueueData::from_stats(TaskQueueSid::from_u128(5), q::sample_realtime())];
    let bulk = to_value(&TaskQueueBulkRealTimeStatistics {
        account_sid: account(),
        workspace_sid: workspace(),
        task_queue_response_count: data.len() as u64,
        task_queue_data: data,
        url: format!("{BASE}/TaskQueues/RealTimeStatistics"),
    });
    check(r.schema("task_queue.task_queue_bulk_real_time_statistics"), &bulk, "TaskQueueBulkRealTimeStatistics");
    let (_, example) = r.answer("/v1/Workspaces/{WorkspaceSid}/TaskQueues/RealTimeStatistics", "post");
    check_elements(&bulk["task_queue_data"], &example["task_queue_data"], "task_queue_data");
    check_elements(
        &bulk["task_queue_data"][0]["activity_statistics"],
        &example["task_queue_data"][0]["activity_statistics"],
        "task_queue_data.activity_statistics",
    );
}

#[test]
fn workers_statistics_match_their_schemas() {
    let r = Reference::load();
    let (rt_schema, cu_schema) =
        (r.schema("worker.workers_real_time_statistics"), r.schema("worker.workers_cumulative_statistics"));
    let realtime = WorkersRealTimeStats { activity_statistics: wk::activity_statistics(), total_workers: 3 };
    let rt = to_value(&WorkersRealTimeStatistics {
        account_sid: account(),
        workspace_sid: workspace(),
        stats: realtime.clone(),
        url: format!("{BASE}/Workers/RealTimeStatistics"),
    });
    check(rt_schema, &rt, "WorkersRealTimeStatistics");
    let cu = to_value(&WorkersCumulativeStatistics {
        account_sid: account(),
        workspace_sid: workspace(),
        stats: wk::sample_cumulative(),
        url: format!("{BASE}/Workers/CumulativeStatistics"),
    });
    check(cu_schema, &cu, "WorkersCumulativeStatistics");
    let (_, example) = r.answer("/v1/Workspaces/{WorkspaceSid}/Workers/CumulativeStatistics", "get");
    check_elements(&cu["activity_durations"], &example["activity_durations"], "activity_durations");
    let (_, example) = r.answer("/v1/Workspaces/{WorkspaceSid}/Workers/RealTimeStatistics", "get");
    check_elements(&rt["activity_statistics"], &example["activity_statistics"], "activity_statistics");

    let s = to_value(&WorkersStatistics {
        account_sid: account(),
        workspace_sid: workspace(),
        cumulative: wk::sample_cumulative(),
        realtime,
        url: format!("{BASE}/Workers/Statistics"),
    });
    check(r.schema("worker.worker_statistics"), &s, "WorkersStatistics");
    check(&nested(cu_schema), &s["cumulative"], "WorkersStatistics.cumulative");
    check(&nested(rt_schema), &s["realtime"], "WorkersStatistics.realtime");

    let one = to_value(&WorkerInstanceStatistics {
        account_sid: account(),
        workspace_sid: workspace(),
        worker_sid: WorkerSid::from_u128(6),
        cumulative: wk::sample_cumulative(),
        url: format!("{BASE}/Workers/WK/Statistics"),
    });
    check(r.schema("worker.worker_instance_statistics"), &one, "WorkerInstanceStatistics");
    check(&nested(cu_schema), &one["cumulative"], "WorkerInstanceStatistics.cumulative");
    let (_, example) = r.answer("/v1/Workspaces/{WorkspaceSid}/Workers/{WorkerSid}/Statistics", "get");
    assert_eq!(keys(&one["cumulative"]), keys(&example["cumulative"]), "as Twilio's example");
}

#[test]
fn workspace_statistics_match_their_schemas() {
    let r = Reference::load();
    let (rt_schema, cu_schema) =
        (r.schema("workspace_real_time_statistics"), r.schema("workspace_cumulative_statistics"));
    let rt = WorkspaceRealTimeStatistics {
        account_sid: account(),
        workspace_sid: workspace(),
        stats: ws::sample_realtime(),
        url: format!("{BASE}/RealTimeStatistics"),
    };
    check(rt_schema, &to_value(&rt), "WorkspaceRealTimeStatistics");
    let cu = WorkspaceCumulativeStatistics {
        account_sid: account(),
        workspace_sid: workspace(),
        stats: ws::sample_cumulative(),
        url: format!("{BASE}/CumulativeStatistics"),
    };
    check(cu_schema, &to_value(&cu), "WorkspaceCumulativeStatistics");
    let s = to_value(&WorkspaceStatistics {
        account_sid: account(),
        workspace_sid: workspace(),
        cumulative: ws::sample_cumulative(),
        realtime: ws::sample_realtime(),
        url: format!("{BASE}/Statistics"),
    });
    check(r.schema("workspace_statistics"), &s, "WorkspaceStatistics");
    check(&nested(cu_schema), &s["cumulative"], "WorkspaceStatistics.cumulative");
    check(&nested(rt_schema), &s["realtime"], "WorkspaceStatistics.realtime");
}

#[test]
fn examples_of_the_reference_decode_into_our_types() {
    // Twilio's own examples read back through our types wherever they are complete
    // (the nested Statistics examples omit fields and give `avg_task_acceptance_time` as 0.0).
    let r = Reference::load();
    let ex = |path: &str, method: &str| r.answer(path, method).1.clone();
    let p = "/v1/Workspaces/{WorkspaceSid}";
    serde_json::from_value::<TaskQueue>(ex(&format!("{p}/TaskQueues/{{Sid}}"), "get")).expect("TaskQueue");
    serde_json::from_value::<TaskQueuePage>(ex(&format!("{p}/TaskQueues"), "get")).expect("TaskQueuePage");
    serde_json::from_value::<Worker>(ex(&format!("{p}/Workers/{{Sid}}"), "get")).expect("Worker");
    serde_json::from_value::<WorkerPage>(ex(&format!("{p}/Workers"), "get")).expect("WorkerPage");
    serde_json::from_value::<Activity>(ex(&format!("{p}/Activities/{{Sid}}"), "get")).expect("Activity");
    serde_json::from_value::<ActivityPage>(ex(&format!("{p}/Activities"), "get")).expect("ActivityPage");
    serde_json::from_value::<WorkerChannel>(ex(&format!("{p}/Workers/{{WorkerSid}}/Channels/{{Sid}}"), "get"))
        .expect("WorkerChannel");
    serde_json::from_value::<WorkerChannelPage>(ex(&format!("{p}/Workers/{{WorkerSid}}/Channels"), "get"))
        .expect("WorkerChannelPage");
    serde_json::from_value::<TaskQueueRealTimeStatistics>(ex(
        &format!("{p}/TaskQueues/{{TaskQueueSid}}/RealTimeStatistics"),
        "get",
    ))
    .expect("TaskQueueRealTimeStatistics");
    serde_json::from_value::<TaskQueueCumulativeStatistics>(ex(
        &format!("{p}/TaskQueues/{{TaskQueueSid}}/CumulativeStatistics"),
        "get",
    ))
    .expect("TaskQueueCumulativeStatistics");
    serde_json::from_value::<TaskQueueBulkRealTimeStatistics>(ex(
        &format!("{p}/TaskQueues/RealTimeStatistics"),
        "post",
    ))
    .expect("TaskQueueBulkRealTimeStatistics");
    serde_json::from_value::<WorkersRealTimeStatistics>(ex(&format!("{p}/Workers/RealTimeStatistics"), "get"))
        .expect("WorkersRealTimeStatistics");
    serde_json::from_value::<WorkersCumulativeStatistics>(ex(&format!("{p}/Workers/CumulativeStatistics"), "get"))
        .expect("WorkersCumulativeStatistics");
    serde_json::from_value::<WorkersStatistics>(ex(&format!("{p}/Workers/Statistics"), "get"))
        .expect("WorkersStatistics");
    serde_json::from_value::<WorkerInstanceStatistics>(ex(&format!("{p}/Workers/{{WorkerSid}}/Statistics"), "get"))
        .expect("WorkerInstanceStatistics");
    serde_json::from_value::<WorkspaceCumulativeStatistics>(ex(&format!("{p}/CumulativeStatistics"), "get"))
        .expect("WorkspaceCumulativeStatistics");
}

#[test]
#[should_panic(expected = "field names differ")]
fn the_check_notices_a_missing_field() {
    let r = Reference::load();
    let mut v = to_value(&activity(true));
    v.as_object_mut().expect("object").remove("links");
    check(r.schema("activity"), &v, "Activity");
}

#[test]
#[should_panic(expected = "is null but not nullable")]
fn the_check_notices_a_null_where_twilio_has_none() {
    let r = Reference::load();
    let mut v = to_value(&worker_channel(true));
    v["assigned_tasks"] = Value::Null;
    check(r.schema("worker.worker_channel"), &v, "WorkerChannel");
}
