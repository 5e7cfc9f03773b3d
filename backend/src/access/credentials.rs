//! The account credentials (HTTP Basic for the API and webhooks' signatures): from the
//! command line, else from the settings, else generated and stored there.
//!
//! Generation is first-writer-wins ([`Settings::set_if_absent`]), so two servers starting
//! at once on one database agree on the credentials.

use rand::Rng;
use wallboard_shared::AccountSid;
use wallboard_shared::sid::SidError;

use crate::storage::{Settings, StorageError};

/// Settings keys (kept from the first release: existing databases keep their credentials).
const ACCOUNT_SID_KEY: &str = "account_sid";
const AUTH_TOKEN_KEY: &str = "auth_token";
/// Shortest auth token accepted on the command line.
const MIN_AUTH_TOKEN_LEN: usize = 8;

/// The API credentials in force and whether this start generated them.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub account_sid: AccountSid,
    pub auth_token: String,
    /// True when this process generated and stored them (so it shows the token once).
    pub generated: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("--account-sid: {0}")]
    AccountSidFlag(SidError),
    #[error("--auth-token must be at least {MIN_AUTH_TOKEN_LEN} characters")]
    AuthTokenTooShort,
    #[error("the stored account sid is invalid: {0}")]
    StoredAccountSid(SidError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Credentials from the flags when both are given, else from `settings` (generating and
/// storing them on first start); a flag given alone overrides its stored half.
pub fn resolve(
    account_sid_flag: Option<&str>,
    auth_token_flag: Option<&str>,
    settings: &dyn Settings,
) -> Result<Credentials, CredentialsError> {
    if let (Some(sid), Some(token)) = (account_sid_flag, auth_token_flag) {
        let account_sid = AccountSid::parse(sid).map_err(CredentialsError::AccountSidFlag)?;
        if token.len() < MIN_AUTH_TOKEN_LEN {
            return Err(CredentialsError::AuthTokenTooShort);
        }
        return Ok(Credentials { account_sid, auth_token: token.to_owned(), generated: false });
    }
    let (account_sid, auth_token, generated) = match (settings.get(ACCOUNT_SID_KEY)?, settings.get(AUTH_TOKEN_KEY)?) {
        (Some(sid), Some(token)) => (sid, token, false),
        _ => {
            let mut rng = rand::rng();
            let sid = AccountSid::from_u128(rng.random()).to_string();
            let token = format!("{:032x}", rng.random::<u128>());
            // Another process starting at the same moment may win: go on with its values.
            let sid_in_force = settings.set_if_absent(ACCOUNT_SID_KEY, &sid)?;
            let token_in_force = settings.set_if_absent(AUTH_TOKEN_KEY, &token)?;
            let generated = token_in_force == token;
            (sid_in_force, token_in_force, generated)
        }
    };
    let account_sid = match account_sid_flag {
        Some(flag) => AccountSid::parse(flag).map_err(CredentialsError::AccountSidFlag)?,
        None => AccountSid::parse(&account_sid).map_err(CredentialsError::StoredAccountSid)?,
    };
    let auth_token = auth_token_flag.map_or(auth_token, str::to_owned);
    Ok(Credentials { account_sid, auth_token, generated })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::SqliteLog;

    fn sid(n: u128) -> String {
        AccountSid::from_u128(n).to_string()
    }

    #[test]
    fn generated_once_then_stored() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = SqliteLog::open_dir(dir.path()).expect("open");
        let made = resolve(None, None, &first).expect("resolve");
        assert!(made.generated);
        assert_eq!(made.auth_token.len(), 32);
        let again = resolve(None, None, &SqliteLog::open_dir(dir.path()).expect("open")).expect("resolve");
        assert!(!again.generated);
        assert_eq!((again.account_sid, again.auth_token), (made.account_sid, made.auth_token));
    }

    #[test]
    fn flags_win_and_a_lone_flag_overrides_its_half() {
        let dir = tempfile::tempdir().expect("tempdir");
        let settings = SqliteLog::open_dir(dir.path()).expect("open");
        let both = resolve(Some(&sid(7)), Some("secret-123"), &settings).expect("resolve");
        assert_eq!(
            (both.account_sid.to_string(), both.auth_token.as_str(), both.generated),
            (sid(7), "secret-123", false)
        );
        assert_eq!(settings.get(ACCOUNT_SID_KEY).expect("get"), None, "flags are not stored");
        let stored = resolve(None, None, &settings).expect("resolve");
        let token_only = resolve(None, Some("another-1"), &settings).expect("resolve");
        assert_eq!((token_only.account_sid, token_only.auth_token.as_str()), (stored.account_sid, "another-1"));
        let sid_only = resolve(Some(&sid(9)), None, &settings).expect("resolve");
        assert_eq!((sid_only.account_sid.to_string(), sid_only.auth_token), (sid(9), stored.auth_token));
    }

    #[test]
    fn bad_flags_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let settings = SqliteLog::open_dir(dir.path()).expect("open");
        assert!(matches!(
            resolve(Some("AC12"), Some("secret-123"), &settings),
            Err(CredentialsError::AccountSidFlag(_))
        ));
        assert!(matches!(resolve(Some(&sid(1)), Some("short"), &settings), Err(CredentialsError::AuthTokenTooShort)));
    }

    #[test]
    fn two_processes_starting_at_once_agree() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (a, b) = (SqliteLog::open_dir(dir.path()).expect("open"), SqliteLog::open_dir(dir.path()).expect("open"));
        let barrier = std::sync::Barrier::new(2);
        let (ca, cb) = std::thread::scope(|s| {
            let run = |settings: SqliteLog| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    resolve(None, None, &settings).expect("resolve")
                })
            };
            let (ta, tb) = (run(a), run(b));
            (ta.join().expect("no panic"), tb.join().expect("no panic"))
        });
        assert_eq!((&ca.account_sid, &ca.auth_token), (&cb.account_sid, &cb.auth_token));
        assert!(!(ca.generated && cb.generated), "only the winner says it generated them");
    }
}
