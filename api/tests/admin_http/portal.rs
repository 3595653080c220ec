//! The setup portal: `POST /portal/generate_link` (WorkOS shape), links valid 5
//! minutes and once, setup sessions scoped to one organization, the IT admin's flow
//! (pick the IdP, URL and token shown once, live status, token rotation, finish).

use reqwest::Method;
use serde_json::{json, Value};

use super::security::{base64_url, forge, now};
use super::*;

fn generate(s: &Server, org: &str, extra: Value) -> String {
    let mut body = json!({"organization": org, "intent": "dsync"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (st, v) = s.api(Method::POST, "/portal/generate_link", Some(body));
    assert_eq!(st, 201, "{v}");
    let link = v["link"].as_str().unwrap().to_string();
    assert!(
        link.starts_with(&format!("{}/portal/start?token=", s.base)),
        "{link}"
    );
    link
}

fn token_of(link: &str) -> String {
    link.split("token=").nth(1).unwrap().to_string()
}

/// Open a link: the page, then its button; the browser now holds a setup session.
fn open(b: &mut Browser, link: &str) -> Page {
    let path = link.trim_start_matches(&b.s.base).to_string();
    let page = b.get(&path);
    assert_eq!(page.status, 200, "{}", page.body);
    let token = page.input("token");
    b.post("/portal/start", &[("token", &token)])
}

#[test]
fn generate_link_speaks_workos_and_checks_its_input() {
    let s = start();
    let d = s.onboard("okta scim v2.0");
    generate(
        &s,
        &d.org,
        json!({"success_url": "https://app.vendor.test/done"}),
    );
    // no API key
    let r = s.req(
        Method::POST,
        "/portal/generate_link",
        "sk_wrong",
        Some(json!({"organization": d.org, "intent": "dsync"})),
    );
    assert_eq!(r.status().as_u16(), 401);
    for (body, status) in [
        (json!({"organization": d.org, "intent": "sso"}), 422),
        (json!({"organization": d.org}), 422),
        (json!({"intent": "dsync"}), 422),
        (
            json!({"organization": d.org, "intent": "dsync", "success_url": "javascript:alert(1)"}),
            422,
        ),
        (
            json!({"organization": "org_01JAAAAAAAAAAAAAAAAAAAAAAA", "intent": "dsync"}),
            404,
        ),
        (json!({"organization": "nonsense", "intent": "dsync"}), 404),
    ] {
        let (st, v) = s.api(Method::POST, "/portal/generate_link", Some(body.clone()));
        assert_eq!(st, status, "{body}: {v}");
    }
}

#[test]
fn links_work_once_within_five_minutes_and_refuse_tampering() {
    let s = start();
    let d = s.onboard("okta scim v2.0");
    let link = generate(&s, &d.org, json!({}));
    let mut b = Browser::new(&s);
    let p = open(&mut b, &link);
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(p.location(), "/portal");
    let c = p.headers.get("set-cookie").unwrap().to_str().unwrap();
    for attr in [
        "sg_setup=",
        "HttpOnly",
        "SameSite=Lax",
        "Path=/portal",
        "Max-Age=3600",
    ] {
        assert!(c.contains(attr), "{c}");
    }
    // used: refused, from any browser
    let again = Browser::new(&s).post("/portal/start", &[("token", &token_of(&link))]);
    assert_eq!(again.status, 404, "{}", again.body);
    assert!(again.body.contains("expired, was already used"));
    // tampered
    let fresh = token_of(&generate(&s, &d.org, json!({})));
    let mut t = fresh.clone().into_bytes();
    let i = t.len() - 3;
    t[i] = if t[i] == b'A' { b'B' } else { b'A' };
    let t = String::from_utf8(t).unwrap();
    assert_eq!(
        Browser::new(&s)
            .get(&format!("/portal/start?token={t}"))
            .status,
        404
    );
    assert_eq!(
        Browser::new(&s)
            .post("/portal/start", &[("token", &t)])
            .status,
        404
    );
    // expired (signed by the server's key, its row unused)
    let link_id = scimgate_core::service::admin_ui::setup_links_of(
        &core_of(&s),
        &scimgate_core::ids::OrganizationId::parse(&d.org).unwrap(),
    )
    .unwrap()[0]
        .id
        .clone();
    let expired = forge(
        &s,
        json!({"typ":"link","sub":d.org,"iat":now()-400,"exp":now()-100,"csrf":"","link":link_id}),
    );
    assert_eq!(
        Browser::new(&s)
            .post("/portal/start", &[("token", &expired)])
            .status,
        404
    );
    // a link for another organization's row
    let other = s.onboard("okta scim v2.0");
    let crossed = forge(
        &s,
        json!({"typ":"link","sub":other.org,"iat":now(),"exp":now()+100,"csrf":"","link":link_id}),
    );
    assert_eq!(
        Browser::new(&s)
            .post("/portal/start", &[("token", &crossed)])
            .status,
        404
    );
    // a session token is not a link
    let sess = forge(
        &s,
        json!({"typ":"setup","sub":d.org,"iat":now(),"exp":now()+100,"csrf":""}),
    );
    assert_eq!(
        Browser::new(&s)
            .post("/portal/start", &[("token", &sess)])
            .status,
        404
    );
    // the untouched link still opens once
    let mut b = Browser::new(&s);
    assert_eq!(
        open(&mut b, &format!("{}/portal/start?token={fresh}", s.base)).status,
        303
    );
    // revoked by an operator: refused
    let l3 = generate(&s, &d.org, json!({}));
    let l3_id = scimgate_core::service::admin_ui::setup_links_of(
        &core_of(&s),
        &scimgate_core::ids::OrganizationId::parse(&d.org).unwrap(),
    )
    .unwrap()[0]
        .id
        .clone();
    scimgate_core::service::admin_ui::revoke_setup_link(
        &core_of(&s),
        &scimgate_core::ids::OrganizationId::parse(&d.org).unwrap(),
        &l3_id,
    )
    .unwrap();
    assert_eq!(
        Browser::new(&s)
            .post("/portal/start", &[("token", &token_of(&l3))])
            .status,
        404
    );
}

#[test]
fn the_it_admin_connects_okta_and_sees_it_come_alive() {
    let s = start();
    let d = s.onboard("okta scim v2.0");
    let link = generate(
        &s,
        &d.org,
        json!({"success_url": "https://app.vendor.test/welcome"}),
    );
    let mut b = Browser::new(&s);
    open(&mut b, &link);
    let pick = b.get("/portal");
    assert_eq!(pick.status, 200, "{}", pick.body);
    assert!(pick.body.contains("Okta") && pick.body.contains("Microsoft Entra ID"));
    let csrf = pick.input("csrf");
    // CSRF and Origin on the portal's forms too
    assert_eq!(
        b.post(
            "/portal/idp",
            &[("csrf", "nope"), ("type", "okta scim v2.0")]
        )
        .status,
        403
    );
    assert_eq!(
        b.post_from(
            None,
            "/portal/idp",
            &[("csrf", &csrf), ("type", "okta scim v2.0")]
        )
        .status,
        403
    );
    let setup = b.post(
        "/portal/idp",
        &[("csrf", &csrf), ("type", "okta scim v2.0")],
    );
    assert_eq!(setup.status, 200, "{}", setup.body);
    assert!(setup.body.contains("Okta Admin Console"), "Okta's steps");
    let url = setup.value_of("scim-url");
    let token = setup.value_of("scim-token");
    assert!(
        url.starts_with(&format!("{}/scim/v2/directory_", s.base)),
        "{url}"
    );
    assert!(b
        .get("/portal")
        .body
        .contains("Waiting for the first request"));
    assert!(
        !b.get("/portal").body.contains(&token),
        "the token is shown once"
    );
    // a second IdP in the same session is refused
    assert_eq!(
        b.post(
            "/portal/idp",
            &[("csrf", &csrf), ("type", "okta scim v2.0")]
        )
        .status,
        400
    );

    // the IdP connects with what the page showed
    let dir = Dir {
        id: url.rsplit('/').next().unwrap().to_string(),
        org: d.org.clone(),
        token: token.clone(),
        base: url.clone(),
    };
    assert_eq!(
        s.scim(
            &dir,
            Method::POST,
            "/Users",
            Some(user_body("grace@acme.test"))
        )
        .0,
        201
    );
    let status = b.get("/portal/status");
    assert_eq!(status.status, 200);
    assert!(status.body.contains("Connected"), "{}", status.body);
    assert!(
        status.body.contains("<span id=\"user-count\">1</span>"),
        "{}",
        status.body
    );

    // the live panel is a long poll (issue 16: the status reaches the browser within a
    // second of the IdP's request). Unchanged, it is held for `wait` seconds and comes
    // back with the same version (ETag); an IdP request during the wait answers it early
    // with the new panel.
    // (after the sync-health flush of the request above, every 500 ms)
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let status = b.get("/portal/status");
    let version = status.headers["etag"].to_str().unwrap().to_string();
    assert!(version.starts_with('"') && version.len() == 18, "{version}");
    let poll = |b: &mut Browser, wait: u64| {
        b.get(&format!(
            "/portal/status?wait={wait}&seen={}",
            version.replace('"', "%22")
        ))
    };
    let t = std::time::Instant::now();
    let held = poll(&mut b, 1);
    assert!(t.elapsed() >= std::time::Duration::from_millis(900), "held");
    assert_eq!(held.status, 200);
    assert_eq!(held.headers["etag"].to_str().unwrap(), version);
    assert_eq!(held.body, status.body);
    let t = std::time::Instant::now();
    let woken = std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(std::time::Duration::from_millis(300));
            let created = s.scim(
                &dir,
                Method::POST,
                "/Users",
                Some(user_body("ada@acme.test")),
            );
            assert_eq!(created.0, 201);
        });
        poll(&mut b, 20)
    });
    assert!(
        t.elapsed() < std::time::Duration::from_secs(10),
        "woken by the write, not the 20 s deadline: {:?}",
        t.elapsed()
    );
    assert_ne!(woken.headers["etag"].to_str().unwrap(), version);
    assert!(
        woken.body.contains("<span id=\"user-count\">2</span>"),
        "{}",
        woken.body
    );
    // a GET changes no count: the sync-health flush (`Notice::Health`) wakes the poll
    // with the new last request
    let version = woken.headers["etag"].to_str().unwrap().to_string();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let t = std::time::Instant::now();
    let woken = std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(std::time::Duration::from_millis(300));
            assert_eq!(s.scim(&dir, Method::GET, "/Users?count=1", None).0, 200);
        });
        b.get(&format!(
            "/portal/status?wait=20&seen={}",
            version.replace('"', "%22")
        ))
    });
    assert!(
        t.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        t.elapsed()
    );
    assert_ne!(woken.headers["etag"].to_str().unwrap(), version);
    assert!(woken.body.contains("<span id=\"user-count\">2</span>"));

    // a refused request is explained on the status panel
    let bad = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "grace@acme.test"});
    assert_eq!(s.scim(&dir, Method::POST, "/Users", Some(bad)).0, 409);
    let mut panel = String::new();
    for _ in 0..50 {
        panel = b.get("/portal/status").body;
        if panel.contains("Recent problems") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(
        panel.contains("tried to create something that already exists"),
        "{panel}"
    );
    assert!(panel.contains("Last request:"), "{panel}");

    // a tolerated quirk is explained too (IDP-QUIRKS ENTRA-STRING-BOOL, ENTRA-OP-CASE:
    // Entra's deactivation), and it is no rejection
    let (_, _, found) = s.scim(
        &dir,
        Method::GET,
        "/Users?filter=userName%20eq%20%22grace@acme.test%22",
        None,
    );
    let id = found["Resources"][0]["id"].as_str().unwrap().to_string();
    let entra = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
    let (st, _, u) = s.scim(&dir, Method::PATCH, &format!("/Users/{id}"), Some(entra));
    assert_eq!(st, 200, "{u}");
    assert_eq!(u["active"], false);
    for _ in 0..50 {
        panel = b.get("/portal/status").body;
        if panel.contains("instead of a boolean") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(
        panel.contains(
            "sent `active` as the text &#34;False&#34; instead of a boolean; accepted as false"
        ),
        "{panel}"
    );
    assert!(
        panel.contains("PATCH operation &#34;Replace&#34; with capitals"),
        "{panel}"
    );

    // rotation: a new token, the old one refused
    let rotated = b.post("/portal/rotate", &[("csrf", &csrf)]);
    assert_eq!(rotated.status, 200);
    let new_token = rotated.value_of("scim-token");
    assert_ne!(new_token, token);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(s.scim(&dir, Method::GET, "/Users", None).0, 401);
    let dir2 = Dir {
        token: new_token,
        ..dir
    };
    assert_eq!(s.scim(&dir2, Method::GET, "/Users", None).0, 200);

    // finish: back to the vendor, the session ends
    let done = b.post("/portal/finish", &[("csrf", &csrf)]);
    assert_eq!(done.status, 200);
    assert!(
        done.body
            .contains("href=\"https://app.vendor.test/welcome\""),
        "{}",
        done.body
    );
    assert!(
        done.body.contains("url=https://app.vendor.test/welcome"),
        "{}",
        done.body
    );
    assert_eq!(b.get("/portal").status, 403);
}

#[test]
fn a_setup_session_cannot_see_or_touch_another_organization() {
    let s = start();
    create_admin(&s);
    let mine = s.onboard("okta scim v2.0");
    let theirs = s.onboard("azure scim v2.0");
    let mut b = Browser::new(&s);
    open(&mut b, &generate(&s, &mine.org, json!({})));
    let csrf = b.get("/portal").input("csrf");
    b.post(
        "/portal/idp",
        &[("csrf", &csrf), ("type", "okta scim v2.0")],
    );
    // ids in the query or form are not read: every route answers about the session's own
    for path in [
        format!("/portal?organization={}", theirs.org),
        format!("/portal?directory={}", theirs.id),
        format!("/portal/status?directory={}", theirs.id),
    ] {
        let p = b.get(&path);
        assert_eq!(p.status, 200);
        assert!(
            !p.body.contains(&theirs.id) && !p.body.contains(&theirs.org),
            "{path}"
        );
    }
    let before = s
        .api(
            Method::GET,
            &format!("/directories/{}/tokens", theirs.id),
            None,
        )
        .1;
    let p = b.post(
        "/portal/rotate",
        &[
            ("csrf", &csrf),
            ("directory", &theirs.id),
            ("organization", &theirs.org),
        ],
    );
    assert!(!p.body.contains(&theirs.id));
    let after = s
        .api(
            Method::GET,
            &format!("/directories/{}/tokens", theirs.id),
            None,
        )
        .1;
    assert_eq!(
        before, after,
        "the other organization's tokens are untouched"
    );
    // a setup session is no operator's
    let setup_cookie = b.cookies["sg_setup"].clone();
    let mut c = Browser::new(&s);
    c.cookies.insert("sg_admin".into(), setup_cookie.clone());
    assert_eq!(
        c.get(&format!("/admin/organizations/{}", theirs.org))
            .status,
        303
    );
    assert_eq!(
        c.get(&format!("/admin/directories/{}", theirs.id)).status,
        303
    );
    // a forged session naming my organization and their directory is refused on
    // every route that reads the directory
    let forged = forge(
        &s,
        json!({"typ":"setup","sub":mine.org,"iat":now(),"exp":now()+600,"csrf":"c","dir":theirs.id}),
    );
    let mut f = Browser::new(&s);
    f.cookies.insert("sg_setup".into(), forged);
    assert_eq!(f.get("/portal").status, 404);
    assert_eq!(f.get("/portal/status").status, 404);
    assert_eq!(f.post("/portal/rotate", &[("csrf", "c")]).status, 404);
    let after2 = s
        .api(
            Method::GET,
            &format!("/directories/{}/tokens", theirs.id),
            None,
        )
        .1;
    assert_eq!(before, after2);
    // an expired or unsigned setup session is refused
    let expired = forge(
        &s,
        json!({"typ":"setup","sub":mine.org,"iat":now()-4000,"exp":now()-1,"csrf":"c"}),
    );
    let mut e = Browser::new(&s);
    e.cookies.insert("sg_setup".into(), expired);
    assert_eq!(e.get("/portal").status, 403);
    let unsigned = format!(
        "{}.{}.",
        base64_url(&json!({"alg":"none","typ":"JWT"})),
        base64_url(&json!({"typ":"setup","sub":theirs.org,"iat":now(),"exp":now()+600,"csrf":"c"}))
    );
    let mut u = Browser::new(&s);
    u.cookies.insert("sg_setup".into(), unsigned);
    assert_eq!(u.get("/portal").status, 403);
}

#[test]
fn an_operator_generates_copies_and_revokes_setup_links() {
    let s = start();
    create_admin(&s);
    let d = s.onboard("okta scim v2.0");
    let mut b = Browser::logged_in(&s);
    let csrf = b.csrf();
    let org_path = format!("/admin/organizations/{}", d.org);
    let p = b.post(&format!("{org_path}/setup_links"), &[("csrf", &csrf)]);
    assert_eq!(p.status, 200, "{}", p.body);
    let link = p.value_of("new-link");
    assert!(
        link.starts_with(&format!("{}/portal/start?token=", s.base)),
        "{link}"
    );
    assert!(p.body.contains("data-copy=\"new-link\""), "a copy button");
    assert!(p.body.contains("waiting to be opened"));
    assert!(
        !b.get(&org_path).body.contains(&link),
        "a link is shown once"
    );
    // revoke it from the page: the link is refused
    let page = b.get(&org_path);
    let at = page.body.find("/setup_links/setup_link_").unwrap();
    let id = &page.body[at + 13..at + 13 + "setup_link_".len() + 26];
    let p = b.post(
        &format!("{org_path}/setup_links/{id}/revoke"),
        &[("csrf", &csrf)],
    );
    assert_eq!(p.status, 303, "{}", p.body);
    assert!(b.get(&org_path).body.contains("revoked"));
    let start = Browser::new(&s).post("/portal/start", &[("token", &token_of(&link))]);
    assert_eq!(start.status, 404);
    // another organization's link cannot be revoked through this one
    let other = s.onboard("okta scim v2.0");
    let l2 = generate(&s, &other.org, json!({}));
    let links = scimgate_core::service::admin_ui::setup_links_of(
        &core_of(&s),
        &scimgate_core::ids::OrganizationId::parse(&other.org).unwrap(),
    )
    .unwrap();
    let p = b.post(
        &format!("{org_path}/setup_links/{}/revoke", links[0].id),
        &[("csrf", &csrf)],
    );
    assert_eq!(p.status, 404);
    let mut it = Browser::new(&s);
    assert_eq!(open(&mut it, &l2).status, 303, "still opens");
}
