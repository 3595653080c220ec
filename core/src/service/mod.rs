//! The application services: everything a request handler calls. Each public
//! function is synchronous (diesel); handlers run them in `web::block`, or point reads
//! in [`without_waiting`] on the HTTP worker itself.

pub mod admin;
pub mod auth;
mod batch;
mod combine;
pub mod directory_user;
pub mod groups;
#[cfg(test)]
mod list_plans;
pub mod reads;
pub mod roles;
pub mod snapshot;
pub mod users;

/// A write prepared to run (by [`Core::run`] on a thread that may wait, or
/// [`Core::run_async`] from an async task): the directory, its scope and the job,
/// whose result is kept for the caller once the batch holding it commits.
pub struct Write<T> {
    dir: DirectoryRow,
    scope: Scope,
    job: combine::Job,
    slot: Arc<Mutex<Option<T>>>,
}

trait TakeResult<T> {
    fn take(&self) -> CoreResult<T>;
}

impl<T> TakeResult<T> for Arc<Mutex<Option<T>>> {
    fn take(&self) -> CoreResult<T> {
        let v = self.lock().unwrap_or_else(|p| p.into_inner()).take();
        v.ok_or_else(|| crate::error::CoreError::internal("write finished without a result"))
    }
}

/// Reads run on a thread that must not block (see `store::without_waiting`).
pub use crate::store::without_waiting;

use std::sync::{Arc, Mutex};

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

/// What a write touches. A batch of writes that all touch users only (creates, or
/// writes of one user each) gets the read-ahead and write-behind of `batch`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Creates a user, or changes the user with this id (and nothing of other users).
    User(Option<String>),
    Other,
}

/// The domain, shared by all handlers of one process.
#[derive(Clone)]
pub struct Core {
    pub db: Db,
    pub bus: Bus,
    pub settings: Arc<Settings>,
    pub auth: Arc<auth::AuthCache>,
    /// Counts of committed write batches, for `/metrics` and tests.
    pub write_stats: Arc<WriteStats>,
    combiner: Arc<combine::Combiner>,
}

/// How write batches ended since start (`Core::commit_batch`): `optimistic` batches
/// committed whole in their first attempt; a `per_write` batch had a write fail in it
/// and committed in a second attempt with a savepoint per write; an `uncommitted` batch
/// committed nothing (a lone write that failed, or a commit the database refused).
/// `writes` counts the writes of all batches.
#[derive(Debug, Default)]
pub struct WriteStats {
    pub optimistic: std::sync::atomic::AtomicU64,
    pub per_write: std::sync::atomic::AtomicU64,
    pub uncommitted: std::sync::atomic::AtomicU64,
    pub writes: std::sync::atomic::AtomicU64,
}

