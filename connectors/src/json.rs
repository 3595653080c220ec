//! Small, total JSON helpers shared by the normalizers: case-insensitive key access, string
//! booleans, NUL/depth scanning, null stripping. Nothing here panics.

use serde_json::{Map, Value};

use crate::{DialectError, ErrorKind};

/// Deepest nesting accepted in a request body. Real SCIM documents nest 4 levels at most
/// (body → extension → manager → value); the cap keeps every recursive walk in this crate bounded.
pub(crate) const MAX_DEPTH: usize = 64;

/// Multi-valued complex attributes of the core User schema whose elements carry a boolean
/// `primary` sub-attribute (RFC 7643 §4.1.2). `groups` is left out: it is readOnly and dropped.
pub(crate) const MULTI_VALUED_WITH_PRIMARY: [&str; 8] = [
    "emails",
    "phoneNumbers",
    "ims",
    "photos",
    "addresses",
    "entitlements",
    "roles",
    "x509Certificates",
];

/// `s` starts with `prefix`, ASCII case-insensitively.
pub(crate) fn starts_with_ci(s: &str, prefix: &str) -> bool {
    strip_prefix_ci(s, prefix).is_some()
}

/// `s` without `prefix` (ASCII case-insensitive), or `None`. Never slices inside a character.
pub(crate) fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        s.get(prefix.len()..)
    } else {
        None
    }
}

/// The value stored under `name`, matching the key case-insensitively (RFC 7643 §2.1:
/// attribute names are case-insensitive). An exact match wins over a case variant.
pub(crate) fn get_ci<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    if let Some(v) = map.get(name) {
        return Some(v);
    }
    map.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// The actual key under which `name` is stored (case-insensitive), if any.
pub(crate) fn key_ci(map: &Map<String, Value>, name: &str) -> Option<String> {
    if map.contains_key(name) {
        return Some(name.to_string());
    }
    map.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()
}

/// Remove every key equal to `name` case-insensitively, keeping the order of the others.
pub(crate) fn remove_ci(map: &mut Map<String, Value>, name: &str) {
    map.retain(|k, _| !k.eq_ignore_ascii_case(name));
}

/// `"true"` / `"false"` in any case (surrounding whitespace ignored) as a bool.
pub(crate) fn parse_bool_str(s: &str) -> Option<bool> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("true") {
        Some(true)
    } else if t.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// ENTRA-STRING-BOOL: a string boolean becomes a JSON boolean; anything else is unchanged.
pub(crate) fn coerce_bool(v: Value) -> Value {
    match v {
        Value::String(s) => match parse_bool_str(&s) {
            Some(b) => Value::Bool(b),
            None => Value::String(s),
        },
        other => other,
    }
}

/// Truthiness of a `primary`-like value in a stored document: `true` or a string `"true"`.
pub(crate) fn is_true(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => parse_bool_str(s) == Some(true),
        _ => false,
    }
}

/// Coerce the `primary` sub-attribute of one element (or of each element of an array).
pub(crate) fn coerce_primary_in(v: &mut Value) {
    match v {
        Value::Object(m) => coerce_key_bool(m, "primary"),
        Value::Array(items) => {
            for item in items.iter_mut() {
                if let Value::Object(m) = item {
                    coerce_key_bool(m, "primary");
                }
            }
        }
        _ => {}
    }
}

/// Coerce the string boolean stored under `name` (any key case) in place.
pub(crate) fn coerce_key_bool(map: &mut Map<String, Value>, name: &str) {
    for (k, v) in map.iter_mut() {
        if k.eq_ignore_ascii_case(name) {
            let taken = std::mem::take(v);
            *v = coerce_bool(taken);
        }
    }
}

/// ONELOGIN-EMAILS-OBJECT: a multi-valued attribute sent as a single object becomes a
/// one-element array. Arrays and other shapes are unchanged.
pub(crate) fn wrap_single_object(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Array(vec![Value::Object(m)]),
        other => other,
    }
}

/// Remove null-valued members of every object and null elements of every array, recursively
/// (RFC 7643 §2.5: null means unassigned). Bounded by [`MAX_DEPTH`].
pub(crate) fn strip_nulls(v: &mut Value) {
    strip_nulls_at(v, 0);
}

fn strip_nulls_at(v: &mut Value, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::Object(m) => {
            m.retain(|_, x| !x.is_null());
            for x in m.values_mut() {
                strip_nulls_at(x, depth + 1);
            }
        }
        Value::Array(items) => {
            items.retain(|x| !x.is_null());
            for x in items.iter_mut() {
                strip_nulls_at(x, depth + 1);
            }
        }
        _ => {}
    }
}

/// Remove `$ref: null` (and, with `all_nulls`, every null member) from objects, recursively.
/// ENTRA-REF-NULL.
pub(crate) fn strip_null_refs(v: &mut Value, all_nulls: bool) {
    strip_null_refs_at(v, all_nulls, 0);
}

fn strip_null_refs_at(v: &mut Value, all_nulls: bool, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::Object(m) => {
            m.retain(|k, x| !(x.is_null() && (all_nulls || k.eq_ignore_ascii_case("$ref"))));
            for x in m.values_mut() {
                strip_null_refs_at(x, all_nulls, depth + 1);
            }
        }
        Value::Array(items) => {
            for x in items.iter_mut() {
                strip_null_refs_at(x, all_nulls, depth + 1);
            }
        }
        _ => {}
    }
}

/// Check a value for NUL characters (in strings and in member names) and for excessive
/// nesting. `at` names the attribute for the error detail (e.g. `emails[0].value`).
/// NUL → `InvalidValue`; too deep → `InvalidSyntax`.
pub(crate) fn scan(v: &Value, at: &str) -> Result<(), DialectError> {
    scan_at(v, At::Top(at), 0)
}

