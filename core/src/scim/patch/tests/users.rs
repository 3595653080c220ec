//! User PATCHes as the IdPs send them (../shared/docs/IDP-QUIRKS.md §3).

use super::*;

#[test]
fn okta_patch_nopath_deactivate_and_reactivate() {
    // OKTA-PATCH-NOPATH (okta_lifecycle.json)
    let mut d = bjensen();
    let out = ok(patch_user(
        &mut d,
        vec![replace_np(json!({"active": false}))],
    ));
    assert!(out.member_ops.is_empty());
    assert_eq!(d["active"], json!(false));
    ok(patch_user(
        &mut d,
        vec![replace_np(json!({"active": true}))],
    ));
    assert_eq!(d["active"], json!(true));
    assert_eq!(d["userName"], json!("bjensen@example.com"));
}

#[test]
fn entra_string_bool_active() {
    // ENTRA-STRING-BOOL, ENTRA-OP-CASE (op casing is the connector's job)
    let mut d = bjensen();
    ok(patch_user(&mut d, vec![replace("active", json!("False"))]));
    assert_eq!(d["active"], json!(false));
    ok(patch_user(&mut d, vec![replace("active", json!("True"))]));
    assert_eq!(d["active"], json!(true));
    ok(patch_user(
        &mut d,
        vec![replace_np(json!({"ACTIVE": "false"}))],
    ));
    assert_eq!(d["active"], json!(false));
    let r = patch_user(&mut d, vec![replace("active", json!("maybe"))]);
    assert_eq!(scim_type(&r), Some(ScimType::InvalidValue));
    assert!(detail(&r).contains("active"));
}

#[test]
fn entra_nopath_dotted_and_urn_keys() {
    // ENTRA-NOPATH-DOTTED-KEYS (MS compat doc shape)
    let mut d = bjensen();
    ok(patch_user(
        &mut d,
        vec![
            replace(
                "emails[type eq \"work\"].value",
                json!("updated@microsoft.com"),
            ),
            replace_np(json!({
                "name.givenName": "Kkom",
                "name.familyName": "Unk",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "Aklq",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value": "boss"
            })),
        ],
    ));
    assert_eq!(d["emails"][0]["value"], json!("updated@microsoft.com"));
    assert_eq!(d["name"]["givenName"], json!("Kkom"));
    assert_eq!(d["name"]["familyName"], json!("Unk"));
    assert_eq!(d["name"]["formatted"], json!("Ms. Barbara J Jensen III"));
    assert_eq!(
        d[ENT],
        json!({"employeeNumber": "Aklq", "manager": {"value": "boss"}})
    );
    assert_eq!(d["schemas"], json!([USER_SCHEMA, ENT]));
}

#[test]
fn entra_emails_work_value_replace() {
    // entra_lifecycle.json ENTRA-OP-CASE step; `type` compared case-insensitively (PING-TYPE-CASE)
    let mut d = canonical(
        ResourceKind::User,
        json!({"userName": "j", "emails": [{"primary": true, "type": "Work", "value": "j@Contoso.com"},
            {"type": "home", "value": "j@home"}]}),
    );
    ok(patch_user(
        &mut d,
        vec![
            replace("emails[type eq \"work\"].value", json!("new@microsoft.com")),
            replace("name.familyName", json!("updatedFamilyName")),
        ],
    ));
    assert_eq!(
        d["emails"],
        json!([{"primary": true, "type": "Work", "value": "new@microsoft.com"}, {"type": "home", "value": "j@home"}])
    );
    assert_eq!(d["name"], json!({"familyName": "updatedFamilyName"}));
}

