//! Group → role mappings (`role_mappings`) per organization, and the roles they grant
//! users through their memberships.

use diesel::prelude::*;

use super::schema::{memberships, role_mappings};
use super::AnyConn;
use crate::error::CoreResult;
use crate::ids::{DirectoryGroupId, DirectoryUserId, OrganizationId, RoleMappingId};
use crate::model::RoleMappingRow;

/// Whether the organization maps any group to a role (one indexed lookup).
pub fn any_role_mapping(c: &mut AnyConn, organization_id: &OrganizationId) -> CoreResult<bool> {
    let any: Option<RoleMappingId> = role_mappings::table
        .filter(role_mappings::organization_id.eq(organization_id))
        .select(role_mappings::id)
        .first(c)
        .optional()?;
    Ok(any.is_some())
}

/// A grant of a role to a user: which mapping and group gave it.
#[derive(Debug, Clone)]
pub struct Grant {
    pub user_id: DirectoryUserId,
    pub slug: String,
    pub priority: i32,
    pub group_id: DirectoryGroupId,
    pub mapping_id: RoleMappingId,
}

/// The roles the organization's mappings grant `user_ids` through their groups (one
/// query per 500 users).
pub fn grants_of_users(
    c: &mut AnyConn,
    organization_id: &OrganizationId,
    user_ids: &[DirectoryUserId],
) -> CoreResult<Vec<Grant>> {
    let mut out = Vec::new();
    for chunk in user_ids.chunks(500) {
        let rows: Vec<(
            DirectoryUserId,
            String,
            i32,
            DirectoryGroupId,
            RoleMappingId,
        )> = memberships::table
            .inner_join(role_mappings::table.on(role_mappings::group_id.eq(memberships::group_id)))
            .filter(role_mappings::organization_id.eq(organization_id))
            .filter(memberships::member_id.eq_any(chunk))
            .select((
                memberships::member_id,
                role_mappings::role_slug,
                role_mappings::priority,
                role_mappings::group_id,
                role_mappings::id,
            ))
            .load(c)?;
        out.extend(
            rows.into_iter()
                .map(|(user_id, slug, priority, group_id, mapping_id)| Grant {
                    user_id,
                    slug,
                    priority,
                    group_id,
                    mapping_id,
                }),
        );
    }
    Ok(out)
}

/// Whether a group already grants a role in the organization.
pub fn mapping_exists(
    c: &mut AnyConn,
    organization_id: &OrganizationId,
    group_id: &DirectoryGroupId,
    role_slug: &str,
) -> CoreResult<bool> {
    let dup: Option<RoleMappingId> = role_mappings::table
        .filter(role_mappings::organization_id.eq(organization_id))
        .filter(role_mappings::group_id.eq(group_id))
        .filter(role_mappings::role_slug.eq(role_slug))
        .select(role_mappings::id)
        .first(c)
        .optional()?;
    Ok(dup.is_some())
}

pub fn insert_mapping(c: &mut AnyConn, row: &RoleMappingRow) -> CoreResult<()> {
    diesel::insert_into(role_mappings::table)
        .values(row)
        .execute(c)?;
    Ok(())
}

/// An organization's mappings, highest priority first.
pub fn mappings_of(
    c: &mut AnyConn,
    organization_id: &OrganizationId,
) -> CoreResult<Vec<RoleMappingRow>> {
    Ok(role_mappings::table
        .filter(role_mappings::organization_id.eq(organization_id))
        .order((role_mappings::priority.desc(), role_mappings::id.asc()))
        .select(RoleMappingRow::as_select())
        .load(c)?)
}

pub fn find_mapping(
    c: &mut AnyConn,
    organization_id: &OrganizationId,
    mapping_id: &RoleMappingId,
) -> CoreResult<Option<RoleMappingRow>> {
    Ok(role_mappings::table
        .filter(role_mappings::id.eq(mapping_id))
        .filter(role_mappings::organization_id.eq(organization_id))
        .select(RoleMappingRow::as_select())
        .first(c)
        .optional()?)
}

pub fn delete_mapping(c: &mut AnyConn, mapping_id: &RoleMappingId) -> CoreResult<()> {
    diesel::delete(role_mappings::table.filter(role_mappings::id.eq(mapping_id))).execute(c)?;
    Ok(())
}
