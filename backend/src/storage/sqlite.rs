//! [`EventLog`] and [`Settings`] on SQLite in WAL mode: the events table and the small
//! settings table, on one connection.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};
use rustc_hash::FxHashSet;

use super::retention::{FloorKeeper, Stamp, is_floor_type};
use super::{EventFilter, EventLog, LogPosition, Settings, StorageError, StoredRow};
use crate::event::Event;

/// Rows deleted per transaction by [`EventLog::purge`], so that other connections (the
/// server's readers, `wallboard import`) never wait long for the database.
const PURGE_BATCH: usize = 2_000;

/// How much of the file [`EventLog::replay_rows`] maps (SQLite caps it at its build's
/// maximum, 2 GiB here; the rest is read as usual).
const REPLAY_MMAP_BYTES: i64 = 1 << 40;

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "wallboard.db";

/// The SQLite event log. One writer per process; readers may open their own.
#[derive(Debug)]
pub struct SqliteLog {
    conn: Connection,
    path: PathBuf,
    /// Rows up to this rowid were replayed or followed (see [`EventLog::follow`]).
    seen_rowid: std::cell::Cell<i64>,
    /// Rowid ranges this connection appended after `seen_rowid`, when tracking. A write
    /// transaction has the database to itself, so one batch is one contiguous range.
    own: Option<Vec<(i64, i64)>>,
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
        Ok(Self { conn, path: path.to_owned(), seen_rowid: std::cell::Cell::new(0), own: None })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// [`EventLog::replay_rows`], through whatever page reads the connection is set to.
    fn replay_rows_read(
        &self,
        since_ms: i64,
        f: &mut dyn FnMut(StoredRow<'_>) -> Result<(), StorageError>,
    ) -> Result<u64, StorageError> {
        // One read transaction: the rows replayed and the rowid following starts after are
        // the same snapshot, so no event is applied twice or missed.
        let tx = self.conn.unchecked_transaction()?;
        let max = Self::max_rowid(&tx)?;
        let mut n = 0;
        {
            // The floor events before `since_ms` that a purge keeps, then the rest.
            let mut by_row =
                tx.prepare_cached("SELECT sid, ts_ms, workspace_sid, event_type, data FROM events WHERE rowid = ?1")?;
            for (_, row) in Self::floor_rows(&tx, since_ms, max)? {
                let mut rows = by_row.query([row])?;
                let r =
                    rows.next()?.ok_or_else(|| StorageError::Corrupt(format!("row {row} vanished from a snapshot")))?;
                f(stored_row(r)?)?;
                n += 1;
            }
            let mut stmt = tx.prepare(
                "SELECT sid, ts_ms, workspace_sid, event_type, data FROM events
                 WHERE ts_ms >= ?1 ORDER BY ts_ms, sid",
            )?;
            let mut rows = stmt.query([since_ms])?;
            while let Some(r) = rows.next()? {
                f(stored_row(r)?)?;
                n += 1;
            }
        }
        tx.commit()?;
        self.seen_rowid.set(max);
        Ok(n)
    }

    /// The event of a row (sid, ts_ms, workspace_sid, event_type, data), its text columns
    /// read in place (the replay's hot path: only the event type is copied out).
    fn row_to_event(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Event, StorageError>> {
        Ok(stored_row(r)?.decode())
    }

    /// The rows before `before_ms` that still define the floor (see [`super::retention`]),
    /// in (time, SID) order, among the rows up to `max_rowid`. One pass over the rows
    /// before the cutoff (the `events_by_time` range): after each purge, only the kept
    /// rows and those that crossed the cutoff since the last one.
    fn floor_rows(conn: &Connection, before_ms: i64, max_rowid: i64) -> Result<Vec<(Stamp, i64)>, StorageError> {
        let mut stmt = conn
            .prepare_cached("SELECT rowid, event_type, sid, ts_ms, workspace_sid, data FROM events WHERE ts_ms < ?1")?;
        let mut rows = stmt.query([before_ms])?;
        let mut keeper = FloorKeeper::default();
        while let Some(r) = rows.next()? {
            let (row, event_type): (i64, String) = (r.get(0)?, r.get(1)?);
            if row > max_rowid || !is_floor_type(&event_type) {
                continue;
            }
            let (sid, ts): (String, i64) = (r.get(2)?, r.get(3)?);
            let (ws, data): (String, String) = (r.get(4)?, r.get(5)?);
            match Event::from_stored(&sid, event_type, ts, &ws, &data) {
                Ok(e) => keeper.offer(row, &e),
                // Unreadable: it defines nothing; the purge deletes it.
                Err(e) => tracing::warn!(sid, error = %e, "an old stored event does not read as an event"),
            }
        }
        Ok(keeper.kept())
    }

    fn max_rowid(conn: &Connection) -> Result<i64, StorageError> {
        Ok(conn.query_row("SELECT MAX(rowid) FROM events", [], |r| r.get::<_, Option<i64>>(0))?.unwrap_or(0))
    }
}

/// Column `i` of a row as text, without copying it.
/// A row of `SELECT sid, ts_ms, workspace_sid, event_type, data`, its text read in place.
fn stored_row<'r>(r: &'r rusqlite::Row<'_>) -> rusqlite::Result<StoredRow<'r>> {
    Ok(StoredRow {
        sid: text(r, 0)?,
        ts_ms: r.get(1)?,
        workspace_sid: text(r, 2)?,
        event_type: text(r, 3)?,
        data: text(r, 4)?,
    })
}

fn text<'r>(r: &'r rusqlite::Row<'_>, i: usize) -> rusqlite::Result<&'r str> {
    r.get_ref(i)?
        .as_str()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e)))
}

