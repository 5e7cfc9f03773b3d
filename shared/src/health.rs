//! `GET /health` and `GET /ready`: what a node says of itself to load balancers,
//! orchestrators and operators (no statistics, no secrets; no authentication).

use serde::{Deserialize, Serialize};

/// One node's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeHealth {
    /// Always `alive` (a node that answers is alive).
    pub status: String,
    /// The node's name (`--node-name`).
    pub node: String,
    /// `up`, or `down` while the database cannot be reached (the node serves its last numbers).
    pub database: String,
    /// Replayed the log and caught up with the database: `GET /ready` answers 200 only then.
    pub ready: bool,
    /// The cluster-wide jobs this node runs now (`simulator`, `purge`, `mirror`); on SQLite
    /// a node is alone and runs them all.
    pub roles: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_as_json() {
        let h = NodeHealth {
            status: "alive".into(),
            node: "a:8080".into(),
            database: "up".into(),
            ready: true,
            roles: vec!["simulator".into()],
        };
        let json = serde_json::to_string(&h).unwrap();
        assert_eq!(json, r#"{"status":"alive","node":"a:8080","database":"up","ready":true,"roles":["simulator"]}"#);
        assert_eq!(serde_json::from_str::<NodeHealth>(&json).unwrap(), h);
    }
}
