//! Prefixed ULID identifiers, WorkOS style (`directory_01H…`, `event_01H…`), and a
//! newtype per kind ([`DirectoryId`], [`DirectoryUserId`], …).
//!
//! A newtype holds the id's text (`directory_` and 26 Crockford base32 characters, as
//! the generator writes them): [`PrefixedId::new`] makes one, [`PrefixedId::parse`]
//! checks text from outside (wrong prefix or malformed → [`IdError`]). Ids read from the
//! database are taken as stored (diesel `FromSql` for `Text` on both backends and on
//! `AnyConn`'s `MultiBackend`), so typed rows cost nothing over `String` ones. On the
//! wire an id is its text (`Serialize`/`Deserialize` transparent; deserializing parses).
//!
//! Where a request names a resource by an id that is not even of its kind, the answer
//! is the one an unknown id gets ([`IdError::not_found`], [`PrefixedId::not_found`]):
//! a malformed id is answered as before the types existed.

use std::sync::Mutex;

use crate::error::CoreError;

static GEN: Mutex<Option<ulid::Generator>> = Mutex::new(None);

/// A new id with the given prefix (`"directory_user"` → `directory_user_01J…`).
/// ULIDs from one process are strictly increasing.
pub fn new_id(prefix: &str) -> String {
    new_ids(prefix, 1)
}

/// The first of `k` consecutive ids (`k` ≥ 1): the others are [`offset`] 1 to `k − 1`
/// from it, and no later id of this process falls among them (the generator steps
/// past them: in the same millisecond it increments, in a later one the time part
/// is larger).
pub fn new_ids(prefix: &str, k: usize) -> String {
    let ulid = {
        let mut guard = GEN.lock().unwrap_or_else(|p| p.into_inner());
        let g = guard.get_or_insert_with(ulid::Generator::new);
        let first = g.generate().unwrap_or_else(|_| ulid::Ulid::new());
        for _ in 1..k {
            let _ = g.generate();
        }
        first
    };
    with_prefix(prefix, ulid)
}

/// The id `k` after `id` (its ULID plus `k`, same prefix); `None` when `id` is not
/// a prefixed ULID or the sum overflows.
pub fn offset(id: &str, k: u64) -> Option<String> {
    let (prefix, u) = split(id)?;
    let v = u.0.checked_add(u128::from(k))?;
    Some(with_prefix(prefix, ulid::Ulid(v)))
}

/// How far `id` is after `base` (both of one prefix): `offset(base, d) == id`.
pub fn distance(base: &str, id: &str) -> Option<u64> {
    let ((p, a), (q, b)) = (split(base)?, split(id)?);
    if p != q {
        return None;
    }
    u64::try_from(b.0.checked_sub(a.0)?).ok()
}

fn split(id: &str) -> Option<(&str, ulid::Ulid)> {
    let (prefix, u) = id.rsplit_once('_')?;
    let u = ulid::Ulid::from_string(u).ok()?;
    Some((prefix, u))
}

fn with_prefix(prefix: &str, ulid: ulid::Ulid) -> String {
    let mut buf = [0u8; ulid::ULID_LEN];
    let mut id = String::with_capacity(prefix.len() + 1 + ulid::ULID_LEN);
    id.push_str(prefix);
    id.push('_');
    id.push_str(ulid.array_to_str(&mut buf));
    id
}

pub const ORGANIZATION: &str = "org";
pub const DIRECTORY: &str = "directory";
pub const DIRECTORY_USER: &str = "directory_user";
pub const DIRECTORY_GROUP: &str = "directory_group";
pub const DIRECTORY_TOKEN: &str = "directory_token";
pub const EVENT: &str = "event";
pub const API_KEY: &str = "key";
pub const ROLE_MAPPING: &str = "role_mapping";
pub const ADMIN_USER: &str = "admin_user";
pub const WEBHOOK_ENDPOINT: &str = "we";

