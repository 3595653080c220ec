//! The vendor API's objects as `Serialize` structs: the WorkOS shapes of
//! `../shared/docs/WIRE-COMPAT.md` (§1 the list envelopes, §3 the event envelope, §4
//! the directory in its REST and event forms, §5 the directory user, §6 the directory
//! group) and scimgate's onboarding objects in the same style (organization, directory
//! token, role mapping and its explanation, attribute mappings).
//!
//! Field order is wire order. They live in core because core builds them: its reads
//! answer with them and its writes store them as event `data` (serialized once, at
//! the write). Ids are the `ids` newtypes, directory type and state their enums; the
//! fields of a user or group that the directory's connector normalizes
//! (`scimgate_connectors::map_user`) stay JSON values, as stored.
//!
//! Two objects are also written as text for speed, and tests hold the text to these
//! structs byte for byte: the event envelope around stored `data`
//! (`EventRow::to_json_string`) and a user's object in the writes' event payloads
//! (`service::directory_user::user_object_json`).

use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::clock;
use crate::ids::{
    DirectoryGroupId, DirectoryId, DirectoryUserId, EventId, OrganizationId, RoleMappingId, TokenId,
};
use crate::model::{
    domain_id, external_key, DirectoryRow, DirectoryState, EventRow, OrganizationRow,
    RoleMappingRow, TokenRow, UserCounts,
};
use scimgate_connectors::{AttributeMapping, DirectoryType};

/// The `object` of each shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Object {
    List,
    Event,
    Organization,
    OrganizationDomain,
    Directory,
    DirectoryToken,
    DirectoryUser,
    DirectoryGroup,
    RoleMapping,
    RoleExplanation,
}

/// WIRE-COMPAT §1: `{object: "list", data, list_metadata: {before, after}}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct List<T> {
    /// The kind of object, in snake case (`list`, `organization`, …).
    #[schema(value_type = String)]
    pub object: Object,
    pub data: Vec<T>,
    pub list_metadata: ListMetadata,
}

/// The cursors of a page: the first and last id, where a page lies before or after.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
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
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventListMetadata {
    pub after: Option<String>,
}

/// WIRE-COMPAT §3: the event envelope, plus scimgate's `directory_id`,
/// `organization_id` and per-directory `sequence`; `data` is the stored JSON.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Event<'a> {
    /// The kind of object, in snake case (`list`, `organization`, …).
    #[schema(value_type = String)]
    pub object: Object,
    pub id: &'a EventId,
    pub event: &'a str,
    #[schema(value_type = Object)]
    pub data: &'a RawValue,
    pub created_at: String,
    pub directory_id: &'a DirectoryId,
    pub organization_id: &'a OrganizationId,
    pub sequence: i64,
}

impl<'a> Event<'a> {
    /// The envelope of `row`, its `data` given as JSON.
    pub fn new(row: &'a EventRow, data: &'a RawValue) -> Event<'a> {
        Event {
            object: Object::Event,
            id: &row.id,
            event: &row.event,
            data,
            created_at: clock::to_workos(row.created_at),
            directory_id: &row.directory_id,
            organization_id: &row.organization_id,
            sequence: row.seq,
        }
    }
}

/// A WorkOS `organization`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Organization {
    /// The kind of object, in snake case (`list`, `organization`, …).
    #[schema(value_type = String)]
    pub object: Object,
    pub id: OrganizationId,
    pub name: String,
    pub allow_profiles_outside_organization: bool,
    pub domains: Vec<OrganizationDomain>,
    pub created_at: String,
    pub updated_at: String,
}

/// A domain of an organization (scimgate verifies none: `verified`, `manual`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrganizationDomain {
    /// The kind of object, in snake case (`list`, `organization`, …).
    #[schema(value_type = String)]
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
/// organization's first domain as `domain`; the event form is [`DirectoryEvent`]).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Directory {
    /// The kind of object, in snake case (`list`, `organization`, …).
    #[schema(value_type = String)]
    pub object: Object,
    pub id: DirectoryId,
    pub organization_id: OrganizationId,
    pub external_key: String,
    #[serde(rename = "type")]
    #[schema(value_type = String)]
    pub dir_type: DirectoryType,
    #[schema(value_type = String)]
    pub state: DirectoryState,
    pub name: String,
    pub domain: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Users by state and the number of groups, where they were counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<DirectoryMetadata>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
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
            dir_type: dir.dir_type,
            state: dir.state,
            name: dir.name.clone(),
            domain: org.and_then(|o| o.domain_list().into_iter().next()),
            created_at: clock::to_workos(dir.created_at),
            updated_at: clock::to_workos(dir.updated_at),
            metadata: counts.map(|(users, groups)| DirectoryMetadata { users, groups }),
        }
    }
}

