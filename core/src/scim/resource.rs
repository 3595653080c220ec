//! SCIM representations of stored users and groups (RFC 7643 §3.1 `id`/`meta`,
//! §4.1 `groups`, §4.2 `members`), and `attributes` / `excludedAttributes`
//! projection (RFC 7644 §3.4.2.5; `id` and `schemas` are always returned).

use serde_json::{json, Map, Value};

use crate::clock;
use crate::model::{GroupRow, UserRow};

pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// Weak ETag of a resource version (RFC 7644 §3.14).
pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// True when an `If-Match` header value admits the current version.
pub fn if_match_ok(header: &str, version: i64) -> bool {
    let want = etag(version);
    header.split(',').map(str::trim).any(|t| {
        t == "*" || t == want || t.trim_start_matches("W/") == want.trim_start_matches("W/")
    })
}

fn meta(
    resource_type: &str,
    created: chrono::NaiveDateTime,
    modified: chrono::NaiveDateTime,
    location: String,
    version: i64,
) -> Value {
    json!({
        "resourceType": resource_type,
        "created": clock::to_scim(created),
        "lastModified": clock::to_scim(modified),
        "location": location,
        "version": etag(version),
    })
}

fn parse_doc(s: &str) -> Map<String, Value> {
    match serde_json::from_str::<Value>(s) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

pub use crate::model::Ref;

fn ref_json(base: &str, r: &Ref) -> Value {
    let coll = if r.kind == "Group" { "Groups" } else { "Users" };
    let mut o = Map::new();
    o.insert("value".into(), json!(r.id));
    o.insert("$ref".into(), json!(format!("{base}/{coll}/{}", r.id)));
    if let Some(d) = &r.display {
        o.insert("display".into(), json!(d));
    }
    o.insert("type".into(), json!(r.kind));
    Value::Object(o)
}

/// `base` is the directory's SCIM base URL.
pub fn render_user(row: &UserRow, groups: Option<&[Ref]>, base: &str) -> Value {
    let doc = parse_doc(&row.scim);
    let mut o = Map::new();
    o.insert("id".into(), json!(row.id));
    for (k, v) in doc {
        o.insert(k, v);
    }
    if let Some(gs) = groups {
        o.insert(
            "groups".into(),
            Value::Array(gs.iter().map(|g| ref_json(base, g)).collect()),
        );
    }
    o.insert(
        "meta".into(),
        meta(
            "User",
            row.created_at,
            row.updated_at,
            format!("{base}/Users/{}", row.id),
            row.version,
        ),
    );
    Value::Object(o)
}

/// [`render_user`] as JSON text: the same bytes as `json::text(&render_user(..))`, with
/// the stored document spliced in as it is instead of parsed and serialized again (that
/// was a third of the server's work for a lookup that finds its user). The stored
/// document is always compact serde_json output of a map, so its members are exactly
/// what re-serializing them would write. `None` when it cannot be spliced so: not an
/// object, a key that needs unescaping, a key twice, or a key the rendering sets itself
/// (`id`, `groups`, `meta`); the caller then renders the `Value`.
pub fn render_user_text(row: &UserRow, groups: Option<&[Ref]>, base: &str) -> Option<String> {
    let doc = row.scim.trim();
    let fields: crate::json::RawFields<'_> = serde_json::from_str(doc).ok()?;
    let keys = &fields.0;
    for (i, (k, _)) in keys.iter().enumerate() {
        if matches!(*k, "id" | "groups" | "meta") || keys[..i].iter().any(|(p, _)| p == k) {
            return None;
        }
    }
    let inner = doc.strip_prefix('{')?.strip_suffix('}')?;
    let meta = crate::json::text(&meta(
        "User",
        row.created_at,
        row.updated_at,
        format!("{base}/Users/{}", row.id),
        row.version,
    ));
    let mut out = String::with_capacity(doc.len() + meta.len() + 64);
    out.push_str("{\"id\":");
    out.push_str(&crate::json::string(row.id.as_str()));
    if !keys.is_empty() {
        out.push(',');
        out.push_str(inner);
    }
    if let Some(gs) = groups {
        out.push_str(",\"groups\":");
        out.push_str(&crate::json::text(&Value::Array(
            gs.iter().map(|g| ref_json(base, g)).collect(),
        )));
    }
    out.push_str(",\"meta\":");
    out.push_str(&meta);
    out.push('}');
    Some(out)
}

pub fn render_group(row: &GroupRow, members: Option<&[Ref]>, base: &str) -> Value {
    let doc = parse_doc(&row.scim);
    let mut o = Map::new();
    o.insert("id".into(), json!(row.id));
    for (k, v) in doc {
        o.insert(k, v);
    }
    if let Some(ms) = members {
        o.insert(
            "members".into(),
            Value::Array(ms.iter().map(|m| ref_json(base, m)).collect()),
        );
    }
    o.insert(
        "meta".into(),
        meta(
            "Group",
            row.created_at,
            row.updated_at,
            format!("{base}/Groups/{}", row.id),
            row.version,
        ),
    );
    Value::Object(o)
}

/// Parsed `attributes` / `excludedAttributes` (comma-separated attribute paths).
#[derive(Debug, Clone, Default)]
pub struct Projection {
    pub attributes: Vec<String>,
    pub excluded: Vec<String>,
}

impl Projection {
    pub fn parse(attributes: Option<&str>, excluded: Option<&str>) -> Projection {
        let split = |s: Option<&str>| -> Vec<String> {
            s.map(|s| {
                s.split(',')
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty())
                    .take(100)
                    .collect()
            })
            .unwrap_or_default()
        };
        Projection {
            attributes: split(attributes),
            excluded: split(excluded),
        }
    }

    pub fn is_identity(&self) -> bool {
        self.attributes.is_empty() && self.excluded.is_empty()
    }

    /// Whether the rendering needs `name` at all (e.g. skip loading members).
    pub fn wants(&self, top: &str) -> bool {
        let hit = |p: &String| split_path(p).0.eq_ignore_ascii_case(top);
        if !self.attributes.is_empty() {
            return self.attributes.iter().any(hit);
        }
        !self
            .excluded
            .iter()
            .any(|p| hit(p) && split_path(p).1.is_none())
    }

    pub fn apply(&self, v: Value) -> Value {
        let Value::Object(mut o) = v else {
            return v;
        };
        if !self.attributes.is_empty() {
            let mut out = Map::new();
            for key in ["schemas", "id"] {
                if let Some(x) = o.get(key) {
                    out.insert(key.to_string(), x.clone());
                }
            }
            for p in &self.attributes {
                let (top, sub) = split_path(p);
                let Some((k, val)) = o.iter().find(|(k, _)| k.eq_ignore_ascii_case(top)) else {
                    continue;
                };
                match (sub, val) {
                    (None, _) => {
                        out.insert(k.clone(), val.clone());
                    }
                    (Some(sub), Value::Object(inner)) => {
                        if let Some((sk, sv)) =
                            inner.iter().find(|(sk, _)| sk.eq_ignore_ascii_case(sub))
                        {
                            let entry = out.entry(k.clone()).or_insert_with(|| json!({}));
                            if let Some(e) = entry.as_object_mut() {
                                e.insert(sk.clone(), sv.clone());
                            }
                        }
                    }
                    (Some(sub), Value::Array(items)) => {
                        let picked: Vec<Value> = items
                            .iter()
                            .filter_map(|it| it.as_object())
                            .map(|it| {
                                let mut m = Map::new();
                                if let Some((sk, sv)) =
                                    it.iter().find(|(sk, _)| sk.eq_ignore_ascii_case(sub))
                                {
                                    m.insert(sk.clone(), sv.clone());
                                }
                                Value::Object(m)
                            })
                            .collect();
                        out.insert(k.clone(), Value::Array(picked));
                    }
                    _ => {}
                }
            }
            return Value::Object(out);
        }
        for p in &self.excluded {
            let (top, sub) = split_path(p);
            if top.eq_ignore_ascii_case("id") || top.eq_ignore_ascii_case("schemas") {
                continue;
            }
            let key = o.keys().find(|k| k.eq_ignore_ascii_case(top)).cloned();
            let Some(key) = key else { continue };
            match sub {
                None => {
                    o.remove(&key);
                }
                Some(sub) => match o.get_mut(&key) {
                    Some(Value::Object(inner)) => {
                        inner.retain(|k, _| !k.eq_ignore_ascii_case(sub));
                    }
                    Some(Value::Array(items)) => {
                        for it in items.iter_mut() {
                            if let Some(m) = it.as_object_mut() {
                                m.retain(|k, _| !k.eq_ignore_ascii_case(sub));
                            }
                        }
                    }
                    _ => {}
                },
            }
        }
        Value::Object(o)
    }
}

