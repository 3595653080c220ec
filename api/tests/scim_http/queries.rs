//! Filters (RFC 7644 §3.4.2.2) and pagination (§3.4.2.4).

use super::*;

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