/// True when `id` looks like an id of that prefix (cheap shape check, not existence).
pub fn has_prefix(id: &str, prefix: &str) -> bool {
    id.len() == prefix.len() + 1 + 26
        && id.starts_with(prefix)
        && id.as_bytes().get(prefix.len()) == Some(&b'_')
        && id[prefix.len() + 1..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric())
}

/// Whether `id` is `prefix`, `_` and a ULID as the generator writes it: 26 characters
/// of Crockford's base32 alphabet in upper case (no I, L, O, U), the first at most `7`
/// (a ULID is 128 bits; ulid-spec "Canonical String Representation").
fn well_formed(id: &str, prefix: &str) -> bool {
    let Some(ulid) = id
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
    else {
        return false;
    };
    ulid.len() == ulid::ULID_LEN
        && ulid.as_bytes().first().is_some_and(|b| (b'0'..=b'7').contains(b))
        && ulid
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'A'..=b'H' | b'J' | b'K' | b'M' | b'N' | b'P'..=b'T' | b'V'..=b'Z'))
}

/// Text that is not an id of the kind asked for (wrong prefix, or not a ULID after it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdError {
    noun: &'static str,
    prefix: &'static str,
    input: String,
}

impl IdError {
    /// The text that was refused.
    pub fn input(&self) -> &str {
        &self.input
    }

    /// The answer an unknown id of this kind gets (404 "directory … not found"): what a
    /// request that names a resource by a malformed id is answered.
    pub fn not_found(&self) -> CoreError {
        not_found(self.noun, &self.input)
    }
}

impl std::fmt::Display for IdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:?} is not a {} id (`{}_` and a 26-character ULID)",
            self.input, self.noun, self.prefix
        )
    }
}

impl std::error::Error for IdError {}

fn not_found(noun: &str, id: &str) -> CoreError {
    CoreError::not_found(format!("{noun} {id} not found"))
}

/// What every id newtype is: its prefix, how it is made, parsed and named.
pub trait PrefixedId: Sized + Clone + std::fmt::Display + AsRef<str> {
    /// The text before `_` (`directory_user`).
    const PREFIX: &'static str;
    /// What an id of this kind names, in messages (`directory user`).
    const NOUN: &'static str;

    /// A new id from the generator.
    fn new() -> Self;

    /// Text from outside: an id of this kind, or why not.
    fn parse(s: &str) -> Result<Self, IdError>;

    /// The id's text.
    fn as_str(&self) -> &str;

    /// Text from a request that names a resource: an id of this kind, else the answer
    /// an unknown one gets (404, see [`IdError::not_found`]).
    fn parse_or_not_found(s: &str) -> Result<Self, CoreError> {
        Self::parse(s).map_err(|e| e.not_found())
    }

    /// 404 "{noun} {id} not found": no resource has this id.
    fn not_found(&self) -> CoreError {
        not_found(Self::NOUN, self.as_str())
    }
}

/// An id newtype (see the module's notes): `$name` of `$prefix`, named `$noun`.
macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:expr, $noun:literal) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord,
            diesel::expression::AsExpression, diesel::deserialize::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub struct $name(String);

        // no `Default`: a default id would be a fresh one, made where nobody meant to
        #[allow(clippy::new_without_default)]
        impl $name {
            /// A new id from the generator.
            pub fn new() -> $name {
                $name(new_id($prefix))
            }

            /// Text from outside: an id of this kind, or why not.
            pub fn parse(s: &str) -> Result<$name, IdError> {
                if well_formed(s, $prefix) {
                    Ok($name(s.to_string()))
                } else {
                    Err(IdError { noun: $noun, prefix: $prefix, input: s.to_string() })
                }
            }

            /// The id's text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The id's text, owned.
            pub fn into_string(self) -> String {
                self.0
            }

            /// Any text as an id, for unit tests of what ids are written into.
            #[cfg(test)]
            #[allow(dead_code)]
            pub(crate) fn test(s: &str) -> $name {
                $name(s.to_string())
            }
        }

        impl PrefixedId for $name {
            const PREFIX: &'static str = $prefix;
            const NOUN: &'static str = $noun;
            fn new() -> $name {
                $name::new()
            }
            fn parse(s: &str) -> Result<$name, IdError> {
                $name::parse(s)
            }
            fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        /// Maps keyed by the id are looked up by text (same `Hash`, `Eq`, `Ord` as `str`).
        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl PartialEq<$name> for str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl From<&$name> for String {
            fn from(id: &$name) -> String {
                id.0.clone()
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        /// In the OpenAPI document (`/openapi.json`): a string that starts with the
        /// kind's prefix.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .description(Some(concat!("the id of a ", $noun)))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                $name::parse(&s).map_err(serde::de::Error::custom)
            }
        }

        impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, DB>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, DB>>::to_sql(
                    self.0.as_str(),
                    out,
                )
            }
        }

        /// As stored: rows hold ids scimgate wrote, so reading one checks nothing.
        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<$name> {
                <String as diesel::deserialize::FromSql<diesel::sql_types::Text, DB>>::from_sql(
                    bytes,
                )
                .map($name)
            }
        }
    };
}

