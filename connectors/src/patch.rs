//! PATCH requests (RFC 7644 §3.5.2): parse the PatchOp message and normalize each operation's
//! dialect (op case, string booleans, manager shapes, member shapes). Applying the operations
//! is core's job; this module never expands path-less value objects.

use serde_json::{Map, Value};

use crate::body::{normalize_manager, normalize_manager_in, normalize_members};
use crate::json::{
    coerce_bool, coerce_primary_in, describe, key_ci, scan, show, starts_with_ci, strip_null_refs,
    strip_prefix_ci, wrap_single_object, MULTI_VALUED_WITH_PRIMARY,
};
use crate::{
    entra, DialectError, DirectoryType, ErrorKind, OpKind, PatchOp, ResourceKind, CORE_GROUP_URN,
    CORE_USER_URN, PATCH_OP_URN,
};

/// Parse a PatchOp request body and normalize each operation.
///
/// Rejections: non-object body, `schemas` present but without the PatchOp URN, missing/empty/
/// non-array `Operations`, non-object operations, a missing or unknown `op` (e.g. `"delete"`)
/// → `InvalidSyntax`; a non-string `path` or a `path` containing NUL → `InvalidPath`;
/// `remove` without `path` → `NoTarget`; `add`/`replace` without `value` (or with a null value
/// and no path), a path-less `add`/`replace` whose value is not an object, NUL in any string
/// → `InvalidValue`.
///
/// Tolerances: `schemas` absent or in any case; `Operations` key in any case; `op`, `path`,
/// `value` member names in any case; `op` in any case (ENTRA-OP-CASE); empty `path` = absent;
/// string booleans at `active` / `…primary` / inside multi-valued values and path-less objects
/// (ENTRA-STRING-BOOL); manager strings, `managerId`, and the legacy `path:"manager"` list
/// (ENTRA-MANAGER-STRING, ONELOGIN-TEMPLATE-TYPES); member lists with `$ref: null`, single
/// objects and bare strings (ENTRA-REF-NULL); `remove` with a value list is kept as is
/// (ENTRA-REMOVE-MEMBERS-VALUE). A targeted `replace` whose value is `null` becomes a `remove`
/// of that path (RFC 7643 §2.5: null means unassigned); so does an empty manager id.
pub fn normalize_patch(
    dt: DirectoryType,
    kind: ResourceKind,
    body: Value,
) -> Result<Vec<PatchOp>, DialectError> {
    let _ = dt; // the tolerances are safe for every dialect (see body.rs)
    let mut obj = match body {
        Value::Object(m) => m,
        other => {
            return Err(syntax(format!(
                "PATCH request body must be a JSON object (RFC 7644 §3.5.2), got {}",
                describe(&other)
            )))
        }
    };
    check_schemas(&obj)?;

    let Some(ops_key) = key_ci(&obj, "Operations") else {
        return Err(syntax(
            "PATCH request body has no `Operations` array (RFC 7644 §3.5.2)",
        ));
    };
    let items = match obj.shift_remove(&ops_key) {
        Some(Value::Array(items)) if !items.is_empty() => items,
        Some(Value::Array(_)) => {
            return Err(syntax(
                "`Operations` is empty: a PATCH request needs at least one operation",
            ))
        }
        Some(other) => {
            return Err(syntax(format!(
                "`Operations` must be an array of operations, got {}",
                describe(&other)
            )))
        }
        None => return Err(syntax("PATCH request body has no `Operations` array")),
    };
    // NUL / depth in the rest of the message (`schemas`, unknown members).
    for (k, v) in &obj {
        if k.contains('\0') {
            return Err(DialectError::new(
                ErrorKind::InvalidValue,
                format!(
                    "member name `{}` of the PATCH body contains a NUL character (U+0000)",
                    show(k)
                ),
            ));
        }
        scan(v, &show(k))?;
    }

    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        out.push(normalize_op(kind, i, item)?);
    }
    Ok(out)
}

/// Coerce a single value about to be stored at attribute `attr` (canonical name such as
/// `"active"`, `"primary"`, `"emails"`, or a path such as `"emails[type eq \"work\"].primary"`,
/// optionally prefixed with the core User URN): `"true"`/`"false"` in any case become booleans
/// for `active` and `primary`; for a multi-valued attribute with `primary` (`emails`, …) the
/// `primary` of each element is coerced. Anything else is returned unchanged.
pub fn coerce_value(attr: &str, value: Value) -> Value {
    match classify_user(attr, false) {
        Target::Bool => coerce_bool(value),
        Target::MultiValued { .. } => {
            let mut v = value;
            coerce_primary_in(&mut v);
            v
        }
        _ => {
            // A bare sub-attribute name, e.g. "primary" handed over after path resolution.
            if attr.trim().eq_ignore_ascii_case("primary") {
                coerce_bool(value)
            } else {
                value
            }
        }
    }
}

