//! Users (`directory_users`): found by id, by `userName` or many at once (each with
//! the groups it belongs to when asked), inserted, written back and deleted with
//! their index rows and memberships, and read page by page.

use std::collections::HashMap;

use diesel::prelude::*;

use super::dynsql::{prefix_range, Bind, Column, Sql};
use super::memberships::GROUP_NAME_OF_M;
use super::paging::{self, id_in, Keyset, ListStatements, ScimPage};
use super::schema::directory_users;
use super::{user_attrs, AnyConn, Dialect};
use crate::error::CoreResult;
use crate::ids::{DirectoryGroupId, DirectoryId, DirectoryUserId};
use crate::model::{Ref, UserRow};

/// The columns of `UserRow`, of a `directory_users r`.
pub(crate) const USER_COLUMNS: &str = "r.id, r.directory_id, r.user_name, r.user_name_ci, r.external_id, r.active, r.email_ci, r.state, r.version, r.scim, r.normalized, r.created_at, r.updated_at";

pub(crate) const USER_INSERT_COLUMNS: &str = "id, directory_id, user_name, user_name_ci, \
     external_id, active, email_ci, state, version, scim, normalized, created_at, updated_at";

/// A user of a directory by id.
pub fn find_user(
    conn: &mut AnyConn,
    directory_id: &DirectoryId,
    id: &DirectoryUserId,
) -> CoreResult<Option<UserRow>> {
    Ok(directory_users::table
        .filter(directory_users::id.eq(id))
        .filter(directory_users::directory_id.eq(directory_id))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

/// A user by id, whatever its directory.
pub fn find_user_by_id(conn: &mut AnyConn, id: &DirectoryUserId) -> CoreResult<Option<UserRow>> {
    Ok(directory_users::table
        .filter(directory_users::id.eq(id))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

/// A user with the groups it belongs to (`groups` of its SCIM representation).
#[derive(Debug, Clone)]
pub struct WithGroups {
    pub row: UserRow,
    pub groups: Vec<Ref>,
}

/// How [`find_user_with_groups`] finds a user.
#[derive(Debug, Clone, Copy)]
pub enum UserKey<'a> {
    Id(&'a DirectoryUserId),
    /// `userName`, lowercased (case-insensitive per RFC 7643 §4.1.1).
    UserNameCi(&'a str),
}

/// A row of [`users_with_groups`]: the user, and one group's id and name (NULLs for a
/// user in no group), decoded by position (`Sql::load_rows`).
type UserGroupRow = (UserRow, Option<DirectoryGroupId>, Option<String>);
type UserGroupSql = (
    directory_users::SqlType,
    diesel::sql_types::Nullable<diesel::sql_types::Text>,
    diesel::sql_types::Nullable<diesel::sql_types::Text>,
);

/// `SELECT` users `r` with their groups, one row per membership (a user in no group:
/// one row with NULLs), ending in `WHERE `; the caller adds the condition on `r` and
/// [`USERS_WITH_GROUPS_ORDER`]. Every row of another table is read by index from the
/// user it belongs to, whatever plan is kept: on PostgreSQL the memberships come from a
/// LATERAL subquery (one probe of `memberships_member` per user) and a group's name
/// from a scalar subquery. As joins, a plan made before the tables had statistics (a
/// young database, estimating hundreds of users per userName) hashed every membership
/// of every directory per lookup. SQLite's planner probes the same indexes from a plain
/// join.
fn users_with_groups(dialect: Dialect) -> Sql {
    Sql::raw(db_run!(dialect,
        pg => format!(
            "SELECT {USER_COLUMNS}, g.group_id, g.group_name FROM directory_users r \
             LEFT JOIN LATERAL (SELECT m.group_id, {GROUP_NAME_OF_M} AS group_name \
             FROM memberships m WHERE m.member_id = r.id) g ON true WHERE "
        ),
        sqlite => format!(
            "SELECT {USER_COLUMNS}, m.group_id AS group_id, {GROUP_NAME_OF_M} AS group_name \
             FROM directory_users r LEFT JOIN memberships m ON m.member_id = r.id WHERE "
        ),
    ))
}

const USERS_WITH_GROUPS_ORDER: &str = " ORDER BY r.id, group_id";

/// A user and its groups in one round trip.
pub fn find_user_with_groups(
    c: &mut AnyConn,
    directory_id: &DirectoryId,
    key: UserKey<'_>,
) -> CoreResult<Option<WithGroups>> {
    // Each query names one unique key alone, so that exactly one index can serve it
    // whatever plan PostgreSQL keeps for the prepared statement (see migration
    // `username_index_first`); rows of another directory are dropped here.
    let mut q = users_with_groups(c.dialect());
    match key {
        UserKey::Id(id) => q.push("r.id = ").text(id),
        UserKey::UserNameCi(name) => q.push("r.user_name_ci = ").text(name),
    };
    q.push(USERS_WITH_GROUPS_ORDER);
    let found = q
        .load_rows::<UserGroupSql, UserGroupRow>(c)?
        .into_iter()
        .filter(|(user, _, _)| &user.directory_id == directory_id)
        .collect();
    Ok(fold_groups(found).into_values().next())
}

/// Users and their groups from rows of [`users_with_groups`].
fn fold_groups(rows: Vec<UserGroupRow>) -> HashMap<DirectoryUserId, WithGroups> {
    let mut out: HashMap<DirectoryUserId, WithGroups> = HashMap::new();
    for (user, group_id, group_name) in rows {
        let entry = out.entry(user.id.clone()).or_insert_with(|| WithGroups {
            row: user,
            groups: Vec::new(),
        });
        if let (Some(id), Some(name)) = (group_id, group_name) {
            entry.groups.push(Ref {
                id: id.into_string(),
                display: Some(name),
                kind: "Group",
            });
        }
    }
    out
}

/// Several users of a directory and their groups, by id (one query per 500).
pub fn find_users_with_groups(
    c: &mut AnyConn,
    directory_id: &DirectoryId,
    ids: &[DirectoryUserId],
) -> CoreResult<HashMap<DirectoryUserId, WithGroups>> {
    let mut out = HashMap::with_capacity(ids.len());
    let dialect = c.dialect();
    for chunk in ids.chunks(500) {
        let mut q = users_with_groups(dialect);
        id_in(&mut q, dialect, "r.id", chunk);
        q.push(USERS_WITH_GROUPS_ORDER);
        out.extend(
            fold_groups(q.load_rows::<UserGroupSql, UserGroupRow>(c)?)
                .into_iter()
                .filter(|(_, u)| &u.row.directory_id == directory_id),
        );
    }
    Ok(out)
}

/// Users of a directory by id (one query per 500), in the order given, skipping missing
/// ones. The query names ids only, so that the primary key is the one index it can use
/// (ids are unique across directories; another directory's user is dropped after):
/// with `directory_id = ?` beside it, and statistics not yet caught up with a directory
/// that just grew, PostgreSQL scanned the directory's users by another index.
pub fn find_users<I: AsRef<str>>(
    c: &mut AnyConn,
    directory_id: &DirectoryId,
    ids: &[I],
) -> CoreResult<Vec<UserRow>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let rows: Vec<UserRow> = directory_users::table
            .filter(directory_users::id.eq_any(chunk.iter().map(AsRef::as_ref)))
            .select(UserRow::as_select())
            .load(c)?;
        out.extend(rows.into_iter().filter(|u| &u.directory_id == directory_id));
    }
    let pos: HashMap<&str, usize> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_ref(), i))
        .collect();
    out.sort_by_key(|r| pos.get(r.id.as_str()).copied().unwrap_or(usize::MAX));
    Ok(out)
}

/// Users named in a group's membership change (one query per 500), each with whether
/// it is a member of `group_id` already: the users and their membership of the group
/// in one query, a primary-key probe of `memberships` per user whatever the group's
/// size. By primary key only (see [`find_users`]): the caller drops another
/// directory's users.
pub fn find_users_with_membership(
    c: &mut AnyConn,
    group_id: &DirectoryGroupId,
    ids: &[String],
) -> CoreResult<Vec<(UserRow, bool)>> {
    let dialect = c.dialect();
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let mut q = Sql::raw(format!("SELECT {USER_COLUMNS}, "));
        db_run!(dialect,
            // A LATERAL `LIMIT 1` cannot be turned into a hashed subplan, which would
            // read every membership of the group per PATCH (as `EXISTS` did under a
            // plan kept from when the group was small): one primary-key probe per user.
            pg => q
                .push("m.x IS NOT NULL AS member FROM directory_users r LEFT JOIN LATERAL (SELECT 1 AS x FROM memberships m WHERE m.group_id = ")
                .text(group_id)
                .push(" AND m.member_id = r.id LIMIT 1) AS m ON true WHERE "),
            sqlite => q
                .push("EXISTS (SELECT 1 FROM memberships m WHERE m.group_id = ")
                .text(group_id)
                .push(" AND m.member_id = r.id) AS member FROM directory_users r WHERE "),
        );
        id_in(&mut q, dialect, "r.id", chunk);
        out.extend(
            q.load_rows::<(directory_users::SqlType, diesel::sql_types::Bool), (UserRow, bool)>(c)?,
        );
    }
    Ok(out)
}

