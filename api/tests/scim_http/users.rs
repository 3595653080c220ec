//! Users: lifecycle (meta, ETag, Location), userName uniqueness, PUT and `active`.

use super::*;

#[test]
fn user_lifecycle_with_meta_etag_location_and_content_type() {
    let s = Server::start();
    let d = s.onboard("okta scim v2.0");
    let before = write_batches(&s);
    let (st, h, u) = s.scim(&d, Method::POST, "/Users", Some(user_body("ada@acme.test")));
    assert_eq!(st, 201, "{u}");
    let id = u["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("directory_user_"));
    assert_eq!(h["content-type"], "application/scim+json");
    assert_eq!(
        h["location"].to_str().unwrap(),
        format!("{}/Users/{id}", d.base)
    );
    assert_eq!(u["meta"]["location"], format!("{}/Users/{id}", d.base));
    assert_eq!(
        h["etag"].to_str().unwrap(),
        u["meta"]["version"].as_str().unwrap()
    );
    // the representation (RFC 7643 §4.1, `meta` §3.1)
    scim_settings(&d, &[(id.as_str(), "ada")]).bind(|| {
        insta::assert_json_snapshot!("users_created", u);
    });

    let (st, _, got) = s.scim(&d, Method::GET, &format!("/Users/{id}"), None);
    assert_eq!(st, 200);
    assert_eq!(got["userName"], "ada@acme.test");
    assert_eq!(got["name"]["givenName"], "Ada");

    // stale If-Match → 412 and nothing changes
    let r = s
        .client
        .patch(format!("{}/Users/{id}", d.base))
        .bearer_auth(&d.token)
        .header("If-Match", "W/\"999\"")
        .header("Content-Type", "application/json")
        .body(patch(json!([{"op": "replace", "path": "title", "value": "x"}])).to_string())
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 412);
    let b: Value = r.json().unwrap();
    assert_eq!(b["schemas"][0], ERROR_SCHEMA);
    // matching If-Match → applied
    let etag = got["meta"]["version"].as_str().unwrap().to_string();
    let r = s
        .client
        .patch(format!("{}/Users/{id}", d.base))
        .bearer_auth(&d.token)
        .header("If-Match", etag)
        .header("Content-Type", "application/json")
        .body(patch(json!([{"op": "replace", "path": "title", "value": "Countess"}])).to_string())
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let b: Value = r.json().unwrap();
    assert_eq!(b["title"], "Countess");
    assert_ne!(b["meta"]["version"], got["meta"]["version"]);

    let (st, _, _) = s.scim(&d, Method::DELETE, &format!("/Users/{id}"), None);
    assert_eq!(st, 204);
    let (st, _, b) = s.scim(&d, Method::GET, &format!("/Users/{id}"), None);
    assert_scim_error(st, &b, 404, None);

    // /metrics counts the write batches: the directory's activation (its first
    // successful request), the POST, the applied PATCH and the DELETE committed whole;
    // the PATCH refused by If-Match committed nothing
    let after = write_batches(&s);
    assert_eq!(
        std::array::from_fn::<u64, 4, _>(|i| after[i] - before[i]),
        [4, 0, 1, 5],
        "optimistic, per_write, uncommitted batches, and writes"
    );
}

/// The write-batch counters of `/metrics`: batches by outcome (optimistic, per_write,
/// uncommitted), then writes.
fn write_batches(s: &Server) -> [u64; 4] {
    let metrics = s
        .client
        .get(format!("{}/metrics", s.base))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let value = |name: &str| -> u64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {metrics}"))
    };
    [
        value("scimgate_write_batches_total{outcome=\"optimistic\"}"),
        value("scimgate_write_batches_total{outcome=\"per_write\"}"),
        value("scimgate_write_batches_total{outcome=\"uncommitted\"}"),
        value("scimgate_write_batch_writes_total"),
    ]
}

#[test]
fn username_unique_case_insensitively_and_stored_as_sent() {
    let s = Server::start();
    let d = s.onboard("generic scim v2.0");
    let (st, _, u) = s.scim(
        &d,
        Method::POST,
        "/Users",
        Some(user_body("BJensen@Example.com")),
    );
    assert_eq!(st, 201);
    assert_eq!(u["userName"], "BJensen@Example.com");
    let (st, _, b) = s.scim(
        &d,
        Method::POST,
        "/Users",
        Some(user_body("bjensen@example.COM")),
    );
    assert_scim_error(st, &b, 409, Some("uniqueness"));
    let (st, _, l) = s.scim(
        &d,
        Method::GET,
        "/Users?filter=userName%20eq%20%22BJENSEN@EXAMPLE.COM%22",
        None,
    );
    assert_eq!(st, 200);
    assert_eq!(l["totalResults"], 1);
    // another directory may use the same userName
    let d2 = s.onboard("generic scim v2.0");
    let (st, _, _) = s.scim(
        &d2,
        Method::POST,
        "/Users",
        Some(user_body("BJensen@Example.com")),
    );
    assert_eq!(st, 201);
}

