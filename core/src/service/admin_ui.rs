//! What the admin UI and the setup portal ask of the domain: operators (login,
//! `scimgate admins list|disable|reset-password`), the session signing keys shared by
//! every instance (kept sealed in the database, rotated without ending sessions) and
//! the portal's single-use setup links. No HTTP here: `scimgate-admin-ui` renders.

use std::sync::OnceLock;

use chrono::{Duration, NaiveDateTime};
use rand::RngCore;

use super::Core;
use crate::clock;
use crate::error::{CoreError, CoreResult};
use crate::ids::{AdminUserId, OrganizationId, PrefixedId};
use crate::secrets;
use crate::store::admin_ui::{self as store, AdminUserRow, SessionKeyRow, SetupLinkRow};

/// A session signing key opened from the database.
#[derive(Clone)]
pub struct SessionKey {
    pub kid: String,
    pub secret: Vec<u8>,
    pub created_at: NaiveDateTime,
}

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // never the secret
        f.debug_struct("SessionKey")
            .field("kid", &self.kid)
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// A new signing key is made when the newest is this old.
pub fn key_rotation() -> Duration {
    Duration::hours(24)
}

/// Keys are kept this long after they were made: longer than they sign plus the
/// longest session, so rotation logs nobody out.
pub fn key_retention() -> Duration {
    Duration::hours(72)
}

/// The signing keys, newest (the one that signs) first; a new key is made (and keys
/// past [`key_retention`] forgotten) when the newest is older than [`key_rotation`] or
/// there is none. Instances racing to rotate each add a key: all of them open.
pub fn session_keys(core: &Core) -> CoreResult<Vec<SessionKey>> {
    keys(core, false)
}

/// Make a new signing key now (sessions signed by the older keys stay valid).
pub fn rotate_session_keys(core: &Core) -> CoreResult<Vec<SessionKey>> {
    keys(core, true)
}

fn keys(core: &Core, rotate: bool) -> CoreResult<Vec<SessionKey>> {
    let sealer = core.sealer()?;
    let now = clock::now();
    let mut rows = {
        let mut conn = core.db.conn()?;
        store::session_keys(&mut conn)?
    };
    let fresh = rows
        .first()
        .is_some_and(|k| k.created_at > now - key_rotation());
    if rotate || !fresh {
        let mut secret = [0u8; 32];
        rand::rng().fill_bytes(&mut secret);
        let mut kid = [0u8; 8];
        rand::rng().fill_bytes(&mut kid);
        let row = SessionKeyRow {
            kid: hex::encode(kid),
            sealed_secret: sealer.seal(&secret)?,
            created_at: now,
        };
        let _g = core.db.write_guard(); // SQLite: the one writer
        let mut conn = core.db.conn()?;
        store::insert_session_key(&mut conn, &row)?;
        store::delete_session_keys_before(&mut conn, now - key_retention())?;
        rows = store::session_keys(&mut conn)?;
    }
    rows.iter()
        .map(|r| {
            Ok(SessionKey {
                kid: r.kid.clone(),
                secret: sealer.open(&r.sealed_secret)?,
                created_at: r.created_at,
            })
        })
        .collect()
}

fn dummy_hash() -> &'static str {
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| secrets::hash_password("no operator has this password").unwrap_or_default())
}

/// The operator with this email and password, if there is one and it is not
/// disabled. An unknown email costs the same argon2 verification as a known one.
pub fn verify_login(core: &Core, email: &str, password: &str) -> CoreResult<Option<AdminUserRow>> {
    let row = {
        let mut conn = core.db.conn()?;
        store::find_admin_by_email(&mut conn, email)?
    };
    match row {
        Some(r) => {
            let ok = secrets::verify_password(password, &r.password_hash);
            Ok((ok && r.disabled_at.is_none()).then_some(r))
        }
        None => {
            let _ = secrets::verify_password(password, dummy_hash());
            Ok(None)
        }
    }
}

/// The operator of a session whose login was at `logged_in_ms` (milliseconds since
/// the epoch), if it still exists, is not disabled and has not had its password
/// reset since.
pub fn session_operator(
    core: &Core,
    id: &AdminUserId,
    logged_in_ms: i64,
) -> CoreResult<Option<AdminUserRow>> {
    let mut conn = core.db.conn()?;
    let row = store::find_admin(&mut conn, id)?;
    Ok(row.filter(|r| {
        r.disabled_at.is_none()
            && r.password_changed_at
                .is_none_or(|t| t.and_utc().timestamp_millis() < logged_in_ms)
    }))
}

pub fn list_admins(core: &Core) -> CoreResult<Vec<AdminUserRow>> {
    let mut conn = core.db.conn()?;
    store::list_admins(&mut conn)
}

fn admin_by_email(core: &Core, email: &str) -> CoreResult<AdminUserRow> {
    let mut conn = core.db.conn()?;
    store::find_admin_by_email(&mut conn, email)?
        .ok_or_else(|| CoreError::not_found(format!("no operator {email:?}")))
}

/// Disable (or enable again) an operator: a disabled one cannot log in and its
/// sessions end at their next request.
pub fn set_admin_disabled(core: &Core, email: &str, disabled: bool) -> CoreResult<AdminUserRow> {
    let row = admin_by_email(core, email)?;
    let _g = core.db.write_guard();
    let mut conn = core.db.conn()?;
    store::set_admin_disabled(&mut conn, &row.id, disabled.then(clock::now))?;
    store::find_admin(&mut conn, &row.id)?.ok_or_else(|| row.id.not_found())
}

