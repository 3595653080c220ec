//! RFC 7644 §3.5.2 semantics of add, replace and remove.

use super::*;

#[test]
fn add_on_single_valued_is_replace() {
    // ENTRA-ADD-SINGLE-VALUED (rancher#55776): add externalId on a group
    let mut g = group_doc();
    ok(patch_group(
        &mut g,
        vec![add("externalId", json!("new-ext"))],
    ));
    assert_eq!(g["externalId"], json!("new-ext"));
    let mut d = bjensen();
    ok(patch_user(
        &mut d,
        vec![add("title", json!("T1")), add("title", json!("T2"))],
    ));
    assert_eq!(d["title"], json!("T2"));
}

#[test]
fn add_multi_valued_appends_skips_duplicates_and_moves_primary() {
    // RFC 7644 §3.5.2.1 and §3.5.2 ("primary")
    let mut d = bjensen();
    let home = json!({"value": "h@x", "type": "home"});
    ok(patch_user(
        &mut d,
        vec![
            add("emails", json!([home.clone()])),
            add("emails", home.clone()),
        ],
    ));
    assert_eq!(d["emails"].as_array().map(Vec::len), Some(2));
    ok(patch_user(
        &mut d,
        vec![add(
            "emails",
            json!({"value": "o@x", "type": "other", "primary": true}),
        )],
    ));
    assert_eq!(d["emails"][0]["primary"], json!(false));
    assert_eq!(d["emails"][2]["primary"], json!(true));
    ok(patch_user(
        &mut d,
        vec![replace("emails[type eq \"home\"].primary", json!("True"))],
    ));
    assert_eq!(d["emails"][1]["primary"], json!(true));
    assert_eq!(d["emails"][2]["primary"], json!(false));
    // Two primaries in one value: invalidValue.
    let r = patch_user(
        &mut d,
        vec![add(
            "phoneNumbers",
            json!([{"value": "1", "primary": true}, {"value": "2", "primary": true}]),
        )],
    );
    assert_eq!(scim_type(&r), Some(ScimType::InvalidValue));
    // add with null/[] adds nothing
    ok(patch_user(
        &mut d,
        vec![add("roles", json!([])), add("roles", Value::Null)],
    ));
    assert!(d.get("roles").is_none());
}

#[test]
fn replace_multi_valued_without_filter_replaces_all() {
    let mut d = bjensen();
    ok(patch_user(
        &mut d,
        vec![replace("emails", json!([{"value": "only@x"}]))],
    ));
    assert_eq!(d["emails"], json!([{"value": "only@x"}]));
    ok(patch_user(&mut d, vec![replace("emails", json!([]))]));
    assert!(d.get("emails").is_none());
}

#[test]
fn replace_complex_merges_sub_attributes() {
    // RFC 7644 §3.5.2.3: sub-attributes not specified are left unchanged
    let mut d = bjensen();
    ok(patch_user(
        &mut d,
        vec![replace(
            "name",
            json!({"givenName": "Babs", "middleName": "J"}),
        )],
    ));
    assert_eq!(
        d["name"],
        json!({"formatted": "Ms. Barbara J Jensen III", "familyName": "Jensen", "givenName": "Babs", "middleName": "J"})
    );
    ok(patch_user(
        &mut d,
        vec![add("name", json!({"honorificSuffix": "III"}))],
    ));
    assert_eq!(d["name"]["honorificSuffix"], json!("III"));
}

#[test]
fn replace_filtered_element_replaces_add_filtered_merges() {
    let mut d = bjensen();
    ok(patch_user(
        &mut d,
        vec![replace(
            "emails[type eq \"work\"]",
            json!({"value": "r@x", "type": "work"}),
        )],
    ));
    assert_eq!(d["emails"], json!([{"value": "r@x", "type": "work"}]));
    ok(patch_user(
        &mut d,
        vec![add("emails[type eq \"work\"]", json!({"display": "R"}))],
    ));
    assert_eq!(
        d["emails"],
        json!([{"value": "r@x", "type": "work", "display": "R"}])
    );
    let r = patch_user(&mut d, vec![replace("emails[type eq \"work\"]", json!(5))]);
    assert_eq!(scim_type(&r), Some(ScimType::InvalidValue));
    // A bare string is `{"value": …}` (ENTRA-MANAGER-STRING tolerance applies to all complex values).
    ok(patch_user(
        &mut d,
        vec![replace("emails[type eq \"work\"]", json!("s@x"))],
    ));
    assert_eq!(d["emails"], json!([{"value": "s@x"}]));
}

