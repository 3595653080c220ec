//! The application services: everything a request handler calls. Each public
//! function is synchronous (diesel); handlers run them in `web::block`.

pub mod admin;
pub mod auth;
pub mod directory_user;
pub mod groups;
pub mod reads;
pub mod users;

use std::sync::Arc;

use diesel::Connection;

use crate::bus::{Bus, Notice};
use crate::error::CoreResult;
use crate::events::{self, EventSink};
use crate::model::DirectoryRow;
use crate::store::{self, AnyConn, Db};

/// What happens to users who become inactive (WorkOS environments allow both,
/// WIRE-COMPAT.md §5): keep them with `state: inactive`, or delete them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InactivePolicy {
    Keep,
    Delete,
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// Externally visible base URL, without trailing slash (SCIM `location`s, scim_url).
    pub public_url: String,
    /// Maximum SCIM page size (`count` is lowered to it, RFC 7644 §3.4.2.4).
    pub max_page_size: i64,
    /// Maximum PATCH operations per request.
    pub max_patch_ops: usize,
    /// Maximum members referenced by one write.
    pub max_members_per_write: usize,
    pub inactive_users: InactivePolicy,
    /// Event retention in days; 0 keeps events forever.
    pub event_retention_days: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            public_url: "http://127.0.0.1:8080".into(),
            max_page_size: 1000,
            max_patch_ops: 1000,
            max_members_per_write: 10_000,
            inactive_users: InactivePolicy::Keep,
            event_retention_days: 30,
        }
    }
}

/// The domain, shared by all handlers of one process.
#[derive(Clone)]
pub struct Core {
    pub db: Db,
    pub bus: Bus,
    pub settings: Arc<Settings>,
    pub auth: Arc<auth::AuthCache>,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core").field("db", &self.db).finish()
    }
}

impl Core {
    pub fn new(db: Db, bus: Bus, settings: Settings) -> Core {
        Core {
            db,
            bus,
            settings: Arc::new(settings),
            auth: Arc::new(auth::AuthCache::default()),
        }
    }

    /// The SCIM base URL of a directory.
    pub fn scim_base(&self, directory_id: &str) -> String {
        format!("{}/scim/v2/{}", self.settings.public_url, directory_id)
    }

    /// Run `f` as one write transaction of `dir`: serialized per directory, events
    /// appended in the same transaction, a wake-up published after commit.
    pub fn write<T>(
        &self,
        dir: &DirectoryRow,
        f: impl FnOnce(&mut AnyConn, &mut EventSink) -> CoreResult<T>,
    ) -> CoreResult<T> {
        let _guard = self.db.write_guard();
        let mut conn = self.db.conn()?;
        let (out, appended) = conn.transaction(|c| {
            store::lock_directory(c, &dir.id)?;
            let mut sink = EventSink::new();
            let out = f(c, &mut sink)?;
            let appended = events::append(c, &dir.id, &dir.organization_id, sink)?;
            Ok::<_, crate::error::CoreError>((out, appended))
        })?;
        if appended.count > 0 {
            self.bus.publish(Notice::Events {
                directory_id: appended.directory_id,
                organization_id: appended.organization_id,
                last_seq: appended.last_seq,
            });
        }
        Ok(out)
    }
}