/// `urn:…:User:name.givenName` → (`name`, Some(`givenName`)) — extension URNs are
/// kept whole as the top-level key.
fn split_path(p: &str) -> (&str, Option<&str>) {
    let p = p
        .strip_prefix("urn:ietf:params:scim:schemas:core:2.0:User:")
        .or_else(|| p.strip_prefix("urn:ietf:params:scim:schemas:core:2.0:Group:"))
        .unwrap_or(p);
    if p.starts_with("urn:") {
        // `urn:…:enterprise:2.0:User:department` → top = the URN, sub = department
        if let Some((urn, attr)) = p.rsplit_once(':') {
            if urn.contains(":2.0:") || urn.matches(':').count() >= 3 {
                return (urn, Some(attr));
            }
        }
        return (p, None);
    }
    match p.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (p, None),
    }
}

pub fn list_response(total: i64, start_index: i64, resources: Vec<Value>) -> Value {
    let mut o = Map::new();
    o.insert("schemas".into(), json!([LIST_RESPONSE]));
    o.insert("totalResults".into(), json!(total));
    o.insert("itemsPerPage".into(), json!(resources.len()));
    o.insert("startIndex".into(), json!(start_index));
    // moved in: `json!` would serialize the resources into a new Value, a deep copy of every
    // resource on the lookup path (docs/BENCHMARKS.md, "What was tried")
    o.insert("Resources".into(), Value::Array(resources));
    Value::Object(o)
}

