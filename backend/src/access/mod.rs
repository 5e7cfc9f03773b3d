//! Who may read what: the account credentials (HTTP Basic), viewer tokens
//! (`Authorization: Bearer`, or the WebSocket's `auth` frame), their scopes, and the
//! failed-attempt limit.
//!
//! Tokens live in a [`TokenStore`] handed in by the composition root (storage never
//! imports this module); the server keeps them in memory and polls the store's revision,
//! so a token created or revoked by the `wallboard token` command in another process
//! takes effect within [`REFRESH_EVERY`]. Live WebSocket sessions follow
//! [`Access::changes`] and close when their token stops being valid. The account
//! credentials are settled by [`credentials::resolve`].

pub mod credentials;
pub mod limiter;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::http::{HeaderMap, header};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use wallboard_shared::AccountSid;

use crate::clock::Clock;
use crate::storage::StorageError;
pub use crate::storage::tokens::{NewToken, Scope, Standing, TokenHash, TokenRecord, TokenStore};
use crate::storage::tokens::{STARTUP_LABEL, hash};
pub use credentials::Credentials;
pub use limiter::FailedAuthLimiter;

/// How often the server looks for token changes made by other processes, and for expiries.
pub const REFRESH_EVERY: Duration = Duration::from_millis(250);

/// An authenticated caller.
#[derive(Debug, Clone)]
pub enum Principal {
    /// The account SID and auth token: everything.
    Account,
    /// A viewer or admin token.
    Token(Arc<TokenRecord>),
}

impl Principal {
    pub fn allows_workspace(&self, ws: &str) -> bool {
        match self {
            Self::Account => true,
            Self::Token(t) => t.scope.allows_workspace(ws),
        }
    }

    pub fn allows_workflow(&self, ws: &str, wf: &str) -> bool {
        match self {
            Self::Account => true,
            Self::Token(t) => t.scope.allows_workflow(ws, wf),
        }
    }

    /// Every workflow of `ws`, present and future (the Events resource needs it).
    pub fn allows_all_workflows(&self, ws: &str) -> bool {
        match self {
            Self::Account => true,
            Self::Token(t) => match &t.scope {
                Scope::Admin => true,
                Scope::Workspace { workspace, workflows } => workspace.as_str() == ws && workflows.is_empty(),
            },
        }
    }

    /// The account credentials or an admin token: may change settings (service levels).
    pub fn is_admin(&self) -> bool {
        match self {
            Self::Account => true,
            Self::Token(t) => t.scope == Scope::Admin,
        }
    }

    pub fn token(&self) -> Option<&TokenRecord> {
        match self {
            Self::Account => None,
            Self::Token(t) => Some(t),
        }
    }
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// No credentials at all.
    Missing,
    /// Wrong account credentials.
    BadCredentials,
    /// A token that is unknown, expired or revoked (the message says which).
    BadToken(&'static str),
    /// Too many failed attempts from this address; retry after this many seconds.
    RateLimited { retry_after_secs: u64 },
}

impl Denied {
    pub fn message(&self) -> String {
        match self {
            Self::Missing => {
                "Authenticate with the account SID and auth token (HTTP Basic) or a viewer token (Bearer)".into()
            }
            Self::BadCredentials => "Authentication failed: wrong account SID or auth token".into(),
            Self::BadToken(why) => format!("Authentication failed: the token is {why}"),
            Self::RateLimited { retry_after_secs } => {
                format!("Too many failed authentication attempts from this address; retry in {retry_after_secs} s")
            }
        }
    }
}

#[derive(Debug, Default)]
struct Loaded {
    revision: i64,
    by_hash: HashMap<TokenHash, Arc<TokenRecord>>,
    by_id: HashMap<String, Arc<TokenRecord>>,
}

/// Credentials and tokens in force, shared by every request and session.
pub struct Access {
    account_sid: AccountSid,
    auth_token_digest: [u8; 32],
    /// Locked only for synchronous store calls (never across an `.await`).
    store: Mutex<Box<dyn TokenStore>>,
    loaded: RwLock<Loaded>,
    changed: watch::Sender<u64>,
    limiter: FailedAuthLimiter,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the digest or the tokens.
        f.debug_struct("Access")
            .field("account_sid", &self.account_sid)
            .field("revision", &self.loaded.read().unwrap_or_else(|p| p.into_inner()).revision)
            .field("limiter", &self.limiter)
            .finish_non_exhaustive()
    }
}