/// The users holding a `userName` (lowercased) in any directory, as (id, directory
/// id): by the unique userName index alone (see [`find_user_with_groups`]).
pub fn user_name_holders(
    c: &mut AnyConn,
    user_name_ci: &str,
) -> CoreResult<Vec<(DirectoryUserId, DirectoryId)>> {
    Ok(directory_users::table
        .filter(directory_users::user_name_ci.eq(user_name_ci))
        .select((directory_users::id, directory_users::directory_id))
        .load(c)?)
}

/// The values of a user row, in the order of `USER_INSERT_COLUMNS`.
fn user_values(row: &UserRow) -> [Option<Bind>; 13] {
    [
        Some(Bind::Text(String::from(&row.id))),
        Some(Bind::Text(String::from(&row.directory_id))),
        Some(Bind::Text(row.user_name.clone())),
        Some(Bind::Text(row.user_name_ci.clone())),
        row.external_id.clone().map(Bind::Text),
        Some(Bind::Bool(row.active)),
        row.email_ci.clone().map(Bind::Text),
        Some(Bind::Text(row.state.clone())),
        Some(Bind::BigInt(row.version)),
        Some(Bind::Text(row.scim.clone())),
        Some(Bind::Text(row.normalized.clone())),
        Some(Bind::Timestamp(row.created_at)),
        Some(Bind::Timestamp(row.updated_at)),
    ]
}

