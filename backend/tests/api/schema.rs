//! Every statistics response satisfies Twilio's OpenAPI schemas (fixtures in tests/fixtures; see docs/design.md).

use serde_json::Value;

use super::helpers::spawn_app;
use super::scenario::{self, NOW, support};

const SCHEMAS: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/twilio_taskrouter_v1_workflow_statistics.json");

/// The only time format Twilio's helper libraries parse.
static HELPER_TIME_FORMAT: std::sync::LazyLock<regex::Regex> =
    std::sync::LazyLock::new(|| regex::Regex::new(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$").expect("regex"));

fn schemas() -> Value {
    let text = std::fs::read_to_string(SCHEMAS).unwrap_or_else(|e| panic!("cannot read {SCHEMAS}: {e}"));
    serde_json::from_str(&text).expect("the reference is JSON")
}

fn schema<'a>(all: &'a Value, name: &str) -> &'a Value {
    &all["components"]["schemas"][format!("taskrouter.v1.workspace.workflow.{name}")]
}

/// Checks `value` against one OpenAPI 3.0 object schema: every declared property is
/// present, no undeclared one is, and each satisfies type, nullability, length, pattern
/// and format.
fn validate(schema: &Value, value: &Value, path: &str) {
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
        match p["type"].as_str() {
            Some("integer") => assert!(v.is_i64() || v.is_u64(), "{here} is not an integer: {v}"),
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
fn nested(schema: &Value) -> Value {
    let mut s = schema.clone();
    let props = s["properties"].as_object_mut().expect("properties");
    for key in ["account_sid", "workspace_sid", "workflow_sid", "url"] {
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
