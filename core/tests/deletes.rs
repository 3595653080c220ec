//! Deletes leave no attribute or membership row behind.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use diesel::prelude::*;
use scimgate_core::model::DirectoryType;
use scimgate_core::service::{admin, groups, users};
use scimgate_core::store::schema::*;
use scimgate_core::store::AnyConn;
use scimgate_core::testing::TestDatabase;
use serde_json::json;

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
        let dir = admin::create_directory(&core, &org.id, DirectoryType::Okta, None)
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
    let mut conn = core.db().conn().unwrap();
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
        attrs_of(&mut conn, ids[0].as_str()),
        0,
        "a deleted user's attributes"
    );
    assert_eq!(
        memberships_of(&mut conn, ids[0].as_str()),
        0,
        "a deleted user's memberships"
    );
    assert_eq!(
        memberships_of(&mut conn, g.id.as_str()),
        0,
        "a deleted group's memberships (as group and as member)"
    );
    assert!(attrs_of(&mut conn, ids[1].as_str()) > 0);
    assert_eq!(
        memberships_of(&mut conn, outer.id.as_str()),
        0,
        "outer held only the deleted user and group"
    );
    drop(conn);
    admin::delete_directory(&core, &dir.id).unwrap();
    let mut conn = core.db().conn().unwrap();
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
        left(&mut conn, dir.id.as_str()),
        (0, 0),
        "a deleted directory's rows"
    );
    let other = &dirs[1].0.id;
    let (attrs, members) = left(&mut conn, other.as_str());
    assert!(
        attrs > 0 && members == 8,
        "the other directory keeps its rows: {attrs} attributes, {members} memberships"
    );
}
