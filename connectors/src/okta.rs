//! Okta dialect knowledge.
//!
//! Sources (../shared/docs/IDP-QUIRKS.md §2 "Okta"): Okta SCIM 2.0 reference
//! (okta/okta-developer-docs `docs/reference/scim/scim-20/index.md`), Okta SCIM concepts and FAQ.
//! Trace: `conformance/traces/okta_lifecycle.json`.
//!
//! Okta's shapes are RFC-legal except for the write-side noise this module names: `POST /Users`
//! carries `password` and `groups: []`, and the update `PUT` echoes `id`, `meta` and `groups`
//! (OKTA-CREATE-PASSWORD-GROUPS). Deactivation is a path-less PATCH (OKTA-PATCH-NOPATH) or, for
//! AIW apps, a full PUT with `active: false` (OKTA-PUT-DEACTIVATE). Group renames carry the
//! readOnly `id` inside the value object (OKTA-GROUP-RENAME-ID); core compares it.

/// Attributes removed from every User POST/PUT body: `password` is never stored
/// (langfuse#16027), `groups` and `meta` are readOnly (RFC 7643 §4.1.2, §3.1). `groups: []` on a
/// User body therefore never means "remove all memberships".
pub const DROPPED_USER_ATTRIBUTES: [&str; 3] = ["password", "groups", "meta"];

