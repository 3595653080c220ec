//! The admin UI's pages of issue 16 point 2 over HTTP: users searched by email, name
//! and state; groups and a group's members (keyset pages); webhook endpoints (health,
//! create with the secret shown once, enable and disable, rotate, delete with a
//! confirmation, deliveries filtered by status); API keys (create shown once, revoke);
//! the audit log (filters, keyset pages). Operator actions are audited with the
//! operator as the actor; bad input is a precise 400 and changes nothing.

use reqwest::Method;
use serde_json::{json, Value};

use super::*;
use scimgate_core::audit::{Actor, Entry, Outcome};
use scimgate_core::service::audit;

fn person(user_name: &str, given: &str, family: &str, active: bool) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "name": {"givenName": given, "familyName": family},
        "emails": [{"primary": true, "value": user_name, "type": "work"}],
        "active": active
    })
}

/// The ids in the page's `/admin/users/…` links, in order.
fn user_links(p: &Page) -> Vec<String> {
    p.body
        .split("href=\"/admin/users/")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_string())
        .collect()
}

/// The page's link to the next (`rel="next"`) page, HTML-unescaped.
fn next_link(p: &Page) -> Option<String> {
    let at = p.body.find("rel=\"next\"")?;
    let head = &p.body[..at];
    let h = head.rfind("href=\"").unwrap() + 6;
    Some(
        head[h..h + head[h..].find('"').unwrap()]
            .replace("&amp;", "&")
            .replace("&#38;", "&"),
    )
}