impl WriteStats {
    fn count(&self, counter: &std::sync::atomic::AtomicU64, writes: usize) {
        use std::sync::atomic::Ordering::Relaxed;
        counter.fetch_add(1, Relaxed);
        self.writes.fetch_add(writes as u64, Relaxed);
    }
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
            write_stats: Arc::new(WriteStats::default()),
            combiner: Arc::new(combine::Combiner::default()),
        }
    }

    /// The SCIM base URL of a directory.
    pub fn scim_base(&self, directory_id: &str) -> String {
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
        let job: combine::Job = Arc::new(move |c: &mut AnyConn, sink: &mut EventSink| {
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
            .map_err(|_| crate::error::CoreError::internal("the write's batch was dropped"))??;
        w.slot.take()
    }

    /// A write (prepared, see [`Write`]) on one resource of `dir`: `f` gets the core,
    /// the connection, the sink, the directory, the resource id and the `If-Match`
    /// value (owned copies, as the write may run on another thread, and twice).
    #[allow(clippy::type_complexity)]
    pub(crate) fn prepare_on<T: Send + 'static>(
        &self,
        dir: &DirectoryRow,
        scope: Scope,
        id: &str,
        if_match: Option<&str>,
        f: impl Fn(
                &Core,
                &mut AnyConn,
                &mut EventSink,
                &DirectoryRow,
                &str,
                Option<&str>,
            ) -> CoreResult<T>
            + Send
            + Sync
            + 'static,
    ) -> Write<T> {
        let (core, d, id, im) = (
            self.clone(),
            dir.clone(),
            id.to_string(),
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
                Err(crate::error::CoreError::PreconditionFailed(format!(
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
            return Err(crate::error::CoreError::too_many(format!(
                "{} operations; at most {} are allowed per PATCH",
                ops.len(),
                self.settings.max_patch_ops
            )));
        }
        Ok(())
    }

    /// The optimistic attempt for a batch of user creates on PostgreSQL: the jobs run
    /// with a batch context and touch no database (each defers its insert, see
    /// `users::prepare_create`); the users, their index rows and the events are then
    /// written by one statement on its own, which takes the directory's lock itself
    /// (`events::append_standalone`): one round trip for the batch instead of four.
    /// Any error (a userName taken) leaves nothing written, and `commit_batch` runs
    /// the jobs again one by one in a transaction, where each meets its own error.
    fn commit_creates(
        &self,
        conn: &mut store::AnyConn,
        dir: &DirectoryRow,
        jobs: &[combine::Pending],
    ) -> CoreResult<events::Appended> {
        let _ctx = batch::start(std::collections::HashMap::new());
        let mut all = EventSink::new();
        for j in jobs {
            (j.job)(conn, &mut all)?;
        }
        let created = batch::take_created();
        if all.is_empty() {
            // creates that emit nothing (inactive users under the delete policy)
            return store::directory_transaction(conn, &dir.id, |c| {
                users::insert_users(c, &created)?;
                events::append(c, &dir.id, &dir.organization_id, all)
            });
        }
        let ctes = users::insert_users_ctes(&created, events::AFTER_SEQ)?;
        events::append_standalone(conn, &dir.id, &dir.organization_id, all, ctes)
    }

    /// The optimistic attempt for any batch: every job in one transaction, without
    /// savepoints; a batch of user writes (`user_batch`, PostgreSQL) reads its users
    /// ahead in one query and writes them back at the end (`batch`).
    fn commit_together(
        &self,
        conn: &mut store::AnyConn,
        dir: &DirectoryRow,
        jobs: &[combine::Pending],
        user_batch: bool,
    ) -> CoreResult<events::Appended> {
        store::directory_transaction(conn, &dir.id, |c| {
            let _ctx = if user_batch {
                let ids: Vec<String> = jobs
                    .iter()
                    .filter_map(|j| match &j.scope {
                        Scope::User(Some(id)) => Some(id.clone()),
                        _ => None,
                    })
                    .collect();
                Some(batch::start(users::find_many_with_groups(
                    c, &dir.id, &ids,
                )?))
            } else {
                None
            };
            let mut all = EventSink::new();
            for j in jobs {
                let mut sink = EventSink::new();
                (j.job)(c, &mut sink)?;
                if let Scope::User(Some(id)) = &j.scope {
                    batch::forget(id);
                }
                all.extend(sink);
            }
            batch::settle(c)?;
            events::append(c, &dir.id, &dir.organization_id, all)
        })
    }

    /// Commit a batch of writes of one directory. First optimistically, all jobs in
    /// one transaction without savepoints (one round trip less per write); if any job
    /// fails, that attempt is rolled back whole and the batch runs again with a
    /// savepoint per job, so exactly the failing writes fail. Jobs are re-runnable.
    pub(crate) fn commit_batch(
        &self,
        dir: &DirectoryRow,
        jobs: Vec<combine::Pending>,
    ) -> Vec<(combine::Pending, CoreResult<()>)> {
        let started = std::time::Instant::now();
        let batch = jobs.len();
        let _guard = self.db.write_guard();
        let mut conn = match self.db.conn() {
            Ok(c) => c,
            Err(e) => {
                self.write_stats.count(&self.write_stats.uncommitted, batch);
                let msg = e.to_string();
                return jobs
                    .into_iter()
                    .map(|j| (j, Err(crate::error::CoreError::Pool(msg.clone()))))
                    .collect();
            }
        };
        // attempt 1: no savepoints
        let mut first_error: Option<crate::error::CoreError> = None;
        // a batch of user writes reads its users ahead and writes them back at the end
        let user_batch = batch > 1
            && self.db.dialect() == store::Dialect::Pg
            && jobs.iter().all(|j| matches!(j.scope, Scope::User(_)));
        // creates only (PostgreSQL): their rows and events in one statement
        let creates_only = self.db.dialect() == store::Dialect::Pg
            && jobs.iter().all(|j| j.scope == Scope::User(None));
        let optimistic = if creates_only {
            self.commit_creates(&mut conn, dir, &jobs)
        } else {
            self.commit_together(&mut conn, dir, &jobs, user_batch)
        };
        let stats = &self.write_stats;
        let (committed, results) = match optimistic {
            Ok(appended) => {
                stats.count(&stats.optimistic, batch);
                (
                    Ok(appended),
                    jobs.iter().map(|_| Ok(())).collect::<Vec<_>>(),
                )
            }
            // a create's own errors (a taken userName) are its job's, run alone below
            Err(e) if batch == 1 && !creates_only => {
                stats.count(&stats.uncommitted, batch);
                first_error = Some(e);
                (Err(None), Vec::new())
            }
            Err(_) => {
                // attempt 2: a savepoint per job
                let mut results: Vec<CoreResult<()>> = Vec::with_capacity(batch);
                let r = store::directory_transaction(&mut conn, &dir.id, |c| {
                    results.clear();
                    let mut all = EventSink::new();
                    for j in &jobs {
                        let mut sink = EventSink::new();
                        let r = c.transaction(|c| (j.job)(c, &mut sink));
                        if r.is_ok() {
                            all.extend(sink);
                        }
                        results.push(r);
                    }
                    events::append(c, &dir.id, &dir.organization_id, all)
                });
                match r {
                    Ok(_) => stats.count(&stats.per_write, batch),
                    Err(_) => stats.count(&stats.uncommitted, batch),
                }
                (r.map_err(Some), results)
            }
        };
        match committed {
            Ok(appended) => {
                tracing::debug!(directory_id = %dir.id, batch, events = appended.count,
                    elapsed_us = started.elapsed().as_micros() as u64, "write batch committed");
                if appended.count > 0 {
                    self.bus.publish(Notice::Events {
                        directory_id: appended.directory_id,
                        organization_id: appended.organization_id,
                        last_seq: appended.last_seq,
                    });
                }
                jobs.into_iter().zip(results).collect()
            }
            Err(None) => {
                // a batch of one that failed: its own error, nothing applied
                let e = first_error
                    .unwrap_or_else(|| crate::error::CoreError::internal("write failed"));
                let mut jobs = jobs;
                jobs.pop().map(|j| vec![(j, Err(e))]).unwrap_or_default()
            }
            Err(Some(e)) => {
                tracing::error!(error = %e, directory_id = %dir.id, "write batch failed to commit");
                let msg = e.to_string();
                jobs.into_iter()
                    .map(|j| {
                        (
                            j,
                            Err(crate::error::CoreError::internal(format!(
                                "commit failed: {msg}"
                            ))),
                        )
                    })
                    .collect()
            }
        }
    }
}