/// A new password (argon2id); the operator's current sessions end.
pub fn reset_admin_password(core: &Core, email: &str, password: &str) -> CoreResult<AdminUserRow> {
    super::admin::check_password(password)?;
    let row = admin_by_email(core, email)?;
    let hash = secrets::hash_password(password).map_err(CoreError::internal)?;
    let at = clock::now();
    let _g = core.db.write_guard();
    let mut conn = core.db.conn()?;
    store::set_admin_password(&mut conn, &row.id, &hash, at)?;
    store::find_admin(&mut conn, &row.id)?.ok_or_else(|| row.id.not_found())
}

/// How long a setup link may wait to be opened.
pub fn setup_link_ttl() -> Duration {
    Duration::minutes(5)
}

fn check_url(field: &str, u: Option<&str>) -> CoreResult<Option<String>> {
    let Some(u) = u.map(str::trim).filter(|u| !u.is_empty()) else {
        return Ok(None);
    };
    let ok = (u.starts_with("https://") || u.starts_with("http://"))
        && u.len() <= 2048
        && !u.chars().any(|c| c.is_control() || c.is_whitespace());
    if ok {
        Ok(Some(u.to_string()))
    } else {
        Err(CoreError::invalid_value(format!(
            "`{field}` must be an http or https URL"
        )))
    }
}

/// A new setup link for an organization (valid [`setup_link_ttl`], single use).
pub fn create_setup_link(
    core: &Core,
    organization_id: &OrganizationId,
    return_url: Option<&str>,
    success_url: Option<&str>,
) -> CoreResult<SetupLinkRow> {
    let return_url = check_url("return_url", return_url)?;
    let success_url = check_url("success_url", success_url)?;
    super::admin::get_organization(core, organization_id)?;
    let now = clock::now();
    let row = SetupLinkRow {
        id: crate::ids::new_id("setup_link"),
        organization_id: organization_id.clone(),
        return_url,
        success_url,
        created_at: now,
        expires_at: now + setup_link_ttl(),
        used_at: None,
        revoked_at: None,
    };
    let _g = core.db.write_guard();
    let mut conn = core.db.conn()?;
    store::insert_setup_link(&mut conn, &row)?;
    Ok(row)
}

/// Open an organization's setup link: it must exist, be unused, unrevoked and
/// unexpired; it is used up by this call. Every refusal is the same 404 (a link tells
/// nothing about others).
pub fn open_setup_link(
    core: &Core,
    organization_id: &OrganizationId,
    id: &str,
) -> CoreResult<SetupLinkRow> {
    let gone = || CoreError::not_found("this setup link is expired, used or revoked");
    let _g = core.db.write_guard();
    let mut conn = core.db.conn()?;
    if !store::use_setup_link(&mut conn, organization_id, id, clock::now())? {
        return Err(gone());
    }
    store::find_setup_link(&mut conn, id)?.ok_or_else(gone)
}

pub fn revoke_setup_link(
    core: &Core,
    organization_id: &OrganizationId,
    id: &str,
) -> CoreResult<()> {
    let _g = core.db.write_guard();
    let mut conn = core.db.conn()?;
    if store::revoke_setup_link(&mut conn, organization_id, id, clock::now())? {
        Ok(())
    } else {
        Err(CoreError::not_found(format!("setup link {id} not found")))
    }
}

pub fn setup_links_of(
    core: &Core,
    organization_id: &OrganizationId,
) -> CoreResult<Vec<SetupLinkRow>> {
    let mut conn = core.db.conn()?;
    store::setup_links_of(&mut conn, organization_id, 20)
}

/// Organizations whose name contains `q`, a page of `limit` after `after`.
pub fn search_organizations(
    core: &Core,
    q: &str,
    after: Option<&OrganizationId>,
    limit: i64,
) -> CoreResult<Vec<crate::model::OrganizationRow>> {
    let mut conn = core.db.conn()?;
    crate::store::organizations::search_organizations(&mut conn, q.trim(), after, limit)
}

/// Replace an organization's domains (each checked as on creation).
pub fn set_organization_domains(
    core: &Core,
    id: &OrganizationId,
    domains: &[String],
) -> CoreResult<crate::model::OrganizationRow> {
    let ds = super::admin::check_domains(domains)?;
    let json = serde_json::to_string(&ds).unwrap_or_else(|_| "[]".into());
    {
        let _g = core.db.write_guard();
        let mut conn = core.db.conn()?;
        if !crate::store::organizations::set_organization_domains(
            &mut conn,
            id,
            &json,
            clock::now(),
        )? {
            return Err(id.not_found());
        }
    }
    super::admin::get_organization(core, id)
}

/// An organization's link by id (a setup session's own link).
pub fn setup_link_of(
    core: &Core,
    organization_id: &OrganizationId,
    id: &str,
) -> CoreResult<Option<SetupLinkRow>> {
    let mut conn = core.db.conn()?;
    Ok(store::find_setup_link(&mut conn, id)?.filter(|l| &l.organization_id == organization_id))
}