#[test]
fn users_are_searched_by_email_name_and_state_and_groups_list_their_members() {
    let s = start();
    create_admin(&s);
    let d = s.onboard("okta scim v2.0");
    let other = s.onboard("okta scim v2.0");
    let mut ids = Vec::new();
    for i in 0..54 {
        let (given, family, active) = match i {
            0 => ("Grace", "Hopper", true),
            1 => ("Grace", "Kelly", false),
            2 => ("Alan", "Turing", false),
            _ => ("Ada", "Lovelace", true),
        };
        let (st, _, u) = s.scim(
            &d,
            Method::POST,
            "/Users",
            Some(person(&format!("u{i:02}@acme.test"), given, family, active)),
        );
        assert_eq!(st, 201, "{u}");
        ids.push(u["id"].as_str().unwrap().to_string());
    }
    // a Grace of another directory is never listed here
    let (st, _, _) = s.scim(
        &other,
        Method::POST,
        "/Users",
        Some(person("grace@other.test", "Grace", "Hopper", true)),
    );
    assert_eq!(st, 201);
    let mut b = Browser::logged_in(&s);
    let users = format!("/admin/directories/{}/users", d.id);

    // every user, 50 a page, in order, then the rest
    let p = b.get(&users);
    assert_eq!(p.status, 200, "{}", p.body);
    let first = user_links(&p);
    assert_eq!(first.len(), 50);
    let next = next_link(&p).expect("a next page");
    let p2 = b.get(&next);
    assert_eq!(p2.status, 200, "{}", p2.body);
    let second = user_links(&p2);
    assert_eq!(second.len(), 4);
    let mut all: Vec<String> = first.iter().chain(&second).cloned().collect();
    let listed = all.clone();
    all.sort();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(all, want, "every user once");
    assert_eq!(listed, all, "in id order");
    assert!(p2.body.contains("rel=\"prev\""), "a way back");
    assert!(next_link(&p2).is_none());

    // by name: each word in some name, any case; the other directory's Grace is not here
    let found = |b: &mut Browser, q: &str| {
        let mut v = user_links(&b.get(&format!("{users}?{q}")));
        v.sort();
        v
    };
    let some = |idx: &[usize]| {
        let mut v: Vec<String> = idx.iter().map(|i| ids[*i].clone()).collect();
        v.sort();
        v
    };
    assert_eq!(found(&mut b, "name=grace"), some(&[0, 1]));
    assert_eq!(found(&mut b, "name=GRACE+hop"), some(&[0]));
    // each word starts a name (given, family, formatted or display name): a range of
    // the index, not a substring scan (docs/BENCHMARKS.md, "admin UI pages")
    assert_eq!(found(&mut b, "name=tur"), some(&[2]));
    assert_eq!(found(&mut b, "name=alan+t"), some(&[2]));
    assert_eq!(found(&mut b, "name=uring"), some(&[]));
    assert_eq!(found(&mut b, "name=turingx"), some(&[]));
    // by state, and both
    assert_eq!(found(&mut b, "state=inactive"), some(&[1, 2]));
    assert_eq!(found(&mut b, "name=grace&state=active"), some(&[0]));
    // by email
    assert_eq!(found(&mut b, "email=U02%40acme.test"), some(&[2]));
    let p = b.get(&format!("{users}?email=u02%40acme.test&state=active"));
    assert!(user_links(&p).is_empty());
    assert!(p.body.contains("with these filters"), "{}", p.body);
    // a LIKE wildcard is a character, not a wildcard
    let p = b.get(&format!("{users}?name=%25"));
    assert!(user_links(&p).is_empty());
    assert!(p.body.contains("No user matches"), "{}", p.body);
    // the filters are kept across pages
    let p = b.get(&format!("{users}?name=ada&state=active"));
    assert_eq!(user_links(&p).len(), 50);
    let next = next_link(&p).unwrap();
    assert!(
        next.contains("name=ada") && next.contains("state=active"),
        "{next}"
    );
    assert_eq!(user_links(&b.get(&next)).len(), 1, "51 Adas in all");

    // bad input: a precise 400
    let p = b.get(&format!("{users}?state=deleted"));
    assert_eq!(p.status, 400);
    assert!(
        p.body.contains("the state must be active or inactive"),
        "{}",
        p.body
    );
    let p = b.get(&format!("{users}?after=nonsense"));
    assert_eq!(p.status, 400);
    assert!(p.body.contains("is not a page cursor"), "{}", p.body);
    let p = b.get(&format!("{users}?name={}", "x".repeat(300)));
    assert_eq!(p.status, 400);
    assert_eq!(
        b.get("/admin/directories/directory_01JAAAAAAAAAAAAAAAAAAAAAAA/users")
            .status,
        404
    );

    // groups: a list searchable by name, a group's members in pages
    let members: Vec<Value> = ids.iter().map(|i| json!({"value": i})).collect();
    let (st, _, eng) = s.scim(
        &d,
        Method::POST,
        "/Groups",
        Some(
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Engineering", "members": members}),
        ),
    );
    assert_eq!(st, 201, "{eng}");
    let (st, _, sales) = s.scim(
        &d,
        Method::POST,
        "/Groups",
        Some(
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Sales"}),
        ),
    );
    assert_eq!(st, 201);
    let dir_page = b.get(&format!("/admin/directories/{}", d.id));
    assert!(
        dir_page
            .body
            .contains(&format!("href=\"/admin/directories/{}/groups\"", d.id)),
        "the directory's page links its groups"
    );
    let groups = format!("/admin/directories/{}/groups", d.id);
    let p = b.get(&groups);
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("Engineering") && p.body.contains("Sales"));
    let p = b.get(&format!("{groups}?name=ENGIN"));
    assert!(p.body.contains("Engineering") && !p.body.contains("Sales"));
    let p = b.get(&format!("{groups}?name=marketing"));
    assert!(p.body.contains("No group&#39;s name contains") || p.body.contains("No group"));
    assert_eq!(b.get(&format!("{groups}?before=user_1")).status, 400);
    let eng_id = eng["id"].as_str().unwrap();
    let p = b.get(&format!("/admin/groups/{eng_id}"));
    assert_eq!(p.status, 200, "{}", p.body);
    let first = user_links(&p);
    assert_eq!(first.len(), 50);
    let p2 = b.get(&next_link(&p).unwrap());
    let mut got: Vec<String> = first.into_iter().chain(user_links(&p2)).collect();
    got.sort();
    assert_eq!(got, want, "every member once");
    let p = b.get(&format!("/admin/groups/{}", sales["id"].as_str().unwrap()));
    assert!(p.body.contains("No members"), "{}", p.body);
    assert_eq!(
        b.get("/admin/groups/directory_group_01JAAAAAAAAAAAAAAAAAAAAAAA")
            .status,
        404
    );
}

