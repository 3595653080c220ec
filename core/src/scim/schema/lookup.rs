//! Attribute definitions by (optional URN, name, optional sub-attribute), case-insensitively
//! (RFC 7643 §2.1), for a resource kind.

use scimgate_connectors::ResourceKind;

use super::tables::COMMON_ATTRIBUTES;
use super::{AttrDef, Returned, SchemaDef, ENTERPRISE_USER, ENTERPRISE_USER_SCHEMA, GROUP, USER};

/// Copyable view of `ResourceKind`, so internal code never needs `ResourceKind: Copy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    User,
    Group,
}

impl Kind {
    pub(crate) fn of(kind: &ResourceKind) -> Kind {
        match kind {
            ResourceKind::User => Kind::User,
            ResourceKind::Group => Kind::Group,
        }
    }

    pub(crate) fn core(self) -> &'static SchemaDef {
        match self {
            Kind::User => &USER,
            Kind::Group => &GROUP,
        }
    }

    pub(crate) fn label(self) -> &'static str {
        match self {
            Kind::User => "User",
            Kind::Group => "Group",
        }
    }
}

/// Result of [`lookup`].
#[derive(Debug, Clone, Copy)]
pub struct ResolvedAttr {
    /// URN of the schema the attribute belongs to (the core URN for the common attributes).
    pub schema: &'static str,
    pub attr: &'static AttrDef,
    pub sub: Option<&'static AttrDef>,
}

/// Case-insensitive search of an attribute list (RFC 7643 §2.1: attribute names are case-insensitive).
pub(crate) fn find_attr(list: &'static [AttrDef], name: &str) -> Option<&'static AttrDef> {
    list.iter().find(|a| a.name.eq_ignore_ascii_case(name))
}

/// A core-schema attribute of `kind`, or a common attribute.
pub(crate) fn core_attr(kind: Kind, name: &str) -> Option<&'static AttrDef> {
    find_attr(kind.core().attributes, name).or_else(|| find_attr(&COMMON_ATTRIBUTES, name))
}

/// Resolve an attribute (case-insensitive) for a resource kind: optional schema URN (core URN or the
/// enterprise URN for users), name, optional sub-attribute. Returns the schema it belongs to and the
/// definitions. A name without URN is looked up in the core schema and the common attributes only
/// (RFC 7644 §3.10: extension attributes are URN-qualified).
pub fn lookup(
    kind: ResourceKind,
    uri: Option<&str>,
    name: &str,
    sub: Option<&str>,
) -> Option<ResolvedAttr> {
    lookup_kind(Kind::of(&kind), uri, name, sub)
}

pub(crate) fn lookup_kind(
    kind: Kind,
    uri: Option<&str>,
    name: &str,
    sub: Option<&str>,
) -> Option<ResolvedAttr> {
    let core = kind.core();
    let (schema, attr) = match uri {
        None => (core.id, core_attr(kind, name)?),
        Some(u) if u.eq_ignore_ascii_case(core.id) => (core.id, core_attr(kind, name)?),
        Some(u) if kind == Kind::User && u.eq_ignore_ascii_case(ENTERPRISE_USER_SCHEMA) => (
            ENTERPRISE_USER_SCHEMA,
            find_attr(ENTERPRISE_USER.attributes, name)?,
        ),
        Some(_) => return None,
    };
    let sub = match sub {
        None => None,
        Some(s) => Some(find_attr(attr.sub_attributes, s)?),
    };
    Some(ResolvedAttr { schema, attr, sub })
}

/// Names of the attributes of `kind` whose `returned` is `always` (RFC 7643 §7; only `id` for the
/// core User and Group). Attribute projection (RFC 7644 §3.4.2.5) must keep them.
pub fn always_returned(kind: ResourceKind) -> Vec<&'static str> {
    returned_as(Kind::of(&kind), Returned::Always)
}

/// Names of the top-level attributes of `kind` whose `returned` is `never` (`password` for users).
pub fn never_returned(kind: ResourceKind) -> Vec<&'static str> {
    returned_as(Kind::of(&kind), Returned::Never)
}

fn returned_as(kind: Kind, returned: Returned) -> Vec<&'static str> {
    COMMON_ATTRIBUTES
        .iter()
        .chain(kind.core().attributes.iter())
        .filter(|a| a.returned == returned)
        .map(|a| a.name)
        .collect()
}
