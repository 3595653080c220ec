//! Webhook endpoints and the bookkeeping of their delivery (issue 15,
//! WIRE-COMPAT.md §1, §7). Delivery itself (HTTP, signing, workers) is the
//! `scimgate-webhooks` crate's; it calls the functions below.
//!
//! Delivery is derived from the event log: each (endpoint, directory) has a cursor,
//! the sequence number up to which the directory's events were delivered (or given
//! up, or not subscribed). A worker leases a cursor, sends the events after it one by
//! one in `seq` order and moves it on each 2xx; nothing is written in the SCIM
//! write's transaction (docs/ARCHITECTURE.md "Webhooks").

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{Duration, NaiveDateTime};
use diesel::Connection;
use rand::RngCore;

use super::Core;
use crate::clock;
use crate::error::{CoreError, CoreResult};
use crate::events;
use crate::ids::{DirectoryId, EventId, OrganizationId, WebhookEndpointId};
use crate::model::EventRow;
use crate::store::webhooks::{
    self as store, AttemptQuery, AttemptRow, BacklogRow, CursorRow, EndpointRow, NewAttempt,
    DISABLED, ENABLED,
};
use crate::store::{organizations, AnyConn};

pub use crate::store::webhooks::{AttemptQuery as DeliveryQuery, EndpointRow as Endpoint};

/// The prefix of a signing secret (Standard Webhooks: `whsec_` and the base64 of the
/// key; WorkOS signs with the whole string).
pub const SECRET_PREFIX: &str = "whsec_";
/// The longest `endpoint_url` accepted.
pub const MAX_URL_LEN: usize = 2048;
/// The longest `description` accepted.
pub const MAX_DESCRIPTION_LEN: usize = 1024;

/// What a new endpoint subscribes to when `events` is not given: WorkOS's own
/// `dsync.*` types (scimgate's `dsync.token.*` only when named: the SDKs don't know
/// them, WIRE-COMPAT.md §2).
pub fn default_events() -> Vec<String> {
    events::ALL_EVENTS
        .iter()
        .filter(|e| **e != events::TOKEN_CREATED && **e != events::TOKEN_REVOKED)
        .map(|e| e.to_string())
        .collect()
}

/// A new signing secret: `whsec_` and the base64 of 32 random bytes (256 bits).
pub fn new_secret() -> String {
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(key))
}

/// An `events` list as sent: known names, at least one, no repeats.
pub fn check_events(list: &[String]) -> CoreResult<Vec<String>> {
    if list.is_empty() {
        return Err(bad("`events` must name at least one event"));
    }
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for e in list {
        if !events::ALL_EVENTS.contains(&e.as_str()) {
            return Err(bad(format!(
                "`events`: unknown event name {e:?} (known: {})",
                events::ALL_EVENTS.join(", ")
            )));
        }
        if out.contains(e) {
            return Err(bad(format!("`events`: {e:?} is listed twice")));
        }
        out.push(e.clone());
    }
    Ok(out)
}

fn bad(detail: impl Into<String>) -> CoreError {
    CoreError::BadRequest {
        scim_type: None,
        detail: detail.into(),
    }
}

fn check_description(d: Option<String>) -> CoreResult<Option<String>> {
    match d {
        Some(d) if d.chars().count() > MAX_DESCRIPTION_LEN => Err(bad(format!(
            "`description` must be at most {MAX_DESCRIPTION_LEN} characters"
        ))),
        d => Ok(d),
    }
}

/// An endpoint's subscribed event names.
pub fn events_of(row: &EndpointRow) -> Vec<String> {
    serde_json::from_str(&row.events).unwrap_or_default()
}

/// A new endpoint (its URL already checked against the target policy by the caller:
/// `scimgate_webhooks::target`).
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    pub endpoint_url: String,
    pub events: Option<Vec<String>>,
    pub organization_id: Option<OrganizationId>,
    pub description: Option<String>,
}

