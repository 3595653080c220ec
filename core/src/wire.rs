//! The vendor API's objects as `Serialize` structs: the WorkOS shapes of
//! `../shared/docs/WIRE-COMPAT.md` (§1 the list envelopes, §4 the REST `directory`)
//! and scimgate's onboarding objects in the same style (organization, directory
//! token, role mapping, attribute mappings).
//!
//! They live in core because they are built from core's rows, and core's reads build
//! the same objects (`reads::list_organizations`, `reads::directory_json`): both must
//! come from one definition. Until those builders are switched over, the tests below
//! hold each struct to the `to_json` it stands for. `directory_user`,
//! `directory_group` and event objects are core's JSON as stored in the event log and
//! stay `serde_json::Value` (or text) for now.

use serde::Serialize;

use crate::clock;
use crate::model::domain_id;
use crate::model::{
    external_key, DirectoryRow, OrganizationRow, RoleMappingRow, TokenRow, UserCounts,
};
use scimgate_connectors::AttributeMapping;

/// The `object` of each shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Object {
    List,
    Organization,
    OrganizationDomain,
    Directory,
    DirectoryToken,
    RoleMapping,
}

/// WIRE-COMPAT §1: `{object: "list", data, list_metadata: {before, after}}`.
#[derive(Debug, Clone, Serialize)]
pub struct List<T> {
    pub object: Object,
    pub data: Vec<T>,
    pub list_metadata: ListMetadata,
}

/// The cursors of a page: the first and last id, where a page lies before or after.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ListMetadata {
    pub before: Option<String>,
    pub after: Option<String>,
}

impl<T> List<T> {
    /// A whole collection on one page: both cursors null.
    pub fn whole(data: Vec<T>) -> List<T> {
        List {
            object: Object::List,
            data,
            list_metadata: ListMetadata::default(),
        }
    }
}

impl<T> From<crate::service::vendor_reads::Paged<T>> for List<T> {
    fn from(p: crate::service::vendor_reads::Paged<T>) -> List<T> {
        List {
            object: Object::List,
            data: p.data,
            list_metadata: ListMetadata {
                before: p.before,
                after: p.after,
            },
        }
    }
}

/// WIRE-COMPAT §1: `EventList.list_metadata` has only `after`. (The events page
/// itself is written as text around each stored event, see `api::vendor::events`.)
#[derive(Debug, Clone, Serialize)]
pub struct EventListMetadata {
    pub after: Option<String>,
}

/// A WorkOS `organization`.
#[derive(Debug, Clone, Serialize)]
pub struct Organization {
    pub object: Object,
    pub id: String,
    pub name: String,
    pub allow_profiles_outside_organization: bool,
    pub domains: Vec<OrganizationDomain>,
    pub created_at: String,
    pub updated_at: String,
}

/// A domain of an organization (scimgate verifies none: `verified`, `manual`).
#[derive(Debug, Clone, Serialize)]
pub struct OrganizationDomain {
    pub object: Object,
    pub id: String,
    pub domain: String,
    pub state: &'static str,
    pub verification_strategy: &'static str,
}

impl From<&OrganizationRow> for Organization {
    fn from(o: &OrganizationRow) -> Organization {
        Organization {
            object: Object::Organization,
            id: o.id.clone(),
            name: o.name.clone(),
            allow_profiles_outside_organization: false,
            domains: o
                .domain_list()
                .into_iter()
                .map(|d| OrganizationDomain {
                    object: Object::OrganizationDomain,
                    id: domain_id(&o.id, &d),
                    domain: d,
                    state: "verified",
                    verification_strategy: "manual",
                })
                .collect(),
            created_at: clock::to_workos(o.created_at),
            updated_at: clock::to_workos(o.updated_at),
        }
    }
}