fn syntax(detail: impl Into<String>) -> DialectError {
    DialectError::new(ErrorKind::InvalidSyntax, detail)
}

fn check_schemas(obj: &Map<String, Value>) -> Result<(), DialectError> {
    let Some(key) = key_ci(obj, "schemas") else {
        return Ok(());
    };
    let is_patch_urn =
        |v: &Value| matches!(v, Value::String(s) if s.trim().eq_ignore_ascii_case(PATCH_OP_URN));
    match obj.get(&key) {
        None | Some(Value::Null) => Ok(()),
        Some(v @ Value::String(s)) => {
            if is_patch_urn(v) {
                Ok(())
            } else {
                Err(syntax(format!(
                    "`schemas` of a PATCH request must contain \"{PATCH_OP_URN}\", got \"{}\"",
                    show(s)
                )))
            }
        }
        Some(Value::Array(items)) => {
            if items.is_empty() || items.iter().any(is_patch_urn) {
                Ok(())
            } else {
                let listed: Vec<String> = items
                    .iter()
                    .take(4)
                    .map(|v| match v {
                        Value::String(s) => format!("\"{}\"", show(s)),
                        other => describe(other).to_string(),
                    })
                    .collect();
                Err(syntax(format!(
                    "`schemas` of a PATCH request must contain \"{PATCH_OP_URN}\", got [{}]",
                    listed.join(", ")
                )))
            }
        }
        Some(other) => Err(syntax(format!(
            "`schemas` of a PATCH request must be an array of URNs, got {}",
            describe(other)
        ))),
    }
}

/// Remove and return the member named `name` (case-insensitive).
fn take_ci(m: &mut Map<String, Value>, name: &str) -> Option<Value> {
    let key = key_ci(m, name)?;
    m.shift_remove(&key)
}

fn parse_op(s: &str) -> Option<OpKind> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("add") {
        Some(OpKind::Add)
    } else if t.eq_ignore_ascii_case("replace") {
        Some(OpKind::Replace)
    } else if t.eq_ignore_ascii_case("remove") {
        Some(OpKind::Remove)
    } else {
        None
    }
}

