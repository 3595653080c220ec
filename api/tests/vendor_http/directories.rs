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

/// The counts of a directory's `metadata` as the API shows them, and as counted from
/// the rows: they must agree after every kind of write.
fn counts(s: &Server, d: &Dir) -> (Value, Value) {
    let (st, v) = s.api(Method::GET, &format!("/directories/{}", d.id), None);
    assert_eq!(st, 200, "{v}");
    let db = s.db.db();
    let mut conn = db.conn().unwrap();
    let id = scimgate_core::ids::DirectoryId::parse(&d.id).unwrap();
    let (u, g) =
        scimgate_core::store::directories::user_and_group_counts_counted(&mut conn, &id).unwrap();
    (
        v["metadata"].clone(),
        json!({"users": {"active": u.active, "inactive": u.inactive}, "groups": g}),
    )
}

#[track_caller]
fn assert_counts(s: &Server, d: &Dir, active: i64, inactive: i64, groups: i64) {
    let (shown, counted) = counts(s, d);
    let want = json!({"users": {"active": active, "inactive": inactive}, "groups": groups});
    assert_eq!(counted, want, "the rows");
    assert_eq!(shown["users"], want["users"], "{shown}");
    assert_eq!(shown["groups"], want["groups"], "{shown}");
}

/// Issue 16: "counts kept up to date rather than COUNT(*) per view" — kept by the
/// writes, equal to the rows after creates, deactivations (PATCH and PUT),
/// reactivations, deletions, group creates and deletes, per directory.
#[test]
fn directory_counts_are_kept_by_every_write() {
    let s = Server::start();
    let d = s.onboard("okta scim v2.0");
    let other = s.onboard("azure scim v2.0");
    assert_counts(&s, &d, 0, 0, 0);
    let mut ids = Vec::new();
    for i in 0..4 {
        let (st, _, u) = s.scim(
            &d,
            Method::POST,
            "/Users",
            Some(user_body(&format!("c{i}@acme.test"))),
        );
        assert_eq!(st, 201, "{u}");
        ids.push(u["id"].as_str().unwrap().to_string());
    }
    s.scim(
        &other,
        Method::POST,
        "/Users",
        Some(user_body("x@acme.test")),
    );
    assert_counts(&s, &d, 4, 0, 0);
    // deactivate by PATCH (Entra's string boolean) and by PUT (Okta)
    let off = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
    assert_eq!(
        s.scim(
            &d,
            Method::PATCH,
            &format!("/Users/{}", ids[0]),
            Some(off.clone())
        )
        .0,
        200
    );
    // the same again changes nothing
    assert_eq!(
        s.scim(&d, Method::PATCH, &format!("/Users/{}", ids[0]), Some(off))
            .0,
        200
    );
    let mut put = user_body("c1@acme.test");
    put["active"] = json!(false);
    assert_eq!(
        s.scim(&d, Method::PUT, &format!("/Users/{}", ids[1]), Some(put))
            .0,
        200
    );
    assert_counts(&s, &d, 2, 2, 0);
    // reactivate one, delete an active and an inactive one
    let on = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": true}}]});
    assert_eq!(
        s.scim(&d, Method::PATCH, &format!("/Users/{}", ids[0]), Some(on))
            .0,
        200
    );
    assert_counts(&s, &d, 3, 1, 0);
    assert_eq!(
        s.scim(&d, Method::DELETE, &format!("/Users/{}", ids[2]), None)
            .0,
        204
    );
    assert_eq!(
        s.scim(&d, Method::DELETE, &format!("/Users/{}", ids[1]), None)
            .0,
        204
    );
    assert_counts(&s, &d, 2, 0, 0);
    // groups
    let mut groups = Vec::new();
    for name in ["Eng", "Ops"] {
        let (st, _, g) = s.scim(
            &d,
            Method::POST,
            "/Groups",
            Some(
                json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": name, "members": [{"value": ids[0]}]}),
            ),
        );
        assert_eq!(st, 201, "{g}");
        groups.push(g["id"].as_str().unwrap().to_string());
    }
    assert_counts(&s, &d, 2, 0, 2);
    assert_eq!(
        s.scim(&d, Method::DELETE, &format!("/Groups/{}", groups[0]), None)
            .0,
        204
    );
    assert_counts(&s, &d, 2, 0, 1);
    // a refused write changes nothing
    assert_eq!(
        s.scim(&d, Method::POST, "/Users", Some(user_body("c0@acme.test")))
            .0,
        409
    );
    assert_counts(&s, &d, 2, 0, 1);
    // the other directory kept its own
    assert_counts(&s, &other, 1, 0, 0);
    // the vendor API's list shows the same counts
    let (_, list) = s.api(
        Method::GET,
        &format!("/directories?organization_id={}", d.org),
        None,
    );
    assert_eq!(list["data"][0]["metadata"]["users"]["active"], 2);
}