/// A server whose webhooks may go to this machine over http (as in development).
fn start_for_webhooks() -> Server {
    Server::start_with(&[
        ("SCIMGATE_SECRET_KEY", SECRET_KEY),
        ("SCIMGATE_WEBHOOK_ALLOW_HTTP", "true"),
        ("SCIMGATE_WEBHOOK_ALLOW_PRIVATE", "true"),
        ("SCIMGATE_WEBHOOK_BACKOFF_BASE_MS", "200"),
    ])
}

/// A local address where nothing listens: every delivery fails.
fn dead_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    format!("http://127.0.0.1:{port}/hook")
}

fn endpoints(s: &Server) -> Vec<Value> {
    let (st, v) = s.api(Method::GET, "/webhook_endpoints?limit=100", None);
    assert_eq!(st, 200, "{v}");
    v["data"].as_array().unwrap().clone()
}

/// The audit records of `action`, newest first.
fn records(s: &Server, action: &str) -> Vec<Value> {
    let (st, v) = s.api(Method::GET, &format!("/audit_logs?action={action}"), None);
    assert_eq!(st, 200, "{v}");
    v["data"].as_array().unwrap().clone()
}

fn assert_by_operator(r: &Value) {
    assert_eq!(r["actor"]["type"], "admin", "{r}");
    assert_eq!(r["actor"]["name"], EMAIL, "{r}");
    assert!(
        r["actor"]["id"].as_str().unwrap().starts_with("admin_"),
        "{r}"
    );
    assert_eq!(r["outcome"], "success", "{r}");
}

