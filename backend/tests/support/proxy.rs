//! A proxy on loopback in front of an upstream Wallboard: it counts the requests and can be
//! told to fail the statistics requests in every way an upstream fails. Shared by the API
//! and end-to-end tests (`#[path]` module).

use std::sync::atomic::AtomicU8;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

pub const OK: u8 = 0;
pub const RATE_LIMITED: u8 = 1;
pub const FAILING: u8 = 2;
pub const HANGING: u8 = 3;
pub const MALFORMED: u8 = 4;
pub const UNAUTHORIZED: u8 = 5;

/// Forwards to the source; statistics requests answer as `mode` says.
pub struct Proxy {
    target: String,
    pub mode: AtomicU8,
    /// (path, when) of every request.
    log: Mutex<Vec<(String, Instant)>>,
    http: reqwest::Client,
}

impl Proxy {
    pub fn count(&self, what: &str) -> usize {
        self.log.lock().expect("log").iter().filter(|(p, _)| p.contains(what)).count()
    }

    pub fn times(&self, what: &str) -> Vec<Instant> {
        self.log.lock().expect("log").iter().filter(|(p, _)| p.contains(what)).map(|(_, t)| *t).collect()
    }
}

async fn proxy(State(p): State<Arc<Proxy>>, request: Request) -> Response {
    let path = request.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
    p.log.lock().expect("log").push((path.clone(), Instant::now()));
    if path.contains("Statistics") {
        match p.mode.load(std::sync::atomic::Ordering::SeqCst) {
            RATE_LIMITED => {
                let mut r = (StatusCode::TOO_MANY_REQUESTS, "slow down").into_response();
                r.headers_mut().insert("retry-after", HeaderValue::from_static("1"));
                return r;
            }
            FAILING => return (StatusCode::INTERNAL_SERVER_ERROR, "oops").into_response(),
            HANGING => {
                tokio::time::sleep(Duration::from_secs(60)).await;
                return (StatusCode::GATEWAY_TIMEOUT, "late").into_response();
            }
            MALFORMED => return (StatusCode::OK, "{\"not\": \"statistics\"").into_response(),
            UNAUTHORIZED => return (StatusCode::UNAUTHORIZED, "{\"code\":20003}").into_response(),
            _ => {}
        }
    }
    let mut forward = p.http.get(format!("{}{path}", p.target));
    if let Some(auth) = request.headers().get("authorization") {
        forward = forward.header("authorization", auth.clone());
    }
    let Ok(r) = forward.send().await else { return StatusCode::BAD_GATEWAY.into_response() };
    let status = StatusCode::from_u16(r.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let body = r.bytes().await.unwrap_or_default();
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .expect("a response")
}

pub async fn start_proxy(target: &str) -> (Arc<Proxy>, String) {
    let p = Arc::new(Proxy {
        target: target.to_owned(),
        mode: AtomicU8::new(OK),
        log: Mutex::new(Vec::new()),
        http: reqwest::Client::new(),
    });
    let app = axum::Router::new().fallback(proxy).with_state(p.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (p, url)
}
