//! `/api_keys`: least-privilege keys (scopes per route, expiry), listing without
//! secrets, immediate revocation (on every instance through Redis), the bootstrap
//! key's rules, and directory tokens' expiry.

use super::*;

fn with_key(
    s: &Server,
    key: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let r = s.req(method, path, key, body);
    let st = r.status().as_u16();
    (st, r.json().unwrap_or(Value::Null))
}

fn new_key(s: &Server, scopes: &[&str]) -> (String, String) {
    let (st, k) = s.api(
        Method::POST,
        "/api_keys",
        Some(json!({"name": format!("k {scopes:?}"), "scopes": scopes})),
    );
    assert_eq!(st, 201, "{k}");
    (
        k["id"].as_str().unwrap().to_string(),
        k["api_key"].as_str().unwrap().to_string(),
    )
}

#[test]
fn a_key_reaches_only_the_routes_of_its_scopes() {
    let s = Server::start();
    let d = s.onboard("okta scim v2.0");
    let (_, events) = new_key(&s, &["events:read"]);
    let (_, reader) = new_key(&s, &["directories:read"]);
    let (_, writer) = new_key(&s, &["directories:write", "directories:read"]);
    let org = json!({"name": "Beta"});
    let cases: Vec<(&str, Method, String, Option<Value>, u16)> = vec![
        (
            &events,
            Method::GET,
            format!("/events?directory_id={}", d.id),
            None,
            200,
        ),
        (&events, Method::GET, "/directories".into(), None, 403),
        (&events, Method::GET, "/api_keys".into(), None, 403),
        (&reader, Method::GET, "/directories".into(), None, 200),
        (
            &reader,
            Method::GET,
            format!("/directories/{}/tokens", d.id),
            None,
            200,
        ),
        (
            &reader,
            Method::GET,
            format!("/directory_users?directory={}", d.id),
            None,
            200,
        ),
        (
            &reader,
            Method::GET,
            format!("/events?directory_id={}", d.id),
            None,
            403,
        ),
        (
            &reader,
            Method::POST,
            "/organizations".into(),
            Some(org.clone()),
            403,
        ),
        (
            &reader,
            Method::DELETE,
            format!("/directories/{}", d.id),
            None,
            403,
        ),
        (&reader, Method::GET, "/audit_logs".into(), None, 403),
        (
            &writer,
            Method::POST,
            "/organizations".into(),
            Some(org.clone()),
            201,
        ),
        (
            &writer,
            Method::POST,
            "/api_keys".into(),
            Some(json!({"name": "x", "scopes": ["admin"]})),
            403,
        ),
        (
            &writer,
            Method::DELETE,
            "/api_keys/key_01HZZZZZZZZZZZZZZZZZZZZZZZ".into(),
            None,
            403,
        ),
    ];
    for (key, m, path, body, want) in cases {
        let (st, v) = with_key(&s, key, m.clone(), &path, body);
        assert_eq!(st, want, "{m} {path}: {v}");
        if want == 403 {
            assert_eq!(v["code"], "forbidden", "{path}");
        }
    }
    // the refusals are audited (written beside the answers, so wait for them)
    let t0 = Instant::now();
    let page = loop {
        let (_, page) = s.api(
            Method::GET,
            "/audit_logs?action=api_key.scope_denied&limit=100",
            None,
        );
        if page["data"].as_array().unwrap().len() == 8 || t0.elapsed() > Duration::from_secs(10) {
            break page;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(page["data"].as_array().unwrap().len(), 8, "{page}");
    assert_eq!(page["data"][0]["outcome"], "denied");
    // the bootstrap key (every scope) reaches all of them
    assert_eq!(s.api(Method::GET, "/audit_logs", None).0, 200);
}

#[test]
fn keys_are_listed_without_secrets_and_revoked_at_once() {
    let s = Server::start();
    let (id, key) = new_key(&s, &["directories:read"]);
    assert_eq!(with_key(&s, &key, Method::GET, "/directories", None).0, 200);
    let (st, list) = s.api(Method::GET, "/api_keys", None);
    assert_eq!(st, 200);
    let text = list.to_string();
    assert!(!text.contains(&key) && !text.contains(API_KEY));
    let mine = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id.as_str())
        .cloned()
        .unwrap();
    assert_eq!(mine["object"], "api_key");
    assert_eq!(mine["scopes"], json!(["directories:read"]));
    assert_eq!(mine["key_suffix"], &key[key.len() - 4..]);
    assert!(mine["last_used_at"].is_string(), "{mine}");
    assert!(mine["expires_at"].is_null());
    // the bootstrap key holds every scope
    assert_eq!(list["data"].as_array().unwrap().len(), 2);
    assert_eq!(
        list["data"][0]["scopes"],
        json!([
            "events:read",
            "directories:read",
            "directories:write",
            "portal:write",
            "admin"
        ])
    );

    // bad input: precise 4xx, nothing created or revoked
    for (body, want) in [
        (
            json!({"name": "x", "scopes": ["events:write"]}),
            "unknown scope",
        ),
        (json!({"name": "x", "scopes": []}), "at least one scope"),
        (json!({"name": "x"}), "`scopes` is required"),
        (json!({"name": "x", "scopes": "admin"}), "array of strings"),
        (json!({"name": "", "scopes": ["admin"]}), "`name`"),
        (
            json!({"name": "x", "scopes": ["admin"], "expires_at": "soon"}),
            "RFC 3339",
        ),
        (
            json!({"name": "x", "scopes": ["admin"], "expires_at": "2020-01-01T00:00:00Z"}),
            "future",
        ),
    ] {
        let (st, e) = s.api(Method::POST, "/api_keys", Some(body.clone()));
        assert_eq!(st, 422, "{body}: {e}");
        assert!(e["message"].as_str().unwrap().contains(want), "{body}: {e}");
    }
    for bad in [
        "key_01HZZZZZZZZZZZZZZZZZZZZZZZ",
        "nonsense",
        "directory_01HZZZZZZZZZZZZZZZZZZZZZZZ",
    ] {
        assert_eq!(
            s.api(Method::DELETE, &format!("/api_keys/{bad}"), None).0,
            404,
            "{bad}"
        );
    }
    assert_eq!(
        s.api(Method::GET, "/api_keys", None).1["data"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // revoked: refused on the next request, gone from the list, revoked once
    assert_eq!(
        s.api(Method::DELETE, &format!("/api_keys/{id}"), None).0,
        204
    );
    assert_eq!(with_key(&s, &key, Method::GET, "/directories", None).0, 401);
    assert_eq!(
        s.api(Method::DELETE, &format!("/api_keys/{id}"), None).0,
        404
    );
    assert_eq!(
        s.api(Method::GET, "/api_keys", None).1["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let (_, actions) = s.audit_actions(&format!("target={id}&order=asc"));
    assert_eq!(
        actions,
        ["api_key.created", "api_key.revoked", "api_key.revoked"]
    );
}

#[test]
fn expired_keys_and_directory_tokens_are_refused() {
    let s = Server::start();
    let d = s.onboard("okta scim v2.0");
    let soon = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    let (st, k) = s.api(
        Method::POST,
        "/api_keys",
        Some(json!({"name": "short", "scopes": ["directories:read"], "expires_at": soon})),
    );
    assert_eq!(st, 201, "{k}");
    assert!(k["expires_at"].is_string());
    let key = k["api_key"].as_str().unwrap().to_string();
    let (st, t) = s.api(
        Method::POST,
        &format!("/directories/{}/tokens", d.id),
        Some(json!({"name": "short", "expires_at": soon})),
    );
    assert_eq!(st, 201, "{t}");
    assert!(t["expires_at"].is_string(), "{t}");
    let short = Dir {
        token: t["bearer_token"].as_str().unwrap().to_string(),
        id: d.id.clone(),
        org: d.org.clone(),
        base: d.base.clone(),
    };
    assert_eq!(with_key(&s, &key, Method::GET, "/directories", None).0, 200);
    assert_eq!(s.scim(&short, Method::GET, "/Users", None).0, 200);
    std::thread::sleep(Duration::from_millis(2200));
    assert_eq!(with_key(&s, &key, Method::GET, "/directories", None).0, 401);
    assert_eq!(s.scim(&short, Method::GET, "/Users", None).0, 401);
    // the token without an expiry still works; an expiry in the past is refused
    assert_eq!(s.scim(&d, Method::GET, "/Users", None).0, 200);
    let (st, e) = s.api(
        Method::POST,
        &format!("/directories/{}/tokens", d.id),
        Some(json!({"expires_at": "2020-01-01T00:00:00Z"})),
    );
    assert_eq!(st, 422, "{e}");
}

/// `scimgate serve` with this bootstrap key: its exit status and standard error, if it
/// exits within 20 s.
fn serve_exit(key: &str) -> (Option<i32>, String) {
    let db = scimgate_core::testing::TestDatabase::new();
    let data = tempfile::TempDir::with_prefix("scimgate-bb-").unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_scimgate"))
        .arg("serve")
        .env_clear()
        .env("SCIMGATE_DATABASE_URL", &db.url)
        .env("SCIMGATE_LISTEN", "127.0.0.1:0")
        .env("SCIMGATE_DATA_DIR", data.path())
        .env("SCIMGATE_BOOTSTRAP_API_KEY", key)
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st.code();
        }
        if t0.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut err);
    }
    (status, err)
}

#[test]
fn a_guessable_bootstrap_key_is_refused_and_a_removed_one_stops_working() {
    for key in [
        "sk_test_blackbox_0123456789abcdefghij",
        "sk_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "sk_short",
    ] {
        let (code, err) = serve_exit(key);
        assert!(matches!(code, Some(c) if c != 0), "{key}: {code:?}");
        assert!(err.contains("SCIMGATE_BOOTSTRAP_API_KEY"), "{key}: {err}");
    }
    let db = std::sync::Arc::new(scimgate_core::testing::TestDatabase::new());
    let first = Server::start_on(db.clone(), &[]);
    assert_eq!(first.api(Method::GET, "/api_keys", None).0, 200);
    drop(first);
    // the next start names another key: the first one stops working
    let other = "sk_test_Zr4Lq8Wn2Xc6Vb1Mk9Hj3Gf7Ds5Ap0Ty";
    let second = Server::start_on(db, &[("SCIMGATE_BOOTSTRAP_API_KEY", other)]);
    assert_eq!(second.api(Method::GET, "/api_keys", None).0, 401);
    let (st, list) = with_key(&second, other, Method::GET, "/api_keys", None);
    assert_eq!(st, 200);
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    let (_, audit) = with_key(
        &second,
        other,
        Method::GET,
        "/audit_logs?actor=system",
        None,
    );
    assert_eq!(audit["data"][0]["action"], "api_key.revoked", "{audit}");
}

#[test]
fn an_api_key_revoked_on_one_instance_is_refused_by_the_other() {
    let Some((a, b)) = two_instances(&[]) else {
        return;
    };
    let (id, key) = new_key(&a, &["directories:read"]);
    // B verifies (and caches) the key, then A revokes it
    assert_eq!(with_key(&b, &key, Method::GET, "/directories", None).0, 200);
    assert_eq!(
        a.api(Method::DELETE, &format!("/api_keys/{id}"), None).0,
        204
    );
    let t0 = Instant::now();
    loop {
        if with_key(&b, &key, Method::GET, "/directories", None).0 == 401 {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_millis(500),
            "revocation not effective on B"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}
