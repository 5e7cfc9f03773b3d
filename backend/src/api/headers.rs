//! Security headers of every response: a strict Content-Security-Policy (the dashboard
//! loads only its own script, wasm, styles and WebSocket), `frame-ancestors` from the
//! configured allowlist (default: nobody may frame us), nosniff and no referrer; and the
//! `Date` of the server's clock.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::Response;

/// The origins that may embed the dashboard in an iframe.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FrameAncestors(Vec<String>);

impl FrameAncestors {
    /// Parses origins like `https://tool.example.com` or `http://127.0.0.1:9000` (a path,
    /// query or anything else is refused: CSP matches origins).
    pub fn parse<S: AsRef<str>>(origins: &[S]) -> Result<Self, String> {
        let mut out = Vec::new();
        for raw in origins {
            let raw = raw.as_ref().trim();
            if raw.is_empty() {
                continue;
            }
            let url = reqwest::Url::parse(raw).map_err(|e| format!("'{raw}' is not an origin: {e}"))?;
            let origin = url.origin();
            if !origin.is_tuple() || !matches!(url.scheme(), "http" | "https") {
                return Err(format!("'{raw}' is not an http(s) origin"));
            }
            if url.path() != "/" || url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
                return Err(format!("'{raw}' must be an origin alone (scheme://host[:port]), without a path"));
            }
            out.push(origin.ascii_serialization());
        }
        out.sort();
        out.dedup();
        Ok(Self(out))
    }

    pub fn origins(&self) -> &[String] {
        &self.0
    }
}

/// The header values, computed once.
#[derive(Debug, Clone)]
pub struct SecurityHeaders {
    csp: HeaderValue,
    frame_options: Option<HeaderValue>,
}

impl SecurityHeaders {
    pub fn new(ancestors: &FrameAncestors) -> Self {
        let frame_ancestors = if ancestors.0.is_empty() { "'none'".to_owned() } else { ancestors.0.join(" ") };
        let csp = format!(
            "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors {frame_ancestors}"
        );
        Self {
            csp: HeaderValue::from_str(&csp).expect("origins are ASCII without control characters"),
            // Older browsers ignore frame-ancestors; they get the same answer when nobody may frame us.
            frame_options: ancestors.0.is_empty().then(|| HeaderValue::from_static("DENY")),
        }
    }

    pub fn csp(&self) -> &HeaderValue {
        &self.csp
    }

    /// Sets the headers on `response` (every response of the router passes here).
    pub fn apply(&self, response: &mut Response) {
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_SECURITY_POLICY, self.csp.clone());
        headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        if let Some(v) = &self.frame_options {
            headers.insert(header::X_FRAME_OPTIONS, v.clone());
        }
    }
}

/// The middleware form of [`SecurityHeaders::apply`].
pub async fn set_security_headers(State(security): State<SecurityHeaders>, mut response: Response) -> Response {
    security.apply(&mut response);
    response
}

/// `Date` from the server's clock, which every number it serves is computed at (hyper
/// would write the machine's): the dashboard measures its clock's skew against it, and
/// ticks ages and times in state from times of this clock. The same as hyper's under the
/// system clock; under a test's or a sped-up simulation's clock, consistent with the data.
pub async fn set_date(State(state): State<crate::state::AppState>, mut response: Response) -> Response {
    if let Some(value) = http_date(state.clock.now_ms()) {
        response.headers_mut().insert(header::DATE, value);
    }
    response
}

/// `Sat, 28 Nov 2026 20:12:49 GMT` (RFC 9110's IMF-fixdate) for `ms` since the epoch.
fn http_date(ms: i64) -> Option<HeaderValue> {
    let at = chrono::DateTime::from_timestamp_millis(ms)?;
    HeaderValue::from_str(&at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_checked_and_normalized() {
        let a = FrameAncestors::parse(&["https://Tool.Example.com", "http://127.0.0.1:9000/", " "]).expect("valid");
        assert_eq!(a.origins(), ["http://127.0.0.1:9000", "https://tool.example.com"]);
        for bad in ["tool.example.com", "https://x.example/path", "ftp://x.example", "https://x.example/?a=1", "*"] {
            assert!(FrameAncestors::parse(&[bad]).is_err(), "{bad}");
        }
    }

    #[test]
    fn dates_are_imf_fixdate() {
        // 1_795_766_400_000 ms is Friday 2026-11-27 08:00:00 UTC; 49.999 s later truncates to :49.
        assert_eq!(http_date(1_795_766_449_999).expect("in range"), "Fri, 27 Nov 2026 08:00:49 GMT");
        assert_eq!(http_date(0).expect("in range"), "Thu, 01 Jan 1970 00:00:00 GMT");
    }

    #[test]
    fn policy_names_the_allowlist_or_none() {
        let none = SecurityHeaders::new(&FrameAncestors::default());
        assert!(none.csp().to_str().expect("ascii").ends_with("frame-ancestors 'none'"));
        assert!(none.frame_options.is_some());
        let some = SecurityHeaders::new(&FrameAncestors::parse(&["http://127.0.0.1:9000"]).expect("valid"));
        assert!(some.csp().to_str().expect("ascii").ends_with("frame-ancestors http://127.0.0.1:9000"));
        assert!(some.frame_options.is_none());
    }
}