#[test]
fn operators_manage_webhook_endpoints_and_see_their_deliveries() {
    let s = start_for_webhooks();
    create_admin(&s);
    let d = s.onboard("okta scim v2.0");
    let mut b = Browser::logged_in(&s);
    let p = b.get("/admin/webhooks");
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("No webhook endpoint yet"), "{}", p.body);
    assert!(
        p.body.contains("value=\"dsync.user.created\" checked"),
        "WorkOS's events ticked by default"
    );
    assert!(
        !p.body.contains("value=\"dsync.token.created\" checked"),
        "scimgate's own only when ticked"
    );
    let csrf = p.input("csrf");
    let url = dead_url();

    // refused: no event, an unknown event, a URL the policy refuses, a bad organization
    for (form, why) in [
        (vec![("endpoint_url", url.as_str())], "at least one event"),
        (
            vec![("endpoint_url", url.as_str()), ("events", "dsync.nope")],
            "dsync.nope",
        ),
        (
            vec![
                ("endpoint_url", "ftp://x.test/"),
                ("events", "dsync.user.created"),
            ],
            "endpoint_url",
        ),
        (
            vec![
                ("endpoint_url", url.as_str()),
                ("events", "dsync.user.created"),
                ("organization_id", "org_nope"),
            ],
            "organization",
        ),
    ] {
        let mut f = vec![("csrf", csrf.as_str())];
        f.extend(form);
        let p = b.post("/admin/webhooks", &f);
        assert_eq!(p.status, 400, "{why}: {}", p.body);
        assert!(p.body.contains(why), "{why}: {}", p.body);
        assert!(
            p.body.contains(&format!("value=\"{}\"", f[1].1)),
            "the form is kept"
        );
    }
    assert!(endpoints(&s).is_empty(), "nothing was created");

    // created: the secret is shown once
    let p = b.post(
        "/admin/webhooks",
        &[
            ("csrf", &csrf),
            ("endpoint_url", &url),
            ("description", "the app"),
            ("events", "dsync.user.created"),
            ("events", "dsync.token.created"),
        ],
    );
    assert_eq!(p.status, 200, "{}", p.body);
    let secret = p.value_of("new-secret");
    assert!(secret.starts_with("whsec_"), "{secret}");
    let eps = endpoints(&s);
    assert_eq!(eps.len(), 1);
    let ep = eps[0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        eps[0]["events"],
        json!(["dsync.user.created", "dsync.token.created"])
    );
    assert_eq!(eps[0]["description"], "the app");
    let page = format!("/admin/webhooks/{ep}");
    let p = b.get(&page);
    assert_eq!(p.status, 200);
    assert!(!p.body.contains(&secret), "a secret is shown once");
    let r = &records(&s, "webhook_endpoint.created")[0];
    assert_by_operator(r);
    assert_eq!(r["target"]["id"], ep.as_str());
    assert!(
        !r.to_string().contains(&secret),
        "no secret in the audit log"
    );

    // an event, sent to a receiver that is down: the endpoint is failing, its attempts
    // are listed and filtered by status
    let (st, _, _) = s.scim(&d, Method::POST, "/Users", Some(user_body("ada@acme.test")));
    assert_eq!(st, 201);
    let mut p = b.get(&page);
    for _ in 0..100 {
        if p.body.contains("Failing since") && p.body.contains("dsync.user.created") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        p = b.get(&page);
    }
    assert!(p.body.contains("Failing since"), "{}", p.body);
    assert!(p.body.contains("<td>failed</td>"), "{}", p.body);
    assert!(p.body.contains("undelivered"), "{}", p.body);
    let list = b.get("/admin/webhooks");
    assert!(list.body.contains("failing since"), "{}", list.body);
    assert!(list.body.contains(&url));
    let p = b.get(&format!("{page}?status=delivered"));
    assert!(
        p.body.contains("No delivery with this status"),
        "{}",
        p.body
    );
    let p = b.get(&format!("{page}?status=failed"));
    assert!(p.body.contains("<td>failed</td>"));
    let p = b.get(&format!("{page}?status=lost"));
    assert_eq!(p.status, 400);
    assert!(p.body.contains("the status must be"), "{}", p.body);
    assert_eq!(b.get(&format!("{page}?before=whd_x")).status, 400);
    assert_eq!(
        b.get("/admin/webhooks/we_01JAAAAAAAAAAAAAAAAAAAAAAA")
            .status,
        404
    );

    // disable, enable
    let p = b.post(
        &format!("{page}/status"),
        &[("csrf", &csrf), ("status", "paused")],
    );
    assert_eq!(p.status, 400);
    assert_eq!(endpoints(&s)[0]["status"], "enabled");
    let p = b.post(
        &format!("{page}/status"),
        &[("csrf", &csrf), ("status", "disabled")],
    );
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(endpoints(&s)[0]["status"], "disabled");
    assert!(b.get(&page).body.contains("Disabled"));
    let r = &records(&s, "webhook_endpoint.updated")[0];
    assert_by_operator(r);
    assert_eq!(r["details"]["status"], "disabled");
    let p = b.post(
        &format!("{page}/status"),
        &[("csrf", &csrf), ("status", "enabled")],
    );
    assert_eq!(p.status, 303);
    assert_eq!(endpoints(&s)[0]["status"], "enabled");

    // rotate: a new secret, shown once
    let p = b.post(&format!("{page}/rotate"), &[("csrf", &csrf)]);
    assert_eq!(p.status, 200, "{}", p.body);
    let rotated = p.value_of("new-secret");
    assert!(rotated.starts_with("whsec_") && rotated != secret);
    assert_by_operator(&records(&s, "webhook_endpoint.secret_rotated")[0]);

    // delete needs the confirmation
    let p = b.post(&format!("{page}/delete"), &[("csrf", &csrf)]);
    assert_eq!(p.status, 400);
    assert!(p.body.contains("I understand"), "{}", p.body);
    assert_eq!(endpoints(&s).len(), 1);
    let p = b.post(
        &format!("{page}/delete"),
        &[("csrf", &csrf), ("confirm", "yes")],
    );
    assert_eq!(p.status, 303);
    assert_eq!(p.location(), "/admin/webhooks");
    assert!(endpoints(&s).is_empty());
    assert_by_operator(&records(&s, "webhook_endpoint.deleted")[0]);
    assert_eq!(b.get(&page).status, 404);
}

