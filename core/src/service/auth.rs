//! Bearer-token verification for the SCIM surface (directory tokens) and the vendor
//! API (API keys).
//!
//! Secrets are looked up by their SHA-256 hash and the stored hash is compared again in
//! constant time. Successful verifications are cached for at most `CACHE_TTL`, so a
//! verification costs a hash and a map lookup, and a revocation takes effect within
//! that time everywhere even if a wake-up is lost; revocations are also published on
//! the bus (Redis across instances) and drop cache entries at once.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use diesel::prelude::*;

use super::Core;
use crate::bus::Notice;
use crate::clock;
use crate::error::{CoreError, CoreResult};
use crate::model::{ApiKeyRow, DirectoryRow, TokenRow};
use crate::secrets;
use crate::store::schema::{api_keys, directories, directory_tokens};

pub const CACHE_TTL: Duration = Duration::from_millis(900);
const LAST_USED_EVERY: Duration = Duration::from_secs(60);
const MAX_ENTRIES: usize = 100_000;

#[derive(Debug, Clone)]
pub struct DirectoryAuth {
    pub token_id: String,
    pub directory: DirectoryRow,
}

#[derive(Debug, Clone)]
pub struct ApiKeyAuth {
    pub key_id: String,
}

#[derive(Clone)]
enum Entry {
    Dir(DirectoryAuth),
    Key(ApiKeyAuth),
}

struct Cached {
    entry: Entry,
    at: Instant,
}

#[derive(Default)]
pub struct AuthCache {
    entries: RwLock<HashMap<String, Cached>>,
    last_used: RwLock<HashMap<String, Instant>>,
}

impl AuthCache {
    fn get(&self, hash: &str) -> Option<Entry> {
        let map = self.entries.read().unwrap_or_else(|p| p.into_inner());
        map.get(hash)
            .filter(|c| c.at.elapsed() < CACHE_TTL)
            .map(|c| c.entry.clone())
    }

    fn put(&self, hash: String, entry: Entry) {
        let mut map = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_ENTRIES {
            map.retain(|_, c| c.at.elapsed() < CACHE_TTL);
        }
        map.insert(
            hash,
            Cached {
                entry,
                at: Instant::now(),
            },
        );
    }

    /// Drop a cached verification (revocation).
    pub fn invalidate(&self, hash: &str) {
        let mut map = self.entries.write().unwrap_or_else(|p| p.into_inner());
        map.remove(hash);
    }

    /// Drop every cached verification of a directory (deleted, changed).
    pub fn invalidate_directory(&self, directory_id: &str) {
        let mut map = self.entries.write().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, c| match &c.entry {
            Entry::Dir(d) => d.directory.id != directory_id,
            Entry::Key(_) => true,
        });
    }

    /// Apply a notice from the bus.
    pub fn on_notice(&self, n: &Notice) {
        match n {
            Notice::Revoked { hash } => self.invalidate(hash),
            Notice::DirectoryChanged { directory_id } => self.invalidate_directory(directory_id),
            Notice::Events { .. } => {}
        }
    }

    /// True when the last-used time of `id` should be written now (at most once a minute).
    fn should_touch(&self, id: &str) -> bool {
        {
            let m = self.last_used.read().unwrap_or_else(|p| p.into_inner());
            if let Some(t) = m.get(id) {
                if t.elapsed() < LAST_USED_EVERY {
                    return false;
                }
            }
        }
        let mut m = self.last_used.write().unwrap_or_else(|p| p.into_inner());
        if m.len() >= MAX_ENTRIES {
            m.clear();
        }
        m.insert(id.to_string(), Instant::now());
        true
    }
}

fn unauthorized() -> CoreError {
    CoreError::Unauthorized("missing or invalid bearer token".into())
}

/// Verify a directory bearer token for the directory named in the URL. A token of
/// another directory gets the same answer as a wrong token.
pub fn verify_directory_token(
    core: &Core,
    token: &str,
    directory_id: &str,
) -> CoreResult<DirectoryAuth> {
    if !token.starts_with(secrets::DIRECTORY_TOKEN_PREFIX) || token.len() > 200 {
        return Err(unauthorized());
    }
    let hash = secrets::hash(token);
    if let Some(Entry::Dir(d)) = core.auth.get(&hash) {
        return if secrets::ct_eq(&d.directory.id, directory_id) {
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
    let row: Option<(TokenRow, DirectoryRow)> = directory_tokens::table
        .inner_join(directories::table)
        .filter(directory_tokens::token_hash.eq(&hash))
        .filter(directory_tokens::revoked_at.is_null())
        .select((TokenRow::as_select(), DirectoryRow::as_select()))
        .first(&mut conn)
        .optional()?;
    let Some((tok, dir)) = row else {
        return Err(unauthorized());
    };
    if !secrets::ct_eq(&tok.token_hash, &hash) {
        return Err(unauthorized());
    }
    if core.auth.should_touch(&tok.id) {
        // SQLite has one writer: writes outside Core::write take the writer lock too
        let _g = core.db.write_guard();
        diesel::update(directory_tokens::table.filter(directory_tokens::id.eq(&tok.id)))
            .set(directory_tokens::last_used_at.eq(Some(clock::now())))
            .execute(&mut conn)?;
    }
    let auth = DirectoryAuth {
        token_id: tok.id,
        directory: dir,
    };
    core.auth.put(hash, Entry::Dir(auth.clone()));
    if secrets::ct_eq(&auth.directory.id, directory_id) {
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
        return Ok(k);
    }
    let mut conn = core.db.conn()?;
    let row: Option<ApiKeyRow> = api_keys::table
        .filter(api_keys::key_hash.eq(&hash))
        .filter(api_keys::revoked_at.is_null())
        .select(ApiKeyRow::as_select())
        .first(&mut conn)
        .optional()?;
    let Some(row) = row else {
        return Err(unauthorized());
    };
    if !secrets::ct_eq(&row.key_hash, &hash) {
        return Err(unauthorized());
    }
    if core.auth.should_touch(&row.id) {
        let _g = core.db.write_guard();
        diesel::update(api_keys::table.filter(api_keys::id.eq(&row.id)))
            .set(api_keys::last_used_at.eq(Some(clock::now())))
            .execute(&mut conn)?;
    }
    let auth = ApiKeyAuth { key_id: row.id };
    core.auth.put(hash, Entry::Key(auth.clone()));
    Ok(auth)
}
