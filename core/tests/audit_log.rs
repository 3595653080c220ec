//! The audit log on SQLite and PostgreSQL: appends from many threads make one linear
//! chain, tampering is found at the first broken link, retention keeps an anchor the
//! chain continues from, and the list filters and pages.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use diesel::prelude::*;
use diesel::Connection;
use scimgate_core::audit::{Actor, ActorKind, Entry, Outcome, Verdict, GENESIS};
use scimgate_core::service::audit::{self, AuditFilter};
use scimgate_core::service::vendor_reads::Page;
use scimgate_core::store::schema::audit_log;
use scimgate_core::testing::TestDatabase;
use serde_json::json;

fn key_actor(id: &str) -> Actor {
    Actor::new(ActorKind::ApiKey, Some(id.into()))
        .from_request(Some("203.0.113.9".into()), Some("test/1"))
}

#[test]
fn concurrent_appends_make_one_chain_and_tampering_breaks_it() {
    let t = TestDatabase::new();
    let core = core_on(&t);
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let core = core.clone();
            std::thread::spawn(move || {
                for j in 0..10 {
                    let e = Entry::new(
                        &key_actor(&format!("key_{i}")),
                        "thing.done",
                        Outcome::Success,
                    )
                    .target("thing", format!("thing_{i}_{j}"));
                    audit::record(&core, e).unwrap();
                }
            })
        })
        .collect();
    for th in threads {
        th.join().unwrap();
    }
    assert_eq!(
        audit::verify(&core).unwrap(),
        Verdict::Intact {
            records: 40,
            anchor: GENESIS.into()
        }
    );
    let mut conn = core.db().conn().unwrap();
    let seqs: Vec<i64> = audit_log::table
        .order(audit_log::seq.asc())
        .select(audit_log::seq)
        .load(&mut conn)
        .unwrap();
    assert_eq!(seqs, (1..=40).collect::<Vec<_>>());
    // an outcome rewritten in the table
    diesel::update(audit_log::table.filter(audit_log::seq.eq(7)))
        .set(audit_log::outcome.eq("denied"))
        .execute(&mut conn)
        .unwrap();
    assert!(matches!(
        audit::verify(&core).unwrap(),
        Verdict::Broken { seq: 7, .. }
    ));
    // the export holds every record, in chain order
    let mut out = Vec::new();
    assert_eq!(audit::export(&core, &mut out).unwrap(), 40);
    let lines: Vec<serde_json::Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[6]["sequence"], 7);
    assert_eq!(lines[6]["outcome"], "denied");
    assert_eq!(lines[0]["actor"]["client_address"], "203.0.113.9");
}

#[test]
fn retention_keeps_an_anchor_that_the_chain_continues_from() {
    let t = TestDatabase::new();
    let core = core_on(&t);
    for i in 0..5 {
        audit::record(
            &core,
            Entry::new(&Actor::cli(), format!("a.{i}"), Outcome::Success),
        )
        .unwrap();
    }
    let mut conn = core.db().conn().unwrap();
    let last_hash: String = audit_log::table
        .filter(audit_log::seq.eq(5))
        .select(audit_log::hash)
        .first(&mut conn)
        .unwrap();
    // everything is past a cutoff in the future
    let cutoff = scimgate_core::clock::now() + chrono::Duration::seconds(5);
    let n = conn
        .transaction(|c| scimgate_core::store::audit::prune_before(c, cutoff))
        .unwrap();
    assert_eq!(n, 5);
    assert_eq!(
        audit::verify(&core).unwrap(),
        Verdict::Intact {
            records: 0,
            anchor: last_hash.clone()
        }
    );
    let r = audit::record(&core, Entry::new(&Actor::system(), "b", Outcome::Success)).unwrap();
    assert_eq!((r.seq, r.prev_hash.as_str()), (6, last_hash.as_str()));
    assert_eq!(
        audit::verify(&core).unwrap(),
        Verdict::Intact {
            records: 1,
            anchor: last_hash
        }
    );
    // a retention of 0 days keeps everything
    assert_eq!(audit::prune(&core, 0).unwrap(), 0);
    assert_eq!(audit::prune(&core, 30).unwrap(), 0);
    // a record removed by anything but retention is found: after the anchor…
    audit::record(&core, Entry::new(&Actor::system(), "c", Outcome::Success)).unwrap();
    audit::record(&core, Entry::new(&Actor::system(), "d", Outcome::Success)).unwrap();
    diesel::delete(audit_log::table.filter(audit_log::seq.eq(6)))
        .execute(&mut conn)
        .unwrap();
    assert!(matches!(
        audit::verify(&core).unwrap(),
        Verdict::Broken { seq: 7, .. }
    ));
    // …or within the chain
    diesel::delete(audit_log::table.filter(audit_log::seq.eq(7)))
        .execute(&mut conn)
        .unwrap();
    audit::record(&core, Entry::new(&Actor::system(), "e", Outcome::Success)).unwrap();
    assert!(matches!(
        audit::verify(&core).unwrap(),
        Verdict::Broken { seq: 8, .. }
    ));
}

