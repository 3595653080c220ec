//! ../shared/docs/PRODUCT.md "Durability": a change and its event commit in one transaction, and a
//! SCIM request that got a 2xx is never lost. The real binary is killed (SIGKILL, no shutdown
//! of any kind) while clients create and deactivate users; a new process on the same
//! database must show every acknowledged write, each with its event, and the directory's
//! event sequence without a gap. SQLite by default, PostgreSQL with
//! SCIMGATE_TEST_DATABASE_URL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{patch, user_body, Dir, Server};
use reqwest::blocking::Client;
use reqwest::Method;
use serde_json::{json, Value};

const CLIENTS: usize = 8;
/// Acknowledged creates to wait for before the kill.
const BEFORE_KILL: usize = 150;

#[derive(Default)]
struct Acked {
    /// user id → userName, for every create answered 201
    created: HashMap<String, String>,
    /// users whose deactivation was answered 2xx
    deactivated: HashSet<String>,
}

/// One client: create a user, then deactivate it the Entra way, until a request gets no
/// answer (the server is gone).
fn client_loop(
    base: String,
    token: String,
    n: usize,
    acked: Arc<Mutex<Acked>>,
    count: Arc<AtomicUsize>,
) {
    let http = Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    // status and whole body, or None when there was no whole answer (not acknowledged)
    let send = |method: Method, path: &str, body: Value| {
        let r = http
            .request(method, format!("{base}{path}"))
            .bearer_auth(&token)
            .header("Content-Type", "application/scim+json")
            .body(body.to_string())
            .send()
            .ok()?;
        let status = r.status().as_u16();
        Some((status, r.bytes().ok()?))
    };
    for i in 0..100_000 {
        let name = format!("durable.{n}.{i}@example.com");
        let Some((status, body)) = send(Method::POST, "/Users", user_body(&name)) else {
            return;
        };
        let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        assert!(status == 201, "create answered {status}: {v}");
        let id = v["id"].as_str().unwrap().to_string();
        acked.lock().unwrap().created.insert(id.clone(), name);
        count.fetch_add(1, Ordering::SeqCst);
        let deactivate = patch(json!([{"op": "Replace", "path": "active", "value": "False"}]));
        let Some((status, _)) = send(Method::PATCH, &format!("/Users/{id}"), deactivate) else {
            return;
        };
        assert!(
            (200..300).contains(&status),
            "deactivation answered {status}"
        );
        acked.lock().unwrap().deactivated.insert(id);
    }
}

#[test]
fn a_killed_server_keeps_every_acknowledged_write() {
    let mut s = Server::start();
    let d = s.onboard("azure scim v2.0");
    let acked = Arc::new(Mutex::new(Acked::default()));
    let count = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|n| {
            let (base, token) = (d.base.clone(), d.token.clone());
            let (acked, count) = (acked.clone(), count.clone());
            std::thread::spawn(move || client_loop(base, token, n, acked, count))
        })
        .collect();
    let t0 = Instant::now();
    while count.load(Ordering::SeqCst) < BEFORE_KILL {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "the clients made no progress"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // writes in flight: the process dies without a chance to flush or shut down
    s.kill();
    for c in clients {
        c.join().expect("a client failed");
    }
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    assert!(acked.created.len() >= BEFORE_KILL);

    let s2 = Server::start_on(s.db.clone(), &[]);
    let d = Dir {
        base: format!("{}/scim/v2/{}", s2.base, d.id),
        ..d
    };
    for (id, name) in &acked.created {
        let (st, _, u) = s2.scim(&d, Method::GET, &format!("/Users/{id}"), None);
        assert_eq!(st, 200, "acknowledged create of {name} lost: {u}");
        assert_eq!(u["userName"], name.as_str());
        if acked.deactivated.contains(id) {
            assert_eq!(
                u["active"], false,
                "acknowledged deactivation of {name} lost"
            );
        }
    }
    let events = s2.events(&d.id);
    let seqs: Vec<i64> = events
        .iter()
        .map(|e| e["sequence"].as_i64().unwrap_or(-1))
        .collect();
    let mut created = HashSet::new();
    let mut inactive = HashSet::new();
    for e in &events {
        let id = e["data"]["id"].as_str().unwrap_or_default().to_string();
        match e["event"].as_str() {
            Some("dsync.user.created") => {
                created.insert(id);
            }
            Some("dsync.user.updated") if e["data"]["state"] == "inactive" => {
                inactive.insert(id);
            }
            _ => {}
        }
    }
    for id in acked.created.keys() {
        assert!(
            created.contains(id),
            "no dsync.user.created for acknowledged {id}"
        );
    }
    for id in &acked.deactivated {
        assert!(
            inactive.contains(id),
            "no deactivation event for acknowledged {id}"
        );
    }
    // every event belongs to a change that is there: nothing half-written survived
    let (st, _, list) = s2.scim(&d, Method::GET, "/Users?count=1", None);
    assert_eq!(st, 200);
    assert_eq!(
        list["totalResults"].as_u64().unwrap() as usize,
        created.len(),
        "users and creation events disagree"
    );
    let first = seqs.first().copied().unwrap_or(1);
    for (k, seq) in seqs.iter().enumerate() {
        assert_eq!(
            *seq,
            first + k as i64,
            "the event sequence has a gap: {seqs:?}"
        );
    }
}