/// A change to an endpoint; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct EndpointChange {
    pub endpoint_url: Option<String>,
    pub events: Option<Vec<String>>,
    pub enabled: Option<bool>,
    pub description: Option<Option<String>>,
}

fn write_conn<T>(core: &Core, f: impl FnOnce(&mut AnyConn) -> CoreResult<T>) -> CoreResult<T> {
    let _g = core.db.write_guard(); // SQLite: the one writer
    let mut conn = core.db.conn()?;
    conn.transaction(|c| f(c))
}

fn read_conn<T>(core: &Core, f: impl FnOnce(&mut AnyConn) -> CoreResult<T>) -> CoreResult<T> {
    let mut conn = core.db.conn()?;
    f(&mut conn)
}

/// Create an endpoint; the row and its secret (shown this once). It receives the
/// events committed after it: its cursors start at each directory's head.
pub fn create_endpoint(core: &Core, new: NewEndpoint) -> CoreResult<(EndpointRow, String)> {
    let events = match new.events {
        Some(list) => check_events(&list)?,
        None => default_events(),
    };
    let description = check_description(new.description)?;
    let secret = new_secret();
    let sealed = core.sealer()?.seal(secret.as_bytes())?;
    let now = clock::now();
    let row = EndpointRow {
        id: WebhookEndpointId::new(),
        endpoint_url: new.endpoint_url,
        events: crate::json::text(&events),
        organization_id: new.organization_id,
        description,
        status: ENABLED.into(),
        disabled_reason: None,
        secret_sealed: sealed,
        previous_secret_sealed: None,
        previous_secret_expires_at: None,
        last_success_at: None,
        failing_since: None,
        created_at: now,
        updated_at: now,
    };
    write_conn(core, |c| {
        if let Some(o) = &row.organization_id {
            if organizations::find_organization(c, o)?.is_none() {
                return Err(CoreError::not_found(format!("organization {o} not found")));
            }
        }
        store::insert_endpoint(c, &row)?;
        store::cursors_at_head(c, &row.id, row.organization_id.as_ref(), now)?;
        Ok(())
    })?;
    Ok((row, secret))
}

pub fn get_endpoint(core: &Core, id: &WebhookEndpointId) -> CoreResult<EndpointRow> {
    read_conn(core, |c| store::find_endpoint(c, id))?.ok_or_else(|| not_found(id))
}

fn not_found(id: &WebhookEndpointId) -> CoreError {
    CoreError::not_found(format!("webhook endpoint {id} not found"))
}

/// Endpoints in id order after `after`; the page and whether more follow.
pub fn list_endpoints(
    core: &Core,
    after: Option<&WebhookEndpointId>,
    limit: i64,
) -> CoreResult<(Vec<EndpointRow>, bool)> {
    let mut rows = read_conn(core, |c| store::list_endpoints(c, after, limit + 1))?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    Ok((rows, more))
}

/// Apply a change (`PATCH`); enabling a disabled endpoint resumes where it stopped.
pub fn update_endpoint(
    core: &Core,
    id: &WebhookEndpointId,
    change: EndpointChange,
) -> CoreResult<EndpointRow> {
    let events = change.events.as_deref().map(check_events).transpose()?;
    let description = match change.description {
        Some(d) => Some(check_description(d)?),
        None => None,
    };
    let row = write_conn(core, |c| {
        let mut row = store::find_endpoint(c, id)?.ok_or_else(|| not_found(id))?;
        if let Some(u) = change.endpoint_url {
            row.endpoint_url = u;
        }
        if let Some(e) = events {
            row.events = crate::json::text(&e);
        }
        if let Some(d) = description {
            row.description = d;
        }
        if let Some(on) = change.enabled {
            row.status = if on { ENABLED } else { DISABLED }.into();
            row.disabled_reason = None;
            if on {
                row.failing_since = None;
            }
        }
        row.updated_at = clock::now();
        store::save_endpoint(c, &row)?;
        Ok(row)
    })?;
    core.bus.publish(crate::bus::Notice::Webhooks);
    Ok(row)
}

