//! WorkOS objects field by field, and list cursors with WorkOS semantics.

use super::*;

#[test]
fn workos_shapes_field_by_field() {
    let s = Server::start();
    let d = s.onboard("okta scim v2.0");
    let (ids, gid) = seed(&s, &d, 2);
    // directory (WIRE-COMPAT §4, REST form)
    let (st, dir) = s.api(Method::GET, &format!("/directories/{}", d.id), None);
    assert_eq!(st, 200);
    for k in [
        "object",
        "id",
        "organization_id",
        "external_key",
        "type",
        "state",
        "name",
        "domain",
        "created_at",
        "updated_at",
        "metadata",
    ] {
        assert!(dir.get(k).is_some(), "directory lacks {k}: {dir}");
    }
    assert_eq!(dir["object"], "directory");
    assert_eq!(dir["type"], "okta scim v2.0");
    assert_eq!(dir["state"], "linked");
    assert_eq!(dir["domain"], "acme.test");
    assert_eq!(
        dir["metadata"],
        json!({"users": {"active": 2, "inactive": 0}, "groups": 1})
    );
    assert!(dir["created_at"].as_str().unwrap().ends_with('Z'));
    // directory_user (§5), with groups
    let (st, u) = s.api(Method::GET, &format!("/directory_users/{}", ids[0]), None);
    assert_eq!(st, 200);
    for k in [
        "object",
        "id",
        "directory_id",
        "organization_id",
        "idp_id",
        "email",
        "first_name",
        "last_name",
        "emails",
        "username",
        "state",
        "raw_attributes",
        "custom_attributes",
        "created_at",
        "updated_at",
        "groups",
    ] {
        assert!(u.get(k).is_some(), "directory_user lacks {k}: {u}");
    }
    assert_eq!(u["object"], "directory_user");
    assert_eq!(u["idp_id"], "idp-0");
    assert_eq!(u["email"], "user000@acme.test");
    assert_eq!(u["first_name"], "Ada");
    assert_eq!(u["last_name"], "Lovelace");
    assert_eq!(u["username"], "user000@acme.test");
    assert_eq!(u["state"], "active");
    assert_eq!(u["job_title"], "Engineer");
    assert_eq!(
        u["emails"],
        json!([{"primary": true, "type": "work", "value": "user000@acme.test"}])
    );
    assert_eq!(u["custom_attributes"]["department"], "R&D");
    assert_eq!(u["custom_attributes"]["employee_number"], "0");
    assert_eq!(u["custom_attributes"]["job_title"], "Engineer");
    assert_eq!(u["raw_attributes"]["externalId"], "idp-0");
    assert_eq!(
        u["raw_attributes"]["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]
            ["department"],
        "R&D"
    );
    assert_eq!(u["groups"][0]["object"], "directory_group");
    // directory_group (§6)
    let (st, g) = s.api(Method::GET, &format!("/directory_groups/{gid}"), None);
    assert_eq!(st, 200);
    assert_eq!(
        keys(&g),
        vec![
            "created_at",
            "directory_id",
            "id",
            "idp_id",
            "name",
            "object",
            "organization_id",
            "raw_attributes",
            "updated_at"
        ]
    );
    assert_eq!(g["name"], "Developers");
    assert_eq!(g["idp_id"], "g-1");
    // event envelope (§3) and membership payload
    let evs = s.events(&d.id);
    let added = evs
        .iter()
        .find(|e| e["event"] == "dsync.group.user_added")
        .unwrap();
    for k in ["object", "id", "event", "data", "created_at"] {
        assert!(added.get(k).is_some(), "event lacks {k}");
    }
    assert_eq!(added["object"], "event");
    assert!(added["id"].as_str().unwrap().starts_with("event_"));
    assert!(added["sequence"].is_i64());
    assert_eq!(keys(&added["data"]), vec!["directory_id", "group", "user"]);
    assert_eq!(added["data"]["user"]["object"], "directory_user");
    assert_eq!(added["data"]["group"]["object"], "directory_group");
    let created = evs
        .iter()
        .find(|e| e["event"] == "dsync.user.created")
        .unwrap();
    assert_eq!(created["data"]["object"], "directory_user");
    // unknown ids
    assert_eq!(
        s.api(Method::GET, "/directory_users/directory_user_nope", None)
            .0,
        404
    );
    assert_eq!(
        s.api(Method::GET, "/directory_groups/directory_group_nope", None)
            .0,
        404
    );
    // API key required
    assert_eq!(
        s.req(Method::GET, "/directories", "sk_wrong", None)
            .status()
            .as_u16(),
        401
    );
    assert_eq!(
        s.client
            .get(format!("{}/events", s.base))
            .send()
            .unwrap()
            .status()
            .as_u16(),
        401
    );
}

#[test]
fn list_cursors_follow_workos_semantics() {
    let s = Server::start();
    let d = s.onboard("generic scim v2.0");
    let (ids, _) = seed(&s, &d, 7);
    let page = |q: &str| -> (Vec<String>, Value) {
        let (st, v) = s.api(
            Method::GET,
            &format!("/directory_users?directory={}&{q}", d.id),
            None,
        );
        assert_eq!(st, 200, "{v}");
        assert_eq!(v["object"], "list");
        let ids = v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["id"].as_str().unwrap().to_string())
            .collect();
        (ids, v["list_metadata"].clone())
    };
    let mut desc = ids.clone();
    desc.reverse();
    // default order desc, walk with after
    let (p1, m1) = page("limit=3");
    assert_eq!(p1, desc[0..3]);
    assert_eq!(m1["before"], Value::Null);
    let (p2, m2) = page(&format!("limit=3&after={}", m1["after"].as_str().unwrap()));
    assert_eq!(p2, desc[3..6]);
    let (p3, m3) = page(&format!("limit=3&after={}", m2["after"].as_str().unwrap()));
    assert_eq!(p3, desc[6..7]);
    assert_eq!(m3["after"], Value::Null);
    // and back with before
    let (b2, _) = page(&format!(
        "limit=3&before={}",
        m3["before"].as_str().unwrap()
    ));
    assert_eq!(b2, desc[3..6]);
    // asc
    let (a1, am) = page("limit=4&order=asc");
    assert_eq!(a1, ids[0..4]);
    let (a2, _) = page(&format!(
        "limit=4&order=asc&after={}",
        am["after"].as_str().unwrap()
    ));
    assert_eq!(a2, ids[4..7]);
    // limit bounds and bad params
    assert_eq!(
        s.api(
            Method::GET,
            &format!("/directory_users?directory={}&limit=0", d.id),
            None
        )
        .0,
        422
    );
    assert_eq!(
        s.api(
            Method::GET,
            &format!("/directory_users?directory={}&limit=101", d.id),
            None
        )
        .0,
        422
    );
    assert_eq!(
        s.api(
            Method::GET,
            &format!("/directory_users?directory={}&order=sideways", d.id),
            None
        )
        .0,
        422
    );
    assert_eq!(
        s.api(Method::GET, "/directory_users", None).0,
        422,
        "directory or group is required"
    );
    // filters: group, email, idp_id; groups by user
    let (st, v) = s.api(
        Method::GET,
        &format!(
            "/directory_users?directory={}&email=USER003@acme.test",
            d.id
        ),
        None,
    );
    assert_eq!(st, 200);
    assert_eq!(v["data"][0]["id"], ids[3].as_str());
    let (_, v) = s.api(
        Method::GET,
        &format!("/directory_users?directory={}&idp_id=idp-5", d.id),
        None,
    );
    assert_eq!(v["data"][0]["id"], ids[5].as_str());
    let (_, g) = s.api(
        Method::GET,
        &format!("/directory_groups?user={}", ids[1]),
        None,
    );
    let gid = g["data"][0]["id"].as_str().unwrap().to_string();
    let (_, v) = s.api(
        Method::GET,
        &format!("/directory_users?group={gid}&limit=10"),
        None,
    );
    assert_eq!(v["data"].as_array().unwrap().len(), 2);
    let (_, dl) = s.api(
        Method::GET,
        &format!("/directories?organization_id={}", d.org),
        None,
    );
    assert_eq!(dl["data"][0]["id"], d.id.as_str());
}
