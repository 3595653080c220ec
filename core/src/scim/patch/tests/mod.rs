//! Tests of the PATCH engine, by topic: the IdPs' user PATCHes (`users`), RFC 7644 §3.5.2 semantics
//! (`semantics`), group PATCHes and `members` (`groups`), and robustness against odd or generated
//! input (`robustness`). The helpers below build operations and the stored documents they apply to.

mod groups;
mod robustness;
mod semantics;
mod users;

use super::*;
use crate::error::ScimType;
use crate::scim::schema::{canonicalize, ENTERPRISE_USER_SCHEMA as ENT, GROUP_SCHEMA, USER_SCHEMA};
use scimgate_connectors::OpKind;
use serde_json::json;

const UID: &str = "user_01";
const GID: &str = "group_01";

fn op(kind: OpKind, path: Option<&str>, value: Option<Value>) -> PatchOp {
    PatchOp {
        op: kind,
        path: path.map(str::to_string),
        value,
    }
}
fn add(path: &str, value: Value) -> PatchOp {
    op(OpKind::Add, Some(path), Some(value))
}
fn replace(path: &str, value: Value) -> PatchOp {
    op(OpKind::Replace, Some(path), Some(value))
}
fn remove(path: &str) -> PatchOp {
    op(OpKind::Remove, Some(path), None)
}
fn remove_v(path: &str, value: Value) -> PatchOp {
    op(OpKind::Remove, Some(path), Some(value))
}
fn add_np(value: Value) -> PatchOp {
    op(OpKind::Add, None, Some(value))
}
fn replace_np(value: Value) -> PatchOp {
    op(OpKind::Replace, None, Some(value))
}

fn canonical(kind: ResourceKind, body: Value) -> Map<String, Value> {
    match canonicalize(kind, body) {
        Ok(c) => c.doc,
        Err(e) => panic!("canonicalize failed: {e}"),
    }
}

/// generic_rfc7644.json user1, as stored.
fn bjensen() -> Map<String, Value> {
    canonical(
        ResourceKind::User,
        json!({
            "schemas": [USER_SCHEMA], "userName": "bjensen@example.com", "externalId": "bjensen",
            "name": {"formatted": "Ms. Barbara J Jensen III", "familyName": "Jensen", "givenName": "Barbara"},
            "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}],
            "active": true
        }),
    )
}

fn group_doc() -> Map<String, Value> {
    canonical(
        ResourceKind::Group,
        json!({"schemas": [GROUP_SCHEMA], "displayName": "Tour Guides", "externalId": "tg"}),
    )
}

fn patch_user(doc: &mut Map<String, Value>, ops: Vec<PatchOp>) -> CoreResult<PatchOutcome> {
    apply_patch(ResourceKind::User, UID, doc, &ops)
}

fn patch_group(doc: &mut Map<String, Value>, ops: Vec<PatchOp>) -> CoreResult<PatchOutcome> {
    apply_patch(ResourceKind::Group, GID, doc, &ops)
}

fn ok(r: CoreResult<PatchOutcome>) -> PatchOutcome {
    match r {
        Ok(o) => o,
        Err(e) => panic!("unexpected error: {e}"),
    }
}

fn scim_type(r: &CoreResult<PatchOutcome>) -> Option<ScimType> {
    match r {
        Err(CoreError::BadRequest { scim_type, .. }) => *scim_type,
        _ => None,
    }
}

fn detail(r: &CoreResult<PatchOutcome>) -> String {
    match r {
        Err(e) => e.to_string(),
        Ok(_) => String::new(),
    }
}

fn v(doc: &Map<String, Value>) -> Value {
    Value::Object(doc.clone())
}

fn ids(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn mref(v: &str) -> MemberRef {
    MemberRef {
        value: v.to_string(),
        display: None,
        kind: None,
    }
}