#[test]
fn entra_emails_work_value_created_when_missing() {
    // RFC 7644 §3.5.2.3 noTarget, except a `type eq` filter: Entra updates users without a work email.
    let mut d = canonical(ResourceKind::User, json!({"userName": "j"}));
    ok(patch_user(
        &mut d,
        vec![replace("emails[type eq \"work\"].value", json!("w@x"))],
    ));
    assert_eq!(d["emails"], json!([{"type": "work", "value": "w@x"}]));
    ok(patch_user(
        &mut d,
        vec![add("emails[type eq \"home\"].value", json!("h@x"))],
    ));
    assert_eq!(d["emails"][1], json!({"type": "home", "value": "h@x"}));
    ok(patch_user(
        &mut d,
        vec![replace(
            "phoneNumbers[type eq \"mobile\"]",
            json!({"value": "+1"}),
        )],
    ));
    assert_eq!(
        d["phoneNumbers"],
        json!([{"type": "mobile", "value": "+1"}])
    );
}

#[test]
fn filter_without_match_is_no_target() {
    // RFC 7644 §3.5.2.3 (not a `type eq` filter)
    let mut d = bjensen();
    let before = d.clone();
    for path in [
        "emails[value eq \"nobody@x\"].type",
        "emails[type eq \"home\" and primary eq true].value",
        "emails[type sw \"ho\"]",
    ] {
        let r = patch_user(&mut d, vec![replace(path, json!("x"))]);
        assert_eq!(scim_type(&r), Some(ScimType::NoTarget), "{path}");
    }
    assert_eq!(d, before);
}

#[test]
fn entra_manager_add_and_remove() {
    // ENTRA-MANAGER-STRING (value already {"value": id} after connectors; a bare string is tolerated too)
    let path = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager";
    let mut d = bjensen();
    ok(patch_user(
        &mut d,
        vec![add(path, json!({"value": "boss_01"}))],
    ));
    assert_eq!(d[ENT], json!({"manager": {"value": "boss_01"}}));
    assert_eq!(d["schemas"], json!([USER_SCHEMA, ENT]));
    ok(patch_user(&mut d, vec![add(path, json!("boss_02"))]));
    assert_eq!(d[ENT]["manager"], json!({"value": "boss_02"}));
    // A new referent replaces the stale object.
    ok(patch_user(
        &mut d,
        vec![replace(
            path,
            json!({"value": "boss_02", "$ref": "../Users/boss_02"}),
        )],
    ));
    ok(patch_user(
        &mut d,
        vec![replace(path, json!({"value": "boss_03"}))],
    ));
    assert_eq!(d[ENT]["manager"], json!({"value": "boss_03"}));
    ok(patch_user(
        &mut d,
        vec![replace(&format!("{path}.value"), json!("boss_04"))],
    ));
    assert_eq!(d[ENT]["manager"], json!({"value": "boss_04"}));
    let r = patch_user(
        &mut d,
        vec![replace(&format!("{path}.displayName"), json!("B"))],
    );
    assert_eq!(scim_type(&r), Some(ScimType::Mutability));
    ok(patch_user(
        &mut d,
        vec![op(
            OpKind::Remove,
            Some(path),
            Some(json!([{"value": "boss_04"}])),
        )],
    ));
    assert!(d.get(ENT).is_none());
    assert_eq!(d["schemas"], json!([USER_SCHEMA]));
    // Removing it again is a no-op; so is removing manager.value.
    ok(patch_user(
        &mut d,
        vec![remove(path), remove(&format!("{path}.value"))],
    ));
    ok(patch_user(
        &mut d,
        vec![
            add(path, json!({"value": "b"})),
            remove(&format!("{path}.value")),
        ],
    ));
    assert!(d.get(ENT).is_none());
}

#[test]
fn entra_manager_legacy_unqualified_path() {
    // Older Entra doc sample: path "manager" with [{"$ref","value"}].
    let mut d = bjensen();
    ok(patch_user(
        &mut d,
        vec![add(
            "manager",
            json!([{"$ref": "../Users/26118915", "value": "26118915"}]),
        )],
    ));
    assert_eq!(
        d[ENT]["manager"],
        json!({"$ref": "../Users/26118915", "value": "26118915"})
    );
    assert!(d.get("manager").is_none());
}

