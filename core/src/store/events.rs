//! The event log's rows (`events`): appended with the directory's sequence numbers,
//! read in per-directory `seq` order or in the global `(txid, gid)` order below the
//! horizon, pruned. What the order guarantees, and how a row holds several membership
//! events, is `crate::events`'.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::dynsql::{Bind, Column, Sql};
use super::schema::events;
use super::users::{self, NewUser};
use super::AnyConn;
use crate::error::{CoreError, CoreResult};
use crate::ids::{DirectoryId, EventId, OrganizationId};
use crate::model::EventRow;

/// The most events one row holds (see the `compact_membership_events` migration).
pub const COMPACT_MAX: usize = 100;

/// One row to insert: `n` events of one kind from offset `off` of a write's events
/// (`data` a JSON array of their data when n > 1).
pub struct NewRow {
    pub id: EventId,
    pub event: &'static str,
    pub data: String,
    pub off: usize,
    pub n: usize,
}

#[derive(QueryableByName)]
struct SeqRow {
    #[diesel(sql_type = BigInt)]
    last_seq: i64,
}

/// Append the rows of a write's `count` events for a directory, taking the next
/// `count` sequence numbers; the directory's new `last_seq`. Must run inside the
/// directory's write transaction (after `store::lock_directory`).
pub fn append(
    conn: &mut AnyConn,
    directory_id: &DirectoryId,
    organization_id: &OrganizationId,
    count: usize,
    rows: Vec<NewRow>,
    now: NaiveDateTime,
) -> CoreResult<i64> {
    db_run!(conn,
        pg => append_pg(conn, directory_id, organization_id, count, rows, now, None),
        sqlite => {
            let n = count;
            let mut q = Sql::raw("UPDATE directories SET last_seq = last_seq + ");
            q.bind(Bind::BigInt(n as i64))
                .push(" WHERE id = ")
                .text(directory_id)
                .push(" RETURNING last_seq");
            let seqs: Vec<SeqRow> = q.load(conn)?;
            let last = seqs
                .first()
                .map(|r| r.last_seq)
                .ok_or_else(|| CoreError::not_found("directory not found"))?;
            let first = last - n as i64 + 1;
            let mut rows = rows.into_iter().peekable();
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
            Ok(last)
        },
    )
}

/// Ends the `SELECT` of each data-modifying CTE that [`append_with_users`] runs with
/// the events: it reads the sequence step's row, so it writes after the directory's
/// lock is taken, and only when the directory was found.
const AFTER_SEQ: &str = " WHERE EXISTS (SELECT 1 FROM s)";

/// Append a batch's events together with the users it created (and their index
/// rows), in one PostgreSQL statement run on its own (outside a transaction). The
/// statement first takes the directory's advisory lock (`store::directory_transaction`'s)
/// and its sequence numbers; the inserts read that step's row ([`AFTER_SEQ`]), so
/// they write after it and only when it found the directory: no write commits without
/// its events. One round trip instead of BEGIN, the writes, the events and COMMIT.
/// PostgreSQL only; at least one event.
pub fn append_with_users(
    conn: &mut AnyConn,
    directory_id: &DirectoryId,
    organization_id: &OrganizationId,
    count: usize,
    rows: Vec<NewRow>,
    now: NaiveDateTime,
    created: &[NewUser],
) -> CoreResult<i64> {
    let pg = db_run!(conn, pg => true, sqlite => false);
    if rows.is_empty() || !pg {
        return Err(CoreError::internal(
            "a standalone append needs events and PostgreSQL",
        ));
    }
    let ctes = users::insert_users_ctes(created, AFTER_SEQ)?;
    append_pg(
        conn,
        directory_id,
        organization_id,
        count,
        rows,
        now,
        Some(ctes),
    )
}

