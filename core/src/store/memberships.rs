//! Group membership (`memberships`, primary key `(group_id, member_id)`): a change of
//! members touches the rows it names, whatever the group's size; member lists read
//! each member's name by primary key from the membership it belongs to.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::dynsql::{self, Bind, Sql};
use super::paging::{id_in, padded};
use super::schema::memberships;
use super::{AnyConn, Dialect};
use crate::error::CoreResult;
use crate::ids::{DirectoryGroupId, DirectoryId, DirectoryUserId};
use crate::model::{MembershipRow, Ref};

/// A group's name by primary key, per membership row `m`.
pub(crate) const GROUP_NAME_OF_M: &str =
    "(SELECT x.display_name FROM directory_groups x WHERE x.id = m.group_id)";

/// Each member type with the scalar subquery that reads a member's name by primary key.
const MEMBER_NAMES: [(&str, &str); 2] = [
    (
        "User",
        "(SELECT x.user_name FROM directory_users x WHERE x.id = m.member_id)",
    ),
    (
        "Group",
        "(SELECT x.display_name FROM directory_groups x WHERE x.id = m.member_id)",
    ),
];

/// A membership as the member lists read it.
#[derive(diesel::QueryableByName)]
struct MemberRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    group_id: DirectoryGroupId,
    #[diesel(sql_type = diesel::sql_types::Text)]
    member_id: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    name: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    display: Option<String>,
}

impl MemberRow {
    /// The group and the member's reference. `display`: what the client set for the
    /// member, else the user's userName / the group's displayName; a member that no
    /// longer exists is none.
    fn into_ref(self, kind: &'static str) -> Option<(DirectoryGroupId, Ref)> {
        let n = self.name?;
        Some((
            self.group_id,
            Ref {
                id: self.member_id,
                display: Some(self.display.unwrap_or(n)),
                kind,
            },
        ))
    }
}

/// The members of several groups (a list page), by group, each as
/// [`members_of_group`] gives them: one query per member type for the whole page
/// instead of two per group.
pub fn members_of_groups(
    conn: &mut AnyConn,
    group_ids: &[DirectoryGroupId],
) -> CoreResult<HashMap<DirectoryGroupId, Vec<Ref>>> {
    let dialect = conn.dialect();
    let mut out: HashMap<DirectoryGroupId, Vec<Ref>> = HashMap::new();
    for chunk in group_ids.chunks(500) {
        for (kind, name) in MEMBER_NAMES {
            let mut q = Sql::raw(format!(
                "SELECT m.group_id, m.member_id, {name} AS name, m.display FROM memberships m WHERE "
            ));
            id_in(&mut q, dialect, "m.group_id", chunk);
            q.push(" AND m.member_type = ")
                .text(kind)
                .push(" ORDER BY m.group_id, m.member_id");
            for (g, r) in q
                .load::<MemberRow>(conn)?
                .into_iter()
                .filter_map(|r| r.into_ref(kind))
            {
                out.entry(g).or_default().push(r);
            }
        }
    }
    Ok(out)
}

/// Members of a group, users then groups, each in id order. Each member's name is read
/// by primary key per membership, in the group's own index order: as a join, a plan
/// made before the tables had statistics could hash every user of every directory to
/// render one small group.
pub fn members_of_group(conn: &mut AnyConn, group_id: &DirectoryGroupId) -> CoreResult<Vec<Ref>> {
    let mut out = Vec::new();
    for (kind, name) in MEMBER_NAMES {
        let mut q = Sql::raw(format!(
            "SELECT m.group_id, m.member_id, {name} AS name, m.display FROM memberships m WHERE m.group_id = "
        ));
        q.text(group_id)
            .push(" AND m.member_type = ")
            .text(kind)
            .push(" ORDER BY m.member_id");
        out.extend(
            q.load::<MemberRow>(conn)?
                .into_iter()
                .filter_map(|r| r.into_ref(kind).map(|(_, r)| r)),
        );
    }
    Ok(out)
}

