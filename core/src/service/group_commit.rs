//! Group commit per directory (see `Core::write`): the queue of a directory's writes
//! and its leader, and the commit of one batch ([`commit_batch`]).
//!
//! Each directory has a queue. A writer enqueues its job; if nobody is committing for
//! that directory it becomes the leader, takes the queued jobs (up to `MAX_BATCH`),
//! commits them in one transaction and answers each waiter. If more jobs queued up
//! meanwhile, leadership passes to the owner of the next one, so no caller keeps
//! serving others' writes after its own is done.
//!
//! A caller on an async task ([`Combiner::submit_async`]) has no thread to lend: it
//! awaits its answer, and when the queue has no leader (or hands leadership to such a
//! caller) a leader is started on the runtime's blocking pool that commits batches
//! until the queue is empty.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

use super::user_write_batch;
use crate::bus::{Bus, Notice};
use crate::error::{CoreError, CoreResult};
use crate::events::{self, EventSink};
use crate::ids::{DirectoryId, DirectoryUserId};
use crate::model::DirectoryRow;
use crate::store::{self, AnyConn, Db};

/// A write; it may run twice (see [`commit_batch`]), so it must be re-runnable.
pub type Job = Arc<dyn Fn(&mut AnyConn, &mut EventSink) -> CoreResult<()> + Send + Sync + 'static>;

const MAX_BATCH: usize = 128;

/// What a write touches. A batch of writes that all touch users only (creates, or
/// writes of one user each) gets the read-ahead and write-behind of `user_write_batch`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Creates a user, or changes the user with this id (and nothing of other users).
    User(Option<DirectoryUserId>),
    Other,
}

/// Who commits the batches of a queue (`Core`, through [`commit_batch`]); a leader
/// started for awaiting writers holds a clone.
pub(crate) trait Committer: Clone + Send + 'static {
    fn commit_batch(
        &self,
        dir: &DirectoryRow,
        jobs: Vec<Pending>,
    ) -> Vec<(Pending, CoreResult<()>)>;
}

enum Signal {
    Done(CoreResult<()>),
    Lead,
}

/// How a queued writer is answered.
enum Reply {
    /// A thread blocked in [`Combiner::submit`]: answered, or asked to lead.
    Thread(SyncSender<Signal>),
    /// A task awaiting [`Combiner::submit_async`]; `rt` runs a leader for it.
    Task {
        tx: tokio::sync::oneshot::Sender<CoreResult<()>>,
        rt: tokio::runtime::Handle,
    },
}

pub struct Pending {
    pub job: Job,
    pub(crate) scope: Scope,
    reply: Reply,
}

impl Pending {
    fn answer(self, r: CoreResult<()>) {
        match self.reply {
            Reply::Thread(tx) => {
                let _ = tx.send(Signal::Done(r));
            }
            Reply::Task { tx, .. } => {
                let _ = tx.send(r);
            }
        }
    }
}

/// Queue a write; true when the queue was idle, and the caller now leads it.
fn enqueue(q: &Mutex<Queue>, p: Pending) -> bool {
    let mut g = q.lock().unwrap_or_else(|p| p.into_inner());
    g.pending.push(p);
    !std::mem::replace(&mut g.busy, true)
}

/// Commit the next batch of the queue and answer its writers; when the queue is empty
/// instead, mark it idle and return false (under the same lock, so that a writer
/// queued meanwhile finds it idle and leads).
fn commit_next<C: Committer>(core: &C, dir: &DirectoryRow, q: &Mutex<Queue>) -> bool {
    let batch: Vec<Pending> = {
        let mut g = q.lock().unwrap_or_else(|p| p.into_inner());
        if g.pending.is_empty() {
            g.busy = false;
            return false;
        }
        let n = g.pending.len().min(MAX_BATCH);
        g.pending.drain(..n).collect()
    };
    for (p, r) in core.commit_batch(dir, batch) {
        p.answer(r);
    }
    true
}

/// Commit the queue's batches until it is empty, then mark it idle (a leader that
/// answers no caller of its own: started for async callers).
fn lead_until_empty<C: Committer>(core: &C, dir: &DirectoryRow, q: &Mutex<Queue>) {
    while commit_next(core, dir, q) {}
}

/// Pass a busy queue on: to its first waiter (a blocked thread leads on; for a task, a
/// leader is started on its runtime's blocking pool), or mark it idle. Called with the
/// queue locked.
fn hand_over<C: Committer>(core: &C, dir: &DirectoryRow, q: &Arc<Mutex<Queue>>, g: &mut Queue) {
    match g.pending.first().map(|p| &p.reply) {
        None => g.busy = false,
        Some(Reply::Thread(tx)) => {
            let _ = tx.send(Signal::Lead);
        }
        Some(Reply::Task { rt, .. }) => {
            let (core, dir, q) = (core.clone(), dir.clone(), q.clone());
            rt.spawn_blocking(move || lead_until_empty(&core, &dir, &q));
        }
    }
}

#[derive(Default)]
struct Queue {
    pending: Vec<Pending>,
    busy: bool,
}

