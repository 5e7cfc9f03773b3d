//! [`DocumentStore`] on PostgreSQL: the `documents` table of the shared database (created by
//! the schema's migrations) and the one-row `documents_revision`, bumped in the same
//! transaction as every change, so every node can tell a change by polling the revision.

use std::sync::{Mutex, MutexGuard};

use super::StorageError;
use super::documents::{Document, DocumentStore};
use super::postgres::Conn;

/// The documents, on their own connection (reconnecting after a lost one).
#[derive(Debug)]
pub struct PgDocuments {
    conn: Mutex<Conn>,
}

impl PgDocuments {
    /// Connects to the database at `url` and creates or migrates the schema.
    pub fn connect(url: &str) -> Result<Self, StorageError> {
        Ok(Self { conn: Mutex::new(Conn::open(url)?) })
    }

    fn conn(&self) -> MutexGuard<'_, Conn> {
        self.conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn document(r: &postgres::Row) -> Result<Document, StorageError> {
    Ok(Document { key: r.try_get(0)?, body: r.try_get(1)?, revision: r.try_get(2)?, updated_ms: r.try_get(3)? })
}

impl DocumentStore for PgDocuments {
    fn revision(&self) -> Result<i64, StorageError> {
        self.conn().run(|c, _| Ok(c.query_one("SELECT rev FROM documents_revision WHERE id = 1", &[])?.try_get(0)?))
    }

    fn get(&self, key: &str) -> Result<Option<Document>, StorageError> {
        let row = self.conn().run(|c, _| {
            Ok(c.query_opt("SELECT key, body, revision, updated_ms FROM documents WHERE key = $1", &[&key])?)
        })?;
        row.as_ref().map(document).transpose()
    }

    fn list(&self, prefix: &str) -> Result<Vec<Document>, StorageError> {
        let rows = self.conn().run(|c, _| {
            Ok(c.query(
                "SELECT key, body, revision, updated_ms FROM documents WHERE starts_with(key, $1) ORDER BY key",
                &[&prefix],
            )?)
        })?;
        rows.iter().map(document).collect()
    }

    fn put(&mut self, key: &str, body: &str, now_ms: i64) -> Result<Document, StorageError> {
        let revision = self.conn().run(|c, _| {
            let mut tx = c.transaction()?;
            let revision: i64 = tx
                .query_one("UPDATE documents_revision SET rev = rev + 1 WHERE id = 1 RETURNING rev", &[])?
                .try_get(0)?;
            tx.execute(
                "INSERT INTO documents (key, body, revision, updated_ms) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (key) DO UPDATE SET body = excluded.body, revision = excluded.revision,
                     updated_ms = excluded.updated_ms",
                &[&key, &body, &revision, &now_ms],
            )?;
            tx.commit()?;
            Ok(revision)
        })?;
        Ok(Document { key: key.to_owned(), body: body.to_owned(), revision, updated_ms: now_ms })
    }

    fn delete(&mut self, key: &str) -> Result<bool, StorageError> {
        self.conn().run(|c, _| {
            let mut tx = c.transaction()?;
            let n = tx.execute("DELETE FROM documents WHERE key = $1", &[&key])?;
            if n > 0 {
                tx.execute("UPDATE documents_revision SET rev = rev + 1 WHERE id = 1", &[])?;
            }
            tx.commit()?;
            Ok(n > 0)
        })
    }
}
