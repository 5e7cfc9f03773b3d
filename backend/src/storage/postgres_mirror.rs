//! [`MirrorShare`] in PostgreSQL: two tables of the shared database, created at connect.
//!
//! * `mirror_wanted(key, realtime, until_ms)`: every node upserts the URLs its viewers
//!   watch, with an expiry it keeps pushing back while they watch.
//! * `mirror_fetched(key, body, fetched_at_ms, ok, error, seq)`: the polling node upserts
//!   each outcome; `seq` comes from a sequence, so readers see new outcomes whatever the
//!   nodes' clocks. Each publication notifies [`MIRROR_CHANNEL`].
//!
//! A lost connection fails the call that finds it; the next call reconnects.

use postgres::{Client, NoTls};

use super::StorageError;
use super::mirror_share::{Fetched, MirrorShare};

/// The notification channel a publication notifies (no payload).
pub const MIRROR_CHANNEL: &str = "wallboard_mirror";

/// Serialises the creation of the tables when several nodes start at once.
const SCHEMA_LOCK: i64 = 0x5742_4d49_5252_4f52; // "WBMIRROR"

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS mirror_wanted (
        key text PRIMARY KEY,
        realtime boolean NOT NULL,
        until_ms bigint NOT NULL
    );
    CREATE SEQUENCE IF NOT EXISTS mirror_fetched_seq;
    CREATE TABLE IF NOT EXISTS mirror_fetched (
        key text PRIMARY KEY,
        body text,
        fetched_at_ms bigint NOT NULL,
        ok boolean NOT NULL,
        error text,
        seq bigint NOT NULL DEFAULT nextval('mirror_fetched_seq')
    );
";

/// The cluster's mirror state in PostgreSQL.
pub struct PgMirrorShare {
    url: String,
    client: Option<Client>,
}

impl std::fmt::Debug for PgMirrorShare {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password.
        f.debug_struct("PgMirrorShare").field("connected", &self.client.is_some()).finish()
    }
}

impl Drop for PgMirrorShare {
    /// The synchronous client blocks when closed, which panics on the async runtime: there
    /// it is closed on a thread of its own.
    fn drop(&mut self) {
        if let Some(client) = self.client.take()
            && tokio::runtime::Handle::try_current().is_ok()
        {
            std::thread::spawn(move || drop(client));
        }
    }
}

impl PgMirrorShare {
    /// Connects to `url` and creates the tables if missing. Blocks: call it (and every
    /// method) off the async runtime, e.g. in `tokio::task::spawn_blocking`; dropping it
    /// anywhere is fine.
    pub fn connect(url: &str) -> Result<Self, StorageError> {
        let mut share = Self { url: url.to_owned(), client: None };
        share.client()?;
        Ok(share)
    }

    /// The connection, opened (and the schema ensured) if there is none or it was lost.
    fn client(&mut self) -> Result<&mut Client, StorageError> {
        if self.client.as_ref().is_some_and(Client::is_closed) {
            self.client = None;
        }
        let client = match self.client.take() {
            Some(c) => c,
            None => {
                let mut c = Client::connect(&self.url, NoTls)?;
                c.execute("SELECT pg_advisory_lock($1)", &[&SCHEMA_LOCK])?;
                let created = c.batch_execute(SCHEMA);
                c.execute("SELECT pg_advisory_unlock($1)", &[&SCHEMA_LOCK])?;
                created?;
                c
            }
        };
        Ok(self.client.insert(client))
    }

    /// Runs `f` on the connection; a failure other than the database refusing a statement
    /// drops the connection, so the next call opens a new one.
    fn with<T>(&mut self, f: impl FnOnce(&mut Client) -> Result<T, postgres::Error>) -> Result<T, StorageError> {
        let client = self.client()?;
        let result = f(client);
        if let Err(e) = &result
            && (e.as_db_error().is_none() || client.is_closed())
        {
            self.client = None;
        }
        Ok(result?)
    }
}

