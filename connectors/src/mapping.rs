//! Mapping a (core-canonical) SCIM document onto WorkOS `directory_user` / `directory_group`
//! fields (../shared/docs/WIRE-COMPAT.md §5-§6), including custom-attribute mappings.

use serde_json::{Map, Value};

use crate::json::{
    get_ci, is_true, non_empty_str, parse_bool_str, starts_with_ci, strip_prefix_ci,
};
use crate::patch::split_path;
use crate::{
    AttributeMapping, DirectoryType, NormalizedEmail, NormalizedGroup, NormalizedUser,
    CORE_GROUP_URN, CORE_USER_URN, ENTERPRISE_USER_URN,
};

/// Default custom-attribute mappings, the same for every directory type: the enterprise
/// extension attributes (RFC 7643 §4.3) and `title`. No IdP documents an extra default that
/// every customer of that IdP sends, so there are no per-IdP extras (Okta custom attributes
/// arrive under a tenant-specific URN, e.g. `urn:okta:custom:1.0:User`; map them per directory).
pub fn default_attribute_mappings(dt: DirectoryType) -> Vec<AttributeMapping> {
    default_mappings(dt).to_vec()
}

/// [`default_attribute_mappings`], built once: every create and update of a user in a
/// directory without mappings of its own resolves them.
pub fn default_mappings(dt: DirectoryType) -> &'static [AttributeMapping] {
    let _ = dt;
    static DEFAULTS: std::sync::OnceLock<Vec<AttributeMapping>> = std::sync::OnceLock::new();
    DEFAULTS.get_or_init(|| {
        let ent = |attr: &str| format!("{ENTERPRISE_USER_URN}:{attr}");
        [
            ("department", ent("department")),
            ("job_title", "title".to_string()),
            ("manager_id", ent("manager.value")),
            ("employee_number", ent("employeeNumber")),
            ("cost_center", ent("costCenter")),
            ("division", ent("division")),
            ("organization", ent("organization")),
        ]
        .into_iter()
        .map(|(key, path)| AttributeMapping {
            path,
            key: key.to_string(),
        })
        .collect()
    })
}

/// Resolve a SCIM attribute path against a SCIM user/group document.
///
/// Supported: `title`, `name.givenName`, `urn:…:enterprise:2.0:User:department`,
/// `urn:…:enterprise:2.0:User:manager.value`, `emails[type eq "work"].value` (simple
/// `sub eq <literal>` filters; strings compare case-insensitively, PING-TYPE-CASE), core-URN
/// qualified paths, and any unknown extension `urn:…:Ext:attr` whose extension object is a
/// top-level key of the document (a flat top-level key equal to the whole path also resolves).
/// Attribute names compare case-insensitively. On a multi-valued attribute without a filter,
/// a sub-attribute is read from the primary element (else the first one). Returns `None` when
/// absent or null, or when the path is malformed.
pub fn resolve_path<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    let path = path.trim();
    if path.is_empty() {
        return None;
    }
    let obj = doc.as_object()?;
    if starts_with_ci(path, "urn:") {
        // Longest top-level key that prefixes the path at a ':' / '.' boundary (or equals it).
        let mut best: Option<(usize, &Value)> = None;
        for (k, v) in obj {
            if k.is_empty() || !starts_with_ci(path, k) {
                continue;
            }
            let boundary = match path.get(k.len()..) {
                Some("") => true,
                Some(rest) => rest.starts_with(':') || rest.starts_with('.'),
                None => false,
            };
            if boundary && best.is_none_or(|(len, _)| k.len() > len) {
                best = Some((k.len(), v));
            }
        }
        if let Some((len, v)) = best {
            let rest = path.get(len..).unwrap_or("");
            if rest.is_empty() {
                return non_null(v);
            }
            let rest = rest.get(1..).unwrap_or("");
            return resolve_attr_path(v, rest);
        }
        for core in [CORE_USER_URN, CORE_GROUP_URN] {
            if let Some(rest) = strip_prefix_ci(path, core).and_then(|r| r.strip_prefix(':')) {
                return resolve_attr_path(doc, rest);
            }
        }
        return None;
    }
    resolve_attr_path(doc, path)
}

fn non_null(v: &Value) -> Option<&Value> {
    if v.is_null() {
        None
    } else {
        Some(v)
    }
}

