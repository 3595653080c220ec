//! The application services: everything a request handler calls. Each public
//! function is synchronous (diesel); handlers run them in `web::block`, or point reads
//! in [`without_waiting`] on the HTTP worker itself. Services are domain logic over
//! `store`'s named functions: no SQL, no dialect.
//!
//! The modules use each other one way only (→ reads "uses"):
//! - `groups` → `roles` → `users` → `user_write_batch`; `admin` → `users`;
//!   `snapshot` → `users`;
//! - those, `vendor_reads`, `auth`, `event_feed`, `maintenance` and `list_paging` →
//!   this module (`Core`), which → `group_commit` → `user_write_batch`, and →
//!   `auth_cache`;
//! - `directory_user` (the WorkOS objects) and `list_paging` (pages and cursors) are
//!   used by the others and use nothing of theirs but `Core`.

pub mod admin;
pub mod admin_ui;
pub mod api_keys;
pub mod audit;
pub mod auth;
mod auth_cache;
pub mod auth_limits;
pub mod directory_user;
pub mod event_feed;
mod group_commit;
pub mod groups;
pub mod list_paging;
pub mod maintenance;
pub mod roles;
pub mod snapshot;
pub mod sync_health;
mod user_write_batch;
pub mod users;
pub mod vendor_reads;
pub mod webhooks;

pub(crate) use group_commit::Scope;
pub use group_commit::WriteStats;

/// A write prepared to run (by [`Core::run`] on a thread that may wait, or
/// [`Core::run_async`] from an async task): the directory, its scope and the job,
/// whose result is kept for the caller once the batch holding it commits.
pub struct Write<T> {
    dir: DirectoryRow,
    scope: Scope,
    job: group_commit::Job,
    slot: Arc<Mutex<Option<T>>>,
}

trait TakeResult<T> {
    fn take(&self) -> CoreResult<T>;
}

impl<T> TakeResult<T> for Arc<Mutex<Option<T>>> {
    fn take(&self) -> CoreResult<T> {
        let v = self.lock().unwrap_or_else(|p| p.into_inner()).take();
        v.ok_or_else(|| CoreError::internal("write finished without a result"))
    }
}

/// Reads run on a thread that must not block (see `store::without_waiting`).
pub use crate::store::without_waiting;

use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::bus::Bus;
use crate::error::{CoreError, CoreResult};
use crate::events::EventSink;
use crate::ids::DirectoryId;
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
    /// Audit record retention in days; 0 keeps them forever.
    pub audit_retention_days: u32,
    /// Rate limits and lock-outs (counted by `Core::limiter`).
    pub limits: crate::ratelimit::Limits,
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
            audit_retention_days: 365,
            limits: crate::ratelimit::Limits::default(),
        }
    }
}

