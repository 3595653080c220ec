//! Bad input and request hygiene: precise RFC 7644 §3.12 errors that change nothing, NUL in URLs,
//! long strings, bad query strings, unknown routes, unread bodies.

use super::*;

#[test]
fn bad_input_gets_precise_errors_and_changes_nothing() {
    let s = Server::start_with(&[("SCIMGATE_MAX_BODY_BYTES", "4096")]);
    let d = s.onboard("okta scim v2.0");
    let post_raw = |body: &str, ct: &str| {
        let r = s
            .client
            .post(format!("{}/Users", d.base))
            .bearer_auth(&d.token)
            .header("Content-Type", ct)
            .body(body.to_string())
            .send()
            .unwrap();
        let st = r.status().as_u16();
        (st, r.json::<Value>().unwrap_or(Value::Null))
    };
    let (st, b) = post_raw("{not json", "application/scim+json");
    assert_scim_error(st, &b, 400, Some("invalidSyntax"));
    let (st, b) = post_raw("[1,2]", "application/json");
    assert_scim_error(st, &b, 400, None);
    let (st, b) = post_raw(r#"{"userName": "x"}"#, "text/plain");
    assert_scim_error(st, &b, 415, None);
    let big = format!(
        r#"{{"userName": "big", "title": "{}"}}"#,
        "x".repeat(10_000)
    );
    let (st, b) = post_raw(&big, "application/json");
    assert_scim_error(st, &b, 413, None);
    let (st, b) = post_raw(
        r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"]}"#,
        "application/json",
    );
    assert_scim_error(st, &b, 400, Some("invalidValue"));
    let (st, b) = post_raw(r#"{"userName": 42}"#, "application/json");
    assert_scim_error(st, &b, 400, Some("invalidValue"));
    let (st, b) = post_raw("{\"userName\": \"nul\\u0000byte\"}", "application/json");
    assert_scim_error(st, &b, 400, Some("invalidValue"));
    // nothing was created
    let (_, _, l) = s.scim(&d, Method::GET, "/Users", None);
    assert_eq!(l["totalResults"], 0);

    let (_, _, u) = s.scim(&d, Method::POST, "/Users", Some(user_body("p@x.test")));
    let id = u["id"].as_str().unwrap().to_string();
    // unknown op, remove without path, bad path: 400 and the other ops are not applied
    let cases = [
        (
            json!([{"op": "replace", "path": "title", "value": "T"}, {"op": "delete", "path": "title"}]),
            "invalidSyntax",
        ),
        (
            json!([{"op": "replace", "path": "title", "value": "T"}, {"op": "remove"}]),
            "noTarget",
        ),
        (
            json!([{"op": "replace", "path": "title", "value": "T"}, {"op": "replace", "path": "emails[type eq ]", "value": "x"}]),
            "invalidPath",
        ),
        (
            json!([{"op": "replace", "path": "title", "value": "T"}, {"op": "replace", "path": "active", "value": "maybe"}]),
            "invalidValue",
        ),
    ];
    for (ops, t) in cases {
        let (st, _, b) = s.scim(&d, Method::PATCH, &format!("/Users/{id}"), Some(patch(ops)));
        assert_scim_error(st, &b, 400, Some(t));
    }
    let (_, _, got) = s.scim(&d, Method::GET, &format!("/Users/{id}"), None);
    assert!(got.get("title").is_none(), "all or nothing: {got}");
    // PUT with another id in the body
    let mut body = user_body("p@x.test");
    body["id"] = json!("directory_user_someoneelse");
    let (st, _, b) = s.scim(&d, Method::PUT, &format!("/Users/{id}"), Some(body));
    assert_scim_error(st, &b, 400, Some("mutability"));
    // unknown resource and endpoint
    let (st, _, b) = s.scim(
        &d,
        Method::GET,
        "/Users/directory_user_00000000000000000000000000",
        None,
    );
    assert_scim_error(st, &b, 404, None);
    let (st, _, b) = s.scim(&d, Method::GET, "/Nope", None);
    assert_scim_error(st, &b, 404, None);
    let (st, _, b) = s.scim(&d, Method::POST, &format!("/Users/{id}"), Some(json!({})));
    assert_scim_error(st, &b, 405, None);
    // events: only the one user.created (and directory-level ones)
    let names = s.event_names(&d.id);
    assert_eq!(
        names.iter().filter(|n| n.starts_with("dsync.user")).count(),
        1,
        "{names:?}"
    );
}

/// Found by scripts/e2e/fuzz.py: on PostgreSQL a NUL (`%00` in a URL, `\u0000` in a
/// filter) reached the database and answered 500. Now: a precise 400, nothing changed.
#[test]
fn nul_in_urls_and_filters_is_a_precise_400() {
    let s = Server::start();
    let d = s.onboard("okta scim v2.0");
    // (the first authenticated request activates the directory)
    assert_eq!(s.scim(&d, Method::GET, "/Users", None).0, 200);
    let before = s.events(&d.id).len();
    for (m, path) in [
        (Method::GET, "/Users/a%00b"),
        (Method::DELETE, "/Users/a%00b"),
        (Method::GET, "/Groups/%00"),
        (Method::GET, "/Users?filter=userName%20eq%20%22a%00b%22"),
    ] {
        let (st, h, v) = s.scim(&d, m.clone(), path, None);
        assert_scim_error(st, &v, 400, Some("invalidValue"));
        assert_eq!(h["content-type"], "application/scim+json", "{m} {path}");
    }
    for f in [
        r#"userName eq "a\u0000b""#,
        r#"title eq "\u0000""#,
        r#"emails[value eq "\u0000"]"#,
    ] {
        let (st, _, v) = s.scim(
            &d,
            Method::GET,
            &format!("/Users?filter={}", urlencode(f)),
            None,
        );
        assert_scim_error(st, &v, 400, Some("invalidFilter"));
        let (st, _, v) = s.scim(
            &d,
            Method::POST,
            "/Users/.search",
            Some(json!({"filter": f})),
        );
        assert_scim_error(st, &v, 400, Some("invalidFilter"));
    }
    let (st, v) = s.api(Method::GET, "/directory_users/a%00b", None);
    assert!(st == 400 || st == 422, "{st} {v}");
    assert!(v["message"].as_str().unwrap_or("").contains("NUL"), "{v}");
    let (st, v) = s.api(
        Method::POST,
        "/directories",
        Some(json!({"organization_id": "a\u{0}b", "type": "okta scim v2.0"})),
    );
    assert_eq!(st, 422, "{v}");
    assert_eq!(s.events(&d.id).len(), before);
}

/// Found by scripts/e2e/fuzz.py: on PostgreSQL a string too long for a btree index row
/// (2,704 bytes) answered 500. Identifiers are capped at 1,024 bytes (400
/// invalidValue); other long values are stored but not indexed for filters.
#[test]
fn long_strings_are_capped_or_left_unindexed() {
    let s = Server::start();
    let d = s.onboard("okta scim v2.0");
    let long = "x".repeat(3000);
    for body in [
        json!({"userName": format!("{long}@x.test")}),
        json!({"userName": "a@x.test", "externalId": long}),
    ] {
        let (st, _, v) = s.scim(&d, Method::POST, "/Users", Some(body));
        assert_scim_error(st, &v, 400, Some("invalidValue"));
    }
    let (st, _, v) = s.scim(
        &d,
        Method::POST,
        "/Groups",
        Some(json!({"displayName": long})),
    );
    assert_scim_error(st, &v, 400, Some("invalidValue"));
    let (st, _, u) = s.scim(
        &d,
        Method::POST,
        "/Users",
        Some(json!({"userName": "a@x.test", "title": long, "emails": [{"value": format!("{long}@x.test"), "primary": true}]})),
    );
    assert_eq!(st, 201, "{u}");
    assert_eq!(u["title"].as_str().map(str::len), Some(3000));
    let id = u["id"].as_str().unwrap();
    let rename = patch(json!([{"op": "replace", "path": "userName", "value": long}]));
    let (st, _, v) = s.scim(&d, Method::PATCH, &format!("/Users/{id}"), Some(rename));
    assert_scim_error(st, &v, 400, Some("invalidValue"));
    let (st, _, v) = s.scim(&d, Method::GET, "/Users?filter=title%20pr", None);
    assert_eq!(
        (st, &v["totalResults"]),
        (200, &json!(0)),
        "a value too long to index"
    );
    let names: Vec<String> = s.event_names(&d.id);
    assert_eq!(
        names.iter().filter(|n| *n == "dsync.user.created").count(),
        1
    );
}

/// Found by scripts/e2e/fuzz.py: a repeated query parameter answered actix's plain-text
/// 400, and unknown routes an empty 404; both now have the SCIM error shape.
#[test]
fn bad_query_strings_and_unknown_routes_answer_scim_errors() {
    let s = Server::start();
    let d = s.onboard("okta scim v2.0");
    for path in [
        "/Users?count=1&count=2",
        "/Groups?filter=a&filter=b",
        "/Users?startIndex=x",
    ] {
        let (st, h, v) = s.scim(&d, Method::GET, path, None);
        assert_scim_error(st, &v, 400, Some("invalidValue"));
        assert_eq!(h["content-type"], "application/scim+json");
    }
    let r = s.req(Method::GET, "/scim/v2/", &d.token, None);
    assert_eq!(r.status().as_u16(), 404);
    let v: Value = r.json().unwrap_or(Value::Null);
    assert_scim_error(404, &v, 404, None);
    let (st, v) = s.api(Method::GET, "/no/such/route", None);
    assert_eq!(
        (st, v["code"].as_str()),
        (404, Some("entity_not_found")),
        "{v}"
    );
}

/// Found by scripts/e2e/fuzz.py: a large chunked body that the handler never reads
/// (a GET, or a 501 from /Bulk) left the kept-alive connection stalled. Such a
/// connection is now closed after the response.
#[test]
fn a_connection_with_an_unread_body_is_closed_not_stalled() {
    use std::io::{Read, Write};
    let s = Server::start();
    let d = s.onboard("okta scim v2.0");
    let addr = s.base.trim_start_matches("http://").to_string();
    for (method, path) in [("GET", "/Users"), ("POST", "/Bulk")] {
        let mut c = std::net::TcpStream::connect(&addr).unwrap();
        c.set_read_timeout(Some(std::time::Duration::from_secs(20)))
            .unwrap();
        let head = format!(
            "{method} /scim/v2/{}{path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/scim+json\r\nTransfer-Encoding: chunked\r\n\r\n",
            d.id, d.token
        );
        c.write_all(head.as_bytes()).unwrap();
        let chunk = format!("{{\"a\":\"{}\"}}", "x".repeat(600_000));
        let _ = c.write_all(format!("{:x}\r\n{chunk}\r\n0\r\n\r\n", chunk.len()).as_bytes());
        let mut buf = Vec::new();
        // the server answers and closes: read_to_end returns (no stall until timeout)
        let _ = c.read_to_end(&mut buf);
        let text = String::from_utf8_lossy(&buf).to_ascii_lowercase();
        assert!(
            text.starts_with("http/1.1 "),
            "{method} {path}: {text:.200}"
        );
        assert!(
            text.contains("connection: close"),
            "{method} {path}: {text:.300}"
        );
    }
}

#[test]
fn an_over_long_request_target_gets_the_surfaces_error_body() {
    let s = Server::start();
    let d = s.onboard("okta scim v2.0");
    let long = "a".repeat(20_000);
    let (st, _, b) = s.scim(&d, Method::GET, &format!("/Users?filter={long}"), None);
    assert_scim_error(st, &b, 414, None);
    let (st, e) = s.api(Method::GET, &format!("/directories?x={long}"), None);
    assert_eq!(st, 414, "{e}");
    assert_eq!(e["code"], "request_target_too_long");
    // just under the cap, the filter itself is judged (too long for a filter)
    let (st, _, b) = s.scim(
        &d,
        Method::GET,
        &format!("/Users?filter={}", "a".repeat(15_000)),
        None,
    );
    assert_scim_error(st, &b, 400, Some("invalidFilter"));
}
