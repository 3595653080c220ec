//! The normalized objects: `directory_user` and `directory_group` (WorkOS shapes,
//! WIRE-COMPAT.md §5–§6), built from the stored SCIM document through the
//! directory type's connector, and the diff that becomes `previous_attributes`.

use serde_json::{json, Map, Value};

use crate::clock;
use crate::ids::{DirectoryId, OrganizationId};
use crate::model::{DirectoryRow, GroupRow, UserRow};
use crate::wire;
use scimgate_connectors::{map_group, map_user};

/// Fields of the normalized user that are compared for change detection (no-op
/// suppression) and reported in `previous_attributes`.
pub const USER_FIELDS: &[&str] = &[
    "idp_id",
    "email",
    "first_name",
    "last_name",
    "name",
    "username",
    "emails",
    "job_title",
    "state",
    "custom_attributes",
    "role",
    "roles",
];

/// The normalized fields of a user (stored in `directory_users.normalized`). `active`
/// is the effective state (an unassigned `active` keeps the previous state).
pub fn normalize_user(
    dir: &DirectoryRow,
    doc: &mut Map<String, Value>,
    roles: &[String],
    active: bool,
) -> Map<String, Value> {
    // map_user reads a Value: the document is moved in and back, not copied
    let docv = Value::Object(std::mem::take(doc));
    let n = map_user(dir.dir_type, &docv, &dir.mappings());
    if let Value::Object(m) = docv {
        *doc = m;
    }
    let mut m = match serde_json::to_value(&n) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    m.insert(
        "state".into(),
        json!(if active { "active" } else { "inactive" }),
    );
    if let Some(first) = roles.first() {
        m.insert("role".into(), json!({ "slug": first }));
        m.insert(
            "roles".into(),
            Value::Array(roles.iter().map(|r| json!({ "slug": r })).collect()),
        );
    }
    m
}

pub fn normalize_group(dir: &DirectoryRow, doc: &Map<String, Value>) -> Map<String, Value> {
    let n = map_group(dir.dir_type, &Value::Object(doc.clone()));
    match serde_json::to_value(&n) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// `previous_attributes` between two normalized objects: the old value of every
/// changed field; for `custom_attributes`, only the changed keys (old value or null).
/// Empty = nothing normalized changed (the write emits no event).
pub fn diff(old: &Map<String, Value>, new: &Map<String, Value>) -> Map<String, Value> {
    let mut prev = Map::new();
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        let o = old.get(k).unwrap_or(&Value::Null);
        let n = new.get(k).unwrap_or(&Value::Null);
        if o == n {
            continue;
        }
        if k == "custom_attributes" {
            let empty = Map::new();
            let om = o.as_object().unwrap_or(&empty);
            let nm = n.as_object().unwrap_or(&empty);
            let mut changed = Map::new();
            let mut ck: Vec<&String> = om.keys().chain(nm.keys()).collect();
            ck.sort();
            ck.dedup();
            for c in ck {
                let ov = om.get(c).unwrap_or(&Value::Null);
                if ov != nm.get(c).unwrap_or(&Value::Null) {
                    changed.insert(c.clone(), ov.clone());
                }
            }
            if !changed.is_empty() {
                prev.insert(k.clone(), Value::Object(changed));
            }
        } else {
            prev.insert(k.clone(), o.clone());
        }
    }
    prev
}