/// Resolve `a.b`, `a[filter]`, `a[filter].b` (and deeper dotted chains) below `v`.
fn resolve_attr_path<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = v;
    let mut rest = path;
    // Each round consumes one attribute name (and its filter); the path shrinks every time.
    loop {
        if rest.is_empty() {
            return None;
        }
        let (attr, filter, sub) = split_path(rest);
        if attr.is_empty() {
            return None;
        }
        let container = pick_element(cur)?;
        let mut next = get_ci(container.as_object()?, attr)?;
        if let Some(f) = filter {
            next = filter_element(next, f)?;
        }
        match sub {
            None => return non_null(next),
            Some(s) => {
                cur = next;
                rest = s;
            }
        }
    }
}

/// For a multi-valued attribute read without a filter: the primary element, else the first
/// object. Non-arrays are returned unchanged.
fn pick_element(v: &Value) -> Option<&Value> {
    match v {
        Value::Array(items) => items
            .iter()
            .find(|x| x.as_object().is_some_and(|m| is_true(get_ci(m, "primary"))))
            .or_else(|| items.iter().find(|x| x.is_object())),
        other => Some(other),
    }
}

/// The first element of `v` (an array, or a single object) matching `sub eq literal`.
fn filter_element<'a>(v: &'a Value, filter: &str) -> Option<&'a Value> {
    let (sub, literal) = parse_eq_filter(filter)?;
    let matches = |x: &&Value| {
        x.as_object()
            .and_then(|m| get_ci(m, sub))
            .is_some_and(|actual| literal_matches(actual, &literal))
    };
    match v {
        Value::Array(items) => items.iter().find(matches),
        Value::Object(_) => Some(v).filter(matches),
        _ => None,
    }
}

/// `sub eq <json literal>` → (sub, literal). Only `eq` (any case) is supported.
fn parse_eq_filter(filter: &str) -> Option<(&str, Value)> {
    let f = filter.trim();
    let (sub, rest) = f.split_once(char::is_whitespace)?;
    let rest = rest.trim_start();
    let (op, literal) = rest.split_once(char::is_whitespace)?;
    if !op.eq_ignore_ascii_case("eq") || sub.is_empty() {
        return None;
    }
    let literal = literal.trim();
    // SCIM literals are JSON literals (RFC 7644 §3.4.2.2); accept `True`/`FALSE` too.
    let value = match serde_json::from_str::<Value>(literal) {
        Ok(v @ (Value::String(_) | Value::Bool(_) | Value::Number(_) | Value::Null)) => v,
        _ => Value::Bool(parse_bool_str(literal)?),
    };
    Some((sub, value))
}

fn literal_matches(actual: &Value, literal: &Value) -> bool {
    match (actual, literal) {
        (Value::String(a), Value::String(b)) => crate::ping::type_value_eq(a, b),
        (Value::String(a), Value::Bool(b)) => parse_bool_str(a) == Some(*b),
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (a, b) => a == b,
    }
}

