//! Row types (diesel) and the small domain values built from them.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::{json, Map, Value};

use crate::clock;
use crate::store::schema::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = organizations)]
pub struct OrganizationRow {
    pub id: String,
    pub name: String,
    pub domains: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl OrganizationRow {
    pub fn domain_list(&self) -> Vec<String> {
        serde_json::from_str(&self.domains).unwrap_or_default()
    }

    /// WorkOS `organization` object.
    pub fn to_json(&self) -> Value {
        let domains: Vec<Value> = self
            .domain_list()
            .iter()
            .map(|d| {
                json!({"object": "organization_domain", "id": domain_id(&self.id, d), "domain": d,
                       "state": "verified", "verification_strategy": "manual"})
            })
            .collect();
        json!({
            "object": "organization",
            "id": self.id,
            "name": self.name,
            "allow_profiles_outside_organization": false,
            "domains": domains,
            "created_at": clock::to_workos(self.created_at),
            "updated_at": clock::to_workos(self.updated_at),
        })
    }
}

/// A stable id for an organization domain (WorkOS `org_domain_…`), derived from the
/// organization and the domain name.
pub fn domain_id(org_id: &str, domain: &str) -> String {
    use sha2::Digest;
    let h = sha2::Sha256::digest(format!("{org_id}/{domain}").as_bytes());
    let mut s = String::from("org_domain_");
    // 26 Crockford base32 characters, ULID-shaped
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    for i in 0..26 {
        let b = h.get(i).copied().unwrap_or(0);
        s.push(ALPHABET[(b & 31) as usize] as char);
    }
    s
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = directories)]
pub struct DirectoryRow {
    pub id: String,
    pub organization_id: String,
    pub name: String,
    pub dir_type: String,
    pub state: String,
    pub last_seq: i64,
    pub activated_at: Option<NaiveDateTime>,
    pub attribute_mappings: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub const DIR_STATE_LINKED: &str = "linked";
pub const DIR_STATE_UNLINKED: &str = "unlinked";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct UserCounts {
    pub active: i64,
    pub inactive: i64,
}

impl DirectoryRow {
    pub fn dir_type(&self) -> scimgate_connectors::DirectoryType {
        scimgate_connectors::DirectoryType::parse(&self.dir_type)
            .unwrap_or(scimgate_connectors::DirectoryType::Generic)
    }

    /// The custom-attribute mappings in force: the directory's own, or the type's defaults.
    pub fn mappings(&self) -> std::borrow::Cow<'static, [scimgate_connectors::AttributeMapping]> {
        match self
            .attribute_mappings
            .as_deref()
            .and_then(|s| serde_json::from_str::<Vec<_>>(s).ok())
        {
            Some(own) => std::borrow::Cow::Owned(own),
            None => {
                std::borrow::Cow::Borrowed(scimgate_connectors::default_mappings(self.dir_type()))
            }
        }
    }

    /// WorkOS REST `directory` object (WIRE-COMPAT.md §4).
    pub fn to_json(
        &self,
        org: Option<&OrganizationRow>,
        counts: Option<(UserCounts, i64)>,
    ) -> Value {
        let domain = org.and_then(|o| o.domain_list().into_iter().next());
        let mut v = json!({
            "object": "directory",
            "id": self.id,
            "organization_id": self.organization_id,
            "external_key": external_key(&self.id),
            "type": self.dir_type,
            "state": self.state,
            "name": self.name,
            "domain": domain,
            "created_at": clock::to_workos(self.created_at),
            "updated_at": clock::to_workos(self.updated_at),
        });
        if let (Some((u, g)), Some(obj)) = (counts, v.as_object_mut()) {
            obj.insert(
                "metadata".into(),
                json!({"users": {"active": u.active, "inactive": u.inactive}, "groups": g}),
            );
        }
        v
    }

    /// The event form of a directory (`dsync.activated` / `dsync.deleted`): state in the
    /// event vocabulary and `domains` objects instead of `domain` (WIRE-COMPAT.md §4).
    pub fn to_event_json(&self, org: Option<&OrganizationRow>, with_domains: bool) -> Value {
        let state = match self.state.as_str() {
            DIR_STATE_LINKED => "active",
            DIR_STATE_UNLINKED => "inactive",
            other => other,
        };
        let mut v = json!({
            "object": "directory",
            "id": self.id,
            "organization_id": self.organization_id,
            "type": self.dir_type,
            "state": state,
            "name": self.name,
            "created_at": clock::to_workos(self.created_at),
            "updated_at": clock::to_workos(self.updated_at),
        });
        if with_domains {
            let domains: Vec<Value> = org
                .map(|o| {
                    o.domain_list()
                        .iter()
                        .map(|d| json!({"object": "organization_domain", "id": domain_id(&o.id, d), "domain": d}))
                        .collect()
                })
                .unwrap_or_default();
            if let Some(obj) = v.as_object_mut() {
                obj.insert("domains".into(), Value::Array(domains));
                obj.insert("external_key".into(), Value::String(external_key(&self.id)));
            }
        }
        v
    }
}

