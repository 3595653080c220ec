//! The admin UI's own rows: operators (`admin_users`, read and changed here; created by
//! `credentials::insert_admin_user`), the session signing keys every instance shares
//! (`admin_session_keys`, sealed) and the setup portal's links (`setup_links`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{admin_session_keys, admin_users, setup_links};
use super::AnyConn;
use crate::error::CoreResult;
use crate::ids::{AdminUserId, OrganizationId};

/// An operator of the admin UI.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = admin_users)]
pub struct AdminUserRow {
    pub id: AdminUserId,
    pub email: String,
    pub email_ci: String,
    pub password_hash: String,
    pub created_at: NaiveDateTime,
    pub disabled_at: Option<NaiveDateTime>,
    pub password_changed_at: Option<NaiveDateTime>,
}

/// A session signing key, sealed (`core::seal`).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = admin_session_keys)]
pub struct SessionKeyRow {
    pub kid: String,
    pub sealed_secret: String,
    pub created_at: NaiveDateTime,
}

/// A setup link of the portal.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = setup_links)]
pub struct SetupLinkRow {
    pub id: String,
    pub organization_id: OrganizationId,
    pub return_url: Option<String>,
    pub success_url: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

pub fn find_admin_by_email(c: &mut AnyConn, email: &str) -> CoreResult<Option<AdminUserRow>> {
    Ok(admin_users::table
        .filter(admin_users::email_ci.eq(email.trim().to_lowercase()))
        .select(AdminUserRow::as_select())
        .first(c)
        .optional()?)
}

pub fn find_admin(c: &mut AnyConn, id: &AdminUserId) -> CoreResult<Option<AdminUserRow>> {
    Ok(admin_users::table
        .filter(admin_users::id.eq(id))
        .select(AdminUserRow::as_select())
        .first(c)
        .optional()?)
}

/// Every operator, in id (creation) order.
pub fn list_admins(c: &mut AnyConn) -> CoreResult<Vec<AdminUserRow>> {
    Ok(admin_users::table
        .order(admin_users::id.asc())
        .select(AdminUserRow::as_select())
        .load(c)?)
}

/// Disable (`Some(at)`) or enable (`None`) an operator; whether one was found.
pub fn set_admin_disabled(
    c: &mut AnyConn,
    id: &AdminUserId,
    at: Option<NaiveDateTime>,
) -> CoreResult<bool> {
    Ok(
        diesel::update(admin_users::table.filter(admin_users::id.eq(id)))
            .set(admin_users::disabled_at.eq(at))
            .execute(c)?
            == 1,
    )
}

/// A new password hash; sessions issued before `at` end.
pub fn set_admin_password(
    c: &mut AnyConn,
    id: &AdminUserId,
    password_hash: &str,
    at: NaiveDateTime,
) -> CoreResult<bool> {
    Ok(
        diesel::update(admin_users::table.filter(admin_users::id.eq(id)))
            .set((
                admin_users::password_hash.eq(password_hash),
                admin_users::password_changed_at.eq(Some(at)),
            ))
            .execute(c)?
            == 1,
    )
}

/// Every session signing key, newest first.
pub fn session_keys(c: &mut AnyConn) -> CoreResult<Vec<SessionKeyRow>> {
    Ok(admin_session_keys::table
        .order(admin_session_keys::created_at.desc())
        .select(SessionKeyRow::as_select())
        .load(c)?)
}

pub fn insert_session_key(c: &mut AnyConn, row: &SessionKeyRow) -> CoreResult<()> {
    diesel::insert_into(admin_session_keys::table)
        .values(row)
        .execute(c)?;
    Ok(())
}

/// Forget the keys made before `before` (no session they signed is still valid).
pub fn delete_session_keys_before(c: &mut AnyConn, before: NaiveDateTime) -> CoreResult<usize> {
    Ok(
        diesel::delete(admin_session_keys::table.filter(admin_session_keys::created_at.lt(before)))
            .execute(c)?,
    )
}

pub fn insert_setup_link(c: &mut AnyConn, row: &SetupLinkRow) -> CoreResult<()> {
    diesel::insert_into(setup_links::table)
        .values(row)
        .execute(c)?;
    Ok(())
}

pub fn find_setup_link(c: &mut AnyConn, id: &str) -> CoreResult<Option<SetupLinkRow>> {
    Ok(setup_links::table
        .filter(setup_links::id.eq(id))
        .select(SetupLinkRow::as_select())
        .first(c)
        .optional()?)
}

/// Mark an organization's link used, if it is unused, not revoked and not expired at
/// `at`: whether this call used it (one statement, so two openings cannot both
/// succeed).
pub fn use_setup_link(
    c: &mut AnyConn,
    organization_id: &OrganizationId,
    id: &str,
    at: NaiveDateTime,
) -> CoreResult<bool> {
    Ok(diesel::update(
        setup_links::table
            .filter(setup_links::id.eq(id))
            .filter(setup_links::organization_id.eq(organization_id))
            .filter(setup_links::used_at.is_null())
            .filter(setup_links::revoked_at.is_null())
            .filter(setup_links::expires_at.gt(at)),
    )
    .set(setup_links::used_at.eq(Some(at)))
    .execute(c)?
        == 1)
}

/// Revoke an organization's link; whether one was found.
pub fn revoke_setup_link(
    c: &mut AnyConn,
    organization_id: &OrganizationId,
    id: &str,
    at: NaiveDateTime,
) -> CoreResult<bool> {
    Ok(diesel::update(
        setup_links::table
            .filter(setup_links::id.eq(id))
            .filter(setup_links::organization_id.eq(organization_id))
            .filter(setup_links::revoked_at.is_null()),
    )
    .set(setup_links::revoked_at.eq(Some(at)))
    .execute(c)?
        == 1)
}

/// An organization's newest links.
pub fn setup_links_of(
    c: &mut AnyConn,
    organization_id: &OrganizationId,
    limit: i64,
) -> CoreResult<Vec<SetupLinkRow>> {
    Ok(setup_links::table
        .filter(setup_links::organization_id.eq(organization_id))
        .order(setup_links::id.desc())
        .limit(limit)
        .select(SetupLinkRow::as_select())
        .load(c)?)
}
