//! The attribute definitions of RFC 7643: the common attributes (§3.1), the core User (§4.1,
//! §8.7.1), the Enterprise User extension (§4.3, §8.7.2) and the core Group (§4.2, §8.7.1).

use super::{
    AttrDef, AttrType, Mutability, Returned, SchemaDef, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA,
    USER_SCHEMA,
};

pub(super) const fn attr(name: &'static str, ty: AttrType, description: &'static str) -> AttrDef {
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

pub(super) static COMMON_ATTRIBUTES: [AttrDef; 3] = [
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

pub(super) static META_SUBS: [AttrDef; 5] = [
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

pub(super) static USER_ATTRIBUTES: [AttrDef; 21] = [
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
