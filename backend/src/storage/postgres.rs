//! [`EventLog`] and [`Settings`] on PostgreSQL, for several nodes sharing one database:
//! the events table (a `seq` identity in commit order, so a node follows what the others
//! stored by reading `seq > seen`), the settings table, the [`Doorbell`] (LISTEN for the
//! others' commits) and the [`SingletonLock`] (a cluster-wide role on an advisory lock).
//!
//! The client is the synchronous `postgres` crate: it runs its own small runtime and must
//! be called from OS threads (the writer) or `spawn_blocking`, never from async code. A
//! client never reconnects by itself; [`Conn`] drops a connection that failed as
//! unreachable and opens a new one on the next call, so a node recovers when the database
//! comes back.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;
use postgres::{Client, IsolationLevel, NoTls, Statement};
use rustc_hash::{FxHashMap, FxHashSet};
use sha2::{Digest, Sha256};

use super::retention::{FloorKeeper, Stamp, is_floor_type};
use super::{EventFilter, EventLog, LogPosition, Settings, StorageError, StoredRow};
use crate::event::Event;

/// Advisory lock (one bigint key) held while the schema is created or migrated.
const MIGRATE_LOCK: i64 = 0x5741_4c4c_0000_0001;
/// Advisory transaction lock every append takes first: appends commit one at a time, so
/// `seq` order is commit order and a follower reading `seq > seen` never skips a row that
/// commits later with a smaller `seq`.
const APPEND_LOCK: i64 = 0x5741_4c4c_0000_0002;
/// First key of the two-int4 advisory locks of [`SingletonLock`] (a key space apart from
/// the bigint keys above).
const SINGLETON_SPACE: i32 = 0x5742;

/// The channel [`EventLog::append`] notifies when it stored something new.
pub const EVENTS_CHANNEL: &str = "wallboard_events";
/// The channel the tokens notify on every change.
pub const TOKENS_CHANNEL: &str = "wallboard_tokens";

/// Rows deleted per transaction by [`EventLog::purge`].
const PURGE_BATCH: i64 = 2_000;
/// Rows per page of [`EventLog::follow`].
const FOLLOW_PAGE: i64 = 5_000;
/// Rows fetched per round trip while streaming a replay (a portal: never the whole table).
const REPLAY_FETCH: i32 = 10_000;

/// The schema, version by version; `schema_version` tells how many ran.
const MIGRATIONS: &[&str] = &[
    "
    CREATE TABLE events (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        sid text COLLATE \"C\" NOT NULL UNIQUE,
        ts_ms bigint NOT NULL,
        workspace_sid text NOT NULL,
        event_type text NOT NULL,
        data text NOT NULL
    );
    CREATE INDEX events_by_time ON events (ts_ms, sid);
    CREATE TABLE settings (
        key text PRIMARY KEY,
        value text NOT NULL
    );
    CREATE TABLE tokens (
        id text PRIMARY KEY,
        hash bytea NOT NULL UNIQUE,
        label text NOT NULL,
        workspace_sid text,
        workflow_sids text NOT NULL DEFAULT '',
        created_ms bigint NOT NULL,
        expires_ms bigint,
        revoked_ms bigint
    );
    CREATE TABLE token_revision (
        id int PRIMARY KEY CHECK (id = 1),
        rev bigint NOT NULL
    );
    INSERT INTO token_revision (id, rev) VALUES (1, 0);
",
    "
    CREATE TABLE documents (
        key text COLLATE \"C\" PRIMARY KEY,
        body text NOT NULL,
        revision bigint NOT NULL,
        updated_ms bigint NOT NULL
    );
    CREATE TABLE documents_revision (
        id int PRIMARY KEY CHECK (id = 1),
        rev bigint NOT NULL
    );
    INSERT INTO documents_revision (id, rev) VALUES (1, 0);
",
];

impl StorageError {
    /// Whether the database cannot be reached (connection refused, lost or closed, the
    /// server shutting down or starting): callers answer 503 and retry, and the next call
    /// reconnects. Other errors (a constraint, corrupt data, a full disk) are not.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Postgres(e) => pg_unavailable(e),
            Self::Unavailable(_) => true,
            _ => false,
        }
    }
}

fn pg_unavailable(e: &postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    if let Some(code) = e.code() {
        let code = code.code();
        // 08: connection exception; 57P01-57P03: admin/crash shutdown, cannot connect now;
        // 53300: too many connections.
        return code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300");
    }
    // No server error: an I/O error (refused, reset, timed out) or a closed connection.
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.is::<std::io::Error>() {
            return true;
        }
        source = s.source();
    }
    false
}

/// The connection settings every Wallboard connection uses: a connect timeout, TCP
/// keepalives both ways (the client notices a dead server, the server a dead client, so a
/// dead node's session and its advisory locks go within seconds), no statement timeout.
pub(crate) fn config(url: &str) -> Result<postgres::Config, StorageError> {
    let mut config = postgres::Config::from_str(url)?;
    config
        .connect_timeout(Duration::from_secs(5))
        .keepalives(true)
        .keepalives_idle(Duration::from_secs(10))
        .keepalives_interval(Duration::from_secs(2))
        .keepalives_retries(3);
    if config.get_application_name().is_none() {
        config.application_name("wallboard");
    }
    Ok(config)
}

/// Opens a connection with [`config`]'s settings and the server side's keepalives (set
/// per session, so the URL's own `options` stay as given).
pub(crate) fn open_client(config: &postgres::Config) -> Result<Client, StorageError> {
    let mut client = config.connect(NoTls)?;
    // `client_min_messages`: the schema's `IF NOT EXISTS` notices are not news.
    client.batch_execute(
        "SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 2; SET tcp_keepalives_count = 3; \
         SET client_min_messages = warning",
    )?;
    Ok(client)
}

