//! `wallboard balance`: a small TCP load balancer for trying a cluster on one machine.
//!
//! Every `check_interval` it asks each backend's `GET /ready`; new connections go round-robin
//! to the backends that answered 200 at the last check (a backend that refuses the connection
//! is skipped for the next one). A connection is relayed byte for byte
//! ([`tokio::io::copy_bidirectional`]), so WebSockets pass through. With no backend ready, a
//! connection gets `503 Service Unavailable` (after its request's head) and is closed.
//!
//! It is a tool for trying the cluster (scripts/cluster.sh), not a production proxy: use
//! your platform's load balancer with the same readiness check (docs/deploy.md).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// What `wallboard balance` needs.
#[derive(Debug, Clone)]
pub struct BalanceArgs {
    /// Where to accept connections.
    pub listen: SocketAddr,
    /// The nodes, each `host:port` of a `wallboard serve`.
    pub backends: Vec<SocketAddr>,
    /// How often each backend's `/ready` is asked.
    pub check_interval: Duration,
}

/// What a connection gets when no backend is ready.
const UNAVAILABLE: &[u8] =
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nRetry-After: 1\r\nConnection: close\r\n\r\n";

/// Connecting to a backend fails after this (then the next ready one is tried).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Binds `args.listen` and balances until `stop` is cancelled.
pub async fn run(args: BalanceArgs, stop: CancellationToken) -> anyhow::Result<()> {
    let listener = TcpListener::bind(args.listen).await.with_context(|| format!("cannot listen on {}", args.listen))?;
    serve(listener, args.backends, args.check_interval, stop).await
}

