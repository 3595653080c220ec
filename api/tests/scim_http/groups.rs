//! Groups: If-Match on deletes and PATCHes, PUT as a membership diff, the order of removal events.

use super::*;

/// Writes that answer from what they wrote (a DELETE, a group PATCH answered with 204)
/// keep RFC 7644 §3.14 on the awaited path: a stale `If-Match` is a 412 that changes
/// nothing, a matching one applies, and a DELETE of a user already gone is a 404.
#[test]
fn deletes_and_group_patches_honour_if_match() {
    let s = Server::start();
    let d = s.onboard("okta scim v2.0");
    let (_, _, u) = s.scim(&d, Method::POST, "/Users", Some(user_body("ifm@x.test")));
    let uid = u["id"].as_str().unwrap().to_string();
    let g = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "G", "members": [{"value": uid}]});
    let (_, _, g) = s.scim(&d, Method::POST, "/Groups", Some(g));
    let gid = g["id"].as_str().unwrap().to_string();
    let send = |method: Method, path: &str, etag: &str, body: Option<Value>| {
        let mut r = s
            .client
            .request(method, format!("{}{path}", d.base))
            .bearer_auth(&d.token)
            .header("If-Match", etag);
        if let Some(b) = body {
            r = r
                .header("Content-Type", "application/scim+json")
                .body(b.to_string());
        }
        let r = r.send().unwrap();
        let st = r.status().as_u16();
        let etag = r
            .headers()
            .get("etag")
            .map(|v| v.to_str().unwrap().to_string());
        (st, etag, r.text().unwrap())
    };
    let remove = patch(json!([{"op": "remove", "path": format!("members[value eq \"{uid}\"]")}]));
    let (st, _, body) = send(
        Method::PATCH,
        &format!("/Groups/{gid}"),
        "W/\"999\"",
        Some(remove.clone()),
    );
    assert_eq!(st, 412, "{body}");
    let (_, _, now) = s.scim(&d, Method::GET, &format!("/Groups/{gid}"), None);
    assert_eq!(
        now["members"].as_array().unwrap().len(),
        1,
        "a refused PATCH changes nothing"
    );
    let version = now["meta"]["version"].as_str().unwrap().to_string();
    let (st, etag, _) = send(
        Method::PATCH,
        &format!("/Groups/{gid}"),
        &version,
        Some(remove),
    );
    assert_eq!(st, 204);
    let (_, _, now) = s.scim(&d, Method::GET, &format!("/Groups/{gid}"), None);
    assert!(
        now.get("members")
            .is_none_or(|m| m.as_array().unwrap().is_empty()),
        "{now}"
    );
    assert_eq!(
        etag.as_deref(),
        now["meta"]["version"].as_str(),
        "the 204's ETag is the new version"
    );

    let (st, _, body) = send(Method::DELETE, &format!("/Users/{uid}"), "W/\"999\"", None);
    assert_eq!(st, 412, "{body}");
    let (st, _, _) = s.scim(&d, Method::GET, &format!("/Users/{uid}"), None);
    assert_eq!(st, 200, "a refused DELETE deletes nothing");
    let (st, _, _) = send(
        Method::DELETE,
        &format!("/Users/{uid}"),
        u["meta"]["version"].as_str().unwrap(),
        None,
    );
    assert_eq!(st, 204);
    let (st, _, b) = s.scim(&d, Method::DELETE, &format!("/Users/{uid}"), None);
    assert_scim_error(st, &b, 404, None);
}

#[test]
fn group_put_is_a_membership_diff_and_deletes_emit_removals_first() {
    let s = Server::start();
    let d = s.onboard("pingfederate scim v2.0");
    let mut ids = Vec::new();
    for i in 0..3 {
        let (_, _, u) = s.scim(
            &d,
            Method::POST,
            "/Users",
            Some(user_body(&format!("m{i}@x.test"))),
        );
        ids.push(u["id"].as_str().unwrap().to_string());
    }
    let g = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "G", "members": [{"value": ids[0]}, {"value": ids[1]}]});
    let (_, _, g) = s.scim(&d, Method::POST, "/Groups", Some(g));
    let gid = g["id"].as_str().unwrap().to_string();
    let put = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "G", "members": [{"value": ids[1]}, {"value": ids[2]}]});
    let (st, _, _) = s.scim(&d, Method::PUT, &format!("/Groups/{gid}"), Some(put));
    assert_eq!(st, 200);
    s.scim(&d, Method::DELETE, &format!("/Users/{}", ids[1]), None);
    s.scim(&d, Method::DELETE, &format!("/Groups/{gid}"), None);
    let evs: Vec<(String, String)> = s
        .events(&d.id)
        .into_iter()
        .filter(|e| {
            e["event"].as_str().unwrap().starts_with("dsync.group")
                || e["event"] == "dsync.user.deleted"
        })
        .map(|e| {
            let who = e["data"]["user"]["id"]
                .as_str()
                .or(e["data"]["id"].as_str())
                .unwrap_or("")
                .to_string();
            (e["event"].as_str().unwrap().to_string(), who)
        })
        .collect();
    let expect = vec![
        ("dsync.group.created".to_string(), gid.clone()),
        ("dsync.group.user_added".into(), ids[0].clone()),
        ("dsync.group.user_added".into(), ids[1].clone()),
        ("dsync.group.user_removed".into(), ids[0].clone()),
        ("dsync.group.user_added".into(), ids[2].clone()),
        ("dsync.group.user_removed".into(), ids[1].clone()),
        ("dsync.user.deleted".into(), ids[1].clone()),
        ("dsync.group.user_removed".into(), ids[2].clone()),
        ("dsync.group.deleted".into(), gid.clone()),
    ];
    assert_eq!(evs, expect);
    // sequences are contiguous per directory
    let seqs: Vec<i64> = s
        .events(&d.id)
        .iter()
        .map(|e| e["sequence"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
}
