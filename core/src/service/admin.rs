//! Onboarding: organizations, directories, directory tokens and API keys.

use super::Core;
use crate::bus::Notice;
use crate::clock;
use crate::error::{CoreError, CoreResult};
use crate::events;
use crate::ids::{AdminUserId, ApiKeyId, DirectoryId, OrganizationId, PrefixedId, TokenId};
use crate::model::*;
use crate::secrets;
use crate::store::{self, credentials, directories, organizations};
use crate::wire;
use scimgate_connectors::{AttributeMapping, DirectoryType};

const MAX_NAME: usize = 256;

fn check_name(field: &str, s: &str) -> CoreResult<String> {
    let t = s.trim();
    if t.is_empty() {
        return Err(CoreError::invalid_value(format!(
            "`{field}` must not be empty"
        )));
    }
    if t.len() > MAX_NAME || t.contains('\0') {
        return Err(CoreError::invalid_value(format!(
            "`{field}` must be at most {MAX_NAME} bytes without NUL characters"
        )));
    }
    Ok(t.to_string())
}

fn check_domain(d: &str) -> CoreResult<String> {
    let d = d.trim().to_ascii_lowercase();
    let ok = !d.is_empty()
        && d.len() <= 253
        && d.contains('.')
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        });
    if ok {
        Ok(d)
    } else {
        Err(CoreError::invalid_value(format!(
            "`{d}` is not a valid domain name"
        )))
    }
}

/// Up to 100 valid domains, lower-cased, without repeats.
pub(crate) fn check_domains(domains: &[String]) -> CoreResult<Vec<String>> {
    let mut ds = Vec::new();
    for d in domains.iter().take(100) {
        let d = check_domain(d)?;
        if !ds.contains(&d) {
            ds.push(d);
        }
    }
    Ok(ds)
}

pub fn create_organization(
    core: &Core,
    name: &str,
    domains: &[String],
) -> CoreResult<OrganizationRow> {
    let name = check_name("name", name)?;
    let ds = check_domains(domains)?;
    let now = clock::now();
    let row = OrganizationRow {
        id: OrganizationId::new(),
        name,
        domains: serde_json::to_string(&ds).unwrap_or_else(|_| "[]".into()),
        created_at: now,
        updated_at: now,
    };
    let _g = core.db.write_guard(); // SQLite: the one writer
    let mut conn = core.db.conn()?;
    organizations::insert_organization(&mut conn, &row)?;
    Ok(row)
}

pub fn get_organization(core: &Core, id: &OrganizationId) -> CoreResult<OrganizationRow> {
    let mut conn = core.db.conn()?;
    organizations::find_organization(&mut conn, id)?.ok_or_else(|| id.not_found())
}

/// A created directory with its first bearer token (shown once).
#[derive(Debug, Clone)]
pub struct CreatedDirectory {
    pub directory: DirectoryRow,
    pub organization: OrganizationRow,
    pub scim_url: String,
    pub bearer_token: String,
    pub token: TokenRow,
}

/// The type and organization a request to create a directory names, checked in this
/// order: a type scimgate serves, then an organization id (one that is malformed
/// names no organization, as one that does not exist).
pub fn directory_request(
    organization_id: &str,
    dir_type: &str,
) -> CoreResult<(OrganizationId, DirectoryType)> {
    let dt = DirectoryType::parse(dir_type).ok_or_else(|| {
        let names: Vec<&str> = DirectoryType::all().iter().map(|t| t.as_str()).collect();
        CoreError::invalid_value(format!(
            "unsupported directory type `{dir_type}`; scimgate serves SCIM directories: {}",
            names.join(", ")
        ))
    })?;
    let org =
        OrganizationId::parse(organization_id).map_err(|e| no_such_organization(e.input()))?;
    Ok((org, dt))
}

fn no_such_organization(id: &str) -> CoreError {
    CoreError::invalid_value(format!("organization `{id}` does not exist"))
}