/// Steps an IT admin follows in Okta (app integration with SCIM provisioning, Okta docs
/// "Add SCIM provisioning to app integrations").
pub const SETUP_STEPS: &[&str] = &[
    "In the Okta Admin Console, go to Applications > Applications and click Create App Integration (SAML 2.0 or OIDC), or open the existing app integration for this service.",
    "On the General tab, click Edit under App Settings, select SCIM as the Provisioning option, and save.",
    "On the Provisioning tab, under Integration, click Edit and paste the SCIM base URL shown on this page into SCIM connector base URL.",
    "Set Unique identifier field for users to userName.",
    "Under Supported provisioning actions, select Push New Users, Push Profile Updates and Push Groups (Import New Users and Profile Updates is optional).",
    "Set Authentication Mode to HTTP Header and paste the bearer token shown on this page into Authorization.",
    "Click Test Connector Configuration, then Save.",
    "Under Provisioning > To App, click Edit, enable Create Users, Update User Attributes and Deactivate Users, and save.",
    "Assign people or groups on the Assignments tab; to send groups and memberships, add them on the Push Groups tab.",
    "Come back to this page: the connection shows as active once the first users arrive.",
];

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use crate::{
        map_user, normalize_group_body, normalize_patch, normalize_user_body, DirectoryType,
        ErrorKind, OpKind, PatchOp, ResourceKind,
    };
    use serde_json::{json, Value};

    const DT: DirectoryType = DirectoryType::Okta;

    fn ops(list: Value) -> Value {
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": list})
    }

    // IDP-QUIRKS OKTA-CREATE-PASSWORD-GROUPS (okta_lifecycle.json "create user")
    #[test]
    fn okta_create_drops_password_and_groups() {
        let got = normalize_user_body(
            DT,
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "test.user@okta.local",
                "name": {"givenName": "Test", "familyName": "User"},
                "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
                "displayName": "Test User",
                "locale": "en-US",
                "externalId": "00ujl29u0le5T6Aj10h7",
                "groups": [],
                "password": "1mz050nq",
                "active": true
            }),
        )
        .unwrap();
        assert_eq!(
            got,
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "test.user@okta.local",
                "name": {"givenName": "Test", "familyName": "User"},
                "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
                "displayName": "Test User",
                "locale": "en-US",
                "externalId": "00ujl29u0le5T6Aj10h7",
                "active": true
            })
        );
        let u = map_user(DT, &got, &[]);
        assert_eq!(u.idp_id, "00ujl29u0le5T6Aj10h7");
        assert_eq!(u.email.as_deref(), Some("test.user@okta.local"));
        assert_eq!(u.name.as_deref(), Some("Test User"));
    }

    // IDP-QUIRKS OKTA-CREATE-PASSWORD-GROUPS + OKTA-PUT-DROPS-EXTERNALID
    // (okta_lifecycle.json "profile update via PUT"): id/meta/groups echoed, no externalId.
    #[test]
    fn okta_update_put_echoes_readonly_and_omits_external_id() {
        let got = normalize_user_body(
            DT,
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "id": "23a35c27-23d3-4c03-b4c5-6443c09e7173",
                "userName": "test.user@okta.local",
                "name": {"givenName": "Another", "middleName": "Excited", "familyName": "User"},
                "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work", "display": "test.user@okta.local"}],
                "active": true,
                "groups": [],
                "meta": {"resourceType": "User"}
            }),
        )
        .unwrap();
        assert!(got.get("groups").is_none());
        assert!(got.get("meta").is_none());
        // The id is kept for core's body-id == URL-id check.
        assert_eq!(got["id"], json!("23a35c27-23d3-4c03-b4c5-6443c09e7173"));
        // The normalizer never invents an externalId; core keeps the stored one
        // (OKTA-PUT-DROPS-EXTERNALID is core's gateway choice).
        assert!(got.get("externalId").is_none());
        // Without externalId, the normalized idp_id falls back to userName.
        assert_eq!(map_user(DT, &got, &[]).idp_id, "test.user@okta.local");
    }

    // IDP-QUIRKS OKTA-PUT-DEACTIVATE: AIW full PUT with active:false; PUT without `active`
    // leaves it absent (core: unchanged, not false).
    #[test]
    fn okta_put_deactivate_and_put_without_active() {
        let got = normalize_user_body(
            DT,
            json!({"userName": "u@okta.local", "active": false, "emails": [{"value": "u@okta.local", "primary": true}]}),
        )
        .unwrap();
        assert_eq!(got["active"], json!(false));
        assert_eq!(map_user(DT, &got, &[]).state, "inactive");
        let got = normalize_user_body(DT, json!({"userName": "u@okta.local"})).unwrap();
        assert!(got.get("active").is_none());
        let got =
            normalize_user_body(DT, json!({"userName": "u@okta.local", "active": null})).unwrap();
        assert!(got.get("active").is_none());
    }

    // IDP-QUIRKS OKTA-PATCH-NOPATH (okta_lifecycle.json "deactivate" / "reactivate")
    #[test]
    fn okta_pathless_deactivate() {
        for b in [false, true] {
            let got = normalize_patch(
                DT,
                ResourceKind::User,
                ops(json!([{"op": "replace", "value": {"active": b}}])),
            )
            .unwrap();
            assert_eq!(
                got,
                vec![PatchOp {
                    op: OpKind::Replace,
                    path: None,
                    value: Some(json!({"active": b}))
                }]
            );
        }
    }

    // IDP-QUIRKS OKTA-GROUP-RENAME-ID (okta_lifecycle.json "group rename"): the readOnly id in
    // the value object is kept for core to compare; it is not a syntax error.
    #[test]
    fn okta_group_rename_with_id() {
        let got = normalize_patch(
            DT,
            ResourceKind::Group,
            ops(json!([{"op": "replace", "value": {"id": "g1", "displayName": "Test SCIMv20"}}])),
        )
        .unwrap();
        assert_eq!(got[0].path, None);
        assert_eq!(
            got[0].value,
            Some(json!({"id": "g1", "displayName": "Test SCIMv20"}))
        );
    }

    // IDP-QUIRKS NOPATH-REPLACE-MEMBERS-WIPE: a path-less group replace without `members` must
    // not gain one (absent ≠ []).
    #[test]
    fn okta_pathless_group_replace_does_not_touch_members() {
        let got = normalize_patch(
            DT,
            ResourceKind::Group,
            ops(json!([{"op": "replace", "value": {"displayName": "x"}}])),
        )
        .unwrap();
        assert_eq!(got[0].value, Some(json!({"displayName": "x"})));
    }

    // IDP-QUIRKS MEMBERS-FILTER-REMOVE (okta_lifecycle.json "membership change")
    #[test]
    fn okta_remove_by_filter_then_add() {
        let got = normalize_patch(
            DT,
            ResourceKind::Group,
            ops(json!([
                {"op": "remove", "path": "members[value eq \"00u1\"]"},
                {"op": "add", "path": "members", "value": [{"value": "00u2", "display": "second.user@okta.local"}]}
            ])),
        )
        .unwrap();
        assert_eq!(
            got,
            vec![
                PatchOp {
                    op: OpKind::Remove,
                    path: Some("members[value eq \"00u1\"]".into()),
                    value: None
                },
                PatchOp {
                    op: OpKind::Add,
                    path: Some("members".into()),
                    value: Some(json!([{"value": "00u2", "display": "second.user@okta.local"}]))
                }
            ]
        );
    }

    // IDP-QUIRKS GROUP-PUT-REPLACE / okta_lifecycle.json "full membership push via replace"
    #[test]
    fn okta_replace_members_full_list() {
        let list = json!([{"value": "u1", "display": "a"}, {"value": "u2", "display": "b"}]);
        let got = normalize_patch(
            DT,
            ResourceKind::Group,
            ops(json!([{"op": "replace", "path": "members", "value": list.clone()}])),
        )
        .unwrap();
        assert_eq!(got[0].value, Some(list));
    }

    // okta_lifecycle.json "push group (create)": members: [] kept (distinct from absent).
    #[test]
    fn okta_push_group_empty_members() {
        let got = normalize_group_body(
            DT,
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Test SCIMv2", "members": []}),
        )
        .unwrap();
        assert_eq!(got["members"], json!([]));
        assert_eq!(crate::map_group(DT, &got).idp_id, "");
    }

    // IDP-QUIRKS REJECT: an Okta body may not smuggle NUL through the dropped password either.
    #[test]
    fn okta_password_with_nul_rejected() {
        let e = normalize_user_body(DT, json!({"userName": "u", "password": "\u{0}"})).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidValue);
    }

    // Okta custom attributes arrive as an extension object; it is kept and listed in schemas.
    #[test]
    fn okta_custom_extension_kept_and_mappable() {
        let got = normalize_user_body(
            DT,
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "u",
                   "urn:okta:custom:1.0:User": {"costCenter": "CC-7"}}),
        )
        .unwrap();
        let maps = [crate::AttributeMapping {
            path: "urn:okta:custom:1.0:User:costCenter".into(),
            key: "cost_center".into(),
        }];
        let u = map_user(DT, &got, &maps);
        assert_eq!(u.custom_attributes.get("cost_center"), Some(&json!("CC-7")));
    }
}
