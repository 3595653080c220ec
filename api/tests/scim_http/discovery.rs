//! `/ServiceProviderConfig`, `/ResourceTypes` and `/Schemas` (RFC 7644 §4).

use super::*;

#[test]
fn discovery_endpoints_tell_the_truth() {
    let s = Server::start();
    let d = s.onboard("generic scim v2.0");
    let (st, h, spc) = s.scim(&d, Method::GET, "/ServiceProviderConfig", None);
    assert_eq!(st, 200);
    assert_eq!(h["content-type"], "application/scim+json");
    let (_, _, rt) = s.scim(&d, Method::GET, "/ResourceTypes", None);
    let (_, _, sc) = s.scim(&d, Method::GET, "/Schemas", None);
    let ids: Vec<&str> = sc["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    // what is supported (RFC 7643 §5), the two resource types (§6) and the schemas
    // (§7); the directory's base URL in `location`s redacted
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    let base = d.base.clone();
    settings.add_dynamic_redaction(".**.location", move |v, _| {
        v.as_str().unwrap_or_default().replace(&base, "[base]")
    });
    settings.bind(|| {
        insta::assert_json_snapshot!("discovery_service_provider_config", spc);
        insta::assert_json_snapshot!("discovery_resource_types", rt);
        insta::assert_json_snapshot!("discovery_schema_ids", ids);
    });
    let (st, _, one) = s.scim(
        &d,
        Method::GET,
        "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
        None,
    );
    assert_eq!(st, 200);
    assert!(one["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["name"] == "userName"));
    // Bulk is not offered
    let (st, _, b) = s.scim(&d, Method::POST, "/Bulk", Some(json!({})));
    assert_scim_error(st, &b, 501, None);
}
