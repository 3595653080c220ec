//! The event log's order and cursors on real databases: no reader misses or repeats
//! an event under concurrent writers, a late-committing lower id is not skipped, and
//! retention prunes old events only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use diesel::prelude::*;
use scimgate_core::events::{self as log, EventQuery, Order};
use scimgate_core::model::*;
use scimgate_core::service::{admin, groups, users};
use scimgate_core::store::schema::*;
use scimgate_core::testing::{postgres_url, TestDatabase};
use serde_json::json;

/// Several writers on several directories while a reader pages the global stream with
/// `after`: every committed event is seen exactly once, and each directory's events in
/// strictly increasing, contiguous `sequence`. On PostgreSQL this exercises the
/// txid/xmin horizon (a naive id cursor skips late-committing lower ids).
#[test]
fn concurrent_writers_never_make_a_reader_miss_or_repeat_an_event() {
    for round in 0..3 {
        let t = TestDatabase::new();
        let core = core_on(&t);
        let org = admin::create_organization(&core, "Org", &[]).unwrap();
        let dirs: Vec<DirectoryRow> = (0..3)
            .map(|_| {
                admin::create_directory(&core, &org.id, DirectoryType::Okta, None)
                    .unwrap()
                    .directory
            })
            .collect();
        let stop = Arc::new(AtomicBool::new(false));
        let reader = {
            let core = core.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut seen: Vec<EventRow> = Vec::new();
                let mut after: Option<String> = None;
                let deadline = Instant::now() + Duration::from_secs(60);
                loop {
                    let mut conn = core.db().conn().unwrap();
                    let q = EventQuery {
                        events: vec![],
                        after: after.clone(),
                        range_start: None,
                        range_end: None,
                        limit: 7,
                        order: Order::Asc,
                        organization_id: None,
                        directory_id: None,
                    };
                    let (rows, next) = log::list(&mut conn, &q).unwrap();
                    if rows.is_empty() {
                        // drained once the writers are done and everything committed was
                        // read (a transaction elsewhere in the cluster may hold the
                        // horizon back for a while: keep polling, do not give up early)
                        if stop.load(Ordering::SeqCst) {
                            let total: i64 = scimgate_core::store::schema::events::table
                                .select(scimgate_core::store::schema::events::n)
                                .load::<i32>(&mut conn)
                                .unwrap()
                                .into_iter()
                                .map(i64::from)
                                .sum();
                            if seen.len() as i64 >= total || Instant::now() > deadline {
                                break;
                            }
                        }
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    }
                    after = next;
                    seen.extend(rows);
                }
                seen
            })
        };
        let writers: Vec<_> = (0..6)
            .map(|w| {
                let core = core.clone();
                let dir = dirs[w % dirs.len()].clone();
                std::thread::spawn(move || {
                    let mut ids = Vec::new();
                    for i in 0..25 {
                        let u = users::create(&core, &dir, user_body(&format!("w{w}-{i}@x.test"))).unwrap();
                        ids.push(u.id.clone());
                        if i % 5 == 4 {
                            let ops = json!({"Operations": [{"op": "replace", "path": "active", "value": false}]});
                            users::patch(&core, &dir, &u.id, ops, None).unwrap();
                        }
                    }
                    let g = groups::create(&core, &dir, json!({"displayName": format!("g{w}"), "members": ids.iter().take(10).map(|i| json!({"value": i})).collect::<Vec<_>>()})).unwrap();
                    users::delete(&core, &dir, &ids[0], None).unwrap();
                    groups::delete(&core, &dir, &g.id, None).unwrap();
                })
            })
            .collect();
        let t0 = Instant::now();
        for w in writers {
            w.join().unwrap();
        }
        stop.store(true, Ordering::SeqCst);
        let seen = reader.join().unwrap();
        assert!(t0.elapsed() < Duration::from_secs(120));
        // the full log, read afterwards
        let mut conn = core.db().conn().unwrap();
        // (a row may hold several membership events: see `events::expand`)
        let all: Vec<EventRow> = events::table
            .order(events::gid.asc())
            .select(EventRow::as_select())
            .load(&mut conn)
            .unwrap()
            .into_iter()
            .flat_map(|r| log::expand(r).unwrap())
            .collect();
        assert!(
            all.len() > events::table.count().get_result::<i64>(&mut conn).unwrap() as usize,
            "round {round}: membership events share rows"
        );
        let mut count: HashMap<&str, usize> = HashMap::new();
        for e in &seen {
            *count.entry(e.id.as_str()).or_default() += 1;
        }
        assert!(
            count.values().all(|n| *n == 1),
            "round {round}: an event was seen twice"
        );
        let missing: Vec<&str> = all
            .iter()
            .map(|e| e.id.as_str())
            .filter(|id| !count.contains_key(id))
            .collect();
        if !missing.is_empty() {
            let first_missing = all
                .iter()
                .find(|e| !count.contains_key(e.id.as_str()))
                .unwrap();
            let last_seen = seen.last().unwrap();
            panic!(
                "round {round}: the reader missed {} of {} events; first missing (txid {}, gid {}, seq {}), last seen (txid {}, gid {})",
                missing.len(), all.len(), first_missing.txid, first_missing.gid, first_missing.seq, last_seen.txid, last_seen.gid
            );
        }
        assert_eq!(seen.len(), all.len());
        let mut per_dir: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
        for e in &seen {
            per_dir
                .entry(e.directory_id.as_str())
                .or_default()
                .push(e.seq);
        }
        for (d, seqs) in per_dir {
            assert_eq!(
                seqs,
                (1..=seqs.len() as i64).collect::<Vec<_>>(),
                "round {round}: directory {d} out of order"
            );
        }
    }
}