impl Settings for SqliteLog {
    fn get(&self, key: &str) -> Result<Option<String>, StorageError> {
        Ok(self.conn.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    }

    fn compare_and_set(&self, key: &str, expected: Option<&str>, value: &str) -> Result<Option<String>, StorageError> {
        // The write comes first, so the transaction takes the write lock at once (waiting
        // for another process's write) and the value read back is the one it decided.
        let tx = self.conn.unchecked_transaction()?;
        match expected {
            None => tx.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
                params![key, value],
            )?,
            Some(old) => {
                tx.execute("UPDATE settings SET value = ?3 WHERE key = ?1 AND value = ?2", params![key, old, value])?
            }
        };
        let current = tx.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0)).optional()?;
        tx.commit()?;
        Ok(current)
    }
}

impl EventLog for SqliteLog {
    fn append(&mut self, events: &[Event]) -> Result<Vec<bool>, StorageError> {
        let tx = self.conn.transaction()?;
        let mut fresh = Vec::with_capacity(events.len());
        let mut range: Option<(i64, i64)> = None;
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
                if n == 1 {
                    let id = tx.last_insert_rowid();
                    range = Some(range.map_or((id, id), |(a, b)| (a.min(id), b.max(id))));
                }
            }
        }
        tx.commit()?;
        if let (Some(own), Some(r)) = (&mut self.own, range) {
            own.push(r);
        }
        Ok(fresh)
    }

    fn replay_rows(
        &self,
        since_ms: i64,
        f: &mut dyn FnMut(StoredRow<'_>) -> Result<(), StorageError>,
    ) -> Result<u64, StorageError> {
        // A replay reads most of the file once. Through a memory mapping SQLite reads its
        // pages in place, without a `pread` and a copy each (BENCHMARKS.md, "Replay on every
        // core"). Only for the replay: an I/O error on a mapped page is a signal rather
        // than an error, and the writer that uses this connection afterwards reads and
        // writes through the file as before.
        self.conn.pragma_update(None, "mmap_size", REPLAY_MMAP_BYTES)?;
        let replayed = self.replay_rows_read(since_ms, f);
        self.conn.pragma_update(None, "mmap_size", 0)?;
        replayed
    }

    fn position(&self) -> Result<Option<LogPosition>, StorageError> {
        let row = self.seen_rowid.get();
        let sid: Option<String> =
            self.conn.query_row("SELECT sid FROM events WHERE rowid = ?1", [row], |r| r.get(0)).optional()?;
        Ok(sid.map(|sid| LogPosition { row, sid }))
    }

    fn replay_rows_after(
        &self,
        at: &LogPosition,
        f: &mut dyn FnMut(StoredRow<'_>) -> Result<(), StorageError>,
    ) -> Result<Option<u64>, StorageError> {
        let tx = self.conn.unchecked_transaction()?;
        let there: Option<String> =
            tx.query_row("SELECT sid FROM events WHERE rowid = ?1", [at.row], |r| r.get(0)).optional()?;
        if there.as_deref() != Some(at.sid.as_str()) {
            return Ok(None);
        }
        let max = Self::max_rowid(&tx)?;
        let mut n = 0;
        {
            let mut stmt = tx.prepare(
                "SELECT sid, ts_ms, workspace_sid, event_type, data FROM events
                 WHERE rowid > ?1 AND rowid <= ?2 ORDER BY rowid",
            )?;
            let mut rows = stmt.query([at.row, max])?;
            while let Some(r) = rows.next()? {
                f(stored_row(r)?)?;
                n += 1;
            }
        }
        tx.commit()?;
        self.seen_rowid.set(max);
        Ok(Some(n))
    }

    fn track_own_appends(&mut self) {
        self.own.get_or_insert_with(Vec::new);
    }

    fn follow(&mut self, f: &mut dyn FnMut(Event)) -> Result<u64, StorageError> {
        let mut n = 0;
        loop {
            let seen = self.seen_rowid.get();
            let mut rows = Vec::new();
            {
                let mut stmt = self.conn.prepare_cached(
                    "SELECT rowid, sid, ts_ms, workspace_sid, event_type, data FROM events
                     WHERE rowid > ?1 ORDER BY rowid LIMIT 5000",
                )?;
                let mapped = stmt.query_map([seen], |r| {
                    let rowid: i64 = r.get(0)?;
                    let sid: String = r.get(1)?;
                    let data: String = r.get(5)?;
                    Ok((rowid, sid, r.get::<_, i64>(2)?, r.get::<_, String>(3)?, r.get::<_, String>(4)?, data))
                })?;
                for row in mapped {
                    rows.push(row?);
                }
            }
            let Some(last) = rows.last().map(|r| r.0) else { break };
            let own = self.own.as_deref().unwrap_or_default();
            for (rowid, sid, ts, ws, et, data) in rows {
                if own.iter().any(|&(a, b)| (a..=b).contains(&rowid)) {
                    continue;
                }
                match Event::from_stored(&sid, et, ts, &ws, &data) {
                    Ok(e) => {
                        f(e);
                        n += 1;
                    }
                    Err(e) => tracing::warn!(sid, error = %e, "skipping a stored event another process wrote"),
                }
            }
            self.seen_rowid.set(last);
            if let Some(own) = &mut self.own {
                own.retain(|&(_, b)| b > last);
            }
        }
        Ok(n)
    }

    fn purge(&mut self, before_ms: i64) -> Result<u64, StorageError> {
        // Decided on one snapshot; rows another process adds meanwhile (an import of old
        // events) wait for the next purge.
        let (keep, max) = {
            let tx = self.conn.unchecked_transaction()?;
            let max = Self::max_rowid(&tx)?;
            let keep: FxHashSet<i64> = Self::floor_rows(&tx, before_ms, max)?.into_iter().map(|(_, row)| row).collect();
            tx.commit()?;
            (keep, max)
        };
        // Then deleted in short write transactions, walking the rows before the cutoff in
        // index order from where the previous batch stopped.
        let mut deleted = 0u64;
        let mut after = (i64::MIN, i64::MIN);
        loop {
            let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let page: Vec<(i64, i64)> = {
                let mut stmt = tx.prepare_cached(
                    "SELECT ts_ms, rowid FROM events
                     WHERE ts_ms < ?1 AND (ts_ms, rowid) > (?2, ?3)
                     ORDER BY ts_ms, rowid LIMIT ?4",
                )?;
                let rows = stmt.query_map(params![before_ms, after.0, after.1, PURGE_BATCH as i64], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?;
                rows.collect::<Result<_, _>>()?
            };
            let Some(&last) = page.last() else { break };
            {
                let mut delete = tx.prepare_cached("DELETE FROM events WHERE rowid = ?1")?;
                for (_, row) in page.iter().filter(|&&(_, row)| row <= max && !keep.contains(&row)) {
                    deleted += delete.execute([row])? as u64;
                }
            }
            tx.commit()?;
            after = last;
        }
        Ok(deleted)
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
    use crate::storage::conformance::{self, Harness};
    use crate::storage::{SqliteTokens, TokenStore};

    /// A fresh database file in its own temporary directory.
    struct Sqlite {
        dir: tempfile::TempDir,
    }

    impl Harness for Sqlite {
        fn fresh() -> Self {
            Self { dir: tempfile::tempdir().expect("a temporary directory") }
        }

        fn events(&self) -> Box<dyn EventLog> {
            Box::new(SqliteLog::open_dir(self.dir.path()).expect("open the event log"))
        }

        fn settings(&self) -> Box<dyn Settings + Send> {
            Box::new(SqliteLog::open_dir(self.dir.path()).expect("open the settings"))
        }

        fn tokens(&self) -> Box<dyn TokenStore> {
            Box::new(SqliteTokens::open_dir(self.dir.path()).expect("open the tokens"))
        }

        fn documents(&self) -> Box<dyn crate::storage::DocumentStore> {
            Box::new(crate::storage::SqliteDocuments::open_dir(self.dir.path()).expect("open the documents"))
        }
    }

    conformance::suite!(Sqlite);

    /// The replay reads through a memory mapping and leaves the connection without one
    /// for the writer that uses it next.
    #[test]
    fn a_replay_maps_the_file_only_while_it_reads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = SqliteLog::open_dir(dir.path()).expect("open");
        log.append(&[conformance::event(1, 10, "worker.activity.update")]).expect("append");
        let mmap =
            |log: &SqliteLog| log.conn.query_row("PRAGMA mmap_size", [], |r| r.get::<_, i64>(0)).expect("mmap_size");
        let mut during = Vec::new();
        let replayed = log.replay_rows(0, &mut |_| {
            during.push(mmap(&log));
            Ok(())
        });
        assert_eq!(replayed.expect("replay"), 1);
        assert!(during.iter().all(|&m| m > 0), "{during:?}");
        assert_eq!(mmap(&log), 0);
        let failed = log.replay_rows(0, &mut |_| Err(StorageError::Corrupt("stop".into())));
        assert!(failed.is_err());
        assert_eq!(mmap(&log), 0);
    }

    #[test]
    fn reopening_keeps_what_was_stored() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = SqliteLog::open_dir(dir.path()).expect("open");
        log.append(&[conformance::event(1, 10, "worker.activity.update")]).expect("append");
        log.set_if_absent("k", "v").expect("set");
        assert_eq!(log.path(), dir.path().join(DB_FILE));
        drop(log);
        let log = SqliteLog::open_dir(dir.path()).expect("reopen");
        assert_eq!(log.count().expect("count"), 1);
        assert_eq!(log.get("k").expect("get").as_deref(), Some("v"));
    }

    /// A database file as the schema before the floor retention made it: it opens, and
    /// its old events are purged and replayed with the floor kept.
    #[test]
    fn a_database_of_the_previous_schema_keeps_working() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(DB_FILE);
        {
            let old = Connection::open(&path).expect("open");
            old.execute_batch(
                "CREATE TABLE events (
                     sid TEXT PRIMARY KEY,
                     ts_ms INTEGER NOT NULL,
                     workspace_sid TEXT NOT NULL,
                     event_type TEXT NOT NULL,
                     data TEXT NOT NULL
                 );
                 CREATE INDEX events_by_time ON events (ts_ms);
                 CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
            )
            .expect("the previous schema");
            let mut insert = old
                .prepare("INSERT INTO events (sid, ts_ms, workspace_sid, event_type, data) VALUES (?1, ?2, ?3, ?4, ?5)")
                .expect("prepare");
            for e in [
                conformance::event(1, 10, "worker.created"),
                conformance::event(2, 20, "worker.activity.update"),
                conformance::event(3, 30, "worker.activity.update"),
                conformance::event(4, 300, "worker.activity.update"),
            ] {
                insert
                    .execute(params![e.sid.as_str(), e.ts_ms, e.workspace_sid.as_str(), e.event_type, e.data_json()])
                    .expect("insert");
            }
        }
        let mut log = SqliteLog::open(&path).expect("open a database of the previous schema");
        let replay = |log: &SqliteLog| {
            let mut out = Vec::new();
            log.replay(100, &mut |e| out.push(e.sid.to_u128())).expect("replay");
            out
        };
        assert_eq!(replay(&log), [1, 3, 4], "the worker's creation and last change before 100, then the rest");
        assert_eq!(log.purge(100).expect("purge"), 1, "the superseded change");
        assert_eq!(replay(&log), [1, 3, 4]);
    }

    /// The purge's and the replay's scans of the rows before the cutoff go through the time
    /// index (no full scan of the table; after each purge the range holds only the kept rows
    /// and those that crossed the cutoff since).
    #[test]
    fn old_rows_are_found_through_the_time_index() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = SqliteLog::open_dir(dir.path()).expect("open");
        for query in [
            "SELECT rowid, event_type, sid, ts_ms, workspace_sid, data FROM events WHERE ts_ms < ?1",
            "SELECT ts_ms, rowid FROM events WHERE ts_ms < ?1 AND (ts_ms, rowid) > (?2, ?3)
             ORDER BY ts_ms, rowid LIMIT ?4",
        ] {
            let mut stmt = log.conn.prepare(&format!("EXPLAIN QUERY PLAN {query}")).expect("explain");
            let zeros = vec![0i64; stmt.parameter_count()];
            let plan: Vec<String> = stmt
                .query_map(rusqlite::params_from_iter(zeros), |r| r.get::<_, String>(3))
                .expect("plan")
                .map(|r| r.expect("row"))
                .collect();
            assert!(plan.iter().any(|p| p.contains("events_by_time")), "{query}: {plan:?}");
            assert!(!plan.iter().any(|p| p.contains("TEMP B-TREE")), "{query}: {plan:?}");
        }
    }

    /// The cost of the floor retention at the brief's size: 2,000 workers changing
    /// activity 20 times a day, over 31 days (1.24 M events), purged at 30 days, then the
    /// hourly purge and a replay. Run with
    /// `cargo test -p wallboard --release --lib floor_retention_cost -- --ignored --nocapture`.
    #[test]
    #[ignore = "a measurement (about a minute)"]
    fn floor_retention_cost() {
        use crate::event::EventBuilder;
        use wallboard_shared::sid::{EventSid, WorkspaceSid};
        const WORKERS: u128 = 2_000;
        const DAY: i64 = 86_400_000;
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = SqliteLog::open_dir(dir.path()).expect("open");
        let ws = WorkspaceSid::from_u128(1);
        let mut n = 0u128;
        let mut ev = |ts: i64, t: &str, w: u128, a: u128| {
            n += 1;
            EventBuilder::new(t, &EventSid::from_u128(n), ts, &ws)
                .field("worker_sid", format!("WK{w:032x}"))
                .field("worker_activity_sid", format!("WA{a:032x}"))
                .field("worker_attributes", r#"{"skills":["sales","support"],"level":3}"#)
                .build()
                .expect("valid")
        };
        let started = std::time::Instant::now();
        log.append(&(0..WORKERS).map(|w| ev(0, "worker.created", w, 1)).collect::<Vec<_>>()).expect("append");
        for day in 0..31 {
            for change in 0..20 {
                let ts = day * DAY + change * DAY / 20 + 1;
                let batch: Vec<Event> =
                    (0..WORKERS).map(|w| ev(ts + w as i64, "worker.activity.update", w, change as u128 % 3)).collect();
                log.append(&batch).expect("append");
            }
        }
        eprintln!("stored {} events in {:?}", log.count().expect("count"), started.elapsed());
        let now = 31 * DAY;
        let t = std::time::Instant::now();
        let deleted = log.purge(now - 30 * DAY).expect("purge");
        eprintln!("first purge: {deleted} deleted in {:?}", t.elapsed());
        let t = std::time::Instant::now();
        let deleted = log.purge(now - 30 * DAY + 3_600_000).expect("purge");
        eprintln!("hourly purge: {deleted} deleted in {:?}", t.elapsed());
        let t = std::time::Instant::now();
        let mut kept = 0u64;
        let replayed = log
            .replay(now - 30 * DAY + 3_600_000, &mut |e| kept += u64::from(e.ts_ms < now - 30 * DAY + 3_600_000))
            .expect("replay");
        eprintln!("replay: {replayed} events ({kept} kept floor events before the cutoff) in {:?}", t.elapsed());
        // Per worker its creation and its last change before the cutoff, and per activity
        // (3) the newest change naming it, when that is not already kept.
        assert!((2 * WORKERS as u64..=2 * WORKERS as u64 + 3).contains(&kept), "{kept} kept");
    }
}
