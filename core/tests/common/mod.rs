//! What the storage tests share: a core on a fresh database (SQLite always,
//! PostgreSQL when SCIMGATE_TEST_DATABASE_URL is set, as in CI), users to write, a
//! directory's events read back, and writes held back to commit as one batch.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use scimgate_core::bus::Bus;
use scimgate_core::events::{self as log, EventQuery, Order};
use scimgate_core::model::*;
use scimgate_core::service::{admin, users};
use scimgate_core::store::AnyConn;
use scimgate_core::testing::TestDatabase;
use scimgate_core::{Core, Settings};
use serde_json::json;

pub fn core_on(t: &TestDatabase) -> Core {
    Core::new(t.db(), Bus::in_process(), Settings::default())
}

/// A core on `t` with one organization and one directory of `dir_type`.
pub fn core_with_directory(t: &TestDatabase, dir_type: &str) -> (Core, DirectoryRow) {
    let core = core_on(t);
    let org = admin::create_organization(&core, "Org", &[]).unwrap();
    let dir_type = DirectoryType::parse(dir_type).unwrap();
    let dir = admin::create_directory(&core, &org.id, dir_type, None)
        .unwrap()
        .directory;
    (core, dir)
}

pub fn user_body(n: &str) -> serde_json::Value {
    json!({"userName": n, "name": {"givenName": "A", "familyName": "B"}, "emails": [{"value": n, "primary": true}]})
}

/// Create `n` users `{prefix}{i}@x.test`, one write each; their ids in order.
pub fn create_users(
    core: &Core,
    dir: &DirectoryRow,
    prefix: &str,
    n: usize,
) -> Vec<DirectoryUserId> {
    (0..n)
        .map(|i| {
            users::create(core, dir, user_body(&format!("{prefix}{i}@x.test")))
                .unwrap()
                .id
        })
        .collect()
}

/// Run `writes` as one combined batch, in this order: the directory's writes are held
/// back while each is submitted (waiting until it is queued before the next), then
/// released together. Returns each write's result.
pub fn in_one_batch<T: Send + 'static>(
    core: &Core,
    dir: &DirectoryRow,
    writes: Vec<Box<dyn FnOnce() -> T + Send>>,
) -> Vec<T> {
    let hold = core.pause_writes(dir);
    let mut handles = Vec::new();
    for (i, w) in writes.into_iter().enumerate() {
        handles.push(std::thread::spawn(w));
        let deadline = Instant::now() + Duration::from_secs(10);
        while core.queued_writes(dir) < i + 1 {
            assert!(Instant::now() < deadline, "write {i} was not queued");
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    drop(hold);
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

pub fn user_events(
    conn: &mut AnyConn,
    dir: &DirectoryRow,
    user_id: &DirectoryUserId,
) -> Vec<serde_json::Value> {
    directory_events(conn, dir)
        .into_iter()
        .filter(|(_, data)| data["id"] == user_id.as_str())
        .map(|(event, data)| json!({"event": event, "data": data}))
        .collect()
}

/// The events of a directory in order, expanded one by one, as (event, data).
pub fn directory_events(
    conn: &mut AnyConn,
    dir: &DirectoryRow,
) -> Vec<(String, serde_json::Value)> {
    let q = EventQuery {
        events: vec![],
        after: None,
        range_start: None,
        range_end: None,
        limit: 1000,
        order: Order::Asc,
        organization_id: None,
        directory_id: Some(dir.id.to_string()),
    };
    let (rows, _) = log::list(conn, &q).unwrap();
    rows.into_iter()
        .map(|e| (e.event, serde_json::from_str(&e.data).unwrap()))
        .collect()
}

pub fn members_patch(ops: serde_json::Value) -> serde_json::Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})
}
