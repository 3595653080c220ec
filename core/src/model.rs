//! Row types (diesel) and the small domain values built from them.

use chrono::NaiveDateTime;
use diesel::backend::Backend;
use diesel::deserialize::FromSql;
use diesel::prelude::*;
use diesel::serialize::{Output, ToSql};
use diesel::sql_types::Text;

use crate::clock;
pub use crate::ids::{
    ApiKeyId, DirectoryGroupId, DirectoryId, DirectoryUserId, EventId, OrganizationId,
    RoleMappingId, TokenId,
};
use crate::store::schema::*;
pub use scimgate_connectors::DirectoryType;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = organizations)]
pub struct OrganizationRow {
    pub id: OrganizationId,
    pub name: String,
    pub domains: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl OrganizationRow {
    pub fn domain_list(&self) -> Vec<String> {
        serde_json::from_str(&self.domains).unwrap_or_default()
    }
}

/// A stable id for an organization domain (WorkOS `org_domain_…`), derived from the
/// organization and the domain name.
pub fn domain_id(org_id: &OrganizationId, domain: &str) -> String {
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
    pub id: DirectoryId,
    pub organization_id: OrganizationId,
    pub name: String,
    #[diesel(deserialize_as = DirTypeColumn, serialize_as = DirTypeColumn)]
    pub dir_type: DirectoryType,
    pub state: DirectoryState,
    pub last_seq: i64,
    pub activated_at: Option<NaiveDateTime>,
    pub attribute_mappings: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A directory's state (WIRE-COMPAT.md §4), stored as its REST name: `linked |
/// validating | invalid_credentials | unlinked | deleting`. Events name two of them
/// otherwise ([`DirectoryState::event_name`]). scimgate's directories are `unlinked`
/// until their first successful SCIM request, then `linked`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = Text)]
pub enum DirectoryState {
    Linked,
    Validating,
    InvalidCredentials,
    Unlinked,
    Deleting,
}

const DIRECTORY_STATES: [DirectoryState; 5] = [
    DirectoryState::Linked,
    DirectoryState::Validating,
    DirectoryState::InvalidCredentials,
    DirectoryState::Unlinked,
    DirectoryState::Deleting,
];

impl DirectoryState {
    /// The REST API's name (and the stored text).
    pub fn as_str(self) -> &'static str {
        match self {
            DirectoryState::Linked => "linked",
            DirectoryState::Validating => "validating",
            DirectoryState::InvalidCredentials => "invalid_credentials",
            DirectoryState::Unlinked => "unlinked",
            DirectoryState::Deleting => "deleting",
        }
    }

    /// The name in event payloads (`dsync.activated`, `dsync.deleted`): `active` for
    /// `linked`, `inactive` for `unlinked`, the others as they are (WIRE-COMPAT.md §4,
    /// "This inconsistency is real and has to be reproduced").
    pub fn event_name(self) -> &'static str {
        match self {
            DirectoryState::Linked => "active",
            DirectoryState::Unlinked => "inactive",
            other => other.as_str(),
        }
    }

    /// A REST name; `None` for anything else.
    pub fn parse(s: &str) -> Option<DirectoryState> {
        DIRECTORY_STATES.into_iter().find(|d| d.as_str() == s)
    }
}

impl std::fmt::Display for DirectoryState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Serialized as the REST name (the event form is `wire::EventDirectoryState`).
impl serde::Serialize for DirectoryState {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<DB> ToSql<Text, DB> for DirectoryState
where
    DB: Backend,
    str: ToSql<Text, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> diesel::serialize::Result {
        <str as ToSql<Text, DB>>::to_sql(self.as_str(), out)
    }
}

impl<DB> FromSql<Text, DB> for DirectoryState
where
    DB: Backend,
    String: FromSql<Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
        name_from_sql::<DB, _>(bytes, DirectoryState::parse, "directory state")
    }
}

/// A text column holding one of a set of names: what `parse` makes of it, or an error
/// naming the text.
fn name_from_sql<DB, T>(
    bytes: DB::RawValue<'_>,
    parse: impl Fn(&str) -> Option<T>,
    what: &str,
) -> diesel::deserialize::Result<T>
where
    DB: Backend,
    String: FromSql<Text, DB>,
{
    let s = <String as FromSql<Text, DB>>::from_sql(bytes)?;
    parse(&s).ok_or_else(|| format!("unknown {what} {s:?}").into())
}

/// `directories.dir_type` as diesel reads and writes it: the type is the connectors'
/// [`DirectoryType`] (a crate without a database), stored as its WorkOS name.
#[derive(Debug, Clone, Copy, diesel::expression::AsExpression, diesel::deserialize::FromSqlRow)]
#[diesel(sql_type = Text)]
pub struct DirTypeColumn(DirectoryType);

impl From<DirTypeColumn> for DirectoryType {
    fn from(c: DirTypeColumn) -> DirectoryType {
        c.0
    }
}

impl From<DirectoryType> for DirTypeColumn {
    fn from(t: DirectoryType) -> DirTypeColumn {
        DirTypeColumn(t)
    }
}

