//! RFC 7643 schemas: static definitions of the core User (§4.1), the EnterpriseUser extension (§4.3),
//! the core Group (§4.2) and the common attributes (§3.1); canonicalization of POST/PUT bodies into the
//! stored document; and the §7 representation served by `GET /Schemas`.
//!
//! Attribute characteristics follow RFC 7643 §8.7.1/§8.7.2, with two deliberate deviations that follow
//! the prose of §4 instead of the §8.7.1 listing:
//! - Group `displayName` is `required` (§4.2 says "REQUIRED"; §8.7.1 lists `required: false`);
//! - Group `members` carries a `display` sub-attribute and `addresses` a `primary` sub-attribute, as in
//!   the §8 examples.
//!
//! The common attributes `id`, `externalId` and `meta` are resolvable through [`lookup`] but, as in
//! RFC 7643 §8.7.1, are not listed inside the schema representations.

use scimgate_connectors::{coerce_value, ResourceKind};
use std::collections::HashSet;

use serde_json::{json, Map, Value};

use crate::error::{CoreError, CoreResult};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE_USER_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// `schemas` value of a schema representation (RFC 7643 §7).
pub const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// RFC 7643 §2.3 data types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Reference,
    Complex,
    Binary,
}

impl AttrType {
    pub fn as_str(self) -> &'static str {
        match self {
            AttrType::String => "string",
            AttrType::Boolean => "boolean",
            AttrType::Decimal => "decimal",
            AttrType::Integer => "integer",
            AttrType::DateTime => "dateTime",
            AttrType::Reference => "reference",
            AttrType::Complex => "complex",
            AttrType::Binary => "binary",
        }
    }
}

/// RFC 7643 §7 `mutability`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

impl Mutability {
    pub fn as_str(self) -> &'static str {
        match self {
            Mutability::ReadOnly => "readOnly",
            Mutability::ReadWrite => "readWrite",
            Mutability::Immutable => "immutable",
            Mutability::WriteOnly => "writeOnly",
        }
    }
}

/// RFC 7643 §7 `returned`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    Always,
    Never,
    Default,
    Request,
}

impl Returned {
    pub fn as_str(self) -> &'static str {
        match self {
            Returned::Always => "always",
            Returned::Never => "never",
            Returned::Default => "default",
            Returned::Request => "request",
        }
    }
}

/// One attribute definition with its RFC 7643 §2 / §7 characteristics.
#[derive(Debug)]
pub struct AttrDef {
    pub name: &'static str,
    pub ty: AttrType,
    pub multi_valued: bool,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    /// "none" | "server" | "global"
    pub uniqueness: &'static str,
    pub canonical_values: &'static [&'static str],
    pub reference_types: &'static [&'static str],
    pub description: &'static str,
    pub sub_attributes: &'static [AttrDef],
}

/// A schema (RFC 7643 §7).
#[derive(Debug)]
pub struct SchemaDef {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub attributes: &'static [AttrDef],
}

// ---------------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------------

const fn attr(name: &'static str, ty: AttrType, description: &'static str) -> AttrDef {
    AttrDef {
        name,
        ty,
        multi_valued: false,
        required: false,
        case_exact: false,
        mutability: Mutability::ReadWrite,
        returned: Returned::Default,
        uniqueness: "none",
        canonical_values: &[],
        reference_types: &[],
        description,
        sub_attributes: &[],
    }
}

const fn string(name: &'static str, description: &'static str) -> AttrDef {
    attr(name, AttrType::String, description)
}

const fn complex(
    name: &'static str,
    description: &'static str,
    sub_attributes: &'static [AttrDef],
) -> AttrDef {
    AttrDef {
        sub_attributes,
        ..attr(name, AttrType::Complex, description)
    }
}

const fn multi(
    name: &'static str,
    description: &'static str,
    sub_attributes: &'static [AttrDef],
) -> AttrDef {
    AttrDef {
        multi_valued: true,
        ..complex(name, description, sub_attributes)
    }
}

const fn display_sub() -> AttrDef {
    string(
        "display",
        "A human-readable name, primarily used for display purposes.  READ-ONLY.",
    )
}

const fn primary_sub(description: &'static str) -> AttrDef {
    attr("primary", AttrType::Boolean, description)
}

