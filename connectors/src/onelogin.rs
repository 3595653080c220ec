//! OneLogin dialect knowledge.
//!
//! OneLogin renders request bodies from an admin-editable "SCIM JSON Template" with
//! `{$user.*}` macros (../shared/docs/IDP-QUIRKS.md §2 "OneLogin", sources: OneLogin SCIM
//! Provisioner setup guides by keepnetlabs/pigeonholelive/kantega, the django-scim2 adapter
//! comment). Hence: `"active": "{$user.active}"` arrives as the *string* `"true"`/`"false"`,
//! `"id": null`, the enterprise manager as `{"managerId": …, "displayName": …}`, `schemas`
//! listing only the core URN while enterprise keys are present, and `emails` as a single object.

use serde_json::{Map, Value};

/// ONELOGIN-TEMPLATE-TYPES: normalize a manager object.
///
/// * `{"managerId": x, "displayName": y}` → `{"value": x, "displayName": y}` (position kept;
///   when `value` is already present, `managerId` stays as an unknown sub-attribute);
/// * a numeric id becomes its decimal string (`value` is a string, RFC 7643 §4.3);
/// * null members (`"$ref": null`, ENTRA-REF-NULL) are removed;
/// * a manager whose `value` is empty (an unrendered or empty template macro) yields `None`,
///   i.e. "no manager".
///
/// Other sub-attributes are kept (they stay visible in `raw_attributes`).
pub fn manager_from_object(map: Map<String, Value>) -> Option<Value> {
    let mut map: Map<String, Value> = map.into_iter().filter(|(_, v)| !v.is_null()).collect();
    let has_value = map.keys().any(|k| k.eq_ignore_ascii_case("value"));
    if !has_value && map.keys().any(|k| k.eq_ignore_ascii_case("managerId")) {
        map = crate::json::rename_key_ci(map, "managerId", "value");
    }
    for (k, v) in map.iter_mut() {
        if k.eq_ignore_ascii_case("value") {
            if let Value::Number(n) = v {
                *v = Value::String(n.to_string());
            }
        }
    }
    match crate::json::get_ci(&map, "value") {
        Some(Value::String(s)) if s.trim().is_empty() => None,
        _ => Some(Value::Object(map)),
    }
}

