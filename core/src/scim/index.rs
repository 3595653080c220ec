//! The filter index of a user: one row per filterable scalar of the SCIM document
//! (`user_attrs`), so that any attribute of the schema — and of unknown extensions —
//! can be filtered in SQL over an index instead of by loading a directory.
//!
//! Keys are lower-case: `title`, `name.givenname`, `emails` (one head row per element
//! carrying value/type/primary), `emails.display` (other sub-attributes, same `elem`),
//! and `urn:…:enterprise:2.0:user:department` for extension attributes. `userName`,
//! `externalId`, `active`, `id` and `meta` have real columns instead.

use serde_json::{Map, Value};

use crate::ids::{DirectoryId, DirectoryUserId};
use crate::model::AttrRow;
use crate::scim::schema::{ENTERPRISE_USER_SCHEMA, USER_SCHEMA};

/// Attributes with their own columns (or never filterable), not indexed here.
const SKIP: &[&str] = &[
    "id",
    "username",
    "externalid",
    "active",
    "meta",
    "schemas",
    "groups",
    "password",
];

/// Head-row sub-attributes of multi-valued complex attributes.
pub const HEAD_SUBS: &[&str] = &["value", "type", "primary"];

/// Index key of an attribute: `uri` None for the core schema.
pub fn key(uri: Option<&str>, name: &str, sub: Option<&str>) -> String {
    let mut k = String::new();
    if let Some(u) = uri {
        if !u.eq_ignore_ascii_case(USER_SCHEMA) {
            k.push_str(&u.to_ascii_lowercase());
            k.push(':');
        }
    }
    k.push_str(&name.to_ascii_lowercase());
    if let Some(s) = sub {
        k.push('.');
        k.push_str(&s.to_ascii_lowercase());
    }
    k
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The longest attribute name plus lowercased value that is indexed for filters; a
/// longer value (a 2 KB `title`) is stored and returned but no filter matches it.
pub const MAX_INDEXED_BYTES: usize = 2000;

struct Builder<'a> {
    user_id: &'a DirectoryUserId,
    directory_id: &'a DirectoryId,
    rows: Vec<AttrRow>,
}

impl Builder<'_> {
    fn push(
        &mut self,
        attr: String,
        elem: i32,
        vtype: Option<String>,
        vprimary: Option<bool>,
        value: Option<String>,
    ) {
        let value_ci = value.as_ref().map(|v| v.to_lowercase());
        // a row the lookup index (directory_id, attr, value_ci) cannot hold is not
        // indexed: PostgreSQL's btree rows are at most 2,704 bytes
        let size = attr.len() + value_ci.as_ref().map_or(0, String::len);
        if size > MAX_INDEXED_BYTES {
            return;
        }
        self.rows.push(AttrRow {
            user_id: self.user_id.clone(),
            directory_id: self.directory_id.clone(),
            attr,
            elem,
            vtype,
            vprimary,
            value,
            value_ci,
        });
    }

    fn attribute(&mut self, prefix: &str, name: &str, v: &Value) {
        let base = format!("{prefix}{}", name.to_ascii_lowercase());
        match v {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate().take(1000) {
                    let elem = i as i32;
                    match item {
                        Value::Object(o) => self.element(&base, elem, o),
                        other => {
                            if let Some(s) = scalar(other) {
                                self.push(base.clone(), elem, None, None, Some(s));
                            }
                        }
                    }
                }
            }
            Value::Object(o) => {
                for (sub, sv) in o {
                    if let Some(s) = scalar(sv) {
                        self.push(
                            format!("{base}.{}", sub.to_ascii_lowercase()),
                            0,
                            None,
                            None,
                            Some(s),
                        );
                    }
                }
            }
            other => {
                if let Some(s) = scalar(other) {
                    self.push(base, 0, None, None, Some(s));
                }
            }
        }
    }

    fn element(&mut self, base: &str, elem: i32, o: &Map<String, Value>) {
        let mut vtype = None;
        let mut vprimary = None;
        let mut value = None;
        for (k, v) in o {
            match k.to_ascii_lowercase().as_str() {
                "type" => vtype = scalar(v).map(|s| s.to_lowercase()),
                "primary" => vprimary = v.as_bool(),
                "value" => value = scalar(v),
                _ => {}
            }
        }
        self.push(base.to_string(), elem, vtype.clone(), vprimary, value);
        for (k, v) in o {
            let lk = k.to_ascii_lowercase();
            if HEAD_SUBS.contains(&lk.as_str()) {
                continue;
            }
            if let Some(s) = scalar(v) {
                self.push(
                    format!("{base}.{lk}"),
                    elem,
                    vtype.clone(),
                    vprimary,
                    Some(s),
                );
            }
        }
    }
}

