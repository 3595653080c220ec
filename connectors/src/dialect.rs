//! WorkOS directory types (../shared/docs/WIRE-COMPAT.md §4), restricted to the SCIM-capable ones.

use std::fmt;

/// A SCIM-capable WorkOS directory type. Non-SCIM WorkOS types (`bamboohr`, `gsuite directory`,
/// `workday`, ...) are not representable: scimgate only terminates SCIM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DirectoryType {
    Azure,
    CyberArk,
    Generic,
    JumpCloud,
    Okta,
    OneLogin,
    PingFederate,
    Rippling,
    SailPoint,
}

const ALL: [DirectoryType; 9] = [
    DirectoryType::Azure,
    DirectoryType::CyberArk,
    DirectoryType::Generic,
    DirectoryType::JumpCloud,
    DirectoryType::Okta,
    DirectoryType::OneLogin,
    DirectoryType::PingFederate,
    DirectoryType::Rippling,
    DirectoryType::SailPoint,
];

impl DirectoryType {
    /// Parse the WorkOS wire name (`"okta scim v2.0"`, `"azure scim v2.0"`, ...).
    /// Case-insensitive, surrounding whitespace ignored. `None` for anything else, including
    /// non-SCIM WorkOS types such as `"bamboohr"`.
    pub fn parse(s: &str) -> Option<DirectoryType> {
        let s = s.trim();
        ALL.iter()
            .copied()
            .find(|dt| dt.as_str().eq_ignore_ascii_case(s))
    }

    /// The WorkOS wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            DirectoryType::Azure => "azure scim v2.0",
            DirectoryType::CyberArk => "cyberark scim v2.0",
            DirectoryType::Generic => "generic scim v2.0",
            DirectoryType::JumpCloud => "jump cloud scim v2.0",
            DirectoryType::Okta => "okta scim v2.0",
            DirectoryType::OneLogin => "onelogin scim v2.0",
            DirectoryType::PingFederate => "pingfederate scim v2.0",
            DirectoryType::Rippling => "rippling scim v2.0",
            DirectoryType::SailPoint => "sailpoint scim v2.0",
        }
    }

    /// Every SCIM-capable type, in declaration order.
    pub fn all() -> &'static [DirectoryType] {
        &ALL
    }

    /// Human-readable product name for setup pages and the admin UI.
    pub fn display_name(&self) -> &'static str {
        match self {
            DirectoryType::Azure => "Microsoft Entra ID",
            DirectoryType::CyberArk => "CyberArk",
            DirectoryType::Generic => "Generic SCIM 2.0",
            DirectoryType::JumpCloud => "JumpCloud",
            DirectoryType::Okta => "Okta",
            DirectoryType::OneLogin => "OneLogin",
            DirectoryType::PingFederate => "PingFederate",
            DirectoryType::Rippling => "Rippling",
            DirectoryType::SailPoint => "SailPoint",
        }
    }
}

impl fmt::Display for DirectoryType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Serialized as the WorkOS wire name.
impl serde::Serialize for DirectoryType {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Deserialized from the WorkOS wire name (same rules as [`DirectoryType::parse`]).
impl<'de> serde::Deserialize<'de> for DirectoryType {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        DirectoryType::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown or non-SCIM directory type {:?}",
                crate::json::show(&s)
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn parses_every_wire_name_and_round_trips() {
        for dt in DirectoryType::all() {
            assert_eq!(DirectoryType::parse(dt.as_str()), Some(*dt));
            assert_eq!(dt.to_string(), dt.as_str());
            assert!(!dt.display_name().is_empty());
        }
        assert_eq!(DirectoryType::all().len(), 9);
    }

    #[test]
    fn parse_is_case_insensitive_and_trims() {
        assert_eq!(
            DirectoryType::parse("  Okta SCIM V2.0\n"),
            Some(DirectoryType::Okta)
        );
        assert_eq!(
            DirectoryType::parse("AZURE SCIM v2.0"),
            Some(DirectoryType::Azure)
        );
        assert_eq!(
            DirectoryType::parse("Jump Cloud SCIM v2.0"),
            Some(DirectoryType::JumpCloud)
        );
        assert_eq!(
            DirectoryType::parse("pingfederate scim v2.0"),
            Some(DirectoryType::PingFederate)
        );
    }

    #[test]
    fn non_scim_and_garbage_types_are_rejected() {
        for s in [
            "bamboohr",
            "gsuite directory",
            "workday",
            "sftp",
            "s3",
            "hibob",
            "okta",
            "okta scim v1.1",
            "jumpcloud scim v2.0",
            "",
            "okta\0scim v2.0",
            "ökta scim v2.0",
        ] {
            assert_eq!(DirectoryType::parse(s), None, "{s:?}");
        }
    }

    #[test]
    fn display_names() {
        assert_eq!(DirectoryType::Azure.display_name(), "Microsoft Entra ID");
        assert_eq!(DirectoryType::Okta.display_name(), "Okta");
        assert_eq!(DirectoryType::JumpCloud.display_name(), "JumpCloud");
    }

    #[test]
    fn serde_uses_wire_names() {
        let v = serde_json::to_value(DirectoryType::JumpCloud).unwrap();
        assert_eq!(v, serde_json::json!("jump cloud scim v2.0"));
        let dt: DirectoryType =
            serde_json::from_value(serde_json::json!("OneLogin SCIM v2.0")).unwrap();
        assert_eq!(dt, DirectoryType::OneLogin);
        assert!(serde_json::from_value::<DirectoryType>(serde_json::json!("bamboohr")).is_err());
        assert!(serde_json::from_value::<DirectoryType>(serde_json::json!(3)).is_err());
    }
}
