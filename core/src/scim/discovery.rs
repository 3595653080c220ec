//! SCIM discovery documents (RFC 7644 §4): `/ServiceProviderConfig` (RFC 7643 §5), `/ResourceTypes`
//! (RFC 7643 §6) and `/Schemas` (RFC 7643 §7). They describe what the gateway really does.

use serde_json::{json, Value};

use crate::scim::schema::{
    schema_json, ENTERPRISE_USER, ENTERPRISE_USER_SCHEMA, GROUP, GROUP_SCHEMA, USER, USER_SCHEMA,
};

pub const SERVICE_PROVIDER_CONFIG_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
pub const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
pub const LIST_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// Limits advertised in the ServiceProviderConfig.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpConfigLimits {
    /// Maximum page size (`filter.maxResults`; larger `count`s are lowered, RFC 7644 §3.4.2.4).
    pub max_results: u32,
    /// Maximum operations per request (advertised as `bulk.maxOperations`; bulk itself is unsupported and
    /// the same cap applies to PATCH `Operations`).
    pub max_operations: u32,
    /// Request body cap in bytes (advertised as `bulk.maxPayloadSize`; applies to every request).
    pub max_payload_size: u64,
    /// Maximum number of terms in a filter. RFC 7643 §5 has no field for it, so it is not part of the
    /// document; requests over it get `400 invalidFilter`.
    pub filter_max_terms: u32,
}

fn base(base_url: &str) -> &str {
    base_url.trim_end_matches('/')
}

/// RFC 7643 §5 ServiceProviderConfig telling the truth: patch supported, bulk NOT supported, filter
/// supported (maxResults), changePassword not supported, sort supported, etag supported,
/// authenticationSchemes: one "oauthbearertoken" entry; meta {resourceType, location}.
pub fn service_provider_config(base_url: &str, limits: &SpConfigLimits) -> Value {
    json!({
        "schemas": [SERVICE_PROVIDER_CONFIG_SCHEMA],
        "patch": { "supported": true },
        "bulk": {
            "supported": false,
            "maxOperations": limits.max_operations,
            "maxPayloadSize": limits.max_payload_size,
        },
        "filter": { "supported": true, "maxResults": limits.max_results },
        "changePassword": { "supported": false },
        "sort": { "supported": true },
        "etag": { "supported": true },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication scheme using the OAuth Bearer Token Standard: send the directory's SCIM token as 'Authorization: Bearer <token>'.",
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{}/ServiceProviderConfig", base(base_url)),
        },
    })
}

fn user_resource_type(base_url: &str) -> Value {
    json!({
        "schemas": [RESOURCE_TYPE_SCHEMA],
        "id": "User",
        "name": "User",
        "endpoint": "/Users",
        "description": "User Account",
        "schema": USER_SCHEMA,
        "schemaExtensions": [{ "schema": ENTERPRISE_USER_SCHEMA, "required": false }],
        "meta": {
            "resourceType": "ResourceType",
            "location": format!("{}/ResourceTypes/User", base(base_url)),
        },
    })
}

fn group_resource_type(base_url: &str) -> Value {
    json!({
        "schemas": [RESOURCE_TYPE_SCHEMA],
        "id": "Group",
        "name": "Group",
        "endpoint": "/Groups",
        "description": "Group",
        "schema": GROUP_SCHEMA,
        "meta": {
            "resourceType": "ResourceType",
            "location": format!("{}/ResourceTypes/Group", base(base_url)),
        },
    })
}

fn list_response(resources: Vec<Value>) -> Value {
    crate::scim::resource::list_response(resources.len() as i64, 1, resources)
}

/// RFC 7643 §6 ResourceTypes as a ListResponse (User with the enterprise extension as
/// schemaExtensions required:false, Group).
pub fn resource_types(base_url: &str) -> Value {
    list_response(vec![
        user_resource_type(base_url),
        group_resource_type(base_url),
    ])
}

/// One ResourceType by id: "User" | "Group" (case-insensitive); `None` -> 404.
pub fn resource_type(base_url: &str, name: &str) -> Option<Value> {
    if name.eq_ignore_ascii_case("User") {
        Some(user_resource_type(base_url))
    } else if name.eq_ignore_ascii_case("Group") {
        Some(group_resource_type(base_url))
    } else {
        None
    }
}

/// RFC 7643 §7: ListResponse of the three schemas (User, EnterpriseUser, Group).
pub fn schemas(base_url: &str) -> Value {
    list_response(
        [&USER, &ENTERPRISE_USER, &GROUP]
            .into_iter()
            .map(|d| schema_json(d, base_url))
            .collect(),
    )
}

