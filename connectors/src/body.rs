//! POST/PUT bodies: make an IdP's User/Group document RFC 7643-shaped (still JSON).
//!
//! The tolerances apply to every directory type: each one only rewrites a shape that is invalid
//! under RFC 7643 into the meaning its sender intended, so applying it to a dialect that never
//! produces the shape is a no-op. (A "generic" directory is often a real IdP in disguise.)

use serde_json::{Map, Value};

use crate::json::{
    coerce_key_bool, coerce_primary_in, describe, get_ci, key_ci, remove_ci, scan, starts_with_ci,
    strip_nulls, wrap_single_object, MULTI_VALUED_WITH_PRIMARY,
};
use crate::{
    entra, onelogin, DialectError, DirectoryType, ErrorKind, CORE_GROUP_URN, CORE_USER_URN,
};

/// Make an incoming POST/PUT User body RFC 7643-shaped, applying every tolerated IdP quirk.
///
/// In order:
/// 1. non-object body → `InvalidSyntax`; NUL anywhere (values or names) → `InvalidValue`;
///    nesting deeper than 64 levels → `InvalidSyntax`;
/// 2. null-valued attributes and null array elements are removed at every level
///    (RFC 7643 §2.5; covers `"id": null` ONELOGIN-TEMPLATE-TYPES and `"$ref": null` ENTRA-REF-NULL);
/// 3. `password` (never stored), readOnly `groups` and `meta` are removed
///    (OKTA-CREATE-PASSWORD-GROUPS);
/// 4. string booleans → booleans for `active` and for `primary` inside the multi-valued
///    complex attributes (ENTRA-STRING-BOOL, ONELOGIN-TEMPLATE-TYPES);
/// 5. a multi-valued complex attribute sent as a single object → one-element array
///    (ONELOGIN-EMAILS-OBJECT); a list without `primary: true` is left as is;
/// 6. the enterprise `manager`: bare string → `{"value": id}` (ENTRA-MANAGER-STRING),
///    `managerId` → `value` (ONELOGIN-TEMPLATE-TYPES), `[{"$ref","value"}]` → first element;
///    an empty manager id removes the manager;
/// 7. extension objects (top-level `urn:…` keys holding an object) missing from `schemas` are
///    added to it (ONELOGIN-TEMPLATE-TYPES); when `schemas` is absent it becomes
///    `[core User URN, extensions…]`; a string `schemas` becomes a one-element array.
///
/// Attribute names are matched case-insensitively; unknown attributes (including an
/// un-namespaced enterprise attribute such as a top-level `department`) are left alone.
pub fn normalize_user_body(dt: DirectoryType, body: Value) -> Result<Value, DialectError> {
    let _ = dt; // every tolerance is safe for every dialect (module docs)
    let mut obj = into_object(body, "User")?;
    scan_object(&obj)?;
    strip_nulls_in(&mut obj);

    // OKTA-CREATE-PASSWORD-GROUPS: never store the password; readOnly attributes are ignored.
    for name in crate::okta::DROPPED_USER_ATTRIBUTES {
        remove_ci(&mut obj, name);
    }

    // ENTRA-STRING-BOOL / ONELOGIN-TEMPLATE-TYPES: "active": "False" / "true".
    coerce_key_bool(&mut obj, "active");

    // ONELOGIN-EMAILS-OBJECT + string `primary` in every multi-valued complex attribute.
    for (k, v) in obj.iter_mut() {
        if MULTI_VALUED_WITH_PRIMARY
            .iter()
            .any(|a| a.eq_ignore_ascii_case(k))
        {
            let taken = std::mem::take(v);
            *v = wrap_single_object(taken);
            coerce_primary_in(v);
        }
    }

    // ENTRA-MANAGER-STRING / ONELOGIN-TEMPLATE-TYPES inside the enterprise extension.
    for (k, v) in obj.iter_mut() {
        if entra::is_enterprise_urn(k) {
            if let Value::Object(ext) = v {
                normalize_manager_in(ext);
            }
        }
    }

    ensure_extension_schemas(&mut obj, CORE_USER_URN);
    Ok(Value::Object(obj))
}