/// The label of a start's admin token: one per node when several share the tokens.
pub fn startup_label(node: Option<&str>) -> String {
    match node {
        None => STARTUP_LABEL.to_owned(),
        Some(n) => format!("{STARTUP_LABEL} by node {n}"),
    }
}

impl Access {
    /// Access over the account credentials and the tokens of `tokens`, loaded now.
    pub fn new(
        account_sid: AccountSid,
        auth_token: &str,
        tokens: Box<dyn TokenStore>,
        limiter: FailedAuthLimiter,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<Self>, StorageError> {
        let access = Arc::new(Self {
            account_sid,
            auth_token_digest: Sha256::digest(auth_token.as_bytes()).into(),
            store: Mutex::new(tokens),
            loaded: RwLock::new(Loaded { revision: -1, ..Loaded::default() }),
            changed: watch::Sender::new(0),
            limiter,
            clock,
        });
        access.refresh()?;
        Ok(access)
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Box<dyn TokenStore>> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Revokes the previous start's admin token and mints a new one: the server prints it
    /// in a ready dashboard link (like a notebook server). With `node` (several nodes share
    /// the tokens), only that node's previous link is revoked, never another node's.
    pub fn mint_startup_token(&self, node: Option<&str>) -> Result<String, StorageError> {
        let now = self.clock.now_ms();
        let label = startup_label(node);
        let plain = {
            let mut store = self.store();
            store.revoke_label(&label, now)?;
            let new = NewToken { label, scope: Scope::Admin, ttl_ms: None };
            store.create(&new, now)?.0
        };
        self.refresh()?;
        Ok(plain)
    }

    /// Reloads the tokens when the store's revision moved; true when it did. Blocking
    /// (a small store read): async callers use [`Access::refresh_async`].
    pub fn refresh(&self) -> Result<bool, StorageError> {
        let store = self.store();
        let revision = store.revision()?;
        if revision == self.loaded.read().unwrap_or_else(|p| p.into_inner()).revision {
            return Ok(false);
        }
        let all = store.all()?;
        drop(store);
        let mut next = Loaded { revision, ..Loaded::default() };
        for (hash, record) in all {
            let record = Arc::new(record);
            next.by_id.insert(record.id.clone(), record.clone());
            next.by_hash.insert(hash, record);
        }
        let mut loaded = self.loaded.write().unwrap_or_else(|p| p.into_inner());
        // Two refreshes may race (the follower's and an authentication's): never let the
        // one that read earlier replace what the later one loaded.
        if next.revision < loaded.revision {
            return Ok(false);
        }
        *loaded = next;
        drop(loaded);
        self.changed.send_modify(|n| *n += 1);
        Ok(true)
    }

    pub async fn refresh_async(self: &Arc<Self>) -> bool {
        let access = self.clone();
        match tokio::task::spawn_blocking(move || access.refresh()).await {
            Ok(Ok(changed)) => changed,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "cannot read the tokens");
                false
            }
            Err(_) => false,
        }
    }

