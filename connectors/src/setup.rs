//! Setup instructions shown to the customer's IT admin on the setup pages: ordered, plain-text
//! steps per directory type. IdP-specific steps live next to each IdP's dialect knowledge
//! (`okta::SETUP_STEPS`, …); the types without a dialect module are defined here.

use crate::DirectoryType;

/// Ordered steps (plain text) an IT admin follows in the IdP for this directory type. Every
/// list mentions where the SCIM base URL and bearer token shown on the setup page go.
pub fn setup_steps(dt: DirectoryType) -> &'static [&'static str] {
    match dt {
        DirectoryType::Azure => crate::entra::SETUP_STEPS,
        DirectoryType::CyberArk => CYBERARK_STEPS,
        DirectoryType::Generic => GENERIC_STEPS,
        DirectoryType::JumpCloud => crate::jumpcloud::SETUP_STEPS,
        DirectoryType::Okta => crate::okta::SETUP_STEPS,
        DirectoryType::OneLogin => crate::onelogin::SETUP_STEPS,
        DirectoryType::PingFederate => crate::ping::SETUP_STEPS,
        DirectoryType::Rippling => RIPPLING_STEPS,
        DirectoryType::SailPoint => SAILPOINT_STEPS,
    }
}

/// Any RFC 7644 client (authentik, Keycloak plugins, HR tools).
pub const GENERIC_STEPS: &[&str] = &[
    "In your identity provider or HR system, create an outbound SCIM 2.0 provisioning connection for this application.",
    "Set the SCIM base URL to the one shown on this page; the Users and Groups endpoints live directly below it.",
    "Choose bearer-token authentication (HTTP header \"Authorization: Bearer <token>\") and paste the token shown on this page.",
    "Use userName as the unique user identifier, and send externalId if your system supports it.",
    "Enable user creation, updates, deactivation (active set to false) and deletion, and group provisioning if your system supports it.",
    "Run the connection test of your system: scimgate answers with an empty list until the first users arrive.",
    "Assign the users and groups to provision and start provisioning.",
    "Come back to this page: the connection shows as active once the first users arrive.",
];

/// Rippling custom app with SCIM (options as listed in WorkOS's Rippling guide).
pub const RIPPLING_STEPS: &[&str] = &[
    "In Rippling, open the App Shop and create a custom app for this service (search for \"custom app\").",
    "In the custom app's settings, choose SCIM provisioning.",
    "Paste the SCIM base URL shown on this page as the SCIM base URL and the bearer token shown on this page as the API token.",
    "Select the SCIM options: Supports Groups, Supports Pagination, Create & Delete Groups and Use PATCH to edit Groups are all supported; enable Mutually Exclusive Groups only if your application expects it.",
    "Choose the attributes to send: externalId, emails.primary, name.givenName, name.familyName and employeeNumber.",
    "Choose who gets access (rules, departments or groups) and finish the setup.",
    "Come back to this page: the connection shows as active once the first users arrive.",
];

/// CyberArk Identity (generic SCIM provisioning application).
pub const CYBERARK_STEPS: &[&str] = &[
    "In the CyberArk Identity Admin Portal, open Apps & Widgets > Web Apps and click Add Web Apps.",
    "On the Custom tab, add the generic SCIM provisioning application (its exact name depends on your CyberArk Identity version) and open it.",
    "On its Provisioning page, enable provisioning for this application.",
    "Paste the SCIM base URL shown on this page as the SCIM service URL, choose bearer-token authentication, and paste the token shown on this page.",
    "Click Verify to test the connection.",
    "Map the roles whose members should be provisioned, and choose what happens when a user loses access (disable or delete).",
    "Save, then run a provisioning sync (or wait for the scheduled one).",
    "Come back to this page: the connection shows as active once the first users arrive.",
];

/// SailPoint Identity Security Cloud (IdentityNow) SCIM 2.0 source.
pub const SAILPOINT_STEPS: &[&str] = &[
    "In SailPoint Identity Security Cloud, go to Admin > Connections > Sources and click Create New.",
    "Choose the SCIM 2.0 connector and give the source a name.",
    "In the connection settings, paste the SCIM base URL shown on this page as the base URL, choose bearer-token (API token) authentication, and paste the token shown on this page.",
    "Click Test Connection.",
    "Review the account and group schemas, and use userName as the account name attribute.",
    "Configure the create-account, disable and delete provisioning policies, and grant this source through access profiles or roles.",
    "Run an account aggregation, then grant access through roles or access requests.",
    "Come back to this page: the connection shows as active once the first users arrive.",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_has_steps_mentioning_url_and_token() {
        for dt in DirectoryType::all() {
            let steps = setup_steps(*dt);
            assert!(steps.len() >= 5, "{dt}");
            let all = steps.join(" ").to_lowercase();
            assert!(all.contains("scim base url"), "{dt}: base URL missing");
            assert!(all.contains("token"), "{dt}: token missing");
            for s in steps {
                assert!(!s.trim().is_empty(), "{dt}");
                assert!(!s.contains('\n'), "{dt}: steps are single-line plain text");
            }
        }
    }

    #[test]
    fn jumpcloud_steps_warn_about_self_test() {
        let all = setup_steps(DirectoryType::JumpCloud).join(" ");
        assert!(all.contains("test user"));
    }
}
