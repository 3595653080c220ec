//! Group commit per directory (see `Core::write`).
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
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

use super::Core;
use crate::error::{CoreError, CoreResult};
use crate::events::EventSink;
use crate::model::DirectoryRow;
use crate::store::AnyConn;

/// A write; it may run twice (see `Core::commit_batch`), so it must be re-runnable.
pub type Job = Arc<dyn Fn(&mut AnyConn, &mut EventSink) -> CoreResult<()> + Send + Sync + 'static>;

const MAX_BATCH: usize = 128;

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
    pub scope: super::Scope,
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
fn commit_next(core: &Core, dir: &DirectoryRow, q: &Mutex<Queue>) -> bool {
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
fn lead_until_empty(core: &Core, dir: &DirectoryRow, q: &Mutex<Queue>) {
    while commit_next(core, dir, q) {}
}

/// Pass a busy queue on: to its first waiter (a blocked thread leads on; for a task, a
/// leader is started on its runtime's blocking pool), or mark it idle. Called with the
/// queue locked.
fn hand_over(core: &Core, dir: &DirectoryRow, q: &Arc<Mutex<Queue>>, g: &mut Queue) {
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
    queues: Mutex<HashMap<String, Arc<Mutex<Queue>>>>,
}

/// Writes of a directory held back (see [`Combiner::pause`]).
pub struct Paused {
    q: Arc<Mutex<Queue>>,
    core: Core,
    dir: DirectoryRow,
}

impl Drop for Paused {
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
    pub fn pause(&self, core: &Core, dir: &DirectoryRow) -> Paused {
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
    pub fn queued(&self, directory_id: &str) -> usize {
        let q = self.queue(directory_id);
        let n = q.lock().unwrap_or_else(|p| p.into_inner()).pending.len();
        n
    }

    fn queue(&self, directory_id: &str) -> Arc<Mutex<Queue>> {
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
        m.entry(directory_id.to_string()).or_default().clone()
    }

    pub fn submit(
        &self,
        core: &Core,
        dir: &DirectoryRow,
        job: Job,
        scope: super::Scope,
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
    pub fn submit_async(
        &self,
        core: &Core,
        dir: &DirectoryRow,
        job: Job,
        scope: super::Scope,
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
