//! `/metrics` after real traffic: the histograms (request duration by surface and
//! route, pool waits, write batch sizes, event lag) in the Prometheus text exposition
//! format (prometheus.io/docs/instrumenting/exposition_formats: a histogram is
//! `_bucket{le=…}` lines, `_sum` and `_count`).

use super::*;

/// One scrape of `/metrics`.
struct Scrape(String);

impl Scrape {
    fn take(s: &Server) -> Scrape {
        let r = s.client.get(format!("{}/metrics", s.base)).send().unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let ct = r.headers()["content-type"].to_str().unwrap().to_string();
        assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
        Scrape(r.text().unwrap())
    }

    /// The value of one series, named with its labels as rendered.
    fn get(&self, series: &str) -> Option<f64> {
        self.0.lines().find_map(|l| {
            let v = l.strip_prefix(series)?.strip_prefix(' ')?;
            v.trim().parse().ok()
        })
    }

    fn value(&self, series: &str) -> f64 {
        self.get(series)
            .unwrap_or_else(|| panic!("no {series} in\n{}", self.0))
    }
}

/// `scimgate_http_request_duration_seconds` of one surface and route: (count, sum).
fn duration(m: &Scrape, surface: &str, route: &str) -> (f64, f64) {
    let labels = format!("{{surface=\"{surface}\",route=\"{route}\"}}");
    let name = "scimgate_http_request_duration_seconds";
    let count = m.value(&format!("{name}_count{labels}"));
    let inf = m.value(&format!(
        "{name}_bucket{{surface=\"{surface}\",route=\"{route}\",le=\"+Inf\"}}"
    ));
    assert_eq!(count, inf, "the +Inf bucket holds every observation");
    (count, m.value(&format!("{name}_sum{labels}")))
}

#[test]
fn metrics_histograms_after_traffic_prometheus_text_format() {
    let s = Server::start();
    let d = s.onboard("okta scim v2.0");
    let (ids, _) = seed(&s, &d, 3);
    let (st, _, _) = s.scim(&d, Method::GET, &format!("/Users/{}", ids[0]), None);
    assert_eq!(st, 200);
    let (st, _) = s.api(
        Method::GET,
        &format!("/directory_users?directory={}", d.id),
        None,
    );
    assert_eq!(st, 200);
    // no route: counted under its surface, never under its path
    assert_eq!(s.api(Method::GET, "/no/such/thing", None).0, 404);
    assert_eq!(s.scim(&d, Method::GET, "/NoSuchThing", None).0, 404);
    let last = s.events(&d.id).last().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let before = Scrape::take(&s);

    // a long poll that waits for the next write
    let poll = long_poll(&s, &d.id, &last, 20);
    std::thread::sleep(Duration::from_millis(500));
    let (st, _, _) = s.scim(
        &d,
        Method::POST,
        "/Users",
        Some(user_body("late@acme.test")),
    );
    assert_eq!(st, 201);
    assert_eq!(
        event_names_of(&poll.join().unwrap().1),
        ["dsync.user.created"]
    );
    let m = Scrape::take(&s);

    // request durations per surface and matched route pattern
    assert!(m
        .0
        .contains("# TYPE scimgate_http_request_duration_seconds histogram"));
    let (n, sum) = duration(&m, "scim", "/scim/v2/{directory_id}/Users");
    assert!(n >= 4.0, "3 creates and the late one: {n}");
    assert!(sum > 0.0 && sum < n * 10.0, "{sum} s for {n} requests");
    assert_eq!(
        duration(&m, "scim", "/scim/v2/{directory_id}/Users/{id}").0,
        1.0
    );
    assert_eq!(
        duration(&m, "scim", "/scim/v2/{directory_id}/Groups").0,
        1.0
    );
    assert_eq!(duration(&m, "vendor", "/directory_users").0, 1.0);
    assert_eq!(duration(&m, "vendor", "/directories").0, 1.0);
    assert_eq!(duration(&m, "vendor", "unmatched").0, 1.0);
    assert_eq!(duration(&m, "scim", "unmatched").0, 1.0);
    assert!(!m.0.contains("/no/such/thing") && !m.0.contains("NoSuchThing"));
    assert!(!m.0.contains(&d.id), "a path's ids are never a label");
    // the long poll waited for the write, some 500 ms
    let (n0, sum0) = duration(&before, "vendor", "/events");
    let (n1, sum1) = duration(&m, "vendor", "/events");
    assert_eq!(n1 - n0, 1.0);
    assert!((0.3..20.0).contains(&(sum1 - sum0)), "{}", sum1 - sum0);
    assert!(m.value("scimgate_http_requests_total") >= 12.0);

    // pooled connection checkouts
    let n = m.value("scimgate_db_pool_wait_seconds_count");
    let sum = m.value("scimgate_db_pool_wait_seconds_sum");
    assert!(n > 0.0);
    assert!((0.0..n * 10.0).contains(&sum), "{sum} s for {n} checkouts");

    // batch sizes: one observation per committed batch, of its writes
    let committed = m.value("scimgate_write_batches_total{outcome=\"optimistic\"}")
        + m.value("scimgate_write_batches_total{outcome=\"per_write\"}");
    assert_eq!(m.value("scimgate_write_batch_size_count"), committed);
    let sizes = m.value("scimgate_write_batch_size_sum");
    assert!(
        sizes >= 6.0,
        "activation, 3 users, a group, the late user: {sizes}"
    );
    assert!(sizes <= m.value("scimgate_write_batch_writes_total"));
    assert_eq!(
        m.value("scimgate_write_batch_size_bucket{le=\"+Inf\"}"),
        committed
    );

    // event lag: the paged reads before had no event after their cursor; the long poll
    // returned one event written while it waited, so its reader was barely behind
    let lag = |m: &Scrape| {
        (
            m.get("scimgate_event_lag_seconds_count").unwrap_or(0.0),
            m.get("scimgate_event_lag_seconds_sum").unwrap_or(0.0),
        )
    };
    let ((n0, sum0), (n1, sum1)) = (lag(&before), lag(&m));
    assert_eq!(n1 - n0, 1.0);
    assert!((0.0..5.0).contains(&(sum1 - sum0)), "{}", sum1 - sum0);
    assert_eq!(
        m.value("scimgate_event_lag_seconds_bucket{le=\"+Inf\"}"),
        n1
    );
}

