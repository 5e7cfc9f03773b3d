//! Everything the server persists, as contracts: the event log ([`EventLog`]: every
//! accepted TaskRouter event, durable, unique by event SID), the settings ([`Settings`]:
//! generated credentials, the simulator's seed and epoch), the viewer tokens
//! ([`TokenStore`]) and small keyed documents such as service-level definitions
//! ([`DocumentStore`]), with their SQLite implementations (one node, a file) and their
//! PostgreSQL ones (several nodes sharing one database: [`PgLog`], [`PgTokens`],
//! [`PgDocuments`], with the
//! [`Doorbell`] that tells a node the others wrote and the [`SingletonLock`] of the
//! cluster-wide roles).
//!
//! This is the only module that speaks SQL. Callers hold the traits, so a second
//! implementation (a distributed database) implements traits, not call sites, and proves
//! itself against the same [`conformance`] suite SQLite runs.

#[cfg(test)]
pub(crate) mod conformance;
mod database;
pub mod documents;
pub mod mirror_share;
mod postgres;
mod postgres_documents;
mod postgres_mirror;
mod postgres_tokens;
pub(crate) mod retention;
mod sqlite;
mod sqlite_documents;
mod sqlite_tokens;
pub mod tokens;

pub use database::{Database, Store};
pub use documents::{Document, DocumentStore};
pub use mirror_share::{Fetched, MirrorShare};
pub use postgres::{Doorbell, EVENTS_CHANNEL, PgLog, SingletonLock, TOKENS_CHANNEL};
pub use postgres_documents::PgDocuments;
pub use postgres_mirror::{MIRROR_CHANNEL, PgMirrorShare};
pub use postgres_tokens::PgTokens;
pub use sqlite::{DB_FILE, SqliteLog};
pub use sqlite_documents::SqliteDocuments;
pub use sqlite_tokens::SqliteTokens;
pub use tokens::{NewToken, Scope, Standing, TokenError, TokenHash, TokenRecord, TokenStore};

use crate::event::Event;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database error: {0}")]
    Postgres(#[from] ::postgres::Error),
    /// The database cannot be reached (see [`StorageError::is_unavailable`]).
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("cannot create data directory {path}: {source}")]
    DataDir { path: String, source: std::io::Error },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl StorageError {
    /// The error a full disk gives, for tests of what callers do when a write fails.
    #[cfg(test)]
    pub fn disk_full() -> Self {
        Self::Sqlite(rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL), None))
    }
}

/// The database file in `data_dir` (the directory is created if missing).
pub fn db_path(data_dir: &std::path::Path) -> Result<std::path::PathBuf, StorageError> {
    std::fs::create_dir_all(data_dir)
        .map_err(|source| StorageError::DataDir { path: data_dir.display().to_string(), source })?;
    Ok(data_dir.join(DB_FILE))
}

/// A connection to the database file as every part of Wallboard uses it: WAL, durable
/// commits (FULL: a commit is on disk before we acknowledge it; Twilio will not resend),
/// and waiting for another connection's write instead of failing.
fn connect(path: &std::path::Path) -> Result<rusqlite::Connection, StorageError> {
    let conn = rusqlite::Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(conn)
}

/// Filters of the Events list resource (`None`: any).
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub workspace_sid: String,
    /// Inclusive bounds of the event time.
    pub start_ms: i64,
    pub end_ms: i64,
    pub event_type: Option<String>,
    pub task_sid: Option<String>,
    pub workflow_sid: Option<String>,
    /// `reservation_sid` or `resource_sid`.
    pub reservation_sid: Option<String>,
    /// The channel's unique name or `TC…` SID.
    pub task_channel: Option<String>,
}

/// Small named values several processes must agree on (the generated credentials, the
/// simulator's seed and epoch). Writes are conditional, so when two processes start at
/// once the first writer wins and both go on with the same value.
pub trait Settings {
    /// The value stored under `key`.
    fn get(&self, key: &str) -> Result<Option<String>, StorageError>;

    /// Stores `value` under `key` if the stored value is `expected` (`None`: no value),
    /// atomically; returns the value in force afterwards: `value` when this call won,
    /// otherwise what is stored (another writer's value), `None` when nothing is.
    fn compare_and_set(&self, key: &str, expected: Option<&str>, value: &str) -> Result<Option<String>, StorageError>;

    /// Stores `value` under `key` unless a value is stored; returns the value in force
    /// (first writer wins).
    fn set_if_absent(&self, key: &str, value: &str) -> Result<String, StorageError> {
        self.compare_and_set(key, None, value)?
            .ok_or_else(|| StorageError::Corrupt(format!("setting {key} is absent right after it was stored")))
    }
}

/// An event as its row stores it, not decoded yet: what [`EventLog::replay_rows`] hands
/// out, so that a start can decode rows on other threads than the one reading them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredRow<'a> {
    pub sid: &'a str,
    pub ts_ms: i64,
    pub workspace_sid: &'a str,
    pub event_type: &'a str,
    /// The event's other fields, as stored (JSON).
    pub data: &'a str,
}

