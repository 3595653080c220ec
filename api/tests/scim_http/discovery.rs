//! `/ServiceProviderConfig`, `/ResourceTypes` and `/Schemas` (RFC 7644 §4).

use super::*;

#[test]
fn discovery_endpoints_tell_the_truth() {
    let s = Server::start();
    let d = s.onboard("generic scim v2.0");
    let (st, h, spc) = s.scim(&d, Method::GET, "/ServiceProviderConfig", None);
    assert_eq!(st, 200);
    assert_eq!(h["content-type"], "application/scim+json");
    assert_eq!(spc["patch"]["supported"], true);
    assert_eq!(spc["bulk"]["supported"], false);
    assert_eq!(spc["filter"]["supported"], true);
    assert_eq!(spc["etag"]["supported"], true);
    assert_eq!(spc["sort"]["supported"], true);
    let (_, _, rt) = s.scim(&d, Method::GET, "/ResourceTypes", None);
    assert_eq!(rt["totalResults"], 2);
    let (_, _, sc) = s.scim(&d, Method::GET, "/Schemas", None);
    let ids: Vec<&str> = sc["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"urn:ietf:params:scim:schemas:core:2.0:User"));
    assert!(ids.contains(&"urn:ietf:params:scim:schemas:core:2.0:Group"));
    assert!(ids.contains(&"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"));
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