/// Creates or migrates the schema, once whatever the number of nodes starting at once.
pub(crate) fn migrate(client: &mut Client) -> Result<(), StorageError> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATE_LOCK])?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version int NOT NULL)")?;
    let version: i32 = tx.query_opt("SELECT version FROM schema_version", &[])?.map_or(0, |r| r.get::<_, i32>(0));
    let version = usize::try_from(version).unwrap_or(0);
    if version > MIGRATIONS.len() {
        return Err(StorageError::Corrupt(format!(
            "the database's schema is version {version}, newer than this Wallboard's {}",
            MIGRATIONS.len()
        )));
    }
    for step in &MIGRATIONS[version..] {
        tx.batch_execute(step)?;
    }
    if version < MIGRATIONS.len() {
        let now = MIGRATIONS.len() as i32;
        tx.execute("DELETE FROM schema_version", &[])?;
        tx.execute("INSERT INTO schema_version (version) VALUES ($1)", &[&now])?;
    }
    tx.commit()?;
    Ok(())
}

/// A connection that reopens itself: after a failure that lost it, the next call
/// connects again. Prepared statements are per connection, so they go with it.
pub(crate) struct Conn {
    config: postgres::Config,
    client: Option<Client>,
    statements: HashMap<&'static str, Statement>,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn").field("connected", &self.client.is_some()).finish_non_exhaustive()
    }
}

/// Closing a connection blocks (the synchronous client runs its own runtime, which may not
/// start inside another): inside an async runtime (a server's state dropped at shutdown),
/// the connection is closed on a thread of its own.
impl Drop for Conn {
    fn drop(&mut self) {
        if let Some(client) = self.client.take()
            && tokio::runtime::Handle::try_current().is_ok()
        {
            let _ = std::thread::Builder::new().name("pg-close".into()).spawn(move || drop(client));
        }
    }
}

impl Conn {
    /// Connects now (so a bad URL or an unreachable database is told at once) and
    /// creates or migrates the schema.
    pub(crate) fn open(url: &str) -> Result<Self, StorageError> {
        let mut conn = Self { config: config(url)?, client: None, statements: HashMap::new() };
        conn.client()?;
        Ok(conn)
    }

    fn client(&mut self) -> Result<&mut Client, StorageError> {
        if self.client.as_ref().is_some_and(Client::is_closed) {
            self.client = None;
        }
        match &mut self.client {
            Some(client) => Ok(client),
            slot @ None => {
                self.statements.clear();
                let mut client = open_client(&self.config)?;
                migrate(&mut client)?;
                Ok(slot.insert(client))
            }
        }
    }

    /// Runs `op` on the connection (connecting first if needed); a failure that lost the
    /// connection drops it, so the next call reconnects.
    pub(crate) fn run<T>(
        &mut self,
        op: impl FnOnce(&mut Client, &mut HashMap<&'static str, Statement>) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        self.client()?;
        let Self { client, statements, .. } = self;
        let Some(c) = client.as_mut() else {
            return Err(StorageError::Unavailable("no connection right after connecting".into()));
        };
        let out = op(c, statements);
        if let Err(e) = &out
            && (e.is_unavailable() || c.is_closed())
        {
            *client = None;
            statements.clear();
        }
        out
    }
}

/// The statement for `sql` on this connection, prepared once.
pub(crate) fn prepared(
    client: &mut Client,
    statements: &mut HashMap<&'static str, Statement>,
    sql: &'static str,
) -> Result<Statement, StorageError> {
    if let Some(s) = statements.get(sql) {
        return Ok(s.clone());
    }
    let s = client.prepare(sql)?;
    statements.insert(sql, s.clone());
    Ok(s)
}

/// The PostgreSQL event log and settings, on one connection (several per process are
/// fine: the writer's, readers', a follower's).
#[derive(Debug)]
pub struct PgLog {
    conn: Mutex<Conn>,
    /// Rows up to this seq were replayed or followed (see [`EventLog::follow`]).
    seen_seq: AtomicI64,
    /// Seq ranges this connection appended after `seen_seq`, when tracking. Appends hold
    /// [`APPEND_LOCK`] from their first insert to their commit, so no other connection's
    /// row falls inside one batch's range.
    own: Option<Vec<(i64, i64)>>,
}

const COLUMNS: &str = "sid, ts_ms, workspace_sid, event_type, data";

fn row_event(r: &postgres::Row, first: usize) -> Result<Event, StorageError> {
    stored_row(r, first)?.decode()
}

/// The [`COLUMNS`] of `r` from column `first` on, read in place.
fn stored_row(r: &postgres::Row, first: usize) -> Result<StoredRow<'_>, StorageError> {
    Ok(StoredRow {
        sid: r.try_get(first)?,
        ts_ms: r.try_get(first + 1)?,
        workspace_sid: r.try_get(first + 2)?,
        event_type: r.try_get(first + 3)?,
        data: r.try_get(first + 4)?,
    })
}

impl PgLog {
    /// Connects to the database at `url` (`postgres://user:password@host:port/db`) and
    /// creates or migrates the schema (under a lock: nodes may start at once).
    pub fn connect(url: &str) -> Result<Self, StorageError> {
        Ok(Self { conn: Mutex::new(Conn::open(url)?), seen_seq: AtomicI64::new(0), own: None })
    }

    fn conn(&self) -> MutexGuard<'_, Conn> {
        self.conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The seq of the newest row (0 when none).
    fn max_seq(c: &mut impl postgres::GenericClient) -> Result<i64, StorageError> {
        Ok(c.query_one("SELECT coalesce(max(seq), 0) FROM events", &[])?.try_get(0)?)
    }