const fn type_sub(description: &'static str, canonical_values: &'static [&'static str]) -> AttrDef {
    AttrDef {
        canonical_values,
        ..string("type", description)
    }
}

static COMMON_ATTRIBUTES: [AttrDef; 3] = [
    AttrDef {
        case_exact: true,
        mutability: Mutability::ReadOnly,
        returned: Returned::Always,
        uniqueness: "server",
        ..string(
            "id",
            "A unique identifier for a SCIM resource as defined by the service provider.",
        )
    },
    AttrDef {
        case_exact: true,
        ..string(
            "externalId",
            "A String that is an identifier for the resource as defined by the provisioning client.",
        )
    },
    AttrDef {
        mutability: Mutability::ReadOnly,
        ..complex(
            "meta",
            "A complex attribute containing resource metadata.",
            &META_SUBS,
        )
    },
];

static META_SUBS: [AttrDef; 5] = [
    AttrDef {
        case_exact: true,
        mutability: Mutability::ReadOnly,
        ..string("resourceType", "The name of the resource type of the resource.")
    },
    AttrDef {
        mutability: Mutability::ReadOnly,
        ..attr(
            "created",
            AttrType::DateTime,
            "The \"DateTime\" that the resource was added to the service provider.",
        )
    },
    AttrDef {
        mutability: Mutability::ReadOnly,
        ..attr(
            "lastModified",
            AttrType::DateTime,
            "The most recent DateTime that the details of this resource were updated at the service provider.",
        )
    },
    AttrDef {
        case_exact: true,
        mutability: Mutability::ReadOnly,
        reference_types: &["uri"],
        ..attr(
            "location",
            AttrType::Reference,
            "The URI of the resource being returned.",
        )
    },
    AttrDef {
        case_exact: true,
        mutability: Mutability::ReadOnly,
        ..string("version", "The version of the resource being returned.")
    },
];

static NAME_SUBS: [AttrDef; 6] = [
    string(
        "formatted",
        "The full name, including all middle names, titles, and suffixes as appropriate, formatted for display (e.g., 'Ms. Barbara J Jensen, III').",
    ),
    string(
        "familyName",
        "The family name of the User, or last name in most Western languages (e.g., 'Jensen' given the full name 'Ms. Barbara J Jensen, III').",
    ),
    string(
        "givenName",
        "The given name of the User, or first name in most Western languages (e.g., 'Barbara' given the full name 'Ms. Barbara J Jensen, III').",
    ),
    string(
        "middleName",
        "The middle name(s) of the User (e.g., 'Jane' given the full name 'Ms. Barbara J Jensen, III').",
    ),
    string(
        "honorificPrefix",
        "The honorific prefix(es) of the User, or title in most Western languages (e.g., 'Ms.' given the full name 'Ms. Barbara J Jensen, III').",
    ),
    string(
        "honorificSuffix",
        "The honorific suffix(es) of the User, or suffix in most Western languages (e.g., 'III' given the full name 'Ms. Barbara J Jensen, III').",
    ),
];

static EMAIL_SUBS: [AttrDef; 4] = [
    string(
        "value",
        "Email addresses for the user.  The value SHOULD be canonicalized by the service provider, e.g., 'bjensen@example.com' instead of 'bjensen@EXAMPLE.COM'. Canonical type values of 'work', 'home', and 'other'.",
    ),
    display_sub(),
    type_sub(
        "A label indicating the attribute's function, e.g., 'work' or 'home'.",
        &["work", "home", "other"],
    ),
    primary_sub(
        "A Boolean value indicating the 'primary' or preferred attribute value for this attribute, e.g., the preferred mailing address or primary email address.  The primary attribute value 'true' MUST appear no more than once.",
    ),
];

static PHONE_SUBS: [AttrDef; 4] = [
    string("value", "Phone number of the User."),
    display_sub(),
    type_sub(
        "A label indicating the attribute's function, e.g., 'work', 'home', 'mobile'.",
        &["work", "home", "mobile", "fax", "pager", "other"],
    ),
    primary_sub(
        "A Boolean value indicating the 'primary' or preferred attribute value for this attribute, e.g., the preferred phone number or primary phone number.  The primary attribute value 'true' MUST appear no more than once.",
    ),
];

static IMS_SUBS: [AttrDef; 4] = [
    string("value", "Instant messaging address for the User."),
    display_sub(),
    type_sub(
        "A label indicating the attribute's function, e.g., 'aim', 'gtalk', 'xmpp'.",
        &["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"],
    ),
    primary_sub(
        "A Boolean value indicating the 'primary' or preferred attribute value for this attribute, e.g., the preferred messenger or primary messenger.  The primary attribute value 'true' MUST appear no more than once.",
    ),
];

static PHOTO_SUBS: [AttrDef; 4] = [
    AttrDef {
        reference_types: &["external"],
        ..attr("value", AttrType::Reference, "URL of a photo of the User.")
    },
    display_sub(),
    type_sub(
        "A label indicating the attribute's function, i.e., 'photo' or 'thumbnail'.",
        &["photo", "thumbnail"],
    ),
    primary_sub(
        "A Boolean value indicating the 'primary' or preferred attribute value for this attribute, e.g., the preferred photo or thumbnail.  The primary attribute value 'true' MUST appear no more than once.",
    ),
];

static ADDRESS_SUBS: [AttrDef; 8] = [
    string(
        "formatted",
        "The full mailing address, formatted for display or use with a mailing label.  This attribute MAY contain newlines.",
    ),
    string(
        "streetAddress",
        "The full street address component, which may include house number, street name, P.O. box, and multi-line extended street address information.  This attribute MAY contain newlines.",
    ),
    string("locality", "The city or locality component."),
    string("region", "The state or region component."),
    string("postalCode", "The zip code or postal code component."),
    string("country", "The country name component."),
    type_sub(
        "A label indicating the attribute's function, e.g., 'work' or 'home'.",
        &["work", "home", "other"],
    ),
    primary_sub(
        "A Boolean value indicating the 'primary' or preferred attribute value for this attribute, e.g., the preferred mailing address.  The primary attribute value 'true' MUST appear no more than once.",
    ),
];

static USER_GROUP_SUBS: [AttrDef; 4] = [
    AttrDef {
        mutability: Mutability::ReadOnly,
        ..string("value", "The identifier of the User's group.")
    },
    AttrDef {
        mutability: Mutability::ReadOnly,
        reference_types: &["User", "Group"],
        ..attr(
            "$ref",
            AttrType::Reference,
            "The URI of the corresponding 'Group' resource to which the user belongs.",
        )
    },
    AttrDef {
        mutability: Mutability::ReadOnly,
        ..display_sub()
    },
    AttrDef {
        mutability: Mutability::ReadOnly,
        ..type_sub(
            "A label indicating the attribute's function, e.g., 'direct' or 'indirect'.",
            &["direct", "indirect"],
        )
    },
];

static ENTITLEMENT_SUBS: [AttrDef; 4] = [
    string("value", "The value of an entitlement."),
    display_sub(),
    type_sub("A label indicating the attribute's function.", &[]),
    primary_sub(
        "A Boolean value indicating the 'primary' or preferred attribute value for this attribute.  The primary attribute value 'true' MUST appear no more than once.",
    ),
];

static ROLE_SUBS: [AttrDef; 4] = [
    string("value", "The value of a role."),
    display_sub(),
    type_sub("A label indicating the attribute's function.", &[]),
    primary_sub(
        "A Boolean value indicating the 'primary' or preferred attribute value for this attribute.  The primary attribute value 'true' MUST appear no more than once.",
    ),
];

static X509_SUBS: [AttrDef; 4] = [
    attr(
        "value",
        AttrType::Binary,
        "The value of an X.509 certificate.",
    ),
    display_sub(),
    type_sub("A label indicating the attribute's function.", &[]),
    primary_sub(
        "A Boolean value indicating the 'primary' or preferred attribute value for this attribute.  The primary attribute value 'true' MUST appear no more than once.",
    ),
];

static USER_ATTRIBUTES: [AttrDef; 21] = [
    AttrDef {
        required: true,
        uniqueness: "server",
        ..string(
            "userName",
            "Unique identifier for the User, typically used by the user to directly authenticate to the service provider.  Each User MUST include a non-empty userName value.  This identifier MUST be unique across the service provider's entire set of Users.  REQUIRED.",
        )
    },
    complex(
        "name",
        "The components of the user's real name.  Providers MAY return just the full name as a single string in the formatted sub-attribute, or they MAY return just the individual component attributes using the other sub-attributes, or they MAY return both.  If both variants are returned, they SHOULD be describing the same name, with the formatted name indicating how the component attributes should be combined.",
        &NAME_SUBS,
    ),
    string(
        "displayName",
        "The name of the User, suitable for display to end-users.  The name SHOULD be the full name of the User being described, if known.",
    ),
    string(
        "nickName",
        "The casual way to address the user in real life, e.g., 'Bob' or 'Bobby' instead of 'Robert'.  This attribute SHOULD NOT be used to represent a User's username (e.g., 'bjensen' or 'mpepperidge').",
    ),
    AttrDef {
        reference_types: &["external"],
        ..attr(
            "profileUrl",
            AttrType::Reference,
            "A fully qualified URL pointing to a page representing the User's online profile.",
        )
    },
    string("title", "The user's title, such as \"Vice President.\""),
    string(
        "userType",
        "Used to identify the relationship between the organization and the user.  Typical values used might be 'Contractor', 'Employee', 'Intern', 'Temp', 'External', and 'Unknown', but any value may be used.",
    ),
    string(
        "preferredLanguage",
        "Indicates the User's preferred written or spoken language.  Generally used for selecting a localized user interface; e.g., 'en_US' specifies the language English and country US.",
    ),
    string(
        "locale",
        "Used to indicate the User's default location for purposes of localizing items such as currency, date time format, or numerical representations.",
    ),
    string(
        "timezone",
        "The User's time zone in the 'Olson' time zone database format, e.g., 'America/Los_Angeles'.",
    ),
    attr(
        "active",
        AttrType::Boolean,
        "A Boolean value indicating the User's administrative status.",
    ),
    AttrDef {
        mutability: Mutability::WriteOnly,
        returned: Returned::Never,
        ..string(
            "password",
            "The User's cleartext password.  This attribute is intended to be used as a means to specify an initial password when creating a new User or to reset an existing User's password.",
        )
    },
    multi(
        "emails",
        "Email addresses for the user.  The value SHOULD be canonicalized by the service provider, e.g., 'bjensen@example.com' instead of 'bjensen@EXAMPLE.COM'.  Canonical type values of 'work', 'home', and 'other'.",
        &EMAIL_SUBS,
    ),
    multi(
        "phoneNumbers",
        "Phone numbers for the User.  The value SHOULD be canonicalized by the service provider according to the format specified in RFC 3966, e.g., 'tel:+1-201-555-0123'.  Canonical type values of 'work', 'home', 'mobile', 'fax', 'pager', and 'other'.",
        &PHONE_SUBS,
    ),
    multi(
        "ims",
        "Instant messaging addresses for the User.",
        &IMS_SUBS,
    ),
    multi("photos", "URLs of photos of the User.", &PHOTO_SUBS),
    multi(
        "addresses",
        "A physical mailing address for this User.  Canonical type values of 'work', 'home', and 'other'.  This attribute is a complex type with the following sub-attributes.",
        &ADDRESS_SUBS,
    ),
    AttrDef {
        mutability: Mutability::ReadOnly,
        ..multi(
            "groups",
            "A list of groups to which the user belongs, either through direct membership, through nested groups, or dynamically calculated.",
            &USER_GROUP_SUBS,
        )
    },
    multi(
        "entitlements",
        "A list of entitlements for the User that represent a thing the User has.",
        &ENTITLEMENT_SUBS,
    ),
    multi(
        "roles",
        "A list of roles for the User that collectively represent who the User is, e.g., 'Student', 'Faculty'.",
        &ROLE_SUBS,
    ),
    multi(
        "x509Certificates",
        "A list of certificates issued to the User.",
        &X509_SUBS,
    ),
];

static MANAGER_SUBS: [AttrDef; 3] = [
    string(
        "value",
        "The id of the SCIM resource representing the User's manager.  REQUIRED.",
    ),
    AttrDef {
        reference_types: &["User"],
        ..attr(
            "$ref",
            AttrType::Reference,
            "The URI of the SCIM resource representing the User's manager.  REQUIRED.",
        )
    },
    AttrDef {
        mutability: Mutability::ReadOnly,
        ..string(
            "displayName",
            "The displayName of the User's manager.  OPTIONAL and READ-ONLY.",
        )
    },
];

static ENTERPRISE_ATTRIBUTES: [AttrDef; 6] = [
    string(
        "employeeNumber",
        "Numeric or alphanumeric identifier assigned to a person, typically based on order of hire or association with an organization.",
    ),
    string("costCenter", "Identifies the name of a cost center."),
    string("organization", "Identifies the name of an organization."),
    string("division", "Identifies the name of a division."),
    string("department", "Identifies the name of a department."),
    complex(
        "manager",
        "The User's manager.  A complex type that optionally allows service providers to represent organizational hierarchy by referencing the 'id' attribute of another User.",
        &MANAGER_SUBS,
    ),
];

static MEMBER_SUBS: [AttrDef; 4] = [
    AttrDef {
        mutability: Mutability::Immutable,
        ..string("value", "Identifier of the member of this Group.")
    },
    AttrDef {
        mutability: Mutability::Immutable,
        reference_types: &["User", "Group"],
        ..attr(
            "$ref",
            AttrType::Reference,
            "The URI corresponding to a SCIM resource that is a member of this Group.",
        )
    },
    AttrDef {
        mutability: Mutability::Immutable,
        ..string(
            "display",
            "A human-readable name, primarily used for display purposes.  READ-ONLY.",
        )
    },
    AttrDef {
        mutability: Mutability::Immutable,
        ..type_sub(
            "A label indicating the type of resource, e.g., 'User' or 'Group'.",
            &["User", "Group"],
        )
    },
];

static GROUP_ATTRIBUTES: [AttrDef; 2] = [
    AttrDef {
        required: true,
        ..string(
            "displayName",
            "A human-readable name for the Group.  REQUIRED.",
        )
    },
    multi("members", "A list of members of the Group.", &MEMBER_SUBS),
];

/// RFC 7643 §4.1 / §8.7.1 User.
pub static USER: SchemaDef = SchemaDef {
    id: USER_SCHEMA,
    name: "User",
    description: "User Account",
    attributes: &USER_ATTRIBUTES,
};

/// RFC 7643 §4.3 / §8.7.2 Enterprise User extension.
pub static ENTERPRISE_USER: SchemaDef = SchemaDef {
    id: ENTERPRISE_USER_SCHEMA,
    name: "EnterpriseUser",
    description: "Enterprise User",
    attributes: &ENTERPRISE_ATTRIBUTES,
};

/// RFC 7643 §4.2 / §8.7.1 Group.
pub static GROUP: SchemaDef = SchemaDef {
    id: GROUP_SCHEMA,
    name: "Group",
    description: "Group",
    attributes: &GROUP_ATTRIBUTES,
};

/// The common attributes of every resource (RFC 7643 §3.1): `id`, `externalId`, `meta`.
pub fn common_attributes() -> &'static [AttrDef] {
    &COMMON_ATTRIBUTES
}