/// The groups users belong to, as (user id, group) in user and group id order, for the
/// SCIM `groups` attribute (each name by primary key, see `users::users_with_groups`).
pub fn groups_of_users(
    conn: &mut AnyConn,
    user_ids: &[DirectoryUserId],
) -> CoreResult<Vec<(DirectoryUserId, Ref)>> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        member_id: DirectoryUserId,
        #[diesel(sql_type = diesel::sql_types::Text)]
        group_id: DirectoryGroupId,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        group_name: Option<String>,
    }
    let dialect = conn.dialect();
    let mut out = Vec::new();
    for chunk in user_ids.chunks(500) {
        let mut q = Sql::raw(format!(
            "SELECT m.member_id, m.group_id, {GROUP_NAME_OF_M} AS group_name FROM memberships m WHERE "
        ));
        id_in(&mut q, dialect, "m.member_id", chunk);
        q.push(" ORDER BY m.member_id, m.group_id");
        out.extend(q.load::<Row>(conn)?.into_iter().filter_map(|r| {
            let display = Some(r.group_name?);
            Some((
                r.member_id,
                Ref {
                    id: r.group_id.into_string(),
                    display,
                    kind: "Group",
                },
            ))
        }));
    }
    Ok(out)
}

/// The ids of the groups users belong to, as (user id, group id) in user and group id
/// order: the memberships of a whole page of users in one query per 500.
pub fn group_ids_of_users(
    conn: &mut AnyConn,
    user_ids: &[DirectoryUserId],
) -> CoreResult<Vec<(DirectoryUserId, DirectoryGroupId)>> {
    #[derive(diesel::QueryableByName)]
    struct Member {
        #[diesel(sql_type = diesel::sql_types::Text)]
        member_id: DirectoryUserId,
        #[diesel(sql_type = diesel::sql_types::Text)]
        group_id: DirectoryGroupId,
    }
    let dialect = conn.dialect();
    let mut out = Vec::new();
    for chunk in user_ids.chunks(500) {
        let mut q = Sql::raw("SELECT m.member_id, m.group_id FROM memberships m WHERE ");
        id_in(&mut q, dialect, "m.member_id", chunk);
        q.push(" ORDER BY m.member_id, m.group_id");
        out.extend(
            q.load::<Member>(conn)?
                .into_iter()
                .map(|m| (m.member_id, m.group_id)),
        );
    }
    Ok(out)
}

#[derive(diesel::QueryableByName)]
struct MemberIdRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    member_id: String,
}

/// The named members of a group that exist, as one probe of the primary key per id,
/// whatever the group's size. On PostgreSQL the probes are forced by a LATERAL
/// `LIMIT 1` subquery: with `group_id = ? AND member_id IN (…)` and statistics not yet
/// caught up with a group that just grew, the planner scanned the whole group.
/// `select` is the projected column list of the matching `memberships` row `m`.
fn members_probe(
    dialect: Dialect,
    group_id: &DirectoryGroupId,
    ids: &[String],
    select: &str,
) -> Sql {
    db_run!(dialect,
        pg => {
            let mut q = Sql::raw(format!("SELECT {select} FROM "));
            q.unnest(vec![dynsql::Column::Text(ids.to_vec())]);
            q.push(" AS v(id) CROSS JOIN LATERAL (SELECT m.member_id, m.ctid FROM memberships m WHERE m.group_id = ")
                .text(group_id)
                .push(" AND m.member_id = v.id LIMIT 1) AS m");
            q
        },
        sqlite => {
            let mut q = Sql::raw(format!(
                "SELECT {select} FROM memberships m WHERE m.group_id = "
            ));
            q.text(group_id)
                .push(" AND m.member_id IN (")
                .list(padded(ids))
                .push(")");
            q
        },
    )
}