/// The audit entry of a change to an endpoint by `actor` (vendor API, admin UI): its
/// URL, events and status, never its secret.
pub fn audit_entry(
    actor: &crate::audit::Actor,
    action: &str,
    row: &Endpoint,
) -> crate::audit::Entry {
    crate::audit::Entry::new(actor, action, crate::audit::Outcome::Success)
        .target("webhook_endpoint", row.id.to_string())
        .details(serde_json::json!({
            "endpoint_url": row.endpoint_url,
            "events": serde_json::from_str::<serde_json::Value>(&row.events)
                .unwrap_or(serde_json::Value::Null),
            "status": row.status,
        }))
}

pub fn delete_endpoint(core: &Core, id: &WebhookEndpointId) -> CoreResult<()> {
    match write_conn(core, |c| store::delete_endpoint(c, id))? {
        0 => Err(not_found(id)),
        _ => {
            core.bus.publish(crate::bus::Notice::Webhooks);
            Ok(())
        }
    }
}

/// A new secret; the previous one keeps signing (a second signature) for `overlap`.
/// The row and the new secret (shown this once).
pub fn rotate_secret(
    core: &Core,
    id: &WebhookEndpointId,
    overlap: Duration,
) -> CoreResult<(EndpointRow, String)> {
    let secret = new_secret();
    let sealed = core.sealer()?.seal(secret.as_bytes())?;
    let row = write_conn(core, |c| {
        let mut row = store::find_endpoint(c, id)?.ok_or_else(|| not_found(id))?;
        let now = clock::now();
        row.previous_secret_sealed = Some(std::mem::replace(&mut row.secret_sealed, sealed));
        row.previous_secret_expires_at = Some(now + overlap);
        row.updated_at = now;
        store::save_endpoint(c, &row)?;
        Ok(row)
    })?;
    core.bus.publish(crate::bus::Notice::Webhooks);
    Ok((row, secret))
}

/// What a worker needs to deliver to an endpoint: where, which events, and the
/// secrets that sign (the current one first; the previous one during its overlap).
#[derive(Clone)]
pub struct Target {
    pub id: WebhookEndpointId,
    pub url: String,
    pub events: Vec<String>,
    pub secrets: Vec<String>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // never the secrets
        f.debug_struct("Target")
            .field("id", &self.id)
            .field("url", &self.url)
            .finish()
    }
}

/// The delivery target of an enabled endpoint (`None`: gone or disabled).
pub fn target(core: &Core, id: &WebhookEndpointId) -> CoreResult<Option<Target>> {
    let Some(row) = read_conn(core, |c| store::find_endpoint(c, id))? else {
        return Ok(None);
    };
    if row.status != ENABLED {
        return Ok(None);
    }
    let sealer = core.sealer()?;
    let mut secrets = vec![sealer.open_string(&row.secret_sealed)?];
    if let (Some(prev), Some(until)) = (&row.previous_secret_sealed, row.previous_secret_expires_at)
    {
        if until > clock::now() {
            secrets.push(sealer.open_string(prev)?);
        }
    }
    Ok(Some(Target {
        id: row.id.clone(),
        url: row.endpoint_url.clone(),
        events: events_of(&row),
        secrets,
    }))
}

/// Cursors follow the directories: made for directories created since (from their
/// first event), dropped for deleted ones once their last event is delivered.
pub fn ensure_cursors(core: &Core) -> CoreResult<usize> {
    write_conn(core, |c| {
        let now = clock::now();
        Ok(store::ensure_cursors(c, now)? + store::drop_finished_cursors(c, now)?)
    })
}

/// Lease up to `limit` due cursors to `owner` for `lease`.
pub fn claim(
    core: &Core,
    owner: &str,
    lease: std::time::Duration,
    limit: i64,
) -> CoreResult<Vec<CursorRow>> {
    let now = clock::now();
    let until = now + Duration::from_std(lease).unwrap_or(Duration::seconds(60));
    write_conn(core, |c| store::claim_due(c, owner, now, until, limit))
}

