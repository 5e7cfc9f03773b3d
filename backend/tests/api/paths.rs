//! No request path or method makes the server answer 5xx: seeded random paths (long
//! segments, NUL and control bytes, non-UTF-8 escapes, `..`, unicode) with every method,
//! sent as raw HTTP so that no client normalises them, at a server whose dashboard is built.

use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wallboard::clock::ManualClock;

use super::helpers::{TIMEOUT, TestApp, basic_auth, serve_args, spawn_app_with};
use super::scenario::{self, NOW, SALES, WS};

const METHODS: [&str; 9] = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "FROBNICATE"];

/// A server with a built dashboard (as `scripts/build-frontend.sh` leaves it) and the
/// scripted day, so that lookups reach real files and real resources.
async fn app_with_built_dashboard() -> (TestApp, tempfile::TempDir) {
    let assets = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, body: &[u8]| std::fs::write(assets.path().join(name), body).expect("write");
    write("index.html", b"<!doctype html><title>Wallboard</title>");
    write("build-id.txt", b"abc123\n");
    write("wallboard-abc123.js", b"console.log('wallboard');");
    std::fs::create_dir(assets.path().join("snippets")).expect("mkdir");
    write("snippets/inline0.js", b"export function f() {}");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut args = serve_args(dir.path());
    args.assets_dir = assets.path().to_owned();
    // Thousands of unauthenticated requests from one address: the failed-attempt limit
    // would answer 429 to most of them and hide what is behind it.
    args.auth_failures_per_minute = 1_000_000;
    let mut app = spawn_app_with(args, Arc::new(ManualClock::new(NOW))).await;
    app.keep_dir(dir);
    scenario::load(&app).await;
    (app, assets)
}