#[test]
fn sub_attribute_of_multi_valued_without_filter() {
    let mut d = canonical(
        ResourceKind::User,
        json!({"userName": "u", "emails": [{"value": "a"}, {"value": "b"}]}),
    );
    ok(patch_user(
        &mut d,
        vec![replace("emails.type", json!("work"))],
    ));
    assert_eq!(
        d["emails"],
        json!([{"value": "a", "type": "work"}, {"value": "b", "type": "work"}])
    );
    ok(patch_user(&mut d, vec![remove("emails.type")]));
    assert_eq!(d["emails"], json!([{"value": "a"}, {"value": "b"}]));
    let mut d = canonical(ResourceKind::User, json!({"userName": "u"}));
    ok(patch_user(&mut d, vec![add("emails.value", json!("n@x"))]));
    assert_eq!(d["emails"], json!([{"value": "n@x"}]));
}

#[test]
fn remove_semantics() {
    // RFC 7644 §3.5.2.2
    let mut d = canonical(
        ResourceKind::User,
        json!({"userName": "u", "title": "T", "emails": [{"value": "w@x", "type": "work"},
            {"value": "h@x", "type": "home"}, {"value": "o@x", "type": "other"}]}),
    );
    ok(patch_user(
        &mut d,
        vec![remove("emails[type eq \"home\"]"), remove("title")],
    ));
    assert_eq!(
        d["emails"],
        json!([{"value": "w@x", "type": "work"}, {"value": "o@x", "type": "other"}])
    );
    assert!(d.get("title").is_none());
    // Absent targets: no-op.
    let before = d.clone();
    ok(patch_user(
        &mut d,
        vec![
            remove("title"),
            remove("nickName"),
            remove("emails[type eq \"home\"]"),
            remove("name.givenName"),
            remove("x509Certificates[value eq \"x\"].display"),
            remove("urn:acme:nothing:1.0:User:foo"),
            remove(ENT),
            remove("password"),
        ],
    ));
    assert_eq!(d, before);
    // Remove with a value list (tolerance mirroring ENTRA-REMOVE-MEMBERS-VALUE).
    ok(patch_user(
        &mut d,
        vec![remove_v("emails", json!([{"value": "W@X"}]))],
    ));
    assert_eq!(d["emails"], json!([{"value": "o@x", "type": "other"}]));
    ok(patch_user(
        &mut d,
        vec![remove("emails[type eq \"other\"].value")],
    ));
    assert_eq!(d["emails"], json!([{"type": "other"}]));
    ok(patch_user(&mut d, vec![remove("emails")]));
    assert!(d.get("emails").is_none());
}

#[test]
fn remove_requires_a_path() {
    // RFC 7644 §3.5.2.2: noTarget
    let mut d = bjensen();
    for o in [
        op(OpKind::Remove, None, None),
        op(OpKind::Remove, Some("  "), Some(json!({"title": 1}))),
    ] {
        let r = patch_user(&mut d, vec![o]);
        assert_eq!(scim_type(&r), Some(ScimType::NoTarget));
    }
}

#[test]
fn null_value_unassigns() {
    // RFC 7643 §2.5
    let mut d = bjensen();
    ok(patch_user(
        &mut d,
        vec![
            replace("externalId", Value::Null),
            replace("name.formatted", Value::Null),
        ],
    ));
    assert!(d.get("externalId").is_none());
    assert!(d["name"].get("formatted").is_none());
    let r = patch_user(&mut d, vec![replace("userName", Value::Null)]);
    assert_eq!(scim_type(&r), Some(ScimType::InvalidValue));
}

#[test]
fn read_only_targets_are_mutability_errors() {
    let mut d = bjensen();
    for o in [
        replace("id", json!("x")),
        replace("meta", json!({"version": "1"})),
        replace("meta.created", json!("2020-01-01T00:00:00Z")),
        add("groups", json!([{"value": "g"}])),
        remove("groups"),
        remove("groups[value eq \"g\"]"),
        remove("id"),
        replace("urn:ietf:params:scim:schemas:core:2.0:User:id", json!("x")),
    ] {
        let r = patch_user(&mut d, vec![o]);
        assert_eq!(scim_type(&r), Some(ScimType::Mutability), "{r:?}");
    }
    let mut g = group_doc();
    let r = patch_group(&mut g, vec![replace("id", json!(GID))]);
    assert_eq!(scim_type(&r), Some(ScimType::Mutability));
    // Path-less: readOnly keys ignored like in a PUT (OKTA-CREATE-PASSWORD-GROUPS), meta/schemas too.
    ok(patch_user(
        &mut d,
        vec![replace_np(
            json!({"groups": [], "meta": {"x": 1}, "schemas": ["x"], "id": UID, "title": "T"}),
        )],
    ));
    assert_eq!(d["title"], json!("T"));
    assert!(d.get("groups").is_none() && d.get("meta").is_none() && d.get("id").is_none());
}