pub fn create_directory(
    core: &Core,
    organization_id: &OrganizationId,
    dt: DirectoryType,
    name: Option<&str>,
) -> CoreResult<CreatedDirectory> {
    let org = get_organization(core, organization_id).map_err(|e| match e {
        CoreError::NotFound(_) => no_such_organization(organization_id.as_str()),
        other => other,
    })?;
    let name = match name {
        Some(n) => check_name("name", n)?,
        None => format!("{} ({})", org.name, dt.display_name()),
    };
    let now = clock::now();
    let dir = DirectoryRow {
        id: DirectoryId::new(),
        organization_id: org.id.clone(),
        name,
        dir_type: dt,
        state: DirectoryState::Unlinked,
        last_seq: 0,
        activated_at: None,
        attribute_mappings: None,
        created_at: now,
        updated_at: now,
    };
    {
        let _g = core.db.write_guard(); // SQLite: the one writer
        let mut conn = core.db.conn()?;
        directories::insert_directory(&mut conn, &dir)?;
    }
    let (token, secret) = create_token(core, &dir, "default")?;
    Ok(CreatedDirectory {
        scim_url: core.scim_base(&dir.id),
        directory: dir,
        organization: org,
        bearer_token: secret,
        token,
    })
}

pub fn get_directory(core: &Core, id: &DirectoryId) -> CoreResult<DirectoryRow> {
    let mut conn = core.db.conn()?;
    directories::find_directory(&mut conn, id)?.ok_or_else(|| id.not_found())
}

/// Delete a directory: `dsync.deleted` is its only event (WIRE-COMPAT.md §2), with the
/// directory as it was; users, groups, memberships and tokens go with it.
pub fn delete_directory(core: &Core, id: &DirectoryId) -> CoreResult<DirectoryRow> {
    let dir = get_directory(core, id)?;
    let data = wire::DirectoryEvent::deleted(&dir);
    let d = dir.clone();
    let removed = core.write(&dir, move |c, sink| {
        let dir = &d;
        sink.emit(events::DIRECTORY_DELETED, &data);
        directories::delete_directory_contents(c, &dir.id)
    })?;
    // the directory row itself: after the event was appended (which bumps last_seq)
    {
        let _g = core.db.write_guard(); // SQLite: the one writer
        let mut conn = core.db.conn()?;
        directories::delete_directory_row(&mut conn, &dir.id)?;
    }
    for h in removed {
        core.auth.invalidate(&h);
        core.bus.publish(Notice::Revoked { hash: h });
    }
    core.auth.invalidate_directory(&dir.id);
    core.bus.publish(Notice::DirectoryChanged {
        directory_id: dir.id.clone(),
    });
    Ok(dir)
}

/// Create a bearer token for a directory; returns the row and the secret (shown once).
pub fn create_token(core: &Core, dir: &DirectoryRow, name: &str) -> CoreResult<(TokenRow, String)> {
    create_token_expiring(core, dir, name, None)
}

/// [`create_token`] with an expiry (`None`: never), which must lie in the future.
pub fn create_token_expiring(
    core: &Core,
    dir: &DirectoryRow,
    name: &str,
    expires_at: Option<chrono::NaiveDateTime>,
) -> CoreResult<(TokenRow, String)> {
    let name = check_name("name", name)?;
    check_expiry(expires_at)?;
    let secret = secrets::generate(secrets::DIRECTORY_TOKEN_PREFIX);
    let row = TokenRow {
        id: TokenId::new(),
        directory_id: dir.id.clone(),
        name,
        token_hash: secrets::hash(&secret),
        suffix: secrets::suffix(&secret),
        created_at: clock::now(),
        last_used_at: None,
        revoked_at: None,
        expires_at,
    };
    let ev = wire::DirectoryTokenEvent::new(dir, &row);
    let r = row.clone();
    core.write(dir, move |c, sink| {
        credentials::insert_token(c, &r)?;
        sink.emit(events::TOKEN_CREATED, &ev);
        Ok(())
    })?;
    Ok((row, secret))
}

pub fn list_tokens(core: &Core, directory_id: &DirectoryId) -> CoreResult<Vec<TokenRow>> {
    let mut conn = core.db.conn()?;
    credentials::active_tokens(&mut conn, directory_id)
}

/// Revoke a token: effective at once on this instance and, through the bus, on the
/// others; in any case within the auth cache TTL.
pub fn revoke_token(core: &Core, dir: &DirectoryRow, token_id: &TokenId) -> CoreResult<TokenRow> {
    let (d, token_id) = (dir.clone(), token_id.clone());
    let tok = core.write(dir, move |c, sink| {
        let dir = &d;
        let tok: TokenRow = credentials::find_active_token(c, &dir.id, &token_id)?
            .ok_or_else(|| token_id.not_found())?;
        credentials::revoke_token(c, &tok.id, clock::now())?;
        sink.emit(
            events::TOKEN_REVOKED,
            wire::DirectoryTokenEvent::new(dir, &tok),
        );
        Ok(tok)
    })?;
    core.auth.invalidate(&tok.token_hash);
    core.bus.publish(Notice::Revoked {
        hash: tok.token_hash.clone(),
    });
    Ok(tok)
}

