//! [`DocumentStore`]: small JSON documents under string keys, each with the revision of
//! its last write: the service-level definitions today, alert rules later. The store's
//! revision moves with every write and delete, so a node can tell cheaply whether it must
//! read again (another process or node changed something).
//!
//! Keys are plain strings; callers give them a hierarchy with `/` (e.g.
//! `service_level/WS…/WQ…`) and list by prefix. Bodies are opaque text (JSON by
//! convention) that this module never parses.

use super::StorageError;

/// One stored document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub key: String,
    pub body: String,
    /// The store's revision of this document's last write (grows with every write).
    pub revision: i64,
    /// When it was last written (ms since the epoch, the caller's clock).
    pub updated_ms: i64,
}

/// Keyed documents with revisions (see the module documentation). Last writer wins.
pub trait DocumentStore: Send {
    /// The store's revision: moves on every [`DocumentStore::put`] and successful
    /// [`DocumentStore::delete`]; 0 for a store never written.
    fn revision(&self) -> Result<i64, StorageError>;

    /// The document under `key`.
    fn get(&self, key: &str) -> Result<Option<Document>, StorageError>;

    /// Every document whose key starts with `prefix`, in key order (byte order).
    fn list(&self, prefix: &str) -> Result<Vec<Document>, StorageError>;

    /// Creates or replaces the document under `key`, atomically with the revision;
    /// returns it as stored.
    fn put(&mut self, key: &str, body: &str, now_ms: i64) -> Result<Document, StorageError>;

    /// Deletes the document under `key`; false when there was none (nothing changes).
    fn delete(&mut self, key: &str) -> Result<bool, StorageError>;
}

impl std::fmt::Debug for dyn DocumentStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DocumentStore")
    }
}
