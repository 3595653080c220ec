//! Black-box harness: the real `scimgate` binary on a free port, over real HTTP,
//! on a fresh database (SQLite, or PostgreSQL when SCIMGATE_TEST_DATABASE_URL is set).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, Response};
use reqwest::Method;
use scimgate_core::testing::{redis_url, TestDatabase};
use serde_json::{json, Value};
use tempfile::TempDir;

pub const API_KEY: &str = "sk_test_Q7vK2mX9pL4wR8nT3yB6hJ5dF1sG0c";

pub struct Server {
    child: Child,
    pub base: String,
    pub db: std::sync::Arc<TestDatabase>,
    _data: TempDir,
    pub client: Client,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Server {
    pub fn start() -> Server {
        Self::start_with(&[])
    }

    pub fn start_with(env: &[(&str, &str)]) -> Server {
        Self::start_on(std::sync::Arc::new(TestDatabase::new()), env)
    }

    /// Start another instance on the same database (multi-instance tests).
    pub fn start_on(db: std::sync::Arc<TestDatabase>, env: &[(&str, &str)]) -> Server {
        let port = free_port();
        let data = TempDir::with_prefix("scimgate-bb-").unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_scimgate"));
        cmd.arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("SCIMGATE_DATABASE_URL", &db.url)
            .env("SCIMGATE_LISTEN", format!("127.0.0.1:{port}"))
            .env("SCIMGATE_DATA_DIR", data.path())
            .env("SCIMGATE_BOOTSTRAP_API_KEY", API_KEY)
            .env("SCIMGATE_WORKERS", "2")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("spawn scimgate");
        let client = Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let s = Server {
            child,
            base,
            db,
            _data: data,
            client,
        };
        let t0 = Instant::now();
        loop {
            if let Ok(r) = s.client.get(format!("{}/readyz", s.base)).send() {
                if r.status().is_success() {
                    break;
                }
            }
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "scimgate did not become ready"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        s
    }

    pub fn with_redis() -> Option<Vec<(&'static str, String)>> {
        redis_url().map(|u| vec![("SCIMGATE_REDIS_URL", u)])
    }

    pub fn req(&self, method: Method, path: &str, token: &str, body: Option<Value>) -> Response {
        let mut r = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(b) = body {
            r = r
                .header("Content-Type", "application/scim+json")
                .body(b.to_string());
        }
        r.send().expect("request")
    }

    /// Vendor API call; returns (status, JSON body or Null).
    pub fn api(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let r = self.req(method, path, API_KEY, body);
        let st = r.status().as_u16();
        (st, r.json().unwrap_or(Value::Null))
    }

    /// `GET /audit_logs?{query}`: the page and its records' actions, in its order.
    pub fn audit_actions(&self, query: &str) -> (Value, Vec<String>) {
        let (st, page) = self.api(Method::GET, &format!("/audit_logs?{query}"), None);
        assert_eq!(st, 200, "{page}");
        let actions = page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["action"].as_str().unwrap().to_string())
            .collect();
        (page, actions)
    }

    pub fn onboard(&self, dir_type: &str) -> Dir {
        let (st, org) = self.api(
            Method::POST,
            "/organizations",
            Some(json!({"name": "Acme", "domains": ["acme.test"]})),
        );
        assert_eq!(st, 201, "{org}");
        let (st, dir) = self.api(
            Method::POST,
            "/directories",
            Some(json!({"organization_id": org["id"], "type": dir_type, "name": "Acme IdP"})),
        );
        assert_eq!(st, 201, "{dir}");
        Dir {
            id: dir["id"].as_str().unwrap().to_string(),
            org: org["id"].as_str().unwrap().to_string(),
            token: dir["bearer_token"].as_str().unwrap().to_string(),
            base: format!("{}/scim/v2/{}", self.base, dir["id"].as_str().unwrap()),
        }
    }

    /// SCIM call on a directory; returns (status, headers, JSON body or Null).
    pub fn scim(
        &self,
        d: &Dir,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let mut r = self
            .client
            .request(method, format!("{}{path}", d.base))
            .bearer_auth(&d.token);
        if let Some(b) = body {
            r = r
                .header("Content-Type", "application/scim+json")
                .body(b.to_string());
        }
        let resp = r.send().expect("request");
        let st = resp.status().as_u16();
        let h = resp.headers().clone();
        (st, h, resp.json().unwrap_or(Value::Null))
    }

    /// All events of a directory, oldest first.
    pub fn events(&self, dir: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..10_000 {
            let mut path = format!("/events?directory_id={dir}&order=asc&limit=100");
            if let Some(a) = &after {
                path.push_str(&format!("&after={a}"));
            }
            let (st, v) = self.api(Method::GET, &path, None);
            assert_eq!(st, 200, "{v}");
            let data = v["data"].as_array().cloned().unwrap_or_default();
            if data.is_empty() {
                break;
            }
            out.extend(data);
            after = v["list_metadata"]["after"].as_str().map(str::to_string);
        }
        out
    }

    /// Kill the process outright (SIGKILL): no shutdown, no flush.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn event_names(&self, dir: &str) -> Vec<String> {
        self.events(dir)
            .iter()
            .map(|e| e["event"].as_str().unwrap_or("").to_string())
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

pub struct Dir {
    pub id: String,
    pub org: String,
    pub token: String,
    pub base: String,
}

pub fn user_body(user_name: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "emails": [{"primary": true, "value": user_name, "type": "work"}],
        "active": true
    })
}

