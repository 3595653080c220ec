//! WorkOS objects as snapshots, and list cursors with WorkOS semantics.

use super::*;

#[test]
fn workos_shapes() {
    let s = Server::start();
    let d = s.onboard("okta scim v2.0");
    let (ids, gid) = seed(&s, &d, 2);
    let get = |path: &str| {
        let (st, v) = s.api(Method::GET, path, None);
        assert_eq!(st, 200, "{path}: {v}");
        v
    };
    let dir = get(&format!("/directories/{}", d.id));
    let user = get(&format!("/directory_users/{}", ids[0]));
    let group = get(&format!("/directory_groups/{gid}"));
    let evs = s.events(&d.id);
    let event = |name: &str| evs.iter().find(|e| e["event"] == name).unwrap().clone();
    let (added, created) = (event("dsync.group.user_added"), event("dsync.user.created"));
    assert!(added["id"].as_str().unwrap().starts_with("event_"));
    let labels = [
        (d.id.as_str(), "directory"),
        (d.org.as_str(), "organization"),
        (ids[0].as_str(), "user0"),
        (ids[1].as_str(), "user1"),
        (gid.as_str(), "group"),
    ];
    snapshot_settings(&labels).bind(|| {
        // directory (WIRE-COMPAT §4, REST form, with its counts)
        insta::assert_json_snapshot!("objects_directory", dir);
        // directory_user (§5) with its groups
        insta::assert_json_snapshot!("objects_directory_user", user);
        // directory_group (§6)
        insta::assert_json_snapshot!("objects_directory_group", group);
        // event envelope (§3) and the membership payload (§2)
        insta::assert_json_snapshot!("objects_event_user_added", added);
        insta::assert_json_snapshot!("objects_event_user_created", created);
    });
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