/// User rows column by column (PostgreSQL arrays), in the order of `USER_INSERT_COLUMNS`.
fn user_columns<'a>(rows: impl Iterator<Item = &'a UserRow>) -> diesel::QueryResult<Vec<Column>> {
    let (text, opt) = (|| Column::Text(vec![]), || Column::OptText(vec![]));
    Column::transpose(
        rows.map(user_values),
        [
            text(),
            text(),
            text(),
            text(),
            opt(),
            Column::Bool(vec![]),
            opt(),
            text(),
            Column::BigInt(vec![]),
            text(),
            text(),
            Column::Timestamp(vec![]),
            Column::Timestamp(vec![]),
        ],
    )
}

/// A new user with its index rows.
pub type NewUser = (UserRow, Vec<crate::model::AttrRow>);

/// Insert new users and their index rows. On PostgreSQL users and index rows go in
/// one statement (a data-modifying CTE over `unnest` of one array per column): one
/// round trip, and one prepared statement, for a created user or a batch of them (see
/// `service::user_write_batch`). SQLite lists the rows as `VALUES`.
pub fn insert_users(c: &mut AnyConn, users: &[NewUser]) -> CoreResult<()> {
    if users.is_empty() {
        return Ok(());
    }
    db_run!(c,
        pg => {
            let mut q = Sql::raw("WITH ");
            q.append(insert_users_ctes(users, "")?).push(" SELECT 1");
            q.execute(c)?;
        },
        sqlite => {
            let mut q = Sql::raw(format!(
                "INSERT INTO directory_users ({USER_INSERT_COLUMNS}) VALUES "
            ));
            for (i, (row, _)) in users.iter().enumerate() {
                if i > 0 {
                    q.push(", ");
                }
                q.tuple(user_values(row), "NULL");
            }
            if users.len() > 1 {
                q = q.uncached();
            }
            q.execute(c)?;
            user_attrs::insert_each(c, users.iter().flat_map(|(_, a)| a.iter()))?;
        },
    );
    Ok(())
}