#[test]
fn okta_put_keeps_external_id_and_active_when_omitted() {
    let s = Server::start();
    let d = s.onboard("okta scim v2.0");
    let mut body = user_body("put@x.test");
    body["externalId"] = json!("00u-okta");
    let (_, _, u) = s.scim(&d, Method::POST, "/Users", Some(body));
    let id = u["id"].as_str().unwrap().to_string();
    let put = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": id, "userName": "put@x.test",
                     "name": {"givenName": "Another", "familyName": "User"}, "groups": [], "password": "secret!",
                     "meta": {"resourceType": "User"}});
    let (st, _, got) = s.scim(&d, Method::PUT, &format!("/Users/{id}"), Some(put.clone()));
    assert_eq!(st, 200, "{got}");
    assert_eq!(got["externalId"], "00u-okta");
    assert_eq!(got["active"], true);
    assert!(got.get("password").is_none());
    let mut deact = put;
    deact["active"] = json!(false);
    let (_, _, got) = s.scim(&d, Method::PUT, &format!("/Users/{id}"), Some(deact));
    assert_eq!(got["active"], false);
    let evs = s.events(&d.id);
    let last = evs.last().unwrap();
    assert_eq!(last["event"], "dsync.user.updated");
    assert_eq!(last["data"]["state"], "inactive");
    assert_eq!(last["data"]["previous_attributes"]["state"], "active");
}

#[test]
fn removing_active_is_not_a_reactivation_and_member_display_is_kept() {
    let s = Server::start();
    let d = s.onboard("generic scim v2.0");
    let mut body = user_body("leaver@x.test");
    body["active"] = json!(false);
    let (_, _, u) = s.scim(&d, Method::POST, "/Users", Some(body));
    let id = u["id"].as_str().unwrap().to_string();
    let before = s.events(&d.id).len();
    // RFC 7644 §3.5.2.2: a removed attribute is unassigned — not `true`
    let (st, _, got) = s.scim(
        &d,
        Method::PATCH,
        &format!("/Users/{id}"),
        Some(patch(json!([{"op": "remove", "path": "active"}]))),
    );
    assert_eq!(st, 200, "{got}");
    assert!(got.get("active").is_none(), "{got}");
    let (_, v) = s.api(Method::GET, &format!("/directory_users/{id}"), None);
    assert_eq!(v["state"], "inactive", "the leaver stays inactive");
    assert!(s.events(&d.id)[before..]
        .iter()
        .all(|e| e["data"]["state"] != "active"));
    // a display the client sets for a member is what it reads back (RFC 7643 §4.2)
    let (_, _, m) = s.scim(&d, Method::POST, "/Users", Some(user_body("member@x.test")));
    let mid = m["id"].as_str().unwrap().to_string();
    let (_, _, g) = s.scim(
        &d,
        Method::POST,
        "/Groups",
        Some(json!({"displayName": "G"})),
    );
    let gid = g["id"].as_str().unwrap().to_string();
    s.scim(&d, Method::PATCH, &format!("/Groups/{gid}"), Some(patch(json!([{"op": "add", "path": "members", "value": [{"value": mid, "display": "Mem Ber"}]}]))));
    let (_, _, g) = s.scim(&d, Method::GET, &format!("/Groups/{gid}"), None);
    assert_eq!(g["members"][0]["display"], "Mem Ber");
    s.scim(&d, Method::PATCH, &format!("/Groups/{gid}"), Some(patch(json!([{"op": "replace", "path": "members", "value": [{"value": mid, "display": "Renamed"}]}]))));
    let (_, _, g) = s.scim(&d, Method::GET, &format!("/Groups/{gid}"), None);
    assert_eq!(g["members"][0]["display"], "Renamed");
    // the `userName eq` lookup returns the user's groups too (read in the same query)
    let (_, _, l) = s.scim(
        &d,
        Method::GET,
        "/Users?filter=userName%20eq%20%22MEMBER@x.test%22",
        None,
    );
    assert_eq!(l["Resources"][0]["groups"][0]["value"], gid.as_str(), "{l}");
    assert_eq!(l["Resources"][0]["groups"][0]["display"], "G");
    assert_eq!(g["members"].as_array().unwrap().len(), 1);
    // searching at the root (RFC 7644 §3.4.3): Users then Groups, each answering the
    // filter it understands
    let search = |body: serde_json::Value| {
        let (st, _, l) = s.scim(&d, Method::POST, "/.search", Some(body));
        assert_eq!(st, 200, "{l}");
        l
    };
    let all = search(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}));
    assert_eq!(all["totalResults"], 3, "2 users + 1 group: {all}");
    let page = search(json!({"startIndex": 2, "count": 2, "attributes": ["externalId"]}));
    let types: Vec<&str> = page["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(types.len(), 2);
    assert!(types[1].starts_with("directory_group_"), "{page}");
    let users_only = search(json!({"filter": "userName sw \"member\""}));
    assert_eq!(users_only["totalResults"], 1);
    let groups_only = search(json!({"filter": "displayName eq \"G\""}));
    assert_eq!(groups_only["totalResults"], 1);
}
