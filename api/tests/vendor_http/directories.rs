//! Organizations and directories: onboarding validation, the delete-inactive policy, directory
//! deletion.

use super::*;

#[test]
fn onboarding_api_validates_input() {
    let s = Server::start();
    assert_eq!(
        s.api(Method::POST, "/organizations", Some(json!({}))).0,
        422
    );
    assert_eq!(
        s.api(
            Method::POST,
            "/organizations",
            Some(json!({"name": "X", "domains": ["not a domain"]}))
        )
        .0,
        422
    );
    let (_, org) = s.api(Method::POST, "/organizations", Some(json!({"name": "X"})));
    assert_eq!(
        s.api(
            Method::POST,
            "/directories",
            Some(json!({"organization_id": org["id"], "type": "bamboohr"}))
        )
        .0,
        422
    );
    assert_eq!(
        s.api(
            Method::POST,
            "/directories",
            Some(json!({"organization_id": "org_nope", "type": "okta scim v2.0"}))
        )
        .0,
        422
    );
    let r = s
        .client
        .post(format!("{}/organizations", s.base))
        .bearer_auth(API_KEY)
        .body("{nope")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    let (st, l) = s.api(Method::GET, "/organizations?limit=5", None);
    assert_eq!(st, 200);
    assert_eq!(l["data"][0]["object"], "organization");
    assert_eq!(s.api(Method::GET, "/organizations/org_nope", None).0, 404);
}

#[test]
fn delete_inactive_policy_turns_deactivation_into_deletion() {
    let s = Server::start_with(&[("SCIMGATE_INACTIVE_USERS", "delete")]);
    let d = s.onboard("azure scim v2.0");
    let (_, _, u) = s.scim(&d, Method::POST, "/Users", Some(user_body("leaver@x.test")));
    let id = u["id"].as_str().unwrap().to_string();
    s.scim(
        &d,
        Method::PATCH,
        &format!("/Users/{id}"),
        Some(patch(
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
        )),
    );
    // the IdP still sees the disabled user; the vendor no longer does
    let (st, _, got) = s.scim(&d, Method::GET, &format!("/Users/{id}"), None);
    assert_eq!((st, got["active"].clone()), (200, json!(false)));
    assert_eq!(
        s.api(Method::GET, &format!("/directory_users/{id}"), None)
            .0,
        404
    );
    s.scim(
        &d,
        Method::PATCH,
        &format!("/Users/{id}"),
        Some(patch(
            json!([{"op": "Replace", "path": "active", "value": "True"}]),
        )),
    );
    let names: Vec<String> = s
        .event_names(&d.id)
        .into_iter()
        .filter(|n| n.starts_with("dsync.user"))
        .collect();
    assert_eq!(
        names,
        vec![
            "dsync.user.created",
            "dsync.user.deleted",
            "dsync.user.created"
        ]
    );
}

#[test]
fn deleting_a_directory_emits_only_dsync_deleted_and_cuts_access() {
    let s = Server::start();
    let d = s.onboard("okta scim v2.0");
    seed(&s, &d, 2);
    let before = s.events(&d.id).len();
    assert_eq!(
        s.api(Method::DELETE, &format!("/directories/{}", d.id), None)
            .0,
        202
    );
    let evs = s.events(&d.id);
    assert_eq!(evs.len(), before + 1);
    // the directory as it was (its state before deletion, in the events' vocabulary),
    // without the organization's domains and the external key (WIRE-COMPAT §2, §4)
    let last = evs.last().unwrap();
    snapshot_settings(&[
        (d.id.as_str(), "directory"),
        (d.org.as_str(), "organization"),
    ])
    .bind(|| {
        insta::assert_json_snapshot!("directories_event_deleted", last);
    });
    assert_eq!(s.scim(&d, Method::GET, "/Users", None).0, 401);
    assert_eq!(
        s.api(Method::GET, &format!("/directories/{}", d.id), None)
            .0,
        404
    );
}
