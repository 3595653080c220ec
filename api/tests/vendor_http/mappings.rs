//! Group → role mappings and attribute mappings, with the events their changes emit.

use super::*;

#[test]
fn group_role_mappings_give_roles_and_explain_them() {
    let s = Server::start();
    let d = s.onboard("okta scim v2.0");
    let (ids, dev) = seed(&s, &d, 3);
    let (_, _, admins) = s.scim(
        &d,
        Method::POST,
        "/Groups",
        Some(json!({"displayName": "Admins"})),
    );
    let admins = admins["id"].as_str().unwrap().to_string();
    let (st, m1) = s.api(
        Method::POST,
        &format!("/organizations/{}/role_mappings", d.org),
        Some(json!({"group_id": dev, "role_slug": "member", "priority": 1})),
    );
    assert_eq!(st, 201, "{m1}");
    let (st, _) = s.api(
        Method::POST,
        &format!("/organizations/{}/role_mappings", d.org),
        Some(json!({"group_id": admins, "role_slug": "admin", "priority": 10})),
    );
    assert_eq!(st, 201);
    assert_eq!(
        s.api(
            Method::POST,
            &format!("/organizations/{}/role_mappings", d.org),
            Some(json!({"group_id": dev, "role_slug": "member"}))
        )
        .0,
        409
    );
    assert_eq!(
        s.api(
            Method::POST,
            &format!("/organizations/{}/role_mappings", d.org),
            Some(json!({"group_id": dev, "role_slug": "Bad Slug"}))
        )
        .0,
        422
    );
    // the dev members got `member` when the mapping was created
    let (_, u0) = s.api(Method::GET, &format!("/directory_users/{}", ids[0]), None);
    assert_eq!(u0["role"], json!({"slug": "member"}));
    // joining Admins makes admin the role, member still in roles
    s.scim(
        &d,
        Method::PATCH,
        &format!("/Groups/{admins}"),
        Some(patch(
            json!([{"op": "add", "path": "members", "value": [{"value": ids[0]}]}]),
        )),
    );
    let (_, u0) = s.api(Method::GET, &format!("/directory_users/{}", ids[0]), None);
    assert_eq!(u0["role"], json!({"slug": "admin"}));
    assert_eq!(u0["roles"], json!([{"slug": "admin"}, {"slug": "member"}]));
    let last = s.events(&d.id).last().unwrap().clone();
    assert_eq!(last["event"], "dsync.user.updated");
    assert_eq!(
        last["data"]["previous_attributes"]["role"],
        json!({"slug": "member"})
    );
    let (st, ex) = s.api(
        Method::GET,
        &format!("/directory_users/{}/roles/explain", ids[0]),
        None,
    );
    assert_eq!(st, 200);
    let mappings: Vec<(String, &str)> = s
        .api(
            Method::GET,
            &format!("/organizations/{}/role_mappings", d.org),
            None,
        )
        .1["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let slug = if m["role_slug"] == "admin" {
                "admins mapping"
            } else {
                "dev mapping"
            };
            (m["id"].as_str().unwrap().to_string(), slug)
        })
        .collect();
    let mut labels = vec![
        (ids[0].as_str(), "user0"),
        (d.org.as_str(), "organization"),
        (admins.as_str(), "admins"),
        (dev.as_str(), "dev"),
    ];
    labels.extend(mappings.iter().map(|(id, l)| (id.as_str(), *l)));
    snapshot_settings(&labels).bind(|| {
        insta::assert_json_snapshot!("mappings_role_explanation", ex);
    });
    // removing the member mapping drops `member` from everyone who had it
    let mid = m1["id"].as_str().unwrap();
    assert_eq!(
        s.api(
            Method::DELETE,
            &format!("/organizations/{}/role_mappings/{mid}", d.org),
            None
        )
        .0,
        204
    );
    let (_, u1) = s.api(Method::GET, &format!("/directory_users/{}", ids[1]), None);
    assert!(u1.get("role").is_none(), "{u1}");
    let (_, u0) = s.api(Method::GET, &format!("/directory_users/{}", ids[0]), None);
    assert_eq!(u0["roles"], json!([{"slug": "admin"}]));
    let (_, l) = s.api(
        Method::GET,
        &format!("/organizations/{}/role_mappings", d.org),
        None,
    );
    assert_eq!(l["data"].as_array().unwrap().len(), 1);
}

#[test]
fn attribute_mappings_change_custom_attributes_with_events() {
    let s = Server::start();
    let d = s.onboard("okta scim v2.0");
    let (ids, _) = seed(&s, &d, 2);
    let (st, m) = s.api(
        Method::GET,
        &format!("/directories/{}/attribute_mappings", d.id),
        None,
    );
    assert_eq!(st, 200);
    assert_eq!(m["defaults"], true);
    assert!(m["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["key"] == "department"));
    let before = s.events(&d.id).len();
    let body = json!({"mappings": [{"path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "key": "team"}]});
    let (st, m) = s.api(
        Method::PUT,
        &format!("/directories/{}/attribute_mappings", d.id),
        Some(body),
    );
    assert_eq!(st, 200, "{m}");
    let (_, u) = s.api(Method::GET, &format!("/directory_users/{}", ids[0]), None);
    assert_eq!(u["custom_attributes"], json!({"team": "R&D"}));
    let evs = s.events(&d.id);
    assert_eq!(
        evs.len() - before,
        2,
        "one dsync.user.updated per user whose meaning changed"
    );
    assert_eq!(
        evs.last().unwrap()["data"]["previous_attributes"]["custom_attributes"]["department"],
        "R&D"
    );
    // new writes use the new mapping
    let (_, _, nu) = s.scim(&d, Method::POST, "/Users", Some(json!({"userName": "n@x.test", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Ops"}})));
    let (_, u) = s.api(
        Method::GET,
        &format!("/directory_users/{}", nu["id"].as_str().unwrap()),
        None,
    );
    assert_eq!(u["custom_attributes"], json!({"team": "Ops"}));
    let bad = json!({"mappings": [{"path": "title", "key": "bad key"}]});
    assert_eq!(
        s.api(
            Method::PUT,
            &format!("/directories/{}/attribute_mappings", d.id),
            Some(bad)
        )
        .0,
        422
    );
    let (st, m) = s.api(
        Method::PUT,
        &format!("/directories/{}/attribute_mappings", d.id),
        Some(json!({"mappings": null})),
    );
    assert_eq!(st, 200);
    assert_eq!(m["defaults"], true);
}