impl MirrorShare for PgMirrorShare {
    fn want(&mut self, keys: &[(String, bool)], until_ms: i64) -> Result<(), StorageError> {
        // One row per key: an upsert cannot touch a row twice.
        let unique: std::collections::BTreeMap<&str, bool> = keys.iter().map(|(k, r)| (k.as_str(), *r)).collect();
        if unique.is_empty() {
            return Ok(());
        }
        let (keys, realtime): (Vec<&str>, Vec<bool>) = unique.into_iter().unzip();
        self.with(|c| {
            c.execute(
                "INSERT INTO mirror_wanted (key, realtime, until_ms)
                 SELECT k, r, $3 FROM unnest($1::text[], $2::bool[]) AS t(k, r)
                 ON CONFLICT (key) DO UPDATE SET realtime = EXCLUDED.realtime,
                     until_ms = GREATEST(mirror_wanted.until_ms, EXCLUDED.until_ms)",
                &[&keys, &realtime, &until_ms],
            )
        })?;
        Ok(())
    }

    fn wanted(&mut self, now_ms: i64) -> Result<Vec<(String, bool)>, StorageError> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            tx.execute("DELETE FROM mirror_wanted WHERE until_ms <= $1", &[&now_ms])?;
            tx.execute(
                "DELETE FROM mirror_fetched f WHERE NOT EXISTS (SELECT 1 FROM mirror_wanted w WHERE w.key = f.key)",
                &[],
            )?;
            let rows = tx.query("SELECT key, realtime FROM mirror_wanted ORDER BY key", &[])?;
            tx.commit()?;
            Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
        })
    }

    fn publish(&mut self, fetched: &[Fetched]) -> Result<(), StorageError> {
        // The last outcome of a key wins within a batch too.
        let mut last: std::collections::BTreeMap<&str, &Fetched> = std::collections::BTreeMap::new();
        for f in fetched {
            last.insert(&f.key, f);
        }
        if last.is_empty() {
            return Ok(());
        }
        let keys: Vec<&str> = last.keys().copied().collect();
        let bodies: Vec<Option<&str>> = last.values().map(|f| f.body.as_deref()).collect();
        let at: Vec<i64> = last.values().map(|f| f.fetched_at_ms).collect();
        let ok: Vec<bool> = last.values().map(|f| f.ok).collect();
        let errors: Vec<Option<&str>> = last.values().map(|f| f.error.as_deref()).collect();
        self.with(|c| {
            let mut tx = c.transaction()?;
            tx.execute(
                "INSERT INTO mirror_fetched (key, body, fetched_at_ms, ok, error)
                 SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bool[], $5::text[])
                 ON CONFLICT (key) DO UPDATE SET
                     body = COALESCE(EXCLUDED.body, mirror_fetched.body),
                     fetched_at_ms = CASE WHEN EXCLUDED.body IS NULL
                         THEN mirror_fetched.fetched_at_ms ELSE EXCLUDED.fetched_at_ms END,
                     ok = EXCLUDED.ok,
                     error = EXCLUDED.error,
                     seq = nextval('mirror_fetched_seq')",
                &[&keys, &bodies, &at, &ok, &errors],
            )?;
            tx.execute("SELECT pg_notify($1, '')", &[&MIRROR_CHANNEL])?;
            tx.commit()
        })
    }

    fn fetched(&mut self, keys: &[String], after_seq: i64) -> Result<Vec<Fetched>, StorageError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self.with(|c| {
            c.query(
                "SELECT key, body, fetched_at_ms, ok, error, seq FROM mirror_fetched
                 WHERE key = ANY($1) AND seq > $2 ORDER BY key",
                &[&keys, &after_seq],
            )
        })?;
        Ok(rows
            .iter()
            .map(|r| Fetched {
                key: r.get(0),
                body: r.get(1),
                fetched_at_ms: r.get(2),
                ok: r.get(3),
                error: r.get(4),
                seq: r.get(5),
            })
            .collect())
    }
}