#[test]
fn generic_trace_patch() {
    // generic_rfc7644.json: add home email + replace work email value + remove name.formatted
    let mut d = bjensen();
    ok(patch_user(
        &mut d,
        vec![
            add(
                "emails",
                json!([{"value": "babs@jensen.org", "type": "home"}]),
            ),
            replace(
                "emails[type eq \"work\"].value",
                json!("barbara@example.com"),
            ),
            remove("name.formatted"),
        ],
    ));
    assert_eq!(
        d["emails"],
        json!([{"value": "barbara@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}])
    );
    assert_eq!(
        d["name"],
        json!({"familyName": "Jensen", "givenName": "Barbara"})
    );
    // Then `replace active false` (user2 step) and jumpcloud's name updates.
    ok(patch_user(
        &mut d,
        vec![
            replace("active", json!(false)),
            replace("name.givenName", json!("Janet")),
            replace("name.familyName", json!("Doe-Smith")),
        ],
    ));
    assert_eq!(d["active"], json!(false));
    assert_eq!(
        d["name"],
        json!({"familyName": "Doe-Smith", "givenName": "Janet"})
    );
}

#[test]
fn core_urn_prefixed_paths() {
    let mut d = bjensen();
    ok(patch_user(
        &mut d,
        vec![
            replace(
                "urn:ietf:params:scim:schemas:core:2.0:User:userName",
                json!("babs@x"),
            ),
            replace(
                "urn:ietf:params:scim:schemas:core:2.0:User:name.givenName",
                json!("Babs"),
            ),
            replace(
                "urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq \"work\"].value",
                json!("w@x"),
            ),
            replace(
                "urn:ietf:params:scim:schemas:core:2.0:User",
                json!({"title": "Boss", "nickName": "B"}),
            ),
        ],
    ));
    assert_eq!(d["userName"], json!("babs@x"));
    assert_eq!(d["name"]["givenName"], json!("Babs"));
    assert_eq!(d["emails"][0]["value"], json!("w@x"));
    assert_eq!(
        (d["title"].clone(), d["nickName"].clone()),
        (json!("Boss"), json!("B"))
    );
    let r = patch_user(
        &mut d,
        vec![replace(
            "urn:ietf:params:scim:schemas:core:2.0:Group:displayName",
            json!("x"),
        )],
    );
    assert_eq!(scim_type(&r), Some(ScimType::InvalidPath));
    let r = patch_user(
        &mut d,
        vec![remove("urn:ietf:params:scim:schemas:core:2.0:User")],
    );
    assert_eq!(scim_type(&r), Some(ScimType::InvalidPath));
}

#[test]
fn enterprise_paths_whole_object_and_attributes() {
    let mut d = bjensen();
    ok(patch_user(
        &mut d,
        vec![
            add(ENT, json!({"department": "Sales", "manager": "m1"})),
            replace_np(json!({ENT: {"costCenter": "CC", "DEPARTMENT": "Ops"}})),
            replace(
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
                json!("701984"),
            ),
        ],
    ));
    assert_eq!(
        d[ENT],
        json!({"department": "Ops", "manager": {"value": "m1"}, "costCenter": "CC", "employeeNumber": "701984"})
    );
    ok(patch_user(
        &mut d,
        vec![remove(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
        )],
    ));
    assert!(d[ENT].get("department").is_none());
    ok(patch_user(&mut d, vec![remove(ENT)]));
    assert!(d.get(ENT).is_none());
    assert_eq!(d["schemas"], json!([USER_SCHEMA]));
    let r = patch_user(&mut d, vec![replace(ENT, json!("x"))]);
    assert_eq!(scim_type(&r), Some(ScimType::InvalidValue));
    let r = patch_user(
        &mut d,
        vec![replace(&format!("{ENT}:employeeNumber"), json!(5))],
    );
    assert_eq!(scim_type(&r), Some(ScimType::InvalidValue));
    assert!(detail(&r).contains("employeeNumber"));
}

#[test]
fn addresses_work_street_address() {
    let mut d = bjensen();
    ok(patch_user(
        &mut d,
        vec![replace(
            "addresses[type eq \"work\"].streetAddress",
            json!("100 Universal City Plaza"),
        )],
    ));
    assert_eq!(
        d["addresses"],
        json!([{"type": "work", "streetAddress": "100 Universal City Plaza"}])
    );
    ok(patch_user(
        &mut d,
        vec![
            replace(
                "addresses[type eq \"work\"].streetAddress",
                json!("1 Main St"),
            ),
            add("addresses[type eq \"work\"].locality", json!("Hollywood")),
        ],
    ));
    assert_eq!(
        d["addresses"],
        json!([{"type": "work", "streetAddress": "1 Main St", "locality": "Hollywood"}])
    );
    ok(patch_user(
        &mut d,
        vec![remove("addresses[type eq \"work\"].locality")],
    ));
    assert_eq!(
        d["addresses"],
        json!([{"type": "work", "streetAddress": "1 Main St"}])
    );
    ok(patch_user(
        &mut d,
        vec![remove("addresses[type eq \"WORK\"]")],
    ));
    assert!(d.get("addresses").is_none());
}

#[test]
fn unknown_extension_paths_stored_under_the_urn_object() {
    let ext = "urn:ietf:params:scim:schemas:extension:acme:2.0:User";
    let mut d = bjensen();
    ok(patch_user(
        &mut d,
        vec![
            add(&format!("{ext}:costCode"), json!("C1")),
            replace(&format!("{ext}:badge.number"), json!(7)),
        ],
    ));
    assert_eq!(d[ext], json!({"costCode": "C1", "badge": {"number": 7}}));
    assert_eq!(d["schemas"], json!([USER_SCHEMA, ext]));
    ok(patch_user(
        &mut d,
        vec![replace_np(
            json!({format!("{ext}:costCode"): "C2", "urn:okta:app:1.0:user:custom": {"isAdmin": true}}),
        )],
    ));
    assert_eq!(d[ext]["costCode"], json!("C2"));
    assert_eq!(d["urn:okta:app:1.0:user:custom"], json!({"isAdmin": true}));
    ok(patch_user(&mut d, vec![add(ext, json!({"level": 2}))]));
    assert_eq!(
        d[ext],
        json!({"costCode": "C2", "badge": {"number": 7}, "level": 2})
    );
    ok(patch_user(
        &mut d,
        vec![
            remove(&format!("{ext}:costCode")),
            remove(&format!("{ext}:badge")),
        ],
    ));
    assert_eq!(d[ext], json!({"level": 2}));
    ok(patch_user(
        &mut d,
        vec![remove(ext), remove("urn:okta:app:1.0:user:custom")],
    ));
    assert!(d.get(ext).is_none() && d.get("urn:okta:app:1.0:user:custom").is_none());
    assert_eq!(d["schemas"], json!([USER_SCHEMA]));
}

#[test]
fn attribute_names_are_case_insensitive() {
    let mut d = bjensen();
    ok(patch_user(
        &mut d,
        vec![
            replace("USERNAME", json!("b@x")),
            replace("Name.GivenName", json!("B")),
            replace("EMAILS[TYPE eq \"WORK\"].VALUE", json!("w@x")),
            replace_np(json!({"DisplayName": "Babs", "NAME.FAMILYNAME": "J"})),
        ],
    ));
    assert_eq!(d["userName"], json!("b@x"));
    assert_eq!(d["name"]["givenName"], json!("B"));
    assert_eq!(d["name"]["familyName"], json!("J"));
    assert_eq!(d["emails"][0]["value"], json!("w@x"));
    assert_eq!(d["displayName"], json!("Babs"));
    assert!(d.keys().all(|k| k != "USERNAME" && k != "DisplayName"));
}