/// The inserts of created users and their index rows, as the data-modifying CTEs
/// `u AS (…), a AS (…)` of one PostgreSQL statement (see [`insert_users`], and
/// `events::append_with_users`, which adds a batch's events to the same statement);
/// `guard` ends each insert's `SELECT` (`events::AFTER_SEQ` there, else empty).
pub(crate) fn insert_users_ctes(users: &[NewUser], guard: &str) -> diesel::QueryResult<Sql> {
    let mut q = Sql::raw(format!(
        "u AS (INSERT INTO directory_users ({USER_INSERT_COLUMNS}) SELECT * FROM "
    ));
    q.unnest(user_columns(users.iter().map(|(u, _)| u))?)
        .push(guard)
        .push(format!(
            "), a AS (INSERT INTO user_attrs ({}) SELECT * FROM ",
            user_attrs::ATTR_INSERT_COLUMNS
        ))
        .unnest(user_attrs::attr_columns(
            users.iter().flat_map(|(_, a)| a.iter()),
        )?)
        .push(guard)
        .push(")");
    Ok(q)
}

/// Write an updated user row (one prepared statement, see `Sql::update_by_id`).
pub fn update_user(c: &mut AnyConn, row: &UserRow) -> CoreResult<()> {
    let [_, _, user_name, user_name_ci, external_id, active, email_ci, state, version, scim, normalized, _, updated_at] =
        user_values(row);
    Sql::update_by_id(
        "directory_users",
        [
            ("user_name", user_name),
            ("user_name_ci", user_name_ci),
            ("external_id", external_id),
            ("active", active),
            ("email_ci", email_ci),
            ("state", state),
            ("version", version),
            ("scim", scim),
            ("normalized", normalized),
            ("updated_at", updated_at),
        ],
        &row.id,
    )
    .execute(c)?;
    Ok(())
}

/// Write back whole user rows by id, in one statement (PostgreSQL: write batches exist
/// on PostgreSQL only, see `service::user_write_batch`); a no-op without any.
pub fn update_users(c: &mut AnyConn, rows: Vec<UserRow>) -> CoreResult<()> {
    if !rows.is_empty() {
        update_rows(rows)?.execute(c)?;
    }
    Ok(())
}

/// `UPDATE … FROM unnest(…)` of whole user rows, by id: one statement text for any
/// number of rows (PostgreSQL).
fn update_rows(rows: Vec<UserRow>) -> diesel::QueryResult<Sql> {
    let mut q = Sql::raw(
        "UPDATE directory_users AS u SET user_name = v.user_name, user_name_ci = v.user_name_ci, \
         external_id = v.external_id, active = v.active, email_ci = v.email_ci, state = v.state, \
         version = v.version, scim = v.scim, normalized = v.normalized, updated_at = v.updated_at \
         FROM ",
    );
    q.unnest(user_columns(rows.iter())?)
        .push(format!(" AS v({USER_INSERT_COLUMNS}) WHERE u.id = v.id"));
    Ok(q)
}

/// Set a user's normalized fields and modification time (its roles changed).
pub fn set_normalized(
    c: &mut AnyConn,
    id: &DirectoryUserId,
    normalized: &str,
    at: chrono::NaiveDateTime,
) -> CoreResult<()> {
    diesel::update(directory_users::table.filter(directory_users::id.eq(id)))
        .set((
            directory_users::normalized.eq(normalized),
            directory_users::updated_at.eq(at),
        ))
        .execute(c)?;
    Ok(())
}

/// Set a user's normalized fields, with the email they index, and modification time
/// (the directory's attribute mappings changed).
pub fn set_normalized_and_email(c: &mut AnyConn, row: &UserRow) -> CoreResult<()> {
    diesel::update(directory_users::table.filter(directory_users::id.eq(&row.id)))
        .set((
            directory_users::normalized.eq(&row.normalized),
            directory_users::email_ci.eq(&row.email_ci),
            directory_users::updated_at.eq(row.updated_at),
        ))
        .execute(c)?;
    Ok(())
}