    /// Hands every event of `portal` (rows of [`COLUMNS`]) to `f`, a fetch at a time;
    /// returns how many.
    fn hand_out(
        tx: &mut postgres::Transaction<'_>,
        portal: &postgres::Portal,
        f: &mut dyn FnMut(StoredRow<'_>) -> Result<(), StorageError>,
    ) -> Result<u64, StorageError> {
        let mut n = 0;
        loop {
            let rows = tx.query_portal(portal, REPLAY_FETCH)?;
            for r in &rows {
                f(stored_row(r, 0)?)?;
                n += 1;
            }
            if rows.len() < REPLAY_FETCH as usize {
                return Ok(n);
            }
        }
    }

    /// The floor rows before `before_ms` (see [`super::retention`]) among the rows up to
    /// `max_seq`, in (time, SID) order, read streaming through a portal.
    fn floor_rows(
        tx: &mut postgres::Transaction<'_>,
        before_ms: i64,
        max_seq: i64,
    ) -> Result<Vec<(Stamp, i64)>, StorageError> {
        // The SQL keeps the types that may define the floor; `is_floor_type` decides.
        let portal = tx.bind(
            "SELECT seq, sid, ts_ms, workspace_sid, event_type, data FROM events
             WHERE ts_ms < $1 AND seq <= $2
               AND (event_type LIKE 'worker.%' OR event_type LIKE 'activity.%' OR event_type LIKE 'task-queue.%')",
            &[&before_ms, &max_seq],
        )?;
        let mut keeper = FloorKeeper::default();
        loop {
            let rows = tx.query_portal(&portal, REPLAY_FETCH)?;
            for r in &rows {
                let event_type: &str = r.try_get(4)?;
                if !is_floor_type(event_type) {
                    continue;
                }
                let seq: i64 = r.try_get(0)?;
                match row_event(r, 1) {
                    Ok(e) => keeper.offer(seq, &e),
                    // Unreadable: it defines nothing; the purge deletes it.
                    Err(e) => tracing::warn!(seq, error = %e, "an old stored event does not read as an event"),
                }
            }
            if rows.len() < REPLAY_FETCH as usize {
                break;
            }
        }
        Ok(keeper.kept())
    }
}

impl Settings for PgLog {
    fn get(&self, key: &str) -> Result<Option<String>, StorageError> {
        self.conn().run(|c, _| Ok(c.query_opt("SELECT value FROM settings WHERE key = $1", &[&key])?.map(|r| r.get(0))))
    }