fn normalize_op(kind: ResourceKind, i: usize, item: Value) -> Result<PatchOp, DialectError> {
    let at = format!("Operations[{i}]");
    let mut m = match item {
        Value::Object(m) => m,
        other => {
            return Err(syntax(format!(
                "{at} must be a JSON object, got {}",
                describe(&other)
            )))
        }
    };

    let op = match take_ci(&mut m, "op") {
        None | Some(Value::Null) => {
            return Err(syntax(format!(
                "{at} has no `op` (expected \"add\", \"replace\" or \"remove\")"
            )))
        }
        Some(Value::String(s)) => parse_op(&s).ok_or_else(|| {
            syntax(format!(
                "unsupported PATCH op \"{}\" in {at}: expected \"add\", \"replace\" or \"remove\"",
                show(&s)
            ))
        })?,
        Some(other) => {
            return Err(syntax(format!(
                "{at}.op must be a string, got {}",
                describe(&other)
            )))
        }
    };

    let path = match take_ci(&mut m, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => {
            if s.contains('\0') {
                return Err(DialectError::new(
                    ErrorKind::InvalidPath,
                    format!("{at}.path contains a NUL character (U+0000)"),
                ));
            }
            let t = s.trim();
            if t.is_empty() {
                None
            } else {
                Some(t.to_string())
            }
        }
        Some(other) => {
            return Err(DialectError::new(
                ErrorKind::InvalidPath,
                format!("{at}.path must be a string, got {}", describe(&other)),
            ))
        }
    };

    let value = take_ci(&mut m, "value");
    if let Some(v) = &value {
        scan(v, &format!("{at}.value"))?;
    }
    for (k, v) in &m {
        if k.contains('\0') {
            return Err(DialectError::new(
                ErrorKind::InvalidValue,
                format!(
                    "member name `{}` of {at} contains a NUL character (U+0000)",
                    show(k)
                ),
            ));
        }
        scan(v, &format!("{at}.{}", show(k)))?;
    }

    let describe_target = |path: &Option<String>| match path {
        Some(p) => format!(" (path \"{}\")", show(p)),
        None => String::new(),
    };

    match (op, path, value) {
        // RFC 7644 §3.5.2.2: "If "path" is unspecified, the operation fails with … "noTarget"".
        (OpKind::Remove, None, _) => Err(DialectError::new(
            ErrorKind::NoTarget,
            format!("remove operation {at} has no path (RFC 7644 §3.5.2.2)"),
        )),
        (OpKind::Add | OpKind::Replace, path, None) => Err(DialectError::new(
            ErrorKind::InvalidValue,
            format!(
                "{} operation {at}{} has no value",
                op.as_str(),
                describe_target(&path)
            ),
        )),
        (OpKind::Replace, Some(path), Some(Value::Null)) => {
            // null = unassigned (RFC 7643 §2.5): clearing the attribute.
            Ok(targeted(kind, OpKind::Remove, path, None))
        }
        (OpKind::Add | OpKind::Replace, None, Some(Value::Null)) => Err(DialectError::new(
            ErrorKind::InvalidValue,
            format!(
                "{} operation {at} has no path and a null value",
                op.as_str()
            ),
        )),
        (OpKind::Add, Some(path), Some(Value::Null)) => Err(DialectError::new(
            ErrorKind::InvalidValue,
            format!(
                "add operation {at} (path \"{}\") has a null value",
                show(&path)
            ),
        )),
        (op, Some(path), value) => {
            let value = value.filter(|v| !v.is_null());
            Ok(targeted(kind, op, path, value))
        }
        (op, None, Some(value)) => {
            let Value::Object(map) = value else {
                return Err(DialectError::new(
                    ErrorKind::InvalidValue,
                    format!(
                        "{} operation {at} has no path, so its value must be an object of attribute \
                         paths to values (RFC 7644 §3.5.2.1), got {}",
                        op.as_str(),
                        describe(&value)
                    ),
                ));
            };
            let mut v = Value::Object(pathless(kind, map));
            strip_null_refs(&mut v, false);
            Ok(PatchOp {
                op,
                path: None,
                value: Some(v),
            })
        }
    }
}

/// An operation with a path: rewrite the legacy manager path, normalize the value for what the
/// path targets, and turn an add/replace of "no manager" into a remove.
fn targeted(kind: ResourceKind, op: OpKind, path: String, value: Option<Value>) -> PatchOp {
    let mut path = path;
    if kind == ResourceKind::User && entra::is_legacy_manager_path(&path) {
        let legacy_shape = match &value {
            None => op == OpKind::Remove,
            Some(Value::Array(items)) => matches!(
                items.first(),
                Some(Value::Object(_)) | Some(Value::String(_))
            ),
            Some(_) => false,
        };
        if legacy_shape {
            // ENTRA-MANAGER-STRING: Microsoft's older sample `path: "manager"`.
            path = entra::ENTERPRISE_MANAGER_PATH.to_string();
        }
    }
    let target = match kind {
        ResourceKind::User => classify_user(&path, true),
        ResourceKind::Group => classify_group(&path, true),
    };
    let (op, value) = match value {
        None => (op, None),
        Some(v) => match apply(kind, target, v) {
            Some(mut v) => {
                strip_null_refs(&mut v, false);
                (op, Some(v))
            }
            // Only the manager yields None: an empty id means "no manager".
            None => (OpKind::Remove, None),
        },
    };
    PatchOp {
        op,
        path: Some(path),
        value,
    }
}

/// A path-less value object: each key is a path (kept as is); each value is normalized for the
/// attribute its key targets.
fn pathless(kind: ResourceKind, map: Map<String, Value>) -> Map<String, Value> {
    map.into_iter()
        .map(|(k, v)| {
            let target = match kind {
                ResourceKind::User => classify_user(&k, true),
                ResourceKind::Group => classify_group(&k, true),
            };
            // A manager that normalizes to nothing becomes null: "unassign" (RFC 7643 §2.5).
            let v = apply(kind, target, v).unwrap_or(Value::Null);
            (k, v)
        })
        .collect()
}

