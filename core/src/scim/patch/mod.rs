//! RFC 7644 §3.5.2 PATCH applied to a stored (canonical) document, with the IdP tolerances of
//! ../shared/docs/IDP-QUIRKS.md §3. Group membership never lives in the document: operations on
//! `members` are returned as [`MemberOp`]s, in the order of the operations, for the store to apply.
//!
//! Paths are parsed with `scim_v2::filter::PatchPath`; attribute names compare case-insensitively
//! (RFC 7643 §2.1) and are stored under their canonical names.
//!
//! - `path`: a path, or a key of a path-less value, resolved to what it targets;
//! - `engine`: add, replace and remove on the document;
//! - `members`: the operations on a group's `members`, which become [`MemberOp`]s;
//! - `document`: where a value lives in the stored document and how values are merged;
//! - `value_filter`: the in-memory `attr[filter]` matching ([`matches`]).

mod document;
mod engine;
mod members;
mod path;
mod value_filter;

#[cfg(test)]
mod tests;

use scimgate_connectors::{PatchOp, ResourceKind};
use serde_json::{Map, Value};

use crate::error::{CoreError, CoreResult};
use crate::scim::schema::{canonicalize_kind, Kind, MemberRef};
use engine::Ctx;

pub use value_filter::matches;

/// A change of a Group's membership requested by a PATCH. The store checks that added ids are users or
/// groups of the same directory; removing a non-member is a no-op (IDEMPOTENT-MEMBERSHIP).
#[derive(Debug, Clone, PartialEq)]
pub enum MemberOp {
    /// `add` path `members` (or a path-less add whose value has `members`).
    Add(Vec<MemberRef>),
    /// Remove exactly these ids: `members[value eq "x" or value eq "y"]` (MEMBERS-FILTER-REMOVE) or
    /// `remove` path `members` with a value list (ENTRA-REMOVE-MEMBERS-VALUE).
    Remove(Vec<String>),
    /// `remove` path `members` without a value (RFC 7644 §3.5.2.2).
    RemoveAll,
    /// `replace` path `members` (or a path-less replace whose value has `members`): the new full list.
    Replace(Vec<MemberRef>),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PatchOutcome {
    /// In the order of the operations.
    pub member_ops: Vec<MemberOp>,
}

/// Apply RFC 7644 §3.5.2 operations to a stored (canonical, as produced by `canonicalize`) document, in
/// order, atomically from the caller's point of view: `doc` is only replaced when every operation succeeded
/// and the result is still a valid resource (it is re-canonicalized, so `schemas` follows the extensions
/// present).
///
/// `id` is the resource's id: a path-less value carrying `"id"` equal to it (or `null`) is ignored, a
/// different one is a `mutability` error (OKTA-GROUP-RENAME-ID).
pub fn apply_patch(
    kind: ResourceKind,
    id: &str,
    doc: &mut Map<String, Value>,
    ops: &[PatchOp],
) -> CoreResult<PatchOutcome> {
    let kind = Kind::of(&kind);
    let mut work = doc.clone();
    let mut member_ops = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        let mut ctx = Ctx {
            kind,
            id,
            doc: &mut work,
            member_ops: &mut member_ops,
        };
        ctx.apply(op)
            .map_err(|e| prefixed(&format!("Operations[{i}]: "), e))?;
    }
    let canonical = canonicalize_kind(kind, Value::Object(work))
        .map_err(|e| prefixed("the patched resource is invalid: ", e))?;
    *doc = canonical.doc;
    Ok(PatchOutcome { member_ops })
}

fn prefixed(prefix: &str, e: CoreError) -> CoreError {
    match e {
        CoreError::BadRequest { scim_type, detail } => CoreError::BadRequest {
            scim_type,
            detail: format!("{prefix}{detail}"),
        },
        other => other,
    }
}