#[test]
fn the_list_filters_by_actor_action_target_and_time_and_pages() {
    let t = TestDatabase::new();
    let core = core_on(&t);
    let before = scimgate_core::clock::now() - chrono::Duration::seconds(1);
    for i in 0..5 {
        let e = Entry::new(&key_actor("key_a"), "directory.created", Outcome::Success)
            .target("directory", format!("directory_{i}"))
            .details(json!({ "i": i }));
        audit::record(&core, e).unwrap();
    }
    audit::record(
        &core,
        Entry::new(&Actor::cli(), "api_key.created", Outcome::Success).target("api_key", "key_b"),
    )
    .unwrap();
    let all = |f: AuditFilter| {
        audit::list(&core, &f, &Page::new(None, None, Some(100), None).unwrap())
            .unwrap()
            .data
    };
    assert_eq!(all(AuditFilter::default()).len(), 6);
    let by_key = all(AuditFilter {
        actor: Some("key_a".into()),
        ..Default::default()
    });
    assert_eq!(by_key.len(), 5);
    // newest first
    assert_eq!(by_key[0].target_id.as_deref(), Some("directory_4"));
    assert_eq!(
        all(AuditFilter {
            actor: Some("cli".into()),
            ..Default::default()
        })
        .len(),
        1
    );
    assert_eq!(
        all(AuditFilter {
            action: Some("api_key.created".into()),
            ..Default::default()
        })[0]
            .target_id
            .as_deref(),
        Some("key_b")
    );
    assert_eq!(
        all(AuditFilter {
            target: Some("directory_2".into()),
            ..Default::default()
        })
        .len(),
        1
    );
    let after = scimgate_core::clock::now() + chrono::Duration::seconds(1);
    assert_eq!(
        all(AuditFilter {
            since: Some(before),
            until: Some(after),
            ..Default::default()
        })
        .len(),
        6
    );
    assert!(all(AuditFilter {
        since: Some(after),
        ..Default::default()
    })
    .is_empty());
    assert!(audit::list(
        &core,
        &AuditFilter {
            since: Some(after),
            until: Some(before),
            ..Default::default()
        },
        &Page::new(None, None, None, None).unwrap()
    )
    .is_err());
    // pages of 2 walk all 6 records once
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let p = audit::list(
            &core,
            &AuditFilter::default(),
            &Page::new(None, cursor.clone(), Some(2), None).unwrap(),
        )
        .unwrap();
        seen.extend(p.data.iter().map(|r| r.seq));
        match p.after {
            Some(a) => cursor = Some(a),
            None => break,
        }
    }
    assert_eq!(seen, vec![6, 5, 4, 3, 2, 1]);
}
