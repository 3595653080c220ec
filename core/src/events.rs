//! The event log: every SCIM write records its normalized events in the same
//! transaction as the change.
//!
//! Order and completeness. Writes to one directory are serialized (an advisory lock on
//! PostgreSQL, the in-process writer lock on SQLite) and each event gets the next
//! per-directory `seq` under that lock, so `seq` is the apply order and a visible seq
//! implies every lower seq of that directory is committed.
//!
//! Across directories a plain auto-increment id is not enough: ids are taken before
//! commit, so a reader could pass a lower id that commits later. On PostgreSQL every
//! event row records its writing transaction id (`txid`, `pg_current_xact_id()`), and
//! the global order is `(txid, gid)`. A reader only returns rows with
//! `txid < xmin(current snapshot)`: every transaction below the snapshot's xmin has
//! finished, and any transaction that commits later has a larger txid, so the set
//! of returned rows below the cursor can never grow. Because a writer takes the
//! directory's advisory lock before its first write (and an advisory lock assigns no
//! txid), a directory's later writer always has a larger txid than its earlier ones:
//! the global order respects every directory's `seq`. On SQLite (one writer at a
//! time) `txid` is 0 and `gid` is already the commit order.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use serde_json::Value;

use crate::clock;
use crate::error::{CoreError, CoreResult};
use crate::ids;
use crate::model::EventRow;
use crate::store::dynsql::{Bind, Column, Sql};
use crate::store::schema::{directories, events};
use crate::store::{AnyConn, Dialect};

pub const USER_CREATED: &str = "dsync.user.created";
pub const USER_UPDATED: &str = "dsync.user.updated";
pub const USER_DELETED: &str = "dsync.user.deleted";
pub const GROUP_CREATED: &str = "dsync.group.created";
pub const GROUP_UPDATED: &str = "dsync.group.updated";
pub const GROUP_DELETED: &str = "dsync.group.deleted";
pub const GROUP_USER_ADDED: &str = "dsync.group.user_added";
pub const GROUP_USER_REMOVED: &str = "dsync.group.user_removed";
pub const DIRECTORY_ACTIVATED: &str = "dsync.activated";
pub const DIRECTORY_DELETED: &str = "dsync.deleted";
pub const TOKEN_CREATED: &str = "dsync.token.created";
pub const TOKEN_REVOKED: &str = "dsync.token.revoked";

pub const ALL_EVENTS: &[&str] = &[
    DIRECTORY_ACTIVATED,
    DIRECTORY_DELETED,
    USER_CREATED,
    USER_UPDATED,
    USER_DELETED,
    GROUP_CREATED,
    GROUP_UPDATED,
    GROUP_DELETED,
    GROUP_USER_ADDED,
    GROUP_USER_REMOVED,
    TOKEN_CREATED,
    TOKEN_REVOKED,
];

