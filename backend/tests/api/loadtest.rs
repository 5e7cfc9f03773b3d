//! The measuring commands, run as built: `wallboard loadtest` against the server it starts,
//! `wallboard simulate --server-pid` against a server child process.

use std::io::BufRead;
use std::process::{Command, Stdio};

/// A small real run: every client proves it saw the snapshot carrying every event, and the
/// report has the CPU figures and the floor. (The figures' values are for BENCHMARKS.md.)
#[test]
fn loadtest_reports_cpu_per_delivery_next_to_the_floor() {
    let out = Command::new(env!("CARGO_BIN_EXE_wallboard"))
        .args(["loadtest", "--clients", "20", "--events", "3", "--gap-ms", "150", "--json"])
        .stderr(Stdio::inherit())
        .output()
        .expect("run wallboard loadtest");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{:?}: {stdout}", out.status);
    let r: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"));
    assert_eq!(
        (r["clients"].as_u64(), r["events"].as_u64(), r["missed"].as_u64()),
        (Some(20), Some(3), Some(0)),
        "{r}"
    );
    assert!(r["deliveries"].as_u64().is_some_and(|d| d >= 60), "each client got each event's snapshot: {r}");
    let number = |path: &[&str]| path.iter().fold(&r, |v, k| &v[*k]).as_f64();
    assert!(number(&["latency_max_ms"]).is_some_and(|m| m > 0.0), "{r}");
    // Tick-grained (10 ms) over a short run: maybe 0, never missing.
    assert!(number(&["server_cpu_us_per_delivery"]).is_some_and(|c| c >= 0.0), "{r}");
    assert!(number(&["client_cpu_us_per_delivery"]).is_some_and(|c| c >= 0.0), "{r}");
    assert_eq!(r["floor"]["connections"].as_u64(), Some(20), "{r}");
    assert!(r["floor"]["bytes"].as_u64().is_some_and(|b| b > 200), "a snapshot's size: {r}");
    assert!(number(&["floor", "write_cpu_us"]).is_some_and(|c| c > 0.0), "{r}");
    assert!(number(&["server_to_floor"]).is_some(), "{r}");
    // The second floor: the same writes to receivers waiting as clients do.
    assert_eq!(r["floor_waiting"]["connections"].as_u64(), Some(20), "{r}");
    assert_eq!(r["floor_waiting"]["bytes"], r["floor"]["bytes"], "{r}");
    assert!(number(&["floor_waiting", "write_cpu_us"]).is_some_and(|c| c > 0.0), "{r}");
    assert!(number(&["floor_waiting", "read_cpu_us"]).is_some_and(|c| c > 0.0), "the receivers' runtime: {r}");
    assert!(number(&["server_to_floor_waiting"]).is_some(), "{r}");
}

#[test]
fn simulate_reports_the_servers_cpu_per_accepted_event() {
    let dir = tempfile::tempdir().expect("tempdir");
    let token = "cpu-test-token-0123456789";
    let mut server = Command::new(env!("CARGO_BIN_EXE_wallboard"))
        .args(["serve", "--bind", "127.0.0.1:0", "--source", "events", "--auth-token", token])
        .args(["--account-sid", "AC00000000000000000000000000000001", "--data-dir"])
        .arg(dir.path())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the server starts");
    let stdout = server.stdout.take().expect("stdout");
    let mut lines = std::io::BufReader::new(stdout).lines();
    let addr = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| l.strip_prefix("Wallboard is listening on ").map(|a| a.trim().to_owned()));
    // Keep reading what the server prints: a closed pipe would end it at its next line.
    std::thread::spawn(move || for _ in lines {});
    let run = |pid: u32| {
        Command::new(env!("CARGO_BIN_EXE_wallboard"))
            .args(["simulate", "--to", &format!("http://{}", addr.as_deref().unwrap_or("?"))])
            .args(["--auth-token", token, "--rate", "400", "--duration", "1s", "--concurrency", "4"])
            .args(["--server-pid", &pid.to_string()])
            .output()
            .expect("run wallboard simulate")
    };
    let good = run(server.id());
    let bad = run(u32::MAX);
    let _ = server.kill();
    let _ = server.wait();
    assert!(addr.is_some(), "the server printed its address");
    let text = String::from_utf8_lossy(&good.stdout);
    assert!(good.status.success(), "{text}{}", String::from_utf8_lossy(&good.stderr));
    let line = text.lines().find(|l| l.starts_with("server CPU: ")).unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains("µs per accepted event") && line.contains(&format!("pid {}", server.id())), "{line}");
    // A process that does not exist is a clear error before anything is sent.
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("--server-pid") && err.contains("/proc/4294967295/stat"), "{err}");
}