// ---------------------------------------------------------------------------------------------
// Lookup
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Canonicalization
// ---------------------------------------------------------------------------------------------

/// Result of [`canonicalize`].
#[derive(Debug, Clone, PartialEq)]
pub struct Canonical {
    /// The document to store (and to return, after adding `id`/`meta`).
    pub doc: Map<String, Value>,
    /// Group members: `None` = the body had no `members` (or `members: null`): leave membership alone;
    /// `Some(vec![])` = explicit `[]`.
    pub members: Option<Vec<MemberRef>>,
}

/// One entry of a Group's `members` (RFC 7643 §4.2).
#[derive(Debug, Clone, PartialEq)]
pub struct MemberRef {
    pub value: String,
    pub display: Option<String>,
    /// "User" or "Group" when given (matched case-insensitively, stored canonical).
    pub kind: Option<String>,
}

/// Validate and canonicalize a (connector-normalized) POST/PUT body into the stored document:
/// - attribute names re-cased to the schema's canonical names;
/// - enterprise attributes live under the enterprise URN key as an object; URN-qualified top-level keys
///   (`"urn:…:enterprise:2.0:User:department"`, `"urn:…:core:2.0:User:userName"`, unknown extensions'
///   `"urn:x:…:User:attr"`) are moved into their schema's object;
/// - readOnly attributes (`id`, `meta`, `groups`; RFC 7644 §3.5.1 "SHALL be ignored", OKTA-CREATE-PASSWORD-GROUPS)
///   and writeOnly ones (`password`: never stored) are dropped; for Groups `members` is removed from the
///   document and returned in [`Canonical::members`];
/// - `schemas` is rebuilt: core URN, the enterprise URN when its object is non-empty, then the URN keys of
///   the other extension objects present (kept verbatim, PRODUCT.md); URIs listed in `schemas` that carry no
///   attributes (Entra's ADSCIM Group URI, ENTRA-GROUP-SCHEMA) are dropped, and extension keys present
///   without a `schemas` entry are listed (ONELOGIN-TEMPLATE-TYPES);
/// - values are type-checked against the definitions (booleans after
///   [`coerce_value`](scimgate_connectors::coerce_value), ENTRA-STRING-BOOL); a single value where a
///   multi-valued attribute belongs is wrapped (ONELOGIN-EMAILS-OBJECT); a bare string where a complex
///   attribute with a `value` sub-attribute belongs becomes `{"value": …}` (ENTRA-MANAGER-STRING);
///   `null`, `[]` and `{}` of known attributes mean "unassigned" (RFC 7643 §2.5) and are not stored;
///   unknown sub-attributes of known complex attributes and unknown non-URN attributes are kept verbatim;
/// - strings containing NUL anywhere -> `invalidValue`; more than one `primary: true` -> `invalidValue`;
///   missing/empty `userName` (User) or `displayName` (Group) -> `invalidValue`.
pub fn canonicalize(kind: ResourceKind, body: Value) -> CoreResult<Canonical> {
    canonicalize_kind(Kind::of(&kind), body)
}

pub(crate) fn canonicalize_kind(kind: Kind, body: Value) -> CoreResult<Canonical> {
    let Value::Object(obj) = body else {
        return Err(CoreError::invalid_syntax(format!(
            "a {} must be a JSON object",
            kind.label()
        )));
    };
    // Extension URN keys present in the body: a key `"<that URN>:attr"` is an attribute of it.
    let ext_keys: HashSet<String> = obj
        .iter()
        .filter(|(k, v)| k.contains(':') && v.is_object())
        .map(|(k, _)| k.to_ascii_lowercase())
        .collect();
    let mut b = Builder {
        kind,
        core: Map::new(),
        enterprise: Map::new(),
        ext: Map::new(),
        members: None,
    };
    for (key, value) in obj {
        no_nul_str(&key, "attribute names")?;
        if key.eq_ignore_ascii_case("schemas") {
            // Rebuilt from the attributes present; only checked for NUL.
            no_nul("schemas", &value)?;
            continue;
        }
        let class = classify_key(kind, &key, value.is_object(), |u| {
            ext_keys.contains(&u.to_ascii_lowercase())
        });
        b.put(class, &key, value)?;
    }
    b.finish()
}

/// How a top-level key (of a body, or of a path-less PATCH value) is to be understood.
#[derive(Debug, PartialEq)]
pub(crate) enum KeyClass<'a> {
    /// A plain attribute name, possibly dotted (`name.givenName`).
    Plain(&'a str),
    /// `<core URN>:attr[.sub]`
    CoreAttr(&'a str),
    /// The core URN itself (a whole object of core attributes).
    CoreObject,
    /// `<enterprise URN>:attr[.sub]` (users)
    EnterpriseAttr(&'a str),
    /// The enterprise URN itself (users).
    EnterpriseObject,
    /// An unknown extension: the whole object (or a verbatim value under a URI key).
    ExtObject,
    /// `<unknown URN>:attr[.sub]`
    ExtAttr { uri: &'a str, attr: &'a str },
}

/// Classify a key. Unknown URN-ish keys are split at their last `:` into an extension URN and an attribute
/// name when the value is not an object (an object value under a URN key is an extension object, e.g.
/// Okta's `urn:okta:app:1.0:user:custom`), or when the URN part is a known extension key (`is_ext`).
pub(crate) fn classify_key<'a>(
    kind: Kind,
    key: &'a str,
    value_is_object: bool,
    is_ext: impl Fn(&str) -> bool,
) -> KeyClass<'a> {
    if !key.contains(':') {
        return KeyClass::Plain(key);
    }
    let core = kind.core().id;
    if key.eq_ignore_ascii_case(core) {
        return KeyClass::CoreObject;
    }
    if let Some(rest) = strip_urn_prefix(key, core) {
        return KeyClass::CoreAttr(rest);
    }
    if kind == Kind::User {
        if key.eq_ignore_ascii_case(ENTERPRISE_USER_SCHEMA) {
            return KeyClass::EnterpriseObject;
        }
        if let Some(rest) = strip_urn_prefix(key, ENTERPRISE_USER_SCHEMA) {
            return KeyClass::EnterpriseAttr(rest);
        }
    }
    if let Some((uri, attr)) = key.rsplit_once(':') {
        let attr_like = uri.contains(':') && is_attr_path(attr);
        if attr_like && (is_ext(uri) || !value_is_object) {
            return KeyClass::ExtAttr { uri, attr };
        }
    }
    KeyClass::ExtObject
}

/// `key` = `urn` + ":" + rest (case-insensitive prefix); returns rest.
fn strip_urn_prefix<'a>(key: &'a str, urn: &str) -> Option<&'a str> {
    let head = key.get(..urn.len())?;
    let rest = key.get(urn.len()..)?;
    if head.eq_ignore_ascii_case(urn) {
        rest.strip_prefix(':')
    } else {
        None
    }
}

/// RFC 7644 §3.4.2.2 ATTRNAME, optionally with one `.subAttr`.
fn is_attr_path(s: &str) -> bool {
    let mut parts = s.split('.');
    let first = parts.next().is_some_and(is_attr_name);
    let second = parts.next().is_none_or(is_attr_name);
    first && second && parts.next().is_none()
}

fn is_attr_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$')
}

struct Builder {
    kind: Kind,
    core: Map<String, Value>,
    enterprise: Map<String, Value>,
    ext: Map<String, Value>,
    members: Option<Vec<MemberRef>>,
}

impl Builder {
    fn put(&mut self, class: KeyClass<'_>, key: &str, value: Value) -> CoreResult<()> {
        match class {
            KeyClass::Plain(name) | KeyClass::CoreAttr(name) => self.put_core(name, value),
            KeyClass::CoreObject => match value {
                Value::Object(m) => {
                    for (k, v) in m {
                        no_nul_str(&k, "attribute names")?;
                        self.put_core(&k, v)?;
                    }
                    Ok(())
                }
                Value::Null => Ok(()),
                other => Err(not_an_object(key, &other)),
            },
            KeyClass::EnterpriseAttr(name) => {
                put_schema_attr(&ENTERPRISE_USER, &mut self.enterprise, name, value)
            }
            KeyClass::EnterpriseObject => match value {
                Value::Object(m) => {
                    for (k, v) in m {
                        no_nul_str(&k, "attribute names")?;
                        put_schema_attr(&ENTERPRISE_USER, &mut self.enterprise, &k, v)?;
                    }
                    Ok(())
                }
                Value::Null => Ok(()),
                other => Err(not_an_object(key, &other)),
            },
            KeyClass::ExtObject => {
                no_nul(key, &value)?;
                let slot = key_ci(&self.ext, key).unwrap_or_else(|| key.to_string());
                match (value, self.ext.get_mut(&slot)) {
                    (Value::Null, _) => {}
                    (Value::Object(m), Some(Value::Object(existing))) => {
                        for (k, v) in m {
                            set_ci(existing, &k, v);
                        }
                    }
                    (v, _) => {
                        self.ext.insert(slot, v);
                    }
                }
                Ok(())
            }
            KeyClass::ExtAttr { uri, attr } => {
                no_nul(key, &value)?;
                if value.is_null() {
                    return Ok(());
                }
                let slot = key_ci(&self.ext, uri).unwrap_or_else(|| uri.to_string());
                let entry = self
                    .ext
                    .entry(slot)
                    .or_insert_with(|| Value::Object(Map::new()));
                if !entry.is_object() {
                    *entry = Value::Object(Map::new());
                }
                if let Value::Object(m) = entry {
                    match attr.split_once('.') {
                        Some((a, s)) => {
                            let slot = key_ci(m, a).unwrap_or_else(|| a.to_string());
                            let inner = m.entry(slot).or_insert_with(|| Value::Object(Map::new()));
                            if !inner.is_object() {
                                *inner = Value::Object(Map::new());
                            }
                            if let Value::Object(im) = inner {
                                set_ci(im, s, value);
                            }
                        }
                        None => set_ci(m, attr, value),
                    }
                }
                Ok(())
            }
        }
    }

