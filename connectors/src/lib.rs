//! Per-IdP SCIM dialect knowledge for scimgate: pure functions, no I/O, no database.
//!
//! Every identity provider speaks its own dialect of SCIM 2.0 (string booleans, capitalised
//! PATCH ops, managers as bare strings, `emails` as a single object, ...). This crate turns each
//! dialect into RFC 7643 / RFC 7644 shaped JSON that `scimgate-core` can apply, maps a stored
//! SCIM user/group onto the WorkOS `directory_user` / `directory_group` fields, and carries the
//! per-IdP setup instructions shown to IT admins.
//!
//! The quirk IDs cited in comments and test names (`ENTRA-STRING-BOOL`, `OKTA-PATCH-NOPATH`, ...)
//! are the rows of `../shared/docs/IDP-QUIRKS.md` §3; `connectors/README.md` lists which function
//! and test covers each of them.
//!
//! Nothing in this crate panics on any input: every entry point is total, and malformed input is
//! answered with a [`DialectError`] whose `detail` names the offending attribute.
//!
//! ```
//! use scimgate_connectors::{normalize_patch, DirectoryType, OpKind, ResourceKind};
//! use serde_json::json;
//!
//! // Entra's default provisioning job deactivates with a capitalised op and a string boolean.
//! let ops = normalize_patch(
//!     DirectoryType::Azure,
//!     ResourceKind::User,
//!     json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
//!            "Operations": [{"op": "Replace", "path": "active", "value": "False"}]}),
//! )?;
//! assert_eq!(ops[0].op, OpKind::Replace);
//! assert_eq!(ops[0].path.as_deref(), Some("active"));
//! assert_eq!(ops[0].value, Some(json!(false)));
//! # Ok::<(), scimgate_connectors::DialectError>(())
//! ```

use serde_json::{Map, Value};

mod body;
mod dialect;
mod json;
mod mapping;
mod patch;
pub mod quirks;

pub mod entra;
pub mod jumpcloud;
pub mod okta;
pub mod onelogin;
pub mod ping;
pub mod setup;

#[cfg(test)]
mod fuzz_tests;

pub use body::{normalize_group_body, normalize_user_body};
pub use dialect::DirectoryType;
pub use jumpcloud::is_self_test;
pub use mapping::{
    default_attribute_mappings, default_mappings, map_group, map_user, resolve_path,
};
pub use patch::{coerce_value, normalize_patch};
pub use setup::setup_steps;

/// Core schema URN of SCIM users (RFC 7643 §4.1).
pub const CORE_USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// Core schema URN of SCIM groups (RFC 7643 §4.2).
pub const CORE_GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// Enterprise user extension URN (RFC 7643 §4.3).
pub const ENTERPRISE_USER_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// PatchOp message URN (RFC 7644 §3.5.2).
pub const PATCH_OP_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Kind of a dialect error; maps one-to-one onto an RFC 7644 §3.12 `scimType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// `invalidValue`: a value has the wrong type or content (NUL characters, missing value, ...).
    InvalidValue,
    /// `invalidSyntax`: the request body is not a valid SCIM message (not an object, bad `Operations`, unknown op).
    InvalidSyntax,
    /// `invalidPath`: a PATCH `path` is unusable.
    InvalidPath,
    /// `mutability`: an attempt to modify a read-only attribute.
    Mutability,
    /// `noTarget`: a PATCH operation names no target (e.g. `remove` without `path`).
    NoTarget,
}

impl ErrorKind {
    /// The RFC 7644 §3.12 `scimType` for this kind (`"invalidValue"`, `"noTarget"`, ...).
    pub fn scim_type(&self) -> &'static str {
        match self {
            ErrorKind::InvalidValue => "invalidValue",
            ErrorKind::InvalidSyntax => "invalidSyntax",
            ErrorKind::InvalidPath => "invalidPath",
            ErrorKind::Mutability => "mutability",
            ErrorKind::NoTarget => "noTarget",
        }
    }
}

/// A request the gateway must reject. `detail` is precise and human-readable and names the
/// attribute or operation at fault; it never echoes secrets (passwords are never quoted).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{detail}")]
pub struct DialectError {
    pub kind: ErrorKind,
    pub detail: String,
}

impl DialectError {
    pub fn new(kind: ErrorKind, detail: impl Into<String>) -> Self {
        DialectError {
            kind,
            detail: detail.into(),
        }
    }
}

/// A PATCH operation verb (RFC 7644 §3.5.2), already case-normalized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Add,
    Replace,
    Remove,
}

impl OpKind {
    /// The RFC spelling: `"add"`, `"replace"` or `"remove"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            OpKind::Add => "add",
            OpKind::Replace => "replace",
            OpKind::Remove => "remove",
        }
    }
}

/// One normalized PATCH operation. `path: None` means a path-less operation whose `value` is an
/// object of attribute paths to values (OKTA-PATCH-NOPATH, ENTRA-NOPATH-DOTTED-KEYS).
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOp {
    pub op: OpKind,
    pub path: Option<String>,
    pub value: Option<Value>,
}

/// Which SCIM resource a body or PATCH targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    User,
    Group,
}

/// A normalized directory user (WorkOS `directory_user` fields, ../shared/docs/WIRE-COMPAT.md §5).
/// Core adds ids, timestamps, `raw_attributes` and roles.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NormalizedUser {
    /// `externalId`; if absent, `userName`; if both are absent, `""`.
    pub idp_id: String,
    /// The primary email's value (see [`map_user`] for the choice).
    pub email: Option<String>,
    /// `name.givenName`.
    pub first_name: Option<String>,
    /// `name.familyName`.
    pub last_name: Option<String>,
    /// `name.formatted`; else `"given family"`; else `displayName`.
    pub name: Option<String>,
    /// `userName`.
    pub username: Option<String>,
    pub emails: Vec<NormalizedEmail>,
    /// `title`.
    pub job_title: Option<String>,
    /// `"active"` or `"inactive"`, from `active` (absent means `"active"`).
    pub state: String,
    /// Mapping key -> value found at the mapping's SCIM path (absent paths omitted).
    pub custom_attributes: Map<String, Value>,
}

/// One entry of `directory_user.emails`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NormalizedEmail {
    pub primary: bool,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub value: String,
}

/// A custom-attribute mapping: the value at SCIM `path` is exposed as `custom_attributes[key]`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AttributeMapping {
    pub path: String,
    pub key: String,
}

/// A normalized directory group (the WorkOS `directory_group` fields of
/// ../shared/docs/WIRE-COMPAT.md §6).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NormalizedGroup {
    /// `externalId`, else `""`.
    pub idp_id: String,
    /// `displayName`, else `""`.
    pub name: String,
}
