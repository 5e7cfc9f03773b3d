//! PostgreSQL for tests (`#[path]` module).
//!
//! - [`shared_database_url`]: a fresh database on the cluster that `scripts/with-postgres.sh`
//!   started (`WALLBOARD_TEST_DATABASE_URL`); for tests that only need a database.
//! - [`PgCluster`]: a throwaway cluster of the test's own, for tests that stop and start the
//!   database itself: initdb into a temporary directory, a free loopback port, trust
//!   authentication; stopped (`-m immediate`) and removed on drop.
//!
//! PostgreSQL refuses to run as root: when the tests run as root, the server runs as the
//! user `postgres` (`runuser -u postgres --`) and owns the directory.
//!
//! The `postgres` crate is synchronous and panics inside a tokio runtime, so every query
//! here runs on a plain thread of its own.

use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The variable `scripts/with-postgres.sh` exports.
pub const TEST_DATABASE_URL: &str = "WALLBOARD_TEST_DATABASE_URL";

/// A fresh database (random name) on the cluster of `WALLBOARD_TEST_DATABASE_URL`; its URL.
pub fn shared_database_url() -> String {
    let Ok(url) = std::env::var(TEST_DATABASE_URL) else {
        panic!(
            "{TEST_DATABASE_URL} is not set: these tests need PostgreSQL; run them under \
             scripts/with-postgres.sh (e.g. `scripts/with-postgres.sh cargo test -p wallboard --test cluster`)"
        )
    };
    create_database_at(&url, &format!("wb_test_{:016x}", rand::random::<u64>()))
}

/// Creates `name` on the server of `url` (a database URL); returns the new database's URL.
pub fn create_database_at(url: &str, name: &str) -> String {
    assert!(name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'), "a plain database name: {name}");
    let admin = url.to_owned();
    let sql = format!("CREATE DATABASE \"{name}\"");
    on_thread(move || {
        let mut client = postgres::Client::connect(&admin, postgres::NoTls)
            .unwrap_or_else(|e| panic!("cannot connect to {admin}: {e}"));
        client.batch_execute(&sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    });
    with_database(url, name)
}

/// `url` with its database (the path) replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let mut u = reqwest::Url::parse(url).unwrap_or_else(|e| panic!("a database URL: {url}: {e}"));
    u.set_path(&format!("/{name}"));
    u.to_string()
}

/// Runs `f` on a thread of its own (outside any tokio runtime) and waits for it.
pub fn on_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    match std::thread::spawn(f).join() {
        Ok(v) => v,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// A throwaway PostgreSQL cluster of the test's own.
#[derive(Debug)]
pub struct PgCluster {
    dir: tempfile::TempDir,
    port: u16,
    bin: PathBuf,
    /// Run the server tools as `postgres` (we are root).
    as_postgres: bool,
    running: bool,
}

impl PgCluster {
    /// initdb and start on a free loopback port.
    pub fn start() -> Self {
        let bin = pg_bin_dir();
        let as_postgres = std::fs::metadata("/proc/self").map(|m| m.uid() == 0).unwrap_or(false);
        let dir = tempfile::Builder::new().prefix("wallboard-pgtest.").tempdir().expect("tempdir");
        let mut me = Self { dir, port: 0, bin, as_postgres, running: false };
        if as_postgres {
            let out = Command::new("chown").arg("-R").arg("postgres:").arg(me.dir.path()).output().expect("chown");
            assert!(out.status.success(), "chown postgres: {}", String::from_utf8_lossy(&out.stderr));
        }
        let data = me.data_dir();
        let out = me.tool(
            "initdb",
            &["-D", path_str(&data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"],
        );
        assert!(
            out.status.success(),
            "initdb: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // Another process may take the free port before the server binds it: try again.
        for _ in 0..5 {
            me.port = free_port();
            if me.pg_start().status.success() {
                me.running = true;
                return me;
            }
        }
        panic!("PostgreSQL did not start:\n{}", me.server_log());
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres`
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The cluster's directory (data, socket, log).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A new database on this cluster; its URL.
    pub fn create_database(&self, name: &str) -> String {
        create_database_at(&self.url(), name)
    }

    /// A fast shutdown (`pg_ctl stop -m fast`): clients are disconnected, nothing is lost.
    pub fn stop(&mut self) {
        let out = self.pg_ctl(&["stop", "-m", "fast", "-w", "-t", "60"]);
        assert!(out.status.success(), "pg_ctl stop: {}", String::from_utf8_lossy(&out.stderr));
        self.running = false;
    }

    /// Starts again on the same port.
    pub fn start_again(&mut self) {
        let out = self.pg_start();
        assert!(out.status.success(), "pg_ctl start: {}\n{}", String::from_utf8_lossy(&out.stderr), self.server_log());
        self.running = true;
    }

    /// The server's log so far (for failure messages).
    pub fn server_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn pg_start(&self) -> Output {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c max_connections=200 \
             -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log");
        self.pg_ctl(&["start", "-w", "-t", "60", "-l", path_str(&log), "-o", &options])
    }

    fn pg_ctl(&self, args: &[&str]) -> Output {
        let data = self.data_dir();
        let mut all = vec!["-D", path_str(&data)];
        all.extend_from_slice(args);
        self.tool("pg_ctl", &all)
    }

    fn tool(&self, name: &str, args: &[&str]) -> Output {
        let program = self.bin.join(name);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        // pg_ctl's server inherits our cwd; root's may be unreadable to `postgres`.
        cmd.args(args).current_dir(self.dir.path());
        cmd.output().unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()))
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if self.running {
            let _ = self.pg_ctl(&["stop", "-m", "immediate", "-w", "-t", "30"]);
        }
    }
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// The directory of `initdb` and `pg_ctl`: on PATH, else Debian's newest
/// `/usr/lib/postgresql/*/bin`.
fn pg_bin_dir() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .find(|d| d.join("initdb").is_file() && d.join("pg_ctl").is_file());
    if let Some(d) = on_path {
        return d;
    }
    let mut debian: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, d): &(u32, PathBuf)| d.join("initdb").is_file())
        .collect();
    debian.sort();
    debian.pop().map(|(_, d)| d).expect("PostgreSQL's initdb and pg_ctl (install PostgreSQL: scripts/setup.sh test)")
}
