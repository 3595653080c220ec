//! Group commit per directory (see `Core::write`).
//!
//! Each directory has a queue. A writer enqueues its job; if nobody is committing for
//! that directory it becomes the leader, takes the queued jobs (up to `MAX_BATCH`),
//! commits them in one transaction and answers each waiter. If more jobs queued up
//! meanwhile, leadership passes to the owner of the next one, so no caller keeps
//! serving others' writes after its own is done.

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

pub struct Pending {
    pub job: Job,
    pub scope: super::Scope,
    tx: SyncSender<Signal>,
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
}

impl Drop for Paused {
    /// Hand the queue to its first waiter, which commits what queued up as one batch.
    fn drop(&mut self) {
        let mut g = self.q.lock().unwrap_or_else(|p| p.into_inner());
        match g.pending.first() {
            Some(next) => {
                let _ = next.tx.send(Signal::Lead);
            }
            None => g.busy = false,
        }
    }
}

impl Combiner {
    /// Hold back the writes of a directory as if a batch were committing, until the
    /// guard is dropped; the writes submitted meanwhile then commit as one batch, in
    /// the order they were submitted. For tests of batching.
    pub fn pause(&self, directory_id: &str) -> Paused {
        let q = self.queue(directory_id);
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
        Paused { q }
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
        let lead = {
            let mut g = q.lock().unwrap_or_else(|p| p.into_inner());
            g.pending.push(Pending { job, scope, tx });
            if g.busy {
                false
            } else {
                g.busy = true;
                true
            }
        };
        if !lead {
            match rx.recv() {
                Ok(Signal::Done(r)) => return r,
                Ok(Signal::Lead) => {}
                Err(_) => return Err(CoreError::internal("write queue closed")),
            }
        }
        // leader: commit batches until our own job is answered
        loop {
            let batch: Vec<Pending> = {
                let mut g = q.lock().unwrap_or_else(|p| p.into_inner());
                let n = g.pending.len().min(MAX_BATCH);
                g.pending.drain(..n).collect()
            };
            for (p, r) in core.commit_batch(dir, batch) {
                let _ = p.tx.send(Signal::Done(r));
            }
            if let Ok(Signal::Done(r)) = rx.try_recv() {
                // hand leadership to the next waiter, if any
                let mut g = q.lock().unwrap_or_else(|p| p.into_inner());
                match g.pending.first() {
                    Some(next) => {
                        let _ = next.tx.send(Signal::Lead);
                    }
                    None => g.busy = false,
                }
                return r;
            }
        }
    }
}
