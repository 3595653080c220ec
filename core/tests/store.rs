//! Storage and the event log on real databases: SQLite always, PostgreSQL when
//! SCIMGATE_TEST_DATABASE_URL is set (as in CI).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::Text;
use scimgate_core::bus::Bus;
use scimgate_core::events::{self as log, EventQuery, Order};
use scimgate_core::model::*;
use scimgate_core::service::{self, admin, groups, users};
use scimgate_core::store::schema::*;
use scimgate_core::store::AnyConn;
use scimgate_core::testing::{postgres_url, TestDatabase};
use scimgate_core::{Core, Settings};
use serde_json::json;

fn core_on(t: &TestDatabase) -> Core {
    Core::new(t.db(), Bus::in_process(), Settings::default())
}

/// A core on `t` with one organization and one directory of `dir_type`.
fn core_with_directory(t: &TestDatabase, dir_type: &str) -> (Core, DirectoryRow) {
    let core = core_on(t);
    let org = admin::create_organization(&core, "Org", &[]).unwrap();
    let dir = admin::create_directory(&core, &org.id, dir_type, None)
        .unwrap()
        .directory;
    (core, dir)
}

#[derive(QueryableByName, Debug, PartialEq, Eq, PartialOrd, Ord, Clone)]
struct Col {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
}

fn columns(conn: &mut AnyConn) -> BTreeSet<(String, String)> {
    let rows: Vec<Col> = match conn {
        AnyConn::Pg(c) => diesel::sql_query(
            "SELECT table_name::text AS table_name, column_name::text AS column_name FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'",
        )
        .load(c)
        .unwrap(),
        AnyConn::Sqlite(c) => diesel::sql_query(
            "SELECT m.name AS table_name, p.name AS column_name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '__diesel_schema_migrations'",
        )
        .load(c)
        .unwrap(),
    };
    rows.into_iter()
        .map(|c| (c.table_name, c.column_name))
        .collect()
}

/// Every table of schema.rs can be read with every column, on this backend.
fn schema_rs_matches(conn: &mut AnyConn) {
    organizations::table
        .select(OrganizationRow::as_select())
        .load(conn)
        .unwrap();
    directories::table
        .select(DirectoryRow::as_select())
        .load(conn)
        .unwrap();
    directory_tokens::table
        .select(TokenRow::as_select())
        .load(conn)
        .unwrap();
    api_keys::table
        .select(ApiKeyRow::as_select())
        .load(conn)
        .unwrap();
    directory_users::table
        .select(UserRow::as_select())
        .load(conn)
        .unwrap();
    user_attrs::table
        .select(AttrRow::as_select())
        .load(conn)
        .unwrap();
    directory_groups::table
        .select(GroupRow::as_select())
        .load(conn)
        .unwrap();
    memberships::table
        .select(MembershipRow::as_select())
        .load(conn)
        .unwrap();
    events::table
        .select(EventRow::as_select())
        .load(conn)
        .unwrap();
    role_mappings::table
        .select(RoleMappingRow::as_select())
        .load(conn)
        .unwrap();
    admin_users::table
        .select((
            admin_users::id,
            admin_users::email,
            admin_users::email_ci,
            admin_users::password_hash,
            admin_users::created_at,
        ))
        .load::<(String, String, String, String, chrono::NaiveDateTime)>(conn)
        .unwrap();
}

#[test]
fn migrations_give_both_backends_the_same_tables_and_columns() {
    let sqlite = TestDatabase::sqlite();
    let sdb = sqlite.db();
    let mut sc = sdb.conn().unwrap();
    schema_rs_matches(&mut sc);
    let lite = columns(&mut sc);
    assert!(lite.contains(&("events".into(), "txid".into())));
    // migrations are idempotent
    assert!(sdb.migrate().unwrap().is_empty());
    if let Some(admin) = postgres_url() {
        let pg = TestDatabase::postgres(&admin);
        let pdb = pg.db();
        let mut pc = pdb.conn().unwrap();
        schema_rs_matches(&mut pc);
        assert_eq!(
            columns(&mut pc),
            lite,
            "migrations/sqlite and migrations/postgres disagree"
        );
        assert!(pdb.migrate().unwrap().is_empty());
    }
}

#[test]
fn migration_folders_have_the_same_names() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    let names = |d: &str| -> BTreeSet<String> {
        std::fs::read_dir(root.join(d))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect()
    };
    assert_eq!(names("sqlite"), names("postgres"));
}

fn user_body(n: &str) -> serde_json::Value {
    json!({"userName": n, "name": {"givenName": "A", "familyName": "B"}, "emails": [{"value": n, "primary": true}]})
}

/// Create `n` users `{prefix}{i}@x.test`, one write each; their ids in order.
fn create_users(core: &Core, dir: &DirectoryRow, prefix: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            users::create(core, dir, user_body(&format!("{prefix}{i}@x.test")))
                .unwrap()
                .id
        })
        .collect()
}

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
                admin::create_directory(&core, &org.id, "okta scim v2.0", None)
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
                    let mut conn = core.db.conn().unwrap();
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
        let mut conn = core.db.conn().unwrap();
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