/// What a path targets, as far as dialect normalization is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// `active`, or a `primary` sub-attribute: string booleans coerced.
    Bool,
    /// A multi-valued complex attribute with `primary` (`emails`, …); `filtered` when the path
    /// selects one element (`emails[type eq "work"]`).
    MultiValued {
        filtered: bool,
    },
    /// `urn:…:enterprise:2.0:User:manager`.
    Manager,
    /// `urn:…:enterprise:2.0:User` (the whole extension object).
    EnterpriseExt,
    /// The core User/Group URN as a key holding an object of core attributes.
    CoreObject,
    /// Group `members` (unfiltered).
    Members,
    /// One member selected by a filter (`members[value eq "x"]`).
    MemberFiltered,
    Other,
}

fn strip_core_prefix<'a>(path: &'a str, core_urn: &str) -> &'a str {
    strip_prefix_ci(path, core_urn)
        .and_then(|rest| rest.strip_prefix(':'))
        .unwrap_or(path)
}

fn classify_user(path: &str, allow_core_object: bool) -> Target {
    let p = path.trim();
    if entra::is_enterprise_manager_path(p) {
        return Target::Manager;
    }
    if entra::is_enterprise_urn(p) {
        return Target::EnterpriseExt;
    }
    if p.eq_ignore_ascii_case(CORE_USER_URN) {
        return if allow_core_object {
            Target::CoreObject
        } else {
            Target::Other
        };
    }
    let p = strip_core_prefix(p, CORE_USER_URN);
    if starts_with_ci(p, "urn:") {
        return Target::Other;
    }
    let (attr, filter, sub) = split_path(p);
    if let Some(sub) = sub {
        return if sub.trim().eq_ignore_ascii_case("primary") {
            Target::Bool
        } else {
            Target::Other
        };
    }
    if attr.eq_ignore_ascii_case("active") && filter.is_none() {
        return Target::Bool;
    }
    if MULTI_VALUED_WITH_PRIMARY
        .iter()
        .any(|a| a.eq_ignore_ascii_case(attr))
    {
        return Target::MultiValued {
            filtered: filter.is_some(),
        };
    }
    Target::Other
}

fn classify_group(path: &str, allow_core_object: bool) -> Target {
    let p = path.trim();
    if p.eq_ignore_ascii_case(CORE_GROUP_URN) {
        return if allow_core_object {
            Target::CoreObject
        } else {
            Target::Other
        };
    }
    let p = strip_core_prefix(p, CORE_GROUP_URN);
    let (attr, filter, sub) = split_path(p);
    if attr.eq_ignore_ascii_case("members") && sub.is_none() {
        return if filter.is_some() {
            Target::MemberFiltered
        } else {
            Target::Members
        };
    }
    Target::Other
}

/// Normalize `v` for `target`. `None` only for a manager that carries no reference.
fn apply(kind: ResourceKind, target: Target, v: Value) -> Option<Value> {
    match target {
        Target::Bool => Some(coerce_bool(v)),
        Target::MultiValued { filtered } => {
            let mut v = if filtered { v } else { wrap_single_object(v) };
            coerce_primary_in(&mut v);
            Some(v)
        }
        Target::Manager => normalize_manager(v),
        Target::EnterpriseExt => {
            let mut v = v;
            if let Value::Object(ext) = &mut v {
                normalize_manager_in(ext);
            }
            Some(v)
        }
        Target::CoreObject => match v {
            Value::Object(inner) => Some(Value::Object(
                inner
                    .into_iter()
                    .map(|(k, x)| {
                        let t = match kind {
                            ResourceKind::User => classify_user(&k, false),
                            ResourceKind::Group => classify_group(&k, false),
                        };
                        let x = apply(kind, t, x).unwrap_or(Value::Null);
                        (k, x)
                    })
                    .collect(),
            )),
            other => Some(other),
        },
        Target::Members => Some(normalize_members(v)),
        Target::MemberFiltered => match v {
            Value::Object(m) => Some(Value::Object(
                m.into_iter().filter(|(_, x)| !x.is_null()).collect(),
            )),
            other => Some(other),
        },
        Target::Other => Some(v),
    }
}