/// Sends one raw HTTP/1.1 request (the request target exactly as given) and returns the
/// status of the answer, or `None` if the server closed the connection without one.
async fn status_of(app: &TestApp, method: &str, target: &[u8], authorized: bool) -> Option<u16> {
    let addr = app.base.trim_start_matches("http://");
    let mut request = Vec::with_capacity(target.len() + 200);
    request.extend_from_slice(method.as_bytes());
    request.push(b' ');
    request.extend_from_slice(target);
    request.extend_from_slice(
        format!(" HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: 0\r\n").as_bytes(),
    );
    if authorized {
        request.extend_from_slice(format!("Authorization: {}\r\n", basic_auth()).as_bytes());
    }
    request.extend_from_slice(b"\r\n");
    tokio::time::timeout(TIMEOUT, async {
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        stream.write_all(&request).await.expect("send the request");
        // Only the status line matters: read until its end, then hang up.
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(2).any(|w| w == b"\r\n") {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let line = String::from_utf8_lossy(&head);
        line.strip_prefix("HTTP/1.1 ").and_then(|rest| rest.get(..3)).and_then(|code| code.parse().ok())
    })
    .await
    .unwrap_or_else(|_| panic!("no answer in time to {method} {}", String::from_utf8_lossy(target)))
}

/// One random path segment, percent-encoded where the request line needs it.
fn segment(rng: &mut ChaCha8Rng) -> String {
    const NASTY: &[&str] = &[
        "..",
        "%2e%2e",
        "%2E%2E",
        ".%2e",
        "%2e%2e%2f",
        "..%2F..%2Fetc%2Fpasswd",
        ".",
        "%00",
        "a%00b",
        "%01",
        "%0a",
        "%0d%0a",
        "%1f",
        "%7f",
        "%C3%28",
        "%FF",
        "%C0%AF",
        "%E2%82",
        "%ED%A0%80",
        "%",
        "%z",
        "%4",
        "%%",
        "%25",
        "%2F",
        "%5C",
        "%20",
        "+",
        "~",
        "%C3%A9",
        "%E6%97%A5%E6%9C%AC",
        "%F0%9F%98%80",
        "index.html",
        "build-id",
        "wallboard-abc123.js",
        "snippets",
        "inline0.js",
        "Workspaces",
        WS,
        SALES,
        "Workflows",
        "Statistics",
        "RealTimeStatistics",
        "CumulativeStatistics",
        "Events",
        "TaskChannels",
        "taskrouter",
        "ws",
        "v1",
        "healthz",
        "?",
        "?a=%00",
        "#frag",
        ";x",
        "*",
        "CON",
    ];
    match rng.random_range(0..10) {
        0..=3 => NASTY[rng.random_range(0..NASTY.len())].to_owned(),
        4 => {
            // Long: around the file-name limit (255 bytes), or far beyond it.
            let len = [254, 255, 256, 1_000, 4_096, 5_000, 10_000][rng.random_range(0..7)];
            let unit = ["a", "%41", "é", "%00"][rng.random_range(0..4)];
            unit.repeat(len / unit.len().max(1))
        }
        5 => String::new(), // a double slash
        6 => {
            // A control byte, percent-encoded.
            format!("x%{:02X}y", rng.random_range(0..0x20u8))
        }
        7 => {
            // Any escaped byte: much of it is not UTF-8.
            (0..rng.random_range(1..6)).map(|_| format!("%{:02X}", rng.random::<u8>())).collect()
        }
        _ => {
            let len = rng.random_range(1..24);
            (0..len).map(|_| char::from(rng.random_range(b'!'..=b'~'))).filter(|c| !"?# %".contains(*c)).collect()
        }
    }
}

/// A random request target under one of the server's trees.
fn target(rng: &mut ChaCha8Rng) -> Vec<u8> {
    const ROOTS: &[&str] = &[
        "/",
        "/v1/",
        "/v1/Workspaces/",
        "/v1/Workspaces/WS00000000000000000000000000000001/Workflows/",
        "/ws",
        "/ws/",
        "/webhooks/",
        "/webhooks/taskrouter/",
        "/build-id/",
        "/snippets/",
    ];
    let mut path = ROOTS[rng.random_range(0..ROOTS.len())].to_owned();
    for i in 0..rng.random_range(0..5) {
        if i > 0 || !path.ends_with('/') {
            path.push('/');
        }
        path.push_str(&segment(rng));
    }
    if rng.random_bool(0.1) {
        path.push('/');
    }
    let mut bytes = path.into_bytes();
    if rng.random_bool(0.03) {
        // Raw bytes no client would send: the HTTP parser's turn to refuse them.
        bytes.push([0x00, 0x7f, 0xff, b' ', b'\t'][rng.random_range(0..5)]);
    }
    bytes
}

#[tokio::test]
async fn the_cases_of_the_bug_report_are_404() {
    let (app, _assets) = app_with_built_dashboard().await;
    let long = format!("/{}", "a".repeat(5_000));
    for (method, path) in [
        ("GET", long.as_str()),
        ("HEAD", long.as_str()),
        ("GET", "/%00"),
        ("HEAD", "/%00"),
        ("HEAD", "/a%00b"),
        ("HEAD", "/snippets/%00"),
        ("GET", "/%00.js"),
    ] {
        let status = status_of(&app, method, path.as_bytes(), false).await;
        assert!(matches!(status, Some(404 | 414)), "{method} {}: {status:?}", &path[..path.len().min(80)]);
    }
    // What is there is still served.
    for path in ["/", "/index.html", "/wallboard-abc123.js", "/snippets/inline0.js", "/build-id"] {
        assert_eq!(status_of(&app, "GET", path.as_bytes(), false).await, Some(200), "GET {path}");
        assert_eq!(status_of(&app, "HEAD", path.as_bytes(), false).await, Some(200), "HEAD {path}");
    }
    app.stop().await;
}

#[tokio::test]
async fn no_path_or_method_gets_a_server_error() {
    let (app, _assets) = app_with_built_dashboard().await;
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let mut failures = Vec::new();
    let mut sent = 0;
    for _ in 0..400 {
        let target = target(&mut rng);
        for method in METHODS {
            let authorized = rng.random_bool(0.5);
            let status = status_of(&app, method, &target, authorized).await;
            sent += 1;
            if status.is_none_or(|s| s >= 500) {
                let shown: String = String::from_utf8_lossy(&target).chars().take(200).collect();
                let shown = if target.len() > 200 { format!("{shown}… ({} bytes)", target.len()) } else { shown };
                failures.push(format!("{method} {shown} (authorized: {authorized}) -> {status:?}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {sent} requests got a server error or no answer:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // And the server is still up.
    assert_eq!(status_of(&app, "GET", b"/healthz", false).await, Some(200));
    app.stop().await;
}