/// Where [`scan_at`] is, rendered only for an error: the walk over a body of 100
/// members built a path string per element, which no valid body ever shows.
#[derive(Clone, Copy)]
enum At<'a> {
    Top(&'a str),
    Key(&'a At<'a>, &'a str),
    Index(&'a At<'a>, usize),
}

impl At<'_> {
    fn render(&self) -> String {
        match self {
            At::Top(at) => (*at).to_string(),
            At::Key(parent, k) => join_attr(&parent.render(), k),
            At::Index(parent, i) => format!("{}[{i}]", parent.render()),
        }
    }
}

fn scan_at(v: &Value, at: At<'_>, depth: usize) -> Result<(), DialectError> {
    if depth > MAX_DEPTH {
        let at = at.render();
        return Err(DialectError::new(
            ErrorKind::InvalidSyntax,
            format!(
                "{} nests deeper than {MAX_DEPTH} levels",
                if at.is_empty() { "request body" } else { &at }
            ),
        ));
    }
    match v {
        Value::String(s) if s.contains('\0') => {
            let at = at.render();
            Err(DialectError::new(
                ErrorKind::InvalidValue,
                format!(
                    "attribute `{}` contains a NUL character (U+0000)",
                    if at.is_empty() { "(body)" } else { &at }
                ),
            ))
        }
        Value::Object(m) => {
            for (k, x) in m {
                if k.contains('\0') {
                    let at = at.render();
                    return Err(DialectError::new(
                        ErrorKind::InvalidValue,
                        format!(
                            "attribute name `{}`{} contains a NUL character (U+0000)",
                            show(k),
                            if at.is_empty() {
                                String::new()
                            } else {
                                format!(" inside `{at}`")
                            }
                        ),
                    ));
                }
                scan_at(x, At::Key(&at, k), depth + 1)?;
            }
            Ok(())
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                scan_at(x, At::Index(&at, i), depth + 1)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// `at` + `.name` (or just `name` at the top level), with the name escaped for display.
pub(crate) fn join_attr(at: &str, name: &str) -> String {
    if at.is_empty() {
        show(name)
    } else {
        format!("{at}.{}", show(name))
    }
}

/// A string made safe for an error detail: control characters escaped, at most 80 characters.
pub(crate) fn show(s: &str) -> String {
    const LIMIT: usize = 80;
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        if n >= LIMIT {
            out.push('…');
            break;
        }
        out.extend(c.escape_debug());
    }
    out
}

/// "a string", "an object", ... for error details.
pub(crate) fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A non-empty (after trimming) string value.
pub(crate) fn non_empty_str(v: Option<&Value>) -> Option<&str> {
    match v {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.as_str()),
        _ => None,
    }
}

/// Rebuild `map` with the key `from` (case-insensitive) renamed to `to`, keeping its position.
pub(crate) fn rename_key_ci(map: Map<String, Value>, from: &str, to: &str) -> Map<String, Value> {
    map.into_iter()
        .map(|(k, v)| {
            if k.eq_ignore_ascii_case(from) {
                (to.to_string(), v)
            } else {
                (k, v)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn prefix_helpers_never_split_characters() {
        assert_eq!(strip_prefix_ci("URN:x", "urn:"), Some("x"));
        assert_eq!(strip_prefix_ci("é", "e"), None);
        assert_eq!(strip_prefix_ci("ab", "abc"), None);
        assert!(starts_with_ci("Urn:Foo", "urn:"));
    }

    #[test]
    fn string_booleans_any_case() {
        for (s, b) in [
            ("True", true),
            ("true", true),
            ("TRUE", true),
            (" false ", false),
            ("False", false),
            ("fAlSe", false),
        ] {
            assert_eq!(parse_bool_str(s), Some(b), "{s}");
        }
        for s in ["", "yes", "1", "0", "t", "truee", "{$user.active}"] {
            assert_eq!(parse_bool_str(s), None, "{s}");
        }
        assert_eq!(coerce_bool(json!("x")), json!("x"));
        assert_eq!(coerce_bool(json!(1)), json!(1));
    }

    #[test]
    fn scan_names_the_attribute() {
        let e = scan(&json!({"name": {"givenName": "a\u{0}b"}}), "").unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidValue);
        assert!(e.detail.contains("name.givenName"), "{}", e.detail);
        let e = scan(&json!({"emails": [{"value": "x"}, {"value": "\u{0}"}]}), "").unwrap_err();
        assert!(e.detail.contains("emails[1].value"), "{}", e.detail);
        let e = scan(&json!({"bad\u{0}key": 1}), "").unwrap_err();
        assert!(e.detail.contains("bad\\0key"), "{}", e.detail);
    }

    #[test]
    fn scan_bounds_depth() {
        let mut v = json!("leaf");
        for _ in 0..(MAX_DEPTH + 5) {
            v = json!([v]);
        }
        let e = scan(&v, "").unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidSyntax);
    }

    #[test]
    fn show_truncates_and_escapes() {
        let long = "a".repeat(500);
        assert!(show(&long).chars().count() <= 81);
        assert_eq!(show("a\u{0}"), "a\\0");
    }

    #[test]
    fn rename_keeps_position() {
        let m = json!({"managerId": "1", "displayName": "B"});
        let Value::Object(m) = m else { unreachable!() };
        let r = rename_key_ci(m, "managerid", "value");
        assert_eq!(
            Value::Object(r).to_string(),
            r#"{"value":"1","displayName":"B"}"#
        );
    }
}