#[test]
fn health_answers_head_and_every_response_carries_security_headers() {
    let s = Server::start();
    for path in ["/healthz", "/readyz"] {
        let r = s.client.head(format!("{}{path}", s.base)).send().unwrap();
        assert_eq!(r.status().as_u16(), 200, "HEAD {path}");
    }
    for path in [
        "/healthz",
        "/directories",
        "/nowhere",
        "/scim/v2/directory_x/Users",
    ] {
        let r = s.client.get(format!("{}{path}", s.base)).send().unwrap();
        assert_eq!(
            r.headers()
                .get("x-content-type-options")
                .map(|v| v.to_str().unwrap()),
            Some("nosniff"),
            "{path}"
        );
        assert!(
            r.headers().get("strict-transport-security").is_none(),
            "{path}"
        );
    }
    let https = Server::start_with(&[("SCIMGATE_PUBLIC_URL", "https://scim.example.com")]);
    let r = https
        .client
        .get(format!("{}/healthz", https.base))
        .send()
        .unwrap();
    assert_eq!(
        r.headers()
            .get("strict-transport-security")
            .map(|v| v.to_str().unwrap()),
        Some("max-age=31536000")
    );
}

/// `GET /openapi.json` (the contract, src/openapi.rs) is served without credentials, is
/// OpenAPI 3.1 with both bearer schemes, and what it says of a 401 is what a real 401
/// is: a WorkOS `{code, message}` in JSON on the vendor API, an RFC 7644 §3.12 error in
/// `application/scim+json` on the SCIM surface.
#[test]
fn openapi_json_is_served_without_credentials_and_its_401s_are_the_real_ones() {
    let s = Server::start();
    let r = s
        .client
        .get(format!("{}/openapi.json", s.base))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let doc: Value = r.json().unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    for scheme in ["api_key", "directory_token"] {
        assert_eq!(
            doc["components"]["securitySchemes"][scheme]["scheme"], "bearer",
            "{scheme}"
        );
    }
    let resolve = |r: &Value| -> Value {
        let name = r["$ref"].as_str().unwrap().rsplit('/').next().unwrap();
        doc["components"]["schemas"][name].clone()
    };

    // the vendor API
    let op = &doc["paths"]["/organizations"]["get"];
    assert_eq!(op["security"][0]["api_key"], json!([]));
    let schema = resolve(&op["responses"]["401"]["content"]["application/json"]["schema"]);
    let r = s
        .client
        .get(format!("{}/organizations", s.base))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let body: Value = r.json().unwrap();
    for field in schema["required"].as_array().unwrap() {
        let f = field.as_str().unwrap();
        assert!(body[f].is_string(), "{f} in {body}");
    }

    // the SCIM surface
    let d = s.onboard("okta scim v2.0");
    let path = "/scim/v2/{directory_id}/Users";
    let op = &doc["paths"][path]["get"];
    assert_eq!(op["security"][0]["directory_token"], json!([]));
    let schema = resolve(&op["responses"]["401"]["content"]["application/scim+json"]["schema"]);
    let r = s.req(
        Method::GET,
        &format!("/scim/v2/{}/Users", d.id),
        "wrong",
        None,
    );
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/scim+json"
    );
    let body: Value = r.json().unwrap();
    for field in schema["required"].as_array().unwrap() {
        let f = field.as_str().unwrap();
        assert!(!body[f].is_null(), "{f} in {body}");
    }
    assert_eq!(body["status"], "401");
}
