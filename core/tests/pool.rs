//! The connection pool: dead connections replaced after an idle second, and reads
//! that must not wait refusing what would.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use diesel::prelude::*;
use diesel::sql_types::Text;
use scimgate_core::model::DirectoryType;
use scimgate_core::service::{self, admin, list_paging, users};
use scimgate_core::testing::{postgres_url, TestDatabase};

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
        let mut conn = core.db().conn().unwrap();
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
    let created = admin::create_directory(&core, &org.id, DirectoryType::Okta, None).unwrap();
    let dir = created.directory.clone();
    let u = users::create(&core, &dir, user_body("w@x.test")).unwrap();

    // a read with a connection free: answered
    let got = service::without_waiting(|| users::get(&core, &dir, &u.id).map(|g| g.row.id));
    assert_eq!(got.map(Result::unwrap), Some(u.id.clone()));
    let lookup = list_paging::ListParams {
        filter: Some(r#"userName eq "W@X.test""#.into()),
        ..Default::default()
    };
    let listed = service::without_waiting(|| users::list(&core, &dir, &lookup).unwrap());
    assert_eq!(listed.map(|l| l.total), Some(1));

    // a write: refused before it starts, nothing written
    let w = service::without_waiting(|| users::create(&core, &dir, user_body("v@x.test")));
    assert!(w.is_none(), "a write ran without waiting");
    let v = list_paging::ListParams {
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
    let held: Vec<_> = (0..8).map(|_| core.db().conn().unwrap()).collect();
    let t0 = Instant::now();
    let r = service::without_waiting(|| users::get(&core, &dir, &u.id).map(|g| g.row.id));
    assert!(r.is_none(), "a read waited for a pooled connection");
    assert!(t0.elapsed() < Duration::from_secs(1), "{:?}", t0.elapsed());
    drop(held);
    let r = service::without_waiting(|| users::get(&core, &dir, &u.id).map(|g| g.row.id));
    assert_eq!(r.map(Result::unwrap), Some(u.id));
}