/// The next events of a cursor, in order.
pub fn next_events(core: &Core, cursor: &CursorRow, limit: i64) -> CoreResult<Vec<EventRow>> {
    read_conn(core, |c| {
        store::events_after(
            c,
            &cursor.directory_id,
            cursor.delivered_seq,
            cursor.replay_to,
            limit,
        )
    })
}

/// One attempt's result, as the engine saw it.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub status_code: Option<u16>,
    pub latency_ms: i64,
    /// `timeout`, `connect`, `refused_address`, `status`, `body`, … (null on success)
    pub error_kind: Option<String>,
    pub response_snippet: Option<String>,
}

/// What became of a cursor after an attempt was recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Moved to this sequence number; the lease is still held.
    Advanced(i64),
    /// Lost (the cursor was rewound or leased to another): stop.
    Lost,
    /// Released, to be tried again at the time set.
    RetryAt(NaiveDateTime),
    /// Released: the endpoint was disabled (410 Gone).
    Disabled,
}

fn attempt_row(
    cursor: &CursorRow,
    e: &EventRow,
    attempt: i32,
    outcome: &str,
    o: &Outcome,
) -> NewAttempt {
    NewAttempt {
        endpoint_id: cursor.endpoint_id.clone(),
        directory_id: cursor.directory_id.clone(),
        event_id: e.id.to_string(),
        event: e.event.clone(),
        seq: e.seq,
        attempt,
        outcome: outcome.into(),
        status_code: o.status_code.map(i32::from),
        latency_ms: o.latency_ms,
        error_kind: o.error_kind.clone(),
        response_snippet: o.response_snippet.clone(),
        attempted_at: clock::now(),
    }
}

/// Skip events the endpoint does not subscribe to: the cursor moves to `to`.
pub fn skip_to(
    core: &Core,
    cursor: &CursorRow,
    owner: &str,
    to: i64,
    lease: std::time::Duration,
) -> CoreResult<Next> {
    let now = clock::now();
    let until = now + Duration::from_std(lease).unwrap_or(Duration::seconds(60));
    let moved = write_conn(core, |c| {
        store::advance(
            c,
            &cursor.endpoint_id,
            &cursor.directory_id,
            owner,
            cursor.delivered_seq,
            to,
            now,
            until,
        )
    })?;
    Ok(moved.map_or(Next::Lost, Next::Advanced))
}

/// Record an attempt at event `e` of a leased cursor and move the cursor: on and
/// past it when delivered (or finally given up after `max_attempts`), back to a retry
/// at `now + backoff` when failed, nowhere when the endpoint answered 410 (disabled).
#[allow(clippy::too_many_arguments)]
pub fn record(
    core: &Core,
    cursor: &CursorRow,
    owner: &str,
    e: &EventRow,
    o: &Outcome,
    max_attempts: i32,
    backoff: std::time::Duration,
    lease: std::time::Duration,
) -> CoreResult<Next> {
    let attempt = cursor.attempts + 1;
    let delivered = o.error_kind.is_none();
    let gone = o.status_code == Some(410);
    let now = clock::now();
    let until = now + Duration::from_std(lease).unwrap_or(Duration::seconds(60));
    let (outcome, next) = if delivered {
        ("delivered", None)
    } else if gone {
        ("disabled", None)
    } else if attempt >= max_attempts {
        ("gave_up", None)
    } else {
        let at = now + Duration::from_std(backoff).unwrap_or(Duration::seconds(60));
        ("failed", Some(at))
    };
    let row = attempt_row(cursor, e, attempt, outcome, o);
    let (ep, dir) = (&cursor.endpoint_id, &cursor.directory_id);
    write_conn(core, |c| {
        db_relaxed_commit(c)?;
        store::insert_attempt(c, &row)?;
        store::note_outcome(c, ep, delivered, now)?;
        if gone {
            store::disable(c, ep, "gone", now)?;
            store::release(c, ep, dir, owner)?;
            return Ok(Next::Disabled);
        }
        if let Some(at) = next {
            let err = o.error_kind.clone().unwrap_or_default();
            return Ok(
                if store::retry_later(c, ep, dir, owner, cursor.delivered_seq, attempt, at, &err)? {
                    Next::RetryAt(at)
                } else {
                    Next::Lost
                },
            );
        }
        let moved = store::advance(c, ep, dir, owner, cursor.delivered_seq, e.seq, now, until)?;
        Ok(moved.map_or(Next::Lost, Next::Advanced))
    })
}

