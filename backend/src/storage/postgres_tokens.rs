//! [`TokenStore`] on PostgreSQL: the tokens table beside the event log. Every change
//! bumps the one-row `token_revision` in the same transaction and notifies
//! [`TOKENS_CHANNEL`], so every node notices it (the doorbell, or polling the revision).

use std::sync::{Mutex, MutexGuard};

use wallboard_shared::{WorkflowSid, WorkspaceSid};

use super::StorageError;
use super::postgres::{Conn, TOKENS_CHANNEL};
use super::tokens::{NewToken, Scope, TokenError, TokenHash, TokenRecord, TokenStore, hash};

/// The tokens, on their own connection.
#[derive(Debug)]
pub struct PgTokens {
    conn: Mutex<Conn>,
}

impl PgTokens {
    /// Connects to the database at `url` and creates or migrates the schema.
    pub fn connect(url: &str) -> Result<Self, StorageError> {
        Ok(Self { conn: Mutex::new(Conn::open(url)?) })
    }

    fn conn(&self) -> MutexGuard<'_, Conn> {
        self.conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Moves the revision and tells the other nodes, inside the changing transaction.
fn bump(tx: &mut postgres::Transaction<'_>) -> Result<(), StorageError> {
    tx.execute("UPDATE token_revision SET rev = rev + 1 WHERE id = 1", &[])?;
    tx.batch_execute(&format!("NOTIFY {TOKENS_CHANNEL}"))?;
    Ok(())
}

impl TokenStore for PgTokens {
    fn revision(&self) -> Result<i64, StorageError> {
        self.conn().run(|c, _| Ok(c.query_one("SELECT rev FROM token_revision WHERE id = 1", &[])?.try_get(0)?))
    }

    fn create(&mut self, new: &NewToken, now_ms: i64) -> Result<(String, TokenRecord), StorageError> {
        let (plain, record) = new.mint(now_ms);
        let (workspace, workflows) = match &record.scope {
            Scope::Admin => (None, String::new()),
            Scope::Workspace { workspace, workflows } => {
                (Some(workspace.to_string()), workflows.iter().map(ToString::to_string).collect::<Vec<_>>().join(","))
            }
        };
        let digest = hash(&plain);
        self.conn().run(|c, _| {
            let mut tx = c.transaction()?;
            tx.execute(
                "INSERT INTO tokens (id, hash, label, workspace_sid, workflow_sids, created_ms, expires_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[&record.id, &&digest[..], &record.label, &workspace, &workflows, &now_ms, &record.expires_ms],
            )?;
            bump(&mut tx)?;
            tx.commit()?;
            Ok(())
        })?;
        Ok((plain, record))
    }

    fn revoke(&mut self, id: &str, now_ms: i64) -> Result<bool, TokenError> {
        let outcome = self.conn().run(|c, _| {
            let mut tx = c.transaction()?;
            let revoked: Option<Option<i64>> =
                tx.query_opt("SELECT revoked_ms FROM tokens WHERE id = $1 FOR UPDATE", &[&id])?.map(|r| r.get(0));
            let outcome = match revoked {
                None => None,
                Some(Some(_)) => Some(false),
                Some(None) => {
                    tx.execute("UPDATE tokens SET revoked_ms = $2 WHERE id = $1", &[&id, &now_ms])?;
                    bump(&mut tx)?;
                    Some(true)
                }
            };
            tx.commit()?;
            Ok(outcome)
        })?;
        outcome.ok_or_else(|| TokenError::NotFound(id.to_owned()))
    }

    fn revoke_label(&mut self, label: &str, now_ms: i64) -> Result<usize, StorageError> {
        self.conn().run(|c, _| {
            let mut tx = c.transaction()?;
            let n = tx.execute(
                "UPDATE tokens SET revoked_ms = $2 WHERE label = $1 AND revoked_ms IS NULL",
                &[&label, &now_ms],
            )?;
            if n > 0 {
                bump(&mut tx)?;
            }
            tx.commit()?;
            Ok(n as usize)
        })
    }

    fn all(&self) -> Result<Vec<(TokenHash, TokenRecord)>, StorageError> {
        let rows = self.conn().run(|c, _| {
            Ok(c.query(
                "SELECT hash, id, label, workspace_sid, workflow_sids, created_ms, expires_ms, revoked_ms
                 FROM tokens ORDER BY created_ms, id",
                &[],
            )?)
        })?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let hash: Vec<u8> = r.try_get(0)?;
            let id: String = r.try_get(1)?;
            let label: String = r.try_get(2)?;
            let workspace: Option<String> = r.try_get(3)?;
            let workflows: String = r.try_get(4)?;
            let (created_ms, expires_ms, revoked_ms) = (r.try_get(5)?, r.try_get(6)?, r.try_get(7)?);
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
