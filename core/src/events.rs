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

/// The most events one row holds (see the `compact_membership_events` migration).
pub const COMPACT_MAX: usize = 100;

/// One row to insert: `n` events of one kind from offset `off` of the sink (`data` a
/// JSON array of their data when n > 1).
struct RowOut {
    id: String,
    event: &'static str,
    data: String,
    off: usize,
    n: usize,
}

/// The sink's events as rows, in order: consecutive membership events of one kind
/// share a row (up to [`COMPACT_MAX`]); every other event has its own.
fn rows_of(pending: Vec<(&'static str, String)>) -> Vec<RowOut> {
    /// The run of `n` events ending before offset `end`, as one row.
    fn flush(out: &mut Vec<RowOut>, run: &mut Vec<String>, event: &'static str, end: usize) {
        let n = run.len();
        let data = match n {
            0 => return,
            1 => run.pop().unwrap_or_default(),
            _ => {
                let mut d =
                    String::with_capacity(run.iter().map(|x| x.len() + 1).sum::<usize>() + 1);
                d.push('[');
                for (i, x) in run.drain(..).enumerate() {
                    if i > 0 {
                        d.push(',');
                    }
                    d.push_str(&x);
                }
                d.push(']');
                d
            }
        };
        out.push(RowOut {
            id: ids::new_ids(ids::EVENT, n),
            event,
            data,
            off: end - n,
            n,
        });
    }
    let compactable = |e: &str| e == GROUP_USER_ADDED || e == GROUP_USER_REMOVED;
    let total = pending.len();
    let mut out: Vec<RowOut> = Vec::with_capacity(total);
    let mut run: Vec<String> = Vec::new();
    let mut run_event: &'static str = "";
    for (off, (event, data)) in pending.into_iter().enumerate() {
        if !(compactable(event) && event == run_event && run.len() < COMPACT_MAX) {
            flush(&mut out, &mut run, run_event, off);
        }
        if compactable(event) {
            run_event = event;
            run.push(data);
        } else {
            out.push(RowOut {
                id: ids::new_id(ids::EVENT),
                event,
                data,
                off,
                n: 1,
            });
        }
    }
    flush(&mut out, &mut run, run_event, total);
    out
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
    let mut rows = rows_of(sink.pending).into_iter().peekable();
    while rows.peek().is_some() {
        let mut q = Sql::raw(
            "INSERT INTO events (id, directory_id, organization_id, seq, event, data, created_at, n) VALUES ",
        );
        for (i, r) in rows.by_ref().take(500).enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.push("(")
                .text(r.id)
                .push(", ")
                .text(directory_id)
                .push(", ")
                .text(organization_id)
                .push(", ")
                .bind(Bind::BigInt(first + r.off as i64))
                .push(", ")
                .text(r.event)
                .push(", ")
                .text(r.data)
                .push(", ")
                .bind(Bind::Timestamp(now))
                .push(", ")
                .bind(Bind::BigInt(r.n as i64))
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
/// one statement text, prepared once, for any number of events. Rows (see [`rows_of`])
/// are inserted in `ord` order, so that `gid` (the global order within a transaction)
/// follows `seq`; `off` is a row's first event's place in the batch, from 1.
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
    let rows = rows_of(sink.pending);
    let mut ids_col = Vec::with_capacity(rows.len());
    let mut events_col = Vec::with_capacity(rows.len());
    let mut data_col = Vec::with_capacity(rows.len());
    let mut off_col = Vec::with_capacity(rows.len());
    let mut n_col = Vec::with_capacity(rows.len());
    for r in rows {
        ids_col.push(r.id);
        events_col.push(r.event.to_string());
        data_col.push(r.data);
        off_col.push(r.off as i64 + 1);
        n_col.push(r.n as i64);
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
        "i AS (INSERT INTO events (id, directory_id, organization_id, seq, event, data, created_at, n) \
               SELECT v.id, ",
    )
        .text(directory_id)
        .push(", ")
        .text(organization_id)
        .push(", s.last_seq - ")
        .bind(Bind::BigInt(n))
        .push(" + v.off, v.event, v.data, ")
        .bind(Bind::Timestamp(now))
        .push(", v.n::integer FROM s, ")
        .unnest(vec![
            Column::Text(ids_col),
            Column::Text(events_col),
            Column::Text(data_col),
            Column::BigInt(off_col),
            Column::BigInt(n_col),
        ])
        .push(" WITH ORDINALITY AS v(id, event, data, off, n, ord) ORDER BY v.ord) SELECT last_seq FROM s");
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
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    n: i32,
}

const EVENT_COLUMNS: &str =
    "gid, id, txid, directory_id, organization_id, seq, event, data, created_at, n";

/// The row holding event `id`, and the event's place in it: the row with the greatest
/// id not above `id`, if `id` is one of its `n` ids.
fn locate(conn: &mut AnyConn, id: &str) -> CoreResult<Option<(CursorRow, i64)>> {
    let mut q = Sql::raw("SELECT gid, txid, seq, directory_id, id, n FROM events WHERE id <= ");
    q.text(id.to_string()).push(" ORDER BY id DESC LIMIT 1");
    let rows: Vec<CursorRow> = q.load(conn)?;
    Ok(rows.into_iter().next().and_then(|r| {
        let k = ids::distance(&r.id, id)?;
        (k < u64::try_from(r.n).unwrap_or(0)).then_some((r, k as i64))
    }))
}

/// The events a row holds, in order: itself when it holds one, else one per element
/// of its `data` array, with the ids and seqs that follow the row's.
pub fn expand(row: EventRow) -> CoreResult<Vec<EventRow>> {
    if row.n <= 1 {
        return Ok(vec![row]);
    }
    let bad = |what: &str| CoreError::internal(format!("event row {}: {what}", row.id));
    let items: Vec<&serde_json::value::RawValue> =
        serde_json::from_str(&row.data).map_err(|e| bad(&e.to_string()))?;
    if items.len() != row.n as usize {
        return Err(bad("its data does not hold n events"));
    }
    items
        .iter()
        .enumerate()
        .map(|(k, d)| {
            Ok(EventRow {
                gid: row.gid,
                id: ids::offset(&row.id, k as u64).ok_or_else(|| bad("its id is no ULID"))?,
                txid: row.txid,
                directory_id: row.directory_id.clone(),
                organization_id: row.organization_id.clone(),
                seq: row.seq + k as i64,
                event: row.event.clone(),
                data: d.get().to_string(),
                created_at: row.created_at,
                n: 1,
            })
        })
        .collect()
}

/// One page of events and the cursor to continue after (`list_metadata.after`).
pub fn list(conn: &mut AnyConn, q: &EventQuery) -> CoreResult<(Vec<EventRow>, Option<String>)> {
    let dialect = conn.dialect();
    let cursor = match &q.after {
        None => None,
        Some(after) => Some(locate(conn, after)?.ok_or_else(|| CoreError::BadRequest {
            scim_type: None,
            detail: format!(
                "unknown cursor `after={after}`: no such event (it may be older than the retention period)"
            ),
        })?),
    };
    // A directory-scoped stream is ordered by seq (no horizon needed: seqs become
    // visible in order); everything else by (txid, gid) below the xmin horizon.
    let by_seq = q.directory_id.is_some();
    let asc = q.order == Order::Asc;
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
    // the cursor's event: its seq, and its row's place in the global order
    let at = cursor.as_ref().map(|(c, k)| (c.seq + k, c.txid, c.gid));
    if let Some((c, _)) = &cursor {
        if by_seq && Some(&c.directory_id) != q.directory_id.as_ref() {
            return Err(CoreError::BadRequest {
                scim_type: None,
                detail: "cursor `after` belongs to another directory".into(),
            });
        }
    }
    match at {
        // rows holding a seq after the cursor's (a row holds at most COMPACT_MAX)
        Some((seq, _, _)) if by_seq && asc => {
            sql.push(" AND seq > ")
                .bind(Bind::BigInt(seq - COMPACT_MAX as i64))
                .push(" AND seq + n - 1 > ")
                .bind(Bind::BigInt(seq));
        }
        Some((seq, _, _)) if by_seq => {
            sql.push(" AND seq < ").bind(Bind::BigInt(seq));
        }
        // the cursor's own row too: events after the cursor's may remain in it
        Some((_, txid, gid)) => {
            let cmp = if asc { ">" } else { "<" };
            sql.push(format!(" AND (txid {cmp} "))
                .bind(Bind::BigInt(txid))
                .push(" OR (txid = ")
                .bind(Bind::BigInt(txid))
                .push(format!(" AND gid {cmp}= "))
                .bind(Bind::BigInt(gid))
                .push("))");
        }
        None => {}
    }
    if !by_seq && dialect == Dialect::Pg {
        sql.push(" AND txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint");
    }
    let dir = if asc { "ASC" } else { "DESC" };
    if by_seq {
        sql.push(format!(" ORDER BY seq {dir}"));
    } else {
        sql.push(format!(" ORDER BY txid {dir}, gid {dir}"));
    }
    let limit = q.limit.clamp(1, 100) as usize;
    sql.push(" LIMIT ").bind(Bind::BigInt(limit as i64 + 1));
    let rows: Vec<EventRow> = sql.load(conn)?;
    let mut out: Vec<EventRow> = Vec::with_capacity(limit);
    'rows: for row in rows {
        let mut events = expand(row)?;
        if !asc {
            events.reverse();
        }
        for e in events {
            // within the cursor's row (or stream), only the events past it
            let past = match at {
                Some((seq, _, gid)) if by_seq || e.gid == gid => {
                    if asc {
                        e.seq > seq
                    } else {
                        e.seq < seq
                    }
                }
                _ => true,
            };
            if past {
                out.push(e);
                if out.len() == limit {
                    break 'rows;
                }
            }
        }
    }
    // `after` always names the last returned event, so a consumer can resume even
    // at the head of the stream (WorkOS returns the last id as well).
    let after = out.last().map(|r| r.id.clone()).or_else(|| q.after.clone());
    Ok((out, after))
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
    let newest: Option<(String, i32)> = events::table
        .filter(events::directory_id.eq(directory_id))
        .order(events::seq.desc())
        .select((events::id, events::n))
        .first(conn)
        .optional()?;
    Ok(newest.and_then(|(id, n)| ids::offset(&id, u64::try_from(n - 1).unwrap_or(0))))
}

/// The id of a directory's event of sequence number `seq`, if it is kept.
pub fn id_at_seq(conn: &mut AnyConn, directory_id: &str, seq: i64) -> CoreResult<Option<String>> {
    let row: Option<(String, i64, i32)> = events::table
        .filter(events::directory_id.eq(directory_id))
        .filter(events::seq.le(seq))
        .order(events::seq.desc())
        .select((events::id, events::seq, events::n))
        .first(conn)
        .optional()?;
    Ok(row.and_then(|(id, first, n)| {
        let k = seq - first;
        if k < i64::from(n) {
            ids::offset(&id, u64::try_from(k).ok()?)
        } else {
            None
        }
    }))
}

pub fn get(conn: &mut AnyConn, id: &str) -> CoreResult<Option<EventRow>> {
    let Some((c, k)) = locate(conn, id)? else {
        return Ok(None);
    };
    let row: Option<EventRow> = events::table
        .filter(events::id.eq(&c.id))
        .select(EventRow::as_select())
        .first(conn)
        .optional()?;
    match row {
        Some(r) => Ok(expand(r)?.into_iter().nth(k as usize)),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consecutive_membership_events_of_one_kind_share_a_row() {
        let d = |s: &str| format!("{{\"k\":\"{s}\"}}");
        let mut pending: Vec<(&'static str, String)> = vec![
            (USER_CREATED, d("c")),
            (GROUP_USER_ADDED, d("a1")),
            (GROUP_USER_ADDED, d("a2")),
            (GROUP_USER_REMOVED, d("r1")),
            (GROUP_USER_REMOVED, d("r2")),
            (GROUP_USER_ADDED, d("a3")),
            (USER_UPDATED, d("u")),
        ];
        pending.extend((0..COMPACT_MAX + 1).map(|i| (GROUP_USER_ADDED, d(&i.to_string()))));
        let rows = rows_of(pending);
        let shape: Vec<(&str, usize, usize)> = rows.iter().map(|r| (r.event, r.off, r.n)).collect();
        assert_eq!(
            shape,
            vec![
                (USER_CREATED, 0, 1),
                (GROUP_USER_ADDED, 1, 2),
                (GROUP_USER_REMOVED, 3, 2),
                (GROUP_USER_ADDED, 5, 1),
                (USER_UPDATED, 6, 1),
                (GROUP_USER_ADDED, 7, COMPACT_MAX),
                (GROUP_USER_ADDED, 7 + COMPACT_MAX, 1),
            ]
        );
        assert_eq!(rows[1].data, "[{\"k\":\"a1\"},{\"k\":\"a2\"}]");
        assert_eq!(rows[3].data, "{\"k\":\"a3\"}");
        // ids of a shared row are its first id's offsets, before the next row's id
        let last = ids::offset(&rows[5].id, COMPACT_MAX as u64 - 1).unwrap_or_default();
        assert!(rows[5].id < last && last < rows[6].id, "{last}");
    }
}