/// On PostgreSQL, a delivery's bookkeeping commits without waiting for its WAL flush:
/// a crash may lose the last advances, which only repeats those deliveries
/// (at-least-once), and the flush is not paid per delivered event.
fn db_relaxed_commit(c: &mut AnyConn) -> CoreResult<()> {
    crate::store::webhooks::relaxed_commit(c)
}

/// Give a cursor's lease back.
pub fn release(core: &Core, cursor: &CursorRow, owner: &str) -> CoreResult<()> {
    write_conn(core, |c| {
        store::release(c, &cursor.endpoint_id, &cursor.directory_id, owner)
    })
}

/// Delete attempts older than `days` (0 keeps them).
pub fn prune_attempts(core: &Core, days: u32) -> CoreResult<usize> {
    if days == 0 {
        return Ok(0);
    }
    let cutoff = clock::now() - Duration::days(i64::from(days));
    write_conn(core, |c| store::prune_attempts(c, cutoff))
}

/// An endpoint's cursors and their backlogs.
pub fn backlog(core: &Core, id: &WebhookEndpointId) -> CoreResult<Vec<BacklogRow>> {
    read_conn(core, |c| store::backlog(c, id))
}

/// A page of an endpoint's delivery attempts, newest first.
pub fn deliveries(
    core: &Core,
    id: &WebhookEndpointId,
    q: &AttemptQuery,
) -> CoreResult<Vec<AttemptRow>> {
    read_conn(core, |c| {
        store::find_endpoint(c, id)?.ok_or_else(|| not_found(id))?;
        store::list_attempts(c, id, q)
    })
}

/// What to deliver again.
#[derive(Debug, Clone)]
pub enum Redeliver {
    /// One event.
    Event(EventId),
    /// The events created in `[start, end)` (either open), of one directory or all.
    Range {
        directory_id: Option<DirectoryId>,
        start: Option<NaiveDateTime>,
        end: Option<NaiveDateTime>,
    },
}

/// Send events again, in order, before the cursors go on; how many cursors moved.
pub fn redeliver(core: &Core, id: &WebhookEndpointId, what: Redeliver) -> CoreResult<usize> {
    let moved = write_conn(core, |c| {
        store::find_endpoint(c, id)?.ok_or_else(|| not_found(id))?;
        let now = clock::now();
        let ranges: Vec<(DirectoryId, i64, i64)> = match &what {
            Redeliver::Event(eid) => {
                let e = events::get(c, eid)?
                    .ok_or_else(|| CoreError::not_found(format!("event {eid} not found")))?;
                vec![(e.directory_id, e.seq, e.seq)]
            }
            Redeliver::Range {
                directory_id,
                start,
                end,
            } => store::seq_ranges(c, id, directory_id.as_ref(), *start, *end)?
                .into_iter()
                .map(|r| (r.directory_id, r.first, r.last))
                .collect(),
        };
        let mut moved = 0;
        for (d, from, to) in ranges {
            if store::replay(c, id, &d, from, to, now)? {
                moved += 1;
            }
        }
        Ok(moved)
    })?;
    core.bus.publish(crate::bus::Notice::Webhooks);
    Ok(moved)
}