/// The domain, shared by all handlers of one process. Its parts are the services'
/// own: handlers reach the database only through service functions.
#[derive(Clone)]
pub struct Core {
    db: Db,
    bus: Bus,
    settings: Arc<Settings>,
    auth: Arc<auth_cache::AuthCache>,
    /// Counts of committed write batches, for `/metrics` and tests.
    write_stats: Arc<WriteStats>,
    combiner: Arc<group_commit::Combiner>,
    /// Seals secrets that must be read back (`None`: not configured, see [`Core::sealer`]).
    sealer: Option<Arc<crate::seal::Sealer>>,
    /// Counters of rate limits and lock-outs (in process unless Redis is configured).
    limiter: Arc<crate::ratelimit::Limiter>,
    /// SCIM requests counted for the admin UI's sync health, not yet flushed.
    sync_health: Arc<sync_health::SyncHealth>,
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
            auth: Arc::new(auth_cache::AuthCache::default()),
            write_stats: Arc::new(WriteStats::default()),
            combiner: Arc::new(group_commit::Combiner::default()),
            sealer: None,
            limiter: Arc::new(crate::ratelimit::Limiter::in_process()),
            sync_health: Arc::new(sync_health::SyncHealth::default()),
        }
    }

    /// Where SCIM requests are counted for the sync health (`service::sync_health`).
    pub fn sync_health(&self) -> &sync_health::SyncHealth {
        &self.sync_health
    }

    /// This core with the keys that seal secrets at rest.
    pub fn with_sealer(mut self, sealer: crate::seal::Sealer) -> Core {
        self.sealer = Some(Arc::new(sealer));
        self
    }

    /// This core with shared (Redis) rate-limit counters.
    pub fn with_limiter(mut self, limiter: crate::ratelimit::Limiter) -> Core {
        self.limiter = Arc::new(limiter);
        self
    }

    /// The sealer of secrets at rest; an error where none is configured (a secret is
    /// never sealed with a key nobody kept).
    pub fn sealer(&self) -> CoreResult<&crate::seal::Sealer> {
        self.sealer.as_deref().ok_or_else(|| {
            crate::error::CoreError::internal("no key to seal secrets is configured")
        })
    }

    /// Rate-limit counters and lock-outs.
    pub fn limiter(&self) -> &Arc<crate::ratelimit::Limiter> {
        &self.limiter
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// How write batches ended since start (`/metrics`).
    pub fn write_stats(&self) -> &WriteStats {
        &self.write_stats
    }

    /// Whether the database answers (`/readyz`).
    pub fn ping(&self) -> bool {
        self.db.ping()
    }

    /// The database, for tests that look into it directly (the HTTP crate reaches it
    /// only through the services).
    #[doc(hidden)]
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The notices between handlers, long polls and instances (`crate::bus`).
    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    /// The SCIM base URL of a directory.
    pub fn scim_base(&self, directory_id: &DirectoryId) -> String {
        format!("{}/scim/v2/{}", self.settings.public_url, directory_id)
    }

    /// Run `f` as part of a write transaction of `dir`: serialized per directory, its
    /// events appended in the same transaction, a wake-up published after commit.
    ///
    /// Concurrent writes to one directory are combined (group commit): the first
    /// waiting caller becomes the leader and applies every queued write in one
    /// transaction, each inside its own savepoint, so a failing write changes nothing
    /// and the others still commit; one commit (one WAL flush) serves the whole batch.
    /// A caller gets its answer only after the commit that holds its change.
    pub fn write<T: Send + 'static>(
        &self,
        dir: &DirectoryRow,
        f: impl Fn(&mut AnyConn, &mut EventSink) -> CoreResult<T> + Send + Sync + 'static,
    ) -> CoreResult<T> {
        self.write_scoped(dir, Scope::Other, f)
    }

    /// [`Core::write`] of a write whose [`Scope`] is known.
    pub(crate) fn write_scoped<T: Send + 'static>(
        &self,
        dir: &DirectoryRow,
        scope: Scope,
        f: impl Fn(&mut AnyConn, &mut EventSink) -> CoreResult<T> + Send + Sync + 'static,
    ) -> CoreResult<T> {
        self.run(self.prepare(dir, scope, f))
    }

    /// A write of `dir` ready to run (see [`Write`]).
    pub(crate) fn prepare<T: Send + 'static>(
        &self,
        dir: &DirectoryRow,
        scope: Scope,
        f: impl Fn(&mut AnyConn, &mut EventSink) -> CoreResult<T> + Send + Sync + 'static,
    ) -> Write<T> {
        let slot: Arc<Mutex<Option<T>>> = Arc::new(Mutex::new(None));
        let out = slot.clone();
        let job: group_commit::Job = Arc::new(move |c: &mut AnyConn, sink: &mut EventSink| {
            let v = f(c, sink)?;
            *out.lock().unwrap_or_else(|p| p.into_inner()) = Some(v);
            Ok(())
        });
        Write {
            dir: dir.clone(),
            scope,
            job,
            slot,
        }
    }

    /// Run a prepared write, waiting on this thread for the commit that holds it.
    pub fn run<T>(&self, w: Write<T>) -> CoreResult<T> {
        // a write waits for its batch: never on a thread that must not wait
        if let Some(e) = store::refuse_waiting("a write") {
            return Err(e);
        }
        self.combiner.submit(self, &w.dir, w.job, w.scope)?;
        w.slot.take()
    }

    /// Run a prepared write from an async task of runtime `rt`, awaiting the commit
    /// that holds it: no thread waits meanwhile (the batch is committed by a leader on
    /// `rt`'s blocking pool, or by a thread already leading the directory's writes).
    pub async fn run_async<T>(&self, w: Write<T>, rt: tokio::runtime::Handle) -> CoreResult<T> {
        let answer = self.combiner.submit_async(self, &w.dir, w.job, w.scope, rt);
        answer
            .await
            .map_err(|_| CoreError::internal("the write's batch was dropped"))??;
        w.slot.take()
    }

    /// A write (prepared, see [`Write`]) on one resource of `dir`: `f` gets the core,
    /// the connection, the sink, the directory, the resource id and the `If-Match`
    /// value (owned copies, as the write may run on another thread, and twice).
    #[allow(clippy::type_complexity)]
    pub(crate) fn prepare_on<I: Clone + Send + Sync + 'static, T: Send + 'static>(
        &self,
        dir: &DirectoryRow,
        scope: Scope,
        id: &I,
        if_match: Option<&str>,
        f: impl Fn(
                &Core,
                &mut AnyConn,
                &mut EventSink,
                &DirectoryRow,
                &I,
                Option<&str>,
            ) -> CoreResult<T>
            + Send
            + Sync
            + 'static,
    ) -> Write<T> {
        let (core, d, id, im) = (
            self.clone(),
            dir.clone(),
            id.clone(),
            if_match.map(str::to_string),
        );
        self.prepare(dir, scope, move |c, sink| {
            f(&core, c, sink, &d, &id, im.as_deref())
        })
    }

    /// Hold back the writes of `dir` until the guard is dropped, then commit the ones
    /// submitted meanwhile as one batch, in submission order. For tests of batching.
    #[doc(hidden)]
    pub fn pause_writes(&self, dir: &DirectoryRow) -> impl Drop {
        self.combiner.pause(self, dir)
    }

    /// How many writes of `dir` wait for a batch (see [`Core::pause_writes`]).
    #[doc(hidden)]
    pub fn queued_writes(&self, dir: &DirectoryRow) -> usize {
        self.combiner.queued(&dir.id)
    }

    /// `If-Match` against a resource version (RFC 7644 §3.14): 412 on mismatch.
    pub(crate) fn check_if_match(version: i64, if_match: Option<&str>) -> CoreResult<()> {
        match if_match {
            Some(h) if !crate::scim::resource::if_match_ok(h, version) => {
                Err(CoreError::PreconditionFailed(format!(
                    "If-Match {h} does not match the current version {}",
                    crate::scim::resource::etag(version)
                )))
            }
            _ => Ok(()),
        }
    }

    /// The PATCH operation cap.
    pub(crate) fn check_ops<T>(&self, ops: &[T]) -> CoreResult<()> {
        if ops.len() > self.settings.max_patch_ops {
            return Err(CoreError::too_many(format!(
                "{} operations; at most {} are allowed per PATCH",
                ops.len(),
                self.settings.max_patch_ops
            )));
        }
        Ok(())
    }

    /// Check a body's `id` against the URL's (IDP-QUIRKS REJECT: body id ≠ URL id).
    pub(crate) fn check_body_id(body: &Value, id: &str) -> CoreResult<()> {
        match body.get("id") {
            Some(Value::String(s)) if s != id => Err(CoreError::mutability(format!(
                "`id` is readOnly: the body says {s:?} but the URL names {id:?}"
            ))),
            _ => Ok(()),
        }
    }
}

impl group_commit::Committer for Core {
    fn commit_batch(
        &self,
        dir: &DirectoryRow,
        jobs: Vec<group_commit::Pending>,
    ) -> Vec<(group_commit::Pending, CoreResult<()>)> {
        group_commit::commit_batch(&self.db, &self.bus, &self.write_stats, dir, jobs)
    }
}
