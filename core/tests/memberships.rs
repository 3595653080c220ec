//! Memberships: reads that touch only the memberships they answer with, a group's
//! version per membership change, and a page's members read at once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use diesel::prelude::*;
use diesel::sql_types::Text;
use scimgate_core::ids::*;
use scimgate_core::model::*;
use scimgate_core::service::{groups, users};
use scimgate_core::store::{self, AnyConn};
use scimgate_core::testing::{postgres_url, TestDatabase};
use serde_json::json;

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
/// lookup (found by scimbench; docs/BENCHMARKS.md has the figures). Counted
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
        let mut c = core.db().conn().unwrap();
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

    let mut pooled = core.db().conn().unwrap();
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
    let three: Vec<DirectoryUserId> = ids[..3].to_vec();
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
        assert_eq!(
            store::memberships::groups_of_users(c, &three)
                .unwrap()
                .len(),
            21
        );
    };
    check("groups_of", "memberships", 8 * 21 * 2, &mut read);
    check("groups_of", "directory_groups", 8 * 21 * 2, &mut read);
    let mut read = |c: &mut AnyConn| {
        let m = store::memberships::members_of_group(c, &small.id).unwrap();
        let got: Vec<&str> = m.iter().map(|r| r.id.as_str()).collect();
        let mut want: Vec<&str> = ids[..3].iter().map(DirectoryUserId::as_str).collect();
        want.sort();
        assert_eq!(got, want);
    };
    check("members_of", "directory_users", 8 * 3 * 2, &mut read);
    check("members_of", "memberships", 8 * 3 * 2 + 8, &mut read);
    if let AnyConn::Pg(pg) = &mut *pooled {
        diesel::connection::SimpleConnection::batch_execute(pg, "ROLLBACK").unwrap();
    }
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
    let mut conn = core.db().conn().unwrap();
    let mut members: Vec<String> = store::memberships::members_of_group(&mut conn, &g.id)
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
    let mut conn = core.db().conn().unwrap();
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
    let mut conn = core.db().conn().unwrap();
    assert!(store::memberships::members_of_group(&mut conn, &g.id)
        .unwrap()
        .is_empty());
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
    let mut conn = core.db().conn().unwrap();
    let mut many = store::memberships::members_of_groups(&mut conn, &gids).unwrap();
    for g in &gids {
        let one = flat(store::memberships::members_of_group(&mut conn, g).unwrap());
        assert_eq!(flat(many.remove(g).unwrap_or_default()), one, "{g}");
    }
    assert!(many.is_empty(), "only the groups asked for");
    let b_members = flat(store::memberships::members_of_group(&mut conn, &b.id).unwrap());
    let mut users_of_b = vec![ids[1].to_string(), ids[4].to_string()];
    users_of_b.sort();
    assert_eq!(
        b_members.iter().map(|m| m.0.clone()).collect::<Vec<_>>(),
        [users_of_b, vec![a.id.to_string()]].concat(),
        "users in id order, then groups"
    );
    assert_eq!(b_members.last().map(|m| m.2), Some("Group"));
    let a_members = flat(store::memberships::members_of_group(&mut conn, &a.id).unwrap());
    assert!(a_members.contains(&(ids[0].to_string(), Some("Shown".into()), "User")));
}
