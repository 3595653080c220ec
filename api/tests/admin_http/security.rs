//! Every security rule of the admin UI: no page without a session; session cookies'
//! attributes, tampering, expiry, kind and key rotation; CSRF token and Origin on every
//! POST; login throttling (429, counted); security headers; disabled operators and
//! reset passwords end sessions.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use super::*;
use scimgate_core::service::admin_ui;

/// A token signed with the server's newest session key.
pub fn forge(s: &Server, claims: Value) -> String {
    let keys = admin_ui::session_keys(&core_of(s)).unwrap();
    let k = &keys[0];
    let mut h = Header::new(Algorithm::HS256);
    h.kid = Some(k.kid.clone());
    jsonwebtoken::encode(&h, &claims, &EncodingKey::from_secret(&k.secret)).unwrap()
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn assert_security_headers(p: &Page) {
    let h = |n: &str| {
        p.headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let csp = h("content-security-policy");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(h("x-content-type-options"), "nosniff");
    assert_eq!(h("x-frame-options"), "DENY");
}

#[test]
fn every_admin_page_needs_a_session() {
    let s = start();
    create_admin(&s);
    let d = s.onboard("okta scim v2.0");
    let mut b = Browser::new(&s);
    for path in [
        "/admin",
        "/admin/",
        "/admin/events",
        "/admin/events/fragment",
        &format!("/admin/organizations/{}", d.org),
        &format!("/admin/directories/{}", d.id),
        &format!("/admin/directories/{}/users", d.id),
        "/admin/users/directory_user_01JAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let p = b.get(path);
        assert_eq!(p.status, 303, "{path}: {}", p.body);
        assert_eq!(p.location(), "/admin/login", "{path}");
        assert!(!p.body.contains(&d.org), "{path} leaked data");
        assert_security_headers(&p);
    }
    for path in [
        "/admin/organizations".to_string(),
        format!("/admin/organizations/{}/domains", d.org),
        format!("/admin/organizations/{}/directories", d.org),
        format!("/admin/organizations/{}/setup_links", d.org),
        format!("/admin/directories/{}/tokens", d.id),
        format!("/admin/directories/{}/delete", d.id),
        "/admin/logout".to_string(),
    ] {
        let p = b.post(
            &path,
            &[("csrf", "x"), ("name", "Evil"), ("confirm", "Acme IdP")],
        );
        assert_eq!(p.status, 403, "{path}: {}", p.body);
    }
    // nothing was changed
    assert_eq!(
        s.api(
            reqwest::Method::GET,
            &format!("/directories/{}", d.id),
            None
        )
        .0,
        200
    );
    // the login form and the assets are public, with the same headers
    for path in [
        "/admin/login",
        "/admin/assets/app.css",
        "/admin/assets/app.js",
    ] {
        let p = b.get(path);
        assert_eq!(p.status, 200, "{path}");
        assert_security_headers(&p);
    }
}

#[test]
fn a_login_sets_a_strict_session_cookie_and_logout_clears_it() {
    let s = start();
    create_admin(&s);
    let mut b = Browser::new(&s);
    let p = b.login(EMAIL, PASSWORD);
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(p.location(), "/admin");
    let cookie = p
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("sg_admin="))
        .unwrap();
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/admin", "Max-Age=1800"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    // http public URL: not Secure (an https one is, see the next test)
    assert!(!cookie.contains("Secure"), "{cookie}");
    let home = b.get("/admin");
    assert_eq!(home.status, 200);
    assert!(home.body.contains(EMAIL));
    assert_security_headers(&home);
    let csrf = home.input("csrf");
    let out = b.post("/admin/logout", &[("csrf", &csrf)]);
    assert_eq!(out.status, 303);
    assert!(!b.cookies.contains_key("sg_admin"));
    assert_eq!(b.get("/admin").status, 303);
}

#[test]
fn cookies_are_secure_behind_an_https_public_url() {
    let s = Server::start_with(&[
        ("SCIMGATE_SECRET_KEY", SECRET_KEY),
        ("SCIMGATE_PUBLIC_URL", "https://scim.vendor.test"),
    ]);
    create_admin(&s);
    let mut b = Browser::new(&s);
    let form = b.get("/admin/login");
    let c = form.headers.get("set-cookie").unwrap().to_str().unwrap();
    assert!(c.contains("; Secure"), "{c}");
    // and POSTs must come from that origin
    let csrf = form.input("csrf");
    let p = b.post(
        "/admin/login",
        &[("email", EMAIL), ("password", PASSWORD), ("csrf", &csrf)],
    );
    assert_eq!(p.status, 403, "{}", p.body);
    let p = b.post_from(
        Some("https://scim.vendor.test"),
        "/admin/login",
        &[("email", EMAIL), ("password", PASSWORD), ("csrf", &csrf)],
    );
    assert_eq!(p.status, 303, "{}", p.body);
    assert!(p.headers.get_all("set-cookie").iter().any(|c| {
        let c = c.to_str().unwrap();
        c.starts_with("sg_admin=") && c.contains("; Secure")
    }));
}

#[test]
fn tampered_expired_foreign_or_unsigned_session_cookies_are_refused() {
    let s = start();
    create_admin(&s);
    let mut b = Browser::logged_in(&s);
    let good = b.cookies["sg_admin"].clone();
    let admin_id = admin_ui::list_admins(&core_of(&s)).unwrap()[0]
        .id
        .to_string();
    let refused = |value: String, why: &str| {
        let mut c = Browser::new(&s);
        c.cookies.insert("sg_admin".into(), value);
        let p = c.get("/admin");
        assert_eq!(p.status, 303, "{why}: {}", p.body);
    };
    // one character of the signature changed
    let mut t = good.clone().into_bytes();
    let i = t.len() - 3;
    t[i] = if t[i] == b'A' { b'B' } else { b'A' };
    refused(String::from_utf8(t).unwrap(), "tampered");
    // the payload changed (another subject), signature kept
    let parts: Vec<&str> = good.split('.').collect();
    let other = base64_url(
        &json!({"typ":"admin","sub":"admin_user_01JAAAAAAAAAAAAAAAAAAAAAAA","iat":now(),"exp":now()+600,"csrf":"x"}),
    );
    refused(
        format!("{}.{other}.{}", parts[0], parts[2]),
        "payload swapped",
    );
    // expired, signed with the real key
    refused(
        forge(
            &s,
            json!({"typ":"admin","sub":admin_id,"iat":now()-4000,"exp":now()-10,"csrf":"x"}),
        ),
        "expired",
    );
    // a setup-portal session is not an operator's
    refused(
        forge(
            &s,
            json!({"typ":"setup","sub":admin_id,"iat":now(),"exp":now()+600,"csrf":"x"}),
        ),
        "wrong kind",
    );
    // alg none
    let none = format!(
        "{}.{}.",
        base64_url(&json!({"alg":"none","typ":"JWT"})),
        base64_url(&json!({"typ":"admin","sub":admin_id,"iat":now(),"exp":now()+600,"csrf":"x"}))
    );
    refused(none, "unsigned");
    refused("garbage".into(), "garbage");
    // the genuine one still works
    assert_eq!(b.get("/admin").status, 200);
}

pub fn base64_url(v: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

#[test]
fn a_key_rotation_logs_nobody_out_and_new_sessions_use_the_new_key() {
    let s = start();
    create_admin(&s);
    let mut b = Browser::logged_in(&s);
    let core = core_of(&s);
    let before = admin_ui::session_keys(&core).unwrap();
    let after = admin_ui::rotate_session_keys(&core).unwrap();
    assert_eq!(after.len(), before.len() + 1);
    assert_ne!(after[0].kid, before[0].kid);
    // the old session still works
    assert_eq!(b.get("/admin").status, 200);
    // a token signed with the new key is accepted: the server reads the keys again
    // when a token names one it does not know (at most every second)
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let admin_id = admin_ui::list_admins(&core).unwrap()[0].id.to_string();
    let mut c = Browser::new(&s);
    c.cookies.insert(
        "sg_admin".into(),
        forge(
            &s,
            json!({"typ":"admin","sub":admin_id,"iat":now(),"exp":now()+600,"csrf":"x"}),
        ),
    );
    assert_eq!(c.get("/admin").status, 200);
    // the keys are sealed in the database
    for k in &after {
        assert!(!String::from_utf8_lossy(&k.secret).is_empty());
    }
}

#[test]
fn every_post_needs_the_origin_and_the_csrf_token() {
    let s = start();
    create_admin(&s);
    let mut b = Browser::logged_in(&s);
    let csrf = b.csrf();
    let base = s.base.clone();
    let form = |c: &str| vec![("csrf", c.to_string()), ("name", "Globex".to_string())];
    let send = |b: &mut Browser, origin: Option<&str>, c: &str| {
        let f = form(c);
        let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        b.post_from(origin, "/admin/organizations", &f)
    };
    assert_eq!(send(&mut b, None, &csrf).status, 403, "no Origin");
    assert_eq!(
        send(&mut b, Some("https://evil.test"), &csrf).status,
        403,
        "foreign Origin"
    );
    assert_eq!(send(&mut b, Some("null"), &csrf).status, 403, "null Origin");
    assert_eq!(send(&mut b, Some(&base), "").status, 403, "no token");
    assert_eq!(send(&mut b, Some(&base), "0123").status, 403, "wrong token");
    // none of them made anything
    assert!(!b.get("/admin").body.contains("Globex"));
    // a Referer of the site stands in for a missing Origin
    let r = b
        .client
        .post(format!("{base}/admin/organizations"))
        .header("Cookie", format!("sg_admin={}", b.cookies["sg_admin"]))
        .header("Referer", format!("{base}/admin"))
        .form(&[("csrf", csrf.as_str()), ("name", "Globex")])
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert!(b.get("/admin").body.contains("Globex"));
    // the login form too: its own token (cookie) and the Origin
    let mut c = Browser::new(&s);
    let f = c.get("/admin/login");
    let t = f.input("csrf");
    let creds = |t: &str| {
        vec![
            ("email", EMAIL.to_string()),
            ("password", PASSWORD.to_string()),
            ("csrf", t.to_string()),
        ]
    };
    let send_login = |c: &mut Browser, origin: Option<&str>, t: &str| {
        let f = creds(t);
        let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        c.post_from(origin, "/admin/login", &f)
    };
    assert_eq!(send_login(&mut c, None, &t).status, 403);
    assert_eq!(send_login(&mut c, Some(&base), "forged").status, 403);
    c.cookies.remove("sg_login");
    assert_eq!(send_login(&mut c, Some(&base), &t).status, 403);
}

fn throttled_count(s: &Server) -> f64 {
    let body = s
        .client
        .get(format!("{}/metrics", s.base))
        .send()
        .unwrap()
        .text()
        .unwrap();
    body.lines()
        .find(|l| l.starts_with("scimgate_admin_login_throttled_total"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[test]
fn failed_logins_are_throttled_per_account_with_429_and_counted() {
    let s = start();
    create_admin(&s);
    let mut b = Browser::new(&s);
    for i in 0..5 {
        let p = b.login(EMAIL, "wrong password!!");
        assert_eq!(p.status, 401, "attempt {i}: {}", p.body);
        assert!(p.body.contains("do not match"));
    }
    let p = b.login(EMAIL, "wrong password!!");
    assert_eq!(p.status, 429, "{}", p.body);
    assert!(p.headers.get("retry-after").is_some());
    // locked out: even the right password waits
    let p = b.login(EMAIL, PASSWORD);
    assert_eq!(p.status, 429, "{}", p.body);
    assert!(!b.cookies.contains_key("sg_admin"));
    assert!(throttled_count(&s) >= 2.0);
    // the account's case does not matter
    let p = b.login(&EMAIL.to_uppercase(), PASSWORD);
    assert_eq!(p.status, 429);
}

#[test]
fn failed_logins_are_throttled_per_client_address() {
    let s = start();
    create_admin(&s);
    let mut b = Browser::new(&s);
    // 20 failures over 20 accounts: none of them is locked, the address is next
    for i in 0..20 {
        let p = b.login(&format!("nobody{i}@vendor.test"), "wrong password!!");
        assert_eq!(p.status, 401, "attempt {i}");
    }
    let p = b.login("nobody-else@vendor.test", "wrong password!!");
    assert_eq!(p.status, 429);
    let p = b.login(EMAIL, PASSWORD);
    assert_eq!(p.status, 429, "the address is locked out for every account");
    assert!(throttled_count(&s) >= 2.0);
}

#[test]
fn disabled_operators_and_reset_passwords_end_sessions() {
    let s = start();
    create_admin(&s);
    let mut b = Browser::logged_in(&s);
    assert_eq!(b.get("/admin").status, 200);
    let out = admins(&s, &["disable", "--email", EMAIL], None);
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"disabled\":true"));
    assert_eq!(
        b.get("/admin").status,
        303,
        "a disabled operator's session ends"
    );
    assert_eq!(Browser::new(&s).login(EMAIL, PASSWORD).status, 401);
    admins(&s, &["disable", "--email", EMAIL, "--enable"], None);
    let mut b = Browser::logged_in(&s);
    let list = admins(&s, &["list"], None);
    let line: Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(line["email"], EMAIL);
    assert_eq!(line["disabled"], false);
    assert!(!String::from_utf8_lossy(&list.stdout).contains("argon2"));
    admins(
        &s,
        &["reset-password", "--email", EMAIL],
        Some("a brand new password"),
    );
    assert_eq!(
        b.get("/admin").status,
        303,
        "a reset password ends sessions"
    );
    assert_eq!(Browser::new(&s).login(EMAIL, PASSWORD).status, 401);
    assert_eq!(
        Browser::new(&s).login(EMAIL, "a brand new password").status,
        303
    );
}
