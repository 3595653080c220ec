//! Group commit: a directory's concurrent writes committed as batches, a failing
//! write failing alone, blocking and awaiting writers sharing batches, and a batch of
//! creates as one statement under the directory's lock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use diesel::prelude::*;
use scimgate_core::model::*;
use scimgate_core::service::{admin, users};
use scimgate_core::store::schema::*;
use scimgate_core::store::AnyConn;
use scimgate_core::testing::{postgres_url, TestDatabase};

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
    let mut conn = core.db().conn().unwrap();
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

    let mut conn = core.db().conn().unwrap();
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
                .map(|u| u.id.to_string())
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
    let mut conn = core.db().conn().unwrap();
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