    fn put_core(&mut self, name_path: &str, value: Value) -> CoreResult<()> {
        let (name, sub) = match name_path.split_once('.') {
            Some((n, s)) => (n, Some(s)),
            None => (name_path, None),
        };
        let Some(def) = core_attr(self.kind, name) else {
            // Unknown non-URN attribute: kept verbatim (tolerance, PRODUCT.md).
            no_nul(name_path, &value)?;
            set_ci(&mut self.core, name_path, value);
            return Ok(());
        };
        if self.kind == Kind::Group && def.name == "members" {
            if sub.is_some() {
                return Err(CoreError::invalid_value(format!(
                    "'{name_path}' is not allowed in a Group body; send 'members' as a list"
                )));
            }
            self.members = if value.is_null() {
                None
            } else {
                Some(parse_member_list(value, "members")?)
            };
            return Ok(());
        }
        if matches!(def.mutability, Mutability::ReadOnly | Mutability::WriteOnly) {
            // RFC 7644 §3.5.1: readOnly values are ignored; writeOnly `password` is never stored.
            return Ok(());
        }
        if sub.is_some() && def.ty != AttrType::Complex {
            no_nul(name_path, &value)?;
            set_ci(&mut self.core, name_path, value);
            return Ok(());
        }
        put_attr(&mut self.core, def, sub, value, name_path)
    }

    fn finish(self) -> CoreResult<Canonical> {
        for def in self.kind.core().attributes.iter().filter(|d| d.required) {
            let ok =
                matches!(self.core.get(def.name), Some(Value::String(s)) if !s.trim().is_empty());
            if !ok {
                return Err(required_error(self.kind, def));
            }
        }
        let mut schemas = vec![Value::String(self.kind.core().id.to_string())];
        if !self.enterprise.is_empty() {
            schemas.push(Value::String(ENTERPRISE_USER_SCHEMA.to_string()));
        }
        for (k, v) in &self.ext {
            if matches!(v, Value::Object(m) if !m.is_empty()) {
                schemas.push(Value::String(k.clone()));
            }
        }
        let mut doc = Map::new();
        doc.insert("schemas".to_string(), Value::Array(schemas));
        doc.extend(self.core);
        if !self.enterprise.is_empty() {
            doc.insert(
                ENTERPRISE_USER_SCHEMA.to_string(),
                Value::Object(self.enterprise),
            );
        }
        for (k, v) in self.ext {
            if matches!(&v, Value::Object(m) if m.is_empty()) {
                continue;
            }
            doc.insert(k, v);
        }
        Ok(Canonical {
            doc,
            members: self.members,
        })
    }
}

pub(crate) fn required_error(kind: Kind, def: &AttrDef) -> CoreError {
    let section = match kind {
        Kind::User => "RFC 7643 §4.1",
        Kind::Group => "RFC 7643 §4.2",
    };
    CoreError::invalid_value(format!(
        "'{}' is required and must be a non-empty string ({section})",
        def.name
    ))
}

/// Put an attribute (by plain name, optionally dotted) of an extension schema's object.
fn put_schema_attr(
    schema: &'static SchemaDef,
    map: &mut Map<String, Value>,
    name_path: &str,
    value: Value,
) -> CoreResult<()> {
    let (name, sub) = match name_path.split_once('.') {
        Some((n, s)) => (n, Some(s)),
        None => (name_path, None),
    };
    match find_attr(schema.attributes, name) {
        Some(def) if sub.is_none() || def.ty == AttrType::Complex => {
            if def.mutability == Mutability::ReadOnly {
                return Ok(());
            }
            put_attr(map, def, sub, value, name_path)
        }
        _ => {
            // Unknown attribute of a known extension: kept verbatim (tolerance).
            no_nul(name_path, &value)?;
            set_ci(map, name_path, value);
            Ok(())
        }
    }
}

/// Set (or, for unassigned values, remove) a known attribute or one of its sub-attributes in `map`.
fn put_attr(
    map: &mut Map<String, Value>,
    def: &'static AttrDef,
    sub: Option<&str>,
    value: Value,
    label: &str,
) -> CoreResult<()> {
    let Some(sub) = sub else {
        match check_attr_value(def, label, value)? {
            Some(v) => {
                map.insert(def.name.to_string(), v);
            }
            None => {
                map.shift_remove(def.name);
            }
        }
        return Ok(());
    };
    if def.multi_valued {
        return Err(CoreError::invalid_value(format!(
            "'{label}': a sub-attribute of the multi-valued attribute '{}' cannot be set in a resource body",
            def.name
        )));
    }
    let sub_def = find_attr(def.sub_attributes, sub);
    if sub_def.is_some_and(|d| d.mutability == Mutability::ReadOnly) {
        return Ok(());
    }
    let checked = match sub_def {
        Some(sd) => check_attr_value(sd, label, value)?,
        None => {
            no_nul(label, &value)?;
            (!value.is_null()).then_some(value)
        }
    };
    let sub_name = sub_def.map_or(sub, |d| d.name);
    let entry = map
        .entry(def.name.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    if let Value::Object(obj) = entry {
        match checked {
            Some(v) => set_ci(obj, sub_name, v),
            None => {
                if let Some(k) = key_ci(obj, sub_name) {
                    obj.shift_remove(&k);
                }
            }
        }
        if obj.is_empty() {
            map.shift_remove(def.name);
        }
    }
    Ok(())
}

/// Type-check and canonicalize a value for `def` (RFC 7643 §2.3). Returns `None` when the value is
/// unassigned (`null`, `[]`, or a complex value with nothing left) (RFC 7643 §2.5). Multi-valued attributes
/// accept a single value, which is wrapped (ONELOGIN-EMAILS-OBJECT). `label` names the attribute in errors.
pub(crate) fn check_attr_value(
    def: &'static AttrDef,
    label: &str,
    value: Value,
) -> CoreResult<Option<Value>> {
    if !def.multi_valued {
        return check_element(def, label, value);
    }
    let items = match value {
        Value::Null => return Ok(None),
        Value::Array(items) => items,
        other => vec![other],
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        if let Some(v) = check_element(def, &format!("{label}[{i}]"), item)? {
            out.push(v);
        }
    }
    if def.ty == AttrType::Complex && out.iter().filter(|e| is_primary(e)).count() > 1 {
        return Err(CoreError::invalid_value(format!(
            "at most one value of '{label}' may have \"primary\": true (RFC 7643 §2.4)"
        )));
    }
    Ok((!out.is_empty()).then_some(Value::Array(out)))
}

/// Type-check one value (one element, for multi-valued attributes) against `def`.
pub(crate) fn check_element(
    def: &'static AttrDef,
    label: &str,
    value: Value,
) -> CoreResult<Option<Value>> {
    if value.is_null() {
        return Ok(None);
    }
    match def.ty {
        AttrType::String | AttrType::Reference | AttrType::Binary => match value {
            Value::String(s) => {
                no_nul_str(&s, label)?;
                Ok(Some(Value::String(s)))
            }
            other => Err(wrong_type(label, "a string", &other)),
        },
        AttrType::Boolean => match coerce_value(def.name, value) {
            Value::Bool(b) => Ok(Some(Value::Bool(b))),
            other => Err(wrong_type(label, "a boolean", &other)),
        },
        AttrType::Decimal => match value {
            Value::Number(n) => Ok(Some(Value::Number(n))),
            other => Err(wrong_type(label, "a number", &other)),
        },
        AttrType::Integer => match value {
            Value::Number(n) if n.is_i64() || n.is_u64() => Ok(Some(Value::Number(n))),
            other => Err(wrong_type(label, "an integer", &other)),
        },
        AttrType::DateTime => match value {
            Value::String(s) if is_datetime(&s) => Ok(Some(Value::String(s))),
            other => Err(wrong_type(label, "a dateTime (RFC 3339)", &other)),
        },
        AttrType::Complex => check_complex(def, label, value),
    }
}

fn check_complex(def: &'static AttrDef, label: &str, value: Value) -> CoreResult<Option<Value>> {
    let has_value_sub = find_attr(def.sub_attributes, "value").is_some();
    let value = match value {
        // ENTRA-MANAGER-STRING: a bare id where `{"value": id}` belongs.
        Value::String(s) if has_value_sub => {
            let mut m = Map::new();
            m.insert("value".to_string(), Value::String(s));
            Value::Object(m)
        }
        // Older Entra sample: `"manager": [{"value": …}]` for a single-valued complex attribute.
        Value::Array(mut items) if !def.multi_valued && items.len() == 1 => {
            items.pop().unwrap_or(Value::Null)
        }
        other => other,
    };
    let Value::Object(m) = value else {
        return Err(wrong_type(label, "a complex object", &value));
    };
    let mut out = Map::new();
    for (k, v) in m {
        no_nul_str(&k, "attribute names")?;
        match find_attr(def.sub_attributes, &k) {
            Some(sd) => {
                if sd.mutability == Mutability::ReadOnly && def.mutability != Mutability::ReadOnly {
                    // e.g. manager.displayName: readOnly, ignored on input (RFC 7644 §3.5.1).
                    continue;
                }
                if let Some(x) = check_attr_value(sd, &format!("{label}.{}", sd.name), v)? {
                    out.insert(sd.name.to_string(), x);
                }
            }
            None => {
                // Unknown sub-attribute (OneLogin's manager.managerId): kept verbatim.
                if !v.is_null() {
                    no_nul(&format!("{label}.{k}"), &v)?;
                    set_ci(&mut out, &k, v);
                }
            }
        }
    }
    Ok((!out.is_empty()).then_some(Value::Object(out)))
}

fn is_datetime(s: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(s).is_ok()
        || chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
}

/// `"primary": true` in a multi-valued element (key matched case-insensitively).
pub(crate) fn is_primary(elem: &Value) -> bool {
    elem.as_object()
        .and_then(|m| get_ci(m, "primary"))
        .is_some_and(|v| v == &Value::Bool(true))
}

/// Parse a Group `members` value (a list of `{value, display?, type?, $ref?}`; a single object and bare id
/// strings are tolerated; `$ref: null` is fine, ENTRA-REF-NULL). Values must be non-empty strings.
/// Duplicates are removed (first wins).
pub(crate) fn parse_member_list(value: Value, label: &str) -> CoreResult<Vec<MemberRef>> {
    let items = match value {
        Value::Array(items) => items,
        Value::Null => Vec::new(),
        other => vec![other],
    };
    let mut out: Vec<MemberRef> = Vec::with_capacity(items.len());
    let mut seen: HashSet<String> = HashSet::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        // the element's label is built only for an error message
        if let Some(m) = parse_member(item, || format!("{label}[{i}]"))? {
            if seen.insert(m.value.clone()) {
                out.push(m);
            }
        }
    }
    Ok(out)
}