#[test]
fn a_server_that_refuses_private_targets_refuses_them_here_too() {
    let s = start();
    create_admin(&s);
    let mut b = Browser::logged_in(&s);
    let csrf = b.csrf();
    for url in ["http://127.0.0.1:9/hook", "https://127.0.0.1:9/hook"] {
        let p = b.post(
            "/admin/webhooks",
            &[
                ("csrf", &csrf),
                ("endpoint_url", url),
                ("events", "dsync.user.created"),
            ],
        );
        assert_eq!(p.status, 400, "{url}: {}", p.body);
        assert!(p.body.contains("endpoint_url"), "{}", p.body);
    }
    assert!(endpoints(&s).is_empty());
}

#[test]
fn operators_create_and_revoke_api_keys() {
    let s = start();
    create_admin(&s);
    let mut b = Browser::logged_in(&s);
    let p = b.get("/admin/api_keys");
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(
        p.body.contains("bootstrap"),
        "the test's bootstrap key is listed"
    );
    let csrf = p.input("csrf");
    let keys = || {
        let (st, v) = s.api(Method::GET, "/api_keys", None);
        assert_eq!(st, 200, "{v}");
        v["data"].as_array().unwrap().len()
    };
    let before = keys();

    // refused: no scope, an unknown scope, no name, an expiry in the past or unreadable
    for (form, why) in [
        (vec![("name", "reader")], "at least one scope"),
        (
            vec![("name", "reader"), ("scopes", "users:write")],
            "unknown scope",
        ),
        (vec![("name", " "), ("scopes", "events:read")], "name"),
        (
            vec![
                ("name", "reader"),
                ("scopes", "events:read"),
                ("expires_at", "2001-01-01"),
            ],
            "in the future",
        ),
        (
            vec![
                ("name", "reader"),
                ("scopes", "events:read"),
                ("expires_at", "next week"),
            ],
            "neither a date",
        ),
    ] {
        let mut f = vec![("csrf", csrf.as_str())];
        f.extend(form);
        let p = b.post("/admin/api_keys", &f);
        assert_eq!(p.status, 400, "{why}: {}", p.body);
        assert!(p.body.contains(why), "{why}: {}", p.body);
    }
    assert_eq!(keys(), before, "nothing was created");

    // created: shown once, with the scopes asked for
    let p = b.post(
        "/admin/api_keys",
        &[
            ("csrf", &csrf),
            ("name", "events reader"),
            ("scopes", "events:read"),
            ("expires_at", "2099-01-31"),
        ],
    );
    assert_eq!(p.status, 200, "{}", p.body);
    let key = p.value_of("new-key");
    assert!(key.starts_with("sk_"), "{key}");
    let p = b.get("/admin/api_keys");
    assert!(!p.body.contains(&key), "a key is shown once");
    assert!(p.body.contains("events reader") && p.body.contains("2099-01-31 23:59:59 UTC"));
    assert_eq!(keys(), before + 1);
    let r = &records(&s, "api_key.created")[0];
    assert_by_operator(r);
    let key_id = r["target"]["id"].as_str().unwrap().to_string();
    assert!(!r.to_string().contains(&key), "no key in the audit log");
    assert_eq!(
        s.req(Method::GET, "/events?limit=1", &key, None)
            .status()
            .as_u16(),
        200
    );
    assert_eq!(
        s.req(Method::GET, "/api_keys", &key, None)
            .status()
            .as_u16(),
        403,
        "least privilege"
    );
    assert!(b.get("/admin/api_keys").body.contains("events:read"));

    // revoked: refused at once
    let p = b.post(
        &format!("/admin/api_keys/{key_id}/revoke"),
        &[("csrf", &csrf)],
    );
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(
        s.req(Method::GET, "/events?limit=1", &key, None)
            .status()
            .as_u16(),
        401
    );
    assert_eq!(keys(), before);
    let r = &records(&s, "api_key.revoked")[0];
    assert_by_operator(r);
    assert_eq!(r["target"]["id"], key_id.as_str());
    // again, or an unknown key: 404
    let p = b.post(
        &format!("/admin/api_keys/{key_id}/revoke"),
        &[("csrf", &csrf)],
    );
    assert_eq!(p.status, 404);
    assert_eq!(
        b.post("/admin/api_keys/nonsense/revoke", &[("csrf", &csrf)])
            .status,
        404
    );
}