    fn compare_and_set(&self, key: &str, expected: Option<&str>, value: &str) -> Result<Option<String>, StorageError> {
        self.conn().run(|c, _| {
            // The write comes first: it waits for a concurrent writer of the key, and the
            // value read back (a new snapshot in READ COMMITTED) is the one in force.
            let mut tx = c.transaction()?;
            match expected {
                None => tx.execute(
                    "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
                    &[&key, &value],
                )?,
                Some(old) => {
                    tx.execute("UPDATE settings SET value = $3 WHERE key = $1 AND value = $2", &[&key, &old, &value])?
                }
            };
            let current = tx.query_opt("SELECT value FROM settings WHERE key = $1", &[&key])?.map(|r| r.get(0));
            tx.commit()?;
            Ok(current)
        })
    }
}

const INSERT: &str = "INSERT INTO events (sid, ts_ms, workspace_sid, event_type, data)
     SELECT sid, ts_ms, workspace_sid, event_type, data
     FROM unnest($1::text[], $2::int8[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY
          AS u(sid, ts_ms, workspace_sid, event_type, data, n)
     ORDER BY n
     ON CONFLICT (sid) DO NOTHING
     RETURNING seq, sid";

impl EventLog for PgLog {
    fn append(&mut self, events: &[Event]) -> Result<Vec<bool>, StorageError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let sids: Vec<&str> = events.iter().map(|e| e.sid.as_str()).collect();
        let ts: Vec<i64> = events.iter().map(|e| e.ts_ms).collect();
        let ws: Vec<&str> = events.iter().map(|e| e.workspace_sid.as_str()).collect();
        let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
        let data: Vec<String> = events.iter().map(Event::data_json).collect();
        let inserted =
            self.conn.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner).run(|c, statements| {
                let insert = prepared(c, statements, INSERT)?;
                let lock = prepared(c, statements, "SELECT pg_advisory_xact_lock($1)")?;
                let mut tx = c.transaction()?;
                tx.execute(&lock, &[&APPEND_LOCK])?;
                let rows = tx.query(&insert, &[&sids, &ts, &ws, &types, &data])?;
                let mut inserted = Vec::with_capacity(rows.len());
                for r in &rows {
                    inserted.push((r.try_get::<_, i64>(0)?, r.try_get::<_, String>(1)?));
                }
                if !inserted.is_empty() {
                    tx.batch_execute(&format!("NOTIFY {EVENTS_CHANNEL}"))?;
                }
                tx.commit()?;
                Ok(inserted)
            })?;
        // New: the first event of the batch with each SID that was inserted.
        let mut first: FxHashMap<&str, usize> = FxHashMap::default();
        for (i, sid) in sids.iter().enumerate() {
            first.entry(*sid).or_insert(i);
        }
        let mut fresh = vec![false; events.len()];
        let mut range: Option<(i64, i64)> = None;
        for (seq, sid) in &inserted {
            if let Some(&i) = first.get(sid.as_str()) {
                fresh[i] = true;
            }
            range = Some(range.map_or((*seq, *seq), |(a, b)| (a.min(*seq), b.max(*seq))));
        }
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
        // One REPEATABLE READ snapshot: the rows replayed and the seq following starts
        // after are the same, so no event is applied twice or missed.
        let (n, max) = self.conn().run(|c, _| {
            let mut tx =
                c.build_transaction().isolation_level(IsolationLevel::RepeatableRead).read_only(true).start()?;
            let max = Self::max_seq(&mut tx)?;
            let mut n = 0u64;
            // The floor events before `since_ms` that a purge keeps, then the rest.
            let floor = Self::floor_rows(&mut tx, since_ms, max)?;
            if !floor.is_empty() {
                let seqs: Vec<i64> = floor.iter().map(|&(_, seq)| seq).collect();
                let mut by_seq: FxHashMap<i64, postgres::Row> = FxHashMap::default();
                for r in tx.query(&format!("SELECT seq, {COLUMNS} FROM events WHERE seq = ANY($1)"), &[&seqs])? {
                    by_seq.insert(r.try_get(0)?, r);
                }
                for seq in seqs {
                    let r = by_seq
                        .remove(&seq)
                        .ok_or_else(|| StorageError::Corrupt(format!("event {seq} vanished from a snapshot")))?;
                    f(stored_row(&r, 1)?)?;
                    n += 1;
                }
            }
            let portal = tx.bind(
                &format!("SELECT {COLUMNS} FROM events WHERE ts_ms >= $1 AND seq <= $2 ORDER BY ts_ms, sid"),
                &[&since_ms, &max],
            )?;
            n += Self::hand_out(&mut tx, &portal, f)?;
            tx.commit()?;
            Ok((n, max))
        })?;
        self.seen_seq.store(max, Ordering::Relaxed);
        Ok(n)
    }

    fn position(&self) -> Result<Option<LogPosition>, StorageError> {
        let row = self.seen_seq.load(Ordering::Relaxed);
        let sid: Option<String> = self.conn().run(|c, _| {
            Ok(c.query_opt("SELECT sid FROM events WHERE seq = $1", &[&row])?.map(|r| r.try_get(0)).transpose()?)
        })?;
        Ok(sid.map(|sid| LogPosition { row, sid }))
    }

    fn replay_rows_after(
        &self,
        at: &LogPosition,
        f: &mut dyn FnMut(StoredRow<'_>) -> Result<(), StorageError>,
    ) -> Result<Option<u64>, StorageError> {
        // One REPEATABLE READ snapshot, as `replay`: the check, the rows and the seq
        // following starts after agree.
        let read = self.conn().run(|c, _| {
            let mut tx =
                c.build_transaction().isolation_level(IsolationLevel::RepeatableRead).read_only(true).start()?;
            let there: Option<String> =
                tx.query_opt("SELECT sid FROM events WHERE seq = $1", &[&at.row])?.map(|r| r.try_get(0)).transpose()?;
            if there.as_deref() != Some(at.sid.as_str()) {
                return Ok(None);
            }
            let max = Self::max_seq(&mut tx)?;
            let portal = tx.bind(
                &format!("SELECT {COLUMNS} FROM events WHERE seq > $1 AND seq <= $2 ORDER BY seq"),
                &[&at.row, &max],
            )?;
            let n = Self::hand_out(&mut tx, &portal, f)?;
            tx.commit()?;
            Ok(Some((n, max)))
        })?;
        Ok(read.map(|(n, max)| {
            self.seen_seq.store(max, Ordering::Relaxed);
            n
        }))
    }

    fn purge(&mut self, before_ms: i64) -> Result<u64, StorageError> {
        let conn = self.conn.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Decided on one snapshot; rows stored meanwhile (an import of old events) wait
        // for the next purge.
        let (keep, max) = conn.run(|c, _| {
            let mut tx =
                c.build_transaction().isolation_level(IsolationLevel::RepeatableRead).read_only(true).start()?;
            let max = Self::max_seq(&mut tx)?;
            let keep: FxHashSet<i64> = Self::floor_rows(&mut tx, before_ms, max)?.into_iter().map(|(_, s)| s).collect();
            tx.commit()?;
            Ok((keep, max))
        })?;
        // Then deleted in short transactions, walking the rows before the cutoff in index
        // order from where the previous batch stopped.
        let mut deleted = 0u64;
        let mut after = (i64::MIN, String::new());
        loop {
            let (page_deleted, last) = conn.run(|c, statements| {
                let page = prepared(
                    c,
                    statements,
                    "SELECT ts_ms, sid, seq FROM events
                     WHERE ts_ms < $1 AND (ts_ms, sid) > ($2, $3)
                     ORDER BY ts_ms, sid LIMIT $4",
                )?;
                let rows = c.query(&page, &[&before_ms, &after.0, &after.1, &PURGE_BATCH])?;
                let Some(last) = rows.last() else { return Ok((0, None)) };
                let last = (last.try_get::<_, i64>(0)?, last.try_get::<_, String>(1)?);
                let mut doomed = Vec::with_capacity(rows.len());
                for r in &rows {
                    let seq: i64 = r.try_get(2)?;
                    if seq <= max && !keep.contains(&seq) {
                        doomed.push(seq);
                    }
                }
                let n = if doomed.is_empty() {
                    0
                } else {
                    c.execute("DELETE FROM events WHERE seq = ANY($1)", &[&doomed])?
                };
                Ok((n, Some(last)))
            })?;
            deleted += page_deleted;
            match last {
                Some(last) => after = last,
                None => break,
            }
        }
        Ok(deleted)
    }

    fn newest_ms(&self) -> Result<Option<i64>, StorageError> {
        self.conn().run(|c, _| Ok(c.query_one("SELECT max(ts_ms) FROM events", &[])?.try_get(0)?))
    }

    fn count(&self) -> Result<u64, StorageError> {
        self.conn().run(|c, _| Ok(c.query_one("SELECT count(*) FROM events", &[])?.try_get::<_, i64>(0)? as u64))
    }

    fn track_own_appends(&mut self) {
        self.own.get_or_insert_with(Vec::new);
    }

    fn follow(&mut self, f: &mut dyn FnMut(Event)) -> Result<u64, StorageError> {
        let mut n = 0;
        loop {
            let seen = self.seen_seq.load(Ordering::Relaxed);
            let rows =
                self.conn.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner).run(|c, statements| {
                    let page = prepared(
                        c,
                        statements,
                        "SELECT seq, sid, ts_ms, workspace_sid, event_type, data FROM events
                     WHERE seq > $1 ORDER BY seq LIMIT $2",
                    )?;
                    let mut rows = Vec::new();
                    for r in c.query(&page, &[&seen, &FOLLOW_PAGE])? {
                        rows.push((r.try_get::<_, i64>(0)?, row_event(&r, 1)));
                    }
                    Ok(rows)
                })?;
            let Some(last) = rows.last().map(|r| r.0) else { break };
            let full = rows.len() as i64 == FOLLOW_PAGE;
            for (seq, event) in rows {
                if self.own.as_ref().is_some_and(|own| own.iter().any(|&(a, b)| (a..=b).contains(&seq))) {
                    continue;
                }
                match event {
                    Ok(e) => {
                        f(e);
                        n += 1;
                    }
                    Err(e) => tracing::warn!(seq, error = %e, "a stored event does not read as an event; skipped"),
                }
            }
            self.set_seen(last);
            if !full {
                break;
            }
        }
        Ok(n)
    }

    fn list(&self, filter: &EventFilter, after: Option<(i64, &str)>, limit: u64) -> Result<Vec<Event>, StorageError> {
        let (after_ts, after_sid) = after.map_or((None, None), |(t, s)| (Some(t), Some(s)));
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let params: [&(dyn ToSql + Sync); 11] = [
            &filter.workspace_sid,
            &filter.start_ms,
            &filter.end_ms,
            &filter.event_type,
            &filter.task_sid,
            &filter.workflow_sid,
            &filter.reservation_sid,
            &filter.task_channel,
            &after_ts,
            &after_sid,
            &limit,
        ];
        self.conn().run(|c, statements| {
            let list = prepared(
                c,
                statements,
                "SELECT sid, ts_ms, workspace_sid, event_type, data FROM events
                 WHERE workspace_sid = $1 AND ts_ms >= $2 AND ts_ms <= $3
                   AND ($4::text IS NULL OR event_type = $4)
                   AND ($5::text IS NULL OR data::json ->> 'task_sid' = $5)
                   AND ($6::text IS NULL OR data::json ->> 'workflow_sid' = $6)
                   AND ($7::text IS NULL OR data::json ->> 'reservation_sid' = $7
                                         OR data::json ->> 'resource_sid' = $7)
                   AND ($8::text IS NULL OR data::json ->> 'task_channel_unique_name' = $8
                                         OR data::json ->> 'task_channel_sid' = $8)
                   AND ($9::int8 IS NULL OR (ts_ms, sid) > ($9, $10::text))
                 ORDER BY ts_ms, sid LIMIT $11",
            )?;
            let mut out = Vec::new();
            for r in c.query(&list, &params)? {
                out.push(row_event(&r, 0)?);
            }
            Ok(out)
        })
    }
}

impl PgLog {
    /// Rows up to `seq` were followed; own ranges below it are no longer needed.
    fn set_seen(&mut self, seq: i64) {
        self.seen_seq.store(seq, Ordering::Relaxed);
        if let Some(own) = &mut self.own {
            own.retain(|&(_, b)| b > seq);
        }
    }
}

/// A LISTEN connection: the doorbell that other nodes committed events
/// ([`EVENTS_CHANNEL`]) or changed the tokens ([`TOKENS_CHANNEL`]). It only says that
/// something changed; the reader then follows the log or reads the token revision.
pub struct Doorbell {
    client: Client,
    /// The channels of the last ring.
    rang: Vec<String>,
}

impl std::fmt::Debug for Doorbell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Doorbell").field("closed", &self.client.is_closed()).finish()
    }
}

