//! Migrations and `schema.rs`: both backends migrate to the same tables and columns,
//! and every table of `schema.rs` reads on each.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;

use diesel::prelude::*;
use diesel::sql_types::Text;
use scimgate_core::model::*;
use scimgate_core::store::schema::*;
use scimgate_core::store::AnyConn;
use scimgate_core::testing::{postgres_url, TestDatabase};

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
