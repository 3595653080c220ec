//! Directories (`directories`): their rows, activation, attribute mappings, sequence
//! counter and counts, the deletion of everything they hold, and the vendor API's
//! pages of them.

use diesel::prelude::*;

use super::dynsql::{like_escape, Sql};
use super::paging::{self, Keyset};
use super::schema::{
    directories, directory_counts, directory_groups, directory_tokens, directory_users,
    memberships, user_attrs,
};
use super::AnyConn;
use crate::error::CoreResult;
use crate::ids::{DirectoryId, OrganizationId};
use crate::model::{DirTypeColumn, DirectoryRow, DirectoryState, UserCounts};

pub fn insert_directory(c: &mut AnyConn, row: &DirectoryRow) -> CoreResult<()> {
    diesel::insert_into(directories::table)
        .values(row.clone())
        .execute(c)?;
    Ok(())
}

pub fn find_directory(conn: &mut AnyConn, id: &DirectoryId) -> CoreResult<Option<DirectoryRow>> {
    Ok(directories::table
        .filter(directories::id.eq(id))
        .select(DirectoryRow::as_select())
        .first(conn)
        .optional()?)
}

/// The organization of a directory (`None` when there is no such directory).
pub fn organization_of(
    conn: &mut AnyConn,
    directory_id: &DirectoryId,
) -> CoreResult<Option<OrganizationId>> {
    Ok(directories::table
        .filter(directories::id.eq(directory_id))
        .select(directories::organization_id)
        .first::<OrganizationId>(conn)
        .optional()?)
}

/// The directory's current last sequence number.
pub fn last_seq(conn: &mut AnyConn, directory_id: &DirectoryId) -> CoreResult<Option<i64>> {
    Ok(directories::table
        .filter(directories::id.eq(directory_id))
        .select(directories::last_seq)
        .first::<i64>(conn)
        .optional()?)
}

/// Mark a directory linked, activated at `at`.
pub fn set_activated(
    c: &mut AnyConn,
    id: &DirectoryId,
    at: chrono::NaiveDateTime,
) -> CoreResult<()> {
    diesel::update(directories::table.filter(directories::id.eq(id)))
        .set((
            directories::activated_at.eq(Some(at)),
            directories::state.eq(DirectoryState::Linked),
            directories::updated_at.eq(at),
        ))
        .execute(c)?;
    Ok(())
}

/// Store a directory's custom-attribute mappings (JSON; `None`: the type's defaults).
pub fn set_attribute_mappings(
    c: &mut AnyConn,
    id: &DirectoryId,
    mappings: &Option<String>,
    at: chrono::NaiveDateTime,
) -> CoreResult<()> {
    diesel::update(directories::table.filter(directories::id.eq(id)))
        .set((
            directories::attribute_mappings.eq(mappings),
            directories::updated_at.eq(at),
        ))
        .execute(c)?;
    Ok(())
}

/// Users (active / inactive) and groups of a directory, for the `metadata` block.
pub fn user_and_group_counts(
    conn: &mut AnyConn,
    directory_id: &DirectoryId,
) -> CoreResult<(UserCounts, i64)> {
    // kept by the triggers of migration 2026-12-09-400000_directory_counts with every
    // write to the directory's users and groups: one row, whatever the directory's size
    let kept: Option<(i64, i64, i64)> = directory_counts::table
        .filter(directory_counts::directory_id.eq(directory_id))
        .select((
            directory_counts::users_active,
            directory_counts::users_inactive,
            directory_counts::groups,
        ))
        .first(conn)
        .optional()?;
    match kept {
        Some((active, inactive, groups)) => Ok((UserCounts { active, inactive }, groups)),
        // a directory deleted meanwhile (its row goes with it)
        None => Ok((
            UserCounts {
                active: 0,
                inactive: 0,
            },
            0,
        )),
    }
}

/// The counts of [`user_and_group_counts`] computed from the rows (one pass over the
/// directory's users, one over its groups): what the kept counts must equal.
pub fn user_and_group_counts_counted(
    conn: &mut AnyConn,
    directory_id: &DirectoryId,
) -> CoreResult<(UserCounts, i64)> {
    let by_state: Vec<(bool, i64)> = directory_users::table
        .filter(directory_users::directory_id.eq(directory_id))
        .group_by(directory_users::active)
        .select((directory_users::active, diesel::dsl::count_star()))
        .load(conn)?;
    let of = |state: bool| {
        by_state
            .iter()
            .find(|(a, _)| *a == state)
            .map_or(0, |(_, n)| *n)
    };
    let (active, inactive) = (of(true), of(false));
    let groups: i64 = directory_groups::table
        .filter(directory_groups::directory_id.eq(directory_id))
        .count()
        .get_result(conn)?;
    Ok((UserCounts { active, inactive }, groups))
}

