//! The operator's dashboard over HTTP: organizations (create, search, domains),
//! directories (create with a type, tokens shown once, revoke, typed-confirmation
//! delete), users (search, a user's page) and events (page and live fragment).

use reqwest::Method;
use serde_json::json;

use super::*;

#[test]
fn an_operator_onboards_an_organization_and_watches_it_sync() {
    let s = start();
    create_admin(&s);
    let mut b = Browser::logged_in(&s);
    let home = b.get("/admin");
    assert!(
        home.body.contains("No organizations yet"),
        "an empty state says what to do"
    );
    let csrf = home.input("csrf");

    // create an organization; bad domains are refused with a reason and change nothing
    let p = b.post(
        "/admin/organizations",
        &[
            ("csrf", &csrf),
            ("name", "Initech"),
            ("domains", "not a domain!"),
        ],
    );
    assert_eq!(p.status, 400, "{}", p.body);
    assert!(p.body.contains("not a valid domain"), "{}", p.body);
    let p = b.post(
        "/admin/organizations",
        &[
            ("csrf", &csrf),
            ("name", "Initech"),
            ("domains", "initech.test, INITECH.io"),
        ],
    );
    assert_eq!(p.status, 303, "{}", p.body);
    let org_path = p.location().to_string();
    let org_id = org_path.rsplit('/').next().unwrap().to_string();
    let org = b.get(&org_path);
    assert_eq!(org.status, 200);
    assert!(
        org.body.contains("initech.test, initech.io"),
        "{}",
        org.body
    );
    // search
    assert!(b.get("/admin?q=INITE").body.contains(&org_id));
    assert!(!b.get("/admin?q=globex").body.contains(&org_id));
    // edit domains
    let p = b.post(
        &format!("{org_path}/domains"),
        &[("csrf", &csrf), ("domains", "initech.com")],
    );
    assert_eq!(p.status, 303);
    let (_, o) = s.api(Method::GET, &format!("/organizations/{org_id}"), None);
    assert_eq!(o["domains"][0]["domain"], "initech.com");

    // a directory: the token is shown once
    let p = b.post(
        &format!("{org_path}/directories"),
        &[
            ("csrf", &csrf),
            ("type", "okta scim v2.0"),
            ("name", "Initech Okta"),
        ],
    );
    assert_eq!(p.status, 200, "{}", p.body);
    let token = p.value_of("new-token");
    assert!(token.starts_with("sgd_"), "{token}");
    let scim_url = p.value_of("scim-url");
    let dir_id = scim_url.rsplit('/').next().unwrap().to_string();
    let dir_page = b.get(&format!("/admin/directories/{dir_id}"));
    assert!(!dir_page.body.contains(&token), "a token is shown once");
    assert!(dir_page.body.contains("never"), "its last use");

    // the IdP provisions a user
    let d = Dir {
        id: dir_id.clone(),
        org: org_id.clone(),
        token: token.clone(),
        base: scim_url.clone(),
    };
    let (st, _, u) = s.scim(
        &d,
        Method::POST,
        "/Users",
        Some(user_body("ada@initech.test")),
    );
    assert_eq!(st, 201, "{u}");
    // an inactive one too: the counts by state (one pass over the directory's users)
    let mut inactive = user_body("bob@initech.test");
    inactive["active"] = json!(false);
    assert_eq!(s.scim(&d, Method::POST, "/Users", Some(inactive)).0, 201);
    let (_, dv) = s.api(Method::GET, &format!("/directories/{dir_id}"), None);
    assert_eq!(
        dv["metadata"]["users"],
        json!({"active": 1, "inactive": 1}),
        "{dv}"
    );
    assert!(b
        .get(&format!("/admin/directories/{dir_id}"))
        .body
        .contains("2 users"));
    let users = b.get(&format!("/admin/directories/{dir_id}/users"));
    assert!(users.body.contains("ada@initech.test"), "{}", users.body);
    assert!(b
        .get(&format!(
            "/admin/directories/{dir_id}/users?email=ada%40initech.test"
        ))
        .body
        .contains("ada@initech.test"));
    assert!(b
        .get(&format!(
            "/admin/directories/{dir_id}/users?email=carol%40initech.test"
        ))
        .body
        .contains("No user has the email"));
    let (_, list) = s.api(
        Method::GET,
        &format!("/directory_users?directory={dir_id}&email=ada@initech.test"),
        None,
    );
    let user_id = list["data"][0]["id"].as_str().unwrap().to_string();
    let user = b.get(&format!("/admin/users/{user_id}"));
    assert_eq!(user.status, 200, "{}", user.body);
    assert!(user.body.contains("Lovelace"));
    assert!(
        user.body.contains("dsync.user.created"),
        "the user's events"
    );
    assert!(
        user.body.contains("role_explanation") || user.body.contains("rule"),
        "roles explained"
    );

    // events: page and the live fragment, filtered
    let ev = b.get(&format!("/admin/events?directory={dir_id}"));
    assert!(ev.body.contains("data-poll"));
    assert!(ev.body.contains("dsync.user.created"));
    let frag = b.get(&format!(
        "/admin/events/fragment?directory={dir_id}&event=dsync.user.created"
    ));
    assert!(frag.body.contains("ada@initech.test"), "{}", frag.body);
    assert!(!frag.body.contains("<html"), "a fragment, not a page");
    let frag = b.get(&format!(
        "/admin/events/fragment?directory={dir_id}&event=dsync.group.created"
    ));
    assert!(frag.body.contains("No events"));
    assert_eq!(b.get("/admin/events?since=yesterday").status, 400);

    // a second token, then revoke the first: the IdP's next request is refused
    let p = b.post(
        &format!("/admin/directories/{dir_id}/tokens"),
        &[("csrf", &csrf), ("name", "rotation")],
    );
    let token2 = p.value_of("new-token");
    let (_, toks) = s.api(Method::GET, &format!("/directories/{dir_id}/tokens"), None);
    let first = toks["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "default")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let p = b.post(
        &format!("/admin/directories/{dir_id}/tokens/{first}/revoke"),
        &[("csrf", &csrf)],
    );
    assert_eq!(p.status, 303);
    std::thread::sleep(std::time::Duration::from_millis(1100)); // the auth cache's 0.9 s
    let (st, _, _) = s.scim(&d, Method::GET, "/Users", None);
    assert_eq!(st, 401);
    // sync health: the requests are counted (flushed every second), the refusal explained
    let (st, _, _) = s.scim(
        &d,
        Method::POST,
        "/Users",
        Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]})),
    );
    assert_eq!(st, 401);
    let mut health = String::new();
    for _ in 0..50 {
        health = b.get(&format!("/admin/directories/{dir_id}")).body;
        if health.contains("2 rejected") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(
        health.contains("Last 24 hours: 4 requests, 2 rejected."),
        "{health}"
    );
    assert!(
        health.contains("token was refused: it is wrong or was revoked"),
        "{health}"
    );
    assert!(
        health.contains("GET → 401") && health.contains("POST → 401"),
        "{health}"
    );
    assert!(!health.contains("Stale"), "{health}");
    let d2 = Dir { token: token2, ..d };
    assert_eq!(s.scim(&d2, Method::GET, "/Users", None).0, 200);

    // delete needs the exact name
    let p = b.post(
        &format!("/admin/directories/{dir_id}/delete"),
        &[("csrf", &csrf), ("confirm", "initech okta")],
    );
    assert_eq!(p.status, 400);
    assert_eq!(
        s.api(Method::GET, &format!("/directories/{dir_id}"), None)
            .0,
        200
    );
    let p = b.post(
        &format!("/admin/directories/{dir_id}/delete"),
        &[("csrf", &csrf), ("confirm", "Initech Okta")],
    );
    assert_eq!(p.status, 303);
    assert_eq!(p.location(), org_path);
    assert_eq!(
        s.api(Method::GET, &format!("/directories/{dir_id}"), None)
            .0,
        404
    );
}
