//! JumpCloud dialect knowledge.
//!
//! Sources (../shared/docs/IDP-QUIRKS.md §2 "JumpCloud"): JumpCloud "Identity Management using a
//! Custom SCIM Integration" (support article), the unimoni KB note on member PATCHes. Trace:
//! `conformance/traces/jumpcloud_lifecycle.json`.
//!
//! * Activation creates a test user and a test group, then DELETEs both (or deactivates the user
//!   when DELETE is unsupported) — JC-SELFTEST. The admin supplies the test user's email in some
//!   set-ups, so names are not guaranteed; detection is deliberately conservative.
//! * Member removal is `{"op":"remove","path":"members","value":[{"value":…}]}`
//!   (ENTRA-REMOVE-MEMBERS-VALUE), member objects are minimal `{value}`.
//! * User deletion from JumpCloud is a real `DELETE /Users/{id}` (JC-DELETE-USER, core).

use serde_json::Value;

use crate::json::get_ci;
use crate::{DirectoryType, ResourceKind};

/// JC-SELFTEST: true when a user/group document looks like JumpCloud's activation self-test.
/// Only for [`DirectoryType::JumpCloud`]; always false for other types.
///
/// Rule (confidence L — derived from the recorded trace, JumpCloud does not document names):
/// * user: the words of the `userName` local part (before `@`, split on non-alphanumerics,
///   case-insensitive) start with `jc test` or `jumpcloud test` (e.g. `jc-test-1a2b@acme.com`);
/// * group: the words of `displayName` start with `jumpcloud test group` or `jc test`
///   (e.g. `JumpCloud Test Group 1a2b`).
///
/// "JumpCloud Testers", "jctest@…", "Test User" alone and every real-looking name stay false:
/// a false positive would hide a real joiner/leaver, which is worse than a noisy self-test.
pub fn is_self_test(dt: DirectoryType, kind: ResourceKind, doc: &Value) -> bool {
    if dt != DirectoryType::JumpCloud {
        return false;
    }
    let Some(obj) = doc.as_object() else {
        return false;
    };
    match kind {
        ResourceKind::User => {
            let Some(Value::String(user_name)) = get_ci(obj, "userName") else {
                return false;
            };
            let local = user_name.split('@').next().unwrap_or("");
            let w = words(local);
            starts_with_words(&w, &["jc", "test"]) || starts_with_words(&w, &["jumpcloud", "test"])
        }
        ResourceKind::Group => {
            let Some(Value::String(name)) = get_ci(obj, "displayName") else {
                return false;
            };
            let w = words(name);
            starts_with_words(&w, &["jumpcloud", "test", "group"])
                || starts_with_words(&w, &["jc", "test"])
        }
    }
}

fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn starts_with_words(words: &[String], prefix: &[&str]) -> bool {
    words.len() >= prefix.len() && words.iter().zip(prefix).all(|(w, p)| w == p)
}