/// Delete everything a directory holds (index rows, memberships, users, groups and
/// tokens; children first: the explicit deletes keep SQLite and PostgreSQL alike) but
/// its row; the hashes of its tokens.
pub fn delete_directory_contents(
    c: &mut AnyConn,
    directory_id: &DirectoryId,
) -> CoreResult<Vec<String>> {
    let users_q = directory_users::table.filter(directory_users::directory_id.eq(directory_id));
    diesel::delete(user_attrs::table.filter(user_attrs::directory_id.eq(directory_id)))
        .execute(c)?;
    diesel::delete(memberships::table.filter(memberships::directory_id.eq(directory_id)))
        .execute(c)?;
    diesel::delete(users_q).execute(c)?;
    diesel::delete(directory_groups::table.filter(directory_groups::directory_id.eq(directory_id)))
        .execute(c)?;
    let hashes: Vec<String> = directory_tokens::table
        .filter(directory_tokens::directory_id.eq(directory_id))
        .select(directory_tokens::token_hash)
        .load(c)?;
    diesel::delete(directory_tokens::table.filter(directory_tokens::directory_id.eq(directory_id)))
        .execute(c)?;
    Ok(hashes)
}

/// Delete a directory's row (its contents first, see [`delete_directory_contents`]).
pub fn delete_directory_row(c: &mut AnyConn, id: &DirectoryId) -> CoreResult<()> {
    diesel::delete(directories::table.filter(directories::id.eq(id))).execute(c)?;
    Ok(())
}

/// Which directories a vendor API page lists (`GET /directories`, WIRE-COMPAT.md §1).
#[derive(Debug, Clone, Default)]
pub struct DirectoryFilter {
    pub organization_id: Option<String>,
    pub search: Option<String>,
    pub domain: Option<String>,
}

const DIRECTORY_COLUMNS: &str = "r.id, r.organization_id, r.name, r.dir_type, r.state, r.last_seq, r.activated_at, r.attribute_mappings, r.created_at, r.updated_at";

#[derive(diesel::QueryableByName)]
#[diesel(table_name = directories)]
struct DirRow {
    #[diesel(embed)]
    inner: DirectoryRowByName,
}

#[derive(diesel::QueryableByName, Clone)]
#[diesel(table_name = directories)]
struct DirectoryRowByName {
    id: DirectoryId,
    organization_id: OrganizationId,
    name: String,
    #[diesel(deserialize_as = DirTypeColumn)]
    dir_type: scimgate_connectors::DirectoryType,
    state: DirectoryState,
    last_seq: i64,
    activated_at: Option<chrono::NaiveDateTime>,
    attribute_mappings: Option<String>,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
}

impl From<DirectoryRowByName> for DirectoryRow {
    fn from(d: DirectoryRowByName) -> Self {
        DirectoryRow {
            id: d.id,
            organization_id: d.organization_id,
            name: d.name,
            dir_type: d.dir_type,
            state: d.state,
            last_seq: d.last_seq,
            activated_at: d.activated_at,
            attribute_mappings: d.attribute_mappings,
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

/// A keyset page of the directories `f` selects, in the keyset's order.
pub fn directories_page(
    c: &mut AnyConn,
    f: &DirectoryFilter,
    k: &Keyset,
) -> CoreResult<Vec<DirectoryRow>> {
    let mut q = Sql::raw(format!(
        "SELECT {DIRECTORY_COLUMNS} FROM directories r WHERE 1 = 1"
    ));
    if let Some(o) = &f.organization_id {
        q.push(" AND r.organization_id = ").text(o.clone());
    }
    if let Some(s) = f.search.as_deref().filter(|s| !s.is_empty()) {
        q.push(" AND LOWER(r.name) LIKE ")
            .text(format!("%{}%", like_escape(&s.to_lowercase())))
            .push(" ESCAPE '\\'");
    }
    if let Some(d) = f.domain.as_deref().filter(|s| !s.is_empty()) {
        // organizations.domains is a JSON array of lower-case names
        q.push(" AND r.organization_id IN (SELECT o.id FROM organizations o WHERE o.domains LIKE ")
            .text(format!("%\"{}\"%", like_escape(&d.to_lowercase())))
            .push(" ESCAPE '\\')");
    }
    let rows: Vec<DirRow> = paging::keyset_query(q, k).load(c)?;
    Ok(rows.into_iter().map(|d| d.inner.into()).collect())
}