/// Map a (core-canonical) SCIM user document onto the WorkOS directory-user fields.
///
/// * `idp_id`: `externalId` (a non-empty string, or a number rendered as a string); else
///   `userName`; else `""`.
/// * `emails`: every element with a string `value` (a single email object is accepted too);
///   exactly one is `primary: true` when the list is non-empty: the first flagged
///   `primary: true` (bool or string), else the first with `type` "work" (case-insensitive,
///   PING-TYPE-CASE), else the first (ONELOGIN-EMAILS-OBJECT "first email = primary if none
///   flagged"). `email` is that primary email's value, so `email` and `emails[].primary`
///   always agree.
/// * names: `first_name` = `name.givenName`, `last_name` = `name.familyName`, `name` =
///   `name.formatted`, else "given family" (whichever exist), else `displayName`. Empty or
///   blank strings count as absent (OneLogin renders missing template macros as `""`).
/// * `state`: `"inactive"` when `active` is `false` (or a string "false"), else `"active"`.
/// * `custom_attributes`: for each mapping, the value at its path (absent/null omitted; a later
///   mapping with the same key wins).
pub fn map_user(dt: DirectoryType, doc: &Value, mappings: &[AttributeMapping]) -> NormalizedUser {
    let _ = dt;
    let empty = Map::new();
    let obj = doc.as_object().unwrap_or(&empty);
    let text = |name: &str| non_empty_str(get_ci(obj, name)).map(str::to_string);
    let name_obj = get_ci(obj, "name").and_then(Value::as_object);
    let name_part = |sub: &str| {
        name_obj
            .and_then(|n| non_empty_str(get_ci(n, sub)))
            .map(str::to_string)
    };

    let external_id = match get_ci(obj, "externalId") {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let username = text("userName");
    let idp_id = external_id.or_else(|| username.clone()).unwrap_or_default();

    let emails = normalized_emails(get_ci(obj, "emails"));
    let email = emails.iter().find(|e| e.primary).map(|e| e.value.clone());

    let first_name = name_part("givenName");
    let last_name = name_part("familyName");
    let joined = match (&first_name, &last_name) {
        (Some(g), Some(f)) => Some(format!("{g} {f}")),
        (Some(x), None) | (None, Some(x)) => Some(x.clone()),
        (None, None) => None,
    };
    let name = name_part("formatted")
        .or(joined)
        .or_else(|| text("displayName"));

    let inactive = match get_ci(obj, "active") {
        Some(Value::Bool(b)) => !*b,
        Some(Value::String(s)) => parse_bool_str(s) == Some(false),
        _ => false,
    };

    let mut custom_attributes = Map::new();
    for m in mappings {
        if let Some(v) = resolve_path(doc, &m.path) {
            custom_attributes.insert(m.key.clone(), v.clone());
        }
    }

    NormalizedUser {
        idp_id,
        email,
        first_name,
        last_name,
        name,
        username,
        emails,
        job_title: text("title"),
        state: if inactive { "inactive" } else { "active" }.to_string(),
        custom_attributes,
    }
}

fn normalized_emails(v: Option<&Value>) -> Vec<NormalizedEmail> {
    let items: Vec<&Map<String, Value>> = match v {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_object).collect(),
        Some(Value::Object(m)) => vec![m],
        _ => Vec::new(),
    };
    let mut out: Vec<(NormalizedEmail, bool)> = items
        .into_iter()
        .filter_map(|m| {
            let value = get_ci(m, "value")?.as_str()?.to_string();
            let kind = get_ci(m, "type")
                .and_then(Value::as_str)
                .map(str::to_string);
            let flagged = is_true(get_ci(m, "primary"));
            Some((
                NormalizedEmail {
                    primary: false,
                    kind,
                    value,
                },
                flagged,
            ))
        })
        .collect();
    let chosen = out
        .iter()
        .position(|(_, flagged)| *flagged)
        .or_else(|| {
            out.iter().position(|(e, _)| {
                e.kind
                    .as_deref()
                    .is_some_and(|k| crate::ping::type_value_eq(k, "work"))
            })
        })
        .or(if out.is_empty() { None } else { Some(0) });
    if let Some(i) = chosen {
        if let Some((e, _)) = out.get_mut(i) {
            e.primary = true;
        }
    }
    out.into_iter().map(|(e, _)| e).collect()
}

