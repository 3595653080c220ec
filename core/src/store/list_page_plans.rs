//! The query plans of list pages: how the database reads a SCIM list page and a
//! vendor API page (PostgreSQL `EXPLAIN`, SQLite `EXPLAIN QUERY PLAN`), on a directory
//! of 30,000 users and 3,000 groups written straight into young tables: no statistics
//! yet, as during a directory's first sync, where PostgreSQL estimated a directory to
//! hold 0.5 % of the table's rows and fetched all of them through another index to
//! sort them, the sort spilled to disk (docs/BENCHMARKS.md, "What was tried": list pages in index order).

use diesel::connection::SimpleConnection;
use scimgate_connectors::{DirectoryType, ResourceKind};

use super::dynsql::Sql;
use super::paging::{self, list_reads, ListStatements};
use super::{groups, users, AnyConn};
use crate::bus::Bus;
use crate::ids::DirectoryId;
use crate::model::DirectoryRow;
use crate::service::list_paging::{scim_page, ListParams, Page};
use crate::service::{self, admin, vendor_reads, Core, InactivePolicy, Settings};
use crate::testing::TestDatabase;

#[derive(diesel::QueryableByName)]
struct PgPlanLine {
    #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
    line: String,
}

#[derive(diesel::QueryableByName)]
struct SqlitePlanLine {
    #[diesel(sql_type = diesel::sql_types::Text)]
    detail: String,
}

/// The plan of a SCIM page statement, run as `list` runs it (in `list_reads`).
fn plan(conn: &mut AnyConn, st: ListStatements) -> Vec<String> {
    plan_of(conn, st.page, st.in_id_order)
}

/// The plan of `page`, run as the lists run it (in `list_reads`).
fn plan_of(conn: &mut AnyConn, page: Sql, in_id_order: bool) -> Vec<String> {
    list_reads(conn, in_id_order, |c| match c {
        AnyConn::Pg(_) => {
            let mut q = Sql::raw("EXPLAIN ");
            q.append(page);
            Ok(q.load::<PgPlanLine>(c)?
                .into_iter()
                .map(|l| l.line)
                .collect())
        }
        AnyConn::Sqlite(_) => {
            let mut q = Sql::raw("EXPLAIN QUERY PLAN ");
            q.append(page);
            Ok(q.load::<SqlitePlanLine>(c)?
                .into_iter()
                .map(|l| l.detail)
                .collect())
        }
    })
    .unwrap_or_else(|e| panic!("EXPLAIN failed: {e}"))
}

/// Whether a plan sorts rows (a PostgreSQL `Sort` node of any kind, SQLite's
/// temporary b-tree for `ORDER BY`).
fn sorts(plan: &[String]) -> bool {
    plan.iter()
        .any(|l| l.contains("Sort") || l.contains("USE TEMP B-TREE FOR ORDER BY"))
}

fn fill(conn: &mut AnyConn, directory_id: &DirectoryId) {
    let d = directory_id;
    let (series, now) = match conn {
        AnyConn::Pg(_) => ("SELECT i FROM generate_series(1, {n}) i", "now()"),
        AnyConn::Sqlite(_) => (
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) SELECT i FROM s",
            "CURRENT_TIMESTAMP",
        ),
    };
    let users = format!(
        "INSERT INTO directory_users (id, directory_id, user_name, user_name_ci, external_id, email_ci, active, state, version, scim, normalized, created_at, updated_at) \
         SELECT 'directory_user_' || (100000 + i), '{d}', 'u' || i || '@x.test', 'u' || i || '@x.test', 'ext' || i, 'u' || i || '@x.test', true, 'active', 1, '{{\"userName\":\"' || i || '\"}}', '{{}}', {now}, {now} FROM ({}) AS n",
        series.replace("{n}", "30000")
    );
    let groups = format!(
        "INSERT INTO directory_groups (id, directory_id, display_name, display_name_ci, external_id, version, scim, normalized, created_at, updated_at) \
         SELECT 'directory_group_' || (100000 + i), '{d}', 'g' || i, 'g' || i, 'ext' || i, 1, '{{}}', '{{}}', {now}, {now} FROM ({}) AS n",
        series.replace("{n}", "3000")
    );
    match conn {
        AnyConn::Pg(c) => c.batch_execute(&format!("{users}; {groups}")),
        AnyConn::Sqlite(c) => c.batch_execute(&format!("{users}; {groups}")),
    }
    .unwrap_or_else(|e| panic!("filling the directory failed: {e}"));
}

