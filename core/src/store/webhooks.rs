//! Webhooks (issue 15): endpoints (`webhook_endpoints`), one delivery cursor per
//! (endpoint, directory) (`webhook_cursors`) and one row per delivery attempt
//! (`webhook_attempts`). Delivery reads the event log after a cursor; nothing here is
//! written in a SCIM write's transaction (docs/ARCHITECTURE.md "Webhooks").

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text, Timestamp};

use super::dynsql::{Bind, Sql};
use super::schema::{webhook_attempts, webhook_cursors, webhook_endpoints};
use super::AnyConn;
use crate::error::CoreResult;
use crate::events::{expand, COMPACT_MAX};
use crate::ids::{DirectoryId, OrganizationId, WebhookEndpointId};
use crate::model::EventRow;
use crate::store::events::{rows_after, At, EventQuery, Order};

pub const ENABLED: &str = "enabled";
pub const DISABLED: &str = "disabled";

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = webhook_endpoints, treat_none_as_null = true)]
pub struct EndpointRow {
    pub id: WebhookEndpointId,
    pub endpoint_url: String,
    /// A JSON array of event names.
    pub events: String,
    pub organization_id: Option<OrganizationId>,
    pub description: Option<String>,
    pub status: String,
    pub disabled_reason: Option<String>,
    pub secret_sealed: String,
    pub previous_secret_sealed: Option<String>,
    pub previous_secret_expires_at: Option<NaiveDateTime>,
    pub last_success_at: Option<NaiveDateTime>,
    pub failing_since: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A cursor as a worker claims it.
#[derive(Debug, Clone, QueryableByName)]
pub struct CursorRow {
    #[diesel(sql_type = Text)]
    pub endpoint_id: WebhookEndpointId,
    #[diesel(sql_type = Text)]
    pub directory_id: DirectoryId,
    #[diesel(sql_type = BigInt)]
    pub delivered_seq: i64,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub replay_to: Option<i64>,
}

/// A cursor with its backlog, for an endpoint's health.
#[derive(Debug, Clone, QueryableByName)]
pub struct BacklogRow {
    #[diesel(sql_type = Text)]
    pub directory_id: DirectoryId,
    #[diesel(sql_type = BigInt)]
    pub delivered_seq: i64,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    #[diesel(sql_type = Nullable<Text>)]
    pub last_error: Option<String>,
    #[diesel(sql_type = Timestamp)]
    pub next_attempt_at: NaiveDateTime,
    /// The directory's last sequence number in the log (null: no event).
    #[diesel(sql_type = Nullable<BigInt>)]
    pub last_seq: Option<i64>,
    /// When the first event past the cursor was created (null: none).
    #[diesel(sql_type = Nullable<Timestamp>)]
    pub oldest_undelivered: Option<NaiveDateTime>,
}

/// One attempt as recorded.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_attempts)]
pub struct NewAttempt {
    pub endpoint_id: WebhookEndpointId,
    pub directory_id: DirectoryId,
    pub event_id: String,
    pub event: String,
    pub seq: i64,
    pub attempt: i32,
    pub outcome: String,
    pub status_code: Option<i32>,
    pub latency_ms: i64,
    pub error_kind: Option<String>,
    pub response_snippet: Option<String>,
    pub attempted_at: NaiveDateTime,
}

/// A recorded attempt with its id (the deliveries' cursor).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_attempts)]
pub struct AttemptRow {
    pub id: i64,
    #[diesel(embed)]
    pub a: NewAttempt,
}

/// Which attempts a deliveries page reads (newest first, ids below `before`).
#[derive(Debug, Clone, Default)]
pub struct AttemptQuery {
    pub outcome: Option<String>,
    pub event: Option<String>,
    pub directory_id: Option<DirectoryId>,
    pub range_start: Option<NaiveDateTime>,
    pub range_end: Option<NaiveDateTime>,
    pub before: Option<i64>,
    pub limit: i64,
}

pub fn insert_endpoint(c: &mut AnyConn, row: &EndpointRow) -> CoreResult<()> {
    diesel::insert_into(webhook_endpoints::table)
        .values(row)
        .execute(c)?;
    Ok(())
}

pub fn find_endpoint(c: &mut AnyConn, id: &WebhookEndpointId) -> CoreResult<Option<EndpointRow>> {
    Ok(webhook_endpoints::table
        .find(id)
        .select(EndpointRow::as_select())
        .first(c)
        .optional()?)
}

/// Endpoints in id order after `after`, at most `limit`.
pub fn list_endpoints(
    c: &mut AnyConn,
    after: Option<&WebhookEndpointId>,
    limit: i64,
) -> CoreResult<Vec<EndpointRow>> {
    let mut q = webhook_endpoints::table
        .select(EndpointRow::as_select())
        .order(webhook_endpoints::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(a) = after {
        q = q.filter(webhook_endpoints::id.gt(a.clone()));
    }
    Ok(q.load(c)?)
}

pub fn save_endpoint(c: &mut AnyConn, row: &EndpointRow) -> CoreResult<usize> {
    Ok(diesel::update(webhook_endpoints::table.find(&row.id))
        .set(row)
        .execute(c)?)
}

/// Delete an endpoint with its cursors and attempts; how many endpoints went.
pub fn delete_endpoint(c: &mut AnyConn, id: &WebhookEndpointId) -> CoreResult<usize> {
    diesel::delete(webhook_attempts::table.filter(webhook_attempts::endpoint_id.eq(id)))
        .execute(c)?;
    diesel::delete(webhook_cursors::table.filter(webhook_cursors::endpoint_id.eq(id)))
        .execute(c)?;
    Ok(diesel::delete(webhook_endpoints::table.find(id)).execute(c)?)
}

/// Cursors of a new endpoint at the head of every directory it covers: it receives
/// the events committed after it was created.
pub fn cursors_at_head(
    c: &mut AnyConn,
    endpoint: &WebhookEndpointId,
    organization: Option<&OrganizationId>,
    now: NaiveDateTime,
) -> CoreResult<usize> {
    let mut q = Sql::raw(
        "INSERT INTO webhook_cursors (endpoint_id, directory_id, delivered_seq, attempts, next_attempt_at) SELECT ",
    );
    q.text(endpoint.as_str())
        .push(", d.id, d.last_seq, 0, ")
        .bind(Bind::Timestamp(now))
        .push(" FROM directories d WHERE 1 = 1");
    if let Some(o) = organization {
        q.push(" AND d.organization_id = ").text(o.as_str());
    }
    q.push(" ON CONFLICT DO NOTHING");
    Ok(q.execute(c)?)
}

/// Cursors from the start for every (endpoint, directory) that has none: directories
/// created after the endpoint.
pub fn ensure_cursors(c: &mut AnyConn, now: NaiveDateTime) -> CoreResult<usize> {
    let mut q = Sql::raw(
        "INSERT INTO webhook_cursors (endpoint_id, directory_id, delivered_seq, attempts, next_attempt_at) \
         SELECT e.id, d.id, 0, 0, ",
    );
    q.bind(Bind::Timestamp(now)).push(
        " FROM webhook_endpoints e JOIN directories d \
           ON (e.organization_id IS NULL OR e.organization_id = d.organization_id) \
         WHERE NOT EXISTS (SELECT 1 FROM webhook_cursors w \
                           WHERE w.endpoint_id = e.id AND w.directory_id = d.id) \
         ON CONFLICT DO NOTHING",
    );
    Ok(q.execute(c)?)
}

/// Cursors of deleted directories once they have nothing left to deliver (their
/// directory's last event, `dsync.deleted`, delivered or given up) and no live lease;
/// how many. Cursors with a backlog stay until it is delivered.
pub fn drop_finished_cursors(c: &mut AnyConn, now: NaiveDateTime) -> CoreResult<usize> {
    let mut q = Sql::raw(
        "DELETE FROM webhook_cursors WHERE (endpoint_id, directory_id) IN (\
         SELECT w.endpoint_id, w.directory_id FROM webhook_cursors w \
         WHERE NOT EXISTS (SELECT 1 FROM directories d WHERE d.id = w.directory_id) \
           AND (w.lease_until IS NULL OR w.lease_until < ",
    );
    q.bind(Bind::Timestamp(now)).push(") AND NOT ");
    push_has_backlog(&mut q);
    q.push(")");
    Ok(q.execute(c)?)
}

/// Whether the cursor `w` has an event past it (a row holds up to COMPACT_MAX events).
fn push_has_backlog(q: &mut Sql) {
    q.push(format!(
        "EXISTS (SELECT 1 FROM events ev WHERE ev.directory_id = w.directory_id \
           AND ev.seq > w.delivered_seq - {COMPACT_MAX} AND ev.seq + ev.n - 1 > w.delivered_seq)"
    ));
}

/// Lease up to `limit` due cursors (enabled endpoint, an event past the cursor, no
/// retry pending, no live lease) to `owner` until `lease_until`. PostgreSQL skips the
/// rows another instance is claiming (`FOR UPDATE SKIP LOCKED`); SQLite has one
/// process, whose writer lock the caller holds.
pub fn claim_due(
    c: &mut AnyConn,
    owner: &str,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> CoreResult<Vec<CursorRow>> {
    let mut q = Sql::raw("UPDATE webhook_cursors SET lease_owner = ");
    q.text(owner)
        .push(", lease_until = ")
        .bind(Bind::Timestamp(lease_until))
        .push(
            " WHERE (endpoint_id, directory_id) IN (SELECT w.endpoint_id, w.directory_id \
               FROM webhook_cursors w JOIN webhook_endpoints e ON e.id = w.endpoint_id \
               WHERE e.status = 'enabled' AND w.next_attempt_at <= ",
        )
        .bind(Bind::Timestamp(now))
        .push(" AND (w.lease_until IS NULL OR w.lease_until < ")
        .bind(Bind::Timestamp(now))
        .push(") AND ");
    push_has_backlog(&mut q);
    q.push(" ORDER BY w.next_attempt_at LIMIT ")
        .bind(Bind::BigInt(limit));
    db_run!(c, pg => { q.push(" FOR UPDATE OF w SKIP LOCKED"); }, sqlite => {});
    q.push(") RETURNING endpoint_id, directory_id, delivered_seq, attempts, replay_to");
    Ok(q.load(c)?)
}

/// The events of a directory after `after_seq` (up to `upto`), one by one, in order;
/// at most about `limit`.
pub fn events_after(
    c: &mut AnyConn,
    directory_id: &DirectoryId,
    after_seq: i64,
    upto: Option<i64>,
    limit: i64,
) -> CoreResult<Vec<EventRow>> {
    let q = EventQuery {
        events: Vec::new(),
        after: None,
        range_start: None,
        range_end: None,
        limit,
        order: Order::Asc,
        organization_id: None,
        directory_id: Some(directory_id.to_string()),
    };
    let at = At {
        seq: after_seq,
        txid: 0,
        gid: 0,
    };
    let mut out = Vec::new();
    for row in rows_after(c, &q, Some(at), limit)? {
        for e in expand(row)? {
            if e.seq > after_seq && upto.is_none_or(|u| e.seq <= u) {
                out.push(e);
            }
        }
    }
    Ok(out)
}

/// The set part of a cursor's advance to `to` (a redelivery's replay ends once passed).
fn push_advance(q: &mut Sql, to: i64) {
    q.push("delivered_seq = CASE WHEN replay_to IS NOT NULL AND ")
        .bind(Bind::BigInt(to))
        .push(" >= replay_to AND replay_resume > ")
        .bind(Bind::BigInt(to))
        .push(" THEN replay_resume ELSE ")
        .bind(Bind::BigInt(to))
        .push(" END, replay_resume = CASE WHEN replay_to IS NOT NULL AND ")
        .bind(Bind::BigInt(to))
        .push(" >= replay_to THEN NULL ELSE replay_resume END, replay_to = CASE WHEN replay_to IS NOT NULL AND ")
        .bind(Bind::BigInt(to))
        .push(" >= replay_to THEN NULL ELSE replay_to END");
}

/// `WHERE` the cursor of (`endpoint`, `directory`).
fn push_cursor(q: &mut Sql, endpoint: &WebhookEndpointId, directory: &DirectoryId) {
    q.push(" WHERE endpoint_id = ")
        .text(endpoint.as_str())
        .push(" AND directory_id = ")
        .text(directory.as_str());
}

/// `WHERE` the cursor of (`endpoint`, `directory`), leased by `owner`.
fn push_cursor_key(
    q: &mut Sql,
    endpoint: &WebhookEndpointId,
    directory: &DirectoryId,
    owner: &str,
) {
    push_cursor(q, endpoint, directory);
    q.push(" AND lease_owner = ").text(owner);
}

#[derive(QueryableByName)]
struct Seq {
    #[diesel(sql_type = BigInt)]
    delivered_seq: i64,
}

/// Move a cursor leased by `owner` from `from` (compare-and-set: a redelivery that
/// rewound it meanwhile wins) to `to`, clear its retry state and extend its lease; the
/// new position, `None` when the cursor was not at `from` or not leased by `owner`.
#[allow(clippy::too_many_arguments)]
pub fn advance(
    c: &mut AnyConn,
    endpoint: &WebhookEndpointId,
    directory: &DirectoryId,
    owner: &str,
    from: i64,
    to: i64,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
) -> CoreResult<Option<i64>> {
    let mut q = Sql::raw("UPDATE webhook_cursors SET ");
    push_advance(&mut q, to);
    q.push(", attempts = 0, last_error = NULL, next_attempt_at = ")
        .bind(Bind::Timestamp(now))
        .push(", lease_until = ")
        .bind(Bind::Timestamp(lease_until));
    push_cursor_key(&mut q, endpoint, directory, owner);
    q.push(" AND delivered_seq = ")
        .bind(Bind::BigInt(from))
        .push(" RETURNING delivered_seq");
    let rows: Vec<Seq> = q.load(c)?;
    if rows.is_empty() {
        // A redelivery rewound the cursor while this event was in flight and kept
        // `from` as where to resume after its replay: this event was delivered, so
        // the replay resumes after it (else it would be sent a second time).
        let mut q = Sql::raw("UPDATE webhook_cursors SET replay_resume = ");
        q.bind(Bind::BigInt(to));
        push_cursor_key(&mut q, endpoint, directory, owner);
        q.push(" AND replay_resume = ").bind(Bind::BigInt(from));
        q.execute(c)?;
    }
    Ok(rows.first().map(|r| r.delivered_seq))
}

/// A failed attempt: the attempts so far, when to try again, why; the lease released.
#[allow(clippy::too_many_arguments)]
pub fn retry_later(
    c: &mut AnyConn,
    endpoint: &WebhookEndpointId,
    directory: &DirectoryId,
    owner: &str,
    from: i64,
    attempts: i32,
    next_attempt_at: NaiveDateTime,
    error: &str,
) -> CoreResult<bool> {
    let mut q = Sql::raw("UPDATE webhook_cursors SET attempts = ");
    q.bind(Bind::BigInt(i64::from(attempts)))
        .push(", next_attempt_at = ")
        .bind(Bind::Timestamp(next_attempt_at))
        .push(", last_error = ")
        .text(error)
        .push(", lease_owner = NULL, lease_until = NULL");
    push_cursor_key(&mut q, endpoint, directory, owner);
    q.push(" AND delivered_seq = ").bind(Bind::BigInt(from));
    Ok(q.execute(c)? == 1)
}

/// Give the lease of a cursor back.
pub fn release(
    c: &mut AnyConn,
    endpoint: &WebhookEndpointId,
    directory: &DirectoryId,
    owner: &str,
) -> CoreResult<()> {
    let mut q = Sql::raw("UPDATE webhook_cursors SET lease_owner = NULL, lease_until = NULL");
    push_cursor_key(&mut q, endpoint, directory, owner);
    q.execute(c)?;
    Ok(())
}

pub fn insert_attempt(c: &mut AnyConn, a: &NewAttempt) -> CoreResult<()> {
    diesel::insert_into(webhook_attempts::table)
        .values(a)
        .execute(c)?;
    Ok(())
}

/// An endpoint's health after an attempt: a success clears `failing_since` and sets
/// `last_success_at` (to the second), a failure sets `failing_since` unless set.
pub fn note_outcome(
    c: &mut AnyConn,
    endpoint: &WebhookEndpointId,
    success: bool,
    now: NaiveDateTime,
) -> CoreResult<()> {
    let t = webhook_endpoints::table.find(endpoint);
    if success {
        // at most once a second per endpoint unless it was failing: the endpoint's row
        // is shared by all its cursors' deliveries
        let stale = now - chrono::Duration::seconds(1);
        diesel::update(
            t.filter(
                webhook_endpoints::failing_since
                    .is_not_null()
                    .or(webhook_endpoints::last_success_at.is_null())
                    .or(webhook_endpoints::last_success_at.lt(stale)),
            ),
        )
        .set((
            webhook_endpoints::last_success_at.eq(Some(now)),
            webhook_endpoints::failing_since.eq(None::<NaiveDateTime>),
        ))
        .execute(c)?;
    } else {
        diesel::update(t.filter(webhook_endpoints::failing_since.is_null()))
            .set(webhook_endpoints::failing_since.eq(Some(now)))
            .execute(c)?;
    }
    Ok(())
}

/// Disable an endpoint (a 410 Gone answer); its cursors stay where they are.
pub fn disable(
    c: &mut AnyConn,
    endpoint: &WebhookEndpointId,
    reason: &str,
    now: NaiveDateTime,
) -> CoreResult<()> {
    diesel::update(webhook_endpoints::table.find(endpoint))
        .set((
            webhook_endpoints::status.eq(DISABLED),
            webhook_endpoints::disabled_reason.eq(Some(reason)),
            webhook_endpoints::updated_at.eq(now),
        ))
        .execute(c)?;
    Ok(())
}

/// An endpoint's cursors with their backlogs, in directory order.
pub fn backlog(c: &mut AnyConn, endpoint: &WebhookEndpointId) -> CoreResult<Vec<BacklogRow>> {
    let mut q = Sql::raw(
        "SELECT w.directory_id, w.delivered_seq, w.attempts, w.last_error, w.next_attempt_at, \
           (SELECT ev.seq + ev.n - 1 FROM events ev WHERE ev.directory_id = w.directory_id \
             ORDER BY ev.seq DESC LIMIT 1) AS last_seq, ",
    );
    q.push(format!(
        "(SELECT ev.created_at FROM events ev WHERE ev.directory_id = w.directory_id \
           AND ev.seq > w.delivered_seq - {COMPACT_MAX} AND ev.seq + ev.n - 1 > w.delivered_seq \
           ORDER BY ev.seq LIMIT 1) AS oldest_undelivered \
         FROM webhook_cursors w WHERE w.endpoint_id = "
    ))
    .text(endpoint.as_str())
    .push(" ORDER BY w.directory_id");
    Ok(q.load(c)?)
}

/// An endpoint's attempts, newest first.
pub fn list_attempts(
    c: &mut AnyConn,
    endpoint: &WebhookEndpointId,
    q: &AttemptQuery,
) -> CoreResult<Vec<AttemptRow>> {
    let mut s = webhook_attempts::table
        .filter(webhook_attempts::endpoint_id.eq(endpoint))
        .select(AttemptRow::as_select())
        .order(webhook_attempts::id.desc())
        .limit(q.limit)
        .into_boxed();
    if let Some(o) = &q.outcome {
        s = s.filter(webhook_attempts::outcome.eq(o.clone()));
    }
    if let Some(e) = &q.event {
        s = s.filter(webhook_attempts::event.eq(e.clone()));
    }
    if let Some(d) = &q.directory_id {
        s = s.filter(webhook_attempts::directory_id.eq(d.clone()));
    }
    if let Some(t) = q.range_start {
        s = s.filter(webhook_attempts::attempted_at.ge(t));
    }
    if let Some(t) = q.range_end {
        s = s.filter(webhook_attempts::attempted_at.lt(t));
    }
    if let Some(b) = q.before {
        s = s.filter(webhook_attempts::id.lt(b));
    }
    Ok(s.load(c)?)
}

/// Attempts recorded before `cutoff` deleted (retention); how many.
pub fn prune_attempts(c: &mut AnyConn, cutoff: NaiveDateTime) -> CoreResult<usize> {
    Ok(
        diesel::delete(webhook_attempts::table.filter(webhook_attempts::attempted_at.lt(cutoff)))
            .execute(c)?,
    )
}

/// Rewind an endpoint's cursor of a directory so that its events `from..=to` are sent
/// again, in order, before the cursor returns to where it was; whether a cursor moved.
pub fn replay(
    c: &mut AnyConn,
    endpoint: &WebhookEndpointId,
    directory: &DirectoryId,
    from: i64,
    to: i64,
    now: NaiveDateTime,
) -> CoreResult<bool> {
    let start = from - 1;
    let mut q = Sql::raw(
        "UPDATE webhook_cursors SET replay_resume = COALESCE(replay_resume, delivered_seq), \
         replay_to = CASE WHEN replay_to IS NULL OR replay_to < ",
    );
    q.bind(Bind::BigInt(to))
        .push(" THEN ")
        .bind(Bind::BigInt(to))
        .push(" ELSE replay_to END, delivered_seq = ")
        .bind(Bind::BigInt(start))
        .push(", attempts = 0, last_error = NULL, next_attempt_at = ")
        .bind(Bind::Timestamp(now));
    push_cursor(&mut q, endpoint, directory);
    q.push(" AND delivered_seq > ").bind(Bind::BigInt(start));
    Ok(q.execute(c)? == 1)
}

/// The first and last sequence numbers of a directory's events created in
/// `[start, end)`.
#[derive(Debug, QueryableByName)]
pub struct SeqRange {
    #[diesel(sql_type = Text)]
    pub directory_id: DirectoryId,
    #[diesel(sql_type = BigInt)]
    pub first: i64,
    #[diesel(sql_type = BigInt)]
    pub last: i64,
}

/// Per directory of the endpoint's cursors (or only `directory`), the range of
/// sequence numbers of its events created in `[start, end)` (either open).
pub fn seq_ranges(
    c: &mut AnyConn,
    endpoint: &WebhookEndpointId,
    directory: Option<&DirectoryId>,
    start: Option<NaiveDateTime>,
    end: Option<NaiveDateTime>,
) -> CoreResult<Vec<SeqRange>> {
    let mut q = Sql::raw(
        "SELECT ev.directory_id, MIN(ev.seq) AS first, MAX(ev.seq + ev.n - 1) AS last \
         FROM events ev JOIN webhook_cursors w ON w.directory_id = ev.directory_id \
         WHERE w.endpoint_id = ",
    );
    q.text(endpoint.as_str());
    if let Some(d) = directory {
        q.push(" AND ev.directory_id = ").text(d.as_str());
    }
    if let Some(t) = start {
        q.push(" AND ev.created_at >= ").bind(Bind::Timestamp(t));
    }
    if let Some(t) = end {
        q.push(" AND ev.created_at < ").bind(Bind::Timestamp(t));
    }
    q.push(" GROUP BY ev.directory_id");
    Ok(q.load(c)?)
}

/// PostgreSQL: this transaction commits without waiting for its WAL flush
/// (`synchronous_commit`, for the delivery bookkeeping only); SQLite: nothing.
pub fn relaxed_commit(c: &mut AnyConn) -> CoreResult<()> {
    db_run!(c, pg => { Sql::raw("SET LOCAL synchronous_commit TO OFF").execute(c)?; }, sqlite => {});
    Ok(())
}