fn parse_member(item: Value, label: impl Fn() -> String) -> CoreResult<Option<MemberRef>> {
    if has_nul(&item) {
        return Err(nul_error(&label()));
    }
    match item {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(MemberRef {
            value: member_value(Some(Value::String(s)), &label)?,
            display: None,
            kind: None,
        })),
        Value::Object(mut m) => {
            let mut take = |name: &str| key_ci(&m, name).and_then(|k| m.shift_remove(&k));
            let value = member_value(take("value"), &label)?;
            let display = match take("display") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s),
                Some(other) => {
                    return Err(wrong_type(
                        &format!("{}.display", label()),
                        "a string",
                        &other,
                    ))
                }
            };
            let kind = match take("type") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) if s.eq_ignore_ascii_case("user") => {
                    Some("User".to_string())
                }
                Some(Value::String(s)) if s.eq_ignore_ascii_case("group") => {
                    Some("Group".to_string())
                }
                Some(_) => {
                    return Err(CoreError::invalid_value(format!(
                        "'{}.type' must be \"User\" or \"Group\" (RFC 7643 §4.2)",
                        label()
                    )))
                }
            };
            Ok(Some(MemberRef {
                value,
                display,
                kind,
            }))
        }
        other => Err(wrong_type(
            &label(),
            "an object with a non-empty string 'value'",
            &other,
        )),
    }
}

