//! Which tolerated IdP quirks (the "Tolerate" rows of IDP-QUIRKS.md) a request body
//! shows, as notes for the sync health an operator and the customer's IT admin read:
//! "Your identity provider sent `active` as the text "False" instead of a boolean;
//! accepted as false." The body is accepted either way (`normalize_*_body`,
//! `patch`); this only names what was tolerated.
//!
//! It looks at the top level of a User/Group body, its enterprise extension, and each
//! PATCH operation's `op`, `path` and top-level `value` keys: a few map lookups per
//! request, cheap enough for every SCIM write.

use serde_json::{Map, Value};

use crate::json::{get_ci, parse_bool_str, MULTI_VALUED_WITH_PRIMARY};

/// A tolerated quirk: its IDP-QUIRKS id, and what it means in plain language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tolerated {
    pub code: &'static str,
    pub note: String,
}

/// PATCH operations looked at (an IdP's PATCH rarely has more; the rest go unnamed).
const MAX_OPS: usize = 100;

/// The quirks `body` (a User or Group resource, or a PATCH request) shows, each once.
pub fn tolerated(body: &Value) -> Vec<Tolerated> {
    let mut out = Vec::new();
    let Value::Object(obj) = body else {
        return out;
    };
    match get_ci(obj, "Operations") {
        Some(Value::Array(ops)) => {
            for op in ops.iter().take(MAX_OPS) {
                if let Value::Object(op) = op {
                    in_operation(op, &mut out);
                }
            }
        }
        _ => in_resource(obj, &mut out),
    }
    out
}

fn push(out: &mut Vec<Tolerated>, code: &'static str, note: String) {
    if !out.iter().any(|t| t.code == code) {
        out.push(Tolerated { code, note });
    }
}

/// ENTRA-STRING-BOOL: `active` as a string that reads as a boolean.
fn string_active(v: &Value, out: &mut Vec<Tolerated>) {
    if let Value::String(s) = v {
        if let Some(b) = parse_bool_str(s) {
            push(
                out,
                "ENTRA-STRING-BOOL",
                format!(
                    "Your identity provider sent `active` as the text \"{}\" instead of a boolean; accepted as {b}.",
                    s.chars().take(16).collect::<String>()
                ),
            );
        }
    }
}

/// ENTRA-MANAGER-STRING: the enterprise manager as a bare id.
fn string_manager(v: &Value, out: &mut Vec<Tolerated>) {
    if matches!(v, Value::String(s) if !s.is_empty()) {
        push(
            out,
            "ENTRA-MANAGER-STRING",
            "Your identity provider sent the manager as a bare id instead of {\"value\": id}; accepted.".into(),
        );
    }
}

fn in_resource(obj: &Map<String, Value>, out: &mut Vec<Tolerated>) {
    for (k, v) in obj {
        if k.eq_ignore_ascii_case("active") {
            string_active(v, out);
        } else if k.eq_ignore_ascii_case("password") {
            // OKTA-CREATE-PASSWORD-GROUPS
            push(
                out,
                "OKTA-CREATE-PASSWORD-GROUPS",
                "Your identity provider sent a password; it is ignored and never stored.".into(),
            );
        } else if v.is_object()
            && MULTI_VALUED_WITH_PRIMARY
                .iter()
                .any(|a| a.eq_ignore_ascii_case(k))
        {
            // ONELOGIN-EMAILS-OBJECT
            push(
                out,
                "ONELOGIN-EMAILS-OBJECT",
                format!(
                    "Your identity provider sent `{k}` as one object instead of a list; accepted as a list of one."
                ),
            );
        } else if crate::entra::is_enterprise_urn(k) {
            if let Value::Object(ext) = v {
                if let Some(m) = get_ci(ext, "manager") {
                    string_manager(m, out);
                }
            }
        }
    }
}

fn in_operation(op: &Map<String, Value>, out: &mut Vec<Tolerated>) {
    if let Some(Value::String(name)) = get_ci(op, "op") {
        let lower = name.to_ascii_lowercase();
        if name != &lower && matches!(lower.as_str(), "add" | "replace" | "remove") {
            // ENTRA-OP-CASE
            push(
                out,
                "ENTRA-OP-CASE",
                format!(
                    "Your identity provider sent the PATCH operation \"{name}\" with capitals; accepted as \"{lower}\"."
                ),
            );
        }
    }
    let value = get_ci(op, "value");
    match get_ci(op, "path") {
        Some(Value::String(path)) => {
            let p = path.trim();
            if p.eq_ignore_ascii_case("active") {
                if let Some(v) = value {
                    string_active(v, out);
                }
            } else if p
                .len()
                .checked_sub(8)
                .and_then(|at| p.get(at..))
                .is_some_and(|end| end.eq_ignore_ascii_case(":manager"))
            {
                if let Some(v) = value {
                    string_manager(v, out);
                }
            }
        }
        // a path-less operation: its value's keys are the attributes
        _ => {
            if let Some(Value::Object(v)) = value {
                in_resource(v, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn codes(body: Value) -> Vec<&'static str> {
        tolerated(&body).into_iter().map(|t| t.code).collect()
    }

    #[test]
    fn names_each_tolerated_quirk_once() {
        // IDP-QUIRKS ENTRA-STRING-BOOL + ENTRA-OP-CASE: Entra's deactivation
        let t = tolerated(
            &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "Replace", "path": "active", "value": "False"},
                           {"op": "Replace", "path": "displayName", "value": "x"}]}),
        );
        assert_eq!(t.len(), 2, "{t:?}");
        assert_eq!(t[0].code, "ENTRA-OP-CASE");
        assert_eq!(t[1].code, "ENTRA-STRING-BOOL");
        assert!(
            t[1].note.contains("\"False\"") && t[1].note.contains("accepted as false"),
            "{}",
            t[1].note
        );
        // path-less, value keys
        assert_eq!(
            codes(json!({"Operations": [{"op": "replace", "value": {"active": "true"}}]})),
            ["ENTRA-STRING-BOOL"]
        );
        // ENTRA-MANAGER-STRING
        assert_eq!(
            codes(json!({"Operations": [{"op": "add",
                "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "42"}]})),
            ["ENTRA-MANAGER-STRING"]
        );
        // OKTA-CREATE-PASSWORD-GROUPS, ONELOGIN-EMAILS-OBJECT, manager string in a body
        assert_eq!(
            codes(json!({"userName": "a", "password": "x", "active": "TRUE",
                "emails": {"value": "a@b.c"},
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": "7"}})),
            [
                "OKTA-CREATE-PASSWORD-GROUPS",
                "ENTRA-STRING-BOOL",
                "ONELOGIN-EMAILS-OBJECT",
                "ENTRA-MANAGER-STRING"
            ]
        );
    }

    #[test]
    fn rfc_shaped_bodies_name_nothing() {
        assert!(
            codes(json!({"userName": "a", "active": false, "emails": [{"value": "a@b.c"}]}))
                .is_empty()
        );
        assert!(codes(
            json!({"Operations": [{"op": "replace", "path": "active", "value": false}]})
        )
        .is_empty());
        // a string that is no boolean is not tolerated (it is refused elsewhere)
        assert!(codes(json!({"active": "maybe"})).is_empty());
        assert!(codes(json!([1, 2])).is_empty());
        // a multi-byte path end is no panic
        assert!(
            codes(json!({"Operations": [{"op": "add", "path": "é:manageré", "value": "x"}]}))
                .is_empty()
        );
        // an unknown op is not a capitalised one
        assert!(codes(json!({"Operations": [{"op": "Delete", "path": "active"}]})).is_empty());
    }
}