prefixed_id!(
    /// A WorkOS `organization` (`org_…`).
    OrganizationId,
    ORGANIZATION,
    "organization"
);
prefixed_id!(
    /// A directory (`directory_…`, WIRE-COMPAT.md §4).
    DirectoryId,
    DIRECTORY,
    "directory"
);
prefixed_id!(
    /// A user of a directory (`directory_user_…`, WIRE-COMPAT.md §5); its SCIM `id`.
    DirectoryUserId,
    DIRECTORY_USER,
    "directory user"
);
prefixed_id!(
    /// A group of a directory (`directory_group_…`, WIRE-COMPAT.md §6); its SCIM `id`.
    DirectoryGroupId,
    DIRECTORY_GROUP,
    "directory group"
);
prefixed_id!(
    /// A directory's bearer token (`directory_token_…`, WIRE-COMPAT.md §2).
    TokenId,
    DIRECTORY_TOKEN,
    "token"
);
prefixed_id!(
    /// A vendor API key (`key_…`; the secret itself is `sk_…`).
    ApiKeyId,
    API_KEY,
    "API key"
);
prefixed_id!(
    /// A group → role mapping of an organization (`role_mapping_…`).
    RoleMappingId,
    ROLE_MAPPING,
    "role mapping"
);
prefixed_id!(
    /// An event (`event_…`, WIRE-COMPAT.md §3): also the cursor of `GET /events`.
    EventId,
    EVENT,
    "event"
);
prefixed_id!(
    /// An operator of the admin UI (`admin_user_…`).
    AdminUserId,
    ADMIN_USER,
    "operator"
);
prefixed_id!(
    /// A webhook endpoint (`we_…`, WIRE-COMPAT.md §7).
    WebhookEndpointId,
    WEBHOOK_ENDPOINT,
    "webhook endpoint"
);

impl EventId {
    /// The first of `k` consecutive new event ids (see [`new_ids`]).
    pub fn new_run(k: usize) -> EventId {
        EventId(new_ids(EVENT, k))
    }

    /// The event id `k` after this one (see [`offset`]); `None` on overflow.
    pub fn offset(&self, k: u64) -> Option<EventId> {
        offset(&self.0, k).map(EventId)
    }