impl Doorbell {
    /// Connects and listens on the events', the tokens' and the mirror's channels.
    pub fn listen(url: &str) -> Result<Self, StorageError> {
        let mut client = open_client(&config(url)?)?;
        client.batch_execute(&format!(
            "LISTEN {EVENTS_CHANNEL}; LISTEN {TOKENS_CHANNEL}; LISTEN {}",
            super::postgres_mirror::MIRROR_CHANNEL
        ))?;
        Ok(Self { client, rang: Vec::new() })
    }

    /// Whether the last [`Doorbell::wait`] that rang had a notification on `channel`.
    pub fn rang_on(&self, channel: &str) -> bool {
        self.rang.iter().any(|c| c == channel)
    }

    /// Waits up to `timeout` for a notification: `Ok(true)` when one (or more, all
    /// drained) arrived, `Ok(false)` on timeout. `Err` when the connection is lost (the
    /// caller listens again after a pause; it missed nothing it cannot catch up on by
    /// following the log).
    pub fn wait(&mut self, timeout: Duration) -> Result<bool, StorageError> {
        {
            let mut notifications = self.client.notifications();
            let first = notifications.timeout_iter(timeout).next()?.map(|n| n.channel().to_owned());
            if let Some(first) = first {
                self.rang.clear();
                self.rang.push(first);
                while let Some(n) = notifications.iter().next()? {
                    if !self.rang.iter().any(|c| c == n.channel()) {
                        self.rang.push(n.channel().to_owned());
                    }
                }
                return Ok(true);
            }
        }
        if self.client.is_closed() {
            // The iterator ends quietly when the connection does; ask for the error.
            self.client.is_valid(Duration::from_secs(1))?;
            return Err(StorageError::Unavailable("the LISTEN connection closed".into()));
        }
        Ok(false)
    }
}

