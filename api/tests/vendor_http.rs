//! The vendor API: WorkOS wire shapes (docs/WIRE-COMPAT.md), cursors, the events API
//! with its three `events` encodings and long poll, snapshots, role and attribute
//! mappings, directory deletion, and multi-instance behaviour over Redis.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use reqwest::Method;
use serde_json::{json, Value};

fn seed(s: &Server, d: &Dir, n: usize) -> (Vec<String>, String) {
    let mut ids = Vec::new();
    for i in 0..n {
        let mut b = user_body(&format!("user{i:03}@acme.test"));
        b["externalId"] = json!(format!("idp-{i}"));
        b["title"] = json!("Engineer");
        b["schemas"] = json!([
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        ]);
        b["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"] =
            json!({"department": "R&D", "employeeNumber": format!("{i}")});
        let (st, _, u) = s.scim(d, Method::POST, "/Users", Some(b));
        assert_eq!(st, 201, "{u}");
        ids.push(u["id"].as_str().unwrap().to_string());
    }
    let members: Vec<Value> = ids.iter().take(2).map(|i| json!({"value": i})).collect();
    let (st, _, g) = s.scim(d, Method::POST, "/Groups", Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Developers", "externalId": "g-1", "members": members})));
    assert_eq!(st, 201, "{g}");
    (ids, g["id"].as_str().unwrap().to_string())
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

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

fn event_names_of(v: &Value) -> Vec<String> {
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn events_accept_all_three_encodings_and_page_gap_free() {
    let s = Server::start();
    let d = s.onboard("okta scim v2.0");
    seed(&s, &d, 3);
    let base = format!("/events?directory_id={}&order=asc&limit=100", d.id);
    let (_, a) = s.api(
        Method::GET,
        &format!("{base}&events=dsync.user.created,dsync.group.created"),
        None,
    );
    let (_, b) = s.api(
        Method::GET,
        &format!("{base}&events=dsync.user.created%2Cdsync.group.created"),
        None,
    );
    let (_, c) = s.api(
        Method::GET,
        &format!("{base}&events[]=dsync.user.created&events[]=dsync.group.created"),
        None,
    );
    let (_, e) = s.api(
        Method::GET,
        &format!("{base}&events%5B%5D=dsync.user.created&events%5B%5D=dsync.group.created"),
        None,
    );
    let expect = vec![
        "dsync.user.created",
        "dsync.user.created",
        "dsync.user.created",
        "dsync.group.created",
    ];
    for v in [&a, &b, &c, &e] {
        assert_eq!(event_names_of(v), expect, "{v}");
    }
    assert_eq!(
        s.api(Method::GET, &format!("{base}&events=dsync.nope"), None)
            .0,
        422
    );
    // `order=normal` (WorkOS: after fetches newer) reads forward like asc; `before` is refused
    let (_, n) = s.api(
        Method::GET,
        &format!("/events?directory_id={}&order=normal&limit=100", d.id),
        None,
    );
    assert_eq!(n["data"].as_array().unwrap().len(), s.events(&d.id).len());
    assert_eq!(
        s.api(
            Method::GET,
            &format!("/events?directory_id={}&before=event_x", d.id),
            None
        )
        .0,
        422
    );
    // paging one by one equals one page; list_metadata.after is the last id
    let all = s.events(&d.id);
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut q = format!("/events?directory_id={}&order=asc&limit=1", d.id);
        if let Some(a) = &after {
            q.push_str(&format!("&after={a}"));
        }
        let (_, v) = s.api(Method::GET, &q, None);
        let data = v["data"].as_array().unwrap().clone();
        if data.is_empty() {
            break;
        }
        assert_eq!(v["list_metadata"]["after"], data[0]["id"]);
        after = data[0]["id"].as_str().map(str::to_string);
        seen.push(data[0].clone());
    }
    assert_eq!(seen, all);
    // organization-wide stream and range filters
    // the organization-wide stream is ordered across directories below the commit
    // horizon; on a shared PostgreSQL cluster other transactions can hold it back
    // briefly, so wait for it (never longer than 10 s)
    let t0 = Instant::now();
    let o = loop {
        let (_, o) = s.api(
            Method::GET,
            &format!("/events?organization_id={}&order=asc&limit=100", d.org),
            None,
        );
        if o["data"].as_array().unwrap().len() >= all.len()
            || t0.elapsed() > Duration::from_secs(10)
        {
            break o;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(o["data"].as_array().unwrap().len(), all.len());
    let (_, r) = s.api(
        Method::GET,
        &format!(
            "/events?directory_id={}&range_start=2000-01-01T00:00:00Z&limit=100",
            d.id
        ),
        None,
    );
    assert_eq!(r["data"].as_array().unwrap().len(), all.len());
    let (_, r) = s.api(
        Method::GET,
        &format!(
            "/events?directory_id={}&range_end=2000-01-01T00:00:00Z",
            d.id
        ),
        None,
    );
    assert!(r["data"].as_array().unwrap().is_empty());
    assert_eq!(
        s.api(Method::GET, "/events?after=event_doesnotexist", None)
            .0,
        422
    );
}

#[test]
fn long_poll_returns_as_soon_as_an_event_exists() {
    let s = Server::start();
    let d = s.onboard("okta scim v2.0");
    s.scim(&d, Method::GET, "/Users", None); // activation
    let last = s.events(&d.id).last().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let t0 = Instant::now();
    let url = format!(
        "{}/events?directory_id={}&after={last}&wait=20",
        s.base, d.id
    );
    let client = s.client.clone();
    let poll = std::thread::spawn(move || {
        let r = client.get(url).bearer_auth(API_KEY).send().unwrap();
        (Instant::now(), r.json::<Value>().unwrap())
    });
    std::thread::sleep(Duration::from_millis(700));
    let wrote = Instant::now();
    s.scim(&d, Method::POST, "/Users", Some(user_body("late@x.test")));
    let (done, v) = poll.join().unwrap();
    assert_eq!(event_names_of(&v), vec!["dsync.user.created"]);
    assert!(done >= wrote, "the poll waited for the write");
    assert!(
        done.duration_since(t0) < Duration::from_secs(10),
        "returned long before the 20 s wait"
    );
    // nothing to wait for: returns empty after the wait
    let t = Instant::now();
    let after = v["list_metadata"]["after"].as_str().unwrap();
    let (st, v) = s.api(
        Method::GET,
        &format!("/events?directory_id={}&after={after}&wait=1", d.id),
        None,
    );
    assert_eq!(st, 200);
    assert!(v["data"].as_array().unwrap().is_empty());
    assert!(t.elapsed() >= Duration::from_millis(900));
    assert_eq!(s.api(Method::GET, "/events?wait=31", None).0, 422);
}

#[test]
fn snapshot_hands_off_to_the_event_stream_exactly() {
    let s = Server::start();
    let d = s.onboard("azure scim v2.0");
    let (ids, gid) = seed(&s, &d, 5);
    let r = s
        .client
        .get(format!("{}/directories/{}/snapshot", s.base, d.id))
        .bearer_auth(API_KEY)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/x-ndjson"));
    let lines: Vec<Value> = r
        .text()
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["object"], "snapshot");
    let cursor = lines[0]["cursor"].as_str().unwrap().to_string();
    let end = lines.last().unwrap();
    assert_eq!(end["object"], "snapshot_end");
    assert_eq!(
        (
            end["users"].as_i64(),
            end["groups"].as_i64(),
            end["memberships"].as_i64()
        ),
        (Some(5), Some(1), Some(2))
    );
    // state from the snapshot, then replay the events after its cursor
    let mut users: std::collections::BTreeSet<String> = lines
        .iter()
        .filter(|l| l["object"] == "directory_user")
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect();
    let mut members: std::collections::BTreeSet<(String, String)> = lines
        .iter()
        .filter(|l| l["object"] == "directory_group_membership")
        .map(|l| {
            (
                l["group_id"].as_str().unwrap().to_string(),
                l["user_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // more writes after the snapshot
    s.scim(&d, Method::DELETE, &format!("/Users/{}", ids[0]), None);
    s.scim(
        &d,
        Method::PATCH,
        &format!("/Groups/{gid}"),
        Some(patch(
            json!([{"op": "add", "path": "members", "value": [{"value": ids[4]}]}]),
        )),
    );
    let (_, _, nu) = s.scim(&d, Method::POST, "/Users", Some(user_body("new@x.test")));
    let (_, v) = s.api(
        Method::GET,
        &format!(
            "/events?directory_id={}&after={cursor}&order=asc&limit=100",
            d.id
        ),
        None,
    );
    for e in v["data"].as_array().unwrap() {
        let data = &e["data"];
        match e["event"].as_str().unwrap() {
            "dsync.user.created" => {
                users.insert(data["id"].as_str().unwrap().to_string());
            }
            "dsync.user.deleted" => {
                users.remove(data["id"].as_str().unwrap());
            }
            "dsync.group.user_added" => {
                members.insert((
                    data["group"]["id"].as_str().unwrap().to_string(),
                    data["user"]["id"].as_str().unwrap().to_string(),
                ));
            }
            "dsync.group.user_removed" => {
                members.remove(&(
                    data["group"]["id"].as_str().unwrap().to_string(),
                    data["user"]["id"].as_str().unwrap().to_string(),
                ));
            }
            _ => {}
        }
    }
    let mut want_users: std::collections::BTreeSet<String> = ids[1..].iter().cloned().collect();
    want_users.insert(nu["id"].as_str().unwrap().to_string());
    assert_eq!(users, want_users);
    let want_members: std::collections::BTreeSet<(String, String)> =
        [ids[1].clone(), ids[4].clone()]
            .into_iter()
            .map(|u| (gid.clone(), u))
            .collect();
    assert_eq!(members, want_members);
    assert_eq!(
        s.client
            .get(format!("{}/directories/directory_nope/snapshot", s.base))
            .bearer_auth(API_KEY)
            .send()
            .unwrap()
            .status()
            .as_u16(),
        404
    );
}

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
    assert_eq!(ex["role"], json!({"slug": "admin"}));
    assert_eq!(ex["roles"][0]["granted_by"][0]["group_id"], admins.as_str());
    assert_eq!(ex["roles"][0]["granted_by"][0]["group_name"], "Admins");
    assert_eq!(ex["roles"][1]["granted_by"][0]["group_id"], dev.as_str());
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
    let last = evs.last().unwrap();
    assert_eq!(last["event"], "dsync.deleted");
    assert_eq!(last["data"]["object"], "directory");
    assert_eq!(last["data"]["state"], "active", "the state before deletion");
    assert!(last["data"].get("domains").is_none() && last["data"].get("external_key").is_none());
    assert_eq!(s.scim(&d, Method::GET, "/Users", None).0, 401);
    assert_eq!(
        s.api(Method::GET, &format!("/directories/{}", d.id), None)
            .0,
        404
    );
}

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
fn instances_share_revocations_and_wake_ups_through_redis() {
    // Two instances need a shared PostgreSQL; the SQLite run (no test variables) has
    // none and leaves this test to the PostgreSQL + Redis run, where both are required.
    if scimgate_core::testing::postgres_url().is_none() {
        return;
    }
    let Some(redis) = Server::with_redis() else {
        panic!("SCIMGATE_TEST_DATABASE_URL is set: SCIMGATE_TEST_REDIS_URL must be set too");
    };
    let db = std::sync::Arc::new(scimgate_core::testing::TestDatabase::new());
    let env: Vec<(&str, &str)> = redis.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let a = Server::start_on(db.clone(), &env);
    let b = Server::start_on(db, &env);
    let d = a.onboard("okta scim v2.0");
    // warm B's verification cache, then revoke on A: B refuses within a second
    assert_eq!(
        b.req(
            Method::GET,
            &format!("/scim/v2/{}/Users", d.id),
            &d.token,
            None
        )
        .status()
        .as_u16(),
        200
    );
    let (_, toks) = a.api(Method::GET, &format!("/directories/{}/tokens", d.id), None);
    let tid = toks["data"][0]["id"].as_str().unwrap();
    let t0 = Instant::now();
    assert_eq!(
        a.api(
            Method::DELETE,
            &format!("/directories/{}/tokens/{tid}", d.id),
            None
        )
        .0,
        204
    );
    loop {
        let st = b
            .req(
                Method::GET,
                &format!("/scim/v2/{}/Users", d.id),
                &d.token,
                None,
            )
            .status()
            .as_u16();
        if st == 401 {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(1),
            "revocation not effective on B within 1 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // a long poll on B wakes when A commits
    let (_, t2) = a.api(
        Method::POST,
        &format!("/directories/{}/tokens", d.id),
        Some(json!({"name": "t2"})),
    );
    let d2 = Dir {
        token: t2["bearer_token"].as_str().unwrap().to_string(),
        ..d
    };
    let last = a.events(&d2.id).last().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let url = format!(
        "{}/events?directory_id={}&after={last}&wait=20",
        b.base, d2.id
    );
    let client = b.client.clone();
    let poll = std::thread::spawn(move || {
        client
            .get(url)
            .bearer_auth(API_KEY)
            .send()
            .unwrap()
            .json::<Value>()
            .unwrap()
    });
    std::thread::sleep(Duration::from_millis(500));
    let t1 = Instant::now();
    a.scim(&d2, Method::POST, "/Users", Some(user_body("x@x.test")));
    let v = poll.join().unwrap();
    assert_eq!(event_names_of(&v), vec!["dsync.user.created"]);
    assert!(t1.elapsed() < Duration::from_secs(3));
}
