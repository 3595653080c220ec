//! Compact membership events: a write's consecutive membership events share rows
//! and are read out one by one.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use diesel::prelude::*;
use scimgate_core::events::{self as log, EventQuery, Order};
use scimgate_core::ids::*;
use scimgate_core::model::*;
use scimgate_core::service::{groups, users};
use scimgate_core::store::schema::*;
use scimgate_core::store::AnyConn;
use scimgate_core::testing::TestDatabase;
use serde_json::json;

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
    let mut conn = core.db().conn().unwrap();
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
                directory_id: scoped.then(|| dir.id.to_string()),
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
        after: Some(inner.id.to_string()),
        range_start: None,
        range_end: None,
        limit: 3,
        order: Order::Asc,
        organization_id: None,
        directory_id: Some(dir.id.to_string()),
    };
    let (page, _) = log::list(&mut conn, &q).unwrap();
    assert_eq!(
        id_list(&page),
        id_list(&[added[151].clone(), added[152].clone(), added[153].clone()])
    );
    assert_eq!(
        log::latest_event_id(&mut conn, &dir.id).unwrap().as_ref(),
        all.last().map(|e| &e.id)
    );
    // past the last row's 50 events: no such event
    let beyond = EventId::parse(&rows[2].1).unwrap().offset(50).unwrap();
    assert!(log::get(&mut conn, &beyond).unwrap().is_none());
    let q = EventQuery {
        after: Some(beyond.to_string()),
        ..q
    };
    assert!(log::list(&mut conn, &q).is_err());
}