/// [`list_response`] as JSON text, from resources already rendered as text.
pub fn list_response_text(total: i64, start_index: i64, resources: &[String]) -> String {
    let mut out = String::with_capacity(resources.iter().map(|r| r.len() + 1).sum::<usize>() + 160);
    out.push_str("{\"schemas\":[\"");
    out.push_str(LIST_RESPONSE);
    out.push_str("\"],\"totalResults\":");
    out.push_str(&total.to_string());
    out.push_str(",\"itemsPerPage\":");
    out.push_str(&resources.len().to_string());
    out.push_str(",\"startIndex\":");
    out.push_str(&start_index.to_string());
    out.push_str(",\"Resources\":[");
    for (i, r) in resources.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(r);
    }
    out.push_str("]}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user_row(scim: &str) -> UserRow {
        UserRow::fixture(scim, "{}", 7)
    }

    /// The spliced text is byte for byte the rendered Value's, for stored documents as
    /// the write path stores them (compact serde_json of a map), and the cases it cannot
    /// splice are declined, not rendered differently.
    #[test]
    fn render_user_text_is_render_user_serialized() {
        let groups = [Ref {
            id: "directory_group_01".into(),
            display: Some("Eng \"core\"".into()),
            kind: "Group",
        }];
        let docs = [
            json!({}),
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a@x.test",
                "name": {"givenName": "Á", "familyName": "B\u{1}\"q\\"}, "active": true,
                "emails": [{"value": "a@x.test", "primary": true, "type": "work"}], "n": 1.5, "big": 12345678901i64,
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": "m"}, "costCenter": "4"},
                "x": null, "nested": [[], {}, [1, "😀"]]}),
        ];
        for d in &docs {
            let row = user_row(&crate::json::text(d));
            for g in [None, Some(&groups[..]), Some(&[][..])] {
                let want = crate::json::text(&render_user(&row, g, "https://h/scim/v2/d"));
                assert_eq!(
                    render_user_text(&row, g, "https://h/scim/v2/d").as_deref(),
                    Some(want.as_str()),
                    "{d}"
                );
            }
        }
        for declined in [
            r#"{"id":"x","userName":"a"}"#,
            r#"{"meta":{}}"#,
            r#"{"groups":[]}"#,
            r#"{"a":1,"a":2}"#,
            r#"{"\u0061":1}"#,
            "[1]",
            "not json",
        ] {
            assert_eq!(
                render_user_text(&user_row(declined), None, "b"),
                None,
                "{declined}"
            );
        }
        let items = [crate::json::text(&docs[1]), "{}".to_string()];
        let values: Vec<Value> = items
            .iter()
            .map(|t| serde_json::from_str(t).unwrap_or_default())
            .collect();
        for (total, start, n) in [(0, 1, 0), (2, 1, 2), (40, 3, 1)] {
            assert_eq!(
                list_response_text(total, start, &items[..n]),
                crate::json::text(&list_response(total, start, values[..n].to_vec()))
            );
        }
    }

    #[test]
    fn projection_keeps_id_and_schemas() {
        let v = json!({"schemas": ["s"], "id": "1", "userName": "a", "name": {"givenName": "A", "familyName": "B"}, "members": [1]});
        let p = Projection::parse(Some("userName,name.givenName"), None);
        assert_eq!(
            p.apply(v.clone()),
            json!({"schemas": ["s"], "id": "1", "userName": "a", "name": {"givenName": "A"}})
        );
        let p = Projection::parse(None, Some("members,name.familyName,id"));
        assert_eq!(
            p.apply(v),
            json!({"schemas": ["s"], "id": "1", "userName": "a", "name": {"givenName": "A"}})
        );
        assert!(!Projection::parse(None, Some("members")).wants("members"));
        assert!(Projection::parse(None, None).wants("members"));
        assert!(!Projection::parse(Some("displayName"), None).wants("members"));
    }

    #[test]
    fn if_match_accepts_star_and_current_version() {
        assert!(if_match_ok("*", 3));
        assert!(if_match_ok("W/\"3\"", 3));
        assert!(if_match_ok("\"3\"", 3));
        assert!(!if_match_ok("W/\"2\"", 3));
    }
}