/// Balances the connections of `listener` over `backends` until `stop` is cancelled;
/// connections still open then are closed.
pub async fn serve(
    listener: TcpListener,
    backends: Vec<SocketAddr>,
    check_interval: Duration,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    anyhow::ensure!(!backends.is_empty(), "no backend to balance over");
    let (ready_tx, ready) = watch::channel(Arc::new(Vec::new()));
    let checker = tokio::spawn(check_loop(backends, check_interval, ready_tx, stop.clone()));
    let next = Arc::new(AtomicUsize::new(0));
    loop {
        let (client, peer) = tokio::select! {
            () = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(e) => {
                    // Out of descriptors and the like: the listener itself is fine.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let ready = ready.borrow().clone();
        let (next, stop) = (next.clone(), stop.clone());
        tokio::spawn(async move {
            tokio::select! {
                () = stop.cancelled() => {}
                () = relay(client, peer, &ready, &next) => {}
            }
        });
    }
    checker.abort();
    Ok(())
}

/// Relays `client` to the next ready backend that accepts the connection.
async fn relay(mut client: TcpStream, peer: SocketAddr, ready: &[SocketAddr], next: &AtomicUsize) {
    let start = next.fetch_add(1, Ordering::Relaxed);
    for i in 0..ready.len() {
        let backend = ready[(start + i) % ready.len()];
        match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(backend)).await {
            Ok(Ok(mut upstream)) => {
                let _ = client.set_nodelay(true);
                let _ = upstream.set_nodelay(true);
                if let Err(e) = tokio::io::copy_bidirectional(&mut client, &mut upstream).await {
                    tracing::debug!(%peer, %backend, error = %e, "connection ended");
                }
                return;
            }
            Ok(Err(e)) => tracing::warn!(%backend, error = %e, "backend refused a connection"),
            Err(_) => tracing::warn!(%backend, "backend did not accept a connection in time"),
        }
    }
    unavailable(client).await;
}

/// Answers 503 once the request's head has arrived (an HTTP client takes an answer before
/// its request for a broken connection); a client that sends no request is closed after a second.
async fn unavailable(mut client: TcpStream) {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    let read_head = async {
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
            match client.read(&mut buf).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        true
    };
    if tokio::time::timeout(Duration::from_secs(1), read_head).await.unwrap_or(false) {
        let _ = client.write_all(UNAVAILABLE).await;
    }
    let _ = client.shutdown().await;
}

/// Asks every backend's `/ready` every `interval` and publishes the ready ones, in the
/// order given.
async fn check_loop(
    backends: Vec<SocketAddr>,
    interval: Duration,
    ready_tx: watch::Sender<Arc<Vec<SocketAddr>>>,
    stop: CancellationToken,
) {
    let http = match reqwest::Client::builder().timeout(interval.max(Duration::from_millis(200))).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the readiness client");
            return;
        }
    };
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        let checks = backends.iter().map(|b| {
            let http = http.clone();
            async move {
                let ok = http.get(format!("http://{b}/ready")).send().await.is_ok_and(|r| r.status().as_u16() == 200);
                ok.then_some(*b)
            }
        });
        let now: Vec<SocketAddr> = futures_util::future::join_all(checks).await.into_iter().flatten().collect();
        ready_tx.send_if_modified(|old| {
            if **old == now {
                return false;
            }
            tracing::info!(ready = ?now, "ready backends changed");
            *old = Arc::new(now);
            true
        });
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;
    use std::time::Instant;

    use super::*;
    use axum::Router;
    use axum::extract::State;
    use axum::http::StatusCode;
    use axum::routing::get;

    const TIMEOUT: Duration = Duration::from_secs(10);

    /// A backend that says its name on `/who` and is ready while `ready` is true.
    async fn backend(name: &'static str) -> (SocketAddr, Arc<AtomicBool>) {
        let ready = Arc::new(AtomicBool::new(true));
        let app = Router::new()
            .route(
                "/ready",
                get(|State(r): State<Arc<AtomicBool>>| async move {
                    if r.load(Ordering::SeqCst) { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }
                }),
            )
            .route("/who", get(move || async move { name }))
            .with_state(ready.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        (addr, ready)
    }

    async fn balancer(backends: Vec<SocketAddr>, stop: &CancellationToken) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(serve(listener, backends, Duration::from_millis(50), stop.clone()));
        addr
    }

    /// One request on a connection of its own: who answered, or the status.
    async fn who(http: &reqwest::Client, at: SocketAddr) -> Result<String, u16> {
        let r = http.get(format!("http://{at}/who")).send().await.expect("an answer");
        if r.status().is_success() { Ok(r.text().await.expect("body")) } else { Err(r.status().as_u16()) }
    }

    /// `n` answers in a row.
    async fn answers(http: &reqwest::Client, at: SocketAddr, n: usize) -> Vec<Result<String, u16>> {
        let mut out = Vec::new();
        for _ in 0..n {
            out.push(who(http, at).await);
        }
        out
    }

    /// Polls until `n` answers in a row are `want`.
    async fn until_all(http: &reqwest::Client, at: SocketAddr, want: Result<&str, u16>) {
        let start = Instant::now();
        loop {
            let got = answers(http, at, 6).await;
            if got.iter().all(|g| g.as_ref().map(String::as_str).map_err(|e| *e) == want) {
                return;
            }
            assert!(start.elapsed() < TIMEOUT, "not all {want:?} within {TIMEOUT:?}: {got:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn client() -> reqwest::Client {
        // No connection reuse: every request is a new connection, balanced on its own.
        reqwest::Client::builder().pool_max_idle_per_host(0).timeout(TIMEOUT).build().expect("client")
    }

    #[tokio::test]
    async fn connections_go_round_robin_to_ready_backends_only() {
        let (a, a_ready) = backend("a").await;
        let (b, b_ready) = backend("b").await;
        let stop = CancellationToken::new();
        let at = balancer(vec![a, b], &stop).await;
        let http = client();

        // Both ready (after the first check): they take turns.
        let start = Instant::now();
        loop {
            let got = answers(&http, at, 4).await;
            if got.iter().all(Result::is_ok) {
                let names: Vec<String> = got.into_iter().map(|g| g.unwrap_or_default()).collect();
                assert!(names.windows(2).all(|w| w[0] != w[1]), "round robin: {names:?}");
                break;
            }
            assert!(start.elapsed() < TIMEOUT, "no backend ready in time: {got:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }

        // b not ready: everything goes to a; then neither: 503; b back: b.
        b_ready.store(false, Ordering::SeqCst);
        until_all(&http, at, Ok("a")).await;
        a_ready.store(false, Ordering::SeqCst);
        until_all(&http, at, Err(503)).await;
        b_ready.store(true, Ordering::SeqCst);
        until_all(&http, at, Ok("b")).await;
        stop.cancel();
    }

    #[tokio::test]
    async fn bytes_pass_both_ways_on_a_long_connection_and_stop_closes_it() {
        // An echo backend that is also "ready" on its /ready (a tiny HTTP answer).
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 1024];
                    let Ok(n) = s.read(&mut buf).await else { return };
                    if buf[..n].starts_with(b"GET /ready") {
                        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await;
                        return;
                    }
                    // Echo everything, the first read included.
                    let _ = s.write_all(&buf[..n]).await;
                    let (mut r, mut w) = s.split();
                    let _ = tokio::io::copy(&mut r, &mut w).await;
                });
            }
        });
        let stop = CancellationToken::new();
        let at = balancer(vec![addr], &stop).await;
        let start = Instant::now();
        let mut conn = loop {
            let mut c = TcpStream::connect(at).await.expect("connect");
            c.write_all(b"hello").await.expect("write");
            let mut buf = [0u8; 5];
            match tokio::time::timeout(TIMEOUT, c.read_exact(&mut buf)).await.expect("an answer in time") {
                Ok(_) if &buf == b"hello" => break c,
                _ => {}
            }
            // Not checked yet: the balancer answered 503.
            assert!(start.elapsed() < TIMEOUT, "the echo backend never got ready");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        for round in 0..50u32 {
            let msg = format!("message {round}");
            conn.write_all(msg.as_bytes()).await.expect("write");
            let mut buf = vec![0u8; msg.len()];
            tokio::time::timeout(TIMEOUT, conn.read_exact(&mut buf)).await.expect("in time").expect("read");
            assert_eq!(buf, msg.as_bytes());
        }
        stop.cancel();
        let mut rest = Vec::new();
        let closed = tokio::time::timeout(TIMEOUT, conn.read_to_end(&mut rest)).await.expect("closed in time");
        assert!(closed.is_ok_and(|n| n == 0) || rest.is_empty(), "closed without more bytes");
    }
}
