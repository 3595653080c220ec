//! Microsoft Entra ID (formerly Azure AD) dialect knowledge.
//!
//! Sources (../shared/docs/IDP-QUIRKS.md §2 "Microsoft Entra ID"): Microsoft's SCIM tutorial and
//! its "Known issues and resolutions with SCIM 2.0 protocol compliance" page; manager shapes from
//! apache/directory-scimple#1242, MicrosoftDocs/azure-docs#11784, thomaspoignant/scim-patch#453.
//! Trace: `conformance/traces/entra_lifecycle.json`.

use serde_json::{Map, Value};

use crate::ENTERPRISE_USER_URN;

/// ENTRA-GROUP-SCHEMA: the Microsoft schema URI Entra lists next to the core Group URN on
/// `POST /Groups`. It carries no attributes.
pub const ADSCIM_GROUP_SCHEMA: &str =
    "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";

/// The PATCH path of the enterprise manager (RFC 7643 §4.3), where Entra sends a bare id string.
pub const ENTERPRISE_MANAGER_PATH: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager";

/// True for Microsoft's ADSCIM group schema URI (case-insensitive, whitespace ignored).
pub fn is_adscim_group_schema(uri: &str) -> bool {
    uri.trim().eq_ignore_ascii_case(ADSCIM_GROUP_SCHEMA)
}

/// True when a PATCH path names the enterprise manager (`urn:…:enterprise:2.0:User:manager`),
/// in any case.
pub fn is_enterprise_manager_path(path: &str) -> bool {
    path.trim().eq_ignore_ascii_case(ENTERPRISE_MANAGER_PATH)
}

/// True for the un-namespaced `manager` path of Microsoft's older documentation sample
/// (`{"op":"Add","path":"manager","value":[{"$ref":…,"value":…}]}`).
pub fn is_legacy_manager_path(path: &str) -> bool {
    path.trim().eq_ignore_ascii_case("manager")
}

/// ENTRA-MANAGER-STRING: a bare manager id becomes `{"value": id}`. An empty (or blank) id
/// carries no reference and yields `None` (treated as "no manager").
pub fn manager_from_string(id: String) -> Option<Value> {
    if id.trim().is_empty() {
        return None;
    }
    let mut m = Map::new();
    m.insert("value".to_string(), Value::String(id));
    Some(Value::Object(m))
}

/// The older sample's manager list `[{"$ref": …, "value": id}]`: the first element that is an
/// object (or string), with `$ref` removed. `None` for an empty list.
pub fn manager_from_list(items: Vec<Value>) -> Option<Value> {
    items.into_iter().find_map(|item| match item {
        Value::Object(mut m) => {
            m.retain(|k, _| !k.eq_ignore_ascii_case("$ref"));
            Some(Value::Object(m))
        }
        Value::String(s) => manager_from_string(s),
        _ => None,
    })
}

/// True when `key` is the enterprise extension URN (any case).
pub fn is_enterprise_urn(key: &str) -> bool {
    key.trim().eq_ignore_ascii_case(ENTERPRISE_USER_URN)
}