/// WIRE-COMPAT §4: the REST form of a directory (`state` `linked`/`unlinked`, the
/// organization's first domain as `domain`; the event form is `to_event_json`).
#[derive(Debug, Clone, Serialize)]
pub struct Directory {
    pub object: Object,
    pub id: String,
    pub organization_id: String,
    pub external_key: String,
    #[serde(rename = "type")]
    pub dir_type: String,
    pub state: String,
    pub name: String,
    pub domain: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Users by state and the number of groups, where they were counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<DirectoryMetadata>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DirectoryMetadata {
    pub users: UserCounts,
    pub groups: i64,
}

impl Directory {
    pub fn new(
        dir: &DirectoryRow,
        org: Option<&OrganizationRow>,
        counts: Option<(UserCounts, i64)>,
    ) -> Directory {
        Directory {
            object: Object::Directory,
            id: dir.id.clone(),
            organization_id: dir.organization_id.clone(),
            external_key: external_key(&dir.id),
            dir_type: dir.dir_type.clone(),
            state: dir.state.clone(),
            name: dir.name.clone(),
            domain: org.and_then(|o| o.domain_list().into_iter().next()),
            created_at: clock::to_workos(dir.created_at),
            updated_at: clock::to_workos(dir.updated_at),
            metadata: counts.map(|(users, groups)| DirectoryMetadata { users, groups }),
        }
    }
}

/// `POST /directories`: the directory with its SCIM base URL and first token, whose
/// secret is shown this once.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedDirectory {
    #[serde(flatten)]
    pub directory: Directory,
    pub scim_url: String,
    pub bearer_token: String,
    pub token: DirectoryToken,
}

impl From<&crate::service::admin::CreatedDirectory> for CreatedDirectory {
    fn from(c: &crate::service::admin::CreatedDirectory) -> CreatedDirectory {
        CreatedDirectory {
            directory: Directory::new(&c.directory, Some(&c.organization), None),
            scim_url: c.scim_url.clone(),
            bearer_token: c.bearer_token.clone(),
            token: DirectoryToken::from(&c.token),
        }
    }
}

/// A directory token as listed: never the secret or its hash.
#[derive(Debug, Clone, Serialize)]
pub struct DirectoryToken {
    pub object: Object,
    pub id: String,
    pub directory_id: String,
    pub name: String,
    pub token_suffix: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

impl From<&TokenRow> for DirectoryToken {
    fn from(t: &TokenRow) -> DirectoryToken {
        DirectoryToken {
            object: Object::DirectoryToken,
            id: t.id.clone(),
            directory_id: t.directory_id.clone(),
            name: t.name.clone(),
            token_suffix: t.suffix.clone(),
            created_at: clock::to_workos(t.created_at),
            last_used_at: t.last_used_at.map(clock::to_workos),
        }
    }
}

/// `POST /directories/{id}/tokens`: the token with its secret, shown this once, and
/// the SCIM base URL it opens.
#[derive(Debug, Clone, Serialize)]
pub struct NewDirectoryToken {
    #[serde(flatten)]
    pub token: DirectoryToken,
    pub bearer_token: String,
    pub scim_url: String,
}

/// A group → role mapping of an organization.
#[derive(Debug, Clone, Serialize)]
pub struct RoleMapping {
    pub object: Object,
    pub id: String,
    pub organization_id: String,
    pub group_id: String,
    pub role_slug: String,
    pub priority: i32,
    pub created_at: String,
}

impl From<&RoleMappingRow> for RoleMapping {
    fn from(r: &RoleMappingRow) -> RoleMapping {
        RoleMapping {
            object: Object::RoleMapping,
            id: r.id.clone(),
            organization_id: r.organization_id.clone(),
            group_id: r.group_id.clone(),
            role_slug: r.role_slug.clone(),
            priority: r.priority,
            created_at: clock::to_workos(r.created_at),
        }
    }
}

/// A directory's custom-attribute mappings: a whole list, plus whether they are its
/// type's defaults.
#[derive(Debug, Clone, Serialize)]
pub struct AttributeMappings {
    pub object: Object,
    pub data: Vec<AttributeMapping>,
    pub defaults: bool,
    pub list_metadata: ListMetadata,
}

impl AttributeMappings {
    pub fn new(data: Vec<AttributeMapping>, defaults: bool) -> AttributeMappings {
        AttributeMappings {
            object: Object::List,
            data,
            defaults,
            list_metadata: ListMetadata::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn at(h: u32) -> chrono::NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 1, 15)
            .and_then(|d| d.and_hms_micro_opt(h, 2, 3, 456_789))
            .unwrap_or_default()
    }