/// A cluster-wide singleton role (the simulator, the purge, the mirror poller): a
/// session-level advisory lock held on a dedicated idle connection. The connection has
/// TCP keepalives both ways, so when the holder dies the server ends its session, and
/// releases the lock, within seconds; another node's next [`SingletonLock::try_hold`]
/// takes it.
pub struct SingletonLock {
    url: String,
    name: String,
    key: i32,
    client: Option<Client>,
    held: bool,
}

impl std::fmt::Debug for SingletonLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SingletonLock").field("name", &self.name).field("held", &self.held).finish_non_exhaustive()
    }
}

impl SingletonLock {
    /// The lock of the role `name` (does not connect yet). Its key is a stable hash of
    /// the name: every node, whatever its version, derives the same.
    pub fn new(url: &str, name: &str) -> Self {
        Self { url: url.to_owned(), name: name.to_owned(), key: singleton_key(name), client: None, held: false }
    }

    /// Tries to hold the lock: connects if needed (again after a lost connection), and
    /// takes the lock if free; while held, checks the connection is alive. `Ok(true)`
    /// while this process holds it. A lost connection means a lost lock: never a stale
    /// `true`.
    pub fn try_hold(&mut self) -> Result<bool, StorageError> {
        let out = self.try_hold_inner();
        if out.is_err() {
            // Whatever failed, the session (and the lock with it) is gone or suspect.
            self.client = None;
            self.held = false;
        }
        out
    }

    fn try_hold_inner(&mut self) -> Result<bool, StorageError> {
        if self.client.as_ref().is_some_and(Client::is_closed) {
            self.client = None;
            self.held = false;
        }
        let client = match &mut self.client {
            Some(c) => c,
            slot @ None => {
                self.held = false;
                slot.insert(open_client(&config(&self.url)?)?)
            }
        };
        if self.held {
            client.simple_query("SELECT 1")?;
            return Ok(true);
        }
        self.held = client
            .query_one("SELECT pg_try_advisory_lock($1, $2)", &[&SINGLETON_SPACE, &self.key])?
            .try_get::<_, bool>(0)?;
        Ok(self.held)
    }

    /// Gives the role up (closing the session releases the lock whatever happens).
    pub fn release(&mut self) {
        if let Some(mut client) = self.client.take()
            && self.held
            && let Err(e) = client.execute("SELECT pg_advisory_unlock($1, $2)", &[&SINGLETON_SPACE, &self.key])
        {
            tracing::debug!(lock = %self.name, error = %e, "unlocking failed; closing the session releases it");
        }
        self.held = false;
    }
}

impl Drop for SingletonLock {
    fn drop(&mut self) {
        self.release();
    }
}