impl<DB> ToSql<Text, DB> for DirTypeColumn
where
    DB: Backend,
    str: ToSql<Text, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> diesel::serialize::Result {
        <str as ToSql<Text, DB>>::to_sql(self.0.as_str(), out)
    }
}

impl<DB> FromSql<Text, DB> for DirTypeColumn
where
    DB: Backend,
    String: FromSql<Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
        let parse = |s: &str| DirectoryType::parse(s).map(DirTypeColumn);
        name_from_sql::<DB, _>(bytes, parse, "directory type")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, utoipa::ToSchema)]
pub struct UserCounts {
    pub active: i64,
    pub inactive: i64,
}

impl DirectoryRow {
    /// The custom-attribute mappings in force: the directory's own, or the type's defaults.
    pub fn mappings(&self) -> std::borrow::Cow<'static, [scimgate_connectors::AttributeMapping]> {
        match self
            .attribute_mappings
            .as_deref()
            .and_then(|s| serde_json::from_str::<Vec<_>>(s).ok())
        {
            Some(own) => std::borrow::Cow::Owned(own),
            None => {
                std::borrow::Cow::Borrowed(scimgate_connectors::default_mappings(self.dir_type))
            }
        }
    }
}

/// WorkOS exposes an opaque `external_key` per directory; derive a stable one.
pub fn external_key(directory_id: &DirectoryId) -> String {
    use sha2::Digest;
    let h = sha2::Sha256::digest(directory_id.as_str().as_bytes());
    hex::encode(h).chars().take(16).collect()
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = directory_tokens)]
pub struct TokenRow {
    pub id: TokenId,
    pub directory_id: DirectoryId,
    pub name: String,
    pub token_hash: String,
    pub suffix: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    /// After this the token is refused (`None`: never).
    pub expires_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_keys)]
pub struct ApiKeyRow {
    pub id: ApiKeyId,
    pub name: String,
    pub key_hash: String,
    pub suffix: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    /// Space-separated scope names (`crate::scope::Scopes::from_stored`).
    pub scopes: String,
    /// After this the key is refused (`None`: never).
    pub expires_at: Option<NaiveDateTime>,
    /// The key of `SCIMGATE_BOOTSTRAP_API_KEY` (revoked once the setting names another).
    pub is_bootstrap: bool,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, QueryableByName)]
#[diesel(table_name = directory_users)]
pub struct UserRow {
    pub id: DirectoryUserId,
    pub directory_id: DirectoryId,
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
    pub id: DirectoryGroupId,
    pub directory_id: DirectoryId,
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
    pub user_id: DirectoryUserId,
    pub directory_id: DirectoryId,
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
    pub group_id: DirectoryGroupId,
    /// A user's or a group's id (`member_type` says which).
    pub member_id: String,
    pub directory_id: DirectoryId,
    pub member_type: String,
    pub created_at: NaiveDateTime,
    /// The `display` a client sent for this member, if any.
    pub display: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = events)]
pub struct EventRow {
    pub gid: i64,
    pub id: EventId,
    pub txid: i64,
    pub directory_id: DirectoryId,
    pub organization_id: OrganizationId,
    pub seq: i64,
    pub event: String,
    pub data: String,
    pub created_at: NaiveDateTime,
    /// How many events the row holds (see `events::list`); 1 for an event read out.
    pub n: i32,
}

impl EventRow {
    /// The envelope (`wire::Event`) as JSON text, with the stored `data` spliced in
    /// verbatim (it is JSON written by scimgate): no parse and re-serialization per
    /// event on reads.
    pub fn to_json_string(&self) -> String {
        let s = |v: &str| serde_json::to_string(v).unwrap_or_else(|_| "\"\"".into());
        let data = if self.data.is_empty() {
            "{}"
        } else {
            self.data.as_str()
        };
        format!(
            "{{\"object\":\"event\",\"id\":{},\"event\":{},\"data\":{},\"created_at\":{},\"directory_id\":{},\"organization_id\":{},\"sequence\":{}}}",
            s(self.id.as_str()),
            s(&self.event),
            data,
            s(&clock::to_workos(self.created_at)),
            s(self.directory_id.as_str()),
            s(self.organization_id.as_str()),
            self.seq
        )
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = role_mappings)]
pub struct RoleMappingRow {
    pub id: RoleMappingId,
    pub organization_id: OrganizationId,
    pub group_id: DirectoryGroupId,
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
            id: DirectoryUserId::test("directory_user_01"),
            directory_id: DirectoryId::test("directory_01"),
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
    fn event_text_is_the_event_envelope_serialized() {
        let e = EventRow {
            gid: 1,
            id: EventId::test("event_01"),
            txid: 0,
            directory_id: DirectoryId::test("directory_\"x"),
            organization_id: OrganizationId::test("org_1"),
            seq: 7,
            event: "dsync.user.created".into(),
            data: r#"{"object":"directory_user","name":"A \"B\" é"}"#.into(),
            created_at: crate::clock::now(),
            n: 1,
        };
        let data: Box<serde_json::value::RawValue> =
            serde_json::from_str(&e.data).unwrap_or_default();
        let envelope = crate::wire::Event::new(&e, &data);
        assert_eq!(
            e.to_json_string(),
            serde_json::to_string(&envelope).unwrap_or_default()
        );
    }
}
