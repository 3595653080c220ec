//! Group PATCHes: `displayName`, and `members` as `MemberOp`s.

use super::*;

#[test]
fn okta_group_rename_with_id() {
    // OKTA-GROUP-RENAME-ID; NOPATH-REPLACE-MEMBERS-WIPE: no members key -> no member ops
    let mut g = group_doc();
    let out = ok(patch_group(
        &mut g,
        vec![replace_np(
            json!({"id": GID, "displayName": "Test SCIMv20"}),
        )],
    ));
    assert!(out.member_ops.is_empty());
    assert_eq!(g["displayName"], json!("Test SCIMv20"));
    assert!(g.get("id").is_none());
    let r = patch_group(
        &mut g,
        vec![replace_np(json!({"id": "other", "displayName": "x"}))],
    );
    assert_eq!(scim_type(&r), Some(ScimType::Mutability));
    assert_eq!(g["displayName"], json!("Test SCIMv20"));
    // OneLogin-style id: null is ignored.
    ok(patch_group(
        &mut g,
        vec![replace_np(json!({"id": null, "displayName": "y"}))],
    ));
    assert_eq!(g["displayName"], json!("y"));
}

#[test]
fn entra_add_members_with_null_ref() {
    // ENTRA-REF-NULL (entra_lifecycle.json)
    let mut g = group_doc();
    let before = g.clone();
    let out = ok(patch_group(
        &mut g,
        vec![add(
            "members",
            json!([{"$ref": null, "value": "u1"}, {"$ref": null, "value": "u2"}]),
        )],
    ));
    assert_eq!(
        out.member_ops,
        vec![MemberOp::Add(vec![mref("u1"), mref("u2")])]
    );
    assert_eq!(g, before, "members never touch the document");
}

#[test]
fn okta_membership_push_order_kept() {
    // okta_lifecycle.json MEMBERS-FILTER-REMOVE step: remove by filter then add, in order
    let mut g = group_doc();
    let out = ok(patch_group(
        &mut g,
        vec![
            remove("members[value eq \"u1\"]"),
            add(
                "members",
                json!([{"value": "u2", "display": "second.user@okta.local"}]),
            ),
        ],
    ));
    assert_eq!(
        out.member_ops,
        vec![
            MemberOp::Remove(ids(&["u1"])),
            MemberOp::Add(vec![MemberRef {
                value: "u2".into(),
                display: Some("second.user@okta.local".into()),
                kind: None
            }]),
        ]
    );
}

#[test]
fn members_filter_remove_with_or() {
    // MEMBERS-FILTER-REMOVE
    let mut g = group_doc();
    let out = ok(patch_group(
        &mut g,
        vec![
            remove("members[value eq \"a\" or value eq \"b\" or VALUE eq \"a\"]"),
            remove("urn:ietf:params:scim:schemas:core:2.0:Group:members[value eq \"c\"]"),
        ],
    ));
    assert_eq!(
        out.member_ops,
        vec![
            MemberOp::Remove(ids(&["a", "b"])),
            MemberOp::Remove(ids(&["c"]))
        ]
    );
}

#[test]
fn entra_remove_members_with_value_list() {
    // ENTRA-REMOVE-MEMBERS-VALUE (entra_lifecycle.json, jumpcloud_lifecycle.json)
    let mut g = group_doc();
    let out = ok(patch_group(
        &mut g,
        vec![
            remove_v("members", json!([{"$ref": null, "value": "u1"}])),
            remove_v("members", json!([{"value": "u2"}, {"value": "u3"}])),
            remove_v("members", json!({"value": "u4"})),
        ],
    ));
    assert_eq!(
        out.member_ops,
        vec![
            MemberOp::Remove(ids(&["u1"])),
            MemberOp::Remove(ids(&["u2", "u3"])),
            MemberOp::Remove(ids(&["u4"])),
        ]
    );
}

#[test]
fn remove_members_without_value_removes_all() {
    // RFC 7644 §3.5.2.2
    let mut g = group_doc();
    let out = ok(patch_group(
        &mut g,
        vec![remove("members"), remove_v("MEMBERS", Value::Null)],
    ));
    assert_eq!(
        out.member_ops,
        vec![MemberOp::RemoveAll, MemberOp::RemoveAll]
    );
}