fn parse_map(s: &str) -> Map<String, Value> {
    match serde_json::from_str::<Value>(s) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

pub fn user_normalized(row: &UserRow) -> Map<String, Value> {
    parse_map(&row.normalized)
}

/// The role slugs a normalized user carries, in order (see `roles`).
pub(crate) fn roles_of(n: &Map<String, Value>) -> Vec<String> {
    n.get("roles")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|r| r.get("slug").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

pub fn user_doc(row: &UserRow) -> Map<String, Value> {
    parse_map(&row.scim)
}

pub fn group_doc(row: &GroupRow) -> Map<String, Value> {
    parse_map(&row.scim)
}

/// The `directory_user` object (without `groups`): the normalized fields as stored,
/// null where absent, `role` and `roles` only where present.
pub fn user_object(row: &UserRow, organization_id: &OrganizationId) -> wire::DirectoryUser {
    let mut n = user_normalized(row);
    let mut take = |k: &str| n.remove(k).unwrap_or(Value::Null);
    let mut raw = user_doc(row);
    raw.insert("id".into(), json!(row.id));
    wire::DirectoryUser {
        object: wire::Object::DirectoryUser,
        id: row.id.clone(),
        directory_id: row.directory_id.clone(),
        organization_id: organization_id.clone(),
        idp_id: take("idp_id"),
        email: take("email"),
        first_name: take("first_name"),
        last_name: take("last_name"),
        name: take("name"),
        username: take("username"),
        emails: Some(take("emails"))
            .filter(Value::is_array)
            .unwrap_or_else(|| json!([])),
        job_title: take("job_title"),
        state: take("state"),
        custom_attributes: Some(take("custom_attributes"))
            .filter(Value::is_object)
            .unwrap_or_else(|| json!({})),
        role: n.remove("role"),
        roles: n.remove("roles"),
        raw_attributes: raw,
        created_at: clock::to_workos(row.created_at),
        updated_at: clock::to_workos(row.updated_at),
        groups: None,
        previous_attributes: None,
    }
}

/// The `directory_group` object.
pub fn group_object(row: &GroupRow, organization_id: &OrganizationId) -> wire::DirectoryGroup {
    let mut n = parse_map(&row.normalized);
    let mut raw = group_doc(row);
    raw.insert("id".into(), json!(row.id));
    wire::DirectoryGroup {
        object: wire::Object::DirectoryGroup,
        id: row.id.clone(),
        idp_id: n.remove("idp_id").unwrap_or(json!("")),
        directory_id: row.directory_id.clone(),
        organization_id: organization_id.clone(),
        name: n.remove("name").unwrap_or(json!(row.display_name)),
        raw_attributes: raw,
        created_at: clock::to_workos(row.created_at),
        updated_at: clock::to_workos(row.updated_at),
        previous_attributes: None,
    }
}

/// A membership event's data (`wire::MembershipChange`) as text, from the serialized
/// user and group objects.
pub fn membership_payload_json(directory_id: &DirectoryId, user: &str, group: &str) -> String {
    let d = json_str(directory_id.as_str());
    let mut out = String::with_capacity(d.len() + user.len() + group.len() + 40);
    out.push_str("{\"directory_id\":");
    out.push_str(&d);
    out.push_str(",\"user\":");
    out.push_str(user);
    out.push_str(",\"group\":");
    out.push_str(group);
    out.push('}');
    out
}

use crate::json::{push_string as push_str, string as json_str, RawFields};

/// `user_object(row, organization_id).to_string()`, byte for byte, without building
/// the object: the stored JSON of the normalized fields and of the SCIM document is
/// spliced as it is. This is the hot path of membership events (a PATCH adding 100
/// members writes 100 user objects). A stored document it cannot splice (a key with
/// an escape, an `id` inside the SCIM document) takes the `user_object` path.
///
/// The SCIM document is not parsed: it is stored as serde_json writes a map (compact,
/// keys escaped only for `"`, `\\` and control characters), so a member `id` shows
/// as the text `"id"`; the text anywhere in the document, a nested `id` included,
/// sends the user down the `user_object` path, which gives the same bytes.
pub fn user_object_json(row: &UserRow, organization_id: &OrganizationId) -> String {
    let Ok(n) = serde_json::from_str::<RawFields<'_>>(&row.normalized) else {
        return crate::json::text(&user_object(row, organization_id));
    };
    let scim = row.scim.trim();
    let Some(members) = scim
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .filter(|m| !m.contains("\"id\""))
    else {
        return crate::json::text(&user_object(row, organization_id));
    };
    let mut o = String::with_capacity(row.normalized.len() + row.scim.len() + 300);
    o.push_str("{\"object\":\"directory_user\",\"id\":");
    push_str(&mut o, row.id.as_str());
    o.push_str(",\"directory_id\":");
    push_str(&mut o, row.directory_id.as_str());
    o.push_str(",\"organization_id\":");
    push_str(&mut o, organization_id.as_str());
    for k in USER_FIELDS {
        let v = n.get(k).map(|v| v.get());
        let v = match (*k, v) {
            ("role" | "roles", None) => continue,
            ("custom_attributes", v) if !v.is_some_and(|v| v.starts_with('{')) => "{}",
            ("emails", v) if !v.is_some_and(|v| v.starts_with('[')) => "[]",
            (_, Some(v)) => v,
            (_, None) => "null",
        };
        o.push_str(",\"");
        o.push_str(k);
        o.push_str("\":");
        o.push_str(v);
    }
    o.push_str(",\"raw_attributes\":{");
    o.push_str(members);
    if !members.trim().is_empty() {
        o.push(',');
    }
    o.push_str("\"id\":");
    push_str(&mut o, row.id.as_str());
    o.push_str("},\"created_at\":");
    push_str(&mut o, &clock::to_workos(row.created_at));
    o.push_str(",\"updated_at\":");
    push_str(&mut o, &clock::to_workos(row.updated_at));
    o.push('}');
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(normalized: Value, scim: Value) -> UserRow {
        UserRow::fixture(&scim.to_string(), &normalized.to_string(), 1)
    }

    #[test]
    fn json_str_is_serde_json() {
        for s in [
            "",
            "directory_01",
            "Á ü 😀",
            "a\"b",
            "a\\b",
            "tab\there",
            "nl\n",
            "\u{1}\u{1f}",
            "\u{7f}\u{2028}",
        ] {
            assert_eq!(json_str(s), Value::String(s.into()).to_string(), "{s:?}");
        }
    }

    #[test]
    fn user_object_json_is_user_object_serialized() {
        let full = json!({"idp_id": "00u1", "email": "a@x.test", "first_name": "Á \"q\"",
            "last_name": null, "name": "A B", "username": "a@x.test",
            "emails": [{"primary": true, "value": "a@x.test"}], "job_title": "Eng",
            "state": "active", "custom_attributes": {"department": "R&D"},
            "role": {"slug": "admin"}, "roles": [{"slug": "admin"}]});
        let cases = [
            row(
                full.clone(),
                json!({"userName": "a@x.test", "name": {"givenName": "Á"}, "active": true}),
            ),
            // no roles, no custom attributes, emails not an array, empty document
            row(
                json!({"state": "inactive", "emails": null, "custom_attributes": []}),
                json!({}),
            ),
            // an `id` in the document, or a document that is not an object
            row(full.clone(), json!({"id": "other", "userName": "x"})),
            // the text `"id"` elsewhere: a nested member, a value (the slower path)
            row(
                full.clone(),
                json!({"userName": "x", "manager": {"id": "m"}}),
            ),
            row(full.clone(), json!({"userName": "x", "nickName": "id"})),
            // escaped text and an enterprise extension, spliced as stored
            row(
                full.clone(),
                json!({"userName": "a\"b\\c\u{1}", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "R&D"}}),
            ),
            UserRow {
                scim: "not json".into(),
                ..row(full, json!({}))
            },
        ];
        let org = OrganizationId::test("org_1");
        for r in &cases {
            assert_eq!(
                user_object_json(r, &org),
                crate::json::text(&user_object(r, &org))
            );
        }
        // a membership event's data: the text spliced from the objects' texts is the
        // struct serialized
        let group = GroupRow {
            id: crate::ids::DirectoryGroupId::test("directory_group_01"),
            directory_id: DirectoryId::test("directory_01"),
            display_name: "Developers".into(),
            display_name_ci: "developers".into(),
            external_id: None,
            version: 1,
            scim: r#"{"displayName":"Developers"}"#.into(),
            normalized: r#"{"idp_id":"g-1","name":"Developers"}"#.into(),
            created_at: cases[0].created_at,
            updated_at: cases[0].updated_at,
        };
        let dir = DirectoryId::test("directory_01");
        let change = wire::MembershipChange {
            directory_id: dir.clone(),
            user: user_object(&cases[0], &org),
            group: group_object(&group, &org),
        };
        assert_eq!(
            membership_payload_json(
                &dir,
                &user_object_json(&cases[0], &org),
                &crate::json::text(&group_object(&group, &org))
            ),
            crate::json::text(&change)
        );
    }

    #[test]
    fn diff_reports_only_changed_fields_and_custom_keys() {
        let old = json!({"state": "active", "first_name": "A", "custom_attributes": {"department": "x", "division": "d"}});
        let new = json!({"state": "inactive", "first_name": "A", "custom_attributes": {"department": "y", "division": "d"}});
        let d = diff(
            old.as_object().unwrap_or(&Map::new()),
            new.as_object().unwrap_or(&Map::new()),
        );
        assert_eq!(
            Value::Object(d),
            json!({"state": "active", "custom_attributes": {"department": "x"}})
        );
        let same = diff(
            old.as_object().unwrap_or(&Map::new()),
            old.as_object().unwrap_or(&Map::new()),
        );
        assert!(same.is_empty());
    }
}
