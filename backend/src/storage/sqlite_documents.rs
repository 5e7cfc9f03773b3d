//! [`DocumentStore`] on SQLite: the `documents` table beside the event log in the same
//! file, and a one-row revision bumped in the same transaction as every change.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

use super::StorageError;
use super::documents::{Document, DocumentStore};

/// The documents, on their own connection to the database file.
#[derive(Debug)]
pub struct SqliteDocuments {
    conn: Connection,
}

impl SqliteDocuments {
    /// Opens (creating if needed) the documents table of `wallboard.db` in `data_dir`.
    pub fn open_dir(data_dir: &Path) -> Result<Self, StorageError> {
        Self::open(&super::db_path(data_dir)?)
    }

    pub fn open(path: &Path) -> Result<Self, StorageError> {
        let conn = super::connect(path)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS documents (
                 key TEXT PRIMARY KEY,
                 body TEXT NOT NULL,
                 revision INTEGER NOT NULL,
                 updated_ms INTEGER NOT NULL
             );
             CREATE TABLE IF NOT EXISTS documents_revision (
                 id INTEGER PRIMARY KEY CHECK (id = 1),
                 rev INTEGER NOT NULL
             );
             INSERT OR IGNORE INTO documents_revision (id, rev) VALUES (1, 0);",
        )?;
        Ok(Self { conn })
    }
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Document> {
    Ok(Document { key: r.get(0)?, body: r.get(1)?, revision: r.get(2)?, updated_ms: r.get(3)? })
}

impl DocumentStore for SqliteDocuments {
    fn revision(&self) -> Result<i64, StorageError> {
        Ok(self.conn.query_row("SELECT rev FROM documents_revision WHERE id = 1", [], |r| r.get(0))?)
    }

    fn get(&self, key: &str) -> Result<Option<Document>, StorageError> {
        Ok(self
            .conn
            .query_row("SELECT key, body, revision, updated_ms FROM documents WHERE key = ?1", [key], row)
            .optional()?)
    }

    fn list(&self, prefix: &str) -> Result<Vec<Document>, StorageError> {
        // Text compares by bytes (BINARY), so key order is byte order, as in PostgreSQL's "C".
        let mut stmt = self.conn.prepare(
            "SELECT key, body, revision, updated_ms FROM documents
             WHERE substr(key, 1, length(?1)) = ?1 ORDER BY key",
        )?;
        let rows = stmt.query_map([prefix], row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn put(&mut self, key: &str, body: &str, now_ms: i64) -> Result<Document, StorageError> {
        let tx = self.conn.transaction()?;
        let revision: i64 =
            tx.query_row("UPDATE documents_revision SET rev = rev + 1 WHERE id = 1 RETURNING rev", [], |r| r.get(0))?;
        tx.execute(
            "INSERT INTO documents (key, body, revision, updated_ms) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (key) DO UPDATE SET body = excluded.body, revision = excluded.revision,
                 updated_ms = excluded.updated_ms",
            params![key, body, revision, now_ms],
        )?;
        tx.commit()?;
        Ok(Document { key: key.to_owned(), body: body.to_owned(), revision, updated_ms: now_ms })
    }

    fn delete(&mut self, key: &str) -> Result<bool, StorageError> {
        let tx = self.conn.transaction()?;
        let n = tx.execute("DELETE FROM documents WHERE key = ?1", [key])?;
        if n > 0 {
            tx.execute("UPDATE documents_revision SET rev = rev + 1 WHERE id = 1", [])?;
        }
        tx.commit()?;
        Ok(n > 0)
    }
}
