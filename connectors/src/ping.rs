//! PingFederate SCIM Provisioner / PingOne outbound provisioning dialect knowledge.
//!
//! Sources (../shared/docs/IDP-QUIRKS.md §2 "Ping"): docs.pingidentity.com
//! `pf_scim_connector.html`, its user and group management page, the connector settings reference
//! and changelog. Trace: `conformance/traces/ping_lifecycle.json`.
//!
//! Ping never PATCHes users: updates and "Remove User Action = Disable" are full `PUT`s
//! (OKTA-PUT-DEACTIVATE applies), groups are PATCHed (connector ≥ 1.4) or PUT
//! (GROUP-PUT-REPLACE). Older connectors sent canonical `type` values with another case
//! (`"Work"`, fixed in 1.5.2), so canonical values compare case-insensitively (PING-TYPE-CASE).

/// PING-TYPE-CASE: compare two canonical values (`type` of emails/phoneNumbers/…, or any string
/// literal of a `sub eq "x"` filter) case-insensitively. Values are stored as sent.
pub fn type_value_eq(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// Steps an IT admin follows in PingFederate (SCIM Connector, outbound provisioning).
pub const SETUP_STEPS: &[&str] = &[
    "Make sure the PingFederate SCIM Connector is installed on your PingFederate server (download it from Ping Identity's integrations site).",
    "In the PingFederate administrative console, create a new SP connection and select Outbound Provisioning with the SCIM Connector as the provisioning type.",
    "On the Target settings, paste the SCIM base URL shown on this page into SCIM URL, select SCIM version 2.0, choose OAuth 2 Bearer Token authentication, and paste the bearer token shown on this page as the access token.",
    "Keep userName as the unique user identifier, and choose the Remove User Action: Disable (sends active=false) or Delete. scimgate handles both.",
    "Enable group provisioning if you want groups and memberships (connector 1.4 and later uses PATCH for groups).",
    "Create a provisioning channel: pick the source data store and location, and map userName, emails, name, active and any enterprise attributes.",
    "Activate the channel and the connection, and save.",
    "Come back to this page: the connection shows as active once the first users arrive.",
];

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::{
        default_attribute_mappings, map_user, normalize_group_body, normalize_patch,
        normalize_user_body, resolve_path, DirectoryType, OpKind, ResourceKind,
        ENTERPRISE_USER_URN,
    };
    use serde_json::json;

    const DT: DirectoryType = DirectoryType::PingFederate;

    #[test]
    fn type_compare_ignores_case() {
        assert!(type_value_eq("Work", "work"));
        assert!(type_value_eq("WORK ", "work"));
        assert!(type_value_eq("Écrit", "écrit"));
        assert!(!type_value_eq("home", "work"));
    }

    // IDP-QUIRKS PING-TYPE-CASE (ping_lifecycle.json create with phoneNumbers type "Work"):
    // values stored as sent, compared case-insensitively.
    #[test]
    fn ping_type_case_stored_as_sent_and_matched() {
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE_USER_URN],
            "userName": "jsmith",
            "externalId": "b7c1e9a0-1",
            "name": {"givenName": "Janet", "familyName": "Smith", "formatted": "Janet Smith"},
            "displayName": "Janet Smith",
            "emails": [{"value": "janet.smith@example.com", "type": "work", "primary": true}],
            "phoneNumbers": [{"value": "+1 555 0100", "type": "Work"}],
            "active": true,
            ENTERPRISE_USER_URN: {"department": "Finance"}
        });
        let got = normalize_user_body(DT, body.clone()).unwrap();
        assert_eq!(got, body);
        assert_eq!(
            resolve_path(&got, "phoneNumbers[type eq \"work\"].value"),
            Some(&json!("+1 555 0100"))
        );
        let u = map_user(DT, &got, &default_attribute_mappings(DT));
        assert_eq!(
            u.custom_attributes.get("department"),
            Some(&json!("Finance"))
        );
        assert_eq!(u.name.as_deref(), Some("Janet Smith"));
        assert_eq!(u.idp_id, "b7c1e9a0-1");
    }

    // IDP-QUIRKS PING-TYPE-CASE: the email `type` "Work" picks the primary when none is flagged.
    #[test]
    fn ping_capitalised_email_type_is_work() {
        let u = map_user(
            DT,
            &json!({"userName": "u", "emails": [{"value": "h@x", "type": "home"}, {"value": "w@x", "type": "Work"}]}),
            &[],
        );
        assert_eq!(u.email.as_deref(), Some("w@x"));
    }

    // IDP-QUIRKS OKTA-PUT-DEACTIVATE (ping_lifecycle.json "Remove User Action = Disable").
    #[test]
    fn ping_disable_is_full_put_with_active_false() {
        let got = normalize_user_body(
            DT,
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "bjones",
                "externalId": "b7c1e9a1-1",
                "name": {"givenName": "Bob", "familyName": "Jones"},
                "emails": [{"value": "bob.jones@example.com", "type": "work", "primary": true}],
                "active": false
            }),
        )
        .unwrap();
        assert_eq!(map_user(DT, &got, &[]).state, "inactive");
    }

    // IDP-QUIRKS GROUP-PUT-REPLACE (ping_lifecycle.json "membership via full PUT"): the member
    // list is passed through intact for core to diff.
    #[test]
    fn ping_group_put_member_list_intact() {
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Finance",
            "members": [{"value": "u2"}]
        });
        assert_eq!(normalize_group_body(DT, body.clone()).unwrap(), body);
    }

    // ping_lifecycle.json "membership via PATCH (connector >= 1.4)".
    #[test]
    fn ping_group_patch_add_member() {
        let got = normalize_patch(
            DT,
            ResourceKind::Group,
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                   "Operations": [{"op": "add", "path": "members", "value": [{"value": "u2"}]}]}),
        )
        .unwrap();
        assert_eq!(got[0].op, OpKind::Add);
        assert_eq!(got[0].value, Some(json!([{"value": "u2"}])));
    }
}
