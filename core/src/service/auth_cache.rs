//! The cache of verified credentials (directory tokens and API keys), by the hash of
//! the secret: entries live at most [`CACHE_TTL`], so a revocation takes effect within
//! that time everywhere even if a wake-up is lost; revocations and directory changes
//! from the bus drop entries at once (`service::maintenance`).

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;

use crate::bus::Notice;
use crate::ids::{ApiKeyId, DirectoryId, TokenId};
use crate::model::DirectoryRow;
use crate::scope::Scopes;

pub const CACHE_TTL: Duration = Duration::from_millis(900);
const LAST_USED_EVERY: Duration = Duration::from_secs(60);
const MAX_ENTRIES: usize = 100_000;

#[derive(Debug, Clone)]
pub struct DirectoryAuth {
    pub token_id: TokenId,
    pub directory: DirectoryRow,
    /// The token's expiry, checked on every use (cached or not).
    pub expires_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone)]
pub struct ApiKeyAuth {
    pub key_id: ApiKeyId,
    pub name: String,
    pub scopes: Scopes,
    /// The key's expiry, checked on every use (cached or not).
    pub expires_at: Option<NaiveDateTime>,
}

#[derive(Clone)]
pub(super) enum Entry {
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
    pub(super) fn get(&self, hash: &str) -> Option<Entry> {
        let map = self.entries.read().unwrap_or_else(|p| p.into_inner());
        map.get(hash)
            .filter(|c| c.at.elapsed() < CACHE_TTL)
            .map(|c| c.entry.clone())
    }

    pub(super) fn put(&self, hash: String, entry: Entry) {
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
    pub fn invalidate_directory(&self, directory_id: &DirectoryId) {
        let mut map = self.entries.write().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, c| match &c.entry {
            Entry::Dir(d) => &d.directory.id != directory_id,
            Entry::Key(_) => true,
        });
    }

    /// Apply a notice from the bus.
    pub fn on_notice(&self, n: &Notice) {
        match n {
            Notice::Revoked { hash } => self.invalidate(hash),
            Notice::DirectoryChanged { directory_id } => self.invalidate_directory(directory_id),
            Notice::Events { .. } | Notice::Webhooks | Notice::Health { .. } => {}
        }
    }

    /// True when the last-used time of `id` (a token's or a key's) should be written
    /// now (at most once a minute).
    pub(super) fn should_touch(&self, id: &str) -> bool {
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