pub fn patch(ops: Value) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})
}

/// Snapshot settings for the wire shapes (../shared/docs/WIRE-COMPAT.md): what differs
/// between runs and backends is redacted, so SQLite and PostgreSQL give the same
/// snapshots while keys, their order, nulls and enum strings stay pinned.
/// - ids (`id`, `directory_id`, `organization_id`, `group_id`, …, and the member
///   references of stored SCIM documents) become `[id]`, or `[label]` for an id a
///   test names in `labels` (so that a snapshot still says which object a reference
///   is);
/// - WorkOS timestamps become `[timestamp]`, once checked to have the wire form
///   `2026-01-15T12:00:00.000Z` (WIRE-COMPAT.md §3); a null stays null;
/// - cursors become `[cursor]`; secrets, and the URLs that carry a directory id,
///   `[secret]`.
pub fn snapshot_settings(labels: &[(&str, &str)]) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_prepend_module_to_snapshot(false);
    let labels: std::sync::Arc<std::collections::HashMap<String, String>> = std::sync::Arc::new(
        labels
            .iter()
            .map(|(id, label)| (id.to_string(), format!("[{label}]")))
            .collect(),
    );
    let id = move |v: insta::internals::Content, _: insta::internals::ContentPath<'_>| match v
        .as_str()
        .and_then(|s| labels.get(s))
    {
        Some(label) => insta::internals::Content::from(label.as_str()),
        None if v.is_nil() => v,
        None => "[id]".into(),
    };
    for key in [
        "id",
        "directory_id",
        "organization_id",
        "group_id",
        "directory_user_id",
        "role_mapping_id",
        "external_key",
    ] {
        s.add_dynamic_redaction(&format!(".**.{key}"), id.clone());
    }
    // member references in stored SCIM documents are user ids
    s.add_dynamic_redaction(".**.members[].value", id);
    for key in ["created_at", "updated_at", "last_used_at"] {
        s.add_dynamic_redaction(&format!(".**.{key}"), |v, path| {
            if v.is_nil() {
                return v;
            }
            let t = v.as_str().unwrap_or_default();
            assert!(utc_timestamp(t, 3), "{path}: {t:?} is no WorkOS timestamp");
            "[timestamp]".into()
        });
    }
    for key in ["before", "after"] {
        s.add_dynamic_redaction(&format!(".**.list_metadata.{key}"), |v, _| {
            if v.is_nil() {
                v
            } else {
                "[cursor]".into()
            }
        });
    }
    for key in ["bearer_token", "token_suffix", "scim_url"] {
        s.add_redaction(&format!(".**.{key}"), "[secret]");
    }
    s
}

/// Whether `t` is `YYYY-MM-DDTHH:MM:SS`, a `.` and `digits` digits, then `Z`: a WorkOS
/// timestamp with 3, a SCIM `meta` one (RFC 7643 §2.3.5, as scimgate writes it) with 6.
pub fn utc_timestamp(t: &str, digits: usize) -> bool {
    t.len() == 21 + digits
        && t.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            10 => b == b'T',
            13 | 16 => b == b':',
            19 => b == b'.',
            _ if i == 20 + digits => b == b'Z',
            _ => b.is_ascii_digit(),
        })
}