#[test]
fn retention_prunes_old_events_only() {
    let t = TestDatabase::new();
    let (core, dir) = core_with_directory(&t, "okta scim v2.0");
    users::create(&core, &dir, user_body("a@x.test")).unwrap();
    let mut conn = core.db.conn().unwrap();
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

#[test]
fn secrets_are_stored_only_as_hashes() {
    let t = TestDatabase::new();
    let core = core_on(&t);
    let org = admin::create_organization(&core, "Org", &[]).unwrap();
    let created = admin::create_directory(&core, &org.id, "okta scim v2.0", None).unwrap();
    let (_, key) = admin::create_api_key(&core, "k").unwrap();
    let mut conn = core.db.conn().unwrap();
    let toks: Vec<TokenRow> = directory_tokens::table
        .select(TokenRow::as_select())
        .load(&mut conn)
        .unwrap();
    assert!(toks.iter().all(|t| t.token_hash != created.bearer_token
        && !t.token_hash.contains(&created.bearer_token[4..])));
    let keys: Vec<ApiKeyRow> = api_keys::table
        .select(ApiKeyRow::as_select())
        .load(&mut conn)
        .unwrap();
    assert!(keys.iter().all(|k| k.key_hash != key));
    // and they verify
    assert!(scimgate_core::service::auth::verify_directory_token(
        &core,
        &created.bearer_token,
        &created.directory.id
    )
    .is_ok());
    assert!(scimgate_core::service::auth::verify_api_key(&core, &key).is_ok());
    assert!(scimgate_core::service::auth::verify_api_key(&core, "sk_nope").is_err());
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
    let d1 = admin::create_directory(&core, &org.id, "okta scim v2.0", None)
        .unwrap()
        .directory;
    let d2 = admin::create_directory(&core, &org.id, "okta scim v2.0", None)
        .unwrap()
        .directory;
    let mut reader = core.db.conn().unwrap();
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
    let mut a = core.db.conn().unwrap();
    let mut b = core.db.conn().unwrap();
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
        Some(d2.id.clone()),
        "B is visible with the highest gid"
    );
    let (visible, _) = log::list(&mut reader, &q(cursor.clone())).unwrap();
    assert!(
        visible.is_empty(),
        "nothing past the horizon while A is open"
    );
    // a directory-scoped reader of d2 is not held back (seq order needs no horizon)
    let mut dq = q(None);
    dq.directory_id = Some(d2.id.clone());
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

/// Concurrent writes to one directory are combined into batches; a failing write
/// (here: a duplicate userName) must fail alone, its batch-mates commit, and no event
/// is recorded for it.
#[test]
fn a_failing_write_in_a_combined_batch_fails_alone() {
    let t = TestDatabase::new();
    let (core, dir) = core_with_directory(&t, "okta scim v2.0");
    let threads: Vec<_> = (0..8)
        .map(|w| {
            let core = core.clone();
            let dir = dir.clone();
            std::thread::spawn(move || {
                let mut ok = 0;
                let mut conflicts = 0;
                for i in 0..40 {
                    // every name is attempted by two threads
                    let name = format!("u{}-{i}@x.test", w / 2);
                    match users::create(&core, &dir, user_body(&name)) {
                        Ok(_) => ok += 1,
                        Err(scimgate_core::CoreError::Conflict { .. }) => conflicts += 1,
                        Err(e) => panic!("unexpected error: {e}"),
                    }
                }
                (ok, conflicts)
            })
        })
        .collect();
    let (mut ok, mut conflicts) = (0, 0);
    for h in threads {
        let (o, c) = h.join().unwrap();
        ok += o;
        conflicts += c;
    }
    assert_eq!(ok, 4 * 40, "each name created exactly once");
    assert_eq!(conflicts, 4 * 40, "the other attempt got 409");
    let mut conn = core.db.conn().unwrap();
    let n_users: i64 = directory_users::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    let n_created: i64 = events::table
        .filter(events::event.eq("dsync.user.created"))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!((n_users, n_created), (160, 160));
    let attrs: i64 = user_attrs::table.count().get_result(&mut conn).unwrap();
    assert!(attrs > 0);
    let orphans: i64 = user_attrs::table
        .filter(diesel::dsl::not(
            user_attrs::user_id.eq_any(directory_users::table.select(directory_users::id)),
        ))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(orphans, 0, "a failed write left index rows behind");
}

/// Run `writes` as one combined batch, in this order: the directory's writes are held
/// back while each is submitted (waiting until it is queued before the next), then
/// released together. Returns each write's result.
fn in_one_batch<T: Send + 'static>(
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

fn user_events(conn: &mut AnyConn, dir: &DirectoryRow, user_id: &str) -> Vec<serde_json::Value> {
    directory_events(conn, dir)
        .into_iter()
        .filter(|(_, data)| data["id"] == user_id)
        .map(|(event, data)| json!({"event": event, "data": data}))
        .collect()
}

/// A batch of user writes (on PostgreSQL: read ahead in one query, rows written back in
/// one statement) gives every write the answer, row and events it would get alone: two
/// writes of one user see each other, responses carry the user's groups, a delete
/// followed by a PATCH of the same user is a 404.
#[test]
fn a_batch_of_user_writes_sees_its_own_changes() {
    let t = TestDatabase::new();
    let (core, dir) = core_with_directory(&t, "azure scim v2.0");
    let a = users::create(&core, &dir, user_body("a@x.test")).unwrap();
    let b = users::create(&core, &dir, user_body("b@x.test")).unwrap();
    let d = users::create(&core, &dir, user_body("d@x.test")).unwrap();
    let g = groups::create(
        &core,
        &dir,
        json!({"displayName": "Eng", "members": [{"value": a.id}]}),
    )
    .unwrap();
    let patch = |id: &str, ops: serde_json::Value| {
        let (core, dir, id) = (core.clone(), dir.clone(), id.to_string());
        Box::new(move || users::patch(&core, &dir, &id, ops, None))
            as Box<dyn FnOnce() -> scimgate_core::CoreResult<users::WithGroups> + Send>
    };
    let deact = json!({"Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
    let rename =
        json!({"Operations": [{"op": "replace", "path": "name.givenName", "value": "Alicia"}]});
    // every write succeeds: the batch commits as one (read ahead, written back)
    let results = in_one_batch(
        &core,
        &dir,
        vec![
            patch(&a.id, deact.clone()),
            patch(&a.id, rename),
            patch(&b.id, deact.clone()),
        ],
    );
    let a1 = results[0].as_ref().unwrap();
    assert!(!a1.row.active);
    assert_eq!(a1.row.version, a.version + 1);
    assert_eq!(
        a1.groups.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        [g.id.as_str()]
    );
    let a2 = results[1].as_ref().unwrap();
    assert!(!a2.row.active, "the second write of a user sees the first");
    assert_eq!(a2.row.version, a.version + 2);
    assert!(a2.row.scim.contains("Alicia"));
    assert_eq!(
        a2.groups.len(),
        1,
        "groups of a user read again after its first write"
    );
    let b1 = results[2].as_ref().unwrap();
    assert!(!b1.row.active && b1.groups.is_empty());
    // a user deleted, then patched, in one batch
    let (core2, dir2, d_id) = (core.clone(), dir.clone(), d.id.clone());
    let results = in_one_batch(
        &core,
        &dir,
        vec![
            Box::new(move || {
                users::delete(&core2, &dir2, &d_id, None)?;
                Err(scimgate_core::CoreError::internal("deleted"))
            }),
            patch(&d.id, deact.clone()),
        ],
    );
    assert!(matches!(&results[0], Err(scimgate_core::CoreError::Internal(m)) if m == "deleted"));
    assert!(
        matches!(&results[1], Err(scimgate_core::CoreError::NotFound(_))),
        "a PATCH after the user's DELETE in the same batch: {:?}",
        results[1].as_ref().map(|u| &u.row.id)
    );
    // what is stored is what was answered
    let mut conn = core.db.conn().unwrap();
    let stored = users::find(&mut conn, &dir.id, &a.id).unwrap().unwrap();
    assert_eq!(
        (stored.version, stored.active, &stored.scim),
        (a2.row.version, false, &a2.row.scim)
    );
    let stored_b = users::find(&mut conn, &dir.id, &b.id).unwrap().unwrap();
    assert_eq!((stored_b.version, stored_b.active), (b.version + 1, false));
    assert!(users::find(&mut conn, &dir.id, &d.id).unwrap().is_none());
    // and the events are those of the writes one after the other
    let ev = user_events(&mut conn, &dir, &a.id);
    let names: Vec<&str> = ev.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "dsync.user.created",
            "dsync.user.updated",
            "dsync.user.updated"
        ]
    );
    assert_eq!(ev[1]["data"]["state"], "inactive");
    assert_eq!(ev[1]["data"]["previous_attributes"]["state"], "active");
    assert_eq!(
        (&ev[2]["data"]["state"], &ev[2]["data"]["first_name"]),
        (&json!("inactive"), &json!("Alicia"))
    );
    assert_eq!(ev[2]["data"]["previous_attributes"]["first_name"], "A");
    assert!(ev[2]["data"]["previous_attributes"].get("state").is_none());
}

/// In a batch, a write that breaks a constraint only because of an earlier write of
/// the same batch (a rename frees a userName that a later create takes; two renames
/// to one name) gets the answer it would get alone.
#[test]
fn a_batch_of_user_writes_keeps_user_names_unique_in_order() {
    let t = TestDatabase::new();
    let (core, dir) = core_with_directory(&t, "okta scim v2.0");
    let c = users::create(&core, &dir, user_body("c@x.test")).unwrap();
    let e = users::create(&core, &dir, user_body("e@x.test")).unwrap();
    let f = users::create(&core, &dir, user_body("f@x.test")).unwrap();
    type R = scimgate_core::CoreResult<String>;
    let to = |id: &str, name: &str| {
        let (core, dir, id) = (core.clone(), dir.clone(), id.to_string());
        let ops = json!({"Operations": [{"op": "replace", "path": "userName", "value": name}]});
        Box::new(move || users::patch(&core, &dir, &id, ops, None).map(|u| u.row.user_name))
            as Box<dyn FnOnce() -> R + Send>
    };
    let create = |name: &str| {
        let (core, dir, name) = (core.clone(), dir.clone(), name.to_string());
        Box::new(move || users::create(&core, &dir, user_body(&name)).map(|u| u.user_name))
            as Box<dyn FnOnce() -> R + Send>
    };
    let results = in_one_batch(
        &core,
        &dir,
        vec![
            to(&c.id, "c2@x.test"),
            create("c@x.test"),
            to(&e.id, "same@x.test"),
            to(&f.id, "SAME@x.test"),
        ],
    );
    assert_eq!(results[0].as_deref().unwrap(), "c2@x.test");
    assert_eq!(
        results[1].as_deref().unwrap(),
        "c@x.test",
        "the name the rename freed"
    );
    assert_eq!(results[2].as_deref().unwrap(), "same@x.test");
    assert!(
        matches!(&results[3], Err(scimgate_core::CoreError::Conflict { .. })),
        "{:?}",
        results[3]
    );
    let mut conn = core.db.conn().unwrap();
    let f_now = users::find(&mut conn, &dir.id, &f.id).unwrap().unwrap();
    assert_eq!(
        (f_now.user_name.as_str(), f_now.version),
        ("f@x.test", f.version)
    );
    assert_eq!(
        user_events(&mut conn, &dir, &f.id).len(),
        1,
        "only f's creation"
    );
}

/// The events of a directory in order, expanded one by one, as (event, data).
fn directory_events(conn: &mut AnyConn, dir: &DirectoryRow) -> Vec<(String, serde_json::Value)> {
    let q = EventQuery {
        events: vec![],
        after: None,
        range_start: None,
        range_end: None,
        limit: 1000,
        order: Order::Asc,
        organization_id: None,
        directory_id: Some(dir.id.clone()),
    };
    let (rows, _) = log::list(conn, &q).unwrap();
    rows.into_iter()
        .map(|e| (e.event, serde_json::from_str(&e.data).unwrap()))
        .collect()
}

/// A batch of DELETEs (an IdP's offboarding wave). On PostgreSQL the users are read
/// ahead with their groups, and deleted with their index rows and memberships in one
/// statement at the end of the batch. Every DELETE gets what it would get alone: its
/// events (`dsync.group.user_removed` per group, then `dsync.user.deleted`), no row
/// left behind, its userName free for a create and a rename later in the batch, and a
/// second DELETE of the same user is a 404. The batch commits in its first attempt.
#[test]
fn a_batch_of_deletes_commits_at_once_with_each_deletes_events() {
    let t = TestDatabase::new();
    let (core, dir) = core_with_directory(&t, "okta scim v2.0");
    let a = users::create(&core, &dir, user_body("a@x.test")).unwrap();
    let b = users::create(&core, &dir, user_body("b@x.test")).unwrap();
    let c = users::create(&core, &dir, user_body("c@x.test")).unwrap();
    let keep = users::create(&core, &dir, user_body("keep@x.test")).unwrap();
    let eng = groups::create(
        &core,
        &dir,
        json!({"displayName": "Eng", "members": [{"value": a.id}, {"value": keep.id}]}),
    )
    .unwrap();
    let ops = groups::create(
        &core,
        &dir,
        json!({"displayName": "Ops", "members": [{"value": a.id}]}),
    )
    .unwrap();
    let mut conn = core.db.conn().unwrap();
    let seen = directory_events(&mut conn, &dir).len();
    drop(conn);
    type R = scimgate_core::CoreResult<String>;
    let del = |id: &str| {
        let (core, dir, id) = (core.clone(), dir.clone(), id.to_string());
        Box::new(move || users::delete(&core, &dir, &id, None).map(|_| id))
            as Box<dyn FnOnce() -> R + Send>
    };
    let create = |name: &str| {
        let (core, dir, name) = (core.clone(), dir.clone(), name.to_string());
        Box::new(move || users::create(&core, &dir, user_body(&name)).map(|u| u.user_name))
            as Box<dyn FnOnce() -> R + Send>
    };
    let rename = |id: &str, name: &str| {
        let (core, dir, id) = (core.clone(), dir.clone(), id.to_string());
        let ops = json!({"Operations": [{"op": "replace", "path": "userName", "value": name}]});
        Box::new(move || users::patch(&core, &dir, &id, ops, None).map(|u| u.row.user_name))
            as Box<dyn FnOnce() -> R + Send>
    };
    let stats = |core: &Core| {
        let w = &core.write_stats;
        (
            w.optimistic.load(Ordering::Relaxed),
            w.per_write.load(Ordering::Relaxed),
        )
    };
    let before = stats(&core);
    let results = in_one_batch(
        &core,
        &dir,
        vec![
            del(&a.id),
            del(&b.id),
            create("A@x.test"),
            rename(&c.id, "B@x.test"),
        ],
    );
    assert_eq!(results[0].as_deref().unwrap(), a.id);
    assert_eq!(results[1].as_deref().unwrap(), b.id);
    assert_eq!(
        results[2].as_deref().unwrap(),
        "A@x.test",
        "a's name, freed"
    );
    assert_eq!(
        results[3].as_deref().unwrap(),
        "B@x.test",
        "b's name, freed"
    );
    let after = stats(&core);
    assert_eq!(
        (after.0 - before.0, after.1 - before.1),
        (1, 0),
        "one batch, committed in its first attempt"
    );
    let mut conn = core.db.conn().unwrap();
    for gone in [&a.id, &b.id] {
        assert!(users::find(&mut conn, &dir.id, gone).unwrap().is_none());
        let attrs: i64 = user_attrs::table
            .filter(user_attrs::user_id.eq(gone))
            .count()
            .get_result(&mut conn)
            .unwrap();
        let member: i64 = memberships::table
            .filter(memberships::member_id.eq(gone))
            .count()
            .get_result(&mut conn)
            .unwrap();
        assert_eq!((attrs, member), (0, 0), "rows of {gone} left behind");
    }
    let members = |conn: &mut AnyConn, g: &str| -> Vec<String> {
        groups::members_of(conn, g)
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect()
    };
    assert_eq!(members(&mut conn, &eng.id), std::slice::from_ref(&keep.id));
    assert!(members(&mut conn, &ops.id).is_empty());
    assert!(users::find(&mut conn, &dir.id, &keep.id).unwrap().is_some());
    // the batch's events, in the order of its writes
    let ev = directory_events(&mut conn, &dir);
    let ev = &ev[seen..];
    let summary: Vec<(&str, &str, &str)> = ev
        .iter()
        .map(|(name, data)| {
            let user = data["user"]["id"]
                .as_str()
                .or(data["id"].as_str())
                .unwrap_or("");
            let group = data["group"]["id"].as_str().unwrap_or("");
            (name.as_str(), user, group)
        })
        .collect();
    let (first, second) = if eng.id < ops.id {
        (eng.id.as_str(), ops.id.as_str())
    } else {
        (ops.id.as_str(), eng.id.as_str())
    };
    assert_eq!(
        summary[..4],
        [
            ("dsync.group.user_removed", a.id.as_str(), first),
            ("dsync.group.user_removed", a.id.as_str(), second),
            ("dsync.user.deleted", a.id.as_str(), ""),
            ("dsync.user.deleted", b.id.as_str(), ""),
        ]
    );
    assert_eq!(summary[4].0, "dsync.user.created");
    assert_eq!(summary[5], ("dsync.user.updated", c.id.as_str(), ""));
    assert_eq!(ev.len(), 6);
    assert_eq!(ev[2].1["email"], "a@x.test", "the deleted user as it was");
    drop(conn);
    // a second DELETE of a user in the batch that deletes it is a 404, and fails alone
    let results = in_one_batch(&core, &dir, vec![del(&keep.id), del(&keep.id)]);
    assert_eq!(results[0].as_deref().unwrap(), keep.id);
    assert!(
        matches!(&results[1], Err(scimgate_core::CoreError::NotFound(_))),
        "{:?}",
        results[1]
    );
    let mut conn = core.db.conn().unwrap();
    assert!(users::find(&mut conn, &dir.id, &keep.id).unwrap().is_none());
    assert!(members(&mut conn, &eng.id).is_empty());
    let ev = directory_events(&mut conn, &dir);
    let names: Vec<&str> = ev[seen + 6..].iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["dsync.group.user_removed", "dsync.user.deleted"]);
}

