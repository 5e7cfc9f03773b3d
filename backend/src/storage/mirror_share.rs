//! What the nodes of a cluster mirroring one upstream share (`--source twilio` with
//! `--database-url`): which upstream statistics some node wants now, and the answers the
//! one polling node fetched, so the upstream is asked once per topic per interval for the
//! whole cluster.
//!
//! Keys are the upstream URLs (path and query, exactly what the mirror requests): internal
//! ids differ from node to node, the upstream's URLs do not.

use super::StorageError;

/// The outcome of one poll of an upstream URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The upstream URL (path and query).
    pub key: String,
    /// The upstream's answer (JSON) when the poll succeeded. A failed poll publishes
    /// `None`, and the stored body and `fetched_at_ms` of the last success stay.
    pub body: Option<String>,
    /// When `body` was fetched (the fetching node's clock, ms since the epoch).
    pub fetched_at_ms: i64,
    /// Whether the last poll succeeded.
    pub ok: bool,
    /// Why the last poll failed.
    pub error: Option<String>,
    /// Grows with every publication of any key (ignored by [`MirrorShare::publish`]): a
    /// reader tells a new result from one it already has by it, whatever the clocks say.
    pub seq: i64,
}

/// The shared state of a cluster's mirror. Calls block (a database round trip): call them
/// from a blocking thread, never on the async runtime.
pub trait MirrorShare: Send {
    /// Notes that this node wants `keys` (URL, realtime?) polled until `until_ms` (wall
    /// clock, ms since the epoch). An already wanted key keeps the later of the two times.
    fn want(&mut self, keys: &[(String, bool)], until_ms: i64) -> Result<(), StorageError>;

    /// The keys some node wants at `now_ms` (wall clock), with whether they are realtime.
    /// Drops the expired ones, and the answers nobody wants any more.
    fn wanted(&mut self, now_ms: i64) -> Result<Vec<(String, bool)>, StorageError>;

    /// Stores the outcome of polls (a key's later publication replaces the earlier, but a
    /// failure keeps the last body) and tells the other nodes (a notification).
    fn publish(&mut self, fetched: &[Fetched]) -> Result<(), StorageError>;

    /// The stored outcomes of `keys` published after `after_seq` (0: all; keys never
    /// published are absent), so a node re-reads only what changed since its last look.
    fn fetched(&mut self, keys: &[String], after_seq: i64) -> Result<Vec<Fetched>, StorageError>;
}

impl std::fmt::Debug for dyn MirrorShare {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MirrorShare")
    }
}
