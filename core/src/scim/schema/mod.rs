//! RFC 7643 schemas: static definitions of the core User (§4.1), the EnterpriseUser extension (§4.3),
//! the core Group (§4.2) and the common attributes (§3.1); canonicalization of POST/PUT bodies into the
//! stored document; and the §7 representation served by `GET /Schemas`.
//!
//! Attribute characteristics follow RFC 7643 §8.7.1/§8.7.2, with two deliberate deviations that follow
//! the prose of §4 instead of the §8.7.1 listing:
//! - Group `displayName` is `required` (§4.2 says "REQUIRED"; §8.7.1 lists `required: false`);
//! - Group `members` carries a `display` sub-attribute and `addresses` a `primary` sub-attribute, as in
//!   the §8 examples.
//!
//! The common attributes `id`, `externalId` and `meta` are resolvable through [`lookup`] but, as in
//! RFC 7643 §8.7.1, are not listed inside the schema representations.
//!
//! - `tables`: the attribute definitions of each schema;
//! - `lookup`: attributes by name, case-insensitively (RFC 7643 §2.1);
//! - `canonicalize`: a POST/PUT body checked and turned into the stored document;
//! - `values`: case-insensitive keys, fingerprints, type and NUL checks shared with PATCH;
//! - `representation`: the §7 JSON of a schema.

mod canonicalize;
mod lookup;
mod representation;
mod tables;
mod values;

#[cfg(test)]
mod tests;

pub use canonicalize::{canonicalize, Canonical, MemberRef};
pub(crate) use canonicalize::{
    canonicalize_kind, check_attr_value, check_element, is_primary, parse_member_list,
};
pub use lookup::{always_returned, lookup, never_returned, ResolvedAttr};
pub(crate) use lookup::{core_attr, find_attr, Kind};
pub use representation::schema_json;
pub use tables::{common_attributes, ENTERPRISE_USER, GROUP, USER};
pub use values::MAX_IDENTIFIER_BYTES;
pub(crate) use values::{
    check_identifiers, fingerprint, get_ci, json_type, key_ci, no_nul, no_nul_str, set_ci,
    wrong_type,
};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE_USER_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// `schemas` value of a schema representation (RFC 7643 §7).
pub const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// RFC 7643 §2.3 data types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Reference,
    Complex,
    Binary,
}

impl AttrType {
    pub fn as_str(self) -> &'static str {
        match self {
            AttrType::String => "string",
            AttrType::Boolean => "boolean",
            AttrType::Decimal => "decimal",
            AttrType::Integer => "integer",
            AttrType::DateTime => "dateTime",
            AttrType::Reference => "reference",
            AttrType::Complex => "complex",
            AttrType::Binary => "binary",
        }
    }
}

/// RFC 7643 §7 `mutability`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

impl Mutability {
    pub fn as_str(self) -> &'static str {
        match self {
            Mutability::ReadOnly => "readOnly",
            Mutability::ReadWrite => "readWrite",
            Mutability::Immutable => "immutable",
            Mutability::WriteOnly => "writeOnly",
        }
    }
}

/// RFC 7643 §7 `returned`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    Always,
    Never,
    Default,
    Request,
}

impl Returned {
    pub fn as_str(self) -> &'static str {
        match self {
            Returned::Always => "always",
            Returned::Never => "never",
            Returned::Default => "default",
            Returned::Request => "request",
        }
    }
}

/// One attribute definition with its RFC 7643 §2 / §7 characteristics.
#[derive(Debug)]
pub struct AttrDef {
    pub name: &'static str,
    pub ty: AttrType,
    pub multi_valued: bool,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    /// "none" | "server" | "global"
    pub uniqueness: &'static str,
    pub canonical_values: &'static [&'static str],
    pub reference_types: &'static [&'static str],
    pub description: &'static str,
    pub sub_attributes: &'static [AttrDef],
}

/// A schema (RFC 7643 §7).
#[derive(Debug)]
pub struct SchemaDef {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub attributes: &'static [AttrDef],
}