/// Events collected during one write transaction, appended at its end.
#[derive(Debug, Default)]
pub struct EventSink {
    /// Each event's name and serialized `data`.
    pending: Vec<(&'static str, String)>,
}

impl EventSink {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn emit(&mut self, event: &'static str, data: Value) {
        self.pending.push((event, crate::json::text(&data)));
    }
    /// Emit an event whose `data` is already serialized (a JSON object).
    pub fn emit_json(&mut self, event: &'static str, data: String) {
        self.pending.push((event, data));
    }
    pub fn extend(&mut self, other: EventSink) {
        self.pending.extend(other.pending);
    }
    pub fn len(&self) -> usize {
        self.pending.len()
    }
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

/// What a committed write produced, for notifications.
#[derive(Debug, Clone, Default)]
pub struct Appended {
    pub directory_id: String,
    pub organization_id: String,
    pub last_seq: i64,
    pub count: usize,
}

#[derive(QueryableByName)]
struct SeqRow {
    #[diesel(sql_type = BigInt)]
    last_seq: i64,
}

/// Append the sink's events for a directory; must run inside the directory's write
/// transaction (after `store::lock_directory`).
pub fn append(
    conn: &mut AnyConn,
    directory_id: &str,
    organization_id: &str,
    sink: EventSink,
) -> CoreResult<Appended> {
    let n = sink.pending.len();
    if n == 0 {
        return Ok(Appended {
            directory_id: directory_id.to_string(),
            organization_id: organization_id.to_string(),
            last_seq: 0,
            count: 0,
        });
    }
    let now = clock::now();
    if conn.dialect() == Dialect::Pg {
        return append_pg(conn, directory_id, organization_id, sink, now, None);
    }
    let mut q = Sql::raw("UPDATE directories SET last_seq = last_seq + ");
    q.bind(Bind::BigInt(n as i64))
        .push(" WHERE id = ")
        .text(directory_id)
        .push(" RETURNING last_seq");
    let rows: Vec<SeqRow> = q.load(conn)?;
    let last = rows
        .first()
        .map(|r| r.last_seq)
        .ok_or_else(|| CoreError::not_found("directory not found"))?;
    let first = last - n as i64 + 1;
    for (chunk_no, chunk) in sink.pending.chunks(500).enumerate() {
        let mut q = Sql::raw(
            "INSERT INTO events (id, directory_id, organization_id, seq, event, data, created_at) VALUES ",
        );
        for (i, (event, data)) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            let seq = first + (chunk_no * 500 + i) as i64;
            q.push("(")
                .text(ids::new_id(ids::EVENT))
                .push(", ")
                .text(directory_id)
                .push(", ")
                .text(organization_id)
                .push(", ")
                .bind(Bind::BigInt(seq))
                .push(", ")
                .text(*event)
                .push(", ")
                .text(data.clone())
                .push(", ")
                .bind(Bind::Timestamp(now))
                .push(")");
        }
        q.execute(conn)?;
    }
    Ok(Appended {
        directory_id: directory_id.to_string(),
        organization_id: organization_id.to_string(),
        last_seq: last,
        count: n,
    })
}

/// Append a batch's events together with other writes, in one PostgreSQL statement
/// run on its own (outside a transaction): `ctes` are data-modifying CTEs
/// (`name AS (…), …`) that commit with the events, each selecting its rows with
/// [`AFTER_SEQ`]. The statement first takes the directory's advisory lock
/// (`store::directory_transaction`'s) and its sequence numbers; the CTEs read that
/// step's row, so they write after it and only when it found the directory: no write
/// commits without its events. One round trip instead of BEGIN, the writes, the
/// events and COMMIT. PostgreSQL only; at least one event.
pub(crate) const AFTER_SEQ: &str = " WHERE EXISTS (SELECT 1 FROM s)";

pub(crate) fn append_standalone(
    conn: &mut AnyConn,
    directory_id: &str,
    organization_id: &str,
    sink: EventSink,
    ctes: Sql,
) -> CoreResult<Appended> {
    if sink.pending.is_empty() || conn.dialect() != Dialect::Pg {
        return Err(CoreError::internal(
            "a standalone append needs events and PostgreSQL",
        ));
    }
    append_pg(
        conn,
        directory_id,
        organization_id,
        sink,
        clock::now(),
        Some(ctes),
    )
}

/// PostgreSQL: take the sequence numbers and insert the events in one statement (one
/// round trip per write batch instead of two), over `unnest` of one array per column:
/// one statement text, prepared once, for any number of events. Rows are inserted in
/// `ord` order, so that `gid` (the global order within a transaction) follows `seq`.
/// With `standalone` CTEs, see [`append_standalone`].
fn append_pg(
    conn: &mut AnyConn,
    directory_id: &str,
    organization_id: &str,
    sink: EventSink,
    now: NaiveDateTime,
    standalone: Option<Sql>,
) -> CoreResult<Appended> {
    let count = sink.pending.len();
    let n = count as i64;
    let mut ids_col = Vec::with_capacity(count);
    let mut events_col = Vec::with_capacity(count);
    let mut data_col = Vec::with_capacity(count);
    for (event, data) in sink.pending {
        ids_col.push(ids::new_id(ids::EVENT));
        events_col.push(event.to_string());
        data_col.push(data);
    }
    let mut q = Sql::raw("WITH s AS (UPDATE directories SET last_seq = last_seq + ");
    q.bind(Bind::BigInt(n));
    if standalone.is_some() {
        // the lock is taken before the row is updated (the join needs its row)
        q.push(" FROM (SELECT pg_advisory_xact_lock(hashtextextended(")
            .text(directory_id)
            .push(", 0))) AS l");
    }
    q.push(" WHERE id = ")
        .text(directory_id)
        .push(" RETURNING last_seq), ");
    if let Some(ctes) = standalone {
        // each reads `s` (AFTER_SEQ): it writes after the lock, and only with events
        q.append(ctes).push(", ");
    }
    q.push(
        "i AS (INSERT INTO events (id, directory_id, organization_id, seq, event, data, created_at) \
               SELECT v.id, ",
    )
        .text(directory_id)
        .push(", ")
        .text(organization_id)
        .push(", s.last_seq - ")
        .bind(Bind::BigInt(n))
        .push(" + v.ord, v.event, v.data, ")
        .bind(Bind::Timestamp(now))
        .push(" FROM s, ")
        .unnest(vec![
            Column::Text(ids_col),
            Column::Text(events_col),
            Column::Text(data_col),
        ])
        .push(" WITH ORDINALITY AS v(id, event, data, ord) ORDER BY v.ord) SELECT last_seq FROM s");
    let rows: Vec<SeqRow> = q.load(conn)?;
    let last = rows
        .first()
        .map(|r| r.last_seq)
        .ok_or_else(|| CoreError::not_found("directory not found"))?;
    Ok(Appended {
        directory_id: directory_id.to_string(),
        organization_id: organization_id.to_string(),
        last_seq: last,
        count,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Asc,
    Desc,
}

#[derive(Debug, Clone)]
pub struct EventQuery {
    pub events: Vec<String>,
    pub after: Option<String>,
    pub range_start: Option<NaiveDateTime>,
    pub range_end: Option<NaiveDateTime>,
    pub limit: i64,
    pub order: Order,
    pub organization_id: Option<String>,
    pub directory_id: Option<String>,
}

#[derive(QueryableByName)]
struct CursorRow {
    #[diesel(sql_type = BigInt)]
    gid: i64,
    #[diesel(sql_type = BigInt)]
    txid: i64,
    #[diesel(sql_type = BigInt)]
    seq: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    directory_id: String,
}

const EVENT_COLUMNS: &str =
    "gid, id, txid, directory_id, organization_id, seq, event, data, created_at";

/// One page of events and the cursor to continue after (`list_metadata.after`).
pub fn list(conn: &mut AnyConn, q: &EventQuery) -> CoreResult<(Vec<EventRow>, Option<String>)> {
    let dialect = conn.dialect();
    let cursor: Option<CursorRow> = match &q.after {
        None => None,
        Some(after) => {
            let mut cq = Sql::raw("SELECT gid, txid, seq, directory_id FROM events WHERE id = ");
            cq.text(after.clone());
            let rows: Vec<CursorRow> = cq.load(conn)?;
            match rows.into_iter().next() {
                Some(r) => Some(r),
                None => {
                    return Err(CoreError::BadRequest {
                        scim_type: None,
                        detail: format!(
                            "unknown cursor `after={after}`: no such event (it may be older than the retention period)"
                        ),
                    })
                }
            }
        }
    };
    // A directory-scoped stream is ordered by seq (no horizon needed: seqs become
    // visible in order); everything else by (txid, gid) below the xmin horizon.
    let by_seq = q.directory_id.is_some();
    let mut sql = Sql::raw(format!("SELECT {EVENT_COLUMNS} FROM events WHERE 1 = 1"));
    if let Some(d) = &q.directory_id {
        sql.push(" AND directory_id = ").text(d.clone());
    }
    if let Some(o) = &q.organization_id {
        sql.push(" AND organization_id = ").text(o.clone());
    }
    if !q.events.is_empty() {
        sql.push(" AND event IN (");
        for (i, e) in q.events.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.text(e.clone());
        }
        sql.push(")");
    }
    if let Some(t) = q.range_start {
        sql.push(" AND created_at >= ").bind(Bind::Timestamp(t));
    }
    if let Some(t) = q.range_end {
        sql.push(" AND created_at < ").bind(Bind::Timestamp(t));
    }
    let (cmp, dir) = match q.order {
        Order::Asc => (">", "ASC"),
        Order::Desc => ("<", "DESC"),
    };
    if let Some(c) = &cursor {
        if by_seq {
            if Some(&c.directory_id) != q.directory_id.as_ref() {
                return Err(CoreError::BadRequest {
                    scim_type: None,
                    detail: "cursor `after` belongs to another directory".into(),
                });
            }
            sql.push(format!(" AND seq {cmp} "))
                .bind(Bind::BigInt(c.seq));
        } else {
            sql.push(format!(" AND (txid {cmp} "))
                .bind(Bind::BigInt(c.txid))
                .push(" OR (txid = ")
                .bind(Bind::BigInt(c.txid))
                .push(format!(" AND gid {cmp} "))
                .bind(Bind::BigInt(c.gid))
                .push("))");
        }
    }
    if !by_seq && dialect == Dialect::Pg {
        sql.push(" AND txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint");
    }
    if by_seq {
        sql.push(format!(" ORDER BY seq {dir}"));
    } else {
        sql.push(format!(" ORDER BY txid {dir}, gid {dir}"));
    }
    let limit = q.limit.clamp(1, 100);
    sql.push(" LIMIT ").bind(Bind::BigInt(limit + 1));
    let mut rows: Vec<EventRow> = sql.load(conn)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    // `after` always names the last returned event, so a consumer can resume even
    // at the head of the stream (WorkOS returns the last id as well).
    let _ = more;
    let after = rows
        .last()
        .map(|r| r.id.clone())
        .or_else(|| q.after.clone());
    Ok((rows, after))
}

/// Delete events older than `days` (retention); 0 keeps everything.
pub fn prune(conn: &mut AnyConn, days: u32) -> CoreResult<usize> {
    if days == 0 {
        return Ok(0);
    }
    let cutoff = clock::now() - chrono::Duration::days(i64::from(days));
    Ok(diesel::delete(events::table.filter(events::created_at.lt(cutoff))).execute(conn)?)
}

/// The directory's current last sequence number.
pub fn last_seq(conn: &mut AnyConn, directory_id: &str) -> CoreResult<Option<i64>> {
    Ok(directories::table
        .filter(directories::id.eq(directory_id))
        .select(directories::last_seq)
        .first::<i64>(conn)
        .optional()?)
}

/// The id of the newest event of a directory (a cursor for `after=`), if any.
pub fn latest_event_id(conn: &mut AnyConn, directory_id: &str) -> CoreResult<Option<String>> {
    Ok(events::table
        .filter(events::directory_id.eq(directory_id))
        .order(events::seq.desc())
        .select(events::id)
        .first::<String>(conn)
        .optional()?)
}

pub fn get(conn: &mut AnyConn, id: &str) -> CoreResult<Option<EventRow>> {
    Ok(events::table
        .filter(events::id.eq(id))
        .select(EventRow::as_select())
        .first(conn)
        .optional()?)
}