/// Which of `ids` are members of the group (see [`members_probe`]).
pub fn existing_members(
    c: &mut AnyConn,
    group_id: &DirectoryGroupId,
    ids: &[String],
) -> CoreResult<HashSet<String>> {
    let mut out = HashSet::new();
    let dialect = c.dialect();
    for chunk in ids.chunks(500) {
        let rows: Vec<MemberIdRow> =
            members_probe(dialect, group_id, chunk, "m.member_id").load(c)?;
        out.extend(rows.into_iter().map(|r| r.member_id));
    }
    Ok(out)
}

/// A group's new version and modification time, written with a change of its members.
pub struct Bump<'a> {
    pub group_id: &'a DirectoryGroupId,
    pub version: i64,
    pub at: NaiveDateTime,
}

impl Bump<'_> {
    /// The PostgreSQL CTE `bump AS (UPDATE directory_groups … WHERE id = … <and>)`.
    fn cte(&self, q: &mut Sql, and: &str) {
        q.push("bump AS (UPDATE directory_groups SET version = ")
            .bind(Bind::BigInt(self.version))
            .push(", updated_at = ")
            .bind(Bind::Timestamp(self.at))
            .push(" WHERE id = ")
            .text(self.group_id)
            .push(and)
            .push(")");
    }
}

/// Delete the named memberships of a group (same probing as `members_probe`) and
/// return the ids of the members deleted. With `bump`, the group's version is set in
/// the same statement on PostgreSQL when a member was deleted (a data-modifying
/// `WITH`, as [`insert_memberships`]); the returned flag says whether it was. SQLite
/// leaves the version to the caller.
pub fn delete_members(
    c: &mut AnyConn,
    group_id: &DirectoryGroupId,
    ids: &[String],
    bump: Option<Bump<'_>>,
) -> CoreResult<(Vec<String>, bool)> {
    let dialect = c.dialect();
    let mut gone = Vec::new();
    let mut bumped = false;
    for chunk in ids.chunks(500) {
        let q = db_run!(dialect,
            pg => {
                let mut q = Sql::raw("WITH d AS (DELETE FROM memberships WHERE ctid IN (");
                q.append(members_probe(dialect, group_id, chunk, "m.ctid"))
                    .push(") RETURNING member_id)");
                if let (Some(b), false) = (&bump, bumped) {
                    q.push(", ");
                    b.cte(&mut q, " AND EXISTS (SELECT 1 FROM d)");
                }
                q.push(" SELECT member_id FROM d");
                q
            },
            sqlite => {
                let mut q = Sql::raw("DELETE FROM memberships WHERE rowid IN (");
                q.append(members_probe(dialect, group_id, chunk, "m.rowid"))
                    .push(") RETURNING member_id");
                q
            },
        );
        let rows: Vec<MemberIdRow> = q.load(c)?;
        let bumps_here = db_run!(dialect, pg => bump.is_some(), sqlite => false);
        if bumps_here && !rows.is_empty() {
            bumped = true;
        }
        gone.extend(rows.into_iter().map(|r| r.member_id));
    }
    Ok((gone, bumped))
}

/// The values of a membership row, in the order of `MEMBERSHIP_COLUMNS`.
fn membership_values(r: &MembershipRow) -> [Option<Bind>; 6] {
    [
        Some(Bind::Text(String::from(&r.group_id))),
        Some(Bind::Text(r.member_id.clone())),
        Some(Bind::Text(String::from(&r.directory_id))),
        Some(Bind::Text(r.member_type.clone())),
        Some(Bind::Timestamp(r.created_at)),
        r.display.clone().map(Bind::Text),
    ]
}

const MEMBERSHIP_COLUMNS: &str =
    "group_id, member_id, directory_id, member_type, created_at, display";

