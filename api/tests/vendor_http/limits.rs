//! Rate limits: failed authentications lock out the client address and the
//! credential prefix (429 + Retry-After, audited, no database work), per-directory
//! SCIM and per-key vendor request rates, and lock-outs shared by two instances
//! through Redis.

use super::*;

fn bogus(prefix: &str) -> String {
    scimgate_core::secrets::generate(prefix)
}

/// A SCIM GET of `/Users` with `token`, from `forwarded_for` (believed: the test
/// servers trust 127.0.0.1 as a proxy where it matters); status and `Retry-After`.
fn scim_get(
    s: &Server,
    dir: &str,
    token: &str,
    forwarded_for: Option<&str>,
) -> (u16, Option<u64>, Value) {
    let mut r = s
        .client
        .get(format!("{}/scim/v2/{dir}/Users", s.base))
        .bearer_auth(token);
    if let Some(ip) = forwarded_for {
        r = r.header("X-Forwarded-For", ip);
    }
    let resp = r.send().unwrap();
    let st = resp.status().as_u16();
    let retry = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    (st, retry, resp.json().unwrap_or(Value::Null))
}

const LIMITS: [(&str, &str); 3] = [
    ("SCIMGATE_AUTH_FAILURES_PER_MINUTE", "3"),
    ("SCIMGATE_AUTH_LOCKOUT_SECONDS", "2"),
    ("SCIMGATE_TRUSTED_PROXIES", "127.0.0.1"),
];

#[test]
fn failed_authentications_lock_out_the_address_and_are_audited() {
    let s = Server::start_with(&LIMITS);
    let d = s.onboard("okta scim v2.0");
    let ip = "198.51.100.7";
    for i in 0..4 {
        let (st, _, _) = scim_get(&s, &d.id, &bogus("sgd_"), Some(ip));
        assert_eq!(st, 401, "attempt {i}");
    }
    // locked out: a SCIM error body with Retry-After, for any credential to be
    // looked up, on both surfaces, from that address only
    let (st, retry, body) = scim_get(&s, &d.id, &bogus("sgd_"), Some(ip));
    assert_eq!(st, 429, "{body}");
    assert!(matches!(retry, Some(1..=2)), "{retry:?}");
    assert_eq!(body["status"], "429");
    assert_eq!(
        body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
    assert_eq!(scim_get(&s, &d.id, &d.token, Some(ip)).0, 429);
    let r = s
        .client
        .get(format!("{}/directories", s.base))
        .bearer_auth(bogus("sk_"))
        .header("X-Forwarded-For", ip)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 429);
    assert!(r.headers().get("retry-after").is_some());
    assert_eq!(scim_get(&s, &d.id, &d.token, Some("198.51.100.8")).0, 200);
    // audited once
    let t0 = Instant::now();
    let page = loop {
        let (_, page) = s.api(Method::GET, "/audit_logs?action=auth.locked_out", None);
        if !page["data"].as_array().unwrap().is_empty() || t0.elapsed() > Duration::from_secs(10) {
            break page;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let data = page["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{page}");
    assert_eq!(data[0]["target"]["type"], "client_address");
    assert_eq!(data[0]["target"]["id"], ip);
    assert_eq!(data[0]["actor"]["type"], "anonymous");
    assert_eq!(data[0]["outcome"], "denied");
    // the lock-out ends
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(scim_get(&s, &d.id, &d.token, Some(ip)).0, 200);
}

#[test]
fn a_credential_prefix_is_locked_out_whatever_the_address() {
    let s = Server::start_with(&LIMITS);
    let d = s.onboard("okta scim v2.0");
    // the same prefix (the real token's) with wrong endings, from ever new addresses
    let prefix: String = d.token.chars().take(10).collect();
    for i in 0..4 {
        let guess = format!("{prefix}{}", "0".repeat(d.token.len() - 10));
        let (st, _, _) = scim_get(&s, &d.id, &guess, Some(&format!("203.0.113.{i}")));
        assert_eq!(st, 401, "attempt {i}");
    }
    let (st, retry, _) = scim_get(&s, &d.id, &d.token, Some("203.0.113.99"));
    assert_eq!(st, 429);
    assert!(retry.is_some());
    // without a trusted proxy, X-Forwarded-For is not believed: the address is the peer's
    let plain = Server::start_with(&LIMITS[..2]);
    let d2 = plain.onboard("okta scim v2.0");
    for i in 0..4 {
        scim_get(
            &plain,
            &d2.id,
            &bogus("sgd_"),
            Some(&format!("192.0.2.{i}")),
        );
    }
    assert_eq!(
        scim_get(&plain, &d2.id, &bogus("sgd_"), Some("192.0.2.200")).0,
        429
    );
}

#[test]
fn per_directory_and_per_key_request_rates_answer_429() {
    let s = Server::start_with(&[
        ("SCIMGATE_SCIM_REQUESTS_PER_MINUTE", "5"),
        ("SCIMGATE_API_REQUESTS_PER_MINUTE", "20"),
    ]);
    let a = s.onboard("okta scim v2.0");
    let b = s.onboard("azure scim v2.0");
    let mut limited = None;
    for _ in 0..20 {
        let (st, retry, body) = scim_get(&s, &a.id, &a.token, None);
        if st == 429 {
            limited = Some((retry, body));
            break;
        }
        assert_eq!(st, 200, "{body}");
    }
    let (retry, body) = limited.expect("no 429 within 20 requests at 5 a minute");
    assert!(matches!(retry, Some(1..=60)), "{retry:?}");
    assert_eq!(body["status"], "429");
    // another directory is not held by A's storm
    assert_eq!(scim_get(&s, &b.id, &b.token, None).0, 200);
    // the vendor API, per key
    let mut st = 0;
    for _ in 0..40 {
        let r = s.req(Method::GET, "/directories", API_KEY, None);
        st = r.status().as_u16();
        if st == 429 {
            assert!(r.headers().get("retry-after").is_some());
            let e: Value = r.json().unwrap();
            assert_eq!(e["code"], "rate_limit_exceeded");
            break;
        }
    }
    assert_eq!(st, 429);
}

#[test]
fn a_lock_out_on_one_instance_holds_on_the_other() {
    let mut env = LIMITS.to_vec();
    env.push(("SCIMGATE_AUTH_LOCKOUT_SECONDS", "30"));
    let Some((a, b)) = two_instances(&env) else {
        return;
    };
    let d = a.onboard("okta scim v2.0");
    // an address no other test uses (the Redis counters are shared by every run)
    let ip = format!("2001:db8::{:x}", std::process::id());
    for i in 0..4 {
        assert_eq!(
            scim_get(&a, &d.id, &bogus("sgd_"), Some(&ip)).0,
            401,
            "attempt {i}"
        );
    }
    let (st, retry, _) = scim_get(&b, &d.id, &d.token, Some(&ip));
    assert_eq!(st, 429);
    assert!(matches!(retry, Some(20..=30)), "{retry:?}");
    assert_eq!(scim_get(&b, &d.id, &d.token, None).0, 200);
}
