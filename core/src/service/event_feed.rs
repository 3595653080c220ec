//! `GET /events` with a long poll (WIRE-COMPAT.md §1, §3): a page of the event log, or,
//! when it is empty, a wait of up to the asked time for a matching event.

use std::time::{Duration, Instant};

use super::Core;
use crate::bus::Notice;
use crate::error::{CoreError, CoreResult};
use crate::events::{self, EventQuery};
use crate::model::EventRow;

/// One page of events and the cursor to continue after (`events::list`), on a pooled
/// connection.
pub fn list(core: &Core, q: &EventQuery) -> CoreResult<(Vec<EventRow>, Option<String>)> {
    let mut conn = core.db.conn()?;
    events::list(&mut conn, q)
}

/// The page of `q`, waiting up to `wait` for it to hold an event: answered as soon as
/// a matching event exists, else empty at the deadline. It subscribes to wake-ups
/// before the first read, so a commit between a read and the wait is not missed, and
/// reads again on every wake-up for the query's directory or organization and at
/// least every 250 ms (a commit on another instance without Redis, or below another
/// transaction's horizon). Each read runs on the blocking pool after `check` (the
/// caller's authorization, asked again before each read), whose error ends the wait.
/// A page of events read with `after` records how far behind its reader is
/// (`telemetry::EVENT_LAG`).
pub async fn wait_for<E>(
    core: &Core,
    q: EventQuery,
    wait: Duration,
    check: impl Fn(&Core) -> Result<(), E> + Clone + Send + 'static,
) -> Result<(Vec<EventRow>, Option<String>), E>
where
    E: From<CoreError> + Send + 'static,
{
    let deadline = Instant::now() + wait;
    // subscribe before the first read, so a commit between read and wait is not missed
    let mut rx = core.bus.subscribe();
    loop {
        let (c, qq, check) = (core.clone(), q.clone(), check.clone());
        let (rows, after) = tokio::task::spawn_blocking(move || {
            check(&c)?;
            Ok::<_, E>(list(&c, &qq)?)
        })
        .await
        .map_err(|e| CoreError::internal(format!("an event read stopped: {e}")))??;
        let now = Instant::now();
        if !rows.is_empty() || now >= deadline {
            if q.after.is_some() {
                if let Some(oldest) = rows.iter().map(|r| r.created_at).min() {
                    crate::telemetry::events_read_after(oldest);
                }
            }
            return Ok((rows, after));
        }
        // wait for a matching wake-up; re-check at least every 250 ms (a commit on
        // another instance without Redis, or below another transaction's horizon)
        let until = deadline.min(now + Duration::from_millis(250));
        loop {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            match tokio::time::timeout(left, rx.recv()).await {
                Ok(Ok(Notice::Events {
                    directory_id,
                    organization_id,
                    ..
                })) => {
                    let hit = q.directory_id.as_ref().is_none_or(|d| *d == directory_id)
                        && q.organization_id
                            .as_ref()
                            .is_none_or(|o| *o == organization_id);
                    if hit {
                        break;
                    }
                }
                Ok(Ok(_)) => {}
                Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => break,
                Ok(Err(_)) => break,
                Err(_) => break,
            }
        }
    }
}