fn member_value(v: Option<Value>, label: &impl Fn() -> String) -> CoreResult<String> {
    match v {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        Some(Value::String(_)) => Err(CoreError::invalid_value(format!(
            "'{}.value' must be a non-empty member id",
            label()
        ))),
        None | Some(Value::Null) => Err(CoreError::invalid_value(format!(
            "'{}.value' is required: the id of a User or Group",
            label()
        ))),
        Some(other) => Err(wrong_type(
            &format!("{}.value", label()),
            "a string",
            &other,
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Small helpers shared with patch.rs
// ---------------------------------------------------------------------------------------------

/// Objects larger than this are only searched by exact key: keeps every lookup bounded, so a body with
/// tens of thousands of keys cannot make canonicalization or PATCH quadratic. Canonical documents store
/// known attributes under their canonical names, which always match exactly.
const CI_SCAN_LIMIT: usize = 1024;

/// The actual key of `map` matching `name` case-insensitively (exact match preferred).
pub(crate) fn key_ci(map: &Map<String, Value>, name: &str) -> Option<String> {
    if map.contains_key(name) {
        return Some(name.to_string());
    }
    if map.len() > CI_SCAN_LIMIT {
        return None;
    }
    map.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()
}

/// `map[name]` with the key matched case-insensitively (exact match preferred; bounded like [`key_ci`]).
pub(crate) fn get_ci<'m>(map: &'m Map<String, Value>, name: &str) -> Option<&'m Value> {
    if let Some(v) = map.get(name) {
        return Some(v);
    }
    if map.len() > CI_SCAN_LIMIT {
        return None;
    }
    map.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// Order-insensitive identity of a JSON value (objects compare as maps, like `Value`'s `PartialEq`),
/// for hash-based duplicate detection.
pub(crate) fn fingerprint(v: &Value) -> String {
    let mut out = String::new();
    write_fingerprint(v, &mut out);
    out
}

fn write_fingerprint(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (k, x) in entries {
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_fingerprint(x, out);
                out.push(',');
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for x in items {
                write_fingerprint(x, out);
                out.push(',');
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// Insert under the existing case-variant of `name` if there is one (keeps its position), else under `name`.
pub(crate) fn set_ci(map: &mut Map<String, Value>, name: &str, value: Value) {
    let key = key_ci(map, name).unwrap_or_else(|| name.to_string());
    map.insert(key, value);
}

pub(crate) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

pub(crate) fn wrong_type(label: &str, expected: &str, got: &Value) -> CoreError {
    CoreError::invalid_value(format!(
        "attribute '{label}' must be {expected}, got {}",
        json_type(got)
    ))
}

fn not_an_object(label: &str, got: &Value) -> CoreError {
    wrong_type(label, "an object", got)
}

/// The most bytes of an identifier the database indexes: `userName`, `externalId`, a
/// group's `displayName` (PostgreSQL's btree rows hold at most 2,704 bytes, and
/// lowercasing can grow a string by half). IdPs stay far below: Entra caps a
/// userPrincipalName at 113 characters and a group name at 256.
pub const MAX_IDENTIFIER_BYTES: usize = 1024;

/// Reject an identifier of `doc` longer than [`MAX_IDENTIFIER_BYTES`].
pub(crate) fn check_identifiers(doc: &Map<String, Value>, keys: &[&str]) -> CoreResult<()> {
    for k in keys {
        if let Some(Value::String(s)) = doc.get(*k) {
            if s.len() > MAX_IDENTIFIER_BYTES {
                return Err(CoreError::invalid_value(format!(
                    "'{k}' is {} bytes long; at most {MAX_IDENTIFIER_BYTES} are allowed",
                    s.len()
                )));
            }
        }
    }
    Ok(())
}

pub(crate) fn no_nul_str(s: &str, label: &str) -> CoreResult<()> {
    if s.contains('\0') {
        Err(nul_error(label))
    } else {
        Ok(())
    }
}

fn nul_error(label: &str) -> CoreError {
    CoreError::invalid_value(format!("'{label}' must not contain NUL characters"))
}

/// True when any string or key inside `v` holds a NUL (iterative: no recursion on
/// untrusted depth).
pub(crate) fn has_nul(v: &Value) -> bool {
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s) if s.contains('\0') => return true,
            Value::Array(items) => stack.extend(items.iter()),
            Value::Object(m) => {
                if m.keys().any(|k| k.contains('\0')) {
                    return true;
                }
                stack.extend(m.values());
            }
            _ => {}
        }
    }
    false
}

/// Reject NUL in any string or key inside `v`.
pub(crate) fn no_nul(label: &str, v: &Value) -> CoreResult<()> {
    if has_nul(v) {
        Err(nul_error(label))
    } else {
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// RFC 7643 §7 representation
// ---------------------------------------------------------------------------------------------

/// RFC 7643 §7 representation of a schema, for GET /Schemas and /Schemas/{id}; `base_url` is the
/// directory's SCIM base (e.g. "https://h/scim/v2/directory_01…"), meta.location = base_url + "/Schemas/" + id.
pub fn schema_json(def: &SchemaDef, base_url: &str) -> Value {
    json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": def.id,
        "name": def.name,
        "description": def.description,
        "attributes": def.attributes.iter().map(attr_json).collect::<Vec<_>>(),
        "meta": {
            "resourceType": "Schema",
            "location": format!("{}/Schemas/{}", base_url.trim_end_matches('/'), def.id),
        },
    })
}

fn attr_json(a: &AttrDef) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(a.name));
    m.insert("type".into(), json!(a.ty.as_str()));
    m.insert("multiValued".into(), json!(a.multi_valued));
    m.insert("description".into(), json!(a.description));
    m.insert("required".into(), json!(a.required));
    if a.ty != AttrType::Complex {
        m.insert("caseExact".into(), json!(a.case_exact));
    }
    if !a.canonical_values.is_empty() {
        m.insert("canonicalValues".into(), json!(a.canonical_values));
    }
    if a.ty == AttrType::Reference {
        m.insert("referenceTypes".into(), json!(a.reference_types));
    }
    m.insert("mutability".into(), json!(a.mutability.as_str()));
    m.insert("returned".into(), json!(a.returned.as_str()));
    m.insert("uniqueness".into(), json!(a.uniqueness));
    if a.ty == AttrType::Complex {
        m.insert(
            "subAttributes".into(),
            Value::Array(a.sub_attributes.iter().map(attr_json).collect()),
        );
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ScimType;

    fn scim_type<T: std::fmt::Debug>(r: &CoreResult<T>) -> Option<ScimType> {
        match r {
            Err(CoreError::BadRequest { scim_type, .. }) => *scim_type,
            _ => None,
        }
    }

    fn detail<T>(r: &CoreResult<T>) -> String {
        match r {
            Err(e) => e.to_string(),
            Ok(_) => String::new(),
        }
    }

    /// Each bad element is named by its position, though labels are only built for
    /// errors; valid lists of any shape parse without one.
    #[test]
    fn member_list_errors_name_the_element() {
        let cases = [
            (
                json!([{"value": "a"}, {"value": "b"}, {"value": ""}]),
                "'members[2].value' must be a non-empty member id",
            ),
            (
                json!([{"value": "a"}, {"display": "x"}]),
                "'members[1].value' is required",
            ),
            (
                json!([{"value": 7}]),
                "attribute 'members[0].value' must be a string",
            ),
            (
                json!([{"value": "a", "display": 3}]),
                "attribute 'members[0].display' must be a string",
            ),
            (
                json!(["a", {"value": "b", "type": "Robot"}]),
                "'members[1].type' must be \"User\" or \"Group\"",
            ),
            (
                json!([{"value": "a"}, {"value": "b\u{0}"}]),
                "'members[1]' must not contain NUL characters",
            ),
            (
                json!([{"value": "a", "x\u{0}": 1}]),
                "'members[0]' must not contain NUL characters",
            ),
            (json!([true]), "attribute 'members[0]' must be an object"),
        ];
        for (v, want) in cases {
            let r = parse_member_list(v.clone(), "members");
            assert_eq!(scim_type(&r), Some(ScimType::InvalidValue), "{v}");
            assert!(detail(&r).contains(want), "{v}: {}", detail(&r));
        }
        let ok = parse_member_list(
            json!(["a", {"value": "b", "display": "B", "type": "user"}, null, {"value": "a"}]),
            "members",
        );
        let Ok(ok) = ok else { panic!("{ok:?}") };
        let values: Vec<&str> = ok.iter().map(|m| m.value.as_str()).collect();
        assert_eq!(values, ["a", "b"]);
        assert_eq!(ok[1].kind.as_deref(), Some("User"));
    }

    fn user(v: Value) -> CoreResult<Canonical> {
        canonicalize(ResourceKind::User, v)
    }

    fn group(v: Value) -> CoreResult<Canonical> {
        canonicalize(ResourceKind::Group, v)
    }

    fn doc(r: CoreResult<Canonical>) -> Value {
        match r {
            Ok(c) => Value::Object(c.doc),
            Err(e) => panic!("unexpected error: {e}"),
        }
    }

    #[test]
    fn rfc7643_s8_7_1_user_definitions() {
        assert_eq!(USER.attributes.len(), 21);
        let un = find_attr(USER.attributes, "userName")
            .map(|a| (a.required, a.uniqueness, a.case_exact));
        assert_eq!(un, Some((true, "server", false)));
        let pw = find_attr(USER.attributes, "password").map(|a| (a.mutability, a.returned));
        assert_eq!(pw, Some((Mutability::WriteOnly, Returned::Never)));
        let groups = find_attr(USER.attributes, "groups").map(|a| (a.mutability, a.multi_valued));
        assert_eq!(groups, Some((Mutability::ReadOnly, true)));
        let emails = find_attr(USER.attributes, "emails");
        assert_eq!(
            emails.map(|a| (a.ty, a.multi_valued)),
            Some((AttrType::Complex, true))
        );
        assert_eq!(
            emails
                .and_then(|a| find_attr(a.sub_attributes, "type"))
                .map(|t| t.canonical_values),
            Some(&["work", "home", "other"][..])
        );
        let x509 = find_attr(USER.attributes, "x509Certificates")
            .and_then(|a| find_attr(a.sub_attributes, "value"))
            .map(|v| v.ty);
        assert_eq!(x509, Some(AttrType::Binary));
        let photo = find_attr(USER.attributes, "photos")
            .and_then(|a| find_attr(a.sub_attributes, "value"))
            .map(|v| (v.ty, v.reference_types));
        assert_eq!(photo, Some((AttrType::Reference, &["external"][..])));
        for name in [
            "name",
            "phoneNumbers",
            "ims",
            "addresses",
            "entitlements",
            "roles",
            "active",
        ] {
            assert!(find_attr(USER.attributes, name).is_some(), "{name}");
        }
    }

    #[test]
    fn rfc7643_s4_3_enterprise_and_s4_2_group_definitions() {
        let manager = find_attr(ENTERPRISE_USER.attributes, "manager");
        let subs: Vec<&str> = manager
            .map(|m| m.sub_attributes.iter().map(|s| s.name).collect())
            .unwrap_or_default();
        assert_eq!(subs, vec!["value", "$ref", "displayName"]);
        assert_eq!(
            manager
                .and_then(|m| find_attr(m.sub_attributes, "displayName"))
                .map(|d| d.mutability),
            Some(Mutability::ReadOnly)
        );
        assert_eq!(ENTERPRISE_USER.attributes.len(), 6);
        let dn = find_attr(GROUP.attributes, "displayName").map(|d| d.required);
        assert_eq!(dn, Some(true));
        let members: Vec<&str> = find_attr(GROUP.attributes, "members")
            .map(|m| m.sub_attributes.iter().map(|s| s.name).collect())
            .unwrap_or_default();
        assert_eq!(members, vec!["value", "$ref", "display", "type"]);
    }

    #[test]
    fn lookup_is_case_insensitive_and_schema_aware() {
        let r = lookup(ResourceKind::User, None, "USERNAME", None);
        assert_eq!(
            r.map(|r| (r.schema, r.attr.name)),
            Some((USER_SCHEMA, "userName"))
        );
        let r = lookup(ResourceKind::User, None, "name", Some("GIVENNAME"));
        assert_eq!(r.and_then(|r| r.sub).map(|s| s.name), Some("givenName"));
        let r = lookup(
            ResourceKind::User,
            Some("URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER"),
            "manager",
            Some("value"),
        );
        assert_eq!(
            r.map(|r| (r.schema, r.attr.name, r.sub.map(|s| s.name))),
            Some((ENTERPRISE_USER_SCHEMA, "manager", Some("value")))
        );
        let r = lookup(
            ResourceKind::User,
            Some(USER_SCHEMA),
            "emails",
            Some("value"),
        );
        assert!(r.is_some());
        // Common attributes resolve under the core schema.
        let r = lookup(ResourceKind::Group, None, "externalid", None);
        assert_eq!(
            r.map(|r| (r.schema, r.attr.name)),
            Some((GROUP_SCHEMA, "externalId"))
        );
        assert!(lookup(ResourceKind::Group, None, "meta", Some("lastModified")).is_some());
        // Enterprise is a User extension only; unqualified enterprise names are not core.
        assert!(lookup(
            ResourceKind::Group,
            Some(ENTERPRISE_USER_SCHEMA),
            "department",
            None
        )
        .is_none());
        assert!(lookup(ResourceKind::User, None, "department", None).is_none());
        assert!(lookup(ResourceKind::User, Some(GROUP_SCHEMA), "displayName", None).is_none());
        assert!(lookup(ResourceKind::User, None, "nope", None).is_none());
        assert!(lookup(ResourceKind::User, None, "name", Some("nope")).is_none());
        assert!(lookup(ResourceKind::User, None, "userName", Some("x")).is_none());
        assert!(lookup(ResourceKind::Group, None, "members", Some("value")).is_some());
    }

    #[test]
    fn returned_always_and_never() {
        assert_eq!(always_returned(ResourceKind::User), vec!["id"]);
        assert_eq!(always_returned(ResourceKind::Group), vec!["id"]);
        assert_eq!(never_returned(ResourceKind::User), vec!["password"]);
        assert!(never_returned(ResourceKind::Group).is_empty());
        assert_eq!(common_attributes().len(), 3);
    }

    #[test]
    fn okta_create_password_groups_dropped() {
        // okta_lifecycle.json "POST /Users" (OKTA-CREATE-PASSWORD-GROUPS)
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "test.user@okta.local",
            "name": {"givenName": "Test", "familyName": "User"},
            "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
            "displayName": "Test User", "locale": "en-US",
            "externalId": "00ujl29u0le5T6Aj10h7", "groups": [], "password": "1mz050nq", "active": true
        });
        let d = doc(user(body));
        assert_eq!(
            d,
            json!({
                "schemas": [USER_SCHEMA],
                "userName": "test.user@okta.local",
                "name": {"givenName": "Test", "familyName": "User"},
                "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
                "displayName": "Test User", "locale": "en-US",
                "externalId": "00ujl29u0le5T6Aj10h7", "active": true
            })
        );
    }

    #[test]
    fn okta_put_echo_of_id_meta_groups_ignored() {
        // okta_lifecycle.json OKTA-PUT-UPDATE
        let body = json!({
            "schemas": [USER_SCHEMA], "id": "user_01", "userName": "test.user@okta.local",
            "name": {"givenName": "Another", "middleName": "Excited", "familyName": "User"},
            "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work", "display": "test.user@okta.local"}],
            "active": true, "groups": [], "meta": {"resourceType": "User"}
        });
        let d = doc(user(body));
        assert!(d.get("id").is_none() && d.get("meta").is_none() && d.get("groups").is_none());
        assert_eq!(d["name"]["middleName"], json!("Excited"));
        assert_eq!(d["emails"][0]["display"], json!("test.user@okta.local"));
    }

    #[test]
    fn attribute_names_recased_to_canonical() {
        let body = json!({"username": "a@b.c", "NAME": {"GIVENNAME": "A", "familyname": "B"},
            "Emails": [{"VALUE": "a@b.c", "Type": "work", "PRIMARY": "True"}], "ACTIVE": "false",
            "externalID": "x1"});
        let d = doc(user(body));
        assert_eq!(
            d,
            json!({"schemas": [USER_SCHEMA], "userName": "a@b.c", "name": {"givenName": "A", "familyName": "B"},
                "emails": [{"value": "a@b.c", "type": "work", "primary": true}], "active": false,
                "externalId": "x1"})
        );
    }

    #[test]
    fn entra_post_with_enterprise_extension() {
        // entra_lifecycle.json "POST /Users"
        let body = json!({
            "schemas": [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
            "externalId": "jyoung", "userName": "jyoung@testuser.com", "active": true,
            "displayName": "Joy Young",
            "emails": [{"primary": true, "type": "work", "value": "jyoung@Contoso.com"}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": "Joy Young", "familyName": "Young", "givenName": "Joy"},
            "roles": [],
            ENTERPRISE_USER_SCHEMA: {"employeeNumber": "701984", "department": "Sales"}
        });
        let d = doc(user(body));
        assert_eq!(d["schemas"], json!([USER_SCHEMA, ENTERPRISE_USER_SCHEMA]));
        assert!(d.get("meta").is_none());
        assert!(d.get("roles").is_none(), "[] is unassigned (RFC 7643 §2.5)");
        assert_eq!(
            d[ENTERPRISE_USER_SCHEMA],
            json!({"employeeNumber": "701984", "department": "Sales"})
        );
        // Values are stored as sent (case kept).
        assert_eq!(d["emails"][0]["value"], json!("jyoung@Contoso.com"));
    }

    #[test]
    fn enterprise_schema_listed_without_attributes_is_dropped() {
        // entra_lifecycle.json second POST: enterprise in `schemas`, no enterprise attributes.
        let body = json!({"schemas": [USER_SCHEMA, ENTERPRISE_USER_SCHEMA], "userName": "boss@x"});
        assert_eq!(doc(user(body))["schemas"], json!([USER_SCHEMA]));
        let body = json!({"userName": "boss@x", ENTERPRISE_USER_SCHEMA: {}});
        let d = doc(user(body));
        assert_eq!(d["schemas"], json!([USER_SCHEMA]));
        assert!(d.get(ENTERPRISE_USER_SCHEMA).is_none());
    }

    #[test]
    fn urn_qualified_top_level_keys_moved_into_their_schema() {
        let body = json!({
            "userName": "u",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "R&D",
            "URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:manager.value": "boss",
            ENTERPRISE_USER_SCHEMA: {"employeeNumber": "42"},
            "urn:ietf:params:scim:schemas:core:2.0:User:title": "Engineer"
        });
        let d = doc(user(body));
        assert_eq!(
            d,
            json!({"schemas": [USER_SCHEMA, ENTERPRISE_USER_SCHEMA], "userName": "u", "title": "Engineer",
                ENTERPRISE_USER_SCHEMA: {"department": "R&D", "manager": {"value": "boss"}, "employeeNumber": "42"}})
        );
    }

    #[test]
    fn entra_group_schema_uri_without_attributes_dropped() {
        // ENTRA-GROUP-SCHEMA (entra_lifecycle.json "POST /Groups")
        let body = json!({
            "schemas": [GROUP_SCHEMA, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
            "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676", "displayName": "displayName 1",
            "meta": {"resourceType": "Group"}
        });
        let c = group(body);
        assert_eq!(c.as_ref().ok().map(|c| c.members.clone()), Some(None));
        assert_eq!(
            doc(c),
            json!({"schemas": [GROUP_SCHEMA], "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676", "displayName": "displayName 1"})
        );
    }

    #[test]
    fn group_members_absent_empty_and_listed() {
        // NOPATH-REPLACE-MEMBERS-WIPE: absent vs [].
        let c = group(json!({"displayName": "g"}));
        assert_eq!(c.ok().map(|c| c.members), Some(None));
        let c = group(json!({"displayName": "g", "members": []}));
        assert_eq!(c.ok().map(|c| c.members), Some(Some(vec![])));
        let c = group(json!({"displayName": "g", "members": null}));
        assert_eq!(c.ok().map(|c| c.members), Some(None));
        // ENTRA-REF-NULL, display, type case-insensitive, duplicates removed.
        let c = group(json!({"displayName": "Tour Guides", "MEMBERS": [
            {"$ref": null, "value": "u1", "display": "Babs", "type": "user"},
            {"value": "g2", "type": "Group"},
            {"value": "u1"}
        ]}));
        let c = match c {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        assert!(c.doc.get("members").is_none() && c.doc.get("MEMBERS").is_none());
        assert_eq!(
            c.members,
            Some(vec![
                MemberRef {
                    value: "u1".into(),
                    display: Some("Babs".into()),
                    kind: Some("User".into())
                },
                MemberRef {
                    value: "g2".into(),
                    display: None,
                    kind: Some("Group".into())
                },
            ])
        );
    }

    #[test]
    fn group_member_values_must_be_non_empty_strings() {
        for members in [
            json!([{"value": ""}]),
            json!([{"value": "  "}]),
            json!([{"value": 5}]),
            json!([{"display": "no value"}]),
            json!([{"value": "u1", "type": "Robot"}]),
            json!([{"value": "u1", "display": 3}]),
            json!([42]),
            json!([{"value": "u\u{0}1"}]),
        ] {
            let r = group(json!({"displayName": "g", "members": members.clone()}));
            assert_eq!(scim_type(&r), Some(ScimType::InvalidValue), "{members}");
        }
    }

    #[test]
    fn onelogin_template_body() {
        // ONELOGIN-TEMPLATE-TYPES / ONELOGIN-EMAILS-OBJECT (connector-normalized or not, canonicalize copes)
        let body = json!({
            "schemas": [USER_SCHEMA], "id": null, "userName": "ol.user@example.com",
            "active": "true", "emails": {"value": "ol.user@example.com", "type": "work"},
            "name": {"givenName": "O", "familyName": "L"},
            ENTERPRISE_USER_SCHEMA: {"department": "Ops", "manager": {"managerId": "m-1", "displayName": "Boss"}}
        });
        let d = doc(user(body));
        assert_eq!(
            d,
            json!({"schemas": [USER_SCHEMA, ENTERPRISE_USER_SCHEMA], "userName": "ol.user@example.com",
                "active": true, "emails": [{"value": "ol.user@example.com", "type": "work"}],
                "name": {"givenName": "O", "familyName": "L"},
                ENTERPRISE_USER_SCHEMA: {"department": "Ops", "manager": {"managerId": "m-1"}}})
        );
    }

    #[test]
    fn entra_manager_string_wrapped() {
        // ENTRA-MANAGER-STRING and the older array sample.
        let d = doc(user(
            json!({"userName": "u", ENTERPRISE_USER_SCHEMA: {"manager": "boss-id"}}),
        ));
        assert_eq!(
            d[ENTERPRISE_USER_SCHEMA]["manager"],
            json!({"value": "boss-id"})
        );
        let d = doc(user(
            json!({"userName": "u", ENTERPRISE_USER_SCHEMA: {"manager": [{"value": "b", "$ref": "../Users/b"}]}}),
        ));
        assert_eq!(
            d[ENTERPRISE_USER_SCHEMA]["manager"],
            json!({"value": "b", "$ref": "../Users/b"})
        );
    }

    #[test]
    fn unknown_extensions_and_attributes_kept() {
        let body = json!({
            "schemas": [USER_SCHEMA, "urn:ietf:params:scim:schemas:extension:acme:2.0:User"],
            "userName": "u",
            "urn:ietf:params:scim:schemas:extension:acme:2.0:User": {"costCode": "C1", "nested": {"a": [1, 2]}},
            "urn:ietf:params:scim:schemas:extension:acme:2.0:User:badge": "B7",
            "urn:okta:app:1.0:user:custom": {"isAdmin": true},
            "urn:ietf:params:scim:schemas:extension:other:2.0:User:level": 3,
            "customThing": {"x": [null, "y"]},
            "$weird": 1
        });
        let d = doc(user(body));
        assert_eq!(
            d,
            json!({
                "schemas": [USER_SCHEMA, "urn:ietf:params:scim:schemas:extension:acme:2.0:User",
                    "urn:okta:app:1.0:user:custom", "urn:ietf:params:scim:schemas:extension:other:2.0:User"],
                "userName": "u", "customThing": {"x": [null, "y"]}, "$weird": 1,
                "urn:ietf:params:scim:schemas:extension:acme:2.0:User": {"costCode": "C1", "nested": {"a": [1, 2]}, "badge": "B7"},
                "urn:okta:app:1.0:user:custom": {"isAdmin": true},
                "urn:ietf:params:scim:schemas:extension:other:2.0:User": {"level": 3}
            })
        );
    }

    #[test]
    fn type_errors_are_invalid_value_naming_the_attribute() {
        let cases = [
            (json!({"userName": 42}), "userName"),
            (json!({"userName": "u", "active": "yes"}), "active"),
            (json!({"userName": "u", "active": 1}), "active"),
            (json!({"userName": "u", "name": "Bob"}), "name"),
            (
                json!({"userName": "u", "name": {"givenName": 7}}),
                "name.givenName",
            ),
            (json!({"userName": "u", "emails": [42]}), "emails[0]"),
            (
                json!({"userName": "u", "emails": [{"value": "a"}, {"value": true}]}),
                "emails[1].value",
            ),
            (json!({"userName": "u", "displayName": true}), "displayName"),
            (json!({"userName": "u", "externalId": 1}), "externalId"),
            (
                json!({"userName": "u", "emails": [[{"value": "a"}]]}),
                "emails[0]",
            ),
            (
                json!({"userName": "u", ENTERPRISE_USER_SCHEMA: {"employeeNumber": 42}}),
                "employeeNumber",
            ),
            (
                json!({"userName": "u", ENTERPRISE_USER_SCHEMA: "x"}),
                ENTERPRISE_USER_SCHEMA,
            ),
            (
                json!({"userName": "u", "x509Certificates": [{"value": 1}]}),
                "x509Certificates[0].value",
            ),
        ];
        for (body, attr) in cases {
            let r = user(body.clone());
            assert_eq!(scim_type(&r), Some(ScimType::InvalidValue), "{body}");
            assert!(detail(&r).contains(attr), "{body}: {}", detail(&r));
        }
        let r = group(json!({"displayName": 5}));
        assert_eq!(scim_type(&r), Some(ScimType::InvalidValue));
    }

    #[test]
    fn nul_is_rejected_everywhere() {
        for body in [
            json!({"userName": "a\u{0}b"}),
            json!({"userName": "u", "name": {"givenName": "\u{0}"}}),
            json!({"userName": "u", "custom": {"deep": ["ok", "n\u{0}"]}}),
            json!({"userName": "u", "cus\u{0}tom": 1}),
            json!({"userName": "u", "urn:acme:ext:1.0:User": {"k": "\u{0}"}}),
            json!({"userName": "u", "schemas": ["\u{0}"]}),
            json!({"userName": "u", "name": {"extra\u{0}": "x"}}),
        ] {
            assert_eq!(
                scim_type(&user(body.clone())),
                Some(ScimType::InvalidValue),
                "{body}"
            );
        }
    }

    #[test]
    fn required_attributes() {
        for body in [
            json!({}),
            json!({"userName": ""}),
            json!({"userName": "   "}),
            json!({"userName": null}),
            json!({"name": {"givenName": "x"}}),
        ] {
            let r = user(body.clone());
            assert_eq!(scim_type(&r), Some(ScimType::InvalidValue), "{body}");
            assert!(detail(&r).contains("userName"));
        }
        let r = group(json!({"members": []}));
        assert_eq!(scim_type(&r), Some(ScimType::InvalidValue));
        assert!(detail(&r).contains("displayName"));
    }

    #[test]
    fn at_most_one_primary() {
        let r = user(json!({"userName": "u", "emails": [
            {"value": "a", "primary": true}, {"value": "b", "primary": "TRUE"}]}));
        assert_eq!(scim_type(&r), Some(ScimType::InvalidValue));
        assert!(detail(&r).contains("primary"));
        let d = doc(user(json!({"userName": "u", "emails": [
            {"value": "a", "primary": true}, {"value": "b", "primary": "False"}]})));
        assert_eq!(d["emails"][1]["primary"], json!(false));
    }

    #[test]
    fn body_must_be_an_object() {
        for body in [json!([]), json!("x"), json!(null), json!(1)] {
            assert_eq!(scim_type(&user(body)), Some(ScimType::InvalidSyntax));
        }
    }

    #[test]
    fn nulls_and_empties_are_unassigned() {
        let d = doc(user(
            json!({"userName": "u", "nickName": null, "name": {}, "emails": [],
            "addresses": [{"type": null}], "title": "t"}),
        ));
        assert_eq!(
            d,
            json!({"schemas": [USER_SCHEMA], "userName": "u", "title": "t"})
        );
    }

    #[test]
    fn ping_type_case_stored_as_sent() {
        // ping_lifecycle.json PING-TYPE-CASE
        let d = doc(user(
            json!({"userName": "jsmith", "phoneNumbers": [{"value": "+1 555 0100", "type": "Work"}],
            ENTERPRISE_USER_SCHEMA: {"department": "Finance"}}),
        ));
        assert_eq!(d["phoneNumbers"][0]["type"], json!("Work"));
        assert_eq!(d["schemas"], json!([USER_SCHEMA, ENTERPRISE_USER_SCHEMA]));
    }

    #[test]
    fn canonicalize_is_idempotent() {
        let body = json!({"userName": "u", "NAME": {"givenName": "g"}, "emails": {"value": "a"},
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "d",
            "urn:acme:x:1.0:User": {"k": "v"}, "custom": 1});
        let once = doc(user(body));
        let twice = doc(user(once.clone()));
        assert_eq!(once, twice);
    }

    #[test]
    fn datetime_and_numeric_types() {
        let created = find_attr(&META_SUBS, "created");
        let Some(created) = created else {
            panic!("meta.created missing");
        };
        assert!(check_element(created, "meta.created", json!("2008-01-23T04:56:22Z")).is_ok());
        assert!(check_element(created, "meta.created", json!("2008-01-23T04:56:22")).is_ok());
        assert_eq!(
            scim_type(&check_element(created, "meta.created", json!("yesterday"))),
            Some(ScimType::InvalidValue)
        );
        static INT: AttrDef = attr("n", AttrType::Integer, "");
        static DEC: AttrDef = attr("d", AttrType::Decimal, "");
        assert!(check_element(&INT, "n", json!(3)).is_ok());
        assert!(check_element(&INT, "n", json!(3.5)).is_err());
        assert!(check_element(&DEC, "d", json!(3.5)).is_ok());
        assert!(check_element(&DEC, "d", json!("3.5")).is_err());
    }

    #[test]
    fn classify_keys() {
        let no = |_: &str| false;
        assert_eq!(
            classify_key(Kind::User, "userName", false, no),
            KeyClass::Plain("userName")
        );
        assert_eq!(
            classify_key(Kind::User, USER_SCHEMA, true, no),
            KeyClass::CoreObject
        );
        assert_eq!(
            classify_key(
                Kind::User,
                &format!("{USER_SCHEMA}:name.givenName"),
                false,
                no
            ),
            KeyClass::CoreAttr("name.givenName")
        );
        assert_eq!(
            classify_key(Kind::User, ENTERPRISE_USER_SCHEMA, true, no),
            KeyClass::EnterpriseObject
        );
        assert_eq!(
            classify_key(Kind::Group, ENTERPRISE_USER_SCHEMA, true, no),
            KeyClass::ExtObject
        );
        assert_eq!(
            classify_key(Kind::User, "urn:okta:app:1.0:user:custom", true, no),
            KeyClass::ExtObject
        );
        assert_eq!(
            classify_key(Kind::User, "urn:okta:app:1.0:user:custom", true, |u| u
                == "urn:okta:app:1.0:user"),
            KeyClass::ExtAttr {
                uri: "urn:okta:app:1.0:user",
                attr: "custom"
            }
        );
        assert_eq!(
            classify_key(Kind::User, "urn:acme:1.0:User:x", false, no),
            KeyClass::ExtAttr {
                uri: "urn:acme:1.0:User",
                attr: "x"
            }
        );
        assert_eq!(
            classify_key(Kind::User, "urn:acme:1.0", false, no),
            KeyClass::ExtObject
        );
        assert_eq!(
            classify_key(Kind::User, "http://x/y", false, no),
            KeyClass::ExtObject
        );
        assert_eq!(
            classify_key(Kind::User, "é:ü", false, no),
            KeyClass::ExtObject
        );
    }

    #[test]
    fn rfc7643_s7_schema_representation() {
        let v = schema_json(&USER, "https://h/scim/v2/directory_01/");
        assert_eq!(v["schemas"], json!([SCHEMA_SCHEMA]));
        assert_eq!(v["id"], json!(USER_SCHEMA));
        assert_eq!(v["name"], json!("User"));
        assert_eq!(
            v["meta"],
            json!({"resourceType": "Schema", "location": format!("https://h/scim/v2/directory_01/Schemas/{USER_SCHEMA}")})
        );
        let attrs = v["attributes"].as_array().cloned().unwrap_or_default();
        assert_eq!(attrs.len(), 21);
        let by_name = |n: &str| {
            attrs
                .iter()
                .find(|a| a["name"] == json!(n))
                .cloned()
                .unwrap_or_default()
        };
        assert_eq!(
            by_name("userName"),
            json!({"name": "userName", "type": "string", "multiValued": false,
                "description": USER_ATTRIBUTES[0].description, "required": true, "caseExact": false,
                "mutability": "readWrite", "returned": "default", "uniqueness": "server"})
        );
        assert_eq!(by_name("password")["returned"], json!("never"));
        assert_eq!(by_name("password")["mutability"], json!("writeOnly"));
        assert_eq!(by_name("groups")["mutability"], json!("readOnly"));
        assert_eq!(by_name("profileUrl")["referenceTypes"], json!(["external"]));
        let emails = by_name("emails");
        assert!(emails.get("caseExact").is_none());
        assert_eq!(emails["multiValued"], json!(true));
        assert_eq!(
            emails["subAttributes"][2]["canonicalValues"],
            json!(["work", "home", "other"])
        );
        assert_eq!(emails["subAttributes"][3]["type"], json!("boolean"));
        let ent = schema_json(&ENTERPRISE_USER, "b");
        assert_eq!(
            ent["attributes"][5]["subAttributes"][1]["referenceTypes"],
            json!(["User"])
        );
        let grp = schema_json(&GROUP, "b");
        assert_eq!(
            grp["attributes"][1]["subAttributes"][3]["canonicalValues"],
            json!(["User", "Group"])
        );
        assert_eq!(grp["attributes"][0]["required"], json!(true));
    }

    #[test]
    fn large_bodies_stay_linear() {
        // A 1 MiB body can carry ~100k members or keys: nothing here may be quadratic.
        let members: Vec<Value> = (0..100_000)
            .map(|i| json!({"value": format!("u{}", i % 60_000)}))
            .collect();
        let c = group(json!({"displayName": "big", "members": members}));
        assert_eq!(
            c.ok().and_then(|c| c.members).map(|m| m.len()),
            Some(60_000)
        );
        let mut body = Map::new();
        body.insert("userName".into(), json!("u"));
        for i in 0..60_000 {
            body.insert(format!("custom{i}"), json!(i));
            body.insert(format!("urn:acme:e{}:1.0:User:k{i}", i % 3000), json!(i));
        }
        let d = doc(user(Value::Object(body)));
        assert_eq!(d.as_object().map(|m| m.len()), Some(2 + 60_000 + 3000));
        assert_eq!(d["schemas"].as_array().map(Vec::len), Some(3001));
    }
}
