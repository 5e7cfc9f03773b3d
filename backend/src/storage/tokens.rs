//! Viewer tokens as data: what a token is, what it may see, and the [`TokenStore`]
//! contract every implementation (SQLite today) fulfils.
//!
//! This is a leaf: it knows no SQL and nothing of `access`, which imports it (the
//! direction is access -> storage, never back). A token is `wbt_` and 43 base64url
//! characters (256 random bits). Only its SHA-256 is stored; the plain token is shown
//! once, when it is created.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use wallboard_shared::{WorkflowSid, WorkspaceSid};

use super::StorageError;

/// Prefix of every token (recognizable in leaked-secret scanners).
pub const TOKEN_PREFIX: &str = "wbt_";
/// Label of the admin token a server mints on every start.
pub const STARTUP_LABEL: &str = "printed at startup";

/// The SHA-256 of a plain token: the key tokens are stored and looked up by.
pub type TokenHash = [u8; 32];

pub fn hash(token: &str) -> TokenHash {
    Sha256::digest(token.as_bytes()).into()
}

/// What a token may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Everything, like the account credentials (the token printed at startup).
    Admin,
    /// One workspace; all its workflows when `workflows` is empty, else only those.
    Workspace { workspace: WorkspaceSid, workflows: Vec<WorkflowSid> },
}

impl Scope {
    pub fn allows_workspace(&self, ws: &str) -> bool {
        match self {
            Self::Admin => true,
            Self::Workspace { workspace, .. } => workspace.as_str() == ws,
        }
    }

    pub fn allows_workflow(&self, ws: &str, wf: &str) -> bool {
        match self {
            Self::Admin => true,
            Self::Workspace { workspace, workflows } => {
                workspace.as_str() == ws && (workflows.is_empty() || workflows.iter().any(|w| w.as_str() == wf))
            }
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Admin => f.write_str("admin (everything)"),
            Self::Workspace { workspace, workflows } if workflows.is_empty() => write!(f, "{workspace}"),
            Self::Workspace { workspace, workflows } => {
                write!(f, "{workspace}:")?;
                for (i, w) in workflows.iter().enumerate() {
                    write!(f, "{}{w}", if i == 0 { "" } else { "," })?;
                }
                Ok(())
            }
        }
    }
}

/// A stored token (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// `TK` and 32 hex digits: how `token list` and `token revoke` name it.
    pub id: String,
    pub label: String,
    pub scope: Scope,
    pub created_ms: i64,
    pub expires_ms: Option<i64>,
    pub revoked_ms: Option<i64>,
}

/// Why a token is not in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Active,
    Expired,
    Revoked,
}

impl TokenRecord {
    pub fn standing(&self, now_ms: i64) -> Standing {
        if self.revoked_ms.is_some() {
            Standing::Revoked
        } else if self.expires_ms.is_some_and(|e| e <= now_ms) {
            Standing::Expired
        } else {
            Standing::Active
        }
    }

    pub fn is_active(&self, now_ms: i64) -> bool {
        self.standing(now_ms) == Standing::Active
    }
}

/// What to create.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub label: String,
    pub scope: Scope,
    pub ttl_ms: Option<i64>,
}

impl NewToken {
    /// Draws a fresh secret and id for this token: the plain token (shown once) and the
    /// record to store under `hash(&plain)`. Every implementation mints through here, so
    /// tokens look the same whatever stores them.
    pub fn mint(&self, now_ms: i64) -> (String, TokenRecord) {
        let mut rng = rand::rng();
        let mut secret = [0u8; 32];
        rng.fill_bytes(&mut secret);
        let plain = format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(secret));
        let id = format!("TK{:032x}", rng.next_u64() as u128 | (u128::from(rng.next_u64()) << 64));
        let record = TokenRecord {
            id,
            label: self.label.clone(),
            scope: self.scope.clone(),
            created_ms: now_ms,
            expires_ms: self.ttl_ms.map(|ttl| now_ms.saturating_add(ttl)),
            revoked_ms: None,
        };
        (plain, record)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("no token with id {0} (see `wallboard token list`)")]
    NotFound(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Where viewer tokens are kept, stored hashed. Several processes share one store (the
/// server and the `wallboard token` command): every change moves [`TokenStore::revision`]
/// in the same transaction, so a running server notices changes made elsewhere by
/// polling one number.
pub trait TokenStore: Send {
    /// Mints a token ([`NewToken::mint`]) and stores it; returns the plain token (shown
    /// once) and its record.
    fn create(&mut self, new: &NewToken, now_ms: i64) -> Result<(String, TokenRecord), StorageError>;

    /// Revokes the token `id`: Ok(true) when it was active, Ok(false) when it was already
    /// revoked (the revision does not move), Err(NotFound) when there is no such token.
    fn revoke(&mut self, id: &str, now_ms: i64) -> Result<bool, TokenError>;

    /// Revokes every active token labelled `label` (the previous start's admin token);
    /// returns how many. The revision moves only when one was.
    fn revoke_label(&mut self, label: &str, now_ms: i64) -> Result<usize, StorageError>;

    /// Every token with its hash, oldest first (creation time, then id).
    fn all(&self) -> Result<Vec<(TokenHash, TokenRecord)>, StorageError>;

    /// Grows with every change to the tokens, whichever connection made it.
    fn revision(&self) -> Result<i64, StorageError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ws(n: u128) -> WorkspaceSid {
        WorkspaceSid::from_u128(n)
    }

    #[test]
    fn scopes() {
        let wf = WorkflowSid::from_u128(9);
        let whole = Scope::Workspace { workspace: ws(1), workflows: vec![] };
        let one = Scope::Workspace { workspace: ws(1), workflows: vec![wf.clone()] };
        let (w1, w2) = (ws(1).to_string(), ws(2).to_string());
        assert!(Scope::Admin.allows_workflow(&w2, "WWx"));
        assert!(whole.allows_workspace(&w1) && !whole.allows_workspace(&w2));
        assert!(whole.allows_workflow(&w1, wf.as_str()) && whole.allows_workflow(&w1, "anything"));
        assert!(one.allows_workflow(&w1, wf.as_str()) && !one.allows_workflow(&w1, "WWother"));
        assert!(!one.allows_workflow(&w2, wf.as_str()));
    }

    #[test]
    fn minted_tokens_differ_and_carry_their_ttl() {
        let new = NewToken { label: "lobby TV".into(), scope: Scope::Admin, ttl_ms: Some(1000) };
        let (a, ra) = new.mint(5000);
        let (b, rb) = new.mint(5000);
        assert!(a.starts_with(TOKEN_PREFIX) && a.len() == TOKEN_PREFIX.len() + 43, "{a}");
        assert!(ra.id.starts_with("TK") && ra.id.len() == 34, "{}", ra.id);
        assert_ne!(a, b);
        assert_ne!(ra.id, rb.id);
        assert_eq!(ra.expires_ms, Some(6000));
        assert!(ra.is_active(5999));
        assert_eq!(ra.standing(6000), Standing::Expired);
    }
}