/// PostgreSQL: take the sequence numbers and insert the events in one statement (one
/// round trip per write batch instead of two), over `unnest` of one array per column:
/// one statement text, prepared once, for any number of events. Rows are inserted in
/// `ord` order, so that `gid` (the global order within a transaction) follows `seq`;
/// `off` is a row's first event's place in the batch, from 1. With `standalone` CTEs,
/// see [`append_with_users`].
fn append_pg(
    conn: &mut AnyConn,
    directory_id: &DirectoryId,
    organization_id: &OrganizationId,
    count: usize,
    rows: Vec<NewRow>,
    now: NaiveDateTime,
    standalone: Option<Sql>,
) -> CoreResult<i64> {
    let n = count as i64;
    let mut ids_col = Vec::with_capacity(rows.len());
    let mut events_col = Vec::with_capacity(rows.len());
    let mut data_col = Vec::with_capacity(rows.len());
    let mut off_col = Vec::with_capacity(rows.len());
    let mut n_col = Vec::with_capacity(rows.len());
    for r in rows {
        ids_col.push(r.id.into_string());
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
    let seqs: Vec<SeqRow> = q.load(conn)?;
    seqs.first()
        .map(|r| r.last_seq)
        .ok_or_else(|| CoreError::not_found("directory not found"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Asc,
    Desc,
}

/// Which events a page reads (`GET /events`, WIRE-COMPAT.md §1, §3).
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

impl EventQuery {
    /// A directory-scoped stream is ordered by seq (no horizon needed: seqs become
    /// visible in order); everything else by (txid, gid) below the xmin horizon.
    pub fn by_seq(&self) -> bool {
        self.directory_id.is_some()
    }
}

/// Where the row holding a cursor's event lies, and in which directory.
#[derive(QueryableByName)]
pub struct CursorRow {
    #[diesel(sql_type = BigInt)]
    pub gid: i64,
    #[diesel(sql_type = BigInt)]
    pub txid: i64,
    #[diesel(sql_type = BigInt)]
    pub seq: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub directory_id: DirectoryId,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub id: EventId,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub n: i32,
}

/// A cursor's event in the two orders: its seq, and its row's `(txid, gid)`.
#[derive(Debug, Clone, Copy)]
pub struct At {
    pub seq: i64,
    pub txid: i64,
    pub gid: i64,
}

const EVENT_COLUMNS: &str =
    "gid, id, txid, directory_id, organization_id, seq, event, data, created_at, n";

/// The row holding event `id`, and the event's place in it: the row with the greatest
/// id not above `id`, if `id` is one of its `n` ids.
pub fn locate(conn: &mut AnyConn, id: &EventId) -> CoreResult<Option<(CursorRow, i64)>> {
    let mut q = Sql::raw("SELECT gid, txid, seq, directory_id, id, n FROM events WHERE id <= ");
    q.text(id).push(" ORDER BY id DESC LIMIT 1");
    let rows: Vec<CursorRow> = q.load(conn)?;
    Ok(rows.into_iter().next().and_then(|r| {
        let k = r.id.distance_to(id)?;
        (k < u64::try_from(r.n).unwrap_or(0)).then_some((r, k as i64))
    }))
}

/// The rows `q` selects past the cursor's event `at` (rows that hold it too: events
/// after it may remain in them), in the query's order, at most `rows` of them.
pub fn rows_after(
    conn: &mut AnyConn,
    q: &EventQuery,
    at: Option<At>,
    rows: i64,
) -> CoreResult<Vec<EventRow>> {
    let by_seq = q.by_seq();
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
    match at {
        // rows holding a seq after the cursor's (a row holds at most COMPACT_MAX)
        Some(At { seq, .. }) if by_seq && asc => {
            sql.push(" AND seq > ")
                .bind(Bind::BigInt(seq - COMPACT_MAX as i64))
                .push(" AND seq + n - 1 > ")
                .bind(Bind::BigInt(seq));
        }
        Some(At { seq, .. }) if by_seq => {
            sql.push(" AND seq < ").bind(Bind::BigInt(seq));
        }
        // the cursor's own row too: events after the cursor's may remain in it
        Some(At { txid, gid, .. }) => {
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
    if !by_seq {
        db_run!(conn,
            pg => {
                sql.push(" AND txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint");
            },
            sqlite => {},
        );
    }
    let dir = if asc { "ASC" } else { "DESC" };
    if by_seq {
        sql.push(format!(" ORDER BY seq {dir}"));
    } else {
        sql.push(format!(" ORDER BY txid {dir}, gid {dir}"));
    }
    sql.push(" LIMIT ").bind(Bind::BigInt(rows));
    Ok(sql.load(conn)?)
}

/// Delete the events created before `cutoff`; how many rows went.
pub fn delete_before(conn: &mut AnyConn, cutoff: NaiveDateTime) -> CoreResult<usize> {
    Ok(diesel::delete(events::table.filter(events::created_at.lt(cutoff))).execute(conn)?)
}

/// The id and event count of a directory's newest row, if any.
pub fn newest_row(
    conn: &mut AnyConn,
    directory_id: &DirectoryId,
) -> CoreResult<Option<(EventId, i32)>> {
    Ok(events::table
        .filter(events::directory_id.eq(directory_id))
        .order(events::seq.desc())
        .select((events::id, events::n))
        .first(conn)
        .optional()?)
}

/// The id, first seq and event count of the directory's row that holds sequence
/// number `seq`, or the last row before it.
pub fn row_at_seq(
    conn: &mut AnyConn,
    directory_id: &DirectoryId,
    seq: i64,
) -> CoreResult<Option<(EventId, i64, i32)>> {
    Ok(events::table
        .filter(events::directory_id.eq(directory_id))
        .filter(events::seq.le(seq))
        .order(events::seq.desc())
        .select((events::id, events::seq, events::n))
        .first(conn)
        .optional()?)
}

/// The row of id `id` (a row's id is its first event's).
pub fn find_row(conn: &mut AnyConn, id: &EventId) -> CoreResult<Option<EventRow>> {
    Ok(events::table
        .filter(events::id.eq(id))
        .select(EventRow::as_select())
        .first(conn)
        .optional()?)
}
