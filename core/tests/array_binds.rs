//! Whole columns bound as PostgreSQL arrays in their binary form.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use diesel::prelude::*;
use diesel::sql_types::Text;
use scimgate_core::testing::{postgres_url, TestDatabase};

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