#[test]
fn password_is_never_stored() {
    let mut d = bjensen();
    ok(patch_user(
        &mut d,
        vec![
            replace_np(json!({"password": "s3cret"})),
            replace("password", json!("x")),
            remove("password"),
        ],
    ));
    assert!(d.get("password").is_none());
}

#[test]
fn required_attributes_cannot_be_removed() {
    let mut d = bjensen();
    for o in [
        remove("userName"),
        remove("USERNAME"),
        replace("userName", json!("")),
        replace_np(json!({"userName": " "})),
    ] {
        let r = patch_user(&mut d, vec![o]);
        assert_eq!(scim_type(&r), Some(ScimType::InvalidValue), "{r:?}");
        assert!(detail(&r).contains("userName"));
    }
    let mut g = group_doc();
    let r = patch_group(&mut g, vec![remove("displayName")]);
    assert_eq!(scim_type(&r), Some(ScimType::InvalidValue));
    assert!(detail(&r).contains("displayName"));
}

#[test]
fn invalid_paths() {
    let mut d = bjensen();
    for path in [
        "emails[",
        "a.b.c",
        "emails[type eq \"work\"].value.x",
        "emails[type eq \"work\"][value eq \"x\"]",
        "userName.foo",
        "name[givenName eq \"x\"]",
        "active[value eq true]",
        "1abc",
        "$ref",
        "emails.value[type eq \"work\"]",
        "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group",
    ] {
        let r = patch_user(&mut d, vec![replace(path, json!("x"))]);
        assert_eq!(scim_type(&r), Some(ScimType::InvalidPath), "{path}: {r:?}");
        assert!(detail(&r).contains(path), "{path}: {}", detail(&r));
    }
}

#[test]
fn type_errors_are_invalid_value() {
    let mut d = bjensen();
    for (o, attr) in [
        (replace("userName", json!(42)), "userName"),
        (
            replace("emails[type eq \"work\"].value", json!(5)),
            "emails",
        ),
        (replace("name", json!("x")), "name"),
        (add("name.givenName", json!(true)), "name.givenName"),
        (add("emails", json!([1])), "emails[0]"),
        (replace("displayName", json!({"a": 1})), "displayName"),
        (replace("title", json!("a\u{0}b")), "title"),
        (replace_np(json!({"custom": {"x": "\u{0}"}})), "custom"),
        (
            replace("emails[type eq \"work\"].primary", json!("yes")),
            "primary",
        ),
        (
            replace("addresses[type eq \"home\"].postalCode", json!(12345)),
            "postalCode",
        ),
    ] {
        let r = patch_user(&mut d, vec![o]);
        assert_eq!(scim_type(&r), Some(ScimType::InvalidValue), "{attr}: {r:?}");
        assert!(detail(&r).contains(attr), "{attr}: {}", detail(&r));
    }
}

#[test]
fn add_and_replace_need_values() {
    let mut d = bjensen();
    for o in [
        op(OpKind::Add, Some("title"), None),
        op(OpKind::Replace, None, None),
        replace_np(json!("x")),
        add_np(json!([{"title": "x"}])),
    ] {
        let r = patch_user(&mut d, vec![o]);
        assert_eq!(scim_type(&r), Some(ScimType::InvalidValue), "{r:?}");
    }
}

#[test]
fn atomic_on_error_and_detail_names_the_operation() {
    let mut d = bjensen();
    let before = d.clone();
    let r = patch_user(
        &mut d,
        vec![
            replace("title", json!("T")),
            replace("active", json!("nope")),
        ],
    );
    assert_eq!(scim_type(&r), Some(ScimType::InvalidValue));
    assert!(detail(&r).starts_with("Operations[1]: "), "{}", detail(&r));
    assert_eq!(d, before);
}

#[test]
fn unknown_attributes_kept_verbatim() {
    let mut d = bjensen();
    ok(patch_user(
        &mut d,
        vec![
            add("customTag", json!(["a"])),
            add("customTag", json!(["a", "b"])),
            add_np(json!({"weird key": 1})),
            replace("customObj.inner", json!(3)),
        ],
    ));
    assert_eq!(d["customTag"], json!(["a", "b"]));
    assert_eq!(d["weird key"], json!(1));
    assert_eq!(d["customObj"], json!({"inner": 3}));
    ok(patch_user(
        &mut d,
        vec![remove("customTag[value eq \"a\"]"), remove("customObj")],
    ));
    assert_eq!(d["customTag"], json!(["b"]));
    assert!(d.get("customObj").is_none());
}
