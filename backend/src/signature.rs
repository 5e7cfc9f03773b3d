//! Twilio request signatures (`X-Twilio-Signature`): HMAC-SHA1 over the URL followed by
//! the POST parameters sorted by name, keyed by the auth token, base64-encoded. A JSON body
//! (Event Streams) is signed through the URL: its SHA-256 (hex) is the URL's `bodySHA256`
//! query parameter, and the signature covers the URL alone ([`is_valid_json`]).
//!
//! A leaf: it imports nothing of the crate, so the webhook (checking), the simulator's
//! driver and the load tool (signing) and the tests share it without depending on `api`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha1::Sha1;

type HmacSha1 = Hmac<Sha1>;

/// The signature Twilio would send for `url` and `params`.
pub fn compute(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    compute_sorted(auth_token, url, &sorted(params))
}

/// [`compute`] of parameters already in the order they are signed (sorted by name, then
/// value), without copying them.
pub fn compute_sorted(auth_token: &str, url: &str, sorted: &[(&str, &str)]) -> String {
    debug_assert!(sorted.is_sorted(), "the parameters are signed in order");
    STANDARD.encode(mac(auth_token, url, sorted).finalize().into_bytes())
}

/// The parameters in the order they are signed: by name, then by value.
fn sorted<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> Vec<(&str, &str)> {
    let mut sorted: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_ref(), v.as_ref())).collect();
    sorted.sort_unstable();
    sorted
}

fn mac(auth_token: &str, url: &str, sorted: &[(&str, &str)]) -> HmacSha1 {
    let mut mac = HmacSha1::new_from_slice(auth_token.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(url.as_bytes());
    for (k, v) in sorted {
        mac.update(k.as_bytes());
        mac.update(v.as_bytes());
    }
    mac
}

/// Checks `signature` in constant time against `url` as given and with its port added or
/// removed, as Twilio's helper libraries do (proxies often change the port).
pub fn is_valid<K: AsRef<str>, V: AsRef<str>>(auth_token: &str, url: &str, params: &[(K, V)], signature: &str) -> bool {
    let Ok(expected) = STANDARD.decode(signature.trim()) else {
        return false;
    };
    let params = sorted(params);
    // The URL as given first: the other form only when that fails.
    mac(auth_token, url, &params).verify_slice(&expected).is_ok()
        || other_url(url).is_some_and(|u| mac(auth_token, &u, &params).verify_slice(&expected).is_ok())
}

/// The hex SHA-256 of a body, as the `bodySHA256` parameter carries it.
pub fn body_sha256(body: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(body).iter().map(|b| format!("{b:02x}")).collect()
}

/// `url` with the `bodySHA256` parameter of `body` appended, as a sink posting `body` is
/// addressed (the sender's side of [`is_valid_json`]).
pub fn with_body_sha256(url: &str, body: &[u8]) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}bodySHA256={}", body_sha256(body))
}

/// Checks the signature of a JSON `body` posted to `url` as Twilio's helper libraries do
/// (`validateRequestWithBody`): the URL's `bodySHA256` parameter must be the body's hex
/// SHA-256 (compared without regard to case), and `signature` must sign the URL (with its
/// port added or removed) and no parameters.
pub fn is_valid_json(auth_token: &str, url: &str, body: &[u8], signature: &str) -> bool {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let hashes: Vec<String> = serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| k == "bodySHA256")
        .map(|(_, v)| v)
        .collect();
    let [hash] = hashes.as_slice() else { return false };
    hash.eq_ignore_ascii_case(&body_sha256(body)) && is_valid::<&str, &str>(auth_token, url, &[], signature)
}

/// `url` with its port removed (when it has one) or the scheme's default port added:
/// the other form a proxy may have signed or forwarded. `None` when it is not a URL.
fn other_url(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
    let (userinfo, host_port) = authority.rsplit_once('@').map_or(("", authority), |(u, h)| (u, h));
    let at = if userinfo.is_empty() { String::new() } else { format!("{userinfo}@") };
    let port = host_port
        .rsplit_once(':')
        .filter(|(_, p)| p.chars().all(|c| c.is_ascii_digit()) && !p.is_empty() && !host_port.ends_with(']'));
    Some(match port {
        Some((host, _)) => format!("{scheme}://{at}{host}{path}"),
        None => {
            let port = if scheme == "https" { 443 } else { 80 };
            format!("{scheme}://{at}{host_port}:{port}{path}")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector_params() -> Vec<(String, String)> {
        [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// The published vector of twilio-python's request validator tests.
    #[test]
    fn twilio_python_vector() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(compute("12345", url, &vector_params()), "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
        assert!(is_valid("12345", url, &vector_params(), "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
    }

    /// The published vectors of the helper libraries' `validateRequestWithBody` tests
    /// (twilio-node, twilio-python): token `12345`, the body below, its hash, the signature.
    #[test]
    fn twilio_json_body_vectors() {
        let body = br#"{"property": "value", "boolean": true}"#;
        let hash = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
        assert_eq!(body_sha256(body), hash);
        let url = format!("https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256={hash}");
        assert_eq!(with_body_sha256("https://mycompany.com/myapp.php?foo=1&bar=2", body), url);
        let sig = "a9nBmqA0ju/hNViExpshrM61xv4=";
        assert_eq!(compute("12345", &url, &[]), sig);
        assert!(is_valid_json("12345", &url, body, sig));
        assert!(is_valid_json("12345", &url.replace("mycompany.com", "mycompany.com:443"), body, sig), "with the port");
        assert!(!is_valid_json("12345", &url, br#"{"property": "value", "boolean": false}"#, sig), "another body");
        assert!(!is_valid_json("12346", &url, body, sig), "another token");
        assert!(!is_valid_json("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", body, sig), "no hash");
        let twice = format!("{url}&bodySHA256={hash}");
        assert!(!is_valid_json("12345", &twice, body, &compute("12345", &twice, &[])), "two hashes");
    }

    #[test]
    fn accepts_with_and_without_port_and_rejects_forgeries() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let sig = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
        assert!(is_valid("12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2", &vector_params(), sig));
        assert!(!is_valid("12346", url, &vector_params(), sig), "other token");
        let mut tampered = vector_params();
        tampered[2].1 = "1235".into();
        assert!(!is_valid("12345", url, &tampered, sig), "other params");
        assert!(!is_valid("12345", url, &vector_params(), "not base64!"));
        assert!(!is_valid("12345", url, &vector_params(), ""));
    }
}