#[derive(Default)]
pub struct Combiner {
    queues: Mutex<HashMap<DirectoryId, Arc<Mutex<Queue>>>>,
}

/// Writes of a directory held back (see [`Combiner::pause`]).
pub struct Paused<C: Committer> {
    q: Arc<Mutex<Queue>>,
    core: C,
    dir: DirectoryRow,
}

impl<C: Committer> Drop for Paused<C> {
    /// Hand the queue to its first waiter, which commits what queued up as one batch.
    fn drop(&mut self) {
        let mut g = self.q.lock().unwrap_or_else(|p| p.into_inner());
        hand_over(&self.core, &self.dir, &self.q, &mut g);
    }
}

impl Combiner {
    /// Hold back the writes of a directory as if a batch were committing, until the
    /// guard is dropped; the writes submitted meanwhile then commit as one batch, in
    /// the order they were submitted. For tests of batching.
    pub fn pause<C: Committer>(&self, core: &C, dir: &DirectoryRow) -> Paused<C> {
        let q = self.queue(&dir.id);
        loop {
            {
                let mut g = q.lock().unwrap_or_else(|p| p.into_inner());
                if !g.busy {
                    g.busy = true;
                    break;
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        Paused {
            q,
            core: core.clone(),
            dir: dir.clone(),
        }
    }

    /// How many writes of a directory wait for a batch.
    pub fn queued(&self, directory_id: &DirectoryId) -> usize {
        let q = self.queue(directory_id);
        let n = q.lock().unwrap_or_else(|p| p.into_inner()).pending.len();
        n
    }

    fn queue(&self, directory_id: &DirectoryId) -> Arc<Mutex<Queue>> {
        let mut m = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        if m.len() > 10_000 {
            // forget idle queues of deleted or quiet directories
            m.retain(|_, q| {
                Arc::strong_count(q) > 1
                    || q.lock()
                        .map(|q| q.busy || !q.pending.is_empty())
                        .unwrap_or(true)
            });
        }
        m.entry(directory_id.clone()).or_default().clone()
    }

    pub(crate) fn submit<C: Committer>(
        &self,
        core: &C,
        dir: &DirectoryRow,
        job: Job,
        scope: Scope,
    ) -> CoreResult<()> {
        let q = self.queue(&dir.id);
        let (tx, rx): (SyncSender<Signal>, Receiver<Signal>) = sync_channel(1);
        let lead = enqueue(
            &q,
            Pending {
                job,
                scope,
                reply: Reply::Thread(tx),
            },
        );
        if !lead {
            match rx.recv() {
                Ok(Signal::Done(r)) => return r,
                Ok(Signal::Lead) => {}
                Err(_) => return Err(CoreError::internal("write queue closed")),
            }
        }
        // leader: commit batches until our own job is answered (the queue holds it
        // until then, so it is never found empty here)
        while commit_next(core, dir, &q) {
            if let Ok(Signal::Done(r)) = rx.try_recv() {
                // hand leadership to the next waiter, if any
                let mut g = q.lock().unwrap_or_else(|p| p.into_inner());
                hand_over(core, dir, &q, &mut g);
                return r;
            }
        }
        Err(CoreError::internal("write queue emptied without answering"))
    }

    /// [`Combiner::submit`] for a caller on an async task of runtime `rt`: the job is
    /// queued and the answer awaited; no thread waits for it. When nobody is committing
    /// for the directory, a leader is started on `rt`'s blocking pool.
    pub(crate) fn submit_async<C: Committer>(
        &self,
        core: &C,
        dir: &DirectoryRow,
        job: Job,
        scope: Scope,
        rt: tokio::runtime::Handle,
    ) -> tokio::sync::oneshot::Receiver<CoreResult<()>> {
        let q = self.queue(&dir.id);
        let (tx, rx) = tokio::sync::oneshot::channel();
        let start = enqueue(
            &q,
            Pending {
                job,
                scope,
                reply: Reply::Task { tx, rt: rt.clone() },
            },
        );
        if start {
            let (core, dir) = (core.clone(), dir.clone());
            rt.spawn_blocking(move || lead_until_empty(&core, &dir, &q));
        }
        rx
    }
}

/// How write batches ended since start ([`commit_batch`]): `optimistic` batches
/// committed whole in their first attempt; a `per_write` batch had a write fail in it
/// and committed in a second attempt with a savepoint per write; an `uncommitted` batch
/// committed nothing (a lone write that failed, or a commit the database refused).
/// `writes` counts the writes of all batches.
#[derive(Debug, Default)]
pub struct WriteStats {
    pub optimistic: AtomicU64,
    pub per_write: AtomicU64,
    pub uncommitted: AtomicU64,
    pub writes: AtomicU64,
}

impl WriteStats {
    fn count(&self, counter: &AtomicU64, writes: usize) {
        use std::sync::atomic::Ordering::Relaxed;
        counter.fetch_add(1, Relaxed);
        self.writes.fetch_add(writes as u64, Relaxed);
    }
}

/// The optimistic attempt for a batch of user creates on PostgreSQL: the jobs run
/// with a batch context and touch no database (each defers its insert, see
/// `users::prepare_create`); the users, their index rows and the events are then
/// written by one statement on its own, which takes the directory's lock itself
/// (`events::append_with_users`): one round trip for the batch instead of four.
/// Any error (a userName taken) leaves nothing written, and [`commit_batch`] runs
/// the jobs again one by one in a transaction, where each meets its own error.
fn commit_creates(
    conn: &mut AnyConn,
    dir: &DirectoryRow,
    jobs: &[Pending],
) -> CoreResult<events::Appended> {
    let _ctx = user_write_batch::start(HashMap::new());
    let mut all = EventSink::new();
    for j in jobs {
        (j.job)(conn, &mut all)?;
    }
    let created = user_write_batch::take_created();
    if all.is_empty() {
        // creates that emit nothing (inactive users under the delete policy)
        return store::directory_transaction(conn, &dir.id, |c| {
            store::users::insert_users(c, &created)?;
            events::append(c, &dir.id, &dir.organization_id, all)
        });
    }
    events::append_with_users(conn, &dir.id, &dir.organization_id, all, &created)
}

/// The optimistic attempt for any batch: every job in one transaction, without
/// savepoints; a batch of user writes (`user_batch`, PostgreSQL) reads its users
/// ahead in one query and writes them back at the end (`user_write_batch`).
fn commit_together(
    conn: &mut AnyConn,
    dir: &DirectoryRow,
    jobs: &[Pending],
    user_batch: bool,
) -> CoreResult<events::Appended> {
    store::directory_transaction(conn, &dir.id, |c| {
        let _ctx = if user_batch {
            let ids: Vec<DirectoryUserId> = jobs
                .iter()
                .filter_map(|j| match &j.scope {
                    Scope::User(Some(id)) => Some(id.clone()),
                    _ => None,
                })
                .collect();
            Some(user_write_batch::start(
                store::users::find_users_with_groups(c, &dir.id, &ids)?,
            ))
        } else {
            None
        };
        let mut all = EventSink::new();
        for j in jobs {
            let mut sink = EventSink::new();
            (j.job)(c, &mut sink)?;
            if let Scope::User(Some(id)) = &j.scope {
                user_write_batch::forget(id);
            }
            all.extend(sink);
        }
        user_write_batch::settle(c)?;
        events::append(c, &dir.id, &dir.organization_id, all)
    })
}

/// Commit a batch of writes of one directory. First optimistically, all jobs in
/// one transaction without savepoints (one round trip less per write); if any job
/// fails, that attempt is rolled back whole and the batch runs again with a
/// savepoint per job, so exactly the failing writes fail. Jobs are re-runnable.
/// After the commit, a wake-up for the directory's new events goes out on `bus`.
pub(crate) fn commit_batch(
    db: &Db,
    bus: &Bus,
    stats: &WriteStats,
    dir: &DirectoryRow,
    jobs: Vec<Pending>,
) -> Vec<(Pending, CoreResult<()>)> {
    let started = std::time::Instant::now();
    let batch = jobs.len();
    let _guard = db.write_guard();
    let mut conn = match db.conn() {
        Ok(c) => c,
        Err(e) => {
            stats.count(&stats.uncommitted, batch);
            let msg = e.to_string();
            return jobs
                .into_iter()
                .map(|j| (j, Err(CoreError::Pool(msg.clone()))))
                .collect();
        }
    };
    // attempt 1: no savepoints
    let mut first_error: Option<CoreError> = None;
    // a batch of user writes reads its users ahead and writes them back at the end
    let user_batch = batch > 1
        && db.writes_batches_in_bulk()
        && jobs.iter().all(|j| matches!(j.scope, Scope::User(_)));
    // creates only (PostgreSQL): their rows and events in one statement
    let creates_only =
        db.writes_batches_in_bulk() && jobs.iter().all(|j| j.scope == Scope::User(None));
    let optimistic = if creates_only {
        commit_creates(&mut conn, dir, &jobs)
    } else {
        commit_together(&mut conn, dir, &jobs, user_batch)
    };
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
                    let r = store::savepoint(c, |c| (j.job)(c, &mut sink));
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
            crate::telemetry::batch_committed(batch);
            tracing::debug!(directory_id = %dir.id, batch, events = appended.count,
                elapsed_us = started.elapsed().as_micros() as u64, "write batch committed");
            if appended.count > 0 {
                bus.publish(Notice::Events {
                    directory_id: appended.directory_id,
                    organization_id: appended.organization_id,
                    last_seq: appended.last_seq,
                });
            }
            jobs.into_iter().zip(results).collect()
        }
        Err(None) => {
            // a batch of one that failed: its own error, nothing applied
            let e = first_error.unwrap_or_else(|| CoreError::internal("write failed"));
            let mut jobs = jobs;
            jobs.pop().map(|j| vec![(j, Err(e))]).unwrap_or_default()
        }
        Err(Some(e)) => {
            tracing::error!(error = %e, directory_id = %dir.id, "write batch failed to commit");
            let msg = e.to_string();
            jobs.into_iter()
                .map(|j| (j, Err(CoreError::internal(format!("commit failed: {msg}")))))
                .collect()
        }
    }
}