/// Wake-ups for the delivery workers (new events, endpoint changes; from other
/// instances too when Redis is configured).
pub fn notices(core: &Core) -> tokio::sync::broadcast::Receiver<crate::bus::Notice> {
    core.bus.subscribe()
}

/// An endpoint's health, from its row and its cursors' backlogs.
pub fn health(row: &EndpointRow, backlog: &[BacklogRow]) -> crate::wire_webhooks::Health {
    use crate::wire_webhooks::{Backlog, Health};
    let now = clock::now();
    let state = if row.status != ENABLED {
        "disabled"
    } else if row.failing_since.is_some() {
        "failing"
    } else {
        "healthy"
    };
    let backlog: Vec<Backlog> = backlog
        .iter()
        .map(|b| {
            let undelivered = b.last_seq.map_or(0, |l| (l - b.delivered_seq).max(0));
            Backlog {
                directory_id: b.directory_id.clone(),
                delivered_sequence: b.delivered_seq,
                undelivered,
                oldest_undelivered_at: b.oldest_undelivered.map(clock::to_workos),
                oldest_undelivered_age_seconds: b
                    .oldest_undelivered
                    .map(|t| (now - t).num_milliseconds().max(0) as f64 / 1000.0),
                attempts: b.attempts,
                next_attempt_at: (b.attempts > 0).then(|| clock::to_workos(b.next_attempt_at)),
                last_error: b.last_error.clone(),
            }
        })
        .collect();
    Health {
        state,
        healthy: state == "healthy",
        failing_since: row.failing_since.map(clock::to_workos),
        last_success_at: row.last_success_at.map(clock::to_workos),
        disabled_reason: row.disabled_reason.clone(),
        undelivered: backlog.iter().map(|b| b.undelivered).sum(),
        oldest_undelivered_age_seconds: backlog
            .iter()
            .filter_map(|b| b.oldest_undelivered_age_seconds)
            .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x)))),
        backlog,
    }
}

/// Put a leased cursor off by `delay` (its endpoint could not be loaded), attempts
/// unchanged; the lease released.
pub fn postpone(
    core: &Core,
    cursor: &CursorRow,
    owner: &str,
    delay: std::time::Duration,
    error: &str,
) -> CoreResult<()> {
    let at = clock::now() + Duration::from_std(delay).unwrap_or(Duration::seconds(60));
    write_conn(core, |c| {
        store::retry_later(
            c,
            &cursor.endpoint_id,
            &cursor.directory_id,
            owner,
            cursor.delivered_seq,
            cursor.attempts,
            at,
            error,
        )
    })?;
    Ok(())
}

/// Record a run of delivered events of a leased cursor (each acknowledged with a 2xx,
/// in order) in one transaction: their attempts, the endpoint's health, and the cursor
/// moved past the last one. A crash before it commits only repeats those deliveries.
pub fn record_delivered(
    core: &Core,
    cursor: &CursorRow,
    owner: &str,
    delivered: &[(EventRow, Outcome)],
    lease: std::time::Duration,
) -> CoreResult<Next> {
    let Some((last, _)) = delivered.last() else {
        return Ok(Next::Advanced(cursor.delivered_seq));
    };
    let now = clock::now();
    let until = now + Duration::from_std(lease).unwrap_or(Duration::seconds(60));
    let rows: Vec<NewAttempt> = delivered
        .iter()
        .map(|(e, o)| attempt_row(cursor, e, cursor.attempts + 1, "delivered", o))
        .collect();
    let (ep, dir) = (&cursor.endpoint_id, &cursor.directory_id);
    write_conn(core, |c| {
        db_relaxed_commit(c)?;
        for r in &rows {
            store::insert_attempt(c, r)?;
        }
        store::note_outcome(c, ep, true, now)?;
        let moved = store::advance(
            c,
            ep,
            dir,
            owner,
            cursor.delivered_seq,
            last.seq,
            now,
            until,
        )?;
        Ok(moved.map_or(Next::Lost, Next::Advanced))
    })
}
