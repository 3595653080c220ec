//! Vendor API keys with least privilege: scopes (`crate::scope`), a name, the time
//! of last use, an optional expiry; created (the secret shown once), listed (never
//! the secret), revoked: at once on this instance and, through the bus (Redis across
//! instances), on every other, whose cached verifications are dropped
//! (`auth_cache`). `SCIMGATE_BOOTSTRAP_API_KEY` is kept in step with the
//! configuration ([`sync_bootstrap`]).

use chrono::NaiveDateTime;

use super::admin::{ensure_api_key, insert_api_key};
use super::Core;
use crate::bus::Notice;
use crate::clock;
use crate::error::CoreResult;
use crate::ids::{ApiKeyId, PrefixedId};
use crate::model::ApiKeyRow;
use crate::scope::Scopes;
use crate::secrets;
use crate::store::credentials;

/// Create a key; returns the row and the secret (shown once).
pub fn create(
    core: &Core,
    name: &str,
    scopes: Scopes,
    expires_at: Option<NaiveDateTime>,
) -> CoreResult<(ApiKeyRow, String)> {
    let secret = secrets::generate(secrets::API_KEY_PREFIX);
    let row = insert_api_key(core, name, &secret, scopes, expires_at, false)?;
    Ok((row, secret))
}

/// The keys that are not revoked (expired ones included, so they can be revoked).
pub fn list(core: &Core) -> CoreResult<Vec<ApiKeyRow>> {
    let mut conn = core.db.conn()?;
    credentials::active_api_keys(&mut conn)
}

/// Revoke a key: refused at once here and, through the bus, on every instance.
pub fn revoke(core: &Core, id: &ApiKeyId) -> CoreResult<ApiKeyRow> {
    let row = {
        let _g = core.db.write_guard(); // SQLite: the one writer
        let mut conn = core.db.conn()?;
        let row = credentials::find_active_api_key(&mut conn, id)?.ok_or_else(|| id.not_found())?;
        if !credentials::revoke_api_key(&mut conn, id, clock::now())? {
            return Err(id.not_found());
        }
        row
    };
    forget(core, &row);
    Ok(row)
}

/// Drop a key's cached verification here and on every instance.
fn forget(core: &Core, row: &ApiKeyRow) {
    core.auth.invalidate(&row.key_hash);
    core.bus.publish(Notice::Revoked {
        hash: row.key_hash.clone(),
    });
}

/// What [`sync_bootstrap`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BootstrapSync {
    /// The configured key was created now.
    pub created: bool,
    /// Earlier bootstrap keys, no longer configured, revoked now.
    pub revoked: Vec<ApiKeyId>,
}

/// Keep the bootstrap key in step with `SCIMGATE_BOOTSTRAP_API_KEY`: the configured
/// key exists (refused if guessable or revoked), and any earlier bootstrap key the
/// setting no longer names is revoked, so a key removed from the configuration stops
/// working.
pub fn sync_bootstrap(core: &Core, configured: Option<&str>) -> CoreResult<BootstrapSync> {
    let created = match configured {
        Some(secret) => ensure_api_key(core, secret, "bootstrap")?,
        None => false,
    };
    let hash = configured.map(secrets::hash);
    let stale = {
        let mut conn = core.db.conn()?;
        credentials::other_bootstrap_keys(&mut conn, hash.as_deref())?
    };
    let mut revoked = Vec::new();
    for k in stale {
        revoke(core, &k.id)?;
        revoked.push(k.id);
    }
    Ok(BootstrapSync { created, revoked })
}