/// Same for Groups.
///
/// 1. non-object → `InvalidSyntax`; NUL → `InvalidValue`; too deep → `InvalidSyntax`;
/// 2. nulls removed at every level (`"id": null`, members' `"$ref": null`, ENTRA-REF-NULL);
/// 3. readOnly `meta` removed;
/// 4. ENTRA-GROUP-SCHEMA: Microsoft's ADSCIM group schema URI is **removed** from `schemas` (it
///    carries no attributes, so nothing is lost; core then sees only URNs it knows);
/// 5. `members` as a single object → one-element array; bare string members → `{"value": s}`;
///    member objects lose their null sub-attributes.
pub fn normalize_group_body(dt: DirectoryType, body: Value) -> Result<Value, DialectError> {
    let _ = dt;
    let mut obj = into_object(body, "Group")?;
    scan_object(&obj)?;
    strip_nulls_in(&mut obj);
    remove_ci(&mut obj, "meta");

    if let Some(key) = key_ci(&obj, "schemas") {
        if let Some(v) = obj.get_mut(&key) {
            if let Value::String(s) = v {
                *v = Value::Array(vec![Value::String(std::mem::take(s))]);
            }
            if let Value::Array(items) = v {
                items
                    .retain(|s| !matches!(s, Value::String(s) if entra::is_adscim_group_schema(s)));
            }
        }
    }

    for (k, v) in obj.iter_mut() {
        if k.eq_ignore_ascii_case("members") {
            let taken = std::mem::take(v);
            *v = normalize_members(taken);
        }
    }

    ensure_extension_schemas(&mut obj, CORE_GROUP_URN);
    Ok(Value::Object(obj))
}

fn into_object(body: Value, what: &str) -> Result<Map<String, Value>, DialectError> {
    match body {
        Value::Object(m) => Ok(m),
        other => Err(DialectError::new(
            ErrorKind::InvalidSyntax,
            format!(
                "{what} request body must be a JSON object, got {}",
                describe(&other)
            ),
        )),
    }
}

fn scan_object(obj: &Map<String, Value>) -> Result<(), DialectError> {
    for (k, v) in obj {
        // Top-level names are checked here, everything below by the value scanner.
        if k.contains('\0') {
            return Err(DialectError::new(
                ErrorKind::InvalidValue,
                format!(
                    "attribute name `{}` contains a NUL character (U+0000)",
                    crate::json::show(k)
                ),
            ));
        }
        scan(v, &crate::json::join_attr("", k))?;
    }
    Ok(())
}

fn strip_nulls_in(obj: &mut Map<String, Value>) {
    obj.retain(|_, v| !v.is_null());
    for v in obj.values_mut() {
        strip_nulls(v);
    }
}

/// Normalize the `manager` member of an enterprise extension object in place (removed when it
/// carries no reference).
pub(crate) fn normalize_manager_in(ext: &mut Map<String, Value>) {
    let Some(key) = key_ci(ext, "manager") else {
        return;
    };
    let Some(v) = ext.get_mut(&key) else {
        return;
    };
    match normalize_manager(std::mem::take(v)) {
        Some(m) => *v = m,
        None => {
            ext.shift_remove(&key);
        }
    }
}

/// One manager value, whatever the dialect: string (ENTRA-MANAGER-STRING), object with
/// `managerId` (ONELOGIN-TEMPLATE-TYPES) or `$ref: null` (ENTRA-REF-NULL), list of one
/// (older Entra sample). `None` = no manager. Numbers and booleans are returned unchanged
/// for core to reject.
pub(crate) fn normalize_manager(v: Value) -> Option<Value> {
    match v {
        Value::Null => None,
        Value::String(s) => entra::manager_from_string(s),
        Value::Object(m) => onelogin::manager_from_object(m),
        Value::Array(items) => entra::manager_from_list(items).and_then(normalize_manager),
        other => Some(other),
    }
}

/// `members` of a Group body or PATCH value: single object → `[object]`; a bare string
/// → `[{"value": s}]`; inside a list, strings → `{"value": s}`, objects lose their null
/// sub-attributes (ENTRA-REF-NULL), null elements are dropped. Other shapes are unchanged.
pub(crate) fn normalize_members(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Array(vec![clean_member(Value::Object(m))]),
        Value::String(s) => Value::Array(vec![member_from_string(s)]),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .filter(|x| !x.is_null())
                .map(clean_member)
                .collect(),
        ),
        other => other,
    }
}

fn clean_member(v: Value) -> Value {
    match v {
        Value::String(s) => member_from_string(s),
        Value::Object(m) => Value::Object(m.into_iter().filter(|(_, x)| !x.is_null()).collect()),
        other => other,
    }
}

fn member_from_string(s: String) -> Value {
    let mut m = Map::new();
    m.insert("value".to_string(), Value::String(s));
    Value::Object(m)
}