    /// Bumped whenever a token may have stopped being valid (revoked, expired, reloaded).
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// Keeps the tokens current until `stop`: picks up changes made elsewhere and signals
    /// expiries as they happen (by the injected clock).
    pub async fn follow(self: Arc<Self>, stop: CancellationToken) {
        let mut tick = tokio::time::interval(REFRESH_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut checked = self.clock.now_ms();
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            let reloaded = self.refresh_async().await;
            let now = self.clock.now_ms();
            let expired = self
                .loaded
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .by_id
                .values()
                .any(|t| t.revoked_ms.is_none() && t.expires_ms.is_some_and(|e| e > checked && e <= now));
            checked = checked.max(now);
            if expired && !reloaded {
                self.changed.send_modify(|n| *n += 1);
            }
        }
    }

    /// Whether `principal` is still in force (a live session asks after every change).
    pub fn still_valid(&self, principal: &Principal) -> bool {
        match principal {
            Principal::Account => true,
            Principal::Token(t) => {
                let loaded = self.loaded.read().unwrap_or_else(|p| p.into_inner());
                loaded.by_id.get(&t.id).is_some_and(|current| current.is_active(self.clock.now_ms()))
            }
        }
    }

    /// Authenticates an HTTP request: Basic with the account credentials, or a Bearer token.
    pub async fn authenticate_headers(
        self: &Arc<Self>,
        headers: &HeaderMap,
        peer: Option<IpAddr>,
    ) -> Result<Principal, Denied> {
        let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
            return Err(Denied::Missing);
        };
        let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
        if scheme.eq_ignore_ascii_case("bearer") {
            return self.authenticate_token(rest.trim(), peer).await;
        }
        if !scheme.eq_ignore_ascii_case("basic") {
            return Err(Denied::Missing);
        }
        self.check_limit(peer)?;
        if self.is_account(rest.trim()) {
            Ok(Principal::Account)
        } else {
            self.failed(peer);
            Err(Denied::BadCredentials)
        }
    }

    /// True for the account's Basic credentials (base64 of `sid:token`).
    fn is_account(&self, basic: &str) -> bool {
        STANDARD.decode(basic).ok().and_then(|raw| String::from_utf8(raw).ok()).is_some_and(|pair| {
            let (user, pass) = pair.split_once(':').unwrap_or((&pair, ""));
            // Compare digests so the time taken says nothing about the secret.
            let digest: [u8; 32] = Sha256::digest(pass.as_bytes()).into();
            user == self.account_sid.as_str() && digest == self.auth_token_digest
        })
    }

    /// Authenticates a plain token (Bearer, or the WebSocket `auth` frame).
    pub async fn authenticate_token(self: &Arc<Self>, token: &str, peer: Option<IpAddr>) -> Result<Principal, Denied> {
        self.check_limit(peer)?;
        let key = hash(token);
        let mut found = self.lookup(&key);
        // Made by `wallboard token create` since the last refresh? Look again whether or not
        // this refresh reloaded: a concurrent one (the follower's) may have just done it.
        if found.is_none() {
            self.refresh_async().await;
            found = self.lookup(&key);
        }
        let denied = match found {
            Some(t) => match t.standing(self.clock.now_ms()) {
                Standing::Active => return Ok(Principal::Token(t)),
                Standing::Expired => Denied::BadToken("expired"),
                Standing::Revoked => Denied::BadToken("revoked"),
            },
            None => Denied::BadToken("not known to this server"),
        };
        self.failed(peer);
        Err(denied)
    }

    fn lookup(&self, hash: &TokenHash) -> Option<Arc<TokenRecord>> {
        self.loaded.read().unwrap_or_else(|p| p.into_inner()).by_hash.get(hash).cloned()
    }

    fn check_limit(&self, peer: Option<IpAddr>) -> Result<(), Denied> {
        match peer {
            Some(ip) => self
                .limiter
                .check(ip, self.clock.now_ms())
                .map_err(|wait_ms| Denied::RateLimited { retry_after_secs: (wait_ms as u64).div_ceil(1000).max(1) }),
            None => Ok(()),
        }
    }

    fn failed(&self, peer: Option<IpAddr>) {
        if let Some(ip) = peer {
            self.limiter.fail(ip, self.clock.now_ms());
        }
    }
}