/// The advisory lock key of a singleton role: the first four bytes of the SHA-256 of
/// its name (stable across builds and versions, unlike `Hash`).
fn singleton_key(name: &str) -> i32 {
    let digest = Sha256::digest(format!("wallboard singleton {name}").as_bytes());
    i32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

#[cfg(test)]
impl PgLog {
    /// The server process of this log's connection (to kill it in tests).
    fn backend_pid(&self) -> i32 {
        self.conn().run(|c, _| Ok(c.query_one("SELECT pg_backend_pid()", &[])?.get(0))).expect("backend pid")
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    use super::*;
    use crate::storage::conformance::{self, Harness};
    use crate::storage::{PgTokens, TokenStore};

    /// The server the tests create their databases on.
    fn server_url() -> String {
        std::env::var("WALLBOARD_TEST_DATABASE_URL").unwrap_or_else(|_| {
            panic!(
                "WALLBOARD_TEST_DATABASE_URL is not set: the PostgreSQL tests need a server. Run them through \
                 scripts/with-postgres.sh (a throwaway cluster), e.g. \
                 `WALLBOARD_PG_FAST=1 scripts/with-postgres.sh cargo test -p wallboard --lib storage::postgres`"
            )
        })
    }

    /// `url` naming the database `db` instead of its own.
    fn with_database(url: &str, db: &str) -> String {
        let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
        let authority = base.find("://").map_or(0, |i| i + 3);
        let path = base[authority..].find('/').map_or(base.len(), |i| authority + i);
        let mut out = format!("{}/{db}", &base[..path]);
        if let Some(q) = query {
            out = format!("{out}?{q}");
        }
        out
    }

    fn admin(url: &str) -> Client {
        config(url).expect("a valid test URL").connect(NoTls).expect("connect to the test server")
    }

    /// A new database on the test server, dropped (with its connections) afterwards.
    struct Pg {
        server: String,
        name: String,
        url: String,
    }

    impl Harness for Pg {
        fn fresh() -> Self {
            let server = server_url();
            let name = format!("wb_{:016x}", rand::random::<u64>());
            admin(&server).batch_execute(&format!("CREATE DATABASE {name}")).expect("create a test database");
            let url = with_database(&server, &name);
            Self { server, name, url }
        }

        fn events(&self) -> Box<dyn EventLog> {
            Box::new(PgLog::connect(&self.url).expect("connect the event log"))
        }

        fn settings(&self) -> Box<dyn Settings + Send> {
            Box::new(PgLog::connect(&self.url).expect("connect the settings"))
        }

        fn tokens(&self) -> Box<dyn TokenStore> {
            Box::new(PgTokens::connect(&self.url).expect("connect the tokens"))
        }

        fn documents(&self) -> Box<dyn crate::storage::DocumentStore> {
            Box::new(crate::storage::PgDocuments::connect(&self.url).expect("open the documents"))
        }
    }

    impl Drop for Pg {
        fn drop(&mut self) {
            if let Ok(mut c) = config(&self.server).and_then(|c| Ok(c.connect(NoTls)?)) {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
            }
        }
    }

    conformance::suite!(Pg);

    /// Ends the server process `pid`, waiting until it is gone.
    fn kill(url: &str, pid: i32) {
        let gone: bool =
            admin(url).query_one("SELECT pg_terminate_backend($1, 10000)", &[&pid]).expect("terminate").get(0);
        assert!(gone, "backend {pid} ended");
    }

    #[test]
    fn nodes_starting_at_once_create_the_schema_once() {
        let h = Pg::fresh();
        let logs: Vec<PgLog> = std::thread::scope(|s| {
            let starts: Vec<_> = (0..6).map(|_| s.spawn(|| PgLog::connect(&h.url))).collect();
            starts.into_iter().map(|t| t.join().expect("no panic").expect("connect")).collect()
        });
        let version: i32 = admin(&h.url).query_one("SELECT version FROM schema_version", &[]).expect("version").get(0);
        assert_eq!(version, MIGRATIONS.len() as i32);
        assert_eq!(logs[0].count().expect("count"), 0);
    }

    /// Two nodes append at once while a third follows: it sees every row exactly once,
    /// never skipping one that committed after a larger seq was visible.
    #[test]
    fn a_follower_sees_concurrent_appenders_exactly_once() {
        const BATCHES: u128 = 150;
        const BATCH: u128 = 7;
        let h = Pg::fresh();
        let writers = [PgLog::connect(&h.url).expect("a"), PgLog::connect(&h.url).expect("b")];
        let mut follower = PgLog::connect(&h.url).expect("follower");
        follower.track_own_appends();
        assert_eq!(follower.replay(0, &mut |_| {}).expect("replay"), 0);
        let done = AtomicBool::new(false);
        let seen = std::thread::scope(|s| {
            let done = &done;
            let writing: Vec<_> = writers
                .into_iter()
                .enumerate()
                .map(|(w, mut log)| {
                    s.spawn(move || {
                        for b in 0..BATCHES {
                            let first = (w as u128 * BATCHES + b) * BATCH + 1;
                            let batch: Vec<Event> = (first..first + BATCH)
                                .map(|n| conformance::event(n, n as i64, "worker.activity.update"))
                                .collect();
                            assert!(log.append(&batch).expect("append").iter().all(|&new| new));
                        }
                    })
                })
                .collect();
            let following = s.spawn(move || {
                let mut seen = Vec::new();
                loop {
                    let finished = done.load(Ordering::Acquire);
                    follower.follow(&mut |e| seen.push(e.sid.to_u128())).expect("follow");
                    if finished {
                        return seen;
                    }
                }
            });
            for w in writing {
                w.join().expect("a writer does not panic");
            }
            done.store(true, Ordering::Release);
            following.join().expect("the follower does not panic")
        });
        let total = (2 * BATCHES * BATCH) as usize;
        let distinct: FxHashSet<u128> = seen.iter().copied().collect();
        assert_eq!(distinct.len(), seen.len(), "no row twice");
        assert_eq!(seen.len(), total, "every row once");
        // Each writer's rows arrive in its own order (its batches commit one after another).
        for w in 0..2u128 {
            let mine: Vec<u128> = seen.iter().copied().filter(|&n| (n - 1) / (BATCHES * BATCH) == w).collect();
            assert!(mine.windows(2).all(|p| p[0] < p[1]), "writer {w}'s rows in commit order");
        }
    }

    /// An event another node commits while a replay streams is not in the replay (one
    /// snapshot) and is the first thing the next follow delivers, once.
    #[test]
    fn what_commits_during_a_replay_is_followed_after_it() {
        let h = Pg::fresh();
        let mut log = PgLog::connect(&h.url).expect("log");
        log.track_own_appends();
        log.append(&[conformance::event(1, 10, "worker.created"), conformance::event(2, 20, "worker.created")])
            .expect("append");
        let mut other = PgLog::connect(&h.url).expect("another node");
        let mut replayed = Vec::new();
        log.replay(0, &mut |e| {
            if replayed.is_empty() {
                other.append(&[conformance::event(3, 15, "worker.created")]).expect("append meanwhile");
            }
            replayed.push(e.sid.to_u128());
        })
        .expect("replay");
        assert_eq!(replayed, [1, 2], "the snapshot of the replay's start");
        let mut followed = Vec::new();
        assert_eq!(log.follow(&mut |e| followed.push(e.sid.to_u128())).expect("follow"), 1);
        assert_eq!(followed, [3]);
        assert_eq!(log.follow(&mut |_| {}).expect("follow"), 0, "once");
    }

    #[test]
    fn the_doorbell_rings_after_another_nodes_commit() {
        let h = Pg::fresh();
        let mut bell = Doorbell::listen(&h.url).expect("listen");
        let mut log = PgLog::connect(&h.url).expect("log");
        let short = Duration::from_millis(50);
        assert!(!bell.wait(short).expect("wait"), "nothing stored: a timeout");
        log.append(&[conformance::event(1, 1, "worker.created"), conformance::event(2, 2, "worker.created")])
            .expect("append");
        assert!(bell.wait(Duration::from_secs(10)).expect("wait"), "rings");
        assert!(!bell.wait(short).expect("wait"), "one batch, one ring");
        // Several notifications delivered together (one commit, distinct payloads) ring once.
        admin(&h.url)
            .batch_execute(&format!("BEGIN; NOTIFY {EVENTS_CHANNEL}, 'a'; NOTIFY {EVENTS_CHANNEL}, 'b'; COMMIT"))
            .expect("notify");
        assert!(bell.wait(Duration::from_secs(10)).expect("wait"), "rings");
        assert!(!bell.wait(short).expect("wait"), "both notifications were drained");
        log.append(&[conformance::event(1, 1, "worker.created")]).expect("a duplicate");
        assert!(!bell.wait(short).expect("wait"), "nothing new: no ring");
        let mut tokens = PgTokens::connect(&h.url).expect("tokens");
        let new = crate::storage::NewToken { label: "tv".into(), scope: crate::storage::Scope::Admin, ttl_ms: None };
        tokens.create(&new, 1).expect("create");
        assert!(bell.wait(Duration::from_secs(10)).expect("wait"), "a token change rings too");
        assert!(bell.rang_on(TOKENS_CHANNEL) && !bell.rang_on(EVENTS_CHANNEL), "and says so");

        let pid: i32 = bell.client.query_one("SELECT pg_backend_pid()", &[]).expect("pid").get(0);
        kill(&h.url, pid);
        let lost = bell.wait(Duration::from_secs(10)).expect_err("a lost connection is an error");
        assert!(lost.is_unavailable(), "{lost}");
    }

    #[test]
    fn one_singleton_holder_at_a_time_and_a_takeover() {
        let h = Pg::fresh();
        let mut a = SingletonLock::new(&h.url, "simulator");
        let mut b = SingletonLock::new(&h.url, "simulator");
        let mut other = SingletonLock::new(&h.url, "purge");
        assert!(a.try_hold().expect("a"));
        assert!(!b.try_hold().expect("b"), "held by a");
        assert!(a.try_hold().expect("a"), "still a's");
        assert!(other.try_hold().expect("another role"), "roles are independent");
        a.release();
        assert!(b.try_hold().expect("b"), "b takes over after a releases");
        assert!(!a.try_hold().expect("a"), "now b's");
        drop(b);
        assert!(a.try_hold().expect("a"), "a takes over after b is dropped");

        // The holder's session is killed: it reports the loss, and b takes over.
        let mut b = SingletonLock::new(&h.url, "simulator");
        assert!(!b.try_hold().expect("b"));
        let pid: i32 =
            a.client.as_mut().expect("connected").query_one("SELECT pg_backend_pid()", &[]).expect("pid").get(0);
        kill(&h.url, pid);
        assert!(!a.try_hold().unwrap_or(false), "a lost connection is a lost lock");
        assert!(b.try_hold().expect("b"), "b takes over");
        assert!(!a.try_hold().expect("a reconnects"), "b's now");
    }

    #[test]
    fn the_log_reconnects_after_losing_its_connection() {
        let h = Pg::fresh();
        let mut log = PgLog::connect(&h.url).expect("log");
        log.append(&[conformance::event(1, 1, "worker.created")]).expect("append");
        kill(&h.url, log.backend_pid());
        match log.append(&[conformance::event(2, 2, "worker.created")]) {
            Ok(_) => {}
            Err(e) => assert!(e.is_unavailable(), "the loss is told as unavailable: {e}"),
        }
        assert_eq!(log.append(&[conformance::event(3, 3, "worker.created")]).expect("reconnected"), [true]);
        assert!((2..=3).contains(&log.count().expect("count")));
        // Reads reconnect too.
        kill(&h.url, log.backend_pid());
        let _ = log.count();
        assert_eq!(log.newest_ms().expect("reconnected"), Some(3));
    }

    /// The server probes every session's client, so a dead node's session (and the
    /// singleton it held) ends within seconds (10 s idle, then 3 probes 2 s apart).
    #[test]
    fn the_server_probes_our_connections() {
        let h = Pg::fresh();
        let log = PgLog::connect(&h.url).expect("log");
        let settings: Vec<String> = log
            .conn()
            .run(|c, _| {
                let mut out = Vec::new();
                for name in ["tcp_keepalives_idle", "tcp_keepalives_interval", "tcp_keepalives_count"] {
                    out.push(c.query_one(&format!("SHOW {name}"), &[])?.get(0));
                }
                Ok(out)
            })
            .expect("show");
        assert_eq!(settings, ["10", "2", "3"]);
    }

    #[test]
    fn an_unreachable_database_is_unavailable() {
        // Port 1 on loopback: nothing listens, the connection is refused.
        let e = PgLog::connect("postgres://postgres@127.0.0.1:1/wallboard").expect_err("refused");
        assert!(e.is_unavailable(), "{e}");
        let e = PgLog::connect("not a url at all").expect_err("a bad URL");
        assert!(!e.is_unavailable(), "{e}");
        assert!(!StorageError::Corrupt("x".into()).is_unavailable());
    }

    #[test]
    fn singleton_keys_are_stable() {
        // The SHA-256 of "wallboard singleton simulator" starts with b1 5f 31 4d (computed
        // with Python's hashlib), read as a big-endian i32; a node of another build must
        // derive the same key.
        assert_eq!(singleton_key("simulator"), i32::from_be_bytes([0xb1, 0x5f, 0x31, 0x4d]));
        assert_eq!(singleton_key("purge"), i32::from_be_bytes([0xa7, 0xf5, 0x2d, 0x29]));
    }

    #[test]
    fn test_urls_name_the_database() {
        assert_eq!(with_database("postgres://u@h:5/postgres", "wb_1"), "postgres://u@h:5/wb_1");
        assert_eq!(with_database("postgres://u@h:5", "wb_1"), "postgres://u@h:5/wb_1");
        assert_eq!(with_database("postgres://u@h/x?sslmode=disable", "wb_1"), "postgres://u@h/wb_1?sslmode=disable");
    }
}