/// Delete users with their filter-index rows and memberships: on PostgreSQL one
/// statement (the memberships and index rows as data-modifying CTEs, which always run
/// to completion), on SQLite a statement per table.
pub fn delete_users(c: &mut AnyConn, ids: &[DirectoryUserId]) -> CoreResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    db_run!(c,
        pg => {
            let ids = || Bind::Array(Column::Text(ids.iter().map(String::from).collect()));
            let mut q = Sql::raw("WITH m AS (DELETE FROM memberships WHERE member_id = ANY(");
            q.bind(ids())
                .push("::text[])), a AS (DELETE FROM user_attrs WHERE user_id = ANY(")
                .bind(ids())
                .push("::text[])) DELETE FROM directory_users WHERE id = ANY(")
                .bind(ids())
                .push("::text[])");
            q.execute(c)?;
        },
        sqlite => {
            use super::schema::{memberships, user_attrs};
            for chunk in ids.chunks(500) {
                diesel::delete(memberships::table.filter(memberships::member_id.eq_any(chunk)))
                    .execute(c)?;
                diesel::delete(user_attrs::table.filter(user_attrs::user_id.eq_any(chunk)))
                    .execute(c)?;
                diesel::delete(directory_users::table.filter(directory_users::id.eq_any(chunk)))
                    .execute(c)?;
            }
        },
    );
    Ok(())
}

/// A directory's users in id order after `after` (keyset paging of whole directories).
pub fn users_page_after(
    c: &mut AnyConn,
    directory_id: &DirectoryId,
    after: Option<&DirectoryUserId>,
    limit: i64,
) -> CoreResult<Vec<UserRow>> {
    Ok(directory_users::table
        .filter(directory_users::directory_id.eq(directory_id))
        .filter(directory_users::id.gt(after.map_or("", DirectoryUserId::as_str)))
        .order(directory_users::id.asc())
        .limit(limit)
        .select(UserRow::as_select())
        .load(c)?)
}

/// [`ListStatements`] for a SCIM page of a directory's users.
pub(crate) fn list_statements(
    dialect: Dialect,
    directory_id: &DirectoryId,
    page: &ScimPage,
) -> ListStatements {
    ListStatements::of(dialect, "directory_users", USER_COLUMNS, directory_id, page)
}

/// A SCIM page of a directory's users: `totalResults` and the page's rows.
pub fn list_page(
    c: &mut AnyConn,
    directory_id: &DirectoryId,
    page: &ScimPage,
) -> CoreResult<(i64, Vec<UserRow>)> {
    let st = list_statements(c.dialect(), directory_id, page);
    paging::run_list(c, st, |q, c| {
        q.load_rows::<directory_users::SqlType, UserRow>(c)
    })
}

/// Which users a vendor API page lists (`GET /directory_users`, WIRE-COMPAT.md §1).
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub directory: Option<String>,
    pub group: Option<String>,
    pub idp_id: Option<String>,
    pub email: Option<String>,
    /// Words that must each start (any case) one of the user's names
    /// (`name.givenName`, `name.familyName`, `name.formatted`, `displayName`), read
    /// from the filter index (`user_attrs`) of the directory ([`name_words`]); needs
    /// `directory`. The admin UI's search; not a vendor API parameter.
    pub name: Option<String>,
    /// Only active (`true`) or inactive (`false`) users. The admin UI's filter.
    pub active: Option<bool>,
}

impl UserFilter {
    /// Whether the users are a directory's users read in id order (see
    /// `paging::list_reads`): from its `(directory_id, id)` index, or the partial one
    /// of its inactive users, each tested against the common words of a name search
    /// (`words`, from [`name_words`]).
    pub fn in_id_order(&self, words: &[NameWord]) -> bool {
        self.directory.is_some()
            && self.group.is_none()
            && self.email.is_none()
            && self.idp_id.is_none()
            && words.iter().all(|w| w.common)
    }
}

/// The index keys (`scim::index::key`) of the attributes a name search reads.
const NAME_ATTRS: [&str; 4] = [
    "name.givenname",
    "name.familyname",
    "name.formatted",
    "displayname",
];

