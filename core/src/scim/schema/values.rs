//! Small helpers on JSON values shared by canonicalization and PATCH: keys matched
//! case-insensitively (RFC 7643 §2.1) within a bound, order-insensitive fingerprints, type errors,
//! identifier lengths and NUL checks.

use serde_json::{Map, Value};

use crate::error::{CoreError, CoreResult};

/// Objects larger than this are only searched by exact key: keeps every lookup bounded, so a body with
/// tens of thousands of keys cannot make canonicalization or PATCH quadratic. Canonical documents store
/// known attributes under their canonical names, which always match exactly.
const CI_SCAN_LIMIT: usize = 1024;

/// The actual key of `map` matching `name` case-insensitively (exact match preferred).
pub(crate) fn key_ci(map: &Map<String, Value>, name: &str) -> Option<String> {
    if map.contains_key(name) {
        return Some(name.to_string());
    }
    if map.len() > CI_SCAN_LIMIT {
        return None;
    }
    map.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()
}

/// `map[name]` with the key matched case-insensitively (exact match preferred; bounded like [`key_ci`]).
pub(crate) fn get_ci<'m>(map: &'m Map<String, Value>, name: &str) -> Option<&'m Value> {
    if let Some(v) = map.get(name) {
        return Some(v);
    }
    if map.len() > CI_SCAN_LIMIT {
        return None;
    }
    map.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// Order-insensitive identity of a JSON value (objects compare as maps, like `Value`'s `PartialEq`),
/// for hash-based duplicate detection.
pub(crate) fn fingerprint(v: &Value) -> String {
    let mut out = String::new();
    write_fingerprint(v, &mut out);
    out
}

fn write_fingerprint(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (k, x) in entries {
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_fingerprint(x, out);
                out.push(',');
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for x in items {
                write_fingerprint(x, out);
                out.push(',');
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// Insert under the existing case-variant of `name` if there is one (keeps its position), else under `name`.
pub(crate) fn set_ci(map: &mut Map<String, Value>, name: &str, value: Value) {
    let key = key_ci(map, name).unwrap_or_else(|| name.to_string());
    map.insert(key, value);
}

pub(crate) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

pub(crate) fn wrong_type(label: &str, expected: &str, got: &Value) -> CoreError {
    CoreError::invalid_value(format!(
        "attribute '{label}' must be {expected}, got {}",
        json_type(got)
    ))
}

pub(super) fn not_an_object(label: &str, got: &Value) -> CoreError {
    wrong_type(label, "an object", got)
}

/// The most bytes of an identifier the database indexes: `userName`, `externalId`, a
/// group's `displayName` (PostgreSQL's btree rows hold at most 2,704 bytes, and
/// lowercasing can grow a string by half). IdPs stay far below: Entra caps a
/// userPrincipalName at 113 characters and a group name at 256.
pub const MAX_IDENTIFIER_BYTES: usize = 1024;

/// Reject an identifier of `doc` longer than [`MAX_IDENTIFIER_BYTES`].
pub(crate) fn check_identifiers(doc: &Map<String, Value>, keys: &[&str]) -> CoreResult<()> {
    for k in keys {
        if let Some(Value::String(s)) = doc.get(*k) {
            if s.len() > MAX_IDENTIFIER_BYTES {
                return Err(CoreError::invalid_value(format!(
                    "'{k}' is {} bytes long; at most {MAX_IDENTIFIER_BYTES} are allowed",
                    s.len()
                )));
            }
        }
    }
    Ok(())
}

pub(crate) fn no_nul_str(s: &str, label: &str) -> CoreResult<()> {
    if s.contains('\0') {
        Err(nul_error(label))
    } else {
        Ok(())
    }
}

pub(super) fn nul_error(label: &str) -> CoreError {
    CoreError::invalid_value(format!("'{label}' must not contain NUL characters"))
}

/// True when any string or key inside `v` holds a NUL (iterative: no recursion on
/// untrusted depth).
pub(crate) fn has_nul(v: &Value) -> bool {
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s) if s.contains('\0') => return true,
            Value::Array(items) => stack.extend(items.iter()),
            Value::Object(m) => {
                if m.keys().any(|k| k.contains('\0')) {
                    return true;
                }
                stack.extend(m.values());
            }
            _ => {}
        }
    }
    false
}

/// Reject NUL in any string or key inside `v`.
pub(crate) fn no_nul(label: &str, v: &Value) -> CoreResult<()> {
    if has_nul(v) {
        Err(nul_error(label))
    } else {
        Ok(())
    }
}