/// Map a SCIM group document: `idp_id` = `externalId` (else `""`), `name` = `displayName`
/// (else `""`).
pub fn map_group(dt: DirectoryType, doc: &Value) -> NormalizedGroup {
    let _ = dt;
    let obj = doc.as_object();
    let field = |name: &str| -> String {
        match obj.and_then(|o| get_ci(o, name)) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        }
    };
    NormalizedGroup {
        idp_id: field("externalId"),
        name: field("displayName"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    const DT: DirectoryType = DirectoryType::Generic;

    fn jensen() -> Value {
        json!({
            "schemas": [CORE_USER_URN, ENTERPRISE_USER_URN],
            "userName": "bjensen@example.com",
            "externalId": "bjensen",
            "name": {"formatted": "Ms. Barbara J Jensen III", "familyName": "Jensen", "givenName": "Barbara"},
            "displayName": "Babs",
            "title": "Tour Guide",
            "emails": [
                {"value": "babs@jensen.org", "type": "home"},
                {"value": "bjensen@example.com", "type": "work", "primary": true}
            ],
            "active": true,
            ENTERPRISE_USER_URN: {
                "employeeNumber": "701984",
                "costCenter": "4130",
                "organization": "Universal Studios",
                "division": "Theme Park",
                "department": "Tour Operations",
                "manager": {"value": "26118915-6090-4610-87a4-49d0f5b3e2a4", "displayName": "John Smith"}
            },
            "urn:okta:custom:1.0:User": {"costCenter": "OKTA-1", "flag": false},
            "urn:example:flat:1.0:User:badge": "B-7"
        })
    }

    #[test]
    fn defaults_are_the_enterprise_attributes() {
        for dt in DirectoryType::all() {
            let maps = default_attribute_mappings(*dt);
            let keys: Vec<&str> = maps.iter().map(|m| m.key.as_str()).collect();
            assert_eq!(
                keys,
                vec![
                    "department",
                    "job_title",
                    "manager_id",
                    "employee_number",
                    "cost_center",
                    "division",
                    "organization"
                ]
            );
        }
        let maps = default_attribute_mappings(DT);
        assert_eq!(
            maps[2].path,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"
        );
        assert_eq!(maps[1].path, "title");
    }

    #[test]
    fn resolve_core_paths() {
        let d = jensen();
        assert_eq!(resolve_path(&d, "title"), Some(&json!("Tour Guide")));
        assert_eq!(resolve_path(&d, "TITLE"), Some(&json!("Tour Guide")));
        assert_eq!(resolve_path(&d, "name.givenName"), Some(&json!("Barbara")));
        assert_eq!(resolve_path(&d, "Name.GIVENNAME"), Some(&json!("Barbara")));
        assert_eq!(
            resolve_path(
                &d,
                "urn:ietf:params:scim:schemas:core:2.0:User:name.familyName"
            ),
            Some(&json!("Jensen"))
        );
        assert_eq!(resolve_path(&d, "name"), d.get("name"));
        assert_eq!(resolve_path(&d, "nickName"), None);
        assert_eq!(resolve_path(&d, "name.middleName"), None);
        assert_eq!(resolve_path(&d, ""), None);
        assert_eq!(resolve_path(&d, "title.x"), None);
    }

    #[test]
    fn resolve_enterprise_paths() {
        let d = jensen();
        let ent = |a: &str| format!("{ENTERPRISE_USER_URN}:{a}");
        assert_eq!(
            resolve_path(&d, &ent("department")),
            Some(&json!("Tour Operations"))
        );
        assert_eq!(
            resolve_path(&d, &ent("manager.value")),
            Some(&json!("26118915-6090-4610-87a4-49d0f5b3e2a4"))
        );
        assert_eq!(
            resolve_path(&d, &ent("Manager.DisplayName")),
            Some(&json!("John Smith"))
        );
        assert_eq!(
            resolve_path(&d, &ent("department").to_uppercase()),
            Some(&json!("Tour Operations"))
        );
        assert_eq!(
            resolve_path(&d, ENTERPRISE_USER_URN),
            d.get(ENTERPRISE_USER_URN)
        );
        assert_eq!(resolve_path(&d, &ent("nope")), None);
    }

    #[test]
    fn resolve_unknown_extension_paths() {
        let d = jensen();
        assert_eq!(
            resolve_path(&d, "urn:okta:custom:1.0:User:costCenter"),
            Some(&json!("OKTA-1"))
        );
        assert_eq!(
            resolve_path(&d, "urn:okta:custom:1.0:User:flag"),
            Some(&json!(false))
        );
        assert_eq!(
            resolve_path(&d, "urn:example:flat:1.0:User:badge"),
            Some(&json!("B-7"))
        );
        assert_eq!(resolve_path(&d, "urn:unknown:1.0:User:x"), None);
    }

    // IDP-QUIRKS PING-TYPE-CASE: filter literals compare case-insensitively.
    #[test]
    fn resolve_filtered_paths() {
        let d = jensen();
        assert_eq!(
            resolve_path(&d, "emails[type eq \"work\"].value"),
            Some(&json!("bjensen@example.com"))
        );
        assert_eq!(
            resolve_path(&d, "emails[type eq \"WORK\"].value"),
            Some(&json!("bjensen@example.com"))
        );
        assert_eq!(
            resolve_path(&d, "emails[TYPE EQ \"home\"].value"),
            Some(&json!("babs@jensen.org"))
        );
        assert_eq!(
            resolve_path(&d, "emails[primary eq true].value"),
            Some(&json!("bjensen@example.com"))
        );
        assert_eq!(resolve_path(&d, "emails[type eq \"other\"].value"), None);
        assert_eq!(resolve_path(&d, "emails[type co \"work\"].value"), None);
        assert_eq!(resolve_path(&d, "emails[type eq].value"), None);
        assert_eq!(resolve_path(&d, "emails[type eq 'work'].value"), None);
        assert_eq!(
            resolve_path(&d, "emails[type eq \"work\"]"),
            d["emails"].get(1)
        );
        // Unfiltered multi-valued read: the primary element.
        assert_eq!(
            resolve_path(&d, "emails.value"),
            Some(&json!("bjensen@example.com"))
        );
    }

    #[test]
    fn resolve_on_non_objects_is_none() {
        for d in [json!(null), json!([]), json!("x"), json!(1)] {
            assert_eq!(resolve_path(&d, "title"), None);
            assert_eq!(resolve_path(&d, "urn:a:b"), None);
        }
    }

    #[test]
    fn null_values_are_absent() {
        let d = json!({"title": null, "name": {"givenName": null}});
        assert_eq!(resolve_path(&d, "title"), None);
        assert_eq!(resolve_path(&d, "name.givenName"), None);
        let u = map_user(DT, &d, &default_attribute_mappings(DT));
        assert!(u.custom_attributes.is_empty());
    }

    #[test]
    fn map_user_full_document() {
        let u = map_user(DT, &jensen(), &default_attribute_mappings(DT));
        assert_eq!(u.idp_id, "bjensen");
        assert_eq!(u.email.as_deref(), Some("bjensen@example.com"));
        assert_eq!(u.first_name.as_deref(), Some("Barbara"));
        assert_eq!(u.last_name.as_deref(), Some("Jensen"));
        assert_eq!(u.name.as_deref(), Some("Ms. Barbara J Jensen III"));
        assert_eq!(u.username.as_deref(), Some("bjensen@example.com"));
        assert_eq!(u.job_title.as_deref(), Some("Tour Guide"));
        assert_eq!(u.state, "active");
        assert_eq!(
            u.emails,
            vec![
                NormalizedEmail {
                    primary: false,
                    kind: Some("home".into()),
                    value: "babs@jensen.org".into()
                },
                NormalizedEmail {
                    primary: true,
                    kind: Some("work".into()),
                    value: "bjensen@example.com".into()
                }
            ]
        );
        assert_eq!(
            Value::Object(u.custom_attributes.clone()),
            json!({
                "department": "Tour Operations",
                "job_title": "Tour Guide",
                "manager_id": "26118915-6090-4610-87a4-49d0f5b3e2a4",
                "employee_number": "701984",
                "cost_center": "4130",
                "division": "Theme Park",
                "organization": "Universal Studios"
            })
        );
        // WorkOS wire shape of the emails entries.
        let v = serde_json::to_value(&u).unwrap();
        assert_eq!(
            v["emails"][1],
            json!({"primary": true, "type": "work", "value": "bjensen@example.com"})
        );
        assert_eq!(v["state"], json!("active"));
    }

    // generic_rfc7644.json: "No active attribute: default to active=true. No primary email:
    // first one is primary for the normalised email."
    #[test]
    fn map_user_minimal_document() {
        let u = map_user(
            DT,
            &json!({"userName": "jsmith@example.com", "emails": [{"value": "jsmith@example.com", "type": "work"}]}),
            &default_attribute_mappings(DT),
        );
        assert_eq!(u.idp_id, "jsmith@example.com");
        assert_eq!(u.email.as_deref(), Some("jsmith@example.com"));
        assert!(u.emails[0].primary);
        assert_eq!(u.state, "active");
        assert_eq!(u.name, None);
        assert_eq!(u.first_name, None);
        assert!(u.custom_attributes.is_empty());
    }

    #[test]
    fn email_choice_rules() {
        let pick = |emails: Value| {
            let u = map_user(DT, &json!({"userName": "u", "emails": emails}), &[]);
            let flags: Vec<bool> = u.emails.iter().map(|e| e.primary).collect();
            (u.email, flags)
        };
        // Explicit primary wins, even when later.
        assert_eq!(
            pick(json!([{"value": "a", "type": "work"}, {"value": "b", "primary": true}])),
            (Some("b".into()), vec![false, true])
        );
        // String primary (non-canonical) is honoured.
        assert_eq!(
            pick(json!([{"value": "a"}, {"value": "b", "primary": "True"}])),
            (Some("b".into()), vec![false, true])
        );
        // No flag: first "work" (any case, PING-TYPE-CASE).
        assert_eq!(
            pick(json!([{"value": "a", "type": "home"}, {"value": "b", "type": "Work"}])),
            (Some("b".into()), vec![false, true])
        );
        // No flag, no work: first.
        assert_eq!(
            pick(json!([{"value": "a", "type": "home"}, {"value": "b"}])),
            (Some("a".into()), vec![true, false])
        );
        // Elements without a string value are skipped.
        assert_eq!(
            pick(json!([{"value": 3, "primary": true}, {"type": "work"}, "x", {"value": "c"}])),
            (Some("c".into()), vec![true])
        );
        // Only one primary even if several are flagged.
        assert_eq!(
            pick(json!([{"value": "a", "primary": true}, {"value": "b", "primary": true}])),
            (Some("a".into()), vec![true, false])
        );
        assert_eq!(pick(json!([])), (None, vec![]));
        assert_eq!(pick(json!("a@b")), (None, vec![]));
    }

    #[test]
    fn name_rules() {
        let name = |doc: Value| map_user(DT, &doc, &[]).name;
        assert_eq!(
            name(json!({"name": {"givenName": "A", "familyName": "B"}})),
            Some("A B".into())
        );
        assert_eq!(name(json!({"name": {"familyName": "B"}})), Some("B".into()));
        assert_eq!(
            name(json!({"name": {"givenName": "A"}, "displayName": "D"})),
            Some("A".into())
        );
        assert_eq!(name(json!({"displayName": "D"})), Some("D".into()));
        assert_eq!(
            name(json!({"name": {"formatted": "  ", "givenName": ""}, "displayName": "D"})),
            Some("D".into())
        );
        assert_eq!(name(json!({})), None);
    }

    #[test]
    fn state_and_idp_id_rules() {
        let u = |doc: Value| map_user(DT, &doc, &[]);
        assert_eq!(u(json!({"active": false})).state, "inactive");
        assert_eq!(u(json!({"active": "False"})).state, "inactive");
        assert_eq!(u(json!({"active": true})).state, "active");
        assert_eq!(u(json!({"active": "garbage"})).state, "active");
        assert_eq!(u(json!({})).state, "active");
        assert_eq!(u(json!({"externalId": 42, "userName": "x"})).idp_id, "42");
        assert_eq!(u(json!({"externalId": "", "userName": "x"})).idp_id, "x");
        assert_eq!(u(json!({})).idp_id, "");
        assert_eq!(u(json!("not an object")).idp_id, "");
    }

    #[test]
    fn custom_mappings_skip_absent_and_later_wins() {
        let maps = vec![
            AttributeMapping {
                path: "title".into(),
                key: "t".into(),
            },
            AttributeMapping {
                path: "nickName".into(),
                key: "nick".into(),
            },
            AttributeMapping {
                path: "displayName".into(),
                key: "t".into(),
            },
            AttributeMapping {
                path: "emails[type eq \"home\"].value".into(),
                key: "home_email".into(),
            },
        ];
        let u = map_user(DT, &jensen(), &maps);
        assert_eq!(
            Value::Object(u.custom_attributes),
            json!({"t": "Babs", "home_email": "babs@jensen.org"})
        );
    }

    #[test]
    fn map_group_rules() {
        assert_eq!(
            map_group(DT, &json!({"externalId": "e1", "displayName": "Eng"})),
            NormalizedGroup {
                idp_id: "e1".into(),
                name: "Eng".into()
            }
        );
        assert_eq!(
            map_group(DT, &json!({"displayName": "Eng"})),
            NormalizedGroup {
                idp_id: "".into(),
                name: "Eng".into()
            }
        );
        assert_eq!(
            map_group(DT, &json!(null)),
            NormalizedGroup {
                idp_id: "".into(),
                name: "".into()
            }
        );
        assert_eq!(map_group(DT, &json!({"DisplayName": "x"})).name, "x");
    }
}