/// A word of a name search: the names it starts, as a range of lower-cased values in
/// code-point order ([`prefix_range`]), and whether it is common in the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameWord {
    low: String,
    high: Option<String>,
    /// It starts names of at least one user in [`COMMON_SHARE`] of the directory (at
    /// least [`COMMON_AT_LEAST`]): a page of matches is found sooner by reading the
    /// directory's users in id order and testing each (at most ~50 × `COMMON_SHARE`
    /// users read for a page of 50) than by collecting every match and sorting them
    /// (673 ms p95 on PostgreSQL for a word that starts a name of all 100,000 users).
    pub common: bool,
}

/// A word is common when it starts names of one user in this many (see [`NameWord`]).
const COMMON_SHARE: i64 = 20;
/// … and of at least this many users.
const COMMON_AT_LEAST: i64 = 1_000;

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// The words of `f.name` (none without a name or a directory), each counted in the
/// directory's name rows up to the threshold of being common: at most that many index
/// entries read per name attribute.
pub fn name_words(c: &mut AnyConn, f: &UserFilter) -> CoreResult<Vec<NameWord>> {
    let (Some(words), Some(d)) = (&f.name, &f.directory) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let mut threshold = None;
    for w in words.split_whitespace() {
        let (low, high) = prefix_range(&w.to_lowercase());
        let at_least = match threshold {
            Some(t) => t,
            None => {
                // the directory's users as counted by the writes (none: not an id)
                let users = match DirectoryId::parse(d) {
                    Ok(id) => {
                        let (u, _) = super::directories::user_and_group_counts(c, &id)?;
                        u.active + u.inactive
                    }
                    Err(_) => 0,
                };
                *threshold.insert((users / COMMON_SHARE).max(COMMON_AT_LEAST))
            }
        };
        // the sum of one capped count per name attribute (each a range of the index)
        let mut q = Sql::raw("SELECT ");
        for (i, attr) in NAME_ATTRS.iter().enumerate() {
            if i > 0 {
                q.push(" + ");
            }
            q.push("(SELECT count(*) FROM (SELECT 1 AS x FROM user_attrs a WHERE ")
                .append(name_range(d, attr, &low, high.as_deref()))
                .push(format!(" LIMIT {at_least}) t{i})"));
        }
        q.push(" AS n");
        let n = q.load::<Count>(c)?.first().map_or(0, |r| r.n);
        out.push(NameWord {
            low,
            high,
            common: n >= at_least,
        });
    }
    Ok(out)
}

/// `a.directory_id = d AND a.attr = attr AND a.value_ci` in `[low, high)`: a range of
/// the (directory_id, attr, value_ci) index, value_ci being compared in code-point
/// order on both backends (the column is COLLATE "C" on PostgreSQL, migration
/// 2026-12-10-100000_admin_search).
fn name_range(d: &str, attr: &str, low: &str, high: Option<&str>) -> Sql {
    let mut q = Sql::raw("a.directory_id = ");
    q.text(d.to_string())
        .push(format!(" AND a.attr = '{attr}' AND a.value_ci >= "))
        .text(low.to_string());
    if let Some(h) = high {
        q.push(" AND a.value_ci < ").text(h.to_string());
    }
    q
}