/// Why a plain id cursor is not enough, and that the horizon closes the gap: a write
/// that took its id first but commits last must not be skipped by a reader that
/// already saw a later id (PostgreSQL; SQLite has one writer at a time).
#[test]
fn a_late_committing_lower_id_is_not_skipped() {
    use diesel::connection::SimpleConnection;
    let Some(admin) = postgres_url() else { return };
    let t = TestDatabase::postgres(&admin);
    let core = core_on(&t);
    let org = admin::create_organization(&core, "Org", &[]).unwrap();
    let d1 = admin::create_directory(&core, &org.id, DirectoryType::Okta, None)
        .unwrap()
        .directory;
    let d2 = admin::create_directory(&core, &org.id, DirectoryType::Okta, None)
        .unwrap()
        .directory;
    let mut reader = core.db().conn().unwrap();
    let q = |after: Option<String>| EventQuery {
        events: vec![],
        after,
        range_start: None,
        range_end: None,
        limit: 100,
        order: Order::Asc,
        organization_id: None,
        directory_id: None,
    };
    // wait for the horizon to pass the set-up writes (other databases' transactions
    // on the same cluster can hold it back briefly)
    let deadline = Instant::now() + Duration::from_secs(10);
    let (before, cursor) = loop {
        let (rows, cur) = log::list(&mut reader, &q(None)).unwrap();
        if rows.len() >= 2 || Instant::now() > deadline {
            break (rows, cur);
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    assert_eq!(before.len(), 2, "the two dsync.token.created");
    let mut a = core.db().conn().unwrap();
    let mut b = core.db().conn().unwrap();
    // A takes the lower gid and stays open; B takes a higher gid and commits
    a.batch_execute("BEGIN").unwrap();
    scimgate_core::store::lock_directory(&mut a, &d1.id).unwrap();
    let mut sink = scimgate_core::events::EventSink::new();
    sink.emit("dsync.user.created", json!({"who": "A"}));
    log::append(&mut a, &d1.id, &org.id, sink).unwrap();
    b.batch_execute("BEGIN").unwrap();
    scimgate_core::store::lock_directory(&mut b, &d2.id).unwrap();
    let mut sink = scimgate_core::events::EventSink::new();
    sink.emit("dsync.user.created", json!({"who": "B"}));
    log::append(&mut b, &d2.id, &org.id, sink).unwrap();
    b.batch_execute("COMMIT").unwrap();
    // a naive `gid > cursor` reader would now see B and move past A's lower gid
    let gids: Vec<(i64, String)> = events::table
        .order(events::gid.asc())
        .select((events::gid, events::directory_id))
        .load(&mut reader)
        .unwrap();
    assert_eq!(
        gids.last().map(|g| g.1.clone()),
        Some(d2.id.to_string()),
        "B is visible with the highest gid"
    );
    let (visible, _) = log::list(&mut reader, &q(cursor.clone())).unwrap();
    assert!(
        visible.is_empty(),
        "nothing past the horizon while A is open"
    );
    // a directory-scoped reader of d2 is not held back (seq order needs no horizon)
    let mut dq = q(None);
    dq.directory_id = Some(d2.id.to_string());
    let (d2evs, _) = log::list(&mut reader, &dq).unwrap();
    assert_eq!(
        d2evs.last().map(|e| e.event.clone()),
        Some("dsync.user.created".to_string())
    );
    a.batch_execute("COMMIT").unwrap();
    // visible as soon as no older transaction of the cluster is still running (other
    // databases' writers share the xid horizon, so allow them a moment)
    let deadline = Instant::now() + Duration::from_secs(10);
    let after = loop {
        let (rows, _) = log::list(&mut reader, &q(cursor.clone())).unwrap();
        if rows.len() >= 2 || Instant::now() > deadline {
            break rows;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let who: Vec<String> = after
        .iter()
        .map(|e| {
            serde_json::from_str::<serde_json::Value>(&e.data).unwrap()["who"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    assert_eq!(
        who,
        vec!["A", "B"],
        "A first (it took its place first), then B; nothing skipped"
    );
}

#[test]
fn retention_prunes_old_events_only() {
    let t = TestDatabase::new();
    let (core, dir) = core_with_directory(&t, "okta scim v2.0");
    users::create(&core, &dir, user_body("a@x.test")).unwrap();
    let mut conn = core.db().conn().unwrap();
    let old = scimgate_core::clock::now() - chrono::Duration::days(40);
    let first: String = events::table
        .order(events::gid.asc())
        .select(events::id)
        .first(&mut conn)
        .unwrap();
    diesel::update(events::table.filter(events::id.eq(&first)))
        .set(events::created_at.eq(old))
        .execute(&mut conn)
        .unwrap();
    assert_eq!(
        log::prune(&mut conn, 0).unwrap(),
        0,
        "0 keeps events forever"
    );
    assert_eq!(log::prune(&mut conn, 30).unwrap(), 1);
    let left: i64 = events::table.count().get_result(&mut conn).unwrap();
    assert_eq!(left, 1);
}