/// Steps an IT admin follows in Microsoft Entra ID (non-gallery enterprise application with
/// automatic provisioning, Microsoft's SCIM provisioning tutorial).
pub const SETUP_STEPS: &[&str] = &[
    "In the Microsoft Entra admin center, go to Identity > Applications > Enterprise applications and click New application.",
    "Click Create your own application, enter a name, choose \"Integrate any other application you don't find in the gallery (Non-gallery)\", and click Create.",
    "In the new application, open Provisioning and set Provisioning Mode to Automatic.",
    "Under Admin Credentials, paste the SCIM base URL shown on this page into Tenant URL and the bearer token shown on this page into Secret Token.",
    "Click Test Connection, then Save.",
    "Under Mappings, review the user and group attribute mappings (userName, active, emails, name and the enterprise extension attributes you need).",
    "In Users and groups, assign the users and groups to provision, and keep Scope set to \"Sync only assigned users and groups\".",
    "Set Provisioning Status to On and save. Entra runs an initial cycle, then an incremental one about every 40 minutes.",
    "Come back to this page: the connection shows as active once the first users arrive.",
];

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::{
        normalize_group_body, normalize_patch, normalize_user_body, DirectoryType, ErrorKind,
        OpKind, PatchOp, ResourceKind,
    };
    use serde_json::json;

    const DT: DirectoryType = DirectoryType::Azure;

    fn user_patch(body: Value) -> Vec<PatchOp> {
        normalize_patch(DT, ResourceKind::User, body).unwrap()
    }
    fn group_patch(body: Value) -> Vec<PatchOp> {
        normalize_patch(DT, ResourceKind::Group, body).unwrap()
    }
    fn ops(list: Value) -> Value {
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": list})
    }

    // IDP-QUIRKS ENTRA-STRING-BOOL (entra_lifecycle.json "disable user")
    #[test]
    fn entra_string_bool_false_capitalised() {
        let got = user_patch(ops(
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
        ));
        assert_eq!(
            got,
            vec![PatchOp {
                op: OpKind::Replace,
                path: Some("active".into()),
                value: Some(json!(false))
            }]
        );
    }

    // IDP-QUIRKS ENTRA-STRING-BOOL (entra_lifecycle.json "re-enable user")
    #[test]
    fn entra_string_bool_true_and_lowercase_variants() {
        for (s, b) in [
            ("True", true),
            ("true", true),
            ("false", false),
            ("FALSE", false),
        ] {
            let got = user_patch(ops(
                json!([{"op": "Replace", "path": "active", "value": s}]),
            ));
            assert_eq!(got[0].value, Some(json!(b)), "{s}");
        }
    }

    // IDP-QUIRKS ENTRA-STRING-BOOL with the optional core URN prefix on the path.
    #[test]
    fn entra_string_bool_with_core_urn_path() {
        let got = user_patch(ops(json!([{
            "op": "replace",
            "path": "urn:ietf:params:scim:schemas:core:2.0:User:active",
            "value": "False"
        }])));
        assert_eq!(got[0].value, Some(json!(false)));
        assert_eq!(
            got[0].path.as_deref(),
            Some("urn:ietf:params:scim:schemas:core:2.0:User:active")
        );
    }

    // IDP-QUIRKS ENTRA-STRING-BOOL: `primary` sub-attribute targeted by a filtered path.
    #[test]
    fn entra_string_bool_primary_sub_attribute() {
        let got = user_patch(ops(json!([{
            "op": "Replace",
            "path": "emails[type eq \"work\"].primary",
            "value": "True"
        }])));
        assert_eq!(got[0].value, Some(json!(true)));
    }

    // IDP-QUIRKS ENTRA-STRING-BOOL: a non-boolean string at `active` is left for core to reject.
    #[test]
    fn entra_non_boolean_string_left_alone() {
        let got = user_patch(ops(
            json!([{"op": "Replace", "path": "active", "value": "maybe"}]),
        ));
        assert_eq!(got[0].value, Some(json!("maybe")));
    }

    // IDP-QUIRKS ENTRA-OP-CASE (entra_lifecycle.json "update multi-valued + single-valued")
    #[test]
    fn entra_op_case_replace_with_filtered_path() {
        let got = user_patch(ops(json!([
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
            {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"}
        ])));
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].op, OpKind::Replace);
        assert_eq!(
            got[0].path.as_deref(),
            Some("emails[type eq \"work\"].value")
        );
        assert_eq!(got[0].value, Some(json!("updatedEmail@microsoft.com")));
        assert_eq!(got[1].path.as_deref(), Some("name.familyName"));
    }

    // IDP-QUIRKS ENTRA-OP-CASE: Add / Remove / REPLACE, still rejecting unknown verbs.
    #[test]
    fn entra_op_case_all_verbs() {
        let got = group_patch(ops(json!([
            {"op": "Add", "path": "members", "value": [{"value": "u1"}]},
            {"op": "REMOVE", "path": "members[value eq \"u1\"]"},
            {"op": "rEpLaCe", "path": "displayName", "value": "x"}
        ])));
        let kinds: Vec<OpKind> = got.iter().map(|o| o.op).collect();
        assert_eq!(kinds, vec![OpKind::Add, OpKind::Remove, OpKind::Replace]);
        let err = normalize_patch(
            DT,
            ResourceKind::User,
            ops(json!([{"op": "Delete", "path": "title"}])),
        )
        .unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidSyntax);
        assert!(err.detail.contains("Delete"), "{}", err.detail);
    }

    // IDP-QUIRKS ENTRA-NOPATH-DOTTED-KEYS: keys stay paths, untouched.
    #[test]
    fn entra_nopath_dotted_and_urn_keys_kept() {
        let value = json!({
            "name.givenName": "Kkom",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "Aklq"
        });
        let got = user_patch(ops(json!([{"op": "replace", "value": value.clone()}])));
        assert_eq!(got[0].path, None);
        assert_eq!(got[0].value, Some(value));
    }

    // IDP-QUIRKS ENTRA-NOPATH-DOTTED-KEYS + ENTRA-STRING-BOOL: string booleans inside a
    // path-less value (flag mode mixes both).
    #[test]
    fn entra_nopath_value_coerces_active_and_primary() {
        let got = user_patch(ops(json!([{"op": "Replace", "value": {
            "active": "False",
            "urn:ietf:params:scim:schemas:core:2.0:User:active": "True",
            "emails": [{"value": "a@b.c", "primary": "True"}],
            "emails[type eq \"work\"].primary": "false",
            "name.givenName": "True"
        }}])));
        assert_eq!(
            got[0].value,
            Some(json!({
                "active": false,
                "urn:ietf:params:scim:schemas:core:2.0:User:active": true,
                "emails": [{"value": "a@b.c", "primary": true}],
                "emails[type eq \"work\"].primary": false,
                "name.givenName": "True"
            }))
        );
    }

    // IDP-QUIRKS ENTRA-MANAGER-STRING (entra_lifecycle.json "set manager")
    #[test]
    fn entra_manager_string_wrapped() {
        let got = user_patch(ops(json!([{
            "op": "Add",
            "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
            "value": "26118915-6090-4610-87a4-49d0f5b3e2a4"
        }])));
        assert_eq!(
            got[0].value,
            Some(json!({"value": "26118915-6090-4610-87a4-49d0f5b3e2a4"}))
        );
        assert_eq!(got[0].path.as_deref(), Some(ENTERPRISE_MANAGER_PATH));
    }

    // IDP-QUIRKS ENTRA-MANAGER-STRING: object value passes; `$ref: null` cleaned.
    #[test]
    fn entra_manager_object_passes() {
        let got = user_patch(ops(json!([{
            "op": "replace",
            "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
            "value": {"value": "m1", "$ref": null, "displayName": "Boss"}
        }])));
        assert_eq!(
            got[0].value,
            Some(json!({"value": "m1", "displayName": "Boss"}))
        );
    }

    // IDP-QUIRKS ENTRA-MANAGER-STRING: older doc sample `path:"manager"` + `[{"$ref","value"}]`.
    #[test]
    fn entra_manager_legacy_path_rewritten() {
        let got = user_patch(ops(json!([{
            "op": "Add",
            "path": "manager",
            "value": [{"$ref": "https://x/Users/m1", "value": "m1"}]
        }])));
        assert_eq!(got[0].path.as_deref(), Some(ENTERPRISE_MANAGER_PATH));
        assert_eq!(got[0].value, Some(json!({"value": "m1"})));
    }

    // IDP-QUIRKS ENTRA-MANAGER-STRING: "support Remove on it".
    #[test]
    fn entra_manager_remove() {
        let got = user_patch(ops(json!([{
            "op": "Remove",
            "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"
        }])));
        assert_eq!(got[0].op, OpKind::Remove);
        assert_eq!(got[0].value, None);
        let got = user_patch(ops(json!([{
            "op": "Remove",
            "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
            "value": "m1"
        }])));
        assert_eq!(got[0].value, Some(json!({"value": "m1"})));
        // Legacy un-namespaced remove is aimed at the same attribute.
        let got = user_patch(ops(json!([{"op": "Remove", "path": "manager"}])));
        assert_eq!(got[0].path.as_deref(), Some(ENTERPRISE_MANAGER_PATH));
    }

    // IDP-QUIRKS ENTRA-MANAGER-STRING: an empty manager id clears the manager.
    #[test]
    fn entra_manager_empty_string_means_remove() {
        let got = user_patch(ops(json!([{
            "op": "Replace",
            "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
            "value": ""
        }])));
        assert_eq!(got[0].op, OpKind::Remove);
        assert_eq!(got[0].value, None);
    }

    // IDP-QUIRKS ENTRA-MANAGER-STRING: a bare string inside a path-less value object.
    #[test]
    fn entra_manager_string_inside_pathless_value() {
        let got = user_patch(ops(json!([{"op": "Add", "value": {
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager": "m9",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": "m8", "department": "Sales"}
        }}])));
        assert_eq!(
            got[0].value,
            Some(json!({
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager": {"value": "m9"},
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": "m8"}, "department": "Sales"}
            }))
        );
    }

    // IDP-QUIRKS ENTRA-MANAGER-STRING in a POST/PUT body.
    #[test]
    fn entra_manager_string_in_body() {
        let got = normalize_user_body(
            DT,
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE_USER_URN],
                "userName": "a@b.c",
                ENTERPRISE_USER_URN: {"manager": "boss-id", "department": "Sales"}
            }),
        )
        .unwrap();
        assert_eq!(
            got[ENTERPRISE_USER_URN]["manager"],
            json!({"value": "boss-id"})
        );
    }

    // IDP-QUIRKS ENTRA-REF-NULL (entra_lifecycle.json "add members ($ref null)")
    #[test]
    fn entra_ref_null_members_cleaned() {
        let got = group_patch(ops(json!([{"op": "Add", "path": "members", "value": [
            {"$ref": null, "value": "u1"}, {"$ref": null, "value": "u2"}
        ]}])));
        assert_eq!(got[0].op, OpKind::Add);
        assert_eq!(
            got[0].value,
            Some(json!([{"value": "u1"}, {"value": "u2"}]))
        );
    }

    // IDP-QUIRKS ENTRA-REMOVE-MEMBERS-VALUE (entra_lifecycle.json "remove member")
    #[test]
    fn entra_remove_members_keeps_value_list() {
        let got = group_patch(ops(json!([{"op": "Remove", "path": "members", "value": [
            {"$ref": null, "value": "u1"}
        ]}])));
        assert_eq!(
            got,
            vec![PatchOp {
                op: OpKind::Remove,
                path: Some("members".into()),
                value: Some(json!([{"value": "u1"}]))
            }]
        );
    }

    // IDP-QUIRKS MEMBERS-FILTER-REMOVE (Entra flag mode): path kept verbatim, no value.
    #[test]
    fn entra_flag_remove_member_by_filter() {
        let got = group_patch(ops(
            json!([{"op": "remove", "path": "members[value eq \"id\"]"}]),
        ));
        assert_eq!(got[0].path.as_deref(), Some("members[value eq \"id\"]"));
        assert_eq!(got[0].value, None);
    }

    // IDP-QUIRKS ENTRA-GROUP-SCHEMA (entra_lifecycle.json "create group")
    #[test]
    fn entra_group_schema_uri_removed() {
        let got = normalize_group_body(
            DT,
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", ADSCIM_GROUP_SCHEMA],
                "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676",
                "displayName": "displayName",
                "meta": {"resourceType": "Group"}
            }),
        )
        .unwrap();
        assert_eq!(
            got,
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676",
                "displayName": "displayName"
            })
        );
        assert!(is_adscim_group_schema(
            " http://SCHEMAS.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group "
        ));
    }

    // IDP-QUIRKS ENTRA-ADD-SINGLE-VALUED: `add` on a single-valued attribute passes through
    // (core applies it as replace, RFC 7644 §3.5.2.1).
    #[test]
    fn entra_add_single_valued_passes() {
        let got = group_patch(ops(
            json!([{"op": "Add", "path": "externalId", "value": "ext-1"}]),
        ));
        assert_eq!(
            got,
            vec![PatchOp {
                op: OpKind::Add,
                path: Some("externalId".into()),
                value: Some(json!("ext-1"))
            }]
        );
    }

    // entra_lifecycle.json "create user": meta.resourceType and roles:[] in the request.
    #[test]
    fn entra_create_user_body_from_trace() {
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE_USER_URN],
            "externalId": "jyoung",
            "userName": "jyoung@testuser.com",
            "active": true,
            "displayName": "Joy Young",
            "emails": [{"primary": true, "type": "work", "value": "jyoung@Contoso.com"}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": "Joy Young", "familyName": "Young", "givenName": "Joy"},
            "roles": [],
            ENTERPRISE_USER_URN: {"employeeNumber": "701984", "department": "Sales"}
        });
        let got = normalize_user_body(DT, body.clone()).unwrap();
        let mut expected = body;
        expected.as_object_mut().unwrap().remove("meta");
        assert_eq!(got, expected);
        // The mixed-case email domain is stored as sent.
        assert_eq!(got["emails"][0]["value"], json!("jyoung@Contoso.com"));
    }

    // Older Entra samples carry explicit nulls (IDP-QUIRKS §2 Entra step 2).
    #[test]
    fn entra_explicit_nulls_in_body_removed() {
        let got = normalize_user_body(
            DT,
            json!({
                "userName": "u@x",
                "title": null,
                "name": {"givenName": "A", "middleName": null},
                "emails": [{"value": "u@x", "type": "work", "primary": "True", "display": null}]
            }),
        )
        .unwrap();
        assert_eq!(
            got,
            json!({
                "userName": "u@x",
                "name": {"givenName": "A"},
                "emails": [{"value": "u@x", "type": "work", "primary": true}]
            })
        );
    }

    #[test]
    fn helper_shapes() {
        assert_eq!(manager_from_string("  ".into()), None);
        assert_eq!(manager_from_list(vec![]), None);
        assert_eq!(
            manager_from_list(vec![json!(3), json!("m")]),
            Some(json!({"value": "m"}))
        );
        assert!(is_enterprise_manager_path(
            "URN:ietf:params:scim:schemas:extension:enterprise:2.0:user:MANAGER"
        ));
        assert!(is_legacy_manager_path("Manager"));
        assert!(!is_legacy_manager_path("manager.value"));
    }
}
