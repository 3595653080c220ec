//! What is the same resource within a directory (connectors/README.md "Uniqueness
//! rules per directory type"): a `userName` with surrounding spaces, a group's
//! `displayName` or `externalId` sent again (a retried `POST /Groups`).

use super::*;

#[test]
fn a_user_name_with_surrounding_spaces_is_the_same_user() {
    let s = Server::start();
    let d = s.onboard("jump cloud scim v2.0");
    let (st, _, u) = s.scim(&d, Method::POST, "/Users", Some(user_body("ada@acme.test")));
    assert_eq!(st, 201, "{u}");
    for name in ["  ada@acme.test", "ada@acme.test ", " ADA@acme.test\t"] {
        let (st, _, e) = s.scim(&d, Method::POST, "/Users", Some(user_body(name)));
        assert_scim_error(st, &e, 409, Some("uniqueness"));
    }
    // a lookup with the spaces finds the one user
    let (st, _, l) = s.scim(
        &d,
        Method::GET,
        "/Users?filter=userName%20eq%20%22%20ada%40acme.test%20%22",
        None,
    );
    assert_eq!(st, 200, "{l}");
    assert_eq!(l["totalResults"], 1, "{l}");
    assert_eq!(l["Resources"][0]["id"], u["id"]);
    let created: Vec<String> = s
        .event_names(&d.id)
        .into_iter()
        .filter(|e| e == "dsync.user.created")
        .collect();
    assert_eq!(created.len(), 1);
}

fn group(name: &str, external_id: Option<&str>) -> Value {
    let mut g = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name, "members": []});
    if let Some(x) = external_id {
        g["externalId"] = json!(x);
    }
    g
}

#[test]
fn a_retried_group_create_is_a_uniqueness_conflict() {
    let s = Server::start();
    for dir_type in ["azure scim v2.0", "okta scim v2.0", "generic scim v2.0"] {
        let d = s.onboard(dir_type);
        let (st, _, g) = s.scim(
            &d,
            Method::POST,
            "/Groups",
            Some(group("Engineering", Some("eng-1"))),
        );
        assert_eq!(st, 201, "{g}");
        // the retry, another case, the same externalId under another name
        for body in [
            group("Engineering", Some("eng-1")),
            group("ENGINEERING", None),
            group("Platform", Some("eng-1")),
        ] {
            let (st, _, e) = s.scim(&d, Method::POST, "/Groups", Some(body.clone()));
            assert_scim_error(st, &e, 409, Some("uniqueness"));
        }
        // a rename onto another group's name is refused too; a rename of its own case is not
        let (st, _, other) = s.scim(&d, Method::POST, "/Groups", Some(group("Sales", None)));
        assert_eq!(st, 201, "{other}");
        let oid = other["id"].as_str().unwrap();
        let rename = |name: &str| {
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                   "Operations": [{"op": "replace", "path": "displayName", "value": name}]})
        };
        let (st, _, e) = s.scim(
            &d,
            Method::PATCH,
            &format!("/Groups/{oid}"),
            Some(rename("engineering")),
        );
        assert_scim_error(st, &e, 409, Some("uniqueness"));
        let (st, _, e) = s.scim(
            &d,
            Method::PATCH,
            &format!("/Groups/{oid}"),
            Some(rename("SALES")),
        );
        assert!(st == 200 || st == 204, "{dir_type}: {e}");
        let created = s
            .event_names(&d.id)
            .into_iter()
            .filter(|e| e == "dsync.group.created")
            .count();
        assert_eq!(created, 2, "{dir_type}");
        // another directory may hold the same names
        let d2 = s.onboard(dir_type);
        let (st, _, g) = s.scim(
            &d2,
            Method::POST,
            "/Groups",
            Some(group("Engineering", Some("eng-1"))),
        );
        assert_eq!(st, 201, "{g}");
    }
}
