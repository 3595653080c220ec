//! The admin UI's and the setup portal's actions in the audit log (issue 17 point 3:
//! "API-key, admin, setup-session and CLI actors … covering … setup links, logins and
//! lock-outs"): who (the operator or the setup session, with the client address and
//! user agent), what, on what, and how it ended — never a secret.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use super::*;

/// The audit records with this action, oldest first, once at least `n` exist (lock-outs
/// and logins are recorded in the background, right after the answer).
fn records(s: &Server, action: &str, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (st, v) = s.api(
            Method::GET,
            &format!("/audit_logs?action={action}&order=asc&limit=100"),
            None,
        );
        assert_eq!(st, 200, "{v}");
        let data = v["data"].as_array().cloned().unwrap_or_default();
        if data.len() >= n || Instant::now() > deadline {
            return data;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn one(s: &Server, action: &str) -> Value {
    let r = records(s, action, 1);
    assert_eq!(r.len(), 1, "{action}: {r:?}");
    r[0].clone()
}

#[test]
fn operator_logins_changes_and_logouts_are_audited_with_who_and_where() {
    let s = start();
    create_admin(&s);
    let admins = one(&s, "admin_user.created");
    let admin_id = admins["target"]["id"].as_str().unwrap().to_string();
    assert_eq!(admins["actor"]["type"], "cli");

    // a failed login, then a good one
    let mut b = Browser::new(&s);
    assert_eq!(b.login(EMAIL, "not the password!").status, 401);
    let mut b = Browser::logged_in(&s);
    let logins = records(&s, "admin.login", 2);
    assert_eq!(logins.len(), 2, "{logins:?}");
    assert_eq!(logins[0]["outcome"], "denied");
    assert_eq!(logins[0]["actor"]["type"], "anonymous");
    assert_eq!(logins[0]["details"]["email"], EMAIL);
    assert!(!logins[0].to_string().contains("not the password"));
    assert_eq!(logins[1]["outcome"], "success");
    assert_eq!(logins[1]["actor"]["type"], "admin");
    assert_eq!(logins[1]["actor"]["id"], admin_id.as_str());
    assert_eq!(logins[1]["actor"]["client_address"], "127.0.0.1");

    // what the operator changes through the pages
    let csrf = b.csrf();
    let p = b.post(
        "/admin/organizations",
        &[
            ("csrf", &csrf),
            ("name", "Initech"),
            ("domains", "initech.test"),
        ],
    );
    assert_eq!(p.status, 303, "{}", p.body);
    let org_path = p.location().to_string();
    let org = org_path.rsplit('/').next().unwrap().to_string();
    let p = b.post(
        &format!("{org_path}/domains"),
        &[("csrf", &csrf), ("domains", "initech.com")],
    );
    assert_eq!(p.status, 303);
    let p = b.post(
        &format!("/admin/organizations/{org}/directories"),
        &[
            ("csrf", &csrf),
            ("type", "okta scim v2.0"),
            ("name", "Okta"),
        ],
    );
    assert_eq!(p.status, 200, "{}", p.body);
    let first_token = p.value_of("new-token");
    let created = one(&s, "directory.created");
    let dir = created["target"]["id"].as_str().unwrap().to_string();
    let dir_path = format!("/admin/directories/{dir}");
    let p = b.post(
        &format!("{dir_path}/tokens"),
        &[("csrf", &csrf), ("name", "second")],
    );
    assert_eq!(p.status, 200, "{}", p.body);
    let second_token = p.value_of("new-token");
    let tok = one(&s, "directory_token.created");
    let tok_id = tok["target"]["id"].as_str().unwrap().to_string();
    let p = b.post(
        &format!("{dir_path}/tokens/{tok_id}/revoke"),
        &[("csrf", &csrf)],
    );
    assert_eq!(p.status, 303, "{}", p.body);
    let p = b.post(&format!("{org_path}/setup_links"), &[("csrf", &csrf)]);
    assert_eq!(p.status, 200);
    let link = p.value_of("new-link");
    let made = one(&s, "setup_link.created");
    let link_id = made["target"]["id"].as_str().unwrap().to_string();
    let p = b.post(
        &format!("{org_path}/setup_links/{link_id}/revoke"),
        &[("csrf", &csrf)],
    );
    assert_eq!(p.status, 303);
    // a refused deletion is recorded as a failure, and the directory stays
    let p = b.post(
        &format!("{dir_path}/delete"),
        &[("csrf", &csrf), ("confirm", "Okay")],
    );
    assert_eq!(p.status, 400);
    let p = b.post(
        &format!("{dir_path}/delete"),
        &[("csrf", &csrf), ("confirm", "Okta")],
    );
    assert_eq!(p.status, 303, "{}", p.body);
    let p = b.post("/admin/logout", &[("csrf", &csrf)]);
    assert_eq!(p.status, 303);

    for (action, target) in [
        ("organization.created", org.as_str()),
        ("organization.updated", org.as_str()),
        ("directory.created", dir.as_str()),
        ("directory_token.created", tok_id.as_str()),
        ("directory_token.revoked", tok_id.as_str()),
        ("setup_link.created", link_id.as_str()),
        ("setup_link.revoked", link_id.as_str()),
    ] {
        let r = one(&s, action);
        assert_eq!(r["actor"]["type"], "admin", "{action}: {r}");
        assert_eq!(r["actor"]["id"], admin_id.as_str(), "{action}");
        assert_eq!(r["actor"]["name"], EMAIL, "{action}");
        assert_eq!(r["actor"]["client_address"], "127.0.0.1", "{action}");
        assert_eq!(r["target"]["id"], target, "{action}");
        assert_eq!(r["outcome"], "success", "{action}");
    }
    assert_eq!(
        one(&s, "organization.updated")["details"]["domains"],
        json!(["initech.com"])
    );
    let deletions = records(&s, "directory.deleted", 2);
    assert_eq!(deletions.len(), 2, "{deletions:?}");
    assert_eq!(deletions[0]["outcome"], "failure");
    assert_eq!(deletions[1]["outcome"], "success");
    assert_eq!(deletions[1]["target"]["id"], dir.as_str());
    let out = one(&s, "admin.logout");
    assert_eq!(out["actor"]["id"], admin_id.as_str());

    // no secret anywhere in the log
    let (_, all) = s.api(Method::GET, "/audit_logs?limit=100", None);
    let text = all.to_string();
    for secret in [
        first_token.as_str(),
        second_token.as_str(),
        PASSWORD,
        link.as_str(),
    ] {
        assert!(
            !text.contains(secret),
            "a secret in the audit log: {secret}"
        );
    }
    let token_part = link.split("token=").nth(1).unwrap();
    assert!(!text.contains(token_part));
}

#[test]
fn admin_login_lock_outs_are_audited() {
    let s = start();
    create_admin(&s);
    let mut b = Browser::new(&s);
    for _ in 0..5 {
        assert_eq!(b.login(EMAIL, "wrong password!!").status, 401);
    }
    assert_eq!(b.login(EMAIL, "wrong password!!").status, 429);
    let locks = records(&s, "auth.locked_out", 1);
    assert_eq!(locks.len(), 1, "{locks:?}");
    assert_eq!(locks[0]["target"]["type"], "admin_account");
    assert_eq!(locks[0]["target"]["id"], EMAIL);
    assert_eq!(locks[0]["outcome"], "denied");
    assert_eq!(locks[0]["details"]["surface"], "admin_login");
    assert_eq!(locks[0]["actor"]["client_address"], "127.0.0.1");
}

#[test]
fn setup_sessions_are_audited_and_bad_links_lock_the_address_out() {
    let s = start_with_limits();
    let d = s.onboard("okta scim v2.0");
    let (st, v) = s.api(
        Method::POST,
        "/portal/generate_link",
        Some(json!({"organization": d.org, "intent": "dsync"})),
    );
    assert_eq!(st, 201, "{v}");
    let link = v["link"].as_str().unwrap().to_string();
    let token = link.split("token=").nth(1).unwrap().to_string();
    let mut b = Browser::new(&s);
    let p = b.post("/portal/start", &[("token", &token)]);
    assert_eq!(p.status, 303, "{}", p.body);
    let started = one(&s, "setup_session.started");
    assert_eq!(started["actor"]["type"], "setup_session");
    let session = started["actor"]["id"].as_str().unwrap().to_string();
    assert!(session.starts_with("setup_link_"), "{session}");
    assert_eq!(started["target"]["id"], d.org.as_str());

    let csrf = b.get("/portal").input("csrf");
    let p = b.post(
        "/portal/idp",
        &[("csrf", &csrf), ("type", "okta scim v2.0")],
    );
    assert_eq!(p.status, 200, "{}", p.body);
    let made = records(&s, "directory.created", 1);
    let by_session: Vec<_> = made
        .iter()
        .filter(|r| r["actor"]["type"] == "setup_session")
        .collect();
    assert_eq!(by_session.len(), 1, "{made:?}");
    assert_eq!(by_session[0]["actor"]["id"], session.as_str());
    let dir = by_session[0]["target"]["id"].as_str().unwrap().to_string();
    let p = b.post("/portal/rotate", &[("csrf", &csrf)]);
    assert_eq!(p.status, 200, "{}", p.body);
    let rotated = one(&s, "directory_token.rotated");
    assert_eq!(rotated["target"]["id"], dir.as_str());
    assert_eq!(rotated["actor"]["id"], session.as_str());
    let p = b.post("/portal/finish", &[("csrf", &csrf)]);
    assert_eq!(p.status, 200);
    assert_eq!(
        one(&s, "setup_session.finished")["actor"]["id"],
        session.as_str()
    );

    // the used link, then tampered ones: each counts a failure of the address; the
    // one past the limit (3 here) starts a lock-out, and from then on the address gets
    // 429 with Retry-After, even for a good link
    let fresh = {
        let (_, v) = s.api(
            Method::POST,
            "/portal/generate_link",
            Some(json!({"organization": d.org, "intent": "dsync"})),
        );
        v["link"]
            .as_str()
            .unwrap()
            .split("token=")
            .nth(1)
            .unwrap()
            .to_string()
    };
    let mut evil = Browser::new(&s);
    assert_eq!(evil.post("/portal/start", &[("token", &token)]).status, 404);
    for bad in ["x", "a.b.c", "again"] {
        assert_eq!(evil.post("/portal/start", &[("token", bad)]).status, 404);
    }
    let p = evil.post("/portal/start", &[("token", "and again")]);
    assert_eq!(p.status, 429, "{}", p.body);
    assert!(p.headers.get("retry-after").is_some());
    let p = evil.post("/portal/start", &[("token", &fresh)]);
    assert_eq!(p.status, 429, "locked out: no link opens from this address");
    let locks = records(&s, "auth.locked_out", 1);
    assert_eq!(locks.len(), 1, "{locks:?}");
    assert_eq!(locks[0]["target"]["type"], "client_address");
    assert_eq!(locks[0]["target"]["id"], "127.0.0.1");
    // the fresh link was not used up by the refused attempt
    let links = scimgate_core::service::admin_ui::setup_links_of(
        &core_of(&s),
        &scimgate_core::ids::OrganizationId::parse(&d.org).unwrap(),
    )
    .unwrap();
    assert!(links
        .iter()
        .any(|l| l.used_at.is_none() && l.revoked_at.is_none()));
}

/// A server with a low failed-authentication limit (3 a minute).
fn start_with_limits() -> Server {
    Server::start_with(&[
        ("SCIMGATE_SECRET_KEY", SECRET_KEY),
        ("SCIMGATE_AUTH_FAILURES_PER_MINUTE", "3"),
    ])
}
