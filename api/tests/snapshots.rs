//! Snapshots of the wire shapes over real HTTP against the real binary: every vendor
//! object and list envelope (WIRE-COMPAT.md §1–§6 and scimgate's additions), an event
//! of each kind, and the error bodies of both surfaces (RFC 7644 §3.12 for SCIM).
//! Ids, cursors, timestamps and secrets are redacted, so SQLite and PostgreSQL give
//! the same snapshots; the shapes (keys, their order, nulls, enum strings) are pinned.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};

/// The redactions: whatever differs between runs or backends (`common::snapshot_settings`).
fn settings() -> insta::Settings {
    snapshot_settings(&[])
}

fn ok(s: &Server, method: Method, path: &str, body: Option<Value>, want: u16) -> Value {
    let (st, v) = s.api(method, path, body);
    assert_eq!(st, want, "{path}: {v}");
    v
}

fn get(s: &Server, path: &str) -> Value {
    ok(s, Method::GET, path, None, 200)
}

fn scim_ok(s: &Server, d: &Dir, method: Method, path: &str, body: Value, want: u16) -> Value {
    let (st, _, v) = s.scim(d, method, path, Some(body));
    assert_eq!(st, want, "{path}: {v}");
    v
}

/// The first event of each kind, in the order they happened.
fn first_of_each(events: &[Value]) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = Vec::new();
    for e in events {
        let name = e["event"].as_str().unwrap().to_string();
        if !out.iter().any(|(n, _)| *n == name) {
            out.push((name, e.clone()));
        }
    }
    out
}