#[test]
fn the_audit_log_is_filtered_and_paged() {
    let s = start();
    create_admin(&s);
    let core = core_of(&s);
    let cli = Actor::cli().with_name("deploy");
    for i in 0..55 {
        audit::record(
            &core,
            Entry::new(&cli, "organization.created", Outcome::Success)
                .target("organization", format!("org_{i:02}")),
        )
        .unwrap();
    }
    audit::record(
        &core,
        Entry::new(&Actor::system(), "api_key.revoked", Outcome::Success)
            .target("api_key", "api_key_x"),
    )
    .unwrap();
    let mut b = Browser::logged_in(&s);
    let p = b.get("/admin/audit");
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(
        p.body.matches("<tr><td class=\"nowrap\">").count(),
        50,
        "50 a page"
    );
    assert!(p.body.contains("api_key.revoked"), "newest first");
    let p2 = b.get(&next_link(&p).unwrap());
    assert_eq!(p2.status, 200);
    // 56 records, the operator's creation by the CLI (admin_user.created) and the
    // login (admin.login, recorded in the background: it may land after the first page)
    let rest = p2.body.matches("<tr><td class=\"nowrap\">").count();
    assert!((7..=8).contains(&rest), "{rest}");
    assert!(p2.body.contains("org_00"), "the oldest on the last page");
    assert!(p2.body.contains("rel=\"prev\""));

    // filters
    let p = b.get("/admin/audit?actor=system");
    assert_eq!(p.body.matches("<tr><td class=\"nowrap\">").count(), 1);
    let p = b.get("/admin/audit?action=organization.created&target=org_07");
    assert_eq!(p.body.matches("<tr><td class=\"nowrap\">").count(), 1);
    assert!(p.body.contains("cli deploy"));
    let p = b.get("/admin/audit?actor=admin_none");
    assert!(p.body.contains("No record matches"), "{}", p.body);
    let p = b.get("/admin/audit?until=2001-01-01T00:00:00Z");
    assert!(p.body.contains("No record matches"));
    let p = b.get("/admin/audit?since=2001-01-01T00:00:00Z&action=api_key.revoked");
    assert_eq!(p.body.matches("<tr><td class=\"nowrap\">").count(), 1);
    // bad input
    let p = b.get("/admin/audit?since=yesterday");
    assert_eq!(p.status, 400);
    assert!(p.body.contains("RFC 3339"), "{}", p.body);
    let p = b.get("/admin/audit?since=2026-12-08T00:00:00Z&until=2026-12-07T00:00:00Z");
    assert_eq!(p.status, 400);
    assert!(p.body.contains("the time range is empty"), "{}", p.body);
    assert_eq!(b.get("/admin/audit?after=org_1").status, 400);
}

