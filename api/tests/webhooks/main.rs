//! Webhooks (issue 15), black-box: the real binary delivers to real HTTP receivers
//! started by the tests (`receiver.rs`), on SQLite by default and on PostgreSQL with
//! SCIMGATE_TEST_DATABASE_URL. Endpoints API and its bad input, the target policy,
//! signatures, in-order delivery per directory across retries, 410, giving up,
//! redelivery, rotation, timeouts, a receiver that is down, SIGKILL with deliveries
//! in flight, and two instances on one PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../common/mod.rs"]
mod common;
mod receiver;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use common::*;
use receiver::{Received, Receiver};
use reqwest::Method;
use serde_json::{json, Value};

/// The sealing key of every test instance (instances of one database share it).
const SECRET_KEY: &str = "4f1c2b7a9d3e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8";

/// A server that may deliver to the tests' receivers on 127.0.0.1, with quick retries.
fn server(extra: &[(&str, &str)]) -> Server {
    let mut env = vec![
        ("SCIMGATE_SECRET_KEY", SECRET_KEY),
        ("SCIMGATE_WEBHOOK_ALLOW_HTTP", "true"),
        ("SCIMGATE_WEBHOOK_ALLOW_PRIVATE", "true"),
        ("SCIMGATE_WEBHOOK_BACKOFF_BASE_MS", "50"),
        ("SCIMGATE_WEBHOOK_TIMEOUT_MS", "2000"),
    ];
    env.extend_from_slice(extra);
    Server::start_with(&env)
}

fn endpoint(s: &Server, body: Value) -> Value {
    let (st, v) = s.api(Method::POST, "/webhook_endpoints", Some(body));
    assert_eq!(st, 201, "{v}");
    v
}

fn create_users(s: &Server, d: &Dir, prefix: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let (st, _, u) = s.scim(
                d,
                Method::POST,
                "/Users",
                Some(user_body(&format!("{prefix}{i}@acme.test"))),
            );
            assert_eq!(st, 201, "{u}");
            u["id"].as_str().unwrap().to_string()
        })
        .collect()
}