/// One schema by its URN (case-insensitive, URNs compare case-insensitively); `None` -> 404.
pub fn schema(base_url: &str, id: &str) -> Option<Value> {
    [&USER, &ENTERPRISE_USER, &GROUP]
        .into_iter()
        .find(|d| d.id.eq_ignore_ascii_case(id.trim()))
        .map(|d| schema_json(d, base_url))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "https://gw.example/scim/v2/directory_01ABC";

    fn limits() -> SpConfigLimits {
        SpConfigLimits {
            max_results: 200,
            max_operations: 1000,
            max_payload_size: 1_048_576,
            filter_max_terms: 50,
        }
    }

    #[test]
    fn spc_rfc7643_s5_tells_the_truth() {
        let v = service_provider_config(BASE, &limits());
        assert_eq!(v["schemas"], json!([SERVICE_PROVIDER_CONFIG_SCHEMA]));
        assert_eq!(v["patch"]["supported"], json!(true));
        assert_eq!(v["bulk"]["supported"], json!(false));
        assert_eq!(v["bulk"]["maxOperations"], json!(1000));
        assert_eq!(v["bulk"]["maxPayloadSize"], json!(1_048_576));
        assert_eq!(v["filter"], json!({"supported": true, "maxResults": 200}));
        assert_eq!(v["changePassword"]["supported"], json!(false));
        assert_eq!(v["sort"]["supported"], json!(true));
        assert_eq!(v["etag"]["supported"], json!(true));
        let schemes = v["authenticationSchemes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(schemes.len(), 1);
        assert_eq!(schemes[0]["type"], json!("oauthbearertoken"));
        assert_eq!(schemes[0]["name"], json!("OAuth Bearer Token"));
        assert_eq!(schemes[0]["primary"], json!(true));
        assert_eq!(
            schemes[0]["specUri"],
            json!("https://www.rfc-editor.org/info/rfc6750")
        );
        assert!(schemes[0]["description"].is_string());
        assert_eq!(
            v["meta"],
            json!({"resourceType": "ServiceProviderConfig", "location": format!("{BASE}/ServiceProviderConfig")})
        );
        // Integers, not strings (Okta/Rippling parse them as numbers).
        assert!(v["filter"]["maxResults"].is_u64());
    }

    #[test]
    fn spc_trailing_slash_in_base() {
        let v = service_provider_config(&format!("{BASE}/"), &limits());
        assert_eq!(
            v["meta"]["location"],
            json!(format!("{BASE}/ServiceProviderConfig"))
        );
    }

    #[test]
    fn resource_types_rfc7643_s6_list_response() {
        let v = resource_types(BASE);
        assert_eq!(v["schemas"], json!([LIST_RESPONSE_SCHEMA]));
        assert_eq!(v["totalResults"], json!(2));
        assert_eq!(v["itemsPerPage"], json!(2));
        assert_eq!(v["startIndex"], json!(1));
        let res = v["Resources"].as_array().cloned().unwrap_or_default();
        assert_eq!(res.len(), 2);
        assert_eq!(res[0]["id"], json!("User"));
        assert_eq!(res[0]["endpoint"], json!("/Users"));
        assert_eq!(res[0]["schema"], json!(USER_SCHEMA));
        assert_eq!(
            res[0]["schemaExtensions"],
            json!([{"schema": ENTERPRISE_USER_SCHEMA, "required": false}])
        );
        assert_eq!(
            res[0]["meta"],
            json!({"resourceType": "ResourceType", "location": format!("{BASE}/ResourceTypes/User")})
        );
        assert_eq!(res[1]["id"], json!("Group"));
        assert_eq!(res[1]["name"], json!("Group"));
        assert_eq!(res[1]["endpoint"], json!("/Groups"));
        assert_eq!(res[1]["schema"], json!(GROUP_SCHEMA));
        assert_eq!(res[1]["schemas"], json!([RESOURCE_TYPE_SCHEMA]));
    }

    #[test]
    fn resource_type_by_name_case_insensitive() {
        assert_eq!(
            resource_type(BASE, "user").map(|v| v["id"].clone()),
            Some(json!("User"))
        );
        assert_eq!(
            resource_type(BASE, "GROUP").map(|v| v["endpoint"].clone()),
            Some(json!("/Groups"))
        );
        assert!(resource_type(BASE, "Device").is_none());
        assert!(resource_type(BASE, "").is_none());
    }

    #[test]
    fn schemas_list_has_the_three_schemas() {
        let v = schemas(BASE);
        assert_eq!(v["totalResults"], json!(3));
        assert_eq!(v["itemsPerPage"], json!(3));
        assert_eq!(v["startIndex"], json!(1));
        let ids: Vec<Value> = v["Resources"]
            .as_array()
            .map(|r| r.iter().map(|s| s["id"].clone()).collect())
            .unwrap_or_default();
        assert_eq!(
            ids,
            vec![
                json!(USER_SCHEMA),
                json!(ENTERPRISE_USER_SCHEMA),
                json!(GROUP_SCHEMA)
            ]
        );
    }

    #[test]
    fn schema_by_id() {
        let v = schema(BASE, "urn:ietf:params:scim:schemas:core:2.0:group");
        assert_eq!(
            v.as_ref().map(|v| v["id"].clone()),
            Some(json!(GROUP_SCHEMA))
        );
        assert_eq!(
            v.map(|v| v["meta"]["location"].clone()),
            Some(json!(format!("{BASE}/Schemas/{GROUP_SCHEMA}")))
        );
        assert!(schema(BASE, ENTERPRISE_USER_SCHEMA).is_some());
        assert!(schema(BASE, "urn:example:nope").is_none());
        assert!(schema(
            BASE,
            "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"
        )
        .is_none());
    }
}
