//! Organizations (`organizations`).

use diesel::prelude::*;

use super::dynsql::Sql;
use super::paging::{self, Keyset};
use super::schema::organizations;
use super::AnyConn;
use crate::error::CoreResult;
use crate::ids::OrganizationId;
use crate::model::OrganizationRow;

pub fn insert_organization(c: &mut AnyConn, row: &OrganizationRow) -> CoreResult<()> {
    diesel::insert_into(organizations::table)
        .values(row)
        .execute(c)?;
    Ok(())
}

pub fn find_organization(
    c: &mut AnyConn,
    id: &OrganizationId,
) -> CoreResult<Option<OrganizationRow>> {
    Ok(organizations::table
        .filter(organizations::id.eq(id))
        .select(OrganizationRow::as_select())
        .first(c)
        .optional()?)
}

#[derive(diesel::QueryableByName)]
#[diesel(table_name = organizations)]
struct OrgByName {
    id: OrganizationId,
    name: String,
    domains: String,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
}

/// A keyset page of organizations, in the keyset's order.
pub fn organizations_page(c: &mut AnyConn, k: &Keyset) -> CoreResult<Vec<OrganizationRow>> {
    let q = Sql::raw("SELECT r.id, r.name, r.domains, r.created_at, r.updated_at FROM organizations r WHERE 1 = 1");
    let rows: Vec<OrgByName> = paging::keyset_query(q, k).load(c)?;
    Ok(rows
        .into_iter()
        .map(|o| OrganizationRow {
            id: o.id,
            name: o.name,
            domains: o.domains,
            created_at: o.created_at,
            updated_at: o.updated_at,
        })
        .collect())
}