/// Connections are not tested on every checkout (a round trip per request); a database
/// restart while the pool idles must still cost no request: after an idle second the
/// pool tests what it hands out and replaces the dead connections. On PostgreSQL every
/// backend of the test database is terminated, as a restart would; on SQLite, where a
/// connection cannot die so, the pool is only exercised the same way.
#[test]
fn dead_pooled_connections_are_replaced_after_an_idle_second() {
    let t = TestDatabase::new();
    let (core, dir) = core_with_directory(&t, "okta scim v2.0");
    // several connections in the pool
    let hs: Vec<_> = (0..4)
        .map(|i| {
            let (core, dir) = (core.clone(), dir.clone());
            std::thread::spawn(move || {
                users::create(&core, &dir, user_body(&format!("p{i}@x.test"))).unwrap();
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    if let Some(admin) = postgres_url() {
        let mut c = diesel::PgConnection::establish(&admin).unwrap();
        let db_name = t.url().rsplit('/').next().unwrap().to_string();
        let killed: Vec<Killed> = diesel::sql_query(
            "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind::<Text, _>(&db_name)
        .load(&mut c)
        .unwrap();
        assert!(!killed.is_empty(), "no pooled connection to terminate");
    }
    std::thread::sleep(Duration::from_millis(1200));
    for i in 0..6 {
        let u = users::create(&core, &dir, user_body(&format!("q{i}@x.test")));
        assert!(u.is_ok(), "request {i} after the restart: {:?}", u.err());
        let mut conn = core.db.conn().unwrap();
        assert!(users::find(&mut conn, &dir.id, &u.unwrap().id)
            .unwrap()
            .is_some());
    }
}

#[derive(QueryableByName)]
struct Killed {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    #[allow(dead_code)]
    ok: bool,
}

/// Point reads on an HTTP worker run in `without_waiting`: they never block. Without a
/// free pooled connection, for a write, or for a token not in the cache they refuse at
/// once (`None`, nothing written; the caller runs them on the blocking pool instead),
/// and otherwise they answer what a read on the blocking pool answers.
#[test]
fn reads_without_waiting_refuse_what_would_wait_and_answer_the_rest() {
    let t = TestDatabase::new();
    let core = core_on(&t);
    let org = admin::create_organization(&core, "Org", &[]).unwrap();
    let created = admin::create_directory(&core, &org.id, "okta scim v2.0", None).unwrap();
    let dir = created.directory.clone();
    let u = users::create(&core, &dir, user_body("w@x.test")).unwrap();

    // a read with a connection free: answered
    let got = service::without_waiting(|| users::get(&core, &dir, &u.id).map(|g| g.row.id));
    assert_eq!(got.map(Result::unwrap), Some(u.id.clone()));
    let lookup = users::ListParams {
        filter: Some(r#"userName eq "W@X.test""#.into()),
        ..Default::default()
    };
    let listed = service::without_waiting(|| users::list(&core, &dir, &lookup).unwrap());
    assert_eq!(listed.map(|l| l.total), Some(1));

    // a write: refused before it starts, nothing written
    let w = service::without_waiting(|| users::create(&core, &dir, user_body("v@x.test")));
    assert!(w.is_none(), "a write ran without waiting");
    let v = users::ListParams {
        filter: Some(r#"userName eq "v@x.test""#.into()),
        ..Default::default()
    };
    assert_eq!(users::list(&core, &dir, &v).unwrap().total, 0);

    // a token not yet cached: refused; once verified where it may wait, answered
    let tok = &created.bearer_token;
    let first = service::without_waiting(|| {
        scimgate_core::service::auth::verify_directory_token(&core, tok, &dir.id).is_ok()
    });
    assert_eq!(
        first, None,
        "an uncached token was verified without waiting"
    );
    scimgate_core::service::auth::verify_directory_token(&core, tok, &dir.id).unwrap();
    let again = service::without_waiting(|| {
        scimgate_core::service::auth::verify_directory_token(&core, tok, &dir.id).is_ok()
    });
    assert_eq!(again, Some(true));

    // every pooled connection taken: refused at once instead of waiting for one
    let held: Vec<_> = (0..8).map(|_| core.db.conn().unwrap()).collect();
    let t0 = Instant::now();
    let r = service::without_waiting(|| users::get(&core, &dir, &u.id).map(|g| g.row.id));
    assert!(r.is_none(), "a read waited for a pooled connection");
    assert!(t0.elapsed() < Duration::from_secs(1), "{:?}", t0.elapsed());
    drop(held);
    let r = service::without_waiting(|| users::get(&core, &dir, &u.id).map(|g| g.row.id));
    assert_eq!(r.map(Result::unwrap), Some(u.id));
}

/// Writes awaited from async tasks (`Core::run_async`, no thread waiting) and writes
/// waiting on threads (`Core::run`) share one directory's batches: a batch held back
/// with queued async writes first is led from the blocking pool when released, mixed
/// writers all get their answers, and the directory's events stay one gap-free
/// sequence, one `user.created` per user.
#[test]
fn async_and_blocking_writers_share_a_directorys_batches() {
    let t = TestDatabase::new();
    let (core, dir) = core_with_directory(&t, "okta scim v2.0");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    // held back: async writes queue first, then a blocking one; released, all commit
    let hold = core.pause_writes(&dir);
    let mut tasks = Vec::new();
    for i in 0..3 {
        let w = users::prepare_create(&core, &dir, user_body(&format!("held{i}@x.test"))).unwrap();
        let c = core.clone();
        tasks
            .push(rt.spawn(async move { c.run_async(w, tokio::runtime::Handle::current()).await }));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while core.queued_writes(&dir) < 3 {
        assert!(Instant::now() < deadline, "async writes were not queued");
        std::thread::sleep(Duration::from_millis(1));
    }
    let (c2, d2) = (core.clone(), dir.clone());
    let blocking = std::thread::spawn(move || users::create(&c2, &d2, user_body("held-b@x.test")));
    while core.queued_writes(&dir) < 4 {
        assert!(
            Instant::now() < deadline,
            "the blocking write was not queued"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    drop(hold);
    for task in tasks {
        rt.block_on(async { tokio::time::timeout(Duration::from_secs(20), task).await })
            .expect("an async write was never committed")
            .unwrap()
            .unwrap();
    }
    blocking.join().unwrap().unwrap();

    // mixed, concurrent: 4 threads and 40 tasks, 10 writes each thread
    let mut threads = Vec::new();
    for k in 0..4 {
        let (c, d) = (core.clone(), dir.clone());
        threads.push(std::thread::spawn(move || {
            for i in 0..10 {
                users::create(&c, &d, user_body(&format!("t{k}-{i}@x.test"))).unwrap();
            }
        }));
    }
    let mut tasks = Vec::new();
    for i in 0..40 {
        let w = users::prepare_create(&core, &dir, user_body(&format!("a{i}@x.test"))).unwrap();
        let c = core.clone();
        tasks
            .push(rt.spawn(async move { c.run_async(w, tokio::runtime::Handle::current()).await }));
    }
    for task in tasks {
        rt.block_on(task).unwrap().unwrap();
    }
    for th in threads {
        th.join().unwrap();
    }
    assert_eq!(core.queued_writes(&dir), 0);

    let mut conn = core.db.conn().unwrap();
    let seqs: Vec<i64> = events::table
        .filter(events::directory_id.eq(&dir.id))
        .order(events::seq.asc())
        .select(events::seq)
        .load(&mut conn)
        .unwrap();
    let created: i64 = events::table
        .filter(events::directory_id.eq(&dir.id))
        .filter(events::event.eq("dsync.user.created"))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(created, 4 + 40 + 40);
    let first = seqs[0];
    assert_eq!(seqs, (first..first + seqs.len() as i64).collect::<Vec<_>>());
}

#[derive(QueryableByName)]
struct IndexReads {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Tuples of `table` read so far in the current transaction of `c` by sequential and
/// index scans (`seq_tup_read` + `idx_tup_read` of its indexes, uncommitted), or `None`
/// on SQLite (which keeps no such statistics).
fn index_reads(c: &mut AnyConn, table: &str) -> Option<i64> {
    let AnyConn::Pg(pg) = c else { return None };
    let r: IndexReads = diesel::sql_query(
        "SELECT (pg_stat_get_xact_tuples_returned($1::regclass) + COALESCE((SELECT SUM(pg_stat_get_xact_tuples_returned(indexrelid)) \
         FROM pg_index WHERE indrelid = $1::regclass), 0))::bigint AS n",
    )
    .bind::<Text, _>(table)
    .get_result(pg)
    .unwrap();
    Some(r.n)
}

/// Reading a user with its groups, the groups of users, or a group's members reads
/// the index entries of the rows it answers with, whatever plan PostgreSQL keeps.
/// In a young database (no statistics yet) the joins these reads were written as were
/// planned as hash joins: every membership of every directory read per `userName`
/// lookup (140 ms per lookup with 70,000 memberships, found by scimbench). Counted
/// with `pg_stat_get_xact_tuples_returned` on the connection that runs the reads, each read 8
/// times (a prepared statement switches to a generic plan after 5 executions). On
/// SQLite the answers are checked, not the counts.
#[test]
fn reading_a_user_or_a_group_reads_only_its_own_memberships() {
    let t = TestDatabase::new();
    let (core, dir) = core_with_directory(&t, "okta scim v2.0");
    let ids = create_users(&core, &dir, "m", 300);
    let members = |n: usize| -> Vec<serde_json::Value> {
        ids.iter().take(n).map(|i| json!({"value": i})).collect()
    };
    for g in 0..6 {
        groups::create(
            &core,
            &dir,
            json!({"displayName": format!("big{g}"), "members": members(150)}),
        )
        .unwrap();
    }
    let small = groups::create(
        &core,
        &dir,
        json!({"displayName": "small", "members": members(3)}),
    )
    .unwrap();
    if postgres_url().is_some() {
        // tables large enough that, without statistics, PostgreSQL estimates a `userName`
        // to match hundreds of users (0.5 % of what the table's pages could hold)
        let mut c = core.db.conn().unwrap();
        let AnyConn::Pg(pg) = &mut *c else {
            panic!("a PostgreSQL test database on a SQLite connection")
        };
        let d = &dir.id;
        diesel::connection::SimpleConnection::batch_execute(
            pg,
            &format!(
                "INSERT INTO directory_users (id, directory_id, user_name, user_name_ci, active, state, version, scim, normalized, created_at, updated_at) \
                 SELECT 'filler_user_' || i, '{d}', 'f' || i || '@x.test', 'f' || i || '@x.test', true, 'active', 1, repeat('x', 600), '{{}}', now(), now() FROM generate_series(1, 30000) i; \
                 INSERT INTO directory_groups (id, directory_id, display_name, display_name_ci, version, scim, normalized, created_at, updated_at) \
                 VALUES ('filler_group', '{d}', 'filler', 'filler', 1, '{{}}', '{{}}', now(), now()); \
                 INSERT INTO memberships (group_id, member_id, directory_id, member_type, created_at) \
                 SELECT 'filler_group', 'filler_user_' || i, '{d}', 'User', now() FROM generate_series(1, 30000) i;"
            ),
        )
        .unwrap();
    }

    let mut pooled = core.db.conn().unwrap();
    let c: &mut AnyConn = &mut pooled;
    if let AnyConn::Pg(pg) = c {
        diesel::connection::SimpleConnection::batch_execute(pg, "BEGIN").unwrap();
    }
    let mut check = |what: &str, table: &str, most: i64, read: &mut dyn FnMut(&mut AnyConn)| {
        let before = index_reads(c, table);
        for _ in 0..8 {
            read(c);
        }
        if let (Some(b), Some(a)) = (before, index_reads(c, table)) {
            assert!(
                a - b <= most,
                "{what}: {} index entries of {table} read, at most {most} expected",
                a - b
            );
        }
    };
    // user 0 is in 7 groups: 7 memberships and 7 group rows per read, twice as slack
    for key in [
        users::UserKey::UserNameCi("m0@x.test"),
        users::UserKey::Id(&ids[0]),
    ] {
        let mut read = |c: &mut AnyConn| {
            let u = users::find_with_groups(c, &dir.id, key).unwrap().unwrap();
            assert_eq!(u.groups.len(), 7, "{key:?}");
        };
        check("find_with_groups", "memberships", 8 * 7 * 2, &mut read);
        check("find_with_groups", "directory_groups", 8 * 7 * 2, &mut read);
    }
    let three: Vec<String> = ids[..3].to_vec();
    let mut read = |c: &mut AnyConn| {
        let found = users::find_many_with_groups(c, &dir.id, &three).unwrap();
        assert_eq!(found.len(), 3);
        assert!(found.values().all(|u| u.groups.len() == 7));
    };
    check(
        "find_many_with_groups",
        "memberships",
        8 * 21 * 2,
        &mut read,
    );
    check(
        "find_many_with_groups",
        "directory_groups",
        8 * 21 * 2,
        &mut read,
    );
    let mut read = |c: &mut AnyConn| {
        assert_eq!(users::groups_of(c, &three).unwrap().len(), 21);
    };
    check("groups_of", "memberships", 8 * 21 * 2, &mut read);
    check("groups_of", "directory_groups", 8 * 21 * 2, &mut read);
    let mut read = |c: &mut AnyConn| {
        let m = groups::members_of(c, &small.id).unwrap();
        let got: Vec<&str> = m.iter().map(|r| r.id.as_str()).collect();
        let mut want: Vec<&str> = ids[..3].iter().map(String::as_str).collect();
        want.sort();
        assert_eq!(got, want);
    };
    check("members_of", "directory_users", 8 * 3 * 2, &mut read);
    check("members_of", "memberships", 8 * 3 * 2 + 8, &mut read);
    if let AnyConn::Pg(pg) = &mut *pooled {
        diesel::connection::SimpleConnection::batch_execute(pg, "ROLLBACK").unwrap();
    }
}

fn members_patch(ops: serde_json::Value) -> serde_json::Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})
}

/// A group's version (its ETag, RFC 7644 §3.14) moves by one per PATCH that changes its
/// members, however many operations the PATCH holds, and not at all for a PATCH that
/// changes nothing (re-adding a member, IDP-QUIRKS idempotent membership); what a
/// write answers is what a read then finds. On PostgreSQL the version is written by the
/// statement that inserts the members.
#[test]
fn a_groups_version_moves_once_per_membership_change() {
    let t = TestDatabase::new();
    let (core, dir) = core_with_directory(&t, "okta scim v2.0");
    let ids = create_users(&core, &dir, "v", 4);
    let g = groups::create(&core, &dir, json!({"displayName": "versioned"})).unwrap();
    let check = |answered: &GroupRow, want: i64| {
        assert_eq!(answered.version, want);
        let read = groups::get(&core, &dir, &g.id).unwrap();
        assert_eq!((read.version, read.updated_at), (want, answered.updated_at));
    };
    let v0 = g.version;
    let add = |i: usize| json!({"op": "add", "path": "members", "value": [{"value": ids[i]}]});
    let a = groups::patch(
        &core,
        &dir,
        &g.id,
        members_patch(json!([add(0), add(1)])),
        None,
    )
    .unwrap();
    check(&a, v0 + 1);
    // re-adding a member changes nothing
    let b = groups::patch(&core, &dir, &g.id, members_patch(json!([add(0)])), None).unwrap();
    check(&b, v0 + 1);
    // add, remove and add again in one PATCH: one change
    let rm = json!({"op": "remove", "path": format!("members[value eq \"{}\"]", ids[1])});
    let c = groups::patch(
        &core,
        &dir,
        &g.id,
        members_patch(json!([add(2), rm, add(3)])),
        None,
    )
    .unwrap();
    check(&c, v0 + 2);
    let mut conn = core.db.conn().unwrap();
    let mut members: Vec<String> = groups::members_of(&mut conn, &g.id)
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    drop(conn);
    members.sort();
    let mut want = vec![ids[0].clone(), ids[2].clone(), ids[3].clone()];
    want.sort();
    assert_eq!(members, want);
    // a remove alone
    let rm =
        |i: usize| json!({"op": "remove", "path": format!("members[value eq \"{}\"]", ids[i])});
    let d = groups::patch(&core, &dir, &g.id, members_patch(json!([rm(0)])), None).unwrap();
    check(&d, v0 + 3);
    // removing a member no more (or never) in the group changes nothing
    let e = groups::patch(&core, &dir, &g.id, members_patch(json!([rm(0)])), None).unwrap();
    check(&e, v0 + 3);
    // a remove, then an add, in one PATCH: one change (on PostgreSQL the version is
    // written by the statement that deletes the member)
    let f = groups::patch(
        &core,
        &dir,
        &g.id,
        members_patch(json!([rm(2), add(0)])),
        None,
    )
    .unwrap();
    check(&f, v0 + 4);
    // several values, one named twice and one not a member: each member removed once,
    // with one event each
    let mut conn = core.db.conn().unwrap();
    let seen = directory_events(&mut conn, &dir).len();
    drop(conn);
    let values =
        json!([{"value": ids[0]}, {"value": ids[0]}, {"value": ids[1]}, {"value": ids[3]}]);
    let h = groups::patch(
        &core,
        &dir,
        &g.id,
        members_patch(json!([{"op": "remove", "path": "members", "value": values}])),
        None,
    )
    .unwrap();
    check(&h, v0 + 5);
    let mut conn = core.db.conn().unwrap();
    assert!(groups::members_of(&mut conn, &g.id).unwrap().is_empty());
    let removed: Vec<String> = directory_events(&mut conn, &dir)[seen..]
        .iter()
        .map(|(name, data)| format!("{name} {}", data["user"]["id"].as_str().unwrap_or("")))
        .collect();
    let mut want = vec![
        format!("dsync.group.user_removed {}", ids[0]),
        format!("dsync.group.user_removed {}", ids[3]),
    ];
    want.sort();
    assert_eq!(removed, want);
}

/// No attribute or membership row outlives its user, group or directory. On
/// PostgreSQL `user_attrs` and `memberships` carry no foreign keys (migration
/// `fewer_checks_per_row`): the deletes remove them, and this checks they do.
#[test]
fn deletes_leave_no_attribute_or_membership_rows_behind() {
    let t = TestDatabase::new();
    let core = core_on(&t);
    let org = admin::create_organization(&core, "Org", &[]).unwrap();
    let mut dirs = Vec::new();
    for d in 0..2 {
        let dir = admin::create_directory(&core, &org.id, "okta scim v2.0", None)
            .unwrap()
            .directory;
        let ids = create_users(&core, &dir, &format!("o{d}"), 6);
        let members: Vec<serde_json::Value> = ids.iter().map(|i| json!({"value": i})).collect();
        let g = groups::create(
            &core,
            &dir,
            json!({"displayName": "all", "members": members}),
        )
        .unwrap();
        let outer = groups::create(
            &core,
            &dir,
            json!({"displayName": "outer", "members": [{"value": g.id}, {"value": ids[0]}]}),
        )
        .unwrap();
        dirs.push((dir, ids, g, outer));
    }
    let (dir, ids, g, outer) = &dirs[0];
    users::delete(&core, dir, &ids[0], None).unwrap();
    groups::delete(&core, dir, &g.id, None).unwrap();
    let mut conn = core.db.conn().unwrap();
    let attrs_of = |c: &mut AnyConn, id: &str| -> i64 {
        user_attrs::table
            .filter(user_attrs::user_id.eq(id))
            .count()
            .get_result(c)
            .unwrap()
    };
    let memberships_of = |c: &mut AnyConn, id: &str| -> i64 {
        memberships::table
            .filter(
                memberships::member_id
                    .eq(id)
                    .or(memberships::group_id.eq(id)),
            )
            .count()
            .get_result(c)
            .unwrap()
    };
    assert_eq!(
        attrs_of(&mut conn, &ids[0]),
        0,
        "a deleted user's attributes"
    );
    assert_eq!(
        memberships_of(&mut conn, &ids[0]),
        0,
        "a deleted user's memberships"
    );
    assert_eq!(
        memberships_of(&mut conn, &g.id),
        0,
        "a deleted group's memberships (as group and as member)"
    );
    assert!(attrs_of(&mut conn, &ids[1]) > 0);
    assert_eq!(
        memberships_of(&mut conn, &outer.id),
        0,
        "outer held only the deleted user and group"
    );
    drop(conn);
    admin::delete_directory(&core, &dir.id).unwrap();
    let mut conn = core.db.conn().unwrap();
    let left = |c: &mut AnyConn, d: &str| -> (i64, i64) {
        (
            user_attrs::table
                .filter(user_attrs::directory_id.eq(d))
                .count()
                .get_result(c)
                .unwrap(),
            memberships::table
                .filter(memberships::directory_id.eq(d))
                .count()
                .get_result(c)
                .unwrap(),
        )
    };
    assert_eq!(
        left(&mut conn, &dir.id),
        (0, 0),
        "a deleted directory's rows"
    );
    let other = &dirs[1].0.id;
    let (attrs, members) = left(&mut conn, other);
    assert!(
        attrs > 0 && members == 8,
        "the other directory keeps its rows: {attrs} attributes, {members} memberships"
    );
}

#[derive(QueryableByName, Debug, PartialEq)]
struct ArrayRow {
    #[diesel(sql_type = Text)]
    t: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    ot: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    b: bool,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Bool>)]
    ob: Option<bool>,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
    #[diesel(sql_type = diesel::sql_types::Timestamp)]
    ts: chrono::NaiveDateTime,
}

/// Batch writes bind whole columns as PostgreSQL arrays in their binary form, encoded
/// by `Column` itself (array_recv's layout): every element type, NULLs, empty and
/// non-ASCII strings, and timestamps before, at and after PostgreSQL's 2000-01-01
/// epoch come back from `unnest` as they were sent. SQLite has no arrays: binding one
/// is refused with an error, not sent.
#[test]
fn array_columns_round_trip_through_unnest() {
    use scimgate_core::store::dynsql::{Column, Sql};
    let t = TestDatabase::new();
    let db = t.db();
    let mut conn = db.conn().unwrap();
    let ts = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").unwrap();
    let want = vec![
        ArrayRow {
            t: "plain".into(),
            ot: None,
            b: true,
            ob: None,
            n: i64::MIN,
            ts: ts("1999-12-31 23:59:59.999999"),
        },
        ArrayRow {
            t: String::new(),
            ot: Some(String::new()),
            b: false,
            ob: Some(false),
            n: 0,
            ts: ts("2000-01-01 00:00:00"),
        },
        ArrayRow {
            t: "Zoë 🦀 \"quoted\" \\ ,{}".into(),
            ot: Some("ünïcode".repeat(300)),
            b: true,
            ob: Some(true),
            n: i64::MAX,
            ts: ts("2026-11-26 13:45:01.123456"),
        },
    ];
    let columns = vec![
        Column::Text(want.iter().map(|r| r.t.clone()).collect()),
        Column::OptText(want.iter().map(|r| r.ot.clone()).collect()),
        Column::Bool(want.iter().map(|r| r.b).collect()),
        Column::OptBool(want.iter().map(|r| r.ob).collect()),
        Column::BigInt(want.iter().map(|r| r.n).collect()),
        Column::Timestamp(want.iter().map(|r| r.ts).collect()),
    ];
    let mut q = Sql::raw("SELECT * FROM ");
    q.unnest(columns).push(" AS v(t, ot, b, ob, n, ts)");
    let got = q.load::<ArrayRow>(&mut conn);
    if postgres_url().is_none() {
        let err = got.expect_err("SQLite has no array parameters");
        assert!(err.to_string().contains("PostgreSQL only"), "{err}");
        return;
    }
    assert_eq!(got.unwrap(), want);
    let mut empty = Sql::raw("SELECT * FROM ");
    empty
        .unnest(vec![
            Column::Text(vec![]),
            Column::OptText(vec![]),
            Column::Bool(vec![]),
            Column::OptBool(vec![]),
            Column::BigInt(vec![]),
            Column::Timestamp(vec![]),
        ])
        .push(" AS v(t, ot, b, ob, n, ts)");
    assert_eq!(empty.load::<ArrayRow>(&mut conn).unwrap(), vec![]);
}

/// A batch of creates is written by one statement of its own on PostgreSQL
/// (`Core::commit_creates`): a name taken within the batch fails alone with 409 and no
/// event, the others commit with gap-free sequence numbers; and the statement waits
/// for the directory's lock like every other write (held here by another session).
#[test]
fn a_batch_of_creates_commits_alone_in_order_and_under_the_directory_lock() {
    let t = TestDatabase::new();
    let (core, dir) = core_with_directory(&t, "okta scim v2.0");
    let create = |name: &'static str| -> Box<dyn FnOnce() -> Result<String, String> + Send> {
        let (core, dir) = (core.clone(), dir.clone());
        Box::new(move || {
            users::create(&core, &dir, user_body(name))
                .map(|u| u.id)
                .map_err(|e| match e {
                    scimgate_core::CoreError::Conflict { .. } => "409".to_string(),
                    other => other.to_string(),
                })
        })
    };
    let got = in_one_batch(
        &core,
        &dir,
        vec![create("a@x.test"), create("b@x.test"), create("A@x.test")],
    );
    assert!(got[0].is_ok() && got[1].is_ok(), "{got:?}");
    assert_eq!(got[2], Err("409".to_string()), "the taken name fails alone");
    let mut conn = core.db.conn().unwrap();
    let rows: Vec<EventRow> = events::table
        .filter(events::directory_id.eq(&dir.id))
        .order(events::seq.asc())
        .select(EventRow::as_select())
        .load(&mut conn)
        .unwrap();
    let seqs: Vec<i64> = rows.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "no gaps");
    let created: Vec<String> = rows
        .iter()
        .filter(|e| e.event == "dsync.user.created")
        .map(|e| {
            serde_json::from_str::<serde_json::Value>(&e.data).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let want: Vec<String> = got[..2].iter().map(|r| r.clone().unwrap()).collect();
    assert_eq!(created, want, "one event per created user, in batch order");
    let Some(url) = postgres_url().map(|_| t.url.clone()) else {
        return; // SQLite: one writer at a time by its own lock; no session lock to hold
    };
    use diesel::connection::SimpleConnection;
    let mut other = diesel::PgConnection::establish(&url).unwrap();
    other
        .batch_execute(&format!(
            "BEGIN; SELECT pg_advisory_xact_lock(hashtextextended('{}', 0))",
            dir.id
        ))
        .unwrap();
    let waiting: Vec<_> = ["c@x.test", "d@x.test"]
        .into_iter()
        .map(|name| {
            let (core, dir) = (core.clone(), dir.clone());
            std::thread::spawn(move || users::create(&core, &dir, user_body(name)).map(|u| u.id))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(400));
    let count =
        |conn: &mut AnyConn| -> i64 { directory_users::table.count().get_result(conn).unwrap() };
    assert_eq!(
        count(&mut conn),
        2,
        "nothing committed while the lock was held"
    );
    assert!(waiting.iter().all(|h| !h.is_finished()));
    other.batch_execute("COMMIT").unwrap();
    for h in waiting {
        assert!(h.join().unwrap().is_ok());
    }
    assert_eq!(count(&mut conn), 4);
    // a directory deleted under a writer that still holds its row: nothing is written
    admin::delete_directory(&core, &dir.id).unwrap();
    let gone = users::create(&core, &dir, user_body("e@x.test"));
    assert!(gone.is_err(), "{gone:?}");
    assert_eq!(count(&mut conn), 0);
    let orphans: i64 = user_attrs::table.count().get_result(&mut conn).unwrap();
    assert_eq!(orphans, 0);
}

/// SQLite: every pooled connection commits with `synchronous=FULL` (2) in WAL mode, the
/// setting under which SQLite promises that a committed transaction survives a power
/// loss (https://www.sqlite.org/pragma.html#pragma_synchronous): PRODUCT.md's "a SCIM
/// request that got a 2xx is never lost" holds for the embedded default too.
#[test]
fn sqlite_connections_sync_every_commit() {
    #[derive(diesel::QueryableByName)]
    struct Pragma {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        synchronous: i64,
    }
    #[derive(diesel::QueryableByName)]
    struct Journal {
        #[diesel(sql_type = Text)]
        journal_mode: String,
    }
    let t = TestDatabase::sqlite();
    let core = core_on(&t);
    // several at once, so that the pool opens more than one
    let mut conns: Vec<_> = (0..3).map(|_| core.db.conn().unwrap()).collect();
    for c in conns.iter_mut() {
        let AnyConn::Sqlite(c) = &mut **c else {
            panic!("not SQLite");
        };
        let p: Pragma = diesel::sql_query("PRAGMA synchronous")
            .get_result(c)
            .unwrap();
        assert_eq!(p.synchronous, 2, "synchronous is not FULL");
        let j: Journal = diesel::sql_query("PRAGMA journal_mode")
            .get_result(c)
            .unwrap();
        assert_eq!(j.journal_mode, "wal");
    }
}

/// SQLite: under a steady stream of writes and reads, each checkpoint must start the
/// WAL over. Otherwise it grows to the automatic checkpoint (65,536 pages), which
/// then runs inside a commit and holds every writer. With PASSIVE checkpoints only,
/// the WAL held 23,000 frames after these 10,000 writes; here each checkpoint finds
/// only what was written since the last one (~600 frames).
#[test]
fn sqlite_checkpoints_start_the_wal_over_under_steady_writes() {
    let t = TestDatabase::sqlite();
    let core = core_on(&t);
    let wal = format!("{}-wal", t.url().trim_start_matches("sqlite://"));
    let writes = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (core, writes, stop) = (core.clone(), writes.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let n = writes.load(Ordering::Relaxed);
                admin::create_organization(&core, &format!("Org {n}"), &[]).unwrap();
                writes.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let reader = {
        let (core, stop) = (core.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let mut c = core.db.conn().unwrap();
                let n: i64 = organizations::table.count().get_result(&mut c).unwrap();
                assert!(n >= 0);
            }
        })
    };
    // a checkpoint every 250 writes, while the writer and the reader go on; the WAL's
    // frames (https://www.sqlite.org/fileformat2.html#walformat) just before each
    let frames = || {
        let len = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        len.saturating_sub(32) / (4096 + 24)
    };
    let (mut last, mut most) = (0, 0);
    for _ in 0..40 {
        while writes.load(Ordering::Relaxed) < last + 250 {
            std::thread::sleep(Duration::from_millis(1));
        }
        last = writes.load(Ordering::Relaxed);
        most = most.max(frames());
        core.db.checkpoint().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    reader.join().unwrap();
    assert!(
        most < 4096,
        "the WAL held {most} frames before a checkpoint"
    );
}

/// Membership events of one write share rows (`COMPACT_MAX` each) and are read out
/// one by one: each page size and order, directory and global streams, cursors inside
/// a row, `get`, the newest id, and a cursor past a row's last event refused.
#[test]
fn compact_membership_events_are_read_out_one_by_one() {
    let t = TestDatabase::new();
    let (core, dir) = core_with_directory(&t, "okta scim v2.0");
    let ids = create_users(&core, &dir, "m", 250);
    let members: Vec<_> = ids.iter().map(|i| json!({"value": i})).collect();
    groups::create(
        &core,
        &dir,
        json!({"displayName": "big", "members": members}),
    )
    .unwrap();
    users::create(&core, &dir, user_body("last@x.test")).unwrap();
    let mut conn = core.db.conn().unwrap();
    let rows: Vec<(i32, String)> = events::table
        .filter(events::event.eq(log::GROUP_USER_ADDED))
        .order(events::seq.asc())
        .select((events::n, events::id))
        .load(&mut conn)
        .unwrap();
    assert_eq!(
        rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        vec![100, 100, 50]
    );
    let read = |conn: &mut AnyConn, scoped: bool, order: Order, limit: i64| {
        let mut out: Vec<EventRow> = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let q = EventQuery {
                events: vec![],
                after: after.clone(),
                range_start: None,
                range_end: None,
                limit,
                order,
                organization_id: None,
                directory_id: scoped.then(|| dir.id.clone()),
            };
            let (page, next) = log::list(conn, &q).unwrap();
            assert!(page.len() <= limit as usize);
            if page.is_empty() {
                return out;
            }
            after = next;
            out.extend(page);
        }
    };
    let all = read(&mut conn, true, Order::Asc, 100);
    let of = |name: &str| all.iter().filter(|e| e.event == name).count();
    assert_eq!(
        (
            of(log::USER_CREATED),
            of(log::GROUP_CREATED),
            of(log::GROUP_USER_ADDED)
        ),
        (251, 1, 250)
    );
    assert_eq!(
        all.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=all.len() as i64).collect::<Vec<_>>()
    );
    assert!(all.windows(2).all(|w| w[0].id < w[1].id), "ids increase");
    let added: Vec<&EventRow> = all
        .iter()
        .filter(|e| e.event == log::GROUP_USER_ADDED)
        .collect();
    let mut users_added: Vec<String> = added
        .iter()
        .map(|e| {
            let d: serde_json::Value = serde_json::from_str(&e.data).unwrap();
            d["user"]["id"].as_str().unwrap().to_string()
        })
        .collect();
    users_added.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(users_added, expected);
    let id_list = |v: &[EventRow]| v.iter().map(|e| e.id.clone()).collect::<Vec<_>>();
    for limit in [1, 7, 100] {
        for scoped in [true, false] {
            let asc = read(&mut conn, scoped, Order::Asc, limit);
            let desc = read(&mut conn, scoped, Order::Desc, limit);
            let mine = |v: Vec<EventRow>| -> Vec<EventRow> {
                v.into_iter().filter(|e| e.directory_id == dir.id).collect()
            };
            let (asc, mut desc) = (mine(asc), mine(desc));
            assert_eq!(
                id_list(&asc),
                id_list(&all),
                "limit {limit}, scoped {scoped}"
            );
            desc.reverse();
            assert_eq!(
                id_list(&desc),
                id_list(&all),
                "desc, limit {limit}, scoped {scoped}"
            );
        }
    }
    // an event inside a row: by id, and as a cursor
    let inner = added[150];
    let got = log::get(&mut conn, &inner.id).unwrap().unwrap();
    assert_eq!((got.seq, &got.data), (inner.seq, &inner.data));
    let q = EventQuery {
        events: vec![log::GROUP_USER_ADDED.to_string()],
        after: Some(inner.id.clone()),
        range_start: None,
        range_end: None,
        limit: 3,
        order: Order::Asc,
        organization_id: None,
        directory_id: Some(dir.id.clone()),
    };
    let (page, _) = log::list(&mut conn, &q).unwrap();
    assert_eq!(
        id_list(&page),
        id_list(&[added[151].clone(), added[152].clone(), added[153].clone()])
    );
    assert_eq!(
        log::latest_event_id(&mut conn, &dir.id).unwrap().as_deref(),
        all.last().map(|e| e.id.as_str())
    );
    // past the last row's 50 events: no such event
    let beyond = scimgate_core::ids::offset(&rows[2].1, 50).unwrap();
    assert!(log::get(&mut conn, &beyond).unwrap().is_none());
    let q = EventQuery {
        after: Some(beyond),
        ..q
    };
    assert!(log::list(&mut conn, &q).is_err());
}

/// The members of a list page's groups read at once (`members_of_many`) are each
/// group's members as `members_of` reads them: users then groups, each in id order,
/// with the display the client set or the member's name; a group without members has
/// none.
#[test]
fn members_of_many_gives_each_group_what_members_of_gives() {
    let t = TestDatabase::new();
    let (core, dir) = core_with_directory(&t, "okta scim v2.0");
    let ids = create_users(&core, &dir, "mm", 5);
    let a = groups::create(
        &core,
        &dir,
        json!({"displayName": "a", "members": [{"value": ids[3]}, {"value": ids[0], "display": "Shown"}]}),
    )
    .unwrap();
    let b = groups::create(
        &core,
        &dir,
        json!({"displayName": "b", "members": [{"value": a.id}, {"value": ids[4]}, {"value": ids[1]}]}),
    )
    .unwrap();
    let empty = groups::create(&core, &dir, json!({"displayName": "empty"})).unwrap();
    let gids = vec![b.id.clone(), empty.id.clone(), a.id.clone()];
    let flat = |refs: Vec<scimgate_core::scim::resource::Ref>| -> Vec<(String, Option<String>, &'static str)> {
        refs.into_iter().map(|r| (r.id, r.display, r.kind)).collect()
    };
    let mut conn = core.db.conn().unwrap();
    let mut many = groups::members_of_many(&mut conn, &gids).unwrap();
    for g in &gids {
        let one = flat(groups::members_of(&mut conn, g).unwrap());
        assert_eq!(flat(many.remove(g).unwrap_or_default()), one, "{g}");
    }
    assert!(many.is_empty(), "only the groups asked for");
    let b_members = flat(groups::members_of(&mut conn, &b.id).unwrap());
    let mut users_of_b = vec![ids[1].clone(), ids[4].clone()];
    users_of_b.sort();
    assert_eq!(
        b_members.iter().map(|m| m.0.clone()).collect::<Vec<_>>(),
        [users_of_b, vec![a.id.clone()]].concat(),
        "users in id order, then groups"
    );
    assert_eq!(b_members.last().map(|m| m.2), Some("Group"));
    let a_members = flat(groups::members_of(&mut conn, &a.id).unwrap());
    assert!(a_members.contains(&(ids[0].clone(), Some("Shown".into()), "User")));
}