/// Split an attribute path (without URN) into `(attribute, filter, sub-attribute)`:
/// `emails[type eq "work"].value` → `("emails", Some("type eq \"work\""), Some("value"))`,
/// `name.givenName` → `("name", None, Some("givenName"))`. Quotes inside the filter are honoured.
/// Malformed input yields a best-effort split; it never panics.
pub(crate) fn split_path(p: &str) -> (&str, Option<&str>, Option<&str>) {
    let Some((idx, c)) = p.char_indices().find(|(_, c)| *c == '[' || *c == '.') else {
        return (p, None, None);
    };
    let attr = p.get(..idx).unwrap_or(p);
    let after = p.get(idx + 1..).unwrap_or("");
    if c == '.' {
        return (attr, None, Some(after));
    }
    // Find the closing bracket outside quotes.
    let mut in_quotes = false;
    let mut escaped = false;
    let mut close = None;
    for (j, ch) in after.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match ch {
            '\\' if in_quotes => escaped = true,
            '"' => in_quotes = !in_quotes,
            ']' if !in_quotes => {
                close = Some(j);
                break;
            }
            _ => {}
        }
    }
    let Some(j) = close else {
        return (attr, Some(after), None);
    };
    let filter = after.get(..j).unwrap_or("");
    let rest = after.get(j + 1..).unwrap_or("");
    let sub = rest.strip_prefix('.').filter(|s| !s.is_empty());
    (attr, Some(filter), sub)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    const DT: DirectoryType = DirectoryType::Generic;

    fn user(body: Value) -> Result<Vec<PatchOp>, DialectError> {
        normalize_patch(DT, ResourceKind::User, body)
    }
    fn group(body: Value) -> Result<Vec<PatchOp>, DialectError> {
        normalize_patch(DT, ResourceKind::Group, body)
    }
    fn ops(list: Value) -> Value {
        json!({"schemas": [PATCH_OP_URN], "Operations": list})
    }
    fn err(body: Value) -> DialectError {
        user(body).unwrap_err()
    }

    // generic_rfc7644.json PATCH /Users (add emails, filtered replace, remove name.formatted)
    #[test]
    fn generic_trace_patch_passes() {
        let got = user(ops(json!([
            {"op": "add", "path": "emails", "value": [{"value": "babs@jensen.org", "type": "home"}]},
            {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "barbara@example.com"},
            {"op": "remove", "path": "name.formatted"}
        ])))
        .unwrap();
        assert_eq!(
            got,
            vec![
                PatchOp {
                    op: OpKind::Add,
                    path: Some("emails".into()),
                    value: Some(json!([{"value": "babs@jensen.org", "type": "home"}]))
                },
                PatchOp {
                    op: OpKind::Replace,
                    path: Some("emails[type eq \"work\"].value".into()),
                    value: Some(json!("barbara@example.com"))
                },
                PatchOp {
                    op: OpKind::Remove,
                    path: Some("name.formatted".into()),
                    value: None
                }
            ]
        );
    }

    // IDP-QUIRKS REJECT (generic_rfc7644.json "invalid PATCH op must be rejected")
    #[test]
    fn unknown_op_rejected_naming_it() {
        for op in ["delete", "frobnicate", "", "ADDD", "move", "copy", "test"] {
            let e = err(ops(json!([{"op": op, "path": "title"}])));
            assert_eq!(e.kind, ErrorKind::InvalidSyntax, "{op}");
            assert!(e.detail.contains(&format!("\"{op}\"")), "{}", e.detail);
            assert!(e.detail.contains("Operations[0]"), "{}", e.detail);
        }
    }

    #[test]
    fn op_must_be_present_and_a_string() {
        let e = err(ops(json!([{"path": "title", "value": "x"}])));
        assert_eq!(e.kind, ErrorKind::InvalidSyntax);
        assert!(e.detail.contains("no `op`"), "{}", e.detail);
        let e = err(ops(json!([{"op": 1, "path": "title", "value": "x"}])));
        assert_eq!(e.kind, ErrorKind::InvalidSyntax);
        assert!(e.detail.contains("a number"), "{}", e.detail);
    }

    #[test]
    fn body_must_be_object() {
        for b in [json!([]), json!("x"), json!(null), json!(3)] {
            assert_eq!(err(b).kind, ErrorKind::InvalidSyntax);
        }
    }

    #[test]
    fn operations_must_be_non_empty_array_of_objects() {
        let e = err(json!({"schemas": [PATCH_OP_URN]}));
        assert_eq!(e.kind, ErrorKind::InvalidSyntax);
        assert!(e.detail.contains("Operations"), "{}", e.detail);
        let e = err(ops(json!([])));
        assert_eq!(e.kind, ErrorKind::InvalidSyntax);
        assert!(e.detail.contains("empty"), "{}", e.detail);
        let e = err(ops(json!({"op": "replace", "path": "title", "value": "x"})));
        assert_eq!(e.kind, ErrorKind::InvalidSyntax);
        assert!(e.detail.contains("an object"), "{}", e.detail);
        let e = err(ops(json!("replace")));
        assert_eq!(e.kind, ErrorKind::InvalidSyntax);
        let e = err(ops(json!(null)));
        assert_eq!(e.kind, ErrorKind::InvalidSyntax);
        let e = err(ops(
            json!([{"op": "replace", "path": "title", "value": "x"}, "remove"]),
        ));
        assert_eq!(e.kind, ErrorKind::InvalidSyntax);
        assert!(e.detail.contains("Operations[1]"), "{}", e.detail);
    }

    #[test]
    fn operations_key_any_case() {
        for key in ["Operations", "operations", "OPERATIONS"] {
            let got =
                user(json!({key: [{"op": "replace", "path": "title", "value": "x"}]})).unwrap();
            assert_eq!(got.len(), 1, "{key}");
        }
    }

    #[test]
    fn op_member_names_any_case() {
        let got = user(ops(
            json!([{"Op": "Replace", "Path": "active", "Value": "False"}]),
        ))
        .unwrap();
        assert_eq!(
            got,
            vec![PatchOp {
                op: OpKind::Replace,
                path: Some("active".into()),
                value: Some(json!(false))
            }]
        );
    }

    #[test]
    fn schemas_tolerated_absent_or_any_case_rejected_when_foreign() {
        let list = json!([{"op": "replace", "path": "title", "value": "x"}]);
        assert!(user(json!({"Operations": list.clone()})).is_ok());
        assert!(user(json!({"schemas": null, "Operations": list.clone()})).is_ok());
        assert!(user(json!({"schemas": [], "Operations": list.clone()})).is_ok());
        assert!(user(json!({"schemas": ["URN:IETF:PARAMS:SCIM:API:MESSAGES:2.0:PATCHOP"], "Operations": list.clone()})).is_ok());
        assert!(user(json!({"Schemas": PATCH_OP_URN, "Operations": list.clone()})).is_ok());
        assert!(user(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", PATCH_OP_URN], "Operations": list.clone()})).is_ok());
        for bad in [
            json!(["urn:ietf:params:scim:schemas:core:2.0:User"]),
            json!("urn:ietf:params:scim:api:messages:2.0:ListResponse"),
            json!([1]),
            json!(7),
            json!({}),
        ] {
            let e = user(json!({"schemas": bad.clone(), "Operations": list.clone()})).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidSyntax, "{bad}");
            assert!(e.detail.contains("schemas"), "{}", e.detail);
        }
    }

    // RFC 7644 §3.5.2.2 (IDP-QUIRKS REJECT row): remove without path → noTarget.
    #[test]
    fn remove_without_path_is_no_target() {
        for op in [
            json!({"op": "remove"}),
            json!({"op": "Remove", "path": ""}),
            json!({"op": "remove", "path": "   "}),
            json!({"op": "remove", "path": null}),
            json!({"op": "remove", "value": [{"value": "u1"}]}),
        ] {
            let e = group(ops(json!([op.clone()]))).unwrap_err();
            assert_eq!(e.kind, ErrorKind::NoTarget, "{op}");
        }
    }

    #[test]
    fn add_or_replace_without_value_is_invalid_value() {
        for op in [
            json!({"op": "add", "path": "title"}),
            json!({"op": "replace", "path": "title"}),
            json!({"op": "replace"}),
            json!({"op": "add", "path": "title", "value": null}),
            json!({"op": "replace", "value": null}),
        ] {
            let e = err(ops(json!([op.clone()])));
            assert_eq!(e.kind, ErrorKind::InvalidValue, "{op}");
            assert!(e.detail.contains("Operations[0]"), "{}", e.detail);
        }
    }

    #[test]
    fn replace_with_null_value_is_a_remove() {
        let got = user(ops(
            json!([{"op": "replace", "path": "title", "value": null}]),
        ))
        .unwrap();
        assert_eq!(
            got,
            vec![PatchOp {
                op: OpKind::Remove,
                path: Some("title".into()),
                value: None
            }]
        );
    }

    #[test]
    fn pathless_value_must_be_object() {
        for v in [
            json!("x"),
            json!([{"active": false}]),
            json!(false),
            json!(1),
        ] {
            let e = err(ops(json!([{"op": "replace", "value": v.clone()}])));
            assert_eq!(e.kind, ErrorKind::InvalidValue, "{v}");
            assert!(e.detail.contains("no path"), "{}", e.detail);
        }
    }

    #[test]
    fn path_must_be_string_without_nul() {
        let e = err(ops(json!([{"op": "replace", "path": 3, "value": "x"}])));
        assert_eq!(e.kind, ErrorKind::InvalidPath);
        let e = err(ops(
            json!([{"op": "replace", "path": "ti\u{0}tle", "value": "x"}]),
        ));
        assert_eq!(e.kind, ErrorKind::InvalidPath);
        assert!(e.detail.contains("Operations[0].path"), "{}", e.detail);
        let e = err(ops(json!([{"op": "remove", "path": "\u{0}"}])));
        assert_eq!(e.kind, ErrorKind::InvalidPath);
    }

    #[test]
    fn nul_in_values_rejected_naming_the_attribute() {
        let e = err(ops(
            json!([{"op": "replace", "path": "title", "value": "a\u{0}"}]),
        ));
        assert_eq!(e.kind, ErrorKind::InvalidValue);
        assert!(e.detail.contains("Operations[0].value"), "{}", e.detail);
        let e = err(ops(
            json!([{"op": "replace", "value": {"name.givenName": "\u{0}"}}]),
        ));
        assert_eq!(e.kind, ErrorKind::InvalidValue);
        assert!(
            e.detail.contains("Operations[0].value.name.givenName"),
            "{}",
            e.detail
        );
        let e = err(ops(json!([{"op": "replace", "value": {"na\u{0}me": "x"}}])));
        assert_eq!(e.kind, ErrorKind::InvalidValue);
        let e = err(
            json!({"schemas": [PATCH_OP_URN, "x\u{0}"], "Operations": [{"op": "remove", "path": "title"}]}),
        );
        assert_eq!(e.kind, ErrorKind::InvalidValue);
        let e = err(ops(
            json!([{"op": "remove", "path": "title", "extra": "\u{0}"}]),
        ));
        assert_eq!(e.kind, ErrorKind::InvalidValue);
        let e = group(ops(
            json!([{"op": "add", "path": "members", "value": [{"value": "\u{0}"}]}]),
        ))
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidValue);
    }

    #[test]
    fn paths_are_trimmed_and_kept_verbatim_otherwise() {
        let got = user(ops(
            json!([{"op": "replace", "path": " Name.GivenName ", "value": "x"}]),
        ))
        .unwrap();
        assert_eq!(got[0].path.as_deref(), Some("Name.GivenName"));
    }

    #[test]
    fn multi_valued_values_coerced_and_wrapped() {
        let got = user(ops(json!([
            {"op": "add", "path": "emails", "value": {"value": "a@b", "primary": "TRUE"}},
            {"op": "replace", "path": "phoneNumbers[type eq \"work\"]", "value": {"value": "+1", "primary": "false"}},
            {"op": "replace", "path": "emails.primary", "value": "true"},
            {"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:emails", "value": [{"value": "c", "primary": "True"}]}
        ])))
        .unwrap();
        assert_eq!(
            got[0].value,
            Some(json!([{"value": "a@b", "primary": true}]))
        );
        assert_eq!(got[1].value, Some(json!({"value": "+1", "primary": false})));
        assert_eq!(got[2].value, Some(json!(true)));
        assert_eq!(got[3].value, Some(json!([{"value": "c", "primary": true}])));
    }

    #[test]
    fn string_booleans_not_coerced_elsewhere() {
        let got = user(ops(json!([
            {"op": "replace", "path": "title", "value": "True"},
            {"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "false"},
            {"op": "replace", "path": "active.value", "value": "true"}
        ])))
        .unwrap();
        assert_eq!(got[0].value, Some(json!("True")));
        assert_eq!(got[1].value, Some(json!("false")));
        assert_eq!(got[2].value, Some(json!("true")));
    }

    #[test]
    fn group_kind_does_not_coerce_user_attributes() {
        let got = group(ops(
            json!([{"op": "replace", "path": "active", "value": "False"}]),
        ))
        .unwrap();
        assert_eq!(got[0].value, Some(json!("False")));
        let got = group(ops(
            json!([{"op": "add", "path": "manager", "value": [{"value": "m"}]}]),
        ))
        .unwrap();
        assert_eq!(got[0].path.as_deref(), Some("manager"));
    }

    #[test]
    fn user_kind_does_not_touch_members() {
        let got = user(ops(
            json!([{"op": "add", "path": "members", "value": "u1"}]),
        ))
        .unwrap();
        assert_eq!(got[0].value, Some(json!("u1")));
    }

    #[test]
    fn group_member_shapes() {
        let got = group(ops(json!([
            {"op": "add", "path": "members", "value": {"value": "u1", "$ref": null}},
            {"op": "add", "path": "members", "value": "u2"},
            {"op": "add", "path": "members", "value": ["u3", {"value": "u4", "display": null}, null]},
            {"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:Group:members", "value": []},
            {"op": "replace", "path": "members[value eq \"u1\"]", "value": {"value": "u1", "$ref": null}},
            {"op": "replace", "value": {"members": "u5", "displayName": "g"}},
            {"op": "replace", "value": {"urn:ietf:params:scim:schemas:core:2.0:Group": {"members": {"value": "u6"}}}}
        ])))
        .unwrap();
        assert_eq!(got[0].value, Some(json!([{"value": "u1"}])));
        assert_eq!(got[1].value, Some(json!([{"value": "u2"}])));
        assert_eq!(
            got[2].value,
            Some(json!([{"value": "u3"}, {"value": "u4"}]))
        );
        assert_eq!(got[3].value, Some(json!([])));
        assert_eq!(got[4].value, Some(json!({"value": "u1"})));
        assert_eq!(
            got[5].value,
            Some(json!({"members": [{"value": "u5"}], "displayName": "g"}))
        );
        assert_eq!(
            got[6].value,
            Some(
                json!({"urn:ietf:params:scim:schemas:core:2.0:Group": {"members": [{"value": "u6"}]}})
            )
        );
    }

    #[test]
    fn pathless_core_urn_object_coerced() {
        let got = user(ops(json!([{"op": "replace", "value": {
            "urn:ietf:params:scim:schemas:core:2.0:User": {"active": "False", "emails": {"value": "x", "primary": "true"}}
        }}])))
        .unwrap();
        assert_eq!(
            got[0].value,
            Some(
                json!({"urn:ietf:params:scim:schemas:core:2.0:User": {"active": false, "emails": [{"value": "x", "primary": true}]}})
            )
        );
    }

    #[test]
    fn pathless_empty_manager_becomes_null() {
        let got = user(ops(json!([{"op": "replace", "value": {
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager": ""
        }}])))
        .unwrap();
        assert_eq!(
            got[0].value,
            Some(
                json!({"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager": null})
            )
        );
    }

    #[test]
    fn pathless_nulls_other_than_ref_kept() {
        let got = user(ops(json!([{"op": "replace", "value": {"title": null, "name": {"givenName": null, "$ref": null}}}]))).unwrap();
        assert_eq!(
            got[0].value,
            Some(json!({"title": null, "name": {"givenName": null}}))
        );
    }

    #[test]
    fn coerce_value_rules() {
        assert_eq!(coerce_value("active", json!("False")), json!(false));
        assert_eq!(coerce_value("Active", json!("TRUE")), json!(true));
        assert_eq!(coerce_value("primary", json!("true")), json!(true));
        assert_eq!(coerce_value("emails.primary", json!("false")), json!(false));
        assert_eq!(
            coerce_value(
                "urn:ietf:params:scim:schemas:core:2.0:User:active",
                json!("false")
            ),
            json!(false)
        );
        assert_eq!(
            coerce_value("emails", json!([{"value": "a", "primary": "True"}])),
            json!([{"value": "a", "primary": true}])
        );
        assert_eq!(coerce_value("title", json!("true")), json!("true"));
        assert_eq!(coerce_value("active", json!("yes")), json!("yes"));
        assert_eq!(coerce_value("active", json!(1)), json!(1));
        assert_eq!(coerce_value("", json!("true")), json!("true"));
    }

    #[test]
    fn split_path_shapes() {
        assert_eq!(split_path("title"), ("title", None, None));
        assert_eq!(
            split_path("name.givenName"),
            ("name", None, Some("givenName"))
        );
        assert_eq!(
            split_path("emails[type eq \"work\"].value"),
            ("emails", Some("type eq \"work\""), Some("value"))
        );
        assert_eq!(
            split_path("members[value eq \"a].b\"]"),
            ("members", Some("value eq \"a].b\""), None)
        );
        assert_eq!(split_path("x[unclosed"), ("x", Some("unclosed"), None));
        assert_eq!(split_path("é[ü].ö"), ("é", Some("ü"), Some("ö")));
        assert_eq!(split_path(""), ("", None, None));
        assert_eq!(split_path("a[\"\\\"]\"]"), ("a", Some("\"\\\"]\""), None));
    }
}
