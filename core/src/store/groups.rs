//! Groups (`directory_groups`): found by id, inserted, written back, deleted with
//! their memberships and role mappings, and read page by page. Their members are
//! `memberships`'.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::dynsql::{like_escape, Bind, Sql};
use super::paging::{self, Keyset, ListStatements, ScimPage};
use super::schema::{directory_groups, memberships, role_mappings};
use super::{AnyConn, Dialect};
use crate::error::CoreResult;
use crate::ids::{DirectoryGroupId, DirectoryId, OrganizationId};
use crate::model::GroupRow;

/// The columns of `GroupRow`, of a `directory_groups r`.
const GROUP_COLUMNS: &str = "r.id, r.directory_id, r.display_name, r.display_name_ci, r.external_id, r.version, r.scim, r.normalized, r.created_at, r.updated_at";

/// A group of a directory by id.
pub fn find_group(
    conn: &mut AnyConn,
    directory_id: &DirectoryId,
    id: &DirectoryGroupId,
) -> CoreResult<Option<GroupRow>> {
    Ok(directory_groups::table
        .filter(directory_groups::id.eq(id))
        .filter(directory_groups::directory_id.eq(directory_id))
        .select(GroupRow::as_select())
        .first(conn)
        .optional()?)
}

/// Another group of the directory with this `displayName` (case-insensitive) or this
/// `externalId`: what a new or renamed group must not repeat (RFC 7644 §3.3
/// `uniqueness`). Each probe is served by its index (`groups_dir_name`,
/// `groups_dir_external`).
pub fn clashing_group(
    conn: &mut AnyConn,
    directory_id: &DirectoryId,
    display_name_ci: &str,
    external_id: Option<&str>,
    except: Option<&DirectoryGroupId>,
) -> CoreResult<Option<GroupRow>> {
    let except = except.map(|e| e.as_str()).unwrap_or("");
    let by_name = directory_groups::table
        .filter(directory_groups::directory_id.eq(directory_id))
        .filter(directory_groups::display_name_ci.eq(display_name_ci))
        .filter(directory_groups::id.ne(except))
        .select(GroupRow::as_select())
        .first(conn)
        .optional()?;
    if by_name.is_some() {
        return Ok(by_name);
    }
    let Some(ext) = external_id else {
        return Ok(None);
    };
    Ok(directory_groups::table
        .filter(directory_groups::directory_id.eq(directory_id))
        .filter(directory_groups::external_id.eq(ext))
        .filter(directory_groups::id.ne(except))
        .select(GroupRow::as_select())
        .first(conn)
        .optional()?)
}

/// A group by id, whatever its directory.
pub fn find_group_by_id(conn: &mut AnyConn, id: &DirectoryGroupId) -> CoreResult<Option<GroupRow>> {
    Ok(directory_groups::table
        .filter(directory_groups::id.eq(id))
        .select(GroupRow::as_select())
        .first(conn)
        .optional()?)
}

/// A group by id (by primary key only, see `users::find_users`: the caller drops
/// another directory's group) and, read in the same round trip, whether the
/// organization maps any group to a role.
pub fn find_group_and_any_role_mapping(
    c: &mut AnyConn,
    organization_id: &OrganizationId,
    id: &DirectoryGroupId,
) -> CoreResult<Option<(GroupRow, bool)>> {
    Ok(directory_groups::table
        .filter(directory_groups::id.eq(id))
        .select((
            GroupRow::as_select(),
            diesel::dsl::exists(
                role_mappings::table.filter(role_mappings::organization_id.eq(organization_id)),
            ),
        ))
        .first(c)
        .optional()?)
}

/// Groups of a directory by id, in id order (by primary key only, as
/// `users::find_users`).
pub fn find_groups<I: AsRef<str>>(
    c: &mut AnyConn,
    directory_id: &DirectoryId,
    ids: &[I],
) -> CoreResult<Vec<GroupRow>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<GroupRow> = directory_groups::table
            .filter(directory_groups::id.eq_any(chunk.iter().map(AsRef::as_ref)))
            .order(directory_groups::id.asc())
            .select(GroupRow::as_select())
            .load(c)?;
        out.extend(rows.into_iter().filter(|g| &g.directory_id == directory_id));
    }
    Ok(out)
}

pub fn insert_group(c: &mut AnyConn, row: &GroupRow) -> CoreResult<()> {
    diesel::insert_into(directory_groups::table)
        .values(row)
        .execute(c)?;
    Ok(())
}