/// A fresh database whose one directory holds 30,000 users and 3,000 groups (`fill`).
fn filled_directory() -> (TestDatabase, Core, DirectoryRow) {
    let t = TestDatabase::new();
    let core = Core::new(t.db(), Bus::in_process(), Settings::default());
    let org = admin::create_organization(&core, "Org", &[]).unwrap_or_else(|e| panic!("{e}"));
    let dir = admin::create_directory(&core, &org.id, DirectoryType::Okta, None)
        .unwrap_or_else(|e| panic!("{e}"))
        .directory;
    let mut conn = core.db().conn().unwrap_or_else(|e| panic!("{e}"));
    fill(&mut conn, &dir.id);
    (t, core, dir)
}

/// A page of a directory's users or groups in id order (no filter, no `sortBy`: what
/// Okta's import, Ping's "list all" and any paging client ask) comes from the
/// directory's `(directory_id, id)` index in order, whatever the statistics say; a
/// page sorted by another attribute still sorts (which shows the check can see one).
#[test]
fn a_directory_page_in_id_order_is_read_from_its_index_unsorted() {
    let (_t, core, dir) = filled_directory();
    let mut conn = core.db().conn().unwrap_or_else(|e| panic!("{e}"));
    let dialect = conn.dialect();
    let statements = |kind: ResourceKind, p: &ListParams, bounds| {
        scim_page(kind, p, None, bounds).map(|page| match kind {
            ResourceKind::User => users::list_statements(dialect, &dir.id, &page),
            ResourceKind::Group => groups::list_statements(dialect, &dir.id, &page),
        })
    };

    let page = ListParams {
        start_index: Some(1501),
        count: Some(100),
        ..Default::default()
    };
    let bounds = (1501, 100);
    for (what, st) in [
        ("users", statements(ResourceKind::User, &page, bounds)),
        ("groups", statements(ResourceKind::Group, &page, bounds)),
    ] {
        let st = st.unwrap_or_else(|e| panic!("{e}"));
        assert!(st.in_id_order, "{what}");
        let p = plan(&mut conn, st);
        assert!(!sorts(&p), "{what} page sorted:\n{}", p.join("\n"));
    }

    // the vendor API's keyset pages of a directory, both ways from a cursor
    for (order, cursor) in [
        (None, "directory_user_115000"),
        (Some("asc"), "directory_user_115000"),
    ] {
        let page = Page::new(None, Some(cursor.to_string()), Some(100), order)
            .unwrap_or_else(|e| panic!("{e}"));
        let f = vendor_reads::UserFilter {
            directory: Some(dir.id.to_string()),
            ..Default::default()
        };
        let active_only = core.settings().inactive_users == InactivePolicy::Delete;
        let (base, in_id_order) = (users::users_query(&f, &[], active_only), f.in_id_order(&[]));
        assert!(in_id_order);
        let q = paging::keyset_query(base, &page.travel().keyset(&page));
        let p = plan_of(&mut conn, q, in_id_order);
        assert!(!sorts(&p), "directory_users page sorted:\n{}", p.join("\n"));
        let f = vendor_reads::GroupFilter {
            directory: Some(dir.id.to_string()),
            ..Default::default()
        };
        let (base, in_id_order) = (groups::groups_query(&f), f.in_id_order());
        assert!(in_id_order);
        let q = paging::keyset_query(base, &page.travel().keyset(&page));
        let p = plan_of(&mut conn, q, in_id_order);
        assert!(
            !sorts(&p),
            "directory_groups page sorted:\n{}",
            p.join("\n")
        );
    }

    let sorted = ListParams {
        sort_by: Some("userName".into()),
        ..page.clone()
    };
    let st = statements(ResourceKind::User, &sorted, bounds).unwrap_or_else(|e| panic!("{e}"));
    assert!(!st.in_id_order);
    let p = plan(&mut conn, st);
    assert!(
        sorts(&p),
        "a userName order without a sort?\n{}",
        p.join("\n")
    );
    drop(conn);

    // and the pages are right: totals, the rows from the 1,501st on, in id order
    let users = service::users::list(&core, &dir, &page).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(users.total, 30_000);
    let ids: Vec<&str> = users.rows.iter().map(|u| u.id.as_str()).collect();
    let want: Vec<String> = (101_501..101_601)
        .map(|i| format!("directory_user_{i}"))
        .collect();
    assert_eq!(ids, want);
    let groups = service::groups::list(&core, &dir, &page).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(groups.total, 3_000);
    assert_eq!(groups.rows.len(), 100);
    assert_eq!(groups.rows[0].id, "directory_group_101501");
    let vendor = vendor_reads::list_users(
        &core,
        &vendor_reads::UserFilter {
            directory: Some(dir.id.to_string()),
            ..Default::default()
        },
        &Page::new(None, Some("directory_user_115000".into()), Some(3), None)
            .unwrap_or_else(|e| panic!("{e}")),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let ids: Vec<&str> = vendor.data.iter().map(|u| u.id.as_str()).collect();
    // WorkOS's default order is descending: `after` continues downwards
    assert_eq!(
        ids,
        [
            "directory_user_114999",
            "directory_user_114998",
            "directory_user_114997"
        ]
    );
}

/// The admin UI's searches of a directory's users (issue 16: every page ≤ 50 ms p95 at
/// 100,000 users) read a range of an index, on young tables without statistics: by
/// name, each word a range of `user_attrs_lookup` per name attribute (a substring
/// `LIKE '%w%'` read every name row of the directory: 70.6 ms p95 on PostgreSQL); by
/// state, the inactive users from the partial `users_dir_inactive` (the directory's
/// users were read whole to find none: 41.8 ms p95); by email, `users_dir_email`
/// (SQLite read the directory in id order: 45.9 ms p95), unsorted.
#[test]
fn the_admin_user_searches_read_an_index_range() {
    let (_t, core, dir) = filled_directory();
    let mut conn = core.db().conn().unwrap_or_else(|e| panic!("{e}"));
    let d = &dir.id;
    // a given name, a family name per user; every 1,000th user inactive
    let names = format!(
        "INSERT INTO user_attrs (user_id, directory_id, attr, elem, value, value_ci) \
         SELECT id, directory_id, 'name.givenname', 0, 'U', 'u' FROM directory_users WHERE directory_id = '{d}'; \
         INSERT INTO user_attrs (user_id, directory_id, attr, elem, value, value_ci) \
         SELECT id, directory_id, 'name.familyname', 0, 'N' || substr(id, 16), 'n' || substr(id, 16) FROM directory_users WHERE directory_id = '{d}'; \
         UPDATE directory_users SET active = false WHERE directory_id = '{d}' AND id LIKE '%000'"
    );
    match &mut *conn {
        AnyConn::Pg(c) => c.batch_execute(&names),
        AnyConn::Sqlite(c) => c.batch_execute(&names),
    }
    .unwrap_or_else(|e| panic!("{e}"));
    let page = Page::new(None, None, Some(50), None).unwrap_or_else(|e| panic!("{e}"));
    let search = |conn: &mut AnyConn, f: vendor_reads::UserFilter| {
        let words = users::name_words(conn, &f).unwrap_or_else(|e| panic!("{e}"));
        let q = paging::keyset_query(
            users::users_query(&f, &words, false),
            &page.travel().keyset(&page),
        );
        plan_of(conn, q, f.in_id_order(&words)).join("\n")
    };
    let filter = vendor_reads::UserFilter {
        directory: Some(dir.id.to_string()),
        ..Default::default()
    };

    let p = search(
        &mut conn,
        vendor_reads::UserFilter {
            name: Some("N115 u".into()),
            ..filter.clone()
        },
    );
    let range = match *conn {
        AnyConn::Pg(_) => "(attr = 'name.familyname'::text) AND (value_ci >= 'n115'::text) AND (value_ci < 'n116'::text))",
        AnyConn::Sqlite(_) => "USING INDEX user_attrs_lookup (directory_id=? AND attr=? AND value_ci>? AND value_ci<?)",
    };
    assert!(p.contains(range), "name search without a range:\n{p}");
    assert!(
        !p.contains("Filter: ((attr") && !p.contains("Seq Scan"),
        "{p}"
    );
    // "u" starts a name of every user: tested per user read (a subquery per row)
    let probe = match *conn {
        AnyConn::Pg(_) => "SubPlan",
        AnyConn::Sqlite(_) => "CORRELATED SCALAR SUBQUERY",
    };
    assert!(p.contains(probe), "the common word:\n{p}");
    // alone, the directory's users are read in id order until a page is full
    let p = search(
        &mut conn,
        vendor_reads::UserFilter {
            name: Some("U".into()),
            ..filter.clone()
        },
    );
    assert!(p.contains(probe), "{p}");
    assert!(
        p.contains("users_dir_id") && !sorts(std::slice::from_ref(&p)),
        "{p}"
    );

    let p = search(
        &mut conn,
        vendor_reads::UserFilter {
            active: Some(false),
            ..filter.clone()
        },
    );
    // (PostgreSQL may sort the few rows it expects of a partial index)
    assert!(p.contains("users_dir_inactive"), "state search:\n{p}");

    let p = search(
        &mut conn,
        vendor_reads::UserFilter {
            email: Some("u115@x.test".into()),
            ..filter.clone()
        },
    );
    assert!(p.contains("users_dir_email"), "email search:\n{p}");
    assert!(!p.contains("Sort") && !p.contains("TEMP B-TREE"), "{p}");
    drop(conn);

    // and they find the right users
    let found = |f: vendor_reads::UserFilter| {
        let all = Page::new(None, None, Some(100), Some("asc")).unwrap_or_else(|e| panic!("{e}"));
        let page = vendor_reads::list_users(&core, &f, &all).unwrap_or_else(|e| panic!("{e}"));
        page.data
            .into_iter()
            .map(|u| u.id.to_string())
            .collect::<Vec<_>>()
    };
    let by_name = found(vendor_reads::UserFilter {
        name: Some("N11500 U".into()),
        ..filter.clone()
    });
    let mut want: Vec<String> = (115_000..115_010)
        .map(|i| format!("directory_user_{i}"))
        .collect();
    want.sort();
    let mut by_name = by_name;
    by_name.sort();
    assert_eq!(by_name, want, "the family names n115000 to n115009");
    // a common word with a rare one, and alone: every user's given name is "U"
    let mut both = found(vendor_reads::UserFilter {
        name: Some("u N11500".into()),
        ..filter.clone()
    });
    both.sort();
    assert_eq!(both, want);
    let common = found(vendor_reads::UserFilter {
        name: Some("u".into()),
        ..filter.clone()
    });
    let first: Vec<String> = (100_001..100_101)
        .map(|i| format!("directory_user_{i}"))
        .collect();
    assert_eq!(common, first, "the first 100 users in id order");
    let inactive = found(vendor_reads::UserFilter {
        active: Some(false),
        ..filter.clone()
    });
    assert_eq!(inactive.len(), 30, "{inactive:?}");
    assert!(
        inactive.iter().all(|id| id.ends_with("000")),
        "{inactive:?}"
    );
}
