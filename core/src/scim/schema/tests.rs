use super::canonicalize::{classify_key, KeyClass};
use super::tables::{attr, META_SUBS, USER_ATTRIBUTES};
use super::*;
use crate::error::{CoreError, CoreResult, ScimType};
use scimgate_connectors::ResourceKind;
use serde_json::{json, Map, Value};

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
    let un =
        find_attr(USER.attributes, "userName").map(|a| (a.required, a.uniqueness, a.case_exact));
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
