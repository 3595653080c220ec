//! Directory tokens: isolation, revocation, and the activation on the first successful request.

use super::*;

#[test]
fn tokens_are_isolated_per_directory_and_revocation_is_immediate() {
    let s = Server::start();
    let a = s.onboard("okta scim v2.0");
    let b = s.onboard("okta scim v2.0");
    let (st, _, _) = s.scim(&a, Method::POST, "/Users", Some(user_body("a@a.test")));
    assert_eq!(st, 201);
    // A's token on B's URL: 401 and no data
    let r = s.req(
        Method::GET,
        &format!("/scim/v2/{}/Users", b.id),
        &a.token,
        None,
    );
    assert_eq!(r.status().as_u16(), 401);
    let body: Value = r.json().unwrap();
    assert_eq!(body["schemas"][0], ERROR_SCHEMA);
    assert!(body.get("Resources").is_none());
    // no token, malformed token, API key on SCIM
    assert_eq!(
        s.client
            .get(format!("{}/Users", a.base))
            .send()
            .unwrap()
            .status()
            .as_u16(),
        401
    );
    assert_eq!(
        s.req(
            Method::GET,
            &format!("/scim/v2/{}/Users", a.id),
            "sgd_nope",
            None
        )
        .status()
        .as_u16(),
        401
    );
    assert_eq!(
        s.req(
            Method::GET,
            &format!("/scim/v2/{}/Users", a.id),
            API_KEY,
            None
        )
        .status()
        .as_u16(),
        401
    );
    // the directory token is no API key
    assert_eq!(
        s.req(Method::GET, "/directories", &a.token, None)
            .status()
            .as_u16(),
        401
    );

    // a second token, listed without secrets; revoking the first takes effect at once
    let (st, t2) = s.api(
        Method::POST,
        &format!("/directories/{}/tokens", a.id),
        Some(json!({"name": "rotation"})),
    );
    assert_eq!(st, 201, "{t2}");
    let secret2 = t2["bearer_token"].as_str().unwrap().to_string();
    let (_, list) = s.api(Method::GET, &format!("/directories/{}/tokens", a.id), None);
    let listed = list["data"].as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed
        .iter()
        .all(|t| t.get("bearer_token").is_none() && t.get("token_hash").is_none()));
    let first_id = listed.iter().find(|t| t["name"] == "default").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (st, _) = s.api(
        Method::DELETE,
        &format!("/directories/{}/tokens/{first_id}", a.id),
        None,
    );
    assert_eq!(st, 204);
    assert_eq!(
        s.req(
            Method::GET,
            &format!("/scim/v2/{}/Users", a.id),
            &a.token,
            None
        )
        .status()
        .as_u16(),
        401
    );
    assert_eq!(
        s.req(
            Method::GET,
            &format!("/scim/v2/{}/Users", a.id),
            &secret2,
            None
        )
        .status()
        .as_u16(),
        200
    );
    let names = s.event_names(&a.id);
    assert!(names.contains(&"dsync.token.created".to_string()));
    assert!(names.contains(&"dsync.token.revoked".to_string()));
    let revoked = s
        .events(&a.id)
        .into_iter()
        .find(|e| e["event"] == "dsync.token.revoked")
        .unwrap();
    assert_eq!(revoked["data"]["token_suffix"].as_str().unwrap().len(), 4);
}

#[test]
fn first_successful_request_activates_the_directory_once() {
    let s = Server::start();
    let d = s.onboard("okta scim v2.0");
    let (_, dir) = s.api(Method::GET, &format!("/directories/{}", d.id), None);
    assert_eq!(dir["state"], "unlinked");
    // a failed request does not activate
    assert_eq!(
        s.req(
            Method::GET,
            &format!("/scim/v2/{}/Users", d.id),
            "sgd_wrong",
            None
        )
        .status()
        .as_u16(),
        401
    );
    assert!(!s
        .event_names(&d.id)
        .contains(&"dsync.activated".to_string()));
    for _ in 0..3 {
        let (st, _, _) = s.scim(&d, Method::GET, "/Users", None);
        assert_eq!(st, 200);
    }
    let names = s.event_names(&d.id);
    assert_eq!(
        names.iter().filter(|n| *n == "dsync.activated").count(),
        1,
        "{names:?}"
    );
    let ev = s
        .events(&d.id)
        .into_iter()
        .find(|e| e["event"] == "dsync.activated")
        .unwrap();
    assert_eq!(ev["data"]["state"], "active");
    assert!(ev["data"]["domains"].is_array());
    let (_, dir) = s.api(Method::GET, &format!("/directories/{}", d.id), None);
    assert_eq!(dir["state"], "linked");
}
