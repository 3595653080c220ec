//! Errors of the domain layer. `api` maps them to HTTP (SCIM §3.12 bodies on the SCIM surface,
//! JSON errors on the vendor API); nothing here knows about HTTP.

use scimgate_connectors::{DialectError, ErrorKind};

/// RFC 7644 §3.12 `scimType` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimType {
    InvalidFilter,
    TooMany,
    Uniqueness,
    Mutability,
    InvalidSyntax,
    InvalidPath,
    NoTarget,
    InvalidValue,
    InvalidVers,
    Sensitive,
}

impl ScimType {
    pub fn as_str(self) -> &'static str {
        match self {
            ScimType::InvalidFilter => "invalidFilter",
            ScimType::TooMany => "tooMany",
            ScimType::Uniqueness => "uniqueness",
            ScimType::Mutability => "mutability",
            ScimType::InvalidSyntax => "invalidSyntax",
            ScimType::InvalidPath => "invalidPath",
            ScimType::NoTarget => "noTarget",
            ScimType::InvalidValue => "invalidValue",
            ScimType::InvalidVers => "invalidVers",
            ScimType::Sensitive => "sensitive",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// 400 with an optional scimType.
    #[error("{detail}")]
    BadRequest {
        scim_type: Option<ScimType>,
        detail: String,
    },
    /// 404
    #[error("{0}")]
    NotFound(String),
    /// 409
    #[error("{detail}")]
    Conflict {
        scim_type: Option<ScimType>,
        detail: String,
    },
    /// 412 (If-Match mismatch)
    #[error("{0}")]
    PreconditionFailed(String),
    /// 401
    #[error("{0}")]
    Unauthorized(String),
    #[error("database error: {0}")]
    Db(diesel::result::Error),
    #[error("database pool error: {0}")]
    Pool(String),
    /// Work started with [`crate::store::without_waiting`] needed what it may not wait
    /// for (no pooled connection free at once, or a write): run it again where it may.
    #[error("would wait: {0}")]
    WouldWait(&'static str),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type CoreResult<T> = Result<T, CoreError>;

impl CoreError {
    pub fn bad(scim_type: ScimType, detail: impl Into<String>) -> Self {
        CoreError::BadRequest {
            scim_type: Some(scim_type),
            detail: detail.into(),
        }
    }
    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::bad(ScimType::InvalidValue, detail)
    }
    pub fn invalid_path(detail: impl Into<String>) -> Self {
        Self::bad(ScimType::InvalidPath, detail)
    }
    pub fn invalid_filter(detail: impl Into<String>) -> Self {
        Self::bad(ScimType::InvalidFilter, detail)
    }
    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::bad(ScimType::InvalidSyntax, detail)
    }
    pub fn mutability(detail: impl Into<String>) -> Self {
        Self::bad(ScimType::Mutability, detail)
    }
    pub fn no_target(detail: impl Into<String>) -> Self {
        Self::bad(ScimType::NoTarget, detail)
    }
    pub fn too_many(detail: impl Into<String>) -> Self {
        Self::bad(ScimType::TooMany, detail)
    }
    pub fn uniqueness(detail: impl Into<String>) -> Self {
        CoreError::Conflict {
            scim_type: Some(ScimType::Uniqueness),
            detail: detail.into(),
        }
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        CoreError::NotFound(detail.into())
    }
    pub fn internal(detail: impl Into<String>) -> Self {
        CoreError::Internal(detail.into())
    }
    /// True for errors caused by the client (4xx); false for server-side failures.
    pub fn is_client_error(&self) -> bool {
        !matches!(
            self,
            CoreError::Db(_)
                | CoreError::Pool(_)
                | CoreError::WouldWait(_)
                | CoreError::Internal(_)
        )
    }
}

impl From<DialectError> for CoreError {
    fn from(e: DialectError) -> Self {
        let t = match e.kind {
            ErrorKind::InvalidValue => ScimType::InvalidValue,
            ErrorKind::InvalidSyntax => ScimType::InvalidSyntax,
            ErrorKind::InvalidPath => ScimType::InvalidPath,
            ErrorKind::Mutability => ScimType::Mutability,
            ErrorKind::NoTarget => ScimType::NoTarget,
        };
        CoreError::bad(t, e.detail)
    }
}

impl From<diesel::result::Error> for CoreError {
    fn from(e: diesel::result::Error) -> Self {
        // a lost connection makes the pool validate connections for a while
        crate::store::note_error(&e);
        CoreError::Db(e)
    }
}

impl From<diesel::r2d2::PoolError> for CoreError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        CoreError::Pool(e.to_string())
    }
}