    /// How far `id` is after this one (see [`distance`]).
    pub fn distance_to(&self, id: &EventId) -> Option<u64> {
        distance(&self.0, &id.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn ids_are_prefixed_and_increasing() {
        let a = new_id(DIRECTORY_USER);
        let b = new_id(DIRECTORY_USER);
        assert!(a.starts_with("directory_user_"));
        assert!(has_prefix(&a, DIRECTORY_USER));
        assert!(!has_prefix(&a, DIRECTORY));
        assert!(a < b);
        let u = &b["directory_user_".len()..];
        assert_eq!(
            u.parse::<ulid::Ulid>().map(|x| x.to_string()).as_deref(),
            Ok(u)
        );
    }

    #[test]
    fn consecutive_ids_are_offsets_and_stay_reserved() {
        let first = new_ids(EVENT, 100);
        let next = new_id(EVENT);
        let last = offset(&first, 99).unwrap_or_default();
        assert!(has_prefix(&last, EVENT), "{last}");
        assert!(first < last && last < next, "{first} {last} {next}");
        assert_eq!(distance(&first, &last), Some(99));
        assert_eq!(distance(&first, &first), Some(0));
        assert_eq!(distance(&last, &first), None);
        assert_eq!(distance(&first, &new_id(DIRECTORY)), None);
        assert_eq!(offset("event_notaulid", 1), None);
        // Crockford base32 carries: ...Z + 1 = ...10
        let z = format!("event_{}", "0".repeat(25) + "Z");
        assert_eq!(
            offset(&z, 1),
            Some(format!("event_{}", "0".repeat(24) + "10"))
        );
        let run = EventId::new_run(3);
        let third = run.offset(2);
        assert_eq!(third.as_ref().and_then(|t| run.distance_to(t)), Some(2));
    }

    #[test]
    fn newtypes_parse_their_own_ids_only() {
        let d = DirectoryId::new();
        assert!(d.as_str().starts_with("directory_"));
        assert_eq!(DirectoryId::parse(d.as_str()), Ok(d.clone()));
        // the prefix decides, whole: `directory_user_…` is no directory id
        let u = DirectoryUserId::new();
        assert!(DirectoryId::parse(u.as_str()).is_err());
        assert!(DirectoryUserId::parse(d.as_str()).is_err());
        let ulid = &d.as_str()["directory_".len()..];
        for bad in [
            String::new(),
            "directory_".to_string(),
            "directory_nope".to_string(),
            format!("directory{ulid}"),
            format!("directory-{ulid}"),
            format!("Directory_{ulid}"),
            format!("directory_{}", ulid.to_lowercase()),
            format!("directory_{ulid}0"),
            format!("directory_{}", &ulid[1..]),
            // beyond 128 bits
            format!("directory_8{}", &ulid[1..]),
            // not in Crockford's alphabet
            format!("directory_{}U", &ulid[..25]),
            format!("directory_{}I", &ulid[..25]),
            format!(" directory_{ulid}"),
            format!("directory_{ulid}\0"),
        ] {
            let e = DirectoryId::parse(&bad).err();
            assert_eq!(
                e.as_ref().map(IdError::input),
                Some(bad.as_str()),
                "{bad:?}"
            );
        }
        let e = DirectoryGroupId::parse("directory_group_nope").err();
        assert_eq!(
            e.as_ref().map(ToString::to_string).as_deref(),
            Some("\"directory_group_nope\" is not a directory group id (`directory_group_` and a 26-character ULID)")
        );
        // a malformed id is answered as an unknown one
        assert_eq!(
            e.map(|e| e.not_found().to_string()).as_deref(),
            Some("directory group directory_group_nope not found")
        );
        assert_eq!(
            OrganizationId::parse_or_not_found("org_nope").map_err(|e| e.to_string()),
            Err("organization org_nope not found".to_string())
        );
        let t = TokenId::new();
        assert_eq!(t.not_found().to_string(), format!("token {t} not found"));
    }

    #[test]
    fn on_the_wire_an_id_is_its_text() {
        let id = OrganizationId::new();
        let text = serde_json::to_string(&id).unwrap_or_default();
        assert_eq!(text, format!("\"{id}\""));
        let back: Result<OrganizationId, _> = serde_json::from_str(&text);
        assert_eq!(back.ok(), Some(id));
        let bad: Result<OrganizationId, _> = serde_json::from_str("\"org_nope\"");
        assert!(bad.is_err());
        // maps keyed by id are looked up by text
        let u = DirectoryUserId::new();
        let m: std::collections::HashMap<DirectoryUserId, i32> = [(u.clone(), 1)].into();
        assert_eq!(m.get(u.as_str()), Some(&1));
    }
}
