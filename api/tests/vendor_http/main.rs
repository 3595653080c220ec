//! The vendor API, black-box over HTTP against the real binary: WorkOS wire shapes
//! (../shared/docs/WIRE-COMPAT.md), cursors, the events API with its three `events` encodings and
//! long poll, snapshots, role and attribute mappings, directory deletion, and multi-instance
//! behaviour over Redis; one module a topic, in one test binary like `scim_http`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../common/mod.rs"]
mod common;

mod api_keys;
mod audit;
mod directories;
mod events;
mod instances;
mod limits;
mod mappings;
mod objects;
mod ops;

use std::time::{Duration, Instant};

use common::*;
use reqwest::Method;
use serde_json::{json, Value};

/// Two instances on one database sharing Redis, started with `env` besides. `None` on
/// the SQLite run (no test variables), which has no shared PostgreSQL and leaves such
/// tests to the PostgreSQL + Redis run, where both are required.
fn two_instances(env: &[(&str, &str)]) -> Option<(Server, Server)> {
    scimgate_core::testing::postgres_url()?;
    let Some(redis) = Server::with_redis() else {
        panic!("SCIMGATE_TEST_DATABASE_URL is set: SCIMGATE_TEST_REDIS_URL must be set too");
    };
    let db = std::sync::Arc::new(scimgate_core::testing::TestDatabase::new());
    let mut all: Vec<(&str, &str)> = redis.iter().map(|(k, v)| (*k, v.as_str())).collect();
    all.extend_from_slice(env);
    Some((
        Server::start_on(db.clone(), &all),
        Server::start_on(db, &all),
    ))
}

fn seed(s: &Server, d: &Dir, n: usize) -> (Vec<String>, String) {
    let mut ids = Vec::new();
    for i in 0..n {
        let mut b = user_body(&format!("user{i:03}@acme.test"));
        b["externalId"] = json!(format!("idp-{i}"));
        b["title"] = json!("Engineer");
        b["schemas"] = json!([
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        ]);
        b["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"] =
            json!({"department": "R&D", "employeeNumber": format!("{i}")});
        let (st, _, u) = s.scim(d, Method::POST, "/Users", Some(b));
        assert_eq!(st, 201, "{u}");
        ids.push(u["id"].as_str().unwrap().to_string());
    }
    let members: Vec<Value> = ids.iter().take(2).map(|i| json!({"value": i})).collect();
    let (st, _, g) = s.scim(d, Method::POST, "/Groups", Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Developers", "externalId": "g-1", "members": members})));
    assert_eq!(st, 201, "{g}");
    (ids, g["id"].as_str().unwrap().to_string())
}

/// `GET /events?directory_id=…&after=…&wait=…` on a thread: when it returned, and its
/// page.
fn long_poll(
    s: &Server,
    dir: &str,
    after: &str,
    wait: u32,
) -> std::thread::JoinHandle<(Instant, Value)> {
    let url = format!(
        "{}/events?directory_id={dir}&after={after}&wait={wait}",
        s.base
    );
    let client = s.client.clone();
    std::thread::spawn(move || {
        let r = client.get(url).bearer_auth(API_KEY).send().unwrap();
        (Instant::now(), r.json::<Value>().unwrap())
    })
}

fn event_names_of(v: &Value) -> Vec<String> {
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_string())
        .collect()
}