#[test]
fn vendor_objects_envelopes_and_error_bodies() {
    let s = Server::start();
    let d = s.onboard("okta scim v2.0");
    let mut ada = user_body("ada@acme.test");
    ada["externalId"] = json!("idp-1");
    ada["title"] = json!("Engineer");
    ada["schemas"] = json!([
        "urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    ]);
    ada["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"] =
        json!({"department": "R&D"});
    let ada = scim_ok(&s, &d, Method::POST, "/Users", ada, 201);
    let ada_id = ada["id"].as_str().unwrap().to_string();
    let mut bob = user_body("bob@acme.test");
    bob["externalId"] = json!("idp-2");
    let bob = scim_ok(&s, &d, Method::POST, "/Users", bob, 201);
    let bob_id = bob["id"].as_str().unwrap().to_string();
    let group = scim_ok(
        &s,
        &d,
        Method::POST,
        "/Groups",
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
               "displayName": "Developers", "externalId": "g-1",
               "members": [{"value": ada_id}]}),
        201,
    );
    let gid = group["id"].as_str().unwrap().to_string();
    let scim_patch = |path: &str, ops: Value| {
        let (st, _, v) = s.scim(&d, Method::PATCH, path, Some(patch(ops)));
        assert!(st == 200 || st == 204, "{path}: {st} {v}");
    };
    scim_patch(
        &format!("/Groups/{gid}"),
        json!([{"op": "add", "path": "members", "value": [{"value": bob_id}]}]),
    );
    scim_patch(
        &format!("/Groups/{gid}"),
        json!([{"op": "remove", "path": format!("members[value eq \"{bob_id}\"]")}]),
    );
    scim_patch(
        &format!("/Users/{bob_id}"),
        json!([{"op": "replace", "path": "title", "value": "Manager"}]),
    );
    let role = ok(
        &s,
        Method::POST,
        &format!("/organizations/{}/role_mappings", d.org),
        Some(json!({"group_id": gid, "role_slug": "developer", "priority": 5})),
        201,
    );
    let token = ok(
        &s,
        Method::POST,
        &format!("/directories/{}/tokens", d.id),
        Some(json!({"name": "ci"})),
        201,
    );
    let (st, _) = s.api(
        Method::DELETE,
        &format!(
            "/directories/{}/tokens/{}",
            d.id,
            token["id"].as_str().unwrap()
        ),
        None,
    );
    assert_eq!(st, 204);
    // a second group, renamed then deleted; bob deleted
    let tmp = scim_ok(
        &s,
        &d,
        Method::POST,
        "/Groups",
        json!({"displayName": "Temp"}),
        201,
    );
    let tmp_id = tmp["id"].as_str().unwrap().to_string();
    scim_patch(
        &format!("/Groups/{tmp_id}"),
        json!([{"op": "replace", "path": "displayName", "value": "Temporary"}]),
    );
    assert_eq!(
        s.scim(&d, Method::DELETE, &format!("/Groups/{tmp_id}"), None)
            .0,
        204
    );
    assert_eq!(
        s.scim(&d, Method::DELETE, &format!("/Users/{bob_id}"), None)
            .0,
        204
    );
    // a second directory, deleted: `dsync.deleted`
    let gone = s.onboard("azure scim v2.0");
    assert_eq!(
        s.scim(&gone, Method::GET, "/Users", None).0,
        200,
        "activation"
    );
    ok(
        &s,
        Method::DELETE,
        &format!("/directories/{}", gone.id),
        None,
        202,
    );

    settings().bind(|| {
        // organizations
        let org = get(&s, &format!("/organizations/{}", d.org));
        insta::assert_json_snapshot!("organization", org);
        let created = ok(
            &s,
            Method::POST,
            "/organizations",
            Some(json!({"name": "Globex", "domains": ["globex.test", {"domain": "globex.example"}]})),
            201,
        );
        insta::assert_json_snapshot!("organization_created", created);
        let orgs = get(
            &s,
            &format!("/organizations?limit=1&before={}", d.org),
        );
        insta::assert_json_snapshot!("organizations_list", orgs);
        // directories
        let created = ok(
            &s,
            Method::POST,
            "/directories",
            Some(json!({"organization_id": d.org, "type": "generic scim v2.0"})),
            201,
        );
        insta::assert_json_snapshot!("directory_created", created);
        let dir = get(&s, &format!("/directories/{}", d.id));
        insta::assert_json_snapshot!("directory", dir);
        let dirs = get(
            &s,
            &format!("/directories?organization_id={}&order=asc&limit=1", d.org),
        );
        insta::assert_json_snapshot!("directories_list", dirs);
        // directory tokens
        let token = ok(
            &s,
            Method::POST,
            &format!("/directories/{}/tokens", d.id),
            Some(json!({"name": "deploy"})),
            201,
        );
        insta::assert_json_snapshot!("directory_token_created", token);
        let tokens = get(&s, &format!("/directories/{}/tokens", d.id));
        insta::assert_json_snapshot!("directory_tokens_list", tokens);
        // directory users and groups
        let user = get(&s, &format!("/directory_users/{ada_id}"));
        insta::assert_json_snapshot!("directory_user", user);
        let users = get(
            &s,
            &format!("/directory_users?directory={}&limit=1", d.id),
        );
        insta::assert_json_snapshot!("directory_users_list", users);
        let group = get(&s, &format!("/directory_groups/{gid}"));
        insta::assert_json_snapshot!("directory_group", group);
        let groups = get(&s, &format!("/directory_groups?user={ada_id}"));
        insta::assert_json_snapshot!("directory_groups_list", groups);
        // mappings
        let attrs = get(&s, &format!("/directories/{}/attribute_mappings", d.id));
        insta::assert_json_snapshot!("attribute_mappings", attrs);
        let attrs = ok(
            &s,
            Method::PUT,
            &format!("/directories/{}/attribute_mappings", d.id),
            Some(json!({"mappings": [{"path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "key": "team"}]})),
            200,
        );
        insta::assert_json_snapshot!("attribute_mappings_set", attrs);
        insta::assert_json_snapshot!("role_mapping", role);
        let roles = get(&s, &format!("/organizations/{}/role_mappings", d.org));
        insta::assert_json_snapshot!("role_mappings_list", roles);
        let explained = get(&s, &format!("/directory_users/{ada_id}/roles/explain"));
        insta::assert_json_snapshot!("role_explanation", explained);
        // events: the envelope, and one event of each kind
        let page = get(
            &s,
            &format!("/events?directory_id={}&order=asc&limit=2", d.id),
        );
        insta::assert_json_snapshot!("events_list", page);
        let mut events = s.events(&d.id);
        events.extend(s.events(&gone.id));
        let kinds = first_of_each(&events);
        let names: Vec<&str> = kinds.iter().map(|(n, _)| n.as_str()).collect();
        insta::assert_json_snapshot!("event_kinds", names);
        for (name, e) in &kinds {
            insta::assert_json_snapshot!(format!("event_{name}"), e);
        }
        // error bodies
        let (st, err) = s.api(Method::GET, "/organizations/org_nope", None);
        assert_eq!(st, 404);
        insta::assert_json_snapshot!("vendor_error", err);
        let (st, err) = s.api(Method::POST, "/organizations", Some(json!({"name": 5})));
        assert_eq!(st, 422);
        insta::assert_json_snapshot!("vendor_error_invalid", err);
        let (st, _, err) = s.scim(&d, Method::GET, "/Users/directory_user_nope", None);
        assert_eq!(st, 404);
        insta::assert_json_snapshot!("scim_error", err);
        let (st, _, err) = s.scim(&d, Method::GET, "/Users?filter=nickName%20zz%20%22x%22", None);
        assert_eq!(st, 400);
        insta::assert_json_snapshot!("scim_error_with_scim_type", err);
    });
}
