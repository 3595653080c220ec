//! Isolation by construction (issue 17 point 4): every SCIM route and every id-bearing
//! parameter (path, query filter, body, PATCH `members` values) given another
//! directory's ids with this directory's token, every route under another directory's
//! URL with this token, and the vendor API's organization-scoped routes given another
//! organization's ids: each is refused (401, 404, or 400 for members of another
//! directory, PRODUCT.md "Limits and bad input") or finds nothing, and no state of
//! either tenant changes.

use super::*;

/// What a tenant's state is, as its events and resources say.
fn state(s: &Server, d: &Dir) -> (usize, Value, Value) {
    let (_, _, users) = s.scim(d, Method::GET, "/Users?count=1000", None);
    let (_, _, groups) = s.scim(d, Method::GET, "/Groups?count=1000", None);
    (
        s.events(&d.id).len(),
        users["Resources"].clone(),
        groups["Resources"].clone(),
    )
}

/// The routes naming a user or a group by id, with a body where they take one.
fn by_id_routes(user: &str, group: &str, member: &str) -> Vec<(Method, String, Option<Value>)> {
    let title = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                       "Operations": [{"op": "replace", "path": "title", "value": "x"}]});
    let group_put =
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "taken"});
    vec![
        (Method::GET, format!("/Users/{user}"), None),
        (
            Method::PUT,
            format!("/Users/{user}"),
            Some(user_body("b@acme.test")),
        ),
        (Method::PATCH, format!("/Users/{user}"), Some(title)),
        (Method::DELETE, format!("/Users/{user}"), None),
        (Method::GET, format!("/Groups/{group}"), None),
        (Method::PUT, format!("/Groups/{group}"), Some(group_put)),
        (
            Method::PATCH,
            format!("/Groups/{group}"),
            Some(patch_members("add", member)),
        ),
        (Method::DELETE, format!("/Groups/{group}"), None),
    ]
}

fn patch_members(op: &str, value: &str) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
           "Operations": [{"op": op, "path": "members", "value": [{"value": value}]}]})
}