/// Write an updated group row (one prepared statement, see `Sql::update_by_id`).
pub fn update_group(c: &mut AnyConn, row: &GroupRow) -> CoreResult<()> {
    Sql::update_by_id(
        "directory_groups",
        [
            ("display_name", Some(Bind::Text(row.display_name.clone()))),
            (
                "display_name_ci",
                Some(Bind::Text(row.display_name_ci.clone())),
            ),
            ("external_id", row.external_id.clone().map(Bind::Text)),
            ("version", Some(Bind::BigInt(row.version))),
            ("scim", Some(Bind::Text(row.scim.clone()))),
            ("normalized", Some(Bind::Text(row.normalized.clone()))),
            ("updated_at", Some(Bind::Timestamp(row.updated_at))),
        ],
        &row.id,
    )
    .execute(c)?;
    Ok(())
}

/// Set a group's version and modification time (one prepared statement, see
/// `Sql::update_by_id`).
pub fn set_group_version(
    c: &mut AnyConn,
    group_id: &DirectoryGroupId,
    version: i64,
    at: NaiveDateTime,
) -> CoreResult<()> {
    Sql::update_by_id(
        "directory_groups",
        [
            ("version", Some(Bind::BigInt(version))),
            ("updated_at", Some(Bind::Timestamp(at))),
        ],
        group_id,
    )
    .execute(c)?;
    Ok(())
}

/// Delete a group whose own members are gone already: its memberships in other groups
/// (nested groups), its role mappings (they grant nothing any more), then its row.
pub fn delete_group(c: &mut AnyConn, id: &DirectoryGroupId) -> CoreResult<()> {
    diesel::delete(memberships::table.filter(memberships::member_id.eq(id))).execute(c)?;
    diesel::delete(role_mappings::table.filter(role_mappings::group_id.eq(id))).execute(c)?;
    diesel::delete(directory_groups::table.filter(directory_groups::id.eq(id))).execute(c)?;
    Ok(())
}

/// A directory's groups in id order after `after` (keyset paging of whole directories).
pub fn groups_page_after(
    c: &mut AnyConn,
    directory_id: &DirectoryId,
    after: Option<&DirectoryGroupId>,
    limit: i64,
) -> CoreResult<Vec<GroupRow>> {
    Ok(directory_groups::table
        .filter(directory_groups::directory_id.eq(directory_id))
        .filter(directory_groups::id.gt(after.map_or("", DirectoryGroupId::as_str)))
        .order(directory_groups::id.asc())
        .limit(limit)
        .select(GroupRow::as_select())
        .load(c)?)
}

/// [`ListStatements`] for a SCIM page of a directory's groups.
pub(crate) fn list_statements(
    dialect: Dialect,
    directory_id: &DirectoryId,
    page: &ScimPage,
) -> ListStatements {
    ListStatements::of(
        dialect,
        "directory_groups",
        GROUP_COLUMNS,
        directory_id,
        page,
    )
}

/// A SCIM page of a directory's groups: `totalResults` and the page's rows.
pub fn list_page(
    c: &mut AnyConn,
    directory_id: &DirectoryId,
    page: &ScimPage,
) -> CoreResult<(i64, Vec<GroupRow>)> {
    let st = list_statements(c.dialect(), directory_id, page);
    paging::run_list(c, st, |q, c| q.load(c))
}

/// Which groups a vendor API page lists (`GET /directory_groups`, WIRE-COMPAT.md §1).
#[derive(Debug, Clone, Default)]
pub struct GroupFilter {
    pub directory: Option<String>,
    pub user: Option<String>,
    /// Text that must appear (any case) in the group's `displayName`. The admin UI's
    /// search; not a vendor API parameter.
    pub name: Option<String>,
}

impl GroupFilter {
    /// Whether the groups are a directory's groups in id order (as
    /// `users::UserFilter::in_id_order`).
    pub fn in_id_order(&self) -> bool {
        self.directory.is_some() && self.user.is_none() && self.name.is_none()
    }
}

/// The groups `f` selects (`SELECT … FROM directory_groups r WHERE …`, for
/// `paging::keyset_query`).
pub(crate) fn groups_query(f: &GroupFilter) -> Sql {
    let mut q = Sql::raw(format!(
        "SELECT {GROUP_COLUMNS} FROM directory_groups r WHERE 1 = 1"
    ));
    if let Some(d) = &f.directory {
        q.push(" AND r.directory_id = ").text(d.clone());
    }
    if let Some(u) = &f.user {
        q.push(" AND r.id IN (SELECT m.group_id FROM memberships m WHERE m.member_id = ")
            .text(u.clone())
            .push(")");
    }
    if let Some(n) = &f.name {
        q.push(" AND r.display_name_ci LIKE ")
            .text(format!("%{}%", like_escape(&n.to_lowercase())))
            .push(" ESCAPE '\\'");
    }
    q
}

/// A keyset page of the groups `f` selects, in the keyset's order.
pub fn groups_page(c: &mut AnyConn, f: &GroupFilter, k: &Keyset) -> CoreResult<Vec<GroupRow>> {
    Ok(paging::keyset_query(groups_query(f), k).load(c)?)
}
