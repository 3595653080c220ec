//! SCIM 2.0 surface, black-box over HTTP against the real binary (RFC 7644 and the
//! IdP shapes of docs/IDP-QUIRKS.md).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};

const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

fn assert_scim_error(st: u16, body: &Value, status: u16, scim_type: Option<&str>) {
    assert_eq!(st, status, "{body}");
    assert_eq!(body["schemas"][0], ERROR_SCHEMA, "{body}");
    assert_eq!(body["status"], status.to_string(), "{body}");
    if let Some(t) = scim_type {
        assert_eq!(body["scimType"], t, "{body}");
    }
}

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
    assert_eq!(u["meta"]["resourceType"], "User");
    assert_eq!(u["meta"]["location"], format!("{}/Users/{id}", d.base));
    assert_eq!(
        h["etag"].to_str().unwrap(),
        u["meta"]["version"].as_str().unwrap()
    );
    assert_eq!(u["active"], true);

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
fn tokens_are_isolated_per_directory_and_revocation_is_immediate() {
    let s = Server::start();
    let a = s.onboard("okta scim v2.0");
    let b = s.onboard("okta scim v2.0");
    let (st, _, _) = s.scim(&a, Method::POST, "/Users", Some(user_body("a@a.test")));
    assert_eq!(st, 201);
    // A's token on B's URL: 401 and no data
    let r = s.req(
        Method::GET,
        &format!("/scim/v2/{}/Users", b.id),
        &a.token,
        None,
    );
    assert_eq!(r.status().as_u16(), 401);
    let body: Value = r.json().unwrap();
    assert_eq!(body["schemas"][0], ERROR_SCHEMA);
    assert!(body.get("Resources").is_none());
    // no token, malformed token, API key on SCIM
    assert_eq!(
        s.client
            .get(format!("{}/Users", a.base))
            .send()
            .unwrap()
            .status()
            .as_u16(),
        401
    );
    assert_eq!(
        s.req(
            Method::GET,
            &format!("/scim/v2/{}/Users", a.id),
            "sgd_nope",
            None
        )
        .status()
        .as_u16(),
        401
    );
    assert_eq!(
        s.req(
            Method::GET,
            &format!("/scim/v2/{}/Users", a.id),
            API_KEY,
            None
        )
        .status()
        .as_u16(),
        401
    );
    // the directory token is no API key
    assert_eq!(
        s.req(Method::GET, "/directories", &a.token, None)
            .status()
            .as_u16(),
        401
    );

    // a second token, listed without secrets; revoking the first takes effect at once
    let (st, t2) = s.api(
        Method::POST,
        &format!("/directories/{}/tokens", a.id),
        Some(json!({"name": "rotation"})),
    );
    assert_eq!(st, 201, "{t2}");
    let secret2 = t2["bearer_token"].as_str().unwrap().to_string();
    let (_, list) = s.api(Method::GET, &format!("/directories/{}/tokens", a.id), None);
    let listed = list["data"].as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed
        .iter()
        .all(|t| t.get("bearer_token").is_none() && t.get("token_hash").is_none()));
    let first_id = listed.iter().find(|t| t["name"] == "default").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (st, _) = s.api(
        Method::DELETE,
        &format!("/directories/{}/tokens/{first_id}", a.id),
        None,
    );
    assert_eq!(st, 204);
    assert_eq!(
        s.req(
            Method::GET,
            &format!("/scim/v2/{}/Users", a.id),
            &a.token,
            None
        )
        .status()
        .as_u16(),
        401
    );
    assert_eq!(
        s.req(
            Method::GET,
            &format!("/scim/v2/{}/Users", a.id),
            &secret2,
            None
        )
        .status()
        .as_u16(),
        200
    );
    let names = s.event_names(&a.id);
    assert!(names.contains(&"dsync.token.created".to_string()));
    assert!(names.contains(&"dsync.token.revoked".to_string()));
    let revoked = s
        .events(&a.id)
        .into_iter()
        .find(|e| e["event"] == "dsync.token.revoked")
        .unwrap();
    assert_eq!(revoked["data"]["token_suffix"].as_str().unwrap().len(), 4);
}

