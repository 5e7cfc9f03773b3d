//! A workspace's stored service-level settings, read one way for everyone who needs them
//! (`api::service_levels`, the alert evaluator, the rule preview).
//!
//! - **Definitions** (T, S, abandons) per [`Place`]: a scope (`default`, a workflow `WW…`,
//!   a task queue `WQ…`) and optionally one task channel (its unique name), stored under
//!   `service_level/{WS}/{scope}` or `service_level/{WS}/{scope}/{channel}`, the body
//!   [`Definition`]'s JSON. The one in force is the first stored in
//!   [`wallboard_shared::service_level::lookup_order`], else the built-in.
//! - **Days** (when "today" starts) per scope, for every channel: `service_day/{WS}/{scope}`,
//!   the body [`Day`]'s JSON; a scope without one inherits the workspace's, else midnight UTC.
//!
//! A document that does not hold a valid definition or day (written by a newer version or by
//! hand) is skipped, and logged when a person asked ([`load`]); the evaluator's frequent
//! reloads ([`load_all`]) skip it silently.

use std::collections::HashMap;

use wallboard_shared::WorkspaceSid;
use wallboard_shared::service_level::{Day, Definition, Place, WORKSPACE_DEFAULT, lookup_order};

use crate::storage::{Document, DocumentStore, StorageError};

/// The key prefix of the definitions of every workspace.
pub const DEFINITION_PREFIX: &str = "service_level/";
/// The key prefix of the days of every workspace.
pub const DAY_PREFIX: &str = "service_day/";

/// The key of the definition stored for `place` in `ws`.
pub fn definition_key(ws: &WorkspaceSid, place: &Place) -> String {
    format!("{DEFINITION_PREFIX}{ws}/{}", place.key())
}

/// The key of the day stored for `scope` in `ws`.
pub fn day_key(ws: &WorkspaceSid, scope: &str) -> String {
    format!("{DAY_PREFIX}{ws}/{scope}")
}

/// A stored definition with its document's revision and time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDefinition {
    pub place: Place,
    pub definition: Definition,
    pub revision: i64,
    pub updated_ms: i64,
}

/// A stored day with its document's revision and time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDay {
    pub scope: String,
    pub day: Day,
    pub revision: i64,
    pub updated_ms: i64,
}

/// The service-level settings stored for one workspace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    pub definitions: Vec<StoredDefinition>,
    pub days: Vec<StoredDay>,
}

impl Settings {
    /// The definition in force for `scope` and `channel`, and the stored one it is (`None`:
    /// the built-in).
    pub fn definition(&self, scope: &str, channel: Option<&str>) -> (Definition, Option<&StoredDefinition>) {
        lookup_order(scope, channel)
            .iter()
            .find_map(|p| self.own_definition(p))
            .map_or((Definition::BUILT_IN, None), |d| (d.definition, Some(d)))
    }

    /// The definition stored for exactly `place`.
    pub fn own_definition(&self, place: &Place) -> Option<&StoredDefinition> {
        self.definitions.iter().find(|d| d.place == *place)
    }

    /// The day in force for `scope` (its own, else the workspace's, else midnight UTC) and
    /// the stored one it is.
    pub fn day(&self, scope: &str) -> (Day, Option<&StoredDay>) {
        self.own_day(scope)
            .or_else(|| self.own_day(WORKSPACE_DEFAULT))
            .map_or_else(|| (Day::default(), None), |d| (d.day.clone(), Some(d)))
    }

    /// The day stored for exactly `scope`.
    pub fn own_day(&self, scope: &str) -> Option<&StoredDay> {
        self.days.iter().find(|d| d.scope == scope)
    }