#[test]
fn the_new_pages_need_a_session_and_their_forms_the_csrf_token_and_origin() {
    let s = start_for_webhooks();
    create_admin(&s);
    let d = s.onboard("okta scim v2.0");
    let (st, ep) = s.api(
        Method::POST,
        "/webhook_endpoints",
        Some(json!({"endpoint_url": dead_url()})),
    );
    assert_eq!(st, 201, "{ep}");
    let ep = ep["id"].as_str().unwrap().to_string();
    let (st, key) = s.api(
        Method::POST,
        "/api_keys",
        Some(json!({"name": "k", "scopes": ["events:read"]})),
    );
    assert_eq!(st, 201, "{key}");
    let key_id = key["id"].as_str().unwrap().to_string();
    let (_, _, g) = s.scim(
        &d,
        Method::POST,
        "/Groups",
        Some(
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "G"}),
        ),
    );
    let gid = g["id"].as_str().unwrap().to_string();

    let mut anon = Browser::new(&s);
    for path in [
        format!("/admin/directories/{}/groups", d.id),
        format!("/admin/groups/{gid}"),
        "/admin/webhooks".to_string(),
        format!("/admin/webhooks/{ep}"),
        "/admin/api_keys".to_string(),
        "/admin/audit".to_string(),
    ] {
        let p = anon.get(&path);
        assert_eq!(p.status, 303, "{path}");
        assert_eq!(p.location(), "/admin/login", "{path}");
    }

    let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
        (
            "/admin/webhooks".into(),
            vec![
                ("endpoint_url", "http://127.0.0.1:9/x"),
                ("events", "dsync.user.created"),
            ],
        ),
        (
            format!("/admin/webhooks/{ep}/status"),
            vec![("status", "disabled")],
        ),
        (format!("/admin/webhooks/{ep}/rotate"), vec![]),
        (
            format!("/admin/webhooks/{ep}/delete"),
            vec![("confirm", "yes")],
        ),
        (
            "/admin/api_keys".into(),
            vec![("name", "evil"), ("scopes", "admin")],
        ),
        (format!("/admin/api_keys/{key_id}/revoke"), vec![]),
    ];
    let mut b = Browser::logged_in(&s);
    let csrf = b.csrf();
    let base = s.base.clone();
    let webhook = |s: &Server| {
        let (st, v) = s.api(Method::GET, &format!("/webhook_endpoints/{ep}"), None);
        assert_eq!(st, 200, "{v}");
        v
    };
    let before = webhook(&s);
    let keys = |s: &Server| s.api(Method::GET, "/api_keys", None).1["data"].clone();
    let keys_before = keys(&s);
    for (path, form) in &posts {
        // no session
        let mut f = form.clone();
        f.push(("csrf", &csrf));
        assert_eq!(anon.post(path, &f).status, 403, "{path} without a session");
        // a session, but no token, a wrong token, no Origin, a foreign Origin
        assert_eq!(b.post(path, form).status, 403, "{path} without a token");
        let mut wrong = form.clone();
        wrong.push(("csrf", "0123"));
        assert_eq!(
            b.post(path, &wrong).status,
            403,
            "{path} with a wrong token"
        );
        assert_eq!(
            b.post_from(None, path, &f).status,
            403,
            "{path} without Origin"
        );
        assert_eq!(
            b.post_from(Some("https://evil.test"), path, &f).status,
            403,
            "{path} from another origin"
        );
        let _ = &base;
    }
    // nothing changed
    let after = webhook(&s);
    assert_eq!(after["status"], before["status"]);
    assert_eq!(after["updated_at"], before["updated_at"], "not rotated");
    assert_eq!(
        s.api(Method::GET, "/webhook_endpoints", None).1["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(keys(&s), keys_before);
}