#[test]
fn filters_translate_the_rfc_grammar() {
    let s = Server::start();
    let d = s.onboard("azure scim v2.0");
    let mk = |un: &str, title: &str, dept: &str, work: &str, active: bool| {
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "userName": un, "externalId": format!("ext-{un}"), "title": title, "active": active,
            "name": {"givenName": un.to_uppercase(), "familyName": "Fam"},
            "emails": [{"value": work, "type": "work", "primary": true}, {"value": format!("home-{un}@home.test"), "type": "home"}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": dept, "manager": {"value": "mgr-1"}}
        });
        let (st, _, u) = s.scim(&d, Method::POST, "/Users", Some(body));
        assert_eq!(st, 201, "{u}");
        u["id"].as_str().unwrap().to_string()
    };
    mk("alice", "Engineer", "R&D", "alice@corp.test", true);
    mk("bob", "Manager", "Sales", "bob@corp.test", false);
    mk("carol", "Senior Engineer", "R&D", "carol@other.test", true);
    let count = |f: &str| -> i64 {
        let url = format!("/Users?filter={}", urlencode(f));
        let (st, _, l) = s.scim(&d, Method::GET, &url, None);
        assert_eq!(st, 200, "{f}: {l}");
        l["totalResults"].as_i64().unwrap()
    };
    assert_eq!(count(r#"userName eq "ALICE""#), 1);
    assert_eq!(count(r#"userName Eq "alice""#), 1);
    assert_eq!(
        count(r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "a""#),
        1
    );
    assert_eq!(count(r#"externalId eq "ext-bob""#), 1);
    assert_eq!(
        count(r#"externalId eq "EXT-BOB""#),
        0,
        "externalId is caseExact"
    );
    assert_eq!(count(r#"title co "engineer""#), 2);
    assert_eq!(count(r#"title ew "Manager""#), 1);
    assert_eq!(count(r#"title pr"#), 3);
    assert_eq!(count(r#"not (title pr)"#), 0);
    assert_eq!(count(r#"active eq false"#), 1);
    assert_eq!(count(r#"active eq true and title sw "Senior""#), 1);
    assert_eq!(
        count(r#"(title eq "Engineer" or title eq "Manager") and active eq true"#),
        1
    );
    assert_eq!(
        count(r#"emails[type eq "work" and value ew "@corp.test"]"#),
        2
    );
    assert_eq!(
        count(r#"emails[type eq "work"].value eq "carol@other.test""#),
        1,
        "Entra's value-path form"
    );
    assert_eq!(count(r#"emails.value eq "home-bob@home.test""#), 1);
    assert_eq!(
        count(r#"emails[type eq "home" and value eq "alice@corp.test"]"#),
        0,
        "conditions hold on one element"
    );
    assert_eq!(
        count(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "r&d""#),
        2
    );
    assert_eq!(
        count(
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "mgr-1""#
        ),
        3
    );
    assert_eq!(count(r#"name.givenName gt "BOB""#), 1);
    assert_eq!(count(r#"meta.created gt "2000-01-01T00:00:00Z""#), 3);
    assert_eq!(count(r#"meta.resourceType eq "User""#), 3);
    // not filterable / malformed → 400 invalidFilter, nothing leaks
    for bad in [
        r#"password eq "x""#,
        r#"nosuch eq "x""#,
        r#"userName eq"#,
        r#"userName eq 'x'"#,
        r#"(userName eq "x""#,
        r#"active gt true"#,
        r#"meta.created gt "yesterday""#,
    ] {
        let (st, _, b) = s.scim(
            &d,
            Method::GET,
            &format!("/Users?filter={}", urlencode(bad)),
            None,
        );
        assert_scim_error(st, &b, 400, Some("invalidFilter"));
    }
    let long = (0..60)
        .map(|i| format!("userName eq \"u{i}\""))
        .collect::<Vec<_>>()
        .join(" or ");
    let (st, _, b) = s.scim(
        &d,
        Method::GET,
        &format!("/Users?filter={}", urlencode(&long)),
        None,
    );
    assert_scim_error(st, &b, 400, Some("invalidFilter"));
    // '+' for spaces (Entra, IDP-QUIRKS ENTRA-FILTER-EXTERNALID)
    let (st, _, l) = s.scim(
        &d,
        Method::GET,
        "/Users?filter=externalId+eq+%22ext-alice%22",
        None,
    );
    assert_eq!(st, 200);
    assert_eq!(l["totalResults"], 1);
}

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[test]
fn pagination_is_stable_with_true_total_and_capped_count() {
    let s = Server::start_with(&[("SCIMGATE_MAX_PAGE_SIZE", "5")]);
    let d = s.onboard("okta scim v2.0");
    let mut ids = Vec::new();
    for i in 0..12 {
        let (st, _, u) = s.scim(
            &d,
            Method::POST,
            "/Users",
            Some(user_body(&format!("u{i:02}@x.test"))),
        );
        assert_eq!(st, 201);
        ids.push(u["id"].as_str().unwrap().to_string());
    }
    let mut seen = Vec::new();
    let mut start = 1;
    loop {
        let (st, _, l) = s.scim(
            &d,
            Method::GET,
            &format!("/Users?startIndex={start}&count=100"),
            None,
        );
        assert_eq!(st, 200);
        assert_eq!(l["totalResults"], 12);
        assert!(l["itemsPerPage"].is_i64());
        assert_eq!(l["startIndex"], start);
        let page = l["Resources"].as_array().unwrap();
        assert!(page.len() <= 5, "count is lowered to the maximum page size");
        if page.is_empty() {
            break;
        }
        seen.extend(page.iter().map(|u| u["id"].as_str().unwrap().to_string()));
        start += page.len() as i64;
    }
    assert_eq!(seen, ids, "stable order, every user exactly once");
    let (_, _, l) = s.scim(&d, Method::GET, "/Users?count=0", None);
    assert_eq!(l["totalResults"], 12);
    assert_eq!(l["Resources"].as_array().map(Vec::len).unwrap_or(0), 0);
    let (_, _, l) = s.scim(
        &d,
        Method::GET,
        "/Users?sortBy=userName&sortOrder=descending&count=2",
        None,
    );
    assert_eq!(l["Resources"][0]["userName"], "u11@x.test");
    let (st, _, b) = s.scim(&d, Method::GET, "/Users?count=abc", None);
    assert_scim_error(st, &b, 400, Some("invalidValue"));
    let (_, _, l) = s.scim(&d, Method::GET, "/Users?attributes=userName&count=1", None);
    let first = &l["Resources"][0];
    assert!(
        first.get("name").is_none() && first["id"].is_string() && first["userName"].is_string(),
        "{first}"
    );
}

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

#[test]
fn idp_quirks_are_tolerated_and_mean_what_the_idp_meant() {
    let s = Server::start();
    let d = s.onboard("azure scim v2.0");
    // OneLogin: emails object, string active, managerId, id:null, no enterprise schema entry
    let body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": null, "userName": "ol@x.test", "active": "true",
        "emails": {"value": "ol@x.test", "type": "work"},
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"managerId": "m-9", "displayName": "Boss"}, "department": "Ops"}
    });
    let (st, _, u) = s.scim(&d, Method::POST, "/Users", Some(body));
    assert_eq!(st, 201, "{u}");
    assert_eq!(u["active"], true);
    assert_eq!(u["emails"][0]["value"], "ol@x.test");
    let ent = &u["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"];
    assert_eq!(ent["manager"]["value"], "m-9");
    let id = u["id"].as_str().unwrap().to_string();
    // Entra: capitalised op, string "False"
    let (st, _, _) = s.scim(
        &d,
        Method::PATCH,
        &format!("/Users/{id}"),
        Some(patch(
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
        )),
    );
    assert!(st == 200 || st == 204);
    let (_, _, got) = s.scim(&d, Method::GET, &format!("/Users/{id}"), None);
    assert_eq!(got["active"], false, "disabled users stay readable");
    // Entra: no-path with dotted and URN keys
    let ops = json!([{"op": "replace", "value": {"name.givenName": "Kkom", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "Aklq"}}]);
    let (st, _, got) = s.scim(&d, Method::PATCH, &format!("/Users/{id}"), Some(patch(ops)));
    assert_eq!(st, 200, "{got}");
    assert_eq!(got["name"]["givenName"], "Kkom");
    assert_eq!(
        got["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["employeeNumber"],
        "Aklq"
    );
    // Entra manager as a bare string, then removed
    let ops = json!([{"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "boss-1"}]);
    let (_, _, got) = s.scim(&d, Method::PATCH, &format!("/Users/{id}"), Some(patch(ops)));
    assert_eq!(
        got["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["manager"]["value"],
        "boss-1"
    );
    let ops = json!([{"op": "Remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}]);
    let (_, _, got) = s.scim(&d, Method::PATCH, &format!("/Users/{id}"), Some(patch(ops)));
    assert!(
        got["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]
            .get("manager")
            .is_none(),
        "{got}"
    );
    // Entra group schema URI, members with $ref null, Remove with value list, members[value eq]
    let (_, _, u2) = s.scim(&d, Method::POST, "/Users", Some(user_body("two@x.test")));
    let id2 = u2["id"].as_str().unwrap().to_string();
    let g = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
                   "externalId": "g-ext", "displayName": "Eng", "meta": {"resourceType": "Group"}});
    let (st, _, g) = s.scim(&d, Method::POST, "/Groups", Some(g));
    assert_eq!(st, 201, "{g}");
    let gid = g["id"].as_str().unwrap().to_string();
    let add = json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": id}, {"$ref": null, "value": id2}]}]);
    let (st, _, _) = s.scim(
        &d,
        Method::PATCH,
        &format!("/Groups/{gid}"),
        Some(patch(add.clone())),
    );
    assert_eq!(st, 204);
    // idempotent re-add: no duplicate events
    let (st, _, _) = s.scim(
        &d,
        Method::PATCH,
        &format!("/Groups/{gid}"),
        Some(patch(add)),
    );
    assert_eq!(st, 204);
    let members = |s: &Server| -> Vec<String> {
        let (_, _, g) = s.scim(&d, Method::GET, &format!("/Groups/{gid}"), None);
        let mut v: Vec<String> = g["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["value"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    let mut both = vec![id.clone(), id2.clone()];
    both.sort();
    assert_eq!(members(&s), both);
    // Okta rename carrying the id, re-sent: one group.updated only; membership untouched
    let rename = json!([{"op": "replace", "value": {"id": gid, "displayName": "Engineering"}}]);
    s.scim(
        &d,
        Method::PATCH,
        &format!("/Groups/{gid}"),
        Some(patch(rename.clone())),
    );
    s.scim(
        &d,
        Method::PATCH,
        &format!("/Groups/{gid}"),
        Some(patch(rename)),
    );
    assert_eq!(
        members(&s),
        both,
        "path-less replace without members must not wipe"
    );
    let (st, _, b) = s.scim(
        &d,
        Method::PATCH,
        &format!("/Groups/{gid}"),
        Some(patch(
            json!([{"op": "replace", "value": {"id": "other", "displayName": "X"}}]),
        )),
    );
    assert_scim_error(st, &b, 400, Some("mutability"));
    let rm = json!([{"op": "Remove", "path": "members", "value": [{"value": id2}]}]);
    s.scim(
        &d,
        Method::PATCH,
        &format!("/Groups/{gid}"),
        Some(patch(rm)),
    );
    assert_eq!(members(&s), vec![id.clone()]);
    let rm = json!([{"op": "remove", "path": format!("members[value eq \"{id}\"]")}]);
    s.scim(
        &d,
        Method::PATCH,
        &format!("/Groups/{gid}"),
        Some(patch(rm)),
    );
    assert!(members(&s).is_empty());
    // unknown member id: 400 invalidValue and nothing applied
    let add = json!([{"op": "add", "path": "members", "value": [{"value": id}, {"value": "directory_user_nope"}]}]);
    let (st, _, b) = s.scim(
        &d,
        Method::PATCH,
        &format!("/Groups/{gid}"),
        Some(patch(add)),
    );
    assert_scim_error(st, &b, 400, Some("invalidValue"));
    assert!(members(&s).is_empty());
    // a user of another directory is not a member candidate either
    let other = s.onboard("azure scim v2.0");
    let (_, _, ou) = s.scim(&other, Method::POST, "/Users", Some(user_body("o@x.test")));
    let add = json!([{"op": "add", "path": "members", "value": [{"value": ou["id"]}]}]);
    let (st, _, b) = s.scim(
        &d,
        Method::PATCH,
        &format!("/Groups/{gid}"),
        Some(patch(add)),
    );
    assert_scim_error(st, &b, 400, Some("invalidValue"));

    let names: Vec<String> = s
        .event_names(&d.id)
        .into_iter()
        .filter(|n| n != "dsync.activated" && !n.starts_with("dsync.token"))
        .collect();
    assert_eq!(
        names,
        vec![
            "dsync.user.created",
            "dsync.user.updated",
            "dsync.user.updated",
            "dsync.user.updated",
            "dsync.user.updated",
            "dsync.user.created",
            "dsync.group.created",
            "dsync.group.user_added",
            "dsync.group.user_added",
            "dsync.group.updated",
            "dsync.group.user_removed",
            "dsync.group.user_removed",
        ],
        "one event per real change, none for no-ops"
    );
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
fn discovery_endpoints_tell_the_truth() {
    let s = Server::start();
    let d = s.onboard("generic scim v2.0");
    let (st, h, spc) = s.scim(&d, Method::GET, "/ServiceProviderConfig", None);
    assert_eq!(st, 200);
    assert_eq!(h["content-type"], "application/scim+json");
    assert_eq!(spc["patch"]["supported"], true);
    assert_eq!(spc["bulk"]["supported"], false);
    assert_eq!(spc["filter"]["supported"], true);
    assert_eq!(spc["etag"]["supported"], true);
    assert_eq!(spc["sort"]["supported"], true);
    let (_, _, rt) = s.scim(&d, Method::GET, "/ResourceTypes", None);
    assert_eq!(rt["totalResults"], 2);
    let (_, _, sc) = s.scim(&d, Method::GET, "/Schemas", None);
    let ids: Vec<&str> = sc["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"urn:ietf:params:scim:schemas:core:2.0:User"));
    assert!(ids.contains(&"urn:ietf:params:scim:schemas:core:2.0:Group"));
    assert!(ids.contains(&"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"));
    let (st, _, one) = s.scim(
        &d,
        Method::GET,
        "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
        None,
    );
    assert_eq!(st, 200);
    assert!(one["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["name"] == "userName"));
    // Bulk is not offered
    let (st, _, b) = s.scim(&d, Method::POST, "/Bulk", Some(json!({})));
    assert_scim_error(st, &b, 501, None);
}

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

#[test]
fn first_successful_request_activates_the_directory_once() {
    let s = Server::start();
    let d = s.onboard("okta scim v2.0");
    let (_, dir) = s.api(Method::GET, &format!("/directories/{}", d.id), None);
    assert_eq!(dir["state"], "unlinked");
    // a failed request does not activate
    assert_eq!(
        s.req(
            Method::GET,
            &format!("/scim/v2/{}/Users", d.id),
            "sgd_wrong",
            None
        )
        .status()
        .as_u16(),
        401
    );
    assert!(!s
        .event_names(&d.id)
        .contains(&"dsync.activated".to_string()));
    for _ in 0..3 {
        let (st, _, _) = s.scim(&d, Method::GET, "/Users", None);
        assert_eq!(st, 200);
    }
    let names = s.event_names(&d.id);
    assert_eq!(
        names.iter().filter(|n| *n == "dsync.activated").count(),
        1,
        "{names:?}"
    );
    let ev = s
        .events(&d.id)
        .into_iter()
        .find(|e| e["event"] == "dsync.activated")
        .unwrap();
    assert_eq!(ev["data"]["state"], "active");
    assert!(ev["data"]["domains"].is_array());
    let (_, dir) = s.api(Method::GET, &format!("/directories/{}", d.id), None);
    assert_eq!(dir["state"], "linked");
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