/// The users `f` selects (`SELECT … FROM directory_users r WHERE …`, for
/// `paging::keyset_query`), its name search as `words` ([`name_words`]);
/// `active_only`: inactive users are left out.
pub(crate) fn users_query(f: &UserFilter, words: &[NameWord], active_only: bool) -> Sql {
    let mut q = Sql::raw(format!(
        "SELECT {USER_COLUMNS} FROM directory_users r WHERE 1 = 1"
    ));
    if let Some(d) = &f.directory {
        q.push(" AND r.directory_id = ").text(d.clone());
    }
    if let Some(g) = &f.group {
        q.push(" AND r.id IN (SELECT m.member_id FROM memberships m WHERE m.group_id = ")
            .text(g.clone())
            .push(")");
    }
    if let Some(e) = &f.email {
        q.push(" AND r.email_ci = ").text(e.to_lowercase());
    }
    if let Some(i) = &f.idp_id {
        q.push(" AND r.external_id = ").text(i.clone());
    }
    if let Some(d) = &f.directory {
        for w in words {
            if w.common {
                // tested per user read: a scalar subquery is never turned into a join,
                // one probe of the (user_id, attr) index
                q.push(format!(
                    " AND (SELECT 1 FROM user_attrs a WHERE a.user_id = r.id AND a.attr IN ('{}') AND a.value_ci >= ",
                    NAME_ATTRS.join("', '")
                ))
                .text(w.low.clone());
                if let Some(h) = &w.high {
                    q.push(" AND a.value_ci < ").text(h.clone());
                }
                q.push(" LIMIT 1) IS NOT NULL");
            } else {
                // the few users it starts a name of, per name attribute a range with
                // the index's whole key: PostgreSQL read `attr IN (…)`, or an OR of the
                // attributes (it factors the common range out), as a filter over every
                // index entry of the directory when its tables had no statistics yet
                q.push(" AND r.id IN (");
                for (i, attr) in NAME_ATTRS.iter().enumerate() {
                    if i > 0 {
                        q.push(" UNION ALL ");
                    }
                    q.push("SELECT a.user_id FROM user_attrs a WHERE ")
                        .append(name_range(d, attr, &w.low, w.high.as_deref()));
                }
                q.push(")");
            }
        }
    }
    // as literal conditions, which the partial index of the inactive users
    // (`users_dir_inactive`) is known to serve in a generic plan too
    match f.active {
        Some(true) => {
            q.push(" AND r.active");
        }
        Some(false) => {
            q.push(" AND NOT r.active");
        }
        None => {}
    }
    if active_only {
        q.push(" AND r.active = ").bind(Bind::Bool(true));
    }
    q
}

/// A keyset page of the users `f` selects, in the keyset's order.
pub fn users_page(
    c: &mut AnyConn,
    f: &UserFilter,
    words: &[NameWord],
    active_only: bool,
    k: &Keyset,
) -> CoreResult<Vec<UserRow>> {
    Ok(paging::keyset_query(users_query(f, words, active_only), k).load(c)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Sql::load_rows` decodes users by position: `USER_COLUMNS` (what the hot reads
    /// select) must list the table's columns in the order of `UserRow`'s fields, which
    /// are the schema's (diesel's `Queryable` for the table).
    #[test]
    fn user_columns_follow_the_table() {
        let sql = diesel::debug_query::<diesel::pg::Pg, _>(
            &directory_users::table.select(directory_users::all_columns),
        )
        .to_string();
        let table: Vec<String> = sql
            .trim_start_matches("SELECT ")
            .split(" FROM")
            .next()
            .unwrap_or_default()
            .split(", ")
            .map(|c| c.replace("\"directory_users\".", "r.").replace('"', ""))
            .collect();
        let ours: Vec<&str> = USER_COLUMNS.split(", ").collect();
        assert_eq!(ours, table);
        assert_eq!(table.len(), 13);
    }

    fn row(id: &str, ext: Option<&str>) -> UserRow {
        let t = chrono::NaiveDateTime::default();
        UserRow {
            id: DirectoryUserId::test(id),
            directory_id: DirectoryId::test("d"),
            user_name: "U".into(),
            user_name_ci: "u".into(),
            external_id: ext.map(str::to_string),
            active: false,
            email_ci: None,
            state: "inactive".into(),
            version: 2,
            scim: "{}".into(),
            normalized: "{}".into(),
            created_at: t,
            updated_at: t,
        }
    }

    #[test]
    fn update_rows_has_one_statement_text_for_any_number_of_rows() {
        let one = update_rows(vec![row("a", Some("x"))]).unwrap_or_default();
        let two = update_rows(vec![row("a", Some("x")), row("b", None)]).unwrap_or_default();
        let sql = two.render(Dialect::Pg);
        assert_eq!(one.render(Dialect::Pg), sql, "prepared once");
        assert_eq!(two.bind_count(), 13, "one array per column");
        assert!(
            sql.contains("FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::boolean[], $7::text[]"),
            "{sql}"
        );
        assert!(sql.ends_with("WHERE u.id = v.id"), "{sql}");
    }
}