/// An expiry given by a caller: in the future.
pub(crate) fn check_expiry(expires_at: Option<chrono::NaiveDateTime>) -> CoreResult<()> {
    match expires_at {
        Some(t) if t <= clock::now() => Err(CoreError::invalid_value(
            "`expires_at` must lie in the future",
        )),
        _ => Ok(()),
    }
}

/// Create a vendor API key with every scope; returns the row and the secret (shown once).
pub fn create_api_key(core: &Core, name: &str) -> CoreResult<(ApiKeyRow, String)> {
    super::api_keys::create(core, name, crate::scope::Scopes::all(), None)
}

/// Store a new API key with this secret (only its hash).
pub(crate) fn insert_api_key(
    core: &Core,
    name: &str,
    secret: &str,
    scopes: crate::scope::Scopes,
    expires_at: Option<chrono::NaiveDateTime>,
    is_bootstrap: bool,
) -> CoreResult<ApiKeyRow> {
    let name = check_name("name", name)?;
    check_expiry(expires_at)?;
    let row = ApiKeyRow {
        id: ApiKeyId::new(),
        name,
        key_hash: secrets::hash(secret),
        suffix: secrets::suffix(secret),
        created_at: clock::now(),
        last_used_at: None,
        revoked_at: None,
        scopes: scopes.to_stored(),
        expires_at,
        is_bootstrap,
    };
    let _g = core.db.write_guard(); // SQLite: the one writer
    let mut conn = core.db.conn()?;
    credentials::insert_api_key(&mut conn, &row)?;
    Ok(row)
}

/// Make sure a given API key exists (`SCIMGATE_BOOTSTRAP_API_KEY`), with every scope;
/// only its hash is stored. A guessable key is refused (`secrets::guessable`), and so
/// is a key that was revoked. Returns whether it was created now.
pub fn ensure_api_key(core: &Core, secret: &str, name: &str) -> CoreResult<bool> {
    if !secret.starts_with(secrets::API_KEY_PREFIX) {
        return Err(CoreError::invalid_value(format!(
            "a bootstrap API key must start with `{}` and carry at least 24 random characters",
            secrets::API_KEY_PREFIX
        )));
    }
    if let Some(why) = secrets::guessable(secret, secrets::API_KEY_PREFIX) {
        return Err(CoreError::invalid_value(format!(
            "the bootstrap API key is guessable: {why}; generate one, e.g. sk_$(head -c 24 /dev/urandom | xxd -p)"
        )));
    }
    let hash = secrets::hash(secret);
    let existing = {
        let mut conn = core.db.conn()?;
        credentials::find_api_key_by_hash_any(&mut conn, &hash)?
    };
    match existing {
        Some(k) if k.revoked_at.is_some() => Err(CoreError::invalid_value(
            "the bootstrap API key was revoked; configure a new one",
        )),
        Some(_) => Ok(false),
        None => {
            insert_api_key(core, name, secret, crate::scope::Scopes::all(), None, true)?;
            Ok(true)
        }
    }
}

/// Mark a directory active on its first successful SCIM request: `dsync.activated`
/// once, idempotently (concurrent first requests emit one event).
pub fn activate(core: &Core, dir: &DirectoryRow) -> CoreResult<bool> {
    if dir.activated_at.is_some() {
        return Ok(false);
    }
    let org = {
        let mut conn = core.db.conn()?;
        organizations::find_organization(&mut conn, &dir.organization_id)?
    };
    let d = dir.clone();
    let activated = core.write(dir, move |c, sink| {
        let dir = &d;
        let cur = directories::find_directory(c, &dir.id)?;
        let Some(mut cur) = cur else {
            return Ok(false);
        };
        if cur.activated_at.is_some() {
            return Ok(false);
        }
        let now = clock::now();
        directories::set_activated(c, &dir.id, now)?;
        cur.activated_at = Some(now);
        cur.state = DirectoryState::Linked;
        cur.updated_at = now;
        sink.emit(
            events::DIRECTORY_ACTIVATED,
            wire::DirectoryEvent::activated(&cur, org.as_ref()),
        );
        Ok(true)
    })?;
    if activated {
        core.auth.invalidate_directory(&dir.id);
        core.bus.publish(Notice::DirectoryChanged {
            directory_id: dir.id.clone(),
        });
    }
    Ok(activated)
}

