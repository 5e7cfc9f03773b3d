//! The API's error type: every failure leaves as Twilio's error body with its status.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use wallboard_shared::TwilioError;
use wallboard_shared::error::codes;

/// `Retry-After` of every 503.
const RETRY_AFTER_SECS: &str = "5";

#[derive(Debug, Clone)]
pub struct ApiError(pub TwilioError);

impl ApiError {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self(TwilioError::invalid_parameter(message))
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self(TwilioError::not_found(message))
    }

    pub fn unauthorized() -> Self {
        Self(TwilioError::unauthorized())
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self(TwilioError::new(403, codes::FORBIDDEN, message))
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self(TwilioError::new(503, codes::UNAVAILABLE, message))
    }

    pub fn too_large(message: impl Into<String>) -> Self {
        Self(TwilioError::new(413, codes::INVALID_PARAMETER, message))
    }

    pub fn method_not_allowed() -> Self {
        Self(TwilioError::new(405, codes::INVALID_PARAMETER, "method not allowed on this resource"))
    }
}

impl From<wallboard_shared::query::QueryError> for ApiError {
    fn from(e: wallboard_shared::query::QueryError) -> Self {
        Self::invalid(e.0)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(self.0)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"Wallboard\""));
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            // Retry soon: a 503 says storage or the upstream is away for a while.
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