/// Add every top-level extension URN key (`urn:…` holding an object, other than the core
/// URN) that `schemas` does not list, comparing case-insensitively.
fn ensure_extension_schemas(obj: &mut Map<String, Value>, core_urn: &str) {
    let listed: Vec<String> = match get_ci(obj, "schemas") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    };
    let mut missing: Vec<String> = Vec::new();
    for (k, v) in obj.iter() {
        if starts_with_ci(k, "urn:")
            && v.is_object()
            && !k.eq_ignore_ascii_case(core_urn)
            && !listed.iter().any(|s| s.trim().eq_ignore_ascii_case(k))
            && !missing.iter().any(|s| s.eq_ignore_ascii_case(k))
        {
            missing.push(k.clone());
        }
    }
    if missing.is_empty() {
        // Still turn a string `schemas` into a list.
        if let Some(key) = key_ci(obj, "schemas") {
            if let Some(v) = obj.get_mut(&key) {
                if let Value::String(s) = v {
                    *v = Value::Array(vec![Value::String(std::mem::take(s))]);
                }
            }
        }
        return;
    }
    match key_ci(obj, "schemas") {
        None => {
            let mut list = vec![Value::String(core_urn.to_string())];
            list.extend(missing.into_iter().map(Value::String));
            // Put `schemas` first, as every IdP does.
            let rest = std::mem::take(obj);
            obj.insert("schemas".to_string(), Value::Array(list));
            obj.extend(rest);
        }
        Some(key) => {
            if let Some(v) = obj.get_mut(&key) {
                if let Value::String(s) = v {
                    *v = Value::Array(vec![Value::String(std::mem::take(s))]);
                }
                if let Value::Array(items) = v {
                    items.extend(missing.into_iter().map(Value::String));
                }
                // Any other type is left for core to reject.
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::ENTERPRISE_USER_URN;
    use serde_json::json;

    const DT: DirectoryType = DirectoryType::Generic;

    #[test]
    fn rejects_non_object_bodies() {
        for body in [json!(null), json!([]), json!("x"), json!(1), json!(true)] {
            let e = normalize_user_body(DT, body.clone()).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidSyntax);
            assert!(e.detail.contains("JSON object"), "{}", e.detail);
            let e = normalize_group_body(DT, body).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidSyntax);
        }
    }

    #[test]
    fn rejects_nul_anywhere_in_user_body() {
        for body in [
            json!({"userName": "a\u{0}b"}),
            json!({"name": {"givenName": "\u{0}"}}),
            json!({"emails": [{"value": "a@b\u{0}"}]}),
            json!({"a\u{0}b": "x"}),
            json!({"name": {"x\u{0}": "y"}}),
            json!({ENTERPRISE_USER_URN: {"department": "R\u{0}D"}}),
            // Even in attributes that are dropped afterwards: NUL is never accepted.
            json!({"password": "p\u{0}w"}),
        ] {
            let e = normalize_user_body(DT, body.clone()).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidValue, "{body}");
            assert!(e.detail.contains("NUL"), "{}", e.detail);
        }
        let e = normalize_user_body(DT, json!({"password": "p\u{0}secret"})).unwrap_err();
        assert!(
            !e.detail.contains("secret"),
            "password leaked: {}",
            e.detail
        );
        assert!(e.detail.contains("password"), "{}", e.detail);
    }

    #[test]
    fn rejects_nul_in_group_body() {
        let e = normalize_group_body(DT, json!({"displayName": "G\u{0}"})).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidValue);
        assert!(e.detail.contains("displayName"), "{}", e.detail);
        let e = normalize_group_body(DT, json!({"members": [{"value": "\u{0}"}]})).unwrap_err();
        assert!(e.detail.contains("members[0].value"), "{}", e.detail);
    }

    #[test]
    fn rejects_absurd_nesting() {
        let mut v = json!("x");
        for _ in 0..100 {
            v = json!({"a": v});
        }
        let e = normalize_user_body(DT, json!({"userName": "u", "deep": v})).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidSyntax);
    }

    #[test]
    fn nulls_removed_everywhere() {
        let got = normalize_user_body(
            DT,
            json!({"id": null, "userName": "u", "emails": [null, {"value": "a", "$ref": null}],
                   "x509Certificates": null}),
        )
        .unwrap();
        assert_eq!(got, json!({"userName": "u", "emails": [{"value": "a"}]}));
    }

    #[test]
    fn keys_matched_case_insensitively() {
        let got = normalize_user_body(
            DT,
            json!({"userName": "u", "Active": "FALSE", "Password": "x", "META": {}, "Groups": [],
                   "Emails": {"value": "a", "Primary": "true"}}),
        )
        .unwrap();
        assert_eq!(
            got,
            json!({"userName": "u", "Active": false, "Emails": [{"value": "a", "Primary": true}]})
        );
    }

    #[test]
    fn list_without_primary_left_as_is() {
        let body = json!({"userName": "u", "emails": [{"value": "a", "type": "home"}, {"value": "b", "type": "work"}]});
        assert_eq!(normalize_user_body(DT, body.clone()).unwrap(), body);
    }

    #[test]
    fn unnamespaced_enterprise_attribute_not_moved() {
        let body = json!({"userName": "u", "department": "Sales", "manager": "m1"});
        assert_eq!(normalize_user_body(DT, body.clone()).unwrap(), body);
    }

    #[test]
    fn unknown_extension_listed_in_schemas() {
        let got = normalize_user_body(
            DT,
            json!({"schemas": "urn:ietf:params:scim:schemas:core:2.0:User", "userName": "u",
                   "urn:okta:custom:1.0:User": {"costCenter": "CC1"}}),
        )
        .unwrap();
        assert_eq!(
            got["schemas"],
            json!([
                "urn:ietf:params:scim:schemas:core:2.0:User",
                "urn:okta:custom:1.0:User"
            ])
        );
        // A flat URN-qualified attribute is not an extension object: not listed.
        let got = normalize_user_body(
            DT,
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "u",
                   "urn:okta:custom:1.0:User:costCenter": "CC1"}),
        )
        .unwrap();
        assert_eq!(
            got["schemas"],
            json!(["urn:ietf:params:scim:schemas:core:2.0:User"])
        );
    }

    #[test]
    fn string_schemas_becomes_list() {
        let got = normalize_group_body(
            DT,
            json!({"schemas": "urn:ietf:params:scim:schemas:core:2.0:Group", "displayName": "g"}),
        )
        .unwrap();
        assert_eq!(
            got["schemas"],
            json!(["urn:ietf:params:scim:schemas:core:2.0:Group"])
        );
    }

    #[test]
    fn schemas_of_wrong_type_left_for_core() {
        let body = json!({"schemas": 5, "userName": "u", ENTERPRISE_USER_URN: {"department": "d"}});
        let got = normalize_user_body(DT, body).unwrap();
        assert_eq!(got["schemas"], json!(5));
    }

    #[test]
    fn group_members_shapes() {
        let got = normalize_group_body(
            DT,
            json!({"displayName": "g", "members": {"value": "u1", "$ref": null}}),
        )
        .unwrap();
        assert_eq!(got["members"], json!([{"value": "u1"}]));
        let got = normalize_group_body(DT, json!({"displayName": "g", "members": "u1"})).unwrap();
        assert_eq!(got["members"], json!([{"value": "u1"}]));
        let got = normalize_group_body(
            DT,
            json!({"displayName": "g", "members": ["u1", {"value": "u2", "display": null}, null, 7]}),
        )
        .unwrap();
        assert_eq!(got["members"], json!([{"value": "u1"}, {"value": "u2"}, 7]));
        // Empty list kept (distinct from absent: NOPATH-REPLACE-MEMBERS-WIPE / GROUP-PUT-REPLACE).
        let got = normalize_group_body(DT, json!({"displayName": "g", "members": []})).unwrap();
        assert_eq!(got["members"], json!([]));
        // Null members = unassigned = absent.
        let got = normalize_group_body(DT, json!({"displayName": "g", "members": null})).unwrap();
        assert!(got.get("members").is_none());
    }

    #[test]
    fn group_id_and_meta() {
        let got = normalize_group_body(
            DT,
            json!({"id": null, "displayName": "g", "meta": {"resourceType": "Group"}}),
        )
        .unwrap();
        assert_eq!(got, json!({"displayName": "g"}));
        // A non-null id is kept: core compares it with the URL id (REJECT row).
        let got = normalize_group_body(DT, json!({"id": "g1", "displayName": "g"})).unwrap();
        assert_eq!(got["id"], json!("g1"));
    }

    #[test]
    fn manager_shapes() {
        assert_eq!(normalize_manager(json!(null)), None);
        assert_eq!(normalize_manager(json!("")), None);
        assert_eq!(normalize_manager(json!("m")), Some(json!({"value": "m"})));
        assert_eq!(
            normalize_manager(json!([{"$ref": "x", "value": "m"}])),
            Some(json!({"value": "m"}))
        );
        assert_eq!(normalize_manager(json!([])), None);
        assert_eq!(normalize_manager(json!(5)), Some(json!(5)));
        assert_eq!(
            normalize_manager(json!({"value": "m", "$ref": null})),
            Some(json!({"value": "m"}))
        );
    }
}