/// The custom-attribute mappings of a directory and whether they are the type's defaults.
pub fn attribute_mappings(
    core: &Core,
    directory_id: &DirectoryId,
) -> CoreResult<(Vec<AttributeMapping>, bool)> {
    let dir = get_directory(core, directory_id)?;
    Ok((
        dir.mappings().into_owned(),
        dir.attribute_mappings.is_none(),
    ))
}

fn check_mappings(m: &[AttributeMapping]) -> CoreResult<()> {
    if m.len() > 100 {
        return Err(CoreError::invalid_value(
            "at most 100 attribute mappings per directory",
        ));
    }
    let mut keys = std::collections::HashSet::new();
    for a in m {
        let key_ok = !a.key.is_empty()
            && a.key.len() <= 64
            && a.key
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
            && a.key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !key_ok {
            return Err(CoreError::invalid_value(format!(
                "custom attribute key {:?} must be 1–64 characters of letters, digits or '_'",
                a.key
            )));
        }
        if a.path.trim().is_empty() || a.path.len() > 512 || a.path.contains('\0') {
            return Err(CoreError::invalid_value(format!(
                "invalid SCIM attribute path {:?}",
                a.path
            )));
        }
        if !keys.insert(a.key.clone()) {
            return Err(CoreError::invalid_value(format!(
                "custom attribute key {:?} is mapped twice",
                a.key
            )));
        }
    }
    Ok(())
}

/// Replace a directory's custom-attribute mappings (`None` = back to the type's
/// defaults) and re-normalize its users: those whose `custom_attributes` change get
/// `dsync.user.updated`, like any other change of meaning.
pub fn set_attribute_mappings(
    core: &Core,
    directory_id: &DirectoryId,
    mappings: Option<Vec<AttributeMapping>>,
) -> CoreResult<Vec<AttributeMapping>> {
    if let Some(m) = &mappings {
        check_mappings(m)?;
    }
    let dir = get_directory(core, directory_id)?;
    let stored = match &mappings {
        Some(m) => Some(serde_json::to_string(m).map_err(|e| CoreError::internal(e.to_string()))?),
        None => None,
    };
    let mut new_dir = dir.clone();
    new_dir.attribute_mappings = stored.clone();
    let (core2, nd) = (core.clone(), new_dir.clone());
    core.write(&dir, move |c, sink| {
        directories::set_attribute_mappings(c, &nd.id, &stored, clock::now())?;
        super::users::renormalize_all(&core2, c, &nd, sink)
    })?;
    core.auth.invalidate_directory(&dir.id);
    core.bus.publish(Notice::DirectoryChanged {
        directory_id: dir.id.clone(),
    });
    Ok(new_dir.mappings().into_owned())
}

/// Create an operator of the admin UI. The password is stored as an argon2id hash.
pub fn create_admin(core: &Core, email: &str, password: &str) -> CoreResult<(AdminUserId, String)> {
    let email = email.trim();
    let valid = email.len() <= 254
        && email
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.'))
        && !email.contains(char::is_whitespace);
    if !valid {
        return Err(CoreError::invalid_value(format!(
            "{email:?} is not an email address"
        )));
    }
    check_password(password)?;
    let hash = secrets::hash_password(password).map_err(CoreError::internal)?;
    let id = AdminUserId::new();
    let _g = core.db.write_guard(); // SQLite: the one writer
    let mut conn = core.db.conn()?;
    match credentials::insert_admin_user(&mut conn, &id, email, &hash, clock::now()) {
        Ok(()) => Ok((id, email.to_string())),
        Err(e) if store::is_unique_violation(&e) => Err(CoreError::Conflict {
            scim_type: None,
            detail: format!("an operator {email:?} already exists"),
        }),
        Err(e) => Err(e),
    }
}

/// An operator's password: at least 12 characters.
pub fn check_password(password: &str) -> CoreResult<()> {
    if password.chars().count() < 12 {
        return Err(CoreError::invalid_value(
            "the password must have at least 12 characters",
        ));
    }
    Ok(())
}