/// WIRE-COMPAT §4: a directory in event payloads (`dsync.activated`, `dsync.deleted`):
/// the state in the events' vocabulary; `dsync.activated` adds the organization's
/// `domains` (objects, not the REST form's `domain`) and the `external_key`, which
/// `dsync.deleted` leaves out (§2).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DirectoryEvent {
    /// The kind of object, in snake case (`list`, `organization`, …).
    #[schema(value_type = String)]
    pub object: Object,
    pub id: DirectoryId,
    pub organization_id: OrganizationId,
    #[serde(rename = "type")]
    #[schema(value_type = String)]
    pub dir_type: DirectoryType,
    #[schema(value_type = String)]
    pub state: EventDirectoryState,
    pub name: String,
    pub created_at: String,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domains: Option<Vec<EventOrganizationDomain>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_key: Option<String>,
}

/// A directory state as event payloads name it (`DirectoryState::event_name`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventDirectoryState(pub DirectoryState);

impl Serialize for EventDirectoryState {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.event_name())
    }
}

/// An organization domain in a directory's event form: `{object, id, domain}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventOrganizationDomain {
    /// The kind of object, in snake case (`list`, `organization`, …).
    #[schema(value_type = String)]
    pub object: Object,
    pub id: String,
    pub domain: String,
}

impl DirectoryEvent {
    /// `dsync.activated`'s data: with the organization's domains and the external key.
    pub fn activated(dir: &DirectoryRow, org: Option<&OrganizationRow>) -> DirectoryEvent {
        let domains = org
            .map(|o| {
                o.domain_list()
                    .into_iter()
                    .map(|d| EventOrganizationDomain {
                        object: Object::OrganizationDomain,
                        id: domain_id(&o.id, &d),
                        domain: d,
                    })
                    .collect()
            })
            .unwrap_or_default();
        DirectoryEvent {
            domains: Some(domains),
            external_key: Some(external_key(&dir.id)),
            ..DirectoryEvent::deleted(dir)
        }
    }

    /// `dsync.deleted`'s data: the directory as it was, without domains and key.
    pub fn deleted(dir: &DirectoryRow) -> DirectoryEvent {
        DirectoryEvent {
            object: Object::Directory,
            id: dir.id.clone(),
            organization_id: dir.organization_id.clone(),
            dir_type: dir.dir_type,
            state: EventDirectoryState(dir.state),
            name: dir.name.clone(),
            created_at: clock::to_workos(dir.created_at),
            updated_at: clock::to_workos(dir.updated_at),
            domains: None,
            external_key: None,
        }
    }
}

/// `POST /directories`: the directory with its SCIM base URL and first token, whose
/// secret is shown this once.
#[derive(Debug, Clone, Serialize, ToSchema)]
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
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DirectoryToken {
    /// The kind of object, in snake case (`list`, `organization`, …).
    #[schema(value_type = String)]
    pub object: Object,
    pub id: TokenId,
    pub directory_id: DirectoryId,
    pub name: String,
    pub token_suffix: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    /// scimgate's addition: present only for a token that expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
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
            expires_at: t.expires_at.map(clock::to_workos),
        }
    }
}

/// WIRE-COMPAT §2: `dsync.token.created` / `dsync.token.revoked` data.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DirectoryTokenEvent {
    /// The kind of object, in snake case (`list`, `organization`, …).
    #[schema(value_type = String)]
    pub object: Object,
    pub id: TokenId,
    pub directory_id: DirectoryId,
    pub organization_id: OrganizationId,
    pub token_suffix: String,
    pub created_at: String,
}

impl DirectoryTokenEvent {
    pub fn new(dir: &DirectoryRow, t: &TokenRow) -> DirectoryTokenEvent {
        DirectoryTokenEvent {
            object: Object::DirectoryToken,
            id: t.id.clone(),
            directory_id: dir.id.clone(),
            organization_id: dir.organization_id.clone(),
            token_suffix: t.suffix.clone(),
            created_at: clock::to_workos(t.created_at),
        }
    }
}