/// The index rows of a canonical user document.
pub fn user_rows(
    user_id: &DirectoryUserId,
    directory_id: &DirectoryId,
    doc: &Map<String, Value>,
) -> Vec<AttrRow> {
    let mut b = Builder {
        user_id,
        directory_id,
        rows: Vec::new(),
    };
    for (k, v) in doc {
        let lk = k.to_ascii_lowercase();
        if SKIP.contains(&lk.as_str()) {
            continue;
        }
        if k.contains(':') {
            // an extension object (enterprise or unknown): index its attributes under the URN
            if let Value::Object(ext) = v {
                let prefix = if k.eq_ignore_ascii_case(ENTERPRISE_USER_SCHEMA) {
                    format!("{}:", ENTERPRISE_USER_SCHEMA.to_ascii_lowercase())
                } else {
                    format!("{lk}:")
                };
                for (ek, ev) in ext {
                    b.attribute(&prefix, ek, ev);
                }
            }
            continue;
        }
        b.attribute("", k, v);
    }
    b.rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_too_long_for_the_index_are_not_indexed() {
        let long = "x".repeat(MAX_INDEXED_BYTES);
        let doc = json!({"userName": "a@b.c", "title": long, "nickName": "n"});
        let rows = user_rows(
            &DirectoryUserId::test("u"),
            &DirectoryId::test("d"),
            doc.as_object().unwrap_or(&Map::new()),
        );
        let attrs: Vec<&str> = rows.iter().map(|r| r.attr.as_str()).collect();
        assert!(
            !attrs.contains(&"title") && attrs.contains(&"nickname"),
            "{attrs:?}"
        );
    }

    #[test]
    fn indexes_core_multi_valued_and_extension_attributes() {
        let doc = json!({
            "schemas": [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
            "userName": "a@b.c",
            "title": "Engineer",
            "name": {"givenName": "Ada", "familyName": "Lovelace"},
            "emails": [{"value": "A@b.c", "type": "Work", "primary": true, "display": "Ada"}],
            ENTERPRISE_USER_SCHEMA: {"department": "R&D", "manager": {"value": "m1"}}
        });
        let rows = user_rows(
            &DirectoryUserId::test("u1"),
            &DirectoryId::test("d1"),
            doc.as_object().unwrap_or(&Map::new()),
        );
        let find = |a: &str| rows.iter().find(|r| r.attr == a);
        assert_eq!(
            find("title").and_then(|r| r.value_ci.clone()),
            Some("engineer".into())
        );
        assert_eq!(
            find("name.givenname").and_then(|r| r.value.clone()),
            Some("Ada".into())
        );
        let head = find("emails");
        assert_eq!(head.and_then(|r| r.vtype.clone()), Some("work".into()));
        assert_eq!(head.and_then(|r| r.vprimary), Some(true));
        assert_eq!(head.and_then(|r| r.value_ci.clone()), Some("a@b.c".into()));
        assert!(find("emails.display").is_some());
        assert!(
            find("urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:department").is_some()
        );
        assert!(
            find("urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:manager.value")
                .is_some()
        );
        assert!(find("username").is_none());
        assert_eq!(key(Some(USER_SCHEMA), "Title", None), "title");
        assert_eq!(key(None, "name", Some("givenName")), "name.givenname");
    }
}