#[test]
fn replace_members_and_pathless_members() {
    let mut g = group_doc();
    let out = ok(patch_group(
        &mut g,
        vec![
            replace(
                "members",
                json!([{"value": "u1", "display": "a"}, {"value": "u2", "type": "user"}]),
            ),
            replace("members", json!([])),
            add_np(json!({"members": [{"value": "u3"}]})),
            replace_np(json!({"displayName": "Renamed", "members": [{"value": "u4"}]})),
            replace("members", Value::Null),
        ],
    ));
    assert_eq!(
        out.member_ops,
        vec![
            MemberOp::Replace(vec![
                MemberRef {
                    value: "u1".into(),
                    display: Some("a".into()),
                    kind: None
                },
                MemberRef {
                    value: "u2".into(),
                    display: None,
                    kind: Some("User".into())
                },
            ]),
            MemberOp::Replace(vec![]),
            MemberOp::Add(vec![mref("u3")]),
            MemberOp::Replace(vec![mref("u4")]),
        ]
    );
    assert_eq!(g["displayName"], json!("Renamed"));
    assert!(g.get("members").is_none());
}

#[test]
fn nopath_replace_without_members_keeps_membership() {
    // NOPATH-REPLACE-MEMBERS-WIPE (langwatch#7131)
    let mut g = group_doc();
    let out = ok(patch_group(
        &mut g,
        vec![replace_np(json!({"displayName": "x"}))],
    ));
    assert!(out.member_ops.is_empty());
}

#[test]
fn idempotent_membership_ops() {
    // IDEMPOTENT-MEMBERSHIP: the same request twice yields the same ops; duplicates inside one list
    // are collapsed; removing a non-member is a plain Remove (the store makes it a no-op).
    let mut g = group_doc();
    let ops = || {
        vec![
            add("members", json!([{"value": "u1"}, {"value": "u1"}])),
            remove("members[value eq \"zz\"]"),
        ]
    };
    let first = ok(patch_group(&mut g, ops()));
    let second = ok(patch_group(&mut g, ops()));
    assert_eq!(first, second);
    assert_eq!(
        first.member_ops,
        vec![
            MemberOp::Add(vec![mref("u1")]),
            MemberOp::Remove(ids(&["zz"]))
        ]
    );
}

#[test]
fn unsupported_member_filters_are_invalid_filter() {
    let mut g = group_doc();
    for path in [
        "members[display eq \"x\"]",
        "members[value ne \"x\"]",
        "members[value co \"x\"]",
        "members[value eq \"a\" and type eq \"User\"]",
        "members[not (value eq \"a\")]",
        "members[value pr]",
        "members[value eq 5]",
    ] {
        let r = patch_group(&mut g, vec![remove(path)]);
        assert_eq!(
            scim_type(&r),
            Some(ScimType::InvalidFilter),
            "{path}: {r:?}"
        );
        assert!(detail(&r).contains("members"), "{}", detail(&r));
    }
}

#[test]
fn member_values_must_be_non_empty_strings() {
    let mut g = group_doc();
    for o in [
        add("members", json!([{"value": ""}])),
        add("members", json!([{"value": 12}])),
        add("members", json!([{"display": "x"}])),
        replace("members", json!([{"value": null}])),
        remove_v("members", json!([{"value": " "}])),
        remove("members[value eq \"\"]"),
        add_np(json!({"members": [{"value": false}]})),
        add("members", json!([{"value": "u", "type": "Robot"}])),
    ] {
        let r = patch_group(&mut g, vec![o]);
        assert_eq!(scim_type(&r), Some(ScimType::InvalidValue), "{r:?}");
    }
}

#[test]
fn member_paths_with_filters_or_sub_attributes() {
    let mut g = group_doc();
    for o in [
        add("members[value eq \"x\"]", json!([{"value": "x"}])),
        replace("members[value eq \"x\"].display", json!("d")),
        replace("members.display", json!("d")),
        remove("members.value"),
        remove("members[value eq \"x\"].display"),
    ] {
        let r = patch_group(&mut g, vec![o]);
        assert_eq!(scim_type(&r), Some(ScimType::InvalidPath), "{r:?}");
    }
}

#[test]
fn group_displayname_ops() {
    // entra/jumpcloud rename
    let mut g = group_doc();
    ok(patch_group(
        &mut g,
        vec![replace("displayName", json!("updatedDisplayName"))],
    ));
    assert_eq!(g["displayName"], json!("updatedDisplayName"));
    let r = patch_group(&mut g, vec![replace("displayName", json!(7))]);
    assert_eq!(scim_type(&r), Some(ScimType::InvalidValue));
    // The User schemas do not apply to Groups.
    for path in [
        format!("{ENT}:department"),
        "urn:ietf:params:scim:schemas:core:2.0:User:userName".to_string(),
    ] {
        let r = patch_group(&mut g, vec![add(&path, json!("x"))]);
        assert_eq!(scim_type(&r), Some(ScimType::InvalidPath), "{path}");
    }
}