/// A new, empty database of the test cluster (`WALLBOARD_TEST_DATABASE_URL`), by its URL.
#[cfg(test)]
pub(crate) fn test_database() -> String {
    let Ok(url) = std::env::var("WALLBOARD_TEST_DATABASE_URL") else {
        panic!(
            "WALLBOARD_TEST_DATABASE_URL is not set: run the tests under scripts/with-postgres.sh \
             (e.g. `scripts/with-postgres.sh cargo test -p wallboard`)"
        )
    };
    let name = format!("wb_{:016x}", rand::random::<u64>());
    let mut admin = Client::connect(&url, NoTls).expect("connect to WALLBOARD_TEST_DATABASE_URL");
    admin.batch_execute(&format!("CREATE DATABASE {name}")).expect("create a test database");
    with_dbname(&url, &name)
}

/// `url` naming the database `name` instead of its own.
#[cfg(test)]
fn with_dbname(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[scheme_end..].find('/').map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..authority_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fetched(key: &str, body: Option<&str>, at: i64, error: Option<&str>) -> Fetched {
        Fetched {
            key: key.into(),
            body: body.map(Into::into),
            fetched_at_ms: at,
            ok: error.is_none(),
            error: error.map(Into::into),
            seq: 0,
        }
    }

    fn strip(mut v: Vec<Fetched>) -> Vec<Fetched> {
        for f in &mut v {
            f.seq = 0;
        }
        v
    }

    #[test]
    fn the_database_name_is_replaced_in_every_url_shape() {
        assert_eq!(with_dbname("postgres://u@h:1/postgres", "x"), "postgres://u@h:1/x");
        assert_eq!(with_dbname("postgres://u@h:1", "x"), "postgres://u@h:1/x");
        assert_eq!(with_dbname("postgres://u:p@h/db?sslmode=disable", "x"), "postgres://u:p@h/x?sslmode=disable");
    }

    #[test]
    fn wanted_keys_expire_and_keep_the_later_time() {
        let url = test_database();
        let mut a = PgMirrorShare::connect(&url).expect("connect");
        let mut b = PgMirrorShare::connect(&url).expect("a second node");
        a.want(&[("/rt".into(), true), ("/cum".into(), false)], 1_000).expect("want");
        // Another node wants /rt for less long: the later time stays.
        b.want(&[("/rt".into(), true), ("/rt".into(), true)], 500).expect("want");
        b.want(&[("/other".into(), true)], 600).expect("want");
        assert_eq!(
            a.wanted(0).expect("wanted"),
            [("/cum".to_owned(), false), ("/other".to_owned(), true), ("/rt".to_owned(), true)]
        );
        // At 600 /other expired (until is exclusive); at 1000 all did.
        assert_eq!(b.wanted(600).expect("wanted"), [("/cum".to_owned(), false), ("/rt".to_owned(), true)]);
        a.want(&[("/cum".into(), false)], 2_000).expect("refresh");
        assert_eq!(a.wanted(1_000).expect("wanted"), [("/cum".to_owned(), false)]);
        assert_eq!(a.wanted(2_000).expect("wanted"), []);
        a.want(&[], 5_000).expect("nothing to want");
    }

    #[test]
    fn publications_replace_earlier_ones_and_a_failure_keeps_the_last_body() {
        let url = test_database();
        let mut a = PgMirrorShare::connect(&url).expect("connect");
        let mut b = PgMirrorShare::connect(&url).expect("a second node");
        a.want(&[("/x".into(), true), ("/y".into(), true)], i64::MAX).expect("want");
        assert_eq!(b.fetched(&["/x".into()], 0).expect("fetched"), []);
        a.publish(&[fetched("/x", Some("{\"n\":1}"), 10, None), fetched("/y", None, 10, Some("500"))])
            .expect("publish");
        let first = b.fetched(&["/x".into(), "/y".into(), "/z".into()], 0).expect("fetched");
        assert_eq!(
            strip(first.clone()),
            [fetched("/x", Some("{\"n\":1}"), 10, None), fetched("/y", None, 10, Some("500"))]
        );
        // A failure of /x keeps its body and time; a success of /y replaces everything.
        a.publish(&[fetched("/x", None, 20, Some("timeout")), fetched("/y", Some("{}"), 20, None)]).expect("publish");
        let second = b.fetched(&["/x".into(), "/y".into()], 0).expect("fetched");
        assert_eq!(
            strip(second.clone()),
            [
                Fetched { ok: false, error: Some("timeout".into()), ..fetched("/x", Some("{\"n\":1}"), 10, None) },
                fetched("/y", Some("{}"), 20, None)
            ]
        );
        // Every publication is seen as new, even at the same time.
        for (before, after) in first.iter().zip(&second) {
            assert!(after.seq > before.seq, "{before:?} then {after:?}");
        }
        a.publish(&[fetched("/y", Some("{}"), 20, None)]).expect("publish again");
        let third = b.fetched(&["/y".into()], 0).expect("fetched");
        assert!(third[0].seq > second[1].seq);
        // After a sequence number: only what was published since.
        let newest = second.iter().map(|f| f.seq).max().expect("two");
        assert_eq!(b.fetched(&["/x".into(), "/y".into()], newest).expect("fetched"), third);
        assert_eq!(b.fetched(&["/x".into(), "/y".into()], third[0].seq).expect("fetched"), []);
        a.publish(&[]).expect("nothing to publish");
        // The answers nobody wants any more go with their wants.
        let mut c = PgMirrorShare::connect(&url).expect("a third node");
        assert_eq!(c.wanted(i64::MAX).expect("wanted"), []);
        assert_eq!(c.fetched(&["/x".into(), "/y".into()], 0).expect("fetched"), []);
    }

    #[test]
    fn publishing_notifies_the_mirror_channel() {
        use postgres::fallible_iterator::FallibleIterator;
        let url = test_database();
        let mut listener = Client::connect(&url, NoTls).expect("connect");
        listener.batch_execute(&format!("LISTEN {MIRROR_CHANNEL}")).expect("listen");
        let mut a = PgMirrorShare::connect(&url).expect("connect");
        a.publish(&[fetched("/x", Some("{}"), 1, None)]).expect("publish");
        let mut notifications = listener.notifications();
        let n = notifications
            .timeout_iter(std::time::Duration::from_secs(10))
            .next()
            .expect("a notification")
            .expect("no error");
        assert_eq!(n.channel(), MIRROR_CHANNEL);
    }

    #[tokio::test]
    async fn a_share_can_be_dropped_on_the_async_runtime() {
        let share = tokio::task::spawn_blocking(|| PgMirrorShare::connect(&test_database()))
            .await
            .expect("join")
            .expect("connect");
        drop(share);
    }

    #[test]
    fn a_lost_connection_fails_one_call_and_the_next_reconnects() {
        let url = test_database();
        let mut a = PgMirrorShare::connect(&url).expect("connect");
        a.want(&[("/x".into(), true)], i64::MAX).expect("want");
        let mut admin = Client::connect(&url, NoTls).expect("connect");
        let killed: i64 = admin
            .query_one(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
                &[],
            )
            .expect("terminate")
            .get(0);
        assert_eq!(killed, 1, "the share's connection was terminated");
        // The call that meets the dead connection may fail; the next one works.
        let _ = a.wanted(0);
        assert_eq!(a.wanted(0).expect("reconnected"), [("/x".to_owned(), true)]);
        a.publish(&[fetched("/x", Some("{}"), 1, None)]).expect("publish after reconnecting");
        assert_eq!(strip(a.fetched(&["/x".into()], 0).expect("fetched")), [fetched("/x", Some("{}"), 1, None)]);
    }
}
