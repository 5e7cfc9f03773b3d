//! Viewer tokens: what they are and what they may see. They are minted and stored by
//! [`TokenStore`] (in `storage`).
//!
//! A token is `wbt_` and 43 base64url characters (256 random bits). Only its SHA-256 is
//! stored; the plain token is shown once, when it is created.

use sha2::{Digest, Sha256};
use wallboard_shared::{WorkflowSid, WorkspaceSid};

pub use crate::storage::{TokenError, TokenStore};

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
}