#[test]
fn another_tenants_ids_reach_nothing_and_change_nothing() {
    let s = Server::start();
    let a = s.onboard("okta scim v2.0");
    let b = s.onboard("azure scim v2.0");
    let ids = |d: &Dir, tag: &str| {
        let mut u = user_body(&format!("{tag}@acme.test"));
        u["externalId"] = json!(format!("ext-{tag}"));
        let (st, _, u) = s.scim(d, Method::POST, "/Users", Some(u));
        assert_eq!(st, 201, "{u}");
        let uid = u["id"].as_str().unwrap().to_string();
        let (st, _, g) = s.scim(
            d,
            Method::POST,
            "/Groups",
            Some(
                json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                        "displayName": format!("g-{tag}"), "externalId": format!("gext-{tag}"),
                        "members": [{"value": uid}]}),
            ),
        );
        assert_eq!(st, 201, "{g}");
        (uid, g["id"].as_str().unwrap().to_string())
    };
    let (ua, ga) = ids(&a, "a");
    let (ub, gb) = ids(&b, "b");
    let (st, mb) = s.api(
        Method::POST,
        &format!("/organizations/{}/role_mappings", b.org),
        Some(json!({"group_id": gb, "role_slug": "admin"})),
    );
    assert_eq!(st, 201, "{mb}");
    let mid = mb["id"].as_str().unwrap().to_string();
    let before = (state(&s, &a), state(&s, &b));

    let group_put =
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "taken"});
    // A's token, B's ids in the path: 404
    let by_id = by_id_routes(&ub, &gb, &ua);
    for (m, path, body) in by_id.clone() {
        let (st, _, e) = s.scim(&a, m.clone(), &path, body);
        assert_scim_error(st, &e, 404, None);
        assert!(!e.to_string().contains("b@acme.test"), "{m} {path}: {e}");
    }
    // B's user as a member of A's groups: 400, nothing applied
    for (m, path, body) in [
        (
            Method::PATCH,
            format!("/Groups/{ga}"),
            patch_members("add", &ub),
        ),
        (
            Method::PUT,
            format!("/Groups/{ga}"),
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "g-a",
                   "members": [{"value": ua}, {"value": ub}]}),
        ),
        (
            Method::POST,
            "/Groups".to_string(),
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "new",
                   "members": [{"value": ub}]}),
        ),
        (
            Method::PATCH,
            format!("/Groups/{ga}"),
            patch_members("replace", &gb),
        ),
    ] {
        let (st, _, e) = s.scim(&a, m.clone(), &path, Some(body));
        assert_scim_error(st, &e, 400, Some("invalidValue"));
    }
    // removing B's user from A's group: a successful no-op (IdPs retry)
    let (st, _, e) = s.scim(
        &a,
        Method::PATCH,
        &format!("/Groups/{ga}"),
        Some(patch_members("remove", &ub)),
    );
    assert!(st == 200 || st == 204, "{e}");
    // B's ids in filters and searches: nothing found
    for q in [
        format!("/Users?filter=id%20eq%20%22{ub}%22"),
        "/Users?filter=userName%20eq%20%22b%40acme.test%22".to_string(),
        "/Users?filter=externalId%20eq%20%22ext-b%22".to_string(),
        format!("/Groups?filter=id%20eq%20%22{gb}%22"),
        "/Groups?filter=displayName%20eq%20%22g-b%22".to_string(),
        format!("/Groups?filter=members.value%20eq%20%22{ub}%22"),
    ] {
        let (st, _, l) = s.scim(&a, Method::GET, &q, None);
        assert_eq!(st, 200, "{q}: {l}");
        assert_eq!(l["totalResults"], 0, "{q}: {l}");
    }
    for path in ["/.search", "/Users/.search", "/Groups/.search"] {
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                          "filter": format!("id eq \"{ub}\" or id eq \"{gb}\"")});
        let (st, _, l) = s.scim(&a, Method::POST, path, Some(body));
        assert_eq!(st, 200, "{path}: {l}");
        assert_eq!(l["totalResults"], 0, "{path}: {l}");
    }
    // A's token on every route under B's URL: 401
    let a_on_b = Dir {
        id: b.id.clone(),
        org: b.org.clone(),
        token: a.token.clone(),
        base: b.base.clone(),
    };
    for (m, path, body) in [
        (Method::GET, "/Users".to_string(), None),
        (
            Method::POST,
            "/Users".to_string(),
            Some(user_body("x@acme.test")),
        ),
        (Method::GET, "/Groups".to_string(), None),
        (Method::POST, "/Groups".to_string(), Some(group_put)),
        (
            Method::POST,
            "/.search".to_string(),
            Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]})),
        ),
        (Method::GET, "/ServiceProviderConfig".to_string(), None),
        (Method::GET, "/ResourceTypes".to_string(), None),
        (Method::GET, "/Schemas".to_string(), None),
    ]
    .into_iter()
    .chain(by_id)
    {
        let (st, _, e) = s.scim(&a_on_b, m.clone(), &path, body);
        assert_scim_error(st, &e, 401, None);
    }

    // the vendor API: organization-scoped routes given the other organization's ids
    let (_, toks) = s.api(Method::GET, &format!("/directories/{}/tokens", b.id), None);
    let tb = toks["data"][0]["id"].as_str().unwrap().to_string();
    let (st, _) = s.api(
        Method::DELETE,
        &format!("/directories/{}/tokens/{tb}", a.id),
        None,
    );
    assert_eq!(st, 404);
    let (_, toks_a) = s.api(Method::GET, &format!("/directories/{}/tokens", a.id), None);
    assert!(!toks_a.to_string().contains(&tb));
    let (st, _) = s.api(
        Method::DELETE,
        &format!("/organizations/{}/role_mappings/{mid}", a.org),
        None,
    );
    assert_eq!(st, 404);
    let (st, e) = s.api(
        Method::POST,
        &format!("/organizations/{}/role_mappings", a.org),
        Some(json!({"group_id": gb, "role_slug": "admin"})),
    );
    assert!(st == 404 || st == 422, "{st} {e}");
    let (_, maps_a) = s.api(
        Method::GET,
        &format!("/organizations/{}/role_mappings", a.org),
        None,
    );
    assert_eq!(maps_a["data"].as_array().unwrap().len(), 0, "{maps_a}");
    // reads of A filtered by B's ids find nothing of B
    for q in [
        format!("/directory_users?directory={}&group={gb}", a.id),
        format!("/directory_groups?directory={}&user={ub}", a.id),
        format!("/directory_users?directory={}&after={ub}", a.id),
        format!("/directory_groups?directory={}&before={gb}", a.id),
    ] {
        let (st, v) = s.api(Method::GET, &q, None);
        assert!(st == 200 || st == 422, "{q}: {st} {v}");
        let t = v.to_string();
        assert!(!t.contains(&ub) && !t.contains(&gb), "{q}: {v}");
    }
    // no state of A or B changed, B's mapping included
    let (_, maps_b) = s.api(
        Method::GET,
        &format!("/organizations/{}/role_mappings", b.org),
        None,
    );
    assert_eq!(maps_b["data"].as_array().unwrap().len(), 1, "{maps_b}");
    let after = (state(&s, &a), state(&s, &b));
    assert_eq!(after.0, before.0, "A changed");
    assert_eq!(after.1, before.1, "B changed");
    // B's token still works
    assert_eq!(s.scim(&b, Method::GET, "/Users", None).0, 200);
}
