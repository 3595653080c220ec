//! Bearer-token verification for the SCIM surface (directory tokens) and the vendor
//! API (API keys).
//!
//! Secrets are looked up by their SHA-256 hash and the stored hash is compared again in
//! constant time. Successful verifications are cached for at most `CACHE_TTL`, so a
//! verification costs a hash and a map lookup, and a revocation takes effect within
//! that time everywhere even if a wake-up is lost; revocations are also published on
//! the bus (Redis across instances) and drop cache entries at once.

use super::auth_cache::Entry;
use super::Core;
use crate::clock;
use crate::error::{CoreError, CoreResult};
use crate::ids::DirectoryId;
use crate::scope::Scopes;
use crate::secrets;
use crate::store::credentials;

pub use super::auth_cache::{ApiKeyAuth, AuthCache, DirectoryAuth, CACHE_TTL};

/// Whether an expiry has passed.
fn expired(expires_at: Option<chrono::NaiveDateTime>) -> bool {
    expires_at.is_some_and(|t| t <= clock::now())
}

fn unauthorized() -> CoreError {
    CoreError::Unauthorized("missing or invalid bearer token".into())
}

/// Verify a directory bearer token for the directory named in the URL. A token of
/// another directory gets the same answer as a wrong token.
pub fn verify_directory_token(
    core: &Core,
    token: &str,
    directory_id: &DirectoryId,
) -> CoreResult<DirectoryAuth> {
    if !token.starts_with(secrets::DIRECTORY_TOKEN_PREFIX) || token.len() > 200 {
        return Err(unauthorized());
    }
    let hash = secrets::hash(token);
    if let Some(Entry::Dir(d)) = core.auth.get(&hash) {
        return if secrets::ct_eq(d.directory.id.as_str(), directory_id.as_str())
            && !expired(d.expires_at)
        {
            Ok(d)
        } else {
            Err(unauthorized())
        };
    }
    // not cached: verified on a thread that may wait (it may write the last-used time)
    if let Some(e) = crate::store::refuse_waiting("a token not in the cache") {
        return Err(e);
    }
    let mut conn = core.db.conn()?;
    let row = credentials::find_token_by_hash(&mut conn, &hash)?;
    let Some((tok, dir)) = row else {
        return Err(unauthorized());
    };
    if !secrets::ct_eq(&tok.token_hash, &hash) || expired(tok.expires_at) {
        return Err(unauthorized());
    }
    if core.auth.should_touch(tok.id.as_str()) {
        // SQLite has one writer: writes outside Core::write take the writer lock too
        let _g = core.db.write_guard();
        credentials::set_token_last_used(&mut conn, &tok.id, clock::now())?;
    }
    let auth = DirectoryAuth {
        token_id: tok.id,
        directory: dir,
        expires_at: tok.expires_at,
    };
    core.auth.put(hash, Entry::Dir(auth.clone()));
    if secrets::ct_eq(auth.directory.id.as_str(), directory_id.as_str()) {
        Ok(auth)
    } else {
        Err(unauthorized())
    }
}

/// Verify a vendor API key (`sk_…`).
pub fn verify_api_key(core: &Core, key: &str) -> CoreResult<ApiKeyAuth> {
    if !key.starts_with(secrets::API_KEY_PREFIX) || key.len() > 200 {
        return Err(unauthorized());
    }
    let hash = secrets::hash(key);
    if let Some(Entry::Key(k)) = core.auth.get(&hash) {
        return if expired(k.expires_at) {
            Err(unauthorized())
        } else {
            Ok(k)
        };
    }
    // not cached: verified on a thread that may wait (it may write the last-used time)
    if let Some(e) = crate::store::refuse_waiting("an API key not in the cache") {
        return Err(e);
    }
    let mut conn = core.db.conn()?;
    let row = credentials::find_api_key_by_hash(&mut conn, &hash)?;
    let Some(row) = row else {
        return Err(unauthorized());
    };
    if !secrets::ct_eq(&row.key_hash, &hash) || expired(row.expires_at) {
        return Err(unauthorized());
    }
    if core.auth.should_touch(row.id.as_str()) {
        let _g = core.db.write_guard();
        credentials::set_api_key_last_used(&mut conn, &row.id, clock::now())?;
    }
    let auth = ApiKeyAuth {
        key_id: row.id,
        name: row.name,
        scopes: Scopes::from_stored(&row.scopes),
        expires_at: row.expires_at,
    };
    core.auth.put(hash, Entry::Key(auth.clone()));
    Ok(auth)
}