/// `POST /directories/{id}/tokens`: the token with its secret, shown this once, and
/// the SCIM base URL it opens.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NewDirectoryToken {
    #[serde(flatten)]
    pub token: DirectoryToken,
    pub bearer_token: String,
    pub scim_url: String,
}

/// WIRE-COMPAT §5: a `directory_user`. The normalized fields (`idp_id` … `roles`, in
/// the order of `directory_user::USER_FIELDS`, which the text path writes) are the
/// directory's connector's output as stored; `role` and `roles` only where the user
/// holds a role. `groups` in the read API (`DirectoryUserWithGroups`),
/// `previous_attributes` in `dsync.user.updated`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DirectoryUser {
    /// The kind of object, in snake case (`list`, `organization`, …).
    #[schema(value_type = String)]
    pub object: Object,
    pub id: DirectoryUserId,
    pub directory_id: DirectoryId,
    pub organization_id: OrganizationId,
    pub idp_id: Value,
    pub email: Value,
    pub first_name: Value,
    pub last_name: Value,
    pub name: Value,
    pub username: Value,
    pub emails: Value,
    pub job_title: Value,
    pub state: Value,
    pub custom_attributes: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Value>,
    /// The IdP's SCIM document, with its `id`.
    pub raw_attributes: Map<String, Value>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<DirectoryGroup>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_attributes: Option<Map<String, Value>>,
}

impl DirectoryUser {
    /// With the old values of what changed (`dsync.user.updated`).
    pub fn with_previous(self, previous: Map<String, Value>) -> DirectoryUser {
        DirectoryUser {
            previous_attributes: Some(previous),
            ..self
        }
    }
}

/// WIRE-COMPAT §6: a `directory_group` (`previous_attributes` in
/// `dsync.group.updated`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DirectoryGroup {
    /// The kind of object, in snake case (`list`, `organization`, …).
    #[schema(value_type = String)]
    pub object: Object,
    pub id: DirectoryGroupId,
    pub idp_id: Value,
    pub directory_id: DirectoryId,
    pub organization_id: OrganizationId,
    pub name: Value,
    /// The IdP's SCIM document, with its `id`.
    pub raw_attributes: Map<String, Value>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_attributes: Option<Map<String, Value>>,
}

impl DirectoryGroup {
    /// With the old values of what changed (`dsync.group.updated`).
    pub fn with_previous(self, previous: Map<String, Value>) -> DirectoryGroup {
        DirectoryGroup {
            previous_attributes: Some(previous),
            ..self
        }
    }
}

/// WIRE-COMPAT §2: `dsync.group.user_added` / `dsync.group.user_removed` data.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MembershipChange {
    pub directory_id: DirectoryId,
    pub user: DirectoryUser,
    pub group: DirectoryGroup,
}

/// A group → role mapping of an organization.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoleMapping {
    /// The kind of object, in snake case (`list`, `organization`, …).
    #[schema(value_type = String)]
    pub object: Object,
    pub id: RoleMappingId,
    pub organization_id: OrganizationId,
    pub group_id: DirectoryGroupId,
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

/// A role as a user carries it: `{"slug"}` (WIRE-COMPAT §5 `role`, `roles[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Role {
    pub slug: String,
}

/// `GET /directory_users/{id}/roles/explain`: the user's roles in order, each with the
/// groups (and mappings) that grant it, and the rule that orders them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoleExplanation {
    /// The kind of object, in snake case (`list`, `organization`, …).
    #[schema(value_type = String)]
    pub object: Object,
    pub directory_user_id: DirectoryUserId,
    pub organization_id: OrganizationId,
    pub role: Option<Role>,
    pub roles: Vec<ExplainedRole>,
    pub rule: &'static str,
}

/// A role a user holds: its slug, its priority (the highest of its grants) and the
/// grants, highest priority first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExplainedRole {
    pub slug: String,
    pub priority: Option<i32>,
    pub granted_by: Vec<RoleGrant>,
}

/// A group of the user that grants the role, through a mapping.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoleGrant {
    pub group_id: DirectoryGroupId,
    pub group_name: Option<String>,
    pub role_mapping_id: RoleMappingId,
    pub priority: i32,
}

