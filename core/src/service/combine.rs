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

impl Combiner {
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

    pub fn submit(&self, core: &Core, dir: &DirectoryRow, job: Job) -> CoreResult<()> {
        let q = self.queue(&dir.id);
        let (tx, rx): (SyncSender<Signal>, Receiver<Signal>) = sync_channel(1);
        let lead = {
            let mut g = q.lock().unwrap_or_else(|p| p.into_inner());
            g.pending.push(Pending { job, tx });
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