/// WorkOS exposes an opaque `external_key` per directory; derive a stable one.
pub fn external_key(directory_id: &str) -> String {
    use sha2::Digest;
    let h = sha2::Sha256::digest(directory_id.as_bytes());
    hex::encode(h).chars().take(16).collect()
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = directory_tokens)]
pub struct TokenRow {
    pub id: String,
    pub directory_id: String,
    pub name: String,
    pub token_hash: String,
    pub suffix: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

impl TokenRow {
    /// Listing form: never the secret or its hash.
    pub fn to_json(&self) -> Value {
        json!({
            "object": "directory_token",
            "id": self.id,
            "directory_id": self.directory_id,
            "name": self.name,
            "token_suffix": self.suffix,
            "created_at": clock::to_workos(self.created_at),
            "last_used_at": self.last_used_at.map(clock::to_workos),
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_keys)]
pub struct ApiKeyRow {
    pub id: String,
    pub name: String,
    pub key_hash: String,
    pub suffix: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, QueryableByName)]
#[diesel(table_name = directory_users)]
pub struct UserRow {
    pub id: String,
    pub directory_id: String,
    pub user_name: String,
    pub user_name_ci: String,
    pub external_id: Option<String>,
    pub active: bool,
    pub email_ci: Option<String>,
    pub state: String,
    pub version: i64,
    pub scim: String,
    pub normalized: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, QueryableByName)]
#[diesel(table_name = directory_groups)]
pub struct GroupRow {
    pub id: String,
    pub directory_id: String,
    pub display_name: String,
    pub display_name_ci: String,
    pub external_id: Option<String>,
    pub version: i64,
    pub scim: String,
    pub normalized: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = user_attrs)]
pub struct AttrRow {
    pub user_id: String,
    pub directory_id: String,
    pub attr: String,
    pub elem: i32,
    pub vtype: Option<String>,
    pub vprimary: Option<bool>,
    pub value: Option<String>,
    pub value_ci: Option<String>,
}

/// A member or group reference as rendered (`value`, `display`, `$ref`, `type`):
/// a user's group, or a group's member.
#[derive(Debug, Clone)]
pub struct Ref {
    pub id: String,
    pub display: Option<String>,
    pub kind: &'static str,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = memberships)]
pub struct MembershipRow {
    pub group_id: String,
    pub member_id: String,
    pub directory_id: String,
    pub member_type: String,
    pub created_at: NaiveDateTime,
    /// The `display` a client sent for this member, if any.
    pub display: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = events)]
pub struct EventRow {
    pub gid: i64,
    pub id: String,
    pub txid: i64,
    pub directory_id: String,
    pub organization_id: String,
    pub seq: i64,
    pub event: String,
    pub data: String,
    pub created_at: NaiveDateTime,
    /// How many events the row holds (see `events::list`); 1 for an event read out.
    pub n: i32,
}

impl EventRow {
    /// The envelope as JSON text, with the stored `data` spliced in verbatim (it is
    /// JSON written by scimgate): no parse and re-serialization per event on reads.
    pub fn to_json_string(&self) -> String {
        let s = |v: &str| serde_json::to_string(v).unwrap_or_else(|_| "\"\"".into());
        let data = if self.data.is_empty() {
            "{}"
        } else {
            self.data.as_str()
        };
        format!(
            "{{\"object\":\"event\",\"id\":{},\"event\":{},\"data\":{},\"created_at\":{},\"directory_id\":{},\"organization_id\":{},\"sequence\":{}}}",
            s(&self.id),
            s(&self.event),
            data,
            s(&clock::to_workos(self.created_at)),
            s(&self.directory_id),
            s(&self.organization_id),
            self.seq
        )
    }

    /// The WorkOS event envelope (WIRE-COMPAT.md §3) plus scimgate's per-directory
    /// `sequence`.
    pub fn to_json(&self) -> Value {
        let data: Value = serde_json::from_str(&self.data).unwrap_or(Value::Object(Map::new()));
        json!({
            "object": "event",
            "id": self.id,
            "event": self.event,
            "data": data,
            "created_at": clock::to_workos(self.created_at),
            "directory_id": self.directory_id,
            "organization_id": self.organization_id,
            "sequence": self.seq,
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = role_mappings)]
pub struct RoleMappingRow {
    pub id: String,
    pub organization_id: String,
    pub group_id: String,
    pub role_slug: String,
    pub priority: i32,
    pub created_at: NaiveDateTime,
}

#[cfg(test)]
impl UserRow {
    /// A user row for unit tests: fixed ids and times, the given stored documents.
    pub(crate) fn fixture(scim: &str, normalized: &str, version: i64) -> UserRow {
        let t = chrono::NaiveDate::from_ymd_opt(2026, 11, 26)
            .and_then(|d| d.and_hms_micro_opt(1, 2, 3, 456_789))
            .unwrap_or_default();
        UserRow {
            id: "directory_user_01".into(),
            directory_id: "directory_01".into(),
            user_name: "a@x.test".into(),
            user_name_ci: "a@x.test".into(),
            external_id: None,
            active: true,
            email_ci: None,
            state: "active".into(),
            version,
            scim: scim.into(),
            normalized: normalized.into(),
            created_at: t,
            updated_at: t,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_text_equals_event_json() {
        let e = EventRow {
            gid: 1,
            id: "event_01".into(),
            txid: 0,
            directory_id: "directory_\"x".into(),
            organization_id: "org_1".into(),
            seq: 7,
            event: "dsync.user.created".into(),
            data: r#"{"object":"directory_user","name":"A \"B\" é"}"#.into(),
            created_at: crate::clock::now(),
            n: 1,
        };
        let parsed: Value = serde_json::from_str(&e.to_json_string()).unwrap_or(Value::Null);
        assert_eq!(parsed, e.to_json());
    }
}