/// Insert membership rows and, with `bump`, set the group's version in the same
/// statement on PostgreSQL (a data-modifying `WITH`: one round trip less per
/// membership PATCH), in a statement of its own on SQLite.
pub fn insert_memberships(
    c: &mut AnyConn,
    rows: &[MembershipRow],
    bump: Option<Bump<'_>>,
) -> CoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    db_run!(c,
        pg => {
            // one statement text for any number of rows (see `Sql::unnest`)
            let text = || dynsql::Column::Text(vec![]);
            let columns = dynsql::Column::transpose(
                rows.iter().map(membership_values),
                [
                    text(),
                    text(),
                    text(),
                    text(),
                    dynsql::Column::Timestamp(vec![]),
                    dynsql::Column::OptText(vec![]),
                ],
            )?;
            let mut q = Sql::raw("");
            if let Some(b) = bump {
                q.push("WITH ");
                b.cte(&mut q, "");
                q.push(" ");
            }
            q.push(format!(
                "INSERT INTO memberships ({MEMBERSHIP_COLUMNS}) SELECT * FROM "
            ));
            q.unnest(columns);
            q.execute(c)?;
        },
        sqlite => {
            if let Some(b) = bump {
                super::groups::set_group_version(c, b.group_id, b.version, b.at)?;
            }
            for chunk in rows.chunks(500) {
                let mut q = Sql::raw(format!(
                    "INSERT INTO memberships ({MEMBERSHIP_COLUMNS}) VALUES "
                ));
                for (i, r) in chunk.iter().enumerate() {
                    if i > 0 {
                        q.push(", ");
                    }
                    q.tuple(membership_values(r), "NULL");
                }
                q.execute(c)?;
            }
        },
    );
    Ok(())
}

/// Set the `display` of a membership unless it already holds it; whether it changed.
pub fn set_display(
    c: &mut AnyConn,
    group_id: &DirectoryGroupId,
    member_id: &str,
    display: &str,
) -> CoreResult<bool> {
    let n = diesel::update(
        memberships::table
            .filter(memberships::group_id.eq(group_id))
            .filter(memberships::member_id.eq(member_id))
            .filter(
                memberships::display
                    .is_null()
                    .or(memberships::display.ne(display)),
            ),
    )
    .set(memberships::display.eq(display))
    .execute(c)?;
    Ok(n > 0)
}

/// The ids of every member of a group, in id order.
pub fn member_ids(c: &mut AnyConn, group_id: &DirectoryGroupId) -> CoreResult<Vec<String>> {
    Ok(memberships::table
        .filter(memberships::group_id.eq(group_id))
        .order(memberships::member_id.asc())
        .select(memberships::member_id)
        .load(c)?)
}

/// The ids of the users that are members of a group.
pub fn user_member_ids(
    c: &mut AnyConn,
    group_id: &DirectoryGroupId,
) -> CoreResult<Vec<DirectoryUserId>> {
    Ok(memberships::table
        .filter(memberships::group_id.eq(group_id))
        .filter(memberships::member_type.eq("User"))
        .select(memberships::member_id)
        .load(c)?)
}

/// How many members a group has.
pub fn member_count(conn: &mut AnyConn, group_id: &DirectoryGroupId) -> CoreResult<i64> {
    Ok(memberships::table
        .filter(memberships::group_id.eq(group_id))
        .count()
        .get_result(conn)?)
}

/// A directory's memberships after `(group_id, member_id)` in that order, as
/// (group id, member id, member type) (keyset paging of whole directories).
pub fn memberships_page_after(
    c: &mut AnyConn,
    directory_id: &DirectoryId,
    (group_id, member_id): (&str, &str),
    limit: i64,
) -> CoreResult<Vec<(DirectoryGroupId, String, String)>> {
    Ok(memberships::table
        .filter(memberships::directory_id.eq(directory_id))
        .filter(
            memberships::group_id.gt(group_id).or(memberships::group_id
                .eq(group_id)
                .and(memberships::member_id.gt(member_id))),
        )
        .order((memberships::group_id.asc(), memberships::member_id.asc()))
        .limit(limit)
        .select((
            memberships::group_id,
            memberships::member_id,
            memberships::member_type,
        ))
        .load(c)?)
}
