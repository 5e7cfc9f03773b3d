//! [`Database`]: which database a node stores in, and the connections it opens there.
//!
//! SQLite in the data directory is the embedded default (one node); a `postgres://` URL
//! (`--database-url`) makes the node one of several sharing a PostgreSQL database. The
//! rest of Wallboard holds the traits and never asks which one it is, but for the few
//! things only a shared database has: the doorbell of other nodes' commits and the locks
//! of the singleton roles.

use std::path::{Path, PathBuf};

use super::documents::DocumentStore;
use super::mirror_share::MirrorShare;
use super::postgres::{Doorbell, PgLog, SingletonLock};
use super::postgres_documents::PgDocuments;
use super::postgres_mirror::PgMirrorShare;
use super::postgres_tokens::PgTokens;
use super::{EventLog, Settings, SqliteDocuments, SqliteLog, SqliteTokens, StorageError, TokenStore};

/// An event log that also holds the settings (one connection serves both).
pub trait Store: EventLog + Settings {}
impl<T: EventLog + Settings> Store for T {}

impl std::fmt::Debug for dyn Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

/// Where a node keeps its events, settings and tokens.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// `wallboard.db` in this directory.
    Sqlite(PathBuf),
    /// A PostgreSQL database shared by every node (`postgres://…`).
    Postgres(String),
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self}")
    }
}

/// Names the database without its password.
impl std::fmt::Display for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(dir) => write!(f, "SQLite in {}", dir.display()),
            Self::Postgres(url) => write!(f, "PostgreSQL {}", redact(url)),
        }
    }
}

/// The URL with its password replaced by `***`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let (authority, tail) = rest.split_once('/').map_or((rest, ""), |(a, t)| (a, t));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            let secret = if userinfo.contains(':') { ":***" } else { "" };
            let slash = if rest.contains('/') { "/" } else { "" };
            format!("{scheme}://{user}{secret}@{host}{slash}{tail}")
        }
        None => url.to_owned(),
    }
}

impl Database {
    /// PostgreSQL when `url` is given, else SQLite in `data_dir`.
    pub fn new(data_dir: &Path, url: Option<&str>) -> Result<Self, StorageError> {
        match url.map(str::trim).filter(|u| !u.is_empty()) {
            None => Ok(Self::Sqlite(data_dir.to_owned())),
            Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => {
                Ok(Self::Postgres(u.to_owned()))
            }
            Some(u) => Err(StorageError::Corrupt(format!(
                "--database-url must start with postgres:// or postgresql:// (got {})",
                redact(u)
            ))),
        }
    }

    /// Whether several nodes share this database (their events reach each other).
    pub fn is_shared(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }

    /// A connection to the event log and the settings (the writer's, or a reader's).
    /// Blocking: call it from a thread, never from an async task.
    pub fn open(&self) -> Result<Box<dyn Store>, StorageError> {
        Ok(match self {
            Self::Sqlite(dir) => Box::new(SqliteLog::open_dir(dir)?),
            Self::Postgres(url) => Box::new(PgLog::connect(url)?),
        })
    }

    /// A connection to the viewer tokens. Blocking.
    pub fn open_tokens(&self) -> Result<Box<dyn TokenStore>, StorageError> {
        Ok(match self {
            Self::Sqlite(dir) => Box::new(SqliteTokens::open_dir(dir)?),
            Self::Postgres(url) => Box::new(PgTokens::connect(url)?),
        })
    }

    /// A connection to the keyed documents (service-level definitions). Blocking.
    pub fn open_documents(&self) -> Result<Box<dyn DocumentStore>, StorageError> {
        Ok(match self {
            Self::Sqlite(dir) => Box::new(SqliteDocuments::open_dir(dir)?),
            Self::Postgres(url) => Box::new(PgDocuments::connect(url)?),
        })
    }

    /// Where a cluster's mirror shares its wanted URLs and fetched answers, on a shared
    /// database. Blocking.
    pub fn mirror_share(&self) -> Option<Result<Box<dyn MirrorShare>, StorageError>> {
        match self {
            Self::Sqlite(_) => None,
            Self::Postgres(url) => Some(PgMirrorShare::connect(url).map(|s| Box::new(s) as Box<dyn MirrorShare>)),
        }
    }

    /// The doorbell rung by other nodes' commits, on a shared database. Blocking.
    pub fn doorbell(&self) -> Option<Result<Doorbell, StorageError>> {
        match self {
            Self::Sqlite(_) => None,
            Self::Postgres(url) => Some(Doorbell::listen(url)),
        }
    }

    /// The cluster-wide lock of a singleton role, on a shared database (one node alone
    /// holds every role). Does not connect yet.
    pub fn singleton(&self, role: &str) -> Option<SingletonLock> {
        match self {
            Self::Sqlite(_) => None,
            Self::Postgres(url) => Some(SingletonLock::new(url, role)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_told_apart_and_named_without_passwords() {
        let dir = Path::new("/tmp/x");
        assert_eq!(Database::new(dir, None).unwrap(), Database::Sqlite(dir.to_owned()));
        assert_eq!(Database::new(dir, Some(" ")).unwrap(), Database::Sqlite(dir.to_owned()));
        let pg = Database::new(dir, Some("postgres://wb:s3cret@db.example:5432/wallboard")).unwrap();
        assert!(pg.is_shared());
        assert_eq!(pg.to_string(), "PostgreSQL postgres://wb:***@db.example:5432/wallboard");
        assert_eq!(
            Database::new(dir, Some("postgresql://wb@db/w")).unwrap().to_string(),
            "PostgreSQL postgresql://wb@db/w"
        );
        let err = Database::new(dir, Some("mysql://root:pw@db/x")).unwrap_err().to_string();
        assert!(err.contains("postgres://") && !err.contains("pw"), "{err}");
    }
}