/// Steps an IT admin follows in JumpCloud (Custom SCIM Identity Management integration).
pub const SETUP_STEPS: &[&str] = &[
    "In the JumpCloud Admin Portal, open SSO Applications and click + Add New Application; choose a custom application (for example \"Custom SAML App\", or search for SCIM and pick the custom integration). You can also open an existing custom application for this service.",
    "Give the application a display label, save it, then open it and go to its Identity Management tab.",
    "Choose SCIM 2.0 as the SCIM version and paste the SCIM base URL shown on this page into Base URL.",
    "Paste the bearer token shown on this page into Token Key.",
    "If JumpCloud asks for a Test User Email, enter an address in one of your company domains; then click Test Connection.",
    "Click Activate. JumpCloud creates and then deletes a test user and a test group; scimgate recognises and tags this self-test.",
    "Open the User Groups tab of the application, select the groups whose members should be provisioned, and click Save.",
    "Come back to this page: the connection shows as active once the first users arrive.",
];

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::{normalize_patch, normalize_user_body, OpKind, PatchOp};
    use serde_json::json;

    const DT: DirectoryType = DirectoryType::JumpCloud;

    // IDP-QUIRKS JC-SELFTEST (jumpcloud_lifecycle.json "activate: create test user")
    #[test]
    fn jc_selftest_user_detected() {
        let doc = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "jc-test-x7k2@example.com",
            "externalId": "5f1e6d3c2b1a0x7k2",
            "name": {"givenName": "Test", "familyName": "User"},
            "emails": [{"value": "jc-test-x7k2@example.com", "type": "work", "primary": true}],
            "active": true
        });
        assert!(is_self_test(DT, ResourceKind::User, &doc));
        // Only for JumpCloud directories.
        for dt in DirectoryType::all() {
            if *dt != DT {
                assert!(!is_self_test(*dt, ResourceKind::User, &doc), "{dt}");
            }
        }
        // A user document checked as a group is not a test group.
        assert!(!is_self_test(DT, ResourceKind::Group, &doc));
    }

    // IDP-QUIRKS JC-SELFTEST (jumpcloud_lifecycle.json "activate: create test group")
    #[test]
    fn jc_selftest_group_detected() {
        let doc = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "JumpCloud Test Group x7k2"});
        assert!(is_self_test(DT, ResourceKind::Group, &doc));
        assert!(!is_self_test(
            DirectoryType::Okta,
            ResourceKind::Group,
            &doc
        ));
    }

    // IDP-QUIRKS JC-SELFTEST: conservative — real users and groups are never tagged.
    #[test]
    fn jc_selftest_is_conservative() {
        for user_name in [
            "jdoe@example.com",
            "asmith@example.com",
            "jctest@example.com",
            "test.user@example.com",
            "jc@example.com",
            "jc-testa@example.com",
            "",
        ] {
            let doc =
                json!({"userName": user_name, "name": {"givenName": "Test", "familyName": "User"}});
            assert!(!is_self_test(DT, ResourceKind::User, &doc), "{user_name}");
        }
        for name in [
            "Engineering",
            "JumpCloud Testers",
            "Test Group",
            "jumpcloud",
            "My JumpCloud Test Group",
        ] {
            let doc = json!({"displayName": name});
            assert!(!is_self_test(DT, ResourceKind::Group, &doc), "{name}");
        }
        for doc in [json!(null), json!([]), json!({"userName": 5}), json!({})] {
            assert!(!is_self_test(DT, ResourceKind::User, &doc));
            assert!(!is_self_test(DT, ResourceKind::Group, &doc));
        }
    }

    #[test]
    fn jc_selftest_variants() {
        for user_name in [
            "JC_TEST_1@x.io",
            "jc.test@x.io",
            "jumpcloud-test-9@x.io",
            "jc-test",
        ] {
            assert!(
                is_self_test(DT, ResourceKind::User, &json!({"userName": user_name})),
                "{user_name}"
            );
        }
        assert!(is_self_test(
            DT,
            ResourceKind::Group,
            &json!({"displayName": "jc-test-group"})
        ));
    }

    // IDP-QUIRKS ENTRA-REMOVE-MEMBERS-VALUE (jumpcloud_lifecycle.json "remove member")
    #[test]
    fn jc_remove_members_with_value_list() {
        let got = normalize_patch(
            DT,
            ResourceKind::Group,
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                   "Operations": [{"op": "remove", "path": "members", "value": [{"value": "u2"}]}]}),
        )
        .unwrap();
        assert_eq!(
            got,
            vec![PatchOp {
                op: OpKind::Remove,
                path: Some("members".into()),
                value: Some(json!([{"value": "u2"}]))
            }]
        );
    }

    // jumpcloud_lifecycle.json "add member (minimal member object)" and "suspend user".
    #[test]
    fn jc_minimal_members_and_boolean_deactivation() {
        let got = normalize_patch(
            DT,
            ResourceKind::Group,
            json!({"Operations": [{"op": "add", "path": "members", "value": [{"value": "u1"}, {"value": "u2"}]}]}),
        )
        .unwrap();
        assert_eq!(
            got[0].value,
            Some(json!([{"value": "u1"}, {"value": "u2"}]))
        );
        let got = normalize_patch(
            DT,
            ResourceKind::User,
            json!({"Operations": [{"op": "replace", "path": "active", "value": false}]}),
        )
        .unwrap();
        assert_eq!(got[0].value, Some(json!(false)));
    }

    // jumpcloud_lifecycle.json "attribute update: one op per attribute".
    #[test]
    fn jc_one_op_per_attribute() {
        let got = normalize_patch(
            DT,
            ResourceKind::User,
            json!({"Operations": [
                {"op": "replace", "path": "name.givenName", "value": "Janet"},
                {"op": "replace", "path": "name.familyName", "value": "Doe-Smith"}
            ]}),
        )
        .unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].value, Some(json!("Doe-Smith")));
    }

    // jumpcloud_lifecycle.json POST /Users with the enterprise extension: unchanged.
    #[test]
    fn jc_create_user_body_unchanged() {
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "userName": "jdoe@example.com",
            "externalId": "60a1b2c3d4e5f6",
            "displayName": "Jane Doe",
            "name": {"givenName": "Jane", "familyName": "Doe"},
            "emails": [{"value": "jdoe@example.com", "type": "work", "primary": true}],
            "title": "Engineer",
            "active": true,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "R&D", "employeeNumber": "42"}
        });
        assert_eq!(normalize_user_body(DT, body.clone()).unwrap(), body);
        assert!(!is_self_test(DT, ResourceKind::User, &body));
    }
}
