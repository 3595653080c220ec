//! Organizations (`organizations`).

use diesel::prelude::*;

use super::dynsql::{like_escape, Bind, Sql};
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
    Ok(rows.into_iter().map(OrganizationRow::from).collect())
}

/// Organizations whose name contains `q` (case-insensitive), in id order after
/// `after`, at most `limit` (the admin UI's search; a scan of the organizations,
/// which number in the thousands).
pub fn search_organizations(
    c: &mut AnyConn,
    q: &str,
    after: Option<&OrganizationId>,
    limit: i64,
) -> CoreResult<Vec<OrganizationRow>> {
    let mut sql = Sql::raw(
        "SELECT r.id, r.name, r.domains, r.created_at, r.updated_at FROM organizations r WHERE 1 = 1",
    );
    if !q.is_empty() {
        sql.push(" AND LOWER(r.name) LIKE ")
            .text(format!("%{}%", like_escape(&q.to_lowercase())))
            .push(" ESCAPE '\\'");
    }
    if let Some(a) = after {
        sql.push(" AND r.id > ").text(a.as_str());
    }
    sql.push(" ORDER BY r.id LIMIT ").bind(Bind::BigInt(limit));
    let rows: Vec<OrgByName> = sql.load(c)?;
    Ok(rows.into_iter().map(OrganizationRow::from).collect())
}

impl From<OrgByName> for OrganizationRow {
    fn from(o: OrgByName) -> OrganizationRow {
        OrganizationRow {
            id: o.id,
            name: o.name,
            domains: o.domains,
            created_at: o.created_at,
            updated_at: o.updated_at,
        }
    }
}

/// Replace an organization's domains (a JSON array of text).
pub fn set_organization_domains(
    c: &mut AnyConn,
    id: &OrganizationId,
    domains_json: &str,
    at: chrono::NaiveDateTime,
) -> CoreResult<bool> {
    Ok(
        diesel::update(organizations::table.filter(organizations::id.eq(id)))
            .set((
                organizations::domains.eq(domains_json),
                organizations::updated_at.eq(at),
            ))
            .execute(c)?
            == 1,
    )
}
