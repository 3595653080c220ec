//! What list pages share in SQL: the reads of one page in one snapshot
//! ([`list_reads`]), a SCIM page's count and rows ([`ScimPage`], [`ListStatements`]),
//! a keyset page of the vendor API ([`Keyset`]), and lists of ids ([`id_in`],
//! [`padded`]). What a page means (RFC 7644 §3.4.2.4 bounds, WorkOS cursors) is
//! `service::list_paging`'s.

use super::dynsql::{Bind, Column, Sql};
use super::{filter_sql, transaction_opened_by, AnyConn, Dialect};
use crate::error::CoreResult;
use crate::ids::DirectoryId;
use crate::scim::filter::Cond;
use crate::scim::sort::SortKey;

/// Run the reads of one list page (`totalResults` and the rows).
///
/// `in_id_order`: the page is a directory's rows in id order, which its
/// `(directory_id, id)` index yields without sorting. The reads then run in one
/// read-only snapshot (a REPEATABLE READ transaction on PostgreSQL, a read transaction
/// on SQLite), so that the count agrees with the page, and PostgreSQL is told not to
/// sort (`SET LOCAL enable_sort = off`) so that it reads the index in order whatever
/// its statistics say. Otherwise an estimate made before the table was analyzed, or
/// one of a prepared statement's generic plan (the average directory's share of the
/// table), under-counts a large directory: PostgreSQL then fetched every row of the
/// directory through another index and sorted them, wide documents included, with the
/// sort spilled to disk (docs/BENCHMARKS.md, "What was tried": list pages in index order).
///
/// Other pages (a filter, a `sortBy`) keep the planner's choice and run as they are:
/// a filtered list is also how IdPs look a resource up (`externalId eq …`,
/// `displayName eq …`), and a transaction would cost those two more round trips.
pub fn list_reads<T>(
    conn: &mut AnyConn,
    in_id_order: bool,
    f: impl FnOnce(&mut AnyConn) -> CoreResult<T>,
) -> CoreResult<T> {
    if !in_id_order {
        return f(conn);
    }
    transaction_opened_by(
        conn,
        "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; SET LOCAL enable_sort = off",
        f,
    )
}

/// A SCIM list page as the store reads it: the resolved filter, the order and the
/// bounds (`start` from 1, at most `count` rows; see `service::list_paging::page_bounds`).
#[derive(Debug, Clone)]
pub struct ScimPage {
    pub filter: Option<Cond>,
    /// `sortBy`; none: id order.
    pub sort: Option<SortKey>,
    pub descending: bool,
    pub start: i64,
    pub count: i64,
}

impl ScimPage {
    /// Whether the page is a directory's resources in id order (see [`list_reads`]).
    pub fn in_id_order(&self) -> bool {
        self.filter.is_none() && self.sort.is_none()
    }
}

/// The statements of a SCIM list page: the count of what the filter matches, the
/// page, the page's bounds, and whether the page is a directory's resources in id
/// order (see [`list_reads`]).
pub(crate) struct ListStatements {
    pub count: Sql,
    pub page: Sql,
    pub start: i64,
    pub limit: i64,
    pub in_id_order: bool,
}

impl ListStatements {
    /// The statements of `page` over a directory's rows of `table` (as `r`), selecting
    /// `columns`: filtered, ordered by the sort key if any, then by id.
    pub(crate) fn of(
        dialect: Dialect,
        table: &str,
        columns: &str,
        directory_id: &DirectoryId,
        page: &ScimPage,
    ) -> ListStatements {
        let mut wher = Sql::raw(format!(" FROM {table} r WHERE r.directory_id = "));
        wher.text(directory_id);
        if let Some(f) = &page.filter {
            wher.push(" AND (")
                .append(filter_sql::condition(f, dialect, directory_id))
                .push(")");
        }
        let sort_key = page.sort.as_ref().map(|k| filter_sql::sort_key(dialect, k));
        let mut cq = Sql::raw("SELECT COUNT(*) AS n");
        cq.append(wher.clone());
        let mut q = Sql::raw(format!("SELECT {columns}"));
        q.append(wher);
        match sort_key {
            Some(key) => {
                let dir_s = if page.descending { "DESC" } else { "ASC" };
                q.push(" ORDER BY CASE WHEN ")
                    .append(key.clone())
                    .push(" IS NULL THEN 1 ELSE 0 END, ");
                q.append(key).push(format!(" {dir_s}, r.id ASC"));
            }
            None => {
                q.push(" ORDER BY r.id ASC");
            }
        }
        q.push(" LIMIT ")
            .bind(Bind::BigInt(page.count))
            .push(" OFFSET ")
            .bind(Bind::BigInt(page.start - 1));
        ListStatements {
            count: cq,
            page: q,
            start: page.start,
            limit: page.count,
            in_id_order: page.in_id_order(),
        }
    }
}

#[derive(diesel::QueryableByName)]
struct CountRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Run a list page's statements ([`list_reads`]): `totalResults`, then the rows (none
/// past the end or for `count=0`).
pub(crate) fn run_list<T>(
    conn: &mut AnyConn,
    st: ListStatements,
    load: impl FnOnce(&Sql, &mut AnyConn) -> diesel::QueryResult<Vec<T>>,
) -> CoreResult<(i64, Vec<T>)> {
    list_reads(conn, st.in_id_order, |c| {
        let total = st.count.load::<CountRow>(c)?.first().map_or(0, |r| r.n);
        let rows = if st.limit == 0 || st.start > total {
            Vec::new()
        } else {
            load(&st.page, c)?
        };
        Ok((total, rows))
    })
}

/// A keyset page over ids (the vendor API's cursors, WIRE-COMPAT.md §1): which way to
/// read, from which id (exclusive), and how many rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyset {
    /// Ascending ids.
    pub ascending: bool,
    pub cursor: Option<String>,
    pub rows: i64,
}

/// The statement of a keyset page over `base` (`SELECT … FROM t r WHERE …`).
pub(crate) fn keyset_query(base: Sql, k: &Keyset) -> Sql {
    let mut q = base;
    if let Some(c) = &k.cursor {
        q.push(if k.ascending {
            " AND r.id > "
        } else {
            " AND r.id < "
        })
        .text(c.clone());
    }
    q.push(if k.ascending {
        " ORDER BY r.id ASC"
    } else {
        " ORDER BY r.id DESC"
    });
    q.push(" LIMIT ").bind(Bind::BigInt(k.rows));
    q
}

/// `col` is one of `ids`: one array parameter on PostgreSQL (one statement text for
/// any count), an `IN` list padded to a power of two on SQLite.
pub(crate) fn id_in<I: AsRef<str>>(q: &mut Sql, dialect: Dialect, col: &str, ids: &[I]) {
    db_run!(dialect,
        pg => q
            .push(format!("{col} = ANY("))
            .bind(Bind::Array(Column::text(ids)))
            .push("::text[])"),
        sqlite => q
            .push(format!("{col} IN ("))
            .list(padded(ids))
            .push(")"),
    );
}

/// `ids` padded to the next power of two by repeating the last one, so that the
/// statements listing them come in a few shapes that stay prepared (repeating an id
/// changes nothing in an `IN` list or a probe whose rows are collected into a set).
pub(crate) fn padded<I>(ids: &[I]) -> impl Iterator<Item = &I> {
    let pad = ids.len().next_power_of_two() - ids.len();
    ids.iter().chain(
        ids.last()
            .into_iter()
            .flat_map(move |l| std::iter::repeat_n(l, pad)),
    )
}