impl StoredRow<'_> {
    /// The event; [`StorageError::Corrupt`] when the row does not hold a valid one.
    pub fn decode(&self) -> Result<Event, StorageError> {
        Event::from_stored(self.sid, self.event_type.to_owned(), self.ts_ms, self.workspace_sid, self.data)
            .map_err(|e| StorageError::Corrupt(e.0))
    }
}

/// A row of the log, named by the event it holds, so that a reader can tell it is the same
/// row later (SQLite: rowids only grow, but a purge may remove the newest row, and a
/// row's number is then given again).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LogPosition {
    /// The row's number (SQLite: its rowid).
    pub row: i64,
    /// The SID of the event in it.
    pub sid: String,
}

/// An append-only, idempotent log of events.
pub trait EventLog: Send {
    /// Appends a batch atomically. For each event, `true` when it was new and `false`
    /// when an event with the same SID was already stored (Twilio retries callbacks).
    /// When this returns `Ok`, the new events are durable.
    fn append(&mut self, events: &[Event]) -> Result<Vec<bool>, StorageError>;

    /// Calls `f` with every event at or after `since_ms`, in (time, sid) order, preceded
    /// (in the same order) by the events before `since_ms` that still define the floor,
    /// those [`EventLog::purge`] of `since_ms` keeps (see [`retention`]), whether or not a
    /// purge ran. Returns how many. A row that holds no valid event ends the replay with
    /// [`StorageError::Corrupt`].
    fn replay(&self, since_ms: i64, f: &mut dyn FnMut(Event)) -> Result<u64, StorageError> {
        self.replay_rows(since_ms, &mut |row| {
            f(row.decode()?);
            Ok(())
        })
    }

    /// [`EventLog::replay`], the rows not decoded. An error from `f` ends the replay
    /// with that error.
    fn replay_rows(
        &self,
        since_ms: i64,
        f: &mut dyn FnMut(StoredRow<'_>) -> Result<(), StorageError>,
    ) -> Result<u64, StorageError>;

    /// Deletes the events before `before_ms` but those that still define the floor: per
    /// worker, activity and task queue (per worker channel for channel events) the newest
    /// event of each type, unless the subject was deleted before `before_ms` (see
    /// [`retention`]). Returns how many were deleted. Deletes in short transactions.
    fn purge(&mut self, before_ms: i64) -> Result<u64, StorageError>;

    /// Time of the newest stored event.
    fn newest_ms(&self) -> Result<Option<i64>, StorageError>;

    /// Number of stored events.
    fn count(&self) -> Result<u64, StorageError>;

    /// Starts noting the rows this log appends, so that [`EventLog::follow`] can tell
    /// them from rows other processes add (`wallboard import`, `backfill`). Call it once,
    /// before handing the log to the writer; [`EventLog::replay`] sets where following starts.
    fn track_own_appends(&mut self) {}

    /// Calls `f` with every event another connection stored since the last replay or
    /// follow, in storage order, each once. Returns how many.
    fn follow(&mut self, _f: &mut dyn FnMut(Event)) -> Result<u64, StorageError> {
        Ok(0)
    }

    /// The last row this connection has read, by [`EventLog::replay`] or
    /// [`EventLog::follow`]: every stored event up to it was handed out or was this
    /// connection's own append. `None` when there is none, or when this backend keeps no
    /// such position (PostgreSQL: a node there always replays in full). An engine snapshot
    /// records it ([`crate::snapshot`]).
    fn position(&self) -> Result<Option<LogPosition>, StorageError> {
        Ok(None)
    }

    /// Calls `f` with every event stored after `at`, in storage order, and follows on
    /// from there (as [`EventLog::replay`] does); returns how many. `None`, having called
    /// `f` for none, when `at` is not where this log stands any more (its row is gone or
    /// holds another event), or when the backend keeps no positions: the caller replays
    /// in full.
    fn replay_after(&self, at: &LogPosition, f: &mut dyn FnMut(Event)) -> Result<Option<u64>, StorageError> {
        self.replay_rows_after(at, &mut |row| {
            f(row.decode()?);
            Ok(())
        })
    }

    /// [`EventLog::replay_after`], the rows not decoded. An error from `f` ends the
    /// replay with that error.
    fn replay_rows_after(
        &self,
        _at: &LogPosition,
        _f: &mut dyn FnMut(StoredRow<'_>) -> Result<(), StorageError>,
    ) -> Result<Option<u64>, StorageError> {
        Ok(None)
    }

    /// One page of events in (time, sid) order (the Events resource): at most `limit`
    /// events after the position `after` (the time and sid of the last event of the
    /// previous page), so a page costs the same wherever it is in the window.
    fn list(&self, filter: &EventFilter, after: Option<(i64, &str)>, limit: u64) -> Result<Vec<Event>, StorageError>;
}
