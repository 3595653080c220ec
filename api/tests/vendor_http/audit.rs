//! `GET /audit_logs`: every privileged action of the vendor API recorded with its
//! actor, client address, user agent, target and outcome; filters and bad ranges.

use super::*;

#[test]
fn privileged_actions_are_audited_with_who_where_and_outcome() {
    let s = Server::start();
    let d = s.onboard("okta scim v2.0");
    let r = s
        .client
        .post(format!("{}/directories/{}/tokens", s.base, d.id))
        .bearer_auth(API_KEY)
        .header("User-Agent", "audit-test/1.0")
        .header("Content-Type", "application/json")
        .body(json!({"name": "rotation"}).to_string())
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let t: Value = r.json().unwrap();
    let tid = t["id"].as_str().unwrap().to_string();
    let (st, _) = s.api(
        Method::DELETE,
        &format!("/directories/{}/tokens/{tid}", d.id),
        None,
    );
    assert_eq!(st, 204);
    // a failed action is recorded as a failure
    let (st, _) = s.api(
        Method::DELETE,
        "/directories/directory_01HZZZZZZZZZZZZZZZZZZZZZZZ",
        None,
    );
    assert_eq!(st, 404);
    let (st, _) = s.api(Method::DELETE, &format!("/directories/{}", d.id), None);
    assert_eq!(st, 202);

    let (st, page) = s.api(Method::GET, "/audit_logs?order=asc&limit=100", None);
    assert_eq!(st, 200, "{page}");
    assert_eq!(page["object"], "list");
    let data = page["data"].as_array().unwrap();
    let actions: Vec<(&str, &str)> = data
        .iter()
        .map(|r| {
            (
                r["action"].as_str().unwrap(),
                r["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        vec![
            ("organization.created", "success"),
            ("directory.created", "success"),
            ("directory_token.created", "success"),
            ("directory_token.revoked", "success"),
            ("directory.deleted", "failure"),
            ("directory.deleted", "success"),
        ]
    );
    let created = &data[2];
    assert_eq!(created["object"], "audit_log_entry");
    assert_eq!(created["actor"]["type"], "api_key");
    assert!(created["actor"]["id"].as_str().unwrap().starts_with("key_"));
    assert_eq!(created["actor"]["client_address"], "127.0.0.1");
    assert_eq!(created["actor"]["user_agent"], "audit-test/1.0");
    assert_eq!(created["target"]["type"], "directory_token");
    assert_eq!(created["target"]["id"], tid.as_str());
    assert_eq!(data[1]["target"]["id"], d.id.as_str());
    assert_eq!(created["prev_hash"], data[1]["hash"]);
    // never a secret
    let text = page.to_string();
    assert!(!text.contains(&d.token) && !text.contains(t["bearer_token"].as_str().unwrap()));
    assert!(!text.contains(API_KEY));

    // filters
    let count = |q: &str| {
        let (st, p) = s.api(Method::GET, &format!("/audit_logs?limit=100&{q}"), None);
        assert_eq!(st, 200, "{q}: {p}");
        p["data"].as_array().unwrap().len()
    };
    assert_eq!(count("action=directory.deleted"), 2);
    assert_eq!(count(&format!("target={}", d.id)), 2);
    let key_id = created["actor"]["id"].as_str().unwrap();
    assert_eq!(count(&format!("actor={key_id}")), 6);
    assert_eq!(count("actor=cli"), 0);
    assert_eq!(
        count("range_start=2020-01-01T00:00:00Z&range_end=2999-01-01T00:00:00%2B02:00"),
        6
    );
    assert_eq!(count("range_start=2999-01-01T00:00:00Z"), 0);

    // bad ranges: precise 422s, and nothing recorded for them
    for q in [
        "range_start=yesterday",
        "range_end=2026-13-01T00:00:00Z",
        "range_start=2026-02-01T00:00:00Z&range_end=2026-01-01T00:00:00Z",
        "limit=0",
    ] {
        let (st, e) = s.api(Method::GET, &format!("/audit_logs?{q}"), None);
        assert_eq!(st, 422, "{q}: {e}");
        assert_eq!(e["code"], "invalid_request_parameters", "{q}");
    }
    assert_eq!(count(""), 6);
    // a request without a key
    let r = s
        .client
        .get(format!("{}/audit_logs", s.base))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
}
