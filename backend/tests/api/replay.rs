//! The replay's decoder (`Event::from_stored`, which decodes a row's fields straight into one
//! buffer) reads every stored event as the reference does: the row's JSON decoded into a map
//! of strings, then `Event::from_parts` (what every other door builds an event with).

use std::collections::BTreeMap;

use wallboard::event::{Event, EventError};
use wallboard::ingest::simulator::{SimConfig, Simulator};
use wallboard::storage::{EventLog, SqliteLog};

use super::scenario::NOW;

const HOUR: i64 = 3_600_000;

/// What the log decoded stored rows with before issue 14.
fn reference(sid: &str, event_type: &str, ts_ms: i64, ws: &str, data: &str) -> Result<Event, EventError> {
    let map: BTreeMap<String, String> =
        serde_json::from_str(data).map_err(|e| EventError(format!("stored event {sid} has bad data: {e}")))?;
    Event::from_parts(sid.to_owned(), event_type.to_owned(), ts_ms, ws.to_owned(), map)
}

type Row = (String, i64, String, String, String);

/// Every row of the file as stored, in rowid order.
fn rows(log: &SqliteLog) -> Vec<Row> {
    let conn = rusqlite::Connection::open(log.path()).expect("open");
    let mut stmt =
        conn.prepare("SELECT sid, ts_ms, workspace_sid, event_type, data FROM events ORDER BY rowid").expect("prepare");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

fn decode(row: &Row) -> Result<Event, EventError> {
    let (sid, ts, ws, et, data) = row;
    Event::from_stored(sid, et.clone(), *ts, ws, data)
}

fn decode_reference(row: &Row) -> Result<Event, EventError> {
    let (sid, ts, ws, et, data) = row;
    reference(sid, et, *ts, ws, data)
}

#[test]
fn every_stored_event_of_the_simulated_center_decodes_as_the_reference_does() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut log = SqliteLog::open_dir(dir.path()).expect("open");
    // Six hours of the demo center: every event type it makes (task, reservation,
    // workflow, task-queue, worker and activity events, the floor's creations).
    let mut sim = Simulator::new(SimConfig::default(), 7, NOW - 6 * HOUR);
    let mut events = Vec::new();
    sim.advance(NOW, &mut events);
    let mut types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    types.sort_unstable();
    types.dedup();
    assert!(types.len() >= 15, "the center makes many kinds of events: {types:?}");
    for chunk in events.chunks(1_000) {
        log.append(chunk).expect("append");
    }

    let stored = rows(&log);
    assert_eq!(stored.len(), events.len());
    for (row, event) in stored.iter().zip(&events) {
        let fast = decode(row).expect("decodes");
        assert_eq!(Ok(&fast), decode_reference(row).as_ref(), "{}", row.0);
        assert_eq!(&fast, event, "{}: the event appended", row.0);
        assert_eq!(fast.data_json(), row.4, "{}: writes the same JSON back", row.0);
    }

    // The replay hands over the same events, in (time, SID) order.
    let mut replayed = Vec::new();
    assert_eq!(log.replay(0, &mut |e| replayed.push(e)).expect("replay"), events.len() as u64);
    let mut want = events.clone();
    want.sort_by(|a, b| (a.ts_ms, a.sid.as_str()).cmp(&(b.ts_ms, b.sid.as_str())));
    assert_eq!(replayed, want);
}

/// Rows another writer (an older Wallboard, a hand-made import, a repair) may have left:
/// keys out of order or repeated, escapes, empty values; and rows no decoder accepts.
#[test]
fn rows_of_other_writers_decode_as_the_reference_does() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = SqliteLog::open_dir(dir.path()).expect("open");
    let conn = rusqlite::Connection::open(log.path()).expect("open");
    let task = r#""task_sid":"WT00000000000000000000000000000001","workflow_sid":"WW00000000000000000000000000000001""#;
    let datas = [
        format!(r#"{{{task}}}"#),
        format!(r#"{{"workflow_name":"Sales","task_priority":"5",{task}}}"#),
        format!(r#"{{{task},"task_priority":"1","task_priority":"7"}}"#),
        format!(
            r#"{{ {task} , "task_attributes" : "{{\"from\":\"+1 \\\"x\\\"\",\"ü\":\"\u00e9\ud83d\ude00\n\"}}", "workflow_name":"" }}"#
        ),
        format!(r#"{{{task},"task_channel_unique_name":"voice","task_channel":"chat","task_age":"12"}}"#),
        // Refused alike: a number, a null, not an object, a bad SID, a bad priority.
        format!(r#"{{{task},"task_priority":5}}"#),
        format!(r#"{{{task},"workflow_name":null}}"#),
        r#"["WT00000000000000000000000000000001"]"#.to_owned(),
        r#"{"task_sid":"WT1","workflow_sid":"WW00000000000000000000000000000001"}"#.to_owned(),
        format!(r#"{{{task},"task_priority":"high"}}"#),
    ];
    for (i, data) in datas.iter().enumerate() {
        conn.execute(
            "INSERT INTO events (sid, ts_ms, workspace_sid, event_type, data) VALUES (?1, ?2, ?3, 'task.created', ?4)",
            rusqlite::params![format!("EV{:032x}", i + 1), NOW + i as i64, "WS00000000000000000000000000000001", data],
        )
        .expect("insert");
    }
    let stored = rows(&log);
    let mut accepted = 0;
    for row in &stored {
        match (decode(row), decode_reference(row)) {
            (Ok(fast), Ok(slow)) => {
                assert_eq!(fast, slow, "{}", row.4);
                accepted += 1;
            }
            (Err(_), Err(_)) => {}
            (fast, slow) => panic!("{}: {fast:?} but the reference gives {slow:?}", row.4),
        }
    }
    assert_eq!(accepted, 5, "the first five rows are events");
    let repeated = decode(&stored[2]).expect("decodes");
    assert_eq!(repeated.keys().priority, Some(7), "the last of a repeated key wins, as in a map");
}
