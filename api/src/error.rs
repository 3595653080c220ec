//! HTTP errors. The SCIM surface answers RFC 7644 §3.12 error bodies (`status` as a
//! string, `scimType` where one applies, `application/scim+json`); the vendor API
//! answers WorkOS-style JSON (`{"code", "message"}`). Server-side failures are logged
//! and answered without internal detail.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use scimgate_core::{CoreError, ScimType};
use serde_json::json;

pub const SCIM_CONTENT_TYPE: &str = "application/scim+json";
pub const SCIM_ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// A wait as `Retry-After` seconds: rounded up, at least 1.
fn retry_seconds(d: std::time::Duration) -> u64 {
    d.as_millis().div_ceil(1000).max(1) as u64
}

fn status_of(e: &CoreError) -> StatusCode {
    match e {
        CoreError::BadRequest { .. } => StatusCode::BAD_REQUEST,
        CoreError::NotFound(_) => StatusCode::NOT_FOUND,
        CoreError::Conflict { .. } => StatusCode::CONFLICT,
        CoreError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
        CoreError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
        CoreError::Pool(_) | CoreError::WouldWait(_) => StatusCode::SERVICE_UNAVAILABLE,
        CoreError::Db(_) | CoreError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// An error on the SCIM surface.
#[derive(Debug)]
pub struct ScimError {
    pub status: StatusCode,
    pub scim_type: Option<ScimType>,
    pub detail: String,
    /// `Retry-After` in seconds (a 429).
    pub retry_after: Option<u64>,
}

impl std::fmt::Display for ScimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.detail)
    }
}

impl ScimError {
    pub fn new(status: StatusCode, scim_type: Option<ScimType>, detail: impl Into<String>) -> Self {
        ScimError {
            status,
            scim_type,
            detail: detail.into(),
            retry_after: None,
        }
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, None, detail)
    }
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            None,
            "missing or invalid bearer token",
        )
    }
    /// 429 with `Retry-After` (whole seconds, at least 1); Okta and Entra back off on it.
    pub fn too_many_requests(retry_after: std::time::Duration, detail: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, None, detail);
        e.retry_after = Some(retry_seconds(retry_after));
        e
    }
    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            Some(ScimType::InvalidSyntax),
            detail,
        )
    }
}

impl From<CoreError> for ScimError {
    fn from(e: CoreError) -> Self {
        let status = status_of(&e);
        let (scim_type, detail) = match &e {
            CoreError::BadRequest { scim_type, detail }
            | CoreError::Conflict { scim_type, detail } => (*scim_type, detail.clone()),
            // the signal of an inline read that is run again on the blocking pool
            CoreError::WouldWait(_) => (None, "server busy; retry".to_string()),
            CoreError::Db(_) | CoreError::Internal(_) | CoreError::Pool(_) => {
                tracing::error!(error = %e, "SCIM request failed");
                (
                    None,
                    "internal error; the request was not applied".to_string(),
                )
            }
            other => (None, other.to_string()),
        };
        ScimError {
            status,
            scim_type,
            detail,
            retry_after: None,
        }
    }
}

impl From<actix_web::error::BlockingError> for ScimError {
    fn from(_: actix_web::error::BlockingError) -> Self {
        tracing::error!("blocking task failed");
        ScimError::new(StatusCode::INTERNAL_SERVER_ERROR, None, "internal error")
    }
}

impl ResponseError for ScimError {
    fn status_code(&self) -> StatusCode {
        self.status
    }
    fn error_response(&self) -> HttpResponse {
        let mut body = json!({
            "schemas": [SCIM_ERROR],
            "status": self.status.as_u16().to_string(),
            "detail": self.detail,
        });
        if let (Some(t), Some(o)) = (self.scim_type, body.as_object_mut()) {
            o.insert("scimType".into(), json!(t.as_str()));
        }
        let mut r = HttpResponse::build(self.status);
        r.insert_header((header::CONTENT_TYPE, SCIM_CONTENT_TYPE));
        if self.status == StatusCode::UNAUTHORIZED {
            r.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"scim\""));
        }
        if let Some(s) = self.retry_after {
            r.insert_header((header::RETRY_AFTER, s.to_string()));
        }
        // for the sync health (scim::health)
        r.extensions_mut()
            .insert(crate::scim::health::Rejection(match self.scim_type {
                Some(t) => format!("{}: {}", t.as_str(), self.detail),
                None => self.detail.clone(),
            }));
        r.body(body.to_string())
    }
}

/// An error on the vendor (WorkOS-compatible) API.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// `Retry-After` in seconds (a 429).
    pub retry_after: Option<u64>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.message)
    }
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request_parameters",
            message,
        )
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "entity_not_found", message)
    }
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or invalid API key",
        )
    }
    /// 429 with `Retry-After` (whole seconds, at least 1).
    pub fn too_many_requests(retry_after: std::time::Duration, message: impl Into<String>) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limit_exceeded",
            message,
        );
        e.retry_after = Some(retry_seconds(retry_after));
        e
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::BadRequest { detail, .. } => ApiError::bad_request(detail),
            CoreError::NotFound(d) => ApiError::not_found(d),
            CoreError::Conflict { detail, .. } => {
                ApiError::new(StatusCode::CONFLICT, "conflict", detail)
            }
            CoreError::PreconditionFailed(d) => {
                ApiError::new(StatusCode::PRECONDITION_FAILED, "precondition_failed", d)
            }
            CoreError::Unauthorized(_) => ApiError::unauthorized(),
            CoreError::Pool(_) | CoreError::WouldWait(_) => {
                tracing::error!(error = %e, "API request failed");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "database unavailable",
                )
            }
            CoreError::Db(_) | CoreError::Internal(_) => {
                tracing::error!(error = %e, "API request failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal_error",
                    "internal error",
                )
            }
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(_: actix_web::error::BlockingError) -> Self {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "internal error",
        )
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }
    fn error_response(&self) -> HttpResponse {
        let mut r = HttpResponse::build(self.status);
        if let Some(s) = self.retry_after {
            r.insert_header((header::RETRY_AFTER, s.to_string()));
        }
        r.content_type("application/json").json(ErrorBody {
            code: self.code,
            message: &self.message,
        })
    }
}

/// The vendor API's error body (WorkOS style): `{"code", "message"}`.
#[derive(serde::Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: &'a str,
}
