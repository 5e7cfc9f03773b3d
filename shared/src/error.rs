//! Twilio's error body, the only error shape Wallboard puts on the wire.

use serde::{Deserialize, Serialize};

/// `{"code": 20001, "message": "...", "more_info": "https://www.twilio.com/docs/errors/20001", "status": 400}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwilioError {
    pub code: u32,
    pub message: String,
    pub more_info: String,
    pub status: u16,
}

/// Twilio's error codes that Wallboard uses.
pub mod codes {
    /// Invalid parameter.
    pub const INVALID_PARAMETER: u32 = 20001;
    /// Authentication failed.
    pub const AUTHENTICATION: u32 = 20003;
    /// Permission denied.
    pub const FORBIDDEN: u32 = 20403;
    /// The requested resource was not found.
    pub const NOT_FOUND: u32 = 20404;
    /// Too many requests.
    pub const TOO_MANY_REQUESTS: u32 = 20429;
    /// Internal server error.
    pub const INTERNAL: u32 = 20500;
    /// Service unavailable.
    pub const UNAVAILABLE: u32 = 20503;
}

impl TwilioError {
    pub fn new(status: u16, code: u32, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), more_info: format!("https://www.twilio.com/docs/errors/{code}"), status }
    }

    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::new(400, codes::INVALID_PARAMETER, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, codes::NOT_FOUND, message)
    }

    pub fn unauthorized() -> Self {
        Self::new(401, codes::AUTHENTICATION, "Authenticate")
    }
}

impl std::fmt::Display for TwilioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.status, self.code, self.message)
    }
}

impl std::error::Error for TwilioError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_exactly_twilio_keys() {
        let e = TwilioError::invalid_parameter("bad Minutes");
        let v = serde_json::to_value(&e).expect("serialize");
        let keys: Vec<_> = v.as_object().expect("object").keys().cloned().collect();
        assert_eq!(keys, ["code", "message", "more_info", "status"]);
        assert_eq!(v["more_info"], "https://www.twilio.com/docs/errors/20001");
        let back: TwilioError = serde_json::from_value(v).expect("round trip");
        assert_eq!(back, e);
    }
}