/// The events of `dir` the endpoint subscribes to by default (WorkOS's dsync.*).
fn expected(s: &Server, dir: &str) -> Vec<(i64, String)> {
    s.events(dir)
        .iter()
        .filter(|e| !e["event"].as_str().unwrap().starts_with("dsync.token."))
        .map(|e| {
            (
                e["sequence"].as_i64().unwrap(),
                e["id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Each directory's acknowledged deliveries, in arrival order, without repeats of an
/// event already acknowledged (a redelivery or an at-least-once repeat).
fn firsts(got: &[Received], dir: &str) -> Vec<(i64, String)> {
    let mut seen = HashSet::new();
    got.iter()
        .filter(|r| r.directory() == dir && seen.insert(r.event_id()))
        .map(|r| (r.seq(), r.event_id()))
        .collect()
}

fn has_all(got: &[Received], want: &[(i64, String)]) -> bool {
    let ids: HashSet<String> = got.iter().map(Received::event_id).collect();
    want.iter().all(|(_, id)| ids.contains(id))
}

fn assert_in_order(got: &[Received], dir: &str, want: &[(i64, String)]) {
    assert_eq!(
        firsts(got, dir),
        want,
        "deliveries of {dir} out of order or missing"
    );
}

fn deliveries(s: &Server, ep: &str, q: &str) -> Vec<Value> {
    let (st, v) = s.api(
        Method::GET,
        &format!("/webhook_endpoints/{ep}/deliveries?limit=100{q}"),
        None,
    );
    assert_eq!(st, 200, "{v}");
    v["data"].as_array().cloned().unwrap()
}

#[test]
fn endpoints_api_shapes_and_bad_input() {
    let s = server(&[]);
    let r = Receiver::start();
    let ep = endpoint(&s, json!({"endpoint_url": r.url(), "description": "main"}));
    assert_eq!(ep["object"], "webhook_endpoint");
    assert!(ep["id"].as_str().unwrap().starts_with("we_"));
    let secret = ep["secret"].as_str().unwrap();
    assert!(
        secret.starts_with("whsec_") && secret.len() == 6 + 44,
        "{secret}"
    );
    assert_eq!(ep["status"], "enabled");
    assert_eq!(
        ep["events"].as_array().unwrap().len(),
        10,
        "WorkOS's dsync.* by default"
    );
    assert!(!ep["events"].to_string().contains("dsync.token"));
    assert_eq!(ep["health"]["state"], "healthy");
    let id = ep["id"].as_str().unwrap().to_string();

    let (st, got) = s.api(Method::GET, &format!("/webhook_endpoints/{id}"), None);
    assert_eq!(st, 200);
    assert!(
        got.get("secret").is_none(),
        "the secret is shown on creation only: {got}"
    );
    let (st, list) = s.api(Method::GET, "/webhook_endpoints", None);
    assert_eq!(st, 200);
    assert_eq!(list["object"], "list");
    assert_eq!(list["data"].as_array().unwrap().len(), 1);

    let org = s.onboard("okta scim v2.0").org;
    let bad: Vec<(Value, u16, &str)> = vec![
        (json!({}), 422, "`endpoint_url` is required"),
        (
            json!({"endpoint_url": 5}),
            422,
            "`endpoint_url` must be a string",
        ),
        (
            json!({"endpoint_url": r.url(), "events": "dsync.user.created"}),
            422,
            "`events` must be an array",
        ),
        (
            json!({"endpoint_url": r.url(), "events": [1]}),
            422,
            "`events` must be an array",
        ),
        (
            json!({"endpoint_url": r.url(), "events": []}),
            422,
            "at least one event",
        ),
        (
            json!({"endpoint_url": r.url(), "events": ["dsync.user.nope"]}),
            422,
            "unknown event name",
        ),
        (
            json!({"endpoint_url": r.url(), "events": ["dsync.user.created", "dsync.user.created"]}),
            422,
            "listed twice",
        ),
        (
            json!({"endpoint_url": format!("{}/{}", r.url(), "a".repeat(2100))}),
            400,
            "at most 2048",
        ),
        (
            json!({"endpoint_url": "ftp://example.com/"}),
            400,
            "must be an https:// URL",
        ),
        (
            json!({"endpoint_url": "not a url"}),
            400,
            "not an absolute URL",
        ),
        (
            json!({"endpoint_url": "https://u:p@example.com/"}),
            400,
            "credentials",
        ),
        (
            json!({"endpoint_url": r.url(), "organization_id": "org_01M97ARQAFRHXKRKSYBKG1D3Z0"}),
            404,
            "not found",
        ),
        (
            json!({"endpoint_url": r.url(), "organization_id": "nope"}),
            404,
            "not found",
        ),
        (
            json!({"endpoint_url": r.url(), "description": "x".repeat(1025)}),
            422,
            "at most 1024",
        ),
    ];
    for (body, status, msg) in bad {
        let (st, v) = s.api(Method::POST, "/webhook_endpoints", Some(body.clone()));
        assert_eq!(st, status, "{body}: {v}");
        assert!(
            v["message"].as_str().unwrap_or_default().contains(msg),
            "{body}: {v}"
        );
    }
    // a scoped endpoint is fine
    let scoped = endpoint(
        &s,
        json!({"endpoint_url": r.url(), "organization_id": org, "events": ["dsync.token.created"]}),
    );
    assert_eq!(scoped["organization_id"], org);
    assert_eq!(scoped["events"], json!(["dsync.token.created"]));

    // PATCH
    let path = format!("/webhook_endpoints/{id}");
    for (body, status) in [
        (json!({"status": "paused"}), 422),
        (json!({"events": ["x"]}), 422),
        (json!({"endpoint_url": "http://"}), 400),
    ] {
        let (st, v) = s.api(Method::PATCH, &path, Some(body.clone()));
        assert_eq!(st, status, "{body}: {v}");
    }
    let (_, unchanged) = s.api(Method::GET, &path, None);
    assert_eq!(unchanged["status"], "enabled");
    assert_eq!(unchanged["endpoint_url"], r.url());
    let (st, v) = s.api(
        Method::PATCH,
        &path,
        Some(json!({"status": "disabled", "events": ["dsync.user.created"], "description": null})),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["status"], "disabled");
    assert_eq!(v["events"], json!(["dsync.user.created"]));
    assert_eq!(v["description"], Value::Null);
    assert_eq!(v["health"]["state"], "disabled");
    for p in [
        "/webhook_endpoints/we_01M97ARQ94SAQKYCVMS927E6S7",
        "/webhook_endpoints/nope",
    ] {
        assert_eq!(s.api(Method::GET, p, None).0, 404);
        assert_eq!(
            s.api(Method::PATCH, p, Some(json!({"status": "enabled"})))
                .0,
            404
        );
        assert_eq!(s.api(Method::DELETE, p, None).0, 404);
        assert_eq!(
            s.api(Method::POST, &format!("{p}/rotate_secret"), None).0,
            404
        );
    }
    // no API key
    let (st, _) = {
        let r = s.req(Method::GET, "/webhook_endpoints", "sk_wrong", None);
        (r.status().as_u16(), ())
    };
    assert_eq!(st, 401);
    let (st, _) = s.api(Method::DELETE, &path, None);
    assert_eq!(st, 204);
    assert_eq!(s.api(Method::GET, &path, None).0, 404);
    let (_, list) = s.api(Method::GET, "/webhook_endpoints", None);
    assert_eq!(
        list["data"].as_array().unwrap().len(),
        1,
        "only the scoped one is left"
    );
}

#[test]
fn target_policy_refuses_private_addresses_and_http() {
    // the production defaults: https only, public addresses only
    let s = Server::start_with(&[]);
    for url in [
        "http://example.com/hook",
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[::ffff:10.1.2.3]/hook",
        "https://10.0.0.1/hook",
        "https://172.16.5.4/hook",
        "https://192.168.1.1/hook",
        "https://169.254.169.254/latest",
        "https://100.64.0.1/hook",
        "https://224.0.0.1/hook",
        "https://0.0.0.0/hook",
        "https://[fe80::1]/hook",
        "https://[fd00::1]/hook",
        "https://[ff02::1]/hook",
        "https://[::]/hook",
    ] {
        let (st, v) = s.api(
            Method::POST,
            "/webhook_endpoints",
            Some(json!({"endpoint_url": url})),
        );
        assert_eq!(st, 400, "{url}: {v}");
        assert_eq!(v["code"], "invalid_endpoint_url", "{url}: {v}");
    }
    let (_, list) = s.api(Method::GET, "/webhook_endpoints", None);
    assert_eq!(
        list["data"].as_array().unwrap().len(),
        0,
        "nothing was created"
    );
}

#[test]
fn delivery_is_checked_again_at_each_connection() {
    // created where private targets were allowed; delivered by an instance where they
    // are not: the connection-time check refuses it and records why
    let r = Receiver::start();
    let (db, ep_id, dir) = {
        let s = server(&[]);
        let ep = endpoint(&s, json!({"endpoint_url": r.url()}));
        let d = s.onboard("okta scim v2.0");
        (s.db.clone(), ep["id"].as_str().unwrap().to_string(), d)
    };
    let s = Server::start_on(
        db,
        &[
            ("SCIMGATE_SECRET_KEY", SECRET_KEY),
            ("SCIMGATE_WEBHOOK_ALLOW_HTTP", "true"),
            ("SCIMGATE_WEBHOOK_BACKOFF_BASE_MS", "50"),
            ("SCIMGATE_WEBHOOK_MAX_ATTEMPTS", "2"),
        ],
    );
    let dir = Dir {
        base: format!("{}/scim/v2/{}", s.base, dir.id),
        ..dir
    };
    create_users(&s, &dir, "ssrf", 1);
    let t0 = std::time::Instant::now();
    loop {
        let d = deliveries(&s, &ep_id, "");
        if d.iter().any(|a| a["status"] == "gave_up") {
            assert!(
                d.iter().all(|a| a["error_kind"] == "refused_address"),
                "{d:?}"
            );
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(30), "{d:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        *r.requests.lock().unwrap(),
        0,
        "nothing reached the private address"
    );
}

#[test]
fn delivers_every_event_in_order_signed() {
    let s = server(&[]);
    let r = Receiver::start();
    let ep = endpoint(&s, json!({"endpoint_url": r.url()}));
    let secret = ep["secret"].as_str().unwrap().to_string();
    let (a, b) = (s.onboard("okta scim v2.0"), s.onboard("azure scim v2.0"));
    let users = create_users(&s, &a, "a", 15);
    create_users(&s, &b, "b", 10);
    let (st, _, g) = s.scim(
        &a,
        Method::POST,
        "/Groups",
        Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Eng",
                    "members": users.iter().take(5).map(|u| json!({"value": u})).collect::<Vec<_>>()})),
    );
    assert_eq!(st, 201, "{g}");
    let (st, _, _) = s.scim(
        &a,
        Method::PATCH,
        &format!("/Users/{}", users[0]),
        Some(patch(
            json!([{"op": "replace", "path": "active", "value": false}]),
        )),
    );
    assert_eq!(st, 200);
    let (wa, wb) = (expected(&s, &a.id), expected(&s, &b.id));
    assert!(wa.len() > 20, "{wa:?}");
    let got = r.wait_for(30, "every event", |g| has_all(g, &wa) && has_all(g, &wb));
    assert_in_order(&got, &a.id, &wa);
    assert_in_order(&got, &b.id, &wb);
    // the body is the event as GET /events renders it, byte for byte
    let ev = s.events(&a.id);
    let by_id: HashMap<String, String> = ev
        .iter()
        .map(|e| (e["id"].as_str().unwrap().to_string(), e.to_string()))
        .collect();
    for g in &got {
        assert_eq!(
            serde_json::from_str::<Value>(&g.body).unwrap().to_string(),
            by_id
                .get(&g.event_id())
                .cloned()
                .unwrap_or_else(|| g.json.to_string())
        );
        assert_eq!(g.header("content-type"), "application/json");
        assert!(g.header("user-agent").starts_with("scimgate/"));
        assert_eq!(g.header("webhook-id"), g.event_id());
        let sig = g.header("workos-signature");
        let (t, v1) = sig.split_once(", ").unwrap();
        let t = t.strip_prefix("t=").unwrap();
        assert_eq!(
            format!("t={t}, {v1}"),
            scimgate_webhooks::sign::workos_signature(
                &secret,
                t.parse().unwrap(),
                g.body.as_bytes()
            )
        );
        assert_eq!(
            g.header("webhook-timestamp"),
            (t.parse::<i64>().unwrap() / 1000).to_string()
        );
        assert!(g.header("webhook-signature").starts_with("v1,"));
        assert!(!g.headers.contains_key("workos-signature-previous"));
    }
    // every attempt recorded, one per event, with its latency
    let d = deliveries(
        &s,
        ep["id"].as_str().unwrap(),
        &format!("&directory_id={}", b.id),
    );
    assert_eq!(d.len(), wb.len(), "{d:?}");
    assert!(d
        .iter()
        .all(|a| a["status"] == "delivered" && a["status_code"] == 200));
    assert_eq!(d[0]["response_snippet"], "answered 200");
    let (_, e) = s.api(
        Method::GET,
        &format!("/webhook_endpoints/{}", ep["id"].as_str().unwrap()),
        None,
    );
    assert_eq!(e["health"]["state"], "healthy", "{e}");
    assert_eq!(e["health"]["undelivered"], 0, "{e}");
    assert!(e["health"]["last_success_at"].is_string(), "{e}");
    // /metrics carries the health gauges and attempt counters
    let m = s
        .client
        .get(format!("{}/metrics", s.base))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(m.contains("scimgate_webhook_attempts_total"), "{m}");
}

#[test]
fn retries_in_order_through_down_errors_and_timeouts() {
    let s = server(&[("SCIMGATE_WEBHOOK_TIMEOUT_MS", "300")]);
    let mut r = Receiver::start();
    let ep = endpoint(&s, json!({"endpoint_url": r.url()}));
    let id = ep["id"].as_str().unwrap().to_string();
    let d = s.onboard("okta scim v2.0");
    // down: the port is closed, until the endpoint is seen failing (not for a fixed
    // time: each failed attempt doubles the next delay's bound, so a slow machine's
    // extra attempts while down could push the later retries past this test's wait)
    r.down();
    create_users(&s, &d, "down", 3);
    let t0 = std::time::Instant::now();
    let e = loop {
        let (_, e) = s.api(Method::GET, &format!("/webhook_endpoints/{id}"), None);
        if e["health"]["state"] == "failing" {
            break e;
        }
        assert!(t0.elapsed() < Duration::from_secs(20), "never failing: {e}");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(e["health"]["undelivered"].as_i64().unwrap() > 0, "{e}");
    // up, answering 500 three times, then too slowly twice, then 200
    r.set(
        vec![
            (500, Duration::ZERO),
            (503, Duration::ZERO),
            (500, Duration::ZERO),
            (200, Duration::from_millis(700)),
            (200, Duration::from_millis(700)),
        ],
        (200, Duration::ZERO),
    );
    r.up();
    create_users(&s, &d, "later", 3);
    let want = expected(&s, &d.id);
    let got = r.wait_for(60, "every event after recovery", |g| has_all(g, &want));
    assert_in_order(&got, &d.id, &want);
    // the receiver also records the arrivals whose answer came after the timeout: the
    // cursor passes them only once a later attempt is answered in time
    let t0 = std::time::Instant::now();
    loop {
        let (_, e) = s.api(Method::GET, &format!("/webhook_endpoints/{id}"), None);
        if e["health"]["state"] == "healthy" && e["health"]["undelivered"] == 0 {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(60), "never healthy: {e}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let all = deliveries(&s, &id, "");
    let kinds: HashSet<String> = all
        .iter()
        .filter_map(|a| a["error_kind"].as_str().map(str::to_string))
        .collect();
    assert!(
        kinds.contains("connect") || kinds.contains("request"),
        "{kinds:?}"
    );
    assert!(kinds.contains("status"), "{kinds:?}");
    assert!(kinds.contains("timeout"), "{kinds:?}");
    let failed = deliveries(&s, &id, "&status=failed");
    assert!(failed.iter().all(|a| a["status"] == "failed"));
    assert!(failed
        .iter()
        .any(|a| a["status_code"] == 500 && a["response_snippet"] == "answered 500"));
}

#[test]
fn gone_disables_and_enabling_resumes_where_it_stopped() {
    let s = server(&[]);
    let r = Receiver::start();
    let ep = endpoint(&s, json!({"endpoint_url": r.url()}));
    let id = ep["id"].as_str().unwrap().to_string();
    let d = s.onboard("okta scim v2.0");
    r.set(vec![(410, Duration::ZERO)], (200, Duration::ZERO));
    create_users(&s, &d, "g", 2);
    let t0 = std::time::Instant::now();
    loop {
        let (_, e) = s.api(Method::GET, &format!("/webhook_endpoints/{id}"), None);
        if e["status"] == "disabled" {
            assert_eq!(e["health"]["disabled_reason"], "gone");
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(20), "{e}");
        std::thread::sleep(Duration::from_millis(50));
    }
    create_users(&s, &d, "h", 2);
    std::thread::sleep(Duration::from_millis(700));
    assert!(r.received().is_empty(), "a disabled endpoint gets nothing");
    let (st, _) = s.api(
        Method::PATCH,
        &format!("/webhook_endpoints/{id}"),
        Some(json!({"status": "enabled"})),
    );
    assert_eq!(st, 200);
    let want = expected(&s, &d.id);
    let got = r.wait_for(30, "every event after enabling", |g| has_all(g, &want));
    assert_in_order(&got, &d.id, &want);
    assert_eq!(deliveries(&s, &id, "&status=disabled").len(), 1);
}

/// A deleted directory's last event (`dsync.deleted`, WIRE-COMPAT.md) is delivered,
/// and then its cursor goes: the endpoint's backlog no longer lists the directory.
#[test]
fn a_deleted_directory_is_delivered_to_its_end_then_forgotten() {
    let s = server(&[]);
    let r = Receiver::start();
    let ep = endpoint(&s, json!({"endpoint_url": r.url()}));
    let id = ep["id"].as_str().unwrap().to_string();
    let keep = s.onboard("okta scim v2.0");
    let gone = s.onboard("okta scim v2.0");
    create_users(&s, &keep, "k", 1);
    create_users(&s, &gone, "d", 2);
    let (st, v) = s.api(Method::DELETE, &format!("/directories/{}", gone.id), None);
    assert!(st == 202 || st == 204 || st == 200, "{st} {v}");
    let got = r.wait_for(30, "dsync.deleted of the deleted directory", |g| {
        g.iter()
            .any(|e| e.directory() == gone.id && e.json["event"] == "dsync.deleted")
    });
    let names: Vec<&str> = got
        .iter()
        .filter(|e| e.directory() == gone.id)
        .map(|e| e.json["event"].as_str().unwrap())
        .collect();
    assert_eq!(names.last(), Some(&"dsync.deleted"), "{names:?}");
    let created = names.iter().filter(|n| **n == "dsync.user.created").count();
    assert_eq!(created, 2, "{names:?}");
    let t0 = std::time::Instant::now();
    loop {
        let (st, e) = s.api(Method::GET, &format!("/webhook_endpoints/{id}"), None);
        assert_eq!(st, 200, "{e}");
        let dirs: Vec<&str> = e["health"]["backlog"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["directory_id"].as_str().unwrap())
            .collect();
        assert!(dirs.contains(&keep.id.as_str()), "{e}");
        if !dirs.contains(&gone.id.as_str()) {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(20), "cursor kept: {e}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn gives_up_after_max_attempts_and_moves_on() {
    let s = server(&[("SCIMGATE_WEBHOOK_MAX_ATTEMPTS", "3")]);
    let r = Receiver::start();
    let ep = endpoint(
        &s,
        json!({"endpoint_url": r.url(), "events": ["dsync.user.created"]}),
    );
    let id = ep["id"].as_str().unwrap().to_string();
    let d = s.onboard("okta scim v2.0");
    r.set(vec![(500, Duration::ZERO); 3], (200, Duration::ZERO));
    let users = create_users(&s, &d, "u", 3);
    let got = r.wait_for(30, "the two later users", |g| g.len() >= 2);
    let delivered: Vec<String> = got
        .iter()
        .map(|g| g.json["data"]["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        delivered,
        users[1..].to_vec(),
        "the first was given up, the others follow in order"
    );
    let gave_up = deliveries(&s, &id, "&status=gave_up");
    assert_eq!(gave_up.len(), 1, "{gave_up:?}");
    assert_eq!(gave_up[0]["attempt"], 3);
    assert_eq!(gave_up[0]["event"], "dsync.user.created");
    // only subscribed events are sent
    assert!(got.iter().all(|g| g.json["event"] == "dsync.user.created"));
}

#[test]
fn redelivery_of_an_event_a_range_and_a_directory_in_order() {
    let s = server(&[]);
    let r = Receiver::start();
    let ep = endpoint(&s, json!({"endpoint_url": r.url()}));
    let id = ep["id"].as_str().unwrap().to_string();
    let d = s.onboard("okta scim v2.0");
    create_users(&s, &d, "r", 5);
    let want = expected(&s, &d.id);
    r.wait_for(30, "first delivery", |g| has_all(g, &want));
    let n0 = r.received().len();
    let path = format!("/webhook_endpoints/{id}/redeliver");
    // one event
    let (st, v) = s.api(Method::POST, &path, Some(json!({"event_id": want[2].1})));
    assert_eq!(st, 202, "{v}");
    let got = r.wait_for(20, "the redelivered event", |g| g.len() == n0 + 1);
    assert_eq!(got[n0].event_id(), want[2].1);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(r.received().len(), n0 + 1, "only that event");
    // the whole directory, in order
    let (st, _) = s.api(Method::POST, &path, Some(json!({"directory_id": d.id})));
    assert_eq!(st, 202);
    let got = r.wait_for(20, "the directory again", |g| {
        g.len() == n0 + 1 + want.len()
    });
    let again: Vec<(i64, String)> = got[n0 + 1..]
        .iter()
        .map(|g| (g.seq(), g.event_id()))
        .collect();
    assert_eq!(again, want);
    // a time range: everything since the start (all of it), then new events after it
    let (st, _) = s.api(
        Method::POST,
        &path,
        Some(json!({"range_start": "2000-01-01T00:00:00Z"})),
    );
    assert_eq!(st, 202);
    r.wait_for(20, "the range", |g| g.len() == n0 + 1 + 2 * want.len());
    create_users(&s, &d, "after", 1);
    let want2 = expected(&s, &d.id);
    let got = r.wait_for(20, "the new event after the replays", |g| {
        has_all(g, &want2)
    });
    assert_eq!(got.last().unwrap().event_id(), want2.last().unwrap().1);
    // bad requests change nothing
    for (body, st) in [
        (json!({}), 422),
        (json!({"event_id": "nope"}), 422),
        (json!({"event_id": "event_01M97ARR6JJZMNR89QPSXP3Z7R"}), 404),
        (json!({"event_id": want[0].1, "directory_id": d.id}), 422),
        (
            json!({"range_start": "2030-01-01T00:00:00Z", "range_end": "2020-01-01T00:00:00Z"}),
            422,
        ),
        (json!({"range_start": "yesterday"}), 422),
    ] {
        let (code, v) = s.api(Method::POST, &path, Some(body.clone()));
        assert_eq!(code, st, "{body}: {v}");
    }
}

#[test]
fn rotation_signs_with_both_secrets_during_the_overlap() {
    let s = server(&[]);
    let r = Receiver::start();
    let ep = endpoint(&s, json!({"endpoint_url": r.url()}));
    let id = ep["id"].as_str().unwrap().to_string();
    let old = ep["secret"].as_str().unwrap().to_string();
    let (st, rot) = s.api(
        Method::POST,
        &format!("/webhook_endpoints/{id}/rotate_secret"),
        Some(json!({"overlap_seconds": 3600})),
    );
    assert_eq!(st, 200, "{rot}");
    let new = rot["secret"].as_str().unwrap().to_string();
    assert_ne!(old, new);
    let (st, v) = s.api(
        Method::POST,
        &format!("/webhook_endpoints/{id}/rotate_secret"),
        Some(json!({"overlap_seconds": -1})),
    );
    assert_eq!(st, 422, "{v}");
    let d = s.onboard("okta scim v2.0");
    create_users(&s, &d, "rot", 1);
    let got = r.wait_for(20, "a delivery", |g| g.len() >= 2);
    for g in &got {
        let t: i64 = g.header("workos-signature")[2..15].parse().unwrap();
        let body = g.body.as_bytes();
        assert_eq!(
            g.header("workos-signature"),
            scimgate_webhooks::sign::workos_signature(&new, t, body)
        );
        assert_eq!(
            g.header("workos-signature-previous"),
            scimgate_webhooks::sign::workos_signature(&old, t, body)
        );
        assert_eq!(
            g.header("webhook-signature"),
            scimgate_webhooks::sign::standard_signature(
                &[new.clone(), old.clone()],
                &g.event_id(),
                t / 1000,
                body
            )
        );
    }
}

#[test]
fn a_killed_instance_loses_no_delivery() {
    // deliveries in flight (a slow receiver) when the process is SIGKILLed; a new
    // process on the same database sends every event, in order; repeats only of the
    // events in flight
    let r = Receiver::start();
    r.set(Vec::new(), (200, Duration::from_millis(150)));
    let env = [("SCIMGATE_WEBHOOK_TIMEOUT_MS", "1000")];
    let mut s = server(&env);
    let ep = endpoint(&s, json!({"endpoint_url": r.url()}));
    let _ = ep;
    let d = s.onboard("okta scim v2.0");
    create_users(&s, &d, "k", 20);
    let want = expected(&s, &d.id);
    r.wait_for(30, "some deliveries", |g| g.len() >= 3);
    s.kill();
    // the receiver records a request it was answering when the sender died
    std::thread::sleep(Duration::from_millis(300));
    let db = s.db.clone();
    let n_at_kill = r.received().len();
    assert!(
        n_at_kill < want.len(),
        "killed before the end ({n_at_kill} of {})",
        want.len()
    );
    let s2 = Server::start_on(
        db,
        &[
            ("SCIMGATE_SECRET_KEY", SECRET_KEY),
            ("SCIMGATE_WEBHOOK_ALLOW_HTTP", "true"),
            ("SCIMGATE_WEBHOOK_ALLOW_PRIVATE", "true"),
            ("SCIMGATE_WEBHOOK_TIMEOUT_MS", "1000"),
        ],
    );
    let got = r.wait_for(60, "every event after the restart", |g| has_all(g, &want));
    assert_in_order(&got, &d.id, &want);
    // repeats: only the event in flight and the run acknowledged but not yet recorded
    // (recorded every 50 events or 20 ms: with 150 ms answers, at most 2), all of them
    // among the last deliveries before the kill
    let repeats = got.len() - want.len();
    assert!(repeats <= 3, "{repeats} repeats");
    let before: Vec<String> = got[..n_at_kill].iter().map(Received::event_id).collect();
    let mut seen = HashSet::new();
    for g in &got {
        if !seen.insert(g.event_id()) {
            let k = before.iter().position(|x| *x == g.event_id());
            assert!(
                k.is_some_and(|k| k + 3 >= n_at_kill),
                "{} repeated from long before the kill",
                g.event_id()
            );
        }
    }
    drop(s2);
}

#[test]
fn two_instances_share_the_work_in_order_without_repeats() {
    let first = server(&[]);
    if !first.db.is_postgres() {
        // one process owns a SQLite database; the PostgreSQL run covers this
        eprintln!("two instances need PostgreSQL: covered by the PostgreSQL run");
        return;
    }
    let redis = Server::with_redis().unwrap_or_default();
    let mut env: Vec<(&str, &str)> = vec![
        ("SCIMGATE_SECRET_KEY", SECRET_KEY),
        ("SCIMGATE_WEBHOOK_ALLOW_HTTP", "true"),
        ("SCIMGATE_WEBHOOK_ALLOW_PRIVATE", "true"),
    ];
    env.extend(redis.iter().map(|(k, v)| (*k, v.as_str())));
    let second = Server::start_on(first.db.clone(), &env);
    let r = Receiver::start();
    endpoint(&first, json!({"endpoint_url": r.url()}));
    let dirs: Vec<Dir> = (0..4).map(|_| first.onboard("okta scim v2.0")).collect();
    std::thread::scope(|sc| {
        for (i, d) in dirs.iter().enumerate() {
            let s = if i % 2 == 0 { &first } else { &second };
            let d = Dir {
                base: format!("{}/scim/v2/{}", s.base, d.id),
                id: d.id.clone(),
                org: d.org.clone(),
                token: d.token.clone(),
            };
            sc.spawn(move || create_users(s, &d, &format!("i{i}_"), 15));
        }
    });
    let wants: Vec<Vec<(i64, String)>> = dirs.iter().map(|d| expected(&first, &d.id)).collect();
    let got = r.wait_for(60, "every event of every directory", |g| {
        wants.iter().all(|w| has_all(g, w))
    });
    for (d, w) in dirs.iter().zip(&wants) {
        assert_in_order(&got, &d.id, w);
    }
    let total: usize = wants.iter().map(Vec::len).sum();
    assert_eq!(
        got.len(),
        total,
        "no event sent twice under normal operation"
    );
}

/// `scimgate webhooks …` on the database a server then delivers from.
fn cli(
    db: &scimgate_core::testing::TestDatabase,
    data: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> std::process::Output {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_scimgate"));
    c.arg("webhooks")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SCIMGATE_DATABASE_URL", &db.url)
        .env("SCIMGATE_DATA_DIR", data)
        .env("SCIMGATE_SECRET_KEY", SECRET_KEY)
        .env("RUST_LOG", "error");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run scimgate")
}

fn cli_json(o: &std::process::Output) -> Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("JSON on stdout")
}

#[test]
fn cli_manages_endpoints_that_the_server_delivers_to() {
    let s = server(&[]);
    let r = Receiver::start();
    let data = tempfile::TempDir::with_prefix("scimgate-whcli-").unwrap();
    let allow = [
        ("SCIMGATE_WEBHOOK_ALLOW_HTTP", "true"),
        ("SCIMGATE_WEBHOOK_ALLOW_PRIVATE", "true"),
    ];
    // refused like the API refuses
    let o = cli(&s.db, data.path(), &["create", "--url", &r.url()], &[]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("https://"),
        "{o:?}"
    );
    let o = cli(
        &s.db,
        data.path(),
        &["create", "--url", &r.url(), "--event", "dsync.nope"],
        &allow,
    );
    assert!(!o.status.success());
    let ep = cli_json(&cli(
        &s.db,
        data.path(),
        &["create", "--url", &r.url(), "--event", "dsync.user.created"],
        &allow,
    ));
    let id = ep["id"].as_str().unwrap().to_string();
    assert!(ep["secret"].as_str().unwrap().starts_with("whsec_"));
    let listed = cli(&s.db, data.path(), &["list"], &[]);
    let line: Value =
        serde_json::from_slice(listed.stdout.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(line["id"], id.as_str());
    assert!(line.get("secret").is_none());
    // the server delivers to what the CLI created
    let d = s.onboard("okta scim v2.0");
    create_users(&s, &d, "cli", 1);
    r.wait_for(20, "a delivery", |g| g.len() == 1);
    let off = cli_json(&cli(&s.db, data.path(), &["disable", &id], &[]));
    assert_eq!(off["status"], "disabled");
    let on = cli_json(&cli(&s.db, data.path(), &["enable", &id], &[]));
    assert_eq!(on["status"], "enabled");
    let rot = cli_json(&cli(&s.db, data.path(), &["rotate", &id], &[]));
    assert_ne!(rot["secret"], ep["secret"]);
    let gone = cli_json(&cli(&s.db, data.path(), &["delete", &id], &[]));
    assert_eq!(gone["deleted"], true);
    assert!(!cli(&s.db, data.path(), &["delete", &id], &[])
        .status
        .success());
    assert_eq!(
        s.api(Method::GET, &format!("/webhook_endpoints/{id}"), None)
            .0,
        404
    );
    // each change is audited as the command line's, the failed delete as a failure,
    // and no secret is in the log
    let (page, actions) = s.audit_actions(&format!("target={id}&order=asc"));
    assert_eq!(
        actions,
        [
            "webhook_endpoint.created",
            "webhook_endpoint.updated",
            "webhook_endpoint.updated",
            "webhook_endpoint.secret_rotated",
            "webhook_endpoint.deleted",
            "webhook_endpoint.deleted"
        ]
    );
    let records = page["data"].as_array().unwrap();
    assert!(
        records.iter().all(|r| r["actor"]["type"] == "cli"),
        "{page}"
    );
    assert_eq!(records[1]["details"]["status"], "disabled");
    assert_eq!(records[4]["outcome"], "success");
    assert_eq!(records[5]["outcome"], "failure");
    let text = page.to_string();
    for secret in [&ep["secret"], &rot["secret"]] {
        assert!(!text.contains(secret.as_str().unwrap()));
    }
}

#[test]
fn endpoint_changes_and_setup_links_are_audited_without_their_secrets() {
    let s = server(&[]);
    let r = Receiver::start();
    let ep = endpoint(&s, json!({"endpoint_url": r.url()}));
    let id = ep["id"].as_str().unwrap().to_string();
    let secret = ep["secret"].as_str().unwrap().to_string();
    let path = format!("/webhook_endpoints/{id}");
    let (st, v) = s.api(Method::PATCH, &path, Some(json!({"status": "disabled"})));
    assert_eq!(st, 200, "{v}");
    let (st, rot) = s.api(
        Method::POST,
        &format!("{path}/rotate_secret"),
        Some(json!({})),
    );
    assert_eq!(st, 200, "{rot}");
    let rotated = rot["secret"].as_str().unwrap().to_string();
    let (st, _) = s.api(Method::DELETE, &path, None);
    assert_eq!(st, 204);
    let (page, actions) = s.audit_actions(&format!("target={id}&order=asc"));
    assert_eq!(
        actions,
        [
            "webhook_endpoint.created",
            "webhook_endpoint.updated",
            "webhook_endpoint.secret_rotated",
            "webhook_endpoint.deleted"
        ]
    );
    let text = page.to_string();
    assert!(
        !text.contains(&secret) && !text.contains(&rotated),
        "{text}"
    );

    // a setup link (WorkOS's POST /portal/generate_link): audited, its token not kept
    let org = s.onboard("okta scim v2.0").org;
    let (st, link) = s.api(
        Method::POST,
        "/portal/generate_link",
        Some(json!({"organization": org, "intent": "dsync"})),
    );
    assert_eq!(st, 201, "{link}");
    let (page, _) = s.audit_actions("action=setup_link.created");
    let data = page["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{page}");
    assert_eq!(data[0]["target"]["id"], org.as_str(), "{page}");
    let token = link["link"]
        .as_str()
        .unwrap()
        .split("token=")
        .nth(1)
        .unwrap();
    assert!(!page.to_string().contains(token), "{page}");
}
