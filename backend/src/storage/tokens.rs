//! The tokens table: viewer tokens, stored hashed, beside the event log in the same file.
//!
//! Every change bumps a revision in the same transaction, so a running server notices
//! changes made by the `wallboard token` command in another process.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use rusqlite::{Connection, OptionalExtension, params};
use wallboard_shared::{WorkflowSid, WorkspaceSid};

use super::StorageError;
use crate::access::token::{NewToken, Scope, TOKEN_PREFIX, TokenHash, TokenRecord, hash};

/// The tokens table, on its own connection to the database file.
#[derive(Debug)]
pub struct TokenStore {
    conn: Connection,
}

impl TokenStore {
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

    /// Grows with every change to the tokens.
    pub fn revision(&self) -> Result<i64, StorageError> {
        Ok(self.conn.query_row("SELECT rev FROM tokens_revision WHERE id = 1", [], |r| r.get(0))?)
    }

    /// Mints a token; returns the plain token (shown once) and its record.
    pub fn create(&mut self, new: &NewToken, now_ms: i64) -> Result<(String, TokenRecord), StorageError> {
        let mut rng = rand::rng();
        let mut secret = [0u8; 32];
        rng.fill_bytes(&mut secret);
        let plain = format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(secret));
        let id = format!("TK{:032x}", rng.next_u64() as u128 | (u128::from(rng.next_u64()) << 64));
        let record = TokenRecord {
            id,
            label: new.label.clone(),
            scope: new.scope.clone(),
            created_ms: now_ms,
            expires_ms: new.ttl_ms.map(|ttl| now_ms.saturating_add(ttl)),
            revoked_ms: None,
        };
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

    /// Revokes the token `id`: Ok(true) when it was active, Ok(false) when it was already
    /// revoked, Err(NotFound) when there is no such token.
    pub fn revoke(&mut self, id: &str, now_ms: i64) -> Result<bool, TokenError> {
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

    /// Revokes every active token labelled `label` (the previous start's admin token).
    pub fn revoke_label(&mut self, label: &str, now_ms: i64) -> Result<usize, StorageError> {
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

    /// Every token with its hash, oldest first.
    pub fn all(&self) -> Result<Vec<(TokenHash, TokenRecord)>, StorageError> {
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

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("no token with id {0} (see `wallboard token list`)")]
    NotFound(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::token::{STARTUP_LABEL, Standing};
    use crate::storage::DB_FILE;

    fn ws(n: u128) -> WorkspaceSid {
        WorkspaceSid::from_u128(n)
    }

    #[test]
    fn create_list_revoke() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = TokenStore::open_dir(dir.path()).expect("open");
        let rev0 = store.revision().expect("rev");
        let scope = Scope::Workspace { workspace: ws(1), workflows: vec![WorkflowSid::from_u128(2)] };
        let (plain, record) =
            store.create(&NewToken { label: "lobby TV".into(), scope, ttl_ms: Some(1000) }, 5000).expect("create");
        assert!(plain.starts_with(TOKEN_PREFIX) && plain.len() == TOKEN_PREFIX.len() + 43, "{plain}");
        assert_eq!(record.expires_ms, Some(6000));
        assert!(store.revision().expect("rev") > rev0);
        let all = store.all().expect("all");
        assert_eq!(all, vec![(hash(&plain), record.clone())]);
        assert!(record.is_active(5999));
        assert_eq!(record.standing(6000), Standing::Expired);

        // Another connection (the CLI while a server runs) sees and changes the same table.
        let mut other = TokenStore::open_dir(dir.path()).expect("open again");
        let rev1 = store.revision().expect("rev");
        assert!(other.revoke(&record.id, 5500).expect("revoke"));
        assert!(!other.revoke(&record.id, 5600).expect("again"), "already revoked");
        assert!(matches!(other.revoke("TK00", 1), Err(TokenError::NotFound(_))));
        assert!(store.revision().expect("rev") > rev1);
        assert_eq!(store.all().expect("all")[0].1.standing(0), Standing::Revoked);
    }

    #[test]
    fn tokens_differ_and_only_hashes_are_stored() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = TokenStore::open_dir(dir.path()).expect("open");
        let new = NewToken { label: STARTUP_LABEL.into(), scope: Scope::Admin, ttl_ms: None };
        let (a, _) = store.create(&new, 1).expect("a");
        let (b, _) = store.create(&new, 2).expect("b");
        assert_ne!(a, b);
        let raw = std::fs::read(dir.path().join(DB_FILE)).unwrap_or_default();
        let wal = std::fs::read(dir.path().join(format!("{DB_FILE}-wal"))).unwrap_or_default();
        for bytes in [raw, wal] {
            assert!(!bytes.windows(a.len()).any(|w| w == a.as_bytes()), "plain token in the file");
        }
        assert_eq!(store.revoke_label(STARTUP_LABEL, 3).expect("revoke"), 2);
        assert!(store.all().expect("all").iter().all(|(_, r)| !r.is_active(3)));
    }
}