    fn add(&mut self, kind: Kind, name: &str, doc: &Document) -> Result<(), String> {
        let (revision, updated_ms) = (doc.revision, doc.updated_ms);
        match kind {
            Kind::Definition => {
                let place = Place::from_key(name).ok_or("not a scope or scope/channel")?;
                let definition = serde_json::from_str::<Definition>(&doc.body)
                    .map_err(|e| e.to_string())?
                    .validated()
                    .map_err(|e| e.to_string())?;
                self.definitions.push(StoredDefinition { place, definition, revision, updated_ms });
            }
            Kind::Day => {
                if name.is_empty() || name.contains('/') {
                    return Err("not a scope".into());
                }
                let day = serde_json::from_str::<Day>(&doc.body).map_err(|e| e.to_string())?;
                crate::shift::check(&day)?;
                self.days.push(StoredDay { scope: name.to_owned(), day, revision, updated_ms });
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Definition,
    Day,
}

impl Kind {
    fn prefix(self) -> &'static str {
        match self {
            Self::Definition => DEFINITION_PREFIX,
            Self::Day => DAY_PREFIX,
        }
    }
}

/// The settings stored for `ws`; invalid documents are skipped and logged.
pub fn load(d: &dyn DocumentStore, ws: &WorkspaceSid) -> Result<Settings, StorageError> {
    let mut settings = Settings::default();
    for kind in [Kind::Definition, Kind::Day] {
        let prefix = format!("{}{ws}/", kind.prefix());
        for doc in d.list(&prefix)? {
            let name = doc.key.strip_prefix(&prefix).unwrap_or_default();
            if let Err(error) = settings.add(kind, name, &doc) {
                tracing::warn!(key = %doc.key, %error, "ignoring a stored service-level setting");
            }
        }
    }
    Ok(settings)
}

/// Every workspace's stored settings; invalid documents are skipped.
pub fn load_all(d: &dyn DocumentStore) -> Result<HashMap<WorkspaceSid, Settings>, StorageError> {
    let mut all: HashMap<WorkspaceSid, Settings> = HashMap::new();
    for kind in [Kind::Definition, Kind::Day] {
        for doc in d.list(kind.prefix())? {
            let rest = doc.key.strip_prefix(kind.prefix()).unwrap_or_default();
            let Some((ws, name)) = rest.split_once('/') else { continue };
            let Ok(ws) = WorkspaceSid::parse(ws) else { continue };
            let mut one = all.remove(&ws).unwrap_or_default();
            let _ = one.add(kind, name, &doc);
            all.insert(ws, one);
        }
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::SqliteDocuments;
    use wallboard_shared::service_level::Abandons;

    const WS: &str = "WSaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    fn ws() -> WorkspaceSid {
        WorkspaceSid::parse(WS).expect("a workspace SID")
    }

    fn def(t: u32) -> Definition {
        Definition::new(t, 0, Abandons::CountedAgainst).expect("valid")
    }

    #[test]
    fn definitions_by_scope_and_channel_and_days_by_scope_are_inherited() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut d = SqliteDocuments::open(&dir.path().join("docs.sqlite")).expect("open");
        let put = |d: &mut SqliteDocuments, key: String, body: String| {
            d.put(&key, &body, 1_000).expect("put");
        };
        let json = |def: Definition| serde_json::to_string(&def).expect("json");
        put(&mut d, definition_key(&ws(), &Place::new("default", None)), json(def(30)));
        put(&mut d, definition_key(&ws(), &Place::new("default", Some("chat"))), json(def(60)));
        put(&mut d, definition_key(&ws(), &Place::new("WQ1", Some("voice"))), json(def(10)));
        // Not valid: skipped, never in force.
        put(&mut d, definition_key(&ws(), &Place::new("WQ2", None)), "{\"threshold\":0}".into());
        put(&mut d, format!("{DEFINITION_PREFIX}{WS}/WQ3/"), json(def(5)));
        let paris = Day { starts_at: "06:00".into(), time_zone: "Europe/Paris".into() };
        put(&mut d, day_key(&ws(), "default"), serde_json::to_string(&paris).expect("json"));
        put(&mut d, day_key(&ws(), "WQ1"), "{\"starts_at\":\"25:00\",\"time_zone\":\"UTC\"}".into());

        let s = load(&d, &ws()).expect("load");
        assert_eq!(s.definitions.len(), 3);
        let t = |scope, ch| s.definition(scope, ch).0.threshold;
        assert_eq!(t("WQ1", Some("voice")), 10);
        assert_eq!(t("WQ1", Some("chat")), 60);
        assert_eq!(t("WQ1", None), 30);
        assert_eq!(t("WQ2", None), 30, "an invalid document is not in force");
        assert_eq!(s.definition("WQ1", Some("voice")).1.map(|d| d.place.key()), Some("WQ1/voice".into()));
        assert_eq!(s.day("WQ1").0, paris, "an invalid day is skipped: the workspace's is in force");
        assert_eq!(s.own_day("WQ1"), None);
        assert_eq!(Settings::default().definition("WQ1", Some("voice")), (Definition::BUILT_IN, None));
        assert_eq!(Settings::default().day("WQ1"), (Day::default(), None));

        let all = load_all(&d).expect("load all");
        assert_eq!(all.len(), 1);
        assert_eq!(all[&ws()], s, "the same settings, read both ways");
    }
}
