//! [`EventLog`] on SQLite in WAL mode, plus the small settings table.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};

use super::{EventFilter, EventLog, StorageError};
use crate::event::Event;

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "wallboard.db";

/// The SQLite event log. One writer per process; readers may open their own.
#[derive(Debug)]
pub struct SqliteLog {
    conn: Connection,
    path: PathBuf,
}

impl SqliteLog {
    /// Opens (creating if needed) `wallboard.db` in `data_dir`.
    pub fn open_dir(data_dir: &Path) -> Result<Self, StorageError> {
        Self::open(&super::db_path(data_dir)?)
    }

    pub fn open(path: &Path) -> Result<Self, StorageError> {
        let conn = super::connect(path)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS events (
                 sid TEXT PRIMARY KEY,
                 ts_ms INTEGER NOT NULL,
                 workspace_sid TEXT NOT NULL,
                 event_type TEXT NOT NULL,
                 data TEXT NOT NULL
             );
             CREATE INDEX IF NOT EXISTS events_by_time ON events (ts_ms);
             CREATE TABLE IF NOT EXISTS settings (
                 key TEXT PRIMARY KEY,
                 value TEXT NOT NULL
             );",
        )?;
        Ok(Self { conn, path: path.to_owned() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn setting(&self, key: &str) -> Result<Option<String>, StorageError> {
        Ok(self.conn.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    }

    pub fn set_setting(&self, key: &str, value: &str) -> Result<(), StorageError> {
        self.conn.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    fn row_to_event(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Event, StorageError>> {
        let sid: String = r.get(0)?;
        let ts: i64 = r.get(1)?;
        let ws: String = r.get(2)?;
        let et: String = r.get(3)?;
        let data: String = r.get(4)?;
        Ok(Event::from_stored(&sid, et, ts, &ws, &data).map_err(|e| StorageError::Corrupt(e.0)))
    }
}

impl EventLog for SqliteLog {
    fn append(&mut self, events: &[Event]) -> Result<Vec<bool>, StorageError> {
        let tx = self.conn.transaction()?;
        let mut fresh = Vec::with_capacity(events.len());
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO events (sid, ts_ms, workspace_sid, event_type, data)
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (sid) DO NOTHING",
            )?;
            for e in events {
                let n = stmt.execute(params![
                    e.sid.as_str(),
                    e.ts_ms,
                    e.workspace_sid.as_str(),
                    e.event_type,
                    e.data_json()
                ])?;
                fresh.push(n == 1);
            }
        }
        tx.commit()?;
        Ok(fresh)
    }

    fn replay(&self, since_ms: i64, f: &mut dyn FnMut(Event)) -> Result<u64, StorageError> {
        let mut stmt = self.conn.prepare(
            "SELECT sid, ts_ms, workspace_sid, event_type, data FROM events
             WHERE ts_ms >= ?1 ORDER BY ts_ms, sid",
        )?;
        let mut n = 0;
        for row in stmt.query_map([since_ms], Self::row_to_event)? {
            f(row??);
            n += 1;
        }
        Ok(n)
    }

    fn purge(&mut self, before_ms: i64) -> Result<u64, StorageError> {
        Ok(self.conn.execute("DELETE FROM events WHERE ts_ms < ?1", [before_ms])? as u64)
    }

    fn newest_ms(&self) -> Result<Option<i64>, StorageError> {
        Ok(self.conn.query_row("SELECT MAX(ts_ms) FROM events", [], |r| r.get::<_, Option<i64>>(0))?)
    }

    fn count(&self) -> Result<u64, StorageError> {
        Ok(self.conn.query_row("SELECT COUNT(*) FROM events", [], |r| r.get::<_, i64>(0))? as u64)
    }

    fn list(&self, filter: &EventFilter, after: Option<(i64, &str)>, limit: u64) -> Result<Vec<Event>, StorageError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT sid, ts_ms, workspace_sid, event_type, data FROM events
             WHERE workspace_sid = ?1 AND ts_ms >= ?2 AND ts_ms <= ?3
               AND (?4 IS NULL OR event_type = ?4)
               AND (?5 IS NULL OR json_extract(data, '$.task_sid') = ?5)
               AND (?6 IS NULL OR json_extract(data, '$.workflow_sid') = ?6)
               AND (?7 IS NULL OR json_extract(data, '$.reservation_sid') = ?7
                               OR json_extract(data, '$.resource_sid') = ?7)
               AND (?8 IS NULL OR json_extract(data, '$.task_channel_unique_name') = ?8
                               OR json_extract(data, '$.task_channel_sid') = ?8)
               AND (?9 IS NULL OR (ts_ms, sid) > (?9, ?10))
             ORDER BY ts_ms, sid LIMIT ?11",
        )?;
        let (after_ts, after_sid) = after.map_or((None, None), |(t, s)| (Some(t), Some(s)));
        let rows = stmt.query_map(
            params![
                filter.workspace_sid,
                filter.start_ms,
                filter.end_ms,
                filter.event_type,
                filter.task_sid,
                filter.workflow_sid,
                filter.reservation_sid,
                filter.task_channel,
                after_ts,
                after_sid,
                limit as i64,
            ],
            Self::row_to_event,
        )?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row??);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventBuilder;
    use wallboard_shared::sid::{EventSid, WorkspaceSid};

    fn event(n: u128, ts: i64) -> Event {
        EventBuilder::new("worker.activity.update", &EventSid::from_u128(n), ts, &WorkspaceSid::from_u128(1))
            .field("worker_sid", "WK00000000000000000000000000000001")
            .build()
            .expect("valid")
    }

    #[test]
    fn append_is_idempotent_and_replay_is_time_ordered() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = SqliteLog::open_dir(dir.path()).expect("open");
        assert_eq!(log.append(&[event(1, 30), event(2, 10)]).expect("append"), [true, true]);
        assert_eq!(log.append(&[event(2, 10), event(3, 20)]).expect("append"), [false, true]);
        assert_eq!(log.count().expect("count"), 3);
        let mut seen = Vec::new();
        log.replay(0, &mut |e| seen.push(e.ts_ms)).expect("replay");
        assert_eq!(seen, [10, 20, 30]);
        assert_eq!(log.purge(15).expect("purge"), 1);
        drop(log);
        let log = SqliteLog::open_dir(dir.path()).expect("reopen");
        assert_eq!(log.count().expect("count"), 2);
        log.set_setting("k", "v").expect("set");
        assert_eq!(log.setting("k").expect("get").as_deref(), Some("v"));
    }
}