/// A directory's custom-attribute mappings: a whole list, plus whether they are its
/// type's defaults.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttributeMappings {
    /// The kind of object, in snake case (`list`, `organization`, …).
    #[schema(value_type = String)]
    pub object: Object,
    #[schema(value_type = Vec<Object>)]
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
    use serde_json::json;

    fn at(h: u32) -> chrono::NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 1, 15)
            .and_then(|d| d.and_hms_micro_opt(h, 2, 3, 456_789))
            .unwrap_or_default()
    }

    fn org() -> OrganizationRow {
        OrganizationRow {
            id: OrganizationId::test("org_01"),
            name: "Acme".into(),
            domains: r#"["acme.test","acme.example"]"#.into(),
            created_at: at(1),
            updated_at: at(2),
        }
    }

    fn dir(state: DirectoryState) -> DirectoryRow {
        DirectoryRow {
            id: DirectoryId::test("directory_01"),
            organization_id: OrganizationId::test("org_01"),
            name: "Acme IdP".into(),
            dir_type: DirectoryType::Okta,
            state,
            last_seq: 3,
            activated_at: None,
            attribute_mappings: None,
            created_at: at(3),
            updated_at: at(4),
        }
    }

    fn token(last_used: bool) -> TokenRow {
        TokenRow {
            expires_at: None,
            id: TokenId::test("directory_token_01"),
            directory_id: DirectoryId::test("directory_01"),
            name: "default".into(),
            token_hash: "hash".into(),
            suffix: "abcd".into(),
            created_at: at(5),
            last_used_at: last_used.then(|| at(6)),
            revoked_at: None,
        }
    }

    /// The JSON text (key order included) is exactly `want`.
    fn text(v: impl Serialize, want: &str) {
        assert_eq!(serde_json::to_string(&v).unwrap_or_default(), want);
    }

    // The texts below are what the `to_json` builders these structs replaced wrote
    // (`serde_json::json!` with `preserve_order`), so event payloads keep their bytes.

    #[test]
    fn organization() {
        text(
            Organization::from(&org()),
            r#"{"object":"organization","id":"org_01","name":"Acme","allow_profiles_outside_organization":false,"domains":[{"object":"organization_domain","id":"org_domain_H95MJEEYDFA1E569W4KW75Z472","domain":"acme.test","state":"verified","verification_strategy":"manual"},{"object":"organization_domain","id":"org_domain_A9RBNQCGPA9VF5ABNZ2EKB3QFF","domain":"acme.example","state":"verified","verification_strategy":"manual"}],"created_at":"2026-01-15T01:02:03.456Z","updated_at":"2026-01-15T02:02:03.456Z"}"#,
        );
    }

    #[test]
    fn directory_rest_form() {
        let counts = (
            UserCounts {
                active: 2,
                inactive: 1,
            },
            5,
        );
        text(
            Directory::new(&dir(DirectoryState::Linked), Some(&org()), Some(counts)),
            r#"{"object":"directory","id":"directory_01","organization_id":"org_01","external_key":"56f2c20d33e273c0","type":"okta scim v2.0","state":"linked","name":"Acme IdP","domain":"acme.test","created_at":"2026-01-15T03:02:03.456Z","updated_at":"2026-01-15T04:02:03.456Z","metadata":{"users":{"active":2,"inactive":1},"groups":5}}"#,
        );
        text(
            Directory::new(&dir(DirectoryState::Unlinked), None, None),
            r#"{"object":"directory","id":"directory_01","organization_id":"org_01","external_key":"56f2c20d33e273c0","type":"okta scim v2.0","state":"unlinked","name":"Acme IdP","domain":null,"created_at":"2026-01-15T03:02:03.456Z","updated_at":"2026-01-15T04:02:03.456Z"}"#,
        );
    }

    #[test]
    fn directory_event_form() {
        text(
            DirectoryEvent::activated(&dir(DirectoryState::Linked), Some(&org())),
            r#"{"object":"directory","id":"directory_01","organization_id":"org_01","type":"okta scim v2.0","state":"active","name":"Acme IdP","created_at":"2026-01-15T03:02:03.456Z","updated_at":"2026-01-15T04:02:03.456Z","domains":[{"object":"organization_domain","id":"org_domain_H95MJEEYDFA1E569W4KW75Z472","domain":"acme.test"},{"object":"organization_domain","id":"org_domain_A9RBNQCGPA9VF5ABNZ2EKB3QFF","domain":"acme.example"}],"external_key":"56f2c20d33e273c0"}"#,
        );
        text(
            DirectoryEvent::activated(&dir(DirectoryState::Linked), None),
            r#"{"object":"directory","id":"directory_01","organization_id":"org_01","type":"okta scim v2.0","state":"active","name":"Acme IdP","created_at":"2026-01-15T03:02:03.456Z","updated_at":"2026-01-15T04:02:03.456Z","domains":[],"external_key":"56f2c20d33e273c0"}"#,
        );
        text(
            DirectoryEvent::deleted(&dir(DirectoryState::Unlinked)),
            r#"{"object":"directory","id":"directory_01","organization_id":"org_01","type":"okta scim v2.0","state":"inactive","name":"Acme IdP","created_at":"2026-01-15T03:02:03.456Z","updated_at":"2026-01-15T04:02:03.456Z"}"#,
        );
        // the states without an event name of their own keep their REST name
        for (state, name) in [
            (DirectoryState::Validating, "validating"),
            (DirectoryState::InvalidCredentials, "invalid_credentials"),
            (DirectoryState::Deleting, "deleting"),
        ] {
            text(EventDirectoryState(state), &format!("\"{name}\""));
            text(state, &format!("\"{name}\""));
            assert_eq!(DirectoryState::parse(name), Some(state));
        }
    }

    #[test]
    fn tokens_and_role_mappings() {
        text(
            DirectoryToken::from(&token(false)),
            r#"{"object":"directory_token","id":"directory_token_01","directory_id":"directory_01","name":"default","token_suffix":"abcd","created_at":"2026-01-15T05:02:03.456Z","last_used_at":null}"#,
        );
        text(
            DirectoryToken::from(&token(true)),
            r#"{"object":"directory_token","id":"directory_token_01","directory_id":"directory_01","name":"default","token_suffix":"abcd","created_at":"2026-01-15T05:02:03.456Z","last_used_at":"2026-01-15T06:02:03.456Z"}"#,
        );
        text(
            DirectoryTokenEvent::new(&dir(DirectoryState::Linked), &token(true)),
            r#"{"object":"directory_token","id":"directory_token_01","directory_id":"directory_01","organization_id":"org_01","token_suffix":"abcd","created_at":"2026-01-15T05:02:03.456Z"}"#,
        );
        let r = RoleMappingRow {
            id: RoleMappingId::test("role_mapping_01"),
            organization_id: OrganizationId::test("org_01"),
            group_id: DirectoryGroupId::test("directory_group_01"),
            role_slug: "admin".into(),
            priority: 10,
            created_at: at(7),
        };
        text(
            RoleMapping::from(&r),
            r#"{"object":"role_mapping","id":"role_mapping_01","organization_id":"org_01","group_id":"directory_group_01","role_slug":"admin","priority":10,"created_at":"2026-01-15T07:02:03.456Z"}"#,
        );
    }

    #[test]
    fn created_directory() {
        let c = crate::service::admin::CreatedDirectory {
            directory: dir(DirectoryState::Unlinked),
            organization: org(),
            scim_url: "http://127.0.0.1:8080/scim/v2/directory_01".into(),
            bearer_token: "sgd_secret".into(),
            token: token(false),
        };
        text(
            CreatedDirectory::from(&c),
            r#"{"object":"directory","id":"directory_01","organization_id":"org_01","external_key":"56f2c20d33e273c0","type":"okta scim v2.0","state":"unlinked","name":"Acme IdP","domain":"acme.test","created_at":"2026-01-15T03:02:03.456Z","updated_at":"2026-01-15T04:02:03.456Z","scim_url":"http://127.0.0.1:8080/scim/v2/directory_01","bearer_token":"sgd_secret","token":{"object":"directory_token","id":"directory_token_01","directory_id":"directory_01","name":"default","token_suffix":"abcd","created_at":"2026-01-15T05:02:03.456Z","last_used_at":null}}"#,
        );
    }

    #[test]
    fn list_envelopes() {
        text(
            List::whole(vec![1, 2]),
            r#"{"object":"list","data":[1,2],"list_metadata":{"before":null,"after":null}}"#,
        );
        let p = crate::service::vendor_reads::Paged {
            data: vec!["a"],
            before: None,
            after: Some("x".to_string()),
        };
        text(
            List::from(p),
            r#"{"object":"list","data":["a"],"list_metadata":{"before":null,"after":"x"}}"#,
        );
        text(EventListMetadata { after: None }, r#"{"after":null}"#);
        assert_eq!(
            serde_json::to_value(AttributeMappings::new(Vec::new(), true)).unwrap_or_default(),
            json!({"object": "list", "data": [], "defaults": true, "list_metadata": {"before": null, "after": null}})
        );
    }
}