/// Steps an IT admin follows in OneLogin (SCIM Provisioner with SAML connector).
pub const SETUP_STEPS: &[&str] = &[
    "In the OneLogin admin portal, go to Applications > Applications and click Add App.",
    "Search for \"SCIM Provisioner with SAML (SCIM v2 Enterprise)\" (or \"SCIM v2 Core\" if you do not need enterprise attributes such as department or manager), select it, and save.",
    "On the Configuration tab, paste the SCIM base URL shown on this page into SCIM Base URL and the bearer token shown on this page into SCIM Bearer Token.",
    "Keep the default SCIM JSON Template unless you need extra attributes; scimgate accepts OneLogin's template output as is.",
    "Under API Connection, click Enable, then Save.",
    "On the Provisioning tab, check Enable provisioning, choose what happens when a user is deleted (Delete is recommended) and when app access is removed (Suspend or Delete), and save.",
    "Give users access to the application (directly, or through roles); approve pending provisioning tasks if admin approval is required.",
    "Come back to this page: the connection shows as active once the first users arrive.",
];

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::{
        map_user, normalize_patch, normalize_user_body, DirectoryType, NormalizedEmail,
        ResourceKind, ENTERPRISE_USER_URN,
    };
    use serde_json::json;

    const DT: DirectoryType = DirectoryType::OneLogin;

    /// A body rendered from OneLogin's SCIM JSON template (keepnetlabs guide shape).
    fn template_body() -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": null,
            "userName": "jane.doe@acme.test",
            "name": {"givenName": "Jane", "familyName": "Doe"},
            "emails": {"value": "jane.doe@acme.test", "type": "work"},
            "active": "true",
            "title": "Analyst",
            ENTERPRISE_USER_URN: {
                "department": "Finance",
                "manager": {"managerId": "31337", "displayName": "Big Boss"}
            }
        })
    }

    // IDP-QUIRKS ONELOGIN-TEMPLATE-TYPES + ONELOGIN-EMAILS-OBJECT, all at once.
    #[test]
    fn onelogin_template_body_normalized() {
        let got = normalize_user_body(DT, template_body()).unwrap();
        assert_eq!(
            got,
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE_USER_URN],
                "userName": "jane.doe@acme.test",
                "name": {"givenName": "Jane", "familyName": "Doe"},
                "emails": [{"value": "jane.doe@acme.test", "type": "work"}],
                "active": true,
                "title": "Analyst",
                ENTERPRISE_USER_URN: {
                    "department": "Finance",
                    "manager": {"value": "31337", "displayName": "Big Boss"}
                }
            })
        );
    }

    // IDP-QUIRKS ONELOGIN-TEMPLATE-TYPES: "active": "false" (Suspend) is a real deactivation.
    #[test]
    fn onelogin_string_false_deactivates() {
        let mut body = template_body();
        body["active"] = json!("false");
        let got = normalize_user_body(DT, body).unwrap();
        assert_eq!(got["active"], json!(false));
        assert_eq!(map_user(DT, &got, &[]).state, "inactive");
    }

    // IDP-QUIRKS ONELOGIN-TEMPLATE-TYPES: `"id": null` ignored (removed).
    #[test]
    fn onelogin_id_null_removed() {
        let got = normalize_user_body(DT, template_body()).unwrap();
        assert!(got.get("id").is_none());
    }

    // IDP-QUIRKS ONELOGIN-TEMPLATE-TYPES: extension keys without a `schemas` entry → URN added.
    #[test]
    fn onelogin_extension_schema_inferred() {
        let got = normalize_user_body(DT, template_body()).unwrap();
        assert_eq!(
            got["schemas"],
            json!([
                "urn:ietf:params:scim:schemas:core:2.0:User",
                ENTERPRISE_USER_URN
            ])
        );
        // No duplicate when the URN is already listed in another case.
        let mut body = template_body();
        body["schemas"] = json!([
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER"
        ]);
        let got = normalize_user_body(DT, body).unwrap();
        assert_eq!(got["schemas"].as_array().unwrap().len(), 2);
        // `schemas` missing entirely: core URN plus the inferred extension.
        let mut body = template_body();
        body.as_object_mut().unwrap().remove("schemas");
        let got = normalize_user_body(DT, body).unwrap();
        assert_eq!(
            got["schemas"],
            json!([
                "urn:ietf:params:scim:schemas:core:2.0:User",
                ENTERPRISE_USER_URN
            ])
        );
    }

    // IDP-QUIRKS ONELOGIN-TEMPLATE-TYPES: managerId → value; unknown sub-attributes stay.
    #[test]
    fn onelogin_manager_id_renamed_unknown_kept() {
        let m = json!({"managerId": 12, "displayName": "B", "department": "X"});
        let Value::Object(m) = m else { unreachable!() };
        assert_eq!(
            manager_from_object(m),
            Some(json!({"value": "12", "displayName": "B", "department": "X"}))
        );
        let m = json!({"value": "7", "managerId": "7"});
        let Value::Object(m) = m else { unreachable!() };
        assert_eq!(
            manager_from_object(m),
            Some(json!({"value": "7", "managerId": "7"}))
        );
    }

    // IDP-QUIRKS ONELOGIN-TEMPLATE-TYPES: a user without a manager renders empty macros.
    #[test]
    fn onelogin_empty_manager_dropped() {
        let mut body = template_body();
        body[ENTERPRISE_USER_URN]["manager"] = json!({"managerId": "", "displayName": ""});
        let got = normalize_user_body(DT, body).unwrap();
        assert_eq!(got[ENTERPRISE_USER_URN], json!({"department": "Finance"}));
    }

    // IDP-QUIRKS ONELOGIN-TEMPLATE-TYPES: manager objects inside PATCH values too.
    #[test]
    fn onelogin_manager_in_patch() {
        let got = normalize_patch(
            DT,
            ResourceKind::User,
            json!({"Operations": [{"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
                                   "value": {"managerId": "9", "displayName": "N"}}]}),
        )
        .unwrap();
        assert_eq!(
            got[0].value,
            Some(json!({"value": "9", "displayName": "N"}))
        );
    }

    // IDP-QUIRKS ONELOGIN-EMAILS-OBJECT: wrap in array; first email = primary if none flagged.
    #[test]
    fn onelogin_emails_object_first_is_primary() {
        let got = normalize_user_body(DT, template_body()).unwrap();
        let u = map_user(DT, &got, &[]);
        assert_eq!(u.email.as_deref(), Some("jane.doe@acme.test"));
        assert_eq!(
            u.emails,
            vec![NormalizedEmail {
                primary: true,
                kind: Some("work".into()),
                value: "jane.doe@acme.test".into()
            }]
        );
        assert_eq!(u.first_name.as_deref(), Some("Jane"));
        assert_eq!(u.name.as_deref(), Some("Jane Doe"));
        assert_eq!(u.state, "active");
    }

    // IDP-QUIRKS ONELOGIN-EMAILS-OBJECT: other multi-valued attributes sent as one object.
    #[test]
    fn onelogin_other_multi_valued_objects_wrapped() {
        let got = normalize_user_body(
            DT,
            json!({"userName": "a", "phoneNumbers": {"value": "+1", "type": "work", "primary": "True"},
                   "addresses": {"locality": "Paris"}}),
        )
        .unwrap();
        assert_eq!(
            got["phoneNumbers"],
            json!([{"value": "+1", "type": "work", "primary": true}])
        );
        assert_eq!(got["addresses"], json!([{"locality": "Paris"}]));
    }
}
