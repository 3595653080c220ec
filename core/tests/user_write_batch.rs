//! Batches of user writes (read ahead, written back): every write gets what it
//! would get alone.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::atomic::Ordering;

use common::*;
use diesel::prelude::*;
use scimgate_core::ids::*;
use scimgate_core::service::{groups, users};
use scimgate_core::store;
use scimgate_core::store::schema::*;
use scimgate_core::store::AnyConn;
use scimgate_core::testing::TestDatabase;
use scimgate_core::Core;
use serde_json::json;

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
    let patch = |id: &DirectoryUserId, ops: serde_json::Value| {
        let (core, dir, id) = (core.clone(), dir.clone(), id.clone());
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
    let mut conn = core.db().conn().unwrap();
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
    let to = |id: &DirectoryUserId, name: &str| {
        let (core, dir, id) = (core.clone(), dir.clone(), id.clone());
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
    let mut conn = core.db().conn().unwrap();
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
    let mut conn = core.db().conn().unwrap();
    let seen = directory_events(&mut conn, &dir).len();
    drop(conn);
    type R = scimgate_core::CoreResult<String>;
    let del = |id: &DirectoryUserId| {
        let (core, dir, id) = (core.clone(), dir.clone(), id.clone());
        Box::new(move || users::delete(&core, &dir, &id, None).map(|_| id.to_string()))
            as Box<dyn FnOnce() -> R + Send>
    };
    let create = |name: &str| {
        let (core, dir, name) = (core.clone(), dir.clone(), name.to_string());
        Box::new(move || users::create(&core, &dir, user_body(&name)).map(|u| u.user_name))
            as Box<dyn FnOnce() -> R + Send>
    };
    let rename = |id: &DirectoryUserId, name: &str| {
        let (core, dir, id) = (core.clone(), dir.clone(), id.clone());
        let ops = json!({"Operations": [{"op": "replace", "path": "userName", "value": name}]});
        Box::new(move || users::patch(&core, &dir, &id, ops, None).map(|u| u.row.user_name))
            as Box<dyn FnOnce() -> R + Send>
    };
    let stats = |core: &Core| {
        let w = core.write_stats();
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
    let mut conn = core.db().conn().unwrap();
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
    let members = |conn: &mut AnyConn, g: &DirectoryGroupId| -> Vec<String> {
        store::memberships::members_of_group(conn, g)
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect()
    };
    assert_eq!(members(&mut conn, &eng.id), [keep.id.to_string()]);
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
    let mut conn = core.db().conn().unwrap();
    assert!(users::find(&mut conn, &dir.id, &keep.id).unwrap().is_none());
    assert!(members(&mut conn, &eng.id).is_empty());
    let ev = directory_events(&mut conn, &dir);
    let names: Vec<&str> = ev[seen + 6..].iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["dsync.group.user_removed", "dsync.user.deleted"]);
}
