//! [`TokenStore`] on SQLite: the tokens table, beside the event log in the same file.
//!
//! Every change bumps a revision row in the same transaction, so a running server notices
//! changes made by the `wallboard token` command in another process.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};
use wallboard_shared::{WorkflowSid, WorkspaceSid};

use super::StorageError;
use super::tokens::{NewToken, Scope, TokenError, TokenHash, TokenRecord, TokenStore, hash};

/// The tokens table, on its own connection to the database file.
#[derive(Debug)]
pub struct SqliteTokens {
    conn: Connection,
}

impl SqliteTokens {
    /// Opens (creating if needed) the tokens table of `wallboard.db` in `data_dir`.
    pub fn open_dir(data_dir: &Path) -> Result<Self, StorageError> {
        Self::open(&super::db_path(data_dir)?)
    }

    pub fn open(path: &Path) -> Result<Self, StorageError> {
        let conn = super::connect(path)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS tokens (
                 id TEXT PRIMARY KEY,
                 hash BLOB NOT NULL UNIQUE,
                 label TEXT NOT NULL,
                 workspace_sid TEXT,
                 workflow_sids TEXT NOT NULL DEFAULT '',
                 created_ms INTEGER NOT NULL,
                 expires_ms INTEGER,
                 revoked_ms INTEGER
             );
             CREATE TABLE IF NOT EXISTS tokens_revision (
                 id INTEGER PRIMARY KEY CHECK (id = 1),
                 rev INTEGER NOT NULL
             );
             INSERT OR IGNORE INTO tokens_revision (id, rev) VALUES (1, 0);",
        )?;
        Ok(Self { conn })
    }
}

impl TokenStore for SqliteTokens {
    fn revision(&self) -> Result<i64, StorageError> {
        Ok(self.conn.query_row("SELECT rev FROM tokens_revision WHERE id = 1", [], |r| r.get(0))?)
    }

    fn create(&mut self, new: &NewToken, now_ms: i64) -> Result<(String, TokenRecord), StorageError> {
        let (plain, record) = new.mint(now_ms);
        let (workspace, workflows) = match &record.scope {
            Scope::Admin => (None, String::new()),
            Scope::Workspace { workspace, workflows } => {
                (Some(workspace.to_string()), workflows.iter().map(ToString::to_string).collect::<Vec<_>>().join(","))
            }
        };
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO tokens (id, hash, label, workspace_sid, workflow_sids, created_ms, expires_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![record.id, &hash(&plain)[..], record.label, workspace, workflows, now_ms, record.expires_ms],
        )?;
        tx.execute("UPDATE tokens_revision SET rev = rev + 1 WHERE id = 1", [])?;
        tx.commit()?;
        Ok((plain, record))
    }

    fn revoke(&mut self, id: &str, now_ms: i64) -> Result<bool, TokenError> {
        let tx = self.conn.transaction().map_err(StorageError::from)?;
        let revoked: Option<Option<i64>> = tx
            .query_row("SELECT revoked_ms FROM tokens WHERE id = ?1", [id], |r| r.get(0))
            .optional()
            .map_err(StorageError::from)?;
        match revoked {
            None => Err(TokenError::NotFound(id.to_owned())),
            Some(Some(_)) => Ok(false),
            Some(None) => {
                tx.execute("UPDATE tokens SET revoked_ms = ?2 WHERE id = ?1", params![id, now_ms])
                    .map_err(StorageError::from)?;
                tx.execute("UPDATE tokens_revision SET rev = rev + 1 WHERE id = 1", []).map_err(StorageError::from)?;
                tx.commit().map_err(StorageError::from)?;
                Ok(true)
            }
        }
    }

    fn revoke_label(&mut self, label: &str, now_ms: i64) -> Result<usize, StorageError> {
        let tx = self.conn.transaction()?;
        let n = tx.execute(
            "UPDATE tokens SET revoked_ms = ?2 WHERE label = ?1 AND revoked_ms IS NULL",
            params![label, now_ms],
        )?;
        if n > 0 {
            tx.execute("UPDATE tokens_revision SET rev = rev + 1 WHERE id = 1", [])?;
        }
        tx.commit()?;
        Ok(n)
    }

    fn all(&self) -> Result<Vec<(TokenHash, TokenRecord)>, StorageError> {
        let mut stmt = self.conn.prepare(
            "SELECT hash, id, label, workspace_sid, workflow_sids, created_ms, expires_ms, revoked_ms
             FROM tokens ORDER BY created_ms, id",
        )?;
        let rows = stmt.query_map([], |r| {
            let hash: Vec<u8> = r.get(0)?;
            let workspace: Option<String> = r.get(3)?;
            let workflows: String = r.get(4)?;
            Ok((
                hash,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                workspace,
                workflows,
                r.get::<_, i64>(5)?,
                r.get::<_, Option<i64>>(6)?,
                r.get::<_, Option<i64>>(7)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (hash, id, label, workspace, workflows, created_ms, expires_ms, revoked_ms) = row?;
            let hash: TokenHash =
                hash.try_into().map_err(|_| StorageError::Corrupt(format!("token {id}: bad hash length")))?;
            let scope = match workspace {
                None => Scope::Admin,
                Some(ws) => Scope::Workspace {
                    workspace: WorkspaceSid::parse(&ws)
                        .map_err(|e| StorageError::Corrupt(format!("token {id}: {e}")))?,
                    workflows: workflows
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(WorkflowSid::parse)
                        .collect::<Result<_, _>>()
                        .map_err(|e| StorageError::Corrupt(format!("token {id}: {e}")))?,
                },
            };
            out.push((hash, TokenRecord { id, label, scope, created_ms, expires_ms, revoked_ms }));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::DB_FILE;
    use crate::storage::tokens::STARTUP_LABEL;

    /// SQLite-specific: the secret never reaches the file (the contract itself is in
    /// `storage::conformance`).
    #[test]
    fn only_hashes_reach_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = SqliteTokens::open_dir(dir.path()).expect("open");
        let new = NewToken { label: STARTUP_LABEL.into(), scope: Scope::Admin, ttl_ms: None };
        let (a, _) = store.create(&new, 1).expect("a");
        let (b, _) = store.create(&new, 2).expect("b");
        let raw = std::fs::read(dir.path().join(DB_FILE)).unwrap_or_default();
        let wal = std::fs::read(dir.path().join(format!("{DB_FILE}-wal"))).unwrap_or_default();
        for bytes in [raw, wal] {
            for plain in [&a, &b] {
                assert!(!bytes.windows(plain.len()).any(|w| w == plain.as_bytes()), "plain token in the file");
            }
        }
    }
}
