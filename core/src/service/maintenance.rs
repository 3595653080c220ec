//! Background work of a serving process (`scimgate serve`), started once on its
//! runtime: cached verifications dropped on revocations and directory changes from
//! other instances, event and audit retention, and SQLite's WAL checkpoints.

use std::time::Duration;

use super::Core;
use crate::error::CoreResult;
use crate::events;
use crate::store::CHECKPOINT_WAL_BYTES;

/// Start the background tasks on the current tokio runtime.
pub fn spawn(core: &Core) {
    // revocations and directory changes from other instances drop cached verifications
    {
        let mut rx = core.bus.subscribe();
        let auth = core.auth.clone();
        tokio::spawn(async move {
            loop {
                match rx.recv().await {
                    Ok(n) => auth.on_notice(&n),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(_) => break,
                }
            }
        });
    }
    // event and audit retention
    {
        let core = core.clone();
        let days = core.settings.event_retention_days;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(3600));
            loop {
                tick.tick().await;
                let c = core.clone();
                let res =
                    tokio::task::spawn_blocking(move || -> CoreResult<usize> { prune(&c, days) })
                        .await;
                match res {
                    Ok(Ok(n)) if n > 0 => {
                        tracing::info!(deleted = n, "pruned events past retention")
                    }
                    Ok(Err(e)) => tracing::warn!(error = %e, "event pruning failed"),
                    _ => {}
                }
                let c = core.clone();
                let audit_days = c.settings.audit_retention_days;
                let res =
                    tokio::task::spawn_blocking(move || super::audit::prune(&c, audit_days)).await;
                match res {
                    Ok(Ok(n)) if n > 0 => {
                        tracing::info!(deleted = n, "pruned audit records past retention")
                    }
                    Ok(Err(e)) => tracing::warn!(error = %e, "audit pruning failed"),
                    _ => {}
                }
            }
        });
    }
    // the SCIM requests counted for the sync health, flushed every 500 ms while there
    // are any (one write per flush, whatever the requests): the setup portal's status
    // shows a request within a second (`Notice::Health`)
    {
        let core = core.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(500));
            loop {
                tick.tick().await;
                if core.sync_health.is_empty() {
                    continue;
                }
                let c = core.clone();
                if let Ok(Err(e)) =
                    tokio::task::spawn_blocking(move || c.sync_health.flush(&c)).await
                {
                    tracing::warn!(error = %e, "sync health flush failed");
                }
            }
        });
    }
    // SQLite: checkpoint the WAL off the request path, every second or as soon as it
    // holds CHECKPOINT_WAL_BYTES, so that each checkpoint's last step, which holds the
    // writers, has little left to copy (see `Db::checkpoint`)
    if core.db.needs_checkpoints() {
        let db = core.db.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(50));
            let mut last = std::time::Instant::now();
            loop {
                tick.tick().await;
                if last.elapsed() < Duration::from_secs(1)
                    && !db.wal_larger_than(CHECKPOINT_WAL_BYTES)
                {
                    continue;
                }
                last = std::time::Instant::now();
                let d = db.clone();
                if let Ok(Err(e)) = tokio::task::spawn_blocking(move || d.checkpoint()).await {
                    tracing::warn!(error = %e, "WAL checkpoint failed");
                }
            }
        });
    }
}

/// Delete the events older than `days` (0 keeps them forever), as SQLite's one writer.
fn prune(core: &Core, days: u32) -> CoreResult<usize> {
    let _g = core.db.write_guard();
    let mut conn = core.db.conn()?;
    events::prune(&mut conn, days)
}