    fn value(v: impl Serialize) -> Value {
        serde_json::to_value(v).unwrap_or(Value::Null)
    }

    fn org() -> OrganizationRow {
        OrganizationRow {
            id: "org_01".into(),
            name: "Acme".into(),
            domains: r#"["acme.test","acme.example"]"#.into(),
            created_at: at(1),
            updated_at: at(2),
        }
    }

    fn dir(state: &str) -> DirectoryRow {
        DirectoryRow {
            id: "directory_01".into(),
            organization_id: "org_01".into(),
            name: "Acme IdP".into(),
            dir_type: "okta scim v2.0".into(),
            state: state.into(),
            last_seq: 3,
            activated_at: None,
            attribute_mappings: None,
            created_at: at(3),
            updated_at: at(4),
        }
    }

    fn token(last_used: bool) -> TokenRow {
        TokenRow {
            id: "directory_token_01".into(),
            directory_id: "directory_01".into(),
            name: "default".into(),
            token_hash: "hash".into(),
            suffix: "abcd".into(),
            created_at: at(5),
            last_used_at: last_used.then(|| at(6)),
            revoked_at: None,
        }
    }

    // the JSON text, so that key order is compared too
    fn same(a: impl Serialize, b: &Value) {
        assert_eq!(serde_json::to_string(&a).unwrap_or_default(), b.to_string());
    }

    #[test]
    fn organization_is_its_to_json() {
        same(Organization::from(&org()), &org().to_json());
        let bare = OrganizationRow {
            domains: "[]".into(),
            ..org()
        };
        same(Organization::from(&bare), &bare.to_json());
    }

    #[test]
    fn directory_is_its_to_json() {
        let counts = (
            UserCounts {
                active: 2,
                inactive: 1,
            },
            5,
        );
        for state in ["linked", "unlinked"] {
            let d = dir(state);
            same(
                Directory::new(&d, Some(&org()), Some(counts)),
                &d.to_json(Some(&org()), Some(counts)),
            );
            same(Directory::new(&d, None, None), &d.to_json(None, None));
        }
    }

    #[test]
    fn tokens_and_role_mappings_are_their_to_json() {
        for used in [false, true] {
            same(DirectoryToken::from(&token(used)), &token(used).to_json());
        }
        let r = RoleMappingRow {
            id: "role_mapping_01".into(),
            organization_id: "org_01".into(),
            group_id: "directory_group_01".into(),
            role_slug: "admin".into(),
            priority: 10,
            created_at: at(7),
        };
        same(RoleMapping::from(&r), &r.to_json());
    }

    #[test]
    fn created_directory_is_its_to_json() {
        let c = crate::service::admin::CreatedDirectory {
            directory: dir("unlinked"),
            organization: org(),
            scim_url: "http://127.0.0.1:8080/scim/v2/directory_01".into(),
            bearer_token: "sgd_secret".into(),
            token: token(false),
        };
        same(CreatedDirectory::from(&c), &c.to_json());
    }

    #[test]
    fn list_envelopes() {
        same(
            List::whole(vec![1, 2]),
            &json!({"object": "list", "data": [1, 2], "list_metadata": {"before": null, "after": null}}),
        );
        let p = crate::service::vendor_reads::Paged {
            data: vec!["a"],
            before: None,
            after: Some("x".to_string()),
        };
        same(
            List::from(p),
            &json!({"object": "list", "data": ["a"], "list_metadata": {"before": null, "after": "x"}}),
        );
        same(EventListMetadata { after: None }, &json!({"after": null}));
        assert_eq!(
            value(AttributeMappings::new(Vec::new(), true)),
            json!({"object": "list", "data": [], "defaults": true, "list_metadata": {"before": null, "after": null}})
        );
    }
}
